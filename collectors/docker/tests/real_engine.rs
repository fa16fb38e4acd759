#![cfg(feature = "real-services")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Against a real Docker engine started by `scripts/test` (see
//! `scripts/services/docker`): compose-labelled containers that write known
//! lines, exit with a code, get OOM-killed or fail a health check. Without
//! the engine these tests fail; they are never skipped.

use std::process::Command;
use std::time::Duration;

use reconstruct_core::timestamp::parse_iso;
use reconstruct_core::{
    CollectContext, Detail, Diagnostic, Event, EventKind, Severity, TimeWindow, Timestamp, VecSink, Zone,
};
use reconstruct_docker::DockerLive;

fn env(key: &str) -> String {
    std::env::var(key)
        .unwrap_or_else(|_| panic!("{key} is not set: run the tests with scripts/test, which starts Docker"))
}

fn docker(args: &[&str]) -> String {
    let host = env("RECONSTRUCT_TEST_DOCKER_HOST");
    let o = Command::new("docker").arg("-H").arg(&host).args(args).output().expect("the docker CLI");
    assert!(o.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// Containers started by one test, removed by id when it ends.
struct Project {
    name: String,
    ids: Vec<String>,
}

impl Project {
    fn new(tag: &str) -> Self {
        Project { name: format!("rctest{}{}", tag, std::process::id()), ids: Vec::new() }
    }

    fn run(&mut self, service: &str, extra: &[&str], script: &str) -> String {
        self.run_image(service, &env("RECONSTRUCT_TEST_DOCKER_IMAGE"), extra, script)
    }

    fn run_image(&mut self, service: &str, image: &str, extra: &[&str], script: &str) -> String {
        let project = format!("com.docker.compose.project={}", self.name);
        let svc = format!("com.docker.compose.service={service}");
        let name = format!("{}_{service}_1", self.name);
        let mut args = vec![
            "run",
            "-d",
            "--name",
            &name,
            "--network",
            "none",
            "--label",
            &project,
            "--label",
            &svc,
            "--label",
            "com.docker.compose.container-number=1",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[image, "sh", "-c", script]);
        let id = docker(&args).trim().to_string();
        self.ids.push(id.clone());
        id
    }

    fn collect(&self, window: TimeWindow) -> (Vec<Event>, Vec<Diagnostic>) {
        let sink = self.collect_through(true, window);
        (sink.events, sink.diagnostics)
    }

    fn collect_through(&self, from_disk: bool, window: TimeWindow) -> VecSink {
        let c = Box::new(DockerLive {
            host: Some(env("RECONSTRUCT_TEST_DOCKER_HOST")),
            project: Some(self.name.clone()),
            timeout: Duration::from_secs(20),
            from_disk,
        });
        let mut sink = VecSink::default();
        reconstruct_core::collect_now(c, &CollectContext { window, detail: Detail::All, anchor: None }, &mut sink)
            .unwrap();
        sink
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        for id in &self.ids {
            let _ = Command::new("docker").args(["-H", &env("RECONSTRUCT_TEST_DOCKER_HOST"), "rm", "-f", id]).output();
        }
    }
}

fn now() -> Timestamp {
    Timestamp::from_datetime(&chrono::Utc::now()).unwrap()
}

fn wide() -> TimeWindow {
    TimeWindow::new(now().saturating_add_nanos(-600_000_000_000), now().saturating_add_nanos(600_000_000_000)).unwrap()
}

/// `docker logs --timestamps` lines as (time, text), both streams, in time order.
fn cli_lines(id: &str, since: Option<&str>, until: Option<&str>) -> Vec<(Timestamp, String)> {
    let host = env("RECONSTRUCT_TEST_DOCKER_HOST");
    let mut cmd = Command::new("docker");
    cmd.args(["-H", &host, "logs", "--timestamps"]);
    if let Some(s) = since {
        cmd.args(["--since", s]);
    }
    if let Some(u) = until {
        cmd.args(["--until", u]);
    }
    let o = cmd.arg(id).output().unwrap();
    let mut v: Vec<(Timestamp, String)> = [o.stdout, o.stderr]
        .iter()
        .flat_map(|b| String::from_utf8_lossy(b).lines().map(str::to_string).collect::<Vec<_>>())
        .filter_map(|l| {
            let p = parse_iso(l.as_bytes(), &Zone::Utc)?;
            Some((p.time, l[p.len..].trim().to_string()))
        })
        .collect();
    v.sort();
    v
}

/// Our lines, ordered as `cli_lines` orders docker's: by time, then text.
/// Two streams can log at the same nanosecond, and then neither order is
/// the engine's.
fn ours(events: &[Event]) -> Vec<(Timestamp, String)> {
    let mut v: Vec<(Timestamp, String)> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Log | EventKind::StateChange))
        .map(|e| (e.time, e.summary.clone()))
        .collect();
    v.sort();
    v
}

#[test]
fn log_lines_match_docker_logs_in_every_window() {
    let mut p = Project::new("logs");
    let id = p.run(
        "web",
        &[],
        "i=0; while [ $i -lt 40 ]; do echo \"out line $i\"; echo \"ERROR err line $i\" >&2; i=$((i+1)); usleep 20000; done",
    );
    docker(&["wait", &id]);
    let all = cli_lines(&id, None, None);
    assert_eq!(all.len(), 80, "the container wrote 80 lines");
    let (events, diags) = p.collect(wide());
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ours(&events), all);
    // Windows whose bounds fall inside a second, on a line and between lines.
    let bounds = [(5, 30), (10, 11), (0, 79), (33, 33)];
    for (a, b) in bounds {
        let since = all[a].0;
        let until = all[b].0;
        let expected = cli_lines(&id, Some(&since.rfc3339()), Some(&until.rfc3339()));
        let (events, _) = p.collect(TimeWindow::new(since, until.saturating_add_nanos(1)).unwrap());
        let got: Vec<_> = ours(&events).into_iter().filter(|(t, _)| *t <= until).collect();
        assert_eq!(got, expected, "window line {a} .. line {b}");
        // Every line from a's time to b's (a line sharing a bound's nanosecond is inside too).
        assert_eq!(got.len(), all.iter().filter(|(t, _)| *t >= since && *t <= until).count());
        assert!(got.len() > b - a);
    }
    // The local engine's json-file log was read from disk; through the logs
    // API the same lines come, in every window.
    let sink = p.collect_through(true, wide());
    assert!(sink.notes.iter().any(|n| n.contains("read from their json-file logs on disk")), "{:?}", sink.notes);
    for (a, b) in bounds {
        let w = TimeWindow::new(all[a].0, all[b].0.saturating_add_nanos(1)).unwrap();
        let api = p.collect_through(false, w);
        assert!(!api.notes.iter().any(|n| n.contains("on disk")));
        assert_eq!(ours(&api.events), ours(&p.collect_through(true, w).events), "window line {a} .. line {b}");
    }
    let e = events.iter().find(|e| e.summary == "ERROR err line 7").unwrap();
    assert_eq!(&*e.component, "web");
    assert_eq!(e.severity, Some(Severity::Error));
    assert!(e.evidence.locator.to_string().starts_with("docker-compose logs web --since "));
}

#[test]
fn a_container_recreated_with_another_image_is_a_deploy_and_with_the_same_one_is_not() {
    let mut p = Project::new("deploy");
    let image = env("RECONSTRUCT_TEST_DOCKER_IMAGE");
    let next = format!("{}-pay:2.0.0", p.name);
    docker(&["tag", &image, &next]);
    let first = p.run("pay", &[], "echo starting pay 1.0.0; sleep 60");
    docker(&["rm", "-f", &first]);
    // Recreated with the same image: a restart of sorts, not a deploy.
    let again = p.run("pay", &[], "echo starting pay 1.0.0; sleep 60");
    docker(&["rm", "-f", &again]);
    let new = p.run_image("pay", &next, &[], "echo starting pay 2.0.0; sleep 60");
    let (events, _) = p.collect(wide());
    let _ = Command::new("docker").args(["-H", &env("RECONSTRUCT_TEST_DOCKER_HOST"), "rmi", &next]).output();
    let changes: Vec<&Event> = events.iter().filter(|e| e.kind == EventKind::Change).collect();
    let rows: Vec<&str> = events.iter().map(|e| e.summary.as_str()).collect();
    assert_eq!(changes.len(), 1, "{rows:#?}");
    let short: String = new.chars().take(12).collect();
    assert_eq!(changes[0].summary, format!("service pay deployed: image {next} (was {image}), new container {short}"));
    assert_eq!(&*changes[0].component, "pay");
    match changes[0].fact.as_deref() {
        Some(reconstruct_core::Fact::Rollout { workload, images, revision }) => {
            assert_eq!(workload, "pay");
            assert_eq!(images, std::slice::from_ref(&next));
            assert_eq!(revision.as_deref(), Some(short.as_str()));
        }
        other => panic!("{other:?}"),
    }
    // Every create and removal is a row the reviewer can see.
    assert_eq!(rows.iter().filter(|r| r.ends_with("_pay_1 removed")).count(), 2, "{rows:#?}");
    assert_eq!(rows.iter().filter(|r| r.contains("_pay_1 created (image ")).count(), 3, "{rows:#?}");
}

#[test]
fn exit_code_and_oom_kill_are_lifecycle_rows() {
    let mut p = Project::new("life");
    let t0 = now();
    let bye = p.run("worker", &[], "echo bye; exit 3");
    let oom = p.run(
        "hog",
        &["--memory", "16m", "--memory-swap", "16m"],
        "x=$(head -c 80000000 /dev/zero | tr '\\0' a); echo never",
    );
    docker(&["wait", &bye]);
    docker(&["wait", &oom]);
    let t1 = now();
    let (events, _) = p.collect(wide());
    let rows: Vec<String> =
        events.iter().filter(|e| e.kind == EventKind::Lifecycle).map(|e| e.summary.clone()).collect();
    let died = events
        .iter()
        .find(|e| e.summary.ends_with("worker_1 died (exit code 3)"))
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert!(died.time >= t0.saturating_add_nanos(-1_000_000_000) && died.time <= t1, "{}", died.time);
    let finished = docker(&["inspect", "-f", "{{.State.FinishedAt}}", &bye]);
    let finished = parse_iso(finished.trim().as_bytes(), &Zone::Utc).unwrap().time;
    assert!((died.time.unix_nanos() - finished.unix_nanos()).abs() < 2_000_000_000, "{} vs {}", died.time, finished);
    let killed = events.iter().find(|e| e.summary.ends_with("hog_1 OOM-killed")).unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(killed.severity, Some(Severity::Critical));
    // Each fact once, though both the events API and inspection know it.
    assert_eq!(rows.iter().filter(|r| r.ends_with("worker_1 died (exit code 3)")).count(), 1, "{rows:#?}");
    assert_eq!(rows.iter().filter(|r| r.ends_with("hog_1 OOM-killed")).count(), 1, "{rows:#?}");
    assert_eq!(rows.iter().filter(|r| r.ends_with("worker_1 started")).count(), 1, "{rows:#?}");
}

#[test]
fn health_checks_turn_unhealthy_and_healthy() {
    let mut p = Project::new("health");
    let id = p.run(
        "api",
        &[
            "--health-cmd",
            "test -f /tmp/ok",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
            "--health-timeout",
            "1s",
        ],
        "sleep 2; touch /tmp/ok; sleep 4; rm /tmp/ok; sleep 4",
    );
    docker(&["wait", &id]);
    let (events, _) = p.collect(wide());
    let health: Vec<&str> =
        events.iter().filter(|e| e.summary.contains("health check")).map(|e| e.summary.as_str()).collect();
    let healthy =
        health.iter().position(|s| s.ends_with("health check healthy")).unwrap_or_else(|| panic!("{health:#?}"));
    let unhealthy =
        health.iter().rposition(|s| s.contains("health check unhealthy")).unwrap_or_else(|| panic!("{health:#?}"));
    assert!(healthy < unhealthy, "{health:#?}");
}

#[test]
fn tty_and_unreadable_log_drivers_are_handled_per_container() {
    let mut p = Project::new("tty");
    let tty = p.run("console", &["-t"], "echo 'WARN from a tty'; echo second");
    let none = p.run("silent", &["--log-driver", "none"], "echo invisible");
    docker(&["wait", &tty]);
    docker(&["wait", &none]);
    let (events, diags) = p.collect(wide());
    let warn = events.iter().find(|e| e.summary == "WARN from a tty").unwrap_or_else(|| panic!("{events:#?}"));
    assert!(!warn.summary.contains('\r'));
    let d = diags
        .iter()
        .find(|d| d.locator.as_ref().is_some_and(|l| l.to_string().contains("silent")))
        .unwrap_or_else(|| panic!("{diags:?}"));
    assert!(d.message.contains("cannot be read"), "{}", d.message);
    // The silent container's lifecycle still comes through.
    assert!(events.iter().any(|e| e.summary.ends_with("silent_1 exited (exit code 0)")), "{events:#?}");
}

#[test]
fn an_engine_that_cannot_be_reached_is_a_clear_error() {
    let c = Box::new(DockerLive {
        host: Some("unix:///nonexistent/docker.sock".into()),
        project: None,
        timeout: Duration::from_secs(5),
        from_disk: true,
    });
    let mut sink = VecSink::default();
    let err = reconstruct_core::collect_now(
        c,
        &CollectContext { window: wide(), detail: Detail::All, anchor: None },
        &mut sink,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("cannot reach the docker engine at unix:///nonexistent/docker.sock"), "{err}");
}

#[test]
fn a_misspelt_project_names_the_projects_there_are() {
    let mut p = Project::new("spell");
    p.run("web", &[], "echo 'ERROR boom'; sleep 30");
    let c = Box::new(DockerLive {
        host: Some(env("RECONSTRUCT_TEST_DOCKER_HOST")),
        project: Some(format!("{}x", p.name)),
        timeout: Duration::from_secs(20),
        from_disk: true,
    });
    let mut sink = VecSink::default();
    reconstruct_core::collect_now(c, &CollectContext { window: wide(), detail: Detail::All, anchor: None }, &mut sink)
        .unwrap();
    assert!(sink.events.is_empty());
    let note = sink.notes.iter().find(|n| n.starts_with("no container of compose project")).expect("a note");
    assert!(note.contains(&p.name), "{note}");
}

#[test]
fn a_plain_container_gets_a_docker_logs_command() {
    let image = env("RECONSTRUCT_TEST_DOCKER_IMAGE");
    let name = format!("rctestplain{}", std::process::id());
    let id = docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--network",
        "none",
        &image,
        "sh",
        "-c",
        "echo 'ERROR plain boom'; sleep 30",
    ]);
    let guard = Project { name: name.clone(), ids: vec![id.trim().to_string()] };
    std::thread::sleep(Duration::from_secs(1));
    let c = Box::new(DockerLive {
        host: Some(env("RECONSTRUCT_TEST_DOCKER_HOST")),
        project: None,
        timeout: Duration::from_secs(20),
        from_disk: true,
    });
    let mut sink = VecSink::default();
    reconstruct_core::collect_now(c, &CollectContext { window: wide(), detail: Detail::All, anchor: None }, &mut sink)
        .unwrap();
    let e = sink.events.iter().find(|e| e.summary.contains("plain boom")).expect("the plain container's line");
    assert_eq!(&*e.component, name.as_str());
    assert!(
        e.evidence.locator.to_string().starts_with(&format!("docker logs {name} --since ")),
        "{}",
        e.evidence.locator
    );
    drop(guard);
}
