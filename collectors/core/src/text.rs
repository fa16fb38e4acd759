//! Turning raw log bytes into text that is safe to show: colour codes
//! removed, invalid UTF-8 and control characters made visible, length bounded.

use std::borrow::Cow;

/// Removes ANSI escape sequences (colours, cursor moves, OSC titles).
pub fn strip_ansi(b: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(0x1b, b).is_none() {
        return Cow::Borrowed(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c != 0x1b {
            out.push(c);
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            // CSI: ESC [ params… final byte in 0x40..=0x7e
            Some(b'[') => {
                i += 2;
                while let Some(&p) = b.get(i) {
                    i += 1;
                    if (0x40..=0x7e).contains(&p) {
                        break;
                    }
                }
            }
            // OSC: ESC ] … terminated by BEL or ESC \
            Some(b']') => {
                i += 2;
                while let Some(&p) = b.get(i) {
                    i += 1;
                    if p == 0x07 {
                        break;
                    }
                    if p == 0x1b && b.get(i) == Some(&b'\\') {
                        i += 1;
                        break;
                    }
                }
            }
            Some(_) => i += 2,
            None => i += 1,
        }
    }
    Cow::Owned(out)
}

/// Decoded text and whether the bytes held invalid UTF-8.
#[derive(Default)]
pub struct Clean {
    pub text: String,
    pub invalid_utf8: bool,
    pub truncated: bool,
}

/// Lossy UTF-8 decoding with control characters replaced (tabs become
/// spaces, others U+FFFD) and the length bounded to `max` bytes, cut on a
/// character boundary with `…`.
pub fn clean(b: &[u8], max: usize) -> Clean {
    clean_with(b, max, false)
}

/// Whether a control byte (below a blank, or DEL) is among `b`: asked of
/// every event's texts, so it looks at 16 bytes a step, each step one pass
/// the compiler makes wide. The last step is the text's last 16 bytes
/// again (or its few bytes padded with blanks), not its rest byte by byte,
/// which cost most of the test for an event's short texts.
fn has_control(b: &[u8]) -> bool {
    fn step(w: &[u8; 16]) -> bool {
        w.iter().fold(false, |any, &c| any | (c < 0x20) | (c == 0x7f))
    }
    let mut steps = b.chunks_exact(16);
    let mut any = false;
    for w in steps.by_ref() {
        any |= <&[u8; 16]>::try_from(w).is_ok_and(step);
    }
    if steps.remainder().is_empty() {
        return any;
    }
    match b.len().checked_sub(16).and_then(|from| b.get(from..)) {
        Some(last) => any | <&[u8; 16]>::try_from(last).is_ok_and(step),
        None => {
            let mut padded = [b' '; 16];
            if let Some(head) = padded.get_mut(..b.len()) {
                head.copy_from_slice(b);
            }
            any | step(&padded)
        }
    }
}

/// Like [`clean`], but line breaks stay (a CR before one goes): for
/// excerpts, whose lines (a traceback's) are evidence as they were written.
pub fn clean_lines(b: &[u8], max: usize) -> Clean {
    clean_with(b, max, true)
}

/// [`clean`] of a text already known to be UTF-8 (a cut of one checked
/// whole): it is not checked again.
pub fn clean_text(s: &str, max: usize) -> Clean {
    tidy(Cow::Borrowed(s), false, max, false)
}

/// [`clean_lines`] of a text already known to be UTF-8.
pub fn clean_lines_text(s: &str, max: usize) -> Clean {
    tidy(Cow::Borrowed(s), false, max, true)
}

fn clean_with(b: &[u8], max: usize, keep_lines: bool) -> Clean {
    let (text, invalid_utf8) = match std::str::from_utf8(b) {
        Ok(s) => (Cow::Borrowed(s), false),
        Err(_) => (String::from_utf8_lossy(b), true),
    };
    tidy(text, invalid_utf8, max, keep_lines)
}

fn tidy(text: Cow<'_, str>, invalid_utf8: bool, max: usize, keep_lines: bool) -> Clean {
    let needs_work = text.len() > max || has_control(text.as_bytes());
    if !needs_work {
        return Clean { text: text.into_owned(), invalid_utf8, truncated: false };
    }
    let mut out = String::with_capacity(text.len().min(max + 4));
    let mut truncated = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if out.len() + ch.len_utf8() > max {
            truncated = true;
            break;
        }
        if keep_lines && ch == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        out.push(match ch {
            '\n' if keep_lines => '\n',
            '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        });
    }
    if truncated {
        out.push('…');
    }
    Clean { text: out, invalid_utf8, truncated }
}

/// The URL with any password replaced by `***` (`https://ops:***@host/`),
/// for messages about a URL that could not even be read.
pub fn mask_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = url.get(s + 3..at).unwrap_or_default();
            let user = cred.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", url.get(..s + 3).unwrap_or_default(), url.get(at..).unwrap_or_default())
        }
        _ => url.to_string(),
    }
}

/// An error with its causes, `error: cause: cause`, the way a person reads
/// it; a cause whose text the message already holds is not said twice.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// `1 event`, `2 events`, `4,115 events`: a count with its noun agreeing.
pub fn count(n: u64, one: &str, many: &str) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + many.len() + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push(' ');
    out.push_str(if n == 1 { one } else { many });
    out
}

/// Edit distance between two names (each read up to 256 characters, so the
/// cost stays bounded): the closest of several names to a mistyped one.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().take(256).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().take(256).enumerate() {
        let mut cur = vec![i.saturating_add(1)];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0).saturating_add(usize::from(ca != *cb));
            let del = prev.get(j.saturating_add(1)).copied().unwrap_or(0).saturating_add(1);
            let ins = cur.get(j).copied().unwrap_or(0).saturating_add(1);
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// A word for a POSIX shell: as it is when it needs no quoting, else in
/// single quotes, so evidence commands can be pasted as they are shown.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_control_byte_is_found_wherever_it_lies() {
        for len in [0usize, 1, 31, 32, 33, 64, 100] {
            let plain = vec![b'a'; len];
            assert!(!has_control(&plain), "{len}");
            for at in 0..len {
                for c in [0u8, b'\t', b'\n', 0x1f, 0x7f] {
                    let mut b = plain.clone();
                    if let Some(x) = b.get_mut(at) {
                        *x = c;
                    }
                    assert!(has_control(&b), "{len} {at} {c}");
                }
            }
        }
        assert!(!has_control("é ü 0x20 ~".as_bytes()));
    }

    #[test]
    fn strips_colours() {
        assert_eq!(&*strip_ansi(b"\x1b[31mERROR\x1b[0m boom"), b"ERROR boom");
        assert_eq!(&*strip_ansi(b"\x1b]0;title\x07x"), b"x");
        assert_eq!(&*strip_ansi(b"plain"), b"plain");
        assert_eq!(&*strip_ansi(b"dangling\x1b"), b"dangling");
        assert_eq!(&*strip_ansi(b"dangling\x1b["), b"dangling");
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1, "event", "events"), "1 event");
        assert_eq!(count(0, "event", "events"), "0 events");
        assert_eq!(count(4115, "event", "events"), "4,115 events");
    }

    #[test]
    fn cleans_bytes() {
        let c = clean(b"a\x00b\tc\xffd", 100);
        assert_eq!(c.text, "a\u{FFFD}b c\u{FFFD}d");
        assert!(c.invalid_utf8);
        let c = clean_lines(b"boom\r\nTraceback:\n  x\x00", 100);
        assert_eq!(c.text, "boom\nTraceback:\n  x\u{FFFD}");
        let c = clean("héllo wörld".as_bytes(), 3);
        assert_eq!(c.text, "hé…");
        assert!(c.truncated);
    }

    #[test]
    fn a_control_byte_is_found_wherever_it_is() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..100usize {
            for _ in 0..300 {
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Mostly letters; now and then any byte, anywhere.
                        if seed % 20 == 0 {
                            (seed >> 8) as u8
                        } else {
                            b'a' + (seed >> 16) as u8 % 26
                        }
                    })
                    .collect();
                let control = b.iter().any(|&c| c < 0x20 || c == 0x7f);
                assert_eq!(has_control(&b), control, "{b:?}");
            }
        }
    }
}
