//! The Phase 2 table exactly as the post-mortem template shows it
//! (`| Time (UTC) | Event | Component | Evidence |`), then the coverage
//! section that says what was read and what was not.

use std::io::{self, Write};

use reconstruct_core::text::count;
use reconstruct_core::Timestamp;

use super::{fold_suffix, thousands, Timeline};

/// Longest event text in a cell; the excerpt in the machine formats is whole.
const CELL_MAX: usize = 200;

pub fn render(t: &Timeline<'_>, out: &mut dyn Write) -> io::Result<()> {
    // A row from before the window (the report's suspect) on another day shows its date.
    let days = t.window.spans_days() || t.rows.iter().any(|r| r.event.time.date() != t.window.since.date());
    let when = |ts: Timestamp| if days { ts.date_hms() } else { ts.hms() };
    writeln!(out, "### Timeline")?;
    writeln!(out)?;
    writeln!(out, "Window: {} to {} (UTC)", t.window.since, t.window.until)?;
    writeln!(out)?;
    writeln!(out, "| Time (UTC) | Event | Component | Evidence |")?;
    writeln!(out, "|------------|-------|-----------|----------|")?;
    for r in t.rows {
        let marker = r.marker.map(|m| format!(" **({})**", super::marker_text(m))).unwrap_or_default();
        let evidence: Vec<String> = super::evidence_all(r).iter().map(|l| code(l)).collect();
        writeln!(
            out,
            "| {} | {}{}{marker} | {} | {} |",
            when(r.event.time),
            cell(&r.event.summary, CELL_MAX),
            cell(&fold_suffix(r), 60),
            cell(&r.event.component, 80),
            evidence.join("<br>"),
        )?;
    }
    if t.rows.is_empty() {
        writeln!(out, "| - | {} | - | - |", cell(&super::no_rows_text(t), 300))?;
    }
    writeln!(out)?;
    let tot = t.totals;
    if t.all {
        writeln!(out, "{} in the window, every one shown.", count(tot.events, "event", "events"))?;
    } else {
        let mut parts = vec![format!("{} shown", count(t.rows.len() as u64, "row", "rows"))];
        if tot.folded > 0 {
            parts.push(format!("{} folded into them", count(tot.folded, "repeat", "repeats")));
        }
        if tot.over_budget_rows > 0 {
            parts.push(format!(
                "{} lower-ranked rows ({} events) over the --max-rows budget",
                thousands(tot.over_budget_rows),
                thousands(tot.over_budget_events)
            ));
        }
        if tot.routine > 0 {
            parts.push(format!("{} (info, debug) not shown", count(tot.routine, "routine event", "routine events")));
        }
        if tot.unclustered > 0 {
            parts.push(format!("{} events with too many distinct messages to fold", thousands(tot.unclustered)));
        }
        writeln!(
            out,
            "{} in the window: {}. `--all` shows every event.",
            count(tot.events, "event", "events"),
            parts.join(", ")
        )?;
    }
    if tot.filtered > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "{} left out by the filters (--grep, --component, --level).",
            count(tot.filtered, "event of the window was", "events of the window were")
        )?;
    }
    if tot.masked > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "{} secret value(s) masked (passwords, tokens, keys); `--no-redact` keeps them.",
            thousands(tot.masked)
        )?;
    }
    writeln!(out)?;
    coverage(t, out)
}

fn coverage(t: &Timeline<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "### Evidence coverage")?;
    writeln!(out)?;
    if let Some(b) = t.bundle {
        for line in super::bundle_lines(b) {
            writeln!(out, "{}", cell(&line, 600))?;
            writeln!(out)?;
        }
    }
    if t.coverage.is_empty() {
        writeln!(out, "No sources were read.")?;
        return Ok(());
    }
    writeln!(out, "| Source | Status | Events | First | Last | Notes |")?;
    writeln!(out, "|--------|--------|--------|-------|------|-------|")?;
    let fmt = |x: Option<Timestamp>| x.map_or("-".to_string(), |x| x.date_hms());
    for c in t.coverage_lines() {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&c.outcome.source.to_string(), 120),
            cell(&c.text, 400),
            thousands(c.events),
            fmt(c.first),
            fmt(c.last),
            cell(&c.notes.join("; "), 400),
        )?;
    }
    let problems: Vec<_> = t.coverage.iter().filter(|o| o.tally.diagnostics_total > 0).collect();
    if !problems.is_empty() {
        writeln!(out)?;
        writeln!(out, "What could not be read:")?;
        writeln!(out)?;
        for o in problems {
            for d in &o.tally.diagnostics {
                let at = d.locator.as_ref().map_or(o.source.to_string(), ToString::to_string);
                writeln!(out, "- {}: {}", code(&at), cell(&d.message, 300))?;
            }
            let more = o.tally.diagnostics_total.saturating_sub(o.tally.diagnostics.len() as u64);
            if more > 0 {
                writeln!(out, "- {}: {} more", code(&o.source.to_string()), thousands(more))?;
            }
        }
    }
    Ok(())
}

/// Text safe inside a table cell: one line, `|` and markdown specials
/// escaped, bounded length.
pub fn cell(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 8);
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        match c {
            '|' | '\\' | '`' | '*' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A code span that survives backticks and pipes inside it.
pub fn code(s: &str) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let clean = clean.replace('|', "\\|");
    let longest = clean.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if clean.starts_with('`') || clean.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{clean}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc`d", 100), "a\\|b c\\`d");
        assert_eq!(cell("<script>", 100), "\\<script\\>");
        assert_eq!(cell("abcdef", 3), "abc…");
        assert_eq!(code("logs/a.log:12"), "`logs/a.log:12`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a|b"), "`a\\|b`");
    }
}
