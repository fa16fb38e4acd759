//! Query text is evidence, but its literals can hold passwords and personal
//! data: they are replaced by numbered placeholders (`$1`, `$2`, as
//! pg_stat_statements shows queries) unless the user asks to keep them.

/// Replaces string literals (`'…'`, `E'…'`, `$tag$…$tag$`) and numeric
/// literals with `$n` placeholders. Identifiers (`"col"`, `t1`) and
/// existing parameters (`$1`) are kept.
pub fn redact_sql(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut n = 0u32;
    let mut i = 0;
    let mut last = 0; // start of the text not yet copied
    let mut placeholder = |out: &mut String, from: usize, to: usize, last: &mut usize| {
        out.push_str(sql.get(*last..from).unwrap_or_default());
        n += 1;
        out.push_str(&format!("${n}"));
        *last = to;
    };
    while let Some(&c) = b.get(i) {
        match c {
            b'\'' => {
                // E'…' and e'…' allow backslash escapes; the prefix goes too.
                let escapes =
                    i > 0 && matches!(b.get(i - 1), Some(b'E') | Some(b'e')) && !ident_byte(b.get(i.wrapping_sub(2)));
                let start = if escapes { i - 1 } else { i };
                let end = string_end(b, i + 1, escapes);
                placeholder(&mut out, start, end, &mut last);
                i = end;
            }
            b'"' => {
                // A quoted identifier: kept as is.
                i += 1;
                while let Some(&d) = b.get(i) {
                    i += 1;
                    if d == b'"' {
                        break;
                    }
                }
            }
            b'$' => {
                if b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    // A parameter: $1.
                    i += 1;
                    while b.get(i).is_some_and(u8::is_ascii_digit) {
                        i += 1;
                    }
                    continue;
                }
                let tag_len = b.get(i + 1..).map_or(0, |r| r.iter().take_while(|c| ident_byte(Some(c))).count());
                if b.get(i + 1 + tag_len) == Some(&b'$') {
                    let tag = sql.get(i..i + 2 + tag_len).unwrap_or("$$");
                    let body = i + 2 + tag_len;
                    let end = sql.get(body..).and_then(|r| r.find(tag)).map_or(sql.len(), |p| body + p + tag.len());
                    placeholder(&mut out, i, end, &mut last);
                    i = end;
                } else {
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                // A comment runs to the end of the line; numbers in it are kept.
                while b.get(i).is_some_and(|c| *c != b'\n') {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() && !ident_byte(i.checked_sub(1).and_then(|k| b.get(k))) => {
                let start = i;
                while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'.' || *c == b'e' || *c == b'E') {
                    i += 1;
                }
                if ident_byte(b.get(i)) {
                    continue; // 1st, 2x: part of a word
                }
                placeholder(&mut out, start, i, &mut last);
            }
            c if ident_byte(Some(&c)) => {
                while ident_byte(b.get(i)) {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(sql.get(last..).unwrap_or_default());
    out
}

fn ident_byte(c: Option<&u8>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c >= 0x80)
}

/// Index just past the closing quote of a string literal opened before `i`.
fn string_end(b: &[u8], mut i: usize, escapes: bool) -> usize {
    while let Some(&c) = b.get(i) {
        if escapes && c == b'\\' {
            i += 2;
            continue;
        }
        if c == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// A DETAIL: `Key (email)=(alice@example.com) already exists.` has its
/// values masked, and a deadlock's `Process 4711: UPDATE …` lines their literals.
pub fn redact_detail(detail: &str) -> String {
    detail
        .split('\n')
        .map(|line| {
            let t = line.trim_start();
            match t.strip_prefix("Process ").and_then(|r| r.split_once(": ")) {
                Some((pid, sql)) if pid.chars().all(|c| c.is_ascii_digit()) => {
                    format!(
                        "{}Process {pid}: {}",
                        line.get(..line.len() - t.len()).unwrap_or_default(),
                        redact_sql(sql)
                    )
                }
                _ => redact_key_values(line),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn redact_key_values(detail: &str) -> String {
    let mut out = String::with_capacity(detail.len());
    let mut rest = detail;
    while let Some(p) = rest.find(")=(") {
        let (head, tail) = rest.split_at(p + 3);
        out.push_str(head);
        // The value runs to the matching close paren.
        let mut depth = 1;
        let mut end = tail.len();
        for (k, ch) in tail.char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = k;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push('…');
        rest = tail.get(end..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_become_placeholders() {
        assert_eq!(
            redact_sql("UPDATE users SET password = 'hunter2' WHERE id = 42"),
            "UPDATE users SET password = $1 WHERE id = $2"
        );
        assert_eq!(redact_sql("SELECT 'it''s', E'a\\'b' FROM t1"), "SELECT $1, $2 FROM t1");
        assert_eq!(redact_sql("SELECT $$secret$$, $x$y$x$, $1"), "SELECT $1, $2, $1");
        assert_eq!(redact_sql("SELECT \"col1\" FROM t2 WHERE a > 3.5e2"), "SELECT \"col1\" FROM t2 WHERE a > $1");
        assert_eq!(redact_sql("SELECT 1 -- note 42\n"), "SELECT $1 -- note 42\n");
        assert_eq!(redact_sql("SELECT 'unterminated"), "SELECT $1");
        assert_eq!(redact_sql("naïve 'x'"), "naïve $1");
    }

    #[test]
    fn detail_values_are_masked() {
        assert_eq!(redact_detail("Key (email)=(alice@example.com) already exists."), "Key (email)=(…) already exists.");
        assert_eq!(redact_detail("Key (a, b)=(1, (2)) x"), "Key (a, b)=(…) x");
        assert_eq!(redact_detail("no keys here"), "no keys here");
        assert_eq!(
            redact_detail("Process 1 waits for ShareLock.\nProcess 1: UPDATE t SET a = 'x' WHERE id = 2"),
            "Process 1 waits for ShareLock.\nProcess 1: UPDATE t SET a = $1 WHERE id = $2"
        );
    }
}
