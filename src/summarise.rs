//! From thousands of events to the dozens of rows a post-mortem table
//! needs: repeated messages fold into their first occurrence (with count
//! and last time), rows are ranked by what matters in an outage, a row
//! budget is kept, and everything left out is counted, never dropped silently.

use std::collections::HashMap;
use std::sync::Arc;

use reconstruct_core::{Event, EventKind, Severity, SourceKind, Timestamp};

/// One row of the table: the first event of its kind, and how often it recurred.
#[derive(Clone, Debug)]
pub struct Row {
    pub event: Event,
    pub count: u64,
    pub last: Timestamp,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Events in the window, built or only counted.
    pub events: u64,
    /// Candidate rows after folding, before the budget.
    pub candidates: u64,
    /// Events folded into a row that shows an earlier occurrence.
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
}

pub struct Summary {
    pub rows: Vec<Row>,
    pub totals: Totals,
}

/// Distinct templates held at once; beyond it new messages are only counted,
/// so memory stays bounded on pathological logs where no line repeats.
const MAX_CLUSTERS: usize = 50_000;

#[derive(Hash, PartialEq, Eq)]
struct Key {
    collector: SourceKind,
    component: Arc<str>,
    kind: EventKind,
    severity: Option<Severity>,
    template: String,
}

/// A state change (a start, a restart) is news each time it recurs after a
/// quiet spell, so it folds only into a burst of itself; errors and
/// warnings fold into their first occurrence however far apart.
const STATE_BURST_NANOS: i64 = 5 * 60 * 1_000_000_000;

fn continues(row: &Row, e: &Event) -> bool {
    match e.kind {
        EventKind::StateChange => e.time.unix_nanos().saturating_sub(row.last.unix_nanos()) <= STATE_BURST_NANOS,
        _ => true,
    }
}

/// Whether an event can become a row at all.
pub fn is_notable(e: &Event) -> bool {
    match e.kind {
        EventKind::Log => e.severity.is_some_and(|s| s >= Severity::Warning),
        // A session that connected or a query that started is routine on a
        // busy server; waits, long and idle transactions and saturation are not.
        EventKind::Database => e.severity.is_none_or(|s| s >= Severity::Notice),
        _ => true,
    }
}

/// Lower ranks first under the budget: what went wrong with the system
/// (alerts firing, containers dying) first, then what changed it and what
/// ended the trouble (commits, resolutions, restarts), then errors, then
/// state changes and warnings.
fn rank(e: &Event) -> u8 {
    let sev = e.severity.unwrap_or(Severity::Info);
    match e.kind {
        EventKind::Annotation => 0,
        EventKind::Alert | EventKind::Lifecycle if sev >= Severity::Warning => 1,
        EventKind::Alert | EventKind::Lifecycle if sev >= Severity::Notice => 2,
        EventKind::Change => 2,
        _ if sev >= Severity::Critical => 2,
        _ if sev >= Severity::Error => 3,
        EventKind::StateChange => 4,
        EventKind::Database if sev >= Severity::Warning => 4,
        _ if sev >= Severity::Warning => 5,
        _ => 6,
    }
}

pub struct Summariser {
    max_rows: usize,
    order: Vec<Row>,
    index: HashMap<Key, usize>,
    totals: Totals,
}

impl Summariser {
    pub fn new(max_rows: usize) -> Self {
        Summariser { max_rows, order: Vec::new(), index: HashMap::new(), totals: Totals::default() }
    }

    /// Counts events that collectors did not build (see `Detail::Notable`).
    pub fn add_routine(&mut self, n: u64) {
        self.totals.events = self.totals.events.saturating_add(n);
        self.totals.routine = self.totals.routine.saturating_add(n);
    }

    pub fn add(&mut self, e: Event) {
        self.totals.events = self.totals.events.saturating_add(1);
        if !is_notable(&e) {
            self.totals.routine = self.totals.routine.saturating_add(1);
            return;
        }
        // Commits and human rows are each their own fact, never folded.
        if matches!(e.kind, EventKind::Change | EventKind::Annotation) {
            self.order.push(Row { last: e.time, event: e, count: 1 });
            return;
        }
        let key = Key {
            collector: e.collector,
            component: e.component.clone(),
            kind: e.kind,
            severity: e.severity,
            template: template(&e.summary),
        };
        if let Some(&i) = self.index.get(&key) {
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
        if self.index.len() >= MAX_CLUSTERS && !self.index.contains_key(&key) {
            self.totals.unclustered = self.totals.unclustered.saturating_add(1);
            return;
        }
        self.index.insert(key, self.order.len());
        self.order.push(Row { last: e.time, event: e, count: 1 });
    }

    pub fn finish(self) -> Summary {
        let Summariser { max_rows, order, mut totals, .. } = self;
        totals.candidates = order.len() as u64;
        let mut ranked: Vec<(u8, usize)> = order.iter().enumerate().map(|(i, r)| (rank(&r.event), i)).collect();
        ranked.sort();
        let keep: std::collections::HashSet<usize> = ranked.iter().take(max_rows).map(|(_, i)| *i).collect();
        let mut rows = Vec::with_capacity(keep.len());
        for (i, r) in order.into_iter().enumerate() {
            if keep.contains(&i) {
                rows.push(r);
            } else {
                totals.over_budget_rows = totals.over_budget_rows.saturating_add(1);
                totals.over_budget_events = totals.over_budget_events.saturating_add(r.count);
            }
        }
        rows.sort_by(|a, b| a.event.order(&b.event));
        Summary { rows, totals }
    }
}

/// The shape of a message with its variable parts masked: numbers, ids,
/// hashes, addresses, durations and quoted values become `<*>`, so lines
/// that differ only in them fold together.
pub fn template(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut chars = msg.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
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
            let mut tok = String::new();
            tok.push(c);
            while let Some(&(_, d)) = chars.peek() {
                if d.is_alphanumeric() || matches!(d, '_' | '-' | '.' | ':') {
                    tok.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
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
    out
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
            fact: None,
        }
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
}
