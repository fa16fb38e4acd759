//! Helpers the integration tests share: evidence written by the real tools
//! that write it.
#![allow(dead_code)]

use std::process::Command;

/// A journal directory of one host, written by systemd-journal-remote.
pub fn journal_dir(dir: &std::path::Path) -> std::path::PathBuf {
    use reconstruct_journal::export::{write_entry, Entry};
    let mut stream = Vec::new();
    for i in 0..30i64 {
        // 2025-12-26T14:30:00Z onwards, every 20 s.
        let us = (1_766_759_400 + i * 20) * 1_000_000;
        let f = |k: &str, v: String| (k.to_string(), v.into_bytes());
        let (prio, msg) = if i % 6 == 2 { (3, format!("worker {i} crashed")) } else { (6, format!("tick {i}")) };
        let e = Entry {
            line: 0,
            fields: vec![
                f("__REALTIME_TIMESTAMP", us.to_string()),
                f("__MONOTONIC_TIMESTAMP", (i * 1000 + 1).to_string()),
                f("_BOOT_ID", "0123456789abcdef0123456789abcdef".into()),
                f("_HOSTNAME", "batch01".into()),
                f("_SYSTEMD_UNIT", "worker.service".into()),
                f("PRIORITY", prio.to_string()),
                f("MESSAGE", msg),
            ],
        };
        write_entry(&mut stream, &e).unwrap();
    }
    let export = dir.join("batch01.export");
    std::fs::write(&export, stream).unwrap();
    let out = dir.join("journal-remote");
    std::fs::create_dir_all(&out).unwrap();
    let st = Command::new("/lib/systemd/systemd-journal-remote")
        .arg(format!("--output={}", out.join("batch01.journal").display()))
        .arg(&export)
        .status()
        .unwrap();
    assert!(st.success());
    out
}

/// The repository's root, where the shipped bundles are.
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary run in `dir`, with no line-index cache and none of the
/// environment that would add a source the test did not name.
pub fn run_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_reconstruct"))
        .args(args)
        .current_dir(dir)
        .env("RECONSTRUCT_CACHE_DIR", "off")
        .env_remove("PROMETHEUS_URL")
        .env_remove("DATABASE_URL")
        .env_remove("COMPOSE_PROJECT_NAME")
        .output()
        .expect("the binary runs")
}

pub fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `bytes` at `rel` below `dir`, making its folders.
pub fn write(dir: &std::path::Path, rel: &str, bytes: &[u8]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// `text` gzip-compressed.
pub fn gz(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

/// The window every round trip reads.
pub const ROUND_TRIP_WINDOW: [&str; 4] = ["--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];

/// Rows of a `--format json --all` run: time, collector, component, text.
fn json_rows(o: &std::process::Output) -> Vec<(String, String, String, String)> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let field = |e: &serde_json::Value, k: &str| e[k].as_str().unwrap_or_default().to_string();
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (field(e, "time"), field(e, "collector"), field(e, "component"), field(e, "event")))
        .collect()
}

/// Runs `sources` live in `dir`, captures them, replays the bundle, and
/// checks the rows and the exit status agree. Returns the live rows.
pub fn round_trip(dir: &std::path::Path, sources: &[&str]) -> Vec<(String, String, String, String)> {
    round_trip_in(dir, sources, &ROUND_TRIP_WINDOW)
}

/// [`round_trip`] over another window (`--since … --until …`).
pub fn round_trip_in(
    dir: &std::path::Path,
    sources: &[&str],
    window: &[&str],
) -> Vec<(String, String, String, String)> {
    let mut live = vec!["--format", "json", "--all"];
    live.extend(sources);
    live.extend(window);
    let l = run_in(dir, &live);
    let bundle = dir.join("round-trip-bundle");
    let b = bundle.to_str().unwrap();
    let mut cap = vec!["capture", "--out", b];
    cap.extend(sources);
    cap.extend(window);
    let c = run_in(dir, &cap);
    assert_eq!(c.status.code(), l.status.code(), "capture: {}", String::from_utf8_lossy(&c.stderr));
    let mut back = vec!["--fixtures", b, "--format", "json", "--all"];
    back.extend(window);
    let r = run_in(dir, &back);
    assert_eq!(r.status.code(), l.status.code(), "replay: {}", String::from_utf8_lossy(&r.stderr));
    let got = json_rows(&l);
    assert_eq!(json_rows(&r), got, "the replay gives the live rows");
    std::fs::remove_dir_all(&bundle).unwrap();
    got
}
