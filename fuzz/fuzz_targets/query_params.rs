//! Any HTTP request through the server's router, over a database polled once
//! from the bundled demo feeds: never a panic, never a 5xx, and a query string
//! the parameter reader accepts stays within the contract's bounds.
//!
//! Input: the first byte picks the method; the rest, split at newlines, is the
//! request target (path and query) and then `name: value` header lines.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request, Uri};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use tributary::config::Config;
use tributary::metrics::Metrics;
use tributary::server::{AppState, MAX_CATEGORIES, MAX_LIMIT, Settings, parse_params, router};

const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW",
];

struct Server {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    _dir: PathBuf,
}

/// The demo config and feeds copied to a scratch folder, polled once.
fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let demo = here.join("../config");
        // Under the fuzz build's own (ignored) target folder, one per process.
        let dir = here
            .join("target")
            .join(format!("query-params-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("demo")).unwrap();
        for entry in std::fs::read_dir(demo.join("demo")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join("demo").join(path.file_name().unwrap())).unwrap();
        }
        let config = dir.join("demo.toml");
        std::fs::copy(demo.join("demo.toml"), &config).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let cli = <tributary::cli::Cli as clap::Parser>::parse_from([
            "tributary",
            "poll",
            "--config",
            config.to_str().unwrap(),
        ]);
        rt.block_on(tributary::cli::run(cli)).unwrap();
        let config = Config::load(&config).unwrap();
        let state = AppState::new(
            &config.storage.database,
            Settings::from(&config),
            Arc::new(Metrics::default()),
            None,
        )
        .unwrap();
        Server {
            rt,
            app: router(state),
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&method, rest)) = data.split_first() else {
        return;
    };
    let mut lines = rest.split(|b| *b == b'\n');
    let target = lines.next().unwrap_or_default();
    let mut target = target.to_vec();
    if target.first() != Some(&b'/') {
        target.insert(0, b'/');
    }
    let Ok(uri) = Uri::try_from(target) else {
        return; // hyper refuses such a request line before any handler runs
    };
    if let Ok(p) = parse_params(uri.query()) {
        assert!(p.limit.is_none_or(|l| (1..=MAX_LIMIT).contains(&l)));
        assert!(p.q.as_deref().is_none_or(|q| !q.trim().is_empty()));
        assert!(p.categories.iter().all(|c| !c.is_empty()));
        assert!(p.categories.len() <= MAX_CATEGORIES);
    }
    let method = Method::from_bytes(METHODS[method as usize % METHODS.len()].as_bytes()).unwrap();
    let mut request = Request::builder().method(method).uri(uri.clone());
    for line in lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        request = request.header(name, value);
    }
    let Ok(request) = request.body(Body::empty()) else {
        return; // a header hyper would not have parsed
    };
    let server = server();
    let response = server
        .rt
        .block_on(server.app.clone().oneshot(request))
        .unwrap();
    let status = response.status();
    assert!(status.as_u16() < 500, "{uri} answered {status}");
    let body = server
        .rt
        .block_on(axum::body::to_bytes(response.into_body(), usize::MAX));
    assert!(body.is_ok(), "{uri}: the body failed midway");
});
