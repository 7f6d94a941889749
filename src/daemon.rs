//! `tributary run`: the HTTP server and the poller over one database until
//! SIGTERM or SIGINT. Cron jobs (tokio-cron-scheduler) only wake the poller; which
//! sources are due is decided by the next-fetch times kept in SQLite, so
//! politeness survives restarts. SIGHUP re-reads the config, keeping the old one
//! when the new one is invalid. Under systemd it reports READY, STATUS and, while
//! the database answers, WATCHDOG.

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
use tokio::task::JoinHandle;
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
/// Longest random-looking delay spreading a scheduled round's requests.
const MAX_SPREAD: Duration = Duration::from_secs(10);

pub async fn run(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = match load_config(config_path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let mut store = Store::open(&config.storage.database)?;
    store.set_fold_policy(FoldPolicy::from(&config.dedup));
    store.sync_sources(&config.sources)?;
    let (writer, writer_thread) = Writer::spawn(store);
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    let metrics = Arc::new(Metrics::default());
    let state = AppState::new(
        &config.storage.database,
        Settings::from(&config),
        metrics.clone(),
        Some(writer.clone()),
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

    let mut daemon = Daemon::new(config_path.to_path_buf(), config, writer, metrics, state).await?;
    let result = daemon.run().await;

    let _ = sd_notify::notify(&[NotifyState::Stopping]);
    drop(daemon);
    // Every handle to the writer is gone: it finishes what was handed to it.
    tokio::task::spawn_blocking(move || writer_thread.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the database writer failed"))?;
    let _ = stop_server.send(true);
    server.await??;
    result?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

struct Daemon {
    config_path: PathBuf,
    config: Config,
    ctx: PollContext,
    server: Arc<AppState>,
    scheduler: JobScheduler,
    jobs: Vec<uuid::Uuid>,
    ticks_tx: mpsc::Sender<()>,
    ticks: mpsc::Receiver<()>,
}

impl Daemon {
    async fn new(
        config_path: PathBuf,
        config: Config,
        writer: Writer,
        metrics: Arc<Metrics>,
        server: Arc<AppState>,
    ) -> anyhow::Result<Daemon> {
        let ctx = PollContext::new(&config, writer, Some(metrics))?;
        let scheduler = JobScheduler::new().await?;
        // A tick that comes while one waits is the same tick.
        let (ticks_tx, ticks) = mpsc::channel(1);
        Ok(Daemon {
            config_path,
            config,
            ctx,
            server,
            scheduler,
            jobs: Vec::new(),
            ticks_tx,
            ticks,
        })
    }

    /// Polls what is due now, then on every tick, until SIGTERM or SIGINT.
    async fn run(&mut self) -> anyhow::Result<()> {
        self.schedule_jobs().await?;
        self.scheduler.start().await?;
        let mut hup = signal(SignalKind::hangup())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let watchdog_every = sd_notify::watchdog_enabled().map(|d| d / 2);
        let mut watchdog =
            tokio::time::interval(watchdog_every.unwrap_or(Duration::from_secs(3600)));
        let mut round: Option<JoinHandle<Result<RoundSummary, StoreError>>> =
            Some(self.start_round(Duration::ZERO).await?);
        let mut again = false;
        loop {
            tokio::select! {
                Some(()) = self.ticks.recv() => {
                    if round.is_some() {
                        again = true;
                    } else {
                        round = Some(self.start_round(self.spread()).await?);
                    }
                }
                finished = async { round.as_mut().expect("guarded by the if").await }, if round.is_some() => {
                    round = None;
                    self.after_round(finished?).await?;
                    if std::mem::take(&mut again) {
                        round = Some(self.start_round(self.spread()).await?);
                    }
                }
                _ = hup.recv() => {
                    if self.reload().await? {
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

    /// One cron job per distinct schedule; each only wakes the poller.
    async fn schedule_jobs(&mut self) -> anyhow::Result<()> {
        for id in self.jobs.drain(..) {
            self.scheduler.remove(&id).await?;
        }
        let mut schedules = vec![self.config.poll.schedule.clone()];
        for s in self
            .config
            .sources
            .iter()
            .filter_map(|s| s.schedule.clone())
        {
            if !schedules.contains(&s) {
                schedules.push(s);
            }
        }
        for schedule in schedules {
            let tx = self.ticks_tx.clone();
            let job = Job::new_async(schedule.as_str(), move |_, _| {
                let tx = tx.clone();
                Box::pin(async move {
                    let _ = tx.try_send(());
                })
            })
            .with_context(|| format!("cannot schedule {schedule:?}"))?;
            self.jobs.push(self.scheduler.add(job).await?);
        }
        Ok(())
    }

    /// Starts a round over the sources that are due.
    async fn start_round(
        &self,
        spread: Duration,
    ) -> anyhow::Result<JoinHandle<Result<RoundSummary, StoreError>>> {
        let sources = self.config.sources.clone();
        let states = self
            .ctx
            .writer
            .with_store(move |store| store.sync_sources(&sources))
            .await??;
        let due_by = Utc::now() + DUE_SLACK;
        let jobs: Vec<(Source, SourceState)> = self
            .config
            .sources
            .iter()
            .cloned()
            .zip(states)
            .filter(|(_, s)| !s.disabled && s.next_fetch_at.is_none_or(|t| t <= due_by))
            .collect();
        tracing::debug!(due = jobs.len(), "poll round");
        let ctx = self.ctx.clone();
        let (concurrency, per_host) = (self.config.poll.concurrency, self.config.poll.per_host);
        Ok(tokio::spawn(async move {
            poll_round(ctx, jobs, concurrency, per_host, spread, |_| {}).await
        }))
    }

    async fn after_round(
        &mut self,
        summary: Result<RoundSummary, StoreError>,
    ) -> anyhow::Result<()> {
        let summary = summary?;
        if let Some(m) = &self.ctx.metrics {
            m.round_done();
        }
        let retention = self.config.storage.retention;
        let keep = self.config.storage.keep_per_source;
        let (pruned, indexed) = self
            .ctx
            .writer
            .with_store(move |store| -> Result<(u64, u64), StoreError> {
                let pruned = store.prune_past_retention(retention, keep, Utc::now())?;
                Ok((pruned, store.index_pending()?))
            })
            .await??;
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
        Ok(())
    }

    /// Re-reads the config. An invalid one is logged and the old one kept.
    /// Returns whether the new one was taken.
    async fn reload(&mut self) -> anyhow::Result<bool> {
        let _ = sd_notify::notify(&[NotifyState::Reloading, NotifyState::monotonic_usec_now()?]);
        let taken = match Config::load(&self.config_path) {
            Err(ConfigError::Invalid { problems, path }) => {
                for p in &problems {
                    tracing::error!("{}:{}:{}: {}", path.display(), p.line, p.column, p.message);
                }
                tracing::error!(
                    problems = problems.len(),
                    "new config rejected; keeping the old one"
                );
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "new config rejected; keeping the old one");
                false
            }
            Ok(config) => {
                self.apply(config).await?;
                true
            }
        };
        let _ = sd_notify::notify(&[NotifyState::Ready]);
        Ok(taken)
    }

    async fn apply(&mut self, config: Config) -> anyhow::Result<()> {
        if config.storage.database != self.config.storage.database {
            tracing::warn!("storage.database changed; it takes effect on restart");
        }
        if config.server.listen != self.config.server.listen {
            tracing::warn!("server.listen changed; it takes effect on restart");
        }
        self.ctx = PollContext::new(&config, self.ctx.writer.clone(), self.ctx.metrics.clone())?;
        let fold = FoldPolicy::from(&config.dedup);
        self.ctx
            .writer
            .with_store(move |s| s.set_fold_policy(fold))
            .await?;
        self.server.set_settings(Settings::from(&config));
        let before = self.config.sources.len();
        self.config = config;
        self.schedule_jobs().await?;
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
