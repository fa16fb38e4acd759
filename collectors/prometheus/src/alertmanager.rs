//! Alertmanager (`--alertmanager URL`): which active alerts were silenced or
//! inhibited, and the silences people created, from the v2 API. Alertmanager
//! forgets resolved alerts at once, so it only speaks of what is active now;
//! the history comes from Prometheus's `ALERTS` series.

use std::collections::BTreeMap;
use std::sync::Arc;

use reconstruct_core::event::{Event, EventKind, Evidence, Locator, Severity, TimeBasis, Timestamp};
use reconstruct_core::timestamp::parse_iso;
use reconstruct_core::{TimeWindow, Zone};
use serde_json::Value;

use crate::parse::{component, AnswerError};
use reconstruct_core::{AlertState, Fact, SourceKind};

fn time(v: Option<&Value>) -> Option<Timestamp> {
    parse_iso(v?.as_str()?.as_bytes(), &Zone::Utc).map(|p| p.time)
}

fn labels(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

/// A silence, as `/api/v2/silences` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Silence {
    pub id: String,
    pub state: String,
    pub starts: Option<Timestamp>,
    pub ends: Option<Timestamp>,
    pub created_by: String,
    pub comment: String,
    pub matchers: String,
}

pub fn silences(v: &Value) -> Result<Vec<Silence>, AnswerError> {
    let list = v.as_array().ok_or(AnswerError::Shape("silences answer is not a list"))?;
    Ok(list
        .iter()
        .map(|s| {
            let matchers: Vec<String> = s
                .get("matchers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|m| {
                    let op =
                        match (m.get("isRegex").and_then(Value::as_bool), m.get("isEqual").and_then(Value::as_bool)) {
                            (Some(true), Some(false)) => "!~",
                            (Some(true), _) => "=~",
                            (_, Some(false)) => "!=",
                            _ => "=",
                        };
                    format!(
                        "{}{op}{:?}",
                        m.get("name").and_then(Value::as_str).unwrap_or("?"),
                        m.get("value").and_then(Value::as_str).unwrap_or("")
                    )
                })
                .collect();
            Silence {
                id: s.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
                state: s
                    .get("status")
                    .and_then(|x| x.get("state"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                starts: time(s.get("startsAt")),
                ends: time(s.get("endsAt")),
                created_by: s.get("createdBy").and_then(Value::as_str).unwrap_or("?").to_string(),
                comment: s.get("comment").and_then(Value::as_str).unwrap_or_default().to_string(),
                matchers: format!("{{{}}}", matchers.join(",")),
            }
        })
        .collect())
}

/// Rows: each silence that began in the window, and each active alert that
/// is silenced or inhibited (at the time it started, or the window's start).
pub fn events(
    alerts: &Value,
    silences: &[Silence],
    window: &TimeWindow,
    source: &str,
) -> Result<Vec<Event>, AnswerError> {
    let list = alerts.as_array().ok_or(AnswerError::Shape("alerts answer is not a list"))?;
    let mut out = Vec::new();
    let ev = |time: Timestamp,
              comp: String,
              sev: Severity,
              summary: String,
              locator: String,
              excerpt: String,
              fact: Fact| Event {
        time,
        basis: TimeBasis::Explicit,
        collector: SourceKind::Alertmanager,
        component: Arc::from(comp),
        kind: EventKind::Alert,
        severity: Some(sev),
        summary,
        evidence: Evidence { locator: Locator::Text(locator), excerpt },
        continuation_lines: 0,
        service: match &fact {
            Fact::Alert { labels, .. } => crate::parse::service(labels),
            _ => None,
        },
        fact: Some(Box::new(fact)),
    };
    for s in silences {
        let Some(t) = s.starts.filter(|t| window.contains(*t)) else { continue };
        let until = s.ends.map(|e| e.rfc3339()).unwrap_or_default();
        out.push(ev(
            t,
            "alertmanager".to_string(),
            Severity::Notice,
            format!("silence {} created by {}: {} (until {until})", s.matchers, s.created_by, s.comment),
            format!("{source}/api/v2/silence/{}", s.id),
            format!(
                "silence {} state {} {} .. {until}",
                s.id,
                s.state,
                s.starts.map(|x| x.rfc3339()).unwrap_or_default()
            ),
            Fact::Silence { id: s.id.clone(), matchers: s.matchers.clone() },
        ));
    }
    for a in list {
        let l = labels(a.get("labels"));
        let name = l.get("alertname").cloned().unwrap_or_else(|| "?".into());
        let status = a.get("status");
        let ids = |k: &str| -> Vec<String> {
            status
                .and_then(|s| s.get(k))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        };
        let (silenced_by, inhibited_by) = (ids("silencedBy"), ids("inhibitedBy"));
        if silenced_by.is_empty() && inhibited_by.is_empty() {
            continue;
        }
        let started = time(a.get("startsAt")).unwrap_or(window.since).max(window.since);
        if !window.contains(started) {
            continue;
        }
        let fingerprint = a.get("fingerprint").and_then(Value::as_str).unwrap_or_default();
        let mut why = Vec::new();
        for id in &silenced_by {
            match silences.iter().find(|s| &s.id == id) {
                Some(s) => why.push(format!("silenced by {} ({})", s.created_by, s.comment)),
                None => why.push(format!("silenced by silence {id}")),
            }
        }
        if !inhibited_by.is_empty() {
            why.push(format!("inhibited by alert {}", inhibited_by.join(", ")));
        }
        out.push(ev(
            started,
            component(&l),
            Severity::Warning,
            format!("alert {name} suppressed: {}", why.join("; ")),
            format!("{source}/api/v2/alerts fingerprint={fingerprint}"),
            serde_json::to_string(a).unwrap_or_default(),
            Fact::Alert { name: name.clone(), labels: l.clone(), state: AlertState::Suppressed },
        ));
    }
    out.sort_by(|a, b| a.order(b));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::window::parse_bound;

    #[test]
    fn silences_and_suppressed_alerts() {
        let t = |s: &str| parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
        let w = TimeWindow::new(t("2025-12-26T14:00:00Z"), t("2025-12-26T15:00:00Z")).unwrap();
        let sil: Value = serde_json::from_str(r#"[{"id":"s1","status":{"state":"active"},"startsAt":"2025-12-26T14:34:00Z","endsAt":"2025-12-26T16:34:00Z","createdBy":"dana","comment":"known, fixing","matchers":[{"name":"alertname","value":"HighErrorRate","isRegex":false,"isEqual":true}]}]"#).unwrap();
        let s = silences(&sil).unwrap();
        let alerts: Value = serde_json::from_str(r#"[{"labels":{"alertname":"HighErrorRate","service":"backend"},"startsAt":"2025-12-26T14:32:00Z","fingerprint":"abc","status":{"state":"suppressed","silencedBy":["s1"],"inhibitedBy":[]}},
            {"labels":{"alertname":"Other"},"startsAt":"2025-12-26T14:32:00Z","fingerprint":"def","status":{"state":"active","silencedBy":[],"inhibitedBy":[]}}]"#).unwrap();
        let ev = events(&alerts, &s, &w, "http://am:9093").unwrap();
        let rows: Vec<String> = ev.iter().map(|e| format!("{} {}", e.time.hms(), e.summary)).collect();
        assert_eq!(
            rows,
            vec![
                "14:32:00 alert HighErrorRate suppressed: silenced by dana (known, fixing)".to_string(),
                "14:34:00 silence {alertname=\"HighErrorRate\"} created by dana: known, fixing (until 2025-12-26T16:34:00Z)".to_string(),
            ]
        );
        assert!(silences(&serde_json::json!({"x":1})).is_err());
    }
}
