//! Flags, `reconstruct.toml` and the environment, resolved once into plain
//! settings and the list of sources a run reads. Every command (timeline,
//! report, capture) starts from [`Settings`]; nothing after this module
//! decides again which sources exist, which zone a file is read in, or
//! whether a bundle or the live system is read.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use reconstruct_core::slice::{Identity, Resolution, ResolveError, SavedFile, Slice, Spec};
use reconstruct_core::window::parse_bound;
use reconstruct_core::{SourceId, TimeWindow, Timestamp, Zone};

use crate::bundle;
use crate::cli::SourceArgs;
use crate::config;
use crate::exit::UsageError;
use crate::runner::Broken;

/// Everything decided before any source is read.
pub struct Settings {
    pub window: TimeWindow,
    /// The zone for times written without an offset, unless a source has its own.
    pub zone: Zone,
    /// How long each source may take.
    pub timeout: Duration,
    /// Mask secrets and SQL literals before anything is rendered.
    pub redact: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// True when the evidence is a saved bundle (`--fixtures`).
    pub from_bundle: bool,
    /// The sources to read, in the order their ties are broken.
    pub sources: Vec<Box<dyn Spec>>,
    /// Sources named but unusable before reading ("no file matches …"):
    /// they fail in coverage, and the others still run.
    pub unavailable: Vec<Broken>,
    /// Worth a line on stderr (bundle files nobody reads).
    pub warnings: Vec<String>,
    /// Where line indexes of big logs are kept between runs (`None`: not kept).
    pub cache_dir: Option<PathBuf>,
    /// With `--fixtures`: whether a manifest vouches for the bundle, and what it left out.
    pub bundle: Option<bundle::BundleCheck>,
    /// `--grep`, `--component`, `--level`: which events make the timeline.
    pub filter: Option<crate::filter::EventFilter>,
    /// What the findings read before the window.
    pub before: Before,
}

/// What the findings read before the window: the changes of the lookback
/// and the usual messages of the baseline. The report reads them with the
/// window, and capture saves them, from the same sources.
#[derive(Clone, Copy, Debug)]
pub struct Before {
    /// Changes from this time on may be suspects (`--lookback` before `--since`).
    pub lookback_from: Timestamp,
    /// The baseline, just before `--since` (`None`: `--baseline off`).
    pub baseline: Option<TimeWindow>,
}

impl Settings {
    /// The window the sources are read in when the findings look before
    /// it: from the earlier of the lookback and the baseline to `--until`.
    pub fn reach(&self) -> TimeWindow {
        let from = self.before.baseline.map_or(self.before.lookback_from, |b| b.since.min(self.before.lookback_from));
        TimeWindow { since: from.min(self.window.since), until: self.window.until }
    }

    /// What the findings want of the routine events read before the
    /// window: before the baseline only changes, in it only their pace.
    pub fn wanted_before(&self) -> reconstruct_core::Reach {
        reconstruct_core::Reach {
            changes_only_before: self.before.baseline.map_or(self.window.since, |b| b.since),
            paced_before: self.window.since,
        }
    }
}

/// `--lookback` (24 h unless given) and `--baseline` (the window's own
/// length, an hour at least, unless given; `off`: none).
fn before(args: &SourceArgs, window: TimeWindow) -> anyhow::Result<Before> {
    const HOUR: i64 = 3_600_000_000_000;
    let duration = |flag: &str, text: &str| {
        reconstruct_core::window::parse_duration_nanos(text)
            .filter(|n| *n >= 0)
            .ok_or_else(|| UsageError(format!("{flag} {text:?}: give a duration (30m, 24h, 7d)")))
    };
    let lookback = match args.lookback.as_deref() {
        // No look back: only changes inside the window are suspects.
        Some("off" | "none" | "0") => 0,
        Some(t) => duration("--lookback", t)?,
        None => 24 * HOUR,
    };
    let baseline = match args.baseline.as_deref() {
        Some("off" | "none" | "0") => None,
        Some(t) => Some(duration("--baseline", t)?).filter(|n| *n > 0),
        None => {
            let len = window.until.unix_nanos().saturating_sub(window.since.unix_nanos());
            Some(len.max(HOUR))
        }
    };
    let since = window.since;
    Ok(Before {
        lookback_from: since.saturating_add_nanos(lookback.saturating_neg()),
        baseline: baseline.map(|n| TimeWindow { since: since.saturating_add_nanos(n.saturating_neg()), until: since }),
    })
}

/// `RECONSTRUCT_CACHE_DIR` (empty or `off`: no cache), else the XDG cache
/// directory, else `~/.cache`; `reconstruct/lines` below it.
fn cache_dir(vars: &BTreeMap<String, String>) -> Option<PathBuf> {
    if let Some(d) = vars.get("RECONSTRUCT_CACHE_DIR") {
        return (!d.is_empty() && d != "off").then(|| PathBuf::from(d));
    }
    let base = match vars.get("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(vars.get("HOME").filter(|d| !d.is_empty())?).join(".cache"),
    };
    Some(base.join("reconstruct").join("lines"))
}

/// What the environment holds, read once so resolution is a pure function
/// of its inputs (and testable without touching the process's variables).
#[derive(Clone, Debug, Default)]
pub struct Environment {
    pub vars: BTreeMap<String, String>,
    /// The working directory, where defaults are looked for (a repository,
    /// a compose file); `None`: none is looked for.
    pub cwd: Option<PathBuf>,
    pub now: Option<Timestamp>,
}

impl Environment {
    pub fn of_process() -> anyhow::Result<Self> {
        let clock = Timestamp::from_datetime(&chrono::Utc::now()).context("the system clock is out of range")?;
        // Now, rounded up to the second: windows read cleanly, and nothing
        // already written falls after `--until now`.
        let now =
            Timestamp::from_unix_seconds(clock.unix_seconds().saturating_add(i64::from(clock.subsec_nanos() > 0)), 0)
                .unwrap_or(clock);
        Ok(Environment { vars: std::env::vars().collect(), cwd: std::env::current_dir().ok(), now: Some(now) })
    }
}

/// Resolves the flags (with the configuration file merged in) for this process.
pub fn resolve(cli: &SourceArgs) -> anyhow::Result<Settings> {
    let env = Environment::of_process()?;
    let loaded = config::load(cli.config.as_ref(), crate::registry::current())?;
    resolve_with(cli, &loaded, &env)
}

/// Reads a configuration text as a run would, touching nothing it names:
/// for checking a file, and for the fuzz target of this parser.
pub fn check_config(text: &str) -> Result<(), reconstruct_core::slice::ConfigError> {
    let slices = crate::registry::current();
    let loaded = config::read(
        reconstruct_core::slice::ConfigText { text: text.into(), shown: "reconstruct.toml".into() },
        slices,
    )?;
    slices.iter().try_for_each(|s| s.check(&loaded.text))
}

/// A slice's error as the commands report it: a usage error exits 2.
fn slice_error(e: ResolveError) -> anyhow::Error {
    match e {
        ResolveError::Usage(m) => UsageError(m).into(),
        ResolveError::Config(c) => c.into(),
        ResolveError::Other(m) => anyhow::anyhow!(m),
    }
}

/// Resolution proper: flags, the configuration file and the environment
/// in, settings out. Each slice of the registry resolves its own kind.
pub fn resolve_with(args: &SourceArgs, loaded: &config::Loaded, env: &Environment) -> anyhow::Result<Settings> {
    let tz = args.tz.as_deref().or(loaded.tz.as_deref());
    let window_zone: Zone = tz.unwrap_or("UTC").parse().context("--tz")?;
    // Log lines without an offset are read in --log-tz, else in --tz.
    let zone: Zone = match args.log_tz.as_deref() {
        Some(z) => z.parse().context("--log-tz")?,
        None => window_zone,
    };
    let now = env.now.context("the system clock is unknown")?;
    let window = match args.around.as_deref() {
        Some(at) => {
            let centre = parse_bound(at, now, &window_zone).context("--around")?;
            let span = args.span.as_deref().unwrap_or("15m");
            let nanos = reconstruct_core::window::parse_duration_nanos(span)
                .filter(|n| *n > 0)
                .with_context(|| format!("--span {span:?}: give a duration (10m, 1h)"))?;
            TimeWindow::new(centre.saturating_add_nanos(nanos.saturating_neg()), centre.saturating_add_nanos(nanos))?
        }
        None => {
            let since_text = args.since.as_deref().context("--since (or --around) is required")?;
            let since = parse_bound(since_text, now, &window_zone).context("--since")?;
            let until = parse_bound(&args.until, now, &window_zone).context("--until")?;
            TimeWindow::new(since, until)?
        }
    };
    let filter = crate::filter::EventFilter::from_flags(args.grep.as_deref(), &args.component, args.level.as_deref())?;
    let secs = args.timeout.or(loaded.timeout).unwrap_or(30.0);
    if !(secs.is_finite() && secs > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    let timeout = Duration::from_secs_f64(secs.min(86_400.0));
    let before = before(args, window)?;
    let mut s = Settings {
        before,
        window,
        zone,
        timeout,
        redact: !args.no_redact,
        quiet: args.quiet,
        verbose: args.verbose,
        from_bundle: args.fixtures.is_some(),
        cache_dir: cache_dir(&env.vars),
        sources: Vec::new(),
        unavailable: Vec::new(),
        warnings: Vec::new(),
        bundle: None,
        filter,
    };
    let slices = crate::registry::current();
    let adopt = |file: &Path, zone: Zone| slices.iter().find_map(|sl| sl.adopt(file, zone));
    let mut r = Resolution {
        matches: &args.kinds.matches,
        config: &loaded.text,
        vars: &env.vars,
        cwd: env.cwd.as_deref(),
        window_zone,
        zone,
        from_bundle: s.from_bundle,
        adopt: &adopt,
        specs: Vec::new(),
        placed: Vec::new(),
        joined: Vec::new(),
        unusable: Vec::new(),
        warnings: Vec::new(),
    };
    // A bundle's sources first, in the order of its files, then live ones.
    if let Some(dir) = args.fixtures.as_deref() {
        replay(dir, slices, &mut r, &mut s)?;
    }
    let (mut placed, mut joined) = (std::mem::take(&mut r.placed), std::mem::take(&mut r.joined));
    placed.sort_by_key(|(order, _)| *order);
    joined.sort_by_key(|(order, _)| *order);
    s.sources = placed.into_iter().chain(joined).map(|(_, spec)| spec).collect();
    s.sources.append(&mut r.specs);
    for slice in slices {
        slice.resolve(&mut r).map_err(slice_error)?;
    }
    s.sources.append(&mut r.specs);
    s.unavailable.extend(r.unusable.drain(..).map(|u| Broken { source: u.source, error: u.error }));
    s.warnings.append(&mut r.warnings);
    // One flag, two meanings: say so, for a zone typed only for the window.
    let reads_text = s.sources.iter().any(|x| x.reads_local_times());
    if args.log_tz.is_none() && window_zone != Zone::Utc && reads_text {
        s.warnings.push(format!(
            "--tz {window_zone} also reads log lines written without an offset as {window_zone} time; \
             --log-tz UTC reads them as UTC"
        ));
    }
    let (sources, repeated) = dedupe(std::mem::take(&mut s.sources));
    s.sources = sources;
    s.warnings.extend(repeated.into_iter().map(|r| format!("{r} is named more than once; it is read once")));
    // Every source named is unusable before reading: nothing to read.
    if s.sources.is_empty() && !s.unavailable.is_empty() && !s.from_bundle {
        let each: Vec<String> = s.unavailable.iter().map(|b| format!("{}: {}", b.source, b.error)).collect();
        anyhow::bail!("nothing to read: {}", each.join("; "));
    }
    if s.sources.is_empty() && s.unavailable.is_empty() {
        let mut flags: Vec<&str> = slices.iter().flat_map(|sl| sl.naming_flags().iter().copied()).collect();
        flags.push("--fixtures");
        let (last, rest) = flags.split_last().map_or(("", &[][..]), |(l, r)| (*l, r));
        anyhow::bail!(
            "nothing to read: give {} or {last} \
             (or run inside a git repository, or name the sources in reconstruct.toml)",
            rest.join(", ")
        );
    }
    Ok(s)
}

/// One reading of each thing: a file reached through two arguments
/// (`--log /var/log/postgresql --log /var/log`) by its canonical path, a
/// live source by what it reads. A PostgreSQL server log also reached as a
/// plain log is read by the PostgreSQL reader, which knows its format.
/// Returns the sources kept and what was named again.
fn dedupe(sources: Vec<Box<dyn Spec>>) -> (Vec<Box<dyn Spec>>, Vec<String>) {
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    // Files a reader of their own format reads: plain pieces leave them to it.
    let mut seen_files: HashSet<PathBuf> = sources
        .iter()
        .filter_map(|s| match s.identity() {
            Identity::File { path, specific: true } => Some(canonical(&path)),
            _ => None,
        })
        .collect();
    let mut seen_whole = HashSet::new();
    let mut seen_live = HashSet::new();
    let mut repeated: Vec<String> = Vec::new();
    let mut kept = Vec::with_capacity(sources.len());
    for mut spec in sources {
        match spec.identity() {
            Identity::Pieces => {
                let left = spec.retain_pieces(&mut |p, shown| {
                    let fresh = seen_files.insert(canonical(p));
                    if !fresh && !repeated.iter().any(|r| r == shown) {
                        repeated.push(shown.to_string());
                    }
                    fresh
                });
                if !left {
                    continue;
                }
            }
            Identity::File { path, .. } => {
                if !seen_whole.insert((spec.kind(), canonical(&path))) {
                    repeated.push(spec.what());
                    continue;
                }
            }
            Identity::Live => {
                let id = spec.describe();
                if !seen_live.insert(id.clone()) {
                    repeated.push(id);
                    continue;
                }
            }
            Identity::Saved => {}
        }
        kept.push(spec);
    }
    (kept, repeated)
}

/// The sources of a saved bundle: each file to the slice that reads its role.
fn replay(dir: &Path, slices: &[&dyn Slice], r: &mut Resolution<'_>, s: &mut Settings) -> anyhow::Result<()> {
    let plan = bundle::plan(dir, slices).with_context(|| format!("cannot use the bundle {}", dir.display()))?;
    let mut by_slice: Vec<Vec<SavedFile>> = slices.iter().map(|_| Vec::new()).collect();
    for (order, f) in plan.files.into_iter().enumerate() {
        let zone = match &f.tz {
            Some(z) => z.parse().with_context(|| format!("manifest entry {}", f.display))?,
            None => r.zone,
        };
        let owner = slices.iter().position(|sl| sl.roles().contains(&f.role.as_str()));
        let Some(files) = owner.and_then(|i| by_slice.get_mut(i)) else { continue };
        files.push(SavedFile {
            path: f.path,
            display: f.display,
            role: f.role,
            component: f.component,
            zone,
            timestamp_format: f.timestamp_format,
            found: f.found,
            order,
            bundle_dir: dir.to_path_buf(),
        });
    }
    for (slice, files) in slices.iter().zip(by_slice) {
        if !files.is_empty() {
            slice.replay(files, r).map_err(slice_error)?;
        }
    }
    // What capture could not save failed then; the replay says so as the live run did.
    for f in plan.failures {
        match (f.collector, f.name) {
            (Some(collector), Some(name)) => {
                let source = SourceId { collector, name };
                s.unavailable.push(Broken { source, error: format!("failed at capture: {}", f.error) });
            }
            // An older manifest names the source only as text.
            _ => s.warnings.push(format!("the bundle's capture could not save {}: {}", f.source, f.error)),
        }
    }
    for u in &plan.check.unlisted {
        s.warnings.push(format!(
            "bundle file {u} is not read: the manifest does not list it (`reconstruct verify` checks the bundle)"
        ));
    }
    s.bundle = Some(plan.check);
    for r in plan.refused {
        s.warnings.push(format!("bundle file {r} is not read: it is a link or a special file (a FIFO, a device)"));
    }
    for u in plan.unread {
        s.warnings
            .push(format!("bundle file {u} is not read: no collector knows its kind (see the README's bundle layout)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use reconstruct_core::slice::ConfigText;
    use reconstruct_core::SourceKind;

    fn args(extra: &[&str]) -> SourceArgs {
        let mut v = vec!["reconstruct", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];
        v.extend_from_slice(extra);
        crate::cli::Cli::parse_from(v).sources
    }

    fn env() -> Environment {
        Environment { now: Timestamp::from_unix_seconds(1_800_000_000, 0), ..Default::default() }
    }

    fn none() -> config::Loaded {
        config::Loaded::default()
    }

    fn file(text: &str) -> config::Loaded {
        let text = ConfigText { text: text.into(), shown: "sys.toml".into() };
        config::Loaded { text, ..Default::default() }
    }

    fn kinds(s: &Settings) -> Vec<SourceKind> {
        s.sources.iter().map(|x| x.kind()).collect()
    }

    #[test]
    fn one_decision_for_git_and_docker_defaults() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("compose.yaml"), "services: {}\n").unwrap();
        git2::Repository::init(d.path()).unwrap();
        let mut here = env();
        here.cwd = Some(d.path().to_path_buf());
        here.vars.insert("COMPOSE_PROJECT_NAME".into(), "shop".into());
        let s = resolve_with(&args(&[]), &none(), &here).unwrap();
        assert_eq!(kinds(&s), vec![SourceKind::Docker, SourceKind::Git]);
        assert!(format!("{:?}", s.sources[0]).contains("project: Some(\"shop\")"), "{:?}", s.sources[0]);
        // --no-git turns the repository off; a bundle turns both defaults off.
        let s = resolve_with(&args(&["--no-git"]), &none(), &here).unwrap();
        assert_eq!(kinds(&s), vec![SourceKind::Docker]);
        let bundle = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/inc-20251226-001");
        let s = resolve_with(&args(&["--fixtures", bundle]), &none(), &here).unwrap();
        assert!(s.sources.iter().all(|x| !x.is_live()), "a bundle run reads nothing live");
        assert!(s.from_bundle);
    }

    #[test]
    fn prometheus_url_comes_from_the_flag_or_the_environment() {
        let mut e = env();
        e.vars.insert("PROMETHEUS_URL".into(), "http://prom:9090".into());
        let s = resolve_with(&args(&["--no-git"]), &none(), &e).unwrap();
        assert_eq!(kinds(&s), vec![SourceKind::Prometheus]);
        // Without a URL anywhere, --prometheus cannot work as typed: a usage error.
        let e = resolve_with(&args(&["--prometheus"]), &none(), &env()).err().unwrap();
        assert!(e.is::<UsageError>(), "{e}");
        assert!(e.to_string().contains("no URL"), "{e}");
    }

    #[test]
    fn unusable_sources_fail_alone_and_nothing_at_all_is_an_error() {
        let here = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let s = resolve_with(&args(&["--log", "/nonexistent/*.log", "--log", here]), &none(), &env()).unwrap();
        assert_eq!(s.unavailable.len(), 1);
        assert_eq!(s.unavailable[0].source.collector, SourceKind::Logfile);
        // The only source unusable: nothing to read, said with why.
        let e = resolve_with(&args(&["--log", "/nonexistent/*.log"]), &none(), &env()).err().unwrap();
        assert!(e.to_string().contains("no file matches"), "{e}");
        let e = resolve_with(&args(&[]), &none(), &env()).err().unwrap().to_string();
        assert!(e.starts_with("nothing to read: give --postgres, "), "{e}");
        assert!(e.contains("--log, ") && e.contains(" or --fixtures "), "{e}");
    }

    #[test]
    fn timeout_and_zone_are_checked() {
        let e = resolve_with(&args(&["--log", "x", "--timeout", "0"]), &none(), &env()).err().unwrap();
        assert!(e.to_string().contains("--timeout"));
        let e = resolve_with(&args(&["--log", "x", "--tz", "Mars/Base"]), &none(), &env()).err().unwrap();
        assert!(e.to_string().contains("--tz"));
    }

    #[test]
    fn each_slice_reads_its_own_tables_and_flags_win() {
        let text = "[[log]]\npath = \"logs/a.log\"\ncomponent = \"api\"\n[prometheus]\nurl = \"http://prom:9090\"\n";
        let s = resolve_with(&args(&[]), &file(text), &env()).unwrap();
        assert_eq!(kinds(&s), vec![SourceKind::Prometheus]);
        assert_eq!(s.unavailable[0].source.name, "logs/a.log", "the file's log is named, and missing here");
        let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let s =
            resolve_with(&args(&["--log", readme, "--prometheus", "http://other:9090"]), &file(text), &env()).unwrap();
        assert!(s.unavailable.is_empty(), "the flag's log replaces the file's");
        assert!(s.sources.iter().any(|x| x.what() == "http://other:9090"));
    }

    #[test]
    fn a_slice_table_error_names_the_file_and_line() {
        let err = |t: &str| resolve_with(&args(&[]), &file(t), &env()).err().unwrap().to_string();
        let e = err("\n\n[prometheus]\nurl = \"ftp://x\"\n");
        assert!(e.starts_with("sys.toml:4: prometheus url"), "{e}");
        let e = err("[[log]]\npath = \"a\"\ntz = \"Mars/Base\"\n");
        assert!(e.starts_with("sys.toml:3: unknown time zone"), "{e}");
        let e = err("[docker]\nhost = \"ssh://x\"\n");
        assert!(e.starts_with("sys.toml:2: docker host"), "{e}");
        let e = err("[docker]\ncolour = 1\n");
        assert!(e.contains("line 2") && e.contains("unknown field `colour`"), "{e}");
    }
}
