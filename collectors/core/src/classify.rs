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
pub const HEAD: usize = 512;

/// True when a message reads like a change of state of a service.
pub fn is_state_change(msg: &[u8]) -> bool {
    let mut buf = [0u8; HEAD];
    let n = msg.len().min(HEAD);
    let (Some(dst), Some(src)) = (buf.get_mut(..n), msg.get(..n)) else { return false };
    dst.copy_from_slice(src);
    dst.make_ascii_lowercase();
    matcher().is_some_and(|m| m.is_match(&*dst))
}

/// Where state words start in a whole buffer of lines, found by one search
/// over it: the per-line check then costs a lookup, not a search (a search
/// per line cost a fifth of a full scan, mostly in setting it up).
#[derive(Default)]
pub struct StateMarks {
    generation: Option<u64>,
    lower: Vec<u8>,
    starts: Vec<usize>,
}

impl StateMarks {
    /// Searches `chunk` unless it is the one searched last (same generation).
    pub fn refresh(&mut self, chunk: &[u8], generation: u64) {
        if self.generation == Some(generation) {
            return;
        }
        self.generation = Some(generation);
        self.lower.clear();
        self.lower.extend(chunk.iter().map(u8::to_ascii_lowercase));
        self.starts.clear();
        if let Some(m) = matcher() {
            self.starts.extend(m.find_iter(self.lower.as_slice()).map(|x| x.start()));
        }
    }

    /// Whether a state word starts in `from..to` of the chunk. Patterns hold
    /// no newline, so a line's first occurrence is always among the starts.
    pub fn any_in(&self, from: usize, to: usize) -> bool {
        let i = self.starts.partition_point(|s| *s < from);
        self.starts.get(i).is_some_and(|s| *s < to)
    }
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

    #[test]
    fn marks_agree_with_the_per_line_check() {
        let lines: [&[u8]; 5] = [
            b"2025-12-26 14:30:15 INFO Application startup complete.",
            b"2025-12-26 14:30:16 INFO GET /api/health 200",
            b"2025-12-26 14:30:17 WARN Restarting worker 3",
            b"2025-12-26 14:30:18 INFO nothing",
            b"2025-12-26 14:30:19 INFO Rolled back deploy",
        ];
        let chunk = lines.join(&b'\n');
        let mut m = StateMarks::default();
        m.refresh(&chunk, 1);
        let mut at = 0;
        for l in lines {
            assert_eq!(m.any_in(at + 19, at + l.len()), is_state_change(&l[19..]), "{}", String::from_utf8_lossy(l));
            at += l.len() + 1;
        }
    }
}
