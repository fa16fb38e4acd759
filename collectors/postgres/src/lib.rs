//! PostgreSQL collector: a read-only sample of `pg_stat_activity` (live
//! through tokio-postgres, or saved `psql --csv` output) and the server log
//! (stderr, csvlog or jsonlog). Parsing is pure (`activity`, `serverlog`);
//! `fetch` talks to the server.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod activity;
pub mod checks;
pub mod dsn;
pub mod fetch;
pub mod redact;
pub mod serverlog;
pub mod slice;

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reconstruct_core::event::{Event, EventKind, Evidence, Locator, TimeBasis};
use reconstruct_core::{
    CollectContext, CollectError, Collector, Detail, Diagnostic, EventSink, LocalFuture, NetworkCollector, SourceId,
    Zone,
};

use crate::serverlog::Record;
use reconstruct_core::{Fact, SourceKind};

/// A live sample of pg_stat_activity.
pub struct ActivityLive {
    pub dsn: dsn::Dsn,
    pub keep_literals: bool,
    pub connect_timeout: Duration,
}

impl NetworkCollector for ActivityLive {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Postgres, name: format!("pg_stat_activity {}", self.dsn.shown) }
    }

    fn collect<'a>(
        self: Box<Self>,
        ctx: &'a CollectContext,
        sink: &'a mut dyn EventSink,
    ) -> LocalFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            let sample = fetch::sample(&self.dsn, self.connect_timeout).await?;
            sink.note(format!(
                "a snapshot at {} (PostgreSQL {}): sessions that ended before it are only in the server log",
                sample.rows.iter().find_map(|r| r.0.get("sample_time").cloned()).unwrap_or_default(),
                sample.version
            ));
            emit_sample(&sample.rows, ctx, "pg_stat_activity", self.keep_literals, sink)
        })
    }
}

/// A saved sample (`psql --csv` output of the README's query).
pub struct ActivityFile {
    pub file: PathBuf,
    pub display: String,
    pub keep_literals: bool,
}

impl Collector for ActivityFile {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Postgres, name: self.display.clone() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let bytes = std::fs::read(&self.file).map_err(|e| format!("cannot read {}: {e}", self.display))?;
        let rows = activity::parse_csv(&bytes).map_err(|e| format!("{}: {e}", self.display))?;
        sink.note(format!("a saved snapshot of {} sessions", rows.len()));
        emit_sample(&rows, ctx, &self.display, self.keep_literals, sink)
    }
}

fn emit_sample(
    rows: &[activity::Row],
    ctx: &CollectContext,
    source: &str,
    keep: bool,
    sink: &mut dyn EventSink,
) -> Result<(), CollectError> {
    for e in activity::events(rows, &ctx.window, source, &activity::Options { keep_literals: keep }) {
        sink.emit(e)?;
    }
    Ok(())
}

/// A server log file in any of the three formats.
pub struct ServerLog {
    pub file: PathBuf,
    pub display: String,
    pub zone: Zone,
    pub keep_literals: bool,
}

impl Collector for ServerLog {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Postgres, name: self.display.clone() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        // Rotated server logs are often compressed (`postgresql-15-main.log.2.gz`).
        let open = || -> Result<Box<dyn std::io::Read + Send>, String> {
            let f = File::open(&self.file).map_err(|e| format!("cannot read {}: {e}", self.display))?;
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            reconstruct_logfile::compressed::open(f, size)
                .map(|(r, _)| r)
                .map_err(|e| format!("cannot read {}: {e}", self.display))
        };
        let mut head = [0u8; 4096];
        let mut first_reader = open()?;
        let mut n = 0;
        // A decoder may hand out less than asked: fill the head.
        while n < head.len() {
            match head.get_mut(n..).map(|b| std::io::Read::read(&mut first_reader, b)) {
                Some(Ok(0)) | None | Some(Err(_)) => break,
                Some(Ok(k)) => n += k,
            }
        }
        let first = head.get(..n).unwrap_or_default();
        let first_line = first.split(|c| *c == b'\n').find(|l| !l.trim_ascii().is_empty()).unwrap_or_default();
        let format = serverlog::detect(first_line);
        let path: Arc<str> = Arc::from(self.display.as_str());
        let mut stopped = None;
        let mut emit = |r: Record| {
            if stopped.is_some() {
                return;
            }
            if let Some(e) = record_event(&r, &path, ctx, self.keep_literals, sink) {
                if let Err(s) = sink.emit(e) {
                    stopped = Some(s);
                }
            }
        };
        let problems = match format {
            serverlog::Format::Stderr => serverlog::read_stderr(open()?, &self.zone, &mut emit),
            serverlog::Format::Csv => serverlog::read_csv(open()?, &mut emit),
            serverlog::Format::Json => serverlog::read_json(open()?, &mut emit),
        }
        .map_err(|e| format!("cannot read {}: {e}", self.display))?;
        if let Some(s) = stopped {
            return Err(s.into());
        }
        for (line, message) in problems {
            sink.diagnostic(Diagnostic { locator: Some(Locator::Line { path: path.clone(), line }), message });
        }
        sink.note(format!(
            "server log, {} format",
            match format {
                serverlog::Format::Stderr => "stderr",
                serverlog::Format::Csv => "csvlog",
                serverlog::Format::Json => "jsonlog",
            }
        ));
        Ok(())
    }
}

/// One server message as an event (or `None` when outside the window, or
/// routine and the summary does not need it built).
fn record_event(
    r: &Record,
    path: &Arc<str>,
    ctx: &CollectContext,
    keep: bool,
    sink: &mut dyn EventSink,
) -> Option<Event> {
    let time = r.time?;
    if !ctx.window.contains(time) {
        return None;
    }
    let m = serverlog::meaning(r);
    if m.routine && ctx.detail == Detail::Notable {
        sink.skip(time, r.extra_lines);
        return None;
    }
    let sql = |s: &str| if keep { s.to_string() } else { redact::redact_sql(s) };
    let detail = r.detail.as_deref().map(|d| if keep { d.to_string() } else { redact::redact_detail(d) });
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut summary = format!("{}: {}", r.severity, flat(&r.message));
    // A deadlock or a lock wait is only legible with its DETAIL (who waits on whom).
    if r.message.contains("deadlock detected") || r.message.contains("still waiting for") {
        if let Some(d) = &detail {
            // Without the `Process 4711: UPDATE …` lines: the query is in the excerpt.
            let lines: Vec<String> = d.lines().filter(|l| !is_process_query(l)).map(flat).collect();
            summary.push_str(" — ");
            summary.push_str(&lines.join(" "));
        }
    }
    let component = match (&r.db, &r.app) {
        (Some(db), Some(app)) => format!("{db} ({app})"),
        (Some(db), None) => db.clone(),
        (None, Some(app)) => app.clone(),
        (None, None) => "postgres".to_string(),
    };
    let mut excerpt = format!("{}: {}", r.severity, sql(&r.message));
    for (k, v) in [
        ("DETAIL", detail),
        ("HINT", r.hint.clone()),
        ("CONTEXT", r.context.clone()),
        ("STATEMENT", r.statement.as_deref().map(sql)),
    ] {
        if let Some(v) = v {
            excerpt.push_str(&format!("\n{k}: {v}"));
        }
    }
    if let Some(p) = &r.pid {
        excerpt.push_str(&format!("\npid: {p}"));
    }
    Some(Event {
        time,
        basis: r.basis.unwrap_or(TimeBasis::Explicit),
        collector: SourceKind::Postgres,
        component: Arc::from(component),
        kind: if m.state_change { EventKind::StateChange } else { EventKind::Database },
        severity: Some(m.severity),
        summary,
        evidence: Evidence { locator: Locator::Line { path: path.clone(), line: r.line }, excerpt },
        continuation_lines: r.extra_lines,
        service: None,
        fact: r
            .pid
            .as_deref()
            .and_then(|p| p.trim().parse::<i64>().ok())
            .map(|pid| Box::new(Fact::Session { pid, state: None })),
    })
}

/// `Process 4711: UPDATE …` (a deadlock DETAIL line naming a query).
fn is_process_query(line: &str) -> bool {
    line.trim_start()
        .strip_prefix("Process ")
        .and_then(|r| r.split_once(": "))
        .is_some_and(|(pid, _)| !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit()))
}
