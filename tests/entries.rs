//! What a reader's feed client keys on: entry ids that never move, the copy a
//! folded story is shown from, and the links it is published with.

mod common;

use common::{FeedHost, Setup, rss, run_tributary};
use serde_json::Value;

fn item(guid: &str, link: &str, title: &str, date: Option<&str>) -> String {
    let guid = if guid.is_empty() {
        String::new()
    } else {
        format!("<guid isPermaLink=\"false\">{guid}</guid>")
    };
    let date = date.map_or(String::new(), |d| format!("<pubDate>{d}</pubDate>"));
    format!(
        "{guid}<link>{link}</link><title>{title}</title><description>About {title}</description>{date}"
    )
}

const MON: &str = "Mon, 23 Nov 2026 10:00:00 GMT";
const TUE: &str = "Tue, 24 Nov 2026 10:00:00 GMT";

/// Sets `[server] base_url`, replacing any set before.
fn serve_at(setup: &Setup, base_url: &str) {
    let text = std::fs::read_to_string(&setup.config).unwrap();
    let text = text.split("\n[server]").next().unwrap().to_string();
    std::fs::write(
        &setup.config,
        format!("{text}\n[server]\nbase_url = {base_url:?}\n"),
    )
    .unwrap();
}

async fn export(setup: &Setup, format: &str) -> Vec<u8> {
    let out = run_tributary(
        &setup.config,
        &["export", "--format", format, "--limit", "0"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

async fn export_json(setup: &Setup) -> Value {
    serde_json::from_slice(&export(setup, "json").await).unwrap()
}

fn entries(feed: &Value) -> &Vec<Value> {
    feed["items"].as_array().unwrap()
}

fn entry<'a>(feed: &'a Value, title: &str) -> &'a Value {
    entries(feed)
        .iter()
        .find(|i| i["title"] == title)
        .unwrap_or_else(|| panic!("no entry {title:?} in {feed}"))
}

/// The ids of the merged feed in all three formats, as a feed reader reads them.
async fn ids_in_every_format(setup: &Setup) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for format in ["json", "atom", "rss"] {
        let body = export(setup, format).await;
        let feed = feed_rs::parser::parse(&body[..]).unwrap();
        let mut ids: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
        ids.sort();
        all.push(ids);
    }
    all
}

#[tokio::test]
async fn entry_ids_do_not_depend_on_where_tributary_is_served() {
    let host = FeedHost::start().await;
    host.set_feed(
        "a",
        &rss(&[
            item(
                "https://a.example/?p=1",
                "https://a.example/one",
                "With a URI guid",
                Some(MON),
            ),
            item("42", "https://a.example/two", "With a bare guid", Some(MON)),
        ]),
    );
    host.set_feed(
        "b",
        &rss(&[item(
            "",
            "https://b.example/three",
            "Without a guid",
            Some(MON),
        )]),
    );
    let setup = Setup::new("", &[("A", host.url("/f/a")), ("B", host.url("/f/b"))]);
    serve_at(&setup, "http://127.0.0.1:8080/");
    setup.poll(&[]).await;
    let here = ids_in_every_format(&setup).await;
    serve_at(&setup, "https://news.example.org/river/");
    let moved = ids_in_every_format(&setup).await;

    assert_eq!(here, moved, "moving the service changed entry ids");
    assert_eq!(here[0], here[1], "JSON Feed and Atom ids differ");
    assert_eq!(here[0], here[2], "JSON Feed and RSS ids differ");
    let feed = export_json(&setup).await;
    assert_eq!(
        entry(&feed, "With a URI guid")["id"],
        "https://a.example/?p=1",
        "a usable publisher id is kept"
    );
    let own: Vec<&str> = ["With a bare guid", "Without a guid"]
        .iter()
        .map(|t| entry(&feed, t)["id"].as_str().unwrap())
        .collect();
    for id in &own {
        assert!(id.starts_with("tag:tributary,"), "{id}");
    }
    assert_ne!(own[0], own[1]);
    // The tag: name is the database's: the same ids the next time.
    assert_eq!(ids_in_every_format(&setup).await, here);
}

#[tokio::test]
async fn rss_guids_say_whether_they_are_the_link() {
    let host = FeedHost::start().await;
    host.set_feed(
        "a",
        &rss(&[
            item(
                "https://a.example/one",
                "https://a.example/one",
                "Guid is link",
                Some(MON),
            ),
            item("7", "https://a.example/two", "Own id", Some(MON)),
        ]),
    );
    let setup = Setup::new("", &[("A", host.url("/f/a"))]);
    setup.poll(&[]).await;
    let body = String::from_utf8(export(&setup, "rss").await).unwrap();
    assert!(
        body.contains("<guid>https://a.example/one</guid>")
            || body.contains("<guid isPermaLink=\"true\">https://a.example/one</guid>"),
        "{body}"
    );
    assert!(
        body.contains("<guid isPermaLink=\"false\">tag:tributary,"),
        "{body}"
    );
}

#[tokio::test]
async fn a_story_keeps_its_id_when_a_better_copy_becomes_its_primary() {
    let host = FeedHost::start().await;
    host.set_feed(
        "a",
        &rss(&[item(
            "https://a.example/posts/1",
            "https://news.example/story",
            "Told by A",
            Some(TUE),
        )]),
    );
    host.set_feed(
        "b",
        &rss(&[item(
            "tag:b.example,2026:1",
            "https://news.example/story?utm_source=b",
            "Told by B",
            Some(MON),
        )]),
    );
    let setup = Setup::new("", &[("A", host.url("/f/a")), ("B", host.url("/f/b"))]);
    setup.poll(&["--source", "A"]).await;
    let before = export_json(&setup).await;
    assert_eq!(
        entry(&before, "Told by A")["id"],
        "https://a.example/posts/1"
    );

    setup.poll(&["--source", "B"]).await;
    let after = export_json(&setup).await;
    assert_eq!(entries(&after).len(), 1, "{after}");
    // B published first: its copy is shown now, under the id readers know.
    let story = entry(&after, "Told by B");
    assert_eq!(story["id"], "https://a.example/posts/1");
    assert_eq!(
        story["_tributary"]["sources"],
        serde_json::json!(["B", "A"])
    );
}

/// What a reader sees of an entry, apart from its id and dates.
fn shown(feed: &Value) -> Vec<Value> {
    let mut shown: Vec<Value> = entries(feed)
        .iter()
        .map(|e| {
            serde_json::json!({
                "title": e["title"],
                "url": e["url"],
                "sources": e["_tributary"]["sources"],
                "tags": e["tags"],
                "content": e["content_html"],
            })
        })
        .collect();
    shown.sort_by_key(|e| e["url"].as_str().unwrap().to_string());
    shown
}

#[tokio::test]
async fn the_merged_feed_does_not_depend_on_the_order_sources_were_polled() {
    let host = FeedHost::start().await;
    let story = |n: u32, by: &str, date: Option<&str>| {
        item(
            &format!("{by}-{n}"),
            &format!("https://news.example/{n}"),
            &format!("Story {n} as told by {by}"),
            date,
        )
    };
    // 1: A first; 2: B first; 3: same date, A comes first in the config;
    // 4: only B dated; 5: neither dated, A comes first in the config.
    host.set_feed(
        "a",
        &rss(&[
            story(1, "A", Some(MON)),
            story(2, "A", Some(TUE)),
            story(3, "A", Some(MON)),
            story(4, "A", None),
            story(5, "A", None),
        ]),
    );
    host.set_feed(
        "b",
        &rss(&[
            story(1, "B", Some(TUE)),
            story(2, "B", Some(MON)),
            story(3, "B", Some(MON)),
            story(4, "B", Some(TUE)),
            story(5, "B", None),
        ]),
    );
    let sources = [("A", host.url("/f/a")), ("B", host.url("/f/b"))];
    let categories = "categories = [\"from-a\"]\n";
    let a_then_b = Setup::new("", &sources);
    let b_then_a = Setup::new("", &sources);
    for setup in [&a_then_b, &b_then_a] {
        let text = std::fs::read_to_string(&setup.config).unwrap().replacen(
            "name = \"A\"\n",
            &format!("name = \"A\"\n{categories}"),
            1,
        );
        std::fs::write(&setup.config, text).unwrap();
    }
    a_then_b.poll(&["--source", "A"]).await;
    a_then_b.poll(&["--source", "B"]).await;
    b_then_a.poll(&["--source", "B"]).await;
    b_then_a.poll(&["--source", "A"]).await;

    let one = shown(&export_json(&a_then_b).await);
    let other = shown(&export_json(&b_then_a).await);
    assert_eq!(one, other, "the poll order changed what is published");
    let titles: Vec<&str> = one.iter().map(|e| e["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Story 1 as told by A",
            "Story 2 as told by B",
            "Story 3 as told by A",
            "Story 4 as told by B",
            "Story 5 as told by A",
        ]
    );
    assert_eq!(one[1]["sources"], serde_json::json!(["B", "A"]));
    assert_eq!(one[2]["sources"], serde_json::json!(["A", "B"]));
    // Atom and RSS show the same primaries.
    for format in ["atom", "rss"] {
        assert_eq!(
            titles_in(&a_then_b, format).await,
            titles_in(&b_then_a, format).await,
            "{format}"
        );
    }
}

async fn titles_in(setup: &Setup, format: &str) -> Vec<String> {
    let body = export(setup, format).await;
    let mut titles: Vec<String> = feed_rs::parser::parse(&body[..])
        .unwrap()
        .entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.clone())
        .collect();
    titles.sort();
    titles
}

#[tokio::test]
async fn published_links_drop_tracking_parameters_and_keep_the_rest() {
    let host = FeedHost::start().await;
    let decorated = "http://www.News.example:8080/Story/%7Ea/?utm_source=rss&amp;id=3&amp;fbclid=x&amp;UTM_Medium=feed&amp;b=2#comments";
    let published = "http://www.news.example:8080/Story/%7Ea/?id=3&b=2#comments";
    host.set_feed("a", &rss(&[item("1", decorated, "Decorated", Some(MON))]));
    let setup = Setup::new("", &[("A", host.url("/f/a"))]);
    setup.poll(&[]).await;

    let json = export_json(&setup).await;
    assert_eq!(entry(&json, "Decorated")["url"], published);
    for format in ["atom", "rss"] {
        let body = export(&setup, format).await;
        let feed = feed_rs::parser::parse(&body[..]).unwrap();
        let links: Vec<&str> = feed.entries[0]
            .links
            .iter()
            .map(|l| l.href.as_str())
            .collect();
        assert_eq!(links, [published], "{format}");
    }
    let text = &setup.export_markdown().await[0];
    assert!(text.contains(&format!("url: \"{published}\"\n")), "{text}");
}

/// A database as the first schema version left it: source "Old" with stories 1
/// and 2, and story 3 carried by "Old" first and "Other" (dated earlier) after.
fn database_of_the_first_version(path: &std::path::Path, old_feed: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(include_str!("fixtures/schema/v1.sql"))
        .unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO sources (id, name, url, fetch_url) VALUES
            (1, 'Old', '{old_feed}', '{old_feed}'),
            (2, 'Other', 'https://other.example/feed', 'https://other.example/feed');
         INSERT INTO items (id, source_id, key, link, title, first_seen, sort_at, fingerprint, story_id,
                            published) VALUES
            (1, 1, 'g:https://old.example/1', 'https://old.example/1', 'Old one', 1, 1800000000000, 0, 1, 1800000000000),
            (2, 1, 'g:https://old.example/2', 'https://old.example/2', 'Old two', 1, 1800000001000, 0, 2, 1800000001000),
            (3, 1, 'g:https://old.example/3', 'https://old.example/3', 'Old three', 1, 1800000002000, 0, 3, 1800000002000),
            (4, 2, 'g:4', 'https://old.example/3', 'Other three', 1, 1700000000000, 0, 3, 1700000000000);
         INSERT INTO stories (id, link_key, sort_at) VALUES
            (1, 'https://old.example/1', 1800000000000),
            (2, 'https://old.example/2', 1800000001000),
            (3, 'https://old.example/3', 1800000002000);
         PRAGMA user_version = 1;"
    ))
    .unwrap();
}

#[tokio::test]
async fn a_database_of_the_first_version_keeps_the_ids_and_entries_it_served() {
    let host = FeedHost::start().await;
    host.set_feed(
        "new",
        &rss(&[item("9", "https://new.example/1", "New one", Some(MON))]),
    );
    let setup = Setup::new(
        "",
        &[
            ("Old", "https://old.example/feed".to_string()),
            ("New", host.url("/f/new")),
        ],
    );
    database_of_the_first_version(&setup.database(), "https://old.example/feed");
    serve_at(&setup, "http://127.0.0.1:8080/");
    // The read-only commands refuse a database of an older schema; the service
    // (or a poll) brings it up to date when it opens it.
    let refused = run_tributary(&setup.config, &["export", "--format", "json"]).await;
    assert_eq!(refused.status.code(), Some(1));
    drop(setup.store());

    let feed = export_json(&setup).await;
    let served: Vec<(&str, &str)> = entries(&feed)
        .iter()
        .map(|e| (e["title"].as_str().unwrap(), e["id"].as_str().unwrap()))
        .collect();
    // As the first version served them: the same ids, the same primaries.
    assert_eq!(
        served,
        [
            ("Old three", "http://127.0.0.1:8080/stories/3"),
            ("Old two", "http://127.0.0.1:8080/stories/2"),
            ("Old one", "http://127.0.0.1:8080/stories/1"),
        ]
    );

    setup.poll(&["--source", "New"]).await;
    let feed = export_json(&setup).await;
    assert_eq!(entries(&feed).len(), 4);
    let new_id = entry(&feed, "New one")["id"].as_str().unwrap().to_string();
    assert!(new_id.starts_with("tag:tributary,"), "{new_id}");
    assert!(
        new_id.ends_with("/stories/4"),
        "numbered after the old stories: {new_id}"
    );
    assert_eq!(
        entry(&feed, "Old three")["id"],
        "http://127.0.0.1:8080/stories/3"
    );
}

#[tokio::test]
async fn a_feed_that_claims_an_id_tributary_would_give_next_cannot_block_a_story() {
    let host = FeedHost::start().await;
    host.set_feed(
        "a",
        &rss(&[item("1", "https://a.example/1", "First", Some(MON))]),
    );
    let setup = Setup::new("", &[("A", host.url("/f/a")), ("B", host.url("/f/b"))]);
    setup.poll(&["--source", "A"]).await;
    let first = entry(&export_json(&setup).await, "First")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (prefix, _) = first.rsplit_once('/').unwrap();
    // B republishes with the id tributary would give its next story.
    let claimed = format!("{prefix}/2");
    host.set_feed(
        "b",
        &rss(&[item(&claimed, "https://b.example/1", "Claimer", Some(MON))]),
    );
    setup.poll(&["--source", "B"]).await;
    host.set_feed(
        "a",
        &rss(&[
            item("1", "https://a.example/1", "First", Some(MON)),
            item("2", "https://a.example/2", "Second", Some(TUE)),
        ]),
    );
    let summary = setup.poll(&["--source", "A"]).await;
    assert_eq!(summary["sources"]["failed"], 0, "{summary}");
    let feed = export_json(&setup).await;
    let mut ids: Vec<&str> = entries(&feed)
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{feed}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "two entries share an id: {feed}");
    assert_eq!(entry(&feed, "Claimer")["id"], claimed.as_str());
}
