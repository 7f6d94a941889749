//! Writing one source's poll result: items inserted or updated in place, fetch
//! state recorded, all in one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use xxhash_rust::xxh3::Xxh3;

use super::stories::{FoldPolicy, find_or_create_story, settle_story, tidy_stories};
use super::{Store, StoreError, begin_write, search, to_millis};
use crate::model::IdentifiedItem;
use crate::model::Validators;

/// Items pruned in one commit at most.
const PRUNE_BATCH: usize = 1000;

/// What polling one source produced, to be stored.
#[derive(Debug)]
pub struct PollRecord {
    pub source_id: i64,
    pub at: DateTime<Utc>,
    pub next_fetch_at: DateTime<Utc>,
    /// the address to fetch from now on, when the feed moved (301/308) or was
    /// found through an HTML page
    pub moved_to: Option<String>,
    pub result: PollResult,
}

#[derive(Debug)]
pub enum PollResult {
    Fetched {
        status: u16,
        validators: Validators,
        feed_title: Option<String>,
        feed_link: Option<String>,
        items: Vec<IdentifiedItem>,
        /// keys of items a rule dropped: tombstoned, and removed if stored before
        dropped: Vec<String>,
        ttl_minutes: Option<u32>,
        skip_hours: Vec<u32>,
        skip_days: Vec<chrono::Weekday>,
    },
    NotModified {
        status: u16,
        validators: Validators,
    },
    Failed {
        status: Option<u16>,
        error: String,
        /// stop polling the source (410 Gone, or too many errors in a row)
        disable: bool,
    },
}

/// What storing one result changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StoreCounts {
    /// items stored for the first time in their source
    pub new: u64,
    /// items seen before whose fields changed
    pub updated: u64,
    /// new items that joined a story already known from another source
    pub folded: u64,
}

impl StoreCounts {
    pub fn add(&mut self, other: StoreCounts) {
        self.new += other.new;
        self.updated += other.updated;
        self.folded += other.folded;
    }
}

impl Store {
    /// Stores one poll result atomically: either all of it is kept or none.
    pub fn record_poll(&mut self, record: &PollRecord) -> Result<StoreCounts, StoreError> {
        self.record_polls(&[record])
            .pop()
            .expect("one result per record")
    }

    /// Stores several poll results in one commit (a group commit: each commit
    /// rewrites the index pages it touches, so fewer commits write far less).
    /// Each record is still all-or-nothing on its own, through a savepoint; the
    /// results say which were kept.
    pub fn record_polls(
        &mut self,
        records: &[&PollRecord],
    ) -> Vec<Result<StoreCounts, StoreError>> {
        let fold = self.fold;
        let mut tx = match begin_write(&mut self.conn) {
            Ok(tx) => tx,
            Err(e) => {
                return records
                    .iter()
                    .map(|_| Err(StoreError::Sql(clone_error(&e))))
                    .collect();
            }
        };
        let mut results = Vec::with_capacity(records.len());
        for record in records {
            let result = tx.savepoint().map_err(StoreError::from).and_then(|sp| {
                let counts = write_record(&sp, fold, record)?;
                sp.commit()?;
                Ok(counts)
            });
            if let Err(e) = &result
                && tx.is_autocommit()
            {
                // SQLite rolled the whole transaction back (a full disk, an I/O
                // error): nothing of this group is kept, and the records left
                // must not run outside a transaction.
                let cause = match e {
                    StoreError::Sql(e) => clone_error(e),
                    _ => rusqlite::Error::InvalidQuery,
                };
                let lost = || Err(StoreError::Sql(clone_error(&cause)));
                results.iter_mut().for_each(|r| *r = lost());
                results.push(result);
                results.resize_with(records.len(), lost);
                return results;
            }
            results.push(result);
        }
        if let Err(e) = tx.commit() {
            return records
                .iter()
                .map(|_| Err(StoreError::Sql(clone_error(&e))))
                .collect();
        }
        results
    }
}

fn clone_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e.sqlite_error() {
        Some(code) => rusqlite::Error::SqliteFailure(*code, Some(e.to_string())),
        None => rusqlite::Error::InvalidQuery,
    }
}

/// Writes one record's changes in `tx`.
fn write_record(
    tx: &Connection,
    fold: FoldPolicy,
    record: &PollRecord,
) -> Result<StoreCounts, StoreError> {
    {
        let at = to_millis(record.at);
        let next = to_millis(record.next_fetch_at);
        let mut counts = StoreCounts::default();
        match &record.result {
            PollResult::Fetched {
                status,
                validators,
                feed_title,
                feed_link,
                items,
                dropped,
                ttl_minutes,
                skip_hours,
                skip_days,
            } => {
                // Most sources have no tombstones: then no item needs looking up.
                let tombstones = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM tombstones WHERE source_id = ?1)",
                    )?
                    .query_row([record.source_id], |r| r.get::<_, bool>(0))?;
                // The source's home link first: folding by site reads it as just read.
                let days: Vec<String> = skip_days.iter().map(|d| d.to_string()).collect();
                tx.prepare_cached(
                    "UPDATE sources SET etag = ?2, last_modified = ?3, title = ?4, site_link = ?5,
                     last_fetch_at = ?6, last_success_at = ?6, last_status = ?7, last_error = NULL,
                     consecutive_errors = 0, next_fetch_at = ?8, ttl_minutes = ?9,
                     skip_hours = ?10, skip_days = ?11 WHERE id = ?1",
                )?
                .execute(params![
                    record.source_id,
                    validators.etag,
                    validators.last_modified,
                    feed_title,
                    feed_link,
                    at,
                    status,
                    next,
                    ttl_minutes,
                    serde_json::to_string(skip_hours)?,
                    serde_json::to_string(&days)?
                ])?;
                for item in items {
                    let source = record.source_id;
                    upsert_item(tx, fold, source, at, item, tombstones, &mut counts)?;
                }
                for key in dropped {
                    tombstone(tx, record.source_id, key, at)?;
                }
            }
            PollResult::NotModified { status, validators } => {
                tx.prepare_cached(
                    "UPDATE sources SET etag = ?2, last_modified = ?3, last_fetch_at = ?4,
                     last_success_at = ?4, last_status = ?5, last_error = NULL,
                     consecutive_errors = 0, next_fetch_at = ?6 WHERE id = ?1",
                )?
                .execute(params![
                    record.source_id,
                    validators.etag,
                    validators.last_modified,
                    at,
                    status,
                    next
                ])?;
            }
            PollResult::Failed {
                status,
                error,
                disable,
            } => {
                tx.prepare_cached(
                    "UPDATE sources SET last_fetch_at = ?2, last_status = ?3, last_error = ?4,
                     consecutive_errors = consecutive_errors + 1, next_fetch_at = ?5,
                     disabled = disabled OR ?6 WHERE id = ?1",
                )?
                .execute(params![
                    record.source_id,
                    at,
                    status,
                    error,
                    next,
                    disable
                ])?;
            }
        }
        if let Some(url) = &record.moved_to {
            tx.prepare_cached("UPDATE sources SET fetch_url = ?2 WHERE id = ?1")?
                .execute(params![record.source_id, url])?;
        }
        Ok(counts)
    }
}

fn upsert_item(
    tx: &Connection,
    fold: FoldPolicy,
    source_id: i64,
    now: i64,
    identified: &IdentifiedItem,
    tombstones: bool,
    counts: &mut StoreCounts,
) -> Result<(), StoreError> {
    let item = &identified.item;
    let fingerprint = fingerprint(identified);
    let existing: Option<(i64, i64, i64, i64)> = tx
        .prepare_cached(
            "SELECT id, fingerprint, first_seen, story_id FROM items
             WHERE source_id = ?1 AND key = ?2",
        )?
        .query_row(params![source_id, identified.key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let published = item.published.map(to_millis);
    let updated = item.updated.map(to_millis);
    let authors = serde_json::to_string(&item.authors)?;
    let categories = serde_json::to_string(&item.categories)?;
    let enclosures = serde_json::to_string(&item.enclosures)?;
    match existing {
        Some((_, old, _, _)) if old == fingerprint => {}
        Some((id, _, first_seen, story_id)) => {
            // A date in the future sorts as when it was first seen, not above all else.
            let sort_at = published.or(updated).unwrap_or(first_seen).min(first_seen);
            super::categories::set_categories(tx, id, &item.categories, true)?;
            search::mark_stale(tx, id)?;
            tx.prepare_cached(
                "UPDATE items SET canonical_link = ?2, link = ?3, title = ?4, authors = ?5,
                 categories = ?6, summary = ?7, content = ?8, enclosures = ?9, base = ?10,
                 published = ?11, updated = ?12, sort_at = ?13, fingerprint = ?14 WHERE id = ?1",
            )?
            .execute(params![
                id,
                identified.canonical_link,
                item.link,
                item.title,
                authors,
                categories,
                item.summary,
                item.content,
                enclosures,
                item.base,
                published,
                updated,
                sort_at,
                fingerprint
            ])?;
            // A corrected date may make another copy the better one.
            settle_story(tx, story_id)?;
            counts.updated += 1;
        }
        None => {
            let tombstoned = tombstones
                && tx
                    .prepare_cached("SELECT 1 FROM tombstones WHERE source_id = ?1 AND key = ?2")?
                    .exists(params![source_id, identified.key])?;
            if tombstoned {
                return Ok(());
            }
            let sort_at = published.or(updated).unwrap_or(now).min(now);
            let (story_id, folded) =
                find_or_create_story(tx, fold, source_id, identified, sort_at)?;
            tx.prepare_cached(
                "INSERT INTO items (source_id, key, canonical_link, link, title, authors,
                 categories, summary, content, enclosures, base, published, updated,
                 first_seen, sort_at, fingerprint, story_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )?
            .execute(params![
                source_id,
                identified.key,
                identified.canonical_link,
                item.link,
                item.title,
                authors,
                categories,
                item.summary,
                item.content,
                enclosures,
                item.base,
                published,
                updated,
                now,
                sort_at,
                fingerprint,
                story_id
            ])?;
            super::categories::set_categories(tx, tx.last_insert_rowid(), &item.categories, false)?;
            if let Some(folded) = folded {
                settle_story(tx, story_id)?;
                counts.folded += u64::from(folded);
            }
            counts.new += 1;
        }
    }
    Ok(())
}

/// Marks an item as never to be stored again, and removes it if it was.
fn tombstone(tx: &Connection, source_id: i64, key: &str, now: i64) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT OR IGNORE INTO tombstones (source_id, key, at) VALUES (?1, ?2, ?3)")?
        .execute(params![source_id, key, now])?;
    let removed: Option<(i64, i64)> = tx
        .prepare_cached(
            "DELETE FROM items WHERE source_id = ?1 AND key = ?2 RETURNING id, story_id",
        )?
        .query_row(params![source_id, key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((id, story)) = removed {
        search::forget(tx, id)?;
        tidy_stories(tx, &[story])?;
    }
    Ok(())
}

impl Store {
    /// Retention: prunes items dated more than `retention` before `now`, beyond
    /// each source's newest `keep_per_source`.
    pub fn prune_past_retention(
        &mut self,
        retention: std::time::Duration,
        keep_per_source: u32,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let cutoff = chrono::TimeDelta::from_std(retention)
            .ok()
            .and_then(|r| now.checked_sub_signed(r))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        self.prune(cutoff, keep_per_source, now)
    }

    /// Prunes, in every source, the items dated before `cutoff` that are not among
    /// its newest `keep_per_source`; they are tombstoned so they never come back.
    /// Returns how many were pruned. Commits in batches, so a large prune does
    /// not hold the write lock for long.
    pub fn prune(
        &mut self,
        cutoff: DateTime<Utc>,
        keep_per_source: u32,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let doomed: Vec<(i64, i64, String, i64)> = self
            .conn
            .prepare_cached(
                "SELECT id, source_id, key, story_id FROM (
                    SELECT id, source_id, key, story_id, sort_at, row_number() OVER
                        (PARTITION BY source_id ORDER BY sort_at DESC, id DESC) AS rank
                    FROM items)
                 WHERE rank > ?1 AND sort_at < ?2",
            )?
            .query_map(params![keep_per_source, to_millis(cutoff)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let at = to_millis(now);
        let mut pruned = 0;
        for batch in doomed.chunks(PRUNE_BATCH) {
            let tx = begin_write(&mut self.conn)?;
            {
                let mut mark = tx.prepare_cached(
                    "INSERT OR IGNORE INTO tombstones (source_id, key, at) VALUES (?1, ?2, ?3)",
                )?;
                // Still past the cutoff: another process may have changed it since.
                let mut delete =
                    tx.prepare_cached("DELETE FROM items WHERE id = ?1 AND sort_at < ?2")?;
                for (id, source_id, key, _) in batch {
                    if delete.execute(params![id, to_millis(cutoff)])? == 0 {
                        continue;
                    }
                    mark.execute(params![source_id, key, at])?;
                    search::forget(&tx, *id)?;
                    pruned += 1;
                }
            }
            let mut stories: Vec<i64> = batch.iter().map(|d| d.3).collect();
            stories.sort_unstable();
            stories.dedup();
            tidy_stories(&tx, &stories)?;
            tx.commit()?;
        }
        Ok(pruned)
    }
}

/// A hash of every stored field, so an item seen again is rewritten only when
/// something in it changed.
fn fingerprint(identified: &IdentifiedItem) -> i64 {
    let item = &identified.item;
    let mut h = Xxh3::new();
    let mut field = |s: Option<&str>| {
        match s {
            Some(s) => {
                h.update(&[1]);
                h.update(s.as_bytes());
            }
            None => h.update(&[0]),
        }
        h.update(&[0xff]);
    };
    field(item.link.as_deref());
    field(item.title.as_deref());
    field(item.summary.as_deref());
    field(item.content.as_deref());
    field(item.base.as_deref());
    field(identified.canonical_link.as_deref());
    // List lengths keep one list's values from passing for the next's.
    field(Some(&item.authors.len().to_string()));
    for a in &item.authors {
        field(a.name.as_deref());
        field(a.email.as_deref());
        field(a.uri.as_deref());
    }
    field(Some(&item.categories.len().to_string()));
    for c in &item.categories {
        field(Some(c));
    }
    for e in &item.enclosures {
        field(Some(&e.url));
        field(e.media_type.as_deref());
        field(e.length.map(|l| l.to_string()).as_deref());
    }
    for t in [item.published, item.updated] {
        field(t.map(|t| t.timestamp_millis().to_string()).as_deref());
    }
    h.digest() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IdentityMode, Item, Source};

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

    fn new_store(dir: &tempfile::TempDir) -> (Store, i64) {
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
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

    fn matches(store: &Store, word: &str) -> i64 {
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
}
