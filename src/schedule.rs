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

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use xxhash_rust::xxh3::xxh3_64;

use crate::metrics::{Outcome, SourceReport};
use crate::model::Source;
use crate::pipeline::{PollContext, Turn, poll_source};
use crate::store::{SourceState, StoreCounts, StoreError};

/// Whether a source whose next fetch is `next_fetch_at` is polled in the round
/// serving `tick`: never fetched, or its time falls on or before the tick.
pub(crate) fn is_due(next_fetch_at: Option<DateTime<Utc>>, tick: DateTime<Utc>) -> bool {
    next_fetch_at.is_none_or(|t| t <= tick)
}

/// Totals of one poll round, as `poll --json` prints them.
#[derive(Debug, Default, Clone)]
pub(crate) struct RoundSummary {
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
pub(crate) async fn poll_round(
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
pub(crate) async fn poll_round_for(
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
            let mut permits = Vec::with_capacity(2);
            if let Some(host) = host_limit {
                permits.push(
                    host.acquire_owned()
                        .await
                        .expect("semaphore is never closed"),
                );
            }
            permits.push(
                all.acquire_owned()
                    .await
                    .expect("semaphore is never closed"),
            );
            #[cfg(debug_assertions)]
            panic_if_asked(&source.name);
            let clock = ctx.clock.clone();
            // Boxed once it runs: every task of the round is spawned at
            // once, and a waiting one holds only this pointer, not the
            // poll's several kilobytes of state.
            clock
                .hold(async move {
                    Box::pin(poll_source(
                        &ctx,
                        &source,
                        &state,
                        served,
                        Turn::new(permits),
                    ))
                    .await
                })
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
mod tick_tests {
    use super::*;
    use crate::clock::Schedules;
    use crate::politeness::{Politeness, next_fetch};

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
