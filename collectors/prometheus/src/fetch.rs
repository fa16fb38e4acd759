//! The live API over HTTP: rules, active alerts, and the raw samples of
//! `ALERTS` over the window. Credentials come from the URL or the
//! environment and never appear in output or errors.

use std::collections::HashMap;
use std::time::Duration;

use reconstruct_core::{TimeWindow, Timestamp};

use crate::parse;
use crate::Answers;

/// Where Prometheus is, and how to authenticate, kept apart so the base URL
/// can be shown.
#[derive(Clone)]
pub struct Endpoint {
    /// The URL without credentials and without a trailing slash.
    pub base: String,
    basic: Option<(String, String)>,
    bearer: Option<String>,
    /// The tenant of a multi-tenant cluster (Mimir, Cortex), sent as `X-Scope-OrgID`.
    tenant: Option<String>,
    /// `Prometheus` or `Alertmanager`, for messages.
    kind: &'static str,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0:?} is not an http(s) URL")]
    Url(String),
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    #[error("cannot reach {base}: {reason}")]
    Unreachable { base: String, reason: String },
    #[error("{base} did not answer {path} within {secs}s")]
    Timeout { base: String, path: &'static str, secs: u64 },
    #[error("{base} answered HTTP {status} for {path}: {body}")]
    Http { base: String, path: &'static str, status: u16, body: String },
    #[error("{base} gave an unusable answer to {path}: {reason}")]
    Answer { base: String, path: &'static str, reason: String },
}

impl Endpoint {
    /// Reads `http://user:pass@host:9090/prefix`; `PROMETHEUS_BEARER_TOKEN`,
    /// or `PROMETHEUS_USERNAME`/`PROMETHEUS_PASSWORD`, add credentials.
    pub fn parse(url: &str, env: &HashMap<String, String>) -> Result<Self, FetchError> {
        let url = url.trim().trim_end_matches('/');
        let (scheme, rest) = url.split_once("://").ok_or_else(|| FetchError::Url(mask(url)))?;
        if scheme != "http" && scheme != "https" {
            return Err(FetchError::Url(mask(url)));
        }
        let auth_end = rest.find('/').unwrap_or(rest.len());
        let (authority, path) = rest.split_at(auth_end);
        let (basic, host) = match authority.rsplit_once('@') {
            Some((cred, host)) => {
                let (u, p) = cred.split_once(':').unwrap_or((cred, ""));
                (Some((u.to_string(), p.to_string())), host)
            }
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(FetchError::Url(mask(url)));
        }
        let basic = basic.or_else(|| {
            Some((env.get("PROMETHEUS_USERNAME")?.clone(), env.get("PROMETHEUS_PASSWORD").cloned().unwrap_or_default()))
        });
        Ok(Endpoint {
            base: format!("{scheme}://{host}{path}"),
            basic,
            bearer: env.get("PROMETHEUS_BEARER_TOKEN").cloned(),
            tenant: None,
            kind: "Prometheus",
        })
    }

    /// Sends `X-Scope-OrgID: tenant` with every request (Mimir, Cortex).
    pub fn with_tenant(mut self, tenant: Option<String>) -> Self {
        self.tenant = tenant.filter(|t| !t.is_empty());
        self
    }

    /// The same endpoint, named as an Alertmanager in messages.
    pub fn alertmanager(mut self) -> Self {
        self.kind = "Alertmanager";
        self
    }

    /// `Prometheus at http://…`, as messages name it.
    fn shown(&self) -> String {
        format!("{} at {}", self.kind, self.base)
    }
}

/// The URL with any password replaced by `***` (one rule for every URL).
pub use reconstruct_core::text::mask_url as mask;

/// What a live read learned beside the answers themselves.
pub struct Meta {
    /// Where the ALERTS history starts (a little before the window).
    pub history_from: Timestamp,
    /// Parts that could not be read but did not stop the rest (rules, alerts).
    pub problems: Vec<String>,
}

/// One endpoint's HTTP client, with its credentials and timeouts.
struct Api<'a> {
    client: reqwest::Client,
    ep: &'a Endpoint,
    timeout: Duration,
}

impl<'a> Api<'a> {
    fn new(ep: &'a Endpoint, timeout: Duration) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .build()
            .map_err(|e| FetchError::Client(reconstruct_core::text::error_chain(&e)))?;
        Ok(Api { client, ep, timeout })
    }

    /// The body of one GET, with credentials attached and errors named.
    async fn body(
        &self,
        path: &'static str,
        query: &[(&str, String)],
    ) -> Result<(reqwest::StatusCode, Vec<u8>), FetchError> {
        let ep = self.ep;
        let mut req = self.client.get(format!("{}{path}", ep.base)).query(query);
        if let Some(t) = &ep.bearer {
            req = req.bearer_auth(t);
        } else if let Some((u, p)) = &ep.basic {
            req = req.basic_auth(u, Some(p));
        }
        if let Some(t) = &ep.tenant {
            req = req.header("X-Scope-OrgID", t);
        }
        let fail = |e: reqwest::Error| {
            if e.is_timeout() {
                FetchError::Timeout { base: ep.shown(), path, secs: self.timeout.as_secs() }
            } else {
                FetchError::Unreachable { base: ep.shown(), reason: reconstruct_core::text::error_chain(&e) }
            }
        };
        let resp = req.send().await.map_err(fail)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(fail)?;
        if !status.is_success() {
            // Prometheus answers 400/422/503 with a JSON error worth showing;
            // other statuses (a proxy's 500 page) show the start of their body.
            if let Err(e @ parse::AnswerError::Status { .. }) = parse::data(&bytes) {
                return Err(FetchError::Answer {
                    base: ep.shown(),
                    path,
                    reason: format!("HTTP {}: {e}", status.as_u16()),
                });
            }
            let text: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
            return Err(FetchError::Http {
                base: ep.shown(),
                path,
                status: status.as_u16(),
                body: text.split_whitespace().collect::<Vec<_>>().join(" "),
            });
        }
        Ok((status, bytes.to_vec()))
    }

    /// A Prometheus answer's `data`, its envelope checked.
    async fn get(&self, path: &'static str, query: &[(&str, String)]) -> Result<serde_json::Value, FetchError> {
        let (_, body) = self.body(path, query).await?;
        parse::data(&body).map_err(|e| FetchError::Answer { base: self.ep.shown(), path, reason: e.to_string() })
    }

    /// Alertmanager's v2 answers are bare JSON, without Prometheus's envelope.
    async fn get_bare(&self, path: &'static str, query: &[(&str, String)]) -> Result<serde_json::Value, FetchError> {
        let (_, body) = self.body(path, query).await?;
        serde_json::from_slice(&body).map_err(|e| FetchError::Answer {
            base: self.ep.shown(),
            path,
            reason: format!("not JSON: {e}"),
        })
    }
}

/// Alertmanager's active alerts (silenced and inhibited included) and its silences.
pub async fn read_alertmanager(ep: &Endpoint, timeout: Duration) -> Result<Answers, FetchError> {
    let api = Api::new(ep, timeout)?;
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
    let api = Api::new(ep, timeout)?;
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
        base: ep.shown(),
        path: "/api/v1/query",
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
        let ep = Endpoint::parse("https://ops:s3cret@prom.example:9090/prom/", &HashMap::new()).unwrap();
        assert_eq!(ep.base, "https://prom.example:9090/prom");
        assert_eq!(format!("{ep:?}"), "https://prom.example:9090/prom");
        assert!(Endpoint::parse("ftp://x", &HashMap::new()).is_err());
        assert_eq!(mask("http://u:pw@h:1"), "http://u:***@h:1");
        let err = Endpoint::parse("nonsense://u:pw@h", &HashMap::new()).unwrap_err().to_string();
        assert!(!err.contains("pw@"), "{err}");
    }
}
