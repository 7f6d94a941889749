//! The routes. A page is rendered on a pooled reader and cached under its
//! normalized parameters until the database changes (`PRAGMA data_version`,
//! asked at most every 200 ms), so a repeated request costs no SQL and no
//! rendering; conditional requests get 304.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use futures_util::FutureExt as _;
use url::Url;

use super::cache::{Kind, PageKey, Rendered, Scope};
use super::params::{MAX_CATEGORY_CHARS, Params, parse_params};
use super::readers::lock;
use super::{AppState, CategoryCounts, ServerError, Settings, panic_message};
use crate::categorize::slug;
use crate::render::FeedMeta;
use crate::render::atom::render_atom;
use crate::render::html::{RiverPage, render_html};
use crate::render::json::render_json;
use crate::render::opml::render_opml;
use crate::render::rss::render_rss;
use crate::store::{Health, Store, Story, StoryQuery};

/// How long a search waits for the writer to index new items before it
/// searches what is indexed.
const INDEX_WAIT: Duration = Duration::from_secs(2);

pub fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(river))
        .route("/opml", get(opml))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/{file}", get(root_feed))
        .route("/c/{file}", get(category_feed))
        .route("/s/{file}", get(source_feed))
        .fallback(|| async { ServerError::NotFound })
        .with_state(state)
}

/// A panic anywhere in a request's handling answers that request with a 500.
pub async fn catch_panic(request: Request, next: Next) -> Response {
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => ServerError::Panicked(panic_message(&*panic)).into_response(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Atom,
    Rss,
    Json,
}

impl Format {
    fn from_file(file: &str) -> Option<(&str, Format)> {
        let (name, ext) = file.rsplit_once('.')?;
        let format = match ext {
            "atom" => Format::Atom,
            "rss" => Format::Rss,
            "json" => Format::Json,
            _ => return None,
        };
        Some((name, format))
    }

    fn ext(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Rss => "rss",
            Format::Json => "json",
        }
    }

    fn kind(self) -> Kind {
        match self {
            Format::Atom => Kind::Atom,
            Format::Rss => Kind::Rss,
            Format::Json => Kind::Json,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

async fn root_feed(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    match Format::from_file(&file) {
        Some(("feed", format)) => feed(state, Scope::All, format, query, headers).await,
        _ => Err(ServerError::NotFound),
    }
}

async fn category_feed(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let (name, format) = Format::from_file(&file).ok_or(ServerError::NotFound)?;
    // Only slugs name categories; anything else is not a page here.
    if name.is_empty() || name.chars().count() > MAX_CATEGORY_CHARS || slug(name) != name {
        return Err(ServerError::NotFound);
    }
    let scope = Scope::Category(name.to_string());
    feed(state, scope, format, query, headers).await
}

async fn source_feed(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let (name, format) = Format::from_file(&file).ok_or(ServerError::NotFound)?;
    let source = state
        .settings()
        .sources
        .iter()
        .find(|s| slug(&s.name) == name)
        .map(|s| s.name.clone())
        .ok_or(ServerError::NotFound)?;
    feed(state, Scope::Source(source), format, query, headers).await
}

async fn feed(
    state: Arc<AppState>,
    scope: Scope,
    format: Format,
    raw_query: Option<String>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let params = parse_params(raw_query.as_deref())?;
    let key = PageKey {
        scope: scope.clone(),
        kind: format.kind(),
        params: params.clone(),
    };
    cached(state, key, headers, move |store, settings| {
        let (path, title) = match &scope {
            Scope::All => ("feed".to_string(), settings.title.clone()),
            Scope::Category(c) => (format!("c/{c}"), format!("{} — {c}", settings.title)),
            Scope::Source(s) => (
                format!("s/{}", slug(s)),
                format!("{} — {s}", settings.title),
            ),
        };
        let mut query = story_query(&params, settings.limit);
        match scope {
            Scope::All => {}
            Scope::Category(c) => {
                if !query.categories.contains(&c) {
                    query.categories.insert(0, c);
                }
            }
            Scope::Source(s) => query.source = Some(s),
        }
        let stories = store.stories(&query)?;
        let self_url = settings
            .base_url
            .join(&format!("{path}.{}", format.ext()))
            .map_err(|_| ServerError::NotFound)?;
        let meta = FeedMeta {
            title,
            home_url: settings.base_url.clone(),
            next_url: next_url(&self_url, &params, &stories, &query),
            self_url,
        };
        let body = match format {
            Format::Atom => render_atom(&meta, &stories),
            Format::Rss => render_rss(&meta, &stories),
            Format::Json => render_json(&meta, &stories),
        };
        Ok((body, format.content_type()))
    })
    .await
}

async fn river(
    State(state): State<Arc<AppState>>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let params = parse_params(raw_query.as_deref())?;
    let key = PageKey {
        scope: Scope::All,
        kind: Kind::Html,
        params: params.clone(),
    };
    let counts = state.clone();
    cached(state, key, headers, move |store, settings| {
        let query = story_query(&params, settings.limit);
        let stories = store.stories(&query)?;
        let categories = counts.category_counts(store)?;
        let older = next_url(&settings.base_url, &params, &stories, &query)
            .and_then(|u| u.query().map(|q| format!("?{q}")));
        let page = RiverPage {
            title: &settings.title,
            stories: &stories,
            categories: &categories,
            active_category: params.categories.first().map(String::as_str),
            older,
        };
        Ok((render_html(&page).into_bytes(), "text/html; charset=utf-8"))
    })
    .await
}

async fn opml(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let key = PageKey {
        scope: Scope::All,
        kind: Kind::Opml,
        params: Params::default(),
    };
    cached(state, key, headers, |_, settings| {
        Ok((
            render_opml(&settings.title, &settings.sources),
            "text/x-opml; charset=utf-8",
        ))
    })
    .await
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match state.current_health().await {
        Ok(h) => {
            let problem = state.metrics.problem();
            let body = serde_json::json!({
                "status": if problem.is_some() { "degraded" } else { "ok" },
                "problem": problem,
                "last_poll": h.last_poll.map(crate::inspect::rfc3339),
                "sources": {"ok": h.ok, "failing": h.failing, "disabled": h.disabled},
                "items": h.items,
                "stories": h.stories,
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(e) => {
            tracing::error!(error = %LoggedCause(&e), "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({
                    "status": "unavailable",
                    "error": "the database does not answer",
                })),
            )
                .into_response()
        }
    }
}

/// How long a health read is reused: counting 100,000 stories takes
/// milliseconds, and a monitor polling hard should not queue them up.
const HEALTH_FRESH: Duration = Duration::from_millis(500);

impl AppState {
    /// The database's health, read at most every `HEALTH_FRESH`; a failure
    /// is never reused.
    async fn current_health(&self) -> Result<Health, ServerError> {
        if let Some((at, health)) = lock(&self.health).as_ref()
            && at.elapsed() < HEALTH_FRESH
        {
            return Ok(health.clone());
        }
        let health = self
            .quick
            .run(|s| match s.ping() {
                true => Ok(s.health()?),
                false => Err(ServerError::Unavailable("the database does not answer")),
            })
            .await??;
        *lock(&self.health) = Some((Instant::now(), health.clone()));
        Ok(health)
    }
}

/// An error with its cause, for the log only.
struct LoggedCause<'a>(&'a ServerError);

impl std::fmt::Display for LoggedCause<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            ServerError::Database(e) => write!(f, "{e}"),
            ServerError::Panicked(p) => write!(f, "panic: {p}"),
            other => write!(f, "{other}"),
        }
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ServerError> {
    let health = state.current_health().await?;
    let mut text = state.metrics.render(&health);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&state.gauges());
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

fn story_query(params: &Params, default_limit: u32) -> StoryQuery {
    StoryQuery {
        categories: params.categories.clone(),
        search: params.q.clone(),
        source: None,
        limit: Some(params.limit.unwrap_or(default_limit)),
        before: params.before,
    }
}

/// The next page's address: this one with `before` set past its last story.
fn next_url(base: &Url, params: &Params, stories: &[Story], query: &StoryQuery) -> Option<Url> {
    let last = stories.last()?;
    if query.limit.is_some_and(|l| (stories.len() as u32) < l) {
        return None;
    }
    let mut url = base.clone();
    url.set_query(Some(&params.next_page(last.cursor())));
    Some(url)
}

type Page = (Vec<u8>, &'static str);

/// Serves `key` from the cache when the database has not changed since it was
/// rendered, else renders it on a pooled reader; answers conditional requests
/// with 304. A search first has the writer index what is new.
async fn cached(
    state: Arc<AppState>,
    key: PageKey,
    headers: HeaderMap,
    render: impl FnOnce(&Store, &Settings) -> Result<Page, ServerError> + Send + 'static,
) -> Result<Response, ServerError> {
    if let Some(hit) = lock(&state.cache).fresh_hit(&key) {
        return Ok(respond(&hit, &headers));
    }
    let version = state.quick.run(|s| s.data_version()).await??;
    let (generation, epoch, changed_at) = {
        let mut cache = lock(&state.cache);
        cache.saw_version(version);
        let generation = cache.generation;
        if let Some(hit) = cache.pages.get(&key, generation) {
            return Ok(respond(&hit, &headers));
        }
        (generation, cache.epoch, cache.changed_at)
    };
    if key.params.q.is_some() {
        state.index_new_items().await;
    }
    // One render per page at a time. While it runs, the others get the page
    // as it was before the database last changed, if there is one: older by
    // the length of a render, instead of all of them waiting for it. Without
    // one they wait, then take the new page from the cache.
    let _turn = match RenderTurn::take(&state, &key) {
        Some(turn) => turn,
        None => {
            if let Some((previous, _)) = lock(&state.cache).pages.get_any(&key) {
                return Ok(respond(&previous, &headers));
            }
            RenderTurn::wait(&state, &key).await
        }
    };
    if let Some(hit) = lock(&state.cache).pages.get(&key, generation) {
        return Ok(respond(&hit, &headers));
    }
    let settings = state.settings();
    let rendered = state
        .pages
        .run({
            let state = state.clone();
            move |store| {
                state
                    .renders
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                state.test_hooks();
                let (body, content_type) = render(store, &settings)?;
                Ok::<_, ServerError>(Arc::new(Rendered::new(body, content_type, changed_at)))
            }
        })
        .await??;
    {
        let mut cache = lock(&state.cache);
        // A page rendered before settings changed is not kept; one rendered
        // before the database changed again is, until its successor comes.
        if cache.epoch == epoch
            && cache
                .pages
                .get_any(&key)
                .is_none_or(|(_, g)| g <= generation)
        {
            cache.pages.insert(key, rendered.clone(), generation);
        }
    }
    Ok(respond(&rendered, &headers))
}

/// A request's turn to render a page; the next request for the same page
/// waits for it to end.
struct RenderTurn {
    state: Arc<AppState>,
    key: PageKey,
    lock: Arc<tokio::sync::Mutex<()>>,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl RenderTurn {
    fn lock_of(state: &AppState, key: &PageKey) -> Arc<tokio::sync::Mutex<()>> {
        lock(&state.rendering)
            .entry(key.clone())
            .or_default()
            .clone()
    }

    /// The turn, unless another request has it.
    fn take(state: &Arc<AppState>, key: &PageKey) -> Option<RenderTurn> {
        // Dropped without the lock, a turn still tidies the map.
        let mut turn = RenderTurn {
            state: state.clone(),
            key: key.clone(),
            lock: Self::lock_of(state, key),
            guard: None,
        };
        turn.guard = Some(turn.lock.clone().try_lock_owned().ok()?);
        Some(turn)
    }

    /// The turn, once the request that has it is done.
    async fn wait(state: &Arc<AppState>, key: &PageKey) -> RenderTurn {
        let lock = Self::lock_of(state, key);
        let guard = lock.clone().lock_owned().await;
        RenderTurn {
            state: state.clone(),
            key: key.clone(),
            lock,
            guard: Some(guard),
        }
    }
}

impl Drop for RenderTurn {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut rendering = lock(&self.state.rendering);
        // Only the map and this turn hold it: nobody waits, the entry goes.
        if Arc::strong_count(&self.lock) == 2 {
            rendering.remove(&self.key);
        }
    }
}

impl AppState {
    /// Stories per category, counted once per cache generation.
    fn category_counts(&self, store: &Store) -> Result<CategoryCounts, ServerError> {
        let generation = lock(&self.cache).generation;
        if let Some((at, counts)) = lock(&self.category_counts).as_ref()
            && *at == generation
        {
            return Ok(counts.clone());
        }
        let counts = Arc::new(store.category_counts()?);
        *lock(&self.category_counts) = Some((generation, counts.clone()));
        Ok(counts)
    }

    /// Has the writer index items stored since the last pass, waiting at most
    /// `INDEX_WAIT`; past that the search runs over what is indexed.
    async fn index_new_items(&self) {
        let Some(writer) = self.writer.as_ref().and_then(|w| w.upgrade()) else {
            return;
        };
        let work = async {
            let _one_at_a_time = self.indexing.lock().await;
            match self.quick.run(|s| s.index_is_stale()).await {
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => return,
                Ok(Err(e)) => {
                    return tracing::warn!(error = %e, "cannot tell if the index is stale");
                }
                Err(e) => {
                    return tracing::warn!(error = %LoggedCause(&e), "cannot tell if the index is stale");
                }
            }
            match writer.with_store(|s| s.index_pending()).await {
                Ok(Ok(n)) => tracing::debug!(indexed = n, "indexed before a search"),
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot index before a search"),
                Err(e) => tracing::debug!(error = %e, "cannot index before a search"),
            }
        };
        if tokio::time::timeout(INDEX_WAIT, work).await.is_err() {
            tracing::debug!("search runs over the index as it is; indexing goes on");
        }
    }
}

fn respond(r: &Rendered, request: &HeaderMap) -> Response {
    let not_modified = match request.get(header::IF_NONE_MATCH) {
        // RFC 9110 §13.1.2: If-None-Match wins over If-Modified-Since.
        Some(tags) => tags
            .to_str()
            .is_ok_and(|t| t.split(',').any(|t| t.trim() == r.etag || t.trim() == "*")),
        None => request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| since.timestamp() >= r.last_modified.timestamp()),
    };
    let mut headers = HeaderMap::new();
    // An ETag is hex digits in quotes.
    if let Ok(etag) = HeaderValue::from_str(&r.etag) {
        headers.insert(header::ETAG, etag);
    }
    // An HTTP date is ASCII.
    if let Ok(date) = HeaderValue::from_str(&httpdate(r.last_modified)) {
        headers.insert(header::LAST_MODIFIED, date);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    if not_modified {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(r.content_type),
    );
    (headers, r.body.clone()).into_response()
}

/// An HTTP date (RFC 9110 §5.6.7).
fn httpdate(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}
