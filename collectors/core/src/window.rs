//! The time window of an investigation, and the ways a person writes its bounds.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};

use crate::event::Timestamp;
use crate::timestamp;
use crate::zone::Zone;

/// `[since, until]`, both ends included (as `git log --since/--until` does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    pub since: Timestamp,
    pub until: Timestamp,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WindowError {
    #[error("cannot read {0:?} as a time: use RFC 3339 (2025-12-26T14:00:00Z), 'YYYY-MM-DD HH:MM[:SS]', a duration before now (90m, 2h, 1d) or 'now'")]
    Unreadable(String),
    #[error("the window is empty or inverted: --since {since} is not before --until {until}")]
    Inverted { since: String, until: String },
}

impl TimeWindow {
    pub fn new(since: Timestamp, until: Timestamp) -> Result<Self, WindowError> {
        if since >= until {
            return Err(WindowError::Inverted { since: since.rfc3339(), until: until.rfc3339() });
        }
        Ok(TimeWindow { since, until })
    }

    pub fn contains(&self, t: Timestamp) -> bool {
        self.since <= t && t <= self.until
    }

    /// True when the table must show dates, not only times of day.
    pub fn spans_days(&self) -> bool {
        self.since.date() != self.until.date()
    }
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} – {}", self.since, self.until)
    }
}

/// Reads one bound of the window: RFC 3339 / ISO 8601 (offset optional),
/// `YYYY-MM-DD[ HH:MM[:SS]]` in `zone`, a duration before `now` (`90m`, `2h`,
/// `1d`, `1h30m`, `45s`, `1w`) or `now`.
pub fn parse_bound(text: &str, now: Timestamp, zone: &Zone) -> Result<Timestamp, WindowError> {
    let t = text.trim();
    let bad = || WindowError::Unreadable(text.to_string());
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(d) = parse_duration_nanos(t) {
        return Ok(now.saturating_add_nanos(-d));
    }
    if let Some(p) = timestamp::parse_iso(t.as_bytes(), zone) {
        if p.len == t.len() {
            return Ok(p.time);
        }
    }
    for fmt in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return zone.to_utc(&n).ok_or_else(bad);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return zone.to_utc(&d.and_time(chrono::NaiveTime::MIN)).ok_or_else(bad);
    }
    Err(bad())
}

/// `90m`, `2h`, `1d`, `1h30m`, `45s`, `1w` → nanoseconds.
pub fn parse_duration_nanos(t: &str) -> Option<i64> {
    if t.is_empty() || !t.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    let mut total: i64 = 0;
    let mut num: i64 = 0;
    let mut have_num = false;
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(d) = c.to_digit(10) {
            num = num.checked_mul(10)?.checked_add(i64::from(d))?;
            have_num = true;
            continue;
        }
        if !have_num {
            return None;
        }
        let unit: i64 = match c {
            's' => 1,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                total = total.checked_add(num.checked_mul(1_000_000)?)?;
                num = 0;
                have_num = false;
                continue;
            }
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return None,
        };
        total = total.checked_add(num.checked_mul(unit)?.checked_mul(1_000_000_000)?)?;
        num = 0;
        have_num = false;
    }
    if have_num {
        return None;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        parse_bound("2025-12-26T15:00:00Z", Timestamp::MIN, &Zone::Utc).unwrap()
    }

    #[test]
    fn bounds_in_every_form() {
        let z = Zone::Utc;
        assert_eq!(parse_bound("2025-12-26T14:00:00Z", now(), &z).unwrap().rfc3339(), "2025-12-26T14:00:00Z");
        assert_eq!(parse_bound("2025-12-26T16:00:00+02:00", now(), &z).unwrap().rfc3339(), "2025-12-26T14:00:00Z");
        assert_eq!(parse_bound("2025-12-26 14:00", now(), &z).unwrap().rfc3339(), "2025-12-26T14:00:00Z");
        assert_eq!(parse_bound("2025-12-26 14:00:30", now(), &z).unwrap().rfc3339(), "2025-12-26T14:00:30Z");
        assert_eq!(parse_bound("2025-12-26", now(), &z).unwrap().rfc3339(), "2025-12-26T00:00:00Z");
        assert_eq!(parse_bound("90m", now(), &z).unwrap().rfc3339(), "2025-12-26T13:30:00Z");
        assert_eq!(parse_bound("2h", now(), &z).unwrap().rfc3339(), "2025-12-26T13:00:00Z");
        assert_eq!(parse_bound("1d", now(), &z).unwrap().rfc3339(), "2025-12-25T15:00:00Z");
        assert_eq!(parse_bound("1h30m", now(), &z).unwrap().rfc3339(), "2025-12-26T13:30:00Z");
        assert_eq!(parse_bound("now", now(), &z).unwrap(), now());
        let paris: Zone = "Europe/Paris".parse().unwrap();
        assert_eq!(parse_bound("2025-12-26 15:00", now(), &paris).unwrap().rfc3339(), "2025-12-26T14:00:00Z");
    }

    #[test]
    fn rejects_garbage_and_inverted_windows() {
        assert!(parse_bound("yesterday-ish", now(), &Zone::Utc).is_err());
        assert!(parse_bound("2025-13-40", now(), &Zone::Utc).is_err());
        assert!(parse_bound("h2", now(), &Zone::Utc).is_err());
        assert!(TimeWindow::new(now(), now()).is_err());
        let earlier = parse_bound("1h", now(), &Zone::Utc).unwrap();
        assert!(TimeWindow::new(now(), earlier).is_err());
        assert!(TimeWindow::new(earlier, now()).is_ok());
    }
}
