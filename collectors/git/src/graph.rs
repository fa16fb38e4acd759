//! git's commit-graph file (`objects/info/commit-graph`), read for the walk:
//! each commit's time and parents without inflating the commit, as
//! `git log` does. A walk through a year of history to reach last month
//! spent most of its time decompressing commits it never showed.
//!
//! The format is git's `gitformat-commit-graph`: a header, a table of
//! chunks, the fan-out (`OIDF`), the sorted ids (`OIDL`), the commit data
//! (`CDAT`: tree, two parent positions, generation and time) and the extra
//! parents of octopus merges (`EDGE`). Only a single SHA-1 file is read; a
//! split chain, another hash or anything that does not add up is no graph,
//! and the walk reads the commits themselves.

use std::path::Path;

const HASH: usize = 20;
/// A parent position that says "no parent".
const NO_PARENT: u32 = 0x7000_0000;
/// In the second parent: the rest are in `EDGE`, from this index.
const OCTOPUS: u32 = 0x8000_0000;
/// The last entry of an octopus merge's list in `EDGE`.
const LAST_EDGE: u32 = 0x8000_0000;

/// A commit-graph file, checked once and then read by position.
pub struct Graph {
    data: Vec<u8>,
    commits: u32,
    fanout: usize,
    lookup: usize,
    cdat: usize,
    /// Start and end of `EDGE`, when the file has one.
    edge: Option<(usize, usize)>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([*s.first()?, *s.get(1)?, *s.get(2)?, *s.get(3)?]))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(be32(b, at)?) << 32 | u64::from(be32(b, at.checked_add(4)?)?))
}

impl Graph {
    /// The graph of the repository whose git directory is `git_dir`, if it
    /// has one that this reader can trust. Grafts, replaced objects and
    /// shallow histories change what a commit's parents are, so git itself
    /// does not use the graph then, and neither does this.
    pub fn open(git_dir: &Path) -> Option<Graph> {
        if git_dir.join("shallow").exists() || git_dir.join("info/grafts").exists() {
            return None;
        }
        if std::fs::read_dir(git_dir.join("refs/replace")).is_ok_and(|mut d| d.next().is_some()) {
            return None;
        }
        let data = std::fs::read(git_dir.join("objects/info/commit-graph")).ok()?;
        Graph::parse(data)
    }

    fn parse(data: Vec<u8>) -> Option<Graph> {
        // CGPH, version 1, hash version 1 (SHA-1), chunk count, no base graphs.
        if data.get(..4)? != b"CGPH" || *data.get(4)? != 1 || *data.get(5)? != 1 || *data.get(7)? != 0 {
            return None;
        }
        let chunks = usize::from(*data.get(6)?);
        let (mut fanout, mut lookup, mut cdat, mut edge) = (None, None, None, None);
        for i in 0..chunks {
            let at = 8usize.checked_add(i.checked_mul(12)?)?;
            let id = data.get(at..at.checked_add(4)?)?;
            let start = usize::try_from(be64(&data, at.checked_add(4)?)?).ok()?;
            let end = usize::try_from(be64(&data, at.checked_add(16)?)?).ok()?;
            if start > end || end > data.len() {
                return None;
            }
            match id {
                b"OIDF" => fanout = Some((start, end)),
                b"OIDL" => lookup = Some((start, end)),
                b"CDAT" => cdat = Some((start, end)),
                b"EDGE" => edge = Some((start, end)),
                _ => {}
            }
        }
        let (fanout, lookup, cdat) = (fanout?, lookup?, cdat?);
        if fanout.1 - fanout.0 != 256 * 4 {
            return None;
        }
        let commits = be32(&data, fanout.0 + 255 * 4)?;
        let n = usize::try_from(commits).ok()?;
        if lookup.1 - lookup.0 != n.checked_mul(HASH)? || cdat.1 - cdat.0 != n.checked_mul(HASH + 16)? {
            return None;
        }
        Some(Graph { data, commits, fanout: fanout.0, lookup: lookup.0, cdat: cdat.0, edge })
    }

    /// The position of a commit, if the graph holds it.
    pub fn position(&self, oid: &[u8]) -> Option<u32> {
        let first = usize::from(*oid.first()?);
        let lo = if first == 0 { 0 } else { be32(&self.data, self.fanout + (first - 1) * 4)? };
        let hi = be32(&self.data, self.fanout + first * 4)?.min(self.commits);
        let (mut lo, mut hi) = (lo, hi);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.oid(mid)?.cmp(oid) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The id of the commit at `pos`.
    pub fn oid(&self, pos: u32) -> Option<&[u8]> {
        let at = self.lookup.checked_add(usize::try_from(pos).ok()?.checked_mul(HASH)?)?;
        self.data.get(at..at.checked_add(HASH)?)
    }

    fn record(&self, pos: u32) -> Option<usize> {
        if pos >= self.commits {
            return None;
        }
        self.cdat.checked_add(usize::try_from(pos).ok()?.checked_mul(HASH + 16)?)
    }

    /// The committer time of the commit at `pos`, in seconds since the epoch.
    pub fn time(&self, pos: u32) -> Option<i64> {
        let at = self.record(pos)?.checked_add(HASH + 8)?;
        // The low two bits of the generation word are the time's bits 33 and 34.
        let high = u64::from(be32(&self.data, at)? & 0b11);
        let low = u64::from(be32(&self.data, at.checked_add(4)?)?);
        i64::try_from(high << 32 | low).ok()
    }

    /// The positions of the parents of the commit at `pos`, first parent first.
    pub fn parents(&self, pos: u32, out: &mut Vec<u32>) -> Option<()> {
        out.clear();
        let at = self.record(pos)?.checked_add(HASH)?;
        let (p1, p2) = (be32(&self.data, at)?, be32(&self.data, at.checked_add(4)?)?);
        if p1 == NO_PARENT {
            return Some(());
        }
        out.push(self.checked(p1)?);
        if p2 == NO_PARENT {
            return Some(());
        }
        if p2 & OCTOPUS == 0 {
            out.push(self.checked(p2)?);
            return Some(());
        }
        let (start, end) = self.edge?;
        let mut i = usize::try_from(p2 & !OCTOPUS).ok()?;
        loop {
            let at = start.checked_add(i.checked_mul(4)?)?;
            if at >= end {
                return None;
            }
            let e = be32(&self.data, at)?;
            out.push(self.checked(e & !LAST_EDGE)?);
            if e & LAST_EDGE != 0 {
                return Some(());
            }
            i = i.checked_add(1)?;
        }
    }

    fn checked(&self, pos: u32) -> Option<u32> {
        (pos < self.commits).then_some(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_that_does_not_add_up_is_a_graph() {
        assert!(Graph::parse(Vec::new()).is_none());
        assert!(Graph::parse(b"CGPH\x01\x01\x00\x00".to_vec()).is_none(), "no chunks");
        let mut split = b"CGPH\x01\x01\x03\x01".to_vec();
        split.resize(2048, 0);
        assert!(Graph::parse(split).is_none(), "a split chain's layer");
        let mut bad = b"CGPH\x01\x01\x03\x00".to_vec();
        bad.extend_from_slice(b"OIDF\x00\x00\x00\x00\xff\xff\xff\xff");
        bad.resize(4096, 0xff);
        assert!(Graph::parse(bad).is_none(), "a chunk past the end");
    }
}
