//! Severity detection from the words and codes logs use for it.

use crate::event::Severity;

/// A level word (`ERROR`, `warn`, `crit`, `FTL` …) as a severity.
pub fn from_word(w: &[u8]) -> Option<Severity> {
    word_at(w, w.len())
}

/// [`from_word`] of the first `len` bytes of `text`: read as two numbers
/// straight from `text` where it holds 16 bytes, not copied out first.
pub fn word_at(text: &[u8], len: usize) -> Option<Severity> {
    if !(3..=13).contains(&len) {
        return None;
    }
    let wide = text.get(..8).zip(text.get(8..16));
    let (lo, hi) = match wide.and_then(|(a, b)| Some((<[u8; 8]>::try_from(a).ok()?, <[u8; 8]>::try_from(b).ok()?))) {
        Some((a, b)) => (u64::from_le_bytes(a), u64::from_le_bytes(b)),
        None => {
            let mut buf = [0u8; 16];
            buf.get_mut(..len)?.copy_from_slice(text.get(..len)?);
            let (a, b) = buf.split_at(8);
            (u64::from_le_bytes(a.try_into().ok()?), u64::from_le_bytes(b.try_into().ok()?))
        }
    };
    // The bytes past the word are let go, as `key` finds them: zero.
    let lo = if len >= 8 { lo } else { lo & ((1u64 << (8 * len)) - 1) };
    let hi = if len <= 8 { 0 } else { hi & ((1u64 << (8 * (len - 8))) - 1) };
    Some(match key(lo, hi, len) {
        TRACE | TRC | DEBUG | DBG | VERBOSE | FINE | FINER | FINEST => Severity::Debug,
        INFO | INF | INFORMATION | INFORMATIONAL | LOG => Severity::Info,
        NOTICE | NOTE => Severity::Notice,
        WARN | WARNING | WRN => Severity::Warning,
        ERROR | ERR | EROR | SEVERE => Severity::Error,
        FATAL | FTL | CRIT | CRITICAL | CRT | PANIC | ALERT | EMERG | EMERGENCY => Severity::Critical,
        _ => return None,
    })
}

/// A word of at most 13 bytes (its first eight in `lo`, the rest in `hi`,
/// little-endian, zero past its end) and its length as one number, its
/// letters in lower case: every line's level word is asked, and numbers
/// compare without a call a candidate. Setting the 0x20 bit of every byte
/// makes a letter of either case the lower-case letter and nothing else
/// one, so a word matches a level word (letters alone) exactly when its
/// lower case does.
const fn key(lo: u64, hi: u64, len: usize) -> u128 {
    let lo = lo | 0x2020_2020_2020_2020;
    let hi = (hi & 0x00ff_ffff_ffff_ffff) | 0x0020_2020_2020_2020 | ((len as u64) << 56);
    ((hi as u128) << 64) | lo as u128
}

/// A level word's [`key`]. Only evaluated for the constants below, at
/// build time, where an index out of bounds would fail the build.
#[allow(clippy::indexing_slicing)]
const fn packed(w: &[u8]) -> u128 {
    let mut buf = [0u8; 16];
    let (mut rest, mut i) = (w, 0);
    while let [c, tail @ ..] = rest {
        if i < 15 {
            buf[i] = *c;
        }
        (rest, i) = (tail, i + 1);
    }
    let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = buf;
    key(u64::from_le_bytes([a, b, c, d, e, f, g, h]), u64::from_le_bytes([i, j, k, l, m, n, o, p]), w.len())
}

const TRACE: u128 = packed(b"trace");
const TRC: u128 = packed(b"trc");
const DEBUG: u128 = packed(b"debug");
const DBG: u128 = packed(b"dbg");
const VERBOSE: u128 = packed(b"verbose");
const FINE: u128 = packed(b"fine");
const FINER: u128 = packed(b"finer");
const FINEST: u128 = packed(b"finest");
const INFO: u128 = packed(b"info");
const INF: u128 = packed(b"inf");
const INFORMATION: u128 = packed(b"information");
const INFORMATIONAL: u128 = packed(b"informational");
const LOG: u128 = packed(b"log");
const NOTICE: u128 = packed(b"notice");
const NOTE: u128 = packed(b"note");
const WARN: u128 = packed(b"warn");
const WARNING: u128 = packed(b"warning");
const WRN: u128 = packed(b"wrn");
const ERROR: u128 = packed(b"error");
const ERR: u128 = packed(b"err");
const EROR: u128 = packed(b"eror");
const SEVERE: u128 = packed(b"severe");
const FATAL: u128 = packed(b"fatal");
const FTL: u128 = packed(b"ftl");
const CRIT: u128 = packed(b"crit");
const CRITICAL: u128 = packed(b"critical");
const CRT: u128 = packed(b"crt");
const PANIC: u128 = packed(b"panic");
const ALERT: u128 = packed(b"alert");
const EMERG: u128 = packed(b"emerg");
const EMERGENCY: u128 = packed(b"emergency");

/// How far into a message a level word is looked for: levels come first.
const LEVEL_SCAN: usize = 96;

/// Severity of a log message (the text after its timestamp).
///
/// A level word counts when it is written in capitals (`ERROR`), in brackets
/// (`[error]`, `[core:error]`), or as a field (`level=error`); a lowercase
/// "error" inside a sentence does not. Failing that, a Go panic, a Python
/// traceback or an HTTP 5xx status in an access-log line mark an error.
pub fn detect(msg: &[u8]) -> Option<Severity> {
    let head = msg.get(..LEVEL_SCAN.min(msg.len())).unwrap_or(msg);
    let mut i = 0;
    while i < head.len() {
        let Some(&c) = head.get(i) else { break };
        if !c.is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while head.get(i).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
        }
        let word = head.get(start..i).unwrap_or_default();
        let before = start.checked_sub(1).and_then(|k| head.get(k)).copied();
        let after = head.get(i).copied();
        // `ERROR:` or `ERROR]` or `ERROR ` — but not the `ERROR` of `ERROR_CODE`.
        if after == Some(b'_') || before == Some(b'_') {
            continue;
        }
        let upper = word.iter().all(u8::is_ascii_uppercase);
        let bracketed =
            matches!(before, Some(b'[') | Some(b':') | Some(b'<')) && matches!(after, Some(b']') | Some(b'>'));
        let field = before == Some(b'=') && is_level_key(head.get(..start.saturating_sub(1)).unwrap_or_default())
            || before == Some(b'"')
                && head
                    .get(..start.saturating_sub(1))
                    .is_some_and(|p| p.ends_with(b"\"level\":") || p.ends_with(b"\"level\": "));
        if upper || bracketed || field {
            if let Some(s) = from_word(word) {
                return Some(s);
            }
        }
    }
    fallback(msg)
}

fn is_level_key(prefix: &[u8]) -> bool {
    [&b"level"[..], b"lvl", b"severity", b"loglevel", b"log.level"].iter().any(|k| {
        prefix.ends_with(k)
            && (prefix.len() == k.len()
                || prefix.get(prefix.len() - k.len() - 1).is_some_and(|c| !c.is_ascii_alphanumeric()))
    })
}

fn fallback(msg: &[u8]) -> Option<Severity> {
    let trimmed = trim_start(msg);
    if trimmed.starts_with(b"panic:") || trimmed.starts_with(b"fatal error:") {
        return Some(Severity::Critical);
    }
    if memchr::memmem::find(msg, b"Traceback (most recent call last)").is_some() {
        return Some(Severity::Error);
    }
    http_status_severity(msg)
}

/// `"GET / HTTP/1.1" 503 …` → error. Only the status right after the quoted
/// request line is read, so numbers elsewhere in the line are not mistaken.
fn http_status_severity(msg: &[u8]) -> Option<Severity> {
    let proto = memchr::memmem::find(msg, b" HTTP/")?;
    let rest = msg.get(proto..)?;
    let q = memchr::memchr(b'"', rest)?;
    let after = rest.get(q + 1..)?;
    match after {
        [b' ', b'5', d1, d2, b' ', ..] | [b' ', b'5', d1, d2] if d1.is_ascii_digit() && d2.is_ascii_digit() => {
            Some(Severity::Error)
        }
        _ => None,
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_word_in_every_case_and_nothing_else() {
        let words: [(&str, Severity); 31] = [
            ("trace", Severity::Debug),
            ("trc", Severity::Debug),
            ("debug", Severity::Debug),
            ("dbg", Severity::Debug),
            ("verbose", Severity::Debug),
            ("fine", Severity::Debug),
            ("finer", Severity::Debug),
            ("finest", Severity::Debug),
            ("info", Severity::Info),
            ("inf", Severity::Info),
            ("information", Severity::Info),
            ("informational", Severity::Info),
            ("log", Severity::Info),
            ("notice", Severity::Notice),
            ("note", Severity::Notice),
            ("warn", Severity::Warning),
            ("warning", Severity::Warning),
            ("wrn", Severity::Warning),
            ("error", Severity::Error),
            ("err", Severity::Error),
            ("eror", Severity::Error),
            ("severe", Severity::Error),
            ("fatal", Severity::Critical),
            ("ftl", Severity::Critical),
            ("crit", Severity::Critical),
            ("critical", Severity::Critical),
            ("crt", Severity::Critical),
            ("panic", Severity::Critical),
            ("alert", Severity::Critical),
            ("emerg", Severity::Critical),
            ("emergency", Severity::Critical),
        ];
        for (w, want) in words {
            let upper = w.to_ascii_uppercase();
            let title =
                format!("{}{}", w.get(..1).unwrap_or_default().to_ascii_uppercase(), w.get(1..).unwrap_or_default());
            for form in [w.to_string(), upper, title] {
                assert_eq!(from_word(form.as_bytes()), Some(want), "{form}");
            }
        }
        for w in
            ["", "in", "infos", "informationals", "errors", "warnx", "er", "lo", "logs", "inform", "e\0ror", "info\0"]
        {
            assert_eq!(from_word(w.as_bytes()), None, "{w:?}");
        }
        // Read in place from a longer text: the bytes after the word count
        // for nothing, whatever they are.
        for (w, want) in words {
            for tail in ["", "x", "Xq [api] upstream timed out after 30s", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"] {
                let text = format!("{}{tail}", w.to_ascii_uppercase());
                assert_eq!(word_at(text.as_bytes(), w.len()), Some(want), "{text:?}");
            }
        }
        for text in ["INFOS and more after it", "ER and more after it, long", "E\0ROR and more after it"] {
            let n = text.find(' ').unwrap_or(text.len());
            assert_eq!(word_at(text.as_bytes(), n), from_word(&text.as_bytes()[..n]), "{text:?}");
        }
        assert_eq!(word_at(b"INFO", 5), None, "past the text");
    }

    #[test]
    fn level_words() {
        assert_eq!(detect(b" ERROR [api] boom"), Some(Severity::Error));
        assert_eq!(detect(b" [warn] 1234#0: upstream slow"), Some(Severity::Warning));
        assert_eq!(detect(b" [core:error] [pid 1] AH00124"), Some(Severity::Error));
        assert_eq!(detect(b" level=error msg=\"db down\""), Some(Severity::Error));
        assert_eq!(detect(b" FATAL: terminating connection"), Some(Severity::Critical));
        assert_eq!(detect(b" CRITICAL disk full"), Some(Severity::Critical));
        assert_eq!(detect(b" INFO started"), Some(Severity::Info));
        assert_eq!(detect(b" WARNING: slow"), Some(Severity::Warning));
        assert_eq!(detect(b" no error here, all fine"), None);
        assert_eq!(detect(b" ERROR_CODE=5 done"), None);
        assert_eq!(detect(b" GET /x 200"), None);
    }

    #[test]
    fn markers_without_a_level() {
        assert_eq!(detect(b"panic: runtime error: index out of range"), Some(Severity::Critical));
        assert_eq!(detect(b"Traceback (most recent call last):"), Some(Severity::Error));
        assert_eq!(detect(b"10.0.0.1 - - \"GET /api HTTP/1.1\" 502 12 \"-\""), Some(Severity::Error));
        assert_eq!(detect(b"10.0.0.1 - - \"GET /api HTTP/1.1\" 200 512"), None);
        assert_eq!(detect(b"10.0.0.1 - - \"GET /api HTTP/1.1\" 404 512"), None);
    }
}
