//! The fuzz targets: each feeds arbitrary bytes to one parser of outside
//! input, the way the collectors do, and must return without panicking.
//! `scripts/fuzz TARGET SECONDS` runs one under AFL++; the regression test
//! in `tests/garbage.rs` replays `regressions/` through the same functions.

use reconstruct_core::{CollectContext, Detail, TimeWindow, Timestamp, VecSink, Zone};

/// Every target, by the name `scripts/fuzz` takes.
pub const TARGETS: [&str; 13] = [
    "logfile",
    "compressed",
    "runtime",
    "compose",
    "git_log",
    "pg_log",
    "pg_activity",
    "prometheus",
    "journal",
    "text",
    "stores",
    "cluster",
    "otel",
];

fn window() -> Option<TimeWindow> {
    let t = |s: i64| Timestamp::from_unix_seconds(s, 0);
    TimeWindow::new(t(1_700_000_000)?, t(1_900_000_000)?).ok()
}

/// Runs the target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    let Some(window) = window() else { return };
    let ctx = CollectContext { window, detail: Detail::All, anchor: None };
    let text = String::from_utf8_lossy(data);
    match name {
        "logfile" => {
            let cfg = reconstruct_logfile::ScanConfig {
                path: "f.log".into(),
                component: "f".into(),
                zone: Zone::Utc,
                locate: None,
                codec: None,
                found: false,
            };
            let _ = reconstruct_logfile::scan::scan(data, &cfg, &ctx, &mut VecSink::default());
        }
        "compressed" => {
            if let Ok((r, codec)) =
                reconstruct_logfile::compressed::open(std::io::Cursor::new(data.to_vec()), data.len() as u64)
            {
                let cfg = reconstruct_logfile::ScanConfig {
                    path: "f.log.gz".into(),
                    component: "f".into(),
                    zone: Zone::Utc,
                    locate: None,
                    codec,
                    found: false,
                };
                let _ = reconstruct_logfile::scan::scan(r, &cfg, &ctx, &mut VecSink::default());
            }
        }
        "runtime" => {
            for kind in [reconstruct_logfile::runtime::Runtime::DockerJson, reconstruct_logfile::runtime::Runtime::Cri]
            {
                let mut j = reconstruct_logfile::runtime::Joiner::new(kind);
                let mut out = Vec::new();
                for (i, l) in data.split(|b| *b == b'\n').enumerate() {
                    j.push(i as u64 + 1, l, &mut out);
                }
                j.finish(&mut out);
            }
        }
        "compose" => {
            let _ = reconstruct_docker::parse::compose_lines(data);
            let c = reconstruct_docker::parse::Container {
                name: "x_1".into(),
                service: "x".into(),
                component: "x".into(),
                plain: false,
            };
            for line in data.split(|b| *b == b'\n') {
                let _ = reconstruct_docker::parse::log_line(
                    &c,
                    "stdout",
                    line,
                    &ctx.window,
                    reconstruct_core::Detail::All,
                    &mut None,
                );
            }
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
                let _ = reconstruct_docker::parse::event_fact(&v);
                let _ = reconstruct_docker::parse::inspect_facts(&v);
            }
        }
        "git_log" => {
            let _ = reconstruct_git::saved::parse(data);
        }
        "pg_log" => {
            let _ = reconstruct_postgres::serverlog::read_stderr(data, &Zone::Utc, |_| {});
            let _ = reconstruct_postgres::serverlog::read_csv(data, |_| {});
            let _ = reconstruct_postgres::serverlog::read_json(data, |_| {});
            let _ = reconstruct_postgres::redact::redact_sql(&text);
        }
        "pg_activity" => {
            if let Ok(rows) = reconstruct_postgres::activity::parse_csv(data) {
                let opts = reconstruct_postgres::activity::Options { keep_literals: false };
                let _ = reconstruct_postgres::activity::events(&rows, &ctx.window, "f.csv", &opts);
            }
        }
        "prometheus" => {
            let v = reconstruct_prometheus::parse::data(data)
                .ok()
                .or_else(|| serde_json::from_slice::<serde_json::Value>(data).ok());
            if let Some(v) = v {
                let a = reconstruct_prometheus::Answers {
                    rules: Some(v.clone()),
                    alerts: Some(v.clone()),
                    history: vec![v.clone()],
                    am_alerts: Some(v.clone()),
                    am_silences: Some(v),
                };
                let from = reconstruct_prometheus::Provenance::Saved { files: 1 };
                let _ =
                    reconstruct_prometheus::assemble(&a, &from, &ctx.window, ctx.window.until, &mut VecSink::default());
            }
        }
        "journal" => {
            let mut r = reconstruct_journal::export::Reader::new(data);
            let mut map =
                reconstruct_journal::entry::Mapper::new(reconstruct_journal::entry::Evidence::File("j".into()));
            let mut sink = VecSink::default();
            while let Ok(Some(e)) = r.next_entry(&mut |_| {}) {
                let _ = map.emit(&e, &ctx, &mut sink);
            }
        }
        "text" => {
            let _ = reconstruct::annotate::rows(&text);
            let _ = reconstruct::redact::mask(&text);
            let _ = reconstruct::redact::Lines::default().text(data);
            let _ = reconstruct::summarise::template(&text);
            let _ = reconstruct::render::markdown::cell(&text, 200);
            let _ = reconstruct::render::markdown::code(&text);
            let _ = serde_json::from_slice::<reconstruct::bundle::Manifest>(data);
            let _ = reconstruct::settings::check_config(&text);
        }
        "stores" => {
            // Loki pages and Elasticsearch answers, live or saved, and a saved file's lines.
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
                if let Ok(lines) = reconstruct_stores::loki::page(&v) {
                    let _ = reconstruct_stores::loki::Pager::new(3).take(lines);
                }
                let _ = reconstruct_stores::loki::envelope(&v);
                let _ = reconstruct_stores::elastic::Hits::new("@timestamp").take(&v);
                let _ = reconstruct_stores::saved_kind(&text);
            }
            let mut sink = VecSink::default();
            let _ =
                reconstruct_stores::read_saved(data, "f.jsonl", reconstruct_core::SourceKind::Loki, &ctx, &mut sink);
            let _ = reconstruct_stores::read_saved(
                data,
                "f.jsonl",
                reconstruct_core::SourceKind::Elasticsearch,
                &ctx,
                &mut sink,
            );
        }
        "cluster" => {
            // Kubernetes lists and log lines; a swarm's answers and raw service log lines.
            let mut sink = VecSink::default();
            let _ = reconstruct_kubernetes::saved_events(data, data, Some(data), &ctx, &mut sink);
            let of = reconstruct_kubernetes::parse::LogOf {
                namespace: "n".into(),
                pod: "p".into(),
                container: "c".into(),
                previous: false,
                component: "c".into(),
            };
            let cluster = reconstruct_kubernetes::parse::Cluster::default();
            let mut swarm = reconstruct_docker::swarm::Assembler::new(ctx.window, false);
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
                let a = reconstruct_docker::swarm::Answers {
                    services: v.clone(),
                    tasks: v.clone(),
                    events: vec![v],
                    problems: Vec::new(),
                };
                swarm.learn(&a);
                swarm.lifecycle(&a);
            }
            for line in data.split(|b| *b == b'\n') {
                let _ = reconstruct_kubernetes::parse::log_line(line, &of, &cluster, reconstruct_core::Detail::All);
                let _ = swarm.line(reconstruct_docker::swarm::RawLine { service: "s", line });
            }
            let _ = reconstruct_docker::swarm::demux(data);
        }
        "otel" => {
            let _ = reconstruct_otel::read(std::sync::Arc::from("otel/x.jsonl"), data);
        }
        _ => {}
    }
}
