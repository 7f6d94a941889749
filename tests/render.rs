//! Golden files for every renderer, and the Markdown export's exact front matter.
//! Run with UPDATE_GOLDEN=1 to rewrite the files after a deliberate change.

use chrono::{DateTime, Utc};
use tributary::model::{CategoryCount, SourceRef, StoredItem, Story};
use tributary::model::{Enclosure, Person};
use tributary::render::FeedMeta;
use tributary::render::atom::render_atom;
use tributary::render::html::{RiverPage, navigation, render_html};
use tributary::render::json::render_json;
use tributary::render::markdown::{markdown_file_name, render_markdown};
use tributary::render::rss::render_rss;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn source(name: &str) -> SourceRef {
    SourceRef {
        name: name.to_string(),
        feed_url: format!(
            "https://{}.example/feed.xml",
            name.to_lowercase().replace(' ', "-")
        ),
        site_link: Some(format!(
            "https://{}.example/",
            name.to_lowercase().replace(' ', "-")
        )),
        title: Some(format!("{name} (site title)")),
    }
}

fn item(id: i64, title: Option<&str>, source: &str) -> StoredItem {
    StoredItem {
        id,
        source: source.to_string(),
        key: format!("g:{id}"),
        canonical_link: None,
        link: Some(format!("https://news.example/{id}")),
        title: title.map(str::to_string),
        authors: vec![],
        summary: None,
        content: None,
        categories: vec![],
        enclosures: vec![],
        base: Some(format!("https://news.example/{id}")),
        published: None,
        updated: None,
        first_seen: at("2026-11-24T12:00:00Z"),
    }
}

fn stories() -> Vec<Story> {
    let mut aws = item(
        1,
        Some("AWS and OpenAI announce multi-year strategic partnership"),
        "OpenAI News",
    );
    aws.link = Some(
        "https://openai.com/index/aws-and-openai-partnership?utm_source=rss&utm_medium=feed".into(),
    );
    aws.summary =
        Some("OpenAI and AWS have entered a multi-year, $38 billion partnership ...".into());
    aws.content = Some(
        "<h2>A partnership</h2><p>OpenAI will run <strong>advanced</strong> workloads on <a href=\"/aws\">AWS</a>.</p><ul><li>Compute</li><li>Scale</li></ul><script>track()</script>".into(),
    );
    aws.published = Some(at("2025-11-03T06:00:00Z"));
    aws.authors = vec![Person {
        name: Some("OpenAI".into()),
        email: None,
        uri: None,
    }];
    aws.base = Some("https://openai.com/index/aws-and-openai-partnership".into());

    let mut pod = item(2, Some("Episode 12: <Feeds> & \"quotes\""), "Pod Cast");
    pod.summary = Some("Control\u{1}chars ]]> and CDATA ends".into());
    pod.published = Some(at("2026-11-20T08:30:00Z"));
    pod.updated = Some(at("2026-11-21T09:00:00Z"));
    pod.enclosures = vec![Enclosure {
        url: "https://pod.example/12.mp3".into(),
        media_type: Some("audio/mpeg".into()),
        length: Some(12345),
    }];
    pod.authors = vec![Person {
        name: Some("Ann Host".into()),
        email: Some("ann@pod.example".into()),
        uri: None,
    }];

    let untitled = item(3, None, "Notes");
    vec![
        Story {
            id: 7,
            entry_id: Some("https://openai.com/index/aws-and-openai-partnership".into()),
            sort_at: at("2025-11-03T06:00:00Z"),
            item: aws,
            sources: vec![source("OpenAI News"), source("Tech Roundup")],
            categories: vec!["ai".into()],
        },
        Story {
            id: 8,
            entry_id: Some(
                "tag:tributary,2026:5e0c3f4a-2b1d-4c8e-9f70-1a2b3c4d5e6f/stories/8".into(),
            ),
            sort_at: at("2026-11-20T08:30:00Z"),
            item: pod,
            sources: vec![source("Pod Cast")],
            categories: vec!["podcasts".into(), "tech news".into()],
        },
        // Made before entry ids were stored.
        Story {
            id: 9,
            entry_id: None,
            sort_at: at("2026-11-20T07:00:00Z"),
            item: untitled,
            sources: vec![source("Notes")],
            categories: vec![],
        },
    ]
}

fn meta() -> FeedMeta {
    FeedMeta {
        title: "Merged feed".into(),
        home_url: "http://127.0.0.1:8080/".parse().unwrap(),
        self_url: "http://127.0.0.1:8080/feed.atom".parse().unwrap(),
        next_url: Some(
            "http://127.0.0.1:8080/feed.atom?before=abc-9"
                .parse()
                .unwrap(),
        ),
    }
}

fn golden(name: &str, actual: &[u8]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        expected == actual,
        "{name} differs from its golden file:\n{}",
        String::from_utf8_lossy(actual)
    );
}

#[test]
fn atom_matches_golden() {
    golden("feed.atom", &render_atom(&meta(), &stories()));
}

#[test]
fn rss_matches_golden() {
    golden("feed.rss", &render_rss(&meta(), &stories()));
}

#[test]
fn json_matches_golden() {
    golden("feed.json", &render_json(&meta(), &stories()));
}

#[test]
fn html_matches_golden() {
    let stories = stories();
    let count = |label: &str| CategoryCount {
        slug: label.to_lowercase(),
        label: label.to_string(),
        stories: 1,
    };
    let categories = vec![count("AI"), count("Podcasts")];
    let page = RiverPage {
        title: "Merged feed",
        stories: &stories,
        navigation: &navigation(&[], &categories, None),
        filters: &[],
        query: None,
        older: Some("?before=abc-9".into()),
    };
    golden("river.html", render_html(&page).as_bytes());
}

#[test]
fn markdown_matches_golden() {
    golden("story.md", render_markdown(&stories()[1]).as_bytes());
}

#[test]
fn outputs_read_back_with_feed_rs() {
    for (name, body) in [
        ("atom", render_atom(&meta(), &stories())),
        ("rss", render_rss(&meta(), &stories())),
        ("json", render_json(&meta(), &stories())),
    ] {
        let feed = feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(feed.entries.len(), 3, "{name}");
        let titles: Vec<String> = feed
            .entries
            .iter()
            .map(|e| e.title.as_ref().unwrap().content.clone())
            .collect();
        assert_eq!(titles[1], "Episode 12: <Feeds> & \"quotes\"", "{name}");
    }
}

#[test]
fn markdown_front_matter_is_exactly_the_contracts() {
    let text = render_markdown(&stories()[0]);
    let expected = "---\n\
title: \"AWS and OpenAI announce multi-year strategic partnership\"\n\
source: \"OpenAI News\"\n\
url: \"https://openai.com/index/aws-and-openai-partnership\"\n\
published: \"2025-11-03T06:00:00.000Z\"\n\
category: \"ai\"\n\
summary: \"OpenAI and AWS have entered a multi-year, $38 billion partnership ...\"\n\
---\n\n";
    assert!(text.starts_with(expected), "{text}");
    let body = &text[expected.len()..];
    assert!(body.starts_with("## A partnership"), "{body}");
    assert!(body.contains("**advanced**"), "{body}");
    assert!(body.contains("[AWS](https://openai.com/aws)"), "{body}");
    assert!(body.contains("Compute"), "{body}");
    assert!(!body.contains("track()"), "{body}");
    assert_eq!(
        markdown_file_name(&stories()[0]),
        "2025-11-03-aws-and-openai-announce-multi-year-strategic-partnership.md"
    );
}

/// Every output that shows the item's link: Atom, RSS, JSON Feed, the river
/// page and the Markdown front matter.
fn every_output(stories: &[Story]) -> Vec<(&'static str, String)> {
    let page = RiverPage {
        title: "Merged feed",
        stories,
        navigation: &navigation(&[], &[], None),
        filters: &[],
        query: None,
        older: None,
    };
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    vec![
        ("atom", text(render_atom(&meta(), stories))),
        ("rss", text(render_rss(&meta(), stories))),
        ("json", text(render_json(&meta(), stories))),
        ("html", render_html(&page)),
        ("markdown", render_markdown(&stories[0])),
    ]
}

#[test]
fn published_links_carry_no_tracking_parameters() {
    let mut stories = stories();
    stories[0].item.link = Some(
        "http://www.OpenAI.com/index/aws?utm_source=rss&page=2&fbclid=x&mc_eid=1&lang=en#top"
            .into(),
    );
    let published = "http://www.openai.com/index/aws?page=2&amp;lang=en#top";
    let published_json = "http://www.openai.com/index/aws?page=2&lang=en#top";
    for (name, body) in every_output(&stories) {
        let want = match name {
            "json" | "markdown" => published_json,
            _ => published,
        };
        assert!(body.contains(want), "{name}: {body}");
        for decoration in ["utm_source", "fbclid", "mc_eid"] {
            assert!(
                !body.contains(decoration),
                "{name} has {decoration}: {body}"
            );
        }
    }
}

#[test]
fn entry_ids_are_the_stored_ones_in_every_format() {
    let stories = stories();
    let mut moved = meta();
    moved.home_url = "https://elsewhere.example/news/".parse().unwrap();
    moved.self_url = "https://elsewhere.example/news/feed.atom".parse().unwrap();
    for (name, render) in [
        ("atom", render_atom as fn(&FeedMeta, &[Story]) -> Vec<u8>),
        ("rss", render_rss),
        ("json", render_json),
    ] {
        let ids = |meta: &FeedMeta| -> Vec<String> {
            feed_rs::parser::parse(&render(meta, &stories)[..])
                .unwrap()
                .entries
                .into_iter()
                .map(|e| e.id)
                .collect()
        };
        assert_eq!(
            ids(&meta()),
            [
                "https://openai.com/index/aws-and-openai-partnership",
                "tag:tributary,2026:5e0c3f4a-2b1d-4c8e-9f70-1a2b3c4d5e6f/stories/8",
                "http://127.0.0.1:8080/stories/9",
            ],
            "{name}"
        );
        // Only a story made before ids were stored follows the address.
        assert_eq!(ids(&moved)[..2], ids(&meta())[..2], "{name}");
    }
}

mod hygiene {
    use super::*;
    use proptest::prelude::*;

    /// Text made to break XML: any char, with control characters, CDATA ends,
    /// markup and entities mixed in.
    fn nasty() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            any::<char>().prop_map(|c| c.to_string()),
            Just("]]>".to_string()),
            Just("<![CDATA[".to_string()),
            Just("<script>alert(1)</script>".to_string()),
            Just("&amp;&#0;&#x1;&bogus;&".to_string()),
            Just("\u{0}\u{1}\u{8}\u{b}\u{c}\u{1f}\u{7f}\u{fffe}\u{ffff}".to_string()),
            Just("\"'<>".to_string()),
            "[a-z ]{0,8}".prop_map(|s| s),
        ];
        proptest::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
    }

    fn well_formed(name: &str, xml: &[u8]) -> Result<(), String> {
        let mut reader = quick_xml::Reader::from_reader(xml);
        let mut buf = Vec::new();
        loop {
            match reader.read_event_into(&mut buf) {
                Ok(quick_xml::events::Event::Eof) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(format!("{name}: {e}: {}", String::from_utf8_lossy(xml))),
            }
            buf.clear();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn any_item_text_gives_well_formed_outputs(
            title in nasty(),
            summary in nasty(),
            content in nasty(),
            author in nasty(),
            category in nasty(),
            source_name in nasty(),
        ) {
            let mut stories = stories();
            let s = &mut stories[0];
            s.item.title = Some(title);
            s.item.summary = Some(summary);
            s.item.content = Some(content);
            s.item.authors = vec![Person { name: Some(author), email: None, uri: None }];
            s.categories = vec![category];
            s.sources[0].name = source_name;
            for (name, body) in [("atom", render_atom(&meta(), &stories)), ("rss", render_rss(&meta(), &stories))] {
                prop_assert!(well_formed(name, &body).is_ok(), "{}", well_formed(name, &body).unwrap_err());
                prop_assert!(feed_rs::parser::parse(&body[..]).is_ok(), "{name} does not read back");
            }
            let json = render_json(&meta(), &stories);
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&json).is_ok());
            prop_assert!(feed_rs::parser::parse(&json[..]).is_ok(), "json does not read back");
        }
    }
}
