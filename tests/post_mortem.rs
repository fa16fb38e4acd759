#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! From timeline to post-mortem: the report document, annotations,
//! Timesketch export, redaction in every format, the configuration file,
//! capture and verify of bundles, completions and the man page.

use std::path::PathBuf;
use std::process::{Command, Output};

const SEED: &str = "fixtures/inc-20251226-001";
const SINCE: &str = "2025-12-26T14:00:00Z";
const UNTIL: &str = "2025-12-26T15:00:00Z";
const NOTES: &str = "fixtures/samples/annotations-inc-20251226-001.md";
const SECRETS: &str = "fixtures/samples/secrets.log";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reconstruct")).args(args).current_dir(dir).output().unwrap()
}

fn run(args: &[&str]) -> Output {
    run_in(&root(), args)
}

fn text(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn report_fills_phase_1_timeline_and_coverage() {
    let o = run(&["report", "--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--annotate", NOTES]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let doc = text(&o);
    insta::assert_snapshot!("seed_report", doc);
    assert!(doc.starts_with("## Incident ID: INC-20251226-001\n"));
    assert!(doc.contains("**Date/Time**: 2025-12-26 14:30:15 UTC"));
    assert!(doc.contains("**Duration**: 15 minutes (14:30:15 first error → 14:45:30 health checks green)"));
    assert!(doc.contains("**Reported By**: Automated monitoring (Prometheus alert HighErrorRate at 14:32:00)"));
    // No --severity: the evidence's suggestion, with its reasons.
    assert!(
        doc.contains("**Severity**: CRITICAL (suggested from the evidence: critical alert HighErrorRate fired"),
        "{doc}"
    );
    assert!(doc.contains("**Reported By**: Automated monitoring (Prometheus alert"));
    assert!(doc.contains("### Evidence coverage"));
    assert!(doc.contains("Known blind spots:"));
    assert!(doc.contains("pg_stat_activity is a snapshot"));
    for phase in [
        "### Impact Assessment",
        "### Root Cause Analysis (5-Whys)",
        "### Prevention Measures",
        "### Lessons Learned",
        "### Action Items",
    ] {
        assert!(doc.contains(phase), "{phase}");
    }
    // The human rows are in their places, with their evidence.
    let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| 14:") || l.starts_with("| 15:")).collect();
    let at = |needle: &str| rows.iter().position(|r| r.contains(needle)).unwrap_or_else(|| panic!("no {needle}"));
    assert!(at("alert HighErrorRate firing") < at("Investigation started"));
    assert!(at("Investigation started") < at("Root cause identified"));
    assert!(at("Root cause identified") < at("Commit abc123f"));
    assert!(rows[at("Investigation started")].contains(&format!("`annotation {NOTES}:3`")));
    assert!(rows[at("Root cause identified")].contains("Missing indexes + pending migration"));
    assert!(rows.iter().any(|r| r.starts_with("| 15:00:00 | Monitoring confirmed stable")));

    let o = run(&[
        "report",
        "--fixtures",
        SEED,
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--id",
        "INC-20251226-007",
        "--severity",
        "high",
    ]);
    let doc = text(&o);
    assert!(doc.starts_with("## Incident ID: INC-20251226-007\n"));
    assert!(doc.contains("**Severity**: HIGH"));
    let o = run(&["report", "--fixtures", SEED, "--since", SINCE, "--severity", "apocalyptic"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn timesketch_lines_follow_the_import_rules() {
    for all in [false, true] {
        let mut args = vec!["--fixtures", SEED, "--since", SINCE, "--until", UNTIL, "--format", "timesketch"];
        if all {
            args.push("--all");
        }
        let o = run(&args);
        let out = text(&o);
        assert!(out.lines().count() > 10);
        for line in out.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            for k in ["message", "datetime", "timestamp_desc", "timestamp", "component", "evidence"] {
                assert!(v.get(k).is_some_and(|x| !x.is_null()), "{k} in {line}");
            }
            let dt = v["datetime"].as_str().unwrap();
            assert!(chrono::DateTime::parse_from_rfc3339(dt).is_ok() && dt.ends_with('Z'), "{dt}");
            assert!(!v["message"].as_str().unwrap().contains('\n'));
        }
        assert!(out.contains("\"timestamp_desc\":\"Commit landed\""));
        assert!(out.contains("\"timestamp_desc\":\"Alert fired\""));
    }
}

#[test]
fn timesketch_csv_keeps_commas_quotes_and_newlines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "2025-12-26T14:30:00Z ERROR said \"no, never\", then left\n").unwrap();
    let notes = dir.path().join("notes.csv");
    std::fs::write(&notes, "time,event\n14:31:00,\"paged: \"\"db\"\", then\nescalated\"\n").unwrap();
    let o = run(&[
        "--log",
        log.to_str().unwrap(),
        "--annotate",
        notes.to_str().unwrap(),
        "--no-git",
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--format",
        "timesketch-csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mut rd = csv::Reader::from_reader(o.stdout.as_slice());
    let headers = rd.headers().unwrap().clone();
    assert_eq!(&headers[0], "message");
    let recs: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(&recs[0][0], "ERROR said \"no, never\", then left");
    assert_eq!(&recs[1][0], "paged: \"db\", then\nescalated");
    assert_eq!(&recs[1][3], "Noted by a person");
    assert!(chrono::DateTime::parse_from_rfc3339(&recs[0][1]).is_ok());
}

#[test]
fn secrets_are_masked_in_every_format() {
    let secrets = [
        "Sup3rS3cret",
        "hunter2",
        "abcdefghijklmnop0123",
        "AKIAIOSFODNN7EXAMPLE",
        "t0k3n-value",
        "eyJhbGciOiJIUzI1NiJ9",
        "secretkeymaterial",
    ];
    for format in ["md", "json", "jsonl", "csv", "timesketch", "timesketch-csv"] {
        for all in [false, true] {
            let mut args = vec!["--log", SECRETS, "--no-git", "--since", SINCE, "--until", UNTIL, "--format", format];
            if all {
                args.push("--all");
            }
            let out = text(&run(&args));
            assert!(out.contains("login rejected password="), "{format}: {out}");
            for s in secrets {
                assert!(!out.contains(s), "{format} (all: {all}) leaks {s}:\n{out}");
            }
        }
    }
    let md = text(&run(&["--log", SECRETS, "--no-git", "--since", SINCE, "--until", UNTIL]));
    assert!(md.contains("secret value(s) masked"), "{md}");
    let json: serde_json::Value = serde_json::from_slice(
        &run(&["--log", SECRETS, "--no-git", "--since", SINCE, "--until", UNTIL, "--format", "json"]).stdout,
    )
    .unwrap();
    assert!(json["summary"]["masked"].as_u64().unwrap() >= 7);
    let kept = text(&run(&["--log", SECRETS, "--no-git", "--since", SINCE, "--until", UNTIL, "--no-redact"]));
    assert!(kept.contains("hunter2"), "--no-redact keeps them");
}

#[test]
fn configuration_file_names_the_sources() {
    let dir = tempfile::tempdir().unwrap();
    let log = root().join("fixtures/inc-20251226-001/logs/backend.log");
    std::fs::write(
        dir.path().join("reconstruct.toml"),
        format!("tz = \"UTC\"\n\n[[log]]\npath = {:?}\ncomponent = \"api\"\n", log.display().to_string()),
    )
    .unwrap();
    let o = run_in(dir.path(), &["--since", SINCE, "--until", UNTIL]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text(&o).contains("(×209 until 14:42:58)"));

    let bad = [
        ("tz = \"UTC\"\nflavour = \"mild\"\n", "reconstruct.toml:2: unknown key `flavour`"),
        ("[prometheus]\nurl = \"localhost:9090\"\n", "reconstruct.toml:2: prometheus url"),
        ("\n[[log]]\npath = \"x.log\"\ntz = \"Atlantis/Capital\"\n", "reconstruct.toml:4: unknown time zone"),
    ];
    for (content, message) in bad {
        std::fs::write(dir.path().join("reconstruct.toml"), content).unwrap();
        let o = run_in(dir.path(), &["--since", SINCE, "--until", UNTIL]);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(message), "{err}");
    }
    let o = run_in(dir.path(), &["--config", "elsewhere.toml", "--since", SINCE]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read elsewhere.toml"));
}

#[test]
fn capture_of_files_reads_back_and_verify_catches_a_changed_byte() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("evidence");
    let log = root().join("fixtures/inc-20251226-001/logs/backend.log");
    let log = log.to_str().unwrap();
    let o = run(&[
        "capture",
        "--out",
        bundle.to_str().unwrap(),
        "--log",
        log,
        "--annotate",
        NOTES,
        "--no-git",
        "--since",
        SINCE,
        "--until",
        UNTIL,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["window"]["since"], SINCE);
    // Raw evidence holds secrets: the bundle is its owner's alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&bundle), 0o700);
    assert_eq!(mode(&bundle.join("logs")), 0o700);
    assert_eq!(mode(&bundle.join("logs/backend.log")), 0o600);
    assert_eq!(mode(&bundle.join("manifest.json")), 0o600);
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["path"], "logs/backend.log");
    assert_eq!(files[0]["sha256"].as_str().unwrap().len(), 64);

    let live = text(&run(&[
        "--log",
        log,
        "--annotate",
        NOTES,
        "--no-git",
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--format",
        "csv",
    ]));
    let saved =
        text(&run(&["--fixtures", bundle.to_str().unwrap(), "--since", SINCE, "--until", UNTIL, "--format", "csv"]));
    let strip = |csv: &str| -> Vec<String> {
        csv.lines().map(|l| l.split(',').take(6).collect::<Vec<_>>().join(",")).collect()
    };
    assert_eq!(strip(&live), strip(&saved));

    let o = run(&["verify", bundle.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // One changed byte in any file is caught.
    let target = bundle.join("logs/backend.log");
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(&target, bytes).unwrap();
    let o = run(&["verify", bundle.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("CHANGED  logs/backend.log"), "{}", text(&o));
    std::fs::remove_file(bundle.join("annotations/annotations-inc-20251226-001.md")).unwrap();
    assert!(text(&run(&["verify", bundle.to_str().unwrap()])).contains("MISSING  annotations/"));
    // Capture refuses to write into a bundle that exists.
    let o = run(&["capture", "--out", bundle.to_str().unwrap(), "--log", log, "--no-git", "--since", SINCE]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let o = run(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o).contains("--compose-project"));
    let o = run(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let man = text(&o);
    assert!(man.contains(".TH reconstruct") && man.contains("fixtures"));
}

#[test]
fn progress_stays_off_when_stderr_is_not_a_terminal() {
    let o = run(&["--fixtures", SEED, "--since", SINCE, "--until", UNTIL]);
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}
