//! Running `journalctl`: which journal (the local one, a directory, files),
//! which entries (units, identifiers), the window rounded outward to whole
//! seconds (each entry's own time then decides), and what it said on stderr.

use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use reconstruct_core::TimeWindow;

use crate::export::{Entry, Reader};

/// Which journal to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// This machine's journal.
    Local,
    /// Every journal file in a directory (`journalctl -D`): one host's
    /// `/var/log/journal/<machine-id>`, or a collector's `remote/` of many hosts.
    Directory(PathBuf),
    /// Journal files (`journalctl --file`).
    Files(Vec<PathBuf>),
}

/// Which entries: by unit (`-u`) and by syslog identifier (`-t`); empty: all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub units: Vec<String>,
    pub identifiers: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot run journalctl (is systemd installed?): {0}")]
    Spawn(std::io::Error),
    #[error("cannot read journalctl's output: {0}")]
    Read(std::io::Error),
    #[error("journalctl failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
    #[error("cannot write the export stream: {0}")]
    Write(std::io::Error),
}

/// What a run of journalctl said besides its entries.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Its stderr, line by line (a corrupt file it skipped, …).
    pub warnings: Vec<String>,
    pub entries: u64,
}

/// The arguments that select the journal.
pub fn target_args(t: &Target) -> Vec<String> {
    match t {
        Target::Local => Vec::new(),
        Target::Directory(d) => vec!["-D".into(), d.display().to_string()],
        Target::Files(fs) => fs.iter().flat_map(|f| ["--file".to_string(), f.display().to_string()]).collect(),
    }
}

fn filter_args(f: &Filter) -> Vec<String> {
    let mut a = Vec::new();
    for u in &f.units {
        a.extend(["-u".to_string(), u.clone()]);
    }
    for i in &f.identifiers {
        a.extend(["-t".to_string(), i.clone()]);
    }
    a
}

/// How coverage names the source.
pub fn describe(t: &Target, f: &Filter) -> String {
    let mut s = match t {
        Target::Local => "local journal".to_string(),
        Target::Directory(d) => d.display().to_string(),
        Target::Files(fs) => fs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" + "),
    };
    let filters = filter_args(f);
    if !filters.is_empty() {
        s.push_str(&format!(" ({})", filters.join(" ")));
    }
    s
}

/// The whole command line, window included.
pub fn command(t: &Target, f: &Filter, window: &TimeWindow) -> Command {
    let mut cmd = Command::new("journalctl");
    // Times in the export stream are epoch microseconds; `@` bounds are
    // epoch seconds, so no zone is involved anywhere.
    let since = window.since.unix_seconds();
    let until = window.until.unix_seconds().saturating_add(i64::from(window.until.subsec_nanos() > 0));
    cmd.args(["--no-pager", "-q", "-o", "export"])
        .args(target_args(t))
        .args(filter_args(f))
        .arg(format!("--since=@{since}"))
        .arg(format!("--until=@{until}"))
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs journalctl and hands each entry to `each` until it returns false.
pub fn stream(
    t: &Target,
    f: &Filter,
    window: &TimeWindow,
    mut each: impl FnMut(Entry) -> bool,
) -> Result<Outcome, FetchError> {
    let mut child = command(t, f, window).spawn().map_err(FetchError::Spawn)?;
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = e.read_to_end(&mut s);
            s
        })
    });
    let mut out = Outcome::default();
    let mut stopped = false;
    if let Some(stdout) = child.stdout.take() {
        let mut r = Reader::new(BufReader::with_capacity(1 << 16, stdout));
        loop {
            let mut damage = Vec::new();
            let next = r.next_entry(&mut |d| damage.push(d)).map_err(FetchError::Read)?;
            out.warnings.extend(damage.into_iter().map(|d| format!("export stream line {}: {}", d.line, d.message)));
            let Some(e) = next else { break };
            out.entries = out.entries.saturating_add(1);
            if !each(e) {
                stopped = true;
                break;
            }
        }
    }
    if stopped {
        let _ = child.kill();
    }
    let status = child.wait().map_err(FetchError::Read)?;
    let err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    let err = String::from_utf8_lossy(&err);
    let lines: Vec<String> = err.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    if !status.success() && !stopped {
        return Err(FetchError::Failed { status: status.to_string(), stderr: lines.join("; ") });
    }
    out.warnings.extend(lines);
    Ok(out)
}

/// The values a field takes in the journal (`journalctl -F`), sorted: what
/// units or identifiers there are, for a filter that matched nothing.
pub fn field_values(t: &Target, field: &str) -> Result<Vec<String>, FetchError> {
    let out = Command::new("journalctl")
        .args(target_args(t))
        .args(["--no-pager", "-F", field])
        .stdin(Stdio::null())
        .output()
        .map_err(FetchError::Spawn)?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(FetchError::Failed { status: out.status.to_string(), stderr });
    }
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    v.sort();
    v.dedup();
    Ok(v)
}

/// Writes the window's entries as an export stream (the saved form), each
/// passed through `edit` first (a redacting capture masks field values there,
/// so binary fields keep their true lengths).
pub fn save(
    t: &Target,
    f: &Filter,
    window: &TimeWindow,
    out: &mut dyn Write,
    edit: &mut dyn FnMut(&mut Entry),
) -> Result<Outcome, FetchError> {
    let mut failed = None;
    let o = stream(t, f, window, |mut e| {
        edit(&mut e);
        match crate::export::write_entry(out, &e) {
            Ok(()) => true,
            Err(err) => {
                failed = Some(err);
                false
            }
        }
    })?;
    match failed {
        Some(e) => Err(FetchError::Write(e)),
        None => Ok(o),
    }
}
