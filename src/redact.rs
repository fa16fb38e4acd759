//! Secrets in event text are masked before any renderer sees them, so a
//! timeline can be pasted into a ticket: passwords in URLs and DSNs,
//! `password=`/`secret=`/`token=` fields, `Authorization:` headers, bearer
//! tokens, AWS keys, private keys and JWTs.

use std::borrow::Cow;
use std::sync::OnceLock;

use reconstruct_core::Event;
use regex::{Captures, Regex, RegexSet};

pub const MASK: &str = "***";

fn patterns() -> &'static [(Regex, Kind)] {
    static P: OnceLock<Vec<(Regex, Kind)>> = OnceLock::new();
    P.get_or_init(|| {
        let src: [(&str, Kind); 8] = [
            // -----BEGIN RSA PRIVATE KEY----- … -----END RSA PRIVATE KEY-----
            (r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\z)", Kind::Whole),
            // scheme://user:password@host
            (r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(@)", Kind::Middle),
            // Authorization: Basic/Bearer/Token <credentials>
            (r"(?i)\b(authorization\s*[:=]\s*(?:basic|bearer|token|digest|negotiate)?\s*)([^\s,;]+)", Kind::Value),
            // Bearer <token> anywhere else
            (r"(?i)\b(bearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)", Kind::Value),
            // password=… secret: … "token":"…"
            (
                r#"(?i)\b((?:[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth))["']?\s*[:=]\s*["']?)([^\s"',;&}]+)"#,
                Kind::Value,
            ),
            // AWS access key ids
            (r"\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16})\b", Kind::Whole),
            // JSON Web Tokens: header.payload.signature, base64url
            (r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}", Kind::Whole),
            // GitHub, Slack and similar prefixed tokens
            (r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,})", Kind::Whole),
        ];
        src.iter().filter_map(|(p, k)| Regex::new(p).ok().map(|r| (r, *k))).collect()
    })
}

/// All patterns at once: one pass tells that most texts hold no secret.
fn any() -> Option<&'static RegexSet> {
    static S: OnceLock<Option<RegexSet>> = OnceLock::new();
    S.get_or_init(|| RegexSet::new(patterns().iter().map(|(r, _)| r.as_str())).ok()).as_ref()
}

#[derive(Clone, Copy)]
enum Kind {
    /// The whole match is the secret.
    Whole,
    /// Group 1 is kept, group 2 is the secret.
    Value,
    /// Groups 1 and 3 are kept, group 2 is the secret.
    Middle,
}

/// Masks secrets in `text`; returns the text and how many values were masked.
pub fn mask(text: &str) -> (Cow<'_, str>, u64) {
    if any().is_some_and(|set| !set.is_match(text)) {
        return (Cow::Borrowed(text), 0);
    }
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    let mut n = 0u64;
    for (re, kind) in patterns() {
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
                if secret == MASK || secret.starts_with("***") || secret.starts_with('$') {
                    return g(0).to_string();
                }
                n += 1;
                match kind {
                    Kind::Whole => "[REDACTED]".to_string(),
                    Kind::Value => format!("{}{MASK}", g(1)),
                    Kind::Middle => format!("{}{MASK}{}", g(1), g(3)),
                }
            })
            .into_owned();
        out = Cow::Owned(replaced);
    }
    (out, n)
}

/// Masks an event's text in place; returns how many values were masked.
pub fn event(e: &mut Event) -> u64 {
    let mut n = 0;
    for s in [&mut e.summary, &mut e.evidence.excerpt] {
        let (m, k) = mask(s);
        if k > 0 {
            *s = m.into_owned();
            n += k;
        }
    }
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
        assert_eq!(patterns().len(), 8);
        assert!(any().is_some());
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
    }
}
