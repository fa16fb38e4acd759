#![cfg(feature = "real-services")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Against a real VictoriaMetrics with vmalert started by `scripts/test`
//! (see `scripts/services/victoriametrics`): the test pushes a gauge through
//! the import API so that vmalert's rule goes pending, fires and resolves
//! twice, watches vmalert's alerts API while it happens, and checks that the
//! intervals rebuilt from the `ALERTS` series stored in VictoriaMetrics (and
//! the rules read through its proxy to vmalert) match what vmalert showed.
//! Without the services these tests fail; never skipped.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reconstruct_core::{CollectContext, Detail, TimeWindow, Timestamp, VecSink};
use reconstruct_prometheus::fetch::endpoint;
use reconstruct_prometheus::PrometheusLive;

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the tests with scripts/test, which starts VictoriaMetrics and vmalert")
    })
}

fn now() -> Timestamp {
    Timestamp::from_datetime(&chrono::Utc::now()).unwrap()
}

/// Pushes the gauge every 300 ms, as a scrape would.
fn push(vm: String, value: Arc<AtomicU32>, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let client = reqwest::blocking::Client::new();
        while !stop.load(Ordering::Relaxed) {
            let body = format!("rc_vm_flap{{instance=\"vm-node-1\"}} {}\n", value.load(Ordering::Relaxed));
            let _ = client.post(format!("{vm}/api/v1/import/prometheus")).body(body).send();
            std::thread::sleep(Duration::from_millis(300));
        }
    });
}

/// Waits (30 s at most) until VictoriaMetrics answers `metric` with a sample.
fn visible(vm: &str, metric: &str) {
    let client = reqwest::blocking::Client::new();
    for _ in 0..150 {
        let found = client
            .get(format!("{vm}/api/v1/query"))
            .query(&[("query", metric)])
            .send()
            .and_then(|r| r.json::<serde_json::Value>())
            .is_ok_and(|v| v["data"]["result"].as_array().is_some_and(|a| !a.is_empty()));
        if found {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("VictoriaMetrics never answered {metric}: the pushed samples were not stored");
}

/// What vmalert's alerts API showed, polled: (state, when seen).
fn watch(vmalert: String, stop: Arc<AtomicBool>, seen: Arc<Mutex<Vec<(String, Timestamp)>>>) {
    std::thread::spawn(move || {
        let client = reqwest::blocking::Client::new();
        let mut firing = false;
        while !stop.load(Ordering::Relaxed) {
            if let Ok(r) = client.get(format!("{vmalert}/api/v1/alerts")).send() {
                let v: serde_json::Value = r.json().unwrap_or_default();
                let t = now();
                let now_firing = v["data"]["alerts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|a| a["labels"]["alertname"] == "RcVmFlap" && a["state"] == "firing");
                if now_firing != firing {
                    seen.lock().unwrap().push((if now_firing { "firing" } else { "resolved" }.to_string(), t));
                }
                firing = now_firing;
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    });
}

#[test]
fn vmalert_intervals_match_what_vmalert_showed() {
    let vm = env("RECONSTRUCT_TEST_VM_URL");
    let vmalert = env("RECONSTRUCT_TEST_VMALERT_URL");
    let value = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    push(vm.clone(), value.clone(), stop.clone());
    let seen = Arc::new(Mutex::new(Vec::new()));
    // A new series is searchable only once VictoriaMetrics has indexed it,
    // which a loaded machine can take seconds to do: stage the flaps after.
    visible(&vm, "rc_vm_flap");
    watch(vmalert, stop.clone(), seen.clone());
    let start = now();
    std::thread::sleep(Duration::from_secs(3));
    for _ in 0..2 {
        value.store(1, Ordering::Relaxed);
        std::thread::sleep(Duration::from_secs(8));
        value.store(0, Ordering::Relaxed);
        std::thread::sleep(Duration::from_secs(7));
    }
    // vmalert writes ALERTS back once a second; let the last write land.
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let endpoint = endpoint(&vm, &Default::default()).unwrap();
    let c = Box::new(PrometheusLive { endpoint, timeout: Duration::from_secs(10) });
    let mut sink = VecSink::default();
    let window = TimeWindow::new(start, now()).unwrap();
    reconstruct_core::collect_now(c, &CollectContext { window, detail: Detail::All, anchor: None }, &mut sink).unwrap();
    let observed = seen.lock().unwrap().clone();
    let rows: Vec<String> = sink.events.iter().map(|e| format!("{} {}", e.time, e.summary)).collect();
    let ours = |verb: &str| -> Vec<Timestamp> {
        sink.events
            .iter()
            .filter(|e| e.summary.starts_with(&format!("alert RcVmFlap {verb}")))
            .map(|e| e.time)
            .collect()
    };
    let theirs =
        |what: &str| -> Vec<Timestamp> { observed.iter().filter(|(w, _)| w == what).map(|(_, t)| *t).collect() };
    // What is checked is that the rows match what vmalert showed; two flaps
    // are staged, and a loaded machine may let vmalert see fewer.
    assert!(!theirs("firing").is_empty(), "vmalert showed {observed:#?}");
    assert!(!theirs("resolved").is_empty(), "vmalert showed {observed:#?}");
    assert_eq!(ours("firing").len(), theirs("firing").len(), "{rows:#?}\nvmalert showed {observed:#?}");
    assert_eq!(ours("resolved").len(), theirs("resolved").len(), "{rows:#?}\nvmalert showed {observed:#?}");
    assert!(!ours("pending").is_empty(), "{rows:#?}");
    // Within one evaluation interval (1 s) plus the polling period.
    let close = |a: Timestamp, b: Timestamp| (a.unix_nanos() - b.unix_nanos()).abs() <= 1_500_000_000;
    for (o, t) in ours("firing").iter().zip(theirs("firing")) {
        assert!(close(*o, t), "fired at {o}, vmalert showed it at {t}\n{rows:#?}");
    }
    for (o, t) in ours("resolved").iter().zip(theirs("resolved")) {
        assert!(close(*o, t), "resolved at {o}, vmalert showed it at {t}\n{rows:#?}");
    }
    // The rule's annotation came through VictoriaMetrics's proxy to vmalert.
    let f = sink.events.iter().find(|e| e.summary.starts_with("alert RcVmFlap firing")).unwrap();
    assert!(f.summary.contains("VictoriaMetrics test alert on vm-node-1"), "{}", f.summary);
    assert!(f.evidence.locator.to_string().starts_with("ALERTS{alertname=\"RcVmFlap\""), "{}", f.evidence.locator);
    assert!(
        sink.notes.iter().any(|n| n.contains("evaluation interval 1s")),
        "the rules' interval was read through the proxy: {:?}",
        sink.notes
    );
}
