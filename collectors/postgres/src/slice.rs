//! The PostgreSQL kind of source as one slice: `--postgres` (a sample of
//! pg_stat_activity), `--postgres-log` (the server log), `[postgres]`, the
//! bundle's `postgres/` folder, and a server log named with `--log`, which
//! this slice adopts because it knows the format.

use std::path::{Path, PathBuf};

use clap::{Args, FromArgMatches};
use reconstruct_core::slice::{
    Bundle, Common, ConfigError, ConfigText, Extra, Identity, Resolution, ResolveError, SavedFile, Slice, Spec,
};
use reconstruct_core::{runtime, Source, SourceKind, Zone};
use serde::Deserialize;

use crate::dsn::Dsn;

/// `psql --csv` output of the pg_stat_activity sample query.
pub const ROLE_ACTIVITY: &str = "pg-activity";
/// A server log (stderr, csvlog or jsonlog).
pub const ROLE_LOG: &str = "pg-log";
/// The results of the `[[check]]` queries.
pub const ROLE_CHECKS: &str = "pg-checks";

#[derive(Debug, Args)]
#[group(skip)]
struct Flags {
    /// Sample pg_stat_activity of this server (a DSN; without a value, DATABASE_URL or the PG* variables).
    #[arg(long, value_name = "DSN", num_args = 0..=1, default_missing_value = "")]
    postgres: Option<String>,
    /// A PostgreSQL server log (stderr, csvlog or jsonlog; file, directory or glob); repeatable.
    #[arg(long = "postgres-log", value_name = "PATH")]
    postgres_logs: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Tables {
    postgres: Option<Entry>,
    #[serde(default)]
    check: Vec<CheckEntry>,
}

/// `[[check]]`: a data-integrity query, run against `--postgres`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckEntry {
    name: String,
    sql: String,
    /// `= 0` unless given.
    expect: Option<toml::Spanned<String>>,
    /// Seconds the statement may take [default: 10].
    timeout: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    /// The DSN is read from this variable, never written in the file.
    dsn_env: Option<String>,
    #[serde(default)]
    logs: Vec<String>,
}

/// One PostgreSQL source.
#[derive(Debug)]
pub enum PgSpec {
    /// A live sample of pg_stat_activity.
    ActivityLive { dsn: Box<Dsn> },
    /// A saved sample (`psql --csv`).
    ActivityFile { file: PathBuf, display: String },
    /// A server log (stderr, csvlog, jsonlog), live or saved.
    ServerLog { file: PathBuf, display: String, zone: Zone },
    /// The `[[check]]` queries, run live.
    Checks { dsn: Box<Dsn>, checks: Vec<crate::checks::Check> },
    /// Check results a capture saved.
    ChecksFile { file: PathBuf, display: String },
}

/// The `[[check]]` queries, their expectations read.
fn read_checks(config: &ConfigText, tables: &Tables) -> Result<Vec<crate::checks::Check>, ConfigError> {
    tables
        .check
        .iter()
        .map(|c| {
            let expect = c.expect.as_ref().map_or("= 0".to_string(), |e| e.get_ref().clone());
            if let (Some(e), Err(m)) = (&c.expect, crate::checks::expectation(&expect)) {
                return Err(config.error_at(e.span(), format!("check {}: {m}", c.name)));
            }
            Ok(crate::checks::Check {
                name: c.name.clone(),
                sql: c.sql.clone(),
                expect,
                timeout: c.timeout.unwrap_or(10.0),
            })
        })
        .collect()
}

/// The kind of source: PostgreSQL.
pub struct Postgres;

const NO_SERVER: &str = "--postgres has no server to read: give --postgres DSN (postgresql://user@host/db) \
                         or set DATABASE_URL or the PG* variables (PGHOST, PGUSER, PGDATABASE)";

impl Slice for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn describe(&self) -> &'static str {
        "PostgreSQL: a sample of pg_stat_activity, and the server log (stderr, csvlog, jsonlog)"
    }

    fn flags(&self, cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }

    fn naming_flags(&self) -> &'static [&'static str] {
        &["--postgres", "--postgres-log"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["postgres", "check"]
    }

    fn check(&self, config: &ConfigText) -> Result<(), ConfigError> {
        read_checks(config, &config.parse::<Tables>()?).map(|_| ())
    }

    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let mut flags = Flags::from_arg_matches(r.matches).map_err(|e| ResolveError::Other(e.to_string()))?;
        let tables: Tables = r.config.parse()?;
        let checks = read_checks(r.config, &tables)?;
        let mut problem = None;
        if let Some(p) = &tables.postgres {
            if flags.postgres.is_none() {
                if let Some(var) = &p.dsn_env {
                    match r.vars.get(var) {
                        Some(dsn) if !dsn.is_empty() => flags.postgres = Some(dsn.clone()),
                        _ => {
                            problem = Some(format!("{} names the DSN variable {var}, which is not set", r.config.shown))
                        }
                    }
                }
            }
            if flags.postgres_logs.is_empty() {
                flags.postgres_logs = p.logs.clone();
            }
        }
        if let Some(dsn) = flags.postgres.as_deref() {
            let explicit = Some(dsn).filter(|d| !d.is_empty());
            let from_env = ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE", "PGPASSWORD"]
                .iter()
                .any(|k| r.vars.get(*k).is_some_and(|v| !v.is_empty()));
            if explicit.is_none() && !from_env {
                return Err(ResolveError::Usage(NO_SERVER.into()));
            }
            match crate::dsn::resolve(explicit, r.vars) {
                Ok(dsn) => {
                    if !checks.is_empty() {
                        r.push(PgSpec::Checks { dsn: Box::new(dsn.clone()), checks: checks.clone() });
                    }
                    r.push(PgSpec::ActivityLive { dsn: Box::new(dsn) });
                }
                Err(e) => r.unusable(SourceKind::Postgres, "pg_stat_activity".into(), e.to_string()),
            }
        } else if !checks.is_empty() && !r.from_bundle {
            let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
            r.unusable(
                SourceKind::Postgres,
                format!("checks {}", names.join(", ")),
                "the [[check]] queries need a server: give --postgres DSN (or DATABASE_URL)".into(),
            );
        }
        for arg in &flags.postgres_logs {
            match reconstruct_logfile::fetch::expand(arg) {
                Ok(paths) => {
                    for file in paths {
                        let display = file.display().to_string();
                        r.push(PgSpec::ServerLog { file, display, zone: r.zone });
                    }
                }
                Err(e) => r.unusable(SourceKind::Postgres, arg.clone(), e.to_string()),
            }
        }
        if let Some(problem) = problem {
            r.unusable(SourceKind::Postgres, "pg_stat_activity".into(), problem);
        }
        Ok(())
    }

    fn recognise(&self, rel: &str) -> Option<&'static str> {
        let name = rel.rsplit('/').next().unwrap_or_default();
        match rel.strip_prefix("postgres/") {
            Some(_) if name.starts_with("pg_stat_activity") => Some(ROLE_ACTIVITY),
            Some(_) if name == "checks.json" => Some(ROLE_CHECKS),
            Some(_) => Some(ROLE_LOG),
            None => None,
        }
    }

    fn roles(&self) -> &'static [&'static str] {
        &[ROLE_ACTIVITY, ROLE_LOG, ROLE_CHECKS]
    }

    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        for f in files {
            let (file, display) = (f.path, f.display);
            if f.role == ROLE_ACTIVITY {
                r.push_at(f.order, PgSpec::ActivityFile { file, display });
            } else if f.role == ROLE_CHECKS {
                r.push_at(f.order, PgSpec::ChecksFile { file, display });
            } else {
                r.push_at(f.order, PgSpec::ServerLog { file, display, zone: f.zone });
            }
        }
        Ok(())
    }

    fn blind_spots(&self) -> &'static [(&'static [SourceKind], &'static str)] {
        &[(
            &[SourceKind::Postgres],
            "pg_stat_activity is a snapshot of the moment it was read: sessions that ended before it are only in the server log.",
        )]
    }

    /// A plain file whose first lines read as a PostgreSQL stderr log.
    fn adopt(&self, file: &Path, zone: Zone) -> Option<Box<dyn Spec>> {
        use std::io::Read;
        // Only a regular file: opening a FIFO to look would wait for a writer.
        if !std::fs::metadata(file).is_ok_and(|m| m.is_file()) {
            return None;
        }
        let f = std::fs::File::open(file).ok()?;
        let mut head = Vec::with_capacity(8192);
        f.take(8192).read_to_end(&mut head).ok()?;
        crate::serverlog::looks_like_stderr_log(&head).then(|| {
            let display = file.display().to_string();
            Box::new(PgSpec::ServerLog { file: file.to_path_buf(), display, zone }) as Box<dyn Spec>
        })
    }
}

impl Spec for PgSpec {
    fn kind(&self) -> SourceKind {
        SourceKind::Postgres
    }

    fn what(&self) -> String {
        match self {
            PgSpec::ActivityLive { dsn } => dsn.shown.clone(),
            PgSpec::Checks { dsn, .. } => format!("checks {}", dsn.shown),
            PgSpec::ActivityFile { display, .. }
            | PgSpec::ServerLog { display, .. }
            | PgSpec::ChecksFile { display, .. } => display.clone(),
        }
    }

    fn open(self: Box<Self>, c: &Common) -> Source {
        let keep_literals = c.keep_literals;
        match *self {
            PgSpec::ActivityLive { dsn } => {
                Source::Network(Box::new(crate::ActivityLive { dsn: *dsn, keep_literals, connect_timeout: c.timeout }))
            }
            PgSpec::ActivityFile { file, display } => {
                Source::Blocking(Box::new(crate::ActivityFile { file, display, keep_literals }))
            }
            PgSpec::ServerLog { file, display, zone } => {
                Source::Blocking(Box::new(crate::ServerLog { file, display, zone, keep_literals }))
            }
            PgSpec::Checks { dsn, checks } => {
                Source::Network(Box::new(crate::checks::ChecksLive { dsn: *dsn, checks, connect_timeout: c.timeout }))
            }
            PgSpec::ChecksFile { file, display } => {
                Source::Blocking(Box::new(crate::checks::ChecksFile { file, display }))
            }
        }
    }

    fn save(&self, c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
        match self {
            // As psql --csv would save it.
            PgSpec::ActivityLive { dsn } => {
                let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
                let s = rt.block_on(crate::fetch::sample(dsn, c.timeout)).map_err(|e| e.to_string())?;
                let bytes = crate::activity::write_csv(&s.rows)?;
                b.add("postgres/pg_stat_activity.csv", &bytes, ROLE_ACTIVITY, &dsn.shown, Extra::default())
            }
            PgSpec::ServerLog { file, zone, .. } => {
                b.copy("postgres", file, ROLE_LOG, Extra { tz: Some(zone.to_string()), ..Default::default() })
            }
            // The verdicts as they were, so a replay shows them.
            PgSpec::Checks { dsn, checks } => {
                let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
                let outcomes = rt.block_on(crate::checks::run(dsn, checks, c.timeout)).map_err(|e| e.to_string())?;
                let mut v = serde_json::to_value(&outcomes).map_err(|e| e.to_string())?;
                b.masker().json(&mut v);
                let bytes = serde_json::to_vec_pretty(&v).map_err(|e| e.to_string())?;
                b.add("postgres/checks.json", &bytes, ROLE_CHECKS, &dsn.shown, Extra::default())
            }
            PgSpec::ActivityFile { display, .. } | PgSpec::ChecksFile { display, .. } => {
                Err(format!("{display} is saved already"))
            }
        }
    }

    fn is_live(&self) -> bool {
        matches!(self, PgSpec::ActivityLive { .. } | PgSpec::Checks { .. })
    }

    fn identity(&self) -> Identity {
        match self {
            PgSpec::ActivityLive { .. } | PgSpec::Checks { .. } => Identity::Live,
            // A server log named twice, or also reached as a plain log, is
            // read once, by this reader, which knows its format.
            PgSpec::ServerLog { file, .. } => Identity::File { path: file.clone(), specific: true },
            PgSpec::ActivityFile { .. } | PgSpec::ChecksFile { .. } => Identity::Saved,
        }
    }

    fn reads_local_times(&self) -> bool {
        matches!(self, PgSpec::ServerLog { .. })
    }
}
