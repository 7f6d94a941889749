//! A remote server or page can never make tributary read a local file: feed links
//! on pages (`poll` and `add`), redirects and addresses stored by older versions
//! only lead to http(s). A file the operator configured is read only when it is a
//! regular file, under the size cap and the timeout.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{Setup, rss};
use tributary::store::Store as _;

const SECRET: &str = "tributary-local-secret-51d0e2";

fn file_url(path: &Path) -> String {
    url::Url::from_file_path(path).unwrap().to_string()
}

/// A tempdir holding a secret feed (valid RSS carrying SECRET) and a FIFO.
struct LocalFiles {
    dir: tempfile::TempDir,
    secret: PathBuf,
    fifo: PathBuf,
}

fn local_files() -> LocalFiles {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.xml");
    std::fs::write(
        &secret,
        rss(&[format!("<guid>{SECRET}</guid><title>{SECRET}</title>")]),
    )
    .unwrap();
    let fifo = dir.path().join("fifo.xml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    LocalFiles { dir, secret, fifo }
}

fn page_linking(target: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html")],
        format!(
            "<!DOCTYPE html><html><head><title>Site</title>\
             <link rel=\"alternate\" type=\"application/rss+xml\" href=\"{target}\"></head>\
             <body>Hi</body></html>"
        ),
    )
        .into_response()
}

/// Pages that link local files as their feed, and redirects to them.
async fn luring_host(files: &LocalFiles) -> String {
    let secret = file_url(&files.secret);
    let missing = file_url(&files.dir.path().join("missing.xml"));
    let fifo = file_url(&files.fifo);
    let (s1, s2, s3) = (secret.clone(), secret.clone(), secret.clone());
    let app =
        Router::new()
            .route(
                "/good",
                get(|| async { rss(&["<guid>g</guid><title>Good</title>".into()]) }),
            )
            .route(
                "/links-secret",
                get(move || async move { page_linking(&s1) }),
            )
            .route(
                "/links-missing",
                get(move || async move { page_linking(&missing) }),
            )
            .route(
                "/links-fifo",
                get(move || async move { page_linking(&fifo) }),
            )
            .route(
                "/links-zero",
                get(|| async { page_linking("file:///dev/zero") }),
            )
            .route(
                "/moved-to-secret",
                get(move || async move {
                    (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, s2)]).into_response()
                }),
            )
            .route(
                "/found-at-secret",
                get(move || async move {
                    (StatusCode::FOUND, [(header::LOCATION, s3)]).into_response()
                }),
            );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Runs tributary with `args`, killing it if it outlasts `limit`.
async fn run_within(config: &Path, args: &[&str], limit: Duration) -> std::process::Output {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("RUST_LOG")
        .env_remove("TRIBUTARY_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("tributary {args:?} still running after {limit:?}"))
        .unwrap()
}

/// Runs `tributary poll` and waits at most `limit` for it.
async fn poll_within(setup: &Setup, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["poll", "--json", "--config"])
        .arg(&setup.config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let status = tokio::time::timeout(limit, child.wait())
        .await
        .unwrap_or_else(|_| panic!("poll still running after {limit:?}"))
        .unwrap();
    assert!(status.success());
    started.elapsed()
}

/// Whether any file of the database holds SECRET.
fn database_holds_secret(setup: &Setup) -> bool {
    std::fs::read_dir(setup.dir.path()).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        path.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("t.db")
            && std::fs::read(&path)
                .unwrap()
                .windows(SECRET.len())
                .any(|w| w == SECRET.as_bytes())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_and_redirects_cannot_lead_the_poll_to_local_files() {
    let files = local_files();
    let base = luring_host(&files).await;
    let names = [
        "good",
        "links-secret",
        "links-missing",
        "links-fifo",
        "links-zero",
        "moved-to-secret",
        "found-at-secret",
    ];
    let sources: Vec<(&str, String)> = names.iter().map(|n| (*n, format!("{base}/{n}"))).collect();
    let setup = Setup::new("", &sources);

    // timeout = "3s" in the test config: a FIFO or /dev/zero read must not outlast it.
    poll_within(&setup, Duration::from_secs(20)).await;

    assert!(!database_holds_secret(&setup), "a local file was stored");
    let store = setup.store();
    let statuses = store.source_statuses(&names).unwrap();
    let by = |n: &str| statuses.iter().find(|s| s.name == n).unwrap().clone();
    assert_eq!(by("good").items, 1);
    for name in &names[1..] {
        let s = by(name);
        assert_eq!(s.items, 0, "{name}: {s:?}");
        assert!(
            s.fetch_url.starts_with("http://"),
            "{name} now fetches from {}",
            s.fetch_url
        );
        let error = s
            .last_error
            .unwrap_or_else(|| panic!("{name} has no error"));
        assert!(!error.contains("such file"), "{name}: {error}");
    }
    // The error says the same whether the linked path exists or not.
    assert_eq!(
        by("links-secret").last_error,
        by("links-missing").last_error
    );
    let refused = by("moved-to-secret").last_error.unwrap();
    assert!(refused.contains("refused"), "{refused}");
    assert!(
        !refused.contains(files.secret.to_str().unwrap()),
        "{refused}"
    );
    assert_eq!(by("found-at-secret").last_error.unwrap(), refused);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_file_address_an_older_version_followed_is_not_read() {
    let files = local_files();
    let base = luring_host(&files).await;
    let configured = format!("{base}/good");
    let setup = Setup::new("", &[("Site", configured.clone())]);
    setup.poll(&[]).await;
    // An older version followed a page's link to a file and stored it as the
    // source's address.
    let db = rusqlite::Connection::open(setup.database()).unwrap();
    db.execute(
        "UPDATE sources SET fetch_url = ?1, next_fetch_at = NULL",
        [file_url(&files.secret)],
    )
    .unwrap();
    drop(db);

    setup.poll(&[]).await;
    assert!(!database_holds_secret(&setup), "the stored file was read");
    let store = setup.store();
    let status = &store.source_statuses(&["Site"]).unwrap()[0];
    assert_eq!(
        status.fetch_url, configured,
        "the configured address is back"
    );
    assert!(status.last_error.is_none(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn add_does_not_subscribe_to_a_local_file_a_page_links() {
    let files = local_files();
    let base = luring_host(&files).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(&config, "[storage]\ndatabase = \"t.db\"\n").unwrap();
    for page in [
        "links-secret",
        "links-fifo",
        "links-zero",
        "moved-to-secret",
    ] {
        let url = format!("{base}/{page}");
        let out = run_within(&config, &["add", &url], Duration::from_secs(20)).await;
        assert!(!out.status.success(), "{page}");
        let config_text = std::fs::read_to_string(&config).unwrap();
        assert!(!config_text.contains("file:"), "{page}: {config_text}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stdout.contains(SECRET) && !stderr.contains(SECRET),
            "{page}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_file_must_be_a_regular_file() {
    let files = local_files();
    let setup = Setup::new(
        "",
        &[
            ("fifo", file_url(&files.fifo)),
            ("zero", "file:///dev/zero".to_string()),
            ("folder", file_url(files.dir.path())),
            ("secret", file_url(&files.secret)),
        ],
    );
    let elapsed = poll_within(&setup, Duration::from_secs(20)).await;
    assert!(elapsed < Duration::from_secs(5), "poll took {elapsed:?}");
    let store = setup.store();
    let statuses = store
        .source_statuses(&["fifo", "zero", "folder", "secret"])
        .unwrap();
    for s in &statuses[..3] {
        let error = s.last_error.clone().unwrap_or_default();
        assert!(
            error.contains("not a regular file"),
            "{}: {error:?}",
            s.name
        );
    }
    // The operator's own file is read as before.
    assert_eq!(statuses[3].items, 1, "{:?}", statuses[3]);
    assert!(statuses[3].last_error.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_file_is_read_under_the_size_cap() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.xml");
    let items: Vec<String> = (0..2000)
        .map(|i| format!("<guid>{i}</guid><title>{}</title>", "x".repeat(100)))
        .collect();
    std::fs::write(&big, rss(&items)).unwrap();
    let setup = Setup::new("max_body = \"64KiB\"", &[("big", file_url(&big))]);
    poll_within(&setup, Duration::from_secs(20)).await;
    let status = &setup.store().source_statuses(&["big"]).unwrap()[0];
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("larger than"),
        "{status:?}"
    );
}

#[tokio::test]
async fn inspect_refuses_a_fifo_at_once() {
    let files = local_files();
    let out = run_within(
        Path::new("unused.toml"),
        &["inspect", files.fifo.to_str().unwrap()],
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a regular file"), "{stderr}");
}
