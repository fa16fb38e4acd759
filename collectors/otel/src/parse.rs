//! OTLP JSON into events: the protobuf JSON mapping of export requests,
//! with the OTLP rules the file exporter follows (trace and span ids in hex,
//! enums as numbers; 64-bit integers as strings or numbers). Pure: bytes in
//! the caller, values here.

use std::collections::HashMap;
use std::sync::Arc;

use reconstruct_core::{Event, EventKind, Evidence, Fact, Locator, Severity, SourceKind, TimeBasis, Timestamp};
use serde_json::Value;

/// Span kinds, as OTLP numbers them.
const SERVER: i64 = 2;
const CLIENT: i64 = 3;
const PRODUCER: i64 = 4;
const CONSUMER: i64 = 5;
/// `status.code` of a failed span.
const STATUS_ERROR: i64 = 2;

/// What a file gave.
#[derive(Default)]
pub struct Read {
    pub events: Vec<Event>,
    /// (line, what could not be read there)
    pub problems: Vec<(u64, String)>,
    pub records: u64,
    pub spans: u64,
    pub failed: u64,
    pub exceptions: u64,
    pub calls: u64,
}

/// A span as the call graph needs it.
struct Span {
    service: Arc<str>,
    kind: i64,
    parent: String,
    name: String,
    start: Option<Timestamp>,
    locator: String,
}

/// Reads export requests one at a time, and joins spans across them.
pub struct Reader {
    path: Arc<str>,
    read: Read,
    spans: HashMap<(String, String), Span>,
}

/// A 64-bit integer written as a string or a number.
fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// A time in Unix nanoseconds; zero is "unset".
fn nanos(v: Option<&Value>) -> Option<Timestamp> {
    int(v).filter(|n| *n > 0).map(Timestamp::from_unix_nanos)
}

/// An `AnyValue` as text: a string as it is, anything else as compact JSON.
pub fn any_text(v: &Value) -> String {
    if let Some(s) = v.get("stringValue").and_then(Value::as_str) {
        return s.to_string();
    }
    for k in ["intValue", "doubleValue", "boolValue"] {
        if let Some(x) = v.get(k) {
            return match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
        }
    }
    v.to_string()
}

/// The value of attribute `key` in a list of `{key, value}`.
fn attr<'a>(attrs: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    attrs?.as_array()?.iter().find(|a| a.get("key").and_then(Value::as_str) == Some(key))?.get("value")
}

fn attr_text(attrs: Option<&Value>, key: &str) -> Option<String> {
    attr(attrs, key).map(any_text)
}

/// Severity from `severityNumber` (1–24, in steps of four from TRACE to
/// FATAL), else from `severityText`.
pub fn severity(number: Option<i64>, text: Option<&str>) -> Option<Severity> {
    match number {
        Some(1..=8) => Some(Severity::Debug),
        Some(9..=12) => Some(Severity::Info),
        Some(13..=16) => Some(Severity::Warning),
        Some(17..=20) => Some(Severity::Error),
        Some(21..=24) => Some(Severity::Critical),
        _ => text.and_then(|t| reconstruct_core::severity::from_word(t.as_bytes())),
    }
}

fn id(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase()
}

fn clip(s: &str) -> String {
    reconstruct_core::text::clean(s.as_bytes(), 300).text
}

impl Reader {
    pub fn new(path: Arc<str>) -> Self {
        Reader { path, read: Read::default(), spans: HashMap::new() }
    }

    pub fn problem(&mut self, line: u64, message: String) {
        if self.read.problems.len() < 1000 {
            self.read.problems.push((line, message));
        }
    }

    fn locator(&self, line: u64, what: &str, trace: &str, span: &str) -> Locator {
        let mut s = format!("{}:{line} {what}", self.path);
        if !trace.is_empty() {
            s.push_str(&format!(" trace {trace}"));
        }
        if !span.is_empty() {
            s.push_str(&format!(" span {span}"));
        }
        Locator::Text(s)
    }

    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        time: Timestamp,
        service: &Arc<str>,
        kind: EventKind,
        severity: Option<Severity>,
        summary: String,
        locator: Locator,
        excerpt: String,
        fact: Option<Fact>,
    ) {
        self.read.events.push(Event {
            time,
            basis: TimeBasis::Explicit,
            collector: SourceKind::Otel,
            component: service.clone(),
            kind,
            severity,
            summary,
            evidence: Evidence { locator, excerpt },
            continuation_lines: 0,
            service: Some(service.clone()),
            fact: fact.map(Box::new),
        });
    }

    /// One export request: logs, traces, or both.
    pub fn request(&mut self, v: &Value, line: u64) {
        let logs = v.get("resourceLogs").and_then(Value::as_array);
        let spans = v.get("resourceSpans").and_then(Value::as_array);
        if logs.is_none() && spans.is_none() {
            if v.get("resourceMetrics").is_none() {
                self.problem(line, "neither resourceLogs nor resourceSpans".to_string());
            }
            return;
        }
        let mut n = 0usize;
        for rl in logs.into_iter().flatten() {
            let service = service(rl);
            let scopes = rl.get("scopeLogs").and_then(Value::as_array);
            for rec in scopes.into_iter().flatten().filter_map(|s| s.get("logRecords")?.as_array()).flatten() {
                self.record(rec, &service, line, n);
                n += 1;
            }
        }
        let mut n = 0usize;
        for rs in spans.into_iter().flatten() {
            let service = service(rs);
            let scopes = rs.get("scopeSpans").and_then(Value::as_array);
            for span in scopes.into_iter().flatten().filter_map(|s| s.get("spans")?.as_array()).flatten() {
                self.span(span, &service, line, n);
                n += 1;
            }
        }
    }

    fn record(&mut self, rec: &Value, service: &Arc<str>, line: u64, n: usize) {
        self.read.records = self.read.records.saturating_add(1);
        let Some(time) = nanos(rec.get("timeUnixNano")).or_else(|| nanos(rec.get("observedTimeUnixNano"))) else {
            self.problem(line, format!("log record {n} has neither timeUnixNano nor observedTimeUnixNano"));
            return;
        };
        let sev = severity(int(rec.get("severityNumber")), rec.get("severityText").and_then(Value::as_str));
        let body = rec.get("body").map(any_text).unwrap_or_default();
        let (trace, span) = (id(rec.get("traceId")), id(rec.get("spanId")));
        let text = match rec.get("severityText").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => format!("{t} {body}"),
            _ => body.clone(),
        };
        let locator = self.locator(line, &format!("logRecords[{n}]"), &trace, &span);
        let fact =
            (!trace.is_empty()).then(|| Fact::Span { trace_id: trace.clone(), span_id: span.clone(), name: None });
        let state = reconstruct_core::classify::is_state_change(body.as_bytes());
        let kind = if state { EventKind::StateChange } else { EventKind::Log };
        self.event(time, service, kind, sev, clip(&text), locator, rec.to_string(), fact);
    }

    fn span(&mut self, s: &Value, service: &Arc<str>, line: u64, n: usize) {
        self.read.spans = self.read.spans.saturating_add(1);
        let (trace, span) = (id(s.get("traceId")), id(s.get("spanId")));
        let name = s.get("name").and_then(Value::as_str).unwrap_or("span").to_string();
        let kind = int(s.get("kind")).unwrap_or(0);
        let start = nanos(s.get("startTimeUnixNano"));
        let end = nanos(s.get("endTimeUnixNano")).or(start);
        let locator = self.locator(line, &format!("spans[{n}]"), &trace, &span);
        let status = s.get("status");
        let failed = int(status.and_then(|st| st.get("code"))) == Some(STATUS_ERROR)
            || status.and_then(|st| st.get("code")).and_then(Value::as_str) == Some("STATUS_CODE_ERROR");
        let fact = || Fact::Span { trace_id: trace.clone(), span_id: span.clone(), name: Some(name.clone()) };
        if failed {
            self.read.failed = self.read.failed.saturating_add(1);
            match end {
                Some(t) => {
                    let why = status.and_then(|st| st.get("message")).and_then(Value::as_str).unwrap_or("");
                    let summary = if why.is_empty() {
                        format!("span {name} failed")
                    } else {
                        format!("span {name} failed: {why}")
                    };
                    let excerpt = format!("{} {name} status=ERROR {why}", kind_name(kind));
                    self.event(
                        t,
                        service,
                        EventKind::Log,
                        Some(Severity::Error),
                        clip(&summary),
                        locator.clone(),
                        excerpt,
                        Some(fact()),
                    );
                }
                None => self.problem(line, format!("span {n} ({name}) has no time")),
            }
        }
        for (k, ev) in s.get("events").and_then(Value::as_array).into_iter().flatten().enumerate() {
            if ev.get("name").and_then(Value::as_str) != Some("exception") {
                continue;
            }
            self.read.exceptions = self.read.exceptions.saturating_add(1);
            let attrs = ev.get("attributes");
            let ty = attr_text(attrs, "exception.type").unwrap_or_else(|| "exception".to_string());
            let msg = attr_text(attrs, "exception.message").unwrap_or_default();
            let Some(t) = nanos(ev.get("timeUnixNano")).or(end) else { continue };
            let loc = self.locator(line, &format!("spans[{n}].events[{k}]"), &trace, &span);
            let stack = attr_text(attrs, "exception.stacktrace").unwrap_or_default();
            self.event(
                t,
                service,
                EventKind::Log,
                Some(Severity::Error),
                clip(&format!("{ty}: {msg} (in {name})")),
                loc,
                format!("{ty}: {msg}\n{stack}"),
                Some(fact()),
            );
        }
        let key = (trace.clone(), span.clone());
        if !span.is_empty() {
            self.spans.insert(
                key,
                Span {
                    service: service.clone(),
                    kind,
                    parent: id(s.get("parentSpanId")),
                    name,
                    start,
                    locator: locator.to_string(),
                },
            );
        }
    }

    /// The events, with the calls between services found across every request read.
    pub fn finish(mut self) -> Read {
        let mut calls: HashMap<(Arc<str>, Arc<str>), FirstCall> = HashMap::new();
        for ((trace, _), s) in &self.spans {
            if s.kind != SERVER && s.kind != CONSUMER {
                continue;
            }
            let Some(parent) = self.spans.get(&(trace.clone(), s.parent.clone())) else { continue };
            if !(parent.kind == CLIENT || parent.kind == PRODUCER) || parent.service == s.service {
                continue;
            }
            let Some(t) = parent.start.or(s.start) else { continue };
            let key = (parent.service.clone(), s.service.clone());
            let entry = (t, parent.name.clone(), parent.locator.clone(), trace.clone(), s.parent.clone());
            match calls.get(&key) {
                Some(c) if c.0 <= t => {}
                _ => {
                    calls.insert(key, entry);
                }
            }
        }
        self.read.calls = calls.len() as u64;
        let mut calls: Vec<_> = calls.into_iter().collect();
        calls.sort_by(|a, b| a.1 .0.cmp(&b.1 .0).then_with(|| a.0.cmp(&b.0)));
        for ((caller, callee), (t, name, locator, trace, span)) in calls {
            self.event(
                t,
                &caller,
                EventKind::Log,
                Some(Severity::Info),
                format!("{caller} calls {callee} ({name})"),
                Locator::Text(locator),
                format!("first call from {caller} to {callee} in trace {trace}"),
                Some(Fact::Call {
                    caller: caller.to_string(),
                    callee: callee.to_string(),
                    trace_id: trace,
                    span_id: span,
                }),
            );
        }
        self.read
    }
}

/// A call's first occurrence: when, the client span's name and evidence, its trace and span.
type FirstCall = (Timestamp, String, String, String, String);

fn kind_name(kind: i64) -> &'static str {
    match kind {
        1 => "internal",
        SERVER => "server",
        CLIENT => "client",
        PRODUCER => "producer",
        CONSUMER => "consumer",
        _ => "span",
    }
}

/// The service a resource names (`service.name`), as OpenTelemetry's default when none.
fn service(resource_block: &Value) -> Arc<str> {
    let attrs = resource_block.get("resource").and_then(|r| r.get("attributes"));
    Arc::from(
        attr_text(attrs, "service.name").filter(|s| !s.is_empty()).unwrap_or_else(|| "unknown_service".into()).as_str(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[Value]) -> Read {
        let mut r = Reader::new(Arc::from("otel/x.jsonl"));
        for (i, l) in lines.iter().enumerate() {
            r.request(l, i as u64 + 1);
        }
        r.finish()
    }

    fn res(name: &str) -> Value {
        serde_json::json!({"attributes": [{"key": "service.name", "value": {"stringValue": name}}]})
    }

    #[test]
    fn records_spans_exceptions_and_calls() {
        let logs = serde_json::json!({"resourceLogs": [{"resource": res("payments"), "scopeLogs": [{"logRecords": [
            {"timeUnixNano": "1776254410000000000", "severityNumber": 17, "severityText": "ERROR",
             "body": {"stringValue": "charge failed"}, "traceId": "AB01", "spanId": "CD02"},
            {"observedTimeUnixNano": 1776254411000000000u64, "severityText": "warn", "body": {"kvlistValue": {"values": []}}}
        ]}]}]});
        let spans = serde_json::json!({"resourceSpans": [
            {"resource": res("checkout"), "scopeSpans": [{"spans": [
                {"traceId": "ab01", "spanId": "c1", "parentSpanId": "s0", "name": "POST payments /charge", "kind": 3,
                 "startTimeUnixNano": "1776254409000000000", "endTimeUnixNano": "1776254412000000000",
                 "status": {"code": 2, "message": "payments answered 500"}}]}]},
            {"resource": res("payments"), "scopeSpans": [{"spans": [
                {"traceId": "ab01", "spanId": "cd02", "parentSpanId": "c1", "name": "POST /charge", "kind": 2,
                 "startTimeUnixNano": "1776254409100000000", "endTimeUnixNano": "1776254411900000000",
                 "status": {"code": 2, "message": "vault timeout"},
                 "events": [{"timeUnixNano": "1776254411800000000", "name": "exception", "attributes": [
                    {"key": "exception.type", "value": {"stringValue": "TimeoutError"}},
                    {"key": "exception.message", "value": {"stringValue": "vault did not answer"}}]}]}]}]}
        ]});
        let r = read(&[logs, spans, serde_json::json!({"nothing": 1})]);
        assert_eq!((r.records, r.spans, r.failed, r.exceptions, r.calls), (2, 2, 2, 1, 1));
        assert_eq!(r.problems, [(3, "neither resourceLogs nor resourceSpans".to_string())]);
        let by = |s: &str| r.events.iter().find(|e| e.summary.contains(s)).unwrap_or_else(|| panic!("{s}"));
        let rec = by("charge failed");
        assert_eq!(rec.severity, Some(Severity::Error));
        assert_eq!(&*rec.component, "payments");
        assert_eq!(rec.evidence.locator.to_string(), "otel/x.jsonl:1 logRecords[0] trace ab01 span cd02");
        assert_eq!(by("{\"kvlistValue\"").severity, Some(Severity::Warning), "severityText when no number");
        assert_eq!(by("span POST /charge failed: vault timeout").time.unix_nanos(), 1_776_254_411_900_000_000);
        assert_eq!(by("TimeoutError: vault did not answer (in POST /charge)").severity, Some(Severity::Error));
        let call = by("checkout calls payments (POST payments /charge)");
        assert!(
            matches!(call.fact.as_deref(), Some(Fact::Call { caller, callee, .. }) if caller == "checkout" && callee == "payments")
        );
    }
}
