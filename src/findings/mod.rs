//! Findings: the post-mortem's questions answered from every event of the
//! window, not only the table's rows. The clock (onset, detection, fix,
//! mitigation, recovery), the impact (operations, users, failed requests),
//! the fix applied and the monitoring gaps. Every finding cites the evidence
//! of the events it was drawn from and names the rule that chose it; where
//! the evidence is missing it says so (`None`, or a note) instead of guessing.

pub mod changes;
pub mod clock;
pub mod impact;
pub mod novelty;
pub mod spread;

use std::collections::BTreeMap;

use reconstruct_core::{AlertState, Event, EventKind, Fact, SourceKind, TimeWindow, Timestamp};
use serde::Serialize;

pub use crate::shape::{is_health_green, root, service};
pub use clock::{Clock, Milestone};
pub use impact::Impact;

/// One event as a finding cites it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Cited {
    #[schemars(with = "String")]
    pub time: Timestamp,
    pub summary: String,
    pub component: String,
    /// The event's evidence, as the timeline prints it.
    pub evidence: String,
    /// The service its event belongs to ([`service`]), for grouping.
    #[serde(skip)]
    #[schemars(skip)]
    pub service: String,
}

impl Cited {
    /// An event cited (the users it names are masked when the findings
    /// are done: [`Findings::mask_users`]).
    pub fn of(e: &Event) -> Self {
        Cited {
            time: e.time,
            summary: clip(&e.summary, 200),
            component: e.component.to_string(),
            evidence: e.evidence.locator.to_string(),
            service: service(e),
        }
    }
}

fn clip(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// What kind of change a commit is, from the paths it touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChangeType {
    Database,
    Config,
    Infrastructure,
    Code,
}

impl ChangeType {
    /// Migrations make a change DATABASE, infrastructure manifests
    /// INFRASTRUCTURE, configuration CONFIG; anything else is CODE. The
    /// gravest kind among the files wins.
    pub fn of_files(files: &[String]) -> Self {
        let kind = |f: &str| {
            let l = f.to_ascii_lowercase();
            let name = l.rsplit('/').next().unwrap_or(&l);
            if l.contains("migration")
                || l.contains("alembic/versions")
                || l.contains("/migrate/")
                || name.ends_with(".sql")
            {
                ChangeType::Database
            } else if l.starts_with("k8s/")
                || l.contains("/k8s/")
                || l.contains("helm/")
                || l.contains("terraform")
                || name.ends_with(".tf")
                || name == "dockerfile"
                || name.starts_with("docker-compose")
                || name.starts_with("compose.")
                || l.starts_with(".github/workflows")
                || l.contains("kustomization")
            {
                ChangeType::Infrastructure
            } else if l.starts_with("config/")
                || l.contains("/config/")
                || name.ends_with(".env")
                || name.ends_with(".ini")
                || name.ends_with(".toml")
                || name.ends_with(".yaml")
                || name.ends_with(".yml")
                || name.ends_with(".conf")
            {
                ChangeType::Config
            } else {
                ChangeType::Code
            }
        };
        let rank = |t: ChangeType| match t {
            ChangeType::Database => 3,
            ChangeType::Infrastructure => 2,
            ChangeType::Config => 1,
            ChangeType::Code => 0,
        };
        files.iter().map(|f| kind(f)).max_by_key(|t| rank(*t)).unwrap_or(ChangeType::Code)
    }
}

/// A change landed during the incident (Phase 5).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Change {
    #[serde(flatten)]
    pub cited: Cited,
    /// The commit, when it is one, and its subject line.
    pub commit: Option<String>,
    pub subject: Option<String>,
    pub files: Vec<String>,
    #[serde(rename = "type")]
    pub change_type: ChangeType,
}

/// An action taken on a running system: a restart, a deploy, a rollback.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Action {
    #[serde(flatten)]
    pub cited: Cited,
    pub action: &'static str,
}

/// Phase 5: what was changed and done during the incident, and what shows it worked.
#[derive(Clone, Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Fix {
    pub changes: Vec<Change>,
    pub actions: Vec<Action>,
    /// The recovery signals after the last error.
    pub verification: Vec<Cited>,
}

/// A data-integrity check's verdict (`[[check]]`), with the command that runs it again.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct CheckFinding {
    pub name: String,
    /// `passed`, `failed`, `error` or `timed_out`.
    pub verdict: String,
    pub value: Option<String>,
    pub expect: String,
    #[serde(flatten)]
    pub cited: Cited,
}

/// A component that failed with no alert firing for it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Gap {
    pub component: String,
    /// Its first error in the incident.
    pub first_error: Cited,
    pub errors: u64,
}

/// A severity the evidence suggests, by the workflow's classification, with why.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Suggested {
    /// CRITICAL, HIGH, MEDIUM or LOW.
    pub level: &'static str,
    pub reasons: Vec<String>,
}

/// Everything the findings stage concluded.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Findings {
    pub clock: Clock,
    pub impact: Impact,
    pub fix: Fix,
    pub monitoring_gaps: Vec<Gap>,
    pub checks: Vec<CheckFinding>,
    /// The services in the order they began to fail (Phase 4).
    pub spread: Vec<spread::Service>,
    /// Warnings that rose before the onset (Phase 4).
    pub precursors: Vec<spread::Precursor>,
    /// Changes before the onset, best suspect first (Phase 4).
    pub suspects: Vec<changes::Suspect>,
    /// Services that went quiet during the incident (Phase 4).
    pub silences: Vec<novelty::Silence>,
    /// Warnings and errors never seen in the baseline (Phase 4).
    pub new_messages: Vec<novelty::NewMessage>,
    /// Warnings and errors seen in the baseline too.
    pub recurring: Vec<novelty::Recurring>,
    /// The baseline they were judged against (`None`: `--baseline off`).
    pub baseline: Option<novelty::Baseline>,
    /// What Phase 4's findings could not say.
    pub notes: Vec<String>,
    pub severity: Suggested,
    /// The components that failed during the incident.
    pub affected: Vec<String>,
    /// Two sentences: the symptom with its counts, then the fix and the recovery, each with its evidence.
    pub summary: Option<String>,
}

/// `report --format json`: the incident's header, the findings, the
/// timeline's rows and the coverage, as one document. Its JSON Schema is
/// [`document_schema`], generated from these types.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Document {
    pub incident: Incident,
    pub findings: Parts,
    /// The rows of the Phase 2 table, as `--format json` writes its events.
    pub timeline: serde_json::Value,
    /// The coverage of each source, as `--format json` writes it.
    pub coverage: serde_json::Value,
}

/// Phase 1, filled from the findings.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Incident {
    pub id: String,
    /// The header's fields as the markdown report writes them (Date/Time, Duration, …).
    pub header: BTreeMap<String, String>,
    pub summary: Option<String>,
    pub severity: Suggested,
    pub affected: Vec<String>,
}

/// The findings proper.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Parts {
    pub clock: Clock,
    pub impact: Impact,
    pub fix: Fix,
    pub checks: Vec<CheckFinding>,
    pub monitoring_gaps: Vec<Gap>,
    pub spread: Vec<spread::Service>,
    pub precursors: Vec<spread::Precursor>,
    pub suspects: Vec<changes::Suspect>,
    pub silences: Vec<novelty::Silence>,
    pub new_messages: Vec<novelty::NewMessage>,
    pub recurring: Vec<novelty::Recurring>,
    pub baseline: Option<novelty::Baseline>,
    /// What Phase 4's findings could not say.
    pub notes: Vec<String>,
}

/// The JSON Schema of [`Document`].
pub fn document_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Document)).unwrap_or_default()
}

impl Findings {
    /// Findings count the users an incident hit, and never show them: every
    /// citation's text has its user names and addresses masked.
    fn mask(&mut self, secrets: bool) {
        let mut cited: Vec<&mut Cited> = Vec::new();
        let k = &mut self.clock;
        for m in [&mut k.onset, &mut k.detection, &mut k.fix, &mut k.mitigation, &mut k.recovery].into_iter().flatten()
        {
            cited.push(&mut m.cited);
        }
        cited.extend(self.impact.operations.iter_mut().filter_map(|o| o.first_failure.as_mut()));
        cited.extend(self.fix.changes.iter_mut().map(|c| &mut c.cited));
        cited.extend(self.fix.actions.iter_mut().map(|a| &mut a.cited));
        cited.extend(self.fix.verification.iter_mut());
        cited.extend(self.monitoring_gaps.iter_mut().map(|g| &mut g.first_error));
        cited.extend(self.checks.iter_mut().map(|c| &mut c.cited));
        for s in &mut self.spread {
            cited.extend(s.first_anomaly.as_mut());
            cited.push(&mut s.first_error);
            cited.push(&mut s.last_error);
        }
        cited.extend(self.precursors.iter_mut().map(|p| &mut p.first));
        for c in cited {
            c.summary = impact::mask_users(&c.summary);
            if secrets {
                crate::redact::string(&mut c.summary);
                crate::redact::string(&mut c.evidence);
            }
        }
        // The texts Phase 4 quotes, and the evidence it names.
        let mut texts: Vec<&mut String> = Vec::new();
        let mut evidence: Vec<&mut String> = Vec::new();
        for s in &mut self.suspects {
            texts.push(&mut s.summary);
            texts.extend(s.reasons.iter_mut());
            evidence.extend(s.evidence.iter_mut());
            if let Some(d) = &mut s.deployed {
                texts.push(&mut d.summary);
                evidence.push(&mut d.evidence);
            }
        }
        for m in &mut self.new_messages {
            texts.push(&mut m.template);
            evidence.push(&mut m.evidence);
        }
        for m in &mut self.recurring {
            texts.push(&mut m.template);
            evidence.push(&mut m.evidence);
        }
        for m in &mut self.silences {
            evidence.extend(m.evidence.iter_mut());
            evidence.push(&mut m.service);
        }
        for t in texts {
            *t = impact::mask_users(t);
            if secrets {
                crate::redact::string(t);
            }
        }
        if secrets {
            // The findings read events as they came (the table masks only
            // the rows it prints): names they quote are masked here too.
            evidence.extend(self.spread.iter_mut().map(|s| &mut s.service));
            evidence.extend(self.impact.operations.iter_mut().map(|o| &mut o.operation));
            for e in evidence {
                crate::redact::string(e);
            }
        }
    }
}

/// A change as it landed: the event, its commit and subject when it is one, its files.
pub type Landed = (Cited, Option<(String, String)>, Vec<String>);

/// The findings stage: it sees every event of the window as the merge
/// hands it over, keeps what the rules need (compactly: a busy log's errors
/// are times, not events), and concludes at the end.
#[derive(Default)]
pub struct Observer {
    /// Mask secrets in what the findings quote (unless `--no-redact`).
    redact: bool,
    spread: spread::Observed,
    /// Where the window begins: a precursor must be seen rising within it.
    since: Option<Timestamp>,
    /// Changes from this time on may be suspects.
    lookback_from: Option<Timestamp>,
    changes_seen: changes::Observed,
    novelty: Option<novelty::Observed>,
    /// Calls between services (caller, callee), from traces.
    calls: Vec<(String, String)>,
    clock: clock::Observed,
    impact: impact::Observed,
    /// Firing alerts by component root, and by the collector they watch.
    alerted: Vec<(String, Vec<String>)>,
    changes: Vec<Landed>,
    checks: Vec<CheckFinding>,
}

impl Observer {
    /// An observer; `redact`: mask secrets in what the findings quote, as
    /// the events they come from may not have been masked yet.
    /// `lookback_from`: where changes may be suspects from; `baseline`: the
    /// span before the window whose messages are the usual ones.
    pub fn new(redact: bool, window: TimeWindow, lookback_from: Timestamp, baseline: Option<TimeWindow>) -> Self {
        Observer {
            redact,
            since: Some(window.since),
            lookback_from: Some(lookback_from),
            spread: spread::Observed::with_baseline(baseline.map(|b| b.since)),
            novelty: Some(novelty::Observed::new(baseline, window.until).masking(redact)),
            ..Observer::default()
        }
    }

    /// An event read before the window (the lookback and the baseline):
    /// the changes and the usual messages, never the incident.
    /// The novelty takes a run of beats' times out of it.
    pub fn observe_before(&mut self, e: &mut Event) {
        self.call(e);
        self.spread.observe_before(e);
        self.changes_seen.observe(e, cues(e));
        if let Some(n) = &mut self.novelty {
            n.before(e);
        }
    }

    /// An event of the window; returns how many times the baseline holds
    /// its message, when it does.
    /// A call between services, as a trace records it.
    fn call(&mut self, e: &Event) {
        if let Some(Fact::Call { caller, callee, .. }) = e.fact.as_deref() {
            let pair = (caller.to_ascii_lowercase(), callee.to_ascii_lowercase());
            if !self.calls.contains(&pair) {
                self.calls.push(pair);
            }
        }
    }

    pub fn observe(&mut self, e: &Event) -> Option<u64> {
        self.call(e);
        let cues = cues(e);
        let announced = self.changes_seen.observe(e, cues);
        if is_error(e) {
            self.changes_seen.error(e);
        }
        let seen = self.novelty.as_mut().and_then(|n| n.observe(e));
        self.clock.observe(e, cues, announced.as_ref());
        self.impact.observe(e);
        self.spread.observe(e);
        if let Some(Fact::Alert { state: AlertState::Firing, labels, .. }) = e.fact.as_deref() {
            let mut names: Vec<String> = labels
                .iter()
                .filter(|(k, _)| {
                    ["job", "service", "app", "container", "pod", "instance", "component"].contains(&k.as_str())
                })
                .flat_map(|(_, v)| crate::shape::names_of(v))
                .collect();
            names.push(service(e));
            self.alerted.push((service(e), names));
        }
        if let Some(Fact::Check { name, verdict, value, expect }) = e.fact.as_deref() {
            self.checks.push(CheckFinding {
                name: name.clone(),
                verdict: verdict.clone(),
                value: value.clone(),
                expect: expect.clone(),
                cited: Cited::of(e),
            });
        }
        if e.kind == EventKind::Change {
            let (commit, files) = match e.fact.as_deref() {
                Some(Fact::Commit { hash, files, subject, .. }) => {
                    (Some((hash.chars().take(7).collect(), subject.clone())), files.clone())
                }
                _ => (None, Vec::new()),
            };
            self.changes.push((Cited::of(e), commit, files));
        }
        seen
    }

    pub fn finish(self) -> Findings {
        let Observer {
            redact,
            clock,
            impact,
            alerted,
            changes,
            checks,
            spread,
            since,
            lookback_from,
            changes_seen,
            novelty,
            calls,
        } = self;
        let (clock, errors) = clock.conclude(&changes, &impact);
        let span_end = clock.recovery.as_ref().map(|m| m.time());
        let span = clock.onset.as_ref().map(|m| (m.time(), span_end));
        let impact = impact.conclude(span, &errors);
        let in_span = |t: Timestamp| span.is_some_and(|(a, b)| t >= a && b.is_none_or(|b| t <= b));
        let changes: Vec<Change> = changes
            .into_iter()
            .filter(|(c, _, _)| in_span(c.time))
            .map(|(cited, commit, files)| {
                let (commit, subject) = commit.map_or((None, None), |(h, s)| (Some(h), Some(s)));
                Change { change_type: ChangeType::of_files(&files), cited, commit, subject, files }
            })
            .collect();
        let fix = Fix {
            changes,
            actions: errors.actions.clone(),
            verification: clock.recovery.iter().map(|m| m.cited.clone()).collect(),
        };
        let monitoring_gaps = gaps(&errors, span, &alerted);
        let onset = clock.onset.as_ref().map(|m| m.time());
        let (spread, precursors) = spread.conclude(&errors, onset, since.unwrap_or(Timestamp::MIN));
        let (suspects, mut notes) =
            changes_seen.conclude(onset, lookback_from.or(since).unwrap_or(Timestamp::MIN), &spread, &calls);
        let (new_messages, recurring, silences, baseline) = match novelty {
            Some(n) => n.conclude(span),
            None => Default::default(),
        };
        match &baseline {
            None => notes.push("no baseline (--baseline off): no message is called new".to_string()),
            Some(b) if b.events == 0 => notes.push(format!(
                "the baseline ({} to {}) holds no events: no message is called new",
                b.since.map(Timestamp::rfc3339).unwrap_or_default(),
                b.until.map(Timestamp::rfc3339).unwrap_or_default()
            )),
            Some(b) if !b.unseen_services.is_empty() => notes.push(format!(
                "no events of {} in the baseline: their messages are not called new",
                b.unseen_services.join(", ")
            )),
            Some(_) => {}
        }
        let mut f = Findings {
            suspects,
            silences,
            new_messages,
            recurring,
            baseline,
            notes,
            clock,
            impact,
            fix,
            monitoring_gaps,
            checks,
            spread,
            precursors,
            severity: Suggested { level: "LOW", reasons: Vec::new() },
            affected: Vec::new(),
            summary: None,
        };
        f.mask(redact);
        let mut severity = severity(&errors, &f.impact, span);
        let mut affected = affected(&errors, span);
        if redact {
            // Their reasons quote an error's text, an alert's evidence.
            for t in severity.reasons.iter_mut().chain(affected.iter_mut()) {
                crate::redact::string(t);
            }
        }
        let summary = summary(&f.clock, &f.impact, &f.fix, &affected);
        Findings { severity, affected, summary, ..f }
    }
}

fn within(t: Timestamp, span: Option<(Timestamp, Option<Timestamp>)>) -> bool {
    span.is_some_and(|(a, b)| t >= a && b.is_none_or(|b| t <= b))
}

/// The components with errors in the incident (background ones aside).
fn affected(errors: &clock::Errors, span: Option<(Timestamp, Option<Timestamp>)>) -> Vec<String> {
    let mut v: Vec<String> = errors
        .signatures
        .iter()
        .filter(|s| !s.background && s.times.iter().any(|t| within(*t, span)))
        .map(|s| s.first.component.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The workflow's classification, from the evidence: CRITICAL for a critical
/// alert, a service left down or a data-loss signal; HIGH when an operation
/// failed for half its requests or more; MEDIUM for errors short of that;
/// LOW otherwise.
fn severity(errors: &clock::Errors, impact: &Impact, span: Option<(Timestamp, Option<Timestamp>)>) -> Suggested {
    let mut critical = Vec::new();
    for (c, name, g) in &errors.fired {
        if *g >= 4 && within(c.time, span) {
            critical.push(format!("critical alert {name} fired at {} ({})", c.time.hms(), c.evidence));
        }
    }
    for c in &errors.down {
        critical.push(format!(
            "{} went down at {} and did not start again (`{}`)",
            c.component,
            c.time.hms(),
            c.evidence
        ));
    }
    for s in errors.signatures.iter().filter(|s| !s.background) {
        let l = s.first.summary.to_ascii_lowercase();
        if l.contains("data loss") || l.contains("corrupt") {
            critical.push(format!(
                "a data-loss signal: {} ({})",
                impact::mask_users(&s.first.summary),
                s.first.evidence
            ));
        }
    }
    if !critical.is_empty() {
        return Suggested { level: "CRITICAL", reasons: critical };
    }
    let high: Vec<String> = impact
        .operations
        .iter()
        .filter(|o| o.failed > 0 && o.failed.saturating_mul(2) >= o.failed.saturating_add(o.succeeded))
        .map(|o| format!("{}: {} of {} failed", o.operation, o.failed, o.failed.saturating_add(o.succeeded)))
        .collect();
    if !high.is_empty() {
        return Suggested { level: "HIGH", reasons: high };
    }
    let errors_in: u64 = errors
        .signatures
        .iter()
        .filter(|s| !s.background)
        .map(|s| s.times.iter().filter(|t| within(**t, span)).count() as u64)
        .sum();
    if errors_in > 0 {
        return Suggested {
            level: "MEDIUM",
            reasons: vec![format!("{errors_in} errors, no operation failing for half its requests")],
        };
    }
    Suggested { level: "LOW", reasons: vec!["no error rose in the window".to_string()] }
}

fn since(a: Timestamp, b: Timestamp) -> String {
    let s = b.unix_seconds().saturating_sub(a.unix_seconds()).max(0);
    match s {
        0..=119 => format!("{s}s"),
        _ if s < 7200 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The summary draft: the symptom with its counts, then the fix and the
/// recovery, each naming its evidence; `None` without an onset.
fn summary(clock: &Clock, impact: &Impact, fix: &Fix, affected: &[String]) -> Option<String> {
    let onset = clock.onset.as_ref()?;
    // A request's failures say the symptom best; a tool's or job's next.
    let failing = |http: bool| {
        impact
            .operations
            .iter()
            .find(|o| o.failed > 0 && o.operation.starts_with(|c: char| c.is_ascii_uppercase()) == http)
    };
    let symptom = match failing(true).map(|o| (o, "requests")).or_else(|| failing(false).map(|o| (o, "runs"))) {
        Some((o, what)) => format!(
            "{} failed for {} of {} {what} from {} (`{}`)",
            o.operation,
            o.failed,
            o.failed.saturating_add(o.succeeded),
            onset.time().hms(),
            onset.cited.evidence
        ),
        None => {
            format!("{} logged errors from {} (`{}`)", affected.join(", "), onset.time().hms(), onset.cited.evidence)
        }
    };
    let detected = match &clock.detection {
        Some(d) => format!(", detected {} later by monitoring (`{}`)", since(onset.time(), d.time()), d.cited.evidence),
        None => ", and no alert fired".to_string(),
    };
    let mut second = Vec::new();
    if let Some(c) = fix.changes.first() {
        let what = c.commit.as_ref().map_or(c.cited.summary.clone(), |h| format!("commit {h}"));
        second.push(format!("{what} landed at {} (`{}`)", c.cited.time.hms(), c.cited.evidence));
    }
    if let Some(m) = &clock.mitigation {
        second.push(format!("{} at {} (`{}`)", m.cited.summary, m.time().hms(), m.cited.evidence));
    }
    match &clock.recovery {
        Some(r) => {
            second.push(format!("it recovered at {}: {} (`{}`)", r.time().hms(), r.cited.summary, r.cited.evidence))
        }
        None => second.push("no recovery shows in the window".to_string()),
    }
    Some(format!("{symptom}{detected}. {}.", capitalise(&second.join("; "))))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Components with errors in the incident and no alert firing for them: a
/// monitoring gap. An alert covers a component it names (its own component
/// or a label: job, service, app, container, pod), or every component of
/// the kind of source it watches (a PostgreSQL alert covers the server's log).
fn gaps(
    errors: &clock::Errors,
    span: Option<(Timestamp, Option<Timestamp>)>,
    alerted: &[(String, Vec<String>)],
) -> Vec<Gap> {
    let Some((from, to)) = span else { return Vec::new() };
    let mut by_component: BTreeMap<String, (Cited, u64, SourceKind)> = BTreeMap::new();
    for s in errors.signatures.iter().filter(|s| !s.background) {
        let n = s.times.iter().filter(|t| **t >= from && to.is_none_or(|to| **t <= to)).count() as u64;
        if n == 0 {
            continue;
        }
        let entry = by_component.entry(s.first.component.clone()).or_insert((s.first.clone(), 0, s.collector));
        if s.first.time < entry.0.time {
            entry.0 = s.first.clone();
        }
        entry.1 = entry.1.saturating_add(n);
    }
    by_component
        .into_iter()
        .filter(|(_, (first, _, collector))| {
            let r = &first.service;
            !alerted.iter().any(|(_, names)| names.iter().any(|n| n == r || *n == collector.as_str()))
        })
        .map(|(component, (first_error, errors, _))| Gap { component, first_error, errors })
        .collect()
}

/// The cues of a line the change rules read (a routine log line: a
/// migration applied, a version announced), found once for them all; none
/// for the other events, which those rules do not read.
fn cues(e: &Event) -> crate::shape::Cues {
    if matches!(e.kind, EventKind::Log | EventKind::StateChange)
        && e.severity.is_none_or(|s| s <= reconstruct_core::Severity::Notice)
    {
        crate::shape::Cues::of(&e.summary)
    } else {
        crate::shape::Cues::default()
    }
}

/// Whether an event is an error: a firing alert, or an event of severity error or graver.
pub fn is_error(e: &Event) -> bool {
    match e.kind {
        EventKind::Alert | EventKind::Change | EventKind::Annotation => false,
        _ => e.severity.is_some_and(|s| s >= reconstruct_core::Severity::Error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_types_come_from_the_paths() {
        let f = |v: &[&str]| ChangeType::of_files(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            f(&["backend/alembic/versions/20251220_add_indexes.py", "backend/app/models.py"]),
            ChangeType::Database
        );
        assert_eq!(f(&["deploy/k8s/payments.yaml"]), ChangeType::Infrastructure);
        assert_eq!(f(&["config/app.toml"]), ChangeType::Config);
        assert_eq!(f(&["src/main.rs"]), ChangeType::Code);
        assert_eq!(f(&[]), ChangeType::Code);
    }

    #[test]
    fn roots_of_component_names() {
        assert_eq!(root("backend.api"), "backend");
        assert_eq!(root("scheduling_backend_1"), "scheduling_backend");
        assert_eq!(root("mcp-server"), "mcp-server");
        assert_eq!(root("nginx/error"), "nginx");
    }
}
