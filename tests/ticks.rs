//! `tributary run` against the wall clock: every source is polled at every tick
//! of its schedule, once, however its requests are spread inside the round; and
//! a host's `Retry-After` (seconds or an HTTP date, on 429 or 503) is the wait
//! before the next request, while a host that says nothing gets the backoff.

mod common;
mod timed_host;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use common::{RunningDaemon, Setup};
use timed_host::{TimedHost, feed, http_date, refuse};

fn config(poll: &str, host: &TimedHost, feeds: &[&str]) -> Setup {
    let sources: Vec<(&str, String)> = feeds.iter().map(|f| (*f, host.url(f))).collect();
    let setup = Setup::new(poll, &sources);
    let text = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &setup.config,
        text + "\n[server]\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    setup
}

/// Requests per tick of a schedule of `period`, by the tick each fell in.
fn per_tick(times: &[DateTime<Utc>], period: TimeDelta) -> BTreeMap<DateTime<Utc>, usize> {
    let mut ticks = BTreeMap::new();
    for t in times {
        *ticks.entry(t.duration_trunc(period).unwrap()).or_default() += 1;
    }
    ticks
}

#[tokio::test(flavor = "multi_thread")]
async fn six_sources_on_a_two_second_schedule_are_polled_at_every_tick_once() {
    let host = TimedHost::start(Arc::new(Utc::now)).await;
    let feeds = ["a", "b", "c", "d", "e", "f"];
    for (i, name) in feeds.iter().enumerate() {
        // Some send a freshness as long as the schedule's period: still every tick.
        let fresh: Vec<(&str, String)> = if i % 2 == 0 {
            vec![("cache-control", "max-age=2".to_string())]
        } else {
            Vec::new()
        };
        host.script(name, move |ask| feed(ask, 3, "", &fresh));
    }
    let setup = config("schedule = \"*/2 * * * * *\"", &host, &feeds);
    let started = Utc::now();
    let daemon = RunningDaemon::start(&setup, &[]).await;
    // The observation is the test: 40 seconds of ticks.
    tokio::time::sleep(Duration::from_secs(40)).await;
    let stopped = Utc::now();
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");

    let period = TimeDelta::seconds(2);
    // Ticks wholly inside the run, past the first one (the start's own round
    // may fall in it).
    let first = started.duration_trunc(period).unwrap() + period * 2;
    let last = stopped.duration_trunc(period).unwrap() - period;
    let ticks: Vec<DateTime<Utc>> = (0..)
        .map(|k| first + period * k)
        .take_while(|t| *t <= last)
        .collect();
    assert!(ticks.len() >= 15, "{} ticks", ticks.len());
    for name in feeds {
        let times = host.times(name);
        let seen = per_tick(&times, period);
        let doubled: Vec<_> = seen
            .iter()
            .filter(|(t, n)| **t >= first && **n > 1)
            .collect();
        assert!(doubled.is_empty(), "{name} twice in a tick: {doubled:?}");
        let polled = ticks.iter().filter(|t| seen.contains_key(t)).count();
        assert!(
            polled * 10 >= ticks.len() * 9,
            "{name} polled at {polled} of {} ticks: {times:?}",
            ticks.len()
        );
    }
}

/// Gaps between consecutive requests, in milliseconds.
fn gaps(times: &[DateTime<Utc>]) -> Vec<i64> {
    times
        .windows(2)
        .map(|w| (w[1] - w[0]).num_milliseconds())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_the_wait_on_429_and_503_and_silence_gets_the_backoff() {
    let host = TimedHost::start(Arc::new(Utc::now)).await;
    host.script("429-seconds", |_| refuse(429, Some("4".into())));
    host.script("503-seconds", |_| refuse(503, Some("4".into())));
    host.script("429-date", |ask| refuse(429, Some(http_date(ask.at, 4))));
    host.script("503-date", |ask| refuse(503, Some(http_date(ask.at, 4))));
    // "now", and a date already past: the next tick
    host.script("429-now", |_| refuse(429, Some("0".into())));
    host.script("503-past", |ask| refuse(503, Some(http_date(ask.at, -60))));
    host.script("429-silent", |_| refuse(429, None));
    host.script("503-silent", |_| refuse(503, None));
    let feeds = [
        "429-seconds",
        "503-seconds",
        "429-date",
        "503-date",
        "429-now",
        "503-past",
        "429-silent",
        "503-silent",
    ];
    let setup = config("schedule = \"* * * * * *\"", &host, &feeds);
    let daemon = RunningDaemon::start(&setup, &[]).await;
    tokio::time::sleep(Duration::from_secs(14)).await;
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");

    // Four seconds, rounded up to a tick of the one-second schedule: never
    // sooner, and not much later. A date counts from the response's `Date`,
    // which has whole seconds, so it may round up by one more.
    for (name, longest) in [
        ("429-seconds", 5_300),
        ("503-seconds", 5_300),
        ("429-date", 6_300),
        ("503-date", 6_300),
    ] {
        let times = host.times(name);
        let gaps = gaps(&times);
        assert!(times.len() >= 3, "{name} asked back after 4 s: {times:?}");
        assert!(
            gaps.iter().all(|g| (3_800..=longest).contains(g)),
            "{name}: gaps {gaps:?} ms"
        );
    }
    for name in ["429-now", "503-past"] {
        let times = host.times(name);
        let seen = per_tick(&times, TimeDelta::seconds(1));
        assert!(times.len() >= 10, "{name} polled at every tick: {times:?}");
        assert!(seen.values().all(|n| *n == 1), "{name}: {seen:?}");
    }
    for name in ["429-silent", "503-silent"] {
        assert_eq!(
            host.times(name).len(),
            1,
            "{name}: no Retry-After, so the backoff of 15 minutes"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_round_held_up_by_a_slow_host_delays_the_next_and_no_source_is_fetched_twice_a_tick() {
    let host = TimedHost::start(Arc::new(Utc::now)).await;
    host.script("quick", |ask| feed(ask, 2, "", &[]));
    // Answers after 2.5 s: each round lasts past two more ticks.
    host.script("slow", |ask| feed(ask, 2, "", &[]));
    host.delay("slow", Duration::from_millis(2500));
    let setup = config("schedule = \"* * * * * *\"", &host, &["quick", "slow"]);
    let daemon = RunningDaemon::start(&setup, &[("RUST_LOG", "info".as_ref())]).await;
    tokio::time::sleep(Duration::from_secs(9)).await;
    let skipped = daemon.metric("ticks_skipped_total").await;
    let log = daemon.log.clone();
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");

    assert!(
        skipped >= Some(1.0),
        "skipped ticks are counted: {skipped:?}"
    );
    let log = log.lock().unwrap().join("\n");
    assert!(log.contains("tick skipped"), "{log}");
    assert!(log.contains("still running at the tick"), "{log}");
    assert!(
        log.contains("due=2"),
        "a round says what it found due: {log}"
    );
    // A round starts as soon as the one before it ends, for the latest tick
    // that came meanwhile; the quick source is polled once per round.
    let quick = host.times("quick");
    assert!(quick.len() >= 3, "{quick:?}");
    let gaps = gaps(&quick);
    assert!(
        gaps[1..].iter().all(|g| (2_000..=3_500).contains(g)),
        "quick polled once per round of the slow host: {gaps:?} ms"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_polls_a_new_source_at_once_and_no_other_twice_in_a_tick() {
    let host = TimedHost::start(Arc::new(Utc::now)).await;
    host.script("a", |ask| feed(ask, 2, "", &[]));
    host.script("b", |ask| feed(ask, 2, "", &[]));
    let setup = config("schedule = \"*/2 * * * * *\"", &host, &["a"]);
    let daemon = RunningDaemon::start(&setup, &[]).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let text = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &setup.config,
        format!(
            "{text}\n[[source]]\nname = \"b\"\nurl = {:?}\n",
            host.url("b")
        ),
    )
    .unwrap();
    let reloaded = Utc::now();
    daemon.signal("HUP");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");

    let b = host.times("b");
    assert!(
        b.first()
            .is_some_and(|t| *t - reloaded < TimeDelta::milliseconds(1500)),
        "b polled at once: {b:?}"
    );
    let period = TimeDelta::seconds(2);
    for name in ["a", "b"] {
        let times = host.times(name);
        // past the start's round, one request per tick
        let seen = per_tick(&times[1..], period);
        assert!(seen.values().all(|n| *n == 1), "{name}: {times:?}");
    }
}
