//! Container runtime log files, read without the engine: Docker's
//! `json-file` logs (`{"log":…,"stream":…,"time":…}` a line) and
//! Kubernetes CRI logs (`2025-12-26T14:30:15.123456789Z stderr F text`).
//! Lines the runtime cut in pieces (`P` in CRI, a `log` without its newline
//! in Docker) are joined again. Each record becomes a line in the plain
//! form `TIME text`, with the runtime's time, so the log scanner reads it
//! like any ISO log; an application's stack trace (records that begin with
//! blanks, `Traceback`, `Caused by`) stays attached to the line above it.

use std::path::Path;

use serde::Deserialize;

/// A container runtime's log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    DockerJson,
    Cri,
}

impl Runtime {
    pub fn describe(self) -> &'static str {
        match self {
            Runtime::DockerJson => "Docker json-file log (engine times)",
            Runtime::Cri => "Kubernetes CRI log (runtime times)",
        }
    }
}

#[derive(Deserialize)]
struct DockerLine {
    log: String,
    stream: Option<String>,
    time: String,
}

fn docker(line: &[u8]) -> Option<DockerLine> {
    if line.first() != Some(&b'{') {
        return None;
    }
    serde_json::from_slice(line).ok()
}

/// One CRI line: its time, its stream, whether it ends a line (`F`) or is
/// a piece of one (`P`), and its text.
struct CriLine<'a> {
    time: &'a [u8],
    stream: &'a [u8],
    full: bool,
    text: &'a [u8],
}

fn cri(line: &[u8]) -> Option<CriLine<'_>> {
    let mut parts = line.splitn(4, |c| *c == b' ');
    let time = parts.next()?;
    let stream = parts.next()?;
    let tag = parts.next()?;
    let text = parts.next().unwrap_or_default();
    let dated = time.len() >= 20 && time.get(4) == Some(&b'-') && time.get(10) == Some(&b'T');
    let full = match tag.first()? {
        b'F' => true,
        b'P' => false,
        _ => return None,
    };
    (dated && matches!(stream, b"stdout" | b"stderr")).then_some(CriLine { time, stream, full, text })
}

/// The runtime format of a file, when most of its first lines are in it.
pub fn detect<'a>(sample: impl Iterator<Item = &'a [u8]>) -> Option<Runtime> {
    let (mut lines, mut dj, mut cr) = (0usize, 0usize, 0usize);
    for l in sample.filter(|l| !l.is_empty()) {
        lines += 1;
        dj += usize::from(docker(l).is_some());
        cr += usize::from(cri(l).is_some());
    }
    if lines == 0 {
        None
    } else if dj * 5 >= lines * 4 {
        Some(Runtime::DockerJson)
    } else if cr * 5 >= lines * 4 {
        Some(Runtime::Cri)
    } else {
        None
    }
}

/// One record of a runtime log, its pieces joined: the line it began on,
/// its stream, the runtime's time (as written) and the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub line: u64,
    pub stderr: bool,
    pub time: Vec<u8>,
    pub text: Vec<u8>,
}

/// A record still missing its end, per stream.
struct Partial {
    line: u64,
    time: Vec<u8>,
    text: Vec<u8>,
}

/// Turns the runtime's lines into plain `TIME text` lines.
pub struct Joiner {
    kind: Runtime,
    partial: [Option<Partial>; 2],
}

fn looks_continued(text: &[u8]) -> bool {
    matches!(text.first(), Some(b' ') | Some(b'\t'))
        || text.starts_with(b"Traceback ")
        || text.starts_with(b"Caused by")
        || text.starts_with(b"During handling of the above exception")
}

impl Joiner {
    pub fn new(kind: Runtime) -> Self {
        Joiner { kind, partial: [None, None] }
    }

    /// One physical line in; the plain lines it completes, with the line
    /// number where each began, out.
    pub fn push(&mut self, number: u64, raw: &[u8], out: &mut Vec<(u64, Vec<u8>)>) {
        let mut recs = Vec::new();
        match self.push_record(number, raw, &mut recs) {
            Some(unreadable) => out.push((number, unreadable.to_vec())),
            None => out.extend(recs.into_iter().map(plain)),
        }
    }

    /// One physical line in; the records it completes out. A line that is
    /// not the runtime's is handed back as it is.
    pub fn push_record<'a>(&mut self, number: u64, raw: &'a [u8], out: &mut Vec<Record>) -> Option<&'a [u8]> {
        let (time, stream, full, text): (Vec<u8>, usize, bool, Vec<u8>) = match self.kind {
            Runtime::DockerJson => match docker(raw) {
                Some(d) => {
                    let full = d.log.ends_with('\n');
                    let text = d.log.strip_suffix('\n').unwrap_or(&d.log);
                    let text = text.strip_suffix('\r').unwrap_or(text);
                    let stream = usize::from(d.stream.as_deref() == Some("stderr"));
                    (d.time.into_bytes(), stream, full, text.as_bytes().to_vec())
                }
                None => return Some(raw),
            },
            Runtime::Cri => match cri(raw) {
                Some(c) => (c.time.to_vec(), usize::from(c.stream == b"stderr"), c.full, c.text.to_vec()),
                None => return Some(raw),
            },
        };
        let slot = self.partial.get_mut(stream)?;
        let rec = match slot.take() {
            Some(mut p) => {
                p.text.extend_from_slice(&text);
                p
            }
            None => Partial { line: number, time, text },
        };
        if full {
            out.push(Record { line: rec.line, stderr: stream == 1, time: rec.time, text: rec.text });
        } else {
            *slot = Some(rec);
        }
        None
    }

    /// Records the file ended in the middle of.
    pub fn finish_records(&mut self, out: &mut Vec<Record>) {
        let mut left: Vec<(usize, Partial)> =
            self.partial.iter_mut().enumerate().filter_map(|(i, p)| Some((i, p.take()?))).collect();
        left.sort_by_key(|(_, p)| p.line);
        out.extend(left.into_iter().map(|(i, p)| Record { line: p.line, stderr: i == 1, time: p.time, text: p.text }));
    }

    /// Plain lines the file ended in the middle of.
    pub fn finish(&mut self, out: &mut Vec<(u64, Vec<u8>)>) {
        let mut recs = Vec::new();
        self.finish_records(&mut recs);
        out.extend(recs.into_iter().map(plain));
    }
}

/// A record as a plain `TIME text` line (or the bare text of a continuation).
fn plain(p: Record) -> (u64, Vec<u8>) {
    if looks_continued(&p.text) {
        return (p.line, p.text);
    }
    let mut l = p.time;
    l.push(b' ');
    l.extend_from_slice(&p.text);
    (p.line, l)
}

/// The component a runtime log's path names: `namespace/pod/container` for
/// Kubernetes, the compose service or container name for Docker (from
/// `config.v2.json` beside the log).
pub fn component_from_path(path: &Path) -> Option<String> {
    let parts: Vec<String> = path.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let n = parts.len();
    // /var/log/pods/<ns>_<pod>_<uid>/<container>/<N>.log[.…]
    if n >= 4 && parts.get(n - 4).map(String::as_str) == Some("pods") {
        let pod_dir = parts.get(n - 3)?;
        let container = parts.get(n - 2)?;
        let mut f = pod_dir.splitn(3, '_');
        let (ns, pod) = (f.next()?, f.next()?);
        return Some(format!("{ns}/{pod}/{container}"));
    }
    // /var/log/containers/<pod>_<ns>_<container>-<id>.log
    if n >= 2 && parts.get(n - 2).map(String::as_str) == Some("containers") {
        let name = parts.get(n - 1)?.strip_suffix(".log")?;
        let mut f = name.splitn(3, '_');
        let (pod, ns, rest) = (f.next()?, f.next()?, f.next()?);
        let container = rest.rsplit_once('-').map_or(rest, |(c, _)| c);
        if !ns.is_empty() && !pod.is_empty() {
            return Some(format!("{ns}/{pod}/{container}"));
        }
    }
    // /var/lib/docker/containers/<id>/<id>-json.log
    let file = path.file_name()?.to_string_lossy();
    if file.contains("-json.log") {
        let config = path.parent()?.join("config.v2.json");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(config).ok()?).ok()?;
        let labels = v.get("Config").and_then(|c| c.get("Labels"));
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(|x| x.as_str()).map(str::to_string);
        if let Some(service) = label("com.docker.compose.service") {
            return Some(service);
        }
        return v.get("Name").and_then(|x| x.as_str()).map(|s| s.trim_start_matches('/').to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: Runtime, lines: &[&[u8]]) -> Vec<(u64, String)> {
        let mut j = Joiner::new(kind);
        let mut out = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            j.push(i as u64 + 1, l, &mut out);
        }
        j.finish(&mut out);
        out.into_iter().map(|(n, b)| (n, String::from_utf8(b).unwrap())).collect()
    }

    #[test]
    fn docker_lines_partials_joined_per_stream() {
        let out = run(
            Runtime::DockerJson,
            &[
                br#"{"log":"ERROR part one ","stream":"stderr","time":"2025-12-26T14:30:15.000000001Z"}"#,
                br#"{"log":"out line\n","stream":"stdout","time":"2025-12-26T14:30:15.5Z"}"#,
                br#"{"log":"and two\n","stream":"stderr","time":"2025-12-26T14:30:16Z"}"#,
                br#"{"log":"  at frame\n","stream":"stderr","time":"2025-12-26T14:30:16.1Z"}"#,
                br#"{"log":"tty line\r\n","stream":"stdout","time":"2025-12-26T14:30:17Z"}"#,
                br#"{"log":"cut at the end","stream":"stdout","time":"2025-12-26T14:30:18Z"}"#,
            ],
        );
        assert_eq!(
            out,
            vec![
                (2, "2025-12-26T14:30:15.5Z out line".to_string()),
                (1, "2025-12-26T14:30:15.000000001Z ERROR part one and two".to_string()),
                (4, "  at frame".to_string()),
                (5, "2025-12-26T14:30:17Z tty line".to_string()),
                (6, "2025-12-26T14:30:18Z cut at the end".to_string()),
            ]
        );
    }

    #[test]
    fn cri_lines_partials_joined() {
        let out = run(
            Runtime::Cri,
            &[
                b"2025-12-26T14:30:15.123456789Z stdout P first half ",
                b"2025-12-26T14:30:15.123456790Z stdout F second half",
                b"2025-12-26T14:30:16Z stderr F Traceback (most recent call last):",
                b"2025-12-26T14:30:16Z stderr F ",
            ],
        );
        assert_eq!(
            out,
            vec![
                (1, "2025-12-26T14:30:15.123456789Z stdout first half second half".replace("stdout ", "")),
                (3, "Traceback (most recent call last):".to_string()),
                (4, "2025-12-26T14:30:16Z ".to_string()),
            ]
        );
    }

    #[test]
    fn detection_and_components() {
        let dj: Vec<&[u8]> = vec![br#"{"log":"x\n","stream":"stdout","time":"2025-12-26T14:30:15Z"}"#];
        assert_eq!(detect(dj.into_iter()), Some(Runtime::DockerJson));
        let c: Vec<&[u8]> = vec![b"2025-12-26T14:30:15Z stdout F x", b""];
        assert_eq!(detect(c.into_iter()), Some(Runtime::Cri));
        let plain: Vec<&[u8]> = vec![b"2025-12-26T14:30:15Z INFO x", br#"{"time":"2025-12-26T14:30:15Z","msg":"x"}"#];
        assert_eq!(detect(plain.into_iter()), None);
        assert_eq!(
            component_from_path(Path::new("/var/log/pods/shop_web-7d9f_0a1b/nginx/0.log")).as_deref(),
            Some("shop/web-7d9f/nginx")
        );
        assert_eq!(
            component_from_path(Path::new("/var/log/containers/web-7d9f_shop_nginx-0123abcd.log")).as_deref(),
            Some("shop/web-7d9f/nginx")
        );
        assert_eq!(component_from_path(Path::new("logs/app.log")), None);
    }
}
