//! The live engine through bollard: containers of a compose project (or all,
//! stopped ones included), their inspection, their logs in the window, and
//! the engine's events. Per-container failures (a logging driver the engine
//! cannot read back answers 501) are kept per container; only an engine that
//! cannot be reached fails the source.

use std::collections::HashMap;
use std::time::Duration;

use bollard::query_parameters::{EventsOptions, InspectContainerOptions, ListContainersOptions, LogsOptions};
use bollard::Docker;
use futures_util::StreamExt;
use reconstruct_core::{TimeWindow, Timestamp};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot reach the docker engine at {host}: {reason}")]
    Connect { host: String, reason: String },
    #[error("the docker engine at {host} did not answer within {secs}s")]
    Timeout { host: String, secs: u64 },
    #[error("the docker engine at {host} refused {what}: {reason}")]
    Api { host: String, what: &'static str, reason: String },
}

pub use crate::handler::LogHandler;

pub struct Snapshot {
    /// `docker inspect` JSON of each container.
    pub containers: Vec<Value>,
    /// Engine events, in `docker events --format '{{json .}}'` shape.
    pub events: Vec<Value>,
    /// Containers whose logs were read from their json-file log on disk.
    pub from_files: usize,
    /// When the project asked for has no container: the projects the engine
    /// has (sorted), and how many containers belong to none, so a misspelt
    /// name is answered with the right one.
    pub elsewhere: Option<(Vec<String>, usize)>,
}

/// The engine as messages name it: the given host, else `DOCKER_HOST`, else the local socket.
pub fn host_shown(host: Option<&str>) -> String {
    host.map(str::to_string)
        .unwrap_or_else(|| std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into()))
}

fn connect(host: Option<&str>) -> Result<(Docker, String), FetchError> {
    let shown = host_shown(host);
    let err = |e: bollard::errors::Error| FetchError::Connect { host: shown.clone(), reason: e.to_string() };
    let docker = match host {
        Some(h) if h.starts_with("tcp://") || h.starts_with("http://") => {
            Docker::connect_with_http(h, 120, bollard::API_DEFAULT_VERSION).map_err(err)?
        }
        Some(h) => Docker::connect_with_socket(h, 120, bollard::API_DEFAULT_VERSION).map_err(err)?,
        None => Docker::connect_with_defaults().map_err(err)?,
    };
    Ok((docker, shown))
}

fn reason(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, message } => {
            format!("HTTP {status_code}: {message}")
        }
        other => other.to_string(),
    }
}

/// The containers, their logs in the window (streamed to `handler`) and the
/// engine's events; runs on the caller's async runtime.
pub async fn snapshot(
    host: Option<&str>,
    project: Option<&str>,
    window: &TimeWindow,
    timeout: Duration,
    from_disk: bool,
    handler: &mut dyn LogHandler,
) -> Result<Snapshot, FetchError> {
    let (docker, shown) = connect(host)?;
    // Debian's engine speaks an older API than bollard's default: agree on one.
    let docker = tokio::time::timeout(timeout, docker.negotiate_version())
        .await
        .map_err(|_| FetchError::Timeout { host: shown.clone(), secs: timeout.as_secs() })?
        .map_err(|e| FetchError::Connect { host: shown.clone(), reason: reason(&e) })?;
    let api = |what: &'static str| {
        let shown = shown.clone();
        move |e: bollard::errors::Error| FetchError::Api { host: shown.clone(), what, reason: reason(&e) }
    };
    let mut filters: HashMap<String, Vec<String>> = HashMap::new();
    if let Some(p) = project {
        filters.insert("label".into(), vec![format!("com.docker.compose.project={p}")]);
    }
    let list = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await
        .map_err(api("the container list"))?;
    let mut elsewhere = None;
    if list.is_empty() && project.is_some() {
        let all = docker
            .list_containers(Some(ListContainersOptions { all: true, ..Default::default() }))
            .await
            .map_err(api("the container list"))?;
        let mut projects: Vec<String> =
            all.iter().filter_map(|c| c.labels.as_ref()?.get("com.docker.compose.project").cloned()).collect();
        let plain = all.len().saturating_sub(projects.len());
        projects.sort();
        projects.dedup();
        elsewhere = Some((projects, plain));
    }
    // bollard's since/until are whole seconds: round outward, then each
    // line is filtered by its own timestamp.
    let since = i32::try_from(window.since.unix_seconds()).unwrap_or(0).max(0);
    let now = Timestamp::from_unix_seconds(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0),
        0,
    )
    .unwrap_or(window.until);
    let until_secs = window.until.min(now).unix_seconds() + 1;
    let until = i32::try_from(until_secs).unwrap_or(i32::MAX);
    let mut inspected = Vec::new();
    for c in list {
        let Some(id) = c.id else { continue };
        let inspect =
            docker.inspect_container(&id, None::<InspectContainerOptions>).await.map_err(api("an inspection"))?;
        let tty = inspect.config.as_ref().and_then(|c| c.tty).unwrap_or(false);
        inspected.push((id, tty, serde_json::to_value(&inspect).unwrap_or(Value::Null)));
    }
    let containers: Vec<Value> = inspected.iter().map(|(_, _, v)| v.clone()).collect();
    handler.containers(&containers);
    let local = from_disk && shown.starts_with("unix://");
    let mut from_files = 0;
    for (index, (id, tty, inspect)) in inspected.iter().enumerate() {
        // A local json-file log is read from disk, from the window on, not
        // through the engine, which reads the whole file to answer.
        if let Some(path) = crate::jsonfile::local_log(inspect, local) {
            if crate::jsonfile::read(&path, window, *tty, index, handler).is_ok() {
                from_files += 1;
                continue;
            }
        }
        let opts = LogsOptions { stdout: true, stderr: true, timestamps: true, since, until, ..Default::default() };
        let mut stream = docker.logs(id, Some(opts));
        let mut partial: HashMap<&'static str, Vec<u8>> = HashMap::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(out) => {
                    let (name, bytes) = match out {
                        bollard::container::LogOutput::StdOut { message } => ("stdout", message),
                        bollard::container::LogOutput::StdErr { message } => ("stderr", message),
                        bollard::container::LogOutput::Console { message } => {
                            (if *tty { "tty" } else { "console" }, message)
                        }
                        bollard::container::LogOutput::StdIn { message } => ("stdin", message),
                    };
                    // Frames need not end at line ends (always so with a TTY).
                    let buf = partial.entry(name).or_default();
                    buf.extend_from_slice(&bytes);
                    let mut start = 0;
                    while let Some(nl) = buf.get(start..).and_then(|b| b.iter().position(|c| *c == b'\n')) {
                        handler.line(index, name, buf.get(start..start + nl).unwrap_or_default());
                        start += nl + 1;
                    }
                    buf.drain(..start);
                }
                Err(e) => {
                    handler.problem(index, format!("its logs cannot be read: {}", reason(&e)));
                    break;
                }
            }
        }
        for (name, rest) in partial {
            if !rest.is_empty() {
                handler.line(index, name, &rest);
            }
        }
    }
    let mut ev_filters = filters;
    ev_filters.insert("type".into(), vec!["container".into()]);
    let opts = EventsOptions {
        since: Some(window.since.unix_seconds().to_string()),
        until: Some(until_secs.to_string()),
        filters: Some(ev_filters),
    };
    let mut events = Vec::new();
    let mut stream = docker.events(Some(opts));
    loop {
        match tokio::time::timeout(timeout, stream.next()).await {
            Ok(Some(Ok(e))) => events.push(serde_json::to_value(&e).unwrap_or(Value::Null)),
            Ok(Some(Err(e))) => return Err(api("the events query")(e)),
            Ok(None) => break,
            Err(_) => return Err(FetchError::Timeout { host: shown, secs: timeout.as_secs() }),
        }
    }
    Ok(Snapshot { containers, events, from_files, elsewhere })
}
