//! The daemon: the HTTP server and the poller over one database until told to
//! stop. A ticker derived from the cron schedules wakes the poller at each
//! tick; the round knows the tick it serves, and which sources are due is
//! decided by the next-fetch times kept in SQLite, so politeness survives
//! restarts. A reload re-reads the config, keeping the old one when the new
//! one is invalid. Under systemd it reports READY, STATUS and, while the
//! database answers, WATCHDOG. Nothing that goes wrong in a round or a reload
//! ends the daemon: it is logged, counted in `/metrics`, shown as the degraded
//! reason on `/healthz`, and the next tick tries again while serving goes on.
//!
//! [`run`] is driven by a control channel and a [`Clock`]: `tributary run`
//! turns signals into [`Control`]s, and tests run it in-process, a day of
//! ticks at a time.

mod problems;
mod reload;
mod round;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sd_notify::NotifyState;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::clock::{Clock, Ticker};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::pipeline::PollContext;
use crate::server::{AppState, Settings, serve};
use crate::store::{FoldPolicy, Writer};

use problems::Problems;
use reload::schedules_of;
use round::Rounds;

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

/// The daemon: serves on `listener` and polls the sources of `config` (which
/// a reload reads again from `config.path`) at the ticks of its schedules as
/// `clock` tells them, until `control` says stop or is closed.
pub async fn run(
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

    let result = match Daemon::new(config, ctx, metrics, state, addr) {
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

/// The server's settings from `config`, links built on `addr` (the address
/// bound, whose port `listen` may leave to the system) unless `base_url` is set.
fn settings_at(config: &Config, addr: SocketAddr) -> Settings {
    let mut settings = Settings::from(config);
    settings.base_url = config.server.base_url_for(addr);
    settings
}

struct Daemon {
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

impl Daemon {
    fn new(
        config: Config,
        ctx: PollContext,
        metrics: Arc<Metrics>,
        server: Arc<AppState>,
        addr: SocketAddr,
    ) -> anyhow::Result<Daemon> {
        let clock = ctx.clock.clone();
        let ticker = Ticker::new(schedules_of(&config)?, clock.now());
        Ok(Daemon {
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
    async fn run(&mut self, mut control: mpsc::Receiver<Control>) {
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
}
