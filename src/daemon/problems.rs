//! Why the daemon is degraded: a failed round, a rejected reload. `/healthz`
//! and systemd's status show them together until they clear.

use sd_notify::NotifyState;

use super::Daemon;

/// Why the daemon is degraded, by kind; `/healthz` shows them together.
#[derive(Default)]
pub(super) struct Problems {
    /// the last round failed; cleared by a round that succeeds
    pub(super) round: Option<String>,
    /// the config file holds a change that was rejected, so what runs is not
    /// what the file says; cleared by a reload that is taken
    pub(super) reload: Option<String>,
}

impl Daemon {
    /// A round failed: logged, counted, and the daemon degraded until a round
    /// succeeds.
    pub(super) fn round_failed(&mut self, reason: String) {
        tracing::error!(error = %reason, "poll round failed; retrying on the next tick");
        self.metrics.round_failed();
        self.problems.round = Some(reason);
        self.publish_problems();
    }

    /// Shows the current problems on `/healthz` (and in systemd's status).
    pub(super) fn publish_problems(&self) {
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
}
