//! `reconstruct.toml`: the sources of a system named once, so that after an
//! outage the command is just `reconstruct --since 2h`. Flags given on the
//! command line override it. Unknown keys, bad URLs and bad zones are errors
//! that name the file and the line.
//!
//! ```toml
//! tz = "UTC"
//! timeout = 30
//!
//! [[git]]
//! path = "../backend"
//! component = "backend"
//!
//! [[log]]
//! path = "logs/*.log"
//! tz = "Europe/Paris"            # for lines without an offset
//! component = "backend"
//! timestamp_format = "%d.%m.%Y %H:%M:%S"
//!
//! [docker]
//! host = "unix:///var/run/docker.sock"
//! project = "scheduling"
//! swarm = false                   # true: the host is a swarm manager; read its services
//!
//! [postgres]
//! dsn_env = "DATABASE_URL"        # the DSN is read from this variable, never written here
//! logs = ["/var/log/postgresql/postgresql-15-main.log"]
//!
//! [prometheus]
//! url = "http://localhost:9090"
//! alertmanager = "http://localhost:9093"   # optional
//! tenant = "team-a"               # optional: Mimir's or Cortex's X-Scope-OrgID
//!
//! [journal]
//! paths = ["/var/log/journal/remote"]   # empty or absent: the local journal
//! units = ["nginx.service"]
//!
//! [loki]
//! url = "http://loki:3100"        # credentials from LOKI_USERNAME/LOKI_PASSWORD/LOKI_BEARER_TOKEN
//! query = '{namespace="shop"}'
//! tenant = "team-a"
//!
//! [elasticsearch]
//! url = "https://es:9200"        # ELASTICSEARCH_USERNAME/_PASSWORD/_BEARER_TOKEN
//! index = "logs-*"
//! time_field = "@timestamp"
//!
//! [kubernetes]
//! context = "prod"
//! namespace = "shop"
//!
//! annotate = ["notes/timeline.md"]
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use reconstruct_core::Zone;
use serde::Deserialize;
use toml::Spanned;

use crate::cli::SourceArgs;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tz: Option<Spanned<String>>,
    timeout: Option<f64>,
    #[serde(default)]
    git: Vec<GitEntry>,
    #[serde(default)]
    log: Vec<LogEntry>,
    docker: Option<DockerEntry>,
    postgres: Option<PostgresEntry>,
    prometheus: Option<PrometheusEntry>,
    journal: Option<JournalEntry>,
    loki: Option<LokiEntry>,
    elasticsearch: Option<ElasticEntry>,
    kubernetes: Option<KubernetesEntry>,
    #[serde(default)]
    annotate: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LokiEntry {
    url: Spanned<String>,
    query: Option<String>,
    tenant: Option<String>,
    limit: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ElasticEntry {
    url: Spanned<String>,
    index: Option<String>,
    time_field: Option<String>,
    query: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KubernetesEntry {
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    all_namespaces: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalEntry {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    units: Vec<String>,
    #[serde(default)]
    identifiers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GitEntry {
    path: PathBuf,
    component: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogEntry {
    path: String,
    component: Option<String>,
    tz: Option<Spanned<String>>,
    timestamp_format: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DockerEntry {
    host: Option<Spanned<String>>,
    project: Option<String>,
    /// Read the swarm's services (the host is a manager) rather than the containers.
    #[serde(default)]
    swarm: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostgresEntry {
    dsn_env: Option<String>,
    #[serde(default)]
    logs: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrometheusEntry {
    url: Spanned<String>,
    alertmanager: Option<Spanned<String>>,
    /// Mimir's or Cortex's tenant.
    tenant: Option<String>,
}

/// Per-source settings that have no flag.
#[derive(Debug, Default, Clone)]
pub struct Extra {
    /// For `--log` arguments named in the file: component, zone, timestamp format.
    pub logs: HashMap<String, LogSettings>,
    pub git_components: HashMap<PathBuf, String>,
    /// The file named `[postgres] dsn_env` but the variable is not set.
    pub postgres_problem: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct LogSettings {
    pub component: Option<String>,
    pub zone: Option<Zone>,
    pub timestamp_format: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}:{line}: {message}")]
    Value { path: String, line: usize, message: String },
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |t| t.matches('\n').count() + 1)
}

/// Reads the configuration (the one given, else `./reconstruct.toml` when
/// present) and fills in what the command line left unset.
pub fn merge(mut args: SourceArgs, vars: &BTreeMap<String, String>) -> Result<(SourceArgs, Extra), ConfigError> {
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from("reconstruct.toml")).filter(|p| p.is_file()),
    };
    let Some(path) = path else { return Ok((args, Extra::default())) };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
    apply(&text, &shown, &mut args, vars)
}

/// Reads a configuration text as `merge` would, with no flags given: for
/// checking a file, and for the fuzz target of this parser.
pub fn check(text: &str) -> Result<(), ConfigError> {
    let parsed = <crate::cli::Cli as clap::Parser>::try_parse_from(["reconstruct", "--since", "1h"]);
    let Ok(cli) = parsed else { return Ok(()) };
    let mut args = cli.sources;
    apply(text, "reconstruct.toml", &mut args, &BTreeMap::new()).map(|_| ())
}

fn apply(
    text: &str,
    shown: &str,
    args: &mut SourceArgs,
    vars: &BTreeMap<String, String>,
) -> Result<(SourceArgs, Extra), ConfigError> {
    let file: File = toml::from_str(text).map_err(|e| {
        // toml's message names the line and column and shows the line.
        ConfigError::Syntax { path: shown.to_string(), message: e.to_string().trim_end().replace('\n', "\n  ") }
    })?;
    let value_err = |span: std::ops::Range<usize>, message: String| ConfigError::Value {
        path: shown.to_string(),
        line: line_of(text, span.start),
        message,
    };
    let zone_of = |s: &Spanned<String>| -> Result<Zone, ConfigError> {
        s.get_ref().parse::<Zone>().map_err(|e| value_err(s.span(), e.to_string()))
    };
    let mut extra = Extra::default();
    if let Some(tz) = &file.tz {
        zone_of(tz)?;
        if args.tz.is_none() {
            args.tz = Some(tz.get_ref().clone());
        }
    }
    if args.timeout.is_none() {
        args.timeout = file.timeout;
    }
    if args.git.is_empty() {
        for g in &file.git {
            args.git.push(g.path.clone());
            if let Some(c) = &g.component {
                extra.git_components.insert(g.path.clone(), c.clone());
            }
        }
    }
    if args.logs.is_empty() {
        for l in &file.log {
            let zone = l.tz.as_ref().map(zone_of).transpose()?;
            args.logs.push(l.path.clone());
            extra.logs.insert(
                l.path.clone(),
                LogSettings { component: l.component.clone(), zone, timestamp_format: l.timestamp_format.clone() },
            );
        }
    }
    if let Some(d) = &file.docker {
        if let Some(h) = &d.host {
            let ok = ["unix://", "tcp://", "http://"].iter().any(|p| h.get_ref().starts_with(p));
            if !ok {
                return Err(value_err(
                    h.span(),
                    format!("docker host {:?} is not unix://, tcp:// or http://", h.get_ref()),
                ));
            }
        }
        if d.swarm && !args.swarm && args.docker_host.is_none() {
            args.swarm = true;
            args.docker_host = d.host.as_ref().map(|h| h.get_ref().clone());
        } else if !args.docker && !args.swarm && args.docker_host.is_none() && args.compose_project.is_none() {
            args.docker = true;
            args.docker_host = d.host.as_ref().map(|h| h.get_ref().clone());
            args.compose_project = d.project.clone();
        }
    }
    if let Some(p) = &file.postgres {
        if args.postgres.is_none() {
            if let Some(var) = &p.dsn_env {
                match vars.get(var) {
                    Some(dsn) if !dsn.is_empty() => args.postgres = Some(dsn.clone()),
                    _ => {
                        extra.postgres_problem = Some(format!("{shown} names the DSN variable {var}, which is not set"))
                    }
                }
            }
        }
        if args.postgres_logs.is_empty() {
            args.postgres_logs = p.logs.clone();
        }
    }
    if let Some(p) = &file.prometheus {
        let url = p.url.get_ref();
        let valid = (url.starts_with("http://") || url.starts_with("https://"))
            && url.len() > "https://".len()
            && !url.contains(' ');
        if !valid {
            return Err(value_err(
                p.url.span(),
                format!("prometheus url {:?} is not an http(s) URL", reconstruct_prometheus::fetch::mask(url)),
            ));
        }
        if args.prometheus.is_none() {
            args.prometheus = Some(url.clone());
            args.prometheus_tenant = args.prometheus_tenant.take().or_else(|| p.tenant.clone());
        }
        if let Some(am) = &p.alertmanager {
            let u = am.get_ref();
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(value_err(
                    am.span(),
                    format!("alertmanager url {:?} is not an http(s) URL", reconstruct_prometheus::fetch::mask(u)),
                ));
            }
            if args.alertmanager.is_none() {
                args.alertmanager = Some(u.clone());
            }
        }
    }
    let http_url = |u: &Spanned<String>, what: &str| {
        let url = u.get_ref();
        if (url.starts_with("http://") || url.starts_with("https://")) && !url.contains(' ') {
            Ok(url.clone())
        } else {
            Err(value_err(
                u.span(),
                format!("{what} url {:?} is not an http(s) URL", reconstruct_stores::http::mask(url)),
            ))
        }
    };
    if let Some(l) = &file.loki {
        let url = http_url(&l.url, "loki")?;
        if args.loki.is_none() {
            args.loki = Some(url);
            args.loki_query = args.loki_query.take().or_else(|| l.query.clone());
            args.loki_tenant = args.loki_tenant.take().or_else(|| l.tenant.clone());
            args.loki_limit = args.loki_limit.or(l.limit);
        }
    }
    if let Some(e) = &file.elasticsearch {
        let url = http_url(&e.url, "elasticsearch")?;
        if args.elasticsearch.is_none() {
            args.elasticsearch = Some(url);
            args.index = args.index.take().or_else(|| e.index.clone());
            args.time_field = args.time_field.take().or_else(|| e.time_field.clone());
            args.es_query = args.es_query.take().or_else(|| e.query.clone());
        }
    }
    if let Some(k) = &file.kubernetes {
        if !args.kubernetes {
            args.kubernetes = true;
            args.kubeconfig = args.kubeconfig.take().or_else(|| k.kubeconfig.clone());
            args.kube_context = args.kube_context.take().or_else(|| k.context.clone());
            args.namespace = args.namespace.take().or_else(|| k.namespace.clone());
            args.all_namespaces |= k.all_namespaces;
        }
    }
    if let Some(j) = &file.journal {
        if args.journal.is_empty() {
            args.journal = if j.paths.is_empty() { vec![String::new()] } else { j.paths.clone() };
        }
        if args.journal_unit.is_empty() {
            args.journal_unit = j.units.clone();
        }
        if args.journal_identifier.is_empty() {
            args.journal_identifier = j.identifiers.clone();
        }
    }
    if args.annotate.is_empty() {
        args.annotate = file.annotate.clone();
    }
    Ok((args.clone(), extra))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> SourceArgs {
        let mut v = vec!["reconstruct", "--since", "1h"];
        v.extend_from_slice(extra);
        crate::cli::Cli::parse_from(v).sources
    }

    #[test]
    fn fills_what_flags_leave_unset() {
        let text = "tz = \"Europe/Paris\"\n[[log]]\npath = \"logs/a.log\"\ncomponent = \"api\"\n[prometheus]\nurl = \"http://prom:9090\"\n";
        let mut a = args(&[]);
        let (a, extra) = apply(text, "reconstruct.toml", &mut a, &BTreeMap::new()).unwrap();
        assert_eq!(a.tz.as_deref(), Some("Europe/Paris"));
        assert_eq!(a.logs, vec!["logs/a.log".to_string()]);
        assert_eq!(extra.logs["logs/a.log"].component.as_deref(), Some("api"));
        assert_eq!(a.prometheus.as_deref(), Some("http://prom:9090"));
        // Flags win.
        let mut b = args(&["--tz", "UTC", "--log", "other.log"]);
        let (b, _) = apply(text, "reconstruct.toml", &mut b, &BTreeMap::new()).unwrap();
        assert_eq!(b.tz.as_deref(), Some("UTC"));
        assert_eq!(b.logs, vec!["other.log".to_string()]);
    }

    #[test]
    fn errors_name_file_and_line() {
        let err = |t: &str| apply(t, "sys.toml", &mut args(&[]), &BTreeMap::new()).unwrap_err().to_string();
        let e = err("tz = \"UTC\"\ncolour = \"blue\"\n");
        assert!(e.starts_with("sys.toml: TOML parse error at line 2"), "{e}");
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = err("\n\n[prometheus]\nurl = \"ftp://x\"\n");
        assert!(e.starts_with("sys.toml:4: prometheus url"), "{e}");
        let e = err("[[log]]\npath = \"a\"\ntz = \"Mars/Base\"\n");
        assert!(e.starts_with("sys.toml:3: unknown time zone"), "{e}");
        let e = err("[docker]\nhost = \"ssh://x\"\n");
        assert!(e.starts_with("sys.toml:2: docker host"), "{e}");
    }
}
