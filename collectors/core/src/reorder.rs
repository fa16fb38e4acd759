//! A bounded reorder buffer: sources are nearly in time order (threads
//! interleave, clocks jitter), so a small heap restores order without
//! holding a whole source in memory.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::event::{Event, Timestamp};

struct Slot {
    event: Event,
    seq: u64,
}

impl PartialEq for Slot {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Slot {}
impl PartialOrd for Slot {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Slot {
    fn cmp(&self, other: &Self) -> Ordering {
        self.event.order(&other.event).then(self.seq.cmp(&other.seq))
    }
}

pub struct ReorderBuffer {
    heap: BinaryHeap<Reverse<Slot>>,
    capacity: usize,
    seq: u64,
    released: Option<Timestamp>,
    late: u64,
}

impl ReorderBuffer {
    pub fn new(capacity: usize) -> Self {
        ReorderBuffer { heap: BinaryHeap::new(), capacity: capacity.max(1), seq: 0, released: None, late: 0 }
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
        self.seq += 1;
        self.heap.push(Reverse(Slot { event, seq: self.seq }));
        while self.heap.len() > self.capacity {
            if let Some(Reverse(s)) = self.heap.pop() {
                self.released = Some(s.event.time);
                out.push(s.event);
            }
        }
    }

    pub fn finish(&mut self, out: &mut Vec<Event>) {
        while let Some(Reverse(s)) = self.heap.pop() {
            self.released = Some(s.event.time);
            out.push(s.event);
        }
    }

    /// Events that arrived too late to be put in order.
    pub fn late(&self) -> u64 {
        self.late
    }
}
