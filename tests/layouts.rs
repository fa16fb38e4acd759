#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Logs as people have them, read with no configuration: the layout corpus
//! (`fixtures/layouts`, one file per family with the UTC time of every dated
//! line, written by `scripts/make-layout-corpus`), and a Debian host's
//! `/var/log` with its stanzas, rotated pieces, binary and undated files.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SINCE: &str = "2025-12-26T14:00:00Z";
const UNTIL: &str = "2025-12-26T15:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reconstruct")).args(args).current_dir(root()).output().expect("the binary runs")
}

/// `path:line` → event time in unix nanoseconds, from `--format jsonl`.
fn times_by_line(jsonl: &[u8]) -> HashMap<(String, u64), i128> {
    let mut out = HashMap::new();
    for line in String::from_utf8_lossy(jsonl).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some((path, n)) = v["evidence"].as_str().and_then(|e| e.rsplit_once(':')) else { continue };
        let Ok(n) = n.parse::<u64>() else { continue };
        let t = chrono::DateTime::parse_from_rfc3339(v["time"].as_str().unwrap()).unwrap();
        let nanos = i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos());
        out.insert((path.to_string(), n), nanos);
    }
    out
}

#[test]
fn every_family_of_the_corpus_reads_every_line_at_its_time() {
    let logs = "fixtures/layouts/logs";
    let o = run(&["--log", logs, "--no-git", "--since", SINCE, "--until", UNTIL, "--all", "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let got = times_by_line(&o.stdout);
    let mut families = 0;
    let mut failures = Vec::new();
    let mut truth_dir: Vec<PathBuf> =
        std::fs::read_dir(root().join("fixtures/layouts/truth")).unwrap().map(|e| e.unwrap().path()).collect();
    truth_dir.sort();
    for truth in truth_dir {
        let name = truth.file_stem().unwrap().to_string_lossy().into_owned();
        let path = format!("{logs}/{name}.log");
        let want: Vec<(u64, i128)> = std::fs::read_to_string(&truth)
            .unwrap()
            .lines()
            .map(|l| {
                let (n, t) = l.split_once('\t').unwrap();
                (n.parse().unwrap(), t.parse().unwrap())
            })
            .collect();
        assert!(want.len() >= 20, "{name}: {} dated lines", want.len());
        families += 1;
        for (n, t) in &want {
            match got.get(&(path.clone(), *n)) {
                Some(g) if g == t => {}
                other => failures.push(format!("{path}:{n}: want {t}, got {other:?}")),
            }
        }
        // No line outside the truth became an event of its own.
        let events = got.keys().filter(|(p, _)| *p == path).count();
        if events != want.len() {
            failures.push(format!("{path}: {events} events, {} dated lines", want.len()));
        }
    }
    assert!(families >= 40, "{families} families");
    assert!(failures.is_empty(), "{} wrong:\n{}", failures.len(), failures.join("\n"));
}

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

/// A Debian host's `/var/log`, as written by apt, dpkg, update-alternatives,
/// fontconfig, login accounting and journald.
fn debian_var_log(dir: &Path) {
    let w = |rel: &str, bytes: &[u8]| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    w(
        "apt/history.log",
        b"\nStart-Date: 2025-12-26  14:36:25\nCommandline: apt-get install -y nginx\nInstall: nginx:amd64 (1.22.1-9)\n\
          End-Date: 2025-12-26  14:36:30\n\nStart-Date: 2025-12-26  14:40:01\nCommandline: apt-get upgrade\n\
          Upgrade: libssl3:amd64 (3.0.15-1, 3.0.17-1)\nEnd-Date: 2025-12-26  14:40:09\n",
    );
    w(
        "apt/term.log",
        b"\nLog started: 2025-12-26  14:36:25\nSelecting previously unselected package nginx.\n\
          Setting up nginx (1.22.1-9) ...\nLog ended: 2025-12-26  14:36:30\n",
    );
    w("apt/eipp.log.xz.txt", b"Request: EIPP 0.1\nArchitecture: amd64\nPlanner: internal\n");
    w(
        "alternatives.log",
        b"update-alternatives 2025-12-26 14:36:28: run with --install /usr/bin/nginx nginx /usr/sbin/nginx 50\n\
          update-alternatives 2025-12-26 14:36:29: link group nginx updated to point to /usr/sbin/nginx\n",
    );
    w(
        "dpkg.log",
        b"2025-12-26 14:36:26 startup archives unpack\n2025-12-26 14:36:27 install nginx:amd64 <none> 1.22.1-9\n",
    );
    w("dpkg.log.1", b"2025-12-20 09:00:00 startup archives unpack\n");
    w("dpkg.log.2.gz", &gz("2025-12-10 09:00:00 startup archives unpack\n"));
    w("fontconfig.log", b"/usr/share/fonts: caching, new cache contents: 0 fonts, 1 dirs\n/var/cache/fontconfig: cleaning cache directory\n");
    let mut wtmp = vec![0u8; 384 * 3];
    wtmp[0..4].copy_from_slice(&[7, 0, 0, 0]);
    wtmp[44..49].copy_from_slice(b"pts/0");
    w("wtmp", &wtmp);
    let mut journal = b"LPKSHHRH".to_vec();
    journal.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    w("journal/0123456789abcdef/system.journal", &journal);
    w("README", b"You are looking for the traditional text log files in /var/log, and they are gone?\n");
}

#[test]
fn a_debian_var_log_is_read_whole_and_exits_ok() {
    let dir = tempfile::tempdir().unwrap();
    debian_var_log(dir.path());
    let d = dir.path().to_str().unwrap();
    let o = run(&["--log", d, "--no-git", "--since", SINCE, "--until", UNTIL, "--all", "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let events = v["events"].as_array().unwrap();
    let at = |file: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["evidence"].as_str().unwrap().contains(file))
            .map(|e| e["time"].as_str().unwrap().to_string())
            .collect()
    };
    // Stanzas: each Start-Date/End-Date and Log started/ended line is dated,
    // and the lines under it belong to it.
    assert_eq!(
        at("apt/history.log:"),
        ["2025-12-26T14:36:25Z", "2025-12-26T14:36:30Z", "2025-12-26T14:40:01Z", "2025-12-26T14:40:09Z"]
    );
    assert_eq!(at("apt/term.log:"), ["2025-12-26T14:36:25Z", "2025-12-26T14:36:30Z"]);
    assert_eq!(at("alternatives.log:"), ["2025-12-26T14:36:28Z", "2025-12-26T14:36:29Z"]);
    assert_eq!(at("/dpkg.log:").len(), 2);
    let install = events.iter().find(|e| e["evidence"].as_str().unwrap().ends_with("apt/history.log:2")).unwrap();
    assert!(install["excerpt"].as_str().unwrap().contains("Install: nginx:amd64"), "{install}");
    let text = serde_json::to_string(&v["coverage"]).unwrap();
    for (file, why) in [
        ("fontconfig.log", "skipped: no timestamps"),
        ("README", "skipped: no timestamps"),
        ("eipp.log.xz.txt", "skipped: no timestamps"),
        ("wtmp", "skipped: binary data"),
        ("system.journal", "skipped: binary data"),
        ("dpkg.log.2.gz", "skipped unread"),
    ] {
        let row = v["coverage"].as_array().unwrap().iter().find(|c| c.to_string().contains(file));
        assert!(row.is_some_and(|r| r.to_string().contains(why)), "{file}: {why} in {text}");
    }
}

#[test]
fn a_file_named_directly_without_timestamps_fails_with_what_was_tried() {
    let dir = tempfile::tempdir().unwrap();
    debian_var_log(dir.path());
    let f = dir.path().join("fontconfig.log");
    let o = run(&["--log", f.to_str().unwrap(), "--no-git", "--since", SINCE, "--until", UNTIL]);
    // Its only source read nothing: an error, with the table saying why.
    assert_eq!(o.status.code(), Some(1));
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(
        md.contains("no timestamp found")
            && md.contains("layouts tried: ISO 8601")
            && md.contains("--timestamp-format"),
        "{md}"
    );
    let w = dir.path().join("wtmp");
    let o = run(&["--log", w.to_str().unwrap(), "--no-git", "--since", SINCE, "--until", UNTIL]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("binary data"));
}

#[test]
fn a_text_log_with_a_stray_nul_is_read_and_a_sparse_file_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, b"2025-12-26 14:30:15 ERROR crash\x00 left a NUL\n2025-12-26 14:30:16 INFO up\n").unwrap();
    // A sparse file of zeros (as lastlog is): judged on its first KiB.
    let sparse = dir.path().join("lastlog");
    let f = std::fs::File::create(&sparse).unwrap();
    f.set_len(1 << 30).unwrap();
    let d = dir.path().to_str().unwrap();
    let started = std::time::Instant::now();
    let o = run(&["--log", d, "--no-git", "--since", SINCE, "--until", UNTIL, "--all", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "the sparse file was read through");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["events"].as_array().unwrap().len(), 2);
    assert!(v["coverage"].to_string().contains("skipped: binary data"));
}

/// The machine's own `/var/log`, as the issue asks: on a fresh Debian host
/// every text log is read and the run is whole.
#[cfg(feature = "real-services")]
#[test]
fn this_hosts_var_log_reads_whole() {
    let o = run(&["--log", "/var/log", "--no-git", "--since", "1d", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", serde_json::to_string_pretty(&v["coverage"]).unwrap());
}
