//! Docker as one slice: `--docker` (on by default beside a compose file),
//! `--docker-host`, `--compose-project`, `--swarm`, `[docker]`, the
//! bundle's `docker/` and `swarm/` folders, and how containers and a swarm
//! are saved.

use std::path::{Path, PathBuf};

use clap::{Args, FromArgMatches};
use reconstruct_core::slice::{
    Bundle, Common, ConfigError, ConfigText, Resolution, ResolveError, SavedFile, Slice, Spec,
};
use reconstruct_core::{runtime, Source, SourceKind};
use serde::Deserialize;

use crate::SwarmPart;

/// `docker-compose logs --timestamps --no-color` output.
pub const ROLE_COMPOSE_LOGS: &str = "compose-logs";
/// `docker events --format '{{json .}}'` output.
pub const ROLE_EVENTS: &str = "docker-events";
/// `docker inspect` output.
pub const ROLE_INSPECT: &str = "docker-inspect";
/// What older captures called every file of a swarm: read by its place in the layout.
pub const ROLE_SWARM: &str = "swarm";

#[derive(Debug, Args)]
#[group(skip)]
struct Flags {
    /// Read the Docker engine: container logs and lifecycle (also on when a compose file is in the current directory).
    #[arg(long)]
    docker: bool,
    /// The Docker engine to read (unix:///path or tcp://host:port; default DOCKER_HOST, else the local socket).
    #[arg(long, value_name = "URL")]
    docker_host: Option<String>,
    /// Only the containers of this compose project (default: the project of the compose file here, else all).
    #[arg(long, value_name = "NAME")]
    compose_project: Option<String>,
    /// Read a Docker Swarm's services from a manager's engine (--docker-host): logs, task lifecycle, service events.
    #[arg(long)]
    swarm: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Tables {
    docker: Option<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    host: Option<toml::Spanned<String>>,
    project: Option<String>,
    /// Read the swarm's services (the host is a manager) rather than the containers.
    #[serde(default)]
    swarm: bool,
}

/// `[docker]`, its host checked.
fn read_tables(config: &ConfigText) -> Result<Tables, ConfigError> {
    let tables: Tables = config.parse()?;
    if let Some(h) = tables.docker.as_ref().and_then(|d| d.host.as_ref()) {
        if !["unix://", "tcp://", "http://"].iter().any(|p| h.get_ref().starts_with(p)) {
            let message = format!("docker host {:?} is not unix://, tcp:// or http://", h.get_ref());
            return Err(config.error_at(h.span(), message));
        }
    }
    Ok(tables)
}

/// One Docker source.
#[derive(Debug)]
pub enum DockerSpec {
    /// The engine: container logs and lifecycle.
    Live { host: Option<String>, project: Option<String> },
    /// Saved `docker-compose logs --timestamps` output, and the saved
    /// inspections that name its containers' services.
    ComposeLogsFile { file: PathBuf, display: String, inspect: Vec<PathBuf> },
    /// Saved engine events and inspections, read together.
    LifecycleFiles { events: Vec<(PathBuf, String)>, inspect: Vec<(PathBuf, String)> },
    /// A swarm's services, from a manager's engine.
    SwarmLive { host: Option<String> },
    /// What a capture saved of a swarm, read together, each file with its part.
    SwarmFiles { files: Vec<(PathBuf, String, SwarmPart)> },
}

/// The kind of source: the Docker engine and a swarm.
pub struct Docker;

const COMPOSE_FILES: [&str; 4] = ["docker-compose.yml", "docker-compose.yaml", "compose.yaml", "compose.yml"];

/// The project name compose gives a directory: `COMPOSE_PROJECT_NAME`,
/// else the directory's name, lowercased, with what compose drops removed.
fn compose_project(dir: &Path, vars: &std::collections::BTreeMap<String, String>) -> Option<String> {
    if let Some(p) = vars.get("COMPOSE_PROJECT_NAME") {
        return Some(p.clone());
    }
    let absolute = dir.canonicalize().ok()?;
    let name = absolute.file_name()?.to_string_lossy().to_lowercase();
    let clean: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    (!clean.is_empty()).then_some(clean)
}

impl Slice for Docker {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn describe(&self) -> &'static str {
        "the Docker engine (container logs and lifecycle) and a Docker Swarm's services"
    }

    fn flags(&self, cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }

    fn naming_flags(&self) -> &'static [&'static str] {
        &["--docker"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["docker"]
    }

    fn check(&self, config: &ConfigText) -> Result<(), ConfigError> {
        read_tables(config).map(|_| ())
    }

    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let mut f = Flags::from_arg_matches(r.matches).map_err(|e| ResolveError::Other(e.to_string()))?;
        if let Some(d) = &read_tables(r.config)?.docker {
            if d.swarm && !f.swarm && f.docker_host.is_none() {
                f.swarm = true;
                f.docker_host = d.host.as_ref().map(|h| h.get_ref().clone());
            } else if !f.docker && !f.swarm && f.docker_host.is_none() && f.compose_project.is_none() {
                f.docker = true;
                f.docker_host = d.host.as_ref().map(|h| h.get_ref().clone());
                f.compose_project = d.project.clone();
            }
        }
        if f.swarm {
            r.push(DockerSpec::SwarmLive { host: f.docker_host.clone() });
        }
        let compose_here = r.cwd.filter(|d| COMPOSE_FILES.iter().any(|c| d.join(c).is_file()));
        // With --swarm, --docker-host names the manager, not a request for the containers too.
        let asked = f.docker || (f.docker_host.is_some() && !f.swarm) || f.compose_project.is_some();
        if asked || (compose_here.is_some() && !r.from_bundle) {
            let project = f.compose_project.or_else(|| compose_here.and_then(|d| compose_project(d, r.vars)));
            r.push(DockerSpec::Live { host: f.docker_host, project });
        }
        Ok(())
    }

    fn recognise(&self, rel: &str) -> Option<&'static str> {
        let name = rel.rsplit('/').next().unwrap_or_default();
        if rel.starts_with("swarm/") {
            SwarmPart::by_layout(rel).map(SwarmPart::role)
        } else if !rel.starts_with("docker/") {
            None
        } else if name.starts_with("events") {
            Some(ROLE_EVENTS)
        } else if name.starts_with("inspect") {
            Some(ROLE_INSPECT)
        } else {
            Some(ROLE_COMPOSE_LOGS)
        }
    }

    fn roles(&self) -> &'static [&'static str] {
        &[
            ROLE_COMPOSE_LOGS,
            ROLE_EVENTS,
            ROLE_INSPECT,
            ROLE_SWARM,
            "swarm-services",
            "swarm-tasks",
            "swarm-events",
            "swarm-log",
        ]
    }

    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let of = |roles: &[&str]| -> Vec<(PathBuf, String)> {
            files
                .iter()
                .filter(|f| roles.contains(&f.role.as_str()))
                .map(|f| (f.path.clone(), f.display.clone()))
                .collect()
        };
        let first = |roles: &[&str]| files.iter().find(|f| roles.contains(&f.role.as_str())).map(|f| f.order);
        let (events, inspect) = (of(&[ROLE_EVENTS]), of(&[ROLE_INSPECT]));
        let mut swarm = Vec::new();
        for f in files.iter().filter(|f| f.role.starts_with(ROLE_SWARM)) {
            match SwarmPart::from_role(&f.role).or_else(|| SwarmPart::by_layout(&f.display)) {
                Some(part) => swarm.push((f.path.clone(), f.display.clone(), part)),
                None => {
                    r.warnings.push(format!("bundle file {} is not read: not a file a swarm capture writes", f.display))
                }
            }
        }
        // Saved compose logs name their containers' services by the saved inspections.
        for f in files.iter().filter(|f| f.role == ROLE_COMPOSE_LOGS) {
            let names = inspect.iter().map(|(p, _)| p.clone()).collect();
            r.push_at(
                f.order,
                DockerSpec::ComposeLogsFile { file: f.path.clone(), display: f.display.clone(), inspect: names },
            );
        }
        // Engine events and inspection are read together, so a fact both hold is told once.
        if let Some(at) = first(&[ROLE_EVENTS, ROLE_INSPECT]) {
            r.push_joined(at, DockerSpec::LifecycleFiles { events, inspect });
        }
        // Task names come from the task list: a swarm's files are read together.
        let swarm_first = files.iter().find(|f| f.role.starts_with(ROLE_SWARM)).map(|f| f.order);
        if let (Some(at), false) = (swarm_first, swarm.is_empty()) {
            r.push_joined(at, DockerSpec::SwarmFiles { files: swarm });
        }
        Ok(())
    }

    fn blind_spots(&self) -> &'static [(&'static [SourceKind], &'static str)] {
        &[
            (
                &[SourceKind::Docker],
                "The Docker engine keeps only its last 256 events; older lifecycle comes from container inspection, which keeps the last start, exit and five health probes.",
            ),
            (
                &[SourceKind::Swarm],
                "A swarm keeps the last five tasks of each slot (its task history limit), and service logs only while the tasks' containers exist on nodes the manager can reach.",
            ),
        ]
    }
}

impl Spec for DockerSpec {
    fn kind(&self) -> SourceKind {
        match self {
            DockerSpec::SwarmLive { .. } | DockerSpec::SwarmFiles { .. } => SourceKind::Swarm,
            _ => SourceKind::Docker,
        }
    }

    fn what(&self) -> String {
        match self {
            DockerSpec::Live { host, .. } => crate::fetch::host_shown(host.as_deref()),
            DockerSpec::ComposeLogsFile { display, .. } => display.clone(),
            DockerSpec::LifecycleFiles { .. } => "saved files".to_string(),
            DockerSpec::SwarmLive { host } => {
                format!("swarm services at {}", crate::fetch::host_shown(host.as_deref()))
            }
            DockerSpec::SwarmFiles { .. } => "saved swarm services".to_string(),
        }
    }

    fn open(self: Box<Self>, c: &Common) -> Source {
        let timeout = c.timeout;
        match *self {
            DockerSpec::Live { host, project } => {
                Source::Network(Box::new(crate::DockerLive { host, project, timeout, from_disk: true }))
            }
            DockerSpec::ComposeLogsFile { file, display, inspect } => {
                Source::Blocking(Box::new(crate::ComposeLogsFile { file, display, inspect }))
            }
            DockerSpec::LifecycleFiles { events, inspect } => {
                Source::Blocking(Box::new(crate::LifecycleFiles { events, inspect }))
            }
            DockerSpec::SwarmLive { host } => Source::Network(Box::new(crate::SwarmLive { host, timeout })),
            DockerSpec::SwarmFiles { files } => Source::Blocking(Box::new(crate::SwarmFiles { files })),
        }
    }

    fn save(&self, c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
        match self {
            DockerSpec::Live { host, project } => save_engine(host.as_deref(), project.as_deref(), c, b),
            DockerSpec::SwarmLive { host } => {
                let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
                let shown = self.describe();
                let mut files: Vec<(SwarmPart, String, Vec<u8>)> = Vec::new();
                let mut put = |part: SwarmPart, name: &str, bytes: Vec<u8>| {
                    files.push((part, name.to_string(), bytes));
                    Ok(())
                };
                let m = b.masker();
                let mut edit = |v: &mut serde_json::Value| m.json(v);
                let mask_line = |l: &[u8]| m.line(l);
                let saved = rt.block_on(crate::save_swarm(
                    host.as_deref(),
                    &c.window,
                    c.timeout,
                    &mut put,
                    &mut edit,
                    &mask_line,
                ));
                // Services whose logs failed still leave the rest saved.
                for (part, name, bytes) in files {
                    b.add(&format!("swarm/{name}"), &bytes, part.role(), &shown, Default::default())?;
                }
                saved.map_err(|e| e.to_string())
            }
            DockerSpec::ComposeLogsFile { display, .. } => Err(format!("{display} is saved already")),
            DockerSpec::LifecycleFiles { .. } | DockerSpec::SwarmFiles { .. } => Err("saved already".to_string()),
        }
    }

    fn is_live(&self) -> bool {
        matches!(self, DockerSpec::Live { .. } | DockerSpec::SwarmLive { .. })
    }
}

/// Logs as `docker-compose logs --timestamps` prints them, streamed to the
/// file as they arrive; events and inspection.
fn save_engine(host: Option<&str>, project: Option<&str>, c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
    let shown = crate::fetch::host_shown(host);
    let rel = "docker/compose-logs.txt";
    let file = std::io::BufWriter::new(b.create(rel)?);
    let out = b.line_writer(Box::new(file));
    let mut lines = crate::parse::ComposeLogsWriter::new(out);
    let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let fetched = rt.block_on(crate::fetch::snapshot(host, project, &c.window, c.timeout, true, &mut lines));
    let written = lines.finish().and_then(|mut w| w.flush());
    let snap = match fetched {
        Ok(s) => s,
        Err(e) => {
            b.discard(rel);
            return Err(e.to_string());
        }
    };
    written.map_err(|e| format!("cannot write {rel}: {e}"))?;
    b.add_written(rel, ROLE_COMPOSE_LOGS, &shown, Default::default())?;
    let events = crate::parse::write_events(&snap.events);
    b.add("docker/events.jsonl", &events, ROLE_EVENTS, &shown, Default::default())?;
    let inspect = crate::parse::write_inspect(&snap.containers).map_err(|e| e.to_string())?;
    b.add("docker/inspect.json", &inspect, ROLE_INSPECT, &shown, Default::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_swarm_part_is_a_role_of_the_slice_and_found_by_its_place() {
        for p in SwarmPart::ALL {
            assert!(Docker.roles().contains(&p.role()), "{p:?}");
            assert_eq!(SwarmPart::from_role(p.role()), Some(p));
        }
        assert_eq!(Docker.recognise("swarm/services.json"), Some("swarm-services"));
        assert_eq!(Docker.recognise("swarm/events.jsonl"), Some("swarm-events"));
        assert_eq!(Docker.recognise("swarm/logs/legacy.log"), Some("swarm-log"));
        assert_eq!(Docker.recognise("swarm/notes.txt"), None);
        assert_eq!(Docker.recognise("docker/events.jsonl"), Some(ROLE_EVENTS));
    }
}
