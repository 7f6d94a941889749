//! `tributary run`: the HTTP server over the database, until SIGTERM or SIGINT.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::cli::load_config;
use crate::metrics::Metrics;
use crate::server::{AppState, Settings, serve};
use crate::store::Store;

pub async fn run(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = match load_config(config_path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let mut store = Store::open(&config.storage.database)?;
    store.sync_sources(&config.sources)?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    println!(
        "tributary: serving the merged feed at http://{addr}/feed.atom (river page: http://{addr}/)"
    );
    let state = AppState::new(store, Settings::from(&config), Arc::new(Metrics::default()));
    serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("stopping");
}
