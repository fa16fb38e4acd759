//! A bounded reorder buffer: sources are nearly in time order (threads
//! interleave, clocks jitter), so a small heap restores order without
//! holding a whole source in memory.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

use crate::event::{Event, Timestamp};

pub struct ReorderBuffer {
    /// While events arrive in order they wait in segments, in arrival
    /// order; the first one out of order moves them all to the heap, which
    /// then restores the order. A segment's events are released one by one
    /// (`released` passes them) but handed out together, the segment whole,
    /// once the last of them is released: an event is then written once
    /// and not copied again (16,384 held events are 2 MiB; the copy out of
    /// a plain queue read each from memory).
    run: VecDeque<Segment>,
    /// How many events at the front of the first segment are released and
    /// not yet handed out.
    let_go: usize,
    /// Events in `run` not yet released.
    waiting: usize,
    /// The most events a segment takes (the batch its reader sends).
    segment: usize,
    heap: BinaryHeap<Reverse<Heaped>>,
    capacity: usize,
    /// How far the capacity may grow once the events are seen out of order.
    ceiling: usize,
    /// The latest time pushed: an event before it is out of order.
    latest: Option<Timestamp>,
    seq: u64,
    released: Option<Timestamp>,
    late: u64,
}

/// Events in arrival order, and which of them are stand-ins
/// ([`ReorderBuffer::push_stand_in`]), by place, ascending.
#[derive(Default)]
struct Segment {
    events: Vec<Event>,
    stand_ins: Vec<usize>,
}

impl Segment {
    fn with_capacity(n: usize) -> Self {
        Segment { events: Vec::with_capacity(n), stand_ins: Vec::new() }
    }

    fn push(&mut self, event: Event, stand_in: bool) {
        if stand_in {
            self.stand_ins.push(self.events.len());
        }
        self.events.push(event);
    }

    /// Every event but the stand-ins, in order: the vector itself when it
    /// holds none.
    fn hand_all(self, out: &mut Vec<Event>) {
        if self.stand_ins.is_empty() {
            if out.is_empty() {
                *out = self.events;
            } else {
                out.extend(self.events);
            }
            return;
        }
        // Room taken once: a batch held by the merge keeps what it took.
        out.reserve(self.events.len().saturating_sub(self.stand_ins.len()));
        let mut skip = self.stand_ins.into_iter().peekable();
        for (i, e) in self.events.into_iter().enumerate() {
            if skip.next_if_eq(&i).is_none() {
                out.push(e);
            }
        }
    }

    /// The first `n` events but the stand-ins.
    fn hand_front(&mut self, n: usize, out: &mut Vec<Event>) {
        if self.stand_ins.is_empty() {
            out.extend(self.events.drain(..n));
            return;
        }
        let gone = self.stand_ins.iter().take_while(|&&i| i < n).count();
        out.reserve(n.saturating_sub(gone));
        let mut skip = self.stand_ins.drain(..gone).peekable();
        for (i, e) in self.events.drain(..n).enumerate() {
            if skip.next_if_eq(&i).is_none() {
                out.push(e);
            }
        }
        drop(skip);
        for i in &mut self.stand_ins {
            *i -= n;
        }
    }

    /// Each event with whether it is a stand-in.
    fn into_marked(self) -> impl Iterator<Item = (Event, bool)> {
        let mut marks = self.stand_ins.into_iter().peekable();
        self.events.into_iter().enumerate().map(move |(i, e)| (e, marks.next_if_eq(&i).is_some()))
    }
}

/// An event in the heap: ordered as the timeline orders, then by arrival.
struct Heaped {
    event: Event,
    tie: u64,
    stand_in: bool,
}

impl PartialEq for Heaped {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Heaped {}
impl PartialOrd for Heaped {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Heaped {
    fn cmp(&self, other: &Self) -> Ordering {
        self.event.order(&other.event).then(self.tie.cmp(&other.tie))
    }
}

/// A segment's events when nothing says otherwise.
const SEGMENT: usize = 512;

impl ReorderBuffer {
    pub fn new(capacity: usize) -> Self {
        ReorderBuffer {
            run: VecDeque::new(),
            let_go: 0,
            waiting: 0,
            segment: SEGMENT,
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

    /// Segments of at most `n` events: released events wait in theirs
    /// until it is whole, so `n` is what the reader would gather in a batch
    /// anyway (thousands of sources each hold a few).
    pub fn segments_of(mut self, n: usize) -> Self {
        self.segment = n.max(1);
        self
    }

    /// Adds an event; hands out the events that can now be released, in
    /// order (released events may wait in their segment a while: what is
    /// handed out is always in the order of release).
    ///
    /// An event older than one already released cannot be put in its place
    /// any more: it is released at once and counted as late.
    pub fn push(&mut self, event: Event, out: &mut Vec<Event>) {
        self.take(event, false, out);
    }

    /// Adds an event that stands in for one its source folded into an
    /// earlier one (`EventSink::fold`): it takes its place and its turn as
    /// that event would, so every other event is released when it would
    /// have been and the same ones are late, but it is never handed out.
    pub fn push_stand_in(&mut self, event: Event, out: &mut Vec<Event>) {
        self.take(event, true, out);
    }

    fn take(&mut self, event: Event, stand_in: bool, out: &mut Vec<Event>) {
        if self.released.is_some_and(|r| event.time < r) {
            self.late += 1;
            self.hand_released(out);
            if !stand_in {
                out.push(event);
            }
            return;
        }
        if self.latest.is_some_and(|l| event.time < l) {
            // Out of order: more room from now on.
            self.capacity = self.capacity.saturating_mul(4).min(self.ceiling);
        }
        self.latest = Some(self.latest.map_or(event.time, |l| l.max(event.time)));
        self.seq += 1;
        // In order after the last event still waiting (one released is no
        // longer compared: it has gone out, as far as order goes).
        let last_waiting = if self.waiting > 0 { self.run.back().and_then(|s| s.events.last()) } else { None };
        if self.heap.is_empty() && last_waiting.is_none_or(|b| b.order(&event) != Ordering::Greater) {
            match self.run.back_mut() {
                Some(s) if s.events.len() < self.segment => s.push(event, stand_in),
                _ => {
                    let mut s = Segment::with_capacity(self.segment);
                    s.push(event, stand_in);
                    self.run.push_back(s);
                }
            }
            self.waiting += 1;
        } else {
            // The released go out first; the waiting go to the heap in
            // their arrival order (ties below any later event's).
            self.hand_released(out);
            let mut tie = 0u64;
            for (e, stand_in) in self.run.drain(..).flat_map(Segment::into_marked) {
                self.heap.push(Reverse(Heaped { event: e, tie, stand_in }));
                tie += 1;
            }
            self.waiting = 0;
            self.heap.push(Reverse(Heaped { event, tie: self.seq.max(tie), stand_in }));
        }
        while self.waiting + self.heap.len() > self.capacity {
            if self.waiting > 0 {
                self.release_waiting(out);
            } else if let Some(Reverse(h)) = self.heap.pop() {
                self.released = Some(h.event.time);
                if !h.stand_in {
                    out.push(h.event);
                }
            } else {
                break;
            }
        }
    }

    /// Releases the first waiting event of the run; hands out its segment
    /// once all of it is released and another follows it.
    fn release_waiting(&mut self, out: &mut Vec<Event>) {
        let Some(front) = self.run.front() else { return };
        if let Some(e) = front.events.get(self.let_go) {
            self.released = Some(e.time);
            self.let_go += 1;
            self.waiting -= 1;
        }
        if self.let_go >= front.events.len() && self.run.len() > 1 {
            if let Some(whole) = self.run.pop_front() {
                self.let_go = 0;
                whole.hand_all(out);
            }
        }
    }

    /// Hands out every released event still waiting in its segment.
    fn hand_released(&mut self, out: &mut Vec<Event>) {
        while self.let_go > 0 {
            let Some(front) = self.run.front_mut() else { break };
            if self.let_go >= front.events.len() {
                self.let_go -= front.events.len();
                if let Some(whole) = self.run.pop_front() {
                    whole.hand_all(out);
                }
            } else {
                front.hand_front(self.let_go, out);
                self.let_go = 0;
            }
        }
        self.let_go = 0;
    }

    pub fn finish(&mut self, out: &mut Vec<Event>) {
        for (e, stand_in) in self.run.drain(..).flat_map(Segment::into_marked) {
            self.released = Some(e.time);
            if !stand_in {
                out.push(e);
            }
        }
        self.let_go = 0;
        self.waiting = 0;
        while let Some(Reverse(h)) = self.heap.pop() {
            self.released = Some(h.event.time);
            if !h.stand_in {
                out.push(h.event);
            }
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

    /// The buffer as it was before segments, one event at a time: the
    /// model the segmented one must agree with.
    mod model {
        use super::super::*;
        use crate::event::Sequenced;
        /// The most room taken ahead for the in-order queue; past it, it grows.
        const RUN_ROOM: usize = 1024;

        pub struct Model {
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

        impl Model {
            pub fn new(capacity: usize) -> Self {
                Model {
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
    }
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

    /// Random streams (in order, jittered, with repeats and equal times),
    /// random capacities and segments: what the segmented buffer hands out
    /// is at every step a beginning of what the model released, the same
    /// at the end, with the same count of late events.
    #[test]
    fn segments_hand_out_what_the_model_releases_in_its_order() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n.max(1)
        };
        let ev2 = |t: i64, loc: u64| {
            let mut e = ev(t);
            e.evidence.locator = Locator::Text(format!("l{loc}"));
            e
        };
        for round in 0..400 {
            let capacity = 1 + rnd(40) as usize;
            let segment = 1 + rnd(30) as usize;
            let growing = rnd(2) == 0;
            let n = rnd(600) as i64;
            let jitter = [0, 0, 1, 3, 30][rnd(5) as usize];
            let times: Vec<(i64, u64)> = (0..n)
                .map(|i| {
                    let back = if jitter > 0 && rnd(4) == 0 { rnd(jitter) as i64 } else { 0 };
                    (i / (1 + rnd(3) as i64) - back, rnd(3))
                })
                .collect();
            let mut model = model::Model::new(capacity);
            let mut seg = ReorderBuffer::new(capacity).segments_of(segment);
            if growing {
                model = model.growing_to(256);
                seg = seg.growing_to(256);
            }
            // Some rounds stand events in for folded ones: the model takes
            // them as events, and what it releases of them is left out.
            let stand_ins = [0, 0, 1, 3][rnd(4) as usize];
            let key = |e: &Event| (e.time.unix_nanos(), e.evidence.locator.to_string());
            let shown = |v: &[Event]| v.iter().filter(|e| e.summary != "stand-in").map(key).collect::<Vec<_>>();
            let (mut want, mut got) = (Vec::new(), Vec::new());
            let mut stood_in = 0;
            for (t, loc) in &times {
                let mut out = Vec::new();
                if stand_ins > 0 && rnd(stand_ins + 1) > 0 {
                    stood_in += 1;
                    let mut e = ev2(*t, *loc);
                    e.summary = "stand-in".to_string();
                    model.push(e.clone(), &mut want);
                    seg.push_stand_in(e, &mut out);
                } else {
                    model.push(ev2(*t, *loc), &mut want);
                    seg.push(ev2(*t, *loc), &mut out);
                }
                got.extend(out);
                let (w, g) = (shown(&want), shown(&got));
                assert_eq!(g.len(), got.len(), "round {round}: a stand-in was handed out");
                assert!(w.starts_with(&g), "round {round}: handed out {g:?}, released {w:?}");
                assert!(w.len() - g.len() <= segment + capacity.max(256), "round {round}: held too long");
            }
            model.finish(&mut want);
            seg.finish(&mut got);
            assert_eq!(shown(&got), shown(&want), "round {round}");
            assert_eq!(got.len(), shown(&want).len(), "round {round}");
            assert_eq!(seg.late(), model.late(), "round {round}");
            if stand_ins > 0 && n > 100 {
                assert!(stood_in > 0, "round {round}: stand-ins were tried");
            }
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
