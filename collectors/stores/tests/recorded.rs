#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Loki and Elasticsearch/OpenSearch against recorded answers shaped like
//! their documented APIs, served by the replaying server, which checks each
//! request (nanosecond bounds, paging parameters, tenant and auth headers)
//! and plays the failures a store gives under load: 429 with Retry-After,
//! 503, 500, no answer, and answers cut off mid-body.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reconstruct_core::{CollectContext, Detail, TimeWindow, Timestamp, VecSink};
use reconstruct_stores::elastic::Search;
use reconstruct_stores::http::Endpoint;
use reconstruct_stores::replay::{serve, Reply, Seen};
use reconstruct_stores::{loki, ElasticLive, LokiLive};
use serde_json::{json, Value};

const T0: i64 = 1_766_757_600_000_000_000; // 2025-12-26T14:00:00Z

fn window() -> TimeWindow {
    TimeWindow::new(Timestamp::from_unix_nanos(T0), Timestamp::from_unix_nanos(T0 + 3_600_000_000_000)).unwrap()
}

/// 30 lines over 3 streams, most of them sharing a few nanoseconds, and
/// two outside the window.
fn loki_lines() -> Vec<(i64, &'static str, String)> {
    let mut v = Vec::new();
    for i in 0..30i64 {
        let ns = T0 + 1_000_000_000 * (i / 7) + 5; // seven lines at each instant
        let app = ["api", "worker", "db"][(i % 3) as usize];
        let level = if i == 11 { "error" } else { "info" };
        v.push((ns, app, format!("level={level} line {i}")));
    }
    v.push((T0 - 1, "api", "before the window".into()));
    v.push((T0 + 3_600_000_000_001, "api", "after the window".into()));
    v
}

/// Loki's query_range over `lines`: start inclusive, end exclusive, forward,
/// the first `limit` lines, grouped into streams.
fn query_range(lines: &[(i64, &'static str, String)], r: &Seen) -> Result<Value, String> {
    let num = |k: &str| -> Result<i64, String> {
        let v = r.param(k).ok_or(format!("no {k}"))?;
        // Nanoseconds as an integer: not RFC 3339, not seconds.
        if v.len() != 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{k}={v} is not Unix nanoseconds"));
        }
        v.parse().map_err(|_| format!("{k}={v}"))
    };
    let (start, end) = (num("start")?, num("end")?);
    if r.param("direction") != Some("forward") {
        return Err("not forward".into());
    }
    let limit: usize = r.param("limit").ok_or("no limit")?.parse().map_err(|_| "limit")?;
    let mut picked: Vec<&(i64, &str, String)> = lines.iter().filter(|(ns, _, _)| *ns >= start && *ns < end).collect();
    picked.sort_by_key(|(ns, _, _)| *ns);
    picked.truncate(limit);
    let mut streams: HashMap<&str, Vec<Value>> = HashMap::new();
    for (ns, app, text) in picked {
        streams.entry(app).or_default().push(json!([ns.to_string(), text]));
    }
    let result: Vec<Value> = streams
        .into_iter()
        .map(|(app, values)| json!({"stream": {"app": app, "env": "prod"}, "values": values}))
        .collect();
    Ok(json!({"status": "success", "data": {"resultType": "streams", "result": result, "stats": {}}}))
}

fn loki_source(url: &str, limit: u32, timeout: Duration) -> LokiLive {
    let env = HashMap::from([("LOKI_PASSWORD".to_string(), "s3cret".to_string())]);
    let endpoint = Endpoint::parse("Loki", &format!("http://ops@{}", url.trim_start_matches("http://")), "LOKI", &env)
        .unwrap()
        .with_header("X-Scope-OrgID", "team-a");
    LokiLive {
        endpoint,
        query: loki::Query { logql: Some("{env=\"prod\"}".into()), limit, org: Some("team-a".into()) },
        timeout,
    }
}

fn run(c: Box<dyn reconstruct_core::NetworkCollector>) -> (VecSink, Result<(), String>) {
    let mut sink = VecSink::default();
    let r = reconstruct_core::collect_now(
        c,
        &CollectContext { window: window(), detail: Detail::All, anchor: None },
        &mut sink,
    );
    (sink, r.map_err(|e| e.to_string()))
}

/// Loki's count per service (`sum by (…) (count_over_time(… [Ns]))`) over
/// `lines`: a point per step from `start` to `end`, each counting the step before it.
fn count_range(lines: &[(i64, &'static str, String)], r: &Seen) -> Value {
    let num = |k: &str| r.param(k).unwrap().parse::<i64>().unwrap();
    let step: i64 = r.param("step").unwrap().trim_end_matches('s').parse().unwrap();
    let mut series: HashMap<&str, Vec<Value>> = HashMap::new();
    let mut t = num("start") / 1_000_000_000;
    while t <= num("end") / 1_000_000_000 {
        for app in ["api", "worker", "db"] {
            let (from, to) = ((t - step) * 1_000_000_000, t * 1_000_000_000);
            let n = lines.iter().filter(|(ns, a, _)| *a == app && *ns >= from && *ns < to).count();
            if n > 0 {
                series.entry(app).or_default().push(json!([t, n.to_string()]));
            }
        }
        t += step;
    }
    let result: Vec<Value> =
        series.into_iter().map(|(app, values)| json!({"metric": {"app": app}, "values": values})).collect();
    json!({"status": "success", "data": {"resultType": "matrix", "result": result}})
}

#[test]
fn a_report_reaching_before_the_window_pages_the_window_only_and_has_the_store_count_before_it() {
    let lines = loki_lines();
    let data = lines.clone();
    let server = serve(move |r| {
        let query = r.param("query").unwrap_or_default();
        if query.contains("count_over_time") {
            return Reply::json(&count_range(&data, r));
        }
        if r.param("direction") == Some("backward") {
            // A service's sample: its last lines before the window.
            // (The changes asked for across services: none of these lines announces one.)
            let Some(app) = ["api", "worker", "db"].into_iter().find(|a| query.contains(&format!("app=\"{a}\"")))
            else {
                assert!(query.contains("|~ `(?i)(version|starting"), "{query}");
                return Reply::json(&json!({"status": "success", "data": {"resultType": "streams", "result": []}}));
            };
            let (start, end): (i64, i64) =
                (r.param("start").unwrap().parse().unwrap(), r.param("end").unwrap().parse().unwrap());
            let values: Vec<Value> = data
                .iter()
                .filter(|(ns, a, _)| *a == app && *ns >= start && *ns < end)
                .map(|(ns, _, text)| json!([ns.to_string(), text]))
                .collect();
            let result = json!([{"stream": {"app": app, "env": "prod"}, "values": values}]);
            return Reply::json(&json!({"status": "success", "data": {"resultType": "streams", "result": result}}));
        }
        match query_range(&data, r) {
            Ok(v) => Reply::json(&v),
            Err(e) => Reply::text(400, &e),
        }
    })
    .unwrap();
    // The report reads a day before the window for the other sources.
    let reach = TimeWindow::new(Timestamp::from_unix_nanos(T0 - 86_400_000_000_000), window().until).unwrap();
    let mut sink = VecSink::default();
    reconstruct_core::collect_now(
        Box::new(loki_source(&server.url, 100, Duration::from_secs(10))),
        &CollectContext { window: reach, detail: Detail::All, anchor: Some(window()) },
        &mut sink,
    )
    .unwrap();
    // The line before the window comes as its service's sample, beside the store's count of it.
    let before: Vec<&reconstruct_core::Event> = sink.events.iter().filter(|e| e.time.unix_nanos() < T0).collect();
    assert_eq!(before.len(), 2, "{before:#?}");
    assert!(matches!(before[0].fact.as_deref(), Some(reconstruct_core::Fact::Tally { lines: 1, seconds: 60 })));
    assert_eq!(before[0].time.unix_nanos(), T0 - 60_000_000_000);
    assert_eq!(before[1].summary, "before the window");
    for r in server.seen().iter().filter(|r| r.param("direction") == Some("forward")) {
        assert_eq!(r.param("start"), Some(T0.to_string().as_str()), "no page before the window is asked for");
    }
    let counts =
        server.seen().iter().filter(|r| r.param("query").is_some_and(|q| q.contains("count_over_time"))).count();
    assert_eq!(counts, 1);
    assert!(
        sink.notes.iter().any(|n| n.contains("Loki counted 1 lines of 1 services in 60-second steps")),
        "{:?}",
        sink.notes
    );
}

#[test]
fn loki_pages_across_equal_nanoseconds_lose_and_repeat_nothing() {
    let lines = loki_lines();
    let data = lines.clone();
    let server = serve(move |r| match query_range(&data, r) {
        Ok(v) => Reply::json(&v),
        Err(e) => Reply::text(400, &e),
    })
    .unwrap();
    // Ten a page, seven at each instant: every page ends inside an instant.
    let (sink, r) = run(Box::new(loki_source(&server.url, 10, Duration::from_secs(10))));
    r.unwrap();
    let mut got: Vec<String> = sink.events.iter().map(|e| e.summary.clone()).collect();
    got.sort();
    let mut want: Vec<String> =
        lines.iter().filter(|(_, _, t)| t.contains(" line ")).map(|(_, _, t)| t.clone()).collect();
    want.sort();
    assert_eq!(got, want, "every line in the window once");
    // In time order, from the stream labels.
    assert!(sink.events.windows(2).all(|w| w[0].time <= w[1].time));
    let err = sink.events.iter().find(|e| e.summary == "level=error line 11").unwrap();
    assert_eq!(err.severity, Some(reconstruct_core::Severity::Error));
    assert_eq!(&*err.component, "db");
    let loc = err.evidence.locator.to_string();
    assert!(loc.starts_with("logcli query --addr=http://127.0.0.1:"), "{loc}");
    assert!(loc.contains("--org-id=team-a") && loc.contains("'{app=\"db\", env=\"prod\"}'"), "{loc}");
    assert!(!loc.contains("s3cret"));
    // Every request: the tenant, basic auth, and a start that never goes back.
    let seen = server.seen();
    assert!(seen.len() >= 4, "{} requests for 30 lines at 10 a page", seen.len());
    let mut last = 0i64;
    for r in &seen {
        assert_eq!(r.path, "/loki/api/v1/query_range");
        assert_eq!(r.header("x-scope-orgid"), Some("team-a"));
        assert_eq!(r.header("authorization"), Some("Basic b3BzOnMzY3JldA=="), "ops:s3cret");
        assert_eq!(r.param("query"), Some("{env=\"prod\"}"));
        assert_eq!(r.param("end"), Some((T0 + 3_600_000_000_001).to_string().as_str()));
        let start: i64 = r.param("start").unwrap().parse().unwrap();
        assert!(start >= last && start >= T0);
        last = start;
    }
    assert!(sink.notes.iter().any(|n| n.contains("30 lines in") && n.contains("10 a page")), "{:?}", sink.notes);
}

#[test]
fn loki_more_lines_at_one_instant_than_a_page_is_said() {
    // Seven lines at each instant, three a page: the four past the limit
    // at an instant cannot be asked for.
    let data = loki_lines();
    let server = serve(move |r| Reply::json(&query_range(&data, r).unwrap())).unwrap();
    let (sink, r) = run(Box::new(loki_source(&server.url, 3, Duration::from_secs(10))));
    r.unwrap();
    assert!(
        sink.diagnostics.iter().any(|d| d.message.starts_with("more than 3 lines at 2025-12-26T14:00:00")),
        "{:?}",
        sink.diagnostics
    );
    let n = sink.events.len();
    assert!((10..30).contains(&n), "{n}");
}

/// A server that answers `fail` for the requests numbered in `when` (from 0)
/// and Loki's answer otherwise.
fn flaky(when: &'static [u32], fail: Reply) -> (reconstruct_stores::replay::Server, Arc<AtomicU32>) {
    let data = loki_lines();
    let n = Arc::new(AtomicU32::new(0));
    let count = n.clone();
    let server = serve(move |r| {
        let i = count.fetch_add(1, Ordering::SeqCst);
        if when.contains(&i) {
            fail.clone()
        } else {
            Reply::json(&query_range(&data, r).unwrap())
        }
    })
    .unwrap();
    (server, n)
}

#[test]
fn loki_busy_and_cut_off_answers_are_retried_within_the_timeout() {
    let (server, _) = flaky(&[1, 2], Reply::busy(429, Some(1)));
    let t = Instant::now();
    let (sink, r) = run(Box::new(loki_source(&server.url, 10, Duration::from_secs(10))));
    r.unwrap();
    assert!(t.elapsed() >= Duration::from_secs(2), "Retry-After: 1 was honoured twice");
    assert_eq!(sink.events.len(), 30);
    assert!(sink.notes.iter().any(|n| n == "2 requests retried (busy or cut off)"), "{:?}", sink.notes);

    let (server, _) = flaky(&[0], Reply::busy(503, None));
    let (sink, r) = run(Box::new(loki_source(&server.url, 10, Duration::from_secs(10))));
    r.unwrap();
    assert_eq!(sink.events.len(), 30);

    let page = serde_json::to_vec(&query_range(&loki_lines(), &fake_request()).unwrap()).unwrap();
    let (server, _) = flaky(&[1], Reply::CutOff(page));
    let (sink, r) = run(Box::new(loki_source(&server.url, 10, Duration::from_secs(10))));
    r.unwrap();
    assert_eq!(sink.events.len(), 30, "the cut-off page was asked for again");
}

fn fake_request() -> Seen {
    Seen {
        method: "GET".into(),
        path: "/loki/api/v1/query_range".into(),
        query: vec![
            ("start".into(), T0.to_string()),
            ("end".into(), (T0 + 3_600_000_000_001).to_string()),
            ("limit".into(), "10".into()),
            ("direction".into(), "forward".into()),
        ],
        headers: Vec::new(),
        body: Vec::new(),
    }
}

#[test]
fn loki_failures_are_named_and_earlier_pages_kept() {
    // Page two fails for good: page one's lines stay, the error says why.
    let (server, _) = flaky(&[1, 2, 3, 4, 5, 6, 7, 8, 9], Reply::text(500, "ingester unavailable"));
    let (sink, r) = run(Box::new(loki_source(&server.url, 10, Duration::from_secs(10))));
    let err = r.unwrap_err();
    assert!(err.contains("answered HTTP 500") && err.contains("ingester unavailable"), "{err}");
    assert_eq!(sink.events.len(), 10, "page one kept");

    // Always busy: retried until the timeout, then named.
    let (server, n) = flaky(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], Reply::busy(429, None));
    let t = Instant::now();
    let (_, r) = run(Box::new(loki_source(&server.url, 10, Duration::from_secs(2))));
    let err = r.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(4));
    assert!(err.contains("kept answering HTTP 429") && err.contains("until the source's 2s ran out"), "{err}");
    assert!(n.load(Ordering::SeqCst) >= 3, "retried with backoff");

    // No answer at all: cut off at the timeout.
    let server = serve(|_| Reply::Silence).unwrap();
    let t = Instant::now();
    let (_, r) = run(Box::new(loki_source(&server.url, 10, Duration::from_secs(2))));
    let err = r.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(err.contains("did not answer /loki/api/v1/query_range within the source's 2s"), "{err}");

    // Always cut off: named after a few tries.
    let page = serde_json::to_vec(&query_range(&loki_lines(), &fake_request()).unwrap()).unwrap();
    let server = serve(move |_| Reply::CutOff(page.clone())).unwrap();
    let (_, r) = run(Box::new(loki_source(&server.url, 10, Duration::from_secs(10))));
    let err = r.unwrap_err();
    assert!(err.contains("unusable answer") && err.contains("cut off"), "{err}");

    // A metric query is not a log query.
    let server =
        serve(|_| Reply::json(&json!({"status": "success", "data": {"resultType": "matrix", "result": []}}))).unwrap();
    let (_, r) = run(Box::new(loki_source(&server.url, 10, Duration::from_secs(5))));
    assert!(r.unwrap_err().contains("give a log query"));
}

#[test]
fn loki_refusing_a_page_larger_than_its_cap_is_read_at_the_cap() {
    let data = loki_lines();
    let server = serve(move |r| {
        let limit: u32 = r.param("limit").unwrap().parse().unwrap();
        if limit > 8 {
            return Reply::text(
                400,
                &format!("max entries limit per query exceeded, limit > max_entries_limit_per_query ({limit} > 8)"),
            );
        }
        Reply::json(&query_range(&data, r).unwrap())
    })
    .unwrap();
    let (sink, r) = run(Box::new(loki_source(&server.url, 20, Duration::from_secs(10))));
    r.unwrap();
    assert_eq!(sink.events.len(), 30, "every line in the window");
    assert!(sink.notes.iter().any(|n| n == "Loki refused 20 lines a page: read at its cap of 8"), "{:?}", sink.notes);
    assert!(sink.notes.iter().any(|n| n.contains("(forward, 8 a page)")), "{:?}", sink.notes);
    assert_eq!(
        loki::entries_cap("max entries limit per query exceeded, limit > max_entries_limit (10000 > 5000)"),
        Some(5000)
    );
    assert_eq!(loki::entries_cap("parse error at line 1"), None);
}

/// A Loki whose streams do not all carry the same labels: two have
/// `service_name`, one (an old Promtail job) only `job`. Its query_range
/// evaluates the one selector shape a query chosen from labels has.
fn mixed_loki(labels: Reply) -> reconstruct_stores::replay::Server {
    let streams: Vec<(Value, i64, &str)> = vec![
        (json!({"service_name": "api", "job": "k8s/api"}), T0 + 60_000_000_000, "level=error upstream timed out"),
        (json!({"service_name": "worker"}), T0 + 61_000_000_000, "job 7 failed"),
        (json!({"job": "legacy-cron"}), T0 + 62_000_000_000, "cron ran"),
    ];
    let labels = std::sync::Mutex::new(Some(labels));
    serve(move |r| {
        if r.path == "/loki/api/v1/labels" {
            if r.param("start") != Some(T0.to_string().as_str())
                || r.param("end") != Some((T0 + 3_600_000_000_001).to_string().as_str())
                || r.header("x-scope-orgid") != Some("team-a")
            {
                return Reply::text(400, "labels asked without the window in nanoseconds or the tenant");
            }
            return labels.lock().unwrap().take().unwrap_or_else(|| Reply::text(500, "asked twice"));
        }
        let q = r.param("query").unwrap_or_default();
        let Some(label) = q.strip_prefix('{').and_then(|q| q.strip_suffix("=~\".+\"}")) else {
            return Reply::text(400, &format!("parse error: {q}"));
        };
        let start: i64 = r.param("start").unwrap().parse().unwrap();
        let result: Vec<Value> = streams
            .iter()
            .filter(|(l, ns, _)| l.get(label).is_some() && *ns >= start)
            .map(|(l, ns, text)| json!({"stream": l, "values": [[ns.to_string(), text]]}))
            .collect();
        Reply::json(&json!({"status": "success", "data": {"resultType": "streams", "result": result}}))
    })
    .unwrap()
}

fn every_stream(url: &str) -> LokiLive {
    let mut s = loki_source(url, 100, Duration::from_secs(5));
    s.query.logql = None;
    s
}

#[test]
fn loki_with_no_query_reads_the_label_most_streams_carry_and_names_the_rest() {
    let labels = Reply::json(&json!({"status": "success", "data": ["__stream_shard__", "job", "service_name"]}));
    let server = mixed_loki(labels);
    let (sink, r) = run(Box::new(every_stream(&server.url)));
    r.unwrap();
    let got: Vec<(&str, &str)> = sink.events.iter().map(|e| (&*e.component, e.summary.as_str())).collect();
    assert_eq!(got, [("api", "level=error upstream timed out"), ("worker", "job 7 failed")]);
    let asked: Vec<String> = server.seen().iter().filter_map(|r| r.param("query").map(str::to_string)).collect();
    assert_eq!(asked, ["{service_name=~\".+\"}"]);
    let note = sink.notes.iter().find(|n| n.starts_with("no query given")).unwrap();
    assert!(note.contains("service_name label") && note.contains("__stream_shard__, job, service_name"), "{note}");
    // The row's context names the query that ran.
    assert!(sink.events[0].evidence.excerpt.contains("query: {service_name=~\".+\"}"));

    // Capture keeps the choice: reading the saved pages back says the same.
    let server = mixed_loki(Reply::json(&json!({"status": "success", "data": ["job", "service_name"]})));
    let endpoint = every_stream(&server.url).endpoint;
    let query = every_stream(&server.url).query;
    let mut saved = Vec::new();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(reconstruct_stores::save_loki(
        endpoint,
        &query,
        None,
        &window(),
        Duration::from_secs(5),
        &mut saved,
        &mut |_| {},
    ))
    .unwrap();
    let mut back = VecSink::default();
    let ctx = CollectContext { window: window(), detail: Detail::All, anchor: None };
    reconstruct_stores::read_saved(&saved[..], "loki/a.jsonl", reconstruct_core::SourceKind::Loki, &ctx, &mut back)
        .unwrap();
    assert_eq!(back.events.len(), 2);
    assert!(back.notes.iter().any(|n| n.contains("service_name label") && n.contains("job, service_name")));
}

#[test]
fn loki_with_no_query_and_no_labels_api_or_no_streams_says_so() {
    // Labels listed, none of the usual ones: the first listed.
    let server = mixed_loki(Reply::json(&json!({"status": "success", "data": ["job"]})));
    let (sink, r) = run(Box::new(every_stream(&server.url)));
    r.unwrap();
    assert_eq!(sink.events.len(), 2, "the two streams with a job label");

    // A proxy without the labels API: the usual job label, said.
    let server = mixed_loki(Reply::text(404, "404 page not found"));
    let (sink, r) = run(Box::new(every_stream(&server.url)));
    r.unwrap();
    assert_eq!(sink.events.len(), 2);
    assert!(sink.notes.iter().any(|n| n.contains("labels API answered HTTP 404") && n.contains("{job=~\".+\"}")));

    // No label in the window: no stream there, and no query is sent.
    let server = mixed_loki(Reply::json(&json!({"status": "success"})));
    let (sink, r) = run(Box::new(every_stream(&server.url)));
    r.unwrap();
    assert!(sink.events.is_empty());
    assert!(sink.notes.iter().any(|n| n.contains("lists no label for the window")), "{:?}", sink.notes);
    assert!(server.seen().iter().all(|r| r.path == "/loki/api/v1/labels"));

    // A refusal other than a missing API is the source's failure.
    let server = mixed_loki(Reply::text(401, "no org id"));
    let (_, r) = run(Box::new(every_stream(&server.url)));
    assert!(r.unwrap_err().contains("answered HTTP 401"));
}

// ---- Elasticsearch / OpenSearch ----

/// 25 ECS documents, several per millisecond, in a store that serves
/// `search_after` the way Elasticsearch does: sorted by time then the tiebreaker.
fn documents() -> Vec<Value> {
    (0..25i64)
        .map(|i| {
            let ms = i / 4;
            json!({
                "_index": format!("logs-{}", i % 2),
                "_id": format!("d{i:02}"),
                "_source": {
                    "@timestamp": format!("2025-12-26T14:00:{:02}.{:03}Z", 1 + ms / 1000, ms % 1000),
                    "log": {"level": if i == 7 { "ERROR" } else { "INFO" }},
                    "service": {"name": if i % 2 == 0 { "api" } else { "worker" }},
                    "host.name": "web-1",
                    "message": format!("doc {i}")
                }
            })
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Flavour {
    Elasticsearch,
    OpenSearch,
    Neither,
}

/// A store: point in time of its flavour, search with `size` and
/// `search_after` over (time, position), checking each body.
fn store(flavour: Flavour, fail_on: Option<(u32, Reply)>) -> (reconstruct_stores::replay::Server, Arc<AtomicU32>) {
    let docs = documents();
    let searches = Arc::new(AtomicU32::new(0));
    let count = searches.clone();
    let server = serve(move |r| {
        let pit_es = r.path == "/logs-*/_pit";
        let pit_os = r.path == "/logs-*/_search/point_in_time";
        if r.method == "POST" && (pit_es || pit_os) {
            assert_eq!(r.param("keep_alive"), Some("2m"));
            return match (flavour, pit_es) {
                (Flavour::Elasticsearch, true) => Reply::json(&json!({"id": "PIT-ES-1"})),
                (Flavour::OpenSearch, false) => Reply::json(&json!({"pit_id": "PIT-OS-1"})),
                _ => Reply::text(404, "{\"error\":\"no handler\"}"),
            };
        }
        if r.method == "DELETE" {
            return Reply::json(&json!({"succeeded": true}));
        }
        let i = count.fetch_add(1, Ordering::SeqCst);
        if let Some((n, reply)) = &fail_on {
            if i == *n {
                return reply.clone();
            }
        }
        let b = r.json();
        let range = &b["query"]["bool"]["filter"][0]["range"]["@timestamp"];
        assert_eq!(range["gte"], "2025-12-26T14:00:00.000000000Z", "{b}");
        assert_eq!(range["lte"], "2025-12-26T15:00:00.000000000Z", "{b}");
        let size = b["size"].as_u64().unwrap() as usize;
        match flavour {
            Flavour::Elasticsearch => {
                assert_eq!(r.path, "/_search");
                assert_eq!(b["pit"]["id"], "PIT-ES-1");
                assert_eq!(b["sort"][1], json!({"_shard_doc": "asc"}));
            }
            Flavour::OpenSearch => {
                assert_eq!(r.path, "/_search");
                assert_eq!(b["pit"]["id"], "PIT-OS-1");
            }
            Flavour::Neither => {
                assert_eq!(r.path, "/logs-*/_search");
                assert!(b.get("pit").is_none());
            }
        }
        let from = match b.get("search_after") {
            Some(a) => a[1].as_u64().unwrap() as usize + 1,
            None => 0,
        };
        let hits: Vec<Value> = docs
            .iter()
            .enumerate()
            .skip(from)
            .take(size)
            .map(|(pos, d)| {
                let mut d = d.clone();
                d["sort"] = json!([d["_source"]["@timestamp"], pos]);
                d
            })
            .collect();
        Reply::json(&json!({"took": 1, "timed_out": false, "pit_id": b["pit"]["id"], "hits": {"hits": hits}}))
    })
    .unwrap();
    (server, searches)
}

fn es_source(url: &str, timeout: Duration) -> ElasticLive {
    let env = HashMap::from([("ELASTICSEARCH_BEARER_TOKEN".to_string(), "tok3n".to_string())]);
    ElasticLive {
        endpoint: Endpoint::parse("Elasticsearch", url, "ELASTICSEARCH", &env).unwrap(),
        search: Search { index: "logs-*".into(), time_field: "@timestamp".into(), query: None, page: 4 },
        timeout,
    }
}

#[test]
fn elasticsearch_and_opensearch_read_every_hit_through_a_point_in_time() {
    for flavour in [Flavour::Elasticsearch, Flavour::OpenSearch, Flavour::Neither] {
        let (server, searches) = store(flavour, None);
        let (sink, r) = run(Box::new(es_source(&server.url, Duration::from_secs(10))));
        r.unwrap();
        let got: Vec<String> = sink.events.iter().map(|e| e.summary.clone()).collect();
        let want: Vec<String> = (0..25).map(|i| format!("doc {i}")).collect();
        assert_eq!(got, want);
        assert_eq!(searches.load(Ordering::SeqCst), 7, "25 hits at 4 a page, and the empty page ending it");
        let e = &sink.events[7];
        assert_eq!(e.severity, Some(reconstruct_core::Severity::Error));
        assert_eq!(&*e.component, "worker");
        assert_eq!(e.evidence.locator.to_string(), format!("GET {}/logs-1/_doc/d07", server.url));
        assert!(e.evidence.excerpt.contains("host: web-1"));
        let seen = server.seen();
        assert!(seen.iter().all(|r| r.header("authorization") == Some("Bearer tok3n")));
        let view = match flavour {
            Flavour::Elasticsearch => "in an Elasticsearch point in time",
            Flavour::OpenSearch => "in an OpenSearch point in time",
            Flavour::Neither => "without a point in time",
        };
        assert!(
            sink.notes.iter().any(|n| n.starts_with("25 hits of logs-* in 7 pages") && n.contains(view)),
            "{:?}",
            sink.notes
        );
        if flavour != Flavour::Neither {
            assert!(seen.last().is_some_and(|r| r.method == "DELETE"), "the point in time is closed");
        }
    }
}

#[test]
fn elasticsearch_failures_are_retried_or_named() {
    let (server, _) = store(Flavour::Elasticsearch, Some((2, Reply::busy(429, Some(1)))));
    let (sink, r) = run(Box::new(es_source(&server.url, Duration::from_secs(10))));
    r.unwrap();
    assert_eq!(sink.events.len(), 25);

    let (server, _) =
        store(Flavour::Elasticsearch, Some((2, Reply::text(500, "{\"error\":\"search_phase_execution_exception\"}"))));
    let (sink, r) = run(Box::new(es_source(&server.url, Duration::from_secs(10))));
    let err = r.unwrap_err();
    assert!(err.contains("HTTP 500") && err.contains("search_phase_execution_exception"), "{err}");
    assert_eq!(sink.events.len(), 8, "the two pages before the failure are kept");
    assert!(server.seen().last().is_some_and(|r| r.method == "DELETE"), "closed even after a failure");

    let server =
        serve(|r| if r.path.ends_with("_pit") { Reply::json(&json!({"id": "P"})) } else { Reply::Silence }).unwrap();
    let t = Instant::now();
    let (_, r) = run(Box::new(es_source(&server.url, Duration::from_secs(2))));
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(r.unwrap_err().contains("did not answer /_search within the source's 2s"));
}

/// More than 10,000 hits (Elasticsearch's `index.max_result_window`, past
/// which `from` paging is refused): read whole with `search_after`.
#[test]
fn a_window_of_more_than_ten_thousand_hits_is_read_whole() {
    const N: usize = 10_050;
    let server = serve(|r: &Seen| {
        if r.path.ends_with("/_pit") {
            return Reply::json(&json!({"id": "P"}));
        }
        if r.method == "DELETE" {
            return Reply::json(&json!({"succeeded": true}));
        }
        let b = r.json();
        if b.get("from").is_some() {
            return Reply::text(400, "{\"error\":\"Result window is too large\"}");
        }
        let size = b["size"].as_u64().unwrap() as usize;
        let from = b.get("search_after").map_or(0, |a| a[1].as_u64().unwrap() as usize + 1);
        let hits: Vec<Value> = (from..N.min(from + size))
            .map(|i| {
                // Ten hits a millisecond.
                let ts = format!("2025-12-26T14:00:{:02}.{:03}Z", 1 + i / 10_000, (i / 10) % 1000);
                json!({"_index": "logs", "_id": format!("{i}"), "sort": [ts, i],
                    "_source": {"@timestamp": ts, "log.level": "error", "message": format!("hit {i}")}})
            })
            .collect();
        Reply::json(&json!({"timed_out": false, "hits": {"hits": hits}}))
    })
    .unwrap();
    let mut c = es_source(&server.url, Duration::from_secs(30));
    c.search.page = 1000;
    let (sink, r) = run(Box::new(c));
    r.unwrap();
    assert_eq!(sink.events.len(), N);
    assert_eq!(sink.events.last().unwrap().summary, format!("hit {}", N - 1));
    assert!(sink.events.windows(2).all(|w| w[0].time <= w[1].time));
}
