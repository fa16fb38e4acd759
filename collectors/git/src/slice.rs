//! The git kind of source as one slice: `--git` and `[[git]]` (by default
//! the repository of the working directory), the bundle's `git/` folder of
//! saved `git log` text, and how a repository is saved (the window's
//! commits in that form).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, FromArgMatches};
use reconstruct_core::slice::{
    Bundle, Common, ConfigError, ConfigText, Extra, Identity, Resolution, ResolveError, SavedFile, Slice, Spec,
};
use reconstruct_core::{Source, SourceKind};
use serde::Deserialize;

use crate::{GitLogFileCollector, GitRepoCollector};

/// Saved `git log` text.
pub const ROLE: &str = "git-log";

#[derive(Debug, Args)]
#[group(skip)]
struct Flags {
    /// A git repository to read; repeatable. Default: the current directory when it is one.
    #[arg(long = "git", value_name = "PATH")]
    git: Vec<PathBuf>,
    /// Do not read the current directory's git repository by default.
    #[arg(long)]
    no_git: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Tables {
    #[serde(default)]
    git: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    path: PathBuf,
    component: Option<String>,
}

/// One git source.
#[derive(Debug)]
pub enum GitSpec {
    /// A repository, walked live.
    Repo { path: PathBuf, component: Option<String> },
    /// Saved `git log` text.
    LogFile { file: PathBuf, display: String, component: String },
}

/// The kind of source: git history.
pub struct Git;

impl Slice for Git {
    fn name(&self) -> &'static str {
        "git"
    }

    fn describe(&self) -> &'static str {
        "git history: commits, merges and tags, what changed and when it landed"
    }

    fn flags(&self, cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }

    fn naming_flags(&self) -> &'static [&'static str] {
        &["--git"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["git"]
    }

    fn check(&self, config: &ConfigText) -> Result<(), ConfigError> {
        config.parse::<Tables>().map(|_| ())
    }

    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let flags = Flags::from_arg_matches(r.matches).map_err(|e| ResolveError::Other(e.to_string()))?;
        let tables: Tables = r.config.parse()?;
        let mut repos: Vec<(PathBuf, Option<String>)> = flags.git.into_iter().map(|p| (p, None)).collect();
        if repos.is_empty() {
            repos = tables.git.into_iter().map(|e| (e.path, e.component)).collect();
        }
        let here = r.cwd.is_some_and(crate::walk::is_repository);
        if repos.is_empty() && !flags.no_git && !r.from_bundle && here {
            repos.push((PathBuf::from("."), None));
        }
        for (path, component) in repos {
            r.push(GitSpec::Repo { path, component });
        }
        Ok(())
    }

    fn recognise(&self, rel: &str) -> Option<&'static str> {
        rel.starts_with("git/").then_some(ROLE)
    }

    fn roles(&self) -> &'static [&'static str] {
        &[ROLE]
    }

    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        for f in files {
            let component =
                f.component.unwrap_or_else(|| reconstruct_logfile::fetch::component_of(Path::new(&f.display)));
            r.push_at(f.order, GitSpec::LogFile { file: f.path, display: f.display, component });
        }
        Ok(())
    }

    fn blind_spots(&self) -> &'static [(&'static [SourceKind], &'static str)] {
        &[(&[SourceKind::Git], "Commit times are committer times, taken from the committer's clock.")]
    }
}

impl Spec for GitSpec {
    fn kind(&self) -> SourceKind {
        SourceKind::Git
    }

    fn what(&self) -> String {
        match self {
            GitSpec::Repo { path, .. } => path.display().to_string(),
            GitSpec::LogFile { display, .. } => display.clone(),
        }
    }

    fn open(self: Box<Self>, _c: &Common) -> Source {
        match *self {
            GitSpec::Repo { path, component } => Source::Blocking(Box::new(GitRepoCollector::new(path, component))),
            GitSpec::LogFile { file, display, component } => {
                Source::Blocking(Box::new(GitLogFileCollector { file, display, component: Arc::from(component) }))
            }
        }
    }

    /// The commits of the window, in the saved `git log` form.
    fn save(&self, c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
        match self {
            GitSpec::Repo { path, component } => {
                let name = component.clone().unwrap_or_else(|| crate::walk::repo_name(path));
                let (commits, _) = crate::walk::commits_in_window(path, &c.window).map_err(|e| e.to_string())?;
                let rel = b.name("git", &format!("{name}.log"));
                let extra = Extra { component: Some(name), ..Default::default() };
                b.add(&rel, crate::saved::write(&commits).as_bytes(), ROLE, &path.display().to_string(), extra)
            }
            GitSpec::LogFile { display, .. } => Err(format!("{display} is saved already")),
        }
    }

    fn is_live(&self) -> bool {
        matches!(self, GitSpec::Repo { .. })
    }

    fn identity(&self) -> Identity {
        match self {
            GitSpec::Repo { path, .. } => Identity::File { path: path.clone(), specific: false },
            GitSpec::LogFile { .. } => Identity::Saved,
        }
    }
}
