//! The live walk over a repository with libgit2.
//!
//! git2's time-sorted revwalk reads the whole history before it yields the
//! first commit. This walk keeps a heap of commits by committer time and
//! does not expand a commit older than `--since`, so it reads the window
//! plus one frontier commit per line of history. That is also what
//! `git log --since` does: a commit older than the bound is not shown and
//! its parents are not reached through it (even when clock skew makes a
//! parent newer than its child).

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::Path;

use git2::{Commit, Oid, Repository};
use reconstruct_core::{TimeWindow, Timestamp};

use crate::diff::{changed_paths, Trees};
use crate::CommitInfo;

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("cannot open git repository {path}: {source}")]
    Open { path: String, source: git2::Error },
    #[error("git error in {path}: {source}")]
    Git { path: String, source: git2::Error },
}

#[derive(Debug, Default, Clone, Copy)]
pub struct WalkStats {
    pub refs: usize,
    pub visited: usize,
    /// Commits whose parents the commit-graph gave (not read from the commit).
    pub from_graph: usize,
}

/// The repository's name: its work tree's directory name.
pub fn repo_name(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let base =
        if abs.file_name().is_some_and(|n| n == ".git") { abs.parent().map(Path::to_path_buf) } else { Some(abs) };
    base.and_then(|p| p.file_name().map(|n| n.to_string_lossy().trim_end_matches(".git").to_string()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "repository".to_string())
}

/// True when `path` is inside a git repository.
pub fn is_repository(path: &Path) -> bool {
    Repository::discover(path).is_ok()
}

fn commit_time(c: &Commit<'_>) -> i64 {
    c.committer().when().seconds()
}

/// Commits reachable from any branch, remote-tracking branch, tag or HEAD
/// whose committer time is inside the window.
pub fn commits_in_window(path: &Path, window: &TimeWindow) -> Result<(Vec<CommitInfo>, WalkStats), WalkError> {
    let name = path.display().to_string();
    // Objects are not re-hashed on read, as git itself does not: most of
    // the walk's time went to SHA-1 otherwise.
    git2::opts::strict_hash_verification(false);
    let repo = Repository::discover(path).map_err(|source| WalkError::Open { path: name.clone(), source })?;
    let git = |source| WalkError::Git { path: name.clone(), source };
    let mut stats = WalkStats::default();
    let mut refs_at: HashMap<Oid, Vec<String>> = HashMap::new();
    let mut tips: Vec<Oid> = Vec::new();
    for r in repo.references().map_err(git)? {
        let Ok(r) = r else { continue };
        let Some(full) = r.name().map(str::to_string) else { continue };
        let label = if let Some(t) = full.strip_prefix("refs/tags/") {
            format!("tag: {t}")
        } else if let Some(b) = full.strip_prefix("refs/heads/") {
            b.to_string()
        } else if let Some(b) = full.strip_prefix("refs/remotes/") {
            b.to_string()
        } else {
            continue;
        };
        // A tag may name a tree or blob; only commits are walked.
        let Ok(c) = r.peel_to_commit() else { continue };
        stats.refs += 1;
        refs_at.entry(c.id()).or_default().push(label);
        tips.push(c.id());
    }
    if let Ok(head) = repo.head().and_then(|h| h.peel_to_commit()) {
        tips.push(head.id());
    }
    let since = window.since.unix_seconds();
    // `git log --since/--until` compare whole seconds; so does this, and an
    // until bound inside a second keeps that second's commits.
    let until = window.until.unix_seconds();
    let mut heap: BinaryHeap<(i64, Oid)> = BinaryHeap::new();
    let mut seen: HashSet<Oid> = HashSet::new();
    // Times and parents from the commit-graph where the repository has one:
    // the commits walked past on the way to the window are never inflated.
    let graph = crate::graph::Graph::open(repo.path());
    let at = |id: Oid| graph.as_ref().and_then(|g| g.position(id.as_bytes()).map(|p| (g, p)));
    let time_of = |id: Oid| -> Result<i64, git2::Error> {
        match at(id).and_then(|(g, p)| g.time(p)) {
            Some(t) => Ok(t),
            None => repo.find_commit(id).map(|c| commit_time(&c)),
        }
    };
    for t in tips {
        if seen.insert(t) {
            heap.push((time_of(t).map_err(git)?, t));
        }
    }
    let mut out = Vec::new();
    let odb = repo.odb().map_err(git)?;
    let mut trees = Trees::new(&odb);
    let mut positions = Vec::new();
    let mut parents = Vec::new();
    while let Some((time, id)) = heap.pop() {
        stats.visited += 1;
        if time < since {
            continue;
        }
        parents.clear();
        let from_graph = at(id).and_then(|(g, p)| {
            g.parents(p, &mut positions)?;
            positions.iter().map(|&q| g.oid(q).and_then(|b| Oid::from_bytes(b).ok())).collect::<Option<Vec<Oid>>>()
        });
        let commit = match from_graph {
            Some(ids) => {
                stats.from_graph += 1;
                parents = ids;
                None
            }
            None => {
                let c = repo.find_commit(id).map_err(git)?;
                parents.extend(c.parent_ids());
                Some(c)
            }
        };
        for &p in &parents {
            if seen.insert(p) {
                // A missing parent (shallow clone) ends that line of history.
                if let Ok(t) = time_of(p) {
                    heap.push((t, p));
                }
            }
        }
        if time <= until {
            let c = match commit {
                Some(c) => c,
                None => repo.find_commit(id).map_err(git)?,
            };
            let mut refs = refs_at.remove(&id).unwrap_or_default();
            refs.sort();
            out.push(info(&mut trees, &c, refs).map_err(git)?);
        }
    }
    Ok((out, stats))
}

fn info(trees: &mut Trees<'_>, c: &Commit<'_>, refs: Vec<String>) -> Result<CommitInfo, git2::Error> {
    let short = c.as_object().short_id()?.as_str().unwrap_or_default().to_string();
    let author = c.author();
    let message = String::from_utf8_lossy(c.message_bytes()).into_owned();
    let (subject, body) = match message.split_once('\n') {
        Some((s, b)) => (s.trim().to_string(), b.trim_start_matches('\n').to_string()),
        None => (message.trim().to_string(), String::new()),
    };
    let parent_tree = c.parents().next().map(|p| p.tree_id());
    let mut files = Vec::new();
    changed_paths(trees, parent_tree, Some(c.tree_id()), "", &mut files)?;
    let seconds = commit_time(c);
    Ok(CommitInfo {
        id: c.id().to_string(),
        short,
        parents: c.parent_count(),
        author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        committed: Timestamp::from_unix_seconds(seconds, 0).unwrap_or(Timestamp::MIN),
        subject,
        body,
        refs,
        files,
    })
}

/// One commit as `git show --stat` tells it: who, when it landed, the
/// message, and each file changed with its lines added and removed (against
/// the first parent).
pub fn show_stat(path: &Path, rev: &str) -> Result<String, WalkError> {
    use std::fmt::Write;
    let name = path.display().to_string();
    let repo = Repository::discover(path).map_err(|source| WalkError::Open { path: name.clone(), source })?;
    let git = |source| WalkError::Git { path: name.clone(), source };
    let commit = repo.revparse_single(rev).and_then(|o| o.peel_to_commit()).map_err(git)?;
    let tree = commit.tree().map_err(git)?;
    let parent_tree = match commit.parent(0) {
        Ok(p) => Some(p.tree().map_err(git)?),
        Err(_) => None,
    };
    let diff = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None).map_err(git)?;
    let mut out = String::new();
    let who = commit.author();
    let landed = Timestamp::from_unix_seconds(commit_time(&commit), 0).map(|t| t.rfc3339()).unwrap_or_default();
    let _ = writeln!(out, "commit {}", commit.id());
    let _ = writeln!(out, "Author: {} <{}>", who.name().unwrap_or("?"), who.email().unwrap_or("?"));
    let _ = writeln!(out, "Committed: {landed}");
    let _ = writeln!(out);
    for line in commit.message().unwrap_or("").lines() {
        let _ = writeln!(out, "    {line}");
    }
    let _ = writeln!(out);
    let (mut added, mut removed) = (0usize, 0usize);
    let deltas = diff.deltas().len();
    for i in 0..deltas {
        let Ok(Some(patch)) = git2::Patch::from_diff(&diff, i) else { continue };
        let file = patch
            .delta()
            .new_file()
            .path()
            .or_else(|| patch.delta().old_file().path())
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let (_, plus, minus) = patch.line_stats().unwrap_or((0, 0, 0));
        added = added.saturating_add(plus);
        removed = removed.saturating_add(minus);
        let _ = writeln!(out, " {file} | +{plus} -{minus}");
    }
    let _ = writeln!(out, " {deltas} file(s) changed, {added} insertion(s)(+), {removed} deletion(s)(-)");
    Ok(out)
}
