#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! No input crashes a parser: every parser that reads outside input is fed
//! deterministic byte soup, truncated real samples and pathological lines,
//! and must return (an error is fine, a panic is not).

use reconstruct_core::timestamp::{self, Layout, ParseContext};
use reconstruct_core::{CollectContext, Detail, TimeWindow, Timestamp, VecSink, Zone};

/// A small deterministic generator, so a failure can be replayed.
struct Soup(u64);

impl Soup {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Bytes biased towards what parsers look for: digits, separators, quotes, braces, newlines.
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        const ALPHABET: &[u8] = b"0123456789-:T Z.+,/[]{}\"'=|\t\n\rabcdefERRORWANINFOLGpanic:\\x1b\x00\xff\xc3";
        (0..n).map(|_| ALPHABET[(self.next() % ALPHABET.len() as u64) as usize]).collect()
    }
}

fn window() -> TimeWindow {
    TimeWindow::new(Timestamp::from_unix_nanos(0), Timestamp::from_unix_nanos(4_000_000_000_000_000_000)).unwrap()
}

fn inputs() -> Vec<Vec<u8>> {
    let mut soup = Soup(0x2025_1226_1430_0015);
    let mut v: Vec<Vec<u8>> = (0..300).map(|i| soup.bytes(1 + i * 7 % 2000)).collect();
    let seed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/inc-20251226-001/postgres/postgresql-15-main.log"
    ))
    .unwrap();
    for cut in [1, 17, 100, 999, 5000] {
        v.push(seed[..cut.min(seed.len())].to_vec());
    }
    v.push(b"2025-12-26T14:30:15Z ".repeat(50_000));
    v.push(vec![b'{'; 100_000]);
    v.push(b"\"".repeat(10_000));
    v
}

#[test]
fn timestamp_layouts_survive_garbage() {
    let ctx = ParseContext::new(Zone::Utc, Timestamp::from_unix_nanos(1_766_761_200_000_000_000));
    for input in inputs() {
        for start in 0..input.len().min(64) {
            for l in Layout::ALL {
                let _ = timestamp::parse(l, &input[start..], &ctx);
            }
        }
    }
}

#[test]
fn log_scanner_survives_garbage() {
    let ctx = CollectContext { window: window(), detail: Detail::All, anchor: None };
    for input in inputs() {
        let cfg = reconstruct_logfile::ScanConfig {
            path: "soup.log".into(),
            component: "soup".into(),
            zone: Zone::Utc,
            locate: None,
            codec: None,
            found: false,
        };
        let mut sink = VecSink::default();
        let _ = reconstruct_logfile::scan::scan(input.as_slice(), &cfg, &ctx, &mut sink);
        // The same bytes behind each compression format's magic number.
        for magic in [&[0x1f, 0x8b][..], b"BZh9", &[0xfd, b'7', b'z', b'X', b'Z', 0], &[0x28, 0xb5, 0x2f, 0xfd]] {
            let mut bytes = magic.to_vec();
            bytes.extend_from_slice(&input);
            let size = bytes.len() as u64;
            if let Ok((r, codec)) = reconstruct_logfile::compressed::open(std::io::Cursor::new(bytes), size) {
                let cfg = reconstruct_logfile::ScanConfig { codec, ..cfg.clone() };
                let _ = reconstruct_logfile::scan::scan(r, &cfg, &ctx, &mut VecSink::default());
            }
        }
    }
}

#[test]
fn collector_parsers_survive_garbage() {
    for input in inputs() {
        let _ = reconstruct_git::saved::parse(&input);
        let _ = reconstruct_postgres::serverlog::read_stderr(input.as_slice(), &Zone::Utc, |_| {});
        let _ = reconstruct_postgres::serverlog::read_csv(input.as_slice(), |_| {});
        let _ = reconstruct_postgres::serverlog::read_json(input.as_slice(), |_| {});
        let _ = reconstruct_postgres::activity::parse_csv(&input);
        let text = String::from_utf8_lossy(&input);
        let _ = reconstruct_postgres::redact::redact_sql(&text);
        let _ = reconstruct_postgres::redact::redact_detail(&text);
        let _ = reconstruct_postgres::dsn::mask(&text);
        let _ = reconstruct_docker::parse::compose_lines(&input);
        let c = reconstruct_docker::parse::Container {
            name: "x_1".into(),
            service: "x".into(),
            component: "x".into(),
            plain: false,
        };
        for line in input.split(|b| *b == b'\n') {
            let _ = reconstruct_docker::parse::log_line(
                &c,
                "stdout",
                line,
                &window(),
                reconstruct_core::Detail::All,
                &mut None,
            );
        }
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&input) {
            let _ = reconstruct_docker::parse::event_fact(&v);
            let _ = reconstruct_docker::parse::inspect_facts(&v);
        }
        let _ = reconstruct_prometheus::parse::data(&input);
        let _ = reconstruct_prometheus::fetch::mask(&text);
        let _ = reconstruct::annotate::rows(&text);
        let _ = reconstruct::redact::mask(&text);
        let _ = reconstruct::summarise::template(&text);
        let _ = reconstruct::render::markdown::cell(&text, 200);
        let _ = reconstruct::render::markdown::code(&text);
    }
}

#[test]
fn odd_api_answers_do_not_panic() {
    let odd = [
        r#"{"resultType":"matrix","result":[{"metric":{"alertname":1},"values":[[1e300,"1"],["x"],[null],[-5.5,"1"],[]]}]}"#,
        r#"{"resultType":"matrix","result":[{"values":[[1766759415.999999,"1"]]}],"groups":[{"interval":-1,"rules":[{"type":"alerting"}]}]}"#,
        r#"{"groups":[{"interval":"x","rules":[{"type":"alerting","name":"A","duration":"y","annotations":[]}]}],"alerts":[{"labels":7,"activeAt":"soon"}]}"#,
        r#"[{"labels":{"alertname":"A"},"status":{"silencedBy":[1,null,"s"]},"startsAt":"never"},{"matchers":"x"}]"#,
        r#"{"Name":"/x","State":{"Running":false,"FinishedAt":"9999-99-99","Health":{"Log":[{"End":"2025-12-26T14:00:00Z","ExitCode":"x"},{}]}},"Config":{"Healthcheck":{"Retries":-3}}}"#,
        r#"{"Type":"container","Action":"health_status: ","Actor":{"Attributes":{"exitCode":"999999999999999999999"}},"timeNano":-1}"#,
    ];
    let w = window();
    for text in odd {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let rules = reconstruct_prometheus::parse::rules(&v).unwrap_or_default();
        let active = reconstruct_prometheus::parse::active(&v).unwrap_or_default();
        let series = reconstruct_prometheus::parse::series(&v).unwrap_or_default();
        let ctx = reconstruct_prometheus::parse::Context {
            url: Some("http://p"),
            rules: &rules,
            active: &active,
            default_interval: 0.0,
            read_at: Timestamp::from_unix_nanos(i64::MAX),
        };
        let _ = reconstruct_prometheus::parse::history(&series, &w, &ctx);
        let silences = reconstruct_prometheus::alertmanager::silences(&v).unwrap_or_default();
        let _ = reconstruct_prometheus::alertmanager::events(&v, &silences, &w, "am");
        let _ = reconstruct_docker::parse::inspect_facts(&v);
        let _ = reconstruct_docker::parse::event_fact(&v);
    }
}

/// The fuzz targets, compiled here too so that their seeds and every
/// finding kept in `tests/fuzz/regressions/TARGET/` are replayed by the suite.
#[path = "fuzz/src/lib.rs"]
mod targets;

#[test]
fn fuzz_findings_and_seeds_stay_fixed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/regressions");
    let mut replayed = 0;
    for t in targets::TARGETS {
        let dir = root.join(t);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let bytes = std::fs::read(e.path()).unwrap();
            targets::run(t, &bytes);
            replayed += 1;
        }
    }
    // Every target also takes byte soup and the seed files.
    for t in targets::TARGETS {
        for input in inputs() {
            targets::run(t, &input);
        }
    }
    assert!(replayed > 0, "the regression inputs are there");
}
