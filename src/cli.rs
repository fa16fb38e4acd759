//! The command line: an explicit list of flags, and the run they ask for.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use reconstruct_core::window::parse_bound;
use reconstruct_core::{Detail, TimeWindow, Timestamp, Zone};

use crate::exit::Exit;
use crate::merge::Merge;
use crate::render::{self, Format, Timeline};
use crate::runner::{self, Status};
use crate::sources::{self, Request};
use crate::summarise::{self, Summariser};

#[derive(Debug, Parser)]
#[command(
    name = "reconstruct",
    version,
    about = "Rebuild the timeline of an outage from evidence: logs, git, and saved evidence bundles.",
    after_help = "Exit status: 0 every source read; 1 error, nothing rendered; 2 usage error; \
                  3 partial: rendered, but a source failed or timed out (see the coverage section)."
)]
pub struct Cli {
    /// Start of the window: RFC 3339, 'YYYY-MM-DD HH:MM[:SS]' (UTC unless --tz), a duration before now (90m, 2h, 1d) or 'now'.
    #[arg(long, value_name = "TIME")]
    pub since: String,
    /// End of the window, same forms as --since.
    #[arg(long, value_name = "TIME", default_value = "now")]
    pub until: String,
    /// Zone for times written without an offset, in the window bounds and in logs (IANA name or +HH:MM).
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: String,
    /// A log file, directory or glob to read; repeatable.
    #[arg(long = "log", value_name = "PATH")]
    pub logs: Vec<String>,
    /// The layout of timestamps at the start of each log line, in strftime form (e.g. '%d.%m.%Y %H:%M:%S').
    #[arg(long, value_name = "FORMAT")]
    pub timestamp_format: Option<String>,
    /// A git repository to read; repeatable. Default: the current directory when it is one.
    #[arg(long = "git", value_name = "PATH")]
    pub git: Vec<PathBuf>,
    /// Do not read the current directory's git repository by default.
    #[arg(long)]
    pub no_git: bool,
    /// Sample pg_stat_activity of this server (a DSN; without a value, DATABASE_URL or the PG* variables).
    #[arg(long, value_name = "DSN", num_args = 0..=1, default_missing_value = "")]
    pub postgres: Option<String>,
    /// A PostgreSQL server log (stderr, csvlog or jsonlog; file, directory or glob); repeatable.
    #[arg(long = "postgres-log", value_name = "PATH")]
    pub postgres_logs: Vec<String>,
    /// Keep literals in SQL text (they are replaced by $n placeholders by default).
    #[arg(long)]
    pub no_redact: bool,
    /// Read the Docker engine: container logs and lifecycle (also on when a compose file is in the current directory).
    #[arg(long)]
    pub docker: bool,
    /// The Docker engine to read (unix:///path or tcp://host:port; default DOCKER_HOST, else the local socket).
    #[arg(long, value_name = "URL")]
    pub docker_host: Option<String>,
    /// Only the containers of this compose project (default: the project of the compose file here, else all).
    #[arg(long, value_name = "NAME")]
    pub compose_project: Option<String>,
    /// Read alert history from Prometheus (or Thanos, Mimir, VictoriaMetrics); without a value, PROMETHEUS_URL.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub prometheus: Option<String>,
    /// Read a saved evidence bundle instead of live sources (a dry run).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// Write the result to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Most rows in the summary; lower-ranked rows are counted, not shown.
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub max_rows: usize,
    /// Show every event, without folding or a row budget.
    #[arg(long)]
    pub all: bool,
    /// Seconds each source may take; a slower one is cut off and marked as timed out.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Print nothing on stderr but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print per-source diagnostics on stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn execute(cli: Cli) -> anyhow::Result<Exit> {
    let zone: Zone = cli.tz.parse().context("--tz")?;
    let now = Timestamp::from_datetime(&chrono::Utc::now()).context("the system clock is out of range")?;
    let since = parse_bound(&cli.since, now, &zone).context("--since")?;
    let until = parse_bound(&cli.until, now, &zone).context("--until")?;
    let window = TimeWindow::new(since, until)?;
    if !(cli.timeout.is_finite() && cli.timeout > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    let timeout = Duration::from_secs_f64(cli.timeout.min(86_400.0));

    let built = sources::build(&Request {
        fixtures: cli.fixtures.as_deref(),
        logs: &cli.logs,
        git: &cli.git,
        default_git: !cli.no_git,
        zone,
        timestamp_format: cli.timestamp_format.as_deref(),
        postgres: cli.postgres.as_deref(),
        postgres_logs: &cli.postgres_logs,
        keep_literals: cli.no_redact,
        timeout,
        docker: cli.docker,
        docker_host: cli.docker_host.as_deref(),
        compose_project: cli.compose_project.as_deref(),
        prometheus: cli.prometheus.as_deref(),
    })?;
    if built.collectors.is_empty() && built.broken.is_empty() {
        anyhow::bail!("nothing to read: give --log, --git, --docker, --postgres, --postgres-log, --prometheus or --fixtures (or run inside a git repository)");
    }
    if !cli.quiet {
        for w in &built.warnings {
            eprintln!("reconstruct: warning: {w}");
        }
    }

    let mut sink: Box<dyn Write> = match &cli.output {
        Some(p) => Box::new(BufWriter::new(File::create(p).with_context(|| format!("cannot write {}", p.display()))?)),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    };

    let detail = if cli.all { Detail::All } else { Detail::Notable };
    let running = runner::start(built.collectors, window, detail, timeout);
    let mut merge = Merge::new(running, built.broken);

    let streaming = cli.all && matches!(cli.format, Format::Jsonl | Format::Csv);
    let mut write_result = Ok(());
    let (rows, mut totals) = if streaming {
        if cli.format == Format::Csv {
            write_result = render::csv::header(&mut sink);
        }
        let mut n = 0u64;
        for e in merge.by_ref() {
            n += 1;
            if write_result.is_ok() {
                let r = render::single(e);
                write_result = match cli.format {
                    Format::Csv => render::csv::row(&r, &mut sink),
                    _ => render::json::write_line(&r, &mut sink),
                };
            }
        }
        (Vec::new(), summarise::Totals { events: n, ..Default::default() })
    } else if cli.all {
        let rows = summarise::all_rows(merge.by_ref());
        let totals = summarise::Totals { events: rows.len() as u64, ..Default::default() };
        (rows, totals)
    } else {
        let mut s = Summariser::new(cli.max_rows);
        for e in merge.by_ref() {
            s.add(e);
        }
        let summary = s.finish();
        (summary.rows, summary.totals)
    };
    let outcomes = merge.outcomes();
    if !cli.all {
        let routine: u64 = outcomes.iter().map(|o| o.tally.skipped).sum();
        totals.events += routine;
        totals.routine += routine;
    }
    if !streaming {
        let t = Timeline { window, rows: &rows, totals: &totals, coverage: &outcomes, all: cli.all };
        write_result = render::render(cli.format, &t, &mut sink);
    }
    write_result.and_then(|()| sink.flush()).or_else(ignore_broken_pipe).context("cannot write the output")?;

    let failed: Vec<_> = outcomes.iter().filter(|o| o.failed()).collect();
    if !cli.quiet {
        for o in &failed {
            eprintln!("reconstruct: {}: {}", o.source, render::status_text(&o.status));
        }
        if cli.verbose {
            for o in &outcomes {
                for d in &o.tally.diagnostics {
                    let at = d.locator.as_ref().map_or(o.source.to_string(), ToString::to_string);
                    eprintln!("reconstruct: {at}: {}", d.message);
                }
            }
        }
    }
    if failed.is_empty() {
        Ok(Exit::Ok)
    } else {
        if !cli.quiet {
            let timed_out = failed.iter().filter(|o| matches!(o.status, Status::TimedOut(_))).count();
            eprintln!(
                "reconstruct: partial timeline: {} of {} sources failed{}",
                failed.len(),
                outcomes.len(),
                if timed_out > 0 { format!(" ({timed_out} timed out)") } else { String::new() }
            );
        }
        Ok(Exit::Partial)
    }
}

/// `reconstruct … | head` closing the pipe early is not an error.
fn ignore_broken_pipe(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}
