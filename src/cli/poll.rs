//! `tributary poll`: every source (or the named ones) fetched once, what is
//! new stored, retention applied, and a summary printed.

use std::io::{IsTerminal, Write};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use super::database::prune;
use super::{CliError, counted};
use crate::config::Config;
use crate::metrics::Outcome;
use crate::pipeline::PollContext;
use crate::schedule::poll_round;
use crate::store::{FoldPolicy, Writer};

pub(super) async fn poll(path: &Path, names: &[String], json: bool) -> Result<(), CliError> {
    let config = Config::load(path)?;
    if let Some(name) = names
        .iter()
        .find(|name| !config.sources.iter().any(|s| &s.name == *name))
    {
        return Err(CliError::UnknownSource {
            name: name.clone(),
            config: path.to_path_buf(),
        });
    }
    let mut store = crate::store::open(&config.storage.database)?;
    store.set_fold_policy(FoldPolicy::from(&config.dedup));
    store.name_categories(&crate::categorize::configured_labels(
        &config.sources,
        &config.rules,
    ))?;
    let states = store.sync_sources(&config.sources)?;
    let jobs: Vec<_> = config
        .sources
        .iter()
        .cloned()
        .zip(states)
        .filter(|(s, state)| {
            if names.is_empty() {
                // A disabled source is polled only when asked for by name.
                !state.disabled
            } else {
                names.contains(&s.name)
            }
        })
        .collect();
    let (writer, writer_thread) = Writer::spawn(store);
    let ctx = PollContext::new(&config, writer, None)?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(jobs.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .expect("static template is valid"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let summary = poll_round(
        ctx,
        jobs,
        config.poll.concurrency,
        config.poll.per_host,
        std::time::Duration::ZERO,
        |report| {
            bar.inc(1);
            bar.set_message(report.name.clone());
        },
    )
    .await?;
    bar.finish_and_clear();
    let mut store = writer_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the database writer failed"))?;
    prune(&mut *store, &config)?;

    let mut err = std::io::stderr().lock();
    for r in summary
        .reports
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
    {
        writeln!(
            err,
            "failed: {}: {}",
            r.name,
            r.error.as_deref().unwrap_or("?")
        )?;
    }
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", summary.to_json())?;
    } else {
        writeln!(
            out,
            "polled {}: {} ok, {} not modified, {} failed; {} new, {} updated, {} folded in {:.2} s",
            counted(
                summary.ok + summary.not_modified + summary.failed,
                "source",
                "sources"
            ),
            summary.ok,
            summary.not_modified,
            summary.failed,
            summary.counts.new,
            summary.counts.updated,
            summary.counts.folded,
            summary.elapsed_ms as f64 / 1000.0
        )?;
    }
    Ok(())
}
