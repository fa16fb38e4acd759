#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! A multi-tenant Prometheus API (Mimir, Cortex) played by the replaying
//! server: every request carries the tenant header and the credentials, and
//! the ALERTS history it answers becomes the alert's rows.

use std::time::Duration;

use reconstruct_core::{CollectContext, Detail, TimeWindow, Timestamp, VecSink};
use reconstruct_prometheus::fetch::{endpoint, with_tenant, Endpoint};
use reconstruct_prometheus::PrometheusLive;
use reconstruct_stores::replay::{serve, Reply, Seen};
use serde_json::json;

/// Reads 2025-12-26 14:00–15:00 from `endpoint`.
fn read(endpoint: Endpoint) -> VecSink {
    let c = Box::new(PrometheusLive { endpoint, timeout: Duration::from_secs(10) });
    let window = TimeWindow::new(
        Timestamp::from_unix_nanos(1_766_757_600_000_000_000),
        Timestamp::from_unix_nanos(1_766_761_200_000_000_000),
    )
    .unwrap();
    let mut sink = VecSink::default();
    reconstruct_core::collect_now(c, &CollectContext { window, detail: Detail::All, anchor: None }, &mut sink).unwrap();
    sink
}

#[test]
fn a_tenant_header_goes_with_every_request() {
    let server = serve(|r: &Seen| {
        if r.header("x-scope-orgid") != Some("team-a") {
            return Reply::text(401, "no org id");
        }
        let data = match r.path.as_str() {
            "/prometheus/api/v1/rules" => json!({"groups": [{"name": "g", "interval": 60, "rules": [
                {"type": "alerting", "name": "ApiDown", "query": "up == 0", "duration": 60, "labels": {}, "annotations": {}}]}]}),
            "/prometheus/api/v1/alerts" => json!({"alerts": []}),
            "/prometheus/api/v1/query" => json!({"resultType": "matrix", "result": [{
                "metric": {"__name__": "ALERTS", "alertname": "ApiDown", "alertstate": "firing", "job": "api"},
                "values": [[1766757900, "1"], [1766757960, "1"], [1766758020, "1"]]}]}),
            _ => return Reply::text(404, "not found"),
        };
        Reply::json(&json!({"status": "success", "data": data}))
    })
    .unwrap();
    let endpoint =
        with_tenant(endpoint(&format!("{}/prometheus", server.url), &Default::default()).unwrap(), Some("team-a"));
    let sink = read(endpoint);
    let rows: Vec<String> = sink.events.iter().map(|e| format!("{} {}", e.time.rfc3339(), e.summary)).collect();
    assert!(rows.iter().any(|r| r.starts_with("2025-12-26T14:05:00Z alert ApiDown firing")), "{rows:#?}");
    assert!(rows.iter().any(|r| r.contains("alert ApiDown resolved")), "{rows:#?}");
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|r| r.header("x-scope-orgid") == Some("team-a")));
}

/// VictoriaMetrics without its vmalert proxy answers the rules and alerts
/// APIs empty: the ALERTS history still makes the rows, and coverage says
/// the evaluation interval was assumed, not read.
#[test]
fn a_store_that_lists_no_rule_still_gives_its_history_and_says_the_interval_is_assumed() {
    let server = serve(|r: &Seen| {
        let data = match r.path.as_str() {
            "/api/v1/rules" => json!({"groups": []}),
            "/api/v1/alerts" => json!({"alerts": null}),
            "/api/v1/query" => json!({"resultType": "matrix", "result": [{
                "metric": {"__name__": "ALERTS", "alertname": "DiskFull", "alertstate": "firing", "instance": "db1"},
                "values": [[1766757900, "1"], [1766757960, "1"]]}]}),
            _ => return Reply::text(404, "not found"),
        };
        Reply::json(&json!({"status": "success", "data": data}))
    })
    .unwrap();
    let endpoint = endpoint(&server.url, &Default::default()).unwrap();
    let sink = read(endpoint);
    assert!(sink.events.iter().any(|e| e.summary.starts_with("alert DiskFull firing")));
    assert!(
        sink.notes.iter().any(|n| n.contains("(evaluation interval 60s, assumed: no alerting rule was listed)")),
        "{:?}",
        sink.notes
    );
}
