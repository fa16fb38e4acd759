//! The shape of names and messages, shared by the summary and the
//! findings: the service a component belongs to, the cue words a line
//! holds, and whether an event says a service is healthy again.

use reconstruct_core::{ContainerAction, Event};

/// Which change cue words a text holds (decided once, in the collectors'
/// core, where a reader asks it too).
pub use reconstruct_core::cues::Cues;

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
