//! `tributary run`: the daemon on the configured address until a signal stops
//! it. SIGHUP becomes a reload, SIGTERM and SIGINT a stop.

use std::path::Path;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::CliError;
use crate::clock::Clock;
use crate::config::Config;
use crate::daemon::Control;

/// Runs the daemon on the config at `path` until a signal stops it.
pub(super) async fn run_daemon(path: &Path) -> Result<(), CliError> {
    let config = Config::load(path)?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let (control_tx, control) = mpsc::channel(8);
    forward_signals(control_tx)?;
    crate::daemon::run(config, listener, Clock::System, control).await?;
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
