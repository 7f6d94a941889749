//! Re-reading the config while the daemon runs: a new one is put in place
//! whole, or, when it is invalid or cannot be put to work, logged and the old
//! one kept.

use anyhow::Context;
use sd_notify::NotifyState;

use super::{Daemon, SETUP_FAILED, settings_at};
use crate::clock::Schedules;
use crate::config::{Config, ConfigError};
use crate::pipeline::PollContext;
use crate::store::FoldPolicy;

/// Every schedule `config` uses: the default one and the sources' own.
pub(super) fn schedules_of(config: &Config) -> anyhow::Result<Schedules> {
    let own = config.sources.iter().filter_map(|s| s.schedule.as_deref());
    Schedules::new(std::iter::once(config.poll.schedule.as_str()).chain(own))
        .map_err(|(expr, e)| anyhow::anyhow!("cannot schedule {expr:?}: {e}"))
}

impl Daemon {
    /// Re-reads the config. One that is invalid, or cannot be put in place, is
    /// logged and the old one kept. Returns whether the new one was taken.
    pub(super) fn reload(&mut self) -> bool {
        if let Ok(now) = NotifyState::monotonic_usec_now() {
            let _ = sd_notify::notify(&[NotifyState::Reloading, now]);
        }
        let outcome = match Config::load(&self.config.path) {
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
