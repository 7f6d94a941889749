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
    state: Arc<AppState>,
    metrics: Arc<Metrics>,
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

    /// `get` for requests made at once.
    fn get_owned(
        &self,
        path: String,
    ) -> impl std::future::Future<Output = reqwest::Response> + use<> {
        let request = self.client.get(format!("{}{path}", self.base));
        async move { request.send().await.unwrap() }
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
    let (writer, _) = Writer::spawn(Box::new(setup.store()));
    let metrics = Arc::new(Metrics::default());
    let state = AppState::new(
        &setup.database(),
        Settings::from(&config),
        metrics.clone(),
        Some(writer.clone()),
    )
    .unwrap();
    tokio::spawn(serve(listener, state.clone(), std::future::pending()));
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    Running {
        base: format!("http://{addr}"),
        client,
        setup,
        state,
        metrics,
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
    // A category nobody configured and no item carries is no page.
    assert_eq!(r.get("/c/unused.json").await.status(), 404);
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

#[tokio::test]
async fn a_panic_in_one_render_is_a_500_for_that_request_alone() {
    let r = start().await;
    r.state.panic_on_next_render();
    let failed = r.get("/feed.atom?limit=3").await;
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.text().await.unwrap(), "internal error\n");
    // the same page, other pages, health and metrics: all as before
    for path in [
        "/feed.atom?limit=3",
        "/feed.rss",
        "/s/beta.json",
        "/",
        "/metrics",
    ] {
        assert_eq!(r.get(path).await.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(r.json("/healthz").await["status"], "ok");
    // and every reader went back to the pool: more requests than readers at once
    let many = (1..=12).map(|n| r.get_owned(format!("/feed.json?limit={n}")));
    for response in futures_util::future::join_all(many).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn requests_for_a_page_at_once_render_it_once() {
    let r = start().await;
    let renders = |text: String| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix("tributary_page_renders_total "))
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = renders(r.text("/metrics").await);
    r.state.delay_renders(std::time::Duration::from_millis(300));
    let many = (0..24).map(|_| r.get_owned("/feed.atom?limit=1000".into()));
    let mut bodies = Vec::new();
    for resp in futures_util::future::join_all(many).await {
        assert_eq!(resp.status(), StatusCode::OK);
        bodies.push(resp.text().await.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(renders(r.text("/metrics").await), before + 1);
    // junk parameters name the same page
    r.text("/feed.atom?limit=1000&utm_source=x&_=1").await;
    assert_eq!(renders(r.text("/metrics").await), before + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_metrics_do_not_wait_behind_renders() {
    let r = start().await;
    r.state.delay_renders(std::time::Duration::from_secs(2));
    // more slow pages than there are readers for them
    let slow: Vec<_> = (1..=8)
        .map(|n| tokio::spawn(r.get_owned(format!("/feed.json?limit={n}"))))
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let start = std::time::Instant::now();
    assert_eq!(r.json("/healthz").await["status"], "ok");
    assert_eq!(r.get("/metrics").await.status(), StatusCode::OK);
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
    assert!(
        slow.iter().all(|s| !s.is_finished()),
        "the pages were still rendering"
    );
    r.state.delay_renders(std::time::Duration::ZERO);
    for s in slow {
        assert_eq!(s.await.unwrap().status(), StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn while_a_changed_page_renders_others_get_the_one_before() {
    let r = start().await;
    let count = |page: &serde_json::Value| page["items"].as_array().unwrap().len();
    let before = count(&r.json("/feed.json?limit=1000").await);
    r._host.set_feed(
        "b",
        &rss(&[
            story(27, "Rust 2027 edition plans", ""),
            story(28, "Brand new", ""),
        ]),
    );
    r.setup.poll(&[]).await;
    // Past the cache's recheck; the next render takes a second.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    r.state.delay_renders(std::time::Duration::from_secs(1));
    let fresh = tokio::spawn(r.get_owned("/feed.json?limit=1000".into()));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let start = std::time::Instant::now();
    let meanwhile = count(&r.json("/feed.json?limit=1000").await);
    assert!(start.elapsed() < std::time::Duration::from_millis(500));
    assert_eq!(meanwhile, before, "the page as it was");
    let fresh: serde_json::Value =
        serde_json::from_str(&fresh.await.unwrap().text().await.unwrap()).unwrap();
    assert_eq!(count(&fresh), before + 1, "the render shows the new story");
    r.state.delay_renders(std::time::Duration::ZERO);
    assert_eq!(count(&r.json("/feed.json?limit=1000").await), before + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_search_indexes_through_the_writer_but_never_waits_long_for_it() {
    let r = start().await;
    r._host.set_feed(
        "b",
        &rss(&[
            story(27, "Rust 2027 edition plans", ""),
            story(28, "Zeppelin news", ""),
        ]),
    );
    r.setup.poll(&[]).await; // stored, not indexed
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let hits = r.json("/feed.json?q=zeppelin").await;
    assert_eq!(hits["items"][0]["title"], "Zeppelin news", "{hits}");

    // A writer busy for longer than a search waits: the search answers anyway.
    r._host
        .set_feed("b", &rss(&[story(29, "Quokka sighting", "")]));
    r.setup.poll(&[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let writer = r._writer.clone();
    let busy = tokio::spawn(async move {
        writer
            .with_store(|_| std::thread::sleep(std::time::Duration::from_secs(5)))
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let start = std::time::Instant::now();
    let resp = r.get("/feed.json?q=quokka").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(start.elapsed() < std::time::Duration::from_secs(4));
    busy.await.unwrap().unwrap();
}

#[tokio::test]
async fn health_says_when_the_daemon_is_degraded() {
    let r = start().await;
    assert_eq!(r.json("/healthz").await["problem"], serde_json::Value::Null);
    r.metrics
        .set_problem("the last poll round failed: disk full");
    let health = r.json("/healthz").await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["problem"], "the last poll round failed: disk full");
    assert_eq!(health["sources"]["ok"], 2, "{health}");
    r.metrics.clear_problem();
    assert_eq!(r.json("/healthz").await["status"], "ok");
}

/// Any request, however odd, through the same router the server uses: never
/// a panic, never a 5xx.
mod any_request {
    use super::*;
    use axum::body::Body;
    use axum::http::{Method, Request};
    use proptest::prelude::*;
    use tower::ServiceExt;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[a-z0-9]{1,8}",
            any::<String>(),
            proptest::collection::vec(any::<u8>(), 0..12)
                .prop_map(|b| b.iter().map(|b| format!("%{b:02X}")).collect()),
            Just("%00".to_string()),
            Just("\"unbalanced".to_string()),
            Just("NEAR(".to_string()),
            Just("a* OR b*".to_string()),
            Just("ffffffffffffffff-ffffffffffffffff".to_string()),
            Just("1-1".to_string()),
            Just("x".repeat(600)),
        ]
    }

    fn path() -> impl Strategy<Value = String> {
        let file = prop_oneof![
            Just("feed".to_string()),
            Just("tech".to_string()),
            Just("beta".to_string()),
            Just("alpha-news".to_string()),
            text()
        ];
        let ext = prop_oneof![
            Just(".atom"),
            Just(".rss"),
            Just(".json"),
            Just(".xml"),
            Just("")
        ];
        let dir = prop_oneof![
            Just("/"),
            Just("/c/"),
            Just("/s/"),
            Just("/healthz"),
            Just("/metrics"),
            Just("/opml"),
            Just("//"),
            Just("/c/x/")
        ];
        (dir, file, ext).prop_map(|(d, f, e)| {
            let f: String = f
                .chars()
                .map(|c| match c {
                    'a'..='z' | '0'..='9' | '-' | '%' => c.to_string(),
                    c => url::form_urlencoded::byte_serialize(c.to_string().as_bytes()).collect(),
                })
                .collect();
            format!("{d}{f}{e}")
        })
    }

    fn query() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("limit"),
            Just("before"),
            Just("category"),
            Just("q"),
            Just("utm_source"),
            Just("")
        ];
        proptest::collection::vec((key, text()), 0..14).prop_map(|pairs| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs {
                q.append_pair(k, &v);
            }
            q.finish()
        })
    }

    fn request() -> impl Strategy<Value = Request<Body>> {
        let method = prop_oneof![
            Just(Method::GET),
            Just(Method::HEAD),
            Just(Method::POST),
            Just(Method::OPTIONS),
            Just(Method::DELETE),
            Just(Method::from_bytes(b"BREW").unwrap()),
        ];
        let header = prop_oneof![
            Just(("if-none-match", "*")),
            Just(("if-none-match", "\"0\", garbage")),
            Just(("if-modified-since", "Sat, 01 Jan 99999 00:00:00 GMT")),
            Just(("if-modified-since", "yesterday")),
            Just(("accept-encoding", "gzip, br;q=0.5, *")),
            Just(("accept-encoding", "identity;q=0")),
            Just(("range", "bytes=0-1")),
        ];
        (
            method,
            path(),
            query(),
            proptest::collection::vec(header, 0..3),
        )
            .prop_map(|(method, path, query, headers)| {
                let uri = if query.is_empty() {
                    path
                } else {
                    format!("{path}?{query}")
                };
                let mut builder = Request::builder().method(method).uri(&uri);
                for (k, v) in headers {
                    builder = builder.header(k, v);
                }
                builder
                    .body(Body::empty())
                    .unwrap_or_else(|_| Request::new(Body::empty()))
            })
    }

    #[test]
    fn never_a_server_error() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let r = rt.block_on(start());
        let app = tributary::server::router(r.state.clone());
        let config = ProptestConfig {
            cases: 300,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(config, |(request in request())| {
            let uri = request.uri().clone();
            let response = rt.block_on(app.clone().oneshot(request)).unwrap();
            prop_assert!(
                response.status().as_u16() < 500,
                "{uri} answered {}",
                response.status()
            );
        });
    }
}
