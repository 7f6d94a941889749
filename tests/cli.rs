//! The commands a user types, checked for what they print and how they exit.

mod common;

use common::run_tributary;

#[tokio::test]
async fn check_names_the_line_of_a_misspelt_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(
        &config,
        "[poll]\nconcurency = 8\n\n[[source]]\nname = \"x\"\nurl = \"https://e.example/feed\"\n",
    )
    .unwrap();
    let out = run_tributary(&config, &["check"]).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:2:1: unknown field `concurency`", config.display());
    assert!(stderr.contains(&want), "{stderr}");
}

#[tokio::test]
async fn check_lists_the_resolved_sources() {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml");
    let out = run_tributary(&demo, &["check"]).await;
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("4 sources:"), "{stdout}");
    assert!(
        stdout.contains("file:///"),
        "paths resolve to file URLs: {stdout}"
    );
}

#[tokio::test]
async fn poll_with_a_bad_config_exits_2_and_creates_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(
        &config,
        "[storage]\ndatabase = \"t.db\"\n[poll]\ntimeout = \"never\"\n",
    )
    .unwrap();
    let out = run_tributary(&config, &["poll"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("t.db").exists());
}

#[tokio::test]
async fn poll_with_an_unusable_database_exits_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(dir.path().join("t.db"), "this is not a database, just text").unwrap();
    std::fs::write(&config, "[storage]\ndatabase = \"t.db\"\n").unwrap();
    let out = run_tributary(&config, &["poll"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("t.db"));
}

#[tokio::test]
async fn inspect_prints_how_a_feed_is_seen() {
    let feed =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo/commons-wire.atom");
    let out = run_tributary(
        std::path::Path::new("unused.toml"),
        &["inspect", feed.to_str().unwrap()],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format"], "atom1.0");
    assert_eq!(json["title"], "Commons Wire");
    let first = &json["items"][0];
    assert_eq!(first["id"], "tag:commons-wire.example,2026:stories/812");
    assert_eq!(first["key"], "g:tag:commons-wire.example,2026:stories/812");
    assert_eq!(first["published"], "2026-11-23T15:45:00Z");
    assert_eq!(first["authors"][0]["name"], "Priya Natarajan");
    // relative links resolve against xml:base
    assert_eq!(
        json["items"][1]["link"],
        "https://commons-wire.example/stories/ferrite-cadence"
    );
    let content = first["content"].as_str().unwrap();
    assert!(
        content.contains("href=\"https://commons-wire.example/stories/lantern-faq\""),
        "{content}"
    );
    assert_eq!(json["items"][1]["content"], serde_json::Value::Null);
    assert_eq!(json["items"][1]["enclosures"], serde_json::json!([]));
}

#[tokio::test]
async fn inspect_fails_with_one_line_on_a_broken_feed() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, "<rss version=\"2.0\"><channel><item>").unwrap();
    let out = run_tributary(
        std::path::Path::new("unused.toml"),
        &["inspect", bad.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("cannot parse"), "{stderr}");
}
