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
    let mut trees = Trees { repo: &repo, kept: HashMap::new() };
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

/// Trees already read in this walk, by id: a commit's trees are compared
/// with its parent's, which are the next commit's own (libgit2's cache
/// leaves out trees over 4 KiB, so a wide tree was read and parsed twice).
struct Trees<'r> {
    repo: &'r Repository,
    kept: HashMap<Oid, git2::Tree<'r>>,
}

impl<'r> Trees<'r> {
    const MAX: usize = 64;

    fn get(&mut self, id: Oid) -> Result<git2::Tree<'r>, git2::Error> {
        if let Some(t) = self.kept.get(&id) {
            return Ok(t.clone());
        }
        let t = self.repo.find_tree(id)?;
        if self.kept.len() >= Self::MAX {
            self.kept.clear();
        }
        self.kept.insert(id, t.clone());
        Ok(t)
    }
}

/// The paths that differ between two trees, as `git log --name-only` lists
/// them. Subtrees with the same id are equal and are not entered, so the cost
/// follows the change, not the size of the tree (libgit2's tree-to-tree diff
/// walked every entry of both trees).
fn changed_paths<'r>(
    trees: &mut Trees<'r>,
    old: Option<&git2::Tree<'r>>,
    new: Option<&git2::Tree<'r>>,
    prefix: &str,
    out: &mut Vec<String>,
) -> Result<(), git2::Error> {
    let (la, lb) = (old.map_or(0, git2::Tree::len), new.map_or(0, git2::Tree::len));
    let (mut i, mut j) = (0, 0);
    while i < la || j < lb {
        let ea = old.and_then(|t| t.get(i));
        let eb = new.and_then(|t| t.get(j));
        // Both lists are in git's tree order; merge-walk them.
        let order = match (&ea, &eb) {
            (Some(x), Some(y)) => tree_order(x, y),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        let (left, right) = match order {
            std::cmp::Ordering::Less => {
                i += 1;
                (ea, None)
            }
            std::cmp::Ordering::Greater => {
                j += 1;
                (None, eb)
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
                if ea.as_ref().map(git2::TreeEntry::id) == eb.as_ref().map(git2::TreeEntry::id) {
                    continue;
                }
                (ea, eb)
            }
        };
        let Some(name) = left.as_ref().or(right.as_ref()).map(|e| String::from_utf8_lossy(e.name_bytes()).into_owned())
        else {
            continue;
        };
        let path = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let is_tree =
            |e: &Option<git2::TreeEntry<'_>>| e.as_ref().is_some_and(|e| e.kind() == Some(git2::ObjectType::Tree));
        let mut as_tree = |e: &Option<git2::TreeEntry<'_>>| -> Result<Option<git2::Tree<'r>>, git2::Error> {
            match e {
                Some(e) if e.kind() == Some(git2::ObjectType::Tree) => trees.get(e.id()).map(Some),
                _ => Ok(None),
            }
        };
        if is_tree(&left) || is_tree(&right) {
            let (ta, tb) = (as_tree(&left)?, as_tree(&right)?);
            changed_paths(trees, ta.as_ref(), tb.as_ref(), &path, out)?;
        }
        // A file on either side (a tree replaced by a file counts too).
        let is_file =
            |e: &Option<git2::TreeEntry<'_>>| e.as_ref().is_some_and(|e| e.kind() != Some(git2::ObjectType::Tree));
        if is_file(&left) || is_file(&right) {
            out.push(path);
        }
    }
    Ok(())
}

/// git's order of tree entries: names as bytes, a tree's name read as if it
/// ended in `/`.
fn tree_order(a: &git2::TreeEntry<'_>, b: &git2::TreeEntry<'_>) -> std::cmp::Ordering {
    let (na, nb) = (a.name_bytes(), b.name_bytes());
    let n = na.len().min(nb.len());
    match na.get(..n).cmp(&nb.get(..n)) {
        std::cmp::Ordering::Equal => {}
        o => return o,
    }
    let tail = |name: &[u8], e: &git2::TreeEntry<'_>| match name.get(n) {
        Some(c) => Some(*c),
        None if e.kind() == Some(git2::ObjectType::Tree) => Some(b'/'),
        None => None,
    };
    tail(na, a).cmp(&tail(nb, b))
}

fn info<'r>(trees: &mut Trees<'r>, c: &Commit<'r>, refs: Vec<String>) -> Result<CommitInfo, git2::Error> {
    let short = c.as_object().short_id()?.as_str().unwrap_or_default().to_string();
    let author = c.author();
    let message = String::from_utf8_lossy(c.message_bytes()).into_owned();
    let (subject, body) = match message.split_once('\n') {
        Some((s, b)) => (s.trim().to_string(), b.trim_start_matches('\n').to_string()),
        None => (message.trim().to_string(), String::new()),
    };
    let tree = trees.get(c.tree_id())?;
    let parent_tree = match c.parents().next() {
        Some(p) => Some(trees.get(p.tree_id())?),
        None => None,
    };
    let mut files = Vec::new();
    changed_paths(trees, parent_tree.as_ref(), Some(&tree), "", &mut files)?;
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
