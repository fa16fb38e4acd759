//! The command line as the user typed it: an explicit list of flags and
//! subcommands (clap types only). `settings` resolves them; `commands` runs them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::render::Format;

#[derive(Debug, Parser)]
#[command(
    name = "reconstruct",
    version,
    about = "Rebuild the timeline of an outage from evidence: logs, git, containers, PostgreSQL, Prometheus alerts.",
    after_help = "Exit status: 0 every source read; 1 error, nothing rendered (or verify found a changed file); \
                  2 usage error; 3 partial: rendered, but a source failed or timed out (see the coverage section).",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the whole post-mortem document, Phase 2 and the evidence coverage filled in.
    Report(ReportArgs),
    /// Save every configured live source into an evidence bundle that --fixtures reads back.
    Capture(CaptureArgs),
    /// Print the evidence around a row: the lines around file:line, a commit and its files, a container's log.
    Context(ContextArgs),
    /// Check a bundle's files against the SHA-256 hashes of its manifest.
    Verify {
        /// The bundle folder.
        dir: PathBuf,
    },
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

/// Where the evidence comes from, and the window.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Start of the window: RFC 3339, 'YYYY-MM-DD HH:MM[:SS]' (UTC unless --tz), a duration before now
    /// (90m, 2h, -2h, '2h ago', 120min), 'now', 'today', 'yesterday' (with an optional time), or a time of day (14:00).
    #[arg(long, value_name = "TIME", required_unless_present = "around", allow_hyphen_values = true)]
    pub since: Option<String>,
    /// End of the window, same forms as --since.
    #[arg(long, value_name = "TIME", default_value = "now", allow_hyphen_values = true)]
    pub until: String,
    /// A window centred on TIME (same forms as --since), --span either side, instead of --since and --until.
    #[arg(long, value_name = "TIME", conflicts_with = "since", allow_hyphen_values = true)]
    pub around: Option<String>,
    /// How far either side of --around the window reaches [default: 15m].
    #[arg(long, value_name = "DURATION", requires = "around")]
    pub span: Option<String>,
    /// How far before the onset the report looks for changes (commits, deploys, restarts, migrations)
    /// [default: 24h]; 'off' (or 0): changes in the window only.
    #[arg(long, value_name = "DURATION")]
    pub lookback: Option<String>,
    /// The span before --since whose messages are the usual ones, for what is new and what went quiet
    /// [default: the window's length, at least 1h]; 'off' turns it off.
    #[arg(long, value_name = "DURATION")]
    pub baseline: Option<String>,
    /// Only events whose text or excerpt matches this regular expression (case-insensitive unless it has a capital).
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// Only events of this component, or of components below it (nginx keeps nginx/error); repeatable.
    #[arg(long, value_name = "NAME")]
    pub component: Vec<String>,
    /// Only events of this severity or graver: crit, err, warning, notice, info, debug (or 0 to 7, as journalctl -p).
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,
    /// Zone for times written without an offset, in the window bounds and in logs (IANA name or +HH:MM).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Zone for log lines written without an offset, when it is not --tz's (e.g. --tz Europe/Paris --log-tz UTC).
    #[arg(long, value_name = "ZONE")]
    pub log_tz: Option<String>,
    // The flags of each kind of source, as the registry's slices add them.
    #[command(flatten)]
    pub kinds: crate::registry::KindFlags,
    /// Keep secrets and SQL literals in the output (they are masked by default).
    #[arg(long)]
    pub no_redact: bool,
    /// Read a saved evidence bundle instead of live sources (a dry run).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// The configuration file naming the system's sources (default: ./reconstruct.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seconds each source may take; a slower one is cut off and marked as timed out [default: 30].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Print nothing on stderr but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print what could not be read, source by source, on stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

/// How the timeline is written.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
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
    /// At a terminal, print the markdown table as it is, not fitted to the width.
    #[arg(long)]
    pub wide: bool,
    /// At a terminal, do not page a long result through $PAGER.
    #[arg(long)]
    pub no_pager: bool,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    /// A row's evidence as the table shows it: logs/backend.log:1234, 'commit abc123f', or a container's
    /// 'docker logs …', 'docker-compose logs …' or 'docker events …'.
    pub locator: String,
    /// Read it from this bundle instead of the live system.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// The repository a commit is in [default: the current directory].
    #[arg(long, value_name = "PATH")]
    pub git: Option<PathBuf>,
    /// The Docker engine of a container (as --docker-host; default DOCKER_HOST, else the local socket).
    #[arg(long, value_name = "URL")]
    pub docker_host: Option<String>,
    /// Lines shown either side of a file's line.
    #[arg(short = 'C', long = "context", value_name = "N", default_value_t = 10)]
    pub lines: u64,
    /// How far either side of a container's moment its log is shown [default: 1m].
    #[arg(long, value_name = "DURATION")]
    pub span: Option<String>,
    /// Keep secrets (masked by default, as in every output).
    #[arg(long)]
    pub no_redact: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// The incident id, INC-YYYYMMDD-NNN (default: from the first significant event's date, number 001).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// CRITICAL, HIGH, MEDIUM or LOW (default: left for people to fill in).
    #[arg(long, value_name = "LEVEL")]
    pub severity: Option<String>,
    /// Write the document to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Most rows in the timeline.
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub max_rows: usize,
    /// Markdown, one self-contained HTML page with the picture of the incident, or one JSON document.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
}

/// How the report is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Md,
    Html,
    /// One document: {incident, findings, timeline, coverage}.
    Json,
}

#[derive(Debug, Args)]
pub struct CaptureArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// The bundle folder to write (created; must be empty if it exists).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Mask secrets in the saved files too (line by line, so `file:line` evidence still holds); the manifest says so.
    #[arg(long)]
    pub redact: bool,
}
