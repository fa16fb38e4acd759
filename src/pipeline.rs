//! One collection from resolved settings: the sources run, their streams
//! merged, secrets masked, the rows summarised; and the exit status that
//! says whether the timeline is partial. Shared by the timeline and the report.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::Context;
use reconstruct_core::{Detail, TimeWindow};

use crate::exit::Exit;
use crate::merge::{Merge, Taken};
use crate::redact;
use crate::render;
use crate::runner::{self, Outcome, Status};
use crate::settings::Settings;
use crate::summarise::{Row, Summariser, Totals};
use reconstruct_core::slice::Common;

pub struct Collected {
    pub window: TimeWindow,
    pub rows: Vec<Row>,
    pub totals: Totals,
    pub outcomes: Vec<Outcome>,
    /// With `--fixtures`: what vouches for the bundle.
    pub bundle: Option<crate::bundle::BundleCheck>,
}

impl Collected {
    /// What the renderers see of this collection.
    pub fn timeline(&self, all: bool) -> render::Timeline<'_> {
        render::Timeline {
            window: self.window,
            rows: &self.rows,
            totals: &self.totals,
            coverage: &self.outcomes,
            all,
            bundle: self.bundle.as_ref(),
        }
    }
}

/// Progress on stderr while collectors run, only for a person at a terminal.
struct Progress {
    on: bool,
    last: Instant,
    events: u64,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        Progress { on: !quiet && io::stderr().is_terminal(), last: Instant::now(), events: 0 }
    }
    fn tick(&mut self, merge: &Merge, events: usize) {
        self.events = self.events.saturating_add(events as u64);
        if self.on && self.last.elapsed() > Duration::from_millis(200) {
            self.last = Instant::now();
            let (done, total) = merge.progress();
            eprint!("\rreconstruct: {done}/{total} sources done, {} events so far", self.events);
        }
    }
    fn finish(&self) {
        if self.on {
            eprint!("\r\x1b[K");
        }
    }
}

/// Masks a row's event and every other event it shows (a restart's kill,
/// die and start). Returns how many values were masked.
pub fn mask_row(r: &mut Row) -> u64 {
    std::iter::once(&mut r.event).chain(r.also.iter_mut()).map(redact::event).fold(0, u64::saturating_add)
}

/// Where an export's events go as they are merged (`--all` in a line
/// format): each as a row of its own.
pub struct Stream<'a> {
    pub write: &'a mut dyn FnMut(Taken) -> io::Result<()>,
    /// The rows are handed on unmasked: the stream masks each itself, on
    /// the thread that formats it ([`mask_row`]), and adds its count to
    /// the totals. The merge's thread then only merges.
    pub masks_itself: bool,
}

/// Runs the collectors and builds the rows. With `stream`, every event is
/// handed to it as it is merged and no rows are kept (`--all` in a line format).
pub fn collect(settings: Settings, all: bool, max_rows: usize, stream: Option<Stream<'_>>) -> io::Result<Collected> {
    collect_observed(settings, all, max_rows, stream, None)
}

/// [`collect`], with every event of the window also shown to `findings`
/// (the report's findings stage sees what the table folds or leaves out).
pub fn collect_observed(
    settings: Settings,
    all: bool,
    max_rows: usize,
    mut stream: Option<Stream<'_>>,
    mut findings: Option<&mut crate::findings::Observer>,
) -> io::Result<Collected> {
    // A filter must see the routine lines too: `--grep` finds an info line;
    // and so must the findings: a request served is an info line.
    let detail = if all || settings.filter.is_some() {
        Detail::All
    } else if findings.is_some() {
        // The findings read routine events; the table never prints them.
        Detail::Read(settings.wanted_before())
    } else {
        Detail::Notable
    };
    let bundle = settings.bundle.clone();
    let filter = settings.filter.clone();
    let mut filtered = 0u64;
    // The findings look before the window (the lookback's changes, the
    // baseline's messages); the table shows the window alone.
    let read = if findings.is_some() { settings.reach() } else { settings.window };
    let shown_from = settings.window.since;
    let common = Common {
        window: read,
        anchor: Some(settings.window),
        timeout: settings.timeout,
        keep_literals: !settings.redact,
        cache_dir: settings.cache_dir.clone(),
    };
    let sources = settings.sources.into_iter().map(|s| s.open(&common)).collect();
    let ctx = reconstruct_core::CollectContext { window: read, detail, anchor: Some(settings.window) };
    let started = runner::start(sources, ctx, settings.timeout);
    if settings.redact {
        redact::prepare();
    }
    let mut merge = Merge::new(started.running, settings.unavailable).shown_from(shown_from);
    let mut progress = Progress::new(settings.quiet);
    let keep_secrets = !settings.redact;
    let mask_each = !keep_secrets && (all || stream.is_some()) && !stream.as_ref().is_some_and(|s| s.masks_itself);
    let mut masked = 0u64;
    let mut rows = Vec::new();
    let mut summariser = Summariser::new(max_rows);
    if !keep_secrets {
        summariser = summariser.masking();
    }
    if filter.is_some() {
        summariser = summariser.without_markers();
    }
    let mut events = 0u64;
    let mut result = Ok(());
    if let (Some(s), None, None) = (&mut stream, &filter, &findings) {
        // An export with nothing to judge an event by: the events go on as
        // they came from their source, a run at a time.
        while let Some(mut run) = merge.take_run() {
            progress.tick(&merge, run.count());
            // Only the window is read without findings, so every event is
            // shown; one from before it would be left out, as below.
            if run.events_mut().any(|e| e.time < shown_from) {
                let Some(kept) = Taken::of(run.events().filter(|e| e.time >= shown_from).collect()) else { continue };
                run = kept;
            }
            if mask_each {
                for e in run.events_mut() {
                    masked += redact::event(e);
                }
            }
            events += run.count() as u64;
            if result.is_ok() {
                result = (s.write)(run);
            }
        }
    }
    while let Some(mut e) = merge.next() {
        progress.tick(&merge, 1);
        if e.time < shown_from {
            if let Some(f) = findings.as_deref_mut() {
                f.observe_before(&mut e);
            }
            continue;
        }
        if filter.as_ref().is_some_and(|f| !f.keeps(&e)) {
            filtered = filtered.saturating_add(1);
            continue;
        }
        // Every event is printed in an export: each is masked as it passes.
        // The table prints its rows alone, masked once chosen (below): a
        // busy log's hundred thousand errors fold into a few dozen rows.
        // The findings mask what they quote.
        if mask_each {
            masked += redact::event(&mut e);
        }
        events += 1;
        // The baseline came first (the merge is in time order): the
        // findings know whether this message is new.
        let seen_before = findings.as_deref_mut().and_then(|f| f.observe(&e));
        match (&mut stream, all) {
            (Some(s), _) => {
                if result.is_ok() {
                    result = (s.write)(Taken::one(e));
                }
            }
            (None, true) => rows.push(render::single(e)),
            (None, false) => summariser.add_seen(e, seen_before),
        }
    }
    progress.finish();
    result?;
    let mut outcomes = merge.outcomes();
    if !keep_secrets {
        for o in &mut outcomes {
            masked = masked.saturating_add(redact::outcome(o));
        }
    }
    let mut totals = if all || stream.is_some() {
        Totals { events, ..Default::default() }
    } else {
        // What the collectors folded, into the rows of what they emitted.
        for o in &mut outcomes {
            for f in std::mem::take(&mut o.tally.folds) {
                summariser.add_folded(&f.like, f.count);
            }
        }
        let s = summariser.finish();
        rows = s.rows;
        if !keep_secrets {
            // Each row's event and every other event it shows.
            for r in &mut rows {
                masked = masked.saturating_add(mask_row(r));
            }
        }
        s.totals
    };
    if !all {
        let routine: u64 = outcomes.iter().map(|o| o.tally.skipped).sum();
        totals.events += routine;
        totals.routine += routine;
    }
    totals.masked = masked;
    totals.filtered = filtered;
    Ok(Collected { window: settings.window, rows, totals, outcomes, bundle })
}

pub fn open_output(path: Option<&std::path::Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(File::create(p).with_context(|| format!("cannot write {}", p.display()))?)),
        None => {
            widen_pipe();
            Box::new(BufWriter::new(io::stdout().lock()))
        }
    })
}

/// A pipe the output goes to (`| jq`, `| gzip`) holds 64 KiB unless told
/// otherwise: a gigabyte of JSON lines then takes some 16,000 turns between
/// writer and reader, a third of the export's time on a busy log. Asks for
/// the most an unprivileged process may have; where it is refused, the
/// pipe stays as it was.
fn widen_pipe() {
    // On anything but a pipe (a file, a terminal) the call fails, harmlessly.
    #[cfg(target_os = "linux")]
    {
        let most = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .map_or(PIPE_MOST, |m| m.min(PIPE_MOST));
        let _ = rustix::pipe::fcntl_setpipe_size(io::stdout(), most);
    }
}

/// The widest pipe asked for (the default most an unprivileged process may set).
#[cfg(target_os = "linux")]
const PIPE_MOST: usize = 1 << 20;

/// Says on stderr which sources failed, and turns that into the exit status.
pub fn conclude(outcomes: &[Outcome], quiet: bool, verbose: bool) -> Exit {
    let failed: Vec<_> = outcomes.iter().filter(|o| o.failed()).collect();
    if !quiet {
        for o in &failed {
            eprintln!("reconstruct: {}: {}", o.source, render::status_text(&o.status));
        }
        if verbose {
            for o in outcomes {
                for d in &o.tally.diagnostics {
                    let at = d.locator.as_ref().map_or(o.source.to_string(), ToString::to_string);
                    eprintln!("reconstruct: {at}: {}", d.message);
                }
            }
        }
    }
    if failed.is_empty() {
        return Exit::Ok;
    }
    // Nothing read at all is not a partial timeline: a script must not take
    // an empty table for a quiet window.
    let read: u64 = outcomes.iter().map(|o| o.events.saturating_add(o.tally.skipped)).sum();
    if failed.len() == outcomes.len() && read == 0 {
        if !quiet {
            eprintln!("reconstruct: nothing was read: every source failed");
        }
        return Exit::Error;
    }
    if !quiet {
        let timed_out = failed.iter().filter(|o| matches!(o.status, Status::TimedOut(_))).count();
        eprintln!(
            "reconstruct: partial timeline: {} of {} sources failed{}",
            failed.len(),
            outcomes.len(),
            if timed_out > 0 { format!(" ({timed_out} timed out)") } else { String::new() }
        );
    }
    Exit::Partial
}

/// `reconstruct … | head` closing the pipe early is not an error.
pub fn ignore_broken_pipe(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}
