//! Source rows: kept in step with the config, carrying each source's fetch state.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use url::Url;

use super::{SqliteStore, StoreError, begin_write, from_millis};
use crate::model::Source;
use crate::model::Validators;

/// What the poller needs to know about a source before fetching it.
#[derive(Debug, Clone)]
pub struct SourceState {
    pub id: i64,
    pub fetch_url: Url,
    pub validators: Validators,
    pub consecutive_errors: u32,
    pub next_fetch_at: Option<DateTime<Utc>>,
    pub disabled: bool,
    /// RSS `<ttl>` from the last document read
    pub ttl_minutes: Option<u32>,
    pub skip_hours: Vec<u32>,
    pub skip_days: Vec<chrono::Weekday>,
}

/// A source's row as `tributary sources` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub url: String,
    pub fetch_url: String,
    pub last_fetch_at: Option<DateTime<Utc>>,
    pub last_status: Option<u16>,
    pub next_fetch_at: Option<DateTime<Utc>>,
    pub items: u64,
    pub consecutive_errors: u32,
    pub last_error: Option<String>,
    pub disabled: bool,
}

impl SqliteStore {
    /// Makes the source rows match the config: new sources are added; a source
    /// whose URL changed starts afresh (no validators, no errors, due now).
    /// Sources no longer configured keep their rows and items. Each row keeps
    /// its source's place in `sources`, which must be the whole config: it
    /// decides between copies of a story dated alike.
    pub(super) fn sync_sources(
        &mut self,
        sources: &[Source],
    ) -> Result<Vec<SourceState>, StoreError> {
        let tx = begin_write(&mut self.conn)?;
        {
            // Only rows whose place changed are written: most rounds write none.
            let placed: Vec<(i64, String)> = tx
                .prepare_cached("SELECT id, name FROM sources WHERE position IS NOT NULL")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let mut unplace =
                tx.prepare_cached("UPDATE sources SET position = NULL WHERE id = ?1")?;
            let configured: HashSet<&str> = sources.iter().map(|s| s.name.as_str()).collect();
            for (id, name) in placed {
                if !configured.contains(name.as_str()) {
                    unplace.execute([id])?;
                }
            }
            let mut find = tx.prepare_cached("SELECT id, url FROM sources WHERE name = ?1")?;
            let mut insert = tx
                .prepare_cached("INSERT INTO sources (name, url, fetch_url) VALUES (?1, ?2, ?2)")?;
            let mut reset = tx.prepare_cached(
                "UPDATE sources SET url = ?2, fetch_url = ?2, etag = NULL, last_modified = NULL,
                 consecutive_errors = 0, next_fetch_at = NULL, disabled = 0 WHERE id = ?1",
            )?;
            for s in sources {
                let row: Option<(i64, String)> = find
                    .query_row([&s.name], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                match row {
                    None => {
                        insert.execute(params![s.name, s.url.as_str()])?;
                    }
                    Some((id, url)) if url != s.url.as_str() => {
                        reset.execute(params![id, s.url.as_str()])?;
                    }
                    Some(_) => {}
                }
            }
            let mut place = tx.prepare_cached(
                "UPDATE sources SET position = ?2 WHERE name = ?1 AND position IS NOT ?2",
            )?;
            for (position, s) in sources.iter().enumerate() {
                place.execute(params![s.name, position as i64])?;
            }
        }
        tx.commit()?;
        sources.iter().map(|s| self.source_state(&s.name)).collect()
    }

    pub(super) fn source_state(&self, name: &str) -> Result<SourceState, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, fetch_url, etag, last_modified, consecutive_errors, next_fetch_at, disabled,
                    ttl_minutes, skip_hours, skip_days
             FROM sources WHERE name = ?1",
        )?;
        Ok(stmt.query_row([name], |r| {
            let url: String = r.get(1)?;
            Ok(SourceState {
                id: r.get(0)?,
                fetch_url: Url::parse(&url).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        1,
                        rusqlite::types::Type::Text,
                        e.into(),
                    )
                })?,
                validators: Validators {
                    etag: r.get(2)?,
                    last_modified: r.get(3)?,
                },
                consecutive_errors: r.get(4)?,
                next_fetch_at: r.get::<_, Option<i64>>(5)?.map(from_millis),
                disabled: r.get(6)?,
                ttl_minutes: r.get(7)?,
                skip_hours: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
                skip_days: serde_json::from_str::<Vec<String>>(&r.get::<_, String>(9)?)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|d| d.parse().ok())
                    .collect(),
            })
        })?)
    }

    /// Every source row with its item count, in the order given by `names`
    /// (sources not named there are left out).
    pub(super) fn source_statuses(&self, names: &[&str]) -> Result<Vec<SourceStatus>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, url, fetch_url, last_fetch_at, last_status, next_fetch_at,
                    (SELECT count(*) FROM items WHERE source_id = sources.id),
                    consecutive_errors, last_error, disabled
             FROM sources WHERE name = ?1",
        )?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let row = stmt
                .query_row([name], |r| {
                    Ok(SourceStatus {
                        name: r.get(0)?,
                        url: r.get(1)?,
                        fetch_url: r.get(2)?,
                        last_fetch_at: r.get::<_, Option<i64>>(3)?.map(from_millis),
                        last_status: r.get(4)?,
                        next_fetch_at: r.get::<_, Option<i64>>(5)?.map(from_millis),
                        items: r.get::<_, i64>(6)? as u64,
                        consecutive_errors: r.get(7)?,
                        last_error: r.get(8)?,
                        disabled: r.get(9)?,
                    })
                })
                .optional()?;
            out.extend(row);
        }
        Ok(out)
    }

    /// Each source's site (the home link its feed last gave), by source name,
    /// for sources whose feed named one.
    pub(super) fn site_links(&self) -> Result<HashMap<String, String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, site_link FROM sources WHERE site_link IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IdentityMode;

    fn source(name: &str) -> Source {
        Source {
            name: name.into(),
            url: Url::parse(&format!("https://{name}.example/feed")).unwrap(),
            categories: Vec::new(),
            schedule: None,
            identity: IdentityMode::Auto,
            feed_categories: true,
        }
    }

    fn positions(store: &SqliteStore) -> Vec<(String, Option<i64>)> {
        store
            .conn
            .prepare("SELECT name, position FROM sources ORDER BY name")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn sources_keep_their_place_in_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        store.sync_sources(&[source("a"), source("b")]).unwrap();
        let place = |name: &str, p: Option<i64>| (name.to_string(), p);
        assert_eq!(
            positions(&store),
            [place("a", Some(0)), place("b", Some(1))]
        );
        store
            .sync_sources(&[source("c"), source("b"), source("a")])
            .unwrap();
        assert_eq!(
            positions(&store),
            [
                place("a", Some(2)),
                place("b", Some(1)),
                place("c", Some(0))
            ]
        );
        // No longer configured: kept, with no place.
        store.sync_sources(&[source("b")]).unwrap();
        assert_eq!(
            positions(&store),
            [place("a", None), place("b", Some(0)), place("c", None)]
        );
    }
}
