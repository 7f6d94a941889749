//! The routes, and how each page is rendered: the merged feed, one per
//! category and per source, the river page and OPML. A page is keyed by its
//! normalized parameters and served through the cache (`rendering`).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::FutureExt as _;
use url::Url;

use super::cache::{Kind, PageKey, Scope};
use super::health::{healthz, metrics};
use super::params::{MAX_CATEGORY_CHARS, Params, parse_params};
use super::rendering::cached;
use super::{AppState, ServerError, panic_message};
use crate::model::Story;
use crate::model::slug;
use crate::render::html::{RiverPage, navigation, render_categories, render_html};
use crate::render::opml::render_opml;
use crate::render::{FeedFormat, FeedScope, render_scope};
use crate::store::StoryQuery;

pub fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(river))
        .route("/categories", get(categories))
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

/// The cache's kind of a feed page in `format`.
fn kind(format: FeedFormat) -> Kind {
    match format {
        FeedFormat::Atom => Kind::Atom,
        FeedFormat::Rss => Kind::Rss,
        FeedFormat::Json => Kind::Json,
    }
}

async fn root_feed(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    match FeedFormat::from_file(&file) {
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
    let (name, format) = FeedFormat::from_file(&file).ok_or(ServerError::NotFound)?;
    // Only slugs name categories; anything else is not a page here.
    if name.is_empty() || name.chars().count() > MAX_CATEGORY_CHARS || slug(name) != name {
        return Err(ServerError::NotFound);
    }
    // A category nobody configured and no item carries is no page; one
    // configured but still empty is an empty feed. Bad parameters are told
    // first, as on every feed.
    parse_params(query.as_deref())?;
    if !state.settings().categories.iter().any(|c| slug(c) == name) {
        let wanted = name.to_string();
        if !state.quick.run(move |s| s.has_category(&wanted)).await?? {
            return Err(ServerError::NotFound);
        }
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
    let (name, format) = FeedFormat::from_file(&file).ok_or(ServerError::NotFound)?;
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
    format: FeedFormat,
    raw_query: Option<String>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let params = parse_params(raw_query.as_deref())?;
    let key = PageKey {
        scope: scope.clone(),
        kind: kind(format),
        params: params.clone(),
    };
    cached(state, key, headers, move |store, settings| {
        let label;
        let feed_scope = match &scope {
            Scope::All => FeedScope::All,
            Scope::Category(c) => {
                label = category_label(store, settings, c)?;
                FeedScope::Category {
                    slug: c,
                    label: &label,
                }
            }
            Scope::Source(s) => FeedScope::Source(s),
        };
        let mut query = story_query(&params, settings.limit);
        match &scope {
            Scope::All => {}
            Scope::Category(c) => {
                if !query.categories.contains(c) {
                    query.categories.insert(0, c.clone());
                }
            }
            Scope::Source(s) => query.source = Some(s.clone()),
        }
        let stories = store.stories(&query)?;
        let body = render_scope(
            &settings.title,
            &settings.base_url,
            feed_scope,
            format,
            &stories,
            |self_url| next_url(self_url, &params, &stories, &query),
        )
        .map_err(|_| ServerError::NotFound)?;
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
        let navigation = navigation(
            &settings.categories,
            &categories,
            params.categories.first().map(String::as_str),
        );
        let page = RiverPage {
            title: &settings.title,
            stories: &stories,
            navigation: &navigation,
            filters: &params.categories,
            query: params.q.as_deref(),
            older,
        };
        Ok((render_html(&page).into_bytes(), "text/html; charset=utf-8"))
    })
    .await
}

/// Every category with its story count: the river shows only some.
async fn categories(
    State(state): State<Arc<AppState>>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    // The page takes no parameters, but bad ones are told as everywhere.
    parse_params(raw_query.as_deref())?;
    let key = PageKey {
        scope: Scope::All,
        kind: Kind::Categories,
        params: Params::default(),
    };
    let counts = state.clone();
    cached(state, key, headers, move |store, settings| {
        let categories = counts.category_counts(store)?;
        let page = render_categories(&settings.title, &settings.categories, &categories);
        Ok((page.into_bytes(), "text/html; charset=utf-8"))
    })
    .await
}

/// The label a category is shown under: the config's, else the one stored,
/// else its slug.
fn category_label(
    store: &dyn crate::store::Store,
    settings: &super::Settings,
    slug_wanted: &str,
) -> Result<String, ServerError> {
    if let Some(label) = settings.categories.iter().find(|c| slug(c) == slug_wanted) {
        return Ok(label.clone());
    }
    Ok(store
        .category_label(slug_wanted)?
        .unwrap_or_else(|| slug_wanted.to_string()))
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
    cached(state, key, headers, |store, settings| {
        Ok((
            render_opml(&settings.title, &settings.sources, &store.site_links()?),
            "text/x-opml; charset=utf-8",
        ))
    })
    .await
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
