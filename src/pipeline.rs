//! One run from flags to rendered output: the window, the sources (with the
//! configuration file merged in), collection, redaction, summary, render,
//! and the exit status that says whether the timeline is partial.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::Context;
use reconstruct_core::window::parse_bound;
use reconstruct_core::{Detail, TimeWindow, Timestamp, Zone};

use crate::cli::{OutputArgs, SourceArgs};
use crate::config;
use crate::exit::Exit;
use crate::merge::Merge;
use crate::redact;
use crate::render::{self, Format, Timeline};
use crate::runner::{self, Outcome, Status};
use crate::sources::{self, Built};
use crate::summarise::{Row, Summariser, Totals};

/// Everything decided before any source is read.
pub struct Prepared {
    pub window: TimeWindow,
    pub zone: Zone,
    pub timeout: Duration,
    pub built: Built,
    pub args: SourceArgs,
}

pub fn prepare(cli: &SourceArgs) -> anyhow::Result<Prepared> {
    let (args, cfg) = config::merge(cli.clone())?;
    let zone: Zone = args.tz.as_deref().unwrap_or("UTC").parse().context("--tz")?;
    // Now, rounded up to the second: windows read cleanly, and nothing
    // already written falls after `--until now`.
    let clock = Timestamp::from_datetime(&chrono::Utc::now()).context("the system clock is out of range")?;
    let now =
        Timestamp::from_unix_seconds(clock.unix_seconds() + i64::from(clock.subsec_nanos() > 0), 0).unwrap_or(clock);
    let since_text = args.since.as_deref().context("--since is required")?;
    let since = parse_bound(since_text, now, &zone).context("--since")?;
    let until = parse_bound(&args.until, now, &zone).context("--until")?;
    let window = TimeWindow::new(since, until)?;
    let secs = args.timeout.unwrap_or(30.0);
    if !(secs.is_finite() && secs > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    let timeout = Duration::from_secs_f64(secs.min(86_400.0));
    let built = sources::build(&args, &cfg, zone, timeout)?;
    if built.collectors.is_empty() && built.broken.is_empty() {
        anyhow::bail!(
            "nothing to read: give --log, --git, --docker, --postgres, --postgres-log, --prometheus or --fixtures \
             (or run inside a git repository, or name the sources in reconstruct.toml)"
        );
    }
    if !args.quiet {
        for w in &built.warnings {
            eprintln!("reconstruct: warning: {w}");
        }
    }
    Ok(Prepared { window, zone, timeout, built, args })
}

pub struct Collected {
    pub window: TimeWindow,
    pub rows: Vec<Row>,
    pub totals: Totals,
    pub outcomes: Vec<Outcome>,
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
    fn tick(&mut self, merge: &Merge) {
        self.events += 1;
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

/// Runs the collectors and builds the rows. With `stream`, every event is
/// handed to it as it is merged and no rows are kept (`--all` in a line format).
pub fn collect(
    p: Prepared,
    all: bool,
    max_rows: usize,
    mut stream: Option<&mut dyn FnMut(Row) -> io::Result<()>>,
) -> io::Result<Collected> {
    let detail = if all { Detail::All } else { Detail::Notable };
    let running = runner::start(p.built.collectors, p.window, detail, p.timeout);
    let mut merge = Merge::new(running, p.built.broken);
    let mut progress = Progress::new(p.args.quiet);
    let keep_secrets = p.args.no_redact;
    let mut masked = 0u64;
    let mut rows = Vec::new();
    let mut summariser = Summariser::new(max_rows);
    let mut events = 0u64;
    let mut result = Ok(());
    while let Some(mut e) = merge.next() {
        progress.tick(&merge);
        if !keep_secrets {
            masked += redact::event(&mut e);
        }
        events += 1;
        match (&mut stream, all) {
            (Some(f), _) => {
                if result.is_ok() {
                    result = f(render::single(e));
                }
            }
            (None, true) => rows.push(render::single(e)),
            (None, false) => summariser.add(e),
        }
    }
    progress.finish();
    result?;
    let outcomes = merge.outcomes();
    let mut totals = if all || stream.is_some() {
        Totals { events, ..Default::default() }
    } else {
        let s = summariser.finish();
        rows = s.rows;
        s.totals
    };
    if !all {
        let routine: u64 = outcomes.iter().map(|o| o.tally.skipped).sum();
        totals.events += routine;
        totals.routine += routine;
    }
    totals.masked = masked;
    Ok(Collected { window: p.window, rows, totals, outcomes })
}

pub fn open_output(path: Option<&std::path::Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(File::create(p).with_context(|| format!("cannot write {}", p.display()))?)),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

/// The default command: collect and render the timeline.
pub fn run(src: &SourceArgs, out: &OutputArgs) -> anyhow::Result<Exit> {
    let p = prepare(src)?;
    let args = p.args.clone();
    let mut sink = open_output(out.output.as_deref())?;
    let streaming =
        out.all && matches!(out.format, Format::Jsonl | Format::Csv | Format::Timesketch | Format::TimesketchCsv);
    let collected = if streaming {
        match out.format {
            Format::Csv => render::csv::header(&mut sink)?,
            Format::TimesketchCsv => render::timesketch::csv_header(&mut sink)?,
            _ => {}
        }
        let format = out.format;
        let mut write = |r: Row| render::write_row(format, &r, &mut sink);
        collect(p, true, out.max_rows, Some(&mut write))
    } else {
        collect(p, out.all, out.max_rows, None)
    };
    let c = match collected {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(Exit::Ok),
        Err(e) => return Err(e).context("cannot write the output"),
    };
    let mut written = Ok(());
    if !streaming {
        let t = Timeline { window: c.window, rows: &c.rows, totals: &c.totals, coverage: &c.outcomes, all: out.all };
        written = render::render(out.format, &t, &mut sink);
    }
    written.and_then(|()| sink.flush()).or_else(ignore_broken_pipe).context("cannot write the output")?;
    Ok(conclude(&c.outcomes, &args))
}

/// Says on stderr which sources failed, and turns that into the exit status.
pub fn conclude(outcomes: &[Outcome], args: &SourceArgs) -> Exit {
    let failed: Vec<_> = outcomes.iter().filter(|o| o.failed()).collect();
    if !args.quiet {
        for o in &failed {
            eprintln!("reconstruct: {}: {}", o.source, render::status_text(&o.status));
        }
        if args.verbose {
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
    if !args.quiet {
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
