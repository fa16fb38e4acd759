#![cfg(feature = "real-services")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Against a real PostgreSQL started by `scripts/test` (see
//! `scripts/services/postgres`): real lock waits, idle transactions,
//! deadlocks and exhausted connection slots, as the collector reports them.
//! Without the server these tests fail; they are never skipped.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use reconstruct_core::{CollectContext, Collector, Detail, Event, Severity, TimeWindow, Timestamp, VecSink, Zone};
use reconstruct_postgres::{dsn, ActivityLive, ServerLog};
use tokio_postgres::{Client, NoTls};

/// The scenarios share one server with a low max_connections: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the tests with scripts/test, which starts PostgreSQL for them")
    })
}

fn now() -> Timestamp {
    Timestamp::from_datetime(&chrono_now()).unwrap()
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn window(since: Timestamp) -> TimeWindow {
    TimeWindow::new(since.saturating_add_nanos(-2_000_000_000), now().saturating_add_nanos(60_000_000_000)).unwrap()
}

fn sample(dsn_text: &str, since: Timestamp) -> Result<Vec<Event>, String> {
    let d = dsn::resolve(Some(dsn_text), &Default::default()).map_err(|e| e.to_string())?;
    let c = Box::new(ActivityLive { dsn: d, keep_literals: false, connect_timeout: Duration::from_secs(5) });
    let mut sink = VecSink::default();
    reconstruct_core::collect_now(
        c,
        &CollectContext { window: window(since), detail: Detail::All, anchor: None },
        &mut sink,
    )
    .map_err(|e| e.to_string())?;
    Ok(sink.events)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

async fn connect(dsn: &str) -> Client {
    let (c, conn) = tokio_postgres::connect(dsn, NoTls).await.unwrap();
    tokio::spawn(conn);
    c
}

async fn pid(c: &Client) -> i32 {
    c.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0)
}

#[test]
fn blocked_and_idle_sessions_with_their_blocker_and_lock() {
    let _g = serial();
    let rt = rt();
    let app = env("RECONSTRUCT_TEST_PG_APP_DSN");
    let since = now();
    let (holder, waiter, idle, holder_pid, waiter_pid, idle_pid) = rt.block_on(async {
        let setup = connect(&app).await;
        setup
            .batch_execute("DROP TABLE IF EXISTS slots; CREATE TABLE slots (id int primary key, note text); INSERT INTO slots VALUES (1, 'a'), (2, 'b')")
            .await
            .unwrap();
        let holder = connect(&app).await;
        let waiter = connect(&app).await;
        let idle = connect(&app).await;
        let (hp, wp, ip) = (pid(&holder).await, pid(&waiter).await, pid(&idle).await);
        holder.batch_execute("BEGIN; UPDATE slots SET note = 'held' WHERE id = 1").await.unwrap();
        idle.batch_execute("BEGIN; SELECT note FROM slots WHERE id = 2").await.unwrap();
        (holder, waiter, idle, hp, wp, ip)
    });
    let waiting = rt.spawn(async move {
        let r = waiter.execute("UPDATE slots SET note = 'password=hunter2' WHERE id = 1", &[]).await;
        (waiter, r)
    });
    std::thread::sleep(Duration::from_millis(700));
    let events = sample(&env("RECONSTRUCT_TEST_PG_DSN"), since).unwrap();
    let text: Vec<String> = events.iter().map(|e| format!("{} {}", e.time, e.summary)).collect();
    let all = text.join("\n");

    let blocked = events
        .iter()
        .find(|e| e.summary.starts_with(&format!("pid {waiter_pid} waiting for ")))
        .unwrap_or_else(|| panic!("no waiting row for {waiter_pid}:\n{all}"));
    assert!(blocked.summary.contains(&format!("blocked by pid {holder_pid}")), "{}", blocked.summary);
    assert!(blocked.summary.contains("ShareLock on a transactionid"), "{}", blocked.summary);
    assert!(!all.contains("hunter2"), "literals are redacted:\n{all}");
    assert!(blocked.time >= since && blocked.time <= now(), "wait start inside the test: {}", blocked.time);
    assert_eq!(blocked.severity, Some(Severity::Warning));

    let idle_row = events
        .iter()
        .find(|e| e.summary.starts_with(&format!("pid {idle_pid} idle in transaction")))
        .unwrap_or_else(|| panic!("no idle-in-transaction row for {idle_pid}:\n{all}"));
    assert!(idle_row.summary.contains("transaction started"), "{}", idle_row.summary);
    assert!(idle_row.time >= since, "{}", idle_row.time);

    rt.block_on(async {
        holder.batch_execute("ROLLBACK").await.unwrap();
        idle.batch_execute("ROLLBACK").await.unwrap();
        let (_w, r) = waiting.await.unwrap();
        r.unwrap();
    });
}

fn server_log_events(path: PathBuf, since: Timestamp) -> Vec<Event> {
    let c =
        Box::new(ServerLog { display: path.display().to_string(), file: path, zone: Zone::Utc, keep_literals: false });
    let mut sink = VecSink::default();
    c.collect(&CollectContext { window: window(since), detail: Detail::All, anchor: None }, &mut sink).unwrap();
    sink.events
}

#[test]
fn a_deadlock_is_read_from_the_server_log_with_both_pids() {
    let _g = serial();
    let rt = rt();
    let app = env("RECONSTRUCT_TEST_PG_APP_DSN");
    let since = now();
    let (a_pid, b_pid) = rt.block_on(async {
        let setup = connect(&app).await;
        setup
            .batch_execute("DROP TABLE IF EXISTS dl; CREATE TABLE dl (id int primary key, v int); INSERT INTO dl VALUES (1, 0), (2, 0)")
            .await
            .unwrap();
        let a = connect(&app).await;
        let b = connect(&app).await;
        let (ap, bp) = (pid(&a).await, pid(&b).await);
        a.batch_execute("BEGIN; UPDATE dl SET v = 1 WHERE id = 1").await.unwrap();
        b.batch_execute("BEGIN; UPDATE dl SET v = 2 WHERE id = 2").await.unwrap();
        let a_task = tokio::spawn(async move {
            let r = a.batch_execute("UPDATE dl SET v = 1 WHERE id = 2").await;
            (a, r)
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let rb = b.batch_execute("UPDATE dl SET v = 2 WHERE id = 1").await;
        let (a, ra) = a_task.await.unwrap();
        assert!(ra.is_err() || rb.is_err(), "one of the two must be the deadlock victim");
        let _ = a.batch_execute("ROLLBACK").await;
        let _ = b.batch_execute("ROLLBACK").await;
        (ap, bp)
    });
    let until = now();
    std::thread::sleep(Duration::from_millis(500)); // the logging collector writes asynchronously
    let base = env("RECONSTRUCT_TEST_PG_LOG");
    for ext in ["log", "csv", "json"] {
        let events = server_log_events(PathBuf::from(format!("{base}.{ext}")), since);
        let all: Vec<String> = events.iter().map(|e| e.summary.clone()).collect();
        let d = events
            .iter()
            .find(|e| e.summary.contains("deadlock detected"))
            .unwrap_or_else(|| panic!("{ext}: no deadlock row in {all:#?}"));
        assert!(d.summary.contains(&format!("Process {a_pid}")), "{ext}: {}", d.summary);
        assert!(
            d.summary.contains(&format!("process {b_pid}")) || d.summary.contains(&format!("Process {b_pid}")),
            "{ext}: {}",
            d.summary
        );
        assert!(d.time >= since && d.time <= until, "{ext}: {} not in {since}..{until}", d.time);
        assert_eq!(d.severity, Some(Severity::Error));
        // log_lock_waits: the wait before the deadlock was logged too.
        assert!(events.iter().any(|e| e.summary.contains("still waiting for ShareLock")), "{ext}: {all:#?}");
        assert!(
            !d.evidence.excerpt.contains("SET v = 1 WHERE id = 2"),
            "statement literals redacted: {}",
            d.evidence.excerpt
        );
    }
}

#[test]
fn exhausted_connection_slots_show_in_the_sample_and_the_log() {
    let _g = serial();
    let rt = rt();
    let app = env("RECONSTRUCT_TEST_PG_APP_DSN");
    let since = now();
    let held = rt.block_on(async {
        let mut held = Vec::new();
        let mut refused = None;
        for _ in 0..20 {
            match tokio_postgres::connect(&app, NoTls).await {
                Ok((c, conn)) => {
                    tokio::spawn(conn);
                    held.push(c);
                }
                Err(e) => {
                    refused = Some(e.to_string());
                    break;
                }
            }
        }
        assert!(refused.is_some(), "max_connections was never reached");
        held
    });
    // The superuser still gets in through the reserved slots.
    let events = sample(&env("RECONSTRUCT_TEST_PG_DSN"), since).unwrap();
    let count = events.iter().find(|e| e.summary.contains("connections in use")).expect("a connection count row");
    assert!(count.summary.contains("(connection slots exhausted)"), "{}", count.summary);
    assert_eq!(count.severity, Some(Severity::Error));
    drop(held);
    std::thread::sleep(Duration::from_millis(500));
    let base = env("RECONSTRUCT_TEST_PG_LOG");
    let log = server_log_events(PathBuf::from(format!("{base}.log")), since);
    assert!(
        log.iter().any(|e| e.summary.contains("FATAL") && e.summary.contains("connection slots are reserved")),
        "{:#?}",
        log.iter().map(|e| &e.summary).collect::<Vec<_>>()
    );
}

#[test]
fn a_wrong_password_is_named_and_never_printed() {
    let _g = serial();
    let app = env("RECONSTRUCT_TEST_PG_APP_DSN");
    let wrong = app.replacen("reconstruct-test-pw", "Wr0ngSecret", 1);
    let err = sample(&wrong, now()).unwrap_err();
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("Wr0ngSecret"), "{err}");
    assert!(err.contains("app:***@127.0.0.1"), "{err}");
}

#[test]
fn a_server_that_is_down_is_a_clear_error() {
    let err = sample("postgres://app:pw@127.0.0.1:1/x", now()).unwrap_err();
    assert!(err.contains("cannot connect to PostgreSQL at postgres://app:***@127.0.0.1:1/x"), "{err}");
}

#[test]
fn tls_as_the_dsn_asks() {
    let _g = serial();
    let app = env("RECONSTRUCT_TEST_PG_APP_DSN");
    // require: encrypted, the self-made certificate not checked (libpq's meaning).
    let events = sample(&format!("{app}?sslmode=require"), now()).unwrap();
    assert!(events.iter().any(|e| e.summary.contains("connections in use")));
    // verify-full against the Web PKI: the test CA is unknown, and that is said.
    let err = sample(&format!("{app}?sslmode=verify-full"), now()).unwrap_err();
    assert!(err.contains("cannot connect to PostgreSQL") && err.to_lowercase().contains("certificate"), "{err}");
    assert!(!err.contains("reconstruct-test-pw"), "{err}");
    // verify-full with the CA: checked and accepted.
    let ca = env("RECONSTRUCT_TEST_PG_CA");
    let events = sample(&format!("{app}?sslmode=verify-full&sslrootcert={ca}"), now()).unwrap();
    assert!(events.iter().any(|e| e.summary.contains("connections in use")));
}
