#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! A swarm manager played by the replaying server over TCP: when one
//! service's logs never come (a node that does not answer), that is said,
//! and the tasks, the service events, a task container's OOM kill and the
//! other service's lines still make their rows.

use std::time::{Duration, Instant};

use reconstruct_core::{CollectContext, Detail, TimeWindow, Timestamp, VecSink};
use reconstruct_docker::SwarmLive;
use reconstruct_stores::replay::{serve, Reply, Seen};
use serde_json::json;

#[test]
fn a_service_whose_logs_hang_is_named_and_the_rest_kept() {
    let server = serve(|r: &Seen| match r.path.as_str() {
        "/services" => Reply::json(&json!([
            {"ID": "s1", "Spec": {"Name": "api"}},
            {"ID": "s2", "Spec": {"Name": "stuck"}}
        ])),
        "/tasks" => Reply::json(&json!([
            {"ID": "t1", "ServiceID": "s1", "Slot": 1, "Status": {"State": "failed", "Timestamp": "2025-12-26T14:05:00Z",
                "Err": "task: non-zero exit (1)", "ContainerStatus": {"ExitCode": 1}}},
            {"ID": "t2", "ServiceID": "s2", "Slot": 1, "Status": {"State": "rejected", "Timestamp": "2025-12-26T14:06:00Z",
                "Err": "no suitable node (insufficient resources on 1 node)"}}
        ])),
        "/events" => {
            assert_eq!(r.param("since"), Some("1766757600"));
            match r.param("filters") {
                Some(r#"{"type":["service"]}"#) => Reply::text(200, "{\"Type\":\"service\",\"Action\":\"update\",\"Actor\":{\"ID\":\"s1\",\"Attributes\":{\"name\":\"api\"}},\"timeNano\":1766757840000000000}\n"),
                Some(r#"{"type":["container"],"label":["com.docker.swarm.task.id"]}"#) => Reply::text(
                    200,
                    &[
                        json!({"Type": "container", "Action": "oom", "Actor": {"ID": "c1", "Attributes": {
                            "com.docker.swarm.task.id": "t1", "com.docker.swarm.service.name": "api"}},
                            "timeNano": 1_766_757_899_000_000_000i64}),
                        json!({"Type": "container", "Action": "die", "Actor": {"ID": "c1", "Attributes": {
                            "com.docker.swarm.task.id": "t1", "com.docker.swarm.service.name": "api", "exitCode": "137"}},
                            "timeNano": 1_766_757_899_100_000_000i64}),
                    ]
                    .iter()
                    .map(|v| format!("{v}\n"))
                    .collect::<String>(),
                ),
                other => panic!("events with filters {other:?}"),
            }
        }
        "/services/s1/logs" => {
            assert_eq!(r.param("timestamps"), Some("1"));
            assert_eq!(r.param("details"), Some("1"));
            Reply::text(200, "2025-12-26T14:04:59.5Z com.docker.swarm.task.id=t1 ERROR cannot bind :8080\n")
        }
        _ => Reply::Silence,
    })
    .unwrap();
    let host = format!("tcp://{}", server.url.trim_start_matches("http://"));
    let c = Box::new(SwarmLive { host: Some(host), timeout: Duration::from_secs(3) });
    let window = TimeWindow::new(
        Timestamp::from_unix_nanos(1_766_757_600_000_000_000),
        Timestamp::from_unix_nanos(1_766_761_200_000_000_000),
    )
    .unwrap();
    let mut sink = VecSink::default();
    let t = Instant::now();
    reconstruct_core::collect_now(c, &CollectContext { window, detail: Detail::All, anchor: None }, &mut sink).unwrap();
    assert!(t.elapsed() < Duration::from_secs(4));
    let rows: Vec<String> =
        sink.events.iter().map(|e| format!("{} {} {}", e.time.rfc3339(), e.component, e.summary)).collect();
    assert_eq!(
        rows,
        [
            "2025-12-26T14:04:00Z api swarm service api updated",
            "2025-12-26T14:04:59Z api swarm task api.1 (t1) container OOM-killed",
            "2025-12-26T14:04:59.500Z api ERROR cannot bind :8080",
            "2025-12-26T14:05:00Z api swarm task api.1 (t1) failed: task: non-zero exit (1) (exit code 1)",
            "2025-12-26T14:06:00Z stuck swarm task stuck.1 (t2) rejected: no suitable node (insufficient resources on 1 node)",
        ]
    );
    assert!(
        sink.diagnostics.iter().any(|d| d.message == "logs of service stuck: cut off at the source's deadline"),
        "{:?}",
        sink.diagnostics
    );
}
