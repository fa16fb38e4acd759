//! Rotation sets: `app.log`, `app.log.1`, `app.log.2.gz`,
//! `app.log-20251226.gz`, `app.log.2025-12-26` are one log cut into pieces.
//! Files are grouped by the name left once compression and rotation suffixes
//! are taken off, and put oldest first.

use std::path::{Path, PathBuf};

/// Where a file stands in its set, by its name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// `app.log-20251226`, `app.log.2025-12-26`, `0.log.20251226-143015`:
    /// dated pieces, older dates older.
    Dated(String),
    /// `app.log.3`: higher numbers older (ordered by `Reverse`).
    Numbered(std::cmp::Reverse<u64>),
    /// `app.log`: the file being written.
    Current,
}

const COMPRESSED: [&str; 5] = ["gz", "bz2", "xz", "zst", "zstd"];

/// `(base name, place)` of a file name: `app.log.2.gz` → `("app.log", Numbered(2))`.
pub fn place_of(name: &str) -> (String, Place) {
    let mut s = name;
    if let Some((stem, ext)) = s.rsplit_once('.') {
        if COMPRESSED.contains(&ext) && !stem.is_empty() {
            s = stem;
        }
    }
    if let Some((stem, n)) = s.rsplit_once('.') {
        if !stem.is_empty() && !n.is_empty() && n.len() <= 4 && n.bytes().all(|c| c.is_ascii_digit()) {
            return (stem.to_string(), Place::Numbered(std::cmp::Reverse(n.parse().unwrap_or(0))));
        }
    }
    // A date: YYYYMMDD or YYYY-MM-DD, optionally followed by -HH, -HHMMSS…
    for sep in ['-', '.', '_'] {
        if let Some(i) = s.rfind(sep) {
            let (stem, tail) = (s.get(..i).unwrap_or_default(), s.get(i + 1..).unwrap_or_default());
            if !stem.is_empty() && is_date(tail) {
                return (stem.to_string(), Place::Dated(tail.replace('-', "")));
            }
            // `0.log.20251226-143015`: the date and time are two dash-joined parts.
            if let Some(j) = stem.rfind(sep) {
                let (stem2, tail2) = (stem.get(..j).unwrap_or_default(), s.get(j + 1..).unwrap_or_default());
                if !stem2.is_empty() && is_date(tail2) {
                    return (stem2.to_string(), Place::Dated(tail2.replace('-', "")));
                }
            }
        }
    }
    (s.to_string(), Place::Current)
}

/// `20251226`, `2025-12-26`, `20251226-14`, `20251226-143015`, `2025-12-26-14`.
fn is_date(t: &str) -> bool {
    let digits: String = t.chars().filter(|c| *c != '-').collect();
    let ok_chars = t.chars().all(|c| c.is_ascii_digit() || c == '-');
    let year = digits.get(..4).and_then(|y| y.parse::<u32>().ok()).is_some_and(|y| (1990..=2200).contains(&y));
    let month = digits.get(4..6).and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| (1..=12).contains(&m));
    ok_chars && year && month && matches!(digits.len(), 8 | 10 | 12 | 14)
}

/// Groups files by directory and base name, keeping the order in which
/// each set first appears; a set lists its files oldest first.
pub fn group(paths: Vec<PathBuf>) -> Vec<Vec<PathBuf>> {
    /// A set: its folder and base name, and its pieces.
    type Set = ((PathBuf, String), Vec<(Place, PathBuf)>);
    let mut sets: Vec<Set> = Vec::new();
    for p in paths {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (base, place) = place_of(&name);
        let key = (p.parent().map(Path::to_path_buf).unwrap_or_default(), base);
        match sets.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push((place, p)),
            None => sets.push((key, vec![(place, p)])),
        }
    }
    sets.into_iter()
        .map(|(_, mut v)| {
            v.sort();
            v.into_iter().map(|(_, p)| p).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;

    #[test]
    fn names_of_rotated_files() {
        assert_eq!(place_of("app.log"), ("app.log".into(), Place::Current));
        assert_eq!(place_of("app.log.1"), ("app.log".into(), Place::Numbered(Reverse(1))));
        assert_eq!(place_of("app.log.2.gz"), ("app.log".into(), Place::Numbered(Reverse(2))));
        assert_eq!(place_of("app.log-20251226.gz"), ("app.log".into(), Place::Dated("20251226".into())));
        assert_eq!(place_of("app.log.2025-12-26"), ("app.log".into(), Place::Dated("20251226".into())));
        assert_eq!(place_of("0.log.20251226-143015.gz"), ("0.log".into(), Place::Dated("20251226143015".into())));
        assert_eq!(place_of("syslog"), ("syslog".into(), Place::Current));
        assert_eq!(place_of("app.log.xz"), ("app.log".into(), Place::Current));
        // A year in the name is not a rotation date.
        assert_eq!(place_of("nginx-2024.log"), ("nginx-2024.log".into(), Place::Current));
    }

    #[test]
    fn sets_oldest_first() {
        let p = |s: &str| PathBuf::from(s);
        let g = group(vec![
            p("logs/app.log"),
            p("logs/app.log.1"),
            p("logs/other.log"),
            p("logs/app.log.3.gz"),
            p("logs/app.log.2.gz"),
            p("logs/web.log-20251226.gz"),
            p("logs/web.log-20251225.gz"),
            p("logs/web.log"),
        ]);
        assert_eq!(
            g,
            vec![
                vec![p("logs/app.log.3.gz"), p("logs/app.log.2.gz"), p("logs/app.log.1"), p("logs/app.log")],
                vec![p("logs/other.log")],
                vec![p("logs/web.log-20251225.gz"), p("logs/web.log-20251226.gz"), p("logs/web.log")],
            ]
        );
    }
}
