//! One source, one poll: fetch -> parse -> identify -> categorize -> store, top to
//! bottom.
//! Whatever fails is recorded on the source's row; nothing here ends the process.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

use crate::categorize::{Categorizer, Verdict};
use crate::fetch::{FetchOutcome, Fetcher};
use crate::identity::identify;
use crate::model::{IdentifiedItem, Source};
use crate::parse::parse_feed;
use crate::schedule::next_fetch;
use crate::store::{PollRecord, PollResult, SourceState, StoreCounts, StoreError, Writer};

/// What the poll round needs to poll any source.
#[derive(Clone)]
pub struct PollContext {
    pub fetcher: Fetcher,
    pub writer: Writer,
    /// the `[poll] schedule` used by sources without their own
    pub default_schedule: String,
    pub categorizer: Arc<Categorizer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Fetched,
    NotModified,
    Failed,
}

/// How polling one source went.
#[derive(Debug, Clone)]
pub struct SourceReport {
    pub name: String,
    pub outcome: Outcome,
    pub status: Option<u16>,
    pub counts: StoreCounts,
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

/// Gives each item its categories; returns the kept items and the keys of the
/// dropped ones.
fn categorize(
    categorizer: &Categorizer,
    source: &Source,
    items: Vec<IdentifiedItem>,
) -> (Vec<IdentifiedItem>, Vec<String>) {
    let mut kept = Vec::with_capacity(items.len());
    let mut dropped = Vec::new();
    for mut identified in items {
        match categorizer.categorize(source, &identified.item) {
            Verdict::Keep(categories) => {
                identified.item.categories = categories;
                kept.push(identified);
            }
            Verdict::Drop => {
                tracing::debug!(source = %source.name, key = %identified.key, "dropped by a rule");
                dropped.push(identified.key);
            }
        }
    }
    (kept, dropped)
}

/// Polls `source` once and stores the result. Only a database failure is an
/// error here; a feed's own failure is part of the report.
pub async fn poll_source(
    ctx: &PollContext,
    source: &Source,
    state: &SourceState,
) -> Result<SourceReport, StoreError> {
    let started = Instant::now();
    let at = Utc::now();
    let result = match ctx.fetcher.fetch(&state.fetch_url, &state.validators).await {
        Ok(FetchOutcome::NotModified { meta }) => PollResult::NotModified {
            status: meta.status,
            validators: meta.validators,
        },
        Ok(FetchOutcome::Fetched { body, meta }) => {
            let url = meta.final_url.clone();
            let categorizer = ctx.categorizer.clone();
            let source = source.clone();
            // Parsing is CPU work: off the async threads, so other downloads go on.
            let parsed = tokio::task::spawn_blocking(move || {
                parse_feed(&body, &url).map(|mut feed| {
                    let items = identify(std::mem::take(&mut feed.items), source.identity);
                    let (items, dropped) = categorize(&categorizer, &source, items);
                    (feed, items, dropped)
                })
            })
            .await
            .expect("parse task does not panic: parse_feed catches feed-rs panics");
            match parsed {
                Ok((feed, items, dropped)) => PollResult::Fetched {
                    status: meta.status,
                    validators: meta.validators,
                    feed_title: feed.title,
                    feed_link: feed.link,
                    items,
                    dropped,
                },
                Err(e) => PollResult::Failed {
                    status: Some(meta.status),
                    error: e.to_string(),
                },
            }
        }
        Err(e) => PollResult::Failed {
            status: e.status(),
            error: e.to_string(),
        },
    };
    let (outcome, status, error) = match &result {
        PollResult::Fetched { status, .. } => (Outcome::Fetched, Some(*status), None),
        PollResult::NotModified { status, .. } => (Outcome::NotModified, Some(*status), None),
        PollResult::Failed { status, error } => (Outcome::Failed, *status, Some(error.clone())),
    };
    let errors = match outcome {
        Outcome::Failed => state.consecutive_errors + 1,
        _ => 0,
    };
    let schedule = source.schedule.as_deref().unwrap_or(&ctx.default_schedule);
    let next_fetch_at = next_fetch(schedule, at, errors, &source.name);
    let counts = ctx
        .writer
        .record(PollRecord {
            source_id: state.id,
            at,
            next_fetch_at,
            result,
        })
        .await?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let next_fetch_s = (next_fetch_at - Utc::now()).num_seconds();
    match &error {
        Some(e) => tracing::warn!(
            source = %source.name, url = %state.fetch_url, status, error = %e,
            elapsed_ms, next_fetch_s, "poll failed"
        ),
        None => tracing::info!(
            source = %source.name, status, new_items = counts.new,
            updated_items = counts.updated, folded = counts.folded, elapsed_ms, next_fetch_s,
            "polled"
        ),
    }
    Ok(SourceReport {
        name: source.name.clone(),
        outcome,
        status,
        counts,
        error,
        elapsed_ms,
    })
}
