#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The Phase 2 table a reviewer would write: at every budget from ten rows
//! up, the rows that tell each scenario's story are there, a restart is one
//! row, a failure that recurs minutes later is its own row, and the machine
//! formats say why each row was kept.

use std::path::PathBuf;
use std::process::Command;

fn run(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_reconstruct"))
        .args(args)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn rows(md: &str) -> Vec<(String, String)> {
    md.lines()
        .skip_while(|l| !l.starts_with("| Time (UTC)"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let c: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            (c[0].to_string(), c[1].to_string())
        })
        .collect()
}

const BUDGETS: [&str; 4] = ["10", "15", "20", "40"];

/// Each budget's table holds a row at each time whose text has the needle.
fn holds(bundle: &str, since: &str, until: &str, wanted: &[(&str, &str)]) -> Vec<Vec<(String, String)>> {
    BUDGETS
        .iter()
        .map(|b| {
            let table = rows(&run(&["--fixtures", bundle, "--since", since, "--until", until, "--max-rows", b]));
            assert!(table.len() <= b.parse().unwrap());
            for (time, needle) in wanted {
                assert!(
                    table.iter().any(|(t, e)| t == time && e.contains(needle)),
                    "budget {b}: no {time} row with {needle:?} in\n{table:#?}"
                );
            }
            table
        })
        .collect()
}

#[test]
fn the_seed_incident_keeps_the_workflows_rows_at_every_budget() {
    let tables = holds(
        "fixtures/inc-20251226-001",
        "2025-12-26T14:00:00Z",
        "2025-12-26T15:00:00Z",
        &[
            ("14:30:15", "500 Internal Server Error"),
            ("14:30:42", "MCP tool timeout"),
            ("14:31:05", "deadlock detected"),
            ("14:32:00", "alert HighErrorRate firing"),
            ("14:42:00", "Commit abc123f: fix"),
            ("14:45:30", "health check healthy"),
        ],
    );
    for t in &tables {
        let restarts: Vec<_> = t.iter().filter(|(_, e)| e.contains("scheduling_backend_1 restarted")).collect();
        assert_eq!(restarts.len(), 1, "the 14:43 restart is one row: {restarts:?}");
        assert_eq!(restarts[0].0, "14:43:00");
        assert_eq!(t.iter().filter(|(time, _)| time == "14:31:05").count(), 1, "one deadlock row");
        // The rows that open and close the incident are marked.
        assert!(t.iter().any(|(time, e)| time == "14:30:15" && e.ends_with("**(incident starts)**")));
        assert!(t.iter().any(|(time, e)| time == "14:45:30" && e.ends_with("**(recovered)**")));
    }
    // A routine commit is the first thing a tight budget lets go.
    assert!(!tables[0].iter().any(|(_, e)| e.contains("chore:")));
}

#[test]
fn a_deploy_two_oom_kills_and_a_rollback_keep_their_own_rows() {
    let tables = holds(
        "fixtures/inc-20260114-002",
        "2026-01-14T09:00:00Z",
        "2026-01-14T10:30:00Z",
        &[
            ("09:20:00", "Commit 1a2b3c4: feat: cache generated schedules in memory"),
            ("09:25:00", "container shop_api_1 restarted: killed by signal 15"),
            ("09:51:10", "MemoryError"),
            ("09:51:40", "container shop_api_1 restarted: OOM-killed, died (exit code 137)"),
            ("09:53:00", "alert HighMemoryUsage firing"),
            ("10:03:40", "container shop_api_1 restarted: OOM-killed, died (exit code 137)"),
            ("10:10:00", "Commit 5d6e7f8: revert"),
            ("10:12:00", "container shop_api_1 restarted: killed by signal 15"),
            ("10:14:00", "health check healthy **(recovered)**"),
        ],
    );
    for t in &tables {
        // Recurrences are news: never folded into the first.
        assert!(!t.iter().any(|(_, e)| e.contains("shop_api_1") && e.contains("(×")), "{t:#?}");
        assert_eq!(t.iter().filter(|(_, e)| e.contains("shop_api_1 restarted")).count(), 4);
    }
    // The report agrees with the markers.
    let doc = run(&[
        "report",
        "--fixtures",
        "fixtures/inc-20260114-002",
        "--since",
        "2026-01-14T09:00:00Z",
        "--until",
        "2026-01-14T10:30:00Z",
    ]);
    assert!(doc.contains("**Date/Time**: 2026-01-14 09:51:10 UTC"), "{doc}");
    assert!(doc.contains("**Duration**: 23 minutes (09:51:10 first error → 10:14:00 health checks green)"), "{doc}");
    assert!(doc.contains("**Reported By**: Automated monitoring (Prometheus alert HighMemoryUsage at 09:53:00)"));
}

#[test]
fn json_says_why_each_row_is_there_and_keeps_every_event() {
    let out = run(&[
        "--fixtures",
        "fixtures/inc-20251226-001",
        "--since",
        "2025-12-26T14:00:00Z",
        "--until",
        "2025-12-26T15:00:00Z",
        "--format",
        "json",
        "--max-rows",
        "10",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let events = v["events"].as_array().unwrap();
    assert!(events.iter().all(|e| e["reason"].is_string()), "every row has a reason");
    let reason = |t: &str, needle: &str| {
        events
            .iter()
            .find(|e| e["time"].as_str().unwrap().starts_with(t) && e["event"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("{t} {needle}"))
    };
    assert_eq!(reason("2025-12-26T14:30:15", "500")["reason"], "onset");
    assert_eq!(reason("2025-12-26T14:30:15", "500")["marker"], "onset");
    assert_eq!(reason("2025-12-26T14:32:00", "HighErrorRate")["reason"], "detection");
    assert_eq!(reason("2025-12-26T14:42:00", "abc123f")["reason"], "fix");
    assert_eq!(reason("2025-12-26T14:45:30", "healthy")["marker"], "recovery");
    // The facts behind the rows, as data.
    let fired = reason("2025-12-26T14:32:00", "HighErrorRate");
    assert_eq!(fired["fact"]["type"], "alert");
    assert_eq!(fired["fact"]["state"], "firing");
    assert_eq!(fired["fact"]["name"], "HighErrorRate");
    assert_eq!(reason("2025-12-26T14:42:00", "abc123f")["fact"]["hash"], "abc123f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0");
    assert_eq!(reason("2025-12-26T14:43:00", "restarted")["fact"]["action"], "kill");
    let deadlock = reason("2025-12-26T14:31:05", "deadlock");
    assert_eq!(deadlock["reason"], "corroborated");
    assert_eq!(deadlock["also"][0]["evidence"], "logs/backend.log:1291");
    assert_eq!(deadlock["also"][0]["collector"], "logfile");
    let restart = reason("2025-12-26T14:43:00", "restarted");
    let also: Vec<&str> = restart["also"].as_array().unwrap().iter().map(|a| a["evidence"].as_str().unwrap()).collect();
    assert_eq!(also.len(), 3, "{also:?}");
    // Under a tight budget the alert's pending row joins its firing row.
    let fired = reason("2025-12-26T14:32:00", "HighErrorRate");
    assert_eq!(
        fired["also"][0]["evidence"],
        "ALERTS{alertname=\"HighErrorRate\",service=\"backend\",severity=\"critical\"} pending"
    );
    // The line under the table still counts what was left out.
    assert!(v["summary"]["over_budget_rows"].as_u64().unwrap() > 0);
}
