//! The daemon against a database that fails under it: a write error in a round,
//! a full disk (simulated in debug builds through `TRIBUTARY_TEST_DISK_FULL`:
//! while the named file exists the database may not grow), a start on a full
//! disk, and the database file deleted while open. Each time the daemon keeps
//! serving what it has, says it is degraded, retries on the next tick, and
//! recovers by itself once the cause is gone.

mod common;

use std::path::Path;

use common::{FeedHost, RunningDaemon, Setup, rss, schedule_every_second, wait_until};

/// Items big enough (about 40 KB each) that storing them needs new pages.
fn big_items(from: u32, to: u32) -> String {
    let items: Vec<String> = (from..=to)
        .map(|n| {
            format!(
                "<guid>{n}</guid><link>https://site.example/{n}</link><title>Story {n}</title>\
                 <description>{}</description>",
                format!("Words of story {n}. ").repeat(2000)
            )
        })
        .collect();
    rss(&items)
}

async fn degraded(daemon: &RunningDaemon) -> bool {
    daemon.metric("degraded").await == Some(1.0)
}

async fn healthy(daemon: &RunningDaemon) -> bool {
    daemon.metric("degraded").await == Some(0.0)
}

/// Whether /feed.atom answers 200 and carries `title`.
async fn serves(daemon: &RunningDaemon, title: &str) -> bool {
    let (status, body) = daemon.get("/feed.atom?limit=1000").await;
    status == 200 && body.contains(&format!(">{title}<"))
}

fn integrity(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_error_in_a_round_leaves_the_daemon_serving_and_it_recovers() {
    let host = FeedHost::start().await;
    host.set_feed("a", &big_items(1, 2));
    let setup = Setup::new("", &[("A", host.url("/f/a"))]);
    schedule_every_second(&setup);
    let mut daemon = RunningDaemon::start(&setup, &[]).await;
    assert!(wait_until(15, || serves(&daemon, "Story 2")).await);

    // From now on the database refuses new items.
    let conn = rusqlite::Connection::open(setup.database()).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON items BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
    )
    .unwrap();
    host.set_feed("a", &big_items(1, 4));
    assert!(
        wait_until(15, || async {
            daemon.metric("round_failures_total").await >= Some(2.0)
        })
        .await,
        "failed rounds are counted and retried; log: {:?}",
        daemon.log
    );
    assert!(daemon.is_running(), "log: {:?}", daemon.log);
    assert!(degraded(&daemon).await);
    assert!(daemon.logged("refused by the test"), "{:?}", daemon.log);
    assert!(
        serves(&daemon, "Story 2").await,
        "what was stored is served"
    );
    assert!(!serves(&daemon, "Story 4").await);

    conn.execute_batch("DROP TRIGGER refuse").unwrap();
    assert!(
        wait_until(15, || serves(&daemon, "Story 4")).await,
        "the next round stores what failed before"
    );
    assert!(wait_until(5, || healthy(&daemon)).await);
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
    assert_eq!(integrity(&setup.database()), "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_degrades_the_daemon_which_serves_and_recovers_when_space_returns() {
    let host = FeedHost::start().await;
    host.set_feed("a", &big_items(1, 2));
    let setup = Setup::new("", &[("A", host.url("/f/a"))]);
    schedule_every_second(&setup);
    let full = setup.dir.path().join("disk-full");
    let mut daemon =
        RunningDaemon::start(&setup, &[("TRIBUTARY_TEST_DISK_FULL", full.as_os_str())]).await;
    assert!(wait_until(15, || serves(&daemon, "Story 2")).await);
    assert!(healthy(&daemon).await);

    std::fs::write(&full, "").unwrap();
    host.set_feed("a", &big_items(1, 6));
    assert!(
        wait_until(15, || degraded(&daemon)).await,
        "a full disk is reported; log: {:?}",
        daemon.log
    );
    assert!(daemon.logged("disk is full"), "{:?}", daemon.log);
    let failures = daemon.metric("round_failures_total").await.unwrap();
    assert!(
        wait_until(10, || async {
            daemon.metric("round_failures_total").await > Some(failures)
        })
        .await,
        "the next tick tries again"
    );
    assert!(daemon.is_running(), "log: {:?}", daemon.log);
    assert!(
        serves(&daemon, "Story 2").await,
        "what was stored is served"
    );
    assert!(!serves(&daemon, "Story 6").await);

    std::fs::remove_file(&full).unwrap();
    assert!(
        wait_until(15, || serves(&daemon, "Story 6")).await,
        "once space returns the next round stores"
    );
    assert!(wait_until(5, || healthy(&daemon)).await);
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
    assert_eq!(integrity(&setup.database()), "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_starts_and_serves_while_the_disk_is_full() {
    let host = FeedHost::start().await;
    host.set_feed("a", &big_items(1, 2));
    let setup = Setup::new("", &[("A", host.url("/f/a"))]);
    schedule_every_second(&setup);
    setup.poll(&[]).await;

    let full = setup.dir.path().join("disk-full");
    std::fs::write(&full, "").unwrap();
    host.set_feed("a", &big_items(1, 6));
    let mut daemon =
        RunningDaemon::start(&setup, &[("TRIBUTARY_TEST_DISK_FULL", full.as_os_str())]).await;
    assert!(
        serves(&daemon, "Story 2").await,
        "the stored feed is served"
    );
    assert!(
        wait_until(15, || degraded(&daemon)).await,
        "log: {:?}",
        daemon.log
    );
    assert!(daemon.is_running());
    assert!(!serves(&daemon, "Story 6").await);

    std::fs::remove_file(&full).unwrap();
    assert!(wait_until(15, || serves(&daemon, "Story 6")).await);
    assert!(wait_until(5, || healthy(&daemon)).await);
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_deleted_under_the_daemon_is_reported() {
    let host = FeedHost::start().await;
    host.set_feed("a", &big_items(1, 2));
    let setup = Setup::new("", &[("A", host.url("/f/a"))]);
    schedule_every_second(&setup);
    let mut daemon = RunningDaemon::start(&setup, &[]).await;
    assert!(wait_until(15, || serves(&daemon, "Story 2")).await);
    assert!(healthy(&daemon).await);

    std::fs::remove_file(setup.database()).unwrap();
    assert!(
        wait_until(10, || degraded(&daemon)).await,
        "a deleted database is reported; log: {:?}",
        daemon.log
    );
    assert!(daemon.logged("was deleted"), "{:?}", daemon.log);
    assert!(daemon.is_running());
    assert!(
        serves(&daemon, "Story 2").await,
        "what is open is still served"
    );
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_closed_database_keeps_the_files_it_needs_to_open_on_a_full_disk() {
    // SQLite cannot open a WAL database without its -shm file, and cannot
    // create that file on a full disk: a daemon restarted there would not
    // start. The files stay when the last connection closes.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let store = tributary::store::SqliteStore::open(&db).unwrap();
    drop(store);
    for suffix in ["-wal", "-shm"] {
        let mut kept = db.clone().into_os_string();
        kept.push(suffix);
        assert!(Path::new(&kept).exists(), "{suffix} was removed on close");
    }
    let store = tributary::store::SqliteStore::open(&db).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
}
