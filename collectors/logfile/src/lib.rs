//! Log-file collector: any text log with timestamps, each event with its
//! `file:line` evidence. Parsing lives in `layout` and `scan` (pure, on
//! bytes); `fetch` finds the files.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod fetch;
pub mod layout;
pub mod scan;

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use reconstruct_core::SourceKind;
use reconstruct_core::{CollectContext, CollectError, Collector, EventSink, SourceId, Zone};

pub use layout::Locate;
pub use scan::{ScanConfig, ScanError};

/// One log file to read.
pub struct LogFileCollector {
    pub file: PathBuf,
    pub config: ScanConfig,
}

impl LogFileCollector {
    /// `display` is how locators name the file (as given, or relative to a bundle).
    pub fn new(file: PathBuf, display: String, component: Option<String>, zone: Zone, locate: Option<Locate>) -> Self {
        let component = component.unwrap_or_else(|| fetch::component_of(&file));
        LogFileCollector {
            file,
            config: ScanConfig { path: Arc::from(display), component: Arc::from(component), zone, locate },
        }
    }
}

impl Collector for LogFileCollector {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Logfile, name: self.config.path.to_string() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let f =
            File::open(&self.file).map_err(|source| ScanError::Io { path: self.config.path.to_string(), source })?;
        if f.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(format!("{} is a directory", self.config.path).into());
        }
        scan::scan(f, &self.config, ctx, sink)
    }
}
