//! The event: one dated fact about the system, with the evidence that proves it.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
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
        self.rfc3339_text().as_str().to_string()
    }

    /// The text of [`Timestamp::rfc3339`], on the stack: the exports write
    /// one for every event. The same text as chrono's
    /// `to_rfc3339_opts(SecondsFormat::AutoSi, true)`: 0, 3, 6 or 9
    /// fraction digits, as few as the value needs.
    pub fn rfc3339_text(self) -> Rfc3339 {
        thread_local! {
            /// The last second written, and its text: the events of an
            /// export come in time order, many to a second.
            static SECOND: std::cell::Cell<(i64, [u8; 19])> = const { std::cell::Cell::new((i64::MIN, [0; 19])) };
        }
        let secs = self.unix_seconds();
        let mut t = Rfc3339 { buf: [0; RFC3339_MAX], len: 0 };
        let (last, text) = SECOND.with(std::cell::Cell::get);
        if last == secs {
            // Copied as one piece of known size (a byte at a time, each
            // with its bound checked, was most of the text's cost).
            if let Some(head) = t.buf.get_mut(..19) {
                head.copy_from_slice(&text);
                t.len = 19;
            }
        } else {
            // An i64 of nanoseconds spans the years 1677 to 2262: the
            // numbers below stay small, and the year has four digits.
            let (year, month, day) = civil(secs.div_euclid(86_400));
            let of_day = secs.rem_euclid(86_400);
            t.digits(year, 4);
            for (sep, n) in
                [(b'-', month), (b'-', day), (b'T', of_day / 3600), (b':', of_day / 60 % 60), (b':', of_day % 60)]
            {
                t.push(sep);
                t.digits(n, 2);
            }
            let mut text = [0u8; 19];
            text.copy_from_slice(t.buf.get(..19).unwrap_or(&[0; 19]));
            SECOND.with(|c| c.set((secs, text)));
        }
        let (frac, width) = match self.subsec_nanos() {
            0 => (0, 0),
            n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
            n if n % 1_000 == 0 => (n / 1_000, 6),
            n => (n, 9),
        };
        if width > 0 {
            t.push(b'.');
            t.digits(i64::from(frac), width);
        }
        t.push(b'Z');
        t
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

/// Room for the longest RFC 3339 text a [`Timestamp`] has:
/// `2262-04-11T23:47:16.854775807Z`.
const RFC3339_MAX: usize = 30;

/// An RFC 3339 text on the stack ([`Timestamp::rfc3339_text`]).
pub struct Rfc3339 {
    buf: [u8; RFC3339_MAX],
    len: usize,
}

impl Rfc3339 {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The text's bytes, for writers of bytes: spared the check that they
    /// are UTF-8, which is a third of the text's cost.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// `n` in `width` digits, zero-padded (its low digits if it has more),
    /// written from the last: each step divides by a constant ten.
    fn digits(&mut self, n: i64, width: usize) {
        let mut n = n.unsigned_abs();
        let end = self.len.saturating_add(width).min(RFC3339_MAX);
        for slot in self.buf.get_mut(self.len..end).unwrap_or_default().iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.len = end;
    }
}

/// Year, month and day of a count of days since 1970-01-01, in the
/// proleptic Gregorian calendar (H. Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe.saturating_add(era.saturating_mul(400)) + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rfc3339_text().as_str())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.rfc3339_text().as_str())
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
    /// The name the JSON formats write (serde's).
    pub fn as_str(self) -> &'static str {
        match self {
            TimeBasis::Explicit => "explicit",
            TimeBasis::Epoch => "epoch",
            TimeBasis::AssumedZone => "assumed_zone",
            TimeBasis::InferredYear => "inferred_year",
            TimeBasis::InferredDate => "inferred_date",
        }
    }

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
    fn each_kinds_name_is_the_one_serde_writes() {
        // The line formats write these names without serde.
        let json = |v: serde_json::Value| v.as_str().map(String::from);
        for k in SourceKind::ALL {
            assert_eq!(json(serde_json::json!(k)).as_deref(), Some(k.as_str()));
        }
        use EventKind as K;
        for k in [K::Log, K::StateChange, K::Change, K::Lifecycle, K::Database, K::Alert, K::Annotation] {
            assert_eq!(json(serde_json::json!(k)).as_deref(), Some(k.as_str()));
        }
        use Severity as S;
        for k in [S::Debug, S::Info, S::Notice, S::Warning, S::Error, S::Critical] {
            assert_eq!(json(serde_json::json!(k)).as_deref(), Some(k.as_str()));
        }
        use TimeBasis as B;
        for k in [B::Explicit, B::Epoch, B::AssumedZone, B::InferredYear, B::InferredDate] {
            assert_eq!(json(serde_json::json!(k)).as_deref(), Some(k.as_str()));
        }
    }

    #[test]
    fn source_kinds_order_as_their_names() {
        let mut by_name = SourceKind::ALL.to_vec();
        by_name.sort_by_key(|k| k.as_str());
        assert_eq!(by_name, SourceKind::ALL.to_vec());
        let mut by_order = SourceKind::ALL.to_vec();
        by_order.sort();
        assert_eq!(by_order, SourceKind::ALL.to_vec());
    }

    #[test]
    fn rfc3339_text_is_chrono_s_for_every_instant_an_i64_holds() {
        let chrono_text = |t: Timestamp| t.to_datetime().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let mut cases = vec![i64::MIN, i64::MIN + 1, -1, 0, 1, 999_999_999, 1_000_000_000, i64::MAX - 1, i64::MAX];
        // Days around every leap rule (1700, 1900, 2000, 2100, 2200, 2024),
        // each with every fraction width.
        for day in [
            "1700-02-28",
            "1700-03-01",
            "1900-02-28",
            "1900-03-01",
            "2000-02-29",
            "2000-03-01",
            "2024-02-29",
            "2100-03-01",
            "2200-12-31",
        ] {
            let Ok(d) = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") else { panic!("{day}") };
            let Some(at) = d.and_hms_opt(23, 59, 59) else { panic!("{day}") };
            let secs = at.and_utc().timestamp();
            for nanos in [0, 5_000_000, 123_000, 7, 999_999_999] {
                cases.push(secs * 1_000_000_000 + nanos);
            }
        }
        // And a spread of instants across the range.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push(x as i64);
            cases.push((x as i64) / 1_000_000 * 1_000_000);
            cases.push((x as i64) / 1_000_000_000 * 1_000_000_000);
        }
        for n in cases {
            let t = Timestamp::from_unix_nanos(n);
            assert_eq!(t.rfc3339_text().as_str(), chrono_text(t), "{n}");
            assert_eq!(t.rfc3339(), chrono_text(t), "{n}");
        }
    }
}
