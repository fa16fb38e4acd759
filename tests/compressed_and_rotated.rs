#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Logs as they lie on hosts: the same timeline from a log, from its gzip,
//! bzip2, xz and zstd forms, and from a rotation set split across them;
//! pieces outside the window skipped unread; a damaged archive reported
//! with where it stopped, what came before it kept.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SEED_LOG: &str = "fixtures/inc-20251226-001/logs/backend.log";
const SINCE: &str = "2025-12-26T14:00:00Z";
const UNTIL: &str = "2025-12-26T15:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reconstruct")).args(args).current_dir(root()).output().unwrap()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn compress(kind: &str, b: &[u8]) -> Vec<u8> {
    match kind {
        "gz" => gzip(b),
        "bz2" => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            e.write_all(b).unwrap();
            e.finish().unwrap()
        }
        "xz" => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
            e.write_all(b).unwrap();
            e.finish().unwrap()
        }
        "zst" => zstd::stream::encode_all(b, 3).unwrap(),
        _ => b.to_vec(),
    }
}

/// Every event of a `--all --format jsonl` run, without its evidence
/// (which names the file it came from): time, component, kind, severity,
/// event, continuation lines.
fn events(o: &Output) -> Vec<String> {
    assert!(matches!(o.status.code(), Some(0) | Some(3)), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{} {} {} {} {} {}",
                v["time"], v["component"], v["kind"], v["severity"], v["event"], v["continuation_lines"]
            )
        })
        .collect()
}

fn all(log: &Path) -> Output {
    run(&["--log", log.to_str().unwrap(), "--no-git", "--since", SINCE, "--until", UNTIL, "--all", "--format", "jsonl"])
}

/// The seed log cut at line starts that carry a timestamp, into `n` pieces.
fn pieces(text: &[u8], n: usize) -> Vec<Vec<u8>> {
    let lines: Vec<&[u8]> = text.split_inclusive(|c| *c == b'\n').collect();
    let mut out = Vec::new();
    let mut start = 0;
    for k in 1..n {
        let mut cut = lines.len() * k / n;
        while !lines[cut].starts_with(b"2025-") {
            cut += 1;
        }
        out.push(lines[start..cut].concat());
        start = cut;
    }
    out.push(lines[start..].concat());
    out
}

#[test]
fn the_same_timeline_from_every_compression_and_from_a_rotation_set() {
    let text = std::fs::read(root().join(SEED_LOG)).unwrap();
    let d = tempfile::tempdir().unwrap();
    let plain = d.path().join("backend.log");
    std::fs::write(&plain, &text).unwrap();
    let want = events(&all(&plain));
    assert!(want.len() > 3000, "{}", want.len());
    for ext in ["gz", "bz2", "xz", "zst"] {
        // The name says nothing: the first bytes do.
        let f = d.path().join(format!("backend-{ext}.data"));
        std::fs::write(&f, compress(ext, &text)).unwrap();
        let o = all(&f);
        assert_eq!(events(&o), want, "{ext}");
        let first = String::from_utf8_lossy(&o.stdout).lines().next().unwrap().to_string();
        assert!(first.contains(&format!("backend-{ext}.data:1\"")), "evidence is the decompressed line: {first}");
    }
    // A rotation set across formats, given as a directory.
    let set = d.path().join("set");
    std::fs::create_dir(&set).unwrap();
    let p = pieces(&text, 4);
    for (name, ext, bytes) in [
        ("backend.log.3.gz", "gz", &p[0]),
        ("backend.log.2.xz", "xz", &p[1]),
        ("backend.log.1", "", &p[2]),
        ("backend.log", "", &p[3]),
    ] {
        std::fs::write(set.join(name), compress(ext, bytes)).unwrap();
    }
    let o = all(&set);
    assert_eq!(events(&o), want, "rotation set");
    // One source with one component, in the summary too.
    let md = run(&["--log", set.to_str().unwrap(), "--no-git", "--since", SINCE, "--until", UNTIL]);
    let md_text = String::from_utf8_lossy(&md.stdout);
    assert!(md_text.contains("(+3 rotated) | ok |"), "{md_text}");
    let seed = run(&["--log", plain.to_str().unwrap(), "--no-git", "--since", SINCE, "--until", UNTIL]);
    let rows = |s: &str| -> Vec<String> {
        s.lines().filter(|l| l.starts_with("| 14:")).map(|l| l.rsplitn(3, '|').nth(2).unwrap().to_string()).collect()
    };
    assert_eq!(rows(&md_text), rows(&String::from_utf8_lossy(&seed.stdout)), "the same rows, evidence aside");
}

#[test]
fn pieces_outside_the_window_are_skipped_unread() {
    let text = std::fs::read(root().join(SEED_LOG)).unwrap();
    let d = tempfile::tempdir().unwrap();
    let p = pieces(&text, 3);
    std::fs::write(d.path().join("backend.log.2.gz"), gzip(&p[0])).unwrap();
    std::fs::write(d.path().join("backend.log.1.gz"), gzip(&p[1])).unwrap();
    std::fs::write(d.path().join("backend.log"), &p[2]).unwrap();
    // The window starts a second after the newest piece does.
    let first =
        chrono::NaiveDateTime::parse_from_str(&String::from_utf8_lossy(&p[2][..19]), "%Y-%m-%d %H:%M:%S").unwrap();
    let since = (first + chrono::Duration::seconds(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let o = run(&["--log", d.path().to_str().unwrap(), "--no-git", "--since", &since, "--until", UNTIL]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("backend.log.2.gz skipped unread: the next piece begins before the window"), "{out}");
    assert!(out.contains("backend.log.1.gz skipped unread"), "{out}");
    assert!(out.contains("rotation set: 3 pieces, 1 read"), "{out}");
}

#[test]
fn a_damaged_archive_keeps_what_came_before_and_says_where_it_stopped() {
    let text = std::fs::read(root().join(SEED_LOG)).unwrap();
    let d = tempfile::tempdir().unwrap();
    let gz = gzip(&text);
    let f = d.path().join("backend.log.gz");
    std::fs::write(&f, &gz[..gz.len() * 2 / 3]).unwrap();
    let o = all(&f);
    assert_eq!(o.status.code(), Some(3), "partial");
    let got = events(&o);
    let whole = {
        let plain = d.path().join("whole.log");
        std::fs::write(&plain, &text).unwrap();
        events(&all(&plain))
    };
    assert!(got.len() > whole.len() / 3 && got.len() < whole.len(), "{} of {}", got.len(), whole.len());
    assert_eq!(&whole[..got.len() - 1], &got[..got.len() - 1], "what came before the damage is the same");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the gzip stream is damaged or cut short after line"), "{err}");
    // In a rotation set, the damaged piece is reported and the others are read.
    let set = d.path().join("set");
    std::fs::create_dir(&set).unwrap();
    let p = pieces(&text, 2);
    let g0 = gzip(&p[0]);
    std::fs::write(set.join("backend.log.1.gz"), &g0[..g0.len() / 2]).unwrap();
    std::fs::write(set.join("backend.log"), &p[1]).unwrap();
    let o = all(&set);
    assert_eq!(o.status.code(), Some(3));
    let last = events(&o).last().cloned();
    assert_eq!(last, whole.last().cloned(), "the newest piece is read whole");
}

#[test]
fn a_compression_bomb_is_reported_not_followed() {
    let d = tempfile::tempdir().unwrap();
    // 80 MiB of one repeated line in a few KB of zstd: far past the cap for its size.
    let line = b"2025-12-26 14:30:00,000 INFO same line again and again\n";
    let text: Vec<u8> = line.iter().copied().cycle().take(80 << 20).collect();
    let f = d.path().join("bomb.log.zst");
    std::fs::write(&f, compress("zst", &text)).unwrap();
    assert!(std::fs::metadata(&f).unwrap().len() < 64 << 10);
    let o = run(&["--log", f.to_str().unwrap(), "--no-git", "--since", SINCE, "--until", UNTIL]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("compression bomb"), "{err}");
}

#[test]
fn a_captured_rotation_set_reads_back_as_one_source() {
    let text = std::fs::read(root().join(SEED_LOG)).unwrap();
    let d = tempfile::tempdir().unwrap();
    let set = d.path().join("set");
    std::fs::create_dir(&set).unwrap();
    let p = pieces(&text, 3);
    std::fs::write(set.join("backend.log-20251225.gz"), gzip(&p[0])).unwrap();
    std::fs::write(set.join("backend.log-20251226.bz2"), compress("bz2", &p[1])).unwrap();
    std::fs::write(set.join("backend.log"), &p[2]).unwrap();
    let live = all(&set);
    let bundle = d.path().join("bundle");
    let cap = run(&[
        "capture",
        "--out",
        bundle.to_str().unwrap(),
        "--log",
        set.to_str().unwrap(),
        "--no-git",
        "--since",
        SINCE,
        "--until",
        UNTIL,
    ]);
    assert_eq!(cap.status.code(), Some(0), "{}", String::from_utf8_lossy(&cap.stderr));
    let back = run(&[
        "--fixtures",
        bundle.to_str().unwrap(),
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--all",
        "--format",
        "jsonl",
    ]);
    assert_eq!(events(&back), events(&live));
    let md = run(&["--fixtures", bundle.to_str().unwrap(), "--since", SINCE, "--until", UNTIL]);
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(text.contains("| logfile logs/backend.log (+2 rotated) | ok |"), "{text}");
}

#[test]
fn kubernetes_cri_logs_with_their_rotated_pieces() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("var/log/pods/shop_checkout-7d9f4_0a1b2c3d/api");
    std::fs::create_dir_all(&dir).unwrap();
    let old = b"2025-12-26T14:29:58.100000000Z stdout F INFO warming up\n\
                2025-12-26T14:29:59.000000000Z stderr P ERROR payment gateway \n\
                2025-12-26T14:29:59.000000100Z stderr F timed out after 30s\n\
                2025-12-26T14:30:00.000000000Z stderr F Traceback (most recent call last):\n\
                2025-12-26T14:30:00.000000100Z stderr F   File \"/app/pay.py\", line 7, in charge\n";
    std::fs::write(dir.join("0.log.20251226-143000.gz"), gzip(old)).unwrap();
    let new = b"2025-12-26T14:30:01.000000200Z stderr F ValueError: card declined\n\
                2025-12-26T14:30:05.000000000Z stdout F INFO ready\n";
    std::fs::write(dir.join("0.log"), new).unwrap();
    let o = run(&[
        "--log",
        d.path().join("var/log/pods").to_str().unwrap(),
        "--no-git",
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--all",
        "--format",
        "jsonl",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<serde_json::Value> =
        String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let brief: Vec<(String, String, String)> = rows
        .iter()
        .map(|v| {
            (
                v["time"].as_str().unwrap().to_string(),
                v["component"].as_str().unwrap().to_string(),
                v["event"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let c = "shop/checkout-7d9f4/api".to_string();
    assert_eq!(
        brief,
        vec![
            ("2025-12-26T14:29:58.100Z".into(), c.clone(), "INFO warming up".into()),
            ("2025-12-26T14:29:59Z".into(), c.clone(), "ERROR payment gateway timed out after 30s".into()),
            ("2025-12-26T14:30:01.000000200Z".into(), c.clone(), "ValueError: card declined".into()),
            ("2025-12-26T14:30:05Z".into(), c.clone(), "INFO ready".into()),
        ]
    );
    // A traceback's lines stay with the error above them, as in a plain log.
    assert_eq!(rows[1]["continuation_lines"], 2);
    assert!(rows[1]["evidence"].as_str().unwrap().ends_with("0.log.20251226-143000.gz:2"), "{}", rows[1]["evidence"]);
}

#[test]
fn a_compressed_postgresql_server_log_reads_as_the_plain_one() {
    let text = std::fs::read(root().join("fixtures/inc-20251226-001/postgres/postgresql-15-main.log")).unwrap();
    let d = tempfile::tempdir().unwrap();
    let plain = d.path().join("postgresql-15-main.log");
    let gz = d.path().join("postgresql-15-main.log.2.gz");
    std::fs::write(&plain, &text).unwrap();
    std::fs::write(&gz, gzip(&text)).unwrap();
    let read = |f: &Path| {
        run(&[
            "--postgres-log",
            f.to_str().unwrap(),
            "--no-git",
            "--since",
            SINCE,
            "--until",
            UNTIL,
            "--all",
            "--format",
            "jsonl",
        ])
    };
    let want = events(&read(&plain));
    assert!(want.len() > 20, "{}", want.len());
    assert_eq!(events(&read(&gz)), want);
}
