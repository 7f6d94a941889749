//! A feed host on 127.0.0.1:0 for the integration tests, and helpers that run the
//! real `tributary` binary against a config pointing at it.
#![allow(dead_code)] // each test file uses its own part of this

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One request as the host saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Default)]
pub struct HostState {
    feeds: Mutex<HashMap<String, String>>,
    pub seen: Mutex<Vec<Seen>>,
    /// bytes the endless route has handed to the connection
    pub endless_sent: AtomicU64,
    in_flight: AtomicU64,
    /// the most requests to /hold/ the host served at once
    pub max_in_flight: AtomicU64,
}

pub struct FeedHost {
    pub addr: SocketAddr,
    pub state: Arc<HostState>,
}

const LAST_MODIFIED: &str = "Tue, 24 Nov 2026 10:00:00 GMT";

impl FeedHost {
    pub async fn start() -> FeedHost {
        let state = Arc::new(HostState::default());
        let app = Router::new()
            .route("/f/{name}", get(feed))
            .route("/gzip/{name}", get(gzip_feed))
            .route("/endless", get(endless))
            .route("/loop/{n}", get(redirect_loop))
            .route("/slow", get(slow))
            .route("/status/{code}", get(status))
            .route("/hold/{name}", get(hold))
            .route("/retry-later", get(retry_later))
            .route("/moved/{name}", get(moved))
            .route("/temporary/{name}", get(temporary))
            .route("/page/{name}", get(page))
            .route("/plain-site", get(plain_site))
            .route("/rss.xml", get(site_feed))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FeedHost { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves `body` at /f/NAME and /gzip/NAME.
    pub fn set_feed(&self, name: &str, body: &str) {
        self.state
            .feeds
            .lock()
            .unwrap()
            .insert(name.to_string(), body.to_string());
    }

    pub fn requests_to(&self, path: &str) -> Vec<Seen> {
        let seen = self.state.seen.lock().unwrap();
        seen.iter().filter(|s| s.path == path).cloned().collect()
    }
}

fn record(state: &HostState, path: String, headers: &HeaderMap) {
    let h = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    state.seen.lock().unwrap().push(Seen {
        path,
        if_none_match: h(header::IF_NONE_MATCH),
        if_modified_since: h(header::IF_MODIFIED_SINCE),
        user_agent: h(header::USER_AGENT),
    });
}

fn etag_of(body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("\"{:x}\"", h.finish())
}

fn conditional(
    state: &HostState,
    name: &str,
    headers: &HeaderMap,
) -> Result<(String, String), Box<Response>> {
    let Some(body) = state.feeds.lock().unwrap().get(name).cloned() else {
        return Err(Box::new(StatusCode::NOT_FOUND.into_response()));
    };
    let etag = etag_of(&body);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return Err(Box::new(
            (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response(),
        ));
    }
    Ok((body, etag))
}

async fn feed(
    State(state): State<Arc<HostState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    record(&state, format!("/f/{name}"), &headers);
    match conditional(&state, &name, &headers) {
        Ok((body, etag)) => (
            [
                (header::CONTENT_TYPE, "application/xml".to_string()),
                (header::ETAG, etag),
                (header::LAST_MODIFIED, LAST_MODIFIED.to_string()),
            ],
            body,
        )
            .into_response(),
        Err(response) => *response,
    }
}

async fn gzip_feed(
    State(state): State<Arc<HostState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    record(&state, format!("/gzip/{name}"), &headers);
    match conditional(&state, &name, &headers) {
        Ok((body, etag)) => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(body.as_bytes()).unwrap();
            (
                [
                    (header::CONTENT_TYPE, "application/xml".to_string()),
                    (header::CONTENT_ENCODING, "gzip".to_string()),
                    (header::ETAG, etag),
                ],
                gz.finish().unwrap(),
            )
                .into_response()
        }
        Err(response) => *response,
    }
}

/// A body that never ends (well: 1 GiB), with no Content-Length to warn of it.
async fn endless(State(state): State<Arc<HostState>>, headers: HeaderMap) -> Response {
    record(&state, "/endless".into(), &headers);
    let chunk = bytes_chunk();
    let stream = futures_util::stream::iter(0..16_384).map(move |_| {
        state
            .endless_sent
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        Ok::<_, std::io::Error>(chunk.clone())
    });
    Response::new(Body::from_stream(stream))
}

fn bytes_chunk() -> axum::body::Bytes {
    let mut s = String::from("<rss version=\"2.0\"><channel><title>x</title>");
    while s.len() < 64 * 1024 {
        s.push_str("<item><title>filler</title></item>");
    }
    axum::body::Bytes::from(s)
}

async fn redirect_loop(
    State(state): State<Arc<HostState>>,
    UrlPath(n): UrlPath<u32>,
    headers: HeaderMap,
) -> Response {
    record(&state, format!("/loop/{n}"), &headers);
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("/loop/{}", n + 1))],
    )
        .into_response()
}

async fn slow(State(state): State<Arc<HostState>>, headers: HeaderMap) -> Response {
    record(&state, "/slow".into(), &headers);
    tokio::time::sleep(Duration::from_secs(30)).await;
    "too late".into_response()
}

/// A feed that takes 200 ms to answer, counting how many are answered at once.
async fn hold(
    State(state): State<Arc<HostState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    record(&state, format!("/hold/{name}"), &headers);
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    let body = format!(
        "<rss version=\"2.0\"><channel><title>{name}</title><item><guid>{name}</guid><title>t</title></item></channel></rss>"
    );
    body.into_response()
}

async fn retry_later(State(state): State<Arc<HostState>>, headers: HeaderMap) -> Response {
    record(&state, "/retry-later".into(), &headers);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, "3600")],
    )
        .into_response()
}

async fn moved(
    State(state): State<Arc<HostState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    record(&state, format!("/moved/{name}"), &headers);
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, format!("/f/{name}"))],
    )
        .into_response()
}

async fn temporary(
    State(state): State<Arc<HostState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    record(&state, format!("/temporary/{name}"), &headers);
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("/f/{name}"))],
    )
        .into_response()
}

/// A site's home page that announces its feed.
async fn page(
    State(state): State<Arc<HostState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    record(&state, format!("/page/{name}"), &headers);
    let html = format!(
        "<!DOCTYPE html><html><head><title>Site</title>\
         <link rel=\"alternate\" type=\"application/rss+xml\" href=\"/f/{name}\"></head><body>Hi</body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html")], html).into_response()
}

/// A site's page that links no feed; its feed is at /rss.xml.
async fn plain_site(State(state): State<Arc<HostState>>, headers: HeaderMap) -> Response {
    record(&state, "/plain-site".into(), &headers);
    (
        [(header::CONTENT_TYPE, "text/html")],
        "<!DOCTYPE html><html><body>No feed link here</body></html>",
    )
        .into_response()
}

async fn site_feed(State(state): State<Arc<HostState>>, headers: HeaderMap) -> Response {
    record(&state, "/rss.xml".into(), &headers);
    rss(&["<guid>s1</guid><title>Site story</title>".to_string()])
        .replace("<title>Test</title>", "<title>Common Path Blog</title>")
        .into_response()
}

async fn status(
    State(state): State<Arc<HostState>>,
    UrlPath(code): UrlPath<u16>,
    headers: HeaderMap,
) -> Response {
    record(&state, format!("/status/{code}"), &headers);
    StatusCode::from_u16(code).unwrap().into_response()
}

use futures_util::StreamExt as _;

/// A folder holding a config file (and the database beside it).
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Setup {
    /// A config with `poll_extra` lines under [poll] and one [[source]] per (name, url).
    pub fn new(poll_extra: &str, sources: &[(&str, String)]) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let mut text =
            format!("[storage]\ndatabase = \"t.db\"\n\n[poll]\ntimeout = \"3s\"\n{poll_extra}\n");
        for (name, url) in sources {
            text.push_str(&format!("\n[[source]]\nname = {name:?}\nurl = {url:?}\n"));
        }
        let config = dir.path().join("tributary.toml");
        std::fs::write(&config, text).unwrap();
        Setup { dir, config }
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("t.db")
    }

    pub fn store(&self) -> tributary::store::SqliteStore {
        tributary::store::SqliteStore::open(&self.database()).unwrap()
    }

    /// Runs `tributary poll --json` (plus `args`); returns the summary line.
    pub async fn poll(&self, args: &[&str]) -> serde_json::Value {
        let out = run_tributary(&self.config, &[&["poll", "--json"], args].concat()).await;
        assert!(
            out.status.success(),
            "poll failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let last = stdout.lines().last().expect("poll prints a summary");
        serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"))
    }

    /// Runs `tributary export --format markdown` into a fresh folder; returns
    /// the text of every file written, by file name.
    #[allow(dead_code)] // not every test binary exports Markdown
    pub async fn export_markdown(&self) -> Vec<String> {
        let out_dir = self.dir.path().join("md");
        let dir = out_dir.to_str().unwrap();
        let out = run_tributary(
            &self.config,
            &["export", "--format", "markdown", "--out", dir],
        )
        .await;
        assert!(out.status.success(), "{out:?}");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|f| f.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    }
}

pub async fn run_tributary(config: &Path, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("RUST_LOG")
        .env_remove("TRIBUTARY_CONFIG")
        .env_remove("STATE_DIRECTORY")
        .output()
        .await
        .unwrap()
}

/// An RSS 2.0 document with the given <item> bodies.
pub fn rss(items: &[String]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Test</title><link>https://site.example/</link>",
    );
    for item in items {
        s.push_str("<item>");
        s.push_str(item);
        s.push_str("</item>");
    }
    s.push_str("</channel></rss>");
    s
}

/// Shorthand for a summary's counters.
pub fn counts(summary: &serde_json::Value) -> (u64, u64, u64, u64, u64) {
    let n = |a: &str, b: &str| summary[a][b].as_u64().unwrap();
    (
        n("sources", "ok"),
        n("sources", "not_modified"),
        n("sources", "failed"),
        n("items", "new"),
        n("items", "updated"),
    )
}

// ---------------------------------------------------------------------------
// A running `tributary run`, for the tests of the daemon as a process: it is
// started on a Setup's config, its stderr is kept line by line, and its HTTP
// answers and /metrics values can be read.

/// Makes the schedule tick every second and the server listen on port 0.
pub fn schedule_every_second(setup: &Setup) {
    let text = std::fs::read_to_string(&setup.config).unwrap().replace(
        "[poll]\n",
        "[poll]\nschedule = \"* * * * * *\"\nper_host = 2\n",
    ) + "\n[server]\nlisten = \"127.0.0.1:0\"\n";
    std::fs::write(&setup.config, text).unwrap();
}

pub struct RunningDaemon {
    pub child: tokio::process::Child,
    /// http://127.0.0.1:PORT
    pub base: String,
    /// what the daemon wrote to stderr so far, line by line
    pub log: Arc<Mutex<Vec<String>>>,
}

impl RunningDaemon {
    /// Starts `tributary run` with `env` added; returns once it says where it serves.
    pub async fn start(setup: &Setup, env: &[(&str, &std::ffi::OsStr)]) -> RunningDaemon {
        use tokio::io::AsyncBufReadExt;
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tributary"));
        command
            .args(["run", "--config"])
            .arg(&setup.config)
            .env("RUST_LOG", "warn")
            .env_remove("TRIBUTARY_CONFIG")
            .env_remove("STATE_DIRECTORY")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut errors = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let kept = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("the daemon says where it serves")
            .unwrap()
            .unwrap_or_else(|| panic!("the daemon ended: {:?}", log.lock().unwrap()));
        let base = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .map(|addr| format!("http://{addr}"))
            .unwrap_or_else(|| panic!("no address in {first:?}"));
        RunningDaemon { child, base, log }
    }

    pub fn signal(&self, name: &str) {
        let pid = self.child.id().unwrap().to_string();
        assert!(
            std::process::Command::new("kill")
                .args([&format!("-{name}"), &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// Whether the process is still there.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Whether a line of the log contains `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    /// Status and body of a GET of `path_and_query`.
    pub async fn get(&self, path_and_query: &str) -> (u16, String) {
        let response = reqwest::get(format!("{}{path_and_query}", self.base))
            .await
            .unwrap_or_else(|e| panic!("{path_and_query}: {e}; log: {:?}", self.log));
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// The value of the unlabelled metric `tributary_NAME`, if /metrics has it.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let (_, text) = self.get("/metrics").await;
        let prefix = format!("tributary_{name} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
    }

    /// SIGTERM, then the exit status, which must come within seconds.
    pub async fn stop(mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the daemon stops within seconds of SIGTERM")
            .unwrap()
    }
}

/// Checks `done` every 100 ms for at most `secs` seconds; whether it came to hold.
pub async fn wait_until<F, Fut>(secs: u64, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done().await
}
