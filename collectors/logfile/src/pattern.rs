//! Timestamp patterns written as data (`%Y-%m-%d %H:%M:%S%f%z`), compiled
//! once and matched at one known place in a line, by hand, on bytes.
//!
//! The tokens are strftime's where strftime has one; the rest are marked:
//!
//! | token | reads |
//! |---|---|
//! | `%Y` `%y` | four-digit year; two-digit year (1970–2069) |
//! | `%m` `%d` `%e` | month 01–12; day 01–31; day with optional blank padding (` 4`, `4`, `04`) |
//! | `%b` `%a` | month name (`Dec`, `December`, and French, German, Spanish, Italian, Portuguese, Dutch abbreviations: `déc.`, `Dez`, `dic`); English weekday name (`Fri`, `Friday`) |
//! | `%H` `%k` `%I` `%p` | hour 00–23; hour with optional padding (` 9`, `9`); hour 1–12; `AM`/`PM` |
//! | `%M` `%S` | minute; second (a leap second 60 is kept as 59) |
//! | `%-m` `%-d` `%-H` `%-M` `%-S` | the same, one or two digits without padding |
//! | `%N` | milliseconds as a whole number of one to three digits (`:98` is 98 ms) |
//! | `%j` | day of the year, three digits (an ordinal date, `2025-360`) |
//! | `%f` | an optional `.` or `,` fraction of any length |
//! | `%F` | a fraction's digits, required (after a separator the pattern spells) |
//! | `%z` | an optional zone: `Z`, `±hh:mm`, `±hhmm`, ` UTC`, ` GMT`, ` +hhmm`, or a zone word (` CEST`) that is noted and read in `--tz` |
//! | `%s` | epoch seconds (10 digits, optional fraction), milli-, micro- or nanoseconds (13, 16, 19 digits) |
//! | `%@` | a TAI64N label, `@` and 24 hex digits (daemontools, s6, runit) |
//! | `%L` | a glog/klog level letter (`I`, `W`, `E`, `F`, `D`) |
//! | ` ` | one or more blanks (spaces or tabs) |
//! | other | itself |

use reconstruct_core::event::Timestamp;
use reconstruct_core::zone::parse_offset;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Year4,
    Year2,
    Month2,
    Day2,
    DayPad,
    MonthName,
    WeekdayName,
    Hour2,
    HourPad,
    Hour12,
    AmPm,
    Min2,
    Sec2,
    FracOpt,
    FracReq,
    Millis,
    YearDay,
    Month12,
    Day12,
    Hour12d,
    Min12,
    Sec12,
    Zone,
    Epoch,
    Tai64n,
    Letter,
    Blank,
    Lit(u8),
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    toks: Vec<Tok>,
    /// The token after the seconds, when what follows them is only a
    /// fraction, a zone, blanks and punctuation: lines that repeat the text
    /// up to the seconds (most lines of a busy log) are read from there.
    split: Option<usize>,
    /// Which bytes can begin a match: a cheap test before the parse.
    first: [bool; 256],
    /// It reads minutes and seconds, no hour.
    hourless: bool,
}

/// How the text stated the zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ZoneRead {
    /// Not at all: the time is read in `--tz`.
    #[default]
    Absent,
    /// An offset in seconds east of UTC (`Z` and ` UTC` are 0).
    Offset(i32),
    /// A zone word that is not an offset (`CEST`, `PST`): abbreviations are
    /// ambiguous (IST, CST), so the time is read in `--tz` and coverage says so.
    Word,
}

/// The fields a pattern read from a line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reading {
    pub year: Option<i64>,
    pub month: Option<u32>,
    pub day: Option<u32>,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    pub nanos: u32,
    pub zone: ZoneRead,
    /// An instant read whole (epoch, TAI64N).
    pub instant: Option<Timestamp>,
    /// A level letter the timestamp carries (glog's `I1226`).
    pub letter: Option<u8>,
    /// Minutes and seconds without an hour (TCF's `MM:SS.mmm`): the hour is the reader's to carry.
    pub hourless: bool,
    /// Bytes of the line the timestamp used.
    pub len: usize,
}

/// What [`Pattern::tail`] read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tail {
    pub nanos: u32,
    pub zone: ZoneRead,
    /// Bytes of the line the timestamp used.
    pub len: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub struct PatternError(pub String);

impl Pattern {
    pub fn compile(src: &str) -> Result<Pattern, PatternError> {
        let mut toks = Vec::new();
        let mut it = src.bytes();
        while let Some(c) = it.next() {
            let t = match c {
                b'%' => match it.next() {
                    Some(b'Y') => Tok::Year4,
                    Some(b'y') => Tok::Year2,
                    Some(b'm') => Tok::Month2,
                    Some(b'd') => Tok::Day2,
                    Some(b'e') => Tok::DayPad,
                    Some(b'b') => Tok::MonthName,
                    Some(b'a') => Tok::WeekdayName,
                    Some(b'H') => Tok::Hour2,
                    Some(b'k') => Tok::HourPad,
                    Some(b'I') => Tok::Hour12,
                    Some(b'p') => Tok::AmPm,
                    Some(b'M') => Tok::Min2,
                    Some(b'S') => Tok::Sec2,
                    Some(b'f') => Tok::FracOpt,
                    Some(b'F') => Tok::FracReq,
                    Some(b'z') => Tok::Zone,
                    Some(b's') => Tok::Epoch,
                    Some(b'@') => Tok::Tai64n,
                    Some(b'L') => Tok::Letter,
                    Some(b'N') => Tok::Millis,
                    Some(b'j') => Tok::YearDay,
                    Some(b'-') => match it.next() {
                        Some(b'm') => Tok::Month12,
                        Some(b'd') => Tok::Day12,
                        Some(b'H') => Tok::Hour12d,
                        Some(b'M') => Tok::Min12,
                        Some(b'S') => Tok::Sec12,
                        _ => return Err(PatternError(format!("unknown unpadded token in {src:?}"))),
                    },
                    Some(b'%') => Tok::Lit(b'%'),
                    other => {
                        return Err(PatternError(format!(
                            "unknown token %{} in {src:?}",
                            other.map(char::from).unwrap_or(' ')
                        )))
                    }
                },
                b' ' => Tok::Blank,
                c => Tok::Lit(c),
            };
            toks.push(t);
        }
        let has = |t: Tok| toks.contains(&t);
        let whole = has(Tok::Epoch) || has(Tok::Tai64n);
        let clock = has(Tok::Hour2) || has(Tok::HourPad) || has(Tok::Hour12) || has(Tok::Hour12d);
        // Minutes and seconds alone need their fraction to be told from other numbers.
        let hourless = !whole && !clock && has(Tok::Min2) && has(Tok::Sec2) && has(Tok::FracReq);
        if !whole && !clock && !hourless {
            return Err(PatternError(format!("{src:?} reads no time of day")));
        }
        if has(Tok::Hour12) != has(Tok::AmPm) {
            return Err(PatternError(format!("{src:?}: %I and %p go together")));
        }
        let mut first = [false; 256];
        let mut allow = |pred: &dyn Fn(u8) -> bool| {
            for (b, slot) in first.iter_mut().enumerate() {
                if u8::try_from(b).is_ok_and(pred) {
                    *slot = true;
                }
            }
        };
        match toks.first() {
            Some(Tok::MonthName | Tok::WeekdayName | Tok::AmPm) => allow(&|b| b.is_ascii_alphabetic()),
            Some(Tok::Letter) => allow(&|b| b"IWEFD".contains(&b)),
            Some(Tok::Tai64n) => allow(&|b| b == b'@'),
            Some(Tok::DayPad | Tok::HourPad | Tok::Hour12) => allow(&|b| b.is_ascii_digit() || b == b' '),
            Some(Tok::Lit(c)) => {
                let c = *c;
                allow(&move |b| b == c)
            }
            Some(Tok::Blank) => allow(&|b| b == b' ' || b == b'\t'),
            _ => allow(&|b| b.is_ascii_digit()),
        }
        let secs = toks.iter().rposition(|t| matches!(t, Tok::Sec2 | Tok::Sec12));
        let head_ok = |h: &[Tok]| !h.iter().any(|t| matches!(t, Tok::AmPm | Tok::YearDay | Tok::Epoch | Tok::Tai64n));
        let tail_ok = |t: &[Tok]| {
            t.iter()
                .all(|t| matches!(t, Tok::FracOpt | Tok::FracReq | Tok::Millis | Tok::Zone | Tok::Lit(_) | Tok::Blank))
        };
        let split =
            secs.map(|i| i + 1).filter(|i| toks.get(..*i).is_some_and(head_ok) && toks.get(*i..).is_some_and(tail_ok));
        Ok(Pattern { toks, split, first, hourless })
    }

    /// Whether it reads minutes and seconds without an hour.
    pub fn hourless(&self) -> bool {
        self.hourless
    }

    /// Where a line's text can be reused up to (see `split`).
    pub fn split(&self) -> Option<usize> {
        self.split
    }

    /// Whether a match can begin with this byte.
    pub fn may_start(&self, b: u8) -> bool {
        self.first.get(usize::from(b)).copied().unwrap_or(false)
    }

    /// Whether the pattern reads a date (else the date comes from the window).
    pub fn has_date(&self) -> bool {
        self.toks
            .iter()
            .any(|t| matches!(t, Tok::Day2 | Tok::DayPad | Tok::Day12 | Tok::YearDay | Tok::Epoch | Tok::Tai64n))
    }

    /// Reads the pattern at the start of `b`.
    pub fn read(&self, b: &[u8]) -> Option<Reading> {
        self.run(b, 0, 0, Reading::default(), None).map(|(r, _)| r)
    }

    /// Reads a line and also says how far its text went at the split token
    /// and what had been read by then (`None` for a pattern without one).
    pub fn read_split(&self, b: &[u8]) -> Option<(Reading, Option<(usize, Reading)>)> {
        self.run(b, 0, 0, Reading::default(), self.split)
    }

    /// Reads the rest of a line whose first `at` bytes were read before,
    /// into `head`, up to the split token.
    pub fn resume(&self, b: &[u8], at: usize, head: Reading) -> Option<Reading> {
        self.run(b, self.split?, at, head, None).map(|(r, _)| r)
    }

    /// Reads what follows the split token of a line whose first `at` bytes
    /// were read before into `head`: the fraction, a zone, literals and
    /// blanks only (what a split allows after it). What [`Pattern::resume`]
    /// gives, less the fields `head` already holds, and without copying a
    /// whole reading about: most lines of a log are read this way.
    pub fn tail(&self, b: &[u8], at: usize, head: &Reading) -> Option<Tail> {
        let mut c = Cur { b, i: at };
        let (mut nanos, mut zone) = (head.nanos, head.zone);
        for t in self.toks.get(self.split?..)? {
            match *t {
                Tok::FracOpt => {
                    if matches!(c.peek(), Some(b'.') | Some(b',')) && c.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
                        c.i += 1;
                        nanos = c.fraction_digits()?;
                    }
                }
                Tok::FracReq => nanos = c.fraction_digits()?,
                Tok::Millis => {
                    let n = c.rest().iter().take(4).take_while(|d| d.is_ascii_digit()).count();
                    if !(1..=3).contains(&n) {
                        return None;
                    }
                    nanos = c.digits(n)? * 1_000_000;
                }
                Tok::Zone => zone = c.zone(),
                Tok::Blank => {
                    let n = c.rest().iter().take_while(|x| matches!(x, b' ' | b'\t')).count();
                    if n == 0 {
                        return None;
                    }
                    c.i += n;
                }
                Tok::Lit(l) => {
                    if c.peek()? != l {
                        return None;
                    }
                    c.i += 1;
                }
                // A split has nothing else after it.
                _ => return None,
            }
        }
        let ends_in_text = matches!(self.toks.last(), Some(Tok::Lit(x)) if !x.is_ascii_alphanumeric());
        if !ends_in_text && c.peek().is_some_and(|x| x.is_ascii_alphanumeric()) {
            return None;
        }
        Some(Tail { nanos, zone, len: c.i })
    }

    fn run(
        &self,
        b: &[u8],
        from: usize,
        at: usize,
        head: Reading,
        snapshot: Option<usize>,
    ) -> Option<(Reading, Option<(usize, Reading)>)> {
        let mut c = Cur { b, i: at };
        let mut r = head;
        // Set first, not last: a byte written just before the whole reading
        // is copied out stalls the copy.
        r.hourless = self.hourless;
        let mut pm: Option<bool> = None;
        let mut yday: Option<u32> = None;
        let mut snap = None;
        for (k, t) in self.toks.iter().enumerate().skip(from) {
            if snapshot == Some(k) {
                snap = Some((c.i, r));
            }
            match *t {
                Tok::Year4 => r.year = Some(i64::from(c.digits(4)?)),
                Tok::Year2 => {
                    let y = i64::from(c.digits(2)?);
                    r.year = Some(if y < 70 { 2000 + y } else { 1900 + y });
                }
                Tok::Month2 => r.month = Some(c.digits(2)?),
                Tok::Day2 => r.day = Some(c.digits(2)?),
                Tok::DayPad => r.day = Some(c.padded()?),
                Tok::MonthName => r.month = Some(c.month_name()?),
                Tok::WeekdayName => c.weekday_name()?,
                Tok::Hour2 => r.hour = c.digits(2)?,
                Tok::HourPad => r.hour = c.padded()?,
                Tok::Hour12 => {
                    let h = c.padded()?;
                    if !(1..=12).contains(&h) {
                        return None;
                    }
                    r.hour = h;
                }
                Tok::AmPm => pm = Some(c.am_pm()?),
                Tok::Min2 => r.min = c.digits(2)?,
                Tok::Sec2 => r.sec = c.digits(2)?,
                Tok::FracOpt => {
                    if matches!(c.peek(), Some(b'.') | Some(b',')) && c.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
                        c.i += 1;
                        r.nanos = c.fraction_digits()?;
                    }
                }
                Tok::FracReq => r.nanos = c.fraction_digits()?,
                Tok::Millis => {
                    let n = c.rest().iter().take(4).take_while(|d| d.is_ascii_digit()).count();
                    if !(1..=3).contains(&n) {
                        return None;
                    }
                    r.nanos = c.digits(n)? * 1_000_000;
                }
                Tok::YearDay => yday = Some(c.digits(3)?),
                Tok::Month12 => r.month = Some(c.unpadded()?),
                Tok::Day12 => r.day = Some(c.unpadded()?),
                Tok::Hour12d => r.hour = c.unpadded()?,
                Tok::Min12 => r.min = c.unpadded()?,
                Tok::Sec12 => r.sec = c.unpadded()?,
                Tok::Zone => r.zone = c.zone(),
                Tok::Epoch => {
                    let p = reconstruct_core::timestamp::parse_epoch(c.rest())?;
                    c.i += p.len;
                    r.instant = Some(p.time);
                }
                Tok::Tai64n => r.instant = Some(c.tai64n()?),
                Tok::Letter => r.letter = Some(c.eat_any(b"IWEFD")?),
                Tok::Blank => {
                    let n = c.rest().iter().take_while(|x| matches!(x, b' ' | b'\t')).count();
                    if n == 0 {
                        return None;
                    }
                    c.i += n;
                }
                Tok::Lit(l) => {
                    if c.peek()? != l {
                        return None;
                    }
                    c.i += 1;
                }
            }
        }
        // `14:30:159` or `2025-12-26T14:30:15abc` is not a timestamp.
        let ends_in_text = matches!(self.toks.last(), Some(Tok::Lit(x)) if !x.is_ascii_alphanumeric());
        if !ends_in_text && c.peek().is_some_and(|x| x.is_ascii_alphanumeric()) {
            return None;
        }
        // An ordinal date (`2025-360`) becomes month and day.
        if let (Some(d), Some(y)) = (yday, r.year) {
            let date = chrono::NaiveDate::from_yo_opt(i32::try_from(y).ok()?, d)?;
            r.month = Some(chrono::Datelike::month(&date));
            r.day = Some(chrono::Datelike::day(&date));
        }
        if let Some(pm) = pm {
            r.hour = match (r.hour, pm) {
                (12, false) => 0,
                (12, true) => 12,
                (h, true) => h + 12,
                (h, false) => h,
            };
        }
        if r.instant.is_none() {
            let ok_date = r.month.is_none_or(|m| (1..=12).contains(&m)) && r.day.is_none_or(|d| (1..=31).contains(&d));
            if !ok_date || r.hour > 23 || r.min > 59 || r.sec > 60 {
                return None;
            }
            r.sec = r.sec.min(59);
        }
        r.len = c.i;
        Some((r, snap))
    }
}

/// A bounds-checked cursor.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn peek_at(&self, k: usize) -> Option<u8> {
        self.b.get(self.i.checked_add(k)?).copied()
    }
    fn rest(&self) -> &'a [u8] {
        self.b.get(self.i..).unwrap_or_default()
    }
    fn eat_any(&mut self, set: &[u8]) -> Option<u8> {
        let c = self.peek()?;
        set.contains(&c).then(|| {
            self.i += 1;
            c
        })
    }
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v: u32 = 0;
        for _ in 0..n {
            let c = self.peek().filter(u8::is_ascii_digit)?;
            v = v * 10 + u32::from(c - b'0');
            self.i += 1;
        }
        Some(v)
    }
    /// One or two digits.
    fn unpadded(&mut self) -> Option<u32> {
        let n = self.rest().iter().take(2).take_while(|d| d.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        self.digits(n)
    }

    /// One or two digits, or a blank and one digit.
    fn padded(&mut self) -> Option<u32> {
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
    /// Fraction digits: the first nine are kept, the rest read and dropped.
    fn fraction_digits(&mut self) -> Option<u32> {
        let mut nanos: u32 = 0;
        let mut n = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            if n < 9 {
                nanos = nanos * 10 + u32::from(c - b'0');
                n += 1;
            }
            self.i += 1;
        }
        if n == 0 {
            return None;
        }
        // One multiply, not a loop of them: this runs for every line.
        const SCALE: [u32; 10] =
            [1_000_000_000, 100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];
        Some(nanos.saturating_mul(SCALE.get(n).copied().unwrap_or(1)))
    }
    fn word(&mut self) -> &'a [u8] {
        let n = self.rest().iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let w = self.rest().get(..n).unwrap_or_default();
        self.i += n;
        w
    }
    fn month_name(&mut self) -> Option<u32> {
        const FULL: [&str; 12] = [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ];
        // Letters and the bytes of UTF-8 letters (`févr`, `déc`, `Mär`).
        let n = self.rest().iter().take_while(|c| c.is_ascii_alphabetic() || **c >= 0x80).count();
        let w = self.rest().get(..n)?;
        let month = full_or_short(w, &FULL).or_else(|| localized_month(w))?;
        self.i += n;
        // `janv.`: an abbreviation's dot belongs to the name.
        if self.peek() == Some(b'.') && n < 6 {
            self.i += 1;
        }
        u32::try_from(month + 1).ok()
    }
    fn weekday_name(&mut self) -> Option<()> {
        const FULL: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
        let w = self.word();
        full_or_short(w, &FULL).map(|_| ())
    }
    fn am_pm(&mut self) -> Option<bool> {
        let w = self.word();
        if w.eq_ignore_ascii_case(b"am") {
            Some(false)
        } else if w.eq_ignore_ascii_case(b"pm") {
            Some(true)
        } else {
            None
        }
    }
    fn zone(&mut self) -> ZoneRead {
        match self.peek() {
            Some(b'Z') | Some(b'z') if !self.peek_at(1).is_some_and(|c| c.is_ascii_alphanumeric()) => {
                self.i += 1;
                ZoneRead::Offset(0)
            }
            Some(b'+') | Some(b'-') => match parse_offset(self.rest()) {
                Some((off, used)) if !self.peek_at(used).is_some_and(|c| c.is_ascii_digit()) => {
                    self.i += used;
                    ZoneRead::Offset(off)
                }
                _ => ZoneRead::Absent,
            },
            Some(b' ') => {
                let r = self.rest().get(1..).unwrap_or_default();
                if matches!(r.first(), Some(b'+') | Some(b'-')) {
                    // Only the five-character form after a blank: ` -0700`, not ` - INFO`.
                    if let Some((off, 5)) = parse_offset(r) {
                        if !r.get(5).is_some_and(|c| c.is_ascii_alphanumeric()) {
                            self.i += 6;
                            return ZoneRead::Offset(off);
                        }
                    }
                    return ZoneRead::Absent;
                }
                let n = r.iter().take_while(|c| c.is_ascii_uppercase()).count();
                let word = r.get(..n).unwrap_or_default();
                if r.get(n).is_some_and(|c| c.is_ascii_alphanumeric()) {
                    return ZoneRead::Absent;
                }
                if matches!(word, b"UTC" | b"GMT" | b"Z" | b"UT") {
                    self.i += 1 + n;
                    return ZoneRead::Offset(0);
                }
                if is_zone_word(word) {
                    self.i += 1 + n;
                    return ZoneRead::Word;
                }
                ZoneRead::Absent
            }
            _ => ZoneRead::Absent,
        }
    }
    /// `@` and 24 hex digits: TAI seconds + 2^62, then nanoseconds. TAI runs
    /// ten seconds ahead of the epoch's count (leap seconds since 1972 are not
    /// subtracted, as daemontools' own tai64nlocal does not).
    fn tai64n(&mut self) -> Option<Timestamp> {
        if self.peek()? != b'@' {
            return None;
        }
        let hex = self.b.get(self.i + 1..self.i + 25)?;
        let mut secs: u64 = 0;
        let mut nanos: u64 = 0;
        for (k, c) in hex.iter().enumerate() {
            let d = u64::from(char::from(*c).to_digit(16)?);
            if k < 16 {
                secs = secs.checked_mul(16)?.checked_add(d)?;
            } else {
                nanos = nanos.checked_mul(16)?.checked_add(d)?;
            }
        }
        self.i += 25;
        let unix = secs.checked_sub((1u64 << 62) + 10)?;
        if nanos >= 1_000_000_000 {
            return None;
        }
        Timestamp::from_unix_seconds(i64::try_from(unix).ok()?, u32::try_from(nanos).ok()?)
    }
}

/// Month abbreviations of the languages syslog and Java write most after
/// English (French, German, Spanish, Italian, Portuguese, Dutch), 0-based.
fn localized_month(w: &[u8]) -> Option<usize> {
    let lower = String::from_utf8_lossy(w).to_lowercase();
    const NAMES: [&[&str]; 12] = [
        &["janv", "janvier", "jän", "jänner", "januar", "ene", "enero", "gen", "gennaio", "janeiro", "januari"],
        &["févr", "fevr", "février", "februar", "febrero", "febbraio", "fev", "fevereiro", "februari"],
        &["mars", "mär", "märz", "marzo", "março", "maart", "mrt"],
        &["avr", "avril", "abr", "abril", "aprile"],
        &["mai", "mayo", "mag", "maggio", "maio", "mei"],
        &["juin", "junio", "giu", "giugno", "junho", "juni"],
        &["juil", "juillet", "julio", "lug", "luglio", "julho", "juli"],
        &["août", "aout", "ago", "agosto", "augustus"],
        &["sept", "septembre", "set", "settembre", "setembro", "septiembre"],
        &["okt", "oktober", "octobre", "octubre", "ott", "ottobre", "out", "outubro"],
        &["novembre", "noviembre", "novembro"],
        &["déc", "dec", "décembre", "dez", "dezember", "dic", "diciembre", "dicembre", "dezembro"],
    ];
    NAMES.iter().position(|names| names.contains(&lower.as_str()))
}

/// A name written in full or as its first three letters, any case.
fn full_or_short(w: &[u8], full: &[&str]) -> Option<usize> {
    if w.len() < 3 {
        return None;
    }
    full.iter().position(|f| {
        let f = f.as_bytes();
        (w.len() == 3 && f.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(w))) || f.eq_ignore_ascii_case(w)
    })
}

/// Zone abbreviations that follow a time in logs. They are recognised so
/// that they are not read as part of the message; they are not converted.
/// A `match` (not a list search): every line's level word passes here.
fn is_zone_word(w: &[u8]) -> bool {
    matches!(
        w,
        b"CET"
            | b"CEST"
            | b"EET"
            | b"EEST"
            | b"WET"
            | b"WEST"
            | b"BST"
            | b"IST"
            | b"MSK"
            | b"EST"
            | b"EDT"
            | b"CST"
            | b"CDT"
            | b"MST"
            | b"MDT"
            | b"PST"
            | b"PDT"
            | b"AKST"
            | b"AKDT"
            | b"HST"
            | b"AST"
            | b"ADT"
            | b"NST"
            | b"NDT"
            | b"JST"
            | b"KST"
            | b"HKT"
            | b"SGT"
            | b"AEST"
            | b"AEDT"
            | b"ACST"
            | b"ACDT"
            | b"AWST"
            | b"NZST"
            | b"NZDT"
            | b"WIB"
            | b"PHT"
            | b"SAST"
            | b"CAT"
            | b"EAT"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &str, s: &str) -> Option<Reading> {
        Pattern::compile(p).unwrap().read(s.as_bytes())
    }

    #[test]
    fn tokens() {
        let r = read("%Y-%m-%d %H:%M:%S%f%z", "2025-12-26 14:30:15,123 UTC x").unwrap();
        assert_eq!(
            (r.year, r.month, r.day, r.hour, r.nanos, r.zone, r.len),
            (Some(2025), Some(12), Some(26), 14, 123_000_000, ZoneRead::Offset(0), 27)
        );
        let r = read("%Y-%m-%d %H:%M:%S%f%z", "2025-12-26 14:30:15 CEST x").unwrap();
        assert_eq!(r.zone, ZoneRead::Word);
        let r = read("%Y-%m-%d %H:%M:%S%f%z", "2025-12-26 14:30:15 INFO x").unwrap();
        assert_eq!((r.zone, r.len), (ZoneRead::Absent, 19));
        let r = read("%Y-%m-%d %H:%M:%S%f%z", "2025-12-26 14:30:15 - INFO").unwrap();
        assert_eq!((r.zone, r.len), (ZoneRead::Absent, 19));
        let r = read("%Y-%m-%dT%H:%M:%S%f%z", "2025-12-26T14:30:15.123+0000 x").unwrap();
        assert_eq!(r.zone, ZoneRead::Offset(0));
        assert!(read("%y%m%d %H%M%S", "081109 203615 148 INFO").is_some());
        assert!(read("%y%m%d %H%M%S", "081109 2036159").is_none());
        let r = read("%b %e, %Y %I:%M:%S %p", "Dec 26, 2025 2:30:15 PM org.x").unwrap();
        assert_eq!(r.hour, 14);
        let r = read("%b %e, %Y %I:%M:%S %p", "Dec 26, 2025 12:30:15 AM org.x").unwrap();
        assert_eq!(r.hour, 0);
        let r = read("%@", "@40000000694e9c0125a08e34 x").unwrap();
        assert_eq!(r.instant.map(|t| t.rfc3339()), Some("2025-12-26T14:30:15.631279156Z".into()));
        let r = read("%a %b %e %H:%M:%S %Y", "Friday December 26 14:30:15 2025").unwrap();
        assert_eq!((r.month, r.day), (Some(12), Some(26)));
        assert!(read("%a %b %e %H:%M:%S %Y", "Fri Foo 26 14:30:15 2025").is_none());
        let r = read("%Y%m%d-%-H:%-M:%-S:%N", "20251226-4:3:9:98|x").unwrap();
        assert_eq!((r.hour, r.min, r.sec, r.nanos), (4, 3, 9, 98_000_000));
        assert!(read("%Y%m%d-%-H:%-M:%-S:%N", "20251226-4:3:9:9812|x").is_none());
        let r = read("%L%m%d %H:%M:%S%f", "E1226 14:30:15.5 x").unwrap();
        assert_eq!((r.letter, r.nanos), (Some(b'E'), 500_000_000));
        assert!(read("%H:%M:%S", "24:00:00").is_none());
        assert!(read("%m-%d %H:%M:%S", "13-01 10:00:00").is_none());
    }

    #[test]
    fn resuming_after_the_seconds_reads_what_a_whole_read_does() {
        let p = Pattern::compile("%Y-%m-%d %H:%M:%S%f%z").unwrap();
        let (whole, snap) = p.read_split(b"2025-12-26 14:30:15,123 UTC x").unwrap();
        let (at, head) = snap.unwrap();
        assert_eq!(at, 19);
        assert_eq!(p.resume(b"2025-12-26 14:30:15,123 UTC x", at, head), Some(whole));
        let next = p.resume(b"2025-12-26 14:30:15.9 x", at, head).unwrap();
        assert_eq!((next.nanos, next.zone, next.len), (900_000_000, ZoneRead::Absent, 21));
        // A year after the time, or AM/PM, cannot be split.
        assert!(Pattern::compile("%a %b %e %H:%M:%S%f %Y").unwrap().split().is_none());
        assert!(Pattern::compile("%-m/%-d/%Y %I:%M:%S %p").unwrap().split().is_none());
    }

    #[test]
    fn a_tail_reads_what_resuming_reads() {
        let cases: [(&str, &str, &str); 6] = [
            ("%Y-%m-%d %H:%M:%S%f%z", "2025-12-26 14:30:15", " x"),
            ("%Y-%m-%dT%H:%M:%S%f%z", "2025-12-26T14:30:15", " x"),
            ("%Y-%m-%d %H:%M:%S:%N", "2025-12-26 14:30:15", ":123 x"),
            ("%d/%b/%Y:%H:%M:%S%f%z", "26/Dec/2025:14:30:15", " +0100 x"),
            ("%Y%m%dT%H%M%S%f%z", "20251226T143015", "Z x"),
            ("%m/%d/%Y %H:%M:%S%f", "12/26/2025 14:30:15", " x"),
        ];
        let tails = [
            "",
            ",123 x",
            ".5",
            ".123456789123 x",
            "Z x",
            "+01:00 x",
            " +0100 x",
            " UTC x",
            " CEST x",
            ":7 x",
            ":1234 x",
            ":12x",
            "x",
            "5 x",
            ".",
            ". x",
            ",12,3",
            "\tx",
            " -0130] x",
            "-05 x",
        ];
        let mut read = 0;
        for (fmt, head_text, first_tail) in cases {
            let p = Pattern::compile(fmt).unwrap();
            let first = format!("{head_text}{first_tail}");
            let (_, snap) = p.read_split(first.as_bytes()).unwrap();
            let (at, head) = snap.unwrap();
            for t in tails {
                let line = format!("{head_text}{t}");
                let whole = p.resume(line.as_bytes(), at, head);
                let tail = p.tail(line.as_bytes(), at, &head);
                assert_eq!(whole.map(|r| Tail { nanos: r.nanos, zone: r.zone, len: r.len }), tail, "{fmt} {line:?}");
                read += usize::from(tail.is_some());
            }
        }
        assert!(read > 40, "{read}");
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(Pattern::compile("%Y-%m-%d").is_err());
        assert!(Pattern::compile("%Q %H").is_err());
        assert!(Pattern::compile("%I:%M").is_err());
    }

    #[test]
    fn never_panics_on_prefixes() {
        let p = Pattern::compile("%a %b %e %H:%M:%S%f %Y%z").unwrap();
        let s = b"Fri Dec 26 14:30:15.123 2025 +0100";
        for n in 0..=s.len() {
            let _ = p.read(&s[..n]);
        }
        let t = Pattern::compile("%@").unwrap();
        for n in 0..30 {
            let _ = t.read(&b"@40000000694e9c0125a08e34ffffff"[..n]);
        }
        assert!(t.read(b"@ffffffffffffffffffffffff").is_none());
    }
}
