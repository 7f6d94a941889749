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
    i.summary, i.content, i.categories, i.enclosures, i.base, i.published, i.updated, i.first_seen";

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

/// One entry of the merged feed: the first copy of a story, with every source
/// that carried it and the categories of all its copies.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    pub id: i64,
    pub sort_at: DateTime<Utc>,
    pub item: StoredItem,
    /// source names, the first copy's first
    pub sources: Vec<String>,
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
    /// only stories with a copy in this category (a slug)
    pub category: Option<String>,
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

    /// Stories, newest first.
    pub fn stories(&self, q: &StoryQuery) -> Result<Vec<Story>, StoreError> {
        let (before_at, before_id) = q.before.map_or((i64::MAX, i64::MAX), |c| (c.sort_at, c.id));
        let mut page = self.conn.prepare_cached(
            "SELECT st.id, st.sort_at FROM stories st
             WHERE (st.sort_at, st.id) < (?1, ?2)
               AND (?3 IS NULL OR EXISTS (
                    SELECT 1 FROM items i JOIN item_categories c ON c.item_id = i.id
                    WHERE i.story_id = st.id AND c.slug = ?3))
               AND (?4 IS NULL OR EXISTS (
                    SELECT 1 FROM items i JOIN sources s ON s.id = i.source_id
                    WHERE i.story_id = st.id AND s.name = ?4))
             ORDER BY st.sort_at DESC, st.id DESC
             LIMIT ?5",
        )?;
        let limit = q.limit.map_or(-1, i64::from);
        let ids: Vec<(i64, i64)> = page
            .query_map(
                params![before_at, before_id, q.category, q.source, limit],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect::<Result<_, _>>()?;
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items i JOIN sources s ON s.id = i.source_id
             WHERE i.story_id = ?1 ORDER BY i.id"
        );
        let mut copies = self.conn.prepare_cached(&sql)?;
        let mut stories = Vec::with_capacity(ids.len());
        for (id, sort_at) in ids {
            let items: Vec<StoredItem> = copies
                .query_map([id], stored_item)?
                .collect::<Result<_, _>>()?;
            let mut sources: Vec<String> = Vec::new();
            let mut categories: Vec<String> = Vec::new();
            for item in &items {
                if !sources.contains(&item.source) {
                    sources.push(item.source.clone());
                }
                for c in &item.categories {
                    if !categories.contains(c) {
                        categories.push(c.clone());
                    }
                }
            }
            let Some(item) = items.into_iter().next() else {
                continue; // a story is never left empty; skip one if it ever is
            };
            stories.push(Story {
                id,
                sort_at: from_millis(sort_at),
                item,
                sources,
                categories,
            });
        }
        Ok(stories)
    }
}
