//! Learning where a file keeps its timestamps, from its first lines, and
//! reading each line with what was learned: one family of `families` at one
//! place in the line (an `Anchor`), so each line costs one fixed-position
//! parse, not a trial of every pattern.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use reconstruct_core::event::{Severity, TimeBasis, Timestamp};
use reconstruct_core::timestamp::{self, civil_to_utc, epoch_from_number, infer_year, Layout, ParseContext};

use crate::families::{self, DateOrder, Level};
use crate::pattern::{Reading, ZoneRead};

mod flat;

/// Where in a line a timestamp starts, said so that it holds for every line
/// of a file whose prefix varies in length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// At the first byte.
    Start,
    /// At the n-th blank-separated field (0 is the first).
    Field(u8),
    /// Right after the n-th occurrence of a byte (`[`, `"`, `|`, `=`, `#` …).
    After(u8, u8),
}

/// Bytes a timestamp may directly follow, besides blanks.
const OPENERS: &[u8] = b"[(\"'|=<>#,;{:+";
/// How far into a line a timestamp is looked for.
const HEAD: usize = 256;

fn is_blank(c: &u8) -> bool {
    matches!(c, b' ' | b'\t')
}

impl Anchor {
    /// The byte offset this anchor names in `line`.
    pub fn position(self, line: &[u8]) -> Option<usize> {
        match self {
            Anchor::Start => Some(0),
            Anchor::Field(k) => {
                let mut i = line.iter().take_while(|c| is_blank(c)).count();
                for _ in 0..k {
                    i += line.get(i..)?.iter().take_while(|c| !is_blank(c)).count();
                    i += line.get(i..)?.iter().take_while(|c| is_blank(c)).count();
                }
                (i < line.len()).then_some(i)
            }
            Anchor::After(c, k) => {
                let head = line.get(..line.len().min(HEAD * 2))?;
                let mut at = 0;
                for _ in 0..k {
                    at += memchr::memchr(c, head.get(at..)?)? + 1;
                }
                Some(at)
            }
        }
    }

    /// Every anchor that names `pos` in `line`.
    fn at(line: &[u8], pos: usize) -> Vec<Anchor> {
        let mut v = Vec::with_capacity(2);
        if pos == 0 {
            v.push(Anchor::Start);
            return v;
        }
        let Some(&prev) = line.get(pos - 1) else { return v };
        if is_blank(&prev) {
            let head = line.get(..pos).unwrap_or_default();
            let lead = head.iter().take_while(|c| is_blank(c)).count();
            let mut fields = 0usize;
            let mut in_field = false;
            for c in head.get(lead..).unwrap_or_default() {
                if is_blank(c) {
                    in_field = false;
                } else if !in_field {
                    in_field = true;
                    fields += 1;
                }
            }
            if let Ok(k) = u8::try_from(fields) {
                if k < 32 {
                    v.push(Anchor::Field(k));
                }
            }
        } else if OPENERS.contains(&prev) {
            let n = memchr::memchr_iter(prev, line.get(..pos).unwrap_or_default()).count();
            if let Ok(k) = u8::try_from(n) {
                if k < 32 {
                    v.push(Anchor::After(prev, k));
                }
            }
        }
        v
    }

    fn describe(self) -> String {
        match self {
            Anchor::Start => "at line start".to_string(),
            Anchor::Field(k) => format!("in field {}", u32::from(k) + 1),
            Anchor::After(c, 1) => format!("after the first {:?}", char::from(c)),
            Anchor::After(c, k) => format!("after {:?} number {k}", char::from(c)),
        }
    }

    /// Simpler anchors win ties: the start, then a delimiter, then a field count.
    fn simplicity(self) -> u8 {
        match self {
            Anchor::Start => 2,
            Anchor::After(..) => 1,
            Anchor::Field(_) => 0,
        }
    }
}

/// Where in a line the timestamp stands, and in which layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Locate {
    /// A family of the table (by index) at an anchor.
    At { family: usize, anchor: Anchor },
    /// A JSON object with a time member (`time`, `ts`, `@timestamp`, `t.$date`, `timeUnixNano` …).
    Json,
    /// A logfmt `ts=` / `time=` field.
    Logfmt,
    /// A user-given strftime format at the start of the line.
    Strftime(String),
}

impl Locate {
    pub fn describe(&self) -> String {
        match self {
            Locate::At { family, anchor } => {
                let name = families::get(*family).map_or("?", |c| c.family.name);
                format!("{name} {}", anchor.describe())
            }
            Locate::Json => "JSON lines".to_string(),
            Locate::Logfmt => "logfmt ts=/time=".to_string(),
            Locate::Strftime(f) => format!("--timestamp-format {f:?}"),
        }
    }

    fn weak(&self) -> bool {
        match self {
            Locate::At { family, anchor } => families::get(*family)
                .is_some_and(|c| c.family.weak || (c.family.pattern == "%s" && *anchor != Anchor::Start)),
            _ => false,
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
    /// Severity the layout itself states (level letter, syslog priority, JSON level field).
    pub severity: Option<Severity>,
    /// Component the line itself names (JSON/logfmt field, logcat tag).
    pub component: Option<String>,
    /// The time carried a zone word that is not an offset (`CEST`): read in `--tz`.
    pub zone_word: bool,
    /// A built message is pieces of its line as written (in any case),
    /// joined by blanks no state word can lie across: every state word it
    /// holds, the line holds, and the reader's marks of the line answer for
    /// it.
    pub of_line: bool,
}

/// Whether no state word can lie across a blank put between `before` and
/// `after`: a word across it holds the blank inside it (none begins or ends
/// with one), so it holds both the byte before the blank and the blank, and
/// the blank and the byte after it.
fn clear_join(before: &[u8], after: &[u8]) -> bool {
    use reconstruct_core::classify::may_join;
    !(before.last().is_some_and(|a| may_join(*a, b' ')) && after.first().is_some_and(|b| may_join(b' ', *b)))
}

#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    /// The message is the line with `line[skip_from..skip_to]` removed.
    Cut {
        skip_from: usize,
        skip_to: usize,
    },
    Built(String),
}

fn skip_ws(b: &[u8]) -> usize {
    b.iter().take_while(|c| **c == b' ' || **c == b'\t').count()
}

/// The state a file's lines share: the day a log of bare times of day is
/// on, and the last line's timestamp text up to its seconds with what it
/// resolved to (consecutive lines mostly repeat it).
#[derive(Clone, Debug, Default)]
pub struct Carry {
    day: Option<NaiveDate>,
    last: Option<u32>,
    /// For minutes and seconds alone: the hour they are in.
    hour: Option<u32>,
    memo: Option<Memo>,
    /// The last time written as a member's text (JSON, logfmt).
    text: Option<TextMemo>,
}

/// A time member's text as last read, split around its fraction of a
/// second (`2025-12-26T14:30:15.` `029` `Z`), with what the text
/// resolved to: a text that differs only in the fraction's digits is the
/// same second, those digits its fraction. Kept only when reading the text
/// with those digits as zeros gave the same second and no fraction.
#[derive(Clone, Debug)]
struct TextMemo {
    zone: reconstruct_core::Zone,
    head: [u8; MEMO_MAX],
    head_len: usize,
    digits: usize,
    tail: [u8; TAIL_MAX],
    tail_len: usize,
    second: i64,
    basis: TimeBasis,
    len: usize,
}

/// Longest text after a remembered fraction (a zone: `Z`, ` +05:30`).
const TAIL_MAX: usize = 16;

/// Where the fraction of a time's text lies: the length of the text before
/// its digits (the separator included) and how many digits (one to nine).
/// The fraction is the first run of digits after a `.` or `,` that follows
/// a digit.
fn fraction_at(s: &[u8]) -> Option<(usize, usize)> {
    let sep =
        s.windows(3).position(|w| matches!(w, [a, b'.' | b',', c] if a.is_ascii_digit() && c.is_ascii_digit()))?;
    let head = sep + 2;
    let digits = s.get(head..)?.iter().take_while(|c| c.is_ascii_digit()).count();
    (1..=9).contains(&digits).then_some((head, digits))
}

/// The instant a time member's text names, how it was read, and the length
/// of the text the reading took: the first layout that reads it.
fn text_time(s: &[u8], ctx: &ParseContext) -> Option<timestamp::Parsed> {
    Layout::ALL.iter().find_map(|l| timestamp::parse(*l, s, ctx))
}

/// [`text_time`], remembered: consecutive lines of a JSON or logfmt log
/// mostly name the same second, and only the fraction is read again.
fn text_time_memo(s: &[u8], ctx: &ParseContext, carry: &mut Carry) -> Option<timestamp::Parsed> {
    if let Some(m) = carry.text.as_ref().filter(|m| m.zone == ctx.zone) {
        // The same text before the digits (where [`fraction_at`] finds
        // them: the first place it looks at is the same), as many digits,
        // and the same text after them.
        if let (Some(h), Some(rest)) = (s.get(..m.head_len), s.get(m.head_len..)) {
            if h == m.head.get(..m.head_len).unwrap_or_default() {
                let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == m.digits && rest.get(digits..) == m.tail.get(..m.tail_len) {
                    return Some(timestamp::Parsed {
                        time: Timestamp::from_unix_seconds(m.second, fraction_nanos(rest.get(..digits)?)?)?,
                        basis: m.basis,
                        len: m.len,
                    });
                }
            }
        }
    }
    let p = text_time(s, ctx)?;
    carry.text = fraction_at(s).and_then(|(head, digits)| {
        let tail = s.get(head + digits..)?;
        let mut zeroed = s.to_vec();
        zeroed.get_mut(head..head + digits)?.fill(b'0');
        let z = text_time(&zeroed, ctx)?;
        let same = z.time.unix_seconds() == p.time.unix_seconds()
            && z.time.subsec_nanos() == 0
            && Some(p.time.subsec_nanos()) == fraction_nanos(s.get(head..head + digits)?)
            && z.basis == p.basis
            && z.len == p.len;
        if !same || head > MEMO_MAX || tail.len() > TAIL_MAX {
            return None;
        }
        let mut m = TextMemo {
            zone: ctx.zone,
            head: [0; MEMO_MAX],
            head_len: head,
            digits,
            tail: [0; TAIL_MAX],
            tail_len: tail.len(),
            second: p.time.unix_seconds(),
            basis: p.basis,
            len: p.len,
        };
        m.head.get_mut(..head)?.copy_from_slice(s.get(..head)?);
        m.tail.get_mut(..tail.len())?.copy_from_slice(tail);
        Some(m)
    });
    Some(p)
}

/// One to nine digits of a fraction of a second, as nanoseconds.
fn fraction_nanos(d: &[u8]) -> Option<u32> {
    const SCALE: [u32; 10] = [0, 100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];
    let scale = SCALE.get(d.len()).copied().filter(|s| *s > 0)?;
    let mut n: u32 = 0;
    for c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        // Nine digits at most: no overflow.
        n = n.saturating_mul(10).saturating_add(u32::from(c - b'0'));
    }
    Some(n.saturating_mul(scale))
}

/// Longest timestamp text, up to the seconds, that is remembered.
const MEMO_MAX: usize = 40;

#[derive(Clone, Debug)]
struct Memo {
    family: usize,
    zone: reconstruct_core::Zone,
    text: [u8; MEMO_MAX],
    len: usize,
    head: Reading,
    /// The zone as the whole line stated it, and the instant of its whole second.
    stated: ZoneRead,
    second: i64,
    basis: TimeBasis,
}

/// The instant a reading names, and on what basis.
fn resolve(r: &Reading, ctx: &ParseContext, carry: &mut Carry) -> Option<(Timestamp, TimeBasis)> {
    if let Some(t) = r.instant {
        return Some((t, TimeBasis::Epoch));
    }
    let offset = match r.zone {
        ZoneRead::Offset(o) => Some(o),
        ZoneRead::Absent | ZoneRead::Word => None,
    };
    let explicit_or = |b| if offset.is_some() { TimeBasis::Explicit } else { b };
    let mut hour = r.hour;
    let (year, month, day, basis) = match (r.year, r.month, r.day) {
        (Some(y), Some(m), Some(d)) => (y, m, d, explicit_or(TimeBasis::AssumedZone)),
        (None, Some(m), Some(d)) => (infer_year(m, d, r.hour, ctx.year_anchor), m, d, TimeBasis::InferredYear),
        _ => {
            // Minutes and seconds alone: the window's first hour, and the
            // next hour each time they run back (the hour turned).
            if r.hourless {
                let start = ctx.zone.local_datetime(ctx.first_day)?;
                let within = r.min * 60 + r.sec;
                let h = match (carry.hour, carry.last) {
                    (Some(h), Some(last)) if within.saturating_add(60) < last % 3600 => (h + 1) % 24,
                    (Some(h), _) => h,
                    (None, _) => chrono::Timelike::hour(&start),
                };
                carry.hour = Some(h);
                hour = h;
            }
            // A time of day alone: the window's first day, and the next day
            // each time the clock runs back more than an hour (midnight).
            let tod = hour * 3600 + r.min * 60 + r.sec;
            let day = match (carry.day, carry.last) {
                (Some(d), Some(last)) if tod.saturating_add(3600) < last => d.succ_opt()?,
                (Some(d), _) => d,
                (None, _) => ctx.zone.local_date(ctx.first_day)?,
            };
            carry.day = Some(day);
            carry.last = Some(tod);
            let y = i64::from(chrono::Datelike::year(&day));
            (y, chrono::Datelike::month(&day), chrono::Datelike::day(&day), TimeBasis::InferredDate)
        }
    };
    let t = civil_to_utc(year, month, day, (hour, r.min, r.sec), r.nanos, offset, &ctx.zone)?;
    Some((t, basis))
}

/// A syslog priority `<N>` at the start of the line: its value and length.
fn priority(line: &[u8]) -> Option<(u8, usize)> {
    if line.first() != Some(&b'<') {
        return None;
    }
    let n = line.get(1..5)?.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || line.get(1 + n) != Some(&b'>') {
        return None;
    }
    let v: u16 = std::str::from_utf8(line.get(1..1 + n)?).ok()?.parse().ok()?;
    let v = u8::try_from(v).ok().filter(|v| *v <= 191)?;
    Some((v, n + 2))
}

fn priority_severity(pri: u8) -> Severity {
    match pri & 7 {
        0..=2 => Severity::Critical,
        3 => Severity::Error,
        4 => Severity::Warning,
        5 => Severity::Notice,
        6 => Severity::Info,
        _ => Severity::Debug,
    }
}

/// The n-th blank-separated field of `b`.
fn nth_field(b: &[u8], n: u8) -> Option<&[u8]> {
    let start = Anchor::Field(n).position(b)?;
    let rest = b.get(start..)?;
    rest.get(..rest.iter().take_while(|c| !is_blank(c)).count())
}

/// What [`read_at`] uses of a reading once the time is known.
struct Read {
    len: usize,
    zone: ZoneRead,
    letter: Option<u8>,
}

impl Read {
    fn of(r: &crate::pattern::Reading) -> Read {
        Read { len: r.len, zone: r.zone, letter: r.letter }
    }
}

fn read_at(family: usize, anchor: Anchor, line: &[u8], ctx: &ParseContext, carry: &mut Carry) -> Option<Stamp> {
    let c = families::get(family)?;
    let pos = anchor.position(line)?;
    let b = line.get(pos..)?;
    let hit = carry
        .memo
        .as_ref()
        .filter(|m| m.family == family && m.zone == ctx.zone && b.get(..m.len) == m.text.get(..m.len));
    // What the rest needs of the reading: its length, zone and level letter.
    let (r, time, basis) = match hit {
        Some(m) => {
            let (second, basis, stated, len) = (m.second, m.basis, m.stated, m.len);
            let tail = c.pattern.tail(b, len, &m.head)?;
            if tail.zone == stated {
                let r = Read { len: tail.len, zone: tail.zone, letter: m.head.letter };
                (r, Timestamp::from_unix_seconds(second, tail.nanos)?, basis)
            } else {
                let r = c.pattern.resume(b, len, m.head)?;
                let (t, basis) = resolve(&r, ctx, carry)?;
                (Read::of(&r), t, basis)
            }
        }
        None => {
            let (r, snap) = c.pattern.read_split(b)?;
            let (t, basis) = resolve(&r, ctx, carry)?;
            // Remembered unless the date comes from the window (its day
            // moves with the lines around it).
            if let Some((len, head)) = snap.filter(|(len, _)| *len <= MEMO_MAX) {
                if basis != TimeBasis::InferredDate && r.instant.is_none() {
                    let mut text = [0u8; MEMO_MAX];
                    if let (Some(dst), Some(src)) = (text.get_mut(..len), b.get(..len)) {
                        dst.copy_from_slice(src);
                        let second = t.unix_seconds();
                        carry.memo =
                            Some(Memo { family, zone: ctx.zone, text, len, head, stated: r.zone, second, basis });
                    }
                }
            }
            (Read::of(&r), t, basis)
        }
    };
    let end = pos + r.len;
    let (mut from, mut to) = (pos, end);
    // `[time]` and `"time"` lose their brackets or quotes with the time.
    if let (Some(open), Some(close)) = (pos.checked_sub(1).and_then(|p| line.get(p)), line.get(end)) {
        if matches!((open, close), (b'[', b']') | (b'"', b'"') | (b'(', b')')) {
            from = pos - 1;
            to = end + 1;
        }
    }
    let mut severity = None;
    let mut component = None;
    // A syslog priority (RFC 3164 `<34>`, RFC 5424 `<165>1 `) before the time.
    if let Some((pri, len)) = priority(line) {
        if pos >= len && pos <= len + 2 {
            from = 0;
            severity = Some(priority_severity(pri));
        }
    }
    let after = line.get(to..).unwrap_or_default();
    match c.family.level {
        Level::Words => {}
        Level::Letter => severity = r.letter.and_then(families::letter_severity),
        Level::LetterField(k) => {
            if let Some([l]) = nth_field(after, k) {
                severity = families::letter_severity(*l);
                component = nth_field(after, k.saturating_add(1))
                    .map(|t| String::from_utf8_lossy(t.strip_suffix(b":").unwrap_or(t)).into_owned())
                    .filter(|t| !t.is_empty());
            }
        }
        Level::RedisMark => {
            if let Some([m]) = nth_field(after, 0) {
                severity = families::redis_severity(*m);
            }
        }
    }
    Some(Stamp {
        time,
        basis,
        message: Message::Cut { skip_from: from, skip_to: to },
        severity,
        component,
        zone_word: r.zone == ZoneRead::Word,
        of_line: false,
    })
}

/// Reads a line's timestamp with a known locator.
pub fn read(loc: &Locate, line: &[u8], ctx: &ParseContext, carry: &mut Carry) -> Option<Stamp> {
    match loc {
        Locate::At { family, anchor } => read_at(*family, *anchor, line, ctx, carry),
        Locate::Json => read_json(line, ctx, carry),
        Locate::Logfmt => read_logfmt(line, ctx, carry),
        Locate::Strftime(fmt) => read_strftime(fmt, line, ctx),
    }
}

/// A timestamp written as text anywhere a field can hold one.
fn parse_text_time(s: &[u8], ctx: &ParseContext, carry: &mut Carry) -> Option<(Timestamp, TimeBasis)> {
    text_time_memo(s, ctx, carry).map(|p| (p.time, p.basis))
}

/// A member's name, borrowed from the line unless it holds an escape.
/// (`Cow<str>`'s own `Deserialize` always copies: a copy of every name of
/// every line was a fifth of a JSON log's scan.)
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Key<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member's name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// A JSON member that is a string or a number; anything else is skipped
/// without being built.
enum Scalar<'a> {
    Str(std::borrow::Cow<'a, str>),
    Num(f64),
    /// An object, kept only for the members logs nest their facts in:
    /// MongoDB's `{"$date": …}`, ECS's `{"level": …}` under `log`,
    /// OpenTelemetry's `{"stringValue": …}` body.
    Nested(Box<Nested<'a>>),
    Other,
}

/// The members of a nested object that are kept (boxed: most lines have
/// none, and a small `Scalar` keeps every line's work small).
struct Nested<'a> {
    date: Option<Scalar<'a>>,
    level: Option<String>,
    text: Option<String>,
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
                let (mut date, mut level, mut text) = (None, None, None);
                while let Some(Key(k)) = m.next_key::<Key<'_>>()? {
                    match &*k {
                        "$date" | "$numberLong" => date = Some(m.next_value::<Scalar<'a>>()?),
                        "level" => level = m.next_value::<Scalar<'a>>()?.text(),
                        "stringValue" => text = m.next_value::<Scalar<'a>>()?.text(),
                        _ => {
                            m.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                // `{"$date": {"$numberLong": "…"}}` (MongoDB's canonical form).
                if let Some(Scalar::Nested(inner)) = &date {
                    if let Some(Scalar::Str(s)) = &inner.date {
                        date = Some(Scalar::Str(std::borrow::Cow::Owned(s.to_string())));
                    }
                }
                Ok(Scalar::Nested(Box::new(Nested { date, level, text })))
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
            Scalar::Nested(n) => n.text.clone(),
            Scalar::Other => None,
        }
    }

    /// The instant a time member names.
    fn time(&self, ctx: &ParseContext, carry: &mut Carry) -> Option<(Timestamp, TimeBasis)> {
        match self {
            Scalar::Str(s) => parse_text_time(s.as_bytes(), ctx, carry),
            Scalar::Num(n) => epoch_from_number(*n).map(|t| (t, TimeBasis::Epoch)),
            Scalar::Nested(n) => n.date.as_ref()?.time(ctx, carry),
            Scalar::Other => None,
        }
    }

    /// A level member: a word, a Bunyan/Pino number (10…60), an
    /// OpenTelemetry severity number (1…24) or a MongoDB letter (`E`, `D2`).
    fn severity(&self) -> Option<Severity> {
        match self {
            // Numbers by their range: syslog's 0 (emergency) … 7 (debug), as
            // in GELF; Bunyan/Pino's 10 … 60; Monolog's 100 … 600.
            Scalar::Num(n) if n.fract() == 0.0 && *n >= 0.0 => match *n as u32 {
                0..=7 => Some(priority_severity(*n as u8)),
                10..=60 => Some(match *n as u32 {
                    0..=29 => Severity::Debug,
                    30..=39 => Severity::Info,
                    40..=49 => Severity::Warning,
                    50..=59 => Severity::Error,
                    _ => Severity::Critical,
                }),
                100..=600 => Some(match *n as u32 {
                    0..=199 => Severity::Debug,
                    200..=249 => Severity::Info,
                    250..=299 => Severity::Notice,
                    300..=399 => Severity::Warning,
                    400..=499 => Severity::Error,
                    _ => Severity::Critical,
                }),
                _ => None,
            },
            Scalar::Str(s) if s.len() <= 2 => families::letter_severity(*s.as_bytes().first()?),
            Scalar::Str(s) => reconstruct_core::severity::from_word(s.as_bytes()),
            Scalar::Nested(n) => reconstruct_core::severity::from_word(n.level.as_ref()?.as_bytes()),
            _ => None,
        }
    }
}

/// An OpenTelemetry severity number as a level word.
fn otel_severity(n: f64) -> &'static str {
    match n as u32 {
        0..=8 => "debug",
        9..=12 => "info",
        13..=16 => "warn",
        17..=20 => "error",
        _ => "fatal",
    }
}

/// What a member of a JSON log line is read for.
#[derive(Clone, Copy)]
enum Role {
    Time,
    Level,
    Message,
    Component,
    /// journald's syslog priority (0 … 7).
    Priority,
    /// `log`: Docker's message, or ECS's object holding `level`.
    Log,
}

/// The members a JSON log line is read for, each with its role and its
/// rank within the role (a line with both `time` and `ts` is read by
/// `time`; one that fails to parse gives way to the next).
fn role(key: &str) -> Option<(Role, u8)> {
    Some(match key {
        "time" => (Role::Time, 0),
        "timestamp" => (Role::Time, 1),
        "ts" => (Role::Time, 2),
        "@timestamp" => (Role::Time, 3),
        "t" => (Role::Time, 4),
        "datetime" => (Role::Time, 5),
        "timeUnixNano" => (Role::Time, 6),
        "observedTimeUnixNano" => (Role::Time, 7),
        "__REALTIME_TIMESTAMP" => (Role::Time, 8),
        "@t" => (Role::Time, 9),
        "created_at" => (Role::Time, 10),
        "received_at" => (Role::Time, 11),
        "eventTime" => (Role::Time, 12),
        "date" => (Role::Time, 13),
        "level" => (Role::Level, 0),
        "severity" => (Role::Level, 1),
        "lvl" => (Role::Level, 2),
        "log.level" => (Role::Level, 3),
        "levelname" => (Role::Level, 4),
        "severityText" => (Role::Level, 5),
        "severityNumber" => (Role::Level, 6),
        "s" => (Role::Level, 7),
        "@l" => (Role::Level, 9),
        "msg" => (Role::Message, 0),
        "message" => (Role::Message, 1),
        "log" => (Role::Log, 2),
        "event" => (Role::Message, 3),
        "text" => (Role::Message, 4),
        "body" => (Role::Message, 5),
        "MESSAGE" => (Role::Message, 6),
        "@m" => (Role::Message, 7),
        "@mt" => (Role::Message, 8),
        "short_message" => (Role::Message, 9),
        "full_message" => (Role::Message, 10),
        "component" => (Role::Component, 0),
        "service" => (Role::Component, 1),
        "service.name" => (Role::Component, 2),
        "logger" => (Role::Component, 3),
        "logger_name" => (Role::Component, 4),
        "name" => (Role::Component, 5),
        "app" => (Role::Component, 6),
        "c" => (Role::Component, 7),
        "channel" => (Role::Component, 9),
        "SYSLOG_IDENTIFIER" => (Role::Component, 8),
        "PRIORITY" => (Role::Priority, 0),
        _ => return None,
    })
}

/// A few candidates of one role, best rank first.
struct Ranked<'a, const N: usize> {
    items: [Option<(u8, Scalar<'a>)>; N],
}

impl<'a, const N: usize> Ranked<'a, N> {
    fn new() -> Self {
        Ranked { items: std::array::from_fn(|_| None) }
    }
    fn offer(&mut self, rank: u8, v: Scalar<'a>) {
        let mut item = Some((rank, v));
        for slot in self.items.iter_mut() {
            let better = match (&item, &*slot) {
                (Some((r, _)), Some((q, _))) => r < q,
                (Some(_), None) => true,
                _ => false,
            };
            if better {
                std::mem::swap(slot, &mut item);
            }
        }
    }
    fn iter(&self) -> impl Iterator<Item = &Scalar<'a>> {
        self.items.iter().filter_map(|i| i.as_ref().map(|(_, v)| v))
    }
}

/// A JSON log line's members by role; the rest are skipped unbuilt.
struct JsonLine<'a> {
    times: Ranked<'a, 3>,
    levels: Ranked<'a, 3>,
    messages: Ranked<'a, 2>,
    components: Ranked<'a, 2>,
    priority: Option<u8>,
}

impl<'a> JsonLine<'a> {
    fn new() -> Self {
        JsonLine {
            times: Ranked::new(),
            levels: Ranked::new(),
            messages: Ranked::new(),
            components: Ranked::new(),
            priority: None,
        }
    }

    /// Takes the value of a member named `key`, which has `role` (of `rank`).
    fn take(&mut self, key: &str, role: Role, rank: u8, mut v: Scalar<'a>) {
        // OpenTelemetry's severity number has its own scale (1 … 24).
        if let (Role::Level, "severityNumber", Scalar::Num(n)) = (role, key, &v) {
            v = Scalar::Str(std::borrow::Cow::Borrowed(otel_severity(*n)));
        }
        match role {
            Role::Time => self.times.offer(rank, v),
            Role::Level => self.levels.offer(rank, v),
            Role::Message => self.messages.offer(rank, v),
            Role::Component => self.components.offer(rank, v),
            Role::Priority => self.priority = v.text().and_then(|p| p.parse::<u8>().ok()).filter(|p| *p <= 7),
            // ECS nests the level under `log`; Docker's `log` is the message.
            Role::Log => match v {
                Scalar::Nested(_) => self.levels.offer(8, v),
                v => self.messages.offer(rank, v),
            },
        }
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for JsonLine<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = JsonLine<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut j = JsonLine::new();
                while let Some(Key(k)) = m.next_key::<Key<'de>>()? {
                    let Some((role, rank)) = role(&k) else {
                        m.next_value::<serde::de::IgnoredAny>()?;
                        continue;
                    };
                    j.take(&k, role, rank, m.next_value()?);
                }
                Ok(j)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

fn read_json(line: &[u8], ctx: &ParseContext, carry: &mut Carry) -> Option<Stamp> {
    let start = skip_ws(line);
    if line.get(start) != Some(&b'{') {
        return None;
    }
    let body = line.get(start..)?;
    // Checked as UTF-8 once, the line is read as text: read as bytes, each
    // string of it was checked on its own (a tenth of a JSON log's scan).
    // A flat line with no escapes (most are) is read in one pass; serde
    // reads the rest, and says which are not JSON.
    let j: JsonLine<'_> = match std::str::from_utf8(body) {
        // A line with an escape is serde's at once (the one pass would
        // give up on it, its work lost).
        Ok(text) => match memchr::memchr(b'\\', body).map_or_else(|| flat::read(text), |_| None) {
            Some(j) => j,
            None => serde_json::from_str(text).ok()?,
        },
        Err(_) => serde_json::from_slice(body).ok()?,
    };
    let (time, basis) = j.times.iter().find_map(|v| v.time(ctx, carry))?;
    let severity = j.levels.iter().find_map(Scalar::severity).or_else(|| j.priority.map(priority_severity));
    // The level word, and whether it is the line's own text (in another case).
    let (level_word, level_of_line) = match j.levels.iter().find_map(|v| match v {
        Scalar::Str(s) if s.len() > 2 => Some((s.to_uppercase(), matches!(s, Cow::Borrowed(_)) && s.is_ascii())),
        _ => None,
    }) {
        Some((w, of)) => (Some(w), of),
        None => (severity.map(|s| s.as_str().to_uppercase()), false),
    };
    let component = j.components.iter().find_map(Scalar::text);
    // One allocation a line: the level and the message written into it.
    let text = j.messages.iter().find_map(|v| match v {
        Scalar::Str(s) => Some((Cow::Borrowed(&**s), matches!(s, Cow::Borrowed(_)))),
        other => other.text().map(|t| (Cow::Owned(t), false)),
    });
    let (message, of_line) = match (text, &level_word) {
        (Some((m, text_of_line)), Some(l)) => {
            let mut out = String::with_capacity(l.len() + 1 + m.len());
            out.push_str(l);
            out.push(' ');
            out.push_str(&m);
            let of_line = text_of_line && level_of_line && clear_join(l.as_bytes(), m.as_bytes());
            (out, of_line)
        }
        (Some((m, text_of_line)), None) => (m.into_owned(), text_of_line),
        // Without a message member the whole object is the message.
        (None, _) => {
            let whole = String::from_utf8_lossy(line.get(start..)?);
            let of_line = matches!(whole, Cow::Borrowed(_));
            (whole.into_owned(), of_line)
        }
    };
    Some(Stamp { time, basis, message: Message::Built(message), severity, component, zone_word: false, of_line })
}

/// Finds `key=` at the start of the line or after a space.
fn logfmt_field<'a>(line: &'a [u8], key: &LogfmtKey) -> Option<(usize, usize, &'a [u8])> {
    // At the start, or the first place a blank and the key stand (one
    // search built once: a byte search for the key's first letter stopped
    // at every `t` of the line).
    let at = if line.starts_with(key.name) { 0 } else { key.after_blank.find(line)? + 1 };
    let vstart = at + key.name.len();
    let (vs, ve, end) = if line.get(vstart) == Some(&b'"') {
        let close = memchr::memchr(b'"', line.get(vstart + 1..)?)?;
        (vstart + 1, vstart + 1 + close, vstart + close + 2)
    } else {
        let n = line.get(vstart..)?.iter().take_while(|c| **c != b' ').count();
        (vstart, vstart + n, vstart + n)
    };
    Some((at, end, line.get(vs..ve)?))
}

/// A logfmt time key (`ts=`) and the search for it after a blank.
struct LogfmtKey {
    name: &'static [u8],
    after_blank: memchr::memmem::Finder<'static>,
}

/// The keys a logfmt line's time is under, in the order they are taken.
static TIME_KEYS: std::sync::LazyLock<[LogfmtKey; 3]> = std::sync::LazyLock::new(|| {
    let key = |name: &'static [u8], after_blank: &'static [u8]| LogfmtKey {
        name,
        after_blank: memchr::memmem::Finder::new(after_blank),
    };
    [key(b"ts=", b" ts="), key(b"time=", b" time="), key(b"timestamp=", b" timestamp=")]
});

/// A piece of `line` as text: borrowed from `text` (the line, when it is
/// UTF-8) where the piece lies in the line, else read with U+FFFD for bad bytes.
fn piece_text<'a>(text: Option<&'a str>, line: &[u8], piece: &'a [u8]) -> Cow<'a, str> {
    let off = (piece.as_ptr() as usize).checked_sub(line.as_ptr() as usize);
    match (text, off) {
        (Some(t), Some(off)) => match t.get(off..off.saturating_add(piece.len())) {
            Some(s) if s.as_bytes().as_ptr() == piece.as_ptr() => Cow::Borrowed(s),
            _ => String::from_utf8_lossy(piece),
        },
        _ => String::from_utf8_lossy(piece),
    }
}

/// One `key=value` pair of a logfmt line: where it lies, its key, and its
/// value (unquoted, its escapes undone).
struct Pair<'a> {
    span: (usize, usize),
    key: &'a [u8],
    value: std::borrow::Cow<'a, [u8]>,
}

/// The pairs of a logfmt line, in order; a word without `=` is skipped.
fn logfmt_pairs(line: &[u8]) -> Vec<Pair<'_>> {
    // Room for a usual line's pairs at once, not grown pair by pair.
    let mut out = Vec::with_capacity(8);
    let mut i = 0;
    while i < line.len() {
        while line.get(i) == Some(&b' ') {
            i += 1;
        }
        let start = i;
        while line.get(i).is_some_and(|c| *c != b'=' && *c != b' ') {
            i += 1;
        }
        let key = line.get(start..i).unwrap_or_default();
        if line.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        let value = if line.get(i) == Some(&b'"') {
            // A quoted value runs to the first quote not escaped by a backslash.
            i += 1;
            let from = i;
            let mut escaped = false;
            while let Some(c) = line.get(i) {
                if *c == b'"' && !escaped {
                    break;
                }
                escaped = *c == b'\\' && !escaped;
                i += 1;
            }
            let raw = line.get(from..i).unwrap_or_default();
            i = i.saturating_add(1).min(line.len());
            if raw.contains(&b'\\') {
                let mut v = Vec::with_capacity(raw.len());
                let mut it = raw.iter();
                while let Some(c) = it.next() {
                    match (*c, it.clone().next()) {
                        (b'\\', Some(b'"' | b'\\')) => v.extend(it.next()),
                        (b'\\', Some(b'n')) => {
                            it.next();
                            v.push(b' ');
                        }
                        _ => v.push(*c),
                    }
                }
                std::borrow::Cow::Owned(v)
            } else {
                std::borrow::Cow::Borrowed(raw)
            }
        } else {
            let from = i;
            while line.get(i).is_some_and(|c| *c != b' ') {
                i += 1;
            }
            std::borrow::Cow::Borrowed(line.get(from..i).unwrap_or_default())
        };
        if !key.is_empty() {
            out.push(Pair { span: (start, i), key, value });
        }
    }
    out
}

/// `main.go:42`, `/app/handlers.py:118`: a file and a line number.
fn is_code_location(v: &[u8]) -> bool {
    let Some(colon) = v.iter().rposition(|c| *c == b':') else { return false };
    let (file, line) = (v.get(..colon).unwrap_or_default(), v.get(colon + 1..).unwrap_or_default());
    !line.is_empty() && line.iter().all(u8::is_ascii_digit) && file.contains(&b'.')
}

fn read_logfmt(line: &[u8], ctx: &ParseContext, carry: &mut Carry) -> Option<Stamp> {
    let (from, to, value) = TIME_KEYS.iter().find_map(|k| logfmt_field(line, k))?;
    // The whole value must be the time: `timestamp=1766759415;` in SQL is not logfmt.
    // The first layout that reads the whole value (most often the first
    // that reads it at all, which is remembered).
    let (time, basis) = match text_time_memo(value, ctx, carry).filter(|p| p.len == value.len()) {
        Some(p) => (p.time, p.basis),
        None => Layout::ALL.iter().find_map(|l| {
            let p = timestamp::parse(*l, value, ctx)?;
            (p.len == value.len()).then_some((p.time, p.basis))
        })?,
    };
    let pairs = logfmt_pairs(line);
    // The first of the keys, in the order given, that the line holds.
    let find = |keys: &[&[u8]]| keys.iter().find_map(|k| pairs.iter().position(|p| p.key == *k));
    let component_at = find(&[b"component", b"logger", b"service"]);
    let text = std::str::from_utf8(line).ok();
    let component = component_at.and_then(|i| pairs.get(i)).map(|p| piece_text(text, line, &p.value).into_owned());
    let level_at = find(&[b"level", b"lvl", b"severity"]);
    let level = level_at.and_then(|i| pairs.get(i)).map(|p| &*p.value);
    let severity = level.and_then(reconstruct_core::severity::from_word);
    // With a message field, the message is what a person reads, as a JSON
    // line's is: the level, the message, then the other fields as written
    // (a quoted message is the text, not a value to mask). Without one the
    // line is the message, its time cut out.
    // Every piece below is the line's own text when the line is UTF-8 and
    // the piece was not unescaped; what joins them is checked as it is put.
    let mut of_line = text.is_some();
    let message = match find(&[b"msg", b"message"]).and_then(|i| pairs.get(i)) {
        Some(msg) => {
            let mut out = String::with_capacity(line.len());
            if let Some(l) = level.filter(|l| l.len() > 2) {
                // In capitals, as written (no second string for them).
                let l = piece_text(text, line, l);
                if l.is_ascii() {
                    out.push_str(&l);
                    out.make_ascii_uppercase();
                } else {
                    out.push_str(&l.to_uppercase());
                }
                let own = level_at.and_then(|i| pairs.get(i)).is_some_and(|p| matches!(p.value, Cow::Borrowed(_)));
                of_line &= own && l.is_ascii() && clear_join(out.as_bytes(), &msg.value);
                out.push(' ');
            } else if let Some(s) = severity {
                of_line = false;
                out.push_str(&s.as_str().to_uppercase());
                out.push(' ');
            }
            of_line &= matches!(msg.value, Cow::Borrowed(_));
            out.push_str(&piece_text(text, line, &msg.value));
            let time_keys: [&[u8]; 3] = [b"ts", b"time", b"timestamp"];
            for (i, p) in pairs.iter().enumerate() {
                // The code location (`caller=main.go:42`, slog's `source=`) stays in the excerpt.
                let location = matches!(p.key, b"caller" | b"source") && is_code_location(&p.value);
                let skip = Some(i) == level_at
                    || Some(i) == component_at
                    || p.key == msg.key
                    || location
                    || (time_keys.contains(&p.key) && p.span.0 == from);
                if !skip {
                    let piece = line.get(p.span.0..p.span.1).unwrap_or_default();
                    of_line &= clear_join(out.as_bytes(), piece);
                    out.push(' ');
                    out.push_str(&piece_text(text, line, piece));
                }
            }
            Message::Built(out)
        }
        None => Message::Cut { skip_from: from, skip_to: to },
    };
    Some(Stamp { time, basis, message, severity, component, zone_word: false, of_line })
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
    Some(Stamp {
        time,
        basis,
        message: Message::Cut { skip_from: 0, skip_to: end },
        severity: None,
        component: None,
        zone_word: false,
        of_line: false,
    })
}

/// What learning found in a file's first lines.
#[derive(Clone, Debug)]
pub struct Learned {
    pub best: Locate,
    /// Other places and layouts that read sample lines the best one does
    /// not (a syslog that also carries access-log lines), best first.
    pub runners: Vec<Locate>,
    /// Judgements a reader should know of (day/month order, …).
    pub notes: Vec<String>,
}

/// How a candidate did on the sample.
struct Tally {
    /// Sample lines read, one bit each.
    lines: u64,
    basis: u8,
    min: Timestamp,
    max: Timestamp,
    pos_sum: usize,
}

/// Explicit offsets and epochs beat an assumed zone, which beats an inferred
/// year, which beats a date taken from the window.
fn basis_rank(b: TimeBasis) -> u8 {
    match b {
        TimeBasis::Explicit | TimeBasis::Epoch => 3,
        TimeBasis::AssumedZone => 2,
        TimeBasis::InferredYear => 1,
        TimeBasis::InferredDate => 0,
    }
}

/// Lines read, then basis rank, the first line read (negated: a stanza's
/// header before its body), anchor simplicity, table order (negated),
/// position (negated): candidates compare by it, greatest best.
type Score = (u32, u8, i64, u8, i64, i64);

/// The first sample line a mask holds, negated so that earlier is greater.
fn first_line(mask: u64) -> i64 {
    -i64::from(mask.trailing_zeros())
}

/// Lines of a sample the learner looks at (a bit mask holds them).
pub const SAMPLE_MAX: usize = 64;

/// Every (layout, place) that reads sample lines, best first; with
/// `start_only`, places other than the line start are not tried.
fn candidates(sample: &[&[u8]], ctx: &ParseContext, nonblank: usize, start_only: bool) -> Vec<(Locate, u64, Score)> {
    let mut tallies: HashMap<(usize, Anchor), Tally> = HashMap::new();
    // An epoch this far past the window's end is an id, not a time.
    let latest = Timestamp::from_unix_seconds(ctx.year_anchor.unix_seconds().saturating_add(366 * 86_400), 0)
        .unwrap_or(Timestamp::MAX);
    // At the line start, only the families that read one of the first
    // lines are tried on the rest (a file whose first lines are all
    // headers falls through to the full search).
    let allowed: Vec<bool> = if start_only {
        let firsts: Vec<&&[u8]> = sample.iter().filter(|l| !l.is_empty()).take(4).collect();
        families::all()
            .iter()
            .map(|c| {
                firsts.iter().any(|l| l.first().is_some_and(|b| c.pattern.may_start(*b)) && c.pattern.read(l).is_some())
            })
            .collect()
    } else {
        vec![true; families::all().len()]
    };
    for (li, line) in sample.iter().enumerate() {
        let bit = 1u64 << li;
        let head = line.get(..line.len().min(HEAD)).unwrap_or_default();
        let end = if start_only { head.len().min(1) } else { head.len() };
        for pos in 0..end {
            let Some(&c) = head.get(pos) else { break };
            if !(c.is_ascii_alphanumeric() || c == b'@') {
                continue;
            }
            let prev = pos.checked_sub(1).and_then(|p| head.get(p));
            if prev.is_some_and(|p| !is_blank(p) && !OPENERS.contains(p)) {
                continue;
            }
            let Some(rest) = line.get(pos..) else { continue };
            let mut anchors: Option<Vec<Anchor>> = None;
            for (fi, comp) in families::all().iter().enumerate() {
                if !comp.pattern.may_start(c) || !allowed.get(fi).copied().unwrap_or(false) {
                    continue;
                }
                // Minutes and seconds after a colon are a longer clock's tail (`14:05:00.000`).
                if comp.pattern.hourless() && prev == Some(&b':') {
                    continue;
                }
                let Some(r) = comp.pattern.read(rest) else { continue };
                let Some((t, basis)) = resolve(&r, ctx, &mut Carry::default()) else { continue };
                if r.instant.is_some() && t > latest {
                    continue;
                }
                for a in anchors.get_or_insert_with(|| Anchor::at(line, pos)).iter() {
                    let e = tallies.entry((fi, *a)).or_insert(Tally { lines: 0, basis: 3, min: t, max: t, pos_sum: 0 });
                    if e.lines & bit == 0 {
                        e.lines |= bit;
                        e.basis = e.basis.min(basis_rank(basis));
                        e.min = e.min.min(t);
                        e.max = e.max.max(t);
                        e.pos_sum = e.pos_sum.saturating_add(pos);
                    }
                }
            }
        }
    }
    // (locate, lines read, score): the score orders candidates reading the
    // same number of lines.
    let mut cands: Vec<(Locate, u64, Score)> = Vec::new();
    let mask_of = |f: &dyn Fn(&[u8]) -> bool| {
        sample.iter().enumerate().filter(|(_, l)| f(l)).fold(0u64, |m, (i, _)| m | (1u64 << i))
    };
    let json = mask_of(&|l| read_json(l, ctx, &mut Carry::default()).is_some());
    if json != 0 {
        cands.push((Locate::Json, json, (json.count_ones(), 3, first_line(json), 3, i64::MAX, 0)));
    }
    let logfmt = mask_of(&|l| read_logfmt(l, ctx, &mut Carry::default()).is_some());
    if logfmt != 0 {
        cands.push((Locate::Logfmt, logfmt, (logfmt.count_ones(), 3, first_line(logfmt), 3, i64::MAX - 1, 0)));
    }
    for ((fi, anchor), t) in &tallies {
        let loc = Locate::At { family: *fi, anchor: *anchor };
        let n = t.lines.count_ones();
        if loc.weak() {
            // A weak pattern must explain the sample, and its times must
            // hang together (within a year), to be taken at all.
            let span = t.max.unix_seconds().saturating_sub(t.min.unix_seconds());
            if (n as usize) * 2 < nonblank || span > 366 * 86_400 {
                continue;
            }
        }
        let order = -(i64::try_from(*fi).unwrap_or(i64::MAX));
        let avg_pos = -(i64::try_from(t.pos_sum / (n as usize).max(1)).unwrap_or(i64::MAX));
        cands.push((loc, t.lines, (n, t.basis, first_line(t.lines), anchor.simplicity(), order, avg_pos)));
    }
    cands.sort_by_key(|c| std::cmp::Reverse(c.2));
    cands
}

/// Learns where a file's timestamps stand from its first lines: every
/// family is tried at every place a timestamp can start in each line's
/// head, each hit is described by the anchors that name its place, and the
/// family and anchor that read the most lines win (ties: a stated offset
/// over an assumed zone, the table's order, the simpler anchor). `None`
/// when nothing reads any line.
pub fn learn(sample: &[&[u8]], ctx: &ParseContext) -> Option<Learned> {
    let sample = sample.get(..sample.len().min(SAMPLE_MAX))?;
    let nonblank = sample.iter().filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count();
    // Most files keep their time at the line start: when a layout there
    // reads nine lines in ten with a date of its own, the search of every
    // other place (the costly part, with thousands of small files) is not
    // needed. A yearless or dateless winner is searched further, since a
    // later field may carry the year or an offset.
    let quick = candidates(sample, ctx, nonblank, true);
    let cands = match quick.first() {
        Some((_, lines, score)) if (lines.count_ones() as usize) * 10 >= nonblank * 9 && score.1 >= 2 => quick,
        _ => candidates(sample, ctx, nonblank, false),
    };
    let (best, best_lines, best_score) = cands.first().cloned()?;
    let mut notes = Vec::new();
    if let Locate::At { family, anchor } = &best {
        if let Some(order) = families::get(*family).and_then(|c| c.family.order) {
            let twin = cands.iter().any(|(l, _, s)| {
                s.0 == best_score.0
                    && matches!(l, Locate::At { family: f, anchor: a } if a == anchor
                        && families::get(*f).and_then(|c| c.family.order).is_some_and(|o| o != order))
            });
            if twin {
                let read_as = match order {
                    DateOrder::MonthFirst => "month/day",
                    DateOrder::DayFirst => "day/month",
                };
                notes.push(format!(
                    "day and month order is ambiguous in the first lines (no value above 12): read as {read_as}; \
                     give --timestamp-format if that is wrong"
                ));
            }
        }
    }
    let mut covered = best_lines;
    let mut runners = Vec::new();
    for (loc, lines, _) in cands.iter().skip(1) {
        // A value after `=` or inside quotes is a field of the message
        // (`SET timestamp=…;`), not a second layout of the file's lines.
        let in_message = matches!(loc, Locate::At { anchor: Anchor::After(b'=' | b'"', _), .. });
        if lines & !covered != 0 && !loc.weak() && !in_message && runners.len() < 4 {
            covered |= lines;
            runners.push(loc.clone());
        }
    }
    Some(Learned { best, runners, notes })
}

/// RFC 3339 at the start of the line: what container runtime records become.
pub fn iso_at_start() -> Locate {
    Locate::At { family: 0, anchor: Anchor::Start }
}

/// Layouts tried on a line neither the learned layout nor a runner-up
/// reads, before it is taken as the continuation of the line above: every
/// family that is not weak, at the line's start or after a leading `[`.
pub fn strays() -> Vec<Locate> {
    let mut v = vec![Locate::Json];
    for (i, c) in families::all().iter().enumerate() {
        if !c.family.weak {
            v.push(Locate::At { family: i, anchor: Anchor::Start });
            v.push(Locate::At { family: i, anchor: Anchor::After(b'[', 1) });
        }
    }
    v.push(Locate::Logfmt);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::Zone;

    fn ctx() -> ParseContext {
        // Window 2025-12-26 14:00–15:00 UTC.
        ParseContext::new(Zone::Utc, Timestamp::from_unix_nanos(1_766_761_200_000_000_000))
            .with_first_day(Timestamp::from_unix_nanos(1_766_757_600_000_000_000))
    }

    fn learned(lines: &[&str]) -> Option<Locate> {
        let v: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        learn(&v, &ctx()).map(|l| l.best)
    }

    fn times(lines: &[&str]) -> Vec<String> {
        let loc = learned(lines).unwrap_or_else(|| panic!("no layout for {lines:?}"));
        let mut carry = Carry::default();
        lines
            .iter()
            .map(|l| read(&loc, l.as_bytes(), &ctx(), &mut carry).map_or("-".to_string(), |s| s.time.rfc3339()))
            .collect()
    }

    fn one(line: &str) -> (String, String) {
        let loc = learned(&[line]).unwrap_or_else(|| panic!("no layout for {line:?}"));
        let s = read(&loc, line.as_bytes(), &ctx(), &mut Carry::default()).unwrap();
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
            ("level=info ts=2025-12-26T14:30:15Z msg=\"hello\"", "2025-12-26T14:30:15Z", "INFO hello"),
            ("time=\"2025-12-26T14:30:15Z\" level=warning msg=x", "2025-12-26T14:30:15Z", "WARNING x"),
            (
                "ts=2025-12-26T14:30:15Z level=info path=/health status=200",
                "2025-12-26T14:30:15Z",
                "level=info path=/health status=200",
            ),
        ];
        for (line, time, msg) in cases {
            assert_eq!(one(line), (time.to_string(), msg.to_string()), "{line}");
        }
    }

    #[test]
    fn logfmt_reads_its_message_as_a_json_line_does() {
        let read_one = |l: &str| read(&Locate::Logfmt, l.as_bytes(), &ctx(), &mut Carry::default()).unwrap();
        // go-kit (Prometheus, Loki): the caller is a code location, left in the excerpt.
        let s = read_one(
            r#"ts=2025-12-26T14:30:15.123Z caller=main.go:1234 level=error component=tsdb msg="compaction failed" err="open /data/01H: no space left on device""#,
        );
        assert_eq!(s.severity, Some(Severity::Error));
        assert_eq!(s.component.as_deref(), Some("tsdb"));
        let Message::Built(m) = &s.message else { panic!("a built message") };
        assert_eq!(m, r#"ERROR compaction failed err="open /data/01H: no space left on device""#);
        // Escaped quotes, slog's source, other fields in order.
        let s = read_one(
            r#"time=2025-12-26T14:30:15Z level=WARN source=/app/pay.go:88 msg="retrying \"charge\"" attempt=3 service=payments"#,
        );
        assert_eq!((s.severity, s.component.as_deref()), (Some(Severity::Warning), Some("payments")));
        let Message::Built(m) = &s.message else { panic!("a built message") };
        assert_eq!(m, r#"WARN retrying "charge" attempt=3"#);
        // Two messages whose quoted texts differ stay two messages once templated.
        let a = read_one(r#"ts=2025-12-26T14:30:15Z level=error msg="db down""#);
        let b = read_one(r#"ts=2025-12-26T14:30:16Z level=error msg="cache full""#);
        assert_ne!(a.message, b.message);
    }

    #[test]
    fn json_lines_with_several_keys_and_odd_members() {
        // Both `time` and `ts`: read, `time` first. An object-valued `event`
        // and escaped text do not stop the line.
        let line = r#"{"ts":1,"time":"2025-12-26T14:30:15Z","event":{"k":[1,2]},"message":"a \"quoted\" word","level":"warn","logger":"db"}"#;
        assert_eq!(one(line), ("2025-12-26T14:30:15Z".to_string(), "WARN a \"quoted\" word".to_string()));
        let s = read(&Locate::Json, line.as_bytes(), &ctx(), &mut Carry::default()).unwrap();
        assert_eq!((s.severity, s.component.as_deref()), (Some(Severity::Warning), Some("db")));
        assert!(read(&Locate::Json, br#"{"time":"2025-12-26T14:30:15Z","msg":"cut"#, &ctx(), &mut Carry::default())
            .is_none());
    }

    #[test]
    fn learning_prefers_the_majority_layout() {
        let lines = ["2025-12-26 14:30:15 a", "2025-12-26 14:30:16 b", "1766759415 odd one", "  continuation"];
        let iso_space = crate::families::TABLE.iter().position(|f| f.name == "ISO 8601 with a space").unwrap();
        assert_eq!(learned(&lines), Some(Locate::At { family: iso_space, anchor: Anchor::Start }));
        assert_eq!(learned(&["no time here", "nor here"]), None);
    }

    #[test]
    fn a_remembered_time_text_reads_as_the_text_read_afresh() {
        // One run of texts through one carry, each answer held to a fresh
        // reading: the same second with other fractions, other seconds,
        // other digit counts and zones, and texts whose `.` is not a
        // fraction's (dates written with dots, versions, addresses).
        let texts = [
            "2025-12-26T14:30:15.029Z",
            "2025-12-26T14:30:15.999Z",
            "2025-12-26T14:30:15.5Z",
            "2025-12-26T14:30:15.500000001Z",
            "2025-12-26T14:30:16.001Z",
            "2025-12-26T14:30:16.001+05:30",
            "2025-12-26T14:30:16.001",
            "2025-12-26 14:30:16,123",
            "2025-12-26 14:30:16,456",
            "2025-12-26T14:30:16.1234567891Z",
            "1766759415.029",
            "1766759415.5",
            "1766759416.25",
            "2025.12.26",
            "2025.12.27",
            "26.12.2025 14:30:15",
            "26.11.2025 14:30:15",
            "26.12.2025 14:30:16",
            "27.12.2025 14:30:16",
            "2025-12-26 14.30.15",
            "2025-12-26 14.31.15",
            "10.0.0.1",
            "10.0.0.2",
            "Dec 26 14:30:15.120",
            "Dec 26 14:30:15.870",
            "Dec 27 14:30:15.870",
            "2025-12-26T14:30:15.029Z trailing",
            "2025-12-26T14:30:15.030Z trailing",
            "2025-12-26T14:30:15.0x9Z",
            "2025-12-26T14:30:15.Z",
        ];
        let ctx = ctx();
        let mut carry = Carry::default();
        for round in 0..2 {
            for t in texts {
                let fresh = text_time(t.as_bytes(), &ctx).map(|p| (p.time, p.basis, p.len));
                let kept = text_time_memo(t.as_bytes(), &ctx, &mut carry).map(|p| (p.time, p.basis, p.len));
                assert_eq!(kept, fresh, "{t} (round {round})");
            }
        }
        // The memory is used: the second text of a second is read from it.
        let mut carry = Carry::default();
        let _ = text_time_memo(b"2025-12-26T14:30:15.029Z", &ctx, &mut carry);
        assert!(carry.text.is_some());
    }

    #[test]
    fn a_logfmt_time_key_is_found_where_a_look_at_every_letter_finds_it() {
        // The plain way: every place the key's first letter stands, the
        // first where the key begins the line or follows a blank.
        fn plain<'a>(line: &'a [u8], key: &[u8]) -> Option<(usize, usize, &'a [u8])> {
            for at in 0..line.len() {
                if !line[at..].starts_with(key) || !(at == 0 || line[at - 1] == b' ') {
                    continue;
                }
                let vstart = at + key.len();
                let (vs, ve, end) = if line.get(vstart) == Some(&b'"') {
                    let close = line[vstart + 1..].iter().position(|c| *c == b'"')?;
                    (vstart + 1, vstart + 1 + close, vstart + close + 2)
                } else {
                    let n = line[vstart..].iter().take_while(|c| **c != b' ').count();
                    (vstart, vstart + n, vstart + n)
                };
                return Some((at, end, &line[vs..ve]));
            }
            None
        }
        let lines = [
            "time=2025-12-26T14:30:15Z level=info msg=\"ok\"",
            "ts=2025-12-26T14:30:15Z time=2025-12-26T14:30:16Z",
            "time=2025-12-26T14:30:16Z ts=2025-12-26T14:30:15Z",
            "msg=\"a ts=1\" time=2025-12-26T14:30:15Z",
            "xts=1 latest=2 ts=\"2025-12-26 14:30:15\"",
            "ts=\"unterminated",
            "level=info ts=",
            "ts=",
            "timestamp=2025-12-26T14:30:15Z",
            " timestamp=1766759415",
            "no keys here",
            "",
        ];
        for l in lines {
            for k in TIME_KEYS.iter() {
                assert_eq!(logfmt_field(l.as_bytes(), k), plain(l.as_bytes(), k.name), "{l:?} {:?}", k.name);
            }
        }
    }

    #[test]
    fn strftime_formats() {
        let loc = Locate::Strftime("%d.%m.%Y %H:%M:%S".into());
        let s = read(&loc, b"26.12.2025 14:30:15 hello", &ctx(), &mut Carry::default()).unwrap();
        assert_eq!((s.time.rfc3339(), s.basis), ("2025-12-26T14:30:15Z".into(), TimeBasis::AssumedZone));
        let loc = Locate::Strftime("%d.%m.%Y %H:%M:%S %z".into());
        let s = read(&loc, b"26.12.2025 16:30:15 +0200 hello", &ctx(), &mut Carry::default()).unwrap();
        assert_eq!((s.time.rfc3339(), s.basis), ("2025-12-26T14:30:15Z".into(), TimeBasis::Explicit));
        assert!(read(&loc, b"garbage", &ctx(), &mut Carry::default()).is_none());
    }

    #[test]
    fn every_family_reads_its_samples_with_no_configuration() {
        for c in crate::families::all() {
            let lines: Vec<&str> = c.family.samples.iter().map(|(l, _)| *l).collect();
            let want: Vec<String> = c.family.samples.iter().map(|(_, t)| t.to_string()).collect();
            assert_eq!(times(&lines), want, "{}", c.family.name);
        }
    }

    #[test]
    fn timestamps_after_a_prefix() {
        // File names, host names, pids, priorities, bracketed blocks, quotes, tabs.
        let cases: [(&[&str], &[&str]); 9] = [
            (
                &[
                    "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute",
                    "nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:01.100 2931 INFO nova.compute",
                ],
                &["2017-05-16T00:00:00.008Z", "2017-05-16T00:00:01.100Z"],
            ),
            (
                &[
                    "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02 RAS KERNEL INFO ok",
                    "APPREAD 1117869872 2005.06.04 R33-M1 2005-06-04-00.24.32.432192 R33 RAS APP FATAL ciod: err",
                ],
                &["2005-06-03T22:42:50Z", "2005-06-04T07:24:32Z"],
            ),
            (
                &[
                    "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change",
                    "2557 node-70 action start 1074119817 1 clusterAddMember (command 1902)",
                ],
                &["2004-02-26T14:12:22Z", "2004-01-14T22:36:57Z"],
            ),
            (
                &["<34>Dec 26 14:30:15 host app[12]: a", "<165>Dec 26 14:30:16 host app[12]: b"],
                &["2025-12-26T14:30:15Z", "2025-12-26T14:30:16Z"],
            ),
            (
                &["<165>1 2025-12-26T14:30:15.003Z host app 12 ID47 [x@1 a=\"b\"] msg", "<11>1 2025-12-26T14:30:16Z h a - - - m"],
                &["2025-12-26T14:30:15.003Z", "2025-12-26T14:30:16Z"],
            ),
            (
                &[
                    "[pid: 88185|app: 0|req: 1/1] 10.0.0.1 () {38 vars in 612 bytes} [Fri Dec 26 14:30:15 2025] POST /x => 200",
                    "[pid: 88185|app: 0|req: 2/2] 10.0.0.2 (alice) {40 vars in 700 bytes} [Fri Dec 26 14:30:16 2025] GET / => 500",
                ],
                &["2025-12-26T14:30:15Z", "2025-12-26T14:30:16Z"],
            ),
            (
                &["\"2025-12-26 14:30:15\"\tsvc\tstarted", "\"2025-12-26 14:30:16\"\tsvc\tstopped"],
                &["2025-12-26T14:30:15Z", "2025-12-26T14:30:16Z"],
            ),
            (
                &[": 1766759415:0;make deploy", ": 1766759420:3;kubectl rollout undo deploy/api"],
                &["2025-12-26T14:30:15Z", "2025-12-26T14:30:20Z"],
            ),
            (
                &["update-alternatives 2025-06-24 14:36:53: run with --install", "Start-Date: 2025-06-24  14:36:25"],
                &["2025-06-24T14:36:53Z", "2025-06-24T14:36:25Z"],
            ),
        ];
        for (lines, want) in cases {
            assert_eq!(times(lines), want.to_vec(), "{lines:?}");
        }
    }

    #[test]
    fn the_message_loses_the_time_and_its_brackets() {
        let (t, m) = one("[12.26 14:30:15] chrome.exe - proxy open");
        assert_eq!((t.as_str(), m.as_str()), ("2025-12-26T14:30:15Z", "chrome.exe - proxy open"));
        let (_, m) = one("<34>Dec 26 14:30:15 host app[12]: hello");
        assert_eq!(m, "host app[12]: hello");
    }

    #[test]
    fn levels_and_components_the_layout_states() {
        let line = "12-26 14:30:15.811  1702  2395 E WindowManager: freeze timeout";
        let loc = learned(&[line]).unwrap();
        let s = read(&loc, line.as_bytes(), &ctx(), &mut Carry::default()).unwrap();
        assert_eq!((s.severity, s.component.as_deref()), (Some(Severity::Error), Some("WindowManager")));
        let line = "1:M 26 Dec 2025 14:30:15.123 # WARNING overcommit";
        let s = read(&learned(&[line]).unwrap(), line.as_bytes(), &ctx(), &mut Carry::default()).unwrap();
        assert_eq!(s.severity, Some(Severity::Warning));
        let line = "<11>Dec 26 14:30:15 host app: disk";
        let s = read(&learned(&[line]).unwrap(), line.as_bytes(), &ctx(), &mut Carry::default()).unwrap();
        assert_eq!(s.severity, Some(Severity::Error));
        let line = "W1226 14:30:15.123456    1 main.go:42] slow";
        let s = read(&learned(&[line]).unwrap(), line.as_bytes(), &ctx(), &mut Carry::default()).unwrap();
        assert_eq!(s.severity, Some(Severity::Warning));
    }

    #[test]
    fn structured_json_families() {
        let cases = [
            (
                r#"{"t":{"$date":"2025-12-26T14:30:15.123+00:00"},"s":"E","c":"NETWORK","id":1,"ctx":"conn1","msg":"Error receiving request"}"#,
                "2025-12-26T14:30:15.123Z",
                Some(Severity::Error),
                Some("NETWORK"),
            ),
            (
                r#"{"name":"api","hostname":"h","pid":1,"level":50,"msg":"db down","time":"2025-12-26T14:30:15.000Z","v":0}"#,
                "2025-12-26T14:30:15Z",
                Some(Severity::Error),
                Some("api"),
            ),
            (
                r#"{"level":40,"time":1766759415123,"pid":1,"hostname":"h","msg":"slow"}"#,
                "2025-12-26T14:30:15.123Z",
                Some(Severity::Warning),
                None,
            ),
            (
                r#"{"@timestamp":"2025-12-26T14:30:15.000Z","log":{"level":"error","logger":"x"},"service":{"name":"api"},"message":"boom"}"#,
                "2025-12-26T14:30:15Z",
                Some(Severity::Error),
                None,
            ),
            (
                r#"{"timeUnixNano":"1766759415000000000","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"payment failed"}}"#,
                "2025-12-26T14:30:15Z",
                Some(Severity::Error),
                None,
            ),
            (
                r#"{"level":"error","ts":1766759415.5,"logger":"http.log","msg":"handled request"}"#,
                "2025-12-26T14:30:15.500Z",
                Some(Severity::Error),
                Some("http.log"),
            ),
        ];
        for (line, time, sev, comp) in cases {
            let s =
                read(&Locate::Json, line.as_bytes(), &ctx(), &mut Carry::default()).unwrap_or_else(|| panic!("{line}"));
            assert_eq!((s.time.rfc3339(), s.severity, s.component.as_deref()), (time.to_string(), sev, comp), "{line}");
            assert_eq!(learned(&[line]), Some(Locate::Json), "{line}");
        }
        let s = read(
            &Locate::Json,
            br#"{"timeUnixNano":"1766759415000000000","body":{"stringValue":"payment failed"}}"#,
            &ctx(),
            &mut Carry::default(),
        )
        .unwrap();
        assert!(matches!(s.message, Message::Built(ref m) if m == "payment failed"));
    }

    #[test]
    fn dates_that_need_judgement() {
        // Day first is decided by a value above 12; without one, it is said.
        let v: Vec<&[u8]> = vec![b"26/12/2025 14:30:15 a", b"05/12/2025 14:30:16 b"];
        let l = learn(&v, &ctx()).unwrap();
        assert!(l.notes.is_empty());
        assert_eq!(
            times(&["05/12/2025 14:30:16 b", "26/12/2025 14:30:15 a"]),
            ["2025-12-05T14:30:16Z", "2025-12-26T14:30:15Z"]
        );
        let v: Vec<&[u8]> = vec![b"05/12/2025 14:30:16 b", b"06/12/2025 14:30:16 c"];
        let l = learn(&v, &ctx()).unwrap();
        assert!(l.notes.iter().any(|n| n.contains("ambiguous")), "{:?}", l.notes);
        // A yearless log across New Year, read in January.
        let jan = ParseContext::new(Zone::Utc, Timestamp::from_unix_nanos(1_767_312_000_000_000_000));
        let lines: [&[u8]; 2] = [b"Dec 31 23:59:59 h a: x", b"Jan  1 00:00:01 h a: y"];
        let loc = learn(&lines, &jan).unwrap().best;
        let t: Vec<String> =
            lines.iter().map(|l| read(&loc, l, &jan, &mut Carry::default()).unwrap().time.rfc3339()).collect();
        assert_eq!(t, ["2025-12-31T23:59:59Z", "2026-01-01T00:00:01Z"]);
        // Times of day alone roll over at midnight.
        assert_eq!(
            times(&["23:59:58.000 worker tick", "23:59:59.500 worker tick", "00:00:01.000 worker tick"]),
            ["2025-12-26T23:59:58Z", "2025-12-26T23:59:59.500Z", "2025-12-27T00:00:01Z"]
        );
        // A DST gap and fold in a named zone.
        let paris =
            ParseContext::new("Europe/Paris".parse().unwrap(), Timestamp::from_unix_nanos(1_766_761_200_000_000_000));
        let loc = learned(&["2025-03-30 02:30:00 gap"]).unwrap();
        let s = read(&loc, b"2025-03-30 02:30:00 gap", &paris, &mut Carry::default()).unwrap();
        assert_eq!(s.time.rfc3339(), "2025-03-30T01:30:00Z");
        let s = read(&loc, b"2025-10-26 02:30:00 fold", &paris, &mut Carry::default()).unwrap();
        assert_eq!(s.time.rfc3339(), "2025-10-26T00:30:00Z");
    }

    #[test]
    fn weak_patterns_need_the_sample() {
        // One ten-digit id in prose is not an epoch timestamp layout.
        assert_eq!(learned(&["user 1766759415 logged", "nothing here", "nor here", "still nothing"]), None);
        // An id beyond the window's next year is not a time.
        assert_eq!(learned(&["- 4102444800 x", "- 4102444801 y"]), None);
        // Bare times of day in a syslog line lose to the syslog date.
        assert!(matches!(learned(&["Dec 26 14:30:15 h a: x"]), Some(Locate::At { anchor: Anchor::Start, .. })));
    }

    #[test]
    fn two_layouts_interleaved_are_both_read() {
        let lines = [
            "Dec 26 14:30:15 lb haproxy[1]: started",
            "10.0.0.1 - - [26/Dec/2025:14:30:16 +0000] \"GET / HTTP/1.1\" 500 1",
            "Dec 26 14:30:17 lb haproxy[1]: stopping",
        ];
        let v: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        let l = learn(&v, &ctx()).unwrap();
        assert!(!l.runners.is_empty());
        let t = read(&l.runners[0], lines[1].as_bytes(), &ctx(), &mut Carry::default()).unwrap();
        assert_eq!(t.time.rfc3339(), "2025-12-26T14:30:16Z");
    }
}
