//! The timeline as one self-contained HTML page: a picture of the incident
//! (a swimlane per component, marks coloured by severity, folded repeats as
//! density strips, alert intervals as bars, commits and restarts as lines
//! across all lanes, the incident span shaded) above the Phase 2 table and
//! the coverage section.
//!
//! The page runs no script and fetches nothing: its Content-Security-Policy
//! forbids both, hovering a mark shows its row through SVG `<title>`, and a
//! click jumps to the row in the table. Markup is written with maud, which
//! escapes every value, so a log line holding `<script>` or `</svg>` is shown
//! as text. The picture is drawn by hand in SVG rather than with a plotting
//! crate: it is a few rectangles, lines and circles on a time axis, and
//! drawing them directly keeps every element addressable (classes, titles,
//! links) and the output byte-for-byte repeatable.

use std::collections::BTreeMap;
use std::io::{self, Write};

use maud::{html, Markup, PreEscaped, DOCTYPE};
use reconstruct_core::text::count;
use reconstruct_core::{AlertState, Event, EventKind, Fact, Severity, Timestamp};

use super::{fold_suffix, thousands, Timeline};
use crate::summarise::{Marker, Row};

const WIDTH: f64 = 1200.0;
const LABELS: f64 = 210.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 34.0;
const LANE: f64 = 30.0;

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1d1d1f; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.window { color: #555; margin-bottom: 12px; }
svg { max-width: 100%; height: auto; border: 1px solid #ddd; background: #fff; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
.lane { fill: #fafafa; } .lane.odd { fill: #f2f2f2; }
.lane-label { font-weight: 600; }
.tick { stroke: #ccc; stroke-width: 1; } .tick-label { fill: #666; }
.incident { fill: #fde3e1; }
.incident-label { fill: #b3261e; font-weight: 600; }
.change { stroke: #1565c0; stroke-width: 1.5; stroke-dasharray: 4 3; }
.restart { stroke: #e65100; stroke-width: 1.5; stroke-dasharray: 2 3; }
.marker-label { fill: #444; }
.alert-bar { fill: #d32f2f; opacity: 0.75; } .alert-bar.pending { fill: #f9a825; opacity: 0.6; }
.alert-bar.suppressed { fill: #9e9e9e; opacity: 0.6; }
.density { fill: #d32f2f; }
.mark { stroke: #fff; stroke-width: 1.5; }
.sev-critical { fill: #7b1fa2; } .sev-error { fill: #d32f2f; } .sev-warning { fill: #f9a825; }
.sev-notice { fill: #1976d2; } .sev-info, .sev-debug, .sev-none { fill: #78909c; }
.change-mark { fill: #1565c0; }
table { border-collapse: collapse; width: 100%; margin-top: 8px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
tr:target { background: #fff8c4; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
.badge { display: inline-block; font-size: 11px; font-weight: 600; padding: 0 6px; border-radius: 8px; margin-left: 6px; }
.badge.onset { background: #fde3e1; color: #b3261e; } .badge.recovery { background: #e2f3e4; color: #1b5e20; }
.badge.suspect { background: #fff1c2; color: #7a5200; }
.sev { font-size: 11px; text-transform: uppercase; color: #666; }
.totals, .note { color: #555; }
pre.phases { white-space: pre-wrap; }
@media print { body { margin: 0; } svg { border: none; } tr:target { background: none; } }
"#;

/// The page's Content-Security-Policy: nothing is fetched and no script runs.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// The timeline page.
pub fn render(t: &Timeline<'_>, out: &mut dyn Write) -> io::Result<()> {
    let body = html! {
        h1 { "Timeline" }
        (timeline_sections(t))
    };
    out.write_all(page("Timeline", body).into_string().as_bytes())
}

/// A whole page around `body`.
pub fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
}

/// The picture, the Phase 2 table and the coverage: what the timeline page
/// shows, and what the report shows in its Phase 2.
pub fn timeline_sections(t: &Timeline<'_>) -> Markup {
    timeline_sections_with(t, &[], &[])
}

/// A moment drawn across the picture: one of the report's clock milestones.
pub struct Pin {
    pub label: &'static str,
    pub time: Timestamp,
    /// Its time, event and evidence, shown on hover.
    pub title: String,
}

/// [`timeline_sections`], with the report's milestones drawn on the picture
/// and, given the services in the order they failed, one lane a service
/// (its components grouped), numbered in that order.
pub fn timeline_sections_with(t: &Timeline<'_>, pins: &[Pin], failed: &[String]) -> Markup {
    html! {
        p.window { "Window: " (t.window.since) " to " (t.window.until) " (UTC)" }
        (picture(t, pins, failed))
        h2 { "Timeline" }
        (table(t))
        h2 { "Evidence coverage" }
        (coverage(t))
    }
}

fn sev_class(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Critical) => "sev-critical",
        Some(Severity::Error) => "sev-error",
        Some(Severity::Warning) => "sev-warning",
        Some(Severity::Notice) => "sev-notice",
        Some(Severity::Info) => "sev-info",
        Some(Severity::Debug) => "sev-debug",
        None => "sev-none",
    }
}

/// Pixels with one decimal: enough, and the same bytes every run.
fn px(v: f64) -> String {
    format!("{:.1}", if v.is_finite() { v } else { 0.0 })
}

struct Axis {
    since: i64,
    span: f64,
}

impl Axis {
    fn x(&self, t: Timestamp) -> f64 {
        let frac = (t.unix_nanos().saturating_sub(self.since) as f64 / self.span).clamp(0.0, 1.0);
        LABELS + frac * (WIDTH - LABELS - RIGHT)
    }
}

/// Round tick steps, in seconds: about eight ticks across the window.
fn tick_step(span_secs: f64) -> i64 {
    const STEPS: [i64; 13] = [1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600];
    STEPS.iter().copied().find(|s| span_secs / (*s as f64) <= 10.0).unwrap_or(86_400)
}

fn mark_title(r: &Row) -> String {
    let refs: Vec<String> = std::iter::once(&r.event).chain(&r.also).map(|e| e.evidence.locator.to_string()).collect();
    format!("{} {}{} [{}]\n{}", r.event.time.hms(), r.event.summary, fold_suffix(r), r.event.component, refs.join("\n"))
}

fn is_restart(r: &Row) -> bool {
    r.event.kind == EventKind::Lifecycle
        && std::iter::once(&r.event).chain(&r.also).any(|e| {
            matches!(
                e.container_action(),
                Some(
                    reconstruct_core::ContainerAction::Restart
                        | reconstruct_core::ContainerAction::Oom
                        | reconstruct_core::ContainerAction::Die
                )
            )
        })
}

fn alert_key(r: &Row) -> Option<String> {
    match r.event.fact.as_deref() {
        Some(Fact::Alert { name, labels, .. }) => Some(format!("{name}{labels:?}")),
        _ => None,
    }
}

fn picture(t: &Timeline<'_>, pins: &[Pin], failed: &[String]) -> Markup {
    let since = t.window.since.unix_nanos();
    let span = (t.window.until.unix_nanos().saturating_sub(since)).max(1) as f64;
    let axis = Axis { since, span };
    // The picture is of the window: a row from before it (a suspect) is in the table only.
    let shown: Vec<&Row> = t.rows.iter().filter(|r| t.window.contains(r.event.time)).collect();
    // One lane per component in order of first appearance; or, given the
    // order in which services failed, one per service, the failing first.
    let key = |e: &Event| if failed.is_empty() { e.component.to_string() } else { crate::shape::service(e) };
    let mut lanes: Vec<String> = failed.to_vec();
    for r in &shown {
        let k = key(&r.event);
        if !lanes.contains(&k) {
            lanes.push(k);
        }
    }
    let labels: Vec<String> = lanes
        .iter()
        .enumerate()
        .map(|(i, l)| if i < failed.len() { format!("{} {l}", i + 1) } else { l.clone() })
        .collect();
    let lane_of = |e: &Event| {
        let k = key(e);
        lanes.iter().position(|l| *l == k).unwrap_or(0)
    };
    let lane_y = |i: usize| TOP + i as f64 * LANE;
    let height = TOP + lanes.len().max(1) as f64 * LANE + if pins.is_empty() { 26.0 } else { 50.0 };
    let bottom = TOP + lanes.len().max(1) as f64 * LANE;
    // Ticks.
    let step = tick_step(span / 1e9);
    let first_tick = (since / 1_000_000_000).div_euclid(step).saturating_add(1).saturating_mul(step);
    let mut ticks = Vec::new();
    let mut s = first_tick;
    while s.saturating_mul(1_000_000_000) <= t.window.until.unix_nanos() && ticks.len() < 40 {
        if let Some(ts) = Timestamp::from_unix_seconds(s, 0) {
            ticks.push(ts);
        }
        s = s.saturating_add(step);
    }
    let days = t.window.spans_days();
    // The incident span, from the marked rows.
    let onset = t.rows.iter().find(|r| r.marker == Some(Marker::Onset)).map(|r| r.event.time);
    let recovery = t.rows.iter().find(|r| r.marker == Some(Marker::Recovery)).map(|r| r.event.time);
    // Alert intervals: pending until firing, firing until resolved (or the window's end).
    let mut bars: Vec<(usize, Timestamp, Timestamp, &'static str, String)> = Vec::new();
    let mut by_alert: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in shown.iter().copied() {
        if let Some(k) = alert_key(r) {
            by_alert.entry(k).or_default().push(r);
        }
    }
    for rows in by_alert.values() {
        for (i, r) in rows.iter().enumerate() {
            let next = rows.get(i + 1).map(|n| n.event.time);
            let (class, end) = match r.event.alert_state() {
                Some(AlertState::Pending) => ("alert-bar pending", next.unwrap_or(r.last)),
                Some(AlertState::Firing) => ("alert-bar", next.unwrap_or(t.window.until)),
                Some(AlertState::Suppressed) => ("alert-bar suppressed", next.unwrap_or(t.window.until)),
                _ => continue,
            };
            let label = format!("{} {} – {}", r.event.summary, r.event.time.hms(), end.hms());
            bars.push((lane_of(&r.event), r.event.time, end, class, label));
        }
    }
    // Density strips: folded repeats, shaded by their average rate.
    let rate = |r: &Row| {
        let mins = (r.last.unix_nanos().saturating_sub(r.event.time.unix_nanos()) as f64 / 6e10).max(1.0);
        r.count as f64 / mins
    };
    let max_rate = shown.iter().filter(|r| r.count > 1).map(|r| rate(r)).fold(0.0, f64::max).max(1e-9);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(px(WIDTH)) height=(px(height))
            viewBox={ "0 0 " (px(WIDTH)) " " (px(height)) } role="img" aria-label="Incident timeline" {
            @for (i, name) in labels.iter().enumerate() {
                rect class=(if i % 2 == 1 { "lane odd" } else { "lane" }) x="0" y=(px(lane_y(i))) width=(px(WIDTH)) height=(px(LANE)) {}
                text class="lane-label" x="8" y=(px(lane_y(i) + LANE / 2.0 + 4.0)) { (truncate(name, 30)) }
            }
            @if let Some(a) = onset {
                @let b = recovery.unwrap_or(t.window.until);
                rect class="incident" x=(px(axis.x(a))) y=(px(TOP)) width=(px((axis.x(b) - axis.x(a)).max(2.0))) height=(px(bottom - TOP)) {
                    title { "Incident: " (a.hms()) " to " (b.hms()) }
                }
                text class="incident-label" x=(px(axis.x(a) + 3.0)) y=(px(TOP - 6.0)) { "incident " (a.hms()) "–" (b.hms()) }
            }
            @for tick in &ticks {
                line class="tick" x1=(px(axis.x(*tick))) x2=(px(axis.x(*tick))) y1=(px(TOP)) y2=(px(bottom)) {}
                text class="tick-label" x=(px(axis.x(*tick))) y=(px(bottom + 16.0)) text-anchor="middle" {
                    (if days { tick.date_hms() } else { tick.to_datetime().format("%H:%M").to_string() })
                }
            }
            @for (i, p) in pins.iter().enumerate() {
                // Styled in place: only the report's page draws milestones.
                line class="milestone" stroke="#6a1b9a" stroke-width="2" stroke-dasharray="1 2"
                    x1=(px(axis.x(p.time))) x2=(px(axis.x(p.time))) y1=(px(TOP - 2.0)) y2=(px(bottom)) {
                    title { (p.title) }
                }
                text class="milestone-label" font-size="10" fill="#6a1b9a" x=(px(axis.x(p.time) + 2.0)) y=(px(bottom + 28.0 + (i % 2) as f64 * 11.0)) {
                    (p.label) " " (p.time.hms())
                }
            }
            @for (lane, from, to, class, label) in &bars {
                rect class=(class) x=(px(axis.x(*from))) y=(px(lane_y(*lane) + 5.0))
                    width=(px((axis.x(*to) - axis.x(*from)).max(2.0))) height=(px(LANE - 10.0)) rx="3" {
                    title { (label) }
                }
            }
            @for (i, r) in t.rows.iter().enumerate().filter(|(_, r)| t.window.contains(r.event.time)) {
                @if r.count > 1 {
                    rect class="density" x=(px(axis.x(r.event.time))) y=(px(lane_y(lane_of(&r.event)) + LANE / 2.0 - 4.0))
                        width=(px((axis.x(r.last) - axis.x(r.event.time)).max(2.0))) height="8"
                        opacity=(format!("{:.2}", 0.15 + 0.6 * rate(r) / max_rate)) {
                        title { (thousands(r.count)) " events " (r.event.time.hms()) "–" (r.last.hms()) ", "
                            (format!("{:.1}", rate(r))) " a minute on average: " (r.event.summary) }
                    }
                }
                @if r.event.kind == EventKind::Change || is_restart(r) {
                    line class=(if r.event.kind == EventKind::Change { "change" } else { "restart" })
                        x1=(px(axis.x(r.event.time))) x2=(px(axis.x(r.event.time))) y1=(px(TOP)) y2=(px(bottom)) {
                        title { (mark_title(r)) }
                    }
                }
                a href=(format!("#row-{}", i + 1)) {
                    circle class={ "mark " (if r.event.kind == EventKind::Change { "change-mark" } else { sev_class(r.event.severity) }) }
                        cx=(px(axis.x(r.event.time))) cy=(px(lane_y(lane_of(&r.event)) + LANE / 2.0)) r="5" {
                        title { (mark_title(r)) }
                    }
                }
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn table(t: &Timeline<'_>) -> Markup {
    let days = t.window.spans_days() || t.rows.iter().any(|r| r.event.time.date() != t.window.since.date());
    html! {
        table.timeline {
            thead { tr { th { "Time (UTC)" } th { "Event" } th { "Component" } th { "Evidence" } } }
            tbody {
                @for (i, r) in t.rows.iter().enumerate() {
                    tr id=(format!("row-{}", i + 1)) class=(sev_class(r.event.severity)) {
                        td.time { (if days { r.event.time.date_hms() } else { r.event.time.hms() }) }
                        td {
                            (r.event.summary) (fold_suffix(r))
                            @match r.marker {
                                Some(Marker::Onset) => span.badge.onset { "incident starts" },
                                Some(Marker::Recovery) => span.badge.recovery { "recovered" },
                                Some(Marker::Suspect) => span.badge.suspect { "suspect" },
                                None => {},
                            }
                            @if let Some(s) = r.event.severity { " " span.sev { (s.as_str()) } }
                        }
                        td { (r.event.component) }
                        td {
                            @for (k, e) in std::iter::once(&r.event).chain(&r.also).enumerate() {
                                @if k > 0 { br; }
                                code { (e.evidence.locator) }
                            }
                        }
                    }
                }
                @if t.rows.is_empty() {
                    tr { td { "-" } td { (super::no_rows_text(t)) } td { "-" } td { "-" } }
                }
            }
        }
        p.totals {
            (count(t.totals.events, "event", "events")) " in the window: " (count(t.rows.len() as u64, "row", "rows")) " shown"
            @if t.totals.folded > 0 { ", " (count(t.totals.folded, "repeat", "repeats")) " folded into them" }
            @if t.totals.over_budget_rows > 0 {
                ", " (thousands(t.totals.over_budget_rows)) " lower-ranked rows (" (thousands(t.totals.over_budget_events))
                " events) over the --max-rows budget"
            }
            @if t.totals.routine > 0 { ", " (count(t.totals.routine, "routine event", "routine events")) " (info, debug) not shown" }
            "."
        }
        @if t.totals.filtered > 0 {
            p.note { (count(t.totals.filtered, "event of the window was", "events of the window were")) " left out by the filters (--grep, --component, --level)." }
        }
        @if t.totals.masked > 0 {
            p.note { (thousands(t.totals.masked)) " secret value(s) masked (passwords, tokens, keys)." }
        }
    }
}

fn coverage(t: &Timeline<'_>) -> Markup {
    html! {
        @if let Some(b) = t.bundle {
            @for line in super::bundle_lines(b) { p.note { (line) } }
        }
        table.coverage {
            thead { tr { th { "Source" } th { "Status" } th { "Events" } th { "First" } th { "Last" } th { "Notes" } } }
            tbody {
                @for c in t.coverage_lines() {
                    tr {
                        td { (c.outcome.source) }
                        td { (c.text) }
                        td { (thousands(c.events)) }
                        td { (c.first.map_or("-".to_string(), |x| x.date_hms())) }
                        td { (c.last.map_or("-".to_string(), |x| x.date_hms())) }
                        td { (c.notes.join("; ")) }
                    }
                }
            }
        }
        @let problems: Vec<_> = t.coverage.iter().flat_map(|o| o.tally.diagnostics.iter().map(move |d| (o, d))).collect();
        @if !problems.is_empty() {
            p { "What could not be read:" }
            ul {
                @for (o, d) in problems {
                    li { code { (d.locator.as_ref().map_or(o.source.to_string(), ToString::to_string)) } ": " (d.message) }
                }
            }
        }
    }
}

/// Markdown of our own (the report's later phases) as HTML.
pub fn markdown(md: &str) -> Markup {
    let mut out = String::new();
    pulldown_cmark::html::push_html(
        &mut out,
        pulldown_cmark::Parser::new_ext(md, pulldown_cmark::Options::ENABLE_TABLES),
    );
    PreEscaped(out)
}
