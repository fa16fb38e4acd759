//! The default command: collect and render the timeline (the Phase 2 table,
//! or a machine format), streaming every event when `--all` asks for a line format.

use std::io::{self, Write};

use anyhow::Context;

use crate::cli::{OutputArgs, SourceArgs};
use crate::exit::Exit;
use crate::merge::Taken;
use crate::pipeline::{self, collect, ignore_broken_pipe, open_output};
use crate::redact;
use crate::render::{self, Format};

/// Events handed to the formatting thread at once (at least).
const CHUNK: usize = 2048;
/// Chunks being formatted at once: bounds the memory of a fast reader and
/// a slow output.
const CHUNKS_IN_FLIGHT: usize = 4;

/// Every event in a line format: the main thread merges, a second thread
/// masks and formats each chunk of rows into one buffer, and the main
/// thread writes the buffers in order (the output may be a terminal's lock,
/// which stays on its thread). Masking and formatting are about half of an
/// export's work, and the merge's thread is free for the reader's.
fn stream(
    settings: crate::settings::Settings,
    format: Format,
    max_rows: usize,
    sink: &mut dyn Write,
) -> io::Result<pipeline::Collected> {
    let mut header = Vec::new();
    render::header(format, &mut header)?;
    sink.write_all(&header)?;
    // The rule is the pipeline's (an export masks every event); this says
    // on which thread.
    let mask = settings.redact;
    std::thread::scope(|scope| {
        let (rows_tx, rows_rx) = std::sync::mpsc::channel::<Vec<Taken>>();
        let (text_tx, text_rx) = std::sync::mpsc::channel::<(io::Result<Vec<u8>>, u64)>();
        // Written buffers come back to be filled again: a fresh one of a
        // megabyte a chunk cost the kernel its zeroed pages every time.
        let (spare_tx, spare_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        scope.spawn(move || {
            // Bytes an event took in the last chunk: room is taken once.
            let mut per_event = 256usize;
            for runs in rows_rx {
                let mut masked = 0u64;
                let events = runs.iter().map(Taken::count).sum::<usize>();
                let mut buf = spare_rx.try_recv().unwrap_or_default();
                buf.clear();
                buf.reserve(events.saturating_mul(per_event.saturating_add(per_event / 8)));
                let mut text = Ok(());
                for mut e in runs.into_iter().flat_map(Taken::events) {
                    if mask {
                        masked = masked.saturating_add(redact::event(&mut e));
                    }
                    if text.is_ok() {
                        text = render::write_row(format, &render::single(e), &mut buf);
                    }
                }
                per_event = (buf.len() / events.max(1)).max(1);
                if text_tx.send((text.map(|()| buf), masked)).is_err() {
                    break;
                }
            }
        });
        let mut masked = 0u64;
        let gone = || io::Error::other("the formatting thread stopped");
        let mut in_flight = 0usize;
        // The events merged and not yet handed on, and how many.
        let mut chunk: Vec<Taken> = Vec::new();
        let mut held = 0usize;
        let collected = {
            let mut write = |t: Taken| -> io::Result<()> {
                held = held.saturating_add(t.count());
                chunk.push(t);
                if held < CHUNK {
                    return Ok(());
                }
                held = 0;
                rows_tx.send(std::mem::take(&mut chunk)).map_err(|_| gone())?;
                in_flight += 1;
                // Write what is formatted; wait only when enough is pending.
                while in_flight > 0 {
                    let (text, n) = if in_flight >= CHUNKS_IN_FLIGHT {
                        text_rx.recv().map_err(|_| gone())?
                    } else {
                        match text_rx.try_recv() {
                            Ok(t) => t,
                            Err(_) => break,
                        }
                    };
                    in_flight -= 1;
                    masked = masked.saturating_add(n);
                    let text = text?;
                    sink.write_all(&text)?;
                    // Gone only when the formatting thread is; its error comes on the next send.
                    let _ = spare_tx.send(text);
                }
                Ok(())
            };
            collect(settings, true, max_rows, Some(pipeline::Stream { write: &mut write, masks_itself: true }))
        };
        let mut rest = collected.and_then(|c| {
            if !chunk.is_empty() {
                rows_tx.send(std::mem::take(&mut chunk)).map_err(|_| gone())?;
                in_flight += 1;
            }
            Ok(c)
        });
        // No more rows: the thread ends once it has formatted what it holds.
        drop(rows_tx);
        while in_flight > 0 {
            in_flight -= 1;
            let text = text_rx.recv().map_err(|_| gone()).and_then(|(t, n)| {
                masked = masked.saturating_add(n);
                t
            });
            // After a failed write (a closed pipe) the rest is only drained.
            if rest.is_ok() {
                if let Err(e) = text.and_then(|t| sink.write_all(&t)) {
                    rest = Err(e);
                }
            }
        }
        rest.map(|mut c| {
            c.totals.masked = c.totals.masked.saturating_add(masked);
            c
        })
    })
}

pub fn run(src: &SourceArgs, out: &OutputArgs) -> anyhow::Result<Exit> {
    let settings = super::resolve(src)?;
    let (quiet, verbose) = (settings.quiet, settings.verbose);
    let mut sink = open_output(out.output.as_deref())?;
    let streaming = out.all && out.format.is_line_format();
    let collected = if streaming {
        stream(settings, out.format, out.max_rows, &mut sink)
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
