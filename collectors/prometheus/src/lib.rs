//! Prometheus collector: when each alert was pending, fired and resolved,
//! rebuilt from the `ALERTS` series (alerts that resolved are gone from
//! `/api/v1/alerts`), live over HTTP (`fetch`) or from saved answers.
//! It uses only the HTTP API that Thanos, Cortex/Mimir and VictoriaMetrics
//! also serve. Parsing is pure (`parse`).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod alertmanager;
pub mod fetch;
pub mod parse;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use reconstruct_core::event::Locator;
use reconstruct_core::SourceKind;
use reconstruct_core::{CollectContext, CollectError, Collector, Diagnostic, EventSink, SourceId, Timestamp};

/// Used when no rule names its group's interval (Prometheus's default).
pub const DEFAULT_INTERVAL_SECS: f64 = 60.0;

/// Live: a Prometheus-compatible HTTP API.
pub struct PrometheusLive {
    pub endpoint: fetch::Endpoint,
    pub timeout: Duration,
}

impl Collector for PrometheusLive {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Prometheus, name: self.endpoint.base.clone() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        // To the nanosecond: a window that ended a moment ago must read the
        // same history now as it will tomorrow.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
            .map_or(ctx.window.until, Timestamp::from_unix_nanos);
        let answers = fetch::read(&self.endpoint, &ctx.window, now, self.timeout)?;
        for problem in &answers.problems {
            sink.diagnostic(Diagnostic {
                locator: Some(Locator::Text(self.endpoint.base.clone())),
                message: problem.clone(),
            });
        }
        sink.note(format!(
            "ALERTS history from {} (evaluation interval {}s); it ends at the server's retention",
            answers.history_from, answers.interval
        ));
        let read_at = ctx.window.until.min(now);
        let pctx = parse::Context {
            url: Some(&self.endpoint.base),
            rules: &answers.rules,
            active: &answers.active,
            default_interval: answers.interval,
            read_at,
        };
        for e in parse::history(&answers.series, &ctx.window, &pctx) {
            sink.emit(e)?;
        }
        Ok(())
    }
}

/// Live: Alertmanager's silences and suppressed alerts.
pub struct AlertmanagerLive {
    pub endpoint: fetch::Endpoint,
    pub timeout: Duration,
}

impl Collector for AlertmanagerLive {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Alertmanager, name: self.endpoint.base.clone() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let (alerts, silences) = fetch::read_alertmanager(&self.endpoint, self.timeout)?;
        let silences = alertmanager::silences(&silences).map_err(|e| format!("{}: {e}", self.endpoint.base))?;
        sink.note("only active alerts: Alertmanager forgets resolved ones at once".to_string());
        for e in alertmanager::events(&alerts, &silences, &ctx.window, &self.endpoint.base)
            .map_err(|e| format!("{}: {e}", self.endpoint.base))?
        {
            sink.emit(e)?;
        }
        Ok(())
    }
}

/// Saved answers: `/api/v1/rules`, `/api/v1/alerts` and the `ALERTS` query,
/// told apart by their content.
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
        let mut rules = HashMap::new();
        let mut active = Vec::new();
        let mut series = Vec::new();
        let mut histories = 0;
        let mut am_alerts = Vec::new();
        let mut am_silences = Vec::new();
        for (file, display) in &self.files {
            let bytes = std::fs::read(file).map_err(|e| format!("cannot read {display}: {e}"))?;
            // Alertmanager's answers are bare lists: silences have matchers, alerts a fingerprint.
            if let Ok(serde_json::Value::Array(items)) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                if items.iter().all(|i| i.get("matchers").is_some()) {
                    am_silences.extend(items);
                } else {
                    am_alerts.extend(items);
                }
                continue;
            }
            let data = parse::data(&bytes).map_err(|e| format!("{display}: {e}"))?;
            if data.get("groups").is_some() {
                rules.extend(parse::rules(&data).map_err(|e| format!("{display}: {e}"))?);
            } else if data.get("alerts").is_some() {
                active.extend(parse::active(&data).map_err(|e| format!("{display}: {e}"))?);
            } else {
                series.extend(parse::series(&data).map_err(|e| format!("{display}: {e}"))?);
                histories += 1;
            }
        }
        if histories == 0 {
            sink.diagnostic(Diagnostic {
                locator: None,
                message: "no saved ALERTS history: only alerts active when it was saved can be shown".to_string(),
            });
            // Without history, active alerts still tell when they went pending.
            for a in &active {
                if let Some(t) = a.active_at {
                    let mut labels = a.labels.clone();
                    labels.insert("alertstate".into(), "pending".into());
                    series.push(parse::Series { labels, times: vec![t] });
                }
            }
        }
        let interval = rules.values().map(|r| r.interval).filter(|i| *i > 0.0).fold(f64::INFINITY, f64::min);
        let interval = if interval.is_finite() { interval } else { DEFAULT_INTERVAL_SECS };
        let pctx = parse::Context {
            url: None,
            rules: &rules,
            active: &active,
            default_interval: interval,
            read_at: ctx.window.until,
        };
        sink.note(format!("{} saved answers, {} ALERTS series", self.files.len(), series.len()));
        let mut events = parse::history(&series, &ctx.window, &pctx);
        if !am_alerts.is_empty() || !am_silences.is_empty() {
            let silences = alertmanager::silences(&serde_json::Value::Array(am_silences)).map_err(|e| e.to_string())?;
            events.extend(
                alertmanager::events(&serde_json::Value::Array(am_alerts), &silences, &ctx.window, "alertmanager")
                    .map_err(|e| e.to_string())?,
            );
            events.sort_by(|a, b| a.order(b));
        }
        for e in events {
            sink.emit(e)?;
        }
        Ok(())
    }
}
