#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The round trip every registered kind of source must pass: read live,
//! captured into a bundle, replayed from it, and the same rows come back
//! (time, collector, component, text) with the same exit status. One
//! harness, `support::round_trip`; each kind's case feeds it what that kind reads.
//! Kinds that need a running service pass the same harness in the
//! real-service tests; the registry test below fails when a kind has no case.

mod support;

use support::round_trip;

/// Where each kind of the registry is shown to round-trip.
const CASES: [(&str, &str); 10] = [
    ("postgres", "round_trip::file_sources_come_back_the_same (a server log); live_sources (real services) for a live sample"),
    ("prometheus", "central_stores::a_mixed_run_merges_files_journal_loki_kubernetes_and_victoriametrics (real services), through the harness"),
    ("docker", "live_sources::capture_then_fixtures_gives_the_live_timeline (real services), through the harness"),
    ("logfile", "round_trip::file_sources_come_back_the_same"),
    ("journal", "live_sources::the_journal_live_and_captured_gives_the_same_timeline (real services), through the harness"),
    ("stores", "central_stores::every_store_round_trips: Loki and Elasticsearch through their replaying servers"),
    ("kubernetes", "central_stores::every_store_round_trips: a cluster through its replaying API server"),
    ("otel", "otel::a_zstd_copy_gives_the_same_rows_and_a_capture_keeps_them"),
    ("git", "round_trip::file_sources_come_back_the_same"),
    ("annotations", "round_trip::file_sources_come_back_the_same"),
];

#[test]
fn every_registered_kind_has_a_round_trip_case() {
    let names: Vec<&str> = reconstruct::registry::product().iter().map(|s| s.name()).collect();
    for n in &names {
        assert!(CASES.iter().any(|(c, _)| c == n), "kind {n} has no round-trip case: add one");
    }
    assert_eq!(names.len(), CASES.len(), "a case names a kind the registry no longer has");
}

#[test]
fn file_sources_come_back_the_same() {
    let d = tempfile::tempdir().unwrap();
    support::write(
        d.path(),
        "logs/api.log",
        b"2025-12-26 14:10:00 INFO started\n2025-12-26 14:20:00 ERROR payment failed user=7\n",
    );
    support::write(d.path(), "notes.txt", b"14:30:00 rollback decided | Human\n");
    let repo = git2::Repository::init(d.path().join("repo")).unwrap();
    let sig = git2::Signature::new("Dana", "dana@example.com", &git2::Time::new(1_766_758_500, 0)).unwrap();
    let tree = repo.treebuilder(None).unwrap().write().unwrap();
    let tree = repo.find_tree(tree).unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "fix: retry payments", &tree, &[]).unwrap();

    let logs = round_trip(d.path(), &["--log", "logs/api.log", "--no-git"]);
    assert_eq!(logs.len(), 2);
    let git = round_trip(d.path(), &["--git", "repo"]);
    assert_eq!(git.len(), 1, "{git:?}");
    assert!(git[0].3.contains("fix: retry payments"));
    let notes = round_trip(d.path(), &["--annotate", "notes.txt", "--no-git"]);
    assert_eq!(notes.len(), 1);
    support::write(
        d.path(),
        "pg/postgresql-16-main.log",
        b"2025-12-26 14:30:42.001 UTC [4711] FATAL:  remaining connection slots are reserved for non-replication superuser connections\n\
          2025-12-26 14:43:00.120 UTC [1] LOG:  database system is ready to accept connections\n",
    );
    let pg = round_trip(d.path(), &["--postgres-log", "pg/postgresql-16-main.log", "--no-git"]);
    assert_eq!(pg.len(), 2, "{pg:?}");
    assert!(pg.iter().all(|r| r.1 == "postgres"));
    let all = round_trip(d.path(), &["--log", "logs/api.log", "--git", "repo", "--annotate", "notes.txt"]);
    assert_eq!(all.len(), 4);
}

#[test]
fn an_export_larger_than_a_formatting_chunk_keeps_every_line_in_order() {
    // Formatted on another thread a few thousand rows at a time: every
    // row is written, once, in the timeline's order, in every line format.
    let d = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for i in 0..9_000u32 {
        log.push_str(&format!(
            "2025-12-26 14:{:02}:{:02},{:03} INFO [api] request {i} served\n",
            i / 600,
            (i / 10) % 60,
            (i % 10) * 100
        ));
    }
    support::write(d.path(), "app.log", log.as_bytes());
    let window = ["--log", "app.log", "--no-git", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];
    for (format, header) in [("jsonl", 0), ("csv", 1), ("timesketch", 0), ("timesketch-csv", 1)] {
        let mut args = window.to_vec();
        args.extend(["--all", "--format", format]);
        let o = support::run_in(d.path(), &args);
        assert!(o.status.success(), "{format}: {}", support::stderr_of(&o));
        let out = support::stdout_of(&o);
        let lines: Vec<&str> = out.lines().skip(header).collect();
        assert_eq!(lines.len(), 9_000, "{format}");
        for (i, l) in lines.iter().enumerate() {
            assert!(l.contains(&format!("request {i} served")), "{format}: line {i} is {l}");
        }
    }
}
