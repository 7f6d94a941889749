//! One publisher's feeds in two formats (an Atom feed and a JSON Feed of one
//! site) show each post once, even when their links differ; feeds of two sites,
//! and the posts of one feed, stay apart.

mod common;

use common::{FeedHost, Setup, run_tributary};
use serde_json::{Value, json};

/// An Atom 1.0 feed (RFC 4287) whose home is `home`: each entry is
/// (id, link, title, day of November 2026).
fn atom(home: &str, entries: &[(&str, &str, &str, u32)]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Blog</title>\
         <id>{home}</id><link rel=\"alternate\" href=\"{home}\"/>\
         <updated>2026-11-24T10:00:00Z</updated>"
    );
    for (id, link, title, day) in entries {
        s.push_str(&format!(
            "<entry><id>{id}</id><link rel=\"alternate\" href=\"{link}\"/>\
             <title>{title}</title><updated>2026-11-{day:02}T10:00:00Z</updated>\
             <summary>About {title}</summary></entry>"
        ));
    }
    s + "</feed>"
}

/// A JSON Feed 1.1 whose `home_page_url` is `home`: each item is
/// (id, url, title, day of November 2026).
fn json_feed(home: &str, items: &[(&str, &str, &str, u32)]) -> String {
    let items: Vec<Value> = items
        .iter()
        .map(|(id, url, title, day)| {
            json!({
                "id": id,
                "url": url,
                "title": title,
                "content_text": format!("About {title}"),
                "date_published": format!("2026-11-{day:02}T10:00:00Z"),
            })
        })
        .collect();
    json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Blog",
        "home_page_url": home,
        "items": items,
    })
    .to_string()
}

/// The merged feed as `tributary export --format json` writes it: each entry's
/// title and the sources it names, sorted by title.
async fn shown(setup: &Setup) -> Vec<(String, Vec<String>)> {
    let out = run_tributary(
        &setup.config,
        &["export", "--format", "json", "--limit", "0"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let feed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut entries: Vec<(String, Vec<String>)> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let sources = i["_tributary"]["sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            (i["title"].as_str().unwrap().to_string(), sources)
        })
        .collect();
    entries.sort();
    entries
}

fn entry(title: &str, sources: &[&str]) -> (String, Vec<String>) {
    (
        title.to_string(),
        sources.iter().map(|s| s.to_string()).collect(),
    )
}

/// Both feeds served by one local host, as (name, address) sources, with
/// `dedup` appended to the config as its `[dedup]` section when not empty.
fn setup(host: &FeedHost, dedup: &str) -> Setup {
    let setup = Setup::new(
        "",
        &[("Atom", host.url("/f/atom")), ("JSON", host.url("/f/json"))],
    );
    if !dedup.is_empty() {
        let text = std::fs::read_to_string(&setup.config).unwrap() + "\n[dedup]\n" + dedup;
        std::fs::write(&setup.config, text).unwrap();
    }
    setup
}

const LINK_POST: &str = "Ferrite moves to quarterly releases";

#[tokio::test]
async fn one_sites_atom_and_json_feeds_show_a_link_post_once() {
    let host = FeedHost::start().await;
    // The Atom entry of a link post points at the page it links to, the JSON
    // item at the post's permalink; an ordinary post has one link in both.
    host.set_feed(
        "atom",
        &atom(
            "https://blog.example.org/",
            &[
                (
                    "tag:blog.example.org,2026:ferrite",
                    "https://ferrite.example.com/news/quarterly",
                    LINK_POST,
                    24,
                ),
                (
                    "tag:blog.example.org,2026:garden",
                    "https://blog.example.org/2026/garden",
                    "Notes from the garden",
                    23,
                ),
                (
                    "tag:blog.example.org,2026:atom-only",
                    "https://blog.example.org/2026/atom-only",
                    "Only the Atom feed has this",
                    22,
                ),
            ],
        ),
    );
    host.set_feed(
        "json",
        &json_feed(
            "https://www.blog.example.org/",
            &[
                (
                    "https://blog.example.org/2026/ferrite",
                    "https://blog.example.org/2026/ferrite",
                    "Ferrite Moves to Quarterly Releases",
                    24,
                ),
                (
                    "https://blog.example.org/2026/garden",
                    "https://blog.example.org/2026/garden",
                    "Notes from the garden",
                    23,
                ),
            ],
        ),
    );
    let setup = setup(&host, "");
    setup.poll(&["--source", "Atom"]).await;
    let summary = setup.poll(&["--source", "JSON"]).await;
    assert_eq!(summary["items"]["new"], 2);
    assert_eq!(summary["items"]["folded"], 2, "{summary}");
    assert_eq!(
        shown(&setup).await,
        [
            entry(LINK_POST, &["Atom", "JSON"]),
            entry("Notes from the garden", &["Atom", "JSON"]),
            entry("Only the Atom feed has this", &["Atom"]),
        ]
    );
}

#[tokio::test]
async fn feeds_of_two_sites_keep_their_same_titled_posts_apart() {
    let host = FeedHost::start().await;
    // Served from one host, the two feeds name two sites as their homes.
    host.set_feed(
        "atom",
        &atom(
            "https://one.example.com/",
            &[(
                "tag:one.example.com,2026:1",
                "https://one.example.com/ferrite",
                LINK_POST,
                24,
            )],
        ),
    );
    host.set_feed(
        "json",
        &json_feed(
            "https://two.example.net/",
            &[(
                "https://two.example.net/ferrite",
                "https://two.example.net/ferrite",
                LINK_POST,
                24,
            )],
        ),
    );
    let setup = setup(&host, "");
    assert_eq!(setup.poll(&[]).await["items"]["folded"], 0);
    assert_eq!(
        shown(&setup).await,
        [entry(LINK_POST, &["Atom"]), entry(LINK_POST, &["JSON"])]
    );
}

#[tokio::test]
async fn a_title_one_feed_repeats_stays_two_stories() {
    let host = FeedHost::start().await;
    // A thread opened every Friday and Sunday under one title: the Atom feed
    // has both, the JSON feed only Sunday's, which joins Sunday's alone.
    let thread = "Open thread for the weekend";
    host.set_feed(
        "atom",
        &atom(
            "https://blog.example.org/",
            &[
                (
                    "tag:blog.example.org,2026:thread-20",
                    "https://blog.example.org/threads/20",
                    thread,
                    20,
                ),
                (
                    "tag:blog.example.org,2026:thread-22",
                    "https://blog.example.org/threads/22",
                    thread,
                    22,
                ),
            ],
        ),
    );
    host.set_feed(
        "json",
        &json_feed(
            "https://blog.example.org/",
            &[("22", "https://blog.example.org/?p=22", thread, 22)],
        ),
    );
    let setup = setup(&host, "");
    setup.poll(&["--source", "Atom"]).await;
    assert_eq!(
        setup.poll(&["--source", "JSON"]).await["items"]["folded"],
        1
    );
    let out = run_tributary(
        &setup.config,
        &["export", "--format", "json", "--limit", "0"],
    )
    .await;
    let feed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_link: Vec<(&str, usize)> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let sources = i["_tributary"]["sources"].as_array().unwrap().len();
            (i["url"].as_str().unwrap(), sources)
        })
        .collect();
    assert_eq!(
        by_link,
        [
            ("https://blog.example.org/threads/22", 2),
            ("https://blog.example.org/threads/20", 1),
        ]
    );
}

#[tokio::test]
async fn same_site_titles_off_folds_one_sites_feeds_by_link_only() {
    let host = FeedHost::start().await;
    host.set_feed(
        "atom",
        &atom(
            "https://blog.example.org/",
            &[(
                "tag:blog.example.org,2026:ferrite",
                "https://ferrite.example.com/news/quarterly",
                LINK_POST,
                24,
            )],
        ),
    );
    host.set_feed(
        "json",
        &json_feed(
            "https://blog.example.org/",
            &[(
                "https://blog.example.org/2026/ferrite",
                "https://blog.example.org/2026/ferrite",
                LINK_POST,
                24,
            )],
        ),
    );
    let setup = setup(&host, "same_site_titles = false\n");
    assert_eq!(setup.poll(&[]).await["items"]["folded"], 0);
    assert_eq!(shown(&setup).await.len(), 2);
}
