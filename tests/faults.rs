#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The fault matrix, as one table: each live source that speaks over the
//! network (Docker, PostgreSQL, Prometheus, Alertmanager) and each local one
//! (git, the journal) meets the faults it can meet: the connection refused,
//! a server that never answers, one that answers garbage, one that refuses
//! the credentials, one that dies mid-answer. Every case must give a partial
//! timeline (exit 3) that names the source and a clear reason, with the seed
//! bundle's rows intact. The servers here are small local fakes; the real
//! services' faults (a stopped server, a wrong password) are in
//! `live_sources.rs` and the collectors' real-service tests.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const SEED: [&str; 6] =
    ["--fixtures", "fixtures/inc-20251226-001", "--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Nothing listens.
    Refused,
    /// Accepts, reads, never writes.
    Silent,
    /// Answers bytes that are not the protocol.
    Garbage,
    /// Answers 401 / the protocol's "bad credentials".
    Credentials,
    /// Starts a valid answer, then closes the connection.
    DiesMidAnswer,
}

/// A fake server on a free local port showing `fault`, for `rounds`
/// connections; returns its address. It stops by itself.
fn serve(fault: Fault, http: bool) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    if matches!(fault, Fault::Refused) {
        drop(l);
        return addr;
    }
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        l.set_nonblocking(true).unwrap();
        let mut held = Vec::new();
        while Instant::now() < deadline {
            let Ok((mut s, _)) = l.accept() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let answer: &[u8] = match (fault, http) {
                (Fault::Silent, _) => {
                    held.push(s);
                    continue;
                }
                (Fault::Garbage, _) => b"\x00\x01\x02 this is not the protocol \xff\xfe\r\n\r\n",
                (Fault::Credentials, true) => {
                    b"HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nunauthorized"
                }
                // PostgreSQL: an ErrorResponse, 28P01 invalid_password.
                (Fault::Credentials, false) => {
                    b"E\x00\x00\x00\x49SFATAL\x00VFATAL\x00C28P01\x00Mpassword authentication failed for user \"app\"\x00\x00"
                }
                (Fault::DiesMidAnswer, true) => {
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{\"status\":\"success\",\"da"
                }
                (Fault::DiesMidAnswer, false) => b"R\x00\x00\x00",
                (Fault::Refused, _) => b"",
            };
            let _ = s.write_all(answer);
            drop(s);
        }
    });
    addr
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reconstruct"))
        .args(args)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .output()
        .unwrap()
}

/// One case: the flags that add the faulty source, and what its coverage row must say.
struct Case {
    source: &'static str,
    fault: Fault,
    args: Vec<String>,
    says: Vec<&'static str>,
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let faults = [Fault::Refused, Fault::Silent, Fault::Garbage, Fault::Credentials, Fault::DiesMidAnswer];
    for fault in faults {
        let a = serve(fault, true);
        v.push(Case {
            source: "prometheus",
            fault,
            args: vec!["--prometheus".into(), format!("http://ops:pw-Prom-Fault@{a}")],
            says: match fault {
                Fault::Refused => vec!["cannot reach Prometheus"],
                Fault::Silent => vec!["did not answer", "TIMED OUT"],
                Fault::Garbage => vec!["cannot reach Prometheus", "unusable answer"],
                Fault::Credentials => vec!["HTTP 401"],
                Fault::DiesMidAnswer => vec!["cannot reach Prometheus", "unusable answer"],
            },
        });
        let a = serve(fault, true);
        v.push(Case {
            source: "alertmanager",
            fault,
            args: vec!["--alertmanager".into(), format!("http://{a}")],
            says: match fault {
                Fault::Refused => vec!["cannot reach Alertmanager"],
                Fault::Silent => vec!["did not answer", "TIMED OUT"],
                Fault::Garbage => vec!["cannot reach Alertmanager", "unusable answer"],
                Fault::Credentials => vec!["HTTP 401"],
                Fault::DiesMidAnswer => vec!["cannot reach Alertmanager", "unusable answer"],
            },
        });
        let a = serve(fault, true);
        v.push(Case {
            source: "docker",
            fault,
            args: vec!["--docker-host".into(), format!("tcp://{a}")],
            says: match fault {
                Fault::Silent => vec!["did not answer", "TIMED OUT"],
                _ => vec!["docker engine at tcp://"],
            },
        });
        let a = serve(fault, false);
        v.push(Case {
            source: "postgres",
            fault,
            args: vec!["--postgres".into(), format!("postgres://app:pw-Pg-Fault@{a}/app?connect_timeout=3")],
            says: match fault {
                Fault::Silent => vec!["took longer than", "TIMED OUT", "cannot connect"],
                Fault::Credentials => vec!["password authentication failed"],
                _ => vec!["cannot connect to PostgreSQL"],
            },
        });
    }
    // Local sources: a repository that is not one, or is broken; a journal that is not there, or garbage.
    let d = std::env::temp_dir().join(format!("reconstruct-faults-{}", std::process::id()));
    std::fs::create_dir_all(d.join("broken/.git")).unwrap();
    std::fs::write(d.join("broken/.git/HEAD"), "\x00garbage").unwrap();
    std::fs::create_dir_all(d.join("journal")).unwrap();
    std::fs::write(d.join("journal/bad.journal"), b"LPKSHHRH garbage, not a journal").unwrap();
    let p = |s: &str| d.join(s).to_str().unwrap().to_string();
    v.push(Case {
        source: "git",
        fault: Fault::Refused,
        args: vec!["--git".into(), p("missing")],
        says: vec!["missing"],
    });
    v.push(Case {
        source: "git",
        fault: Fault::Garbage,
        args: vec!["--git".into(), p("broken")],
        says: vec!["broken"],
    });
    v.push(Case {
        source: "journal",
        fault: Fault::Refused,
        args: vec!["--journal".into(), p("no-such-journal")],
        says: vec!["no such journal file or directory"],
    });
    v.push(Case {
        source: "journal",
        fault: Fault::Garbage,
        args: vec!["--journal".into(), p("journal/bad.journal")],
        says: vec!["journal"],
    });
    v
}

#[test]
fn every_fault_of_every_source_is_a_partial_timeline_with_a_reason() {
    let mut failures = Vec::new();
    for c in cases() {
        let mut args: Vec<String> = SEED.iter().map(|s| s.to_string()).collect();
        args.extend(c.args.iter().cloned());
        args.extend(["--timeout".to_string(), "4".to_string()]);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let started = Instant::now();
        let o = run(&argv);
        let out = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        // The faulty source's coverage row (the bundle's own rows of that kind read fine).
        let row = out
            .lines()
            .filter(|l| l.starts_with(&format!("| {} ", c.source)))
            .find(|l| l.contains("FAILED") || l.contains("TIMED OUT"))
            .unwrap_or_default()
            .to_string();
        let problem = if o.status.code() != Some(3) {
            Some(format!("exit {:?}", o.status.code()))
        } else if !out.contains("`commit abc123f`") || !out.contains("health check healthy") {
            Some("the seed's rows are missing".to_string())
        } else if row.is_empty() || !(row.contains("FAILED") || row.contains("TIMED OUT")) {
            Some(format!("no failed coverage row: {row:?}"))
        } else if !c.says.iter().any(|s| row.contains(s)) {
            Some(format!("reason {row:?} says none of {:?}", c.says))
        } else if out.contains("pw-Prom-Fault")
            || err.contains("pw-Prom-Fault")
            || out.contains("pw-Pg-Fault")
            || err.contains("pw-Pg-Fault")
        {
            Some("a password reached the output".to_string())
        } else if started.elapsed() > Duration::from_secs(25) {
            Some(format!("took {:?}", started.elapsed()))
        } else {
            None
        };
        if let Some(p) = problem {
            failures.push(format!("{} × {:?}: {p}\n{err}", c.source, c.fault));
        }
    }
    // The broken repository and journal of `cases`, not left behind.
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("reconstruct-faults-{}", std::process::id())));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
