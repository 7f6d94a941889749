//! SQLite storage, the only module that speaks SQL: opening (WAL, versioned
//! migrations), per-source fetch state, and items written one transaction per
//! source result. Synchronous by design; async code reaches it through [`Writer`].
//! Every write transaction takes the database's write lock when it begins
//! (`BEGIN IMMEDIATE`) and waits its turn, so two writers, even in two
//! processes, queue instead of failing with "database is locked".

mod items;
mod migrations;
mod query;
mod search;
mod sources;
mod stories;
mod writer;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, FileControl, MAIN_DB, OpenFlags, Transaction, TransactionBehavior};

pub use items::{FoldPolicy, PollRecord, PollResult, StoreCounts};
pub use query::{Health, SourceRef, StoredItem, Story, StoryCursor, StoryQuery};
pub use search::quoted_words;
pub use sources::{SourceState, SourceStatus};
pub use writer::Writer;

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
    #[error("the database writer failed on this work: {0}")]
    WriterPanicked(String),
    #[error("database file {} was deleted or replaced while open: what is stored now would be lost; restart tributary to use the file at that path", path.display())]
    FileGone { path: PathBuf },
    #[error("cannot check database file {}: {source}", path.display())]
    FileCheck {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How long a connection waits for another writer (this process's or another
/// one's, such as `tributary poll` beside `tributary run`) before giving up.
/// Every long job (indexing, pruning) commits in batches well within it.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes a write-ahead log is cut back to after a checkpoint.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// An open database.
pub struct Store {
    conn: Connection,
    fold: FoldPolicy,
    path: PathBuf,
    /// device and inode of the file opened, to notice it deleted or replaced
    file_id: Option<(u64, u64)>,
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
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        configure(&mut conn).map_err(open_err)?;
        let mut store = Store {
            conn,
            fold: FoldPolicy::from(&crate::config::Dedup::default()),
            path: path.to_path_buf(),
            file_id: file_id(path),
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
        keep_wal_files(&conn).map_err(open_err)?;
        Ok(Store {
            conn,
            fold: FoldPolicy::from(&crate::config::Dedup::default()),
            path: path.to_path_buf(),
            file_id: file_id(path),
        })
    }

    /// Checks that the database's path still names the file this store has
    /// open. A file deleted (or replaced) under a running daemon still takes
    /// writes, but they vanish with the process: that must not pass unnoticed.
    pub fn check_file(&self) -> Result<(), StoreError> {
        let Some(opened) = self.file_id else {
            return Ok(());
        };
        match std::fs::metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) == opened => Ok(()),
            Ok(_) => Err(StoreError::FileGone {
                path: self.path.clone(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::FileGone {
                path: self.path.clone(),
            }),
            Err(source) => Err(StoreError::FileCheck {
                path: self.path.clone(),
                source,
            }),
        }
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

/// Begins a write transaction holding the write lock from its first statement.
/// A deferred one would read first and then, upgrading to write while another
/// connection writes, fail at once instead of waiting (SQLite cannot wait there
/// without risking a deadlock).
pub(crate) fn begin_write(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// Device and inode of the file at `path`, when it can be told.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn configure(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Any transaction begun without saying otherwise takes the write lock too.
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    // Larger pages store feed items (a few KB each) with fewer overflow pages; this
    // only takes effect on a new, empty file, before WAL is switched on.
    conn.pragma_update(None, "page_size", 16384)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "database is not in WAL mode");
    }
    keep_wal_files(conn)?;
    // A WAL grown large once (a long read holding back checkpoints) is cut back
    // to this after the next checkpoint instead of keeping its size for good.
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    // In WAL mode NORMAL never corrupts and keeps every commit across a process
    // crash; only an OS crash may lose the last commits.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Keeps the `-wal` and `-shm` files when the last connection closes (SQLite's
/// persistent WAL). SQLite needs them to open the database at all, and on a
/// full disk it could not create them again: tributary would not start and
/// could not serve what it has. Kept, their space is reused on the next open.
fn keep_wal_files(conn: &Connection) -> rusqlite::Result<()> {
    let mut persist = 1;
    conn.file_control(Some(MAIN_DB), FileControl::PersistWal(&mut persist))
}

/// Milliseconds since the Unix epoch, as times are stored.
pub(crate) fn to_millis(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored time, brought into the range every output can write: databases
/// written by older versions may hold any date a feed gave.
pub(crate) fn from_millis(ms: i64) -> chrono::DateTime<chrono::Utc> {
    crate::model::clamped_date(ms)
}
