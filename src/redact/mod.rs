//! Secrets in event text are masked before any renderer sees them, so a
//! timeline can be pasted into a ticket: credentials in URLs and DSNs of any
//! scheme (with or without a user name), webhook URLs, `Authorization`,
//! `Proxy-Authorization`, `Cookie` and `Set-Cookie` headers, any field,
//! header, parameter, JSON or YAML member named like a secret, bearer
//! tokens, private key blocks, JWTs, the vendor tokens of [`rules::TOKENS`]
//! (one row per vendor, each with its sample), credentials on command lines
//! and in `.netrc` and Docker `auths` ([`rules::ARGUMENTS`]), and long
//! random values after a name that says key.

mod needs;
pub mod rules;

use std::borrow::Cow;
use std::sync::OnceLock;

use reconstruct_core::Event;
use regex::{Captures, Regex};
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::{Input, PatternID, PatternSet};

pub const MASK: &str = "***";

/// Names of fields, headers, parameters and members that hold secrets: a
/// name that contains one of these is a secret's name.
/// The secret word ends the name, or is followed by a separator or a
/// capital (`token_id`, `accessToken`, `passwordHash`): `TokenizerV2Error`
/// or `Detokenizer` are not secrets' names.
const SECRET_NAME: &str = r"[A-Za-z0-9_.-]*(?i:passw(?:ord|ort|d)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|session[_-]?(?:id|key|token)?|sessid|auth[_-]?(?:key|code)|accountkey|sharedaccesskey|sharedaccesssignature|signature|cookie|x-amz-signature|x-goog-signature)s?(?-i:[A-Z0-9_.-][A-Za-z0-9_.-]*)?";

/// One pattern: its source, what it keeps, and its regex, compiled the
/// first time a text matches it (most runs mask nothing, and compiling every
/// pattern took longer than reading a week of a repository).
struct Pattern {
    source: String,
    kind: Kind,
    regex: OnceLock<Option<Regex>>,
}

impl Pattern {
    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| match Regex::new(&self.source) {
                Ok(r) => Some(r),
                Err(e) => {
                    // A pattern that does not compile is a bug the tests catch (`every_pattern_compiles`).
                    debug_assert!(false, "{e}");
                    None
                }
            })
            .as_ref()
    }
}

fn patterns() -> &'static [Pattern] {
    static P: OnceLock<Vec<Pattern>> = OnceLock::new();
    P.get_or_init(|| {
        let named = format!(
            r#"(?i)((?:^|[\s{{,;&?"'(\[])["']?{SECRET_NAME}["']?\s*[:=]\s*["']?)([^\s"',;&}}\]\)]+)"#
        );
        let src: Vec<(String, Kind)> = vec![
            // -----BEGIN RSA PRIVATE KEY----- … -----END RSA PRIVATE KEY----- (OpenSSH, PKCS#8, EC too)
            (r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|\z)".into(), Kind::Whole),
            // scheme://user:password@host, and scheme://:password@host (no user name)
            (r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)([^\s@/]+)(@)".into(), Kind::Middle),
            // Webhook URLs: the path after the hook marker is the secret
            (r#"(?i)\b(https?://[^\s/"'<>]+/(?:services|api/webhooks|webhookb2|webhook|hooks|triggers)/)([^\s"'<>)]+)"#.into(), Kind::Value),
            // Cookie and Set-Cookie headers: every value on the line
            (r"(?im)\b((?:set-)?cookie\s*:\s*)([^\r\n]+)".into(), Kind::Value),
            // Authorization / Proxy-Authorization: Basic/Bearer/Token <credentials>
            (r"(?i)\b((?:proxy-)?authorization\s*[:=]\s*(?:basic|bearer|token|digest|negotiate|aws4-hmac-sha256)?\s*)([^\s,;]+)".into(), Kind::Value),
            // Bearer <token> anywhere else
            (r"(?i)\b(bearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)".into(), Kind::Value),
            // password=… secret: … "token":"…" X-Api-Key: … ?sig=… (any member, header, parameter or YAML key named like a secret)
            (named, Kind::Value),
            // Query parameters that carry credentials under short names (?sig=, ?key=, ?code=)
            (r#"(?i)([?&](?:sig|key|code|auth)=)([^&\s#"']+)"#.into(), Kind::Value),
            // JSON Web Tokens: header.payload.signature, base64url
            (r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}".into(), Kind::Whole),
            // Vendor tokens by their prefix or shape, every row at once.
            (
                // ASCII classes: Unicode ones repeated a hundred times make the automaton too big.
                format!(
                    r"\b(?-u:{})\b",
                    rules::TOKENS.iter().map(|r| format!("(?:{})", r.pattern)).collect::<Vec<_>>().join("|")
                ),
                Kind::Whole,
            ),
            // A long random value after a name that says key: kept only when it looks random
            (r#"(?i)\b([A-Za-z0-9_.-]*key["']?\s*[:=]\s*["']?)([A-Za-z0-9+/=_-]{20,})"#.into(), Kind::Random),
        ];
        let mut src = src;
        // Credentials on command lines and in the files that hold them.
        src.extend(rules::ARGUMENTS.iter().map(|r| {
            let kind = match r.keep {
                rules::Keep::Whole => Kind::Whole,
                rules::Keep::Value => Kind::Value,
                rules::Keep::Middle => Kind::Middle,
            };
            (r.pattern.to_string(), kind)
        }));
        // ASCII word boundaries: a Unicode `\b` keeps the regex engines off
        // their DFAs, and every event's text passes through these.
        src.into_iter()
            .map(|(p, kind)| Pattern { source: p.replace(r"\b", r"(?-u:\b)"), kind, regex: OnceLock::new() })
            .collect()
    })
}

/// Reads the patterns and works out the pieces each needs, on a thread of
/// its own, while the sources are read: every masking run needs them (the
/// coverage section is masked at the end), and a source that hands its
/// events over at its end (git) left the main thread to build them after
/// the walk, a tenth of a week's run. The first text to be masked waits for
/// this thread if it has not finished.
pub fn prepare() {
    let _ = std::thread::Builder::new().name("redact-prepare".into()).spawn(|| any().is_some());
}

/// All patterns at once: one pass tells that most texts hold no secret,
/// and which patterns may match the others. It only says whether and
/// which, so it is built without capture groups, and from each pattern
/// with its counted repetitions loosened (`{20,}` to `+`, see [`loosen`]):
/// it matches wherever a pattern does, and a few times more, when the
/// exact pattern then finds nothing. Built whole, the vendor tokens' long
/// counts made it the slowest part of a small run.
fn any() -> Option<&'static Set> {
    static S: OnceLock<Option<Set>> = OnceLock::new();
    S.get_or_init(|| {
        let hirs = loosened()?;
        let needs = needs::Needs::new(&hirs);
        Some(Set { hirs, re: OnceLock::new(), needs })
    })
    .as_ref()
}

/// Every pattern, parsed and loosened (see [`loosen`]).
fn loosened() -> Option<Vec<regex_syntax::hir::Hir>> {
    patterns().iter().map(|p| regex_syntax::Parser::new().parse(&p.source).ok().map(|h| loosen(&h))).collect()
}

/// A pattern that matches everything `h` matches: each repetition counted
/// past one (`x{16}`, `x{20,}`, `x{3,8}`) becomes `x+` (or `x*` where it
/// may be absent). Every text a secret pattern matches, this one matches.
fn loosen(h: &regex_syntax::hir::Hir) -> regex_syntax::hir::Hir {
    use regex_syntax::hir::{Capture, Hir, HirKind, Repetition};
    match h.kind() {
        HirKind::Repetition(r) => {
            let counted = r.min > 1 || r.max.is_some_and(|m| m > 1);
            let (min, max) = if counted { (r.min.min(1), None) } else { (r.min, r.max) };
            Hir::repetition(Repetition { min, max, greedy: r.greedy, sub: Box::new(loosen(&r.sub)) })
        }
        HirKind::Capture(c) => {
            Hir::capture(Capture { index: c.index, name: c.name.clone(), sub: Box::new(loosen(&c.sub)) })
        }
        HirKind::Concat(v) => Hir::concat(v.iter().map(loosen).collect()),
        HirKind::Alternation(v) => Hir::alternation(v.iter().map(loosen).collect()),
        _ => h.clone(),
    }
}

/// The patterns as one automaton, and the pieces of text without which
/// none of them matches (looked for first: most texts hold none). The
/// automaton is built the first time a text holds a piece: a run whose
/// texts hold none (most runs) never builds it, which took as long as
/// reading a small repository's week.
struct Set {
    hirs: Vec<regex_syntax::hir::Hir>,
    re: OnceLock<Option<regex_automata::meta::Regex>>,
    needs: Option<needs::Needs>,
}

impl Set {
    fn re(&self) -> Option<&regex_automata::meta::Regex> {
        self.re
            .get_or_init(|| {
                regex_automata::meta::Regex::builder()
                    .configure(
                        regex_automata::meta::Config::new()
                            .which_captures(WhichCaptures::None)
                            // Every pattern that matches, not only the leftmost.
                            .match_kind(regex_automata::MatchKind::All),
                    )
                    .build_many_from_hir(&self.hirs)
                    .ok()
            })
            .as_ref()
    }

    fn may_match(&self, text: &str) -> bool {
        self.needs.as_ref().is_none_or(|n| n.may_match(text))
    }

    /// Whether a pattern may match `text` (every text may, should the
    /// automaton not build: a bug `every_pattern_compiles` catches).
    fn is_match(&self, text: &str) -> bool {
        self.may_match(text) && self.re().is_none_or(|re| re.is_match(text))
    }

    /// Which patterns may match somewhere in `text`.
    fn matches(&self, text: &str) -> PatternSet {
        let mut hits = PatternSet::new(self.hirs.len());
        if self.may_match(text) {
            match self.re() {
                Some(re) => re.which_overlapping_matches(&Input::new(text), &mut hits),
                None => {
                    for i in 0..self.hirs.len() {
                        if let Ok(id) = PatternID::new(i) {
                            let _ = hits.try_insert(id);
                        }
                    }
                }
            }
        }
        hits
    }
}

#[derive(Clone, Copy)]
enum Kind {
    /// The whole match is the secret.
    Whole,
    /// Group 1 is kept, group 2 is the secret.
    Value,
    /// Groups 1 and 3 are kept, group 2 is the secret.
    Middle,
    /// Group 1 is kept, group 2 is the secret if it looks random.
    Random,
}

/// Whether a value looks random (a key), not a word or an id with structure:
/// Shannon entropy of at least 4 bits a character, and a mix of letters and digits.
fn looks_random(v: &str) -> bool {
    let mut counts = [0u32; 256];
    for b in v.bytes() {
        if let Some(c) = counts.get_mut(usize::from(b)) {
            *c = c.saturating_add(1);
        }
    }
    let n = v.len() as f64;
    let bits: f64 = counts.iter().filter(|c| **c > 0).map(|c| f64::from(*c) / n).map(|p| -p * p.log2()).sum();
    let digits = v.bytes().any(|b| b.is_ascii_digit());
    let letters = v.bytes().any(|b| b.is_ascii_alphabetic());
    bits >= 4.0 && digits && letters
}

/// Masking of saved answers when a capture redacts, and none otherwise.
#[derive(Clone, Copy)]
pub struct Masker {
    pub on: bool,
}

impl Masker {
    pub fn json(&self, v: &mut serde_json::Value) {
        if self.on {
            mask_json(v);
        }
    }

    /// A log line, masked (its invalid UTF-8 replaced) when on, else as it is.
    pub fn line(&self, l: &[u8]) -> Vec<u8> {
        if self.on {
            mask(&String::from_utf8_lossy(l)).0.into_owned().into_bytes()
        } else {
            l.to_vec()
        }
    }
}

/// Masks every string of a JSON value in place (saved store answers and
/// Kubernetes lists), so the saved file stays JSON its reader can parse.
pub fn mask_json(v: &mut serde_json::Value) -> u64 {
    match v {
        serde_json::Value::String(s) => {
            let (m, n) = mask(s);
            if n > 0 {
                *s = m.into_owned();
            }
            n
        }
        serde_json::Value::Array(a) => a.iter_mut().map(mask_json).sum(),
        serde_json::Value::Object(o) => o.values_mut().map(mask_json).sum(),
        _ => 0,
    }
}

/// Masks secrets in `text`; returns the text and how many values were masked.
pub fn mask(text: &str) -> (Cow<'_, str>, u64) {
    // Which patterns match: only those are compiled and applied (a mask
    // inserted by one never makes another match: `***` and `[REDACTED]`
    // are never taken for a secret).
    let hits = match any() {
        Some(set) => {
            let hits = set.matches(text);
            if hits.is_empty() {
                return (Cow::Borrowed(text), 0);
            }
            Some(hits)
        }
        None => None,
    };
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    let mut n = 0u64;
    for (i, p) in patterns().iter().enumerate() {
        if hits.as_ref().is_some_and(|h| !PatternID::new(i).is_ok_and(|id| h.contains(id))) {
            continue;
        }
        let (Some(re), kind) = (p.regex(), p.kind) else { continue };
        if !re.is_match(&out) {
            continue;
        }
        let replaced = re
            .replace_all(&out, |c: &Captures<'_>| {
                let g = |i| c.get(i).map_or("", |m| m.as_str());
                // Already masked (a DSN the collector masked) is not counted again.
                let secret = match kind {
                    Kind::Whole => g(0),
                    _ => g(2),
                };
                if secret == MASK
                    || secret.starts_with("***")
                    || secret.strip_prefix('$').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    || secret.starts_with("[REDACTED]")
                    || secret.is_empty()
                {
                    return g(0).to_string();
                }
                // `Authorization: Basic ***`: the scheme word is not the secret.
                let scheme = ["basic", "bearer", "token", "digest", "negotiate", "aws4-hmac-sha256"];
                if matches!(kind, Kind::Value) && scheme.iter().any(|w| secret.eq_ignore_ascii_case(w)) {
                    return g(0).to_string();
                }
                if matches!(kind, Kind::Random) && !looks_random(secret) {
                    return g(0).to_string();
                }
                n += 1;
                match kind {
                    Kind::Whole => "[REDACTED]".to_string(),
                    Kind::Value | Kind::Random => format!("{}{MASK}", g(1)),
                    Kind::Middle => format!("{}{MASK}{}", g(1), g(3)),
                }
            })
            .into_owned();
        out = Cow::Owned(replaced);
    }
    (out, n)
}

/// Masks text line by line, for saved files whose `file:line` evidence must
/// still hold: every line stays a line. A private key block spanning lines
/// is masked whole, line for line.
#[derive(Default)]
pub struct Lines {
    in_key: bool,
    pub masked: u64,
}

impl Lines {
    /// One line (without its newline) in, its masked form out.
    pub fn line(&mut self, raw: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(raw);
        let begins = text.contains("-----BEGIN") && text.contains("PRIVATE KEY");
        if self.in_key || begins {
            let ends = text.contains("-----END") && (self.in_key || begins);
            self.in_key = !ends;
            if begins {
                self.masked = self.masked.saturating_add(1);
            }
            return b"[REDACTED]".to_vec();
        }
        let (m, k) = mask(&text);
        self.masked = self.masked.saturating_add(k);
        if k == 0 && matches!(text, Cow::Borrowed(_)) {
            raw.to_vec()
        } else {
            m.into_owned().into_bytes()
        }
    }

    /// Whole text in, masked text out, line for line.
    pub fn text(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        for piece in bytes.split_inclusive(|c| *c == b'\n') {
            let (body, nl) = match piece.strip_suffix(b"\n") {
                Some(b) => (b, true),
                None => (piece, false),
            };
            out.extend(self.line(body));
            if nl {
                out.push(b'\n');
            }
        }
        out
    }
}

/// A writer that masks each line before passing it on.
pub struct MaskingWriter<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
    lines: Lines,
}

impl<W: std::io::Write> MaskingWriter<W> {
    pub fn new(inner: W) -> Self {
        MaskingWriter { inner, pending: Vec::new(), lines: Lines::default() }
    }

    /// Writes what is left of a last line without a newline; the writer back.
    pub fn finish(mut self) -> std::io::Result<W> {
        if !self.pending.is_empty() {
            let line = self.lines.line(&std::mem::take(&mut self.pending));
            self.inner.write_all(&line)?;
        }
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: std::io::Write> std::io::Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for piece in buf.split_inclusive(|c| *c == b'\n') {
            match piece.strip_suffix(b"\n") {
                Some(body) => {
                    self.pending.extend_from_slice(body);
                    let line = self.lines.line(&std::mem::take(&mut self.pending));
                    self.inner.write_all(&line)?;
                    self.inner.write_all(b"\n")?;
                }
                None => self.pending.extend_from_slice(piece),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Masks a string in place; returns how many values were masked.
pub fn string(s: &mut String) -> u64 {
    let (m, k) = mask(s);
    if k > 0 {
        *s = m.into_owned();
    }
    k
}

/// Whether any secret may be in one of `parts`: one search over them joined
/// by line ends instead of one a part. A line end stands where a part
/// begins or ends as the edge of a text does for every pattern (a blank
/// for `(?:^|\s)`, a non-word character for `\b`), so a secret in a part is
/// a match in the whole; a match across two parts only costs the full look.
fn any_in(parts: &[&str]) -> bool {
    thread_local! {
        static JOINED: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    let Some(set) = any() else { return true };
    JOINED.with(|j| {
        let Ok(mut j) = j.try_borrow_mut() else { return true };
        j.clear();
        for p in parts {
            j.push_str(p);
            j.push('\n');
        }
        set.is_match(&j)
    })
}

/// Masks every text of an event in place: its summary, excerpt, component
/// and evidence locator. Returns how many values were masked.
pub fn event(e: &mut Event) -> u64 {
    // Most events hold no secret: one search says so for all their texts.
    if e.fact.is_none() {
        let locator = match &e.evidence.locator {
            reconstruct_core::Locator::Text(t) => t.as_str(),
            reconstruct_core::Locator::Line { .. } => "",
        };
        if !any_in(&[&e.summary, &e.evidence.excerpt, &e.component, locator]) {
            return 0;
        }
    }
    let mut n = string(&mut e.summary).saturating_add(string(&mut e.evidence.excerpt));
    let (c, k) = mask(&e.component);
    if k > 0 {
        e.component = std::sync::Arc::from(c.as_ref());
        n = n.saturating_add(k);
    }
    if let reconstruct_core::Locator::Text(t) = &mut e.evidence.locator {
        n = n.saturating_add(string(t));
    }
    // The structured fact carries source text too (labels, a commit's subject).
    if let Some(f) = e.fact.as_deref_mut() {
        use reconstruct_core::Fact;
        match f {
            Fact::Alert { name, labels, .. } => {
                n = n.saturating_add(string(name));
                for v in labels.values_mut() {
                    n = n.saturating_add(string(v));
                }
            }
            Fact::Silence { matchers, .. } => n = n.saturating_add(string(matchers)),
            Fact::Container { container, signal, .. } => {
                n = n.saturating_add(string(container));
                if let Some(s) = signal {
                    n = n.saturating_add(string(s));
                }
            }
            Fact::Commit { subject, tags, files, .. } => {
                n = n.saturating_add(string(subject));
                for t in tags.iter_mut().chain(files.iter_mut()) {
                    n = n.saturating_add(string(t));
                }
            }
            Fact::Session { state: Some(s), .. } => n = n.saturating_add(string(s)),
            Fact::Session { state: None, .. } => {}
            Fact::Rollout { workload, images, .. } => {
                n = n.saturating_add(string(workload));
                for i in images {
                    n = n.saturating_add(string(i));
                }
            }
            // A span's name can hold a URL with credentials; ids are not secrets.
            Fact::Span { name: Some(name), .. } => n = n.saturating_add(string(name)),
            Fact::Span { name: None, .. } | Fact::Tally { .. } | Fact::Beats { .. } => {}
            Fact::Call { caller, callee, .. } => {
                n = n.saturating_add(string(caller)).saturating_add(string(callee));
            }
            Fact::Check { name, value, .. } => {
                n = n.saturating_add(string(name));
                if let Some(v) = value {
                    n = n.saturating_add(string(v));
                }
            }
            Fact::Package { packages, .. } => {
                for p in packages {
                    n = n.saturating_add(string(&mut p.name));
                    for v in [&mut p.from, &mut p.to].into_iter().flatten() {
                        n = n.saturating_add(string(v));
                    }
                }
            }
        }
    }
    n
}

/// Masks what the coverage section says of a source: its status, notes and
/// the messages about what could not be read (they may quote a line).
pub fn outcome(o: &mut crate::runner::Outcome) -> u64 {
    let mut n = 0u64;
    match &mut o.status {
        crate::runner::Status::Failed(m) => n = n.saturating_add(string(m)),
        crate::runner::Status::Complete | crate::runner::Status::TimedOut(_) => {}
    }
    for note in &mut o.tally.notes {
        n = n.saturating_add(string(note));
    }
    for d in &mut o.tally.diagnostics {
        n = n.saturating_add(string(&mut d.message));
    }
    n = n.saturating_add(string(&mut o.source.name));
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> String {
        mask(s).0.into_owned()
    }

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(patterns().len(), 11 + rules::ARGUMENTS.len());
        assert!(patterns().iter().all(|p| p.regex().is_some()), "each compiles alone");
        assert!(any().and_then(Set::re).is_some());
    }

    #[test]
    fn every_rules_own_sample_is_masked() {
        // Tokens are compiled with ASCII classes, as `patterns` does.
        let tokens = rules::TOKENS.iter().map(|r| (r, format!("(?-u:{})", r.pattern)));
        let arguments = rules::ARGUMENTS.iter().map(|r| (r, r.pattern.to_string()));
        for (r, pattern) in tokens.chain(arguments) {
            let re = Regex::new(&pattern).unwrap_or_else(|e| panic!("{}: {e}", r.id));
            let (text, secret) = r.sample;
            assert!(re.is_match(text), "{}: its own sample {text:?}", r.id);
            let line = format!("2025-12-26 14:30:01 ERROR {text} failed");
            let out = m(&line);
            assert!(!out.contains(secret), "{}: {line:?} -> {out:?}", r.id);
        }
        let ids: std::collections::BTreeSet<&str> =
            rules::TOKENS.iter().chain(rules::ARGUMENTS).map(|r| r.id).collect();
        assert_eq!(ids.len(), rules::TOKENS.len() + rules::ARGUMENTS.len(), "ids are unique");
    }

    #[test]
    fn one_search_over_an_events_texts_misses_no_secret_in_any_of_them() {
        let mut samples: Vec<(&str, &str)> = rules::TOKENS.iter().chain(rules::ARGUMENTS).map(|r| r.sample).collect();
        samples.extend([
            ("password=hunter2", "hunter2"),
            ("--password s3cretValue", "s3cretValue"),
            ("Authorization: Bearer abcdefghijkl", "abcdefghijkl"),
            ("postgres://app:pa55word@db/app", "pa55word"),
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIEabc", "MIIEabc"),
        ]);
        for (text, secret) in samples {
            for field in 0..4 {
                let mut e = Event {
                    time: reconstruct_core::Timestamp::from_unix_nanos(0),
                    basis: reconstruct_core::TimeBasis::Explicit,
                    collector: reconstruct_core::SourceKind::Logfile,
                    component: std::sync::Arc::from("api"),
                    kind: reconstruct_core::EventKind::Log,
                    severity: None,
                    summary: "request served".to_string(),
                    evidence: reconstruct_core::Evidence {
                        locator: reconstruct_core::Locator::Text("docker logs api".to_string()),
                        excerpt: "2025-12-26 14:30:01 INFO request served".to_string(),
                    },
                    continuation_lines: 0,
                    service: None,
                    fact: None,
                };
                match field {
                    0 => e.summary = text.to_string(),
                    1 => e.evidence.excerpt = text.to_string(),
                    2 => e.component = std::sync::Arc::from(text),
                    _ => e.evidence.locator = reconstruct_core::Locator::Text(text.to_string()),
                }
                assert!(event(&mut e) > 0, "{text:?} in field {field}");
                let all = format!("{} {} {} {}", e.summary, e.evidence.excerpt, e.component, e.evidence.locator);
                assert!(!all.contains(secret), "{text:?} in field {field}: {all}");
            }
        }
    }

    #[test]
    fn command_lines_keep_what_is_not_a_secret() {
        for text in [
            "mysql -u root -p app",
            "mysql -h db -P 3306 -u app app",
            "curl -u deploy https://api/x",
            "docker login registry.example.com",
            "machine api.example.com login deploy",
            "sshpass -f /run/secrets/pw ssh web",
            "unsupported BIN 4111",
        ] {
            assert_eq!(m(text), text, "false positive");
        }
    }

    #[test]
    fn every_kind_of_secret() {
        assert_eq!(
            m("connecting to postgres://app:s3cr3t@db:5432/app"),
            "connecting to postgres://app:***@db:5432/app"
        );
        assert_eq!(m("login failed password=hunter2 user=bob"), "login failed password=*** user=bob");
        assert_eq!(m(r#"{"user":"bob","password":"hunter2"}"#), r#"{"user":"bob","password":"***"}"#);
        assert_eq!(m("client_secret: abc123 next"), "client_secret: *** next");
        assert_eq!(m("GET /x?token=abcdef&page=2"), "GET /x?token=***&page=2");
        assert_eq!(m("Authorization: Basic dXNlcjpwYXNz"), "Authorization: Basic ***");
        assert_eq!(m("sent header Bearer abcdefghijklmnop.qrs"), "sent header Bearer ***");
        assert_eq!(m("key AKIAIOSFODNN7EXAMPLE used"), "key [REDACTED] used");
        assert_eq!(m("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), "aws_secret_access_key=***");
        assert_eq!(
            m("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok"),
            "jwt [REDACTED] ok"
        );
        assert_eq!(m("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"), "[REDACTED]");
        assert_eq!(m("token ghp_abcdefghijklmnopqrstuvwxyz0123456789"), "token [REDACTED]");
        assert_eq!(mask("nothing here, pool 3/20").1, 0);
        assert_eq!(mask("postgres://app:***@db/x").1, 0, "already masked is not counted");
        assert_eq!(mask("UPDATE t SET password = $1").1, 0, "placeholders are not secrets");
        // What engineers paste.
        for (text, secret) in [
            ("cache at redis://:pw-Redis-77@cache:6379/0", "pw-Redis-77"),
            ("mongodb://root:M0ngoPass@db:27017/app", "M0ngoPass"),
            ("amqp://guest:Rabb1tPass@mq:5672/", "Rabb1tPass"),
            ("mysql://app:MyS3cret@db/app", "MyS3cret"),
            ("Cookie: session=abc123def456; theme=dark", "abc123def456"),
            ("Set-Cookie: sid=Zx81kQ0pLm; Path=/; HttpOnly", "Zx81kQ0pLm"),
            ("X-Api-Key: 7f3d9a2b5c8e1f4a", "7f3d9a2b5c8e1f4a"),
            ("Proxy-Authorization: Basic cHJveHk6cGFzcw==", "cHJveHk6cGFzcw=="),
            ("posting to https://hooks.slack.com/services/T0001/B0002/XXXXsecretXXXX", "XXXXsecretXXXX"),
            ("https://discord.com/api/webhooks/123456/AbCdEfGhSecret", "AbCdEfGhSecret"),
            (
                "https://example.webhook.office.com/webhookb2/abc@def/IncomingWebhook/0123/xyz",
                "IncomingWebhook/0123/xyz",
            ),
            ("GET /download?X-Amz-Signature=9f8e7d6c5b4a&X-Amz-Date=20251226", "9f8e7d6c5b4a"),
            ("GET /cb?access_token=ya29.a0AfH6SMB&state=1", "ya29.a0AfH6SMB"),
            ("GET /file?sig=Qm9vbTEyMw%3D%3D&se=2025", "Qm9vbTEyMw%3D%3D"),
            ("db_password: Tr0ub4dor&3", "Tr0ub4dor"),
            ("  api_key: 'abcd-1234-efgh'", "abcd-1234-efgh"),
            (
                "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=bXlrZXkxMjM0NTY3ODkw==;EndpointSuffix=core",
                "bXlrZXkxMjM0NTY3ODkw==",
            ),
            ("Endpoint=sb://x.servicebus.windows.net/;SharedAccessSignature=sv=2019&sig=abcDEF123", "abcDEF123"),
            ("charge failed with sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
            ("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", "TwL2iGABf9DHoTf"),
            ("//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm_abcdefghij"),
            ("pypi-AgEIcHlwaS5vcmcCJGI4ZjQ0ZDI4LWVhYmQtNGYxMy04ZmQ3LWRkY2IxNzk4ZDk5NQACKlsz", "pypi-AgEIcHlwaS5vcmc"),
            ("twilio key SK2a0747e1e4a0d4e7b7c5f3e1d9a8b6c4", "SK2a0747e1e4a0d4e7b7c5f3e1d9a8b6c4"),
            ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV", "github_pat_11ABCDEFG"),
            ("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-123456789012"),
            ("encryption_key=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"),
            ("{\"session_token\": \"s3ss10n-T0k3n\"}", "s3ss10n-T0k3n"),
        ] {
            let out = m(text);
            assert!(!out.contains(secret), "{text:?} -> {out:?}");
        }
        // What must stay readable: ids, hashes, durations, words near secret-like names.
        for text in [
            "request_id=7f3a9c2b-1d4e-4f5a-9b8c-0d1e2f3a4b5c took 31.2ms",
            "commit abc123f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0 author: Dana Ortiz",
            "session started for user 42",
            "cache key=schedule:week:363 miss",
            "Authorization failed for user bob",
            "tokens processed: 512 in 3s",
            "card tokenization failed: TokenizerV2Error: unsupported BIN 4111",
            "Detokenizer: ready",
        ] {
            assert_eq!(m(text), text, "false positive");
        }
    }
}
