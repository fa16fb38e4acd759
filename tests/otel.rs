#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! OpenTelemetry logs and traces as the Collector's file exporter writes
//! them: a bundle made by the real OpenTelemetry SDK for Python (a checkout
//! calling payments, payments failing; `scripts/make-otel-fixture`), read
//! into every log record and failing span named by service, the call
//! between the two services as a fact, a spread that starts in payments,
//! the same rows from a `.zst` copy, and the protocol's own examples read whole.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{root, run_in};

const BUNDLE: &str = "fixtures/inc-20260415-006";
const WINDOW: [&str; 4] = ["--since", "2026-04-15T11:59:00Z", "--until", "2026-04-15T12:01:00Z"];

fn json(dir: &Path, args: &[&str]) -> Value {
    let o = run_in(dir, args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn events(dir: &Path, sources: &[&str]) -> Vec<Value> {
    let mut a = vec!["--all", "--format", "json", "--no-git"];
    a.extend(sources);
    a.extend(WINDOW);
    json(dir, &a)["events"].as_array().unwrap().clone()
}

#[test]
fn the_sdks_logs_and_traces_become_events_named_by_service() {
    let all = events(&root(), &["--fixtures", BUNDLE]);
    let of = |svc: &str| all.iter().filter(|e| e["component"] == svc).count();
    // 22 log records; 8 failing charges, each a failed span in payments, in
    // checkout's client call and in checkout's own request; 8 exceptions; one call.
    assert_eq!(all.len(), 22 + 24 + 8 + 1, "{all:#?}");
    assert_eq!(of("payments") + of("checkout"), all.len());
    assert!(all.iter().all(|e| e["collector"] == "otel"));
    let failed = all.iter().find(|e| e["event"] == "span POST /charge failed: card vault timeout").unwrap();
    assert_eq!(failed["component"], "payments");
    assert_eq!(failed["severity"], "error");
    let ev = failed["evidence"].as_str().unwrap();
    assert!(ev.starts_with("otel/traces.jsonl:") && ev.contains(" trace ") && ev.contains(" span "), "{ev}");
    assert_eq!(failed["fact"]["type"], "span");
    assert_eq!(failed["fact"]["trace_id"].as_str().unwrap().len(), 32, "hex trace id");
    let exc = all
        .iter()
        .find(|e| e["event"].as_str().unwrap().starts_with("TimeoutError: card vault did not answer"))
        .unwrap();
    assert_eq!(exc["component"], "payments");
    let record =
        all.iter().find(|e| e["event"].as_str().unwrap().starts_with("ERROR charge failed for ord-1004")).unwrap();
    assert_eq!(record["fact"]["span_id"].as_str().unwrap().len(), 16, "the record keeps its span");
    let call = all.iter().find(|e| e["fact"]["type"] == "call").unwrap();
    assert_eq!(call["fact"]["caller"], "checkout");
    assert_eq!(call["fact"]["callee"], "payments");
    assert_eq!(call["event"], "checkout calls payments (POST payments /charge)");
}

#[test]
fn the_spread_starts_in_payments() {
    let mut a = vec!["report", "--format", "json", "--fixtures", BUNDLE];
    a.extend(WINDOW);
    let r = json(&root(), &a);
    let order: Vec<&str> =
        r["findings"]["spread"].as_array().unwrap().iter().map(|s| s["service"].as_str().unwrap()).collect();
    assert_eq!(order, ["payments", "checkout"]);
}

#[test]
fn a_zstd_copy_gives_the_same_rows_and_a_capture_keeps_them() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("otel")).unwrap();
    for f in ["logs.jsonl", "traces.jsonl"] {
        let raw = std::fs::read(root().join(BUNDLE).join("otel").join(f)).unwrap();
        std::fs::write(d.path().join("otel").join(format!("{f}.zst")), zstd::encode_all(&raw[..], 3).unwrap()).unwrap();
        std::fs::write(d.path().join("otel").join(f), &raw).unwrap();
    }
    let plain = events(d.path(), &["--otel", "otel/logs.jsonl", "--otel", "otel/traces.jsonl"]);
    let packed = events(d.path(), &["--otel", "otel/logs.jsonl.zst", "--otel", "otel/traces.jsonl.zst"]);
    let rows = |v: &[Value]| -> Vec<(String, String, String)> {
        v.iter()
            .map(|e| {
                let ev = e["evidence"].as_str().unwrap().replace(".zst", "");
                (e["time"].as_str().unwrap().to_string(), e["event"].as_str().unwrap().to_string(), ev)
            })
            .collect()
    };
    assert_eq!(rows(&packed), rows(&plain));
    assert_eq!(plain.len(), 55);
    let back = support::round_trip_in(
        d.path(),
        &["--otel", "otel/logs.jsonl", "--otel", "otel/traces.jsonl", "--no-git"],
        &WINDOW,
    );
    assert_eq!(back.len(), 55, "captured and replayed");
}

#[test]
fn the_protocols_own_examples_are_read_whole() {
    let d = root().join("fixtures/samples/otel");
    let o = run_in(
        &root(),
        &[
            "--otel",
            d.join("logs.json").to_str().unwrap(),
            "--otel",
            d.join("trace.json").to_str().unwrap(),
            "--no-git",
            "--all",
            "--format",
            "json",
            "--since",
            "2018-12-13T14:50:00Z",
            "--until",
            "2018-12-13T14:52:00Z",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let events = v["events"].as_array().unwrap();
    let record = events.iter().find(|e| e["event"] == "Information Example log record").unwrap();
    assert_eq!(record["component"], "my.service");
    assert_eq!(record["time"], "2018-12-13T14:51:00.300Z");
    let notes: Vec<String> = v["coverage"].as_array().unwrap().iter().map(|c| c["notes"].to_string()).collect();
    assert!(notes.iter().any(|n| n.contains("1 log records")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("1 spans (0 failed")), "{notes:?}");
    assert!(v["coverage"].as_array().unwrap().iter().all(|c| c["problems"] == 0), "{:#}", v["coverage"]);
}
