//! Turning `--log` arguments (files, directories, globs) into files to read.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ExpandError {
    #[error("invalid glob {pattern:?}: {source}")]
    Pattern { pattern: String, source: glob::PatternError },
    #[error("no file matches {0:?}")]
    NoMatch(String),
    #[error("no such file or directory{}", there(.0))]
    Missing(Vec<String>),
    #[error("the directory holds no files")]
    Empty,
}

/// `; in /var/log there are: a.log, b.log, …`, for a path that is not there.
fn there(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!("; beside it there are: {}", names.join(", "))
    }
}

/// Up to a dozen names in the folder that should have held `path`, the
/// closest in spelling first, so a mistyped name shows the right one.
fn siblings(path: &Path) -> Vec<String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let wanted = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let mut names: Vec<(usize, String)> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .map(|n| (reconstruct_core::text::distance(&wanted, &n.to_lowercase()), n))
        .collect();
    names.sort();
    names.into_iter().take(12).map(|(_, n)| n).collect()
}

/// Expands one `--log` argument. A directory yields every regular file below
/// it (sorted, hidden files skipped); a glob its matches; a path that is not
/// there is an error naming what is beside it; anything else is returned as
/// is, so that an unreadable file is reported by the collector that tries to
/// open it, next to the sources that did work.
pub fn expand(arg: &str) -> Result<Vec<PathBuf>, ExpandError> {
    let path = Path::new(arg);
    if path.is_dir() {
        let mut out = Vec::new();
        walk(path, &mut out);
        out.sort();
        if out.is_empty() {
            return Err(ExpandError::Empty);
        }
        return Ok(out);
    }
    if arg.contains(['*', '?', '[']) && !path.exists() {
        let paths = glob::glob(arg).map_err(|source| ExpandError::Pattern { pattern: arg.to_string(), source })?;
        let mut out: Vec<PathBuf> = paths.filter_map(Result::ok).filter(|p| p.is_file()).collect();
        out.sort();
        if out.is_empty() {
            return Err(ExpandError::NoMatch(arg.to_string()));
        }
        return Ok(out);
    }
    if std::fs::symlink_metadata(path).is_err() {
        return Err(ExpandError::Missing(siblings(path)));
    }
    Ok(vec![path.to_path_buf()])
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

/// Names that say what kind of log a file is, not whose: `nginx/error.log`
/// and `apache2/error.log` are two programs' logs, told apart by their folder.
const GENERIC: [&str; 11] =
    ["error", "errors", "access", "current", "stdout", "stderr", "output", "out", "debug", "server", "main"];

/// Folders that say nothing of the program whose log they hold.
const PLAIN_FOLDERS: [&str; 5] = ["log", "logs", "var", "tmp", "."];

/// The component a file speaks for when its lines name none: its name
/// without extensions and rotation suffixes (`backend.log.1` → `backend`);
/// a generic name keeps its folder (`nginx/error.log` → `nginx/error`).
pub fn component_of(path: &Path) -> String {
    let name = file_component(path);
    if !GENERIC.contains(&name.as_str()) {
        return name;
    }
    let parent = path.parent().and_then(Path::file_name).map(|p| p.to_string_lossy().into_owned());
    match parent {
        Some(p) if !p.is_empty() && !PLAIN_FOLDERS.contains(&p.as_str()) => format!("{p}/{name}"),
        _ => name,
    }
}

fn file_component(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (base, _) = crate::rotation::place_of(&name);
    let mut parts: Vec<&str> = base.split('.').collect();
    while parts.len() > 1 {
        let last = parts.last().copied().unwrap_or_default();
        let drop = last.chars().all(|c| c.is_ascii_digit())
            || ["log", "txt", "out", "err", "json", "jsonl", "ndjson", "gz", "bz2", "xz", "zst"].contains(&last);
        if !drop {
            break;
        }
        parts.pop();
    }
    let c = parts.join(".");
    if c.is_empty() {
        name
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_from_names() {
        assert_eq!(component_of(Path::new("logs/backend.log")), "backend");
        assert_eq!(component_of(Path::new("logs/backend.log.1")), "backend");
        assert_eq!(component_of(Path::new("/var/log/nginx/error.log")), "nginx/error");
        assert_eq!(component_of(Path::new("/var/log/apache2/error.log.2.gz")), "apache2/error");
        assert_eq!(component_of(Path::new("logs/error.log")), "error");
        assert_eq!(component_of(Path::new("error.log")), "error");
        assert_eq!(component_of(Path::new("api.service.jsonl")), "api.service");
        assert_eq!(component_of(Path::new("syslog")), "syslog");
        assert_eq!(component_of(Path::new("logs/app.log-20251226.gz")), "app");
        assert_eq!(component_of(Path::new("logs/app.log.2.zst")), "app");
    }

    #[test]
    fn a_missing_path_names_what_is_there() {
        let d = tempfile::tempdir().unwrap();
        for f in ["backend.log", "worker.log", "zzz.txt"] {
            std::fs::write(d.path().join(f), "x").unwrap();
        }
        let e = expand(&format!("{}/backnd.log", d.path().display())).unwrap_err().to_string();
        assert!(e.starts_with("no such file or directory; beside it there are: backend.log, "), "{e}");
        std::fs::create_dir(d.path().join("empty")).unwrap();
        let e = expand(&format!("{}/empty", d.path().display())).unwrap_err();
        assert!(matches!(e, ExpandError::Empty));
    }

    #[test]
    fn globs_and_directories() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        for f in ["a.log", "b.log", "sub/c.log", ".hidden"] {
            std::fs::write(d.path().join(f), "x").unwrap();
        }
        let all = expand(d.path().to_str().unwrap()).unwrap();
        assert_eq!(all.len(), 3);
        let g = expand(&format!("{}/*.log", d.path().display())).unwrap();
        assert_eq!(g.len(), 2);
        assert!(expand(&format!("{}/*.nope", d.path().display())).is_err());
        assert!(matches!(expand("missing.log"), Err(ExpandError::Missing(_))));
    }
}
