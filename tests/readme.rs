#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The README is the guide: its flag tables must name every flag the
//! command line has, and no flag it does not have.

use std::collections::BTreeSet;

use clap::CommandFactory;

/// `--flags` named in the first column of the README's flag tables (rows
/// of tables whose header is `| Flag |`), by the section they are in.
fn readme_flags(section: &str) -> BTreeSet<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let body: String = readme
        .split("\n## ")
        .find(|s| s.starts_with(section))
        .unwrap_or_else(|| panic!("no section {section}"))
        .to_string();
    let re = regex::Regex::new(r"--[a-z][a-z0-9-]*").unwrap();
    let mut flags = BTreeSet::new();
    let mut in_table = false;
    for line in body.lines() {
        if line.starts_with("| Flag |") {
            in_table = true;
            continue;
        }
        if in_table && !line.starts_with('|') {
            in_table = false;
        }
        if in_table {
            let first = line.trim_start_matches('|').split(" | ").next().unwrap_or_default();
            flags.extend(re.find_iter(first).map(|m| m.as_str().to_string()));
        }
    }
    flags
}

fn cli_flags(cmd: &clap::Command) -> BTreeSet<String> {
    cmd.get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| *l != "help" && *l != "version")
        .map(|l| format!("--{l}"))
        .collect()
}

#[test]
fn the_readme_flag_table_is_the_command_line() {
    let cmd = reconstruct::cli::Cli::command();
    let readme = readme_flags("Usage");
    let mut cli = cli_flags(&cmd);
    for sub in cmd.get_subcommands() {
        cli.extend(cli_flags(sub));
    }
    let missing: Vec<_> = cli.difference(&readme).collect();
    let stale: Vec<_> = readme.difference(&cli).collect();
    assert!(missing.is_empty(), "flags the README's Usage table does not list: {missing:?}");
    assert!(stale.is_empty(), "flags the README lists that the command line lacks: {stale:?}");
}

#[test]
fn the_readme_lists_each_subcommands_own_flags() {
    let cmd = reconstruct::cli::Cli::command();
    let top = cli_flags(&cmd);
    let readme = readme_flags("Usage");
    for sub in cmd.get_subcommands() {
        let own: BTreeSet<String> = cli_flags(sub).difference(&top).cloned().collect();
        let missing: Vec<_> = own.difference(&readme).collect();
        assert!(missing.is_empty(), "{}: flags the README does not list: {missing:?}", sub.get_name());
    }
}
