//! JSON and JSON lines: every event with time (RFC 3339, `Z`), collector,
//! component, event, evidence and severity, plus how its time was derived.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{row_text, Timeline};
use crate::summarise::Row;

pub fn event_value(r: &Row) -> Value {
    let e = &r.event;
    let mut v = json!({
        "time": e.time,
        "collector": e.collector,
        "component": &*e.component,
        "event": row_text(r),
        "evidence": e.evidence.locator,
        "severity": e.severity,
        "kind": e.kind,
        "time_basis": e.basis,
    });
    if let Some(m) = v.as_object_mut() {
        if r.count > 1 {
            m.insert("count".into(), json!(r.count));
            m.insert("last_time".into(), json!(r.last));
        }
        if e.continuation_lines > 0 {
            m.insert("continuation_lines".into(), json!(e.continuation_lines));
        }
        // The structured fact (alert state, container action, commit, session), for tools.
        if let Some(fact) = e.fact.as_deref() {
            m.insert("fact".into(), json!(fact));
        }
        if let Some(reason) = r.reason {
            m.insert("reason".into(), json!(reason));
        }
        if let Some(marker) = r.marker {
            m.insert("marker".into(), json!(marker));
        }
        if let Some(n) = r.seen_before {
            m.insert("seen_before".into(), json!(n));
        }
        if !r.also.is_empty() {
            // Each event the row stands for, with its own evidence.
            let also: Vec<Value> = r
                .also
                .iter()
                .map(|a| {
                    json!({
                        "time": a.time,
                        "collector": a.collector,
                        "component": &*a.component,
                        "event": a.summary,
                        "evidence": a.evidence.locator,
                        "severity": a.severity,
                    })
                })
                .collect();
            m.insert("also".into(), json!(also));
        }
        m.insert("excerpt".into(), json!(e.evidence.excerpt));
    }
    v
}

pub fn write_line(r: &Row, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &event_value(r))?;
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
