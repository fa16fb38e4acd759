//! Pure parsing of what the engine says, live or saved: log lines with the
//! engine's timestamps, `docker-compose logs` output, `docker events` JSON
//! and `docker inspect` JSON, turned into events.

use std::collections::HashMap;
use std::sync::Arc;

use reconstruct_core::cues::Cues;
use reconstruct_core::event::{Event, EventKind, Evidence, Locator, Severity, TimeBasis, Timestamp};
use reconstruct_core::text::{clean, strip_ansi};
use reconstruct_core::timestamp::{self, parse_iso, Layout, ParseContext};
use reconstruct_core::{classify, severity, Detail, TimeWindow, Want, Zone};
use reconstruct_core::{ContainerAction, Fact as EventFact, SourceKind};
use serde_json::Value;

/// A container's name, compose service and replica number.
pub type Naming = (String, String, Option<String>);

/// A container as the timeline names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    /// `backend_1`, `proj-backend-1`, …
    pub name: String,
    /// The compose service, or the name when there is none.
    pub service: String,
    /// The component: the service, with the replica number when there are several.
    pub component: String,
    /// Not part of a compose project: its logs are `docker logs NAME`, and
    /// `docker-compose logs NAME` would fail.
    pub plain: bool,
}

/// `web_1` / `web-1` / `proj_web_1` → `web` style service names for
/// containers known only by name (saved `docker-compose logs`).
pub fn service_of_name(name: &str) -> String {
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if trimmed.len() < name.len() {
        if let Some(s) = trimmed.strip_suffix(['_', '-']) {
            if !s.is_empty() {
                return s.to_string();
            }
        }
    }
    name.to_string()
}

/// Assigns components: the service, or `service-N` where a service has several replicas.
pub fn components(names: &[Naming]) -> Vec<Container> {
    let mut per_service: HashMap<&str, usize> = HashMap::new();
    for (_, s, _) in names {
        *per_service.entry(s.as_str()).or_default() += 1;
    }
    names
        .iter()
        .map(|(name, service, replica)| {
            let several = per_service.get(service.as_str()).copied().unwrap_or(0) > 1;
            let component = match (several, replica) {
                (true, Some(r)) => format!("{service}-{r}"),
                (true, None) => name.clone(),
                (false, _) => service.clone(),
            };
            let plain = replica.is_none() && service == name;
            Container { name: name.clone(), service: service.clone(), component, plain }
        })
        .collect()
}

/// What to do with a line of container output.
pub enum Line {
    Event(Box<Event>),
    /// Routine (the summary does not need it built).
    Routine(Timestamp),
    Outside,
    /// Before the window, and not what the findings want there ([`reconstruct_core::Reach`]).
    Unwanted,
    /// Not a log line with an engine timestamp.
    Unreadable,
}

/// A difference between the engine's and the application's clock worth a warning.
pub const SKEW_WARN_SECS: i64 = 60;

/// One line of `docker logs --timestamps` output: the engine's RFC 3339
/// timestamp, a space, the application's text.
pub fn log_line(
    c: &Container,
    stream: &str,
    raw: &[u8],
    window: &TimeWindow,
    detail: Detail,
    skew: &mut Option<i64>,
) -> Line {
    let bytes = strip_ansi(raw);
    let bytes: &[u8] = bytes.strip_suffix(b"\r").unwrap_or(&bytes);
    let Some(p) = parse_iso(bytes, &Zone::Utc) else { return Line::Unreadable };
    if !window.contains(p.time) {
        return Line::Outside;
    }
    let msg = bytes.get(p.len..).unwrap_or_default();
    let msg = msg.strip_prefix(b" ").unwrap_or(msg);
    // The application's own timestamp, when the line starts with one.
    let ctx = ParseContext::new(Zone::Utc, window.until);
    let app = Layout::ALL.iter().find_map(|l| timestamp::parse(*l, msg, &ctx));
    let text = match app {
        Some(a) => {
            let diff = (a.time.unix_seconds() - p.time.unix_seconds()).abs();
            if diff >= SKEW_WARN_SECS && skew.is_none() {
                *skew = Some(a.time.unix_seconds() - p.time.unix_seconds());
            }
            msg.get(a.len..).unwrap_or_default()
        }
        None => msg,
    };
    let text = text.trim_ascii();
    // Before the window the findings want only what may be a change, then
    // only a routine line's beat in its service's pace.
    let want = match detail {
        Detail::Read(reach) => reach.wants(p.time, || Cues::of_bytes(text).any()),
        _ => Want::Whole,
    };
    if want == Want::Nothing {
        return Line::Unwanted;
    }
    let sev = severity::detect(text);
    let alarming = sev.is_some_and(|s| s >= Severity::Warning);
    let state = !alarming && want.asks_state(sev) && classify::is_state_change(text);
    let notable = reconstruct_core::notable::line(sev, state);
    if detail == Detail::Notable && !notable {
        return Line::Routine(p.time);
    }
    let whole = want == Want::Whole || notable;
    let exact = p.time.rfc3339();
    let from = Timestamp::from_unix_seconds(p.time.unix_seconds(), 0).unwrap_or(p.time);
    let to = from.saturating_add_nanos(1_000_000_000);
    Line::Event(Box::new(Event {
        time: p.time,
        basis: TimeBasis::Explicit,
        collector: SourceKind::Docker,
        component: Arc::from(c.component.as_str()),
        service: Some(Arc::from(c.service.as_str())),
        kind: if state { EventKind::StateChange } else { EventKind::Log },
        severity: sev,
        summary: if whole { clean(text, 480).text } else { String::new() },
        evidence: Evidence {
            locator: Locator::Text(format!(
                "{} {} --since {} --until {} ({} {})",
                if c.plain { "docker logs" } else { "docker-compose logs" },
                if c.plain { &c.name } else { &c.service },
                from.rfc3339(),
                to.rfc3339(),
                c.name,
                exact
            )),
            excerpt: if whole {
                format!("{} {stream} {exact}\n{}", c.name, reconstruct_core::text::clean_lines(msg, 4096).text)
            } else {
                String::new()
            },
        },
        continuation_lines: 0,
        fact: None,
    }))
}

/// Splits saved `docker-compose logs` output (`name  | text`) into
/// container names and their lines, in file order.
pub fn compose_lines(bytes: &[u8]) -> Vec<(u64, String, Vec<u8>)> {
    bytes
        .split(|c| *c == b'\n')
        .enumerate()
        .filter_map(|(i, raw)| compose_line(raw).map(|(name, rest)| (i as u64 + 1, name, rest)))
        .collect()
}

/// One line of saved compose output: the container name (empty when the
/// line has no `name |` prefix) and the text after the bar; `None` for a
/// blank line.
pub fn compose_line(raw: &[u8]) -> Option<(String, Vec<u8>)> {
    let line = strip_ansi(raw);
    let line: &[u8] = line.strip_suffix(b"\r").unwrap_or(&line);
    let Some(bar) = memchr_bar(line) else {
        return (!line.trim_ascii().is_empty()).then(|| (String::new(), line.to_vec()));
    };
    let name = String::from_utf8_lossy(line.get(..bar).unwrap_or_default()).trim().to_string();
    let rest = line.get(bar + 1..).unwrap_or_default();
    Some((name, rest.strip_prefix(b" ").unwrap_or(rest).to_vec()))
}

/// The writer of the saved form [`compose_line`] reads: streamed container
/// lines as `docker-compose logs --timestamps` prints them, `service_N  | line`
/// (compose v1 names), or the container's name when it has no compose labels.
pub struct ComposeLogsWriter<W: std::io::Write> {
    out: W,
    names: Vec<String>,
    error: Option<std::io::Error>,
}

impl<W: std::io::Write> ComposeLogsWriter<W> {
    pub fn new(out: W) -> Self {
        ComposeLogsWriter { out, names: Vec::new(), error: None }
    }

    /// The writer back, or the first write error (later lines were dropped).
    pub fn finish(self) -> std::io::Result<W> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }
}

impl<W: std::io::Write> crate::fetch::LogHandler for ComposeLogsWriter<W> {
    fn containers(&mut self, inspections: &[Value]) {
        // The container's own name, as `docker logs` knows it: the saved
        // inspections beside the file name its compose service, so a replay
        // gives the live run's components and evidence.
        self.names = inspections
            .iter()
            .map(|info| info.get("Name").and_then(Value::as_str).unwrap_or("?").trim_start_matches('/').to_string())
            .collect();
    }

    fn line(&mut self, index: usize, _stream: &'static str, line: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let name = self.names.get(index).map_or("?", String::as_str);
        let written = write!(self.out, "{name}  | ")
            .and_then(|()| self.out.write_all(line))
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(e) = written {
            self.error = Some(e);
        }
    }

    fn problem(&mut self, _index: usize, _message: String) {
        // A container whose logs cannot be read has no lines to save; its
        // inspection is still saved, and a live run names the problem.
    }
}

/// The saved form of engine events that [`event_fact`] reads: one JSON
/// object a line, as `docker events --format '{{json .}}'` writes them.
pub fn write_events(events: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        out.extend_from_slice(e.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// The saved form of inspections that [`inspect_facts`] reads: a JSON list,
/// as `docker inspect` prints it.
pub fn write_inspect(containers: &[Value]) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec_pretty(containers)
}

/// The `|` that ends a compose prefix: the first one, preceded by a name.
fn memchr_bar(line: &[u8]) -> Option<usize> {
    let bar = line.iter().position(|c| *c == b'|')?;
    let name = line.get(..bar)?.trim_ascii();
    let ok = !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
    ok.then_some(bar)
}

/// A lifecycle fact about a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    pub time: Timestamp,
    pub container: String,
    pub service: String,
    /// What happened: started, died, OOM-killed, restarted, killed, healthy, unhealthy.
    pub what: ContainerAction,
    pub exit_code: Option<i64>,
    pub detail: Option<String>,
    /// Where it was read.
    pub from: Origin,
    /// The image the container runs, and its id, where the engine says.
    pub image: Option<String>,
    pub id: Option<String>,
}

impl Fact {
    pub fn into_event(self, component: &str) -> Event {
        let name = &self.container;
        let (severity, summary) = match action_name(&self.what) {
            "start" => (Severity::Notice, format!("container {name} started")),
            "restart" => (Severity::Warning, format!("container {name} restarted")),
            "die" => match self.exit_code {
                Some(0) => (Severity::Notice, format!("container {name} exited (exit code 0)")),
                Some(c) => (Severity::Error, format!("container {name} died (exit code {c})")),
                None => (Severity::Error, format!("container {name} died")),
            },
            "oom" => (Severity::Critical, format!("container {name} OOM-killed")),
            "kill" => (
                Severity::Warning,
                format!(
                    "container {name} killed{}",
                    self.detail.as_deref().map(|s| format!(" (signal {s})")).unwrap_or_default()
                ),
            ),
            "health:healthy" => (Severity::Notice, format!("container {name} health check healthy")),
            "health:unhealthy" => (
                Severity::Error,
                format!(
                    "container {name} health check unhealthy{}",
                    self.detail.as_deref().map(|d| format!(": {}", d.trim())).unwrap_or_default()
                ),
            ),
            "create" => (
                Severity::Notice,
                format!(
                    "container {name} created{}",
                    self.image.as_deref().map(|i| format!(" (image {i})")).unwrap_or_default()
                ),
            ),
            "destroy" => (Severity::Notice, format!("container {name} removed")),
            "stop" => (Severity::Notice, format!("container {name} stopped")),
            other => (Severity::Notice, format!("container {name} {other}")),
        };
        let locator = match self.from {
            Origin::Inspect => format!("docker inspect {name} (State at {})", self.time.rfc3339()),
            _ => {
                let from = Timestamp::from_unix_seconds(self.time.unix_seconds(), 0).unwrap_or(self.time);
                format!(
                    "docker events --filter container={name} --since {} --until {} ({})",
                    from.rfc3339(),
                    from.saturating_add_nanos(1_000_000_000).rfc3339(),
                    action_name(&self.what)
                )
            }
        };
        let signal = if self.what == ContainerAction::Kill { self.detail.clone() } else { None };
        Event {
            time: self.time,
            basis: TimeBasis::Explicit,
            collector: SourceKind::Docker,
            component: Arc::from(component),
            service: (!self.service.is_empty()).then(|| Arc::from(self.service.as_str())),
            kind: EventKind::Lifecycle,
            severity: Some(severity),
            summary,
            evidence: Evidence {
                locator: Locator::Text(locator),
                excerpt: format!(
                    "{} {} {}{}",
                    self.from.as_str(),
                    action_name(&self.what),
                    self.time.rfc3339(),
                    self.detail.map(|d| format!("\n{d}")).unwrap_or_default()
                ),
            },
            continuation_lines: 0,
            fact: Some(Box::new(EventFact::Container {
                container: self.container,
                exit_code: self.exit_code,
                signal,
                action: self.what,
            })),
        }
    }
}

/// Where a lifecycle fact was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The engine's events API (or saved `docker events`).
    Events,
    /// A container's inspection (or saved `docker inspect`).
    Inspect,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Events => "docker events",
            Origin::Inspect => "docker inspect",
        }
    }
}

/// How evidence names an action (`health:healthy` for the health status the
/// engine reports as `health_status: healthy`).
pub fn action_name(a: &ContainerAction) -> &str {
    match a {
        ContainerAction::Start => "start",
        ContainerAction::Restart => "restart",
        ContainerAction::Die => "die",
        ContainerAction::Oom => "oom",
        ContainerAction::Kill => "kill",
        ContainerAction::Healthy => "health:healthy",
        ContainerAction::Unhealthy => "health:unhealthy",
        ContainerAction::Other(s) => s,
    }
}

/// The engine's action name as data.
pub fn action_of(what: &str) -> ContainerAction {
    match what {
        "start" => ContainerAction::Start,
        "restart" => ContainerAction::Restart,
        "die" => ContainerAction::Die,
        "oom" => ContainerAction::Oom,
        "kill" => ContainerAction::Kill,
        "health:healthy" => ContainerAction::Healthy,
        "health:unhealthy" => ContainerAction::Unhealthy,
        other => ContainerAction::Other(other.to_string()),
    }
}

fn label<'a>(labels: Option<&'a Value>, k: &str) -> Option<&'a str> {
    labels?.get(k)?.as_str()
}

/// Facts from one `docker events --format '{{json .}}'` object (or the same
/// shape from the API).
pub fn event_fact(v: &Value) -> Option<Fact> {
    if v.get("Type").and_then(Value::as_str) != Some("container") {
        return None;
    }
    let action = v.get("Action").and_then(Value::as_str)?;
    let attrs = v.get("Actor").and_then(|a| a.get("Attributes"));
    let time = match v.get("timeNano").and_then(Value::as_i64) {
        Some(n) => Timestamp::from_unix_nanos(n),
        None => Timestamp::from_unix_seconds(v.get("time").and_then(Value::as_i64)?, 0)?,
    };
    let name = label(attrs, "name").unwrap_or("?").to_string();
    let service =
        label(attrs, "com.docker.compose.service").map(str::to_string).unwrap_or_else(|| service_of_name(&name));
    let (what, detail) = match action {
        "start" | "die" | "oom" | "restart" | "create" | "destroy" | "stop" => (action_of(action), None),
        "kill" => (ContainerAction::Kill, label(attrs, "signal").map(str::to_string)),
        a if a.starts_with("health_status: ") => {
            (action_of(&format!("health:{}", a.trim_start_matches("health_status: "))), None)
        }
        _ => return None,
    };
    let exit_code = label(attrs, "exitCode").and_then(|c| c.parse().ok());
    let image = label(attrs, "image").or_else(|| v.get("from").and_then(Value::as_str)).map(str::to_string);
    let id = v.get("Actor").and_then(|a| a.get("ID")).or_else(|| v.get("id")).and_then(Value::as_str);
    Some(Fact {
        time,
        container: name,
        service,
        what,
        exit_code,
        detail,
        from: Origin::Events,
        image,
        id: id.map(|i| i.chars().take(12).collect()),
    })
}

fn time_field(v: Option<&Value>) -> Option<Timestamp> {
    let s = v?.as_str()?;
    let p = parse_iso(s.as_bytes(), &Zone::Utc)?;
    // The engine writes 0001-01-01T00:00:00Z for "never".
    (p.time.unix_seconds() > 0).then_some(p.time)
}

/// What one `docker inspect` object tells about the container: its names
/// and the lifecycle facts its State still holds.
pub fn inspect_facts(v: &Value) -> Option<(Naming, Vec<Fact>)> {
    let name = v.get("Name").and_then(Value::as_str)?.trim_start_matches('/').to_string();
    let labels = v.get("Config").and_then(|c| c.get("Labels"));
    let service = label(labels, "com.docker.compose.service").map(str::to_string).unwrap_or_else(|| name.clone());
    let replica = label(labels, "com.docker.compose.container-number").map(str::to_string);
    let state = v.get("State");
    let image = v.get("Config").and_then(|c| c.get("Image")).and_then(Value::as_str).map(str::to_string);
    let id = v.get("Id").and_then(Value::as_str).map(|i| i.chars().take(12).collect::<String>());
    let mut facts = Vec::new();
    let fact = |time, what: &str, exit_code, detail| Fact {
        time,
        container: name.clone(),
        service: service.clone(),
        what: action_of(what),
        exit_code,
        detail,
        from: Origin::Inspect,
        image: image.clone(),
        id: id.clone(),
    };
    if let Some(t) = time_field(state.and_then(|s| s.get("StartedAt"))) {
        facts.push(fact(t, "start", None, None));
    }
    let running = state.and_then(|s| s.get("Running")).and_then(Value::as_bool).unwrap_or(false);
    if let (false, Some(t)) = (running, time_field(state.and_then(|s| s.get("FinishedAt")))) {
        let code = state.and_then(|s| s.get("ExitCode")).and_then(Value::as_i64);
        if state.and_then(|s| s.get("OOMKilled")).and_then(Value::as_bool) == Some(true) {
            facts.push(fact(t, "oom", code, None));
        }
        facts.push(fact(t, "die", code, None));
    }
    // Health transitions from the last few probes the engine keeps.
    let retries = v
        .get("Config")
        .and_then(|c| c.get("Healthcheck"))
        .and_then(|h| h.get("Retries"))
        .and_then(Value::as_i64)
        .filter(|r| *r > 0)
        .unwrap_or(3);
    if let Some(log) = state.and_then(|s| s.get("Health")).and_then(|h| h.get("Log")).and_then(Value::as_array) {
        let mut status: Option<&str> = None;
        let mut streak = 0;
        for probe in log {
            let Some(end) = time_field(probe.get("End")) else { continue };
            let ok = probe.get("ExitCode").and_then(Value::as_i64) == Some(0);
            streak = if ok { 0 } else { streak + 1 };
            let now = if ok {
                Some("healthy")
            } else if streak >= retries {
                Some("unhealthy")
            } else {
                status
            };
            if now != status {
                if let Some(n) = now {
                    let out = probe.get("Output").and_then(Value::as_str).map(str::to_string).filter(|_| !ok);
                    // The first probe kept is not a change we saw happen.
                    if status.is_some() || log.len() < 5 {
                        facts.push(fact(end, &format!("health:{n}"), None, out));
                    }
                }
                status = now;
            }
        }
    }
    Some(((name.clone(), service.clone(), replica), facts))
}

/// A deploy: a service's container created with an image other than the
/// one its containers ran before (compose recreating it, `docker run` of
/// a new tag). The event names the old and the new image and the new
/// container; a container created again with the same image is not one.
pub fn deploys(facts: &[Fact]) -> Vec<(Timestamp, String, Event)> {
    let mut image_of: HashMap<&str, &str> = HashMap::new();
    let mut out = Vec::new();
    for f in facts {
        let Some(image) = f.image.as_deref() else { continue };
        if f.what == ContainerAction::Other("create".into()) {
            if let Some(before) = image_of.get(f.service.as_str()).filter(|b| **b != image) {
                out.push((f.time, f.service.clone(), deploy_event(f, before, image)));
            }
        }
        image_of.insert(f.service.as_str(), image);
    }
    out
}

fn deploy_event(f: &Fact, before: &str, image: &str) -> Event {
    let id = f.id.as_deref().unwrap_or("?");
    let from = Timestamp::from_unix_seconds(f.time.unix_seconds(), 0).unwrap_or(f.time);
    Event {
        time: f.time,
        basis: TimeBasis::Explicit,
        collector: SourceKind::Docker,
        component: Arc::from(f.service.as_str()),
        service: Some(Arc::from(f.service.as_str())),
        kind: EventKind::Change,
        severity: Some(Severity::Notice),
        summary: format!("service {} deployed: image {image} (was {before}), new container {id}", f.service),
        evidence: Evidence {
            locator: Locator::Text(format!(
                "docker events --filter container={} --since {} --until {} (create)",
                f.container,
                from.rfc3339(),
                from.saturating_add_nanos(1_000_000_000).rfc3339()
            )),
            excerpt: format!("create {} image={image} previous={before} id={id}", f.time.rfc3339()),
        },
        continuation_lines: 0,
        fact: Some(Box::new(EventFact::Rollout {
            workload: f.service.clone(),
            revision: f.id.clone(),
            images: vec![image.to_string()],
        })),
    }
}

/// The same container, the same change, within two seconds. A container
/// recreated under the same name is another container: its id tells.
fn same_fact(a: &Fact, b: &Fact) -> bool {
    let other = matches!((&a.id, &b.id), (Some(x), Some(y)) if x != y);
    !other
        && a.container == b.container
        && a.what == b.what
        && a.time.unix_nanos().abs_diff(b.time.unix_nanos()) <= 2_000_000_000
}

/// The same fact from the events API and from inspection is reported once:
/// events win, an inspected fact within two seconds of one is dropped.
pub fn dedupe(events: Vec<Fact>, from_inspect: Vec<Fact>) -> Vec<Fact> {
    // The engine itself repeats some facts: one `oom` event per process the
    // kernel kills in the container's cgroup. A repeat within two seconds is
    // the same fact.
    let mut from_events: Vec<Fact> = Vec::with_capacity(events.len());
    for f in events {
        if !from_events.iter().any(|e| same_fact(e, &f)) {
            from_events.push(f);
        }
    }
    for f in from_inspect {
        let dup = from_events.iter().any(|e| same_fact(e, &f));
        if !dup {
            from_events.push(f);
        }
    }
    from_events.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.container.cmp(&b.container)));
    from_events
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::window::parse_bound;

    fn window() -> TimeWindow {
        let t = |s: &str| parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
        TimeWindow::new(t("2025-12-26T14:00:00Z"), t("2025-12-26T15:00:00Z")).unwrap()
    }

    #[test]
    fn compose_writer_output_reads_back_line_for_line() {
        use crate::fetch::LogHandler;
        let mut w = ComposeLogsWriter::new(Vec::new());
        let inspect: Vec<Value> = serde_json::from_str(
            r#"[{"Name":"/shop_web_1","Config":{"Labels":{"com.docker.compose.service":"web","com.docker.compose.container-number":"1"}}},
                {"Name":"/loner","Config":{"Labels":{}}}]"#,
        )
        .unwrap();
        w.containers(&inspect);
        w.line(0, "stdout", b"2025-12-26T14:30:15.000000000Z ERROR boom | with a bar");
        w.line(1, "stderr", b"2025-12-26T14:30:16.000000000Z plain");
        let bytes = w.finish().unwrap();
        let lines = compose_lines(&bytes);
        assert_eq!(
            lines,
            vec![
                (1, "shop_web_1".to_string(), b"2025-12-26T14:30:15.000000000Z ERROR boom | with a bar".to_vec()),
                (2, "loner".to_string(), b"2025-12-26T14:30:16.000000000Z plain".to_vec()),
            ]
        );
        let events = vec![serde_json::json!({"Type": "container", "Action": "die"})];
        let back: Value = serde_json::from_slice(write_events(&events).trim_ascii_end()).unwrap();
        assert_eq!(back, events[0]);
        let back: Vec<Value> = serde_json::from_slice(&write_inspect(&inspect).unwrap()).unwrap();
        assert_eq!(back, inspect);
    }

    #[test]
    fn service_names() {
        assert_eq!(service_of_name("web_1"), "web");
        assert_eq!(service_of_name("mcp-server-1"), "mcp-server");
        assert_eq!(service_of_name("db"), "db");
        assert_eq!(service_of_name("web2"), "web2");
        let c = components(&[
            ("web_1".into(), "web".into(), Some("1".into())),
            ("web_2".into(), "web".into(), Some("2".into())),
            ("db_1".into(), "db".into(), Some("1".into())),
        ]);
        assert_eq!(c.iter().map(|c| c.component.as_str()).collect::<Vec<_>>(), vec!["web-1", "web-2", "db"]);
    }

    #[test]
    fn compose_v1_and_v2_with_colour() {
        let text = b"\x1b[36mmcp-server_1  |\x1b[0m 2025-12-26T14:30:42.123456789Z ERROR tool timeout\nbackend-1  | 2025-12-26T14:30:15.5Z boom | with bar\nAttaching to x\n";
        let lines = compose_lines(text);
        assert_eq!(lines[0].1, "mcp-server_1");
        assert_eq!(lines[0].2, b"2025-12-26T14:30:42.123456789Z ERROR tool timeout");
        assert_eq!(lines[1].1, "backend-1");
        assert_eq!(lines[1].2, b"2025-12-26T14:30:15.5Z boom | with bar");
        assert_eq!(lines[2].1, "");
    }

    #[test]
    fn plain_containers_get_a_docker_logs_command() {
        let c = components(&[("nc-web".into(), "nc-web".into(), None)]);
        assert!(c[0].plain);
        let mut skew = None;
        let Line::Event(e) =
            log_line(&c[0], "stderr", b"2025-12-26T14:30:15Z ERROR boom", &window(), Detail::Notable, &mut skew)
        else {
            panic!()
        };
        assert_eq!(
            e.evidence.locator.to_string(),
            "docker logs nc-web --since 2025-12-26T14:30:15Z --until 2025-12-26T14:30:16Z (nc-web 2025-12-26T14:30:15Z)"
        );
        let compose = components(&[("nc-app-1".into(), "app".into(), Some("1".into()))]);
        assert!(!compose[0].plain);
    }

    #[test]
    fn log_lines_keep_both_clocks() {
        let c = Container {
            name: "backend_1".into(),
            service: "backend".into(),
            component: "backend".into(),
            plain: false,
        };
        let mut skew = None;
        let line = b"2025-12-26T14:30:15.123456789Z 2025-12-26 14:28:00,000 ERROR [api] boom\r";
        let Line::Event(e) = log_line(&c, "stderr", line, &window(), Detail::Notable, &mut skew) else { panic!() };
        assert_eq!(e.time.rfc3339(), "2025-12-26T14:30:15.123456789Z");
        assert_eq!(e.summary, "ERROR [api] boom");
        assert_eq!(skew, Some(-135));
        assert_eq!(
            e.evidence.locator.to_string(),
            "docker-compose logs backend --since 2025-12-26T14:30:15Z --until 2025-12-26T14:30:16Z (backend_1 2025-12-26T14:30:15.123456789Z)"
        );
        assert!(matches!(
            log_line(&c, "stdout", b"2025-12-26T14:30:15Z GET / 200", &window(), Detail::Notable, &mut skew),
            Line::Routine(_)
        ));
        assert!(matches!(
            log_line(&c, "stdout", b"2025-12-26T16:30:15Z ERROR late", &window(), Detail::Notable, &mut skew),
            Line::Outside
        ));
        assert!(matches!(log_line(&c, "stdout", b"no stamp", &window(), Detail::Notable, &mut skew), Line::Unreadable));
    }

    #[test]
    fn before_the_window_the_findings_get_changes_then_pace() {
        let c = Container { name: "api-1".into(), service: "api".into(), component: "api".into(), plain: false };
        let t = |s: &str| parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
        let reach = reconstruct_core::Reach {
            changes_only_before: t("2025-12-26T14:20:00Z"),
            paced_before: t("2025-12-26T14:30:00Z"),
        };
        let mut skew = None;
        let mut read = |line: &[u8]| match log_line(&c, "stdout", line, &window(), Detail::Read(reach), &mut skew) {
            Line::Event(e) => Some(e.summary),
            Line::Unwanted => None,
            _ => Some("?".to_string()),
        };
        assert_eq!(read(b"2025-12-26T14:10:00Z GET /v1/items 200"), None);
        assert_eq!(read(b"2025-12-26T14:10:01Z ERROR upstream timed out"), None);
        assert_eq!(read(b"2025-12-26T14:10:02Z starting api 2.14.0"), Some("starting api 2.14.0".into()));
        assert_eq!(read(b"2025-12-26T14:20:00Z GET /v1/items 200"), Some(String::new()), "a beat of its pace");
        assert_eq!(read(b"2025-12-26T14:20:01Z ERROR upstream timed out"), Some("ERROR upstream timed out".into()));
        assert_eq!(read(b"2025-12-26T14:30:00Z GET /v1/items 200"), Some("GET /v1/items 200".into()));
    }

    #[test]
    fn a_container_created_with_another_image_is_a_deploy_and_the_same_image_is_not() {
        let ev = |t: i64, action: &str, id: &str, image: &str| {
            event_fact(&serde_json::json!({
                "Type": "container", "Action": action, "time": t, "from": image,
                "Actor": {"ID": id, "Attributes": {"name": "shop-pay-1", "image": image,
                    "com.docker.compose.service": "pay"}}
            }))
            .unwrap()
        };
        let facts = vec![
            ev(100, "start", "aaaaaaaaaaaaaaaa", "shop/pay:1.8.2"),
            ev(200, "destroy", "aaaaaaaaaaaaaaaa", "shop/pay:1.8.2"),
            ev(201, "create", "bbbbbbbbbbbbbbbb", "shop/pay:1.8.3"),
            ev(300, "create", "cccccccccccccccc", "shop/pay:1.8.3"),
        ];
        let d = deploys(&facts);
        assert_eq!(d.len(), 1, "only the new image is a deploy");
        let e = &d[0].2;
        assert_eq!(
            e.summary,
            "service pay deployed: image shop/pay:1.8.3 (was shop/pay:1.8.2), new container bbbbbbbbbbbb"
        );
        assert_eq!(e.kind, EventKind::Change);
        assert!(matches!(e.fact.as_deref(), Some(EventFact::Rollout { images, .. }) if images == &["shop/pay:1.8.3"]));
        assert_eq!(facts[1].clone().into_event("pay").summary, "container shop-pay-1 removed");
    }

    #[test]
    fn events_and_inspect_agree_once() {
        let ev: Value = serde_json::from_str(r#"{"status":"die","id":"abc","Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"3","name":"web_1","com.docker.compose.service":"web"}},"scope":"local","time":1766759442,"timeNano":1766759442500000000}"#).unwrap();
        let f = event_fact(&ev).unwrap();
        assert_eq!((action_name(&f.what), f.exit_code), ("die", Some(3)));
        let inspect: Value = serde_json::from_str(r#"{"Name":"/web_1","Config":{"Labels":{"com.docker.compose.service":"web","com.docker.compose.container-number":"1"}},
            "State":{"Running":false,"OOMKilled":false,"ExitCode":3,"StartedAt":"2025-12-26T14:30:00.1Z","FinishedAt":"2025-12-26T14:30:42.501Z"}}"#).unwrap();
        let ((name, service, replica), facts) = inspect_facts(&inspect).unwrap();
        assert_eq!((name.as_str(), service.as_str(), replica.as_deref()), ("web_1", "web", Some("1")));
        assert_eq!(facts.len(), 2);
        let all = dedupe(vec![f.clone(), f], facts);
        assert_eq!(all.iter().map(|f| action_name(&f.what)).collect::<Vec<_>>(), vec!["start", "die"]);
        assert_eq!(all[1].from, Origin::Events);
        let e = all[1].clone().into_event("web");
        assert_eq!(e.summary, "container web_1 died (exit code 3)");
        assert_eq!(e.severity, Some(Severity::Error));
    }

    #[test]
    fn health_log_transitions() {
        let inspect: Value = serde_json::from_str(r#"{"Name":"/api_1","Config":{"Healthcheck":{"Retries":2}},"State":{"Running":true,"StartedAt":"2025-12-26T14:43:04Z","FinishedAt":"0001-01-01T00:00:00Z",
            "Health":{"Status":"healthy","Log":[
              {"Start":"2025-12-26T14:44:00Z","End":"2025-12-26T14:44:01Z","ExitCode":1,"Output":"refused"},
              {"Start":"2025-12-26T14:44:30Z","End":"2025-12-26T14:44:31Z","ExitCode":1,"Output":"refused"},
              {"Start":"2025-12-26T14:45:29Z","End":"2025-12-26T14:45:30Z","ExitCode":0,"Output":"ok"}]}}}"#).unwrap();
        let (_, facts) = inspect_facts(&inspect).unwrap();
        let what: Vec<(String, String)> =
            facts.iter().map(|f| (action_name(&f.what).to_string(), f.time.hms())).collect();
        assert_eq!(
            what,
            vec![
                ("start".into(), "14:43:04".into()),
                ("health:unhealthy".into(), "14:44:31".into()),
                ("health:healthy".into(), "14:45:30".into())
            ]
        );
    }
}
