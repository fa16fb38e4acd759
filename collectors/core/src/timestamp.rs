//! Timestamp layouts engineers meet in logs, parsed by hand from bytes.
//!
//! Each parser reads one layout at the start of a byte slice and says how many
//! bytes it used, so a collector can learn a file's layout once and then pay
//! one cheap parse per line instead of trying every pattern on every line.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::event::{TimeBasis, Timestamp};
use crate::zone::{parse_offset, Zone};

/// A timestamp read from text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub time: Timestamp,
    pub basis: TimeBasis,
    /// Bytes of the input the timestamp occupied.
    pub len: usize,
}

/// The layouts recognised without configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// RFC 3339 / ISO 8601 with `T` or space, `.`/`,` fraction, `Z`/offset/` UTC`;
    /// also `YYYY/MM/DD HH:MM:SS` and PostgreSQL's `2025-12-26 14:31:05.123 UTC`.
    Iso,
    /// syslog `Dec 26 14:30:15` (year inferred).
    Syslog,
    /// Apache/nginx error `Sun Dec 04 04:47:44 2005` (inside `[…]`).
    ApacheError,
    /// Common/combined log `10/Oct/2000:13:55:36 -0700` (inside `[…]`).
    Clf,
    /// klog/glog `I1226 14:30:15.123456` (year inferred).
    Klog,
    /// Seconds, milliseconds, microseconds or nanoseconds since the epoch.
    Epoch,
}

impl Layout {
    pub const ALL: [Layout; 6] =
        [Layout::Iso, Layout::Clf, Layout::ApacheError, Layout::Syslog, Layout::Klog, Layout::Epoch];

    pub fn name(self) -> &'static str {
        match self {
            Layout::Iso => "ISO 8601",
            Layout::Syslog => "syslog",
            Layout::ApacheError => "Apache error",
            Layout::Clf => "common log",
            Layout::Klog => "klog",
            Layout::Epoch => "epoch",
        }
    }
}

/// What a parser needs besides the bytes.
#[derive(Clone, Copy, Debug)]
pub struct ParseContext {
    /// Zone for times written without an offset.
    pub zone: Zone,
    /// The end of the window: layouts without a year take the latest year
    /// that does not put the time after it (a December line read in January
    /// belongs to last year).
    pub year_anchor: Timestamp,
    /// The start of the window: layouts with a time of day but no date take
    /// this day (in `zone`) for their first line.
    pub first_day: Timestamp,
}

impl ParseContext {
    pub fn new(zone: Zone, year_anchor: Timestamp) -> Self {
        ParseContext { zone, year_anchor, first_day: year_anchor }
    }

    /// The day a log without dates begins on; a window without a start
    /// keeps the day of its end.
    pub fn with_first_day(mut self, since: Timestamp) -> Self {
        if since.unix_seconds() > 0 {
            self.first_day = since;
        }
        self
    }
}

/// The UTC instant of wall-clock fields: at `offset` seconds east of UTC
/// when the text gave one, else in `zone`. `None` for an impossible date.
pub fn civil_to_utc(
    year: i64,
    month: u32,
    day: u32,
    hms: (u32, u32, u32),
    nanos: u32,
    offset: Option<i32>,
    zone: &Zone,
) -> Option<Timestamp> {
    let (hour, min, sec) = hms;
    let civil = Civil { year, month, day, hour, min, sec, nanos };
    match offset {
        Some(off) => civil.at_offset(off),
        None => civil.in_zone(zone),
    }
}

pub fn parse(layout: Layout, b: &[u8], ctx: &ParseContext) -> Option<Parsed> {
    match layout {
        Layout::Iso => parse_iso(b, &ctx.zone),
        Layout::Syslog => parse_syslog(b, ctx),
        Layout::ApacheError => parse_apache_error(b, &ctx.zone),
        Layout::Clf => parse_clf(b),
        Layout::Klog => parse_klog(b, ctx),
        Layout::Epoch => parse_epoch(b),
    }
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Wall-clock fields as read from text.
#[derive(Clone, Copy, Debug)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    nanos: u32,
}

impl Civil {
    fn valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.min < 60
            && self.sec <= 60
    }

    /// UTC instant for a known offset (seconds east of UTC).
    fn at_offset(&self, offset_secs: i32) -> Option<Timestamp> {
        if !self.valid() {
            return None;
        }
        let secs = days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.min) * 60
            + i64::from(self.sec)
            - i64::from(offset_secs);
        Timestamp::from_unix_seconds(secs, self.nanos)
    }

    fn in_zone(&self, zone: &Zone) -> Option<Timestamp> {
        if let Some(off) = zone.fixed_offset_secs() {
            return self.at_offset(off);
        }
        if !self.valid() {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(i32::try_from(self.year).ok()?, self.month, self.day)?;
        let time = NaiveTime::from_hms_nano_opt(self.hour, self.min, self.sec.min(59), self.nanos)?;
        zone.to_utc(&NaiveDateTime::new(date, time))
    }
}

/// A tiny cursor over bytes; every read is bounds-checked.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn new(b: &'a [u8]) -> Self {
        Cur { b, i: 0 }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn peek_at(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }
    fn eat_any(&mut self, set: &[u8]) -> Option<u8> {
        let c = self.peek()?;
        set.contains(&c).then(|| {
            self.i += 1;
            c
        })
    }
    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v: u32 = 0;
        for _ in 0..n {
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
            self.i += 1;
        }
        Some(v)
    }
    /// One or two digits, optionally space-padded on the left (`" 4"`).
    fn day_padded(&mut self) -> Option<u32> {
        if self.peek() == Some(b' ') {
            self.i += 1;
            return self.digits(1);
        }
        let first = self.digits(1)?;
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                self.i += 1;
                Some(first * 10 + u32::from(c - b'0'))
            }
            _ => Some(first),
        }
    }
    /// An optional `.`/`,` fraction of 1..=9 digits; more digits are read and dropped.
    fn fraction(&mut self) -> u32 {
        if !matches!(self.peek(), Some(b'.') | Some(b',')) || !self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            return 0;
        }
        self.i += 1;
        let mut nanos: u32 = 0;
        let mut n = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            if n < 9 {
                nanos = nanos * 10 + u32::from(c - b'0');
                n += 1;
            }
            self.i += 1;
        }
        while n < 9 {
            nanos *= 10;
            n += 1;
        }
        nanos
    }
    fn month_name(&mut self) -> Option<u32> {
        let m = month_from_name(self.b.get(self.i..self.i + 3)?)?;
        self.i += 3;
        Some(m)
    }
    fn rest(&self) -> &'a [u8] {
        self.b.get(self.i..).unwrap_or_default()
    }
    /// The next byte must not continue a token (so `2025-12-26T14:30:159` fails).
    fn at_boundary(&self) -> bool {
        !self.peek().is_some_and(|c| c.is_ascii_alphanumeric())
    }
}

fn month_from_name(b: &[u8]) -> Option<u32> {
    const NAMES: [&[u8; 3]; 12] =
        [b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"];
    let lower = [b.first()?.to_ascii_lowercase(), b.get(1)?.to_ascii_lowercase(), b.get(2)?.to_ascii_lowercase()];
    NAMES.iter().position(|n| **n == lower).and_then(|p| u32::try_from(p + 1).ok())
}

fn hms(c: &mut Cur<'_>) -> Option<(u32, u32, u32, u32)> {
    let h = c.digits(2)?;
    c.eat(b':')?;
    let m = c.digits(2)?;
    c.eat(b':')?;
    let s = c.digits(2)?;
    let nanos = c.fraction();
    Some((h, m, s, nanos))
}

/// ISO 8601 / RFC 3339 and its common relatives; see [`Layout::Iso`].
pub fn parse_iso(b: &[u8], zone: &Zone) -> Option<Parsed> {
    let mut c = Cur::new(b);
    let year = i64::from(c.digits(4)?);
    let sep = c.eat_any(b"-/")?;
    let month = c.digits(2)?;
    c.eat(sep)?;
    let day = c.digits(2)?;
    c.eat_any(b"T ")?;
    let (hour, min, sec, nanos) = hms(&mut c)?;
    let civil = Civil { year, month, day, hour, min, sec, nanos };
    // Offset: `Z`, `+hh:mm`, `+hhmm`, `+hh`, or after one space `UTC`/`GMT`/`+hhmm`.
    match c.peek() {
        Some(b'Z') | Some(b'z') => {
            c.i += 1;
            if !c.at_boundary() {
                return None;
            }
            return Some(Parsed { time: civil.at_offset(0)?, basis: TimeBasis::Explicit, len: c.i });
        }
        Some(b'+') | Some(b'-') => {
            let (off, used) = parse_offset(c.rest())?;
            c.i += used;
            return Some(Parsed { time: civil.at_offset(off)?, basis: TimeBasis::Explicit, len: c.i });
        }
        Some(b' ') => {
            let r = c.rest();
            let word = r.get(1..4);
            if (word == Some(b"UTC") || word == Some(b"GMT")) && !r.get(4).is_some_and(|x| x.is_ascii_alphanumeric()) {
                return Some(Parsed { time: civil.at_offset(0)?, basis: TimeBasis::Explicit, len: c.i + 4 });
            }
            if matches!(r.get(1), Some(b'+') | Some(b'-')) {
                if let Some((off, used)) = parse_offset(r.get(1..)?) {
                    if used == 5 && !r.get(1 + used).is_some_and(|x| x.is_ascii_alphanumeric()) {
                        return Some(Parsed {
                            time: civil.at_offset(off)?,
                            basis: TimeBasis::Explicit,
                            len: c.i + 1 + used,
                        });
                    }
                }
            }
        }
        _ => {}
    }
    if !c.at_boundary() {
        return None;
    }
    Some(Parsed { time: civil.in_zone(zone)?, basis: TimeBasis::AssumedZone, len: c.i })
}

/// The year for a date written without one: the latest year that does not
/// put it more than a day after the anchor.
pub fn infer_year(month: u32, day: u32, hour: u32, anchor: Timestamp) -> i64 {
    let a = anchor.to_datetime();
    let year = i64::from(chrono::Datelike::year(&a));
    let probe = Civil { year, month, day: day.min(days_in_month(year, month)), hour, min: 0, sec: 0, nanos: 0 };
    match probe.at_offset(0) {
        Some(t) if t.unix_seconds() > anchor.unix_seconds().saturating_add(86_400) => year - 1,
        _ => year,
    }
}

/// syslog `Mmm dd HH:MM:SS[.frac]` (BSD, RFC 3164).
pub fn parse_syslog(b: &[u8], ctx: &ParseContext) -> Option<Parsed> {
    let mut c = Cur::new(b);
    let month = c.month_name()?;
    c.eat(b' ')?;
    let day = c.day_padded()?;
    c.eat(b' ')?;
    let (hour, min, sec, nanos) = hms(&mut c)?;
    if !c.at_boundary() {
        return None;
    }
    let year = infer_year(month, day, hour, ctx.year_anchor);
    let civil = Civil { year, month, day, hour, min, sec, nanos };
    Some(Parsed { time: civil.in_zone(&ctx.zone)?, basis: TimeBasis::InferredYear, len: c.i })
}

/// Apache/nginx error log `Www Mmm dd HH:MM:SS[.frac] YYYY`, read after its `[`.
pub fn parse_apache_error(b: &[u8], zone: &Zone) -> Option<Parsed> {
    let mut c = Cur::new(b);
    for _ in 0..3 {
        if !c.peek()?.is_ascii_alphabetic() {
            return None;
        }
        c.i += 1;
    }
    c.eat(b' ')?;
    let month = c.month_name()?;
    c.eat(b' ')?;
    let day = c.day_padded()?;
    c.eat(b' ')?;
    let (hour, min, sec, nanos) = hms(&mut c)?;
    c.eat(b' ')?;
    let year = i64::from(c.digits(4)?);
    if !c.at_boundary() {
        return None;
    }
    let civil = Civil { year, month, day, hour, min, sec, nanos };
    Some(Parsed { time: civil.in_zone(zone)?, basis: TimeBasis::AssumedZone, len: c.i })
}

/// Common/combined log format `dd/Mmm/YYYY:HH:MM:SS -0700`, read after its `[`.
pub fn parse_clf(b: &[u8]) -> Option<Parsed> {
    let mut c = Cur::new(b);
    let day = c.digits(2)?;
    c.eat(b'/')?;
    let month = c.month_name()?;
    c.eat(b'/')?;
    let year = i64::from(c.digits(4)?);
    c.eat(b':')?;
    let (hour, min, sec, nanos) = hms(&mut c)?;
    c.eat(b' ')?;
    let (off, used) = parse_offset(c.rest())?;
    c.i += used;
    let civil = Civil { year, month, day, hour, min, sec, nanos };
    Some(Parsed { time: civil.at_offset(off)?, basis: TimeBasis::Explicit, len: c.i })
}

/// klog/glog `Lmmdd hh:mm:ss.uuuuuu` where L is one of I, W, E, F.
pub fn parse_klog(b: &[u8], ctx: &ParseContext) -> Option<Parsed> {
    let mut c = Cur::new(b);
    c.eat_any(b"IWEFD")?;
    let month = c.digits(2)?;
    let day = c.digits(2)?;
    c.eat(b' ')?;
    let (hour, min, sec, nanos) = hms(&mut c)?;
    if !c.at_boundary() {
        return None;
    }
    let year = infer_year(month, day, hour, ctx.year_anchor);
    let civil = Civil { year, month, day, hour, min, sec, nanos };
    Some(Parsed { time: civil.in_zone(&ctx.zone)?, basis: TimeBasis::InferredYear, len: c.i })
}

/// Epoch time: 10 digits of seconds (with an optional fraction), or 13, 16,
/// 19 digits of milli-, micro- or nanoseconds. Other lengths are not taken,
/// so ids and counters at the start of a line are not read as times.
pub fn parse_epoch(b: &[u8]) -> Option<Parsed> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let digits = b.get(..n)?;
    let mut v: i64 = 0;
    for d in digits {
        v = v.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    let (time, len) = match n {
        10 => {
            let mut c = Cur { b, i: n };
            let nanos = c.fraction();
            (Timestamp::from_unix_seconds(v, nanos)?, c.i)
        }
        13 => (Timestamp::from_unix_nanos(v.checked_mul(1_000_000)?), n),
        16 => (Timestamp::from_unix_nanos(v.checked_mul(1_000)?), n),
        19 => (Timestamp::from_unix_nanos(v), n),
        _ => return None,
    };
    let c = Cur { b, i: len };
    if !c.at_boundary() {
        return None;
    }
    Some(Parsed { time, basis: TimeBasis::Epoch, len })
}

/// Epoch time from a JSON number, guessing the unit from its magnitude.
pub fn epoch_from_number(v: f64) -> Option<Timestamp> {
    if !v.is_finite() || v <= 0.0 {
        return None;
    }
    let nanos = if v < 1e11 {
        v * 1e9
    } else if v < 1e14 {
        v * 1e6
    } else if v < 1e17 {
        v * 1e3
    } else {
        v
    };
    if nanos >= i64::MAX as f64 {
        return None;
    }
    // Rounded to the microsecond: an f64 of seconds carries no more.
    Some(Timestamp::from_unix_nanos(((nanos / 1e3).round() as i64) * 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ParseContext {
        // Anchor: 2025-12-26T15:00:00Z
        ParseContext::new(Zone::Utc, Timestamp::from_unix_nanos(1_766_761_200_000_000_000))
    }

    fn iso(s: &str) -> Option<(String, TimeBasis, usize)> {
        parse_iso(s.as_bytes(), &Zone::Utc).map(|p| (p.time.rfc3339(), p.basis, p.len))
    }

    #[test]
    fn iso_variants() {
        let e = TimeBasis::Explicit;
        let a = TimeBasis::AssumedZone;
        assert_eq!(iso("2025-12-26T14:30:15Z rest"), Some(("2025-12-26T14:30:15Z".into(), e, 20)));
        assert_eq!(iso("2025-12-26T14:30:15.123456789Z"), Some(("2025-12-26T14:30:15.123456789Z".into(), e, 30)));
        assert_eq!(iso("2025-12-26T16:30:15+02:00 x").map(|p| p.0), Some("2025-12-26T14:30:15Z".into()));
        assert_eq!(iso("2025-12-26T16:30:15+0200 x").map(|p| p.0), Some("2025-12-26T14:30:15Z".into()));
        assert_eq!(iso("2025-12-26T09:30:15-05 x").map(|p| p.0), Some("2025-12-26T14:30:15Z".into()));
        assert_eq!(iso("2025-12-26 14:30:15,123 INFO"), Some(("2025-12-26T14:30:15.123Z".into(), a, 23)));
        assert_eq!(iso("2025-12-26 14:30:15 INFO"), Some(("2025-12-26T14:30:15Z".into(), a, 19)));
        assert_eq!(iso("2025/12/26 14:30:15 [error]"), Some(("2025-12-26T14:30:15Z".into(), a, 19)));
        assert_eq!(iso("2025-12-26 14:31:05.123 UTC [42] LOG"), Some(("2025-12-26T14:31:05.123Z".into(), e, 27)));
        assert_eq!(iso("2025-12-26 14:31:05 +0000 x").map(|p| (p.1, p.2)), Some((e, 25)));
        assert_eq!(iso("2025-12-26 14:31:05.5 UTCX").map(|p| p.1), Some(a));
        assert_eq!(iso("2025-12-26T14:30:159"), None);
        assert_eq!(iso("2025-13-26T14:30:15Z"), None);
        assert_eq!(iso("2025-02-30T14:30:15Z"), None);
        assert_eq!(iso("2025-12-26T24:30:15Z"), None);
        assert_eq!(iso("2025-12-2"), None);
        assert_eq!(iso(""), None);
    }

    #[test]
    fn iso_in_assumed_zone() {
        let z: Zone = "America/New_York".parse().unwrap();
        let p = parse_iso(b"2025-12-26 09:30:15 x", &z).unwrap();
        assert_eq!(p.time.rfc3339(), "2025-12-26T14:30:15Z");
        assert_eq!(p.basis, TimeBasis::AssumedZone);
    }

    #[test]
    fn syslog_infers_year() {
        let p = parse_syslog(b"Dec 26 14:30:15 host app[1]: x", &ctx()).unwrap();
        assert_eq!((p.time.rfc3339(), p.basis, p.len), ("2025-12-26T14:30:15Z".into(), TimeBasis::InferredYear, 15));
        let p = parse_syslog(b"Dec  4 04:47:44 host", &ctx()).unwrap();
        assert_eq!(p.time.rfc3339(), "2025-12-04T04:47:44Z");
        // Read in early January, a December line belongs to the year before.
        let jan = ParseContext::new(Zone::Utc, Timestamp::from_unix_nanos(1_767_312_000_000_000_000));
        let p = parse_syslog(b"Dec 31 23:59:59 host", &jan).unwrap();
        assert_eq!(p.time.rfc3339(), "2025-12-31T23:59:59Z");
        assert!(parse_syslog(b"Foo 26 14:30:15", &ctx()).is_none());
    }

    #[test]
    fn apache_error_and_clf() {
        let p = parse_apache_error(b"Sun Dec 04 04:47:44 2005] [error]", &Zone::Utc).unwrap();
        assert_eq!((p.time.rfc3339(), p.len), ("2005-12-04T04:47:44Z".into(), 24));
        let p = parse_apache_error(b"Fri Dec 26 14:30:15.123456 2025]", &Zone::Utc).unwrap();
        assert_eq!(p.time.rfc3339(), "2025-12-26T14:30:15.123456Z");
        let p = parse_clf(b"10/Oct/2000:13:55:36 -0700] \"GET").unwrap();
        assert_eq!((p.time.rfc3339(), p.basis, p.len), ("2000-10-10T20:55:36Z".into(), TimeBasis::Explicit, 26));
        assert!(parse_clf(b"10/Oct/2000:13:55:36]").is_none());
    }

    #[test]
    fn klog_and_epoch() {
        let p = parse_klog(b"I1226 14:30:15.123456    1 main.go:42] hi", &ctx()).unwrap();
        assert_eq!((p.time.rfc3339(), p.basis), ("2025-12-26T14:30:15.123456Z".into(), TimeBasis::InferredYear));
        assert!(parse_klog(b"X1226 14:30:15", &ctx()).is_none());
        let p = parse_epoch(b"1766759415 msg").unwrap();
        assert_eq!((p.time.rfc3339(), p.len), ("2025-12-26T14:30:15Z".into(), 10));
        let p = parse_epoch(b"1766759415.25 msg").unwrap();
        assert_eq!(p.time.rfc3339(), "2025-12-26T14:30:15.250Z");
        let p = parse_epoch(b"1766759415123 msg").unwrap();
        assert_eq!(p.time.rfc3339(), "2025-12-26T14:30:15.123Z");
        assert!(parse_epoch(b"12345 msg").is_none());
        assert!(parse_epoch(b"1766759415abc").is_none());
        assert!(parse_epoch(b"99999999999999999999999").is_none());
        assert_eq!(epoch_from_number(1_766_759_415.5).map(|t| t.rfc3339()), Some("2025-12-26T14:30:15.500Z".into()));
        assert_eq!(
            epoch_from_number(1_766_759_415_500.0).map(|t| t.rfc3339()),
            Some("2025-12-26T14:30:15.500Z".into())
        );
        assert_eq!(epoch_from_number(f64::NAN), None);
    }

    #[test]
    fn never_panics_on_prefixes_of_valid_input() {
        let samples: [&[u8]; 6] = [
            b"2025-12-26T14:30:15.123+02:00",
            b"Dec 26 14:30:15",
            b"Sun Dec 04 04:47:44 2005",
            b"10/Oct/2000:13:55:36 -0700",
            b"I1226 14:30:15.123456",
            b"1766759415.123",
        ];
        for s in samples {
            for n in 0..=s.len() {
                for l in Layout::ALL {
                    let _ = parse(l, &s[..n], &ctx());
                }
            }
        }
    }
}
