//! Timesketch import format: JSON lines (or CSV) with `message`, `datetime`
//! (ISO 8601 with its `Z`), `timestamp` (microseconds) and `timestamp_desc`
//! (what the time means), plus the evidence and component as extra fields.

use std::io::{self, Write};

use reconstruct_core::{AlertState, EventKind, Fact};
use serde_json::json;

use super::{csv::field, evidence_all, marker_text, row_text};
use crate::summarise::Row;

/// What the time of a row means, in Timesketch's words.
pub fn timestamp_desc(r: &Row) -> &'static str {
    match r.event.kind {
        EventKind::Log => "Log line written",
        EventKind::StateChange => "State change logged",
        EventKind::Change => match r.event.fact.as_deref() {
            Some(Fact::Rollout { .. }) => "Rollout began",
            _ => "Commit landed",
        },
        EventKind::Lifecycle => "Container state changed",
        EventKind::Database => "Database activity",
        EventKind::Alert => match r.event.fact.as_deref() {
            Some(Fact::Alert { state: AlertState::Resolved, .. }) => "Alert resolved",
            Some(Fact::Alert { state: AlertState::Pending, .. }) => "Alert pending",
            Some(Fact::Alert { state: AlertState::Suppressed, .. }) => "Alert suppressed",
            Some(Fact::Silence { .. }) => "Silence created",
            _ => "Alert fired",
        },
        EventKind::Annotation => "Noted by a person",
    }
}

fn value(r: &Row) -> serde_json::Value {
    let e = &r.event;
    let marker = r.marker.map(marker_text);
    json!({
        "message": row_text(r),
        "datetime": e.time.rfc3339(),
        "timestamp": e.time.unix_nanos() / 1000,
        "timestamp_desc": timestamp_desc(r),
        "component": &*e.component,
        "evidence": evidence_all(r).join("\n"),
        "collector": e.collector,
        "severity": e.severity.map(|s| s.as_str()).unwrap_or(""),
        "kind": e.kind.as_str(),
        "marker": marker.unwrap_or(""),
        // Timesketch shows tags as labels on the event.
        "tag": marker.into_iter().collect::<Vec<_>>(),
    })
}

/// One JSON object per line; newlines in text are escaped by JSON itself.
pub fn jsonl(r: &Row, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &value(r))?;
    out.write_all(b"\n")
}

const HEADER: [&str; 10] = [
    "message",
    "datetime",
    "timestamp",
    "timestamp_desc",
    "component",
    "evidence",
    "collector",
    "severity",
    "kind",
    "marker",
];

pub fn csv_header(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", HEADER.join(","))
}

pub fn csv(r: &Row, out: &mut dyn Write) -> io::Result<()> {
    let v = value(r);
    let fields: Vec<String> = HEADER
        .iter()
        .map(|k| match v.get(*k) {
            Some(serde_json::Value::String(s)) => field(s),
            Some(other) => field(&other.to_string()),
            None => String::new(),
        })
        .collect();
    writeln!(out, "{}", fields.join(","))
}
