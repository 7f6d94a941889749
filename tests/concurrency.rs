//! Several writers on one database: each waits its turn for the write lock
//! instead of failing with "database is locked", whether they are two
//! connections in one process or `tributary poll` beside `tributary run` while
//! searches are served.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{FeedHost, RunningDaemon, Setup, rss, schedule_every_second, wait_until};
use tributary::model::Validators;
use tributary::model::{IdentifiedItem, IdentityMode, Item, Source};
use tributary::store::{PollRecord, PollResult, SqliteStore, Store};

fn source(name: &str) -> Source {
    Source {
        name: name.into(),
        url: url::Url::parse(&format!("https://{name}.example/feed")).unwrap(),
        categories: Vec::new(),
        schedule: None,
        identity: IdentityMode::Auto,
        feed_categories: true,
    }
}

fn fetched(source_id: i64, n: u32) -> PollRecord {
    let item = Item {
        guid: Some(n.to_string()),
        link: Some(format!("https://site.example/{n}")),
        title: Some(format!("Story {n}")),
        ..Item::default()
    };
    PollRecord {
        source_id,
        at: Utc::now(),
        next_fetch_at: Utc::now(),
        moved_to: None,
        result: PollResult::Fetched {
            status: 200,
            validators: Validators::default(),
            feed_title: None,
            feed_link: None,
            items: vec![IdentifiedItem {
                key: n.to_string(),
                canonical_link: item.link.clone(),
                story_link: item.link.clone(),
                item,
            }],
            dropped: Vec::new(),
            ttl_minutes: None,
            skip_hours: Vec::new(),
            skip_days: Vec::new(),
        },
    }
}

/// Runs `write` on `store` while another connection holds the write lock for
/// 300 ms; returns what it gave and how long it took.
fn beside_a_writer<T>(
    db: &std::path::Path,
    store: &mut SqliteStore,
    write: impl FnOnce(&mut SqliteStore) -> T,
) -> (T, Duration) {
    let other = rusqlite::Connection::open(db).unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; UPDATE sources SET last_error = 'busy';")
        .unwrap();
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        other.execute_batch("COMMIT").unwrap();
    });
    let started = Instant::now();
    let result = write(store);
    let took = started.elapsed();
    holder.join().unwrap();
    (result, took)
}

#[test]
fn every_store_write_waits_for_another_writer_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let states = store.sync_sources(&[source("a")]).unwrap();
    let id = states[0].id;
    // Read once, as a long-lived connection does between writes.
    store.record_poll(&fetched(id, 1)).unwrap();

    let (synced, took) = beside_a_writer(&db, &mut store, |s| {
        s.sync_sources(&[source("a"), source("b")])
    });
    assert!(synced.is_ok(), "adding a source: {synced:?}");
    assert!(took >= Duration::from_millis(250), "it waited: {took:?}");

    let (recorded, _) = beside_a_writer(&db, &mut store, |s| s.record_poll(&fetched(id, 2)));
    assert_eq!(recorded.expect("storing a poll").new, 1);

    let (indexed, _) = beside_a_writer(&db, &mut store, |s| s.index_pending());
    assert_eq!(indexed.expect("indexing"), 2);

    let (pruned, _) = beside_a_writer(&db, &mut store, |s| s.prune(Utc::now(), 0, Utc::now()));
    assert_eq!(pruned.expect("pruning"), 2);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

/// A feed of `n` items whose titles and texts hold the word "zebra".
fn zebra_feed(source: usize, n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "<guid>{source}-{i}</guid><link>https://s{source}.example/{i}</link>\
                 <title>Zebra {source}-{i}</title><description>{}</description>",
                "A zebra crossed the road. ".repeat(40)
            )
        })
        .collect();
    rss(&items)
}

#[tokio::test(flavor = "multi_thread")]
async fn polls_beside_the_daemon_and_searches_while_it_polls_all_succeed() {
    const SOURCES: usize = 12;
    let host = FeedHost::start().await;
    for s in 0..SOURCES {
        host.set_feed(&format!("s{s}"), &zebra_feed(s, 5));
    }
    let names: Vec<String> = (0..SOURCES).map(|s| format!("S{s}")).collect();
    let sources: Vec<(&str, String)> = names
        .iter()
        .enumerate()
        .map(|(s, n)| (n.as_str(), host.url(&format!("/f/s{s}"))))
        .collect();
    let setup = Setup::new("concurrency = 16", &sources);
    schedule_every_second(&setup);
    let mut daemon = RunningDaemon::start(&setup, &[]).await;

    let stop = Arc::new(AtomicBool::new(false));
    let searches = tokio::spawn({
        let base = daemon.base.clone();
        let stop = stop.clone();
        async move {
            let client = reqwest::Client::new();
            let mut answers = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let r = client
                    .get(format!("{base}/feed.atom?q=zebra&limit=1000"))
                    .send()
                    .await;
                answers.push(match r {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                });
            }
            answers
        }
    });

    // Every round of the CLI poll brings new items to every source, so it
    // writes while the daemon polls, stores and indexes the same feeds.
    let rounds = 8;
    for round in 1..=rounds {
        for s in 0..SOURCES {
            host.set_feed(&format!("s{s}"), &zebra_feed(s, 5 + round * 10));
        }
        let summary = setup.poll(&[]).await;
        assert_eq!(summary["sources"]["failed"], 0, "{summary}");
        assert!(daemon.is_running(), "log: {:?}", daemon.log);
    }
    stop.store(true, Ordering::Relaxed);
    let answers = searches.await.unwrap();
    assert!(answers.len() >= 10, "only {} searches ran", answers.len());
    let failed: Vec<&u16> = answers.iter().filter(|s| **s != 200).collect();
    assert!(
        failed.is_empty(),
        "{} of {} searches failed: {failed:?}; log: {:?}",
        failed.len(),
        answers.len(),
        daemon.log
    );
    let last = format!("Zebra {}-{}", SOURCES - 1, 4 + rounds * 10);
    assert!(
        wait_until(10, || async {
            daemon
                .get("/feed.atom?q=zebra&limit=1000")
                .await
                .1
                .contains(&last)
        })
        .await,
        "the last items stored are found"
    );
    assert!(daemon.is_running(), "log: {:?}", daemon.log);
    assert_eq!(daemon.metric("round_failures_total").await, Some(0.0));
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
    assert_eq!(setup.store().integrity_check().unwrap(), "ok");
}

/// A daemon started on a database it has written before (its `-wal` and `-shm`
/// kept) shares it with the commands run beside it: none of them takes the
/// shared memory for its own and clears it under the daemon.
#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_on_its_old_database_outlives_the_commands_beside_it() {
    let host = FeedHost::start().await;
    host.set_feed("s0", &zebra_feed(0, 5));
    let setup = Setup::new("", &[("S0", host.url("/f/s0"))]);
    schedule_every_second(&setup);
    // The database and its kept -wal and -shm files, from a run before.
    setup.poll(&[]).await;
    let mut daemon = RunningDaemon::start(&setup, &[]).await;
    for round in 1..=6 {
        host.set_feed("s0", &zebra_feed(0, 5 + round));
        let summary = setup.poll(&[]).await;
        assert_eq!(summary["sources"]["failed"], 0, "{summary}");
        let sources = common::run_tributary(&setup.config, &["sources"]).await;
        assert!(sources.status.success(), "{sources:?}");
        assert!(
            daemon.is_running(),
            "the daemon ended ({:?}) after {round} rounds; log: {:?}",
            daemon.child.try_wait(),
            daemon.log
        );
        let (status, _) = daemon.get("/feed.atom").await;
        assert_eq!(status, 200);
    }
}
