//! From thousands of events to the dozens of rows a post-mortem table
//! needs, chosen as a reviewer would choose them:
//!
//! - repeats fold into their first occurrence (with count and last time),
//!   but a change of state that recurs minutes later (a second OOM kill, a
//!   second deploy, an alert firing again) is news and gets its own row;
//! - a burst of one container's lifecycle within seconds (killed, exited,
//!   started, restarted) is one row that keeps every evidence reference;
//! - the same fact seen by two sources within seconds (the database's
//!   `deadlock detected` and the application's) is one row with both
//!   references, and only when both name the same specifics;
//! - under the row budget, rows are ranked by what tells the incident: its
//!   onset, detection, fix and recovery first, then escalations, the first
//!   error of each component, alert changes, and routine changes last;
//! - the rows that open and close the incident are marked, and each row
//!   says why it was kept. Everything left out is counted, never dropped
//!   silently.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use reconstruct_core::classify::is_state_change;
use reconstruct_core::{AlertState, ContainerAction, Event, EventKind, Fact, Severity, SourceKind, Timestamp};
use serde::Serialize;

/// One row of the table: the first event of its kind, how often it
/// recurred, and the other events it stands for.
#[derive(Clone, Debug)]
pub struct Row {
    pub event: Event,
    pub count: u64,
    pub last: Timestamp,
    /// Other events shown by this row, each with its own evidence: the rest
    /// of a lifecycle burst, or another source's account of the same fact.
    pub also: Vec<Event>,
    /// Why the row was kept.
    pub reason: Option<Reason>,
    /// Whether the row opens or closes the incident.
    pub marker: Option<Marker>,
    /// How many times the baseline before the window holds its message
    /// (the report's findings judge it): `seen before (N times)`.
    pub seen_before: Option<u64>,
}

impl Row {
    pub fn new(event: Event) -> Self {
        Row { last: event.time, event, count: 1, also: Vec::new(), reason: None, marker: None, seen_before: None }
    }
}

/// The row that opens the incident, and the one that closes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Marker {
    /// The first error: where the incident starts.
    Onset,
    /// The first sign of health after the last error.
    Recovery,
    /// The change ranked first among the suspects (it may lie before the window).
    Suspect,
}

/// Why a row is in the table, from most to least news.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A row a person added.
    Annotation,
    /// The first error of the incident.
    Onset,
    /// Health came back after the last error.
    Recovery,
    /// The first alert of the highest severity that fired during the incident.
    Detection,
    /// The alert that detected the incident resolved.
    DetectionResolved,
    /// A change that landed during the incident.
    Fix,
    /// The same fact seen by several sources.
    Corroborated,
    /// An error that is also a change of state (a circuit opening).
    Escalation,
    /// A container died, was killed or restarted during the incident.
    Lifecycle,
    /// A change that landed in the hours before the incident.
    ChangeBeforeOnset,
    /// The change the findings rank first among the suspects.
    Suspect,
    /// The first error of a component that had none before.
    FirstErrorOfComponent,
    /// Another alert fired.
    AlertFired,
    /// Another alert resolved, or a container turned healthy.
    Resolved,
    /// A change of state during the incident (a migration, a startup).
    StateChange,
    /// The first occurrence of another error message.
    NewError,
    /// An error whose message the baseline holds too: below new ones.
    SeenBefore,
    /// A database condition (waits, long transactions, saturation).
    Database,
    /// Another change of state, a container event, a silence.
    Change,
    /// An alert went pending.
    AlertPending,
    /// A warning.
    Warning,
    /// A routine change (`chore:`, `docs:` commits), or a health check that says nothing new.
    Routine,
}

impl Reason {
    /// Higher is more news; the budget keeps the highest.
    fn score(self) -> u8 {
        match self {
            Reason::Annotation => 100,
            Reason::Onset | Reason::Recovery => 95,
            Reason::Detection | Reason::DetectionResolved | Reason::Fix => 90,
            Reason::Corroborated | Reason::ChangeBeforeOnset | Reason::Suspect => 85,
            // What the engine saw happen outranks what a log line says.
            Reason::Lifecycle => 80,
            Reason::Escalation => 75,
            Reason::FirstErrorOfComponent | Reason::AlertFired => 70,
            Reason::Resolved | Reason::StateChange => 60,
            Reason::NewError => 50,
            Reason::SeenBefore => 44,
            Reason::Database => 45,
            Reason::Change | Reason::AlertPending => 40,
            Reason::Warning => 35,
            Reason::Routine => 20,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Events in the window, built or only counted.
    pub events: u64,
    /// Candidate rows after folding, before the budget.
    pub candidates: u64,
    /// Events folded into a row that shows an earlier occurrence, or merged
    /// into a row that shows them with their evidence.
    pub folded: u64,
    /// Rows cut by the budget, and the events they held.
    pub over_budget_rows: u64,
    pub over_budget_events: u64,
    /// Routine events (info, debug) that never become rows.
    pub routine: u64,
    /// Distinct messages beyond the folding table's bound, counted only.
    pub unclustered: u64,
    /// Secret values masked before rendering.
    pub masked: u64,
    /// Events of the window the filters (`--grep`, `--component`, `--level`) left out.
    pub filtered: u64,
}

pub struct Summary {
    pub rows: Vec<Row>,
    pub totals: Totals,
}

/// Distinct templates held at once; beyond it new messages are only counted,
/// so memory stays bounded on pathological logs where no line repeats.
const MAX_CLUSTERS: usize = 50_000;

/// What an event must share with a row, beside its template, to fold into it.
#[derive(PartialEq, Eq, Hash)]
struct Kin {
    collector: SourceKind,
    component: Arc<str>,
    kind: EventKind,
    severity: Option<Severity>,
    alert: Option<AlertState>,
}

impl Kin {
    fn of(e: &Event) -> Kin {
        Kin {
            collector: e.collector,
            component: e.component.clone(),
            kind: e.kind,
            severity: e.severity,
            alert: e.alert_state(),
        }
    }
}

const SECOND: i64 = 1_000_000_000;
/// A change of state folds only into a burst of itself; one that recurs
/// later than this is news.
const STATE_BURST_NANOS: i64 = 60 * SECOND;
/// One container's lifecycle events this close together are one row.
const LIFECYCLE_BURST_NANOS: i64 = 10 * SECOND;
/// Two sources' accounts of one fact are at most this far apart.
const CORROBORATION_NANOS: i64 = 2 * SECOND;
/// Changes this long before the first error may have caused it.
const BEFORE_ONSET_NANOS: i64 = 2 * 3600 * SECOND;

fn continues(row: &Row, e: &Event) -> bool {
    match e.kind {
        EventKind::StateChange | EventKind::Lifecycle | EventKind::Alert => {
            e.time.unix_nanos().saturating_sub(row.last.unix_nanos()) <= STATE_BURST_NANOS
        }
        _ => true,
    }
}

fn container_of(e: &Event) -> Option<&str> {
    match e.fact.as_deref() {
        Some(Fact::Container { container, .. }) => Some(container),
        _ => None,
    }
}

pub struct Summariser {
    max_rows: usize,
    order: Vec<Row>,
    /// The rows of each template, looked up by a borrowed template, so an
    /// event that folds allocates nothing.
    index: FxHashMap<Box<str>, FxHashMap<Kin, usize>>,
    clusters: usize,
    templates: Templates,
    /// The open lifecycle burst of each container: its row.
    bursts: HashMap<String, usize>,
    totals: Totals,
    /// Mark the onset and the recovery: not over a filtered part of the
    /// window, whose first error is not the incident's.
    markers: bool,
}

impl Summariser {
    pub fn new(max_rows: usize) -> Self {
        Summariser {
            max_rows,
            order: Vec::new(),
            index: FxHashMap::default(),
            clusters: 0,
            templates: Templates::default(),
            bursts: HashMap::new(),
            totals: Totals::default(),
            markers: true,
        }
    }

    /// Folds messages as they will be printed, their secrets masked (the
    /// rows are masked once chosen; see [`Templates`]).
    pub fn masking(mut self) -> Self {
        self.templates = Templates::masked();
        self
    }

    /// Over events a filter chose: no onset or recovery is marked.
    pub fn without_markers(mut self) -> Self {
        self.markers = false;
        self
    }

    /// Counts events that collectors did not build (see `Detail::Notable`).
    pub fn add_routine(&mut self, n: u64) {
        self.totals.events = self.totals.events.saturating_add(n);
        self.totals.routine = self.totals.routine.saturating_add(n);
    }

    pub fn add(&mut self, e: Event) {
        self.add_seen(e, None);
    }

    /// [`Summariser::add`], with how many times the baseline holds the
    /// event's message (`None`: never, or no baseline): a row of a message
    /// seen before ranks below a new one.
    pub fn add_seen(&mut self, e: Event, seen_before: Option<u64>) {
        self.totals.events = self.totals.events.saturating_add(1);
        if !reconstruct_core::notable::event(&e) {
            self.totals.routine = self.totals.routine.saturating_add(1);
            return;
        }
        // Commits and human rows are each their own fact, never folded.
        if matches!(e.kind, EventKind::Change | EventKind::Annotation) {
            self.order.push(Row::new(e));
            return;
        }
        // A burst of one container's lifecycle is one row.
        if let Some(c) = container_of(&e).map(str::to_string) {
            if let Some(row) = self.bursts.get(&c).and_then(|&i| self.order.get_mut(i)) {
                if e.time.unix_nanos().saturating_sub(row.last.unix_nanos()) <= LIFECYCLE_BURST_NANOS {
                    row.last = row.last.max(e.time);
                    row.also.push(e);
                    self.totals.folded = self.totals.folded.saturating_add(1);
                    return;
                }
            }
            self.bursts.insert(c, self.order.len());
            self.order.push(Row::new(e));
            return;
        }
        let template = self.templates.of(&e.summary);
        let kin = Kin::of(&e);
        let known = self.index.get(template).and_then(|v| v.get(&kin));
        if let Some(&i) = known {
            if let Some(row) = self.order.get_mut(i).filter(|r| continues(r, &e)) {
                row.count = row.count.saturating_add(1);
                self.totals.folded = self.totals.folded.saturating_add(1);
                if e.time > row.last {
                    row.last = e.time;
                }
                // Input is in time order, but a late event may predate the row.
                if e.order(&row.event) == std::cmp::Ordering::Less {
                    row.event = e;
                }
                return;
            }
        }
        let at = self.order.len();
        match self.index.get_mut(template) {
            Some(v) => match v.get_mut(&kin) {
                // A later burst of a change of state: its own row from now on.
                Some(i) => *i = at,
                None if self.clusters >= MAX_CLUSTERS => {
                    self.totals.unclustered = self.totals.unclustered.saturating_add(1);
                    return;
                }
                None => {
                    v.insert(kin, at);
                    self.clusters += 1;
                }
            },
            None if self.clusters >= MAX_CLUSTERS => {
                self.totals.unclustered = self.totals.unclustered.saturating_add(1);
                return;
            }
            None => {
                let mut v = FxHashMap::default();
                v.insert(kin, at);
                self.index.insert(Box::from(template), v);
                self.clusters += 1;
            }
        }
        let mut row = Row::new(e);
        row.seen_before = seen_before;
        self.order.push(row);
    }

    /// Events a collector folded into one it emitted whole, `like`, which
    /// was added before them (see [`reconstruct_core::EventSink::fold`]):
    /// each folds as it would have, into the row of `like`'s message and
    /// kind, or is left unclustered with it. They are log lines, whose rows
    /// fold whatever their times, after `like` in the timeline's order: so
    /// a row takes only their count and the last of their times.
    pub fn add_folded(&mut self, like: &Event, n: crate::coverage::FoldCount) {
        if n.events == 0 {
            return;
        }
        self.totals.events = self.totals.events.saturating_add(n.events);
        let template = self.templates.of(&like.summary);
        let kin = Kin::of(like);
        let row = self.index.get(template).and_then(|v| v.get(&kin)).and_then(|&i| self.order.get_mut(i));
        match row {
            Some(row) => {
                row.count = row.count.saturating_add(n.events);
                self.totals.folded = self.totals.folded.saturating_add(n.events);
                if let Some(last) = n.last.filter(|l| *l > row.last) {
                    row.last = last;
                }
            }
            None => self.totals.unclustered = self.totals.unclustered.saturating_add(n.events),
        }
    }

    pub fn finish(self) -> Summary {
        let Summariser { max_rows, order, mut totals, markers, .. } = self;
        let mut rows: Vec<Row> = order.into_iter().map(describe_burst).collect();
        rows = corroborate(rows, &mut totals);
        totals.candidates = rows.len() as u64;
        let span = Span::of(&rows);
        let mut seen_error: HashSet<Arc<str>> = HashSet::new();
        let mut ranked: Vec<(u8, i64, usize)> = Vec::with_capacity(rows.len());
        // `corroborate` hands rows back in time order, so "the first error of a
        // component" is the first one met here.
        for i in 0..rows.len() {
            let Some(r) = rows.get_mut(i) else { continue };
            let reason = reason(r, i, &span, &mut seen_error);
            r.reason = Some(reason);
            r.marker = if !markers {
                None
            } else if span.onset == Some(i) {
                Some(Marker::Onset)
            } else if span.recovery == Some(i) {
                Some(Marker::Recovery)
            } else {
                None
            };
            // Among equals, the first error of a kind is the news; among
            // changes, the latest, the nearest to what broke (a month of
            // commits keeps its newest, not its oldest).
            let nanos = r.event.time.unix_nanos();
            let tie = if r.event.kind == EventKind::Change { nanos.saturating_neg() } else { nanos };
            ranked.push((reason.score(), tie, i));
        }
        // Most news first; ties as above, then by the order rows were made.
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let keep: HashSet<usize> = ranked.iter().take(max_rows).map(|(_, _, i)| *i).collect();
        // An alert's pending row cut by the budget joins its firing row, so
        // its evidence is still shown.
        let mut joins: HashMap<usize, usize> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            if keep.contains(&i) || r.event.alert_state() != Some(AlertState::Pending) {
                continue;
            }
            let firing = rows.iter().enumerate().find(|(j, f)| {
                keep.contains(j)
                    && f.event.alert_state() == Some(AlertState::Firing)
                    && alert_identity(&f.event) == alert_identity(&r.event)
                    && f.event.time >= r.event.time
                    && f.event.time.unix_nanos().saturating_sub(r.last.unix_nanos()) <= STATE_BURST_NANOS
            });
            if let Some((j, _)) = firing {
                joins.insert(i, j);
            }
        }
        let mut joined: HashMap<usize, Vec<Event>> = HashMap::new();
        let mut kept_at: HashMap<usize, usize> = HashMap::new();
        let mut kept = Vec::with_capacity(keep.len());
        for (i, r) in rows.into_iter().enumerate() {
            if let Some(&j) = joins.get(&i) {
                joined.entry(j).or_default().push(r.event);
                totals.folded = totals.folded.saturating_add(r.count);
            } else if keep.contains(&i) {
                kept_at.insert(i, kept.len());
                kept.push(r);
            } else {
                totals.over_budget_rows = totals.over_budget_rows.saturating_add(1);
                let held = r.count.saturating_add(r.also.len() as u64);
                totals.over_budget_events = totals.over_budget_events.saturating_add(held);
            }
        }
        for (j, events) in joined {
            if let Some(row) = kept_at.get(&j).and_then(|&k| kept.get_mut(k)) {
                row.also.extend(events);
            }
        }
        kept.sort_by(|a, b| a.event.order(&b.event));
        Summary { rows: kept, totals }
    }
}

/// Where the incident starts and ends, and what detected it.
struct Span {
    onset: Option<usize>,
    recovery: Option<usize>,
    detection: Option<usize>,
    /// The detecting alert's name and labels, to know its resolution.
    detected: Option<(String, std::collections::BTreeMap<String, String>)>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
}

/// Whether a row reports trouble: an error, or an alert firing.
pub fn is_error(r: &Row) -> bool {
    let sev = r.event.severity.unwrap_or(Severity::Info);
    match r.event.kind {
        EventKind::Alert => r.event.alert_state() == Some(AlertState::Firing),
        EventKind::Change | EventKind::Annotation => false,
        _ => sev >= Severity::Error,
    }
}

fn is_health_green(r: &Row) -> bool {
    std::iter::once(&r.event).chain(&r.also).any(crate::shape::is_health_green)
}

fn alert_severity(e: &Event) -> Severity {
    e.severity.unwrap_or(Severity::Error)
}

fn alert_identity(e: &Event) -> Option<(&str, &std::collections::BTreeMap<String, String>)> {
    match e.fact.as_deref() {
        Some(Fact::Alert { name, labels, .. }) => Some((name, labels)),
        _ => None,
    }
}

impl Span {
    fn of(rows: &[Row]) -> Span {
        let first = |pred: &dyn Fn(&Row) -> bool| {
            rows.iter()
                .enumerate()
                .filter(|(_, r)| pred(r))
                .min_by(|(a, x), (b, y)| x.event.order(&y.event).then(a.cmp(b)))
        };
        // An error the baseline holds too (a retry every day) neither opens
        // the incident nor keeps it open, unless no other error is there.
        let new_error = |r: &Row| is_error(r) && r.seen_before.is_none();
        let onset = first(&|r: &Row| new_error(r) && r.event.kind != EventKind::Alert)
            .or_else(|| first(&|r: &Row| is_error(r) && r.event.kind != EventKind::Alert))
            .or_else(|| first(&is_error));
        let start = onset.map(|(_, r)| r.event.time);
        // The last sign of trouble: the end of the last error's repeats.
        let last_of = |pred: &dyn Fn(&Row) -> bool| {
            rows.iter().filter(|r| pred(r) && r.event.kind != EventKind::Alert).map(|r| r.last).max()
        };
        let last_error = last_of(&new_error).or_else(|| last_of(&is_error));
        // Detection: the earliest alert of the highest severity that fired during the incident.
        let detection = start.and_then(|s| {
            rows.iter()
                .enumerate()
                .filter(|(_, r)| r.event.alert_state() == Some(AlertState::Firing) && r.last >= s)
                .min_by(|(a, x), (b, y)| {
                    alert_severity(&y.event).cmp(&alert_severity(&x.event)).then(x.event.order(&y.event)).then(a.cmp(b))
                })
                .map(|(i, _)| i)
        });
        // Recovery: health green after the last error, else the detecting
        // alert's resolution, else any alert resolved after the last error.
        let after = last_error.or(start);
        let recovery = after.and_then(|end| {
            let after_end = |r: &Row| r.event.time >= end;
            first(&|r: &Row| after_end(r) && is_health_green(r))
                .map(|(i, green)| {
                    // Within two seconds, the engine's account over a log line's.
                    let engine = |r: &Row| {
                        std::iter::once(&r.event)
                            .chain(&r.also)
                            .any(|e| e.container_action() == Some(&ContainerAction::Healthy))
                    };
                    rows.iter()
                        .enumerate()
                        .find(|(_, r)| {
                            r.event.time.unix_nanos().abs_diff(green.event.time.unix_nanos()) <= 2_000_000_000
                                && engine(r)
                        })
                        .unwrap_or((i, green))
                })
                .or_else(|| {
                    let d = detection.and_then(|i| rows.get(i)).and_then(|r| alert_identity(&r.event));
                    first(&|r: &Row| {
                        after_end(r)
                            && r.event.alert_state() == Some(AlertState::Resolved)
                            && d.is_some()
                            && alert_identity(&r.event) == d
                    })
                })
                .or_else(|| first(&|r: &Row| after_end(r) && r.event.alert_state() == Some(AlertState::Resolved)))
        });
        let detected = detection
            .and_then(|i| rows.get(i))
            .and_then(|r| alert_identity(&r.event))
            .map(|(n, l)| (n.to_string(), l.clone()));
        Span {
            onset: onset.map(|(i, _)| i),
            recovery: recovery.map(|(i, _)| i),
            detection,
            detected,
            start,
            end: recovery.map(|(_, r)| r.event.time).or(last_error),
        }
    }

    fn during(&self, t: Timestamp) -> bool {
        match (self.start, self.end) {
            (Some(s), Some(e)) => s <= t && t <= e,
            (Some(s), None) => s <= t,
            _ => false,
        }
    }

    fn shortly_before(&self, t: Timestamp) -> bool {
        self.start.is_some_and(|s| t < s && s.unix_nanos().saturating_sub(t.unix_nanos()) <= BEFORE_ONSET_NANOS)
    }
}

/// Whether a lifecycle row tells of a container stopping or coming back.
fn stops(r: &Row) -> bool {
    std::iter::once(&r.event).chain(&r.also).any(|e| {
        matches!(
            e.container_action(),
            Some(ContainerAction::Kill | ContainerAction::Die | ContainerAction::Oom | ContainerAction::Restart)
        )
    })
}

/// A commit that only tidies (`chore:`, `docs:`, `style:`, `test:`, `ci:`).
fn is_routine_change(e: &Event) -> bool {
    match e.fact.as_deref() {
        Some(Fact::Commit { subject, .. }) => {
            let s = subject.trim_start().to_ascii_lowercase();
            ["chore", "docs", "style", "test", "ci", "build"]
                .iter()
                .any(|p| s.strip_prefix(p).is_some_and(|rest| rest.starts_with(':') || rest.starts_with('(')))
        }
        _ => false,
    }
}

fn reason(r: &Row, i: usize, span: &Span, seen_error: &mut HashSet<Arc<str>>) -> Reason {
    let e = &r.event;
    let sev = e.severity.unwrap_or(Severity::Info);
    let error = is_error(r);
    // A message the baseline holds too is not the component's first news.
    let recurring = r.seen_before.is_some();
    let first_of_component =
        error && !recurring && e.kind != EventKind::Alert && seen_error.insert(e.component.clone());
    if e.kind == EventKind::Annotation {
        return Reason::Annotation;
    }
    if span.onset == Some(i) {
        return Reason::Onset;
    }
    if span.recovery == Some(i) {
        return Reason::Recovery;
    }
    if span.detection == Some(i) {
        return Reason::Detection;
    }
    match e.kind {
        EventKind::Change if is_routine_change(e) => Reason::Routine,
        EventKind::Change if span.during(e.time) => Reason::Fix,
        EventKind::Change if span.shortly_before(e.time) => Reason::ChangeBeforeOnset,
        EventKind::Change => Reason::Change,
        EventKind::Alert => match e.alert_state() {
            Some(AlertState::Firing) => Reason::AlertFired,
            Some(AlertState::Resolved) => {
                let same = span.detected.as_ref().is_some_and(|(n, l)| alert_identity(e) == Some((n.as_str(), l)));
                if same {
                    Reason::DetectionResolved
                } else {
                    Reason::Resolved
                }
            }
            Some(AlertState::Pending) => Reason::AlertPending,
            _ => Reason::Change,
        },
        _ if !r.also.is_empty() && r.event.kind != EventKind::Lifecycle => Reason::Corroborated,
        // A container stopped, died, was OOM-killed or restarted: during the
        // incident it is part of the story; shortly before, it may be its cause (a deploy).
        EventKind::Lifecycle if stops(r) && span.during(e.time) => Reason::Lifecycle,
        EventKind::Lifecycle if stops(r) && span.shortly_before(e.time) => Reason::ChangeBeforeOnset,
        EventKind::Lifecycle if is_health_green(r) => Reason::Routine,
        EventKind::Lifecycle if first_of_component => Reason::FirstErrorOfComponent,
        EventKind::Lifecycle if error => Reason::NewError,
        EventKind::Lifecycle => Reason::Change,
        _ if error && is_state_change(e.summary.as_bytes()) => Reason::Escalation,
        _ if error && recurring => Reason::SeenBefore,
        _ if first_of_component => Reason::FirstErrorOfComponent,
        _ if error => Reason::NewError,
        EventKind::StateChange if span.during(e.time) => Reason::StateChange,
        EventKind::Database if sev >= Severity::Warning => Reason::Database,
        EventKind::StateChange => Reason::Change,
        _ if sev >= Severity::Warning => Reason::Warning,
        _ => Reason::Routine,
    }
}

/// A lifecycle burst's text, from its facts: `container backend restarted:
/// killed by signal 15, exited 0, up again 14:43:02`.
fn describe_burst(mut r: Row) -> Row {
    if r.also.is_empty() || container_of(&r.event).is_none() {
        return r;
    }
    let name = container_of(&r.event).unwrap_or_default().to_string();
    let mut parts = Vec::new();
    let mut stopped = false;
    let mut restarted = false;
    let mut worst = r.event.severity;
    // In the order things happen to a container at one instant: the kill, then the exit, then the start.
    let step = |e: &Event| match e.container_action() {
        Some(ContainerAction::Kill | ContainerAction::Oom) => 0,
        Some(ContainerAction::Die) => 1,
        Some(ContainerAction::Start) => 2,
        Some(ContainerAction::Restart) => 3,
        _ => 4,
    };
    let mut all: Vec<&Event> = std::iter::once(&r.event).chain(&r.also).collect();
    all.sort_by_key(|e| (e.time, step(e)));
    for e in all {
        worst = worst.max(e.severity);
        let Some(Fact::Container { action, exit_code, signal, .. }) = e.fact.as_deref() else { continue };
        match action {
            ContainerAction::Kill => {
                stopped = true;
                parts.push(match signal {
                    Some(s) => format!("killed by signal {s}"),
                    None => "killed".to_string(),
                });
            }
            ContainerAction::Die => {
                stopped = true;
                parts.push(match exit_code {
                    Some(0) => "exited 0".to_string(),
                    Some(c) => format!("died (exit code {c})"),
                    None => "died".to_string(),
                });
            }
            ContainerAction::Oom => {
                stopped = true;
                parts.push("OOM-killed".to_string());
            }
            ContainerAction::Start => {
                restarted |= stopped;
                parts.push(format!("up again {}", e.time.hms()));
            }
            ContainerAction::Restart => restarted = true,
            ContainerAction::Healthy => parts.push("healthy".to_string()),
            ContainerAction::Unhealthy => parts.push("unhealthy".to_string()),
            ContainerAction::Other(a) => parts.push(a.clone()),
        }
    }
    let head = if restarted {
        "restarted"
    } else if stopped {
        "stopped"
    } else {
        "changed"
    };
    r.event.summary = format!("container {name} {head}: {}", parts.join(", "));
    r.event.severity = worst;
    r
}

/// The specifics two sources' accounts must share to be one fact: numbers
/// of three digits or more (pids, transaction ids, request ids, ports).
fn specifics(text: &str) -> HashSet<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| t.len() >= 3 && t.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// Words of six letters or more, lowercased: what the accounts are about.
fn topic(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| t.len() >= 6 && t.chars().all(char::is_alphabetic))
        .map(str::to_lowercase)
        .collect()
}

/// Merges rows that are one fact seen by two sources: errors from different
/// sources within seconds that share at least two specifics and a topic
/// word. Conservative by design: anything less stays two rows.
fn corroborate(rows: Vec<Row>, totals: &mut Totals) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::with_capacity(rows.len());
    let candidate = |r: &Row| {
        r.event.severity.is_some_and(|s| s >= Severity::Error)
            && matches!(r.event.kind, EventKind::Log | EventKind::Database | EventKind::StateChange)
    };
    let mut order: Vec<Row> = rows;
    order.sort_by(|a, b| a.event.order(&b.event));
    for r in order {
        if candidate(&r) {
            let text = format!("{}\n{}", r.event.summary, r.event.evidence.excerpt);
            let nums = specifics(&text);
            let words = topic(&text);
            let same = out.iter_mut().rev().take_while(|o| {
                r.event.time.unix_nanos().saturating_sub(o.event.time.unix_nanos()) <= CORROBORATION_NANOS
            });
            let mut merged = false;
            for o in same {
                if !candidate(o) || o.event.collector == r.event.collector && o.event.component == r.event.component {
                    continue;
                }
                let other = format!("{}\n{}", o.event.summary, o.event.evidence.excerpt);
                let shared_nums = specifics(&other).intersection(&nums).count();
                let shared_words = topic(&other).intersection(&words).count();
                if shared_nums >= 2 && shared_words >= 1 {
                    o.also.push(r.event.clone());
                    o.also.extend(r.also.iter().cloned());
                    totals.folded = totals.folded.saturating_add(r.count);
                    merged = true;
                    break;
                }
            }
            if merged {
                continue;
            }
        }
        out.push(r);
    }
    out
}

/// The shape of a message with its variable parts masked: numbers, ids,
/// hashes, addresses, durations and quoted values become `<*>`, so lines
/// that differ only in them fold together.
pub fn template(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    template_into(msg, &mut out);
    out
}

/// [`template`] written into `out` (cleared first): a busy log folds
/// hundreds of thousands of lines, and a reused buffer spares each its
/// allocations.
pub fn template_into(msg: &str, out: &mut String) {
    out.clear();
    let mut chars = msg.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '"' || c == '\'' {
            // A quoted value: mask up to the closing quote on this line.
            let mut closed = false;
            for (_, d) in chars.by_ref() {
                if d == c {
                    closed = true;
                    break;
                }
            }
            out.push(c);
            out.push_str("<*>");
            if closed {
                out.push(c);
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            let mut end = at + c.len_utf8();
            while let Some(&(i, d)) = chars.peek() {
                if d.is_alphanumeric() || matches!(d, '_' | '-' | '.' | ':') {
                    end = i + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let tok = msg.get(at..end).unwrap_or_default();
            // Trailing punctuation belongs to the sentence, not the token.
            let trimmed = tok.trim_end_matches(['.', ':', '-']);
            let tail = tok.get(trimmed.len()..).unwrap_or_default();
            if is_variable(trimmed) {
                out.push_str("<*>");
            } else {
                out.push_str(trimmed);
            }
            out.push_str(tail);
            continue;
        }
        out.push(c);
    }
}

/// Templates by shape. A message's template depends only on its shape, the
/// message with each run of ASCII digits written as one digit (a token
/// with a digit is variable however many it has, and digits never end a
/// token): a busy log's lines, which differ in their numbers, are
/// templated once per shape, not once a line.
///
/// With `masked`, a template is worked out from the message with its
/// secrets masked, as the message will be printed: lines that differ only
/// in a password fold into one row. A shape is masked once, when first met.
#[derive(Default)]
pub struct Templates {
    shapes: FxHashMap<Box<[u8]>, usize>,
    texts: Vec<Box<str>>,
    shape: Vec<u8>,
    scratch: String,
    masked: bool,
}

/// Shapes remembered; past it, a new shape's template is worked out each time.
const MAX_SHAPES: usize = 65_536;

impl Templates {
    /// Templates of messages as printed with their secrets masked.
    pub fn masked() -> Self {
        Templates { masked: true, ..Templates::default() }
    }

    /// The template of `msg` (see [`template`]).
    pub fn of(&mut self, msg: &str) -> &str {
        self.shape.clear();
        // Runs of digits become one `0`; the text between is copied whole.
        let mut rest = msg.as_bytes();
        while !rest.is_empty() {
            let text = rest.iter().position(u8::is_ascii_digit).unwrap_or(rest.len());
            self.shape.extend_from_slice(rest.get(..text).unwrap_or_default());
            rest = rest.get(text..).unwrap_or_default();
            let digits = rest.iter().position(|b| !b.is_ascii_digit()).unwrap_or(rest.len());
            if digits > 0 {
                self.shape.push(b'0');
            }
            rest = rest.get(digits..).unwrap_or_default();
        }
        let known = self.shapes.get(self.shape.as_slice()).copied().filter(|&i| i < self.texts.len());
        if let Some(i) = known {
            return self.texts.get(i).map_or("", |t| t);
        }
        if self.masked {
            template_into(&crate::redact::mask(msg).0, &mut self.scratch);
        } else {
            template_into(msg, &mut self.scratch);
        }
        if self.shapes.len() >= MAX_SHAPES {
            return &self.scratch;
        }
        let i = self.texts.len();
        self.texts.push(Box::from(self.scratch.as_str()));
        self.shapes.insert(Box::from(self.shape.as_slice()), i);
        &self.scratch
    }
}

fn is_variable(tok: &str) -> bool {
    if tok.chars().any(|c| c.is_ascii_digit()) {
        return true;
    }
    // Long hex ids without digits are rare but exist (deadbeefcafe).
    tok.len() >= 12 && tok.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(time: Timestamp, kind: EventKind, summary: &str) -> Event {
        Event {
            time,
            basis: reconstruct_core::TimeBasis::Explicit,
            collector: SourceKind::Logfile,
            component: Arc::from("api"),
            kind,
            severity: Some(Severity::Warning),
            summary: summary.to_string(),
            evidence: reconstruct_core::Evidence {
                locator: reconstruct_core::Locator::Text("x".into()),
                excerpt: String::new(),
            },
            continuation_lines: 0,
            service: None,
            fact: None,
        }
    }

    #[test]
    fn the_budget_keeps_the_newest_commits_of_a_long_window() {
        // A month of commits, no incident: all rank the same.
        let mut s = Summariser::new(40);
        for i in 0..124i64 {
            let t = Timestamp::from_unix_seconds(1_764_000_000 + i * 20_000, 0).unwrap();
            let mut e = event(t, EventKind::Change, &format!("Commit {i:03}: chore"));
            e.collector = SourceKind::Git;
            e.severity = None;
            s.add(e);
        }
        let out = s.finish();
        assert_eq!(out.rows.len(), 40);
        assert_eq!(out.rows.first().map(|r| r.event.summary.as_str()), Some("Commit 084: chore"));
        assert_eq!(out.rows.last().map(|r| r.event.summary.as_str()), Some("Commit 123: chore"));
        assert_eq!(out.totals.over_budget_rows, 84);
    }

    #[test]
    fn extreme_times_fold_without_overflow() {
        let mut s = Summariser::new(10);
        // Out of order on purpose: the gap MIN - MAX does not fit an i64.
        s.add(event(Timestamp::MAX, EventKind::StateChange, "service restarted"));
        s.add(event(Timestamp::MIN, EventKind::StateChange, "service restarted"));
        s.add(event(Timestamp::MAX, EventKind::Log, "disk almost full"));
        s.add(event(Timestamp::MIN, EventKind::Log, "disk almost full"));
        let out = s.finish();
        assert_eq!(out.totals.events, 4);
        assert_eq!(out.rows.iter().map(|r| r.count).sum::<u64>(), 4);
        assert_eq!(out.rows.first().map(|r| r.event.time), Some(Timestamp::MIN));
    }

    fn error_at(secs: i64, collector: SourceKind, component: &str, text: &str) -> Event {
        let mut e = event(Timestamp::from_unix_seconds(secs, 0).unwrap(), EventKind::Log, text);
        e.severity = Some(Severity::Error);
        e.collector = collector;
        e.component = Arc::from(component);
        e
    }

    #[test]
    fn corroboration_is_conservative() {
        let mut s = Summariser::new(40);
        let t = 1_766_759_465;
        s.add(error_at(
            t,
            SourceKind::Postgres,
            "db",
            "ERROR: deadlock detected: process 4711 blocked by process 4712",
        ));
        s.add(error_at(
            t + 1,
            SourceKind::Logfile,
            "app",
            "DeadlockDetected: deadlock detected, process 4711 and 4712",
        ));
        // The same words, other pids: another fact.
        s.add(error_at(t + 1, SourceKind::Docker, "web", "deadlock detected between process 5001 and 5002"));
        // The same pids, too late to be the same moment.
        s.add(error_at(t + 30, SourceKind::Docker, "worker", "deadlock detected: process 4711 and 4712 again"));
        let rows = s.finish().rows;
        assert_eq!(rows.len(), 3, "{:#?}", rows.iter().map(|r| &r.event.summary).collect::<Vec<_>>());
        assert_eq!(rows[0].also.len(), 1);
        assert_eq!(&*rows[0].also[0].component, "app");
    }

    #[test]
    fn recurrences_minutes_apart_are_their_own_rows() {
        let alert = |secs: i64, state: AlertState| {
            let mut e = event(Timestamp::from_unix_seconds(secs, 0).unwrap(), EventKind::Alert, "alert X firing");
            e.fact = Some(Box::new(Fact::Alert { name: "X".into(), labels: Default::default(), state }));
            e
        };
        let mut s = Summariser::new(40);
        s.add(alert(1_000_000, AlertState::Firing));
        s.add(alert(1_000_030, AlertState::Firing));
        s.add(alert(1_000_900, AlertState::Firing));
        let rows = s.finish().rows;
        assert_eq!(
            rows.iter().map(|r| r.count).collect::<Vec<_>>(),
            vec![2, 1],
            "a burst folds, a recurrence does not"
        );
    }

    #[test]
    fn templates_mask_variable_parts() {
        assert_eq!(
            template("ERROR [api] POST /api/schedule/42 500 in 31.2ms (request_id=7f3a9c)"),
            "ERROR [api] POST /api/schedule/<*> <*> in <*> (request_id=<*>)"
        );
        assert_eq!(template("user 'alice' from 10.0.0.12:5432 failed."), "user '<*>' from <*> failed.");
        assert_eq!(template("pool exhausted: size 20 overflow 10"), "pool exhausted: size <*> overflow <*>");
        assert_eq!(template("unterminated \"quote"), "unterminated \"<*>");
        assert_eq!(template("héllo wörld 3"), "héllo wörld <*>");
    }

    #[test]
    fn lines_that_differ_in_a_secret_fold_as_they_will_be_printed() {
        let t = |s: i64| Timestamp::from_unix_seconds(1_766_757_000 + s, 0).unwrap();
        let lines = ["login failed for bob password=hunter", "login failed for bob password=dragon"];
        let fold = |s: Summariser| {
            let mut s = s;
            for (i, l) in lines.iter().enumerate() {
                s.add(event(t(i as i64), EventKind::Log, l));
            }
            s.finish().rows.iter().map(|r| r.count).collect::<Vec<_>>()
        };
        assert_eq!(fold(Summariser::new(40).masking()), vec![2], "one row, its secret masked when printed");
        assert_eq!(fold(Summariser::new(40)), vec![1, 1], "--no-redact: two messages");
    }

    #[test]
    fn a_template_by_shape_is_the_template() {
        let mut t = Templates::default();
        let msgs = [
            "GET /v1/items/123 200 12ms",
            "GET /v1/items/9 200 7ms",
            "deadbeefcafe and deadbeefcafe1 and 10.0.3.4: done.",
            "abcdef12345 abcdef9",
            "id=0x1f 'quoted 12' \"unterminated 3",
            "٣ arabic digit and 3",
            "",
            "v1.2.3-rc1: started",
        ];
        for round in 0..2 {
            for m in msgs {
                assert_eq!(t.of(m), template(m), "{m} (round {round})");
            }
        }
    }
}
