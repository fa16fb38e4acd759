//! The one HTTP layer of the sources reached over HTTP (Prometheus,
//! Alertmanager, Loki, Elasticsearch): a base URL whose credentials never
//! show, basic or bearer auth from the URL or the environment, extra headers
//! (a tenant), answers read under a size cap, and 429/503 (and cut-off
//! answers) retried with backoff inside the source's one deadline.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// The largest answer read into memory; a page bigger than this is a
/// misconfigured page size, not evidence worth the memory.
pub const MAX_ANSWER: usize = 64 << 20;

/// Where a service is, and how to authenticate, kept apart so the base URL can
/// be shown.
#[derive(Clone)]
pub struct Endpoint {
    /// The URL without credentials and without a trailing slash.
    pub base: String,
    basic: Option<(String, String)>,
    bearer: Option<String>,
    headers: Vec<(String, String)>,
    /// `Prometheus`, `Loki`, `Elasticsearch`, for messages.
    pub kind: &'static str,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0:?} is not an http(s) URL")]
    Url(String),
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    #[error("cannot reach {shown}: {reason}")]
    Unreachable { shown: String, reason: String },
    #[error("{shown} did not answer {path} within the source's {secs}s")]
    Timeout { shown: String, path: String, secs: u64 },
    #[error("{shown} answered HTTP {status} for {path}: {body}")]
    Http { shown: String, path: String, status: u16, body: String },
    #[error("{shown} kept answering HTTP {status} for {path} ({tries} tries, until the source's {secs}s ran out)")]
    Busy { shown: String, path: String, status: u16, tries: u32, secs: u64 },
    #[error("{shown} gave an unusable answer to {path}: {reason}")]
    Answer { shown: String, path: String, reason: String },
}

impl HttpError {
    /// The HTTP status of an error answer, for callers that fall back on one
    /// (a store without point-in-time search answers 400 or 404).
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl Endpoint {
    /// Reads `http://user:pass@host:3100/prefix`; `{PREFIX}_BEARER_TOKEN`,
    /// or `{PREFIX}_USERNAME`/`{PREFIX}_PASSWORD` from `env`, add credentials.
    pub fn parse(
        kind: &'static str,
        url: &str,
        env_prefix: &str,
        env: &HashMap<String, String>,
    ) -> Result<Self, HttpError> {
        let url = url.trim().trim_end_matches('/');
        let (scheme, rest) = url.split_once("://").ok_or_else(|| HttpError::Url(mask(url)))?;
        if scheme != "http" && scheme != "https" {
            return Err(HttpError::Url(mask(url)));
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
            return Err(HttpError::Url(mask(url)));
        }
        let var = |name: &str| env.get(&format!("{env_prefix}_{name}")).filter(|v| !v.is_empty()).cloned();
        // A user in the URL may leave the password to the environment, out of shell history.
        let basic = match basic {
            Some((u, p)) if p.is_empty() => Some((u, var("PASSWORD").unwrap_or_default())),
            Some(b) => Some(b),
            None => var("USERNAME").map(|u| (u, var("PASSWORD").unwrap_or_default())),
        };
        Ok(Endpoint {
            base: format!("{scheme}://{host}{path}"),
            basic,
            bearer: var("BEARER_TOKEN"),
            headers: Vec::new(),
            kind,
        })
    }

    /// The same endpoint, named `kind` in messages (an Alertmanager).
    pub fn named(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    /// Sends `name: value` with every request (Loki's `X-Scope-OrgID`).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// `Loki at http://…`, as messages name it.
    pub fn shown(&self) -> String {
        format!("{} at {}", self.kind, self.base)
    }
}

/// The URL with any password replaced by `***` (one rule for every URL).
pub use reconstruct_core::text::mask_url as mask;

/// One request: a GET with a query, or a method with a JSON body.
pub struct Request<'a> {
    pub method: reqwest::Method,
    pub path: &'a str,
    pub query: &'a [(&'a str, String)],
    pub body: Option<&'a serde_json::Value>,
}

impl<'a> Request<'a> {
    pub fn get(path: &'a str, query: &'a [(&'a str, String)]) -> Self {
        Request { method: reqwest::Method::GET, path, query, body: None }
    }

    pub fn post(path: &'a str, body: &'a serde_json::Value) -> Self {
        Request { method: reqwest::Method::POST, path, query: &[], body: Some(body) }
    }

    /// A POST without a body (opening a point in time).
    pub fn post_empty(path: &'a str) -> Self {
        Request { method: reqwest::Method::POST, path, query: &[], body: None }
    }
}

/// A store's client for one read: every request, retry and wait shares the
/// one deadline the source was given.
pub struct Client {
    http: reqwest::Client,
    ep: Endpoint,
    deadline: Instant,
    timeout: Duration,
    /// Requests that were answered 429/503 or cut off and tried again.
    pub retries: u32,
}

/// The first wait after a 429/503; it doubles on each retry, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl Client {
    pub fn new(ep: Endpoint, timeout: Duration) -> Result<Self, HttpError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| HttpError::Client(reconstruct_core::text::error_chain(&e)))?;
        Ok(Client { http, ep, deadline: Instant::now() + timeout, timeout, retries: 0 })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    /// The answer's JSON, retried while the service is busy (429, 503, with
    /// `Retry-After` honoured) or its answer was cut off, until the deadline.
    pub async fn json(&mut self, req: &Request<'_>) -> Result<serde_json::Value, HttpError> {
        self.decoded(req, |body| {
            serde_json::from_slice(body).map_err(|e| {
                // A body that ends inside the JSON was cut off on the way: ask again.
                if e.is_eof() {
                    Decode::CutOff(format!("the answer was cut off ({e})"))
                } else {
                    Decode::Bad(format!("not JSON: {e}"))
                }
            })
        })
        .await
    }

    /// The answer read by `decode`, retried as [`Client::json`] is.
    pub async fn decoded<T>(
        &mut self,
        req: &Request<'_>,
        decode: impl Fn(&[u8]) -> Result<T, Decode>,
    ) -> Result<T, HttpError> {
        let mut backoff = FIRST_BACKOFF;
        let mut tries: u32 = 0;
        loop {
            tries = tries.saturating_add(1);
            // Why to ask again: after how long (the server's word), and the busy status.
            let (after, reason, status) = match self.once(req).await {
                Ok(body) => match decode(&body) {
                    Ok(v) => return Ok(v),
                    Err(Decode::CutOff(reason)) => (None, reason, None),
                    Err(Decode::Bad(reason)) => return Err(self.answer(req, reason)),
                },
                Err(Attempt::Busy(status, after)) => (after, String::new(), Some(status)),
                Err(Attempt::CutOff(reason)) => (None, reason, None),
                Err(Attempt::Fatal(e)) => return Err(e),
            };
            let pause = after.unwrap_or(backoff).min(MAX_BACKOFF);
            // Give up a quarter of the time before the deadline: the run's
            // own deadline for the source began a little before this client,
            // and "cut off, 4 times" says more than a bare timeout.
            if Instant::now() + pause + self.timeout / 4 >= self.deadline || tries >= 8 {
                return Err(match status {
                    Some(status) => HttpError::Busy {
                        shown: self.ep.shown(),
                        path: req.path.to_string(),
                        status,
                        tries,
                        secs: self.timeout.as_secs(),
                    },
                    None => self.answer(req, format!("{reason}, {tries} times")),
                });
            }
            self.retries = self.retries.saturating_add(1);
            tokio::time::sleep(pause).await;
            backoff = backoff.saturating_mul(2).min(MAX_BACKOFF);
        }
    }

    fn answer(&self, req: &Request<'_>, reason: String) -> HttpError {
        HttpError::Answer { shown: self.ep.shown(), path: req.path.to_string(), reason }
    }

    async fn once(&self, req: &Request<'_>) -> Result<Vec<u8>, Attempt> {
        let ep = &self.ep;
        let left = self.deadline.saturating_duration_since(Instant::now());
        let timeout = || {
            Attempt::Fatal(HttpError::Timeout {
                shown: ep.shown(),
                path: req.path.to_string(),
                secs: self.timeout.as_secs(),
            })
        };
        if left.is_zero() {
            return Err(timeout());
        }
        let mut r = self.http.request(req.method.clone(), format!("{}{}", ep.base, req.path)).timeout(left);
        if !req.query.is_empty() {
            r = r.query(req.query);
        }
        if let Some(b) = req.body {
            r = r.header("Content-Type", "application/json").body(b.to_string());
        }
        if let Some(t) = &ep.bearer {
            r = r.bearer_auth(t);
        } else if let Some((u, p)) = &ep.basic {
            r = r.basic_auth(u, Some(p));
        }
        for (k, v) in &ep.headers {
            r = r.header(k, v);
        }
        let mut resp = r.send().await.map_err(|e| {
            if e.is_timeout() {
                timeout()
            } else {
                Attempt::Fatal(HttpError::Unreachable {
                    shown: ep.shown(),
                    reason: reconstruct_core::text::error_chain(&e),
                })
            }
        })?;
        let status = resp.status().as_u16();
        if status == 429 || status == 503 {
            let after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(Attempt::Busy(status, after));
        }
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    if body.len().saturating_add(c.len()) > MAX_ANSWER {
                        return Err(Attempt::Fatal(HttpError::Answer {
                            shown: ep.shown(),
                            path: req.path.to_string(),
                            reason: format!("the answer is over {} MiB: ask for smaller pages", MAX_ANSWER >> 20),
                        }));
                    }
                    body.extend_from_slice(&c);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => return Err(timeout()),
                Err(e) => {
                    return Err(Attempt::CutOff(format!(
                        "the answer was cut off ({})",
                        reconstruct_core::text::error_chain(&e)
                    )))
                }
            }
        }
        if !(200..300).contains(&status) {
            let text: String = String::from_utf8_lossy(&body).chars().take(300).collect();
            return Err(Attempt::Fatal(HttpError::Http {
                shown: ep.shown(),
                path: req.path.to_string(),
                status,
                body: text.split_whitespace().collect::<Vec<_>>().join(" "),
            }));
        }
        Ok(body)
    }
}

/// Why an answer could not be read.
pub enum Decode {
    /// It ends too soon: cut off on the way, worth asking again.
    CutOff(String),
    /// It is not what was asked for.
    Bad(String),
}

enum Attempt {
    Busy(u16, Option<Duration>),
    CutOff(String),
    Fatal(HttpError),
}
