//! Writing one source's poll result: items inserted or updated in place, fetch
//! state recorded, all in one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use xxhash_rust::xxh3::Xxh3;

use super::categories::KnownLabels;
use super::stories::{FoldPolicy, find_or_create_story, settle_story, tidy_stories};
use super::{SqliteStore, StoreError, begin_write, search, to_millis};
use crate::model::IdentifiedItem;
use crate::model::Validators;

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

impl SqliteStore {
    /// Stores several poll results in one commit (a group commit: each commit
    /// rewrites the index pages it touches, so fewer commits write far less).
    /// Each record is still all-or-nothing on its own; the results say which
    /// were kept.
    ///
    /// The group is first written as it comes, in one transaction. Only when
    /// a record fails is that rolled back and the group written again with a
    /// savepoint around each record: a savepoint has SQLite copy every page a
    /// record touches before changing it, which costs more than the records'
    /// own writes.
    pub(super) fn record_polls(
        &mut self,
        records: &[&PollRecord],
    ) -> Vec<Result<StoreCounts, StoreError>> {
        match self.record_all(records) {
            Ok(counts) => counts.into_iter().map(Ok).collect(),
            Err(e) if records.len() == 1 => vec![Err(e)],
            Err(_) => self.record_each(records),
        }
    }

    /// Writes every record in one transaction, or none.
    fn record_all(&mut self, records: &[&PollRecord]) -> Result<Vec<StoreCounts>, StoreError> {
        let fold = self.fold;
        let known = &mut self.known_labels;
        // Labels of a group lost to a panic were never stored.
        known.rolled_back();
        let written = begin_write(&mut self.conn)
            .map_err(StoreError::from)
            .and_then(|tx| {
                let counts = records
                    .iter()
                    .map(|record| write_record(&tx, fold, record, Some(&mut *known)))
                    .collect::<Result<_, _>>()?;
                tx.commit()?;
                Ok(counts)
            });
        match &written {
            Ok(_) => {
                known.committed();
                // The page cache keeps up with the database as polls fill it.
                // The group is committed: nothing here may make it look otherwise.
                if let Err(e) = super::sqlite::size_page_cache(&self.conn) {
                    tracing::debug!(error = %e, "the page cache keeps its size");
                }
            }
            Err(_) => known.rolled_back(),
        }
        written
    }

    /// Writes each record under a savepoint of its own, in one transaction.
    fn record_each(&mut self, records: &[&PollRecord]) -> Vec<Result<StoreCounts, StoreError>> {
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
                let counts = write_record(&sp, fold, record, None)?;
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

/// What writing one source's items needs, item after item.
struct ItemWrite<'a> {
    tx: &'a Connection,
    fold: FoldPolicy,
    source_id: i64,
    /// when the items were fetched (ms)
    now: i64,
    /// whether the source has tombstones to look items up in
    tombstones: bool,
    known: Option<&'a mut KnownLabels>,
}

/// Writes one record's changes in `tx`; with `known`, labels it holds are not
/// written again.
fn write_record(
    tx: &Connection,
    fold: FoldPolicy,
    record: &PollRecord,
    known: Option<&mut KnownLabels>,
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
                let mut write = ItemWrite {
                    tx,
                    fold,
                    source_id: record.source_id,
                    now: at,
                    tombstones,
                    known,
                };
                for item in items {
                    upsert_item(&mut write, item, &mut counts)?;
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
    write: &mut ItemWrite,
    identified: &IdentifiedItem,
    counts: &mut StoreCounts,
) -> Result<(), StoreError> {
    let (tx, source_id, now) = (write.tx, write.source_id, write.now);
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
    if existing.is_some_and(|(_, old, _, _)| old == fingerprint) {
        return Ok(());
    }
    let published = item.published.map(to_millis);
    let updated = item.updated.map(to_millis);
    let authors = serde_json::to_string(&item.authors)?;
    let categories = serde_json::to_string(&item.categories)?;
    let enclosures = serde_json::to_string(&item.enclosures)?;
    match existing {
        Some((id, _, first_seen, story_id)) => {
            // A date in the future sorts as when it was first seen, not above all else.
            let sort_at = published.or(updated).unwrap_or(first_seen).min(first_seen);
            let known = write.known.as_deref_mut();
            super::categories::set_categories(tx, id, &item.categories, true, known)?;
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
            let tombstoned = write.tombstones
                && tx
                    .prepare_cached("SELECT 1 FROM tombstones WHERE source_id = ?1 AND key = ?2")?
                    .exists(params![source_id, identified.key])?;
            if tombstoned {
                return Ok(());
            }
            let sort_at = published.or(updated).unwrap_or(now).min(now);
            let (story_id, folded) =
                find_or_create_story(tx, write.fold, source_id, identified, sort_at)?;
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
            let (id, known) = (tx.last_insert_rowid(), write.known.as_deref_mut());
            super::categories::set_categories(tx, id, &item.categories, false, known)?;
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
mod tests;
