//! Learning where a file keeps its timestamps, from its first lines, and
//! reading each line with what was learned.

use chrono::{DateTime, NaiveDateTime};
use reconstruct_core::event::{Severity, TimeBasis, Timestamp};
use reconstruct_core::timestamp::{self, epoch_from_number, Layout, ParseContext};

/// Where in a line the timestamp stands, and in which layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Locate {
    /// At the start of the line (after an optional `[`).
    Start(Layout),
    /// After the first `[` of the line (common log, Apache error).
    Bracket(Layout),
    /// A JSON object with a `time`/`timestamp`/`ts`/`@timestamp`/`t` member.
    Json,
    /// A logfmt `ts=` / `time=` field.
    Logfmt,
    /// A user-given strftime format at the start of the line.
    Strftime(String),
}

impl Locate {
    pub fn describe(&self) -> String {
        match self {
            Locate::Start(l) => format!("{} at line start", l.name()),
            Locate::Bracket(l) => format!("{} in brackets", l.name()),
            Locate::Json => "JSON lines".to_string(),
            Locate::Logfmt => "logfmt ts=/time=".to_string(),
            Locate::Strftime(f) => format!("--timestamp-format {f:?}"),
        }
    }
}

/// What was read from one line.
#[derive(Debug)]
pub struct Stamp {
    pub time: Timestamp,
    pub basis: TimeBasis,
    /// The message: the line without its timestamp, as a byte range or (for
    /// JSON) as text built from the object's members.
    pub message: Message,
    /// Severity the layout itself states (klog letter, JSON level field).
    pub severity: Option<Severity>,
    /// Component the line itself names (JSON/logfmt field).
    pub component: Option<String>,
}

#[derive(Debug)]
pub enum Message {
    /// The message is `line[prefix_end.. ]` with `line[skip_from..skip_to]` removed.
    Cut {
        skip_from: usize,
        skip_to: usize,
    },
    Built(String),
}

fn skip_ws(b: &[u8]) -> usize {
    b.iter().take_while(|c| **c == b' ' || **c == b'\t').count()
}

/// Reads a line's timestamp with a known locator.
pub fn read(loc: &Locate, line: &[u8], ctx: &ParseContext) -> Option<Stamp> {
    match loc {
        Locate::Start(layout) => {
            let off = usize::from(line.first() == Some(&b'['));
            let p = timestamp::parse(*layout, line.get(off..)?, ctx)?;
            let mut end = off + p.len;
            if off == 1 && line.get(end) == Some(&b']') {
                end += 1;
            }
            let severity = (*layout == Layout::Klog).then(|| klog_severity(line.get(off).copied())).flatten();
            Some(Stamp {
                time: p.time,
                basis: p.basis,
                message: Message::Cut { skip_from: 0, skip_to: end },
                severity,
                component: None,
            })
        }
        Locate::Bracket(layout) => {
            let open = memchr::memchr(b'[', line.get(..line.len().min(256))?)?;
            let p = timestamp::parse(*layout, line.get(open + 1..)?, ctx)?;
            let mut end = open + 1 + p.len;
            if line.get(end) == Some(&b']') {
                end += 1;
            }
            Some(Stamp {
                time: p.time,
                basis: p.basis,
                message: Message::Cut { skip_from: open, skip_to: end },
                severity: None,
                component: None,
            })
        }
        Locate::Json => read_json(line, ctx),
        Locate::Logfmt => read_logfmt(line, ctx),
        Locate::Strftime(fmt) => read_strftime(fmt, line, ctx),
    }
}

fn klog_severity(c: Option<u8>) -> Option<Severity> {
    match c? {
        b'I' => Some(Severity::Info),
        b'W' => Some(Severity::Warning),
        b'E' => Some(Severity::Error),
        b'F' => Some(Severity::Critical),
        b'D' => Some(Severity::Debug),
        _ => None,
    }
}

/// A timestamp written as text anywhere a field can hold one.
fn parse_text_time(s: &[u8], ctx: &ParseContext) -> Option<(Timestamp, TimeBasis)> {
    for l in Layout::ALL {
        if let Some(p) = timestamp::parse(l, s, ctx) {
            return Some((p.time, p.basis));
        }
    }
    None
}

/// A JSON member that is a string or a number; anything else is skipped
/// without being built.
enum Scalar<'a> {
    Str(std::borrow::Cow<'a, str>),
    Num(f64),
    Other,
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Num(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Num(v as f64))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Num(v as f64))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl Scalar<'_> {
    fn text(&self) -> Option<String> {
        match self {
            Scalar::Str(s) => Some(s.to_string()),
            Scalar::Num(n) => Some(n.to_string()),
            Scalar::Other => None,
        }
    }
}

/// The members a JSON log line is read for; the rest are skipped unbuilt.
/// Each key is its own field (not an alias), so a line with both `time`
/// and `ts` is still read, preferring the first listed.
#[derive(serde::Deserialize)]
struct JsonLine<'a> {
    #[serde(borrow)]
    time: Option<Scalar<'a>>,
    #[serde(borrow)]
    timestamp: Option<Scalar<'a>>,
    #[serde(borrow)]
    ts: Option<Scalar<'a>>,
    #[serde(borrow, rename = "@timestamp")]
    at_timestamp: Option<Scalar<'a>>,
    #[serde(borrow)]
    t: Option<Scalar<'a>>,
    #[serde(borrow)]
    datetime: Option<Scalar<'a>>,
    #[serde(borrow)]
    msg: Option<Scalar<'a>>,
    #[serde(borrow)]
    message: Option<Scalar<'a>>,
    #[serde(borrow)]
    log: Option<Scalar<'a>>,
    #[serde(borrow)]
    event: Option<Scalar<'a>>,
    #[serde(borrow)]
    text: Option<Scalar<'a>>,
    #[serde(borrow)]
    level: Option<Scalar<'a>>,
    #[serde(borrow)]
    severity: Option<Scalar<'a>>,
    #[serde(borrow)]
    lvl: Option<Scalar<'a>>,
    #[serde(borrow, rename = "log.level")]
    log_level: Option<Scalar<'a>>,
    #[serde(borrow)]
    levelname: Option<Scalar<'a>>,
    #[serde(borrow)]
    component: Option<Scalar<'a>>,
    #[serde(borrow)]
    service: Option<Scalar<'a>>,
    #[serde(borrow)]
    logger: Option<Scalar<'a>>,
    #[serde(borrow)]
    logger_name: Option<Scalar<'a>>,
    #[serde(borrow)]
    name: Option<Scalar<'a>>,
    #[serde(borrow)]
    app: Option<Scalar<'a>>,
}

fn first<'x, 'a>(candidates: &[&'x Option<Scalar<'a>>]) -> Option<String> {
    candidates.iter().find_map(|c| c.as_ref().and_then(Scalar::text))
}

fn read_json(line: &[u8], ctx: &ParseContext) -> Option<Stamp> {
    let start = skip_ws(line);
    if line.get(start) != Some(&b'{') {
        return None;
    }
    let j: JsonLine<'_> = serde_json::from_slice(line.get(start..)?).ok()?;
    let times = [&j.time, &j.timestamp, &j.ts, &j.at_timestamp, &j.t, &j.datetime];
    let (time, basis) = times.iter().find_map(|v| match v.as_ref()? {
        Scalar::Str(s) => parse_text_time(s.as_bytes(), ctx),
        Scalar::Num(n) => epoch_from_number(*n).map(|t| (t, TimeBasis::Epoch)),
        Scalar::Other => None,
    })?;
    let level = first(&[&j.level, &j.severity, &j.lvl, &j.log_level, &j.levelname]);
    let severity = level.as_deref().and_then(|l| reconstruct_core::severity::from_word(l.as_bytes()));
    let component = first(&[&j.component, &j.service, &j.logger, &j.logger_name, &j.name, &j.app]);
    let message = match (first(&[&j.msg, &j.message, &j.log, &j.event, &j.text]), &level) {
        (Some(m), Some(l)) => format!("{} {m}", l.to_uppercase()),
        (Some(m), None) => m,
        // Without a message member the whole object is the message.
        (None, _) => String::from_utf8_lossy(line.get(start..)?).into_owned(),
    };
    Some(Stamp { time, basis, message: Message::Built(message), severity, component })
}

/// Finds `key=` at the start of the line or after a space.
fn logfmt_field<'a>(line: &'a [u8], key: &[u8]) -> Option<(usize, usize, &'a [u8])> {
    let mut from = 0;
    while let Some(rel) = memchr::memmem::find(line.get(from..)?, key) {
        let at = from + rel;
        let ok_before = at == 0 || line.get(at - 1) == Some(&b' ');
        let vstart = at + key.len();
        if ok_before {
            let (vs, ve, end) = if line.get(vstart) == Some(&b'"') {
                let close = memchr::memchr(b'"', line.get(vstart + 1..)?)?;
                (vstart + 1, vstart + 1 + close, vstart + close + 2)
            } else {
                let n = line.get(vstart..)?.iter().take_while(|c| **c != b' ').count();
                (vstart, vstart + n, vstart + n)
            };
            return Some((at, end, line.get(vs..ve)?));
        }
        from = at + 1;
    }
    None
}

fn read_logfmt(line: &[u8], ctx: &ParseContext) -> Option<Stamp> {
    let (from, to, value) = [&b"ts="[..], b"time=", b"timestamp="].iter().find_map(|k| logfmt_field(line, k))?;
    let (time, basis) = parse_text_time(value, ctx)?;
    let component = [&b"component="[..], b"logger=", b"service="]
        .iter()
        .find_map(|k| logfmt_field(line, k))
        .map(|(_, _, v)| String::from_utf8_lossy(v).into_owned());
    Some(Stamp { time, basis, message: Message::Cut { skip_from: from, skip_to: to }, severity: None, component })
}

fn read_strftime(fmt: &str, line: &[u8], ctx: &ParseContext) -> Option<Stamp> {
    let off = usize::from(line.first() == Some(&b'['));
    let head = line.get(off..line.len().min(off + 128))?;
    let text = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(head.get(..e.valid_up_to())?).ok()?,
    };
    let (time, basis, rest) = if let Ok((dt, rest)) = DateTime::parse_and_remainder(text, fmt) {
        (Timestamp::from_datetime(&dt)?, TimeBasis::Explicit, rest)
    } else {
        let (naive, rest) = NaiveDateTime::parse_and_remainder(text, fmt).ok()?;
        (ctx.zone.to_utc(&naive)?, TimeBasis::AssumedZone, rest)
    };
    let mut end = off + text.len() - rest.len();
    if off == 1 && line.get(end) == Some(&b']') {
        end += 1;
    }
    Some(Stamp { time, basis, message: Message::Cut { skip_from: 0, skip_to: end }, severity: None, component: None })
}

/// Every locator worth trying on a file whose layout is unknown, in order of
/// preference when several read the same number of lines.
pub fn candidates() -> Vec<Locate> {
    let mut v = vec![Locate::Json];
    v.extend(Layout::ALL.iter().map(|l| Locate::Start(*l)));
    v.push(Locate::Bracket(Layout::Clf));
    v.push(Locate::Bracket(Layout::ApacheError));
    v.push(Locate::Bracket(Layout::Iso));
    v.push(Locate::Logfmt);
    v
}

/// Picks the locator that reads the most sample lines; `None` if none reads any.
pub fn learn<'a>(sample: impl Iterator<Item = &'a [u8]> + Clone, ctx: &ParseContext) -> Option<Locate> {
    let mut best: Option<(usize, Locate)> = None;
    for cand in candidates() {
        let hits = sample.clone().filter(|l| read(&cand, l, ctx).is_some()).count();
        if hits > 0 && best.as_ref().is_none_or(|(n, _)| hits > *n) {
            best = Some((hits, cand));
        }
    }
    best.map(|(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::Zone;

    fn ctx() -> ParseContext {
        ParseContext::new(Zone::Utc, Timestamp::from_unix_nanos(1_766_761_200_000_000_000))
    }

    fn learned(lines: &[&str]) -> Option<Locate> {
        learn(lines.iter().map(|l| l.as_bytes()), &ctx())
    }

    fn one(line: &str) -> (String, String) {
        let loc = learned(&[line]).unwrap_or_else(|| panic!("no layout for {line:?}"));
        let s = read(&loc, line.as_bytes(), &ctx()).unwrap();
        let msg = match s.message {
            Message::Cut { skip_from, skip_to } => {
                let mut m = line.as_bytes()[..skip_from].to_vec();
                m.extend_from_slice(&line.as_bytes()[skip_to..]);
                String::from_utf8(m).unwrap().trim().to_string()
            }
            Message::Built(m) => m,
        };
        (s.time.rfc3339(), msg)
    }

    #[test]
    fn every_layout_without_configuration() {
        let cases = [
            ("2025-12-26T14:30:15Z ERROR boom", "2025-12-26T14:30:15Z", "ERROR boom"),
            ("2025-12-26T14:30:15.123+00:00 x", "2025-12-26T14:30:15.123Z", "x"),
            ("2025-12-26 14:30:15,123 INFO y", "2025-12-26T14:30:15.123Z", "INFO y"),
            ("2025-12-26 14:30:15.5 z", "2025-12-26T14:30:15.500Z", "z"),
            ("[2025-12-26 14:30:15] w", "2025-12-26T14:30:15Z", "w"),
            ("Dec 26 14:30:15 host app[42]: hi", "2025-12-26T14:30:15Z", "host app[42]: hi"),
            (
                "[Fri Dec 26 14:30:15 2025] [error] [client 1.2.3.4] x",
                "2025-12-26T14:30:15Z",
                "[error] [client 1.2.3.4] x",
            ),
            (
                "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 2326",
                "2000-10-10T20:55:36Z",
                "127.0.0.1 - frank  \"GET /a.gif HTTP/1.0\" 200 2326",
            ),
            (
                "2025/12/26 14:30:15 [error] 7#7: *1 connect() failed",
                "2025-12-26T14:30:15Z",
                "[error] 7#7: *1 connect() failed",
            ),
            (
                "2025-12-26 14:31:05.123 UTC [4711] LOG:  checkpoint",
                "2025-12-26T14:31:05.123Z",
                "[4711] LOG:  checkpoint",
            ),
            ("I1226 14:30:15.123456    1 main.go:42] hi", "2025-12-26T14:30:15.123456Z", "1 main.go:42] hi"),
            ("1766759415 epoch secs", "2025-12-26T14:30:15Z", "epoch secs"),
            ("1766759415123 epoch ms", "2025-12-26T14:30:15.123Z", "epoch ms"),
            (
                r#"{"time":"2025-12-26T14:30:15Z","level":"error","msg":"db down"}"#,
                "2025-12-26T14:30:15Z",
                "ERROR db down",
            ),
            (r#"{"timestamp":"2025-12-26 14:30:15.1","message":"m"}"#, "2025-12-26T14:30:15.100Z", "m"),
            (r#"{"ts":1766759415.5,"msg":"zap"}"#, "2025-12-26T14:30:15.500Z", "zap"),
            (r#"{"@timestamp":"2025-12-26T14:30:15Z","message":"ecs"}"#, "2025-12-26T14:30:15Z", "ecs"),
            (r#"{"t":"2025-12-26T14:30:15Z","msg":"t"}"#, "2025-12-26T14:30:15Z", "t"),
            ("level=info ts=2025-12-26T14:30:15Z msg=\"hello\"", "2025-12-26T14:30:15Z", "level=info  msg=\"hello\""),
            ("time=\"2025-12-26T14:30:15Z\" level=warning msg=x", "2025-12-26T14:30:15Z", "level=warning msg=x"),
        ];
        for (line, time, msg) in cases {
            assert_eq!(one(line), (time.to_string(), msg.to_string()), "{line}");
        }
    }

    #[test]
    fn json_lines_with_several_keys_and_odd_members() {
        // Both `time` and `ts`: read, `time` first. An object-valued `event`
        // and escaped text do not stop the line.
        let line = r#"{"ts":1,"time":"2025-12-26T14:30:15Z","event":{"k":[1,2]},"message":"a \"quoted\" word","level":"warn","logger":"db"}"#;
        assert_eq!(one(line), ("2025-12-26T14:30:15Z".to_string(), "WARN a \"quoted\" word".to_string()));
        let s = read(&Locate::Json, line.as_bytes(), &ctx()).unwrap();
        assert_eq!((s.severity, s.component.as_deref()), (Some(Severity::Warning), Some("db")));
        assert!(read(&Locate::Json, br#"{"time":"2025-12-26T14:30:15Z","msg":"cut"#, &ctx()).is_none());
    }

    #[test]
    fn learning_prefers_the_majority_layout() {
        let lines = ["2025-12-26 14:30:15 a", "2025-12-26 14:30:16 b", "1766759415 odd one", "  continuation"];
        assert_eq!(learned(&lines), Some(Locate::Start(Layout::Iso)));
        assert_eq!(learned(&["no time here", "nor here"]), None);
    }

    #[test]
    fn strftime_formats() {
        let loc = Locate::Strftime("%d.%m.%Y %H:%M:%S".into());
        let s = read(&loc, b"26.12.2025 14:30:15 hello", &ctx()).unwrap();
        assert_eq!((s.time.rfc3339(), s.basis), ("2025-12-26T14:30:15Z".into(), TimeBasis::AssumedZone));
        let loc = Locate::Strftime("%d.%m.%Y %H:%M:%S %z".into());
        let s = read(&loc, b"26.12.2025 16:30:15 +0200 hello", &ctx()).unwrap();
        assert_eq!((s.time.rfc3339(), s.basis), ("2025-12-26T14:30:15Z".into(), TimeBasis::Explicit));
        assert!(read(&loc, b"garbage", &ctx()).is_none());
    }
}
