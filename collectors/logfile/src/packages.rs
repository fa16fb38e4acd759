//! Package-manager logs as changes: a package installed, upgraded,
//! downgraded or removed changes the host as a deploy does, so it is a
//! change row (and a suspect), not a routine line. Read from the message
//! after the timestamp, in the forms dpkg (`dpkg.log`), apt (`history.log`),
//! yum/dnf (`yum.log`, `dnf.rpm.log`) and pacman (`pacman.log`) write.

use reconstruct_core::event::{Fact, PackageVersion};

/// What a line did to which packages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageChange {
    /// `install`, `upgrade`, `downgrade`, `remove` or `reinstall` (`change` for several).
    pub action: &'static str,
    pub packages: Vec<PackageVersion>,
}

impl PackageChange {
    /// `package upgrade: libssl3:amd64 3.0.11-1 → 3.0.13-1 (+1 more)`.
    pub fn summary(&self) -> String {
        let shown: Vec<String> = self.packages.iter().take(3).map(describe).collect();
        let more = self.packages.len().saturating_sub(3);
        let tail = if more > 0 { format!(" (+{more} more)") } else { String::new() };
        let noun = if self.packages.len() > 1 { "packages" } else { "package" };
        format!("{noun} {}: {}{tail}", self.action, shown.join(", "))
    }

    pub fn fact(self) -> Fact {
        Fact::Package { action: self.action.to_string(), packages: self.packages }
    }
}

/// The changes of one stanza as one: its action when they share one, else `change`.
pub fn merge(changes: impl Iterator<Item = PackageChange>) -> Option<PackageChange> {
    let mut out: Option<PackageChange> = None;
    for c in changes {
        match &mut out {
            None => out = Some(c),
            Some(o) => {
                if o.action != c.action {
                    o.action = "change";
                }
                o.packages.extend(c.packages);
            }
        }
    }
    out
}

fn describe(p: &PackageVersion) -> String {
    match (&p.from, &p.to) {
        (Some(a), Some(b)) => format!("{} {a} → {b}", p.name),
        (None, Some(v)) | (Some(v), None) => format!("{} {v}", p.name),
        (None, None) => p.name.clone(),
    }
}

/// The action a word names; `None` for the words that only report progress
/// (dpkg's `status`, `configure`, `trigproc`; dnf's `Upgraded:`, the old half
/// of an upgrade it also logs as `Upgrade:`).
fn action_of(word: &str) -> Option<&'static str> {
    ACTIONS.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)).map(|(_, a)| *a)
}

/// The words a package manager starts a change with, and the action each names.
const ACTIONS: [(&str, &str); 15] = [
    ("install", "install"),
    ("installed", "install"),
    ("upgrade", "upgrade"),
    ("upgraded", "upgrade"),
    ("updated", "upgrade"),
    ("update", "upgrade"),
    ("downgrade", "downgrade"),
    ("downgraded", "downgrade"),
    ("remove", "remove"),
    ("removed", "remove"),
    ("erase", "remove"),
    ("erased", "remove"),
    ("purge", "remove"),
    ("reinstall", "reinstall"),
    ("reinstalled", "reinstall"),
];

/// A cheap first look, made on every line: does the message start with one
/// of the words (or prefixes) a package manager's change starts with? No
/// allocation, no UTF-8 check.
fn may_be_change(msg: &[u8]) -> bool {
    let t = msg.trim_ascii_start();
    let t = t.strip_prefix(b"SUBDEBUG ").or_else(|| t.strip_prefix(b"[ALPM] ")).unwrap_or(t);
    let end = t.iter().position(|c| *c == b' ' || *c == b':').unwrap_or(t.len());
    let head = t.get(..end).unwrap_or_default();
    (5..=11).contains(&head.len())
        && as_managers_write(head)
        && ACTIONS.iter().any(|(w, _)| w.as_bytes().eq_ignore_ascii_case(head))
}

/// A word in lower case, capitalised or in upper case, as package managers
/// write theirs: so [`RAW_WORDS`] finds every line that may be a change.
fn as_managers_write(word: &[u8]) -> bool {
    let rest = word.get(1..).unwrap_or_default();
    rest.iter().all(u8::is_ascii_lowercase) || word.iter().all(u8::is_ascii_uppercase)
}

/// Pieces of the action words, in each case they are written in: a raw
/// search for these over lines not yet read finds every line [`change`]
/// may read as a change, and every line under an apt stanza that names one.
pub const RAW_WORDS: [&str; 14] = [
    "nstall", "NSTALL", "pgrade", "PGRADE", "pdate", "PDATE", "owngrade", "OWNGRADE", "emove", "EMOVE", "rase", "RASE",
    "urge", "URGE",
];

/// dpkg's `<none>` stands for no version.
fn version(v: &str) -> Option<String> {
    (v != "<none>" && !v.is_empty()).then(|| v.to_string())
}

/// A version as package managers write them (`3.0.13-1`, `1:2.3`), or
/// dpkg's `<none>`: so `remove a b c` in some other log is not a package.
fn looks_like_version(v: &str) -> bool {
    v == "<none>" || v.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// The change a package manager's line records, if it records one.
pub fn change(msg: &[u8]) -> Option<PackageChange> {
    if !may_be_change(msg) {
        return None;
    }
    let text = std::str::from_utf8(msg).ok()?.trim();
    // dnf: `SUBDEBUG Upgrade: …`; pacman: `[ALPM] upgraded …`.
    let text = text.strip_prefix("SUBDEBUG ").or_else(|| text.strip_prefix("[ALPM] ")).unwrap_or(text);
    let (head, rest) = text.split_once(' ').unwrap_or((text, ""));
    if let Some(word) = head.strip_suffix(':') {
        return labelled(word, rest.trim());
    }
    let action = action_of(head)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    match fields.as_slice() {
        // dpkg: `upgrade libssl3:amd64 3.0.11-1 3.0.13-1`.
        [name, from, to]
            if head.chars().all(|c| c.is_ascii_lowercase())
                && looks_like_version(from)
                && looks_like_version(to)
                && (from, to) != (&"<none>", &"<none>") =>
        {
            Some(PackageChange {
                action,
                packages: vec![PackageVersion { name: name.to_string(), from: version(from), to: version(to) }],
            })
        }
        // pacman: `upgraded linux (6.1.1-1 -> 6.1.2-1)`, `installed foo (1.2-1)`.
        [name, versions @ ..] if rest.ends_with(')') && versions.first().is_some_and(|v| v.starts_with('(')) => {
            let inner = versions.join(" ");
            let inner = inner.trim_start_matches('(').trim_end_matches(')');
            if !looks_like_version(inner) {
                return None;
            }
            let (from, to) = match inner.split_once(" -> ") {
                Some((a, b)) => (version(a), version(b)),
                None if action == "remove" => (version(inner), None),
                None => (None, version(inner)),
            };
            Some(PackageChange { action, packages: vec![PackageVersion { name: name.to_string(), from, to }] })
        }
        _ => None,
    }
}

/// `Upgrade: a:amd64 (1.0, 1.1), b:amd64 (2.0, 2.1)` (apt's history), or
/// `Updated: openssl-libs-1:3.0.7-25.el9.x86_64` (yum, dnf).
fn labelled(word: &str, rest: &str) -> Option<PackageChange> {
    // dnf logs both halves of an upgrade; `Upgraded:` is the old one.
    if word == "Upgraded" && !rest.contains('(') {
        return None;
    }
    let action = action_of(word)?;
    if rest.is_empty() {
        return None;
    }
    let mut packages = Vec::new();
    if rest.contains('(') {
        // apt: a list of `name (versions)`, comma-separated outside the brackets.
        let mut depth = 0usize;
        let mut start = 0usize;
        let mut items = Vec::new();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth = depth.saturating_add(1),
                ')' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    items.push(rest.get(start..i).unwrap_or_default());
                    start = i.saturating_add(1);
                }
                _ => {}
            }
        }
        items.push(rest.get(start..).unwrap_or_default());
        for item in items {
            let item = item.trim();
            let (name, versions) = item.split_once(" (").unwrap_or((item, ""));
            let versions = versions.trim_end_matches(')');
            let parts: Vec<&str> = versions.split(", ").filter(|v| *v != "automatic").collect();
            let (from, to) = match (action, parts.as_slice()) {
                (_, [a, b]) => (version(a), version(b)),
                ("remove", [a]) => (version(a), None),
                (_, [a]) => (None, version(a)),
                _ => (None, None),
            };
            if !name.is_empty() {
                packages.push(PackageVersion { name: name.to_string(), from, to });
            }
        }
    } else {
        // yum/dnf: one `name-version-release.arch` a line.
        packages.push(PackageVersion { name: rest.to_string(), from: None, to: None });
    }
    (!packages.is_empty()).then_some(PackageChange { action, packages })
}

/// A stanza's label alone (`Start-Date:`, `Log started:` once its time is
/// taken off): it dates the lines under it and says nothing itself.
pub fn is_stanza_label(msg: &[u8]) -> bool {
    let t = msg.trim_ascii();
    t.len() > 1
        && t.len() <= 40
        && t.ends_with(b":")
        && t.iter().take(t.len().saturating_sub(1)).all(|c| c.is_ascii_alphabetic() || b" -_".contains(c))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn summary(line: &str) -> Option<String> {
        change(line.as_bytes()).map(|c| c.summary())
    }

    #[test]
    fn the_raw_words_are_in_every_action_word_as_managers_write_it() {
        for (w, _) in ACTIONS {
            let capital = format!("{}{}", w[..1].to_ascii_uppercase(), &w[1..]);
            for word in [w.to_string(), capital, w.to_ascii_uppercase()] {
                assert!(as_managers_write(word.as_bytes()), "{word}");
                assert!(RAW_WORDS.iter().any(|r| word.contains(r)), "{word}");
            }
        }
        assert!(change(b"InStAlL nginx:amd64 <none> 1.22.1-9").is_none());
    }

    #[test]
    fn package_manager_lines_are_changes() {
        assert_eq!(
            summary("upgrade libssl3:amd64 3.0.11-1~deb12u1 3.0.13-1~deb12u1").as_deref(),
            Some("package upgrade: libssl3:amd64 3.0.11-1~deb12u1 → 3.0.13-1~deb12u1")
        );
        assert_eq!(
            summary("install nginx:amd64 <none> 1.22.1-9").as_deref(),
            Some("package install: nginx:amd64 1.22.1-9")
        );
        assert_eq!(
            summary("remove nginx:amd64 1.22.1-9 <none>").as_deref(),
            Some("package remove: nginx:amd64 1.22.1-9")
        );
        assert_eq!(summary("status installed nginx:amd64 1.22.1-9"), None);
        assert_eq!(summary("configure nginx:amd64 1.22.1-9 <none>"), None);
        assert_eq!(summary("startup archives unpack"), None);
        assert_eq!(
            summary("Upgrade: libssl3:amd64 (3.0.11-1, 3.0.13-1), openssl:amd64 (3.0.11-1, 3.0.13-1)").as_deref(),
            Some("packages upgrade: libssl3:amd64 3.0.11-1 → 3.0.13-1, openssl:amd64 3.0.11-1 → 3.0.13-1")
        );
        assert_eq!(
            summary("Install: nginx:amd64 (1.22.1-9), nginx-common:amd64 (1.22.1-9, automatic)").as_deref(),
            Some("packages install: nginx:amd64 1.22.1-9, nginx-common:amd64 1.22.1-9")
        );
        assert_eq!(
            summary("Updated: openssl-libs-1:3.0.7-25.el9.x86_64").as_deref(),
            Some("package upgrade: openssl-libs-1:3.0.7-25.el9.x86_64")
        );
        assert_eq!(
            summary("SUBDEBUG Upgrade: openssl-libs-1:3.0.7-27.el9.x86_64").as_deref(),
            Some("package upgrade: openssl-libs-1:3.0.7-27.el9.x86_64")
        );
        assert_eq!(summary("SUBDEBUG Upgraded: openssl-libs-1:3.0.7-25.el9.x86_64"), None);
        assert_eq!(
            summary("[ALPM] upgraded linux (6.1.1.arch1-1 -> 6.1.2.arch1-1)").as_deref(),
            Some("package upgrade: linux 6.1.1.arch1-1 → 6.1.2.arch1-1")
        );
        assert_eq!(summary("Commandline: apt-get install -y nginx"), None);
        assert_eq!(summary("Install:"), None);
        assert_eq!(summary("remove the old cache"), None);
        assert_eq!(summary("removed user (id 5)"), None);
        assert_eq!(summary("ERROR install failed because of x y"), None);
        assert_eq!(summary("\u{FFFD}\u{FFFD} (( ,,"), None);
    }

    #[test]
    fn stanza_labels() {
        assert!(is_stanza_label(b"Log started:"));
        assert!(is_stanza_label(b"Start-Date:"));
        assert!(!is_stanza_label(b"Server started: listening on 8080"));
        assert!(!is_stanza_label(b":"));
    }
}
