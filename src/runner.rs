//! Runs the sources concurrently at a bounded cost: blocking readers (files,
//! repositories) on a pool of threads sized from the cores, network sources
//! as tasks on one async runtime thread. Each source becomes an ordered
//! stream for the merge, under its own deadline. A source that fails, panics
//! or runs out of time becomes a coverage line, never the end of the run.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use reconstruct_core::reorder::ReorderBuffer;
use reconstruct_core::{
    CollectContext, CollectError, Collector, Diagnostic, Event, EventSink, NetworkCollector, Source, SourceId, Step,
    Stopped, TimeWindow, Timestamp,
};

/// Events handed over per message: amortises the hand-over's cost per event.
/// Like the reorder buffer, shared among the sources (`BATCH_TOTAL`), so
/// many sources keep the events in flight bounded. The least batch is what
/// a parked reader reads per step: smaller, and reopening its file costs
/// more than its lines; larger, and thousands of sources hold more (over
/// 5,000 logs in `--all`: 32 events a step held 133 MiB; 16 held 100 MiB;
/// 12 held 89-93 MiB in a twentieth more time than 16; 8 held 84 MiB in a
/// fifth more. Their summary, where few files fill a batch, holds 74 MiB
/// at 12 and 66 at 16).
const BATCH: usize = 512;
const BATCH_TOTAL: usize = 8_192;
const BATCH_MIN: usize = 12;
/// The same budget in bytes: a source of long lines sends smaller batches,
/// so thousands of them still hold a bounded amount. Not below 8 KiB a
/// batch: 5,000 logs of 380-byte lines took 4.1 s and 125 MiB at 4 KiB,
/// 3.0 s and 155 MiB at 8 (the build before batches by bytes: 2.9 s and
/// 1.1 GiB).
const BATCH_BYTES: usize = 16 << 20;
const BATCH_BYTES_MIN: usize = 8 << 10;
/// Batches in flight per source before its reader waits for the merge.
pub const IN_FLIGHT: usize = 4;
/// How far out of order the sources together may be and still come out
/// sorted: shared among them, so a directory of a thousand logs does not
/// hold a thousand full buffers.
const REORDER_TOTAL: usize = 16_384;
/// …but never less than this per source: lines a few places out of order
/// (threads that log at once) still come out sorted, and 5,000 sources
/// hold 40,000 events, not the 1.3 million a floor of 256 let them.
const REORDER_MIN: usize = 8;
/// A source seen out of order grows its buffer up to this (the floor it
/// once had): only the sources that need the room take it.
const REORDER_GROWN: usize = 256;
/// Diagnostics kept per source; the rest are counted.
const DIAGNOSTICS_KEPT: usize = 20;
/// How often a waiting reader looks again (the merge may have gone).
const RECHECK: Duration = Duration::from_millis(50);

pub enum Msg {
    Events(Vec<Event>),
    Done(Result<(), String>),
}

pub use crate::coverage::{Broken, Outcome, Status, Tally};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Backpressure between one source and the merge: how many batches are
/// in flight, and whether the merge still wants them.
#[derive(Default)]
struct Flow {
    state: Mutex<FlowState>,
    room: Condvar,
    /// Signalled when a message is posted or the last sender is gone.
    ready: Condvar,
}

#[derive(Default)]
struct FlowState {
    /// The source's messages on their way to the merge: a queue under the
    /// source's own lock, not a channel of its own (a channel weighs over a
    /// kilobyte and a half by its first message, and a run may read
    /// thousands of sources).
    mail: VecDeque<Msg>,
    /// Senders still held ([`Post`]): none left and no mail, the source is gone.
    posts: usize,
    in_flight: usize,
    closed: bool,
    /// When the source began to run (its deadline counts from there, less
    /// the time it ran before it was parked); `None` while queued or parked.
    started: Option<Instant>,
    /// How long it ran before it was parked: parked, it waits on the merge,
    /// and that is not its time.
    ran: Duration,
    /// Set when the merge gave up on the source.
    abandoned: bool,
    /// The source's reader, stopped until the merge runs low on its events.
    parked: Option<Job>,
    /// The merge ran low while the reader was not parked: the next batch
    /// sent answers it; a reader that parks before is queued again at once.
    wanted: bool,
}

/// The readers' pool: the sources still waiting for a thread, and how many
/// threads are waiting on the merge. A reader may only wait while another
/// thread is free to start the waiting sources: the merge needs the first
/// event of every source, so a pool whose threads all waited on the merge
/// while sources were still queued would never move again.
///
/// With more sources than threads, a reader that can stop and go on later
/// (a plain log file) does not wait: once the merge holds a batch of its,
/// it parks, holding no thread, file or buffer, and is queued again when
/// the merge takes that batch. So a run over thousands of files holds a
/// batch of each, not every file's events.
struct Pool {
    state: Mutex<PoolState>,
    /// Signalled when a job is queued or one ends: idle threads look again.
    work: Condvar,
    /// What the run reads, for threads started later.
    ctx: CollectContext,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Jobs not yet done: queued, running or parked. Threads stay while
    /// any is left, as a parked one comes back to the queue.
    live: usize,
    /// Threads that count: started, not stuck in a source that timed out.
    workers: usize,
    /// Of those, how many wait on the merge.
    waiting: usize,
    /// Threads started in all (for tests and the benchmark).
    spawned: usize,
    /// Threads started beyond the first so that queued sources move while
    /// every thread holds a source that waits on the merge, and how many may be.
    extra: usize,
    extra_most: usize,
}

/// What a reader whose batches the merge has not taken does ([`Pool::try_wait`]).
enum Wait {
    /// Waits: another thread is free to start the queued sources.
    Yes,
    /// Waits, once a thread is started for the queued sources.
    Spawn,
    /// Goes on reading: no thread is free and no more may be started.
    GoOn,
}

struct Job {
    collector: Box<dyn Collector>,
    sink: ChannelSink,
}

impl Pool {
    /// Claims a waiting place, or says the reader must go on. Where every
    /// other thread waits and sources are queued (a parked log the merge
    /// wants back), a thread is started for them, up to as many again as
    /// the pool had: else the reader would read its source to its end
    /// while the merge waits on the queued one.
    fn try_wait(&self) -> Wait {
        let mut st = lock(&self.state);
        if st.queue.is_empty() || st.waiting.saturating_add(1) < st.workers {
            st.waiting = st.waiting.saturating_add(1);
            Wait::Yes
        } else if st.extra < st.extra_most {
            st.extra = st.extra.saturating_add(1);
            st.waiting = st.waiting.saturating_add(1);
            Wait::Spawn
        } else {
            Wait::GoOn
        }
    }

    fn end_wait(&self) {
        let mut st = lock(&self.state);
        st.waiting = st.waiting.saturating_sub(1);
    }

    /// The next job, waiting while jobs are parked or running elsewhere
    /// (they may come back); `None` when every job is done.
    fn next(&self) -> Option<Job> {
        let mut st = lock(&self.state);
        loop {
            if let Some(job) = st.queue.pop_front() {
                return Some(job);
            }
            if st.live == 0 {
                return None;
            }
            st = self.work.wait_timeout(st, RECHECK).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// A parked job the merge wants again goes first: the merge waits on it.
    fn requeue(&self, job: Job) {
        lock(&self.state).queue.push_front(job);
        self.work.notify_one();
    }

    /// A job is done, or dropped while parked.
    fn ended(&self) {
        let mut st = lock(&self.state);
        st.live = st.live.saturating_sub(1);
        if st.live == 0 {
            self.work.notify_all();
        }
    }
}

/// The events a source has read but not yet handed over: the batch being
/// filled and those its reorder buffer holds. Shared with the merge, so that
/// a source cut off by its deadline keeps them (a reader stuck in a read
/// never sends its last batch).
struct Held {
    batch: Vec<Event>,
    /// What the batch's events hold ([`Event::held_bytes`]).
    bytes: usize,
    reorder: ReorderBuffer,
    /// The merge took them: the reader stops at its next event.
    salvaged: bool,
}

/// The sending end of a source's messages; dropped without its last
/// message, the merge hears the source is gone.
pub struct Post {
    flow: Arc<Flow>,
}

impl Post {
    fn new(flow: Arc<Flow>) -> Self {
        let mut st = lock(&flow.state);
        st.posts = st.posts.saturating_add(1);
        drop(st);
        Post { flow }
    }

    /// Posts a message; a batch counts as in flight until the merge takes it.
    pub fn send(&self, msg: Msg) -> Result<(), Stopped> {
        let mut st = lock(&self.flow.state);
        if st.closed {
            return Err(Stopped);
        }
        if matches!(msg, Msg::Events(_)) {
            st.in_flight = st.in_flight.saturating_add(1);
            st.wanted = false;
        }
        st.mail.push_back(msg);
        self.flow.ready.notify_one();
        Ok(())
    }
}

impl Drop for Post {
    fn drop(&mut self) {
        let mut st = lock(&self.flow.state);
        st.posts = st.posts.saturating_sub(1);
        self.flow.ready.notify_one();
    }
}

/// Why [`Running::recv_timeout`] brought no message.
pub enum NoMail {
    Timeout,
    /// Every sender is gone without its last message.
    Gone,
}

/// The handle the merge keeps on a running source.
pub struct Running {
    pub source: SourceId,
    pub tally: Arc<Mutex<Tally>>,
    held: Arc<Mutex<Held>>,
    pub timeout: Duration,
    flow: Arc<Flow>,
    /// The pool, for a blocking source: told when the source's thread is lost to a timeout.
    pool: Option<Arc<Pool>>,
    ctx: CollectContext,
}

impl Running {
    /// When the source must be done by; `None` while it waits for a thread.
    pub fn deadline(&self) -> Option<Instant> {
        lock(&self.flow.state).started.map(|s| s + self.timeout)
    }

    /// The source's next message, waiting at most `wait`. A batch taken
    /// makes room for another.
    pub fn recv_timeout(&self, wait: Duration) -> Result<Msg, NoMail> {
        let until = Instant::now().checked_add(wait);
        let mut st = lock(&self.flow.state);
        loop {
            if let Some(msg) = st.mail.pop_front() {
                if matches!(msg, Msg::Events(_)) {
                    st.in_flight = st.in_flight.saturating_sub(1);
                    self.flow.room.notify_all();
                }
                return Ok(msg);
            }
            if st.posts == 0 {
                return Err(NoMail::Gone);
            }
            let left = until.map_or(wait, |u| u.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                return Err(NoMail::Timeout);
            }
            st = self.flow.ready.wait_timeout(st, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// The merge is near the end of what it holds of the source: a parked
    /// reader of it goes back to the queue, if no batch of its is waiting.
    pub fn running_low(&self) {
        let mut st = lock(&self.flow.state);
        if st.in_flight == 0 {
            match (st.parked.take(), &self.pool) {
                (Some(job), Some(pool)) => pool.requeue(job),
                // Still running: it goes on at once when it parks.
                _ => st.wanted = true,
            }
        }
    }

    /// The events the source read and still held when its deadline came,
    /// in order; the reader stops at its next event.
    pub fn salvage(&self) -> Vec<Event> {
        let mut h = lock(&self.held);
        h.salvaged = true;
        let Held { batch, reorder, .. } = &mut *h;
        reorder.finish(batch);
        let late = reorder.late();
        lock(&self.tally).late = late;
        std::mem::take(batch)
    }

    /// The merge gives up on the source: its reader stops at its next event,
    /// and a pool thread stuck in it is replaced so the queue still moves.
    pub fn abandon(&mut self) {
        let (parked, _mail) = {
            let mut st = lock(&self.flow.state);
            st.closed = true;
            st.abandoned = true;
            self.flow.room.notify_all();
            (st.parked.take(), std::mem::take(&mut st.mail))
        };
        if let (Some(job), Some(pool)) = (parked, &self.pool) {
            drop(job);
            pool.ended();
        }
        if let Some(pool) = &self.pool {
            let replace = {
                let mut st = lock(&pool.state);
                st.workers = st.workers.saturating_sub(1);
                // Parked readers come back to the queue: they need a thread too.
                !st.queue.is_empty() || st.live > 1
            };
            if replace {
                spawn_worker(pool.clone(), self.ctx);
            }
        }
    }
}

impl Drop for Running {
    /// A reader still parked when the merge lets go of its source (the
    /// output was closed) is dropped, so the pool's threads can end.
    fn drop(&mut self) {
        let (parked, _mail) = {
            let mut st = lock(&self.flow.state);
            // Its reader stops at its next batch.
            st.closed = true;
            self.flow.room.notify_all();
            (st.parked.take(), std::mem::take(&mut st.mail))
        };
        if let (Some(job), Some(pool)) = (parked, &self.pool) {
            drop(job);
            pool.ended();
        }
    }
}

/// What a run started: the streams, and the threads it took.
pub struct Started {
    pub running: Vec<Running>,
    pool: Option<Arc<Pool>>,
    network_thread: bool,
}

impl Started {
    /// Threads started so far: readers (replacements included) and the network thread.
    pub fn threads(&self) -> usize {
        self.pool.as_ref().map_or(0, |p| lock(&p.state).spawned) + usize::from(self.network_thread)
    }
}

struct ChannelSink {
    post: Post,
    flow: Arc<Flow>,
    /// Readers on the pool wait for the merge; network tasks never block.
    pool: Option<Arc<Pool>>,
    /// More sources than threads: a reader that can park does, instead of
    /// waiting (see [`Pool`]).
    parking: bool,
    /// The collector says it can stop at its next line ([`EventSink::parkable`]).
    parkable: bool,
    /// It is asked to ([`EventSink::yield_asked`]).
    yield_now: bool,
    batch_size: usize,
    /// A batch is sent at this many bytes too: long lines make fewer events a batch.
    batch_bytes: usize,
    held: Arc<Mutex<Held>>,
    window: TimeWindow,
    tally: Arc<Mutex<Tally>>,
    local: Tally,
    /// Events folded since the counts were last published, by group.
    folded: Vec<crate::coverage::FoldCount>,
}

impl ChannelSink {
    fn send(&mut self) -> Result<(), Stopped> {
        self.publish();
        let mut batch = {
            let mut h = lock(&self.held);
            if h.salvaged {
                return Err(Stopped);
            }
            h.bytes = 0;
            std::mem::take(&mut h.batch)
        };
        if batch.is_empty() {
            return Ok(());
        }
        // The merge holds each source's batch until it is taken: the last,
        // short one of thousands of sources need not keep a whole batch's room.
        if batch.len() < batch.capacity() / 2 {
            batch.shrink_to_fit();
        }
        if lock(&self.flow.state).closed {
            return Err(Stopped);
        }
        self.post.send(Msg::Events(batch))?;
        if self.parking && self.parkable {
            // The merge has a batch of this source: enough until it takes it.
            self.yield_now = true;
            return Ok(());
        }
        self.wait_for_room()
    }

    /// Waits while the merge has enough of this source's batches, unless
    /// waiting could stall the pool (see [`Pool`]).
    fn wait_for_room(&self) -> Result<(), Stopped> {
        let Some(pool) = &self.pool else { return Ok(()) };
        loop {
            {
                let st = lock(&self.flow.state);
                if st.closed {
                    return Err(Stopped);
                }
                if st.in_flight < IN_FLIGHT {
                    return Ok(());
                }
            }
            match pool.try_wait() {
                Wait::Yes => {}
                Wait::Spawn => spawn_worker(pool.clone(), pool.ctx),
                Wait::GoOn => return Ok(()),
            }
            {
                let st = lock(&self.flow.state);
                if st.in_flight >= IN_FLIGHT && !st.closed {
                    let _ = self.flow.room.wait_timeout(st, RECHECK);
                }
            }
            pool.end_wait();
        }
    }

    /// Moves local counts into the shared tally, so a source that times out
    /// still reports what it had counted.
    fn publish(&mut self) {
        let mut t = lock(&self.tally);
        t.skipped = t.skipped.saturating_add(std::mem::take(&mut self.local.skipped));
        t.skipped_lines = t.skipped_lines.saturating_add(std::mem::take(&mut self.local.skipped_lines));
        if let Some(f) = self.local.first_skipped.take() {
            t.first_skipped = Some(t.first_skipped.map_or(f, |x| x.min(f)));
        }
        if let Some(l) = self.local.last_skipped.take() {
            t.last_skipped = Some(t.last_skipped.map_or(l, |x| x.max(l)));
        }
        t.late = lock(&self.held).reorder.late();
        for (f, n) in t.folds.iter_mut().zip(&mut self.folded) {
            f.count.absorb(std::mem::take(n));
        }
    }

    fn finish(&mut self) -> Result<(), Stopped> {
        {
            let mut h = lock(&self.held);
            let Held { batch, reorder, .. } = &mut *h;
            reorder.finish(batch);
        }
        self.send()
    }

    /// Ends the stream with the collector's result.
    fn done(mut self, result: std::thread::Result<Result<(), CollectError>>) {
        let done = match result {
            Ok(Ok(())) => self.finish().map_err(|e| e.to_string()),
            Ok(Err(e)) => {
                let _ = self.finish();
                Err(reconstruct_core::text::error_chain(&*e))
            }
            Err(panic) => {
                // What it read before the crash is still evidence.
                let _ = self.finish();
                Err(format!("the collector crashed: {} (a bug in reconstruct: please report it)", panic_text(&*panic)))
            }
        };
        let _ = self.post.send(Msg::Done(done));
    }
}

impl ChannelSink {
    /// Puts an event in the reorder buffer (a stand-in for a folded one is
    /// never handed on); sends the batch once it is full.
    fn hold(&mut self, event: Event, stand_in: bool) -> Result<(), Stopped> {
        let full = {
            let mut h = lock(&self.held);
            if h.salvaged {
                return Err(Stopped);
            }
            let Held { batch, reorder, bytes, .. } = &mut *h;
            // An empty batch takes the reorder buffer's segment whole (no
            // room is taken for it before).
            let before = batch.len();
            if stand_in {
                reorder.push_stand_in(event, batch);
            } else {
                reorder.push(event, batch);
            }
            for e in batch.get(before..).unwrap_or_default() {
                *bytes = bytes.saturating_add(e.held_bytes());
            }
            batch.len() >= self.batch_size || *bytes >= self.batch_bytes
        };
        if full {
            self.send()?;
        }
        Ok(())
    }
}

/// The most fold groups one source opens; past it, its events come whole.
const FOLD_GROUPS: usize = 4096;

impl EventSink for ChannelSink {
    fn emit(&mut self, event: Event) -> Result<(), Stopped> {
        if !self.window.contains(event.time) {
            return Ok(());
        }
        self.hold(event, false)
    }

    fn fold_group(&mut self, like: &Event) -> Option<u32> {
        let mut t = lock(&self.tally);
        if t.folds.len() >= FOLD_GROUPS {
            return None;
        }
        let group = u32::try_from(t.folds.len()).ok()?;
        let like = Event {
            evidence: reconstruct_core::Evidence { excerpt: String::new(), ..like.evidence.clone() },
            ..like.clone()
        };
        t.folds.push(crate::coverage::Folded { like, count: Default::default() });
        Some(group)
    }

    fn fold(&mut self, event: Event, group: u32) -> Result<(), Stopped> {
        if !self.window.contains(event.time) {
            return Ok(());
        }
        let (time, lines) = (event.time, event.continuation_lines);
        self.hold(event, true)?;
        let Ok(at) = usize::try_from(group) else { return Ok(()) };
        if self.folded.len() <= at {
            self.folded.resize(at.saturating_add(1), Default::default());
        }
        if let Some(n) = self.folded.get_mut(at) {
            n.add(time, lines);
        }
        Ok(())
    }

    fn skip(&mut self, time: Timestamp, extra_lines: u32) {
        if !self.window.contains(time) {
            return;
        }
        self.local.skipped = self.local.skipped.saturating_add(1);
        self.local.skipped_lines = self.local.skipped_lines.saturating_add(u64::from(extra_lines));
        self.local.first_skipped = Some(self.local.first_skipped.map_or(time, |f| f.min(time)));
        self.local.last_skipped = Some(self.local.last_skipped.map_or(time, |l| l.max(time)));
    }

    fn diagnostic(&mut self, d: Diagnostic) {
        let mut t = lock(&self.tally);
        t.diagnostics_total = t.diagnostics_total.saturating_add(1);
        if t.diagnostics.len() < DIAGNOSTICS_KEPT {
            t.diagnostics.push(d);
        }
    }

    fn note(&mut self, text: String) {
        lock(&self.tally).notes.push(text);
    }

    fn skipped_whole(&mut self, why: String) {
        lock(&self.tally).skipped_whole = Some(why);
    }

    fn parkable(&mut self, can: bool) {
        self.parkable = can;
    }

    fn yield_asked(&self) -> bool {
        self.yield_now
    }
}

/// The message a panic carried.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// How many reader threads a run uses: the cores, but no more than the
/// blocking sources need.
pub fn pool_size(blocking: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    cores.max(2).min(blocking.max(1))
}

fn spawn_worker(pool: Arc<Pool>, ctx: CollectContext) {
    {
        let mut st = lock(&pool.state);
        st.workers = st.workers.saturating_add(1);
        st.spawned = st.spawned.saturating_add(1);
    }
    let p = pool.clone();
    let spawned = std::thread::Builder::new().name("reader".into()).spawn(move || {
        while let Some(job) = p.next() {
            let flow = job.sink.flow.clone();
            let began = Instant::now();
            {
                let mut st = lock(&flow.state);
                st.started = Some(began.checked_sub(st.ran).unwrap_or(began));
            }
            let Job { collector, mut sink } = job;
            sink.yield_now = false;
            // A panic in a collector is that source's failure, not the run's.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| collector.step(&ctx, &mut sink)));
            match result {
                Ok(Ok(Step::Parked(collector))) => park(&p, Job { collector, sink }, began),
                Ok(Ok(Step::Done)) => {
                    sink.done(Ok(Ok(())));
                    p.ended();
                }
                Ok(Err(e)) => {
                    sink.done(Ok(Err(e)));
                    p.ended();
                }
                Err(panic) => {
                    sink.done(Err(panic));
                    p.ended();
                }
            }
            // A thread the merge gave up on has been replaced already.
            if lock(&flow.state).abandoned {
                return;
            }
        }
        let mut st = lock(&p.state);
        st.workers = st.workers.saturating_sub(1);
    });
    if let Err(e) = spawned {
        // No thread: the queued sources fail rather than wait forever.
        let mut st = lock(&pool.state);
        st.workers = st.workers.saturating_sub(1);
        let queued = std::mem::take(&mut st.queue);
        st.live = st.live.saturating_sub(queued.len());
        for job in queued {
            let _ = job.sink.post.send(Msg::Done(Err(format!("cannot start a reader thread: {e}"))));
        }
    }
}

/// A reader stopped to yield: it waits off the pool until the merge runs
/// low on its events, or goes back at once if the merge already has.
fn park(pool: &Pool, job: Job, began: Instant) {
    let flow = job.sink.flow.clone();
    let mut st = lock(&flow.state);
    st.ran = st.ran.saturating_add(began.elapsed());
    st.started = None;
    if st.closed {
        drop(st);
        let _ = job.sink.post.send(Msg::Done(Err("stopped by the runner".to_string())));
        pool.ended();
    } else if st.wanted {
        st.wanted = false;
        pool.requeue(job);
    } else {
        st.parked = Some(job);
    }
}

/// Each source's reorder buffer when `sources` share the budget.
pub fn reorder_for(sources: usize) -> usize {
    (REORDER_TOTAL / sources.max(1)).max(REORDER_MIN)
}

/// Each source's batch when `sources` share the budget.
pub fn batch_for(sources: usize) -> usize {
    (BATCH_TOTAL / sources.max(1)).clamp(BATCH_MIN, BATCH)
}

/// Starts every source: blocking ones on the pool, network ones on the runtime thread.
pub fn start(sources: Vec<Source>, ctx: CollectContext, timeout: Duration) -> Started {
    let window = ctx.window;
    let n = sources.len().max(1);
    let reorder = reorder_for(n);
    let batch_size = batch_for(n);
    let batch_bytes = (BATCH_BYTES / n).max(BATCH_BYTES_MIN);
    let blocking = sources.iter().filter(|s| matches!(s, Source::Blocking(_))).count();
    let threads = pool_size(blocking);
    let parking = blocking > threads;
    let pool = (blocking > 0).then(|| {
        Arc::new(Pool {
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                live: 0,
                workers: 0,
                waiting: 0,
                spawned: 0,
                extra: 0,
                extra_most: threads,
            }),
            work: Condvar::new(),
            ctx,
        })
    });
    let mut running = Vec::with_capacity(sources.len());
    let mut network: Vec<(Box<dyn NetworkCollector>, ChannelSink)> = Vec::new();
    for source in sources {
        let id = source.id();
        let tally = Arc::new(Mutex::new(Tally::default()));
        let flow = Arc::new(Flow::default());
        let held = Arc::new(Mutex::new(Held {
            batch: Vec::new(),
            bytes: 0,
            reorder: ReorderBuffer::new(reorder).growing_to(REORDER_GROWN).segments_of(batch_size),
            salvaged: false,
        }));
        let on_pool = match &source {
            Source::Blocking(_) => pool.clone(),
            Source::Network(_) => None,
        };
        let sink = ChannelSink {
            post: Post::new(flow.clone()),
            flow: flow.clone(),
            pool: on_pool.clone(),
            parking,
            parkable: false,
            yield_now: false,
            batch_size,
            batch_bytes,
            held: held.clone(),
            window,
            tally: tally.clone(),
            local: Tally::default(),
            folded: Vec::new(),
        };
        match source {
            Source::Blocking(collector) => {
                if let Some(p) = &pool {
                    let mut st = lock(&p.state);
                    st.queue.push_back(Job { collector, sink });
                    st.live = st.live.saturating_add(1);
                }
            }
            Source::Network(c) => network.push((c, sink)),
        }
        running.push(Running { source: id, tally, held, timeout, flow, pool: on_pool, ctx });
    }
    if let Some(p) = &pool {
        for _ in 0..threads {
            spawn_worker(p.clone(), ctx);
        }
    }
    let network_thread = !network.is_empty();
    if network_thread {
        start_network(network, ctx, timeout);
    }
    Started { running, pool, network_thread }
}

/// One thread, one async runtime, every network source as a task on it,
/// each cancelled at its deadline.
fn start_network(tasks: Vec<(Box<dyn NetworkCollector>, ChannelSink)>, ctx: CollectContext, timeout: Duration) {
    let now = Instant::now();
    for (_, sink) in &tasks {
        lock(&sink.flow.state).started = Some(now);
    }
    let spawned = std::thread::Builder::new().name("network".into()).spawn(move || {
        let rt = match reconstruct_core::runtime() {
            Ok(rt) => rt,
            Err(e) => {
                for (_, sink) in tasks {
                    let _ = sink.post.send(Msg::Done(Err(format!("cannot start the async runtime: {e}"))));
                }
                return;
            }
        };
        let all = tasks.into_iter().map(|(c, mut sink)| async move {
            // The merge marks the source timed out at its deadline; this
            // cancels the task's I/O a moment later, so nothing is left waiting.
            let cancel = timeout.saturating_add(Duration::from_secs(1));
            let run = std::panic::AssertUnwindSafe(tokio::time::timeout(cancel, c.collect(&ctx, &mut sink)));
            let result = match run.catch_unwind().await {
                Ok(Ok(r)) => Ok(r),
                Ok(Err(_)) => Ok(Err(format!("timed out after {}s", timeout.as_secs_f64()).into())),
                Err(panic) => Err(panic),
            };
            sink.done(result);
        });
        rt.block_on(futures_util::future::join_all(all));
    });
    if let Err(e) = spawned {
        eprintln!("reconstruct: cannot start the network thread: {e}");
    }
}

/// A stream fed by hand, as if from a collector: for tests of the merge.
#[cfg(test)]
pub fn detached(source: SourceId) -> (Post, Running) {
    let flow = Arc::new(Flow::default());
    let tx = Post::new(flow.clone());
    lock(&flow.state).started = Some(Instant::now());
    let window = TimeWindow::new(Timestamp::MIN, Timestamp::MAX).expect("the widest window is valid");
    let running = Running {
        source,
        tally: Arc::new(Mutex::new(Tally::default())),
        held: Arc::new(Mutex::new(Held {
            batch: Vec::new(),
            bytes: 0,
            reorder: ReorderBuffer::new(REORDER_MIN),
            salvaged: false,
        })),
        timeout: Duration::from_secs(5),
        flow,
        pool: None,
        ctx: CollectContext { window, detail: reconstruct_core::Detail::All, anchor: None },
    };
    (tx, running)
}
