//! A JSON log line read in one pass when it is flat and plain: an object of
//! members whose names and texts hold no escape and whose values hold no
//! object or array. Such a line gives what serde's reading gives; any other
//! line (or one that is not JSON) is left to serde, which also says why it
//! is not JSON.

use std::borrow::Cow;

use super::{role, JsonLine, Scalar};

/// Reads `text` (a whole line from its `{`) as a flat, plain object: its
/// members by role, as serde would read them. `None`: not flat and plain,
/// or not JSON; serde reads it.
pub(super) fn read(text: &str) -> Option<JsonLine<'_>> {
    object(text)
}

/// JSON's blanks, as serde skips them.
fn blanks(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

fn object(text: &str) -> Option<JsonLine<'_>> {
    let b = text.as_bytes();
    let mut j = JsonLine::new();
    let mut i = blanks(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = blanks(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return (blanks(b, i + 1) == b.len()).then_some(j);
    }
    loop {
        let (key, after) = plain_text(text, i)?;
        i = blanks(b, after);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = blanks(b, i + 1);
        let role = role(key);
        let (value, after) = match b.get(i) {
            // An object a role reads (`{"$date": …}`, ECS's `log`) is serde's.
            Some(b'{') if role.is_some() => return None,
            // A member's object or array is passed over, checked as JSON;
            // serde gives the role an array as nothing it reads.
            Some(b'{' | b'[') => (Scalar::Other, pass(text, i, 0)?),
            _ => value(text, i)?,
        };
        if let Some((role, rank)) = role {
            j.take(key, role, rank, value);
        }
        i = blanks(b, after);
        match b.get(i) {
            Some(b',') => i = blanks(b, i + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    (blanks(b, i + 1) == b.len()).then_some(j)
}

/// How deep objects and arrays may nest before the line is left to serde
/// (whose own limit is deeper).
const DEPTH: usize = 32;

/// Passes over the value at `i` (of any kind) as serde would read it, where
/// its texts hold no escape and its numbers are plain: where the reading
/// goes on. `None`: serde reads the line.
fn pass(text: &str, i: usize, depth: usize) -> Option<usize> {
    let b = text.as_bytes();
    let (open, close) = match b.get(i)? {
        b'{' => (b'{', b'}'),
        b'[' => (b'[', b']'),
        b'"' => return plain_text(text, i).map(|(_, after)| after),
        b'-' | b'0'..=b'9' => return number(b, i),
        b't' => return word(b, i, b"true").map(|(_, after)| after),
        b'f' => return word(b, i, b"false").map(|(_, after)| after),
        b'n' => return word(b, i, b"null").map(|(_, after)| after),
        _ => return None,
    };
    if depth >= DEPTH {
        return None;
    }
    let mut i = blanks(b, i + 1);
    if b.get(i) == Some(&close) {
        return Some(i + 1);
    }
    loop {
        if open == b'{' {
            let (_, after) = plain_text(text, i)?;
            i = blanks(b, after);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = blanks(b, i + 1);
        }
        i = blanks(b, pass(text, i, depth + 1)?);
        match b.get(i) {
            Some(b',') => i = blanks(b, i + 1),
            Some(c) if *c == close => return Some(i + 1),
            _ => return None,
        }
    }
}

/// A number at `i` in JSON's grammar (`-`, digits without a leading zero,
/// a fraction, an exponent): where it ends. One with an exponent, or with
/// 300 digits or more before its point, is left to serde, which refuses a
/// number too large for a float.
fn number(b: &[u8], i: usize) -> Option<usize> {
    let digits = |from: usize| b.get(from..).map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
    let start = if b.get(i) == Some(&b'-') { i + 1 } else { i };
    let whole = digits(start);
    if whole == 0 || whole >= 300 || (whole > 1 && b.get(start) == Some(&b'0')) {
        return None;
    }
    let mut end = start + whole;
    if b.get(end) == Some(&b'.') {
        let fraction = digits(end + 1);
        if fraction == 0 {
            return None;
        }
        end += 1 + fraction;
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        return None;
    }
    Some(end)
}

/// A quoted text at `i` with no escape and no control byte (serde refuses
/// those unescaped): the text, and where the reading goes on.
fn plain_text(text: &str, i: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let from = i + 1;
    let len = b.get(from..)?.iter().position(|c| *c == b'"' || *c == b'\\' || *c < 0x20)?;
    let end = from + len;
    if b.get(end) != Some(&b'"') {
        return None;
    }
    Some((text.get(from..end)?, end + 1))
}

/// A member's value at `i`: a plain text, a whole number, `true`, `false`
/// or `null`. A number with a fraction or an exponent is left to serde,
/// whose reading of it may differ from the standard library's in its last
/// bit; objects and arrays are too.
fn value(text: &str, i: usize) -> Option<(Scalar<'_>, usize)> {
    let b = text.as_bytes();
    match b.get(i)? {
        b'"' => plain_text(text, i).map(|(s, after)| (Scalar::Str(Cow::Borrowed(s)), after)),
        b't' => word(b, i, b"true"),
        b'f' => word(b, i, b"false"),
        b'n' => word(b, i, b"null"),
        b'-' | b'0'..=b'9' => {
            let digits_from = if b.get(i) == Some(&b'-') { i + 1 } else { i };
            let n = b.get(digits_from..)?.iter().take_while(|c| c.is_ascii_digit()).count();
            let end = digits_from + n;
            // JSON's own grammar: at least one digit, no leading zero.
            if n == 0 || (n > 1 && b.get(digits_from) == Some(&b'0')) {
                return None;
            }
            if matches!(b.get(end), Some(b'.' | b'e' | b'E')) {
                return None;
            }
            let v = integer(text.get(i..end)?)?;
            Some((Scalar::Num(v), end))
        }
        _ => None,
    }
}

/// A whole number as serde gives it to a visitor: a `u64`, else an `i64`,
/// else (too long for either) the nearest `f64`; each then as `f64`.
fn integer(s: &str) -> Option<f64> {
    if let Ok(u) = s.parse::<u64>() {
        return Some(u as f64);
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(i as f64);
    }
    None
}

/// `true`, `false` or `null` at `i`: none of them is read for anything.
fn word<'a>(b: &[u8], i: usize, w: &[u8]) -> Option<(Scalar<'a>, usize)> {
    b.get(i..)?.starts_with(w).then_some((Scalar::Other, i + w.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a line's members came to, by role, to compare two readings.
    fn shown(j: &JsonLine<'_>) -> String {
        let one = |v: &Scalar<'_>| match v {
            Scalar::Str(s) => format!("str {s:?} {}", matches!(s, Cow::Borrowed(_))),
            Scalar::Num(n) => format!("num {n:?}"),
            Scalar::Nested(_) => "nested".to_string(),
            Scalar::Other => "other".to_string(),
        };
        let all = |r: Vec<&Scalar<'_>>| r.into_iter().map(one).collect::<Vec<_>>().join(", ");
        format!(
            "times [{}] levels [{}] messages [{}] components [{}] priority {:?}",
            all(j.times.iter().collect()),
            all(j.levels.iter().collect()),
            all(j.messages.iter().collect()),
            all(j.components.iter().collect()),
            j.priority
        )
    }

    #[test]
    fn a_flat_line_reads_as_serde_reads_it_and_any_other_is_left_to_serde() {
        let lines = [
            r#"{"ts":"2025-12-26T14:30:15.029Z","level":"info","service":"api","msg":"GET /a 200"}"#,
            r#"  { "time" : "2025-12-26T14:30:15Z" ,	"lvl":"WARN", "message":"slow", "x": null, "y": true, "z": false }  "#,
            r#"{"t":1766759415,"level":30,"name":"api","msg":"ok","pid":-12,"n":0}"#,
            r#"{"time":"a","timestamp":"b","ts":"c","@timestamp":"d","msg":"m","message":"n"}"#,
            r#"{"PRIORITY":"3","MESSAGE":"disk full","SYSLOG_IDENTIFIER":"kernel","__REALTIME_TIMESTAMP":"1766759415000000"}"#,
            r#"{"severityNumber":17,"body":"boom","timeUnixNano":1766759415000000000}"#,
            r#"{"level":"info","level":"error","msg":"twice"}"#,
            r#"{"msg":"café ✓","ts":"2025-12-26T14:30:15Z","n":-9223372036854775808}"#,
            r#"{"time":18446744073709551615,"msg":"max"}"#,
            r#"{}"#,
            // Left to serde (escapes, nesting, fractions, exponents):
            r#"{"msg":"say \"hi\"","ts":"2025-12-26T14:30:15Z"}"#,
            r#"{"log":{"level":"error"},"msg":"ecs"}"#,
            r#"{"t":{"$date":"2025-12-26T14:30:15Z"},"msg":"mongo"}"#,
            r#"{"ts":1766759415.123,"msg":"float"}"#,
            r#"{"ts":1.7e9,"msg":"exponent"}"#,
            r#"{"msg":"big","n":18446744073709551616,"m":-9223372036854775809}"#,
            r#"{"tags":["a","b"],"msg":"array"}"#,
            r#"{"ts":"2025-12-26T14:30:15Z","msg":"nested","ctx":{"user":{"id":7,"roles":["a",[],{}]},"ms":1.5,"ok":null},"n":[-0.25,0,1000]}"#,
            r#"{"msg":"x","ctx":[1e3]}"#,
            r#"{"ts":"2025-12-26T14:30:15Z","msg":"deep","x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
            r#"{"ts":"2025-12-26T14:30:15Z","level":["warn"],"msg":"a level that is an array"}"#,
            // Not JSON (serde says so):
            r#"{"msg":"cut"#,
            r#"{"msg":"x",}"#,
            r#"{"msg":"x"} trailing"#,
            r#"{"n":01,"msg":"leading zero"}"#,
            r#"{"n":-,"msg":"minus alone"}"#,
            r#"{"msg":"tab	inside"}"#,
            r#"{"msg":tru}"#,
            r#"{msg:"bare"}"#,
            r#"["not","an","object"]"#,
            r#"{"msg":"x","ctx":{"a":1,}}"#,
            r#"{"msg":"x","ctx":[1,2}"#,
            r#"{"msg":"x","ctx":{"a" 1}}"#,
            r#"{"msg":"x","ctx":[01]}"#,
            r#"{"msg":"x","ctx":[1.]}"#,
            r#"{"msg":"x","ctx":[1e999]}"#,
            r#"{"msg":"x"}{"msg":"y"}"#,
        ];
        let mut flat_ones = 0;
        for l in lines {
            let serde: Option<JsonLine<'_>> = serde_json::from_str(l).ok();
            if let Some(j) = read(l) {
                flat_ones += 1;
                let Some(s) = serde else { panic!("read flat but serde refuses: {l}") };
                assert_eq!(shown(&j), shown(&s), "{l}");
            }
        }
        assert_eq!(flat_ones, 13, "the flat, plain lines are read in one pass");
    }

    #[test]
    fn a_line_cut_or_changed_anywhere_is_read_flat_only_where_serde_reads_it_alike() {
        let seeds = [
            r#"{"ts":"2025-12-26T14:30:15.029Z","level":"info","service":"api","msg":"GET /a 200","n":-12,"ok":true,"x":null}"#,
            r#" {"t":1766759415 , "PRIORITY":"3","MESSAGE":"disk full","severityNumber":17,"body":"b"} "#,
            r#"{"ts":"2025-12-26T14:30:15Z","msg":"m","ctx":{"a":[1,-2.5,{"b":null}],"c":true},"d":[],"e":{}}"#,
        ];
        let bytes: &[u8] = b"{}[]\",:-+.eE0123456789 \t\ntrufalsn\\\x01a\xc3\xa9";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % n.max(1)
        };
        let mut flat_ones = 0;
        for round in 0..20_000 {
            let mut line = seeds[round % seeds.len()].as_bytes().to_vec();
            for _ in 0..1 + next(3) {
                let at = next(line.len() + 1);
                match next(3) {
                    0 if at < line.len() => {
                        line.remove(at);
                    }
                    1 => line.insert(at, bytes[next(bytes.len())]),
                    _ if at < line.len() => line[at] = bytes[next(bytes.len())],
                    _ => {}
                }
            }
            let Ok(l) = std::str::from_utf8(&line) else { continue };
            if let Some(j) = read(l) {
                flat_ones += 1;
                let s: JsonLine<'_> = match serde_json::from_str(l) {
                    Ok(s) => s,
                    Err(e) => panic!("read flat but serde refuses ({e}): {l}"),
                };
                assert_eq!(shown(&j), shown(&s), "{l}");
            }
        }
        assert!(flat_ones > 1_000, "{flat_ones}");
    }
}
