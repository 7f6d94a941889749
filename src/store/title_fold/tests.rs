//! Folding by title, through the store as a poll writes it.

use crate::model::{IdentifiedItem, IdentityMode, Item, Source};
use crate::store::stories::tests::poll_of;
use crate::store::{FoldPolicy, PollResult, SqliteStore, Store as _, StoreCounts, StoryQuery};

/// An item of the post at `link` titled `title`, published at `hour`:00 on
/// 24 November 2026, known by its link.
fn post(link: &str, title: &str, hour: u32) -> IdentifiedItem {
    let published = chrono::DateTime::parse_from_rfc3339(&format!("2026-11-24T{hour:02}:00:00Z"))
        .unwrap()
        .to_utc();
    IdentifiedItem {
        key: format!("l:{link}"),
        canonical_link: Some(link.into()),
        story_link: Some(link.into()),
        item: Item {
            link: Some(link.into()),
            title: Some(title.into()),
            published: Some(published),
            ..Item::default()
        },
    }
}

/// A store with one source per (name, feed address).
fn store_of(dir: &tempfile::TempDir, feeds: &[(&str, &str)]) -> (SqliteStore, Vec<i64>) {
    let mut store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let sources: Vec<Source> = feeds
        .iter()
        .map(|(name, url)| Source {
            name: (*name).into(),
            url: url::Url::parse(url).unwrap(),
            categories: Vec::new(),
            schedule: None,
            identity: IdentityMode::Auto,
            feed_categories: true,
        })
        .collect();
    let ids = store
        .sync_sources(&sources)
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    (store, ids)
}

/// Stores a read of `source`'s feed, whose home link is `home`.
fn read(
    store: &mut SqliteStore,
    source: i64,
    home: Option<&str>,
    items: Vec<IdentifiedItem>,
) -> StoreCounts {
    let mut poll = poll_of(source, items, &[]);
    if let PollResult::Fetched { feed_link, .. } = &mut poll.result {
        *feed_link = home.map(String::from);
    }
    store.record_poll(&poll).unwrap()
}

/// Stores a read of `source`'s feed holding one post, with no home link.
fn read_one(store: &mut SqliteStore, source: i64, item: IdentifiedItem) -> StoreCounts {
    read(store, source, None, vec![item])
}

/// An Atom and a JSON feed of one site, which names no home page.
const ONE_SITE: [(&str, &str); 2] = [
    ("atom", "https://example.org/feed.atom"),
    ("json", "https://example.org/feed.json"),
];

/// Each story shown: its link and the sources carrying it.
fn shown(store: &SqliteStore) -> Vec<(String, Vec<String>)> {
    let mut all: Vec<(String, Vec<String>)> = store
        .stories(&StoryQuery::default())
        .unwrap()
        .into_iter()
        .map(|s| {
            let sources = s.sources.into_iter().map(|s| s.name).collect();
            (s.item.link.unwrap(), sources)
        })
        .collect();
    all.sort();
    all
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

const TITLE: &str = "Ferrite moves to quarterly releases";

#[test]
fn one_sites_two_feeds_show_a_post_once_whatever_its_links() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ids) = store_of(
        &dir,
        &[
            ("atom", "https://feeds.example.net/blog.atom"),
            ("json", "https://cdn.example.com/feed.json"),
        ],
    );
    // The Atom entry points at the page it links to, the JSON item at the
    // post's permalink; both feeds name the blog as their home.
    let link_post = "https://ferrite.example.com/news";
    let permalink = "https://blog.example.org/2026/ferrite";
    read(
        &mut store,
        ids[0],
        Some("https://www.blog.example.org/"),
        vec![post(link_post, TITLE, 10)],
    );
    let counts = read(
        &mut store,
        ids[1],
        Some("https://blog.example.org/about"),
        vec![post(permalink, "Ferrite Moves to Quarterly Releases!", 10)],
    );
    assert_eq!((counts.new, counts.folded), (1, 1));
    assert_eq!(
        shown(&store),
        [(link_post.to_string(), names(&["atom", "json"]))]
    );
}

#[test]
fn without_home_links_the_feeds_own_host_names_the_site() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ids) = store_of(
        &dir,
        &[
            ("atom", "https://www.blog.example.org/feed.atom"),
            ("json", "https://blog.example.org/feed.json"),
            ("elsewhere", "https://other.example.org/feed.json"),
        ],
    );
    read_one(&mut store, ids[0], post("https://x.example/1", TITLE, 10));
    read_one(&mut store, ids[1], post("https://x.example/2", TITLE, 11));
    read_one(&mut store, ids[2], post("https://x.example/3", TITLE, 11));
    assert_eq!(
        shown(&store),
        [
            ("https://x.example/1".to_string(), names(&["atom", "json"])),
            ("https://x.example/3".to_string(), names(&["elsewhere"])),
        ]
    );
}

#[test]
fn two_sites_keep_their_same_titled_posts_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ids) = store_of(
        &dir,
        &[
            ("one", "https://example.org/feed"),
            ("two", "https://example.org/other-feed"),
        ],
    );
    // Served from one host, the feeds name two sites as their homes.
    read(
        &mut store,
        ids[0],
        Some("https://one.example.com/"),
        vec![post("https://one.example.com/p", TITLE, 10)],
    );
    let counts = read(
        &mut store,
        ids[1],
        Some("https://two.example.com/"),
        vec![post("https://two.example.com/p", TITLE, 10)],
    );
    assert_eq!(counts.folded, 0);
    assert_eq!(shown(&store).len(), 2);
}

#[test]
fn a_title_repeated_by_one_source_is_two_stories() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ids) = store_of(&dir, &ONE_SITE);
    // Even with titles folded across sites, a thread posted twice in the
    // window by one feed is two posts, and the other feed's copy of the
    // second joins the second, the nearer in time.
    store.set_fold_policy(FoldPolicy {
        title_match: true,
        ..store.fold
    });
    let thread = "Open thread for the weekend";
    read(
        &mut store,
        ids[0],
        None,
        vec![
            post("https://example.org/threads/1", thread, 9),
            post("https://example.org/threads/2", thread, 21),
        ],
    );
    read_one(
        &mut store,
        ids[1],
        post("https://example.org/t?id=2", thread, 21),
    );
    assert_eq!(
        shown(&store),
        [
            (
                "https://example.org/threads/1".to_string(),
                names(&["atom"])
            ),
            (
                "https://example.org/threads/2".to_string(),
                names(&["atom", "json"])
            ),
        ]
    );
}

#[test]
fn same_site_titles_off_folds_by_link_only() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ids) = store_of(&dir, &ONE_SITE);
    store.set_fold_policy(FoldPolicy {
        same_site_titles: false,
        ..store.fold
    });
    read_one(&mut store, ids[0], post("https://example.org/a", TITLE, 10));
    read_one(&mut store, ids[1], post("https://example.org/b", TITLE, 10));
    assert_eq!(shown(&store).len(), 2);
}

#[test]
fn titles_fold_only_within_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ids) = store_of(&dir, &ONE_SITE);
    store.set_fold_policy(FoldPolicy {
        title_window_ms: 3_600_000,
        ..store.fold
    });
    read_one(&mut store, ids[0], post("https://example.org/a", TITLE, 8));
    read_one(&mut store, ids[1], post("https://example.org/b", TITLE, 10));
    assert_eq!(shown(&store).len(), 2);
}

#[test]
fn a_short_title_folds_only_when_dated_alike() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ids) = store_of(
        &dir,
        &[
            ("atom", "https://example.org/feed.atom"),
            ("json", "https://example.org/feed.json"),
            ("other", "https://other.example.net/feed.json"),
        ],
    );
    read(
        &mut store,
        ids[0],
        None,
        vec![
            post("https://ebooks.example.com/", "Standard Ebooks", 10),
            post("https://example.org/episodes/12", "Episode 12", 10),
        ],
    );
    // The same link post in the other format, at the same time: one story.
    // An "Episode 12" an hour later, or another site's at the same time, is
    // another post.
    read(
        &mut store,
        ids[1],
        None,
        vec![
            post("https://example.org/2026/ebooks", "Standard Ebooks", 10),
            post("https://example.org/e?n=12", "Episode 12", 11),
        ],
    );
    read_one(
        &mut store,
        ids[2],
        post("https://other.example.net/12", "Episode 12", 10),
    );
    assert_eq!(
        shown(&store),
        [
            (
                "https://ebooks.example.com/".to_string(),
                names(&["atom", "json"])
            ),
            ("https://example.org/e?n=12".to_string(), names(&["json"])),
            (
                "https://example.org/episodes/12".to_string(),
                names(&["atom"])
            ),
            (
                "https://other.example.net/12".to_string(),
                names(&["other"])
            ),
        ]
    );
}

#[test]
fn a_title_key_is_the_titles_words_lowercased() {
    use crate::store::title_fold::title_key;
    let cases = [
        ("Rust 2.0 -- Released!", Some("rust 2 0 released")),
        ("  Élan   vital ", Some("élan vital")),
        ("ΟΔΟΣ ΚΑΙ ΣΟΦΙΑ", Some("οδος και σοφια")),
        ("İstanbul", Some("i\u{307}stanbul")),
        ("日本語のタイトル", Some("日本語のタイトル")),
        ("--- !!! ---", None),
        ("", None),
    ];
    for (title, want) in cases {
        assert_eq!(title_key(title).as_deref(), want, "{title:?}");
    }
}
