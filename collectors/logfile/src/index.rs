//! Line numbers at byte offsets of a big log, counted once and kept: a seek
//! to the window lands at a byte offset, and its evidence must still say
//! `file:line`. Counting the newlines before that offset is fast (SIMD), but
//! on a file of gigabytes it is most of a narrow window's cost, so the
//! counts are checkpointed every few MiB and saved in the user's cache
//! directory, keyed by the file's identity. A checkpoint is trusted only
//! while the bytes just before it are unchanged, so a rewritten or rotated
//! file is counted again, never misnumbered.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Bytes between checkpoints.
pub const STRIDE: u64 = 8 << 20;
/// Bytes before a checkpoint whose hash vouches for it.
const GUARD: u64 = 256;
const VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Checkpoint {
    /// A line start.
    offset: u64,
    /// Lines before it.
    lines: u64,
    /// Hash of the `GUARD` bytes before it.
    guard: u64,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Saved {
    version: u32,
    dev: u64,
    ino: u64,
    checkpoints: Vec<Checkpoint>,
}

/// The line index of one file, loaded from the cache when there is one.
pub struct LineIndex {
    store: Option<PathBuf>,
    saved: Saved,
    changed: bool,
}

fn hash(bytes: &[u8]) -> u64 {
    // SipHash with fixed keys: the same value in every run.
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

fn guard_of(file: &File, offset: u64) -> io::Result<u64> {
    let start = offset.saturating_sub(GUARD);
    let mut buf = vec![0u8; usize::try_from(offset - start).unwrap_or(0)];
    file.read_exact_at(&mut buf, start)?;
    Ok(hash(&buf))
}

/// Newlines in `file[from..to]`, read in 1 MiB pieces.
pub fn count_newlines(file: &File, from: u64, to: u64) -> io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut at = from;
    let mut n = 0u64;
    while at < to {
        let want = usize::try_from((to - at).min(buf.len() as u64)).unwrap_or(buf.len());
        let piece = buf.get_mut(..want).unwrap_or_default();
        let got = file.read_at(piece, at)?;
        if got == 0 {
            break;
        }
        n += bytecount::count(piece.get(..got).unwrap_or_default(), b'\n') as u64;
        at += got as u64;
    }
    Ok(n)
}

impl LineIndex {
    /// The index of `path` (already open as `file`), kept under `cache_dir`
    /// when one is given; without one it lives only for this run.
    pub fn open(path: &Path, file: &File, cache_dir: Option<&Path>) -> LineIndex {
        let meta = file.metadata().ok();
        let (dev, ino) = meta.as_ref().map_or((0, 0), |m| (m.dev(), m.ino()));
        let store = cache_dir.map(|d| {
            let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            d.join(format!("{:016x}.json", hash(canon.as_os_str().as_encoded_bytes())))
        });
        let saved = store
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<Saved>(&b).ok())
            .filter(|s| s.version == VERSION && s.dev == dev && s.ino == ino)
            .unwrap_or(Saved { version: VERSION, dev, ino, checkpoints: Vec::new() });
        LineIndex { store, saved, changed: false }
    }

    /// Lines before `offset` (a line start): from the nearest trusted
    /// checkpoint, counting the rest and checkpointing on the way.
    pub fn lines_before(&mut self, file: &File, offset: u64) -> io::Result<u64> {
        let size = file.metadata()?.len();
        // Checkpoints past the end, or whose guard bytes changed, are dropped.
        let mut keep = 0;
        for c in &self.saved.checkpoints {
            if c.offset > size || guard_of(file, c.offset).ok() != Some(c.guard) {
                break;
            }
            keep += 1;
        }
        if keep < self.saved.checkpoints.len() {
            self.saved.checkpoints.truncate(keep);
            self.changed = true;
        }
        let base = self.saved.checkpoints.iter().rev().find(|c| c.offset <= offset).copied();
        let (mut at, mut lines) = base.map_or((0, 0), |c| (c.offset, c.lines));
        // Whole strides, each ending at a line start, become checkpoints.
        while offset.saturating_sub(at) > STRIDE {
            let mut end = at + STRIDE;
            end = next_line_start(file, end, size)?;
            if end > offset {
                break;
            }
            lines += count_newlines(file, at, end)?;
            at = end;
            if self.saved.checkpoints.last().is_none_or(|c| c.offset < at) {
                self.saved.checkpoints.push(Checkpoint { offset: at, lines, guard: guard_of(file, at)? });
                self.changed = true;
            }
        }
        Ok(lines + count_newlines(file, at, offset)?)
    }

    /// Writes the index back when it learned something; a cache that cannot
    /// be written costs only the next run's count.
    pub fn save(&self) {
        let Some(p) = &self.store else { return };
        if !self.changed {
            return;
        }
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(bytes) = serde_json::to_vec(&self.saved) {
            let tmp = p.with_extension("tmp");
            if std::fs::write(&tmp, bytes).is_ok() {
                let _ = std::fs::rename(&tmp, p);
            }
        }
    }
}

/// The first line start at or after `at` (`size` at the end).
pub fn next_line_start(file: &File, at: u64, size: u64) -> io::Result<u64> {
    if at == 0 {
        return Ok(0);
    }
    let mut buf = vec![0u8; 64 << 10];
    // The byte before `at` decides whether `at` already starts a line.
    let mut pos = at - 1;
    while pos < size {
        let got = file.read_at(&mut buf, pos)?;
        if got == 0 {
            break;
        }
        if let Some(i) = memchr::memchr(b'\n', buf.get(..got).unwrap_or_default()) {
            return Ok(pos + i as u64 + 1);
        }
        pos += got as u64;
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn counts_match_and_checkpoints_survive_appends_not_rewrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        let mut f = File::create(&path).unwrap();
        let line = b"2025-12-26 14:30:15 INFO a line of some length for the index test\n";
        let n = (3 * STRIDE) / line.len() as u64;
        for _ in 0..n {
            f.write_all(line).unwrap();
        }
        drop(f);
        let file = File::open(&path).unwrap();
        let cache = dir.path().join("cache");
        let at = 200 * line.len() as u64 * 1000;
        let mut idx = LineIndex::open(&path, &file, Some(&cache));
        assert_eq!(idx.lines_before(&file, at).unwrap(), 200_000);
        idx.save();
        assert!(std::fs::read_dir(&cache).unwrap().count() == 1);
        // A second run uses the checkpoints and gets the same answer.
        let mut idx = LineIndex::open(&path, &file, Some(&cache));
        assert!(!idx.saved.checkpoints.is_empty());
        assert_eq!(idx.lines_before(&file, at).unwrap(), 200_000);
        // Rewritten in place with other line lengths: checkpoints are dropped.
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all(&b"x\n".repeat(((STRIDE + 4096) / 2) as usize)).unwrap();
        drop(f);
        let file = File::open(&path).unwrap();
        let mut idx = LineIndex::open(&path, &file, Some(&cache));
        let want = count_newlines(&file, 0, at).unwrap();
        assert_eq!(idx.lines_before(&file, at).unwrap(), want);
    }
}
