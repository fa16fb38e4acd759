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

/// Whether some state word holds `a` just before `b` (either in any case):
/// where a message is two parts of its line joined (the time cut out of
/// the middle), a word can lie across the join only then, and otherwise
/// the line's marks answer for the message.
pub fn may_join(a: u8, b: u8) -> bool {
    // For each byte of the words (letters and the blank), the bytes that
    // follow it in one of them.
    static NEXT: std::sync::LazyLock<[u32; 27]> = std::sync::LazyLock::new(|| {
        let mut next = [0u32; 27];
        for w in STATE_WORDS {
            for pair in w.as_bytes().windows(2) {
                if let [x, y] = pair {
                    if let (Some(from), Some(to)) = (place(*x), place(*y)) {
                        if let Some(n) = next.get_mut(from) {
                            *n |= 1 << to;
                        }
                    }
                }
            }
        }
        next
    });
    match (place(a), place(b)) {
        (Some(x), Some(y)) => NEXT.get(x).is_some_and(|n| n & (1 << y) != 0),
        _ => false,
    }
}

/// A state word's byte (lowered) as 0 … 25 for a letter, 26 for the blank.
fn place(c: u8) -> Option<usize> {
    match c.to_ascii_lowercase() {
        l @ b'a'..=b'z' => Some(usize::from(l - b'a')),
        b' ' => Some(26),
        _ => None,
    }
}

/// What the buffer-wide search looks for: a piece of each state word
/// (lowercase), and where in which words it lies. A piece is chosen so that
/// its first four bytes are rare in logs, as the search checks every place
/// those occur: the words' own beginnings (`rest`, `list`, `read`, `heal`)
/// are common, and searched for they cost a sixth of a quiet log's scan.
/// Every word is covered ([`tests::every_word_has_a_piece`]).
const PIECES: [(&str, &[(&str, usize)]); 23] = [
    ("arted", &[("started", 2), ("restarted", 4)]),
    ("arting", &[("starting up", 2), ("restarting", 4)]),
    ("artup c", &[("startup complete", 2)]),
    ("utting d", &[("shutting down", 2)]),
    ("utdown c", &[("shutdown complete", 2)]),
    ("topp", &[("stopped", 1), ("stopping", 1)]),
    ("stening o", &[("listening on", 2)]),
    ("y to acc", &[("ready to accept", 4)]),
    ("igrat", &[("migration", 1), ("migrating", 1)]),
    ("eploy", &[("deployed", 1), ("deploying", 1)]),
    ("roll", &[("rolled back", 0), ("rollback", 0)]),
    ("covered", &[("recovered", 2)]),
    ("tored", &[("restored", 3)]),
    ("ilover", &[("failover", 2)]),
    ("omoted", &[("promoted", 2)]),
    ("rminat", &[("terminated", 2)]),
    ("killed", &[("killed", 0)]),
    ("of memory", &[("out of memory", 4)]),
    ("h check ", &[("health check passed", 5), ("health check failed", 5)]),
    ("nhealth", &[("unhealthy", 1)]),
    ("ircuit ", &[("circuit breaker", 1), ("circuit open", 1), ("circuit opened", 1), ("circuit closed", 1)]),
    ("eloading c", &[("reloading config", 1)]),
    ("eloaded", &[("configuration reloaded", 15)]),
];

fn pieces() -> Option<&'static aho_corasick::packed::Searcher> {
    static P: OnceLock<Option<aho_corasick::packed::Searcher>> = OnceLock::new();
    P.get_or_init(|| aho_corasick::packed::Searcher::new(PIECES.iter().map(|(p, _)| p))).as_ref()
}

/// Every place a state word starts, overlapping or not, where the machine
/// has no SIMD search for the pieces.
fn every_start() -> Option<&'static AhoCorasick> {
    static M: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    M.get_or_init(|| AhoCorasickBuilder::new().match_kind(MatchKind::Standard).build(STATE_WORDS).ok()).as_ref()
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
        // Lowered into room already there (only the growth is zeroed): a
        // loop over two slices the compiler makes wide, where pushing each
        // byte checked the room byte by byte.
        self.lower.resize(chunk.len(), 0);
        for (l, c) in self.lower.iter_mut().zip(chunk) {
            *l = c.to_ascii_lowercase();
        }
        self.starts.clear();
        let lower = self.lower.as_slice();
        if let Some(p) = pieces() {
            // A piece found is checked against each word it lies in. The
            // search goes on from the next byte, not past the piece: no
            // piece found hides another that overlaps it.
            let mut from = 0;
            while let Some(hit) = p.find_in(lower, aho_corasick::Span { start: from, end: lower.len() }) {
                from = hit.start().saturating_add(1);
                let Some((_, words)) = PIECES.get(hit.pattern().as_usize()) else { continue };
                for (word, at) in *words {
                    let Some(start) = hit.start().checked_sub(*at) else { continue };
                    let end = start.saturating_add(word.len());
                    if lower.get(start..end) == Some(word.as_bytes()) {
                        self.starts.push(start);
                    }
                }
            }
            // Pieces of different words may be found out of their words' order.
            self.starts.sort_unstable();
            self.starts.dedup();
        } else if let Some(m) = every_start() {
            self.starts.extend(m.find_overlapping_iter(lower).map(|x| x.start()));
            self.starts.sort_unstable();
            self.starts.dedup();
        }
    }

    /// Whether a state word starts in `from..to` of the chunk: every place
    /// one starts is among the starts.
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
    fn a_join_is_asked_about_only_where_a_word_may_lie_across_it() {
        // Every pair of bytes next to each other in a word, in any case.
        // (No word begins or ends with a blank: a word across a blank put
        // between two texts holds it inside.)
        for w in STATE_WORDS {
            assert!(!w.starts_with(' ') && !w.ends_with(' '), "{w}");
            for pair in w.as_bytes().windows(2) {
                if let [a, b] = pair {
                    assert!(may_join(*a, *b), "{w}");
                    assert!(may_join(a.to_ascii_uppercase(), b.to_ascii_uppercase()), "{w}");
                }
            }
        }
        // And no other: a word across `x|y` holds `x` just before `y`.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let (la, lb) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
                let held = STATE_WORDS.iter().any(|w| w.as_bytes().windows(2).any(|p| p == [la, lb]));
                assert_eq!(may_join(a, b), held, "{a} {b}");
            }
        }
    }

    #[test]
    fn every_word_has_a_piece() {
        for w in STATE_WORDS {
            let covered = PIECES.iter().any(|(p, words)| {
                words.iter().any(|(word, at)| word == w && w.get(*at..).is_some_and(|rest| rest.starts_with(p)))
            });
            assert!(covered, "{w}");
        }
        for (p, words) in PIECES {
            assert!(p.len() >= 4, "{p}");
            for (word, at) in words {
                assert!(STATE_WORDS.contains(word), "{word}");
                assert_eq!(word.get(*at..at + p.len()), Some(p), "{word}");
            }
        }
    }

    #[test]
    fn marks_agree_with_the_per_line_check_over_many_lines() {
        let mut words: Vec<String> = STATE_WORDS.iter().map(|w| w.to_string()).collect();
        // Near misses: a piece without its word, a word cut short, words joined.
        words.extend(
            [
                "start",
                "restart",
                "listen",
                "ready",
                "health",
                "check",
                "circuit",
                "roll",
                "rolled",
                "of memory",
                "topp",
                "eploy",
                "arted",
                "reloaded",
                "configuration",
                "h check x",
                "kill",
                "promote",
                "GET /health",
                "deploy to accept",
                "ready to",
                "restartedrestarting",
                "rollrolled back",
                "-",
                "/",
                "x",
                "42",
            ]
            .map(String::from),
        );
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for _ in 0..4000 {
            let mut line = b"2025-12-26 14:30:15 INFO ".to_vec();
            for _ in 0..1 + next(5) {
                let w = words.get(next(words.len())).cloned().unwrap_or_default();
                let w = match next(3) {
                    0 => w.to_ascii_uppercase(),
                    1 => w,
                    _ => w
                        .chars()
                        .enumerate()
                        .map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c })
                        .collect(),
                };
                line.extend_from_slice(w.as_bytes());
                line.extend_from_slice([&b" "[..], b"", b"_", b"."][next(4)]);
            }
            lines.push(line);
        }
        let chunk = lines.join(&b'\n');
        let mut m = StateMarks::default();
        m.refresh(&chunk, 1);
        let (mut at, mut states) = (0, 0);
        for l in &lines {
            let want = is_state_change(&l[25..]);
            assert_eq!(m.any_in(at + 25, at + l.len()), want, "{}", String::from_utf8_lossy(l));
            states += usize::from(want);
            at += l.len() + 1;
        }
        assert!(states > 1000 && states < 3900, "{states}");
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
