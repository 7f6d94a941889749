//! Crash safety: a poll of a 1,000-feed corpus killed with SIGKILL at several
//! moments leaves a database that passes `PRAGMA integrity_check`, and polling
//! again ends with exactly what an undisturbed poll stores.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use common::{Setup, run_tributary};

const FEEDS: usize = 1000;
const ITEMS: usize = 30;

/// Feed `f`: 30 stories, some of them (every 12th) also carried by the next feed
/// under another id, with a decorated link.
fn feed(f: usize) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {f}</title><link>https://feed{f}.example/</link>"
    );
    for i in 0..ITEMS {
        s.push_str(&format!(
            "<item><guid>f{f}-{i}</guid><link>https://feed{f}.example/story/{i}</link><title>Story {i} of feed {f}</title>\
             <pubDate>Tue, 24 Nov 2026 {h:02}:{m:02}:00 GMT</pubDate><description>{body}</description></item>",
            h = i % 24,
            m = f % 60,
            body = "Lorem ipsum dolor sit amet. ".repeat(8)
        ));
    }
    if f > 0 {
        for i in (0..ITEMS).step_by(12) {
            let from = f - 1;
            s.push_str(&format!(
                "<item><guid>copy-{f}-{i}</guid><link>http://www.feed{from}.example/story/{i}/?utm_source=x</link><title>Story {i} of feed {from}</title></item>"
            ));
        }
    }
    s.push_str("</channel></rss>");
    s
}

async fn corpus_host() -> String {
    let feeds: Arc<Vec<String>> = Arc::new((0..FEEDS).map(feed).collect());
    let app = Router::new()
        .route(
            "/{n}",
            get(
                |State(feeds): State<Arc<Vec<String>>>, Path(n): Path<usize>| async move {
                    (
                        [(header::CONTENT_TYPE, "application/rss+xml")],
                        feeds[n].clone(),
                    )
                        .into_response()
                },
            ),
        )
        .with_state(feeds);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn setup(base: &str) -> Setup {
    let names: Vec<String> = (0..FEEDS).map(|i| format!("Feed {i}")).collect();
    let sources: Vec<(&str, String)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), format!("{base}/{i}")))
        .collect();
    Setup::new("concurrency = 32\nper_host = 32", &sources)
}

/// What a database holds: every item by (source, key, title), and the stories as
/// sets of their items.
type Items = BTreeSet<(String, String, String)>;
type Stories = BTreeSet<BTreeSet<(String, String)>>;

fn snapshot(setup: &Setup) -> (Items, Stories) {
    let conn = rusqlite::Connection::open(setup.database()).unwrap();
    let mut items = BTreeSet::new();
    let mut stories: BTreeMap<i64, BTreeSet<(String, String)>> = BTreeMap::new();
    let mut stmt = conn
        .prepare("SELECT s.name, i.key, coalesce(i.title, ''), i.story_id FROM items i JOIN sources s ON s.id = i.source_id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (source, key, title, story) = row.unwrap();
        stories
            .entry(story)
            .or_default()
            .insert((source.clone(), key.clone()));
        items.insert((source, key, title));
    }
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM stories WHERE id NOT IN (SELECT story_id FROM items)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "stories without items");
    (items, stories.into_values().collect())
}

fn integrity(setup: &Setup) -> String {
    let conn = rusqlite::Connection::open(setup.database()).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_polls_leave_a_sound_database_that_converges() {
    let base = corpus_host().await;

    let calm = setup(&base);
    let summary = calm.poll(&[]).await;
    assert_eq!(summary["sources"]["ok"], FEEDS as u64, "{summary}");
    let reference = snapshot(&calm);
    assert_eq!(
        reference.0.len(),
        FEEDS * ITEMS + (FEEDS - 1) * ITEMS.div_ceil(12)
    );
    assert_eq!(
        reference.1.len(),
        FEEDS * ITEMS,
        "every copy folded into its story"
    );

    let crashed = setup(&base);
    let mut kills = 0;
    for delay_ms in [30, 120, 300, 600, 1000, 1600] {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["poll", "--config"])
            .arg(&crashed.config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        if child.try_wait().unwrap().is_none() {
            child.start_kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().await.unwrap();
        if crashed.database().exists() {
            assert_eq!(integrity(&crashed), "ok", "after a kill at {delay_ms} ms");
        }
    }
    assert!(
        kills >= 3,
        "only {kills} polls were still running when killed"
    );
    let out = run_tributary(&crashed.config, &["poll"]).await;
    assert!(out.status.success());
    assert_eq!(integrity(&crashed), "ok");
    let after = snapshot(&crashed);
    assert_eq!(
        after.0, reference.0,
        "items differ from an undisturbed poll"
    );
    assert_eq!(
        after.1, reference.1,
        "stories differ from an undisturbed poll"
    );
}
