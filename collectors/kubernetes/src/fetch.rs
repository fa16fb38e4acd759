//! The live cluster through the `kube` crate: the usual kubeconfig, context
//! and namespace selection (or the in-cluster account), pods and Events
//! listed page by page, and each container's log read from `sinceTime` with
//! timestamps, the previous container's too, stopping past the window's end
//! (`kubectl logs` has no `--until`).

use std::path::PathBuf;
use std::time::Duration;

use futures_util::io::AsyncBufReadExt;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod};
use k8s_openapi::api::events::v1::Event as NewEvent;
use kube::api::{Api, ListParams, LogParams, ObjectList};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use reconstruct_core::{Stopped, TimeWindow};
use serde::de::DeserializeOwned;

use crate::parse::{self, LogOf};

/// Which cluster and namespaces to read.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// A kubeconfig file (default: `KUBECONFIG`, else `~/.kube/config`, else in-cluster).
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// The namespace (default: the context's).
    pub namespace: Option<String>,
    pub all_namespaces: bool,
}

impl Target {
    pub fn describe(&self) -> String {
        let ns = if self.all_namespaces {
            "all namespaces".to_string()
        } else {
            format!("namespace {}", self.namespace.as_deref().unwrap_or("(the context's)"))
        };
        format!("context {}, {ns}", self.context.as_deref().unwrap_or("(current)"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("no usable kubeconfig: {0}")]
    Config(String),
    #[error("cannot reach the Kubernetes API at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the Kubernetes API at {url} refused {what}: HTTP {status}: {reason}")]
    Api { url: String, what: String, status: u16, reason: String },
    #[error("the Kubernetes API at {url} gave no answer to {what}")]
    Empty { url: String, what: String },
}

/// Pages of this many objects.
const PAGE: u32 = 500;

/// A client for the target, and the namespace it reads (`None`: all).
pub async fn client(t: &Target, timeout: Duration) -> Result<(Client, Option<String>, String), FetchError> {
    let options = KubeConfigOptions { context: t.context.clone(), cluster: None, user: None };
    let mut config = match (&t.kubeconfig, &t.context) {
        (Some(path), _) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| FetchError::Config(format!("{}: {e}", path.display())))?;
            Config::from_custom_kubeconfig(kc, &options).await.map_err(|e| FetchError::Config(e.to_string()))?
        }
        (None, Some(_)) => {
            let kc = Kubeconfig::read().map_err(|e| FetchError::Config(e.to_string()))?;
            Config::from_custom_kubeconfig(kc, &options).await.map_err(|e| FetchError::Config(e.to_string()))?
        }
        (None, None) => Config::infer().await.map_err(|e| FetchError::Config(e.to_string()))?,
    };
    config.connect_timeout = Some(timeout.min(Duration::from_secs(10)));
    config.read_timeout = Some(timeout);
    let url = config.cluster_url.to_string().trim_end_matches('/').to_string();
    let ns = if t.all_namespaces {
        None
    } else {
        Some(t.namespace.clone().unwrap_or_else(|| config.default_namespace.clone()))
    };
    let client = Client::try_from(config).map_err(|e| FetchError::Config(e.to_string()))?;
    Ok((client, ns, url))
}

fn api<K>(client: &Client, ns: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as kube::Resource>::DynamicType: Default,
{
    match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Every object of a list, page after page (`limit` and `continue`).
async fn list<K>(api: &Api<K>, url: &str, what: &str, fields: Option<&str>) -> Result<ObjectList<K>, FetchError>
where
    K: Clone + DeserializeOwned + std::fmt::Debug + kube::Resource,
    <K as kube::Resource>::DynamicType: Default,
{
    let mut all: Option<ObjectList<K>> = None;
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(PAGE);
        if let Some(f) = fields {
            lp = lp.fields(f);
        }
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = busy_retry(|| api.list(&lp)).await.map_err(|e| failure(url, what, e))?;
        token = page.metadata.continue_.clone().filter(|c| !c.is_empty());
        match &mut all {
            Some(a) => a.items.extend(page.items),
            None => all = Some(page),
        }
        if token.is_none() {
            break;
        }
    }
    let mut all = all.ok_or_else(|| FetchError::Empty { url: url.to_string(), what: what.to_string() })?;
    all.metadata.continue_ = None;
    Ok(all)
}

/// Runs `call` again while the API server is busy (429 from its priority
/// and fairness, 503), with a doubling backoff; the source's deadline (the
/// runner's, and the client's read timeout) bounds the whole.
async fn busy_retry<T, F, Fut>(mut call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut wait = Duration::from_millis(200);
    let mut tries = 0u32;
    loop {
        match call().await {
            Err(kube::Error::Api(s)) if (s.code == 429 || s.code == 503) && tries < 6 => {
                tries = tries.saturating_add(1);
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

fn failure(url: &str, what: &str, e: kube::Error) -> FetchError {
    match e {
        kube::Error::Api(s) => {
            FetchError::Api { url: url.to_string(), what: what.to_string(), status: s.code, reason: s.message }
        }
        other => FetchError::Unreachable { url: url.to_string(), reason: reconstruct_core::text::error_chain(&other) },
    }
}

/// A list the cluster does not serve (an API group it lacks).
fn not_served(e: &FetchError) -> bool {
    matches!(e, FetchError::Api { status: 404, .. })
}

/// What the cluster's lists held.
pub struct Objects {
    pub pods: ObjectList<Pod>,
    pub core_events: ObjectList<CoreEvent>,
    /// `None` where the cluster has no `events.k8s.io/v1`.
    pub new_events: Option<ObjectList<NewEvent>>,
    /// The nodes' Events, which live in `default`: read apart when one other
    /// namespace is (`None`: not needed; `Err`: what the API server refused).
    pub node_events: Option<Result<ObjectList<CoreEvent>, String>>,
    /// The ReplicaSets, whose creation dates the Deployments' rollouts
    /// (`Err`: what the API server refused).
    pub replica_sets: Result<ObjectList<ReplicaSet>, String>,
    pub url: String,
}

/// The namespace that holds the nodes' Events.
pub const NODE_EVENTS_NS: &str = "default";
/// The field selector of the nodes' Events.
pub const NODE_EVENTS: &str = "involvedObject.kind=Node";

/// Pods and Events of both APIs.
pub async fn objects(client: &Client, ns: Option<&str>, url: &str) -> Result<Objects, FetchError> {
    let pods = list(&api::<Pod>(client, ns), url, "the pod list", None).await?;
    let core_events = list(&api::<CoreEvent>(client, ns), url, "the event list", None).await?;
    let new_events = match list(&api::<NewEvent>(client, ns), url, "the events.k8s.io list", None).await {
        Ok(l) => Some(l),
        Err(e) if not_served(&e) => None,
        Err(e) => return Err(e),
    };
    // A node gone NotReady, out of disk or rebooted explains a namespace's
    // evictions and restarts; a reader of one namespace may not be allowed
    // to see them, which is said, not a failure.
    let node_events = match ns {
        Some(n) if n != NODE_EVENTS_NS => {
            let default = Some(NODE_EVENTS_NS);
            match list(&api::<CoreEvent>(client, default), url, "the nodes' Events", Some(NODE_EVENTS)).await {
                Ok(l) => Some(Ok(l)),
                Err(e @ (FetchError::Api { .. } | FetchError::Empty { .. })) => Some(Err(e.to_string())),
                Err(e) => return Err(e),
            }
        }
        _ => None,
    };
    let replica_sets = match list(&api::<ReplicaSet>(client, ns), url, "the ReplicaSet list", None).await {
        Ok(l) => Ok(l),
        Err(e @ (FetchError::Api { .. } | FetchError::Empty { .. })) => Err(e.to_string()),
        Err(e) => return Err(e),
    };
    Ok(Objects { pods, core_events, new_events, node_events, replica_sets, url: url.to_string() })
}

/// Whether a container's log is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    Yes,
    /// Its run began after the window or ended before it.
    OutsideWindow,
    /// The "current" log of a container waiting in a crash loop: the
    /// kubelet serves the last terminated run, which is the previous log.
    SameAsPrevious,
}

/// Every log the containers (init containers too) can have, current and
/// previous, and whether the window asks for it.
pub fn container_logs(pods: &[Pod], window: &TimeWindow) -> Vec<(LogOf, Ask)> {
    let mut out = Vec::new();
    for pod in pods {
        let ns = pod.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let name = pod.metadata.name.clone().unwrap_or_default();
        let status = pod.status.as_ref();
        let init = status.and_then(|s| s.init_container_statuses.as_ref()).into_iter().flatten();
        for cs in init.chain(status.and_then(|s| s.container_statuses.as_ref()).into_iter().flatten()) {
            let of = |previous| LogOf {
                namespace: ns.clone(),
                pod: name.clone(),
                container: cs.name.clone(),
                previous,
                component: parse::component(pod, &cs.name),
            };
            let state = cs.state.as_ref();
            let last = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
            let running = state.and_then(|s| s.running.as_ref());
            // A terminated instance without a container id is served from the
            // last one, when there is one.
            let terminated = state
                .and_then(|s| s.terminated.as_ref())
                .filter(|t| t.container_id.as_deref().is_some_and(|c| !c.is_empty()) || last.is_none());
            // No state said: ask, and let the API server answer.
            let own = state.is_none() || running.is_some() || terminated.is_some();
            let started =
                running.and_then(|r| r.started_at.as_ref()).or_else(|| terminated.and_then(|t| t.started_at.as_ref()));
            let current = if !own && last.is_some() {
                Ask::SameAsPrevious
            } else if own && started.map(parse::time).is_none_or(|t| t <= window.until) {
                Ask::Yes
            } else {
                Ask::OutsideWindow
            };
            // A container waiting with no run behind it has no log at all.
            if own || last.is_some() {
                out.push((of(false), current));
            }
            if let Some(last) = last {
                let ended = last.finished_at.as_ref().map(parse::time);
                let ask = if ended.is_none_or(|t| t >= window.since) { Ask::Yes } else { Ask::OutsideWindow };
                out.push((of(true), ask));
            }
        }
    }
    out
}

/// The logs a live read asks the API server for, each once.
pub fn logs_to_read(pods: &[Pod], window: &TimeWindow) -> Vec<LogOf> {
    container_logs(pods, window).into_iter().filter(|(_, a)| *a == Ask::Yes).map(|(of, _)| of).collect()
}

/// The saved logs to read back: as a live read, but a crash-looping
/// container's "current" log (`kubectl logs` without `--previous`, which
/// shows the last run) is read when its previous log was not saved.
pub fn saved_logs_to_read(pods: &[Pod], window: &TimeWindow, saved: &dyn Fn(&LogOf) -> bool) -> Vec<LogOf> {
    container_logs(pods, window)
        .into_iter()
        .filter(|(of, a)| match a {
            Ask::Yes => true,
            Ask::OutsideWindow => false,
            Ask::SameAsPrevious => !saved(&LogOf { previous: true, ..of.clone() }),
        })
        .map(|(of, _)| of)
        .collect()
}

/// Takes one log line and says its time, if it has one.
pub type OnLine<'a> = dyn FnMut(&[u8]) -> Result<Option<reconstruct_core::Timestamp>, Stopped> + 'a;

/// One container's log lines from the window's start, each to `on_line`,
/// until a line past the window's end. Returns how many lines were read.
pub async fn log(
    client: &Client,
    of: &LogOf,
    window: &TimeWindow,
    url: &str,
    on_line: &mut OnLine<'_>,
) -> Result<u64, LogError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &of.namespace);
    let since = k8s_openapi::jiff::Timestamp::from_nanosecond(i128::from(window.since.unix_nanos())).ok();
    let lp = LogParams {
        container: Some(of.container.clone()),
        previous: of.previous,
        since_time: since,
        timestamps: true,
        ..LogParams::default()
    };
    let what = format!("the log of {}/{}{}", of.pod, of.container, if of.previous { " (previous)" } else { "" });
    let stream =
        busy_retry(|| pods.log_stream(&of.pod, &lp)).await.map_err(|e| LogError::Fetch(failure(url, &what, e)))?;
    let mut lines = std::pin::pin!(stream);
    let mut buf = Vec::new();
    let mut n: u64 = 0;
    loop {
        buf.clear();
        let got = lines.read_until(b'\n', &mut buf).await.map_err(|e| {
            LogError::Fetch(FetchError::Unreachable {
                url: url.to_string(),
                reason: format!("{what} was cut off: {e}"),
            })
        })?;
        if got == 0 {
            return Ok(n);
        }
        n = n.saturating_add(1);
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if let Some(t) = on_line(line).map_err(LogError::Stopped)? {
            if t > window.until {
                // Past the window: stop reading, the server would send to the end.
                return Ok(n);
            }
        }
    }
}

#[derive(Debug)]
pub enum LogError {
    Fetch(FetchError),
    Stopped(Stopped),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use reconstruct_core::Timestamp;
    use serde_json::json;

    fn window() -> TimeWindow {
        let t = |s| Timestamp::from_unix_seconds(s, 0).unwrap();
        TimeWindow::new(t(1_766_757_600), t(1_766_761_200)).unwrap() // 2025-12-26 14:00–15:00
    }

    fn pod(statuses: serde_json::Value) -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": "p", "namespace": "n"}, "status": {"containerStatuses": statuses}}),
        )
        .unwrap()
    }

    fn asks(p: &Pod) -> Vec<(String, bool, Ask)> {
        container_logs(std::slice::from_ref(p), &window())
            .into_iter()
            .map(|(of, a)| (of.container, of.previous, a))
            .collect()
    }

    #[test]
    fn each_log_is_asked_for_once_as_the_kubelet_serves_it() {
        let crashed = json!({"terminated": {"exitCode": 1, "containerID": "c://1",
            "startedAt": "2025-12-26T14:01:00Z", "finishedAt": "2025-12-26T14:02:00Z"}});
        let p = pod(json!([
            // In a crash loop: "current" would be the last run again.
            {"name": "a", "image": "i", "imageID": "", "ready": false, "restartCount": 2,
             "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": crashed},
            // Running after a restart: two runs, two logs.
            {"name": "b", "image": "i", "imageID": "", "ready": true, "restartCount": 1,
             "state": {"running": {"startedAt": "2025-12-26T14:03:00Z"}}, "lastState": crashed},
            // Never started: no log.
            {"name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "ImagePullBackOff"}}},
            // Started after the window.
            {"name": "d", "image": "i", "imageID": "", "ready": true, "restartCount": 0,
             "state": {"running": {"startedAt": "2025-12-26T16:00:00Z"}}},
        ]));
        assert_eq!(
            asks(&p),
            [
                ("a".into(), false, Ask::SameAsPrevious),
                ("a".into(), true, Ask::Yes),
                ("b".into(), false, Ask::Yes),
                ("b".into(), true, Ask::Yes),
                ("d".into(), false, Ask::OutsideWindow),
            ]
        );
        let live: Vec<(String, bool)> =
            logs_to_read(std::slice::from_ref(&p), &window()).into_iter().map(|o| (o.container, o.previous)).collect();
        assert_eq!(live, [("a".into(), true), ("b".into(), false), ("b".into(), true)]);
        // Saved by hand with `kubectl logs` only: the crash loop's last run is
        // in the "current" file, and is read from there.
        let only_current = |of: &LogOf| !of.previous;
        let saved: Vec<(String, bool)> = saved_logs_to_read(std::slice::from_ref(&p), &window(), &only_current)
            .into_iter()
            .map(|o| (o.container, o.previous))
            .collect();
        assert_eq!(saved, [("a".into(), false), ("a".into(), true), ("b".into(), false), ("b".into(), true)]);
    }
}
