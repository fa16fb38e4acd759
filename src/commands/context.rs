//! `reconstruct context LOCATOR`: the evidence around a row, from a bundle
//! or the live source, so nobody pastes commands by hand: the lines around
//! `file:line` (compressed files too), a commit with the files it changed,
//! a container's log around that second. Secrets are masked as everywhere.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use reconstruct_core::text::clean;
use reconstruct_core::timestamp::parse_iso;
use reconstruct_core::{TimeWindow, Timestamp, Zone};

use crate::cli::ContextArgs;
use crate::exit::{Exit, UsageError};
use crate::pipeline::ignore_broken_pipe;

/// Longest line shown; the rest is cut with an ellipsis.
const LINE_MAX: usize = 2_000;

/// `--span` in whole seconds.
fn span_secs(a: &ContextArgs) -> anyhow::Result<i64> {
    let text = a.span.as_deref().unwrap_or("1m");
    reconstruct_core::window::parse_duration_nanos(text)
        .filter(|n| *n >= 1_000_000_000)
        .map(|n| n / 1_000_000_000)
        .ok_or_else(|| anyhow::anyhow!("--span {text:?}: give a duration of a second or more (30s, 2m)"))
}

/// What a locator points at.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Line {
        path: String,
        line: u64,
    },
    Commit(String),
    /// A container's log line or lifecycle event, at the time it names.
    Container {
        name: String,
        at: Timestamp,
    },
}

/// Reads a locator as the table prints it (the user pasted it).
fn target(locator: &str) -> Option<Target> {
    let l = locator.trim().trim_matches('`');
    if let Some(rest) = l.strip_prefix("commit ") {
        let hash = rest.split_whitespace().next()?;
        return hash.chars().all(|c| c.is_ascii_hexdigit()).then(|| Target::Commit(hash.to_string()));
    }
    if l.starts_with("docker logs ") || l.starts_with("docker-compose logs ") {
        // `… (NAME TIME)`: the container and the line's own time.
        let (_, tail) = l.rsplit_once('(')?;
        let (name, time) = tail.trim_end_matches(')').split_once(' ')?;
        let at = parse_iso(time.as_bytes(), &Zone::Utc)?.time;
        return Some(Target::Container { name: name.to_string(), at });
    }
    if l.starts_with("docker events ") {
        let name = l.split_whitespace().find_map(|w| w.strip_prefix("container="))?;
        let since = l.split_whitespace().skip_while(|w| *w != "--since").nth(1)?;
        let at = parse_iso(since.as_bytes(), &Zone::Utc)?.time;
        return Some(Target::Container { name: name.to_string(), at });
    }
    let (path, line) = l.rsplit_once(':')?;
    let line: u64 = line.parse().ok().filter(|n| *n > 0)?;
    (!path.is_empty()).then(|| Target::Line { path: path.to_string(), line })
}

pub fn run(a: &ContextArgs) -> anyhow::Result<Exit> {
    let Some(t) = target(&a.locator) else {
        return Err(UsageError(format!(
            "context reads a file line (logs/app.log:12), a commit (commit abc123f) or a container's log \
             (docker logs …, docker-compose logs …, docker events …); {:?} is none of these. \
             Other evidence is a command: run it as the table shows it",
            a.locator
        ))
        .into());
    };
    let text = match (&t, &a.fixtures) {
        (Target::Line { path, line }, dir) => file_lines(&resolve(dir.as_deref(), path)?, *line, a.lines)?,
        (Target::Commit(hash), Some(dir)) => saved_commit(dir, hash)?,
        (Target::Commit(hash), None) => {
            let repo = a.git.clone().unwrap_or_else(|| PathBuf::from("."));
            reconstruct_git::walk::show_stat(&repo, hash)?
        }
        (Target::Container { name, at }, Some(dir)) => saved_container(dir, name, *at, span_secs(a)?)?,
        (Target::Container { name, at }, None) => live_container(a.docker_host.as_deref(), name, *at, span_secs(a)?)?,
    };
    let text = if a.no_redact { text.into_bytes() } else { crate::redact::Lines::default().text(text.as_bytes()) };
    let mut out = io::stdout().lock();
    out.write_all(&text).and_then(|()| out.flush()).or_else(ignore_broken_pipe).context("cannot write the output")?;
    Ok(Exit::Ok)
}

/// The file a locator names: in the bundle when one is given (and never
/// outside it), else as it is.
fn resolve(bundle: Option<&Path>, path: &str) -> anyhow::Result<PathBuf> {
    let Some(dir) = bundle else { return Ok(PathBuf::from(path)) };
    let root = dir.canonicalize().with_context(|| format!("cannot read the bundle {}", dir.display()))?;
    let p = root.join(path).canonicalize().with_context(|| format!("{path} is not in the bundle {}", dir.display()))?;
    if !p.starts_with(&root) {
        anyhow::bail!("{path} is outside the bundle {}; refused", dir.display());
    }
    Ok(p)
}

/// `n` lines either side of `line`, numbered, the line itself marked.
fn file_lines(path: &Path, line: u64, n: u64) -> anyhow::Result<String> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let (text, _) =
        reconstruct_logfile::compressed::open(f, size).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rd = io::BufReader::new(text);
    let (from, to) = (line.saturating_sub(n).max(1), line.saturating_add(n));
    let width = to.to_string().len();
    let mut out = String::new();
    let mut buf = Vec::new();
    let mut number = 0u64;
    loop {
        buf.clear();
        let got = rd.read_until(b'\n', &mut buf).with_context(|| format!("cannot read {}", path.display()))?;
        if got == 0 {
            break;
        }
        number = number.saturating_add(1);
        if number < from {
            continue;
        }
        if number > to {
            break;
        }
        let mark = if number == line { '>' } else { ' ' };
        let shown = clean(buf.strip_suffix(b"\n").unwrap_or(&buf), LINE_MAX).text;
        out.push_str(&format!("{mark} {number:>width$} | {shown}\n"));
    }
    if number < line {
        anyhow::bail!("{} has {number} lines, not {line}", path.display());
    }
    Ok(out)
}

/// A commit as the bundle saved it: its `git log` entry, files included.
fn saved_commit(dir: &Path, hash: &str) -> anyhow::Result<String> {
    let plan = crate::bundle::plan(dir, crate::registry::current())
        .with_context(|| format!("cannot use the bundle {}", dir.display()))?;
    for f in plan.files.iter().filter(|f| f.role == reconstruct_git::slice::ROLE) {
        let bytes = std::fs::read(&f.path).with_context(|| format!("cannot read {}", f.display))?;
        let parsed = reconstruct_git::saved::parse(&bytes);
        if let Some(c) = parsed.commits.iter().find(|c| c.id.starts_with(hash)) {
            let mut out = format!("commit {}\nAuthor: {}\nCommitted: {}\n", c.id, c.author, c.committed.rfc3339());
            if !c.refs.is_empty() {
                out.push_str(&format!("Refs: {}\n", c.refs.join(", ")));
            }
            out.push('\n');
            for l in std::iter::once(c.subject.as_str()).chain(c.body.lines()) {
                out.push_str(&format!("    {l}\n"));
            }
            out.push('\n');
            for file in &c.files {
                out.push_str(&format!(" {file}\n"));
            }
            out.push_str(&format!(
                " {} file(s) changed (saved by name only: line counts need the repository)\n",
                c.files.len()
            ));
            out.push_str(&format!("\n(from {})\n", f.display));
            return Ok(out);
        }
    }
    anyhow::bail!("no commit {hash} in the bundle's saved git logs")
}

/// The window either side of a container's moment.
fn around(at: Timestamp, span: i64) -> anyhow::Result<TimeWindow> {
    let nanos = span.saturating_mul(1_000_000_000);
    Ok(TimeWindow::new(at.saturating_add_nanos(nanos.saturating_neg()), at.saturating_add_nanos(nanos))?)
}

/// A container's saved log lines and engine events around `at`.
fn saved_container(dir: &Path, name: &str, at: Timestamp, span: i64) -> anyhow::Result<String> {
    let window = around(at, span)?;
    let plan = crate::bundle::plan(dir, crate::registry::current())
        .with_context(|| format!("cannot use the bundle {}", dir.display()))?;
    let mut out = String::new();
    for f in &plan.files {
        use reconstruct_docker::slice::{ROLE_COMPOSE_LOGS, ROLE_EVENTS};
        if f.role != ROLE_COMPOSE_LOGS && f.role != ROLE_EVENTS {
            continue;
        }
        let bytes = std::fs::read(&f.path).with_context(|| format!("cannot read {}", f.display))?;
        for (i, raw) in bytes.split(|c| *c == b'\n').enumerate() {
            let number = i.saturating_add(1);
            let time = if f.role == ROLE_COMPOSE_LOGS {
                let Some((who, rest)) = reconstruct_docker::parse::compose_line(raw) else { continue };
                if who != name {
                    continue;
                }
                parse_iso(&rest, &Zone::Utc).map(|p| p.time)
            } else {
                let Ok(v) = serde_json::from_slice::<serde_json::Value>(raw) else { continue };
                let Some(fact) = reconstruct_docker::parse::event_fact(&v) else { continue };
                if fact.container != name {
                    continue;
                }
                Some(fact.time)
            };
            if time.is_some_and(|t| window.contains(t)) {
                let mark = if time == Some(at) { '>' } else { ' ' };
                out.push_str(&format!("{mark} {}:{number} | {}\n", f.display, clean(raw, LINE_MAX).text));
            }
        }
    }
    if out.is_empty() {
        anyhow::bail!("nothing of container {name} within {span}s of {at} in the bundle");
    }
    Ok(out)
}

/// A container's log around `at`, read from the engine.
fn live_container(host: Option<&str>, name: &str, at: Timestamp, span: i64) -> anyhow::Result<String> {
    struct Grab<'a> {
        name: &'a str,
        index: Option<usize>,
        at: Timestamp,
        lines: Vec<(Timestamp, String)>,
        problem: Option<String>,
    }
    impl reconstruct_docker::fetch::LogHandler for Grab<'_> {
        fn containers(&mut self, inspections: &[serde_json::Value]) {
            self.index = inspections.iter().position(|v| {
                v.get("Name").and_then(serde_json::Value::as_str).map(|n| n.trim_start_matches('/')) == Some(self.name)
            });
        }
        fn line(&mut self, index: usize, stream: &'static str, line: &[u8]) {
            if Some(index) != self.index {
                return;
            }
            if let Some(p) = parse_iso(line, &Zone::Utc) {
                let mark = if p.time == self.at { '>' } else { ' ' };
                self.lines.push((p.time, format!("{mark} {stream} {}", clean(line, LINE_MAX).text)));
            }
        }
        fn problem(&mut self, index: usize, message: String) {
            if Some(index) == self.index {
                self.problem = Some(message);
            }
        }
    }
    let window = around(at, span)?;
    let mut grab = Grab { name, index: None, at, lines: Vec::new(), problem: None };
    let rt = reconstruct_core::runtime().context("cannot start the async runtime")?;
    rt.block_on(reconstruct_docker::fetch::snapshot(
        host,
        None,
        &window,
        std::time::Duration::from_secs(30),
        true,
        &mut grab,
    ))?;
    if grab.index.is_none() {
        anyhow::bail!("the engine has no container {name}");
    }
    if let Some(p) = grab.problem {
        anyhow::bail!("container {name}: {p}");
    }
    grab.lines.sort_by_key(|(t, _)| *t);
    let mut out = String::new();
    for (_, l) in grab.lines {
        out.push_str(&l);
        out.push('\n');
    }
    if out.is_empty() {
        anyhow::bail!("container {name} wrote nothing within {span}s of {at}");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_as_the_table_prints_them() {
        assert_eq!(
            target("`logs/backend.log:1234`"),
            Some(Target::Line { path: "logs/backend.log".into(), line: 1234 })
        );
        assert_eq!(target("commit abc123f"), Some(Target::Commit("abc123f".into())));
        let at = parse_iso(b"2025-12-26T14:30:42.018000537Z", &Zone::Utc).unwrap().time;
        assert_eq!(
            target("docker-compose logs mcp-server --since 2025-12-26T14:30:42Z --until 2025-12-26T14:30:43Z (mcp-server_1 2025-12-26T14:30:42.018000537Z)"),
            Some(Target::Container { name: "mcp-server_1".into(), at })
        );
        assert!(matches!(
            target("docker events --filter container=scheduling_backend_1 --since 2025-12-26T14:43:00Z --until 2025-12-26T14:43:01Z (kill)"),
            Some(Target::Container { name, .. }) if name == "scheduling_backend_1"
        ));
        assert_eq!(target("ALERTS{alertname=\"X\"} firing"), None);
        assert_eq!(target("logs/a.log:0"), None);
        assert_eq!(target("commit xyz"), None);
        assert_eq!(target(":12"), None);
    }
}
