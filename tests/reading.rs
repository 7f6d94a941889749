//! How tributary reads feeds, class by class: every document under
//! `tests/fixtures/reading/<class>/` is read as if fetched from
//! `https://example.org/feed`, and the JSON `tributary inspect` would print for it
//! must hold the values its `<name>.expect.json` gives. That file maps JSON
//! pointers into the inspect output to the value expected there (`null`: absent).
//! The test prints a table of classes, fixtures and passes, and fails on any miss.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tributary::inspect::inspect_json;
use tributary::parse::parse_feed;
use url::Url;

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reading")
}

/// Every (document, expectations) pair, by class folder.
fn fixtures() -> BTreeMap<String, Vec<(PathBuf, PathBuf)>> {
    let mut classes = BTreeMap::new();
    for class in std::fs::read_dir(fixtures_root()).unwrap() {
        let class = class.unwrap().path();
        if !class.is_dir() {
            continue;
        }
        let mut cases = Vec::new();
        for file in std::fs::read_dir(&class).unwrap() {
            let file = file.unwrap().path();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".expect.json") {
                continue;
            }
            let stem = name.split('.').next().unwrap().to_string();
            let expect = class.join(format!("{stem}.expect.json"));
            assert!(
                expect.exists(),
                "{} has no {stem}.expect.json",
                file.display()
            );
            cases.push((file, expect));
        }
        cases.sort();
        let name = class.file_name().unwrap().to_string_lossy().into_owned();
        classes.insert(name, cases);
    }
    classes
}

/// The misses of one fixture, empty when it passes.
fn check(doc: &Path, expect: &Path) -> Vec<String> {
    let bytes = std::fs::read(doc).unwrap();
    let url = Url::parse("https://example.org/feed").unwrap();
    let got = match parse_feed(&bytes, &url) {
        Ok(feed) => inspect_json(feed, None),
        Err(e) => return vec![format!("not read: {e}")],
    };
    let expected: BTreeMap<String, Value> = serde_json::from_slice(&std::fs::read(expect).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", expect.display()));
    expected
        .iter()
        .filter_map(|(pointer, want)| {
            let have = got.pointer(pointer).unwrap_or(&Value::Null);
            (have != want).then(|| format!("{pointer}: expected {want}, got {have}"))
        })
        .collect()
}

#[test]
fn every_fixture_is_read_as_its_publisher_meant() {
    let mut table = vec![format!(
        "{:<28} {:>8} {:>8}",
        "class", "fixtures", "passing"
    )];
    let mut misses = Vec::new();
    let (mut all, mut passing) = (0, 0);
    for (class, cases) in fixtures() {
        let mut passed = 0;
        for (doc, expect) in &cases {
            let missed = check(doc, expect);
            if missed.is_empty() {
                passed += 1;
            } else {
                let name = doc.strip_prefix(fixtures_root()).unwrap().display();
                misses.push(format!("{name}:\n    {}", missed.join("\n    ")));
            }
        }
        table.push(format!("{class:<28} {:>8} {passed:>8}", cases.len()));
        all += cases.len();
        passing += passed;
    }
    table.push(format!("{:<28} {all:>8} {passing:>8}", "all"));
    println!("{}", table.join("\n"));
    assert!(all > 0, "no fixtures found");
    assert!(misses.is_empty(), "\n{}", misses.join("\n"));
}

/// A document the parser cannot take costs one error line, never a panic message
/// or a backtrace on the terminal.
#[test]
fn no_fixture_makes_inspect_print_a_panic() {
    for cases in fixtures().values() {
        for (doc, _) in cases {
            let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
                .arg("inspect")
                .arg(doc)
                .env("RUST_BACKTRACE", "1")
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !stderr.contains("panicked") && !stderr.contains("stack backtrace"),
                "{}: {stderr}",
                doc.display()
            );
        }
    }
}
