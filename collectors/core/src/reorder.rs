//! A bounded reorder buffer: sources are nearly in time order (threads
//! interleave, clocks jitter), so a small heap restores order without
//! holding a whole source in memory.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::event::{Event, Sequenced, Timestamp};

/// The most room taken ahead for the in-order queue; past it, it grows.
const RUN_ROOM: usize = 1024;

pub struct ReorderBuffer {
    /// While events arrive in order they wait in a plain queue (no
    /// comparisons beyond one a push); the first one out of order moves
    /// them all to the heap, which then restores the order.
    run: VecDeque<Sequenced>,
    heap: BinaryHeap<Reverse<Sequenced>>,
    capacity: usize,
    /// How far the capacity may grow once the events are seen out of order.
    ceiling: usize,
    /// The latest time pushed: an event before it is out of order.
    latest: Option<Timestamp>,
    seq: u64,
    released: Option<Timestamp>,
    late: u64,
}

impl ReorderBuffer {
    pub fn new(capacity: usize) -> Self {
        ReorderBuffer {
            run: VecDeque::new(),
            heap: BinaryHeap::new(),
            capacity: capacity.max(1),
            ceiling: capacity.max(1),
            latest: None,
            seq: 0,
            released: None,
            late: 0,
        }
    }

    /// A buffer that starts small and, the first times its events come out
    /// of order, grows (fourfold a time) up to `ceiling`: thousands of
    /// sources in order each hold a few events, and one whose lines jitter
    /// gets the room to sort them.
    pub fn growing_to(mut self, ceiling: usize) -> Self {
        self.ceiling = ceiling.max(self.capacity);
        self
    }

    /// Adds an event; returns the events that can now be released in order.
    ///
    /// An event older than one already released cannot be put in its place
    /// any more: it is released at once and counted as late.
    pub fn push(&mut self, event: Event, out: &mut Vec<Event>) {
        if self.released.is_some_and(|r| event.time < r) {
            self.late += 1;
            out.push(event);
            return;
        }
        if self.latest.is_some_and(|l| event.time < l) {
            // Out of order: more room from now on.
            self.capacity = self.capacity.saturating_mul(4).min(self.ceiling);
        }
        self.latest = Some(self.latest.map_or(event.time, |l| l.max(event.time)));
        self.seq += 1;
        let s = Sequenced { event, tie: self.seq };
        if self.heap.is_empty() && self.run.back().is_none_or(|b| *b <= s) {
            // Room for what it may hold, taken once: thousands of sources
            // each hold one, and doubling would leave most of it unused.
            if self.run.capacity() == 0 {
                self.run.reserve_exact(self.capacity.saturating_add(1).min(RUN_ROOM));
            }
            self.run.push_back(s);
        } else {
            self.heap.extend(self.run.drain(..).map(Reverse));
            self.heap.push(Reverse(s));
        }
        while self.run.len() + self.heap.len() > self.capacity {
            match self.next() {
                Some(s) => {
                    self.released = Some(s.event.time);
                    out.push(s.event);
                }
                None => break,
            }
        }
    }

    fn next(&mut self) -> Option<Sequenced> {
        match self.run.pop_front() {
            Some(s) => Some(s),
            None => self.heap.pop().map(|Reverse(s)| s),
        }
    }

    pub fn finish(&mut self, out: &mut Vec<Event>) {
        while let Some(s) = self.next() {
            self.released = Some(s.event.time);
            out.push(s.event);
        }
    }

    /// Events that arrived too late to be put in order.
    pub fn late(&self) -> u64 {
        self.late
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, Evidence, Locator, TimeBasis};

    fn ev(t: i64) -> Event {
        Event {
            time: Timestamp::from_unix_nanos(t),
            basis: TimeBasis::Explicit,
            collector: crate::SourceKind::Logfile,
            component: "c".into(),
            kind: EventKind::Log,
            severity: None,
            summary: t.to_string(),
            evidence: Evidence { locator: Locator::Text(t.to_string()), excerpt: String::new() },
            continuation_lines: 0,
            service: None,
            fact: None,
        }
    }

    #[test]
    fn sorted_input_passes_through_the_queue_unchanged() {
        let mut r = ReorderBuffer::new(4);
        let mut out = Vec::new();
        for t in [1, 2, 2, 3, 5, 8, 13] {
            r.push(ev(t), &mut out);
        }
        assert!(r.heap.is_empty());
        // One out of order after the queue: the heap takes over and sorts.
        r.push(ev(4), &mut out);
        r.finish(&mut out);
        let times: Vec<i64> = out.iter().map(|e| e.time.unix_nanos()).collect();
        assert_eq!(times, [1, 2, 2, 3, 4, 5, 8, 13]);
        assert_eq!(r.late(), 0);
    }

    #[test]
    fn a_buffer_whose_events_jitter_grows_to_sort_them() {
        // In order, then a line 3 places back, then lines 20 places back:
        // a fixed buffer of 4 sorts the first and loses the rest; a growing
        // one takes room at the first and sorts them all.
        let mut input: Vec<i64> = (0..100).collect();
        input.swap(50, 53);
        for k in [60, 75] {
            input.swap(k, k + 20);
        }
        let run = |mut r: ReorderBuffer| {
            let mut out = Vec::new();
            for t in &input {
                r.push(ev(*t), &mut out);
            }
            r.finish(&mut out);
            (out.iter().map(|e| e.time.unix_nanos()).collect::<Vec<_>>(), r.late())
        };
        let (_, late) = run(ReorderBuffer::new(4));
        assert!(late > 0);
        let (times, late) = run(ReorderBuffer::new(4).growing_to(256));
        assert_eq!(late, 0);
        assert_eq!(times, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn sorts_within_capacity_and_counts_what_is_too_late() {
        let mut r = ReorderBuffer::new(3);
        let mut out = Vec::new();
        for t in [5, 3, 4, 1, 2, 9, 8, 7, 6, 0] {
            r.push(ev(t), &mut out);
        }
        r.finish(&mut out);
        let times: Vec<i64> = out.iter().map(|e| e.time.unix_nanos()).collect();
        // Nothing lost; 0 came after 5 was released, so it is late.
        assert_eq!(times.len(), 10);
        assert_eq!(r.late(), 1);
        let rest: Vec<i64> = times.iter().copied().filter(|t| *t != 0).collect();
        let sorted = {
            let mut s = rest.clone();
            s.sort();
            s
        };
        assert_eq!(rest, sorted);
    }
}
