//! Git collector: the commits that landed in the window (by committer time),
//! from a repository through libgit2 (`walk`) or from saved `git log`
//! text (`saved`). Both produce the same events.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

mod diff;
mod graph;
pub mod saved;
pub mod slice;
pub mod walk;

use reconstruct_core::text::count;
use std::path::PathBuf;
use std::sync::Arc;

use reconstruct_core::event::{Event, EventKind, Evidence, Locator, TimeBasis, Timestamp};
use reconstruct_core::{CollectContext, CollectError, Collector, EventSink, SourceId};
use reconstruct_core::{Fact, SourceKind};

/// What the collector knows of one commit, from either mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    pub short: String,
    pub parents: usize,
    pub author: String,
    pub committed: Timestamp,
    pub subject: String,
    pub body: String,
    pub refs: Vec<String>,
    pub files: Vec<String>,
}

/// Files named in a row's excerpt before the rest is counted.
const FILES_SHOWN: usize = 20;

impl CommitInfo {
    pub fn into_event(self, component: &Arc<str>) -> Event {
        let what = if self.parents > 1 { "Merge" } else { "Commit" };
        let tags: Vec<String> = self.refs.iter().filter_map(|r| r.strip_prefix("tag: ")).map(str::to_string).collect();
        let mut summary = format!("{what} {}: {} ({})", self.short, self.subject, self.author);
        if !tags.is_empty() {
            summary.push_str(&format!(" [tag {}]", tags.join(", ")));
        }
        let mut excerpt = format!("commit {}\n", self.id);
        if !self.refs.is_empty() {
            excerpt.push_str(&format!("refs: {}\n", self.refs.join(", ")));
        }
        excerpt.push_str(&format!("author: {}\ncommitted: {}\n\n{}\n", self.author, self.committed, self.subject));
        if !self.body.trim().is_empty() {
            excerpt.push('\n');
            excerpt.push_str(self.body.trim_end());
            excerpt.push('\n');
        }
        if !self.files.is_empty() {
            excerpt.push_str(&format!("\nfiles changed ({}):\n", self.files.len()));
            for f in self.files.iter().take(FILES_SHOWN) {
                excerpt.push_str(f);
                excerpt.push('\n');
            }
            if self.files.len() > FILES_SHOWN {
                excerpt.push_str(&format!("… and {} more\n", self.files.len() - FILES_SHOWN));
            }
        }
        Event {
            time: self.committed,
            basis: TimeBasis::Explicit,
            collector: SourceKind::Git,
            component: component.clone(),
            kind: EventKind::Change,
            severity: None,
            summary,
            evidence: Evidence { locator: Locator::Text(format!("commit {}", self.short)), excerpt },
            continuation_lines: 0,
            service: None,
            fact: Some(Box::new(Fact::Commit {
                hash: self.id,
                tags,
                merge: self.parents > 1,
                subject: self.subject,
                files: self.files,
            })),
        }
    }
}

/// Hands commits to the sink oldest first, ties by id so runs repeat.
fn emit_sorted(
    mut commits: Vec<CommitInfo>,
    component: &Arc<str>,
    ctx: &CollectContext,
    sink: &mut dyn EventSink,
) -> Result<(), CollectError> {
    commits.sort_by(|a, b| a.committed.cmp(&b.committed).then_with(|| a.id.cmp(&b.id)));
    let anchor = ctx.anchor();
    let n = commits.iter().filter(|c| anchor.contains(c.committed)).count();
    let before = commits.len().saturating_sub(n);
    for c in commits {
        sink.emit(c.into_event(component))?;
    }
    if before > 0 {
        sink.note(format!("{n} commits in the window, {before} before it (read for the findings)"));
    } else {
        sink.note(format!("{n} commits in the window"));
    }
    Ok(())
}

/// A repository read live.
pub struct GitRepoCollector {
    pub path: PathBuf,
    pub component: Arc<str>,
}

impl GitRepoCollector {
    pub fn new(path: PathBuf, component: Option<String>) -> Self {
        let component = component.unwrap_or_else(|| walk::repo_name(&path));
        GitRepoCollector { path, component: Arc::from(component) }
    }
}

impl Collector for GitRepoCollector {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Git, name: self.path.display().to_string() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let (commits, stats) = walk::commits_in_window(&self.path, &ctx.window)?;
        sink.note(format!(
            "{}, {} visited",
            count(stats.refs as u64, "ref", "refs"),
            count(stats.visited as u64, "commit", "commits")
        ));
        emit_sorted(commits, &self.component, ctx, sink)
    }
}

/// Saved `git log` text (see `saved` for the command that writes it).
pub struct GitLogFileCollector {
    pub file: PathBuf,
    pub display: String,
    pub component: Arc<str>,
}

impl Collector for GitLogFileCollector {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Git, name: self.display.clone() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let bytes = std::fs::read(&self.file).map_err(|e| format!("cannot read {}: {e}", self.display))?;
        let parsed = saved::parse(&bytes);
        for (line, problem) in &parsed.problems {
            sink.diagnostic(reconstruct_core::Diagnostic {
                locator: Some(Locator::Line { path: Arc::from(self.display.as_str()), line: *line }),
                message: problem.clone(),
            });
        }
        if parsed.commits.is_empty() && !bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(
                format!("{}: no commit found; save it with the git log command in the README", self.display).into()
            );
        }
        let inside = parsed.commits.into_iter().filter(|c| ctx.window.contains(c.committed)).collect();
        emit_sorted(inside, &self.component, ctx, sink)
    }
}
