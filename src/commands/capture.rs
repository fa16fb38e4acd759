//! `reconstruct capture` saves every configured live source into an
//! evidence bundle that `--fixtures` reads back, with a manifest of each
//! file's source, capture time, the window and its SHA-256 (see `verify`).
//! pg_stat_activity is the reason it exists: it is gone tomorrow. The sources
//! are the run's own, from the same settings; each saves itself
//! (`Spec::save`).

use anyhow::Context;
use reconstruct_core::Timestamp;

use crate::bundle::{BundleWriter, ManifestFailure, ManifestWindow};
use crate::cli::CaptureArgs;
use crate::exit::Exit;
use reconstruct_core::slice::Common;

pub fn run(c: &CaptureArgs) -> anyhow::Result<Exit> {
    if c.sources.fixtures.is_some() {
        anyhow::bail!("capture saves live sources; --fixtures names a bundle that is saved already");
    }
    let settings = super::resolve(&c.sources)?;
    if settings.filter.is_some() && !settings.quiet {
        // A bundle is the evidence whole; the filters choose rows when it is read.
        eprintln!("reconstruct: warning: capture saves every event; --grep, --component and --level apply when the bundle is read");
    }
    let now = Timestamp::from_datetime(&chrono::Utc::now()).context("the system clock is out of range")?;
    let mut b = BundleWriter::start(&c.out, now, c.redact)?;
    // The bundle holds what the report reads: the window, and before it
    // the lookback's changes and the baseline.
    let common = Common {
        window: settings.reach(),
        anchor: Some(settings.window),
        timeout: settings.timeout,
        keep_literals: !settings.redact,
        cache_dir: settings.cache_dir.clone(),
    };
    let mut failures: Vec<ManifestFailure> = settings
        .unavailable
        .iter()
        .map(|u| ManifestFailure {
            source: u.source.to_string(),
            error: u.error.clone(),
            collector: Some(u.source.collector),
            name: Some(u.source.name.clone()),
        })
        .collect();
    for spec in &settings.sources {
        if let Err(error) = spec.save(&common, &mut b as &mut dyn reconstruct_core::slice::Bundle) {
            let id = spec.id();
            failures.push(ManifestFailure {
                source: spec.describe(),
                error,
                collector: Some(id.collector),
                name: Some(id.name),
            });
        }
    }
    let window = ManifestWindow { since: settings.window.since.rfc3339(), until: settings.window.until.rfc3339() };
    let quiet = settings.quiet;
    let messages: Vec<String> = failures.iter().map(|f| format!("{}: FAILED: {}", f.source, f.error)).collect();
    let failed = !failures.is_empty();
    let files = b.finish(window, failures)?;
    if !quiet {
        eprintln!("reconstruct: captured {files} files into {}", c.out.display());
        for m in &messages {
            eprintln!("reconstruct: {m}");
        }
    }
    if files == 0 && !failed {
        let flags: Vec<&str> =
            crate::registry::current().iter().flat_map(|s| s.naming_flags().iter().copied()).collect();
        anyhow::bail!("nothing to capture: name live sources ({})", flags.join(", "));
    }
    Ok(if failed { Exit::Partial } else { Exit::Ok })
}
