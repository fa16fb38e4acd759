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
    #[error("cannot read {0:?} as a time: use RFC 3339 (2025-12-26T14:00:00Z), 'YYYY-MM-DD HH:MM[:SS]', a duration before now (90m, 2h, '2h ago'), 'now', 'today', 'yesterday [HH:MM]' or a time of day (14:00)")]
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
/// `2H`, `120min`, `1h30m`, `45s`, `1w`, `-2h`, `2h ago`, `2 hours ago`),
/// `now`, `today`, `yesterday`, `tomorrow` (midnight in `zone`, optionally
/// followed by a time of day), or a time of day alone (`14:00`: today in
/// `zone`, or yesterday when today's is still to come), as journalctl and
/// GNU `date` read them.
pub fn parse_bound(text: &str, now: Timestamp, zone: &Zone) -> Result<Timestamp, WindowError> {
    let t = text.trim();
    let bad = || WindowError::Unreadable(text.to_string());
    let lower = t.to_ascii_lowercase();
    if lower == "now" {
        return Ok(now);
    }
    if let Some(d) = relative_nanos(&lower) {
        return Ok(now.saturating_add_nanos(d.saturating_neg()));
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
    day_word(&lower, now, zone).ok_or_else(bad)
}

/// `today`, `yesterday`, `tomorrow` with an optional time of day, or a time
/// of day alone.
fn day_word(t: &str, now: Timestamp, zone: &Zone) -> Option<Timestamp> {
    let today = zone.local_date(now)?;
    let (day, rest) = match t.split_once(' ').unwrap_or((t, "")) {
        ("today", r) => (Some(today), r),
        ("yesterday", r) => (today.pred_opt(), r),
        ("tomorrow", r) => (today.succ_opt(), r),
        _ => (None, t),
    };
    let rest = rest.trim();
    let time = if rest.is_empty() {
        day.is_some().then_some(chrono::NaiveTime::MIN)?
    } else {
        ["%H:%M:%S", "%H:%M"].iter().find_map(|f| chrono::NaiveTime::parse_from_str(rest, f).ok())?
    };
    match day {
        Some(d) => zone.to_utc(&d.and_time(time)),
        None => {
            // A time of day alone: the latest such moment not after now.
            let at = zone.to_utc(&today.and_time(time))?;
            if at <= now {
                Some(at)
            } else {
                zone.to_utc(&today.pred_opt()?.and_time(time))
            }
        }
    }
}

/// A duration before now as people type it: `2h`, `-2h`, `2h ago`,
/// `2 hours ago`, `120min`, `1h30m`.
fn relative_nanos(t: &str) -> Option<i64> {
    let t = t.strip_suffix("ago").map_or(t, str::trim_end);
    let t = t.strip_prefix('-').unwrap_or(t).trim_start();
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    parse_duration_nanos(&compact)
}

/// `90m`, `2h`, `1d`, `1h30m`, `45s`, `1w`, `250ms`, and the unit words
/// (`min`, `mins`, `minutes`, `hr`, `hours`, `sec`, `days`, `weeks`, in any
/// case) → nanoseconds.
pub fn parse_duration_nanos(t: &str) -> Option<i64> {
    if t.is_empty() || !t.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let num: i64 = rest.get(..digits)?.parse().ok()?;
        rest = rest.get(digits..)?;
        let letters = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        let unit = rest.get(..letters)?.to_ascii_lowercase();
        rest = rest.get(letters..)?;
        let nanos_per: i64 = match unit.as_str() {
            "ms" | "msec" | "msecs" => 1_000_000,
            "s" | "sec" | "secs" | "second" | "seconds" => 1_000_000_000,
            "m" | "min" | "mins" | "minute" | "minutes" => 60_000_000_000,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000_000_000,
            "d" | "day" | "days" => 86_400_000_000_000,
            "w" | "week" | "weeks" => 604_800_000_000_000,
            _ => return None,
        };
        total = total.checked_add(num.checked_mul(nanos_per)?)?;
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
    fn the_forms_journalctl_and_date_accept() {
        let z = Zone::Utc;
        let at = |t: &str| parse_bound(t, now(), &z).unwrap().rfc3339();
        for t in ["-2h", "2h ago", "2 hours ago", "2H", "120min", "120 minutes", "2hr", " -120m "] {
            assert_eq!(at(t), "2025-12-26T13:00:00Z", "{t}");
        }
        assert_eq!(at("yesterday"), "2025-12-25T00:00:00Z");
        assert_eq!(at("today"), "2025-12-26T00:00:00Z");
        assert_eq!(at("Today 14:00"), "2025-12-26T14:00:00Z");
        assert_eq!(at("yesterday 23:30"), "2025-12-25T23:30:00Z");
        assert_eq!(at("tomorrow"), "2025-12-27T00:00:00Z");
        assert_eq!(at("14:00"), "2025-12-26T14:00:00Z");
        assert_eq!(at("14:00:30"), "2025-12-26T14:00:30Z");
        // Later today than now: the last such moment, yesterday's.
        assert_eq!(at("23:00"), "2025-12-25T23:00:00Z");
        assert_eq!(at("1 day ago"), "2025-12-25T15:00:00Z");
        assert_eq!(at("250ms"), "2025-12-26T14:59:59.750Z");
        let paris: Zone = "Europe/Paris".parse().unwrap();
        assert_eq!(parse_bound("14:00", now(), &paris).unwrap().rfc3339(), "2025-12-26T13:00:00Z");
        assert_eq!(parse_bound("today", now(), &paris).unwrap().rfc3339(), "2025-12-25T23:00:00Z");
        for t in ["ago", "2 parsecs ago", "-", "today 25:00", "2", "h"] {
            assert!(parse_bound(t, now(), &z).is_err(), "{t}");
        }
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
