//! CSV (RFC 4180): one event per row, fields quoted when they hold a comma,
//! a quote or a line break.

use std::io::{self, Write};

use super::{evidence_all, marker_text, row_text};
use crate::summarise::Row;

/// `evidence` holds every reference of a merged row, one a line; `marker`
/// says where the incident starts and where it recovered.
const HEADER: [&str; 10] =
    ["time", "collector", "component", "severity", "kind", "event", "evidence", "count", "last_time", "marker"];

pub fn header(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", HEADER.join(","))
}

pub fn row(r: &Row, out: &mut dyn Write) -> io::Result<()> {
    let e = &r.event;
    let fields = [
        e.time.rfc3339(),
        e.collector.to_string(),
        e.component.to_string(),
        e.severity.map(|s| s.as_str().to_string()).unwrap_or_default(),
        e.kind.as_str().to_string(),
        row_text(r),
        evidence_all(r).join("\n"),
        r.count.to_string(),
        r.last.rfc3339(),
        r.marker.map(marker_text).unwrap_or_default().to_string(),
    ];
    let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
    writeln!(out, "{}", line.join(","))
}

pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_when_needed() {
        assert_eq!(super::field("plain"), "plain");
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\"\nnow"), "\"say \"\"hi\"\"\nnow\"");
    }
}
