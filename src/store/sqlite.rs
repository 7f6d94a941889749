//! The SQLite engine behind [`Store`](super::Store): opening (WAL, versioned
//! migrations), checking the file is still the one opened, and the trait's
//! methods, each a statement or two in the file named for its concern. Every
//! write transaction takes the database's write lock when it begins
//! (`BEGIN IMMEDIATE`) and waits its turn, so two writers, even in two
//! processes, queue instead of failing with "database is locked".

use rusqlite::config::DbConfig;
use rusqlite::{Connection, FileControl, MAIN_DB, OpenFlags, Transaction, TransactionBehavior};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::categories::KnownLabels;
use super::checkpoint::Checkpointer;
use super::files::{beside, folder_of, open_failure, plain_words, unwritable_file};
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{
    FoldPolicy, Health, PollRecord, SourceState, SourceStatus, Store, StoreCounts, StoreError,
    StoryQuery, migrations,
};
use crate::model::{CategoryCount, Source, Story};

/// How long a connection waits for another writer (this process's or another
/// one's, such as `tributary poll` beside `tributary run`) before giving up.
/// Every long job (indexing, pruning) commits in batches well within it.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// KiB of pages the writing connection keeps in memory, at least and at most:
/// between, a 24th of the database, about a tenth of its indexes, so storing
/// items reads few index pages back from the files.
const PAGE_CACHE_KIB: (i64, i64) = (2 * 1024, 32 * 1024);

/// Bytes a write-ahead log is cut back to after a checkpoint.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Bytes of a write-ahead log's header: a log no longer than this holds no change.
const WAL_HEADER_BYTES: u64 = 32;

/// Prepared statements a connection keeps compiled.
const STATEMENT_CACHE: usize = 128;

/// An open database.
pub struct SqliteStore {
    /// declared first, so it ends before `conn` closes
    checkpointer: Option<Checkpointer>,
    pub(super) conn: Connection,
    pub(super) fold: FoldPolicy,
    /// category labels stored, so items do not write them again
    pub(super) known_labels: KnownLabels,
    path: PathBuf,
    /// device and inode of the file opened, to notice it deleted or replaced
    file_id: Option<(u64, u64)>,
    #[cfg(debug_assertions)]
    faults: super::faults::DiskFull,
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `path` and brings its schema
    /// up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let dir = folder_of(path);
        std::fs::create_dir_all(&dir).map_err(|error| StoreError::Folder {
            path: path.to_path_buf(),
            dir,
            error,
        })?;
        create_private(path);
        let open_err = |error| open_failure(path, error, true);
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        // SQLite falls back to reading a file it may not write, and only the
        // first write would then fail, far from here and without a reason.
        if conn.is_readonly(MAIN_DB).map_err(open_err)? {
            return Err(open_err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
                Some("the database could only be opened for reading".into()),
            )));
        }
        configure(&mut conn).map_err(open_err)?;
        // Nor does a `-wal` or `-shm` file it may not write fail before the
        // first write.
        if let Some(file) = unwritable_file(path) {
            return Err(StoreError::Open {
                path: path.to_path_buf(),
                cause: file.to_string(),
                error: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
                    None,
                ),
            });
        }
        let mut store = SqliteStore::on(conn, path);
        migrations::run(&mut store.conn, path).map_err(|e| match e {
            StoreError::Sql(error) => open_failure(path, error, true),
            other => other,
        })?;
        size_page_cache(&store.conn).map_err(|e| open_failure(path, e, true))?;
        store.checkpointer = Checkpointer::start(&mut store.conn, path);
        Ok(store)
    }

    /// Opens an existing database for reading only: it is never created, its
    /// schema never changed, the connection refuses writes (`query_only`), and
    /// no file is written or made beside it, so a person may look at the
    /// service's database while it runs, or at one on read-only storage.
    ///
    /// SQLite opens a database in WAL mode through its `-wal` and `-shm` files,
    /// creating them when they are missing. While they are there (the service
    /// keeps them) they are used as they are, so what a running daemon
    /// committed is seen. When there is no `-wal` file, or an empty one and no
    /// `-shm`, no connection has the database open and everything is in the
    /// main file: it is read as an immutable file, which needs neither. Only a
    /// log that holds changes without its `-shm` index (a copy made without it)
    /// gets that index created, as reading those changes needs it.
    pub fn open_reader(path: &Path) -> Result<SqliteStore, StoreError> {
        let open_err = |error| open_failure(path, error, false);
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Missing {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => {
                return Err(StoreError::Open {
                    path: path.to_path_buf(),
                    cause: plain_words(&e),
                    error: rusqlite::Error::InvalidPath(path.to_path_buf()),
                });
            }
            Ok(m) if m.is_dir() => {
                return Err(StoreError::Open {
                    path: path.to_path_buf(),
                    cause: "is a directory".into(),
                    error: rusqlite::Error::InvalidPath(path.to_path_buf()),
                });
            }
            Ok(_) => {}
        }
        let wal = std::fs::metadata(beside(path, "-wal")).ok();
        let shm_exists = beside(path, "-shm").exists();
        let immutable = match wal {
            None => true,
            Some(wal) => wal.len() <= WAL_HEADER_BYTES && !shm_exists,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = if immutable {
            let mut uri = std::path::absolute(path)
                .ok()
                .and_then(|p| url::Url::from_file_path(p).ok())
                .ok_or_else(|| rusqlite::Error::InvalidPath(path.to_path_buf()))
                .map_err(open_err)?;
            uri.set_query(Some("immutable=1"));
            Connection::open_with_flags(uri.as_str(), flags | OpenFlags::SQLITE_OPEN_URI)
        } else {
            Connection::open_with_flags(path, flags)
        }
        .map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        conn.pragma_update(None, "query_only", true)
            .map_err(open_err)?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(open_err)?;
        let known = migrations::known();
        if found > known {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found,
                known,
            });
        }
        if found < known {
            return Err(StoreError::TooOld {
                path: path.to_path_buf(),
                found,
                known,
            });
        }
        Ok(SqliteStore::on(conn, path))
    }

    /// A store on `conn`, the database at `path`, folding by the defaults.
    fn on(conn: Connection, path: &Path) -> SqliteStore {
        // Storing one item runs some thirty statements; with fewer kept, each
        // would push out one needed next and be compiled again for every item.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // One plan per statement, whatever values are bound: otherwise SQLite
        // compiles a statement again whenever a bound value might change its
        // plan (a title folded on, a story settled), once per item.
        if let Err(e) = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true) {
            tracing::debug!(error = %e, "the query planner's stability guarantee is not available");
        }
        SqliteStore {
            checkpointer: None,
            conn,
            fold: FoldPolicy::default(),
            known_labels: KnownLabels::default(),
            path: path.to_path_buf(),
            file_id: file_id(path),
            #[cfg(debug_assertions)]
            faults: super::faults::DiskFull::from_env(),
        }
    }

    /// Checks that the database's path still names the file this store has
    /// open. A file deleted (or replaced) under a running daemon still takes
    /// writes, but they vanish with the process: that must not pass unnoticed.
    pub(super) fn check_file(&self) -> Result<(), StoreError> {
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
    pub(super) fn set_fold_policy(&mut self, fold: FoldPolicy) {
        self.fold = fold;
    }

    /// Whether the database answers a trivial query.
    pub(super) fn ping(&self) -> bool {
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

/// The seam's methods, each answered by the file of its concern.
impl Store for SqliteStore {
    fn sync_sources(&mut self, sources: &[Source]) -> Result<Vec<SourceState>, StoreError> {
        SqliteStore::sync_sources(self, sources)
    }
    fn source_state(&self, name: &str) -> Result<SourceState, StoreError> {
        SqliteStore::source_state(self, name)
    }
    fn source_statuses(&self, names: &[&str]) -> Result<Vec<SourceStatus>, StoreError> {
        SqliteStore::source_statuses(self, names)
    }
    fn site_links(&self) -> Result<HashMap<String, String>, StoreError> {
        SqliteStore::site_links(self)
    }
    fn set_fold_policy(&mut self, fold: FoldPolicy) {
        SqliteStore::set_fold_policy(self, fold)
    }
    fn name_categories(&mut self, labels: &[String]) -> Result<(), StoreError> {
        SqliteStore::name_categories(self, labels)
    }
    fn record_polls(&mut self, records: &[&PollRecord]) -> Vec<Result<StoreCounts, StoreError>> {
        SqliteStore::record_polls(self, records)
    }
    fn prune_past_retention(
        &mut self,
        retention: Duration,
        keep_per_source: u32,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        SqliteStore::prune_past_retention(self, retention, keep_per_source, now)
    }
    fn index_batch(&mut self) -> Result<(u64, bool), StoreError> {
        SqliteStore::index_batch(self)
    }
    fn index_pending(&mut self) -> Result<u64, StoreError> {
        SqliteStore::index_pending(self)
    }
    fn index_is_stale(&self) -> Result<bool, StoreError> {
        SqliteStore::index_is_stale(self)
    }
    fn check_file(&self) -> Result<(), StoreError> {
        SqliteStore::check_file(self)
    }
    fn stories(&self, query: &StoryQuery) -> Result<Vec<Story>, StoreError> {
        SqliteStore::stories(self, query)
    }
    fn category_counts(&self) -> Result<Vec<CategoryCount>, StoreError> {
        SqliteStore::category_counts(self)
    }
    fn category_label(&self, slug: &str) -> Result<Option<String>, StoreError> {
        SqliteStore::category_label(self, slug)
    }
    fn has_category(&self, slug: &str) -> Result<bool, StoreError> {
        SqliteStore::has_category(self, slug)
    }
    fn health(&self) -> Result<Health, StoreError> {
        SqliteStore::health(self)
    }
    fn data_version(&self) -> Result<i64, StoreError> {
        SqliteStore::data_version(self)
    }
    fn ping(&self) -> bool {
        SqliteStore::ping(self)
    }
    #[cfg(debug_assertions)]
    fn apply_test_faults(&mut self) {
        let mut faults = std::mem::take(&mut self.faults);
        faults.apply(self);
        self.faults = faults;
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
    // First: switching to WAL below may have to wait for another connection.
    configure_beside(conn)?;
    // Any transaction begun without saying otherwise takes the write lock too.
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    // Larger pages store feed items (a few KB each) with fewer overflow pages; this
    // only takes effect on a new, empty file, before WAL is switched on.
    conn.pragma_update(None, "page_size", 16384)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "database is not in WAL mode");
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Sizes the writing connection's page cache to the database (see
/// [`PAGE_CACHE_KIB`]); the writer does so again as the database grows.
pub(super) fn size_page_cache(conn: &Connection) -> rusqlite::Result<()> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let bytes = pages * page;
    let (least, most) = PAGE_CACHE_KIB;
    let kib = (bytes / 1024 / 24).clamp(least, most);
    conn.pragma_update(None, "cache_size", -kib)
}

/// What every connection that writes the database sets, the writer's and the
/// one that checkpoints beside it.
pub(super) fn configure_beside(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    keep_wal_files(conn)?;
    // A WAL grown large once (a long read holding back checkpoints) is cut back
    // to this after the next checkpoint instead of keeping its size for good.
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    // In WAL mode NORMAL never corrupts and keeps every commit across a process
    // crash; only an OS crash may lose the last commits.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// Creates a missing database file readable by its owner only: it holds the
/// sources' addresses, credentials included. SQLite gives its `-wal` and `-shm`
/// files the same mode. Any failure here is left to the open that follows,
/// which reports it.
fn create_private(path: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    if path.as_os_str() != ":memory:" && !path.exists() {
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
    }
}

/// Keeps the `-wal` and `-shm` files when the last connection closes (SQLite's
/// persistent WAL). SQLite needs them to open the database at all, and on a
/// full disk it could not create them again: tributary would not start and
/// could not serve what it has. Kept, their space is reused on the next open.
fn keep_wal_files(conn: &Connection) -> rusqlite::Result<()> {
    let mut persist = 1;
    match conn.file_control(Some(MAIN_DB), FileControl::PersistWal(&mut persist)) {
        // A database in memory has no files to keep.
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::NotFound => {
            Ok(())
        }
        other => other,
    }
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
