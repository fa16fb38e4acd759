//! The default command: collect and render the timeline (the Phase 2 table,
//! or a machine format), streaming every event when `--all` asks for a line format.

use std::io::{self, Write};

use anyhow::Context;

use crate::cli::{OutputArgs, SourceArgs};
use crate::exit::Exit;
use crate::pipeline::{self, collect, ignore_broken_pipe, open_output};
use crate::render::{self, Format};
use crate::summarise::Row;

/// How many bytes of formatted rows are written to the output at once.
const BATCH: usize = 256 * 1024;

pub fn run(src: &SourceArgs, out: &OutputArgs) -> anyhow::Result<Exit> {
    let settings = super::resolve(src)?;
    let (quiet, verbose) = (settings.quiet, settings.verbose);
    let mut sink = open_output(out.output.as_deref())?;
    let streaming = out.all && out.format.is_line_format();
    let collected = if streaming {
        // Rows are formatted into one buffer, handed to the output a batch at
        // a time: a line's many small writes stay in memory.
        let mut batch: Vec<u8> = Vec::with_capacity(BATCH + 4096);
        let header = render::header(out.format, &mut batch);
        let format = out.format;
        let mut write = |r: Row| {
            render::write_row(format, &r, &mut batch)?;
            if batch.len() >= BATCH {
                sink.write_all(&batch)?;
                batch.clear();
            }
            Ok(())
        };
        let c = header.and_then(|()| collect(settings, true, out.max_rows, Some(&mut write)));
        c.and_then(|c| sink.write_all(&batch).map(|()| c))
    } else {
        collect(settings, out.all, out.max_rows, None)
    };
    let c = match collected {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(Exit::Ok),
        Err(e) => return Err(e).context("cannot write the output"),
    };
    let mut written = Ok(());
    if !streaming {
        let t = c.timeline(out.all);
        // A person at a terminal: rows fitted to the width, paged when long.
        let screen = if out.output.is_none() { crate::pager::screen() } else { None };
        written = match screen {
            Some(screen) => {
                let mut text = Vec::new();
                let rendered = if out.format == Format::Md && !out.wide {
                    render::terminal::render(&t, &screen, &mut text)
                } else {
                    render::render(out.format, &t, &mut text)
                };
                rendered.and_then(|()| crate::pager::show(&text, !out.no_pager))
            }
            None => render::render(out.format, &t, &mut sink),
        };
    }
    written.and_then(|()| sink.flush()).or_else(ignore_broken_pipe).context("cannot write the output")?;
    Ok(pipeline::conclude(&c.outcomes, quiet, verbose))
}
