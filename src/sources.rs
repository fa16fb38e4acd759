//! Building the collectors for a run. This is the one place that knows
//! whether evidence is read live or from a saved bundle; everything after
//! it sees only event streams.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use reconstruct_core::{Collector, SourceId, Zone};
use reconstruct_git::{GitLogFileCollector, GitRepoCollector};
use reconstruct_logfile::{fetch, Locate, LogFileCollector};

use crate::bundle::{self, FileKind};
use crate::cli::SourceArgs;
use crate::config::Extra;
use crate::runner::Broken;
use reconstruct_core::SourceKind;

pub struct Built {
    pub collectors: Vec<Box<dyn Collector>>,
    pub broken: Vec<Broken>,
    /// Things worth a line on stderr (bundle files nobody reads).
    pub warnings: Vec<String>,
}

/// Builds every collector the flags (and the configuration file) ask for.
pub fn build(args: &SourceArgs, extra: &Extra, zone: Zone, timeout: Duration) -> anyhow::Result<Built> {
    let mut b = Built { collectors: Vec::new(), broken: Vec::new(), warnings: Vec::new() };
    let locate = args.timestamp_format.as_deref().map(|f| Locate::Strftime(f.to_string()));
    if let Some(dir) = args.fixtures.as_deref() {
        let plan = bundle::plan(dir).with_context(|| format!("cannot use the bundle {}", dir.display()))?;
        // Engine events and inspection are read together, so a fact both hold is told once.
        let mut lifecycle = reconstruct_docker::LifecycleFiles { events: Vec::new(), inspect: Vec::new() };
        // Rules give the evaluation interval the history is split by: one reader for all answers.
        let mut prometheus = reconstruct_prometheus::PrometheusFiles { files: Vec::new() };
        for f in plan.files {
            match f.kind {
                FileKind::Log => {
                    let zone = match &f.tz {
                        Some(z) => z.parse().with_context(|| format!("manifest entry {}", f.display))?,
                        None => zone,
                    };
                    let locate = f.timestamp_format.map(Locate::Strftime).or_else(|| locate.clone());
                    b.collectors.push(Box::new(LogFileCollector::new(f.path, f.display, f.component, zone, locate)));
                }
                FileKind::PgActivity => b.collectors.push(Box::new(reconstruct_postgres::ActivityFile {
                    file: f.path,
                    display: f.display,
                    keep_literals: args.no_redact,
                })),
                FileKind::PgLog => {
                    let zone = match &f.tz {
                        Some(z) => z.parse().with_context(|| format!("manifest entry {}", f.display))?,
                        None => zone,
                    };
                    b.collectors.push(Box::new(reconstruct_postgres::ServerLog {
                        file: f.path,
                        display: f.display,
                        zone,
                        keep_literals: args.no_redact,
                    }));
                }
                FileKind::ComposeLogs => b
                    .collectors
                    .push(Box::new(reconstruct_docker::ComposeLogsFile { file: f.path, display: f.display })),
                FileKind::Prometheus => prometheus.files.push((f.path, f.display)),
                FileKind::Annotations => b.collectors.push(Box::new(crate::annotate::AnnotationFile {
                    file: f.path,
                    display: f.display,
                    zone,
                })),
                FileKind::DockerEvents => lifecycle.events.push((f.path, f.display)),
                FileKind::DockerInspect => lifecycle.inspect.push((f.path, f.display)),
                FileKind::GitLog => {
                    let component = f.component.unwrap_or_else(|| fetch::component_of(Path::new(&f.display)));
                    b.collectors.push(Box::new(GitLogFileCollector {
                        file: f.path,
                        display: f.display,
                        component: component.into(),
                    }));
                }
            }
        }
        if !lifecycle.events.is_empty() || !lifecycle.inspect.is_empty() {
            b.collectors.push(Box::new(lifecycle));
        }
        if !prometheus.files.is_empty() {
            b.collectors.push(Box::new(prometheus));
        }
        for u in plan.unread {
            b.warnings.push(format!(
                "bundle file {u} is not read: no collector knows its kind (see the README's bundle layout)"
            ));
        }
    }
    for arg in &args.logs {
        let settings = extra.logs.get(arg).cloned().unwrap_or_default();
        let zone = settings.zone.unwrap_or(zone);
        let locate = settings.timestamp_format.map(Locate::Strftime).or_else(|| locate.clone());
        match fetch::expand(arg) {
            Ok(paths) => {
                for p in paths {
                    let display = p.display().to_string();
                    b.collectors.push(Box::new(LogFileCollector::new(
                        p,
                        display,
                        settings.component.clone(),
                        zone,
                        locate.clone(),
                    )));
                }
            }
            Err(e) => b.broken.push(Broken {
                source: SourceId { collector: SourceKind::Logfile, name: arg.clone() },
                error: e.to_string(),
            }),
        }
    }
    if let Some(dsn) = args.postgres.as_deref() {
        let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
        let explicit = Some(dsn).filter(|d| !d.is_empty());
        match reconstruct_postgres::dsn::resolve(explicit, &env) {
            Ok(dsn) => b.collectors.push(Box::new(reconstruct_postgres::ActivityLive {
                dsn,
                keep_literals: args.no_redact,
                connect_timeout: timeout,
            })),
            Err(e) => b.broken.push(Broken {
                source: SourceId { collector: SourceKind::Postgres, name: "pg_stat_activity".into() },
                error: e.to_string(),
            }),
        }
    }
    for arg in &args.postgres_logs {
        match fetch::expand(arg) {
            Ok(paths) => {
                for p in paths {
                    let display = p.display().to_string();
                    b.collectors.push(Box::new(reconstruct_postgres::ServerLog {
                        file: p,
                        display,
                        zone,
                        keep_literals: args.no_redact,
                    }));
                }
            }
            Err(e) => b.broken.push(Broken {
                source: SourceId { collector: SourceKind::Postgres, name: arg.clone() },
                error: e.to_string(),
            }),
        }
    }
    let env_url = std::env::var("PROMETHEUS_URL").ok().filter(|u| !u.is_empty());
    let url = match args.prometheus.as_deref() {
        Some("") => env_url.clone().or_else(|| Some(String::new())),
        Some(u) => Some(u.to_string()),
        None if args.fixtures.as_deref().is_none() => env_url,
        None => None,
    };
    if let Some(url) = url {
        let env: std::collections::HashMap<String, String> = std::env::vars().collect();
        match reconstruct_prometheus::fetch::Endpoint::parse(&url, &env) {
            Ok(endpoint) => b.collectors.push(Box::new(reconstruct_prometheus::PrometheusLive { endpoint, timeout })),
            Err(e) => b.broken.push(Broken {
                source: SourceId { collector: SourceKind::Prometheus, name: reconstruct_prometheus::fetch::mask(&url) },
                error: if url.is_empty() {
                    "no URL: give --prometheus URL or set PROMETHEUS_URL".to_string()
                } else {
                    e.to_string()
                },
            }),
        }
    }
    if let Some(url) = &args.alertmanager {
        let env: std::collections::HashMap<String, String> = std::env::vars().collect();
        match reconstruct_prometheus::fetch::Endpoint::parse(url, &env) {
            Ok(ep) => b
                .collectors
                .push(Box::new(reconstruct_prometheus::AlertmanagerLive { endpoint: ep.alertmanager(), timeout })),
            Err(e) => b.broken.push(Broken {
                source: SourceId {
                    collector: SourceKind::Alertmanager,
                    name: reconstruct_prometheus::fetch::mask(url),
                },
                error: e.to_string(),
            }),
        }
    }
    let compose_here = ["docker-compose.yml", "docker-compose.yaml", "compose.yaml", "compose.yml"]
        .iter()
        .any(|f| Path::new(f).is_file());
    let asked = args.docker || args.docker_host.as_deref().is_some() || args.compose_project.as_deref().is_some();
    if asked || (compose_here && args.fixtures.as_deref().is_none()) {
        let project = args
            .compose_project
            .as_deref()
            .map(str::to_string)
            .or_else(|| compose_here.then(default_compose_project).flatten());
        b.collectors.push(Box::new(reconstruct_docker::DockerLive {
            host: args.docker_host.as_deref().map(str::to_string),
            project,
            timeout,
        }));
    }
    let mut repos: Vec<PathBuf> = args.git.clone();
    if repos.is_empty() && !args.no_git && args.fixtures.as_deref().is_none() {
        let here = PathBuf::from(".");
        if reconstruct_git::walk::is_repository(&here) {
            repos.push(here);
        }
    }
    for r in repos {
        let component = extra.git_components.get(&r).cloned();
        b.collectors.push(Box::new(GitRepoCollector::new(r, component)));
    }
    if let Some(problem) = &extra.postgres_problem {
        b.broken.push(Broken {
            source: SourceId { collector: SourceKind::Postgres, name: "pg_stat_activity".into() },
            error: problem.clone(),
        });
    }
    for f in &args.annotate {
        b.collectors.push(Box::new(crate::annotate::AnnotationFile {
            file: f.clone(),
            display: f.display().to_string(),
            zone,
        }));
    }
    Ok(b)
}

/// The project name compose gives the current directory: `COMPOSE_PROJECT_NAME`,
/// else the directory's name, lowercased, with what compose drops removed.
fn default_compose_project() -> Option<String> {
    if let Ok(p) = std::env::var("COMPOSE_PROJECT_NAME") {
        return Some(p);
    }
    let dir = std::env::current_dir().ok()?;
    let name = dir.file_name()?.to_string_lossy().to_lowercase();
    let clean: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    (!clean.is_empty()).then_some(clean)
}
