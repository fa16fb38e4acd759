//! One log record from a store (a Loki line, an Elasticsearch hit) made into
//! an event, the same way for every store: severity from the record's level
//! or its words, routine records counted rather than built when only the
//! summary is wanted, and the counts that coverage reports.

use std::sync::Arc;

use reconstruct_core::classify::is_state_change;
use reconstruct_core::text::clean;
use reconstruct_core::{
    severity, CollectContext, Detail, Event, EventKind, EventSink, Evidence, Fact, Locator, Severity, SourceKind,
    Stopped, TimeBasis, Timestamp,
};

use crate::before::Tally;

const SUMMARY_MAX: usize = 300;
const EXCERPT_MAX: usize = 2000;

/// A record as a store gave it.
pub struct Record<'a> {
    pub time: Timestamp,
    pub component: &'a str,
    /// The service it belongs to, where the store's fields name one.
    pub service: Option<&'a str>,
    /// The level the store recorded (a label, `log.level`), if any.
    pub level: Option<&'a str>,
    pub message: &'a str,
    /// Where a person re-reads it: a query they can run.
    pub locator: String,
    /// What else identifies it (labels, index and id).
    pub context: String,
}

/// The event for a store's count of a service's lines in one step
/// ([`Fact::Tally`]): read before the window only, by the findings' baseline.
pub fn tally_event(collector: SourceKind, t: &Tally, locator: String) -> Event {
    let (component, service) = match &t.service {
        Some(s) => (Arc::from(s.value.as_str()), Some(Arc::from(s.value.as_str()))),
        None => (Arc::from(collector.as_str()), None),
    };
    Event {
        time: t.start,
        basis: TimeBasis::Explicit,
        collector,
        component,
        service,
        kind: EventKind::Log,
        severity: None,
        summary: format!("{} lines counted by the store in {} s", t.lines, t.seconds),
        evidence: Evidence { locator: Locator::Text(locator), excerpt: String::new() },
        continuation_lines: 0,
        fact: Some(Box::new(Fact::Tally { lines: t.lines, seconds: t.seconds })),
    }
}

/// Turns records into events and counts them.
pub struct Mapper {
    collector: SourceKind,
    pub read: u64,
    pub outside: u64,
}

impl Mapper {
    pub fn new(collector: SourceKind) -> Self {
        Mapper { collector, read: 0, outside: 0 }
    }

    pub fn emit(&mut self, r: Record<'_>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), Stopped> {
        if !ctx.window.contains(r.time) {
            self.outside = self.outside.saturating_add(1);
            return Ok(());
        }
        self.read = self.read.saturating_add(1);
        let message = r.message.strip_suffix('\n').unwrap_or(r.message);
        let mut lines = message.split('\n');
        let first = lines.next().unwrap_or_default();
        let extra = u32::try_from(lines.count()).unwrap_or(u32::MAX);
        let sev: Option<Severity> = r
            .level
            .and_then(|l| severity::from_word(l.trim().as_bytes()))
            .or_else(|| severity::detect(first.as_bytes()));
        let state = is_state_change(first.as_bytes());
        if !reconstruct_core::notable::line(sev, state) && ctx.detail == Detail::Notable {
            sink.skip(r.time, extra);
            return Ok(());
        }
        let mut excerpt = reconstruct_core::text::clean_lines(message.as_bytes(), EXCERPT_MAX).text;
        if !r.context.is_empty() {
            excerpt.push('\n');
            excerpt.push_str(&r.context);
        }
        sink.emit(Event {
            time: r.time,
            basis: TimeBasis::Explicit,
            collector: self.collector,
            component: Arc::from(r.component),
            kind: if state { EventKind::StateChange } else { EventKind::Log },
            severity: sev,
            summary: clean(first.as_bytes(), SUMMARY_MAX).text,
            evidence: Evidence { locator: Locator::Text(r.locator), excerpt },
            continuation_lines: extra,
            service: r.service.map(Arc::from),
            fact: None,
        })
    }
}
