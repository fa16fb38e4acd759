//! The OpenTelemetry kind of source: OTLP JSON as the Collector's file
//! exporter writes it (one export request a line, plain or compressed) or
//! as one document. Log records become events; so do failing spans and the
//! exceptions recorded on spans; a client span whose server span is in
//! another service becomes a call between the two.

pub mod parse;
pub mod slice;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use reconstruct_core::{
    CollectContext, CollectError, Collector, Detail, Diagnostic, EventSink, Locator, SourceId, SourceKind,
};

/// Files bigger than this are read a line at a time only (a document of that size is not one).
const WHOLE_DOCUMENT_MAX: u64 = 256 * 1024 * 1024;

/// The events of a file's bytes: export requests a line (the file
/// exporter), or one request over many lines (the protocol's examples).
pub fn read(path: Arc<str>, bytes: &[u8]) -> parse::Read {
    let mut r = parse::Reader::new(path);
    let whole = (bytes.len() as u64) < WHOLE_DOCUMENT_MAX
        && bytes.iter().filter(|b| **b == b'\n').count() > 1
        && bytes.trim_ascii_start().first() == Some(&b'{');
    let document = if whole { serde_json::from_slice::<serde_json::Value>(bytes).ok() } else { None };
    match document {
        Some(v) => r.request(&v, 1),
        None => {
            for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
                let n = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
                if line.trim_ascii().is_empty() {
                    continue;
                }
                match serde_json::from_slice::<serde_json::Value>(line) {
                    Ok(v) => r.request(&v, n),
                    Err(e) => r.problem(n, format!("not an OTLP JSON export request: {e}")),
                }
            }
        }
    }
    r.finish()
}

/// One OTLP JSON file.
pub struct OtelFile {
    pub file: PathBuf,
    /// How evidence names the file.
    pub display: String,
}

impl Collector for OtelFile {
    fn source(&self) -> SourceId {
        SourceId { collector: SourceKind::Otel, name: self.display.clone() }
    }

    fn collect(self: Box<Self>, ctx: &CollectContext, sink: &mut dyn EventSink) -> Result<(), CollectError> {
        let f = std::fs::File::open(&self.file).map_err(|e| format!("cannot open {}: {e}", self.display))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        let (mut input, _) =
            reconstruct_logfile::compressed::open(f, size).map_err(|e| format!("cannot read {}: {e}", self.display))?;
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes).map_err(|e| format!("cannot read {}: {e}", self.display))?;
        let path: Arc<str> = Arc::from(self.display.as_str());
        let read = read(path.clone(), &bytes);
        for (line, message) in read.problems {
            sink.diagnostic(Diagnostic { locator: Some(Locator::Line { path: path.clone(), line }), message });
        }
        let mut events = read.events;
        events.sort_by(|a, b| a.order(b));
        for e in events {
            if !ctx.window.contains(e.time) {
                continue;
            }
            if ctx.detail == Detail::Notable && !reconstruct_core::notable::event(&e) {
                sink.skip(e.time, 0);
                continue;
            }
            sink.emit(e)?;
        }
        sink.note(format!(
            "{} log records, {} spans ({} failed, {} exceptions), {} calls between services",
            read.records, read.spans, read.failed, read.exceptions, read.calls
        ));
        Ok(())
    }
}
