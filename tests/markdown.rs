//! `tributary export --format markdown`: every story becomes one file whose front
//! matter any YAML loader reads back to the story's text, whatever the titles hold.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::run_tributary;
use proptest::prelude::*;
use tributary::render::markdown::yaml_quoted;
use yaml_rust2::{Yaml, YamlLoader};

/// A JSON Feed item published on 2026-11-20 with `title`.
fn item(id: usize, title: &str) -> serde_json::Value {
    serde_json::json!({
        "id": format!("item-{id}"),
        "url": format!("https://site.example/posts/{id}"),
        "title": title,
        "summary": format!("Summary of {title}"),
        "date_published": "2026-11-20T08:00:00Z",
    })
}

struct Exported {
    /// the Markdown export's output
    out: std::process::Output,
    /// the files it wrote: name -> text
    files: HashMap<String, String>,
    /// each story's title as the JSON Feed export gives it, by link
    titles: HashMap<String, String>,
}

/// Polls a JSON Feed of `titles` from a file and exports it as Markdown and as
/// JSON Feed.
async fn export(titles: &[&str]) -> Exported {
    export_with(titles, |_| {}).await
}

/// As [`export`], with `prepare` run on the output folder first.
async fn export_with(titles: &[&str], prepare: impl FnOnce(&Path)) -> Exported {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<_> = titles.iter().enumerate().map(|(i, t)| item(i, t)).collect();
    let feed = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Titles",
        "items": items,
    });
    std::fs::write(dir.path().join("feed.json"), feed.to_string()).unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(
        &config,
        "[storage]\ndatabase = \"t.db\"\n[[source]]\nname = \"Titles\"\nurl = \"feed.json\"\n",
    )
    .unwrap();
    let polled = run_tributary(&config, &["poll"]).await;
    assert!(polled.status.success(), "{polled:?}");
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    prepare(&out_dir);
    let out = run_tributary(
        &config,
        &[
            "export",
            "--format",
            "markdown",
            "--limit",
            "0",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    )
    .await;
    let json = run_tributary(&config, &["export", "--format", "json", "--limit", "0"]).await;
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let titles = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["url"].as_str().unwrap().to_string(),
                i["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    Exported {
        out,
        files: files(&out_dir),
        titles,
    }
}

/// The regular files in `dir`: name -> text.
fn files(dir: &Path) -> HashMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_file())
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Whether YAML lets `c` stand in a document as it is: YAML 1.2's printable set
/// (`c-printable`), less the characters YAML 1.1 loaders read as line breaks.
fn yaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// The front matter of a Markdown file, loaded as YAML 1.2; every character in
/// it is one YAML allows.
fn front_matter(text: &str) -> Yaml {
    let body = text.strip_prefix("---\n").expect("front matter first");
    let (yaml, _) = body.split_once("\n---\n").expect("front matter closed");
    if let Some(bad) = yaml.chars().find(|c| !yaml_printable(*c)) {
        panic!("{bad:?} is not allowed in YAML: {yaml}");
    }
    let mut docs = YamlLoader::load_from_str(yaml).unwrap_or_else(|e| panic!("{e}: {yaml}"));
    docs.remove(0)
}

#[tokio::test]
async fn same_day_duplicate_titles_each_get_their_own_file() {
    let Exported { out, files, .. } =
        export(&["Weekly notes", "Weekly notes", "weekly NOTES"]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(files.len(), 3, "{:?}", files.keys());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrote 3 files"));
    let mut links: Vec<String> = files
        .values()
        .map(|t| front_matter(t)["url"].as_str().unwrap().to_string())
        .collect();
    links.sort();
    assert_eq!(
        links,
        [0, 1, 2].map(|i| format!("https://site.example/posts/{i}"))
    );
}

#[tokio::test]
async fn long_titles_in_four_byte_scripts_get_short_names() {
    let gothic = "𐌰𐌱𐌲𐌳𐌴 ".repeat(40);
    let cuneiform = "𒀀𒀁𒀂".repeat(60);
    let Exported { out, files, .. } = export(&[&gothic, &cuneiform, "plain"]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(files.len(), 3, "{:?}", files.keys());
    for name in files.keys() {
        assert!(name.len() <= 230, "{} bytes: {name}", name.len());
        assert!(!name.starts_with('-'), "{name}");
        assert!(name.ends_with(".md"), "{name}");
    }
    let titles: Vec<String> = files
        .values()
        .map(|t| front_matter(t)["title"].as_str().unwrap().to_string())
        .collect();
    assert!(titles.contains(&gothic.trim().to_string()), "{titles:?}");
    assert!(titles.contains(&cuneiform), "{titles:?}");
}

#[tokio::test]
async fn control_characters_and_noncharacters_survive_in_the_front_matter() {
    let odd = [
        "Delete\u{7f}here",
        "C1 \u{96} dash",
        "Next\u{85}line and \u{2028} separators \u{2029}",
        "Not a character \u{fffe}\u{ffff} nor \u{fdd0}",
        "Byte order \u{feff} mark",
        "- starts with a dash: and \"quotes\" \\ backslash",
    ];
    let exported = export(&odd).await;
    assert!(exported.out.status.success(), "{:?}", exported.out);
    assert_eq!(exported.files.len(), odd.len());
    for text in exported.files.values() {
        let yaml = front_matter(text);
        let link = yaml["url"].as_str().unwrap();
        assert_eq!(
            yaml["title"].as_str(),
            Some(exported.titles[link].as_str()),
            "{text}"
        );
    }
    let all: String = exported.titles.values().cloned().collect();
    for c in ['"', '\\', '\u{feff}'] {
        assert!(all.contains(c), "{c:?} lost from {all:?}");
    }
}

#[tokio::test]
async fn a_story_that_cannot_be_written_does_not_stop_the_others() {
    // A folder already stands where the first story's file would go.
    let exported = export_with(&["Blocked story", "Free one", "Free two"], |dir| {
        std::fs::create_dir(dir.join("2026-11-20-blocked-story.md")).unwrap();
    })
    .await;
    assert_eq!(exported.out.status.code(), Some(1), "{:?}", exported.out);
    let stderr = String::from_utf8_lossy(&exported.out.stderr);
    assert!(stderr.contains("2026-11-20-blocked-story.md"), "{stderr}");
    assert!(stderr.contains("wrote 2 files"), "{stderr}");
    assert!(stderr.contains("1 could not be written"), "{stderr}");
    let mut names: Vec<&String> = exported.files.keys().collect();
    names.sort();
    assert_eq!(names, ["2026-11-20-free-one.md", "2026-11-20-free-two.md"]);
}

proptest! {
    #[test]
    fn quoted_yaml_reads_back_to_the_same_text(s in any::<String>()) {
        let doc = format!("title: {}\n", yaml_quoted(&s));
        prop_assert!(doc.chars().all(yaml_printable), "{}", doc);
        let docs = YamlLoader::load_from_str(&doc).map_err(|e| TestCaseError::fail(format!("{e}: {doc}")))?;
        prop_assert_eq!(docs[0]["title"].as_str(), Some(s.as_str()), "{}", doc);
    }
}
