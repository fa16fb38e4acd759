//! The receiver of containers' log lines, shared by the engine reader
//! (`fetch`) and the json-file reader (`jsonfile`), so neither imports the other's.

use serde_json::Value;

/// Receives the containers' log lines as they stream in, so that what is
/// kept is decided line by line and memory does not hold whole logs.
pub trait LogHandler {
    /// Called once, before any line: every container's `docker inspect`
    /// JSON, in the order `line` and `problem` number them.
    fn containers(&mut self, inspections: &[Value]);
    /// One line (without its newline) of container `index`'s `stream`.
    fn line(&mut self, index: usize, stream: &'static str, line: &[u8]);
    /// Container `index`'s logs could not be read (the others still are).
    fn problem(&mut self, index: usize, message: String);
}
