//! Severity detection from the words and codes logs use for it.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::event::Severity;

/// A level word (`ERROR`, `warn`, `crit`, `FTL` …) as a severity.
pub fn from_word(w: &[u8]) -> Option<Severity> {
    // The words nearly every line of a busy log begins with, as written:
    // told without lowering each byte into a buffer first.
    match w {
        b"INFO" => Some(Severity::Info),
        b"ERROR" => Some(Severity::Error),
        b"WARN" => Some(Severity::Warning),
        b"DEBUG" => Some(Severity::Debug),
        _ => by_lowered(w),
    }
}

/// [`from_word`] for any word: lowered, then looked up.
fn by_lowered(w: &[u8]) -> Option<Severity> {
    if w.len() < 3 || w.len() > 13 {
        return None;
    }
    let mut buf = [0u8; 13];
    let lower = buf.get_mut(..w.len())?;
    for (d, s) in lower.iter_mut().zip(w) {
        *d = s.to_ascii_lowercase();
    }
    Some(match &*lower {
        b"trace" | b"trc" | b"debug" | b"dbg" | b"verbose" | b"fine" | b"finer" | b"finest" => Severity::Debug,
        b"info" | b"inf" | b"information" | b"informational" | b"log" => Severity::Info,
        b"notice" | b"note" => Severity::Notice,
        b"warn" | b"warning" | b"wrn" => Severity::Warning,
        b"error" | b"err" | b"eror" | b"severe" => Severity::Error,
        b"fatal" | b"ftl" | b"crit" | b"critical" | b"crt" | b"panic" | b"alert" | b"emerg" | b"emergency" => {
            Severity::Critical
        }
        _ => return None,
    })
}

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

/// The searchers of the fallback, built once: `memmem::find` builds one
/// for every call, and on a log whose lines carry no level word (an access
/// log) building them was two thirds of the scan.
static TRACEBACK: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"Traceback (most recent call last)"));
static HTTP: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b" HTTP/"));

fn fallback(msg: &[u8]) -> Option<Severity> {
    let trimmed = trim_start(msg);
    if trimmed.starts_with(b"panic:") || trimmed.starts_with(b"fatal error:") {
        return Some(Severity::Critical);
    }
    if TRACEBACK.find(msg).is_some() {
        return Some(Severity::Error);
    }
    http_status_severity(msg)
}

/// `"GET / HTTP/1.1" 503 …` → error. Only the status right after the quoted
/// request line is read, so numbers elsewhere in the line are not mistaken.
fn http_status_severity(msg: &[u8]) -> Option<Severity> {
    let proto = HTTP.find(msg)?;
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
    #[test]
    fn the_words_told_as_written_are_told_as_the_lowered_ones_are() {
        for w in ["INFO", "ERROR", "WARN", "DEBUG", "Info", "error", "WARNING", "INFORMATION", "INF", "ERR", "XYZ", ""]
        {
            assert_eq!(super::from_word(w.as_bytes()), super::by_lowered(w.as_bytes()), "{w}");
        }
    }

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
