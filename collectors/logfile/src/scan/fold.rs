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
//! excerpt are never built, nor its component looked up.

use std::sync::Arc;

use reconstruct_core::{Severity, Timestamp};
use rustc_hash::FxHashMap;

/// Shapes remembered by one read; past it, a new shape's lines come whole.
const GROUPS_MAX: usize = 4096;

struct Group {
    number: u32,
    opened: Timestamp,
    component: Arc<str>,
}

#[derive(Default)]
pub(super) struct Folds {
    /// The sink folds: it opened a group when asked (until then, and after
    /// it said no, every line comes whole).
    refused: bool,
    /// Each key's group, the time of the line that opened it, and its component.
    groups: FxHashMap<Box<[u8]>, Group>,
    /// The key worked out last.
    key: Vec<u8>,
}

impl Folds {
    /// Works out the key of a message when its summary is the message as
    /// read, or a cut of it: printable ASCII no longer than `max`, so that
    /// cleaning it changes nothing and messages of one shape give summaries
    /// of one shape. `false`: the line comes whole.
    ///
    /// The key holds the severity, the component the line's layout named
    /// (`named`), the message's head as read, and the shape of the rest.
    /// The head is what decides whether the message names its component
    /// and where its summary begins: up to its first `]` (`ERROR [api]`),
    /// or to its second `|` when it begins with one (a pipe-delimited
    /// layout's first field). Two messages with one key so have one
    /// component and summaries of one shape.
    pub(super) fn key(&mut self, named: Option<&str>, severity: Option<Severity>, msg: &[u8], max: usize) -> bool {
        if self.refused || msg.len() > max {
            return false;
        }
        // One pass the compiler makes wide.
        if !msg.iter().fold(true, |ok, c| ok & (b' '..=b'~').contains(c)) {
            return false;
        }
        self.key.clear();
        self.key.push(severity.map_or(0, |s| s as u8 + 1));
        if let Some(c) = named {
            let len = u32::try_from(c.len()).unwrap_or(u32::MAX);
            self.key.push(1);
            self.key.extend_from_slice(&len.to_le_bytes());
            self.key.extend_from_slice(c.as_bytes());
        } else {
            self.key.push(0);
        }
        let head = match msg.strip_prefix(b"|") {
            Some(rest) => memchr::memchr(b'|', rest).map_or(msg.len(), |i| i + 2),
            None => memchr::memchr(b']', msg).map_or(0, |i| i + 1),
        };
        let (head, mut rest) = msg.split_at(head.min(msg.len()));
        let len = u32::try_from(head.len()).unwrap_or(u32::MAX);
        self.key.extend_from_slice(&len.to_le_bytes());
        self.key.extend_from_slice(head);
        // The shape, run by run.
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

    /// The group a line at `time` of the key worked out last folds into,
    /// and the component its lines name: one was opened for the key by a
    /// line not after it. A line before the one that opened it (a log out
    /// of order) comes whole: the row shows the first of its lines, which
    /// may be this one.
    pub(super) fn group(&self, time: Timestamp) -> Option<(u32, &Arc<str>)> {
        let g = self.groups.get(self.key.as_slice())?;
        (time >= g.opened).then_some((g.number, &g.component))
    }

    /// Whether the key worked out last has a group.
    pub(super) fn known(&self) -> bool {
        self.groups.contains_key(self.key.as_slice())
    }

    /// The sink's answer to opening a group for the key worked out last,
    /// by a line at `time` naming `component`.
    pub(super) fn opened(&mut self, group: Option<u32>, time: Timestamp, component: &Arc<str>) {
        match group {
            Some(number) if self.groups.len() < GROUPS_MAX => {
                let g = Group { number, opened: time, component: component.clone() };
                self.groups.insert(Box::from(self.key.as_slice()), g);
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

    fn key(f: &mut Folds, named: Option<&str>, sev: Option<Severity>, msg: &str) -> Option<Vec<u8>> {
        f.key(named, sev, msg.as_bytes(), 480).then(|| f.key.clone())
    }

    #[test]
    fn the_shape_is_the_text_with_each_run_of_digits_one_zero() {
        // The shape written run by run, as plainly as it can be.
        fn shape(rest: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            for (i, &c) in rest.iter().enumerate() {
                if !c.is_ascii_digit() {
                    out.push(c);
                } else if i == 0 || !rest[i - 1].is_ascii_digit() {
                    out.push(b'0');
                }
            }
            out
        }
        let mut f = Folds::default();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let alphabet = b"0123456789 a=]|x.9";
        for n in 0..20_000usize {
            let len = n % 97;
            let msg: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let msg = [b"WARN [w1] ".as_slice(), &msg].concat();
            assert!(f.key(None, None, &msg, 480));
            // Severity, no name, the head's length and the head.
            let want = [&[0u8, 0, 9, 0, 0, 0][..], b"WARN [w1]", &shape(&msg[9..])].concat();
            assert_eq!(f.key, want, "{}", String::from_utf8_lossy(&msg));
        }
    }

    #[test]
    fn one_shape_one_key_and_anything_else_tells_them_apart() {
        let mut f = Folds::default();
        let e = Some(Severity::Error);
        let a = key(&mut f, None, e, "ERROR [api] upstream timed out after 3s id=00af12");
        assert!(a.is_some());
        assert_eq!(a, key(&mut f, None, e, "ERROR [api] upstream timed out after 1234s id=9af3"));
        assert_ne!(a, key(&mut f, None, e, "ERROR [api] upstream timed out after s id=9"));
        assert_ne!(a, key(&mut f, None, e, "ERROR [db] upstream timed out after 3s id=00af12"));
        assert_ne!(a, key(&mut f, None, Some(Severity::Warning), "ERROR [api] upstream timed out after 3s id=00af12"));
        // The head is read as it is: its digits name a component.
        assert_ne!(key(&mut f, None, e, "ERROR [worker-1] x 5"), key(&mut f, None, e, "ERROR [worker-22] x 5"));
        assert_ne!(key(&mut f, None, e, "|Step1|x 1"), key(&mut f, None, e, "|Step22|x 1"));
        assert_eq!(key(&mut f, None, e, "|Step|30002312|x 1"), key(&mut f, None, e, "|Step|7|x 14"));
        // A component the layout named is part of the key, its length too.
        assert_ne!(key(&mut f, Some("api"), e, "x 1"), key(&mut f, None, e, "x 1"));
        assert_ne!(key(&mut f, Some("ap"), e, "ix"), key(&mut f, Some("api"), e, "x"));
        // Text cleaning would change, or that is too long to be a summary whole.
        assert_eq!(key(&mut f, None, e, "tab\there"), None);
        assert_eq!(key(&mut f, None, e, "caf\u{e9}"), None);
        assert_eq!(key(&mut f, None, e, &"x".repeat(481)), None);
    }

    /// The summary a line of `msg` gets, and its component's name, as the
    /// scanner works them out (no component the layout named).
    fn summary_of(msg: &[u8]) -> (String, Option<String>) {
        let mut text = reconstruct_core::text::clean(msg, 480).text;
        let mut names = super::super::Names::default();
        if let Some(c) = names.bracketed(msg) {
            super::super::drop_bracket(&mut text, c);
            return (text, Some(c.to_string()));
        }
        if let Some((c, rest)) = super::super::pipe_component(msg) {
            return (reconstruct_core::text::clean(rest, 480).text, Some(c.to_string()));
        }
        (text, None)
    }

    fn shape(s: &str) -> String {
        let mut out = String::new();
        let mut digits = false;
        for c in s.chars() {
            if !(c.is_ascii_digit() && digits) {
                out.push(if c.is_ascii_digit() { '0' } else { c });
            }
            digits = c.is_ascii_digit();
        }
        out
    }

    /// Random messages of levels, brackets, pipes, blanks, colons and
    /// numbers: any two with one key name one component and have summaries
    /// of one shape, which is what makes the table fold them into one row.
    #[test]
    fn messages_of_one_key_name_one_component_and_have_summaries_of_one_shape() {
        let mut seed: u64 = 0x51_7cc1_b727_220a;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n.max(1)
        };
        let parts =
            ["ERROR", "WARN", "error", "Info", "[", "]", "|", " ", "  ", ":", "api", "w-", "x.y", "7", "42", "0"];
        let names = ["api", "w-7", "w-42", "x.y", "a b", "7", "", "api]"];
        let mut pick = |from: &[&'static str]| from[rnd(from.len() as u64) as usize];
        // Each key's first message, with its summary's shape and component.
        type First = (String, (String, Option<String>));
        let mut seen: FxHashMap<Vec<u8>, First> = FxHashMap::default();
        let mut f = Folds::default();
        let mut same = 0;
        for round in 0..200_000 {
            // A level, blanks or colons, a bracketed or piped name, then anything.
            let mut msg = match round % 3 {
                0 => format!(
                    "{}{}[{}]",
                    pick(&["ERROR", "WARN", "Info", "", "x"]),
                    pick(&[" ", "  ", ": ", ""]),
                    pick(&names)
                ),
                1 => format!("|{}|", pick(&names)),
                _ => String::new(),
            };
            for _ in 0..1 + round % 7 {
                msg.push_str(pick(&parts));
            }
            if !f.key(None, None, msg.as_bytes(), 480) {
                continue;
            }
            let (text, component) = summary_of(msg.as_bytes());
            let got = (shape(&text), component);
            match seen.get(&f.key) {
                Some((first, want)) => {
                    same += 1;
                    assert_eq!(&got, want, "{msg:?} and {first:?} share a key");
                }
                None => {
                    seen.insert(f.key.clone(), (msg, got));
                }
            }
        }
        assert!(same > 10_000, "keys were shared: {same}");
    }

    #[test]
    fn a_line_before_the_one_that_opened_its_group_comes_whole() {
        let t = |s| Timestamp::from_unix_seconds(s, 0).unwrap();
        let api: Arc<str> = Arc::from("api");
        let mut f = Folds::default();
        assert!(f.key(None, None, b"x 1", 480));
        assert!(f.open());
        f.opened(Some(7), t(100), &api);
        assert!(f.key(None, None, b"x 22", 480));
        assert!(!f.open(), "opened once");
        assert_eq!(f.group(t(100)).map(|(g, c)| (g, c.to_string())), Some((7, "api".to_string())));
        assert_eq!(f.group(t(101)).map(|(g, _)| g), Some(7));
        assert!(f.group(t(99)).is_none());
    }

    #[test]
    fn a_sink_that_does_not_fold_is_not_asked_again() {
        let t = Timestamp::from_unix_seconds(100, 0).unwrap();
        let api: Arc<str> = Arc::from("api");
        let mut f = Folds::default();
        assert!(f.key(None, None, b"x 1", 480));
        assert!(f.open());
        f.opened(Some(7), t, &api);
        assert!(f.key(None, None, b"x 22", 480));
        assert_eq!(f.group(t).map(|(g, _)| g), Some(7));
        assert!(f.key(None, None, b"y", 480));
        f.opened(None, t, &api);
        assert!(!f.open());
        assert!(!f.key(None, None, b"x 1", 480));
    }
}
