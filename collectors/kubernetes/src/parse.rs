//! Kubernetes objects, as `k8s-openapi` types, made into events: pod status
//! facts (OOM kills, crash loops, restarts with exit codes, evictions),
//! Events of both APIs told once, and timestamped log lines. Pure: live and
//! saved objects take this same path.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{ContainerStateTerminated, Event as CoreEvent, Pod};
use k8s_openapi::api::events::v1::Event as NewEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use reconstruct_core::classify::is_state_change;
use reconstruct_core::text::clean;
use reconstruct_core::timestamp::parse_iso;
use reconstruct_core::{
    severity, ContainerAction, Detail, Event, EventKind, Evidence, Fact, Locator, Severity, SourceKind, TimeBasis,
    Timestamp, Want, Zone,
};

/// How evidence commands name the cluster: `kubectl --context X`.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    pub context: Option<String>,
}

impl Cluster {
    fn kubectl(&self) -> String {
        match &self.context {
            Some(c) => format!("kubectl --context {}", quote(c)),
            None => "kubectl".to_string(),
        }
    }
}

pub fn time(t: &Time) -> Timestamp {
    Timestamp::from_unix_nanos(i64::try_from(t.0.as_nanosecond()).unwrap_or(i64::MAX))
}

fn micro(t: &MicroTime) -> Timestamp {
    Timestamp::from_unix_nanos(i64::try_from(t.0.as_nanosecond()).unwrap_or(i64::MAX))
}

/// The component a pod speaks for: its app label, else `fallback`.
pub fn component(pod: &Pod, fallback: &str) -> String {
    let labels = pod.metadata.labels.as_ref();
    ["app.kubernetes.io/name", "app", "k8s-app"]
        .iter()
        .find_map(|k| labels.and_then(|l| l.get(*k)).cloned())
        .unwrap_or_else(|| fallback.to_string())
}

fn names(pod: &Pod) -> (&str, &str) {
    (pod.metadata.namespace.as_deref().unwrap_or("default"), pod.metadata.name.as_deref().unwrap_or("?"))
}

fn restarts(n: i32) -> String {
    if n == 1 {
        "1 restart".to_string()
    } else {
        format!("{n} restarts")
    }
}

/// The lifecycle facts a pod's status holds.
pub fn pod_facts(pod: &Pod, cluster: &Cluster) -> Vec<Event> {
    let mut out = Vec::new();
    let (ns, name) = names(pod);
    let Some(status) = &pod.status else { return out };
    let describe = format!("{} describe pod -n {} {}", cluster.kubectl(), quote(ns), quote(name));
    // Init containers first, as they run: a failing one (a migration, a
    // config fetch) keeps the pod from starting and is often the cause.
    let init = status.init_container_statuses.iter().flatten().map(|cs| (true, cs));
    for (is_init, cs) in init.chain(status.container_statuses.iter().flatten().map(|cs| (false, cs))) {
        let container = format!("{name}/{}", cs.name);
        let kind = if is_init { "init container" } else { "container" };
        let comp = component(pod, &cs.name);
        let waiting = cs.state.as_ref().and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.clone());
        let mut terminations: Vec<&ContainerStateTerminated> = Vec::new();
        if let Some(t) = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref()) {
            terminations.push(t);
        }
        if let Some(t) = cs.state.as_ref().and_then(|s| s.terminated.as_ref()) {
            terminations.push(t);
        }
        for t in terminations {
            let Some(at) = t.finished_at.as_ref().map(time) else { continue };
            // An init container that finished its work is how a pod starts, not news.
            if is_init && t.exit_code == 0 {
                continue;
            }
            let reason = t.reason.clone().unwrap_or_default();
            let (action, sev, what) = match reason.as_str() {
                "OOMKilled" => (ContainerAction::Oom, Severity::Critical, "OOM-killed".to_string()),
                _ if t.exit_code == 0 => (ContainerAction::Die, Severity::Notice, "exited".to_string()),
                "" => (ContainerAction::Die, Severity::Error, "died".to_string()),
                r => (ContainerAction::Die, Severity::Error, format!("died ({r})")),
            };
            let mut summary = format!("{kind} {container} {what} (exit code {})", t.exit_code);
            if waiting.as_deref() == Some("CrashLoopBackOff") {
                summary.push_str(&format!(", now in CrashLoopBackOff after {}", restarts(cs.restart_count)));
            } else if cs.restart_count > 0 {
                summary.push_str(&format!(", {} so far", restarts(cs.restart_count)));
            }
            let excerpt = format!(
                "containerStatuses[{}]: terminated reason={reason} exitCode={} startedAt={} finishedAt={}{}",
                cs.name,
                t.exit_code,
                t.started_at.as_ref().map(|s| time(s).rfc3339()).unwrap_or_default(),
                at.rfc3339(),
                t.message.as_deref().map(|m| format!("\nmessage: {m}")).unwrap_or_default()
            );
            out.push(lifecycle(
                at,
                &comp,
                sev,
                summary,
                &describe,
                excerpt,
                &container,
                action,
                Some(t.exit_code.into()),
            ));
        }
        // A container running again after a restart: when it came back.
        if cs.restart_count > 0 {
            if let Some(at) = cs.state.as_ref().and_then(|s| s.running.as_ref()).and_then(|r| r.started_at.as_ref()) {
                let at = time(at);
                let summary = format!("{kind} {container} restarted (restart {})", cs.restart_count);
                let excerpt = format!(
                    "containerStatuses[{}]: running startedAt={} restartCount={}",
                    cs.name,
                    at.rfc3339(),
                    cs.restart_count
                );
                out.push(lifecycle(
                    at,
                    &comp,
                    Severity::Warning,
                    summary,
                    &describe,
                    excerpt,
                    &container,
                    ContainerAction::Restart,
                    None,
                ));
            }
        }
    }
    if status.reason.as_deref() == Some("Evicted") {
        // An evicted pod's time is its last condition change.
        let at = status
            .conditions
            .iter()
            .flatten()
            .filter_map(|c| c.last_transition_time.as_ref().map(time))
            .max()
            .or_else(|| status.start_time.as_ref().map(time));
        if let Some(at) = at {
            let msg = status.message.clone().unwrap_or_default();
            let summary = format!("pod {name} evicted: {msg}");
            let comp = component(pod, name);
            let excerpt =
                format!("status: phase={} reason=Evicted message={msg}", status.phase.clone().unwrap_or_default());
            out.push(lifecycle(
                at,
                &comp,
                Severity::Error,
                summary,
                &describe,
                excerpt,
                name,
                ContainerAction::Other("evicted".into()),
                None,
            ));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn lifecycle(
    at: Timestamp,
    component: &str,
    sev: Severity,
    summary: String,
    locator: &str,
    excerpt: String,
    container: &str,
    action: ContainerAction,
    exit_code: Option<i64>,
) -> Event {
    Event {
        time: at,
        basis: TimeBasis::Explicit,
        collector: SourceKind::Kubernetes,
        component: Arc::from(component),
        kind: EventKind::Lifecycle,
        severity: Some(sev),
        summary,
        evidence: Evidence { locator: Locator::Text(locator.to_string()), excerpt },
        continuation_lines: 0,
        service: Some(Arc::from(component)),
        fact: Some(Box::new(Fact::Container { container: container.to_string(), action, exit_code, signal: None })),
    }
}

/// The rollouts that ReplicaSets record: a Deployment's new revision is a
/// new ReplicaSet, created when the rollout began. Unlike Events, the last
/// ten of each Deployment are kept (`revisionHistoryLimit`), so this says
/// what changed even after the hour the Events last.
pub fn rollouts(sets: &[ReplicaSet], cluster: &Cluster) -> Vec<Event> {
    let mut out = Vec::new();
    for rs in sets {
        let Some(at) = rs.metadata.creation_timestamp.as_ref().map(time) else { continue };
        let Some(owner) = rs.metadata.owner_references.iter().flatten().find(|o| o.kind == "Deployment") else {
            continue;
        };
        let ns = rs.metadata.namespace.as_deref().unwrap_or("default");
        let name = rs.metadata.name.as_deref().unwrap_or("?");
        let revision =
            rs.metadata.annotations.as_ref().and_then(|a| a.get("deployment.kubernetes.io/revision")).cloned();
        let template = rs.spec.as_ref().and_then(|s| s.template.as_ref());
        let images: Vec<String> = template
            .and_then(|t| t.spec.as_ref())
            .map(|s| s.containers.iter().filter_map(|c| c.image.clone()).collect())
            .unwrap_or_default();
        let labels = template.and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.as_ref());
        let component = ["app.kubernetes.io/name", "app", "k8s-app"]
            .iter()
            .find_map(|k| labels.and_then(|l| l.get(*k)).cloned())
            .unwrap_or_else(|| owner.name.clone());
        let rev = revision.as_deref().map(|r| format!(" revision {r}")).unwrap_or_default();
        let summary =
            clean(format!("deployment {}{rev} rolled out ({})", owner.name, images.join(", ")).as_bytes(), 300).text;
        let locator = format!(
            "{} rollout history deployment/{} -n {}{}",
            cluster.kubectl(),
            quote(&owner.name),
            quote(ns),
            revision.as_deref().map(|r| format!(" --revision={}", quote(r))).unwrap_or_default()
        );
        out.push(Event {
            time: at,
            basis: TimeBasis::Explicit,
            collector: SourceKind::Kubernetes,
            component: Arc::from(component.as_str()),
            kind: EventKind::Change,
            severity: Some(Severity::Notice),
            summary,
            evidence: Evidence {
                locator: Locator::Text(locator),
                excerpt: format!(
                    "replicaset {ns}/{name} created {} for deployment {} revision={} images={}",
                    at.rfc3339(),
                    owner.name,
                    revision.as_deref().unwrap_or("?"),
                    images.join(",")
                ),
            },
            continuation_lines: 0,
            service: Some(Arc::from(component)),
            fact: Some(Box::new(Fact::Rollout { workload: owner.name.clone(), revision, images })),
        });
    }
    out
}

/// One Event of either API, in the fields both share.
pub struct Happening {
    pub uid: Option<String>,
    /// The first occurrence (a repeated Event is news when it began) …
    pub time: Option<Timestamp>,
    /// … and the last, for a repeated one.
    pub last: Option<Timestamp>,
    pub warning: bool,
    pub reason: String,
    pub message: String,
    /// The object's kind, lowercased (`pod`, `node`), and its name: kept
    /// apart, so nothing has to split `pod/api-1` again.
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub count: i32,
}

impl Happening {
    /// `pod/api-1`, as kubectl names an object.
    pub fn object(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

impl From<&CoreEvent> for Happening {
    fn from(e: &CoreEvent) -> Self {
        let last = e
            .series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref())
            .map(micro)
            .or_else(|| e.last_timestamp.as_ref().map(time));
        let first = e
            .first_timestamp
            .as_ref()
            .map(time)
            .or_else(|| e.event_time.as_ref().map(micro))
            .or(last)
            .or_else(|| e.metadata.creation_timestamp.as_ref().map(time));
        let o = &e.involved_object;
        Happening {
            uid: e.metadata.uid.clone(),
            time: first,
            last,
            warning: e.type_.as_deref() == Some("Warning"),
            reason: e.reason.clone().unwrap_or_default(),
            message: e.message.clone().unwrap_or_default(),
            kind: o.kind.as_deref().unwrap_or("object").to_lowercase(),
            name: o.name.as_deref().unwrap_or("?").to_string(),
            namespace: e.metadata.namespace.clone().or_else(|| o.namespace.clone()).unwrap_or_default(),
            count: e.count.unwrap_or(1).max(e.series.as_ref().and_then(|s| s.count).unwrap_or(1)),
        }
    }
}

impl From<&NewEvent> for Happening {
    fn from(e: &NewEvent) -> Self {
        // eventTime is when the first of a series was seen.
        let last = e
            .series
            .as_ref()
            .map(|s| micro(&s.last_observed_time))
            .or_else(|| e.deprecated_last_timestamp.as_ref().map(time));
        let first = e
            .event_time
            .as_ref()
            .map(micro)
            .or_else(|| e.deprecated_first_timestamp.as_ref().map(time))
            .or(last)
            .or_else(|| e.metadata.creation_timestamp.as_ref().map(time));
        let o = e.regarding.as_ref();
        Happening {
            uid: e.metadata.uid.clone(),
            time: first,
            last,
            warning: e.type_.as_deref() == Some("Warning"),
            reason: e.reason.clone().unwrap_or_default(),
            message: e.note.clone().unwrap_or_default(),
            kind: o.and_then(|o| o.kind.as_deref()).unwrap_or("object").to_lowercase(),
            name: o.and_then(|o| o.name.as_deref()).unwrap_or("?").to_string(),
            namespace: e.metadata.namespace.clone().unwrap_or_default(),
            count: e.series.as_ref().map_or(e.deprecated_count.unwrap_or(1), |s| s.count),
        }
    }
}

/// Normal events that still say something changed.
const CHANGES: [&str; 8] = [
    "Killing",
    "ScalingReplicaSet",
    "SuccessfulDelete",
    "Preempted",
    "NodeNotReady",
    "Rebooted",
    "Evicted",
    "OOMKilling",
];

/// Normal events that report a node in trouble: as grave as a Warning.
const TROUBLE: [&str; 7] = [
    "NodeNotReady",
    "NodeHasDiskPressure",
    "NodeHasMemoryPressure",
    "NodeHasPIDPressure",
    "SystemOOM",
    "OOMKilling",
    "Rebooted",
];

/// Events of both APIs, each object told once (the two APIs show the same
/// objects, with the same uid).
pub struct Events {
    seen: HashSet<String>,
    pub read: u64,
    pub twice: u64,
    pub undated: u64,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    pub fn new() -> Self {
        Events { seen: HashSet::new(), read: 0, twice: 0, undated: 0 }
    }

    /// The event for `h`, unless it was told already, has no time, or is
    /// routine (`notable_only`).
    /// A repeated Event sits at its first occurrence, `(×N until last)`, as
    /// folded rows do; one that began before `window` sits at its last,
    /// `(×N since first)`.
    pub fn event(
        &mut self,
        h: Happening,
        cluster: &Cluster,
        components: &BTreeMap<String, String>,
        window: &reconstruct_core::TimeWindow,
    ) -> Option<Event> {
        if let Some(uid) = &h.uid {
            if !self.seen.insert(uid.clone()) {
                self.twice = self.twice.saturating_add(1);
                return None;
            }
        }
        self.read = self.read.saturating_add(1);
        let Some(first) = h.time else {
            self.undated = self.undated.saturating_add(1);
            return None;
        };
        let last = h.last.filter(|l| *l > first);
        let began_before = !window.contains(first) && last.is_some_and(|l| window.contains(l));
        let at = match last {
            Some(l) if began_before => l,
            _ => first,
        };
        let change = CHANGES.contains(&h.reason.as_str()) || TROUBLE.contains(&h.reason.as_str());
        // The kernel killing a process for memory is as grave as the
        // container's own OOM-killed status: where a failure starts.
        let sev = if matches!(h.reason.as_str(), "OOMKilling" | "SystemOOM") {
            Severity::Critical
        } else if h.warning || TROUBLE.contains(&h.reason.as_str()) {
            Severity::Warning
        } else if change {
            Severity::Notice
        } else {
            Severity::Info
        };
        let times = match (h.count > 1, last) {
            (false, _) => String::new(),
            (true, Some(_)) if began_before => format!(" (×{} since {})", h.count, first.date_hms()),
            (true, Some(l)) => format!(" (×{} until {})", h.count, l.hms()),
            (true, None) => format!(" (×{})", h.count),
        };
        let object = h.object();
        let summary = clean(format!("{} {object}: {}{times}", h.reason, h.message).as_bytes(), 300).text;
        let component = components.get(&format!("{}/{object}", h.namespace)).cloned().unwrap_or_else(|| h.name.clone());
        let locator = format!(
            "{} get events -n {} --field-selector involvedObject.name={},reason={}",
            cluster.kubectl(),
            quote(&h.namespace),
            quote(&h.name),
            quote(&h.reason)
        );
        Some(Event {
            time: at,
            basis: TimeBasis::Explicit,
            collector: SourceKind::Kubernetes,
            component: Arc::from(component.as_str()),
            kind: if h.warning || change { EventKind::StateChange } else { EventKind::Log },
            severity: Some(sev),
            summary,
            evidence: Evidence {
                locator: Locator::Text(locator),
                excerpt: format!(
                    "{} {} {} {}: {}",
                    at.rfc3339(),
                    if h.warning { "Warning" } else { "Normal" },
                    h.reason,
                    object,
                    h.message
                ),
            },
            continuation_lines: 0,
            service: Some(Arc::from(component)),
            fact: None,
        })
    }
}

/// Which container's log a line came from.
#[derive(Clone, Debug)]
pub struct LogOf {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub previous: bool,
    pub component: String,
}

/// One line of `kubectl logs --timestamps` output: its time, and the event
/// it makes (`None` for a routine line when only notable ones are wanted).
pub enum LogLine {
    Undated,
    /// Its time and its event (`None`: routine, counted, not built).
    At(Timestamp, Option<Event>),
    /// Before the window, and not what the findings want there ([`reconstruct_core::Reach`]).
    Unwanted(Timestamp),
}

pub fn log_line(line: &[u8], of: &LogOf, cluster: &Cluster, detail: Detail) -> LogLine {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(sp) = line.iter().position(|b| *b == b' ') else { return LogLine::Undated };
    let (stamp, rest) = line.split_at(sp);
    let Some(p) = parse_iso(stamp, &Zone::Utc) else { return LogLine::Undated };
    let msg = rest.get(1..).unwrap_or_default();
    // Before the window the findings want only what may be a change, then
    // only a routine line's beat in its service's pace.
    let want = match detail {
        Detail::Read(reach) => reach.wants(p.time, || reconstruct_core::cues::Cues::of_bytes(msg).any()),
        _ => Want::Whole,
    };
    if want == Want::Nothing {
        return LogLine::Unwanted(p.time);
    }
    let sev = severity::detect(msg);
    let state = want.asks_state(sev) && is_state_change(msg);
    let notable = reconstruct_core::notable::line(sev, state);
    if detail == Detail::Notable && !notable {
        return LogLine::At(p.time, None);
    }
    let whole = want == Want::Whole || notable;
    let previous = if of.previous { " --previous" } else { "" };
    let locator = format!(
        "{} logs -n {} {} -c {}{previous} --timestamps --since-time={}",
        cluster.kubectl(),
        quote(&of.namespace),
        quote(&of.pod),
        quote(&of.container),
        p.time.rfc3339()
    );
    let text = if whole { clean(msg, 2000).text } else { String::new() };
    LogLine::At(
        p.time,
        Some(Event {
            time: p.time,
            basis: TimeBasis::Explicit,
            collector: SourceKind::Kubernetes,
            component: Arc::from(of.component.as_str()),
            kind: if state { EventKind::StateChange } else { EventKind::Log },
            severity: sev,
            summary: if whole { clean(msg, 300).text } else { String::new() },
            evidence: Evidence {
                locator: Locator::Text(locator),
                excerpt: if whole { format!("{}/{}: {text}", of.pod, of.container) } else { String::new() },
            },
            continuation_lines: 0,
            service: Some(Arc::from(of.component.as_str())),
            fact: None,
        }),
    )
}

use reconstruct_core::text::shell_quote as quote;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn before_the_window_the_findings_get_changes_then_pace() {
        let of = LogOf {
            namespace: "shop".into(),
            pod: "api-7d9f-abcde".into(),
            container: "api".into(),
            previous: false,
            component: "api".into(),
        };
        let t = |s: &str| reconstruct_core::window::parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
        let reach = reconstruct_core::Reach {
            changes_only_before: t("2025-12-26T14:20:00Z"),
            paced_before: t("2025-12-26T14:30:00Z"),
        };
        let read = |line: &[u8]| match log_line(line, &of, &Cluster::default(), Detail::Read(reach)) {
            LogLine::At(_, Some(e)) => Some(e.summary),
            LogLine::Unwanted(_) => None,
            _ => Some("?".to_string()),
        };
        assert_eq!(read(b"2025-12-26T14:10:00Z GET /v1/items 200"), None);
        assert_eq!(read(b"2025-12-26T14:10:01Z ERROR upstream timed out"), None);
        assert_eq!(read(b"2025-12-26T14:10:02Z starting api 2.14.0"), Some("starting api 2.14.0".into()));
        assert_eq!(read(b"2025-12-26T14:20:00Z GET /v1/items 200"), Some(String::new()), "a beat of its pace");
        assert_eq!(read(b"2025-12-26T14:20:01Z ERROR upstream timed out"), Some("ERROR upstream timed out".into()));
        assert_eq!(read(b"2025-12-26T14:30:00Z GET /v1/items 200"), Some("GET /v1/items 200".into()));
    }

    fn at(t: &str) -> Timestamp {
        reconstruct_core::window::parse_bound(t, Timestamp::MIN, &reconstruct_core::Zone::Utc).unwrap()
    }

    fn backoff(first: &str, last: &str) -> Happening {
        Happening {
            uid: None,
            time: Some(at(first)),
            last: Some(at(last)),
            warning: true,
            reason: "BackOff".into(),
            message: "Back-off restarting failed container".into(),
            kind: "pod".into(),
            name: "api-7d9f".into(),
            namespace: "shop".into(),
            count: 14,
        }
    }

    #[test]
    fn repeated_kubernetes_events_sit_at_their_first_occurrence() {
        let window = reconstruct_core::TimeWindow::new(at("2025-12-26T10:00:00Z"), at("2025-12-26T11:00:00Z")).unwrap();
        let mut ev = Events::new();
        let cluster = Cluster { context: None };
        let e = ev.event(backoff("2025-12-26T10:14:25Z", "2025-12-26T10:40:10Z"), &cluster, &BTreeMap::new(), &window);
        let e = e.unwrap();
        assert_eq!(e.time, at("2025-12-26T10:14:25Z"));
        assert!(e.summary.ends_with("(×14 until 10:40:10)"), "{}", e.summary);
        // Begun before the window: shown at its last time inside it, with when it began.
        let e = ev.event(backoff("2025-12-26T09:14:25Z", "2025-12-26T10:40:10Z"), &cluster, &BTreeMap::new(), &window);
        let e = e.unwrap();
        assert_eq!(e.time, at("2025-12-26T10:40:10Z"));
        assert!(e.summary.ends_with("(×14 since 2025-12-26 09:14:25)"), "{}", e.summary);
    }

    #[test]
    fn new_api_events_use_event_time_for_the_first() {
        let e: NewEvent = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "x", "namespace": "shop"},
            "eventTime": "2025-12-26T10:14:25.000000Z",
            "series": {"count": 3, "lastObservedTime": "2025-12-26T10:20:00.000000Z"},
            "reason": "FailedScheduling", "note": "0/3 nodes are available", "type": "Warning",
            "regarding": {"kind": "Pod", "name": "api"}
        }))
        .unwrap();
        let h = Happening::from(&e);
        assert_eq!(h.time, Some(at("2025-12-26T10:14:25Z")));
        assert_eq!(h.last, Some(at("2025-12-26T10:20:00Z")));
    }
}
