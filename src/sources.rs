//! Building the collectors for a run. This is the one place that knows
//! whether evidence is read live or from a saved bundle; everything after
//! it sees only event streams.

use std::path::{Path, PathBuf};

use anyhow::Context;
use reconstruct_core::{Collector, SourceId, Zone};
use reconstruct_git::{GitLogFileCollector, GitRepoCollector};
use reconstruct_logfile::{fetch, Locate, LogFileCollector};

use crate::bundle::{self, FileKind};
use crate::runner::Broken;

/// What the command line asked for.
pub struct Request<'a> {
    pub fixtures: Option<&'a Path>,
    pub logs: &'a [String],
    pub git: &'a [PathBuf],
    pub default_git: bool,
    pub zone: Zone,
    pub timestamp_format: Option<&'a str>,
    /// `--postgres [DSN]`: `Some("")` means from DATABASE_URL / PG* variables.
    pub postgres: Option<&'a str>,
    pub postgres_logs: &'a [String],
    pub keep_literals: bool,
    pub timeout: std::time::Duration,
}

pub struct Built {
    pub collectors: Vec<Box<dyn Collector>>,
    pub broken: Vec<Broken>,
    /// Things worth a line on stderr (bundle files nobody reads).
    pub warnings: Vec<String>,
}

pub fn build(req: &Request<'_>) -> anyhow::Result<Built> {
    let mut b = Built { collectors: Vec::new(), broken: Vec::new(), warnings: Vec::new() };
    let locate = req.timestamp_format.map(|f| Locate::Strftime(f.to_string()));
    if let Some(dir) = req.fixtures {
        let plan = bundle::plan(dir).with_context(|| format!("cannot use the bundle {}", dir.display()))?;
        for f in plan.files {
            match f.kind {
                FileKind::Log => {
                    let zone = match &f.tz {
                        Some(z) => z.parse().with_context(|| format!("manifest entry {}", f.display))?,
                        None => req.zone,
                    };
                    let locate = f.timestamp_format.map(Locate::Strftime).or_else(|| locate.clone());
                    b.collectors.push(Box::new(LogFileCollector::new(f.path, f.display, f.component, zone, locate)));
                }
                FileKind::PgActivity => b.collectors.push(Box::new(reconstruct_postgres::ActivityFile {
                    file: f.path,
                    display: f.display,
                    keep_literals: req.keep_literals,
                })),
                FileKind::PgLog => {
                    let zone = match &f.tz {
                        Some(z) => z.parse().with_context(|| format!("manifest entry {}", f.display))?,
                        None => req.zone,
                    };
                    b.collectors.push(Box::new(reconstruct_postgres::ServerLog {
                        file: f.path,
                        display: f.display,
                        zone,
                        keep_literals: req.keep_literals,
                    }));
                }
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
        for u in plan.unread {
            b.warnings.push(format!(
                "bundle file {u} is not read: no collector knows its kind (see the README's bundle layout)"
            ));
        }
    }
    for arg in req.logs {
        match fetch::expand(arg) {
            Ok(paths) => {
                for p in paths {
                    let display = p.display().to_string();
                    b.collectors.push(Box::new(LogFileCollector::new(p, display, None, req.zone, locate.clone())));
                }
            }
            Err(e) => b
                .broken
                .push(Broken { source: SourceId { collector: "logfile", name: arg.clone() }, error: e.to_string() }),
        }
    }
    if let Some(dsn) = req.postgres {
        let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
        let explicit = Some(dsn).filter(|d| !d.is_empty());
        match reconstruct_postgres::dsn::resolve(explicit, &env) {
            Ok(dsn) => b.collectors.push(Box::new(reconstruct_postgres::ActivityLive {
                dsn,
                keep_literals: req.keep_literals,
                connect_timeout: req.timeout,
            })),
            Err(e) => b.broken.push(Broken {
                source: SourceId { collector: "postgres", name: "pg_stat_activity".into() },
                error: e.to_string(),
            }),
        }
    }
    for arg in req.postgres_logs {
        match fetch::expand(arg) {
            Ok(paths) => {
                for p in paths {
                    let display = p.display().to_string();
                    b.collectors.push(Box::new(reconstruct_postgres::ServerLog {
                        file: p,
                        display,
                        zone: req.zone,
                        keep_literals: req.keep_literals,
                    }));
                }
            }
            Err(e) => b
                .broken
                .push(Broken { source: SourceId { collector: "postgres", name: arg.clone() }, error: e.to_string() }),
        }
    }
    let mut repos: Vec<PathBuf> = req.git.to_vec();
    if repos.is_empty() && req.default_git && req.fixtures.is_none() {
        let here = PathBuf::from(".");
        if reconstruct_git::walk::is_repository(&here) {
            repos.push(here);
        }
    }
    for r in repos {
        b.collectors.push(Box::new(GitRepoCollector::new(r, None)));
    }
    Ok(b)
}
