//! `reconstruct capture` saves every configured live source into an
//! evidence bundle that `--fixtures` reads back, with a manifest of each
//! file's source, capture time, the window and its SHA-256; `reconstruct
//! verify` checks those hashes, so a bundle attached to a post-mortem can be
//! trusted later. pg_stat_activity is the reason it exists: it is gone tomorrow.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use reconstruct_core::Timestamp;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::cli::CaptureArgs;
use crate::config;
use crate::exit::Exit;

struct Bundle {
    dir: PathBuf,
    files: Vec<Value>,
    names: BTreeMap<String, u32>,
    captured_at: Timestamp,
}

impl Bundle {
    /// A free name under `folder/` for `wanted` (two `app.log` become `app.log` and `app-2.log`).
    fn name(&mut self, folder: &str, wanted: &str) -> String {
        let clean: String =
            wanted.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
        let key = format!("{folder}/{clean}");
        let n = self.names.entry(key.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            return key;
        }
        match clean.split_once('.') {
            Some((stem, ext)) => format!("{folder}/{stem}-{n}.{ext}"),
            None => format!("{key}-{n}"),
        }
    }

    fn add(&mut self, rel: &str, bytes: &[u8], kind: &str, source: &str, extra: Value) -> anyhow::Result<()> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        let mut entry = json!({
            "path": rel,
            "kind": kind,
            "source": source,
            "captured_at": self.captured_at.rfc3339(),
            "sha256": hex(&Sha256::digest(bytes)),
        });
        if let (Some(m), Value::Object(e)) = (entry.as_object_mut(), extra) {
            m.extend(e);
        }
        self.files.push(entry);
        Ok(())
    }
}

impl Bundle {
    /// Lists a file already written under the bundle, hashing it from disk.
    fn add_written(&mut self, rel: &str, kind: &str, source: &str, extra: Value) -> anyhow::Result<()> {
        let path = self.dir.join(rel);
        let mut hasher = Sha256::new();
        let mut f = std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        std::io::copy(&mut f, &mut hasher).with_context(|| format!("cannot read {}", path.display()))?;
        let mut entry = json!({
            "path": rel,
            "kind": kind,
            "source": source,
            "captured_at": self.captured_at.rfc3339(),
            "sha256": hex(&hasher.finalize()),
        });
        if let (Some(m), Value::Object(e)) = (entry.as_object_mut(), extra) {
            m.extend(e);
        }
        self.files.push(entry);
        Ok(())
    }
}

/// Writes streamed container lines as `docker-compose logs --timestamps`
/// prints them: `service_N  | line` (compose v1 names), or the container
/// name when it has no compose labels.
struct ComposeWriter {
    out: std::io::BufWriter<std::fs::File>,
    names: Vec<String>,
    error: Option<std::io::Error>,
}

impl reconstruct_docker::fetch::LogHandler for ComposeWriter {
    fn containers(&mut self, inspections: &[Value]) {
        self.names = inspections
            .iter()
            .map(|info| {
                let labels = info.get("Config").and_then(|c| c.get("Labels"));
                let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str).map(str::to_string);
                match (label("com.docker.compose.service"), label("com.docker.compose.container-number")) {
                    (Some(s), Some(n)) => format!("{s}_{n}"),
                    _ => info.get("Name").and_then(Value::as_str).unwrap_or("?").trim_start_matches('/').to_string(),
                }
            })
            .collect();
    }

    fn line(&mut self, index: usize, _stream: &'static str, line: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let name = self.names.get(index).map_or("?", String::as_str);
        let written = write!(self.out, "{name}  | ")
            .and_then(|()| self.out.write_all(line))
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(e) = written {
            self.error = Some(e);
        }
    }

    fn problem(&mut self, _index: usize, _message: String) {
        // A container whose logs cannot be read has no lines to save; its
        // inspection is still saved, and a live run names the problem.
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> anyhow::Result<Timestamp> {
    Timestamp::from_datetime(&chrono::Utc::now()).context("the system clock is out of range")
}

pub fn run(c: &CaptureArgs) -> anyhow::Result<Exit> {
    let (args, extra) = config::merge(c.sources.clone())?;
    if args.fixtures.is_some() {
        anyhow::bail!("capture saves live sources; --fixtures names a bundle that is saved already");
    }
    let p = crate::pipeline::prepare(&args)?;
    let (window, zone, timeout) = (p.window, p.zone, p.timeout);
    drop(p);
    if c.out.exists() && std::fs::read_dir(&c.out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        anyhow::bail!("{} exists and is not empty: capture writes a new bundle", c.out.display());
    }
    std::fs::create_dir_all(&c.out).with_context(|| format!("cannot create {}", c.out.display()))?;
    let mut b = Bundle { dir: c.out.clone(), files: Vec::new(), names: BTreeMap::new(), captured_at: now()? };
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut fail = |source: String, e: String| failures.push((source, e));

    // Log files: copied whole, so line numbers (the evidence) stay the same.
    let copy = |b: &mut Bundle, folder: &str, kind: &str, arg: &str, settings: Value| {
        let paths = match reconstruct_logfile::fetch::expand(arg) {
            Ok(p) => p,
            Err(e) => return Err(e.to_string()),
        };
        for path in paths {
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
            let rel = b.name(folder, &name);
            b.add(&rel, &bytes, kind, &path.display().to_string(), settings.clone()).map_err(|e| format!("{e:#}"))?;
        }
        Ok(())
    };
    for arg in &args.logs {
        let s = extra.logs.get(arg).cloned().unwrap_or_default();
        let settings = json!({
            "component": s.component.unwrap_or_else(|| reconstruct_logfile::fetch::component_of(Path::new(arg))),
            "tz": s.zone.unwrap_or(zone).to_string(),
            "timestamp_format": s.timestamp_format.or_else(|| args.timestamp_format.clone()),
        });
        let settings = drop_nulls(settings);
        if let Err(e) = copy(&mut b, "logs", "log", arg, settings) {
            fail(format!("logfile {arg}"), e);
        }
    }
    for arg in &args.postgres_logs {
        if let Err(e) = copy(&mut b, "postgres", "pg-log", arg, json!({ "tz": zone.to_string() })) {
            fail(format!("postgres {arg}"), e);
        }
    }
    for f in &args.annotate {
        if let Err(e) = copy(&mut b, "annotations", "annotations", &f.display().to_string(), json!({})) {
            fail(format!("annotation {}", f.display()), e);
        }
    }

    // Git: the commits of the window, in the saved `git log` form.
    let mut repos = args.git.clone();
    if repos.is_empty() && !args.no_git && reconstruct_git::walk::is_repository(Path::new(".")) {
        repos.push(PathBuf::from("."));
    }
    for r in repos {
        let name = extra.git_components.get(&r).cloned().unwrap_or_else(|| reconstruct_git::walk::repo_name(&r));
        match reconstruct_git::walk::commits_in_window(&r, &window) {
            Ok((commits, _)) => {
                let rel = b.name("git", &format!("{name}.log"));
                b.add(
                    &rel,
                    reconstruct_git::saved::write(&commits).as_bytes(),
                    "git-log",
                    &r.display().to_string(),
                    json!({ "component": name }),
                )?;
            }
            Err(e) => fail(format!("git {}", r.display()), e.to_string()),
        }
    }

    // PostgreSQL: the sample, as psql --csv would save it.
    if let Some(dsn) = &args.postgres {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let explicit = Some(dsn.as_str()).filter(|d| !d.is_empty());
        match reconstruct_postgres::dsn::resolve(explicit, &env) {
            Ok(d) => match reconstruct_postgres::fetch::sample(&d, timeout) {
                Ok(s) => match reconstruct_postgres::activity::write_csv(&s.rows) {
                    Ok(bytes) => b.add("postgres/pg_stat_activity.csv", &bytes, "pg-activity", &d.shown, json!({}))?,
                    Err(e) => fail(format!("postgres {}", d.shown), e),
                },
                Err(e) => fail(format!("postgres {}", d.shown), e.to_string()),
            },
            Err(e) => fail("postgres".into(), e.to_string()),
        }
    }

    // Docker: logs as `docker-compose logs --timestamps` prints them (streamed
    // to the file as they arrive), events and inspection.
    if args.docker || args.docker_host.is_some() || args.compose_project.is_some() {
        let host = args.docker_host.clone().unwrap_or_else(|| "local engine".into());
        let rel = "docker/compose-logs.txt";
        let path = b.dir.join(rel);
        std::fs::create_dir_all(b.dir.join("docker")).with_context(|| format!("cannot create {}", b.dir.display()))?;
        let file = std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
        let mut lines = ComposeWriter { out: std::io::BufWriter::new(file), names: Vec::new(), error: None };
        let fetched = reconstruct_docker::fetch::snapshot(
            args.docker_host.as_deref(),
            args.compose_project.as_deref(),
            &window,
            timeout,
            &mut lines,
        );
        let ComposeWriter { out, error, .. } = lines;
        out.into_inner().map_err(|e| e.into_error()).with_context(|| format!("cannot write {}", path.display()))?;
        if let Some(e) = error {
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
        match fetched {
            Ok(snap) => {
                b.add_written(rel, "compose-logs", &host, json!({}))?;
                let events: String = snap.events.iter().map(|e| format!("{e}\n")).collect();
                b.add("docker/events.jsonl", events.as_bytes(), "docker-events", &host, json!({}))?;
                let inspect = serde_json::to_vec_pretty(&snap.containers)?;
                b.add("docker/inspect.json", &inspect, "docker-inspect", &host, json!({}))?;
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                fail("docker".into(), e.to_string());
            }
        }
    }

    // Prometheus: the three answers, as the README's curl commands save them.
    if let Some(url) =
        args.prometheus.clone().or_else(|| std::env::var("PROMETHEUS_URL").ok()).filter(|u| !u.is_empty())
    {
        let env: std::collections::HashMap<String, String> = std::env::vars().collect();
        match reconstruct_prometheus::fetch::Endpoint::parse(&url, &env) {
            Ok(ep) => match reconstruct_prometheus::fetch::read(&ep, &window, now()?, timeout) {
                Ok(a) => {
                    let wrap = |d: &Value| serde_json::to_vec(&json!({ "status": "success", "data": d }));
                    if let Some(r) = &a.raw.0 {
                        b.add("prometheus/rules.json", &wrap(r)?, "prometheus", &ep.base, json!({}))?;
                    }
                    if let Some(al) = &a.raw.1 {
                        b.add("prometheus/alerts.json", &wrap(al)?, "prometheus", &ep.base, json!({}))?;
                    }
                    b.add("prometheus/alerts-history.json", &wrap(&a.raw.2)?, "prometheus", &ep.base, json!({}))?;
                }
                Err(e) => fail(format!("prometheus {}", ep.base), e.to_string()),
            },
            Err(e) => fail("prometheus".into(), e.to_string()),
        }
    }

    if let Some(url) = &args.alertmanager {
        let env: std::collections::HashMap<String, String> = std::env::vars().collect();
        match reconstruct_prometheus::fetch::Endpoint::parse(url, &env) {
            Ok(ep) => {
                let ep = ep.alertmanager();
                match reconstruct_prometheus::fetch::read_alertmanager(&ep, timeout) {
                    Ok((alerts, silences)) => {
                        b.add(
                            "prometheus/alertmanager-alerts.json",
                            &serde_json::to_vec(&alerts)?,
                            "prometheus",
                            &ep.base,
                            json!({}),
                        )?;
                        b.add(
                            "prometheus/alertmanager-silences.json",
                            &serde_json::to_vec(&silences)?,
                            "prometheus",
                            &ep.base,
                            json!({}),
                        )?;
                    }
                    Err(e) => fail(format!("alertmanager {}", ep.base), e.to_string()),
                }
            }
            Err(e) => fail("alertmanager".into(), e.to_string()),
        }
    }

    let manifest = json!({
        "tool": format!("reconstruct {}", env!("CARGO_PKG_VERSION")),
        "captured_at": b.captured_at.rfc3339(),
        "window": { "since": window.since.rfc3339(), "until": window.until.rfc3339() },
        "failures": failures.iter().map(|(s, e)| json!({ "source": s, "error": e })).collect::<Vec<_>>(),
        "files": b.files,
    });
    std::fs::write(c.out.join("manifest.json"), serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("cannot write {}", c.out.join("manifest.json").display()))?;
    if !args.quiet {
        eprintln!("reconstruct: captured {} files into {}", b.files.len(), c.out.display());
        for (s, e) in &failures {
            eprintln!("reconstruct: {s}: FAILED: {e}");
        }
    }
    if b.files.is_empty() && failures.is_empty() {
        anyhow::bail!("nothing to capture: name live sources (--log, --git, --docker, --postgres, --prometheus)");
    }
    Ok(if failures.is_empty() { Exit::Ok } else { Exit::Partial })
}

fn drop_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

/// Checks every file the manifest lists against its SHA-256; prints one
/// line per file and exits 1 when any changed or is missing.
pub fn verify(dir: &Path) -> anyhow::Result<Exit> {
    let mpath = dir.join("manifest.json");
    let text = std::fs::read(&mpath).with_context(|| format!("cannot read {}", mpath.display()))?;
    let manifest: Value = serde_json::from_slice(&text).with_context(|| format!("{} is not JSON", mpath.display()))?;
    let files = manifest
        .get("files")
        .and_then(Value::as_array)
        .with_context(|| format!("{} lists no files", mpath.display()))?;
    let mut bad = 0;
    let mut listed = std::collections::HashSet::new();
    for f in files {
        let Some(rel) = f.get("path").and_then(Value::as_str) else { continue };
        listed.insert(rel.to_string());
        let Some(expected) = f.get("sha256").and_then(Value::as_str) else {
            println!("UNHASHED {rel}");
            bad += 1;
            continue;
        };
        match std::fs::read(dir.join(rel)) {
            Ok(bytes) => {
                let found = hex(&Sha256::digest(&bytes));
                if found == expected {
                    println!("ok       {rel}");
                } else {
                    println!("CHANGED  {rel} (manifest {expected}, file {found})");
                    bad += 1;
                }
            }
            Err(e) => {
                println!("MISSING  {rel} ({e})");
                bad += 1;
            }
        }
    }
    let mut extra = Vec::new();
    walk(dir, dir, &mut extra);
    for rel in extra.into_iter().filter(|r| r != "manifest.json" && !listed.contains(r)) {
        println!("UNLISTED {rel} (not covered by the manifest)");
    }
    if bad > 0 {
        eprintln!("reconstruct: {bad} file(s) of {} do not match the manifest", files.len());
        Ok(Exit::Error)
    } else {
        eprintln!("reconstruct: all {} files match the manifest", files.len());
        Ok(Exit::Ok)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(
                rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/"),
            );
        }
    }
}
