//! A feed host on 127.0.0.1:0 that notes the time of every request, by a clock
//! the test chooses (the wall clock, or the daemon's clock under a paused
//! runtime), and answers each feed as the test scripts it: fresh content,
//! `304`s, caching hints, `<ttl>`, errors with or without `Retry-After`.
#![allow(dead_code)] // each test file uses its own part of this

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

/// One request as the host saw it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub feed: String,
    pub at: DateTime<Utc>,
}

/// What a script sees of a request.
pub struct Ask<'a> {
    /// requests to this feed before this one
    pub n: usize,
    pub at: DateTime<Utc>,
    pub if_none_match: Option<&'a str>,
}

pub type Script = Arc<dyn Fn(&Ask) -> Response + Send + Sync>;
pub type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

struct HostState {
    now: Now,
    scripts: Mutex<HashMap<String, Script>>,
    delays: Mutex<HashMap<String, std::time::Duration>>,
    hits: Mutex<Vec<Hit>>,
}

pub struct TimedHost {
    pub addr: std::net::SocketAddr,
    state: Arc<HostState>,
}

impl TimedHost {
    /// Starts the host on the current runtime; `now` stamps each request.
    pub async fn start(now: Now) -> TimedHost {
        let state = Arc::new(HostState {
            now,
            scripts: Mutex::new(HashMap::new()),
            delays: Mutex::new(HashMap::new()),
            hits: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/t/{feed}", get(answer))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TimedHost { addr, state }
    }

    /// Serves `feed` at /t/FEED as `script` says.
    pub fn script(&self, feed: &str, script: impl Fn(&Ask) -> Response + Send + Sync + 'static) {
        self.state
            .scripts
            .lock()
            .unwrap()
            .insert(feed.to_string(), Arc::new(script));
    }

    /// Makes every answer for `feed` take `delay` (on the runtime's clock).
    pub fn delay(&self, feed: &str, delay: std::time::Duration) {
        self.state
            .delays
            .lock()
            .unwrap()
            .insert(feed.to_string(), delay);
    }

    pub fn url(&self, feed: &str) -> String {
        format!("http://{}/t/{feed}", self.addr)
    }

    /// When `feed` was requested, in order.
    pub fn times(&self, feed: &str) -> Vec<DateTime<Utc>> {
        self.state
            .hits
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.feed == feed)
            .map(|h| h.at)
            .collect()
    }
}

async fn answer(
    State(state): State<Arc<HostState>>,
    Path(feed): Path<String>,
    headers: HeaderMap,
) -> Response {
    let at = (state.now)();
    let n = {
        let mut hits = state.hits.lock().unwrap();
        let n = hits.iter().filter(|h| h.feed == feed).count();
        hits.push(Hit {
            feed: feed.clone(),
            at,
        });
        n
    };
    let delay = state.delays.lock().unwrap().get(&feed).copied();
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let script = state.scripts.lock().unwrap().get(&feed).cloned();
    let Some(script) = script else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ask = Ask {
        n,
        at,
        if_none_match: headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok()),
    };
    script(&ask)
}

/// An RSS feed whose content changes every `changes_every` requests (so the
/// requests between get `304`s to their `If-None-Match`), with `channel`
/// elements (`<ttl>`, `<skipHours>`) and `headers` added to each answer.
pub fn feed(
    ask: &Ask,
    changes_every: usize,
    channel: &str,
    headers: &[(&str, String)],
) -> Response {
    let version = ask.n / changes_every.max(1);
    let etag = format!("\"v{version}\"");
    let mut response = if ask.if_none_match == Some(etag.as_str()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>\
             <link>https://site.example/</link>{channel}<item><guid>v{version}</guid>\
             <link>https://site.example/{version}</link><title>Version {version}</title>\
             </item></channel></rss>"
        );
        ([(header::CONTENT_TYPE, "application/rss+xml")], body).into_response()
    };
    response
        .headers_mut()
        .insert(header::ETAG, etag.parse().unwrap());
    for (name, value) in headers {
        response.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    response
}

/// An error status, with `Retry-After` when given.
pub fn refuse(code: u16, retry_after: Option<String>) -> Response {
    let mut response = StatusCode::from_u16(code).unwrap().into_response();
    if let Some(value) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, value.parse().unwrap());
    }
    response
}

/// `at + secs` as an HTTP date (IMF-fixdate, whole seconds rounded up so the
/// date is never before the moment meant).
pub fn http_date(at: DateTime<Utc>, secs: i64) -> String {
    let t = at + TimeDelta::seconds(secs);
    let t = if t.trunc_subsecs(0) == t {
        t
    } else {
        t.trunc_subsecs(0) + TimeDelta::seconds(1)
    };
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}
