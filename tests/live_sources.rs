#![cfg(feature = "real-services")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The binary against the real services `scripts/test` starts: a source
//! that refuses us is named in the coverage section, the others still
//! render, and the exit status is partial. Never skipped: without the
//! services these tests fail.

use std::process::{Command, Output};

mod support;
use support::journal_dir;

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

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn sh(dir: &std::path::Path, cmd: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let o = Command::new(cmd).args(args).current_dir(dir).envs(env.iter().copied()).output().unwrap();
    assert!(o.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// (time, collector, component, kind, severity, event) of every event; the
/// text of pg_stat_activity rows is left out, since two samples taken at
/// different moments say "open 12s" and "open 14s" of the same transaction.
fn comparable(json: &[u8]) -> Vec<(String, String, String, String, String, String)> {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            let sampled = s("evidence").contains("(sampled ");
            (
                s("time"),
                s("collector"),
                s("component"),
                s("kind"),
                s("severity"),
                if sampled { String::new() } else { s("event") },
            )
        })
        .collect()
}

#[test]
fn capture_then_fixtures_gives_the_live_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = now();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // git: a repository with two commits in the window.
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    sh(&repo, "git", &["init", "-q"], &[]);
    for msg in ["feat: first", "fix: second"] {
        std::fs::write(repo.join("f.txt"), msg).unwrap();
        sh(&repo, "git", &["add", "f.txt"], &[]);
        let who = [
            ("GIT_AUTHOR_NAME", "T"),
            ("GIT_AUTHOR_EMAIL", "t@x"),
            ("GIT_COMMITTER_NAME", "T"),
            ("GIT_COMMITTER_EMAIL", "t@x"),
        ];
        sh(&repo, "git", &["commit", "-q", "-m", msg], &who);
    }
    // a log file.
    let log = dir.path().join("app.log");
    std::fs::write(&log, format!("{} ERROR captured line\n", now())).unwrap();
    // docker: a compose-labelled container that writes and exits 3.
    let project = format!("rccapture{}", std::process::id());
    let host = env("RECONSTRUCT_TEST_DOCKER_HOST");
    let id = sh(
        dir.path(),
        "docker",
        &[
            "-H",
            &host,
            "run",
            "-d",
            "--name",
            &format!("{project}_worker_1"),
            "--network",
            "none",
            "--label",
            &format!("com.docker.compose.project={project}"),
            "--label",
            "com.docker.compose.service=worker",
            "--label",
            "com.docker.compose.container-number=1",
            &env("RECONSTRUCT_TEST_DOCKER_IMAGE"),
            "sh",
            "-c",
            "echo 'ERROR worker failed'; exit 3",
        ],
        &[],
    );
    let id = id.trim().to_string();
    sh(dir.path(), "docker", &["-H", &host, "wait", &id], &[]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let t1 = now();

    let sources = |extra: &mut Vec<String>| {
        extra.extend(
            [
                "--since",
                &t0,
                "--until",
                &t1,
                "--git",
                repo.to_str().unwrap(),
                "--log",
                log.to_str().unwrap(),
                "--docker-host",
                &host,
                "--compose-project",
                &project,
                "--postgres",
                &env("RECONSTRUCT_TEST_PG_DSN"),
                "--prometheus",
                &env("RECONSTRUCT_TEST_PROM_URL"),
            ]
            .iter()
            .map(|s| s.to_string()),
        );
    };
    let mut live_args = vec!["--format".to_string(), "json".to_string(), "--all".to_string()];
    sources(&mut live_args);
    let live = run(&live_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(live.status.code(), Some(0), "{}", String::from_utf8_lossy(&live.stderr));

    let bundle = dir.path().join("bundle");
    let mut cap_args = vec!["capture".to_string(), "--out".to_string(), bundle.to_str().unwrap().to_string()];
    sources(&mut cap_args);
    let cap = run(&cap_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(cap.status.code(), Some(0), "{}", String::from_utf8_lossy(&cap.stderr));

    let saved =
        run(&["--fixtures", bundle.to_str().unwrap(), "--since", &t0, "--until", &t1, "--format", "json", "--all"]);
    assert_eq!(saved.status.code(), Some(0), "{}", String::from_utf8_lossy(&saved.stderr));
    let (a, b) = (comparable(&live.stdout), comparable(&saved.stdout));
    assert!(a.iter().any(|e| e.5.contains("fix: second")), "{a:#?}");
    assert!(a.iter().any(|e| e.5.ends_with("worker_1 died (exit code 3)")), "{a:#?}");
    assert!(a.iter().any(|e| e.5 == "ERROR worker failed"), "{a:#?}");
    assert!(a.iter().any(|e| e.5 == "ERROR captured line"), "{a:#?}");
    assert_eq!(a, b);
    // The report reads before the window (the lookback's commits, the
    // baseline); the bundle holds that too, and its findings are the live ones.
    let mut live_report = vec!["report".to_string(), "--format".to_string(), "json".to_string()];
    sources(&mut live_report);
    let lr = run(&live_report.iter().map(String::as_str).collect::<Vec<_>>());
    let sr =
        run(&["report", "--format", "json", "--fixtures", bundle.to_str().unwrap(), "--since", &t0, "--until", &t1]);
    // The bundle names the log by its place in it.
    let findings = |o: &Output| -> String {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let f = &v["findings"];
        let picked = serde_json::json!([f["clock"], f["suspects"], f["spread"], f["new_messages"], f["silences"]]);
        picked.to_string().replace(log.to_str().unwrap(), "logs/app.log")
    };
    assert_eq!(findings(&sr), findings(&lr), "the replayed report's findings are the live ones");
    // The engine through the round trip every kind must pass.
    let engine = ["--docker-host", host.as_str(), "--compose-project", project.as_str(), "--no-git"];
    let rows = support::round_trip_in(dir.path(), &engine, &["--since", &t0, "--until", &t1]);
    assert!(rows.iter().any(|r| r.3 == "ERROR worker failed"), "{rows:#?}");
    let v = run(&["verify", bundle.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0));
    let _ = Command::new("docker").args(["-H", &host, "rm", "-f", &id]).output();
}

/// Log rows as (time, component, event).
fn log_rows(json: &[u8]) -> Vec<(String, String, String)> {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "log" || e["kind"] == "state_change")
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("time"), s("component"), s("event"))
        })
        .collect()
}

#[test]
fn a_real_compose_project_live_and_from_its_saved_logs() {
    let dir = tempfile::tempdir().unwrap();
    let project = format!("rccompose{}", std::process::id());
    let proj_dir = dir.path().join(&project);
    std::fs::create_dir(&proj_dir).unwrap();
    let image = env("RECONSTRUCT_TEST_DOCKER_IMAGE");
    std::fs::write(
        proj_dir.join("docker-compose.yml"),
        format!(
            "version: \"2.4\"\nservices:\n  web:\n    image: {image}\n    network_mode: none\n    command: [\"sh\", \"-c\", \"echo 'ERROR web failed once'; echo 'INFO fine'; usleep 300000; echo 'WARN slow' >&2; exit 2\"]\n  db:\n    image: {image}\n    network_mode: none\n    command: [\"sh\", \"-c\", \"echo 'LOG starting'; echo 'ERROR db oops'\"]\n"
        ),
    )
    .unwrap();
    let host = env("RECONSTRUCT_TEST_DOCKER_HOST");
    let compose = |args: &[&str]| {
        Command::new("docker-compose")
            .args(args)
            .current_dir(&proj_dir)
            .env("DOCKER_HOST", &host)
            .output()
            .expect("docker-compose")
    };
    let t0 = now();
    let up = compose(&["up", "-d"]);
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    for _ in 0..100 {
        let ps = compose(&["ps"]);
        let text = String::from_utf8_lossy(&ps.stdout).to_string();
        if text.matches("Exit ").count() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let t1 = now();
    // The saved form, exactly as a person would save it.
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(bundle.join("docker")).unwrap();
    let saved = compose(&["logs", "--timestamps", "--no-color"]);
    std::fs::write(bundle.join("docker/compose-logs.txt"), &saved.stdout).unwrap();

    // Live: the project is found from the compose file in the current directory.
    let exe = env!("CARGO_BIN_EXE_reconstruct");
    let live = Command::new(exe)
        .args(["--since", &t0, "--until", &t1, "--format", "json", "--all", "--no-git"])
        .current_dir(&proj_dir)
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap();
    assert_eq!(live.status.code(), Some(0), "{}", String::from_utf8_lossy(&live.stderr));
    let from_saved =
        run(&["--fixtures", bundle.to_str().unwrap(), "--since", &t0, "--until", &t1, "--format", "json", "--all"]);
    assert_eq!(from_saved.status.code(), Some(0), "{}", String::from_utf8_lossy(&from_saved.stderr));
    let (a, b) = (log_rows(&live.stdout), log_rows(&from_saved.stdout));
    assert_eq!(a.len(), 5, "{a:#?}");
    assert_eq!(a, b);
    assert!(a.iter().any(|(_, c, e)| c == "web" && e == "WARN slow"), "{a:#?}");
    let live_json: serde_json::Value = serde_json::from_slice(&live.stdout).unwrap();
    let died = live_json["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["event"].as_str().is_some_and(|s| s == format!("container {project}_web_1 died (exit code 2)")));
    assert!(died, "{live_json:#}");
    let _ = compose(&["down"]);
}

#[test]
fn the_journal_live_and_captured_gives_the_same_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_dir(dir.path());
    let j = journal.to_str().unwrap();
    let window = ["--since", "2025-12-26T14:30:00Z", "--until", "2025-12-26T14:45:00Z", "--no-git"];
    let mut live_args = vec!["--journal", j, "--format", "json"];
    live_args.extend(window);
    let live = run(&live_args);
    assert_eq!(live.status.code(), Some(0), "{}", String::from_utf8_lossy(&live.stderr));
    let text = String::from_utf8_lossy(&live.stdout);
    assert!(text.contains("worker 2 crashed") && text.contains("batch01/worker"), "{text}");
    let bundle = dir.path().join("bundle");
    let b = bundle.to_str().unwrap();
    let mut cap_args = vec!["capture", "--out", b, "--journal", j];
    cap_args.extend(window);
    let cap = run(&cap_args);
    assert_eq!(cap.status.code(), Some(0), "{}", String::from_utf8_lossy(&cap.stderr));
    let mut back_args = vec!["--fixtures", b, "--format", "json"];
    back_args.extend(window);
    let back = run(&back_args);
    assert_eq!(back.status.code(), Some(0), "{}", String::from_utf8_lossy(&back.stderr));
    let rows = |o: &Output| -> Vec<(String, String, String)> {
        comparable(&o.stdout).into_iter().map(|(t, _, c, _, _, e)| (t, c, e)).collect()
    };
    assert_eq!(rows(&live), rows(&back));
    assert_eq!(rows(&live).len(), 1, "the five crashes fold into one row");
    assert!(text.contains("\"count\": 5") || text.contains("\"count\":5"), "{text}");
    let verify = run(&["verify", b]);
    assert_eq!(verify.status.code(), Some(0));
    // And through the round trip every kind of source must pass.
    let every = support::round_trip(dir.path(), &["--journal", j, "--no-git"]);
    assert_eq!(every.iter().filter(|r| r.1 == "journal").count(), 30, "every entry, live and replayed: {every:?}");
}

fn docker_cli(args: &[&str]) -> String {
    let o = Command::new("docker").arg("-H").arg(env("RECONSTRUCT_TEST_DOCKER_HOST")).args(args).output().unwrap();
    assert!(o.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn nanos(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_nanos_opt().unwrap()
}

#[test]
fn a_containers_json_file_log_read_directly_matches_docker_logs() {
    let image = env("RECONSTRUCT_TEST_DOCKER_IMAGE");
    // stdout and stderr, a line longer than the 16 KiB the engine cuts
    // lines at (so it is stored in pieces), and a last line with no newline.
    let script = "for i in 1 2 3 4 5; do echo \"INFO request $i ok\"; echo \"ERROR request $i failed\" >&2; done; \
                  head -c 20000 /dev/zero | tr '\\0' 'x'; echo; printf 'WARNING no newline at the end'";
    let id = docker_cli(&["run", "-d", "--network", "none", &image, "sh", "-c", script]).trim().to_string();
    docker_cli(&["wait", &id]);
    let path = docker_cli(&["inspect", "-f", "{{.LogPath}}", &id]).trim().to_string();
    let name = docker_cli(&["inspect", "-f", "{{.Name}}", &id]).trim().trim_start_matches('/').to_string();
    let logs = Command::new("docker")
        .arg("-H")
        .arg(env("RECONSTRUCT_TEST_DOCKER_HOST"))
        .args(["logs", "--timestamps", &id])
        .output()
        .unwrap();
    let mut want: Vec<(i64, String)> = String::from_utf8_lossy(&logs.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&logs.stderr).lines())
        .map(|l| {
            let (t, m) = l.split_once(' ').unwrap();
            (nanos(t), m.chars().take(300).collect())
        })
        .collect();
    let o = run(&[
        "--log", &path, "--no-git", "--since", "1h", "--until", "now", "--all", "--format", "jsonl", "--tz", "UTC",
    ]);
    docker_cli(&["rm", "-f", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mut got: Vec<(i64, String)> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            // The excerpt holds the whole line; the event text is cut for the table.
            let excerpt = v["excerpt"].as_str().unwrap();
            let (_, m) = excerpt.split_once(' ').unwrap();
            (nanos(v["time"].as_str().unwrap()), m.chars().take(300).collect())
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(got.len(), 12);
    // The container is named from config.v2.json beside its log.
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["component"], name.as_str());
}

/// Waits until `check` holds, polling for up to a minute.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "{what} did not happen within 90 s");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[test]
fn a_real_swarm_service_its_tasks_and_logs_live_and_saved() {
    let image = env("RECONSTRUCT_TEST_DOCKER_IMAGE");
    let host = env("RECONSTRUCT_TEST_DOCKER_HOST");
    let since = now();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let failing = format!("rc-swarm-fail-{}", std::process::id());
    let ticking = format!("rc-swarm-tick-{}", std::process::id());
    docker_cli(&[
        "service",
        "create",
        "--detach",
        "--name",
        &failing,
        "--restart-condition",
        "on-failure",
        "--restart-delay",
        "1s",
        "--restart-max-attempts",
        "2",
        &image,
        "sh",
        "-c",
        "echo hello from swarm; echo ERROR failing now; exit 3",
    ]);
    docker_cli(&[
        "service",
        "create",
        "--detach",
        "--name",
        &ticking,
        &image,
        "sh",
        "-c",
        "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done",
    ]);
    let states = |svc: &str| docker_cli(&["service", "ps", "--format", "{{.CurrentState}}", svc]);
    eventually("three failed tasks", || states(&failing).lines().filter(|l| l.starts_with("Failed")).count() == 3);
    eventually("a running task", || states(&ticking).lines().any(|l| l.starts_with("Running")));
    std::thread::sleep(std::time::Duration::from_secs(2));
    // The window ends while the ticking service goes on writing.
    let until = now();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let window = ["--since", &since, "--until", &until, "--no-git"];
    let mut args = vec!["--swarm", "--docker-host", &host, "--format", "json", "--all"];
    args.extend(window);
    let live = run(&args);
    assert_eq!(live.status.code(), Some(0), "{}", String::from_utf8_lossy(&live.stderr));
    let v: serde_json::Value = serde_json::from_slice(&live.stdout).unwrap();
    let events = v["events"].as_array().unwrap();
    let of = |svc: &str| -> Vec<&serde_json::Value> { events.iter().filter(|e| e["component"] == svc).collect() };

    // Every failed task, as the engine recorded it, is a row at its time with its exit code.
    let ids = docker_cli(&["service", "ps", "-q", "--no-trunc", &failing]);
    for id in ids.lines() {
        let t: serde_json::Value = serde_json::from_str(&docker_cli(&["inspect", "--type", "task", id])).unwrap();
        let status = &t[0]["Status"];
        assert_eq!(status["State"], "failed");
        let row = of(&failing)
            .into_iter()
            .find(|e| e["evidence"].as_str() == Some(&format!("docker inspect --type task {id}")))
            .unwrap_or_else(|| panic!("no row for task {id} in {events:#?}"));
        assert_eq!(nanos(row["time"].as_str().unwrap()), nanos(status["Timestamp"].as_str().unwrap()));
        let summary = row["event"].as_str().unwrap();
        assert!(summary.contains("failed: task: non-zero exit (3) (exit code 3)"), "{summary}");
    }
    // The log lines are the ones `docker service logs` prints, at the same instants.
    let logs = Command::new("docker")
        .args(["-H", &host, "service", "logs", "--raw", "--timestamps", "--no-trunc", &failing])
        .output()
        .unwrap();
    let mut want: Vec<(i64, String)> = String::from_utf8_lossy(&logs.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&logs.stderr).lines())
        .filter_map(|l| l.split_once(' ').map(|(t, m)| (nanos(t), m.to_string())))
        .collect();
    want.sort();
    let mut got: Vec<(i64, String)> = of(&failing)
        .into_iter()
        .filter(|e| e["kind"] == "log")
        .map(|e| (nanos(e["time"].as_str().unwrap()), e["event"].as_str().unwrap().to_string()))
        .collect();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(want.len(), 6, "two lines from each of three tasks");
    // The running service's lines stop at the window's end.
    let ticks: Vec<i64> =
        of(&ticking).iter().filter(|e| e["kind"] == "log").map(|e| nanos(e["time"].as_str().unwrap())).collect();
    assert!(ticks.len() > 5, "{ticks:?}");
    assert!(ticks.iter().all(|t| *t <= nanos(&until)));

    // Captured and read back: the same rows.
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let b = bundle.to_str().unwrap();
    let mut cap = vec!["capture", "--out", b, "--swarm", "--docker-host", &host];
    cap.extend(window);
    let c = run(&cap);
    assert_eq!(c.status.code(), Some(0), "{}", String::from_utf8_lossy(&c.stderr));
    let mut back_args = vec!["--fixtures", b, "--format", "json", "--all"];
    back_args.extend(window);
    let back = run(&back_args);
    assert_eq!(back.status.code(), Some(0), "{}", String::from_utf8_lossy(&back.stderr));
    let rows = |o: &Output| -> Vec<(String, String, String)> {
        comparable(&o.stdout).into_iter().map(|(t, _, c, _, _, e)| (t, c, e)).collect()
    };
    assert_eq!(rows(&back), rows(&live));
    docker_cli(&["service", "rm", &failing, &ticking]);
}

#[test]
fn a_swarm_service_updated_to_another_image_is_a_deploy() {
    let image = env("RECONSTRUCT_TEST_DOCKER_IMAGE");
    let host = env("RECONSTRUCT_TEST_DOCKER_HOST");
    let name = format!("rc-swarm-deploy-{}", std::process::id());
    let next = format!("{name}:2.0.0");
    docker_cli(&["tag", &image, &next]);
    let since = now();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    docker_cli(&["service", "create", "--detach", "--name", &name, &image, "sh", "-c", "sleep 600"]);
    docker_cli(&["service", "update", "--detach", "--image", &next, &name]);
    eventually("the update", || {
        docker_cli(&["service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", &name])
            .contains(&next)
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    let until = now();
    let o = run(&[
        "--swarm",
        "--docker-host",
        &host,
        "--format",
        "json",
        "--all",
        "--since",
        &since,
        "--until",
        &until,
        "--no-git",
    ]);
    docker_cli(&["service", "rm", &name]);
    let _ = Command::new("docker").args(["-H", &host, "rmi", &next]).output();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let events = v["events"].as_array().unwrap();
    let deploys: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["component"] == name.as_str() && e["kind"] == "change").collect();
    assert_eq!(deploys.len(), 1, "{events:#?}");
    assert_eq!(deploys[0]["event"], format!("swarm service {name} deployed: image {next} (was {image})"));
    assert_eq!(deploys[0]["fact"]["type"], "rollout");
}

#[test]
fn context_reads_a_live_containers_log_around_its_row() {
    let image = env("RECONSTRUCT_TEST_DOCKER_IMAGE");
    let host = env("RECONSTRUCT_TEST_DOCKER_HOST");
    let name = format!("rcctx{}", std::process::id());
    let t0 = now();
    docker_cli(&[
        "run",
        "-d",
        "--name",
        &name,
        "--network",
        "none",
        &image,
        "sh",
        "-c",
        "echo 'INFO before'; echo 'ERROR ctx boom'; echo 'INFO after'; sleep 20",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let t1 = now();
    let o = run(&["--docker", "--docker-host", &host, "--since", &t0, "--until", &t1, "--no-git", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "ERROR ctx boom")
        .unwrap_or_else(|| panic!("{v:#}"))
        .clone();
    let evidence = row["evidence"].as_str().unwrap();
    assert!(evidence.starts_with(&format!("docker logs {name} --since")), "{evidence}");
    let o = run(&["context", evidence, "--docker-host", &host]);
    let _ = Command::new("docker").args(["-H", &host, "rm", "-f", &name]).output();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.lines().any(|l| l.starts_with('>') && l.contains("ERROR ctx boom")), "{text}");
    assert!(text.contains("INFO before") && text.contains("INFO after"), "{text}");
}

#[test]
fn a_plain_and_a_compose_v2_container_replay_as_they_ran_live() {
    let dir = tempfile::tempdir().unwrap();
    let host = env("RECONSTRUCT_TEST_DOCKER_HOST");
    let image = env("RECONSTRUCT_TEST_DOCKER_IMAGE");
    let tag = std::process::id();
    let (project, plain) = (format!("rcv{tag}"), format!("rcplain{tag}"));
    let composed = format!("{project}-app-1");
    let t0 = now();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut ids = Vec::new();
    for (name, labels) in [
        (
            composed.as_str(),
            vec![
                format!("com.docker.compose.project={project}"),
                "com.docker.compose.service=app".to_string(),
                "com.docker.compose.container-number=1".to_string(),
            ],
        ),
        (plain.as_str(), Vec::new()),
    ] {
        let mut args = vec!["run", "-d", "--name", name, "--network", "none"];
        for l in &labels {
            args.extend(["--label", l.as_str()]);
        }
        let script = format!("echo 'ERROR {name} failed'; exit 4");
        args.extend([image.as_str(), "sh", "-c", script.as_str()]);
        ids.push(docker_cli(&args).trim().to_string());
    }
    for id in &ids {
        docker_cli(&["wait", id]);
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let t1 = now();
    let window = ["--since", t0.as_str(), "--until", t1.as_str(), "--no-git", "--format", "json", "--all"];
    let mut live_args = vec!["--docker", "--docker-host", host.as_str()];
    live_args.extend(window);
    let live = run(&live_args);
    let bundle = dir.path().join("bundle");
    let mut cap = vec!["capture", "--out", bundle.to_str().unwrap(), "--docker", "--docker-host", host.as_str()];
    cap.extend(["--since", t0.as_str(), "--until", t1.as_str(), "--no-git"]);
    let captured = run(&cap);
    assert_eq!(captured.status.code(), Some(0), "{}", String::from_utf8_lossy(&captured.stderr));
    let mut replay_args = vec!["--fixtures", bundle.to_str().unwrap()];
    replay_args.extend(window);
    let replay = run(&replay_args);
    for id in &ids {
        let _ = Command::new("docker").args(["-H", &host, "rm", "-f", id]).output();
    }
    assert_eq!(live.status.code(), Some(0), "{}", String::from_utf8_lossy(&live.stderr));
    assert_eq!(replay.status.code(), live.status.code(), "{}", String::from_utf8_lossy(&replay.stderr));
    // Other tests' containers may come and go meanwhile: these two are compared.
    let ours = |json: &[u8]| {
        let v: serde_json::Value = serde_json::from_slice(json).unwrap();
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["component"] == "app" || e["component"] == plain.as_str())
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                (s("time"), s("component"), s("event"), s("evidence"))
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (ours(&live.stdout), ours(&replay.stdout));
    assert!(a.iter().any(|r| r.1 == "app" && r.2 == format!("ERROR {composed} failed")), "{a:#?}");
    let plain_line = a.iter().find(|r| r.2 == format!("ERROR {plain} failed")).expect("the plain container's line");
    assert!(plain_line.3.starts_with(&format!("docker logs {plain} --since")), "{plain_line:?}");
    assert_eq!(a, b);
}

/// `[[check]]` against the real server: one passes, one fails, one runs
/// past its statement timeout; each is named with its verdict and its
/// `psql -c` evidence, captured, and replayed as it was.
#[test]
fn data_integrity_checks_run_read_only_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("reconstruct.toml");
    std::fs::write(
        &conf,
        "[[check]]\nname = \"no_orphans\"\nsql = \"SELECT count(*) FROM (VALUES (1)) v(x) WHERE x = 2\"\n\n\
         [[check]]\nname = \"overlaps\"\nsql = \"SELECT 3\"\nexpect = \"= 0\"\n\n\
         [[check]]\nname = \"slow\"\nsql = \"SELECT pg_sleep(3)::text\"\ntimeout = 0.5\n\n\
         [[check]]\nname = \"writes_refused\"\nsql = \"CREATE TABLE reconstruct_check_probe (x int)\"\n",
    )
    .unwrap();
    let dsn = env("RECONSTRUCT_TEST_PG_DSN");
    let c = conf.to_str().unwrap();
    let window = ["--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z", "--no-git"];
    let verdicts = |o: &Output| -> Vec<(String, String, String)> {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["findings"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
                (s("name"), s("verdict"), s("evidence"))
            })
            .collect()
    };
    let mut live = vec!["report", "--format", "json", "--config", c, "--postgres", &dsn];
    live.extend(window);
    let o = run(&live);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let got = verdicts(&o);
    let by = |n: &str| got.iter().find(|g| g.0 == n).map(|g| g.1.clone()).unwrap_or_default();
    assert_eq!(by("no_orphans"), "passed", "{got:?}");
    assert_eq!(by("overlaps"), "failed", "{got:?}");
    assert_eq!(by("slow"), "timed_out", "{got:?}");
    assert_eq!(by("writes_refused"), "error", "a READ ONLY transaction refuses writes: {got:?}");
    assert!(got.iter().all(|g| g.2.starts_with("psql -c '")), "{got:?}");
    // Captured, then replayed with no server: the same verdicts.
    let bundle = dir.path().join("bundle");
    let b = bundle.to_str().unwrap();
    let mut cap = vec!["capture", "--out", b, "--config", c, "--postgres", &dsn];
    cap.extend(window);
    let o = run(&cap);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mut back = vec!["report", "--format", "json", "--fixtures", b];
    back.extend(window);
    let o = run(&back);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(verdicts(&o), got);
    let mut md = vec!["report", "--fixtures", b];
    md.extend(window);
    let doc = String::from_utf8(run(&md).stdout).unwrap();
    assert!(doc.contains("**Database State**: INCONSISTENT (suggested: overlaps failed)"), "{doc}");
}
