//! Which log messages report a change of state worth a timeline row even
//! when they are not errors: starts, stops, restarts, migrations, deploys.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

const STATE_WORDS: &[&str] = &[
    "starting up",
    "started",
    "startup complete",
    "shutting down",
    "shutdown complete",
    "stopped",
    "stopping",
    "restarting",
    "restarted",
    "listening on",
    "ready to accept",
    "migration",
    "migrating",
    "deployed",
    "deploying",
    "rolled back",
    "rollback",
    "recovered",
    "restored",
    "failover",
    "promoted",
    "terminated",
    "killed",
    "out of memory",
    "health check passed",
    "health check failed",
    "unhealthy",
    "circuit breaker",
    "circuit open",
    "circuit opened",
    "circuit closed",
    "reloading config",
    "configuration reloaded",
];

fn matcher() -> Option<&'static AhoCorasick> {
    static M: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    M.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(STATE_WORDS)
            .ok()
    })
    .as_ref()
}

/// True when a message reads like a change of state of a service.
pub fn is_state_change(msg: &[u8]) -> bool {
    matcher().is_some_and(|m| m.is_match(msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_state_changes() {
        assert!(is_state_change(b"INFO Application startup complete."));
        assert!(is_state_change(b"Shutting down worker 3"));
        assert!(is_state_change(b"Running MIGRATION 20251220_add_indexes"));
        assert!(!is_state_change(b"GET /api/health 200 3ms"));
    }
}
