#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The findings of `report --format json`, checked against incidents whose
//! answers are known: the seed incident's clock, fix and monitoring gap; an
//! incident of our own with user ids and several endpoints, counted exactly;
//! an outage in a service whose log has a routine retry all day (the onset
//! is the real failure, not the first retry); and every evidence a finding
//! cites resolves to an event of `--all`.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use support::{root, run_in};

const SEED: [&str; 6] =
    ["--fixtures", "fixtures/inc-20251226-001", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:30:00Z"];

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let o = run_in(dir, args);
    assert!(o.status.code() == Some(0) || o.status.code() == Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn report(dir: &Path, sources: &[&str]) -> Value {
    let mut a = vec!["report", "--format", "json"];
    a.extend(sources);
    json_of(dir, &a)
}

fn hms(v: &Value) -> String {
    v["time"].as_str().unwrap().get(11..19).unwrap().to_string()
}

#[test]
fn the_seed_incident_clock_fix_and_gap() {
    let r = report(&root(), &SEED);
    let f = &r["findings"];
    let k = &f["clock"];
    assert_eq!(hms(&k["onset"]), "14:30:15");
    assert_eq!(k["onset"]["evidence"][0], "logs/backend.log:1234");
    assert_eq!(hms(&k["detection"]), "14:32:00");
    assert!(k["detection"]["summary"].as_str().unwrap().contains("HighErrorRate"), "{}", k["detection"]);
    assert_eq!(hms(&k["fix"]), "14:42:00");
    assert_eq!(k["fix"]["evidence"][0], "commit abc123f");
    assert_eq!(hms(&k["mitigation"]), "14:43:00");
    assert!(k["mitigation"]["rule"].as_str().unwrap().contains("restart"), "{}", k["mitigation"]);
    assert_eq!(hms(&k["recovery"]), "14:45:30");
    assert_eq!(k["time_to_detect_s"], 105);
    for m in ["onset", "detection", "fix", "mitigation", "recovery"] {
        assert!(k[m]["rule"].as_str().unwrap().starts_with(m), "{m} names its rule: {}", k[m]);
    }
    // The fix: the commit, typed DATABASE because it adds a migration, with its files.
    let change = &f["fix"]["changes"][0];
    assert_eq!(change["commit"], "abc123f");
    assert_eq!(change["type"], "DATABASE");
    let files: Vec<&str> = change["files"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    assert!(files.iter().any(|f| f.contains("alembic/versions")), "{files:?}");
    // The migration it applied, among the actions.
    let actions = f["fix"]["actions"].as_array().unwrap();
    assert!(
        actions.iter().any(|a| a["action"] == "migration" && a["evidence"] == "logs/backend.log:2006"),
        "{actions:?}"
    );
    // The failing operation, and the component that failed with no alert of its own.
    assert_eq!(f["impact"]["operations"][0]["operation"], "POST /api/v1/schedule/generate");
    let gaps: Vec<&str> =
        f["monitoring_gaps"].as_array().unwrap().iter().map(|g| g["component"].as_str().unwrap()).collect();
    assert_eq!(gaps, ["mcp-server"]);
    // Where it started: the backend first, then the MCP server; the slow queries from 14:24 came before.
    let spread: Vec<&str> = f["spread"].as_array().unwrap().iter().map(|s| s["service"].as_str().unwrap()).collect();
    assert_eq!(spread.first(), Some(&"backend"), "{spread:?}");
    assert_eq!(spread.get(1), Some(&"mcp-server"), "{spread:?}");
    assert_eq!(f["spread"][1]["lag_s"], 3);
    let precursors = f["precursors"].as_array().unwrap();
    assert!(
        precursors.iter().any(|p| p["evidence"] == "logs/backend.log:853" && hms(p) == "14:24:00"),
        "{precursors:?}"
    );
    // The summary draft names the symptom, the fix and the recovery, each with its evidence.
    let s = r["incident"]["summary"].as_str().unwrap();
    for want in [
        "POST /api/v1/schedule/generate",
        "logs/backend.log:1234",
        "commit abc123f",
        "14:45:30",
        "logs/backend.log:2160",
    ] {
        assert!(s.contains(want), "{want} in {s}");
    }
    assert_eq!(r["incident"]["severity"]["level"], "CRITICAL");
    // The markdown report says the same.
    let mut a = vec!["report"];
    a.extend(SEED);
    let md = String::from_utf8(run_in(&root(), &a).stdout).unwrap();
    assert!(md.contains("| Onset | 14:30:15 |") && md.contains("| Recovery | 14:45:30 |"), "{md}");
    assert!(md.contains("**Time to detect**: 105s"), "{md}");
    assert!(md.contains("**Monitoring gap**: mcp-server failed"), "{md}");
    assert!(md.contains("**Type**: DATABASE"), "{md}");
    // The HTML page draws the milestones on its picture.
    let mut a = vec!["report", "--format", "html"];
    a.extend(SEED);
    let page = String::from_utf8(run_in(&root(), &a).stdout).unwrap();
    for m in ["onset 14:30:15", "detection 14:32:00", "fix 14:42:00", "mitigation 14:43:00", "recovery 14:45:30"] {
        assert!(page.contains(&format!(">{m}</text>")), "{m} on the picture");
    }
}

/// The evidence of every finding, wherever it is in the document.
fn evidences(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("evidence", Value::String(s)) => out.push(s.clone()),
                    ("evidence", Value::Array(a)) => out.extend(a.iter().filter_map(|e| e.as_str().map(String::from))),
                    _ => evidences(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| evidences(x, out)),
        _ => {}
    }
}

#[test]
fn every_finding_cites_an_event_of_the_whole_timeline() {
    for (bundle, since, until) in [
        ("fixtures/inc-20251226-001", "2025-12-26T14:00:00Z", "2025-12-26T15:30:00Z"),
        ("fixtures/inc-20260114-002", "2026-01-14T09:00:00Z", "2026-01-14T10:30:00Z"),
        ("fixtures/inc-20260302-003", "2026-03-02T13:50:00Z", "2026-03-02T14:30:00Z"),
    ] {
        let window = ["--fixtures", bundle, "--since", since, "--until", until];
        let r = report(&root(), &window);
        let mut cited = Vec::new();
        evidences(&r["findings"], &mut cited);
        assert!(cited.len() > 3, "{bundle}: {cited:?}");
        // The findings read the lookback's changes and the baseline before
        // the window: their evidence is among the events of that reach.
        let reach = (chrono::DateTime::parse_from_rfc3339(since).unwrap() - chrono::Duration::hours(24)).to_rfc3339();
        let all =
            json_of(&root(), &["--all", "--format", "json", "--fixtures", bundle, "--since", &reach, "--until", until]);
        let known: BTreeSet<String> =
            all["events"].as_array().unwrap().iter().map(|e| e["evidence"].as_str().unwrap().to_string()).collect();
        for c in cited {
            assert!(known.contains(&c), "{bundle}: {c:?} is no event's evidence");
        }
    }
}

/// A shop's API log: steady traffic on four endpoints, then checkout fails
/// for some users; orders and the catalogue keep working.
fn shop(dir: &Path) {
    let mut log = String::new();
    let mut t = 0i64;
    let at = |s: i64| {
        let h = 14 + s / 3600;
        format!("2025-12-26T{h:02}:{:02}:{:02}Z", (s % 3600) / 60, s % 60)
    };
    // 14:00–14:10: all served.
    while t < 600 {
        log.push_str(&format!("{} INFO GET /api/catalog/{} 200 12ms\n", at(t), 100 + t));
        log.push_str(&format!("{} INFO POST /api/checkout 201 80ms user_id={}\n", at(t + 1), t % 7));
        t += 20;
    }
    // 14:10–14:20: checkout fails for users 1..=5 (each twice), orders still served.
    for i in 0..10i64 {
        let s = 600 + i * 60;
        log.push_str(&format!("{} ERROR POST /api/checkout 503 payment backend down user_id={}\n", at(s), 1 + i % 5));
        log.push_str(&format!("{} INFO GET /api/orders/{} 200 9ms\n", at(s + 5), 5000 + i));
        log.push_str(&format!(
            "{} ERROR POST /api/checkout/{}/retry 502 upstream closed user=dana@example.com\n",
            at(s + 10),
            9000 + i
        ));
        log.push_str(&format!("{} INFO POST /api/checkout 201 70ms user_id=42\n", at(s + 20)));
    }
    // 14:20: healthy again.
    log.push_str(&format!("{} INFO health check passed: payments ok\n", at(1205)));
    log.push_str(&format!("{} INFO POST /api/checkout 201 75ms user_id=3\n", at(1210)));
    support::write(dir, "logs/api.log", log.as_bytes());
}

#[test]
fn users_and_operations_are_counted_exactly() {
    let d = tempfile::tempdir().unwrap();
    shop(d.path());
    let r = report(
        d.path(),
        &["--log", "logs/api.log", "--no-git", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T14:30:00Z"],
    );
    let f = &r["findings"];
    assert_eq!(hms(&f["clock"]["onset"]), "14:10:00");
    assert_eq!(hms(&f["clock"]["recovery"]), "14:20:05");
    let ops: Vec<(String, u64, u64)> = f["impact"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["operation"].as_str().unwrap().to_string(),
                o["failed"].as_u64().unwrap(),
                o["succeeded"].as_u64().unwrap(),
            )
        })
        .collect();
    // Over 14:10:00–14:20:05: ten failed checkouts and ten served, ten failed retries, ten orders.
    assert!(ops.contains(&("POST /api/checkout".into(), 10, 10)), "{ops:?}");
    assert!(ops.contains(&("POST /api/checkout/{id}/retry".into(), 10, 0)), "{ops:?}");
    assert!(ops.contains(&("GET /api/orders/{id}".into(), 0, 10)), "{ops:?}");
    assert_eq!(f["impact"]["failed_requests"], 20);
    // Users 1 to 5 and one e-mail address: six, and never shown.
    assert_eq!(f["impact"]["users_affected"], 6);
    let text = serde_json::to_string(&r["findings"]).unwrap();
    assert!(!text.contains("dana@example.com"), "a user is counted, not printed");
}

#[test]
fn a_routine_retry_all_day_is_not_the_onset() {
    let d = tempfile::tempdir().unwrap();
    let mut log = String::new();
    // A retry every 30 s from 13:00, all through the window.
    for i in 0..180i64 {
        let s = i * 30;
        log.push_str(&format!(
            "2025-12-26T{:02}:{:02}:{:02}Z ERROR cache refresh failed, retrying in 30s (attempt {})\n",
            13 + s / 3600,
            (s % 3600) / 60,
            s % 60,
            i + 1
        ));
    }
    // The outage: 14:12 onwards.
    for i in 0..40i64 {
        let s = 12 * 60 + i * 3;
        log.push_str(&format!(
            "2025-12-26T14:{:02}:{:02}Z ERROR GET /api/items 500 database unreachable\n",
            s / 60,
            s % 60
        ));
    }
    log.push_str("2025-12-26T14:20:00Z INFO health check passed\n");
    let mut lines: Vec<&str> = log.lines().collect();
    lines.sort();
    support::write(d.path(), "logs/app.log", (lines.join("\n") + "\n").as_bytes());
    let r = report(
        d.path(),
        &["--log", "logs/app.log", "--no-git", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T14:30:00Z"],
    );
    let onset = &r["findings"]["clock"]["onset"];
    assert_eq!(hms(onset), "14:12:00", "{onset}");
    assert!(onset["rule"].as_str().unwrap().contains("background"), "{onset}");
    assert_eq!(hms(&r["findings"]["clock"]["recovery"]), "14:20:00");
}

#[test]
fn with_no_health_check_the_first_request_served_after_the_errors_is_the_recovery() {
    let d = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for i in 0..10 {
        log.push_str(&format!("2025-12-26T14:10:{:02}Z ERROR GET /api/items 500 db down\n", i * 3));
    }
    log.push_str("2025-12-26T14:12:00Z INFO GET /api/items 200 8ms\n");
    support::write(d.path(), "logs/app.log", log.as_bytes());
    let window =
        ["--log", "logs/app.log", "--no-git", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T14:30:00Z"];
    let r = report(d.path(), &window);
    let rec = &r["findings"]["clock"]["recovery"];
    assert_eq!(hms(rec), "14:12:00", "{rec}");
    assert_eq!(rec["evidence"][0], "logs/app.log:11");
    assert!(rec["rule"].as_str().unwrap().contains("request served"), "{rec}");
    assert!(r["findings"]["clock"]["detection"].is_null());
    assert!(r["findings"]["clock"]["notes"].to_string().contains("not detected by monitoring"));
}

#[test]
fn requests_served_beside_errors_up_to_the_end_are_no_recovery() {
    // Errors every 4 s and requests served between them, to the window's
    // end: nothing shows the errors stopped, so no recovery is claimed.
    let d = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for s in 0..600 {
        let t = format!("2025-12-26T14:{:02}:{:02}Z", 20 + s / 60, s % 60);
        if s % 4 == 0 {
            log.push_str(&format!("{t} ERROR POST /api/pay 500 card processor down\n"));
        } else {
            log.push_str(&format!("{t} INFO GET /api/items 200 8ms\n"));
        }
    }
    support::write(d.path(), "logs/app.log", log.as_bytes());
    let window =
        ["--log", "logs/app.log", "--no-git", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T14:30:00Z"];
    let r = report(d.path(), &window);
    let clock = &r["findings"]["clock"];
    assert!(clock["recovery"].is_null(), "{}", clock["recovery"]);
    assert!(clock["notes"].to_string().contains("no recovery in the window"), "{}", clock["notes"]);
    // The same errors stopping at 14:25, requests served for five minutes after: recovered.
    let stopped: String = log
        .lines()
        .filter(|l| !(l.contains("ERROR") && l.as_bytes().get(14..16).is_some_and(|m| m >= b"25".as_slice())))
        .map(|l| format!("{l}\n"))
        .collect();
    support::write(d.path(), "logs/app.log", stopped.as_bytes());
    let r = report(d.path(), &window);
    let rec = &r["findings"]["clock"]["recovery"];
    assert_eq!(hms(rec), "14:24:57", "{rec}");
    assert!(rec["rule"].as_str().unwrap().contains("request served"), "{rec}");
}

#[test]
fn a_warning_absent_from_the_baseline_that_began_just_before_the_onset_is_a_precursor() {
    // The window opens two minutes before the slow queries begin, three
    // before the onset: only the baseline hour shows they were not there.
    let d = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for s in (0..5400).step_by(5) {
        let t = format!("2025-12-26T{:02}:{:02}:{:02}Z", 13 + s / 3600, (s / 60) % 60, s % 60);
        log.push_str(&format!("{t} INFO [db] GET /api/items 200 8ms\n"));
        if s >= 3720 && s % 15 == 0 {
            log.push_str(&format!("{t} WARNING [db] slow query {}ms: SELECT 1\n", 1000 + s % 7));
        }
        if s >= 3900 {
            log.push_str(&format!("{t} ERROR [db] GET /api/items 500 timeout\n"));
        }
    }
    support::write(d.path(), "logs/app.log", log.as_bytes());
    let window =
        ["--log", "logs/app.log", "--no-git", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T14:30:00Z"];
    let r = report(d.path(), &window);
    let p = &r["findings"]["precursors"];
    assert_eq!(p.as_array().map(Vec::len), Some(1), "{p}");
    assert_eq!(hms(&p[0]), "14:02:00", "{p}");
    // Without the baseline, two minutes of window cannot show three of absence.
    let mut off = window.to_vec();
    off.extend(["--baseline", "off"]);
    let r = report(d.path(), &off);
    assert_eq!(r["findings"]["precursors"], serde_json::json!([]));
}

#[test]
fn a_service_that_comes_up_with_the_version_it_ran_before_was_rolled_back() {
    // No engine, no rollout: only the service's own startup lines say what was done.
    let d = tempfile::tempdir().unwrap();
    let mut log = String::from(
        "2025-12-26T13:00:00Z INFO starting payments version=1.3.9\n\
         2025-12-26T13:30:00Z INFO starting payments version=1.4.0\n",
    );
    for s in (0..840).step_by(7) {
        log.push_str(&format!("2025-12-26T14:{:02}:{:02}Z ERROR charge failed: conflict\n", 5 + s / 60, s % 60));
    }
    log.push_str("2025-12-26T14:20:00Z INFO starting payments version=1.3.9\n");
    log.push_str("2025-12-26T14:21:00Z INFO health check passed\n");
    support::write(d.path(), "logs/payments.log", log.as_bytes());
    let window = [
        "--log",
        "logs/payments.log",
        "--no-git",
        "--since",
        "2025-12-26T14:00:00Z",
        "--until",
        "2025-12-26T14:30:00Z",
    ];
    let r = report(d.path(), &window);
    let m = &r["findings"]["clock"]["mitigation"];
    assert_eq!(hms(m), "14:20:00", "{m}");
    assert!(m["rule"].as_str().unwrap().contains("rollback"), "{m}");
    assert_eq!(m["evidence"][0], "logs/payments.log:123", "{m}");
}

#[test]
fn the_seed_precursor_is_found_when_the_window_opens_after_it_began() {
    // The slow queries began at 14:24, a minute before this window: the
    // baseline holds their start, and the backend logging without them before.
    let r = report(
        &root(),
        &[
            "--fixtures",
            "fixtures/inc-20251226-001",
            "--since",
            "2025-12-26T14:25:00Z",
            "--until",
            "2025-12-26T15:30:00Z",
        ],
    );
    let p = &r["findings"]["precursors"];
    assert_eq!(p.as_array().map(Vec::len), Some(1), "{p}");
    assert_eq!(hms(&p[0]), "14:24:00", "{p}");
    assert!(p[0]["summary"].as_str().unwrap().contains("slow query"), "{p}");
}
