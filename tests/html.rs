#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The HTML timeline: one self-contained page (no script, nothing fetched)
//! with the picture of the incident above the table; hostile log text shown
//! as text; the same bytes every run. With `real-services`, headless
//! Chromium loads the pages: the DOM holds the lanes, marks, alert bars and
//! evidence, no console message is logged, and a screenshot is written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SEED: [&str; 6] =
    ["--fixtures", "fixtures/inc-20251226-001", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reconstruct")).args(args).current_dir(root()).output().unwrap()
}

fn seed_html() -> String {
    let mut args = SEED.to_vec();
    args.extend(["--format", "html"]);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// A log whose lines try to break out of the page.
fn hostile_log(dir: &Path) -> PathBuf {
    let f = dir.join("hostile.log");
    std::fs::write(
        &f,
        "2025-12-26 14:30:15,000 ERROR <script>document.title='PWNED'</script> boom\n\
         2025-12-26 14:30:16,000 ERROR </svg><img src=x onerror=\"document.body.dataset.pwned=1\"> after svg\n\
         2025-12-26 14:30:17,000 ERROR \"><a href=\"javascript:alert(1)\">click</a> quote ' and \"\n\
         2025-12-26 14:30:18,000 ERROR </table></title><style>body{display:none}</style> styled\n",
    )
    .unwrap();
    f
}

fn hostile_html(dir: &Path) -> String {
    let log = hostile_log(dir);
    let o = run(&[
        "--log",
        log.to_str().unwrap(),
        "--no-git",
        "--since",
        "2025-12-26T14:00:00Z",
        "--until",
        "2025-12-26T15:00:00Z",
        "--format",
        "html",
    ]);
    assert_eq!(o.status.code(), Some(0));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn the_seed_page_draws_the_incident_and_fetches_nothing() {
    let page = seed_html();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    // Nothing is loaded from anywhere: no script, no external reference.
    assert!(!page.contains("<script"), "no script at all");
    for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "url(http"] {
        assert!(!page.contains(attr), "{attr}");
    }
    // One lane per component, marks, alert bars, change and restart lines, the incident span.
    for lane in ["backend.api", "mcp-server", "scheduling", "backend"] {
        assert!(page.contains(&format!(">{lane}</text>")), "lane {lane}");
    }
    assert!(page.matches("class=\"mark ").count() >= 30);
    assert!(page.matches("class=\"alert-bar\"").count() >= 2, "HighErrorRate and PostgresConnectionsNearLimit firing");
    assert!(page.contains("class=\"alert-bar pending\""));
    assert!(page.contains("class=\"change\""), "the fix commit");
    assert!(page.contains("class=\"restart\""), "the 14:43 restart");
    assert!(page.contains("class=\"density\""), "folded repeats as a strip");
    assert!(page.contains("incident 14:30:15–14:45:30"));
    // Hovering a mark names the row and its evidence; a click goes to the row.
    assert!(page.contains("14:30:15 ERROR POST /api/v1/schedule/generate -&gt; 500"));
    assert!(page.contains("logs/backend.log:1234"));
    assert!(page.contains("href=\"#row-5\"") && page.contains("id=\"row-5\""));
    // The table and the coverage follow the picture.
    assert!(page.contains("<th>Time (UTC)</th>") && page.contains("incident starts") && page.contains("recovered"));
    assert!(page.contains("Evidence coverage"));
    // The same bytes every run.
    assert_eq!(page, seed_html());
}

#[test]
fn hostile_log_text_is_shown_as_text() {
    let d = tempfile::tempdir().unwrap();
    let page = hostile_html(d.path());
    assert!(!page.contains("<script"), "no script element");
    assert!(!page.contains("<img"), "no image element");
    assert!(!page.contains("<style>body"), "no injected style");
    assert!(!page.contains("href=\"javascript"), "no javascript: link");
    assert!(page.contains("&lt;script&gt;document.title='PWNED'&lt;/script&gt; boom"));
    assert!(page.contains("&lt;/svg&gt;&lt;img src=x onerror=&quot;document.body.dataset.pwned=1&quot;&gt;"));
    // The picture is still whole: its closing tag comes once, after every mark.
    assert_eq!(page.matches("</svg>").count(), 1);
}

#[test]
fn the_report_as_html_keeps_its_sections_in_order() {
    let mut args = vec!["report"];
    args.extend(SEED);
    args.extend(["--format", "html", "--annotate", "fixtures/samples/annotations-inc-20251226-001.md"]);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let page = String::from_utf8(o.stdout).unwrap();
    let at = |needle: &str| page.find(needle).unwrap_or_else(|| panic!("no {needle}"));
    let order = [
        at("<h1>Incident ID: INC-20251226-001</h1>"),
        at("<dt>Duration</dt><dd>15 minutes (14:30:15 first error → 14:45:30 health checks green)</dd>"),
        at("<svg"),
        at("<h2>Timeline</h2>"),
        at("<h2>Evidence coverage</h2>"),
        at("<h2>Known blind spots</h2>"),
        at("<h3>Impact Assessment</h3>"),
        at("<h3>Action Items</h3>"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(page.contains("Investigation started"));
}

#[cfg(feature = "real-services")]
mod browser {
    use super::*;

    /// Loads a page in headless Chromium; returns the DOM and what the
    /// browser logged to its console (CSP violations, script errors).
    fn load(file: &Path, screenshot: Option<&Path>) -> (String, Vec<String>) {
        let url = format!("file://{}", file.display());
        let mut cmd = Command::new("chromium");
        cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]);
        match screenshot {
            Some(png) => cmd
                .args(["--hide-scrollbars", "--window-size=1300,1500"])
                .arg(format!("--screenshot={}", png.display())),
            None => cmd.arg("--dump-dom"),
        };
        let o = cmd
            .arg(&url)
            .output()
            .unwrap_or_else(|e| panic!("chromium cannot run ({e}): run the tests with scripts/test"));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let console =
            String::from_utf8_lossy(&o.stderr).lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
        (String::from_utf8_lossy(&o.stdout).into_owned(), console)
    }

    #[test]
    fn chromium_renders_the_seed_page_and_logs_nothing() {
        let out = root().join("target").join("html");
        std::fs::create_dir_all(&out).unwrap();
        let file = out.join("seed.html");
        std::fs::write(&file, seed_html()).unwrap();
        let (dom, console) = load(&file, None);
        assert!(console.is_empty(), "console: {console:#?}");
        assert!(dom.contains("<svg"), "the picture is in the DOM");
        assert!(dom.matches("class=\"lane-label\"").count() >= 8);
        assert!(dom.matches("class=\"alert-bar\"").count() >= 2);
        assert!(dom.contains("logs/backend.log:1234"));
        // The report page too.
        let mut args = vec!["report"];
        args.extend(SEED);
        args.extend(["--format", "html"]);
        let report = out.join("report.html");
        std::fs::write(&report, run(&args).stdout).unwrap();
        let (dom, console) = load(&report, None);
        assert!(console.is_empty(), "console: {console:#?}");
        assert!(dom.contains("<h1>Incident ID: INC-20251226-001</h1>") && dom.contains("<svg"));
        let png = out.join("seed.png");
        let _ = std::fs::remove_file(&png);
        let (_, console) = load(&file, Some(&png));
        assert!(console.is_empty(), "console: {console:#?}");
        assert!(std::fs::metadata(&png).unwrap().len() > 20_000, "a screenshot for people to look at");
    }

    #[test]
    fn chromium_runs_nothing_from_a_hostile_page() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("hostile.html");
        std::fs::write(&file, hostile_html(d.path())).unwrap();
        let (dom, console) = load(&file, None);
        assert!(console.is_empty(), "console: {console:#?}");
        assert!(dom.contains("<title>Timeline</title>"), "the title was not rewritten");
        assert!(!dom.contains("data-pwned"), "no handler ran");
        assert!(!dom.contains("<img") && !dom.contains("<script"), "no element was injected");
        // The check itself can fail: a page that breaks the policy is caught.
        let bad = d.path().join("bad.html");
        std::fs::write(&bad, page_with_a_script()).unwrap();
        let (_, console) = load(&bad, None);
        assert!(!console.is_empty(), "a blocked script is logged");
    }

    fn page_with_a_script() -> String {
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head>\
         <body><script>document.title='ran'</script></body></html>"
            .to_string()
    }
}
