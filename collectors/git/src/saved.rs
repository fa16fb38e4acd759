//! Saved `git log` text, for bundles and for repositories out of reach.
//!
//! The text is what this command writes (the README gives it too):
//!
//! ```text
//! git log --branches --remotes --tags --since=… --until=… \
//!     --pretty=fuller --date=iso-strict --decorate=short --name-only > git/REPO.log
//! ```
//!
//! `--pretty=medium` (plain `git log`) is read as well; its `Date:` is the
//! author date, which is said in a diagnostic because it is not when the
//! commit landed.

use reconstruct_core::timestamp::parse_iso;
use reconstruct_core::{Timestamp, Zone};

use crate::CommitInfo;

pub struct Parsed {
    pub commits: Vec<CommitInfo>,
    /// (line number, what could not be read)
    pub problems: Vec<(u64, String)>,
}

#[derive(Default)]
struct Draft {
    id: String,
    line: u64,
    parents: usize,
    author: String,
    committed: Option<Timestamp>,
    author_date: Option<Timestamp>,
    message: Vec<String>,
    refs: Vec<String>,
    files: Vec<String>,
}

pub fn parse(bytes: &[u8]) -> Parsed {
    let text = String::from_utf8_lossy(bytes);
    let mut commits = Vec::new();
    let mut problems = Vec::new();
    let mut cur: Option<Draft> = None;
    let mut author_dates_used = 0;
    let mut finish = |d: Draft, problems: &mut Vec<(u64, String)>, commits: &mut Vec<CommitInfo>| {
        let time = match (d.committed, d.author_date) {
            (Some(t), _) => t,
            (None, Some(t)) => {
                author_dates_used += 1;
                if author_dates_used == 1 {
                    problems
                        .push((d.line, "no CommitDate (save with --pretty=fuller): the author date is used".into()));
                }
                t
            }
            (None, None) => {
                problems.push((d.line, format!("commit {} has no readable date", d.id)));
                return;
            }
        };
        let mut message = d.message.into_iter().skip_while(|l| l.is_empty());
        let subject = message.next().unwrap_or_default();
        let body: Vec<String> = message.skip_while(|l| l.is_empty()).collect();
        commits.push(CommitInfo {
            short: d.id.chars().take(7).collect(),
            id: d.id,
            parents: d.parents.max(1),
            author: d.author,
            committed: time,
            subject,
            body: body.join("\n"),
            refs: d.refs,
            files: d.files,
        });
    };
    for (i, raw) in text.lines().enumerate() {
        let number = i as u64 + 1;
        let line = raw.trim_end_matches('\r');
        if let Some(rest) = line.strip_prefix("commit ") {
            if let Some(d) = cur.take() {
                finish(d, &mut problems, &mut commits);
            }
            let (hash, deco) = match rest.split_once(' ') {
                Some((h, d)) => (h, d.trim()),
                None => (rest.trim(), ""),
            };
            if hash.len() < 7 || !hash.bytes().all(|c| c.is_ascii_hexdigit()) {
                problems.push((number, format!("not a commit hash: {hash:?}")));
                continue;
            }
            let refs = deco
                .strip_prefix('(')
                .and_then(|d| d.strip_suffix(')'))
                .map(|d| {
                    d.split(", ")
                        .map(|r| r.strip_prefix("HEAD -> ").unwrap_or(r).to_string())
                        .filter(|r| r != "HEAD")
                        .collect()
                })
                .unwrap_or_default();
            cur = Some(Draft { id: hash.to_string(), line: number, refs, ..Draft::default() });
            continue;
        }
        let Some(d) = cur.as_mut() else {
            if !line.trim().is_empty() {
                problems.push((number, "text before the first commit line".into()));
            }
            continue;
        };
        if let Some(m) = line.strip_prefix("    ") {
            d.message.push(m.to_string());
        } else if let Some(p) = line.strip_prefix("Merge:") {
            d.parents = p.split_whitespace().count();
        } else if let Some(a) = line.strip_prefix("Author:") {
            let a = a.trim();
            d.author = a.split_once(" <").map_or(a, |(n, _)| n).to_string();
        } else if let Some(t) = line.strip_prefix("CommitDate:") {
            d.committed = read_date(t, number, &mut problems);
        } else if let Some(t) = line.strip_prefix("AuthorDate:").or_else(|| line.strip_prefix("Date:")) {
            d.author_date = read_date(t, number, &mut problems);
        } else if line.starts_with("Commit:") || line.trim().is_empty() {
        } else if !d.message.is_empty() {
            d.files.push(line.to_string());
        } else {
            problems.push((number, format!("unexpected line in commit header: {line:?}")));
        }
    }
    if let Some(d) = cur.take() {
        finish(d, &mut problems, &mut commits);
    }
    Parsed { commits, problems }
}

/// Writes commits in the form [`parse`] reads (`--pretty=fuller
/// --date=iso-strict --decorate=short --name-only`), newest first as
/// `git log` prints them; `reconstruct capture` saves live history with it.
pub fn write(commits: &[CommitInfo]) -> String {
    let mut sorted: Vec<&CommitInfo> = commits.iter().collect();
    sorted.sort_by(|a, b| b.committed.cmp(&a.committed).then_with(|| b.id.cmp(&a.id)));
    let mut out = String::new();
    for c in sorted {
        let refs = if c.refs.is_empty() { String::new() } else { format!(" ({})", c.refs.join(", ")) };
        let date = c.committed.to_datetime().format("%Y-%m-%dT%H:%M:%S+00:00");
        out.push_str(&format!("commit {}{refs}\n", c.id));
        if c.parents > 1 {
            // The count is what the reader needs; the abbreviated ids are not kept.
            let ids: Vec<&str> = std::iter::repeat_n("0000000", c.parents).collect();
            out.push_str(&format!("Merge: {}\n", ids.join(" ")));
        }
        out.push_str(&format!(
            "Author:     {}\nAuthorDate: {date}\nCommit:     {}\nCommitDate: {date}\n\n",
            c.author, c.author
        ));
        out.push_str(&format!("    {}\n", c.subject));
        if !c.body.trim().is_empty() {
            out.push('\n');
            for l in c.body.trim_end().lines() {
                out.push_str(&format!("    {l}\n"));
            }
        }
        if !c.files.is_empty() {
            out.push('\n');
            for f in &c.files {
                out.push_str(f);
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}

fn read_date(t: &str, number: u64, problems: &mut Vec<(u64, String)>) -> Option<Timestamp> {
    let t = t.trim();
    match parse_iso(t.as_bytes(), &Zone::Utc) {
        Some(p) => Some(p.time),
        None => {
            problems.push((number, format!("unreadable date {t:?} (save with --date=iso-strict)")));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "commit abc123f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0 (HEAD -> main, tag: v1.4.2, origin/main)
Author:     Dana Ops <dana@example.com>
AuthorDate: 2025-12-26T14:41:12+00:00
Commit:     Dana Ops <dana@example.com>
CommitDate: 2025-12-26T14:42:00+00:00

    fix: add missing indexes to assignments table

    Applies 20251220_add_assignments_indexes.

backend/alembic/versions/20251220_add_assignments_indexes.py
backend/app/models/assignment.py

commit 1111111222222233333334444444555555566666
Merge: aaaaaaa bbbbbbb
Author:     Sam <sam@example.com>
AuthorDate: 2025-12-26T13:00:00+01:00
Commit:     Sam <sam@example.com>
CommitDate: 2025-12-26T15:10:00+01:00

    Merge branch 'feature'
";

    #[test]
    fn reads_fuller_output() {
        let p = parse(SAMPLE.as_bytes());
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.commits.len(), 2);
        let c = &p.commits[0];
        assert_eq!(c.short, "abc123f");
        assert_eq!(c.committed.rfc3339(), "2025-12-26T14:42:00Z");
        assert_eq!(c.subject, "fix: add missing indexes to assignments table");
        assert_eq!(c.body, "Applies 20251220_add_assignments_indexes.");
        assert_eq!(c.refs, vec!["main", "tag: v1.4.2", "origin/main"]);
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.author, "Dana Ops");
        assert_eq!(p.commits[1].parents, 2);
        assert_eq!(p.commits[1].committed.rfc3339(), "2025-12-26T14:10:00Z");
    }

    #[test]
    fn what_it_writes_it_reads_back() {
        let p = parse(SAMPLE.as_bytes());
        let again = parse(write(&p.commits).as_bytes());
        assert!(again.problems.is_empty(), "{:?}", again.problems);
        let mut a = p.commits.clone();
        let mut b = again.commits.clone();
        a.sort_by(|x, y| x.id.cmp(&y.id));
        b.sort_by(|x, y| x.id.cmp(&y.id));
        assert_eq!(a, b);
    }

    #[test]
    fn medium_output_and_garbage() {
        let p = parse(b"commit abcdef1234567\nAuthor: A <a@x>\nDate:   2025-12-26T14:00:00Z\n\n    s\n");
        assert_eq!(p.commits.len(), 1);
        assert_eq!(p.problems.len(), 1);
        let p = parse(b"hello\ncommit zz\n\xff\xfe\n");
        assert!(p.commits.is_empty());
        assert_eq!(p.problems.len(), 3);
        let p = parse(b"commit abcdef1234567\nCommitDate: yesterday\n\n    s\n");
        assert!(p.commits.is_empty());
        assert_eq!(p.problems.len(), 2);
    }
}
