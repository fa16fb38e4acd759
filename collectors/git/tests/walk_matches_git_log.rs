#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The live walk finds exactly the commits `git log --since --until` finds,
//! on a repository with a merge, tags, a remote-tracking branch and clock skew.

use std::path::Path;
use std::process::Command;

use git2::{Oid, Repository, Signature, Time};
use reconstruct_core::window::parse_bound;
use reconstruct_core::{TimeWindow, Timestamp, Zone};
use reconstruct_git::walk::commits_in_window;

const BASE: i64 = 1_766_743_200; // 2025-12-26T10:00:00Z

fn commit(repo: &Repository, refname: Option<&str>, minutes: i64, msg: &str, parents: &[Oid], file: &str) -> Oid {
    let when = Time::new(BASE + minutes * 60, 60);
    let sig = Signature::new("Tester", "t@example.com", &when).unwrap();
    std::fs::write(repo.workdir().unwrap().join(file), msg).unwrap();
    let mut idx = repo.index().unwrap();
    idx.add_path(Path::new(file)).unwrap();
    let tree = repo.find_tree(idx.write_tree().unwrap()).unwrap();
    let parents: Vec<_> = parents.iter().map(|p| repo.find_commit(*p).unwrap()).collect();
    let refs: Vec<_> = parents.iter().collect();
    repo.commit(refname, &sig, &sig, msg, &tree, &refs).unwrap()
}

fn git_log(dir: &Path, since: &str, until: &str) -> Vec<String> {
    let out = Command::new("git")
        .args(["log", "--branches", "--remotes", "--tags", "--format=%H"])
        .arg(format!("--since={since}"))
        .arg(format!("--until={until}"))
        .current_dir(dir)
        .output()
        .expect("git must be installed for this test");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut v: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    v.sort();
    v
}

fn ours(dir: &Path, since: &str, until: &str) -> Vec<String> {
    let t = |s: &str| parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
    let w = TimeWindow::new(t(since), t(until)).unwrap();
    let (commits, _) = commits_in_window(dir, &w).unwrap();
    let mut v: Vec<String> = commits.into_iter().map(|c| c.id).collect();
    v.sort();
    v
}

#[test]
fn same_commits_as_git_log_in_every_window() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let c1 = commit(&repo, Some("HEAD"), 0, "c1", &[], "a.txt");
    let c2 = commit(&repo, Some("HEAD"), 60, "c2", &[c1], "a.txt");
    let f1 = commit(&repo, None, 120, "f1 on feature", &[c2], "b.txt");
    repo.reference("refs/heads/feature", f1, true, "feature").unwrap();
    let c3 = commit(&repo, Some("HEAD"), 150, "c3", &[c2], "a.txt");
    let m = commit(&repo, Some("HEAD"), 180, "Merge feature", &[c3, f1], "a.txt");
    // Clock skew: c4's clock ran fast, so its child c5 is older than it.
    let c4 = commit(&repo, Some("HEAD"), 190, "c4 fast clock", &[m], "a.txt");
    let c5 = commit(&repo, Some("HEAD"), 170, "c5 older than parent", &[c4], "a.txt");
    let _c6 = commit(&repo, Some("HEAD"), 200, "c6", &[c5], "a.txt");
    // A tag on an older commit, and a remote-tracking branch off c1.
    let sig = Signature::new("Tester", "t@example.com", &Time::new(BASE, 0)).unwrap();
    repo.tag("v1.0", &repo.find_object(c3, None).unwrap(), &sig, "release", false).unwrap();
    let o1 = commit(&repo, None, 90, "o1 on remote", &[c1], "c.txt");
    repo.reference("refs/remotes/origin/hotfix", o1, true, "remote").unwrap();
    // A commit reachable only from a detached, unreferenced object is not counted.
    let _lost = commit(&repo, None, 130, "unreferenced", &[c2], "d.txt");

    let windows = [
        ("2025-12-26T09:00:00Z", "2025-12-26T18:00:00Z"),
        ("2025-12-26T11:00:00Z", "2025-12-26T13:00:00Z"),
        ("2025-12-26T12:45:00Z", "2025-12-26T14:00:00Z"),
        ("2025-12-26T13:05:00Z", "2025-12-26T13:15:00Z"),
        ("2025-12-26T12:55:00Z", "2025-12-26T13:05:00Z"),
        ("2025-12-26T11:29:59Z", "2025-12-26T11:30:00Z"),
        ("2025-12-26T16:00:00Z", "2025-12-26T17:00:00Z"),
    ];
    for (since, until) in windows {
        let expected = git_log(dir.path(), since, until);
        assert_eq!(ours(dir.path(), since, until), expected, "window {since} .. {until}");
    }
    // The full window sees the merge with both parents, and the tag.
    let t = |s: &str| parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
    let w = TimeWindow::new(t("2025-12-26T09:00:00Z"), t("2025-12-26T18:00:00Z")).unwrap();
    let (all, _) = commits_in_window(dir.path(), &w).unwrap();
    let merge = all.iter().find(|c| c.subject == "Merge feature").unwrap();
    assert_eq!(merge.parents, 2);
    let tagged = all.iter().find(|c| c.subject == "c3").unwrap();
    assert!(tagged.refs.contains(&"tag: v1.0".to_string()), "{:?}", tagged.refs);
    assert!(all.iter().any(|c| c.subject == "o1 on remote"));
    assert!(!all.iter().any(|c| c.subject == "unreferenced"));
    assert_eq!(all.iter().find(|c| c.subject == "c2").unwrap().files, vec!["a.txt".to_string()]);
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git").args(args).current_dir(dir).output().expect("git must be installed for this test");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Every commit of the window as the walk reports it, field by field.
fn described(dir: &Path, since: &str, until: &str) -> (Vec<String>, usize) {
    let t = |s: &str| parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
    let w = TimeWindow::new(t(since), t(until)).unwrap();
    let (commits, stats) = commits_in_window(dir, &w).unwrap();
    let mut v: Vec<String> = commits.into_iter().map(|c| format!("{c:?}")).collect();
    v.sort();
    (v, stats.from_graph)
}

#[test]
fn the_commit_graph_gives_the_same_walk_with_an_octopus_and_a_stale_graph() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let mut tip = commit(&repo, Some("HEAD"), 0, "root", &[], "a.txt");
    for i in 1..40 {
        tip = commit(&repo, Some("HEAD"), i * 10, &format!("c{i}"), &[tip], "a.txt");
    }
    let b1 = commit(&repo, None, 405, "b1", &[tip], "b.txt");
    let b2 = commit(&repo, None, 406, "b2", &[tip], "c.txt");
    let octopus = commit(&repo, Some("HEAD"), 410, "octopus", &[tip, b1, b2], "a.txt");
    let skewed = commit(&repo, Some("HEAD"), 300, "skewed clock", &[octopus], "a.txt");
    commit(&repo, Some("HEAD"), 420, "after", &[skewed], "a.txt");
    let windows = [
        ("2025-12-26T09:00:00Z", "2025-12-27T00:00:00Z"),
        ("2025-12-26T16:00:00Z", "2025-12-26T17:00:00Z"),
        ("2025-12-26T16:40:00Z", "2025-12-26T17:00:00Z"),
        ("2025-12-26T10:30:00Z", "2025-12-26T10:50:00Z"),
    ];
    let without: Vec<_> = windows.iter().map(|(s, u)| described(dir.path(), s, u)).collect();
    assert!(without.iter().all(|(_, g)| *g == 0), "no graph yet");
    git(dir.path(), &["commit-graph", "write", "--reachable"]);
    for ((since, until), (before, _)) in windows.iter().zip(&without) {
        let (after, from_graph) = described(dir.path(), since, until);
        assert_eq!(&after, before, "window {since} .. {until}");
        assert!(from_graph > 0, "the graph was read for {since} .. {until}");
        let ids: Vec<String> = ours(dir.path(), since, until);
        assert_eq!(ids, git_log(dir.path(), since, until), "as git log, window {since} .. {until}");
    }
    // Commits made after the graph was written are read from the objects.
    commit(&repo, Some("HEAD"), 430, "newer than the graph", &[repo.head().unwrap().target().unwrap()], "a.txt");
    for (since, until) in windows {
        assert_eq!(
            ours(dir.path(), since, until),
            git_log(dir.path(), since, until),
            "stale graph, {since} .. {until}"
        );
    }
}

#[test]
fn not_a_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let t = |s: &str| parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
    let w = TimeWindow::new(t("2025-12-26T09:00:00Z"), t("2025-12-26T18:00:00Z")).unwrap();
    let err = commits_in_window(&dir.path().join("nope"), &w).unwrap_err().to_string();
    assert!(err.contains("cannot open git repository"), "{err}");
}

/// `git` at a fixed time, `minutes` after BASE, so the walk's window holds it.
fn git_at(dir: &Path, minutes: i64, args: &[&str]) {
    let when = format!("@{} +0000", BASE + minutes * 60);
    let out = Command::new("git")
        .args(["-c", "user.name=Tester", "-c", "user.email=t@example.com"])
        .args(args)
        .env("GIT_AUTHOR_DATE", &when)
        .env("GIT_COMMITTER_DATE", &when)
        .current_dir(dir)
        .output()
        .expect("git must be installed for this test");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Each commit's files as `git log --name-only` lists them (a merge's
/// against its first parent, as the walk reports it), by commit id.
fn git_log_files(dir: &Path) -> Vec<(String, Vec<String>)> {
    let out = Command::new("git")
        .args(["-c", "core.quotePath=false", "log", "--branches", "--tags", "--name-only"])
        .args(["--diff-merges=first-parent", "--format=%x00%H"])
        .current_dir(dir)
        .output()
        .expect("git must be installed for this test");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut v: Vec<(String, Vec<String>)> = text
        .split('\0')
        .filter(|r| !r.trim().is_empty())
        .map(|r| {
            let mut lines = r.lines().filter(|l| !l.is_empty());
            let id = lines.next().unwrap().to_string();
            (id, lines.map(str::to_string).collect())
        })
        .collect();
    v.sort();
    v
}

fn our_files(dir: &Path) -> Vec<(String, Vec<String>)> {
    let t = |s: &str| parse_bound(s, Timestamp::MIN, &Zone::Utc).unwrap();
    let w = TimeWindow::new(t("2025-12-26T09:00:00Z"), t("2025-12-27T00:00:00Z")).unwrap();
    let (commits, _) = commits_in_window(dir, &w).unwrap();
    let mut v: Vec<(String, Vec<String>)> = commits.into_iter().map(|c| (c.id, c.files)).collect();
    v.sort();
    v
}

#[test]
fn each_commit_lists_the_files_git_log_name_only_lists() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |path: &str, text: &str| {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    git_at(d, 0, &["init", "-q", "-b", "main"]);
    // Names that sort differently as bytes and as trees (`a` / `a.b` / `a-b/` / `ab`).
    for f in ["a", "a.b", "a-b/x", "ab", "dir/sub/deep.txt", "dir/z.txt", "z", "sp ace.txt", "é.txt"] {
        write(f, f);
    }
    // A tree wider than libgit2's 4 KiB cache limit.
    for i in 0..200 {
        write(&format!("wide/file-{i:03}.txt"), &i.to_string());
    }
    git_at(d, 0, &["add", "-A"]);
    git_at(d, 0, &["commit", "-q", "-m", "root"]);
    write("dir/sub/deep.txt", "changed deep down");
    write("wide/file-150.txt", "changed in a wide tree");
    git_at(d, 1, &["commit", "-q", "-am", "nested change"]);
    git_at(d, 2, &["rm", "-q", "dir/z.txt"]);
    write("dir/new/n.txt", "n");
    git_at(d, 2, &["add", "-A"]);
    git_at(d, 2, &["commit", "-q", "-m", "delete one, add a directory"]);
    git_at(d, 3, &["rm", "-q", "a"]);
    write("a/inner.txt", "a file became a directory");
    git_at(d, 3, &["add", "-A"]);
    git_at(d, 3, &["commit", "-q", "-m", "file to directory"]);
    git_at(d, 4, &["rm", "-q", "-r", "a-b"]);
    write("a-b", "a directory became a file");
    git_at(d, 4, &["add", "-A"]);
    git_at(d, 4, &["commit", "-q", "-m", "directory to file"]);
    // The mode alone changes: git lists the file.
    git_at(d, 5, &["update-index", "--chmod=+x", "z"]);
    git_at(d, 5, &["commit", "-q", "-m", "mode only"]);
    git_at(d, 6, &["commit", "-q", "--allow-empty", "-m", "empty"]);
    // A submodule's commit is a path too.
    git_at(
        d,
        7,
        &["update-index", "--add", "--cacheinfo", "160000,1111111111111111111111111111111111111111,vendor/lib"],
    );
    git_at(d, 7, &["commit", "-q", "-m", "submodule"]);
    git_at(d, 8, &["checkout", "-q", "-f", "-b", "side", "HEAD~3"]);
    write("side.txt", "side");
    write("dir/sub/deep.txt", "changed on the side");
    git_at(d, 8, &["add", "-A"]);
    git_at(d, 8, &["commit", "-q", "-m", "side"]);
    git_at(d, 9, &["checkout", "-q", "-f", "main"]);
    git_at(d, 9, &["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    git_at(d, 10, &["tag", "v1"]);

    let expected = git_log_files(d);
    assert_eq!(expected.len(), 10, "{expected:?}");
    assert!(expected.iter().any(|(_, f)| f == &["z"]), "the mode change is listed: {expected:?}");
    assert_eq!(our_files(d), expected, "loose objects");
    // Packed, with deltas and a commit-graph, as most repositories are.
    git_at(d, 11, &["gc", "-q", "--aggressive"]);
    assert_eq!(our_files(d), expected, "packed");
}
