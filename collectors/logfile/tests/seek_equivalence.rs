#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! A seek must give the full scan's result: the same events, with the same
//! `file:line`, on files with repeated timestamps, multi-line events, CRLF
//! line ends and lines slightly out of order near the window's bounds.

use std::fs::File;
use std::io::Write;

use reconstruct_core::{CollectContext, Detail, TimeWindow, Timestamp, VecSink, Zone};
use reconstruct_logfile::scan::{self, ScanConfig, Seekable};

const BASE: i64 = 1_766_707_200; // 2025-12-26T00:00:00Z

fn cfg() -> ScanConfig {
    ScanConfig {
        path: "big.log".into(),
        component: "big".into(),
        zone: Zone::Utc,
        locate: None,
        codec: None,
        found: false,
    }
}

fn ts(secs: i64, millis: i64) -> String {
    let t = Timestamp::from_unix_seconds(secs, u32::try_from(millis).unwrap() * 1_000_000).unwrap();
    t.to_datetime().format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// About 12 MiB over six hours: runs of equal timestamps, tracebacks, CRLF
/// on every third line, and every 500th line a few seconds late.
fn write_log(path: &std::path::Path) {
    let mut f = std::io::BufWriter::new(File::create(path).unwrap());
    let mut secs = BASE;
    for i in 0..160_000i64 {
        if i % 7 != 0 {
            secs += 1 - (i % 2); // pairs of equal times
        }
        let (s, ms) = if i % 500 == 250 { (secs - 3, 0) } else { (secs, (i * 37) % 1000) };
        let eol = if i % 3 == 0 { "\r\n" } else { "\n" };
        let level = if i % 11 == 0 {
            "ERROR"
        } else if i % 5 == 0 {
            "WARNING"
        } else {
            "INFO"
        };
        write!(f, "{} {level} [svc] request {i} handled{eol}", ts(s, ms)).unwrap();
        if i % 97 == 0 {
            write!(f, "Traceback (most recent call last):{eol}  File \"x.py\", line {i}{eol}ValueError: {i}{eol}")
                .unwrap();
        }
    }
}

fn run(path: &std::path::Path, since: i64, until: i64, seek: bool, cache: &std::path::Path) -> VecSink {
    run_for(path, since, until, Detail::All, seek, cache)
}

fn run_for(
    path: &std::path::Path,
    since: i64,
    until: i64,
    detail: Detail,
    seek: bool,
    cache: &std::path::Path,
) -> VecSink {
    let window = TimeWindow::new(
        Timestamp::from_unix_seconds(since, 0).unwrap(),
        Timestamp::from_unix_seconds(until, 0).unwrap(),
    )
    .unwrap();
    let ctx = CollectContext { window, detail, anchor: None };
    let mut out = VecSink::default();
    let file = File::open(path).unwrap();
    if seek {
        let size = file.metadata().unwrap().len();
        let s = Seekable { file: &file, size, path, cache_dir: Some(cache), min_size: 0 };
        scan::scan_file(s, &cfg(), &ctx, &mut out).unwrap();
    } else {
        scan::scan(file, &cfg(), &ctx, &mut out).unwrap();
    }
    out
}

#[test]
fn seeking_gives_the_full_scans_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    write_log(&path);
    assert!(std::fs::metadata(&path).unwrap().len() > 8 << 20);
    let cache = dir.path().join("cache");
    let span = 160_000 * 6 / 7 / 2;
    // Windows: a minute in the middle, bounds on a late line, the start,
    // past the end, and the whole file; each twice (the second run uses the
    // saved line index).
    let windows = [
        (BASE + span / 2, BASE + span / 2 + 60),
        (BASE + 3 * span / 4 - 2, BASE + 3 * span / 4 + 1),
        (BASE - 100, BASE + 30),
        (BASE + span - 20, BASE + span + 1000),
        (BASE - 1, BASE + span + 10),
    ];
    for _ in 0..2 {
        for (since, until) in windows {
            let full = run(&path, since, until, false, &cache);
            let sought = run(&path, since, until, true, &cache);
            let key = |s: &VecSink| {
                s.events
                    .iter()
                    .map(|e| (e.time, e.evidence.locator.to_string(), e.summary.clone(), e.evidence.excerpt.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(key(&full), key(&sought), "window {since}..{until}");
            assert!(!full.events.is_empty() || since > BASE + span, "window {since}..{until} is empty");
        }
    }
    // The middle minute was found by binary search, not read up to.
    let mid = run(&path, BASE + span / 2, BASE + span / 2 + 60, true, &cache);
    assert!(mid.notes.iter().any(|n| n.contains("by binary search")), "{:?}", mid.notes);
    assert!(mid.notes.iter().any(|n| n.contains("past the window's end")), "{:?}", mid.notes);
}

#[test]
fn disorder_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    write_log(&path);
    // The same lines again: the file starts over half way.
    let again = std::fs::read(&path).unwrap();
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(&again).unwrap();
    let cache = dir.path().join("cache");
    let (since, until) = (BASE + 10_000, BASE + 10_060);
    let full = run(&path, since, until, false, &cache);
    let sought = run(&path, since, until, true, &cache);
    assert_eq!(full.events.len(), sought.events.len());
    assert!(!sought.notes.iter().any(|n| n.contains("by binary search")), "{:?}", sought.notes);
}

/// A small deterministic generator (xorshift), so the random files repeat.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[test]
fn random_files_and_windows_give_the_same_events_sought_or_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut sought_some = 0;
    for case in 0..24 {
        let path = dir.path().join(format!("r{case}.log"));
        let mut f = std::io::BufWriter::new(File::create(&path).unwrap());
        let mut secs = BASE;
        let lines = 5_000 + rng.below(25_000) as i64;
        for i in 0..lines {
            secs += rng.below(3) as i64; // runs of equal seconds
                                         // Now and then a line a little late, within the minute of slack.
            let late = if rng.below(200) == 0 { rng.below(50) as i64 } else { 0 };
            let eol = if rng.below(4) == 0 { "\r\n" } else { "\n" };
            let level = ["INFO", "WARN", "ERROR", "DEBUG"][rng.below(4) as usize];
            write!(f, "{} {level} line {i}{eol}", ts(secs - late, rng.below(1000) as i64)).unwrap();
            for k in 0..rng.below(8).saturating_sub(5) {
                write!(f, "    at frame {k}{eol}").unwrap();
            }
        }
        drop(f);
        let span = secs - BASE;
        for _ in 0..4 {
            let since = BASE - 30 + rng.below(span as u64 + 60) as i64;
            let until = since + rng.below(600) as i64;
            let full = run(&path, since, until, false, &cache);
            let sought = run(&path, since, until, true, &cache);
            let key = |s: &VecSink| {
                s.events
                    .iter()
                    .map(|e| (e.time, e.evidence.locator.to_string(), e.evidence.excerpt.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(key(&full), key(&sought), "case {case}, window {since}..{until}");
            if sought.notes.iter().any(|n| n.contains("by binary search")) {
                sought_some += 1;
            }
        }
    }
    assert!(sought_some > 20, "only {sought_some} windows were sought");
}

/// Before the baseline a report reads only the records a raw search finds
/// words of a change in: the same events and diagnostics as reading every
/// line, on records whose change words sit in their heads or under them
/// (an apt stanza), cut by colour codes, past a block's edge, in records
/// longer than what the search keeps behind it, and beside invalid UTF-8.
#[test]
fn the_raw_search_before_the_baseline_gives_the_line_by_line_result() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let path = dir.path().join("lookback.log");
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut f = std::io::BufWriter::new(File::create(&path).unwrap());
    let mut secs = BASE;
    let mut i = 0u64;
    while secs < BASE + 6 * 3600 {
        i += 1;
        secs += i64::from(i % 10 == 0);
        let t = ts(secs, (i * 7 % 1000) as i64);
        let eol = if rng.below(5) == 0 { "\r\n" } else { "\n" };
        if i == 30_000 {
            // A line longer than a block, its cue word at its end.
            write!(f, "{t} INFO [api] {} version 9.{i}{eol}", "x".repeat(300_000)).unwrap();
            continue;
        }
        match rng.below(4000) {
            0..=2 => write!(f, "{t} INFO [api] starting api 2.{i}.0{eol}").unwrap(),
            3 => write!(f, "{t} INFO [db] Applying migration {i}{eol}").unwrap(),
            4 => {
                write!(f, "{t} Packages changed:{eol}Upgrade: libssl3:amd64 (3.0.{i}-1, 3.0.{}-1){eol}", i + 1).unwrap()
            }
            5 => write!(f, "{t} INFO [api] ver\x1b[0msion 3.{i} live{eol}").unwrap(),
            6 => write!(f, "{t} upgrade nginx:amd64 1.{i} 1.{}{eol}", i + 1).unwrap(),
            7 => {
                write!(f, "{t} INFO [api] caf").unwrap();
                f.write_all(b"\xe9").unwrap();
                write!(f, " served {i}{eol}").unwrap();
            }
            8 => {
                // A record longer than the search keeps behind a block, a
                // cue word deep in it and invalid UTF-8 under it.
                write!(f, "{t} ERROR [api] request {i} failed{eol}").unwrap();
                let (frames, every) = (if rng.below(3) == 0 { 2500 } else { 40 }, rng.below(2) == 0);
                for k in 0..frames {
                    let boot = if every || k + 1 == frames { "boot" } else { "web" };
                    write!(f, "\tat org.springframework.{boot}.Frame{k}(Frame.java:{k}){eol}").unwrap();
                }
                f.write_all(b"\tcaused by \xff\xfe\n").unwrap();
            }
            9..=30 => write!(f, "{t} WARN [api] slow call {i} {}ms{eol}", 900 + i % 100).unwrap(),
            _ => write!(f, "{t} INFO [api] GET /v1/items/{} 200 {}ms{eol}", i % 9000, i % 90).unwrap(),
        }
    }
    drop(f);
    assert!(std::fs::metadata(&path).unwrap().len() > 8 << 20);
    let at = |h: i64| Timestamp::from_unix_seconds(BASE + h * 3600, 0).unwrap();
    let key = |s: &VecSink| {
        let events: Vec<_> = s
            .events
            .iter()
            .map(|e| (e.time, e.evidence.locator.to_string(), e.summary.clone(), e.evidence.excerpt.clone()))
            .collect();
        let diagnostics: Vec<_> = s.diagnostics.iter().map(|d| format!("{:?} {}", d.locator, d.message)).collect();
        (events, diagnostics, s.skipped)
    };
    let mut swept = 0;
    for (from, baseline, window) in [(-1, 4, 5), (1, 3, 5), (0, 2, 2)] {
        let reach = reconstruct_core::Reach { changes_only_before: at(baseline), paced_before: at(window) };
        let (since, until) = (BASE + from * 3600, BASE + 6 * 3600);
        let full = run_for(&path, since, until, Detail::Read(reach), false, &cache);
        let sought = run_for(&path, since, until, Detail::Read(reach), true, &cache);
        let (f, s) = (key(&full), key(&sought));
        assert_eq!(f.0.len(), s.0.len(), "lookback from {from} h");
        for (a, b) in f.0.iter().zip(&s.0) {
            assert_eq!(a, b, "lookback from {from} h");
        }
        assert_eq!(f.1, s.1, "lookback from {from} h");
        assert_eq!(f.2, s.2);
        assert!(f.0.iter().any(|e| e.0 < at(baseline) && e.2.contains("package")), "a package change is read");
        if sought.notes.iter().any(|n| n.contains("searched for the words of a change")) {
            swept += 1;
        }
    }
    assert_eq!(swept, 3, "the sweep ran in each");
}
