//! HTTP: the merged feed, one per category and per source, the river page, OPML,
//! health and metrics, kept up and bounded whatever clients send.
//!
//! - [`connections`]: the accept loop: a cap on connections, header and idle
//!   timeouts, graceful shutdown.
//! - [`pages`]: the routes, and how each page is rendered.
//! - [`rendering`]: a page from the cache, or rendered once while others wait
//!   or get the page as it was before the database changed.
//! - [`health`]: `/healthz` and `/metrics`, which never wait behind a page.
//! - [`params`]: query strings read into normalized parameters, 400 on anything wrong.
//! - [`cache`]: rendered pages kept within a budget of bytes.
//! - [`readers`]: read-only connections shared by requests; `/healthz` has its own.
//!
//! The server never writes to the database: the search index is brought up to
//! date by the daemon's writer. No lock is held while a page renders, and a
//! panic while answering one request is a 500 for that request alone.

mod cache;
mod connections;
mod health;
mod pages;
mod params;
mod readers;
mod rendering;

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::model::Source;
use crate::store::{Health, StoreError, WeakWriter, Writer};
use cache::{PageCache, PageKey, Rendered};
use readers::{ReaderPool, lock};

pub use connections::serve;
pub use params::{MAX_CATEGORIES, MAX_LIMIT, Params, parse_params};

/// Connections that render pages: a few, so one slow page does not hold up the rest.
const PAGE_READERS: usize = 4;

/// What the server needs from the config; replaced whole on reload.
#[derive(Debug, Clone)]
pub struct Settings {
    pub title: String,
    pub base_url: url::Url,
    pub limit: u32,
    pub sources: Vec<Source>,
    /// the categories the config names (sources' and rules'): their labels,
    /// in config order, one per slug
    pub categories: Vec<String>,
    /// bytes of rendered pages kept
    pub cache_size: u64,
    /// taken when serving starts; a reload does not change them
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

impl From<&Config> for Settings {
    fn from(c: &Config) -> Self {
        Settings {
            title: c.server.title.clone(),
            base_url: c.server.base_url.clone(),
            limit: c.server.limit,
            sources: c.sources.clone(),
            categories: crate::categorize::configured_labels(&c.sources, &c.rules),
            cache_size: c.server.cache_size,
            max_connections: c.server.max_connections,
            header_timeout: c.server.header_timeout,
            idle_timeout: c.server.idle_timeout,
        }
    }
}

pub struct AppState {
    /// render pages
    pages: ReaderPool,
    /// answer `/healthz` and `/metrics` and check the database for changes:
    /// short queries only, so health never waits behind a page
    quick: ReaderPool,
    /// the watchdog's, which cannot wait
    probe: ReaderPool,
    /// brings the search index up to date; weak, so the writer still stops
    /// when the daemon lets go of it
    writer: Option<WeakWriter>,
    /// one search at a time asks the writer to index
    indexing: tokio::sync::Mutex<()>,
    settings: RwLock<Arc<Settings>>,
    cache: Mutex<CacheState>,
    /// the last health read, and when: a burst of checks costs one query
    health: Mutex<Option<(Instant, Health)>>,
    /// pages being rendered, each with the lock later requests for it wait on
    rendering: Mutex<std::collections::HashMap<PageKey, Arc<tokio::sync::Mutex<()>>>>,
    /// stories per category, and the cache generation they were counted at:
    /// every river page shows them, and counting takes tens of milliseconds
    category_counts: Mutex<Option<(u64, CategoryCounts)>>,
    pub metrics: Arc<Metrics>,
    /// client connections open now
    connections: std::sync::atomic::AtomicUsize,
    /// pages rendered since start (the rest came from the cache)
    renders: std::sync::atomic::AtomicU64,
    /// since when pages fail on the database, while every page since failed:
    /// `/healthz` then says the service is unavailable, though the health
    /// query itself may still answer
    pages_failing_since: Mutex<Option<Instant>>,
    #[cfg(debug_assertions)]
    panic_next_render: std::sync::atomic::AtomicBool,
    /// milliseconds every render waits first
    #[cfg(debug_assertions)]
    render_delay_ms: std::sync::atomic::AtomicU64,
}

/// The page cache and what it was rendered from.
struct CacheState {
    /// bumped whenever what pages are rendered from changes
    generation: u64,
    /// bumped when the settings change: a page rendered before is never served
    epoch: u64,
    /// `PRAGMA data_version` of the `quick` connection at the last check
    version: Option<i64>,
    /// when that was; within `RECHECK_AFTER` a hit is served without asking
    checked_at: Option<Instant>,
    /// when the current generation began: Last-Modified of its pages
    changed_at: DateTime<Utc>,
    pages: PageCache,
}

type CategoryCounts = Arc<Vec<crate::model::CategoryCount>>;

/// How stale a cached page may be before the database is asked whether it
/// changed: a burst of requests costs one check.
const RECHECK_AFTER: Duration = Duration::from_millis(200);

impl CacheState {
    fn fresh_hit(&mut self, key: &PageKey) -> Option<Arc<Rendered>> {
        if self.checked_at?.elapsed() < RECHECK_AFTER {
            self.pages.get(key, self.generation)
        } else {
            None
        }
    }

    /// Records the database's version; a new one starts a new generation.
    /// Pages of the old one stay at hand while their successors render.
    fn saw_version(&mut self, version: i64) {
        self.checked_at = Some(Instant::now());
        if self.version != Some(version) {
            self.version = Some(version);
            self.generation += 1;
            self.changed_at = Utc::now();
        }
    }

    /// Settings changed: no page rendered before is right any more.
    fn start_over(&mut self) {
        self.generation += 1;
        self.epoch += 1;
        self.changed_at = Utc::now();
        self.pages.clear();
    }
}

impl AppState {
    /// Opens read-only connections to the database at `path`, which must
    /// exist. `writer`, when given, keeps the search index up to date.
    pub fn new(
        path: &Path,
        settings: Settings,
        metrics: Arc<Metrics>,
        writer: Option<Writer>,
    ) -> Result<Arc<AppState>, StoreError> {
        Ok(Arc::new(AppState {
            pages: ReaderPool::open(path, PAGE_READERS)?,
            quick: ReaderPool::open(path, 1)?,
            probe: ReaderPool::open(path, 1)?,
            writer: writer.as_ref().map(Writer::downgrade),
            indexing: tokio::sync::Mutex::new(()),
            cache: Mutex::new(CacheState {
                generation: 0,
                epoch: 0,
                version: None,
                checked_at: None,
                changed_at: Utc::now(),
                pages: PageCache::new(settings.cache_size),
            }),
            settings: RwLock::new(Arc::new(settings)),
            health: Mutex::new(None),
            rendering: Mutex::default(),
            category_counts: Mutex::new(None),
            metrics,
            connections: Default::default(),
            renders: Default::default(),
            pages_failing_since: Default::default(),
            #[cfg(debug_assertions)]
            panic_next_render: Default::default(),
            #[cfg(debug_assertions)]
            render_delay_ms: Default::default(),
        }))
    }

    /// Takes new settings (on reload); cached pages are dropped.
    pub fn set_settings(&self, settings: Settings) {
        let budget = settings.cache_size;
        *self
            .settings
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(settings);
        let mut cache = lock(&self.cache);
        cache.start_over();
        cache.pages.set_budget(budget);
    }

    fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether the database answers. Never waits on a request.
    pub fn database_answers(&self) -> bool {
        self.probe.try_run(|s| s.ping()).unwrap_or(false)
    }

    /// The server's own metrics, in Prometheus text: open connections, the
    /// page cache's size, pages rendered.
    fn gauges(&self) -> String {
        let (bytes, pages) = {
            let cache = lock(&self.cache);
            (cache.pages.used(), cache.pages.len())
        };
        let connections = self.connections.load(std::sync::atomic::Ordering::Relaxed);
        let renders = self.renders.load(std::sync::atomic::Ordering::Relaxed);
        let mut out = String::new();
        for (name, kind, help, value) in [
            (
                "http_connections",
                "gauge",
                "Client connections open.",
                connections as u64,
            ),
            (
                "page_cache_bytes",
                "gauge",
                "Bytes held by cached pages.",
                bytes as u64,
            ),
            ("page_cache_pages", "gauge", "Pages cached.", pages as u64),
            (
                "page_renders_total",
                "counter",
                "Pages rendered rather than taken from the cache.",
                renders,
            ),
        ] {
            out.push_str(&format!(
                "# HELP tributary_{name} {help}\n# TYPE tributary_{name} {kind}\ntributary_{name} {value}\n"
            ));
        }
        out
    }

    /// Makes the next page render panic, to show that a panic costs one request.
    #[cfg(debug_assertions)]
    #[doc(hidden)]
    pub fn panic_on_next_render(&self) {
        self.panic_next_render
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Makes every page render take `delay` longer, to show what waits on renders.
    #[cfg(debug_assertions)]
    #[doc(hidden)]
    pub fn delay_renders(&self, delay: Duration) {
        self.render_delay_ms.store(
            delay.as_millis() as u64,
            std::sync::atomic::Ordering::SeqCst,
        );
    }

    /// What tests asked of the next render.
    fn test_hooks(&self) {
        #[cfg(debug_assertions)]
        {
            use std::sync::atomic::Ordering::SeqCst;
            let delay = self.render_delay_ms.load(SeqCst);
            if delay > 0 {
                std::thread::sleep(Duration::from_millis(delay));
            }
            if self.panic_next_render.swap(false, SeqCst) {
                panic!("a test asked this render to panic");
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    BadRequest(String),
    #[error("not found")]
    NotFound,
    /// The cause is logged, never sent: it may name files and SQL.
    #[error("database unavailable")]
    Database(#[from] StoreError),
    #[error("service unavailable: {0}")]
    Unavailable(&'static str),
    /// A panic while answering; its message is logged.
    #[error("internal error")]
    Panicked(String),
}

impl ServerError {
    fn from_join(e: tokio::task::JoinError) -> ServerError {
        match e.try_into_panic() {
            Ok(panic) => ServerError::Panicked(panic_message(&*panic)),
            Err(_) => ServerError::Unavailable("the request was cancelled"),
        }
    }
}

/// The text a panic was raised with.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
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

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = match &self {
            ServerError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServerError::NotFound => StatusCode::NOT_FOUND,
            ServerError::Database(e) => {
                tracing::error!(error = %e, "request failed on the database");
                StatusCode::SERVICE_UNAVAILABLE
            }
            ServerError::Unavailable(why) => {
                tracing::error!(error = why, "request failed");
                StatusCode::SERVICE_UNAVAILABLE
            }
            ServerError::Panicked(panic) => {
                tracing::error!(error = %panic, "request panicked; the server goes on");
                StatusCode::INTERNAL_SERVER_ERROR
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

/// Every route, with compression and a guard that turns a panic into a 500.
pub fn router(state: Arc<AppState>) -> Router {
    pages::routes(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state,
            health::track_pages,
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(pages::catch_panic))
}
