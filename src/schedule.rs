//! Which sources to poll and how many at once: cron parsing, the overall and
//! per-host concurrency limits, and a poll round over many sources.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc, Weekday};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use xxhash_rust::xxh3::xxh3_64;

use crate::model::Source;
use crate::pipeline::{Outcome, PollContext, SourceReport, poll_source};
use crate::store::{SourceState, StoreCounts, StoreError};

/// Parses a six-field cron expression (with seconds), as tokio-cron-scheduler does.
pub fn parse_cron(expr: &str) -> Result<Cron, croner::errors::CronError> {
    CronParser::builder()
        .seconds(Seconds::Required)
        .build()
        .parse(expr)
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

/// When a source should next be fetched: the first tick of its schedule that
/// comes after every wait asked for (freshness, `<ttl>`, `Retry-After`), after
/// the error backoff (15 min doubling up to a day, with per-source jitter so
/// failing sources do not retry in step), and outside `skipHours`/`skipDays`.
pub fn next_fetch(
    schedule: &str,
    now: DateTime<Utc>,
    consecutive_errors: u32,
    source_name: &str,
    hints: &Politeness,
) -> DateTime<Utc> {
    let fallback = now + TimeDelta::minutes(15);
    let Ok(cron) = parse_cron(schedule) else {
        return fallback;
    };
    let mut wait = [
        hints.fresh_for,
        hints
            .ttl_minutes
            .map(|m| Duration::from_secs(u64::from(m) * 60)),
        hints.retry_after,
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or_default();
    if consecutive_errors > 0 {
        let base = BACKOFF_START.saturating_mul(1 << (consecutive_errors - 1).min(16));
        // Up to +10%, fixed per source and error count: repeatable, yet spread out.
        let jitter = xxh3_64(format!("{source_name}/{consecutive_errors}").as_bytes()) % 1000;
        wait = wait.max(base.min(MAX_WAIT) + base.min(MAX_WAIT).mul_f64(jitter as f64 / 10_000.0));
    }
    let wait =
        TimeDelta::from_std(wait.min(MAX_WAIT + MAX_WAIT / 10)).unwrap_or(TimeDelta::days(1));
    let tick_from = |t: DateTime<Utc>, inclusive| cron.find_next_occurrence(&t, inclusive).ok();
    let Some(mut next) = tick_from(now, false).map(|t| t.max(now + wait)) else {
        return fallback;
    };
    next = tick_from(next, true).unwrap_or(next);
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
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(next + TimeDelta::hours(1));
        next = tick_from(next_hour, true).unwrap_or(next_hour);
    }
    next
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

/// Polls every given source once, at most `concurrency` at a time and at most
/// `per_host` at a time against any one host. With a `spread`, each source
/// waits a delay of its own below it first, so requests to a host do not come in
/// one burst at the tick. `on_done` sees each report as it arrives (for a
/// progress bar). A database failure stops the round; a poll that panics is
/// reported as that source's failure and the round goes on.
pub async fn poll_round(
    ctx: PollContext,
    jobs: Vec<(Source, SourceState)>,
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
        let delay = spread_delay(&source.name, spread);
        let name = source.name.clone();
        let task = tasks.spawn(async move {
            tokio::time::sleep(delay).await;
            // The host's turn first, so a task waiting on a busy host holds no
            // overall slot that another host could use.
            let _host = match &host_limit {
                Some(s) => Some(s.acquire().await.expect("semaphore is never closed")),
                None => None,
            };
            let _slot = all.acquire().await.expect("semaphore is never closed");
            #[cfg(debug_assertions)]
            panic_if_asked(&source.name);
            poll_source(&ctx, &source, &state).await
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
