//! Categories: each item's slugs (`item_categories`) and one label per slug
//! (`category_labels`), the spelling shown wherever the category appears. A
//! label is the first spelling stored, unless the config names the category:
//! then it is the config's.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, StoreError, begin_write};
use crate::model::{CategoryCount, slug};

/// Where a label came from. A label gives way only to one of a later kind.
/// A slug stored before labels were: it stands for itself until spelled.
/// Only migration 4 writes it.
#[cfg(test)]
const MIGRATED: i64 = 0;
/// The first spelling an item brought.
const SPELLED: i64 = 1;
/// The config's spelling.
const CONFIGURED: i64 = 2;

/// Slugs whose label is stored, of the first spelling or the config's, so that
/// an item spelling them again leaves it as it is: filing an item then skips
/// writing its label. Kept by the writer across commits; what a transaction
/// learned counts only once it is committed.
#[derive(Debug, Default)]
pub(super) struct KnownLabels {
    committed: HashSet<String>,
    pending: HashSet<String>,
}

impl KnownLabels {
    /// Slugs remembered at most: past this many they are forgotten, and
    /// their labels checked again.
    const MAX: usize = 100_000;

    fn knows(&self, slug: &str) -> bool {
        self.committed.contains(slug) || self.pending.contains(slug)
    }

    /// The transaction that stored the pending labels was committed.
    pub(super) fn committed(&mut self) {
        if self.committed.len() + self.pending.len() > Self::MAX {
            self.committed.clear();
        }
        self.committed.extend(self.pending.drain());
    }

    /// The transaction that stored the pending labels was rolled back.
    pub(super) fn rolled_back(&mut self) {
        self.pending.clear();
    }
}

/// Files the item under its categories (labels), replacing those it had when
/// `replace`; a slug seen for the first time keeps this spelling as its label.
/// With `known`, labels it holds are not written again.
pub(super) fn set_categories(
    tx: &Connection,
    item_id: i64,
    categories: &[String],
    replace: bool,
    mut known: Option<&mut KnownLabels>,
) -> Result<(), StoreError> {
    if replace {
        tx.prepare_cached("DELETE FROM item_categories WHERE item_id = ?1")?
            .execute([item_id])?;
    }
    let mut insert =
        tx.prepare_cached("INSERT OR IGNORE INTO item_categories (slug, item_id) VALUES (?1, ?2)")?;
    for c in categories {
        let slug = slug(c);
        if slug.is_empty() {
            continue;
        }
        insert.execute(params![slug, item_id])?;
        match known.as_deref_mut() {
            Some(known) if known.knows(&slug) => {}
            Some(known) => {
                remember_label(tx, &slug, c, SPELLED)?;
                known.pending.insert(slug);
            }
            None => remember_label(tx, &slug, c, SPELLED)?,
        }
    }
    Ok(())
}

/// Records `label` for `slug` unless it has one of the same or a later kind.
fn remember_label(tx: &Connection, slug: &str, label: &str, origin: i64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO category_labels (slug, label, origin) VALUES (?1, ?2, ?3)
         ON CONFLICT (slug) DO UPDATE SET label = excluded.label, origin = excluded.origin
         WHERE origin < excluded.origin OR (excluded.origin = ?4 AND label IS NOT excluded.label)",
    )?
    .execute(params![slug, label, origin, CONFIGURED])?;
    Ok(())
}

impl SqliteStore {
    /// Makes the config's spelling the label of every category it names
    /// (sources' and rules'). Labels already so are not written again.
    pub(super) fn name_categories(&mut self, labels: &[String]) -> Result<(), StoreError> {
        let tx = begin_write(&mut self.conn)?;
        for label in labels {
            let slug = slug(label);
            if !slug.is_empty() {
                remember_label(&tx, &slug, label, CONFIGURED)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The label of the category `slug`, when one was ever stored.
    pub(super) fn category_label(&self, slug: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT label FROM category_labels WHERE slug = ?1")?
            .query_row([slug], |r| r.get(0))
            .optional()?)
    }

    /// Whether any stored item carries the category `slug`.
    pub(super) fn has_category(&self, slug: &str) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM item_categories WHERE slug = ?1)",
            [slug],
            |r| r.get(0),
        )?)
    }

    /// Categories with how many stories each has, most used first.
    pub(super) fn category_counts(&self) -> Result<Vec<CategoryCount>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT g.slug, coalesce(l.label, g.slug), g.n FROM
               (SELECT c.slug AS slug, count(DISTINCT i.story_id) AS n FROM item_categories c
                JOIN items i ON i.id = c.item_id GROUP BY c.slug) AS g
             LEFT JOIN category_labels l ON l.slug = g.slug
             ORDER BY g.n DESC, g.slug",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CategoryCount {
                slug: r.get(0)?,
                label: r.get(1)?,
                stories: r.get::<_, i64>(2)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The categories of a story's copies as shown: each slug once, in the
    /// order met, under its label (the copy's own spelling when none is stored).
    pub(super) fn shown_categories<'a>(
        &self,
        copies: impl IntoIterator<Item = &'a String>,
        labels: &mut HashMap<String, Option<String>>,
    ) -> Result<Vec<String>, StoreError> {
        let mut slugs: Vec<String> = Vec::new();
        let mut shown = Vec::new();
        for c in copies {
            let slug = slug(c);
            if slug.is_empty() || slugs.contains(&slug) {
                continue;
            }
            let label = match labels.get(&slug) {
                Some(label) => label.clone(),
                None => {
                    let label = self.category_label(&slug)?;
                    labels.insert(slug.clone(), label.clone());
                    label
                }
            };
            shown.push(label.unwrap_or_else(|| c.clone()));
            slugs.push(slug);
        }
        Ok(shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database whose categories may be filed under items it does not hold.
    fn store(dir: &tempfile::TempDir) -> SqliteStore {
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        store
            .conn
            .pragma_update(None, "foreign_keys", "OFF")
            .unwrap();
        store
    }

    fn file(store: &mut SqliteStore, item_id: i64, categories: &[&str]) {
        let tx = begin_write(&mut store.conn).unwrap();
        let categories: Vec<String> = categories.iter().map(|c| c.to_string()).collect();
        set_categories(&tx, item_id, &categories, true, None).unwrap();
        tx.commit().unwrap();
    }

    fn label(store: &SqliteStore, slug: &str) -> Option<String> {
        store.category_label(slug).unwrap()
    }

    #[test]
    fn a_label_is_the_first_spelling_unless_the_config_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir);
        file(&mut s, 1, &["Machine Learning", "rust"]);
        file(&mut s, 2, &["machine learning", "Rust", "AI"]);
        assert_eq!(
            label(&s, "machine-learning").as_deref(),
            Some("Machine Learning")
        );
        assert_eq!(label(&s, "rust").as_deref(), Some("rust"));
        s.name_categories(&["RUST".into(), "Ai".into()]).unwrap();
        assert_eq!(label(&s, "rust").as_deref(), Some("RUST"));
        assert_eq!(label(&s, "ai").as_deref(), Some("Ai"));
        // A feed's spelling never replaces the config's; a new config spelling does.
        file(&mut s, 3, &["rust"]);
        assert_eq!(label(&s, "rust").as_deref(), Some("RUST"));
        s.name_categories(&["Rust".into()]).unwrap();
        assert_eq!(label(&s, "rust").as_deref(), Some("Rust"));
    }

    #[test]
    fn a_migrated_slug_stands_for_itself_until_a_feed_spells_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir);
        s.conn
            .execute(
                "INSERT INTO category_labels (slug, label, origin) VALUES ('économie', 'économie', ?1)",
                [MIGRATED],
            )
            .unwrap();
        let shown = s
            .shown_categories(&["économie".to_string()], &mut HashMap::new())
            .unwrap();
        assert_eq!(shown, ["économie"]);
        file(&mut s, 1, &["Économie"]);
        file(&mut s, 2, &["ÉCONOMIE"]);
        assert_eq!(label(&s, "économie").as_deref(), Some("Économie"));
    }
}
