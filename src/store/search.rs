//! The full-text index: filled in batches after polls, queried by `q=`.

use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, StoreError, begin_write};
use crate::sanitize::text_for_index;

/// Characters of an item's summary (or content) that go into the index.
const INDEXED_CHARS: usize = 2000;
/// Items indexed in one commit at most.
const INDEX_BATCH: usize = 2000;

impl SqliteStore {
    /// Indexes every item stored or changed since the last pass. Returns how many.
    /// Commits in batches, so a large backlog does not hold the write lock for
    /// long.
    pub(super) fn index_pending(&mut self) -> Result<u64, StoreError> {
        let mut indexed = 0u64;
        loop {
            let (batch, more) = self.index_batch()?;
            indexed += batch;
            if !more {
                return Ok(indexed);
            }
        }
    }

    /// Indexes the next pending items, a few thousand at most, in one
    /// transaction. Returns how many, and whether more wait.
    pub(super) fn index_batch(&mut self) -> Result<(u64, bool), StoreError> {
        let tx = begin_write(&mut self.conn)?;
        let upto: i64 = tx.query_row("SELECT indexed_upto FROM fts_state", [], |r| r.get(0))?;
        let mut indexed = 0u64;
        let mut newest = upto;
        {
            let mut rows = tx.prepare_cached(
                "SELECT id, title, coalesce(summary, content) FROM items
                 WHERE id > ?1 OR id IN (SELECT item_id FROM fts_stale) ORDER BY id LIMIT ?2",
            )?;
            let mut forget = tx.prepare_cached("DELETE FROM items_fts WHERE rowid = ?1")?;
            let mut unstale = tx.prepare_cached("DELETE FROM fts_stale WHERE item_id = ?1")?;
            let mut insert = tx
                .prepare_cached("INSERT INTO items_fts (rowid, title, body) VALUES (?1, ?2, ?3)")?;
            let mut it = rows.query(params![upto, INDEX_BATCH as i64])?;
            while let Some(r) = it.next()? {
                let id: i64 = r.get(0)?;
                let title: Option<String> = r.get(1)?;
                let body: Option<String> = r.get(2)?;
                if id <= upto {
                    forget.execute([id])?;
                    unstale.execute([id])?;
                }
                let body = body.map(|b| text_for_index(&b, INDEXED_CHARS));
                insert.execute(params![id, title, body])?;
                newest = newest.max(id);
                indexed += 1;
            }
        }
        if indexed < INDEX_BATCH as u64 {
            // Stale rows of items gone since are dropped with the last batch.
            tx.execute("DELETE FROM fts_stale", [])?;
        }
        tx.execute("UPDATE fts_state SET indexed_upto = ?1", [newest])?;
        tx.commit()?;
        Ok((indexed, indexed == INDEX_BATCH as u64))
    }

    /// Whether items wait to be indexed.
    pub(super) fn index_is_stale(&self) -> Result<bool, StoreError> {
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
