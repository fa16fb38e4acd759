//! Output to a person at a terminal: how wide it is, whether colour is
//! wanted, and paging a long result through `$PAGER` as git does (less
//! with `-FRX`, so a short result prints and the screen is kept).

use std::io::{self, IsTerminal, Write};
use std::process::{Command, Stdio};

use crate::render::terminal::Screen;

/// The terminal stdout is, if it is one: its width and whether colour is
/// wanted (`NO_COLOR` set, or `TERM=dumb`, turns colour off).
pub fn screen() -> Option<Screen> {
    if !io::stdout().is_terminal() {
        return None;
    }
    let width = env_number("COLUMNS")
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)).filter(|w| *w > 0))
        .unwrap_or(100);
    let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb");
    Some(Screen { width, colour })
}

fn env_number(key: &str) -> Option<usize> {
    std::env::var(key).ok()?.trim().parse().ok().filter(|n| *n > 0)
}

fn height() -> usize {
    env_number("LINES")
        .or_else(|| terminal_size::terminal_size().map(|(_, h)| usize::from(h.0)).filter(|h| *h > 0))
        .unwrap_or(24)
}

/// Writes `text` to stdout; at a terminal, through the pager when it is
/// taller than the screen. A pager that cannot start is not an error: the
/// text is written as it is.
pub fn show(text: &[u8], page: bool) -> io::Result<()> {
    let lines = text.iter().filter(|c| **c == b'\n').count();
    if page && io::stdout().is_terminal() && lines >= height() {
        let pager =
            std::env::var("RECONSTRUCT_PAGER").or_else(|_| std::env::var("PAGER")).unwrap_or_else(|_| "less".into());
        let pager = pager.trim();
        if !pager.is_empty() && pager != "cat" {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", pager]).stdin(Stdio::piped());
            if std::env::var_os("LESS").is_none() {
                cmd.env("LESS", "FRX");
            }
            if let Ok(mut child) = cmd.spawn() {
                if let Some(mut stdin) = child.stdin.take() {
                    // The reader quitting early (q in less) closes the pipe: not an error.
                    let _ = stdin.write_all(text);
                }
                let _ = child.wait();
                return Ok(());
            }
        }
    }
    let mut out = io::stdout().lock();
    out.write_all(text).and_then(|()| out.flush())
}
