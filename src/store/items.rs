//! Writing one source's poll result: items inserted or updated in place, fetch
//! state recorded, all in one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use xxhash_rust::xxh3::Xxh3;

use super::{Store, StoreError, to_millis};
use crate::fetch::Validators;
use crate::model::IdentifiedItem;

/// What polling one source produced, to be stored.
#[derive(Debug)]
pub struct PollRecord {
    pub source_id: i64,
    pub at: DateTime<Utc>,
    pub next_fetch_at: DateTime<Utc>,
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
    },
    NotModified {
        status: u16,
        validators: Validators,
    },
    Failed {
        status: Option<u16>,
        error: String,
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
        let tx = self.conn.transaction()?;
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
            } => {
                for item in items {
                    upsert_item(&tx, record.source_id, at, item, &mut counts)?;
                }
                tx.prepare_cached(
                    "UPDATE sources SET etag = ?2, last_modified = ?3, title = ?4, site_link = ?5,
                     last_fetch_at = ?6, last_success_at = ?6, last_status = ?7, last_error = NULL,
                     consecutive_errors = 0, next_fetch_at = ?8 WHERE id = ?1",
                )?
                .execute(params![
                    record.source_id,
                    validators.etag,
                    validators.last_modified,
                    feed_title,
                    feed_link,
                    at,
                    status,
                    next
                ])?;
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
            PollResult::Failed { status, error } => {
                tx.prepare_cached(
                    "UPDATE sources SET last_fetch_at = ?2, last_status = ?3, last_error = ?4,
                     consecutive_errors = consecutive_errors + 1, next_fetch_at = ?5 WHERE id = ?1",
                )?
                .execute(params![record.source_id, at, status, error, next])?;
            }
        }
        tx.commit()?;
        Ok(counts)
    }
}

fn upsert_item(
    tx: &Transaction,
    source_id: i64,
    now: i64,
    identified: &IdentifiedItem,
    counts: &mut StoreCounts,
) -> Result<(), StoreError> {
    let item = &identified.item;
    let fingerprint = fingerprint(identified);
    let existing: Option<(i64, i64, i64)> = tx
        .prepare_cached(
            "SELECT id, fingerprint, first_seen FROM items WHERE source_id = ?1 AND key = ?2",
        )?
        .query_row(params![source_id, identified.key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let published = item.published.map(to_millis);
    let updated = item.updated.map(to_millis);
    let authors = serde_json::to_string(&item.authors)?;
    let categories = serde_json::to_string(&item.categories)?;
    let enclosures = serde_json::to_string(&item.enclosures)?;
    match existing {
        Some((_, old, _)) if old == fingerprint => {}
        Some((id, _, first_seen)) => {
            // A date in the future sorts as when it was first seen, not above all else.
            let sort_at = published.or(updated).unwrap_or(first_seen).min(first_seen);
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
            counts.updated += 1;
        }
        None => {
            let tombstoned = tx
                .prepare_cached("SELECT 1 FROM tombstones WHERE source_id = ?1 AND key = ?2")?
                .exists(params![source_id, identified.key])?;
            if tombstoned {
                return Ok(());
            }
            let sort_at = published.or(updated).unwrap_or(now).min(now);
            tx.prepare_cached(
                "INSERT INTO items (source_id, key, canonical_link, link, title, authors,
                 categories, summary, content, enclosures, base, published, updated,
                 first_seen, sort_at, fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
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
                fingerprint
            ])?;
            counts.new += 1;
        }
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
