//! Phase 3, impact: which operations failed and which kept working (HTTP
//! method and route with the ids taken out, and named tools and jobs), how
//! many requests failed, how many distinct users the errors name (counted,
//! never shown), and the errors of each component minute by minute; all
//! over the incident's span, from every event of it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use reconstruct_core::{Event, Timestamp};
use regex::Regex;
use serde::Serialize;

use super::{is_error, Cited};

/// One operation's outcome over the incident.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Operation {
    /// `POST /api/v1/orders/{id}`, or `tool generate_schedule`.
    pub operation: String,
    pub failed: u64,
    pub succeeded: u64,
    /// Its first failure, when it failed.
    pub first_failure: Option<Cited>,
}

/// Errors of one component in one minute.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Volume {
    pub component: String,
    #[schemars(with = "String")]
    pub minute: Timestamp,
    pub errors: u64,
}

/// The impact of the incident.
#[derive(Clone, Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Impact {
    /// Failing operations first (most failures first), then those that kept working.
    pub operations: Vec<Operation>,
    /// Distinct users named in the error events (never their names).
    pub users_affected: u64,
    /// HTTP requests that failed (5xx, or logged as errors).
    pub failed_requests: u64,
    pub error_volume: Vec<Volume>,
    /// Where the counts come from, and what they could not see.
    pub notes: Vec<String>,
}

/// A failed request, or a tool's or job's run.
struct Outcome {
    time: Timestamp,
    failed: bool,
    /// A failure's citation.
    cited: Option<Box<Cited>>,
}

/// A request served, the most common line of a busy log: its time and
/// where it was logged, in 16 bytes.
struct Served {
    time: Timestamp,
    /// The line, with `path` an index into [`Observed::paths`]; with `path`
    /// at [`TEXT`], an index into [`Observed::texts`].
    line: u32,
    path: u32,
}

const TEXT: u32 = u32::MAX;

/// Requests served, in chunks of a fixed size: a busy log's millions are
/// kept without the copies (and fresh pages) of a vector doubling.
#[derive(Default)]
struct Chunks {
    chunks: Vec<Vec<Served>>,
}

impl Chunks {
    const CHUNK: usize = 16_384;

    fn push(&mut self, s: Served) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < Self::CHUNK => c.push(s),
            _ => {
                let mut c = Vec::with_capacity(Self::CHUNK);
                c.push(s);
                self.chunks.push(c);
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Served> {
        self.chunks.iter().flatten()
    }
}

/// One operation's outcomes.
#[derive(Default)]
struct Op {
    served: Chunks,
    other: Vec<Outcome>,
    /// Whether it is an HTTP request (served ones count for the recovery).
    http: bool,
}

/// What impact keeps while the events go by: compact outcomes, not events.
#[derive(Default)]
pub struct Observed {
    operations: rustc_hash::FxHashMap<String, Op>,
    /// The files served requests were logged in, and the other locators.
    paths: Vec<std::sync::Arc<str>>,
    path_index: HashMap<std::sync::Arc<str>, usize>,
    texts: Vec<reconstruct_core::Locator>,
    /// A hash of each user value named by an error, with its time.
    users: Vec<(Timestamp, u64)>,
    errors: Vec<(Timestamp, std::sync::Arc<str>)>,
    /// Buffers kept between lines.
    key: String,
    routed: String,
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A request line read by its words, not a pattern (it runs on every line
/// of a busy log): a method, the path after it, and the first status code
/// among the next few words (`-> 500`, `HTTP/1.1" 200`, `status=503`).
pub fn request(text: &str) -> Option<(&str, &str, u16)> {
    // A path is a word that starts with `/`: each one found (by memchr) is
    // tried with the word before it as the method, in the order of the text.
    let bytes = text.as_bytes();
    for slash in memchr::memchr_iter(b'/', bytes) {
        let Some(before) = slash.checked_sub(1).and_then(|i| bytes.get(i)) else { continue };
        if !before.is_ascii_whitespace() {
            continue;
        }
        let head = text.get(..slash)?.trim_end_matches(|c: char| c.is_ascii_whitespace());
        let w = head.rsplit(|c: char| c.is_ascii_whitespace()).next().unwrap_or(head);
        // `GET`, `"GET` (an access log), `msg="GET` (logfmt).
        let word = w.rsplit(['"', '=', '\'']).next().unwrap_or(w);
        let Some(method) = METHODS.iter().find(|m| word == **m) else { continue };
        let mut after = text.get(slash..)?.split_ascii_whitespace();
        let Some(path) = after.next() else { continue };
        let path = path.split(['?', '"', '\'', '#']).next().unwrap_or(path);
        if let Some(status) = status_after(after) {
            return Some((*method, path, status));
        }
    }
    None
}

/// The status among the words after a request's path: the next word after
/// the protocol and the arrow, if it is one (a port or an address further
/// on is not).
fn status_after<'a>(mut after: impl Iterator<Item = &'a str>) -> Option<u16> {
    let w = after.find(|w| {
        let w = w.trim_matches('"');
        !(w.starts_with("HTTP/") || ["->", "=>", "→", "returned", "status", "status:", "with"].contains(&w))
    })?;
    let w = w.strip_prefix("status=").or_else(|| w.strip_prefix("status:")).unwrap_or(w);
    let w = w.trim_matches(|c: char| !c.is_ascii_digit());
    (w.len() == 3 && w.starts_with(['1', '2', '3', '4', '5'])).then(|| w.parse().ok()).flatten()
}

#[cfg(test)]
fn http() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        #[allow(clippy::expect_used)]
        Regex::new(r#"\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(/[^\s?"'#]*)(?:\?\S*)?(?:\s+HTTP/[\d.]+)?"?\s*(?:->|=>|→|status[=:]?|returned|:)?\s*([1-5]\d\d)?\b"#)
            .expect("a valid pattern")
    })
}

fn tool() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        #[allow(clippy::expect_used)]
        Regex::new(r"\b(tool|job|task)(?: call| timeout| failed| error)?[=:]?\s+([a-z_][\w.-]{2,})")
            .expect("a valid pattern")
    })
}

fn user() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        #[allow(clippy::expect_used)]
        Regex::new(r#"(?i)\b(?:user|user_id|userid|uid|customer|customer_id|account|account_id)["']?\s*[=:]\s*["']?([\w.@+-]+)|([\w.+-]+@[\w-]+\.[\w.-]+)"#)
            .expect("a valid pattern")
    })
}

/// A text with the users it names replaced by `***`.
pub fn mask_users(text: &str) -> String {
    user()
        .replace_all(text, |c: &regex::Captures<'_>| {
            let all = c.get(0).map_or("", |m| m.as_str());
            match c.get(1).or_else(|| c.get(2)) {
                Some(v) => {
                    let start = v.start().saturating_sub(c.get(0).map_or(0, |m| m.start()));
                    format!("{}***", all.get(..start).unwrap_or_default())
                }
                None => all.to_string(),
            }
        })
        .into_owned()
}

/// A route with its ids taken out: numbers, UUIDs and long hex become `{id}`.
pub fn route(path: &str) -> String {
    let mut r = String::with_capacity(path.len());
    route_into(path, &mut r);
    r
}

/// [`route`], written into `out` (cleared first): it runs on every request line.
fn route_into(path: &str, out: &mut String) {
    out.clear();
    for (i, s) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let digits = s.bytes().filter(u8::is_ascii_digit).count();
        let hexish = s.len() >= 8 && digits > 0 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        // `v1` is a version, not an id; `12345`, a UUID and `ord_8812f0a3` are ids.
        if !s.is_empty() && (digits == s.len() || hexish || (s.len() >= 6 && digits * 2 >= s.len())) {
            out.push_str("{id}");
        } else {
            out.push_str(s);
        }
    }
    while out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
}

impl Observed {
    pub fn observe(&mut self, e: &Event) {
        let text = &e.summary;
        let error = is_error(e);
        // A request is counted by its status: a line that only mentions a
        // route (a client's timeout naming the call it made) is not one.
        if let Some((method, path, status)) = request(text) {
            // The operation's name built in a buffer kept between lines: no allocation for a known one.
            let mut key = std::mem::take(&mut self.key);
            key.clear();
            key.push_str(method);
            key.push(' ');
            let mut routed = std::mem::take(&mut self.routed);
            route_into(path, &mut routed);
            key.push_str(&routed);
            self.routed = routed;
            let failed = status >= 500;
            let served = (!failed).then(|| self.served(e));
            let op = match self.operations.get_mut(key.as_str()) {
                Some(op) => op,
                None => self.operations.entry(key.clone()).or_default(),
            };
            op.http = true;
            match served {
                Some(s) => op.served.push(s),
                None => op.other.push(Outcome { time: e.time, failed, cited: Some(Box::new(Cited::of(e))) }),
            }
            self.key = key;
        } else if let Some(c) = (e.kind == reconstruct_core::EventKind::Log
            && (text.contains("tool") || text.contains("job") || text.contains("task")))
        .then(|| tool().captures(text))
        .flatten()
        {
            let kind = c.get(1).map_or("", |m| m.as_str());
            let name = c.get(2).map_or("", |m| m.as_str());
            let cited = error.then(|| Box::new(Cited::of(e)));
            let op = format!("{kind} {name}");
            self.operations.entry(op).or_default().other.push(Outcome { time: e.time, failed: error, cited });
        }
        if error {
            self.errors.push((e.time, e.component.clone()));
            for c in user().captures_iter(text) {
                if let Some(v) = c.get(1).or_else(|| c.get(2)) {
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    v.as_str().to_ascii_lowercase().hash(&mut h);
                    self.users.push((e.time, h.finish()));
                }
            }
        }
    }

    /// A request served, kept small: its file by index.
    fn served(&mut self, e: &Event) -> Served {
        match &e.evidence.locator {
            reconstruct_core::Locator::Line { path, line } => {
                // The same file line after line: the last one is tried first.
                let last = self.paths.last().filter(|p| std::sync::Arc::ptr_eq(p, path)).map(|_| self.paths.len() - 1);
                let at = match last.or_else(|| self.path_index.get(path).copied()) {
                    Some(i) => i,
                    None => {
                        self.paths.push(path.clone());
                        self.path_index.insert(path.clone(), self.paths.len() - 1);
                        self.paths.len() - 1
                    }
                };
                match (u32::try_from(at), u32::try_from(*line)) {
                    (Ok(i), Ok(line)) if i != TEXT => Served { time: e.time, line, path: i },
                    // Past four billion files or lines: kept as its locator.
                    _ => self.text(e),
                }
            }
            reconstruct_core::Locator::Text(_) => self.text(e),
        }
    }

    fn text(&mut self, e: &Event) -> Served {
        self.texts.push(e.evidence.locator.clone());
        Served { time: e.time, line: u32::try_from(self.texts.len() - 1).unwrap_or(u32::MAX), path: TEXT }
    }

    fn locator(&self, s: &Served) -> String {
        if s.path == TEXT {
            let text = usize::try_from(s.line).ok().and_then(|i| self.texts.get(i));
            return text.map(ToString::to_string).unwrap_or_default();
        }
        let path = usize::try_from(s.path).ok().and_then(|i| self.paths.get(i));
        path.map(|p| format!("{p}:{}", s.line)).unwrap_or_default()
    }

    /// The first request served (a success) at or after `t`.
    pub fn first_success_after(&self, t: Timestamp) -> Option<Cited> {
        self.operations
            .iter()
            .filter(|(_, o)| o.http)
            .flat_map(|(op, o)| o.served.iter().filter(|s| s.time >= t).map(move |s| (op, s)))
            // The earliest; at one instant, the first operation by name, whatever the map's order.
            .min_by(|a, b| a.1.time.cmp(&b.1.time).then_with(|| a.0.cmp(b.0)))
            .map(|(op, s)| Cited {
                time: s.time,
                summary: format!("{op} served"),
                component: String::new(),
                evidence: self.locator(s),
                service: String::new(),
            })
    }

    /// When the last HTTP request was served, if any was.
    pub fn last_success(&self) -> Option<Timestamp> {
        self.operations.values().filter(|o| o.http).flat_map(|o| o.served.iter().map(|s| s.time)).max()
    }

    /// The impact over `[onset, recovery]` (to the window's end without a recovery).
    pub fn conclude(self, span: Option<(Timestamp, Option<Timestamp>)>, _errors: &super::clock::Errors) -> Impact {
        let Some((from, to)) = span else {
            return Impact {
                notes: vec!["no onset: impact is counted over an incident, and none was found".into()],
                ..Impact::default()
            };
        };
        let inside = |t: Timestamp| t >= from && to.is_none_or(|to| t <= to);
        let mut operations: Vec<Operation> = self
            .operations
            .into_iter()
            .filter_map(|(operation, op)| {
                let within: Vec<&Outcome> = op.other.iter().filter(|o| inside(o.time)).collect();
                let served = op.served.iter().filter(|s| inside(s.time)).count() as u64;
                if within.is_empty() && served == 0 {
                    return None;
                }
                let failed = within.iter().filter(|o| o.failed).count() as u64;
                let first_failure =
                    within.iter().filter(|o| o.failed).min_by_key(|o| o.time).and_then(|o| o.cited.as_deref().cloned());
                let succeeded = (within.len() as u64 - failed).saturating_add(served);
                Some(Operation { operation, failed, succeeded, first_failure })
            })
            .collect();
        operations.sort_by(|a, b| b.failed.cmp(&a.failed).then(a.operation.cmp(&b.operation)));
        let failed_requests = operations
            .iter()
            .filter(|o| o.operation.starts_with(|c: char| c.is_ascii_uppercase()))
            .map(|o| o.failed)
            .sum();
        let users: BTreeSet<u64> = self.users.iter().filter(|(t, _)| inside(*t)).map(|(_, h)| *h).collect();
        let mut volume: BTreeMap<(i64, String), u64> = BTreeMap::new();
        for (t, c) in self.errors.iter().filter(|(t, _)| inside(*t)) {
            let minute = t.unix_seconds().div_euclid(60).saturating_mul(60);
            *volume.entry((minute, c.to_string())).or_insert(0) += 1;
        }
        let error_volume = volume
            .into_iter()
            .filter_map(|((m, component), errors)| {
                Some(Volume { component, minute: Timestamp::from_unix_seconds(m, 0)?, errors })
            })
            .collect();
        let notes = vec![format!(
            "counted from {} to {}: requests by their method, route and status (5xx failed), tools and jobs by their log lines; users by user, user_id, uid, customer or account fields and e-mail addresses in error events",
            from.hms(),
            to.map_or("the window's end".to_string(), |t| t.hms())
        )];
        Impact { operations, users_affected: users.len() as u64, failed_requests, error_volume, notes }
    }
}

#[cfg(test)]
mod tests {

    /// The word-by-word reading that [`request`] replaced, kept as its reference.
    fn by_words(text: &str) -> Option<(&str, &str, u16)> {
        let mut words = text.split_ascii_whitespace();
        while let Some(w) = words.next() {
            let word = w.rsplit(['"', '=', '\'']).next().unwrap_or(w);
            let Some(method) = METHODS.iter().find(|m| word == **m) else { continue };
            let mut after = words.clone();
            let Some(path) = after.next().filter(|p| p.starts_with('/')) else { continue };
            let path = path.split(['?', '"', '\'', '#']).next().unwrap_or(path);
            let status = after
                .find(|w| {
                    let w = w.trim_matches('"');
                    !(w.starts_with("HTTP/") || ["->", "=>", "→", "returned", "status", "status:", "with"].contains(&w))
                })
                .and_then(|w| {
                    let w = w
                        .trim_start_matches("status=")
                        .trim_start_matches("status:")
                        .trim_matches(|c: char| !c.is_ascii_digit());
                    (w.len() == 3 && w.starts_with(['1', '2', '3', '4', '5'])).then(|| w.parse().ok()).flatten()
                });
            if let Some(status) = status {
                return Some((*method, path, status));
            }
        }
        None
    }

    #[test]
    fn the_request_reader_agrees_with_reading_word_by_word() {
        let parts = [
            "GET",
            "\"GET",
            "msg=\"POST",
            "DELETE",
            "get",
            "/",
            "/api/v1/items/42?x=1",
            "\"/quoted",
            "/a#frag",
            "HTTP/1.1\"",
            "->",
            "=>",
            "→",
            "returned",
            "status",
            "status=503",
            "status:404",
            "with",
            "200",
            "\"201\"",
            "599",
            "600",
            "12ms",
            "-",
            "10.0.0.1:443",
            "\t",
            "x/y",
            "//",
            "é/",
        ];
        let mut seed = 7u64;
        for _ in 0..20_000 {
            let mut line = String::new();
            for _ in 0..(seed % 9) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let p = parts[(seed >> 33) as usize % parts.len()];
                line.push_str(p);
                line.push(if seed & 1 == 0 { ' ' } else { '\t' });
            }
            seed = seed.wrapping_add(11);
            assert_eq!(request(&line), by_words(&line), "{line:?}");
        }
    }
    use super::*;

    #[test]
    fn routes_lose_their_ids() {
        assert_eq!(route("/api/v1/orders/12345/items"), "/api/v1/orders/{id}/items");
        assert_eq!(route("/api/v1/schedule/generate"), "/api/v1/schedule/generate");
        assert_eq!(route("/u/3f2a9c1e-77aa-4b1c-9d2e-001122334455"), "/u/{id}");
        assert_eq!(route("/"), "/");
    }

    #[test]
    fn request_lines_are_read_by_their_words() {
        assert_eq!(
            request("ERROR POST /api/v1/schedule/generate -> 500 Internal Server Error"),
            Some(("POST", "/api/v1/schedule/generate", 500))
        );
        assert_eq!(
            request("10.0.0.1 - - [26/Dec/2025:14:30:15 +0000] \"GET /api/items/42?x=1 HTTP/1.1\" 200 512"),
            Some(("GET", "/api/items/42", 200))
        );
        assert_eq!(request("INFO POST /api/checkout 201 80ms user_id=3"), Some(("POST", "/api/checkout", 201)));
        assert_eq!(request("tool timeout (backend POST /api/v1/schedule/generate)"), None, "no status: not a request");
        assert_eq!(request("level=info msg=\"GET /checkout 200\" duration_ms=40"), Some(("GET", "/checkout", 200)));
        assert_eq!(
            request("2025-12-26 14:05:00 10.0.0.1 GET /api/0 - 443 - 10.0.0.0 500 0 15"),
            None,
            "a port is not a status"
        );
    }

    #[test]
    fn request_lines_are_read() {
        let c = http().captures("ERROR POST /api/v1/schedule/generate -> 500 Internal Server Error").unwrap();
        assert_eq!(&c[1], "POST");
        assert_eq!(&c[3], "500");
        let c = http()
            .captures("10.0.0.1 - - [26/Dec/2025:14:30:15 +0000] \"GET /api/items/42?x=1 HTTP/1.1\" 200 512")
            .unwrap();
        assert_eq!((&c[2], &c[3]), ("/api/items/42", "200"));
    }
}
