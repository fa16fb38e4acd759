//! The k-way merge of the sources' ordered streams into one timeline, in
//! the total order of [`Event::order`]; ties between sources go to the
//! source listed first, so output repeats byte for byte.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::PoisonError;
use std::time::Instant;

use reconstruct_core::event::Sequenced;
use reconstruct_core::Event;

use crate::runner::{Broken, Msg, Outcome, Running, Status, Tally};

/// How long the merge waits at a time for a source still queued for a thread.
const QUEUED_POLL: std::time::Duration = std::time::Duration::from_millis(100);

struct Stream {
    run: Running,
    buf: VecDeque<Event>,
    status: Option<Status>,
    events: u64,
    continuation_lines: u64,
    first: Option<reconstruct_core::Timestamp>,
    last: Option<reconstruct_core::Timestamp>,
}

pub struct Merge {
    streams: Vec<Stream>,
    heap: BinaryHeap<Reverse<Sequenced>>,
    broken: Vec<Broken>,
    primed: bool,
}

impl Merge {
    pub fn new(running: Vec<Running>, broken: Vec<Broken>) -> Self {
        let streams = running
            .into_iter()
            .map(|run| Stream {
                run,
                buf: VecDeque::new(),
                status: None,
                events: 0,
                continuation_lines: 0,
                first: None,
                last: None,
            })
            .collect();
        Merge { streams, heap: BinaryHeap::new(), broken, primed: false }
    }

    /// The next event of stream `i`, waiting for its collector until its deadline.
    fn pull(&mut self, i: usize) -> Option<Event> {
        let s = self.streams.get_mut(i)?;
        loop {
            if let Some(e) = s.buf.pop_front() {
                return Some(e);
            }
            if s.status.is_some() {
                return None;
            }
            let deadline = s.run.deadline();
            let wait = deadline.map_or(QUEUED_POLL, |d| d.saturating_duration_since(Instant::now()));
            match s.run.rx.recv_timeout(wait) {
                Ok(Msg::Events(v)) => {
                    s.run.received();
                    s.buf.extend(v);
                }
                Ok(Msg::Done(Ok(()))) => s.status = Some(Status::Complete),
                Ok(Msg::Done(Err(e))) => s.status = Some(Status::Failed(e)),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    // A source still queued has no deadline yet: wait on.
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        s.status = Some(Status::TimedOut(s.run.timeout));
                        s.run.abandon();
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    s.status = Some(Status::Failed("the collector stopped without a word".to_string()))
                }
            }
        }
    }

    fn push_next(&mut self, i: usize) {
        if let Some(event) = self.pull(i) {
            self.heap.push(Reverse(Sequenced { event, tie: i as u64 }));
        }
    }

    /// Sources finished so far, and all sources.
    pub fn progress(&self) -> (usize, usize) {
        let done = self.streams.iter().filter(|s| s.status.is_some()).count() + self.broken.len();
        (done, self.streams.len() + self.broken.len())
    }

    /// Every source's outcome; call after the merge is exhausted.
    pub fn outcomes(self) -> Vec<Outcome> {
        let mut out: Vec<Outcome> = self
            .streams
            .into_iter()
            .map(|s| {
                let tally = s.run.tally.lock().unwrap_or_else(PoisonError::into_inner).clone();
                Outcome {
                    source: s.run.source,
                    status: s.status.unwrap_or(Status::Complete),
                    tally,
                    events: s.events,
                    continuation_lines: s.continuation_lines,
                    first: s.first,
                    last: s.last,
                }
            })
            .collect();
        out.extend(self.broken.into_iter().map(|b| Outcome {
            source: b.source,
            status: Status::Failed(b.error),
            tally: Tally::default(),
            events: 0,
            continuation_lines: 0,
            first: None,
            last: None,
        }));
        out
    }
}

impl Iterator for Merge {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if !self.primed {
            self.primed = true;
            for i in 0..self.streams.len() {
                self.push_next(i);
            }
        }
        let Reverse(Sequenced { event, tie }) = self.heap.pop()?;
        let stream = usize::try_from(tie).unwrap_or(usize::MAX);
        if let Some(s) = self.streams.get_mut(stream) {
            s.events += 1;
            s.continuation_lines += u64::from(event.continuation_lines);
            s.first = Some(s.first.map_or(event.time, |f| f.min(event.time)));
            s.last = Some(s.last.map_or(event.time, |l| l.max(event.time)));
        }
        self.push_next(stream);
        Some(event)
    }
}
