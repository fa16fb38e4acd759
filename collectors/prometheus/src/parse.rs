//! Pure reading of Prometheus API answers (live or saved): the rules (for
//! the evaluation interval, the expression and `for:`), the active alerts,
//! and the raw samples of the `ALERTS` series, from which each interval an
//! alert spent pending and firing is rebuilt.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use reconstruct_core::event::{Event, EventKind, Evidence, Locator, Severity, TimeBasis, Timestamp};
use reconstruct_core::timestamp::parse_iso;
use reconstruct_core::{AlertState, Fact, SourceKind};
use reconstruct_core::{TimeWindow, Zone};
use serde_json::Value;

/// Why an answer could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnswerError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("Prometheus answered status {status}: {error}")]
    Status { status: String, error: String },
    #[error("unexpected answer: {0}")]
    Shape(&'static str),
}

/// The `data` of an API answer, once its envelope says success.
pub fn data(bytes: &[u8]) -> Result<Value, AnswerError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| AnswerError::NotJson(e.to_string()))?;
    let status = v.get("status").and_then(Value::as_str).unwrap_or("missing");
    if status != "success" {
        let error = v.get("error").and_then(Value::as_str).unwrap_or("no error message").to_string();
        return Err(AnswerError::Status { status: status.to_string(), error });
    }
    v.get("data").cloned().ok_or(AnswerError::Shape("no data member"))
}

/// An alerting rule as the rules API describes it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rule {
    pub name: String,
    pub query: String,
    /// `for:` in seconds.
    pub for_secs: f64,
    /// The evaluation interval of the rule's group, in seconds.
    pub interval: f64,
    pub annotations: BTreeMap<String, String>,
}

/// The alerting rules, by alert name.
pub fn rules(data: &Value) -> Result<HashMap<String, Rule>, AnswerError> {
    let groups =
        data.get("groups").and_then(Value::as_array).ok_or(AnswerError::Shape("rules answer without groups"))?;
    let mut out = HashMap::new();
    for g in groups {
        let interval = g.get("interval").and_then(Value::as_f64).unwrap_or(0.0);
        for r in g.get("rules").and_then(Value::as_array).into_iter().flatten() {
            if r.get("type").and_then(Value::as_str) != Some("alerting") {
                continue;
            }
            let Some(name) = r.get("name").and_then(Value::as_str) else { continue };
            out.insert(
                name.to_string(),
                Rule {
                    name: name.to_string(),
                    query: r.get("query").and_then(Value::as_str).unwrap_or_default().to_string(),
                    for_secs: r.get("duration").and_then(Value::as_f64).unwrap_or(0.0),
                    interval,
                    annotations: string_map(r.get("annotations")),
                },
            );
        }
    }
    Ok(out)
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

/// An alert active now (`/api/v1/alerts`).
#[derive(Clone, Debug, PartialEq)]
pub struct Active {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub state: String,
    /// When it went pending.
    pub active_at: Option<Timestamp>,
}

pub fn active(data: &Value) -> Result<Vec<Active>, AnswerError> {
    // vmalert (and VictoriaMetrics proxying to it) answers `"alerts": null`
    // when none is active; Prometheus answers `[]`.
    let empty = Vec::new();
    let alerts = match data.get("alerts") {
        Some(Value::Null) => &empty,
        Some(v) => v.as_array().ok_or(AnswerError::Shape("alerts answer without alerts"))?,
        None => return Err(AnswerError::Shape("alerts answer without alerts")),
    };
    Ok(alerts
        .iter()
        .map(|a| Active {
            labels: string_map(a.get("labels")),
            annotations: string_map(a.get("annotations")),
            state: a.get("state").and_then(Value::as_str).unwrap_or_default().to_string(),
            active_at: a
                .get("activeAt")
                .and_then(Value::as_str)
                .and_then(|s| parse_iso(s.as_bytes(), &Zone::Utc))
                .map(|p| p.time),
        })
        .collect())
}

/// One series of `ALERTS` with its raw sample times.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub times: Vec<Timestamp>,
}

/// The raw samples of a range-vector query (`ALERTS{…}[2h]`, a matrix), or
/// of a `query_range` answer, which has the same shape.
pub fn series(data: &Value) -> Result<Vec<Series>, AnswerError> {
    if data.get("resultType").and_then(Value::as_str) != Some("matrix") {
        return Err(AnswerError::Shape("ALERTS history is not a matrix"));
    }
    let result = data.get("result").and_then(Value::as_array).ok_or(AnswerError::Shape("matrix without result"))?;
    Ok(result
        .iter()
        .map(|s| {
            let mut times: Vec<Timestamp> = s
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|pair| {
                    let t = pair.get(0)?.as_f64()?;
                    // Prometheus timestamps are milliseconds as a float of seconds.
                    Timestamp::from_unix_seconds(
                        t.floor() as i64,
                        ((t.fract() * 1000.0).round() as u32).min(999) * 1_000_000,
                    )
                })
                .collect();
            times.sort();
            Series { labels: string_map(s.get("metric")), times }
        })
        .collect())
}

/// How the collector reaches Prometheus's UI for evidence links.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    /// Base URL without credentials, for graph links; `None` for saved answers.
    pub url: Option<&'a str>,
    pub rules: &'a HashMap<String, Rule>,
    pub active: &'a [Active],
    /// Evaluation interval used where a rule's is unknown, in seconds.
    pub default_interval: f64,
    /// When the history was read: an interval reaching it is still open.
    pub read_at: Timestamp,
}

/// The label that names an alert's component: `service`, else `job`, else
/// `instance`, else the alert name; the same choice for every alert.
pub fn component(labels: &BTreeMap<String, String>) -> String {
    ["service", "job", "instance", "alertname"]
        .iter()
        .find_map(|k| labels.get(*k).filter(|v| !v.is_empty()).cloned())
        .unwrap_or_else(|| "prometheus".to_string())
}

/// The service an alert names in its `service` label, when it has one
/// (a `job` or an `instance` is grouped by its first segment instead).
pub fn service(labels: &BTreeMap<String, String>) -> Option<Arc<str>> {
    labels.get("service").filter(|v| !v.is_empty()).map(|v| Arc::from(v.as_str()))
}

fn selector(labels: &BTreeMap<String, String>) -> String {
    let name = labels.get("alertname").cloned().unwrap_or_default();
    let rest: Vec<String> = labels
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "alertname" | "alertstate" | "__name__"))
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    let mut all = vec![format!("alertname={name:?}")];
    all.extend(rest);
    format!("ALERTS{{{}}}", all.join(","))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `{{ $labels.x }}` and `{{ $value }}` filled where the labels know them;
/// other template text is left as written.
fn expand(template: &str, labels: &BTreeMap<String, String>) -> String {
    let mut out = template.to_string();
    for (k, v) in labels {
        for form in [format!("{{{{ $labels.{k} }}}}"), format!("{{{{$labels.{k}}}}}")] {
            out = out.replace(&form, v);
        }
    }
    out
}

/// A run of consecutive samples: an interval the alert spent in one state.
struct Run {
    first: Timestamp,
    last: Timestamp,
}

fn runs(times: &[Timestamp], interval: f64) -> Vec<Run> {
    let gap = (interval * 1.5 * 1e9) as i64;
    let mut out: Vec<Run> = Vec::new();
    for t in times {
        match out.last_mut() {
            Some(r) if t.unix_nanos().saturating_sub(r.last.unix_nanos()) <= gap => r.last = *t,
            _ => out.push(Run { first: *t, last: *t }),
        }
    }
    out
}

/// Every pending/firing interval in the window as rows "pending", "firing",
/// "resolved". An interval that began before the window is shown at the
/// window's start and says so; one still open when the history was read has
/// no "resolved" row and says it is still firing.
pub fn history(series: &[Series], window: &TimeWindow, ctx: &Context<'_>) -> Vec<Event> {
    let mut out = Vec::new();
    for s in series {
        let state = s.labels.get("alertstate").map(String::as_str).unwrap_or("firing");
        let name = s.labels.get("alertname").cloned().unwrap_or_else(|| "?".to_string());
        let rule = ctx.rules.get(&name);
        let interval = rule.map(|r| r.interval).filter(|i| *i > 0.0).unwrap_or(ctx.default_interval).max(0.001);
        let step = (interval * 1e9) as i64;
        let mut identity = s.labels.clone();
        identity.remove("alertstate");
        identity.remove("__name__");
        let comp: Arc<str> = Arc::from(component(&identity));
        let sel = selector(&identity);
        let summary_text = ctx
            .active
            .iter()
            .find(|a| {
                let mut l = a.labels.clone();
                l.remove("alertstate");
                l == identity
            })
            .and_then(|a| a.annotations.get("summary").cloned())
            .or_else(|| rule.and_then(|r| r.annotations.get("summary")).map(|t| expand(t, &identity)));
        let severity_label = identity.get("severity").map(|s| s.to_lowercase());
        let sev = match severity_label.as_deref() {
            Some("critical") | Some("page") => Severity::Critical,
            Some("warning") | Some("warn") => Severity::Warning,
            Some("info") | Some("none") => Severity::Notice,
            _ => Severity::Error,
        };
        let labels_text: Vec<String> =
            identity.iter().filter(|(k, _)| k.as_str() != "alertname").map(|(k, v)| format!("{k}={v}")).collect();
        let describe = |verb: &str, extra: &str| {
            let mut t = format!("alert {name} {verb}");
            if !labels_text.is_empty() {
                t.push_str(&format!(" ({})", labels_text.join(", ")));
            }
            if let Some(sm) = &summary_text {
                t.push_str(&format!(": {sm}"));
            }
            t.push_str(extra);
            t
        };
        for run in runs(&s.times, interval) {
            let began_before = run.first < window.since;
            let open = run.last.unix_nanos().saturating_add(step).saturating_add(step / 2) >= ctx.read_at.unix_nanos();
            let resolved = run.last.saturating_add_nanos(step);
            if run.last < window.since && resolved < window.since {
                continue;
            }
            if run.first > window.until {
                continue;
            }
            let link = ctx.url.map(|u| {
                let end = (if open { ctx.read_at } else { resolved }).saturating_add_nanos(step.saturating_mul(5));
                let span = end.unix_seconds().saturating_sub(run.first.unix_seconds()).max(60).saturating_add(600) / 60;
                format!(
                    "{u}/graph?g0.expr={}&g0.tab=0&g0.range_input={span}m&g0.end_input={}",
                    percent_encode(&sel),
                    percent_encode(&end.to_datetime().format("%Y-%m-%d %H:%M:%S").to_string())
                )
            });
            let mut excerpt =
                format!("{sel}\n{state} samples {} .. {} (evaluation interval {interval}s)", run.first, run.last);
            if let Some(r) = rule {
                excerpt.push_str(&format!("\nrule: {} for: {}s", r.query, r.for_secs));
            }
            if let Some(l) = &link {
                excerpt.push_str(&format!("\ngraph: {l}"));
            }
            let (verb, sev_here) = if state == "pending" { ("pending", Severity::Info) } else { ("firing", sev) };
            let at = if began_before { window.since } else { run.first };
            let mut extra = String::new();
            if began_before {
                extra.push_str(&format!(" [already {verb} at the window's start; first seen {}]", run.first.hms()));
            }
            if open && state != "pending" {
                extra.push_str(&format!(" [still firing at {}]", ctx.read_at.min(window.until).hms()));
            }
            let ev = |time: Timestamp, text: String, severity: Severity, what: &str, alert_state: AlertState| Event {
                time,
                basis: TimeBasis::Explicit,
                collector: SourceKind::Prometheus,
                component: comp.clone(),
                kind: EventKind::Alert,
                severity: Some(severity),
                summary: text,
                evidence: Evidence { locator: Locator::Text(format!("{sel} {what}")), excerpt: excerpt.clone() },
                continuation_lines: 0,
                service: service(&identity),
                fact: Some(Box::new(Fact::Alert { name: name.clone(), labels: identity.clone(), state: alert_state })),
            };
            if window.contains(at) {
                let st = if state == "pending" { AlertState::Pending } else { AlertState::Firing };
                out.push(ev(at, describe(verb, &extra), sev_here, verb, st));
            }
            if state != "pending" && !open && window.contains(resolved) {
                out.push(ev(resolved, describe("resolved", ""), Severity::Notice, "resolved", AlertState::Resolved));
            }
        }
    }
    out.sort_by(|a, b| a.order(b));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::window::parse_bound;

    fn t(s: &str) -> Timestamp {
        parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap()
    }

    fn matrix(state: &str, secs: &[i64]) -> String {
        let values: Vec<String> = secs.iter().map(|s| format!("[{s}.0,\"1\"]")).collect();
        format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"ALERTS","alertname":"HighErrorRate","alertstate":"{state}","service":"backend","severity":"critical"}},"values":[{}]}}]}}}}"#,
            values.join(",")
        )
    }

    const RULES: &str = r#"{"status":"success","data":{"groups":[{"name":"api","interval":15,"rules":[
        {"type":"alerting","name":"HighErrorRate","query":"rate(http_requests_total{status=~\"5..\"}[1m]) > 1","duration":60,
         "annotations":{"summary":"HTTP 500 rate above threshold on {{ $labels.service }}"}},
        {"type":"recording","name":"job:x","query":"sum(x)"}]}]}}"#;

    #[test]
    fn extreme_times_and_intervals_do_not_overflow() {
        // Samples at the ends of the representable range, and an evaluation
        // interval so long its nanoseconds saturate: no panic, sane rows.
        let s = vec![Series {
            labels: [("alertname".to_string(), "X".to_string())].into_iter().collect(),
            times: vec![Timestamp::MIN, Timestamp::from_unix_nanos(0), Timestamp::MAX],
        }];
        let none = HashMap::new();
        for interval in [1e300, 0.001, f64::MAX] {
            let ctx = Context {
                url: Some("http://prom:9090"),
                rules: &none,
                active: &[],
                default_interval: interval,
                read_at: Timestamp::MAX,
            };
            let w = TimeWindow::new(Timestamp::MIN, Timestamp::MAX).unwrap();
            let ev = history(&s, &w, &ctx);
            assert!(!ev.is_empty(), "interval {interval}");
        }
        assert_eq!(runs(&[Timestamp::MIN, Timestamp::MAX], 1.0).len(), 2);
    }

    #[test]
    fn two_firing_intervals_and_one_still_open() {
        let base = t("2025-12-26T14:32:00Z").unix_seconds();
        let mut secs: Vec<i64> = (0..20).map(|i| base + i * 15).collect(); // 14:32:00 .. 14:36:45
        secs.extend((0..10).map(|i| base + 900 + i * 15)); // 14:47:00 .. 14:49:15
        let s = series(&data(matrix("firing", &secs).as_bytes()).unwrap()).unwrap();
        let rules = rules(&data(RULES.as_bytes()).unwrap()).unwrap();
        let ctx = Context {
            url: Some("http://prom:9090"),
            rules: &rules,
            active: &[],
            default_interval: 60.0,
            read_at: t("2025-12-26T16:00:00Z"),
        };
        let w = TimeWindow::new(t("2025-12-26T14:00:00Z"), t("2025-12-26T15:00:00Z")).unwrap();
        let ev = history(&s, &w, &ctx);
        let rows: Vec<(String, String)> = ev.iter().map(|e| (e.time.hms(), e.summary.clone())).collect();
        assert_eq!(rows.len(), 4, "{rows:#?}");
        assert_eq!(rows[0].0, "14:32:00");
        assert_eq!(
            rows[0].1,
            "alert HighErrorRate firing (service=backend, severity=critical): HTTP 500 rate above threshold on backend"
        );
        assert_eq!((rows[1].0.as_str(), rows[1].1.starts_with("alert HighErrorRate resolved")), ("14:37:00", true));
        assert_eq!(rows[2].0, "14:47:00");
        assert_eq!(rows[3].0, "14:49:30");
        assert_eq!(ev[0].severity, Some(Severity::Critical));
        assert_eq!(
            ev[0].evidence.locator.to_string(),
            "ALERTS{alertname=\"HighErrorRate\",service=\"backend\",severity=\"critical\"} firing"
        );
        assert!(ev[0].evidence.excerpt.contains("graph: http://prom:9090/graph?g0.expr=ALERTS%7B"));

        // Read while still firing: no resolved row, and it says so.
        let ctx = Context { read_at: t("2025-12-26T14:49:20Z"), ..ctx };
        let w = TimeWindow::new(t("2025-12-26T14:40:00Z"), t("2025-12-26T14:49:20Z")).unwrap();
        let ev = history(&s, &w, &ctx);
        assert_eq!(ev.len(), 1);
        assert!(ev[0].summary.ends_with("[still firing at 14:49:20]"), "{}", ev[0].summary);

        // Began before the window: shown at its start, marked.
        let w = TimeWindow::new(t("2025-12-26T14:35:00Z"), t("2025-12-26T14:40:00Z")).unwrap();
        let ctx = Context { read_at: t("2025-12-26T16:00:00Z"), ..ctx };
        let ev = history(&s, &w, &ctx);
        assert_eq!(ev[0].time.hms(), "14:35:00");
        assert!(
            ev[0].summary.contains("[already firing at the window's start; first seen 14:32:00]"),
            "{}",
            ev[0].summary
        );
        assert_eq!(ev[1].time.hms(), "14:37:00");
    }

    #[test]
    fn bad_answers_are_named() {
        assert!(matches!(data(b"<html>oops"), Err(AnswerError::NotJson(_))));
        assert_eq!(
            data(br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#),
            Err(AnswerError::Status { status: "error".into(), error: "parse error".into() })
        );
        assert!(series(&serde_json::json!({"resultType":"vector","result":[]})).is_err());
        assert!(rules(&serde_json::json!({"nogroups":1})).is_err());
    }

    #[test]
    fn vmalert_answers_null_when_no_alert_is_active() {
        assert_eq!(active(&data(br#"{"status":"success","data":{"alerts":null}}"#).unwrap()).unwrap(), vec![]);
        assert!(active(&data(br#"{"status":"success","data":{}}"#).unwrap()).is_err());
    }

    #[test]
    fn active_alerts() {
        let a = active(&data(br#"{"status":"success","data":{"alerts":[{"labels":{"alertname":"X","job":"api"},"annotations":{"summary":"s"},"state":"firing","activeAt":"2025-12-26T14:31:00.5Z","value":"2e+00"}]}}"#).unwrap()).unwrap();
        assert_eq!(a[0].active_at.unwrap().rfc3339(), "2025-12-26T14:31:00.500Z");
        assert_eq!(component(&a[0].labels), "api");
    }
}
