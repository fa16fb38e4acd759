//! What a secret pattern cannot match without: for each pattern a few
//! literal pieces, one of which every match of it contains, read from the
//! pattern itself. A text holding none of any pattern's pieces holds no
//! secret, and one search for the pieces says so faster than the automaton
//! of all patterns (most event texts hold none).
//!
//! The pieces are sound for ASCII texts: a class is read as its ASCII
//! members, so a case-insensitive `k` stands for `k` and `K` and not for
//! the Kelvin sign. Texts with other bytes go to the automaton.

use regex_syntax::hir::{Class, Hir, HirKind};

/// At most this many strings stand for a part of a pattern: more (a class
/// of many members, a long product) and the part is not read as strings.
const MANY: usize = 64;
/// A class of at most this many ASCII members is read as its members.
const SMALL_CLASS: usize = 8;

/// A literal piece: its bytes, and whether it stands for every ASCII case
/// of them (its bytes are then lower case).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Piece {
    pub bytes: Vec<u8>,
    pub folded: bool,
}

impl Piece {
    fn then(&self, next: &Piece) -> Piece {
        let folded = self.folded || next.folded;
        let mut bytes = Vec::with_capacity(self.bytes.len().saturating_add(next.bytes.len()));
        bytes.extend_from_slice(&self.bytes);
        bytes.extend_from_slice(&next.bytes);
        if folded {
            bytes.make_ascii_lowercase();
        }
        Piece { bytes, folded }
    }
}

/// What is known of a part of a pattern.
struct Known {
    /// It matches exactly one of these strings (on an ASCII text).
    exact: Option<Vec<Piece>>,
    /// Each of its matches contains one of these; `Some([])`: it never matches.
    need: Option<Vec<Piece>>,
}

impl Known {
    fn exactly(pieces: Vec<Piece>) -> Known {
        let need = usable(&pieces).then(|| pieces.clone());
        Known { exact: Some(pieces), need }
    }

    fn nothing() -> Known {
        Known { exact: None, need: None }
    }
}

/// A set of pieces says something only if none of them is empty.
fn usable(pieces: &[Piece]) -> bool {
    pieces.iter().all(|p| !p.bytes.is_empty())
}

/// Which of two requirements narrows more: the one whose shortest piece is
/// longer, then the one with fewer pieces. A part that never matches is best.
fn better(a: Option<Vec<Piece>>, b: Option<Vec<Piece>>) -> Option<Vec<Piece>> {
    fn score(p: &[Piece]) -> (usize, std::cmp::Reverse<usize>) {
        let shortest = p.iter().map(|x| x.bytes.len()).min().unwrap_or(usize::MAX);
        (shortest, std::cmp::Reverse(p.len()))
    }
    match (a, b) {
        (Some(a), Some(b)) => Some(if score(&b) > score(&a) { b } else { a }),
        (a, None) => a,
        (None, b) => b,
    }
}

fn dedup(mut v: Vec<Piece>) -> Vec<Piece> {
    v.sort();
    v.dedup();
    v
}

fn product(a: &[Piece], b: &[Piece]) -> Option<Vec<Piece>> {
    if a.len().saturating_mul(b.len()) > MANY {
        return None;
    }
    Some(dedup(a.iter().flat_map(|x| b.iter().map(move |y| x.then(y))).collect()))
}

/// A class as the ASCII strings it matches, where they are few.
fn class(c: &Class) -> Known {
    let mut members: Vec<u8> = Vec::new();
    match c {
        Class::Unicode(u) => {
            for r in u.iter() {
                let (lo, hi) = (u32::from(r.start()), u32::from(r.end()).min(127));
                for b in lo..=hi {
                    members.extend(u8::try_from(b).ok());
                    if members.len() > 2 * MANY {
                        return Known::nothing();
                    }
                }
            }
        }
        Class::Bytes(by) => {
            for r in by.iter() {
                for b in r.start()..=r.end().min(127) {
                    members.push(b);
                    if members.len() > 2 * MANY {
                        return Known::nothing();
                    }
                }
            }
        }
    }
    // A letter in both cases is one folded piece (flipping 0x20 changes an
    // ASCII letter's case).
    let mut pieces = Vec::new();
    for &b in &members {
        let pair = b.is_ascii_alphabetic() && members.contains(&(b ^ 0x20));
        if pair && b.is_ascii_uppercase() {
            continue; // its lower case stands for it
        }
        pieces.push(Piece { bytes: vec![b], folded: pair });
    }
    if pieces.len() > SMALL_CLASS {
        return Known::nothing();
    }
    Known::exactly(dedup(pieces))
}

fn known(h: &Hir) -> Known {
    let empty = || Known::exactly(vec![Piece { bytes: Vec::new(), folded: false }]);
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => empty(),
        HirKind::Literal(l) => Known::exactly(vec![Piece { bytes: l.0.to_vec(), folded: false }]),
        HirKind::Class(c) => class(c),
        HirKind::Capture(c) => known(&c.sub),
        HirKind::Repetition(r) => {
            if r.max == Some(0) {
                return empty();
            }
            let sub = known(&r.sub);
            if r.min == 0 {
                // Absent or once: the sub's strings or nothing.
                let exact = match (r.max, sub.exact) {
                    (Some(1), Some(mut e)) if e.len() < MANY => {
                        e.push(Piece { bytes: Vec::new(), folded: false });
                        Some(dedup(e))
                    }
                    _ => None,
                };
                return Known { exact, need: None };
            }
            let once = r.min == 1 && r.max == Some(1);
            Known { exact: if once { sub.exact } else { None }, need: sub.need }
        }
        HirKind::Concat(parts) => {
            // Runs of parts with exact strings join into longer pieces;
            // the best of the runs and the parts' own needs is kept.
            let mut run: Option<Vec<Piece>> = Some(vec![Piece { bytes: Vec::new(), folded: false }]);
            let mut best: Option<Vec<Piece>> = None;
            let mut whole = true;
            for p in parts {
                let k = known(p);
                let joined = match (&run, &k.exact) {
                    (Some(r), Some(e)) => product(r, e),
                    _ => None,
                };
                match joined {
                    Some(j) => run = Some(j),
                    None => {
                        whole = false;
                        if let Some(r) = run.take() {
                            best = better(best, usable(&r).then_some(r));
                        }
                        run = k.exact;
                    }
                }
                best = better(best, k.need);
            }
            if let Some(r) = &run {
                best = better(best, usable(r).then(|| r.clone()));
            }
            Known { exact: if whole { run } else { None }, need: best }
        }
        HirKind::Alternation(alts) => {
            let ks: Vec<Known> = alts.iter().map(known).collect();
            let exact = ks
                .iter()
                .map(|k| k.exact.clone())
                .collect::<Option<Vec<Vec<Piece>>>>()
                .map(|v| dedup(v.concat()))
                .filter(|v| v.len() <= MANY);
            let need = ks.into_iter().map(|k| k.need).collect::<Option<Vec<Vec<Piece>>>>().map(|v| dedup(v.concat()));
            Known { exact, need }
        }
    }
}

/// Pieces every match of `h` contains one of (on an ASCII text); `None`
/// when the pattern gives none (then every text must be searched).
pub(super) fn pieces(h: &Hir) -> Option<Vec<Piece>> {
    known(h).need.map(prune)
}

/// Drops each piece that contains another: a text holding it holds the
/// other too (`password` goes where `passw` is looked for). A folded piece
/// lies in any case of a text; an exact one only in an exact piece.
fn prune(pieces: Vec<Piece>) -> Vec<Piece> {
    // Each piece lowered once, not once for every other piece it is held against.
    let lowered: Vec<Vec<u8>> = pieces.iter().map(|p| p.bytes.to_ascii_lowercase()).collect();
    let contains = |i: usize, j: usize| {
        let (Some(outer), Some(inner)) = (pieces.get(i), pieces.get(j)) else { return false };
        if inner.bytes.len() > outer.bytes.len() {
            return false;
        }
        // Pieces are short: a plain look at each place beats building a searcher for each pair.
        let within = |hay: &[u8], needle: &[u8]| needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle);
        if inner.folded {
            lowered.get(i).is_some_and(|lower| within(lower, &inner.bytes))
        } else {
            !outer.folded && within(&outer.bytes, &inner.bytes)
        }
    };
    let keep: Vec<bool> = pieces
        .iter()
        .enumerate()
        .map(|(i, x)| !pieces.iter().enumerate().any(|(j, y)| j != i && contains(i, j) && x != y))
        .collect();
    pieces.into_iter().zip(keep).filter_map(|(p, k)| k.then_some(p)).collect()
}

/// Bytes from the most common in log text to the least (a byte not listed
/// is rarer than all of them): a piece is looked for by its rarest bytes.
const COMMON: &[u8] = b" etaoinsrlhdcu0123456789/.:-_,=mfpgwyb\"'[]()kv{}xjqz";

fn commonness(b: u8) -> usize {
    let b = b.to_ascii_lowercase();
    COMMON.iter().position(|c| *c == b).map_or(0, |i| COMMON.len() - i)
}

/// The table has a bit for each three ASCII bytes (seven bits each).
const SLOTS: usize = 1 << 21;

/// Three bytes (the first in the low byte of `three`) as their bit in the
/// table: a multiplicative hash, three operations where packing the seven
/// bits of each took seven. Other bytes may share a piece's bit (about one
/// in 700 with the patterns' 2,800 bits); the pieces are then compared.
fn slot(three: u64) -> u32 {
    ((three & 0xFF_FFFF).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - 21)) as u32
}

/// A piece to compare where its three bytes are found: the piece, and how
/// far before (or, negative, after) those bytes it begins.
#[derive(Clone, Copy)]
struct At {
    piece: u32,
    offset: i32,
}

/// The search for every pattern's pieces. A text is looked at every
/// second byte: the three bytes there are one bit of a table, set for
/// three bytes of a piece at an even or an odd start; a set bit is checked
/// against the pieces. The lookups do not depend on each other, where an
/// automaton's step waits on the one before (the automaton of all patterns
/// cost about 1.5 ns a byte of event text).
pub(super) struct Needs {
    pieces: Vec<Piece>,
    bits: Box<[u64; SLOTS / 64]>,
    /// The pieces to compare where a bit is set, sorted by bit.
    at: Vec<(u32, At)>,
}

/// Which three bytes stand for a piece at an even start and at an odd one
/// (`None` in a place: any ASCII byte, or the text's end), and how far
/// into the piece each begins.
fn threes(p: &[u8]) -> Option<[([Option<u8>; 3], i32); 2]> {
    Some(match p {
        [] => return None,
        // A lone byte (the search then stops little), as for two.
        [a] => [([Some(*a), None, None], 0), ([None, Some(*a), None], -1)],
        // Seen from its own start, or from the byte before it.
        [a, b] => [([Some(*a), Some(*b), None], 0), ([None, Some(*a), Some(*b)], -1)],
        // Seen from its start, or from its second byte.
        [a, b, c] => [([Some(*a), Some(*b), Some(*c)], 0), ([Some(*b), Some(*c), None], 1)],
        // Its rarest four bytes, seen from their first or their second.
        _ => {
            let (o, w) = p.windows(4).enumerate().min_by_key(|(_, w)| {
                let c: Vec<usize> = w.iter().map(|b| commonness(*b)).collect();
                (c.iter().max().copied(), c.iter().sum::<usize>())
            })?;
            let o = i32::try_from(o).ok()?;
            match w {
                [a, b, c, d] => [([Some(*a), Some(*b), Some(*c)], o), ([Some(*b), Some(*c), Some(*d)], o + 1)],
                _ => return None,
            }
        }
    })
}

impl Needs {
    /// The search for all the patterns' pieces; `None` if one pattern has
    /// none (every text may then hold a secret).
    pub fn new(hirs: &[Hir]) -> Option<Needs> {
        let mut all = Vec::new();
        for h in hirs {
            all.extend(pieces(h)?);
        }
        let pieces = prune(dedup(all));
        let mut bits: Box<[u64; SLOTS / 64]> = vec![0u64; SLOTS / 64].into_boxed_slice().try_into().ok()?;
        let mut at = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            let piece = u32::try_from(i).ok()?;
            for (three, offset) in threes(&p.bytes)? {
                // Every byte a place stands for: its cases if the piece is
                // folded; any ASCII byte (0 for the end) where it is open.
                let each = |x: Option<u8>| -> Vec<u8> {
                    match x {
                        None => (0..128).collect(),
                        Some(x) if p.folded => vec![x.to_ascii_lowercase(), x.to_ascii_uppercase()],
                        Some(x) => vec![x],
                    }
                };
                let [x, y, z] = three;
                let mut slots = Vec::new();
                for a in each(x) {
                    for b in each(y) {
                        for c in each(z) {
                            slots.push(slot(u64::from(u32::from_le_bytes([a, b, c, 0]))));
                        }
                    }
                }
                slots.sort_unstable();
                slots.dedup();
                for k in slots {
                    if let Some(w) = bits.get_mut((k >> 6) as usize) {
                        *w |= 1 << (k & 63);
                    }
                    at.push((k, At { piece, offset }));
                }
            }
        }
        at.sort_by_key(|(k, _)| *k);
        Some(Needs { pieces, bits, at })
    }

    fn is_set(&self, k: u32) -> u64 {
        self.bits.get((k >> 6) as usize).map_or(0, |w| (w >> (k & 63)) & 1)
    }

    /// Whether `text` may hold a match of some pattern: false only when it
    /// is ASCII and holds none of the pieces.
    pub fn may_match(&self, text: &str) -> bool {
        let t = text.as_bytes();
        // Three even places from one 8-byte load; a hit is looked at place
        // by place.
        let mut i = 0usize;
        while let Some(eight) = t.get(i..i.saturating_add(8)) {
            let w = u64::from_le_bytes(<[u8; 8]>::try_from(eight).unwrap_or([0x80; 8]));
            if w & 0x8080_8080_8080_8080 != 0 {
                return true; // not ASCII: the pieces do not decide
            }
            if self.is_set(slot(w)) | self.is_set(slot(w >> 16)) | self.is_set(slot(w >> 32)) != 0
                && self.found_in(t, i, i + 6)
            {
                return true;
            }
            i += 6;
        }
        if t.get(i..).unwrap_or_default().iter().any(|b| !b.is_ascii()) {
            return true;
        }
        self.found_in(t, i, t.len())
    }

    /// Whether a piece lies in `t` seen from one of the even places
    /// `from..to` (bytes past the end read as 0).
    #[cold]
    fn found_in(&self, t: &[u8], from: usize, to: usize) -> bool {
        (from..to).step_by(2).any(|i| {
            let byte = |j: usize| t.get(j).copied().unwrap_or(0);
            let k = slot(u64::from(u32::from_le_bytes([byte(i), byte(i + 1), byte(i + 2), 0])));
            self.is_set(k) != 0 && self.found_at(t, i, k)
        })
    }

    /// Whether a piece seen from bit `k` lies in `t` seen from place `i`.
    fn found_at(&self, t: &[u8], i: usize, k: u32) -> bool {
        let from = self.at.partition_point(|(x, _)| *x < k);
        self.at.get(from..).unwrap_or_default().iter().take_while(|(x, _)| *x == k).any(|(_, a)| {
            let Some(p) = self.pieces.get(a.piece as usize) else { return false };
            let start = match usize::try_from(a.offset) {
                Ok(o) => i.checked_sub(o),
                Err(_) => i.checked_add(a.offset.unsigned_abs() as usize),
            };
            let Some(start) = start else { return false };
            let Some(there) = t.get(start..start.saturating_add(p.bytes.len())) else { return false };
            if p.folded {
                there.eq_ignore_ascii_case(&p.bytes)
            } else {
                there == p.bytes.as_slice()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(p: &str) -> Hir {
        regex_syntax::Parser::new().parse(p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    /// The pieces of a pattern, as `text` or `text/i` (folded).
    fn shown(p: &str) -> Option<Vec<String>> {
        pieces(&parse(p)).map(|v| {
            v.iter()
                .map(|p| format!("{}{}", String::from_utf8_lossy(&p.bytes), if p.folded { "/i" } else { "" }))
                .collect()
        })
    }

    #[test]
    fn pieces_are_read_from_literals_small_classes_and_alternatives() {
        assert_eq!(shown(r"(?i)passw(?:ord|d)?\s*="), Some(vec!["passw/i".into()]));
        assert_eq!(shown(r"[?&](?:sig|key)="), Some(["&key=", "&sig=", "?key=", "?sig="].map(String::from).to_vec()));
        // A case-sensitive literal stays so; a long class ends the piece.
        assert_eq!(shown(r"\bSK[0-9a-fA-F]{32}"), Some(vec!["SK".into()]));
        // A piece joined with a folded one is folded.
        assert_eq!(shown(r"X(?i:y)"), Some(vec!["xy/i".into()]));
        // Each alternative gives its own; one without any leaves nothing.
        assert_eq!(shown(r"ab|cd"), Some(vec!["ab".into(), "cd".into()]));
        assert_eq!(shown(r"ab|\w+"), None);
        assert_eq!(shown(r"(?:ab)?c*"), None);
        // The longest of the needed parts is kept.
        assert_eq!(shown(r"a\w+bcd"), Some(vec!["bcd".into()]));
        // A Unicode case-insensitive `k` (which also matches the Kelvin sign)
        // is read as its ASCII cases: sound only for ASCII texts, which is
        // why `may_match` sends every other text to the automaton.
        assert_eq!(shown(r"(?i)tok"), Some(vec!["tok/i".into()]));
        let n = Needs::new(&[parse(r"(?i)token")]).unwrap();
        assert!(n.may_match("to\u{212A}en"));
        assert!(n.may_match("a ToKeN b"));
        assert!(!n.may_match("a tokn b"));
    }

    #[test]
    fn every_secret_pattern_gives_pieces_of_two_bytes_or_more() {
        let hirs = super::super::loosened().unwrap();
        for (i, h) in hirs.iter().enumerate() {
            let p = pieces(h).unwrap_or_else(|| panic!("pattern {i} gives no pieces"));
            assert!(!p.is_empty(), "pattern {i} never matches?");
            assert!(p.iter().all(|p| p.bytes.len() >= 2), "pattern {i}: {p:?}");
        }
        assert!(Needs::new(&hirs).is_some());
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from.get(self.below(from.len())).copied().unwrap_or("")
        }
    }

    /// A random pattern over a few letters: literals, classes, groups,
    /// alternatives, repetitions, anchors and case-insensitive parts.
    fn pattern(r: &mut Rng, depth: u32) -> String {
        let atoms = [
            "a", "b", "k", "K", "s", "-", "=", ":", " ", "[ab]", "[a-c]", "[kK]", r"\s", r"\w", ".", "[^a]", r"\d",
            "[:=]", "[-_ ]",
        ];
        let mut out = String::new();
        for _ in 0..1 + r.below(4) {
            let atom = if depth < 2 && r.below(4) == 0 {
                let alts: Vec<String> = (0..1 + r.below(3)).map(|_| pattern(r, depth + 1)).collect();
                let flags = r.pick(&["", "?i:", "?-i:", "?:"]);
                format!("({flags}{})", alts.join("|"))
            } else {
                r.pick(&atoms).to_string()
            };
            out.push_str(&atom);
            out.push_str(r.pick(&["", "", "", "?", "*", "+", "{2}", "{1,3}", "{0,2}"]));
            out.push_str(r.pick(&["", "", "", "", r"\b", "^", "$"]));
        }
        out
    }

    #[test]
    fn a_text_without_pieces_never_matches_the_pattern() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let letters = ["a", "b", "c", "k", "K", "s", "S", "-", "_", "=", ":", " ", "\t", "1", "\u{212A}", "ſ"];
        let (mut checked, mut matched, mut spared) = (0u32, 0u32, 0u32);
        for _ in 0..400 {
            let p = format!("{}{}", r.pick(&["", "(?i)"]), pattern(&mut r, 0));
            let Ok(re) = regex::Regex::new(&p) else { continue };
            let Some(needs) = Needs::new(&[parse(&p)]) else { continue };
            for _ in 0..150 {
                let text: String = (0..r.below(12)).map(|_| r.pick(&letters)).collect();
                checked += 1;
                let may = needs.may_match(&text);
                if re.is_match(&text) {
                    matched += 1;
                    assert!(may, "{p:?} matches {text:?}, but its pieces were not found");
                } else if !may {
                    spared += 1;
                }
            }
        }
        // The check is not empty: many texts match, and many are spared.
        assert!(matched > checked / 20 && spared > checked / 5, "{checked} {matched} {spared}");
    }

    #[test]
    fn every_secret_sample_is_found_in_any_case_and_line() {
        let set = super::super::any().unwrap();
        let needs = set.needs.as_ref().unwrap();
        let rules = super::super::rules::TOKENS.iter().chain(super::super::rules::ARGUMENTS);
        let mut lines: Vec<String> = rules.map(|r| r.sample.0.to_string()).collect();
        lines.extend(
            [
                "password=hunter2",
                "Authorization: Bearer abcdefgh12345678",
                "postgres://app:pw@db/app",
                "https://hooks.slack.com/services/T000/B000/XXXX",
                "Set-Cookie: sid=abc",
                "x?sig=abc&key=def",
                "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
                "-----BEGIN RSA PRIVATE KEY-----",
                "api_key: \"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA\"",
                r#"{"auth":"Y2k6cHc="}"#,
            ]
            .map(String::from),
        );
        for l in lines {
            for text in [l.clone(), l.to_uppercase(), l.to_lowercase(), format!("2025-12-26 ERROR [x] {l} failed")] {
                if set.re().is_some_and(|re| re.is_match(&text)) {
                    assert!(needs.may_match(&text), "{text:?}");
                }
            }
        }
        assert!(!needs.may_match("2025-12-26 14:00:01,123 INFO  [api] GET /v1/items/42 200 3ms"));
    }
}
