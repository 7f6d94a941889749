//! `tributary run` as a process: the schedule keeps firing, fetches are polite,
//! SIGHUP reloads, SIGTERM stops cleanly, and what fails in a round or a reload
//! leaves it running. The schedule ticks every second.

mod common;

use std::time::{Duration, Instant};

use common::{FeedHost, RunningDaemon, Setup, rss, schedule_every_second, wait_until};
use tributary::store::Store as _;

fn item(n: u32) -> String {
    format!("<guid>{n}</guid><link>https://site.example/{n}</link><title>Story {n}</title>")
}

/// Waits (polling every 100 ms, at most `secs`) until `done` holds.
async fn eventually(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_polls_on_schedule_and_politely() {
    let host = FeedHost::start().await;
    for name in ["a", "m", "t", "linked"] {
        host.set_feed(name, &rss(&[item(1), item(2)]));
    }
    let mut sources = vec![
        ("Plain", host.url("/f/a")),
        ("Busy", host.url("/retry-later")),
        ("Gone", host.url("/status/410")),
        ("Moved", host.url("/moved/m")),
        ("Temporary", host.url("/temporary/t")),
        ("Site", host.url("/page/linked")),
    ];
    let holds: Vec<(String, String)> = (0..4)
        .map(|i| (format!("Slow {i}"), host.url(&format!("/hold/{i}"))))
        .collect();
    sources.extend(holds.iter().map(|(n, u)| (n.as_str(), u.clone())));
    let setup = Setup::new("", &sources);
    schedule_every_second(&setup);
    let daemon = RunningDaemon::start(&setup, &[]).await;

    // The schedule keeps firing: many ticks, each one a conditional request.
    assert!(
        eventually(15, || host.requests_to("/f/a").len() >= 4).await,
        "ticks stopped: {:?}",
        host.requests_to("/f/a").len()
    );
    let plain = host.requests_to("/f/a");
    assert!(
        plain[1..].iter().all(|r| r.if_none_match.is_some()),
        "repeat fetches are conditional"
    );

    // The daemon serves what it stored while it polls.
    let health: serde_json::Value = serde_json::from_str(
        &reqwest::get(format!("{}/healthz", daemon.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["sources"]["disabled"], 1, "{health}");

    assert_eq!(
        host.requests_to("/retry-later").len(),
        1,
        "Retry-After: 3600 is honoured"
    );
    assert_eq!(
        host.requests_to("/status/410").len(),
        1,
        "410 disables the source"
    );
    assert_eq!(host.requests_to("/moved/m").len(), 1, "a 301 is remembered");
    assert!(
        host.requests_to("/temporary/t").len() >= 3,
        "a 302 is not remembered"
    );
    assert_eq!(
        host.requests_to("/page/linked").len(),
        1,
        "the page's feed is fetched directly afterwards"
    );
    assert!(host.requests_to("/f/linked").len() >= 3);
    let max = host
        .state
        .max_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        max <= 2,
        "{max} requests at once to one host, per_host is 2"
    );

    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
    let store = setup.store();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let names: Vec<&str> = sources.iter().map(|(n, _)| *n).collect();
    let statuses = store.source_statuses(&names).unwrap();
    let gone = statuses.iter().find(|s| s.name == "Gone").unwrap();
    assert!(gone.disabled, "{gone:?}");
    let moved = statuses.iter().find(|s| s.name == "Moved").unwrap();
    assert!(moved.fetch_url.ends_with("/f/m"), "{moved:?}");
    let site = statuses.iter().find(|s| s.name == "Site").unwrap();
    assert!(site.fetch_url.ends_with("/f/linked"), "{site:?}");
    assert_eq!(store.items_of_source("Site").unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_sources_and_keeps_the_old_config_when_the_new_is_bad() {
    let host = FeedHost::start().await;
    host.set_feed("a", &rss(&[item(1)]));
    host.set_feed("b", &rss(&[item(2), item(3)]));
    let setup = Setup::new("", &[("A", host.url("/f/a"))]);
    schedule_every_second(&setup);
    let daemon = RunningDaemon::start(&setup, &[]).await;
    assert!(eventually(10, || !host.requests_to("/f/a").is_empty()).await);

    let good = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &setup.config,
        format!(
            "{good}\n[[source]]\nname = \"B\"\nurl = {:?}\n",
            host.url("/f/b")
        ),
    )
    .unwrap();
    daemon.signal("HUP");
    assert!(
        eventually(10, || !host.requests_to("/f/b").is_empty()).await,
        "the new source is fetched without a restart"
    );

    // A broken config is refused; the daemon goes on with the one it has.
    std::fs::write(&setup.config, format!("{good}\n[poll]\nbogus = 1\n")).unwrap();
    daemon.signal("HUP");
    let before = host.requests_to("/f/b").len();
    assert!(
        eventually(10, || host.requests_to("/f/b").len() >= before + 2).await,
        "still polling B after a bad reload"
    );
    let health = reqwest::get(format!("{}/healthz", daemon.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
    let store = setup.store();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(
        store.items_of_source("B").unwrap().len(),
        2,
        "nothing stored is lost"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_that_cannot_set_up_fetching_is_rejected_and_the_daemon_goes_on() {
    let host = FeedHost::start().await;
    host.set_feed("a", &rss(&[item(1)]));
    host.set_feed("b", &rss(&[item(2)]));
    let setup = Setup::new("", &[("A", host.url("/f/a"))]);
    schedule_every_second(&setup);
    let mut daemon = RunningDaemon::start(&setup, &[]).await;
    assert!(eventually(10, || !host.requests_to("/f/a").is_empty()).await);
    assert_eq!(
        daemon.metric("config_last_reload_successful").await,
        Some(1.0)
    );

    // A User-Agent with a control character is valid TOML but no valid header:
    // the new config cannot be put to work.
    let good = std::fs::read_to_string(&setup.config).unwrap();
    let with_b = format!(
        "{good}\n[[source]]\nname = \"B\"\nurl = {:?}\n",
        host.url("/f/b")
    );
    std::fs::write(
        &setup.config,
        with_b.replace(
            "[poll]\n",
            "[poll]\nuser_agent = \"tributary\\u0007bell\"\n",
        ),
    )
    .unwrap();
    daemon.signal("HUP");
    assert!(
        wait_until(10, || async {
            daemon.metric("reload_failures_total").await == Some(1.0)
        })
        .await,
        "the rejected reload is counted; log: {:?}",
        daemon.log
    );
    assert_eq!(
        daemon.metric("config_last_reload_successful").await,
        Some(0.0)
    );
    assert_eq!(daemon.metric("degraded").await, Some(1.0));
    assert!(daemon.logged("new config rejected"), "{:?}", daemon.log);
    assert!(daemon.logged("user_agent"), "the log says what to fix");
    let before = host.requests_to("/f/a").len();
    assert!(
        eventually(10, || host.requests_to("/f/a").len() >= before + 2).await,
        "still polling with the old config"
    );
    assert!(daemon.is_running());
    assert!(
        host.requests_to("/f/b").is_empty(),
        "the new config was not half taken"
    );
    // Rounds succeed meanwhile, yet the file still holds the rejected change.
    assert_eq!(daemon.metric("degraded").await, Some(1.0));

    std::fs::write(&setup.config, &with_b).unwrap();
    daemon.signal("HUP");
    assert!(
        eventually(10, || !host.requests_to("/f/b").is_empty()).await,
        "a good reload after a rejected one is taken"
    );
    assert!(
        wait_until(10, || async {
            daemon.metric("degraded").await == Some(0.0)
        })
        .await,
        "no longer degraded once the config is taken"
    );
    assert_eq!(
        daemon.metric("config_last_reload_successful").await,
        Some(1.0)
    );
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_poll_is_reported_and_the_daemon_goes_on() {
    let host = FeedHost::start().await;
    host.set_feed("a", &rss(&[item(1)]));
    host.set_feed("b", &rss(&[item(2)]));
    let setup = Setup::new("", &[("A", host.url("/f/a")), ("B", host.url("/f/b"))]);
    schedule_every_second(&setup);
    let mut daemon =
        RunningDaemon::start(&setup, &[("TRIBUTARY_TEST_PANIC_SOURCE", "B".as_ref())]).await;
    assert!(
        eventually(15, || host.requests_to("/f/a").len() >= 3).await,
        "rounds go on after a panicking poll; log: {:?}",
        daemon.log
    );
    assert!(daemon.is_running());
    assert!(
        wait_until(10, || async {
            daemon.metric("round_failures_total").await >= Some(2.0)
        })
        .await,
        "each round with a panicking poll is a failed round"
    );
    assert_eq!(daemon.metric("degraded").await, Some(1.0));
    assert!(daemon.logged("panicked"), "{:?}", daemon.log);
    let (status, feed) = daemon.get("/feed.atom").await;
    assert_eq!(status, 200);
    assert!(
        feed.contains("Story 1"),
        "what the other source brought is served"
    );
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_answers_signals_while_the_database_is_busy() {
    let host = FeedHost::start().await;
    host.set_feed("a", &rss(&[item(1)]));
    let setup = Setup::new("", &[("A", host.url("/f/a"))]);
    schedule_every_second(&setup);
    let mut daemon = RunningDaemon::start(&setup, &[]).await;
    assert!(eventually(10, || !host.requests_to("/f/a").is_empty()).await);

    // Another process holds the write lock: the daemon's writer waits for it
    // (as behind a long indexing pass), yet the daemon itself must go on
    // answering signals, and systemd's watchdog with them.
    let other = rusqlite::Connection::open(setup.database()).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let busy_since = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let good = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(&setup.config, format!("{good}\n[poll]\nbogus = 1\n")).unwrap();
    daemon.signal("HUP");
    assert!(
        wait_until(3, || async {
            daemon.metric("reload_failures_total").await == Some(1.0)
        })
        .await,
        "the reload waited for the database"
    );
    assert!(busy_since.elapsed() < Duration::from_secs(10));
    other.execute_batch("COMMIT").unwrap();
    std::fs::write(&setup.config, good).unwrap();
    let before = host.requests_to("/f/a").len();
    assert!(
        eventually(10, || host.requests_to("/f/a").len() > before).await,
        "polling goes on once the database is free"
    );
    assert!(daemon.is_running());
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
}

/// The daemon in-process, on tokio's paused clock: it polls at once, serves
/// what it stored, and returns when told to stop.
#[tokio::test(start_paused = true)]
async fn the_daemon_runs_in_process_until_told_to_stop() {
    use tributary::clock::Clock;
    use tributary::daemon::{Control, run};

    let clock = Clock::tokio_from(chrono::Utc::now());
    let host = FeedHost::start().await;
    host.set_feed("a", &rss(&[item(1)]));
    let setup = Setup::new("", &[("Plain", host.url("/f/a"))]);
    let config = tributary::config::Config::load(&setup.config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let feed_url = format!("http://{}/feed.atom", listener.local_addr().unwrap());
    let (control, told) = tokio::sync::mpsc::channel(1);
    let daemon = tokio::spawn(run(config, listener, clock.clone(), told));

    // The first round starts with the daemon, its requests spread over a few
    // seconds of the clock; the feed shows the item once stored. The server
    // asks the database whether it changed after 200 ms of real time, which
    // passes with the clock held.
    let mut atom = String::new();
    for _ in 0..200 {
        let url = feed_url.clone();
        atom = clock
            .hold(async move { reqwest::get(url).await.unwrap().text().await.unwrap() })
            .await;
        if atom.contains("Story 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        clock
            .hold(async { std::thread::sleep(Duration::from_millis(50)) })
            .await;
    }
    assert!(
        atom.contains("<entry>") && atom.contains("Story 1"),
        "{atom}"
    );

    control.send(Control::Stop).await.unwrap();
    daemon.await.unwrap().unwrap();
}
