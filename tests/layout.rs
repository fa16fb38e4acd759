#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The shape of `src/`: its modules form no import circle, so each can be
//! read from the ones below it; `cli` holds only the command-line types.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module of a file under `src/` (`commands/report.rs` → `commands`).
fn module_of(rel: &Path) -> String {
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_string()
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The modules named right after `prefix`: `crate::name`, and each
/// first segment of a group, `crate::{a, b::c}`.
fn referenced(code: &str, prefix: &str) -> Vec<String> {
    let ident = |t: &str| -> String { t.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect() };
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = code[from..].find(prefix) {
        let at = from + i;
        // `super::super::` also contains `super::`; a match inside a longer path or word is not one.
        let before = code[..at].chars().last();
        from = at + prefix.len();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            out.extend(group[..end].split(',').map(|item| ident(item.trim())).filter(|n| !n.is_empty()));
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|n| !n.is_empty() && n != "super" && n != "self");
    out
}

/// `crate::name` (and `super::name` reaching the root) references outside test modules, by module.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    graph_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

/// The module graph of one crate's `src`.
fn graph_of(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = src.to_path_buf();
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in all {
        let m = module_of(f.strip_prefix(&src).unwrap());
        if m == "main" || m == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let deps = g.entry(m.clone()).or_default();
        // `super::` in a top-level file is the crate root; in a folder
        // module it is the folder itself, and `super::super::` the root.
        let nested = f.strip_prefix(&src).unwrap().components().count() > 1;
        let root_prefixes: &[&str] = if nested { &["crate::", "super::super::"] } else { &["crate::", "super::"] };
        for prefix in root_prefixes {
            for name in referenced(code, prefix) {
                if name != m && name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                    deps.insert(name);
                }
            }
        }
    }
    g
}

/// A circle of imports in `g`, if there is one.
fn circle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // Depth-first search for a back edge; the circle is returned if found.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut circle = stack[i..].to_vec();
            circle.push(n.to_string());
            return Some(circle);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, g, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys().find_map(|n| visit(n, g, &mut Vec::new(), &mut done))
}

#[test]
fn src_modules_form_no_import_circle() {
    let g = graph();
    if let Some(c) = circle(&g) {
        panic!("import circle: {}", c.join(" -> "));
    }
    assert!(g.len() > 10, "the graph was read: {g:?}");
}

#[test]
fn no_collector_crate_has_an_import_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("collectors");
    let mut crates = 0;
    for e in std::fs::read_dir(&root).unwrap().flatten() {
        let src = e.path().join("src");
        if !src.is_dir() {
            continue;
        }
        crates += 1;
        let g = graph_of(&src);
        if let Some(c) = circle(&g) {
            panic!("import circle in {}: {}", e.path().display(), c.join(" -> "));
        }
    }
    assert!(crates >= 9, "the crates were read");
}

#[test]
fn cli_holds_only_the_command_line_types() {
    let g = graph();
    let deps: Vec<&String> = g["cli"].iter().collect();
    assert_eq!(deps, vec!["registry", "render"], "cli uses only the output format type and the slices' flags");
    let cli = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli.rs")).unwrap();
    assert!(!cli.contains("fn "), "no functions in cli.rs: dispatch lives in commands/");
}

#[test]
fn groups_and_super_paths_are_seen() {
    let code =
        "use crate::{bundle, config::Loaded};\nuse super::render::Format;\nlet x = super::super::exit::Exit::Ok;";
    assert_eq!(referenced(code, "crate::"), ["bundle", "config"]);
    assert_eq!(referenced(code, "super::"), ["render"]);
    assert_eq!(referenced(code, "super::super::"), ["exit"]);
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(circle(&g), Some(vec!["a".to_string(), "b".to_string(), "a".to_string()]));
}
