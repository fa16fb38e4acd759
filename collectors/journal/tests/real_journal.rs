#![cfg(feature = "real-services")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Against real journal files: `systemd-journal-remote` (which `scripts/test`
//! installs) turns export streams of two hosts, with chosen timestamps, into
//! journal files; the collector reads the directory and must agree with
//! `journalctl -D DIR -o json` entry for entry. A corrupt file is reported
//! and the other hosts are still read. Without the tools these tests fail.

use std::path::Path;
use std::process::Command;

use reconstruct_core::{CollectContext, Collector, Detail, Severity, TimeWindow, Timestamp, VecSink};
use reconstruct_journal::export::{write_entry, Entry};
use reconstruct_journal::{Filter, JournalExportFile, JournalLive, Target};

const REMOTE: &str = "/lib/systemd/systemd-journal-remote";
/// 2025-12-26T14:00:00Z
const BASE: i64 = 1_766_757_600;

fn entry(host: &str, unit: &str, us: i64, priority: u8, message: &[u8], seq: u64) -> Entry {
    let f = |k: &str, v: &[u8]| (k.to_string(), v.to_vec());
    Entry {
        line: 0,
        fields: vec![
            f("__CURSOR", format!("s=0;i={seq:x}").as_bytes()),
            f("__REALTIME_TIMESTAMP", us.to_string().as_bytes()),
            f("__MONOTONIC_TIMESTAMP", (seq * 1000).to_string().as_bytes()),
            f("_BOOT_ID", b"0123456789abcdef0123456789abcdef"),
            f("_HOSTNAME", host.as_bytes()),
            f("_SYSTEMD_UNIT", unit.as_bytes()),
            f("SYSLOG_IDENTIFIER", unit.trim_end_matches(".service").as_bytes()),
            f("PRIORITY", priority.to_string().as_bytes()),
            f("MESSAGE", message),
        ],
    }
}

/// Two hosts' journals in `dir`, written by systemd-journal-remote.
fn make_journals(dir: &Path) -> Vec<(String, i64, String)> {
    let mut expected = Vec::new();
    for (h, host) in ["web01", "db01"].iter().enumerate() {
        let mut stream = Vec::new();
        for i in 0..40i64 {
            // One entry every 90 s from 14:00, the hosts 7 s apart.
            let us = (BASE + i * 90 + h as i64 * 7) * 1_000_000 + 123_456;
            let (prio, msg): (u8, Vec<u8>) = match i % 10 {
                3 => (3, format!("request {i} failed: upstream timed out\n  at line {i}").into_bytes()),
                5 => (4, format!("slow response {i}").into_bytes()),
                // Not UTF-8: a MESSAGE may be any bytes.
                7 => (2, b"disk \xff\xfe failure".to_vec()),
                _ => (6, format!("GET /health {i}").into_bytes()),
            };
            write_entry(&mut stream, &entry(host, "app.service", us, prio, &msg, (i + 1) as u64)).unwrap();
            expected.push((host.to_string(), us, String::from_utf8_lossy(&msg).into_owned()));
        }
        let export = dir.join(format!("{host}.export"));
        std::fs::write(&export, &stream).unwrap();
        let out = dir.join("remote").join(format!("{host}.journal"));
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let st = Command::new(REMOTE)
            .arg(format!("--output={}", out.display()))
            .arg("--split-mode=none")
            .arg(&export)
            .status()
            .unwrap_or_else(|e| panic!("{REMOTE} cannot run ({e}): run the tests with scripts/test"));
        assert!(st.success(), "systemd-journal-remote failed for {host}");
    }
    expected
}

fn window(from_min: i64, to_min: i64) -> TimeWindow {
    let t = |m: i64| Timestamp::from_unix_seconds(BASE + m * 60, 0).unwrap();
    TimeWindow::new(t(from_min), t(to_min)).unwrap()
}

/// `journalctl -D DIR -o json` over the window: (host, µs, message), as journalctl sees it.
fn journalctl_json(dir: &Path, w: &TimeWindow) -> Vec<(String, i64, String)> {
    let out = Command::new("journalctl")
        .args(["--no-pager", "-q", "-o", "json", "-D"])
        .arg(dir)
        .arg(format!("--since=@{}", w.since.unix_seconds()))
        .arg(format!("--until=@{}", w.until.unix_seconds()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let msg = match &v["MESSAGE"] {
                serde_json::Value::String(s) => s.clone(),
                // Binary messages come as arrays of bytes.
                serde_json::Value::Array(b) => {
                    let bytes: Vec<u8> = b.iter().map(|x| x.as_u64().unwrap() as u8).collect();
                    String::from_utf8_lossy(&bytes).into_owned()
                }
                other => other.to_string(),
            };
            let us: i64 = v["__REALTIME_TIMESTAMP"].as_str().unwrap().parse().unwrap();
            (v["_HOSTNAME"].as_str().unwrap().to_string(), us, msg)
        })
        .filter(|(_, us, _)| w.contains(Timestamp::from_unix_nanos(us * 1000)))
        .collect()
}

#[test]
fn a_directory_of_two_hosts_reads_as_journalctl_shows_it() {
    let d = tempfile::tempdir().unwrap();
    let expected = make_journals(d.path());
    let remote = d.path().join("remote");
    for (from, to) in [(0, 60), (10, 25), (31, 32)] {
        let w = window(from, to);
        let c = Box::new(JournalLive { target: Target::Directory(remote.clone()), filter: Filter::default() });
        let mut sink = VecSink::default();
        c.collect(&CollectContext { window: w, detail: Detail::All, anchor: None }, &mut sink).unwrap();
        let mut got: Vec<(String, i64, String)> = sink
            .events
            .iter()
            .map(|e| {
                let (host, _) = e.component.split_once('/').unwrap();
                let full = e.evidence.excerpt.split("\ncursor: ").next().unwrap().replace('\u{FFFD}', "?");
                (host.to_string(), e.time.unix_nanos() / 1000, full)
            })
            .collect();
        let mut want: Vec<(String, i64, String)> =
            journalctl_json(&remote, &w).into_iter().map(|(h, us, m)| (h, us, m.replace('\u{FFFD}', "?"))).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "window {from}..{to} min");
        let in_window = expected.iter().filter(|(_, us, _)| w.contains(Timestamp::from_unix_nanos(us * 1000))).count();
        assert_eq!(got.len(), in_window);
        assert!(!got.is_empty() || from == 31);
    }
    // Severity, component and evidence of one error.
    let c = Box::new(JournalLive { target: Target::Directory(remote.clone()), filter: Filter::default() });
    let mut sink = VecSink::default();
    c.collect(&CollectContext { window: window(0, 60), detail: Detail::Notable, anchor: None }, &mut sink).unwrap();
    let e = sink.events.iter().find(|e| e.summary.starts_with("request 3 failed")).unwrap();
    assert_eq!((&*e.component, e.severity), ("web01/app", Some(Severity::Error)));
    assert_eq!(e.continuation_lines, 1);
    let cmd = e.evidence.locator.to_string();
    assert!(
        cmd.starts_with(&format!(
            "journalctl -D {} _HOSTNAME=web01 _SYSTEMD_UNIT=app.service --since @",
            remote.display()
        )),
        "{cmd}"
    );
    assert!(sink.skipped > 0, "routine entries are counted, not built");
    // The evidence command, run, shows the entry.
    let args: Vec<&str> = cmd.split(' ').skip(1).collect();
    let shown = Command::new("journalctl").args(["--no-pager", "-q", "-o", "cat"]).args(&args).output().unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("request 3 failed"), "{cmd}");
}

#[test]
fn a_unit_filter_and_a_saved_export_give_the_same_events() {
    let d = tempfile::tempdir().unwrap();
    make_journals(d.path());
    let remote = d.path().join("remote");
    let w = window(0, 60);
    let filter = Filter { units: vec!["app.service".into()], identifiers: Vec::new() };
    let mut saved = Vec::new();
    reconstruct_journal::fetch::save(&Target::Directory(remote.clone()), &filter, &w, &mut saved, &mut |_| {}).unwrap();
    let file = d.path().join("saved.export");
    std::fs::write(&file, &saved).unwrap();
    let ctx = CollectContext { window: w, detail: Detail::All, anchor: None };
    let mut live = VecSink::default();
    Box::new(JournalLive { target: Target::Directory(remote), filter }).collect(&ctx, &mut live).unwrap();
    let mut back = VecSink::default();
    Box::new(JournalExportFile { file, display: "journal/saved.export".into() }).collect(&ctx, &mut back).unwrap();
    let key =
        |s: &VecSink| s.events.iter().map(|e| (e.time, e.component.to_string(), e.summary.clone())).collect::<Vec<_>>();
    assert_eq!(key(&live), key(&back));
    assert_eq!(live.events.len(), 80);
    assert_eq!(back.events[0].evidence.locator.to_string(), "journal/saved.export:1");
    // A unit nobody logged under: no entries, no failure.
    let none = Filter { units: vec!["nothing-here.service".into()], identifiers: Vec::new() };
    let mut sink = VecSink::default();
    Box::new(JournalLive { target: Target::Directory(d.path().join("remote")), filter: none })
        .collect(&ctx, &mut sink)
        .unwrap();
    assert!(sink.events.is_empty());
    // A misspelt unit: the journal's units are named, the nearest first.
    let typo = Filter { units: vec!["ap.service".into()], identifiers: Vec::new() };
    let mut sink = VecSink::default();
    Box::new(JournalLive { target: Target::Directory(d.path().join("remote")), filter: typo })
        .collect(&ctx, &mut sink)
        .unwrap();
    assert!(sink.events.is_empty());
    assert!(
        sink.notes
            .iter()
            .any(|n| n == "nothing from ap.service in the window; the journal's units (nearest first): app.service"),
        "{:?}",
        sink.notes
    );
}

#[test]
fn a_corrupt_journal_file_is_reported_and_the_other_hosts_still_read() {
    let d = tempfile::tempdir().unwrap();
    make_journals(d.path());
    let remote = d.path().join("remote");
    // A third host's file, cut in the middle of its header.
    let good = std::fs::read(remote.join("web01.journal")).unwrap();
    std::fs::write(remote.join("broken.journal"), &good[..100]).unwrap();
    let c = Box::new(JournalLive { target: Target::Directory(remote.clone()), filter: Filter::default() });
    let mut sink = VecSink::default();
    c.collect(&CollectContext { window: window(0, 60), detail: Detail::All, anchor: None }, &mut sink).unwrap();
    assert_eq!(sink.events.len(), 80, "both good hosts are read");
    let said: Vec<&str> = sink.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(said.iter().any(|m| m.contains("broken.journal")), "{said:?}");
    // A directory that does not exist fails the source with journalctl's words.
    let c = Box::new(JournalLive { target: Target::Directory(d.path().join("nope")), filter: Filter::default() });
    let err = c
        .collect(&CollectContext { window: window(0, 60), detail: Detail::All, anchor: None }, &mut VecSink::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("journalctl failed") && err.contains("No such file or directory"), "{err}");
}
