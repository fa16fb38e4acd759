//! One journal entry as an event: its time (`__REALTIME_TIMESTAMP`, µs
//! since the epoch), severity (`PRIORITY`), component (host and unit, or
//! syslog identifier), message (any bytes, any number of lines) and the
//! evidence a person can follow: a `journalctl` command, or the line of a
//! saved export stream.

use std::sync::Arc;

use reconstruct_core::classify::is_state_change;
use reconstruct_core::cues::Cues;
use reconstruct_core::event::{Event, EventKind, Evidence as Ev, Locator, Severity, TimeBasis, Timestamp};
use reconstruct_core::text::clean;
use reconstruct_core::{severity, CollectContext, Detail, Diagnostic, EventSink, SourceKind, Stopped, Want};

use crate::export::Entry;

const SUMMARY_MAX: usize = 480;
const EXCERPT_MAX: usize = 4096;
/// Diagnostics about entries without a usable time, before they are only counted.
const UNDATED_SHOWN: u64 = 5;

/// Where a person checks an entry.
#[derive(Clone, Debug)]
pub enum Evidence {
    /// The `journalctl` arguments that select the journal (`-D DIR`, `--file F`, or none).
    Command(Arc<str>),
    /// A saved export stream, by its name in the bundle.
    File(Arc<str>),
}

/// Maps entries to events, counting what it could not date.
pub struct Mapper {
    evidence: Evidence,
    undated: u64,
    entries: u64,
}

/// `PRIORITY` is syslog's: 0 emerg … 7 debug.
pub fn severity_of(priority: &[u8]) -> Option<Severity> {
    Some(match priority {
        b"0" | b"1" | b"2" => Severity::Critical,
        b"3" => Severity::Error,
        b"4" => Severity::Warning,
        b"5" => Severity::Notice,
        b"6" => Severity::Info,
        b"7" => Severity::Debug,
        _ => return None,
    })
}

/// `host/unit`: the unit without `.service`, else the syslog identifier, else the command.
pub fn component_of(e: &Entry) -> String {
    let who = unit_of(e);
    match e.text("_HOSTNAME") {
        Some(h) if !h.is_empty() => format!("{h}/{who}"),
        _ => who,
    }
}

/// The service an entry belongs to on whichever host: its unit without
/// `.service`, else its syslog identifier, else its command.
pub fn unit_of(e: &Entry) -> String {
    e.text("_SYSTEMD_UNIT")
        .map(|u| u.strip_suffix(".service").map(str::to_string).unwrap_or(u))
        .or_else(|| e.text("SYSLOG_IDENTIFIER"))
        .or_else(|| e.text("_COMM"))
        .unwrap_or_else(|| "journal".to_string())
}

/// The time of an entry, from `__REALTIME_TIMESTAMP` (µs).
pub fn time_of(e: &Entry) -> Option<Timestamp> {
    let us: i64 = std::str::from_utf8(e.get("__REALTIME_TIMESTAMP")?).ok()?.trim().parse().ok()?;
    Some(Timestamp::from_unix_nanos(us.checked_mul(1000)?))
}

/// A `journalctl` command that shows this entry: the journal, the entry's
/// host and unit (or identifier) as exact field matches, and its second.
fn command(args: &str, e: &Entry, t: Timestamp) -> String {
    let mut cmd = String::from("journalctl");
    if !args.is_empty() {
        cmd.push(' ');
        cmd.push_str(args);
    }
    if let Some(h) = e.text("_HOSTNAME") {
        cmd.push_str(&format!(" _HOSTNAME={}", quote(&h)));
    }
    if let Some(u) = e.text("_SYSTEMD_UNIT") {
        cmd.push_str(&format!(" _SYSTEMD_UNIT={}", quote(&u)));
    } else if let Some(i) = e.text("SYSLOG_IDENTIFIER") {
        cmd.push_str(&format!(" SYSLOG_IDENTIFIER={}", quote(&i)));
    }
    let s = t.unix_seconds();
    cmd.push_str(&format!(" --since @{s} --until @{}", s.saturating_add(1)));
    cmd
}

use reconstruct_core::text::shell_quote as quote;

impl Mapper {
    pub fn new(evidence: Evidence) -> Self {
        Mapper { evidence, undated: 0, entries: 0 }
    }

    /// Hands one entry to the sink: as an event, or counted when routine.
    pub fn emit(&mut self, e: &Entry, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), Stopped> {
        self.entries = self.entries.saturating_add(1);
        let Some(time) = time_of(e) else {
            self.undated = self.undated.saturating_add(1);
            if self.undated <= UNDATED_SHOWN {
                let locator = match &self.evidence {
                    Evidence::File(path) => Some(Locator::Line { path: path.clone(), line: e.line }),
                    Evidence::Command(_) => None,
                };
                sink.diagnostic(Diagnostic {
                    locator,
                    message: "journal entry without a usable __REALTIME_TIMESTAMP: not placed on the timeline"
                        .to_string(),
                });
            }
            return Ok(());
        };
        if !ctx.window.contains(time) {
            return Ok(());
        }
        let message = e.get("MESSAGE").unwrap_or_default();
        let message = message.strip_suffix(b"\n").unwrap_or(message);
        let mut lines = message.split(|c| *c == b'\n');
        let first = lines.next().unwrap_or_default();
        let extra = u32::try_from(lines.count()).unwrap_or(u32::MAX);
        let sev = e.get("PRIORITY").and_then(severity_of).or_else(|| severity::detect(first));
        // Before the window the findings want only what may be a change,
        // then only a routine entry's beat in its service's pace.
        let want = match ctx.detail {
            Detail::Read(reach) => reach.wants(time, || Cues::of_bytes(first).any()),
            _ => Want::Whole,
        };
        let state = want.asks_state(sev) && is_state_change(first);
        let routine = !reconstruct_core::notable::line(sev, state);
        if routine && ctx.detail == Detail::Notable {
            sink.skip(time, extra);
            return Ok(());
        }
        let whole = match want {
            Want::Nothing => return Ok(()),
            Want::Pace => !routine,
            Want::Whole => true,
        };
        let summary = if whole { clean(first, SUMMARY_MAX).text } else { String::new() };
        let mut excerpt: String = if whole {
            message.split(|c| *c == b'\n').map(|l| clean(l, EXCERPT_MAX).text).collect::<Vec<_>>().join("\n")
        } else {
            String::new()
        };
        if excerpt.len() > EXCERPT_MAX {
            let mut cut = EXCERPT_MAX;
            while !excerpt.is_char_boundary(cut) {
                cut -= 1;
            }
            excerpt.truncate(cut);
            excerpt.push('…');
        }
        if let Some(c) = e.text("__CURSOR").filter(|_| whole) {
            excerpt.push_str(&format!("\ncursor: {c}"));
        }
        let locator = match &self.evidence {
            Evidence::Command(args) => Locator::Text(command(args, e, time)),
            Evidence::File(path) => Locator::Line { path: path.clone(), line: e.line },
        };
        sink.emit(Event {
            time,
            basis: TimeBasis::Epoch,
            collector: SourceKind::Journal,
            component: Arc::from(component_of(e)),
            kind: if state { EventKind::StateChange } else { EventKind::Log },
            severity: sev,
            summary,
            evidence: Ev { locator, excerpt },
            continuation_lines: extra,
            service: Some(Arc::from(unit_of(e))),
            fact: None,
        })
    }

    /// Says in coverage how many entries were read.
    pub fn finish(self, sink: &mut dyn EventSink) {
        let mut note = format!("{} journal entries read", self.entries);
        if self.undated > 0 {
            note.push_str(&format!(", {} without a usable time", self.undated));
        }
        sink.note(note);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::{TimeWindow, VecSink};

    fn e(fields: &[(&str, &[u8])]) -> Entry {
        Entry { line: 7, fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect() }
    }

    fn ctx(detail: Detail) -> CollectContext {
        let t = |s: i64| Timestamp::from_unix_seconds(s, 0).unwrap();
        CollectContext { window: TimeWindow::new(t(1_766_759_000), t(1_766_760_000)).unwrap(), detail, anchor: None }
    }

    #[test]
    fn an_entry_becomes_an_event_with_a_runnable_command() {
        let entry = e(&[
            ("__CURSOR", b"s=abc;i=1"),
            ("__REALTIME_TIMESTAMP", b"1766759415123456"),
            ("_HOSTNAME", b"web01"),
            ("_SYSTEMD_UNIT", b"nginx.service"),
            ("PRIORITY", b"3"),
            ("MESSAGE", b"upstream timed out\n  while reading\n"),
        ]);
        let mut m = Mapper::new(Evidence::Command(Arc::from("-D /var/log/journal/remote")));
        let mut sink = VecSink::default();
        m.emit(&entry, &ctx(Detail::Notable), &mut sink).unwrap();
        let ev = &sink.events[0];
        assert_eq!(ev.time.rfc3339(), "2025-12-26T14:30:15.123456Z");
        assert_eq!(&*ev.component, "web01/nginx");
        assert_eq!(ev.severity, Some(Severity::Error));
        assert_eq!(ev.summary, "upstream timed out");
        assert_eq!(ev.continuation_lines, 1);
        assert_eq!(
            ev.evidence.locator.to_string(),
            "journalctl -D /var/log/journal/remote _HOSTNAME=web01 _SYSTEMD_UNIT=nginx.service --since @1766759415 --until @1766759416"
        );
        assert!(ev.evidence.excerpt.contains("  while reading\ncursor: s=abc;i=1"));
    }

    #[test]
    fn routine_entries_are_counted_and_undated_ones_reported() {
        let info = e(&[("__REALTIME_TIMESTAMP", b"1766759415000000"), ("PRIORITY", b"6"), ("MESSAGE", b"GET /")]);
        let undated = e(&[("MESSAGE", b"no time")]);
        let mut m = Mapper::new(Evidence::File(Arc::from("journal/web01.export")));
        let mut sink = VecSink::default();
        m.emit(&info, &ctx(Detail::Notable), &mut sink).unwrap();
        m.emit(&undated, &ctx(Detail::Notable), &mut sink).unwrap();
        m.finish(&mut sink);
        assert!(sink.events.is_empty());
        assert_eq!(sink.skipped, 1);
        assert_eq!(sink.diagnostics[0].locator.as_ref().unwrap().to_string(), "journal/web01.export:7");
        assert_eq!(sink.notes, vec!["2 journal entries read, 1 without a usable time".to_string()]);
    }

    #[test]
    fn before_the_window_the_findings_get_changes_then_pace() {
        let t = |s: i64| Timestamp::from_unix_seconds(s, 0).unwrap();
        let reach = reconstruct_core::Reach { changes_only_before: t(1_766_759_400), paced_before: t(1_766_759_700) };
        let entry = |at: &[u8], priority: &[u8], message: &[u8]| {
            e(&[
                ("__REALTIME_TIMESTAMP", at),
                ("PRIORITY", priority),
                ("MESSAGE", message),
                ("_SYSTEMD_UNIT", b"api.service"),
            ])
        };
        let mut m = Mapper::new(Evidence::File(Arc::from("journal/web01.export")));
        let mut sink = VecSink::default();
        for (at, priority, message) in [
            (&b"1766759100000000"[..], &b"6"[..], &b"GET /v1/items 200"[..]),
            (b"1766759200000000", b"3", b"upstream timed out"),
            (b"1766759300000000", b"6", b"Starting api 2.14.0"),
            (b"1766759500000000", b"6", b"GET /v1/items 200"),
            (b"1766759600000000", b"3", b"upstream timed out"),
            (b"1766759800000000", b"6", b"GET /v1/items 200"),
        ] {
            m.emit(&entry(at, priority, message), &ctx(Detail::Read(reach)), &mut sink).unwrap();
        }
        let got: Vec<(i64, &str)> =
            sink.events.iter().map(|e| (e.time.unix_nanos() / 1_000_000_000, e.summary.as_str())).collect();
        assert_eq!(
            got,
            [
                (1_766_759_300, "Starting api 2.14.0"),
                (1_766_759_500, ""),
                (1_766_759_600, "upstream timed out"),
                (1_766_759_800, "GET /v1/items 200"),
            ]
        );
        assert_eq!(sink.skipped, 0);
    }

    #[test]
    fn priorities_and_components() {
        assert_eq!(severity_of(b"0"), Some(Severity::Critical));
        assert_eq!(severity_of(b"4"), Some(Severity::Warning));
        assert_eq!(severity_of(b"x"), None);
        assert_eq!(component_of(&e(&[("SYSLOG_IDENTIFIER", b"sshd")])), "sshd");
        assert_eq!(component_of(&e(&[("_COMM", b"cron"), ("_HOSTNAME", b"db1")])), "db1/cron");
        assert_eq!(time_of(&e(&[("__REALTIME_TIMESTAMP", b"99999999999999999999")])), None);
    }
}
