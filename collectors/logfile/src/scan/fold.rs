//! Repeats of a log line the table folds anyway, left unbuilt: a busy log's
//! errors are mostly the same few messages with other numbers, and the
//! table shows each once with its count.
//!
//! The table folds a log line into the row of its template (its message
//! with numbers, ids and secrets masked) and of its kind: collector,
//! component, kind and severity. A template depends on the message's shape
//! alone (its runs of digits each written as one), so two lines of one
//! component and severity whose messages have one shape fold into one row.
//! A line like one this read emitted whole goes to the sink as a fold of
//! that one ([`reconstruct_core::EventSink::fold`]): its summary and
//! excerpt are never built.

use reconstruct_core::{Severity, Timestamp};
use rustc_hash::FxHashMap;

/// Shapes remembered by one read; past it, a new shape's lines come whole.
const GROUPS_MAX: usize = 4096;

#[derive(Default)]
pub(super) struct Folds {
    /// The sink folds: it opened a group when asked (until then, and after
    /// it said no, every line comes whole).
    refused: bool,
    /// Each key's group, and the time of the line that opened it.
    groups: FxHashMap<Box<[u8]>, (u32, Timestamp)>,
    /// The key worked out last.
    key: Vec<u8>,
}

impl Folds {
    /// Works out the key of a message (how its summary is cut from it, its
    /// component, severity and shape) when its summary is the message as
    /// read, or a cut of it: printable ASCII no longer than `max`, so that
    /// cleaning it changes nothing and messages of one shape give summaries
    /// of one shape. `false`: the line comes whole.
    pub(super) fn key(&mut self, cut: u8, component: &str, severity: Option<Severity>, msg: &[u8], max: usize) -> bool {
        if self.refused || msg.len() > max {
            return false;
        }
        self.key.clear();
        self.key.push(cut);
        self.key.push(severity.map_or(0, |s| s as u8 + 1));
        let len = u32::try_from(component.len()).unwrap_or(u32::MAX);
        self.key.extend_from_slice(&len.to_le_bytes());
        self.key.extend_from_slice(component.as_bytes());
        // One pass the compiler makes wide, then the shape run by run.
        if !msg.iter().fold(true, |ok, c| ok & (b' '..=b'~').contains(c)) {
            return false;
        }
        let mut rest = msg;
        while !rest.is_empty() {
            let text = rest.iter().position(u8::is_ascii_digit).unwrap_or(rest.len());
            let (head, tail) = rest.split_at(text);
            self.key.extend_from_slice(head);
            let digits = tail.iter().position(|c| !c.is_ascii_digit()).unwrap_or(tail.len());
            if digits > 0 {
                self.key.push(b'0');
            }
            rest = tail.get(digits..).unwrap_or_default();
        }
        true
    }

    /// The group a line at `time` of the key worked out last folds into:
    /// one was opened for the key by a line not after it. A line before
    /// the one that opened it (a log out of order) comes whole: the row
    /// shows the first of its lines, which may be this one.
    pub(super) fn group(&self, time: Timestamp) -> Option<u32> {
        self.groups.get(self.key.as_slice()).filter(|(_, opened)| time >= *opened).map(|(g, _)| *g)
    }

    /// Whether the key worked out last has a group.
    pub(super) fn known(&self) -> bool {
        self.groups.contains_key(self.key.as_slice())
    }

    /// The sink's answer to opening a group for the key worked out last,
    /// by a line at `time`.
    pub(super) fn opened(&mut self, group: Option<u32>, time: Timestamp) {
        match group {
            Some(g) if self.groups.len() < GROUPS_MAX => {
                self.groups.insert(Box::from(self.key.as_slice()), (g, time));
            }
            Some(_) => {}
            None => self.refused = true,
        }
    }

    /// Whether a group may be opened for the key worked out last.
    pub(super) fn open(&self) -> bool {
        !self.refused && self.groups.len() < GROUPS_MAX && !self.known()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(f: &mut Folds, component: &str, sev: Option<Severity>, msg: &str) -> Option<Vec<u8>> {
        f.key(0, component, sev, msg.as_bytes(), 480).then(|| f.key.clone())
    }

    #[test]
    fn one_shape_one_key_and_anything_else_tells_them_apart() {
        let mut f = Folds::default();
        let e = Some(Severity::Error);
        let a = key(&mut f, "api", e, "ERROR upstream timed out after 3s id=00af12");
        assert_eq!(a, key(&mut f, "api", e, "ERROR upstream timed out after 1234s id=9af3"));
        assert_ne!(a, key(&mut f, "api", e, "ERROR upstream timed out after s id=9"));
        assert_ne!(a, key(&mut f, "db", e, "ERROR upstream timed out after 3s id=00af12"));
        assert_ne!(a, key(&mut f, "api", Some(Severity::Warning), "ERROR upstream timed out after 3s id=00af12"));
        // The component's length is part of the key: no name runs into the message.
        assert_ne!(key(&mut f, "ap", e, "iX"), key(&mut f, "api", e, "X"));
        // So is how the summary is cut from the message.
        assert!(f.key(1, "api", e, b"X", 480));
        let cut = f.key.clone();
        assert_ne!(Some(cut), key(&mut f, "api", e, "X"));
        // Text cleaning would change, or that is too long to be a summary whole.
        assert_eq!(key(&mut f, "api", e, "tab\there"), None);
        assert_eq!(key(&mut f, "api", e, "caf\u{e9}"), None);
        assert_eq!(key(&mut f, "api", e, &"x".repeat(481)), None);
    }

    #[test]
    fn a_line_before_the_one_that_opened_its_group_comes_whole() {
        let t = |s| Timestamp::from_unix_seconds(s, 0).unwrap();
        let mut f = Folds::default();
        assert!(f.key(0, "api", None, b"x 1", 480));
        assert!(f.open());
        f.opened(Some(7), t(100));
        assert!(f.key(0, "api", None, b"x 22", 480));
        assert!(!f.open(), "opened once");
        assert_eq!(f.group(t(100)), Some(7));
        assert_eq!(f.group(t(101)), Some(7));
        assert_eq!(f.group(t(99)), None);
    }

    #[test]
    fn a_sink_that_does_not_fold_is_not_asked_again() {
        let t = Timestamp::from_unix_seconds(100, 0).unwrap();
        let mut f = Folds::default();
        assert!(f.key(0, "api", None, b"x 1", 480));
        assert!(f.open());
        f.opened(Some(7), t);
        assert_eq!(f.group(t), Some(7));
        assert!(f.key(0, "api", None, b"x 22", 480));
        assert_eq!(f.group(t), Some(7));
        assert!(f.key(0, "api", None, b"y", 480));
        f.opened(None, t);
        assert!(!f.open());
        assert!(!f.key(0, "api", None, b"x 1", 480));
    }
}
