#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The binary against the real services `scripts/test` starts: a source
//! that refuses us is named in the coverage section, the others still
//! render, and the exit status is partial. Never skipped: without the
//! services these tests fail.

use std::process::{Command, Output};

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("{key} is not set: run the tests with scripts/test"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reconstruct")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

const SEED: [&str; 6] =
    ["--fixtures", "fixtures/inc-20251226-001", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];

#[test]
fn postgres_with_a_wrong_password_is_a_partial_result() {
    let wrong = env("RECONSTRUCT_TEST_PG_APP_DSN").replacen("reconstruct-test-pw", "N0tThePassword", 1);
    let mut args = SEED.to_vec();
    args.extend(["--postgres", &wrong]);
    let o = run(&args);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(out.contains("`commit abc123f`"), "the other sources still render");
    assert!(out.contains("password authentication failed for user"), "{out}");
    assert!(!out.contains("N0tThePassword") && !err.contains("N0tThePassword"), "the password never appears");
}

#[test]
fn postgres_that_is_down_is_a_partial_result() {
    let mut args = SEED.to_vec();
    args.extend(["--postgres", "postgres://app:s3cret@127.0.0.1:1/scheduling", "--timeout", "5"]);
    let o = run(&args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3));
    assert!(out.contains("cannot connect to PostgreSQL at postgres://app:\\*\\*\\*@127.0.0.1:1/scheduling"), "{out}");
    assert!(!out.contains("s3cret"));
}

#[test]
fn postgres_live_sample_renders_next_to_the_bundle() {
    let mut args = SEED.to_vec();
    // The window is the seed's; the live sample is now, so it adds no rows
    // but must succeed and be listed.
    let dsn = env("RECONSTRUCT_TEST_PG_DSN");
    args.extend(["--postgres", &dsn]);
    let o = run(&args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("| postgres pg_stat_activity postgres://postgres:\\*\\*\\*@127.0.0.1:"), "{out}");
}
