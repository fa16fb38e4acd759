#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! A log read that stops where the runner asks it to yield, and goes on
//! later from its offset with a file opened again, must give what one read
//! to the end gives: the same events, notes and diagnostics, whichever
//! line it stopped after.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use reconstruct_core::{
    CollectContext, Collector, Detail, Diagnostic, Event, EventSink, Reach, Step, Stopped, TimeWindow, Timestamp,
    VecSink, Zone,
};
use reconstruct_logfile::LogFileCollector;

const BASE: i64 = 1_766_707_200; // 2025-12-26T00:00:00Z

fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix_seconds(secs, 0).unwrap()
}

fn ts(secs: i64) -> String {
    at(secs).to_datetime().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A log with what a read carries from one line to the next: lines before
/// the first time, records with continuation lines, CRLF, a line longer
/// than the scanner keeps, invalid UTF-8, a zone word, a byte-order mark.
fn write_log(path: &Path, bom: bool) {
    let mut f = std::io::BufWriter::new(File::create(path).unwrap());
    if bom {
        f.write_all(b"\xEF\xBB\xBF").unwrap();
    }
    writeln!(f, "starting up, no time yet").unwrap();
    writeln!(f, "still no time").unwrap();
    for i in 0..400i64 {
        let eol = if i % 3 == 0 { "\r\n" } else { "\n" };
        let level = match i % 7 {
            0 => "ERROR",
            3 => "WARNING",
            _ => "INFO",
        };
        write!(f, "{} {level} [svc{}] request {i} handled{eol}", ts(BASE + i * 30), i % 3).unwrap();
        if i % 13 == 0 {
            write!(f, "Traceback (most recent call last):{eol}  File \"x.py\", line {i}{eol}ValueError: {i}{eol}")
                .unwrap();
        }
        if i == 101 {
            f.write_all(b"2025-12-26 00:50:30 ERROR [svc2] bad bytes \xff\xfe here\n").unwrap();
        }
        if i == 202 {
            let long = "x".repeat(3 << 20);
            writeln!(f, "{} ERROR [svc1] a long one {long} end", ts(BASE + i * 30)).unwrap();
        }
        if i == 303 {
            writeln!(f, "2025-12-26 02:31:30 CET WARNING [svc0] a zone word").unwrap();
        }
        if i == 350 {
            writeln!(f, "{} INFO [svc0] deployed version 2.4.1", ts(BASE + i * 30)).unwrap();
        }
    }
}

/// A sink that asks the read to yield after every `every` events it is
/// handed, while the read says it can stop.
struct Yielding {
    out: VecSink,
    every: usize,
    since: usize,
    can: bool,
}

impl EventSink for Yielding {
    fn emit(&mut self, event: Event) -> Result<(), Stopped> {
        self.since += 1;
        self.out.emit(event)
    }
    fn skip(&mut self, time: Timestamp, extra_lines: u32) {
        self.out.skip(time, extra_lines);
    }
    fn diagnostic(&mut self, d: Diagnostic) {
        self.out.diagnostic(d);
    }
    fn note(&mut self, text: String) {
        self.out.note(text);
    }
    fn parkable(&mut self, can: bool) {
        self.can = can;
    }
    fn yield_asked(&self) -> bool {
        self.can && self.since >= self.every
    }
}

fn collector(path: &Path) -> Box<LogFileCollector> {
    Box::new(LogFileCollector::new(path.to_path_buf(), "app.log".into(), None, Zone::Utc, None))
}

fn whole(path: &Path, ctx: &CollectContext) -> VecSink {
    let mut out = VecSink::default();
    collector(path).collect(ctx, &mut out).unwrap();
    out
}

/// Steps the read to its end, asked to yield every `every` events; returns
/// what it handed over and how often it stopped.
fn stepped(path: &Path, ctx: &CollectContext, every: usize) -> (VecSink, usize) {
    let mut sink = Yielding { out: VecSink::default(), every, since: 0, can: false };
    let mut c: Box<dyn Collector> = collector(path);
    let mut parks = 0;
    loop {
        sink.since = 0;
        match c.step(ctx, &mut sink).unwrap() {
            Step::Done => break,
            Step::Parked(next) => {
                parks += 1;
                c = next;
            }
        }
    }
    (sink.out, parks)
}

fn same(a: &VecSink, b: &VecSink, what: &str) {
    assert_eq!(a.events.len(), b.events.len(), "{what}");
    for (x, y) in a.events.iter().zip(&b.events) {
        assert_eq!(x, y, "{what}");
    }
    assert_eq!((a.skipped, a.skipped_lines), (b.skipped, b.skipped_lines), "{what}");
    assert_eq!(a.diagnostics, b.diagnostics, "{what}");
    assert_eq!(a.notes, b.notes, "{what}");
}

#[test]
fn a_read_parked_anywhere_gives_the_read_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    for bom in [false, true] {
        let path = dir.path().join(format!("app-{bom}.log"));
        write_log(&path, bom);
        let window = TimeWindow::new(at(BASE + 600), at(BASE + 400 * 30)).unwrap();
        let read = Reach { changes_only_before: at(BASE + 1200), paced_before: at(BASE + 3000) };
        let details = [Detail::All, Detail::Notable, Detail::Read(read)];
        for detail in details {
            let ctx = CollectContext { window, detail, anchor: None };
            let full = whole(&path, &ctx);
            assert!(full.events.len() > 100, "{detail:?}: {}", full.events.len());
            for every in [1, 2, 7, 64] {
                let (got, parks) = stepped(&path, &ctx, every);
                same(&full, &got, &format!("bom {bom}, {detail:?}, every {every}"));
                // It did stop: after every `every` events, but never inside
                // a record nor after the cut line.
                assert!(parks * every * 2 >= full.events.len(), "{detail:?} every {every}: {parks} parks");
            }
        }
    }
}

#[test]
fn a_file_replaced_while_parked_is_not_read_on_from_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    write_log(&path, false);
    let window = TimeWindow::new(at(BASE - 60), at(BASE + 400 * 30)).unwrap();
    let ctx = CollectContext { window, detail: Detail::All, anchor: None };
    let mut sink = Yielding { out: VecSink::default(), every: 10, since: 0, can: false };
    let Step::Parked(c) = collector(&path).step(&ctx, &mut sink).unwrap() else { panic!("it did not stop") };
    let kept = sink.out.events.len();
    // Rotated: a new file under the old name.
    std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
    std::fs::write(&path, format!("{} ERROR [svc9] another file\n", ts(BASE))).unwrap();
    sink.since = 0;
    let err = c.step(&ctx, &mut sink).err().expect("a replaced file is an error");
    assert!(err.to_string().contains("replaced"), "{err}");
    // What was read before is kept; nothing of the new file is read as the old one's.
    assert!(sink.out.events.len() >= kept);
    assert!(sink.out.events.iter().all(|e| !e.summary.contains("another file")));
}

/// A rotation set reads its pieces in order; a plain piece stops where it
/// is asked and the set goes on from that piece, a compressed one is read
/// whole: the same as reading the set straight through.
#[test]
fn a_rotation_set_parked_in_its_plain_pieces_gives_the_read_to_the_end() {
    use reconstruct_logfile::LogSetCollector;
    let dir = tempfile::tempdir().unwrap();
    let piece = |name: &str, from: i64| {
        let mut text = String::new();
        for i in 0..150i64 {
            let level = if i % 4 == 0 { "ERROR" } else { "INFO" };
            text.push_str(&format!("{} {level} [api] piece {name} line {i}\n", ts(from + i * 10)));
            if i % 9 == 0 {
                text.push_str("  at handler (api.js:12)\n");
            }
        }
        text
    };
    let gz = dir.path().join("app.log.2.gz");
    let mut enc = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
    enc.write_all(piece("2", BASE).as_bytes()).unwrap();
    enc.finish().unwrap();
    std::fs::write(dir.path().join("app.log.1"), piece("1", BASE + 1500)).unwrap();
    std::fs::write(dir.path().join("app.log"), piece("0", BASE + 3000)).unwrap();
    let files: Vec<(std::path::PathBuf, String)> =
        ["app.log.2.gz", "app.log.1", "app.log"].iter().map(|n| (dir.path().join(n), (*n).to_string())).collect();
    let set = || Box::new(LogSetCollector::new(files.clone(), "app".into(), Zone::Utc, None));
    let window = TimeWindow::new(at(BASE - 60), at(BASE + 5000)).unwrap();
    let ctx = CollectContext { window, detail: Detail::All, anchor: None };
    let mut full = VecSink::default();
    set().collect(&ctx, &mut full).unwrap();
    assert_eq!(full.events.len(), 450);
    for every in [1, 5, 40] {
        let mut sink = Yielding { out: VecSink::default(), every, since: 0, can: false };
        let mut c: Box<dyn Collector> = set();
        let mut parks = 0;
        loop {
            sink.since = 0;
            match c.step(&ctx, &mut sink).unwrap() {
                Step::Done => break,
                Step::Parked(next) => {
                    parks += 1;
                    c = next;
                }
            }
        }
        same(&full, &sink.out, &format!("rotation set, every {every}"));
        // Only the two plain pieces stop, about every `every` events.
        assert!(parks * every >= 250, "every {every}: {parks} parks");
    }
}
