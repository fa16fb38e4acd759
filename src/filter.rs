//! The filters journalctl and lnav users reach for: `--grep REGEX`,
//! `--component NAME`, `--level LEVEL`. They choose which events of the
//! window the timeline is made of; coverage still counts everything read.

use reconstruct_core::{Event, Severity};

/// Which events to keep; every part given must hold.
#[derive(Clone, Debug)]
pub struct EventFilter {
    /// Matched against the event's text and its excerpt (case-insensitive
    /// unless the pattern says otherwise, as `journalctl --grep` does).
    pub grep: Option<regex::Regex>,
    /// A component named, or one below it (`nginx` keeps `nginx/error`).
    pub components: Vec<String>,
    /// This severity or graver.
    pub level: Option<Severity>,
}

impl EventFilter {
    /// The filter the flags ask for; `None` when they ask for none.
    pub fn from_flags(
        grep: Option<&str>,
        components: &[String],
        level: Option<&str>,
    ) -> anyhow::Result<Option<EventFilter>> {
        let grep = match grep {
            Some(g) => {
                // Smart case, as journalctl: a pattern with a capital letter is case-sensitive.
                let insensitive = !g.chars().any(char::is_uppercase);
                let re = regex::RegexBuilder::new(g)
                    .case_insensitive(insensitive)
                    .size_limit(1 << 22)
                    .build()
                    .map_err(|e| anyhow::anyhow!("--grep {g:?}: {e}"))?;
                Some(re)
            }
            None => None,
        };
        let level = level.map(parse_level).transpose()?;
        if grep.is_none() && components.is_empty() && level.is_none() {
            return Ok(None);
        }
        Ok(Some(EventFilter { grep, components: components.to_vec(), level }))
    }

    pub fn keeps(&self, e: &Event) -> bool {
        if let Some(min) = self.level {
            if e.severity.is_none_or(|s| s < min) {
                return false;
            }
        }
        if !self.components.is_empty() && !self.components.iter().any(|c| component_matches(c, &e.component)) {
            return false;
        }
        if let Some(re) = &self.grep {
            if !re.is_match(&e.summary) && !re.is_match(&e.evidence.excerpt) {
                return false;
            }
        }
        true
    }
}

/// `nginx` names `nginx`, `nginx/error` and `nginx.access`; case does not matter.
fn component_matches(asked: &str, component: &str) -> bool {
    let (a, c) = (asked.to_lowercase(), component.to_lowercase());
    c == a || c.strip_prefix(&a).is_some_and(|rest| rest.starts_with(['/', '.', '-', ' ']))
}

/// journalctl's priority names and numbers (`err`, `3`), and the words logs use.
pub fn parse_level(s: &str) -> anyhow::Result<Severity> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "emerg" | "alert" | "crit" | "critical" | "fatal" | "panic" | "0" | "1" | "2" => Severity::Critical,
        "err" | "error" | "3" => Severity::Error,
        "warning" | "warn" | "4" => Severity::Warning,
        "notice" | "5" => Severity::Notice,
        "info" | "6" => Severity::Info,
        "debug" | "7" => Severity::Debug,
        _ => {
            anyhow::bail!("--level {s:?}: use crit, err, warning, notice, info or debug (or 0 to 7, as journalctl -p)")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::{EventKind, Evidence, Locator, SourceKind, TimeBasis, Timestamp};
    use std::sync::Arc;

    fn ev(component: &str, sev: Option<Severity>, text: &str) -> Event {
        Event {
            time: Timestamp::from_unix_seconds(1_766_759_400, 0).unwrap(),
            basis: TimeBasis::Explicit,
            collector: SourceKind::Logfile,
            component: Arc::from(component),
            kind: EventKind::Log,
            severity: sev,
            summary: text.into(),
            evidence: Evidence { locator: Locator::Text("x".into()), excerpt: format!("{text}\n  at frame Deep") },
            continuation_lines: 0,
            service: None,
            fact: None,
        }
    }

    #[test]
    fn filters_keep_what_they_name() {
        let f = EventFilter::from_flags(Some("timeout"), &[], None).unwrap().unwrap();
        assert!(f.keeps(&ev("api", None, "upstream TIMEOUT")));
        assert!(!f.keeps(&ev("api", None, "ok")));
        let f = EventFilter::from_flags(Some("Deep"), &[], None).unwrap().unwrap();
        assert!(f.keeps(&ev("api", None, "boom")), "the excerpt is searched too");
        let f = EventFilter::from_flags(None, &["nginx".into()], Some("err")).unwrap().unwrap();
        assert!(f.keeps(&ev("nginx/error", Some(Severity::Critical), "x")));
        assert!(!f.keeps(&ev("nginx/error", Some(Severity::Warning), "x")));
        assert!(!f.keeps(&ev("nginxish", Some(Severity::Error), "x")));
        assert!(!f.keeps(&ev("nginx", None, "x")));
        assert!(EventFilter::from_flags(None, &[], None).unwrap().is_none());
        assert!(EventFilter::from_flags(Some("("), &[], None).is_err());
        assert!(parse_level("loud").is_err());
        assert_eq!(parse_level("3").unwrap(), Severity::Error);
    }
}
