#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Kubernetes against recorded answers shaped like the API's documented
//! objects (the `kube` client deserialises them into `k8s-openapi` types, so
//! a field of the wrong shape fails the test), served by the replaying
//! server, which checks each request: the bearer token from the kubeconfig,
//! list paging with `continue`, `sinceTime` and `timestamps` on logs, the
//! previous container. A log that never ends is read only to the window's
//! end. The same answers saved and read back give the same rows.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reconstruct_core::{CollectContext, Collector, Detail, TimeWindow, Timestamp, VecSink};
use reconstruct_kubernetes::fetch::Target;
use reconstruct_kubernetes::{KubernetesFiles, KubernetesLive, EVENT_TTL_NOTE};
use reconstruct_stores::replay::{serve, Reply, Seen, Server};
use serde_json::{json, Value};

fn window() -> TimeWindow {
    let t = |s: &str| Timestamp::from_datetime(&chrono_parse(s)).unwrap();
    TimeWindow::new(t("2025-12-26T14:00:00Z"), t("2025-12-26T15:00:00Z")).unwrap()
}

fn chrono_parse(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap()
}

fn api_pod() -> Value {
    json!({
        "metadata": {"name": "api-1", "namespace": "shop", "uid": "p1", "labels": {"app": "api"}},
        "spec": {"containers": [{"name": "api", "image": "api:1"}]},
        "status": {"phase": "Running", "containerStatuses": [{
            "name": "api", "image": "api:1", "imageID": "sha256:1", "ready": false, "restartCount": 3,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}},
            "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                "startedAt": "2025-12-26T14:04:59Z", "finishedAt": "2025-12-26T14:05:00Z"}}
        }]}
    })
}

fn worker_pod() -> Value {
    json!({
        "metadata": {"name": "worker-1", "namespace": "shop", "uid": "p2", "labels": {"app.kubernetes.io/name": "worker"}},
        "spec": {"containers": [{"name": "worker", "image": "worker:1"}]},
        "status": {"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory.",
            "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "2025-12-26T14:10:00Z"}],
            "containerStatuses": [{
                "name": "worker", "image": "worker:1", "imageID": "sha256:2", "ready": false, "restartCount": 1,
                "state": {"running": {"startedAt": "2025-12-26T14:20:00Z"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                    "startedAt": "2025-12-26T13:00:00Z", "finishedAt": "2025-12-26T14:19:50Z"}}
            }]}
    })
}

/// A pod whose migration init container failed once before it passed, and
/// whose app then ran; a second init container finished long before.
fn web_pod() -> Value {
    let done = |name: &str, started: &str, finished: &str| {
        json!({
            "name": name, "image": "tools:1", "imageID": "sha256:3", "ready": true, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed", "containerID": format!("containerd://{name}"),
                "startedAt": started, "finishedAt": finished}}
        })
    };
    let mut migrate = done("migrate", "2025-12-26T14:05:30Z", "2025-12-26T14:05:39Z");
    migrate["restartCount"] = json!(1);
    migrate["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "containerID": "containerd://m0",
        "startedAt": "2025-12-26T14:01:58Z", "finishedAt": "2025-12-26T14:02:00Z"}});
    json!({
        "metadata": {"name": "web-1", "namespace": "shop", "uid": "p3", "labels": {"app": "web"}},
        "spec": {"initContainers": [{"name": "wait-db"}, {"name": "migrate"}], "containers": [{"name": "web"}]},
        "status": {"phase": "Running",
            "initContainerStatuses": [done("wait-db", "2025-12-26T13:00:00Z", "2025-12-26T13:00:05Z"), migrate],
            "containerStatuses": [{
                "name": "web", "image": "web:1", "imageID": "sha256:4", "ready": true, "restartCount": 0,
                "state": {"running": {"startedAt": "2025-12-26T14:05:40Z"}}
            }]}
    })
}

/// The api Deployment's two revisions (one rolled out in the window) and a
/// ReplicaSet no Deployment owns.
fn replica_sets() -> Vec<Value> {
    let rs = |name: &str, created: &str, revision: &str, image: &str, owned: bool| {
        let owners = if owned {
            json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "uid": "d1", "controller": true}])
        } else {
            json!([])
        };
        json!({
            "metadata": {"name": name, "namespace": "shop", "uid": name, "creationTimestamp": created,
                "annotations": {"deployment.kubernetes.io/revision": revision}, "ownerReferences": owners},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}},
                "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": image}]}}}
        })
    };
    vec![
        rs("api-5b8d7", "2025-12-20T09:00:00Z", "1", "registry.local/api:1.4.1", true),
        rs("api-6c4f9", "2025-12-26T14:03:00Z", "2", "registry.local/api:1.4.2", true),
        rs("batch-1", "2025-12-26T14:04:00Z", "", "batch:1", false),
    ]
}

fn list(kind: &str, items: Vec<Value>, cont: Option<&str>) -> Value {
    let mut meta = json!({"resourceVersion": "100"});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    json!({"apiVersion": "v1", "kind": kind, "metadata": meta, "items": items})
}

fn core_events() -> Vec<Value> {
    vec![
        json!({"metadata": {"name": "api-1.a", "namespace": "shop", "uid": "e1"},
            "involvedObject": {"kind": "Pod", "name": "api-1", "namespace": "shop"},
            "reason": "BackOff", "message": "Back-off restarting failed container api", "type": "Warning",
            "count": 12, "firstTimestamp": "2025-12-26T14:05:10Z", "lastTimestamp": "2025-12-26T14:12:00Z"}),
        json!({"metadata": {"name": "api-1.b", "namespace": "shop", "uid": "e3"},
            "involvedObject": {"kind": "Pod", "name": "api-1", "namespace": "shop"},
            "reason": "Scheduled", "message": "Successfully assigned shop/api-1 to node-1", "type": "Normal",
            "firstTimestamp": "2025-12-26T13:00:00Z", "lastTimestamp": "2025-12-26T13:00:00Z"}),
    ]
}

fn new_events() -> Vec<Value> {
    vec![
        // The same object as e1, through the newer API.
        json!({"metadata": {"name": "api-1.a", "namespace": "shop", "uid": "e1"},
            "regarding": {"kind": "Pod", "name": "api-1", "namespace": "shop"},
            "reason": "BackOff", "note": "Back-off restarting failed container api", "type": "Warning",
            "deprecatedCount": 12, "deprecatedFirstTimestamp": "2025-12-26T14:05:10Z",
            "deprecatedLastTimestamp": "2025-12-26T14:12:00Z", "eventTime": null}),
        json!({"metadata": {"name": "api-1.c", "namespace": "shop", "uid": "e2"},
            "regarding": {"kind": "Pod", "name": "api-1", "namespace": "shop"},
            "reason": "Killing", "note": "Stopping container api", "type": "Normal",
            "eventTime": "2025-12-26T14:04:58.250000Z", "reportingController": "kubelet", "reportingInstance": "node-1",
            "action": "Killing"}),
    ]
}

const CURRENT: &str = "2025-12-26T14:05:41.100000000Z starting web\n\
2025-12-26T14:05:41.900000000Z ERROR out of memory allocating 512MB\n\
2025-12-26T15:30:00.000000000Z after the window\n\
2025-12-26T15:30:01.000000000Z after the window too\n";
const PREVIOUS: &str = "2025-12-26T13:59:59.000000000Z before the window\n\
2025-12-26T14:04:59.500000000Z WARN heap at 95%\n";

/// The API server: checks every request, answers from the recordings.
fn cluster(lists: Arc<AtomicU32>) -> Server {
    serve(move |r: &Seen| {
        assert_eq!(r.header("authorization"), Some("Bearer kube-t0ken"), "{} {}", r.method, r.path);
        match r.path.as_str() {
            "/api/v1/namespaces/shop/pods" => {
                // The first ask meets a busy API server (priority and fairness).
                if lists.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Reply::Answer {
                        status: 429,
                        headers: vec![("Retry-After".into(), "1".into()), ("Content-Type".into(), "application/json".into())],
                        body: json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "TooManyRequests",
                            "message": "too many requests, please try again later", "code": 429})
                        .to_string()
                        .into_bytes(),
                    };
                }
                assert_eq!(r.param("limit"), Some("500"));
                match r.param("continue") {
                    None => Reply::json(&list("PodList", vec![api_pod()], Some("page-2"))),
                    Some("page-2") => Reply::json(&list("PodList", vec![worker_pod(), web_pod()], None)),
                    Some(other) => Reply::text(410, &format!("bad continue {other}")),
                }
            }
            "/api/v1/namespaces/shop/events" => Reply::json(&list("EventList", core_events(), None)),
            "/apis/apps/v1/namespaces/shop/replicasets" => Reply::json(&list("ReplicaSetList", replica_sets(), None)),
            // The nodes' Events live in `default`, asked for by kind alone.
            "/api/v1/namespaces/default/events" => {
                assert_eq!(r.param("fieldSelector"), Some("involvedObject.kind=Node"));
                Reply::json(&list("EventList", vec![json!({
                    "metadata": {"name": "node-1.n", "namespace": "default", "uid": "n1"},
                    "involvedObject": {"kind": "Node", "name": "node-1", "uid": "node-1"},
                    "reason": "NodeNotReady", "message": "Node node-1 status is now: NodeNotReady", "type": "Normal",
                    "source": {"component": "node-controller"},
                    "firstTimestamp": "2025-12-26T14:09:30Z", "lastTimestamp": "2025-12-26T14:09:30Z"})], None))
            }
            "/apis/events.k8s.io/v1/namespaces/shop/events" => Reply::json(&list("EventList", new_events(), None)),
            "/api/v1/namespaces/shop/pods/api-1/log" => {
                assert_eq!(r.param("container"), Some("api"));
                assert_eq!(r.param("timestamps"), Some("true"));
                assert_eq!(r.param("sinceTime"), Some("2025-12-26T14:00:00Z"));
                if r.param("previous") == Some("true") {
                    Reply::text(200, PREVIOUS)
                } else {
                    // Waiting in a crash loop: the kubelet would serve the
                    // previous instance's log again.
                    Reply::text(500, "the current log of a waiting container was asked for")
                }
            }
            "/api/v1/namespaces/shop/pods/web-1/log" => match (r.param("container"), r.param("previous")) {
                // A log that goes on: only stopping past the window ends the read.
                (Some("web"), None) => Reply::Hold(CURRENT.as_bytes().to_vec()),
                (Some("migrate"), Some("true")) => {
                    Reply::text(200, "2025-12-26T14:01:59.000000000Z ERROR relation \"orders_v2\" already exists\n")
                }
                (Some("migrate"), None) => Reply::text(200, "2025-12-26T14:05:35.000000000Z migrations applied\n"),
                (Some("wait-db"), None) => Reply::text(200, ""),
                other => Reply::text(500, &format!("no log recorded for {other:?}")),
            },
            "/api/v1/namespaces/shop/pods/worker-1/log" => Reply::Answer {
                status: 400,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "message": "container \"worker\" in pod \"worker-1\" is not available", "reason": "BadRequest", "code": 400})
                .to_string()
                .into_bytes(),
            },
            other => Reply::text(404, &format!("no recording for {other}")),
        }
    })
    .unwrap()
}

fn kubeconfig(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("config");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: other\nclusters:\n- name: rec\n  cluster:\n    server: {url}\n\
             users:\n- name: ops\n  user:\n    token: kube-t0ken\ncontexts:\n- name: recorded\n  context:\n    cluster: rec\n    user: ops\n    namespace: shop\n\
             - name: other\n  context:\n    cluster: nowhere\n    user: ops\n"
        ),
    )
    .unwrap();
    path
}

/// The kubeconfig's `recorded` context, its namespace from there.
fn recorded(dir: &std::path::Path, url: &str) -> Target {
    Target {
        kubeconfig: Some(kubeconfig(dir, url)),
        context: Some("recorded".into()),
        namespace: None,
        all_namespaces: false,
    }
}

fn summaries(s: &VecSink) -> Vec<String> {
    s.events.iter().map(|e| format!("{} {} {}", e.time.rfc3339(), e.component, e.summary)).collect()
}

#[test]
fn pods_events_and_logs_from_a_recorded_cluster() {
    let lists = Arc::new(AtomicU32::new(0));
    let server = cluster(lists.clone());
    let dir = tempfile::tempdir().unwrap();
    let target = recorded(dir.path(), &server.url);
    let t = Instant::now();
    let c = Box::new(KubernetesLive {
        target: target.clone(),
        timeout: Duration::from_secs(20),
        budget: reconstruct_core::HELD_BUDGET,
    });
    let mut sink = VecSink::default();
    let ctx = CollectContext { window: window(), detail: Detail::All, anchor: None };
    reconstruct_core::collect_now(c, &ctx, &mut sink).unwrap();
    assert!(t.elapsed() < Duration::from_secs(10), "the endless log was left past the window");
    let rows = summaries(&sink);
    let want = [
        "2025-12-26T14:01:59Z web ERROR relation \"orders_v2\" already exists",
        "2025-12-26T14:02:00Z web init container web-1/migrate died (Error) (exit code 1), 1 restart so far",
        "2025-12-26T14:03:00Z api deployment api revision 2 rolled out (registry.local/api:1.4.2)",
        "2025-12-26T14:04:58.250Z api Killing pod/api-1: Stopping container api",
        "2025-12-26T14:04:59.500Z api WARN heap at 95%",
        "2025-12-26T14:05:00Z api container api-1/api OOM-killed (exit code 137), now in CrashLoopBackOff after 3 restarts",
        "2025-12-26T14:05:10Z api BackOff pod/api-1: Back-off restarting failed container api (×12 until 14:12:00)",
        "2025-12-26T14:05:35Z web migrations applied",
        "2025-12-26T14:05:41.100Z web starting web",
        "2025-12-26T14:05:41.900Z web ERROR out of memory allocating 512MB",
        "2025-12-26T14:09:30Z node-1 NodeNotReady node/node-1: Node node-1 status is now: NodeNotReady",
        "2025-12-26T14:10:00Z worker pod worker-1 evicted: The node was low on resource: memory.",
        "2025-12-26T14:19:50Z worker container worker-1/worker died (Error) (exit code 1), 1 restart so far",
        "2025-12-26T14:20:00Z worker container worker-1/worker restarted (restart 1)",
    ];
    assert_eq!(rows, want, "{rows:#?}");
    let oom = &sink.events[5];
    let node = sink.events.iter().find(|e| e.summary.starts_with("NodeNotReady")).unwrap();
    assert_eq!(node.severity, Some(reconstruct_core::Severity::Warning));
    assert_eq!(
        node.evidence.locator.to_string(),
        "kubectl --context recorded get events -n default --field-selector involvedObject.name=node-1,reason=NodeNotReady"
    );
    assert!(sink.notes.iter().any(|n| n == "1 node Events from default"), "{:?}", sink.notes);
    let rollout = sink.events.iter().find(|e| e.summary.starts_with("deployment api")).unwrap();
    assert_eq!(rollout.kind, reconstruct_core::EventKind::Change);
    assert_eq!(
        rollout.evidence.locator.to_string(),
        "kubectl --context recorded rollout history deployment/api -n shop --revision=2"
    );
    assert!(sink.notes.iter().any(|n| n.starts_with("1 rollout in the window from 3 ReplicaSets")), "{:?}", sink.notes);
    assert_eq!(oom.container_action(), Some(&reconstruct_core::ContainerAction::Oom));
    assert_eq!(oom.evidence.locator.to_string(), "kubectl --context recorded describe pod -n shop api-1");
    let line = &sink.events[9];
    assert_eq!(
        line.evidence.locator.to_string(),
        "kubectl --context recorded logs -n shop web-1 -c web --timestamps --since-time=2025-12-26T14:05:41.900Z"
    );
    // Each log once: a crash-looping container's only as the previous one.
    assert!(
        !sink.diagnostics.iter().any(|d| d.message.contains("no log recorded") || d.message.contains("was asked")),
        "{:?}",
        sink.diagnostics
    );
    assert!(
        sink.notes.iter().any(|n| n.contains(EVENT_TTL_NOTE) && n.contains("1 shown by both APIs told once")),
        "{:?}",
        sink.notes
    );
    assert!(
        sink.diagnostics.iter().any(|d| d.message.contains("refused the log of worker-1/worker") && d.message.contains("is not available")),
        "{:?}",
        sink.diagnostics
    );
    assert_eq!(lists.load(Ordering::SeqCst), 3, "a busy answer, then the pod list in two pages");

    // A budget too small for the logs: the pod facts and Events stay, the
    // logs left unread are named, and nothing waits on the endless log.
    let c = Box::new(KubernetesLive { target: target.clone(), timeout: Duration::from_secs(20), budget: 1 });
    let mut small = VecSink::default();
    reconstruct_core::collect_now(c, &ctx, &mut small).unwrap();
    let rows = summaries(&small);
    assert!(rows.iter().any(|r| r.contains("OOM-killed")), "{rows:#?}");
    assert!(!rows.iter().any(|r| r.contains("out of memory allocating")), "{rows:#?}");
    assert!(
        small.diagnostics.iter().any(|d| d
            .message
            .contains("1 bytes held for sorting is full: 7 container logs from api-1/api on were not read")),
        "{:?}",
        small.diagnostics
    );

    // Saved and read back: the same rows.
    let saved = dir.path().join("kubernetes");
    let mut files = Vec::new();
    let mut put = |part: reconstruct_kubernetes::Part, name: &str, bytes: &[u8]| -> Result<(), String> {
        let p = saved.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        files.push((p, format!("kubernetes/{name}"), part));
        Ok(())
    };
    let rt = reconstruct_core::runtime().unwrap();
    rt.block_on(reconstruct_kubernetes::save(
        &target,
        &window(),
        Duration::from_secs(20),
        &mut put,
        &mut |_| {},
        &|l| l.to_vec(),
    ))
    .unwrap();
    assert!(files.iter().any(|(_, d, _)| d == "kubernetes/logs/shop/api-1/api.previous.log"), "{files:?}");
    let mut again = VecSink::default();
    Box::new(KubernetesFiles { files, context: Some("recorded".into()) }).collect(&ctx, &mut again).unwrap();
    assert_eq!(summaries(&again), want);
}

/// The API server's refusal, as RBAC gives it.
fn forbidden(message: &str) -> Reply {
    Reply::Answer {
        status: 403,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403,
            "message": message})
        .to_string()
        .into_bytes(),
    }
}

#[test]
fn a_cluster_that_cannot_be_reached_or_read_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let target = |url: &str| recorded(dir.path(), url);
    let read = |t: Target, secs: u64| {
        let c = Box::new(KubernetesLive {
            target: t,
            timeout: Duration::from_secs(secs),
            budget: reconstruct_core::HELD_BUDGET,
        });
        let mut sink = VecSink::default();
        let ctx = CollectContext { window: window(), detail: Detail::All, anchor: None };
        let r = reconstruct_core::collect_now(c, &ctx, &mut sink).map_err(|e| e.to_string());
        (sink, r)
    };
    let run = |t: Target, secs: u64| read(t, secs).1;
    let err = run(target("http://127.0.0.1:1"), 5).unwrap_err();
    assert!(err.contains("cannot reach the Kubernetes API at http://127.0.0.1:1"), "{err}");

    let refusing =
        serve(|_| forbidden("pods is forbidden: User \"ops\" cannot list resource \"pods\" in the namespace \"shop\""))
            .unwrap();
    let err = run(target(&refusing.url), 5).unwrap_err();
    assert!(err.contains("refused the pod list: HTTP 403") && err.contains("cannot list resource"), "{err}");

    // One namespace's reader may not list the nodes' Events in `default`:
    // said in coverage, the namespace read all the same.
    let namespaced = serve(|r: &Seen| {
        let list = |kind: &str| Reply::json(&list(kind, Vec::new(), None));
        match r.path.as_str() {
            "/api/v1/namespaces/shop/pods" => list("PodList"),
            "/api/v1/namespaces/shop/events" => list("EventList"),
            "/apis/events.k8s.io/v1/namespaces/shop/events" => list("EventList"),
            _ => forbidden(
                "events is forbidden: User \"ops\" cannot list resource \"events\" in the namespace \"default\"",
            ),
        }
    })
    .unwrap();
    let (sink, r) = read(target(&namespaced.url), 5);
    r.unwrap();
    assert!(
        sink.notes
            .iter()
            .any(|n| n.starts_with("node Events not read") && n.contains("HTTP 403") && n.contains("\"default\"")),
        "{:?}",
        sink.notes
    );

    let silent = serve(|_| Reply::Silence).unwrap();
    let t = Instant::now();
    let err = run(target(&silent.url), 2).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(6), "{err}");

    let missing = Target { kubeconfig: Some(dir.path().join("nope")), ..Target::default() };
    let err = run(missing, 2).unwrap_err();
    assert!(err.starts_with("no usable kubeconfig"), "{err}");
}

/// Many pods: their logs are read a few at a time (never more than four
/// streams open), and every line comes out in time order.
#[test]
fn many_pods_logs_are_read_a_few_at_a_time() {
    use std::sync::atomic::AtomicUsize;
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (n, m) = (now.clone(), most.clone());
    let pods: Vec<Value> = (0..8)
        .map(|i| {
            json!({"metadata": {"name": format!("web-{i}"), "namespace": "shop", "uid": format!("w{i}")},
                "status": {"phase": "Running", "containerStatuses": [{"name": "web", "image": "web:1", "imageID": "",
                    "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2025-12-26T13:00:00Z"}}}]}})
        })
        .collect();
    let server = serve(move |r: &Seen| match r.path.as_str() {
        "/api/v1/namespaces/shop/pods" => Reply::json(&list("PodList", pods.clone(), None)),
        "/api/v1/namespaces/shop/events" | "/apis/events.k8s.io/v1/namespaces/shop/events" => {
            Reply::json(&list("EventList", Vec::new(), None))
        }
        "/api/v1/namespaces/default/events" => Reply::json(&list("EventList", Vec::new(), None)),
        "/apis/apps/v1/namespaces/shop/replicasets" => Reply::json(&list("ReplicaSetList", Vec::new(), None)),
        p => {
            let i: u64 =
                p.trim_start_matches("/api/v1/namespaces/shop/pods/web-").trim_end_matches("/log").parse().unwrap();
            let open = n.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(open, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(300));
            n.fetch_sub(1, Ordering::SeqCst);
            // Pod i wrote at 14:0i and 14:1i.
            Reply::text(
                200,
                &format!("2025-12-26T14:0{i}:00Z first of web-{i}\n2025-12-26T14:1{i}:00Z second of web-{i}\n"),
            )
        }
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = recorded(dir.path(), &server.url);
    let c =
        Box::new(KubernetesLive { target, timeout: Duration::from_secs(20), budget: reconstruct_core::HELD_BUDGET });
    let mut sink = VecSink::default();
    let ctx = CollectContext { window: window(), detail: Detail::All, anchor: None };
    reconstruct_core::collect_now(c, &ctx, &mut sink).unwrap();
    let rows = summaries(&sink);
    assert_eq!(rows.len(), 16, "{rows:#?}");
    assert!(sink.events.windows(2).all(|w| w[0].time <= w[1].time));
    assert_eq!(rows[0], "2025-12-26T14:00:00Z web first of web-0");
    assert_eq!(rows[15], "2025-12-26T14:17:00Z web second of web-7");
    let most = most.load(Ordering::SeqCst);
    assert!((2..=4).contains(&most), "{most} logs read at once");
}
