//! The timestamp layouts read without configuration, declared as data: a
//! name, a pattern (see `pattern`) and sample lines with the UTC time each
//! must read as. The samples are this table's tests, so adding a layout is
//! adding a row. Where in a line the pattern stands is learned per file (see
//! `layout::learn`), so a row describes only the timestamp itself.
//!
//! Samples are read in UTC with the window 2025-12-26 14:00–15:00 UTC, so
//! layouts without a year take 2025 and times of day alone take Dec 26.

use std::sync::LazyLock;

use reconstruct_core::event::Severity;

use crate::pattern::Pattern;

/// Where a layout states the line's severity, besides the level words the
/// message may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Level words in the message (`ERROR`, `[warn]`, `level=error`).
    Words,
    /// The letter the timestamp carries (glog `E1226 …`).
    Letter,
    /// A letter standing alone as the n-th blank-separated field after the
    /// timestamp (logcat `… 1702  2395 E Tag: …`); the next field, without
    /// its colon, names the component.
    LetterField(u8),
    /// Redis's mark after the time: `.` debug, `-` verbose, `*` notice, `#` warning.
    RedisMark,
}

/// How a date written with numbers only orders day and month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateOrder {
    DayFirst,
    MonthFirst,
}

pub struct Family {
    pub name: &'static str,
    pub pattern: &'static str,
    pub level: Level,
    /// The pattern also matches text that is not a time (six-digit pairs,
    /// bare times of day, ten-digit ids): it is chosen only where it reads
    /// at least half of the sample, and never tried on a stray line.
    pub weak: bool,
    pub order: Option<DateOrder>,
    /// `(line, the UTC time it reads as)`.
    pub samples: &'static [(&'static str, &'static str)],
}

const fn row(name: &'static str, pattern: &'static str, samples: &'static [(&'static str, &'static str)]) -> Family {
    Family { name, pattern, level: Level::Words, weak: false, order: None, samples }
}

const fn weak(mut f: Family) -> Family {
    f.weak = true;
    f
}

const fn level(mut f: Family, level: Level) -> Family {
    f.level = level;
    f
}

const fn order(mut f: Family, o: DateOrder) -> Family {
    f.order = Some(o);
    f
}

/// In order of preference where two read the same lines equally well.
pub const TABLE: &[Family] = &[
    row(
        "ISO 8601",
        "%Y-%m-%dT%H:%M:%S%f%z",
        &[
            ("2025-12-26T14:30:15Z ERROR boom", "2025-12-26T14:30:15Z"),
            ("2025-12-26T14:30:15.123+0000 offset without colon", "2025-12-26T14:30:15.123Z"),
            ("2025-12-26T16:30:15.5+02:00 with colon", "2025-12-26T14:30:15.500Z"),
            ("2025-12-26T14:30:15 CEST zone word", "2025-12-26T14:30:15Z"),
        ],
    ),
    // Before the plain form, which would read the same lines without their
    // milliseconds.
    row(
        "ISO 8601 with colon milliseconds (log4cpp, VMware)",
        "%Y-%m-%d %H:%M:%S:%N",
        &[("[2025-12-26 14:30:15:259 'ConfigurationMgr' 1397 INFO] manager created", "2025-12-26T14:30:15.259Z")],
    ),
    row(
        "ISO 8601 with a space",
        "%Y-%m-%d %H:%M:%S%f%z",
        &[
            ("2025-12-26 14:30:15,123 INFO [main] started", "2025-12-26T14:30:15.123Z"),
            ("2025-12-26 14:31:05.123 UTC [4711] LOG:  checkpoint", "2025-12-26T14:31:05.123Z"),
            ("2016-09-28 04:30:30, Info  CBS  Loaded Servicing Stack", "2016-09-28T04:30:30Z"),
            ("2025-12-26 09:30:15 -0500 x", "2025-12-26T14:30:15Z"),
        ],
    ),
    row(
        "slashed date (Go, nginx)",
        "%Y/%m/%d %H:%M:%S%f%z",
        &[
            ("2025/12/26 14:30:15.123456 main.go:42: listening", "2025-12-26T14:30:15.123456Z"),
            ("2025/12/26 14:30:15 [error] 7#7: *1 connect() failed", "2025-12-26T14:30:15Z"),
        ],
    ),
    row(
        "dotted ISO (DB2, BlueGene)",
        "%Y-%m-%d-%H.%M.%S%f",
        &[("2025-12-26-14.30.15.675872 R02 RAS KERNEL INFO", "2025-12-26T14:30:15.675872Z")],
    ),
    row("ordinal date", "%Y-%jT%H:%M:%S%f%z", &[("2025-360T14:30:15.5Z batch 7 done", "2025-12-26T14:30:15.500Z")]),
    row("compact ISO 8601", "%Y%m%dT%H%M%S%f%z", &[("20251226T143015Z job done", "2025-12-26T14:30:15Z")]),
    row(
        "date-dash-time with milliseconds (HealthApp)",
        "%Y%m%d-%-H:%-M:%-S:%N",
        &[
            ("20251226-14:30:15:606|Step_LSC|30002312|onStandStepChanged 3579", "2025-12-26T14:30:15.606Z"),
            ("20251226-9:5:1:98|Step_LSC|30002312|onStandStepChanged 3580", "2025-12-26T09:05:01.098Z"),
        ],
    ),
    row("date-dash-time", "%Y%m%d-%H:%M:%S%f", &[("20251226-14:30:15.5 worker ready", "2025-12-26T14:30:15.500Z")]),
    row(
        "date-dot-time (compact)",
        "%Y%m%d.%H%M%S%f",
        &[("20251226.143015,672:WARN:disk almost full", "2025-12-26T14:30:15.672Z")],
    ),
    row(
        "compact date, spaced time (Robot Framework)",
        "%Y%m%d %H:%M:%S%f",
        &[("20251226 14:30:15.908 - INFO - + START SUITE: Scheduler [ ]", "2025-12-26T14:30:15.908Z")],
    ),
    row(
        "day-month-name-year::time (RabbitMQ, Erlang)",
        "%e-%b-%Y::%H:%M:%S%f",
        &[("=ERROR REPORT==== 26-Dec-2025::14:30:15 ===", "2025-12-26T14:30:15Z")],
    ),
    row(
        "two-digit year (log4j in Spark, Hadoop)",
        "%y/%m/%d %H:%M:%S%f",
        &[("25/12/26 14:30:15 INFO executor.Executor: Running task", "2025-12-26T14:30:15Z")],
    ),
    weak(row(
        "YYMMDD HHMMSS (HDFS)",
        "%y%m%d %H%M%S",
        &[("251226 143015 148 INFO dfs.DataNode$PacketResponder: Received block", "2025-12-26T14:30:15Z")],
    )),
    row(
        "YYMMDD H:MM:SS (MySQL 5)",
        "%y%m%d %k:%M:%S",
        &[
            ("251226 14:30:15 [ERROR] Can't open the mysql.plugin table", "2025-12-26T14:30:15Z"),
            ("251226  9:05:01 [Note] mysqld: ready for connections.", "2025-12-26T09:05:01Z"),
        ],
    ),
    row("ISO date and minute", "%Y-%m-%d %H:%M%z", &[("2025-12-26 14:30 backup started", "2025-12-26T14:30:00Z")]),
    row(
        "month-name-day (Nextflow)",
        "%b-%d %H:%M:%S%f",
        &[("Dec-26 14:30:15.524 [main] DEBUG nextflow.cli.Launcher - $> nextflow run", "2025-12-26T14:30:15.524Z")],
    ),
    level(
        row(
            "Android logcat",
            "%m-%d %H:%M:%S%f",
            &[
                ("12-26 14:30:15.811  1702  2395 E WindowManager: freeze timeout", "2025-12-26T14:30:15.811Z"),
                ("12-26 14:30:16.001  1702  1820 I ActivityManager: Start proc", "2025-12-26T14:30:16.001Z"),
            ],
        ),
        Level::LetterField(2),
    ),
    row(
        "month.day time (Proxifier)",
        "%m.%d %H:%M:%S",
        &[("[12.26 14:30:15] chrome.exe - proxy.example:5070 open through proxy", "2025-12-26T14:30:15Z")],
    ),
    row(
        "syslog",
        "%b %e %H:%M:%S%f",
        &[
            ("Dec 26 14:30:15 host sshd[42]: Accepted publickey", "2025-12-26T14:30:15Z"),
            ("Dec  6 04:47:44 host kernel: eth0 up", "2025-12-06T04:47:44Z"),
            ("déc. 26 14:30:17 hôte cron[7]: tâche", "2025-12-26T14:30:17Z"),
            ("Dez 26 14:30:18 rechner cron[7]: Aufgabe", "2025-12-26T14:30:18Z"),
        ],
    ),
    row(
        "syslog with a year",
        "%b %e %Y %H:%M:%S%f%z",
        &[("Dec 26 2025 14:30:15 router1 %LINK-3-UPDOWN: Interface down", "2025-12-26T14:30:15Z")],
    ),
    row(
        "ctime (Apache error, uwsgi)",
        "%a %b %e %H:%M:%S%f %Y",
        &[
            ("[Fri Dec 26 14:30:15.123456 2025] [core:error] [pid 42] AH00037", "2025-12-26T14:30:15.123456Z"),
            ("Fri Dec 26 14:30:15 2025 worker 1 respawned", "2025-12-26T14:30:15Z"),
        ],
    ),
    row(
        "date(1) with a zone",
        "%a %b %e %H:%M:%S%z %Y",
        &[("Fri Dec 26 14:30:15 UTC 2025 nightly backup begins", "2025-12-26T14:30:15Z")],
    ),
    row(
        "common log (Apache, nginx access; HAProxy)",
        "%d/%b/%Y:%H:%M:%S%f%z",
        &[
            ("127.0.0.1 - frank [26/Dec/2025:07:30:15 -0700] \"GET /a HTTP/1.0\" 200 2326", "2025-12-26T14:30:15Z"),
            (
                "10.0.1.2:33317 [26/Dec/2025:14:30:15.123] http-in static/srv1 10/0/30/69/109 200 2750",
                "2025-12-26T14:30:15.123Z",
            ),
        ],
    ),
    row(
        "RFC 1123 / RFC 2822",
        "%a, %d %b %Y %H:%M:%S%z",
        &[("Fri, 26 Dec 2025 14:30:15 GMT GET /health 503", "2025-12-26T14:30:15Z")],
    ),
    level(
        row(
            "day month-name year (Redis)",
            "%d %b %Y %H:%M:%S%f",
            &[
                ("1:M 26 Dec 2025 14:30:15.123 * Ready to accept connections", "2025-12-26T14:30:15.123Z"),
                ("1:M 26 Dec 2025 14:30:16.001 # WARNING overcommit_memory is 0", "2025-12-26T14:30:16.001Z"),
            ],
        ),
        Level::RedisMark,
    ),
    row(
        "day-month-name-year (Tomcat, PHP-FPM)",
        "%d-%b-%Y %H:%M:%S%f",
        &[
            (
                "26-Dec-2025 14:30:15.123 INFO [main] org.apache.catalina.startup.Catalina.start",
                "2025-12-26T14:30:15.123Z",
            ),
            ("[26-Dec-2025 14:30:15] WARNING: [pool www] server reached pm.max_children", "2025-12-26T14:30:15Z"),
        ],
    ),
    row(
        "java.util.logging",
        "%b %e, %Y %I:%M:%S %p",
        &[("Dec 26, 2025 2:30:15 PM org.apache.catalina.startup.Catalina start", "2025-12-26T14:30:15Z")],
    ),
    order(
        row(
            "month/day/year",
            "%m/%d/%Y %H:%M:%S%f",
            &[("12/26/2025 14:30:15 service stopped", "2025-12-26T14:30:15Z")],
        ),
        DateOrder::MonthFirst,
    ),
    order(
        row(
            "day/month/year",
            "%d/%m/%Y %H:%M:%S%f",
            &[("26/12/2025 14:30:15 service stopped", "2025-12-26T14:30:15Z")],
        ),
        DateOrder::DayFirst,
    ),
    row(
        "month/day/year 12-hour (Windows)",
        "%-m/%-d/%Y %I:%M:%S %p",
        &[
            ("12/26/2025 2:30:15 PM Service Control Manager stopped", "2025-12-26T14:30:15Z"),
            ("1/5/2025 9:03:00 AM Service Control Manager started", "2025-01-05T09:03:00Z"),
        ],
    ),
    row(
        "month/day/year 12-hour with milliseconds (OpenAM)",
        "%m/%d/%Y %I:%M:%S:%N %p%z",
        &[("amSAML:12/26/2025 02:30:15:235 PM UTC: Thread[main] SAML2 done", "2025-12-26T14:30:15.235Z")],
    ),
    row("day.month.year", "%d.%m.%Y %H:%M:%S%f", &[("26.12.2025 14:30:15 Dienst beendet", "2025-12-26T14:30:15Z")]),
    level(
        row(
            "glog / klog",
            "%L%m%d %H:%M:%S%f",
            &[("E1226 14:30:15.123456    1 main.go:42] failed", "2025-12-26T14:30:15.123456Z")],
        ),
        Level::Letter,
    ),
    row(
        "epoch",
        "%s",
        &[
            ("1766759415.123456 CAyb2Z1 10.0.0.1 53 udp dns", "2025-12-26T14:30:15.123456Z"),
            ("1766759415123 ms epoch", "2025-12-26T14:30:15.123Z"),
        ],
    ),
    row(
        "TAI64N (daemontools, s6, runit)",
        "%@",
        &[("@40000000694e9c0125a08e34 starting service", "2025-12-26T14:30:15.631279156Z")],
    ),
    weak(row(
        "time of day",
        "%H:%M:%S%f",
        &[
            ("14:30:15.000 worker DEBUG polling", "2025-12-26T14:30:15Z"),
            ("14:30:16.250 worker ERROR lost lease", "2025-12-26T14:30:16.250Z"),
        ],
    )),
    weak(row(
        "minutes and seconds (TCF)",
        "%M:%S.%F",
        &[
            ("01:15.123 [TCF] channel opened", "2025-12-26T14:01:15.123Z"),
            ("59:59.900 [TCF] peer closed", "2025-12-26T14:59:59.900Z"),
        ],
    )),
];

/// A family with its pattern compiled.
pub struct Compiled {
    pub family: &'static Family,
    pub pattern: Pattern,
}

static COMPILED: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    TABLE
        .iter()
        .filter_map(|f| Pattern::compile(f.pattern).ok().map(|pattern| Compiled { family: f, pattern }))
        .collect()
});

/// Every family, compiled once per process; a row whose pattern does not
/// compile is left out (the table's tests fail on it).
pub fn all() -> &'static [Compiled] {
    &COMPILED
}

pub fn get(i: usize) -> Option<&'static Compiled> {
    COMPILED.get(i)
}

/// The names of every layout read without configuration, for messages.
pub fn names() -> String {
    let mut v: Vec<&str> = TABLE.iter().map(|f| f.name).collect();
    v.extend(["JSON lines (incl. MongoDB, Bunyan, Pino, ECS, OpenTelemetry)", "logfmt"]);
    v.join(", ")
}

/// A level letter (glog, logcat) as a severity.
pub fn letter_severity(c: u8) -> Option<Severity> {
    match c {
        b'V' | b'D' => Some(Severity::Debug),
        b'I' => Some(Severity::Info),
        b'W' => Some(Severity::Warning),
        b'E' => Some(Severity::Error),
        b'F' | b'A' => Some(Severity::Critical),
        _ => None,
    }
}

/// Redis's level mark.
pub fn redis_severity(c: u8) -> Option<Severity> {
    match c {
        b'.' | b'-' => Some(Severity::Debug),
        b'*' => Some(Severity::Notice),
        b'#' => Some(Severity::Warning),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_compiles_and_has_samples() {
        assert_eq!(all().len(), TABLE.len());
        for f in TABLE {
            assert!(!f.samples.is_empty(), "{}", f.name);
        }
        assert!(TABLE.len() >= 30);
    }
}
