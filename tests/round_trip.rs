#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The round trip every registered kind of source must pass: read live,
//! captured into a bundle, replayed from it, and the same rows come back
//! (time, collector, component, text) with the same exit status. One
//! harness, [`round_trip`]; each kind's case feeds it what that kind reads.
//! Kinds that need a running service pass the same harness in the
//! real-service tests; the registry test below fails when a kind has no case.

mod support;

use std::path::Path;

use serde_json::Value;
use support::run_in;

const WINDOW: [&str; 4] = ["--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];

/// Where each kind of the registry is shown to round-trip.
const CASES: [(&str, &str); 9] = [
    ("postgres", "tests/live_sources.rs (real services): capture and replay of a live sample"),
    ("prometheus", "tests/live_sources.rs (real services): capture and replay of alert history"),
    ("docker", "tests/live_sources.rs (real services): a compose and a plain container, live against replay"),
    ("logfile", "round_trip::files_git_and_annotations_come_back_the_same"),
    ("journal", "tests/live_sources.rs (real services): a journal live and captured gives the same timeline"),
    ("stores", "tests/central_stores.rs: Loki and Elasticsearch through their replaying servers"),
    ("kubernetes", "tests/central_stores.rs: a cluster through its replaying API server"),
    ("git", "round_trip::files_git_and_annotations_come_back_the_same"),
    ("annotations", "round_trip::files_git_and_annotations_come_back_the_same"),
];

#[test]
fn every_registered_kind_has_a_round_trip_case() {
    let names: Vec<&str> = reconstruct::registry::product().iter().map(|s| s.name()).collect();
    for n in &names {
        assert!(CASES.iter().any(|(c, _)| c == n), "kind {n} has no round-trip case: add one");
    }
    assert_eq!(names.len(), CASES.len(), "a case names a kind the registry no longer has");
}

/// Rows of a `--format json --all` run: time, collector, component, text.
fn rows(o: &std::process::Output) -> Vec<(String, String, String, String)> {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let field = |e: &Value, k: &str| e[k].as_str().unwrap_or_default().to_string();
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (field(e, "time"), field(e, "collector"), field(e, "component"), field(e, "event")))
        .collect()
}

/// Runs `sources` live in `dir`, captures them, replays the bundle, and
/// checks the rows and the exit status agree. Returns the live rows.
pub fn round_trip(dir: &Path, sources: &[&str]) -> Vec<(String, String, String, String)> {
    let mut live = vec!["--format", "json", "--all"];
    live.extend(sources);
    live.extend(WINDOW);
    let l = run_in(dir, &live);
    let bundle = dir.join("round-trip-bundle");
    let b = bundle.to_str().unwrap();
    let mut cap = vec!["capture", "--out", b];
    cap.extend(sources);
    cap.extend(WINDOW);
    let c = run_in(dir, &cap);
    assert_eq!(c.status.code(), l.status.code(), "capture: {}", String::from_utf8_lossy(&c.stderr));
    let mut back = vec!["--fixtures", b, "--format", "json", "--all"];
    back.extend(WINDOW);
    let r = run_in(dir, &back);
    assert_eq!(r.status.code(), l.status.code(), "replay: {}", String::from_utf8_lossy(&r.stderr));
    let got = rows(&l);
    assert_eq!(rows(&r), got, "the replay gives the live rows");
    std::fs::remove_dir_all(&bundle).unwrap();
    got
}

#[test]
fn files_git_and_annotations_come_back_the_same() {
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
    let all = round_trip(d.path(), &["--log", "logs/api.log", "--git", "repo", "--annotate", "notes.txt"]);
    assert_eq!(all.len(), 4);
}
