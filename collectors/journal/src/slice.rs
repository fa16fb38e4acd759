//! The systemd journal as one slice: `--journal` (the local journal, a
//! directory of journal files, or files), `--journal-unit`,
//! `--journal-identifier`, `[journal]`, the bundle's `journal/` folder of
//! `journalctl -o export` streams, and how a journal is saved in that form.

use std::path::{Path, PathBuf};

use clap::{Args, FromArgMatches};
use reconstruct_core::slice::{
    Bundle, Common, ConfigError, ConfigText, Resolution, ResolveError, SavedFile, Slice, Spec,
};
use reconstruct_core::{Source, SourceKind};
use serde::Deserialize;

use crate::{Filter, Target};

/// A `journalctl -o export` stream.
pub const ROLE: &str = "journal-export";

#[derive(Debug, Args)]
#[group(skip)]
struct Flags {
    /// Read the systemd journal: without a value the local one; a directory of journal files (one host's,
    /// or a collector's remote/ of many hosts) or a journal file; repeatable.
    #[arg(long, value_name = "DIR|FILE", num_args = 0..=1, default_missing_value = "")]
    journal: Vec<String>,
    /// Only journal entries of this systemd unit; repeatable.
    #[arg(long, value_name = "UNIT")]
    journal_unit: Vec<String>,
    /// Only journal entries with this syslog identifier; repeatable.
    #[arg(long, value_name = "ID")]
    journal_identifier: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Tables {
    journal: Option<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    units: Vec<String>,
    #[serde(default)]
    identifiers: Vec<String>,
}

/// One journal source.
#[derive(Debug)]
pub enum JournalSpec {
    /// Through `journalctl`: local, a directory, or files.
    Live { target: Target, filter: Filter },
    /// A saved `journalctl -o export` stream.
    ExportFile { file: PathBuf, display: String },
}

/// The kind of source: the systemd journal.
pub struct Journal;

impl Slice for Journal {
    fn name(&self) -> &'static str {
        "journal"
    }

    fn describe(&self) -> &'static str {
        "the systemd journal of one host, or a central collector's directory of many"
    }

    fn flags(&self, cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }

    fn naming_flags(&self) -> &'static [&'static str] {
        &["--journal"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["journal"]
    }

    fn check(&self, config: &ConfigText) -> Result<(), ConfigError> {
        config.parse::<Tables>().map(|_| ())
    }

    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let mut flags = Flags::from_arg_matches(r.matches).map_err(|e| ResolveError::Other(e.to_string()))?;
        let tables: Tables = r.config.parse()?;
        if let Some(j) = tables.journal {
            if flags.journal.is_empty() {
                flags.journal = if j.paths.is_empty() { vec![String::new()] } else { j.paths };
            }
            if flags.journal_unit.is_empty() {
                flags.journal_unit = j.units;
            }
            if flags.journal_identifier.is_empty() {
                flags.journal_identifier = j.identifiers;
            }
        }
        if flags.journal.is_empty() {
            return Ok(());
        }
        let filter = Filter { units: flags.journal_unit, identifiers: flags.journal_identifier };
        // One journalctl reads every file given, merged by time; directories each their own.
        let mut files = Vec::new();
        for j in &flags.journal {
            let p = Path::new(j);
            if j.is_empty() {
                r.push(JournalSpec::Live { target: Target::Local, filter: filter.clone() });
            } else if p.is_dir() {
                r.push(JournalSpec::Live { target: Target::Directory(p.to_path_buf()), filter: filter.clone() });
            } else if p.is_file() {
                files.push(p.to_path_buf());
            } else {
                r.unusable(SourceKind::Journal, j.clone(), "no such journal file or directory".into());
            }
        }
        if !files.is_empty() {
            r.push(JournalSpec::Live { target: Target::Files(files), filter });
        }
        Ok(())
    }

    fn recognise(&self, rel: &str) -> Option<&'static str> {
        rel.starts_with("journal/").then_some(ROLE)
    }

    fn roles(&self) -> &'static [&'static str] {
        &[ROLE]
    }

    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        for f in files {
            r.push_at(f.order, JournalSpec::ExportFile { file: f.path, display: f.display });
        }
        Ok(())
    }

    fn blind_spots(&self) -> &'static [(&'static [SourceKind], &'static str)] {
        &[(
            &[SourceKind::Journal],
            "The journal keeps what its size limits allow (SystemMaxUse, MaxRetentionSec); older entries are gone, and a host's clock sets its entries' times.",
        )]
    }
}

impl Spec for JournalSpec {
    fn kind(&self) -> SourceKind {
        SourceKind::Journal
    }

    fn what(&self) -> String {
        match self {
            JournalSpec::Live { target, filter } => crate::fetch::describe(target, filter),
            JournalSpec::ExportFile { display, .. } => display.clone(),
        }
    }

    fn open(self: Box<Self>, _c: &Common) -> Source {
        match *self {
            JournalSpec::Live { target, filter } => Source::Blocking(Box::new(crate::JournalLive { target, filter })),
            JournalSpec::ExportFile { file, display } => {
                Source::Blocking(Box::new(crate::JournalExportFile { file, display }))
            }
        }
    }

    /// The window's entries as `journalctl -o export` prints them, streamed to the file.
    fn save(&self, c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
        let JournalSpec::Live { target, filter } = self else {
            return Err(format!("{} is saved already", self.what()));
        };
        let name = match target {
            Target::Local => "local".to_string(),
            Target::Directory(d) => d.file_name().map_or("journal".to_string(), |n| n.to_string_lossy().into_owned()),
            Target::Files(_) => "files".to_string(),
        };
        let rel = b.name("journal", &format!("{name}.export"));
        let mut out = std::io::BufWriter::new(b.create(&rel)?);
        let masker = b.masker();
        // Masked entry by entry, so binary fields keep their true lengths.
        let mut edit = |e: &mut crate::export::Entry| {
            for (_, v) in &mut e.fields {
                if let Some(m) = masker.text(&String::from_utf8_lossy(v)) {
                    *v = m.into_bytes();
                }
            }
        };
        let saved = crate::fetch::save(target, filter, &c.window, &mut out, &mut edit)
            .and_then(|o| std::io::Write::flush(&mut out).map(|()| o).map_err(crate::fetch::FetchError::Write));
        drop(out);
        match saved {
            Ok(_) => b.add_written(&rel, ROLE, &self.describe(), Default::default()),
            Err(e) => {
                b.discard(&rel);
                Err(e.to_string())
            }
        }
    }

    fn is_live(&self) -> bool {
        matches!(self, JournalSpec::Live { .. })
    }
}
