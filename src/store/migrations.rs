//! Schema versions, applied in order and recorded in `PRAGMA user_version`.
//! A migration, once released, is never edited: changes come as a new entry.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: sources with their fetch state, items folded into stories, tombstones
    r#"
    CREATE TABLE sources (
        id                 INTEGER PRIMARY KEY,
        name               TEXT NOT NULL UNIQUE,
        url                TEXT NOT NULL,          -- as configured
        fetch_url          TEXT NOT NULL,          -- after permanent redirects
        etag               TEXT,
        last_modified      TEXT,
        title              TEXT,
        site_link          TEXT,
        last_fetch_at      INTEGER,                -- ms since epoch
        last_success_at    INTEGER,
        last_status        INTEGER,
        last_error         TEXT,
        consecutive_errors INTEGER NOT NULL DEFAULT 0,
        next_fetch_at      INTEGER,
        disabled           INTEGER NOT NULL DEFAULT 0,
        -- what the feed last said about when to read it (RSS ttl, skipHours/Days)
        ttl_minutes        INTEGER,
        skip_hours         TEXT NOT NULL DEFAULT '[]',
        skip_days          TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE items (
        id             INTEGER PRIMARY KEY,
        source_id      INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        key            TEXT NOT NULL,              -- identity within the source
        canonical_link TEXT,
        link           TEXT,
        title          TEXT,
        authors        TEXT NOT NULL DEFAULT '[]', -- JSON
        categories     TEXT NOT NULL DEFAULT '[]', -- JSON
        summary        TEXT,                       -- publisher HTML, sanitized on output
        content        TEXT,
        enclosures     TEXT NOT NULL DEFAULT '[]', -- JSON
        base           TEXT,                       -- URL relative references resolve against
        published      INTEGER,                    -- ms since epoch
        updated        INTEGER,
        first_seen     INTEGER NOT NULL,
        sort_at        INTEGER NOT NULL,           -- published, else updated, else first_seen
        fingerprint    INTEGER NOT NULL,           -- hash of the fields above
        story_id       INTEGER NOT NULL,
        UNIQUE (source_id, key)
    );
    CREATE INDEX items_by_source_time ON items (source_id, sort_at DESC, id DESC);
    CREATE INDEX items_by_story ON items (story_id);
    -- One row per story: items of several sources with the same canonical link
    -- (or, when enabled, the same title) are one story, shown once. Its first
    -- copy seen (lowest item id) is its primary; sort_at is that copy's.
    CREATE TABLE stories (
        id           INTEGER PRIMARY KEY,
        link_key     TEXT UNIQUE,                  -- canonical link it is known by
        title_key    TEXT,                         -- normalized title
        sort_at      INTEGER NOT NULL
    );
    CREATE INDEX stories_by_time ON stories (sort_at DESC, id DESC);
    CREATE INDEX stories_by_title ON stories (title_key, sort_at) WHERE title_key IS NOT NULL;
    CREATE TABLE item_categories (
        slug    TEXT NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        PRIMARY KEY (slug, item_id)
    ) WITHOUT ROWID;
    CREATE INDEX item_categories_by_item ON item_categories (item_id);
    -- Full-text search over title and summary. Filled after a poll round (or
    -- before a search), not while storing, so polls stay fast.
    CREATE VIRTUAL TABLE items_fts USING fts5 (
        title, body, content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TABLE fts_state (
        id           INTEGER PRIMARY KEY CHECK (id = 1),
        indexed_upto INTEGER NOT NULL                -- items up to this id are indexed
    );
    INSERT INTO fts_state VALUES (1, 0);
    -- items indexed before and changed since: indexed again on the next pass
    CREATE TABLE fts_stale (item_id INTEGER PRIMARY KEY);
    CREATE TABLE tombstones (
        source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        key       TEXT NOT NULL,
        at        INTEGER NOT NULL,
        PRIMARY KEY (source_id, key)
    ) WITHOUT ROWID;
    "#,
    // 2: the stories each source carries, straight from an index: a source's
    // page looks them up instead of testing every story for a copy from it
    r#"
    CREATE INDEX items_by_source_story ON items (source_id, story_id);
    "#,
    // 3: entry ids that never depend on where tributary is served, primaries chosen
    // by rule rather than by fetch timing, and sources in their config order.
    r#"
    -- The name this database gives entries of its own: a tag: URI (RFC 4151)
    -- fixed once, with a random UUID so no two databases share it. Entries are
    -- numbered under it after last_serial, which starts past every story's id.
    CREATE TABLE entry_names (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        tag_prefix  TEXT NOT NULL,
        last_serial INTEGER NOT NULL
    );
    WITH r(h) AS (SELECT lower(hex(randomblob(16))))
    INSERT INTO entry_names (id, tag_prefix, last_serial)
    SELECT 1,
           'tag:tributary,' || strftime('%Y', 'now') || ':'
               || substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-'
               || substr('89ab', 1 + (unicode(substr(h, 17, 1)) % 4), 1) || substr(h, 18, 3) || '-'
               || substr(h, 21, 12),
           (SELECT coalesce(max(id), 0) FROM stories)
    FROM r;
    -- The id an entry is published under, set when its story is made and never
    -- changed. NULL for stories made before: they keep the id they were served
    -- under, {base_url}stories/{id}.
    ALTER TABLE stories ADD COLUMN entry_id TEXT;
    CREATE UNIQUE INDEX stories_by_entry_id ON stories (entry_id);
    -- The copy the story is shown from, once it has several (with one, that one).
    -- Stories made before keep their first copy.
    ALTER TABLE stories ADD COLUMN primary_item_id INTEGER;
    UPDATE stories SET primary_item_id = (SELECT min(id) FROM items WHERE story_id = stories.id);
    -- The source's place in the config (0 first); NULL once it is no longer configured.
    ALTER TABLE sources ADD COLUMN position INTEGER;
    "#,
    // 4: categories keep the label they were first spelled with; slugs stay
    // what items are filed and found by. Slugs stored before stand for
    // themselves until an item spells them.
    r#"
    CREATE TABLE category_labels (
        slug   TEXT PRIMARY KEY,
        label  TEXT NOT NULL,
        origin INTEGER NOT NULL    -- 0: a slug from before labels, 1: first spelling stored, 2: the config's
    ) WITHOUT ROWID;
    INSERT INTO category_labels (slug, label, origin)
    SELECT DISTINCT slug, slug, 0 FROM item_categories;
    "#,
];

/// The schema version this tributary writes.
pub(super) fn known() -> i64 {
    MIGRATIONS.len() as i64
}

pub(super) fn run(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let known = known();
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > known {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: current,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = super::begin_write(conn)?;
        // Another process may have migrated while this one waited for the lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "database schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag_prefix(path: &Path) -> String {
        let store = crate::store::SqliteStore::open(path).unwrap();
        store
            .conn
            .query_row("SELECT tag_prefix FROM entry_names", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn every_database_names_its_entries_with_a_tag_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let one = tag_prefix(&dir.path().join("one.db"));
        let other = tag_prefix(&dir.path().join("other.db"));
        assert_ne!(one, other);
        // tag:tributary,YYYY:xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx (RFC 4151, RFC 9562)
        let (entity, uuid) = one.strip_prefix("tag:tributary,").unwrap().split_at(5);
        assert!(entity[..4].chars().all(|c| c.is_ascii_digit()) && &entity[4..] == ":");
        let groups: Vec<&str> = uuid.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12], "{one}");
        assert!(
            uuid.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
            "{one}"
        );
        assert!(groups[2].starts_with('4') && groups[3].starts_with(['8', '9', 'a', 'b']));
        // Fixed once: opening again keeps it.
        assert_eq!(tag_prefix(&dir.path().join("one.db")), one);
    }

    #[test]
    fn categories_stored_before_labels_are_labelled_by_their_slugs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            r#"INSERT INTO sources (id, name, url, fetch_url) VALUES (1, 'a', 'https://a.example/', 'https://a.example/');
               INSERT INTO stories (id, sort_at, primary_item_id) VALUES (1, 0, 1);
               INSERT INTO items (id, source_id, key, categories, first_seen, sort_at, fingerprint, story_id)
               VALUES (1, 1, 'k', '["machine learning", "rust"]', 0, 0, 0, 1);
               INSERT INTO item_categories (slug, item_id) VALUES ('machine-learning', 1), ('rust', 1);"#,
        )
        .unwrap();
        drop(conn);
        let store = crate::store::SqliteStore::open(&path).unwrap();
        let label = |slug: &str| store.category_label(slug).unwrap();
        assert_eq!(
            label("machine-learning").as_deref(),
            Some("machine-learning")
        );
        assert_eq!(label("rust").as_deref(), Some("rust"));
        let stories = store.stories(&crate::store::StoryQuery::default()).unwrap();
        assert_eq!(stories[0].categories, ["machine-learning", "rust"]);
        let counts = store.category_counts().unwrap();
        assert_eq!(counts[0].label, "machine-learning");
    }
}
