//! Serving a page: from the cache when the database has not changed since it
//! was rendered (asked with `PRAGMA data_version` at most every 200 ms), else
//! rendered once on a pooled reader while other requests for it wait or get
//! the page as it was. Conditional requests get 304.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::cache::{PageKey, Rendered};
use super::readers::lock;
use super::{AppState, CategoryCounts, LoggedCause, ServerError, Settings};
use crate::store::Store;

/// How long a search waits for the writer to index new items before it
/// searches what is indexed.
const INDEX_WAIT: Duration = Duration::from_secs(2);

pub type Page = (Vec<u8>, &'static str);

/// Serves `key` from the cache when the database has not changed since it was
/// rendered, else renders it on a pooled reader; answers conditional requests
/// with 304. A search first has the writer index what is new.
pub async fn cached(
    state: Arc<AppState>,
    key: PageKey,
    headers: HeaderMap,
    render: impl FnOnce(&dyn Store, &Settings) -> Result<Page, ServerError> + Send + 'static,
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
    pub(super) fn category_counts(&self, store: &dyn Store) -> Result<CategoryCounts, ServerError> {
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
