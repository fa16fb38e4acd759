#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Phase 4's findings in `report --format json`, checked against incidents
//! whose answers are known: the seed incident's suspect (a commit deployed
//! twenty minutes before the onset, outside the window); a scenario of five
//! changes where the culprit must rank first; a cascade with no code change
//! where the database fails first and goes quiet; the baseline's new and
//! recurring messages; and a capture that keeps the lookback's changes.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{root, run_in};

fn report(dir: &Path, args: &[&str]) -> Value {
    let mut a = vec!["report", "--format", "json"];
    a.extend(args);
    let o = run_in(dir, &a);
    assert!(o.status.code() == Some(0) || o.status.code() == Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

const SEED: [&str; 6] =
    ["--fixtures", "fixtures/inc-20251226-001", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:30:00Z"];
const SHOP: [&str; 6] =
    ["--fixtures", "fixtures/inc-20260410-004", "--since", "2026-04-10T09:50:00Z", "--until", "2026-04-10T10:30:00Z"];
const CASCADE: [&str; 6] =
    ["--fixtures", "fixtures/inc-20260420-005", "--since", "2026-04-20T03:00:00Z", "--until", "2026-04-20T03:40:00Z"];

#[test]
fn the_seed_incidents_suspect_is_the_commit_its_startup_line_deployed() {
    let r = report(&root(), &SEED);
    let f = &r["findings"];
    let top = &f["suspects"][0];
    assert_eq!(top["commit"], "5f0e2d7", "{top:#}");
    assert_eq!(top["rank"], 1);
    assert_eq!(top["kind"], "commit");
    assert_eq!(top["time"], "2025-12-26T13:52:44Z", "before --since, read from the lookback");
    assert_eq!(top["deployed"]["time"], "2025-12-26T14:10:00Z");
    assert_eq!(top["deployed"]["service"], "backend");
    assert_eq!(top["deployed"]["how"], "version 2.14.0");
    assert_eq!(top["deployed"]["evidence"], "logs/backend.log:1");
    let reasons = strs(&top["reasons"]);
    assert!(reasons.iter().any(|r| r.contains("deployed before the onset")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("backend is the first service to fail")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("20m15s before the onset")), "{reasons:?}");
    // The fix commits landed after the onset: never suspects.
    let commits: Vec<String> =
        f["suspects"].as_array().unwrap().iter().filter_map(|s| s["commit"].as_str().map(String::from)).collect();
    for after in ["abc123f", "def456a", "7c1e9a0"] {
        assert!(!commits.iter().any(|c| c == after), "{after} came after the onset: {commits:?}");
    }
    assert_eq!(f["spread"][0]["service"], "backend");
    assert_eq!(f["precursors"][0]["evidence"], "logs/backend.log:853");
    // The table marks it, though it lies before the window.
    let mut a = vec!["report"];
    a.extend(SEED);
    let md = String::from_utf8(run_in(&root(), &a).stdout).unwrap();
    assert!(
        md.contains("| 13:52:44 | Commit 5f0e2d7: feat: batch load assignments for schedule generation (Sam Reyes) \\[tag v2.14.0\\] **(suspect)** |"),
        "{md}"
    );
    assert!(md.contains("### What Changed Before It Broke"), "{md}");
}

#[test]
fn the_culprit_ranks_first_among_five_changes_and_the_spread_is_exact() {
    let r = report(&root(), &SHOP);
    let f = &r["findings"];
    let suspects = f["suspects"].as_array().unwrap();
    let rank_of = |commit: &str| {
        suspects.iter().find(|s| s["commit"] == commit).map(|s| s["rank"].as_u64().unwrap()).unwrap_or(u64::MAX)
    };
    assert_eq!(suspects[0]["commit"], "a1b2c3d", "{suspects:#?}");
    assert_eq!(suspects[0]["deployed"]["service"], "payments");
    assert_eq!(suspects[0]["deployed"]["time"], "2026-04-10T09:20:00Z", "the engine's create of the new image");
    let ev = strs(&suspects[0]["evidence"]);
    assert!(ev.iter().any(|e| e.starts_with("docker events --filter container=shop-payments-1")), "{ev:?}");
    assert!(ev.iter().any(|e| e.starts_with("logs/payments.log:")), "its startup line is the same deploy: {ev:?}");
    let reasons = strs(&suspects[0]["reasons"]);
    assert!(reasons.iter().any(|r| r.contains("tokenizer.py is named in the incident's errors")), "{reasons:?}");
    // Merged, never deployed, closer to the onset: below the culprit, and said so.
    let merged = suspects.iter().find(|s| s["commit"] == "9c8b7a6").unwrap();
    assert!(merged["deployed"].is_null());
    assert!(strs(&merged["reasons"]).iter().any(|r| r.contains("merged, no deploy seen")));
    assert!(rank_of("9c8b7a6") > 1);
    // The healthy catalog's deploy, the api's plain restart and the docs commit rank below.
    let catalog = suspects.iter().find(|s| s["component"] == "catalog" || s["deployed"]["service"] == "catalog");
    assert!(catalog.is_some_and(|c| c["rank"].as_u64().unwrap() > 1), "{suspects:#?}");
    assert!(strs(&catalog.unwrap()["reasons"]).iter().any(|r| r.contains("catalog logged no error")));
    let docs = rank_of("d0c1b2a");
    assert!(docs > rank_of("9c8b7a6"), "a docs commit ranks lower");
    assert!(strs(&suspects.iter().find(|s| s["commit"] == "d0c1b2a").unwrap()["reasons"])
        .iter()
        .any(|r| r.contains("a routine change (docs:)")));
    // The spread, exactly.
    let order: Vec<(&str, Option<i64>)> =
        f["spread"].as_array().unwrap().iter().map(|s| (s["service"].as_str().unwrap(), s["lag_s"].as_i64())).collect();
    assert_eq!(order, [("payments", None), ("api", Some(3)), ("gateway", Some(2))]);
    // New against the baseline, and what recurs every day.
    let new: Vec<String> =
        f["new_messages"].as_array().unwrap().iter().map(|m| m["template"].as_str().unwrap().to_string()).collect();
    assert_eq!(new.len(), 3, "{new:?}");
    assert!(new.iter().any(|t| t.contains("card tokenization failed")), "{new:?}");
    assert!(new.iter().any(|t| t.contains("POST /api/checkout")), "{new:?}");
    assert!(new.iter().any(|t| t.contains("upstream api returned")), "{new:?}");
    assert!(!new.iter().any(|t| t.contains("retrying upstream inventory") || t.contains("cache miss")), "{new:?}");
    let recurring = f["recurring"].as_array().unwrap();
    let retry =
        recurring.iter().find(|m| m["template"].as_str().unwrap().contains("retrying upstream inventory")).unwrap();
    assert!(retry["baseline_count"].as_u64().unwrap() >= 100, "{retry:#}");
    assert!(recurring.iter().any(|m| m["template"].as_str().unwrap().contains("cache miss")));
    assert_eq!(f["baseline"]["since"], "2026-04-10T08:50:00Z", "an hour, the window being shorter");
}

#[test]
fn in_the_table_a_message_seen_before_ranks_below_new_errors_and_does_not_open_the_incident() {
    let mut a = vec!["report", "--max-rows", "4"];
    a.extend(SHOP);
    let md = String::from_utf8(run_in(&root(), &a).stdout).unwrap();
    let table: Vec<&str> =
        md.lines().skip_while(|l| !l.starts_with("| Time (UTC)")).take_while(|l| l.starts_with('|')).collect();
    let row = |needle: &str| table.iter().find(|l| l.contains(needle)).copied();
    let onset = row("card tokenization failed").unwrap_or_else(|| panic!("{table:#?}"));
    assert!(onset.contains("**(incident starts)**"), "{onset}");
    assert!(row("POST /api/checkout").is_some(), "{table:#?}");
    assert!(row("health check passed").is_some_and(|r| r.contains("**(recovered)**")), "{table:#?}");
    assert!(row("retrying upstream inventory").is_none(), "a daily retry yields to new errors: {table:#?}");
    // With room, it is there, and says it was seen before.
    let mut a = vec!["report"];
    a.extend(SHOP);
    let md = String::from_utf8(run_in(&root(), &a).stdout).unwrap();
    let retry = md.lines().find(|l| l.starts_with('|') && l.contains("retrying upstream inventory")).unwrap();
    assert!(retry.contains("(seen before: 120 times)") && !retry.contains("incident starts"), "{retry}");
    let j = report(&root(), &SHOP);
    let r =
        j["timeline"].as_array().unwrap().iter().find(|r| r["event"].as_str().unwrap().contains("retrying")).unwrap();
    assert_eq!(r["seen_before"], 120);
    assert_eq!(r["reason"], "seen_before");
}

#[test]
fn in_a_cluster_the_pod_killed_for_memory_fails_first_and_its_rollout_is_the_suspect() {
    let f = &report(
        &root(),
        &[
            "--fixtures",
            "fixtures/inc-20260302-003",
            "--since",
            "2026-03-02T13:50:00Z",
            "--until",
            "2026-03-02T14:30:00Z",
        ],
    )["findings"];
    let order: Vec<&str> = f["spread"].as_array().unwrap().iter().map(|s| s["service"].as_str().unwrap()).collect();
    assert_eq!(order, ["payments", "gateway", "legacy-reconciler", "billing"]);
    assert_eq!(f["spread"][0]["first_error"]["time"], "2026-03-02T14:03:57Z", "the kernel's OOM kill");
    assert_eq!(f["suspects"][0]["kind"], "deploy");
    assert_eq!(f["suspects"][0]["component"], "payments");
    assert_eq!(f["suspects"][0]["reached"], true);
}

#[test]
fn a_cascade_with_no_code_change_starts_in_the_database_and_its_silence_is_found() {
    let r = report(&root(), &CASCADE);
    let f = &r["findings"];
    let order: Vec<&str> = f["spread"].as_array().unwrap().iter().map(|s| s["service"].as_str().unwrap()).collect();
    assert_eq!(order, ["db", "api", "web"]);
    for s in f["suspects"].as_array().unwrap() {
        assert!(s["deployed"].is_null(), "no change was deployed: {s:#}");
        assert_eq!(s["reached"], false, "{s:#}");
    }
    let silences = f["silences"].as_array().unwrap();
    assert_eq!(silences.len(), 1, "{silences:#?}");
    assert_eq!(silences[0]["service"], "db");
    assert_eq!(silences[0]["from"], "2026-04-20T03:10:00Z");
    assert_eq!(silences[0]["until"], "2026-04-20T03:12:30Z");
    assert_eq!(silences[0]["usual_gap_s"], 20.0);
    // A row of the table, and no row marked as the suspect.
    let mut a = vec!["report"];
    a.extend(CASCADE);
    let md = String::from_utf8(run_in(&root(), &a).stdout).unwrap();
    assert!(md.contains("| 03:10:00 | db went quiet: nothing from 03:10:00 to 03:12:30"), "{md}");
    assert!(!md.contains("**(suspect)**"), "{md}");
    assert!(md.contains("No change is seen reaching the running system before the onset"), "{md}");
}

#[test]
fn the_baseline_and_the_lookback_are_bounded_by_their_flags() {
    let mut a = SHOP.to_vec();
    a.extend(["--baseline", "off"]);
    let f = &report(&root(), &a)["findings"];
    assert!(f["baseline"].is_null());
    assert!(f["new_messages"].as_array().unwrap().is_empty(), "no baseline: nothing is called new");
    assert!(strs(&f["notes"]).iter().any(|n| n.contains("--baseline off")));
    // A lookback that ends after the commit: it is not a suspect.
    let mut a = SEED.to_vec();
    a.extend(["--lookback", "5m"]);
    let f = &report(&root(), &a)["findings"];
    assert!(!f["suspects"].as_array().unwrap().iter().any(|s| s["commit"] == "5f0e2d7"));
    // No lookback at all, as `--baseline` says it: the same.
    for off in ["off", "0"] {
        let mut a = SEED.to_vec();
        a.extend(["--lookback", off]);
        let f = &report(&root(), &a)["findings"];
        assert!(!f["suspects"].as_array().unwrap().iter().any(|s| s["commit"] == "5f0e2d7"), "--lookback {off}");
    }
    // The seed's baseline is empty: said, and nothing called new.
    let f = &report(&root(), &SEED)["findings"];
    assert!(f["new_messages"].as_array().unwrap().is_empty());
    assert!(strs(&f["notes"]).iter().any(|n| n.contains("holds no events")), "{:?}", f["notes"]);
    let bad = run_in(
        &root(),
        &["report", "--lookback", "soon", "--fixtures", "fixtures/inc-20251226-001", "--since", "2025-12-26T14:00:00Z"],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn capture_keeps_the_lookbacks_changes_and_the_baseline() {
    let d = tempfile::tempdir().unwrap();
    let mut log = String::new();
    // An hour of baseline, a startup line of the new version, then errors.
    for i in 0..120 {
        let (h, m, s) = (13 + i / 120, (i / 2) % 60, (i % 2) * 30);
        log.push_str(&format!("2025-12-26 {h:02}:{m:02}:{s:02} INFO GET /api/items 200 12ms\n"));
    }
    log.push_str("2025-12-26 14:05:00 INFO starting api 1.2.0\n");
    for s in 0..5 {
        log.push_str(&format!("2025-12-26 14:20:{:02} ERROR GET /api/items -> 500 KeyError: 'sku'\n", s * 5));
    }
    support::write(d.path(), "logs/api.log", log.as_bytes());
    let repo = git2::Repository::init(d.path().join("repo")).unwrap();
    let sig = git2::Signature::new("Dana", "dana@example.com", &git2::Time::new(1_766_752_200, 0)).unwrap();
    let tree = repo.treebuilder(None).unwrap().write().unwrap();
    let tree = repo.find_tree(tree).unwrap();
    let oid = repo.commit(Some("HEAD"), &sig, &sig, "feat: items by sku", &tree, &[]).unwrap();
    repo.tag_lightweight("v1.2.0", &repo.find_object(oid, None).unwrap(), false).unwrap();
    let window = ["--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T14:30:00Z"];
    let mut live = vec!["--log", "logs/api.log", "--git", "repo"];
    live.extend(window);
    let l = report(d.path(), &live);
    let short: String = oid.to_string().chars().take(7).collect();
    assert_eq!(l["findings"]["suspects"][0]["commit"], short.as_str(), "{:#}", l["findings"]["suspects"]);
    assert_eq!(l["findings"]["suspects"][0]["deployed"]["how"], "version 1.2.0");
    assert!(l["findings"]["baseline"]["events"].as_u64().unwrap() >= 100);
    let mut cap = vec!["capture", "--out", "bundle", "--log", "logs/api.log", "--git", "repo"];
    cap.extend(window);
    let c = run_in(d.path(), &cap);
    assert_eq!(c.status.code(), Some(0), "{}", String::from_utf8_lossy(&c.stderr));
    let mut back = vec!["--fixtures", "bundle"];
    back.extend(window);
    let r = report(d.path(), &back);
    assert_eq!(r["findings"]["suspects"], l["findings"]["suspects"], "the bundle holds the lookback's commit");
    assert_eq!(r["findings"]["baseline"], l["findings"]["baseline"]);
}

#[test]
fn services_are_grouped_as_their_sources_name_them_across_hosts_and_replicas() {
    use reconstruct_journal::export::{write_entry, Entry};
    let d = tempfile::tempdir().unwrap();
    // A central collector's journal: the database on db1, the checkout unit
    // on two web hosts. Grouped by host, the spread would read db1, web02,
    // web01; grouped by unit, postgresql then checkout.
    let mut stream = Vec::new();
    let at = |hms: &str| {
        let (h, m, s): (i64, i64, i64) =
            (hms[0..2].parse().unwrap(), hms[3..5].parse().unwrap(), hms[6..8].parse().unwrap());
        (1_777_629_600 + h * 3600 + m * 60 + s) * 1_000_000 // 2026-05-01T10:00:00Z as hour 0
    };
    let entries = [
        ("00:01:00", "db1", "postgresql.service", 6, "checkpoint complete"),
        ("00:01:00", "web01", "checkout.service", 6, "GET /cart 200"),
        ("00:01:00", "web02", "checkout.service", 6, "GET /cart 200"),
        (
            "00:05:00",
            "db1",
            "postgresql.service",
            2,
            "PANIC: could not write to file \"pg_wal/xlogtemp\": No space left on device",
        ),
        ("00:05:04", "web02", "checkout.service", 3, "error: connection to the database refused"),
        ("00:05:06", "web01", "checkout.service", 3, "error: connection to the database refused"),
        ("00:05:20", "web01", "checkout.service", 3, "error: connection to the database refused"),
    ];
    for (t, host, unit, prio, msg) in entries {
        let f = |k: &str, v: String| (k.to_string(), v.into_bytes());
        let fields = vec![
            f("__REALTIME_TIMESTAMP", at(t).to_string()),
            f("_HOSTNAME", host.into()),
            f("_SYSTEMD_UNIT", unit.into()),
            f("PRIORITY", prio.to_string()),
            f("MESSAGE", msg.to_string()),
        ];
        write_entry(&mut stream, &Entry { line: 0, fields }).unwrap();
    }
    std::fs::create_dir(d.path().join("journal")).unwrap();
    std::fs::write(d.path().join("journal/central.export"), stream).unwrap();
    // Two replicas of the compose service `api-v2`: one service, whose name
    // keeps its digit.
    std::fs::create_dir(d.path().join("docker")).unwrap();
    std::fs::write(
        d.path().join("docker/compose-logs.txt"),
        "api-v2-1  | 2026-05-01T10:01:00.000000000Z INFO ready\n\
         api-v2-2  | 2026-05-01T10:05:09.000000000Z ERROR checkout answered 502\n\
         api-v2-1  | 2026-05-01T10:05:10.000000000Z ERROR checkout answered 502\n",
    )
    .unwrap();
    // An alert naming the service in its `service` label: pending a second
    // before the service's first error, it is that service's first anomaly.
    std::fs::create_dir(d.path().join("prometheus")).unwrap();
    let pending = 1_777_629_600 + 5 * 60 + 8; // 10:05:08
    let history = serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "ALERTS", "alertname": "UpstreamErrors", "alertstate": "pending", "service": "api-v2"},
         "values": [[pending, "1"], [pending + 15, "1"]]}]}});
    std::fs::write(d.path().join("prometheus/alerts-history.json"), history.to_string()).unwrap();
    let dir = d.path().to_str().unwrap();
    let r = report(&root(), &["--fixtures", dir, "--since", "2026-05-01T10:00:00Z", "--until", "2026-05-01T10:30:00Z"]);
    let spread = r["findings"]["spread"].as_array().unwrap();
    let order: Vec<(&str, Option<i64>)> =
        spread.iter().map(|s| (s["service"].as_str().unwrap(), s["lag_s"].as_i64())).collect();
    assert_eq!(order, [("postgresql", None), ("checkout", Some(4)), ("api-v2", Some(5))], "{spread:#?}");
    // The service's first error is the first on any of its hosts; its last, the last on any.
    assert_eq!(spread[1]["first_error"]["component"], "web02/checkout");
    assert_eq!(spread[1]["last_error"]["component"], "web01/checkout");
    assert_eq!(spread[1]["last_error"]["time"], "2026-05-01T10:05:20Z");
    assert_eq!(spread[2]["first_anomaly"]["time"], "2026-05-01T10:05:08Z", "{:#}", spread[2]);
    assert_eq!(spread[2]["first_anomaly"]["component"], "api-v2");
    // The HTML picture's lanes follow the grouping, numbered in failure order.
    let html = run_in(
        &root(),
        &[
            "report",
            "--format",
            "html",
            "--fixtures",
            dir,
            "--since",
            "2026-05-01T10:00:00Z",
            "--until",
            "2026-05-01T10:30:00Z",
        ],
    );
    let html = String::from_utf8(html.stdout).unwrap();
    let lanes: Vec<&str> = html
        .split("class=\"lane-label\"")
        .skip(1)
        .filter_map(|s| s.split_once('>').and_then(|(_, r)| r.split_once('<')).map(|(t, _)| t))
        .collect();
    assert_eq!(lanes[..3], ["1 postgresql", "2 checkout", "3 api-v2"], "{lanes:?}");
}
