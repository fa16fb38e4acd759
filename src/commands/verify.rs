//! `reconstruct verify DIR`: checks every file a bundle's manifest lists
//! against its SHA-256, so a bundle attached to a post-mortem can be trusted
//! later. One line per file on stdout; exit 1 when any changed, is missing,
//! or is in the folder without the manifest listing it (a planted file).

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::Path;

use anyhow::Context;

use crate::bundle::{hash_file, read_manifest};
use crate::exit::Exit;
use crate::pipeline::ignore_broken_pipe;

pub fn run(dir: &Path) -> anyhow::Result<Exit> {
    let manifest = read_manifest(&dir.join("manifest.json"))?;
    let mut out = Lines { out: io::BufWriter::new(io::stdout().lock()), closed: false };
    let (bad, total) = check(dir, &manifest, &mut out).context("cannot write the result")?;
    out.flush().context("cannot write the result")?;
    if bad > 0 {
        eprintln!("reconstruct: {bad} file(s) do not match the manifest, which lists {total}");
        Ok(Exit::Error)
    } else {
        eprintln!("reconstruct: all {total} files match the manifest");
        Ok(Exit::Ok)
    }
}

/// Result lines. A reader that stops early (`verify DIR | head -1`) closes
/// the pipe: the lines stop, the checking and the exit status do not.
struct Lines<W: Write> {
    out: W,
    closed: bool,
}

impl<W: Write> Lines<W> {
    fn line(&mut self, text: std::fmt::Arguments<'_>) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.out.write_fmt(text).and_then(|()| self.out.write_all(b"\n")) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            r => r,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.out.flush().or_else(ignore_broken_pipe)
    }
}

/// Checks every listed file; returns how many are bad, and how many are listed.
fn check<W: Write>(dir: &Path, manifest: &crate::bundle::Manifest, out: &mut Lines<W>) -> io::Result<(usize, usize)> {
    let mut bad = 0;
    let mut listed = HashSet::new();
    for f in &manifest.files {
        let rel = f.path.as_str();
        listed.insert(rel.to_string());
        let Some(expected) = f.sha256.as_deref() else {
            out.line(format_args!("UNHASHED {rel}"))?;
            bad += 1;
            continue;
        };
        match hash_file(&dir.join(rel)) {
            Ok(found) if found == expected => out.line(format_args!("ok       {rel}"))?,
            Ok(found) => {
                out.line(format_args!("CHANGED  {rel} (manifest {expected}, file {found})"))?;
                bad += 1;
            }
            Err(e) => {
                out.line(format_args!("MISSING  {rel} ({e})"))?;
                bad += 1;
            }
        }
    }
    let mut extra = Vec::new();
    walk(dir, dir, &mut extra);
    extra.sort();
    for rel in extra.into_iter().filter(|r| !crate::bundle::is_documentation(r) && !listed.contains(r)) {
        out.line(format_args!("UNLISTED {rel} (not in the manifest: not captured, not read)"))?;
        bad += 1;
    }
    Ok((bad, manifest.files.len()))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        // Not following links: a link to a folder above would never end.
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(
                rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader went away after `room` bytes.
    struct ClosedPipe {
        room: usize,
    }

    impl Write for ClosedPipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_stops_the_lines_not_the_verdict() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.log"), "a").unwrap();
        std::fs::write(d.path().join("b.log"), "b").unwrap();
        let manifest = crate::bundle::Manifest {
            files: vec![
                crate::bundle::ManifestFile { path: "a.log".into(), sha256: Some("00".into()), ..Default::default() },
                crate::bundle::ManifestFile { path: "b.log".into(), sha256: Some("00".into()), ..Default::default() },
            ],
            ..Default::default()
        };
        let mut out = Lines { out: ClosedPipe { room: 10 }, closed: false };
        let (bad, total) = check(d.path(), &manifest, &mut out).unwrap();
        assert_eq!((bad, total), (2, 2), "both files are still checked");
        assert!(out.closed);
    }
}
