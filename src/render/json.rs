//! JSON and JSON lines: every event with time (RFC 3339, `Z`), collector,
//! component, event, evidence and severity, plus how its time was derived.

use std::io::{self, Write};

use std::borrow::Cow;

use reconstruct_core::{EventKind, Locator, Severity, SourceKind, TimeBasis, Timestamp};
use serde::Serialize;
use serde_json::{json, Value};

use super::{row_text, Timeline};
use crate::summarise::{Marker, Reason, Row};

/// One event as the JSON formats write it, borrowed from its row: a line is
/// serialized straight from the event's fields. The members are declared in
/// the order of their names, the order a JSON object has always had here.
#[derive(Serialize)]
struct Line<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    also: Vec<Also<'a>>,
    collector: SourceKind,
    component: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    continuation_lines: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    event: Cow<'a, str>,
    evidence: &'a Locator,
    excerpt: &'a str,
    /// The structured fact (alert state, container action, commit, session),
    /// for tools; as a JSON value, whose members are in the order of their names.
    #[serde(skip_serializing_if = "Option::is_none")]
    fact: Option<Value>,
    kind: EventKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_time: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<Marker>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seen_before: Option<u64>,
    severity: Option<Severity>,
    time: Timestamp,
    time_basis: TimeBasis,
}

/// Each event a row stands for, with its own evidence.
#[derive(Serialize)]
struct Also<'a> {
    collector: SourceKind,
    component: &'a str,
    event: &'a str,
    evidence: &'a Locator,
    severity: Option<Severity>,
    time: Timestamp,
}

impl<'a> Line<'a> {
    fn of(r: &'a Row) -> Line<'a> {
        let e = &r.event;
        let folded = r.count > 1 || r.seen_before.is_some();
        Line {
            also: r
                .also
                .iter()
                .map(|a| Also {
                    collector: a.collector,
                    component: &a.component,
                    event: &a.summary,
                    evidence: &a.evidence.locator,
                    severity: a.severity,
                    time: a.time,
                })
                .collect(),
            collector: e.collector,
            component: &e.component,
            continuation_lines: (e.continuation_lines > 0).then_some(e.continuation_lines),
            count: (r.count > 1).then_some(r.count),
            event: if folded { Cow::Owned(row_text(r)) } else { Cow::Borrowed(&e.summary) },
            evidence: &e.evidence.locator,
            excerpt: &e.evidence.excerpt,
            fact: e.fact.as_deref().and_then(|f| serde_json::to_value(f).ok()),
            kind: e.kind,
            last_time: (r.count > 1).then_some(r.last),
            marker: r.marker,
            reason: r.reason,
            seen_before: r.seen_before,
            severity: e.severity,
            time: e.time,
            time_basis: e.basis,
        }
    }
}

pub fn event_value(r: &Row) -> Value {
    serde_json::to_value(Line::of(r)).unwrap_or(Value::Null)
}

pub fn write_line<W: Write + ?Sized>(r: &Row, out: &mut W) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &Line::of(r))?;
    out.write_all(b"\n")
}

pub fn render(t: &Timeline<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(t))?;
    out.write_all(b"\n")
}

/// The timeline as one JSON document: window, events, summary, coverage, bundle.
pub fn document(t: &Timeline<'_>) -> Value {
    let coverage: Vec<Value> = t
        .coverage_lines()
        .iter()
        .map(|c| {
            let o = c.outcome;
            json!({
                "source": o.source.to_string(),
                "collector": o.source.collector,
                "status": c.word,
                "detail": c.text,
                "events": c.events,
                "events_built": o.events,
                "continuation_lines": o.continuation_lines + o.tally.skipped_lines,
                "first": c.first,
                "last": c.last,
                "notes": o.tally.notes,
                "out_of_order": o.tally.late,
                "problems": o.tally.diagnostics_total,
                "problem_samples": o.tally.diagnostics.iter().map(|d| json!({
                    "evidence": d.locator.as_ref().map(ToString::to_string),
                    "message": d.message,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "window": { "since": t.window.since, "until": t.window.until },
        "events": t.rows.iter().map(event_value).collect::<Vec<_>>(),
        "summary": {
            "all": t.all,
            "events_in_window": t.totals.events,
            "rows": t.rows.len(),
            "folded": t.totals.folded,
            "over_budget_rows": t.totals.over_budget_rows,
            "over_budget_events": t.totals.over_budget_events,
            "routine_not_shown": t.totals.routine,
            "unclustered": t.totals.unclustered,
            "masked": t.totals.masked,
            "filtered_out": t.totals.filtered,
        },
        "coverage": coverage,
        "bundle": t.bundle.map(|b| json!({
            "verified_by_manifest": b.trust == crate::bundle::Trust::Listed,
            "unlisted": b.unlisted,
        })),
    });
    doc
}
