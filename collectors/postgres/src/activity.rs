//! pg_stat_activity as timeline rows: who connected, which transactions
//! are long or idle, who waits on whom, and how full the server is.
//!
//! The sample is a snapshot of one moment: the live mode queries it with
//! `activity.sql` (every column as text), the saved mode reads the
//! `psql --csv` output of the same query, and both come here as rows of
//! named text columns.

use std::collections::HashMap;
use std::sync::Arc;

use reconstruct_core::event::{Event, EventKind, Evidence, Locator, Severity, TimeBasis, Timestamp};
use reconstruct_core::timestamp::parse_iso;
use reconstruct_core::{TimeWindow, Zone};

use crate::redact::redact_sql;
use reconstruct_core::{Fact, SourceKind};

/// The query of a sample (PostgreSQL 14+; older servers get
/// [`query_for_version`]).
pub const QUERY: &str = include_str!("activity.sql");

/// The sample query for a server version (`server_version_num`): columns an
/// older server lacks are selected as NULL, so the rows keep their shape.
pub fn query_for_version(version_num: i32) -> String {
    if version_num < 140_000 {
        QUERY.replace("l.waitstart::text AS lock_waitstart", "NULL::text AS lock_waitstart")
    } else {
        QUERY.to_string()
    }
}

/// The sample's columns, in the query's order (the saved CSV's header).
pub const COLUMNS: [&str; 22] = [
    "sample_time",
    "max_connections",
    "reserved_connections",
    "pid",
    "datname",
    "usename",
    "application_name",
    "client_addr",
    "backend_type",
    "state",
    "backend_start",
    "xact_start",
    "query_start",
    "state_change",
    "wait_event_type",
    "wait_event",
    "blocked_by",
    "lock_type",
    "lock_mode",
    "lock_relation",
    "lock_waitstart",
    "query",
];

/// The sample as `psql --csv` would print it, so a captured bundle reads it back.
pub fn write_csv(rows: &[Row]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS).map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record(COLUMNS.iter().map(|c| r.0.get(*c).map(String::as_str).unwrap_or("")))
            .map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// One row of the sample, by column name.
#[derive(Clone, Debug, Default)]
pub struct Row(pub HashMap<String, String>);

impl Row {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }
    fn time(&self, k: &str) -> Option<Timestamp> {
        parse_iso(self.get(k)?.as_bytes(), &Zone::Utc).map(|p| p.time)
    }
}

/// A transaction open longer than this at sample time is reported as long.
const LONG_TRANSACTION_SECS: i64 = 60;

pub struct Options {
    /// Keep SQL literals (`--no-redact`).
    pub keep_literals: bool,
}

fn duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn one_line(q: &str, keep: bool) -> String {
    let q = if keep { q.to_string() } else { redact_sql(q) };
    let flat: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 300 {
        let cut: String = flat.chars().take(300).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// Turns a sample into events inside the window. `source` names where the
/// sample came from for the evidence (`pg_stat_activity`, or a saved file).
pub fn events(rows: &[Row], window: &TimeWindow, source: &str, opts: &Options) -> Vec<Event> {
    let mut out = Vec::new();
    let Some(sample) = rows.iter().find_map(|r| r.time("sample_time")) else { return out };
    let hms = sample.hms();
    let ev =
        |time: Timestamp, component: &str, severity: Severity, summary: String, pid: Option<&str>, excerpt: String| {
            Event {
                time,
                basis: TimeBasis::Explicit,
                collector: SourceKind::Postgres,
                component: Arc::from(component),
                kind: EventKind::Database,
                severity: Some(severity),
                summary,
                evidence: Evidence {
                    locator: Locator::Text(match pid {
                        Some(p) => format!("{source} pid={p} (sampled {hms})"),
                        None => format!("{source} (sampled {hms})"),
                    }),
                    excerpt,
                },
                continuation_lines: 0,
                service: None,
                fact: pid.and_then(|p| p.parse::<i64>().ok()).map(|pid_num| {
                    let state = rows
                        .iter()
                        .find(|r| r.get("pid") == pid)
                        .and_then(|r| r.get("state"))
                        .filter(|s| !s.is_empty())
                        .map(str::to_string);
                    Box::new(Fact::Session { pid: pid_num, state })
                }),
            }
        };
    let mut clients = 0u32;
    let (mut active, mut idle_tx, mut waiting) = (0u32, 0u32, 0u32);
    for r in rows {
        let is_client = r.get("backend_type").is_none_or(|t| t == "client backend");
        if !is_client {
            continue;
        }
        if r.get("pid").is_none() {
            continue;
        }
        clients = clients.saturating_add(1);
        let pid = r.get("pid").unwrap_or("?");
        let db = r.get("datname").unwrap_or("postgres");
        let component = match r.get("application_name") {
            Some(app) => format!("{db} ({app})"),
            None => db.to_string(),
        };
        let state = r.get("state").unwrap_or("unknown");
        let query = r.get("query").map(|q| one_line(q, opts.keep_literals)).unwrap_or_default();
        let excerpt = excerpt(r, opts.keep_literals);
        let who = format!("{}@{db}", r.get("usename").unwrap_or("?"));
        match state {
            "active" => active = active.saturating_add(1),
            s if s.starts_with("idle in transaction") => idle_tx = idle_tx.saturating_add(1),
            _ => {}
        }
        let mut push = |t: Option<Timestamp>, sev: Severity, summary: String| {
            if let Some(t) = t.filter(|t| window.contains(*t)) {
                out.push(ev(t, &component, sev, summary, Some(pid), excerpt.clone()));
            }
        };
        if r.get("wait_event_type") == Some("Lock") {
            waiting = waiting.saturating_add(1);
            let blockers = r.get("blocked_by").unwrap_or("{}").trim_matches(['{', '}']).to_string();
            let on = match (r.get("lock_mode"), r.get("lock_relation"), r.get("lock_type")) {
                (Some(m), Some(rel), _) => format!("{m} on {rel}"),
                (Some(m), None, Some(t)) => format!("{m} on a {t}"),
                _ => r.get("wait_event").unwrap_or("a lock").to_string(),
            };
            let since = r.time("lock_waitstart").or_else(|| r.time("state_change")).or_else(|| r.time("query_start"));
            let waited =
                since.map(|s| duration(sample.unix_seconds().saturating_sub(s.unix_seconds()))).unwrap_or_default();
            let by = if blockers.is_empty() { String::new() } else { format!(" blocked by pid {blockers}") };
            push(since, Severity::Warning, format!("pid {pid} waiting for {on}{by} ({waited} at sample): {query}"));
        }
        if state.starts_with("idle in transaction") {
            let since = r.time("state_change");
            let xact = r.time("xact_start");
            let open =
                xact.map(|x| duration(sample.unix_seconds().saturating_sub(x.unix_seconds()))).unwrap_or_default();
            let started = xact.map(|x| x.hms()).unwrap_or_else(|| "?".into());
            push(
                since,
                Severity::Warning,
                format!(
                    "pid {pid} {state} (transaction started {started}, open {open} at sample), last query: {query}"
                ),
            );
        } else if let Some(x) = r.time("xact_start") {
            let age = sample.unix_seconds().saturating_sub(x.unix_seconds());
            if age >= LONG_TRANSACTION_SECS {
                push(
                    Some(x),
                    Severity::Warning,
                    format!("pid {pid} long transaction open {} at sample ({state}): {query}", duration(age)),
                );
            } else if r.time("query_start") != Some(x) {
                push(Some(x), Severity::Info, format!("pid {pid} transaction started ({state})"));
            }
        }
        push(
            r.time("backend_start"),
            Severity::Info,
            format!("pid {pid} connected: {who} from {}", r.get("client_addr").unwrap_or("local socket")),
        );
        if state == "active" && r.get("wait_event_type") != Some("Lock") {
            push(r.time("query_start"), Severity::Info, format!("pid {pid} query started: {query}"));
        }
    }
    if window.contains(sample) {
        let max: u32 = rows.iter().find_map(|r| r.get("max_connections")?.parse().ok()).unwrap_or(0);
        let reserved: u32 = rows.iter().find_map(|r| r.get("reserved_connections")?.parse().ok()).unwrap_or(0);
        let usable = max.saturating_sub(reserved);
        let severity = if usable > 0 && clients >= usable {
            Severity::Error
        } else if max > 0 && u64::from(clients) * 4 >= u64::from(max) * 3 {
            Severity::Warning
        } else {
            Severity::Info
        };
        let full = if severity == Severity::Error { " (connection slots exhausted)" } else { "" };
        out.push(ev(
            sample,
            rows.iter().find_map(|r| r.get("datname")).unwrap_or("postgres"),
            severity,
            format!(
                "{clients} of {max} connections in use{full}: {active} active, {idle_tx} idle in transaction, {waiting} waiting on locks"
            ),
            None,
            format!("max_connections={max} superuser_reserved_connections={reserved} client_backends={clients}"),
        ));
    }
    out.sort_by(|a, b| a.order(b));
    out
}

fn excerpt(r: &Row, keep: bool) -> String {
    let mut keys: Vec<&String> = r.0.keys().collect();
    keys.sort();
    keys.into_iter()
        .filter_map(|k| {
            let v = r.get(k)?;
            let v = if k == "query" { one_line(v, keep) } else { v.to_string() };
            Some(format!("{k}={v}"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads the `psql --csv` output of the sample query.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<Row>, String> {
    let mut rd = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> =
        rd.byte_headers().map_err(|e| e.to_string())?.iter().map(|h| String::from_utf8_lossy(h).into_owned()).collect();
    if !headers.iter().any(|h| h == "sample_time") {
        return Err("no sample_time column: save it with the query in the README".to_string());
    }
    let mut rows = Vec::new();
    for rec in rd.byte_records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let map =
            headers.iter().zip(rec.iter()).map(|(h, v)| (h.clone(), String::from_utf8_lossy(v).into_owned())).collect();
        rows.push(Row(map));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::window::parse_bound;

    const SAVED: &str = "sample_time,max_connections,reserved_connections,pid,datname,usename,application_name,client_addr,backend_type,state,backend_start,xact_start,query_start,state_change,wait_event_type,wait_event,blocked_by,lock_type,lock_mode,lock_relation,lock_waitstart,query
2025-12-26 14:31:10.5+00,100,3,4711,app,app,backend,10.0.3.7,client backend,idle in transaction,2025-12-26 14:20:00+00,2025-12-26 14:30:40+00,2025-12-26 14:30:41+00,2025-12-26 14:30:41.2+00,Client,ClientRead,{},,,,,\"UPDATE assignments SET note = 'pw=hunter2' WHERE id = 7\"
2025-12-26 14:31:10.5+00,100,3,4712,app,app,backend,10.0.3.8,client backend,active,2025-12-26 14:29:00+00,2025-12-26 14:30:50+00,2025-12-26 14:30:50+00,2025-12-26 14:30:50+00,Lock,transactionid,{4711},transactionid,ShareLock,,2025-12-26 14:30:50.3+00,\"UPDATE assignments SET note = 'x' WHERE id = 7\"
2025-12-26 14:31:10.5+00,100,3,99,,,,,autovacuum launcher,,2025-12-01 00:00:00+00,,,,Activity,AutoVacuumMain,{},,,,,
";

    #[test]
    fn extreme_settings_do_not_overflow() {
        // max_connections is the server's word: the largest u32 must not
        // overflow the three-quarters check.
        let csv = "sample_time,max_connections,reserved_connections,pid,backend_type,state\n\
                   2025-12-26 14:31:10+00,4294967295,4294967295,1,client backend,active\n\
                   2025-12-26 14:31:10+00,4294967295,0,2,client backend,active\n";
        let rows = parse_csv(csv.as_bytes()).unwrap();
        let ev = events(&rows, &window(), "pg_stat_activity", &Options { keep_literals: false });
        let slots = ev.iter().find(|e| e.summary.contains("connections in use")).unwrap();
        assert!(slots.summary.starts_with("2 of 4294967295"), "{}", slots.summary);
    }

    fn window() -> TimeWindow {
        let t = |s: &str| parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
        TimeWindow::new(t("2025-12-26T14:00:00Z"), t("2025-12-26T15:00:00Z")).unwrap()
    }

    #[test]
    fn saved_sample_becomes_rows() {
        let rows = parse_csv(SAVED.as_bytes()).unwrap();
        let ev = events(&rows, &window(), "pg_stat_activity", &Options { keep_literals: false });
        let texts: Vec<String> = ev.iter().map(|e| format!("{} {}", e.time.hms(), e.summary)).collect();
        let joined = texts.join("\n");
        assert!(
            joined.contains("14:30:41 pid 4711 idle in transaction (transaction started 14:30:40, open 30s at sample)"),
            "{joined}"
        );
        assert!(
            joined.contains(
                "14:30:50 pid 4712 waiting for ShareLock on a transactionid blocked by pid 4711 (20s at sample)"
            ),
            "{joined}"
        );
        assert!(
            joined.contains("14:31:10 3 of 100 connections in use")
                || joined.contains("14:31:10 2 of 100 connections in use"),
            "{joined}"
        );
        assert!(!joined.contains("hunter2"), "literals redacted: {joined}");
        assert!(ev.iter().all(|e| !e.evidence.excerpt.contains("hunter2")));
        let kept = events(&rows, &window(), "pg_stat_activity", &Options { keep_literals: true });
        assert!(kept.iter().any(|e| e.summary.contains("hunter2")));
        let waiting = ev.iter().find(|e| e.summary.contains("waiting")).unwrap();
        assert_eq!(waiting.evidence.locator.to_string(), "pg_stat_activity pid=4712 (sampled 14:31:10)");
    }

    #[test]
    fn written_csv_reads_back() {
        let rows = parse_csv(SAVED.as_bytes()).unwrap();
        let again = parse_csv(&write_csv(&rows).unwrap()).unwrap();
        assert_eq!(rows.len(), again.len());
        for (a, b) in rows.iter().zip(&again) {
            for c in COLUMNS {
                assert_eq!(a.0.get(c).filter(|v| !v.is_empty()), b.0.get(c).filter(|v| !v.is_empty()), "{c}");
            }
        }
    }

    #[test]
    fn exhausted_slots_are_an_error() {
        let mut csv = String::from("sample_time,max_connections,reserved_connections,pid,backend_type,state\n");
        for p in 0..8 {
            csv.push_str(&format!("2025-12-26 14:30:42+00,10,3,{p},client backend,active\n"));
        }
        let rows = parse_csv(csv.as_bytes()).unwrap();
        let ev = events(&rows, &window(), "pg_stat_activity", &Options { keep_literals: false });
        let count = ev.iter().find(|e| e.summary.contains("connections in use")).unwrap();
        assert_eq!(count.severity, Some(Severity::Error));
        assert!(
            count.summary.starts_with("8 of 10 connections in use (connection slots exhausted)"),
            "{}",
            count.summary
        );
        assert!(parse_csv(b"a,b\n1,2\n").is_err());
    }
}
