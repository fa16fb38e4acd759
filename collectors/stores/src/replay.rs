//! A small local HTTP server that plays a store in tests: it answers each
//! request with what a handler returns (recorded answers shaped like the
//! store's documented API), keeps every request so a test can check it
//! (time units, paging parameters, auth headers), and can be told to fail:
//! an error status, a `Retry-After`, an answer cut off mid-body, or none.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// The query's pairs, percent-decoded.
    pub query: Vec<(String, String)>,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What to answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A status, extra headers, and a body.
    Answer { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Promise the whole body, send only its first half, and hang up.
    CutOff(Vec<u8>),
    /// Accept and never answer.
    Silence,
    /// Send a 200 and these bytes, then keep the connection open without
    /// ending the body (a log that goes on being written).
    Hold(Vec<u8>),
}

impl Reply {
    pub fn json(v: &serde_json::Value) -> Self {
        Reply::Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: v.to_string().into_bytes(),
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Reply::Answer { status, headers: Vec::new(), body: body.as_bytes().to_vec() }
    }

    pub fn busy(status: u16, retry_after: Option<u64>) -> Self {
        let headers = retry_after.map(|s| vec![("Retry-After".to_string(), s.to_string())]).unwrap_or_default();
        Reply::Answer { status, headers, body: b"slow down".to_vec() }
    }
}

/// A running server: its URL, and the requests it has seen.
pub struct Server {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

/// Serves `handler` on a free loopback port until the process ends.
pub fn serve(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> std::io::Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler: Arc<Handler> = Arc::new(handler);
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let (handler, log) = (handler.clone(), log.clone());
            std::thread::spawn(move || {
                let _ = one(conn, &*handler, &log);
            });
        }
    });
    Ok(Server { url, seen })
}

fn one(conn: TcpStream, handler: &Handler, log: &Mutex<Vec<Seen>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut r = BufReader::new(conn.try_clone()?);
    let mut w = conn;
    // Keep-alive: several requests may come on one connection.
    loop {
        let mut first = String::new();
        if r.read_line(&mut first)? == 0 {
            return Ok(());
        }
        let mut parts = first.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let len =
            headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse::<usize>().ok()).unwrap_or(0);
        let mut body = vec![0; len];
        r.read_exact(&mut body)?;
        let (path, q) = target.split_once('?').unwrap_or((&target, ""));
        let seen = Seen { method, path: decode(path), query: pairs(q), headers, body };
        let reply = handler(&seen);
        if let Ok(mut l) = log.lock() {
            l.push(seen);
        }
        match reply {
            Reply::Answer { status, headers, body } => {
                let mut head = format!("HTTP/1.1 {status} {}\r\nContent-Length: {}\r\n", reason(status), body.len());
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                w.write_all(head.as_bytes())?;
                w.write_all(&body)?;
                w.flush()?;
            }
            Reply::CutOff(body) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                w.write_all(head.as_bytes())?;
                w.write_all(body.get(..body.len() / 2).unwrap_or_default())?;
                w.flush()?;
                return w.shutdown(std::net::Shutdown::Both);
            }
            Reply::Silence => {
                std::thread::sleep(Duration::from_secs(120));
                return Ok(());
            }
            Reply::Hold(body) => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
                w.write_all(head.as_bytes())?;
                write!(w, "{:x}\r\n", body.len())?;
                w.write_all(&body)?;
                w.write_all(b"\r\n")?;
                w.flush()?;
                std::thread::sleep(Duration::from_secs(120));
                return Ok(());
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// `a=1&b=x%20y` as pairs, `+` as a blank.
pub fn pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex =
            b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(x)) => {
                out.push(x);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
