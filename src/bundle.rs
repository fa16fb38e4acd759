//! Saved evidence bundles: which collector reads which file of a bundle
//! (`--fixtures DIR`), by its layout or by its optional `manifest.json`, and
//! the writer `capture` fills, with the same typed manifest.
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
//! DIR/journal/**       `journalctl -o export` streams            → journal collector
//! DIR/loki/*.jsonl     Loki query_range pages, after a header    → stores collector
//! DIR/elasticsearch/*.jsonl  search answers, after a header       → stores collector
//! DIR/swarm/**         services.json, tasks.json, events.jsonl, logs/<service>.log → docker collector
//! DIR/kubernetes/**    pod and Event lists, logs/<ns>/<pod>/<container>.log → kubernetes collector
//! DIR/manifest.json    optional: per-file kind, component, zone, timestamp format
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use reconstruct_core::slice::{Extra, Masker, Slice};
use reconstruct_core::{SourceKind, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub path: String,
    /// Its role: which slice reads it, and how (a slice's `roles`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_format: Option<String>,
    /// Written by capture: SHA-256 of the file as saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Written by capture: where the file came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Written by capture: when it was saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// A log found under a directory or glob rather than named: read back,
    /// a file there without timestamps is skipped, as it was live.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub found: bool,
}

/// The window a bundle was captured for.
#[derive(Debug, Deserialize, Serialize)]
pub struct ManifestWindow {
    pub since: String,
    pub until: String,
}

/// A source capture could not save.
#[derive(Debug, Deserialize, Serialize)]
pub struct ManifestFailure {
    pub source: String,
    pub error: String,
    /// The kind of the source and what it read, so a replay names the
    /// failure as the live run did (absent in older manifests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<SourceKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Manifest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<ManifestWindow>,
    /// The files' secrets were masked when they were saved (`capture --redact`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<ManifestFailure>,
    #[serde(default)]
    pub files: Vec<ManifestFile>,
}

/// Writes a bundle: files under their kind's folder, each listed in the
/// manifest with its source, capture time and SHA-256.
pub struct BundleWriter {
    dir: PathBuf,
    files: Vec<ManifestFile>,
    names: BTreeMap<String, u32>,
    captured_at: Timestamp,
    /// Mask secrets in what is written (`capture --redact`).
    redact: bool,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl BundleWriter {
    /// A writer into `dir`, which must not exist or be empty.
    pub fn start(dir: &Path, captured_at: Timestamp, redact: bool) -> anyhow::Result<Self> {
        use anyhow::Context;
        if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
            anyhow::bail!("{} exists and is not empty: capture writes a new bundle", dir.display());
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        owner_only(dir, 0o700).with_context(|| format!("cannot restrict {}", dir.display()))?;
        Ok(BundleWriter { dir: dir.to_path_buf(), files: Vec::new(), names: BTreeMap::new(), captured_at, redact })
    }

    /// Whether secrets are masked in the files written.
    pub fn redacting(&self) -> bool {
        self.redact
    }

    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// A free name under `folder/` for `wanted` (two `app.log` become `app.log` and `app-2.log`).
    pub fn name(&mut self, folder: &str, wanted: &str) -> String {
        let clean: String =
            wanted.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
        let key = format!("{folder}/{clean}");
        let n = self.names.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(1);
        if *n == 1 {
            return key;
        }
        match clean.split_once('.') {
            Some((stem, ext)) => format!("{folder}/{stem}-{n}.{ext}"),
            None => format!("{key}-{n}"),
        }
    }

    fn entry(&self, rel: &str, role: &str, source: &str, sha256: String, extra: Extra) -> ManifestFile {
        ManifestFile {
            path: rel.to_string(),
            kind: Some(role.to_string()),
            component: extra.component,
            tz: extra.tz,
            timestamp_format: extra.timestamp_format,
            sha256: Some(sha256),
            source: Some(source.to_string()),
            captured_at: Some(self.captured_at.rfc3339()),
            found: extra.found,
        }
    }

    /// Writes `bytes` as `rel` and lists it.
    pub fn add(&mut self, rel: &str, bytes: &[u8], role: &str, source: &str, extra: Extra) -> Result<(), String> {
        let path = self.dir.join(rel);
        let masked;
        let bytes = if self.redact {
            masked = crate::redact::Lines::default().text(bytes);
            masked.as_slice()
        } else {
            bytes
        };
        let mut f = self.create(rel)?;
        f.write_all(bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let entry = self.entry(rel, role, source, hex(&Sha256::digest(bytes)), extra);
        self.files.push(entry);
        Ok(())
    }

    /// A file to stream into, readable by its owner only (a bundle holds
    /// raw evidence, secrets included); list it with [`BundleWriter::add_written`].
    pub fn create(&mut self, rel: &str) -> Result<std::fs::File, String> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            owner_only(parent, 0o700).map_err(|e| format!("cannot restrict {}: {e}", parent.display()))?;
        }
        let f = std::fs::File::create(&path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        owner_only(&path, 0o600).map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
        Ok(f)
    }

    /// Removes a file begun with [`BundleWriter::create`] that will not be listed.
    pub fn discard(&mut self, rel: &str) {
        let _ = std::fs::remove_file(self.dir.join(rel));
    }

    /// Lists a file already written under the bundle, hashing it from disk.
    pub fn add_written(&mut self, rel: &str, role: &str, source: &str, extra: Extra) -> Result<(), String> {
        let path = self.dir.join(rel);
        let hash = hash_file(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let entry = self.entry(rel, role, source, hash, extra);
        self.files.push(entry);
        Ok(())
    }

    /// Copies a file into `folder/` under a free name, streaming it, and lists it.
    /// Redacting, a compressed file is written decompressed, its lines masked.
    pub fn copy(&mut self, folder: &str, from: &Path, role: &str, extra: Extra) -> Result<(), String> {
        let mut name = from.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
        let cannot = |e: std::io::Error| format!("cannot copy {}: {e}", from.display());
        let src = std::fs::File::open(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        if !self.redact {
            let rel = self.name(folder, &name);
            let mut src = src;
            let mut dst = std::io::BufWriter::new(self.create(&rel)?);
            std::io::copy(&mut src, &mut dst).and_then(|_| dst.flush()).map_err(cannot)?;
            return self.add_written(&rel, role, &from.display().to_string(), extra);
        }
        let size = src.metadata().map(|m| m.len()).unwrap_or(0);
        let (mut text, codec) = reconstruct_logfile::compressed::open(src, size).map_err(cannot)?;
        if codec.is_some() {
            if let Some((stem, _)) = name.rsplit_once('.') {
                name = stem.to_string();
            }
        }
        let rel = self.name(folder, &name);
        let mut dst = crate::redact::MaskingWriter::new(std::io::BufWriter::new(self.create(&rel)?));
        std::io::copy(&mut text, &mut dst).map_err(cannot)?;
        dst.finish().map_err(cannot)?;
        self.add_written(&rel, role, &from.display().to_string(), extra)
    }

    /// Writes `manifest.json` with the window and what could not be captured.
    pub fn finish(self, window: ManifestWindow, failures: Vec<ManifestFailure>) -> anyhow::Result<usize> {
        use anyhow::Context;
        let n = self.files.len();
        let manifest = Manifest {
            tool: Some(format!("reconstruct {}", env!("CARGO_PKG_VERSION"))),
            captured_at: Some(self.captured_at.rfc3339()),
            window: Some(window),
            redacted: self.redact,
            failures,
            files: self.files,
        };
        let path = self.dir.join("manifest.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&manifest)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        owner_only(&path, 0o600).with_context(|| format!("cannot restrict {}", path.display()))?;
        Ok(n)
    }
}

/// What a slice's spec sees of the writer when it saves itself.
impl reconstruct_core::slice::Bundle for BundleWriter {
    fn masker(&self) -> Masker {
        Masker { mask: self.redact.then_some(crate::redact::mask as reconstruct_core::slice::MaskFn) }
    }

    fn name(&mut self, folder: &str, wanted: &str) -> String {
        BundleWriter::name(self, folder, wanted)
    }

    fn add(&mut self, rel: &str, bytes: &[u8], role: &str, source: &str, extra: Extra) -> Result<(), String> {
        BundleWriter::add(self, rel, bytes, role, source, extra)
    }

    fn create(&mut self, rel: &str) -> Result<std::fs::File, String> {
        BundleWriter::create(self, rel)
    }

    fn line_writer<'w>(&self, w: Box<dyn Write + 'w>) -> Box<dyn Write + 'w> {
        if self.redact {
            Box::new(crate::redact::MaskingWriter::new(w))
        } else {
            w
        }
    }

    fn discard(&mut self, rel: &str) {
        BundleWriter::discard(self, rel)
    }

    fn add_written(&mut self, rel: &str, role: &str, source: &str, extra: Extra) -> Result<(), String> {
        BundleWriter::add_written(self, rel, role, source, extra)
    }

    fn copy(&mut self, folder: &str, from: &Path, role: &str, extra: Extra) -> Result<(), String> {
        BundleWriter::copy(self, folder, from, role, extra)
    }
}

/// Gives a path the permission bits `mode` (on Unix; elsewhere a no-op).
fn owner_only(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// SHA-256 of a file, read in blocks.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut f = std::fs::File::open(path)?;
    std::io::copy(&mut f, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

/// Reads a bundle's manifest, naming the line of a syntax error.
pub fn read_manifest(path: &Path) -> Result<Manifest, BundleError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| BundleError::Manifest { path: shown.clone(), source })?;
    serde_json::from_str::<Manifest>(&text).map_err(|e| BundleError::ManifestSyntax {
        path: shown,
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// One file of the bundle and who reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub path: PathBuf,
    /// The path relative to the bundle, as evidence names it (`logs/backend.log`).
    pub display: String,
    /// Its role, one a slice of the registry reads.
    pub role: String,
    pub component: Option<String>,
    pub tz: Option<String>,
    pub timestamp_format: Option<String>,
    /// Found under a directory or glob when captured (see [`ManifestFile::found`]).
    pub found: bool,
}

/// Whether anything vouches for a bundle's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// Capture's manifest lists every file read, with its SHA-256
    /// (`verify` checks them); files it does not list are not read.
    Listed,
    /// No manifest, or one written by hand without hashes: every file is
    /// read by its place in the layout, and nothing vouches for them.
    Unverified,
}

/// What a run learned about the bundle it read, for the coverage section.
#[derive(Clone, Debug)]
pub struct BundleCheck {
    pub trust: Trust,
    /// Files in the folder that the manifest does not list: not read.
    pub unlisted: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{0} is not a directory (give --fixtures the bundle's folder)")]
    NotADirectory(String),
    #[error("{0} holds no evidence: no manifest.json and no file in logs/, git/, docker/, postgres/, prometheus/, journal/ or another folder of the bundle layout (see the README)")]
    Empty(String),
    #[error("cannot read {path}: {source}")]
    Manifest { path: String, source: std::io::Error },
    #[error("{path}: line {line}, column {column}: {message}")]
    ManifestSyntax { path: String, line: usize, column: usize, message: String },
    #[error("{path}: the manifest names {file}, which is not in the bundle")]
    Missing { path: String, file: String },
    #[error("{path}: the manifest names {file}, which is outside the bundle; refused")]
    Outside { path: String, file: String },
}

pub struct Plan {
    pub files: Vec<Planned>,
    pub check: BundleCheck,
    /// Sources capture could not save, as its manifest lists them.
    pub failures: Vec<ManifestFailure>,
    /// Files no collector reads, said on stderr so nothing is ignored unseen.
    pub unread: Vec<String>,
    /// Links and special files, not read.
    pub refused: Vec<String>,
}

pub use reconstruct_core::slice::relative;

/// Regular files below `dir`; links and special files (a FIFO, a device)
/// go to `refused`: a bundle is read as files that are in it, and a FIFO
/// would never end.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, refused: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&e.path(), out, refused),
            Ok(t) if t.is_file() => out.push(e.path()),
            _ => refused.push(e.path()),
        }
    }
}

/// The manifest itself and a README beside the evidence: a bundle's own
/// papers, never read as evidence, so never "unlisted".
pub fn is_documentation(rel: &str) -> bool {
    rel == "manifest.json" || (!rel.contains('/') && rel.ends_with(".md"))
}

/// Which file of the bundle each slice reads: by the manifest's role for
/// it, else by its place in the layout.
pub fn plan(dir: &Path, slices: &[&dyn Slice]) -> Result<Plan, BundleError> {
    if !dir.is_dir() {
        return Err(BundleError::NotADirectory(dir.display().to_string()));
    }
    let manifest_path = dir.join("manifest.json");
    let manifest = if manifest_path.is_file() { read_manifest(&manifest_path)? } else { Manifest::default() };
    // Capture's manifest is the bundle's list of contents; a hand-made one
    // (no capture time, no hashes) only says how to read some files.
    let listed = manifest.captured_at.is_some() || manifest.files.iter().any(|f| f.sha256.is_some());
    let failures = manifest.failures;
    let mut by_path: HashMap<String, ManifestFile> = HashMap::new();
    let root =
        dir.canonicalize().map_err(|source| BundleError::Manifest { path: dir.display().to_string(), source })?;
    for f in manifest.files {
        // A bundle names its own files: nothing absolute, nothing above it,
        // no link that leads out of it.
        let rel = Path::new(&f.path);
        let escapes = rel.is_absolute()
            || rel.components().any(|c| !matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
        let inside = dir.join(rel).canonicalize().ok().is_some_and(|p| p.starts_with(&root));
        if escapes || (dir.join(rel).exists() && !inside) {
            return Err(BundleError::Outside { path: manifest_path.display().to_string(), file: f.path });
        }
        if !dir.join(&f.path).is_file() {
            return Err(BundleError::Missing { path: manifest_path.display().to_string(), file: f.path });
        }
        by_path.insert(f.path.trim_start_matches("./").to_string(), f);
    }
    let mut paths = Vec::new();
    let mut refused = Vec::new();
    walk(dir, &mut paths, &mut refused);
    paths.sort();
    refused.sort();
    let mut files = Vec::new();
    let mut unread = Vec::new();
    let mut unlisted = Vec::new();
    for p in paths {
        let rel = relative(dir, &p);
        let entry = by_path.remove(&rel);
        if listed && entry.is_none() {
            if !is_documentation(&rel) {
                unlisted.push(rel);
            }
            continue;
        }
        let known = |role: &str| slices.iter().any(|s| s.roles().contains(&role));
        let role = match entry.as_ref().and_then(|e| e.kind.clone()) {
            Some(k) => Some(k).filter(|k| known(k)),
            None => slices.iter().find_map(|s| s.recognise(&rel)).map(str::to_string),
        };
        let Some(role) = role else {
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
            role,
            component: e.component,
            tz: e.tz,
            timestamp_format: e.timestamp_format,
            found: e.found,
        });
    }
    let refused: Vec<String> = refused.iter().map(|p| relative(dir, p)).collect();
    if files.is_empty() && unlisted.is_empty() && failures.is_empty() && !manifest_path.is_file() {
        return Err(BundleError::Empty(dir.display().to_string()));
    }
    let trust = if listed { Trust::Listed } else { Trust::Unverified };
    Ok(Plan { files, check: BundleCheck { trust, unlisted }, failures, unread, refused })
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
        let p = plan(d.path(), crate::registry::current()).unwrap();
        let names: Vec<_> = p.files.iter().map(|f| (f.display.as_str(), f.role.as_str())).collect();
        assert_eq!(
            names,
            vec![
                ("git/repo.log", "git-log"),
                ("logs/a.log", "log"),
                ("logs/nested/b.log", "log"),
                ("weird.txt", "log")
            ]
        );
        assert_eq!(p.files[3].component.as_deref(), Some("edge"));
        assert_eq!(p.unread, vec!["other/x.bin".to_string()]);
    }

    #[test]
    fn manifest_errors_name_the_line() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("manifest.json"), "{\"files\": [\n {\"path\": \"a\", \"colour\": 1}]}").unwrap();
        let e = plan(d.path(), crate::registry::current()).err().unwrap().to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(plan(&d.path().join("nope"), crate::registry::current()).is_err());
    }
}
