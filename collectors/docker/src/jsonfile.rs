//! A local engine's `json-file` logs read straight from disk, where the
//! engine would read the whole file to answer `docker logs --since --until`.
//! The file's times increase as the engine writes them, so a binary search
//! finds where the window begins and reading stops after it ends; rotated
//! pieces (`<id>-json.log.1`, `.2.gz`, …) are read oldest first. The lines
//! reach the handler exactly as the logs API gives them (`TIME text`).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use reconstruct_core::timestamp::parse_iso;
use reconstruct_core::{TimeWindow, Timestamp, Zone};
use reconstruct_logfile::runtime::{Joiner, Record, Runtime};
use reconstruct_logfile::{compressed, rotation};
use serde_json::Value;

use crate::handler::LogHandler;

/// stdout and stderr interleave within a short span; read this much
/// before and after the window so no line of either is missed.
const SLACK_NANOS: i64 = 5_000_000_000;
/// Below this span the search reads on line by line.
const LINEAR: u64 = 64 << 10;

/// The log file of a container whose logs can be read from disk: a local
/// engine, the `json-file` driver, a readable file.
pub fn local_log(inspect: &Value, engine_is_local: bool) -> Option<PathBuf> {
    if !engine_is_local {
        return None;
    }
    let driver = inspect.get("HostConfig")?.get("LogConfig")?.get("Type")?.as_str()?;
    let path = PathBuf::from(inspect.get("LogPath")?.as_str()?);
    (driver == "json-file" && File::open(&path).is_ok()).then_some(path)
}

/// The engine's time of one json-file line.
fn line_time(line: &[u8]) -> Option<Timestamp> {
    let at = memchr::memmem::find(line, b"\"time\":\"")? + 8;
    parse_iso(line.get(at..)?, &Zone::Utc).map(|p| p.time)
}

/// The offset of a line start at or before the first line timed at or
/// after `target`: a binary search over the file's bytes.
fn seek_start(f: &mut File, len: u64, target: Timestamp) -> io::Result<u64> {
    let (mut lo, mut hi) = (0u64, len);
    let mut buf = vec![0u8; 8192];
    while hi.saturating_sub(lo) > LINEAR {
        let mid = lo + (hi - lo) / 2;
        f.seek(SeekFrom::Start(mid))?;
        let n = f.read(&mut buf)?;
        let chunk = buf.get(..n).unwrap_or_default();
        // The first whole line after `mid`.
        let Some(nl) = memchr::memchr(b'\n', chunk) else {
            hi = mid;
            continue;
        };
        let rest = chunk.get(nl + 1..).unwrap_or_default();
        let line = rest.split(|c| *c == b'\n').next().unwrap_or_default();
        match line_time(line) {
            Some(t) if t < target => lo = mid + nl as u64 + 1,
            // Later, or unreadable (a line longer than the probe): look earlier.
            _ => hi = mid,
        }
    }
    Ok(lo)
}

/// The pieces of a json-file log, oldest first.
fn pieces(path: &Path) -> Vec<PathBuf> {
    let Some(dir) = path.parent() else { return vec![path.to_path_buf()] };
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return vec![path.to_path_buf()];
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(name.as_str())))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    rotation::group(found)
        .into_iter()
        .find(|set| set.last().is_some_and(|p| p == path))
        .unwrap_or_else(|| vec![path.to_path_buf()])
}

/// Reads container `index`'s lines in the window from its json-file log
/// (and rotated pieces) into `handler`; returns the lines handed over.
pub fn read(
    path: &Path,
    window: &TimeWindow,
    tty: bool,
    index: usize,
    handler: &mut dyn LogHandler,
) -> io::Result<u64> {
    let from = window.since.saturating_add_nanos(-SLACK_NANOS);
    let to = window.until.saturating_add_nanos(SLACK_NANOS);
    let mut lines = 0u64;
    let mut joiner = Joiner::new(Runtime::DockerJson);
    let mut recs: Vec<Record> = Vec::new();
    let mut hand = |recs: &mut Vec<Record>, lines: &mut u64| -> bool {
        let mut past = false;
        for r in recs.drain(..) {
            let t = parse_iso(&r.time, &Zone::Utc).map(|p| p.time);
            if t.is_some_and(|t| t > to) {
                past = true;
                continue;
            }
            let stream = if tty {
                "tty"
            } else if r.stderr {
                "stderr"
            } else {
                "stdout"
            };
            let mut l = r.time;
            l.push(b' ');
            l.extend_from_slice(&r.text);
            handler.line(index, stream, &l);
            *lines += 1;
        }
        past
    };
    for piece in pieces(path) {
        let mut f = File::open(&piece)?;
        let len = f.metadata()?.len();
        let mut head = [0u8; 8];
        let n = f.read(&mut head)?;
        f.seek(SeekFrom::Start(0))?;
        let reader: Box<dyn BufRead> = if compressed::Codec::sniff(head.get(..n).unwrap_or_default()).is_some() {
            let (r, _) = compressed::open(f, len)?;
            Box::new(BufReader::with_capacity(1 << 16, r))
        } else {
            let start = seek_start(&mut f, len, from)?;
            f.seek(SeekFrom::Start(start))?;
            Box::new(BufReader::with_capacity(1 << 16, f))
        };
        let mut past = false;
        for (i, line) in reader.split(b'\n').enumerate() {
            let line = line?;
            if line_time(&line).is_some_and(|t| t < from) {
                continue;
            }
            let _ = joiner.push_record(i as u64 + 1, &line, &mut recs);
            if hand(&mut recs, &mut lines) {
                past = true;
                break;
            }
        }
        if past {
            return Ok(lines);
        }
    }
    joiner.finish_records(&mut recs);
    hand(&mut recs, &mut lines);
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    struct Lines(Vec<String>);

    impl LogHandler for Lines {
        fn containers(&mut self, _: &[Value]) {}
        fn line(&mut self, _: usize, stream: &'static str, line: &[u8]) {
            self.0.push(format!("{stream} {}", String::from_utf8_lossy(line)));
        }
        fn problem(&mut self, _: usize, _: String) {}
    }

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_unix_seconds(secs, 0).unwrap()
    }

    #[test]
    fn the_window_is_found_by_search_and_matches_a_full_read() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("abc-json.log");
        let mut f = std::io::BufWriter::new(File::create(&path).unwrap());
        let base = 1_766_757_600i64;
        for i in 0..200_000i64 {
            let secs = base + i / 10;
            let stream = if i % 7 == 0 { "stderr" } else { "stdout" };
            writeln!(
                f,
                r#"{{"log":"line {i}\n","stream":"{stream}","time":"{}.{:09}Z"}}"#,
                chrono_like(secs),
                (i % 10) * 100_000_000
            )
            .unwrap();
        }
        f.flush().unwrap();
        drop(f);
        let w = TimeWindow::new(t(base + 9_000), t(base + 9_001)).unwrap();
        let mut got = Lines(Vec::new());
        read(&path, &w, false, 0, &mut got).unwrap();
        // Every line of the window is there, on its stream, with its time…
        for i in 90_000..=90_010 {
            let want = format!(" line {i}");
            let l = got.0.iter().find(|l| l.ends_with(&want)).unwrap_or_else(|| panic!("line {i} missing"));
            assert_eq!(l.starts_with("stderr "), i % 7 == 0, "{l}");
        }
        assert!(got.0.contains(&"stdout 2025-12-26T16:30:00.100000000Z line 90001".to_string()), "{:?}", &got.0[..3]);
        // …and only the window and its slack were read, not the 200,000 lines.
        assert!(got.0.len() < 2_000, "{} lines", got.0.len());
    }

    /// `YYYY-MM-DDTHH:MM:SS` of epoch seconds, without a date library.
    fn chrono_like(secs: i64) -> String {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // 2025-12-26 is day 20448 since the epoch; the test stays within a few days of it.
        let day = 26 + (days - 20_448);
        format!("2025-12-{day:02}T{:02}:{:02}:{:02}", rem / 3600, (rem % 3600) / 60, rem % 60)
    }
}
