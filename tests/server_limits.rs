//! `tributary run` under requests meant to hurt it: panicking renders, junk
//! parameters, bad values, a failing database, idle, silent and trickling
//! connections, more connections than allowed, a slow page at 100,000 stories.
//! Each test runs the real daemon on 127.0.0.1:0 and talks to it over sockets.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{FeedHost, Setup, rss};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

struct Daemon {
    child: Child,
    addr: String,
    client: reqwest::Client,
}

/// The client of these tests: bodies as sent, and no request waits forever.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl Daemon {
    /// Starts `tributary run` over `setup`, with `server` lines under [server].
    async fn start(setup: &Setup, server: &str) -> Daemon {
        let text = std::fs::read_to_string(&setup.config).unwrap();
        let text = format!("{text}\n[server]\nlisten = \"127.0.0.1:0\"\n{server}\n");
        std::fs::write(&setup.config, text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["run", "--config"])
            .arg(&setup.config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the daemon says where it serves")
            .unwrap()
            .unwrap_or_else(|| panic!("the daemon did not start"));
        let addr = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_string();
        Daemon {
            child,
            addr,
            client: client(),
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let url = format!("http://{}{path}", self.addr);
        // A GET that could not be sent on a kept-alive connection is sent once
        // more on a new one, as HTTP clients do for idempotent requests; a
        // daemon that is gone fails both, and the panic shows both causes.
        let r =
            match self.client.get(&url).send().await {
                Ok(r) => r,
                Err(first) => client().get(&url).send().await.unwrap_or_else(|e| {
                    panic!("{path}: {first:?}, then on a new connection {e:?}")
                }),
            };
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    async fn health(&self) -> serde_json::Value {
        let (status, body) = self.get("/healthz").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// A gauge or counter from /metrics.
    async fn metric(&self, name: &str) -> f64 {
        let (_, text) = self.get("/metrics").await;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
    }

    /// Resident memory of the daemon, in KiB.
    fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id().unwrap())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(&self.addr).await.unwrap()
    }
}

/// Polls `items` from one source named "Alpha" into a fresh database.
async fn polled(items: &[String]) -> (Setup, FeedHost) {
    let host = FeedHost::start().await;
    host.set_feed("a", &rss(items));
    let setup = Setup::new("", &[("Alpha", host.url("/f/a"))]);
    setup.poll(&[]).await;
    (setup, host)
}

fn item(n: usize, body: &str) -> String {
    format!(
        "<guid>g{n}</guid><link>https://site.example/{n}</link><title>Story {n}</title>\
         <pubDate>Tue, {:02} Nov 2026 10:{:02}:00 GMT</pubDate><description>{body}</description>",
        n % 28 + 1,
        n % 60
    )
}

/// The status line and body of one response read from a raw socket, or `None`
/// when the server closed the connection first.
async fn read_response(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string();
            return Some((head.lines().next()?.to_string(), body));
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Waits until the server closes `stream` (EOF or reset); how long that took.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut byte = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut byte).await {
                Ok(0) | Err(_) => return start.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

/// Whether the server has closed `stream` already (without waiting for it).
async fn still_open(stream: &mut TcpStream) -> bool {
    closed_within(stream, Duration::from_millis(50))
        .await
        .is_none()
}

const GET_HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_while_rendering_costs_one_request() {
    // RSS cannot write a year past 9999; whatever the renderer does with it, it
    // is this request's business only.
    let (setup, _host) = polled(&[
        item(1, "fine"),
        "<guid>far</guid><title>Far future</title><pubDate>Sat, 01 Jan 99999 00:00:00 GMT</pubDate>"
            .to_string(),
    ])
    .await;
    let daemon = Daemon::start(&setup, "").await;
    for _ in 0..2 {
        let (status, body) = daemon.get("/feed.rss").await;
        assert!(
            status == 200 || status == 500,
            "a render that fails answers 500, not {status}: {body}"
        );
        let (status, body) = daemon.get("/feed.atom?limit=5").await;
        assert_eq!(status, 200, "other pages still render: {body}");
        assert_eq!(daemon.health().await["status"], "ok");
        let (status, _) = daemon.get("/feed.json").await;
        assert_eq!(status, 200);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn junk_parameters_share_one_cached_page_and_memory_stays_bounded() {
    let body = "lorem ipsum dolor sit amet ".repeat(40);
    let items: Vec<String> = (0..200).map(|n| item(n, &body)).collect();
    let (setup, _host) = polled(&items).await;
    let daemon = Daemon::start(&setup, "").await;
    let (status, first) = daemon.get("/feed.atom?limit=1000").await;
    assert_eq!(status, 200);
    assert!(first.len() > 400_000, "a large page: {} bytes", first.len());
    let rss_before = daemon.rss_kib();
    for n in 0..400 {
        let (status, page) = daemon
            .get(&format!("/feed.atom?limit=1000&x={n}&utm_source=r{n}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(page.len(), first.len(), "junk parameters change nothing");
    }
    let grown_mib = daemon.rss_kib().saturating_sub(rss_before) / 1024;
    assert!(
        grown_mib < 40,
        "400 junk requests grew the daemon by {grown_mib} MiB"
    );
    assert_eq!(daemon.metric("tributary_page_cache_pages").await, 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn distinct_pages_fill_the_cache_only_up_to_its_budget() {
    let body = "lorem ipsum dolor sit amet ".repeat(40);
    let items: Vec<String> = (0..200).map(|n| item(n, &body)).collect();
    let (setup, _host) = polled(&items).await;
    let daemon = Daemon::start(&setup, "cache_size = \"2MiB\"").await;
    for limit in 171..=200 {
        let (status, _) = daemon.get(&format!("/feed.json?limit={limit}")).await;
        assert_eq!(status, 200);
        assert!(daemon.metric("tributary_page_cache_bytes").await <= 2097152.0);
    }
    let pages = daemon.metric("tributary_page_cache_pages").await;
    assert!((2.0..30.0).contains(&pages), "{pages} pages kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_queries_get_400_and_database_text_never_reaches_a_client() {
    let (setup, _host) = polled(&[item(1, "one"), item(2, "two")]).await;
    let daemon = Daemon::start(&setup, "").await;
    let many: Vec<String> = (0..1000).map(|n| format!("category=c{n}")).collect();
    for path in [
        "/feed.atom?q=%00".to_string(),
        "/feed.json?q=a%00b".to_string(),
        "/?q=%1b%5b31m".to_string(),
        format!("/feed.atom?{}", many.join("&")),
        format!("/c/tech.rss?{}", many[..11].join("&")),
        format!("/feed.atom?category={}", "x".repeat(5000)),
    ] {
        let (status, body) = daemon.get(&path).await;
        assert_eq!(status, 400, "{}: {body}", &path[..40.min(path.len())]);
        assert_eq!(body.trim().lines().count(), 1, "{body}");
        assert!(body.len() < 200, "{body}");
    }
    // Ten categories at once are fine, and so is the same one a thousand times.
    let (status, _) = daemon
        .get(&format!("/feed.atom?{}", many[..10].join("&")))
        .await;
    assert_eq!(status, 200);
    let (status, _) = daemon
        .get(&format!(
            "/feed.atom?{}",
            vec!["category=ai"; 1000].join("&")
        ))
        .await;
    assert_eq!(status, 200);

    // A database that fails: a generic line for the client, the cause in the log.
    let conn = rusqlite::Connection::open(setup.database()).unwrap();
    // the daemon's writer may be indexing just now
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn.execute_batch("DROP TABLE item_categories").unwrap();
    drop(conn);
    tokio::time::sleep(Duration::from_millis(250)).await; // past the cache's recheck
    for path in ["/feed.atom?category=one", "/", "/c/tech.json"] {
        let (status, body) = daemon.get(path).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body, "database unavailable\n", "{path}");
    }
    // Health does not say all is well while every page fails.
    let (status, _) = daemon.get("/healthz").await;
    assert_eq!(status, 200, "a moment of failure is not yet an outage");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (status, _) = daemon.get("/").await;
    assert_eq!(status, 503);
    let (status, body) = daemon.get("/healthz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("unavailable"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_silent_and_trickling_connections_are_closed() {
    let (setup, _host) = polled(&[item(1, "one")]).await;
    let daemon = Daemon::start(&setup, "header_timeout = \"1s\"\nidle_timeout = \"2s\"").await;

    // Kept-alive connections that went quiet after a request.
    let mut idle = Vec::new();
    for _ in 0..200 {
        let mut s = daemon.connect().await;
        s.write_all(GET_HEALTH).await.unwrap();
        let (status, _) = read_response(&mut s).await.expect("a response");
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        idle.push(s);
    }
    let answered = Instant::now();
    // A client that connects and says nothing, and one that trickles its head.
    let mut silent = daemon.connect().await;
    let mut trickler = daemon.connect().await;
    trickler
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    let trickled = tokio::spawn(async move {
        let start = Instant::now();
        for n in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if trickler
                .write_all(format!("X-Slow-{n}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                return start.elapsed();
            }
        }
        start.elapsed()
    });
    let silent_closed = closed_within(&mut silent, Duration::from_secs(5)).await;
    assert!(
        silent_closed.is_some_and(|t| t >= Duration::from_millis(700)),
        "a silent connection is closed after the header timeout: {silent_closed:?}"
    );
    assert!(
        trickled.await.unwrap() < Duration::from_secs(5),
        "a trickling head is cut off at the header timeout, not when it ends"
    );
    // Kept-alive connections live for the idle timeout, not the header timeout.
    assert!(answered.elapsed() < Duration::from_millis(1800));
    assert!(
        still_open(&mut idle[0]).await,
        "closed before the idle timeout"
    );
    for s in &mut idle {
        assert!(
            closed_within(s, Duration::from_secs(5)).await.is_some(),
            "an idle connection outlived the idle timeout"
        );
    }
    assert!(answered.elapsed() >= Duration::from_millis(1800));
    assert_eq!(daemon.metric("tributary_http_connections").await, 1.0);
    assert_eq!(daemon.health().await["status"], "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_request_head_is_refused() {
    let (setup, _host) = polled(&[item(1, "one")]).await;
    let daemon = Daemon::start(&setup, "").await;
    let mut s = daemon.connect().await;
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    let _ = s.write_all(head.as_bytes()).await; // the server may stop reading
    let (status, _) = read_response(&mut s).await.expect("a response");
    assert!(status.starts_with("HTTP/1.1 431"), "{status}");
    // a long but reasonable one still passes
    let mut s = daemon.connect().await;
    let q = format!(
        "GET /feed.atom?q={}&{} HTTP/1.1\r\nHost: t\r\n\r\n",
        "w".repeat(500),
        (0..10)
            .map(|i| format!("category={i}{}", "c".repeat(199)))
            .collect::<Vec<_>>()
            .join("&")
    );
    s.write_all(q.as_bytes()).await.unwrap();
    let (status, _) = read_response(&mut s).await.expect("a response");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_held_idle_give_way_to_new_clients_at_the_cap() {
    let (setup, _host) = polled(&[item(1, "one")]).await;
    let daemon = Daemon::start(&setup, "max_connections = 4\nheader_timeout = \"30s\"").await;
    // Four keep-alive connections, each used once and then held open, silent.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = daemon.connect().await;
        s.write_all(GET_HEALTH).await.unwrap();
        assert!(read_response(&mut s).await.is_some());
        held.push(s);
    }
    // A new client is served at once: the idle ones are closed to make room.
    let mut fifth = daemon.connect().await;
    fifth.write_all(GET_HEALTH).await.unwrap();
    let (status, _) = tokio::time::timeout(Duration::from_secs(2), read_response(&mut fifth))
        .await
        .expect("served without waiting for the idle timeout")
        .expect("a response");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let mut closed = 0;
    for s in &mut held {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_secs(2), s.read(&mut byte)).await {
            closed += 1;
        }
    }
    assert!(closed >= 1, "no idle connection was closed");
}

/// Writes 100,000 stories straight into the database, one item each: the 10
/// oldest from "Small", in category "rare", every tenth of the others from
/// "Big" (10,000) and the rest from "Other", in category "common". Story `id` is sorted at `STORIES_FROM + id` minutes.
const STORIES_FROM: i64 = 1_700_000_000_000;

fn hundred_thousand_stories(setup: &Setup) {
    let mut conn = rusqlite::Connection::open(setup.database()).unwrap();
    let tx = conn.transaction().unwrap();
    let id_of = |name: &str| -> i64 {
        tx.query_row("SELECT id FROM sources WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let (big, other, small) = (id_of("Big"), id_of("Other"), id_of("Small"));
    {
        let mut story = tx
            .prepare("INSERT INTO stories (id, link_key, sort_at) VALUES (?1, ?2, ?3)")
            .unwrap();
        let mut item = tx
            .prepare(
                "INSERT INTO items (id, source_id, key, link, canonical_link, title, summary,
                 first_seen, sort_at, fingerprint, story_id, categories)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5, 'text', ?6, ?6, 0, ?1, ?7)",
            )
            .unwrap();
        let mut category = tx
            .prepare("INSERT INTO item_categories (slug, item_id) VALUES (?1, ?2)")
            .unwrap();
        for id in 1..=100_000i64 {
            let rare = id <= 10;
            let link = format!("https://site.example/{id}");
            let at = STORIES_FROM + id * 60_000;
            story.execute(rusqlite::params![id, link, at]).unwrap();
            item.execute(rusqlite::params![
                id,
                match (rare, id % 10) {
                    (true, _) => small,
                    (false, 0) => big,
                    (false, _) => other,
                },
                format!("k{id}"),
                link,
                format!("Story {id}"),
                at,
                match (rare, id % 10) {
                    (true, _) => "[\"rare\"]",
                    (false, 0) => "[]",
                    (false, _) => "[\"common\"]",
                }
            ])
            .unwrap();
            if rare {
                category.execute(rusqlite::params!["rare", id]).unwrap();
            } else if id % 10 != 0 {
                category.execute(rusqlite::params!["common", id]).unwrap();
            }
        }
    }
    tx.execute("UPDATE fts_state SET indexed_upto = 100000", [])
        .unwrap();
    tx.commit().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn source_and_category_pages_answer_fast_at_100000_stories() {
    let host = FeedHost::start().await;
    let names = ["Big", "Other", "Small"];
    for name in names {
        host.set_feed(name, &rss(&[]));
    }
    let sources: Vec<(&str, String)> = names
        .iter()
        .map(|n| (*n, host.url(&format!("/f/{n}"))))
        .collect();
    let setup = Setup::new("", &sources);
    setup.poll(&[]).await; // the schema, and the sources
    hundred_thousand_stories(&setup);
    let daemon = Daemon::start(&setup, "").await;
    assert_eq!(daemon.health().await["stories"], 100_000);
    // the page of "Big" that starts halfway down, as a reader paging back gets it
    let middle = format!("{:x}-{:x}", STORIES_FROM + 50_000 * 60_000, 50_000);
    for (path, entries) in [
        ("/s/small.atom".to_string(), 10),
        ("/c/rare.atom".to_string(), 10),
        ("/s/big.atom?limit=50".to_string(), 50),
        (format!("/s/big.atom?limit=50&before={middle}"), 50),
        ("/s/other.atom?limit=50".to_string(), 50),
        ("/s/other.atom?category=rare".to_string(), 0),
        ("/c/common.atom?limit=50".to_string(), 50),
        ("/s/big.atom?category=common".to_string(), 0),
        ("/feed.atom?category=common&category=rare".to_string(), 0),
        (format!("/c/common.atom?limit=50&before={middle}"), 50),
    ] {
        let start = Instant::now();
        let health = async {
            // /healthz asked while the page is being answered
            tokio::time::sleep(Duration::from_millis(20)).await;
            let start = Instant::now();
            daemon.health().await;
            start.elapsed()
        };
        let ((status, body), health_took) = tokio::join!(daemon.get(&path), health);
        let took = start.elapsed();
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body.matches("<entry>").count(), entries, "{path}");
        assert!(took < Duration::from_millis(500), "{path} took {took:?}");
        assert!(
            health_took < Duration::from_millis(500),
            "/healthz took {health_took:?} beside {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_category_nobody_names_is_not_found_and_an_empty_one_is_dated_now() {
    let (setup, _host) = polled(&[
        item(1, "one") + "<category>Carried</category>",
        item(2, "two"),
    ])
    .await;
    let text = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &setup.config,
        format!("{text}\n[[rule]]\ncategory = \"Planned\"\ntitle = \"never matches this\"\n"),
    )
    .unwrap();
    let daemon = Daemon::start(&setup, "").await;
    let (status, _) = daemon.get("/c/nope.atom").await;
    assert_eq!(status, 404);
    let (status, body) = daemon.get("/c/carried.atom").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Story 1") && !body.contains("Story 2"),
        "{body}"
    );
    let (status, body) = daemon.get("/c/planned.atom").await;
    assert_eq!(status, 200, "{body}");
    let feed = feed_rs::parser::parse(body.as_bytes()).unwrap();
    assert!(feed.entries.is_empty());
    let updated = feed.updated.expect("a feed date");
    assert!(
        (chrono::Utc::now() - updated).num_minutes().abs() < 5,
        "{updated}"
    );
}
