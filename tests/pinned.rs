#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Every command on every shipped bundle prints what it printed when this
//! pin was taken, byte for byte: a change of structure (how sources are
//! registered, resolved and replayed) must not change what a user sees.
//! After a change that means to alter the output, `PIN_UPDATE=1 cargo test
//! --test pinned` rewrites `tests/pinned/outputs.sha256`, and the diff
//! shows which outputs moved.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

const BUNDLES: [(&str, &str, &str); 4] = [
    ("inc-20251226-001", "2025-12-26T14:00:00Z", "2025-12-26T15:30:00Z"),
    ("inc-20260114-002", "2026-01-14T00:00:00Z", "2026-01-15T00:00:00Z"),
    ("inc-20260302-003", "2026-03-02T13:50:00Z", "2026-03-02T14:30:00Z"),
    ("layouts", "2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
];

fn hex(b: &[u8]) -> String {
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// Each output's name, and the hash of its stdout, stderr and exit status.
fn outputs() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = BTreeMap::new();
    for (bundle, since, until) in BUNDLES {
        let dir = format!("fixtures/{bundle}");
        let window = ["--fixtures", dir.as_str(), "--since", since, "--until", until];
        let mut runs: Vec<(String, Vec<&str>)> = Vec::new();
        for f in ["md", "json", "jsonl", "csv", "timesketch", "timesketch-csv", "html"] {
            let mut a = window.to_vec();
            a.extend(["--format", f, "--no-pager"]);
            runs.push((f.to_string(), a));
        }
        let mut all = window.to_vec();
        all.extend(["--all", "--no-pager"]);
        runs.push(("all".into(), all));
        let mut report = vec!["report"];
        report.extend(window);
        runs.push(("report".into(), report.clone()));
        let mut json = report.clone();
        report.extend(["--format", "html"]);
        runs.push(("report-html".into(), report));
        json.extend(["--format", "json"]);
        runs.push(("report-json".into(), json));
        for (name, args) in runs {
            let o = Command::new(env!("CARGO_BIN_EXE_reconstruct"))
                .args(&args)
                .current_dir(root)
                .env("NO_COLOR", "1")
                .env("RECONSTRUCT_CACHE_DIR", "off")
                .output()
                .unwrap();
            let code = o.status.code().unwrap_or(-1).to_string();
            let whole = [o.stdout.as_slice(), b"\0", o.stderr.as_slice(), b"\0", code.as_bytes()].concat();
            out.insert(format!("{bundle}.{name}"), hex(&whole));
        }
    }
    out
}

#[test]
fn every_command_on_every_bundle_prints_what_it_printed() {
    let pin = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pinned/outputs.sha256");
    let now = outputs();
    let text: String = now.iter().map(|(k, v)| format!("{v}  {k}\n")).collect();
    if std::env::var_os("PIN_UPDATE").is_some() {
        std::fs::write(&pin, text).unwrap();
        return;
    }
    let was: BTreeMap<String, String> = std::fs::read_to_string(&pin)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(h, k)| (k.to_string(), h.to_string())))
        .collect();
    let moved: Vec<&String> = now.keys().filter(|k| was.get(*k) != now.get(*k)).collect();
    assert!(moved.is_empty(), "outputs changed: {moved:?}");
    assert_eq!(was.len(), now.len(), "the set of pinned outputs changed");
}
