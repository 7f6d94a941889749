//! One entry per story: folding across feeds, rules, tombstones, retention, and
//! the merged feed as `tributary export` writes it.

mod common;

use common::{FeedHost, Setup, counts, rss, run_tributary};
use serde_json::Value;

fn item(guid: &str, link: &str, title: &str) -> String {
    format!(
        "<guid>{guid}</guid><link>{link}</link><title>{title}</title><description>About {title}</description><pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate>"
    )
}

/// A config with `extra` TOML appended (rules, sections).
fn setup_with(extra: &str, sources: &[(&str, String)]) -> Setup {
    let setup = Setup::new("", sources);
    let mut text = std::fs::read_to_string(&setup.config).unwrap();
    text.push('\n');
    text.push_str(extra);
    std::fs::write(&setup.config, text).unwrap();
    setup
}

async fn export(setup: &Setup, args: &[&str]) -> Value {
    let out = run_tributary(
        &setup.config,
        &[&["export", "--format", "json", "--limit", "0"], args].concat(),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn titles(feed: &Value) -> Vec<String> {
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_same_story_from_two_feeds_shows_once_naming_both() {
    let host = FeedHost::start().await;
    host.set_feed(
        "a",
        &rss(&[
            item(
                "a1",
                "https://news.example/story?utm_source=a",
                "Shared story",
            ),
            item("a2", "https://news.example/only-a", "Only in A"),
        ]),
    );
    host.set_feed(
        "b",
        &rss(&[item(
            "b1",
            "http://www.news.example/story/#comments",
            "Shared story (via B)",
        )]),
    );
    let setup = Setup::new("", &[("A", host.url("/f/a")), ("B", host.url("/f/b"))]);
    let summary = setup.poll(&["--source", "A"]).await;
    assert_eq!(summary["items"]["folded"], 0);
    let summary = setup.poll(&["--source", "B"]).await;
    assert_eq!(summary["items"]["new"], 1);
    assert_eq!(summary["items"]["folded"], 1);

    let feed = export(&setup, &[]).await;
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{feed}");
    let shared = items
        .iter()
        .find(|i| i["title"] == "Shared story")
        .expect("same date: A, first in the config, is the primary");
    assert_eq!(
        shared["_tributary"]["sources"],
        serde_json::json!(["A", "B"])
    );
}

#[tokio::test]
async fn with_across_feeds_off_every_copy_is_its_own_entry() {
    let host = FeedHost::start().await;
    host.set_feed(
        "a",
        &rss(&[item("a1", "https://news.example/story", "Shared")]),
    );
    host.set_feed(
        "b",
        &rss(&[item("b1", "https://news.example/story", "Shared")]),
    );
    let setup = setup_with(
        "[dedup]\nacross_feeds = false\n",
        &[("A", host.url("/f/a")), ("B", host.url("/f/b"))],
    );
    assert_eq!(setup.poll(&[]).await["items"]["folded"], 0);
    assert_eq!(
        export(&setup, &[]).await["items"].as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn title_match_folds_same_titles_with_different_links() {
    let host = FeedHost::start().await;
    host.set_feed(
        "a",
        &rss(&[item(
            "a1",
            "https://one.example/x",
            "Ferrite moves to quarterly releases",
        )]),
    );
    host.set_feed(
        "b",
        &rss(&[item(
            "b1",
            "https://two.example/y",
            "Ferrite Moves to Quarterly Releases!",
        )]),
    );
    let setup = setup_with(
        "[dedup]\ntitle_match = true\n",
        &[("A", host.url("/f/a")), ("B", host.url("/f/b"))],
    );
    setup.poll(&["--source", "A"]).await;
    assert_eq!(setup.poll(&["--source", "B"]).await["items"]["folded"], 1);
    assert_eq!(
        export(&setup, &[]).await["items"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn a_source_whose_guids_change_shows_each_story_once() {
    let host = FeedHost::start().await;
    let feed = |n: u32| {
        rss(&[
            item(&format!("run{n}-1"), "https://s.example/1", "One"),
            item(&format!("run{n}-2"), "https://s.example/2", "Two"),
        ])
    };
    host.set_feed("c", &feed(1));
    let setup = Setup::new("", &[("C", host.url("/f/c"))]);
    setup.poll(&[]).await;
    host.set_feed("c", &feed(2));
    setup.poll(&[]).await;
    let mut entries = titles(&export(&setup, &[]).await);
    entries.sort();
    assert_eq!(entries, ["One", "Two"]);
}

#[tokio::test]
async fn identity_override_link_ignores_guids() {
    let host = FeedHost::start().await;
    host.set_feed("c", &rss(&[item("v1", "https://s.example/1", "One")]));
    let setup = setup_with("", &[("C", host.url("/f/c"))]);
    let text = std::fs::read_to_string(&setup.config)
        .unwrap()
        .replace("url = ", "identity = \"link\"\nurl = ");
    std::fs::write(&setup.config, text).unwrap();
    setup.poll(&[]).await;
    host.set_feed(
        "c",
        &rss(&[item("v2", "https://s.example/1", "One, edited")]),
    );
    let summary = setup.poll(&[]).await;
    assert_eq!(counts(&summary), (1, 0, 0, 0, 1), "{summary}");
    let items = setup.store().items_of_source("C").unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].key, "l:https://s.example/1");
}

#[tokio::test]
async fn rules_tag_exactly_the_matching_entries_and_category_export_filters() {
    let host = FeedHost::start().await;
    host.set_feed(
        "a",
        &rss(&[
            item("1", "https://s.example/1", "GPT-9 is here"),
            item("2", "https://s.example/2", "Gardening tips"),
            item("3", "https://s.example/3", "An LLM for gardening"),
        ]),
    );
    host.set_feed(
        "b",
        &rss(&[item("4", "https://t.example/4", "Cooking with cast iron")]),
    );
    let setup = setup_with(
        "[[rule]]\ncategory = \"ai\"\ntitle = \"(?i)\\\\b(gpt|llm)\"\n",
        &[("A", host.url("/f/a")), ("B", host.url("/f/b"))],
    );
    setup.poll(&[]).await;
    let all = export(&setup, &[]).await;
    for entry in all["items"].as_array().unwrap() {
        let title = entry["title"].as_str().unwrap();
        let tagged = entry["tags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("ai"));
        let should = title.contains("GPT") || title.contains("LLM");
        assert_eq!(tagged, should, "{title}: {entry}");
    }
    let mut ai = titles(&export(&setup, &["--category", "AI"]).await);
    ai.sort();
    assert_eq!(ai, ["An LLM for gardening", "GPT-9 is here"]);
}

#[tokio::test]
async fn dropped_items_never_come_back() {
    let host = FeedHost::start().await;
    let body = rss(&[
        item("1", "https://s.example/1", "Sponsored: buy now"),
        item("2", "https://s.example/2", "Real news"),
    ]);
    host.set_feed("d", &body);
    let setup = setup_with(
        "[[rule]]\ndrop = true\ntitle = \"(?i)^sponsored\"\n",
        &[("D", host.url("/f/d"))],
    );
    assert_eq!(setup.poll(&[]).await["items"]["new"], 1);
    assert_eq!(titles(&export(&setup, &[]).await), ["Real news"]);

    // Without the rule the item is still tombstoned: it does not return.
    let text = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(&setup.config, text.split("[[rule]]").next().unwrap()).unwrap();
    host.set_feed("d", &format!("{body} "));
    assert_eq!(setup.poll(&[]).await["items"]["new"], 0);
    assert_eq!(titles(&export(&setup, &[]).await), ["Real news"]);
}

#[tokio::test]
async fn pruned_items_are_tombstoned_and_stay_gone() {
    let host = FeedHost::start().await;
    let old = |n: u32| {
        format!(
            "<guid>old{n}</guid><link>https://s.example/old{n}</link><title>Old {n}</title><pubDate>Mon, 0{n} Jan 2024 10:00:00 GMT</pubDate>"
        )
    };
    let body = rss(&[
        item("new", "https://s.example/new", "New"),
        old(1),
        old(2),
        old(3),
    ]);
    host.set_feed("p", &body);
    let setup = setup_with("", &[("P", host.url("/f/p"))]);
    let text = std::fs::read_to_string(&setup.config).unwrap().replace(
        "[storage]\n",
        "[storage]\nretention = \"30d\"\nkeep_per_source = 2\n",
    );
    std::fs::write(&setup.config, text).unwrap();
    assert_eq!(setup.poll(&[]).await["items"]["new"], 4);
    // the newest two are kept though one is old; the two oldest are pruned
    assert_eq!(titles(&export(&setup, &[]).await), ["New", "Old 3"]);
    host.set_feed("p", &format!("{body} "));
    assert_eq!(setup.poll(&[]).await["items"]["new"], 0);
    assert_eq!(titles(&export(&setup, &[]).await), ["New", "Old 3"]);
}

#[tokio::test]
async fn export_limit_and_order() {
    let host = FeedHost::start().await;
    let dated = |n: u32| {
        format!(
            "<guid>{n}</guid><link>https://s.example/{n}</link><title>Day {n}</title><pubDate>Tue, {n:02} Nov 2026 10:00:00 GMT</pubDate>"
        )
    };
    host.set_feed("o", &rss(&[dated(3), dated(10), dated(7)]));
    let setup = Setup::new("", &[("O", host.url("/f/o"))]);
    setup.poll(&[]).await;
    assert_eq!(
        titles(&export(&setup, &[]).await),
        ["Day 10", "Day 7", "Day 3"]
    );
    let out = run_tributary(
        &setup.config,
        &["export", "--format", "json", "--limit", "2"],
    )
    .await;
    let two: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(titles(&two), ["Day 10", "Day 7"]);
    assert_eq!(two["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(two["items"][0]["date_published"], "2026-11-10T10:00:00Z");
}
