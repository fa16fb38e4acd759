//! Seek, don't scan: in a plain file whose times increase, a binary search
//! on byte offsets finds where the window begins, so a minute of a
//! multi-gigabyte log is read in milliseconds. Every probe checks that the
//! times still increase; any disorder, or a stretch without a dated line,
//! gives up the seek and the file is read whole, so the result is always
//! the full scan's.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use reconstruct_core::event::Timestamp;
use reconstruct_core::text::strip_ansi;
use reconstruct_core::timestamp::ParseContext;

use crate::index::next_line_start;
use crate::layout::{self, Carry, Locate};

/// How far times may run backwards and still count as increasing (threads
/// that log out of order by a little); the seek also starts this much
/// before the window, so such lines near the bound are still read.
pub const SLACK_SECS: i64 = 60;
/// Below this size a file is read whole: a seek would not pay.
pub const MIN_SIZE: u64 = 4 << 20;
/// A probe reads this much at a time.
const PROBE: usize = 64 << 10;
/// A probe that finds no dated line in this many bytes gives up the seek.
const PROBE_MAX: u64 = 4 << 20;

pub fn slack(t: Timestamp, secs: i64) -> Timestamp {
    Timestamp::from_unix_seconds(t.unix_seconds().saturating_add(secs), 0).unwrap_or(t)
}

/// Whether the dated lines of a sample keep their order (within the slack).
pub fn ordered(times: impl Iterator<Item = Timestamp>) -> bool {
    let mut max: Option<Timestamp> = None;
    for t in times {
        if max.is_some_and(|m| t < slack(m, -SLACK_SECS)) {
            return false;
        }
        max = Some(max.map_or(t, |m| m.max(t)));
    }
    true
}

struct Prober<'a> {
    file: &'a File,
    size: u64,
    locate: &'a Locate,
    pctx: &'a ParseContext,
    buf: Vec<u8>,
    probes: u32,
}

impl Prober<'_> {
    /// The first dated line starting at or after byte `at`: its offset and time.
    fn dated_after(&mut self, at: u64) -> io::Result<Option<(u64, Timestamp)>> {
        self.probes += 1;
        let start = next_line_start(self.file, at, self.size)?;
        let mut pos = start;
        while pos < self.size && pos - start < PROBE_MAX {
            let got = self.file.read_at(&mut self.buf, pos)?;
            if got == 0 {
                break;
            }
            let chunk = self.buf.get(..got).unwrap_or_default();
            let mut off = 0usize;
            // Whole lines only; the last, cut one is read again next time.
            while let Some(nl) = memchr::memchr(b'\n', chunk.get(off..).unwrap_or_default()) {
                let line = chunk.get(off..off + nl).unwrap_or_default();
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if !matches!(line.first(), None | Some(b' ') | Some(b'\t')) {
                    let clean = strip_ansi(line);
                    if let Some(s) = layout::read(self.locate, &clean, self.pctx, &mut Carry::default()) {
                        return Ok(Some((pos + off as u64, s.time)));
                    }
                }
                off += nl + 1;
            }
            if off == 0 {
                // One line longer than a probe: step over it.
                pos += got as u64;
            } else {
                pos += off as u64;
            }
        }
        Ok(None)
    }
}

/// Where to start reading for a window beginning at `since`: the offset of
/// a dated line before `since` minus the slack (0 when the file begins
/// later). `None` when the file does not keep its order, or a probe finds
/// no dated line: read it whole.
pub fn find(
    file: &File,
    size: u64,
    locate: &Locate,
    pctx: &ParseContext,
    since: Timestamp,
) -> io::Result<Option<(u64, u32)>> {
    let target = slack(since, -SLACK_SECS);
    let mut p = Prober { file, size, locate, pctx, buf: vec![0u8; PROBE], probes: 0 };
    // Sixteen probes spread over the file must see increasing times before
    // any is trusted: a file that starts over part way is read whole.
    let mut spread = Vec::with_capacity(17);
    for k in 0..=16u64 {
        let at = size / 16 * k;
        match p.dated_after(at.min(size.saturating_sub(1)))? {
            Some((_, t)) => spread.push(t),
            None if k == 16 => {}
            None => return Ok(None),
        }
    }
    if !ordered(spread.into_iter()) {
        return Ok(None);
    }
    let Some((mut lo, mut t_lo)) = p.dated_after(0)? else { return Ok(None) };
    if t_lo >= target {
        return Ok(Some((0, p.probes)));
    }
    let mut hi = size;
    let mut t_hi: Option<Timestamp> = None;
    while hi.saturating_sub(lo) > PROBE as u64 {
        let mid = lo + (hi - lo) / 2;
        let Some((at, t)) = p.dated_after(mid)? else { return Ok(None) };
        // Times must increase across probes: lo ≤ t ≤ hi, within the slack.
        if t < slack(t_lo, -SLACK_SECS) || t_hi.is_some_and(|h| t > slack(h, SLACK_SECS)) {
            return Ok(None);
        }
        if t < target && at < hi {
            lo = at;
            t_lo = t;
        } else {
            hi = mid;
            t_hi = Some(t);
        }
    }
    Ok(Some((lo, p.probes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconstruct_core::Zone;
    use std::io::Write;

    #[test]
    fn finds_a_line_before_the_window_and_refuses_disorder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let mut f = File::create(&path).unwrap();
        let base = 1_766_707_200i64; // 2025-12-26T00:00:00Z
        for i in 0..200_000i64 {
            let t = Timestamp::from_unix_seconds(base + i / 4, 0).unwrap();
            writeln!(f, "{} INFO line {i}", t.rfc3339()).unwrap();
            if i % 1000 == 0 {
                writeln!(f, "  continuation of {i}").unwrap();
            }
        }
        drop(f);
        let file = File::open(&path).unwrap();
        let size = file.metadata().unwrap().len();
        let pctx = ParseContext::new(Zone::Utc, Timestamp::from_unix_seconds(base + 86_400, 0).unwrap());
        let loc = layout::iso_at_start();
        let since = Timestamp::from_unix_seconds(base + 30_000, 0).unwrap();
        let (off, probes) = find(&file, size, &loc, &pctx, since).unwrap().unwrap();
        assert!(probes < 60, "{probes}");
        let mut buf = vec![0u8; 64];
        file.read_exact_at(&mut buf, off).unwrap();
        let t = layout::read(&loc, &buf, &pctx, &mut Carry::default()).unwrap().time;
        assert!(t < slack(since, -SLACK_SECS) && t > slack(since, -SLACK_SECS - 600), "{}", t.rfc3339());
        // A window before the file: from the start.
        let early = Timestamp::from_unix_seconds(base - 10, 0).unwrap();
        assert_eq!(find(&file, size, &loc, &pctx, early).unwrap().map(|f| f.0), Some(0));
        // A file that starts over part way is not sought.
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        for i in 0..200_000i64 {
            let t = Timestamp::from_unix_seconds(base + i / 8, 0).unwrap();
            writeln!(f, "{} INFO again {i}", t.rfc3339()).unwrap();
        }
        drop(f);
        let file = File::open(&path).unwrap();
        let size = file.metadata().unwrap().len();
        let late = Timestamp::from_unix_seconds(base + 20_000, 0).unwrap();
        assert_eq!(find(&file, size, &loc, &pctx, late).unwrap(), None);
    }
}
