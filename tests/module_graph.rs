//! The library's modules point one way (see ARCHITECTURE.md): each names only
//! modules of its own layer or below, and no chain of modules comes back to
//! where it started. Read from the `crate::` paths of `src/`, test code left
//! out. `cargo test --test module_graph -- --nocapture` prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may use modules of its own layer or
/// below; never one above.
const LAYERS: &[&[&str]] = &[
    // plain data and small text helpers
    &["model", "redact", "sanitize"],
    // pure stages and their settings
    &[
        "clock",
        "fetch",
        "parse",
        "identity",
        "categorize",
        "politeness",
    ],
    // storage, the config that builds every runtime type, the outputs
    &["store", "config", "render", "inspect", "discover", "opml"],
    // one source polled, and what is counted of it
    &["metrics", "pipeline"],
    // many sources polled
    &["schedule"],
    // serving the store
    &["server"],
    // the loop that runs it all
    &["daemon"],
    // the commands
    &["cli"],
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` is in no layer of tests/module_graph.rs"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to; `None` for the crate roots.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    match first.strip_suffix(".rs") {
        Some("lib" | "main") => None,
        Some(name) => Some(name.to_string()),
        None => Some(first),
    }
}

/// The code of a file that is built outside tests: comments dropped, and
/// `#[cfg(test)]` modules skipped up to their closing brace at column 0.
fn non_test_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.starts_with("mod ") && next.ends_with('{'))
        {
            for skipped in lines.by_ref() {
                if skipped == "}" {
                    break;
                }
            }
            continue;
        }
        // A comment starts at `//`, but not at the `//` of `http://` in a string.
        let code = match line
            .match_indices("//")
            .find(|(i, _)| !line[..*i].ends_with(':'))
        {
            Some((i, _)) => &line[..i],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let deps = graph.entry(module.clone()).or_default();
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let code = non_test_code(&std::fs::read_to_string(&file).unwrap());
        let named = modules_named(&code);
        deps.extend(named.into_iter().filter(|d| *d != module));
    }
    graph
}

/// The top-level modules `code` names: each `crate::x` path, and each first
/// name of a `use crate::{x::{..}, y}` group, nested braces and all.
fn modules_named(code: &str) -> Vec<String> {
    let path = regex::Regex::new(r"\bcrate::([a-z_]+)").unwrap();
    let mut named: Vec<String> = path.captures_iter(code).map(|c| c[1].to_string()).collect();
    for (start, _) in code.match_indices("use crate::{") {
        let group = &code[start + "use crate::{".len()..];
        let (mut depth, mut part) = (0usize, String::new());
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    named.push(std::mem::take(&mut part));
                    continue;
                }
                _ => {}
            }
            part.push(c);
        }
        named.push(part);
    }
    named
        .iter()
        .map(|n| n.trim().split("::").next().unwrap_or("").trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

/// A chain of modules that comes back to its start, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut done, &mut Vec::new()))
}

#[test]
fn no_chain_of_modules_comes_back_to_where_it_started() {
    let graph = module_graph();
    for (module, deps) in &graph {
        let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
        println!("{module} -> {}", deps.join(" "));
    }
    assert!(graph.len() > 10, "too few modules found: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("modules in a circle: {}", cycle.join(" -> "));
    }
}

#[test]
fn no_module_uses_one_of_a_higher_layer() {
    let graph = module_graph();
    let upward: Vec<String> = graph
        .iter()
        .flat_map(|(module, deps)| {
            deps.iter()
                .filter(|d| layer_of(d) > layer_of(module))
                .map(move |d| format!("{module} -> {d}"))
        })
        .collect();
    assert!(upward.is_empty(), "uses of a higher layer: {upward:?}");
}

#[test]
fn a_circle_is_found_when_there_is_one() {
    let edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")];
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in edges {
        graph.entry(from.into()).or_default().insert(to.into());
        graph.entry(to.into()).or_default();
    }
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    graph.get_mut("c").unwrap().remove("a");
    assert_eq!(find_cycle(&graph), None);
}

#[test]
fn every_module_a_use_names_is_found() {
    let code = non_test_code(
        "use crate::{model::{Item, Source}, store::{self, Writer}, redact};\n\
         let home = \"http://example.com/\"; let f = crate::fetch::get; // crate::cli\n",
    );
    let mut named = modules_named(&code);
    named.sort();
    named.dedup();
    assert_eq!(named, ["fetch", "model", "redact", "store"]);
}
