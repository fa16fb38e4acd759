//! systemd journal collector: the local journal, a directory of journal
//! files (such as the `remote/` directory where `systemd-journal-remote`
//! gathers many hosts), single files, or a saved export stream.
//!
//! Live, it runs `journalctl -o export` rather than linking the sd-journal
//! API: `journalctl` is on every systemd host, reads every journal file
//! version the host's systemd can, merges many files by time, skips a
//! corrupt file with a message instead of failing, and needs no unsafe code
//! or C library in this program. The export stream it prints is
//! binary-safe (a `MESSAGE` may hold any bytes and several lines) and is
//! also the saved form a bundle keeps (`export`), so both modes share one
//! reader and one mapping to events (`entry`).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod entry;
pub mod export;
pub mod fetch;
pub mod slice;

use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;

use reconstruct_core::{CollectContext, CollectError, Collector, Diagnostic, EventSink, SourceId, SourceKind};

pub use fetch::{Filter, Target};

/// Live: `journalctl` over the local journal, a directory or files.
pub struct JournalLive {
    pub target: Target,
    pub filter: Filter,
}

impl Collector for JournalLive {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Journal, name: fetch::describe(&self.target, &self.filter) }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let evidence = entry::Evidence::Command(Arc::from(fetch::target_args(&self.target).join(" ")));
        let mut map = entry::Mapper::new(evidence);
        let mut first_error = None;
        let outcome = fetch::stream(&self.target, &self.filter, &ctx.window, |e| {
            if first_error.is_some() {
                return false;
            }
            match map.emit(&e, ctx, sink) {
                Ok(()) => true,
                Err(stop) => {
                    first_error = Some(stop);
                    false
                }
            }
        })?;
        for d in outcome.warnings {
            sink.diagnostic(Diagnostic { locator: None, message: d });
        }
        if let Some(stop) = first_error {
            return Err(stop.into());
        }
        if outcome.entries == 0 {
            say_what_exists(&self.target, &self.filter, sink);
        }
        map.finish(sink);
        Ok(())
    }
}

/// A unit or identifier filter that matched nothing is most often a
/// misspelt name: name the ones the journal has instead.
fn say_what_exists(target: &Target, filter: &Filter, sink: &mut dyn EventSink) {
    for (asked, field, what) in
        [(&filter.units, "_SYSTEMD_UNIT", "units"), (&filter.identifiers, "SYSLOG_IDENTIFIER", "identifiers")]
    {
        if asked.is_empty() {
            continue;
        }
        let Ok(values) = fetch::field_values(target, field) else { continue };
        let mut near: Vec<(usize, &String)> = values
            .iter()
            .map(|v| (asked.iter().map(|a| reconstruct_core::text::distance(a, v)).min().unwrap_or(usize::MAX), v))
            .collect();
        near.sort();
        let shown: Vec<&str> = near.iter().take(12).map(|(_, v)| v.as_str()).collect();
        sink.note(format!(
            "nothing from {} in the window; the journal's {what} (nearest first): {}",
            asked.join(", "),
            if shown.is_empty() { "none".to_string() } else { shown.join(", ") }
        ));
    }
}

/// Saved: a `journalctl -o export` stream in a bundle.
pub struct JournalExportFile {
    pub file: PathBuf,
    pub display: String,
}

impl Collector for JournalExportFile {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Journal, name: self.display.clone() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let f = std::fs::File::open(&self.file).map_err(|e| format!("cannot read {}: {e}", self.display))?;
        let mut reader = export::Reader::new(BufReader::new(f));
        let mut map = entry::Mapper::new(entry::Evidence::File(Arc::from(self.display.as_str())));
        let path: Arc<str> = Arc::from(self.display.as_str());
        loop {
            let mut damage = Vec::new();
            let next =
                reader.next_entry(&mut |d| damage.push(d)).map_err(|e| format!("cannot read {}: {e}", self.display))?;
            for d in damage {
                sink.diagnostic(Diagnostic {
                    locator: Some(reconstruct_core::Locator::Line { path: path.clone(), line: d.line }),
                    message: d.message,
                });
            }
            let Some(e) = next else { break };
            map.emit(&e, ctx, sink)?;
        }
        map.finish(sink);
        Ok(())
    }
}
