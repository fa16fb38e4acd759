//! `reconstruct report`: the whole post-mortem document of the workflow.
//! What the evidence can fill is filled (Phase 1 header, the Phase 2
//! timeline, the evidence coverage); everything else keeps the template's
//! placeholders, ready to finish by hand.

use std::io::Write;

use anyhow::Context;
use reconstruct_core::{SourceKind, Timestamp};

use crate::cli::{ReportArgs, ReportFormat};
use crate::exit::Exit;
use crate::findings::{self, clock, Findings, Milestone, Observer};
use crate::pipeline::{self, Collected};
use crate::render::{html, markdown};
use crate::runner::Outcome;
use crate::summarise::is_error;

pub fn run(args: &ReportArgs) -> anyhow::Result<Exit> {
    if let Some(s) = &args.severity {
        if !["CRITICAL", "HIGH", "MEDIUM", "LOW"].contains(&s.to_uppercase().as_str()) {
            anyhow::bail!("--severity must be CRITICAL, HIGH, MEDIUM or LOW, not {s:?}");
        }
    }
    let settings = super::resolve(&args.sources)?;
    let (quiet, verbose, redact) = (settings.quiet, settings.verbose, settings.redact);
    let mut observer =
        Observer::new(settings.redact, settings.window, settings.before.lookback_from, settings.before.baseline);
    let mut c = pipeline::collect_observed(settings, false, args.max_rows, None, Some(&mut observer))
        .context("cannot collect")?;
    let findings = observer.finish();
    mark_clock(&mut c.rows, &findings);
    mark_suspect(&mut c.rows, &findings, redact);
    silence_rows(&mut c.rows, &findings);
    let mut out = pipeline::open_output(args.output.as_deref())?;
    write(&c, &findings, args, &mut out)
        .and_then(|()| out.flush())
        .or_else(pipeline::ignore_broken_pipe)
        .context("cannot write the report")?;
    Ok(pipeline::conclude(&c.outcomes, quiet, verbose))
}

/// The table's onset and recovery are the clock's, when the table has
/// their rows: the findings see every event (and the baseline), the table's
/// own rule only its rows.
fn mark_clock(rows: &mut [crate::summarise::Row], f: &Findings) {
    use crate::summarise::Marker;
    for (marker, milestone) in [(Marker::Onset, &f.clock.onset), (Marker::Recovery, &f.clock.recovery)] {
        let Some(m) = milestone else { continue };
        // The milestone may stand for several events (health green from two sources at once).
        let cites = |r: &crate::summarise::Row| {
            std::iter::once(&r.event)
                .chain(&r.also)
                .any(|e| m.evidence.iter().any(|ev| *ev == e.evidence.locator.to_string()))
        };
        let marked = rows.iter().position(|r| r.marker == Some(marker) && cites(r));
        let Some(at) = marked.or_else(|| rows.iter().position(cites)) else { continue };
        for (i, r) in rows.iter_mut().enumerate() {
            if i == at {
                r.marker = Some(marker);
            } else if r.marker == Some(marker) {
                r.marker = None;
            }
        }
    }
}

/// The top suspect's row in the table, marked: its own row when the table
/// has it, else a row of its own, even before the window.
fn mark_suspect(rows: &mut Vec<crate::summarise::Row>, f: &Findings, redact: bool) {
    use crate::summarise::{Marker, Reason, Row};
    // A merged commit nobody deployed, or a restart, is listed, not marked.
    let Some(top) = f.suspects.first().filter(|s| s.reached) else { return };
    let Some(event) = top.event.as_deref() else { return };
    if let Some(r) = rows.iter_mut().find(|r| r.event.evidence.locator == event.evidence.locator) {
        r.marker.get_or_insert(Marker::Suspect);
        return;
    }
    let mut e = event.clone();
    if redact {
        crate::redact::event(&mut e);
    }
    let mut row = Row::new(e);
    row.marker = Some(Marker::Suspect);
    row.reason = Some(Reason::Suspect);
    let at = rows.partition_point(|r| r.event.order(&row.event).is_lt());
    rows.insert(at, row);
}

/// Each silence a row of the table, at its start, citing the events on either side.
fn silence_rows(rows: &mut Vec<crate::summarise::Row>, f: &Findings) {
    use reconstruct_core::{Event, EventKind, Evidence, Locator, Severity};
    for x in &f.silences {
        let Some(collector) = x.collector else { continue };
        let until = x.until.map_or("the window's end".to_string(), |u| u.hms());
        let e = Event {
            time: x.from,
            basis: reconstruct_core::TimeBasis::Explicit,
            collector,
            component: std::sync::Arc::from(x.service.as_str()),
            kind: EventKind::StateChange,
            severity: Some(Severity::Warning),
            summary: format!(
                "{} went quiet: nothing from {} to {until} ({}; usually every {:.1}s)",
                x.service,
                x.from.hms(),
                span(x.silent_s),
                x.usual_gap_s
            ),
            evidence: Evidence {
                locator: Locator::Text(x.evidence.join(" → ")),
                excerpt: format!("silence of {}s; usual gap {:.1}s in the baseline", x.silent_s, x.usual_gap_s),
            },
            continuation_lines: 0,
            service: None,
            fact: None,
        };
        let mut row = crate::summarise::Row::new(e);
        row.reason = Some(crate::summarise::Reason::Change);
        let at = rows.partition_point(|r| r.event.order(&row.event).is_lt());
        rows.insert(at, row);
    }
}

fn minutes(a: Timestamp, b: Timestamp) -> String {
    let secs = b.unix_seconds().saturating_sub(a.unix_seconds()).max(0);
    match secs {
        0..=119 => format!("{secs} seconds"),
        _ if secs < 7200 => format!("{} minutes", (secs + 30) / 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// A duration in seconds as the report says it (`1m45s`).
fn span(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The Phase 1 header, as filled from the evidence.
struct Header {
    id: String,
    fields: [(&'static str, String); 5],
}

fn header(c: &Collected, f: &Findings, args: &ReportArgs) -> Header {
    let rows = &c.rows;
    let onset = f.clock.onset.as_ref();
    let first_significant = onset.map(|m| m.time()).or_else(|| rows.iter().find(|r| is_error(r)).map(|r| r.event.time));
    let id = match (&args.id, first_significant) {
        (Some(id), _) => id.clone(),
        (None, Some(t)) => format!("INC-{}-001", t.to_datetime().format("%Y%m%d")),
        (None, None) => "INC-[YYYYMMDD]-[NNN]".to_string(),
    };
    let when = first_significant.map_or("[UTC timestamp]".to_string(), |t| format!("{} UTC", t.date_hms()));
    let duration = match (onset, &f.clock.recovery, f.clock.duration_s) {
        (Some(a), Some(b), Some(_)) => format!(
            "{} ({} first error → {} {})",
            minutes(a.time(), b.time()),
            a.time().hms(),
            b.time().hms(),
            recovery_words(b)
        ),
        _ => "[time from detection to resolution]".to_string(),
    };
    let severity = match &args.severity {
        Some(s) => s.to_uppercase(),
        None => format!(
            "{} (suggested from the evidence: {}; --severity overrides)",
            f.severity.level,
            f.severity.reasons.join("; ")
        ),
    };
    let affected = if f.affected.is_empty() { "[list components]".to_string() } else { f.affected.join(", ") };
    let reported = match &f.clock.detection {
        Some(d) => format!("Automated monitoring ({} at {})", alert_name(d), d.time().hms()),
        None if onset.is_some() => "[agent/user/monitoring] (no alert fired: not detected by monitoring)".to_string(),
        None => "[agent/user/monitoring]".to_string(),
    };
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

/// How a recovery milestone shows in the header's duration.
fn recovery_words(m: &Milestone) -> &'static str {
    if m.rule.contains("health green") {
        "health checks green"
    } else if m.rule.contains("service up") {
        "service up again"
    } else if m.rule.contains("resolved") {
        "alert resolved"
    } else {
        "requests served again"
    }
}

/// "Prometheus alert HighErrorRate", from the detecting alert's event.
fn alert_name(m: &Milestone) -> String {
    let name = m.rule.rsplit('(').next().unwrap_or_default().trim_end_matches(')');
    format!("Prometheus alert {}", name.split(')').next().unwrap_or(name))
}

pub fn write(c: &Collected, f: &Findings, args: &ReportArgs, out: &mut dyn Write) -> std::io::Result<()> {
    let h = header(c, f, args);
    match args.format {
        ReportFormat::Html => return write_html(c, f, &h, out),
        ReportFormat::Json => return write_json(c, f, &h, out),
        ReportFormat::Md => {}
    }
    writeln!(out, "## Incident ID: {}", h.id)?;
    writeln!(out)?;
    for (label, value) in &h.fields {
        writeln!(out, "**{label}**: {value}")?;
    }
    writeln!(out)?;
    writeln!(out, "### Summary")?;
    writeln!(out)?;
    writeln!(out, "{}", summary_text(f))?;
    writeln!(out)?;
    out.write_all(clock_section(f).as_bytes())?;
    let t = c.timeline(false);
    // The timeline and coverage sections are the ones `reconstruct` prints.
    markdown::render(&t, out)?;
    blind_spots(&c.outcomes, out)?;
    out.write_all(later_phases(f, &c.outcomes).as_bytes())
}

fn summary_text(f: &Findings) -> String {
    match &f.summary {
        Some(s) => format!("{s} (A draft from the evidence: check it, and add the cause.)"),
        None => "[What happened, in two sentences: the symptom, the cause, the fix.]".to_string(),
    }
}

/// The incident clock as a table, with the durations and what they mean.
fn clock_section(f: &Findings) -> String {
    let k = &f.clock;
    let mut s = String::from("### Incident Clock\n\n| Milestone | Time (UTC) | Event | Component | Evidence | Rule |\n|-----------|------------|-------|-----------|----------|------|\n");
    for (name, m) in [
        ("Onset", &k.onset),
        ("Detection", &k.detection),
        ("Fix", &k.fix),
        ("Mitigation", &k.mitigation),
        ("Recovery", &k.recovery),
    ] {
        match m {
            Some(m) => s.push_str(&format!(
                "| {name} | {} | {} | {} | {} | {} |\n",
                m.time().hms(),
                cell(&m.cited.summary),
                cell(&m.cited.component),
                m.evidence.iter().map(|e| format!("`{}`", cell(e))).collect::<Vec<_>>().join("<br>"),
                cell(&m.rule)
            )),
            None => s.push_str(&format!("| {name} | - | not found in the evidence | - | - | - |\n")),
        }
    }
    s.push('\n');
    for ((label, meaning), v) in
        clock::DURATIONS.iter().zip([k.time_to_detect_s, k.time_to_mitigate_s, k.time_to_recover_s, k.duration_s])
    {
        let value = v.map_or("not known".to_string(), span);
        s.push_str(&format!("- **{}**: {value} ({meaning})\n", capital(label)));
    }
    for n in &k.notes {
        s.push_str(&format!("- {n}\n"));
    }
    s.push_str("\nRules: ");
    s.push_str(&clock::RULES.iter().map(|(n, r)| format!("{n}: {r}")).collect::<Vec<_>>().join("; "));
    s.push_str(".\n\n");
    s
}

/// The clock's milestones, as the picture draws them.
fn pins(f: &Findings, window: reconstruct_core::TimeWindow) -> Vec<html::Pin> {
    let k = &f.clock;
    [
        ("onset", &k.onset),
        ("detection", &k.detection),
        ("fix", &k.fix),
        ("mitigation", &k.mitigation),
        ("recovery", &k.recovery),
    ]
    .into_iter()
    .filter_map(|(label, m)| {
        let m = m.as_ref()?;
        let title = format!("{label} {}: {} ({})", m.time().hms(), m.cited.summary, m.evidence.join(", "));
        Some(html::Pin { label, time: m.time(), title })
    })
    .chain(f.suspects.first().filter(|s| s.time >= window.since).map(|s| html::Pin {
        label: "suspect",
        time: s.time,
        title: format!("suspect #1 {}: {} ({})", s.time.hms(), s.summary, s.evidence.join(", ")),
    }))
    .collect()
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// A table cell: pipes escaped, one line.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The phases after the timeline: the impact, the contributing factors the
/// evidence shows, the fix applied, the actions taken and the facts for the
/// lessons filled from the findings; the rest is the template, for people.
fn later_phases(f: &Findings, outcomes: &[Outcome]) -> String {
    let mut s = String::from("\n### Impact Assessment\n\n");
    let i = &f.impact;
    if f.clock.onset.is_some() {
        s.push_str(&format!(
            "**Users Affected**: {}\n\n",
            if i.users_affected == 0 {
                "none named in the error events (users not logged, or none hit)".to_string()
            } else {
                format!("{} distinct users named in the error events (counted, not listed)", i.users_affected)
            }
        ));
        s.push_str("**Operations Affected**:\n");
        if i.operations.is_empty() {
            s.push_str("- [ ] [operation] (no request or job lines in the evidence)\n");
        }
        for o in &i.operations {
            let total = o.failed.saturating_add(o.succeeded);
            let first = o
                .first_failure
                .as_ref()
                .map_or(String::new(), |c| format!(", first at {} `{}`", c.time.hms(), cell(&c.evidence)));
            if o.failed > 0 {
                s.push_str(&format!("- [x] {}: {} of {total} failed{first}\n", cell(&o.operation), o.failed));
            } else {
                s.push_str(&format!("- [ ] {}: kept working ({total} served)\n", cell(&o.operation)));
            }
        }
        s.push_str(&format!("\n**Failed Requests**: {}\n\n", i.failed_requests));
        if !i.error_volume.is_empty() {
            s.push_str("**Error Volume** (errors a minute, by component):\n\n| Minute (UTC) | Component | Errors |\n|--------------|-----------|--------|\n");
            for v in i.error_volume.iter().take(60) {
                s.push_str(&format!("| {} | {} | {} |\n", v.minute.hms(), cell(&v.component), v.errors));
            }
            if i.error_volume.len() > 60 {
                s.push_str(&format!("\n({} more minutes in `report --format json`)\n", i.error_volume.len() - 60));
            }
            s.push('\n');
        }
        for n in &i.notes {
            s.push_str(&format!("Counted: {n}.\n\n"));
        }
    } else {
        s.push_str(
            "**Users Affected**: [number or \"all\" or \"none\"]\n\n**Operations Affected**:\n- [ ] [operation]\n\n",
        );
    }
    s.push_str("**Workaround Available**: [YES/NO]\n\n");
    s.push_str(&data_integrity(f));
    s.push_str("**Compliance Status**: [MAINTAINED|AT RISK|VIOLATED]\n\n");
    s.push_str(&where_it_started(f));
    s.push_str(&what_changed(f));
    s.push_str(&what_was_new(f));
    s.push_str(TEMPLATE_RCA);
    s.push_str("### Contributing Factors\n\n");
    if f.monitoring_gaps.is_empty() {
        s.push_str("- [what made this worse or easier to happen]\n");
    }
    for g in &f.monitoring_gaps {
        s.push_str(&format!(
            "- **Monitoring gap**: {} failed ({} errors from {}, `{}`) with no alert firing for it\n",
            cell(&g.component),
            g.errors,
            g.first_error.time.hms(),
            cell(&g.first_error.evidence)
        ));
    }
    s.push_str("\n### Fix Applied\n\n");
    let fix = &f.fix;
    match fix.changes.first() {
        Some(c) => {
            s.push_str(&format!("**Type**: {} (from the files of the first change)\n\n", type_word(c.change_type)))
        }
        None => s.push_str("**Type**: [CODE|CONFIG|DATABASE|INFRASTRUCTURE]\n\n"),
    }
    s.push_str("**Changes Made**:\n");
    let mut n = 0;
    for c in &fix.changes {
        n += 1;
        let files = if c.files.is_empty() { String::new() } else { format!(" — {}", c.files.join(", ")) };
        s.push_str(&format!(
            "{n}. {} at {} `{}` ({}){}\n",
            cell(&c.cited.summary),
            c.cited.time.hms(),
            cell(&c.cited.evidence),
            type_word(c.change_type),
            cell(&files)
        ));
    }
    for a in &fix.actions {
        n += 1;
        s.push_str(&format!("{n}. {} at {} `{}`\n", action_words(a), a.cited.time.hms(), cell(&a.cited.evidence)));
    }
    if n == 0 {
        s.push_str("1. [change] (no change or restart in the evidence during the incident)\n");
    }
    let commits: Vec<&findings::Change> = fix.changes.iter().filter(|c| c.commit.is_some()).collect();
    if !commits.is_empty() {
        s.push_str("\n**Git Commits**:\n");
        for c in commits {
            let subject = c.subject.as_deref().unwrap_or(&c.cited.summary);
            s.push_str(&format!("- `{}` - {}\n", c.commit.as_deref().unwrap_or_default(), cell(subject)));
        }
    }
    s.push_str("\n**Verification**:\n");
    if fix.verification.is_empty() {
        s.push_str("- [ ] [check]\n");
    }
    for v in &fix.verification {
        s.push_str(&format!("- [x] {} at {} `{}`\n", cell(&v.summary), v.time.hms(), cell(&v.evidence)));
    }
    s.push_str("\n### Immediate Actions Taken\n\n| Action | Owner | Status | Completion Time |\n|--------|-------|--------|-----------------|\n");
    if fix.actions.is_empty() {
        s.push_str("| [action] | [owner] | [status] | [HH:MM UTC] |\n");
    }
    for a in &fix.actions {
        s.push_str(&format!("| {} | [owner] | Complete | {} UTC |\n", action_words(a), a.cited.time.hms()));
    }
    s.push_str(TEMPLATE_PREVENTION);
    s.push_str("### Lessons Learned\n\n");
    let facts = facts(f, outcomes);
    if !facts.is_empty() {
        s.push_str("**What the evidence shows**:\n");
        for x in facts {
            s.push_str(&format!("- {x}\n"));
        }
        s.push('\n');
    }
    s.push_str(TEMPLATE_LESSONS);
    s
}

/// Phase 4's evidence: the services in the order they began to fail, and the precursors.
fn where_it_started(f: &Findings) -> String {
    if f.spread.is_empty() {
        return String::new();
    }
    let mut s = String::from("### Where It Started\n\n");
    let chain: Vec<String> = f
        .spread
        .iter()
        .map(|v| match v.lag_s {
            None => format!("{} {}", cell(&v.service), v.first_error.time.hms()),
            Some(l) => format!("{} +{}", cell(&v.service), span(l)),
        })
        .collect();
    if let Some(first) = f.spread.first() {
        s.push_str(&format!(
            "**First failing service**: {} (`{}`)\n\n",
            cell(&first.service),
            cell(&first.first_error.evidence)
        ));
    }
    s.push_str(&format!("**Spread**: {}\n\n", chain.join(" → ")));
    s.push_str("| Service | First anomaly | First error | Last error |\n|---------|---------------|-------------|------------|\n");
    for v in &f.spread {
        let anomaly =
            v.first_anomaly.as_ref().map_or("-".to_string(), |a| format!("{} `{}`", a.time.hms(), cell(&a.evidence)));
        s.push_str(&format!(
            "| {} | {anomaly} | {} `{}` | {} `{}` |\n",
            cell(&v.service),
            v.first_error.time.hms(),
            cell(&v.first_error.evidence),
            v.last_error.time.hms(),
            cell(&v.last_error.evidence)
        ));
    }
    if !f.precursors.is_empty() {
        s.push_str("\n**Precursors** (warnings that rose before the onset):\n");
        for p in &f.precursors {
            s.push_str(&format!(
                "- {}: {} before the onset, from {} `{}`\n",
                cell(&p.first.summary),
                p.before_onset,
                p.first.time.hms(),
                cell(&p.first.evidence)
            ));
        }
    }
    s.push('\n');
    s
}

/// Phase 4's evidence: the changes before the onset, ranked, each with its reasons.
fn what_changed(f: &Findings) -> String {
    if f.clock.onset.is_none() {
        return String::new();
    }
    let mut s = String::from(
        "### What Changed Before It Broke

",
    );
    if f.suspects.is_empty() {
        s.push_str(
            "No change precedes the onset in the evidence: no commit, deploy, restart, migration or new version.

",
        );
        return s;
    }
    s.push_str("| # | Time (UTC) | Change | Component | Deployed | Evidence |\n|---|------------|--------|-----------|----------|----------|\n");
    for x in &f.suspects {
        let deployed = match (&x.deployed, x.kind) {
            (Some(d), _) => format!("{} to {} ({})", d.time.date_hms(), cell(&d.service), cell(&d.how)),
            (None, findings::changes::Kind::Commit) => "merged, no deploy seen".to_string(),
            (None, _) => "-".to_string(),
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {deployed} | {} |\n",
            x.rank,
            x.time.date_hms(),
            cell(&x.summary),
            cell(&x.component),
            x.evidence.iter().map(|e| format!("`{}`", cell(e))).collect::<Vec<_>>().join(", ")
        ));
    }
    if !f.suspects.first().is_some_and(|t| t.reached) {
        s.push_str("\nNo change is seen reaching the running system before the onset (no deploy, new version or migration): the changes above are listed, none is marked as the suspect.\n");
    }
    if let Some(top) = f.suspects.first() {
        s.push_str(&format!("\n**Why #1 ranks first** (score {}):\n", top.score));
        for r in &top.reasons {
            s.push_str(&format!("- {}\n", cell(r)));
        }
    }
    s.push_str("\nA suspect is a change before the onset, not a cause: confirm it in the 5-whys. Ranked by: deployed before the onset over merged only; a change to the first failing service; a short lag to the onset; files under the failing service's paths or named in the errors; routine changes (docs, tests, chores) lower; a release replaced before the onset by another of its service much lower.\n\n");
    s
}

/// Phase 4's evidence: what went quiet, and which warnings and errors are new against the baseline.
fn what_was_new(f: &Findings) -> String {
    let mut s = String::new();
    if f.clock.onset.is_none() && f.new_messages.is_empty() {
        return s;
    }
    s.push_str("### What Was New\n\n");
    if let Some(b) = &f.baseline {
        if let (Some(a), Some(z)) = (b.since, b.until) {
            s.push_str(&format!("**Baseline**: {} to {} UTC, {} events.\n\n", a.date_hms(), z.date_hms(), b.events));
        }
    }
    for x in &f.silences {
        let until = x.until.map_or("the window's end".to_string(), |u| u.hms());
        s.push_str(&format!(
            "- **Silence**: {} logged nothing from {} to {until} ({}; usually every {:.1}s) {}\n",
            cell(&x.service),
            x.from.hms(),
            span(x.silent_s),
            x.usual_gap_s,
            x.evidence.iter().map(|e| format!("`{}`", cell(e))).collect::<Vec<_>>().join(" → ")
        ));
    }
    if !f.silences.is_empty() {
        s.push('\n');
    }
    if !f.new_messages.is_empty() {
        s.push_str("**New in the incident** (never in the baseline):\n\n| First seen | Service | Message | Count | Evidence |\n|------------|---------|---------|-------|----------|\n");
        for m in f.new_messages.iter().take(20) {
            s.push_str(&format!(
                "| {} | {} | {} | {} | `{}` |\n",
                m.first_seen.hms(),
                cell(&m.service),
                cell(&m.template),
                m.count,
                cell(&m.evidence)
            ));
        }
        if f.new_messages.len() > 20 {
            s.push_str(&format!("\n{} more in `report --format json`.\n", f.new_messages.len() - 20));
        }
        s.push('\n');
    }
    if !f.recurring.is_empty() {
        s.push_str("**Seen before** (in the baseline too):\n");
        for m in f.recurring.iter().take(10) {
            s.push_str(&format!(
                "- {}: {} — {} in the window, seen before ({} times) `{}`\n",
                cell(&m.service),
                cell(&m.template),
                m.count,
                m.baseline_count,
                cell(&m.evidence)
            ));
        }
        s.push('\n');
    }
    for n in &f.notes {
        s.push_str(&format!("- {}\n", cell(n)));
    }
    if !f.notes.is_empty() {
        s.push('\n');
    }
    s
}

/// The database's state as the `[[check]]` queries found it, each check with its evidence.
fn data_integrity(f: &Findings) -> String {
    if f.checks.is_empty() {
        return "**Database State**: [INTACT|INCONSISTENT|CORRUPTED]\n\n".to_string();
    }
    let failed: Vec<&str> = f.checks.iter().filter(|c| c.verdict == "failed").map(|c| c.name.as_str()).collect();
    let unrun: Vec<&str> =
        f.checks.iter().filter(|c| c.verdict == "error" || c.verdict == "timed_out").map(|c| c.name.as_str()).collect();
    let state = match (failed.is_empty(), unrun.is_empty()) {
        (true, true) => format!("INTACT (suggested: all {} checks passed)", f.checks.len()),
        (false, _) => format!("INCONSISTENT (suggested: {} failed)", failed.join(", ")),
        (true, false) => {
            format!("[INTACT|INCONSISTENT|CORRUPTED] (not known: {} did not run to the end)", unrun.join(", "))
        }
    };
    let mut s = format!("**Database State**: {state}\n\n**Checks Performed**:\n");
    for c in &f.checks {
        let mark = if c.verdict == "passed" { "x" } else { " " };
        s.push_str(&format!("- [{mark}] {} `{}`\n", cell(&c.cited.summary), cell(&c.cited.evidence)));
    }
    s.push('\n');
    s
}

/// "restart of backend", "migration applied: Running upgrade …".
fn action_words(a: &findings::Action) -> String {
    if a.action == "migration" {
        format!("migration applied: {}", cell(&a.cited.summary))
    } else {
        format!("{} of {}", a.action, cell(&a.cited.component))
    }
}

fn type_word(t: findings::ChangeType) -> &'static str {
    match t {
        findings::ChangeType::Database => "DATABASE",
        findings::ChangeType::Config => "CONFIG",
        findings::ChangeType::Infrastructure => "INFRASTRUCTURE",
        findings::ChangeType::Code => "CODE",
    }
}

/// Phase 7's facts: how fast detection came, the monitoring gaps, and the
/// sources that could not be read.
fn facts(f: &Findings, outcomes: &[Outcome]) -> Vec<String> {
    let mut v = Vec::new();
    if let (Some(s), Some(d)) = (f.clock.time_to_detect_s, &f.clock.detection) {
        v.push(format!("Detection came {} after the first error (`{}`).", span(s), cell(&d.cited.evidence)));
    }
    for g in &f.monitoring_gaps {
        v.push(format!("{} failed with no alert firing for it.", cell(&g.component)));
    }
    for o in outcomes.iter().filter(|o| o.failed()) {
        v.push(format!("{} could not be read: {}.", o.source, cell(&crate::render::status_text(&o.status))));
    }
    v
}

/// The report as one JSON document: the incident's header, the findings,
/// the timeline's rows and the coverage.
fn write_json(c: &Collected, f: &Findings, h: &Header, out: &mut dyn Write) -> std::io::Result<()> {
    let t = c.timeline(false);
    let doc = crate::render::json::document(&t);
    let header = h.fields.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect();
    let report = findings::Document {
        incident: findings::Incident {
            id: h.id.clone(),
            header,
            summary: f.summary.clone(),
            severity: f.severity.clone(),
            affected: f.affected.clone(),
        },
        findings: findings::Parts {
            clock: f.clock.clone(),
            impact: f.impact.clone(),
            fix: f.fix.clone(),
            checks: f.checks.clone(),
            monitoring_gaps: f.monitoring_gaps.clone(),
            spread: f.spread.clone(),
            precursors: f.precursors.clone(),
            suspects: f.suspects.clone(),
            silences: f.silences.clone(),
            new_messages: f.new_messages.clone(),
            recurring: f.recurring.clone(),
            baseline: f.baseline.clone(),
            notes: f.notes.clone(),
        },
        timeline: doc.get("events").cloned().unwrap_or_default(),
        coverage: doc.get("coverage").cloned().unwrap_or_default(),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}

/// The report as one HTML page: the header, the picture and table of
/// Phase 2, the coverage and blind spots, then the later phases.
fn write_html(c: &Collected, f: &Findings, h: &Header, out: &mut dyn Write) -> std::io::Result<()> {
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
        p { (summary_text(f)) }
        (html::markdown(&clock_section(f)))
        (html::timeline_sections_with(&t, &pins(f, c.window), &f.spread.iter().map(|s| s.service.clone()).collect::<Vec<_>>()))
        @if !spots.is_empty() {
            h2 { "Known blind spots" }
            ul { @for s in &spots { li { (s) } } }
        }
        (html::markdown(&later_phases(f, &c.outcomes)))
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

const TEMPLATE_RCA: &str = r#"### Root Cause Analysis (5-Whys)

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

"#;

const TEMPLATE_PREVENTION: &str = r#"
### Prevention Measures

**Short-term (< 1 week)**:
- [ ] [measure] (Owner: [assign], Due: [date])

**Long-term (> 1 week)**:
- [ ] [measure] (Owner: [assign], Due: [date])

"#;

const TEMPLATE_LESSONS: &str = r#"**What Went Well**:
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
