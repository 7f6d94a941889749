//! `tributary run`'s HTTP side: every route, conditional requests, compression,
//! paging, filters, search, and hostile item HTML kept out of every output.

mod common;

use std::sync::Arc;

use common::{FeedHost, Setup, rss};
use reqwest::StatusCode;
use reqwest::header;
use tributary::config::Config;
use tributary::metrics::Metrics;
use tributary::server::{AppState, Settings, serve};
use tributary::store::Writer;

const HOSTILE: &str = r#"<p onclick="steal()">Body<script>alert('x')</script></p><a href="javascript:alert(1)">click</a><iframe src="https://evil.example/"></iframe><img src="/pic.png" onerror="boom()">"#;

fn story(n: u32, title: &str, extra: &str) -> String {
    format!(
        "<guid>g{n}</guid><link>https://site.example/{n}</link><title>{title}</title>\
         <pubDate>Tue, {day:02} Nov 2026 10:00:00 GMT</pubDate>{extra}",
        day = n % 20 + 1
    )
}

struct Running {
    base: String,
    client: reqwest::Client,
    setup: Setup,
    _host: FeedHost,
    _writer: Writer,
}

impl Running {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn text(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.text().await.unwrap()
    }

    async fn json(&self, path: &str) -> serde_json::Value {
        serde_json::from_str(&self.text(path).await).unwrap()
    }
}

/// Polls a feed host serving two feeds, then serves the database on 127.0.0.1:0.
async fn start() -> Running {
    let host = FeedHost::start().await;
    let mut a: Vec<String> = (1..=25)
        .map(|n| story(n, &format!("Story {n}"), "<description>plain</description>"))
        .collect();
    a.push(story(
        26,
        "Hostile &lt;b&gt;markup&lt;/b&gt;",
        &format!("<description><![CDATA[{HOSTILE}]]></description>"),
    ));
    host.set_feed("a", &rss(&a));
    host.set_feed(
        "b",
        &rss(&[story(
            27,
            "Rust 2027 edition plans",
            "<category>Rust</category><description>editions</description>",
        )]),
    );
    let setup = Setup::new(
        "",
        &[("Alpha News", host.url("/f/a")), ("Beta", host.url("/f/b"))],
    );
    let text = std::fs::read_to_string(&setup.config)
        .unwrap()
        .replace("url = ", "categories = [\"tech\"]\nurl = ")
        + "\n[[rule]]\ncategory = \"ai\"\ntitle = \"Story 1\\\\d\"\n";
    std::fs::write(&setup.config, text).unwrap();
    setup.poll(&[]).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config::load(&setup.config).unwrap();
    config.server.base_url = format!("http://{addr}/").parse().unwrap();
    let (writer, _) = Writer::spawn(setup.store());
    let state = AppState::new(
        &setup.database(),
        Settings::from(&config),
        Arc::new(Metrics::default()),
        Some(writer.clone()),
    )
    .unwrap();
    tokio::spawn(serve(listener, state, std::future::pending()));
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    Running {
        base: format!("http://{addr}"),
        client,
        setup,
        _host: host,
        _writer: writer,
    }
}

#[tokio::test]
async fn every_feed_format_parses_back() {
    let r = start().await;
    for path in [
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
        "/c/tech.atom",
        "/c/rust.rss",
        "/s/beta.json",
    ] {
        let body = r.text(path).await;
        let feed =
            feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(!feed.entries.is_empty(), "{path} is empty");
    }
    let atom = r.text("/feed.atom").await;
    assert!(
        atom.contains("<tributary:source>Alpha News</tributary:source>"),
        "{atom}"
    );
    assert!(atom.contains("<category term=\"tech\""), "{atom}");
    let rss = r.text("/feed.rss").await;
    assert!(rss.contains("<source url="), "{rss}");
    let json = r.json("/feed.json").await;
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    let rust = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == "Rust 2027 edition plans")
        .unwrap();
    assert_eq!(rust["_tributary"]["sources"], serde_json::json!(["Beta"]));
}

#[tokio::test]
async fn hostile_html_never_reaches_an_output() {
    let r = start().await;
    for path in ["/feed.atom", "/feed.rss", "/feed.json", "/"] {
        let body = r.text(&format!("{path}?limit=1000")).await;
        assert!(body.contains("Hostile"), "{path} lacks the hostile story");
        for bad in [
            "<script",
            "&lt;script",
            "onclick",
            "onerror",
            "javascript:",
            "<iframe",
            "&lt;iframe",
            "alert(",
        ] {
            assert!(!body.contains(bad), "{path} contains {bad}");
        }
    }
    // a title's markup is stripped to plain text
    let json = r.json("/feed.json?limit=1000").await;
    let hostile = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"].as_str().unwrap().starts_with("Hostile"))
        .unwrap();
    assert_eq!(hostile["title"], "Hostile markup");
    // relative URLs are made absolute against the item's link
    assert!(
        hostile["content_html"]
            .as_str()
            .unwrap()
            .contains("src=\"https://site.example/pic.png\""),
        "{hostile}"
    );
}

#[tokio::test]
async fn conditional_requests_get_304() {
    let r = start().await;
    let first = r.get("/feed.atom").await;
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_string();
    let modified = first.headers()[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_string();
    let again = r
        .client
        .get(format!("{}/feed.atom", r.base))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[header::ETAG].to_str().unwrap(), etag);
    let since = r
        .client
        .get(format!("{}/feed.atom", r.base))
        .header(header::IF_MODIFIED_SINCE, &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), StatusCode::NOT_MODIFIED);
    let stale = r
        .client
        .get(format!("{}/feed.atom", r.base))
        .header(header::IF_NONE_MATCH, "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    use std::io::Read;
    let r = start().await;
    let plain = r.text("/feed.atom?limit=1000").await;
    let gz = r
        .client
        .get(format!("{}/feed.atom?limit=1000", r.base))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz.bytes().await.unwrap()[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, plain);
    let br = r
        .client
        .get(format!("{}/feed.json", r.base))
        .header(header::ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
}

#[tokio::test]
async fn bad_queries_get_400_and_unknown_paths_404() {
    let r = start().await;
    for path in [
        "/feed.atom?limit=0",
        "/feed.atom?limit=5000",
        "/feed.rss?limit=x",
        "/feed.json?before=nonsense",
        "/?q=",
        "/c/tech.atom?category=%20",
    ] {
        let resp = r.get(path).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path}");
        let body = resp.text().await.unwrap();
        assert_eq!(body.trim().lines().count(), 1, "{path}: {body}");
    }
    for path in [
        "/nope",
        "/feed.xml",
        "/c/Not A Slug.atom",
        "/s/nobody.atom",
        "/c/tech",
        "/stories/1",
    ] {
        assert_eq!(r.get(path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn pages_never_overlap_and_link_the_next() {
    let r = start().await;
    let mut seen = std::collections::HashSet::new();
    let mut path = "/feed.json?limit=10".to_string();
    let mut pages = 0;
    loop {
        let page = r.json(&path).await;
        for item in page["items"].as_array().unwrap() {
            assert!(
                seen.insert(item["id"].as_str().unwrap().to_string()),
                "{} twice",
                item["id"]
            );
        }
        pages += 1;
        match page["next_url"].as_str() {
            Some(next) => path = next.strip_prefix(&r.base).unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 27);
    assert_eq!(pages, 3);
    let atom = r.text("/feed.atom?limit=10").await;
    assert!(atom.contains("rel=\"next\""), "{atom}");
    let rss = r.text("/feed.rss?limit=10").await;
    assert!(rss.contains("rel=\"next\""), "{rss}");
}

#[tokio::test]
async fn category_and_source_feeds_filter() {
    let r = start().await;
    let ai = r.json("/c/ai.json?limit=1000").await;
    let titles: Vec<&str> = ai["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 10, "{titles:?}");
    assert!(
        titles.iter().all(|t| t.starts_with("Story 1")),
        "{titles:?}"
    );
    let both = r.json("/feed.json?category=rust&category=tech").await;
    assert_eq!(both["items"].as_array().unwrap().len(), 1);
    let beta = r.json("/s/beta.json").await;
    assert_eq!(beta["items"][0]["title"], "Rust 2027 edition plans");
    assert_eq!(beta["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        r.json("/c/unused.json").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn search_finds_words_and_survives_bad_syntax() {
    let r = start().await;
    let hits = r.json("/feed.json?q=edition").await;
    assert_eq!(hits["items"].as_array().unwrap().len(), 1);
    assert_eq!(hits["items"][0]["title"], "Rust 2027 edition plans");
    for q in ["%22unbalanced", "AND", "c%2B%2B%20OR", "NEAR(", "*"] {
        let resp = r.get(&format!("/feed.json?q={q}")).await;
        assert_eq!(resp.status(), StatusCode::OK, "q={q}");
    }
}

#[tokio::test]
async fn a_new_poll_shows_up_without_a_restart() {
    let r = start().await;
    let before = r.json("/feed.json?limit=1000").await["items"]
        .as_array()
        .unwrap()
        .len();
    r._host.set_feed(
        "b",
        &rss(&[
            story(27, "Rust 2027 edition plans", ""),
            story(28, "Brand new", ""),
        ]),
    );
    r.setup.poll(&[]).await;
    // Cached pages are rechecked against the database at most every 200 ms.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after = r.json("/feed.json?limit=1000").await["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before + 1);
}

#[tokio::test]
async fn the_river_page_groups_by_day_and_links_categories() {
    let r = start().await;
    let page = r.text("/").await;
    let first_day = page
        .find("<h2><time datetime=\"2026-11-20\">")
        .expect("a heading for the newest day");
    let next_day = page
        .find("<h2><time datetime=\"2026-11-19\">")
        .expect("a heading for the day before");
    assert!(first_day < next_day, "newest day first");
    assert!(page.contains("href=\"?category=ai\""));
    assert!(page.contains("Alpha News"));
    let filtered = r.text("/?category=rust").await;
    assert!(filtered.contains("Rust 2027 edition plans"));
    assert!(!filtered.contains("Story 12"));
}

#[tokio::test]
async fn opml_health_and_metrics() {
    let r = start().await;
    let opml = r.text("/opml").await;
    assert!(
        opml.contains("<opml version=\"2.0\">") && opml.contains("text=\"Alpha News\""),
        "{opml}"
    );
    let health = r.json("/healthz").await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["sources"]["ok"], 2);
    let metrics = r.text("/metrics").await;
    assert!(metrics.contains("tributary_items_stored 27"), "{metrics}");
    assert!(metrics.contains("# TYPE tributary_fetch_duration_seconds histogram"));
}
