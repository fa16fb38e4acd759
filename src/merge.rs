//! The k-way merge of the sources' ordered streams into one timeline, in
//! the total order of [`Event::order`]; ties between sources go to the
//! source listed first, so output repeats byte for byte.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::PoisonError;
use std::time::Instant;

use reconstruct_core::event::Sequenced;
use reconstruct_core::Event;

use crate::coverage::FoldCount;
use crate::runner::{Broken, Msg, NoMail, Outcome, Running, Status, Tally};

/// How long the merge waits at a time for a source still queued for a thread.
const QUEUED_POLL: std::time::Duration = std::time::Duration::from_millis(100);

struct Stream {
    run: Running,
    /// The batch being taken, as it came: not copied, and let go of once
    /// taken (thousands of sources each keep one).
    buf: std::vec::IntoIter<Event>,
    /// When this few of the batch are left, a parked reader of the source
    /// is asked for the next: early enough that the merge seldom waits,
    /// late enough that a source seldom holds two whole batches.
    low: usize,
    status: Option<Status>,
    events: u64,
    continuation_lines: u64,
    first: Option<reconstruct_core::Timestamp>,
    last: Option<reconstruct_core::Timestamp>,
}

pub struct Merge {
    streams: Vec<Stream>,
    heap: BinaryHeap<Reverse<Sequenced>>,
    /// The least event of all, when that is known without the heap: the
    /// next of the stream just taken, when it comes before every event the
    /// heap holds. It spares an event (136 bytes) the heap's moves.
    slot: Option<Sequenced>,
    broken: Vec<Broken>,
    primed: bool,
    /// Events before this are read for the findings, not counted as the window's.
    shown_from: reconstruct_core::Timestamp,
}

impl Merge {
    pub fn new(running: Vec<Running>, broken: Vec<Broken>) -> Self {
        let streams = running
            .into_iter()
            .map(|run| Stream {
                run,
                buf: Vec::new().into_iter(),
                low: 0,
                status: None,
                events: 0,
                continuation_lines: 0,
                first: None,
                last: None,
            })
            .collect();
        Merge {
            streams,
            heap: BinaryHeap::new(),
            slot: None,
            broken,
            primed: false,
            shown_from: reconstruct_core::Timestamp::MIN,
        }
    }

    /// Coverage counts only the events from `since` on: those before it
    /// were read for the findings (the lookback and the baseline).
    pub fn shown_from(mut self, since: reconstruct_core::Timestamp) -> Self {
        self.shown_from = since;
        self
    }

    /// The next event of stream `i`, waiting for its collector until its deadline.
    fn pull(&mut self, i: usize) -> Option<Event> {
        let s = self.streams.get_mut(i)?;
        loop {
            if let Some(e) = s.buf.next() {
                if s.buf.len() == s.low {
                    s.run.running_low();
                }
                return Some(e);
            }
            // Let go of the taken batch's memory now, not at the next one.
            s.buf = Vec::new().into_iter();
            s.run.running_low();
            if s.status.is_some() {
                return None;
            }
            let deadline = s.run.deadline();
            let wait = deadline.map_or(QUEUED_POLL, |d| d.saturating_duration_since(Instant::now()));
            match s.run.recv_timeout(wait) {
                Ok(Msg::Events(v)) => {
                    s.low = v.len() / 4;
                    s.buf = v.into_iter();
                }
                Ok(Msg::Done(Ok(()))) => s.status = Some(Status::Complete),
                Ok(Msg::Done(Err(e))) => s.status = Some(Status::Failed(e)),
                Err(NoMail::Timeout) => {
                    // A source still queued has no deadline yet: wait on.
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        s.status = Some(Status::TimedOut(s.run.timeout));
                        // What it read before it hung is still evidence.
                        s.buf = s.run.salvage().into_iter();
                        s.run.abandon();
                    }
                }
                Err(NoMail::Gone) => {
                    s.status = Some(Status::Failed("the collector stopped without a word".to_string()))
                }
            }
        }
    }

    /// The next event of the stream just taken: kept aside when it comes
    /// before all the heap holds (with one source, always), else into the heap.
    fn advance(&mut self, i: usize) {
        if let Some(event) = self.pull(i) {
            let s = Sequenced { event, tie: i as u64 };
            match self.heap.peek() {
                Some(Reverse(top)) if *top < s => self.heap.push(Reverse(s)),
                _ => self.slot = Some(s),
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
                // Events the collector folded were read and built as far
                // as the table needs: they count as the events they are.
                let mut folded = FoldCount::default();
                for f in &tally.folds {
                    folded.absorb(f.count);
                }
                Outcome {
                    source: s.run.source.clone(),
                    status: s.status.unwrap_or(Status::Complete),
                    tally,
                    events: s.events.saturating_add(folded.events),
                    continuation_lines: s.continuation_lines.saturating_add(folded.lines),
                    first: [s.first, folded.first].into_iter().flatten().min(),
                    last: [s.last, folded.last].into_iter().flatten().max(),
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

/// What the merge hands on: the next event, and the events that follow
/// it in order as they came from their source, not moved an event at a
/// time (the rest of a batch of the one source left with events: an export
/// of one big log). Most often `rest` is empty.
pub struct Taken {
    pub first: Event,
    pub rest: std::vec::IntoIter<Event>,
}

impl Taken {
    pub fn one(first: Event) -> Taken {
        Taken { first, rest: Vec::new().into_iter() }
    }

    /// The events of `v`, in its order; `None` if there are none.
    pub fn of(v: Vec<Event>) -> Option<Taken> {
        let mut rest = v.into_iter();
        let first = rest.next()?;
        Some(Taken { first, rest })
    }

    /// How many events: never none.
    pub fn count(&self) -> usize {
        self.rest.len().saturating_add(1)
    }

    pub fn events(self) -> impl Iterator<Item = Event> {
        std::iter::once(self.first).chain(self.rest)
    }

    pub fn events_mut(&mut self) -> impl Iterator<Item = &mut Event> {
        std::iter::once(&mut self.first).chain(self.rest.as_mut_slice().iter_mut())
    }
}

impl Merge {
    fn prime(&mut self) {
        if !self.primed {
            self.primed = true;
            for i in 0..self.streams.len() {
                self.push_next(i);
            }
        }
    }

    /// Counts an event taken from stream `i` in its coverage.
    fn count(&mut self, i: usize, event: &Event) {
        if let Some(s) = self.streams.get_mut(i).filter(|_| event.time >= self.shown_from) {
            s.events += 1;
            s.continuation_lines += u64::from(event.continuation_lines);
            s.first = Some(s.first.map_or(event.time, |f| f.min(event.time)));
            s.last = Some(s.last.map_or(event.time, |l| l.max(event.time)));
        }
    }

    /// The next events in order: with one source left that has events (the
    /// heap is then empty: every other source still reading holds its next
    /// event there), the rest of its batch at once; else the next event.
    pub fn take_run(&mut self) -> Option<Taken> {
        self.prime();
        if !self.heap.is_empty() {
            return self.next().map(Taken::one);
        }
        let Sequenced { event: first, tie } = self.slot.take()?;
        let stream = usize::try_from(tie).unwrap_or(usize::MAX);
        let rest = match self.streams.get_mut(stream) {
            Some(s) => std::mem::replace(&mut s.buf, Vec::new().into_iter()),
            None => Vec::new().into_iter(),
        };
        self.count(stream, &first);
        for e in rest.as_slice() {
            self.count(stream, e);
        }
        self.advance(stream);
        Some(Taken { first, rest })
    }
}

impl Iterator for Merge {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.prime();
        let Sequenced { event, tie } = match self.slot.take() {
            Some(s) => s,
            None => self.heap.pop()?.0,
        };
        let stream = usize::try_from(tie).unwrap_or(usize::MAX);
        self.count(stream, &event);
        self.advance(stream);
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use reconstruct_core::{
        CollectContext, CollectError, Collector, Detail, Event, EventKind, EventSink, Evidence, LocalFuture, Locator,
        NetworkCollector, Source, SourceId, SourceKind, TimeBasis, TimeWindow, Timestamp,
    };

    use super::Merge;
    use crate::runner::{self, Broken, Outcome, Status};

    fn event(secs: i64, collector: SourceKind, component: &str, locator: &str) -> Event {
        Event {
            time: Timestamp::from_unix_seconds(secs, 0).unwrap(),
            basis: TimeBasis::Explicit,
            collector,
            component: Arc::from(component),
            kind: EventKind::Log,
            severity: None,
            summary: format!("{component} {locator}"),
            evidence: Evidence { locator: Locator::Text(locator.to_string()), excerpt: String::new() },
            continuation_lines: 0,
            service: None,
            fact: None,
        }
    }

    fn window() -> TimeWindow {
        TimeWindow::new(Timestamp::from_unix_seconds(0, 0).unwrap(), Timestamp::from_unix_seconds(1 << 32, 0).unwrap())
            .unwrap()
    }

    /// A source that emits what it is given, or misbehaves as told.
    struct Fake {
        name: &'static str,
        kind: SourceKind,
        events: Vec<Event>,
        hang: bool,
        panic: Option<&'static str>,
    }

    impl Fake {
        fn new(name: &'static str, events: Vec<Event>) -> Self {
            Fake { name, kind: SourceKind::Logfile, events, hang: false, panic: None }
        }
    }

    impl Collector for Fake {
        fn source(&self) -> SourceId {
            SourceId { collector: self.kind, name: self.name.to_string() }
        }
        fn collect(self: Box<Self>, _: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
            for e in self.events {
                sink.emit(e)?;
            }
            if let Some(p) = self.panic {
                panic!("{p}");
            }
            if self.hang {
                // A read that never returns (a FIFO nobody writes).
                std::thread::sleep(Duration::from_secs(3600));
            }
            Ok(())
        }
    }

    /// A network source that waits on a timer.
    struct Slow {
        wait: Duration,
        events: Vec<Event>,
    }

    impl NetworkCollector for Slow {
        fn source(&self) -> SourceId {
            SourceId { collector: SourceKind::Prometheus, name: format!("slow {:?}", self.wait) }
        }
        fn collect<'a>(
            self: Box<Self>,
            _: &'a CollectContext,
            sink: &'a mut dyn EventSink,
        ) -> LocalFuture<'a, Result<(), CollectError>> {
            Box::pin(async move {
                tokio::time::sleep(self.wait).await;
                for e in self.events {
                    sink.emit(e)?;
                }
                Ok(())
            })
        }
    }

    fn run(sources: Vec<Source>, broken: Vec<Broken>, timeout: Duration) -> (Vec<Event>, Vec<Outcome>) {
        let started =
            runner::start(sources, CollectContext { window: window(), detail: Detail::All, anchor: None }, timeout);
        let mut merge = Merge::new(started.running, broken);
        let events: Vec<Event> = merge.by_ref().collect();
        (events, merge.outcomes())
    }

    fn blocking(f: Fake) -> Source {
        Source::Blocking(Box::new(f))
    }

    /// A sink that takes every event whole: it opens no fold.
    struct Whole<'a>(&'a mut dyn EventSink);

    impl EventSink for Whole<'_> {
        fn emit(&mut self, event: Event) -> Result<(), reconstruct_core::Stopped> {
            self.0.emit(event)
        }
        fn skip(&mut self, time: Timestamp, extra_lines: u32) {
            self.0.skip(time, extra_lines)
        }
        fn diagnostic(&mut self, d: reconstruct_core::Diagnostic) {
            self.0.diagnostic(d)
        }
        fn note(&mut self, text: String) {
            self.0.note(text)
        }
        fn parkable(&mut self, can: bool) {
            self.0.parkable(can)
        }
        fn yield_asked(&self) -> bool {
            self.0.yield_asked()
        }
    }

    /// A collector whose events all come whole.
    struct Unfolded(Box<dyn Collector>);

    impl Collector for Unfolded {
        fn source(&self) -> SourceId {
            self.0.source()
        }
        fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
            self.0.collect(ctx, &mut Whole(sink))
        }
    }

    /// The table of one source as the run builds it (the summariser's rows
    /// and totals, and the source's outcome), and how many events the
    /// collector folded.
    type Coverage = (u64, u64, Option<Timestamp>, Option<Timestamp>, u64, u64, u64, u64);

    fn table(source: Source) -> (String, Vec<Coverage>, u64) {
        let ctx = CollectContext { window: window(), detail: Detail::Notable, anchor: None };
        let started = runner::start(vec![source], ctx, Duration::from_secs(120));
        let mut merge = Merge::new(started.running, Vec::new());
        let mut s = crate::summarise::Summariser::new(100_000).masking();
        for e in merge.by_ref() {
            s.add(e);
        }
        let mut outcomes = merge.outcomes();
        let mut folded = 0;
        for o in &mut outcomes {
            for f in std::mem::take(&mut o.tally.folds) {
                folded += f.count.events;
                s.add_folded(&f.like, f.count);
            }
        }
        let sum = s.finish();
        let o: Vec<_> = outcomes
            .iter()
            .map(|o| {
                let t = &o.tally;
                (
                    o.events,
                    o.continuation_lines,
                    o.first,
                    o.last,
                    t.late,
                    t.skipped,
                    t.skipped_lines,
                    t.diagnostics_total,
                )
            })
            .collect();
        (format!("{:?}\n{:?}", sum.rows, sum.totals), o, folded)
    }

    /// A busy log's repeats, folded by its reader, make the table they make
    /// built one by one: the same rows, counts and last times, the same
    /// totals, and the same coverage (events, their lines, first and last,
    /// and the late ones), through jitter, ties, lines far out of order,
    /// continuation lines, secrets, and lines that cannot be folded.
    #[test]
    fn a_table_of_folded_repeats_is_the_table_of_built_ones() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n.max(1)
        };
        let comps = ["api", "db", "worker-1", "worker-22"];
        let mut log = String::new();
        let base = 1_766_707_200_000i64; // 2025-12-26T00:00:00Z, in milliseconds
        for i in 0..150_000i64 {
            let mut ms = base + i * 10 - [0, 0, 0, 0, 10, 30][rnd(6) as usize];
            if i % 20_000 == 19_999 {
                // Far back: past what the reorder buffer holds.
                ms -= 1_000_000;
            }
            let t = chrono::DateTime::from_timestamp_millis(ms).unwrap().format("%Y-%m-%d %H:%M:%S%.3f");
            let level = ["ERROR", "WARN ", "INFO ", "INFO ", "INFO "][rnd(5) as usize];
            let c = comps[rnd(4) as usize];
            let n = rnd(100_000);
            let msg = match rnd(7) {
                0 => format!("[{c}] upstream {} timed out after {}s id={n:x}", comps[rnd(4) as usize], n % 60),
                1 => format!("[{c}] slow call {n}ms retry {}", n % 3),
                2 => format!("{c} without a bracket: {n} failures"),
                3 => format!("[{c}] login failed password=s3cr{n}t user=u{}", n % 7),
                4 => format!("[{c}] tab\there {n}"),
                5 => format!("[{c}] caf\u{e9} {n}"),
                _ => format!("[{c}] circuit open after {n} calls"),
            };
            log.push_str(&format!("{t} {level} {msg}\n"));
            match rnd(12) {
                0 => log.push_str(&format!("    at frame {n}\n    at frame {}\n", n / 2)),
                1 => log.push_str("Traceback (most recent call last)\n  File \"x.py\", line 1\n"),
                _ => {}
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.log");
        std::fs::write(&path, log).unwrap();
        let collector = || {
            reconstruct_logfile::LogFileCollector::new(
                path.clone(),
                "busy.log".to_string(),
                None,
                reconstruct_core::Zone::Utc,
                None,
            )
        };
        let (folded_table, folded_coverage, folded) = table(Source::Blocking(Box::new(collector())));
        let (whole_table, whole_coverage, none) = table(Source::Blocking(Box::new(Unfolded(Box::new(collector())))));
        assert_eq!(none, 0);
        assert!(folded > 10_000, "repeats were folded: {folded}");
        assert_eq!(folded_coverage, whole_coverage);
        let (events, lines, first, _, late, ..) = whole_coverage.first().copied().unwrap();
        assert!(events > 50_000 && lines > 10_000 && first.is_some(), "{whole_coverage:?}");
        assert!(late > 0, "some lines were too late to put in order: {whole_coverage:?}");
        assert_eq!(folded_table, whole_table);
    }

    /// Two sources, one much longer: taken in runs, the events come in the
    /// order one at a time gives, with the same coverage; once the short
    /// source is done, the long one's come a batch at a time.
    #[test]
    fn runs_give_the_order_and_coverage_of_single_events() {
        let sources = || {
            let long =
                Fake::new("long", (0..3000).map(|i| event(i, SourceKind::Logfile, "l", &format!("l:{i}"))).collect());
            let short =
                Fake::new("short", (0..50).map(|i| event(i * 3, SourceKind::Docker, "s", &format!("s:{i}"))).collect());
            vec![blocking(long), blocking(short)]
        };
        let (single, single_outcomes) = run(sources(), Vec::new(), Duration::from_secs(10));
        let started = runner::start(
            sources(),
            CollectContext { window: window(), detail: Detail::All, anchor: None },
            Duration::from_secs(10),
        );
        let mut merge = Merge::new(started.running, Vec::new());
        let mut runs = Vec::new();
        let mut taken = Vec::new();
        while let Some(t) = merge.take_run() {
            runs.push(t.count());
            taken.extend(t.events());
        }
        let key = |e: &Event| (e.time, e.evidence.locator.to_string());
        assert_eq!(taken.iter().map(key).collect::<Vec<_>>(), single.iter().map(key).collect::<Vec<_>>());
        let outcomes = merge.outcomes();
        for (a, b) in outcomes.iter().zip(&single_outcomes) {
            assert_eq!((a.events, a.first, a.last), (b.events, b.first, b.last));
        }
        assert!(runs.iter().take(50).all(|n| *n == 1), "both sources read: one event at a time");
        assert!(runs.iter().any(|n| *n > 100), "one left: its batches whole: {runs:?}");
    }

    #[test]
    fn ties_break_by_collector_component_locator_then_source_order() {
        let a = Fake::new(
            "a",
            vec![
                event(10, SourceKind::Postgres, "db", "a:1"),
                event(10, SourceKind::Logfile, "api", "same"),
                event(20, SourceKind::Logfile, "api", "a:3"),
            ],
        );
        let b = Fake::new(
            "b",
            vec![
                event(10, SourceKind::Logfile, "api", "same"),
                event(10, SourceKind::Docker, "web", "b:2"),
                event(20, SourceKind::Logfile, "api", "a:2"),
            ],
        );
        let (events, outcomes) = run(vec![blocking(a), blocking(b)], Vec::new(), Duration::from_secs(10));
        let order: Vec<(i64, &str, String)> = events
            .iter()
            .map(|e| (e.time.unix_seconds(), e.collector.as_str(), e.evidence.locator.to_string()))
            .collect();
        assert_eq!(
            order,
            vec![
                (10, "docker", "b:2".to_string()),
                (10, "logfile", "same".to_string()),
                (10, "logfile", "same".to_string()),
                (10, "postgres", "a:1".to_string()),
                (20, "logfile", "a:2".to_string()),
                (20, "logfile", "a:3".to_string()),
            ]
        );
        assert!(outcomes.iter().all(|o| o.status == Status::Complete));
        assert_eq!(outcomes.iter().map(|o| o.events).sum::<u64>(), 6);
    }

    #[test]
    fn a_source_that_hangs_times_out_and_the_others_are_whole() {
        let mut hung = Fake::new("hung", vec![event(5, SourceKind::Logfile, "x", "h:1")]);
        hung.hang = true;
        let fine =
            Fake::new("fine", (0..2000).map(|i| event(i, SourceKind::Logfile, "y", &format!("f:{i}"))).collect());
        let slow_net = Slow { wait: Duration::from_secs(3600), events: Vec::new() };
        let (events, outcomes) = run(
            vec![blocking(hung), blocking(fine), Source::Network(Box::new(slow_net))],
            Vec::new(),
            Duration::from_millis(400),
        );
        assert_eq!(events.iter().filter(|e| e.component.as_ref() == "y").count(), 2000);
        let status = |name: &str| outcomes.iter().find(|o| o.source.name.starts_with(name)).unwrap().status.clone();
        assert_eq!(status("hung"), Status::TimedOut(Duration::from_millis(400)));
        assert_eq!(status("slow"), Status::TimedOut(Duration::from_millis(400)));
        assert_eq!(status("fine"), Status::Complete);
        // What the hung source read before it hung is kept.
        assert_eq!(events.iter().filter(|e| e.component.as_ref() == "x").count(), 1);
        let hung = outcomes.iter().find(|o| o.source.name == "hung").unwrap();
        assert_eq!(hung.events, 1);
    }

    #[test]
    fn events_read_before_a_hang_are_kept_in_order() {
        // Fewer than a batch, and more: before, a batch never left the reader's buffers.
        for n in [40i64, 1000] {
            let mut hung = Fake::new(
                "hung",
                (0..n).rev().map(|i| event(2000 - i, SourceKind::Logfile, "x", &format!("h:{i}"))).collect(),
            );
            hung.hang = true;
            let (events, outcomes) = run(vec![blocking(hung)], Vec::new(), Duration::from_millis(300));
            assert_eq!(events.len() as i64, n);
            assert!(events.windows(2).all(|w| w[0].time <= w[1].time));
            assert_eq!(outcomes[0].status, Status::TimedOut(Duration::from_millis(300)));
            assert_eq!(outcomes[0].events as i64, n, "coverage counts what was read before the hang");
        }
    }

    #[test]
    fn a_collector_that_panics_is_a_failed_source_with_its_message() {
        let mut bad = Fake::new("bad", vec![event(1, SourceKind::Logfile, "x", "b:1")]);
        bad.panic = Some("index out of bounds: the len is 3 but the index is 7");
        let good = Fake::new("good", vec![event(2, SourceKind::Logfile, "y", "g:1")]);
        let (events, outcomes) = run(vec![blocking(bad), blocking(good)], Vec::new(), Duration::from_secs(10));
        assert_eq!(events.len(), 2, "events before the panic and of the other source are kept");
        let bad = outcomes.iter().find(|o| o.source.name == "bad").unwrap();
        match &bad.status {
            Status::Failed(m) => assert!(m.contains("index out of bounds: the len is 3 but the index is 7"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_source_that_disconnects_and_one_never_built_are_failures() {
        let (tx, running) = runner::detached(SourceId { collector: SourceKind::Docker, name: "gone".into() });
        tx.send(runner::Msg::Events(vec![event(3, SourceKind::Docker, "web", "d:1")])).unwrap();
        drop(tx);
        let broken =
            Broken { source: SourceId { collector: SourceKind::Git, name: "nope".into() }, error: "no repo".into() };
        let mut merge = Merge::new(vec![running], vec![broken]);
        let events: Vec<Event> = merge.by_ref().collect();
        assert_eq!(events.len(), 1);
        let outcomes = merge.outcomes();
        assert_eq!(outcomes[0].status, Status::Failed("the collector stopped without a word".into()));
        assert_eq!(outcomes[1].status, Status::Failed("no repo".into()));
    }

    #[test]
    fn many_large_sources_on_a_small_pool_never_stall() {
        // Each source has far more events than may be in flight, so readers
        // must wait on the merge while other sources are still queued.
        let n = 40;
        let per = 3_000;
        let sources: Vec<Source> = (0..n)
            .map(|s| {
                let evs = (0..per).map(|i| event(i * n + s, SourceKind::Logfile, "c", &format!("{s}:{i}"))).collect();
                blocking(Fake::new(Box::leak(format!("src{s}").into_boxed_str()), evs))
            })
            .collect();
        let started = runner::start(
            sources,
            CollectContext { window: window(), detail: Detail::All, anchor: None },
            Duration::from_secs(60),
        );
        let threads_at_start = started.threads();
        let mut merge = Merge::new(started.running, Vec::new());
        let times: Vec<i64> = merge.by_ref().map(|e| e.time.unix_seconds()).collect();
        assert_eq!(times.len() as i64, n * per);
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "merged in order");
        assert!(merge.outcomes().iter().all(|o| o.status == Status::Complete));
        // One reader per core, and as many again started for queued sources
        // while every reader waits on the merge; not one per source.
        let pool = runner::pool_size(n as usize);
        assert!((pool..=2 * pool).contains(&threads_at_start), "{threads_at_start} threads");
    }

    /// A source that can stop where its sink asks and go on later, as a
    /// plain log does; it counts every event it hands over.
    struct Parking {
        name: String,
        events: std::vec::IntoIter<Event>,
        emitted: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Collector for Parking {
        fn source(&self) -> SourceId {
            SourceId { collector: SourceKind::Logfile, name: self.name.clone() }
        }
        fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
            let mut step = self.step(ctx, sink)?;
            while let reconstruct_core::Step::Parked(c) = step {
                step = c.step(ctx, sink)?;
            }
            Ok(())
        }
        fn step(
            mut self: Box<Self>,
            _: &CollectContext,
            sink: &mut dyn EventSink,
        ) -> Result<reconstruct_core::Step, CollectError> {
            sink.parkable(true);
            while let Some(e) = self.events.next() {
                sink.emit(e)?;
                self.emitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if sink.yield_asked() {
                    sink.parkable(false);
                    return Ok(reconstruct_core::Step::Parked(self));
                }
            }
            sink.parkable(false);
            Ok(reconstruct_core::Step::Done)
        }
    }

    /// A source that reads to its end, waiting on the merge where it may,
    /// and counts every event it hands over.
    struct Counting {
        name: String,
        events: Vec<Event>,
        emitted: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Collector for Counting {
        fn source(&self) -> SourceId {
            SourceId { collector: SourceKind::Journal, name: self.name.clone() }
        }
        fn collect(self: Box<Self>, _: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
            for e in self.events {
                sink.emit(e)?;
                self.emitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        }
    }

    #[test]
    fn sources_that_cannot_park_wait_while_a_thread_serves_the_parked_ones() {
        // Two big sources that cannot park take both threads and fill what
        // may be in flight; the logs that park are queued behind them. A
        // thread is started for the queue, so neither big source has to
        // read on to its end while the merge waits on a queued log.
        let n: i64 = 102;
        let emitted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut sources: Vec<Source> = Vec::new();
        for s in 0..2 {
            let evs = (0..100_000).map(|i| event(i * n + s, SourceKind::Journal, "j", &format!("{s}:{i}"))).collect();
            sources.push(Source::Blocking(Box::new(Counting {
                name: format!("big{s}"),
                events: evs,
                emitted: emitted.clone(),
            })));
        }
        for s in 2..n {
            let evs: Vec<Event> =
                (0..300).map(|i| event(i * n + s, SourceKind::Logfile, "c", &format!("{s}:{i}"))).collect();
            sources.push(Source::Blocking(Box::new(Parking {
                name: format!("log{s}"),
                events: evs.into_iter(),
                emitted: emitted.clone(),
            })));
        }
        let started = runner::start(
            sources,
            CollectContext { window: window(), detail: Detail::All, anchor: None },
            Duration::from_secs(60),
        );
        let mut merge = Merge::new(started.running, Vec::new());
        let mut taken = 0usize;
        let mut most = 0;
        let mut last = i64::MIN;
        for e in merge.by_ref() {
            taken += 1;
            assert!(e.time.unix_seconds() >= last, "merged in order");
            last = e.time.unix_seconds();
            most = most.max(emitted.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(taken));
        }
        assert_eq!(taken, 2 * 100_000 + 100 * 300);
        assert!(merge.outcomes().iter().all(|o| o.status == Status::Complete));
        // Each big source holds a reorder buffer and what may be in flight;
        // reading one to its end would hold 100,000.
        assert!(most < 50_000, "{most} events held ahead of the merge");
    }

    #[test]
    fn many_sources_that_can_park_are_held_a_batch_each_not_whole() {
        // Every source spans the whole time range, so the merge needs the
        // first event of each before it gives its first: readers that ran
        // to their end would hold all 600,000 events by then.
        let n = 1_000;
        let per = 600;
        let emitted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let sources: Vec<Source> = (0..n)
            .map(|s| {
                let evs: Vec<Event> =
                    (0..per).map(|i| event(i * n + s, SourceKind::Logfile, "c", &format!("{s}:{i}"))).collect();
                Source::Blocking(Box::new(Parking {
                    name: format!("src{s}"),
                    events: evs.into_iter(),
                    emitted: emitted.clone(),
                }))
            })
            .collect();
        let started = runner::start(
            sources,
            CollectContext { window: window(), detail: Detail::All, anchor: None },
            Duration::from_secs(60),
        );
        let mut merge = Merge::new(started.running, Vec::new());
        let mut times = Vec::with_capacity((n * per) as usize);
        let mut most = 0;
        for e in merge.by_ref() {
            times.push(e.time.unix_seconds());
            // Read ahead of the merge: what the sources hold between them.
            let held = emitted.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(times.len());
            most = most.max(held);
        }
        assert_eq!(times.len() as i64, n * per);
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "merged in order");
        assert!(merge.outcomes().iter().all(|o| o.status == Status::Complete));
        // A reorder buffer and about a batch and a half of each, at most.
        let bound = (n as usize) * (runner::reorder_for(n as usize) + 2 * runner::batch_for(n as usize));
        assert!(most <= bound, "{most} events held ahead of the merge, more than {bound}");
        assert!(most < (n * per) as usize / 10, "{most}");
    }
}
