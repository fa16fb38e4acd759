//! Renderers: the same timeline as the post-mortem's markdown table, as
//! JSON, JSON lines or CSV. None of them knows where events came from.

pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;
pub mod terminal;
pub mod timesketch;

use std::io::{self, Write};

use reconstruct_core::{Event, TimeWindow};

use crate::coverage::Outcome;
use crate::summarise::{Row, Totals};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The Phase 2 table of the post-mortem, with a coverage section.
    Md,
    /// One document: window, events, coverage.
    Json,
    /// One event per line.
    Jsonl,
    /// One event per row, with a header.
    Csv,
    /// JSON lines that Timesketch imports as they are.
    Timesketch,
    /// CSV that Timesketch imports as it is.
    TimesketchCsv,
    /// One self-contained HTML page: the picture of the incident, the table, the coverage.
    Html,
}

/// Everything a renderer may show.
pub struct Timeline<'a> {
    pub window: TimeWindow,
    pub rows: &'a [Row],
    pub totals: &'a Totals,
    pub coverage: &'a [Outcome],
    /// True when every event is shown (`--all`), so nothing was folded.
    pub all: bool,
    /// With `--fixtures`: what vouches for the bundle.
    pub bundle: Option<&'a crate::bundle::BundleCheck>,
}

/// What the table says when it has no row: that the window was empty, or
/// why the events read did not make rows.
pub fn no_rows_text(t: &Timeline<'_>) -> String {
    let tot = t.totals;
    if tot.events == 0 {
        "No events in this window".to_string()
    } else if tot.over_budget_rows > 0 {
        format!(
            "No rows shown: {} events read, {} candidate rows, none within the --max-rows budget",
            thousands(tot.events),
            thousands(tot.over_budget_rows)
        )
    } else {
        format!("No notable events: {} routine events read (--all shows them)", thousands(tot.events))
    }
}

/// The coverage section's sentences about a bundle: whether a manifest
/// vouches for its files, and which files it left unread.
pub fn bundle_lines(b: &crate::bundle::BundleCheck) -> Vec<String> {
    let mut lines = vec![match b.trust {
        crate::bundle::Trust::Listed => "Evidence bundle: read as its capture manifest lists it \
            (reconstruct verify DIR checks every file's SHA-256)."
            .to_string(),
        crate::bundle::Trust::Unverified => "Evidence bundle: UNVERIFIED: it has no capture manifest, \
            so nothing vouches that its files are what was captured."
            .to_string(),
    }];
    for u in &b.unlisted {
        lines.push(format!("Not read: {u} is in the bundle but not in its manifest."));
    }
    lines
}

impl Format {
    /// One row after another (after a header for the CSV ones): `--all` can
    /// stream these as events are merged.
    pub fn is_line_format(self) -> bool {
        matches!(self, Format::Jsonl | Format::Csv | Format::Timesketch | Format::TimesketchCsv)
    }
}

pub fn render(format: Format, t: &Timeline<'_>, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Md => markdown::render(t, out),
        Format::Html => html::render(t, out),
        Format::Json => json::render(t, out),
        f => {
            header(f, out)?;
            t.rows.iter().try_for_each(|r| write_row(f, r, out))
        }
    }
}

/// What a line format writes before its first row: the CSV ones' header.
pub fn header<W: Write + ?Sized>(format: Format, out: &mut W) -> io::Result<()> {
    match format {
        Format::Csv => csv::header(out),
        Format::TimesketchCsv => timesketch::csv_header(out),
        _ => Ok(()),
    }
}

/// One row in a line format (the header, if any, written before).
pub fn write_row<W: Write + ?Sized>(format: Format, r: &Row, out: &mut W) -> io::Result<()> {
    match format {
        Format::Csv => csv::row(r, out),
        Format::Timesketch => timesketch::jsonl(r, out),
        Format::TimesketchCsv => timesketch::csv(r, out),
        _ => json::write_line(r, out),
    }
}

/// The text of a row as the table and the machine formats show it.
pub fn row_text(r: &Row) -> String {
    format!("{}{}", r.event.summary, fold_suffix(r))
}

/// Every evidence reference of a row: its own, then those of the events it
/// stands for (a restart's kill, die and start; a deadlock's other log).
pub fn evidence_all(r: &Row) -> Vec<String> {
    std::iter::once(&r.event).chain(&r.also).map(|e| e.evidence.locator.to_string()).collect()
}

/// The words the table puts after a marked row.
pub fn marker_text(m: crate::summarise::Marker) -> &'static str {
    match m {
        crate::summarise::Marker::Onset => "incident starts",
        crate::summarise::Marker::Recovery => "recovered",
        crate::summarise::Marker::Suspect => "suspect",
    }
}

/// ` (×209 until 14:42:58)` for a folded row, else nothing.
pub fn fold_suffix(r: &Row) -> String {
    let mut s = if r.count > 1 { format!(" (×{} until {})", thousands(r.count), r.last.hms()) } else { String::new() };
    if let Some(n) = r.seen_before {
        s.push_str(&format!(" (seen before: {} times)", thousands(n)));
    }
    s
}

impl Timeline<'_> {
    /// The coverage section's lines, in the order the sources were read.
    pub fn coverage_lines(&self) -> Vec<CoverageLine<'_>> {
        self.coverage.iter().map(CoverageLine::of).collect()
    }
}

pub use crate::coverage::{status_text, CoverageLine};

pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An event for the streaming formats (`--all` with jsonl or csv).
pub fn single(e: Event) -> Row {
    Row::new(e)
}

/// Rows of every shape the line formats write, for the tests that hold a
/// writer by hand to the plain way of building its text: texts that need
/// quotes or escapes, paths that do, text locators, times before 1970 and
/// of each fraction, every kind, collector, basis and marker, folded rows,
/// rows seen before, rows with other events, facts.
#[cfg(test)]
pub(crate) fn sample_rows() -> Vec<Row> {
    use reconstruct_core::{AlertState, Evidence, Fact, Locator, Severity, TimeBasis, Timestamp};
    use reconstruct_core::{EventKind as K, SourceKind};
    let texts = ["GET /v1/items 200", "say \"hi\", \\ back", "tab\there\nnew\u{1}line\r\u{7f}", "café ✓ \u{2028}", ""];
    let paths = ["logs/app.log", "logs/\"odd\".log", "C:\\logs\\a,b.log", "logs/x\ny.log"];
    let kinds = [K::Log, K::StateChange, K::Change, K::Lifecycle, K::Database, K::Alert, K::Annotation];
    let bases = [TimeBasis::Explicit, TimeBasis::Epoch, TimeBasis::AssumedZone, TimeBasis::InferredYear];
    let severities = [None, Some(Severity::Error), Some(Severity::Info), Some(Severity::Warning)];
    let markers = [None, Some(crate::summarise::Marker::Onset), Some(crate::summarise::Marker::Recovery)];
    let times = [(1_766_759_415, 123_000_000), (-86_401, 5_000), (0, 7), (1_766_759_415, 0)];
    let mut rows = Vec::new();
    let mut n = 0usize;
    for text in texts {
        for path in paths {
            for (line, text_locator) in [(7u64, false), (0, false), (u64::MAX, false), (12, true)] {
                n += 1;
                let pick = |len: usize, salt: usize| n.wrapping_mul(31).wrapping_add(salt) % len;
                let (secs, nanos) = times.get(pick(times.len(), 1)).copied().unwrap_or((0, 0));
                let time = Timestamp::from_unix_seconds(secs, nanos).unwrap_or(Timestamp::MIN);
                let kind = kinds.get(pick(kinds.len(), 2)).copied().unwrap_or(K::Log);
                let fact = match (kind, n % 3) {
                    (K::Alert, 0) => Some(Fact::Alert {
                        name: text.to_string(),
                        labels: [("job".to_string(), text.to_string())].into(),
                        state: AlertState::Resolved,
                    }),
                    (K::Alert, 1) => Some(Fact::Silence { id: "s1".into(), matchers: text.into() }),
                    (K::Change, 0) => {
                        Some(Fact::Rollout { workload: text.into(), revision: None, images: vec![path.into()] })
                    }
                    (_, 2) => Some(Fact::Tally { lines: 3, seconds: 60 }),
                    _ => None,
                };
                let e = Event {
                    time,
                    basis: bases.get(pick(bases.len(), 3)).copied().unwrap_or(TimeBasis::Explicit),
                    collector: SourceKind::ALL.get(pick(SourceKind::ALL.len(), 4)).copied().unwrap_or(SourceKind::Git),
                    component: text.into(),
                    service: None,
                    kind,
                    severity: severities.get(pick(severities.len(), 5)).copied().flatten(),
                    summary: text.to_string(),
                    evidence: Evidence {
                        locator: if text_locator {
                            Locator::Text(format!("{path} {text}"))
                        } else {
                            Locator::Line { path: path.into(), line }
                        },
                        excerpt: format!("{text}\n  at {path}"),
                    },
                    continuation_lines: u32::try_from(n % 3).unwrap_or(0),
                    fact: fact.map(Box::new),
                };
                let mut row = single(e.clone());
                row.marker = markers.get(pick(markers.len(), 6)).copied().flatten();
                match n % 5 {
                    1 => {
                        row.count = 209;
                        row.last = time.saturating_add_nanos(3_600_000_000_000);
                    }
                    2 => row.seen_before = Some(12_345),
                    3 => row.also = vec![e.clone(), e],
                    _ => {}
                }
                rows.push(row);
            }
        }
    }
    rows
}
