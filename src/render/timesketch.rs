//! Timesketch import format: JSON lines (or CSV) with `message`, `datetime`
//! (ISO 8601 with its `Z`), `timestamp` (microseconds) and `timestamp_desc`
//! (what the time means), plus the evidence and component as extra fields.

use std::io::{self, Write};

use reconstruct_core::{AlertState, EventKind, Fact};
use std::borrow::Cow;

use reconstruct_core::SourceKind;
use serde::Serialize;

use super::{evidence_all, marker_text, row_text};
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

/// One row as Timesketch reads it, borrowed where it can be: the members in
/// the order of their names, as its JSON lines have always had them.
#[derive(Serialize)]
struct Sketch<'a> {
    collector: SourceKind,
    component: &'a str,
    datetime: String,
    evidence: String,
    kind: &'static str,
    marker: &'static str,
    message: Cow<'a, str>,
    severity: &'static str,
    /// Timesketch shows tags as labels on the event.
    tag: Option<&'static str>,
    timestamp: i64,
    timestamp_desc: &'static str,
}

impl<'a> Sketch<'a> {
    fn of(r: &'a Row) -> Sketch<'a> {
        let e = &r.event;
        let folded = r.count > 1 || r.seen_before.is_some();
        let marker = r.marker.map(marker_text);
        Sketch {
            collector: e.collector,
            component: &e.component,
            datetime: e.time.rfc3339(),
            evidence: if r.also.is_empty() { e.evidence.locator.to_string() } else { evidence_all(r).join("\n") },
            kind: e.kind.as_str(),
            marker: marker.unwrap_or(""),
            message: if folded { Cow::Owned(row_text(r)) } else { Cow::Borrowed(&e.summary) },
            severity: e.severity.map(|s| s.as_str()).unwrap_or(""),
            tag: marker,
            timestamp: e.time.unix_nanos() / 1000,
            timestamp_desc: timestamp_desc(r),
        }
    }
}

/// One JSON object per line; newlines in text are escaped by JSON itself.
pub fn jsonl<W: Write + ?Sized>(r: &Row, out: &mut W) -> io::Result<()> {
    let s = Sketch::of(r);
    // `tag` is a list: empty, or the marker.
    #[derive(Serialize)]
    struct Tagged<'a> {
        collector: SourceKind,
        component: &'a str,
        datetime: &'a str,
        evidence: &'a str,
        kind: &'static str,
        marker: &'static str,
        message: &'a str,
        severity: &'static str,
        tag: &'a [&'static str],
        timestamp: i64,
        timestamp_desc: &'static str,
    }
    let tag: Vec<&'static str> = s.tag.into_iter().collect();
    let line = Tagged {
        collector: s.collector,
        component: s.component,
        datetime: &s.datetime,
        evidence: &s.evidence,
        kind: s.kind,
        marker: s.marker,
        message: &s.message,
        severity: s.severity,
        tag: &tag,
        timestamp: s.timestamp,
        timestamp_desc: s.timestamp_desc,
    };
    serde_json::to_writer(&mut *out, &line)?;
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

pub fn csv_header<W: Write + ?Sized>(out: &mut W) -> io::Result<()> {
    writeln!(out, "{}", HEADER.join(","))
}

pub fn csv<W: Write + ?Sized>(r: &Row, out: &mut W) -> io::Result<()> {
    let s = Sketch::of(r);
    let collector = s.collector.as_str();
    let timestamp = s.timestamp.to_string();
    let fields: [&str; 10] = [
        &s.message,
        &s.datetime,
        &timestamp,
        s.timestamp_desc,
        s.component,
        &s.evidence,
        collector,
        s.severity,
        s.kind,
        s.marker,
    ];
    super::csv::write_fields(&fields, out)
}
