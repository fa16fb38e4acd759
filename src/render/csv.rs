//! CSV (RFC 4180): one event per row, fields quoted when they hold a comma,
//! a quote or a line break.

use std::borrow::Cow;
use std::io::{self, Write};

use reconstruct_core::Locator;

use super::{evidence_all, marker_text, row_text};
use crate::summarise::Row;

/// `evidence` holds every reference of a merged row, one a line; `marker`
/// says where the incident starts and where it recovered.
const HEADER: [&str; 10] =
    ["time", "collector", "component", "severity", "kind", "event", "evidence", "count", "last_time", "marker"];

pub fn header<W: Write + ?Sized>(out: &mut W) -> io::Result<()> {
    writeln!(out, "{}", HEADER.join(","))
}

pub fn row<W: Write + ?Sized>(r: &Row, out: &mut W) -> io::Result<()> {
    let e = &r.event;
    let folded = r.count > 1 || r.seen_before.is_some();
    let text = if folded { Cow::Owned(row_text(r)) } else { Cow::Borrowed(e.summary.as_str()) };
    // Times are digits and separators: never quoted.
    out.write_all(e.time.rfc3339_text().as_bytes())?;
    out.write_all(b",")?;
    write_some(
        &[
            e.collector.as_str(),
            &e.component,
            e.severity.map(|s| s.as_str()).unwrap_or_default(),
            e.kind.as_str(),
            &text,
        ],
        out,
    )?;
    out.write_all(b",")?;
    // A row's evidence is written without building its text: an export
    // writes one for every event.
    if r.also.is_empty() {
        write_locator(&e.evidence.locator, out)?;
    } else {
        write_field(&evidence_all(r).join("\n"), out)?;
    }
    out.write_all(b",")?;
    super::json::write_number(out, r.count)?;
    out.write_all(b",")?;
    out.write_all(r.last.rfc3339_text().as_bytes())?;
    out.write_all(b",")?;
    write_fields(&[r.marker.map(marker_text).unwrap_or_default()], out)
}

/// A locator as one field: `path:line` (the number and its colon never
/// need quotes), or its text.
pub(super) fn write_locator<W: Write + ?Sized>(l: &Locator, out: &mut W) -> io::Result<()> {
    match l {
        Locator::Line { path, line } if !needs_quotes(path) => {
            out.write_all(path.as_bytes())?;
            out.write_all(b":")?;
            super::json::write_number(out, *line)
        }
        Locator::Text(t) => write_field(t, out),
        other => write_field(&other.to_string(), out),
    }
}

/// Whether a field holds a comma, a quote or a line break (one pass the
/// compiler makes wide, where a search for four characters took a step each).
fn needs_quotes(f: &str) -> bool {
    f.bytes().fold(false, |q, b| q | (b == b',') | (b == b'"') | (b == b'\n') | (b == b'\r'))
}

/// One field, quoted where it must be.
pub(super) fn write_field<W: Write + ?Sized>(f: &str, out: &mut W) -> io::Result<()> {
    if !needs_quotes(f) {
        return out.write_all(f.as_bytes());
    }
    out.write_all(b"\"")?;
    for (j, piece) in f.split('"').enumerate() {
        if j > 0 {
            out.write_all(b"\"\"")?;
        }
        out.write_all(piece.as_bytes())?;
    }
    out.write_all(b"\"")
}

/// Fields quoted where they must be, joined by commas, then the line's
/// end: one record, or, without the end, the part of one that comes first.
fn write_some<W: Write + ?Sized>(fields: &[&str], out: &mut W) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_field(f, out)?;
    }
    Ok(())
}

/// One record: the fields quoted where they must be, joined by commas,
/// written straight to `out`.
pub fn write_fields<W: Write + ?Sized>(fields: &[&str], out: &mut W) -> io::Result<()> {
    write_some(fields, out)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    fn field(s: &str) -> String {
        let mut out = Vec::new();
        super::write_fields(&[s], &mut out).unwrap();
        out.pop();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quotes_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\"\nnow"), "\"say \"\"hi\"\"\nnow\"");
    }

    /// A row written field by field is the record of its fields' texts,
    /// built the plain way, for every shape of row.
    #[test]
    fn a_row_is_the_record_of_its_fields_texts() {
        use crate::render::{evidence_all, marker_text, row_text};
        for r in crate::render::sample_rows() {
            let e = &r.event;
            let folded = r.count > 1 || r.seen_before.is_some();
            let text = if folded { row_text(&r) } else { e.summary.clone() };
            let evidence = if r.also.is_empty() { e.evidence.locator.to_string() } else { evidence_all(&r).join("\n") };
            let fields = [
                e.time.rfc3339(),
                e.collector.as_str().to_string(),
                e.component.to_string(),
                e.severity.map(|s| s.as_str()).unwrap_or_default().to_string(),
                e.kind.as_str().to_string(),
                text,
                evidence,
                r.count.to_string(),
                r.last.rfc3339(),
                r.marker.map(marker_text).unwrap_or_default().to_string(),
            ];
            let mut want = Vec::new();
            super::write_fields(&fields.iter().map(String::as_str).collect::<Vec<_>>(), &mut want).unwrap();
            let mut got = Vec::new();
            super::row(&r, &mut got).unwrap();
            assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
        }
    }
}
