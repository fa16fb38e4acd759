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
