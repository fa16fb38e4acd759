//! The PostgreSQL server log, which remembers what pg_stat_activity has
//! forgotten: stderr format (any `log_line_prefix`), csvlog and jsonlog,
//! read into one record shape and classified into timeline rows.

use std::io::Read;

use reconstruct_core::event::{Severity, TimeBasis, Timestamp};
use reconstruct_core::lines::LineReader;
use reconstruct_core::text::strip_ansi;
use reconstruct_core::timestamp::{parse_epoch, parse_iso};
use reconstruct_core::EventKind;
use reconstruct_core::Zone;

/// One server message with the lines that belong to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub time: Option<Timestamp>,
    pub basis: Option<TimeBasis>,
    /// Line (stderr/jsonlog) or record start line (csvlog) in the file.
    pub line: u64,
    pub pid: Option<String>,
    pub user: Option<String>,
    pub db: Option<String>,
    pub app: Option<String>,
    /// `LOG`, `ERROR`, `FATAL`, `PANIC`, `WARNING` …
    pub severity: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    pub context: Option<String>,
    pub statement: Option<String>,
    /// Continuation lines after the first.
    pub extra_lines: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Stderr,
    Csv,
    Json,
}

const SEVERITIES: [&str; 16] = [
    "LOG",
    "ERROR",
    "FATAL",
    "PANIC",
    "WARNING",
    "NOTICE",
    "INFO",
    "DEBUG",
    "DEBUG1",
    "DEBUG2",
    "DEBUG3",
    "DEBUG4",
    "DEBUG5",
    "STATEMENT",
    "DETAIL",
    "HINT",
];
const ATTACHED: [&str; 5] = ["DETAIL", "HINT", "CONTEXT", "STATEMENT", "QUERY"];

/// Guesses the format from the first non-empty line.
pub fn detect(first_line: &[u8]) -> Format {
    let t = first_line.trim_ascii_start();
    if t.first() == Some(&b'{') {
        return Format::Json;
    }
    // csvlog: the first field is the timestamp, followed by a comma.
    if let Some(p) = parse_iso(t, &Zone::Utc) {
        if t.get(p.len) == Some(&b',') {
            return Format::Csv;
        }
    }
    Format::Stderr
}

/// True when the head of a text file reads as a PostgreSQL stderr-format
/// server log: most of its first lines carry `LOG:  `, `ERROR:  ` and the
/// like after a timestamp. So a PostgreSQL log found under `--log` is read by
/// the same reader as under `--postgres-log`, and gives the same rows.
pub fn looks_like_stderr_log(head: &[u8]) -> bool {
    let lines: Vec<&[u8]> = head.split(|c| *c == b'\n').filter(|l| !l.trim_ascii().is_empty()).take(20).collect();
    // The last piece may be cut mid-line.
    let whole = lines.len().saturating_sub(usize::from(!head.ends_with(b"\n")));
    let sample = lines.get(..whole).unwrap_or_default();
    if sample.len() < 2 {
        return false;
    }
    let hits = sample
        .iter()
        .filter(|l| parse_iso(l, &Zone::Utc).is_some() && find_severity(&String::from_utf8_lossy(l)).is_some())
        .count();
    hits.saturating_mul(2) > sample.len()
}

/// Where the severity word of a stderr-format line starts and ends:
/// `… ERROR:  message` (PostgreSQL writes two spaces after the colon).
fn find_severity(line: &str) -> Option<(usize, usize, &str)> {
    let mut from = 0;
    while let Some(rel) = line.get(from..)?.find(":  ") {
        let colon = from + rel;
        let head = line.get(..colon)?;
        let word_start = head.rfind(|c: char| !c.is_ascii_alphanumeric()).map_or(0, |p| p + 1);
        let word = head.get(word_start..)?;
        if SEVERITIES.contains(&word) || ATTACHED.contains(&word) || word == "CONTEXT" || word == "LOCATION" {
            return Some((word_start, colon + 3, word));
        }
        from = colon + 1;
    }
    None
}

/// Reads pid, user and database from whatever `log_line_prefix` wrote.
fn read_prefix(prefix: &str, r: &mut Record) {
    let p = prefix.trim();
    // `[4711]` or `[4711-1]` (%p, %p-%l), else a bare number token.
    if let Some(open) = p.find('[') {
        if let Some(close) = p.get(open..).and_then(|s| s.find(']')) {
            let inner = p.get(open + 1..open + close).unwrap_or_default();
            let pid: String = inner.chars().take_while(char::is_ascii_digit).collect();
            if !pid.is_empty() {
                r.pid = Some(pid);
            }
        }
    }
    for tok in p.split([' ', ':', ',']) {
        let tok = tok.trim_matches(|c: char| c == '[' || c == ']');
        if r.pid.is_none() && !tok.is_empty() && tok.chars().all(|c| c.is_ascii_digit()) && tok.len() < 8 {
            r.pid = Some(tok.to_string());
        }
        if let Some((u, d)) = tok.split_once('@') {
            if !u.is_empty() && !d.is_empty() && !u.contains('[') {
                r.user = Some(u.to_string());
                r.db = Some(d.to_string());
            }
        }
        if let Some(app) = tok.strip_prefix("app=") {
            r.app = Some(app.to_string()).filter(|a| !a.is_empty() && a != "[unknown]");
        }
        if let Some(db) = tok.strip_prefix("db=") {
            r.db = Some(db.to_string()).filter(|a| !a.is_empty() && a != "[unknown]");
        }
        if let Some(u) = tok.strip_prefix("user=") {
            r.user = Some(u.to_string()).filter(|a| !a.is_empty() && a != "[unknown]");
        }
    }
}

fn attach(r: &mut Record, kind: &str, text: String) {
    let slot = match kind {
        "DETAIL" => &mut r.detail,
        "HINT" => &mut r.hint,
        "CONTEXT" => &mut r.context,
        _ => &mut r.statement,
    };
    match slot {
        Some(s) => {
            s.push('\n');
            s.push_str(&text);
        }
        None => *slot = Some(text),
    }
}

/// Streams records of a stderr-format log to `f`; returns lines that could
/// not be read (line number, reason).
pub fn read_stderr<R: Read>(input: R, zone: &Zone, mut f: impl FnMut(Record)) -> std::io::Result<Vec<(u64, String)>> {
    let mut rd = LineReader::new(input, 1 << 20);
    let mut pending: Option<Record> = None;
    let mut last_field = String::from("message");
    let mut problems = Vec::new();
    while let Some(l) = rd.next_line()? {
        let bytes = strip_ansi(l.bytes);
        let text = String::from_utf8_lossy(&bytes);
        let stamp = parse_iso(&bytes, zone).or_else(|| parse_epoch(&bytes));
        let sev = stamp.and_then(|_| find_severity(&text));
        match (stamp, sev) {
            (Some(s), Some((ws, me, word))) => {
                let message = text.get(me..).unwrap_or_default().to_string();
                let mut head = Record::default();
                read_prefix(text.get(s.len..ws).unwrap_or_default(), &mut head);
                let same_process = pending.as_ref().is_some_and(|p| p.pid == head.pid);
                if ATTACHED.contains(&word) || word == "LOCATION" {
                    if let (Some(p), true) = (pending.as_mut(), same_process) {
                        if word != "LOCATION" {
                            attach(p, word, message);
                            last_field = word.to_string();
                        }
                        p.extra_lines += 1;
                        continue;
                    }
                }
                if let Some(p) = pending.take() {
                    f(p);
                }
                head.time = Some(s.time);
                head.basis = Some(s.basis);
                head.line = l.number;
                head.severity = word.to_string();
                head.message = message;
                last_field = "message".into();
                pending = Some(head);
            }
            _ => match pending.as_mut() {
                Some(p) => {
                    p.extra_lines += 1;
                    let cont = text.strip_prefix('\t').unwrap_or(&text).to_string();
                    match last_field.as_str() {
                        "message" => {
                            p.message.push('\n');
                            p.message.push_str(&cont);
                        }
                        k => attach(p, k, cont),
                    }
                }
                None => {
                    if !text.trim().is_empty() {
                        problems.push((l.number, "line before the first dated server message".to_string()));
                    }
                }
            },
        }
    }
    if let Some(p) = pending.take() {
        f(p);
    }
    Ok(problems)
}

fn opt(s: &[u8]) -> Option<String> {
    (!s.is_empty()).then(|| String::from_utf8_lossy(s).into_owned())
}

/// Streams the records of a csvlog file (26 columns in PostgreSQL 15; 23
/// or 24 in older versions: missing trailing columns are left empty).
pub fn read_csv<R: Read>(input: R, mut f: impl FnMut(Record)) -> std::io::Result<Vec<(u64, String)>> {
    let mut rd = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    let mut problems = Vec::new();
    let mut rec = csv::ByteRecord::new();
    loop {
        let line = rd.position().line();
        match rd.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                problems.push((line, format!("unreadable csvlog record: {e}")));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let col = |i: usize| rec.get(i).unwrap_or_default();
        let Some(stamp) = parse_iso(col(0), &Zone::Utc) else {
            problems.push((line, "csvlog record without a readable log_time".to_string()));
            continue;
        };
        f(Record {
            time: Some(stamp.time),
            basis: Some(stamp.basis),
            line,
            user: opt(col(1)),
            db: opt(col(2)),
            pid: opt(col(3)),
            severity: String::from_utf8_lossy(col(11)).into_owned(),
            message: String::from_utf8_lossy(col(13)).into_owned(),
            detail: opt(col(14)),
            hint: opt(col(15)),
            context: opt(col(18)),
            statement: opt(col(19)),
            app: opt(col(22)),
            extra_lines: 0,
        });
    }
    Ok(problems)
}

/// Streams the records of a jsonlog file (PostgreSQL 15+). Its timestamps
/// read `2025-12-26 14:31:05.123 UTC`, not RFC 3339.
pub fn read_json<R: Read>(input: R, mut f: impl FnMut(Record)) -> std::io::Result<Vec<(u64, String)>> {
    let mut rd = LineReader::new(input, 1 << 20);
    let mut problems = Vec::new();
    while let Some(l) = rd.next_line()? {
        if l.bytes.trim_ascii().is_empty() {
            continue;
        }
        let v: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(l.bytes) {
            Ok(v) => v,
            Err(e) => {
                problems.push((l.number, format!("not a JSON object: {e}")));
                continue;
            }
        };
        let s = |k: &str| match v.get(k) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let Some(stamp) = s("timestamp").and_then(|t| parse_iso(t.as_bytes(), &Zone::Utc)) else {
            problems.push((l.number, "jsonlog line without a readable timestamp".to_string()));
            continue;
        };
        f(Record {
            time: Some(stamp.time),
            basis: Some(stamp.basis),
            line: l.number,
            pid: s("pid"),
            user: s("user"),
            db: s("dbname"),
            app: s("application_name"),
            severity: s("error_severity").unwrap_or_default(),
            message: s("message").unwrap_or_default(),
            detail: s("detail"),
            hint: s("hint"),
            context: s("context"),
            statement: s("statement"),
            extra_lines: 0,
        });
    }
    Ok(problems)
}

/// What a record means for the timeline: its severity, whether it is a
/// change of the server's state, and whether it is routine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meaning {
    pub severity: Severity,
    pub state_change: bool,
    pub routine: bool,
}

const STATE: [&str; 12] = [
    "database system is ready to accept connections",
    "database system is shut down",
    "received fast shutdown request",
    "received smart shutdown request",
    "received immediate shutdown request",
    "starting PostgreSQL",
    "database system was interrupted",
    "database system was not properly shut down",
    "redo starts at",
    "redo done at",
    "terminating any other active server processes",
    "all server processes terminated; reinitializing",
];

/// A checkpoint longer than this is worth a row.
const SLOW_CHECKPOINT_SECS: f64 = 30.0;

pub fn meaning(r: &Record) -> Meaning {
    let (severity, state_change, fact) = weigh(r);
    // A database fact (a wait, a vacuum) is weighed as one; a plain message,
    // a checkpoint, as the log line it is. The rule is core's, as for every source.
    let kind = if state_change {
        EventKind::StateChange
    } else if fact {
        EventKind::Database
    } else {
        EventKind::Log
    };
    Meaning { severity, state_change, routine: !reconstruct_core::notable::of(kind, Some(severity)) }
}

/// A message's severity, whether it changes the server's state, and whether
/// it is a database fact rather than a plain message.
fn weigh(r: &Record) -> (Severity, bool, bool) {
    let m = r.message.as_str();
    let base = match r.severity.as_str() {
        "PANIC" => Severity::Critical,
        "FATAL" | "ERROR" => Severity::Error,
        "WARNING" => Severity::Warning,
        "NOTICE" => Severity::Notice,
        s if s.starts_with("DEBUG") => Severity::Debug,
        _ => Severity::Info,
    };
    let crash = m.contains("was terminated by signal") || m.contains("terminating any other active server processes");
    if crash {
        return (Severity::Critical, true, false);
    }
    if STATE.iter().any(|s| m.starts_with(s)) {
        let sev = if m.starts_with("database system was") || m.starts_with("redo") {
            Severity::Warning
        } else {
            Severity::Notice
        };
        return (sev.max(base), true, false);
    }
    if m.contains("still waiting for")
        || m.contains("too many clients")
        || m.contains("remaining connection slots are reserved")
    {
        return (base.max(Severity::Warning), false, true);
    }
    if m.contains(" acquired ") && m.contains(" after ") {
        return (Severity::Notice, false, true);
    }
    if let Some(total) = m.strip_prefix("checkpoint complete:").and_then(|rest| {
        let t = rest.split("total=").nth(1)?;
        t.split_whitespace().next()?.parse::<f64>().ok()
    }) {
        let slow = total >= SLOW_CHECKPOINT_SECS;
        return (if slow { Severity::Warning } else { Severity::Info }, false, false);
    }
    if m.starts_with("automatic vacuum of table") || m.starts_with("automatic aggressive vacuum") {
        return (Severity::Notice, false, true);
    }
    (base, false, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_log_is_told_from_other_logs() {
        let pg = b"2025-12-26 14:30:42.100 UTC [4711] app@scheduling FATAL:  remaining connection slots are reserved\n\
                   2025-12-26 14:30:43.100 UTC [4712] LOG:  checkpoint starting: time\n";
        assert!(looks_like_stderr_log(pg));
        assert!(!looks_like_stderr_log(b"2025-12-26 14:30:42 ERROR app failed\n2025-12-26 14:30:43 INFO ok\n"));
        assert!(!looks_like_stderr_log(b""));
    }

    fn stderr(text: &str) -> Vec<Record> {
        let mut v = Vec::new();
        let problems = read_stderr(text.as_bytes(), &Zone::Utc, |r| v.push(r)).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        v
    }

    #[test]
    fn debian_prefix_with_attached_lines() {
        let log = "2025-12-26 14:31:05.123 UTC [4711] app@scheduling ERROR:  deadlock detected
2025-12-26 14:31:05.123 UTC [4711] app@scheduling DETAIL:  Process 4711 waits for ShareLock on transaction 918273; blocked by process 4712.
\tProcess 4712 waits for ShareLock on transaction 918272; blocked by process 4711.
\tProcess 4711: UPDATE assignments SET note = 'a' WHERE id = 1
2025-12-26 14:31:05.123 UTC [4711] app@scheduling HINT:  See server log for query details.
2025-12-26 14:31:05.123 UTC [4711] app@scheduling STATEMENT:  UPDATE assignments
\t   SET note = 'a'
\t WHERE id = 1
2025-12-26 14:31:06.000 UTC [22] LOG:  checkpoint starting: time
";
        let v = stderr(log);
        assert_eq!(v.len(), 2);
        let d = &v[0];
        assert_eq!(
            (d.pid.as_deref(), d.user.as_deref(), d.db.as_deref()),
            (Some("4711"), Some("app"), Some("scheduling"))
        );
        assert_eq!(d.severity, "ERROR");
        assert_eq!(d.message, "deadlock detected");
        assert!(d.detail.as_deref().unwrap().contains("Process 4712 waits for ShareLock"));
        assert_eq!(d.statement.as_deref(), Some("UPDATE assignments\n   SET note = 'a'\n WHERE id = 1"));
        assert_eq!(d.extra_lines, 7);
        assert_eq!(v[1].line, 9);
        assert_eq!(meaning(d).severity, Severity::Error);
    }

    #[test]
    fn another_prefix() {
        // log_line_prefix = '%t:%r:%u@%d:[%p]: '
        let log = "2025-12-26 14:30:42 UTC:10.0.3.9(51234):app@scheduling:[5120]: FATAL:  remaining connection slots are reserved for non-replication superuser connections\n";
        let v = stderr(log);
        assert_eq!(v[0].pid.as_deref(), Some("5120"));
        assert_eq!(v[0].db.as_deref(), Some("scheduling"));
        assert_eq!(meaning(&v[0]).severity, Severity::Error);
        // log_line_prefix = '%m pid=%p db=%d app=%a '
        let v = stderr("2025-12-26 14:30:42.5 UTC pid=77 db=app app=backend LOG:  process 77 still waiting for ShareLock on transaction 5 after 1000.065 ms\n");
        assert_eq!(v[0].app.as_deref(), Some("backend"));
        assert_eq!(v[0].db.as_deref(), Some("app"));
        assert_eq!(meaning(&v[0]).severity, Severity::Warning);
    }

    #[test]
    fn csvlog_and_jsonlog() {
        let csv = "2025-12-26 14:31:05.123 UTC,\"app\",\"scheduling\",4711,\"10.0.3.7:5000\",6767d0a1.1267,3,\"UPDATE\",2025-12-26 14:20:00 UTC,3/17,918273,ERROR,40P01,\"deadlock detected\",\"Process 4711 waits for ShareLock on transaction 918273; blocked by process 4712.
Process 4712 waits for ShareLock on transaction 918272; blocked by process 4711.\",\"See server log for query details.\",,,\"while updating tuple (0,1) in relation \"\"assignments\"\"\",\"UPDATE assignments SET note = 'a'
 WHERE id = 1\",,,\"backend\",\"client backend\",,0
2025-12-26 14:31:06.000 UTC,,,22,,6767d0a1.16,1,,2025-12-26 14:00:00 UTC,,0,LOG,00000,\"checkpoint starting: time\",,,,,,,,,\"\",\"checkpointer\",,0
";
        assert_eq!(detect(csv.as_bytes()), Format::Csv);
        let mut v = Vec::new();
        let problems = read_csv(csv.as_bytes(), |r| v.push(r)).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].message, "deadlock detected");
        assert!(v[0].detail.as_deref().unwrap().contains("Process 4712"));
        assert_eq!(v[0].statement.as_deref(), Some("UPDATE assignments SET note = 'a'\n WHERE id = 1"));
        assert_eq!(v[0].app.as_deref(), Some("backend"));
        assert_eq!(v[1].line, 4);

        let json = r#"{"timestamp":"2025-12-26 14:31:05.123 UTC","user":"app","dbname":"scheduling","pid":4711,"error_severity":"ERROR","state_code":"40P01","message":"deadlock detected","detail":"Process 4711 waits","statement":"UPDATE t SET a = 1","application_name":"backend","backend_type":"client backend"}
not json
"#;
        assert_eq!(detect(json.as_bytes()), Format::Json);
        let mut v = Vec::new();
        let problems = read_json(json.as_bytes(), |r| v.push(r)).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].pid.as_deref(), Some("4711"));
        assert_eq!(v[0].time.unwrap().rfc3339(), "2025-12-26T14:31:05.123Z");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, 2);
    }

    #[test]
    fn meanings() {
        let r = |sev: &str, m: &str| Record { severity: sev.into(), message: m.into(), ..Record::default() };
        assert!(meaning(&r("LOG", "database system is ready to accept connections")).state_change);
        assert!(meaning(&r("LOG", "connection authorized: user=app")).routine);
        assert_eq!(
            meaning(&r("LOG", "server process (PID 9) was terminated by signal 9: Killed")).severity,
            Severity::Critical
        );
        assert!(!meaning(&r("LOG", "checkpoint complete: wrote 3 buffers; total=45.1 s; sync=1 s")).routine);
        assert!(meaning(&r("LOG", "checkpoint complete: wrote 3 buffers; total=0.1 s")).routine);
        assert_eq!(meaning(&r("FATAL", "sorry, too many clients already")).severity, Severity::Error);
    }
}
