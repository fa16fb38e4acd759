//! Docker collector: compose containers' logs and lifecycle (started, died,
//! OOM-killed, restarted, unhealthy), live through bollard (`fetch`) or
//! from saved `docker-compose logs`, `docker events` and `docker inspect`
//! output. Parsing is pure and shared by both modes (`parse`). A swarm's
//! services (their logs, tasks and events) are read by `swarm`.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod fetch;
pub mod handler;
pub mod jsonfile;
pub mod parse;
pub mod slice;
pub mod swarm;

use reconstruct_core::text::count;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use reconstruct_core::event::{Event, Locator};
use reconstruct_core::lines::LineReader;
use reconstruct_core::{
    CollectContext, CollectError, Collector, Detail, Diagnostic, EventSink, LocalFuture, NetworkCollector, SourceId,
};
use serde_json::Value;

use crate::parse::{Container, Fact, Line};
use reconstruct_core::SourceKind;

/// Live: the engine at `host` (default: `DOCKER_HOST`, else the local socket).
pub struct DockerLive {
    pub host: Option<String>,
    /// `com.docker.compose.project` to select; `None`: every container.
    pub project: Option<String>,
    pub timeout: std::time::Duration,
    /// Read a local engine's json-file logs from disk rather than through its API.
    pub from_disk: bool,
}

impl NetworkCollector for DockerLive {
    fn source(&self) -> SourceId {
        let host = fetch::host_shown(self.host.as_deref());
        let what = match &self.project {
            Some(p) => format!("compose project {p}"),
            None => "all containers".to_string(),
        };
        SourceId { collector: SourceKind::Docker, name: format!("{what} at {host}") }
    }

    fn collect<'a>(
        self: Box<Self>,
        ctx: &'a CollectContext,
        sink: &'a mut dyn EventSink,
    ) -> LocalFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            let mut lines = LiveLines {
                ctx,
                sink,
                containers: Vec::new(),
                skews: Vec::new(),
                events: Vec::new(),
                from_inspect: Vec::new(),
            };
            let snap = fetch::snapshot(
                self.host.as_deref(),
                self.project.as_deref(),
                &ctx.window,
                self.timeout,
                self.from_disk,
                &mut lines,
            )
            .await?;
            let LiveLines { sink, containers, skews, events, from_inspect, .. } = lines;
            for (c, skew) in containers.iter().zip(skews) {
                warn_skew(c, skew, sink);
            }
            sink.note(format!(
                "{}; the engine's events API holds only its last 256 events, older lifecycle comes from inspection",
                count(snap.containers.len() as u64, "container", "containers")
            ));
            if snap.from_files > 0 {
                sink.note(format!(
                    "logs of {} read from their json-file logs on disk",
                    count(snap.from_files as u64, "container", "containers")
                ));
            }
            if let (Some((projects, plain)), Some(p)) = (&snap.elsewhere, &self.project) {
                let named = if projects.is_empty() { "none".to_string() } else { projects.join(", ") };
                sink.note(format!(
                    "no container of compose project {p}; the engine's compose projects: {named}; {} outside compose",
                    count(*plain as u64, "container", "containers")
                ));
            }
            let from_events = snap.events.iter().filter_map(parse::event_fact).collect();
            finish(events, from_events, from_inspect, &containers, ctx, sink)
        })
    }
}

/// Turns streamed log lines into events as they come: routine lines are
/// only counted, so a busy container's log is never held whole.
struct LiveLines<'a> {
    ctx: &'a CollectContext,
    sink: &'a mut dyn EventSink,
    containers: Vec<Container>,
    skews: Vec<Option<i64>>,
    events: Vec<Event>,
    from_inspect: Vec<Fact>,
}

impl fetch::LogHandler for LiveLines<'_> {
    fn containers(&mut self, inspections: &[Value]) {
        let mut names = Vec::new();
        for inspect in inspections {
            // One name per container, even an uninspectable one, so names and logs stay paired.
            match parse::inspect_facts(inspect) {
                Some((n, facts)) => {
                    names.push(n);
                    self.from_inspect.extend(facts);
                }
                None => {
                    let id = inspect.get("Id").and_then(Value::as_str).unwrap_or("unknown");
                    let short: String = id.chars().take(12).collect();
                    names.push((short.clone(), short, None));
                }
            }
        }
        self.containers = parse::components(&names);
        self.skews = vec![None; self.containers.len()];
    }

    fn line(&mut self, index: usize, stream: &'static str, line: &[u8]) {
        let (Some(c), Some(skew)) = (self.containers.get(index), self.skews.get_mut(index)) else { return };
        push_line(c, stream, line, self.ctx, &mut *self.sink, &mut self.events, skew);
    }

    fn problem(&mut self, index: usize, message: String) {
        let name = self.containers.get(index).map_or("?", |c| c.name.as_str());
        self.sink.diagnostic(Diagnostic { locator: Some(Locator::Text(format!("container {name}"))), message });
    }
}

fn push_line(
    c: &Container,
    stream: &str,
    line: &[u8],
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
    events: &mut Vec<Event>,
    skew: &mut Option<i64>,
) {
    match parse::log_line(c, stream, line, &ctx.window, ctx.detail, skew) {
        Line::Event(e) => events.push(*e),
        Line::Routine(t) => sink.skip(t, 0),
        Line::Outside | Line::Unwanted | Line::Unreadable => {}
    }
}

fn warn_skew(c: &Container, skew: Option<i64>, sink: &mut dyn EventSink) {
    if let Some(s) = skew {
        sink.diagnostic(Diagnostic {
            locator: Some(Locator::Text(format!("container {}", c.name))),
            message: format!(
                "clock skew: the application's timestamps differ from the engine's by {s}s; the engine's time orders the timeline"
            ),
        });
    }
}

/// Lifecycle facts in the window become events; everything is handed over in time order.
fn finish(
    mut events: Vec<Event>,
    from_events: Vec<Fact>,
    from_inspect: Vec<Fact>,
    containers: &[Container],
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<(), CollectError> {
    let component: HashMap<&str, &str> = containers.iter().map(|c| (c.name.as_str(), c.component.as_str())).collect();
    let facts = parse::dedupe(from_events, from_inspect);
    for (time, _, e) in parse::deploys(&facts) {
        if ctx.window.contains(time) {
            events.push(e);
        }
    }
    for f in facts {
        if ctx.window.contains(f.time) {
            let comp = component.get(f.container.as_str()).map_or(f.service.clone(), |c| c.to_string());
            events.push(f.into_event(&comp));
        }
    }
    events.sort_by(|a, b| a.order(b));
    for e in events {
        sink.emit(e)?;
    }
    Ok(())
}

/// Saved `docker-compose logs --timestamps --no-color` (or `docker compose
/// logs`) output; lines come grouped by container and are put in time order.
pub struct ComposeLogsFile {
    pub file: PathBuf,
    pub display: String,
    /// Saved `docker inspect` answers beside it: they name each container's
    /// compose service, as the live read does; names alone are a guess
    /// (`nc-app-1` is service `app` of project `nc`).
    pub inspect: Vec<PathBuf>,
}

impl Collector for ComposeLogsFile {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Docker, name: self.display.clone() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        // Two streaming passes: the names first (components depend on how many
        // replicas a service has), then the lines. Memory holds the events
        // built, not the file.
        let read_err = |e: std::io::Error| format!("cannot read {}: {e}", self.display);
        let open = || std::fs::File::open(&self.file).map_err(read_err);
        let mut seen: Vec<parse::Naming> = Vec::new();
        let mut rd = LineReader::new(open()?, 1 << 20);
        while let Some(l) = rd.next_line().map_err(read_err)? {
            let Some((name, _)) = parse::compose_line(l.bytes) else { continue };
            if !name.is_empty() && !seen.iter().any(|(n, _, _)| *n == name) {
                let replica = name
                    .rsplit(['_', '-'])
                    .next()
                    .filter(|r| r.chars().all(|c| c.is_ascii_digit()))
                    .map(str::to_string);
                let service = parse::service_of_name(&name);
                seen.push((name, service, replica));
            }
        }
        let known = inspected_names(&self.inspect);
        for n in &mut seen {
            if let Some(k) = known.iter().find(|k| k.0 == n.0) {
                *n = k.clone();
            }
        }
        let containers = parse::components(&seen);
        let by_name: HashMap<&str, &Container> = containers.iter().map(|c| (c.name.as_str(), c)).collect();
        let path: Arc<str> = Arc::from(self.display.as_str());
        let mut events = Vec::new();
        let mut skews: HashMap<String, Option<i64>> = HashMap::new();
        let mut unreadable = 0u64;
        let mut rd = LineReader::new(open()?, 1 << 20);
        while let Some(l) = rd.next_line().map_err(read_err)? {
            let number = l.number;
            let Some((name, line)) = parse::compose_line(l.bytes) else { continue };
            // compose's own chatter, not a container's.
            if name.is_empty() && line.starts_with(b"Attaching to") {
                continue;
            }
            let Some(c) = by_name.get(name.as_str()) else {
                unreadable += 1;
                if unreadable <= 5 {
                    sink.diagnostic(Diagnostic {
                        locator: Some(Locator::Line { path: path.clone(), line: number }),
                        message: "not a `name | line` compose log line".to_string(),
                    });
                }
                continue;
            };
            let skew = skews.entry(name.clone()).or_default();
            match parse::log_line(c, "output", &line, &ctx.window, ctx.detail, skew) {
                Line::Event(mut e) => {
                    // The saved file is the evidence a reader can open: name its line too.
                    e.evidence.excerpt = format!("{}:{number}\n{}", self.display, e.evidence.excerpt);
                    events.push(*e);
                }
                Line::Routine(t) => sink.skip(t, 0),
                Line::Outside | Line::Unwanted => {}
                Line::Unreadable => sink.diagnostic(Diagnostic {
                    locator: Some(Locator::Line { path: path.clone(), line: number }),
                    message: "no engine timestamp (save with --timestamps)".to_string(),
                }),
            }
        }
        for c in &containers {
            warn_skew(c, skews.get(&c.name).copied().flatten(), sink);
        }
        sink.note(format!("{} in saved compose logs", count(containers.len() as u64, "container", "containers")));
        finish(events, Vec::new(), Vec::new(), &containers, ctx, sink)
    }
}

/// The containers' names, services and replicas as saved inspections give
/// them; an unreadable file gives none (the lifecycle reader reports it).
fn inspected_names(files: &[PathBuf]) -> Vec<parse::Naming> {
    let mut names = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read(file) else { continue };
        let Ok(v) = serde_json::from_slice::<Value>(&text) else { continue };
        let list = match v {
            Value::Array(a) => a,
            other => vec![other],
        };
        names.extend(list.iter().filter_map(parse::inspect_facts).map(|(n, _)| n));
    }
    names
}

/// Saved engine evidence: `docker events --format '{{json .}}'` lines and
/// `docker inspect` JSON, read together so that a fact both know is
/// reported once.
pub struct LifecycleFiles {
    /// (path, how evidence names it)
    pub events: Vec<(PathBuf, String)>,
    pub inspect: Vec<(PathBuf, String)>,
}

impl Collector for LifecycleFiles {
    fn source(&self) -> SourceId {
        let names: Vec<&str> = self.events.iter().chain(&self.inspect).map(|(_, d)| d.as_str()).collect();
        SourceId { collector: SourceKind::Docker, name: names.join(" + ") }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let mut from_events = Vec::new();
        for (file, display) in &self.events {
            let text = std::fs::read(file).map_err(|e| format!("cannot read {display}: {e}"))?;
            let path: Arc<str> = Arc::from(display.as_str());
            for (i, line) in text.split(|c| *c == b'\n').enumerate() {
                if line.trim_ascii().is_empty() {
                    continue;
                }
                match serde_json::from_slice::<Value>(line) {
                    Ok(v) => from_events.extend(parse::event_fact(&v)),
                    Err(e) => sink.diagnostic(Diagnostic {
                        locator: Some(Locator::Line { path: path.clone(), line: i as u64 + 1 }),
                        message: format!("not a JSON event: {e}"),
                    }),
                }
            }
        }
        let mut names = Vec::new();
        let mut from_inspect = Vec::new();
        for (file, display) in &self.inspect {
            let text = std::fs::read(file).map_err(|e| format!("cannot read {display}: {e}"))?;
            let v: Value =
                serde_json::from_slice(&text).map_err(|e| format!("{display}: not docker inspect JSON: {e}"))?;
            let list = match v {
                Value::Array(a) => a,
                other => vec![other],
            };
            for c in &list {
                if let Some((n, f)) = parse::inspect_facts(c) {
                    names.push(n);
                    from_inspect.extend(f);
                }
            }
        }
        let containers = parse::components(&names);
        sink.note(format!(
            "{}, {} inspected",
            count(from_events.len() as u64, "engine event", "engine events"),
            count(containers.len() as u64, "container", "containers")
        ));
        finish(Vec::new(), from_events, from_inspect, &containers, ctx, sink)
    }
}

/// A swarm's services, read live from a manager's engine.
pub struct SwarmLive {
    pub host: Option<String>,
    pub timeout: std::time::Duration,
}

/// What a capture saved of a swarm: `services.json`, `tasks.json`,
/// `events.jsonl` and `logs/<service>.log` (raw lines, as
/// `docker service logs --raw --timestamps --details` prints them).
pub struct SwarmFiles {
    /// (path, how evidence names it, what it holds)
    pub files: Vec<(PathBuf, String, SwarmPart)>,
}

/// What a saved file of a swarm holds: its role in a bundle's manifest, so
/// a reader takes it by what it is, not by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwarmPart {
    /// The service list.
    Services,
    /// The task list.
    Tasks,
    /// Service events, one JSON object a line.
    Events,
    /// One service's raw log lines (`logs/<service>.log`).
    Log,
}

impl SwarmPart {
    pub const ALL: [SwarmPart; 4] = [SwarmPart::Services, SwarmPart::Tasks, SwarmPart::Events, SwarmPart::Log];

    /// Its role in a bundle's manifest.
    pub fn role(self) -> &'static str {
        match self {
            SwarmPart::Services => "swarm-services",
            SwarmPart::Tasks => "swarm-tasks",
            SwarmPart::Events => "swarm-events",
            SwarmPart::Log => "swarm-log",
        }
    }

    pub fn from_role(role: &str) -> Option<SwarmPart> {
        SwarmPart::ALL.into_iter().find(|p| p.role() == role)
    }

    /// A file's part by its place in the bundle layout, for a bundle whose
    /// manifest does not say (made by hand, or by an older capture).
    pub fn by_layout(rel: &str) -> Option<SwarmPart> {
        let below = rel.strip_prefix("swarm/")?;
        match below {
            "services.json" => Some(SwarmPart::Services),
            "tasks.json" => Some(SwarmPart::Tasks),
            _ if below.starts_with("logs/") => Some(SwarmPart::Log),
            _ if below.starts_with("events") => Some(SwarmPart::Events),
            _ => None,
        }
    }
}

fn swarm_finish(a: swarm::Assembler, sink: &mut dyn EventSink) -> Result<(), CollectError> {
    let tasks = a.events.iter().filter(|e| e.kind == reconstruct_core::EventKind::Lifecycle).count();
    sink.note(format!(
        "{} service log lines read, {tasks} task changes in the window; the managers keep a few old tasks per slot \
         (task history limit, 5 by default)",
        a.lines
    ));
    if a.undated > 0 {
        sink.note(format!("{} log lines without a timestamp skipped", a.undated));
    }
    let mut events = a.events;
    events.sort_by(|x, y| x.order(y));
    for e in events {
        sink.emit(e)?;
    }
    Ok(())
}

impl NetworkCollector for SwarmLive {
    fn source(&self) -> SourceId {
        SourceId {
            collector: SourceKind::Swarm,
            name: format!("swarm services at {}", fetch::host_shown(self.host.as_deref())),
        }
    }

    fn collect<'a>(
        self: Box<Self>,
        ctx: &'a CollectContext,
        sink: &'a mut dyn EventSink,
    ) -> LocalFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            // Log lines come before the task names are known: keep them raw, then assemble.
            let mut raw: Vec<(String, Vec<u8>)> = Vec::new();
            let mut held: usize = 0;
            let mut on_line = |l: swarm::RawLine<'_>| {
                held = held.saturating_add(l.line.len()).saturating_add(64);
                if held > reconstruct_core::HELD_BUDGET {
                    return Err(reconstruct_core::Stopped);
                }
                raw.push((l.service.to_string(), l.line.to_vec()));
                Ok(())
            };
            let answers = swarm::read(self.host.as_deref(), &ctx.window, self.timeout, &mut on_line).await?;
            for p in &answers.problems {
                sink.diagnostic(Diagnostic { locator: None, message: p.clone() });
            }
            let mut a = swarm::Assembler::new(ctx.window, ctx.detail == Detail::Notable);
            a.learn(&answers);
            a.lifecycle(&answers);
            for (service, line) in &raw {
                if let Some(t) = a.line(swarm::RawLine { service, line }) {
                    sink.skip(t, 0);
                }
            }
            swarm_finish(a, sink)
        })
    }
}

impl Collector for SwarmFiles {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Swarm, name: "saved swarm services".to_string() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let name_of = |d: &str| d.rsplit('/').next().unwrap_or(d).to_string();
        let read = |p: &PathBuf, d: &str| std::fs::read(p).map_err(|e| format!("cannot read {d}: {e}"));
        let mut answers = swarm::Answers::default();
        let mut logs = Vec::new();
        for (p, d, part) in &self.files {
            match part {
                // The service a log is of is in its name, as the layout writes it.
                SwarmPart::Log => logs.push((p, d, name_of(d).trim_end_matches(".log").to_string())),
                SwarmPart::Services => {
                    answers.services = serde_json::from_slice(&read(p, d)?).map_err(|e| format!("{d}: {e}"))?;
                }
                SwarmPart::Tasks => {
                    answers.tasks = serde_json::from_slice(&read(p, d)?).map_err(|e| format!("{d}: {e}"))?;
                }
                SwarmPart::Events => {
                    for (i, l) in read(p, d)?.split(|b| *b == b'\n').enumerate() {
                        if l.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        match serde_json::from_slice(l) {
                            Ok(v) => answers.events.push(v),
                            Err(e) => sink.diagnostic(Diagnostic {
                                locator: Some(Locator::Line {
                                    path: Arc::from(d.as_str()),
                                    line: (i as u64).saturating_add(1),
                                }),
                                message: format!("not a swarm event: {e}"),
                            }),
                        }
                    }
                }
            }
        }
        let mut a = swarm::Assembler::new(ctx.window, ctx.detail == Detail::Notable);
        a.learn(&answers);
        a.lifecycle(&answers);
        for (p, d, service) in logs {
            for line in read(p, d)?.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                if let Some(t) = a.line(swarm::RawLine { service: &service, line }) {
                    sink.skip(t, 0);
                }
            }
        }
        swarm_finish(a, sink)
    }
}

/// Stores one saved file, of its part, by its name below `swarm/`.
pub type SwarmPut<'a> = dyn FnMut(SwarmPart, &str, Vec<u8>) -> Result<(), String> + 'a;

/// Saves a swarm for [`SwarmFiles`]: each answer, and each service's raw
/// log lines of the window, through `mask_line` (capture masks there).
pub async fn save_swarm(
    host: Option<&str>,
    window: &reconstruct_core::TimeWindow,
    timeout: std::time::Duration,
    put: &mut SwarmPut<'_>,
    edit: &mut dyn FnMut(&mut Value),
    mask_line: &dyn Fn(&[u8]) -> Vec<u8>,
) -> Result<(), CollectError> {
    let mut logs: std::collections::BTreeMap<String, Vec<u8>> = std::collections::BTreeMap::new();
    let mut on_line = |l: swarm::RawLine<'_>| {
        let buf = logs.entry(l.service.to_string()).or_default();
        buf.extend_from_slice(&mask_line(l.line));
        buf.push(b'\n');
        Ok(())
    };
    let a = swarm::read(host, window, timeout, &mut on_line).await?;
    let mut mask_json = |v: &Value| {
        let mut v = v.clone();
        edit(&mut v);
        v.to_string().into_bytes()
    };
    put(SwarmPart::Services, "services.json", mask_json(&a.services))?;
    put(SwarmPart::Tasks, "tasks.json", mask_json(&a.tasks))?;
    let mut events = Vec::new();
    for e in &a.events {
        events.extend(mask_json(e));
        events.push(b'\n');
    }
    put(SwarmPart::Events, "events.jsonl", events)?;
    for (service, text) in logs {
        put(SwarmPart::Log, &format!("logs/{service}.log"), text)?;
    }
    // What was read is saved; what was not is said.
    if a.problems.is_empty() {
        Ok(())
    } else {
        Err(a.problems.join("; ").into())
    }
}
