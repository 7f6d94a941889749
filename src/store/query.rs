//! Reading stored items and stories back.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, StoreError, from_millis};
use crate::model::{SourceRef, StoredItem, Story, StoryCursor};

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

/// Filters a page builds from when they name this many items or fewer: sorting
/// 20,000 candidates takes a few milliseconds, as does walking stories newest
/// first when a filter passes more than that.
const DRIVE_AT_MOST: i64 = 20_000;

/// A condition on stories that an index can answer.
enum Filter {
    /// carried by the source with this id
    Source(i64),
    /// with a copy in the category with this slug
    Category(String),
}

impl Filter {
    fn value(&self) -> rusqlite::types::Value {
        match self {
            Filter::Source(id) => (*id).into(),
            Filter::Category(slug) => slug.clone().into(),
        }
    }

    /// The ids of the stories that pass, given the value as parameter `n`.
    fn stories_sql(&self, n: usize) -> String {
        match self {
            Filter::Source(_) => {
                format!("SELECT DISTINCT story_id FROM items WHERE source_id = ?{n}")
            }
            Filter::Category(_) => format!(
                "SELECT DISTINCT i.story_id FROM item_categories c
                 CROSS JOIN items i ON i.id = c.item_id WHERE c.slug = ?{n}"
            ),
        }
    }

    /// Whether story `st` passes, given the value as parameter `n`.
    fn test_sql(&self, n: usize) -> String {
        match self {
            Filter::Source(_) => format!(
                "EXISTS (SELECT 1 FROM items i WHERE i.source_id = ?{n} AND i.story_id = st.id)"
            ),
            // CROSS JOIN: from the story's few items to their categories. Left
            // to itself SQLite may go through every item of the category
            // instead, for each story: seconds at 100,000 stories.
            Filter::Category(_) => format!(
                "EXISTS (SELECT 1 FROM items i CROSS JOIN item_categories c ON c.item_id = i.id
                  WHERE i.story_id = st.id AND c.slug = ?{n})"
            ),
        }
    }
}

impl SqliteStore {
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
    pub(super) fn stories(&self, q: &StoryQuery) -> Result<Vec<Story>, StoreError> {
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

    /// One page of story ids (with their times). A page is built one of two
    /// ways: when a filter names few stories (a source, a category), from those
    /// through an index, sorted; otherwise by walking every story newest first
    /// and keeping those that pass every filter, which stops as soon as the
    /// page is full. Either way a page costs milliseconds at 100,000 stories,
    /// where walking alone took seconds for a small source.
    fn story_page(
        &self,
        q: &StoryQuery,
        search: Option<&str>,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        self.story_page_driven_at(q, search, DRIVE_AT_MOST)
    }

    /// `story_page`, building from a filter that names at most `drive_at_most`
    /// items (-1: never).
    fn story_page_driven_at(
        &self,
        q: &StoryQuery,
        search: Option<&str>,
        drive_at_most: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut filters = Vec::with_capacity(q.categories.len() + 1);
        if let Some(name) = &q.source {
            match self.source_id(name)? {
                Some(id) => filters.push(Filter::Source(id)),
                None => return Ok(Vec::new()),
            }
        }
        filters.extend(q.categories.iter().cloned().map(Filter::Category));
        let mut driver = None;
        let mut fewest = drive_at_most.saturating_add(1);
        for (i, filter) in filters.iter().enumerate() {
            let n = self.count_at_most(filter, fewest)?;
            if n < fewest {
                (driver, fewest) = (Some(i), n);
            }
        }
        let driver = driver.map(|i| filters.remove(i));

        let (before_at, before_id) = q.before.map_or((i64::MAX, i64::MAX), |c| (c.sort_at, c.id));
        let mut values: Vec<rusqlite::types::Value> = vec![before_at.into(), before_id.into()];
        let mut sql = String::from("SELECT st.id, st.sort_at FROM ");
        match driver {
            None => sql.push_str("stories st"),
            Some(filter) => {
                values.push(filter.value());
                // CROSS JOIN keeps SQLite from turning the loop around.
                sql.push_str(&format!(
                    "({}) AS d CROSS JOIN stories st ON st.id = d.story_id",
                    filter.stories_sql(values.len())
                ));
            }
        }
        sql.push_str(" WHERE (st.sort_at, st.id) < (?1, ?2)");
        for filter in filters {
            values.push(filter.value());
            sql.push_str(&format!(" AND {}", filter.test_sql(values.len())));
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

    fn source_id(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM sources WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    }

    /// How many items `filter` names, counting no further than `at_most`.
    fn count_at_most(&self, filter: &Filter, at_most: i64) -> Result<i64, StoreError> {
        let sql = match filter {
            Filter::Source(_) => {
                "SELECT count(*) FROM (SELECT 1 FROM items WHERE source_id = ?1 LIMIT ?2)"
            }
            Filter::Category(_) => {
                "SELECT count(*) FROM (SELECT 1 FROM item_categories WHERE slug = ?1 LIMIT ?2)"
            }
        };
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row(rusqlite::params![filter.value(), at_most], |r| r.get(0))?)
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
        let mut labels = std::collections::HashMap::new();
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
            for (_, source) in &copies {
                if !sources.iter().any(|s| s.name == source.name) {
                    sources.push(source.clone());
                }
            }
            let categories = self.shown_categories(
                copies.iter().flat_map(|(item, _)| &item.categories),
                &mut labels,
            )?;
            let Some((item, _)) = copies.into_iter().next() else {
                continue; // a story is never left empty; skip one if it ever is
            };
            stories.push(Story {
                id,
                entry_id,
                // The stored time as it is, so the next page's cursor starts
                // exactly after this story; outputs bring it into range.
                sort_at: DateTime::from_timestamp_millis(sort_at)
                    .unwrap_or_else(|| from_millis(sort_at)),
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

impl SqliteStore {
    pub(super) fn health(&self) -> Result<Health, StoreError> {
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
    pub(super) fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests;
