//! Kubernetes collector: pod logs in the window (the previous container's
//! too), Events of the core and `events.k8s.io` APIs (and the nodes'),
//! Deployments' rollouts from their ReplicaSets, and pod status facts
//! (OOM kills, crash loops, restarts with exit codes, evictions), live
//! through the `kube` crate (`fetch`) or from the lists and logs a capture
//! saved. Objects are `k8s-openapi` types either way, so a saved answer is
//! checked against the API's schema as a live one is; `parse` is pure.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod fetch;
pub mod parse;
pub mod slice;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod};
use k8s_openapi::api::events::v1::Event as NewEvent;
use kube::api::ObjectList;
use reconstruct_core::{
    CollectContext, CollectError, Collector, Detail, Diagnostic, Event, EventSink, LocalFuture, NetworkCollector,
    SourceId, SourceKind, Stopped, Timestamp,
};

use crate::fetch::{LogError, Target};
use crate::parse::{Cluster, Events, LogLine, LogOf};

/// Container logs read at once: each is one stream from the API server.
const LOGS_AT_ONCE: usize = 4;

/// One container log's read: its rows, or `got: None` when the budget was
/// full before it began.
struct LogRead {
    of: LogOf,
    got: Option<Result<u64, LogError>>,
    events: Vec<Event>,
    skipped: Vec<Timestamp>,
    undated: u64,
}

/// The problem of a read stopped by the memory budget, naming what was left.
fn budget_problem(budget: usize, left: &[LogOf]) -> Diagnostic {
    let first = left.first().map(|o| format!("{}/{}", o.pod, o.container)).unwrap_or_default();
    Diagnostic {
        locator: None,
        message: format!(
            "the {} held for sorting is full: {} container logs from {first} on were not read \
             (narrow --namespace or the window, or leave out --all)",
            if budget >= 1 << 20 { format!("{} MiB", budget >> 20) } else { format!("{budget} bytes") },
            left.len()
        ),
    }
}

/// Said in coverage whenever Events are read.
pub const EVENT_TTL_NOTE: &str =
    "the API server keeps Events about an hour by default (--event-ttl=1h): older ones are gone";

/// A cluster, read live.
pub struct KubernetesLive {
    pub target: Target,
    pub timeout: Duration,
    /// Bytes of rows held for sorting before logs stop being read ([`reconstruct_core::HELD_BUDGET`]).
    pub budget: usize,
}

/// What a capture saved under `kubernetes/`: the lists, and the logs as
/// `logs/<namespace>/<pod>/<container>[.previous].log`; each file with its
/// part (path, how evidence names it, what it holds).
pub struct KubernetesFiles {
    pub files: Vec<(PathBuf, String, Part)>,
    pub context: Option<String>,
}

/// What a saved file of a cluster holds: its role in a bundle's manifest,
/// so a reader takes it by what it is, not by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// `kubectl get pods -o json`.
    Pods,
    /// Events of the core v1 API.
    Events,
    /// Events of the events.k8s.io API.
    NewEvents,
    /// The nodes' Events.
    NodeEvents,
    /// `kubectl get replicasets -o json`.
    ReplicaSets,
    /// One container's log.
    Log,
}

impl Part {
    pub const ALL: [Part; 6] =
        [Part::Pods, Part::Events, Part::NewEvents, Part::NodeEvents, Part::ReplicaSets, Part::Log];

    /// Its role in a bundle's manifest.
    pub fn role(self) -> &'static str {
        match self {
            Part::Pods => "kubernetes-pods",
            Part::Events => "kubernetes-events",
            Part::NewEvents => "kubernetes-events-k8s-io",
            Part::NodeEvents => "kubernetes-node-events",
            Part::ReplicaSets => "kubernetes-replicasets",
            Part::Log => "kubernetes-log",
        }
    }

    pub fn from_role(role: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.role() == role)
    }

    /// The name capture gives a list below `kubernetes/` (a log is named by its container).
    pub fn file_name(self) -> Option<&'static str> {
        match self {
            Part::Pods => Some("pods.json"),
            Part::Events => Some("events.json"),
            Part::NewEvents => Some("events.k8s.io.json"),
            Part::NodeEvents => Some(NODE_EVENTS_FILE),
            Part::ReplicaSets => Some(REPLICA_SETS_FILE),
            Part::Log => None,
        }
    }

    /// A file's part by its place in the bundle layout, for a bundle whose
    /// manifest does not say (made by hand, or by an older capture).
    pub fn by_layout(rel: &str) -> Option<Part> {
        let below = rel.strip_prefix("kubernetes/")?;
        if below.starts_with("logs/") {
            return Some(Part::Log);
        }
        Part::ALL.into_iter().find(|p| p.file_name() == Some(below))
    }
}

/// The name a saved log has below `kubernetes/`.
pub fn log_name(of: &LogOf) -> String {
    format!("logs/{}/{}/{}{}.log", of.namespace, of.pod, of.container, if of.previous { ".previous" } else { "" })
}

/// Pod facts and Events, in no particular order, with counts in coverage
/// (`live`: read from the API now, not from saved lists).
#[allow(clippy::too_many_arguments)]
fn objects_to_events(
    pods: &[Pod],
    core: &[CoreEvent],
    new: Option<&[NewEvent]>,
    cluster: &Cluster,
    live: bool,
    ctx: &CollectContext,
    out: &mut Vec<Event>,
    sink: &mut dyn EventSink,
) {
    // Events about a pod speak for the pod's component.
    let mut components = BTreeMap::new();
    for p in pods {
        let name = p.metadata.name.clone().unwrap_or_default();
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        components.insert(format!("{ns}/pod/{name}"), parse::component(p, &name));
    }
    for p in pods {
        out.extend(parse::pod_facts(p, cluster).into_iter().filter(|e| ctx.window.contains(e.time)));
    }
    let mut ev = Events::new();
    // The newer API first: where both show an object, its fields are richer.
    for e in new.into_iter().flatten() {
        if let Some(x) = ev.event(e.into(), cluster, &components, &ctx.window) {
            keep(x, ctx, out, sink);
        }
    }
    for e in core {
        if let Some(x) = ev.event(e.into(), cluster, &components, &ctx.window) {
            keep(x, ctx, out, sink);
        }
    }
    sink.note(format!(
        "{} pods, {} Events ({} shown by both APIs told once); {EVENT_TTL_NOTE}",
        pods.len(),
        ev.read,
        ev.twice
    ));
    if new.is_none() && live {
        sink.note("no events.k8s.io/v1 API: core Events only".to_string());
    }
    if ev.undated > 0 {
        sink.diagnostic(Diagnostic {
            locator: None,
            message: format!("{} Events without any time: not placed", ev.undated),
        });
    }
}

fn keep(e: Event, ctx: &CollectContext, out: &mut Vec<Event>, sink: &mut dyn EventSink) {
    if !ctx.window.contains(e.time) {
        return;
    }
    if ctx.detail == Detail::Notable && !reconstruct_core::notable::event(&e) {
        sink.skip(e.time, 0);
        return;
    }
    out.push(e);
}

/// One log line into `out` (or counted); its time, if it has one.
fn take_line(
    line: &[u8],
    of: &LogOf,
    cluster: &Cluster,
    ctx: &CollectContext,
    undated: &mut u64,
    out: &mut Vec<Event>,
    skipped: &mut Vec<Timestamp>,
) -> Option<Timestamp> {
    match parse::log_line(line, of, cluster, ctx.detail) {
        LogLine::Undated => {
            *undated = undated.saturating_add(1);
            None
        }
        LogLine::Unwanted(t) => Some(t),
        LogLine::At(t, e) => {
            if ctx.window.contains(t) {
                match e {
                    Some(e) => out.push(e),
                    None => skipped.push(t),
                }
            }
            Some(t)
        }
    }
}

fn emit_sorted(mut out: Vec<Event>, sink: &mut dyn EventSink) -> Result<(), Stopped> {
    out.sort_by(|a, b| a.order(b));
    out.into_iter().try_for_each(|e| sink.emit(e))
}

impl NetworkCollector for KubernetesLive {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Kubernetes, name: self.target.describe() }
    }

    fn collect<'a>(
        self: Box<Self>,
        ctx: &'a CollectContext,
        sink: &'a mut dyn EventSink,
    ) -> LocalFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            let (client, ns, url) = fetch::client(&self.target, self.timeout).await?;
            let objs = fetch::objects(&client, ns.as_deref(), &url).await?;
            let cluster = Cluster { context: self.target.context.clone() };
            let mut out = Vec::new();
            let new = objs.new_events.as_ref().map(|l| l.items.as_slice());
            let nodes =
                objs.node_events.as_ref().map(|r| r.as_ref().map(|l| l.items.as_slice()).map_err(String::as_str));
            let core = with_node_events(&objs.core_events.items, nodes, sink);
            objects_to_events(&objs.pods.items, &core, new, &cluster, true, ctx, &mut out, sink);
            let sets = objs.replica_sets.as_ref().map(|l| l.items.as_slice()).map_err(String::as_str);
            rollouts(Some(sets), &cluster, ctx, &mut out, sink);
            // Logs are read a few at a time: one API stream each, so a
            // cluster of many pods is read in a fraction of the time, and the
            // rows held for sorting stay within the budget all the same.
            let held = Cell::new(out.iter().map(Event::held_bytes).sum::<usize>());
            let todo = fetch::logs_to_read(&objs.pods.items, &ctx.window);
            let read_one = |of: &LogOf| {
                let (client, url, cluster, held) = (&client, &url, &cluster, &held);
                let budget = self.budget;
                let of = of.clone();
                async move {
                    if held.get() > budget {
                        return LogRead { of, got: None, events: Vec::new(), skipped: Vec::new(), undated: 0 };
                    }
                    let (mut events, mut skipped, mut undated) = (Vec::new(), Vec::new(), 0u64);
                    let got = {
                        let mut on_line = |l: &[u8]| {
                            let before = events.len();
                            let t = take_line(l, &of, cluster, ctx, &mut undated, &mut events, &mut skipped);
                            let more: usize = events.get(before..).map_or(0, |n| n.iter().map(Event::held_bytes).sum());
                            held.set(held.get().saturating_add(more));
                            // Over the budget: this log ends here, as if past the window.
                            Ok(if held.get() > budget { Some(Timestamp::MAX) } else { t })
                        };
                        fetch::log(client, &of, &ctx.window, url, &mut on_line).await
                    };
                    LogRead { of, got: Some(got), events, skipped, undated }
                }
            };
            let mut reads =
                std::pin::pin!(futures_util::stream::iter(todo.iter()).map(read_one).buffered(LOGS_AT_ONCE));
            let (mut logs, mut lines, mut undated) = (0u64, 0u64, 0u64);
            let mut left: Vec<LogOf> = Vec::new();
            while let Some(r) = reads.next().await {
                undated = undated.saturating_add(r.undated);
                for t in r.skipped {
                    sink.skip(t, 0);
                }
                out.extend(r.events);
                match r.got {
                    None => left.push(r.of),
                    Some(Ok(n)) => {
                        logs = logs.saturating_add(1);
                        lines = lines.saturating_add(n);
                    }
                    // A pod gone since the list, a previous container already collected: say so, read the rest.
                    Some(Err(LogError::Fetch(e))) => {
                        sink.diagnostic(Diagnostic { locator: None, message: e.to_string() })
                    }
                    Some(Err(LogError::Stopped(s))) => return Err(s.into()),
                }
            }
            if !left.is_empty() {
                sink.diagnostic(budget_problem(self.budget, &left));
            }
            sink.note(format!(
                "{logs} container logs from {url}, {lines} lines read from the window's start; \
                 only pods that still exist, and of each container the current and previous run"
            ));
            if undated > 0 {
                sink.note(format!("{undated} log lines without a timestamp prefix skipped"));
            }
            emit_sorted(out, sink)?;
            Ok(())
        })
    }
}

/// The namespace's core Events and the nodes', saying how many of these
/// were read or why none were.
fn with_node_events(
    core: &[CoreEvent],
    nodes: Option<Result<&[CoreEvent], &str>>,
    sink: &mut dyn EventSink,
) -> Vec<CoreEvent> {
    let mut all = core.to_vec();
    match nodes {
        Some(Ok(l)) => {
            sink.note(format!("{} node Events from {}", l.len(), fetch::NODE_EVENTS_NS));
            all.extend(l.iter().cloned());
        }
        Some(Err(e)) => sink.note(format!("node Events not read ({e})")),
        None => {}
    }
    all
}

/// The Deployments' rollouts in the window, from their ReplicaSets, saying
/// how many there were or why none could be read.
fn rollouts(
    sets: Option<Result<&[ReplicaSet], &str>>,
    cluster: &Cluster,
    ctx: &CollectContext,
    out: &mut Vec<Event>,
    sink: &mut dyn EventSink,
) {
    match sets {
        Some(Ok(sets)) => {
            let found: Vec<Event> =
                parse::rollouts(sets, cluster).into_iter().filter(|e| ctx.window.contains(e.time)).collect();
            sink.note(format!(
                "{} rollout{} in the window from {} ReplicaSets (a rollback to an older ReplicaSet shows only in Events)",
                found.len(),
                if found.len() == 1 { "" } else { "s" },
                sets.len()
            ));
            out.extend(found);
        }
        Some(Err(e)) => sink.note(format!("rollouts not read ({e})")),
        None => {}
    }
}

/// The saved ReplicaSets (`kubectl get replicasets -o json`).
pub const REPLICA_SETS_FILE: &str = "replicasets.json";

/// The saved nodes' Events (`kubectl get events -n default --field-selector involvedObject.kind=Node -o json`).
pub const NODE_EVENTS_FILE: &str = "node-events.json";

/// Stores one saved file, of its part, by its name below `kubernetes/`.
pub type Put<'a> = dyn FnMut(Part, &str, &[u8]) -> Result<(), String> + 'a;

/// Saves what [`KubernetesFiles`] reads back: each list as the API gave it,
/// and each log's lines of the window, through `edit` (capture masks there).
pub async fn save(
    target: &Target,
    window: &reconstruct_core::TimeWindow,
    timeout: Duration,
    put: &mut Put<'_>,
    edit: &mut dyn FnMut(&mut serde_json::Value),
    mask_line: &dyn Fn(&[u8]) -> Vec<u8>,
) -> Result<(), CollectError> {
    let (client, ns, url) = fetch::client(target, timeout).await?;
    let objs = fetch::objects(&client, ns.as_deref(), &url).await?;
    let mut json = |v: serde_json::Value| -> Vec<u8> {
        let mut v = v;
        edit(&mut v);
        serde_json::to_vec_pretty(&v).unwrap_or_default()
    };
    let mut list = |part: Part, v: serde_json::Value| match part.file_name() {
        Some(name) => put(part, name, &json(v)),
        None => Ok(()),
    };
    list(Part::Pods, serde_json::to_value(&objs.pods)?)?;
    list(Part::Events, serde_json::to_value(&objs.core_events)?)?;
    if let Some(n) = &objs.new_events {
        list(Part::NewEvents, serde_json::to_value(n)?)?;
    }
    if let Some(Ok(n)) = &objs.node_events {
        list(Part::NodeEvents, serde_json::to_value(n)?)?;
    }
    if let Ok(n) = &objs.replica_sets {
        list(Part::ReplicaSets, serde_json::to_value(n)?)?;
    }
    for of in fetch::logs_to_read(&objs.pods.items, window) {
        let mut text = Vec::new();
        let mut on_line = |l: &[u8]| {
            let t = match parse::log_line(l, &of, &Cluster::default(), Detail::All) {
                LogLine::At(t, _) | LogLine::Unwanted(t) => Some(t),
                LogLine::Undated => None,
            };
            if t.is_none_or(|t| window.contains(t)) {
                text.extend_from_slice(&mask_line(l));
                text.push(b'\n');
            }
            Ok(t)
        };
        match fetch::log(&client, &of, window, &url, &mut on_line).await {
            Ok(_) => put(Part::Log, &log_name(&of), &text)?,
            Err(LogError::Fetch(_)) => {}
            Err(LogError::Stopped(s)) => return Err(s.into()),
        }
    }
    Ok(())
}

fn read_list<T: serde::de::DeserializeOwned + Clone>(path: &Path, display: &str) -> Result<Vec<T>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {display}: {e}"))?;
    list_from(&bytes, display)
}

/// The items of a saved list (`kubectl get … -o json`), checked against the
/// API's schema.
pub fn list_from<T: serde::de::DeserializeOwned + Clone>(bytes: &[u8], display: &str) -> Result<Vec<T>, String> {
    serde_json::from_slice::<ObjectList<T>>(bytes)
        .map(|l| l.items)
        .map_err(|e| format!("{display}: not a Kubernetes list: {e}"))
}

/// The events of saved lists, unsorted: pods, core Events, and
/// `events.k8s.io` Events where saved.
pub fn saved_events(
    pods: &[u8],
    core: &[u8],
    new: Option<&[u8]>,
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<Vec<Event>, String> {
    let pods: Vec<Pod> = list_from(pods, "pods.json")?;
    let core: Vec<CoreEvent> = list_from(core, "events.json")?;
    let new: Option<Vec<NewEvent>> = new.map(|n| list_from(n, "events.k8s.io.json")).transpose()?;
    let mut out = Vec::new();
    objects_to_events(&pods, &core, new.as_deref(), &Cluster::default(), false, ctx, &mut out, sink);
    Ok(out)
}

impl Collector for KubernetesFiles {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Kubernetes, name: "saved lists and logs".to_string() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        // Lists by what they hold; a log by the container it is of.
        let list = |want: Part| self.files.iter().find(|(_, _, p)| *p == want).map(|(p, d, _)| (p.clone(), d.clone()));
        let logs = |name: &str| {
            self.files.iter().find(|(_, d, p)| *p == Part::Log && (d == name || d.ends_with(&format!("/{name}"))))
        };
        let pods: Vec<Pod> = match list(Part::Pods) {
            Some((p, d)) => read_list::<Pod>(&p, &d)?,
            None => Vec::new(),
        };
        let core: Vec<CoreEvent> = match list(Part::Events) {
            Some((p, d)) => read_list::<CoreEvent>(&p, &d)?,
            None => Vec::new(),
        };
        let new: Option<Vec<NewEvent>> = match list(Part::NewEvents) {
            Some((p, d)) => Some(read_list::<NewEvent>(&p, &d)?),
            None => None,
        };
        let nodes: Option<Vec<CoreEvent>> = match list(Part::NodeEvents) {
            Some((p, d)) => Some(read_list::<CoreEvent>(&p, &d)?),
            None => None,
        };
        let core = with_node_events(&core, nodes.as_deref().map(Ok), sink);
        let sets: Option<Vec<ReplicaSet>> = match list(Part::ReplicaSets) {
            Some((p, d)) => Some(read_list::<ReplicaSet>(&p, &d)?),
            None => None,
        };
        let cluster = Cluster { context: self.context.clone() };
        let mut out = Vec::new();
        objects_to_events(&pods, &core, new.as_deref(), &cluster, false, ctx, &mut out, sink);
        rollouts(sets.as_deref().map(Ok), &cluster, ctx, &mut out, sink);
        let mut undated = 0u64;
        let saved = |of: &LogOf| logs(&log_name(of)).is_some();
        for of in fetch::saved_logs_to_read(&pods, &ctx.window, &saved) {
            let Some((path, display, _)) = logs(&log_name(&of)) else { continue };
            let f = std::fs::File::open(path).map_err(|e| format!("cannot open {display}: {e}"))?;
            for line in std::io::BufReader::new(f).split(b'\n') {
                let line = line.map_err(|e| format!("cannot read {display}: {e}"))?;
                let mut skipped = Vec::new();
                take_line(&line, &of, &cluster, ctx, &mut undated, &mut out, &mut skipped);
                for t in skipped {
                    sink.skip(t, 0);
                }
            }
        }
        emit_sorted(out, sink)?;
        Ok(())
    }
}
