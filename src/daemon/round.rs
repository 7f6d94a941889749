//! Poll rounds: what a round works with, the round itself (run as a task of
//! its own), and the daemon starting one at a tick or after a reload, holding
//! the next one while one runs, and taking stock of one that ended.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sd_notify::NotifyState;
use tokio::task::{JoinError, JoinHandle};

use super::Daemon;
use crate::clock::Tick;
use crate::model::Source;
use crate::pipeline::PollContext;
use crate::schedule::{RoundSummary, is_due, poll_round_for};
use crate::store::{SourceState, StoreError, Writer};

pub(super) type Round = JoinHandle<Result<RoundDone, RoundError>>;

/// What a round works with, taken from the config when it starts.
struct RoundPlan {
    /// the tick the round serves (or, outside the schedule, the moment)
    served: DateTime<Utc>,
    sources: Vec<Source>,
    concurrency: usize,
    per_host: usize,
    spread: Duration,
    retention: Duration,
    keep_per_source: u32,
}

/// What a finished round did.
pub(super) struct RoundDone {
    summary: RoundSummary,
    /// items pruned and indexed after the polls, or why that failed
    upkeep: Result<(u64, u64), StoreError>,
}

#[derive(Debug, thiserror::Error)]
pub(super) enum RoundError {
    #[error("cannot start a poll round: {0}")]
    Start(StoreError),
    #[error("poll round stopped: {0}")]
    Poll(StoreError),
}

/// The round running, and what the next one is to serve when it waits for the
/// running one to end.
#[derive(Default)]
pub(super) struct Rounds {
    pub(super) running: Option<Round>,
    pub(super) waiting: Option<Waiting>,
}

#[derive(Clone, Copy)]
pub(super) struct Waiting {
    pub(super) served: DateTime<Utc>,
    /// whether `served` is a tick (else the moment of a reload)
    tick: bool,
}

/// One round: sources brought in step with the config, the ones due at the
/// tick polled, then retention and the search index. It runs as a task of its
/// own, so the daemon's loop never waits for the database: signals and the
/// watchdog are answered whatever the database does.
async fn run_round(ctx: PollContext, plan: RoundPlan) -> Result<RoundDone, RoundError> {
    let clock = ctx.clock.clone();
    let writer = ctx.writer.clone();
    let sources = plan.sources.clone();
    let labels = ctx.categorizer.configured_labels(&sources);
    let states = clock
        .hold(async move {
            writer
                .with_store(move |store| {
                    store.check_file()?;
                    store.name_categories(&labels)?;
                    store.sync_sources(&sources)
                })
                .await
        })
        .await
        .and_then(|states| states)
        .map_err(RoundError::Start)?;
    let total = plan.sources.len();
    let jobs: Vec<(Source, SourceState)> = plan
        .sources
        .into_iter()
        .zip(states)
        .filter(|(_, s)| !s.disabled && is_due(s.next_fetch_at, plan.served))
        .collect();
    if jobs.is_empty() {
        tracing::debug!(tick = %plan.served, sources = total, "poll round: nothing due");
    } else {
        tracing::info!(tick = %plan.served, due = jobs.len(), sources = total, "poll round");
    }
    let summary = poll_round_for(
        ctx.clone(),
        jobs,
        plan.served,
        plan.concurrency,
        plan.per_host,
        plan.spread,
        |_| {},
    )
    .await
    .map_err(RoundError::Poll)?;
    let writer = ctx.writer.clone();
    let now = clock.now();
    let upkeep = clock
        .hold(async move { upkeep(&writer, plan.retention, plan.keep_per_source, now).await })
        .await;
    Ok(RoundDone { summary, upkeep })
}

/// Retention, then the search index a batch per job, so polls stored meanwhile
/// are not held up behind a large backlog and a stop need not wait for it.
async fn upkeep(
    writer: &Writer,
    retention: Duration,
    keep: u32,
    now: DateTime<Utc>,
) -> Result<(u64, u64), StoreError> {
    let pruned = writer
        .with_store(move |s| s.prune_past_retention(retention, keep, now))
        .await??;
    let mut indexed = 0;
    loop {
        let (batch, more) = writer.with_store(|s| s.index_batch()).await??;
        indexed += batch;
        if !more {
            return Ok((pruned, indexed));
        }
    }
}

impl Daemon {
    /// A tick came: its round starts, or waits for the running one.
    pub(super) fn on_tick(&mut self, tick: Tick, rounds: &mut Rounds) {
        if let Some(first) = tick.missed_from {
            tracing::warn!(
                from = %first, to = %tick.at, missed = tick.missed,
                "ticks passed while the daemon could not run (a suspended machine, a clock set forward); one round serves them"
            );
            self.metrics.ticks_skipped(tick.missed);
        }
        if rounds.running.is_some() {
            let next = Waiting {
                served: tick.at,
                tick: true,
            };
            match rounds.waiting.replace(next) {
                Some(Waiting {
                    served: skipped,
                    tick: true,
                }) => {
                    tracing::warn!(
                        tick = %skipped, next = %tick.at,
                        "tick skipped: the poll round before it was still running; the round for the next tick serves its sources"
                    );
                    self.metrics.ticks_skipped(1);
                }
                Some(Waiting { tick: false, .. }) => {}
                None => tracing::warn!(
                    tick = %tick.at,
                    "a poll round is still running at the tick; the tick's round starts when it ends"
                ),
            }
            return;
        }
        rounds.running = Some(self.start_round(tick.at));
    }

    /// Polls what is due at `now`, outside the schedule (at the start, after a
    /// reload); after the running round if there is one.
    pub(super) fn poll_for(&mut self, now: DateTime<Utc>, rounds: &mut Rounds) {
        if rounds.running.is_none() {
            rounds.running = Some(self.start_round(now));
            return;
        }
        let served = rounds.waiting.map_or(now, |w| w.served.max(now));
        let tick = rounds.waiting.is_some_and(|w| w.tick && w.served >= now);
        rounds.waiting = Some(Waiting { served, tick });
    }

    /// Starts the round for `served` with the current config.
    pub(super) fn start_round(&self, served: DateTime<Utc>) -> Round {
        let plan = RoundPlan {
            served,
            sources: self.config.sources.clone(),
            concurrency: self.config.poll.concurrency,
            per_host: self.config.poll.per_host,
            spread: self.ticker.schedules().spread_after(served),
            retention: self.config.storage.retention,
            keep_per_source: self.config.storage.keep_per_source,
        };
        tokio::spawn(run_round(self.ctx.clone(), plan))
    }

    /// Reports a finished round; a failed one makes the daemon degraded until
    /// one succeeds.
    pub(super) fn after_round(
        &mut self,
        finished: Result<Result<RoundDone, RoundError>, JoinError>,
    ) {
        let done = match finished {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => return self.round_failed(e.to_string()),
            Err(e) => return self.round_failed(format!("poll round panicked: {e}")),
        };
        self.metrics.round_done();
        let summary = &done.summary;
        let (pruned, indexed) = *done.upkeep.as_ref().unwrap_or(&(0, 0));
        let polled = summary.ok + summary.not_modified + summary.failed;
        if polled > 0 {
            tracing::info!(
                sources = polled,
                ok = summary.ok,
                not_modified = summary.not_modified,
                failed = summary.failed,
                new_items = summary.counts.new,
                folded = summary.counts.folded,
                pruned,
                indexed,
                elapsed_ms = summary.elapsed_ms,
                "poll round done"
            );
            let status = format!(
                "last poll {}: {} ok, {} not modified, {} failed; {} new",
                self.clock.now().format("%H:%M:%S UTC"),
                summary.ok,
                summary.not_modified,
                summary.failed,
                summary.counts.new
            );
            let _ = sd_notify::notify(&[NotifyState::Status(&status)]);
        }
        if let Err(e) = &done.upkeep {
            self.round_failed(format!(
                "pruning or indexing after a poll round failed: {e}"
            ));
        } else if !summary.panicked.is_empty() {
            self.round_failed(format!(
                "the poll of {} panicked (a bug; see the log)",
                summary.panicked.join(", ")
            ));
        } else if self.problems.round.take().is_some() {
            tracing::info!("poll round succeeded; no longer degraded");
            self.publish_problems();
        }
    }
}
