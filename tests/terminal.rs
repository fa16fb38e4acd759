#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! At a terminal (a pseudo-terminal from util-linux `script`): the timeline
//! fits the width, colours severity unless NO_COLOR, keeps the markdown
//! table with --wide, and pages a long result through $PAGER. Pipes get
//! the markdown table (the other CLI tests read it).

use std::path::PathBuf;
use std::process::Command;

use unicode_width::UnicodeWidthStr;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary on a pseudo-terminal with `env` set; its stdout (stderr
/// is left out), as the terminal received it.
fn at_terminal(env: &str, extra: &str) -> String {
    let exe = env!("CARGO_BIN_EXE_reconstruct");
    let cmd = format!(
        "{env} '{exe}' --fixtures fixtures/inc-20251226-001 --since 2025-12-26T14:00:00Z --until 2025-12-26T15:00:00Z {extra} 2>/dev/null"
    );
    let o = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(root())
        .env_remove("NO_COLOR")
        .output()
        .expect("util-linux script runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).replace('\r', "")
}

/// The text without its colour codes.
fn plain(s: &str) -> String {
    let re = regex::Regex::new("\x1b\\[[0-9;]*[A-Za-z]").unwrap();
    re.replace_all(s, "").into_owned()
}

#[test]
fn at_a_terminal_rows_fit_the_width_and_keep_their_evidence() {
    let out = at_terminal("COLUMNS=72 PAGER=cat", "");
    assert!(out.contains("\x1b["), "coloured at a terminal");
    let text = plain(&out);
    for line in text.lines() {
        assert!(line.width() <= 72, "{} columns: {line}", line.width());
    }
    assert!(!text.contains("| Time (UTC) |"), "{text}");
    assert!(text.contains("[incident starts] ERROR PO"), "{text}");
    assert!(text.contains("(×209 until 14:42:58)"), "the fold count is never cut: {text}");
    assert!(text.contains("↳ logs/backend.log:1234"), "{text}");
    // The longest evidence is wrapped, not cut: it is whole once joined.
    let joined: String = text.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    assert!(joined.contains("(mcp-server_1 2025-12-26T14:30:18.349439698Z)"), "{text}");
    assert!(text.contains("Evidence coverage"));
}

#[test]
fn no_color_and_wide_are_honoured() {
    let out = at_terminal("COLUMNS=72 NO_COLOR=1 PAGER=cat", "");
    assert!(!out.contains("\x1b["), "{out}");
    let out = at_terminal("COLUMNS=72 PAGER=cat", "--wide");
    assert!(out.contains("| Time (UTC) | Event | Component | Evidence |"), "{out}");
}

#[test]
fn a_long_result_goes_through_the_pager() {
    let d = tempfile::tempdir().unwrap();
    let paged = d.path().join("paged.txt");
    let env = format!("COLUMNS=80 LINES=10 NO_COLOR=1 PAGER='cat > {}'", paged.display());
    let out = at_terminal(&env, "");
    let text = std::fs::read_to_string(&paged).unwrap();
    assert!(text.contains("[incident starts]"), "{text}");
    assert!(!out.contains("[incident starts]"), "written by the pager, not around it");
    // --no-pager writes it straight.
    let out = at_terminal(&env, "--no-pager");
    assert!(out.contains("[incident starts]"));
}

#[test]
fn a_pipe_gets_the_markdown_table() {
    let o = Command::new(env!("CARGO_BIN_EXE_reconstruct"))
        .args([
            "--fixtures",
            "fixtures/inc-20251226-001",
            "--since",
            "2025-12-26T14:00:00Z",
            "--until",
            "2025-12-26T15:00:00Z",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("| Time (UTC) | Event | Component | Evidence |"));
    assert!(!out.contains("\x1b["));
}
