//! Managing sources: OPML in and out, `tributary add` with discovery, the source
//! table, completions.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{FeedHost, Setup, rss, run_tributary};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/opml")
        .join(name)
}

/// (name, url, categories) of every source in a config file.
fn sources_of(config: &Path) -> BTreeSet<(String, String, Vec<String>)> {
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
    table
        .get("source")
        .and_then(|s| s.as_array())
        .map(|a| {
            a.iter()
                .map(|s| {
                    let s = s.as_table().unwrap();
                    let mut cats: Vec<String> = s
                        .get("categories")
                        .and_then(|c| c.as_array())
                        .map(|c| c.iter().map(|v| v.as_str().unwrap().to_string()).collect())
                        .unwrap_or_default();
                    cats.sort();
                    (
                        s["name"].as_str().unwrap().to_string(),
                        s["url"].as_str().unwrap().to_string(),
                        cats,
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn empty_config() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(
        &config,
        "# my reading list\n[storage]\ndatabase = \"t.db\"\n",
    )
    .unwrap();
    (dir, config)
}

async fn import(config: &Path, opml: &Path) {
    let out = run_tributary(config, &["import-opml", opml.to_str().unwrap(), "--write"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn opml_from_several_readers_imports_with_folders_as_categories() {
    type Expected<'a> = &'a [(&'a str, &'a str, &'a [&'a str])];
    let cases: &[(&str, Expected)] = &[
        (
            "feedly.opml",
            &[
                (
                    "AI Dispatch",
                    "https://ai-dispatch.example/rss.xml",
                    &["AI"],
                ),
                (
                    "Commons Wire",
                    "https://commons-wire.example/feed.atom",
                    &["AI", "Tech"],
                ),
                (
                    "Rust Notes",
                    "https://rust-notes.example/feed.json",
                    &["Tech"],
                ),
            ],
        ),
        (
            "inoreader.xml",
            &[
                (
                    "Pod Cast",
                    "https://pod.example/episodes.xml",
                    &["Podcasts"],
                ),
                (
                    "Tech Roundup",
                    "http://tech-roundup.example/feed?format=rss&lang=en",
                    &["News & Politics"],
                ),
                ("Unfiled Blog", "https://unfiled.example/atom.xml", &[]),
            ],
        ),
        (
            "netnewswire.opml",
            &[
                ("Daring Example", "https://daring.example/feeds/main", &[]),
                (
                    "Nested Feed",
                    "https://nested.example/index.xml",
                    &["Apple", "Deep"],
                ),
                (
                    "Six Colors Example",
                    "https://six.example/feed/",
                    &["Apple"],
                ),
            ],
        ),
        (
            "legacy-lowercase.opml",
            &[
                ("Old Reader Export", "https://old.example/rss", &[]),
                ("untitled.example", "https://untitled.example/feed.xml", &[]),
            ],
        ),
    ];
    for (file, want) in cases {
        let (_dir, config) = empty_config();
        import(&config, &fixture(file)).await;
        let want: BTreeSet<(String, String, Vec<String>)> = want
            .iter()
            .map(|(n, u, c)| {
                (
                    n.to_string(),
                    u.to_string(),
                    c.iter().map(|c| c.to_string()).collect(),
                )
            })
            .collect();
        assert_eq!(sources_of(&config), want, "{file}");
        let check = run_tributary(&config, &["check"]).await;
        assert!(
            check.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

#[tokio::test]
async fn import_export_import_gives_the_same_sources() {
    for file in ["feedly.opml", "inoreader.xml", "netnewswire.opml"] {
        let (_dir, config) = empty_config();
        import(&config, &fixture(file)).await;
        let exported = run_tributary(&config, &["export-opml"]).await;
        assert!(exported.status.success());
        let (dir2, config2) = empty_config();
        let opml = dir2.path().join("out.opml");
        std::fs::write(&opml, &exported.stdout).unwrap();
        import(&config2, &opml).await;
        assert_eq!(sources_of(&config), sources_of(&config2), "{file}");
    }
}

#[tokio::test]
async fn import_without_write_prints_toml_and_twice_adds_nothing() {
    let (_dir, config) = empty_config();
    let out = run_tributary(
        &config,
        &["import-opml", fixture("feedly.opml").to_str().unwrap()],
    )
    .await;
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("[[source]]").count(), 3, "{text}");
    assert!(text.contains("name = \"Commons Wire\"\nurl = \"https://commons-wire.example/feed.atom\"\ncategories = [\"Tech\", \"AI\"]"), "{text}");
    import(&config, &fixture("feedly.opml")).await;
    let once = std::fs::read_to_string(&config).unwrap();
    import(&config, &fixture("feedly.opml")).await;
    assert_eq!(std::fs::read_to_string(&config).unwrap(), once);
}

#[tokio::test]
async fn add_finds_the_feed_of_a_page_and_keeps_the_config_as_written() {
    let host = FeedHost::start().await;
    host.set_feed(
        "blog",
        &rss(&["<guid>1</guid><title>Hello</title>".to_string()]),
    );
    let setup = Setup::new(
        "# fewer at once\nconcurrency = 4",
        &[("Existing", host.url("/f/other"))],
    );
    let before = std::fs::read_to_string(&setup.config).unwrap();
    let out = run_tributary(
        &setup.config,
        &["add", &host.url("/page/blog"), "--category", "Rust"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&setup.config).unwrap();
    assert!(
        after.starts_with(&before),
        "comments and layout kept:\n{after}"
    );
    let added = &after[before.len()..];
    assert!(added.contains("name = \"Test\""), "{added}");
    assert!(
        added.contains(&format!("url = \"{}\"", host.url("/f/blog"))),
        "{added}"
    );
    assert!(added.contains("categories = [\"Rust\"]"), "{added}");
    // the same feed again adds nothing
    let again = run_tributary(&setup.config, &["add", &host.url("/f/blog")]).await;
    assert!(String::from_utf8_lossy(&again.stdout).contains("already a source"));
    assert_eq!(std::fs::read_to_string(&setup.config).unwrap(), after);
}

#[tokio::test]
async fn add_tries_the_usual_paths_when_the_page_links_no_feed() {
    let host = FeedHost::start().await;
    let setup = Setup::new("", &[]);
    let out = run_tributary(
        &setup.config,
        &["add", &host.url("/plain-site"), "--name", "Mine"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&setup.config).unwrap();
    assert!(
        text.contains(&format!(
            "name = \"Mine\"\nurl = \"{}\"",
            host.url("/rss.xml")
        )),
        "{text}"
    );
    let nothing = run_tributary(&setup.config, &["add", &host.url("/status/404")]).await;
    assert_eq!(nothing.status.code(), Some(1));
}

#[tokio::test]
async fn the_sources_table_shows_state_without_colour_in_a_pipe() {
    let host = FeedHost::start().await;
    host.set_feed("a", &rss(&["<guid>1</guid><title>x</title>".to_string()]));
    let setup = Setup::new(
        "",
        &[
            ("Good", host.url("/f/a")),
            ("Broken", host.url("/status/500")),
        ],
    );
    let text = std::fs::read_to_string(&setup.config).unwrap().replacen(
        "url = ",
        "categories = [\"news\"]\nurl = ",
        1,
    );
    std::fs::write(&setup.config, text).unwrap();
    setup.poll(&[]).await;
    let out = run_tributary(&setup.config, &["sources"]).await;
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        !table.contains('\u{1b}'),
        "no colour codes in a pipe: {table:?}"
    );
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("name")
            && lines[0].contains("categories")
            && lines[0].contains("last error")
    );
    let good = lines.iter().find(|l| l.starts_with("Good")).unwrap();
    let broken = lines.iter().find(|l| l.starts_with("Broken")).unwrap();
    assert!(good.contains("news") && good.contains(" 200 "), "{good}");
    assert!(
        broken.contains(" 500 ") && broken.ends_with("HTTP 500"),
        "{broken}"
    );
    // columns line up
    assert_eq!(
        good.find(&host.url("/f/a")),
        broken.find(&host.url("/status/500"))
    );
    let json = run_tributary(&setup.config, &["sources", "--json"]).await;
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn completions_and_help_examples() {
    let dir = tempfile::tempdir().unwrap();
    let none = dir.path().join("none.toml");
    for shell in ["bash", "zsh", "fish"] {
        let out = run_tributary(&none, &["completions", shell]).await;
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("import-opml"),
            "{shell}"
        );
    }
    for cmd in [
        "run",
        "poll",
        "check",
        "inspect",
        "export",
        "sources",
        "add",
        "import-opml",
        "export-opml",
        "completions",
    ] {
        let out = run_tributary(&none, &[cmd, "--help"]).await;
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Example:"),
            "{cmd} --help has no example"
        );
    }
}
