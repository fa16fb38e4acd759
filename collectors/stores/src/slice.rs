//! The central log stores as one slice: `--loki` and `--elasticsearch`
//! with their queries, `[loki]` and `[elasticsearch]`, the bundle's `loki/`
//! and `elasticsearch/` folders of saved pages, and how pages are saved
//! (each as the store answered it, strings masked when redacting).

use std::collections::HashMap;
use std::path::PathBuf;

use clap::{Args, FromArgMatches};
use reconstruct_core::slice::{
    Bundle, Common, ConfigError, ConfigText, Resolution, ResolveError, SavedFile, Slice, Spec,
};
use reconstruct_core::{runtime, CollectError, Source, SourceKind};
use serde::Deserialize;

use crate::http::{mask, Endpoint};

/// Loki `query_range` pages saved by capture.
pub const ROLE_LOKI: &str = "loki";
/// Elasticsearch/OpenSearch search answers saved by capture.
pub const ROLE_ELASTIC: &str = "elasticsearch";

#[derive(Debug, Args)]
#[group(skip)]
struct Flags {
    /// Read logs from Loki (query_range, forward, paged); credentials in the URL or LOKI_USERNAME/LOKI_PASSWORD/LOKI_BEARER_TOKEN.
    #[arg(long, value_name = "URL")]
    loki: Option<String>,
    /// The LogQL log query to read from Loki [default: the streams of the label most streams carry: service_name, else job, …].
    #[arg(long, value_name = "LOGQL")]
    loki_query: Option<String>,
    /// The Loki tenant (sent as X-Scope-OrgID).
    #[arg(long, value_name = "ORG")]
    loki_tenant: Option<String>,
    /// Lines per Loki page [default: 5000].
    #[arg(long, value_name = "N")]
    loki_limit: Option<u32>,
    /// Read logs from Elasticsearch or OpenSearch; credentials in the URL or ELASTICSEARCH_USERNAME/_PASSWORD/_BEARER_TOKEN.
    #[arg(long, value_name = "URL")]
    elasticsearch: Option<String>,
    /// The index, alias, data stream or pattern to search [default: logs-*].
    #[arg(long, value_name = "PATTERN")]
    index: Option<String>,
    /// The documents' time field [default: @timestamp].
    #[arg(long, value_name = "FIELD")]
    time_field: Option<String>,
    /// A query_string query narrowing the hits (service.name:api AND log.level:error).
    #[arg(long, value_name = "QUERY")]
    es_query: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Tables {
    loki: Option<LokiEntry>,
    elasticsearch: Option<ElasticEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LokiEntry {
    url: toml::Spanned<String>,
    query: Option<String>,
    tenant: Option<String>,
    limit: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ElasticEntry {
    url: toml::Spanned<String>,
    index: Option<String>,
    time_field: Option<String>,
    query: Option<String>,
}

/// `[loki]` and `[elasticsearch]`, their URLs checked.
fn read_tables(config: &ConfigText) -> Result<Tables, ConfigError> {
    let tables: Tables = config.parse()?;
    if let Some(l) = &tables.loki {
        config.http_url(&l.url, "loki")?;
    }
    if let Some(e) = &tables.elasticsearch {
        config.http_url(&e.url, "elasticsearch")?;
    }
    Ok(tables)
}

/// One store source.
#[derive(Debug)]
pub enum StoreSpec {
    /// Loki, over its HTTP API.
    Loki { endpoint: Endpoint, query: crate::loki::Query },
    /// Elasticsearch or OpenSearch, over its HTTP API.
    Elastic { endpoint: Endpoint, search: crate::elastic::Search },
    /// Pages a capture saved (`kind` says from which store).
    Saved { file: PathBuf, display: String, kind: SourceKind },
}

/// The kind of source: central log stores.
pub struct Stores;

impl Slice for Stores {
    fn name(&self) -> &'static str {
        "stores"
    }

    fn describe(&self) -> &'static str {
        "central log stores: Loki, Elasticsearch and OpenSearch"
    }

    fn flags(&self, cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }

    fn naming_flags(&self) -> &'static [&'static str] {
        &["--loki", "--elasticsearch"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["loki", "elasticsearch"]
    }

    fn check(&self, config: &ConfigText) -> Result<(), ConfigError> {
        read_tables(config).map(|_| ())
    }

    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let mut f = Flags::from_arg_matches(r.matches).map_err(|e| ResolveError::Other(e.to_string()))?;
        let tables = read_tables(r.config)?;
        if let Some(l) = &tables.loki {
            if f.loki.is_none() {
                f.loki = Some(l.url.get_ref().clone());
                f.loki_query = f.loki_query.take().or_else(|| l.query.clone());
                f.loki_tenant = f.loki_tenant.take().or_else(|| l.tenant.clone());
                f.loki_limit = f.loki_limit.or(l.limit);
            }
        }
        if let Some(e) = &tables.elasticsearch {
            if f.elasticsearch.is_none() {
                f.elasticsearch = Some(e.url.get_ref().clone());
                f.index = f.index.take().or_else(|| e.index.clone());
                f.time_field = f.time_field.take().or_else(|| e.time_field.clone());
                f.es_query = f.es_query.take().or_else(|| e.query.clone());
            }
        }
        let http_env: HashMap<String, String> = r.vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        if let Some(url) = &f.loki {
            let limit = f.loki_limit.unwrap_or(crate::loki::DEFAULT_LIMIT);
            let query = crate::loki::Query { logql: f.loki_query.clone(), limit, org: f.loki_tenant.clone() };
            match Endpoint::parse("Loki", url, "LOKI", &http_env) {
                Ok(mut endpoint) => {
                    if let Some(org) = &f.loki_tenant {
                        endpoint = endpoint.with_header("X-Scope-OrgID", org);
                    }
                    r.push(StoreSpec::Loki { endpoint, query });
                }
                Err(e) => r.unusable(SourceKind::Loki, mask(url), e.to_string()),
            }
        }
        if let Some(url) = &f.elasticsearch {
            let search = crate::elastic::Search {
                index: f.index.clone().unwrap_or_else(|| "logs-*".to_string()),
                time_field: f.time_field.clone().unwrap_or_else(|| crate::elastic::DEFAULT_TIME_FIELD.to_string()),
                query: f.es_query.clone(),
                page: crate::elastic::DEFAULT_PAGE,
            };
            match Endpoint::parse("Elasticsearch", url, "ELASTICSEARCH", &http_env) {
                Ok(endpoint) => r.push(StoreSpec::Elastic { endpoint, search }),
                Err(e) => r.unusable(SourceKind::Elasticsearch, mask(url), e.to_string()),
            }
        }
        Ok(())
    }

    fn recognise(&self, rel: &str) -> Option<&'static str> {
        if rel.starts_with("loki/") {
            Some(ROLE_LOKI)
        } else if rel.starts_with("elasticsearch/") {
            Some(ROLE_ELASTIC)
        } else {
            None
        }
    }

    fn roles(&self) -> &'static [&'static str] {
        &[ROLE_LOKI, ROLE_ELASTIC]
    }

    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        for f in files {
            let kind = if f.role == ROLE_LOKI { SourceKind::Loki } else { SourceKind::Elasticsearch };
            r.push_at(f.order, StoreSpec::Saved { file: f.path, display: f.display, kind });
        }
        Ok(())
    }

    fn blind_spots(&self) -> &'static [(&'static [SourceKind], &'static str)] {
        &[(
            &[SourceKind::Loki, SourceKind::Elasticsearch],
            "Central log stores hold what their shippers delivered and their retention kept; a host whose shipper was down during the incident is missing from them.",
        )]
    }
}

type StoreSave<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), CollectError>> + 'a>>;

/// Streams a store's pages into `rel`, masked when the bundle redacts.
fn save_store(
    b: &mut dyn Bundle,
    rel: &str,
    role: &str,
    shown: &str,
    read: impl for<'a> FnOnce(&'a mut dyn std::io::Write, &'a mut dyn FnMut(&mut serde_json::Value)) -> StoreSave<'a>,
) -> Result<(), String> {
    let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let mut out = std::io::BufWriter::new(b.create(rel)?);
    let m = b.masker();
    let mut edit = |v: &mut serde_json::Value| m.json(v);
    let saved = rt.block_on(read(&mut out, &mut edit)).map_err(|e| e.to_string());
    let flushed = std::io::Write::flush(&mut out).map_err(|e| format!("cannot write {rel}: {e}"));
    drop(out);
    match saved.and(flushed) {
        Ok(()) => b.add_written(rel, role, shown, Default::default()),
        Err(e) => {
            b.discard(rel);
            Err(e)
        }
    }
}

impl Spec for StoreSpec {
    fn kind(&self) -> SourceKind {
        match self {
            StoreSpec::Loki { .. } => SourceKind::Loki,
            StoreSpec::Elastic { .. } => SourceKind::Elasticsearch,
            StoreSpec::Saved { kind, .. } => *kind,
        }
    }

    fn what(&self) -> String {
        match self {
            StoreSpec::Loki { endpoint, query } => format!("{} {}", endpoint.base, query.shown()),
            StoreSpec::Elastic { endpoint, search } => format!("{}/{}", endpoint.base, search.index),
            StoreSpec::Saved { display, .. } => display.clone(),
        }
    }

    fn open(self: Box<Self>, c: &Common) -> Source {
        let timeout = c.timeout;
        match *self {
            StoreSpec::Loki { endpoint, query } => {
                Source::Network(Box::new(crate::LokiLive { endpoint, query, timeout }))
            }
            StoreSpec::Elastic { endpoint, search } => {
                Source::Network(Box::new(crate::ElasticLive { endpoint, search, timeout }))
            }
            StoreSpec::Saved { file, display, kind } => {
                Source::Blocking(Box::new(crate::StoreSaved { file, display, kind }))
            }
        }
    }

    fn save(&self, c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
        let shown = self.describe();
        // A central store is read for the window asked for only: a day of
        // lookback there can be terabytes (the coverage says so).
        let (window, timeout) = (c.anchor.unwrap_or(c.window), c.timeout);
        // Before it, the findings' baseline and lookback: counted and sampled by the store.
        let before = (window.since > c.window.since)
            .then_some(reconstruct_core::TimeWindow { since: c.window.since, until: window.since });
        match self {
            StoreSpec::Loki { endpoint, query } => {
                let rel = b.name("loki", "query.jsonl");
                let (endpoint, query) = (endpoint.clone(), query.clone());
                save_store(b, &rel, ROLE_LOKI, &shown, move |out, edit| {
                    Box::pin(
                        async move { crate::save_loki(endpoint, &query, before, &window, timeout, out, edit).await },
                    )
                })
            }
            StoreSpec::Elastic { endpoint, search } => {
                let rel = b.name("elasticsearch", "search.jsonl");
                let (endpoint, search) = (endpoint.clone(), search.clone());
                save_store(b, &rel, ROLE_ELASTIC, &shown, move |out, edit| {
                    Box::pin(async move {
                        crate::save_elastic(endpoint, &search, before, &window, timeout, out, edit).await
                    })
                })
            }
            StoreSpec::Saved { display, .. } => Err(format!("{display} is saved already")),
        }
    }

    fn is_live(&self) -> bool {
        !matches!(self, StoreSpec::Saved { .. })
    }
}
