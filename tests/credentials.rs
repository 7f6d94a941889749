//! A private feed's credentials are used to fetch it and shown nowhere: not by
//! `check`, `sources`, `poll` or `export`, not in the daemon's logs, and not in
//! anything it serves.

mod common;

use std::process::Stdio;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use common::rss;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

const TOKEN: &str = "s3cr3t-token";
/// `reader:s3cr3t-token`, as HTTP Basic authentication sends it
const BASIC: &str = "Basic cmVhZGVyOnMzY3IzdC10b2tlbg==";
const LITERAL_PASSWORD: &str = "hunter2hunter2";
const FAILING_PASSWORD: &str = "refused-pass-77";
/// Links a feed gives relative to its own address, which holds the credentials.
const RELATIVE: &str = "<link>posts/1</link>\
    <enclosure url=\"episode.mp3\" type=\"audio/mpeg\" length=\"1\"/>\
    <description>&lt;a href=\"more.html\"&gt;more&lt;/a&gt; &lt;img src=\"/img.png\"&gt;</description>";

/// A host whose feed answers only with the right credentials.
async fn private_host() -> std::net::SocketAddr {
    let app = Router::new()
        .route(
            "/private.xml",
            get(|headers: HeaderMap| async move {
                let auth = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                if auth != Some(BASIC) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                rss(&[format!(
                    "<guid>p1</guid><title>Members only</title>{RELATIVE}"
                )])
                .into_response()
            }),
        )
        .route(
            "/open.xml",
            get(|| async {
                rss(&[format!(
                    "<guid>o1</guid><title>Open story</title>{RELATIVE}"
                )])
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn tributary(config: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tributary"));
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env("FEED_TOKEN", TOKEN)
        .env("RUST_LOG", "debug")
        .env_remove("TRIBUTARY_CONFIG")
        .env_remove("STATE_DIRECTORY");
    cmd
}

/// Everything a command printed, stdout and stderr.
async fn printed(config: &std::path::Path, args: &[&str]) -> String {
    let out = tributary(config, args).output().await.unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [TOKEN, LITERAL_PASSWORD, FAILING_PASSWORD] {
        assert!(!text.contains(secret), "{what} shows {secret:?}:\n{text}");
    }
}

async fn get_text(url: &str) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_fetch_the_feed_and_are_shown_nowhere() {
    let addr = private_host().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndatabase = \"t.db\"\n[poll]\ntimeout = \"3s\"\n\
             [server]\nlisten = \"127.0.0.1:0\"\n\
             [[source]]\nname = \"Private\"\nurl = \"http://reader:${{FEED_TOKEN}}@{addr}/private.xml\"\n\
             [[source]]\nname = \"Literal\"\nurl = \"http://someone:{LITERAL_PASSWORD}@{addr}/open.xml\"\n\
             [[source]]\nname = \"Failing\"\nurl = \"http://someone:{FAILING_PASSWORD}@127.0.0.1:1/feed.xml\"\n"
        ),
    )
    .unwrap();

    let check = printed(&config, &["check"]).await;
    assert_no_secret("check", &check);
    assert!(
        check.contains(&format!("http://***@{addr}/private.xml")),
        "{check}"
    );

    let poll = printed(&config, &["poll", "--json"]).await;
    assert_no_secret("poll", &poll);
    assert!(
        poll.contains(r#""ok":2"#),
        "the private feed was read: {poll}"
    );

    let inspect = printed(
        &config,
        &[
            "inspect",
            &format!("http://someone:{LITERAL_PASSWORD}@{addr}/open.xml"),
        ],
    )
    .await;
    assert_no_secret("inspect", &inspect);
    assert!(
        inspect.contains(&format!("http://{addr}/posts/1")),
        "{inspect}"
    );

    let sources = printed(&config, &["sources"]).await;
    assert_no_secret("sources", &sources);
    assert_no_secret(
        "sources --json",
        &printed(&config, &["sources", "--json"]).await,
    );
    for format in ["atom", "rss", "json"] {
        let export = printed(&config, &["export", "--format", format]).await;
        assert_no_secret(format, &export);
        assert!(export.contains("Members only"), "{format}: {export}");
        // Relative links still resolve, without the credentials.
        for link in ["posts/1", "episode.mp3", "posts/more.html", "img.png"] {
            assert!(
                export.contains(&format!("http://{addr}/{link}")),
                "{format}: {export}"
            );
        }
    }
    let out_dir = dir.path().join("md");
    printed(
        &config,
        &[
            "export",
            "--format",
            "markdown",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    )
    .await;
    for file in std::fs::read_dir(&out_dir).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        assert_no_secret("the Markdown export", &text);
    }

    // The daemon: its log and everything it serves.
    let mut child = tributary(&config, &["run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("the daemon says where it serves")
        .unwrap()
        .unwrap();
    let base = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .map(|a| format!("http://{a}"))
        .unwrap();
    for path in [
        "/opml",
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
        "/",
        "/s/private.atom",
        "/s/private.rss",
        "/s/literal.json",
        "/healthz",
        "/metrics",
    ] {
        let body = get_text(&format!("{base}{path}")).await;
        assert_no_secret(path, &body);
    }
    // Listening on port 0 without base_url, links name the port bound.
    let atom = get_text(&format!("{base}/feed.atom")).await;
    assert!(
        atom.contains(&format!("href=\"{base}/feed.atom\"")),
        "{atom}"
    );
    let opml = get_text(&format!("{base}/opml")).await;
    assert!(
        opml.contains(&format!("http://***@{addr}/private.xml")),
        "{opml}"
    );
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .await
        .unwrap();
    child.wait().await.unwrap();
    assert_no_secret("the daemon's log", &log);
    // Debug logging tells what tributary did, not every token the HTML parser saw.
    assert!(
        log.len() < 200_000 && !log.contains("html5ever"),
        "{} bytes of log: {}",
        log.len(),
        &log[..log.len().min(2000)]
    );
}

#[tokio::test]
async fn local_file_sources_are_left_out_of_opml() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(
        &config,
        "[[source]]\nname = \"Local\"\nurl = \"feeds/secret-plans.xml\"\n\
         [[source]]\nname = \"Remote\"\nurl = \"https://feeds.example/a.xml\"\n",
    )
    .unwrap();
    let out = tributary(&config, &["export-opml"]).output().await.unwrap();
    assert!(out.status.success(), "{out:?}");
    let opml = String::from_utf8_lossy(&out.stdout);
    assert!(opml.contains("https://feeds.example/a.xml"), "{opml}");
    assert!(
        !opml.contains("file:") && !opml.contains("secret-plans"),
        "{opml}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 source read from a local file left out")
    );
}

#[tokio::test]
async fn a_new_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(&config, "[storage]\ndatabase = \"t.db\"\n").unwrap();
    let out = tributary(&config, &["poll"]).output().await.unwrap();
    assert!(out.status.success(), "{out:?}");
    for file in ["t.db", "t.db-wal", "t.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }
}
