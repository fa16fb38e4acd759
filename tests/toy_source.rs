#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! A kind of source added through the registry alone: a toy "ticks" source
//! (a file of `RFC3339 text` lines) with its own flag, its own
//! `reconstruct.toml` table and its own bundle folder, registered beside
//! the product's kinds and run end to end: live, captured, replayed. Nothing
//! in `src/` names it. In the product it would be its crate, one registry
//! line and, for its own name in coverage, one `SourceKind` variant; here it
//! reports as annotations, the one kind a test may borrow.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, FromArgMatches};
use reconstruct::Exit;
use reconstruct_core::event::{Event, EventKind, Evidence, Locator, TimeBasis};
use reconstruct_core::slice::{
    Bundle, Common, ConfigError, ConfigText, Extra, Identity, Resolution, ResolveError, SavedFile, Slice, Spec,
};
use reconstruct_core::{
    CollectContext, CollectError, Collector, EventSink, Severity, Source, SourceId, SourceKind, Zone,
};

const ROLE: &str = "ticks";

#[derive(Debug, Args)]
#[group(skip)]
struct Flags {
    /// A ticks file to read.
    #[arg(long, value_name = "FILE")]
    ticks: Option<PathBuf>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Tables {
    ticks: Option<Entry>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    path: PathBuf,
}

#[derive(Debug)]
struct TicksSpec {
    file: PathBuf,
    display: String,
    live: bool,
}

struct Ticks;

impl Slice for Ticks {
    fn name(&self) -> &'static str {
        "ticks"
    }
    fn describe(&self) -> &'static str {
        "a toy: one event per line of a ticks file"
    }
    fn flags(&self, cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }
    fn naming_flags(&self) -> &'static [&'static str] {
        &["--ticks"]
    }
    fn tables(&self) -> &'static [&'static str] {
        &["ticks"]
    }
    fn check(&self, config: &ConfigText) -> Result<(), ConfigError> {
        config.parse::<Tables>().map(|_| ())
    }
    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let flags = Flags::from_arg_matches(r.matches).map_err(|e| ResolveError::Other(e.to_string()))?;
        let file = flags.ticks.or(r.config.parse::<Tables>()?.ticks.map(|e| e.path));
        if let Some(file) = file {
            let display = file.display().to_string();
            r.push(TicksSpec { file, display, live: true });
        }
        Ok(())
    }
    fn recognise(&self, rel: &str) -> Option<&'static str> {
        rel.starts_with("ticks/").then_some(ROLE)
    }
    fn roles(&self) -> &'static [&'static str] {
        &[ROLE]
    }
    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        for f in files {
            r.push_at(f.order, TicksSpec { file: f.path, display: f.display, live: false });
        }
        Ok(())
    }
    fn blind_spots(&self) -> &'static [(&'static [SourceKind], &'static str)] {
        &[(&[SourceKind::Annotation], "Ticks are as exact as the clock that wrote them.")]
    }
}

impl Spec for TicksSpec {
    fn kind(&self) -> SourceKind {
        SourceKind::Annotation
    }
    fn what(&self) -> String {
        self.display.clone()
    }
    fn open(self: Box<Self>, _c: &Common) -> Source {
        Source::Blocking(Box::new(TicksCollector { file: self.file, display: self.display }))
    }
    fn save(&self, _c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
        b.copy("ticks", &self.file, ROLE, Extra::default())
    }
    fn is_live(&self) -> bool {
        self.live
    }
    fn identity(&self) -> Identity {
        Identity::File { path: self.file.clone(), specific: true }
    }
}

struct TicksCollector {
    file: PathBuf,
    display: String,
}

impl Collector for TicksCollector {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Annotation, name: self.display.clone() }
    }
    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let text = std::fs::read_to_string(&self.file)?;
        for (i, line) in text.lines().enumerate() {
            let Some((time, what)) = line.split_once(' ') else { continue };
            let Some(p) = reconstruct_core::timestamp::parse_iso(time.as_bytes(), &Zone::Utc) else { continue };
            if !ctx.window.contains(p.time) {
                continue;
            }
            sink.emit(Event {
                time: p.time,
                basis: TimeBasis::Explicit,
                collector: SourceKind::Annotation,
                component: Arc::from("ticker"),
                kind: EventKind::Log,
                severity: Some(if what.contains("missed") { Severity::Error } else { Severity::Info }),
                summary: what.to_string(),
                evidence: Evidence {
                    locator: Locator::Line { path: Arc::from(self.display.as_str()), line: i as u64 + 1 },
                    excerpt: line.to_string(),
                },
                continuation_lines: 0,
                service: None,
                fact: None,
            })?;
        }
        sink.note("a toy source".into());
        Ok(())
    }
}

fn run(args: &[&str]) -> Exit {
    reconstruct::status(std::iter::once("reconstruct").chain(args.iter().copied()).map(std::ffi::OsString::from))
}

fn rows(path: &Path) -> Vec<(String, String, String)> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let t = e["time"].as_str().unwrap().to_string();
            (t, e["event"].as_str().unwrap().to_string(), e["evidence"].to_string())
        })
        .collect()
}

#[test]
fn a_kind_added_through_the_registry_alone_runs_live_captured_and_replayed() {
    static TICKS: Ticks = Ticks;
    let mut slices = reconstruct::registry::product();
    slices.push(&TICKS);
    assert!(reconstruct::registry::install(slices));

    let d = tempfile::tempdir().unwrap();
    let ticks = d.path().join("ticks.txt");
    std::fs::write(
        &ticks,
        "2025-12-26T14:00:00Z tick 1\n2025-12-26T14:01:00Z tick 2 missed\n2025-12-26T14:02:00Z tick 3\n",
    )
    .unwrap();
    let t = ticks.to_str().unwrap();
    let window = ["--since", "2025-12-26T13:59:00Z", "--until", "2025-12-26T14:05:00Z", "--no-git"];
    let out = |name: &str| d.path().join(name).to_str().unwrap().to_string();

    // Live, by its own flag.
    let live = out("live.json");
    let mut a = vec!["--ticks", t, "--all", "--format", "json", "-o", &live];
    a.extend(window);
    assert_eq!(run(&a), Exit::Ok);
    let got = rows(Path::new(&live));
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[1].1.contains("missed"));

    // By its own table in reconstruct.toml.
    let conf = d.path().join("reconstruct.toml");
    std::fs::write(&conf, format!("[ticks]\npath = {t:?}\n")).unwrap();
    let from_file = out("file.json");
    let mut a = vec!["--config", conf.to_str().unwrap(), "--all", "--format", "json", "-o", &from_file];
    a.extend(window);
    assert_eq!(run(&a), Exit::Ok);
    assert_eq!(rows(Path::new(&from_file)), got);

    // Captured into its own folder, and replayed to the same rows.
    let bundle = out("bundle");
    let mut a = vec!["capture", "--ticks", t, "--out", &bundle];
    a.extend(window);
    assert_eq!(run(&a), Exit::Ok);
    assert!(Path::new(&bundle).join("ticks/ticks.txt").is_file());
    let manifest = std::fs::read_to_string(Path::new(&bundle).join("manifest.json")).unwrap();
    assert!(manifest.contains("\"kind\": \"ticks\""), "{manifest}");
    let back = out("back.json");
    let mut a = vec!["--fixtures", &bundle, "--all", "--format", "json", "-o", &back];
    a.extend(window);
    assert_eq!(run(&a), Exit::Ok);
    let replayed = rows(Path::new(&back));
    assert_eq!(replayed.len(), got.len());
    for (r, g) in replayed.iter().zip(&got) {
        assert_eq!((&r.0, &r.1), (&g.0, &g.1), "same time and text");
        assert!(r.2.contains("ticks/ticks.txt"), "evidence names the bundle's copy: {}", r.2);
    }

    // Its blind spot is in the report, and a run with nothing names its flag.
    let report = out("report.md");
    let mut a = vec!["report", "--fixtures", &bundle, "-o", &report];
    a.extend(window);
    assert_eq!(run(&a), Exit::Ok);
    assert!(std::fs::read_to_string(&report).unwrap().contains("Ticks are as exact as the clock that wrote them."));
    let mut a = vec!["--config", "/nonexistent/none.toml"];
    a.extend(window);
    assert_eq!(run(&a), Exit::Error);
    let empty = d.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let mut a = vec!["--config", empty.to_str().unwrap()];
    a.extend(window);
    assert_eq!(run(&a), Exit::Error, "nothing to read, and --ticks is among the flags it names");
}
