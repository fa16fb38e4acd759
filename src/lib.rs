//! reconstruct rebuilds the timeline of an outage from evidence: it resolves
//! the command line, the configuration file and the environment into
//! settings and a list of sources (live or a saved bundle), runs them
//! concurrently, merges their events into one ordered timeline, summarises
//! it into the rows a post-mortem needs, and renders it.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod annotate;
pub mod bundle;
pub mod cli;
pub mod commands;
pub mod config;
pub mod coverage;
pub mod exit;
pub mod filter;
pub mod findings;
pub mod merge;
pub mod pager;
pub mod pipeline;
pub mod redact;
pub mod registry;
pub mod render;
pub mod runner;
pub mod settings;
pub mod shape;
pub mod summarise;

use std::ffi::OsString;
use std::process::ExitCode;

pub use exit::Exit;

/// Runs the command line; never panics on bad input, reports errors with
/// their whole chain on stderr.
pub fn run<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    status(args).into()
}

/// Runs the command line with the registry in use ([`registry::current`]),
/// and says how it ended.
pub fn status<I: IntoIterator<Item = OsString>>(args: I) -> Exit {
    let parsed = match <cli::Cli as clap::Parser>::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { Exit::Usage } else { Exit::Ok };
            let _ = e.print();
            return code;
        }
    };
    match commands::execute(parsed) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("reconstruct: error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            if e.chain().any(|c| c.is::<exit::UsageError>()) {
                Exit::Usage
            } else {
                Exit::Error
            }
        }
    }
}
