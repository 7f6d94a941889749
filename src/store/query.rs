//! Reading stored items and stories back.

use chrono::{DateTime, Utc};
use rusqlite::{Row, params};

use super::{Store, StoreError, from_millis};
use crate::model::{Enclosure, Person};

/// An item as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub id: i64,
    pub source: String,
    pub key: String,
    pub canonical_link: Option<String>,
    pub link: Option<String>,
    pub title: Option<String>,
    pub authors: Vec<Person>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    pub base: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
}

const ITEM_COLUMNS: &str = "i.id, s.name, i.key, i.canonical_link, i.link, i.title, i.authors,
    i.summary, i.content, i.categories, i.enclosures, i.base, i.published, i.updated, i.first_seen,
    s.fetch_url, s.site_link, s.title";

fn stored_item(r: &Row) -> rusqlite::Result<StoredItem> {
    let json = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    Ok(StoredItem {
        id: r.get(0)?,
        source: r.get(1)?,
        key: r.get(2)?,
        canonical_link: r.get(3)?,
        link: r.get(4)?,
        title: r.get(5)?,
        authors: serde_json::from_str(&json(6)?).unwrap_or_default(),
        summary: r.get(7)?,
        content: r.get(8)?,
        categories: serde_json::from_str(&json(9)?).unwrap_or_default(),
        enclosures: serde_json::from_str(&json(10)?).unwrap_or_default(),
        base: r.get(11)?,
        published: r.get::<_, Option<i64>>(12)?.map(from_millis),
        updated: r.get::<_, Option<i64>>(13)?.map(from_millis),
        first_seen: from_millis(r.get(14)?),
    })
}

/// A source as an entry names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub name: String,
    /// the feed's address
    pub feed_url: String,
    /// the site the feed belongs to, when it says
    pub site_link: Option<String>,
    pub title: Option<String>,
}

/// One entry of the merged feed: the primary copy of a story, with every source
/// that carried it and the categories of all its copies.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    pub id: i64,
    /// the id the entry is published under, fixed when the story was made;
    /// `None` for stories made before ids were stored
    pub entry_id: Option<String>,
    pub sort_at: DateTime<Utc>,
    pub item: StoredItem,
    /// every source that carried the story, the primary copy's first
    pub sources: Vec<SourceRef>,
    pub categories: Vec<String>,
}

/// Where a page of stories starts: strictly after this one, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoryCursor {
    pub sort_at: i64,
    pub id: i64,
}

#[derive(Debug, Clone, Default)]
pub struct StoryQuery {
    /// only stories with copies in every one of these categories (slugs)
    pub categories: Vec<String>,
    /// only stories with a copy matching this full-text search
    pub search: Option<String>,
    /// only stories carried by this source
    pub source: Option<String>,
    /// at most this many; `None` for all
    pub limit: Option<u32>,
    pub before: Option<StoryCursor>,
}

impl Story {
    pub fn cursor(&self) -> StoryCursor {
        StoryCursor {
            sort_at: self.sort_at.timestamp_millis(),
            id: self.id,
        }
    }
}

impl Store {
    /// The items of one source, newest first.
    pub fn items_of_source(&self, source: &str) -> Result<Vec<StoredItem>, StoreError> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items i JOIN sources s ON s.id = i.source_id
             WHERE s.name = ?1 ORDER BY i.sort_at DESC, i.id DESC"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![source], stored_item)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stories, newest first. A search that is not valid FTS5 syntax is run
    /// again as plain words.
    pub fn stories(&self, q: &StoryQuery) -> Result<Vec<Story>, StoreError> {
        let ids = match self.story_page(q, q.search.as_deref()) {
            // FTS5 reports bad query syntax in several ways ("syntax error",
            // "unterminated string", "no such column"); any failure of the
            // query as typed is retried as plain words.
            Err(StoreError::Sql(_)) if q.search.is_some() => {
                let words = super::quoted_words(q.search.as_deref().unwrap_or_default());
                self.story_page(q, Some(&words))?
            }
            other => other?,
        };
        self.load_stories(ids)
    }

    fn story_page(
        &self,
        q: &StoryQuery,
        search: Option<&str>,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let (before_at, before_id) = q.before.map_or((i64::MAX, i64::MAX), |c| (c.sort_at, c.id));
        let mut sql = String::from(
            "SELECT st.id, st.sort_at FROM stories st WHERE (st.sort_at, st.id) < (?1, ?2)",
        );
        let mut values: Vec<rusqlite::types::Value> = vec![before_at.into(), before_id.into()];
        for category in &q.categories {
            values.push(category.clone().into());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM items i JOIN item_categories c ON c.item_id = i.id
                  WHERE i.story_id = st.id AND c.slug = ?{})",
                values.len()
            ));
        }
        if let Some(source) = &q.source {
            values.push(source.clone().into());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM items i JOIN sources s ON s.id = i.source_id
                  WHERE i.story_id = st.id AND s.name = ?{})",
                values.len()
            ));
        }
        if let Some(search) = search {
            values.push(search.to_string().into());
            sql.push_str(&format!(
                " AND st.id IN (SELECT story_id FROM items WHERE id IN
                  (SELECT rowid FROM items_fts WHERE items_fts MATCH ?{}))",
                values.len()
            ));
        }
        values.push(q.limit.map_or(-1, i64::from).into());
        sql.push_str(&format!(
            " ORDER BY st.sort_at DESC, st.id DESC LIMIT ?{}",
            values.len()
        ));
        let mut page = self.conn.prepare_cached(&sql)?;
        let ids = page
            .query_map(rusqlite::params_from_iter(values), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    fn load_stories(&self, ids: Vec<(i64, i64)>) -> Result<Vec<Story>, StoreError> {
        // The primary copy first, then the others best first.
        let sql = format!(
            "SELECT {ITEM_COLUMNS}, st.entry_id FROM items i JOIN sources s ON s.id = i.source_id
             JOIN stories st ON st.id = i.story_id
             WHERE i.story_id = ?1 ORDER BY i.id IS NOT st.primary_item_id, {}",
            super::stories::COPY_ORDER
        );
        let mut copies = self.conn.prepare_cached(&sql)?;
        let mut stories = Vec::with_capacity(ids.len());
        for (id, sort_at) in ids {
            let mut entry_id = None;
            let copies: Vec<(StoredItem, SourceRef)> = copies
                .query_map([id], |r| {
                    entry_id = r.get(18)?;
                    let item = stored_item(r)?;
                    let source = SourceRef {
                        name: item.source.clone(),
                        // Credentials in a source address are never published.
                        feed_url: crate::redact::redact_text(&r.get::<_, String>(15)?).into_owned(),
                        site_link: r.get(16)?,
                        title: r.get(17)?,
                    };
                    Ok((item, source))
                })?
                .collect::<Result<_, _>>()?;
            let mut sources: Vec<SourceRef> = Vec::new();
            let mut categories: Vec<String> = Vec::new();
            for (item, source) in &copies {
                if !sources.iter().any(|s| s.name == source.name) {
                    sources.push(source.clone());
                }
                for c in &item.categories {
                    if !categories.contains(c) {
                        categories.push(c.clone());
                    }
                }
            }
            let Some((item, _)) = copies.into_iter().next() else {
                continue; // a story is never left empty; skip one if it ever is
            };
            stories.push(Story {
                id,
                entry_id,
                sort_at: from_millis(sort_at),
                item,
                sources,
                categories,
            });
        }
        Ok(stories)
    }
}

/// How the sources are doing, for `/healthz`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    pub last_poll: Option<DateTime<Utc>>,
    pub ok: u64,
    pub failing: u64,
    pub disabled: u64,
    pub items: u64,
    pub stories: u64,
}

impl Store {
    /// Categories with how many stories each has, most used first.
    pub fn category_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.slug, count(DISTINCT i.story_id) AS n FROM item_categories c
             JOIN items i ON i.id = c.item_id GROUP BY c.slug ORDER BY n DESC, c.slug",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn health(&self) -> Result<Health, StoreError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT max(last_fetch_at) FROM sources),
                    (SELECT count(*) FROM sources WHERE disabled = 0 AND consecutive_errors = 0
                        AND last_fetch_at IS NOT NULL),
                    (SELECT count(*) FROM sources WHERE disabled = 0 AND consecutive_errors > 0),
                    (SELECT count(*) FROM sources WHERE disabled = 1),
                    (SELECT count(*) FROM items),
                    (SELECT count(*) FROM stories)",
            [],
            |r| {
                Ok(Health {
                    last_poll: r.get::<_, Option<i64>>(0)?.map(from_millis),
                    ok: r.get::<_, i64>(1)? as u64,
                    failing: r.get::<_, i64>(2)? as u64,
                    disabled: r.get::<_, i64>(3)? as u64,
                    items: r.get::<_, i64>(4)? as u64,
                    stories: r.get::<_, i64>(5)? as u64,
                })
            },
        )?)
    }

    /// Changes whenever another connection commits: cached output built at an
    /// older value is stale.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }
}
