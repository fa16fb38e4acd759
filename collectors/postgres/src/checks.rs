//! Data-integrity checks: SQL a team names in `reconstruct.toml`
//! (`[[check]]`: a name, the SQL, what its first value should be), run
//! against the live server each in its own READ ONLY transaction under a
//! statement timeout, and saved by capture so a replay shows the same
//! verdicts. A check that fails, errors or times out is named; the others
//! still run.

use std::sync::Arc;
use std::time::Duration;

use reconstruct_core::{
    CollectContext, CollectError, Collector, Event, EventKind, EventSink, Evidence, Fact, LocalFuture, Locator,
    NetworkCollector, Severity, SourceId, SourceKind, TimeBasis, Timestamp,
};
use serde::{Deserialize, Serialize};
use tokio_postgres::SimpleQueryMessage;

use crate::dsn::Dsn;

/// One check as the configuration names it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub sql: String,
    /// `= 0`, `<= 5`, `> 0`: how the query's first value must compare.
    pub expect: String,
    /// Seconds the statement may take.
    pub timeout: f64,
}

/// How a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    Error,
    TimedOut,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Error => "error",
            Verdict::TimedOut => "timed_out",
        }
    }
}

/// A check's result, as saved in a bundle (`postgres/checks.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outcome {
    pub name: String,
    pub sql: String,
    pub expect: String,
    pub verdict: Verdict,
    /// The query's first value, as the server wrote it.
    pub value: Option<String>,
    /// Why it could not run.
    pub message: Option<String>,
    /// When it ran (RFC 3339).
    pub ran_at: String,
    /// The server, as its masked DSN.
    pub server: String,
}

/// An expectation read: the comparison and the number.
pub fn expectation(expect: &str) -> Result<(&'static str, f64), String> {
    let e = expect.trim();
    for op in ["<=", ">=", "!=", "==", "<", ">", "="] {
        if let Some(rest) = e.strip_prefix(op) {
            let n: f64 = rest
                .trim()
                .parse()
                .map_err(|_| format!("expect {expect:?}: give a comparison and a number (= 0, <= 5)"))?;
            let op = if op == "==" { "=" } else { op };
            return Ok((op, n));
        }
    }
    Err(format!("expect {expect:?}: give a comparison and a number (= 0, <= 5)"))
}

/// Whether `value` meets the expectation.
fn meets(value: &str, expect: &str) -> Result<bool, String> {
    let (op, n) = expectation(expect)?;
    let v: f64 = value.trim().parse().map_err(|_| format!("the first value {value:?} is not a number"))?;
    Ok(match op {
        "=" => (v - n).abs() < f64::EPSILON,
        "!=" => (v - n).abs() >= f64::EPSILON,
        "<" => v < n,
        "<=" => v <= n,
        ">" => v > n,
        _ => v >= n,
    })
}

fn now() -> Timestamp {
    Timestamp::from_datetime(&chrono::Utc::now()).unwrap_or(Timestamp::MIN)
}

/// Runs every check on one session; a check's failure does not stop the others.
pub async fn run(
    dsn: &Dsn,
    checks: &[Check],
    connect_timeout: Duration,
) -> Result<Vec<Outcome>, crate::fetch::FetchError> {
    let client = crate::fetch::connect(dsn, connect_timeout).await?;
    let mut out = Vec::new();
    for c in checks {
        let ms = (c.timeout.clamp(0.001, 3600.0) * 1000.0) as u64;
        let begin = format!("BEGIN READ ONLY; SET LOCAL statement_timeout = '{ms}ms'");
        let ran_at = now().rfc3339();
        let outcome = |verdict, value, message| Outcome {
            name: c.name.clone(),
            sql: c.sql.clone(),
            expect: c.expect.clone(),
            verdict,
            value,
            message,
            ran_at: ran_at.clone(),
            server: dsn.shown.clone(),
        };
        if let Err(e) = client.batch_execute(&begin).await {
            out.push(outcome(Verdict::Error, None, Some(crate::fetch::statement_error(&e).0)));
            continue;
        }
        let answer = client.simple_query(&c.sql).await;
        let _ = client.batch_execute("ROLLBACK").await;
        let result = match answer {
            Ok(msgs) => {
                let first = msgs.iter().find_map(|m| match m {
                    SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("NULL").to_string()),
                    _ => None,
                });
                match first {
                    None => outcome(Verdict::Error, None, Some("the query returned no rows".into())),
                    Some(v) => match meets(&v, &c.expect) {
                        Ok(true) => outcome(Verdict::Passed, Some(v), None),
                        Ok(false) => outcome(Verdict::Failed, Some(v), None),
                        Err(m) => outcome(Verdict::Error, Some(v), Some(m)),
                    },
                }
            }
            Err(e) => {
                let (message, timed_out) = crate::fetch::statement_error(&e);
                let verdict = if timed_out { Verdict::TimedOut } else { Verdict::Error };
                outcome(verdict, None, Some(message))
            }
        };
        out.push(result);
    }
    Ok(out)
}

/// The evidence of a check: the command that runs it again.
pub fn locator(sql: &str) -> String {
    format!("psql -c '{}'", sql.replace('\'', "'\\''"))
}

/// A check's result as an event: at the time it ran (within the window),
/// a warning when it did not pass.
pub fn event(o: &Outcome, window: &reconstruct_core::TimeWindow) -> Event {
    let ran = Timestamp::from_datetime(&chrono::DateTime::parse_from_rfc3339(&o.ran_at).unwrap_or_default())
        .unwrap_or(window.until);
    let time = ran.clamp(window.since, window.until);
    let summary = match o.verdict {
        Verdict::Passed => {
            format!("check {} passed: {} (expected {})", o.name, o.value.as_deref().unwrap_or("-"), o.expect)
        }
        Verdict::Failed => {
            format!("check {} failed: {} (expected {})", o.name, o.value.as_deref().unwrap_or("-"), o.expect)
        }
        Verdict::Error => {
            format!("check {} could not run: {}", o.name, o.message.as_deref().unwrap_or("unknown error"))
        }
        Verdict::TimedOut => {
            format!("check {} timed out: {}", o.name, o.message.as_deref().unwrap_or("statement timeout"))
        }
    };
    Event {
        time,
        basis: TimeBasis::Explicit,
        collector: SourceKind::Postgres,
        component: Arc::from("checks"),
        kind: EventKind::Database,
        severity: Some(if o.verdict == Verdict::Passed { Severity::Info } else { Severity::Warning }),
        summary,
        evidence: Evidence {
            locator: Locator::Text(locator(&o.sql)),
            excerpt: format!("ran at {} on {} in a READ ONLY transaction\n{}", o.ran_at, o.server, o.sql),
        },
        continuation_lines: 0,
        service: None,
        fact: Some(Box::new(Fact::Check {
            name: o.name.clone(),
            verdict: o.verdict.as_str().to_string(),
            value: o.value.clone(),
            expect: o.expect.clone(),
        })),
    }
}

fn emit(outcomes: &[Outcome], ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
    let passed = outcomes.iter().filter(|o| o.verdict == Verdict::Passed).count();
    sink.note(format!("{} checks: {passed} passed, {} did not", outcomes.len(), outcomes.len() - passed));
    for o in outcomes {
        sink.emit(event(o, &ctx.window))?;
    }
    Ok(())
}

/// The checks, run live.
pub struct ChecksLive {
    pub dsn: Dsn,
    pub checks: Vec<Check>,
    pub connect_timeout: Duration,
}

impl NetworkCollector for ChecksLive {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Postgres, name: format!("checks {}", self.dsn.shown) }
    }

    fn collect<'a>(
        self: Box<Self>,
        ctx: &'a CollectContext,
        sink: &'a mut dyn EventSink,
    ) -> LocalFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            let outcomes = run(&self.dsn, &self.checks, self.connect_timeout).await?;
            emit(&outcomes, ctx, sink)
        })
    }
}

/// Checks a capture saved.
pub struct ChecksFile {
    pub file: std::path::PathBuf,
    pub display: String,
}

impl Collector for ChecksFile {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Postgres, name: self.display.clone() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let bytes = std::fs::read(&self.file).map_err(|e| format!("cannot read {}: {e}", self.display))?;
        let outcomes: Vec<Outcome> =
            serde_json::from_slice(&bytes).map_err(|e| format!("{}: not saved check results: {e}", self.display))?;
        emit(&outcomes, ctx, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_compare_the_first_value() {
        assert_eq!(meets("0", "= 0"), Ok(true));
        assert_eq!(meets("3", "= 0"), Ok(false));
        assert_eq!(meets("3", "<= 5"), Ok(true));
        assert_eq!(meets("3", "> 0"), Ok(true));
        assert!(meets("x", "= 0").is_err());
        assert!(expectation("zero").is_err());
        assert_eq!(locator("SELECT 'a'"), "psql -c 'SELECT '\\''a'\\'''");
    }
}
