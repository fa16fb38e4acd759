//! What was new, and what went quiet: the templates of the window's
//! warnings and errors against the baseline read just before `--since`
//! (new ones, and those seen before with their count), and the services
//! that logged steadily in the baseline and went quiet during the incident
//! for much longer than their usual gap.

use std::sync::Arc;

use reconstruct_core::{Event, EventKind, Fact, Locator, Severity, TimeWindow, Timestamp};
use serde::Serialize;

use super::{service, Cited};

const SECOND: i64 = 1_000_000_000;
/// Distinct templates kept; a log of ever-new messages stops being counted there.
const MAX_TEMPLATES: usize = 50_000;

/// A message never seen in the baseline.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct NewMessage {
    #[schemars(with = "String")]
    pub first_seen: Timestamp,
    pub service: String,
    pub template: String,
    /// How many times the window holds it.
    pub count: u64,
    /// Its first occurrence.
    pub evidence: String,
}

/// A message of the window seen in the baseline too.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Recurring {
    #[schemars(with = "String")]
    pub first_seen: Timestamp,
    pub service: String,
    pub template: String,
    pub count: u64,
    /// How many times the baseline holds it: `seen before (N times)`.
    pub baseline_count: u64,
    pub evidence: String,
}

/// A service that went quiet during the incident.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Silence {
    pub service: String,
    /// Its last event before the silence.
    #[schemars(with = "String")]
    pub from: Timestamp,
    /// Its first event after it (`None`: not again in the window).
    #[schemars(with = "Option<String>")]
    pub until: Option<Timestamp>,
    pub silent_s: i64,
    /// Its usual gap between events in the baseline.
    pub usual_gap_s: f64,
    /// The events on either side of the silence.
    pub evidence: Vec<String>,
    /// The kind of source the service's events came from, for its row.
    #[serde(skip)]
    pub collector: Option<reconstruct_core::SourceKind>,
}

/// The baseline the novelty was judged against.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Baseline {
    #[schemars(with = "Option<String>")]
    pub since: Option<Timestamp>,
    #[schemars(with = "Option<String>")]
    pub until: Option<Timestamp>,
    /// Events read in it (a store's count, where it counted: its lines read are a sample).
    pub events: u64,
    /// Services with events in the window and none in the baseline: their messages are not called new.
    pub unseen_services: Vec<String>,
}

struct Activity {
    name: String,
    collector: reconstruct_core::SourceKind,
    base_n: u64,
    base_first: Option<Timestamp>,
    base_last: Option<Timestamp>,
    /// The longest gap between two of its baseline events (between two
    /// counts' starts, where the store counted: the lines may lie anywhere in a step).
    base_max_gap: i64,
    /// Where its baseline ends: its last event, or its last count's step's end.
    base_end: Option<Timestamp>,
    /// Its baseline pace is a store's count ([`Fact::Tally`]), not its
    /// lines, which are a sample.
    tallied: bool,
    /// Steady in the baseline: its usual gap, and how long a gap must be to be a silence.
    steady: Option<(i64, i64)>,
    judged: bool,
    last: Option<(Timestamp, Locator)>,
    gaps: Vec<(Timestamp, Locator, Timestamp, Locator)>,
    window_n: u64,
}

struct Template {
    service: usize,
    template: String,
    base_n: u64,
    window_n: u64,
    first: Option<Cited>,
}

/// What the novelty keeps while the events go by.
pub struct Observed {
    baseline: Option<TimeWindow>,
    until: Timestamp,
    services: rustc_hash::FxHashMap<Arc<str>, usize>,
    /// The component asked last and its service: most events follow one of the same.
    last_service: Option<(Arc<str>, usize)>,
    activity: Vec<Activity>,
    /// Each template's entries in `templates`, by service.
    index: rustc_hash::FxHashMap<Box<str>, rustc_hash::FxHashMap<usize, usize>>,
    shapes: crate::summarise::Templates,
    templates: Vec<Template>,
    base_events: u64,
    /// Beats handed on together ([`Fact::Beats`]) not yet counted: each is
    /// counted in the place the merge would have given it as an event of
    /// its own, once an event that comes after it is seen.
    pending: Vec<Run>,
}

/// A component's beats, in the order the merge would give them.
struct Run {
    service: usize,
    collector: reconstruct_core::SourceKind,
    component: Arc<str>,
    path: Arc<str>,
    beats: Vec<reconstruct_core::Beat>,
    next: usize,
}

impl Run {
    /// Whether its next beat comes before `e` in the timeline's order
    /// ([`Event::order`]), as it would as an event of its own.
    fn before(&self, beat: reconstruct_core::Beat, e: &Event) -> bool {
        beat.time
            .cmp(&e.time)
            .then_with(|| self.collector.cmp(&e.collector))
            .then_with(|| self.component.cmp(&e.component))
            .then_with(|| Locator::Line { path: self.path.clone(), line: beat.line }.cmp(&e.evidence.locator))
            .is_lt()
    }

    /// The order of two runs' next beats.
    fn key(&self) -> Option<(Timestamp, reconstruct_core::SourceKind, &str, &str, u64)> {
        let b = self.beats.get(self.next)?;
        Some((b.time, self.collector, &*self.component, &*self.path, b.line))
    }
}

/// An event that is a service's own doing (not a change, an alert or a note about it).
fn own(e: &Event) -> bool {
    !matches!(e.kind, EventKind::Change | EventKind::Alert | EventKind::Annotation)
}

fn notable(e: &Event) -> bool {
    own(e) && e.severity.is_some_and(|s| s >= Severity::Warning)
}

impl Observed {
    /// Templates of messages with their secrets masked, as the table
    /// folds them (`--no-redact` aside).
    pub fn masking(mut self, on: bool) -> Self {
        if on {
            self.shapes = crate::summarise::Templates::masked();
        }
        self
    }

    pub fn new(baseline: Option<TimeWindow>, until: Timestamp) -> Self {
        Observed {
            baseline,
            until,
            services: Default::default(),
            last_service: None,
            activity: Vec::new(),
            index: Default::default(),
            shapes: Default::default(),
            templates: Vec::new(),
            base_events: 0,
            pending: Vec::new(),
        }
    }

    fn service(&mut self, e: &Event) -> usize {
        // A component belongs to one service: worked out once per component.
        let component = &e.component;
        if let Some((c, i)) = &self.last_service {
            if Arc::ptr_eq(c, component) {
                return *i;
            }
        }
        if let Some(i) = self.services.get(component).copied() {
            self.last_service = Some((component.clone(), i));
            return i;
        }
        let name = service(e);
        let i = match self.activity.iter().position(|a| a.name == name) {
            Some(i) => i,
            None => {
                self.activity.push(Activity {
                    name,
                    collector: e.collector,
                    base_n: 0,
                    base_first: None,
                    base_last: None,
                    base_max_gap: 0,
                    base_end: None,
                    tallied: false,
                    steady: None,
                    judged: false,
                    last: None,
                    gaps: Vec::new(),
                    window_n: 0,
                });
                self.activity.len() - 1
            }
        };
        self.services.insert(component.clone(), i);
        i
    }

    /// Counts the event's message; returns how many times the baseline holds it.
    fn template(&mut self, service: usize, e: &Event, in_baseline: bool) -> Option<u64> {
        let template = self.shapes.of(&e.summary);
        let known = self.index.get(template).and_then(|v| v.get(&service)).copied();
        let i = match known {
            Some(i) => i,
            None if self.templates.len() < MAX_TEMPLATES => {
                let i = self.templates.len();
                self.templates.push(Template {
                    service,
                    template: template.to_string(),
                    base_n: 0,
                    window_n: 0,
                    first: None,
                });
                self.index.entry(Box::from(template)).or_default().insert(service, i);
                i
            }
            None => return None,
        };
        let t = self.templates.get_mut(i)?;
        if in_baseline {
            t.base_n = t.base_n.saturating_add(1);
        } else {
            t.window_n = t.window_n.saturating_add(1);
            if t.first.is_none() {
                t.first = Some(Cited::of(e));
            }
        }
        (t.base_n > 0).then_some(t.base_n)
    }

    /// An event read before the window: in the baseline, it counts.
    pub fn before(&mut self, e: &mut Event) {
        let Some(b) = self.baseline else { return };
        // Every event after this one in the merge comes after it in the
        // timeline's order: the beats before it are counted now, so few
        // are held.
        if !self.pending.is_empty() {
            self.settle(Some(e));
        }
        if e.time < b.since || !own(e) {
            return;
        }
        if let (Some(Fact::Beats { beats }), Locator::Line { path, .. }) = (e.fact.as_deref_mut(), &e.evidence.locator)
        {
            // In time order, as `Paces` hands them on.
            let beats = std::mem::take(beats);
            let path = path.clone();
            let service = self.service(e);
            self.pending.push(Run {
                service,
                collector: e.collector,
                component: e.component.clone(),
                path,
                beats,
                next: 0,
            });
            return;
        }
        // A store's count stands for the lines it counted; the lines read
        // beside it are a sample of them, for their messages.
        let (tally, end) = match e.fact.as_deref() {
            // A count spans its step: the service's lines ran to its end.
            Some(Fact::Tally { lines, seconds }) => {
                (Some(*lines), e.time.saturating_add_nanos(i64::from(*seconds).saturating_mul(SECOND)))
            }
            _ => (None, e.time),
        };
        let s = self.service(e);
        if let Some(a) = self.activity.get_mut(s) {
            count(a, &mut self.base_events, e.time, end, tally);
            // Its last baseline event begins any silence that runs into the
            // window: a line read, where there is one after the last count.
            if a.last.as_ref().is_none_or(|(t, _)| *t <= e.time) {
                set_last(&mut a.last, e.time, &e.evidence.locator);
            }
        }
        if tally.is_none() && notable(e) {
            self.template(s, e, true);
        }
    }

    /// Counts the beats held that come before `e` (all, without one), in
    /// the timeline's order: run by run, each as far as the next beat of
    /// the others (mostly one run is held).
    fn settle(&mut self, e: Option<&Event>) {
        let Some(b) = self.baseline else { return };
        loop {
            let first = self.pending.iter().enumerate().filter_map(|(i, r)| r.key().map(|k| (k, i))).min();
            let Some((_, i)) = first else { break };
            let mut run = self.pending.swap_remove(i);
            let other = self.pending.iter().filter_map(Run::key).min();
            let Some(a) = self.activity.get_mut(run.service) else {
                self.pending.push(run);
                break;
            };
            let start = run.next;
            // The last of them that is its service's latest event.
            let mut latest: Option<reconstruct_core::Beat> = None;
            while let Some(beat) = run.beats.get(run.next).copied() {
                let key = (beat.time, run.collector, &*run.component, &*run.path, beat.line);
                if other.is_some_and(|o| key > o) || e.is_some_and(|e| !run.before(beat, e)) {
                    break;
                }
                run.next += 1;
                if beat.time >= b.since {
                    count(a, &mut self.base_events, beat.time, beat.time, None);
                    let newest = latest.map(|l| l.time).or(a.last.as_ref().map(|(t, _)| *t));
                    if newest.is_none_or(|t| t <= beat.time) {
                        latest = Some(beat);
                    }
                }
            }
            if let Some(l) = latest {
                a.last = Some((l.time, Locator::Line { path: Arc::clone(&run.path), line: l.line }));
            }
            let moved = run.next > start;
            if run.next < run.beats.len() {
                self.pending.push(run);
            }
            if !moved {
                break;
            }
        }
    }

    /// An event of the window; returns how many times the baseline holds its message.
    pub fn observe(&mut self, e: &Event) -> Option<u64> {
        if !self.pending.is_empty() {
            self.settle(None);
        }
        // The baseline came first: with nothing in it, nothing is judged
        // new and nothing can fall silent.
        if self.base_events == 0 || !own(e) {
            return None;
        }
        let s = self.service(e);
        // The baseline came first: with nothing in it, no message can be
        // judged new, and the templates need not be counted.
        let seen = if notable(e) && self.base_events > 0 { self.template(s, e, false) } else { None };
        let Some(b) = self.baseline else { return seen };
        let Some(a) = self.activity.get_mut(s) else { return seen };
        a.window_n = a.window_n.saturating_add(1);
        if !a.judged {
            a.judged = true;
            a.steady = steady(a, b);
        }
        let Some((_, silent)) = a.steady else { return seen };
        if let Some((t, loc)) = &a.last {
            if e.time.unix_nanos().saturating_sub(t.unix_nanos()) >= silent && a.gaps.len() < 20 {
                a.gaps.push((*t, loc.clone(), e.time, e.evidence.locator.clone()));
            }
        }
        set_last(&mut a.last, e.time, &e.evidence.locator);
        seen
    }

    /// The new and recurring messages, the silences within `span` (the
    /// incident, from its onset), and the baseline judged against.
    pub fn conclude(
        mut self,
        span: Option<(Timestamp, Option<Timestamp>)>,
    ) -> (Vec<NewMessage>, Vec<Recurring>, Vec<Silence>, Option<Baseline>) {
        self.settle(None);
        let Some(b) = self.baseline else { return (Vec::new(), Vec::new(), Vec::new(), None) };
        let name = |i: usize| self.activity.get(i).map(|a| a.name.clone()).unwrap_or_default();
        let unseen: Vec<usize> =
            (0..self.activity.len()).filter(|i| self.activity.get(*i).is_some_and(|a| a.base_n == 0)).collect();
        let mut new = Vec::new();
        let mut recurring = Vec::new();
        for t in &self.templates {
            let Some(first) = &t.first else { continue };
            if t.base_n == 0 && !unseen.contains(&t.service) {
                new.push(NewMessage {
                    first_seen: first.time,
                    service: name(t.service),
                    template: t.template.clone(),
                    count: t.window_n,
                    evidence: first.evidence.clone(),
                });
            } else if t.base_n > 0 {
                recurring.push(Recurring {
                    first_seen: first.time,
                    service: name(t.service),
                    template: t.template.clone(),
                    count: t.window_n,
                    baseline_count: t.base_n,
                    evidence: first.evidence.clone(),
                });
            }
        }
        new.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then_with(|| a.template.cmp(&b.template)));
        recurring.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.first_seen.cmp(&b.first_seen)));
        let mut silences = Vec::new();
        if let Some((onset, end)) = span {
            let end = end.unwrap_or(self.until);
            for a in &self.activity {
                let Some((usual, silent)) = a.steady else { continue };
                let mut gaps: Vec<Gap<'_>> =
                    a.gaps.iter().map(|(f, fl, u, ul)| (*f, Some(fl), Some(*u), Some(ul))).collect();
                // Quiet to the window's end.
                if let Some((t, l)) = &a.last {
                    if self.until.unix_nanos().saturating_sub(t.unix_nanos()) >= silent {
                        gaps.push((*t, Some(l), None, None));
                    }
                }
                for (from, fl, until, ul) in gaps {
                    let stop = until.unwrap_or(self.until);
                    if stop < onset || from > end {
                        continue;
                    }
                    let evidence: Vec<String> =
                        [fl, ul].into_iter().flatten().map(ToString::to_string).filter(|s| !s.is_empty()).collect();
                    silences.push(Silence {
                        service: a.name.clone(),
                        from,
                        until,
                        silent_s: stop.unix_seconds().saturating_sub(from.unix_seconds()),
                        usual_gap_s: (usual as f64 / SECOND as f64 * 10.0).round() / 10.0,
                        evidence,
                        collector: Some(a.collector),
                    });
                }
            }
        }
        silences.sort_by(|a, b| a.from.cmp(&b.from).then_with(|| a.service.cmp(&b.service)));
        let baseline = Baseline {
            since: Some(b.since),
            until: Some(b.until),
            events: self.base_events,
            unseen_services: unseen
                .iter()
                .filter(|i| {
                    self.activity
                        .get(**i)
                        .is_some_and(|a| a.window_n > 0 || self.templates.iter().any(|t| t.service == **i))
                })
                .map(|i| name(*i))
                .collect(),
        };
        (new, recurring, silences, Some(baseline))
    }
}

/// One baseline event (or a store's count of `tally` lines) of a service,
/// at `time`, its lines running to `end`.
fn count(a: &mut Activity, base_events: &mut u64, time: Timestamp, end: Timestamp, tally: Option<u64>) {
    a.tallied |= tally.is_some();
    if tally.is_some() || !a.tallied {
        *base_events = base_events.saturating_add(tally.unwrap_or(1));
        a.base_n = a.base_n.saturating_add(tally.unwrap_or(1));
        a.base_first.get_or_insert(time);
        if let Some(l) = a.base_last {
            a.base_max_gap = a.base_max_gap.max(time.unix_nanos().saturating_sub(l.unix_nanos()));
        }
        a.base_last = Some(time);
        a.base_end = a.base_end.max(Some(end));
    }
}

/// A service's latest event: a line of the same file as the one before
/// takes its number, not another count on the file's name.
fn set_last(last: &mut Option<(Timestamp, Locator)>, time: Timestamp, locator: &Locator) {
    if let (Some((t, Locator::Line { path: held, line: held_line })), Locator::Line { path, line }) =
        (last.as_mut(), locator)
    {
        if Arc::ptr_eq(held, path) {
            *t = time;
            *held_line = *line;
            return;
        }
    }
    *last = Some((time, locator.clone()));
}

/// A silence: its last event before, and its first after (none: quiet to the window's end).
type Gap<'a> = (Timestamp, Option<&'a Locator>, Option<Timestamp>, Option<&'a Locator>);

/// A service logged steadily through the baseline when it has ten events
/// or more spread over half of it at least; its usual gap is their mean
/// spacing, and a silence is five of them, half as long again as its
/// longest gap in the baseline, and a minute, whichever is longest.
fn steady(a: &Activity, b: TimeWindow) -> Option<(i64, i64)> {
    let (first, last) = (a.base_first?, a.base_end?);
    let span = last.unix_nanos().saturating_sub(first.unix_nanos());
    let length = b.until.unix_nanos().saturating_sub(b.since.unix_nanos());
    if a.base_n < 10 || span.saturating_mul(2) < length {
        return None;
    }
    let usual = span / i64::try_from(a.base_n - 1).unwrap_or(i64::MAX).max(1);
    let longest = a.base_max_gap.saturating_add(a.base_max_gap / 2);
    Some((usual, usual.saturating_mul(5).max(longest).max(60 * SECOND)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::{Beat, Evidence, SourceKind, TimeBasis};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix_seconds(1_766_743_200 + secs, 0).unwrap_or(Timestamp::MIN)
        // 2025-12-26T10:00:00Z
    }

    fn event(
        secs: i64,
        component: &str,
        path: &str,
        line: u64,
        severity: Option<Severity>,
        fact: Option<Fact>,
    ) -> Event {
        Event {
            time: at(secs),
            basis: TimeBasis::Explicit,
            collector: SourceKind::Logfile,
            component: component.into(),
            service: None,
            kind: EventKind::Log,
            severity,
            summary: if severity.is_some() { format!("WARNING slow call {line}") } else { String::new() },
            evidence: Evidence { locator: Locator::Line { path: path.into(), line }, excerpt: String::new() },
            continuation_lines: 0,
            fact: fact.map(Box::new),
        }
    }

    fn conclude(events: &mut [Event]) -> String {
        events.sort_by(Event::order);
        let baseline = TimeWindow::new(at(0), at(3600)).ok();
        let mut n = Observed::new(baseline, at(7200));
        for e in events.iter_mut() {
            if e.time < at(3600) {
                n.before(e);
            } else {
                n.observe(e);
            }
        }
        let (new, recurring, silences, baseline) = n.conclude(Some((at(3600), None)));
        format!("{new:?}\n{recurring:?}\n{silences:?}\n{baseline:?}")
    }

    /// Beats handed on together are counted as the same lines would be one
    /// event each: interleaved with another file of the same service, tied
    /// with its events, a little out of order, and split by warnings.
    #[test]
    fn beats_together_count_as_events_one_a_line() {
        // a.log: api.access every 10 s (one line 4 s late), a warning every
        // ten minutes, and a quiet stretch of db beats with a long gap.
        let mut beats: Vec<(i64, &str, u64)> = Vec::new();
        let mut lines: Vec<Event> = Vec::new();
        let mut line = 0u64;
        for k in 0..360i64 {
            line += 1;
            let secs = if k == 100 { k * 10 - 14 } else { k * 10 };
            if k % 60 == 30 {
                lines.push(event(secs, "api.access", "a.log", line, Some(Severity::Warning), None));
            } else {
                beats.push((secs, "api.access", line));
            }
            if k % 3 == 0 && !(120..200).contains(&k) {
                line += 1;
                beats.push((secs, "db", line));
            }
        }
        // b.log: the same service's worker every 7 s for its first five
        // minutes, some at the same seconds as a.log's lines.
        for k in 0..43i64 {
            lines.push(event(k * 7, "api.worker", "b.log", k as u64 + 1, None, None));
        }
        // The window: api every 10 s, but for 100 s ten minutes in: a
        // silence only if the baseline's longest gap was its 20 s, not more.
        for k in (0..360i64).filter(|k| !(61..70).contains(k)) {
            lines.push(event(3600 + k * 10, "api.access", "a.log", 1000 + k as u64, None, None));
        }
        let mut one_each: Vec<Event> = lines.clone();
        one_each.extend(beats.iter().map(|(s, c, l)| event(*s, c, "a.log", *l, None, None)));
        // Together: runs of up to 25 beats a component, as read.
        let mut together = lines;
        let mut run: Vec<(i64, &str, u64)> = Vec::new();
        let flush = |run: &mut Vec<(i64, &str, u64)>, out: &mut Vec<Event>| {
            for c in ["api.access", "db"] {
                // In time order, as `Paces` hands them on.
                let mut beats: Vec<Beat> =
                    run.iter().filter(|b| b.1 == c).map(|(s, _, l)| Beat { time: at(*s), line: *l }).collect();
                beats.sort_unstable();
                if let Some(first) = beats.iter().min().copied() {
                    let secs = first.time.unix_seconds() - at(0).unix_seconds();
                    out.push(event(secs, c, "a.log", first.line, None, Some(Fact::Beats { beats })));
                }
            }
            run.clear();
        };
        for b in &beats {
            run.push(*b);
            if run.len() == 25 {
                flush(&mut run, &mut together);
            }
        }
        flush(&mut run, &mut together);
        let expected = conclude(&mut one_each);
        assert!(expected.contains("silent_s: 100"), "a silence is found: {expected}");
        assert_eq!(conclude(&mut together), expected);
    }
}
