//! Runs collectors concurrently, each on its own thread and under its own
//! deadline, and turns each into an ordered stream for the merge. A
//! collector that fails or runs out of time becomes a coverage line, never
//! the end of the run.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reconstruct_core::reorder::ReorderBuffer;
use reconstruct_core::{
    CollectContext, Collector, Detail, Diagnostic, Event, EventSink, SourceId, Stopped, TimeWindow, Timestamp,
};

/// Events handed over per message: amortises the channel's cost per event.
/// Like the reorder buffer, shared among the sources (`BATCH_TOTAL`), so
/// many sources keep the events in flight bounded.
const BATCH: usize = 512;
const BATCH_TOTAL: usize = 8_192;
const BATCH_MIN: usize = 32;
/// Batches in flight per source: bounds memory when the merge is slower.
const IN_FLIGHT: usize = 4;
/// How far out of order the sources together may be and still come out
/// sorted: shared among them, so a directory of a thousand logs does not
/// hold a thousand full buffers.
const REORDER_TOTAL: usize = 16_384;
/// …but never less than this per source.
const REORDER_MIN: usize = 256;
/// Diagnostics kept per source; the rest are counted.
const DIAGNOSTICS_KEPT: usize = 20;

pub enum Msg {
    Events(Vec<Event>),
    Done(Result<(), String>),
}

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

/// A running source: its channel, its shared tally and its deadline.
pub struct Running {
    pub source: SourceId,
    pub rx: Receiver<Msg>,
    pub tally: Arc<Mutex<Tally>>,
    pub deadline: Instant,
    pub timeout: Duration,
}

/// A source whose collector could not even be built ("no file matches …").
pub struct Broken {
    pub source: SourceId,
    pub error: String,
}

struct ChannelSink {
    tx: SyncSender<Msg>,
    batch_size: usize,
    batch: Vec<Event>,
    reorder: ReorderBuffer,
    window: TimeWindow,
    tally: Arc<Mutex<Tally>>,
    local: Tally,
}

impl ChannelSink {
    fn send(&mut self) -> Result<(), Stopped> {
        self.publish();
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.batch_size));
        self.tx.send(Msg::Events(batch)).map_err(|_| Stopped)
    }

    /// Moves local counts into the shared tally, so a source that times out
    /// still reports what it had counted.
    fn publish(&mut self) {
        let mut t = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        t.skipped += std::mem::take(&mut self.local.skipped);
        t.skipped_lines += std::mem::take(&mut self.local.skipped_lines);
        if let Some(f) = self.local.first_skipped.take() {
            t.first_skipped = Some(t.first_skipped.map_or(f, |x| x.min(f)));
        }
        if let Some(l) = self.local.last_skipped.take() {
            t.last_skipped = Some(t.last_skipped.map_or(l, |x| x.max(l)));
        }
        t.late = self.reorder.late();
    }

    fn finish(&mut self) -> Result<(), Stopped> {
        self.reorder.finish(&mut self.batch);
        self.send()
    }
}

impl EventSink for ChannelSink {
    fn emit(&mut self, event: Event) -> Result<(), Stopped> {
        if !self.window.contains(event.time) {
            return Ok(());
        }
        self.reorder.push(event, &mut self.batch);
        if self.batch.len() >= self.batch_size {
            self.send()?;
        }
        Ok(())
    }

    fn skip(&mut self, time: Timestamp, extra_lines: u32) {
        if !self.window.contains(time) {
            return;
        }
        self.local.skipped += 1;
        self.local.skipped_lines += u64::from(extra_lines);
        self.local.first_skipped = Some(self.local.first_skipped.map_or(time, |f| f.min(time)));
        self.local.last_skipped = Some(self.local.last_skipped.map_or(time, |l| l.max(time)));
    }

    fn diagnostic(&mut self, d: Diagnostic) {
        let mut t = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        t.diagnostics_total += 1;
        if t.diagnostics.len() < DIAGNOSTICS_KEPT {
            t.diagnostics.push(d);
        }
    }

    fn note(&mut self, text: String) {
        self.tally.lock().unwrap_or_else(PoisonError::into_inner).notes.push(text);
    }
}

/// Starts every collector on its own thread.
pub fn start(
    collectors: Vec<Box<dyn Collector>>,
    window: TimeWindow,
    detail: Detail,
    timeout: Duration,
) -> Vec<Running> {
    let started = Instant::now();
    let reorder = (REORDER_TOTAL / collectors.len().max(1)).max(REORDER_MIN);
    let batch_size = (BATCH_TOTAL / collectors.len().max(1)).clamp(BATCH_MIN, BATCH);
    collectors
        .into_iter()
        .map(|c| {
            let source = c.source();
            let (tx, rx) = sync_channel(IN_FLIGHT);
            let tally = Arc::new(Mutex::new(Tally::default()));
            let shared = tally.clone();
            let name = format!("collect {source}");
            let spawn = std::thread::Builder::new().name(name).spawn(move || {
                let mut sink = ChannelSink {
                    tx: tx.clone(),
                    batch_size,
                    batch: Vec::with_capacity(batch_size),
                    reorder: ReorderBuffer::new(reorder),
                    window,
                    tally: shared,
                    local: Tally::default(),
                };
                let ctx = CollectContext { window, detail };
                // A panic in a collector is that source's failure, not the run's.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.collect(&ctx, &mut sink)));
                let done = match result {
                    Ok(Ok(())) => sink.finish().map_err(|e| e.to_string()),
                    Ok(Err(e)) => {
                        let _ = sink.finish();
                        Err(error_chain(&*e))
                    }
                    Err(_) => Err("the collector crashed (a bug in reconstruct: please report it)".to_string()),
                };
                let _ = tx.send(Msg::Done(done));
            });
            let rx = match spawn {
                Ok(_) => rx,
                Err(e) => {
                    let (tx, rx) = sync_channel(1);
                    let _ = tx.send(Msg::Done(Err(format!("cannot start a thread: {e}"))));
                    rx
                }
            };
            Running { source, rx, tally, deadline: started + timeout, timeout }
        })
        .collect()
}

/// `error: cause: cause`, the way a person reads a chain.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}
