#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The binary end to end, over the shipped seed bundle and over files the
//! tests write: what a user runs, what they see, and the exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SEED: &str = "fixtures/inc-20251226-001";
const SINCE: &str = "2025-12-26T14:00:00Z";
const UNTIL: &str = "2025-12-26T15:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reconstruct")).args(args).current_dir(root()).output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn seed(extra: &[&str]) -> Output {
    let mut args = vec!["--fixtures", SEED, "--since", SINCE, "--until", UNTIL];
    args.extend_from_slice(extra);
    run(&args)
}

fn table_rows(md: &str) -> Vec<Vec<String>> {
    md.lines()
        .skip_while(|l| !l.starts_with("| Time (UTC)"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect()
}

#[test]
fn seed_dry_run_prints_the_phase_2_table() {
    let o = seed(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = stdout(&o);
    insta::assert_snapshot!("seed_dry_run", md);

    let rows = table_rows(&md);
    let first_error = rows.iter().position(|r| r[1].contains("500 Internal Server Error")).expect("first 500 row");
    let fix = rows.iter().position(|r| r[1].contains("fix: add missing indexes")).expect("fix commit row");
    assert!(first_error < fix, "time order");
    assert_eq!(rows[first_error][0], "14:30:15");
    assert!(rows[first_error][1].contains("(×209 until 14:42:58) **(incident starts)**"), "{:?}", rows[first_error]);
    assert_eq!(rows[first_error][3], "`logs/backend.log:1234`");
    assert_eq!(rows[fix][0], "14:42:00");
    assert_eq!(rows[fix][3], "`commit abc123f`");
    let times: Vec<&String> = rows.iter().map(|r| &r[0]).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);

    // The evidence resolves: line 1234 is that error, and the commit is in the saved history.
    let log = std::fs::read_to_string(root().join(SEED).join("logs/backend.log")).unwrap();
    let line = log.lines().nth(1233).unwrap();
    assert!(line.starts_with("2025-12-26 14:30:15,123 ERROR"), "{line}");
    assert!(line.contains("POST /api/v1/schedule/generate -> 500"));
    // The database's side of it: pool exhaustion and the deadlock with both processes.
    let deadlock = rows.iter().find(|r| r[1].starts_with("ERROR: deadlock detected")).expect("deadlock row");
    assert_eq!(deadlock[0], "14:31:05");
    assert!(deadlock[1].contains("Process 4711") && deadlock[1].contains("process 4712"), "{deadlock:?}");
    // One fact, two sources: the database's log and the application's, both referenced.
    assert_eq!(deadlock[3], "`postgres/postgresql-15-main.log:90`<br>`logs/backend.log:1291`");
    assert!(!rows.iter().any(|r| r[1].contains("psycopg2.errors.DeadlockDetected")), "merged, not repeated");
    let pool = rows.iter().find(|r| r[1].contains("connection slots are reserved")).expect("pool exhausted row");
    assert_eq!(pool[0], "14:30:42");
    // The containers' side: the MCP tool timeout, the restart, health checks green again.
    let timeout = rows.iter().find(|r| r[1].starts_with("ERROR MCP tool timeout")).expect("tool timeout row");
    assert_eq!((timeout[0].as_str(), timeout[2].as_str()), ("14:30:42", "mcp-server"));
    assert!(timeout[3]
        .starts_with("`docker-compose logs mcp-server --since 2025-12-26T14:30:42Z --until 2025-12-26T14:30:43Z"));
    // The restart is one row: killed, exited, started and restarted, with every reference.
    let restarted = rows.iter().filter(|r| r[1].contains("backend_1 restarted")).collect::<Vec<_>>();
    assert_eq!(restarted.len(), 1, "{restarted:?}");
    assert_eq!(restarted[0][0], "14:43:00");
    assert!(restarted[0][1].ends_with("restarted: killed by signal 15, exited 0, up again 14:43:02"), "{restarted:?}");
    for action in ["(kill)", "(die)", "(start)", "(restart)"] {
        assert!(restarted[0][3].contains(action), "{action} evidence kept: {}", restarted[0][3]);
    }
    let healthy = rows.iter().filter(|r| r[1].contains("backend_1 health check healthy")).collect::<Vec<_>>();
    assert_eq!(healthy.len(), 1, "one fact, though events and inspection both hold it");
    assert_eq!(healthy[0][0], "14:45:30");
    // Monitoring: the error-rate alert fired at 14:32:00 and resolved after the restore.
    let fired = rows.iter().position(|r| r[1].starts_with("alert HighErrorRate firing")).expect("alert fired row");
    assert_eq!(rows[fired][0], "14:32:00");
    let resolved =
        rows.iter().position(|r| r[1].starts_with("alert HighErrorRate resolved")).expect("alert resolved row");
    assert_eq!(rows[resolved][0], "14:46:00");

    // The whole seed story, in order.
    let at =
        |needle: &str| rows.iter().position(|r| r[1].contains(needle)).unwrap_or_else(|| panic!("no row for {needle}"));
    let story = [
        at("500 Internal Server Error"),
        at("MCP tool timeout"),
        at("deadlock detected —"),
        fired,
        fix,
        at("backend_1 restarted"),
        at("backend_1 health check healthy"),
        resolved,
    ];
    assert!(story.windows(2).all(|w| w[0] < w[1]), "out of order: {story:?}");
    let git = std::fs::read_to_string(root().join(SEED).join("git/backend.log")).unwrap();
    assert!(git.lines().any(|l| l.starts_with("commit abc123f")));
}

#[test]
fn output_is_byte_for_byte_repeatable() {
    for format in ["md", "json", "jsonl", "csv", "timesketch", "timesketch-csv"] {
        for all in [true, false] {
            let args: &[&str] = if all { &["--format", format, "--all"] } else { &["--format", format] };
            let a = seed(args);
            let b = seed(args);
            assert_eq!(a.status.code(), Some(0), "{format}: {}", stderr(&a));
            assert_eq!(b.status.code(), Some(0), "{format}: {}", stderr(&b));
            assert!(a.stdout.len() > 1000, "{format}: the timeline is there");
            assert_eq!(a.stdout, b.stdout, "{format}");
        }
    }
}

/// Counts the lines of a log that fall in the window the simple way: a
/// line belongs to the last timestamp above it.
fn lines_in_window(path: &Path, since: &str, until: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    let mut inside = false;
    let mut n = 0;
    for l in text.lines() {
        // `2025-12-26 14:30:15,123` against `2025-12-26T14:30:15Z`, to the millisecond.
        if let Some(ts) = l.get(..23).filter(|s| s.as_bytes()[4] == b'-' && s.as_bytes()[19] == b',') {
            let key = format!("{}T{}.{}", &ts[..10], &ts[11..19], &ts[20..]);
            let bound = |b: &str| format!("{}.000", &b[..19]);
            inside = key >= bound(since) && key <= bound(until);
        }
        if inside {
            n += 1;
        }
    }
    n
}

#[test]
fn jsonl_all_accounts_for_every_line_in_the_window() {
    for (since, until) in [(SINCE, UNTIL), ("2025-12-26T14:30:15Z", "2025-12-26T14:31:05Z")] {
        let o = run(&["--fixtures", SEED, "--since", since, "--until", until, "--all", "--format", "jsonl"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let mut events = 0u64;
        let mut continuation = 0u64;
        for l in stdout(&o).lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            for k in ["time", "collector", "component", "event", "evidence", "severity"] {
                assert!(v.get(k).is_some(), "{k} missing in {l}");
            }
            assert!(v["time"].as_str().unwrap().ends_with('Z'));
            if v["collector"] == "logfile" {
                events += 1;
                continuation += v.get("continuation_lines").and_then(|c| c.as_u64()).unwrap_or(0);
            }
        }
        let expected = lines_in_window(&root().join(SEED).join("logs/backend.log"), since, until);
        assert!(expected > 0);
        assert_eq!(events + continuation, expected, "window {since}..{until}");
    }
}

#[test]
fn a_missing_file_is_named_and_the_rest_still_renders() {
    let o = seed(&["--log", "does/not/exist.log"]);
    assert_eq!(o.status.code(), Some(3), "partial exit status");
    let md = stdout(&o);
    assert!(md.contains("`commit abc123f`"), "other sources still rendered");
    assert!(md.contains("logs/backend.log:1234"));
    assert!(md.contains("| logfile does/not/exist.log | FAILED: no such file or directory"), "{md}");
    assert!(stderr(&o).contains("partial timeline: 1 of 8 sources failed"), "{}", stderr(&o));
}

#[test]
fn a_file_without_timestamps_is_a_clear_failure() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.txt");
    std::fs::write(&p, "just words\nno dates at all\n").unwrap();
    let o = seed(&["--log", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("no timestamp found in the first 2 lines of"), "{}", stdout(&o));
}

#[test]
fn a_glob_that_matches_nothing_is_a_failed_source() {
    let o = seed(&["--log", "nowhere/*.log"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("no file matches"));
}

#[test]
fn a_source_that_hangs_is_cut_off_by_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("stuck.log");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let start = std::time::Instant::now();
    let o = seed(&["--log", fifo.to_str().unwrap(), "--timeout", "1"]);
    assert!(start.elapsed().as_secs() < 20, "the run did not wait for the hung source");
    assert_eq!(o.status.code(), Some(3));
    let md = stdout(&o);
    assert!(md.contains("TIMED OUT after 1s"), "{md}");
    assert!(md.contains("`commit abc123f`"));
}

#[test]
fn bad_windows_are_clear_errors() {
    let o = run(&["--fixtures", SEED, "--since", UNTIL, "--until", SINCE]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("empty or inverted"), "{}", stderr(&o));
    let o = run(&["--fixtures", SEED, "--since", "last tuesday"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read \"last tuesday\" as a time"), "{}", stderr(&o));
    let o = run(&["--fixtures", SEED]);
    assert_eq!(o.status.code(), Some(2), "missing --since is a usage error");
    let o = run(&["--fixtures", SEED, "--since", SINCE, "--tz", "Mars/Base"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn machine_formats_carry_the_required_fields() {
    let o = seed(&["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["window"]["since"], SINCE);
    let events = v["events"].as_array().unwrap();
    assert!(!events.is_empty());
    let first = events.iter().find(|e| e["evidence"] == "logs/backend.log:1234").unwrap();
    assert_eq!(first["count"], 209);
    assert_eq!(first["severity"], "error");
    assert_eq!(first["time"], "2025-12-26T14:30:15.123Z");
    assert!(first["excerpt"].as_str().unwrap().contains("Traceback"));
    assert_eq!(v["coverage"].as_array().unwrap().len(), 7);

    let o = seed(&["--format", "csv"]);
    let csv = stdout(&o);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("time,collector,component,severity,kind,event,evidence,count,last_time,marker"));
    assert!(csv.contains("2025-12-26T14:42:00Z,git,backend,,change,Commit abc123f:"));
}

#[test]
fn output_file_and_row_budget() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("timeline.md");
    let o = seed(&["--max-rows", "12", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty(), "the result goes to the file, not stdout");
    let md = std::fs::read_to_string(out).unwrap();
    assert_eq!(table_rows(&md).len(), 12);
    assert!(md.contains("over the --max-rows budget"), "{md}");
    // The fix, the restart, detection and its resolution outrank a routine commit and a pending alert.
    assert!(md.contains("`commit abc123f`") && !md.contains("`commit def456a`"), "{md}");
    assert!(md.contains("backend_1 restarted: killed by signal 15, exited 0, up again 14:43:02"), "{md}");
    assert!(md.contains("alert HighErrorRate firing") && md.contains("alert HighErrorRate resolved"), "{md}");
    assert!(!md.contains("Application startup complete") && !md.contains("alert HighErrorRate pending"), "{md}");
}

#[test]
fn out_of_order_lines_come_out_sorted_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("app.log");
    std::fs::write(
        &p,
        "2025-12-26T14:30:03Z ERROR c\n2025-12-26T14:30:01Z ERROR a\n  trace of a\n2025-12-26T14:30:02Z ERROR b\n",
    )
    .unwrap();
    let o = run(&[
        "--log",
        p.to_str().unwrap(),
        "--no-git",
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--all",
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let events: Vec<String> = stdout(&o).lines().skip(1).map(|l| l.split(',').nth(5).unwrap().to_string()).collect();
    assert_eq!(events, vec!["ERROR a", "ERROR b", "ERROR c"]);
}

#[test]
fn nothing_to_read_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_reconstruct"))
        .args(["--since", SINCE, "--until", UNTIL])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nothing to read"));
}

#[test]
fn an_unreachable_docker_engine_is_a_partial_result() {
    let o = seed(&["--docker-host", "unix:///nonexistent/docker.sock"]);
    assert_eq!(o.status.code(), Some(3));
    let md = stdout(&o);
    assert!(md.contains("`commit abc123f`"), "other sources still render");
    assert!(md.contains("FAILED: cannot reach the docker engine at unix:///nonexistent/docker.sock"), "{md}");
}

#[test]
fn an_unreachable_prometheus_is_a_partial_result() {
    let o = seed(&["--prometheus", "http://ops:hunter2@127.0.0.1:1", "--timeout", "5"]);
    assert_eq!(o.status.code(), Some(3));
    let md = stdout(&o);
    assert!(md.contains("`commit abc123f`"), "other sources still render");
    assert!(md.contains("FAILED: cannot reach Prometheus at http://127.0.0.1:1"), "{md}");
    assert!(!md.contains("hunter2") && !stderr(&o).contains("hunter2"));
}

#[test]
fn timestamp_format_and_zone_for_logs_that_need_them() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("legacy.log");
    // A layout no detector knows, written in Paris time (UTC+1 in December).
    std::fs::write(&odd, "Dec-26-25 15.30.15 ERROR legacy app failed\nDec-26-25 15.30.16 INFO ok\n").unwrap();
    let args = |extra: &[&str]| {
        let mut v =
            vec!["--log", odd.to_str().unwrap(), "--no-git", "--since", SINCE, "--until", UNTIL, "--format", "csv"];
        v.extend_from_slice(extra);
        run(&v)
    };
    let o = args(&[]);
    // Without the format the file cannot be dated: its only source read nothing.
    assert_eq!(o.status.code(), Some(1), "without the format the file cannot be dated");
    let o = args(&["--timestamp-format", "%b-%d-%y %H.%M.%S", "--tz", "Europe/Paris"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = stdout(&o);
    assert!(csv.contains("2025-12-26T14:30:15Z,logfile,legacy,error,log,ERROR legacy app failed"), "{csv}");
    // --tz also reads the window's bounds: 15:00–16:00 in Paris is 14:00–15:00 UTC.
    let o = run(&[
        "--log",
        odd.to_str().unwrap(),
        "--no-git",
        "--since",
        "2025-12-26 15:00",
        "--until",
        "2025-12-26 16:00",
        "--tz",
        "Europe/Paris",
        "--timestamp-format",
        "%b-%d-%y %H.%M.%S",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["window"]["since"], "2025-12-26T14:00:00Z");
    assert_eq!(v["events"][0]["time_basis"], "assumed_zone");
}

#[test]
fn postgres_that_is_down_is_a_partial_result() {
    let o = seed(&["--postgres", "postgres://app:s3cret@127.0.0.1:1/scheduling", "--timeout", "5"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3));
    assert!(out.contains("cannot connect to PostgreSQL at postgres://app:\\*\\*\\*@127.0.0.1:1/scheduling"), "{out}");
    assert!(!out.contains("s3cret"));
}

#[test]
fn a_saved_journal_export_in_a_bundle_is_read_with_line_evidence() {
    use reconstruct_journal::export::{write_entry, Entry};
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("journal")).unwrap();
    let mut stream = Vec::new();
    for (i, (prio, msg)) in [(6, "started"), (3, "out of memory\nkilled process 4711"), (6, "done")].iter().enumerate()
    {
        let f = |k: &str, v: String| (k.to_string(), v.into_bytes());
        let us = (1_766_759_415 + i as i64) * 1_000_000;
        let fields = vec![
            f("__REALTIME_TIMESTAMP", us.to_string()),
            f("_HOSTNAME", "node7".into()),
            f("SYSLOG_IDENTIFIER", "kernel".into()),
            f("PRIORITY", prio.to_string()),
            f("MESSAGE", msg.to_string()),
        ];
        write_entry(&mut stream, &Entry { line: 0, fields }).unwrap();
    }
    std::fs::write(d.path().join("journal/node7.export"), stream).unwrap();
    let o = run(&["--fixtures", d.path().to_str().unwrap(), "--since", SINCE, "--until", UNTIL]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The error entry starts on line 7 of the stream: the first entry is five fields and a blank line.
    assert!(out.contains("| out of memory **(incident starts)** | node7/kernel | `journal/node7.export:7` |"), "{out}");
    assert!(out.contains("journal journal/node7.export"), "coverage names the source: {out}");
}

/// An export piped to another program (`| jq`) is written through a pipe
/// widened to 1 MiB (or the most the system allows), not the 64 KiB a pipe
/// starts with: a gigabyte of JSON lines otherwise takes some 16,000 turns
/// between writer and reader. What comes through is the same.
#[cfg(target_os = "linux")]
#[test]
fn an_export_to_a_pipe_widens_the_pipe() {
    use std::io::Read;
    let (mut reader, writer) = std::io::pipe().unwrap();
    let before = rustix::pipe::fcntl_getpipe_size(&reader).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_reconstruct"))
        .args(["--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--all", "--format", "jsonl"])
        .current_dir(root())
        .stdout(writer)
        .spawn()
        .unwrap();
    let mut piped = Vec::new();
    reader.read_to_end(&mut piped).unwrap();
    assert!(child.wait().unwrap().success());
    let after = rustix::pipe::fcntl_getpipe_size(&reader).unwrap();
    let most: usize = std::fs::read_to_string("/proc/sys/fs/pipe-max-size").unwrap().trim().parse().unwrap();
    assert!(before < (1 << 20), "{before}");
    assert_eq!(after, most.min(1 << 20), "the pipe was {before} bytes and is {after}");
    assert_eq!(piped, seed(&["--all", "--format", "jsonl"]).stdout);
}

/// An export of many events goes through many chunks, buffers used again
/// and whole batches of a source: every line comes out once, in order, the
/// same as the document format lists them; with a second, short log, its
/// lines fall in their places.
#[test]
fn a_long_export_gives_every_event_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.log");
    let mut text = String::new();
    for i in 0..30_000u32 {
        let (m, s, ms) = (i / 60_000, (i / 1000) % 60, i % 1000);
        text.push_str(&format!("2025-12-26 14:{m:02}:{s:02},{ms:03} INFO  [api] request {i} served\n"));
    }
    std::fs::write(&long, text).unwrap();
    let short = dir.path().join("short.log");
    std::fs::write(&short, "2025-12-26 14:00:05,500 ERROR [db] down\n2025-12-26 14:00:20,250 WARNING [db] slow\n")
        .unwrap();
    let window = ["--no-git", "--since", SINCE, "--until", UNTIL, "--all"];
    for logs in [vec![&long], vec![&long, &short]] {
        let mut args: Vec<&str> = Vec::new();
        for l in &logs {
            args.extend(["--log", l.to_str().unwrap()]);
        }
        args.extend(window);
        let lines = |format: &str| {
            let mut a = args.clone();
            a.extend(["--format", format]);
            let o = run(&a);
            assert!(o.status.success(), "{}", stderr(&o));
            o
        };
        let jsonl = stdout(&lines("jsonl"));
        let exported: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let document: serde_json::Value = serde_json::from_str(&stdout(&lines("json"))).unwrap();
        let listed = document["events"].as_array().unwrap();
        assert_eq!(exported.len(), 30_000 + 2 * (logs.len() - 1));
        assert_eq!(&exported, listed);
        let longs: Vec<&str> =
            exported.iter().filter_map(|e| e["evidence"].as_str()).filter(|e| e.contains("long.log:")).collect();
        let expected: Vec<String> = (1..=30_000).map(|n| format!("{}:{n}", long.display())).collect();
        assert_eq!(longs, expected);
    }
}
