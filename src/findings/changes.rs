//! What changed before it broke: the changes of the lookback and of the
//! window before the onset (commits, deploys, versions announced at
//! startup, restarts, migrations, package changes), each commit linked to
//! the deploy that carried it, ranked as suspects with the reasons for
//! each rank. A change after the onset is never a suspect.

use std::collections::BTreeSet;

use reconstruct_core::{ContainerAction, Event, EventKind, Fact, Severity, Timestamp};
use serde::Serialize;

use super::spread::Service;
use super::{root, service, Cited};
use crate::shape::Cues;

/// How many suspects the findings keep.
const KEPT: usize = 10;

/// What kind of change a suspect is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Commit,
    /// A new image or revision went out (a container recreated with another
    /// image, a swarm service update, a Kubernetes rollout).
    Deploy,
    /// A service announced a new version as it started.
    Version,
    Restart,
    Migration,
    Package,
    /// Another change a source recorded as one.
    Other,
}

/// Where a commit went out.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Deployed {
    #[schemars(with = "String")]
    pub time: Timestamp,
    pub service: String,
    /// What carried the commit: its tag's version or its short sha.
    pub how: String,
    /// The deploy, startup line or image that carried it.
    pub summary: String,
    pub evidence: String,
}

/// A change before the onset, ranked.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Suspect {
    pub rank: u32,
    #[schemars(with = "String")]
    pub time: Timestamp,
    pub kind: Kind,
    pub component: String,
    pub summary: String,
    /// The change's own evidence first, then what it absorbed (the restart of its deploy).
    pub evidence: Vec<String>,
    /// A commit's short sha.
    pub commit: Option<String>,
    /// For a commit: where and when it went out; `None`: merged, no deploy seen.
    pub deployed: Option<Deployed>,
    /// Whether it reached the running system before the onset (a deployed
    /// commit, a deploy, a new version, a migration): only such a change is
    /// marked in the table.
    pub reached: bool,
    /// Why it ranks where it does, each with its weight's sign.
    pub reasons: Vec<String>,
    /// The sum of the reasons' weights, by which suspects are ordered.
    pub score: i32,
    /// The change's own event, for its row in the table.
    #[serde(skip)]
    pub event: Option<Box<Event>>,
}

/// A change as it was seen.
#[derive(Clone, Debug)]
struct Candidate {
    cited: Cited,
    kind: Kind,
    /// The service it changed (none for a commit: a repository is not one).
    service: Option<String>,
    /// Versions it carries: a commit's tags, an image's tag, a version announced.
    versions: Vec<String>,
    /// For a version announced: the one the service announced before it, if seen.
    previous: Option<String>,
    /// What a short sha may be found in (a deploy's images, a startup line), lowercased.
    text: String,
    hash: Option<String>,
    subject: Option<String>,
    files: Vec<String>,
    merge: bool,
    /// Evidence of what it absorbed.
    also: Vec<String>,
    event: Box<Event>,
}

/// A version a service announced as it started: to the clock, a deploy, a
/// rollback (a version it ran before) or a restart (the same again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announced {
    pub version: String,
    /// The version it announced before this one, when one was seen.
    pub previous: Option<String>,
    /// It announced this version before, then another: going back.
    pub earlier: bool,
}

/// What the suspects rule keeps while the events go by.
#[derive(Default)]
pub struct Observed {
    candidates: Vec<Candidate>,
    /// The last version each service announced, to tell a new one from a restart.
    announced: std::collections::HashMap<String, String>,
    /// Every version each service announced, to tell a rollback.
    versions_seen: std::collections::HashMap<String, Vec<String>>,
    /// Source file names named by the incident's errors (stack traces).
    traced: BTreeSet<String>,
}

/// A version as a deploy, a tag or a startup line writes it: `v2.14.0` is `2.14.0`.
fn normal(v: &str) -> String {
    v.trim_start_matches(['v', 'V']).to_ascii_lowercase()
}

/// The versions a tag names: itself, and the version at its end
/// (`catalog-3.4.1`, `payments/v1.8.3` and `api@2.0.1` name `3.4.1`, `1.8.3`, `2.0.1`).
fn tag_versions(tag: &str) -> Vec<String> {
    let mut v = vec![normal(tag)];
    let tail = tag.rsplit(['/', '@']).next().unwrap_or(tag);
    let tail = tail.find(|c: char| c.is_ascii_digit()).map_or(tail, |i| {
        let head = tail.get(..i).unwrap_or_default();
        if head.ends_with('-') || head.ends_with('_') || head.ends_with("-v") {
            tail.get(i..).unwrap_or(tail)
        } else {
            tail
        }
    });
    if is_version(tail) && normal(tail) != normal(tag) {
        v.push(normal(tail));
    }
    v
}

/// Whether a token is a version: digits and dots (two or three parts),
/// with an optional `v` and a suffix (`1.8.3`, `v2.14.0`, `2.1.0-rc1`);
/// an address (four numeric parts) is not.
fn is_version(tok: &str) -> bool {
    let t = tok.trim_start_matches(['v', 'V']);
    let core = t.split(['-', '+']).next().unwrap_or(t);
    let parts: Vec<&str> = core.split('.').collect();
    (2..=3).contains(&parts.len())
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The version a log line announces: `version=2.14.0`, `version: 2.14.0`,
/// `"version":"2.14.0"`, or a version token on a line that says the
/// service is starting (`starting payments 1.8.3`, `payments v1.8.3 started`).
pub fn announced(text: &str) -> Option<String> {
    announced_cued(text, Cues::of(text))
}

/// [`announced`], given the text's cues (found once for all the rules).
pub fn announced_cued(text: &str, cues: Cues) -> Option<String> {
    // Cheap test first: it runs on every routine line of the reach.
    if !cues.has(Cues::VERSION) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let token = |s: &str| -> Option<String> {
        let s = s.trim_start_matches(['=', ':', ' ', '"', '\'']);
        let end =
            s.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))).unwrap_or(s.len());
        let tok = s.get(..end)?.trim_end_matches('.');
        (is_version(tok) || (tok.len() >= 5 && tok.chars().any(|c| c.is_ascii_digit()) && tok.contains('.')))
            .then(|| tok.to_string())
    };
    for (i, _) in lower.match_indices("version") {
        let rest = lower.get(i + "version".len()..).unwrap_or_default();
        // `version=`, `version:`, `version 2.1`, `"version":"2.1"`; not `versions` or `versioned`.
        let rest = rest.trim_start_matches('"');
        if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        if let Some(v) = token(rest) {
            return Some(v);
        }
    }
    let starting =
        ["starting", "started", "startup", "booting", "boot ", "listening"].iter().any(|w| lower.contains(w));
    if starting {
        return lower
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '[' | ']' | '"' | '\''))
            .map(|t| t.trim_end_matches('.'))
            .find(|t| is_version(t))
            .map(str::to_string);
    }
    None
}

/// The tag of an image reference (`registry:5000/shop/api:2.14.0` → `2.14.0`); none for `latest` or a digest.
fn image_tag(image: &str) -> Option<String> {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    let (_, tag) = last.split_once(':')?;
    (tag != "latest" && !tag.is_empty()).then(|| tag.to_string())
}

/// Source file names in an error's text (a stack trace's frames).
fn source_files(text: &str, into: &mut BTreeSet<String>) {
    const EXT: [&str; 12] = [".py", ".rs", ".go", ".java", ".js", ".ts", ".rb", ".php", ".cs", ".kt", ".scala", ".ex"];
    if into.len() >= 500 || !EXT.iter().any(|e| text.contains(e)) {
        return;
    }
    for tok in text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '(' | ')' | ',' | '`')) {
        let path = tok.split(':').next().unwrap_or(tok);
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        if EXT.iter().any(|e| name.len() > e.len() && name.ends_with(e)) {
            into.insert(name.to_string());
        }
    }
}

/// A routine commit: a conventional `docs:`, `test:`, `chore:`, `ci:`,
/// `style:` or `build:` subject, or files that are all documentation or tests.
fn routine(subject: &str, files: &[String]) -> Option<String> {
    let l = subject.to_ascii_lowercase();
    let prefix = l.split([':', '(', '!']).next().unwrap_or_default().trim();
    if ["docs", "doc", "test", "tests", "chore", "ci", "style", "build"].contains(&prefix) && l.contains(':') {
        return Some(format!("a routine change ({prefix}:)"));
    }
    let doc = |f: &String| {
        let l = f.to_ascii_lowercase();
        l.ends_with(".md")
            || l.ends_with(".rst")
            || l.ends_with(".txt")
            || l.starts_with("docs/")
            || l.contains("/docs/")
            || l.contains("test")
    };
    (!files.is_empty() && files.iter().all(doc)).then(|| "only documentation or tests changed".to_string())
}

impl Observed {
    /// An error of the incident: the source files its stack trace names.
    pub fn error(&mut self, e: &Event) {
        source_files(&e.summary, &mut self.traced);
        source_files(&e.evidence.excerpt, &mut self.traced);
    }

    /// Any event of the reach or the window.
    /// Takes one event; returns the version it announced, if it is a
    /// service's startup line that names one.
    pub fn observe(&mut self, e: &Event, cues: Cues) -> Option<Announced> {
        let mut announced_now = None;
        let candidate = |kind: Kind, service: Option<String>| Candidate {
            cited: Cited::of(e),
            kind,
            service,
            versions: Vec::new(),
            previous: None,
            text: String::new(),
            hash: None,
            subject: None,
            files: Vec::new(),
            merge: false,
            also: Vec::new(),
            event: Box::new(e.clone()),
        };
        let c = match e.fact.as_deref() {
            Some(Fact::Commit { hash, tags, merge, subject, files }) => Some(Candidate {
                versions: tags.iter().flat_map(|t| tag_versions(t)).collect(),
                hash: Some(hash.to_ascii_lowercase()),
                subject: Some(subject.clone()),
                files: files.clone(),
                merge: *merge,
                ..candidate(Kind::Commit, None)
            }),
            Some(Fact::Rollout { workload, images, revision }) => Some(Candidate {
                versions: images.iter().filter_map(|i| image_tag(i)).map(|t| normal(&t)).collect(),
                text: format!("{} {}", images.join(" "), revision.as_deref().unwrap_or_default()).to_ascii_lowercase(),
                ..candidate(Kind::Deploy, Some(e.service.as_ref().map_or_else(|| root(workload), |_| service(e))))
            }),
            Some(Fact::Container { action: ContainerAction::Start | ContainerAction::Restart, .. }) => {
                Some(candidate(Kind::Restart, Some(service(e))))
            }
            Some(Fact::Package { .. }) => Some(candidate(Kind::Package, Some(service(e)))),
            Some(_) => None,
            None if e.kind == EventKind::Change => Some(candidate(Kind::Other, Some(service(e)))),
            None if matches!(e.kind, EventKind::Log | EventKind::StateChange)
                && e.severity.is_none_or(|s| s <= Severity::Notice) =>
            {
                if super::clock::is_migration_cued(&e.summary, cues) {
                    Some(candidate(Kind::Migration, Some(service(e))))
                } else if let Some(v) = announced_cued(&e.summary, cues) {
                    let service = service(e);
                    let before = self.announced.insert(service.clone(), normal(&v));
                    let seen = self.versions_seen.entry(service.clone()).or_default();
                    let earlier = seen.contains(&normal(&v)) && before.as_deref() != Some(normal(&v).as_str());
                    if !seen.contains(&normal(&v)) && seen.len() < 100 {
                        seen.push(normal(&v));
                    }
                    announced_now = Some(Announced { version: normal(&v), previous: before.clone(), earlier });
                    // The same version again is the service starting again, not a new one.
                    let kind =
                        if before.as_deref() == Some(normal(&v).as_str()) { Kind::Restart } else { Kind::Version };
                    Some(Candidate {
                        previous: before,
                        versions: vec![normal(&v)],
                        text: e.summary.to_ascii_lowercase(),
                        ..candidate(kind, Some(service))
                    })
                } else {
                    None
                }
            }
            None => None,
        };
        if let Some(c) = c {
            // Keep the reach's changes bounded: a crash loop restarts all day.
            if self.candidates.len() < 100_000 {
                self.candidates.push(c);
            }
        }
        announced_now
    }

    /// The suspects, best first, and what the rule could not say.
    /// `calls`: (caller, callee) pairs of services, from traces: a change to
    /// a service the first failing one depends on is upstream of it.
    pub fn conclude(
        self,
        onset: Option<Timestamp>,
        from: Timestamp,
        spread: &[Service],
        calls: &[(String, String)],
    ) -> (Vec<Suspect>, Vec<String>) {
        let mut notes = Vec::new();
        let Some(onset) = onset else {
            return (Vec::new(), vec!["no onset, so no change can be said to precede it".to_string()]);
        };
        let mut all: Vec<Candidate> = self.candidates.into_iter().filter(|c| c.cited.time >= from).collect();
        all.sort_by_key(|c| c.cited.time);
        let failing: Vec<&str> = spread.iter().map(|s| s.service.as_str()).collect();
        let first = failing.first().copied();
        // What the first failing service depends on, directly or through others.
        let mut upstream: Vec<&str> = Vec::new();
        let mut frontier: Vec<&str> = first.into_iter().collect();
        while let Some(s) = frontier.pop() {
            for (caller, callee) in calls {
                if caller == s && Some(callee.as_str()) != first && !upstream.contains(&callee.as_str()) {
                    upstream.push(callee);
                    frontier.push(callee);
                }
            }
        }
        // Link each commit to the first later deploy, version or restart that carries it.
        let mut links: Vec<Option<(usize, String)>> = vec![None; all.len()];
        let mut absorbed = vec![false; all.len()];
        let mut also: Vec<(usize, String)> = Vec::new();
        for (i, c) in all.iter().enumerate() {
            let Some(hash) = &c.hash else { continue };
            let short: String = hash.chars().take(7).collect();
            let hit = all.iter().enumerate().find_map(|(j, d)| {
                if d.hash.is_some()
                    || d.cited.time < c.cited.time
                    || !matches!(d.kind, Kind::Deploy | Kind::Version | Kind::Restart)
                {
                    return None;
                }
                if let Some(v) = c.versions.iter().find(|v| d.versions.contains(v)) {
                    return Some((j, format!("version {v}")));
                }
                (short.len() == 7 && d.text.contains(&short)).then(|| (j, format!("short sha {short}")))
            });
            if let Some((j, how)) = hit {
                // The same release reaching the same service again (its
                // startup line after the engine's deploy, another replica)
                // is this commit's deploy too.
                let service = all.get(j).and_then(|d| d.service.clone());
                for (k, d) in all.iter().enumerate() {
                    let same = k == j
                        || (d.hash.is_none()
                            && d.service == service
                            && d.cited.time >= c.cited.time
                            && matches!(d.kind, Kind::Deploy | Kind::Version)
                            && c.versions.iter().any(|v| d.versions.contains(v)));
                    if let (true, Some(a)) = (same, absorbed.get_mut(k)) {
                        *a = true;
                        if k != j {
                            also.push((i, d.cited.evidence.clone()));
                        }
                    }
                }
                if let Some(l) = links.get_mut(i) {
                    *l = Some((j, how));
                }
            }
        }
        for (i, ev) in also {
            if let Some(c) = all.get_mut(i) {
                c.also.push(ev);
            }
        }
        // A restart of a service within two minutes of its deploy is the deploy's.
        for j in 0..all.len() {
            let Some(d) = all.get(j).filter(|d| matches!(d.kind, Kind::Deploy | Kind::Version)) else { continue };
            let (t, service) = (d.cited.time, d.service.clone());
            let near: Vec<usize> = all
                .iter()
                .enumerate()
                .filter(|(k, r)| {
                    let near = r.cited.time.unix_seconds().abs_diff(t.unix_seconds());
                    // Its restart, and the startup line that names the version it deployed.
                    *k != j
                        && r.service == service
                        && ((r.kind == Kind::Restart && near <= 120)
                            || (r.kind == Kind::Version
                                && d.kind == Kind::Deploy
                                && r.cited.time >= t
                                && near <= 600
                                && r.versions.iter().any(|v| d.versions.contains(v))))
                })
                .map(|(k, _)| k)
                .collect();
            for k in near {
                let ev = all.get(k).map(|r| r.cited.evidence.clone());
                if let (Some(a), Some(ev)) = (absorbed.get_mut(k), ev) {
                    *a = true;
                    if let Some(d) = all.get_mut(j) {
                        d.also.push(ev);
                    }
                }
            }
        }
        let mut out: Vec<(usize, Suspect)> = Vec::new();
        for (i, c) in all.iter().enumerate() {
            if c.cited.time >= onset || absorbed.get(i).copied().unwrap_or(false) {
                continue;
            }
            let mut reasons: Vec<(i32, String)> = Vec::new();
            let link = links.get(i).cloned().flatten().and_then(|(j, how)| all.get(j).map(|d| (d, how)));
            let linked: Option<&Candidate> = link.as_ref().map(|(d, _)| *d);
            let deployed = link.map(|(d, how)| Deployed {
                time: d.cited.time,
                service: d.service.clone().unwrap_or_else(|| d.cited.service.clone()),
                how,
                summary: d.cited.summary.clone(),
                evidence: d.cited.evidence.clone(),
            });
            let mut evidence = vec![c.cited.evidence.clone()];
            evidence.extend(c.also.iter().cloned());
            // When it reached the running system, and where.
            let (reached, service) = match (&c.kind, &deployed) {
                (Kind::Commit, Some(d)) if d.time < onset => {
                    reasons.push((
                        40,
                        format!("deployed before the onset: {} at {} (`{}`)", d.how, d.time.hms(), d.evidence),
                    ));
                    evidence.push(d.evidence.clone());
                    (Some(d.time), Some(d.service.clone()))
                }
                (Kind::Commit, Some(d)) => {
                    reasons
                        .push((-20, format!("deployed only after the onset, at {} (`{}`)", d.time.hms(), d.evidence)));
                    (None, Some(d.service.clone()))
                }
                (Kind::Commit, None) => {
                    reasons.push((10, "merged, no deploy seen".to_string()));
                    (Some(c.cited.time), None)
                }
                (Kind::Deploy, _) => {
                    reasons.push((35, "a deploy: a new image or revision went out".to_string()));
                    (Some(c.cited.time), c.service.clone())
                }
                (Kind::Version, _) => {
                    match &c.previous {
                        Some(p) => {
                            reasons.push((35, format!("came up as a new version ({}, was {p})", c.versions.join(", "))))
                        }
                        None => reasons.push((
                            15,
                            format!("announced version {} (no earlier version seen to compare)", c.versions.join(", ")),
                        )),
                    }
                    (Some(c.cited.time), c.service.clone())
                }
                (Kind::Migration, _) => {
                    reasons.push((30, "a schema migration applied".to_string()));
                    (Some(c.cited.time), c.service.clone())
                }
                (Kind::Package, _) => {
                    reasons.push((20, "packages changed".to_string()));
                    (Some(c.cited.time), c.service.clone())
                }
                (Kind::Restart, _) => {
                    reasons.push((5, "a restart, no new version seen".to_string()));
                    (Some(c.cited.time), c.service.clone())
                }
                (Kind::Other, _) => {
                    reasons.push((10, "recorded as a change".to_string()));
                    (Some(c.cited.time), c.service.clone())
                }
            };
            // What ran at the onset was the service's last release before it:
            // a release replaced before the onset by another is not.
            let release = match (&c.kind, linked) {
                (Kind::Commit, Some(d)) => Some(d),
                (Kind::Deploy | Kind::Version, _) => Some(c),
                _ => None,
            };
            let replaced = release.zip(reached).and_then(|(r, t)| {
                all.iter().find(|d| {
                    matches!(d.kind, Kind::Deploy | Kind::Version)
                        && d.service.is_some()
                        && d.service == r.service
                        && d.cited.time > t
                        && d.cited.time < onset
                        && !d.versions.iter().any(|v| r.versions.contains(v))
                })
            });
            if let Some(d) = replaced {
                let what = match d.versions.first() {
                    Some(v) => format!("version {v}"),
                    None => "another deploy".to_string(),
                };
                reasons.push((
                    -40,
                    format!(
                        "replaced before the onset by {what} at {} (`{}`): not what ran when it broke",
                        d.cited.time.hms(),
                        d.cited.evidence
                    ),
                ));
                evidence.push(d.cited.evidence.clone());
            }
            match service.as_deref() {
                Some(s) if Some(s) == first => reasons.push((30, format!("{s} is the first service to fail"))),
                Some(s) if upstream.contains(&s) => reasons.push((
                    20,
                    format!(
                        "{s} is upstream of {}: the traces show {} calling it",
                        first.unwrap_or("?"),
                        first.unwrap_or("?")
                    ),
                )),
                Some(s) if failing.contains(&s) => {
                    reasons.push((10, format!("{s} failed too, after {}", first.unwrap_or("another"))))
                }
                Some(s) if !failing.is_empty() => reasons.push((-10, format!("{s} logged no error"))),
                _ => {}
            }
            if let Some(t) = reached {
                let lag = onset.unix_seconds().saturating_sub(t.unix_seconds()).max(0);
                let w = match lag {
                    0..=600 => 25,
                    601..=1800 => 20,
                    1801..=7200 => 12,
                    7201..=21_600 => 6,
                    _ => 2,
                };
                reasons.push((w, format!("{} before the onset", super::since(t, onset))));
            }
            if c.kind == Kind::Commit {
                if let Some(s) = first {
                    let under = c.files.iter().find(|f| {
                        f.to_ascii_lowercase().split('/').rev().skip(1).any(|seg| seg == s || root(seg) == s)
                    });
                    if let Some(f) = under {
                        reasons.push((15, format!("its files lie under {s}'s paths ({f})")));
                    }
                }
                let traced: Vec<&str> =
                    c.files.iter().filter_map(|f| f.rsplit('/').next()).filter(|n| self.traced.contains(*n)).collect();
                if let Some(n) = traced.first() {
                    reasons.push((20, format!("{n} is named in the incident's errors")));
                }
                if let Some(r) = routine(c.subject.as_deref().unwrap_or_default(), &c.files) {
                    reasons.push((-30, r));
                }
                if c.merge {
                    reasons.push((-5, "a merge: its changes are the merged commits'".to_string()));
                }
            }
            let score = reasons.iter().map(|(w, _)| *w).sum();
            let reached_system = match c.kind {
                Kind::Commit => deployed.as_ref().is_some_and(|d| d.time < onset),
                Kind::Restart | Kind::Other => false,
                _ => true,
            };
            out.push((
                i,
                Suspect {
                    rank: 0,
                    time: c.cited.time,
                    kind: c.kind,
                    component: c.cited.component.clone(),
                    summary: c.cited.summary.clone(),
                    evidence,
                    commit: c.hash.as_ref().map(|h| h.chars().take(7).collect()),
                    deployed,
                    reached: reached_system,
                    reasons: reasons.into_iter().map(|(w, r)| format!("{w:+} {r}")).collect(),
                    score,
                    event: None,
                },
            ));
        }
        if out.is_empty() {
            notes.push(format!(
                "no change precedes the onset ({}) in the lookback from {}: no commit, deploy, restart, migration or new version was seen",
                onset.hms(),
                from.rfc3339()
            ));
        }
        // Best first; among equals, the nearest the onset.
        out.sort_by(|(_, a), (_, b)| b.score.cmp(&a.score).then(b.time.cmp(&a.time)));
        out.truncate(KEPT);
        let mut all: Vec<Option<Candidate>> = all.into_iter().map(Some).collect();
        let out = out
            .into_iter()
            .enumerate()
            .map(|(n, (i, mut s))| {
                s.rank = u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1);
                s.event = all.get_mut(i).and_then(Option::take).map(|c| c.event);
                s
            })
            .collect();
        (out, notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_announced_at_startup() {
        assert_eq!(announced("Application startup complete. version=2.14.0 workers=4").as_deref(), Some("2.14.0"));
        assert_eq!(announced("starting payments 1.8.3").as_deref(), Some("1.8.3"));
        assert_eq!(announced("payments v1.8.3 started on :8080").as_deref(), Some("v1.8.3"));
        assert_eq!(announced(r#"{"msg":"boot","version":"3.2.1"}"#).as_deref(), Some("3.2.1"));
        assert_eq!(announced("listening on 10.0.3.38:8080"), None, "an address is not a version");
        assert_eq!(announced("GET /api/v1/schedules 200"), None);
        assert_eq!(announced("schema versions table checked"), None);
    }

    #[test]
    fn image_tags_and_routine_commits() {
        assert_eq!(image_tag("registry:5000/shop/api:2.14.0").as_deref(), Some("2.14.0"));
        assert_eq!(image_tag("shop/api:latest"), None);
        assert_eq!(image_tag("registry:5000/shop/api"), None);
        assert_eq!(tag_versions("catalog-3.4.1"), ["catalog-3.4.1", "3.4.1"]);
        assert_eq!(tag_versions("payments/v1.8.3"), ["payments/v1.8.3", "1.8.3"]);
        assert_eq!(tag_versions("v2.14.0"), ["2.14.0"]);
        assert!(routine("docs: explain retries", &[]).is_some());
        assert!(routine("fix(api): retry", &["README.md".into()]).is_some());
        assert!(routine("feat: batch load", &["backend/app/x.py".into()]).is_none());
    }

    #[test]
    fn a_deploy_of_a_service_the_first_failing_one_calls_is_upstream() {
        let t = |s: i64| Timestamp::from_unix_seconds(1_776_254_400 + s, 0).unwrap();
        let deploy = Event {
            time: t(0),
            basis: reconstruct_core::TimeBasis::Explicit,
            collector: reconstruct_core::SourceKind::Kubernetes,
            component: std::sync::Arc::from("vault"),
            kind: EventKind::Change,
            severity: None,
            summary: "deployment vault rolled out".into(),
            evidence: reconstruct_core::Evidence {
                locator: reconstruct_core::Locator::Text("kubectl rollout history deployment/vault".into()),
                excerpt: String::new(),
            },
            continuation_lines: 0,
            service: None,
            fact: Some(Box::new(Fact::Rollout { workload: "vault".into(), revision: None, images: vec![] })),
        };
        let mut o = Observed::default();
        o.observe(&deploy, Cues::default());
        let cited = Cited {
            time: t(60),
            summary: "x".into(),
            component: "payments".into(),
            evidence: "e".into(),
            service: "payments".into(),
        };
        let spread = [Service {
            service: "payments".into(),
            first_anomaly: None,
            first_error: cited.clone(),
            last_error: cited,
            lag_s: None,
        }];
        let calls = [("checkout".to_string(), "payments".to_string()), ("payments".to_string(), "vault".to_string())];
        let (s, _) = o.conclude(Some(t(60)), t(-3600), &spread, &calls);
        assert!(
            s[0].reasons.iter().any(|r| r == "+20 vault is upstream of payments: the traces show payments calling it"),
            "{:?}",
            s[0].reasons
        );
    }

    #[test]
    fn a_release_replaced_before_the_onset_is_not_what_broke() {
        let t = |s: i64| Timestamp::from_unix_seconds(1_776_254_400 + s, 0).unwrap();
        let line = |at: i64, text: &str, line: u64| Event {
            time: t(at),
            basis: reconstruct_core::TimeBasis::Explicit,
            collector: reconstruct_core::SourceKind::Logfile,
            component: std::sync::Arc::from("payments"),
            kind: EventKind::Log,
            severity: Some(reconstruct_core::Severity::Info),
            summary: text.into(),
            evidence: reconstruct_core::Evidence {
                locator: reconstruct_core::Locator::Line { path: std::sync::Arc::from("logs/payments.log"), line },
                excerpt: String::new(),
            },
            continuation_lines: 0,
            service: None,
            fact: None,
        };
        let mut o = Observed::default();
        for e in [
            line(0, "INFO starting payments 1.3.9", 10),
            line(3000, "INFO starting payments 1.4.0", 20),
            // Put back before the onset: 1.4.0 did not run when it broke.
            line(3300, "INFO starting payments 1.3.9", 30),
        ] {
            o.observe(&e, Cues::of(&e.summary));
        }
        let cited = Cited {
            time: t(3600),
            summary: "x".into(),
            component: "payments".into(),
            evidence: "e".into(),
            service: "payments".into(),
        };
        let spread = [Service {
            service: "payments".into(),
            first_anomaly: None,
            first_error: cited.clone(),
            last_error: cited,
            lag_s: None,
        }];
        let (s, _) = o.conclude(Some(t(3600)), t(-3600), &spread, &[]);
        let by_line = |n: &str| s.iter().find(|x| x.evidence.first().is_some_and(|e| e.ends_with(n))).unwrap();
        let rollback = by_line(":30");
        assert_eq!(rollback.rank, 1, "the release that ran at the onset ranks first: {s:?}");
        let replaced = by_line(":20");
        assert!(
            replaced.reasons.iter().any(|r| r.starts_with("-40 replaced before the onset by version 1.3.9 at ")),
            "{:?}",
            replaced.reasons
        );
        assert!(replaced.evidence.contains(&"logs/payments.log:30".to_string()), "the replacement is cited");
        let first = by_line(":10");
        assert!(first.reasons.iter().any(|r| r.starts_with("-40 replaced before the onset by version 1.4.0")));
    }

    #[test]
    fn stack_trace_frames_name_files() {
        let mut s = BTreeSet::new();
        source_files(r#"File "/app/services/schedule_generator.py", line 88, in generate"#, &mut s);
        source_files("at com.shop.Pay(PayService.java:42)", &mut s);
        assert!(s.contains("schedule_generator.py"), "{s:?}");
        assert!(s.contains("PayService.java"), "{s:?}");
    }
}
