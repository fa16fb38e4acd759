//! Before the window, where a central store holds too much to page through
//! (a day of a busy cluster can be terabytes): the store counts each
//! service's lines itself, in steps, and gives a bounded sample of each
//! service's last lines. The findings' baseline reads its usual pace from
//! the counts and its usual messages from the sample; the coverage says
//! how large the sample was.

use std::collections::BTreeMap;

use reconstruct_core::{TimeWindow, Timestamp};

/// The words of a line that may announce a change, as the findings' change
/// rules look for them (a version, a start or boot, a migration applied):
/// the store finds such lines across the whole span, where a service's
/// sample of its last lines would miss a deploy hours back.
pub const CHANGE_WORDS: [&str; 14] = [
    "version",
    "starting",
    "started",
    "startup",
    "booting",
    "boot",
    "listening",
    "upgrade",
    "applying",
    "applied",
    "migrating",
    "migration",
    "migrations",
    "changeset",
];

/// Lines sampled per service (Loki's; Elasticsearch's `top_hits` stops at
/// 100 unless the index allows more).
pub const SAMPLE: u32 = 200;
/// Services sampled, the busiest first.
pub const MAX_SERVICES: usize = 100;
/// Steps of the count over the span, at most: a day in minutes.
const MAX_STEPS: i64 = 1440;

/// The step of the count, in seconds: a minute, or longer so that the span
/// has at most [`MAX_STEPS`] of them.
pub fn step_s(span: &TimeWindow) -> i64 {
    let seconds = span.until.unix_seconds().saturating_sub(span.since.unix_seconds()).max(0);
    let steps = seconds.saturating_add(MAX_STEPS - 1) / MAX_STEPS;
    steps.max(60)
}

/// A service, as the field or label that names it in the store, and its value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Named {
    pub field: String,
    pub value: String,
}

/// Lines the store counted in one step: of a service, or (`None`) of
/// records that name none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    pub start: Timestamp,
    pub seconds: u32,
    pub service: Option<Named>,
    pub lines: u64,
}

/// What was read before the window: the counts, and each service's sample.
#[derive(Debug)]
pub struct Before<L> {
    pub span: TimeWindow,
    pub step_s: i64,
    pub tallies: Vec<Tally>,
    pub samples: Vec<(Named, Vec<L>)>,
    /// The span's last lines that announce a change (a version, a start, a
    /// migration), found by the store across every service ([`CHANGE_WORDS`]).
    pub changes: Vec<L>,
    /// Services counted but not sampled, past [`MAX_SERVICES`].
    pub unsampled: usize,
    /// Lines of services past [`MAX_SERVICES`] that the store did not count by step.
    pub uncounted: u64,
    /// Lines sampled per service, at most.
    pub sample: u32,
}

impl<L> Before<L> {
    pub fn new(span: TimeWindow, step_s: i64) -> Self {
        Before {
            span,
            step_s,
            tallies: Vec::new(),
            samples: Vec::new(),
            changes: Vec::new(),
            unsampled: 0,
            uncounted: 0,
            sample: SAMPLE,
        }
    }

    /// Lines counted, in all.
    pub fn counted(&self) -> u64 {
        self.tallies.iter().fold(0u64, |n, t| n.saturating_add(t.lines))
    }

    /// Lines sampled, in all.
    pub fn sampled(&self) -> usize {
        self.samples.iter().map(|(_, s)| s.len()).sum()
    }

    /// Services counted.
    pub fn services(&self) -> usize {
        let mut s: Vec<&Named> = self.tallies.iter().filter_map(|t| t.service.as_ref()).collect();
        s.sort();
        s.dedup();
        s.len()
    }

    /// Lines counted of records that name no service (counted, never sampled).
    pub fn nameless(&self) -> u64 {
        self.tallies.iter().filter(|t| t.service.is_none()).fold(0u64, |n, t| n.saturating_add(t.lines))
    }
}

/// Adds up counts of the same service and step (two streams of one
/// service), in time order.
pub fn sum(tallies: impl IntoIterator<Item = Tally>) -> Vec<Tally> {
    let mut by: BTreeMap<(Timestamp, Option<Named>), (u32, u64)> = BTreeMap::new();
    for t in tallies {
        if t.lines == 0 {
            continue;
        }
        let e = by.entry((t.start, t.service)).or_insert((t.seconds, 0));
        e.1 = e.1.saturating_add(t.lines);
    }
    by.into_iter().map(|((start, service), (seconds, lines))| Tally { start, seconds, service, lines }).collect()
}

/// The services to sample, the busiest first, at most [`MAX_SERVICES`];
/// and how many were left out.
pub fn busiest(tallies: &[Tally]) -> (Vec<Named>, usize) {
    let mut by: BTreeMap<&Named, u64> = BTreeMap::new();
    for t in tallies {
        if let Some(s) = &t.service {
            let n = by.entry(s).or_default();
            *n = n.saturating_add(t.lines);
        }
    }
    let mut all: Vec<(&Named, u64)> = by.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let left = all.len().saturating_sub(MAX_SERVICES);
    (all.into_iter().take(MAX_SERVICES).map(|(n, _)| n.clone()).collect(), left)
}

/// The coverage's words for what was read before the window.
pub fn note<L>(store: &str, how: &str, b: &Before<L>) -> String {
    let mut s = format!(
        "before the window (from {}, for the baseline and the lookback): {store} counted {} lines of {} services in \
         {}-second steps ({how}); a sample of up to {} of each service's last lines was read ({} lines of {} \
         services) for their messages",
        b.span.since.rfc3339(),
        b.counted(),
        b.services(),
        b.step_s,
        b.sample,
        b.sampled(),
        b.samples.len(),
    );
    s.push_str(&format!(
        "; the store was asked for the span's last lines announcing a version, a start or a migration: {} \
         (up to {})",
        b.changes.len(),
        b.sample
    ));
    if b.unsampled > 0 {
        s.push_str(&format!("; {} quieter services were counted, not sampled", b.unsampled));
    }
    if b.uncounted > 0 {
        s.push_str(&format!(
            "; {} lines of services past the {MAX_SERVICES} busiest were neither counted by step nor sampled",
            b.uncounted
        ));
    }
    let nameless = b.nameless();
    if nameless > 0 {
        s.push_str(&format!("; {nameless} lines naming no service were counted, not sampled"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(start: i64, service: Option<&str>, lines: u64) -> Tally {
        Tally {
            start: Timestamp::from_unix_seconds(start, 0).unwrap(),
            seconds: 60,
            service: service.map(|v| Named { field: "app".into(), value: v.into() }),
            lines,
        }
    }

    #[test]
    fn steps_are_a_minute_or_enough_for_a_day_of_them() {
        let w = |s: i64| TimeWindow {
            since: Timestamp::from_unix_seconds(0, 0).unwrap(),
            until: Timestamp::from_unix_seconds(s, 0).unwrap(),
        };
        assert_eq!(step_s(&w(3600)), 60);
        assert_eq!(step_s(&w(86_400)), 60);
        assert_eq!(step_s(&w(7 * 86_400)), 420);
        assert_eq!(step_s(&w(86_401)), 61);
    }

    #[test]
    fn counts_of_one_service_add_up_and_the_busiest_are_sampled() {
        let s = sum([
            t(60, Some("api"), 3),
            t(0, Some("api"), 2),
            t(0, Some("api"), 4),
            t(0, None, 1),
            t(0, Some("db"), 0),
        ]);
        assert_eq!(s, [t(0, None, 1), t(0, Some("api"), 6), t(60, Some("api"), 3)]);
        let (names, left) = busiest(&[t(0, Some("db"), 2), t(0, Some("api"), 9)]);
        assert_eq!(names.iter().map(|n| n.value.as_str()).collect::<Vec<_>>(), ["api", "db"]);
        assert_eq!(left, 0);
    }
}
