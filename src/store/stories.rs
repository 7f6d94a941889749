//! Stories: which story a new item joins, the id the story is published under
//! (fixed when it is made), and which of its copies it is shown from.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::title_fold::{story_by_title, title_key};
use crate::model::IdentifiedItem;

/// How items of different sources are folded into one story (`[dedup]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldPolicy {
    pub across_feeds: bool,
    pub title_match: bool,
    pub same_site_titles: bool,
    pub title_window_ms: i64,
}

/// The `[dedup]` section's defaults.
impl Default for FoldPolicy {
    fn default() -> Self {
        FoldPolicy {
            across_feeds: true,
            title_match: false,
            same_site_titles: true,
            title_window_ms: 48 * 3600 * 1000,
        }
    }
}

impl FoldPolicy {
    /// Whether any story may be joined by its title.
    pub(super) fn by_title(&self) -> bool {
        self.across_feeds && (self.title_match || self.same_site_titles)
    }
}

/// The story a new item belongs to: one known by the same canonical link, else
/// one it shares its title with (see [`story_by_title`]), else a new one made
/// for it, published for good under the publisher's id when usable and not
/// already another entry's, else under one of this database's own
/// ([`own_entry_id`]). For a story known before, also says whether it came
/// from another source (the item is folded); `None` for a new story.
pub(super) fn find_or_create_story(
    tx: &Connection,
    fold: FoldPolicy,
    source_id: i64,
    identified: &IdentifiedItem,
    sort_at: i64,
) -> Result<(i64, Option<bool>), StoreError> {
    let link_key = identified
        .story_link
        .as_deref()
        .filter(|_| fold.across_feeds);
    // Kept whatever the policy, so that a title rule turned on later also
    // finds the stories made before.
    let title_key = identified.item.title.as_deref().and_then(title_key);
    let dated = identified
        .item
        .published
        .or(identified.item.updated)
        .map(super::to_millis);
    if let Some(link) = link_key {
        let found: Option<i64> = tx
            .prepare_cached("SELECT id FROM stories WHERE link_key = ?1")?
            .query_row([link], |r| r.get(0))
            .optional()?;
        if let Some(story_id) = found {
            let folded = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM items WHERE story_id = ?1 AND source_id != ?2)",
                )?
                .query_row(params![story_id, source_id], |r| r.get(0))?;
            return Ok((story_id, Some(folded)));
        }
    }
    if fold.by_title()
        && let Some(title) = &title_key
        && let Some(story_id) = story_by_title(tx, fold, source_id, title, dated, sort_at)?
    {
        return Ok((story_id, Some(true)));
    }
    // Its only copy is its primary: primary_item_id is set once there are more.
    let mut insert = tx.prepare_cached(
        "INSERT INTO stories (link_key, title_key, sort_at, entry_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    // The publisher's id when it names no other entry: the unique index says so
    // as the story is stored, with no lookup before.
    if let Some(id) = crate::model::publisher_entry_id(identified) {
        match insert.execute(params![link_key, title_key, sort_at, id]) {
            Ok(_) => return Ok((tx.last_insert_rowid(), None)),
            Err(e) if names_another_entry(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let entry_id = own_entry_id(tx)?;
    insert.execute(params![link_key, title_key, sort_at, entry_id])?;
    Ok((tx.last_insert_rowid(), None))
}

/// Whether storing a story failed because its entry id is another's.
fn names_another_entry(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, Some(message))
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            && message.contains("stories.entry_id"))
}

/// An id under this database's `tag:` name, for a story whose publisher gave
/// none usable or one already another entry's; never derived from where
/// tributary is served.
fn own_entry_id(tx: &Connection) -> Result<String, StoreError> {
    let taken = |id: &str| -> Result<bool, StoreError> {
        Ok(tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM stories WHERE entry_id = ?1)")?
            .query_row([id], |r| r.get(0))?)
    };
    // A number of its own, not the story's row id: that comes back after the
    // newest story is deleted, an entry id must never. A number a feed already
    // gave as its own id (republishing this tributary's output, say) is skipped.
    let mut next = tx.prepare_cached(
        "UPDATE entry_names SET last_serial = last_serial + 1 WHERE id = 1
         RETURNING tag_prefix, last_serial",
    )?;
    loop {
        let (prefix, serial): (String, i64) = next.query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let id = format!("{prefix}/stories/{serial}");
        if !taken(&id)? {
            return Ok(id);
        }
    }
}

/// The order of a story's copies, best first, whatever order they were fetched
/// in: the earliest published (or, without that, updated; undated copies after
/// dated ones), then the copy whose source comes first in the config (sources
/// no longer configured last), then the one stored first. `i` is the item,
/// `s` its source.
pub(super) const COPY_ORDER: &str = "coalesce(i.published, i.updated) IS NULL,
    coalesce(i.published, i.updated), s.position IS NULL, s.position, i.id";

/// Makes the best of a story's copies its primary (see [`COPY_ORDER`]) and
/// dates the story by it. The story must have a copy.
pub(super) fn settle_story(tx: &Connection, story_id: i64) -> Result<(), StoreError> {
    tx.prepare_cached(&format!(
        "UPDATE stories SET (primary_item_id, sort_at) = (
             SELECT i.id, i.sort_at FROM items i JOIN sources s ON s.id = i.source_id
             WHERE i.story_id = ?1 ORDER BY {COPY_ORDER} LIMIT 1)
         WHERE id = ?1"
    ))?
    .execute([story_id])?;
    Ok(())
}

/// After items left `stories`: drops the stories left empty, and gives the
/// others their best remaining copy as primary.
pub(super) fn tidy_stories(tx: &Connection, stories: &[i64]) -> Result<(), StoreError> {
    for story in stories {
        let empty = tx
            .prepare_cached("SELECT NOT EXISTS (SELECT 1 FROM items WHERE story_id = ?1)")?
            .query_row([story], |r| r.get::<_, bool>(0))?;
        if empty {
            tx.prepare_cached("DELETE FROM stories WHERE id = ?1")?
                .execute([story])?;
        } else {
            settle_story(tx, *story)?;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use chrono::Utc;

    use crate::store::Store as _;

    use crate::model::Validators;
    use crate::model::{IdentityMode, Item, Source};
    use crate::store::{PollRecord, PollResult, SqliteStore, StoryQuery};

    use super::*;

    /// A poll that fetched `items` (and dropped the keys `dropped`) just now.
    pub(in crate::store) fn poll_of(
        source_id: i64,
        items: Vec<IdentifiedItem>,
        dropped: &[&str],
    ) -> PollRecord {
        PollRecord {
            source_id,
            at: Utc::now(),
            next_fetch_at: Utc::now(),
            moved_to: None,
            result: PollResult::Fetched {
                status: 200,
                validators: Validators::default(),
                feed_title: None,
                feed_link: None,
                items,
                dropped: dropped.iter().map(|k| k.to_string()).collect(),
                ttl_minutes: None,
                skip_hours: Vec::new(),
                skip_days: Vec::new(),
            },
        }
    }

    /// A copy known by its guid, of the story at `link`, published on `day` of November 2026.
    fn copy(guid: &str, link: &str, title: &str, day: Option<u32>) -> IdentifiedItem {
        let item = Item {
            guid: Some(guid.into()),
            link: Some(link.into()),
            title: Some(title.into()),
            published: day.map(|d| {
                chrono::DateTime::parse_from_rfc3339(&format!("2026-11-{d:02}T10:00:00Z"))
                    .unwrap()
                    .to_utc()
            }),
            ..Item::default()
        };
        IdentifiedItem {
            key: format!("g:{guid}"),
            canonical_link: Some(link.into()),
            story_link: Some(link.into()),
            item,
        }
    }

    fn two_sources(dir: &tempfile::TempDir) -> (SqliteStore, i64, i64) {
        let mut store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let source = |name: &str| Source {
            name: name.into(),
            url: url::Url::parse(&format!("https://{name}.example/feed")).unwrap(),
            categories: Vec::new(),
            schedule: None,
            identity: IdentityMode::Auto,
            feed_categories: true,
        };
        let states = store.sync_sources(&[source("a"), source("b")]).unwrap();
        (store, states[0].id, states[1].id)
    }

    fn shown(store: &SqliteStore) -> Vec<(String, Option<String>, Vec<String>)> {
        store
            .stories(&StoryQuery::default())
            .unwrap()
            .into_iter()
            .map(|s| {
                let sources = s.sources.into_iter().map(|s| s.name).collect();
                (s.item.title.unwrap(), s.entry_id, sources)
            })
            .collect()
    }

    #[test]
    fn the_next_best_copy_takes_over_from_a_removed_primary_under_the_same_id() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, a, b) = two_sources(&dir);
        let story = "https://news.example/s";
        store
            .record_poll(&poll_of(
                a,
                vec![copy("https://a.example/1", story, "A", Some(20))],
                &[],
            ))
            .unwrap();
        store
            .record_poll(&poll_of(
                b,
                vec![copy("tag:b.example,2026:1", story, "B", Some(21))],
                &[],
            ))
            .unwrap();
        let id = Some("https://a.example/1".to_string());
        assert_eq!(
            shown(&store),
            [("A".into(), id.clone(), vec!["a".into(), "b".into()])]
        );
        // A rule drops A's copy: B's is shown, under the id readers know.
        store
            .record_poll(&poll_of(a, vec![], &["g:https://a.example/1"]))
            .unwrap();
        assert_eq!(shown(&store), [("B".into(), id, vec!["b".into()])]);
    }

    #[test]
    fn a_corrected_date_moves_the_primary_to_the_earliest_copy() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, a, b) = two_sources(&dir);
        let story = "https://news.example/s";
        store
            .record_poll(&poll_of(a, vec![copy("a1", story, "A", Some(20))], &[]))
            .unwrap();
        store
            .record_poll(&poll_of(b, vec![copy("b1", story, "B", Some(21))], &[]))
            .unwrap();
        assert_eq!(shown(&store)[0].0, "A");
        store
            .record_poll(&poll_of(a, vec![copy("a1", story, "A", Some(22))], &[]))
            .unwrap();
        assert_eq!(shown(&store)[0].0, "B");
        assert_eq!(shown(&store)[0].2, ["b", "a"]);
    }

    #[test]
    fn a_publisher_id_names_one_entry_only() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, a, b) = two_sources(&dir);
        let same = "https://same.example/x";
        store
            .record_poll(&poll_of(
                a,
                vec![copy(same, "https://a.example/1", "A", Some(20))],
                &[],
            ))
            .unwrap();
        store
            .record_poll(&poll_of(
                b,
                vec![copy(same, "https://b.example/1", "B", Some(21))],
                &[],
            ))
            .unwrap();
        let ids: Vec<String> = shown(&store).into_iter().filter_map(|s| s.1).collect();
        assert_eq!(ids.len(), 2);
        assert_eq!(
            ids[1], same,
            "the first story made keeps the publisher's id"
        );
        assert!(ids[0].starts_with("tag:tributary,"), "{}", ids[0]);
    }

    #[test]
    fn an_entry_id_of_tributarys_own_is_never_given_twice() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, a, _) = two_sources(&dir);
        let mut ids = Vec::new();
        for n in 0..3 {
            let key = format!("{n}");
            let link = format!("https://a.example/{n}");
            store
                .record_poll(&poll_of(a, vec![copy(&key, &link, "t", Some(20))], &[]))
                .unwrap();
            ids.push(shown(&store)[0].1.clone().unwrap());
            // Dropped again: the story's row, and its number, are free once more.
            store
                .record_poll(&poll_of(a, vec![], &[&format!("g:{key}")]))
                .unwrap();
            assert!(shown(&store).is_empty());
        }
        let prefix = ids[0].rsplit_once('/').unwrap().0;
        assert!(prefix.starts_with("tag:tributary,2"), "{prefix}");
        assert_eq!(
            ids,
            [1, 2, 3].map(|n| format!("{prefix}/{n}")),
            "numbers are not reused"
        );
    }
}
