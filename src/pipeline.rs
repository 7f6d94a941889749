//! One source, one poll: fetch -> parse -> identify -> categorize -> schedule the
//! next fetch -> store, top to bottom. Whatever fails is recorded on the source's
//! row; nothing here ends the process.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::categorize::{Categorizer, Verdict};
use crate::clock::Clock;
use crate::discover::discover_feeds;
use crate::fetch::{FetchError, FetchOutcome, Fetcher, ResponseMeta};
use crate::identity::identify;
use crate::metrics::{Metrics, Outcome, SourceReport};
use crate::model::Validators;
use crate::model::{Feed, IdentifiedItem, Source};
use crate::parse::{ParseError, parse_feed};
use crate::politeness::{Politeness, next_fetch};
use crate::redact::shown_url;
use crate::store::{PollRecord, PollResult, SourceState, StoreError, Writer};

/// What the poll round needs to poll any source.
#[derive(Clone)]
pub struct PollContext {
    pub fetcher: Fetcher,
    pub writer: Writer,
    /// the `[poll] schedule` used by sources without their own
    pub default_schedule: String,
    pub categorizer: Arc<Categorizer>,
    /// consecutive errors after which a source is disabled; 0 = never
    pub max_errors_before_disable: u32,
    /// counts every poll when the daemon runs
    pub metrics: Option<Arc<Metrics>>,
    /// the time of day polls are stamped with and wait on
    pub clock: Clock,
}

impl PollContext {
    /// Everything a poll needs, from the config.
    pub fn new(
        config: &crate::config::Config,
        writer: Writer,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<PollContext, FetchError> {
        Ok(PollContext {
            fetcher: Fetcher::new(&config.poll.fetch_settings())?,
            writer,
            default_schedule: config.poll.schedule.clone(),
            categorizer: Arc::new(Categorizer::new(config.rules.clone())),
            max_errors_before_disable: config.poll.max_errors_before_disable,
            metrics,
            clock: Clock::System,
        })
    }
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

/// Polls `source` once for the tick `served` and stores the result, with the
/// next fetch counted from that tick. Only a database failure is an error
/// here; a feed's own failure is part of the report.
pub async fn poll_source(
    ctx: &PollContext,
    source: &Source,
    state: &SourceState,
    served: DateTime<Utc>,
) -> Result<SourceReport, StoreError> {
    let started = Instant::now();
    let at = ctx.clock.now();
    let mut hints = Politeness {
        ttl_minutes: state.ttl_minutes,
        skip_hours: state.skip_hours.clone(),
        skip_days: state.skip_days.clone(),
        ..Politeness::default()
    };
    let mut moved_to = None;
    let fetched = ctx
        .fetcher
        .fetch_source(&source.url, &state.fetch_url, &state.validators)
        .await;
    let result = match fetched {
        Ok(FetchOutcome::NotModified { meta }) => {
            hints.fresh_for = meta.fresh_for;
            moved_to = meta.moved_to;
            PollResult::NotModified {
                status: meta.status,
                validators: meta.validators,
            }
        }
        Ok(FetchOutcome::Fetched { body, meta }) => {
            hints.fresh_for = meta.fresh_for;
            moved_to = meta.moved_to.clone();
            match read_feed(ctx, source, body, &meta).await {
                Ok(Found {
                    feed,
                    items,
                    dropped,
                    found_at,
                }) => {
                    moved_to = found_at.or(moved_to);
                    hints.ttl_minutes = feed.ttl;
                    hints.skip_hours = feed.skip_hours.clone();
                    hints.skip_days = feed.skip_days.clone();
                    PollResult::Fetched {
                        status: meta.status,
                        validators: meta.validators,
                        feed_title: feed.title,
                        feed_link: feed.link,
                        items,
                        dropped,
                        ttl_minutes: feed.ttl,
                        skip_hours: feed.skip_hours,
                        skip_days: feed.skip_days,
                    }
                }
                Err(error) => PollResult::Failed {
                    status: Some(meta.status),
                    error,
                    disable: false,
                },
            }
        }
        Err(e) => {
            if let FetchError::Status { retry_after, .. } = &e {
                hints.retry_after = *retry_after;
            }
            PollResult::Failed {
                status: e.status(),
                error: e.to_string(),
                disable: false,
            }
        }
    };
    let errors = match result {
        PollResult::Failed { .. } => state.consecutive_errors + 1,
        _ => 0,
    };
    let result = match result {
        PollResult::Failed { status, error, .. } => {
            let gone = status == Some(410);
            let worn_out =
                ctx.max_errors_before_disable > 0 && errors >= ctx.max_errors_before_disable;
            if gone || worn_out {
                tracing::warn!(source = %source.name, status, error = %error, "source disabled");
            }
            PollResult::Failed {
                status,
                error: if gone {
                    format!("{error} (gone: source disabled)")
                } else {
                    error
                },
                disable: gone || worn_out,
            }
        }
        other => other,
    };
    if let Some(url) = &moved_to {
        tracing::info!(source = %source.name, url = %shown_url(&state.fetch_url), to = %shown_url(url), "feed moved; fetching from the new address from now on");
    }
    let (outcome, status, error) = match &result {
        PollResult::Fetched { status, .. } => (Outcome::Fetched, Some(*status), None),
        PollResult::NotModified { status, .. } => (Outcome::NotModified, Some(*status), None),
        PollResult::Failed { status, error, .. } => (Outcome::Failed, *status, Some(error.clone())),
    };
    let schedule = source.schedule.as_deref().unwrap_or(&ctx.default_schedule);
    let next_fetch_at = next_fetch(schedule, served, errors, &source.name, &hints);
    let counts = ctx
        .writer
        .record(PollRecord {
            source_id: state.id,
            at,
            next_fetch_at,
            moved_to: moved_to.map(String::from),
            result,
        })
        .await?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let next_fetch_s = (next_fetch_at - ctx.clock.now()).num_seconds();
    match &error {
        Some(e) => tracing::warn!(
            source = %source.name, url = %shown_url(&state.fetch_url), status, error = %e,
            elapsed_ms, next_fetch_s, "poll failed"
        ),
        None => tracing::info!(
            source = %source.name, status, new_items = counts.new,
            updated_items = counts.updated, folded = counts.folded, elapsed_ms, next_fetch_s,
            "polled"
        ),
    }
    let report = SourceReport {
        name: source.name.clone(),
        outcome,
        status,
        counts,
        error,
        elapsed_ms,
    };
    if let Some(metrics) = &ctx.metrics {
        metrics.record(&report);
    }
    Ok(report)
}

/// A document read as a feed, its items identified and categorized.
struct Found {
    feed: Feed,
    items: Vec<IdentifiedItem>,
    dropped: Vec<String>,
    /// the feed's own address, when `body` was an HTML page that linked to it
    found_at: Option<url::Url>,
}

/// Why a body yielded no feed.
enum Unread {
    Parse(ParseError),
    /// an HTML page, with the feeds it links to
    Page(Vec<url::Url>),
}

/// Parses `body`; an HTML page that announces a feed (`<link rel="alternate">`)
/// is followed to that feed once. Errors come back as the text to record.
async fn read_feed(
    ctx: &PollContext,
    source: &Source,
    body: Vec<u8>,
    meta: &ResponseMeta,
) -> Result<Found, String> {
    let links = match parse_on_worker(ctx, source, body, meta.final_url.clone()).await {
        Ok(found) => return Ok(found),
        Err(Unread::Parse(e)) => return Err(e.to_string()),
        Err(Unread::Page(links)) => links,
    };
    let Some(feed_url) = links.into_iter().next() else {
        return Err(format!("{} and links no feed", ParseError::Html));
    };
    tracing::debug!(source = %source.name, page = %shown_url(&meta.final_url), feed = %shown_url(&feed_url), "following the page's feed link");
    let (body, url) = match ctx.fetcher.fetch(&feed_url, &Validators::default()).await {
        Ok(FetchOutcome::Fetched { body, meta }) => (body, meta.final_url),
        Ok(FetchOutcome::NotModified { .. }) => {
            return Err(format!(
                "the page links {feed_url}, which answered 304 to a plain request"
            ));
        }
        Err(e) => {
            return Err(format!(
                "the page links {}, which failed: {e}",
                shown_url(&feed_url)
            ));
        }
    };
    match parse_on_worker(ctx, source, body, url).await {
        Ok(found) => Ok(Found {
            found_at: Some(feed_url),
            ..found
        }),
        Err(Unread::Parse(e)) => Err(format!(
            "the page links {}, which is {e}",
            shown_url(&feed_url)
        )),
        Err(Unread::Page(_)) => Err(format!(
            "the page links {}, which is another page",
            shown_url(&feed_url)
        )),
    }
}

/// Parsing is CPU work: it runs off the async threads, so other downloads go on.
async fn parse_on_worker(
    ctx: &PollContext,
    source: &Source,
    body: Vec<u8>,
    url: url::Url,
) -> Result<Found, Unread> {
    let categorizer = ctx.categorizer.clone();
    let source = source.clone();
    tokio::task::spawn_blocking(move || {
        let mut feed = match parse_feed(&body, &url) {
            Ok(feed) => feed,
            Err(ParseError::Html) => return Err(Unread::Page(discover_feeds(&body, &url))),
            Err(e) => return Err(Unread::Parse(e)),
        };
        let items = identify(std::mem::take(&mut feed.items), source.identity);
        let (items, dropped) = categorize(&categorizer, &source, items);
        Ok(Found {
            feed,
            items,
            dropped,
            found_at: None,
        })
    })
    .await
    .expect("parse task does not panic: parse_feed catches feed-rs panics")
}
