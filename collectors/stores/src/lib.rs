//! Central log stores: Loki, and Elasticsearch/OpenSearch, read live page by
//! page over HTTP (`loki`, `elastic`, sharing `http`), or from the pages a
//! capture saved. A saved file is JSON lines: a header naming the store and
//! the query, then each page as the store answered it, so a saved read takes
//! the same paging path as a live one and rebuilds the same rows.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod before;
pub mod elastic;
/// The shared HTTP layer, under the name the stores' code uses.
pub use reconstruct_http as http;
pub mod loki;
pub mod record;
#[cfg(feature = "replay")]
pub mod replay;
pub mod slice;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reconstruct_core::event::Locator;
use reconstruct_core::{
    CollectContext, CollectError, Collector, Diagnostic, EventSink, LocalFuture, NetworkCollector, SourceId,
    SourceKind, TimeWindow,
};
use serde_json::{json, Value};

use crate::http::{Client, Endpoint};
use crate::record::{Mapper, Record};

/// Loki, read live.
pub struct LokiLive {
    pub endpoint: Endpoint,
    pub query: loki::Query,
    pub timeout: Duration,
}

/// Elasticsearch or OpenSearch, read live.
pub struct ElasticLive {
    pub endpoint: Endpoint,
    pub search: elastic::Search,
    pub timeout: Duration,
}

/// Pages a capture saved, of either store.
pub struct StoreSaved {
    pub file: PathBuf,
    pub display: String,
    pub kind: SourceKind,
}

fn loki_record<'a>(base: &str, q: &'a loki::Plan, l: &'a loki::Line) -> Record<'a> {
    Record {
        time: reconstruct_core::Timestamp::from_unix_nanos(l.ns),
        component: loki::component(&l.labels),
        service: loki::service(&l.labels),
        level: loki::level(&l.labels),
        message: &l.text,
        locator: loki::evidence(base, q.org.as_deref(), l),
        context: format!("stream: {}\nquery: {}", loki::selector(&l.labels), q.logql),
    }
}

fn elastic_record<'a>(base: &str, h: &'a elastic::Hit) -> Record<'a> {
    Record {
        time: h.time,
        component: &h.component,
        service: h.service.as_deref(),
        level: h.level.as_deref(),
        message: &h.message,
        locator: elastic::evidence(base, h),
        context: h.context.clone(),
    }
}

/// The span before the window the findings read, when they do: from the
/// earlier of the baseline and the lookback to the window asked for.
fn before_span(ctx: &CollectContext) -> Option<TimeWindow> {
    let anchor = ctx.anchor?;
    (anchor.since > ctx.window.since).then_some(TimeWindow { since: ctx.window.since, until: anchor.since })
}

/// How one store's records before the window become events.
struct BeforeOf<'a, L> {
    kind: SourceKind,
    /// The store and its aggregation, as coverage names them.
    store: &'a str,
    how: &'a str,
    time: fn(&L) -> reconstruct_core::Timestamp,
    /// What tells two records apart at one time.
    key: fn(&L) -> String,
    record: &'a dyn Fn(&'a L) -> Record<'a>,
    tally: &'a dyn Fn(&before::Tally) -> String,
}

/// Emits what was read before the window, in time order: each step's count
/// and the sampled records, interleaved; then says what it was.
fn emit_before<'a, L>(
    of: BeforeOf<'a, L>,
    b: &'a before::Before<L>,
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<(), reconstruct_core::Stopped> {
    // Saved beside the window, and read back for a plain timeline: not asked for.
    if before_span(ctx).is_none() {
        return Ok(());
    }
    let mut mapper = Mapper::new(of.kind);
    // A line both sampled and found announcing a change is emitted once.
    let mut lines: Vec<&L> = b.samples.iter().flat_map(|(_, l)| l.iter()).chain(b.changes.iter()).collect();
    lines.sort_by_cached_key(|l| ((of.time)(l), (of.key)(l)));
    lines.dedup_by_key(|l| ((of.time)(l), (of.key)(l)));
    let mut lines = lines.into_iter().peekable();
    for t in &b.tallies {
        while let Some(l) = lines.next_if(|l| (of.time)(l) < t.start) {
            mapper.emit((of.record)(l), ctx, sink)?;
        }
        if ctx.window.contains(t.start) {
            sink.emit(record::tally_event(of.kind, t, (of.tally)(t)))?;
        }
    }
    for l in lines {
        mapper.emit((of.record)(l), ctx, sink)?;
    }
    sink.note(before::note(of.store, of.how, b));
    Ok(())
}

fn emit_loki_before(
    base: &str,
    q: &loki::Plan,
    b: &before::Before<loki::Line>,
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<(), reconstruct_core::Stopped> {
    let record = |l| loki_record(base, q, l);
    let tally = |t: &before::Tally| loki::tally_evidence(base, q.org.as_deref(), &q.logql, t);
    let of = BeforeOf {
        kind: SourceKind::Loki,
        store: "Loki",
        how: "count_over_time summed by service",
        time: |l: &loki::Line| reconstruct_core::Timestamp::from_unix_nanos(l.ns),
        key: |l: &loki::Line| format!("{}\u{1f}{}", loki::selector(&l.labels), l.text),
        record: &record,
        tally: &tally,
    };
    emit_before(of, b, ctx, sink)
}

fn emit_elastic_before(
    base: &str,
    s: &elastic::Search,
    b: &before::Before<elastic::Hit>,
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<(), reconstruct_core::Stopped> {
    let record = |h| elastic_record(base, h);
    let tally = |t: &before::Tally| elastic::tally_evidence(base, s, t);
    let of = BeforeOf {
        kind: SourceKind::Elasticsearch,
        store: "the store",
        how: "terms and date_histogram aggregations",
        time: |h: &elastic::Hit| h.time,
        key: |h: &elastic::Hit| format!("{}/{}", h.index, h.id),
        record: &record,
        tally: &tally,
    };
    emit_before(of, b, ctx, sink)
}

fn loki_notes(q: &loki::Plan, pager: &loki::Pager, m: &Mapper, retries: u32, sink: &mut dyn EventSink) {
    match &q.chosen {
        None => {}
        Some(loki::Chosen::Label { label, labels }) => sink.note(format!(
            "no query given: read the streams with a {label} label (the window's labels: {}); give --loki-query for others",
            labels.join(", ")
        )),
        Some(loki::Chosen::NoStreams) => {
            sink.note("no query given, and Loki lists no label for the window: it holds no stream there".to_string())
        }
        Some(loki::Chosen::Unlisted(status)) => sink.note(format!(
            "no query given, and the labels API answered HTTP {status}: read {} (give --loki-query for others)",
            q.logql
        )),
    }
    sink.note(format!(
        "{} lines in {} pages of query_range (forward, {} a page) for {}",
        m.read,
        pager.pages,
        pager.limit(),
        q.logql
    ));
    if let Some(cap) = pager.capped {
        sink.note(format!("Loki refused {} lines a page: read at its cap of {cap}", q.limit));
    }
    for ns in &pager.crowded {
        sink.diagnostic(Diagnostic {
            locator: None,
            message: format!(
                "more than {} lines at {}: those past the page limit are missing (raise the limit)",
                pager.limit(),
                reconstruct_core::Timestamp::from_unix_nanos(*ns).rfc3339()
            ),
        });
    }
    retry_note(retries, sink);
}

fn elastic_notes(s: &elastic::Search, h: &elastic::Meta, sink: &mut dyn EventSink) {
    let view = match h.view {
        Some(elastic::View::Elasticsearch) => "in an Elasticsearch point in time",
        Some(elastic::View::OpenSearch) => "in an OpenSearch point in time",
        Some(elastic::View::Live) => {
            "without a point in time (the store offers none): documents indexed while reading may be missed"
        }
        None => "from saved answers",
    };
    sink.note(format!("{} hits of {} in {} pages of {} on {}, {view}", h.hits, s.index, h.pages, s.page, s.time_field));
    if h.undated > 0 {
        sink.diagnostic(Diagnostic {
            locator: None,
            message: format!("{} hits without a readable {}: not placed on the timeline", h.undated, s.time_field),
        });
    }
    if h.repeated > 0 {
        sink.note(format!("{} hits returned twice were read once", h.repeated));
    }
}

/// How a saved read's query was chosen, from its header.
fn saved_choice(v: &Value) -> Option<loki::Chosen> {
    if let Some(status) = v.get("unlisted").and_then(Value::as_u64) {
        return Some(loki::Chosen::Unlisted(u16::try_from(status).unwrap_or(u16::MAX)));
    }
    let labels: Vec<String> =
        v.get("labels")?.as_array()?.iter().filter_map(Value::as_str).map(str::to_string).collect();
    Some(match v.get("label").and_then(Value::as_str) {
        Some(label) => loki::Chosen::Label { label: label.to_string(), labels },
        None => loki::Chosen::NoStreams,
    })
}

fn retry_note(retries: u32, sink: &mut dyn EventSink) {
    if retries > 0 {
        sink.note(format!("{retries} requests retried (busy or cut off)"));
    }
}

impl NetworkCollector for LokiLive {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Loki, name: format!("{} {}", self.endpoint.base, self.query.shown()) }
    }

    fn collect<'a>(
        self: Box<Self>,
        ctx: &'a CollectContext,
        sink: &'a mut dyn EventSink,
    ) -> LocalFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            let base = self.endpoint.base.clone();
            let mut client = Client::new(self.endpoint, self.timeout)?;
            let mut mapper = Mapper::new(SourceKind::Loki);
            // The window asked for only: a day of a central store before it is too much to page through.
            let window = ctx.anchor();
            let q = loki::plan(&mut client, &self.query, &window).await?;
            // Before the window, the store counts and samples (a day there is too much to page).
            // A store that cannot count still gives the window.
            if let Some(span) = before_span(ctx) {
                match loki::read_before(&mut client, &q, &span, &mut |_| Ok(())).await {
                    Ok(b) => emit_loki_before(&base, &q, &b, ctx, sink)?,
                    Err(e) => before_failed(&e, sink),
                }
            }
            let read = {
                let mut on_line = |l: &loki::Line| mapper.emit(loki_record(&base, &q, l), ctx, &mut *sink);
                loki::read(&mut client, &q, &window, &mut |_| Ok(()), &mut on_line).await
            };
            let pager = read?;
            loki_notes(&q, &pager, &mapper, client.retries, sink);
            Ok(())
        })
    }
}

impl NetworkCollector for ElasticLive {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Elasticsearch, name: format!("{}/{}", self.endpoint.base, self.search.index) }
    }

    fn collect<'a>(
        self: Box<Self>,
        ctx: &'a CollectContext,
        sink: &'a mut dyn EventSink,
    ) -> LocalFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            let base = self.endpoint.base.clone();
            let mut client = Client::new(self.endpoint, self.timeout)?;
            let mut mapper = Mapper::new(SourceKind::Elasticsearch);
            let s = self.search;
            let window = ctx.anchor();
            // Before the window, the store counts and samples; one that cannot still gives the window.
            if let Some(span) = before_span(ctx) {
                match elastic::read_before(&mut client, &s, &span, &mut |_| Ok(())).await {
                    Ok(b) => emit_elastic_before(&base, &s, &b, ctx, sink)?,
                    Err(e) => before_failed(&e, sink),
                }
            }
            let read = {
                let mut on_hit = |h: &elastic::Hit| mapper.emit(elastic_record(&base, h), ctx, &mut *sink);
                elastic::read(&mut client, &s, &window, &mut |_| Ok(()), &mut on_hit).await
            };
            let meta = read?;
            elastic_notes(&s, &meta, sink);
            retry_note(client.retries, sink);
            Ok(())
        })
    }
}

/// Says that what came before the window could not be counted or sampled.
fn before_failed(e: &CollectError, sink: &mut dyn EventSink) {
    sink.diagnostic(Diagnostic {
        locator: None,
        message: format!(
            "before the window, the store could not count or sample its lines ({e}): the findings' baseline and \
             suspects come from the other sources"
        ),
    });
}

/// Says that the store was not read before the window, when the findings
/// read the other sources there (the baseline, the lookback's changes).
fn before_note(ctx: &CollectContext, sink: &mut dyn EventSink) {
    if ctx.anchor.is_some_and(|a| a.since > ctx.window.since) {
        sink.note(
            "read for the window only, not for the baseline and the lookback before it: the findings' baseline \
             and suspects come from the other sources"
                .to_string(),
        );
    }
}

/// Writes a live read's pages, each through `edit` (capture masks secrets
/// there), as the saved form [`StoreSaved`] reads.
pub async fn save_loki(
    endpoint: Endpoint,
    q: &loki::Query,
    before: Option<TimeWindow>,
    window: &TimeWindow,
    timeout: Duration,
    out: &mut dyn Write,
    edit: &mut dyn FnMut(&mut Value),
) -> Result<(), CollectError> {
    let base = endpoint.base.clone();
    let mut client = Client::new(endpoint, timeout)?;
    let q = loki::plan(&mut client, q, window).await?;
    let chosen = match &q.chosen {
        Some(loki::Chosen::Label { label, labels }) => json!({"label": label, "labels": labels}),
        Some(loki::Chosen::NoStreams) => json!({"labels": []}),
        Some(loki::Chosen::Unlisted(status)) => json!({"unlisted": status}),
        None => Value::Null,
    };
    let header =
        json!({"store": "loki", "base": base, "query": q.logql, "limit": q.limit, "org": q.org, "chosen": chosen});
    writeln!(out, "{header}")?;
    let mut on_page = |p: &Value| save_page(p, out, edit);
    // What came before the window first, as a read emits it first.
    if let Some(span) = before {
        // Saved as a failure, which the bundle's reader states as a live read would.
        if let Err(e) = loki::read_before(&mut client, &q, &span, &mut on_page).await {
            on_page(&json!({"before": "failed", "error": e.to_string()}))?;
        }
    }
    loki::read(&mut client, &q, window, &mut on_page, &mut |_| Ok(())).await.map(|_| ())
}

/// Like [`save_loki`], for Elasticsearch/OpenSearch.
pub async fn save_elastic(
    endpoint: Endpoint,
    s: &elastic::Search,
    before: Option<TimeWindow>,
    window: &TimeWindow,
    timeout: Duration,
    out: &mut dyn Write,
    edit: &mut dyn FnMut(&mut Value),
) -> Result<(), CollectError> {
    let header = json!({"store": "elasticsearch", "base": endpoint.base, "index": s.index,
        "time_field": s.time_field, "query": s.query, "page": s.page});
    writeln!(out, "{header}")?;
    let mut client = Client::new(endpoint, timeout)?;
    let mut on_page = |p: &Value| save_page(p, out, edit);
    if let Some(span) = before {
        if let Err(e) = elastic::read_before(&mut client, s, &span, &mut on_page).await {
            on_page(&json!({"before": "failed", "error": e.to_string()}))?;
        }
    }
    elastic::read(&mut client, s, window, &mut on_page, &mut |_| Ok(())).await.map(|_| ())
}

fn save_page(p: &Value, out: &mut dyn Write, edit: &mut dyn FnMut(&mut Value)) -> Result<(), String> {
    let mut p = p.clone();
    edit(&mut p);
    writeln!(out, "{p}").map_err(|e| format!("cannot write the saved page: {e}"))
}

/// The kind of store a saved file holds, from its header line.
pub fn saved_kind(first_line: &str) -> Option<SourceKind> {
    let v: Value = serde_json::from_str(first_line).ok()?;
    match v.get("store")?.as_str()? {
        "loki" => Some(SourceKind::Loki),
        "elasticsearch" => Some(SourceKind::Elasticsearch),
        _ => None,
    }
}

impl Collector for StoreSaved {
    fn source(&self) -> SourceId {
        SourceId { collector: self.kind, name: self.display.clone() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let f = std::fs::File::open(&self.file).map_err(|e| format!("cannot open {}: {e}", self.display))?;
        read_saved(std::io::BufReader::new(f), &self.display, self.kind, ctx, sink)
    }
}

/// Reads a saved store file (`display` names it in evidence and messages).
pub fn read_saved(
    r: impl BufRead,
    display: &str,
    kind: SourceKind,
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<(), CollectError> {
    {
        let mut lines = r.split(b'\n');
        let path: Arc<str> = Arc::from(display);
        let bad = |line: u64, message: String| Diagnostic {
            locator: Some(Locator::Line { path: path.clone(), line }),
            message,
        };
        let header: Value = match lines.next() {
            Some(Ok(l)) => {
                serde_json::from_slice(&l).map_err(|e| format!("{}:1: not a saved store header: {e}", display))?
            }
            Some(Err(e)) => return Err(format!("cannot read {}: {e}", display).into()),
            None => return Err(format!("{} is empty", display).into()),
        };
        let text = |k: &str| header.get(k).and_then(Value::as_str).map(str::to_string);
        let base = text("base").unwrap_or_default();
        let mut mapper = Mapper::new(kind);
        let pages = lines.enumerate().map(|(i, l)| (u64::try_from(i).unwrap_or(u64::MAX).saturating_add(2), l));
        match kind {
            SourceKind::Loki => {
                let limit = header.get("limit").and_then(Value::as_u64).and_then(|l| u32::try_from(l).ok());
                let q = loki::Plan {
                    logql: text("query").unwrap_or_default(),
                    limit: limit.unwrap_or(loki::DEFAULT_LIMIT),
                    org: text("org"),
                    chosen: header.get("chosen").and_then(saved_choice),
                };
                let mut pager = loki::Pager::new(q.limit);
                // What came before the window leads the file; it is emitted
                // whole before the window's first page.
                let mut pending: Option<before::Before<loki::Line>> = None;
                let mut before_read = false;
                for (n, l) in pages {
                    let l = l.map_err(|e| format!("cannot read {display}: {e}"))?;
                    let v = serde_json::from_slice::<Value>(&l).map_err(|e| e.to_string());
                    if let Some(v) = v.as_ref().ok().filter(|v| v.get("before").is_some()) {
                        before_read = true;
                        if v.get("before").and_then(Value::as_str) == Some("failed") {
                            let e = v.get("error").and_then(Value::as_str).unwrap_or_default();
                            if before_span(ctx).is_some() {
                                before_failed(&CollectError::from(e), sink);
                            }
                            continue;
                        }
                        let b = pending.get_or_insert_with(|| before::Before::new(ctx.window, 60));
                        if let Err(e) = loki::take_before(b, v) {
                            sink.diagnostic(bad(n, format!("not a saved count or sample: {e}")));
                        }
                        continue;
                    }
                    if let Some(b) = pending.take() {
                        emit_loki_before(&base, &q, &b, ctx, sink)?;
                    }
                    let got = v.and_then(|d| loki::page(&d));
                    match got {
                        Ok(page) => {
                            for line in pager.take(page).0 {
                                mapper.emit(loki_record(&base, &q, &line), ctx, sink)?;
                            }
                        }
                        Err(e) => sink.diagnostic(bad(n, format!("not a saved Loki page: {e}"))),
                    }
                }
                if let Some(b) = pending.take() {
                    emit_loki_before(&base, &q, &b, ctx, sink)?;
                }
                loki_notes(&q, &pager, &mapper, 0, sink);
                if !before_read {
                    before_note(ctx, sink);
                }
            }
            _ => {
                let page = header.get("page").and_then(Value::as_u64).and_then(|l| u32::try_from(l).ok());
                let s = elastic::Search {
                    index: text("index").unwrap_or_default(),
                    time_field: text("time_field").unwrap_or_else(|| elastic::DEFAULT_TIME_FIELD.to_string()),
                    query: text("query"),
                    page: page.unwrap_or(elastic::DEFAULT_PAGE),
                };
                let mut hits = elastic::Hits::new(&s.time_field);
                let mut pending: Option<before::Before<elastic::Hit>> = None;
                let mut before_read = false;
                for (n, l) in pages {
                    let l = l.map_err(|e| format!("cannot read {display}: {e}"))?;
                    let v = serde_json::from_slice::<Value>(&l).map_err(|e| e.to_string());
                    if let Some(v) = v.as_ref().ok().filter(|v| v.get("before").is_some()) {
                        before_read = true;
                        if v.get("before").and_then(Value::as_str) == Some("failed") {
                            let e = v.get("error").and_then(Value::as_str).unwrap_or_default();
                            if before_span(ctx).is_some() {
                                before_failed(&CollectError::from(e), sink);
                            }
                            continue;
                        }
                        let b = pending.get_or_insert_with(|| before::Before::new(ctx.window, 60));
                        if let Err(e) = elastic::take_before(b, v, &s.time_field) {
                            sink.diagnostic(bad(n, format!("not saved aggregations: {e}")));
                        }
                        continue;
                    }
                    if let Some(b) = pending.take() {
                        emit_elastic_before(&base, &s, &b, ctx, sink)?;
                    }
                    let got = v.and_then(|a| hits.take(&a));
                    match got {
                        Ok((fresh, _, _)) => {
                            for h in &fresh {
                                mapper.emit(elastic_record(&base, h), ctx, sink)?;
                            }
                        }
                        Err(e) => sink.diagnostic(bad(n, format!("not a saved search answer: {e}"))),
                    }
                }
                let meta = elastic::Meta {
                    view: None,
                    pages: hits.pages,
                    hits: hits.hits,
                    undated: hits.undated,
                    repeated: hits.repeated,
                };
                if let Some(b) = pending.take() {
                    emit_elastic_before(&base, &s, &b, ctx, sink)?;
                }
                elastic_notes(&s, &meta, sink);
                if !before_read {
                    before_note(ctx, sink);
                }
            }
        }
        Ok(())
    }
}
