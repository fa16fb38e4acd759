//! `reconstruct.toml`: the sources of a system named once, so that after an
//! outage the command is just `reconstruct --since 2h`. Flags given on the
//! command line override it. Unknown keys, bad URLs and bad zones are errors
//! that name the file and the line.
//!
//! ```toml
//! tz = "UTC"
//! timeout = 30
//!
//! [[git]]
//! path = "../backend"
//! component = "backend"
//!
//! [[log]]
//! path = "logs/*.log"
//! tz = "Europe/Paris"            # for lines without an offset
//! component = "backend"
//! timestamp_format = "%d.%m.%Y %H:%M:%S"
//!
//! [docker]
//! host = "unix:///var/run/docker.sock"
//! project = "scheduling"
//! swarm = false                   # true: the host is a swarm manager; read its services
//!
//! [postgres]
//! dsn_env = "DATABASE_URL"        # the DSN is read from this variable, never written here
//! logs = ["/var/log/postgresql/postgresql-15-main.log"]
//!
//! [prometheus]
//! url = "http://localhost:9090"
//! alertmanager = "http://localhost:9093"   # optional
//! tenant = "team-a"               # optional: Mimir's or Cortex's X-Scope-OrgID
//!
//! [journal]
//! paths = ["/var/log/journal/remote"]   # empty or absent: the local journal
//! units = ["nginx.service"]
//!
//! [loki]
//! url = "http://loki:3100"        # credentials from LOKI_USERNAME/LOKI_PASSWORD/LOKI_BEARER_TOKEN
//! query = '{namespace="shop"}'
//! tenant = "team-a"
//!
//! [elasticsearch]
//! url = "https://es:9200"        # ELASTICSEARCH_USERNAME/_PASSWORD/_BEARER_TOKEN
//! index = "logs-*"
//! time_field = "@timestamp"
//!
//! [kubernetes]
//! context = "prod"
//! namespace = "shop"
//!
//! annotate = ["notes/timeline.md"]
//! ```

use std::path::PathBuf;

use reconstruct_core::slice::{ConfigError, ConfigText, Slice};
use reconstruct_core::Zone;
use serde::Deserialize;
use toml::Spanned;

/// The keys of the file that are the run's, not a kind of source's.
#[derive(Debug, Default, Deserialize)]
struct Run {
    tz: Option<Spanned<String>>,
    timeout: Option<f64>,
}

/// The file's own settings, and its text for the slices to read their tables from.
#[derive(Debug, Default)]
pub struct Loaded {
    pub text: ConfigText,
    pub tz: Option<String>,
    pub timeout: Option<f64>,
}

/// Reads the configuration (the one given, else `./reconstruct.toml` when
/// present); no file is an empty configuration.
pub fn load(given: Option<&PathBuf>, slices: &[&dyn Slice]) -> Result<Loaded, ConfigError> {
    let path = match given {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from("reconstruct.toml")).filter(|p| p.is_file()),
    };
    let Some(path) = path else { return Ok(Loaded::default()) };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
    read(ConfigText { text, shown }, slices)
}

/// The file's run settings checked, and every top-level key one the run or
/// a slice of the registry owns.
pub fn read(text: ConfigText, slices: &[&dyn Slice]) -> Result<Loaded, ConfigError> {
    let run: Run = text.parse()?;
    let keys: toml::Table = text.parse()?;
    for key in keys.keys() {
        let known = key == "tz" || key == "timeout" || slices.iter().any(|s| s.tables().contains(&key.as_str()));
        if !known {
            let mut names = vec!["tz", "timeout"];
            names.extend(slices.iter().flat_map(|s| s.tables().iter().copied()));
            let at = key_offset(&text.text, key);
            return Err(text.error_at(at..at, format!("unknown key `{key}`; the keys are {}", names.join(", "))));
        }
    }
    if let Some(tz) = &run.tz {
        tz.get_ref().parse::<Zone>().map_err(|e| text.error_at(tz.span(), e.to_string()))?;
    }
    Ok(Loaded { tz: run.tz.map(Spanned::into_inner), timeout: run.timeout, text })
}

/// Where a top-level key is written: `key =`, `[key]` or `[[key]]` at a line's start.
fn key_offset(text: &str, key: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start().trim_start_matches('[').trim_start_matches('"');
        if t.strip_prefix(key).is_some_and(|rest| {
            let rest = rest.trim_start_matches('"').trim_start();
            rest.starts_with('=') || rest.starts_with(']') || rest.starts_with('.')
        }) {
            return offset;
        }
        offset += line.len();
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(t: &str) -> String {
        let slices = crate::registry::current();
        read(ConfigText { text: t.into(), shown: "sys.toml".into() }, slices).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = err("tz = \"UTC\"\ncolour = \"blue\"\n");
        assert!(e.starts_with("sys.toml:2: unknown key `colour`"), "{e}");
        let e = err("tz = \"Mars/Base\"\n");
        assert!(e.starts_with("sys.toml:1: unknown time zone"), "{e}");
        let e = err("tz = [\n");
        assert!(e.starts_with("sys.toml: TOML parse error at line 1"), "{e}");
    }
}
