//! The incident clock: onset, detection, fix, mitigation and recovery, each
//! an event with its evidence and the rule that chose it, and the durations
//! between them. The rules are written out in [`RULES`], which the report
//! prints under the durations.

use std::collections::HashMap;

use reconstruct_core::{AlertState, ContainerAction, Event, EventKind, Fact, SourceKind, Timestamp};
use serde::Serialize;

use super::{is_error, is_health_green, Cited};
use crate::shape::Cues;

/// How long a steady kind of error must have recurred before the rise to be background.
const BACKGROUND_LEAD_S: i64 = 300;

/// How long requests must go on being served after the last error, at
/// least, for them to show the errors stopped (or five of the errors' own
/// gaps, if longer): served beside errors they show nothing.
const QUIET_AFTER: i64 = 60_000_000_000;

/// Each rule as the report states it.
pub const RULES: [(&str, &str); 5] = [
    (
        "onset",
        "the first error of the rise: a kind of error that recurs at a steady pace (every 5 s or slower) and did so for five minutes before the rise (a retry every 30 s) is background, not the onset",
    ),
    ("detection", "the first firing of the gravest alert at or after the onset; else the first alert that fired"),
    ("fix", "the first change (a commit, a migration, a configuration or package change, a rollout) landed after the onset"),
    (
        "mitigation",
        "the last restart, deploy or rollback after the onset and before the recovery (a service starting with another version than it announced before was deployed, or rolled back to one it ran before)",
    ),
    (
        "recovery",
        "health green after the last error; else a service up again (a database ready to accept connections, a container started); else the first request served after the last error, when requests go on being served without errors for a minute after it (or five of the errors' gaps, if longer); else the detecting alert's resolution",
    ),
];

/// What the durations mean, printed under them.
pub const DURATIONS: [(&str, &str); 4] = [
    ("time to detect", "from the onset to the detection"),
    ("time to mitigate", "from the onset to the mitigation"),
    ("time to recover", "from the onset to the recovery"),
    ("duration", "from the onset to the recovery: the incident's length"),
];

/// One milestone of the clock.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Milestone {
    #[serde(flatten)]
    pub cited: Cited,
    /// Every event it stands for (a restart is a kill and a start).
    pub evidence: Vec<String>,
    /// The rule that chose it, by its name in [`RULES`] and the branch taken.
    pub rule: String,
}

impl Milestone {
    pub fn time(&self) -> Timestamp {
        self.cited.time
    }

    fn of(cited: Cited, rule: String) -> Self {
        Milestone { evidence: vec![cited.evidence.clone()], cited, rule }
    }
}

/// The incident clock.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Clock {
    pub onset: Option<Milestone>,
    pub detection: Option<Milestone>,
    pub fix: Option<Milestone>,
    pub mitigation: Option<Milestone>,
    pub recovery: Option<Milestone>,
    pub time_to_detect_s: Option<i64>,
    pub time_to_mitigate_s: Option<i64>,
    pub time_to_recover_s: Option<i64>,
    pub duration_s: Option<i64>,
    /// What the evidence could not say, and durations refused.
    pub notes: Vec<String>,
}

/// The errors of one kind (a component and its message with the numbers taken out).
#[derive(Clone, Debug)]
pub struct Signature {
    pub first: Cited,
    /// Where its latest occurrence is (its time and evidence).
    pub last: (Timestamp, reconstruct_core::Locator),
    pub collector: SourceKind,
    pub times: Vec<Timestamp>,
    /// Recurs at its usual pace, from before the onset: not the incident.
    pub background: bool,
}

/// The errors and actions the clock was drawn from, for the other findings.
#[derive(Default, Debug)]
pub struct Errors {
    pub signatures: Vec<Signature>,
    pub actions: Vec<super::Action>,
    /// Alerts that fired: when, which, and how grave (4 critical … 0 unlabelled).
    pub fired: Vec<(Cited, String, u8)>,
    /// Containers that died or were OOM-killed and did not start again.
    pub down: Vec<Cited>,
}

/// An alert that fired.
struct Fired {
    cited: Cited,
    name: String,
    gravity: u8,
}

/// What the clock keeps while the events go by.
#[derive(Default)]
pub struct Observed {
    index: HashMap<String, usize>,
    signatures: Vec<Signature>,
    fired: Vec<Fired>,
    resolved: Vec<(Cited, String)>,
    /// The last kill or death of each container, to date a restart from.
    stopped: HashMap<String, Cited>,
    actions: Vec<(super::Action, Vec<String>)>,
    greens: Vec<Cited>,
    ups: Vec<Cited>,
}

/// An error's kind: its component and its message with numbers, hex and
/// quoted values taken out, so a retry's every attempt is one kind.
fn signature(e: &Event) -> String {
    let mut key = format!("{}\u{1f}", e.component);
    let mut last_hash = false;
    for c in e.summary.chars().take(120) {
        if c.is_ascii_digit() || (last_hash && c.is_ascii_hexdigit()) {
            if !last_hash {
                key.push('#');
                last_hash = true;
            }
            continue;
        }
        last_hash = false;
        key.push(c);
    }
    key
}

fn gravity(labels: &std::collections::BTreeMap<String, String>) -> u8 {
    match labels.get("severity").map(|s| s.to_ascii_lowercase()).as_deref() {
        Some("critical" | "page" | "p1" | "emergency") => 4,
        Some("error" | "high" | "major" | "p2") => 3,
        Some("warning" | "warn" | "medium" | "p3") => 2,
        Some(_) => 1,
        None => 0,
    }
}

impl Observed {
    /// `announced`: the version the event announced as its service
    /// started, as the suspects rule read it (a deploy, a rollback or a
    /// restart done in the incident).
    pub fn observe(&mut self, e: &Event, cues: Cues, announced: Option<&super::changes::Announced>) {
        if is_error(e) {
            let key = signature(e);
            let i = *self.index.entry(key).or_insert_with(|| {
                self.signatures.push(Signature {
                    first: Cited::of(e),
                    last: (e.time, e.evidence.locator.clone()),
                    collector: e.collector,
                    times: Vec::new(),
                    background: false,
                });
                self.signatures.len() - 1
            });
            if let Some(s) = self.signatures.get_mut(i) {
                s.times.push(e.time);
                if e.time >= s.last.0 {
                    s.last = (e.time, e.evidence.locator.clone());
                }
            }
        }
        if is_health_green(e) {
            self.greens.push(Cited::of(e));
        }
        match e.fact.as_deref() {
            Some(Fact::Alert { state: AlertState::Firing, labels, name }) => {
                self.fired.push(Fired { cited: Cited::of(e), name: name.clone(), gravity: gravity(labels) });
            }
            Some(Fact::Alert { state: AlertState::Resolved, name, .. }) => {
                self.resolved.push((Cited::of(e), name.clone()))
            }
            Some(Fact::Container { container, action, .. }) => match action {
                ContainerAction::Kill | ContainerAction::Die | ContainerAction::Oom => {
                    self.stopped.entry(container.clone()).or_insert_with(|| Cited::of(e));
                }
                ContainerAction::Start | ContainerAction::Restart => {
                    self.ups.push(Cited::of(e));
                    // A start soon after a stop is one restart, dated from the stop.
                    let stop = self
                        .stopped
                        .remove(container)
                        .filter(|s| e.time.unix_seconds().saturating_sub(s.time.unix_seconds()) <= 120);
                    let already = self.actions.last().is_some_and(|(a, _)| {
                        a.cited.component == *e.component
                            && e.time.unix_seconds().saturating_sub(a.cited.time.unix_seconds()) <= 120
                    });
                    if !already {
                        let start = Cited::of(e);
                        let (cited, evidence) = match stop {
                            Some(s) => {
                                let ev = vec![s.evidence.clone(), start.evidence.clone()];
                                (Cited { summary: format!("container {container} restarted"), ..s }, ev)
                            }
                            None => (start.clone(), vec![start.evidence.clone()]),
                        };
                        self.actions.push((super::Action { cited, action: "restart" }, evidence));
                    }
                }
                _ => {}
            },
            Some(Fact::Rollout { .. }) => {
                let c = Cited::of(e);
                let ev = vec![c.evidence.clone()];
                self.actions.push((super::Action { cited: c, action: "deploy" }, ev));
            }
            _ => {}
        }
        if matches!(e.kind, EventKind::Log | EventKind::StateChange)
            && e.severity.is_none_or(|s| s <= reconstruct_core::Severity::Notice)
            && is_migration_cued(&e.summary, cues)
        {
            let c = Cited::of(e);
            let ev = vec![c.evidence.clone()];
            self.actions.push((super::Action { cited: c, action: "migration" }, ev));
        }
        if let Some(a) = announced {
            // A service that came up with another version than it announced
            // before was deployed (or rolled back to one it ran before);
            // with the same, or none seen to compare, it started again.
            let action = match &a.previous {
                Some(p) if *p != a.version && a.earlier => "rollback",
                Some(p) if *p != a.version => "deploy",
                _ => "restart",
            };
            let c = Cited::of(e);
            // The engine's restart or rollout of its service just before is
            // the same action, seen from the inside: its evidence, added.
            let same = self.actions.last_mut().filter(|(b, _)| {
                b.cited.service == c.service
                    && e.time.unix_seconds().saturating_sub(b.cited.time.unix_seconds()) <= 120
                    && b.action != "migration"
            });
            if let Some((_, ev)) = same {
                ev.push(c.evidence.clone());
            } else {
                let ev = vec![c.evidence.clone()];
                self.actions.push((super::Action { cited: c, action }, ev));
            }
        }
        if e.kind == EventKind::StateChange && e.collector == SourceKind::Postgres {
            let l = e.summary.to_ascii_lowercase();
            if l.contains("ready to accept connections") {
                self.ups.push(Cited::of(e));
            }
        }
        if e.kind == EventKind::Change {
            if let Some(Fact::Commit { subject, .. }) = e.fact.as_deref() {
                if subject.to_ascii_lowercase().starts_with("revert") {
                    let c = Cited::of(e);
                    let ev = vec![c.evidence.clone()];
                    self.actions.push((super::Action { cited: c, action: "rollback" }, ev));
                }
            }
        }
    }

    /// The clock, and the errors it was drawn from.
    pub fn conclude(mut self, changes: &[super::Landed], impact: &super::impact::Observed) -> (Clock, Errors) {
        let mut notes = Vec::new();
        for s in &mut self.signatures {
            s.times.sort();
        }
        // Kinds of error in the order they began. A kind that recurs at a
        // steady pace and ran alone for a while before the next kind began
        // (four times, and five minutes, at least) is background; the first
        // kind that is not begins the incident. One that begins with the
        // incident, or after it, is part of it.
        let mut order: Vec<usize> = (0..self.signatures.len()).collect();
        order.sort_by_key(|i| self.signatures.get(*i).map(|s| s.first.time));
        let mut onset_sig = None;
        for (n, i) in order.iter().enumerate() {
            let Some(s) = self.signatures.get(*i) else { continue };
            let next = order
                .get(n + 1..)
                .unwrap_or_default()
                .iter()
                .filter_map(|j| self.signatures.get(*j))
                .map(|x| x.first.time)
                .find(|t| *t > s.first.time);
            let background = steady(&s.times)
                && next.is_some_and(|at| {
                    let before = s.times.iter().filter(|t| **t < at).count();
                    let lead = at.unix_seconds().saturating_sub(s.first.time.unix_seconds());
                    before >= 4 && lead >= BACKGROUND_LEAD_S
                });
            if background {
                if let Some(s) = self.signatures.get_mut(*i) {
                    s.background = true;
                }
            } else {
                onset_sig = Some(*i);
                break;
            }
        }
        let onset = onset_sig.and_then(|i| self.signatures.get(i)).map(|s| {
            let background = self.signatures.iter().filter(|s| s.background).count();
            let rule = if background > 0 {
                format!("onset: the first error of the rise ({background} steady kind(s) of error before it are background)")
            } else {
                "onset: the first error in the window".to_string()
            };
            Milestone::of(s.first.clone(), rule)
        });
        let Some(onset) = onset else {
            notes.push("no error rises in the window: there is no onset, and so no clock".to_string());
            let errors = Errors { signatures: self.signatures, ..Errors::default() };
            return (Clock::empty(notes), errors);
        };
        let t0 = onset.time();
        // Detection: the gravest alert that fired at or after the onset, first among equals.
        let after: Vec<&Fired> = self.fired.iter().filter(|f| f.cited.time >= t0).collect();
        let detection = match after.iter().map(|f| f.gravity).max() {
            Some(g) => after.iter().find(|f| f.gravity == g).map(|f| {
                Milestone::of(
                    f.cited.clone(),
                    format!("detection: the first firing of the gravest alert after the onset ({})", f.name),
                )
            }),
            None => self.fired.first().map(|f| {
                Milestone::of(
                    f.cited.clone(),
                    format!("detection: the first alert that fired ({}); none fired after the onset", f.name),
                )
            }),
        };
        let detecting_alert = after
            .iter()
            .find(|f| detection.as_ref().is_some_and(|d| d.cited.evidence == f.cited.evidence))
            .map(|f| f.name.clone());
        if detection.is_none() {
            notes.push("not detected by monitoring: no alert fired in the window".to_string());
        }
        let fix = changes
            .iter()
            .filter(|(c, _, _)| c.time >= t0)
            .min_by_key(|(c, _, _)| c.time)
            .map(|(c, _, _)| Milestone::of(c.clone(), "fix: the first change landed after the onset".to_string()));
        // The last error of the incident: background errors go on after it.
        let last_error = self
            .signatures
            .iter()
            .filter(|s| !s.background)
            .filter_map(|s| s.times.last().copied())
            .max()
            .unwrap_or(t0);
        // How often the last error to stop recurred, on average.
        let last_pace = self
            .signatures
            .iter()
            .filter(|s| !s.background && s.times.last() == Some(&last_error))
            .filter_map(|s| {
                let (a, b) = (s.times.first()?, s.times.last()?);
                let n = i64::try_from(s.times.len().checked_sub(1)?).ok().filter(|n| *n > 0)?;
                Some(b.unix_nanos().saturating_sub(a.unix_nanos()) / n)
            })
            .max()
            .unwrap_or(0);
        let after_last = |c: &&Cited| c.time >= last_error;
        let green = self.greens.iter().filter(after_last).min_by_key(|c| c.time).cloned();
        let recovery = if let Some(g) = green {
            // Health green from several sources at once (a log line, the engine) is one recovery.
            let same: Vec<String> = self
                .greens
                .iter()
                .filter(|c| {
                    c.time >= g.time && c.time.unix_nanos().saturating_sub(g.time.unix_nanos()) <= 2_000_000_000
                })
                .map(|c| c.evidence.clone())
                .take(3)
                .collect();
            let mut m = Milestone::of(g, "recovery: health green after the last error".to_string());
            m.evidence = same;
            Some(m)
        } else if let Some(u) = self.ups.iter().filter(after_last).min_by_key(|c| c.time) {
            Some(Milestone::of(u.clone(), "recovery: a service up again after the last error".to_string()))
        } else if let Some(s) = impact.first_success_after(last_error).filter(|_| {
            // Requests served beside errors are no recovery: the errors must
            // be seen to stop, requests served for a while after the last.
            let quiet = QUIET_AFTER.max(last_pace.saturating_mul(5));
            impact.last_success().is_some_and(|l| l.unix_nanos().saturating_sub(last_error.unix_nanos()) >= quiet)
        }) {
            Some(Milestone::of(s, "recovery: the first request served after the last error".to_string()))
        } else {
            detecting_alert.as_ref().and_then(|name| {
                self.resolved
                    .iter()
                    .find(|(c, n)| n == name && c.time >= t0)
                    .map(|(c, n)| Milestone::of(c.clone(), format!("recovery: the detecting alert {n} resolved")))
            })
        };
        if recovery.is_none() {
            notes.push(format!("no recovery in the window: no health check, service start or resolved alert after the last error ({}), and no requests served for a while after it without errors", last_error.hms()));
        }
        let end = recovery.as_ref().map(|r| r.time());
        let mut actions: Vec<(super::Action, Vec<String>)> = self
            .actions
            .into_iter()
            .filter(|(a, _)| a.cited.time >= t0 && end.is_none_or(|e| a.cited.time <= e))
            .collect();
        actions.sort_by_key(|(a, _)| a.cited.time);
        // A migration is part of the fix, not what mitigated it.
        let mitigation = actions.iter().rev().find(|(a, _)| a.action != "migration").map(|(a, ev)| {
            let mut m =
                Milestone::of(a.cited.clone(), format!("mitigation: the last {} before the recovery", a.action));
            m.evidence = ev.clone();
            m
        });
        let mut since = |m: &Option<Milestone>, what: &str| -> Option<i64> {
            let t = m.as_ref()?.time();
            let s = t.unix_seconds().saturating_sub(t0.unix_seconds());
            if s < 0 {
                notes.push(format!(
                    "{what} is refused: its milestone ({}) comes before the onset ({})",
                    t.hms(),
                    t0.hms()
                ));
                None
            } else {
                Some(s)
            }
        };
        let time_to_detect_s = since(&detection, "time to detect");
        let time_to_mitigate_s = since(&mitigation, "time to mitigate");
        let time_to_recover_s = since(&recovery, "time to recover");
        let duration_s = time_to_recover_s;
        let errors = Errors {
            signatures: self.signatures,
            actions: actions.into_iter().map(|(a, _)| a).collect(),
            fired: self.fired.into_iter().map(|f| (f.cited, f.name, f.gravity)).collect(),
            down: {
                // One line a component: its last stop that no start followed.
                let mut by: std::collections::BTreeMap<String, Cited> = std::collections::BTreeMap::new();
                for c in self.stopped.into_values() {
                    let later = self.ups.iter().any(|u| u.component == c.component && u.time > c.time);
                    if !later && by.get(&c.component).is_none_or(|b| b.time < c.time) {
                        by.insert(c.component.clone(), c);
                    }
                }
                by.into_values().collect()
            },
        };
        let clock = Clock {
            onset: Some(onset),
            detection,
            fix,
            mitigation,
            recovery,
            time_to_detect_s,
            time_to_mitigate_s,
            time_to_recover_s,
            duration_s,
            notes,
        };
        (clock, errors)
    }
}

impl Clock {
    fn empty(notes: Vec<String>) -> Self {
        Clock {
            onset: None,
            detection: None,
            fix: None,
            mitigation: None,
            recovery: None,
            time_to_detect_s: None,
            time_to_mitigate_s: None,
            time_to_recover_s: None,
            duration_s: None,
            notes,
        }
    }
}

/// A schema migration applied, as the common tools log it:
/// - Alembic: `Running upgrade 1a2b -> 3c4d, add index`;
/// - Django: `Applying orders.0002_index... OK`;
/// - Rails and Sequelize: `== 20240101 AddIndex: migrating ====`, `… migrated (0.01s)`;
/// - Flyway: `Migrating schema "public" to version "2 - add index"`, `Successfully applied 2 migrations`;
/// - Liquibase: `ChangeSet db/changelog.xml::1::ops ran successfully`;
/// - Laravel: `Migrating: 2024_01_01_add_index`, `Migrated: …`;
/// - Prisma and Entity Framework: `Applying migration '20240101_add_index'`;
/// - Ecto: `== Running 20240101 Shop.Repo.Migrations.AddIndex.change/0 forward`;
/// - Diesel: `Running migration 2024-01-01-add_index`; goose: `successfully migrated database to version: 3`;
/// - TypeORM: `Migration AddIndex1700000000000 has been executed successfully`;
/// - Knex: `Batch 2 run: 1 migrations`.
pub fn is_migration(text: &str) -> bool {
    is_migration_cued(text, Cues::of(text))
}

/// [`is_migration`], given the text's cues (found once for all the rules).
pub fn is_migration_cued(text: &str, cues: Cues) -> bool {
    // Cheap test first: it runs on every line.
    if !cues.has(Cues::MIGRATION) {
        return false;
    }
    let l = text.to_ascii_lowercase();
    let t = l.trim_end().trim_end_matches(['=', ' ', '.']);
    l.contains("running upgrade ")
        || (l.contains("applying ") && (t.ends_with("ok") || l.contains("applying migration")))
        || l.contains("migrating to ")
        || l.contains("migrating schema ")
        || (l.contains("successfully applied") && l.contains("migration"))
        || (l.contains("changeset") && l.contains("ran successfully"))
        // Rails, Sequelize: `== 20240101 AddIndex: migrating ===`, `: migrated (0.01s)`.
        || (l.starts_with("== ") && (t.ends_with(": migrating") || l.contains(": migrated (")))
        || l.starts_with("migrating: ")
        || l.starts_with("migrated: ")
        || (l.contains(".migrations.") && l.contains("running "))
        || l.contains("running migration ")
        || l.contains("migrated database to version")
        || (l.contains("migration ") && l.contains("has been executed successfully"))
        || (l.starts_with("batch ") && l.contains(" run: ") && l.contains("migration"))
}

/// Whether errors recur at a steady pace: at least four, their usual gap
/// five seconds or more, three gaps in four near it, and no minute holding
/// many more than the pace allows (a storm of errors is not a rhythm).
fn steady(times: &[Timestamp]) -> bool {
    if times.len() < 4 {
        return false;
    }
    let mut gaps: Vec<i64> =
        times.windows(2).filter_map(|w| Some(w.get(1)?.unix_nanos().saturating_sub(w.first()?.unix_nanos()))).collect();
    gaps.sort_unstable();
    let Some(&g) = gaps.get(gaps.len() / 2) else { return false };
    const SECOND: i64 = 1_000_000_000;
    if g < 5 * SECOND {
        return false;
    }
    let near = gaps.iter().filter(|x| **x * 2 >= g && **x <= g.saturating_mul(2)).count();
    if near * 4 < gaps.len() * 3 {
        return false;
    }
    let per_minute = (60 * SECOND / g).max(1) as usize;
    let most = times
        .iter()
        .enumerate()
        .map(|(i, t)| times.iter().skip(i).take_while(|u| u.unix_nanos() - t.unix_nanos() < 60 * SECOND).count())
        .max()
        .unwrap_or(0);
    most <= per_minute.saturating_mul(2).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::is_migration;

    #[test]
    fn migrations_as_the_common_tools_log_them() {
        for line in [
            "INFO  [alembic.runtime.migration] Running upgrade 1a2b -> 3c4d, add index",
            "  Applying orders.0002_index... OK",
            "== 20240101120000 AddIndexToOrders: migrating =================================",
            "== 20240101120000 AddIndexToOrders: migrated (0.0123s) ========================",
            "Migrating schema \"public\" to version \"2 - add index\"",
            "Successfully applied 2 migrations to schema \"public\", now at version v2",
            "ChangeSet db/changelog.xml::1::ops ran successfully in 12ms",
            "Migrating: 2024_01_01_000000_add_index_to_orders",
            "Migrated:  2024_01_01_000000_add_index_to_orders (12.3ms)",
            "Applying migration `20240101120000_add_index`",
            "Applying migration '20240101120000_AddIndex'.",
            "[info] == Running 20240101120000 Shop.Repo.Migrations.AddIndex.change/0 forward",
            "Running migration 2024-01-01-120000_add_index",
            "goose: successfully migrated database to version: 3",
            "Migration AddIndex1700000000000 has been executed successfully.",
            "Batch 2 run: 1 migrations",
        ] {
            assert!(is_migration(line), "{line}");
        }
        for line in [
            "upgrade available: 2.1.0",
            "applying backpressure to queue orders",
            "migration failed: relation orders does not exist",
            "config changed by ops",
            "== summary ==",
        ] {
            assert!(!is_migration(line), "{line}");
        }
    }

    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_unix_seconds(1_766_757_600 + s, 0).unwrap()
    }

    #[test]
    fn a_retry_every_thirty_seconds_is_steady_and_a_storm_is_not() {
        let retry: Vec<Timestamp> = (0..40).map(|i| at(i * 30)).collect();
        assert!(steady(&retry));
        let storm: Vec<Timestamp> = (0..200).map(|i| at(600 + i * 3)).collect();
        assert!(!steady(&storm));
        assert!(!steady(&retry[..3]), "three are not yet a rhythm");
    }
}
