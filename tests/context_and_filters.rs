#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! What journalctl and lnav users reach for: `--grep`, `--component`,
//! `--level`, `--around`, and `reconstruct context LOCATOR`, which prints the
//! evidence around a row from a bundle or the live source.

use std::io::Write;
use std::path::Path;
use std::process::Output;

const SEED: &str = "fixtures/inc-20251226-001";
const SINCE: &str = "2025-12-26T14:00:00Z";
const UNTIL: &str = "2025-12-26T15:00:00Z";

mod support;
use support::{root, run_in, stdout_of as out};

fn run(args: &[&str]) -> Output {
    run_in(&root(), args)
}

fn seed_json(extra: &[&str]) -> serde_json::Value {
    let mut v = vec!["--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--format", "json"];
    v.extend_from_slice(extra);
    let o = run(&v);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn events(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["events"].as_array().unwrap().clone()
}

#[test]
fn grep_component_and_level_choose_the_events() {
    let v = seed_json(&["--grep", "deadlock"]);
    let ev = events(&v);
    assert!(!ev.is_empty());
    assert!(ev.iter().all(|e| {
        let text = format!("{} {}", e["event"], e["excerpt"]).to_lowercase();
        text.contains("deadlock")
    }));
    assert!(v["summary"]["filtered_out"].as_u64().unwrap() > 4000);
    assert!(ev.iter().all(|e| e.get("marker").is_none()), "a filtered view marks no onset");

    let v = seed_json(&["--component", "mcp-server", "--level", "err"]);
    let ev = events(&v);
    assert!(!ev.is_empty());
    assert!(ev.iter().all(|e| e["component"] == "mcp-server"));
    assert!(ev.iter().all(|e| e["severity"] == "error" || e["severity"] == "critical"), "{ev:#?}");

    // --grep finds a routine line too, with --all.
    let v = seed_json(&["--grep", "GET /api/v1/persons/165", "--all"]);
    assert!(events(&v).iter().any(|e| e["severity"] == "info"), "{v:#}");

    let o = run(&["--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--level", "loud"]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--grep", "("]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn around_makes_the_window_either_side_of_a_moment() {
    let o = run(&["--fixtures", SEED, "--around", "2025-12-26 14:31", "--span", "2m", "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["window"]["since"], "2025-12-26T14:29:00Z");
    assert_eq!(v["window"]["until"], "2025-12-26T14:33:00Z");
    let o = run(&["--fixtures", SEED, "--around", "2025-12-26 14:31", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["window"]["since"], "2025-12-26T14:16:00Z", "15 minutes either side by default");
    let o = run(&["--fixtures", SEED, "--around", "2025-12-26 14:31", "--since", "1h"]);
    assert_eq!(o.status.code(), Some(2), "--around and --since together are a usage error");
}

#[test]
fn context_prints_the_lines_around_a_file_row() {
    let o = run(&["context", "logs/backend.log:1234", "--fixtures", SEED, "-C", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[2].starts_with("> 1234 | 2025-12-26 14:30:15,123 ERROR"), "{text}");
    assert!(lines[0].starts_with("  1232 | "), "{text}");

    // Live, a compressed file, and a secret masked.
    let d = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"2025-12-26 14:30:00 INFO one\n2025-12-26 14:30:01 ERROR login failed password=hunter2secret\n2025-12-26 14:30:02 INFO three\n")
        .unwrap();
    std::fs::write(d.path().join("app.log.1.gz"), gz.finish().unwrap()).unwrap();
    let o = run_in(d.path(), &["context", "app.log.1.gz:2", "-C", "1"]);
    let text = out(&o);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("> 2 | 2025-12-26 14:30:01 ERROR login failed"), "{text}");
    assert!(!text.contains("hunter2secret"), "{text}");
    assert!(text.contains("  3 | 2025-12-26 14:30:02 INFO three"), "{text}");
    let o = run_in(d.path(), &["context", "app.log.1.gz:9"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn context_refuses_a_path_outside_the_bundle_and_unknown_locators() {
    let o = run(&["context", "../../Cargo.toml:1", "--fixtures", SEED]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).is_empty());
    let o = run(&["context", "ALERTS{alertname=\"HighErrorRate\"} firing", "--fixtures", SEED]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("run it as the table shows it"));
}

#[test]
fn context_shows_a_commit_from_the_bundle_and_from_the_repository() {
    let o = run(&["context", "commit abc123f", "--fixtures", SEED]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = out(&o);
    assert!(text.starts_with("commit abc123f"), "{text}");
    assert!(text.contains("fix: add missing indexes to assignments table"), "{text}");
    assert!(text.contains("backend/app/models/assignment.py"), "{text}");

    let d = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(d.path()).unwrap();
    std::fs::write(d.path().join("a.txt"), "one\ntwo\n").unwrap();
    let mut idx = repo.index().unwrap();
    idx.add_path(Path::new("a.txt")).unwrap();
    let tree = repo.find_tree(idx.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("Dana", "dana@example.org").unwrap();
    let id = repo.commit(Some("HEAD"), &sig, &sig, "feat: two lines", &tree, &[]).unwrap();
    let short = id.to_string()[..7].to_string();
    let o = run(&["context", &format!("commit {short}"), "--git", d.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = out(&o);
    assert!(text.contains(&format!("commit {id}")), "{text}");
    assert!(text.contains(" a.txt | +2 -0"), "{text}");
    assert!(text.contains("feat: two lines"), "{text}");
}

#[test]
fn context_shows_a_containers_saved_log_around_its_row() {
    let loc = "docker-compose logs mcp-server --since 2025-12-26T14:30:42Z --until 2025-12-26T14:30:43Z (mcp-server_1 2025-12-26T14:30:42.018000537Z)";
    let o = run(&["context", loc, "--fixtures", SEED, "--span", "3s"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = out(&o);
    let marked: Vec<&str> = text.lines().filter(|l| l.starts_with('>')).collect();
    assert_eq!(marked.len(), 1, "{text}");
    assert!(marked[0].contains("circuit open for backend"), "{text}");
    assert!(text.lines().all(|l| l.contains("mcp-server_1")), "only that container: {text}");
    let o = run(&[
        "context",
        "docker events --filter container=scheduling_backend_1 --since 2025-12-26T14:43:00Z --until 2025-12-26T14:43:01Z (kill)",
        "--fixtures",
        SEED,
        "--span",
        "5s",
    ]);
    let text = out(&o);
    for action in ["\"kill\"", "\"die\"", "\"start\""] {
        assert!(text.contains(action), "{action}: {text}");
    }
}
