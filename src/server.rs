//! HTTP: the merged feed, one per category and per source, the river page, OPML,
//! health and metrics. Rendered bodies are cached until the database changes
//! (`PRAGMA data_version`, asked at most every 200 ms), so a repeated request
//! costs no SQL and no rendering. What a client sends wrong gets a 400 with a
//! one-line reason.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use url::Url;

use crate::categorize::slug;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::model::Source;
use crate::render::FeedMeta;
use crate::render::atom::render_atom;
use crate::render::html::{RiverPage, render_html};
use crate::render::json::render_json;
use crate::render::opml::render_opml;
use crate::render::rss::render_rss;
use crate::store::{Store, StoreError, Story, StoryCursor, StoryQuery};

/// Most stories one page may hold (`limit=`).
pub const MAX_LIMIT: u32 = 1000;
/// Longest accepted search text, in characters.
const MAX_QUERY_CHARS: usize = 500;
/// Cached bodies kept at most; past this the cache starts over.
const MAX_CACHED: usize = 512;
/// How stale a cached body may be before the database is asked whether it
/// changed: a burst of requests costs one check.
const RECHECK_AFTER: std::time::Duration = std::time::Duration::from_millis(200);

/// What the server needs from the config; replaced whole on reload.
#[derive(Debug, Clone)]
pub struct Settings {
    pub title: String,
    pub base_url: Url,
    pub limit: u32,
    pub sources: Vec<Source>,
}

impl From<&Config> for Settings {
    fn from(c: &Config) -> Self {
        Settings {
            title: c.server.title.clone(),
            base_url: c.server.base_url.clone(),
            limit: c.server.limit,
            sources: c.sources.clone(),
        }
    }
}

pub struct AppState {
    reader: Mutex<Store>,
    settings: RwLock<Arc<Settings>>,
    cache: Mutex<Cache>,
    pub metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Cache {
    /// `PRAGMA data_version` the entries were rendered at
    version: i64,
    /// when that version was last read; within `RECHECK_AFTER` of it a hit is
    /// served without asking the database
    checked_at: Option<std::time::Instant>,
    /// when a change of the database was first seen; Last-Modified of every entry
    changed_at: Option<DateTime<Utc>>,
    entries: HashMap<String, Arc<Rendered>>,
}

struct Rendered {
    body: Bytes,
    content_type: &'static str,
    etag: String,
    last_modified: DateTime<Utc>,
}

impl AppState {
    /// `reader` is a connection of its own: the poller writes through another.
    pub fn new(reader: Store, settings: Settings, metrics: Arc<Metrics>) -> Arc<AppState> {
        Arc::new(AppState {
            reader: Mutex::new(reader),
            settings: RwLock::new(Arc::new(settings)),
            cache: Mutex::new(Cache::default()),
            metrics,
        })
    }

    /// Takes new settings (on reload); cached output is dropped.
    pub fn set_settings(&self, settings: Settings) {
        *self
            .settings
            .write()
            .expect("settings lock is never poisoned") = Arc::new(settings);
        self.cache.lock().expect("cache lock").entries.clear();
    }

    fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .expect("settings lock is never poisoned")
            .clone()
    }

    /// Whether the database answers.
    pub fn database_answers(&self) -> bool {
        self.reader.lock().map(|s| s.ping()).unwrap_or(false)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    BadRequest(String),
    #[error("not found")]
    NotFound,
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for ServerError {
    fn from(e: StoreError) -> Self {
        ServerError::Unavailable(e.to_string())
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = match &self {
            ServerError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServerError::NotFound => StatusCode::NOT_FOUND,
            ServerError::Unavailable(e) => {
                tracing::error!(error = %e, "request failed on the database");
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{self}\n"),
        )
            .into_response()
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(river))
        .route("/opml", get(opml))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/{file}", get(root_feed))
        .route("/c/{file}", get(category_feed))
        .route("/s/{file}", get(source_feed))
        .fallback(|| async { ServerError::NotFound })
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
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

    fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// The query string every feed and the river page take.
#[derive(Debug, Default, PartialEq)]
pub struct Params {
    pub limit: Option<u32>,
    pub before: Option<StoryCursor>,
    pub categories: Vec<String>,
    pub q: Option<String>,
}

/// Reads a request's query string; a bad value is a `BadRequest` naming it.
pub fn parse_params(raw: Option<&str>) -> Result<Params, ServerError> {
    let mut p = Params::default();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "limit" => {
                let n = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ServerError::BadRequest(format!(
                            "limit must be a whole number from 1 to {MAX_LIMIT}, not {value:?}"
                        ))
                    })?;
                p.limit = Some(n);
            }
            "before" => {
                p.before = Some(decode_cursor(&value).ok_or_else(|| {
                    ServerError::BadRequest(format!(
                        "before is not a cursor this server gave: {value:?}"
                    ))
                })?);
            }
            "category" => {
                let s = slug(&value);
                if s.is_empty() {
                    return Err(ServerError::BadRequest(format!(
                        "category {value:?} is empty"
                    )));
                }
                if !p.categories.contains(&s) {
                    p.categories.push(s);
                }
            }
            "q" => {
                let q = value.trim();
                if q.is_empty() {
                    return Err(ServerError::BadRequest("q must not be empty".into()));
                }
                if q.chars().count() > MAX_QUERY_CHARS {
                    return Err(ServerError::BadRequest(format!(
                        "q is longer than {MAX_QUERY_CHARS} characters"
                    )));
                }
                p.q = Some(q.to_string());
            }
            // Readers and proxies add their own parameters; they change nothing here.
            _ => {}
        }
    }
    Ok(p)
}

/// The cursor of the next page: opaque to clients, strictly checked here.
fn encode_cursor(c: StoryCursor) -> String {
    format!("{:x}-{:x}", c.sort_at, c.id)
}

fn decode_cursor(s: &str) -> Option<StoryCursor> {
    let (at, id) = s.split_once('-')?;
    let hex = |t: &str| {
        (!t.is_empty() && t.len() <= 16)
            .then(|| u64::from_str_radix(t, 16).ok())
            .flatten()
    };
    Some(StoryCursor {
        sort_at: hex(at)? as i64,
        id: hex(id)? as i64,
    })
}

/// Which stories a feed shows.
enum Scope {
    All,
    Category(String),
    Source(String),
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
    if name.is_empty() || slug(name) != name {
        return Err(ServerError::NotFound);
    }
    feed(
        state,
        Scope::Category(name.to_string()),
        format,
        query,
        headers,
    )
    .await
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
    let key = cache_key(&scope, format.ext(), raw_query.as_deref());
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
            Scope::Category(c) => query.categories.insert(0, c),
            Scope::Source(s) => query.source = Some(s),
        }
        let stories = load(store, &query)?;
        let self_url = settings
            .base_url
            .join(&format!("{path}.{}", format.ext()))
            .expect("a relative path joins onto an http URL");
        let meta = FeedMeta {
            title,
            home_url: settings.base_url.clone(),
            next_url: next_url(&self_url, raw_query.as_deref(), &stories, &query),
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
    let key = cache_key(&Scope::All, "html", raw_query.as_deref());
    cached(state, key, headers, move |store, settings| {
        let query = story_query(&params, settings.limit);
        let stories = load(store, &query)?;
        let categories = store.category_counts()?;
        let older = next_url(&settings.base_url, raw_query.as_deref(), &stories, &query)
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
    cached(state, "opml".into(), headers, |_, settings| {
        Ok((
            render_opml(&settings.title, &settings.sources),
            "text/x-opml; charset=utf-8",
        ))
    })
    .await
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let health = tokio::task::spawn_blocking(move || {
        let store = state
            .reader
            .lock()
            .map_err(|_| "database lock poisoned".to_string())?;
        if !store.ping() {
            return Err("database does not answer".to_string());
        }
        store.health().map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match health {
        Ok(h) => {
            let body = serde_json::json!({
                "status": "ok",
                "last_poll": h.last_poll.map(crate::inspect::rfc3339),
                "sources": {"ok": h.ok, "failing": h.failing, "disabled": h.disabled},
                "items": h.items,
                "stories": h.stories,
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "unavailable", "error": e})),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ServerError> {
    let metrics = state.metrics.clone();
    let text = tokio::task::spawn_blocking(move || -> Result<String, ServerError> {
        let store = state
            .reader
            .lock()
            .map_err(|_| ServerError::Unavailable("lock poisoned".into()))?;
        Ok(metrics.render(&store.health()?))
    })
    .await
    .map_err(|e| ServerError::Unavailable(e.to_string()))??;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

fn cache_key(scope: &Scope, kind: &str, query: Option<&str>) -> String {
    let scope = match scope {
        Scope::All => "all".to_string(),
        Scope::Category(c) => format!("c:{c}"),
        Scope::Source(s) => format!("s:{s}"),
    };
    format!("{scope}.{kind}?{}", query.unwrap_or_default())
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

/// Stories for a page; a search first brings the index up to date.
fn load(store: &mut Store, query: &StoryQuery) -> Result<Vec<Story>, ServerError> {
    if query.search.is_some() && store.index_is_stale()? {
        store.index_pending()?;
    }
    Ok(store.stories(query)?)
}

/// The next page's address: this one with `before` set past its last story.
fn next_url(
    base: &Url,
    raw_query: Option<&str>,
    stories: &[Story],
    query: &StoryQuery,
) -> Option<Url> {
    let last = stories.last()?;
    if query.limit.is_some_and(|l| (stories.len() as u32) < l) {
        return None;
    }
    let mut url = base.clone();
    {
        let mut pairs = url.query_pairs_mut();
        pairs.clear();
        for (k, v) in url::form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes()) {
            if k != "before" {
                pairs.append_pair(&k, &v);
            }
        }
        pairs.append_pair("before", &encode_cursor(last.cursor()));
    }
    Some(url)
}

type RenderFn =
    dyn FnOnce(&mut Store, &Settings) -> Result<(Vec<u8>, &'static str), ServerError> + Send;

/// Serves `key` from the cache when the database has not changed since it was
/// rendered, else renders it; answers conditional requests with 304.
async fn cached(
    state: Arc<AppState>,
    key: String,
    headers: HeaderMap,
    render: impl FnOnce(&mut Store, &Settings) -> Result<(Vec<u8>, &'static str), ServerError>
    + Send
    + 'static,
) -> Result<Response, ServerError> {
    let render: Box<RenderFn> = Box::new(render);
    {
        let cache = state.cache.lock().expect("cache lock");
        if cache
            .checked_at
            .is_some_and(|t| t.elapsed() < RECHECK_AFTER)
            && let Some(hit) = cache.entries.get(&key)
        {
            return Ok(respond(hit, &headers));
        }
    }
    let rendered = tokio::task::spawn_blocking(move || -> Result<Arc<Rendered>, ServerError> {
        let mut store = state
            .reader
            .lock()
            .map_err(|_| ServerError::Unavailable("lock poisoned".into()))?;
        let version = store.data_version()?;
        let changed_at = {
            let mut cache = state.cache.lock().expect("cache lock");
            cache.checked_at = Some(std::time::Instant::now());
            if cache.version != version || cache.changed_at.is_none() {
                cache.version = version;
                cache.changed_at = Some(Utc::now());
                cache.entries.clear();
            }
            if let Some(hit) = cache.entries.get(&key) {
                return Ok(hit.clone());
            }
            cache.changed_at.expect("set above")
        };
        let settings = state.settings();
        let (body, content_type) = render(&mut store, &settings)?;
        drop(store);
        let rendered = Arc::new(Rendered {
            etag: format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&body)),
            body: Bytes::from(body),
            content_type,
            last_modified: changed_at,
        });
        let mut cache = state.cache.lock().expect("cache lock");
        if cache.version == version {
            if cache.entries.len() >= MAX_CACHED {
                cache.entries.clear();
            }
            cache.entries.insert(key, rendered.clone());
        }
        Ok(rendered)
    })
    .await
    .map_err(|e| ServerError::Unavailable(e.to_string()))??;
    Ok(respond(&rendered, &headers))
}

fn respond(r: &Rendered, request: &HeaderMap) -> Response {
    let last_modified = httpdate(r.last_modified);
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
    let value = |s: &str| HeaderValue::from_str(s).expect("ASCII header value");
    headers.insert(header::ETAG, value(&r.etag));
    headers.insert(header::LAST_MODIFIED, value(&last_modified));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_checked() {
        assert_eq!(parse_params(None).unwrap(), Params::default());
        let p = parse_params(Some(
            "limit=5&category=AI&category=rust&q=%20gpt%20&utm_source=x",
        ))
        .unwrap();
        assert_eq!(p.limit, Some(5));
        assert_eq!(p.categories, ["ai", "rust"]);
        assert_eq!(p.q.as_deref(), Some("gpt"));
        for bad in [
            "limit=0",
            "limit=1001",
            "limit=ten",
            "limit=-1",
            "before=zz",
            "before=1",
            "q=",
            "category=%20",
        ] {
            assert!(
                matches!(parse_params(Some(bad)), Err(ServerError::BadRequest(_))),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn cursors_round_trip() {
        let c = StoryCursor {
            sort_at: 1_764_000_000_000,
            id: 42,
        };
        assert_eq!(decode_cursor(&encode_cursor(c)), Some(c));
        assert_eq!(decode_cursor("ffffffffffffffffff-1"), None);
    }
}
