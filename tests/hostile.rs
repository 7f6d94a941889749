//! A hostile feed host: bombs, endless and dripping bodies, entity tricks, junk,
//! deep nesting, a flood of items. One poll over all of them beside one good feed
//! ends on time, stays small, stores the good feed, records a reason for each bad
//! one, and lets no byte of a local file into the database.

mod common;

use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{Setup, rss};
use futures_util::StreamExt;
use tributary::store::Store as _;

const SECRET: &str = "tributary-secret-7f3a9c1e";

/// 1 GiB of zeros, gzipped (about 1 MB).
fn bomb() -> &'static Bytes {
    static BOMB: OnceLock<Bytes> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..1024 {
            gz.write_all(&zeros).unwrap();
        }
        Bytes::from(gz.finish().unwrap())
    })
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

async fn hostile_host(secret_path: String) -> String {
    let app = Router::new()
        .route("/good", get(|| async { xml(rss(&["<guid>ok-1</guid><title>The good one</title>".into()])) }))
        .route("/bomb", get(|| async {
            ([(header::CONTENT_ENCODING, "gzip"), (header::CONTENT_TYPE, "application/xml")], bomb().clone()).into_response()
        }))
        .route("/endless", get(|| async {
            let chunk = Bytes::from(vec![b' '; 64 * 1024]);
            Response::new(Body::from_stream(futures_util::stream::repeat(chunk).map(Ok::<_, std::io::Error>)))
        }))
        .route("/drip", get(|| async {
            let drip = futures_util::stream::unfold(0u32, |n| async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Some((Ok::<_, std::io::Error>(Bytes::from_static(b"<")), n + 1))
            });
            Response::new(Body::from_stream(drip))
        }))
        .route("/loop", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]).into_response() }))
        .route("/laughs", get(|| async {
            let mut dtd = String::from("<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY lol \"lol\">");
            for i in 1..10 {
                let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
                dtd.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&{prev};").repeat(10)));
            }
            xml(format!("{dtd}]><rss version=\"2.0\"><channel><title>&lol9;</title><item><guid>l</guid><title>&lol9;</title></item></channel></rss>"))
        }))
        .route("/xxe", get(move || {
            let path = secret_path.clone();
            async move {
                xml(format!(
                    "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file://{path}\">]>\
                     <rss version=\"2.0\"><channel><title>x</title><item><guid>x</guid><title>&xxe;</title>\
                     <description>&xxe;</description></item></channel></rss>"
                ))
            }
        }))
        .route("/bad-utf8", get(|| async {
            let mut body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>".to_vec();
            body.extend_from_slice(b"bad \xff\xfe\xc3 bytes</title><item><guid>u</guid><title>\xe9t\xe9</title></item></channel></rss>");
            ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
        }))
        .route("/random", get(|| async {
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            let bytes: Vec<u8> = (0..65536).map(|_| { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x as u8 }).collect();
            bytes.into_response()
        }))
        .route("/empty", get(|| async { StatusCode::OK.into_response() }))
        .route("/nested", get(|| async {
            xml(format!("<rss version=\"2.0\"><channel><title>n</title>{}{}</channel></rss>", "<x>".repeat(100_000), "</x>".repeat(100_000)))
        }))
        .route("/many", get(|| async {
            let items: String = (0..200_000).map(|i| format!("<item><guid>{i}</guid></item>")).collect();
            xml(format!("<rss version=\"2.0\"><channel><title>m</title>{items}</channel></rss>"))
        }))
        .route("/error-page", get(|| async {
            ([(header::CONTENT_TYPE, "text/html")], "<!DOCTYPE html><html><head><title>502</title></head><body><h1>Bad Gateway</h1></body></html>").into_response()
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// The peak resident memory of a running process, in kB, from /proc.
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_a_feed_host_does_hurts_the_poll() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, SECRET).unwrap();
    let _ = bomb(); // built before the clock starts
    let base = hostile_host(secret.display().to_string()).await;
    let names = [
        "good",
        "bomb",
        "endless",
        "drip",
        "loop",
        "laughs",
        "xxe",
        "bad-utf8",
        "random",
        "empty",
        "nested",
        "many",
        "error-page",
    ];
    let sources: Vec<(&str, String)> = names.iter().map(|n| (*n, format!("{base}/{n}"))).collect();
    let setup = Setup::new("concurrency = 16\nper_host = 16", &sources);

    let started = Instant::now();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["poll", "--json", "--config"])
        .arg(&setup.config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = peak_kb(pid) {
            peak = peak.max(kb);
        }
        match tokio::time::timeout(Duration::from_millis(20), child.wait()).await {
            Ok(status) => break status.unwrap(),
            Err(_) => assert!(
                started.elapsed() < Duration::from_secs(30),
                "the poll hangs"
            ),
        }
    };
    let elapsed = started.elapsed();
    assert!(status.success());
    // timeout = "3s" in the test config; the drip is the slowest source
    assert!(
        elapsed < Duration::from_secs(3 + 4),
        "poll took {elapsed:?}"
    );
    assert!(peak < 300 * 1024, "peak memory {peak} kB");

    let store = setup.store();
    let statuses = store.source_statuses(&names).unwrap();
    let by = |n: &str| statuses.iter().find(|s| s.name == n).unwrap().clone();
    assert_eq!(by("good").items, 1);
    assert!(by("good").last_error.is_none());
    for bad in [
        "bomb",
        "endless",
        "drip",
        "loop",
        "random",
        "empty",
        "nested",
        "error-page",
    ] {
        let s = by(bad);
        let error = s
            .last_error
            .unwrap_or_else(|| panic!("{bad} has no error recorded"));
        assert!(
            !error.is_empty() && error.len() < 300 && !error.contains('\n'),
            "{bad}: {error:?}"
        );
    }
    assert!(by("bomb").last_error.unwrap().contains("larger than"));
    assert!(by("endless").last_error.unwrap().contains("larger than"));
    assert!(by("drip").last_error.unwrap().contains("timed out"));
    assert!(by("loop").last_error.unwrap().contains("redirects"));
    assert!(by("empty").last_error.unwrap().contains("empty"));
    assert!(by("error-page").last_error.unwrap().contains("HTML"));
    // A flood of items is cut to the first MAX_ITEMS.
    assert!(by("many").items as usize <= tributary::parse::MAX_ITEMS);
    // Entity tricks either fail to parse or parse without expansion.
    for tricky in ["laughs", "xxe", "bad-utf8"] {
        let s = by(tricky);
        assert!(s.last_error.is_some() || s.items <= 1, "{tricky}: {s:?}");
    }
    drop(store);

    // No byte of the local file reached the database, in any of its files.
    for entry in std::fs::read_dir(setup.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("t.db")
        {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "{} holds the secret",
                path.display()
            );
        }
    }
    let integrity = setup.store().integrity_check().unwrap();
    assert_eq!(integrity, "ok");
}
