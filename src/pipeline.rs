//! One source, one poll: fetch -> follow a web page to its feed -> parse ->
//! identify -> categorize -> schedule the next fetch -> store, top to bottom.
//! Whatever fails is recorded on the source's row; nothing here ends the
//! process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::OwnedSemaphorePermit;
use url::Url;

use crate::categorize::{Categorizer, Verdict};
use crate::clock::Clock;
use crate::discover::{Found, Unfollowed, follow, read};
use crate::fetch::{FetchError, FetchOutcome, Fetcher, ResponseMeta};
use crate::identity::identify;
use crate::metrics::{Metrics, Outcome, SourceReport};
use crate::model::{Feed, IdentifiedItem, Item, Source};
use crate::parse::ParseError;
use crate::politeness::{Politeness, next_fetch};
use crate::redact::shown_url;
use crate::store::{PollRecord, PollResult, SourceState, StoreError, Writer};

/// What the poll round needs to poll any source.
#[derive(Clone)]
pub(crate) struct PollContext {
    pub(crate) fetcher: Fetcher,
    pub(crate) writer: Writer,
    /// the `[poll] schedule` used by sources without their own
    pub(crate) default_schedule: String,
    pub(crate) categorizer: Arc<Categorizer>,
    /// consecutive errors after which a source is disabled; 0 = never
    pub(crate) max_errors_before_disable: u32,
    /// counts every poll when the daemon runs
    pub(crate) metrics: Option<Arc<Metrics>>,
    /// the time of day polls are stamped with and wait on
    pub(crate) clock: Clock,
}

impl PollContext {
    /// Everything a poll needs, from the config.
    pub(crate) fn new(
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

/// A poll's place among those running at once: its permits from the round's
/// overall and per-host limits. Held while the feed is fetched and read, given
/// back once the result is handed to the writer, so that the next poll starts
/// while this one's result waits for its commit (which then stores many
/// results at once).
pub(crate) struct Turn {
    _permits: Vec<OwnedSemaphorePermit>,
}

impl Turn {
    pub(crate) fn new(permits: Vec<OwnedSemaphorePermit>) -> Turn {
        Turn { _permits: permits }
    }
}

/// Polls `source` once for the tick `served` and stores the result, with the
/// next fetch counted from that tick. Only a database failure is an error
/// here; a feed's own failure is part of the report.
pub(crate) async fn poll_source(
    ctx: &PollContext,
    source: &Source,
    state: &SourceState,
    served: DateTime<Utc>,
    turn: Turn,
) -> Result<SourceReport, StoreError> {
    let mut poll = Poll::new(ctx, source, state, served, turn);

    // Fetch with the stored validators: a 304 ends the poll here.
    let fetched = ctx
        .fetcher
        .fetch_source(&source.url, &state.fetch_url, &state.validators)
        .await;
    let (body, meta) = match fetched {
        Ok(FetchOutcome::Fetched { body, meta }) => (body, meta),
        Ok(FetchOutcome::NotModified { meta }) => {
            poll.heard(&meta);
            let result = PollResult::NotModified {
                status: meta.status,
                validators: meta.validators,
            };
            return poll.store(result, 0).await;
        }
        Err(e) => return poll.record_failure(Failure::of_fetch(&e)).await,
    };
    poll.heard(&meta);

    // Parse; a web page that announces a feed is followed to it, once.
    let feed = match read_or_follow(&ctx.fetcher, source, body, &meta.final_url).await {
        Ok((feed, found_at)) => {
            poll.moved_to = found_at.or(poll.moved_to);
            feed
        }
        Err(error) => return poll.record_failure(Failure::after(&meta, error)).await,
    };

    // Identify and categorize the items.
    let (items, dropped) = identify_and_categorize(ctx, source, feed.items).await;

    // Pick the next fetch and store.
    let result = PollResult::Fetched {
        status: meta.status,
        validators: meta.validators,
        feed_title: feed.title,
        feed_link: feed.link,
        items,
        dropped,
        ttl_minutes: feed.ttl,
        skip_hours: feed.skip_hours,
        skip_days: feed.skip_days,
    };
    poll.store(result, 0).await
}

/// One poll under way: what it was started with and what it learned so far.
struct Poll<'a> {
    ctx: &'a PollContext,
    source: &'a Source,
    state: &'a SourceState,
    served: DateTime<Utc>,
    started: Instant,
    at: DateTime<Utc>,
    /// what the source and its responses say about when to come back
    hints: Politeness,
    /// the address to fetch from now on, when the feed moved or a page led to it
    moved_to: Option<Url>,
    turn: Turn,
}

/// A poll gone wrong, as it is recorded.
struct Failure {
    status: Option<u16>,
    error: String,
    /// the feed is gone for good: the source is disabled
    permanent: bool,
    /// how long the host asked to be left alone
    retry_after: Option<Duration>,
}

impl Failure {
    fn of_fetch(e: &FetchError) -> Failure {
        Failure {
            status: e.status(),
            error: e.to_string(),
            permanent: e.is_permanent(),
            retry_after: e.retry_after(),
        }
    }

    /// A failure after the source's response `meta` came.
    fn after(meta: &ResponseMeta, error: String) -> Failure {
        Failure {
            status: Some(meta.status),
            error,
            permanent: false,
            retry_after: None,
        }
    }
}

impl Poll<'_> {
    fn new<'a>(
        ctx: &'a PollContext,
        source: &'a Source,
        state: &'a SourceState,
        served: DateTime<Utc>,
        turn: Turn,
    ) -> Poll<'a> {
        Poll {
            ctx,
            source,
            state,
            served,
            started: Instant::now(),
            at: ctx.clock.now(),
            hints: Politeness {
                ttl_minutes: state.ttl_minutes,
                skip_hours: state.skip_hours.clone(),
                skip_days: state.skip_days.clone(),
                ..Politeness::default()
            },
            moved_to: None,
            turn,
        }
    }

    /// Takes what the source's response says: how long it stays fresh, and
    /// whether the feed moved.
    fn heard(&mut self, meta: &ResponseMeta) {
        self.hints.fresh_for = meta.fresh_for;
        self.moved_to = meta.moved_to.clone();
    }

    /// Stores a failure: one more error in a row, and the source disabled when
    /// the feed is gone or the errors are too many.
    async fn record_failure(mut self, failure: Failure) -> Result<SourceReport, StoreError> {
        let Failure {
            status,
            error,
            permanent,
            retry_after,
        } = failure;
        self.hints.retry_after = retry_after;
        let errors = self.state.consecutive_errors + 1;
        let max = self.ctx.max_errors_before_disable;
        let worn_out = max > 0 && errors >= max;
        if permanent || worn_out {
            tracing::warn!(source = %self.source.name, status, error = %error, "source disabled");
        }
        let result = PollResult::Failed {
            status,
            error: if permanent {
                format!("{error} (gone: source disabled)")
            } else {
                error
            },
            disable: permanent || worn_out,
        };
        self.store(result, errors).await
    }

    /// Picks the next fetch (`errors` in a row so far), stores `result`, and
    /// reports it.
    async fn store(mut self, result: PollResult, errors: u32) -> Result<SourceReport, StoreError> {
        let (ctx, source, state) = (self.ctx, self.source, self.state);
        // A feed read now brings its own hints; otherwise the stored ones hold.
        if let PollResult::Fetched {
            ttl_minutes,
            skip_hours,
            skip_days,
            ..
        } = &result
        {
            self.hints.ttl_minutes = *ttl_minutes;
            self.hints.skip_hours = skip_hours.clone();
            self.hints.skip_days = skip_days.clone();
        }
        if let Some(url) = &self.moved_to {
            tracing::info!(source = %source.name, url = %shown_url(&state.fetch_url), to = %shown_url(url), "feed moved; fetching from the new address from now on");
        }
        let (outcome, status, error) = match &result {
            PollResult::Fetched { status, .. } => (Outcome::Fetched, Some(*status), None),
            PollResult::NotModified { status, .. } => (Outcome::NotModified, Some(*status), None),
            PollResult::Failed { status, error, .. } => {
                (Outcome::Failed, *status, Some(error.clone()))
            }
        };
        let schedule = source.schedule.as_deref().unwrap_or(&ctx.default_schedule);
        let next_fetch_at = next_fetch(schedule, self.served, errors, &source.name, &self.hints);
        let handed = ctx
            .writer
            .hand_over(PollRecord {
                source_id: state.id,
                at: self.at,
                next_fetch_at,
                moved_to: self.moved_to.map(String::from),
                result,
            })
            .await?;
        drop(self.turn);
        let counts = handed.committed().await?;
        let elapsed_ms = self.started.elapsed().as_millis() as u64;
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
}

/// Reads `body`, fetched from `at`, as a feed; a web page is followed to the
/// first feed it links, whose address comes back with it (one hop: a link to
/// another page is not followed). Errors come back as the text to record.
async fn read_or_follow(
    fetcher: &Fetcher,
    source: &Source,
    body: Vec<u8>,
    at: &Url,
) -> Result<(Feed, Option<Url>), String> {
    let links = match read(body, at.clone()).await {
        Ok(feed) => return Ok((feed, None)),
        Err(Unfollowed::Page { links, .. }) => links,
        Err(e) => return Err(e.to_string()),
    };
    let Some(feed_url) = links.into_iter().next() else {
        return Err(format!("{} and links no feed", ParseError::Html));
    };
    tracing::debug!(source = %source.name, page = %shown_url(at), feed = %shown_url(&feed_url), "following the page's feed link");
    let shown = shown_url(&feed_url);
    match follow(fetcher, &feed_url).await {
        Ok(Found { url, feed }) => Ok((feed, Some(url))),
        Err(Unfollowed::Fetch(e)) => Err(format!("the page links {shown}, which failed: {e}")),
        Err(Unfollowed::NotModified) => Err(format!(
            "the page links {shown}, which answered 304 to a plain request"
        )),
        Err(Unfollowed::Parse(e)) => Err(format!("the page links {shown}, which is {e}")),
        Err(Unfollowed::Page { .. }) => {
            Err(format!("the page links {shown}, which is another page"))
        }
    }
}

/// Identifying and categorizing is CPU work: it runs off the async threads, so
/// other downloads go on.
async fn identify_and_categorize(
    ctx: &PollContext,
    source: &Source,
    items: Vec<Item>,
) -> (Vec<IdentifiedItem>, Vec<String>) {
    let categorizer = ctx.categorizer.clone();
    let source = source.clone();
    tokio::task::spawn_blocking(move || {
        let items = identify(items, source.identity);
        categorize(&categorizer, &source, items)
    })
    .await
    .expect("identifying and categorizing do not panic")
}
