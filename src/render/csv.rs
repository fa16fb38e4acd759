//! CSV (RFC 4180): one event per row, fields quoted when they hold a comma,
//! a quote or a line break.

use std::borrow::Cow;
use std::io::{self, Write};

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
    let evidence = if r.also.is_empty() { e.evidence.locator.to_string() } else { evidence_all(r).join("\n") };
    let (time, last, count) = (e.time.rfc3339_text(), r.last.rfc3339_text(), r.count.to_string());
    let fields: [&str; 10] = [
        time.as_str(),
        e.collector.as_str(),
        &e.component,
        e.severity.map(|s| s.as_str()).unwrap_or_default(),
        e.kind.as_str(),
        &text,
        &evidence,
        &count,
        last.as_str(),
        r.marker.map(marker_text).unwrap_or_default(),
    ];
    write_fields(&fields, out)
}

/// One record: the fields quoted where they must be, joined by commas,
/// written straight to `out`.
pub fn write_fields<W: Write + ?Sized>(fields: &[&str], out: &mut W) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if f.contains([',', '"', '\n', '\r']) {
            out.write_all(b"\"")?;
            for (j, piece) in f.split('"').enumerate() {
                if j > 0 {
                    out.write_all(b"\"\"")?;
                }
                out.write_all(piece.as_bytes())?;
            }
            out.write_all(b"\"")?;
        } else {
            out.write_all(f.as_bytes())?;
        }
    }
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
}
