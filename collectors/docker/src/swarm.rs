//! Docker Swarm: each service's logs (`/services/{id}/logs`), its tasks'
//! lifecycle (failed, rejected, shut down, with exit codes) and the swarm's
//! service events, straight from the engine's HTTP API (bollard has no
//! service logs). The server has no `until` for logs, so a task's lines are
//! read only until one passes the window's end, and the read stops once
//! every running task has passed it. Live and saved answers take one path.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use reconstruct_core::classify::is_state_change;
use reconstruct_core::text::{clean, shell_quote};
use reconstruct_core::timestamp::parse_iso;
use reconstruct_core::{
    severity, ContainerAction, Event, EventKind, Evidence, Fact, Locator, Severity, SourceKind, Stopped, TimeBasis,
    TimeWindow, Timestamp, Zone,
};
use serde_json::Value;

use crate::fetch::{host_shown, FetchError};

/// What the swarm's managers answered: services, tasks, service events.
#[derive(Clone, Debug, Default)]
pub struct Answers {
    pub services: Value,
    pub tasks: Value,
    pub events: Vec<Value>,
    /// Services whose logs could not be read whole (a node that does not
    /// answer, the deadline): their tasks and the other services still count.
    pub problems: Vec<String>,
}

/// One raw log line of a service: `TIMESTAMP DETAILS MESSAGE`, as
/// `docker service logs --raw --timestamps --details` prints it.
pub struct RawLine<'a> {
    pub service: &'a str,
    pub line: &'a [u8],
}

enum Addr {
    Unix(PathBuf),
    Tcp(String),
}

/// The engine, reached over its socket or TCP.
struct Engine {
    addr: Addr,
    shown: String,
}

impl Engine {
    fn new(host: Option<&str>) -> Result<Self, FetchError> {
        let shown = host_shown(host);
        let addr = if let Some(p) = shown.strip_prefix("unix://") {
            Addr::Unix(PathBuf::from(p))
        } else if let Some(h) = shown.strip_prefix("tcp://").or_else(|| shown.strip_prefix("http://")) {
            Addr::Tcp(h.trim_end_matches('/').to_string())
        } else {
            return Err(FetchError::Connect { host: shown.clone(), reason: "not a unix:// or tcp:// address".into() });
        };
        Ok(Engine { addr, shown })
    }

    fn fail(&self, what: &'static str) -> impl Fn(String) -> FetchError + '_ {
        move |reason| FetchError::Api { host: self.shown.clone(), what, reason }
    }

    /// One GET; the body is handed over as it arrives.
    async fn get(&self, path: &str, what: &'static str) -> Result<hyper::Response<hyper::body::Incoming>, FetchError> {
        let connect = |e: std::io::Error| FetchError::Connect { host: self.shown.clone(), reason: e.to_string() };
        let fail = self.fail(what);
        let (mut sender, host) = match &self.addr {
            Addr::Unix(p) => {
                let io = TokioIo::new(tokio::net::UnixStream::connect(p).await.map_err(connect)?);
                let (sender, conn) =
                    hyper::client::conn::http1::handshake(io).await.map_err(|e| fail(e.to_string()))?;
                tokio::spawn(conn);
                (sender, "docker".to_string())
            }
            Addr::Tcp(h) => {
                let io = TokioIo::new(tokio::net::TcpStream::connect(h).await.map_err(connect)?);
                let (sender, conn) =
                    hyper::client::conn::http1::handshake(io).await.map_err(|e| fail(e.to_string()))?;
                tokio::spawn(conn);
                (sender, h.clone())
            }
        };
        let req = hyper::Request::get(path)
            .header("Host", host)
            .body(http_body_util::Empty::<hyper::body::Bytes>::new())
            .map_err(|e| fail(e.to_string()))?;
        let resp = sender.send_request(req).await.map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            let body = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            let msg = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| text.trim().chars().take(200).collect());
            return Err(fail(format!("HTTP {status}: {msg}")));
        }
        Ok(resp)
    }

    async fn json(&self, path: &str, what: &'static str) -> Result<Value, FetchError> {
        let resp = self.get(path, what).await?;
        let body = resp.into_body().collect().await.map_err(|e| self.fail(what)(e.to_string()))?.to_bytes();
        serde_json::from_slice(&body).map_err(|e| self.fail(what)(format!("not JSON: {e}")))
    }
}

fn query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Reads services, tasks and service events, and each service's log lines
/// of the window (to `on_line`), within `timeout`.
pub async fn read(
    host: Option<&str>,
    window: &TimeWindow,
    timeout: Duration,
    on_line: &mut dyn FnMut(RawLine<'_>) -> Result<(), Stopped>,
) -> Result<Answers, FetchError> {
    let shown = host_shown(host);
    // Logs get what the lists leave of nine tenths of the time, so the lists survive a slow log.
    let logs_until = tokio::time::Instant::now() + timeout.mul_f64(0.9);
    let work = read_all(host, window, logs_until, on_line);
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(FetchError::Timeout { host: shown, secs: timeout.as_secs() }),
    }
}

async fn read_all(
    host: Option<&str>,
    window: &TimeWindow,
    logs_until: tokio::time::Instant,
    on_line: &mut dyn FnMut(RawLine<'_>) -> Result<(), Stopped>,
) -> Result<Answers, FetchError> {
    let engine = Engine::new(host)?;
    let services = engine.json("/services", "the service list (is this engine a swarm manager?)").await?;
    let tasks = engine.json("/tasks", "the task list").await?;
    let since = window.since.unix_seconds().max(0);
    let until = window.until.unix_seconds().saturating_add(1);
    let filters = r#"{"type":["service"]}"#.to_string();
    let path = format!(
        "/events?{}",
        query(&[("since", since.to_string()), ("until", until.to_string()), ("filters", filters)])
    );
    let resp = engine.get(&path, "the service events").await?;
    let body =
        resp.into_body().collect().await.map_err(|e| engine.fail("the service events")(e.to_string()))?.to_bytes();
    let mut events: Vec<Value> =
        body.split(|b| *b == b'\n').filter(|l| !l.is_empty()).filter_map(|l| serde_json::from_slice(l).ok()).collect();
    // Task containers' own events (OOM kills, kills, failing health checks)
    // on this engine: the task list keeps only the last state.
    let filters = r#"{"type":["container"],"label":["com.docker.swarm.task.id"]}"#.to_string();
    let path = format!(
        "/events?{}",
        query(&[("since", since.to_string()), ("until", until.to_string()), ("filters", filters)])
    );
    let resp = engine.get(&path, "the task containers' events").await?;
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| engine.fail("the task containers' events")(e.to_string()))?
        .to_bytes();
    events.extend(
        body.split(|b| *b == b'\n').filter(|l| !l.is_empty()).filter_map(|l| serde_json::from_slice::<Value>(l).ok()),
    );
    let mut problems = Vec::new();
    for s in services.as_array().into_iter().flatten() {
        let (Some(id), Some(name)) =
            (s.get("ID").and_then(Value::as_str), s.pointer("/Spec/Name").and_then(Value::as_str))
        else {
            continue;
        };
        // Tasks still running write on: their lines past the window end the read.
        let mut open: HashSet<&str> = tasks_of(&tasks, id)
            .filter(|t| t.pointer("/Status/State").and_then(Value::as_str) == Some("running"))
            .filter_map(|t| t.get("ID").and_then(Value::as_str))
            .collect();
        let read = service_logs(&engine, id, name, since, window, &mut open, on_line);
        match tokio::time::timeout_at(logs_until, read).await {
            Ok(Ok(())) => {}
            Ok(Err(LogsEnd::Fetch(e))) => problems.push(format!("logs of service {name}: {e}")),
            Ok(Err(LogsEnd::Stopped)) => problems.push(format!(
                "logs of service {name}: not read whole, the {} MiB held for sorting is full (narrow the window, or leave out --all)",
                reconstruct_core::HELD_BUDGET >> 20
            )),
            Err(_) => problems.push(format!("logs of service {name}: cut off at the source's deadline")),
        }
    }
    Ok(Answers { services, tasks, events, problems })
}

/// Why a service's logs ended early.
enum LogsEnd {
    Fetch(FetchError),
    /// The receiver wanted no more lines.
    Stopped,
}

/// One service's log lines of the window, to `on_line`, until every task
/// still running (`open`) has passed the window's end.
async fn service_logs(
    engine: &Engine,
    id: &str,
    name: &str,
    since: i64,
    window: &TimeWindow,
    open: &mut HashSet<&str>,
    on_line: &mut dyn FnMut(RawLine<'_>) -> Result<(), Stopped>,
) -> Result<(), LogsEnd> {
    let path = format!(
        "/services/{id}/logs?{}",
        query(&[
            ("stdout", "1".into()),
            ("stderr", "1".into()),
            ("timestamps", "1".into()),
            ("details", "1".into()),
            ("since", since.to_string()),
        ])
    );
    let resp = engine.get(&path, "a service's logs").await.map_err(LogsEnd::Fetch)?;
    let mut body = resp.into_body();
    let mut frames = Demux::default();
    let mut past: HashSet<String> = HashSet::new();
    'stream: while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| LogsEnd::Fetch(engine.fail("a service's logs")(e.to_string())))?;
        let Ok(data) = frame.into_data() else { continue };
        for line in frames.push(&data) {
            let parsed = split(&line);
            if let Some((t, details, _)) = &parsed {
                let task = detail(details, "com.docker.swarm.task.id").unwrap_or_default();
                if *t > window.until {
                    past.insert(task.to_string());
                    open.remove(task);
                    if open.is_empty() {
                        break 'stream;
                    }
                    continue;
                }
                if past.contains(task) {
                    continue;
                }
            }
            on_line(RawLine { service: name, line: &line }).map_err(|_| LogsEnd::Stopped)?;
        }
    }
    if let Some(rest) = frames.finish() {
        on_line(RawLine { service: name, line: &rest }).map_err(|_| LogsEnd::Stopped)?;
    }
    Ok(())
}

fn tasks_of<'a>(tasks: &'a Value, service: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    tasks.as_array().into_iter().flatten().filter(move |t| t.get("ServiceID").and_then(Value::as_str) == Some(service))
}

/// The engine's log stream, multiplexed (8-byte frame headers) unless the
/// service has a TTY, cut into lines.
#[derive(Default)]
struct Demux {
    buf: Vec<u8>,
    /// Whether the stream carries frame headers; decided by its first bytes.
    framed: Option<bool>,
    line: Vec<u8>,
}

impl Demux {
    fn push(&mut self, data: &[u8]) -> Vec<Vec<u8>> {
        self.buf.extend_from_slice(data);
        let framed = *self.framed.get_or_insert_with(|| {
            matches!(data.first(), Some(0..=2)) && data.get(1..4).is_some_and(|z| z == [0, 0, 0])
        });
        let mut payload = Vec::new();
        if framed {
            // Header: stream byte, three zeros, the payload's size (big-endian).
            while let Some(size) = self.buf.get(4..8).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
                let end = 8usize.saturating_add(u32::from_be_bytes(size) as usize);
                let Some(p) = self.buf.get(8..end) else { break };
                payload.extend_from_slice(p);
                self.buf.drain(..end);
            }
        } else {
            payload = std::mem::take(&mut self.buf);
        }
        self.line.extend_from_slice(&payload);
        let mut out = Vec::new();
        while let Some(nl) = self.line.iter().position(|b| *b == b'\n') {
            let rest = self.line.split_off(nl.saturating_add(1));
            let mut l = std::mem::replace(&mut self.line, rest);
            l.pop();
            out.push(l);
        }
        out
    }

    fn finish(self) -> Option<Vec<u8>> {
        (!self.line.is_empty()).then_some(self.line)
    }
}

/// The lines of a whole log stream, framed or not.
pub fn demux(data: &[u8]) -> Vec<Vec<u8>> {
    let mut d = Demux::default();
    let mut lines = d.push(data);
    lines.extend(d.finish());
    lines
}

/// `TIMESTAMP DETAILS MESSAGE` into its parts; `DETAILS` is `k=v,k=v`.
fn split(line: &[u8]) -> Option<(Timestamp, &str, &[u8])> {
    let sp = line.iter().position(|b| *b == b' ')?;
    let t = parse_iso(line.get(..sp)?, &Zone::Utc)?.time;
    let rest = line.get(sp.saturating_add(1)..)?;
    let sp2 = rest.iter().position(|b| *b == b' ').unwrap_or(rest.len());
    let details = std::str::from_utf8(rest.get(..sp2)?).ok()?;
    if !details.contains("com.docker.swarm.") {
        return Some((t, "", rest));
    }
    Some((t, details, rest.get(sp2.saturating_add(1)..).unwrap_or_default()))
}

fn detail<'a>(details: &'a str, key: &str) -> Option<&'a str> {
    details.split(',').find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
}

/// Turns the answers and log lines into events; what could not be read is
/// counted in `problems`.
pub struct Assembler {
    window: TimeWindow,
    notable_only: bool,
    /// Task id → `service.slot`, for log lines and task rows.
    names: HashMap<String, String>,
    pub events: Vec<Event>,
    pub lines: u64,
    pub undated: u64,
}

impl Assembler {
    pub fn new(window: TimeWindow, notable_only: bool) -> Self {
        Assembler { window, notable_only, names: HashMap::new(), events: Vec::new(), lines: 0, undated: 0 }
    }

    /// Learns the task names (call before the log lines).
    pub fn learn(&mut self, a: &Answers) {
        let services: BTreeMap<&str, &str> = a
            .services
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| Some((s.get("ID")?.as_str()?, s.pointer("/Spec/Name")?.as_str()?)))
            .collect();
        for t in a.tasks.as_array().into_iter().flatten() {
            let (Some(id), Some(svc)) =
                (t.get("ID").and_then(Value::as_str), t.get("ServiceID").and_then(Value::as_str))
            else {
                continue;
            };
            let name = services.get(svc).copied().unwrap_or(svc);
            let slot = t.get("Slot").and_then(Value::as_u64).map(|s| s.to_string()).unwrap_or_else(|| "global".into());
            self.names.insert(id.to_string(), format!("{name}.{slot}"));
        }
    }

    /// Task lifecycle and service events.
    pub fn lifecycle(&mut self, a: &Answers) {
        let services: BTreeMap<&str, &str> = a
            .services
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| Some((s.get("ID")?.as_str()?, s.pointer("/Spec/Name")?.as_str()?)))
            .collect();
        for t in a.tasks.as_array().into_iter().flatten() {
            if let Some(e) = self.task(t, &services) {
                if self.window.contains(e.time) {
                    self.events.push(e);
                }
            }
        }
        for ev in &a.events {
            let Some(at) = ev.get("timeNano").and_then(Value::as_i64).map(Timestamp::from_unix_nanos) else { continue };
            if !self.window.contains(at) {
                continue;
            }
            if ev.get("Type").and_then(Value::as_str) == Some("container") {
                if let Some(e) = self.container_event(ev, at) {
                    self.events.push(e);
                }
                continue;
            }
            let action = ev.get("Action").and_then(Value::as_str).unwrap_or_default();
            let name = ev.pointer("/Actor/Attributes/name").and_then(Value::as_str).unwrap_or("?");
            // An update that changes the image is a deploy: the engine names both images.
            let image = |k: &str| ev.pointer(&format!("/Actor/Attributes/image.{k}")).and_then(Value::as_str);
            if let ("update", Some(new)) = (action, image("new")) {
                let was = image("old").map(|o| format!(" (was {o})")).unwrap_or_default();
                self.events.push(Event {
                    time: at,
                    basis: TimeBasis::Explicit,
                    collector: SourceKind::Swarm,
                    component: Arc::from(name),
                    kind: EventKind::Change,
                    severity: Some(Severity::Notice),
                    summary: format!("swarm service {name} deployed: image {new}{was}"),
                    evidence: Evidence {
                        locator: Locator::Text(format!(
                            "docker events --filter type=service --filter service={} --since {} --until {}",
                            shell_quote(name),
                            at.unix_seconds(),
                            at.unix_seconds().saturating_add(1)
                        )),
                        excerpt: ev.to_string(),
                    },
                    continuation_lines: 0,
                    service: Some(Arc::from(name)),
                    fact: Some(Box::new(reconstruct_core::Fact::Rollout {
                        workload: name.to_string(),
                        revision: None,
                        images: vec![new.to_string()],
                    })),
                });
                continue;
            }
            let verb = match action {
                "create" => "created",
                "update" => "updated",
                "remove" => "removed",
                other => other,
            };
            self.events.push(Event {
                time: at,
                basis: TimeBasis::Explicit,
                collector: SourceKind::Swarm,
                component: Arc::from(name),
                kind: EventKind::StateChange,
                severity: Some(Severity::Notice),
                summary: format!("swarm service {name} {verb}"),
                evidence: Evidence {
                    locator: Locator::Text(format!(
                        "docker events --filter type=service --filter service={} --since {} --until {}",
                        shell_quote(name),
                        at.unix_seconds(),
                        at.unix_seconds().saturating_add(1)
                    )),
                    excerpt: ev.to_string(),
                },
                continuation_lines: 0,
                service: Some(Arc::from(name)),
                fact: None,
            });
        }
    }

    /// A task container's OOM kill, kill or failing health check.
    fn container_event(&self, ev: &Value, at: Timestamp) -> Option<Event> {
        let attrs = ev.pointer("/Actor/Attributes")?;
        let attr = |k: &str| attrs.get(k).and_then(Value::as_str);
        let task = attr("com.docker.swarm.task.id")?;
        let service = attr("com.docker.swarm.service.name").unwrap_or("swarm");
        let name = self.names.get(task).cloned().unwrap_or_else(|| service.to_string());
        let short: String = task.chars().take(12).collect();
        let action = ev.get("Action").and_then(Value::as_str)?;
        let (sev, act, what, signal) = match action {
            "oom" => (Severity::Critical, ContainerAction::Oom, "container OOM-killed".to_string(), None),
            "kill" => {
                let sig = attr("signal").map(str::to_string);
                let shown = sig.as_deref().map(|s| format!(" (signal {s})")).unwrap_or_default();
                (Severity::Warning, ContainerAction::Kill, format!("container killed{shown}"), sig)
            }
            "health_status: unhealthy" => {
                (Severity::Error, ContainerAction::Unhealthy, "container health check unhealthy".to_string(), None)
            }
            _ => return None,
        };
        let container = ev.pointer("/Actor/ID").and_then(Value::as_str).unwrap_or_default();
        Some(Event {
            time: at,
            basis: TimeBasis::Explicit,
            collector: SourceKind::Swarm,
            component: Arc::from(service),
            kind: EventKind::Lifecycle,
            severity: Some(sev),
            summary: format!("swarm task {name} ({short}) {what}"),
            evidence: Evidence {
                locator: Locator::Text(format!(
                    "docker events --filter container={} --filter event={action} --since {} --until {}",
                    shell_quote(container),
                    at.unix_seconds(),
                    at.unix_seconds().saturating_add(1)
                )),
                excerpt: ev.to_string(),
            },
            continuation_lines: 0,
            service: Some(Arc::from(service)),
            fact: Some(Box::new(Fact::Container {
                container: format!("{name}.{short}"),
                action: act,
                exit_code: None,
                signal,
            })),
        })
    }

    fn task(&self, t: &Value, services: &BTreeMap<&str, &str>) -> Option<Event> {
        let id = t.get("ID")?.as_str()?;
        let state = t.pointer("/Status/State")?.as_str()?;
        let at = parse_iso(t.pointer("/Status/Timestamp")?.as_str()?.as_bytes(), &Zone::Utc)?.time;
        let svc = t.get("ServiceID").and_then(Value::as_str).unwrap_or_default();
        let service = services.get(svc).copied().unwrap_or(svc);
        let name = self.names.get(id).cloned().unwrap_or_else(|| service.to_string());
        let short: String = id.chars().take(12).collect();
        let err = t.pointer("/Status/Err").and_then(Value::as_str).filter(|e| !e.is_empty());
        let exit = t.pointer("/Status/ContainerStatus/ExitCode").and_then(Value::as_i64);
        let exit_text = exit.map(|c| format!(" (exit code {c})")).unwrap_or_default();
        let (sev, action, what) = match state {
            "failed" => (
                Severity::Error,
                ContainerAction::Die,
                format!("failed: {}{exit_text}", err.unwrap_or("no reason given")),
            ),
            "rejected" => (
                Severity::Error,
                ContainerAction::Other("rejected".into()),
                format!("rejected: {}", err.unwrap_or("no reason given")),
            ),
            "shutdown" => {
                (Severity::Notice, ContainerAction::Other("shutdown".into()), format!("shut down{exit_text}"))
            }
            "complete" => (Severity::Notice, ContainerAction::Die, format!("completed{exit_text}")),
            "orphaned" => {
                (Severity::Warning, ContainerAction::Other("orphaned".into()), "orphaned: its node is gone".into())
            }
            "running" => (Severity::Notice, ContainerAction::Start, "running".into()),
            _ => return None,
        };
        let message = t.pointer("/Status/Message").and_then(Value::as_str).unwrap_or_default();
        Some(Event {
            time: at,
            basis: TimeBasis::Explicit,
            collector: SourceKind::Swarm,
            component: Arc::from(service),
            kind: EventKind::Lifecycle,
            severity: Some(sev),
            summary: format!("swarm task {name} ({short}) {what}"),
            evidence: Evidence {
                locator: Locator::Text(format!("docker inspect --type task {id}")),
                excerpt: format!(
                    "Status: State={state} Timestamp={} Message={message}{}{}",
                    at.rfc3339(),
                    err.map(|e| format!(" Err={e}")).unwrap_or_default(),
                    exit.map(|c| format!(" ExitCode={c}")).unwrap_or_default()
                ),
            },
            continuation_lines: 0,
            service: Some(Arc::from(service)),
            fact: Some(Box::new(Fact::Container {
                container: format!("{name}.{short}"),
                action,
                exit_code: exit,
                signal: None,
            })),
        })
    }

    /// One raw service log line; a routine one only counted when only
    /// notable rows are wanted (returned as `Some(time)` then).
    pub fn line(&mut self, l: RawLine<'_>) -> Option<Timestamp> {
        self.lines = self.lines.saturating_add(1);
        let Some((t, details, msg)) = split(l.line) else {
            self.undated = self.undated.saturating_add(1);
            return None;
        };
        if !self.window.contains(t) {
            return None;
        }
        let sev = severity::detect(msg);
        let state = is_state_change(msg);
        if self.notable_only && !reconstruct_core::notable::line(sev, state) {
            return Some(t);
        }
        let task = detail(details, "com.docker.swarm.task.id").unwrap_or_default();
        let who = self.names.get(task).cloned().unwrap_or_else(|| l.service.to_string());
        let target = if task.is_empty() { l.service } else { task };
        self.events.push(Event {
            time: t,
            basis: TimeBasis::Explicit,
            collector: SourceKind::Swarm,
            component: Arc::from(l.service),
            kind: if state { EventKind::StateChange } else { EventKind::Log },
            severity: sev,
            summary: clean(msg, 300).text,
            evidence: Evidence {
                locator: Locator::Text(format!(
                    "docker service logs --timestamps --since {} {}",
                    t.to_datetime().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                    shell_quote(target)
                )),
                excerpt: format!("{who}: {}", clean(msg, 2000).text),
            },
            continuation_lines: 0,
            service: Some(Arc::from(l.service)),
            fact: None,
        });
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_lines_split_across_chunks() {
        let mut d = Demux::default();
        let mut framed = Vec::new();
        for (stream, text) in [(1u8, "2026-01-01T00:00:00Z a=b one\n2026-01-01"), (2, "T00:00:01Z a=b two\n")] {
            framed.extend_from_slice(&[stream, 0, 0, 0]);
            framed.extend_from_slice(&(text.len() as u32).to_be_bytes());
            framed.extend_from_slice(text.as_bytes());
        }
        let (a, b) = framed.split_at(13);
        let mut lines = d.push(a);
        lines.extend(d.push(b));
        assert_eq!(lines, [b"2026-01-01T00:00:00Z a=b one".to_vec(), b"2026-01-01T00:00:01Z a=b two".to_vec()]);
        assert!(d.finish().is_none());
    }

    #[test]
    fn a_service_update_to_another_image_is_a_deploy() {
        let t0 = Timestamp::from_unix_seconds(1_772_461_490, 0).unwrap();
        let w = TimeWindow::new(t0, t0.saturating_add_nanos(60_000_000_000)).unwrap();
        let ev = |attrs: Value| {
            serde_json::json!({"Type": "service", "Action": "update", "timeNano": t0.unix_nanos() + 1,
                "Actor": {"ID": "s1", "Attributes": attrs}})
        };
        let answers = Answers {
            events: vec![
                ev(serde_json::json!({"name": "pay", "image.new": "shop/pay:2.0.1", "image.old": "shop/pay:2.0.0"})),
                ev(serde_json::json!({"name": "pay", "replicas.new": "3", "replicas.old": "2"})),
            ],
            ..Answers::default()
        };
        let mut a = Assembler::new(w, false);
        a.lifecycle(&answers);
        let deploy = a.events.iter().find(|e| e.kind == EventKind::Change).unwrap();
        assert_eq!(deploy.summary, "swarm service pay deployed: image shop/pay:2.0.1 (was shop/pay:2.0.0)");
        assert!(
            matches!(deploy.fact.as_deref(), Some(reconstruct_core::Fact::Rollout { images, .. }) if images == &["shop/pay:2.0.1"])
        );
        assert!(a.events.iter().any(|e| e.summary == "swarm service pay updated"), "a scale is not a deploy");
    }

    #[test]
    fn a_line_names_its_task() {
        let l = b"2026-11-27T21:57:02.942063585Z com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 ERROR failing now";
        let (t, details, msg) = split(l).unwrap();
        assert_eq!(t.unix_nanos() % 1_000_000_000, 942_063_585);
        assert_eq!(detail(details, "com.docker.swarm.task.id"), Some("t1"));
        assert_eq!(msg, b"ERROR failing now");
    }
}
