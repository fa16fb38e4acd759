//! Runs the sources concurrently at a bounded cost: blocking readers (files,
//! repositories) on a pool of threads sized from the cores, network sources
//! as tasks on one async runtime thread. Each source becomes an ordered
//! stream for the merge, under its own deadline. A source that fails, panics
//! or runs out of time becomes a coverage line, never the end of the run.

use std::collections::VecDeque;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use reconstruct_core::reorder::ReorderBuffer;
use reconstruct_core::{
    CollectContext, CollectError, Collector, Diagnostic, Event, EventSink, NetworkCollector, Source, SourceId, Stopped,
    TimeWindow, Timestamp,
};

/// Events handed over per message: amortises the channel's cost per event.
/// Like the reorder buffer, shared among the sources (`BATCH_TOTAL`), so
/// many sources keep the events in flight bounded.
const BATCH: usize = 512;
const BATCH_TOTAL: usize = 8_192;
const BATCH_MIN: usize = 32;
/// Batches in flight per source before its reader waits for the merge.
pub const IN_FLIGHT: usize = 4;
/// How far out of order the sources together may be and still come out
/// sorted: shared among them, so a directory of a thousand logs does not
/// hold a thousand full buffers.
const REORDER_TOTAL: usize = 16_384;
/// …but never less than this per source.
const REORDER_MIN: usize = 256;
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
}

#[derive(Default)]
struct FlowState {
    in_flight: usize,
    closed: bool,
    /// When the source began to run (its deadline counts from there).
    started: Option<Instant>,
    /// Set when the merge gave up on the source.
    abandoned: bool,
}

/// The readers' pool: the sources still waiting for a thread, and how many
/// threads are waiting on the merge. A reader may only wait while another
/// thread is free to start the waiting sources: the merge needs the first
/// event of every source, so a pool whose threads all waited on the merge
/// while sources were still queued would never move again.
struct Pool {
    state: Mutex<PoolState>,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Threads that count: started, not stuck in a source that timed out.
    workers: usize,
    /// Of those, how many wait on the merge.
    waiting: usize,
    /// Threads started in all (for tests and the benchmark).
    spawned: usize,
}

struct Job {
    collector: Box<dyn Collector>,
    sink: ChannelSink,
}

impl Pool {
    /// Claims a waiting place, or says the reader must go on.
    fn try_wait(&self) -> bool {
        let mut st = lock(&self.state);
        if st.queue.is_empty() || st.waiting.saturating_add(1) < st.workers {
            st.waiting = st.waiting.saturating_add(1);
            true
        } else {
            false
        }
    }

    fn end_wait(&self) {
        let mut st = lock(&self.state);
        st.waiting = st.waiting.saturating_sub(1);
    }

    fn next(&self) -> Option<Job> {
        lock(&self.state).queue.pop_front()
    }
}

/// The events a source has read but not yet handed over: the batch being
/// filled and those its reorder buffer holds. Shared with the merge, so that
/// a source cut off by its deadline keeps them (a reader stuck in a read
/// never sends its last batch).
struct Held {
    batch: Vec<Event>,
    reorder: ReorderBuffer,
    /// The merge took them: the reader stops at its next event.
    salvaged: bool,
}

/// The handle the merge keeps on a running source.
pub struct Running {
    pub source: SourceId,
    pub rx: Receiver<Msg>,
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

    /// The merge took a batch: room for another.
    pub fn received(&self) {
        let mut st = lock(&self.flow.state);
        st.in_flight = st.in_flight.saturating_sub(1);
        self.flow.room.notify_all();
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
        {
            let mut st = lock(&self.flow.state);
            st.closed = true;
            st.abandoned = true;
            self.flow.room.notify_all();
        }
        if let Some(pool) = &self.pool {
            let replace = {
                let mut st = lock(&pool.state);
                st.workers = st.workers.saturating_sub(1);
                !st.queue.is_empty()
            };
            if replace {
                spawn_worker(pool.clone(), self.ctx);
            }
        }
        let (_, rx) = channel();
        self.rx = rx;
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
    tx: Sender<Msg>,
    flow: Arc<Flow>,
    /// Readers on the pool wait for the merge; network tasks never block.
    pool: Option<Arc<Pool>>,
    batch_size: usize,
    held: Arc<Mutex<Held>>,
    window: TimeWindow,
    tally: Arc<Mutex<Tally>>,
    local: Tally,
}

impl ChannelSink {
    fn send(&mut self) -> Result<(), Stopped> {
        self.publish();
        let batch = {
            let mut h = lock(&self.held);
            if h.salvaged {
                return Err(Stopped);
            }
            std::mem::replace(&mut h.batch, Vec::with_capacity(self.batch_size))
        };
        if batch.is_empty() {
            return Ok(());
        }
        {
            let mut st = lock(&self.flow.state);
            if st.closed {
                return Err(Stopped);
            }
            st.in_flight = st.in_flight.saturating_add(1);
        }
        self.tx.send(Msg::Events(batch)).map_err(|_| Stopped)?;
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
            if !pool.try_wait() {
                return Ok(());
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
        let _ = self.tx.send(Msg::Done(done));
    }
}

impl EventSink for ChannelSink {
    fn emit(&mut self, event: Event) -> Result<(), Stopped> {
        if !self.window.contains(event.time) {
            return Ok(());
        }
        let full = {
            let mut h = lock(&self.held);
            if h.salvaged {
                return Err(Stopped);
            }
            let Held { batch, reorder, .. } = &mut *h;
            reorder.push(event, batch);
            batch.len() >= self.batch_size
        };
        if full {
            self.send()?;
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
            lock(&flow.state).started = Some(Instant::now());
            let Job { collector, mut sink } = job;
            // A panic in a collector is that source's failure, not the run's.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| collector.collect(&ctx, &mut sink)));
            sink.done(result);
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
        for job in std::mem::take(&mut st.queue) {
            let _ = job.sink.tx.send(Msg::Done(Err(format!("cannot start a reader thread: {e}"))));
        }
    }
}

/// Starts every source: blocking ones on the pool, network ones on the runtime thread.
pub fn start(sources: Vec<Source>, ctx: CollectContext, timeout: Duration) -> Started {
    let window = ctx.window;
    let n = sources.len().max(1);
    let reorder = (REORDER_TOTAL / n).max(REORDER_MIN);
    let batch_size = (BATCH_TOTAL / n).clamp(BATCH_MIN, BATCH);
    let blocking = sources.iter().filter(|s| matches!(s, Source::Blocking(_))).count();
    let pool = (blocking > 0).then(|| {
        Arc::new(Pool { state: Mutex::new(PoolState { queue: VecDeque::new(), workers: 0, waiting: 0, spawned: 0 }) })
    });
    let mut running = Vec::with_capacity(sources.len());
    let mut network: Vec<(Box<dyn NetworkCollector>, ChannelSink)> = Vec::new();
    for source in sources {
        let id = source.id();
        let (tx, rx) = channel();
        let tally = Arc::new(Mutex::new(Tally::default()));
        let flow = Arc::new(Flow::default());
        let held = Arc::new(Mutex::new(Held {
            batch: Vec::with_capacity(batch_size),
            reorder: ReorderBuffer::new(reorder),
            salvaged: false,
        }));
        let on_pool = match &source {
            Source::Blocking(_) => pool.clone(),
            Source::Network(_) => None,
        };
        let sink = ChannelSink {
            tx,
            flow: flow.clone(),
            pool: on_pool.clone(),
            batch_size,
            held: held.clone(),
            window,
            tally: tally.clone(),
            local: Tally::default(),
        };
        match source {
            Source::Blocking(collector) => {
                if let Some(p) = &pool {
                    lock(&p.state).queue.push_back(Job { collector, sink });
                }
            }
            Source::Network(c) => network.push((c, sink)),
        }
        running.push(Running { source: id, rx, tally, held, timeout, flow, pool: on_pool, ctx });
    }
    if let Some(p) = &pool {
        for _ in 0..pool_size(blocking) {
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
                    let _ = sink.tx.send(Msg::Done(Err(format!("cannot start the async runtime: {e}"))));
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
pub fn detached(source: SourceId) -> (Sender<Msg>, Running) {
    let (tx, rx) = channel();
    let flow = Arc::new(Flow::default());
    lock(&flow.state).started = Some(Instant::now());
    let window = TimeWindow::new(Timestamp::MIN, Timestamp::MAX).expect("the widest window is valid");
    let running = Running {
        source,
        rx,
        tally: Arc::new(Mutex::new(Tally::default())),
        held: Arc::new(Mutex::new(Held {
            batch: Vec::new(),
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
