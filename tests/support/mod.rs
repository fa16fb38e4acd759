//! Helpers the integration tests share: evidence written by the real tools
//! that write it.
#![allow(dead_code)]

use std::process::Command;

/// A journal directory of one host, written by systemd-journal-remote.
pub fn journal_dir(dir: &std::path::Path) -> std::path::PathBuf {
    use reconstruct_journal::export::{write_entry, Entry};
    let mut stream = Vec::new();
    for i in 0..30i64 {
        // 2025-12-26T14:30:00Z onwards, every 20 s.
        let us = (1_766_759_400 + i * 20) * 1_000_000;
        let f = |k: &str, v: String| (k.to_string(), v.into_bytes());
        let (prio, msg) = if i % 6 == 2 { (3, format!("worker {i} crashed")) } else { (6, format!("tick {i}")) };
        let e = Entry {
            line: 0,
            fields: vec![
                f("__REALTIME_TIMESTAMP", us.to_string()),
                f("__MONOTONIC_TIMESTAMP", (i * 1000 + 1).to_string()),
                f("_BOOT_ID", "0123456789abcdef0123456789abcdef".into()),
                f("_HOSTNAME", "batch01".into()),
                f("_SYSTEMD_UNIT", "worker.service".into()),
                f("PRIORITY", prio.to_string()),
                f("MESSAGE", msg),
            ],
        };
        write_entry(&mut stream, &e).unwrap();
    }
    let export = dir.join("batch01.export");
    std::fs::write(&export, stream).unwrap();
    let out = dir.join("journal-remote");
    std::fs::create_dir_all(&out).unwrap();
    let st = Command::new("/lib/systemd/systemd-journal-remote")
        .arg(format!("--output={}", out.join("batch01.journal").display()))
        .arg(&export)
        .status()
        .unwrap();
    assert!(st.success());
    out
}
