//! The Prometheus kind of source as one slice: `--prometheus` (or
//! PROMETHEUS_URL), `--alertmanager`, `[prometheus]`, the bundle's
//! `prometheus/` folder of saved API answers (read together: the rules give
//! the interval the history is split by), and how answers are saved.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::{Args, FromArgMatches};
use reconstruct_core::slice::{
    Bundle, Common, ConfigError, ConfigText, Resolution, ResolveError, SavedFile, Slice, Spec,
};
use reconstruct_core::{runtime, Source, SourceKind, Timestamp};
use serde::Deserialize;

use crate::fetch::{alertmanager, endpoint, mask, with_tenant, Endpoint};

/// A saved Prometheus or Alertmanager API answer.
pub const ROLE: &str = "prometheus";

#[derive(Debug, Args)]
#[group(skip)]
struct Flags {
    /// Read alert history from Prometheus (or Thanos, Mimir, VictoriaMetrics); without a value, PROMETHEUS_URL.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    prometheus: Option<String>,
    /// The tenant of a multi-tenant Prometheus API (Mimir, Cortex), sent as X-Scope-OrgID.
    #[arg(long, value_name = "ORG")]
    prometheus_tenant: Option<String>,
    /// Read silences and suppressed alerts from this Alertmanager (v2 API).
    #[arg(long, value_name = "URL")]
    alertmanager: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Tables {
    prometheus: Option<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    url: toml::Spanned<String>,
    alertmanager: Option<toml::Spanned<String>>,
    /// Mimir's or Cortex's tenant.
    tenant: Option<String>,
}

/// `[prometheus]`, its URLs checked.
fn read_tables(config: &ConfigText) -> Result<Tables, ConfigError> {
    let tables: Tables = config.parse()?;
    if let Some(p) = &tables.prometheus {
        config.http_url(&p.url, "prometheus")?;
        if let Some(am) = &p.alertmanager {
            config.http_url(am, "alertmanager")?;
        }
    }
    Ok(tables)
}

/// One Prometheus-side source.
#[derive(Debug)]
pub enum PromSpec {
    /// A Prometheus-compatible API.
    Live { endpoint: Endpoint },
    /// An Alertmanager (v2 API).
    AlertmanagerLive { endpoint: Endpoint },
    /// Saved Prometheus and Alertmanager answers, read together.
    Files { files: Vec<(PathBuf, String)> },
}

/// The kind of source: Prometheus and Alertmanager.
pub struct Prometheus;

impl Slice for Prometheus {
    fn name(&self) -> &'static str {
        "prometheus"
    }

    fn describe(&self) -> &'static str {
        "Prometheus-compatible alert history (rules, ALERTS), and Alertmanager's silences"
    }

    fn flags(&self, cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }

    fn naming_flags(&self) -> &'static [&'static str] {
        &["--prometheus"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["prometheus"]
    }

    fn check(&self, config: &ConfigText) -> Result<(), ConfigError> {
        read_tables(config).map(|_| ())
    }

    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let mut flags = Flags::from_arg_matches(r.matches).map_err(|e| ResolveError::Other(e.to_string()))?;
        if let Some(p) = read_tables(r.config)?.prometheus {
            if flags.prometheus.is_none() {
                flags.prometheus = Some(p.url.into_inner());
                flags.prometheus_tenant = flags.prometheus_tenant.take().or(p.tenant);
            }
            if flags.alertmanager.is_none() {
                flags.alertmanager = p.alertmanager.map(toml::Spanned::into_inner);
            }
        }
        let http_env: HashMap<String, String> = r.vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let env_url = r.vars.get("PROMETHEUS_URL").filter(|u| !u.is_empty()).cloned();
        let url = match flags.prometheus.as_deref() {
            Some("") => env_url.or_else(|| Some(String::new())),
            Some(u) => Some(u.to_string()),
            None if !r.from_bundle => env_url,
            None => None,
        };
        if url.as_deref() == Some("") {
            return Err(ResolveError::Usage(
                "--prometheus has no URL: give --prometheus URL or set PROMETHEUS_URL".into(),
            ));
        }
        if let Some(url) = url {
            match endpoint(&url, &http_env) {
                Ok(ep) => r.push(PromSpec::Live { endpoint: with_tenant(ep, flags.prometheus_tenant.as_deref()) }),
                Err(e) => r.unusable(SourceKind::Prometheus, mask(&url), e.to_string()),
            }
        }
        if let Some(url) = &flags.alertmanager {
            match endpoint(url, &http_env) {
                Ok(ep) => r.push(PromSpec::AlertmanagerLive { endpoint: alertmanager(ep) }),
                Err(e) => r.unusable(SourceKind::Alertmanager, mask(url), e.to_string()),
            }
        }
        Ok(())
    }

    fn recognise(&self, rel: &str) -> Option<&'static str> {
        rel.starts_with("prometheus/").then_some(ROLE)
    }

    fn roles(&self) -> &'static [&'static str] {
        &[ROLE]
    }

    /// One reader for all answers: the rules give the evaluation interval
    /// the history is split by.
    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        if let Some(first) = files.first().map(|f| f.order) {
            r.push_joined(first, PromSpec::Files { files: files.into_iter().map(|f| (f.path, f.display)).collect() });
        }
        Ok(())
    }

    fn blind_spots(&self) -> &'static [(&'static [SourceKind], &'static str)] {
        &[(
            &[SourceKind::Prometheus],
            "Prometheus history ends at its retention, and alert times are as exact as its evaluation interval.",
        )]
    }
}

impl Spec for PromSpec {
    fn kind(&self) -> SourceKind {
        match self {
            PromSpec::AlertmanagerLive { .. } => SourceKind::Alertmanager,
            PromSpec::Live { .. } | PromSpec::Files { .. } => SourceKind::Prometheus,
        }
    }

    fn what(&self) -> String {
        match self {
            PromSpec::Live { endpoint } | PromSpec::AlertmanagerLive { endpoint } => endpoint.base.clone(),
            PromSpec::Files { .. } => "saved files".to_string(),
        }
    }

    fn open(self: Box<Self>, c: &Common) -> Source {
        let timeout = c.timeout;
        match *self {
            PromSpec::Live { endpoint } => Source::Network(Box::new(crate::PrometheusLive { endpoint, timeout })),
            PromSpec::AlertmanagerLive { endpoint } => {
                Source::Network(Box::new(crate::AlertmanagerLive { endpoint, timeout }))
            }
            PromSpec::Files { files } => Source::Blocking(Box::new(crate::PrometheusFiles { files })),
        }
    }

    fn save(&self, c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
        let rt = || runtime().map_err(|e| format!("cannot start the async runtime: {e}"));
        let (answers, base) = match self {
            PromSpec::Live { endpoint } => {
                // The window asked for, as the live read takes it.
                let window = c.anchor.unwrap_or(c.window);
                let now = Timestamp::from_datetime(&chrono_now()).unwrap_or(window.until);
                let (answers, _) =
                    rt()?.block_on(crate::fetch::read(endpoint, &window, now, c.timeout)).map_err(|e| e.to_string())?;
                (answers, &endpoint.base)
            }
            PromSpec::AlertmanagerLive { endpoint } => {
                let answers =
                    rt()?.block_on(crate::fetch::read_alertmanager(endpoint, c.timeout)).map_err(|e| e.to_string())?;
                (answers, &endpoint.base)
            }
            PromSpec::Files { .. } => return Err("saved already".to_string()),
        };
        for (name, bytes) in answers.saved_files().map_err(|e| e.to_string())? {
            b.add(&format!("prometheus/{name}"), &bytes, ROLE, base, Default::default())?;
        }
        Ok(())
    }

    fn is_live(&self) -> bool {
        !matches!(self, PromSpec::Files { .. })
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
