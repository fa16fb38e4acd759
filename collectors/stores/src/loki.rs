//! Loki: a LogQL query read with `query_range`, forward, a page at a time.
//! Each page starts at the last nanosecond the previous one returned (Loki
//! has no cursor), so the lines already seen at that nanosecond are dropped
//! by their stream and text: nothing is lost or repeated between pages.
//! With no query given, one is chosen from the labels Loki holds for the
//! window, so a store whose streams carry no `job` label is still read.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use reconstruct_core::{CollectError, Stopped, TimeWindow, Timestamp};
use serde_json::Value;

use crate::before::{Before, Named, Tally, SAMPLE};
use crate::http::{Client, HttpError as StoreError, Request};

pub const QUERY_RANGE: &str = "/loki/api/v1/query_range";
pub const LABELS: &str = "/loki/api/v1/labels";
/// The query when none is given and the labels cannot be listed.
pub const FALLBACK_QUERY: &str = "{job=~\".+\"}";
/// Labels that nearly every stream carries, best first: Loki 3 gives every
/// stream `service_name`; Promtail's and Alloy's scrape configs set `job`.
const EVERY_STREAM: [&str; 8] = ["service_name", "job", "namespace", "app", "container", "host", "filename", "unit"];
/// Loki's own default cap on one query's lines (`max_entries_limit_per_query`).
pub const DEFAULT_LIMIT: u32 = 5000;

/// Stream labels, in order.
pub type Labels = BTreeMap<String, String>;

/// What the user asked of Loki.
#[derive(Clone, Debug)]
pub struct Query {
    /// The LogQL log query (`{app="api"} |= "error"`); none: every stream.
    pub logql: Option<String>,
    /// Lines per page.
    pub limit: u32,
    /// The tenant (`X-Scope-OrgID`), shown in evidence commands.
    pub org: Option<String>,
}

impl Query {
    /// The query as a person would name it.
    pub fn shown(&self) -> &str {
        self.logql.as_deref().unwrap_or("(every stream)")
    }
}

/// The query a read runs: the one asked, or one chosen from the labels.
#[derive(Clone, Debug)]
pub struct Plan {
    pub logql: String,
    pub limit: u32,
    pub org: Option<String>,
    /// How the query was chosen, when none was asked.
    pub chosen: Option<Chosen>,
}

/// A query chosen from the window's labels.
#[derive(Clone, Debug, PartialEq)]
pub enum Chosen {
    /// Streams with this label; `labels` are all the window has.
    Label { label: String, labels: Vec<String> },
    /// Loki lists no label for the window: it holds no stream there.
    NoStreams,
    /// The labels could not be listed (HTTP status): the fallback query ran.
    Unlisted(u16),
}

/// The label whose streams a query with none asked reads: the first of the
/// usual every-stream labels Loki has, else the first it lists.
pub fn choose(labels: &[String]) -> Option<&str> {
    let named = |l: &&String| !l.starts_with("__");
    EVERY_STREAM
        .iter()
        .find(|k| labels.iter().any(|l| l == *k))
        .copied()
        .or_else(|| labels.iter().find(named).map(String::as_str))
}

/// The selector that matches every stream carrying `label`.
pub fn label_query(label: &str) -> String {
    format!("{{{label}=~\".+\"}}")
}

/// Settles what to run: the query asked, or, with none, one from the labels
/// Loki holds for the window (`/loki/api/v1/labels`).
pub async fn plan(client: &mut Client, q: &Query, window: &TimeWindow) -> Result<Plan, CollectError> {
    let plan = |logql: String, chosen| Plan { logql, limit: q.limit, org: q.org.clone(), chosen };
    if let Some(logql) = &q.logql {
        return Ok(plan(logql.clone(), None));
    }
    let bounds = [
        ("start", window.since.unix_nanos().to_string()),
        ("end", window.until.unix_nanos().saturating_add(1).to_string()),
    ];
    let answer = match client.json(&Request::get(LABELS, &bounds)).await {
        Ok(a) => a,
        // A proxy or an old Loki without the labels API: the usual label.
        Err(e) => match e.status() {
            Some(status @ (400 | 404 | 405 | 501)) => {
                return Ok(plan(FALLBACK_QUERY.to_string(), Some(Chosen::Unlisted(status))))
            }
            _ => return Err(e.into()),
        },
    };
    // Loki leaves `data` out when the window has no label.
    let data = match envelope(&answer) {
        Ok(d) => d,
        Err(_) if answer.get("status").and_then(Value::as_str) == Some("success") => &Value::Null,
        Err(e) => return Err(format!("{}: {LABELS}: {e}", client.endpoint().shown()).into()),
    };
    let labels: Vec<String> = match data {
        Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Value::Null => Vec::new(),
        other => return Err(format!("{}: {LABELS}: not a list of labels: {other}", client.endpoint().shown()).into()),
    };
    Ok(match choose(&labels) {
        Some(label) => {
            let logql = label_query(label);
            plan(logql, Some(Chosen::Label { label: label.to_string(), labels }))
        }
        None => plan(FALLBACK_QUERY.to_string(), Some(Chosen::NoStreams)),
    })
}

/// One log line and its stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub ns: i64,
    pub labels: Arc<Labels>,
    pub text: String,
}

/// The lines of one `query_range` answer's `data`, in time order.
pub fn page(data: &Value) -> Result<Vec<Line>, String> {
    match data.get("resultType").and_then(Value::as_str) {
        Some("streams") => {}
        Some(other) => return Err(format!("resultType {other:?}: give a log query, not a metric query")),
        None => return Err("no resultType".to_string()),
    }
    let mut out = Vec::new();
    for s in data.get("result").and_then(Value::as_array).ok_or("no result list")? {
        let labels: Labels = s
            .get("stream")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        let labels = Arc::new(labels);
        for v in s.get("values").and_then(Value::as_array).ok_or("a stream without values")? {
            // [ "<ns>", "<line>" ] or, with structured metadata, a third member.
            let ns = v.get(0).and_then(Value::as_str).and_then(|n| n.parse::<i64>().ok());
            let text = v.get(1).and_then(Value::as_str);
            match (ns, text) {
                (Some(ns), Some(text)) => out.push(Line { ns, labels: labels.clone(), text: text.to_string() }),
                _ => return Err(format!("a value that is not [\"<ns>\", \"<line>\"]: {v}")),
            }
        }
    }
    out.sort_by(|a, b| a.ns.cmp(&b.ns).then_with(|| a.labels.cmp(&b.labels)).then_with(|| a.text.cmp(&b.text)));
    Ok(out)
}

/// Where the next page starts, and what was already seen there.
#[derive(Debug)]
pub struct Pager {
    limit: u32,
    /// The last nanosecond returned so far; the next page starts there.
    boundary: Option<i64>,
    seen: HashSet<(Arc<Labels>, String)>,
    pub pages: u64,
    /// Nanoseconds holding more lines than one page: the lines past the
    /// page's limit there cannot be asked for, and are said to be missing.
    pub crowded: Vec<i64>,
    /// The server's own cap on a page, when it refused the limit asked.
    pub capped: Option<u32>,
}

impl Pager {
    pub fn new(limit: u32) -> Self {
        Pager { limit: limit.max(1), boundary: None, seen: HashSet::new(), pages: 0, crowded: Vec::new(), capped: None }
    }

    /// Lines a page asks for.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Lowers the page to the server's cap.
    pub fn cap(&mut self, cap: u32) {
        self.limit = cap.max(1);
        self.capped = Some(self.limit);
    }

    /// The start of the next page, in nanoseconds.
    pub fn start(&self, since: i64) -> i64 {
        self.boundary.map_or(since, |b| b.max(since))
    }

    /// The lines of a page not seen before, in order, and whether another
    /// page is needed.
    pub fn take(&mut self, lines: Vec<Line>) -> (Vec<Line>, bool) {
        self.pages = self.pages.saturating_add(1);
        let full = lines.len() >= self.limit as usize;
        let boundary = self.boundary;
        let fresh: Vec<Line> = lines
            .into_iter()
            .filter(|l| Some(l.ns) != boundary || !self.seen.contains(&(l.labels.clone(), l.text.clone())))
            .collect();
        let Some(last) = fresh.last().map(|l| l.ns) else {
            if full {
                // A whole page at the boundary, all seen: step past it.
                if let Some(b) = boundary {
                    self.crowded.push(b);
                    self.boundary = Some(b.saturating_add(1));
                    self.seen.clear();
                    return (fresh, true);
                }
            }
            return (fresh, false);
        };
        if Some(last) != boundary {
            self.seen.clear();
            self.boundary = Some(last);
        }
        for l in fresh.iter().filter(|l| l.ns == last) {
            self.seen.insert((l.labels.clone(), l.text.clone()));
        }
        (fresh, full)
    }
}

/// Reads the window page by page: each page's `data` goes to `on_page`
/// (capture saves it), each new line to `on_line`.
pub async fn read(
    client: &mut Client,
    q: &Plan,
    window: &TimeWindow,
    on_page: &mut dyn FnMut(&Value) -> Result<(), String>,
    on_line: &mut dyn FnMut(&Line) -> Result<(), Stopped>,
) -> Result<Pager, CollectError> {
    let mut pager = Pager::new(q.limit);
    if q.chosen == Some(Chosen::NoStreams) {
        return Ok(pager);
    }
    let since = window.since.unix_nanos();
    // Loki's end is exclusive; the window's is not.
    let end = window.until.unix_nanos().saturating_add(1);
    loop {
        let start = pager.start(since);
        if start >= end {
            return Ok(pager);
        }
        let query = [
            ("query", q.logql.clone()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("limit", pager.limit().to_string()),
            ("direction", "forward".to_string()),
        ];
        let answer = match client.json(&Request::get(QUERY_RANGE, &query)).await {
            Ok(a) => a,
            // A page larger than the server allows: ask again at its cap.
            Err(StoreError::Http { status: 400, body, .. })
                if entries_cap(&body).is_some_and(|cap| cap > 0 && cap < pager.limit()) =>
            {
                pager.cap(entries_cap(&body).unwrap_or(1));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let data = envelope(&answer).map_err(|e| format!("{}: {QUERY_RANGE}: {e}", client.endpoint().shown()))?;
        on_page(data)?;
        let lines = page(data).map_err(|e| format!("{}: {QUERY_RANGE}: {e}", client.endpoint().shown()))?;
        let (fresh, more) = pager.take(lines);
        for l in &fresh {
            on_line(l)?;
        }
        if !more {
            return Ok(pager);
        }
    }
}

/// The server's cap on a page, from Loki's refusal of a larger one:
/// `max entries limit per query exceeded, limit > max_entries_limit_per_query (10000 > 5000)`.
pub fn entries_cap(body: &str) -> Option<u32> {
    if !body.contains("max entries limit") {
        return None;
    }
    let inner = body.rsplit_once('(')?.1.split_once(')')?.0;
    inner.split_once('>')?.1.trim().parse().ok()
}

/// The `data` of a `{"status": "success", "data": …}` answer.
pub fn envelope(answer: &Value) -> Result<&Value, String> {
    match answer.get("status").and_then(Value::as_str) {
        Some("success") => answer.get("data").ok_or_else(|| "no data".to_string()),
        Some(s) => Err(format!("status {s:?}: {}", answer.get("error").and_then(Value::as_str).unwrap_or_default())),
        None => Err("not a query answer (no status)".to_string()),
    }
}

/// The labels that name a stream, the best first; those before `host` name a service.
const NAMING: [&str; 9] =
    ["service_name", "app", "app_kubernetes_io_name", "container", "service", "job", "unit", "host", "filename"];

/// The component a stream speaks for: the first naming label it has.
pub fn component(labels: &Labels) -> &str {
    NAMING.iter().find_map(|k| labels.get(*k).map(String::as_str)).filter(|v| !v.is_empty()).unwrap_or("loki")
}

/// The service a stream belongs to, when a label names one (a host or a
/// file name does not).
pub fn service(labels: &Labels) -> Option<&str> {
    NAMING.iter().take(7).find_map(|k| labels.get(*k).map(String::as_str)).filter(|v| !v.is_empty())
}

/// The level a stream's labels state, if any.
pub fn level(labels: &Labels) -> Option<&str> {
    ["level", "detected_level", "severity", "lvl"].iter().find_map(|k| labels.get(*k).map(String::as_str))
}

/// The stream as a LogQL selector a person can paste.
pub fn selector(labels: &Labels) -> String {
    let parts: Vec<String> =
        labels.iter().map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))).collect();
    format!("{{{}}}", parts.join(", "))
}

/// The logcli command that prints this one line again (Grafana Explore takes
/// the same selector and instant).
pub fn evidence(base: &str, org: Option<&str>, l: &Line) -> String {
    let at = Timestamp::from_unix_nanos(l.ns);
    let next = Timestamp::from_unix_nanos(l.ns.saturating_add(1));
    let org = org.map(|o| format!(" --org-id={}", quote(o))).unwrap_or_default();
    format!(
        "logcli query --addr={}{org} --from={} --to={} --forward {}",
        quote(base),
        rfc3339_nanos(at),
        rfc3339_nanos(next),
        quote(&selector(&l.labels))
    )
}

fn rfc3339_nanos(t: Timestamp) -> String {
    t.to_datetime().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

use reconstruct_core::text::shell_quote as quote;

/// The first seven naming labels: those that name a service.
const SERVICE_LABELS: usize = 7;

/// The metric query that counts a log query's lines per service in steps
/// of `step_s` seconds: Loki does the counting, over however many lines.
/// Summed by `by`, the one service label the span's streams carry, so the
/// series are the services (Loki refuses more than `max_query_series`,
/// 500 by default); by every service label where the labels are unknown.
pub fn tally_query(logql: &str, step_s: i64, by: Option<&str>) -> String {
    let all: Vec<&str> = NAMING.iter().take(SERVICE_LABELS).copied().collect();
    let by = by.map_or_else(|| all.join(", "), str::to_string);
    format!("sum by ({by}) (count_over_time({logql} [{step_s}s]))")
}

/// The service label to count by: the first naming label among those Loki
/// lists for the span.
pub fn service_label(labels: &[String]) -> Option<&'static str> {
    NAMING.iter().take(SERVICE_LABELS).copied().find(|k| labels.iter().any(|l| l == k))
}

/// The counts of a [`tally_query`]'s `data` (a matrix: a series per
/// service, a point per step, each counting the step before it).
pub fn tallies(data: &Value, step_s: i64) -> Result<Vec<Tally>, String> {
    match data.get("resultType").and_then(Value::as_str) {
        Some("matrix") => {}
        Some(other) => return Err(format!("resultType {other:?}, not the matrix of a count")),
        None => return Err("no resultType".to_string()),
    }
    let seconds = u32::try_from(step_s).unwrap_or(u32::MAX);
    let mut out = Vec::new();
    for s in data.get("result").and_then(Value::as_array).ok_or("no result list")? {
        let metric = s.get("metric").and_then(Value::as_object);
        let service = NAMING.iter().take(SERVICE_LABELS).find_map(|k| {
            let v = metric.and_then(|m| m.get(*k)).and_then(Value::as_str).filter(|v| !v.is_empty())?;
            Some(Named { field: (*k).to_string(), value: v.to_string() })
        });
        for v in s.get("values").and_then(Value::as_array).ok_or("a series without values")? {
            let at = v.get(0).and_then(|t| t.as_i64().or_else(|| t.as_f64().map(|f| f.floor() as i64)));
            let n = v.get(1).and_then(Value::as_str).and_then(|n| n.parse::<f64>().ok());
            let (Some(at), Some(n)) = (at, n) else {
                return Err(format!("a point that is not [<seconds>, \"<count>\"]: {v}"));
            };
            let start = Timestamp::from_unix_seconds(at.saturating_sub(step_s), 0)
                .ok_or_else(|| format!("a point out of range: {v}"))?;
            let lines = if n.is_finite() && n > 0.0 { n.round() as u64 } else { 0 };
            out.push(Tally { start, seconds, service: service.clone(), lines });
        }
    }
    Ok(crate::before::sum(out))
}

/// `logql` with one more label matcher in its stream selector (the first
/// `{…}`, outside quotes); `None` when it has no selector.
pub fn with_matcher(logql: &str, label: &str, value: &str) -> Option<String> {
    let open = logql.find('{')?;
    let rest = logql.get(open + 1..)?;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut close = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some('"'), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '`') => quote = Some(c),
            (None, '}') => {
                close = Some(i);
                break;
            }
            (None, _) => {}
        }
    }
    let close = close?;
    let inner = rest.get(..close)?.trim();
    let matcher = format!("{label}=\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""));
    let selector = if inner.is_empty() { matcher } else { format!("{inner}, {matcher}") };
    Some(format!("{}{{{selector}}}{}", logql.get(..open)?, rest.get(close + 1..)?))
}

/// Reads what came before the window: the count per service, then the
/// last [`SAMPLE`] lines of each of the busiest services. Each answer goes
/// to `on_answer` as the saved form holds it ([`take_before`] reads it).
pub async fn read_before(
    client: &mut Client,
    q: &Plan,
    span: &TimeWindow,
    on_answer: &mut dyn FnMut(&Value) -> Result<(), String>,
) -> Result<Before<Line>, CollectError> {
    let step = crate::before::step_s(span);
    let mut before = Before::new(*span, step);
    if q.chosen == Some(Chosen::NoStreams) || span.until <= span.since {
        return Ok(before);
    }
    let shown = client.endpoint().shown();
    let since = span.since.unix_nanos();
    // The span's labels say which one names the services; a store that
    // cannot list them is counted by all of them.
    let bounds = [("start", since.to_string()), ("end", span.until.unix_nanos().to_string())];
    let by = match client.json(&Request::get(LABELS, &bounds)).await {
        Ok(a) => envelope(&a)
            .ok()
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).map(str::to_string).collect::<Vec<_>>())
            .and_then(|l| service_label(&l)),
        Err(_) => None,
    };
    // A point counts the step before it: the first is one step in.
    let query = [
        ("query", tally_query(&q.logql, step, by)),
        ("start", since.saturating_add(step.saturating_mul(1_000_000_000)).to_string()),
        ("end", span.until.unix_nanos().to_string()),
        ("step", format!("{step}s")),
    ];
    let answer = client.json(&Request::get(QUERY_RANGE, &query)).await?;
    let data = envelope(&answer).map_err(|e| format!("{shown}: {QUERY_RANGE} (count): {e}"))?;
    let saved = serde_json::json!({"before": "tally", "step": step, "since": span.since.rfc3339(),
        "until": span.until.rfc3339(), "data": data});
    on_answer(&saved)?;
    take_before(&mut before, &saved).map_err(|e| format!("{shown}: {QUERY_RANGE} (count): {e}"))?;
    let (services, left) = crate::before::busiest(&before.tallies);
    before.unsampled = left;
    for s in services {
        let Some(logql) = with_matcher(&q.logql, &s.field, &s.value) else { continue };
        let query = [
            ("query", logql),
            ("start", since.to_string()),
            ("end", span.until.unix_nanos().to_string()),
            ("limit", SAMPLE.to_string()),
            ("direction", "backward".to_string()),
        ];
        let answer = client.json(&Request::get(QUERY_RANGE, &query)).await?;
        let data = envelope(&answer).map_err(|e| format!("{shown}: {QUERY_RANGE} (sample): {e}"))?;
        let saved = serde_json::json!({"before": "sample", "field": s.field, "value": s.value, "data": data});
        on_answer(&saved)?;
        take_before(&mut before, &saved).map_err(|e| format!("{shown}: {QUERY_RANGE} (sample): {e}"))?;
    }
    // The span's changes, whichever service announced them.
    let query = [
        ("query", changes_query(&q.logql)),
        ("start", since.to_string()),
        ("end", span.until.unix_nanos().to_string()),
        ("limit", SAMPLE.to_string()),
        ("direction", "backward".to_string()),
    ];
    let answer = client.json(&Request::get(QUERY_RANGE, &query)).await?;
    let data = envelope(&answer).map_err(|e| format!("{shown}: {QUERY_RANGE} (changes): {e}"))?;
    let saved = serde_json::json!({"before": "changes", "data": data});
    on_answer(&saved)?;
    take_before(&mut before, &saved).map_err(|e| format!("{shown}: {QUERY_RANGE} (changes): {e}"))?;
    Ok(before)
}

/// `logql` narrowed to lines that may announce a change (a case-blind
/// line filter on [`crate::before::CHANGE_WORDS`]).
pub fn changes_query(logql: &str) -> String {
    format!("{logql} |~ `(?i)({})`", crate::before::CHANGE_WORDS.join("|"))
}

/// Takes one answer about the span before the window, live or saved: the
/// count (`{"before": "tally", "step", "data"}`) or a service's sample
/// (`{"before": "sample", "field", "value", "data"}`).
pub fn take_before(before: &mut Before<Line>, saved: &Value) -> Result<(), String> {
    let data = saved.get("data").ok_or("no data")?;
    match saved.get("before").and_then(Value::as_str) {
        Some("tally") => {
            let step = saved.get("step").and_then(Value::as_i64).filter(|s| *s > 0).ok_or("no step")?;
            before.step_s = step;
            let at = |k: &str| {
                let t = saved.get(k).and_then(Value::as_str)?;
                Timestamp::from_datetime(&chrono::DateTime::parse_from_rfc3339(t).ok()?)
            };
            if let (Some(since), Some(until)) = (at("since"), at("until")) {
                before.span = TimeWindow { since, until };
            }
            let mut all = std::mem::take(&mut before.tallies);
            all.extend(tallies(data, step)?);
            before.tallies = crate::before::sum(all);
        }
        Some("changes") => {
            let mut lines = page(data)?;
            lines.truncate(SAMPLE as usize);
            before.changes = lines;
        }
        Some("sample") => {
            let text = |k: &str| saved.get(k).and_then(Value::as_str).map(str::to_string);
            let (Some(field), Some(value)) = (text("field"), text("value")) else {
                return Err("a sample without its service".to_string());
            };
            let mut lines = page(data)?;
            lines.truncate(SAMPLE as usize);
            before.samples.push((Named { field, value }, lines));
        }
        _ => return Err("neither a count nor a sample".to_string()),
    }
    Ok(())
}

/// The logcli command that counts a service's lines in one step again.
pub fn tally_evidence(base: &str, org: Option<&str>, logql: &str, t: &Tally) -> String {
    let org = org.map(|o| format!(" --org-id={}", quote(o))).unwrap_or_default();
    let query = match &t.service {
        Some(s) => with_matcher(logql, &s.field, &s.value).unwrap_or_else(|| logql.to_string()),
        None => logql.to_string(),
    };
    let to = t.start.saturating_add_nanos(i64::from(t.seconds).saturating_mul(1_000_000_000));
    format!(
        "logcli query --addr={}{org} --from={} --to={} {}",
        quote(base),
        rfc3339_nanos(t.start),
        rfc3339_nanos(to),
        quote(&format!("count_over_time({query} [{}s])", t.seconds))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_label_chosen_is_the_usual_every_stream_one_else_the_first_listed() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(choose(&l(&["app", "job", "service_name"])), Some("service_name"));
        assert_eq!(choose(&l(&["app", "namespace"])), Some("namespace"));
        assert_eq!(choose(&l(&["__stream_shard__", "zone", "cluster"])), Some("zone"));
        assert_eq!(choose(&l(&["__stream_shard__"])), None);
        assert_eq!(choose(&[]), None);
        assert_eq!(label_query("service_name"), "{service_name=~\".+\"}");
    }

    fn data(lines: &[(i64, &str, &str)]) -> Value {
        let result: Vec<Value> = lines
            .iter()
            .map(|(ns, app, text)| json!({"stream": {"app": app}, "values": [[ns.to_string(), text]]}))
            .collect();
        json!({"resultType": "streams", "result": result})
    }

    #[test]
    fn equal_nanoseconds_across_pages_are_neither_lost_nor_repeated() {
        // Three lines share ns 20; the page limit of 3 cuts between them.
        let mut p = Pager::new(3);
        let (a, more) = p.take(page(&data(&[(10, "a", "one"), (20, "a", "two"), (20, "b", "three")])).unwrap());
        assert_eq!(a.len(), 3);
        assert!(more);
        assert_eq!(p.start(0), 20);
        // Loki answers again from 20: the two seen there come back.
        let (b, more) = p.take(page(&data(&[(20, "a", "two"), (20, "b", "three"), (20, "c", "four")])).unwrap());
        assert_eq!(b.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["four"]);
        assert!(more);
        let (c, more) = p.take(page(&data(&[(20, "a", "two"), (20, "b", "three"), (20, "c", "four")])).unwrap());
        // A full page of seen lines at one instant: step past it and say so.
        assert!(c.is_empty() && more);
        assert_eq!(p.crowded, [20]);
        assert_eq!(p.start(0), 21);
        let (d, more) = p.take(page(&data(&[(30, "a", "five")])).unwrap());
        assert_eq!(d.len(), 1);
        assert!(!more);
    }

    #[test]
    fn metric_answers_and_bad_values_are_named() {
        assert!(page(&json!({"resultType": "matrix", "result": []})).unwrap_err().contains("metric query"));
        let bad = json!({"resultType": "streams", "result": [{"stream": {}, "values": [[1, "x"]]}]});
        assert!(page(&bad).unwrap_err().contains("not [\"<ns>\""));
    }

    #[test]
    fn evidence_is_a_command_for_one_line() {
        let mut labels = Labels::new();
        labels.insert("app".into(), "api".into());
        labels.insert("msg".into(), "it's \"x\"".into());
        let l = Line { ns: 1_766_757_780_123_456_789, labels: Arc::new(labels), text: String::new() };
        let e = evidence("http://loki:3100", Some("team-a"), &l);
        assert_eq!(
            e,
            "logcli query --addr=http://loki:3100 --org-id=team-a --from=2025-12-26T14:03:00.123456789Z \
             --to=2025-12-26T14:03:00.123456790Z --forward '{app=\"api\", msg=\"it'\\''s \\\"x\\\"\"}'"
        );
    }
}
