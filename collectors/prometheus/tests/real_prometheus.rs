#![cfg(feature = "real-services")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Against a real Prometheus started by `scripts/test` (see
//! `scripts/services/prometheus`): the test serves the scrape target itself,
//! makes an alert fire and resolve twice and another stay firing, and
//! compares the rebuilt intervals with what the alerts API showed while it
//! happened. Broken servers (HTTP 500, bad JSON, silence) are played by
//! small local listeners. Without Prometheus these tests fail; never skipped.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reconstruct_core::{CollectContext, Detail, Event, TimeWindow, Timestamp, VecSink};
use reconstruct_prometheus::fetch::{alertmanager, endpoint};
use reconstruct_prometheus::PrometheusLive;

fn env(key: &str) -> String {
    std::env::var(key)
        .unwrap_or_else(|_| panic!("{key} is not set: run the tests with scripts/test, which starts Prometheus"))
}

fn now() -> Timestamp {
    Timestamp::from_datetime(&chrono::Utc::now()).unwrap()
}

fn collect(url: &str, window: TimeWindow, timeout: Duration) -> Result<VecSink, String> {
    let endpoint = endpoint(url, &Default::default()).map_err(|e| e.to_string())?;
    let c = Box::new(PrometheusLive { endpoint, timeout });
    let mut sink = VecSink::default();
    reconstruct_core::collect_now(c, &CollectContext { window, detail: Detail::All, anchor: None }, &mut sink)
        .map_err(|e| e.to_string())?;
    Ok(sink)
}

/// The scrape target: two gauges the test sets.
fn serve_metrics(addr: &str, flap: Arc<AtomicU32>, stuck: Arc<AtomicU32>, stop: Arc<AtomicBool>) {
    let listener = TcpListener::bind(addr).expect("the test target's port is free");
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    let mut buf = [0u8; 2048];
                    let _ = s.read(&mut buf);
                    let body = format!(
                        "# TYPE rc_test_flap gauge\nrc_test_flap {}\n# TYPE rc_test_stuck gauge\nrc_test_stuck {}\n",
                        flap.load(Ordering::Relaxed),
                        stuck.load(Ordering::Relaxed)
                    );
                    let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
}

/// What /api/v1/alerts showed, polled: (alert, firing seen, gone seen).
fn watch(url: String, stop: Arc<AtomicBool>, seen: Arc<Mutex<Vec<(String, String, Timestamp)>>>) {
    std::thread::spawn(move || {
        let client = reqwest::blocking::Client::new();
        let mut firing: Vec<String> = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            if let Ok(r) = client.get(format!("{url}/api/v1/alerts")).send() {
                let v: serde_json::Value = r.json().unwrap_or_default();
                let t = now();
                let now_firing: Vec<String> = v["data"]["alerts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|a| a["state"] == "firing")
                    .map(|a| a["labels"]["alertname"].as_str().unwrap_or_default().to_string())
                    .collect();
                let mut s = seen.lock().unwrap();
                for a in &now_firing {
                    if !firing.contains(a) {
                        s.push((a.clone(), "firing".into(), t));
                    }
                }
                for a in &firing {
                    if !now_firing.contains(a) {
                        s.push((a.clone(), "resolved".into(), t));
                    }
                }
                firing = now_firing;
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    });
}

#[test]
fn alert_intervals_match_what_prometheus_showed() {
    let url = env("RECONSTRUCT_TEST_PROM_URL");
    let flap = Arc::new(AtomicU32::new(0));
    let stuck = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    serve_metrics(&env("RECONSTRUCT_TEST_PROM_TARGET"), flap.clone(), stuck.clone(), stop.clone());
    let seen = Arc::new(Mutex::new(Vec::new()));
    watch(url.clone(), stop.clone(), seen.clone());
    let start = now();
    std::thread::sleep(Duration::from_secs(3));
    for round in 0..2 {
        flap.store(1, Ordering::Relaxed);
        if round == 1 {
            stuck.store(1, Ordering::Relaxed);
        }
        std::thread::sleep(Duration::from_secs(7));
        flap.store(0, Ordering::Relaxed);
        std::thread::sleep(Duration::from_secs(6));
    }
    let sink = collect(&url, TimeWindow::new(start, now()).unwrap(), Duration::from_secs(10)).unwrap();
    stop.store(true, Ordering::Relaxed);
    let observed = seen.lock().unwrap().clone();
    let rows: Vec<String> = sink.events.iter().map(|e| format!("{} {}", e.time, e.summary)).collect();

    let ours = |verb: &str| -> Vec<Timestamp> {
        sink.events
            .iter()
            .filter(|e| e.summary.starts_with(&format!("alert RcTestFlap {verb}")))
            .map(|e| e.time)
            .collect()
    };
    let theirs = |what: &str| -> Vec<Timestamp> {
        observed.iter().filter(|(a, w, _)| a == "RcTestFlap" && w == what).map(|(_, _, t)| *t).collect()
    };
    let (fired, resolved) = (ours("firing"), ours("resolved"));
    assert_eq!(fired.len(), 2, "{rows:#?}");
    assert_eq!(resolved.len(), 2, "{rows:#?}");
    assert_eq!(theirs("firing").len(), 2, "{observed:#?}");
    assert_eq!(theirs("resolved").len(), 2, "{observed:#?}");
    // Within one evaluation interval (1 s), plus the polling period.
    let close = |a: Timestamp, b: Timestamp| (a.unix_nanos() - b.unix_nanos()).abs() <= 1_300_000_000;
    for (o, t) in fired.iter().zip(theirs("firing")) {
        assert!(close(*o, t), "fired at {o}, alerts API showed it at {t}\n{rows:#?}");
    }
    for (o, t) in resolved.iter().zip(theirs("resolved")) {
        assert!(close(*o, t), "resolved at {o}, alerts API showed it at {t}\n{rows:#?}");
    }
    assert!(sink.events.iter().any(|e| e.summary.starts_with("alert RcTestFlap pending")), "{rows:#?}");
    let stuck_rows: Vec<&Event> = sink.events.iter().filter(|e| e.summary.starts_with("alert RcTestStuck")).collect();
    let still = stuck_rows
        .iter()
        .find(|e| e.summary.starts_with("alert RcTestStuck firing"))
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert!(still.summary.contains("[still firing at "), "{}", still.summary);
    assert!(!stuck_rows.iter().any(|e| e.summary.starts_with("alert RcTestStuck resolved")), "{rows:#?}");
    let f = sink.events.iter().find(|e| e.summary.starts_with("alert RcTestFlap firing")).unwrap();
    assert!(f.summary.contains("flapping test alert on 127.0.0.1:19123"), "{}", f.summary);
    assert_eq!(&*f.component, "rctest");
    assert!(f.evidence.locator.to_string().starts_with("ALERTS{alertname=\"RcTestFlap\""));
    assert!(f.evidence.excerpt.contains(&format!("graph: {url}/graph?g0.expr=")));
}

/// A one-shot server that answers every request with `response` (or never).
fn fake(response: Option<&'static str>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            match response {
                Some(r) => {
                    let _ = s.write_all(r.as_bytes());
                }
                None => held.push(s), // accept, never answer
            }
        }
    });
    format!("http://{addr}")
}

fn window() -> TimeWindow {
    TimeWindow::new(now().saturating_add_nanos(-3_600_000_000_000), now()).unwrap()
}

#[test]
fn broken_servers_are_named() {
    let e500 = fake(Some(
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 21\r\nConnection: close\r\n\r\nupstream proxy failed",
    ));
    let err = collect(&e500, window(), Duration::from_secs(5)).err().unwrap();
    assert!(err.contains("answered HTTP 500") && err.contains("upstream proxy failed"), "{err}");

    let garbage = fake(Some("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"status\""));
    let err = collect(&garbage, window(), Duration::from_secs(5)).err().unwrap();
    assert!(err.contains("unusable answer") && err.contains("not JSON"), "{err}");

    let silent = fake(None);
    let t = Instant::now();
    let err = collect(&silent, window(), Duration::from_secs(2)).err().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10), "cut off by the timeout");
    assert!(err.contains("did not answer /api/v1/rules within the source's 2s"), "{err}");

    let err = collect("http://127.0.0.1:1", window(), Duration::from_secs(2)).err().unwrap();
    assert!(err.contains("cannot reach Prometheus at http://127.0.0.1:1"), "{err}");
}

#[test]
fn credentials_never_show_in_errors() {
    let err = collect("http://ops:hunter2@127.0.0.1:1", window(), Duration::from_secs(2)).err().unwrap();
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn alertmanager_silences_and_the_alerts_they_suppress() {
    let am = env("RECONSTRUCT_TEST_AM_URL");
    let client = reqwest::blocking::Client::new();
    let since = now();
    let starts = chrono::Utc::now();
    let body = serde_json::json!({
        "matchers": [{"name": "alertname", "value": "RcTestSilenced", "isRegex": false, "isEqual": true}],
        "startsAt": starts.to_rfc3339(),
        "endsAt": (starts + chrono::Duration::hours(1)).to_rfc3339(),
        "createdBy": "reconstruct-test",
        "comment": "known during the test"
    });
    let r = client
        .post(format!("{am}/api/v2/silences"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text());
    // Prometheus hands the always-firing alert to Alertmanager within seconds.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v: serde_json::Value = client.get(format!("{am}/api/v2/alerts")).send().unwrap().json().unwrap_or_default();
        let silenced = v.as_array().into_iter().flatten().any(|a| {
            a["labels"]["alertname"] == "RcTestSilenced"
                && a["status"]["silencedBy"].as_array().is_some_and(|s| !s.is_empty())
        });
        if silenced {
            break;
        }
        assert!(Instant::now() < deadline, "Alertmanager never showed the alert silenced: {v}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let endpoint = alertmanager(endpoint(&am, &Default::default()).unwrap());
    let c = Box::new(reconstruct_prometheus::AlertmanagerLive { endpoint, timeout: Duration::from_secs(10) });
    let mut sink = VecSink::default();
    let window =
        TimeWindow::new(since.saturating_add_nanos(-2_000_000_000), now().saturating_add_nanos(1_000_000_000)).unwrap();
    reconstruct_core::collect_now(c, &CollectContext { window, detail: Detail::All, anchor: None }, &mut sink).unwrap();
    let rows: Vec<String> = sink.events.iter().map(|e| e.summary.clone()).collect();
    assert!(
        rows.iter().any(|r| r
            .starts_with("silence {alertname=\"RcTestSilenced\"} created by reconstruct-test: known during the test")),
        "{rows:#?}"
    );
    let suppressed = sink
        .events
        .iter()
        .find(|e| e.summary == "alert RcTestSilenced suppressed: silenced by reconstruct-test (known during the test)")
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(&*suppressed.component, "rctest");

    let err = collect_am("http://127.0.0.1:1");
    assert!(err.contains("cannot reach Alertmanager at http://127.0.0.1:1"), "{err}");
}

fn collect_am(url: &str) -> String {
    let endpoint = alertmanager(endpoint(url, &Default::default()).unwrap());
    let c = Box::new(reconstruct_prometheus::AlertmanagerLive { endpoint, timeout: Duration::from_secs(2) });
    let mut sink = VecSink::default();
    reconstruct_core::collect_now(c, &CollectContext { window: window(), detail: Detail::All, anchor: None }, &mut sink)
        .unwrap_err()
        .to_string()
}
