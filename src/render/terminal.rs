//! The timeline for a person at a terminal: rows that fit the width, the
//! evidence on its own line under each, severity in colour (unless
//! `NO_COLOR`), and the same totals and coverage as the markdown table.
//! Pipes, files and `--wide` get the markdown table itself.

use std::io::{self, Write};

use reconstruct_core::text::count;
use reconstruct_core::{EventKind, Severity, Timestamp};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{evidence_all, fold_suffix, marker_text, Timeline};

/// How the terminal is to be written to.
#[derive(Clone, Copy, Debug)]
pub struct Screen {
    /// Columns available.
    pub width: usize,
    pub colour: bool,
}

const RESET: &str = "\x1b[0m";

fn paint(s: &Screen, code: &str, text: &str) -> String {
    if s.colour {
        format!("\x1b[{code}m{text}{RESET}")
    } else {
        text.to_string()
    }
}

/// `text` cut to `width` columns (an ellipsis where it was cut), control
/// characters shown as spaces so a log line cannot move the cursor.
pub fn fit(text: &str, width: usize) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.width() <= width {
        return clean;
    }
    let mut out = String::new();
    let mut used = 0usize;
    for c in clean.chars() {
        let w = c.width().unwrap_or(0);
        if used.saturating_add(w) > width.saturating_sub(1) {
            break;
        }
        out.push(c);
        used = used.saturating_add(w);
    }
    out.push('…');
    out
}

pub fn render(t: &Timeline<'_>, s: &Screen, out: &mut dyn Write) -> io::Result<()> {
    let width = s.width.max(40);
    let days = t.window.spans_days();
    let when = |ts: Timestamp| if days { ts.date_hms() } else { ts.hms() };
    writeln!(
        out,
        "{}",
        paint(s, "1", &fit(&format!("Timeline {} to {} (UTC)", t.window.since, t.window.until), width))
    )?;
    writeln!(out)?;
    for r in t.rows {
        let time = when(r.event.time);
        let comp = fit(&r.event.component, 24);
        let head = format!("{time}  {comp}  ");
        let room = width.saturating_sub(head.width());
        // What must show (the marker, the count of repeats) is kept; the
        // message gives way.
        let marker = r.marker.map(|m| format!("[{}] ", marker_text(m))).unwrap_or_default();
        let suffix = fold_suffix(r);
        let text_room = room.saturating_sub(marker.width()).saturating_sub(suffix.width());
        let code = match (r.event.kind, r.event.severity) {
            (EventKind::Change, _) => "36",
            (_, Some(Severity::Critical)) => "1;31",
            (_, Some(Severity::Error)) => "31",
            (_, Some(Severity::Warning)) => "33",
            _ => "",
        };
        let text = format!("{}{suffix}", fit(&r.event.summary, text_room.max(8)));
        let text = if code.is_empty() { text } else { paint(s, code, &text) };
        let marker = if marker.is_empty() { marker } else { paint(s, "1;7", marker.trim_end()) + " " };
        writeln!(out, "{}  {comp}  {marker}{text}", paint(s, "2", &time))?;
        // The evidence under the row, whole (it is what a reviewer pastes),
        // wrapped rather than cut.
        let indent = " ".repeat(time.width().saturating_add(2));
        let room = width.saturating_sub(indent.width()).saturating_sub(2).max(20);
        for e in evidence_all(r) {
            for (i, piece) in wrap(&e, room).into_iter().enumerate() {
                let lead = if i == 0 { "↳ " } else { "  " };
                writeln!(out, "{indent}{}", paint(s, "2", &format!("{lead}{piece}")))?;
            }
        }
    }
    if t.rows.is_empty() {
        writeln!(out, "{}", fit(&super::no_rows_text(t), width))?;
    }
    writeln!(out)?;
    let tot = t.totals;
    let mut parts = vec![format!("{} shown", count(t.rows.len() as u64, "row", "rows"))];
    if tot.folded > 0 {
        parts.push(format!("{} folded", count(tot.folded, "repeat", "repeats")));
    }
    if tot.over_budget_rows > 0 {
        parts.push(format!("{} over --max-rows", count(tot.over_budget_rows, "row", "rows")));
    }
    if tot.routine > 0 {
        parts.push(format!("{} not shown", count(tot.routine, "routine event", "routine events")));
    }
    if tot.filtered > 0 {
        parts.push(format!("{} left out by the filters", count(tot.filtered, "event", "events")));
    }
    if tot.masked > 0 {
        parts.push(format!("{} masked", count(tot.masked, "secret", "secrets")));
    }
    let line = format!("{} in the window: {}.", count(tot.events, "event", "events"), parts.join(", "));
    for piece in wrap(&line, width) {
        writeln!(out, "{piece}")?;
    }
    writeln!(out)?;
    writeln!(out, "{}", paint(s, "1", "Evidence coverage"))?;
    if let Some(b) = t.bundle {
        for line in super::bundle_lines(b) {
            for piece in wrap(&line, width) {
                writeln!(out, "{piece}")?;
            }
        }
    }
    for c in t.coverage_lines() {
        let code = match c.word {
            "failed" | "timed_out" => "31",
            "empty" | "skipped" => "33",
            _ => "32",
        };
        let head = format!("{:<14}{}", count(c.events, "event", "events"), c.outcome.source);
        writeln!(out, "  {} {}", paint(s, code, &format!("{:<9}", c.word)), fit(&head, width.saturating_sub(12)))?;
        // Why, when it is not simply read.
        if c.word != "ok" && c.word != "empty" {
            for piece in wrap(&c.text, width.saturating_sub(12)) {
                writeln!(out, "            {piece}")?;
            }
        }
        if c.outcome.tally.diagnostics_total > 0 {
            let more = count(c.outcome.tally.diagnostics_total, "problem reading it", "problems reading it");
            writeln!(out, "            {}", fit(&format!("{more} (-v lists them)"), width.saturating_sub(12)))?;
        }
    }
    Ok(())
}

/// `text` in pieces of at most `width` columns, control characters as spaces.
fn chunks(text: &str, width: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if cur.width().saturating_add(c.width().unwrap_or(0)) > width {
            pieces.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() || pieces.is_empty() {
        pieces.push(cur);
    }
    pieces
}

/// Words of `text` in lines of at most `width` columns.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    // A word wider than a line is split, never cut: evidence is pasted.
    for word in text.split(' ').flat_map(|w| chunks(w, width)) {
        if !cur.is_empty() && cur.width().saturating_add(1).saturating_add(word.width()) > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_counts_columns_not_bytes() {
        assert_eq!(fit("hello", 10), "hello");
        assert_eq!(fit("hello world", 6), "hello…");
        assert_eq!(fit("日本語のログ", 5).width(), 5);
        assert_eq!(fit("a\x1b[2Jb", 10), "a [2Jb");
        assert!(wrap("one two three four", 9).iter().all(|l| l.width() <= 9));
    }
}
