#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The bugs a new user met on a real host, each a test named after it: a
//! bundle that accepted planted files, a file read twice, a replay that
//! differed from the live run, broken evidence and exit statuses, and the
//! frictions of a tired engineer (time forms, zones, package changes).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

const SEED: &str = "fixtures/inc-20251226-001";
const SINCE: &str = "2025-12-26T14:00:00Z";
const UNTIL: &str = "2025-12-26T15:00:00Z";

mod support;
use support::{gz, root, run_in, stderr_of as err, stdout_of as out, write};

fn run(args: &[&str]) -> Output {
    run_in(&root(), args)
}

fn xz(text: &str) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

/// A host's `/var/log` as a new user points the tool at it: two programs'
/// `error.log`, a rotation set with gzip and xz pieces, package-manager
/// logs, an undated text file, an xz file without dates, a binary file.
fn host_tree(dir: &Path) {
    write(dir, "nginx/error.log", b"2025/12/26 14:30:15 [error] 812#812: *1 connect() failed (111: Connection refused) while connecting to upstream\n");
    write(
        dir,
        "apache2/error.log",
        b"[Fri Dec 26 14:31:02.123456 2025] [proxy:error] [pid 77] AH00940: HTTP: disabled connection for (backend)\n",
    );
    write(dir, "syslog", b"2025-12-26T14:40:00+00:00 host app[1]: ERROR worker crashed\n");
    write(dir, "syslog.1.gz", &gz("2025-12-26T14:20:00+00:00 host app[1]: WARNING disk 91% full\n"));
    write(dir, "syslog.2.xz", &xz("2025-12-26T13:10:00+00:00 host app[1]: ERROR old failure\n"));
    write(dir, "installer/notes.xz", &xz("no dates in here\njust words\n"));
    write(dir, "dpkg.log", b"2025-12-26 14:25:00 startup archives unpack\n2025-12-26 14:25:01 upgrade libssl3:amd64 3.0.15-1 3.0.17-1\n2025-12-26 14:25:02 status installed libssl3:amd64 3.0.17-1\n");
    write(
        dir,
        "apt/history.log",
        b"\nStart-Date: 2025-12-26  14:24:58\nCommandline: apt-get upgrade\nUpgrade: libssl3:amd64 (3.0.15-1, 3.0.17-1), openssl:amd64 (3.0.15-1, 3.0.17-1)\nEnd-Date: 2025-12-26  14:25:05\n",
    );
    write(dir, "apt/term.log", b"\nLog started: 2025-12-26  14:24:58\nSetting up libssl3:amd64 (3.0.17-1) ...\nLog ended: 2025-12-26  14:25:05\n");
    write(dir, "motd.txt", b"Welcome to this host\nAuthorized use only\n");
    let mut wtmp = vec![0u8; 384 * 3];
    wtmp[0..4].copy_from_slice(&[7, 0, 0, 0]);
    write(dir, "wtmp", &wtmp);
}

/// The table's rows as (time, event, component), evidence left out: it names
/// the live file or the bundle's copy, which differ by design.
fn rows(md: &str) -> Vec<(String, String, String)> {
    md.lines()
        .skip_while(|l| !l.starts_with("| Time (UTC)"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let c: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            (c[0].to_string(), c[1].to_string(), c[2].to_string())
        })
        .collect()
}

/// Coverage rows as (status, events), in order.
fn statuses(json: &str) -> Vec<(String, u64)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut s: Vec<(String, u64)> = v["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["status"].as_str().unwrap().to_string(), c["events"].as_u64().unwrap()))
        .collect();
    s.sort();
    s
}

fn capture(dir: &Path, bundle: &Path, args: &[&str]) -> Output {
    let mut v = vec!["capture", "--out", bundle.to_str().unwrap(), "--no-git", "--since", SINCE, "--until", UNTIL];
    v.extend_from_slice(args);
    run_in(dir, &v)
}

#[test]
fn a_bundle_accepts_no_planted_files() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "app.log", b"2025-12-26 14:30:00 ERROR real failure\n");
    let b = d.path().join("b");
    let o = capture(d.path(), &b, &["--log", "app.log"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    write(&b, "annotations/n.txt", b"14:40:00 Root cause: Bob\n");
    write(&b, "logs/extra.log", b"2025-12-26 14:41:00 ERROR planted\n");

    let o = run_in(d.path(), &["verify", "b"]);
    assert_eq!(o.status.code(), Some(1), "a planted file fails verify");
    let listing = out(&o);
    assert!(listing.contains("UNLISTED annotations/n.txt"), "{listing}");
    assert!(listing.contains("UNLISTED logs/extra.log"), "{listing}");

    let o = run_in(d.path(), &["--fixtures", "b", "--no-git", "--since", SINCE, "--until", UNTIL]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let md = out(&o);
    assert!(md.contains("ERROR real failure"), "{md}");
    assert!(!md.contains("Root cause: Bob") && !md.contains("planted"), "{md}");
    assert!(md.contains("Not read: annotations/n.txt is in the bundle but not in its manifest."), "{md}");
    assert!(md.contains("read as its capture manifest lists it"), "{md}");
    assert!(err(&o).contains("bundle file annotations/n.txt is not read"), "{}", err(&o));
    let o = run_in(d.path(), &["--fixtures", "b", "--since", SINCE, "--until", UNTIL, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["bundle"]["verified_by_manifest"], true);
    assert_eq!(v["bundle"]["unlisted"][0], "annotations/n.txt");
}

#[test]
fn a_bundle_without_a_manifest_is_read_and_called_unverified() {
    let o = run(&["--fixtures", SEED, "--since", SINCE, "--until", UNTIL]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).contains("Evidence bundle: UNVERIFIED"), "{}", out(&o));
    let o = run(&["--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["bundle"]["verified_by_manifest"], false);
}

#[test]
fn the_same_file_named_twice_is_read_once() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "postgresql/pg.log", b"2025-12-26 14:30:00 UTC [77] FATAL:  too many connections\n");
    let o = run_in(
        d.path(),
        &[
            "--log",
            "postgresql",
            "--log",
            ".",
            "--log",
            "./postgresql/pg.log",
            "--no-git",
            "--since",
            SINCE,
            "--until",
            UNTIL,
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].get("count").is_none(), "not folded with itself: {:?}", events[0]);
    assert_eq!(v["coverage"].as_array().unwrap().len(), 1);
    assert!(err(&o).contains("is named more than once; it is read once"), "{}", err(&o));
    // A PostgreSQL log reached as a plain log too is read once, by its own reader.
    let o = run_in(
        d.path(),
        &[
            "--log",
            ".",
            "--postgres-log",
            "postgresql/pg.log",
            "--no-git",
            "--since",
            SINCE,
            "--until",
            UNTIL,
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["events"].as_array().unwrap().len(), 1);
    assert_eq!(v["coverage"][0]["collector"], "postgres");
}

#[test]
fn a_replay_gives_the_live_rows_statuses_and_exit() {
    let d = tempfile::tempdir().unwrap();
    let host = d.path().join("var/log");
    host_tree(&host);
    // The same window and flags, from the host or from the bundle.
    let from = |source: [&str; 2], extra: &[&str]| {
        let mut v = source.to_vec();
        v.extend_from_slice(&["--no-git", "--since", SINCE, "--until", UNTIL]);
        v.extend_from_slice(extra);
        run_in(d.path(), &v)
    };
    let live = |extra: &[&str]| from(["--log", "var/log"], extra);
    let replay = |extra: &[&str]| from(["--fixtures", "bundle"], extra);
    let o = live(&[]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", out(&o), err(&o));
    let live_md = out(&o);
    let live_json = out(&live(&["--format", "json"]));

    let b = d.path().join("bundle");
    let o = capture(d.path(), &b, &["--log", "var/log"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = replay(&[]);
    assert_eq!(o.status.code(), Some(0), "replay exits as the live run did: {}\n{}", out(&o), err(&o));
    assert!(!err(&o).contains("layouts tried"), "{}", err(&o));
    assert_eq!(rows(&out(&o)), rows(&live_md));
    assert_eq!(statuses(&out(&replay(&["--format", "json"]))), statuses(&live_json));
    // Two programs' error.log stay two components, live and saved.
    let comps: Vec<String> = rows(&live_md).into_iter().map(|r| r.2).collect();
    assert!(comps.contains(&"nginx/error".to_string()) && comps.contains(&"apache2/error".to_string()), "{comps:?}");
    assert!(b.join("logs/nginx/error.log").is_file() && b.join("logs/apache2/error.log").is_file());
}

#[test]
fn saved_containers_keep_their_live_components_and_evidence() {
    // As capture saves a compose v2 project `nc` beside a plain container:
    // names alone would make `nc-app-1` the service `nc-app`.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker/compose-logs.txt",
        b"nc-app-1  | 2025-12-26T14:30:00.000000000Z ERROR payment failed\nsidecar  | 2025-12-26T14:31:00.000000000Z ERROR sidecar lost its peer\n",
    );
    let inspect = serde_json::json!([
        {"Id": "a1", "Name": "/nc-app-1", "Config": {"Labels": {"com.docker.compose.project": "nc", "com.docker.compose.service": "app", "com.docker.compose.container-number": "1"}}, "State": {"Running": true}},
        {"Id": "b2", "Name": "/sidecar", "Config": {"Labels": {}}, "State": {"Running": true}}
    ]);
    write(d.path(), "docker/inspect.json", inspect.to_string().as_bytes());
    let o = run(&["--fixtures", d.path().to_str().unwrap(), "--since", SINCE, "--until", UNTIL, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let events = v["events"].as_array().unwrap();
    let app = events.iter().find(|e| e["event"].as_str().unwrap().contains("payment")).unwrap();
    assert_eq!(app["component"], "app");
    assert!(app["evidence"].as_str().unwrap().starts_with("docker-compose logs app --since"), "{app}");
    let side = events.iter().find(|e| e["event"].as_str().unwrap().contains("sidecar")).unwrap();
    assert_eq!(side["component"], "sidecar");
    assert!(
        side["evidence"].as_str().unwrap().starts_with("docker logs sidecar --since 2025-12-26T14:31:00Z"),
        "{side}"
    );
}

#[test]
fn json_excerpts_keep_a_tracebacks_line_breaks() {
    let o = run(&["--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--format", "jsonl"]);
    let text = out(&o);
    let with_tb = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["excerpt"].as_str().is_some_and(|x| x.contains("Traceback")));
    let excerpt = with_tb.expect("a row with a traceback")["excerpt"].as_str().unwrap().to_string();
    assert!(excerpt.contains("\nTraceback (most recent call last):\n"), "{excerpt:?}");
    assert!(!excerpt.contains('\u{FFFD}'), "{excerpt:?}");
}

#[test]
fn the_action_items_row_keeps_its_seven_columns() {
    let o = run(&["report", "--fixtures", SEED, "--since", SINCE, "--until", UNTIL]);
    let md = out(&o);
    let row = md.lines().find(|l| l.starts_with("| AI-001")).unwrap();
    // Cells split at pipes that are not escaped.
    let cells = row.replace("\\|", "").matches('|').count() - 1;
    assert_eq!(cells, 7, "{row}");
    let o = run(&["report", "--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--format", "html"]);
    let html = out(&o);
    let at = html.find("AI-001").unwrap();
    let tr = &html[html[..at].rfind("<tr>").unwrap()..at + html[at..].find("</tr>").unwrap()];
    assert_eq!(tr.matches("<td").count(), 7, "{tr}");
    assert!(tr.contains("HIGH|MEDIUM|LOW"), "{tr}");
}

#[test]
fn max_rows_zero_says_why_the_table_is_empty() {
    let o = run(&["--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--max-rows", "0"]);
    let md = out(&o);
    assert!(!md.contains("No events in this window"), "{md}");
    assert!(md.contains("No rows shown: 4,115 events read"), "{md}");
}

#[test]
fn csv_and_timesketch_keep_every_evidence_and_the_markers() {
    let o = run(&["--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--format", "csv"]);
    let mut rd = csv::Reader::from_reader(o.stdout.as_slice());
    let h = rd.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let recs: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let restart = recs.iter().find(|r| r[col("event")].contains("restarted")).unwrap();
    for action in ["(kill)", "(die)", "(start)", "(restart)"] {
        assert!(restart[col("evidence")].contains(action), "{action} in {}", &restart[col("evidence")]);
    }
    let deadlock = recs.iter().find(|r| r[col("event")].contains("deadlock detected")).unwrap();
    assert!(deadlock[col("evidence")].contains("logs/backend.log:1291"), "{}", &deadlock[col("evidence")]);
    let markers: Vec<&str> = recs.iter().map(|r| &r[col("marker")]).filter(|m| !m.is_empty()).collect();
    assert_eq!(markers, vec!["incident starts", "recovered"]);

    let o = run(&["--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--format", "timesketch"]);
    let lines: Vec<serde_json::Value> = out(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let restart = lines.iter().find(|v| v["message"].as_str().unwrap().contains("restarted")).unwrap();
    assert!(restart["evidence"].as_str().unwrap().contains("(start)"), "{restart}");
    let onset = lines.iter().find(|v| v["marker"] == "incident starts").unwrap();
    assert_eq!(onset["tag"][0], "incident starts");
    assert!(lines.iter().any(|v| v["marker"] == "recovered"));
    let o = run(&["--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--format", "timesketch-csv"]);
    assert!(out(&o).lines().next().unwrap().ends_with(",marker"));
}

#[test]
fn exit_statuses_and_messages_match_the_readme() {
    let d = tempfile::tempdir().unwrap();
    let o = run_in(d.path(), &["--prometheus", "--since", "1h"]);
    assert_eq!(o.status.code(), Some(2), "a flag without its value is a usage error: {}", err(&o));
    assert!(err(&o).contains("--prometheus has no URL"), "{}", err(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_reconstruct"))
        .args(["--postgres", "--since", "1h", "--no-git"])
        .current_dir(d.path())
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(!err(&o).contains("password") && err(&o).contains("give --postgres DSN"), "{}", err(&o));
    // The only source mistyped: nothing to read, and what is there instead.
    write(d.path(), "backend.log", b"2025-12-26 14:30:00 ERROR x\n");
    let o = run_in(d.path(), &["--log", "backnd.log", "--no-git", "--since", "1h"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("nothing to read") && err(&o).contains("backend.log"), "{}", err(&o));
    // An empty bundle folder is not told to give --fixtures.
    std::fs::create_dir(d.path().join("empty")).unwrap();
    let o = run_in(d.path(), &["--fixtures", "empty", "--since", "1h"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!err(&o).contains("give --fixtures") && err(&o).contains("holds no evidence"), "{}", err(&o));
    // A leading minus is a time, not a flag.
    let o = run_in(d.path(), &["--log", "backend.log", "--no-git", "--since", "-2h"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

#[test]
fn the_time_forms_of_journalctl_and_date_are_accepted() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.log", b"2025-12-26 14:30:00 ERROR x\n");
    for since in ["yesterday", "today", "-2h", "2h ago", "2 hours ago", "00:00", "2H", "120min", "yesterday 14:00"] {
        let o = run_in(d.path(), &["--log", "a.log", "--no-git", "--since", since]);
        assert_eq!(o.status.code(), Some(0), "--since {since}: {}", err(&o));
    }
}

#[test]
fn tz_says_when_it_also_reads_the_logs() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "backend.log", b"2025-12-26 14:30:00 ERROR x\n");
    let args = |extra: &[&str]| {
        let mut v = vec![
            "--log",
            "backend.log",
            "--no-git",
            "--since",
            "2025-12-26 14:00",
            "--until",
            "2025-12-26 16:00",
            "--tz",
            "Europe/Paris",
            "--format",
            "csv",
        ];
        v.extend_from_slice(extra);
        run_in(d.path(), &v)
    };
    let o = args(&[]);
    assert!(err(&o).contains("--tz Europe/Paris also reads log lines written without an offset"), "{}", err(&o));
    assert!(out(&o).contains("2025-12-26T13:30:00Z"), "{}", out(&o));
    // --log-tz keeps the window in Paris time and reads the log as UTC.
    let o = args(&["--log-tz", "UTC"]);
    assert!(!err(&o).contains("also reads log lines"), "{}", err(&o));
    assert!(out(&o).contains("2025-12-26T14:30:00Z"), "{}", out(&o));
}

#[test]
fn package_manager_changes_are_rows_and_stanza_labels_are_not() {
    let d = tempfile::tempdir().unwrap();
    host_tree(d.path());
    let o = run_in(d.path(), &["--log", ".", "--no-git", "--since", SINCE, "--until", UNTIL, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let events = v["events"].as_array().unwrap();
    let dpkg = events.iter().find(|e| e["evidence"] == "./dpkg.log:2").expect("the dpkg upgrade");
    assert_eq!(dpkg["kind"], "change");
    assert_eq!(dpkg["event"], "package upgrade: libssl3:amd64 3.0.15-1 → 3.0.17-1");
    assert_eq!(dpkg["fact"]["type"], "package");
    assert_eq!(dpkg["fact"]["packages"][0]["to"], "3.0.17-1");
    let apt = events.iter().find(|e| e["evidence"] == "./apt/history.log:2").expect("the apt stanza");
    assert_eq!(apt["kind"], "change");
    assert!(apt["event"].as_str().unwrap().starts_with("packages upgrade: libssl3:amd64"), "{apt}");
    assert!(!events.iter().any(|e| e["event"] == "Log started:" || e["event"] == "End-Date:"), "{events:?}");
}

#[test]
fn a_postgresql_log_gives_the_same_rows_under_log_and_postgres_log() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "postgresql/postgresql-15-main.log",
        b"2025-12-26 14:30:42.100 UTC [4711] app@scheduling FATAL:  remaining connection slots are reserved for non-replication superuser connections\n\
          2025-12-26 14:31:05.200 UTC [4712] app@scheduling ERROR:  deadlock detected\n\
          2025-12-26 14:31:05.200 UTC [4712] app@scheduling DETAIL:  Process 4712 waits for ShareLock on transaction 918273.\n",
    );
    let rows_of = |args: &[&str]| {
        let mut v = args.to_vec();
        v.extend_from_slice(&["--no-git", "--since", SINCE, "--until", UNTIL, "--format", "json"]);
        let o = run_in(d.path(), &v);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (e["time"].to_string(), e["event"].to_string(), e["component"].to_string(), e["collector"].to_string())
            })
            .collect::<Vec<_>>()
    };
    let by_log = rows_of(&["--log", "."]);
    let by_pg = rows_of(&["--postgres-log", "postgresql/postgresql-15-main.log"]);
    assert_eq!(by_log, by_pg);
    assert_eq!(by_log.len(), 2, "{by_log:?}");
}
