//! The sources a run reads, as data: one variant per kind of source, live or
//! saved. [`SourceSpec::open`] builds the collector that reads one, and
//! [`SourceSpec::save`] writes its saved form into a bundle (`capture`).
//! A new kind of source is one variant here and one arm in each of the two.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reconstruct_core::{runtime, Source, SourceKind, TimeWindow, Timestamp, Zone};
use reconstruct_git::{GitLogFileCollector, GitRepoCollector};
use reconstruct_logfile::{Locate, LogFileCollector};
use reconstruct_postgres::dsn::Dsn;
use reconstruct_prometheus::fetch::Endpoint;

use crate::bundle::{BundleWriter, FileKind};

/// One log, and how to read it.
#[derive(Clone, Debug)]
pub struct LogSpec {
    /// One file, or the pieces of a rotation set oldest first: the path, and
    /// how evidence names it.
    pub files: Vec<(PathBuf, String)>,
    pub component: Option<String>,
    /// For lines written without an offset.
    pub zone: Zone,
    pub locate: Option<Locate>,
    /// Found under a directory or glob rather than named: a file there
    /// that holds no timestamps, or no text, is skipped, not a failure.
    pub found: bool,
}

/// One source to read.
#[derive(Clone, Debug)]
pub enum SourceSpec {
    /// A text log (live, or saved in a bundle: the file is the evidence either way).
    Log(LogSpec),
    /// A git repository, walked live.
    GitRepo { path: PathBuf, component: Option<String> },
    /// Saved `git log` text.
    GitLogFile { file: PathBuf, display: String, component: String },
    /// A live sample of pg_stat_activity.
    PgActivityLive { dsn: Box<Dsn> },
    /// A saved sample (`psql --csv`).
    PgActivityFile { file: PathBuf, display: String },
    /// A PostgreSQL server log (stderr, csvlog, jsonlog), live or saved.
    PgServerLog { file: PathBuf, display: String, zone: Zone },
    /// The Docker engine: container logs and lifecycle.
    DockerLive { host: Option<String>, project: Option<String> },
    /// Saved `docker-compose logs --timestamps` output, and the saved
    /// inspections that name its containers' services.
    ComposeLogsFile { file: PathBuf, display: String, inspect: Vec<PathBuf> },
    /// Saved engine events and inspections, read together.
    DockerLifecycleFiles { events: Vec<(PathBuf, String)>, inspect: Vec<(PathBuf, String)> },
    /// A Prometheus-compatible API.
    PrometheusLive { endpoint: Endpoint },
    /// Saved Prometheus and Alertmanager answers, read together.
    PrometheusFiles { files: Vec<(PathBuf, String)> },
    /// An Alertmanager (v2 API).
    AlertmanagerLive { endpoint: Endpoint },
    /// Rows people added.
    Annotations { file: PathBuf, display: String, zone: Zone },
    /// The systemd journal through `journalctl`: local, a directory, or files.
    JournalLive { target: reconstruct_journal::Target, filter: reconstruct_journal::Filter },
    /// A saved `journalctl -o export` stream.
    JournalExportFile { file: PathBuf, display: String },
    /// Loki, over its HTTP API.
    LokiLive { endpoint: reconstruct_stores::http::Endpoint, query: reconstruct_stores::loki::Query },
    /// Elasticsearch or OpenSearch, over its HTTP API.
    ElasticLive { endpoint: reconstruct_stores::http::Endpoint, search: reconstruct_stores::elastic::Search },
    /// Pages a capture saved from Loki or Elasticsearch (`kind` says which).
    StoreSaved { file: PathBuf, display: String, kind: SourceKind },
    /// A Docker Swarm's services, from a manager's engine.
    SwarmLive { host: Option<String> },
    /// What a capture saved of a swarm, read together.
    SwarmFiles { files: Vec<(PathBuf, String)> },
    /// A Kubernetes cluster through its API.
    KubernetesLive { target: reconstruct_kubernetes::fetch::Target },
    /// Lists and logs a capture saved from a cluster, read together.
    KubernetesFiles { files: Vec<(PathBuf, String)> },
}

/// What every source shares when it is opened or saved.
pub struct Common {
    pub window: TimeWindow,
    pub timeout: Duration,
    /// Keep SQL literals (`--no-redact`).
    pub keep_literals: bool,
    /// Where line indexes of big logs are kept between runs.
    pub cache_dir: Option<PathBuf>,
}

impl SourceSpec {
    pub fn kind(&self) -> SourceKind {
        match self {
            SourceSpec::Log(_) => SourceKind::Logfile,
            SourceSpec::GitRepo { .. } | SourceSpec::GitLogFile { .. } => SourceKind::Git,
            SourceSpec::PgActivityLive { .. } | SourceSpec::PgActivityFile { .. } | SourceSpec::PgServerLog { .. } => {
                SourceKind::Postgres
            }
            SourceSpec::DockerLive { .. }
            | SourceSpec::ComposeLogsFile { .. }
            | SourceSpec::DockerLifecycleFiles { .. } => SourceKind::Docker,
            SourceSpec::SwarmLive { .. } | SourceSpec::SwarmFiles { .. } => SourceKind::Swarm,
            SourceSpec::PrometheusLive { .. } | SourceSpec::PrometheusFiles { .. } => SourceKind::Prometheus,
            SourceSpec::AlertmanagerLive { .. } => SourceKind::Alertmanager,
            SourceSpec::Annotations { .. } => SourceKind::Annotation,
            SourceSpec::JournalLive { .. } | SourceSpec::JournalExportFile { .. } => SourceKind::Journal,
            SourceSpec::LokiLive { .. } => SourceKind::Loki,
            SourceSpec::ElasticLive { .. } => SourceKind::Elasticsearch,
            SourceSpec::StoreSaved { kind, .. } => *kind,
            SourceSpec::KubernetesLive { .. } | SourceSpec::KubernetesFiles { .. } => SourceKind::Kubernetes,
        }
    }

    /// Whether the source is the live system (not a saved file of it).
    pub fn is_live(&self) -> bool {
        match self {
            SourceSpec::GitRepo { .. }
            | SourceSpec::PgActivityLive { .. }
            | SourceSpec::DockerLive { .. }
            | SourceSpec::PrometheusLive { .. }
            | SourceSpec::AlertmanagerLive { .. }
            | SourceSpec::JournalLive { .. }
            | SourceSpec::LokiLive { .. }
            | SourceSpec::ElasticLive { .. }
            | SourceSpec::KubernetesLive { .. }
            | SourceSpec::SwarmLive { .. } => true,
            // A log or server log named on the command line is live too, but
            // it is its own saved form: capture copies it as it is.
            SourceSpec::Log(_) | SourceSpec::PgServerLog { .. } | SourceSpec::Annotations { .. } => false,
            SourceSpec::GitLogFile { .. }
            | SourceSpec::PgActivityFile { .. }
            | SourceSpec::ComposeLogsFile { .. }
            | SourceSpec::DockerLifecycleFiles { .. }
            | SourceSpec::PrometheusFiles { .. }
            | SourceSpec::JournalExportFile { .. }
            | SourceSpec::StoreSaved { .. }
            | SourceSpec::KubernetesFiles { .. }
            | SourceSpec::SwarmFiles { .. } => false,
        }
    }

    /// The collector that reads this source.
    pub fn open(self, c: &Common) -> Source {
        let keep_literals = c.keep_literals;
        let timeout = c.timeout;
        match self {
            SourceSpec::Log(mut l) => {
                if l.files.len() == 1 {
                    let (path, display) = l.files.remove(0);
                    Source::Blocking(Box::new(
                        LogFileCollector::new(path, display, l.component, l.zone, l.locate)
                            .found(l.found)
                            .cache_dir(c.cache_dir.clone()),
                    ))
                } else {
                    let component = l.component.clone().unwrap_or_else(|| log_component(&l));
                    Source::Blocking(Box::new(reconstruct_logfile::LogSetCollector {
                        files: l.files,
                        component: Arc::from(component),
                        zone: l.zone,
                        locate: l.locate,
                        found: l.found,
                        cache_dir: c.cache_dir.clone(),
                    }))
                }
            }
            SourceSpec::GitRepo { path, component } => {
                Source::Blocking(Box::new(GitRepoCollector::new(path, component)))
            }
            SourceSpec::GitLogFile { file, display, component } => {
                Source::Blocking(Box::new(GitLogFileCollector { file, display, component: Arc::from(component) }))
            }
            SourceSpec::PgActivityLive { dsn } => Source::Network(Box::new(reconstruct_postgres::ActivityLive {
                dsn: *dsn,
                keep_literals,
                connect_timeout: timeout,
            })),
            SourceSpec::PgActivityFile { file, display } => {
                Source::Blocking(Box::new(reconstruct_postgres::ActivityFile { file, display, keep_literals }))
            }
            SourceSpec::PgServerLog { file, display, zone } => {
                Source::Blocking(Box::new(reconstruct_postgres::ServerLog { file, display, zone, keep_literals }))
            }
            SourceSpec::DockerLive { host, project } => {
                Source::Network(Box::new(reconstruct_docker::DockerLive { host, project, timeout, from_disk: true }))
            }
            SourceSpec::ComposeLogsFile { file, display, inspect } => {
                Source::Blocking(Box::new(reconstruct_docker::ComposeLogsFile { file, display, inspect }))
            }
            SourceSpec::DockerLifecycleFiles { events, inspect } => {
                Source::Blocking(Box::new(reconstruct_docker::LifecycleFiles { events, inspect }))
            }
            SourceSpec::PrometheusLive { endpoint } => {
                Source::Network(Box::new(reconstruct_prometheus::PrometheusLive { endpoint, timeout }))
            }
            SourceSpec::PrometheusFiles { files } => {
                Source::Blocking(Box::new(reconstruct_prometheus::PrometheusFiles { files }))
            }
            SourceSpec::AlertmanagerLive { endpoint } => {
                Source::Network(Box::new(reconstruct_prometheus::AlertmanagerLive { endpoint, timeout }))
            }
            SourceSpec::Annotations { file, display, zone } => {
                Source::Blocking(Box::new(crate::annotate::AnnotationFile { file, display, zone }))
            }
            SourceSpec::JournalLive { target, filter } => {
                Source::Blocking(Box::new(reconstruct_journal::JournalLive { target, filter }))
            }
            SourceSpec::JournalExportFile { file, display } => {
                Source::Blocking(Box::new(reconstruct_journal::JournalExportFile { file, display }))
            }
            SourceSpec::LokiLive { endpoint, query } => {
                Source::Network(Box::new(reconstruct_stores::LokiLive { endpoint, query, timeout }))
            }
            SourceSpec::ElasticLive { endpoint, search } => {
                Source::Network(Box::new(reconstruct_stores::ElasticLive { endpoint, search, timeout }))
            }
            SourceSpec::StoreSaved { file, display, kind } => {
                Source::Blocking(Box::new(reconstruct_stores::StoreSaved { file, display, kind }))
            }
            SourceSpec::SwarmLive { host } => {
                Source::Network(Box::new(reconstruct_docker::SwarmLive { host, timeout }))
            }
            SourceSpec::SwarmFiles { files } => Source::Blocking(Box::new(reconstruct_docker::SwarmFiles { files })),
            SourceSpec::KubernetesLive { target } => {
                Source::Network(Box::new(reconstruct_kubernetes::KubernetesLive {
                    target,
                    timeout,
                    budget: reconstruct_core::HELD_BUDGET,
                }))
            }
            SourceSpec::KubernetesFiles { files } => {
                Source::Blocking(Box::new(reconstruct_kubernetes::KubernetesFiles { files, context: None }))
            }
        }
    }

    /// Writes this source's saved form into the bundle, in the form `open`
    /// reads back from `--fixtures`. An error names what could not be saved;
    /// the bundle's other sources are still saved.
    pub fn save(&self, c: &Common, b: &mut BundleWriter) -> Result<(), String> {
        match self {
            // Copied whole, so `file:line` evidence points at the same line.
            SourceSpec::Log(l) => {
                let derived = log_component(l);
                // A log named by its folder (`nginx/error`) keeps that folder
                // in the bundle, so two programs' `error.log` stay apart.
                let folder = match derived.rsplit_once('/') {
                    Some((dir, _)) if l.component.is_none() => {
                        let clean: Vec<String> = dir
                            .split('/')
                            .filter(|p| !p.is_empty() && *p != "." && *p != "..")
                            .map(|p| {
                                p.chars()
                                    .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
                                    .collect()
                            })
                            .collect();
                        std::iter::once("logs".to_string()).chain(clean).collect::<Vec<_>>().join("/")
                    }
                    _ => "logs".to_string(),
                };
                let extra = crate::bundle::Extra {
                    component: Some(l.component.clone().unwrap_or(derived)),
                    tz: Some(l.zone.to_string()),
                    timestamp_format: match &l.locate {
                        Some(Locate::Strftime(f)) => Some(f.clone()),
                        _ => None,
                    },
                    found: l.found,
                };
                // Compressed pieces are copied as they are: evidence names their lines all the same.
                l.files.iter().try_for_each(|(path, _)| b.copy(&folder, path, FileKind::Log, extra.clone()))
            }
            SourceSpec::PgServerLog { file, zone, .. } => b.copy(
                "postgres",
                file,
                FileKind::PgLog,
                crate::bundle::Extra { tz: Some(zone.to_string()), ..Default::default() },
            ),
            SourceSpec::Annotations { file, .. } => {
                b.copy("annotations", file, FileKind::Annotations, crate::bundle::Extra::default())
            }
            // The commits of the window, in the saved `git log` form.
            SourceSpec::GitRepo { path, component } => {
                let name = component.clone().unwrap_or_else(|| reconstruct_git::walk::repo_name(path));
                let (commits, _) =
                    reconstruct_git::walk::commits_in_window(path, &c.window).map_err(|e| e.to_string())?;
                let rel = b.name("git", &format!("{name}.log"));
                let extra = crate::bundle::Extra { component: Some(name), ..Default::default() };
                b.add(
                    &rel,
                    reconstruct_git::saved::write(&commits).as_bytes(),
                    FileKind::GitLog,
                    &path.display().to_string(),
                    extra,
                )
            }
            // As psql --csv would save it.
            SourceSpec::PgActivityLive { dsn } => {
                let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
                let s = rt.block_on(reconstruct_postgres::fetch::sample(dsn, c.timeout)).map_err(|e| e.to_string())?;
                let bytes = reconstruct_postgres::activity::write_csv(&s.rows)?;
                b.add("postgres/pg_stat_activity.csv", &bytes, FileKind::PgActivity, &dsn.shown, Default::default())
            }
            // Logs as `docker-compose logs --timestamps` prints them,
            // streamed to the file as they arrive; events and inspection.
            SourceSpec::DockerLive { host, project } => {
                let shown = reconstruct_docker::fetch::host_shown(host.as_deref());
                let rel = "docker/compose-logs.txt";
                let file = std::io::BufWriter::new(b.create(rel)?);
                let out: Box<dyn std::io::Write> =
                    if b.redacting() { Box::new(crate::redact::MaskingWriter::new(file)) } else { Box::new(file) };
                let mut lines = reconstruct_docker::parse::ComposeLogsWriter::new(out);
                let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
                let fetched = rt.block_on(reconstruct_docker::fetch::snapshot(
                    host.as_deref(),
                    project.as_deref(),
                    &c.window,
                    c.timeout,
                    true,
                    &mut lines,
                ));
                let written = lines.finish().and_then(|mut w| w.flush());
                let snap = match fetched {
                    Ok(s) => s,
                    Err(e) => {
                        b.discard(rel);
                        return Err(e.to_string());
                    }
                };
                written.map_err(|e| format!("cannot write {rel}: {e}"))?;
                b.add_written(rel, FileKind::ComposeLogs, &shown, Default::default())?;
                let events = reconstruct_docker::parse::write_events(&snap.events);
                b.add("docker/events.jsonl", &events, FileKind::DockerEvents, &shown, Default::default())?;
                let inspect = reconstruct_docker::parse::write_inspect(&snap.containers).map_err(|e| e.to_string())?;
                b.add("docker/inspect.json", &inspect, FileKind::DockerInspect, &shown, Default::default())
            }
            SourceSpec::PrometheusLive { endpoint } => {
                let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
                let now = Timestamp::from_datetime(&chrono::Utc::now()).unwrap_or(c.window.until);
                let (answers, _) = rt
                    .block_on(reconstruct_prometheus::fetch::read(endpoint, &c.window, now, c.timeout))
                    .map_err(|e| e.to_string())?;
                save_answers(&answers, &endpoint.base, b)
            }
            SourceSpec::AlertmanagerLive { endpoint } => {
                let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
                let answers = rt
                    .block_on(reconstruct_prometheus::fetch::read_alertmanager(endpoint, c.timeout))
                    .map_err(|e| e.to_string())?;
                save_answers(&answers, &endpoint.base, b)
            }
            // The window's entries as `journalctl -o export` prints them, streamed to the file.
            SourceSpec::JournalLive { target, filter } => {
                let name = match target {
                    reconstruct_journal::Target::Local => "local".to_string(),
                    reconstruct_journal::Target::Directory(d) => {
                        d.file_name().map_or("journal".to_string(), |n| n.to_string_lossy().into_owned())
                    }
                    reconstruct_journal::Target::Files(_) => "files".to_string(),
                };
                let rel = b.name("journal", &format!("{name}.export"));
                let mut out = std::io::BufWriter::new(b.create(&rel)?);
                let redacting = b.redacting();
                // Masked entry by entry, so binary fields keep their true lengths.
                let mut edit = |e: &mut reconstruct_journal::export::Entry| {
                    if redacting {
                        for (_, v) in &mut e.fields {
                            let text = String::from_utf8_lossy(v).into_owned();
                            let (m, k) = crate::redact::mask(&text);
                            if k > 0 {
                                *v = m.into_owned().into_bytes();
                            }
                        }
                    }
                };
                let saved =
                    reconstruct_journal::fetch::save(target, filter, &c.window, &mut out, &mut edit).and_then(|o| {
                        std::io::Write::flush(&mut out)
                            .map(|()| o)
                            .map_err(reconstruct_journal::fetch::FetchError::Write)
                    });
                drop(out);
                match saved {
                    Ok(_) => b.add_written(&rel, FileKind::JournalExport, &self.describe(), Default::default()),
                    Err(e) => {
                        b.discard(&rel);
                        Err(e.to_string())
                    }
                }
            }
            // Each page as the store answered it, strings masked when redacting.
            SourceSpec::LokiLive { endpoint, query } => {
                let rel = b.name("loki", "query.jsonl");
                let shown = self.describe();
                let (endpoint, query, window, timeout) = (endpoint.clone(), query.clone(), c.window, c.timeout);
                save_store(b, &rel, FileKind::Loki, &shown, move |out, edit| {
                    Box::pin(async move {
                        reconstruct_stores::save_loki(endpoint, &query, &window, timeout, out, edit).await
                    })
                })
            }
            SourceSpec::ElasticLive { endpoint, search } => {
                let rel = b.name("elasticsearch", "search.jsonl");
                let shown = self.describe();
                let (endpoint, search, window, timeout) = (endpoint.clone(), search.clone(), c.window, c.timeout);
                save_store(b, &rel, FileKind::Elasticsearch, &shown, move |out, edit| {
                    Box::pin(async move {
                        reconstruct_stores::save_elastic(endpoint, &search, &window, timeout, out, edit).await
                    })
                })
            }
            SourceSpec::SwarmLive { host } => {
                let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
                let redacting = b.redacting();
                let shown = self.describe();
                let mut files: Vec<(String, Vec<u8>)> = Vec::new();
                let mut put = |name: &str, bytes: Vec<u8>| {
                    files.push((name.to_string(), bytes));
                    Ok(())
                };
                let m = crate::redact::Masker { on: redacting };
                let mut edit = |v: &mut serde_json::Value| m.json(v);
                let mask_line = |l: &[u8]| m.line(l);
                let saved = rt.block_on(reconstruct_docker::save_swarm(
                    host.as_deref(),
                    &c.window,
                    c.timeout,
                    &mut put,
                    &mut edit,
                    &mask_line,
                ));
                // Services whose logs failed still leave the rest saved.
                for (name, bytes) in files {
                    b.add(&format!("swarm/{name}"), &bytes, FileKind::Swarm, &shown, Default::default())?;
                }
                saved.map_err(|e| e.to_string())
            }
            SourceSpec::KubernetesLive { target } => {
                let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
                let redacting = b.redacting();
                let shown = self.describe();
                let mut files: Vec<(String, Vec<u8>)> = Vec::new();
                let mut put = |name: &str, bytes: &[u8]| {
                    files.push((name.to_string(), bytes.to_vec()));
                    Ok(())
                };
                let m = crate::redact::Masker { on: redacting };
                let mut edit = |v: &mut serde_json::Value| m.json(v);
                let mask_line = |l: &[u8]| m.line(l);
                rt.block_on(reconstruct_kubernetes::save(
                    target, &c.window, c.timeout, &mut put, &mut edit, &mask_line,
                ))
                .map_err(|e| e.to_string())?;
                for (name, bytes) in files {
                    b.add(&format!("kubernetes/{name}"), &bytes, FileKind::Kubernetes, &shown, Default::default())?;
                }
                Ok(())
            }
            SourceSpec::GitLogFile { display, .. }
            | SourceSpec::PgActivityFile { display, .. }
            | SourceSpec::ComposeLogsFile { display, .. }
            | SourceSpec::JournalExportFile { display, .. }
            | SourceSpec::StoreSaved { display, .. } => Err(format!("{display} is saved already")),
            SourceSpec::DockerLifecycleFiles { .. }
            | SourceSpec::PrometheusFiles { .. }
            | SourceSpec::KubernetesFiles { .. }
            | SourceSpec::SwarmFiles { .. } => Err("saved already".to_string()),
        }
    }

    /// How coverage names a source that could not be saved.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind(), self.what())
    }

    /// The source as coverage names it when it cannot be opened.
    pub fn id(&self) -> reconstruct_core::SourceId {
        reconstruct_core::SourceId { collector: self.kind(), name: self.what() }
    }

    /// What the source reads: a path, a repository, an address.
    fn what(&self) -> String {
        match self {
            SourceSpec::Log(l) => l.files.last().map(|(_, d)| d.clone()).unwrap_or_default(),
            SourceSpec::GitRepo { path, .. } => path.display().to_string(),
            SourceSpec::GitLogFile { display, .. }
            | SourceSpec::PgActivityFile { display, .. }
            | SourceSpec::PgServerLog { display, .. }
            | SourceSpec::ComposeLogsFile { display, .. }
            | SourceSpec::Annotations { display, .. }
            | SourceSpec::JournalExportFile { display, .. }
            | SourceSpec::StoreSaved { display, .. } => display.clone(),
            SourceSpec::LokiLive { endpoint, query } => format!("{} {}", endpoint.base, query.shown()),
            SourceSpec::ElasticLive { endpoint, search } => format!("{}/{}", endpoint.base, search.index),
            SourceSpec::KubernetesLive { target } => target.describe(),
            SourceSpec::KubernetesFiles { .. } => "saved lists and logs".to_string(),
            SourceSpec::SwarmLive { host } => {
                format!("swarm services at {}", reconstruct_docker::fetch::host_shown(host.as_deref()))
            }
            SourceSpec::SwarmFiles { .. } => "saved swarm services".to_string(),
            SourceSpec::JournalLive { target, filter } => reconstruct_journal::fetch::describe(target, filter),
            SourceSpec::PgActivityLive { dsn } => dsn.shown.clone(),
            SourceSpec::DockerLive { host, .. } => reconstruct_docker::fetch::host_shown(host.as_deref()),
            SourceSpec::PrometheusLive { endpoint } | SourceSpec::AlertmanagerLive { endpoint } => {
                endpoint.base.clone()
            }
            SourceSpec::DockerLifecycleFiles { .. } | SourceSpec::PrometheusFiles { .. } => "saved files".to_string(),
        }
    }
}

/// The component a log speaks for when none is given: its name without
/// extensions and rotation suffixes, the same for every piece of a set.
fn log_component(l: &LogSpec) -> String {
    l.files.last().map(|(p, _)| reconstruct_logfile::default_component(p)).unwrap_or_default()
}

type StoreSave<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), reconstruct_core::CollectError>> + 'a>>;

/// Streams a store's pages into `rel`, masked when the bundle redacts.
fn save_store(
    b: &mut BundleWriter,
    rel: &str,
    kind: FileKind,
    shown: &str,
    read: impl for<'a> FnOnce(&'a mut dyn std::io::Write, &'a mut dyn FnMut(&mut serde_json::Value)) -> StoreSave<'a>,
) -> Result<(), String> {
    let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let redacting = b.redacting();
    let mut out = std::io::BufWriter::new(b.create(rel)?);
    let m = crate::redact::Masker { on: redacting };
    let mut edit = |v: &mut serde_json::Value| m.json(v);
    let saved = rt.block_on(read(&mut out, &mut edit)).map_err(|e| e.to_string());
    let flushed = std::io::Write::flush(&mut out).map_err(|e| format!("cannot write {rel}: {e}"));
    drop(out);
    match saved.and(flushed) {
        Ok(()) => b.add_written(rel, kind, shown, Default::default()),
        Err(e) => {
            b.discard(rel);
            Err(e)
        }
    }
}

fn save_answers(a: &reconstruct_prometheus::Answers, base: &str, b: &mut BundleWriter) -> Result<(), String> {
    for (name, bytes) in a.saved_files().map_err(|e| e.to_string())? {
        b.add(&format!("prometheus/{name}"), &bytes, FileKind::Prometheus, base, Default::default())?;
    }
    Ok(())
}
