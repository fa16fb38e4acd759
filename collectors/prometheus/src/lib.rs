//! Prometheus collector: when each alert was pending, fired and resolved,
//! rebuilt from the `ALERTS` series (alerts that resolved are gone from
//! `/api/v1/alerts`), live over HTTP (`fetch`) or from saved answers.
//! It uses only the HTTP API that Thanos, Cortex/Mimir and VictoriaMetrics
//! also serve. Parsing is pure (`parse`).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod alertmanager;
pub mod fetch;
pub mod parse;
pub mod slice;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use reconstruct_core::event::Locator;
use reconstruct_core::{
    CollectContext, CollectError, Collector, Diagnostic, EventSink, LocalFuture, NetworkCollector, SourceId,
    SourceKind, TimeWindow, Timestamp,
};
use serde_json::Value;

/// Used when no rule names its group's interval (Prometheus's default).
pub const DEFAULT_INTERVAL_SECS: f64 = 60.0;

/// The answers of a Prometheus (rules, active alerts, `ALERTS` history) and
/// of an Alertmanager (alerts, silences), as the APIs gave them or as a
/// bundle holds them: the one input of [`assemble`], live or saved.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answers {
    /// `/api/v1/rules` data.
    pub rules: Option<Value>,
    /// `/api/v1/alerts` data.
    pub alerts: Option<Value>,
    /// The data of each `ALERTS` range-vector query.
    pub history: Vec<Value>,
    /// Alertmanager's `/api/v2/alerts` (a bare list).
    pub am_alerts: Option<Value>,
    /// Alertmanager's `/api/v2/silences` (a bare list).
    pub am_silences: Option<Value>,
}

/// Where answers came from, for evidence links and coverage notes.
pub enum Provenance<'a> {
    Live { base: &'a str, meta: Option<&'a fetch::Meta> },
    Saved { files: usize },
}

/// The smallest evaluation interval the rules name, else the default.
pub fn interval(rules: &HashMap<String, parse::Rule>) -> f64 {
    let i = rules.values().map(|r| r.interval).filter(|i| *i > 0.0).fold(f64::INFINITY, f64::min);
    if i.is_finite() {
        i
    } else {
        DEFAULT_INTERVAL_SECS
    }
}

/// Turns answers into events: alert intervals rebuilt from the history,
/// silences and suppressed alerts from Alertmanager. Live and saved answers
/// take this same path.
pub fn assemble(
    a: &Answers,
    from: &Provenance<'_>,
    window: &TimeWindow,
    read_at: Timestamp,
    sink: &mut dyn EventSink,
) -> Result<(), CollectError> {
    let (url, am_source) = match from {
        Provenance::Live { base, .. } => (Some(*base), *base),
        Provenance::Saved { .. } => (None, "alertmanager"),
    };
    let mut problem = |message: String| {
        sink.diagnostic(Diagnostic { locator: url.map(|u| Locator::Text(u.to_string())), message });
    };
    let mut events = Vec::new();
    if a.rules.is_some() || a.alerts.is_some() || !a.history.is_empty() {
        if let Provenance::Live { meta: Some(m), .. } = from {
            m.problems.iter().for_each(|p| problem(p.clone()));
        }
        let rules = match a.rules.as_ref().map(parse::rules).transpose() {
            Ok(r) => r.unwrap_or_default(),
            Err(e) => {
                problem(format!("rules: {e}"));
                HashMap::new()
            }
        };
        let active = match a.alerts.as_ref().map(parse::active).transpose() {
            Ok(r) => r.unwrap_or_default(),
            Err(e) => {
                problem(format!("alerts: {e}"));
                Vec::new()
            }
        };
        let mut series = Vec::new();
        for h in &a.history {
            series.extend(parse::series(h).map_err(|e| e.to_string())?);
        }
        if a.history.is_empty() {
            problem("no saved ALERTS history: only alerts active when it was saved can be shown".to_string());
            // Without history, active alerts still tell when they went pending.
            for al in &active {
                if let Some(t) = al.active_at {
                    let mut labels = al.labels.clone();
                    labels.insert("alertstate".into(), "pending".into());
                    series.push(parse::Series { labels, times: vec![t] });
                }
            }
        }
        let interval = interval(&rules);
        // A store that answers the rules API empty (VictoriaMetrics without
        // its vmalert proxy) leaves the interval to the default: say so.
        let assumed =
            if rules.values().any(|r| r.interval > 0.0) { "" } else { ", assumed: no alerting rule was listed" };
        match from {
            Provenance::Live { meta, .. } => sink.note(format!(
                "ALERTS history from {} (evaluation interval {interval}s{assumed}); it ends at the server's retention",
                meta.map_or(window.since, |m| m.history_from)
            )),
            Provenance::Saved { files } => sink.note(format!("{files} saved answers, {} ALERTS series", series.len())),
        }
        let pctx = parse::Context { url, rules: &rules, active: &active, default_interval: interval, read_at };
        events.extend(parse::history(&series, window, &pctx));
    }
    if a.am_alerts.is_some() || a.am_silences.is_some() {
        let empty = Value::Array(Vec::new());
        let silences = alertmanager::silences(a.am_silences.as_ref().unwrap_or(&empty))
            .map_err(|e| format!("{am_source}: {e}"))?;
        if matches!(from, Provenance::Live { .. }) {
            sink.note("only active alerts: Alertmanager forgets resolved ones at once".to_string());
        }
        events.extend(
            alertmanager::events(a.am_alerts.as_ref().unwrap_or(&empty), &silences, window, am_source)
                .map_err(|e| format!("{am_source}: {e}"))?,
        );
        events.sort_by(|x, y| x.order(y));
    }
    for e in events {
        sink.emit(e)?;
    }
    Ok(())
}

impl Answers {
    /// Reads saved answers, told apart by their content: Alertmanager's are
    /// bare lists (silences have matchers), Prometheus's have an envelope
    /// whose data holds `groups` (rules), `alerts`, or a result (history).
    pub fn read_saved(files: &[(PathBuf, String)]) -> Result<Answers, String> {
        let mut a = Answers::default();
        let mut am_alerts = Vec::new();
        let mut am_silences = Vec::new();
        let mut rules = Vec::new();
        let mut alerts = Vec::new();
        for (file, display) in files {
            let bytes = std::fs::read(file).map_err(|e| format!("cannot read {display}: {e}"))?;
            if let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&bytes) {
                if items.iter().all(|i| i.get("matchers").is_some()) {
                    am_silences.extend(items);
                } else {
                    am_alerts.extend(items);
                }
                continue;
            }
            let data = parse::data(&bytes).map_err(|e| format!("{display}: {e}"))?;
            if data.get("groups").is_some() {
                parse::rules(&data).map_err(|e| format!("{display}: {e}"))?;
                rules.push(data);
            } else if data.get("alerts").is_some() {
                parse::active(&data).map_err(|e| format!("{display}: {e}"))?;
                alerts.push(data);
            } else {
                parse::series(&data).map_err(|e| format!("{display}: {e}"))?;
                a.history.push(data);
            }
        }
        a.rules = merge_lists(rules, "groups");
        a.alerts = merge_lists(alerts, "alerts");
        a.am_alerts = (!am_alerts.is_empty()).then_some(Value::Array(am_alerts));
        a.am_silences = (!am_silences.is_empty()).then_some(Value::Array(am_silences));
        Ok(a)
    }

    /// The saved form [`Answers::read_saved`] reads: the files the README's
    /// curl commands write, by name.
    pub fn saved_files(&self) -> serde_json::Result<Vec<(&'static str, Vec<u8>)>> {
        let wrap = |d: &Value| serde_json::to_vec(&serde_json::json!({ "status": "success", "data": d }));
        let mut out = Vec::new();
        if let Some(r) = &self.rules {
            out.push(("rules.json", wrap(r)?));
        }
        if let Some(a) = &self.alerts {
            out.push(("alerts.json", wrap(a)?));
        }
        for (i, h) in self.history.iter().enumerate() {
            out.push((if i == 0 { "alerts-history.json" } else { "alerts-history-more.json" }, wrap(h)?));
        }
        if let Some(a) = &self.am_alerts {
            out.push(("alertmanager-alerts.json", serde_json::to_vec(a)?));
        }
        if let Some(s) = &self.am_silences {
            out.push(("alertmanager-silences.json", serde_json::to_vec(s)?));
        }
        Ok(out)
    }
}

/// Several saved answers of one kind as one: their lists joined.
fn merge_lists(mut parts: Vec<Value>, key: &str) -> Option<Value> {
    if parts.len() <= 1 {
        return parts.pop();
    }
    let mut all = Vec::new();
    for p in parts {
        if let Some(Value::Array(items)) = p.get(key) {
            all.extend(items.iter().cloned());
        }
    }
    Some(serde_json::json!({ key: all }))
}

/// 'Now' to the nanosecond: a window that ended a moment ago must read the
/// same history now as it will tomorrow.
fn now_or(until: Timestamp) -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .map_or(until, Timestamp::from_unix_nanos)
}

/// Live: a Prometheus-compatible HTTP API.
pub struct PrometheusLive {
    pub endpoint: fetch::Endpoint,
    pub timeout: Duration,
}

impl NetworkCollector for PrometheusLive {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Prometheus, name: self.endpoint.base.clone() }
    }

    fn collect<'a>(
        self: Box<Self>,
        ctx: &'a CollectContext,
        sink: &'a mut dyn EventSink,
    ) -> LocalFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            // The window asked for only: alerts before it are no finding's
            // evidence, and what an alert "already firing" began as must
            // read the same live and from a capture.
            let window = ctx.anchor();
            let now = now_or(window.until);
            let (answers, meta) = fetch::read(&self.endpoint, &window, now, self.timeout).await?;
            let from = Provenance::Live { base: &self.endpoint.base, meta: Some(&meta) };
            assemble(&answers, &from, &window, window.until.min(now), sink)
        })
    }
}

/// Live: Alertmanager's silences and suppressed alerts.
pub struct AlertmanagerLive {
    pub endpoint: fetch::Endpoint,
    pub timeout: Duration,
}

impl NetworkCollector for AlertmanagerLive {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Alertmanager, name: self.endpoint.base.clone() }
    }

    fn collect<'a>(
        self: Box<Self>,
        ctx: &'a CollectContext,
        sink: &'a mut dyn EventSink,
    ) -> LocalFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            let answers = fetch::read_alertmanager(&self.endpoint, self.timeout).await?;
            let from = Provenance::Live { base: &self.endpoint.base, meta: None };
            let window = ctx.anchor();
            assemble(&answers, &from, &window, window.until, sink)
        })
    }
}

/// Saved answers: `/api/v1/rules`, `/api/v1/alerts`, the `ALERTS` query and
/// Alertmanager's lists, told apart by their content.
pub struct PrometheusFiles {
    pub files: Vec<(PathBuf, String)>,
}

impl Collector for PrometheusFiles {
    fn source(&self) -> SourceId {
        SourceId {
            collector: SourceKind::Prometheus,
            name: self.files.iter().map(|(_, d)| d.as_str()).collect::<Vec<_>>().join(" + "),
        }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let answers = Answers::read_saved(&self.files)?;
        let window = ctx.anchor();
        assemble(&answers, &Provenance::Saved { files: self.files.len() }, &window, window.until, sink)
    }
}
