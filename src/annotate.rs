//! Rows people add: what no machine saw ("14:33:30 investigation started").
//! Read from a plain text, CSV or markdown-table file and merged into the
//! timeline with the evidence `annotation FILE:line`.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use reconstruct_core::event::{Event, EventKind, Evidence, Locator, TimeBasis};
use reconstruct_core::slice::{
    Bundle, Common, ConfigError, ConfigText, Extra, Identity, Resolution, ResolveError, SavedFile, Slice, Spec,
};
use reconstruct_core::timestamp::parse_iso;
use reconstruct_core::{CollectContext, CollectError, Collector, Diagnostic, EventSink, SourceId, Timestamp, Zone};
use reconstruct_core::{Source, SourceKind};

pub struct AnnotationFile {
    pub file: PathBuf,
    pub display: String,
    pub zone: Zone,
}

/// One annotation before it is dated: its time text and fields.
#[derive(Debug, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub time: String,
    pub event: String,
    pub component: Option<String>,
    pub evidence: Option<String>,
}

fn none_if_dash(s: &str) -> Option<String> {
    let t = s.trim().trim_matches('`').trim();
    (!t.is_empty() && t != "-").then(|| t.to_string())
}

/// Splits a file into rows: markdown table rows (`| time | event | component | evidence |`,
/// header and separator skipped), CSV (`time,event[,component[,evidence]]`,
/// quotes allowed), or text (`TIME event [| component [| evidence]]`).
pub fn rows(text: &str) -> (Vec<Row>, Vec<(u64, String)>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let csv_like = text.lines().find(|l| !l.trim().is_empty()).is_some_and(|l| l.to_lowercase().starts_with("time,"));
    if csv_like {
        return csv_rows(text);
    }
    for (i, raw) in text.lines().enumerate() {
        let n = i as u64 + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<String> = if line.starts_with('|') {
            let cells: Vec<String> = line.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect();
            if cells.iter().all(|c| c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
                || cells.first().is_some_and(|c| c.to_lowercase().starts_with("time"))
            {
                continue;
            }
            cells
        } else {
            // TIME is one token, or a date and a time.
            let mut parts = line.splitn(2, char::is_whitespace);
            let first = parts.next().unwrap_or_default().to_string();
            let rest = parts.next().unwrap_or_default().trim().to_string();
            let (time, rest) = if first.len() == 10 && first.as_bytes().get(4) == Some(&b'-') {
                let mut p = rest.splitn(2, char::is_whitespace);
                let t = p.next().unwrap_or_default();
                (format!("{first} {t}"), p.next().unwrap_or_default().to_string())
            } else {
                (first, rest)
            };
            let mut v = vec![time];
            v.extend(rest.split(" | ").map(|s| s.trim().to_string()));
            v
        };
        let mut f = fields.into_iter();
        let (Some(time), Some(event)) = (f.next(), f.next()) else {
            bad.push((n, "expected a time and an event".to_string()));
            continue;
        };
        if event.trim().is_empty() {
            bad.push((n, "the event is empty".to_string()));
            continue;
        }
        out.push(Row {
            line: n,
            time: time.trim().to_string(),
            event: event.trim().to_string(),
            component: f.next().as_deref().and_then(none_if_dash),
            evidence: f.next().as_deref().and_then(none_if_dash),
        });
    }
    (out, bad)
}

/// CSV with a header (`time,event[,component[,evidence]]`); quoted fields
/// may hold commas, quotes and line breaks.
fn csv_rows(text: &str) -> (Vec<Row>, Vec<(u64, String)>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let mut rd = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut rec = csv::StringRecord::new();
    loop {
        let line = rd.position().line();
        match rd.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                bad.push((line, format!("unreadable CSV: {e}")));
                continue;
            }
        }
        let line = rec.position().map_or(line, |p| p.line());
        match (rec.get(0), rec.get(1)) {
            (Some(t), Some(e)) if !t.is_empty() && !e.is_empty() => out.push(Row {
                line,
                time: t.to_string(),
                event: e.to_string(),
                component: rec.get(2).and_then(none_if_dash),
                evidence: rec.get(3).and_then(none_if_dash),
            }),
            _ => bad.push((line, "expected a time and an event".to_string())),
        }
    }
    (out, bad)
}

/// Dates a time written in an annotation: a full timestamp, or a time of
/// day on the window's first day (or its last, if that is where it falls).
pub fn date(text: &str, window: &reconstruct_core::TimeWindow, zone: &Zone) -> Option<Timestamp> {
    let t = text.trim().trim_matches('`');
    if let Some(p) = parse_iso(t.as_bytes(), zone).filter(|p| p.len == t.len()) {
        return Some(p.time);
    }
    for f in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return zone.to_utc(&n);
        }
    }
    let tod = NaiveTime::parse_from_str(t, "%H:%M:%S").or_else(|_| NaiveTime::parse_from_str(t, "%H:%M")).ok()?;
    let days: [NaiveDate; 2] = [window.since.date(), window.until.date()];
    let candidates: Vec<Timestamp> = days.iter().filter_map(|d| zone.to_utc(&d.and_time(tod))).collect();
    candidates.iter().copied().find(|c| window.contains(*c)).or_else(|| candidates.first().copied())
}

impl Collector for AnnotationFile {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Annotation, name: self.display.clone() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let bytes = std::fs::read(&self.file).map_err(|e| format!("cannot read {}: {e}", self.display))?;
        let text = String::from_utf8_lossy(&bytes);
        let path: Arc<str> = Arc::from(self.display.as_str());
        let (rows, bad) = rows(&text);
        for (line, message) in bad {
            sink.diagnostic(Diagnostic { locator: Some(Locator::Line { path: path.clone(), line }), message });
        }
        let mut events = Vec::new();
        for r in rows {
            let Some(time) = date(&r.time, &ctx.anchor(), &self.zone) else {
                sink.diagnostic(Diagnostic {
                    locator: Some(Locator::Line { path: path.clone(), line: r.line }),
                    message: format!("cannot read {:?} as a time", r.time),
                });
                continue;
            };
            if !ctx.window.contains(time) {
                continue;
            }
            let mut excerpt = format!("{} {}", r.time, r.event);
            if let Some(ev) = &r.evidence {
                excerpt.push_str(&format!("\nevidence: {ev}"));
            }
            events.push(Event {
                time,
                basis: TimeBasis::AssumedZone,
                collector: SourceKind::Annotation,
                component: Arc::from(r.component.as_deref().unwrap_or("Human")),
                kind: EventKind::Annotation,
                severity: None,
                summary: match &r.evidence {
                    Some(ev) => format!("{} ({ev})", r.event),
                    None => r.event,
                },
                evidence: Evidence {
                    locator: Locator::Text(format!("annotation {}:{}", self.display, r.line)),
                    excerpt,
                },
                continuation_lines: 0,
                service: None,
                fact: None,
            });
        }
        events.sort_by(|a, b| a.order(b));
        sink.note(reconstruct_core::text::count(events.len() as u64, "annotation", "annotations"));
        for e in events {
            sink.emit(e)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::window::parse_bound;
    use reconstruct_core::TimeWindow;

    #[test]
    fn three_forms() {
        let (r, bad) = rows("14:33:30 Investigation started\n2025-12-26 14:38:15 Root cause identified | - | Database lock contention\n\njust-one-token\n");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].time, "2025-12-26 14:38:15");
        assert_eq!(r[1].component, None);
        assert_eq!(r[1].evidence.as_deref(), Some("Database lock contention"));
        assert_eq!(bad.len(), 1);
        let (r, _) = rows("time,event,component\n14:33:30,\"Investigation started, paged\",Agent\n");
        assert_eq!(r[0].event, "Investigation started, paged");
        assert_eq!(r[0].component.as_deref(), Some("Agent"));
        let (r, _) = rows("| Time (UTC) | Event | Component | Evidence |\n|---|---|---|---|\n| 14:33:30 | Investigation started | Human/Agent | - |\n");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].component.as_deref(), Some("Human/Agent"));
    }

    #[test]
    fn dates_times_of_day_in_the_window() {
        let t = |s: &str| parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
        let w = TimeWindow::new(t("2025-12-26T23:00:00Z"), t("2025-12-27T01:00:00Z")).unwrap();
        assert_eq!(date("23:30", &w, &Zone::Utc).unwrap().rfc3339(), "2025-12-26T23:30:00Z");
        assert_eq!(date("00:15:10", &w, &Zone::Utc).unwrap().rfc3339(), "2025-12-27T00:15:10Z");
        assert_eq!(date("2025-12-26T23:05:00Z", &w, &Zone::Utc).unwrap().rfc3339(), "2025-12-26T23:05:00Z");
        assert!(date("soon", &w, &Zone::Utc).is_none());
    }
}

/// The role of an annotations file in a bundle.
pub const ROLE: &str = "annotations";

#[derive(Debug, clap::Args)]
#[group(skip)]
struct Flags {
    /// Rows people add (text 'HH:MM:SS event', CSV or a markdown table); repeatable.
    #[arg(long = "annotate", value_name = "FILE")]
    annotate: Vec<PathBuf>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Tables {
    #[serde(default)]
    annotate: Vec<PathBuf>,
}

/// One file of annotations.
#[derive(Debug)]
pub struct AnnotationSpec {
    pub file: PathBuf,
    pub display: String,
    pub zone: Zone,
}

/// The kind of source: rows people add.
pub struct Annotations;

impl Slice for Annotations {
    fn name(&self) -> &'static str {
        "annotations"
    }

    fn describe(&self) -> &'static str {
        "rows people add: what no machine saw"
    }

    fn flags(&self, cmd: clap::Command) -> clap::Command {
        <Flags as clap::Args>::augment_args(cmd)
    }

    fn tables(&self) -> &'static [&'static str] {
        &["annotate"]
    }

    fn check(&self, config: &ConfigText) -> Result<(), ConfigError> {
        config.parse::<Tables>().map(|_| ())
    }

    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let flags = <Flags as clap::FromArgMatches>::from_arg_matches(r.matches)
            .map_err(|e| ResolveError::Other(e.to_string()))?;
        let mut files = flags.annotate;
        if files.is_empty() {
            files = r.config.parse::<Tables>()?.annotate;
        }
        // People write annotations in the zone they typed the window in.
        for file in files {
            let display = file.display().to_string();
            r.push(AnnotationSpec { file, display, zone: r.window_zone });
        }
        Ok(())
    }

    fn recognise(&self, rel: &str) -> Option<&'static str> {
        rel.starts_with("annotations/").then_some(ROLE)
    }

    fn roles(&self) -> &'static [&'static str] {
        &[ROLE]
    }

    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        for f in files {
            r.push_at(f.order, AnnotationSpec { file: f.path, display: f.display, zone: r.zone });
        }
        Ok(())
    }
}

impl Spec for AnnotationSpec {
    fn kind(&self) -> SourceKind {
        SourceKind::Annotation
    }

    fn what(&self) -> String {
        self.display.clone()
    }

    fn open(self: Box<Self>, _c: &Common) -> Source {
        Source::Blocking(Box::new(AnnotationFile { file: self.file, display: self.display, zone: self.zone }))
    }

    fn save(&self, _c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
        b.copy("annotations", &self.file, ROLE, Extra::default())
    }

    fn identity(&self) -> Identity {
        Identity::File { path: self.file.clone(), specific: false }
    }
}
