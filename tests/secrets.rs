#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Planted secrets: a bundle whose every kind of saved evidence carries
//! credentials of the shapes engineers paste (logs, compose logs, the
//! journal, PostgreSQL's log and activity sample, commit bodies, Prometheus
//! and Alertmanager answers, annotations). None of them may reach any
//! output format, the report, or stderr; and the seed's rows stay readable.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `(line text with {}, the secret)`: each text is written with its secret in place of `{}`.
const SHAPES: &[(&str, &str)] = &[
    ("cache at redis://:{}@cache:6379/0 refused", "RedisPw9x2Q"),
    ("connecting to postgres://app:{}@db:5432/app failed", "PgPass7Hk2"),
    ("mongodb://root:{}@mongo:27017/app timed out", "M0ngoS3cr3tZ"),
    ("mysql://svc:{}@mysql/app unreachable", "MyS3cretQ8"),
    ("amqp://guest:{}@mq:5672/ closed", "Rabb1tPwQ4"),
    ("upstream sent Cookie: session={}; theme=dark", "CookieVal8812aa"),
    ("response Set-Cookie: sid={}; Path=/; HttpOnly", "SetCookie77zz1"),
    ("header X-Api-Key: {} rejected", "apikey0f9e8d7c6b5a"),
    ("Proxy-Authorization: Basic {} denied", "cHJveHlVc2VyOnB3MTIz"),
    ("Authorization: Bearer {} expired", "bearerTok3nXyZ987"),
    ("notify https://hooks.slack.com/services/T0001/B0002/{} failed", "SlackHookS3cret"),
    ("notify https://discord.com/api/webhooks/42/{} failed", "DiscordHookS3cret"),
    ("teams https://acme.webhook.office.com/webhookb2/x@y/IncomingWebhook/{} 500", "TeamsHookS3cret"),
    ("hook https://ci.example.com/hooks/{} 404", "GenericHookS3cret"),
    ("GET /dl?X-Amz-Signature={}&X-Amz-Date=1 403", "AmzSig9f8e7d6c5b4a"),
    ("GET /cb?access_token={}&state=1 401", "AccessTokVal55aa"),
    ("GET /file?sig={}&se=2025 403", "AzureSigVal77bb"),
    ("login failed password={} user=bob", "Hunter2Pass99"),
    ("config db_password: {} invalid", "DbPassYaml31"),
    ("{\"user\":\"bob\",\"password\":\"{}\"} rejected", "JsonPass4711"),
    ("client_secret={} invalid_client", "ClientSecretQ2w3"),
    ("api_key: '{}' revoked", "ApiKeyYaml0099"),
    ("session_token={} invalid", "SessTok88qq77"),
    ("private_key_id={} unknown", "PrivKeyId42zz"),
    ("aws key {} denied", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_access_key={} invalid", "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"),
    ("AccountKey={};EndpointSuffix=core.windows.net bad", "bXlBenVyZUtleTEyMzQ1Njc4OTA="),
    ("SharedAccessSignature={} expired", "sv2019sigAbCdEf123"),
    ("jwt {} rejected", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("push with {} denied", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("push with {} denied", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"),
    ("clone with {} denied", "glpat-abcdefghijklmnopqrst"),
    ("slack {} invalid_auth", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("charge with {} failed", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("mail with {} failed", "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"),
    ("publish with {} failed", "npm_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("upload with {} failed", "pypi-AgEIcHlwaS5vcmcCJGI4ZjQ0ZDI4LWVhYmQtNGYxMy04ZmQ3LWRkY2IxNzk4ZDk5NQACKlsz"),
    ("twilio {} invalid", "SK2a0747e1e4a0d4e7b7c5f3e1d9a8b6c4"),
    ("encryption_key={} rotated", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"),
    ("X-Goog-Signature={} bad", "GoogSigAbc123Def456"),
    // Vendor tokens of today's shapes.
    ("hub download with {} refused", "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"),
    ("org token {} revoked", "api_org_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"),
    ("llm call with {} 401", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvAA"),
    ("doctl auth with {} failed", "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
    ("oauth refresh {} expired", "dor_v1_fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"),
    ("shopify admin {} denied", "shpat_0123456789abcdef0123456789abcdef"),
    ("shopify webhook secret {} mismatch", "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"),
    // Credentials as command-line arguments.
    ("backup ran mysqldump -u root -p{} app", "MyDumpPw42"),
    ("cron: mysql -h db -u app -p{} -e 'select 1' failed", "MySqlCliPw7"),
    ("probe: curl -sf -u monitor:{} https://api/health", "CurlUserPw9"),
    ("deploy: curl --user ci:{} https://nexus/upload", "CurlLongPw3"),
    ("sync: sshpass -p {} rsync -a /srv web:/srv", "SshPassPw5"),
    ("ci: docker login --password {} registry.example.com", "DockerLoginPw1"),
    ("ci: docker login -u ci -p {} registry.example.com", "DockerShortPw2"),
    // The files that hold them.
    ("read ~/.docker/config.json {\"auths\":{\"registry.example.com\":{\"auth\":\"{}\"}}}", "Y2k6RG9ja2VyQXV0aFB3MQ=="),
    ("read .netrc: machine api.example.com login deploy password {}", "NetrcPassw0rd"),
    ("read .netrc: default login anonymous password {}", "NetrcDefault4"),
    ("claude admin {} rotated", "sk-ant-admin01-ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210_-ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210ZyXwVuTsRqPoNmLkJiHgAA"),
    ("backup: sshpass -e -p {} scp db.sql backup:/srv", "SshPassPw6"),
    ("podman auth {\"auths\":{\"quay.io\":{\"auth\":\"{}\"}}}", "cm9ib3Q6UG9kbWFuUHcy"),
    ("{\"credsStore\":\"\",\"auths\":{\"ghcr.io\":{\"identitytoken\":\"{}\"}}}", "IdTokGhcr7x9Q2w"),
];

fn fill(shape: &str, secret: &str) -> String {
    shape.replacen("{}", secret, 1)
}

fn secret_of(i: usize) -> (String, String) {
    let (shape, secret) = SHAPES[i % SHAPES.len()];
    // Each planting gets its own value, so each can be told apart: its last
    // two characters become digits, which every shape allows.
    let secret = if i < SHAPES.len() {
        secret.to_string()
    } else {
        let keep: String = secret.chars().take(secret.chars().count().saturating_sub(2)).collect();
        format!("{keep}{:02}", i % 100)
    };
    (fill(shape, &secret), secret)
}

fn ts(s: u32) -> String {
    format!("2025-12-26 14:{:02}:{:02}", 10 + s / 60, s % 60)
}

/// A bundle with 82 planted secrets; returns its folder and the secrets.
fn planted(dir: &Path) -> (PathBuf, Vec<String>) {
    let b = dir.join("bundle");
    for d in ["logs", "docker", "journal", "postgres", "git", "prometheus", "annotations"] {
        std::fs::create_dir_all(b.join(d)).unwrap();
    }
    let mut secrets = Vec::new();
    let mut next = 0usize;
    let mut take = |n: usize| -> Vec<String> {
        (0..n)
            .map(|_| {
                let (line, s) = secret_of(next);
                next += 1;
                secrets.push(s);
                line
            })
            .collect()
    };
    // An application log: errors, and one private key over continuation lines.
    let mut log = String::new();
    for (k, l) in take(30).iter().enumerate() {
        log.push_str(&format!("{},000 ERROR {l}\n", ts(k as u32)));
    }
    log.push_str(&format!("{},000 ERROR loaded key\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQPlantedKeyBody\n-----END OPENSSH PRIVATE KEY-----\n", ts(40)));
    // A data-loss error, which the report's severity quotes.
    for l in take(1) {
        log.push_str(&format!("{},000 ERROR data loss on replica: {l}\n", ts(41)));
    }
    std::fs::write(b.join("logs/app.log"), log).unwrap();
    // docker-compose logs.
    let mut compose = String::new();
    for (k, l) in take(10).iter().enumerate() {
        compose.push_str(&format!("api_1  | 2025-12-26T14:20:{:02}.000000000Z ERROR {l}\n", k));
    }
    std::fs::write(b.join("docker/compose-logs.txt"), compose).unwrap();
    // A journal export stream.
    let mut journal = Vec::new();
    for (k, l) in take(8).iter().enumerate() {
        let us = (1_766_759_400i64 + k as i64) * 1_000_000;
        let e = reconstruct_journal::export::Entry {
            line: 0,
            fields: vec![
                ("__REALTIME_TIMESTAMP".into(), us.to_string().into_bytes()),
                ("_HOSTNAME".into(), b"web01".to_vec()),
                ("SYSLOG_IDENTIFIER".into(), b"api".to_vec()),
                ("PRIORITY".into(), b"3".to_vec()),
                ("MESSAGE".into(), l.clone().into_bytes()),
            ],
        };
        reconstruct_journal::export::write_entry(&mut journal, &e).unwrap();
    }
    std::fs::write(b.join("journal/web01.export"), journal).unwrap();
    // PostgreSQL's server log (stderr format) and an activity sample.
    let mut pg = String::new();
    for (k, l) in take(8).iter().enumerate() {
        pg.push_str(&format!("2025-12-26 14:25:{:02}.000 UTC [{}] app@app ERROR:  {l}\n", k, 5000 + k));
    }
    std::fs::write(b.join("postgres/postgresql-15-main.log"), pg).unwrap();
    let mut csv = String::from(
        "sample_time,max_connections,reserved_connections,pid,backend_type,state,xact_start,query_start,query\n",
    );
    for (k, l) in take(4).iter().enumerate() {
        csv.push_str(&format!(
            "2025-12-26 14:30:58+00,100,3,{},client backend,idle in transaction,2025-12-26 14:20:00+00,2025-12-26 14:20:00+00,\"SELECT 1 /* {} */\"\n",
            6000 + k,
            l.replace('"', "'")
        ));
    }
    std::fs::write(b.join("postgres/pg_stat_activity.csv"), csv).unwrap();
    // Commit messages.
    let mut git = String::new();
    for (k, l) in take(8).iter().enumerate() {
        git.push_str(&format!(
            "commit {:040x}\nAuthor:     Dev <dev@example.com>\nAuthorDate: 2025-12-26T14:3{k}:00+00:00\nCommit:     Dev <dev@example.com>\nCommitDate: 2025-12-26T14:3{k}:00+00:00\n\n    fix: rotate credentials {k}\n\n    {l}\n\nsrc/x.py\n\n",
            0xabc000 + k
        ));
    }
    std::fs::write(b.join("git/app.log"), git).unwrap();
    // Prometheus rules and ALERTS, an annotation that carries a secret; Alertmanager alerts.
    let prom_lines = take(4);
    let rules = serde_json::json!({"status":"success","data":{"groups":[{"name":"g","interval":15,"rules":prom_lines.iter().enumerate().map(|(k, l)| serde_json::json!({
        "name": format!("Leaky{k}"), "query": "up == 0", "duration": 0, "labels": {"severity": "critical"},
        "annotations": {"summary": l}, "type": "alerting"})).collect::<Vec<_>>()}]}});
    std::fs::write(b.join("prometheus/rules.json"), rules.to_string()).unwrap();
    let series: Vec<serde_json::Value> = (0..prom_lines.len())
        .map(|k| serde_json::json!({"metric": {"__name__":"ALERTS","alertname": format!("Leaky{k}"),"alertstate":"firing","severity":"critical"},
            "values": [[1_766_759_700.0 + k as f64 * 60.0, "1"]]}))
        .collect();
    std::fs::write(
        b.join("prometheus/alerts-history.json"),
        serde_json::json!({"status":"success","data":{"resultType":"matrix","result":series}}).to_string(),
    )
    .unwrap();
    let am_lines = take(4);
    let alerts: Vec<serde_json::Value> = am_lines
        .iter()
        .enumerate()
        .map(|(k, l)| serde_json::json!({"labels":{"alertname": format!("Am{k}"), "detail": l},"startsAt":"2025-12-26T14:40:00Z","fingerprint": format!("f{k}"),
            "status":{"state":"suppressed","silencedBy":[],"inhibitedBy":["x"]}}))
        .collect();
    std::fs::write(b.join("prometheus/alertmanager-alerts.json"), serde_json::Value::Array(alerts).to_string())
        .unwrap();
    // Rows people added.
    let mut notes = String::from("| Time (UTC) | Event | Component | Evidence |\n|---|---|---|---|\n");
    for (k, l) in take(6).iter().enumerate() {
        notes.push_str(&format!("| 14:5{k}:00 | noted {} | ops | - |\n", l.replace('|', "/")));
    }
    std::fs::write(b.join("annotations/notes.md"), notes).unwrap();
    (b, secrets)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reconstruct")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

#[test]
fn no_planted_secret_reaches_any_output() {
    let d = tempfile::tempdir().unwrap();
    let (bundle, secrets) = planted(d.path());
    assert!(secrets.len() >= 80, "{}", secrets.len());
    let b = bundle.to_str().unwrap();
    let window = ["--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];
    let mut outputs = Vec::new();
    for format in ["md", "json", "jsonl", "csv", "timesketch", "timesketch-csv", "html"] {
        for all in [false, true] {
            let mut args = vec!["--fixtures", b, "--format", format, "-v"];
            args.extend(window);
            if all {
                args.push("--all");
            }
            outputs.push((format!("{format} all={all}"), run(&args)));
        }
    }
    for format in ["md", "html", "json"] {
        let mut args = vec!["report", "--fixtures", b, "--format", format, "-v"];
        args.extend(window);
        outputs.push((format!("report {format}"), run(&args)));
    }
    let mut rows_seen = 0;
    for (what, o) in &outputs {
        let out = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(matches!(o.status.code(), Some(0) | Some(3)), "{what}: {err}");
        assert!(out.len() > 500, "{what}: something was written");
        for s in &secrets {
            assert!(!out.contains(s.as_str()), "{what}: secret {s:?} reached stdout");
            assert!(!err.contains(s.as_str()), "{what}: secret {s:?} reached stderr");
        }
        assert!(!out.contains("PlantedKeyBody"), "{what}: private key body");
        rows_seen += out.matches("***").count() + out.matches("[REDACTED]").count();
    }
    assert!(rows_seen > 0, "the masked values are marked where they were");
    // With --no-redact they are there: the test plants what it thinks it plants.
    let mut args = vec!["--fixtures", b, "--all", "--format", "jsonl", "--no-redact"];
    args.extend(window);
    let raw = String::from_utf8_lossy(&run(&args).stdout).into_owned();
    let present = secrets.iter().filter(|s| raw.contains(s.as_str())).count();
    assert!(present * 10 >= secrets.len() * 9, "{present} of {} planted secrets are in the raw output", secrets.len());
}

#[test]
fn the_seed_stays_readable_with_redaction_on() {
    let window = ["--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];
    let mut on = vec!["--fixtures", "fixtures/inc-20251226-001", "--format", "json"];
    on.extend(window);
    let mut off = on.clone();
    off.push("--no-redact");
    let a: serde_json::Value = serde_json::from_slice(&run(&on).stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&run(&off).stdout).unwrap();
    // The same rows, and the same text but for SQL literals (which --no-redact keeps).
    let rows = |v: &serde_json::Value| -> Vec<(String, String)> {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let text = e["event"].as_str().unwrap();
                // SQL from PostgreSQL has its literals as $n unless --no-redact: compare up to its clauses.
                let cut = [" WHERE ", " SET "].iter().filter_map(|k| text.find(k)).min().unwrap_or(text.len());
                (e["time"].to_string(), text[..cut].to_string())
            })
            .collect()
    };
    assert_eq!(rows(&a), rows(&b), "request ids, hashes, durations and queries read the same");
    assert_eq!(a["summary"]["masked"], 0, "nothing in the seed is a secret");
}

#[test]
fn a_hostile_bundle_is_refused_or_bounded() {
    let d = tempfile::tempdir().unwrap();
    let b = d.path().join("bundle");
    std::fs::create_dir_all(b.join("logs")).unwrap();
    std::fs::write(b.join("logs/app.log"), "2025-12-26 14:30:00,000 ERROR fine\n").unwrap();
    let window = ["--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z"];
    let bs = b.to_str().unwrap();
    let with_args = |extra: &[&str]| {
        let mut a = vec!["--fixtures", bs];
        a.extend(window);
        a.extend_from_slice(extra);
        run(&a)
    };
    // Manifest entries that leave the bundle.
    for path in ["../../etc/passwd", "/etc/passwd", "logs/../../outside.log"] {
        std::fs::write(b.join("manifest.json"), format!(r#"{{"files":[{{"path":"{path}","kind":"log"}}]}}"#)).unwrap();
        let o = with_args(&[]);
        assert_eq!(o.status.code(), Some(1), "{path}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("outside the bundle; refused"), "{path}: {err}");
    }
    // A link that leads out of the bundle, named in the manifest, and one found by the layout.
    std::os::unix::fs::symlink("/etc/passwd", b.join("logs/passwd.log")).unwrap();
    std::fs::write(b.join("manifest.json"), r#"{"files":[{"path":"logs/passwd.log","kind":"log"}]}"#).unwrap();
    let o = with_args(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("outside the bundle; refused"));
    std::fs::remove_file(b.join("manifest.json")).unwrap();
    // A FIFO nobody writes: not read, so the run ends.
    let fifo = b.join("logs/stuck.log");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let o = with_args(&["--timeout", "5"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("ERROR fine"), "{out}");
    assert!(!out.contains("root:"), "the link's target is never read");
    assert!(err.contains("logs/passwd.log is not read: it is a link"), "{err}");
    assert!(err.contains("logs/stuck.log is not read: it is a link or a special file"), "{err}");
}

#[test]
fn a_redacted_capture_holds_no_secret_and_keeps_its_lines() {
    let d = tempfile::tempdir().unwrap();
    let mut log = String::new();
    let mut secrets = Vec::new();
    for k in 0..SHAPES.len() {
        let (line, s) = secret_of(k);
        log.push_str(&format!("{},000 ERROR {line}\n", ts(k as u32)));
        secrets.push(s);
    }
    log.push_str(&format!("{},000 ERROR key\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAPlantedKeyBody\n-----END RSA PRIVATE KEY-----\n", ts(59)));
    log.push_str(&format!("{},000 ERROR last line\n", ts(61)));
    let plain = d.path().join("app.log");
    std::fs::write(&plain, &log).unwrap();
    // The same log compressed, as a rotated piece.
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, log.as_bytes()).unwrap();
    std::fs::write(logs.join("svc.log.1.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(logs.join("svc.log"), "2025-12-26 14:59:00,000 ERROR newest\n").unwrap();
    let bundle = d.path().join("bundle");
    let window = ["--since", "2025-12-26T14:00:00Z", "--until", "2025-12-26T15:00:00Z", "--no-git"];
    let mut args = vec!["capture", "--redact", "--out", bundle.to_str().unwrap(), "--log", plain.to_str().unwrap()];
    args.extend(["--log", logs.to_str().unwrap()]);
    args.extend(window);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // No secret in any saved file; the manifest says they were masked.
    let mut saved = Vec::new();
    for e in walk(&bundle) {
        saved.push(std::fs::read(&e).unwrap());
    }
    let all: Vec<u8> = saved.concat();
    let all = String::from_utf8_lossy(&all);
    for s in &secrets {
        assert!(!all.contains(s.as_str()), "{s} saved");
    }
    assert!(!all.contains("PlantedKeyBody"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["redacted"], true);
    // Line for line: the evidence still points at the same lines.
    let copy = std::fs::read_to_string(bundle.join("logs/app.log")).unwrap();
    assert_eq!(copy.lines().count(), log.lines().count());
    assert_eq!(copy.lines().last(), log.lines().last());
    // The compressed piece was written decompressed and masked, and the set still reads as one.
    assert!(bundle.join("logs/svc.log.1").is_file());
    let mut back = vec!["--fixtures", bundle.to_str().unwrap(), "--all", "--format", "jsonl"];
    back.extend(&window[..4]);
    let o = run(&back);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let last = format!("\"evidence\":\"logs/app.log:{}\"", log.lines().count());
    assert!(text.contains(&last) && text.contains("ERROR last line"), "the last line keeps its number");
    assert!(text.contains("ERROR newest"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
