//! Reading stored items back.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Store, StoreError, from_millis};

/// An item as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub id: i64,
    pub source: String,
    pub key: String,
    pub canonical_link: Option<String>,
    pub link: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub categories: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
}

impl Store {
    /// The items of one source, newest first.
    pub fn items_of_source(&self, source: &str) -> Result<Vec<StoredItem>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.id, s.name, i.key, i.canonical_link, i.link, i.title, i.summary, i.content,
                    i.categories, i.published, i.first_seen
             FROM items i JOIN sources s ON s.id = i.source_id
             WHERE s.name = ?1 ORDER BY i.sort_at DESC, i.id DESC",
        )?;
        let rows = stmt.query_map(params![source], |r| {
            let categories: String = r.get(8)?;
            Ok(StoredItem {
                id: r.get(0)?,
                source: r.get(1)?,
                key: r.get(2)?,
                canonical_link: r.get(3)?,
                link: r.get(4)?,
                title: r.get(5)?,
                summary: r.get(6)?,
                content: r.get(7)?,
                categories: serde_json::from_str(&categories).unwrap_or_default(),
                published: r.get::<_, Option<i64>>(9)?.map(from_millis),
                first_seen: from_millis(r.get(10)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
