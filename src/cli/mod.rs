//! The command line: clap's definitions (`args`), one module per command, and
//! one error type (`error`) that every command fails with and that becomes the
//! exit code: 2 for a bad config or usage, 1 when nothing could run.

mod args;
mod check;
mod database;
mod error;
mod export;
mod inspect;
mod markdown;
mod poll;
mod run;
mod sources;
mod subscriptions;
mod table;

use std::io::Write;
use std::path::PathBuf;

pub use args::{Cli, Command, ExportFormat, LogFormat};
pub use error::CliError;

/// Runs the command `cli` names.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let config_path = cli
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("tributary.toml"));
    match cli.command {
        Command::Poll { sources, json } => poll::poll(&config_path, &sources, json).await,
        Command::Check => check::check(&config_path),
        Command::Inspect { target } => inspect::inspect(&target).await,
        Command::Sources { json } => sources::sources_table(&config_path, json),
        Command::Export {
            format,
            category,
            limit,
            out,
        } => export::export(&config_path, format, category, limit, out),
        Command::Run => run::run_daemon(&config_path).await,
        Command::Add {
            url,
            name,
            categories,
        } => subscriptions::add(&config_path, &url, name, &categories).await,
        Command::ImportOpml { file, write } => {
            subscriptions::import_opml(&config_path, &file, write)
        }
        Command::ExportOpml => export::export_opml(&config_path),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            // Written whole, so a closed pipe is an error returned, not a panic.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "tributary", &mut script);
            std::io::stdout().write_all(&script)?;
            Ok(())
        }
    }
}

/// "1 source", "2 sources".
fn counted(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
