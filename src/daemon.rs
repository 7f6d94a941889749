//! `tributary run`: the HTTP server and the poller over one database until
//! SIGTERM or SIGINT. Cron jobs (tokio-cron-scheduler) only wake the poller; which
//! sources are due is decided by the next-fetch times kept in SQLite, so
//! politeness survives restarts. SIGHUP re-reads the config, keeping the old one
//! when the new one is invalid. Under systemd it reports READY, STATUS and, while
//! the database answers, WATCHDOG. Nothing that goes wrong in a round or a reload
//! ends the daemon: it is logged, counted in `/metrics`, shown as the degraded
//! reason on `/healthz`, and the next tick tries again while serving goes on.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use sd_notify::NotifyState;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinError, JoinHandle};
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::cli::load_config;
use crate::config::{Config, ConfigError};
use crate::metrics::Metrics;
use crate::model::Source;
use crate::pipeline::PollContext;
use crate::schedule::{RoundSummary, parse_cron, poll_round};
use crate::server::{AppState, Settings, serve};
use crate::store::{FoldPolicy, SourceState, Store, StoreError, Writer};

/// A source whose next fetch is at most this far ahead is due at a tick: cron
/// ticks and stored times may differ by a few milliseconds.
const DUE_SLACK: Duration = Duration::from_millis(250);
/// What went wrong when the `[poll]` settings cannot be put to work (a
/// `user_agent` that is no valid header value passes the config check).
const SETUP_FAILED: &str =
    "cannot set up fetching with the [poll] settings (is user_agent a valid HTTP header value?)";
/// Longest random-looking delay spreading a scheduled round's requests.
const MAX_SPREAD: Duration = Duration::from_secs(10);

pub async fn run(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = match load_config(config_path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    // Opening an up-to-date database writes nothing, so a full disk does not
    // keep the daemon from serving what it has. Sources are brought in step
    // with the config by each round, which reports and retries a failure.
    let mut store = Store::open(&config.storage.database)?;
    store.set_fold_policy(FoldPolicy::from(&config.dedup));
    let (writer, writer_thread) = Writer::spawn(store);
    let metrics = Arc::new(Metrics::default());
    let ctx = PollContext::new(&config, writer, Some(metrics.clone())).context(SETUP_FAILED)?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    let state = AppState::new(
        &config.storage.database,
        Settings::from(&config),
        metrics.clone(),
        Some(ctx.writer.clone()),
    )?;
    let (stop_server, server_stopped) = watch::channel(false);
    let server = tokio::spawn(serve(listener, state.clone(), async move {
        let mut rx = server_stopped;
        let _ = rx.wait_for(|stop| *stop).await;
    }));
    println!(
        "tributary: serving the merged feed at http://{addr}/feed.atom (river page: http://{addr}/)"
    );
    let _ = sd_notify::notify(&[NotifyState::Ready]);

    let mut daemon = Daemon::new(config_path.to_path_buf(), config, ctx, metrics, state).await?;
    let result = daemon.run().await;

    let _ = sd_notify::notify(&[NotifyState::Stopping]);
    drop(daemon);
    // The server stops first: it may hold a handle to the writer.
    let _ = stop_server.send(true);
    let served = server.await;
    // Every handle to the writer is gone: it finishes what was handed to it.
    tokio::task::spawn_blocking(move || writer_thread.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the database writer failed"))?;
    served??;
    result?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

type Round = JoinHandle<Result<RoundDone, RoundError>>;

/// What a round works with, taken from the config when it starts.
struct RoundPlan {
    sources: Vec<Source>,
    concurrency: usize,
    per_host: usize,
    spread: Duration,
    retention: Duration,
    keep_per_source: u32,
}

/// What a finished round did.
struct RoundDone {
    summary: RoundSummary,
    /// items pruned and indexed after the polls, or why that failed
    upkeep: Result<(u64, u64), StoreError>,
}

#[derive(Debug, thiserror::Error)]
enum RoundError {
    #[error("cannot start a poll round: {0}")]
    Start(StoreError),
    #[error("poll round stopped: {0}")]
    Poll(StoreError),
}

/// One round: sources brought in step with the config, the due ones polled,
/// then retention and the search index. It runs as a task of its own, so the
/// daemon's loop never waits for the database: signals and the watchdog are
/// answered whatever the database does.
async fn run_round(ctx: PollContext, plan: RoundPlan) -> Result<RoundDone, RoundError> {
    let writer = ctx.writer.clone();
    let sources = plan.sources.clone();
    let states = writer
        .with_store(move |store| {
            store.check_file()?;
            store.sync_sources(&sources)
        })
        .await
        .and_then(|states| states)
        .map_err(RoundError::Start)?;
    let due_by = Utc::now() + DUE_SLACK;
    let jobs: Vec<(Source, SourceState)> = plan
        .sources
        .into_iter()
        .zip(states)
        .filter(|(_, s)| !s.disabled && s.next_fetch_at.is_none_or(|t| t <= due_by))
        .collect();
    tracing::debug!(due = jobs.len(), "poll round");
    let summary = poll_round(
        ctx,
        jobs,
        plan.concurrency,
        plan.per_host,
        plan.spread,
        |_| {},
    )
    .await
    .map_err(RoundError::Poll)?;
    let upkeep = upkeep(&writer, plan.retention, plan.keep_per_source).await;
    Ok(RoundDone { summary, upkeep })
}

/// Retention, then the search index a batch per job, so polls stored meanwhile
/// are not held up behind a large backlog and a stop need not wait for it.
async fn upkeep(writer: &Writer, retention: Duration, keep: u32) -> Result<(u64, u64), StoreError> {
    let pruned = writer
        .with_store(move |s| s.prune_past_retention(retention, keep, Utc::now()))
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

struct Daemon {
    config_path: PathBuf,
    config: Config,
    ctx: PollContext,
    metrics: Arc<Metrics>,
    server: Arc<AppState>,
    scheduler: JobScheduler,
    jobs: Vec<uuid::Uuid>,
    ticks_tx: mpsc::Sender<()>,
    ticks: mpsc::Receiver<()>,
    problems: Problems,
}

/// Why the daemon is degraded, by kind; `/healthz` shows them together.
#[derive(Default)]
struct Problems {
    /// the last round failed; cleared by a round that succeeds
    round: Option<String>,
    /// the config file holds a change that was rejected, so what runs is not
    /// what the file says; cleared by a reload that is taken
    reload: Option<String>,
}

impl Daemon {
    async fn new(
        config_path: PathBuf,
        config: Config,
        ctx: PollContext,
        metrics: Arc<Metrics>,
        server: Arc<AppState>,
    ) -> anyhow::Result<Daemon> {
        let scheduler = JobScheduler::new().await?;
        // A tick that comes while one waits is the same tick.
        let (ticks_tx, ticks) = mpsc::channel(1);
        Ok(Daemon {
            config_path,
            config,
            ctx,
            metrics,
            server,
            scheduler,
            jobs: Vec::new(),
            ticks_tx,
            ticks,
            problems: Problems::default(),
        })
    }

    /// Polls what is due now, then on every tick, until SIGTERM or SIGINT.
    /// Only a failure to set up (signals, the scheduler) ends it early.
    async fn run(&mut self) -> anyhow::Result<()> {
        let jobs = self.cron_jobs(&self.config)?;
        self.replace_jobs(jobs).await?;
        self.scheduler.start().await?;
        let mut hup = signal(SignalKind::hangup())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let watchdog_every = sd_notify::watchdog_enabled().map(|d| d / 2);
        let mut watchdog =
            tokio::time::interval(watchdog_every.unwrap_or(Duration::from_secs(3600)));
        let mut round: Option<Round> = Some(self.start_round(Duration::ZERO));
        let mut again = false;
        loop {
            tokio::select! {
                Some(()) = self.ticks.recv() => {
                    if round.is_some() {
                        again = true;
                    } else {
                        round = Some(self.start_round(self.spread()));
                    }
                }
                finished = async { round.as_mut().expect("guarded by the if").await }, if round.is_some() => {
                    round = None;
                    self.after_round(finished);
                    if std::mem::take(&mut again) {
                        round = Some(self.start_round(self.spread()));
                    }
                }
                _ = hup.recv() => {
                    if self.reload().await {
                        let _ = self.ticks_tx.try_send(());
                    }
                }
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = watchdog.tick(), if watchdog_every.is_some() => {
                    // Only a database that answers keeps systemd from restarting us.
                    if self.server.database_answers() {
                        let _ = sd_notify::notify(&[NotifyState::Watchdog]);
                    } else {
                        tracing::error!("database does not answer; watchdog not fed");
                    }
                }
            }
        }
        tracing::info!("stopping: no new fetches; stored results are kept");
        let _ = self.scheduler.shutdown().await;
        if let Some(round) = round {
            // Results already handed to the writer are committed; the rest are
            // fetched again next time.
            round.abort();
            let _ = round.await;
        }
        Ok(())
    }

    /// One cron job per distinct schedule of `config`; each only wakes the
    /// poller. Building them checks every schedule before any is used.
    fn cron_jobs(&self, config: &Config) -> anyhow::Result<Vec<Job>> {
        let mut schedules = vec![config.poll.schedule.clone()];
        for s in config.sources.iter().filter_map(|s| s.schedule.clone()) {
            if !schedules.contains(&s) {
                schedules.push(s);
            }
        }
        schedules
            .into_iter()
            .map(|schedule| {
                let tx = self.ticks_tx.clone();
                Job::new_async(schedule.as_str(), move |_, _| {
                    let tx = tx.clone();
                    Box::pin(async move {
                        let _ = tx.try_send(());
                    })
                })
                .with_context(|| format!("cannot schedule {schedule:?}"))
            })
            .collect()
    }

    /// Puts `jobs` in place of the running ones. When one cannot be added, the
    /// running ones stay.
    async fn replace_jobs(&mut self, jobs: Vec<Job>) -> anyhow::Result<()> {
        let mut added = Vec::with_capacity(jobs.len());
        for job in jobs {
            match self.scheduler.add(job).await {
                Ok(id) => added.push(id),
                Err(e) => {
                    for id in added {
                        let _ = self.scheduler.remove(&id).await;
                    }
                    return Err(e).context("cannot schedule the polls");
                }
            }
        }
        for id in std::mem::replace(&mut self.jobs, added) {
            if let Err(e) = self.scheduler.remove(&id).await {
                // A leftover job only wakes the poller more often; what is due
                // is decided by the stored times.
                tracing::warn!(error = %e, "cannot remove an old schedule");
            }
        }
        Ok(())
    }

    /// Starts a round with the current config.
    fn start_round(&self, spread: Duration) -> Round {
        let plan = RoundPlan {
            sources: self.config.sources.clone(),
            concurrency: self.config.poll.concurrency,
            per_host: self.config.poll.per_host,
            spread,
            retention: self.config.storage.retention,
            keep_per_source: self.config.storage.keep_per_source,
        };
        tokio::spawn(run_round(self.ctx.clone(), plan))
    }

    /// Reports a finished round; a failed one makes the daemon degraded until
    /// one succeeds.
    fn after_round(&mut self, finished: Result<Result<RoundDone, RoundError>, JoinError>) {
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
                Utc::now().format("%H:%M:%S UTC"),
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

    fn round_failed(&mut self, reason: String) {
        tracing::error!(error = %reason, "poll round failed; retrying on the next tick");
        self.metrics.round_failed();
        self.problems.round = Some(reason);
        self.publish_problems();
    }

    /// Shows the current problems on `/healthz` (and in systemd's status).
    fn publish_problems(&self) {
        let problems: Vec<&str> = [&self.problems.round, &self.problems.reload]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if problems.is_empty() {
            self.metrics.clear_problem();
        } else {
            let problem = problems.join("; ");
            let _ = sd_notify::notify(&[NotifyState::Status(&format!("degraded: {problem}"))]);
            self.metrics.set_problem(problem);
        }
    }

    /// Re-reads the config. One that is invalid, or cannot be put in place, is
    /// logged and the old one kept. Returns whether the new one was taken.
    async fn reload(&mut self) -> bool {
        if let Ok(now) = NotifyState::monotonic_usec_now() {
            let _ = sd_notify::notify(&[NotifyState::Reloading, now]);
        }
        let outcome = match Config::load(&self.config_path) {
            Err(ConfigError::Invalid { problems, path }) => {
                for p in &problems {
                    tracing::error!("{}:{}:{}: {}", path.display(), p.line, p.column, p.message);
                }
                Err(format!("the new config has {} problem(s)", problems.len()))
            }
            Err(e) => Err(e.to_string()),
            Ok(config) => self.apply(config).await.map_err(|e| format!("{e:#}")),
        };
        let taken = match outcome {
            Ok(()) => {
                self.metrics.reload_succeeded();
                self.problems.reload = None;
                true
            }
            Err(why) => {
                tracing::error!(error = %why, "new config rejected; keeping the old one");
                self.metrics.reload_failed();
                self.problems.reload = Some(format!(
                    "config reload rejected ({why}); the previous config is still in use"
                ));
                false
            }
        };
        self.publish_problems();
        let _ = sd_notify::notify(&[NotifyState::Ready]);
        taken
    }

    /// Puts `config` in place. Whatever can fail is built first, so a config
    /// that fails leaves the running one whole.
    async fn apply(&mut self, config: Config) -> anyhow::Result<()> {
        let ctx = PollContext::new(&config, self.ctx.writer.clone(), self.ctx.metrics.clone())
            .context(SETUP_FAILED)?;
        let jobs = self.cron_jobs(&config)?;
        self.replace_jobs(jobs).await?;
        if config.storage.database != self.config.storage.database {
            tracing::warn!("storage.database changed; it takes effect on restart");
        }
        if config.server.listen != self.config.server.listen {
            tracing::warn!("server.listen changed; it takes effect on restart");
        }
        let fold = FoldPolicy::from(&config.dedup);
        let writer = self.ctx.writer.clone();
        // Not waited for: the writer may be busy, and the loop must not be.
        tokio::spawn(async move {
            if let Err(e) = writer.with_store(move |s| s.set_fold_policy(fold)).await {
                tracing::error!(error = %e, "cannot change how stories are folded");
            }
        });
        self.ctx = ctx;
        self.server.set_settings(Settings::from(&config));
        let before = self.config.sources.len();
        self.config = config;
        tracing::info!(
            sources = self.config.sources.len(),
            before,
            "config reloaded"
        );
        Ok(())
    }

    /// How far a scheduled round's requests are spread: a quarter of the main
    /// schedule's period, at most ten seconds.
    fn spread(&self) -> Duration {
        let Ok(cron) = parse_cron(&self.config.poll.schedule) else {
            return Duration::ZERO;
        };
        let now = Utc::now();
        let period = cron
            .find_next_occurrence(&now, false)
            .and_then(|a| Ok((a, cron.find_next_occurrence(&a, false)?)))
            .ok()
            .and_then(|(a, b)| (b - a).to_std().ok())
            .unwrap_or_default();
        (period / 4).min(MAX_SPREAD)
    }
}
