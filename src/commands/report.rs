//! `reconstruct report`: the whole post-mortem document of the workflow.
//! What the evidence can fill is filled (Phase 1 header, the Phase 2
//! timeline, the evidence coverage); everything else keeps the template's
//! placeholders, ready to finish by hand.

use std::io::Write;

use anyhow::Context;
use reconstruct_core::{AlertState, EventKind, Fact, SourceKind, Timestamp};

use crate::cli::{ReportArgs, ReportFormat};
use crate::exit::Exit;
use crate::pipeline::{self, Collected};
use crate::render::{html, markdown};
use crate::runner::Outcome;
use crate::summarise::{is_error, Marker, Reason};

pub fn run(args: &ReportArgs) -> anyhow::Result<Exit> {
    if let Some(s) = &args.severity {
        if !["CRITICAL", "HIGH", "MEDIUM", "LOW"].contains(&s.to_uppercase().as_str()) {
            anyhow::bail!("--severity must be CRITICAL, HIGH, MEDIUM or LOW, not {s:?}");
        }
    }
    let settings = super::resolve(&args.sources)?;
    let (quiet, verbose) = (settings.quiet, settings.verbose);
    let c = pipeline::collect(settings, false, args.max_rows, None).context("cannot collect")?;
    let mut out = pipeline::open_output(args.output.as_deref())?;
    write(&c, args, &mut out)
        .and_then(|()| out.flush())
        .or_else(pipeline::ignore_broken_pipe)
        .context("cannot write the report")?;
    Ok(pipeline::conclude(&c.outcomes, quiet, verbose))
}

fn minutes(a: Timestamp, b: Timestamp) -> String {
    let secs = b.unix_seconds().saturating_sub(a.unix_seconds()).max(0);
    match secs {
        0..=119 => format!("{secs} seconds"),
        _ if secs < 7200 => format!("{} minutes", (secs + 30) / 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// The Phase 1 header, as filled from the evidence.
struct Header {
    id: String,
    fields: [(&'static str, String); 5],
}

fn header(c: &Collected, args: &ReportArgs) -> Header {
    let rows = &c.rows;
    // The rows the summary marked as opening and closing the incident, so
    // the header and the table tell the same story.
    let onset = rows.iter().find(|r| r.marker == Some(Marker::Onset));
    let recovery = rows.iter().find(|r| r.marker == Some(Marker::Recovery));
    let first_significant = onset.or_else(|| rows.iter().find(|r| is_error(r))).or_else(|| rows.first());
    let id = match (&args.id, first_significant) {
        (Some(id), _) => id.clone(),
        (None, Some(r)) => format!("INC-{}-001", r.event.time.to_datetime().format("%Y%m%d")),
        (None, None) => "INC-[YYYYMMDD]-[NNN]".to_string(),
    };
    let when = first_significant.map_or("[UTC timestamp]".to_string(), |r| format!("{} UTC", r.event.time.date_hms()));
    let duration = match (onset, recovery) {
        (Some(a), Some(b)) if b.event.time > a.event.time => format!(
            "{} ({} first {} → {} {})",
            minutes(a.event.time, b.event.time),
            a.event.time.hms(),
            if a.event.kind == EventKind::Alert { "alert" } else { "error" },
            b.event.time.hms(),
            if b.event.alert_state().is_some() { "alert resolved" } else { "health checks green" }
        ),
        _ => "[time from detection to resolution]".to_string(),
    };
    let severity = args.severity.as_ref().map_or("[CRITICAL|HIGH|MEDIUM|LOW]".to_string(), |s| s.to_uppercase());
    // A row that stands for several sources' events names each of their components.
    let mut affected: Vec<String> = rows
        .iter()
        .filter(|r| is_error(r))
        .flat_map(|r| std::iter::once(&r.event).chain(&r.also).map(|e| e.component.to_string()))
        .collect();
    affected.sort();
    affected.dedup();
    let affected = if affected.is_empty() { "[list components]".to_string() } else { affected.join(", ") };
    // The alert that detected the incident, else the first that fired.
    let detection = rows.iter().filter(|r| r.reason == Some(Reason::Detection));
    let reported = detection
        .chain(rows.iter())
        .find_map(|r| match r.event.fact.as_deref() {
            Some(Fact::Alert { name, state: AlertState::Firing, .. }) => {
                Some(format!("Automated monitoring (Prometheus alert {name} at {})", r.event.time.hms()))
            }
            _ => None,
        })
        .unwrap_or_else(|| "[agent/user/monitoring]".to_string());
    Header {
        id,
        fields: [
            ("Date/Time", when),
            ("Duration", duration),
            ("Severity", severity),
            ("Affected Systems", affected),
            ("Reported By", reported),
        ],
    }
}

pub fn write(c: &Collected, args: &ReportArgs, out: &mut dyn Write) -> std::io::Result<()> {
    let h = header(c, args);
    if args.format == ReportFormat::Html {
        return write_html(c, &h, out);
    }
    writeln!(out, "## Incident ID: {}", h.id)?;
    writeln!(out)?;
    for (label, value) in &h.fields {
        writeln!(out, "**{label}**: {value}")?;
    }
    writeln!(out)?;
    writeln!(out, "### Summary")?;
    writeln!(out)?;
    writeln!(out, "[What happened, in two sentences: the symptom, the cause, the fix.]")?;
    writeln!(out)?;
    let t = c.timeline(false);
    // The timeline and coverage sections are the ones `reconstruct` prints.
    markdown::render(&t, out)?;
    blind_spots(&c.outcomes, out)?;
    out.write_all(LATER_PHASES.as_bytes())
}

/// The report as one HTML page: the header, the picture and table of
/// Phase 2, the coverage and blind spots, then the later phases.
fn write_html(c: &Collected, h: &Header, out: &mut dyn Write) -> std::io::Result<()> {
    let t = c.timeline(false);
    let spots = spots(&c.outcomes);
    let body = maud::html! {
        h1 { "Incident ID: " (h.id) }
        dl {
            @for (label, value) in &h.fields {
                dt { (label) } dd { (value) }
            }
        }
        h2 { "Summary" }
        p { "[What happened, in two sentences: the symptom, the cause, the fix.]" }
        (html::timeline_sections(&t))
        @if !spots.is_empty() {
            h2 { "Known blind spots" }
            ul { @for s in &spots { li { (s) } } }
        }
        (html::markdown(LATER_PHASES))
    };
    let title = format!("Post-mortem {}", h.id);
    out.write_all(html::page(&title, body).into_string().as_bytes())
}

/// The blind spots of the kinds of source read, each slice's in registry order.
fn spots(outcomes: &[Outcome]) -> Vec<&'static str> {
    let has = |c: &SourceKind| outcomes.iter().any(|o| o.source.collector == *c);
    crate::registry::current()
        .iter()
        .flat_map(|s| s.blind_spots().iter())
        .filter(|(kinds, _)| kinds.iter().any(has))
        .map(|(_, sentence)| *sentence)
        .collect()
}

fn blind_spots(outcomes: &[Outcome], out: &mut dyn Write) -> std::io::Result<()> {
    let spots = spots(outcomes);
    if spots.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "Known blind spots:")?;
    writeln!(out)?;
    for s in spots {
        writeln!(out, "- {s}")?;
    }
    Ok(())
}

const LATER_PHASES: &str = r#"
### Impact Assessment

**Users Affected**: [number or "all" or "none"]

**Operations Affected**:
- [ ] [operation]

**Workaround Available**: [YES/NO]

**Database State**: [INTACT|INCONSISTENT|CORRUPTED]

**Compliance Status**: [MAINTAINED|AT RISK|VIOLATED]

### Root Cause Analysis (5-Whys)

**Observed Symptom**: [what users/system experienced]

**1. Why [symptom]?**
→ [because]

**2. Why [that]?**
→ [because]

**3. Why [that]?**
→ [because]

**4. Why [that]?**
→ [because]

**5. Why [that]?**
→ [because]

**ROOT CAUSE**: [the cause that, removed, prevents the incident]

### Contributing Factors

- [what made this worse or easier to happen]

### Fix Applied

**Type**: [CODE|CONFIG|DATABASE|INFRASTRUCTURE]

**Changes Made**:
1. [change]

**Verification**:
- [ ] [check]

### Immediate Actions Taken

| Action | Owner | Status | Completion Time |
|--------|-------|--------|-----------------|
| [action] | [owner] | [status] | [HH:MM UTC] |

### Prevention Measures

**Short-term (< 1 week)**:
- [ ] [measure] (Owner: [assign], Due: [date])

**Long-term (> 1 week)**:
- [ ] [measure] (Owner: [assign], Due: [date])

### Lessons Learned

**What Went Well**:
- [item]

**What Could Be Improved**:
- [item]

**Knowledge Gained**:
- [item]

### Action Items

| ID | Action | Type | Priority | Owner | Due Date | Status |
|----|--------|------|----------|-------|----------|--------|
| AI-001 | [action] | [type] | [HIGH\|MEDIUM\|LOW] | [owner] | [date] | Open |
"#;
