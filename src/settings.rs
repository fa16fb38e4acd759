//! Flags, `reconstruct.toml` and the environment, resolved once into plain
//! settings and the list of sources a run reads. Every command (timeline,
//! report, capture) starts from [`Settings`]; nothing after this module
//! decides again which sources exist, which zone a file is read in, or
//! whether a bundle or the live system is read.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use reconstruct_core::window::parse_bound;
use reconstruct_core::{SourceId, SourceKind, TimeWindow, Timestamp, Zone};
use reconstruct_logfile::{fetch, rotation, Locate};

use crate::bundle::{self, FileKind};
use crate::cli::SourceArgs;
use crate::config::{self, Extra};
use crate::exit::UsageError;
use crate::runner::Broken;
use crate::sources::{LogSpec, SourceSpec};

/// Everything decided before any source is read.
pub struct Settings {
    pub window: TimeWindow,
    /// The zone for times written without an offset, unless a source has its own.
    pub zone: Zone,
    /// How long each source may take.
    pub timeout: Duration,
    /// Mask secrets and SQL literals before anything is rendered.
    pub redact: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// True when the evidence is a saved bundle (`--fixtures`).
    pub from_bundle: bool,
    /// The sources to read, in the order their ties are broken.
    pub sources: Vec<SourceSpec>,
    /// Sources named but unusable before reading ("no file matches …"):
    /// they fail in coverage, and the others still run.
    pub unavailable: Vec<Broken>,
    /// Worth a line on stderr (bundle files nobody reads).
    pub warnings: Vec<String>,
    /// Where line indexes of big logs are kept between runs (`None`: not kept).
    pub cache_dir: Option<PathBuf>,
    /// With `--fixtures`: whether a manifest vouches for the bundle, and what it left out.
    pub bundle: Option<bundle::BundleCheck>,
    /// `--grep`, `--component`, `--level`: which events make the timeline.
    pub filter: Option<crate::filter::EventFilter>,
}

/// `RECONSTRUCT_CACHE_DIR` (empty or `off`: no cache), else the XDG cache
/// directory, else `~/.cache`; `reconstruct/lines` below it.
fn cache_dir(vars: &BTreeMap<String, String>) -> Option<PathBuf> {
    if let Some(d) = vars.get("RECONSTRUCT_CACHE_DIR") {
        return (!d.is_empty() && d != "off").then(|| PathBuf::from(d));
    }
    let base = match vars.get("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(vars.get("HOME").filter(|d| !d.is_empty())?).join(".cache"),
    };
    Some(base.join("reconstruct").join("lines"))
}

/// What the environment holds, read once so resolution is a pure function
/// of its inputs (and testable without touching the process's variables).
#[derive(Clone, Debug, Default)]
pub struct Environment {
    pub vars: BTreeMap<String, String>,
    /// The working directory holds a compose file.
    pub compose_here: bool,
    /// The working directory is a git repository.
    pub git_here: bool,
    /// The compose project the working directory names.
    pub compose_project_here: Option<String>,
    pub now: Option<Timestamp>,
}

impl Environment {
    pub fn of_process() -> anyhow::Result<Self> {
        let clock = Timestamp::from_datetime(&chrono::Utc::now()).context("the system clock is out of range")?;
        // Now, rounded up to the second: windows read cleanly, and nothing
        // already written falls after `--until now`.
        let now =
            Timestamp::from_unix_seconds(clock.unix_seconds().saturating_add(i64::from(clock.subsec_nanos() > 0)), 0)
                .unwrap_or(clock);
        let vars: BTreeMap<String, String> = std::env::vars().collect();
        let compose_here = ["docker-compose.yml", "docker-compose.yaml", "compose.yaml", "compose.yml"]
            .iter()
            .any(|f| Path::new(f).is_file());
        Ok(Environment {
            compose_project_here: default_compose_project(&vars),
            vars,
            compose_here,
            git_here: reconstruct_git::walk::is_repository(Path::new(".")),
            now: Some(now),
        })
    }
}

/// Resolves the flags (with the configuration file merged in) for this process.
pub fn resolve(cli: &SourceArgs) -> anyhow::Result<Settings> {
    let env = Environment::of_process()?;
    let (args, extra) = config::merge(cli.clone(), &env.vars)?;
    resolve_with(&args, &extra, &env)
}

/// Resolution proper: merged flags, per-source extras and the environment in,
/// settings out.
pub fn resolve_with(args: &SourceArgs, extra: &Extra, env: &Environment) -> anyhow::Result<Settings> {
    let window_zone: Zone = args.tz.as_deref().unwrap_or("UTC").parse().context("--tz")?;
    // Log lines without an offset are read in --log-tz, else in --tz.
    let zone: Zone = match args.log_tz.as_deref() {
        Some(z) => z.parse().context("--log-tz")?,
        None => window_zone,
    };
    let now = env.now.context("the system clock is unknown")?;
    let window = match args.around.as_deref() {
        Some(at) => {
            let centre = parse_bound(at, now, &window_zone).context("--around")?;
            let span = args.span.as_deref().unwrap_or("15m");
            let nanos = reconstruct_core::window::parse_duration_nanos(span)
                .filter(|n| *n > 0)
                .with_context(|| format!("--span {span:?}: give a duration (10m, 1h)"))?;
            TimeWindow::new(centre.saturating_add_nanos(nanos.saturating_neg()), centre.saturating_add_nanos(nanos))?
        }
        None => {
            let since_text = args.since.as_deref().context("--since (or --around) is required")?;
            let since = parse_bound(since_text, now, &window_zone).context("--since")?;
            let until = parse_bound(&args.until, now, &window_zone).context("--until")?;
            TimeWindow::new(since, until)?
        }
    };
    let filter = crate::filter::EventFilter::from_flags(args.grep.as_deref(), &args.component, args.level.as_deref())?;
    let secs = args.timeout.unwrap_or(30.0);
    if !(secs.is_finite() && secs > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    let timeout = Duration::from_secs_f64(secs.min(86_400.0));
    let mut s = Settings {
        window,
        zone,
        timeout,
        redact: !args.no_redact,
        quiet: args.quiet,
        verbose: args.verbose,
        from_bundle: args.fixtures.is_some(),
        cache_dir: cache_dir(&env.vars),
        sources: Vec::new(),
        unavailable: Vec::new(),
        warnings: Vec::new(),
        bundle: None,
        filter,
    };
    let locate = args.timestamp_format.as_deref().map(|f| Locate::Strftime(f.to_string()));
    if let Some(dir) = args.fixtures.as_deref() {
        saved_sources(dir, &locate, &mut s)?;
    }
    for arg in &args.logs {
        let settings = extra.logs.get(arg).cloned().unwrap_or_default();
        let zone = settings.zone.unwrap_or(zone);
        let locate = settings.timestamp_format.map(Locate::Strftime).or_else(|| locate.clone());
        match fetch::expand(arg) {
            Ok(paths) => {
                let found = !matches!(paths.as_slice(), [only] if only.as_path() == Path::new(arg));
                // The pieces of a rotated log are one source.
                for set in rotation::group(paths) {
                    // A PostgreSQL server log found among them is read by its own
                    // reader, as under --postgres-log (unless a layout was given).
                    if let [one] = set.as_slice() {
                        if locate.is_none() && is_postgres_log(one) {
                            let display = one.display().to_string();
                            s.sources.push(SourceSpec::PgServerLog { file: one.clone(), display, zone });
                            continue;
                        }
                    }
                    let files = set
                        .into_iter()
                        .map(|p| {
                            let shown = p.display().to_string();
                            (p, shown)
                        })
                        .collect();
                    let component = settings.component.clone();
                    let locate = locate.clone();
                    s.sources.push(SourceSpec::Log(LogSpec { files, component, zone, locate, found }));
                }
            }
            Err(e) => s.unavailable.push(broken(SourceKind::Logfile, arg.clone(), e.to_string())),
        }
    }
    if let Some(dsn) = args.postgres.as_deref() {
        let explicit = Some(dsn).filter(|d| !d.is_empty());
        let from_env = ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE", "PGPASSWORD"]
            .iter()
            .any(|k| env.vars.get(*k).is_some_and(|v| !v.is_empty()));
        if explicit.is_none() && !from_env {
            return Err(UsageError(
                "--postgres has no server to read: give --postgres DSN (postgresql://user@host/db) \
                 or set DATABASE_URL or the PG* variables (PGHOST, PGUSER, PGDATABASE)"
                    .into(),
            )
            .into());
        }
        match reconstruct_postgres::dsn::resolve(explicit, &env.vars) {
            Ok(dsn) => s.sources.push(SourceSpec::PgActivityLive { dsn: Box::new(dsn) }),
            Err(e) => s.unavailable.push(broken(SourceKind::Postgres, "pg_stat_activity".into(), e.to_string())),
        }
    }
    for arg in &args.postgres_logs {
        match fetch::expand(arg) {
            Ok(paths) => {
                for file in paths {
                    let display = file.display().to_string();
                    s.sources.push(SourceSpec::PgServerLog { file, display, zone });
                }
            }
            Err(e) => s.unavailable.push(broken(SourceKind::Postgres, arg.clone(), e.to_string())),
        }
    }
    let http_env: HashMap<String, String> = env.vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let env_url = env.vars.get("PROMETHEUS_URL").filter(|u| !u.is_empty()).cloned();
    let url = match args.prometheus.as_deref() {
        Some("") => env_url.or_else(|| Some(String::new())),
        Some(u) => Some(u.to_string()),
        None if !s.from_bundle => env_url,
        None => None,
    };
    if url.as_deref() == Some("") {
        return Err(UsageError("--prometheus has no URL: give --prometheus URL or set PROMETHEUS_URL".into()).into());
    }
    if let Some(url) = url {
        match reconstruct_prometheus::fetch::Endpoint::parse(&url, &http_env) {
            Ok(endpoint) => s
                .sources
                .push(SourceSpec::PrometheusLive { endpoint: endpoint.with_tenant(args.prometheus_tenant.clone()) }),
            Err(e) => s.unavailable.push(broken(
                SourceKind::Prometheus,
                reconstruct_prometheus::fetch::mask(&url),
                if url.is_empty() {
                    "no URL: give --prometheus URL or set PROMETHEUS_URL".to_string()
                } else {
                    e.to_string()
                },
            )),
        }
    }
    if let Some(url) = &args.alertmanager {
        match reconstruct_prometheus::fetch::Endpoint::parse(url, &http_env) {
            Ok(ep) => s.sources.push(SourceSpec::AlertmanagerLive { endpoint: ep.alertmanager() }),
            Err(e) => s.unavailable.push(broken(
                SourceKind::Alertmanager,
                reconstruct_prometheus::fetch::mask(url),
                e.to_string(),
            )),
        }
    }
    if !args.journal.is_empty() {
        let filter = reconstruct_journal::Filter {
            units: args.journal_unit.clone(),
            identifiers: args.journal_identifier.clone(),
        };
        // One journalctl reads every file given, merged by time; directories each their own.
        let mut files = Vec::new();
        for j in &args.journal {
            let p = Path::new(j);
            if j.is_empty() {
                s.sources.push(SourceSpec::JournalLive {
                    target: reconstruct_journal::Target::Local,
                    filter: filter.clone(),
                });
            } else if p.is_dir() {
                let target = reconstruct_journal::Target::Directory(p.to_path_buf());
                s.sources.push(SourceSpec::JournalLive { target, filter: filter.clone() });
            } else if p.is_file() {
                files.push(p.to_path_buf());
            } else {
                s.unavailable.push(broken(SourceKind::Journal, j.clone(), "no such journal file or directory".into()));
            }
        }
        if !files.is_empty() {
            s.sources.push(SourceSpec::JournalLive { target: reconstruct_journal::Target::Files(files), filter });
        }
    }
    if let Some(url) = &args.loki {
        let limit = args.loki_limit.unwrap_or(reconstruct_stores::loki::DEFAULT_LIMIT);
        let query =
            reconstruct_stores::loki::Query { logql: args.loki_query.clone(), limit, org: args.loki_tenant.clone() };
        match reconstruct_stores::http::Endpoint::parse("Loki", url, "LOKI", &http_env) {
            Ok(mut endpoint) => {
                if let Some(org) = &args.loki_tenant {
                    endpoint = endpoint.with_header("X-Scope-OrgID", org);
                }
                s.sources.push(SourceSpec::LokiLive { endpoint, query });
            }
            Err(e) => s.unavailable.push(broken(SourceKind::Loki, reconstruct_stores::http::mask(url), e.to_string())),
        }
    }
    if let Some(url) = &args.elasticsearch {
        let search = reconstruct_stores::elastic::Search {
            index: args.index.clone().unwrap_or_else(|| "logs-*".to_string()),
            time_field: args
                .time_field
                .clone()
                .unwrap_or_else(|| reconstruct_stores::elastic::DEFAULT_TIME_FIELD.to_string()),
            query: args.es_query.clone(),
            page: reconstruct_stores::elastic::DEFAULT_PAGE,
        };
        match reconstruct_stores::http::Endpoint::parse("Elasticsearch", url, "ELASTICSEARCH", &http_env) {
            Ok(endpoint) => s.sources.push(SourceSpec::ElasticLive { endpoint, search }),
            Err(e) => s.unavailable.push(broken(
                SourceKind::Elasticsearch,
                reconstruct_stores::http::mask(url),
                e.to_string(),
            )),
        }
    }
    if args.kubernetes || args.kube_context.is_some() || args.kubeconfig.is_some() {
        s.sources.push(SourceSpec::KubernetesLive {
            target: reconstruct_kubernetes::fetch::Target {
                kubeconfig: args.kubeconfig.clone(),
                context: args.kube_context.clone(),
                namespace: args.namespace.clone(),
                all_namespaces: args.all_namespaces,
            },
        });
    }
    if args.swarm {
        s.sources.push(SourceSpec::SwarmLive { host: args.docker_host.clone() });
    }
    // With --swarm, --docker-host names the manager, not a request for the containers too.
    let asked = args.docker || (args.docker_host.is_some() && !args.swarm) || args.compose_project.is_some();
    if asked || (env.compose_here && !s.from_bundle) {
        let project = args
            .compose_project
            .clone()
            .or_else(|| env.compose_here.then(|| env.compose_project_here.clone()).flatten());
        s.sources.push(SourceSpec::DockerLive { host: args.docker_host.clone(), project });
    }
    let mut repos: Vec<PathBuf> = args.git.clone();
    if repos.is_empty() && !args.no_git && !s.from_bundle && env.git_here {
        repos.push(PathBuf::from("."));
    }
    for path in repos {
        let component = extra.git_components.get(&path).cloned();
        s.sources.push(SourceSpec::GitRepo { path, component });
    }
    if let Some(problem) = &extra.postgres_problem {
        s.unavailable.push(broken(SourceKind::Postgres, "pg_stat_activity".into(), problem.clone()));
    }
    // People write annotations in the zone they typed the window in.
    for f in &args.annotate {
        s.sources.push(SourceSpec::Annotations {
            file: f.clone(),
            display: f.display().to_string(),
            zone: window_zone,
        });
    }
    // One flag, two meanings: say so, for a zone typed only for the window.
    let reads_text = s.sources.iter().any(|x| matches!(x, SourceSpec::Log(_) | SourceSpec::PgServerLog { .. }));
    if args.log_tz.is_none() && window_zone != Zone::Utc && reads_text {
        s.warnings.push(format!(
            "--tz {window_zone} also reads log lines written without an offset as {window_zone} time; \
             --log-tz UTC reads them as UTC"
        ));
    }
    let (sources, repeated) = dedupe(std::mem::take(&mut s.sources));
    s.sources = sources;
    s.warnings.extend(repeated.into_iter().map(|r| format!("{r} is named more than once; it is read once")));
    // Every source named is unusable before reading: nothing to read.
    if s.sources.is_empty() && !s.unavailable.is_empty() && !s.from_bundle {
        let each: Vec<String> = s.unavailable.iter().map(|b| format!("{}: {}", b.source, b.error)).collect();
        anyhow::bail!("nothing to read: {}", each.join("; "));
    }
    if s.sources.is_empty() && s.unavailable.is_empty() {
        anyhow::bail!(
            "nothing to read: give --log, --git, --docker, --postgres, --postgres-log, --prometheus, --journal, --loki, \
             --elasticsearch, --kubernetes or --fixtures \
             (or run inside a git repository, or name the sources in reconstruct.toml)"
        );
    }
    Ok(s)
}

/// A plain file whose first lines read as a PostgreSQL stderr log.
fn is_postgres_log(path: &Path) -> bool {
    use std::io::Read;
    // Only a regular file: opening a FIFO to look would wait for a writer.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let Ok(f) = std::fs::File::open(path) else { return false };
    let mut head = Vec::with_capacity(8192);
    if f.take(8192).read_to_end(&mut head).is_err() {
        return false;
    }
    reconstruct_postgres::serverlog::looks_like_stderr_log(&head)
}

/// One reading of each thing: a file reached through two arguments
/// (`--log /var/log/postgresql --log /var/log`) by its canonical path, a
/// live source by what it reads. A PostgreSQL server log also reached as a
/// plain log is read by the PostgreSQL reader, which knows its format.
/// Returns the sources kept and what was named again.
fn dedupe(sources: Vec<SourceSpec>) -> (Vec<SourceSpec>, Vec<String>) {
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let mut seen_files: std::collections::HashSet<PathBuf> = sources
        .iter()
        .filter_map(|s| match s {
            SourceSpec::PgServerLog { file, .. } => Some(canonical(file)),
            _ => None,
        })
        .collect();
    let mut seen_pg = std::collections::HashSet::new();
    let mut seen_other = std::collections::HashSet::new();
    let mut repeated = Vec::new();
    let mut kept = Vec::with_capacity(sources.len());
    for mut spec in sources {
        match &mut spec {
            SourceSpec::Log(l) => {
                l.files.retain(|(p, shown)| {
                    let fresh = seen_files.insert(canonical(p));
                    if !fresh && !repeated.contains(shown) {
                        repeated.push(shown.clone());
                    }
                    fresh
                });
                if l.files.is_empty() {
                    continue;
                }
            }
            SourceSpec::PgServerLog { file, display, .. } => {
                if !seen_pg.insert(canonical(file)) {
                    repeated.push(display.clone());
                    continue;
                }
            }
            SourceSpec::Annotations { file, display, .. } => {
                if !seen_other.insert(format!("annotations {}", canonical(file).display())) {
                    repeated.push(display.clone());
                    continue;
                }
            }
            SourceSpec::GitRepo { path, .. } => {
                if !seen_other.insert(format!("git {}", canonical(path).display())) {
                    repeated.push(path.display().to_string());
                    continue;
                }
            }
            other => {
                let id = other.describe();
                if other.is_live() && !seen_other.insert(id.clone()) {
                    repeated.push(id);
                    continue;
                }
            }
        }
        kept.push(spec);
    }
    (kept, repeated)
}

fn broken(collector: SourceKind, name: String, error: String) -> Broken {
    Broken { source: SourceId { collector, name }, error }
}

/// The sources of a saved bundle, each file to the collector that owns its kind.
fn saved_sources(dir: &Path, locate: &Option<Locate>, s: &mut Settings) -> anyhow::Result<()> {
    let plan = bundle::plan(dir).with_context(|| format!("cannot use the bundle {}", dir.display()))?;
    // Engine events and inspection are read together, so a fact both hold is told once.
    let (mut events, mut inspect) = (Vec::new(), Vec::new());
    // Rules give the evaluation interval the history is split by: one reader for all answers.
    let mut prometheus = Vec::new();
    // Lists and logs are read together: a log's component is its pod's.
    let mut kubernetes = Vec::new();
    // Task names come from the task list: a swarm's files are read together.
    let mut swarm = Vec::new();
    // Rotated pieces of one log are one source, as when read live.
    let logs: Vec<PathBuf> = plan.files.iter().filter(|f| f.kind == FileKind::Log).map(|f| f.path.clone()).collect();
    let sets = rotation::group(logs);
    for f in plan.files {
        let zone = match &f.tz {
            Some(z) => z.parse().with_context(|| format!("manifest entry {}", f.display))?,
            None => s.zone,
        };
        let (file, display) = (f.path, f.display);
        match f.kind {
            FileKind::Log => {
                // A set is added at its newest piece, with that piece's settings.
                let Some(set) = sets.iter().find(|set| set.last() == Some(&file)) else { continue };
                let locate = f.timestamp_format.map(Locate::Strftime).or_else(|| locate.clone());
                let files = set
                    .iter()
                    .map(|p| {
                        let shown = if *p == file { display.clone() } else { bundle::relative(dir, p) };
                        (p.clone(), shown)
                    })
                    .collect();
                let found = f.found;
                s.sources.push(SourceSpec::Log(LogSpec { files, component: f.component, zone, locate, found }));
            }
            FileKind::PgActivity => s.sources.push(SourceSpec::PgActivityFile { file, display }),
            FileKind::PgLog => s.sources.push(SourceSpec::PgServerLog { file, display, zone }),
            FileKind::ComposeLogs => s.sources.push(SourceSpec::ComposeLogsFile { file, display, inspect: Vec::new() }),
            FileKind::Prometheus => prometheus.push((file, display)),
            FileKind::Annotations => s.sources.push(SourceSpec::Annotations { file, display, zone: s.zone }),
            FileKind::DockerEvents => events.push((file, display)),
            FileKind::DockerInspect => inspect.push((file, display)),
            FileKind::JournalExport => s.sources.push(SourceSpec::JournalExportFile { file, display }),
            FileKind::Loki => s.sources.push(SourceSpec::StoreSaved { file, display, kind: SourceKind::Loki }),
            FileKind::Elasticsearch => {
                s.sources.push(SourceSpec::StoreSaved { file, display, kind: SourceKind::Elasticsearch })
            }
            FileKind::Kubernetes => kubernetes.push((file, display)),
            FileKind::Swarm => swarm.push((file, display)),
            FileKind::GitLog => {
                let component = f.component.unwrap_or_else(|| fetch::component_of(Path::new(&display)));
                s.sources.push(SourceSpec::GitLogFile { file, display, component });
            }
        }
    }
    // Saved compose logs name their containers' services by the saved inspections.
    for spec in &mut s.sources {
        if let SourceSpec::ComposeLogsFile { inspect: names, .. } = spec {
            names.extend(inspect.iter().map(|(p, _): &(PathBuf, String)| p.clone()));
        }
    }
    if !events.is_empty() || !inspect.is_empty() {
        s.sources.push(SourceSpec::DockerLifecycleFiles { events, inspect });
    }
    if !prometheus.is_empty() {
        s.sources.push(SourceSpec::PrometheusFiles { files: prometheus });
    }
    if !swarm.is_empty() {
        s.sources.push(SourceSpec::SwarmFiles { files: swarm });
    }
    if !kubernetes.is_empty() {
        s.sources.push(SourceSpec::KubernetesFiles { files: kubernetes });
    }
    // What capture could not save failed then; the replay says so as the live run did.
    for f in plan.failures {
        match (f.collector, f.name) {
            (Some(collector), Some(name)) => {
                s.unavailable.push(broken(collector, name, format!("not captured: {}", f.error)));
            }
            // An older manifest names the source only as text.
            _ => s.warnings.push(format!("the bundle's capture could not save {}: {}", f.source, f.error)),
        }
    }
    for u in &plan.check.unlisted {
        s.warnings.push(format!(
            "bundle file {u} is not read: the manifest does not list it (`reconstruct verify` checks the bundle)"
        ));
    }
    s.bundle = Some(plan.check);
    for r in plan.refused {
        s.warnings.push(format!("bundle file {r} is not read: it is a link or a special file (a FIFO, a device)"));
    }
    for u in plan.unread {
        s.warnings
            .push(format!("bundle file {u} is not read: no collector knows its kind (see the README's bundle layout)"));
    }
    Ok(())
}

/// The project name compose gives the current directory: `COMPOSE_PROJECT_NAME`,
/// else the directory's name, lowercased, with what compose drops removed.
fn default_compose_project(vars: &BTreeMap<String, String>) -> Option<String> {
    if let Some(p) = vars.get("COMPOSE_PROJECT_NAME") {
        return Some(p.clone());
    }
    let dir = std::env::current_dir().ok()?;
    let name = dir.file_name()?.to_string_lossy().to_lowercase();
    let clean: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    (!clean.is_empty()).then_some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> SourceArgs {
        let mut v = vec!["reconstruct", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];
        v.extend_from_slice(extra);
        crate::cli::Cli::parse_from(v).sources
    }

    fn env() -> Environment {
        Environment { now: Timestamp::from_unix_seconds(1_800_000_000, 0), ..Default::default() }
    }

    fn kinds(s: &Settings) -> Vec<SourceKind> {
        s.sources.iter().map(SourceSpec::kind).collect()
    }

    #[test]
    fn one_decision_for_git_and_docker_defaults() {
        let here =
            Environment { git_here: true, compose_here: true, compose_project_here: Some("shop".into()), ..env() };
        let s = resolve_with(&args(&[]), &Extra::default(), &here).unwrap();
        assert_eq!(kinds(&s), vec![SourceKind::Docker, SourceKind::Git]);
        match &s.sources[0] {
            SourceSpec::DockerLive { project, .. } => assert_eq!(project.as_deref(), Some("shop")),
            _ => panic!("docker first"),
        }
        // --no-git turns the repository off; a bundle turns both defaults off.
        let s = resolve_with(&args(&["--no-git"]), &Extra::default(), &here).unwrap();
        assert_eq!(kinds(&s), vec![SourceKind::Docker]);
        let bundle = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/inc-20251226-001");
        let s = resolve_with(&args(&["--fixtures", bundle]), &Extra::default(), &here).unwrap();
        assert!(s.sources.iter().all(|x| !x.is_live()), "a bundle run reads nothing live");
        assert!(s.from_bundle);
    }

    #[test]
    fn prometheus_url_comes_from_the_flag_or_the_environment() {
        let mut e = env();
        e.vars.insert("PROMETHEUS_URL".into(), "http://prom:9090".into());
        let s = resolve_with(&args(&["--no-git"]), &Extra::default(), &e).unwrap();
        assert_eq!(kinds(&s), vec![SourceKind::Prometheus]);
        // Without a URL anywhere, --prometheus cannot work as typed: a usage error.
        let e = resolve_with(&args(&["--prometheus"]), &Extra::default(), &env()).err().unwrap();
        assert!(e.is::<UsageError>(), "{e}");
        assert!(e.to_string().contains("no URL"), "{e}");
    }

    #[test]
    fn unusable_sources_fail_alone_and_nothing_at_all_is_an_error() {
        let here = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let s =
            resolve_with(&args(&["--log", "/nonexistent/*.log", "--log", here]), &Extra::default(), &env()).unwrap();
        assert_eq!(s.unavailable.len(), 1);
        assert_eq!(s.unavailable[0].source.collector, SourceKind::Logfile);
        // The only source unusable: nothing to read, said with why.
        let e = resolve_with(&args(&["--log", "/nonexistent/*.log"]), &Extra::default(), &env()).err().unwrap();
        assert!(e.to_string().contains("no file matches"), "{e}");
        let e = resolve_with(&args(&[]), &Extra::default(), &env()).err().unwrap().to_string();
        assert!(e.starts_with("nothing to read"), "{e}");
    }

    #[test]
    fn timeout_and_zone_are_checked() {
        let e = resolve_with(&args(&["--log", "x", "--timeout", "0"]), &Extra::default(), &env()).err().unwrap();
        assert!(e.to_string().contains("--timeout"));
        let e = resolve_with(&args(&["--log", "x", "--tz", "Mars/Base"]), &Extra::default(), &env()).err().unwrap();
        assert!(e.to_string().contains("--tz"));
    }
}
