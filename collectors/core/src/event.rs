//! The event: one dated fact about the system, with the evidence that proves it.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// A UTC instant with nanosecond precision (nanoseconds since the Unix epoch).
///
/// An `i64` covers 1677..2262, which is every date a log will plausibly hold;
/// keeping it a plain integer makes comparisons in the merge cheap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    pub fn from_unix_nanos(n: i64) -> Self {
        Timestamp(n)
    }

    /// `None` when the instant is outside what an `i64` of nanoseconds holds.
    pub fn from_unix_seconds(secs: i64, nanos: u32) -> Option<Self> {
        secs.checked_mul(1_000_000_000).and_then(|n| n.checked_add(i64::from(nanos))).map(Timestamp)
    }

    pub fn unix_nanos(self) -> i64 {
        self.0
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    pub fn subsec_nanos(self) -> u32 {
        // rem_euclid of a positive modulus is always in 0..1e9, which fits.
        u32::try_from(self.0.rem_euclid(1_000_000_000)).unwrap_or(0)
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }

    pub fn from_datetime<Tz: chrono::TimeZone>(dt: &DateTime<Tz>) -> Option<Self> {
        Self::from_unix_seconds(dt.timestamp(), dt.timestamp_subsec_nanos())
    }

    /// RFC 3339 in UTC with `Z`, with as many fraction digits as the value needs.
    pub fn rfc3339(self) -> String {
        self.to_datetime().to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// `HH:MM:SS`, the precision of the post-mortem table.
    pub fn hms(self) -> String {
        self.to_datetime().format("%H:%M:%S").to_string()
    }

    /// `YYYY-MM-DD HH:MM:SS`, for tables whose window spans days.
    pub fn date_hms(self) -> String {
        self.to_datetime().format("%Y-%m-%d %H:%M:%S").to_string()
    }

    pub fn date(self) -> chrono::NaiveDate {
        self.to_datetime().date_naive()
    }

    pub fn saturating_add_nanos(self, n: i64) -> Self {
        Timestamp(self.0.saturating_add(n))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

/// How an event's time was derived from its evidence, so a reviewer knows how
/// far to trust it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    /// The evidence states the offset (`Z`, `+02:00`, `UTC`) or is a git/engine time.
    Explicit,
    /// Seconds or milliseconds since the epoch: UTC by definition.
    Epoch,
    /// No offset in the text: the source's zone (`--tz`, default UTC) was assumed.
    AssumedZone,
    /// No year in the text (syslog, klog): taken from the window, zone assumed.
    InferredYear,
    /// A time of day with no date at all: the day taken from the window's
    /// start, moving on a day when the clock runs back past midnight.
    InferredDate,
}

impl TimeBasis {
    pub fn describe(self) -> &'static str {
        match self {
            TimeBasis::Explicit => "explicit offset",
            TimeBasis::Epoch => "epoch time",
            TimeBasis::AssumedZone => "assumed zone",
            TimeBasis::InferredYear => "inferred year",
            TimeBasis::InferredDate => "date from the window",
        }
    }
}

/// Severity as the source stated it (or as a status code implies it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Debug => "debug",
            Severity::Info => "info",
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

/// What sort of fact an event records; the summariser ranks by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A line an application wrote.
    Log,
    /// A log line that reports a change of state (start, stop, restart, migration…).
    StateChange,
    /// A change that landed: a commit, a merge, a tag.
    Change,
    /// A container or process was started, died, was killed, became unhealthy.
    Lifecycle,
    /// A database session or server condition.
    Database,
    /// An alert went pending, fired or resolved.
    Alert,
    /// A row a person added.
    Annotation,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Log => "log",
            EventKind::StateChange => "state_change",
            EventKind::Change => "change",
            EventKind::Lifecycle => "lifecycle",
            EventKind::Database => "database",
            EventKind::Alert => "alert",
            EventKind::Annotation => "annotation",
        }
    }
}

/// The kind of source an event came from. Variants are listed in the
/// alphabetical order of their names, so the derived order (the timeline's
/// tie-breaker) is the order of the names a reader sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Alertmanager,
    Annotation,
    Docker,
    Elasticsearch,
    Git,
    Journal,
    Kubernetes,
    Logfile,
    Loki,
    /// OpenTelemetry logs and traces (OTLP JSON files).
    Otel,
    Postgres,
    Prometheus,
    Swarm,
}

impl SourceKind {
    pub const ALL: [SourceKind; 13] = [
        SourceKind::Alertmanager,
        SourceKind::Annotation,
        SourceKind::Docker,
        SourceKind::Elasticsearch,
        SourceKind::Git,
        SourceKind::Journal,
        SourceKind::Kubernetes,
        SourceKind::Logfile,
        SourceKind::Loki,
        SourceKind::Otel,
        SourceKind::Postgres,
        SourceKind::Prometheus,
        SourceKind::Swarm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Alertmanager => "alertmanager",
            SourceKind::Annotation => "annotation",
            SourceKind::Docker => "docker",
            SourceKind::Git => "git",
            SourceKind::Elasticsearch => "elasticsearch",
            SourceKind::Journal => "journal",
            SourceKind::Kubernetes => "kubernetes",
            SourceKind::Loki => "loki",
            SourceKind::Logfile => "logfile",
            SourceKind::Postgres => "postgres",
            SourceKind::Prometheus => "prometheus",
            SourceKind::Swarm => "swarm",
            SourceKind::Otel => "otel",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of an alert that an event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Pending,
    Firing,
    Resolved,
    /// Active but silenced or inhibited in Alertmanager.
    Suppressed,
}

/// What happened to a container.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerAction {
    Start,
    Restart,
    Die,
    Oom,
    Kill,
    Healthy,
    Unhealthy,
    /// Another engine action, by its engine name.
    Other(String),
}

/// The structured fact behind an event, where its source has one: what the
/// report, the Timesketch export and the summary read instead of the
/// summary text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fact {
    Alert {
        name: String,
        labels: BTreeMap<String, String>,
        state: AlertState,
    },
    /// An Alertmanager silence that began.
    Silence {
        id: String,
        matchers: String,
    },
    Container {
        container: String,
        action: ContainerAction,
        exit_code: Option<i64>,
        /// The signal of a kill.
        signal: Option<String>,
    },
    Commit {
        hash: String,
        tags: Vec<String>,
        merge: bool,
        /// The subject line, for telling fixes from routine changes.
        subject: String,
        /// The files it changed, for what kind of change it is (a migration, a
        /// configuration). Kept out of the timeline's JSON, which names the commit.
        #[serde(skip)]
        files: Vec<String>,
    },
    Session {
        pid: i64,
        state: Option<String>,
    },
    /// A new revision of a workload went out (a Deployment's new ReplicaSet).
    Rollout {
        workload: String,
        revision: Option<String>,
        images: Vec<String>,
    },
    /// A data-integrity check run against a database: its verdict
    /// (`passed`, `failed`, `error`, `timed_out`), first value and expectation.
    Check {
        name: String,
        verdict: String,
        value: Option<String>,
        expect: String,
    },
    /// The trace and span an OpenTelemetry record or span belongs to, for
    /// opening it in a tracing UI.
    Span {
        trace_id: String,
        span_id: String,
        /// The span's name, for a span (not for a log record in one).
        name: Option<String>,
    },
    /// A call from one service to another, from a client span whose server
    /// span is in the other service.
    Call {
        caller: String,
        callee: String,
        trace_id: String,
        span_id: String,
    },
    /// Packages a package manager installed, upgraded or removed.
    Package {
        action: String,
        packages: Vec<PackageVersion>,
    },
    /// Lines a store counted for a service over `seconds` from the event's
    /// time, by its own aggregation: they stand for lines that were not
    /// read (before the window, where a central store holds too much to page).
    Tally {
        lines: u64,
        seconds: u32,
    },
    /// Routine lines of one component read before the window for their
    /// pace alone ([`crate::Want::Pace`]): each line's time and number, in
    /// time order (then line), as the readers' `Paces` hands them on.
    /// One event (at the first of their times) stands for them all: a
    /// baseline hour of routine lines is not an hour of events through the
    /// merge.
    Beats {
        beats: Vec<Beat>,
    },
}

/// One routine line's time and line number ([`Fact::Beats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Beat {
    pub time: Timestamp,
    pub line: u64,
}

/// A package and the versions it went from and to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageVersion {
    pub name: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Where a person can go to check an event.
///
/// File lines are kept structured so that `app.log:9` sorts before `app.log:10`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Locator {
    Line { path: Arc<str>, line: u64 },
    Text(String),
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Locator::Line { path, line } => write!(f, "{path}:{line}"),
            Locator::Text(t) => f.write_str(t),
        }
    }
}

impl Serialize for Locator {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The evidence of an event: a locator, and the raw excerpt it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub locator: Locator,
    /// The source text (lossily decoded, control characters removed, bounded).
    pub excerpt: String,
}

/// One dated fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub time: Timestamp,
    pub basis: TimeBasis,
    /// The kind of source that saw it.
    pub collector: SourceKind,
    /// Service, container, database, alert or repository the event is about.
    pub component: Arc<str>,
    /// The service the component belongs to, where the source says so: a
    /// compose service, a swarm service, a Kubernetes workload, a systemd
    /// unit, an OpenTelemetry `service.name`, a store's service label. The
    /// findings group components by it; without it, by the first segment of
    /// the component's name (a logger's, a log file's).
    pub service: Option<Arc<str>>,
    pub kind: EventKind,
    pub severity: Option<Severity>,
    /// One line a person reads in the table.
    pub summary: String,
    pub evidence: Evidence,
    /// Lines without their own timestamp that belong to this event (stack traces).
    pub continuation_lines: u32,
    /// The structured fact, where the source has one (boxed: most events
    /// are log lines without one, and the merge moves events by value).
    pub fact: Option<Box<Fact>>,
}

impl Event {
    /// The total order of the timeline: time, then collector, component and
    /// locator, so that equal times still come out the same way every run.
    pub fn order(&self, other: &Self) -> Ordering {
        self.time
            .cmp(&other.time)
            .then_with(|| self.collector.cmp(&other.collector))
            .then_with(|| self.component.cmp(&other.component))
            .then_with(|| self.evidence.locator.cmp(&other.evidence.locator))
    }
}

impl Event {
    /// About how many bytes the event holds, for memory budgets.
    pub fn held_bytes(&self) -> usize {
        std::mem::size_of::<Event>()
            .saturating_add(self.summary.len())
            .saturating_add(self.evidence.excerpt.len())
            .saturating_add(match &self.evidence.locator {
                Locator::Text(t) => t.len(),
                Locator::Line { .. } => 0,
            })
    }

    /// The alert state this event records, if it records one.
    pub fn alert_state(&self) -> Option<AlertState> {
        match self.fact.as_deref() {
            Some(Fact::Alert { state, .. }) => Some(*state),
            _ => None,
        }
    }

    /// The container action this event records, if it records one.
    pub fn container_action(&self) -> Option<&ContainerAction> {
        match self.fact.as_deref() {
            Some(Fact::Container { action, .. }) => Some(action),
            _ => None,
        }
    }
}

/// An event with a tie-breaker, ordered by [`Event::order`] then the tie:
/// what heaps of events (the reorder buffer, the merge) hold.
#[derive(Debug)]
pub struct Sequenced {
    pub event: Event,
    pub tie: u64,
}

impl PartialEq for Sequenced {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Sequenced {}
impl PartialOrd for Sequenced {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Sequenced {
    fn cmp(&self, other: &Self) -> Ordering {
        self.event.order(&other.event).then(self.tie.cmp(&other.tie))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_kinds_order_as_their_names() {
        let mut by_name = SourceKind::ALL.to_vec();
        by_name.sort_by_key(|k| k.as_str());
        assert_eq!(by_name, SourceKind::ALL.to_vec());
        let mut by_order = SourceKind::ALL.to_vec();
        by_order.sort();
        assert_eq!(by_order, SourceKind::ALL.to_vec());
    }
}
