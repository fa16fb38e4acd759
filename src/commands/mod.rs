//! The commands: each takes the parsed command line, resolves its settings
//! once (see `settings`), and writes its output.

pub mod capture;
pub mod context;
pub mod report;
pub mod timeline;
pub mod verify;

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, Command, SourceArgs};
use crate::exit::Exit;
use crate::settings::{self, Settings};

/// Runs what the command line asks for.
pub fn execute(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        None => timeline::run(&cli.sources, &cli.output),
        Some(Command::Report(r)) => report::run(&r),
        Some(Command::Capture(c)) => capture::run(&c),
        Some(Command::Verify { dir }) => verify::run(&dir),
        Some(Command::Context(c)) => context::run(&c),
        Some(Command::Completions { shell }) => {
            let mut cmd = Cli::command();
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut cmd, "reconstruct", &mut out);
            out.flush().or_else(crate::pipeline::ignore_broken_pipe)?;
            Ok(Exit::Ok)
        }
        Some(Command::Man) => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .and_then(|()| out.flush())
                .or_else(crate::pipeline::ignore_broken_pipe)?;
            Ok(Exit::Ok)
        }
    }
}

/// The settings of a run, with their warnings said on stderr.
fn resolve(args: &SourceArgs) -> anyhow::Result<Settings> {
    let s = settings::resolve(args)?;
    if !s.quiet {
        for w in &s.warnings {
            eprintln!("reconstruct: warning: {w}");
        }
    }
    Ok(s)
}
