//! Time zones for text that carries no offset: UTC, a fixed offset or an IANA name.

use std::fmt;
use std::str::FromStr;

use chrono::{FixedOffset, NaiveDateTime, Offset, TimeZone};

use crate::event::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    Utc,
    Fixed(FixedOffset),
    Named(chrono_tz::Tz),
}

#[derive(Debug, thiserror::Error)]
#[error("unknown time zone {0:?} (use an IANA name such as Europe/Paris, UTC, or an offset such as +02:00)")]
pub struct ZoneError(pub String);

impl FromStr for Zone {
    type Err = ZoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("gmt") {
            return Ok(Zone::Utc);
        }
        if let Some(off) = parse_offset(t.as_bytes()).and_then(|(secs, len)| (len == t.len()).then_some(secs)) {
            return FixedOffset::east_opt(off).map(Zone::Fixed).ok_or_else(|| ZoneError(s.to_string()));
        }
        t.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| ZoneError(s.to_string()))
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Utc => f.write_str("UTC"),
            Zone::Fixed(o) => write!(f, "{o}"),
            Zone::Named(tz) => f.write_str(tz.name()),
        }
    }
}

impl Zone {
    /// The UTC instant of a wall-clock time in this zone. In a DST fold the
    /// earlier instant is taken; in a DST gap the time is read with the offset
    /// in force just before the gap, as most loggers' clocks would have it.
    pub fn to_utc(&self, naive: &NaiveDateTime) -> Option<Timestamp> {
        let offset_secs = match self {
            Zone::Utc => 0,
            Zone::Fixed(o) => o.local_minus_utc(),
            Zone::Named(tz) => match tz.offset_from_local_datetime(naive).earliest() {
                Some(o) => o.fix().local_minus_utc(),
                None => {
                    let before = *naive - chrono::Duration::hours(3);
                    tz.offset_from_local_datetime(&before).earliest()?.fix().local_minus_utc()
                }
            },
        };
        let utc = naive.and_utc().timestamp() - i64::from(offset_secs);
        Timestamp::from_unix_seconds(utc, naive.and_utc().timestamp_subsec_nanos())
    }

    /// The calendar day an instant falls on in this zone.
    pub fn local_date(&self, t: Timestamp) -> Option<chrono::NaiveDate> {
        self.local_datetime(t).map(|d| d.date())
    }

    /// The wall-clock time of an instant in this zone, to the second.
    pub fn local_datetime(&self, t: Timestamp) -> Option<NaiveDateTime> {
        let utc = chrono::DateTime::from_timestamp(t.unix_seconds(), 0)?;
        Some(match self {
            Zone::Utc => utc.naive_utc(),
            Zone::Fixed(o) => utc.with_timezone(o).naive_local(),
            Zone::Named(tz) => utc.with_timezone(tz).naive_local(),
        })
    }

    /// A cheap offset for the fast path: `Some` for zones without DST rules.
    pub fn fixed_offset_secs(&self) -> Option<i32> {
        match self {
            Zone::Utc => Some(0),
            Zone::Fixed(o) => Some(o.local_minus_utc()),
            Zone::Named(_) => None,
        }
    }
}

/// Parses `+HH:MM`, `+HHMM`, `+HH`, `-…` at the start of `b`; returns the
/// offset in seconds east of UTC and the bytes used.
pub fn parse_offset(b: &[u8]) -> Option<(i32, usize)> {
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hh = two_digits(b.get(1..3)?)?;
    let (mm, len) = match b.get(3) {
        Some(b':') => (two_digits(b.get(4..6)?)?, 6),
        Some(c) if c.is_ascii_digit() => (two_digits(b.get(3..5)?)?, 5),
        _ => (0, 3),
    };
    if hh > 23 || mm > 59 {
        return None;
    }
    Some((sign * (hh as i32 * 3600 + mm as i32 * 60), len))
}

fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [a, c] if a.is_ascii_digit() && c.is_ascii_digit() => Some(u32::from(a - b'0') * 10 + u32::from(c - b'0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zone_forms() {
        assert_eq!("UTC".parse::<Zone>().ok(), Some(Zone::Utc));
        assert!(matches!("+02:00".parse::<Zone>(), Ok(Zone::Fixed(_))));
        assert!(matches!("-0700".parse::<Zone>(), Ok(Zone::Fixed(_))));
        assert!(matches!("Europe/Paris".parse::<Zone>(), Ok(Zone::Named(_))));
        assert!("Mars/Olympus".parse::<Zone>().is_err());
    }

    #[test]
    fn named_zone_uses_dst() {
        let z: Zone = "Europe/Paris".parse().unwrap();
        let summer = NaiveDateTime::parse_from_str("2025-07-01 12:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let winter = NaiveDateTime::parse_from_str("2025-12-26 12:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(z.to_utc(&summer).unwrap().hms(), "10:00:00");
        assert_eq!(z.to_utc(&winter).unwrap().hms(), "11:00:00");
    }
}
