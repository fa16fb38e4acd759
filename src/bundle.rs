//! Saved evidence bundles (`--fixtures DIR`): which collector reads which
//! file, by the bundle's layout or by its optional `manifest.json`.
//!
//! Layout (the README documents the command that saves each kind):
//!
//! ```text
//! DIR/logs/**          any text log           → logfile collector
//! DIR/git/*.log        saved `git log` text   → git collector
//! DIR/postgres/pg_stat_activity*.csv            → postgres collector (sample)
//! DIR/postgres/**      server log (stderr, csvlog, jsonlog) → postgres collector
//! DIR/docker/events*   `docker events` JSON lines               → docker collector
//! DIR/docker/inspect*  `docker inspect` JSON                    → docker collector
//! DIR/docker/**        `docker-compose logs --timestamps` text  → docker collector
//! DIR/prometheus/**    saved API answers (rules, alerts, ALERTS) → prometheus collector
//! DIR/manifest.json    optional: per-file kind, component, zone, timestamp format
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    Log,
    GitLog,
    /// `psql --csv` output of the pg_stat_activity sample query.
    PgActivity,
    /// A PostgreSQL server log (stderr, csvlog or jsonlog).
    PgLog,
    /// `docker-compose logs --timestamps --no-color` output.
    ComposeLogs,
    /// `docker events --format '{{json .}}'` output.
    DockerEvents,
    /// `docker inspect` output.
    DockerInspect,
    /// A saved Prometheus API answer (rules, alerts, or the ALERTS history).
    Prometheus,
    /// Rows people added (`--annotate` files).
    Annotations,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub path: String,
    pub kind: Option<FileKind>,
    pub component: Option<String>,
    pub tz: Option<String>,
    pub timestamp_format: Option<String>,
    /// Written by capture: SHA-256 of the file as saved.
    pub sha256: Option<String>,
    /// Written by capture: where the file came from.
    pub source: Option<String>,
    /// Written by capture: when it was saved.
    pub captured_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub files: Vec<ManifestFile>,
}

/// One file of the bundle and who reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub path: PathBuf,
    /// The path relative to the bundle, as evidence names it (`logs/backend.log`).
    pub display: String,
    pub kind: FileKind,
    pub component: Option<String>,
    pub tz: Option<String>,
    pub timestamp_format: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{0} is not a directory (give --fixtures the bundle's folder)")]
    NotADirectory(String),
    #[error("cannot read {path}: {source}")]
    Manifest { path: String, source: std::io::Error },
    #[error("{path}: line {line}, column {column}: {message}")]
    ManifestSyntax { path: String, line: usize, column: usize, message: String },
    #[error("{path}: the manifest names {file}, which is not in the bundle")]
    Missing { path: String, file: String },
}

pub struct Plan {
    pub files: Vec<Planned>,
    /// Files no collector reads, said on stderr so nothing is ignored unseen.
    pub unread: Vec<String>,
}

fn relative(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&e.path(), out),
            Ok(t) if t.is_file() => out.push(e.path()),
            _ => {}
        }
    }
}

fn kind_by_layout(rel: &str) -> Option<FileKind> {
    let top = rel.split('/').next().unwrap_or_default();
    let name = rel.rsplit('/').next().unwrap_or_default();
    match top {
        "logs" => Some(FileKind::Log),
        "git" => Some(FileKind::GitLog),
        "postgres" if name.starts_with("pg_stat_activity") => Some(FileKind::PgActivity),
        "postgres" => Some(FileKind::PgLog),
        "docker" if name.starts_with("events") => Some(FileKind::DockerEvents),
        "docker" if name.starts_with("inspect") => Some(FileKind::DockerInspect),
        "docker" => Some(FileKind::ComposeLogs),
        "prometheus" => Some(FileKind::Prometheus),
        "annotations" => Some(FileKind::Annotations),
        _ => None,
    }
}

pub fn plan(dir: &Path) -> Result<Plan, BundleError> {
    if !dir.is_dir() {
        return Err(BundleError::NotADirectory(dir.display().to_string()));
    }
    let manifest_path = dir.join("manifest.json");
    let manifest = if manifest_path.is_file() {
        let shown = manifest_path.display().to_string();
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|source| BundleError::Manifest { path: shown.clone(), source })?;
        serde_json::from_str::<Manifest>(&text).map_err(|e| BundleError::ManifestSyntax {
            path: shown,
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?
    } else {
        Manifest::default()
    };
    let mut by_path: HashMap<String, ManifestFile> = HashMap::new();
    for f in manifest.files {
        if !dir.join(&f.path).is_file() {
            return Err(BundleError::Missing { path: manifest_path.display().to_string(), file: f.path });
        }
        by_path.insert(f.path.trim_start_matches("./").to_string(), f);
    }
    let mut paths = Vec::new();
    walk(dir, &mut paths);
    paths.sort();
    let mut files = Vec::new();
    let mut unread = Vec::new();
    for p in paths {
        let rel = relative(dir, &p);
        let entry = by_path.remove(&rel);
        let kind = entry.as_ref().and_then(|e| e.kind).or_else(|| kind_by_layout(&rel));
        let Some(kind) = kind else {
            let doc = rel == "manifest.json" || rel.ends_with(".md") || !rel.contains('/');
            if !doc {
                unread.push(rel);
            }
            continue;
        };
        let e = entry.unwrap_or_default();
        files.push(Planned {
            path: p,
            display: rel,
            kind,
            component: e.component,
            tz: e.tz,
            timestamp_format: e.timestamp_format,
        });
    }
    Ok(Plan { files, unread })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_manifest() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("logs/nested")).unwrap();
        std::fs::create_dir_all(d.path().join("git")).unwrap();
        std::fs::create_dir_all(d.path().join("other")).unwrap();
        for f in ["logs/a.log", "logs/nested/b.log", "git/repo.log", "README.md", "other/x.bin", "weird.txt"] {
            std::fs::write(d.path().join(f), "x").unwrap();
        }
        std::fs::write(
            d.path().join("manifest.json"),
            r#"{"files":[{"path":"weird.txt","kind":"log","component":"edge","tz":"Europe/Paris"}]}"#,
        )
        .unwrap();
        let p = plan(d.path()).unwrap();
        let names: Vec<_> = p.files.iter().map(|f| (f.display.as_str(), f.kind)).collect();
        assert_eq!(
            names,
            vec![
                ("git/repo.log", FileKind::GitLog),
                ("logs/a.log", FileKind::Log),
                ("logs/nested/b.log", FileKind::Log),
                ("weird.txt", FileKind::Log)
            ]
        );
        assert_eq!(p.files[3].component.as_deref(), Some("edge"));
        assert_eq!(p.unread, vec!["other/x.bin".to_string()]);
    }

    #[test]
    fn manifest_errors_name_the_line() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("manifest.json"), "{\"files\": [\n {\"path\": \"a\", \"colour\": 1}]}").unwrap();
        let e = plan(d.path()).err().unwrap().to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(plan(&d.path().join("nope")).is_err());
    }
}
