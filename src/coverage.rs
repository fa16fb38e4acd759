//! Coverage as a type: what each source did (its status, its tallies, the
//! first and last of its events, its notes), and the one line each
//! renderer formats from it. Computed here once; markdown, the terminal,
//! HTML and JSON only format these fields, so they cannot disagree.

use std::time::Duration;

use reconstruct_core::text::count;
use reconstruct_core::{Diagnostic, SourceId, Timestamp};

/// What a source did, as far as the runner could see.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Events the summary did not need built (counted by the collector).
    pub skipped: u64,
    /// Continuation lines of skipped events.
    pub skipped_lines: u64,
    pub first_skipped: Option<Timestamp>,
    pub last_skipped: Option<Timestamp>,
    pub diagnostics: Vec<Diagnostic>,
    pub diagnostics_total: u64,
    pub notes: Vec<String>,
    /// Events more out of order than the reorder buffer could repair.
    pub late: u64,
    /// Left unread on purpose, and why (not a dated log).
    pub skipped_whole: Option<String>,
    /// Events folded by the collector into one it emitted whole
    /// ([`reconstruct_core::EventSink::fold`]), by the group it opened.
    pub folds: Vec<Folded>,
}

/// Events a collector folded into one it emitted whole: the event they are
/// like (its excerpt left out), and how many there were.
#[derive(Clone, Debug)]
pub struct Folded {
    pub like: reconstruct_core::Event,
    pub count: FoldCount,
}

/// How many events were folded, their continuation lines, and the first
/// and last of their times.
#[derive(Clone, Copy, Debug, Default)]
pub struct FoldCount {
    pub events: u64,
    pub lines: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

impl FoldCount {
    pub fn add(&mut self, time: Timestamp, lines: u32) {
        self.events = self.events.saturating_add(1);
        self.lines = self.lines.saturating_add(u64::from(lines));
        self.first = Some(self.first.map_or(time, |f| f.min(time)));
        self.last = Some(self.last.map_or(time, |l| l.max(time)));
    }

    pub fn absorb(&mut self, other: FoldCount) {
        self.events = self.events.saturating_add(other.events);
        self.lines = self.lines.saturating_add(other.lines);
        self.first = [self.first, other.first].into_iter().flatten().min();
        self.last = [self.last, other.last].into_iter().flatten().max();
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Complete,
    Failed(String),
    TimedOut(Duration),
}

/// One source's end state, for the coverage section.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub source: SourceId,
    pub status: Status,
    pub tally: Tally,
    pub events: u64,
    pub continuation_lines: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        self.status != Status::Complete
    }
}

/// A source whose collector could not even be built ("no file matches …").
pub struct Broken {
    pub source: SourceId,
    pub error: String,
}

/// What one source's line of the coverage section says, computed once for
/// every renderer: the status as a word and as text, the events (built or
/// only counted), the first and last of them, and the notes, the late events
/// and the problems counted among them.
pub struct CoverageLine<'a> {
    pub outcome: &'a Outcome,
    /// `ok`, `empty` (read, nothing in the window), `skipped` (left unread on
    /// purpose), `failed` or `timed_out`.
    pub word: &'static str,
    /// The word with its why: `skipped: binary data, not text`, `FAILED: …`.
    pub text: String,
    pub events: u64,
    pub first: Option<reconstruct_core::Timestamp>,
    pub last: Option<reconstruct_core::Timestamp>,
    pub notes: Vec<String>,
}

impl<'a> CoverageLine<'a> {
    pub fn of(o: &'a Outcome) -> Self {
        let (word, text) = match (&o.status, &o.tally.skipped_whole) {
            (Status::Complete, Some(why)) => ("skipped", format!("skipped: {why}")),
            (Status::Complete, None) if o.events == 0 && o.tally.skipped == 0 => ("empty", "empty".to_string()),
            (Status::Complete, None) => ("ok", status_text(&o.status)),
            (Status::Failed(_), _) => ("failed", status_text(&o.status)),
            (Status::TimedOut(_), _) => ("timed_out", status_text(&o.status)),
        };
        let mut notes = o.tally.notes.clone();
        if o.tally.late > 0 {
            notes.push(format!(
                "{} too far out of order to sort, shown where read",
                count(o.tally.late, "event", "events")
            ));
        }
        if o.tally.diagnostics_total > 0 {
            notes.push(format!("{} reading it, listed below", count(o.tally.diagnostics_total, "problem", "problems")));
        }
        CoverageLine {
            outcome: o,
            word,
            text,
            events: o.events.saturating_add(o.tally.skipped),
            first: [o.first, o.tally.first_skipped].into_iter().flatten().min(),
            last: [o.last, o.tally.last_skipped].into_iter().flatten().max(),
            notes,
        }
    }
}

pub fn status_text(s: &Status) -> String {
    match s {
        Status::Complete => "ok".to_string(),
        Status::Failed(e) => format!("FAILED: {e}"),
        Status::TimedOut(d) => format!("TIMED OUT after {}s (events read until then are shown)", d.as_secs()),
    }
}
