//! One kind of source as one slice: the [`Slice`] a collector crate exports
//! owns everything about its kind (its flags, its `reconstruct.toml`
//! tables, resolving them into [`Spec`]s, recognising and replaying its
//! bundle folder, its blind spots), and a [`Spec`] is one source to read,
//! opened live or saved, or written into a bundle. The product keeps one
//! registry list of slices; nothing outside a crate names its kind's parts.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{Source, SourceId, SourceKind, TimeWindow, Zone};

/// What every source shares when it is opened or saved.
#[derive(Clone, Debug)]
pub struct Common {
    /// What to read: the window, and before it what the findings look back on.
    pub window: TimeWindow,
    /// The window asked for, when the read reaches before it (see
    /// `CollectContext::anchor`): a central store reads only this.
    pub anchor: Option<TimeWindow>,
    pub timeout: Duration,
    /// Keep SQL literals (`--no-redact`).
    pub keep_literals: bool,
    /// Where line indexes of big logs are kept between runs.
    pub cache_dir: Option<PathBuf>,
}

/// How a saved file is to be read back, beside its role (the manifest's
/// per-file settings).
#[derive(Clone, Debug, Default)]
pub struct Extra {
    pub component: Option<String>,
    pub tz: Option<String>,
    pub timestamp_format: Option<String>,
    /// Found under a directory or glob rather than named.
    pub found: bool,
}

/// The product's secret masking, as a capture applies it to what it saves.
pub type MaskFn = for<'a> fn(&'a str) -> (Cow<'a, str>, u64);

/// Masking of saved answers when a capture redacts, and none otherwise.
#[derive(Clone, Copy)]
pub struct Masker {
    /// `None`: saved as read.
    pub mask: Option<MaskFn>,
}

impl Masker {
    pub fn on(&self) -> bool {
        self.mask.is_some()
    }

    /// A text masked, or `None` when nothing in it is a secret (or masking is off).
    pub fn text(&self, s: &str) -> Option<String> {
        let mask = self.mask?;
        let (m, k) = mask(s);
        (k > 0).then(|| m.into_owned())
    }

    /// Every string of a JSON value, in place, so the saved file stays JSON
    /// its reader can parse.
    pub fn json(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => {
                if let Some(m) = self.text(s) {
                    *s = m;
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.json(x)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| self.json(x)),
            _ => {}
        }
    }

    /// A log line, masked (its invalid UTF-8 replaced) when on, else as it is.
    pub fn line(&self, l: &[u8]) -> Vec<u8> {
        match self.mask {
            Some(mask) => mask(&String::from_utf8_lossy(l)).0.into_owned().into_bytes(),
            None => l.to_vec(),
        }
    }
}

/// The bundle a capture writes: each spec saves its files under its own
/// folder through this, and the manifest lists them with their role.
pub trait Bundle {
    /// How to mask what is written (`capture --redact`).
    fn masker(&self) -> Masker;
    /// A free name under `folder/` for `wanted` (two `app.log` become `app.log` and `app-2.log`).
    fn name(&mut self, folder: &str, wanted: &str) -> String;
    /// Writes `bytes` as `rel` (masked line by line when redacting) and lists it.
    fn add(&mut self, rel: &str, bytes: &[u8], role: &str, source: &str, extra: Extra) -> Result<(), String>;
    /// A file to stream into; list it with [`Bundle::add_written`] or drop it with [`Bundle::discard`].
    fn create(&mut self, rel: &str) -> Result<std::fs::File, String>;
    /// Wraps a writer so each line is masked when redacting.
    fn line_writer<'w>(&self, w: Box<dyn Write + 'w>) -> Box<dyn Write + 'w>;
    /// Removes a file begun with [`Bundle::create`] that will not be listed.
    fn discard(&mut self, rel: &str);
    /// Lists a file already written under the bundle.
    fn add_written(&mut self, rel: &str, role: &str, source: &str, extra: Extra) -> Result<(), String>;
    /// Copies a file into `folder/` under a free name and lists it.
    fn copy(&mut self, folder: &str, from: &Path, role: &str, extra: Extra) -> Result<(), String>;
}

/// What makes two specs one reading, so a thing named twice is read once.
#[derive(Clone, Debug)]
pub enum Identity {
    /// Pieces of a log, each file read once ([`Spec::retain_pieces`]); a
    /// file that a reader of its own format also reads is left to that one.
    Pieces,
    /// One file or folder read whole. `specific`: the reader knows the
    /// file's format, and wins over a reader of plain pieces.
    File { path: PathBuf, specific: bool },
    /// A live system, named by [`Spec::what`].
    Live,
    /// Part of a saved bundle: never named twice.
    Saved,
}

/// One source to read: opened as a collector, or saved into a bundle.
pub trait Spec: Send + std::fmt::Debug {
    fn kind(&self) -> SourceKind;
    /// What it reads: a path, a repository, an address (no password).
    fn what(&self) -> String;
    /// The collector that reads it.
    fn open(self: Box<Self>, c: &Common) -> Source;
    /// Writes its saved form into the bundle, in the form its slice
    /// replays. An error names what could not be saved.
    fn save(&self, _c: &Common, _b: &mut dyn Bundle) -> Result<(), String> {
        Err(format!("{} is saved already", self.what()))
    }
    /// Whether it is the live system (not a saved file of it).
    fn is_live(&self) -> bool {
        false
    }
    /// By default a live source is named by what it reads, and a saved part of a bundle is never named twice.
    fn identity(&self) -> Identity {
        if self.is_live() {
            Identity::Live
        } else {
            Identity::Saved
        }
    }
    /// Keeps the pieces `keep` accepts; false when none is left.
    fn retain_pieces(&mut self, _keep: &mut dyn FnMut(&Path, &str) -> bool) -> bool {
        true
    }
    /// Reads lines whose times may be written without an offset (so the
    /// zone they are read in matters).
    fn reads_local_times(&self) -> bool {
        false
    }
    /// The source as coverage names it.
    fn id(&self) -> SourceId {
        SourceId { collector: self.kind(), name: self.what() }
    }
    /// How coverage and capture name it.
    fn describe(&self) -> String {
        format!("{} {}", self.kind(), self.what())
    }
}

/// A configuration file's text, for each slice to read its own tables from.
#[derive(Clone, Debug, Default)]
pub struct ConfigText {
    pub text: String,
    /// The file as messages name it.
    pub shown: String,
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

impl ConfigText {
    /// The whole file read as `T`, which names only its own tables (the
    /// rest are other slices'); `T`'s entries deny unknown fields.
    pub fn parse<T: serde::de::DeserializeOwned + Default>(&self) -> Result<T, ConfigError> {
        if self.text.is_empty() {
            return Ok(T::default());
        }
        toml::from_str(&self.text).map_err(|e| ConfigError::Syntax {
            path: self.shown.clone(),
            // toml's message names the line and column and shows the line.
            message: e.to_string().trim_end().replace('\n', "\n  "),
        })
    }

    /// An error about the value at `span`, naming the file and its line.
    pub fn error_at(&self, span: std::ops::Range<usize>, message: String) -> ConfigError {
        let line = self.text.get(..span.start).map_or(1, |t| t.matches('\n').count() + 1);
        ConfigError::Value { path: self.shown.clone(), line, message }
    }

    /// A URL the file gives, checked to be http(s); `what` names it in the error.
    pub fn http_url(&self, u: &toml::Spanned<String>, what: &str) -> Result<String, ConfigError> {
        let url = u.get_ref();
        if (url.starts_with("http://") || url.starts_with("https://"))
            && url.len() > "https://".len()
            && !url.contains(' ')
        {
            Ok(url.clone())
        } else {
            Err(self.error_at(u.span(), format!("{what} url {:?} is not an http(s) URL", crate::text::mask_url(url))))
        }
    }
}

/// Why flags and configuration cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The command line cannot work as typed (exit status 2).
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Other(String),
}

/// A source named but unusable before reading ("no file matches …").
#[derive(Clone, Debug)]
pub struct Unusable {
    pub source: SourceId,
    pub error: String,
}

/// One file of a bundle, given to the slice that reads its role.
#[derive(Clone, Debug)]
pub struct SavedFile {
    pub path: PathBuf,
    /// The path relative to the bundle, as evidence names it.
    pub display: String,
    pub role: String,
    pub component: Option<String>,
    /// The manifest's zone, else the run's.
    pub zone: Zone,
    pub timestamp_format: Option<String>,
    pub found: bool,
    /// Its place in the bundle's files (path order), for [`Resolution::push_at`].
    pub order: usize,
    /// The bundle's folder, for naming other files of it ([`relative`]).
    pub bundle_dir: PathBuf,
}

/// A path as a bundle names it: relative to the bundle, with `/`.
pub fn relative(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

/// Offers a file to the slices that know its format.
pub type Adopt = dyn Fn(&Path, Zone) -> Option<Box<dyn Spec>>;

/// What a slice resolves with, and where it puts what it resolved.
pub struct Resolution<'a> {
    /// The parsed command line; a slice reads its own flags from it.
    pub matches: &'a clap::ArgMatches,
    pub config: &'a ConfigText,
    pub vars: &'a BTreeMap<String, String>,
    /// The working directory, for defaults (a repository or compose file here).
    pub cwd: Option<&'a Path>,
    /// The zone the window was typed in (`--tz`).
    pub window_zone: Zone,
    /// The zone for log lines written without an offset (`--log-tz`, else `--tz`).
    pub zone: Zone,
    /// The evidence is a saved bundle (`--fixtures`): live defaults are off.
    pub from_bundle: bool,
    /// Offers a plain file to the slices that know a format of their own
    /// (a PostgreSQL server log named with `--log`).
    pub adopt: &'a Adopt,
    pub specs: Vec<Box<dyn Spec>>,
    /// Specs replayed from one file each, at that file's place: a bundle's
    /// sources are listed in the order of its files.
    pub placed: Vec<(usize, Box<dyn Spec>)>,
    /// Specs replayed from several files read together: after the others,
    /// in the order of their first file.
    pub joined: Vec<(usize, Box<dyn Spec>)>,
    pub unusable: Vec<Unusable>,
    pub warnings: Vec<String>,
}

impl Resolution<'_> {
    pub fn push(&mut self, s: impl Spec + 'static) {
        self.specs.push(Box::new(s));
    }

    /// A spec replayed from the bundle file at `order`.
    pub fn push_at(&mut self, order: usize, s: impl Spec + 'static) {
        self.placed.push((order, Box::new(s)));
    }

    /// A spec replayed from several bundle files, the first at `order`.
    pub fn push_joined(&mut self, order: usize, s: impl Spec + 'static) {
        self.joined.push((order, Box::new(s)));
    }

    pub fn unusable(&mut self, collector: SourceKind, name: String, error: String) {
        self.unusable.push(Unusable { source: SourceId { collector, name }, error });
    }
}

/// One kind of source, whole. See the module's text.
pub trait Slice: Send + Sync {
    /// Its name in messages and in the registry.
    fn name(&self) -> &'static str;
    /// One line: what it reads.
    fn describe(&self) -> &'static str;
    /// Adds its flags to a command.
    fn flags(&self, cmd: clap::Command) -> clap::Command;
    /// The flags that name one of its live sources, for "nothing to read: give …".
    fn naming_flags(&self) -> &'static [&'static str] {
        &[]
    }
    /// Its top-level keys in `reconstruct.toml`.
    fn tables(&self) -> &'static [&'static str] {
        &[]
    }
    /// Its tables of a configuration text read and checked, with nothing
    /// else touched (no file, no network): `reconstruct.toml`'s checker.
    fn check(&self, _config: &ConfigText) -> Result<(), ConfigError> {
        Ok(())
    }
    /// Its flags, tables and environment resolved into specs.
    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError>;
    /// The role of a bundle file by its place in the layout (`rel` with `/`).
    fn recognise(&self, rel: &str) -> Option<&'static str>;
    /// Every role it reads (the manifest's `kind` of a file).
    fn roles(&self) -> &'static [&'static str];
    /// Its files of a bundle, in path order, turned into specs.
    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError>;
    /// Sentences for the report's blind spots, each with the kinds it is about.
    fn blind_spots(&self) -> &'static [(&'static [SourceKind], &'static str)] {
        &[]
    }
    /// A spec that reads `file` in a format this slice knows, if it is one.
    fn adopt(&self, _file: &Path, _zone: Zone) -> Option<Box<dyn Spec>> {
        None
    }
}
