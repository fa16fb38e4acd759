//! The collector interface: how a source hands its events to the runner.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::event::{Event, Locator, SourceKind, Timestamp};
use crate::window::TimeWindow;

/// Which source a stream came from, as the coverage section names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId {
    /// The kind of source.
    pub collector: SourceKind,
    /// What it read: a path, a repository, a URL (never with a password in it).
    pub name: String,
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.collector, self.name)
    }
}

/// How much the renderer needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Every event (`--all`).
    All,
    /// Only events that can become rows of the summary; the rest may be
    /// reported with [`EventSink::skip`] so they are counted, not built.
    Notable,
    /// Every event, the routine ones (those [`Detail::Notable`] skips) with
    /// an empty excerpt: the report's findings read them (a request served,
    /// a startup line), and nothing prints them. Before the window they
    /// want less of a routine event ([`Reach`]). A source that makes no
    /// difference builds them whole.
    Read(Reach),
}

/// What the findings want of the routine events read before the window
/// ([`Detail::Read`]): a day of lookback is most of what a report reads,
/// and almost none of it is a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reach {
    /// Before this (the baseline's start), an event matters only if it
    /// may be a change: a package, or a line holding a change cue word
    /// ([`crate::cues::Cues`]); the rest, warnings too, may be left
    /// unbuilt and uncounted (it is before the window: coverage never
    /// counts it).
    pub changes_only_before: Timestamp,
    /// Before this (the window's start), a routine event without a cue
    /// word counts toward its service's pace: its summary may be left empty.
    pub paced_before: Timestamp,
}

impl Reach {
    /// Every routine event wanted whole: nothing read before a window.
    pub const WHOLE: Reach = Reach { changes_only_before: Timestamp::MIN, paced_before: Timestamp::MIN };

    /// What is wanted of a line at `time` that is not plainly a change (a
    /// package), told whether it holds a cue word (asked only before the
    /// window). [`Want::Pace`] is for a routine line: a warning in the
    /// baseline is built whole, as its message is counted.
    pub fn wants(&self, time: Timestamp, cued: impl FnOnce() -> bool) -> Want {
        if time >= self.paced_before || cued() {
            Want::Whole
        } else if time >= self.changes_only_before {
            Want::Pace
        } else {
            Want::Nothing
        }
    }
}

/// What the findings want of one routine event ([`Reach::wants`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Built as the window's routine events are.
    Whole,
    /// Its time, its component and its evidence; an empty summary.
    Pace,
    /// Not built at all.
    Nothing,
}

impl Want {
    /// Whether a line's state words are asked. A line wanted for its pace
    /// is built whole when it warns or worse, and not for a state word: no
    /// finding reads a state line before the window that holds no cue word
    /// (the cue words make a line wanted whole), so the search for state
    /// words is spared over the baseline.
    pub fn asks_state(self, severity: Option<crate::Severity>) -> bool {
        self != Want::Pace || severity.is_some_and(|s| s >= crate::Severity::Warning)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct CollectContext {
    /// What to read: the window, and before it what the findings look back on.
    pub window: TimeWindow,
    pub detail: Detail,
    /// The window asked for, when the read reaches before it: a time of day
    /// without a date (an annotation, a log without dates) is placed by it.
    pub anchor: Option<TimeWindow>,
}

impl CollectContext {
    /// Where a time of day without a date is placed: the window asked for.
    pub fn anchor(&self) -> TimeWindow {
        self.anchor.unwrap_or(self.window)
    }
}

/// Something a collector could not read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub locator: Option<Locator>,
    pub message: String,
}

/// Returned by a sink that no longer wants events (the source timed out or
/// the output was closed); collectors stop when they see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stopped by the runner")
    }
}

impl std::error::Error for Stopped {}

pub trait EventSink {
    /// Hands over one event. Events should come in time order; small
    /// disorder is repaired by the runner.
    fn emit(&mut self, event: Event) -> Result<(), Stopped>;
    /// Counts an event that the summary would not show (only called when
    /// the detail is [`Detail::Notable`]); `extra_lines` are its continuation lines.
    fn skip(&mut self, time: Timestamp, extra_lines: u32);
    /// Reports something that could not be read.
    fn diagnostic(&mut self, d: Diagnostic);
    /// A fact for the coverage section ("12,345 lines, layout ISO 8601").
    fn note(&mut self, text: String);
    /// The source was left unread on purpose (a file found under a folder
    /// that is not a dated log): coverage says skipped, and why, not ok.
    fn skipped_whole(&mut self, why: String) {
        self.note(format!("skipped: {why}"));
    }
    /// The collector says whether, from here on, it asks [`EventSink::yield_asked`]
    /// at each point where it could stop and be resumed later
    /// ([`Collector::step`]). While it does, the sink never makes it wait
    /// for the merge: it asks it to yield instead, so a reader thread is
    /// not held by a source the merge has enough of.
    fn parkable(&mut self, _can: bool) {}
    /// Whether the merge has enough of this source for now: a collector
    /// that can stop here should ([`Collector::step`]).
    fn yield_asked(&self) -> bool {
        false
    }
    /// Opens a fold: events the collector would emit later that the table
    /// would fold into the row of `like` (an event it emits whole, now) may
    /// go to [`EventSink::fold`] under the number returned, unbuilt. Only
    /// asked when the detail is [`Detail::Notable`], and only for log lines
    /// (whose rows fold whatever their times) of one kind, component,
    /// severity and message shape. `None`: the sink takes every event whole.
    fn fold_group(&mut self, _like: &Event) -> Option<u32> {
        None
    }
    /// An event folded into the group `fold_group` opened: its text is not
    /// built (its summary and excerpt are empty), but it keeps its time,
    /// component and locator, so it takes its place in the source's order
    /// as the event would have and is counted with the group.
    fn fold(&mut self, _event: Event, _group: u32) -> Result<(), Stopped> {
        Ok(())
    }
}

/// What one collector may hold in memory to sort before it emits (sources
/// read one stream after another, such as a cluster's container logs). Past
/// it the collector stops reading more and says what it left unread.
pub const HELD_BUDGET: usize = 256 << 20;

/// A collector's failure, with its whole chain of causes.
pub type CollectError = Box<dyn std::error::Error + Send + Sync>;

/// Where a step of a collector ended ([`Collector::step`]).
pub enum Step {
    /// The source is read to its end.
    Done,
    /// It stopped where the sink asked it to yield; stepped again, it goes
    /// on from there. It holds what it needs to resume (an offset, its
    /// parser's state), not its open file or its buffers.
    Parked(Box<dyn Collector>),
}

/// One source of events.
pub trait Collector: Send {
    fn source(&self) -> SourceId;
    /// Reads the source and emits the events inside `ctx.window`.
    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError>;
    /// Reads on until the end, or until the sink asks it to yield
    /// ([`EventSink::yield_asked`]) where it can stop. A run over thousands
    /// of sources holds one parked reader and one batch per source, not
    /// every source's output. Most collectors read to the end.
    fn step(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<Step, CollectError> {
        self.collect(ctx, sink).map(|()| Step::Done)
    }
}

/// The future a network collector returns. It is polled on the run's one
/// async runtime thread, next to the other network sources, so it need not
/// be `Send`; it must never block that thread.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A source read over the network (an engine, a database, an HTTP API): it
/// spends its time waiting, so it runs as a task on the run's async runtime
/// instead of holding a reader thread, and it can be cancelled at its deadline.
pub trait NetworkCollector: Send {
    fn source(&self) -> SourceId;
    /// Reads the source and emits the events inside `ctx.window`. The sink
    /// never blocks for a network collector.
    fn collect<'a>(
        self: Box<Self>,
        ctx: &'a CollectContext,
        sink: &'a mut dyn EventSink,
    ) -> LocalFuture<'a, Result<(), CollectError>>;
}

/// A source, by how it must be run.
pub enum Source {
    /// Reads files or repositories: runs on a reader thread of the pool.
    Blocking(Box<dyn Collector>),
    /// Waits on the network: runs as a task on the async runtime.
    Network(Box<dyn NetworkCollector>),
}

impl Source {
    pub fn id(&self) -> SourceId {
        match self {
            Source::Blocking(c) => c.source(),
            Source::Network(c) => c.source(),
        }
    }
}

/// A runtime for network work outside the runner (capture, tests): one
/// thread, I/O and timers on.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// Runs one network collector to completion on a runtime of its own: for
/// tests and callers that want one source's events without the runner.
pub fn collect_now(
    c: Box<dyn NetworkCollector>,
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<(), CollectError> {
    runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?.block_on(c.collect(ctx, sink))
}

/// A sink that keeps everything it is handed, in memory: for tests, and for
/// callers that want one source's events without the runner.
#[derive(Debug, Default)]
pub struct VecSink {
    pub events: Vec<Event>,
    pub skipped: u64,
    pub skipped_lines: u64,
    pub diagnostics: Vec<Diagnostic>,
    pub notes: Vec<String>,
}

impl EventSink for VecSink {
    fn emit(&mut self, event: Event) -> Result<(), Stopped> {
        self.events.push(event);
        Ok(())
    }
    fn skip(&mut self, _time: Timestamp, extra_lines: u32) {
        self.skipped += 1;
        self.skipped_lines += u64::from(extra_lines);
    }
    fn diagnostic(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }
    fn note(&mut self, text: String) {
        self.notes.push(text);
    }
}
