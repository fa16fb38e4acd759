//! Before the baseline a report wants only the lines that may be changes:
//! one raw search over the bytes finds the words such a line must hold, and
//! only the records holding them are read line by line. The rest are
//! stepped over whole, their lines counted, not read.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::LazyLock;

use aho_corasick::packed::Searcher;
use reconstruct_core::EventSink;
use reconstruct_core::Stopped;

use super::Scanner;

/// Bytes searched at a time: lines longer than this end the sweep (the
/// rest is read line by line, as without it).
const BLOCK: usize = 256 << 10;
/// Bytes of the block before kept behind the next one, where the head of a
/// record a hit lies in may be found.
const TAIL: usize = 64 << 10;

/// Where line-by-line reading goes on after a sweep, and what it did.
pub(super) struct Resume {
    pub offset: u64,
    /// Lines before `offset`.
    pub lines: u64,
    /// Lines the sweep passed over, and those of them read as lines.
    pub swept: u64,
    pub read: u64,
}

/// What is searched for: a piece of each word that a line the scanner may
/// build before the baseline holds (a change cue word, a package manager's
/// action word), or of a sign that the line reads differently from its raw
/// bytes (a JSON `\u00` escape, which may spell a letter; colour codes,
/// whose escape byte is searched for apart, as the search takes no one-byte
/// word) or changes how the lines after it read (`#Fields:`). Each piece is
/// the part of its word whose first three bytes are rarest in logs: the
/// search checks every place those three bytes occur.
const NEEDLES: [&str; 24] = [
    "rsio", "tart", "oot", "isten", "pgr", "lying", "igr", "pplied", "hange", "nstall", "NSTALL", "PGR", "pda", "PDA",
    "wngrade", "WNGRADE", "move", "MOVE", "rase", "RASE", "urg", "URG", "\\u00", "#Fi",
];

fn searcher() -> Option<&'static Searcher> {
    static WORDS: LazyLock<Option<Searcher>> = LazyLock::new(|| Searcher::new(NEEDLES));
    WORDS.as_ref()
}

/// Whether the sweep can run here (the search needs SIMD the machine has).
pub(super) fn available() -> bool {
    searcher().is_some()
}

/// Lines before an offset, counted from a point that moves with the asks.
struct Count {
    at: u64,
    lines: u64,
}

impl Count {
    /// Lines before `to`, which lies in `buf` (read from `buf_off`), as
    /// does the point counted to.
    fn before(&mut self, buf: &[u8], buf_off: u64, to: u64) -> u64 {
        let idx = |o: u64| usize::try_from(o.saturating_sub(buf_off)).unwrap_or(usize::MAX).min(buf.len());
        let (a, b) = (idx(self.at), idx(to));
        if b >= a {
            self.lines = self.lines.saturating_add(bytecount::count(buf.get(a..b).unwrap_or_default(), b'\n') as u64);
        } else {
            self.lines = self.lines.saturating_sub(bytecount::count(buf.get(b..a).unwrap_or_default(), b'\n') as u64);
        }
        self.at = to;
        self.lines
    }
}

/// Sweeps `start..end` of a file, where `start` is the offset of the next
/// line to read (`start_line` lines lie before it; the first of them may
/// carry on the record the scanner holds) and `end` the start of a dated
/// line. Records holding none of the words are stepped over; the others
/// go to the scanner whole, with their line numbers.
pub(super) fn run(
    sc: &mut Scanner,
    file: &File,
    start: u64,
    start_line: u64,
    end: u64,
    sink: &mut dyn EventSink,
) -> Result<Resume, Stopped> {
    let mut resume = Resume { offset: start, lines: start_line, swept: 0, read: 0 };
    let Some(words) = searcher() else { return Ok(resume) };
    let mut buf: Vec<u8> = Vec::new();
    let mut buf_off = start;
    let mut count = Count { at: start, lines: start_line };
    // The lines at `resume.offset` carry on the scanner's record (`feeding`),
    // or a record begins there; all before it went to the scanner or were
    // stepped over in whole records.
    let mut feeding = true;
    let mut hits: Vec<usize> = Vec::new();
    // Where the search began again for a record longer than what is kept.
    let mut again: Option<u64> = None;
    'blocks: loop {
        let read_to = buf_off.saturating_add(buf.len() as u64);
        if read_to >= end {
            break;
        }
        // Keep the last lines read, where a hit's record may have begun.
        let tail = buf.len().saturating_sub(TAIL);
        let keep = match memchr::memchr(b'\n', buf.get(tail..).unwrap_or_default()) {
            Some(i) if tail > 0 => tail + i + 1,
            _ => 0,
        };
        if count.at < buf_off.saturating_add(keep as u64) {
            count.before(&buf, buf_off, buf_off.saturating_add(keep as u64));
        }
        buf.drain(..keep);
        buf_off = buf_off.saturating_add(keep as u64);
        let from = buf.len();
        // A block, or more where one line is longer (up to the longest line
        // the scanner keeps whole).
        let mut got = 0usize;
        let cut = loop {
            let at = read_to.saturating_add(got as u64);
            let want = usize::try_from(end.saturating_sub(at)).unwrap_or(BLOCK).min(BLOCK);
            buf.resize(from + got + want, 0);
            let n = read_full(file, buf.get_mut(from + got..).unwrap_or_default(), at).unwrap_or(0);
            got += n;
            buf.truncate(from + got);
            if n == 0 {
                // Cut short or unreadable: reading line by line says why.
                return Ok(done(resume, start_line));
            }
            if read_to.saturating_add(got as u64) >= end {
                break None;
            }
            // Whole lines only, unless the region ends here.
            if let Some(i) = memchr::memrchr(b'\n', buf.get(from..).unwrap_or_default()) {
                break Some(from + i + 1);
            }
            if got >= super::MAX_LINE {
                // A line longer than the scanner keeps: read line by line from here.
                return Ok(done(resume, start_line));
            }
        };
        if let Some(c) = cut {
            buf.truncate(c);
        }
        let fresh = buf.get(from..).unwrap_or_default();
        hits.clear();
        hits.extend(words.find_iter(fresh).map(|m| from + m.start()));
        let marked = hits.len();
        hits.extend(memchr::memchr_iter(0x1b, fresh).map(|i| from + i));
        if !fresh.is_ascii() {
            invalid_utf8(fresh, from, &mut hits);
        }
        if hits.len() > marked {
            hits.sort_unstable();
        }
        // Where the hits not yet read begin: a line start.
        let mut at = from;
        if feeding {
            match feed(sc, &buf, buf_off, from, false, &mut count, &mut resume, sink)? {
                Some(head) => {
                    feeding = false;
                    at = head;
                }
                None => continue,
            }
        }
        for &h in &hits {
            if h < at {
                continue;
            }
            // The record's head: back to a dated line, at the latest the one
            // the last record read (or stepped over) ended at.
            let floor = resume.offset.checked_sub(buf_off).and_then(|f| usize::try_from(f).ok());
            let mut head = memchr::memrchr(b'\n', buf.get(..h).unwrap_or_default()).map_or(0, |i| i + 1);
            while Some(head) != floor && !sc.is_head(line_at(&buf, head)) {
                if head == 0 {
                    // The record began before what is kept: search again
                    // from the last record's end, once.
                    if again == Some(resume.offset) {
                        return Ok(done(resume, start_line));
                    }
                    again = Some(resume.offset);
                    buf.clear();
                    buf_off = resume.offset;
                    count = Count { at: resume.offset, lines: resume.lines };
                    continue 'blocks;
                }
                let before = buf.get(..head - 1).unwrap_or_default();
                head = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
            }
            match feed(sc, &buf, buf_off, head, true, &mut count, &mut resume, sink)? {
                Some(next) => at = next,
                None => feeding = true,
            }
            if sc.w3c.is_some() || sc.done {
                // A W3C header changes how every line after it reads.
                return Ok(done(resume, start_line));
            }
            if feeding {
                break;
            }
        }
    }
    // The region ends at a dated line: every record before it is whole.
    let end_in_buf = end.min(buf_off.saturating_add(buf.len() as u64));
    resume.lines = count.before(&buf, buf_off, end_in_buf);
    resume.offset = end_in_buf;
    Ok(done(resume, start_line))
}

fn done(mut resume: Resume, start_line: u64) -> Resume {
    resume.swept = resume.lines.saturating_sub(start_line);
    resume
}

/// The line starting at `at`, without its line end.
fn line_at(buf: &[u8], at: usize) -> &[u8] {
    let rest = buf.get(at..).unwrap_or_default();
    let line = rest.get(..memchr::memchr(b'\n', rest).unwrap_or(rest.len())).unwrap_or_default();
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Hands the scanner the lines from `at`: the first as a record's head when
/// `head`, then the lines after it until a dated one, which is not read.
/// Its index, or `None` when the buffer ends first (the record may go on).
#[allow(clippy::too_many_arguments)]
fn feed(
    sc: &mut Scanner,
    buf: &[u8],
    buf_off: u64,
    at: usize,
    head: bool,
    count: &mut Count,
    resume: &mut Resume,
    sink: &mut dyn EventSink,
) -> Result<Option<usize>, Stopped> {
    let mut i = at;
    let mut first = head;
    while i < buf.len() {
        let line = line_at(buf, i);
        let next = buf.get(i..).and_then(|r| memchr::memchr(b'\n', r)).map_or(buf.len(), |n| i + n + 1);
        let offset = buf_off.saturating_add(i as u64);
        let before = count.before(buf, buf_off, offset);
        if !first && sc.is_head(line) {
            resume.offset = offset;
            resume.lines = before;
            return Ok(Some(i));
        }
        first = false;
        sc.line(before.saturating_add(1), line, false, sink)?;
        resume.read = resume.read.saturating_add(1);
        i = next;
    }
    resume.offset = buf_off.saturating_add(buf.len() as u64);
    resume.lines = count.before(buf, buf_off, resume.offset);
    Ok(None)
}

/// Marks the first invalid UTF-8 of each line holding some: the scanner
/// says where its bytes could not be read, read or not.
fn invalid_utf8(fresh: &[u8], from: usize, hits: &mut Vec<usize>) {
    let mut at = 0usize;
    while let Some(rest) = fresh.get(at..).filter(|r| !r.is_empty()) {
        let Err(e) = std::str::from_utf8(rest) else { break };
        let bad = at + e.valid_up_to();
        hits.push(from + bad);
        at = memchr::memchr(b'\n', fresh.get(bad..).unwrap_or_default()).map_or(fresh.len(), |i| bad + i + 1);
    }
}

/// Reads until `buf` is full or the file ends.
fn read_full(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    let mut got = 0usize;
    while got < buf.len() {
        let Some(rest) = buf.get_mut(got..) else { break };
        match file.read_at(rest, at.saturating_add(got as u64)) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::cues::Cues;

    #[test]
    fn the_search_is_built_and_finds_every_word() {
        assert!(available());
        let words = Cues::words().chain(crate::packages::RAW_WORDS).chain(["\\u00", "#Fields:"]);
        for w in words {
            assert!(NEEDLES.iter().any(|n| w.contains(n)), "{w}");
        }
    }
}
