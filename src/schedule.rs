//! When to poll and how many at once: cron parsing and ticks, when a source is
//! due and when it is next, the error backoff, the overall and per-host
//! concurrency limits, and a poll round over many sources.
//!
//! Every next-fetch time is a tick of the source's schedule, counted from the
//! tick the poll served (not from when its request went out), so spreading
//! requests inside a round never moves a source to a later tick.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, SubsecRound, TimeDelta, Timelike, Utc, Weekday};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use xxhash_rust::xxh3::xxh3_64;

use crate::model::Source;
use crate::pipeline::{Outcome, PollContext, SourceReport, poll_source};
use crate::store::{SourceState, StoreCounts, StoreError};

/// Parses a six-field cron expression (with seconds).
pub fn parse_cron(expr: &str) -> Result<Cron, croner::errors::CronError> {
    CronParser::builder()
        .seconds(Seconds::Required)
        .build()
        .parse(expr)
}

/// The first tick of `cron` strictly after `t`. Ticks fall on whole seconds;
/// croner keeps the fraction of the moment it starts from in what it finds,
/// so the fraction is dropped first.
pub fn tick_after(cron: &Cron, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&t.trunc_subsecs(0), false).ok()
}

/// The first tick of `cron` at or after `t`.
pub fn tick_at_or_after(cron: &Cron, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let whole = t.trunc_subsecs(0);
    cron.find_next_occurrence(&whole, whole == t).ok()
}

/// Whether a source whose next fetch is `next_fetch_at` is polled in the round
/// serving `tick`: never fetched, or its time falls on or before the tick.
pub fn is_due(next_fetch_at: Option<DateTime<Utc>>, tick: DateTime<Utc>) -> bool {
    next_fetch_at.is_none_or(|t| t <= tick)
}

/// Longest delay spreading a scheduled round's requests.
const MAX_SPREAD: Duration = Duration::from_secs(10);

/// Every schedule in use (the default one and the sources' own), ticking as one.
#[derive(Debug, Clone)]
pub struct Schedules {
    crons: Vec<Cron>,
}

impl Schedules {
    /// The schedules of `exprs`; duplicates count once. Fails on the first
    /// expression that is no valid schedule, naming it.
    pub fn new<'a>(
        exprs: impl IntoIterator<Item = &'a str>,
    ) -> Result<Schedules, (String, croner::errors::CronError)> {
        let mut seen: Vec<&str> = Vec::new();
        let mut crons = Vec::new();
        for expr in exprs {
            if seen.contains(&expr) {
                continue;
            }
            seen.push(expr);
            crons.push(parse_cron(expr).map_err(|e| (expr.to_string(), e))?);
        }
        Ok(Schedules { crons })
    }

    /// The first tick of any schedule strictly after `t`.
    pub fn tick_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.crons.iter().filter_map(|c| tick_after(c, t)).min()
    }

    /// The last tick of any schedule at or before `t`.
    pub fn latest_tick_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let whole = t.trunc_subsecs(0);
        self.crons
            .iter()
            .filter_map(|c| c.find_previous_occurrence(&whole, true).ok())
            .max()
    }

    /// How far the requests of the round for `tick` are spread: a quarter of
    /// the way to the next tick, at most ten seconds, so that a round's last
    /// request still comes well before the next round is due.
    pub fn spread_after(&self, tick: DateTime<Utc>) -> Duration {
        self.tick_after(tick)
            .and_then(|next| (next - tick).to_std().ok())
            .map_or(Duration::ZERO, |gap| (gap / 4).min(MAX_SPREAD))
    }
}

/// What a feed and its host said about when to come back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Politeness {
    /// `Cache-Control: max-age` or `Expires`
    pub fresh_for: Option<Duration>,
    /// RSS `<ttl>`, minutes
    pub ttl_minutes: Option<u32>,
    /// `Retry-After` on a 429 or 503
    pub retry_after: Option<Duration>,
    /// RSS `<skipHours>`, GMT
    pub skip_hours: Vec<u32>,
    /// RSS `<skipDays>`
    pub skip_days: Vec<Weekday>,
}

const BACKOFF_START: Duration = Duration::from_secs(15 * 60);
/// The longest any hint or backoff postpones a source: a feed is never left
/// unread for more than a day, whatever a host says.
const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// When a source polled for the tick `served` (or at `served`, outside the
/// schedule) should next be fetched: the first tick of its schedule after
/// `served` that also comes after the wait asked for, and outside
/// `skipHours`/`skipDays`.
pub fn next_fetch(
    schedule: &str,
    served: DateTime<Utc>,
    consecutive_errors: u32,
    source_name: &str,
    hints: &Politeness,
) -> DateTime<Utc> {
    let fallback = served + TimeDelta::minutes(15);
    let Ok(cron) = parse_cron(schedule) else {
        return fallback;
    };
    let Some(first) = tick_after(&cron, served) else {
        return fallback;
    };
    let wait = TimeDelta::from_std(wait_asked(consecutive_errors, source_name, hints))
        .unwrap_or(TimeDelta::days(1));
    let mut next = tick_at_or_after(&cron, served + wait).map_or(first, |t| t.max(first));
    let all_hours_skipped = (0..24).all(|h| hints.skip_hours.contains(&h));
    let all_days_skipped = hints.skip_days.len() >= 7;
    // A week of hours is enough to leave any skipped stretch.
    for _ in 0..(24 * 8) {
        let hour_skipped = !all_hours_skipped && hints.skip_hours.contains(&next.hour());
        let day_skipped = !all_days_skipped && hints.skip_days.contains(&next.weekday());
        if !hour_skipped && !day_skipped {
            break;
        }
        let next_hour = (next + TimeDelta::hours(1))
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .map(|t| t.trunc_subsecs(0))
            .unwrap_or(next + TimeDelta::hours(1));
        next = tick_at_or_after(&cron, next_hour).unwrap_or(next_hour);
    }
    next
}

/// How long to leave a source alone after a poll. A host that said when to
/// come back (`Retry-After`) is taken at its word, up to a day. Otherwise the
/// longest of the freshness and `<ttl>` asked for and, after errors, the
/// backoff: 15 minutes doubling up to a day, plus up to 10% of jitter fixed per
/// source and error count (repeatable, yet failing sources do not retry in
/// step).
fn wait_asked(consecutive_errors: u32, source_name: &str, hints: &Politeness) -> Duration {
    if let Some(asked) = hints.retry_after {
        return asked.min(MAX_WAIT);
    }
    let mut wait = [
        hints.fresh_for,
        hints
            .ttl_minutes
            .map(|m| Duration::from_secs(u64::from(m) * 60)),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or_default();
    if consecutive_errors > 0 {
        let base = BACKOFF_START
            .saturating_mul(1 << (consecutive_errors - 1).min(16))
            .min(MAX_WAIT);
        let jitter = xxh3_64(format!("{source_name}/{consecutive_errors}").as_bytes()) % 1000;
        wait = wait.max(base + base.mul_f64(jitter as f64 / 10_000.0));
    }
    wait.min(MAX_WAIT + MAX_WAIT / 10)
}

/// Totals of one poll round, as `poll --json` prints them.
#[derive(Debug, Default, Clone)]
pub struct RoundSummary {
    pub ok: u64,
    pub not_modified: u64,
    pub failed: u64,
    pub counts: StoreCounts,
    pub elapsed_ms: u64,
    pub reports: Vec<SourceReport>,
    /// sources whose poll panicked (a bug); counted as failed too
    pub panicked: Vec<String>,
}

impl RoundSummary {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "sources": {"ok": self.ok, "not_modified": self.not_modified, "failed": self.failed},
            "items": {"new": self.counts.new, "updated": self.counts.updated, "folded": self.counts.folded},
            "elapsed_ms": self.elapsed_ms,
        })
    }
}

/// Polls every given source once, outside any schedule (`tributary poll`): the
/// round serves the moment it starts. See [`poll_round_for`].
pub async fn poll_round(
    ctx: PollContext,
    jobs: Vec<(Source, SourceState)>,
    concurrency: usize,
    per_host: usize,
    spread: Duration,
    on_done: impl FnMut(&SourceReport),
) -> Result<RoundSummary, StoreError> {
    let served = ctx.clock.now();
    poll_round_for(ctx, jobs, served, concurrency, per_host, spread, on_done).await
}

/// Polls every given source once for the tick `served`, at most `concurrency`
/// at a time and at most `per_host` at a time against any one host. With a
/// `spread`, each source's request waits for a moment of its own within
/// `spread` after the tick, so requests to a host do not come in one burst.
/// `on_done` sees each report as it arrives (for a progress bar). A database
/// failure stops the round; a poll that panics is reported as that source's
/// failure and the round goes on.
pub async fn poll_round_for(
    ctx: PollContext,
    jobs: Vec<(Source, SourceState)>,
    served: DateTime<Utc>,
    concurrency: usize,
    per_host: usize,
    spread: Duration,
    mut on_done: impl FnMut(&SourceReport),
) -> Result<RoundSummary, StoreError> {
    let started = Instant::now();
    let all = Arc::new(Semaphore::new(concurrency));
    let mut hosts: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let mut tasks = JoinSet::new();
    let mut names = HashMap::new();
    for (source, state) in jobs {
        let host = state.fetch_url.host_str().map(str::to_ascii_lowercase);
        let host_limit = host.map(|h| {
            hosts
                .entry(h)
                .or_insert_with(|| Arc::new(Semaphore::new(per_host)))
                .clone()
        });
        let all = all.clone();
        let ctx = ctx.clone();
        let turn =
            served + TimeDelta::from_std(spread_delay(&source.name, spread)).unwrap_or_default();
        let name = source.name.clone();
        let task = tasks.spawn(async move {
            ctx.clock.sleep_until(turn).await;
            // The host's turn first, so a task waiting on a busy host holds no
            // overall slot that another host could use.
            let _host = match &host_limit {
                Some(s) => Some(s.acquire().await.expect("semaphore is never closed")),
                None => None,
            };
            let _slot = all.acquire().await.expect("semaphore is never closed");
            #[cfg(debug_assertions)]
            panic_if_asked(&source.name);
            let clock = ctx.clock.clone();
            clock
                .hold(async move { poll_source(&ctx, &source, &state, served).await })
                .await
        });
        names.insert(task.id(), name);
    }
    drop(ctx);
    let mut summary = RoundSummary::default();
    while let Some(joined) = tasks.join_next_with_id().await {
        let report = match joined {
            Ok((_, report)) => report?,
            Err(e) => {
                let name = names.remove(&e.id()).unwrap_or_default();
                tracing::error!(source = %name, error = %e, "poll task panicked");
                summary.panicked.push(name.clone());
                SourceReport {
                    name,
                    outcome: Outcome::Failed,
                    status: None,
                    counts: StoreCounts::default(),
                    error: Some(format!("internal error: {e}")),
                    elapsed_ms: 0,
                }
            }
        };
        match report.outcome {
            Outcome::Fetched => summary.ok += 1,
            Outcome::NotModified => summary.not_modified += 1,
            Outcome::Failed => summary.failed += 1,
        }
        summary.counts.add(report.counts);
        on_done(&report);
        summary.reports.push(report);
    }
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(summary)
}

/// Debug builds only, for the tests: the poll of the source named by
/// `TRIBUTARY_TEST_PANIC_SOURCE` panics, as a bug in it would.
#[cfg(debug_assertions)]
fn panic_if_asked(source: &str) {
    if std::env::var_os("TRIBUTARY_TEST_PANIC_SOURCE").is_some_and(|n| n == source) {
        panic!("the poll of {source} panics as TRIBUTARY_TEST_PANIC_SOURCE asks");
    }
}

/// A source's own delay below `spread`: fixed for a given source and spread, and
/// different from source to source.
fn spread_delay(name: &str, spread: Duration) -> Duration {
    let millis = spread.as_millis() as u64;
    if millis == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(xxh3_64(name.as_bytes()) % millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(schedule: &str, now: &str, errors: u32, hints: &Politeness) -> DateTime<Utc> {
        next_fetch(schedule, at(now), errors, "a", hints)
    }

    #[test]
    fn next_fetch_follows_the_schedule() {
        let none = Politeness::default();
        assert_eq!(
            next("0 */15 * * * *", "2026-11-24T10:07:30Z", 0, &none),
            at("2026-11-24T10:15:00Z")
        );
        assert_eq!(
            next("0 0 * * * *", "2026-11-24T10:07:30Z", 0, &none),
            at("2026-11-24T11:00:00Z")
        );
    }

    #[test]
    fn errors_back_off_exponentially_up_to_a_day() {
        let now = at("2026-11-24T10:00:00Z");
        let delay = |n| {
            (next_fetch("* * * * * *", now, n, "a", &Politeness::default()) - now).num_seconds()
        };
        assert!((900..=990).contains(&delay(1)), "{}", delay(1));
        assert!((1800..=1980).contains(&delay(2)), "{}", delay(2));
        assert!((3600..=3960).contains(&delay(3)), "{}", delay(3));
        assert!((86400..=95040).contains(&delay(30)), "{}", delay(30));
    }

    #[test]
    fn hints_postpone_to_the_first_tick_after_them() {
        let hints = |fresh: u64, ttl: u32, retry: u64| Politeness {
            fresh_for: (fresh > 0).then(|| Duration::from_secs(fresh)),
            ttl_minutes: (ttl > 0).then_some(ttl),
            retry_after: (retry > 0).then(|| Duration::from_secs(retry)),
            ..Politeness::default()
        };
        let s = "0 */15 * * * *";
        let now = "2026-11-24T10:00:00Z";
        // max-age shorter than the schedule changes nothing
        assert_eq!(
            next(s, now, 0, &hints(300, 0, 0)),
            at("2026-11-24T10:15:00Z")
        );
        // 20 minutes of freshness: the tick after it
        assert_eq!(
            next(s, now, 0, &hints(1200, 0, 0)),
            at("2026-11-24T10:30:00Z")
        );
        // <ttl>60</ttl>
        assert_eq!(
            next(s, now, 0, &hints(0, 60, 0)),
            at("2026-11-24T11:00:00Z")
        );
        // Retry-After: 3600 on a 429, with the error it counts as
        assert_eq!(
            next(s, now, 1, &hints(0, 0, 3600)),
            at("2026-11-24T11:00:00Z")
        );
        // a year of max-age is held to a day (and a bit of jitter room)
        let far = next(s, now, 0, &hints(365 * 86400, 0, 0));
        assert!(far <= at("2026-11-25T12:30:00Z"), "{far}");
    }

    #[test]
    fn skip_hours_and_days_are_respected() {
        let skip = Politeness {
            skip_hours: vec![22, 23, 0, 1, 2, 3, 4, 5],
            ..Politeness::default()
        };
        // 2026-11-24 is a Tuesday
        assert_eq!(
            next("0 */15 * * * *", "2026-11-24T21:50:00Z", 0, &skip),
            at("2026-11-25T06:00:00Z")
        );
        let weekend = Politeness {
            skip_days: vec![Weekday::Sat, Weekday::Sun],
            ..Politeness::default()
        };
        assert_eq!(
            next("0 0 * * * *", "2026-11-27T23:30:00Z", 0, &weekend),
            at("2026-11-30T00:00:00Z")
        );
        let every_hour = Politeness {
            skip_hours: (0..24).collect(),
            ..Politeness::default()
        };
        assert_eq!(
            next("0 0 * * * *", "2026-11-24T10:30:00Z", 0, &every_hour),
            at("2026-11-24T11:00:00Z")
        );
    }
}

#[cfg(test)]
mod tick_tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn retry(secs: u64) -> Politeness {
        Politeness {
            retry_after: Some(Duration::from_secs(secs)),
            ..Politeness::default()
        }
    }

    #[test]
    fn next_fetch_falls_on_a_whole_tick_whatever_the_fraction_of_the_moment() {
        let none = Politeness::default();
        for moment in [
            "2026-11-24T10:44:00.740Z",
            "2026-11-24T10:44:00.001Z",
            "2026-11-24T10:44:59.999Z",
        ] {
            assert_eq!(
                next_fetch("0 * * * * *", at(moment), 0, "a", &none),
                at("2026-11-24T10:45:00Z"),
                "{moment}"
            );
        }
        let fresh = Politeness {
            fresh_for: Some(Duration::from_secs(90)),
            ..Politeness::default()
        };
        assert_eq!(
            next_fetch(
                "0 * * * * *",
                at("2026-11-24T10:44:00.740Z"),
                0,
                "a",
                &fresh
            ),
            at("2026-11-24T10:46:00Z")
        );
    }

    #[test]
    fn a_source_is_due_at_its_tick_and_not_before() {
        let tick = at("2026-11-24T10:45:00Z");
        assert!(is_due(None, tick));
        assert!(is_due(Some(tick), tick));
        assert!(is_due(Some(at("2026-11-24T10:30:00Z")), tick));
        assert!(!is_due(Some(at("2026-11-24T10:45:00.001Z")), tick));
        // What a poll for this tick sets is due at the next one, every time.
        let schedule = "0 */15 * * * *";
        let fresh = Politeness {
            fresh_for: Some(Duration::from_secs(900)),
            ..Politeness::default()
        };
        let mut served = tick;
        for _ in 0..100 {
            let next = next_fetch(schedule, served, 0, "a", &fresh);
            assert_eq!(next, served + TimeDelta::minutes(15));
            assert!(is_due(Some(next), next));
            served = next;
        }
    }

    #[test]
    fn a_round_spreads_its_requests_over_a_quarter_of_the_way_to_the_next_tick() {
        let spread = |exprs: &[&str], tick: &str| {
            Schedules::new(exprs.iter().copied())
                .unwrap()
                .spread_after(at(tick))
        };
        let tick = "2026-11-24T10:00:00Z";
        assert_eq!(spread(&["0 */15 * * * *"], tick), Duration::from_secs(10));
        assert_eq!(spread(&["*/2 * * * * *"], tick), Duration::from_millis(500));
        // The next tick of any schedule bounds it.
        assert_eq!(
            spread(&["0 */15 * * * *", "30 0 * * * *"], tick),
            Duration::from_millis(7500)
        );
        // A delay of its own below the spread never reaches the next tick.
        for name in ["a", "b", "c", "Slow 1", "OpenAI News"] {
            assert!(spread_delay(name, Duration::from_millis(500)) < Duration::from_millis(500));
        }
    }

    #[test]
    fn retry_after_is_the_wait_instead_of_the_backoff() {
        let s = "*/2 * * * * *";
        let tick = at("2026-11-24T10:00:00Z");
        // what the host asked, rounded up to a tick
        assert_eq!(
            next_fetch(s, tick, 1, "a", &retry(4)),
            at("2026-11-24T10:00:04Z")
        );
        assert_eq!(
            next_fetch(s, tick, 3, "a", &retry(5)),
            at("2026-11-24T10:00:06Z")
        );
        // "now" still waits one tick
        assert_eq!(
            next_fetch(s, tick, 1, "a", &retry(0)),
            at("2026-11-24T10:00:02Z")
        );
        // at most a day
        assert_eq!(
            next_fetch(s, tick, 1, "a", &retry(10 * 86400)),
            at("2026-11-25T10:00:00Z")
        );
        // a host that says nothing gets the backoff
        let silent = next_fetch(s, tick, 1, "a", &Politeness::default());
        assert!(silent >= at("2026-11-24T10:15:00Z"), "{silent}");
    }
}
