//! The streaming pass over one log: timestamped lines become events, lines
//! without a timestamp are attached to the event before them, and memory
//! stays bounded by the longest line, not the file.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use reconstruct_core::classify::is_state_change;
use reconstruct_core::event::{Event, EventKind, Evidence, Locator, Severity, TimeBasis, Timestamp};
use reconstruct_core::lines::LineReader;
use reconstruct_core::severity;
use reconstruct_core::text::{clean, strip_ansi, Clean};
use reconstruct_core::timestamp::ParseContext;
use reconstruct_core::{CollectContext, CollectError, Detail, Diagnostic, EventSink, Stopped, Want, Zone};

use crate::layout::{self, Carry, Locate, Message, Stamp};
use crate::runtime::{self, Joiner};
use crate::seek;
use reconstruct_core::SourceKind;

mod fold;
mod sweep;

/// Lines longer than this are cut (and reported); 1 MB lines stay whole.
pub const MAX_LINE: usize = 2 << 20;
/// Lines read to learn the layout.
const SAMPLE_LINES: usize = layout::SAMPLE_MAX;
const BOM: &[u8] = b"\xef\xbb\xbf";
/// Bounds on the text one event keeps.
const SUMMARY_MAX: usize = 480;
const EXCERPT_MAX: usize = 4096;

#[derive(Clone, Debug)]
pub struct ScanConfig {
    /// The path as the user or the bundle names it, used in locators.
    pub path: Arc<str>,
    /// Component for lines that name none.
    pub component: Arc<str>,
    pub zone: Zone,
    /// A layout given by the user (`--timestamp-format`), else learned.
    pub locate: Option<Locate>,
    /// The compression the file was read through, for messages.
    pub codec: Option<crate::compressed::Codec>,
    /// Found under a directory or a glob, not named: a file there without
    /// timestamps, or not text at all, is skipped and said so, not a failure.
    pub found: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// Reading stopped part way: the events before are kept.
    #[error("{path}: {what} after line {line}: {source}; the events before it are kept")]
    Stopped { path: String, what: String, line: u64, source: std::io::Error },
    #[error(
        "no timestamp found in the first {lines} lines of {path}: give its layout with --timestamp-format \
         (e.g. '%d.%m.%Y %H:%M:%S'); layouts tried: {tried}"
    )]
    NoTimestamps { path: String, lines: usize, tried: String },
}

struct Pending {
    number: u64,
    time: Timestamp,
    basis: TimeBasis,
    line: Vec<u8>,
    message: Message,
    severity: Option<Severity>,
    component: Option<String>,
    extra: Vec<u8>,
    extra_lines: u32,
    in_window: bool,
    /// Whether the message holds a state word, when the buffer-wide search
    /// already told (`None`: check the message itself).
    state: Option<bool>,
    /// Whether it holds a change cue word, likewise.
    cued: Option<bool>,
    /// Its lines were read from ASCII buffers: they are UTF-8, unchecked.
    ascii: bool,
}

struct Scanner {
    cfg: ScanConfig,
    ctx: CollectContext,
    pctx: ParseContext,
    locate: Locate,
    /// Runners-up from learning, then the stray-line layouts.
    fallbacks: Arc<[Locate]>,
    carry: Carry,
    /// Times that carried a zone word read in `--tz` instead, and the first such line.
    zone_words: u64,
    first_zone_word: u64,
    /// A W3C extended log's `#Fields:` header: times are UTC, and the
    /// `sc-status` column (by index) gives severity.
    w3c: Option<Option<usize>>,
    pending: Option<Pending>,
    /// Lines before the first timestamp: nothing to attach them to.
    unattached: u64,
    first_unattached: u64,
    scratch: Vec<u8>,
    bases: [u64; 5],
    /// In a file that keeps time order: a line past this ends the read.
    stop_after: Option<Timestamp>,
    done: bool,
    /// State words found by one search over the reader's buffer, and that
    /// buffer's address and length (`None` for lines not read from it).
    marks: reconstruct_core::classify::StateMarks,
    cue_marks: reconstruct_core::cues::CueMarks,
    /// The reader's buffer the current line lies in, and which searches
    /// were run over it.
    chunk: Option<(usize, usize)>,
    state_marked: bool,
    cue_marked: bool,
    /// Whether the reader's buffer is ASCII, and the buffer that was asked.
    chunk_ascii: bool,
    ascii_generation: Option<u64>,
    /// Whether the reader's buffer holds an escape byte (colour codes), and
    /// the buffer that was asked: a line of a buffer without one is used as read.
    chunk_escapes: bool,
    escape_generation: Option<u64>,
    /// Component names, each built once.
    names: Names,
    /// Beats of the baseline's routine lines not yet handed on.
    paces: reconstruct_core::beats::Paces,
    /// The file's name and its default component as events carry them.
    lent: Lent,
    /// The table's repeats of lines emitted before, left unbuilt.
    folds: fold::Folds,
}

/// Records read between two makings of [`Lent`].
const RENEW: u32 = 1024;

/// The names events share, made anew every [`RENEW`] records, with the
/// component names: an export drops its events on another thread, and one
/// count on the file's name, shared by every event, kept two cores trading
/// its cache line, a tenth of the reader's time.
struct Lent {
    path: Arc<str>,
    component: Arc<str>,
    left: u32,
}

impl Lent {
    fn of(cfg: &ScanConfig) -> Lent {
        Lent { path: Arc::from(&*cfg.path), component: Arc::from(&*cfg.component), left: RENEW }
    }
}

pub fn scan<R: Read>(
    input: R,
    cfg: &ScanConfig,
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<(), CollectError> {
    // A stream is never parked: only a plain file can be opened again.
    scan_from(Box::new(input), None, cfg, ctx, sink).map(|_| ())
}

/// A plain file the scan may seek in (see `seek`).
pub struct Seekable<'f> {
    pub file: &'f File,
    pub size: u64,
    /// The file's path, the key of its line index.
    pub path: &'f Path,
    /// Where line indexes are kept between runs (none: counted each run).
    pub cache_dir: Option<&'f Path>,
    /// Files smaller than this are read whole ([`seek::MIN_SIZE`]; tests
    /// lower it to seek in small files).
    pub min_size: u64,
}

/// Scans a plain file: where its times increase, from where the window
/// begins (found by binary search) to just past where it ends. A file read
/// to its end may stop where the sink asks it to yield: it returns where,
/// to go on with [`resume`].
pub fn scan_file(
    seekable: Seekable<'_>,
    cfg: &ScanConfig,
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<Option<Parked>, CollectError> {
    let file = seekable.file;
    scan_from(Box::new(file), Some(seekable), cfg, ctx, sink)
}

/// Where a seek lands: the byte offset and the lines before it.
struct Landing {
    offset: u64,
    lines: u64,
    probes: u32,
}

/// Whether to seek, and where to: only in a plain file of some size, whose
/// layout states a date, whose sample and probes keep time order, and that
/// carries no header the reading depends on.
fn plan_seek(
    s: &Seekable<'_>,
    locate: &Locate,
    sample: &[Vec<u8>],
    pctx: &ParseContext,
    window: &reconstruct_core::TimeWindow,
) -> Option<Landing> {
    let dated = match locate {
        Locate::At { family, .. } => crate::families::get(*family).is_some_and(|c| c.pattern.has_date()),
        Locate::Json | Locate::Logfmt | Locate::Strftime(_) => true,
    };
    if s.size < s.min_size || window.since <= Timestamp::MIN || !dated {
        return None;
    }
    if sample.iter().any(|l| l.starts_with(b"#Fields:")) {
        return None;
    }
    let mut carry = Carry::default();
    if !seek::ordered(sample.iter().filter_map(|l| layout::read(locate, l, pctx, &mut carry)).map(|s| s.time)) {
        return None;
    }
    let (offset, probes) = seek::find(s.file, s.size, locate, pctx, window.since).ok()??;
    let lines = if offset == 0 {
        0
    } else {
        let mut idx = crate::index::LineIndex::open(s.path, s.file, s.cache_dir);
        let n = idx.lines_before(s.file, offset).ok()?;
        idx.save();
        n
    };
    Some(Landing { offset, lines, probes })
}

fn scan_from<'a>(
    input: Box<dyn Read + 'a>,
    seekable: Option<Seekable<'a>>,
    cfg: &ScanConfig,
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<Option<Parked>, CollectError> {
    let what = failed_reading(cfg);
    let stopped =
        |line: u64, source| ScanError::Stopped { path: cfg.path.to_string(), what: what.clone(), line, source };
    let pctx = ParseContext::new(cfg.zone, ctx.window.until).with_first_day(ctx.anchor().since);
    let size = seekable.as_ref().map_or(u64::MAX, |s| s.size);
    let mut reader: LineReader<Box<dyn Read + 'a>> = LineReader::expecting(input, MAX_LINE, size);
    let mut sample: Vec<(u64, Vec<u8>, bool)> = Vec::new();
    let mut failure = None;
    while sample.len() < SAMPLE_LINES {
        let next = match reader.next_line() {
            Ok(n) => n,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        match next {
            Some(l) => sample.push((l.number, l.bytes.to_vec(), l.truncated)),
            None => break,
        }
    }
    // A UTF-8 byte-order mark (Windows editors, .NET) is not part of line 1.
    let mut bom = 0;
    if let Some((_, first, _)) = sample.first_mut() {
        if first.starts_with(BOM) {
            first.drain(..BOM.len());
            bom = BOM.len() as u64;
        }
    }
    if sample.is_empty() {
        if let Some(e) = failure {
            return Err(stopped(0, e).into());
        }
        sink.note("empty file".to_string());
        return Ok(None);
    }
    let stripped: Vec<Vec<u8>> = sample.iter().map(|(_, b, _)| strip_ansi(b).into_owned()).collect();
    // A container runtime's file: its records become plain `TIME text` lines.
    let runtime = if cfg.locate.is_none() { runtime::detect(stripped.iter().map(Vec::as_slice)) } else { None };
    let (locate, fallbacks, notes) = match (&cfg.locate, runtime) {
        (_, Some(_)) => (layout::iso_at_start(), Arc::from([]), Vec::new()),
        (Some(l), None) => (l.clone(), Arc::from([]), Vec::new()),
        (None, None) => {
            let lines: Vec<&[u8]> = stripped.iter().map(Vec::as_slice).collect();
            match layout::learn(&lines, &pctx) {
                Some(l) => {
                    let mut fallbacks = l.runners;
                    for c in layout::strays() {
                        if c != l.best && !fallbacks.contains(&c) {
                            fallbacks.push(c);
                        }
                    }
                    (l.best, shared(fallbacks), l.notes)
                }
                None => return no_layout(cfg, &lines, sink).map(|()| None),
            }
        }
    };
    for n in notes {
        sink.note(n);
    }
    let landing = match (&seekable, runtime, &failure) {
        (Some(sk), None, None) => plan_seek(sk, &locate, &stripped, &pctx, &ctx.window),
        _ => None,
    };
    let mut joiner = runtime.map(Joiner::new);
    let mut joined: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut sc = Scanner {
        cfg: cfg.clone(),
        ctx: *ctx,
        pctx,
        locate: locate.clone(),
        fallbacks,
        carry: Carry::default(),
        zone_words: 0,
        first_zone_word: 0,
        w3c: None,
        pending: None,
        unattached: 0,
        first_unattached: 0,
        scratch: Vec::new(),
        bases: [0; 5],
        stop_after: None,
        done: false,
        marks: Default::default(),
        cue_marks: Default::default(),
        chunk: None,
        state_marked: false,
        cue_marked: false,
        chunk_ascii: false,
        ascii_generation: None,
        chunk_escapes: true,
        escape_generation: None,
        names: Names::default(),
        lent: Lent::of(cfg),
        paces: Default::default(),
        folds: Default::default(),
    };
    match (&landing, &seekable) {
        (Some(l), Some(sk)) => {
            // The window begins further in: read from there, and stop once
            // the times are past its end.
            sc.stop_after = Some(seek::slack(ctx.window.until, seek::SLACK_SECS));
            if l.offset > 0 {
                let mut f = sk.file;
                std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(l.offset))
                    .map_err(|source| ScanError::Io { path: cfg.path.to_string(), source })?;
                reader = LineReader::resuming(Box::new(f), MAX_LINE, l.lines, l.offset);
                sink.note(format!(
                    "sought to line {} by binary search ({} probes): {} line(s), {}, before the window not read",
                    l.lines.saturating_add(1),
                    l.probes,
                    l.lines,
                    human_bytes(l.offset)
                ));
            } else {
                for (number, bytes, truncated) in &sample {
                    feed(&mut sc, &mut joiner, &mut joined, *number, bytes, *truncated, sink)?;
                }
            }
        }
        (None, Some(sk)) if joiner.is_none() && failure.is_none() => {
            // A plain file read to its end is read again from its start, so
            // that its first lines too may stop where the runner asks
            // (`read_on`): a directory of small logs is read a batch of
            // each at a time, and most of each is in its sample.
            let mut f = sk.file;
            std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(bom))
                .map_err(|source| ScanError::Io { path: cfg.path.to_string(), source })?;
            reader = LineReader::expecting(Box::new(f) as Box<dyn Read>, MAX_LINE, sk.size).from_line(0, bom);
        }
        _ => {
            for (number, bytes, truncated) in &sample {
                feed(&mut sc, &mut joiner, &mut joined, *number, bytes, *truncated, sink)?;
            }
        }
    }
    drop(sample);
    // Before the baseline a report wants only what may be a change: one raw
    // search over those bytes, and only the records it finds read as lines.
    if let (Some(sk), Some(_), None, None) = (&seekable, &landing, &failure, &joiner) {
        let before = match ctx.detail {
            Detail::Read(reach) if reach.changes_only_before > ctx.window.since && sweep::available() => {
                Some(reach.changes_only_before)
            }
            _ => None,
        };
        let start = reader.offset();
        let end = match before {
            Some(t) if !sc.done => seek::find(sk.file, sk.size, &locate, &pctx, t).ok().flatten().map(|(o, _)| o),
            _ => None,
        };
        if let Some(end) = end.filter(|e| *e > start) {
            let r = sweep::run(&mut sc, sk.file, start, reader.lines(), end, sink)?;
            let mut f = sk.file;
            std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(r.offset))
                .map_err(|source| ScanError::Io { path: cfg.path.to_string(), source })?;
            reader = LineReader::resuming(Box::new(f), MAX_LINE, r.lines, r.offset);
            sink.note(format!(
                "before the baseline, {} line(s), {}, searched for the words of a change: the {} line(s) of the records holding one read",
                r.swept,
                human_bytes(r.offset.saturating_sub(start)),
                r.read
            ));
        }
    }
    // A plain file read to its end, line by line, may stop where the runner
    // asks and go on later from its offset (`Parked`). Not a read that stops
    // past the window (its byte counts depend on the read-ahead), nor a
    // container runtime's file (its joiner holds lines), nor a stream.
    let identity = match (&seekable, &landing, &joiner, &failure) {
        (Some(sk), None, None, None) => file_identity(sk.file),
        _ => None,
    };
    let tail = Tail {
        landed: landing.as_ref().map_or(0, |l| l.offset),
        size: seekable.as_ref().map(|s| s.size),
        layout: runtime.map_or_else(|| locate.describe(), |r| r.describe().to_string()),
    };
    match read_on(Reading { sc, reader, joiner, joined, failure, tail }, identity, sink)? {
        Ended::Parked(at) => Ok(Some(at)),
        Ended::End(reading) => reading.finish(sink).map(|()| None),
    }
}

/// Where [`read_on`] ended.
enum Ended<'a> {
    Parked(Parked),
    End(Box<Reading<'a>>),
}

/// The fallback layouts as one list shared by every file that learned the
/// same: a directory of thousands of logs, each parked with its scanner,
/// holds one copy, not thousands.
fn shared(fallbacks: Vec<Locate>) -> Arc<[Locate]> {
    static KNOWN: std::sync::Mutex<Vec<Arc<[Locate]>>> = std::sync::Mutex::new(Vec::new());
    /// Distinct lists kept; past it a list is its file's own.
    const KEPT: usize = 32;
    let mut known = KNOWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(k) = known.iter().find(|k| ***k == *fallbacks) {
        return k.clone();
    }
    let list: Arc<[Locate]> = Arc::from(fallbacks);
    if known.len() < KEPT {
        known.push(list.clone());
    }
    list
}

/// What went wrong when a read stopped part way.
fn failed_reading(cfg: &ScanConfig) -> String {
    match cfg.codec {
        Some(c) => format!("the {} stream is damaged or cut short", c.name()),
        None => "reading failed".to_string(),
    }
}

/// A read part way through a file: what it goes on with.
struct Reading<'a> {
    sc: Scanner,
    reader: LineReader<Box<dyn Read + 'a>>,
    joiner: Option<Joiner>,
    joined: Vec<(u64, Vec<u8>)>,
    failure: Option<std::io::Error>,
    tail: Tail,
}

/// What the end of a read says, known before its lines are read.
struct Tail {
    /// Bytes a seek stepped over.
    landed: u64,
    /// The file's size, for a plain file.
    size: Option<u64>,
    /// The layout, as the coverage note names it.
    layout: String,
}

/// A read of a plain file stopped where the runner asked it to yield: the
/// scanner's state (the record being gathered, the counts for the coverage
/// note, the learned layout) and where to go on. It holds no open file and
/// no buffer, so thousands of them weigh little.
pub struct Parked {
    sc: Box<Scanner>,
    offset: u64,
    lines: u64,
    /// Bytes the step before read: the next is given a buffer about that
    /// big, not the whole rest of the file (most of which it would read
    /// and throw away when it parks again).
    stride: u64,
    /// The file's device and inode when it was opened: a file replaced in
    /// between (rotated) is not read on from an offset into another file.
    identity: (u64, u64),
    tail: Tail,
}

fn file_identity(f: &File) -> Option<(u64, u64)> {
    f.metadata().ok().map(|m| identity_of(&m))
}

fn identity_of(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

/// Reads on from a [`Parked`] read of `file`, until its end or the next
/// time the runner asks it to yield.
pub fn resume(p: Parked, file: &Path, sink: &mut dyn EventSink) -> Result<Option<Parked>, CollectError> {
    let Parked { mut sc, offset, lines, stride, identity, tail } = p;
    let path = sc.cfg.path.to_string();
    let io = |source| ScanError::Io { path: path.clone(), source };
    let mut f = File::open(file).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    let size = meta.len();
    if identity_of(&meta) != identity || size < offset {
        // What was read before is kept; the rest is another file now.
        let what = "the file was replaced or cut short while it was read".to_string();
        let source = std::io::Error::other("the file changed");
        sc.flush(sink)?;
        sc.paces.drain(&sc.cfg.path, SourceKind::Logfile, sink)?;
        return Err(ScanError::Stopped { path, what, line: lines, source }.into());
    }
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(offset)).map_err(io)?;
    let rest = size.saturating_sub(offset).min(stride.saturating_add(stride / 4));
    let reader: LineReader<Box<dyn Read>> =
        LineReader::expecting(Box::new(f) as Box<dyn Read>, MAX_LINE, rest).from_line(lines, offset);
    let reading = Reading { sc: *sc, reader, joiner: None, joined: Vec::new(), failure: None, tail };
    match read_on(reading, Some(identity), sink)? {
        Ended::Parked(at) => Ok(Some(at)),
        Ended::End(reading) => reading.finish(sink).map(|()| None),
    }
}

/// The line loop. With `identity` (a plain file read to its end) it stops
/// at a line's end when the sink asks it to yield, and returns where.
fn read_on<'a>(
    mut r: Reading<'a>,
    identity: Option<(u64, u64)>,
    sink: &mut dyn EventSink,
) -> Result<Ended<'a>, Stopped> {
    if r.failure.is_some() || r.sc.done {
        return Ok(Ended::End(Box::new(r)));
    }
    if identity.is_some() {
        sink.parkable(true);
    }
    let began = r.reader.offset();
    loop {
        match r.reader.next_line() {
            Ok(Some(l)) => {
                if r.joiner.is_none() {
                    r.sc.mark(l.chunk, l.generation);
                }
                let truncated = l.truncated;
                feed(&mut r.sc, &mut r.joiner, &mut r.joined, l.number, l.bytes, l.truncated, sink)?;
                if r.sc.done {
                    let rest = r.tail.size.map_or(0, |s| s.saturating_sub(r.reader.bytes_read()));
                    sink.note(format!(
                        "stopped at line {}, past the window's end: the {} after it not read",
                        r.reader.lines(),
                        human_bytes(rest)
                    ));
                    break;
                }
                // After a cut line the reader is still inside it.
                if let Some(identity) = identity.filter(|_| !truncated && sink.yield_asked()) {
                    sink.parkable(false);
                    let (offset, lines) = (r.reader.offset(), r.reader.lines());
                    let stride = offset.saturating_sub(began);
                    let mut sc = Box::new(r.sc);
                    sc.park();
                    return Ok(Ended::Parked(Parked { sc, offset, lines, stride, identity, tail: r.tail }));
                }
            }
            Ok(None) => break,
            Err(e) => {
                r.failure = Some(e);
                break;
            }
        }
    }
    if identity.is_some() {
        sink.parkable(false);
    }
    Ok(Ended::End(Box::new(r)))
}

impl Reading<'_> {
    /// The end of a read: the record still gathered, the baseline's beats,
    /// and the coverage notes.
    fn finish(mut self: Box<Self>, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let sc = &mut self.sc;
        let cfg = sc.cfg.clone();
        sc.chunk = None;
        if let Some(j) = self.joiner.as_mut() {
            j.finish(&mut self.joined);
            for (n, l) in self.joined.drain(..) {
                sc.line(n, &l, false, sink)?;
            }
        }
        // What was read before a failure is still evidence.
        sc.flush(sink)?;
        sc.paces.drain(&cfg.path, SourceKind::Logfile, sink)?;
        if let Some(source) = self.failure {
            let (path, what, line) = (cfg.path.to_string(), failed_reading(&cfg), self.reader.lines());
            return Err(ScanError::Stopped { path, what, line, source }.into());
        }
        // Bytes read, not counting those a seek stepped over.
        let lines = self.reader.bytes_read().saturating_sub(self.tail.landed);
        if sc.unattached > 0 {
            sink.diagnostic(Diagnostic {
                locator: Some(Locator::Line { path: cfg.path.clone(), line: sc.first_unattached }),
                message: format!("{} line(s) before the first timestamp could not be dated", sc.unattached),
            });
        }
        if sc.zone_words > 0 {
            sink.diagnostic(Diagnostic {
                locator: Some(Locator::Line { path: cfg.path.clone(), line: sc.first_zone_word }),
                message: format!(
                    "{} time(s) carried a zone abbreviation, not an offset; read in {} (give --tz if that is wrong)",
                    sc.zone_words, cfg.zone
                ),
            });
        }
        let mut note = format!("{}, timestamps: {}", human_bytes(lines), self.tail.layout);
        let bases = [
            TimeBasis::Explicit,
            TimeBasis::Epoch,
            TimeBasis::AssumedZone,
            TimeBasis::InferredYear,
            TimeBasis::InferredDate,
        ];
        for (b, n) in bases.iter().zip(sc.bases) {
            if n > 0 {
                note.push_str(&format!(", {n} {}", b.describe()));
                if matches!(b, TimeBasis::AssumedZone | TimeBasis::InferredYear | TimeBasis::InferredDate) {
                    note.push_str(&format!(" ({})", cfg.zone));
                }
            }
        }
        sink.note(note);
        Ok(())
    }
}

/// One physical line to the scanner, through the runtime joiner when the
/// file is a container runtime's.
fn feed(
    sc: &mut Scanner,
    joiner: &mut Option<Joiner>,
    joined: &mut Vec<(u64, Vec<u8>)>,
    number: u64,
    bytes: &[u8],
    truncated: bool,
    sink: &mut dyn EventSink,
) -> Result<(), Stopped> {
    match joiner {
        None => sc.line(number, bytes, truncated, sink),
        Some(j) => {
            j.push(number, bytes, joined);
            for (n, l) in joined.drain(..) {
                sc.line(n, &l, truncated, sink)?;
            }
            Ok(())
        }
    }
}

/// The time of the first dated line among a file's first lines, with the
/// layout given or learned from them: where a rotated piece begins.
pub fn first_time<R: Read>(input: R, cfg: &ScanConfig, window: &reconstruct_core::TimeWindow) -> Option<Timestamp> {
    let pctx = ParseContext::new(cfg.zone, window.until).with_first_day(window.since);
    let mut reader = LineReader::new(input, MAX_LINE);
    let mut sample: Vec<Vec<u8>> = Vec::new();
    while sample.len() < SAMPLE_LINES {
        match reader.next_line() {
            Ok(Some(l)) => sample.push(strip_ansi(l.bytes.strip_prefix(BOM).unwrap_or(l.bytes)).into_owned()),
            _ => break,
        }
    }
    let lines: Vec<&[u8]> = sample.iter().map(Vec::as_slice).collect();
    let locate = match &cfg.locate {
        Some(l) => l.clone(),
        None => layout::learn(&lines, &pctx)?.best,
    };
    let mut carry = Carry::default();
    lines.iter().find_map(|l| layout::read(&locate, l, &pctx, &mut carry)).map(|s| s.time)
}

/// A file no layout reads: skipped when it was found under a directory or
/// glob (said in coverage), a failure when it was named.
fn no_layout(cfg: &ScanConfig, lines: &[&[u8]], sink: &mut dyn EventSink) -> Result<(), CollectError> {
    let binary = looks_binary(lines);
    if cfg.found {
        let why = if binary { "binary data, not text" } else { "no timestamps in its first lines" };
        sink.skipped_whole(why.to_string());
        return Ok(());
    }
    if binary {
        return Err(format!("{} holds binary data, not text lines", cfg.path).into());
    }
    Err(ScanError::NoTimestamps { path: cfg.path.to_string(), lines: lines.len(), tried: crate::families::names() }
        .into())
}

/// Control bytes other than tab, CR, LF, form feed and escape: more than one
/// in twenty bytes, or any NUL near the start, is a binary file (wtmp, a
/// database, an image, a core dump).
fn looks_binary(lines: &[&[u8]]) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for l in lines {
        total += l.len() + 1;
        control += l.iter().filter(|c| **c < 0x20 && !matches!(c, b'\t' | b'\r' | 0x0c | 0x1b)).count();
    }
    let nul_early = lines.iter().flat_map(|l| l.iter()).take(1024).any(|c| *c == 0);
    nul_early || control * 20 > total
}

impl Scanner {
    fn line(&mut self, number: u64, raw: &[u8], truncated: bool, sink: &mut dyn EventSink) -> Result<(), Stopped> {
        if truncated {
            sink.diagnostic(Diagnostic {
                locator: Some(Locator::Line { path: self.cfg.path.clone(), line: number }),
                message: format!("line longer than {MAX_LINE} bytes: the rest of it was skipped"),
            });
        }
        // One look for colour codes over the reader's buffer spares one a line.
        let bytes = if !self.chunk_escapes && self.lies_in_chunk(raw) {
            std::borrow::Cow::Borrowed(raw)
        } else {
            strip_ansi(raw)
        };
        if bytes.first() == Some(&b'#') && bytes.starts_with(b"#Fields:") {
            self.w3c_header(&bytes);
        }
        // The reading is used where it was returned, field by field: copied
        // whole just after its fields were written one by one, the copy
        // waited on those writes (a few per cent of a busy log's reading).
        let mut stamp = match self.w3c {
            Some(status) => self.w3c_line(&bytes, status),
            None => layout::read(&self.locate, &bytes, &self.pctx, &mut self.carry),
        };
        if stamp.is_none() && self.w3c.is_none() {
            stamp = self.fallback(&bytes);
        }
        match &mut stamp {
            Some(s) => {
                self.flush(sink)?;
                if s.zone_word {
                    if self.zone_words == 0 {
                        self.first_zone_word = number;
                    }
                    self.zone_words += 1;
                }
                self.start(number, &bytes, s);
            }
            None => self.continuation(number, &bytes),
        }
        Ok(())
    }

    /// Whether a line begins a record (its layout, or a stray one, reads a
    /// time in it), asked without moving what the reading carries.
    fn is_head(&self, raw: &[u8]) -> bool {
        let bytes = strip_ansi(raw);
        let mut carry = self.carry.clone();
        layout::read(&self.locate, &bytes, &self.pctx, &mut carry).is_some()
            || match bytes.first() {
                None | Some(b' ') | Some(b'\t') | Some(b'#') => false,
                Some(_) => self.fallbacks.iter().any(|l| layout::read(l, &bytes, &self.pctx, &mut carry).is_some()),
            }
    }

    /// Another layout for a line the learned one cannot read, tried only on
    /// lines that do not look like continuations (which start with blanks)
    /// or comments (`#`, which headers use).
    fn fallback(&mut self, b: &[u8]) -> Option<Stamp> {
        match b.first() {
            None | Some(b' ') | Some(b'\t') | Some(b'#') => None,
            Some(_) => {
                let (pctx, carry) = (&self.pctx, &mut self.carry);
                self.fallbacks.iter().find_map(|l| layout::read(l, b, pctx, carry))
            }
        }
    }

    /// `#Fields: date time s-ip cs-method … sc-status …`
    fn w3c_header(&mut self, b: &[u8]) {
        let names = b.get(8..).unwrap_or_default().split(|c| is_blank(*c)).filter(|f| !f.is_empty());
        let names: Vec<&[u8]> = names.collect();
        if names.contains(&&b"time"[..]) {
            self.w3c = Some(names.iter().position(|n| *n == b"sc-status"));
        }
    }

    /// A W3C extended log line: its date and time are UTC by the format's
    /// definition; a 5xx status is an error.
    fn w3c_line(&mut self, b: &[u8], status: Option<usize>) -> Option<Stamp> {
        if b.first() == Some(&b'#') {
            return None;
        }
        let utc = ParseContext { zone: Zone::Utc, ..self.pctx };
        let mut s = layout::read(&self.locate, b, &utc, &mut self.carry).or_else(|| self.fallback(b))?;
        if s.basis == TimeBasis::AssumedZone {
            s.basis = TimeBasis::Explicit;
        }
        let code = status.and_then(|i| b.split(|c| is_blank(*c)).filter(|f| !f.is_empty()).nth(i));
        if let Some(code) = code.and_then(|c| std::str::from_utf8(c).ok()).and_then(|c| c.parse::<u16>().ok()) {
            if code >= 500 {
                s.severity = Some(Severity::Error);
            }
        }
        Some(s)
    }

    fn start(&mut self, number: u64, bytes: &[u8], s: &mut Stamp) {
        if self.stop_after.is_some_and(|stop| s.time > stop) {
            self.done = true;
        }
        let in_window = self.ctx.window.contains(s.time);
        // The buffer-wide searches' answers (`None`: the line is asked itself).
        let (state, cued) = match self.in_chunk(bytes, &s.message).filter(|_| in_window) {
            Some((from, end, joined)) => (
                self.state_marked.then(|| self.marks.any_in(from, end.min(from + reconstruct_core::classify::HEAD))),
                // A word begun before the message could hide one in it
                // (the search does not overlap): only after a non-letter.
                (self.cue_marked && !joined).then(|| self.cue_marks.any_in(from, end)),
            ),
            None => (in_window.then(|| self.line_state(bytes, s)).flatten(), None),
        };
        let ascii = self.ascii_in_chunk(bytes);
        // Filled in place: the record is moved nowhere (its buffers are kept).
        let p = self.pending.get_or_insert_with(|| Pending {
            number,
            time: s.time,
            basis: s.basis,
            line: Vec::new(),
            message: Message::Cut { skip_from: 0, skip_to: 0 },
            severity: None,
            component: None,
            extra: Vec::new(),
            extra_lines: 0,
            in_window,
            state: None,
            cued: None,
            ascii: false,
        });
        p.number = number;
        p.time = s.time;
        p.basis = s.basis;
        p.line.clear();
        if in_window {
            p.line.extend_from_slice(bytes);
        }
        p.message = std::mem::replace(&mut s.message, Message::Cut { skip_from: 0, skip_to: 0 });
        p.severity = s.severity;
        p.component = s.component.take();
        p.extra.clear();
        p.extra_lines = 0;
        p.in_window = in_window;
        p.state = state;
        p.cued = cued;
        p.ascii = ascii;
    }

    /// Searches the reader's buffer once for the words its lines will be
    /// asked about, as far as they need them: before the window no state
    /// word matters ([`Want::asks_state`]), and from the window on no cue
    /// word is asked. The lines' times go in order, so the last one read
    /// tells where the buffer lies.
    fn mark(&mut self, chunk: &[u8], generation: u64) {
        let (states, cues) = match self.ctx.detail {
            Detail::Read(reach) => {
                let t = self.pending.as_ref().map_or(Timestamp::MIN, |p| p.time);
                (t >= reach.paced_before, t < reach.paced_before)
            }
            _ => (true, false),
        };
        self.chunk = Some((chunk.as_ptr() as usize, chunk.len()));
        self.state_marked = states;
        if states {
            self.marks.refresh(chunk, generation);
        }
        self.cue_marked = cues;
        if cues {
            self.cue_marks.refresh(chunk, generation);
        }
        // A routine line read for the findings is only checked for UTF-8:
        // once a buffer is known to be ASCII, its lines need no check.
        if self.escape_generation != Some(generation) {
            self.escape_generation = Some(generation);
            self.chunk_escapes = memchr::memchr(0x1b, chunk).is_some();
        }
        if matches!(self.ctx.detail, Detail::Read(_)) && self.ascii_generation != Some(generation) {
            self.ascii_generation = Some(generation);
            self.chunk_ascii = chunk.is_ascii();
        }
    }

    /// Whether `bytes` lie in the reader's buffer and that is ASCII.
    fn ascii_in_chunk(&self, bytes: &[u8]) -> bool {
        self.chunk_ascii && self.lies_in_chunk(bytes)
    }

    /// Whether `bytes` lie in the reader's buffer.
    fn lies_in_chunk(&self, bytes: &[u8]) -> bool {
        let Some((base, len)) = self.chunk else { return false };
        (bytes.as_ptr() as usize)
            .checked_sub(base)
            .and_then(|off| off.checked_add(bytes.len()))
            .is_some_and(|end| end <= len)
    }

    /// Where a line's message lies in the reader's buffer, when the line
    /// lies there as read (no colour codes taken out) and its message is
    /// its tail.
    /// Also whether a letter comes just before the message.
    fn in_chunk(&self, bytes: &[u8], message: &Message) -> Option<(usize, usize, bool)> {
        let (base, len) = self.chunk?;
        let off = (bytes.as_ptr() as usize).checked_sub(base)?;
        if off.checked_add(bytes.len())? > len {
            return None;
        }
        let Message::Cut { skip_from: 0, skip_to } = message else { return None };
        let rest = bytes.get(*skip_to..)?;
        let blank = rest.iter().take_while(|c| c.is_ascii_whitespace()).count();
        let joined = (skip_to + blank).checked_sub(1).and_then(|i| bytes.get(i)).is_some_and(u8::is_ascii_alphabetic);
        Some((off + skip_to + blank, off + bytes.len(), joined))
    }

    /// Whether a message that is not its line's tail holds no state word:
    /// `Some(false)` when the line, which lies in the reader's buffer, has
    /// no mark and the message holds only what the line holds. That is so
    /// for a message made of the line's two ends (the time cut out of the
    /// middle, as in an access log's `… - - [26/Dec/2025:…] "GET …`) where
    /// no word can lie across the join, and for one built of the line's
    /// pieces (JSON, logfmt) the layout vouches for ([`layout::Stamp::of_line`]).
    /// `None`: the message itself is asked.
    fn line_state(&self, bytes: &[u8], s: &layout::Stamp) -> Option<bool> {
        if !self.state_marked {
            return None;
        }
        let only_the_lines = match &s.message {
            Message::Cut { skip_from: 0, .. } => false,
            Message::Cut { skip_from, skip_to } => {
                match (bytes.get(..*skip_from)?.last(), bytes.get(*skip_to..)?.first()) {
                    (Some(a), Some(b)) => !reconstruct_core::classify::may_join(*a, *b),
                    _ => true,
                }
            }
            Message::Built(_) => s.of_line,
        };
        let (base, len) = self.chunk?;
        let off = (bytes.as_ptr() as usize).checked_sub(base)?;
        let end = off.checked_add(bytes.len())?;
        (only_the_lines && end <= len && !self.marks.any_in(off, end)).then_some(false)
    }

    fn continuation(&mut self, number: u64, bytes: &[u8]) {
        let Some(p) = self.pending.as_mut() else {
            // A blank line before the first dated one is nothing lost.
            if bytes.trim_ascii().is_empty() {
                return;
            }
            if self.unattached == 0 {
                self.first_unattached = number;
            }
            self.unattached += 1;
            return;
        };
        if !p.in_window {
            return;
        }
        if p.ascii {
            let ascii = self.ascii_in_chunk(bytes);
            if let Some(p) = self.pending.as_mut() {
                p.ascii = ascii;
            }
        }
        let Some(p) = self.pending.as_mut() else { return };
        p.extra_lines = p.extra_lines.saturating_add(1);
        if p.extra.len() < EXCERPT_MAX {
            p.extra.push(b'\n');
            let room = EXCERPT_MAX.saturating_sub(p.extra.len());
            p.extra.extend_from_slice(bytes.get(..bytes.len().min(room)).unwrap_or_default());
        }
        // A traceback or panic under a line raises that line's severity.
        let t = bytes.get(bytes.iter().take_while(|c| c.is_ascii_whitespace()).count()..).unwrap_or_default();
        let raised = if t.starts_with(b"panic:") || t.starts_with(b"fatal error:") {
            Some(Severity::Critical)
        } else if t.starts_with(b"Traceback (most recent call last)") || t.starts_with(b"Exception in thread") {
            Some(Severity::Error)
        } else {
            None
        };
        if raised > p.severity {
            p.severity = raised;
        }
    }

    /// Lets go of what belongs to the reader's buffer (the searches run over
    /// it, the scratch space) and of the name cache, before the read is
    /// parked: the next reader's buffer may lie at the same address.
    fn park(&mut self) {
        self.chunk = None;
        self.marks = Default::default();
        self.cue_marks = Default::default();
        self.state_marked = false;
        self.cue_marked = false;
        self.chunk_ascii = false;
        self.ascii_generation = None;
        self.chunk_escapes = true;
        self.escape_generation = None;
        self.scratch = Vec::new();
        self.names = Names::default();
    }

    fn flush(&mut self, sink: &mut dyn EventSink) -> Result<(), Stopped> {
        let Some(p) = self.pending.as_mut() else { return Ok(()) };
        if !p.in_window {
            return Ok(());
        }
        p.in_window = false; // flushed once
        if self.lent.left == 0 {
            self.lent = Lent::of(&self.cfg);
            self.names = Names::default();
        }
        self.lent.left -= 1;
        let msg: &[u8] = match &p.message {
            Message::Cut { skip_from: 0, skip_to } => p.line.get(*skip_to..).unwrap_or_default(),
            Message::Cut { skip_from, skip_to } => {
                self.scratch.clear();
                self.scratch.extend_from_slice(p.line.get(..*skip_from).unwrap_or_default());
                self.scratch.extend_from_slice(p.line.get(*skip_to..).unwrap_or_default());
                &self.scratch
            }
            Message::Built(s) => s.as_bytes(),
        };
        let msg = trim(msg);
        // A package installed or upgraded is a change, whatever words its
        // name holds (`liberror-perl`); a stanza's label alone is nothing.
        // Most lines begin with a level word in capitals (`INFO …`): that
        // word alone then answers the three general checks ([`level_lead`]).
        let lead = if p.severity.is_none() { level_lead(msg) } else { None };
        let mut package = if p.severity.is_none() && lead.is_none() { crate::packages::change(msg) } else { None };
        let label = package.is_none() && lead.is_none() && crate::packages::is_stanza_label(msg);
        if label {
            // apt's history stanza: the changes are the lines under its label.
            package = crate::packages::merge(p.extra.split(|c| *c == b'\n').filter_map(crate::packages::change));
        }
        let idx = match p.basis {
            TimeBasis::Explicit => 0,
            TimeBasis::Epoch => 1,
            TimeBasis::AssumedZone => 2,
            TimeBasis::InferredYear => 3,
            TimeBasis::InferredDate => 4,
        };
        if let Some(n) = self.bases.get_mut(idx) {
            *n += 1;
        }
        // Before the window the findings want less: before the baseline a
        // line that cannot be a change is left unbuilt (its severity and
        // state never worked out), and in the baseline a routine line
        // without a cue word is only a beat of its service's pace.
        let want = match self.ctx.detail {
            Detail::Read(reach) if package.is_none() => {
                reach.wants(p.time, || p.cued.unwrap_or_else(|| reconstruct_core::cues::Cues::of_bytes(msg).any()))
            }
            _ => Want::Whole,
        };
        if want == Want::Nothing {
            // Unbuilt, but what the reader could not decode is still said.
            if std::str::from_utf8(&p.line).is_err() || std::str::from_utf8(&p.extra).is_err() {
                sink.diagnostic(Diagnostic {
                    locator: Some(Locator::Line { path: self.cfg.path.clone(), line: p.number }),
                    message: "invalid UTF-8: bytes shown as U+FFFD".to_string(),
                });
            }
            return Ok(());
        }
        let sev = if package.is_some() {
            Some(Severity::Notice)
        } else {
            p.severity.or(lead).or_else(|| severity::detect(msg))
        };
        let alarming = package.is_none() && sev.is_some_and(|s| s >= Severity::Warning);
        let state = !alarming && !label && want.asks_state(sev) && p.state.unwrap_or_else(|| is_state_change(msg));
        let kind = if package.is_some() {
            EventKind::Change
        } else if state {
            EventKind::StateChange
        } else {
            EventKind::Log
        };
        let notable = reconstruct_core::notable::of(kind, sev);
        if self.ctx.detail == Detail::Notable && !notable {
            sink.skip(p.time, p.extra_lines);
            return Ok(());
        }
        // A warning in the baseline is built whole: its message is counted.
        let whole = want == Want::Whole || notable;
        // For the table, a log line like one emitted before is folded into
        // it unbuilt (see `fold`); the first of its kind opens the fold.
        let mut opens = false;
        if self.ctx.detail == Detail::Notable
            && kind == EventKind::Log
            && package.is_none()
            && !label
            && self.folds.key(p.component.as_deref(), sev, msg, SUMMARY_MAX)
            && is_utf8(&p.line)
            && is_utf8(&p.extra)
        {
            if let Some((group, component)) = self.folds.group(p.time) {
                let locator = Locator::Line { path: self.lent.path.clone(), line: p.number };
                let event = Event {
                    time: p.time,
                    basis: p.basis,
                    collector: SourceKind::Logfile,
                    component: component.clone(),
                    kind,
                    severity: sev,
                    summary: String::new(),
                    evidence: Evidence { locator, excerpt: String::new() },
                    continuation_lines: p.extra_lines,
                    service: None,
                    fact: None,
                };
                self.paces.drain(&self.cfg.path, SourceKind::Logfile, sink)?;
                return sink.fold(event, group);
            }
            opens = self.folds.open();
        }
        let (component, cut): (&Arc<str>, Cut) = if let Some(c) = p.component.take() {
            (self.names.get(&c), Cut::Whole)
        } else if let Some(c) = self.names.bracketed(msg) {
            (c, Cut::Bracket)
        } else if let Some((c, rest)) = pipe_component(msg) {
            (self.names.get(c), Cut::Pipe(rest))
        } else {
            (&self.lent.component, Cut::Whole)
        };
        // The excerpt is the record as written: its line is checked as
        // UTF-8 once, for it and for the summary cut from it.
        let excerpt_built = !matches!(self.ctx.detail, Detail::Read(_)) || notable;
        let line_text = if excerpt_built { std::str::from_utf8(&p.line).ok() } else { None };
        let mut summary = match (whole, line_text.and_then(|t| within(t, &p.line, msg))) {
            (true, Some(m)) => reconstruct_core::text::clean_text(m, SUMMARY_MAX),
            (true, None) => clean(msg, SUMMARY_MAX),
            (false, _) => Clean::default(),
        };
        if let Some(p) = &package {
            summary.text = clean(p.summary().as_bytes(), SUMMARY_MAX).text;
        }
        match cut {
            // The component has its own column: `ERROR [api] boom` reads `ERROR boom`.
            Cut::Bracket if whole => drop_bracket(&mut summary.text, component),
            // `|Step_LSC|30002312|onStandStepChanged`: a pipe-delimited layout's first field.
            Cut::Pipe(rest) if whole => summary = clean(rest, SUMMARY_MAX),
            _ => {}
        }
        // A routine line read for the findings alone is never printed: its
        // excerpt is not built (whether its bytes were UTF-8 is still said).
        let (excerpt, invalid_utf8) = if !excerpt_built {
            (String::new(), !p.ascii && (!is_utf8(&p.line) || !is_utf8(&p.extra)))
        } else if let (Some(t), true) = (line_text, p.extra.is_empty()) {
            (reconstruct_core::text::clean_lines_text(t, EXCERPT_MAX).text, false)
        } else {
            let mut raw = Vec::with_capacity(p.line.len().saturating_add(p.extra.len()));
            raw.extend_from_slice(&p.line);
            raw.extend_from_slice(&p.extra);
            let excerpt = reconstruct_core::text::clean_lines(&raw, EXCERPT_MAX);
            (excerpt.text, excerpt.invalid_utf8)
        };
        if invalid_utf8 {
            sink.diagnostic(Diagnostic {
                locator: Some(Locator::Line { path: self.cfg.path.clone(), line: p.number }),
                message: "invalid UTF-8: bytes shown as U+FFFD".to_string(),
            });
        }
        if !whole && package.is_none() {
            // A beat of its component's pace: its time and line alone.
            if self.paces.push(component, p.time, p.number) {
                self.paces.drain(&self.cfg.path, SourceKind::Logfile, sink)?;
            }
            return Ok(());
        }
        let locator = Locator::Line { path: self.lent.path.clone(), line: p.number };
        // The beats held came first.
        self.paces.drain(&self.cfg.path, SourceKind::Logfile, sink)?;
        let event = Event {
            time: p.time,
            basis: p.basis,
            collector: SourceKind::Logfile,
            component: component.clone(),
            kind,
            severity: sev,
            summary: summary.text,
            evidence: Evidence { locator, excerpt },
            continuation_lines: p.extra_lines,
            service: None,
            fact: package.map(|c| Box::new(c.fact())),
        };
        if opens {
            self.folds.opened(sink.fold_group(&event), event.time, &event.component);
        }
        sink.emit(event)
    }
}

/// How a line's summary is cut from its message.
#[derive(Clone, Copy)]
enum Cut<'m> {
    /// The message whole.
    Whole,
    /// Without the bracketed component after its level word.
    Bracket,
    /// The rest after a pipe-delimited layout's first field.
    Pipe(&'m [u8]),
}

/// The severity of a message (trimmed) whose first word is a level written
/// in capitals (`INFO …`, `DEBUG: …`, `ERROR [api] …`), when that word
/// alone answers what [`severity::detect`], [`crate::packages::change`]
/// and [`crate::packages::is_stanza_label`] would: detect reads that word
/// first; a package manager's change begins with its action word, and no
/// level word is one (nor is a word joined to what follows it); a stanza
/// label ends with a colon. `None`: the general checks decide.
fn level_lead(msg: &[u8]) -> Option<Severity> {
    let n = capitals(msg).min(14);
    // The word ends where its capitals end: a letter or `_` would join it.
    let joined = msg.get(n).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
    if joined || msg.last() == Some(&b':') {
        return None;
    }
    severity::from_word(msg.get(..n)?)
}

/// How many ASCII capitals `msg` begins with, up to 16: asked of every
/// line, and told by a few operations on two 8-byte numbers where the
/// message holds 16 bytes (a byte at a time, each a branch, cost more).
fn capitals(msg: &[u8]) -> usize {
    let Some(head) = msg.get(..16) else {
        return msg.iter().take(16).take_while(|c| c.is_ascii_uppercase()).count();
    };
    let (a, b) = head.split_at(8);
    let word = |c: &[u8]| u64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or_default());
    // The high bit of each byte that is `A`..=`Z`: its low seven bits are
    // at least `A` and below `[`, and its own high bit is clear (sums of
    // seven-bit values never carry into the next byte).
    let upper = |x: u64| {
        let low = x & 0x7f7f_7f7f_7f7f_7f7f;
        let at_least_a = low.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
        let past_z = low.wrapping_add(0x2525_2525_2525_2525);
        at_least_a & !past_z & !x & 0x8080_8080_8080_8080
    };
    let run = |x: u64| ((!upper(x) & 0x8080_8080_8080_8080).trailing_zeros() / 8) as usize;
    match run(word(a)) {
        8 => 8 + run(word(b)),
        n => n,
    }
}

/// Whether bytes are UTF-8: most lines are ASCII, which is told faster.
fn is_utf8(b: &[u8]) -> bool {
    b.is_ascii() || std::str::from_utf8(b).is_ok()
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS.get(unit).copied().unwrap_or("TiB"))
}

/// `ERROR   [api] boom` → `ERROR boom`, in place (most summaries are
/// shortened, and a new string for each cost an allocation a line).
fn drop_bracket(text: &mut String, name: &str) {
    // The first `[name]` in the text, found without building the tag.
    let found = memchr::memchr_iter(b'[', text.as_bytes()).find(|&i| {
        text.get(i + 1..).is_some_and(|r| r.starts_with(name) && r.as_bytes().get(name.len()) == Some(&b']'))
    });
    let Some(i) = found else { return };
    // The level before the tag and the rest after it, joined by one blank.
    let level_end = text.get(..i).unwrap_or_default().trim_end().len();
    let after = i.saturating_add(name.len()).saturating_add(2).min(text.len());
    let rest = text.get(after..).unwrap_or_default();
    let rest_start = after.saturating_add(rest.len().saturating_sub(rest.trim_start().len()));
    if level_end > rest_start || !text.is_char_boundary(level_end) || !text.is_char_boundary(rest_start) {
        return;
    }
    text.replace_range(level_end..rest_start, " ");
    let end = text.trim_end().len();
    text.truncate(end);
    let start = text.len().saturating_sub(text.trim_start().len());
    text.drain(..start);
}

/// `part` as text, where it lies in `whole`, whose text is `text`.
fn within<'t>(text: &'t str, whole: &[u8], part: &[u8]) -> Option<&'t str> {
    let from = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    text.get(from..from.checked_add(part.len())?)
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let e = b.iter().rev().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(s..b.len().saturating_sub(e).max(s)).unwrap_or_default()
}

/// `|Step_LSC|30002312|onStandStepChanged 3579` → `Step_LSC` and the rest: the
/// first field of a pipe-delimited layout (HealthApp's), right after the time.
fn pipe_component(msg: &[u8]) -> Option<(&str, &[u8])> {
    let rest = msg.strip_prefix(b"|")?;
    let close = memchr::memchr(b'|', rest.get(..rest.len().min(64))?)?;
    let name = rest.get(..close)?;
    let ok = name.first().is_some_and(u8::is_ascii_alphabetic)
        && name.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'/' | b':'));
    let name = std::str::from_utf8(name).ok().filter(|_| ok)?;
    Some((name, rest.get(close + 1..).unwrap_or_default()))
}

/// `ERROR [backend.api] …` → `backend.api`: a bracketed name right after the
/// level word (Python's `%(levelname)s [%(name)s]`, many others). A bracket
/// elsewhere is more often a thread, a pid or a client address. Also where
/// its closing bracket ends in `msg`.
fn bracket_component(msg: &[u8]) -> Option<(&str, usize)> {
    let word_len = msg.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    severity::from_word(msg.get(..word_len)?)?;
    let rest = msg.get(word_len..)?;
    let rest = rest.get(rest.iter().take_while(|c| matches!(c, b' ' | b':')).count()..)?;
    if rest.first() != Some(&b'[') {
        return None;
    }
    let close = memchr::memchr(b']', rest.get(..rest.len().min(80))?)?;
    let name = rest.get(1..close)?;
    let ok = name.first().is_some_and(u8::is_ascii_alphabetic)
        && name.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'/' | b':'));
    let end = msg.len().saturating_sub(rest.len()).saturating_add(close).saturating_add(1);
    if ok {
        std::str::from_utf8(name).ok().map(|n| (n, end))
    } else {
        None
    }
}

/// Component names met so far, each built once: a busy log names the same
/// few components on every line.
#[derive(Default)]
struct Names {
    known: rustc_hash::FxHashMap<Box<str>, Arc<str>>,
    /// The names asked last: a busy log's lines take turns among a few.
    recent: Vec<Arc<str>>,
    /// Where in `recent` the next new name goes.
    turn: usize,
    /// An empty name, lent where no name is (never: see `get`).
    none: Arc<str>,
    /// The last message's `LEVEL [name]` up to its bracket, and the place
    /// of its name in `recent`: a message that starts with the same bytes
    /// names the same. A place, not a counted name: a busy log's lines
    /// take turns between components, and each turn would count one name
    /// up and another down (two locked operations a line).
    bracket: Option<(Vec<u8>, usize)>,
}

/// Distinct names kept; past it a name is built for its line alone.
const NAMES_MAX: usize = 4096;
/// Names asked last that are looked at before the map.
const RECENT: usize = 8;

impl Names {
    /// The component a message names in brackets after its level
    /// ([`bracket_component`]).
    fn bracketed(&mut self, msg: &[u8]) -> Option<&Arc<str>> {
        let same = self.bracket.as_ref().and_then(|(prefix, at)| msg.starts_with(prefix).then_some(*at));
        let at = match same {
            Some(at) => at,
            None => {
                let (name, end) = bracket_component(msg)?;
                let at = self.place(name);
                let prefix = msg.get(..end).unwrap_or_default();
                // Lines of a busy log take turns between components: the
                // prefix's room is kept, not given back at every turn.
                match &mut self.bracket {
                    Some((p, n)) => {
                        p.clear();
                        p.extend_from_slice(prefix);
                        *n = at;
                    }
                    None => self.bracket = Some((prefix.to_vec(), at)),
                }
                at
            }
        };
        self.recent.get(at)
    }

    /// The name built once, lent: a line that is only a beat of its
    /// component's pace takes no count on it.
    fn get(&mut self, name: &str) -> &Arc<str> {
        let at = self.place(name);
        // `at` is a place just found or filled.
        self.recent.get(at).unwrap_or(&self.none)
    }

    /// Where in `recent` the name is, built once and put there if new.
    fn place(&mut self, name: &str) -> usize {
        if let Some(i) = self.recent.iter().position(|r| &**r == name) {
            return i;
        }
        let a = match self.known.get(name) {
            Some(a) => a.clone(),
            None => {
                let a: Arc<str> = Arc::from(name);
                if self.known.len() < NAMES_MAX {
                    self.known.insert(Box::from(name), a.clone());
                }
                a
            }
        };
        if self.recent.len() < RECENT {
            self.recent.push(a);
            return self.recent.len() - 1;
        }
        let i = self.turn % RECENT;
        self.turn = i + 1;
        if let Some(slot) = self.recent.get_mut(i) {
            *slot = a;
        }
        // The memo's name was in this place: it names another now.
        if self.bracket.as_ref().is_some_and(|(_, at)| *at == i) {
            self.bracket = None;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::{TimeWindow, VecSink};

    fn window() -> TimeWindow {
        let t = |s: &str| reconstruct_core::window::parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
        TimeWindow::new(t("2025-12-26T14:00:00Z"), t("2025-12-26T15:00:00Z")).unwrap()
    }

    fn run(input: &[u8], detail: Detail) -> Result<VecSink, CollectError> {
        let cfg = ScanConfig {
            path: "logs/app.log".into(),
            component: "app".into(),
            zone: Zone::Utc,
            locate: None,
            codec: None,
            found: false,
        };
        let ctx = CollectContext { window: window(), detail, anchor: None };
        let mut out = VecSink::default();
        scan(input, &cfg, &ctx, &mut out)?;
        Ok(out)
    }

    #[test]
    fn minutes_and_seconds_alone_take_the_windows_hour_and_turn_it() {
        let out = run(b"58:59.100 [TCF] a\n59:59.900 [TCF] b\n00:00.000 [TCF] error: the hour turned\n", Detail::All)
            .unwrap();
        let times: Vec<String> = out.events.iter().map(|e| e.time.rfc3339()).collect();
        assert_eq!(times, ["2025-12-26T14:58:59.100Z", "2025-12-26T14:59:59.900Z", "2025-12-26T15:00:00Z"]);
        // A longer clock's tail is not taken for minutes and seconds.
        let out = run(b"4242 14:30:15.000001 openat() = 3\n4243 14:30:16.000002 read() = 1\n", Detail::All).unwrap();
        assert_eq!(out.events[0].time.rfc3339(), "2025-12-26T14:30:15.000001Z");
    }

    #[test]
    fn a_pipe_delimited_layout_names_its_component() {
        let out = run(
            b"20251226-14:30:15:123|Step_LSC|30002312|onStandStepChanged 3579\n20251226-14:30:16:5|Step_SPUtils|30002312|error in getTodayTotalDetailSteps\n",
            Detail::All,
        )
        .unwrap();
        assert_eq!(out.events.len(), 2, "{:?}", out.diagnostics);
        assert_eq!(&*out.events[0].component, "Step_LSC");
        assert_eq!(out.events[0].summary, "30002312|onStandStepChanged 3579");
        assert_eq!(&*out.events[1].component, "Step_SPUtils");
        assert_eq!(out.events[1].time.rfc3339(), "2025-12-26T14:30:16.005Z", "an unpadded millisecond field");
    }

    #[test]
    fn the_bracketed_name_is_taken_out_of_the_summary() {
        let cases = [
            ("ERROR   [api] boom", "api", "ERROR boom"),
            ("ERROR [api]boom", "api", "ERROR boom"),
            ("[api] boom ", "api", "boom"),
            ("WARN [api]", "api", "WARN"),
            ("WARN [ap] x [api] y", "api", "WARN [ap] x y"),
            ("INFO [apix] y", "api", "INFO [apix] y"),
            ("INFO\u{3000}[api]\u{3000}é", "api", "INFO é"),
            ("no tag", "api", "no tag"),
        ];
        for (text, name, want) in cases {
            let mut t = text.to_string();
            drop_bracket(&mut t, name);
            assert_eq!(t, want, "{text:?}");
        }
    }

    #[test]
    fn blank_lines_before_the_first_date_are_no_problem() {
        let out = run(b"\n\n2025-12-26 14:30:15 ERROR boom\n", Detail::All).unwrap();
        assert_eq!(out.events.len(), 1);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let out = run(b"banner\n2025-12-26 14:30:15 ERROR boom\n", Detail::All).unwrap();
        assert_eq!(out.diagnostics.len(), 1, "a real undated line is still said");
    }

    #[test]
    fn continuation_lines_join_their_event() {
        let input = b"2025-12-26 14:30:15 ERROR [backend.api] boom\nTraceback (most recent call last):\n  File \"x.py\", line 1\nValueError: bad\n2025-12-26 14:30:16 INFO ok\n";
        let out = run(input, Detail::All).unwrap();
        assert_eq!(out.events.len(), 2);
        let e = &out.events[0];
        assert_eq!(e.continuation_lines, 3);
        assert_eq!(&*e.component, "backend.api");
        assert_eq!(e.summary, "ERROR boom");
        assert_eq!(e.severity, Some(Severity::Error));
        assert_eq!(e.evidence.locator.to_string(), "logs/app.log:1");
        assert!(e.evidence.excerpt.contains("ValueError: bad"));
        assert_eq!(out.events[1].evidence.locator.to_string(), "logs/app.log:5");
        assert_eq!(&*out.events[1].component, "app");
    }

    /// Hands out what it holds a few bytes at a time: the reader's buffer
    /// is refilled between nearly any two lines.
    struct Trickle<'a> {
        rest: &'a [u8],
        turn: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            self.turn += 1;
            let n = (self.turn * 7919 % 61 + 1).min(out.len()).min(self.rest.len());
            let (now, later) = self.rest.split_at(n);
            out[..n].copy_from_slice(now);
            self.rest = later;
            Ok(n)
        }
    }

    #[test]
    fn a_log_read_in_drips_gives_each_record_as_written() {
        // Records one line or with continuation lines, short and over 4 KiB,
        // with colour codes, CRLF; read in drips and whole.
        let mut input = Vec::new();
        let mut want = Vec::new();
        for i in 0..3000usize {
            let pad = "p".repeat(match i % 41 {
                0 => 4096 + i % 9,
                _ => i * 37 % 150,
            });
            let colour = if i % 17 == 0 { "\x1b[31m" } else { "" };
            let head = format!(
                "2025-12-26 14:{:02}:{:02} ERROR [svc{}] {colour}request {i} {pad}",
                i / 60 % 60,
                i % 60,
                i % 4
            );
            let eol = if i % 5 == 0 { "\r\n" } else { "\n" };
            input.extend_from_slice(head.as_bytes());
            input.extend_from_slice(eol.as_bytes());
            let mut raw = head.replace("\x1b[31m", "").into_bytes();
            for k in 0..i % 3 {
                let more = format!("  at frame {k} of {i}");
                input.extend_from_slice(more.as_bytes());
                input.extend_from_slice(eol.as_bytes());
                raw.push(b'\n');
                raw.extend_from_slice(more.as_bytes());
            }
            let mut summary = clean(format!("ERROR [svc{}] request {i} {pad}", i % 4).as_bytes(), SUMMARY_MAX).text;
            drop_bracket(&mut summary, &format!("svc{}", i % 4));
            want.push((reconstruct_core::text::clean_lines(&raw, EXCERPT_MAX).text, summary));
        }
        let cfg = ScanConfig {
            path: "logs/app.log".into(),
            component: "app".into(),
            zone: Zone::Utc,
            locate: None,
            codec: None,
            found: false,
        };
        let ctx = CollectContext { window: window(), detail: Detail::All, anchor: None };
        let mut drip = VecSink::default();
        scan(Trickle { rest: &input, turn: 0 }, &cfg, &ctx, &mut drip).unwrap();
        let mut whole = VecSink::default();
        scan(&input[..], &cfg, &ctx, &mut whole).unwrap();
        for out in [&drip, &whole] {
            assert_eq!(out.events.len(), want.len());
            for (e, (excerpt, summary)) in out.events.iter().zip(&want) {
                assert_eq!(&e.evidence.excerpt, excerpt);
                assert_eq!(summary, &e.summary);
            }
        }
        assert_eq!(drip.events, whole.events);
    }

    #[test]
    fn a_cut_of_a_line_is_its_text_and_another_buffer_is_not() {
        let line = b"2025-12-26 14:30:15 ERROR caf\xc3\xa9 down".to_vec();
        let text = std::str::from_utf8(&line).unwrap();
        assert_eq!(within(text, &line, &line[20..]), Some("ERROR café down"));
        assert_eq!(within(text, &line, &line[..0]), Some(""));
        // Not on a character's boundary: not text.
        assert_eq!(within(text, &line, &line[20..30]), None);
        let other = line.clone();
        assert_eq!(within(text, &line, &other[20..]), None);
    }

    #[test]
    fn traceback_under_info_raises_severity() {
        let input = b"2025-12-26 14:30:15 worker loop\nTraceback (most recent call last):\n  x\n";
        let out = run(input, Detail::Notable).unwrap();
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].severity, Some(Severity::Error));
    }

    #[test]
    fn notable_mode_counts_what_it_does_not_build() {
        let input = b"2025-12-26 14:30:15 INFO a\n  more\n2025-12-26 14:30:16 WARN b\n2025-12-26 14:30:17 INFO Application startup complete\n";
        let out = run(input, Detail::Notable).unwrap();
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[1].kind, EventKind::StateChange);
        assert_eq!((out.skipped, out.skipped_lines), (1, 1));
    }

    #[test]
    fn events_far_apart_share_no_count_on_their_names() {
        let mut input = Vec::new();
        for i in 0..3000 {
            input.extend_from_slice(format!("2025-12-26 14:30:{:02} ERROR [api] boom {i}\n", i % 60).as_bytes());
            input.extend_from_slice(format!("2025-12-26 14:31:{:02} ERROR boom {i}\n", i % 60).as_bytes());
        }
        let out = run(&input, Detail::All).unwrap();
        assert_eq!(out.events.len(), 6000);
        let path = |e: &Event| match &e.evidence.locator {
            Locator::Line { path, .. } => path.clone(),
            Locator::Text(_) => panic!("a line's locator"),
        };
        let (first, last) = (&out.events[0], &out.events[5999]);
        assert_eq!(path(first), path(last));
        assert!(!Arc::ptr_eq(&path(first), &path(last)), "the file's name is made anew");
        assert_eq!((&*out.events[0].component, &*out.events[5998].component), ("api", "api"));
        assert!(!Arc::ptr_eq(&out.events[0].component, &out.events[5998].component), "so is a component's");
        assert_eq!((&*out.events[1].component, &*out.events[5999].component), ("app", "app"));
        assert!(!Arc::ptr_eq(&out.events[1].component, &out.events[5999].component), "and the file's own");
    }

    #[test]
    fn the_bracket_memo_names_what_a_fresh_lookup_names() {
        // More names than the recent places, asked by brackets and
        // directly in turn: a place the memo points at is reused for
        // another name, and the memo must not name that one.
        let mut names = Names::default();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = format!("c{}", x % 13);
            let level = ["ERROR", "WARN", "INFO"][(x >> 8) as usize % 3];
            if (x >> 16) % 3 == 0 {
                assert_eq!(&**names.get(&n), n);
            } else {
                let msg = format!("{level} [{n}] text {}", x >> 40);
                let got = names.bracketed(msg.as_bytes()).map(|a| a.to_string());
                assert_eq!(got.as_deref(), Some(n.as_str()), "{msg}");
            }
        }
        assert!(names.bracketed(b"ERROR no bracket").is_none());
    }

    #[test]
    fn a_message_with_its_time_cut_from_the_middle_is_asked_for_state_words_as_written() {
        // An access log: the message is the line's two ends. Words before
        // the time, after it, in any case, and a line that has a state word
        // only in its time's place (`[…]` is cut out, not the word).
        let mut input = Vec::new();
        for i in 0..200 {
            input.extend_from_slice(
                format!("10.0.0.{} - - [26/Dec/2025:14:30:{:02} +0000] \"GET /a HTTP/1.1\" 200 5\n", i % 9, i % 60)
                    .as_bytes(),
            );
        }
        let lines = [
            "restarted - - [26/Dec/2025:14:40:00 +0000] \"GET /a HTTP/1.1\" 200 5",
            "10.0.0.1 - - [26/Dec/2025:14:40:01 +0000] \"POST /Deploying HTTP/1.1\" 200 5",
            "10.0.0.1 - - [26/Dec/2025:14:40:02 +0000] \"GET /a HTTP/1.1\" 200 5 \"Shutting Down\"",
            "10.0.0.1 - - [26/Dec/2025:14:40:03 +0000] \"GET /killed-not HTTP/1.1\" 200 5",
            "10.0.0.1 - - [26/Dec/2025:14:40:04 +0000] \"GET /b HTTP/1.1\" 200 5",
        ];
        for l in lines {
            input.extend_from_slice(l.as_bytes());
            input.push(b'\n');
        }
        let out = run(&input, Detail::Notable).unwrap();
        let got: Vec<u64> = out
            .events
            .iter()
            .filter(|e| e.kind == EventKind::StateChange)
            .filter_map(|e| match &e.evidence.locator {
                Locator::Line { line, .. } => Some(*line),
                Locator::Text(_) => None,
            })
            .collect();
        assert_eq!(got, [201, 202, 203, 204]);
    }

    /// The lines of `input` read as state changes for the table.
    fn state_lines(input: &[u8]) -> Vec<u64> {
        let out = run(input, Detail::Notable).unwrap();
        out.events
            .iter()
            .filter(|e| e.kind == EventKind::StateChange)
            .filter_map(|e| match &e.evidence.locator {
                Locator::Line { line, .. } => Some(*line),
                Locator::Text(_) => None,
            })
            .collect()
    }

    #[test]
    fn a_message_built_of_its_lines_members_is_asked_for_state_words_as_written() {
        // JSON and logfmt: a word in the message, one made by undoing an
        // escape, one across the blank put between the level and the
        // message or between members, and lines with none.
        let json = [
            r#"{"ts":"2025-12-26T14:40:00.100Z","level":"info","msg":"worker Restarted"}"#,
            r#"{"ts":"2025-12-26T14:40:01.100Z","level":"info","msg":"worker \u0073tarted"}"#,
            r#"{"ts":"2025-12-26T14:40:02.100Z","level":"shutting","msg":"down now"}"#,
            r#"{"ts":"2025-12-26T14:40:03.100Z","level":"info","msg":"GET /b 200"}"#,
            r#"{"ts":"2025-12-26T14:40:04.100Z","level":"info","msg":"all good","note":"rolled back"}"#,
        ];
        let logfmt = [
            r#"time=2025-12-26T14:40:00.100Z level=info msg="worker Restarted""#,
            r#"time=2025-12-26T14:40:01.100Z level=info msg="shutting" down=1"#,
            r#"time=2025-12-26T14:40:02.100Z level=info msg="GET /b 200" took=3ms"#,
            r#"time=2025-12-26T14:40:03.100Z level=shutting msg="down now""#,
        ];
        for (lines, routine, want) in [
            (&json[..], r#"{"ts":"2025-12-26T14:30:15.029Z","level":"info","msg":"GET /a 200"}"#, vec![201, 202, 203]),
            (&logfmt[..], r#"time=2025-12-26T14:30:15.029Z level=info msg="GET /a 200""#, vec![201, 202, 204]),
        ] {
            let mut input = Vec::new();
            for _ in 0..200 {
                input.extend_from_slice(routine.as_bytes());
                input.push(b'\n');
            }
            for l in lines {
                input.extend_from_slice(l.as_bytes());
                input.push(b'\n');
            }
            assert_eq!(state_lines(&input), want, "{routine}");
        }
    }

    #[test]
    fn state_words_past_the_sample_are_found_by_the_buffer_search() {
        let mut input = Vec::new();
        for i in 0..200 {
            input.extend_from_slice(format!("2025-12-26 14:30:{:02} INFO request {i} ok\n", i % 60).as_bytes());
        }
        input.extend_from_slice(b"2025-12-26 14:40:00 INFO Application startup complete\n");
        input.extend_from_slice(b"2025-12-26 14:40:01 INFO \x1b[1mShutting down\x1b[0m worker\n");
        input.extend_from_slice(b"2025-12-26 14:40:02 INFO GET /health 200\n  continuation: restarting nothing\n");
        input.extend_from_slice(b"2025-12-26 14:40:03 INFO migration 42 applied\n");
        let out = run(&input, Detail::Notable).unwrap();
        let got: Vec<&str> = out.events.iter().map(|e| e.summary.as_str()).collect();
        assert_eq!(
            got,
            ["INFO Application startup complete", "INFO Shutting down worker", "INFO migration 42 applied"]
        );
    }

    #[test]
    fn crlf_ansi_nul_and_invalid_utf8() {
        let input = b"2025-12-26 14:30:15 ERROR a\x00b\r\n\x1b[31m2025-12-26 14:30:16\x1b[0m ERROR caf\xe9\r\n";
        let out = run(input, Detail::All).unwrap();
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[0].summary, "ERROR a\u{FFFD}b");
        assert_eq!(out.events[1].summary, "ERROR caf\u{FFFD}");
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].locator.as_ref().map(|l| l.to_string()), Some("logs/app.log:2".into()));
    }

    #[test]
    fn read_for_the_findings_a_routine_line_has_no_excerpt_and_an_error_keeps_its_own() {
        let input = b"2025-12-26 14:30:15 INFO GET /health 200 caf\xe9\n2025-12-26 14:30:16 ERROR boom\n  at x\n";
        let out = run(input, Detail::Read(reconstruct_core::Reach::WHOLE)).unwrap();
        assert_eq!(out.events.len(), 2, "every event is built");
        assert_eq!(out.events[0].summary, "INFO GET /health 200 caf\u{FFFD}");
        assert_eq!(out.events[0].evidence.excerpt, "", "a routine line is never printed");
        assert_eq!(out.events[1].evidence.excerpt, "2025-12-26 14:30:16 ERROR boom\n  at x");
        assert_eq!(out.diagnostics.len(), 1, "invalid UTF-8 is still said");
        let all = run(input, Detail::All).unwrap();
        assert_eq!(all.events[0].evidence.excerpt, "2025-12-26 14:30:15 INFO GET /health 200 caf\u{FFFD}");
        assert_eq!(all.diagnostics.len(), 1);
    }

    #[test]
    fn before_the_window_the_findings_get_changes_then_pace_then_every_line() {
        // The window begins at 14:30 here; the baseline at 14:20; before it, the lookback.
        let t = |s: &str| reconstruct_core::window::parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
        let reach = reconstruct_core::Reach {
            changes_only_before: t("2025-12-26T14:20:00Z"),
            paced_before: t("2025-12-26T14:30:00Z"),
        };
        let input = b"2025-12-26 14:10:00 INFO [api] GET /v1/items 200 3ms\n\
2025-12-26 14:10:01 ERROR [api] upstream timed out\n\
2025-12-26 14:10:02 INFO [api] starting api 2.14.0\n\
2025-12-26 14:10:03 INFO [api] caf\xe9 served\n\
2025-12-26 14:20:00 INFO [api] GET /v1/items 200 4ms\n\
2025-12-26 14:20:01 ERROR [api] upstream timed out\n\
2025-12-26 14:20:02 INFO [api] listening on :8000\n\
2025-12-26 14:20:03 INFO [api] worker stopped\n\
2025-12-26 14:30:00 INFO [api] GET /v1/items 200 5ms\n";
        let out = run(input, Detail::Read(reach)).unwrap();
        let got: Vec<(u64, &str, &str)> = out
            .events
            .iter()
            .map(|e| match &e.evidence.locator {
                Locator::Line { line, .. } => (*line, &*e.component, e.summary.as_str()),
                _ => (0, "", ""),
            })
            .collect();
        assert_eq!(
            got,
            [
                // Before the baseline: only what may be a change.
                (3, "api", "INFO starting api 2.14.0"),
                // In the baseline: a routine line is a beat of its service's pace.
                (5, "api", ""),
                (6, "api", "ERROR upstream timed out"),
                (7, "api", "INFO listening on :8000"),
                // A state line without a cue word is a beat too: no
                // finding reads it before the window.
                (8, "api", ""),
                // In the window: every line whole.
                (9, "api", "INFO GET /v1/items 200 5ms"),
            ]
        );
        assert_eq!(out.diagnostics.len(), 1, "an unbuilt line's invalid UTF-8 is still said");
        assert_eq!(out.skipped, 0, "lines before the window are not counted as the window's");
        // Read whole, every line is built as before.
        assert_eq!(run(input, Detail::Read(reconstruct_core::Reach::WHOLE)).unwrap().events.len(), 9);
    }

    #[test]
    fn megabyte_line_and_out_of_window_lines() {
        let mut input = b"2025-12-26 13:59:59 ERROR before\n2025-12-26 14:30:15 ERROR ".to_vec();
        input.extend(std::iter::repeat_n(b'x', 1 << 20));
        input.extend_from_slice(b"\n2025-12-26 15:00:01 ERROR after\n  cont of after\n");
        let out = run(&input, Detail::All).unwrap();
        assert_eq!(out.events.len(), 1);
        assert!(out.events[0].summary.len() <= SUMMARY_MAX + 3);
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn empty_and_undated_files() {
        let out = run(b"", Detail::All).unwrap();
        assert!(out.events.is_empty());
        let err = run(b"hello\nworld\n", Detail::All).err().unwrap().to_string();
        assert!(err.contains("no timestamp found in the first 2 lines of logs/app.log"), "{err}");
    }

    #[test]
    fn lines_before_the_first_timestamp_are_reported() {
        let out = run(b"orphan\n2025-12-26 14:30:15 ERROR x\n", Detail::All).unwrap();
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].locator.as_ref().map(|l| l.to_string()), Some("logs/app.log:1".into()));
    }

    /// Capitals are counted eight bytes at a time as one at a time would.
    #[test]
    fn capitals_are_counted_as_byte_by_byte() {
        let alphabet = [b'A', b'Z', b'M', b'@', b'[', b'a', b'z', b' ', b'0', 0x80, 0xc1, 0xda, 0xff, 0x00, 0x7f];
        let mut seed: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let upto = ((seed >> 8) % 20) as usize;
            let msg: Vec<u8> = (0..len)
                .map(|i| {
                    if i < upto {
                        b'A' + ((seed >> (i % 40)) % 26) as u8
                    } else {
                        alphabet[((seed >> (i % 50)) % 15) as usize]
                    }
                })
                .collect();
            let want = msg.iter().take(16).take_while(|c| c.is_ascii_uppercase()).count();
            assert_eq!(capitals(&msg), want, "{msg:?}");
        }
    }

    #[test]
    fn a_level_lead_answers_as_the_general_checks_do() {
        let mut words: Vec<String> = Vec::new();
        for w in [
            "trace",
            "trc",
            "debug",
            "dbg",
            "verbose",
            "fine",
            "finer",
            "finest",
            "info",
            "inf",
            "information",
            "informational",
            "log",
            "notice",
            "note",
            "warn",
            "warning",
            "error",
            "err",
            "fatal",
            "panic",
            "install",
            "installed",
            "upgrade",
            "update",
            "remove",
            "purge",
            "subdebug",
            "infos",
            "x",
            "",
            "start-date",
        ] {
            let title =
                format!("{}{}", w.get(..1).unwrap_or_default().to_ascii_uppercase(), w.get(1..).unwrap_or_default());
            words.extend([w.to_string(), w.to_ascii_uppercase(), title]);
        }
        let joins = ["", " ", "  ", ":", ": ", "_", "[", "]", "-", "1", "\t", "x", "X", "("];
        let tails = [
            "",
            "x",
            "[api] GET /x 200",
            "installed foo 1.0 2.0",
            "upgrade libssl3:amd64 3.0.11-1 3.0.13-1",
            "Upgrade:",
            "(1.2)",
            "ERROR boom",
            "panic: boom",
            "\"GET / HTTP/1.1\" 503 1",
            "start-date:",
        ];
        let (mut calm, mut loud) = (0, 0);
        for w in &words {
            for j in joins {
                for t in tails {
                    let text = format!("{w}{j}{t}");
                    let msg = trim(text.as_bytes());
                    if let Some(s) = level_lead(msg) {
                        if s < Severity::Warning {
                            calm += 1;
                        } else {
                            loud += 1;
                        }
                        assert_eq!(severity::detect(msg), Some(s), "{text:?}");
                        assert!(crate::packages::change(msg).is_none(), "{text:?}");
                        assert!(!crate::packages::is_stanza_label(msg), "{text:?}");
                    }
                }
            }
        }
        assert!(calm > 500 && loud > 200, "{calm} {loud}");
        assert_eq!(level_lead(b"INFO  [api] GET /x 200 1ms"), Some(Severity::Info));
        assert_eq!(level_lead(b"DEBUG: x"), Some(Severity::Debug));
        assert_eq!(level_lead(b"ERROR [api] upstream timed out"), Some(Severity::Error));
        assert_eq!(level_lead(b"WARN x"), Some(Severity::Warning));
        for not in [&b"INFO:"[..], b"Info x", b"INFO_x", b"INFOx", b"INFORMATIONALS x", b"x INFO", b"ERROR:"] {
            assert_eq!(level_lead(not), None, "{:?}", String::from_utf8_lossy(not));
        }
    }

    #[test]
    fn a_line_in_another_layout_is_still_dated() {
        let input = b"2025-12-26 14:30:15 ERROR a\n2025-12-26 14:30:16 ERROR b\nDec 26 14:30:17 host ERROR c\n";
        let out = run(input, Detail::All).unwrap();
        assert_eq!(out.events.len(), 3);
        assert_eq!(out.events[2].time.hms(), "14:30:17");
    }
}
