//! The log-file kind of source as one slice: `--log` and `[[log]]`, the
//! files they name (rotation pieces read as one source), the bundle's
//! `logs/` folder, and how a log is saved (copied whole, so `file:line`
//! evidence points at the same line).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, FromArgMatches};
use reconstruct_core::slice::{
    relative, Bundle, Common, ConfigError, ConfigText, Extra, Identity, Resolution, ResolveError, SavedFile, Slice,
    Spec,
};
use reconstruct_core::{Source, SourceKind, Zone};
use serde::Deserialize;

use crate::{fetch, rotation, Locate, LogFileCollector, LogSetCollector};

/// The role of a log in a bundle's manifest.
pub const ROLE: &str = "log";

#[derive(Debug, Args)]
#[group(skip)]
struct Flags {
    /// A log file, directory or glob to read; repeatable.
    #[arg(long = "log", value_name = "PATH")]
    logs: Vec<String>,
    /// The layout of timestamps at the start of each log line, in strftime form (e.g. '%d.%m.%Y %H:%M:%S').
    #[arg(long, value_name = "FORMAT")]
    timestamp_format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Tables {
    #[serde(default)]
    log: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    path: String,
    component: Option<String>,
    tz: Option<toml::Spanned<String>>,
    timestamp_format: Option<String>,
}

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

/// A log named by a flag or an entry: its path, and the entry's component, zone and layout.
type Named = (String, Option<String>, Option<Zone>, Option<Locate>);

/// The kind of source: text logs.
pub struct Logfile;

fn parse_flags(r: &Resolution<'_>) -> Result<Flags, ResolveError> {
    Flags::from_arg_matches(r.matches).map_err(|e| ResolveError::Other(e.to_string()))
}

impl Slice for Logfile {
    fn name(&self) -> &'static str {
        "logfile"
    }

    fn describe(&self) -> &'static str {
        "text logs in any common layout, compressed or rotated, with file:line evidence"
    }

    fn flags(&self, cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }

    fn naming_flags(&self) -> &'static [&'static str] {
        &["--log"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["log"]
    }

    fn check(&self, config: &ConfigText) -> Result<(), ConfigError> {
        read_tables(config).map(|_| ())
    }

    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let flags = parse_flags(r)?;
        let tables = read_tables(r.config)?;
        let global = flags.timestamp_format.map(Locate::Strftime);
        // Flags win: the file's logs are read only when none is named.
        let mut named: Vec<Named> = flags.logs.into_iter().map(|p| (p, None, None, None)).collect();
        if named.is_empty() {
            for e in tables.log {
                let zone = e.tz.as_ref().map(|tz| zone_of(r.config, tz)).transpose()?;
                named.push((e.path, e.component, zone, e.timestamp_format.map(Locate::Strftime)));
            }
        }
        for (arg, component, zone, locate) in named {
            let zone = zone.unwrap_or(r.zone);
            let locate = locate.or_else(|| global.clone());
            match fetch::expand(&arg) {
                Ok(paths) => {
                    let found = !matches!(paths.as_slice(), [only] if only.as_path() == Path::new(&arg));
                    // The pieces of a rotated log are one source.
                    for set in rotation::group(paths) {
                        // A file of a format another slice knows is read by
                        // it (unless a layout was given).
                        if let [one] = set.as_slice() {
                            if locate.is_none() {
                                if let Some(spec) = (r.adopt)(one, zone) {
                                    r.specs.push(spec);
                                    continue;
                                }
                            }
                        }
                        let files = set
                            .into_iter()
                            .map(|p| {
                                let shown = p.display().to_string();
                                (p, shown)
                            })
                            .collect();
                        let (component, locate) = (component.clone(), locate.clone());
                        r.push(LogSpec { files, component, zone, locate, found });
                    }
                }
                Err(e) => r.unusable(SourceKind::Logfile, arg.clone(), e.to_string()),
            }
        }
        Ok(())
    }

    fn recognise(&self, rel: &str) -> Option<&'static str> {
        rel.starts_with("logs/").then_some(ROLE)
    }

    fn roles(&self) -> &'static [&'static str] {
        &[ROLE]
    }

    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let global = parse_flags(r)?.timestamp_format.map(Locate::Strftime);
        // Rotated pieces of one log are one source, as when read live.
        let sets = rotation::group(files.iter().map(|f| f.path.clone()).collect());
        for f in files {
            // A set is added at its newest piece, with that piece's settings.
            let Some(set) = sets.iter().find(|set| set.last() == Some(&f.path)) else { continue };
            let locate = f.timestamp_format.map(Locate::Strftime).or_else(|| global.clone());
            let pieces = set
                .iter()
                .map(|p| {
                    let shown = if *p == f.path { f.display.clone() } else { relative(&f.bundle_dir, p) };
                    (p.clone(), shown)
                })
                .collect();
            r.push_at(f.order, LogSpec { files: pieces, component: f.component, zone: f.zone, locate, found: f.found });
        }
        Ok(())
    }

    fn blind_spots(&self) -> &'static [(&'static [SourceKind], &'static str)] {
        &[(
            &[SourceKind::Logfile],
            "Log lines written without an offset are read in the zone the coverage table names; a wrong zone shifts them.",
        )]
    }
}

fn zone_of(config: &ConfigText, tz: &toml::Spanned<String>) -> Result<Zone, ConfigError> {
    tz.get_ref().parse::<Zone>().map_err(|e| config.error_at(tz.span(), e.to_string()))
}

/// The `[[log]]` entries, their zones checked.
fn read_tables(config: &ConfigText) -> Result<Tables, ConfigError> {
    let tables: Tables = config.parse()?;
    for e in &tables.log {
        if let Some(tz) = &e.tz {
            zone_of(config, tz)?;
        }
    }
    Ok(tables)
}

impl LogSpec {
    /// The component a log speaks for when none is given: its name without
    /// extensions and rotation suffixes, the same for every piece of a set.
    fn derived_component(&self) -> String {
        self.files.last().map(|(p, _)| crate::default_component(p)).unwrap_or_default()
    }
}

impl Spec for LogSpec {
    fn kind(&self) -> SourceKind {
        SourceKind::Logfile
    }

    fn what(&self) -> String {
        self.files.last().map(|(_, d)| d.clone()).unwrap_or_default()
    }

    fn open(mut self: Box<Self>, c: &Common) -> Source {
        if self.files.len() == 1 {
            let (path, display) = self.files.remove(0);
            Source::Blocking(Box::new(
                LogFileCollector::new(path, display, self.component, self.zone, self.locate)
                    .found(self.found)
                    .cache_dir(c.cache_dir.clone()),
            ))
        } else {
            let component = self.component.clone().unwrap_or_else(|| self.derived_component());
            let mut set = LogSetCollector::new(self.files, Arc::from(component), self.zone, self.locate);
            set.found = self.found;
            set.cache_dir = c.cache_dir.clone();
            Source::Blocking(Box::new(set))
        }
    }

    /// Copied whole, so `file:line` evidence points at the same line;
    /// compressed pieces as they are.
    fn save(&self, _c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
        let derived = self.derived_component();
        // A log named by its folder (`nginx/error`) keeps that folder in the
        // bundle, so two programs' `error.log` stay apart.
        let folder = match derived.rsplit_once('/') {
            Some((dir, _)) if self.component.is_none() => {
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
        let extra = Extra {
            component: Some(self.component.clone().unwrap_or(derived)),
            tz: Some(self.zone.to_string()),
            timestamp_format: match &self.locate {
                Some(Locate::Strftime(f)) => Some(f.clone()),
                _ => None,
            },
            found: self.found,
        };
        self.files.iter().try_for_each(|(path, _)| b.copy(&folder, path, ROLE, extra.clone()))
    }

    fn identity(&self) -> Identity {
        Identity::Pieces
    }

    fn retain_pieces(&mut self, keep: &mut dyn FnMut(&Path, &str) -> bool) -> bool {
        self.files.retain(|(p, shown)| keep(p, shown));
        !self.files.is_empty()
    }

    fn reads_local_times(&self) -> bool {
        true
    }
}
