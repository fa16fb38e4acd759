//! The shape of names and messages, shared by the summary and the
//! findings: the service a component belongs to, the cue words a line
//! holds, and whether an event says a service is healthy again.

use std::sync::LazyLock;

use reconstruct_core::{ContainerAction, Event};

/// Which of the findings' cue words a text holds, found in one pass: the
/// rules that read every line (a migration applied, a version announced)
/// each look for their own cues in the result instead of scanning again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cues(u8);

impl Cues {
    /// A version announced, or a start: `version`, `start`, `boot`, `listen`.
    pub const VERSION: u8 = 1;
    /// A migration applied: `upgrade`, `applying`, `migrat…`, `applied`, `changeset`.
    pub const MIGRATION: u8 = 2;

    /// The cue words, each with the cue it is a sign of.
    const WORDS: [(&'static str, u8); 9] = [
        ("ersion", Self::VERSION),
        ("tart", Self::VERSION),
        ("oot", Self::VERSION),
        ("isten", Self::VERSION),
        ("pgrade", Self::MIGRATION),
        ("pplying", Self::MIGRATION),
        ("igrat", Self::MIGRATION),
        ("pplied", Self::MIGRATION),
        ("hange", Self::MIGRATION),
    ];

    /// The cues in `text`.
    pub fn of(text: &str) -> Cues {
        // Teddy, the SIMD search for a few short words: most lines hold
        // none, and it says so at memory speed (the automaton's byte-by-byte
        // walk cost a seventh of a report).
        static ALL: LazyLock<Option<aho_corasick::packed::Searcher>> =
            LazyLock::new(|| aho_corasick::packed::Searcher::new(Cues::WORDS.iter().map(|(w, _)| *w)));
        let Some(a) = ALL.as_ref() else { return Cues(Self::VERSION | Self::MIGRATION) };
        let mut found = 0u8;
        // Non-overlapping: no two cue words share letters that matter.
        for m in a.find_iter(text) {
            found |= Self::WORDS.get(m.pattern().as_usize()).map_or(0, |(_, c)| *c);
            if found == Self::VERSION | Self::MIGRATION {
                break;
            }
        }
        Cues(found)
    }

    pub fn has(self, cue: u8) -> bool {
        self.0 & cue != 0
    }
}

/// The first part of a component name (`backend.api` → `backend`,
/// `nginx/error` → `nginx`), lowercased, as alerts and logs name services.
pub fn root(name: &str) -> String {
    let r = name.split(['.', '/', ' ', ':']).next().unwrap_or(name).to_ascii_lowercase();
    r.trim_end_matches(|c: char| c == '_' || c == '-' || c.is_ascii_digit()).to_string()
}

/// The service an event belongs to: the one its source names, lowercased,
/// as alerts name services; else the first segment of its component's name.
pub fn service(e: &Event) -> String {
    match e.service.as_deref() {
        Some(s) if !s.is_empty() => s.to_ascii_lowercase(),
        _ => root(&e.component),
    }
}

/// The names a label value may give a service: as it is (lowercased), and
/// its first segment ([`root`]): `job="api-v2"` names `api-v2`,
/// `instance="backend:8000"` names `backend`.
pub fn names_of(value: &str) -> [String; 2] {
    [value.to_ascii_lowercase(), root(value)]
}

/// Whether an event says a service is healthy again.
pub fn is_health_green(e: &Event) -> bool {
    if e.container_action() == Some(&ContainerAction::Healthy) {
        return true;
    }
    if e.severity.is_some_and(|s| s > reconstruct_core::Severity::Info) || !e.summary.contains("ealth") {
        return false;
    }
    let l = e.summary.to_ascii_lowercase();
    if l.contains("health check passed") || l.contains("health check ok") || l.contains("healthcheck passed") {
        return true;
    }
    // "payments healthy again", not "unhealthy" nor "not healthy".
    l.match_indices("healthy").any(|(i, _)| {
        let before = &l[..i];
        !before.ends_with("un") && !before.ends_with("not ") && !before.ends_with("no longer ")
    })
}
