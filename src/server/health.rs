//! `/healthz` and `/metrics`: on their own reader, with the health read reused
//! for half a second, so neither waits behind a page or queues up counts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::readers::lock;
use super::{AppState, LoggedCause, ServerError};
use crate::store::Health;

/// How long pages may have failed on the database, every one of them, before
/// `/healthz` says the service is unavailable.
const PAGES_FAILING_FOR: Duration = Duration::from_secs(5);

/// Notes whether pages are served: a page that fails on the database (503)
/// starts the failing time, any page served clears it.
pub async fn track_pages(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let health_check = matches!(request.uri().path(), "/healthz" | "/metrics");
    let response = next.run(request).await;
    if !health_check {
        let mut since = lock(&state.pages_failing_since);
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            since.get_or_insert_with(Instant::now);
        } else if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
            *since = None;
        }
    }
    response
}

pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let failing =
        lock(&state.pages_failing_since).is_some_and(|t| t.elapsed() >= PAGES_FAILING_FOR);
    if failing {
        tracing::error!("pages fail on the database; health says unavailable");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({
                "status": "unavailable",
                "error": "pages cannot be read from the database",
            })),
        )
            .into_response();
    }
    match state.current_health().await {
        Ok(h) => {
            let problem = state.metrics.problem();
            let body = serde_json::json!({
                "status": if problem.is_some() { "degraded" } else { "ok" },
                "problem": problem,
                "last_poll": h.last_poll.map(crate::model::rfc3339),
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

pub async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ServerError> {
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
