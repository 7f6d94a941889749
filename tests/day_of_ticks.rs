//! A day of the daemon's real loop on tokio's paused clock, against a local host
//! whose feeds send `Cache-Control`, `<ttl>`, `<skipHours>`, `Retry-After` (as
//! seconds and as a date), `304`s and failures: every request comes at the tick
//! the rules say, within the round's spread, and none is missed or doubled.

mod common;
mod timed_host;

use std::sync::Arc;

use chrono::{DateTime, DurationRound, SubsecRound, TimeDelta, Utc};
use common::Setup;
use timed_host::{TimedHost, feed, http_date, refuse};
use tributary::clock::Clock;
use tributary::daemon::{Control, run};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const START: &str = "2026-11-23T23:57:30Z";
const END: &str = "2026-11-25T00:02:00Z";
/// The default schedule's period, and the spread of a round's requests after
/// its tick (a quarter of the period, at most ten seconds).
const PERIOD: TimeDelta = TimeDelta::minutes(5);
const SPREAD: TimeDelta = TimeDelta::seconds(10);

/// The ticks from `first`, every `every`, up to the end of the run.
fn ticks(first: &str, every: TimeDelta) -> Vec<DateTime<Utc>> {
    let end = at(END);
    (0..)
        .map(|k| at(first) + every * k)
        .take_while(|t| *t <= end)
        .collect()
}

/// The tick a request belongs to: the one before it, within the spread.
fn tick_of(request: DateTime<Utc>) -> DateTime<Utc> {
    let tick = request.duration_trunc(PERIOD).unwrap();
    assert!(
        request - tick < SPREAD,
        "a request {} after its tick: {request}",
        request - tick
    );
    tick
}

/// The ticks at which `feed` was requested, past the first request (the start's
/// round, which is checked to come at the start).
fn polled_ticks(host: &TimedHost, feed: &str) -> Vec<DateTime<Utc>> {
    let times = host.times(feed);
    let first = *times
        .first()
        .unwrap_or_else(|| panic!("{feed} never polled"));
    assert!(
        first >= at(START) && first - at(START) < SPREAD,
        "{feed} first polled at {first}"
    );
    times[1..].iter().map(|t| tick_of(*t)).collect()
}

fn assert_polled_at(host: &TimedHost, feed: &str, want: &[DateTime<Utc>]) {
    let got = polled_ticks(host, feed);
    let missed: Vec<_> = want.iter().filter(|t| !got.contains(t)).collect();
    let extra: Vec<_> = got.iter().filter(|t| !want.contains(t)).collect();
    assert!(
        missed.is_empty() && extra.is_empty() && got.len() == want.len(),
        "{feed}: missed {missed:?}, not due {extra:?}, {} polls for {} ticks",
        got.len(),
        want.len()
    );
}

/// Answers as a host whose clock is `clock`: its `Date` is the simulated time.
fn dated(clock: &Clock, mut response: axum::response::Response) -> axum::response::Response {
    let now = clock.now().trunc_subsecs(0);
    response
        .headers_mut()
        .insert(axum::http::header::DATE, http_date(now, 0).parse().unwrap());
    response
}

#[tokio::test(start_paused = true)]
async fn a_day_of_ticks_polls_every_source_at_the_tick_the_rules_say() {
    let clock = Clock::tokio_from(at(START));
    let host = {
        let clock = clock.clone();
        TimedHost::start(Arc::new(move || clock.now())).await
    };
    let c = clock.clone();
    host.script("plain", move |ask| dated(&c, feed(ask, 3, "", &[])));
    let c = clock.clone();
    host.script("fresh", move |ask| {
        dated(
            &c,
            feed(ask, 2, "", &[("cache-control", "max-age=600".into())]),
        )
    });
    let c = clock.clone();
    host.script("ttl", move |ask| {
        dated(&c, feed(ask, 1, "<ttl>30</ttl>", &[]))
    });
    let c = clock.clone();
    host.script("skip", move |ask| {
        let skip = "<skipHours><hour>2</hour><hour>3</hour><hour>4</hour></skipHours>";
        dated(&c, feed(ask, 4, skip, &[]))
    });
    let c = clock.clone();
    host.script("hourly", move |ask| dated(&c, feed(ask, 2, "", &[])));
    let c = clock.clone();
    host.script("busy-seconds", move |_| {
        dated(&c, refuse(429, Some("1000".into())))
    });
    let c = clock.clone();
    host.script("busy-date", move |ask| {
        dated(&c, refuse(503, Some(http_date(ask.at, 1000))))
    });
    // Fails without saying when to come back for six hours, then recovers.
    let c = clock.clone();
    host.script("failing", move |ask| {
        if ask.at < at("2026-11-24T06:00:00Z") {
            dated(&c, refuse(500, None))
        } else {
            dated(&c, feed(ask, 5, "", &[]))
        }
    });
    let c = clock.clone();
    host.script("gone", move |_| dated(&c, refuse(410, None)));

    let names = [
        "plain",
        "fresh",
        "ttl",
        "skip",
        "hourly",
        "busy-seconds",
        "busy-date",
        "failing",
        "gone",
    ];
    let sources: Vec<(&str, String)> = names.iter().map(|n| (*n, host.url(n))).collect();
    let setup = Setup::new("schedule = \"0 */5 * * * *\"", &sources);
    let text = std::fs::read_to_string(&setup.config).unwrap().replace(
        "name = \"hourly\"\n",
        "name = \"hourly\"\nschedule = \"0 0 * * * *\"\n",
    );
    std::fs::write(
        &setup.config,
        text + "\n[server]\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let config = tributary::config::Config::load(&setup.config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let served_at = listener.local_addr().unwrap();
    let (control, told) = tokio::sync::mpsc::channel(1);
    let daemon = tokio::spawn(run(config, listener, clock.clone(), told));

    clock.sleep_until(at(END)).await;
    let metrics = clock
        .hold(async move {
            reqwest::get(format!("http://{served_at}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
        .await;
    control.send(Control::Stop).await.unwrap();
    daemon.await.unwrap().unwrap();

    let every_tick = ticks("2026-11-24T00:00:00Z", PERIOD);
    assert_polled_at(&host, "plain", &every_tick);
    // max-age=600 on a five-minute schedule: every other tick, counted from
    // the tick (or the start) the poll served.
    assert_polled_at(
        &host,
        "fresh",
        &ticks("2026-11-24T00:10:00Z", TimeDelta::minutes(10)),
    );
    assert_polled_at(
        &host,
        "ttl",
        &ticks("2026-11-24T00:30:00Z", TimeDelta::minutes(30)),
    );
    let outside_skipped: Vec<DateTime<Utc>> = every_tick
        .iter()
        .copied()
        .filter(|t| !(at("2026-11-24T02:00:00Z")..at("2026-11-24T05:00:00Z")).contains(t))
        .collect();
    assert_polled_at(&host, "skip", &outside_skipped);
    assert_polled_at(
        &host,
        "hourly",
        &ticks("2026-11-24T00:00:00Z", TimeDelta::hours(1)),
    );
    // Retry-After of 1000 s, as seconds or as a date against the host's
    // Date: the first tick after it, every time, and never the backoff.
    for name in ["busy-seconds", "busy-date"] {
        assert_polled_at(
            &host,
            name,
            &ticks("2026-11-24T00:15:00Z", TimeDelta::minutes(20)),
        );
    }

    // No Retry-After: 15 minutes doubling, plus at most 10% of jitter, rounded
    // up to a tick; once the host answers, every tick again.
    let failing = host.times("failing");
    let recovered = failing
        .iter()
        .position(|t| *t >= at("2026-11-24T06:00:00Z"))
        .expect("polled again after the host recovered");
    for (k, pair) in failing[..=recovered].windows(2).enumerate() {
        let backoff = TimeDelta::minutes(15) * 2i32.pow(k as u32);
        let gap = pair[1] - pair[0];
        assert!(
            gap >= backoff && gap <= backoff + backoff / 10 + PERIOD + SPREAD,
            "failure {}: next poll {gap} later, backoff {backoff}",
            k + 1
        );
    }
    let after: Vec<DateTime<Utc>> = failing[recovered..].iter().map(|t| tick_of(*t)).collect();
    let want: Vec<DateTime<Utc>> = every_tick
        .iter()
        .copied()
        .filter(|t| *t >= after[0])
        .collect();
    assert_eq!(after, want, "every tick once the host answers");

    assert_eq!(host.times("gone").len(), 1, "410 disables the source");

    let metric = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("tributary_{name} ")))
            .map(|v| v.trim().to_string())
    };
    assert_eq!(metric("ticks_skipped_total").as_deref(), Some("0"));
    // the start's round and one per tick of the day
    assert_eq!(
        metric("polls_total"),
        Some((every_tick.len() + 1).to_string())
    );
    assert_eq!(metric("round_failures_total").as_deref(), Some("0"));
}
