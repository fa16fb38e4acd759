//! The OpenTelemetry kind of source as one slice: `--otel PATH` and
//! `[[otel]]` (a file, or a folder of the file exporter's files), the
//! bundle's `otel/` folder, and how a file is saved (copied whole, so its
//! `file:line` evidence still holds).

use std::path::{Path, PathBuf};

use clap::{Args, FromArgMatches};
use reconstruct_core::slice::{
    Bundle, Common, ConfigError, ConfigText, Extra, Identity, Resolution, ResolveError, SavedFile, Slice, Spec,
};
use reconstruct_core::{Source, SourceKind};
use serde::Deserialize;

use crate::OtelFile;

/// OTLP JSON as the Collector's file exporter writes it.
pub const ROLE: &str = "otlp-json";

#[derive(Debug, Args)]
#[group(skip)]
struct Flags {
    /// OpenTelemetry logs and traces: an OTLP JSON file of the Collector's file exporter (plain, .gz or .zst),
    /// or a folder of them; repeatable.
    #[arg(long = "otel", value_name = "PATH")]
    otel: Vec<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
struct Tables {
    #[serde(default)]
    otel: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    path: PathBuf,
}

/// One OTLP JSON file.
#[derive(Debug)]
pub struct OtelSpec {
    file: PathBuf,
    display: String,
    saved: bool,
}

/// The kind of source: OpenTelemetry logs and traces.
pub struct Otel;

/// The exporter's files in a folder: `.json` and `.jsonl`, compressed or not, in name order.
fn files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let n = p.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
            let n = n.trim_end_matches(".gz").trim_end_matches(".zst");
            n.ends_with(".json") || n.ends_with(".jsonl")
        })
        .collect();
    v.sort();
    Ok(v)
}

impl Slice for Otel {
    fn name(&self) -> &'static str {
        "otel"
    }

    fn describe(&self) -> &'static str {
        "OpenTelemetry logs and traces (OTLP JSON files): log records, failing spans, exceptions, calls between services"
    }

    fn flags(&self, cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }

    fn naming_flags(&self) -> &'static [&'static str] {
        &["--otel"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["otel"]
    }

    fn check(&self, config: &ConfigText) -> Result<(), ConfigError> {
        config.parse::<Tables>().map(|_| ())
    }

    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let flags = Flags::from_arg_matches(r.matches).map_err(|e| ResolveError::Other(e.to_string()))?;
        let tables: Tables = r.config.parse()?;
        let mut paths = flags.otel;
        if paths.is_empty() {
            paths = tables.otel.into_iter().map(|e| e.path).collect();
        }
        for p in paths {
            if p.is_dir() {
                match files_in(&p) {
                    Ok(files) if !files.is_empty() => {
                        for f in files {
                            r.push(OtelSpec { display: f.display().to_string(), file: f, saved: false });
                        }
                    }
                    Ok(_) => {
                        r.unusable(SourceKind::Otel, p.display().to_string(), "no .json or .jsonl file in it".into())
                    }
                    Err(e) => r.unusable(SourceKind::Otel, p.display().to_string(), format!("cannot list it: {e}")),
                }
            } else if p.is_file() {
                r.push(OtelSpec { display: p.display().to_string(), file: p, saved: false });
            } else {
                r.unusable(SourceKind::Otel, p.display().to_string(), "no such file or folder".into());
            }
        }
        Ok(())
    }

    fn recognise(&self, rel: &str) -> Option<&'static str> {
        rel.starts_with("otel/").then_some(ROLE)
    }

    fn roles(&self) -> &'static [&'static str] {
        &[ROLE]
    }

    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        for f in files {
            r.push_at(f.order, OtelSpec { file: f.path, display: f.display, saved: true });
        }
        Ok(())
    }

    fn blind_spots(&self) -> &'static [(&'static [SourceKind], &'static str)] {
        &[(
            &[SourceKind::Otel],
            "OpenTelemetry shows what was sampled and exported: a trace the sampler dropped, or a batch the exporter lost, is not there.",
        )]
    }
}

impl Spec for OtelSpec {
    fn kind(&self) -> SourceKind {
        SourceKind::Otel
    }

    fn what(&self) -> String {
        self.display.clone()
    }

    fn open(self: Box<Self>, _c: &Common) -> Source {
        Source::Blocking(Box::new(OtelFile { file: self.file, display: self.display }))
    }

    /// Copied whole, so `file:line` evidence still holds.
    fn save(&self, _c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
        if self.saved {
            return Err(format!("{} is saved already", self.display));
        }
        b.copy("otel", &self.file, ROLE, Extra::default())
    }

    fn is_live(&self) -> bool {
        !self.saved
    }

    fn identity(&self) -> Identity {
        if self.saved {
            Identity::Saved
        } else {
            Identity::File { path: self.file.clone(), specific: true }
        }
    }
}
