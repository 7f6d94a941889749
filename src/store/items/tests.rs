//! Storing poll results: items written, rewritten only when changed, tombstoned.

use super::*;
use crate::model::{IdentityMode, Item, Source};
use crate::store::Store as _;

fn fetched(source_id: i64, key: &str, text_len: usize) -> PollRecord {
    fetched_titled(source_id, &[(key, &format!("Story {key}"))], text_len)
}

fn fetched_titled(source_id: i64, items: &[(&str, &str)], text_len: usize) -> PollRecord {
    let items = items
        .iter()
        .map(|(key, title)| identified(key, title, text_len))
        .collect();
    crate::store::stories::tests::poll_of(source_id, items, &[])
}

fn identified(key: &str, title: &str, text_len: usize) -> IdentifiedItem {
    let item = Item {
        guid: Some(key.into()),
        link: Some(format!("https://site.example/{key}")),
        title: Some(title.into()),
        summary: Some("x".repeat(text_len)),
        ..Item::default()
    };
    IdentifiedItem {
        key: key.into(),
        canonical_link: item.link.clone(),
        story_link: item.link.clone(),
        item,
    }
}

fn new_store(dir: &tempfile::TempDir) -> (SqliteStore, i64) {
    let mut store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let source = Source {
        name: "a".into(),
        url: url::Url::parse("https://site.example/feed").unwrap(),
        categories: Vec::new(),
        schedule: None,
        identity: IdentityMode::Auto,
        feed_categories: true,
    };
    let id = store.sync_sources(&[source]).unwrap()[0].id;
    (store, id)
}

fn matches(store: &SqliteStore, word: &str) -> i64 {
    store
        .conn
        .query_row(
            "SELECT count(*) FROM items_fts WHERE items_fts MATCH ?1",
            [word],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn indexing_in_batches_misses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, id) = new_store(&dir);
    let keys: Vec<String> = (0..2500).map(|n| n.to_string()).collect();
    let titles: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "Story")).collect();
    store.record_poll(&fetched_titled(id, &titles, 10)).unwrap();
    assert_eq!(store.index_pending().unwrap(), 2500);
    assert_eq!(matches(&store, "story"), 2500);
    assert!(!store.index_is_stale().unwrap());

    // One item changed, one new: both indexed on the next pass.
    let changed = [("5", "Zebra"), ("new", "Zebra")];
    store
        .record_poll(&fetched_titled(id, &changed, 10))
        .unwrap();
    assert_eq!(store.index_pending().unwrap(), 2);
    assert_eq!(matches(&store, "zebra"), 2);
    assert_eq!(matches(&store, "story"), 2499);
}

#[test]
fn a_group_that_fills_the_disk_keeps_none_of_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, id) = new_store(&dir);
    // The database may not grow: SQLite fails the big record with
    // SQLITE_FULL and rolls the whole transaction back.
    let _: i64 = store
        .conn
        .query_row("PRAGMA max_page_count = 1", [], |r| r.get(0))
        .unwrap();
    let (small, big, after) = (
        fetched(id, "1", 10),
        fetched(id, "2", 200_000),
        fetched(id, "3", 10),
    );
    let results = store.record_polls(&[&small, &big, &after]);
    assert_eq!(results.len(), 3);
    for r in &results {
        let e = r.as_ref().expect_err("nothing of the group is kept");
        assert!(e.to_string().contains("full"), "{e}");
    }
    let items: i64 = store
        .conn
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        items, 0,
        "no record ran outside the rolled back transaction"
    );
    assert!(store.conn.is_autocommit());
}

#[test]
fn a_record_that_fails_alone_leaves_the_rest_of_its_group_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, id) = new_store(&dir);
    // A source the database does not know: its items break the foreign key.
    let (before, unknown, after) = (
        fetched(id, "1", 10),
        fetched(id + 100, "2", 10),
        fetched(id, "3", 10),
    );
    let results = store.record_polls(&[&before, &unknown, &after]);
    let kept: Vec<bool> = results.iter().map(Result::is_ok).collect();
    assert_eq!(kept, [true, false, true], "{results:?}");
    let keys: Vec<String> = store
        .conn
        .prepare("SELECT key FROM items ORDER BY key")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(keys, ["1", "3"]);
    let stories: i64 = store
        .conn
        .query_row("SELECT count(*) FROM stories", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stories, 2, "the failed record made no story");
    assert!(store.conn.is_autocommit());
}
