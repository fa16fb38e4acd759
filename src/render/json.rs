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

/// One line of JSON lines: the members of [`Line`], in its order, written
/// by hand from the row's own fields (no [`Line`] is built: a tenth of the
/// writer's work) so that the long texts (the event, its excerpt) are
/// copied whole where they need no escape, as nearly all do; the rest
/// through serde. The tests hold it to serde's writing of [`Line::of`].
pub fn write_line<W: Write + ?Sized>(r: &Row, out: &mut W) -> io::Result<()> {
    let e = &r.event;
    out.write_all(b"{")?;
    if !r.also.is_empty() {
        out.write_all(b"\"also\":")?;
        serde_json::to_writer(&mut *out, &Line::of(r).also)?;
        out.write_all(b",")?;
    }
    // The kinds' names need no escape: written as they are, not through
    // serde's escaping of each (a few per cent of an export).
    out.write_all(b"\"collector\":")?;
    write_name(out, e.collector.as_str())?;
    out.write_all(b",\"component\":")?;
    write_str(out, &e.component)?;
    if e.continuation_lines > 0 {
        out.write_all(b",\"continuation_lines\":")?;
        write_number(out, u64::from(e.continuation_lines))?;
    }
    if r.count > 1 {
        out.write_all(b",\"count\":")?;
        write_number(out, r.count)?;
    }
    out.write_all(b",\"event\":")?;
    if r.count > 1 || r.seen_before.is_some() {
        write_str(out, &row_text(r))?;
    } else {
        write_str(out, &e.summary)?;
    }
    out.write_all(b",\"evidence\":")?;
    write_locator(out, &e.evidence.locator)?;
    out.write_all(b",\"excerpt\":")?;
    write_str(out, &e.evidence.excerpt)?;
    if let Some(f) = e.fact.as_deref().and_then(|f| serde_json::to_value(f).ok()) {
        out.write_all(b",\"fact\":")?;
        serde_json::to_writer(&mut *out, &f)?;
    }
    out.write_all(b",\"kind\":")?;
    write_name(out, e.kind.as_str())?;
    if r.count > 1 {
        out.write_all(b",\"last_time\":")?;
        serde_json::to_writer(&mut *out, &r.last)?;
    }
    if let Some(m) = &r.marker {
        out.write_all(b",\"marker\":")?;
        serde_json::to_writer(&mut *out, m)?;
    }
    if let Some(m) = &r.reason {
        out.write_all(b",\"reason\":")?;
        serde_json::to_writer(&mut *out, m)?;
    }
    if let Some(n) = r.seen_before {
        out.write_all(b",\"seen_before\":")?;
        write_number(out, n)?;
    }
    out.write_all(b",\"severity\":")?;
    match e.severity {
        Some(s) => write_name(out, s.as_str())?,
        None => out.write_all(b"null")?,
    }
    // Digits and separators alone: no escape.
    out.write_all(b",\"time\":\"")?;
    out.write_all(e.time.rfc3339_text().as_bytes())?;
    out.write_all(b"\"")?;
    out.write_all(b",\"time_basis\":")?;
    write_name(out, e.basis.as_str())?;
    out.write_all(b"}\n")
}

/// Two decimal digits of each number below a hundred.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// A number's decimal digits, without the formatting machinery (one is
/// written for every event), two digits a step.
pub(super) fn write_number<W: Write + ?Sized>(out: &mut W, mut n: u64) -> io::Result<()> {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        if let (Some(slot), Some(digits)) = (buf.get_mut(at..at + 2), PAIRS.get(pair..pair + 2)) {
            slot.copy_from_slice(digits);
        }
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        if let (Some(slot), Some(digits)) = (buf.get_mut(at..at + 2), PAIRS.get(pair..pair + 2)) {
            slot.copy_from_slice(digits);
        }
    } else {
        at -= 1;
        if let Some(slot) = buf.get_mut(at) {
            *slot = b'0' + n as u8;
        }
    }
    out.write_all(buf.get(at..).unwrap_or_default())
}

/// A locator as a JSON string, without building its text.
pub(super) fn write_locator<W: Write + ?Sized>(out: &mut W, l: &Locator) -> io::Result<()> {
    match l {
        // `path:line`: the number and its colon need no escape.
        Locator::Line { path, line } if plain(path) => {
            out.write_all(b"\"")?;
            out.write_all(path.as_bytes())?;
            out.write_all(b":")?;
            write_number(out, *line)?;
            out.write_all(b"\"")
        }
        Locator::Text(t) => write_str(out, t),
        other => Ok(serde_json::to_writer(&mut *out, other)?),
    }
}

/// A kind's name (lower-case letters and `_`) as a JSON string.
pub(super) fn write_name<W: Write + ?Sized>(out: &mut W, name: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    out.write_all(name.as_bytes())?;
    out.write_all(b"\"")
}

/// Whether no byte of `s` needs an escape in JSON. Looked at 16 bytes a
/// step, each step one pass the compiler makes wide; the last step is the
/// text's last 16 bytes again (or its few bytes padded), not its rest byte
/// by byte, which cost most of the test for the short texts of an event.
fn plain(s: &str) -> bool {
    fn step(w: &[u8; 16]) -> bool {
        w.iter().fold(true, |ok, &b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'))
    }
    let b = s.as_bytes();
    let mut steps = b.chunks_exact(16);
    let mut ok = true;
    for w in steps.by_ref() {
        ok &= <&[u8; 16]>::try_from(w).is_ok_and(step);
    }
    if steps.remainder().is_empty() {
        return ok;
    }
    match b.len().checked_sub(16).and_then(|from| b.get(from..)) {
        Some(last) => ok & <&[u8; 16]>::try_from(last).is_ok_and(step),
        None => {
            let mut padded = [b'a'; 16];
            if let Some(head) = padded.get_mut(..b.len()) {
                head.copy_from_slice(b);
            }
            ok & step(&padded)
        }
    }
}

/// A JSON string: copied whole when no byte needs an escape (the test is
/// one pass the compiler makes wide), else escaped by serde as before.
pub(super) fn write_str<W: Write + ?Sized>(out: &mut W, s: &str) -> io::Result<()> {
    if plain(s) {
        out.write_all(b"\"")?;
        out.write_all(s.as_bytes())?;
        out.write_all(b"\"")
    } else {
        serde_json::to_writer(&mut *out, s).map_err(io::Error::from)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::{Event, Evidence, Fact};

    /// The hand-written line is serde's, byte for byte: texts with quotes,
    /// backslashes, control characters and non-ASCII, paths that need an
    /// escape, a fact, and the plain case.
    #[test]
    fn a_line_written_by_hand_is_serdes() {
        let texts = ["GET /v1/items 200", "say \"hi\" \\ back", "tab\there\nnew\u{1}line\u{7f}", "café ✓ \u{2028}", ""];
        let paths = ["logs/app.log", "logs/\"odd\".log", "C:\\logs\\app.log"];
        let numbers = [0, 9, 10, 42, 1_000_000, u64::MAX];
        for (i, text) in texts.iter().enumerate() {
            for (path, line) in paths.iter().flat_map(|p| numbers.iter().map(move |n| (*p, *n))) {
                let mut e = Event {
                    time: Timestamp::from_unix_seconds(1_766_759_415, 123_000_000).unwrap_or(Timestamp::MIN),
                    basis: TimeBasis::Explicit,
                    collector: SourceKind::Logfile,
                    component: (*text).into(),
                    service: None,
                    kind: EventKind::Log,
                    severity: (i % 2 == 0).then_some(Severity::Error),
                    summary: text.to_string(),
                    evidence: Evidence {
                        locator: if i == 3 {
                            Locator::Text(format!("{path} {text}"))
                        } else {
                            Locator::Line { path: path.into(), line }
                        },
                        excerpt: format!("{text}\n  at {path}"),
                    },
                    continuation_lines: u32::try_from(i).unwrap_or(0),
                    fact: None,
                };
                if i == 1 {
                    e.fact = Some(Box::new(Fact::Tally { lines: 3, seconds: 60 }));
                }
                let row = super::super::single(e);
                let mut got = Vec::new();
                assert!(write_line(&row, &mut got).is_ok());
                let want = format!("{}\n", serde_json::to_string(&Line::of(&row)).unwrap_or_default());
                assert_eq!(String::from_utf8_lossy(&got), want);
            }
        }
    }

    #[test]
    fn a_text_is_plain_when_no_byte_needs_an_escape() {
        let naive = |s: &str| s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
        let bytes: Vec<char> = (0u8..128).map(char::from).chain(['é', '✓', '\u{2028}']).collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..80usize {
            for _ in 0..200 {
                let s: String = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Mostly plain letters: one byte to escape, anywhere.
                        if seed % 16 == 0 {
                            bytes[(seed >> 8) as usize % bytes.len()]
                        } else {
                            'x'
                        }
                    })
                    .collect();
                assert_eq!(plain(&s), naive(&s), "{s:?}");
            }
        }
    }

    #[test]
    fn a_number_is_written_as_its_decimal_text() {
        let mut cases: Vec<u64> = vec![0, u64::MAX, u64::MAX - 1];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            cases.extend([p - 1, p, p + 1, p * 5, next - 1]);
            p = next;
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            cases.push(seed >> (seed % 64));
        }
        for n in cases {
            let mut got = Vec::new();
            assert!(write_number(&mut got, n).is_ok());
            assert_eq!(String::from_utf8_lossy(&got), n.to_string());
        }
    }

    /// Every shape of row (folded, seen before, with other events, facts,
    /// markers, every kind and basis) is written as serde writes it.
    #[test]
    fn every_sample_row_is_written_as_serde_writes_it() {
        for row in super::super::sample_rows() {
            let mut got = Vec::new();
            assert!(write_line(&row, &mut got).is_ok());
            let want = format!("{}\n", serde_json::to_string(&Line::of(&row)).unwrap_or_default());
            assert_eq!(String::from_utf8_lossy(&got), want);
        }
    }
}
