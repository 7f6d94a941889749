//! Categories end to end: labels kept as first spelled and shown in every
//! output while slugs match and link, a river navigation that many feed
//! categories cannot bury, the page of every category, sources that ignore
//! their feed's categories, the river's search, and sites in exported OPML.

mod common;

use std::sync::Arc;

use common::{FeedHost, Setup, rss, run_tributary};
use reqwest::StatusCode;
use tributary::config::Config;
use tributary::metrics::Metrics;
use tributary::server::{AppState, Settings, serve};
use tributary::store::Writer;

/// An item of a test feed, dated day `n` of November 2026.
fn item(n: u32, title: &str, categories: &[&str]) -> String {
    let categories: String = categories
        .iter()
        .map(|c| format!("<category>{c}</category>"))
        .collect();
    format!(
        "<guid>g{n}</guid><link>https://site.example/{n}</link><title>{title}</title>\
         <pubDate>Tue, {day:02} Nov 2026 10:00:00 GMT</pubDate>\
         <description>about {title}</description>{categories}",
        day = n % 28 + 1
    )
}

struct Served {
    base: String,
    setup: Setup,
    _host: FeedHost,
    _writer: Writer,
}

impl Served {
    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn text(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    async fn json(&self, path: &str) -> serde_json::Value {
        serde_json::from_str(&self.text(path).await).unwrap()
    }
}

/// Serves `feeds` (name, body) from a host, configures one source per feed
/// (with `extra` TOML lines in each, and `config_extra` at the end), polls
/// them in that order and serves the database on 127.0.0.1:0.
async fn serve_feeds(feeds: &[(&str, String, &str)], config_extra: &str) -> Served {
    let host = FeedHost::start().await;
    let mut sources = Vec::new();
    for (name, body, _) in feeds {
        host.set_feed(name, body);
        sources.push((*name, host.url(&format!("/f/{name}"))));
    }
    let setup = Setup::new("", &sources);
    let mut text = std::fs::read_to_string(&setup.config).unwrap();
    for (name, _, extra) in feeds {
        let url_line = format!("url = {:?}\n", host.url(&format!("/f/{name}")));
        text = text.replace(&url_line, &format!("{url_line}{extra}\n"));
    }
    std::fs::write(&setup.config, text + config_extra).unwrap();
    // One source after the other: a label is the spelling stored first.
    for (name, _, _) in feeds {
        setup.poll(&["--source", name]).await;
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config::load(&setup.config).unwrap();
    config.server.base_url = format!("http://{addr}/").parse().unwrap();
    let (writer, _) = Writer::spawn(Box::new(setup.store()));
    let state = AppState::new(
        &setup.database(),
        Settings::from(&config),
        Arc::new(Metrics::default()),
        Some(writer.clone()),
    )
    .unwrap();
    tokio::spawn(serve(listener, state, std::future::pending()));
    Served {
        base: format!("http://{addr}"),
        setup,
        _host: host,
        _writer: writer,
    }
}

/// The links of the river's category navigation, as (href, text) pairs.
fn navigation_links(page: &str) -> Vec<(String, String)> {
    let start = page
        .find("<nav class=\"categories\"")
        .expect("a navigation");
    let nav = &page[start..start + page[start..].find("</nav>").unwrap()];
    nav.split("<a ")
        .skip(1)
        .map(|a| {
            let href = a
                .split("href=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let text = a.split_once('>').unwrap().1.split("</a>").next().unwrap();
            (
                href.to_string(),
                text.replace("<bdi>", "").replace("</bdi>", ""),
            )
        })
        .collect()
}

#[tokio::test]
async fn many_feed_categories_leave_the_navigation_short_and_the_categories_page_lists_them_all() {
    // 60 stories, each with a category of its own, one shared by a few, and
    // one every story has: 60 + 6 + 1 categories from the feed.
    let items: Vec<String> = (1..=60)
        .map(|n| {
            let own = format!("Topic {n}");
            let group = format!("Desk {}", n % 6);
            item(n, &format!("Story {n}"), &[&own, &group, "World"])
        })
        .collect();
    let served = serve_feeds(
        &[("wire", rss(&items), "categories = [\"Local News\"]")],
        "\n[[rule]]\ncategory = \"Science\"\ntitle = \"Story 1\\\\d$\"\n",
    )
    .await;
    let page = served.text("/").await;
    let links = navigation_links(&page);
    let texts: Vec<&str> = links.iter().map(|(_, t)| t.as_str()).collect();
    // "all", the two configured categories, the five most used others, "more".
    assert_eq!(links.len(), 1 + 2 + 5 + 1, "{texts:#?}");
    assert_eq!(texts[0], "all");
    assert_eq!(texts[1], "Local News <small>60</small>");
    assert_eq!(texts[2], "Science <small>10</small>");
    assert_eq!(texts[3], "World <small>60</small>");
    assert!(
        texts[4..8].iter().all(|t| t.starts_with("Desk ")),
        "{texts:?}"
    );
    let (more_href, more_text) = links.last().unwrap();
    assert_eq!(more_href, "categories");
    assert_eq!(more_text, "62 more…");

    let every = served.text("/categories").await;
    let mut expected: Vec<(String, String, u32)> = vec![
        ("local-news".into(), "Local News".into(), 60),
        ("science".into(), "Science".into(), 10),
        ("world".into(), "World".into(), 60),
    ];
    expected.extend((0..6).map(|n| (format!("desk-{n}"), format!("Desk {n}"), 10)));
    expected.extend((1..=60).map(|n| (format!("topic-{n}"), format!("Topic {n}"), 1)));
    for (slug, label, stories) in &expected {
        let entry =
            format!("<a href=\"./?category={slug}\"><bdi>{label}</bdi></a> <small>{stories} ·");
        assert!(every.contains(&entry), "{entry} missing from /categories");
    }
    assert!(every.contains("69 categories"), "{every}");
    // A category left out of the navigation shows there while filtered on.
    let filtered = served.text("/?category=topic-42").await;
    let links = navigation_links(&filtered);
    assert!(
        links
            .iter()
            .any(|(href, text)| href == "?category=topic-42" && text == "Topic 42 <small>1</small>"),
        "{links:?}"
    );
    assert!(filtered.contains("<title>Merged feed — Topic 42</title>"));
}

#[tokio::test]
async fn a_category_is_shown_as_first_spelled_in_every_output_and_matched_whatever_the_spelling() {
    let first = rss(&[item(1, "Tensors", &["Machine Learning", "C++"])]);
    let second = rss(&[
        item(2, "Templates", &[" machine\n  learning ", "c++", "C"]),
        // the first feed's story again, folded into it
        item(1, "Tensors", &["MACHINE LEARNING", "Économie"]),
    ]);
    let served = serve_feeds(&[("a", first, ""), ("b", second, "")], "").await;

    let json = served.json("/feed.json").await;
    let tags = |title: &str| {
        json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["title"] == title)
            .unwrap()["tags"]
            .clone()
    };
    assert_eq!(
        tags("Tensors"),
        serde_json::json!(["Machine Learning", "C++", "Économie"])
    );
    assert_eq!(
        tags("Templates"),
        serde_json::json!(["Machine Learning", "C++", "C"])
    );
    let atom = served.text("/feed.atom").await;
    assert!(
        atom.contains("<category term=\"machine-learning\" label=\"Machine Learning\"/>"),
        "{atom}"
    );
    assert!(atom.contains("<category term=\"c-plus-plus\" label=\"C++\"/>"));
    let rss_out = served.text("/feed.rss").await;
    assert!(rss_out.contains("<category>Machine Learning</category>"));
    for output in [&atom, &rss_out] {
        assert!(!output.contains("machine learning") && !output.contains("MACHINE"));
    }
    // Matched by slug, whatever the spelling asked for.
    for path in [
        "/c/machine-learning.json",
        "/feed.json?category=Machine%20Learning",
        "/feed.json?category=MACHINE-LEARNING",
    ] {
        let feed = served.json(path).await;
        assert_eq!(feed["items"].as_array().unwrap().len(), 2, "{path}");
    }
    let ml = served.json("/c/machine-learning.json").await;
    assert_eq!(ml["title"], "Merged feed — Machine Learning");
    assert_eq!(
        served.json("/c/c-plus-plus.json").await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        served.json("/c/c.json").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "C++ is not C"
    );
    let page = served.text("/").await;
    assert!(page.contains("<bdi>Machine Learning</bdi> <small>2</small>"));
    assert!(
        page.contains("<a href=\"?category=machine-learning\"><bdi>Machine Learning</bdi></a>")
    );

    let exported = run_tributary(
        &served.setup.config,
        &[
            "export",
            "--format",
            "json",
            "--category",
            "machine learning",
        ],
    )
    .await;
    let exported: serde_json::Value = serde_json::from_slice(&exported.stdout).unwrap();
    assert_eq!(exported["title"], "Merged feed — Machine Learning");
    assert_eq!(exported["items"].as_array().unwrap().len(), 2);

    let front_matter = served.setup.export_markdown().await.concat();
    assert!(
        front_matter.contains("category: \"Machine Learning\"\n"),
        "{front_matter}"
    );
    assert!(front_matter.contains("categories: [\"Machine Learning\", \"C++\", \"C\"]\n"));
}

#[tokio::test]
async fn configured_labels_are_shown_as_the_config_spells_them() {
    let feed = rss(&[item(1, "Model news", &["ai"]), item(2, "Other", &["ai"])]);
    let served = serve_feeds(
        &[("a", feed, "categories = [\"Research Notes\"]")],
        "\n[[rule]]\ncategory = \"AI\"\ntitle = \"Model\"\n",
    )
    .await;
    let json = served.json("/feed.json").await;
    for item in json["items"].as_array().unwrap() {
        assert_eq!(item["tags"], serde_json::json!(["Research Notes", "AI"]));
    }
    let page = served.text("/").await;
    let texts: Vec<String> = navigation_links(&page)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        texts,
        [
            "all",
            "Research Notes <small>2</small>",
            "AI <small>2</small>"
        ]
    );
}

#[tokio::test]
async fn a_source_may_ignore_the_categories_its_feed_gives() {
    let feed = |n: u32| rss(&[item(n, &format!("Story {n}"), &["Gossip", "Celebrities"])]);
    let served = serve_feeds(
        &[
            ("loud", feed(1), "categories = [\"Tech\"]"),
            (
                "quiet",
                feed(2),
                "categories = [\"Tech\"]\nfeed_categories = false",
            ),
        ],
        "",
    )
    .await;
    assert_eq!(
        served.json("/s/quiet.json").await["items"][0]["tags"],
        serde_json::json!(["Tech"])
    );
    assert_eq!(
        served.json("/s/loud.json").await["items"][0]["tags"],
        serde_json::json!(["Tech", "Gossip", "Celebrities"])
    );
    let gossip = served.json("/c/gossip.json").await;
    assert_eq!(gossip["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_river_searches_shows_what_it_searched_and_reads_right_to_left_text_its_way() {
    let feed = rss(&[
        item(1, "Rust 2027 edition plans", &["Rust"]),
        item(2, "Gardening in winter", &[]),
        item(3, "عنوان باللغة العربية", &["أخبار"]),
    ]);
    let served = serve_feeds(&[("a", feed, "")], "").await;
    let page = served.text("/").await;
    assert!(page.contains("<form class=\"search\" role=\"search\" method=\"get\" action=\"./\">"));
    assert!(page.contains("<input type=\"search\" name=\"q\""));
    assert!(page.contains(
        "<h3 dir=\"auto\"><a href=\"https://site.example/3\">عنوان باللغة العربية</a></h3>"
    ));
    assert!(page.contains("<p class=\"summary\" dir=\"auto\">about عنوان"));

    let found = served.text("/?q=edition").await;
    assert!(found.contains("Rust 2027 edition plans"));
    assert!(!found.contains("Gardening"));
    assert!(
        found.contains("Stories matching “<bdi>edition</bdi>”"),
        "{found}"
    );
    assert!(
        found.contains("value=\"edition\""),
        "the box keeps the query"
    );
    let within = served.text("/?category=rust&q=edition").await;
    assert!(within.contains("<input type=\"hidden\" name=\"category\" value=\"rust\">"));
    assert!(within.contains("” in <bdi>Rust</bdi>"), "{within}");
    assert!(within.contains("<a href=\"./?category=rust\">clear the search</a>"));
    let none = served.text("/?q=zeppelin").await;
    assert!(none.contains("No story matches “<bdi>zeppelin</bdi>”"));
    for bad in ["/?q=", "/?q=%20%20", "/?q=a&limit=0"] {
        let (status, body) = served.get(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}

#[tokio::test]
async fn exported_opml_names_each_sources_site() {
    let served = serve_feeds(&[("a", rss(&[item(1, "One", &[])]), "")], "").await;
    let opml = run_tributary(&served.setup.config, &["export-opml"]).await;
    assert!(opml.status.success(), "{opml:?}");
    let opml = String::from_utf8(opml.stdout).unwrap();
    assert!(
        opml.contains(" htmlUrl=\"https://site.example/\""),
        "{opml}"
    );
    let served_opml = served.text("/opml").await;
    assert!(
        served_opml.contains(" htmlUrl=\"https://site.example/\""),
        "{served_opml}"
    );

    // Before any poll there is no site to name, and no database: still a list.
    std::fs::remove_file(served.setup.database()).unwrap();
    let opml = run_tributary(&served.setup.config, &["export-opml"]).await;
    assert!(opml.status.success(), "{opml:?}");
    let opml = String::from_utf8(opml.stdout).unwrap();
    assert!(
        opml.contains("xmlUrl=") && !opml.contains("htmlUrl"),
        "{opml}"
    );
}
