//! Log-file collector: any text log with timestamps, each event with its
//! `file:line` evidence. Parsing lives in `layout` and `scan` (pure, on
//! bytes); `fetch` finds the files.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod compressed;
pub mod families;
pub mod fetch;
pub mod index;
pub mod layout;
pub mod packages;
pub mod pattern;
pub mod rotation;
pub mod runtime;
pub mod scan;
pub mod seek;
pub mod slice;

use reconstruct_core::text::count;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use reconstruct_core::{
    CollectContext, CollectError, Collector, Diagnostic, EventSink, Locator, SourceId, SourceKind, Step, TimeWindow,
    Timestamp, Zone,
};

pub use layout::Locate;
pub use scan::{ScanConfig, ScanError};

/// One log file to read.
pub struct LogFileCollector {
    pub file: PathBuf,
    pub config: ScanConfig,
    /// Where line indexes are kept between runs.
    pub cache_dir: Option<PathBuf>,
    /// Where a read stopped to yield, to go on from ([`Collector::step`]).
    parked: Option<scan::Parked>,
}

impl LogFileCollector {
    /// Marks the file as found under a directory or glob (see [`ScanConfig::found`]).
    pub fn found(mut self, found: bool) -> Self {
        self.config.found = found;
        self
    }

    /// `display` is how locators name the file (as given, or relative to a bundle).
    pub fn new(file: PathBuf, display: String, component: Option<String>, zone: Zone, locate: Option<Locate>) -> Self {
        let component = component.unwrap_or_else(|| default_component(&file));
        LogFileCollector {
            file,
            config: ScanConfig {
                path: Arc::from(display),
                component: Arc::from(component),
                zone,
                locate,
                codec: None,
                found: false,
            },
            cache_dir: None,
            parked: None,
        }
    }

    /// Keeps line indexes of big files under `dir` (see `index`).
    pub fn cache_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.cache_dir = dir;
        self
    }
}

impl Collector for LogFileCollector {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Logfile, name: self.config.path.to_string() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let mut step = self.step(ctx, sink)?;
        // A sink that asks to yield but cannot take a parked read back:
        // read on at once.
        while let Step::Parked(c) = step {
            step = c.step(ctx, sink)?;
        }
        Ok(())
    }

    fn step(mut self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<Step, CollectError> {
        let parked = match self.parked.take() {
            Some(p) => scan::resume(p, &self.file, sink)?,
            None => read_file(&self.file, self.config.clone(), self.cache_dir.as_deref(), ctx, sink)?,
        };
        Ok(match parked {
            Some(p) => {
                self.parked = Some(p);
                Step::Parked(self)
            }
            None => Step::Done,
        })
    }
}

/// The component a log speaks for when none is given: the container or pod
/// its path names, else its file name without extensions and rotation
/// suffixes (the same for every piece of a rotation set).
pub fn default_component(file: &std::path::Path) -> String {
    runtime::component_from_path(file).unwrap_or_else(|| fetch::component_of(file))
}

/// Scans one file, decompressing it when its first bytes say it is
/// compressed, and seeking to the window in a plain file (see `seek`). A
/// plain file may stop where the sink asks it to yield: it says where, to
/// go on with [`scan::resume`].
pub fn read_file(
    file: &std::path::Path,
    mut config: ScanConfig,
    cache_dir: Option<&std::path::Path>,
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<Option<scan::Parked>, CollectError> {
    let io = |source| ScanError::Io { path: config.path.to_string(), source };
    let f = File::open(file).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(format!("{} is a directory", config.path).into());
    }
    let mut head = [0u8; 1024];
    let n = std::os::unix::fs::FileExt::read_at(&f, &mut head, 0).map_err(io)?;
    let head = head.get(..n).unwrap_or_default();
    let plain = compressed::Codec::sniff(head).is_none();
    // Mostly control bytes in the first KiB of an uncompressed file: a
    // binary file (wtmp, lastlog, a journal file, a database). Said at once,
    // before reading what may be gigabytes without a line end (a sparse
    // lastlog). A text log with a stray NUL is still read.
    let control = head.iter().filter(|c| **c < 0x20 && !matches!(c, b'\t' | b'\r' | b'\n' | 0x0c | 0x1b)).count();
    if plain && !head.is_empty() && control * 10 > head.len() {
        if config.found {
            sink.skipped_whole("binary data, not text".to_string());
            return Ok(None);
        }
        return Err(format!("{} holds binary data, not text lines", config.path).into());
    }
    if plain && meta.is_file() {
        let seekable = scan::Seekable { file: &f, size: meta.len(), path: file, cache_dir, min_size: seek::MIN_SIZE };
        return scan::scan_file(seekable, &config, ctx, sink);
    }
    let (input, codec) = compressed::open(f, meta.len()).map_err(io)?;
    config.codec = codec;
    if let Some(c) = codec {
        sink.note(format!("{} compressed", c.name()));
    }
    scan::scan(input, &config, ctx, sink).map(|()| None)
}

/// A rotation set (`app.log.2.gz`, `app.log.1`, `app.log`) read as one
/// source with one component, oldest piece first. A piece whose lines cannot
/// touch the window (it begins after the window, or the next piece begins
/// before the window does) is skipped unread, and coverage says so.
pub struct LogSetCollector {
    /// Oldest first by name; `(path, how evidence names it)`.
    pub files: Vec<(PathBuf, String)>,
    pub component: Arc<str>,
    pub zone: Zone,
    pub locate: Option<Locate>,
    /// Found under a directory or glob (see [`ScanConfig::found`]).
    pub found: bool,
    /// Where line indexes are kept between runs.
    pub cache_dir: Option<PathBuf>,
    /// How far the read has come, between steps ([`Collector::step`]).
    progress: Option<SetProgress>,
}

impl LogSetCollector {
    pub fn new(files: Vec<(PathBuf, String)>, component: Arc<str>, zone: Zone, locate: Option<Locate>) -> Self {
        LogSetCollector { files, component, zone, locate, found: false, cache_dir: None, progress: None }
    }

    fn config(&self, display: &str) -> ScanConfig {
        ScanConfig {
            path: Arc::from(display),
            component: self.component.clone(),
            zone: self.zone,
            locate: self.locate.clone(),
            codec: None,
            found: self.found,
        }
    }

    fn first_time(&self, path: &std::path::Path, display: &str, window: &TimeWindow) -> Option<Timestamp> {
        let f = File::open(path).ok()?;
        let size = f.metadata().ok()?.len();
        let (input, _) = compressed::open(f, size).ok()?;
        scan::first_time(input, &self.config(display), window)
    }
}

/// How far a set's read has come: the pieces in order, the next one, and
/// a plain piece's read parked part way.
struct SetProgress {
    /// `(where it begins, index into files)`, in reading order.
    pieces: Vec<(Option<Timestamp>, usize)>,
    next: usize,
    read: usize,
    failures: Vec<String>,
    parked: Option<scan::Parked>,
}

impl LogSetCollector {
    /// Where each piece begins; pieces put in order of it (name order
    /// where a piece has no readable time).
    fn progress(&self, ctx: &CollectContext) -> SetProgress {
        let mut pieces: Vec<(Option<Timestamp>, usize)> =
            self.files.iter().enumerate().map(|(i, (p, d))| (self.first_time(p, d, &ctx.window), i)).collect();
        pieces.sort_by_key(|(t, i)| (t.unwrap_or(Timestamp::MIN), *i));
        SetProgress { pieces, next: 0, read: 0, failures: Vec::new(), parked: None }
    }

    /// Why piece `k` cannot touch the window, if it cannot.
    fn unread(&self, p: &SetProgress, k: usize, ctx: &CollectContext) -> Option<String> {
        let (first, i) = *p.pieces.get(k)?;
        let (path, _) = self.files.get(i)?;
        let next = p.pieces.get(k + 1).and_then(|(t, _)| *t);
        let newest = k + 1 == p.pieces.len();
        // The newest piece ends when it was last written.
        let last_written = newest
            .then(|| std::fs::metadata(path).and_then(|m| m.modified()).ok())
            .flatten()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| Timestamp::from_unix_seconds(i64::try_from(d.as_secs()).ok()?, d.subsec_nanos()));
        let before = next.or(last_written).is_some_and(|end| end < ctx.window.since);
        let after = first.is_some_and(|f| f > ctx.window.until);
        if after {
            Some(format!("it begins at {}, after the window", first.map(|t| t.rfc3339()).unwrap_or_default()))
        } else if before && next.is_some() {
            Some("the next piece begins before the window".to_string())
        } else if before {
            Some("it was last written before the window".to_string())
        } else {
            None
        }
    }
}

impl Collector for LogSetCollector {
    fn source(&self) -> SourceId {
        let newest = self.files.last().map_or("", |(_, d)| d.as_str());
        let older = self.files.len().saturating_sub(1);
        SourceId { collector: SourceKind::Logfile, name: format!("{newest} (+{older} rotated)") }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let mut step = self.step(ctx, sink)?;
        while let Step::Parked(c) = step {
            step = c.step(ctx, sink)?;
        }
        Ok(())
    }

    /// Reads the pieces in order; a plain piece may stop where the sink
    /// asks it to yield, and the set goes on from there.
    fn step(mut self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<Step, CollectError> {
        let mut p = match self.progress.take() {
            Some(p) => p,
            None => self.progress(ctx),
        };
        while let Some(&(_, i)) = p.pieces.get(p.next) {
            let Some((path, display)) = self.files.get(i) else {
                p.next += 1;
                continue;
            };
            let read = match p.parked.take() {
                Some(parked) => scan::resume(parked, path, &mut Piece { inner: &mut *sink, name: display }),
                None => match self.unread(&p, p.next, ctx) {
                    Some(why) => {
                        sink.note(format!("{display} skipped unread: {why}"));
                        p.next += 1;
                        continue;
                    }
                    None => {
                        p.read += 1;
                        let mut piece = Piece { inner: &mut *sink, name: display };
                        read_file(path, self.config(display), self.cache_dir.as_deref(), ctx, &mut piece)
                    }
                },
            };
            match read {
                Ok(Some(parked)) => {
                    p.parked = Some(parked);
                    self.progress = Some(p);
                    return Ok(Step::Parked(self));
                }
                Ok(None) => {}
                Err(e) => {
                    // A damaged piece is reported; the other pieces are still read.
                    let msg = e.to_string();
                    sink.diagnostic(Diagnostic { locator: Some(Locator::Text(display.clone())), message: msg.clone() });
                    p.failures.push(msg);
                }
            }
            p.next += 1;
        }
        sink.note(format!("rotation set: {}, {} read", count(self.files.len() as u64, "piece", "pieces"), p.read));
        if p.failures.is_empty() {
            Ok(Step::Done)
        } else {
            Err(p.failures.join("; ").into())
        }
    }
}

/// The sink of one piece of a set: its coverage notes name the piece.
struct Piece<'a> {
    inner: &'a mut dyn EventSink,
    name: &'a str,
}

impl EventSink for Piece<'_> {
    fn emit(&mut self, event: reconstruct_core::Event) -> Result<(), reconstruct_core::Stopped> {
        self.inner.emit(event)
    }
    fn skip(&mut self, time: Timestamp, extra_lines: u32) {
        self.inner.skip(time, extra_lines);
    }
    fn diagnostic(&mut self, d: Diagnostic) {
        self.inner.diagnostic(d);
    }
    fn skipped_whole(&mut self, why: String) {
        // One piece of a set skipped is a note on the set, not the set skipped.
        self.inner.note(format!("{}: skipped: {why}", self.name));
    }
    fn note(&mut self, text: String) {
        self.inner.note(format!("{}: {text}", self.name));
    }
    fn parkable(&mut self, can: bool) {
        self.inner.parkable(can);
    }
    fn yield_asked(&self) -> bool {
        self.inner.yield_asked()
    }
}
