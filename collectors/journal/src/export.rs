//! The journal export format (`journalctl -o export`), read and written.
//! Entries are separated by an empty line; a field is `NAME=value` on one
//! line, or, when the value holds a newline or binary data, `NAME`, a
//! newline, its length as 64-bit little-endian, the bytes, and a newline.
//! This is both what `journalctl` streams live and the saved form a bundle
//! keeps, so one reader serves both.

use std::io::{self, BufRead};

/// One journal entry: its fields in order, values as bytes (not
/// necessarily UTF-8), and the line of the export stream it starts on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub line: u64,
    pub fields: Vec<(String, Vec<u8>)>,
}

impl Entry {
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_slice())
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// Something in the stream that is not an entry's field, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    pub line: u64,
    pub message: String,
}

/// Binary field values larger than this are cut off: a journal field is
/// bounded by journald itself (far below this), so more is damage.
const MAX_FIELD: u64 = 64 << 20;

/// Reads entries one by one from an export stream.
pub struct Reader<R: BufRead> {
    input: R,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Self {
        Reader { input, line: 0, buf: Vec::new(), done: false }
    }

    /// The next entry, `Ok(None)` at the end. Damage (a binary field cut
    /// short, a line that is not a field) ends the entry it is in and is
    /// handed to `damage`; reading goes on with the next entry.
    pub fn next_entry(&mut self, damage: &mut dyn FnMut(Damage)) -> io::Result<Option<Entry>> {
        if self.done {
            return Ok(None);
        }
        let mut entry = Entry::default();
        loop {
            self.buf.clear();
            let n = self.input.read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                self.done = true;
                return Ok((!entry.fields.is_empty()).then_some(entry));
            }
            self.line = self.line.saturating_add(1);
            let text = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
            if text.is_empty() {
                if entry.fields.is_empty() {
                    continue;
                }
                return Ok(Some(entry));
            }
            if entry.fields.is_empty() {
                entry.line = self.line;
            }
            match text.iter().position(|c| *c == b'=') {
                Some(eq) => {
                    let (k, v) = text.split_at(eq);
                    let name = String::from_utf8_lossy(k).into_owned();
                    entry.fields.push((name, v.get(1..).unwrap_or_default().to_vec()));
                }
                None => {
                    let name = String::from_utf8_lossy(text).into_owned();
                    let at = self.line;
                    match self.binary_value()? {
                        Some(v) => entry.fields.push((name, v)),
                        None => {
                            damage(Damage {
                                line: at,
                                message: format!("field {name}: its binary value is cut short"),
                            });
                            self.done = true;
                            return Ok((!entry.fields.is_empty()).then_some(entry));
                        }
                    }
                }
            }
        }
    }

    /// A binary value: 8 bytes of length, the bytes, a newline. `None` when
    /// the stream ends first or the length is absurd.
    fn binary_value(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut len = [0u8; 8];
        if read_exact_or_eof(&mut self.input, &mut len)? < 8 {
            return Ok(None);
        }
        let n = u64::from_le_bytes(len);
        if n > MAX_FIELD {
            return Ok(None);
        }
        let mut v = vec![0u8; usize::try_from(n).unwrap_or(0)];
        if read_exact_or_eof(&mut self.input, &mut v)? < v.len() {
            return Ok(None);
        }
        let mut nl = [0u8; 1];
        if read_exact_or_eof(&mut self.input, &mut nl)? < 1 || nl[0] != b'\n' {
            return Ok(None);
        }
        // The line count follows the bytes as an editor would show them.
        let inside = v.iter().filter(|c| **c == b'\n').count() as u64;
        self.line = self.line.saturating_add(inside).saturating_add(1);
        Ok(Some(v))
    }
}

fn read_exact_or_eof<R: BufRead>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let n = r.read(buf.get_mut(got..).unwrap_or_default())?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

/// Writes one entry in export form, as `journalctl -o export` does.
pub fn write_entry(out: &mut dyn io::Write, e: &Entry) -> io::Result<()> {
    for (k, v) in &e.fields {
        let plain = v.iter().all(|c| *c >= 0x20 || *c == b'\t');
        if plain {
            out.write_all(k.as_bytes())?;
            out.write_all(b"=")?;
            out.write_all(v)?;
            out.write_all(b"\n")?;
        } else {
            out.write_all(k.as_bytes())?;
            out.write_all(b"\n")?;
            out.write_all(&(v.len() as u64).to_le_bytes())?;
            out.write_all(v)?;
            out.write_all(b"\n")?;
        }
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(fields: &[(&str, &[u8])]) -> Entry {
        Entry { line: 0, fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect() }
    }

    #[test]
    fn reads_back_what_it_writes_binary_fields_included() {
        let a = entry(&[("__REALTIME_TIMESTAMP", b"1766759415000000"), ("MESSAGE", b"plain")]);
        let b = entry(&[("MESSAGE", b"two\nlines"), ("BLOB", b"\x00\x01\xff"), ("PRIORITY", b"3")]);
        let mut bytes = Vec::new();
        write_entry(&mut bytes, &a).unwrap();
        write_entry(&mut bytes, &b).unwrap();
        let mut r = Reader::new(&bytes[..]);
        let mut damage = Vec::new();
        let x = r.next_entry(&mut |d| damage.push(d)).unwrap().unwrap();
        let y = r.next_entry(&mut |d| damage.push(d)).unwrap().unwrap();
        assert!(r.next_entry(&mut |d| damage.push(d)).unwrap().is_none());
        assert_eq!((x.line, x.fields), (1, a.fields));
        // Entry a: 2 lines and a blank; b starts on line 4.
        assert_eq!((y.line, y.fields), (4, b.fields));
        assert!(damage.is_empty());
    }

    #[test]
    fn a_stream_cut_inside_a_binary_field_keeps_what_came_before() {
        let mut bytes = b"MESSAGE=first\nPRIORITY=6\n\nMESSAGE=second\nBLOB\n".to_vec();
        bytes.extend_from_slice(&100u64.to_le_bytes());
        bytes.extend_from_slice(b"short");
        let mut r = Reader::new(&bytes[..]);
        let mut damage = Vec::new();
        let mut got = Vec::new();
        while let Some(e) = r.next_entry(&mut |d| damage.push(d)).unwrap() {
            got.push(e.text("MESSAGE").unwrap());
        }
        assert_eq!(got, vec!["first", "second"]);
        assert_eq!(damage, vec![Damage { line: 5, message: "field BLOB: its binary value is cut short".into() }]);
    }

    #[test]
    fn absurd_lengths_and_byte_soup_never_panic() {
        let mut bytes = b"X\n".to_vec();
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        let mut r = Reader::new(&bytes[..]);
        while r.next_entry(&mut |_| {}).unwrap().is_some() {}
        let mut seed = 7u64;
        for _ in 0..200 {
            let soup: Vec<u8> = (0..512)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 56) as u8
                })
                .collect();
            let mut r = Reader::new(&soup[..]);
            while r.next_entry(&mut |_| {}).unwrap().is_some() {}
        }
    }
}
