//! The paths two trees differ in, as `git log --name-only` lists them, read
//! from the trees' raw objects.
//!
//! libgit2 parses a tree into an array of entries, reading each mode with a
//! general number parser and growing the array as it goes: that was two
//! thirds of a week's walk. The raw object is already in git's tree order,
//! so the two lists are merge-walked in place, each entry read only as far
//! as the walk needs it.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

use git2::{ObjectType, Odb, OdbObject, Oid};

/// The length of a SHA-1 object id in a tree entry.
const ID: usize = 20;

/// Trees already read in this walk, by id: a commit's trees are compared
/// with its parent's, which are the next commit's own (libgit2's cache
/// leaves out trees over 4 KiB, so a wide tree was read twice).
pub struct Trees<'o> {
    odb: &'o Odb<'o>,
    kept: HashMap<Oid, Rc<OdbObject<'o>>>,
}

impl<'o> Trees<'o> {
    const MAX: usize = 64;

    pub fn new(odb: &'o Odb<'o>) -> Trees<'o> {
        Trees { odb, kept: HashMap::new() }
    }

    fn get(&mut self, id: Oid) -> Result<Rc<OdbObject<'o>>, git2::Error> {
        if let Some(t) = self.kept.get(&id) {
            return Ok(Rc::clone(t));
        }
        let t = Rc::new(self.odb.read(id)?);
        if t.kind() != ObjectType::Tree {
            return Err(git2::Error::from_str(&format!("object {id} is a {}, not a tree", t.kind())));
        }
        if self.kept.len() >= Self::MAX {
            self.kept.clear();
        }
        self.kept.insert(id, Rc::clone(&t));
        Ok(t)
    }
}

/// One entry of a raw tree: `<octal mode> <name>\0<20-byte id>`.
#[derive(Clone, Copy)]
struct Entry<'a> {
    mode: &'a [u8],
    name: &'a [u8],
    id: &'a [u8],
    /// A subtree (mode 040000; git writes it `40000`). A submodule's
    /// commit (160000) is not one: `git log` lists it as a path.
    tree: bool,
}

/// The entries of a raw tree, in the order it holds them.
struct Entries<'a> {
    rest: &'a [u8],
    tree: Oid,
}

impl<'a> Entries<'a> {
    /// The first entry and what follows it, or none at the end.
    fn first(&self) -> Result<Option<(Entry<'a>, &'a [u8])>, git2::Error> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let entry = (|| {
            let nul = memchr::memchr(0, self.rest)?;
            let (head, rest) = (self.rest.get(..nul)?, self.rest.get(nul.checked_add(1)?..)?);
            let space = memchr::memchr(b' ', head)?;
            let (mode, name) = (head.get(..space)?, head.get(space.checked_add(1)?..)?);
            let id = rest.get(..ID)?;
            // An empty or non-octal mode, or an empty name, is a corrupt tree, as git reads it.
            let bits = mode.iter().try_fold(0u32, |m, &d| match d {
                b'0'..=b'7' => m.checked_mul(8)?.checked_add(u32::from(d - b'0')),
                _ => None,
            })?;
            if mode.is_empty() || name.is_empty() {
                return None;
            }
            Some((Entry { mode, name, id, tree: bits & 0o170000 == 0o040000 }, rest.get(ID..)?))
        })();
        match entry {
            Some(e) => Ok(Some(e)),
            None => Err(git2::Error::from_str(&format!("tree {} is malformed", self.tree))),
        }
    }

    /// Passes over the entries at the start of both lists whose bytes are
    /// the same (the same mode, name and id): most of two trees a commit
    /// apart. Their bytes are compared 16 at a time, and only the shared
    /// run is read entry by entry, for where its last whole entry ends.
    fn skip_shared(a: &mut Entries<'a>, b: &mut Entries<'a>) {
        let shared = shared_prefix(a.rest, b.rest);
        let mut end = 0usize;
        // An entry is its mode and name up to a NUL, then the id's 20 bytes (which may hold a NUL).
        while let Some(next) = a
            .rest
            .get(end..shared)
            .and_then(|r| memchr::memchr(0, r))
            .and_then(|nul| end.checked_add(nul)?.checked_add(1 + ID))
            .filter(|&next| next <= shared)
        {
            end = next;
        }
        a.rest = a.rest.get(end..).unwrap_or_default();
        b.rest = b.rest.get(end..).unwrap_or_default();
    }
}

/// How many bytes `a` and `b` share at their start.
fn shared_prefix(a: &[u8], b: &[u8]) -> usize {
    let word = |c: &[u8]| <[u8; 16]>::try_from(c).map(u128::from_ne_bytes).ok();
    let whole = a.chunks_exact(16).zip(b.chunks_exact(16)).take_while(|(x, y)| word(x) == word(y)).count() * 16;
    let tail = match (a.get(whole..), b.get(whole..)) {
        (Some(x), Some(y)) => x.iter().zip(y).take_while(|(p, q)| p == q).count(),
        _ => 0,
    };
    whole.saturating_add(tail)
}

/// The raw entries of tree `id`, or none for a side that has no tree.
fn entries<'a>(tree: Option<&'a OdbObject<'_>>, id: Option<Oid>) -> Entries<'a> {
    Entries { rest: tree.map_or(&[][..], OdbObject::data), tree: id.unwrap_or_else(Oid::zero) }
}

/// The paths that differ between two trees, as `git log --name-only` lists
/// them: a path whose content or mode changed, or that is on one side only.
/// Subtrees with the same id are equal and are not entered, so the cost
/// follows the change, not the size of the tree (libgit2's tree-to-tree diff
/// walked every entry of both trees).
pub fn changed_paths(
    trees: &mut Trees<'_>,
    old: Option<Oid>,
    new: Option<Oid>,
    prefix: &str,
    out: &mut Vec<String>,
) -> Result<(), git2::Error> {
    let a = old.map(|id| trees.get(id)).transpose()?;
    let b = new.map(|id| trees.get(id)).transpose()?;
    let (mut ea, mut eb) = (entries(a.as_deref(), old), entries(b.as_deref(), new));
    loop {
        Entries::skip_shared(&mut ea, &mut eb);
        let (x, y) = (ea.first()?, eb.first()?);
        // Both lists are in git's tree order; merge-walk them.
        let order = match (&x, &y) {
            (None, None) => break,
            (Some((p, _)), Some((q, _))) => tree_order(p, q),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
        };
        let (left, right) = match order {
            Ordering::Less => (x, None),
            Ordering::Greater => (None, y),
            Ordering::Equal => (x, y),
        };
        let (left, right) = (
            left.map(|(e, rest)| {
                ea.rest = rest;
                e
            }),
            right.map(|(e, rest)| {
                eb.rest = rest;
                e
            }),
        );
        if let (Some(l), Some(r)) = (&left, &right) {
            if l.id == r.id && l.mode == r.mode {
                continue;
            }
        }
        let Some(name) = left.as_ref().or(right.as_ref()).map(|e| String::from_utf8_lossy(e.name)) else {
            continue;
        };
        let path = if prefix.is_empty() { name.into_owned() } else { format!("{prefix}/{name}") };
        let subtree = |e: &Option<Entry<'_>>| e.filter(|e| e.tree).and_then(|e| Oid::from_bytes(e.id).ok());
        let (ta, tb) = (subtree(&left), subtree(&right));
        if ta.is_some() || tb.is_some() {
            changed_paths(trees, ta, tb, &path, out)?;
        }
        // A file on either side (a tree replaced by a file counts too).
        let is_file = |e: &Option<Entry<'_>>| e.as_ref().is_some_and(|e| !e.tree);
        if is_file(&left) || is_file(&right) {
            out.push(path);
        }
    }
    Ok(())
}

/// git's order of tree entries: names as bytes, a tree's name read as if it
/// ended in `/`.
fn tree_order(a: &Entry<'_>, b: &Entry<'_>) -> Ordering {
    let n = a.name.len().min(b.name.len());
    match a.name.get(..n).cmp(&b.name.get(..n)) {
        Ordering::Equal => {}
        o => return o,
    }
    let tail = |e: &Entry<'_>| match e.name.get(n) {
        Some(c) => Some(*c),
        None if e.tree => Some(b'/'),
        None => None,
    };
    tail(a).cmp(&tail(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw tree of these entries (each id its byte 20 times), and where each entry ends.
    fn raw(entries: &[(&str, &str, u8)]) -> (Vec<u8>, Vec<usize>) {
        let (mut v, mut ends) = (Vec::new(), Vec::new());
        for (mode, name, id) in entries {
            v.extend_from_slice(mode.as_bytes());
            v.push(b' ');
            v.extend_from_slice(name.as_bytes());
            v.push(0);
            v.extend_from_slice(&[*id; ID]);
            ends.push(v.len());
        }
        (v, ends)
    }

    fn read(data: &[u8]) -> Result<Vec<(String, bool)>, git2::Error> {
        let mut e = Entries { rest: data, tree: Oid::zero() };
        let mut out = Vec::new();
        while let Some((x, rest)) = e.first()? {
            out.push((String::from_utf8_lossy(x.name).into_owned(), x.tree));
            e.rest = rest;
        }
        Ok(out)
    }

    #[test]
    fn a_raw_tree_is_read_entry_by_entry_and_a_cut_or_bad_one_is_an_error() {
        let (data, ends) =
            raw(&[("100644", "a.txt", 1), ("40000", "dir", 2), ("160000", "sub", 3), ("040000", "old", 4)]);
        let want = vec![("a.txt".into(), false), ("dir".into(), true), ("sub".into(), false), ("old".into(), true)];
        assert_eq!(read(&data).ok(), Some(want));
        // Every cut inside an entry is malformed, never a panic or a short list.
        for cut in 0..data.len() {
            let whole = cut == 0 || ends.contains(&cut);
            assert_eq!(read(data.get(..cut).unwrap_or_default()).is_ok(), whole, "cut at {cut}");
        }
        for (mode, name) in [("", "a"), ("100644", ""), ("10x644", "a"), ("100844", "a"), ("777777777777", "a")] {
            let (bad, _) = raw(&[(mode, name, 1)]);
            assert!(read(&bad).is_err(), "{mode:?} {name:?}");
        }
    }

    #[test]
    fn the_shared_start_is_every_byte_the_two_have_in_common() {
        let mut seed = 7u64;
        let mut byte = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 60) as u8
        };
        for len in 0..70 {
            let a: Vec<u8> = (0..len).map(|_| byte()).collect();
            for at in 0..=len {
                let mut b = a.clone();
                match b.get_mut(at) {
                    Some(x) => *x ^= 1,
                    None => b.push(1),
                }
                assert_eq!(shared_prefix(&a, &b), at, "{len} {at}");
                assert_eq!(shared_prefix(&b, &a), at, "{len} {at}");
                assert_eq!(shared_prefix(&a, b.get(..at).unwrap_or_default()), at);
            }
        }
    }

    #[test]
    fn shared_entries_are_passed_whole_even_when_ids_hold_nul_and_space_bytes() {
        // Ids of NUL and space bytes: an entry's end is found from its name's NUL, not the id's.
        let common = [("100644", "a", 0u8), ("40000", "b", b' '), ("100644", "c", 0)];
        for (last_a, last_b, left) in [(1u8, 2u8, 1usize), (0, 0, 0)] {
            let mut ta = common.to_vec();
            ta.push(("100644", "d", last_a));
            let mut tb = common.to_vec();
            tb.push(("100644", "d", last_b));
            let ((ra, _), (rb, _)) = (raw(&ta), raw(&tb));
            let (mut a, mut b) = (Entries { rest: &ra, tree: Oid::zero() }, Entries { rest: &rb, tree: Oid::zero() });
            Entries::skip_shared(&mut a, &mut b);
            let names = |e: &Entries<'_>| read(e.rest).map(|v| v.len()).ok();
            assert_eq!((names(&a), names(&b)), (Some(left), Some(left)), "{last_a} {last_b}");
        }
        // The same names with another id from the first byte on: nothing is shared.
        let ((ra, _), (rb, _)) = (raw(&[("100644", "a", 3)]), raw(&[("100755", "a", 3)]));
        let (mut a, mut b) = (Entries { rest: &ra, tree: Oid::zero() }, Entries { rest: &rb, tree: Oid::zero() });
        Entries::skip_shared(&mut a, &mut b);
        assert_eq!((a.rest.len(), b.rest.len()), (ra.len(), rb.len()));
    }
}
