//! Where it started and how it spread: components grouped into services
//! (the first segment of their name: `backend.api` is `backend`), each
//! with its first anomaly, first error and last error, in the order they
//! began to fail, with the lag from each to the next; and the precursors,
//! warnings whose rate rose before the onset.

use std::collections::{BTreeMap, HashMap};

use reconstruct_core::{AlertState, ContainerAction, Event, Severity, Timestamp};
use serde::Serialize;

use super::clock::Errors;
use super::{service, Cited};

/// One service's part in the incident.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Service {
    pub service: String,
    /// Its first warning, unhealthy check, restart or pending alert.
    pub first_anomaly: Option<Cited>,
    pub first_error: Cited,
    pub last_error: Cited,
    /// Seconds after the service before it in the order (none for the first).
    pub lag_s: Option<i64>,
}

/// A kind of warning that rose before the onset: absent for as long
/// before it began as it then ran before the onset.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Precursor {
    #[serde(flatten)]
    pub first: Cited,
    /// How many of it came before the onset.
    pub before_onset: u64,
}

/// What spread keeps while the events go by.
#[derive(Default)]
pub struct Observed {
    anomalies: HashMap<String, Cited>,
    index: HashMap<String, usize>,
    warnings: Vec<(Cited, Vec<Timestamp>)>,
    /// Each service's first event read before the window (the baseline):
    /// a warning it did not log from then on was absent. (A service, not a
    /// component: `backend.db` may log only the warnings in question.)
    logged_from: HashMap<String, Timestamp>,
    /// The component of the last event read before the window, whose
    /// service is known already (the next is most often the same).
    last_component: Option<std::sync::Arc<str>>,
    /// Where the baseline begins (`None`: none was read): before it only
    /// changes were read, so a warning's absence there shows nothing.
    baseline_since: Option<Timestamp>,
}

fn is_anomaly(e: &Event) -> bool {
    e.severity.is_some_and(|s| s >= Severity::Warning)
        || matches!(e.container_action(), Some(ContainerAction::Unhealthy | ContainerAction::Restart))
        || e.alert_state() == Some(AlertState::Pending)
}

/// A warning's kind: its component and its message with the numbers taken out.
fn kind(e: &Event) -> String {
    let mut key = format!("{}\u{1f}", e.component);
    let mut digit = false;
    for c in e.summary.chars().take(100) {
        if c.is_ascii_digit() {
            if !digit {
                key.push('#');
            }
            digit = true;
        } else {
            digit = false;
            key.push(c);
        }
    }
    key
}

impl Observed {
    pub fn observe(&mut self, e: &Event) {
        if !is_anomaly(e) {
            return;
        }
        self.anomalies.entry(service(e)).or_insert_with(|| Cited::of(e));
        self.warning(e);
    }

    /// An event read before the window: when its component began to log,
    /// and its warnings (a warning there already is no precursor). It is
    /// no anomaly of the incident.
    /// Warnings before the window count from the baseline's start on.
    pub fn with_baseline(baseline_since: Option<Timestamp>) -> Self {
        Observed { baseline_since, ..Observed::default() }
    }

    pub fn observe_before(&mut self, e: &Event) {
        if self.baseline_since.is_none_or(|b| e.time < b) {
            return;
        }
        if self.last_component.as_ref().is_none_or(|c| !std::sync::Arc::ptr_eq(c, &e.component)) {
            self.logged_from.entry(service(e)).or_insert(e.time);
            self.last_component = Some(e.component.clone());
        }
        if is_anomaly(e) {
            self.warning(e);
        }
    }

    fn warning(&mut self, e: &Event) {
        if e.severity == Some(Severity::Warning) && e.kind == reconstruct_core::EventKind::Log {
            let i = *self.index.entry(kind(e)).or_insert_with(|| {
                self.warnings.push((Cited::of(e), Vec::new()));
                self.warnings.len() - 1
            });
            if let Some((_, times)) = self.warnings.get_mut(i) {
                times.push(e.time);
            }
        }
    }

    /// The services in the order they began to fail, and the precursors of the onset.
    pub fn conclude(
        self,
        errors: &Errors,
        onset: Option<Timestamp>,
        window_since: Timestamp,
    ) -> (Vec<Service>, Vec<Precursor>) {
        let mut by: BTreeMap<String, (Cited, Cited)> = BTreeMap::new();
        for s in errors.signatures.iter().filter(|s| !s.background) {
            let (Some(first), Some(last)) = (s.times.first(), s.times.last()) else { continue };
            let service = s.first.service.clone();
            // The latest of its kind: the same message, at its own time and evidence.
            let last_cited = Cited { time: *last, evidence: s.last.1.to_string(), ..s.first.clone() };
            let entry = by.entry(service).or_insert_with(|| (s.first.clone(), last_cited.clone()));
            if *first < entry.0.time {
                entry.0 = s.first.clone();
            }
            if *last > entry.1.time {
                entry.1 = last_cited;
            }
        }
        let mut services: Vec<Service> = by
            .into_iter()
            .map(|(service, (first_error, last_error))| Service {
                first_anomaly: self.anomalies.get(&service).filter(|a| a.time < first_error.time).cloned(),
                service,
                first_error,
                last_error,
                lag_s: None,
            })
            .collect();
        services.sort_by_key(|s| s.first_error.time);
        for i in 1..services.len() {
            let before = services.get(i - 1).map(|s| s.first_error.time);
            if let (Some(b), Some(s)) = (before, services.get_mut(i)) {
                s.lag_s = Some(s.first_error.time.unix_seconds().saturating_sub(b.unix_seconds()));
            }
        }
        let Some(onset) = onset else { return (services, Vec::new()) };
        // A precursor: a kind of warning before the onset that was not there
        // (or rarer) in the same length of time before it began.
        let logged_from = self.logged_from;
        let mut precursors: Vec<Precursor> = self
            .warnings
            .into_iter()
            .filter_map(|(first, times)| {
                let before_onset = times.iter().filter(|t| **t < onset).count() as u64;
                if before_onset < 3 || first.time >= onset {
                    return None;
                }
                // It rose if the evidence shows it absent for as long before
                // it began as it ran before the onset: the window, and the
                // baseline where its component logged without it. Evidence
                // too short to see that does not call it a rise.
                let from = logged_from.get(&first.service).map_or(window_since, |t| (*t).min(window_since));
                let lead = onset.unix_seconds().saturating_sub(first.time.unix_seconds());
                let seen_back = from.unix_seconds() <= first.time.unix_seconds().saturating_sub(lead);
                seen_back.then_some(Precursor { first, before_onset })
            })
            .collect();
        precursors.sort_by_key(|p| p.first.time);
        (services, precursors)
    }
}
