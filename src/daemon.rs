//! `tributary run`: the HTTP server and the poller over one database until
//! SIGTERM or SIGINT. A ticker derived from the cron schedules wakes the
//! poller at each tick; the round knows the tick it serves, and which sources
//! are due is decided by the next-fetch times kept in SQLite, so politeness
//! survives restarts. SIGHUP re-reads the config, keeping the old one when the
//! new one is invalid. Under systemd it reports READY, STATUS and, while the
//! database answers, WATCHDOG. Nothing that goes wrong in a round or a reload
//! ends the daemon: it is logged, counted in `/metrics`, shown as the degraded
//! reason on `/healthz`, and the next tick tries again while serving goes on.
//!
//! [`run`] is the process: signals in, exit code out. [`run_with`] is the
//! daemon itself, driven by a control channel and a [`Clock`], so tests can run
//! it in-process, a day of ticks at a time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sd_notify::NotifyState;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinError, JoinHandle};

use crate::clock::Schedules;
use crate::clock::{Clock, Tick, Ticker};
use crate::config::{Config, ConfigError};
use crate::metrics::Metrics;
use crate::model::Source;
use crate::pipeline::PollContext;
use crate::schedule::{RoundSummary, is_due, poll_round_for};
use crate::server::{AppState, Settings, serve};
use crate::store::{FoldPolicy, SourceState, StoreError, Writer};

/// What went wrong when the `[poll]` settings cannot be put to work (a
/// `user_agent` that is no valid header value passes the config check).
const SETUP_FAILED: &str =
    "cannot set up fetching with the [poll] settings (is user_agent a valid HTTP header value?)";

/// What the daemon is told from outside while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// re-read the config file (SIGHUP)
    Reload,
    /// stop polling, finish what is being stored, stop serving (SIGTERM, SIGINT)
    Stop,
}

/// Runs the daemon on `config`, read from `config_path`, until a signal stops it.
pub async fn run(config_path: &Path, config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let (control_tx, control) = mpsc::channel(8);
    forward_signals(control_tx)?;
    run_with(config_path, config, listener, Clock::System, control).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Turns SIGHUP into [`Control::Reload`] and SIGTERM and SIGINT into
/// [`Control::Stop`].
fn forward_signals(control: mpsc::Sender<Control>) -> anyhow::Result<()> {
    let mut hup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    tokio::spawn(async move {
        loop {
            let said = tokio::select! {
                _ = hup.recv() => Control::Reload,
                _ = term.recv() => Control::Stop,
                _ = int.recv() => Control::Stop,
            };
            if control.send(said).await.is_err() {
                return;
            }
        }
    });
    Ok(())
}

/// The daemon: serves on `listener` and polls the sources of `config` (read
/// from `config_path`, which a reload reads again) at the ticks of its
/// schedules as `clock` tells them, until `control` says stop or is closed.
pub async fn run_with(
    config_path: &Path,
    config: Config,
    listener: TcpListener,
    clock: Clock,
    control: mpsc::Receiver<Control>,
) -> anyhow::Result<()> {
    // Opening an up-to-date database writes nothing, so a full disk does not
    // keep the daemon from serving what it has. Sources are brought in step
    // with the config by each round, which reports and retries a failure.
    let mut store = crate::store::open(&config.storage.database)?;
    store.set_fold_policy(FoldPolicy::from(&config.dedup));
    let (writer, writer_thread) = Writer::spawn(store);
    let metrics = Arc::new(Metrics::default());
    let mut ctx = PollContext::new(&config, writer, Some(metrics.clone())).context(SETUP_FAILED)?;
    ctx.clock = clock.clone();
    let addr = listener.local_addr()?;
    let state = AppState::new(
        &config.storage.database,
        settings_at(&config, addr),
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

    let result = match Daemon::new(config_path.to_path_buf(), config, ctx, metrics, state, addr) {
        Ok(mut daemon) => {
            daemon.run(control).await;
            Ok(())
        }
        Err(e) => Err(e),
    };

    let _ = sd_notify::notify(&[NotifyState::Stopping]);
    // The server stops first: it may hold a handle to the writer.
    let _ = stop_server.send(true);
    let served = server.await;
    // Every handle to the writer is gone: it finishes what was handed to it.
    tokio::task::spawn_blocking(move || writer_thread.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the database writer failed"))?;
    served??;
    result
}

type Round = JoinHandle<Result<RoundDone, RoundError>>;

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

/// Every schedule `config` uses: the default one and the sources' own.
fn schedules_of(config: &Config) -> anyhow::Result<Schedules> {
    let own = config.sources.iter().filter_map(|s| s.schedule.as_deref());
    Schedules::new(std::iter::once(config.poll.schedule.as_str()).chain(own))
        .map_err(|(expr, e)| anyhow::anyhow!("cannot schedule {expr:?}: {e}"))
}

struct Daemon {
    config_path: PathBuf,
    config: Config,
    ctx: PollContext,
    clock: Clock,
    ticker: Ticker,
    metrics: Arc<Metrics>,
    server: Arc<AppState>,
    /// where the server listens, for links when `base_url` is not set
    addr: SocketAddr,
    problems: Problems,
}

/// The server's settings from `config`, links built on `addr` (the address
/// bound, whose port `listen` may leave to the system) unless `base_url` is set.
fn settings_at(config: &Config, addr: SocketAddr) -> Settings {
    let mut settings = Settings::from(config);
    settings.base_url = config.server.base_url_for(addr);
    settings
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

/// The round running, and what the next one is to serve when it waits for the
/// running one to end.
#[derive(Default)]
struct Rounds {
    running: Option<Round>,
    waiting: Option<Waiting>,
}

#[derive(Clone, Copy)]
struct Waiting {
    served: DateTime<Utc>,
    /// whether `served` is a tick (else the moment of a reload)
    tick: bool,
}

impl Daemon {
    fn new(
        config_path: PathBuf,
        config: Config,
        ctx: PollContext,
        metrics: Arc<Metrics>,
        server: Arc<AppState>,
        addr: SocketAddr,
    ) -> anyhow::Result<Daemon> {
        let clock = ctx.clock.clone();
        let ticker = Ticker::new(schedules_of(&config)?, clock.now());
        Ok(Daemon {
            config_path,
            config,
            ctx,
            clock,
            ticker,
            metrics,
            server,
            addr,
            problems: Problems::default(),
        })
    }

    /// Polls what is due now, then at every tick, until told to stop.
    async fn run(&mut self, mut control: tokio::sync::mpsc::Receiver<Control>) {
        let watchdog_every = sd_notify::watchdog_enabled().map(|d| d / 2);
        let mut watchdog =
            tokio::time::interval(watchdog_every.unwrap_or(Duration::from_secs(3600)));
        let mut rounds = Rounds::default();
        let now = self.clock.now();
        self.poll_for(now, &mut rounds);
        loop {
            tokio::select! {
                tick = self.ticker.next(&self.clock) => self.on_tick(tick, &mut rounds),
                finished = async { rounds.running.as_mut().expect("guarded by the if").await }, if rounds.running.is_some() => {
                    rounds.running = None;
                    self.after_round(finished);
                    if let Some(next) = rounds.waiting.take() {
                        rounds.running = Some(self.start_round(next.served));
                    }
                }
                said = control.recv() => match said {
                    Some(Control::Reload) => {
                        if self.reload() {
                            // New sources are polled at once, not at the next tick.
                            let now = self.clock.now();
                            self.poll_for(now, &mut rounds);
                        }
                    }
                    Some(Control::Stop) | None => break,
                },
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
        if let Some(round) = rounds.running {
            // Results already handed to the writer are committed; the rest are
            // fetched again next time.
            round.abort();
            let _ = round.await;
        }
    }

    /// A tick came: its round starts, or waits for the running one.
    fn on_tick(&mut self, tick: Tick, rounds: &mut Rounds) {
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
    fn poll_for(&mut self, now: DateTime<Utc>, rounds: &mut Rounds) {
        if rounds.running.is_none() {
            rounds.running = Some(self.start_round(now));
            return;
        }
        let served = rounds.waiting.map_or(now, |w| w.served.max(now));
        let tick = rounds.waiting.is_some_and(|w| w.tick && w.served >= now);
        rounds.waiting = Some(Waiting { served, tick });
    }

    /// Starts the round for `served` with the current config.
    fn start_round(&self, served: DateTime<Utc>) -> Round {
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
    fn reload(&mut self) -> bool {
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
            Ok(config) => self.apply(config).map_err(|e| format!("{e:#}")),
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
    fn apply(&mut self, config: Config) -> anyhow::Result<()> {
        let mut ctx = PollContext::new(&config, self.ctx.writer.clone(), self.ctx.metrics.clone())
            .context(SETUP_FAILED)?;
        ctx.clock = self.clock.clone();
        let schedules = schedules_of(&config)?;
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
        // The ticks go on from the last one served: none twice, none lost.
        self.ticker.set_schedules(schedules);
        self.server.set_settings(settings_at(&config, self.addr));
        let before = self.config.sources.len();
        self.config = config;
        tracing::info!(
            sources = self.config.sources.len(),
            before,
            "config reloaded"
        );
        Ok(())
    }
}
