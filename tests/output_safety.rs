//! Whatever a feed sent, and whatever an older database holds, every output
//! renders, reads back, writes dates its format allows, and publishes no URL but
//! http, https and mailto. Checked over arbitrary stored values (a property test
//! on the renderers) and through the real binary: poll, export, inspect.

mod common;
mod scan;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use tributary::model::{Enclosure, Person};
use tributary::model::{SourceRef, StoredItem, Story};
use tributary::render::FeedMeta;
use tributary::render::atom::render_atom;
use tributary::render::html::{RiverPage, navigation, render_html};
use tributary::render::json::render_json;
use tributary::render::markdown::render_markdown;
use tributary::render::rss::render_rss;

use common::{FeedHost, Setup, rss, run_tributary};
use scan::{html_urls, json_urls, unsafe_urls, xml_urls};

fn meta() -> FeedMeta {
    FeedMeta {
        title: "Merged feed".into(),
        home_url: "http://127.0.0.1:8080/".parse().unwrap(),
        self_url: "http://127.0.0.1:8080/feed.atom".parse().unwrap(),
        next_url: None,
    }
}

/// Texts of the named elements of an XML document.
fn element_texts(xml: &[u8], names: &[&str]) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut inside = false;
    let mut texts = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                inside = names.contains(&name.as_str());
                if inside {
                    texts.push(String::new());
                }
            }
            Event::Text(t) if inside => texts.last_mut().unwrap().push_str(&t),
            Event::End(_) => inside = false,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    texts
}

/// Every date in the Atom document is RFC 3339 (four-digit year), every date in
/// the RSS one RFC 2822 with a year RFC 2822 allows.
fn dates_are_valid(atom: &[u8], rss: &[u8], json: &serde_json::Value) -> Result<(), String> {
    for d in element_texts(atom, &["updated", "published"]) {
        DateTime::parse_from_rfc3339(&d).map_err(|e| format!("atom date {d:?}: {e}"))?;
        if !d.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
            return Err(format!("atom date {d:?} has no four-digit year"));
        }
    }
    for d in element_texts(rss, &["pubDate", "lastBuildDate"]) {
        let t = DateTime::parse_from_rfc2822(&d).map_err(|e| format!("rss date {d:?}: {e}"))?;
        if !(1900..=9999).contains(&chrono::Datelike::year(&t)) {
            return Err(format!("rss date {d:?}: RFC 2822 years run 1900-9999"));
        }
    }
    for item in json["items"].as_array().into_iter().flatten() {
        for key in ["date_published", "date_modified"] {
            if let Some(d) = item[key].as_str() {
                DateTime::parse_from_rfc3339(d).map_err(|e| format!("json {key} {d:?}: {e}"))?;
                if !d.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
                    return Err(format!("json {key} {d:?} has no four-digit year"));
                }
            }
        }
    }
    Ok(())
}

/// Renders `stories` in every format and checks each the way a reader would.
fn check_outputs(stories: &[Story]) -> Result<(), String> {
    let atom = render_atom(&meta(), stories);
    let rss = render_rss(&meta(), stories);
    let json = render_json(&meta(), stories);
    let page = render_html(&RiverPage {
        title: "Merged feed",
        stories,
        navigation: &navigation(&[], &[], None),
        filters: &[],
        query: None,
        older: None,
    });
    for (name, body) in [("atom", &atom), ("rss", &rss)] {
        let urls = xml_urls(body).map_err(|e| format!("{name}: {e}"))?;
        let bad = unsafe_urls(&urls);
        if !bad.is_empty() {
            return Err(format!("{name} publishes {bad:?}"));
        }
        feed_rs::parser::parse(&body[..]).map_err(|e| format!("{name} does not read back: {e}"))?;
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&json).map_err(|e| format!("json is not JSON: {e}"))?;
    let bad = unsafe_urls(&json_urls(&doc));
    if !bad.is_empty() {
        return Err(format!("json publishes {bad:?}"));
    }
    feed_rs::parser::parse(&json[..]).map_err(|e| format!("json does not read back: {e}"))?;
    dates_are_valid(&atom, &rss, &doc)?;
    // RFC 4287 4.1.1.1: an entry without content links to its page.
    let parsed = feed_rs::parser::parse(&atom[..]).map_err(|e| format!("atom: {e}"))?;
    for e in &parsed.entries {
        let alternate = e
            .links
            .iter()
            .any(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"));
        if e.content.is_none() && !alternate {
            return Err(format!(
                "atom entry {:?} has neither content nor a page",
                e.id
            ));
        }
    }
    // The page links to itself with relative URLs; any absolute one must be safe.
    let absolute: Vec<(String, String)> = html_urls(&page)
        .into_iter()
        .filter(|(_, u)| url::Url::parse(u) != Err(url::ParseError::RelativeUrlWithoutBase))
        .collect();
    let bad = unsafe_urls(&absolute);
    if !bad.is_empty() {
        return Err(format!("the river page publishes {bad:?}"));
    }
    for story in stories {
        markdown_is_safe(&render_markdown(story))?;
    }
    Ok(())
}

/// A Markdown export file: front matter any YAML loader reads, with a valid date
/// and a safe `url`, and only safe link targets in the text.
fn markdown_is_safe(text: &str) -> Result<(), String> {
    let (front, body) = text
        .strip_prefix("---\n")
        .and_then(|t| t.split_once("\n---\n"))
        .ok_or_else(|| format!("markdown without front matter: {text}"))?;
    let docs = yaml_rust2::YamlLoader::load_from_str(front)
        .map_err(|e| format!("markdown front matter is not YAML ({e}): {front}"))?;
    let yaml = &docs[0];
    let published = yaml["published"].as_str().unwrap_or_default();
    DateTime::parse_from_rfc3339(published)
        .map_err(|e| format!("markdown date {published:?}: {e}"))?;
    let mut urls: Vec<(String, String)> = yaml["url"]
        .as_str()
        .map(|u| ("url".to_string(), u.to_string()))
        .into_iter()
        .collect();
    // Link and image targets: `](target` not preceded by an escaping backslash.
    let target = regex::Regex::new(r"(?:^|[^\\])\]\(<?([^)>\s]+)").unwrap();
    urls.extend(
        target
            .captures_iter(body)
            .map(|c| ("markdown link".to_string(), c[1].to_string())),
    );
    let bad = unsafe_urls(&urls);
    if !bad.is_empty() {
        return Err(format!("markdown publishes {bad:?}: {text}"));
    }
    Ok(())
}

mod any_stored_value {
    use super::*;

    /// Any time chrono can hold, with the edges and ordinary years over-weighted.
    fn date() -> impl Strategy<Value = DateTime<Utc>> {
        let (min, max) = (
            DateTime::<Utc>::MIN_UTC.timestamp_millis(),
            DateTime::<Utc>::MAX_UTC.timestamp_millis(),
        );
        prop_oneof![
            (min..=max),
            any::<i64>(),
            // years 1800-2200
            (-5_364_662_400_000i64..7_258_118_400_000),
            // around the ends of four-digit years
            prop_oneof![
                Just(-62_167_219_200_001i64),
                Just(-62_167_219_200_000i64),
                Just(253_402_300_800_000i64),
                Just(253_402_300_799_999i64)
            ],
            Just(min),
            Just(max),
        ]
        .prop_map(|ms| {
            DateTime::from_timestamp_millis(ms).unwrap_or(if ms < 0 {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            })
        })
    }

    /// Text made to break markup: any char, with control characters, CDATA ends
    /// and markup mixed in.
    fn text() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            any::<char>().prop_map(|c| c.to_string()),
            Just("]]>".to_string()),
            Just("<script>alert(1)</script>".to_string()),
            Just("&amp;&#0;&#x1;&bogus;&".to_string()),
            Just("\u{0}\u{1}\u{b}\u{1f}\u{7f}\u{fffe}".to_string()),
            Just("\"'<>".to_string()),
            "[a-z ]{0,8}",
        ];
        proptest::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
    }

    /// A URL of any scheme, some disguised the ways browsers undo (case, white
    /// space and control characters in or before the scheme), or no URL at all.
    fn url() -> impl Strategy<Value = String> {
        let scheme = prop_oneof![
            Just("https://"),
            Just("http://"),
            Just("mailto:"),
            Just("javascript:"),
            Just("JaVaScRiPt:"),
            Just(" javascript:"),
            Just("\u{1}javascript:"),
            Just("java\tscript:"),
            Just("java\nscript:"),
            Just("data:"),
            Just("vbscript:"),
            Just("file://"),
            Just("file:"),
            Just("ftp://"),
            Just("//"),
            Just("/"),
            Just(""),
        ];
        let rest = prop_oneof!["[a-zA-Z0-9./:?#&=%@ -]{0,24}", text()];
        prop_oneof![
            (scheme, rest).prop_map(|(s, r)| format!("{s}{r}")),
            Just("javascript:alert(1)".to_string()),
            Just("data:text/html,<script>alert(1)</script>".to_string()),
            Just("file:///etc/passwd".to_string()),
        ]
    }

    /// HTML putting URLs in every attribute a browser follows.
    fn html() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            text(),
            url().prop_map(|u| format!("<a href=\"{u}\">l</a>")),
            url().prop_map(|u| format!("<a href='{u}'>l</a>")),
            url().prop_map(|u| format!("<img src=\"{u}\" alt=\"i\">")),
            url().prop_map(|u| format!("<img srcset=\"{u} 2x\">")),
            url().prop_map(|u| format!("<blockquote cite=\"{u}\">q</blockquote>")),
            url().prop_map(|u| format!(
                "<form action=\"{u}\"><button formaction=\"{u}\">b</button></form>"
            )),
            url().prop_map(|u| format!("<video poster=\"{u}\" src=\"{u}\"></video>")),
            url().prop_map(|u| format!("<object data=\"{u}\"></object>")),
            url().prop_map(|u| format!("<svg><a xlink:href=\"{u}\"><text>t</text></a></svg>")),
            url().prop_map(|u| format!("<area href=\"{u}\">")),
            url().prop_map(|u| format!("<iframe src=\"{u}\"></iframe>")),
        ];
        proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
    }

    fn person() -> impl Strategy<Value = Person> {
        (
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(url()),
        )
            .prop_map(|(name, email, uri)| Person { name, email, uri })
    }

    fn enclosure() -> impl Strategy<Value = Enclosure> {
        (
            url(),
            proptest::option::of(text()),
            proptest::option::of(any::<u64>()),
        )
            .prop_map(|(url, media_type, length)| Enclosure {
                url,
                media_type,
                length,
            })
    }

    fn source() -> impl Strategy<Value = SourceRef> {
        (
            text(),
            url(),
            proptest::option::of(url()),
            proptest::option::of(text()),
        )
            .prop_map(|(name, feed_url, site_link, title)| SourceRef {
                name,
                feed_url,
                site_link,
                title,
            })
    }

    prop_compose! {
        fn item()(
            id in any::<i64>(),
            link in proptest::option::of(url()),
            title in proptest::option::of(text()),
            authors in proptest::collection::vec(person(), 0..3),
            summary in proptest::option::of(prop_oneof![text(), html()]),
            content in proptest::option::of(html()),
            enclosures in proptest::collection::vec(enclosure(), 0..3),
            base in proptest::option::of(url()),
            published in proptest::option::of(date()),
            updated in proptest::option::of(date()),
            first_seen in date(),
        ) -> StoredItem {
            StoredItem {
                id,
                source: "s".into(),
                key: format!("g:{id}"),
                canonical_link: link.clone(),
                link,
                title,
                authors,
                summary,
                content,
                categories: vec![],
                enclosures,
                base,
                published,
                updated,
                first_seen,
            }
        }
    }

    prop_compose! {
        fn story()(
            id in any::<i64>(),
            sort_at in date(),
            item in item(),
            sources in proptest::collection::vec(source(), 1..3),
            categories in proptest::collection::vec(text(), 0..3),
        ) -> Story {
            Story { id, entry_id: None, sort_at, item, sources, categories }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn every_output_renders_reads_back_and_publishes_only_safe_urls(
            stories in proptest::collection::vec(story(), 1..4),
        ) {
            if let Err(e) = check_outputs(&stories) {
                return Err(TestCaseError::fail(e));
            }
        }
    }
}

/// One stored story, as an older database may hold it: values straight from a
/// feed, before any rule applied to them.
fn hostile_story(published: DateTime<Utc>) -> Story {
    let item = StoredItem {
        id: 1,
        source: "Hostile".into(),
        key: "g:1".into(),
        canonical_link: None,
        link: Some("javascript:alert(document.cookie)".into()),
        title: Some("t".into()),
        authors: vec![Person {
            name: Some("a".into()),
            email: None,
            uri: Some("vbscript:msgbox(1)".into()),
        }],
        summary: None,
        content: Some("<a href=\"x\">rel</a><img src=\"/i.png\">".into()),
        categories: vec![],
        enclosures: vec![Enclosure {
            url: "data:audio/mpeg;base64,AAAA".into(),
            media_type: None,
            length: None,
        }],
        base: Some("javascript:alert(1)//".into()),
        published: Some(published),
        updated: Some(published),
        first_seen: published,
    };
    Story {
        id: 1,
        entry_id: None,
        sort_at: published,
        item,
        sources: vec![SourceRef {
            name: "Hostile".into(),
            feed_url: "file:///home/me/private.xml".into(),
            site_link: Some("javascript:alert(2)".into()),
            title: None,
        }],
        categories: vec![],
    }
}

#[test]
fn a_year_no_format_can_write_does_not_break_any_output() {
    for year in [-1, 0, 1, 1899, 10_000, 200_000] {
        let t = chrono::NaiveDate::from_ymd_opt(year, 6, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc();
        let stories = vec![hostile_story(t)];
        let outcome = std::panic::catch_unwind(|| check_outputs(&stories));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("year {year}: {e}"),
            Err(_) => panic!("year {year}: a renderer panicked"),
        }
    }
}

#[test]
fn unsafe_urls_stored_by_an_older_version_are_not_published() {
    let t = "2026-11-24T10:00:00Z".parse().unwrap();
    check_outputs(&[hostile_story(t)]).unwrap();
    let atom = String::from_utf8(render_atom(&meta(), &[hostile_story(t)])).unwrap();
    // A file source is named by its feed on this tributary instead.
    assert!(
        atom.contains("<id>http://127.0.0.1:8080/s/hostile.atom</id>"),
        "{atom}"
    );
    // Nor does an unsafe link stand in for a missing title.
    let mut untitled = hostile_story(t);
    untitled.item.title = None;
    untitled.item.content = None;
    let json: serde_json::Value =
        serde_json::from_slice(&render_json(&meta(), &[untitled])).unwrap();
    assert_eq!(json["items"][0]["title"], "(untitled)");
}

/// Feed items dated where not every output format can follow (the year 10000,
/// year 0, Go's zero time, before 1900), and one dated sanely, last.
fn dated_items() -> Vec<String> {
    [
        ("y10000", "Sat, 01 Jan 10000 00:00:00 GMT"),
        ("y0", "0000-06-01T00:00:00Z"),
        ("y1", "Mon, 01 Jan 0001 00:00:00 +0000"),
        ("y1800", "Mon, 01 Jan 1800 00:00:00 +0000"),
        ("ok", "Tue, 24 Nov 2026 10:00:00 GMT"),
    ]
    .iter()
    .map(|(guid, date)| {
        format!(
            "<guid>{guid}</guid><title>{guid}</title><link>https://site.example/{guid}</link>\
             <pubDate>{date}</pubDate>"
        )
    })
    .collect()
}

/// Exports the database as Atom, RSS and JSON Feed, each of which must succeed
/// and write only valid dates; returns the JSON Feed.
async fn exports_with_valid_dates(setup: &Setup) -> serde_json::Value {
    let mut outputs = Vec::new();
    for format in ["atom", "rss", "json"] {
        let out = run_tributary(&setup.config, &["export", "--format", format]).await;
        assert!(
            out.status.success(),
            "export --format {format}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(out.stdout);
    }
    let json: serde_json::Value = serde_json::from_slice(&outputs[2]).unwrap();
    dates_are_valid(&outputs[0], &outputs[1], &json).unwrap();
    json
}

#[tokio::test(flavor = "multi_thread")]
async fn dates_a_feed_cannot_mean_are_dropped_and_every_export_works() {
    let host = FeedHost::start().await;
    host.set_feed("dates", &rss(&dated_items()));
    let setup = Setup::new("", &[("Dates", host.url("/f/dates"))]);
    let summary = setup.poll(&[]).await;
    assert_eq!(common::counts(&summary).3, 5, "{summary}");

    let json = exports_with_valid_dates(&setup).await;
    // Only the real date is published as one; the others fell back to when the
    // item was first seen, so they sort as new rather than first or last forever.
    let items = json["items"].as_array().unwrap();
    let ok = items.iter().find(|i| i["title"] == "ok").unwrap();
    assert_eq!(ok["date_published"], "2026-11-24T10:00:00Z");
    for i in items.iter().filter(|i| i["title"] != "ok") {
        let d: DateTime<Utc> = i["date_published"].as_str().unwrap().parse().unwrap();
        assert!(
            (Utc::now() - d).num_minutes().abs() < 10,
            "{}: {d}",
            i["title"]
        );
    }

    let out = run_tributary(&setup.config, &["inspect", &host.url("/f/dates")]).await;
    assert!(out.status.success());
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for item in seen["items"].as_array().unwrap() {
        if item["title"] != "ok" {
            assert_eq!(item["published"], serde_json::Value::Null, "{item}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dates_an_older_version_stored_are_exported_in_range() {
    let host = FeedHost::start().await;
    host.set_feed("dates", &rss(&dated_items()[4..]));
    let setup = Setup::new("", &[("Dates", host.url("/f/dates"))]);
    setup.poll(&[]).await;
    // What an older version stored for a feed dated in year 10000 or year -1.
    let db = rusqlite::Connection::open(setup.database()).unwrap();
    let far_future: i64 = 253_402_300_800_000 + 86_400_000 * 365;
    let far_past: i64 = -62_167_219_200_000 - 86_400_000 * 365;
    db.execute(
        "UPDATE items SET published = ?1, updated = ?2, sort_at = ?2",
        [far_future, far_past],
    )
    .unwrap();
    db.execute("UPDATE stories SET sort_at = ?1", [far_past])
        .unwrap();
    drop(db);

    let json = exports_with_valid_dates(&setup).await;
    assert_eq!(json["items"][0]["date_published"], "9999-12-31T23:59:59Z");
}

/// A feed that tries every way of slipping an unsafe URL into the outputs.
fn hostile_feed() -> String {
    r#"<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="javascript:alert(1)//">
  <title>Hostile</title>
  <id>urn:hostile</id>
  <updated>2026-11-24T10:00:00Z</updated>
  <link rel="alternate" href="javascript:alert('site')"/>
  <entry>
    <id>urn:h1</id>
    <title>Root base</title>
    <updated>2026-11-24T10:00:00Z</updated>
    <link rel="alternate" href="page.html"/>
    <link rel="enclosure" type="audio/mpeg" href="data:audio/mpeg;base64,AAAA"/>
    <author><name>Eve</name><uri>vbscript:msgbox(1)</uri></author>
    <content type="html">&lt;a href="rel/link"&gt;relative&lt;/a&gt; &lt;img src="/img.png"&gt; &lt;a href="javascript:alert(3)"&gt;js&lt;/a&gt;</content>
  </entry>
  <entry xml:base="javascript:alert(4)//">
    <id>urn:h2</id>
    <title>Entry base</title>
    <updated>2026-11-24T10:00:00Z</updated>
    <link rel="alternate" href="JaVaScRiPt:alert(5)"/>
    <content type="html">&lt;a href="x"&gt;x&lt;/a&gt;&lt;img src="y.png"&gt;</content>
  </entry>
  <entry xml:base="file:///etc/">
    <id>urn:h3</id>
    <title>File base</title>
    <updated>2026-11-24T10:00:00Z</updated>
    <link rel="alternate" href="passwd"/>
    <content type="html">&lt;a href="hostname"&gt;x&lt;/a&gt;</content>
  </entry>
</feed>"#
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_output_publishes_a_url_a_feed_smuggled_in() {
    let host = FeedHost::start().await;
    host.set_feed("hostile", &hostile_feed());
    let setup = Setup::new("", &[("Hostile", host.url("/f/hostile"))]);
    let summary = setup.poll(&[]).await;
    assert_eq!(common::counts(&summary).3, 3, "{summary}");

    for format in ["atom", "rss", "json"] {
        let out = run_tributary(&setup.config, &["export", "--format", format]).await;
        assert!(out.status.success(), "{format}");
        let urls = if format == "json" {
            json_urls(&serde_json::from_slice(&out.stdout).unwrap())
        } else {
            xml_urls(&out.stdout).unwrap()
        };
        let bad = unsafe_urls(&urls);
        assert!(bad.is_empty(), "{format} publishes {bad:?}");
        let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
        for scheme in ["javascript:", "vbscript:", "data:", "file:"] {
            assert!(!text.contains(scheme), "{format} holds {scheme}: {text}");
        }
    }

    let out = run_tributary(&setup.config, &["inspect", &host.url("/f/hostile")]).await;
    assert!(out.status.success());
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bad = unsafe_urls(
        &json_urls(&seen)
            .into_iter()
            .chain(seen["items"].as_array().unwrap().iter().flat_map(|i| {
                let html = |k: &str| html_urls(i[k].as_str().unwrap_or_default());
                [(
                    "link".to_string(),
                    i["link"].as_str().unwrap_or("https://x/").to_string(),
                )]
                .into_iter()
                .chain(html("content"))
                .chain(html("summary"))
                .collect::<Vec<_>>()
            }))
            .collect::<Vec<_>>(),
    );
    assert!(bad.is_empty(), "inspect shows {bad:?}");
    let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
    for scheme in ["javascript:", "vbscript:", "data:", "file:"] {
        assert!(!text.contains(scheme), "inspect holds {scheme}: {text}");
    }
}
