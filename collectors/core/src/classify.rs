//! Which log messages report a change of state worth a timeline row even
//! when they are not errors: starts, stops, restarts, migrations, deploys.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

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
        // Case-sensitive over lowercased text: that keeps the SIMD
        // multi-substring prefilter (Teddy) on. Case-insensitive matching
        // turns it off and cost a third of a full scan, every line checked.
        AhoCorasickBuilder::new()
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(MatchKind::LeftmostFirst)
            .build(STATE_WORDS)
            .ok()
    })
    .as_ref()
}

/// How much of a message is looked at: state words come early.
const HEAD: usize = 512;

/// True when a message reads like a change of state of a service.
pub fn is_state_change(msg: &[u8]) -> bool {
    let mut buf = [0u8; HEAD];
    let n = msg.len().min(HEAD);
    let (Some(dst), Some(src)) = (buf.get_mut(..n), msg.get(..n)) else { return false };
    dst.copy_from_slice(src);
    dst.make_ascii_lowercase();
    matcher().is_some_and(|m| m.is_match(&*dst))
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
