//! The cue words of a change: which a line holds, found in one pass. The
//! findings' rules (a migration applied, a version announced) read them from
//! every line, and a collector reading before the window asks them whether
//! a routine line could be a change at all before it builds the line.

use std::sync::LazyLock;

/// Which of the change cue words a text holds.
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
        Cues::of_bytes(text.as_bytes())
    }

    /// The cues in raw bytes: the words are ASCII, so a text holds a cue
    /// only if its bytes do (a cleaned or shortened text holds no more).
    pub fn of_bytes(text: &[u8]) -> Cues {
        // Teddy, the SIMD search for a few short words: most lines hold
        // none, and it says so at memory speed (the automaton's byte-by-byte
        // walk cost a seventh of a report).
        let Some(a) = Cues::searcher() else { return Cues(Self::VERSION | Self::MIGRATION) };
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

    /// The words searched for: a raw search for them finds every text
    /// [`Cues::of_bytes`] says holds a cue.
    pub fn words() -> impl Iterator<Item = &'static str> {
        Self::WORDS.iter().map(|(w, _)| *w)
    }

    fn searcher() -> Option<&'static aho_corasick::packed::Searcher> {
        static ALL: LazyLock<Option<aho_corasick::packed::Searcher>> =
            LazyLock::new(|| aho_corasick::packed::Searcher::new(Cues::WORDS.iter().map(|(w, _)| *w)));
        ALL.as_ref()
    }

    pub fn has(self, cue: u8) -> bool {
        self.0 & cue != 0
    }

    /// Whether the text holds any cue word.
    pub fn any(self) -> bool {
        self.0 != 0
    }
}

/// Where cue words start in a whole buffer of lines, found by one search
/// over it: a reader asks each line before the window whether it holds one,
/// and a lookup is cheaper than a search per short line.
#[derive(Default)]
pub struct CueMarks {
    generation: Option<u64>,
    starts: Vec<usize>,
    /// No searcher on this machine: every line may hold a cue.
    every: bool,
}

impl CueMarks {
    /// Searches `chunk` unless it is the one searched last (same generation).
    pub fn refresh(&mut self, chunk: &[u8], generation: u64) {
        if self.generation == Some(generation) {
            return;
        }
        self.generation = Some(generation);
        self.starts.clear();
        match Cues::searcher() {
            Some(a) => self.starts.extend(a.find_iter(chunk).map(|m| m.start())),
            None => self.every = true,
        }
    }

    /// Whether a cue word starts in `from..to` of the chunk. Words hold no
    /// newline, so one that starts in a line ends in it.
    pub fn any_in(&self, from: usize, to: usize) -> bool {
        let i = self.starts.partition_point(|s| *s < from);
        self.every || self.starts.get(i).is_some_and(|s| *s < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_bytes_agree() {
        assert!(Cues::of("starting payments 1.8.3").has(Cues::VERSION));
        assert!(Cues::of("Applying migration 0042").has(Cues::MIGRATION));
        assert!(!Cues::of("GET /v1/items 200 3ms").any());
        assert_eq!(Cues::of_bytes(b"version=2.14.0 \xff"), Cues(Cues::VERSION));
    }

    #[test]
    fn marks_agree_with_the_per_line_search() {
        let lines: [&[u8]; 4] =
            [b"GET /v1/items 200", b"starting payments 1.8.3", b"Applied migration 7", b"restarted by hand"];
        let chunk = lines.join(&b'\n');
        let mut m = CueMarks::default();
        m.refresh(&chunk, 1);
        let mut at = 0;
        for l in lines {
            assert_eq!(m.any_in(at, at + l.len()), Cues::of_bytes(l).any(), "{}", String::from_utf8_lossy(l));
            at += l.len() + 1;
        }
    }
}
