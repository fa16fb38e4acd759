#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The coverage section is computed once (`src/coverage.rs`) and only
//! formatted by each renderer: markdown, HTML and JSON say the same thing of
//! every source, field for field, a failed one and one with problems included.

mod support;

use reconstruct_core::text::count;
use serde_json::Value;
use support::{root, run_in};

/// (source, status text, events, first, last, notes) of each source.
type Line = (String, String, String, String, String, String);

fn args<'a>(bundle: &'a str, since: &'a str, until: &'a str, format: &'a str) -> Vec<&'a str> {
    vec!["--fixtures", bundle, "--since", since, "--until", until, "--log", "/nonexistent/gone.log", "--format", format]
}

/// A markdown cell's text, its escapes undone.
fn unescape(cell: &str) -> String {
    let mut out = String::new();
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

fn markdown(text: &str) -> Vec<Line> {
    let section = text.split("| Source | Status |").nth(1).unwrap();
    section
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let c: Vec<String> = l.trim_matches('|').split(" | ").map(|x| unescape(x.trim())).collect();
            (c[0].clone(), c[1].clone(), c[2].clone(), c[3].clone(), c[4].clone(), c[5].clone())
        })
        .collect()
}

/// A cell's text, its HTML escapes undone.
fn unhtml(cell: &str) -> String {
    cell.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

fn html(text: &str) -> Vec<Line> {
    let table = text.split("<table class=\"coverage\">").nth(1).unwrap().split("</table>").next().unwrap();
    let body = table.split("<tbody>").nth(1).unwrap();
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let c: Vec<String> = row.split("<td>").skip(1).map(|x| unhtml(x.split("</td>").next().unwrap())).collect();
            (c[0].clone(), c[1].clone(), c[2].clone(), c[3].clone(), c[4].clone(), c[5].clone())
        })
        .collect()
}

fn json(text: &str) -> Vec<Line> {
    let v: Value = serde_json::from_str(text).unwrap();
    let time = |x: &Value| x.as_str().map_or("-".to_string(), |t| t.get(..19).unwrap_or(t).replace('T', " "));
    v["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            // JSON carries the late events and the problems as numbers; the
            // other formats say them as notes.
            let mut notes: Vec<String> =
                c["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect();
            let late = c["out_of_order"].as_u64().unwrap();
            if late > 0 {
                notes
                    .push(format!("{} too far out of order to sort, shown where read", count(late, "event", "events")));
            }
            let problems = c["problems"].as_u64().unwrap();
            if problems > 0 {
                notes.push(format!("{} reading it, listed below", count(problems, "problem", "problems")));
            }
            let events = c["events"].as_u64().unwrap();
            (
                c["source"].as_str().unwrap().to_string(),
                c["detail"].as_str().unwrap().to_string(),
                reconstruct::render::thousands(events),
                time(&c["first"]),
                time(&c["last"]),
                notes.join("; "),
            )
        })
        .collect()
}

#[test]
fn markdown_html_and_json_coverage_agree_field_for_field() {
    for (bundle, since, until) in [
        ("fixtures/inc-20251226-001", "2025-12-26T14:00:00Z", "2025-12-26T15:30:00Z"),
        ("fixtures/inc-20260302-003", "2026-03-02T13:50:00Z", "2026-03-02T14:30:00Z"),
        ("fixtures/layouts", "2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
    ] {
        let out = |f: &str| {
            let o = run_in(&root(), &args(bundle, since, until, f));
            assert_eq!(o.status.code(), Some(3), "the missing log makes it partial");
            String::from_utf8(o.stdout).unwrap()
        };
        let (md, page, doc) = (markdown(&out("md")), html(&out("html")), json(&out("json")));
        assert!(md.len() > 2, "{bundle}: {md:?}");
        assert!(md.iter().any(|l| l.1.starts_with("FAILED: ")), "{md:?}");
        assert_eq!(md, doc, "{bundle}: markdown and JSON");
        assert_eq!(page, doc, "{bundle}: HTML and JSON");
    }
}
