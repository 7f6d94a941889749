//! Titles and summaries as a reader sees them: a title that is text keeps every
//! character in every output, escaped so that no `<` becomes a tag; summaries keep
//! their words apart where paragraphs, list items and line breaks meet, and are
//! shortened at a word boundary.

mod common;

use chrono::{DateTime, Utc};
use common::{FeedHost, RunningDaemon, Setup, schedule_every_second};
use tributary::model::{SourceRef, StoredItem, Story};
use tributary::render::FeedMeta;
use tributary::render::html::{RiverPage, navigation, render_html};
use tributary::render::json::render_json;
use tributary::render::markdown::render_markdown;
use yaml_rust2::{Yaml, YamlLoader};

const TITLE: &str = "Using Option<String> in Rust";
const FEED_TITLE: &str = "Notes on Vec<u8> & friends";
/// The summary's HTML, and the text it reads as.
const SUMMARY: &str =
    "<p>…ends here.</p><p>The next…</p><ul><li>one</li><li>two</li></ul>line<br>break";
const SUMMARY_TEXT: &str = "…ends here. The next… one two line break";

/// An Atom feed whose title and entry title are text with `<` and `&` in them.
fn atom_feed() -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="text">Notes on Vec&lt;u8&gt; &amp; friends</title>
  <id>urn:uuid:5f0a1b2c-3d4e-4f50-8a9b-0c1d2e3f4a50</id>
  <updated>2026-11-24T10:00:00Z</updated>
  <link href="https://example.org/notes/"/>
  <entry>
    <title type="text">Using Option&lt;String&gt; in Rust</title>
    <id>urn:uuid:5f0a1b2c-3d4e-4f50-8a9b-0c1d2e3f4a51</id>
    <link href="https://example.org/notes/option"/>
    <updated>2026-11-24T10:00:00Z</updated>
    <summary type="html">{}</summary>
  </entry>
</feed>"#,
        SUMMARY.replace('&', "&amp;").replace('<', "&lt;")
    )
}

/// The front matter of an exported Markdown file, as YAML.
fn front_matter(text: &str) -> Yaml {
    let body = text.strip_prefix("---\n").expect("front matter first");
    let (yaml, _) = body.split_once("\n---\n").expect("front matter closed");
    YamlLoader::load_from_str(yaml).unwrap().remove(0)
}

#[tokio::test]
async fn a_text_title_and_a_summary_read_right_in_every_output() {
    let host = FeedHost::start().await;
    host.set_feed("notes", &atom_feed());
    let setup = Setup::new("", &[("Notes", host.url("/f/notes"))]);
    schedule_every_second(&setup);
    setup.poll(&[]).await;

    let daemon = RunningDaemon::start(&setup, &[]).await;
    let (status, page) = daemon.get("/").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(">Using Option&lt;String&gt; in Rust</a>"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "<p class=\"summary\" dir=\"auto\">{SUMMARY_TEXT}</p>"
        )),
        "{page}"
    );

    let (_, json) = daemon.get("/feed.json").await;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["items"][0]["title"], TITLE, "{json}");
    assert_eq!(json["items"][0]["summary"], SUMMARY_TEXT, "{json}");

    let (_, atom) = daemon.get("/feed.atom").await;
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap();
    assert_eq!(feed.entries[0].title.as_ref().unwrap().content, TITLE);
    let summary = feed.entries[0].summary.as_ref().unwrap();
    assert_eq!(summary.content, SUMMARY_TEXT, "{atom}");
    // The entry's <source> names the feed by its own title.
    let read_back = atom_syndication::Feed::read_from(atom.as_bytes()).unwrap();
    let source = read_back.entries()[0].source().expect("a source");
    assert_eq!(source.title().as_str(), FEED_TITLE, "{atom}");

    let (_, rss) = daemon.get("/feed.rss").await;
    assert!(
        rss.contains("<title>Using Option&lt;String&gt; in Rust</title>"),
        "{rss}"
    );
    let feed = feed_rs::parser::parse(rss.as_bytes()).unwrap();
    assert_eq!(feed.entries[0].title.as_ref().unwrap().content, TITLE);
    daemon.stop().await;

    let files = setup.export_markdown().await;
    let text = &files[0];
    let yaml = front_matter(text);
    assert_eq!(yaml["title"].as_str(), Some(TITLE), "{text}");
    assert_eq!(yaml["summary"].as_str(), Some(SUMMARY_TEXT), "{text}");
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A story of one item with `summary`.
fn story(summary: &str) -> Story {
    Story {
        id: 1,
        entry_id: Some("https://example.org/1".into()),
        sort_at: at("2026-11-24T10:00:00Z"),
        item: StoredItem {
            id: 1,
            source: "Notes".into(),
            key: "g:1".into(),
            canonical_link: None,
            link: Some("https://example.org/1".into()),
            title: Some("A title".into()),
            authors: vec![],
            summary: Some(summary.into()),
            content: None,
            categories: vec![],
            enclosures: vec![],
            base: Some("https://example.org/1".into()),
            published: Some(at("2026-11-24T10:00:00Z")),
            updated: None,
            first_seen: at("2026-11-24T10:00:00Z"),
        },
        sources: vec![SourceRef {
            name: "Notes".into(),
            feed_url: "https://example.org/feed".into(),
            site_link: None,
            title: None,
        }],
        categories: vec![],
    }
}

fn river_page(stories: &[Story]) -> String {
    render_html(&RiverPage {
        title: "River",
        stories,
        navigation: &navigation(&[], &[], None),
        filters: &[],
        query: None,
        older: None,
    })
}

/// The text of the river page's summary paragraph.
fn page_summary(page: &str) -> &str {
    let start = page.find("<p class=\"summary\"").expect("a summary");
    let start = start + page[start..].find('>').unwrap() + 1;
    &page[start..start + page[start..].find("</p>").unwrap()]
}

/// Words that each end at a different place than any fixed cut would fall.
fn words(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("wörd-{i:03}")).collect()
}

/// The longest run of `words` from the start that fits in `max_chars` characters.
fn fitting(words: &[String], max_chars: usize) -> String {
    let mut text = String::new();
    for w in words {
        let longer = if text.is_empty() {
            w.clone()
        } else {
            format!("{text} {w}")
        };
        if longer.chars().count() > max_chars {
            break;
        }
        text = longer;
    }
    text
}

#[test]
fn summaries_keep_their_words_apart_in_the_page_the_json_feed_and_markdown() {
    let stories = [story(SUMMARY)];
    assert_eq!(page_summary(&river_page(&stories)), SUMMARY_TEXT);
    let meta = FeedMeta {
        title: "River".into(),
        home_url: "https://tributary.example/".parse().unwrap(),
        self_url: "https://tributary.example/feed.json".parse().unwrap(),
        next_url: None,
    };
    let json: serde_json::Value = serde_json::from_slice(&render_json(&meta, &stories)).unwrap();
    assert_eq!(json["items"][0]["summary"], SUMMARY_TEXT);
    let markdown = render_markdown(&stories[0]);
    assert_eq!(
        front_matter(&markdown)["summary"].as_str(),
        Some(SUMMARY_TEXT)
    );
}

#[test]
fn long_summaries_are_cut_at_a_word_boundary() {
    let words = words(60);
    let stories = [story(&format!("<p>{}</p>", words.join(" ")))];
    // The river page shows 280 characters at most, the front matter 300.
    assert_eq!(
        page_summary(&river_page(&stories)),
        format!("{}…", fitting(&words, 280))
    );
    let markdown = render_markdown(&stories[0]);
    assert_eq!(
        front_matter(&markdown)["summary"].as_str().unwrap(),
        format!("{} ...", fitting(&words, 300))
    );
}
