//! Which sources to poll and how many at once: cron parsing, the overall and
//! per-host concurrency limits, and a poll round over many sources.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
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

/// When a source should next be fetched: its schedule's next tick, pushed back
/// after errors by an exponential backoff (15 min doubling, at most a day) with a
/// little jitter so failing sources do not retry in step.
pub fn next_fetch(
    schedule: &str,
    now: DateTime<Utc>,
    consecutive_errors: u32,
    source_name: &str,
) -> DateTime<Utc> {
    let tick = parse_cron(schedule)
        .and_then(|c| c.find_next_occurrence(&now, false))
        .unwrap_or(now + TimeDelta::minutes(15));
    if consecutive_errors == 0 {
        return tick;
    }
    let base = BACKOFF_START.saturating_mul(1 << (consecutive_errors - 1).min(16));
    let base = base.min(BACKOFF_MAX);
    // Up to +10%, fixed per source and error count: repeatable, yet spread out.
    let jitter = xxh3_64(format!("{source_name}/{consecutive_errors}").as_bytes()) % 1000;
    let delay = base + base.mul_f64(jitter as f64 / 10_000.0);
    let backoff = now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::days(1));
    tick.max(backoff)
}

const BACKOFF_START: Duration = Duration::from_secs(15 * 60);
const BACKOFF_MAX: Duration = Duration::from_secs(24 * 3600);

/// Totals of one poll round, as `poll --json` prints them.
#[derive(Debug, Default, Clone)]
pub struct RoundSummary {
    pub ok: u64,
    pub not_modified: u64,
    pub failed: u64,
    pub counts: StoreCounts,
    pub elapsed_ms: u64,
    pub reports: Vec<SourceReport>,
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
/// `per_host` at a time against any one host. `on_done` sees each report as it
/// arrives (for a progress bar). A database failure stops the round.
pub async fn poll_round(
    ctx: PollContext,
    jobs: Vec<(Source, SourceState)>,
    concurrency: usize,
    per_host: usize,
    mut on_done: impl FnMut(&SourceReport),
) -> Result<RoundSummary, StoreError> {
    let started = Instant::now();
    let all = Arc::new(Semaphore::new(concurrency));
    let mut hosts: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let mut tasks = JoinSet::new();
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
        tasks.spawn(async move {
            // The host's turn first, so a task waiting on a busy host holds no
            // overall slot that another host could use.
            let _host = match &host_limit {
                Some(s) => Some(s.acquire().await.expect("semaphore is never closed")),
                None => None,
            };
            let _slot = all.acquire().await.expect("semaphore is never closed");
            poll_source(&ctx, &source, &state).await
        });
    }
    drop(ctx);
    let mut summary = RoundSummary::default();
    while let Some(joined) = tasks.join_next().await {
        let report = joined.expect("poll task panicked")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn next_fetch_follows_the_schedule() {
        let now = at("2026-11-24T10:07:30Z");
        assert_eq!(
            next_fetch("0 */15 * * * *", now, 0, "a"),
            at("2026-11-24T10:15:00Z")
        );
        assert_eq!(
            next_fetch("0 0 * * * *", now, 0, "a"),
            at("2026-11-24T11:00:00Z")
        );
    }

    #[test]
    fn errors_back_off_exponentially_up_to_a_day() {
        let now = at("2026-11-24T10:00:00Z");
        let delay = |n| (next_fetch("* * * * * *", now, n, "a") - now).num_seconds();
        assert!((900..=990).contains(&delay(1)), "{}", delay(1));
        assert!((1800..=1980).contains(&delay(2)), "{}", delay(2));
        assert!((3600..=3960).contains(&delay(3)), "{}", delay(3));
        assert!((86400..=95040).contains(&delay(30)), "{}", delay(30));
    }
}
