#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The binary against Loki, Elasticsearch and Kubernetes played by the
//! replaying server from recorded answers: the three merge into one
//! timeline, each named in coverage; `capture` saves them (masked with
//! `--redact`) and `--fixtures` rebuilds the same rows; a store that fails
//! is named while the others render, and the exit status says partial.

use std::process::{Command, Output};

use reconstruct_stores::replay::{serve, Reply, Seen, Server};
use serde_json::{json, Value};

const WINDOW: [&str; 4] = ["--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reconstruct"))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("LOKI_PASSWORD", "l0ki-pass")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// Loki with three lines: one carries a password someone logged.
fn loki() -> Server {
    serve(|r: &Seen| {
        assert_eq!(r.header("x-scope-orgid"), Some("shop"));
        assert!(r.header("authorization").is_some_and(|a| a.starts_with("Basic ")));
        // With no --loki-query, the window's labels choose the query.
        if r.path == "/loki/api/v1/labels" {
            return Reply::json(&json!({"status": "success", "data": ["app", "namespace"]}));
        }
        let start: i64 = r.param("start").unwrap().parse().unwrap();
        let lines = [
            (1_766_757_900_000_000_000i64, "api", "ERROR upstream payments timed out after 30s"),
            (1_766_757_960_000_000_000, "api", "WARN retrying with password=hunter2 for db"),
            (1_766_758_200_000_000_000, "gateway", "ERROR 502 from api"),
        ];
        let result: Vec<Value> = lines
            .iter()
            .filter(|(ns, _, _)| *ns >= start)
            .map(|(ns, app, text)| json!({"stream": {"app": app, "namespace": "shop"}, "values": [[ns.to_string(), text]]}))
            .collect();
        Reply::json(&json!({"status": "success", "data": {"resultType": "streams", "result": result}}))
    })
    .unwrap()
}

/// An Elasticsearch with two documents and a point in time.
fn elastic() -> Server {
    serve(|r: &Seen| {
        if r.path.ends_with("/_pit") {
            return Reply::json(&json!({"id": "P1"}));
        }
        if r.method == "DELETE" {
            return Reply::json(&json!({"succeeded": true}));
        }
        let b = r.json();
        let hits = if b.get("search_after").is_some() {
            vec![]
        } else {
            vec![
                json!({"_index": "logs-2025.12.26", "_id": "a", "sort": [1, 1], "_source": {
                    "@timestamp": "2025-12-26T14:06:00.000Z", "log.level": "error",
                    "service": {"name": "billing"}, "message": "invoice run failed: connection refused"}}),
                json!({"_index": "logs-2025.12.26", "_id": "b", "sort": [2, 2], "_source": {
                    "@timestamp": "2025-12-26T14:07:00.000Z", "log.level": "info",
                    "service": {"name": "billing"}, "message": "invoice run retried"}}),
            ]
        };
        Reply::json(&json!({"timed_out": false, "hits": {"hits": hits}}))
    })
    .unwrap()
}

/// A cluster with one OOM-killed pod, an Event and a log.
fn kubernetes() -> Server {
    serve(|r: &Seen| {
        let list = |kind: &str, items: Vec<Value>| {
            Reply::json(&json!({"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "1"}, "items": items}))
        };
        match r.path.as_str() {
            "/api/v1/namespaces/shop/pods" => list("PodList", vec![json!({
                "metadata": {"name": "api-1", "namespace": "shop", "labels": {"app": "api"}},
                "spec": {"containers": [{"name": "api"}]},
                "status": {"phase": "Running", "containerStatuses": [{
                    "name": "api", "image": "api:1", "imageID": "", "ready": true, "restartCount": 1,
                    "state": {"running": {"startedAt": "2025-12-26T14:05:20Z"}},
                    "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": "2025-12-26T14:05:10Z"}}
                }]}
            })]),
            "/api/v1/namespaces/shop/events" => list("EventList", vec![json!({
                "metadata": {"name": "e", "namespace": "shop", "uid": "u1"},
                "involvedObject": {"kind": "Pod", "name": "api-1", "namespace": "shop"},
                "reason": "BackOff", "message": "Back-off restarting failed container", "type": "Warning",
                "lastTimestamp": "2025-12-26T14:05:15Z"})]),
            "/apis/events.k8s.io/v1/namespaces/shop/events" => list("EventList", vec![]),
            "/api/v1/namespaces/shop/pods/api-1/log" => Reply::text(
                200,
                if r.param("previous") == Some("true") {
                    "2025-12-26T14:05:09.000000000Z FATAL heap exhausted\n"
                } else {
                    "2025-12-26T14:05:21.000000000Z started\n"
                },
            ),
            other => Reply::text(404, other),
        }
    })
    .unwrap()
}

fn kubeconfig(dir: &std::path::Path, url: &str) -> String {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: recorded\nclusters:\n- name: rec\n  cluster:\n    server: {url}\n\
             users:\n- name: ops\n  user:\n    token: t\ncontexts:\n- name: recorded\n  context:\n    cluster: rec\n    user: ops\n    namespace: shop\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn rows(o: &Output) -> Vec<(String, String, String, String)> {
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)));
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("time"), s("collector"), s("component"), s("event"))
        })
        .collect()
}

fn coverage(o: &Output) -> Vec<(String, String)> {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["collector"].as_str().unwrap().to_string(), c["status"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn loki_elasticsearch_and_kubernetes_merge_capture_and_read_back() {
    let (l, e, k) = (loki(), elastic(), kubernetes());
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(dir.path(), &k.url);
    let loki_url = format!("http://ops@{}", l.url.trim_start_matches("http://"));
    let sources = [
        "--loki",
        &loki_url,
        "--loki-query",
        "{namespace=\"shop\"}",
        "--loki-tenant",
        "shop",
        "--elasticsearch",
        &e.url,
        "--index",
        "logs-*",
        "--kubernetes",
        "--kubeconfig",
        &kc,
        "--no-git",
    ];
    let mut args = vec!["--format", "json", "--all"];
    args.extend(sources);
    args.extend(WINDOW);
    let live = run(&args);
    assert_eq!(live.status.code(), Some(0), "{}", String::from_utf8_lossy(&live.stderr));
    let got = rows(&live);
    let text = String::from_utf8_lossy(&live.stdout);
    for want in [
        ("2025-12-26T14:05:00Z", "loki", "api", "ERROR upstream payments timed out after 30s"),
        ("2025-12-26T14:05:09Z", "kubernetes", "api", "FATAL heap exhausted"),
        (
            "2025-12-26T14:05:10Z",
            "kubernetes",
            "api",
            "container api-1/api OOM-killed (exit code 137), 1 restart so far",
        ),
        ("2025-12-26T14:06:00Z", "elasticsearch", "billing", "invoice run failed: connection refused"),
        ("2025-12-26T14:10:00Z", "loki", "gateway", "ERROR 502 from api"),
    ] {
        let want = (want.0.to_string(), want.1.to_string(), want.2.to_string(), want.3.to_string());
        assert!(got.contains(&want), "{want:?} not in {got:#?}");
    }
    assert!(!text.contains("hunter2"), "the logged password is masked in the output");
    assert!(!text.contains("l0ki-pass"));
    let mut kinds: Vec<String> = coverage(&live).into_iter().map(|(c, s)| format!("{c} {s}")).collect();
    kinds.sort();
    assert_eq!(kinds, ["elasticsearch ok", "kubernetes ok", "loki ok"]);

    // Captured with --redact, then read back: the same rows, and no secret in the bundle.
    let bundle = dir.path().join("bundle");
    let b = bundle.to_str().unwrap();
    let mut cap = vec!["capture", "--redact", "--out", b];
    cap.extend(sources);
    cap.extend(WINDOW);
    let c = run(&cap);
    assert_eq!(c.status.code(), Some(0), "{}", String::from_utf8_lossy(&c.stderr));
    for f in walk(&bundle) {
        let body = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(!body.contains("hunter2") && !body.contains("l0ki-pass"), "{}", f.display());
    }
    let mut back_args = vec!["--fixtures", b, "--format", "json", "--all"];
    back_args.extend(WINDOW);
    let back = run(&back_args);
    assert_eq!(back.status.code(), Some(0), "{}", String::from_utf8_lossy(&back.stderr));
    assert_eq!(rows(&back), got);
    assert_eq!(run(&["verify", b]).status.code(), Some(0));
}

/// Each store, and a cluster, through the round trip every kind must pass.
#[test]
fn every_store_round_trips() {
    let (l, e, k) = (loki(), elastic(), kubernetes());
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(dir.path(), &k.url);
    let url = format!("http://ops:l0ki-pass@{}", l.url.trim_start_matches("http://"));
    let loki = support::round_trip(
        dir.path(),
        &["--loki", &url, "--loki-query", "{namespace=\"shop\"}", "--loki-tenant", "shop", "--no-git"],
    );
    assert!(loki.iter().any(|r| r.1 == "loki"), "{loki:?}");
    let es = support::round_trip(dir.path(), &["--elasticsearch", &e.url, "--index", "logs-*", "--no-git"]);
    assert!(es.iter().any(|r| r.1 == "elasticsearch"), "{es:?}");
    let kube = support::round_trip(dir.path(), &["--kubernetes", "--kubeconfig", &kc, "--no-git"]);
    assert!(kube.iter().any(|r| r.1 == "kubernetes"), "{kube:?}");
}

fn walk(d: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_failing_store_is_named_and_the_others_render() {
    let l = serve(|_| Reply::text(500, "too many outstanding requests")).unwrap();
    let k = kubernetes();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(dir.path(), &k.url);
    let mut args =
        vec!["--format", "json", "--loki", &l.url, "--kubernetes", "--kubeconfig", &kc, "--no-git", "--timeout", "5"];
    args.extend(WINDOW);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(3), "partial: {}", String::from_utf8_lossy(&o.stderr));
    let cov = coverage(&o);
    assert!(cov.contains(&("kubernetes".into(), "ok".into())), "{cov:?}");
    assert!(cov.iter().any(|(c, s)| c == "loki" && s != "ok"), "{cov:?}");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("answered HTTP 500") && text.contains("too many outstanding requests"), "{text}");
    assert!(rows(&o).iter().any(|r| r.1 == "kubernetes"));

    // Captured, the failure is in the manifest; replayed, it fails again, by name, and the exit says partial.
    let bundle = dir.path().join("bundle");
    let b = bundle.to_str().unwrap();
    let mut cap = vec!["capture", "--out", b, "--loki", &l.url, "--kubernetes", "--kubeconfig", &kc, "--no-git"];
    cap.extend(["--timeout", "5"]);
    cap.extend(WINDOW);
    let c = run(&cap);
    assert_eq!(c.status.code(), Some(3), "{}", String::from_utf8_lossy(&c.stderr));
    let mut back = vec!["--fixtures", b, "--format", "json"];
    back.extend(WINDOW);
    let r = run(&back);
    assert_eq!(r.status.code(), Some(3), "a partial capture replays as partial");
    let cov = coverage(&r);
    assert!(cov.contains(&("kubernetes".into(), "ok".into())), "{cov:?}");
    assert!(cov.iter().any(|(c, s)| c == "loki" && s != "ok"), "{cov:?}");
    assert!(String::from_utf8_lossy(&r.stdout).contains("failed at capture: "), "the replay says it failed at capture");
}

mod support;

/// One run over a log file, a journal written by systemd-journal-remote,
/// Loki and Kubernetes from recorded answers, and a real VictoriaMetrics
/// holding an alert's `ALERTS` series: one merged timeline, every source ok
/// in coverage, each with its rows.
#[cfg(feature = "real-services")]
#[test]
fn a_mixed_run_merges_files_journal_loki_kubernetes_and_victoriametrics() {
    let vm = std::env::var("RECONSTRUCT_TEST_VM_URL")
        .expect("RECONSTRUCT_TEST_VM_URL is not set: run the tests with scripts/test, which starts VictoriaMetrics");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("backend.log");
    std::fs::write(&log, "2025-12-26T14:03:00Z ERROR backend pool exhausted\n2025-12-26T14:03:01Z INFO request ok\n")
        .unwrap();
    let journal = support::journal_dir(dir.path());
    // The series vmalert writes, for an alert that fired 14:04:00–14:06:00 and resolved.
    let alert = "ALERTS{alertname=\"MixedApiDown\",alertstate=\"firing\",severity=\"critical\",job=\"api\"}";
    let body: String =
        (0..=120i64).step_by(15).map(|s| format!("{alert} 1 {}\n", (1_766_757_840 + s) * 1000)).collect();
    let client = reqwest_free_post(&format!("{vm}/api/v1/import/prometheus"), &body);
    assert!(client, "VictoriaMetrics took the ALERTS samples");
    let (l, k) = (loki(), kubernetes());
    let kc = kubeconfig(dir.path(), &k.url);
    let loki_url = format!("http://ops@{}", l.url.trim_start_matches("http://"));
    let mut args = vec![
        "--format",
        "json",
        "--all",
        "--no-git",
        "--log",
        log.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
        "--loki",
        &loki_url,
        "--loki-tenant",
        "shop",
        "--kubernetes",
        "--kubeconfig",
        &kc,
        "--prometheus",
        &vm,
    ];
    args.extend(WINDOW);
    // VictoriaMetrics makes imported samples searchable within a second or two.
    let mut tries = 0;
    let o = loop {
        let o = run(&args);
        tries += 1;
        if rows(&o).iter().any(|r| r.1 == "prometheus") || tries == 10 {
            break o;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    };
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mut kinds: Vec<String> = coverage(&o).into_iter().map(|(c, s)| format!("{c} {s}")).collect();
    kinds.sort();
    assert_eq!(kinds, ["journal ok", "kubernetes ok", "logfile ok", "loki ok", "prometheus ok"]);
    let got = rows(&o);
    for collector in ["journal", "kubernetes", "logfile", "loki", "prometheus"] {
        assert!(got.iter().any(|r| r.1 == collector), "no {collector} row in {got:#?}");
    }
    assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "one time-sorted timeline");
    assert!(got.iter().any(|r| r.3.starts_with("alert MixedApiDown firing")), "{got:#?}");
    // A Prometheus-compatible cluster through the round trip every kind must pass.
    let prom = support::round_trip(dir.path(), &["--prometheus", &vm, "--no-git"]);
    assert!(prom.iter().any(|r| r.3.starts_with("alert MixedApiDown firing")), "{prom:#?}");
}

/// A POST with curl, so the test needs no HTTP client of its own.
#[cfg(feature = "real-services")]
fn reqwest_free_post(url: &str, body: &str) -> bool {
    let mut c = Command::new("curl")
        .args(["-fsS", "--data-binary", "@-", url])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(c.stdin.as_mut().unwrap(), body.as_bytes()).unwrap();
    c.wait().unwrap().success()
}

/// The shipped bundle of the central stores' scenario and its window.
const CLUSTER: &[&str] = &["--fixtures", "fixtures/inc-20260302-003"];
const SINCE: &[&str] = &["--since", "2026-03-02T13:50:00Z"];
const UNTIL: &[&str] = &["--until", "2026-03-02T14:30:00Z"];

/// The shipped bundle of the central stores' scenario, read with no services:
/// each saved kind goes to its collector and the rows a reviewer keeps are there.
#[test]
fn the_shipped_cluster_bundle_renders_every_saved_store() {
    let o = run(&[CLUSTER, SINCE, UNTIL, &["--format", "json"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mut kinds: Vec<String> = coverage(&o).into_iter().map(|(c, s)| format!("{c} {s}")).collect();
    kinds.sort();
    assert_eq!(kinds, ["elasticsearch ok", "git ok", "kubernetes ok", "loki ok", "swarm ok"]);
    let got = rows(&o);
    for (time, collector, row) in [
        ("2026-03-02T13:58:00Z", "git", "Commit c0ffee1: config: raise payments batch size to 5000 (Ana Silva)"),
        ("2026-03-02T14:00:05Z", "kubernetes", "deployment payments revision 12 rolled out (payments:4.1.0)"),
        ("2026-03-02T14:04:10Z", "loki", "level=error msg=\"upstream payments returned 502\" path=/checkout"),
        (
            "2026-03-02T14:05:02Z",
            "swarm",
            "swarm task legacy-reconciler.1 (task0abcdef0) failed: task: non-zero exit (2) (exit code 2)",
        ),
        ("2026-03-02T14:06:00Z", "elasticsearch", "invoice run failed: payments API returned 502 for 1,204 invoices"),
        (
            "2026-03-02T14:13:55Z",
            "kubernetes",
            "container payments-7d9f8-x2k4q/payments OOM-killed (exit code 137), 3 restarts so far",
        ),
    ] {
        assert!(
            got.iter().any(|r| r.0 == time && r.1 == collector && r.3.starts_with(row)),
            "{time} {row} not in {got:#?}"
        );
    }
}

/// The report's blind spots are those of the sources read: a swarm's task
/// history limit, not the standalone engine's event buffer it never asked.
#[test]
fn the_cluster_report_names_the_blind_spots_of_its_own_sources() {
    let o = run(&[&["report"][..], CLUSTER, SINCE, UNTIL].concat());
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let doc = String::from_utf8(o.stdout).unwrap();
    let spots = doc.split("Known blind spots:").nth(1).expect("a blind-spots list");
    assert!(spots.contains("A swarm keeps the last five tasks of each slot"), "{spots}");
    assert!(spots.contains("The Kubernetes API keeps Events about an hour"), "{spots}");
    assert!(spots.contains("Central log stores hold what their shippers delivered"), "{spots}");
    assert!(!spots.contains("The Docker engine keeps only its last 256 events"), "{spots}");
}

/// A Loki whose streams ran for the hour before the window: it answers the
/// count per service (a matrix, as `count_over_time` summed by `app`
/// gives), a service's last lines (backward, up to the limit), and the
/// window's lines page by page.
fn loki_with_a_past() -> Server {
    const S: i64 = 1_000_000_000;
    const WINDOW_SINCE: i64 = 1_766_757_600; // 2025-12-26T14:00:00Z
                                             // (seconds, app, line), in time order.
    let mut lines: Vec<(i64, &'static str, String)> = Vec::new();
    for t in (WINDOW_SINCE - 3600..WINDOW_SINCE).step_by(2) {
        lines.push((t, "api", "INFO GET /orders 200".to_string()));
        if t % 60 == 0 {
            lines.push((t, "api", format!("WARN cache miss for key {}", t % 997)));
        }
        if t % 6 == 0 {
            lines.push((t, "gateway", "INFO proxied /orders in 12ms".to_string()));
        }
    }
    for t in (WINDOW_SINCE..WINDOW_SINCE + 3600).step_by(2) {
        lines.push((t, "api", "INFO GET /orders 200".to_string()));
        if t % 60 == 0 {
            lines.push((t, "api", format!("WARN cache miss for key {}", t % 997)));
        }
    }
    for t in (WINDOW_SINCE..WINDOW_SINCE + 600).step_by(10) {
        lines.push((t, "gateway", "INFO proxied /orders in 14ms".to_string()));
    }
    // A new version of the gateway, forty minutes before the window: older
    // than its last 200 lines, found by the store's search for changes.
    lines.push((WINDOW_SINCE - 2400 + 1, "gateway", "INFO starting gateway version=3.1.0".to_string()));
    lines.push((WINDOW_SINCE + 300, "api", "ERROR upstream payments timed out after 30s".to_string()));
    lines.push((WINDOW_SINCE + 605, "gateway", "ERROR 502 from api".to_string()));
    lines.sort();
    serve(move |r: &Seen| {
        if r.path == "/loki/api/v1/labels" {
            return Reply::json(&json!({"status": "success", "data": ["app", "namespace"]}));
        }
        let query = r.param("query").unwrap().to_string();
        let (start, end): (i64, i64) = (r.param("start").unwrap().parse().unwrap(), r.param("end").unwrap().parse().unwrap());
        if query.contains("count_over_time") {
            // Summed by the one label that names the services (the labels API lists `app`).
            assert!(query.starts_with("sum by (app) (count_over_time({namespace=~\".+\"} [60s]))"), "{query}");
            let step: i64 = r.param("step").unwrap().trim_end_matches('s').parse().unwrap();
            let mut series: std::collections::BTreeMap<&str, Vec<Value>> = Default::default();
            let mut t = start / S;
            while t <= end / S {
                for app in ["api", "gateway"] {
                    let n = lines.iter().filter(|(s, a, _)| *a == app && *s >= t - step && *s < t).count();
                    if n > 0 {
                        series.entry(app).or_default().push(json!([t, n.to_string()]));
                    }
                }
                t += step;
            }
            let result: Vec<Value> =
                series.into_iter().map(|(app, values)| json!({"metric": {"app": app}, "values": values})).collect();
            return Reply::json(&json!({"status": "success", "data": {"resultType": "matrix", "result": result}}));
        }
        let limit: usize = r.param("limit").unwrap().parse().unwrap();
        let only = ["api", "gateway"].into_iter().find(|a| query.contains(&format!("app=\"{a}\"")));
        // The line filter of the search for changes, as Loki applies it.
        let words = query.contains("|~ `(?i)(version|starting");
        let mut chosen: Vec<&(i64, &str, String)> = lines
            .iter()
            .filter(|(s, a, _)| s * S >= start && s * S < end && only.is_none_or(|o| o == *a))
            .filter(|(_, _, text)| !words || ["version", "starting"].iter().any(|w| text.to_lowercase().contains(w)))
            .collect();
        if r.param("direction") == Some("backward") {
            chosen.reverse();
        }
        chosen.truncate(limit);
        let result: Vec<Value> = chosen
            .iter()
            .map(|(s, app, text)| json!({"stream": {"app": app, "namespace": "shop"}, "values": [[(s * S).to_string(), text]]}))
            .collect();
        Reply::json(&json!({"status": "success", "data": {"resultType": "streams", "result": result}}))
    })
    .unwrap()
}

#[test]
fn before_the_window_a_store_counts_and_samples_for_the_baseline_and_the_bundle_keeps_both() {
    let l = loki_with_a_past();
    let report = |args: &[&str]| {
        let mut a = vec!["report", "--format", "json", "--no-git", "--lookback", "1h"];
        a.extend(args);
        a.extend(WINDOW);
        let o = run(&a);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let live = report(&["--loki", &l.url]);
    let f = &live["findings"];
    // The baseline's pace is the store's count; its messages, the sample's.
    assert_eq!(f["baseline"]["unseen_services"], json!([]), "{f:#}");
    assert_eq!(f["baseline"]["events"], 1800 + 60 + 600 + 1, "{:#}", f["baseline"]);
    let new: Vec<&str> =
        f["new_messages"].as_array().unwrap().iter().map(|m| m["template"].as_str().unwrap()).collect();
    assert!(new.iter().any(|t| t.contains("upstream payments timed out")), "{new:?}");
    assert!(new.iter().any(|t| t.contains("ERROR <*> from api")), "{new:?}");
    assert!(!new.iter().any(|t| t.contains("cache miss")), "a warning of the baseline is not new: {new:?}");
    let recurring = f["recurring"].as_array().unwrap();
    assert!(recurring.iter().any(|m| m["template"].as_str().unwrap().contains("cache miss")), "{recurring:#?}");
    // The gateway, steady at ten lines a minute before, went quiet after its error.
    let silences = f["silences"].as_array().unwrap();
    assert_eq!(silences.len(), 1, "{silences:#?}");
    assert_eq!(silences[0]["service"], "gateway");
    assert_eq!(silences[0]["from"], "2025-12-26T14:10:05Z");
    assert_eq!(silences[0]["usual_gap_s"], 6.0);
    // The store was asked to count and to sample, not to page through the hour.
    let seen = l.seen();
    let counts: Vec<&Seen> =
        seen.iter().filter(|r| r.param("query").is_some_and(|q| q.contains("count_over_time"))).collect();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].param("step"), Some("60s"));
    let samples: Vec<String> = seen
        .iter()
        .filter(|r| r.param("direction") == Some("backward"))
        .map(|r| format!("{} {}", r.param("query").unwrap(), r.param("limit").unwrap()))
        .collect();
    assert_eq!(samples[..2], ["{namespace=~\".+\", app=\"api\"} 200", "{namespace=~\".+\", app=\"gateway\"} 200"]);
    assert!(samples[2].starts_with("{namespace=~\".+\"} |~ `(?i)(version|starting|"), "{samples:?}");
    // The version the store found is a change before the onset.
    let suspects = f["suspects"].as_array().unwrap();
    assert!(
        suspects.iter().any(|s| s["kind"] == "version" && s["summary"].as_str().unwrap().contains("version=3.1.0")),
        "{suspects:#?}"
    );
    let loki = live["coverage"].as_array().unwrap().iter().find(|c| c["collector"] == "loki").unwrap();
    let notes = loki["notes"].to_string();
    assert!(notes.contains("Loki counted 2461 lines of 2 services in 60-second steps"), "{notes}");
    assert!(notes.contains("a version, a start or a migration: 1 (up to 200)"), "{notes}");
    assert!(
        notes.contains("a sample of up to 200 of each service's last lines was read (400 lines of 2 services)"),
        "{notes}"
    );

    // A capture keeps the counts and the samples: the bundle gives the same findings.
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("bundle");
    let mut cap = vec!["capture", "--out", b.to_str().unwrap(), "--loki", &l.url, "--no-git", "--lookback", "1h"];
    cap.extend(WINDOW);
    let c = run(&cap);
    assert_eq!(c.status.code(), Some(0), "{}", String::from_utf8_lossy(&c.stderr));
    let back = report(&["--fixtures", b.to_str().unwrap()]);
    for k in ["new_messages", "recurring", "silences", "baseline", "spread"] {
        assert_eq!(back["findings"][k], live["findings"][k], "{k}");
    }
}

/// An Elasticsearch whose index holds the hour before the window: it says
/// `service.name` is a keyword, answers the aggregations (a `terms` bucket
/// per service with its `date_histogram` steps and `top_hits` sample) and
/// pages the window with `search_after` in a point in time.
fn elastic_with_a_past() -> Server {
    const SINCE: i64 = 1_766_757_600; // 2025-12-26T14:00:00Z
    let mut docs: Vec<(i64, &'static str, &'static str, String)> = Vec::new(); // (ms, service, level, message)
    for t in (SINCE - 3600..SINCE + 3600).step_by(6) {
        docs.push((t * 1000, "billing", "info", "invoice run ok".to_string()));
        if t % 60 == 0 {
            docs.push((t * 1000 + 1, "billing", "warn", format!("retrying payment provider after {} ms", t % 500)));
        }
        if t < SINCE + 600 {
            docs.push((t * 1000 + 2, "ledger", "info", "posted entries".to_string()));
        }
    }
    docs.push(((SINCE - 2400) * 1000 + 3, "ledger", "info", "ledger starting, version 4.2.0".to_string()));
    docs.push(((SINCE + 360) * 1000, "billing", "error", "invoice run failed: connection refused".to_string()));
    docs.push(((SINCE + 605) * 1000, "ledger", "error", "ledger write failed: disk full".to_string()));
    docs.sort();
    let ms_of = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().timestamp_millis();
    let source = |(ms, service, level, message): &(i64, &str, &str, String)| {
        let at =
            chrono::DateTime::from_timestamp_millis(*ms).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        json!({"_index": "logs-1", "_id": format!("{service}-{ms}-{level}"), "sort": [ms, 0],
            "_source": {"@timestamp": at, "log.level": level, "service": {"name": service}, "message": message}})
    };
    serve(move |r: &Seen| {
        if r.path.ends_with("/_field_caps") {
            assert!(r.param("fields").unwrap().contains("service.name"));
            return Reply::json(&json!({"indices": ["logs-1"], "fields": {
                "service.name": {"keyword": {"type": "keyword", "searchable": true, "aggregatable": true}},
                "message": {"text": {"type": "text", "searchable": true, "aggregatable": false}}}}));
        }
        if r.path.ends_with("/_pit") {
            return Reply::json(&json!({"id": "P1"}));
        }
        if r.method == "DELETE" {
            return Reply::json(&json!({"succeeded": true}));
        }
        let b = r.json();
        let range = &b["query"]["bool"]["filter"][0]["range"]["@timestamp"];
        let from = ms_of(&range["gte"]);
        if let Some(aggs) = b.get("aggs") {
            assert_eq!(b["size"], 0, "aggregations page no hits");
            let to = ms_of(&range["lt"]);
            let step: i64 = aggs["services"]["aggs"]["steps"]["date_histogram"]["fixed_interval"]
                .as_str()
                .unwrap()
                .trim_end_matches('s')
                .parse::<i64>()
                .unwrap()
                * 1000;
            let size = aggs["services"]["aggs"]["sample"]["top_hits"]["size"].as_u64().unwrap() as usize;
            let inside: Vec<&(i64, &str, &str, String)> = docs.iter().filter(|d| d.0 >= from && d.0 < to).collect();
            let buckets: Vec<Value> = ["billing", "ledger"]
                .iter()
                .map(|s| {
                    let mine: Vec<&&(i64, &str, &str, String)> = inside.iter().filter(|d| d.1 == *s).collect();
                    let mut steps: std::collections::BTreeMap<i64, u64> = Default::default();
                    for d in &mine {
                        *steps.entry(d.0 - d.0.rem_euclid(step)).or_default() += 1;
                    }
                    let steps: Vec<Value> = steps.into_iter().map(|(k, n)| json!({"key": k, "doc_count": n})).collect();
                    let sample: Vec<Value> = mine.iter().rev().take(size).map(|d| source(d)).collect();
                    json!({"key": s, "doc_count": mine.len(), "steps": {"buckets": steps},
                        "sample": {"hits": {"hits": sample}}})
                })
                .collect();
            return Reply::json(&json!({"timed_out": false, "hits": {"hits": []}, "aggregations": {
                "services": {"sum_other_doc_count": 0, "buckets": buckets},
                "nameless": {"doc_count": 0, "steps": {"buckets": []}}}}));
        }
        if let Some(words) = b["query"]["bool"]["must"][0]["multi_match"]["query"].as_str() {
            // The search for changes: any of its words, the latest first.
            let to = ms_of(&range["lt"]);
            let words: Vec<&str> = words.split(' ').collect();
            let hits: Vec<Value> = docs
                .iter()
                .rev()
                .filter(|d| d.0 >= from && d.0 < to)
                .filter(|d| d.3.split(|c: char| !c.is_alphanumeric()).any(|w| words.contains(&w)))
                .take(b["size"].as_u64().unwrap() as usize)
                .map(source)
                .collect();
            return Reply::json(&json!({"timed_out": false, "hits": {"hits": hits}}));
        }
        let to = ms_of(&range["lte"]);
        let after = b.get("search_after").map(|a| a[0].as_i64().unwrap()).unwrap_or(i64::MIN);
        let page = b["size"].as_u64().unwrap() as usize;
        let hits: Vec<Value> =
            docs.iter().filter(|d| d.0 >= from && d.0 <= to && d.0 > after).take(page).map(source).collect();
        Reply::json(&json!({"timed_out": false, "hits": {"hits": hits}}))
    })
    .unwrap()
}

#[test]
fn before_the_window_elasticsearch_aggregates_and_samples_for_the_baseline() {
    let e = elastic_with_a_past();
    let report = |args: &[&str]| {
        let mut a = vec!["report", "--format", "json", "--no-git", "--lookback", "1h"];
        a.extend(args);
        a.extend(WINDOW);
        let o = run(&a);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let live = report(&["--elasticsearch", &e.url, "--index", "logs-*"]);
    let f = &live["findings"];
    assert_eq!(f["baseline"]["unseen_services"], json!([]), "{f:#}");
    assert_eq!(f["baseline"]["events"], 600 + 60 + 600 + 1, "{:#}", f["baseline"]);
    let suspects = f["suspects"].as_array().unwrap();
    assert!(
        suspects.iter().any(|s| s["kind"] == "version" && s["summary"].as_str().unwrap().contains("version 4.2.0")),
        "{suspects:#?}"
    );
    let new: Vec<&str> =
        f["new_messages"].as_array().unwrap().iter().map(|m| m["template"].as_str().unwrap()).collect();
    assert!(new.iter().any(|t| t.contains("invoice run failed")), "{new:?}");
    assert!(new.iter().any(|t| t.contains("ledger write failed")), "{new:?}");
    assert!(!new.iter().any(|t| t.contains("retrying payment provider")), "{new:?}");
    let recurring = f["recurring"].as_array().unwrap();
    assert!(recurring.iter().any(|m| m["template"].as_str().unwrap().contains("retrying payment provider")));
    let silences = f["silences"].as_array().unwrap();
    assert_eq!(silences.len(), 1, "{silences:#?}");
    assert_eq!(silences[0]["service"], "ledger");
    assert_eq!(silences[0]["from"], "2025-12-26T14:10:05Z");
    assert_eq!(silences[0]["usual_gap_s"], 6.0);
    // One search of aggregations before the window; the pages are the window's.
    let seen = e.seen();
    let aggs: Vec<Value> = seen.iter().map(|r| r.json()).filter(|b| b.get("aggs").is_some()).collect();
    assert_eq!(aggs.len(), 1);
    assert_eq!(aggs[0]["aggs"]["services"]["terms"]["field"], "service.name");
    let es = live["coverage"].as_array().unwrap().iter().find(|c| c["collector"] == "elasticsearch").unwrap();
    let notes = es["notes"].to_string();
    assert!(notes.contains("a version, a start or a migration: 1 (up to 100)"), "{notes}");
    assert!(
        notes.contains("the store counted 1261 lines of 2 services in 60-second steps (terms and date_histogram"),
        "{notes}"
    );
    assert!(
        notes.contains("a sample of up to 100 of each service's last lines was read (200 lines of 2 services)"),
        "{notes}"
    );

    // Captured and read back: the same findings.
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("bundle");
    let mut cap = vec![
        "capture",
        "--out",
        b.to_str().unwrap(),
        "--elasticsearch",
        &e.url,
        "--index",
        "logs-*",
        "--no-git",
        "--lookback",
        "1h",
    ];
    cap.extend(WINDOW);
    let c = run(&cap);
    assert_eq!(c.status.code(), Some(0), "{}", String::from_utf8_lossy(&c.stderr));
    let back = report(&["--fixtures", b.to_str().unwrap()]);
    for k in ["new_messages", "recurring", "silences", "baseline", "spread"] {
        assert_eq!(back["findings"][k], live["findings"][k], "{k}");
    }
}
