//! A byte-line reader with bounded memory: no UTF-8 assumption, CRLF
//! trimmed, and a line longer than the limit is cut (and said so) instead
//! of growing the buffer without end.

use std::io::{self, Read};

/// One line: its bytes (without `\n` or a trailing `\r`) and its 1-based number.
pub struct Line<'a> {
    pub bytes: &'a [u8],
    pub number: u64,
    /// The line was longer than the reader's limit; the rest was skipped.
    pub truncated: bool,
    /// The reader's whole buffer, which `bytes` lies in, and a number that
    /// changes whenever the buffer's contents do: work done once a buffer
    /// (a search over every line in it) can be reused for its lines.
    pub chunk: &'a [u8],
    pub generation: u64,
}

pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    number: u64,
    max_line: usize,
    skipping: bool,
    bytes_read: u64,
    generation: u64,
}

/// The read size; the buffer grows beyond it only for longer lines. Small
/// enough that a thousand open logs do not weigh a quarter of a gigabyte.
const CHUNK: usize = 128 * 1024;
/// The least buffer of a reader that expects a short input.
const MIN_CHUNK: usize = 4 * 1024;

impl<R: Read> LineReader<R> {
    /// `max_line`: the longest line kept whole; longer lines are truncated.
    pub fn new(inner: R, max_line: usize) -> Self {
        Self::expecting(inner, max_line, u64::MAX)
    }

    /// A reader of an input known to hold about `bytes` more: its buffer is
    /// no bigger than that needs (a small log read again and again from an
    /// offset, parked in between, is not given a whole read size each
    /// time). A longer input is still read whole, in smaller reads.
    pub fn expecting(inner: R, max_line: usize, bytes: u64) -> Self {
        let max_line = max_line.max(1);
        let room = usize::try_from(bytes.saturating_add(1)).unwrap_or(usize::MAX).clamp(MIN_CHUNK, CHUNK);
        LineReader {
            inner,
            buf: vec![0; room.min(CHUNK.max(max_line.min(CHUNK)))],
            pos: 0,
            len: 0,
            eof: false,
            number: 0,
            max_line,
            skipping: false,
            bytes_read: 0,
            generation: 0,
        }
    }

    /// A reader that begins part way into its input: `lines_before` lines
    /// and `bytes_before` bytes were skipped (a seek), so numbers go on from
    /// there.
    pub fn resuming(inner: R, max_line: usize, lines_before: u64, bytes_before: u64) -> Self {
        LineReader::new(inner, max_line).from_line(lines_before, bytes_before)
    }

    /// Numbers lines and counts bytes as if `lines_before` lines and
    /// `bytes_before` bytes had been read (the input was sought past them).
    pub fn from_line(mut self, lines_before: u64, bytes_before: u64) -> Self {
        self.number = lines_before;
        self.bytes_read = bytes_before;
        self
    }

    /// Lines handed out so far.
    pub fn lines(&self) -> u64 {
        self.number
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The input's offset of the next byte not yet handed out in a line.
    pub fn offset(&self) -> u64 {
        self.bytes_read.saturating_sub(self.len.saturating_sub(self.pos) as u64)
    }

    /// Reads more input behind what is unread; grows the buffer only while a
    /// single line is longer than it and shorter than the limit.
    fn fill(&mut self) -> io::Result<()> {
        self.generation += 1;
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
        }
        if self.len == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.max_line + 1).max(self.buf.len() + 1);
            self.buf.resize(grown, 0);
        }
        loop {
            let free = self.buf.get_mut(self.len..).unwrap_or_default();
            match self.inner.read(free) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.len += n;
                    self.bytes_read += n as u64;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        loop {
            let pending = self.buf.get(self.pos..self.len).unwrap_or_default();
            if self.skipping {
                if let Some(i) = memchr::memchr(b'\n', pending) {
                    self.pos += i + 1;
                    self.skipping = false;
                    continue;
                }
                self.pos = self.len;
                if self.eof {
                    return Ok(None);
                }
                self.fill()?;
                continue;
            }
            if let Some(i) = memchr::memchr(b'\n', pending) {
                let start = self.pos;
                self.pos += i + 1;
                self.number += 1;
                return Ok(Some(self.line(start, start + i, false)));
            }
            if pending.len() >= self.max_line {
                let start = self.pos;
                self.pos += self.max_line;
                self.skipping = true;
                self.number += 1;
                return Ok(Some(self.line(start, start + self.max_line, true)));
            }
            if self.eof {
                if pending.is_empty() {
                    return Ok(None);
                }
                let (start, end) = (self.pos, self.len);
                self.pos = self.len;
                self.number += 1;
                return Ok(Some(self.line(start, end, false)));
            }
            self.fill()?;
        }
    }

    fn line(&self, start: usize, mut end: usize, truncated: bool) -> Line<'_> {
        if !truncated && end > start && self.buf.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        Line {
            bytes: self.buf.get(start..end).unwrap_or_default(),
            number: self.number,
            truncated,
            chunk: self.buf.get(..self.len).unwrap_or_default(),
            generation: self.generation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<(Vec<u8>, u64, bool)> {
        let mut r = LineReader::new(input, max);
        let mut out = vec![];
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.bytes.to_vec(), l.number, l.truncated));
        }
        out
    }

    #[test]
    fn splits_lines_and_trims_crlf() {
        let got = all(b"a\r\nb\n\nlast", 100);
        assert_eq!(
            got,
            vec![
                (b"a".to_vec(), 1, false),
                (b"b".to_vec(), 2, false),
                (vec![], 3, false),
                (b"last".to_vec(), 4, false)
            ]
        );
        assert!(all(b"", 100).is_empty());
    }

    #[test]
    fn a_reader_expecting_little_reads_all_the_same() {
        let mut input = Vec::new();
        for i in 0..3000 {
            input.extend_from_slice(format!("line {i} {}\r\n", "y".repeat(i % 97)).as_bytes());
        }
        // Longer than a read size: cut at the first limit, whole at the second.
        input.extend_from_slice(&vec![b'z'; 3 * CHUNK]);
        input.extend_from_slice(b"\nend");
        for max in [CHUNK + 10, 4 * CHUNK] {
            let whole = all(&input, max);
            let mut r = LineReader::expecting(&input[..], max, 10).from_line(7, 0);
            let mut got = vec![];
            while let Some(l) = r.next_line().unwrap() {
                got.push((l.bytes.to_vec(), l.number - 7, l.truncated));
            }
            let first = got.iter().zip(&whole).position(|(a, b)| a != b);
            assert!(
                first.is_none() && got.len() == whole.len(),
                "max {max}: {first:?} {:?} {:?}",
                first.map(|i| (got[i].0.len(), got[i].2)),
                first.map(|i| (whole[i].0.len(), whole[i].2))
            );
            assert!(r.buf.len() <= max + 1);
            assert_eq!(r.bytes_read(), input.len() as u64);
        }
        assert_eq!(LineReader::expecting(&b""[..], 100, 10).buf.len(), MIN_CHUNK);
        assert_eq!(LineReader::expecting(&b""[..], 1 << 20, u64::MAX).buf.len(), CHUNK);
    }

    #[test]
    fn long_lines_are_cut_not_lost() {
        let mut input = vec![b'x'; 3 * CHUNK];
        input.extend_from_slice(b"\nnext\n");
        let got = all(&input, CHUNK + 10);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0.len(), CHUNK + 10);
        assert!(got[0].2);
        assert_eq!(got[1], (b"next".to_vec(), 2, false));
        // A line just under the limit stays whole.
        let mut input = vec![b'y'; 1_000_000];
        input.push(b'\n');
        let got = all(&input, 2 << 20);
        assert_eq!((got[0].0.len(), got[0].2), (1_000_000, false));
    }
}
