//! SQLite storage, the only module that speaks SQL: opening (WAL, versioned
//! migrations), per-source fetch state, and items written one transaction per
//! source result. Synchronous by design; async code reaches it through [`Writer`].

mod items;
mod migrations;
mod query;
mod search;
mod sources;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use items::{FoldPolicy, PollRecord, PollResult, StoreCounts};
pub use query::{Health, SourceRef, StoredItem, Story, StoryCursor, StoryQuery};
pub use search::quoted_words;
pub use sources::{SourceState, SourceStatus};
pub use writer::{WeakWriter, Writer};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create folder for database {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {} has schema version {found}, newer than this tributary knows ({known})", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cannot encode stored value: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the database writer has stopped")]
    WriterGone,
}

/// An open database.
pub struct Store {
    conn: Connection,
    fold: FoldPolicy,
}

impl Store {
    /// Opens (creating when missing) the database at `path` and brings its schema
    /// up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        configure(&conn).map_err(open_err)?;
        let mut store = Store {
            conn,
            fold: FoldPolicy::from(&crate::config::Dedup::default()),
        };
        migrations::run(&mut store.conn, path)?;
        Ok(store)
    }

    /// Opens an existing database for reading only: it is never created, its
    /// schema never changed, and the connection refuses writes (`query_only`).
    pub fn open_reader(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        conn.pragma_update(None, "query_only", true)
            .map_err(open_err)?;
        Ok(Store {
            conn,
            fold: FoldPolicy::from(&crate::config::Dedup::default()),
        })
    }

    /// Sets how new items are folded into stories from now on.
    pub fn set_fold_policy(&mut self, fold: FoldPolicy) {
        self.fold = fold;
    }

    /// Whether the database answers a trivial query.
    pub fn ping(&self) -> bool {
        self.conn
            .query_row("SELECT count(*) FROM sources", [], |r| r.get::<_, i64>(0))
            .is_ok()
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // Larger pages store feed items (a few KB each) with fewer overflow pages; this
    // only takes effect on a new, empty file, before WAL is switched on.
    conn.pragma_update(None, "page_size", 16384)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "database is not in WAL mode");
    }
    // In WAL mode NORMAL never corrupts and keeps every commit across a process
    // crash; only an OS crash may lose the last commits.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Milliseconds since the Unix epoch, as times are stored.
pub(crate) fn to_millis(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
