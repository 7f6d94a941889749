//! Retention: items past the configured age, beyond each source's newest
//! few, pruned in batches and tombstoned so they never come back.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::stories::tidy_stories;
use super::{SqliteStore, StoreError, begin_write, search, to_millis};

/// Items pruned in one commit at most.
const PRUNE_BATCH: usize = 1000;

impl SqliteStore {
    /// Retention: prunes items dated more than `retention` before `now`, beyond
    /// each source's newest `keep_per_source`.
    pub(super) fn prune_past_retention(
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
            // Ranked from the index alone (items_by_source_time covers it);
            // only the doomed items' rows are read.
            .prepare_cached(
                "SELECT i.id, i.source_id, i.key, i.story_id FROM (
                    SELECT id, sort_at, row_number() OVER
                        (PARTITION BY source_id ORDER BY sort_at DESC, id DESC) AS rank
                    FROM items) r JOIN items i ON i.id = r.id
                 WHERE r.rank > ?1 AND r.sort_at < ?2",
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
