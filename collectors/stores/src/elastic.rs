//! Elasticsearch and OpenSearch: a range query on the time field, sorted,
//! read page after page with `search_after` inside a point in time, so a
//! window of more than 10,000 hits is read whole and in one consistent view.
//! Elasticsearch opens a point in time with `POST /{index}/_pit`, OpenSearch
//! with `POST /{index}/_search/point_in_time`; a store with neither is read
//! with `search_after` alone, and coverage says so.

use std::collections::HashSet;

use reconstruct_core::timestamp::{epoch_from_number, parse_iso};
use reconstruct_core::{CollectError, Stopped, TimeWindow, Timestamp, Zone};
use serde_json::{json, Value};

use crate::before::{Before, Named, Tally};
use crate::http::{Client, HttpError as StoreError, Request};

pub const DEFAULT_TIME_FIELD: &str = "@timestamp";
pub const DEFAULT_PAGE: u32 = 1000;
const KEEP_ALIVE: &str = "2m";

/// What to search.
#[derive(Clone, Debug)]
pub struct Search {
    /// An index, alias, data stream or pattern (`logs-*`).
    pub index: String,
    pub time_field: String,
    /// A `query_string` query that narrows the hits (`service.name:api`).
    pub query: Option<String>,
    pub page: u32,
}

/// How the pages were held together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Elasticsearch's point in time (7.10 and later).
    Elasticsearch,
    /// OpenSearch's point in time (2.4 and later).
    OpenSearch,
    /// No point in time: `search_after` on a live index.
    Live,
}

/// One hit, as the fields reconstruct reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub time: Timestamp,
    pub index: String,
    pub id: String,
    pub message: String,
    pub level: Option<String>,
    pub component: String,
    /// The service it belongs to: its service or app name, else its container's.
    pub service: Option<String>,
    /// The host and container, where the document names them.
    pub context: String,
}

/// What a read learned beside its hits.
#[derive(Debug, Default)]
pub struct Meta {
    pub view: Option<View>,
    pub pages: u64,
    pub hits: u64,
    /// Hits without a readable time field.
    pub undated: u64,
    /// Hits returned twice (a live view shifting under `search_after`).
    pub repeated: u64,
}

/// The body of one search: the window as a range on the time field, sorted
/// by it with a tiebreaker, after the previous page's last sort values.
pub fn body(s: &Search, window: &TimeWindow, view: View, pit: Option<&str>, after: Option<&Value>) -> Value {
    let fmt = "strict_date_optional_time_nanos";
    let mut filter = vec![json!({"range": {&s.time_field: {
        "gte": rfc3339_nanos(window.since),
        "lte": rfc3339_nanos(window.until),
        "format": fmt,
    }}})];
    if let Some(q) = &s.query {
        filter.push(json!({"query_string": {"query": q}}));
    }
    let tiebreak = match view {
        View::Elasticsearch => json!({"_shard_doc": "asc"}),
        View::OpenSearch | View::Live => json!({"_id": "asc"}),
    };
    let mut b = serde_json::Map::new();
    b.insert("size".into(), json!(s.page));
    b.insert("query".into(), json!({"bool": {"filter": filter}}));
    b.insert("sort".into(), json!([{&s.time_field: {"order": "asc", "format": fmt}}, tiebreak]));
    b.insert("track_total_hits".into(), json!(false));
    if let Some(id) = pit {
        b.insert("pit".into(), json!({"id": id, "keep_alive": KEEP_ALIVE}));
    }
    if let Some(a) = after {
        b.insert("search_after".into(), a.clone());
    }
    Value::Object(b)
}

/// Opens a point in time: Elasticsearch's, else OpenSearch's, else none.
async fn open(client: &mut Client, index: &str) -> Result<(View, Option<String>), StoreError> {
    let es = format!("/{index}/_pit?keep_alive={KEEP_ALIVE}");
    match client.json(&Request::post_empty(&es)).await {
        Ok(v) => {
            if let Some(id) = v.get("id").and_then(Value::as_str) {
                return Ok((View::Elasticsearch, Some(id.to_string())));
            }
        }
        Err(e) if matches!(e.status(), Some(400 | 404 | 405)) => {}
        Err(e) => return Err(e),
    }
    let os = format!("/{index}/_search/point_in_time?keep_alive={KEEP_ALIVE}");
    match client.json(&Request::post_empty(&os)).await {
        Ok(v) => {
            if let Some(id) = v.get("pit_id").and_then(Value::as_str) {
                return Ok((View::OpenSearch, Some(id.to_string())));
            }
            Ok((View::Live, None))
        }
        Err(e) if matches!(e.status(), Some(400 | 404 | 405)) => Ok((View::Live, None)),
        Err(e) => Err(e),
    }
}

/// Reads the window page by page: each answer goes to `on_page` (capture
/// saves it), each hit to `on_hit`.
pub async fn read(
    client: &mut Client,
    s: &Search,
    window: &TimeWindow,
    on_page: &mut dyn FnMut(&Value) -> Result<(), String>,
    on_hit: &mut dyn FnMut(&Hit) -> Result<(), Stopped>,
) -> Result<Meta, CollectError> {
    let (view, mut pit) = open(client, &s.index).await?;
    let mut meta = Meta { view: Some(view), ..Meta::default() };
    let result = pages(client, s, window, view, &mut pit, &mut meta, on_page, on_hit).await;
    // The point in time is closed whatever happened; a failure to close it
    // only costs the store memory until its keep-alive ends.
    if let Some(id) = pit {
        let (path, body) = match view {
            View::OpenSearch => ("/_search/point_in_time", json!({"pit_id": [id]})),
            _ => ("/_pit", json!({"id": id})),
        };
        let _ = client.json(&Request { method: reqwest::Method::DELETE, path, query: &[], body: Some(&body) }).await;
    }
    result.map(|()| meta)
}

#[allow(clippy::too_many_arguments)]
async fn pages(
    client: &mut Client,
    s: &Search,
    window: &TimeWindow,
    view: View,
    pit: &mut Option<String>,
    meta: &mut Meta,
    on_page: &mut dyn FnMut(&Value) -> Result<(), String>,
    on_hit: &mut dyn FnMut(&Hit) -> Result<(), Stopped>,
) -> Result<(), CollectError> {
    let path = match pit {
        Some(_) => "/_search".to_string(),
        None => format!("/{}/_search", s.index),
    };
    let mut hits = Hits::new(&s.time_field);
    let mut after: Option<Value> = None;
    loop {
        let b = body(s, window, view, pit.as_deref(), after.as_ref());
        let answer = client.json(&Request::post(&path, &b)).await?;
        on_page(&answer)?;
        if let Some(id) = answer.get("pit_id").and_then(Value::as_str) {
            *pit = Some(id.to_string());
        }
        let shown = client.endpoint().shown();
        let (fresh, last, n) = hits.take(&answer).map_err(|e| format!("{shown}: {path}: {e}"))?;
        for h in &fresh {
            on_hit(h)?;
        }
        if n < s.page as usize || n == 0 {
            meta.absorb(&hits);
            return Ok(());
        }
        match last {
            Some(l) => after = Some(l),
            None => return Err(format!("{shown}: {path}: a full page whose last hit has no sort values").into()),
        }
        meta.absorb(&hits);
    }
}

impl Meta {
    fn absorb(&mut self, h: &Hits) {
        self.pages = h.pages;
        self.hits = h.hits;
        self.undated = h.undated;
        self.repeated = h.repeated;
    }
}

/// The hits of successive pages, each handed on once: live and saved
/// answers take this same path.
pub struct Hits {
    time_field: String,
    /// Ids already handed on at the last hit's time: a live view can return them again.
    seen: HashSet<(String, String)>,
    seen_at: Option<Timestamp>,
    pub pages: u64,
    pub hits: u64,
    pub undated: u64,
    pub repeated: u64,
}

impl Hits {
    pub fn new(time_field: &str) -> Self {
        Hits {
            time_field: time_field.to_string(),
            seen: HashSet::new(),
            seen_at: None,
            pages: 0,
            hits: 0,
            undated: 0,
            repeated: 0,
        }
    }

    /// One answer's new hits, its last sort values, and how many hits it held.
    #[allow(clippy::type_complexity)]
    pub fn take(&mut self, answer: &Value) -> Result<(Vec<Hit>, Option<Value>, usize), String> {
        let all = page(answer, &self.time_field)?;
        self.pages = self.pages.saturating_add(1);
        let n = all.len();
        let mut last = None;
        let mut fresh = Vec::new();
        for (hit, sort) in all {
            last = sort;
            let Some(h) = hit else {
                self.undated = self.undated.saturating_add(1);
                continue;
            };
            if self.seen_at != Some(h.time) {
                self.seen.clear();
                self.seen_at = Some(h.time);
            }
            if !self.seen.insert((h.index.clone(), h.id.clone())) {
                self.repeated = self.repeated.saturating_add(1);
                continue;
            }
            self.hits = self.hits.saturating_add(1);
            fresh.push(h);
        }
        Ok((fresh, last, n))
    }
}

/// A hit (if its time could be read) and its sort values.
pub type Sorted = (Option<Hit>, Option<Value>);

/// The hits of one search answer, with their sort values; a hit whose time
/// field cannot be read is `None`.
pub fn page(answer: &Value, time_field: &str) -> Result<Vec<Sorted>, String> {
    if let Some(e) = answer.get("error") {
        return Err(format!("error: {e}"));
    }
    let hits = answer
        .get("hits")
        .and_then(|h| h.get("hits"))
        .and_then(Value::as_array)
        .ok_or("not a search answer (no hits.hits)")?;
    if answer.get("timed_out").and_then(Value::as_bool) == Some(true) {
        return Err("the search timed out on the server: its page may be incomplete".to_string());
    }
    Ok(hits.iter().map(|h| (hit(h, time_field), h.get("sort").cloned())).collect())
}

fn hit(h: &Value, time_field: &str) -> Option<Hit> {
    let src = h.get("_source").unwrap_or(&Value::Null);
    let time = match field(src, time_field)? {
        // An `epoch_millis` field comes back as the string it was indexed as.
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            epoch_from_number(s.parse().ok()?)?
        }
        Value::String(s) => parse_iso(s.as_bytes(), &Zone::Utc).map(|p| p.time)?,
        Value::Number(n) => epoch_from_number(n.as_f64()?)?,
        _ => return None,
    };
    let text = |keys: &[&str]| keys.iter().find_map(|k| field(src, k).and_then(Value::as_str)).map(str::to_string);
    let message = text(&["message", "msg", "log", "event.original"]).unwrap_or_else(|| src.to_string());
    // ECS and Filebeat's names first, then Fluent Bit's and Fluentd's
    // Kubernetes metadata (`kubernetes.container_name`, `kubernetes.host`).
    let host = text(&["host.name", "host.hostname", "agent.hostname", "kubernetes.host", "hostname"]);
    let container = text(&["container.name", "kubernetes.container.name", "kubernetes.container_name"]);
    let pod = text(&["kubernetes.pod.name", "kubernetes.pod_name"]);
    let service = text(&[
        "service.name",
        "kubernetes.labels.app_kubernetes_io/name",
        "kubernetes.labels.app.kubernetes.io/name",
        "kubernetes.labels.app",
        "app",
    ]);
    let service = service.or_else(|| container.clone());
    let component = service.clone().or_else(|| host.clone()).unwrap_or_else(|| "elasticsearch".to_string());
    let context: Vec<String> = [("host", host), ("pod", pod), ("container", container)]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}: {v}")))
        .collect();
    Some(Hit {
        time,
        index: h.get("_index").and_then(Value::as_str).unwrap_or_default().to_string(),
        id: h.get("_id").and_then(Value::as_str).unwrap_or_default().to_string(),
        message,
        level: text(&["log.level", "level", "severity", "log.severity", "severity_text"]),
        component,
        service,
        context: context.join(", "),
    })
}

/// A field by its dotted name: ECS documents nest (`{"log": {"level": …}}`)
/// or keep the dots in the key (`{"log.level": …}`), or mix the two.
pub fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    if let Some(x) = obj.get(name) {
        return Some(x);
    }
    let mut at = name.len();
    while let Some(dot) = name.get(..at).and_then(|n| n.rfind('.')) {
        let (head, tail) = (name.get(..dot)?, name.get(dot + 1..)?);
        if let Some(x) = obj.get(head).and_then(|inner| field(inner, tail)) {
            return Some(x);
        }
        at = dot;
    }
    None
}

/// The request a person runs to see the document again.
pub fn evidence(base: &str, h: &Hit) -> String {
    format!("GET {base}/{}/_doc/{}", h.index, h.id)
}

fn rfc3339_nanos(t: Timestamp) -> String {
    t.to_datetime().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// The fields that name a service, as [`hit`] reads them, the best first.
const SERVICE_FIELDS: [&str; 8] = [
    "service.name",
    "kubernetes.labels.app_kubernetes_io/name",
    "kubernetes.labels.app.kubernetes.io/name",
    "kubernetes.labels.app",
    "app",
    "container.name",
    "kubernetes.container.name",
    "kubernetes.container_name",
];

/// Hits sampled per service: what `top_hits` gives unless the index allows
/// more (`index.max_inner_result_window`).
pub const SAMPLE: u32 = 100;

/// Buckets one search may build, under the store's `search.max_buckets`
/// (65,536 by default) with room to spare.
const MAX_BUCKETS: i64 = 60_000;

/// The step of the count: [`crate::before::step_s`], or longer where a
/// step per service (and one for hits naming none) would pass
/// [`MAX_BUCKETS`]: a day for 100 services is counted in steps of 146 s.
pub fn step_s(span: &TimeWindow) -> i64 {
    let seconds = span.until.unix_seconds().saturating_sub(span.since.unix_seconds()).max(0);
    let groups = i64::try_from(crate::before::MAX_SERVICES).unwrap_or(i64::MAX).saturating_add(1);
    let fit = seconds.saturating_mul(groups).saturating_add(MAX_BUCKETS - 1) / MAX_BUCKETS;
    crate::before::step_s(span).max(fit)
}

/// The first service field the index can aggregate on: the field itself (a
/// keyword), or its `.keyword` sub-field (what dynamic mapping gives a
/// string), from a `_field_caps` answer.
pub fn service_field(caps: &Value) -> Option<String> {
    let fields = caps.get("fields")?.as_object()?;
    let aggregatable = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_object)
            .is_some_and(|types| types.values().any(|t| t.get("aggregatable").and_then(Value::as_bool) == Some(true)))
    };
    SERVICE_FIELDS.iter().find_map(|f| {
        if aggregatable(f) {
            return Some((*f).to_string());
        }
        let k = format!("{f}.keyword");
        aggregatable(&k).then_some(k)
    })
}

/// The search that counts the span's hits per service in steps
/// (`terms` and `date_histogram`), with each service's last hits
/// (`top_hits`), and counts those that name no service: no hit is paged.
pub fn before_body(s: &Search, span: &TimeWindow, field: Option<&str>, step_s: i64) -> Value {
    let fmt = "strict_date_optional_time_nanos";
    let mut filter = vec![json!({"range": {&s.time_field: {
        "gte": rfc3339_nanos(span.since),
        "lt": rfc3339_nanos(span.until),
        "format": fmt,
    }}})];
    if let Some(q) = &s.query {
        filter.push(json!({"query_string": {"query": q}}));
    }
    let steps = json!({"date_histogram": {"field": &s.time_field, "fixed_interval": format!("{step_s}s"),
        "min_doc_count": 1}});
    let aggs = match field {
        Some(f) => json!({
            "services": {"terms": {"field": f, "size": crate::before::MAX_SERVICES},
                "aggs": {"steps": steps, "sample": {"top_hits": {"size": SAMPLE,
                    "sort": [{&s.time_field: {"order": "desc"}}]}}}},
            "nameless": {"missing": {"field": f}, "aggs": {"steps": steps}},
        }),
        None => json!({"nameless": {"filter": {"match_all": {}}, "aggs": {"steps": steps}}}),
    };
    json!({"size": 0, "track_total_hits": false, "query": {"bool": {"filter": filter}}, "aggs": aggs})
}

/// Reads what came before the window in one search of aggregations, after
/// asking which service field the index can aggregate on. The answer goes
/// to `on_answer` as the saved form holds it ([`take_before`] reads it).
pub async fn read_before(
    client: &mut Client,
    s: &Search,
    span: &TimeWindow,
    on_answer: &mut dyn FnMut(&Value) -> Result<(), String>,
) -> Result<Before<Hit>, CollectError> {
    let step = step_s(span);
    let mut before = Before::new(*span, step);
    if span.until <= span.since {
        return Ok(before);
    }
    let fields: Vec<String> = SERVICE_FIELDS.iter().flat_map(|f| [f.to_string(), format!("{f}.keyword")]).collect();
    let caps_path = format!("/{}/_field_caps", s.index);
    let query = [("fields", fields.join(","))];
    let field = match client.json(&Request::get(&caps_path, &query)).await {
        Ok(caps) => service_field(&caps),
        // A store without the API: every hit counted as naming no service.
        Err(e) if matches!(e.status(), Some(400 | 404 | 405)) => None,
        Err(e) => return Err(e.into()),
    };
    let path = format!("/{}/_search", s.index);
    let answer = client.json(&Request::post(&path, &before_body(s, span, field.as_deref(), step))).await?;
    let saved = json!({"before": "aggregations", "field": field, "step": step, "since": span.since.rfc3339(),
        "until": span.until.rfc3339(), "answer": answer});
    on_answer(&saved)?;
    let shown = client.endpoint().shown();
    take_before(&mut before, &saved, &s.time_field).map_err(|e| format!("{shown}: {path} (aggregations): {e}"))?;
    // The span's changes, whichever service announced them.
    let answer = client.json(&Request::post(&path, &changes_body(s, span))).await?;
    let saved = json!({"before": "changes", "answer": answer});
    on_answer(&saved)?;
    take_before(&mut before, &saved, &s.time_field).map_err(|e| format!("{shown}: {path} (changes): {e}"))?;
    Ok(before)
}

/// The search for the span's last hits that may announce a change: any of
/// [`crate::before::CHANGE_WORDS`] in the message, the latest first.
pub fn changes_body(s: &Search, span: &TimeWindow) -> Value {
    let fmt = "strict_date_optional_time_nanos";
    let mut filter = vec![json!({"range": {&s.time_field: {
        "gte": rfc3339_nanos(span.since),
        "lt": rfc3339_nanos(span.until),
        "format": fmt,
    }}})];
    if let Some(q) = &s.query {
        filter.push(json!({"query_string": {"query": q}}));
    }
    let words = json!({"multi_match": {"query": crate::before::CHANGE_WORDS.join(" "),
        "fields": ["message", "msg", "log"], "lenient": true}});
    json!({"size": SAMPLE, "track_total_hits": false, "query": {"bool": {"filter": filter, "must": [words]}},
        "sort": [{&s.time_field: {"order": "desc", "format": fmt}}]})
}

/// Takes the answer about the span before the window, live or saved
/// (`{"before": "aggregations", "field", "step", "since", "until", "answer"}`).
pub fn take_before(before: &mut Before<Hit>, saved: &Value, time_field: &str) -> Result<(), String> {
    if saved.get("before").and_then(Value::as_str) == Some("changes") {
        let answer = saved.get("answer").ok_or("no answer")?;
        let mut hits: Vec<Hit> = page(answer, time_field)?.into_iter().filter_map(|(h, _)| h).collect();
        hits.truncate(SAMPLE as usize);
        before.changes = hits;
        return Ok(());
    }
    let step = saved.get("step").and_then(Value::as_i64).filter(|s| *s > 0).ok_or("no step")?;
    before.step_s = step;
    before.sample = SAMPLE;
    let at = |k: &str| {
        let t = saved.get(k).and_then(Value::as_str)?;
        Timestamp::from_datetime(&chrono::DateTime::parse_from_rfc3339(t).ok()?)
    };
    if let (Some(since), Some(until)) = (at("since"), at("until")) {
        before.span = TimeWindow { since, until };
    }
    let answer = saved.get("answer").ok_or("no answer")?;
    if let Some(e) = answer.get("error") {
        return Err(format!("error: {e}"));
    }
    if answer.get("timed_out").and_then(Value::as_bool) == Some(true) {
        return Err("the search timed out on the server: its counts may be incomplete".to_string());
    }
    let aggs = answer.get("aggregations").ok_or("no aggregations")?;
    let seconds = u32::try_from(step).unwrap_or(u32::MAX);
    let steps = |agg: &Value, service: Option<Named>| -> Vec<Tally> {
        let buckets = agg.pointer("/steps/buckets").and_then(Value::as_array);
        buckets
            .into_iter()
            .flatten()
            .filter_map(|b| {
                let ms = b.get("key").and_then(|k| k.as_i64().or_else(|| k.as_f64().map(|f| f as i64)))?;
                Some(Tally {
                    start: Timestamp::from_unix_nanos(ms.checked_mul(1_000_000)?),
                    seconds,
                    service: service.clone(),
                    lines: b.get("doc_count").and_then(Value::as_u64).unwrap_or(0),
                })
            })
            .collect()
    };
    let mut tallies = Vec::new();
    let field = saved.get("field").and_then(Value::as_str);
    if let (Some(f), Some(buckets)) = (field, aggs.pointer("/services/buckets").and_then(Value::as_array)) {
        for b in buckets {
            let value = match b.get("key") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            let named = Named { field: f.to_string(), value };
            tallies.extend(steps(b, Some(named.clone())));
            let hits = b.pointer("/sample/hits/hits").and_then(Value::as_array);
            let mut sample: Vec<Hit> = hits.into_iter().flatten().filter_map(|h| hit(h, time_field)).collect();
            sample.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
            before.samples.push((named, sample));
        }
        before.uncounted = aggs.pointer("/services/sum_other_doc_count").and_then(Value::as_u64).unwrap_or(0);
    }
    if let Some(n) = aggs.get("nameless") {
        tallies.extend(steps(n, None));
    }
    before.tallies = crate::before::sum(tallies);
    Ok(())
}

/// The count a person runs to check one step's count again.
pub fn tally_evidence(base: &str, s: &Search, t: &Tally) -> String {
    let to = t.start.saturating_add_nanos(i64::from(t.seconds).saturating_mul(1_000_000_000));
    let mut filter = vec![json!({"range": {&s.time_field: {"gte": rfc3339_nanos(t.start), "lt": rfc3339_nanos(to)}}})];
    if let Some(n) = &t.service {
        filter.push(json!({"term": {&n.field: &n.value}}));
    }
    if let Some(q) = &s.query {
        filter.push(json!({"query_string": {"query": q}}));
    }
    format!("POST {base}/{}/_count {}", s.index, json!({"query": {"bool": {"filter": filter}}}))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_day_of_a_hundred_services_is_counted_in_steps_the_store_allows() {
        let day = |h: i64| TimeWindow {
            since: Timestamp::from_unix_seconds(0, 0).unwrap(),
            until: Timestamp::from_unix_seconds(h * 3600, 0).unwrap(),
        };
        assert_eq!(step_s(&day(1)), 60);
        let s = step_s(&day(25));
        let buckets = 25 * 3600 / s * (crate::before::MAX_SERVICES as i64 + 1);
        assert!(buckets <= MAX_BUCKETS && s < 200, "{s} s, {buckets} buckets");
    }
    use super::*;

    #[test]
    fn ecs_fields_nested_dotted_or_mixed() {
        let h = json!({"_index": "logs-1", "_id": "a1", "sort": [1, 2], "_source": {
            "@timestamp": "2025-12-26T14:03:00.123456789Z",
            "log": {"level": "ERROR"},
            "service.name": "api",
            "host": {"name": "web-1"},
            "container": {"name": "api-7f9"},
            "message": "payment failed"
        }});
        let p = page(&json!({"hits": {"hits": [h]}}), "@timestamp").unwrap();
        let (Some(hit), Some(sort)) = &p[0] else { panic!("{p:?}") };
        assert_eq!(sort, &json!([1, 2]));
        assert_eq!(hit.time.unix_nanos(), 1_766_757_780_123_456_789);
        assert_eq!(hit.level.as_deref(), Some("ERROR"));
        assert_eq!(hit.component, "api");
        assert_eq!(hit.context, "host: web-1, container: api-7f9");
        assert_eq!(evidence("http://es:9200", hit), "GET http://es:9200/logs-1/_doc/a1");
    }

    #[test]
    fn epoch_times_as_numbers_or_strings() {
        for t in [json!(1_766_757_780_123u64), json!("1766757780123"), json!("1766757780.123")] {
            let h = json!({"_index": "i", "_id": "e", "_source": {"ts": t, "message": "m"}});
            let p = page(&json!({"hits": {"hits": [h]}}), "ts").unwrap();
            let (Some(hit), _) = &p[0] else { panic!("{t}: {p:?}") };
            assert_eq!(hit.time.unix_nanos(), 1_766_757_780_123_000_000, "{t}");
        }
    }

    #[test]
    fn fluent_bit_kubernetes_metadata_names_the_app_pod_and_container() {
        let h = json!({"_index": "logstash-2025.12.26", "_id": "f1", "sort": [1, 2], "_source": {
            "@timestamp": "2025-12-26T14:03:00Z",
            "log": "ERROR payment failed\n",
            "stream": "stderr",
            "kubernetes": {"pod_name": "api-7f9-x2", "namespace_name": "shop", "container_name": "api",
                "host": "node-3", "labels": {"app.kubernetes.io/name": "payments"}}
        }});
        let p = page(&json!({"hits": {"hits": [h]}}), "@timestamp").unwrap();
        let (Some(hit), _) = &p[0] else { panic!("{p:?}") };
        assert_eq!(hit.component, "payments");
        assert_eq!(hit.message, "ERROR payment failed\n");
        assert_eq!(hit.context, "host: node-3, pod: api-7f9-x2, container: api");
    }

    #[test]
    fn epoch_millis_and_missing_times() {
        let p = page(
            &json!({"hits": {"hits": [
                {"_index": "i", "_id": "1", "_source": {"ts": 1766757780123_i64, "msg": "x"}},
                {"_index": "i", "_id": "2", "_source": {"msg": "no time"}}
            ]}}),
            "ts",
        )
        .unwrap();
        assert_eq!(p[0].0.as_ref().unwrap().time.unix_nanos(), 1_766_757_780_123_000_000);
        assert!(p[1].0.is_none());
    }

    #[test]
    fn the_body_carries_the_window_the_view_and_the_cursor() {
        let w = TimeWindow::new(Timestamp::from_unix_nanos(0), Timestamp::from_unix_nanos(1_000_000_000)).unwrap();
        let s = Search { index: "logs-*".into(), time_field: "ts".into(), query: Some("level:error".into()), page: 5 };
        let b = body(&s, &w, View::Elasticsearch, Some("PIT1"), Some(&json!([7, 9])));
        assert_eq!(b["query"]["bool"]["filter"][0]["range"]["ts"]["gte"], "1970-01-01T00:00:00.000000000Z");
        assert_eq!(b["query"]["bool"]["filter"][0]["range"]["ts"]["lte"], "1970-01-01T00:00:01.000000000Z");
        assert_eq!(b["sort"][1], json!({"_shard_doc": "asc"}));
        assert_eq!(b["pit"]["id"], "PIT1");
        assert_eq!(b["search_after"], json!([7, 9]));
        assert_eq!(b["size"], 5);
    }
}
