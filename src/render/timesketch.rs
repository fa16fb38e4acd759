//! Timesketch import format: JSON lines (or CSV) with `message`, `datetime`
//! (ISO 8601 with its `Z`), `timestamp` (microseconds) and `timestamp_desc`
//! (what the time means), plus the evidence and component as extra fields.

use std::io::{self, Write};

use reconstruct_core::{AlertState, EventKind, Fact};
use std::borrow::Cow;

#[cfg(test)]
use reconstruct_core::SourceKind;
#[cfg(test)]
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
/// the order of their names, as its JSON lines have always had them. What
/// the writers below write by hand, built the plain way (the tests' measure).
#[cfg(test)]
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

#[cfg(test)]
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

/// One line of the JSON export, in its members' order. `tag` is a list:
/// empty, or the marker.
#[cfg(test)]
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

#[cfg(test)]
impl<'a> Tagged<'a> {
    fn of(s: &'a Sketch<'a>, tag: &'a [&'static str]) -> Tagged<'a> {
        Tagged {
            collector: s.collector,
            component: s.component,
            datetime: &s.datetime,
            evidence: &s.evidence,
            kind: s.kind,
            marker: s.marker,
            message: &s.message,
            severity: s.severity,
            tag,
            timestamp: s.timestamp,
            timestamp_desc: s.timestamp_desc,
        }
    }
}

/// One JSON object per line; newlines in text are escaped by JSON itself.
/// Written member by member, as [`super::json::write_line`] is: the texts
/// that need no escape are copied whole, and nothing is built for a row
/// (no time text, no evidence text: an export writes one for every event).
/// [`Tagged`] is what it writes, by serde.
pub fn jsonl<W: Write + ?Sized>(r: &Row, out: &mut W) -> io::Result<()> {
    use super::json::{write_name, write_number, write_str};
    let e = &r.event;
    let marker = r.marker.map(marker_text);
    out.write_all(b"{\"collector\":")?;
    write_name(out, e.collector.as_str())?;
    out.write_all(b",\"component\":")?;
    write_str(out, &e.component)?;
    out.write_all(b",\"datetime\":\"")?;
    out.write_all(e.time.rfc3339_text().as_bytes())?;
    out.write_all(b"\",\"evidence\":")?;
    if r.also.is_empty() {
        super::json::write_locator(out, &e.evidence.locator)?;
    } else {
        write_str(out, &evidence_all(r).join("\n"))?;
    }
    out.write_all(b",\"kind\":")?;
    write_str(out, e.kind.as_str())?;
    out.write_all(b",\"marker\":")?;
    write_str(out, marker.unwrap_or(""))?;
    out.write_all(b",\"message\":")?;
    write_str(out, &message(r))?;
    out.write_all(b",\"severity\":")?;
    write_str(out, e.severity.map(|s| s.as_str()).unwrap_or(""))?;
    out.write_all(b",\"tag\":[")?;
    if let Some(m) = marker {
        write_str(out, m)?;
    }
    out.write_all(b"],\"timestamp\":")?;
    let micros = e.time.unix_nanos() / 1000;
    if micros < 0 {
        out.write_all(b"-")?;
    }
    write_number(out, micros.unsigned_abs())?;
    out.write_all(b",\"timestamp_desc\":")?;
    write_str(out, timestamp_desc(r))?;
    out.write_all(b"}\n")
}

/// A row's message: its event's summary, with what it folds said after it.
fn message(r: &Row) -> Cow<'_, str> {
    let folded = r.count > 1 || r.seen_before.is_some();
    if folded {
        Cow::Owned(row_text(r))
    } else {
        Cow::Borrowed(&r.event.summary)
    }
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

/// One CSV record, written field by field (nothing built for a row).
pub fn csv<W: Write + ?Sized>(r: &Row, out: &mut W) -> io::Result<()> {
    use super::csv::{write_field, write_locator};
    let e = &r.event;
    write_field(&message(r), out)?;
    out.write_all(b",")?;
    out.write_all(e.time.rfc3339_text().as_bytes())?;
    out.write_all(b",")?;
    let micros = e.time.unix_nanos() / 1000;
    if micros < 0 {
        out.write_all(b"-")?;
    }
    super::json::write_number(out, micros.unsigned_abs())?;
    out.write_all(b",")?;
    write_field(timestamp_desc(r), out)?;
    out.write_all(b",")?;
    write_field(&e.component, out)?;
    out.write_all(b",")?;
    if r.also.is_empty() {
        write_locator(&e.evidence.locator, out)?;
    } else {
        write_field(&evidence_all(r).join("\n"), out)?;
    }
    let rest = [
        e.collector.as_str(),
        e.severity.map(|s| s.as_str()).unwrap_or(""),
        e.kind.as_str(),
        r.marker.map(marker_text).unwrap_or(""),
    ];
    for f in rest {
        out.write_all(b",")?;
        write_field(f, out)?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::{Event, EventKind, Evidence, Locator, Severity, TimeBasis, Timestamp};

    /// The hand-written line is serde's, byte for byte, plain or not.
    #[test]
    fn a_line_written_by_hand_is_serdes() {
        for (i, text) in ["GET /v1/items 200", "say \"hi\" \\ back\ttab\u{1}", "café ✓"].iter().enumerate() {
            let e = Event {
                time: Timestamp::from_unix_seconds(1_766_759_415, 5_000).unwrap_or(Timestamp::MIN),
                basis: TimeBasis::Explicit,
                collector: SourceKind::Logfile,
                component: (*text).into(),
                service: None,
                kind: EventKind::Log,
                severity: (i != 1).then_some(Severity::Warning),
                summary: text.to_string(),
                evidence: Evidence {
                    locator: Locator::Line { path: "logs/\"a\".log".into(), line: 7 },
                    excerpt: String::new(),
                },
                continuation_lines: 0,
                fact: None,
            };
            let row = super::super::single(e);
            let mut got = Vec::new();
            assert!(jsonl(&row, &mut got).is_ok());
            let s = Sketch::of(&row);
            let tag: Vec<&'static str> = s.tag.into_iter().collect();
            let want = format!("{}\n", serde_json::to_string(&Tagged::of(&s, &tag)).unwrap_or_default());
            assert_eq!(String::from_utf8_lossy(&got), want);
        }
    }

    /// Both hand-written formats are what the plain way builds, for every
    /// shape of row: the JSON line serde's, the CSV record its fields'.
    #[test]
    fn every_sample_row_is_written_as_the_plain_way_writes_it() {
        for row in super::super::sample_rows() {
            let s = Sketch::of(&row);
            let tag: Vec<&'static str> = s.tag.into_iter().collect();
            let want = format!("{}\n", serde_json::to_string(&Tagged::of(&s, &tag)).unwrap_or_default());
            let mut got = Vec::new();
            assert!(jsonl(&row, &mut got).is_ok());
            assert_eq!(String::from_utf8_lossy(&got), want);

            let timestamp = s.timestamp.to_string();
            let fields: [&str; 10] = [
                &s.message,
                &s.datetime,
                &timestamp,
                s.timestamp_desc,
                s.component,
                &s.evidence,
                s.collector.as_str(),
                s.severity,
                s.kind,
                s.marker,
            ];
            let mut want = Vec::new();
            assert!(super::super::csv::write_fields(&fields, &mut want).is_ok());
            let mut got = Vec::new();
            assert!(csv(&row, &mut got).is_ok());
            assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
        }
    }
}
