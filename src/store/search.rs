//! The full-text index: filled in batches after polls, queried by `q=`.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Store, StoreError};
use crate::sanitize::text_for_index;

/// Characters of an item's summary (or content) that go into the index.
const INDEXED_CHARS: usize = 2000;

impl Store {
    /// Indexes every item stored or changed since the last pass. Returns how many.
    pub fn index_pending(&mut self) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let upto: i64 = tx.query_row("SELECT indexed_upto FROM fts_state", [], |r| r.get(0))?;
        let mut indexed = 0u64;
        let mut newest = upto;
        {
            let mut rows = tx.prepare(
                "SELECT id, title, coalesce(summary, content) FROM items
                 WHERE id > ?1 OR id IN (SELECT item_id FROM fts_stale) ORDER BY id",
            )?;
            let mut forget = tx.prepare_cached("DELETE FROM items_fts WHERE rowid = ?1")?;
            let mut insert = tx
                .prepare_cached("INSERT INTO items_fts (rowid, title, body) VALUES (?1, ?2, ?3)")?;
            let mut it = rows.query([upto])?;
            while let Some(r) = it.next()? {
                let id: i64 = r.get(0)?;
                let title: Option<String> = r.get(1)?;
                let body: Option<String> = r.get(2)?;
                if id <= upto {
                    forget.execute([id])?;
                }
                let body = body.map(|b| text_for_index(&b, INDEXED_CHARS));
                insert.execute(params![id, title, body])?;
                newest = newest.max(id);
                indexed += 1;
            }
        }
        tx.execute("DELETE FROM fts_stale", [])?;
        tx.execute("UPDATE fts_state SET indexed_upto = ?1", [newest])?;
        tx.commit()?;
        Ok(indexed)
    }

    /// Whether items wait to be indexed.
    pub fn index_is_stale(&self) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT coalesce(max(id), 0) FROM items) > indexed_upto
                    OR EXISTS (SELECT 1 FROM fts_stale) FROM fts_state",
            [],
            |r| r.get(0),
        )?)
    }
}

/// An indexed item changed: it is indexed again on the next pass.
pub(super) fn mark_stale(tx: &Connection, item_id: i64) -> Result<(), StoreError> {
    let upto: Option<i64> = tx
        .prepare_cached("SELECT indexed_upto FROM fts_state")?
        .query_row([], |r| r.get(0))
        .optional()?;
    if upto.is_some_and(|u| item_id <= u) {
        tx.prepare_cached("INSERT OR IGNORE INTO fts_stale (item_id) VALUES (?1)")?
            .execute([item_id])?;
    }
    Ok(())
}

/// An item left the store: it leaves the index too.
pub(super) fn forget(tx: &Connection, item_id: i64) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM items_fts WHERE rowid = ?1")?
        .execute([item_id])?;
    tx.prepare_cached("DELETE FROM fts_stale WHERE item_id = ?1")?
        .execute([item_id])?;
    Ok(())
}

/// A user's search as an FTS5 query: as typed when it is valid FTS5 syntax,
/// otherwise each word quoted, so `c++ "rust` finds the words instead of failing.
pub fn quoted_words(q: &str) -> String {
    q.split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}
