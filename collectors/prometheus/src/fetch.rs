//! The live API over HTTP: rules, active alerts, and the raw samples of
//! `ALERTS` over the window. Credentials come from the URL or the
//! environment and never appear in output or errors.

use std::collections::HashMap;
use std::time::Duration;

use reconstruct_core::{TimeWindow, Timestamp};

use crate::parse;
use crate::Answers;

pub use reconstruct_http::{mask, Endpoint, HttpError as FetchError};
use reconstruct_http::{Client, Decode, Request};

/// A Prometheus-compatible endpoint: `http://user:pass@host:9090/prefix`;
/// `PROMETHEUS_BEARER_TOKEN`, or `PROMETHEUS_USERNAME`/`PROMETHEUS_PASSWORD`,
/// add credentials.
pub fn endpoint(url: &str, env: &HashMap<String, String>) -> Result<Endpoint, FetchError> {
    Endpoint::parse("Prometheus", url, "PROMETHEUS", env)
}

/// Sends `X-Scope-OrgID: tenant` with every request (Mimir, Cortex).
pub fn with_tenant(ep: Endpoint, tenant: Option<&str>) -> Endpoint {
    match tenant.filter(|t| !t.is_empty()) {
        Some(t) => ep.with_header("X-Scope-OrgID", t),
        None => ep,
    }
}

/// The same endpoint, named as an Alertmanager in messages.
pub fn alertmanager(ep: Endpoint) -> Endpoint {
    ep.named("Alertmanager")
}

/// What a live read learned beside the answers themselves.
pub struct Meta {
    /// Where the ALERTS history starts (a little before the window).
    pub history_from: Timestamp,
    /// Parts that could not be read but did not stop the rest (rules, alerts).
    pub problems: Vec<String>,
}

/// One endpoint's client: every request shares the source's deadline.
struct Api {
    client: Client,
}

impl Api {
    fn new(ep: &Endpoint, timeout: Duration) -> Result<Self, FetchError> {
        Ok(Api { client: Client::new(ep.clone(), timeout)? })
    }

    /// A Prometheus answer's `data`, its envelope checked. An error status
    /// whose body is Prometheus's JSON error says that error.
    async fn get(&mut self, path: &'static str, query: &[(&str, String)]) -> Result<serde_json::Value, FetchError> {
        let got = self.client.decoded(&Request::get(path, query), decode_data).await;
        match got {
            Err(FetchError::Http { shown, path, status, body }) => match parse::data(body.as_bytes()) {
                Err(e @ parse::AnswerError::Status { .. }) => {
                    Err(FetchError::Answer { shown, path, reason: format!("HTTP {status}: {e}") })
                }
                _ => Err(FetchError::Http { shown, path, status, body }),
            },
            other => other,
        }
    }

    /// Alertmanager's v2 answers are bare JSON, without Prometheus's envelope.
    async fn get_bare(
        &mut self,
        path: &'static str,
        query: &[(&str, String)],
    ) -> Result<serde_json::Value, FetchError> {
        self.client.json(&Request::get(path, query)).await
    }
}

/// Prometheus's envelope read; a body that ends inside its JSON was cut off.
fn decode_data(body: &[u8]) -> Result<serde_json::Value, Decode> {
    parse::data(body).map_err(|e| {
        let cut = serde_json::from_slice::<serde_json::Value>(body).err().is_some_and(|j| j.is_eof());
        if cut {
            Decode::CutOff(format!("the answer was cut off ({e})"))
        } else {
            Decode::Bad(e.to_string())
        }
    })
}

/// Alertmanager's active alerts (silenced and inhibited included) and its silences.
pub async fn read_alertmanager(ep: &Endpoint, timeout: Duration) -> Result<Answers, FetchError> {
    let mut api = Api::new(ep, timeout)?;
    let q = |k: &'static str| (k, "true".to_string());
    let alerts = api.get_bare("/api/v2/alerts", &[q("active"), q("silenced"), q("inhibited")]).await?;
    let silences = api.get_bare("/api/v2/silences", &[]).await?;
    Ok(Answers { am_alerts: Some(alerts), am_silences: Some(silences), ..Answers::default() })
}

/// Reads rules, active alerts, and `ALERTS` samples from a little before
/// the window (to know what was already firing) to its end. The answers come
/// back as received; [`crate::assemble`] reads them, as it reads saved ones.
pub async fn read(
    ep: &Endpoint,
    window: &TimeWindow,
    now: Timestamp,
    timeout: Duration,
) -> Result<(Answers, Meta), FetchError> {
    let mut api = Api::new(ep, timeout)?;
    let mut problems = Vec::new();
    let rules = match api.get("/api/v1/rules", &[("type", "alert".to_string())]).await {
        Ok(d) => Some(d),
        // A timeout or a dead server ends the source; a missing rules API does not.
        Err(e @ (FetchError::Timeout { .. } | FetchError::Unreachable { .. })) => return Err(e),
        Err(e) => {
            problems.push(format!("rules (so the evaluation interval is assumed): {e}"));
            None
        }
    };
    // The evaluation interval sets how far before the window the history reaches.
    let interval = crate::interval(&rules.as_ref().and_then(|r| parse::rules(r).ok()).unwrap_or_default());
    let alerts = match api.get("/api/v1/alerts", &[]).await {
        Ok(d) => Some(d),
        Err(e @ FetchError::Timeout { .. }) => return Err(e),
        Err(e) => {
            problems.push(format!("alerts: {e}"));
            None
        }
    };
    let end = window.until.min(now);
    let margin = (interval * 5.0).ceil() as i64;
    let range = end.unix_seconds().saturating_sub(window.since.unix_seconds()).max(1).saturating_add(margin);
    let query = format!("ALERTS{{alertstate=~\"pending|firing\"}}[{range}s]");
    let time = format!("{}.{:03}", end.unix_seconds(), end.subsec_nanos() / 1_000_000);
    let d = api.get("/api/v1/query", &[("query", query), ("time", time)]).await?;
    // An unusable history ends the source here, naming the endpoint.
    parse::series(&d).map_err(|e| FetchError::Answer {
        shown: ep.shown(),
        path: "/api/v1/query".to_string(),
        reason: e.to_string(),
    })?;
    let history_from =
        Timestamp::from_unix_seconds(end.unix_seconds().saturating_sub(range), 0).unwrap_or(window.since);
    Ok((Answers { rules, alerts, history: vec![d], ..Answers::default() }, Meta { history_from, problems }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_kept_apart() {
        let ep = endpoint("https://ops:s3cret@prom.example:9090/prom/", &HashMap::new()).unwrap();
        assert_eq!(ep.base, "https://prom.example:9090/prom");
        assert_eq!(format!("{ep:?}"), "https://prom.example:9090/prom");
        assert!(endpoint("ftp://x", &HashMap::new()).is_err());
        assert_eq!(mask("http://u:pw@h:1"), "http://u:***@h:1");
        let err = endpoint("nonsense://u:pw@h", &HashMap::new()).unwrap_err().to_string();
        assert!(!err.contains("pw@"), "{err}");
    }
}
