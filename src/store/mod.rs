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
    /// `error` is SQLite's own report; `cause` says in plain words what is in
    /// the way, found by trying the files SQLite needs.
    #[error("cannot open database {}: {cause}", path.display())]
    Open {
        path: PathBuf,
        cause: String,
        error: rusqlite::Error,
    },
    #[error("no database at {}: no such file or directory", path.display())]
    Missing { path: PathBuf },
    #[error("cannot create the folder {} for database {}: {}", dir.display(), path.display(), plain_words(error))]
    Folder {
        path: PathBuf,
        dir: PathBuf,
        error: std::io::Error,
    },
    #[error("database {} has schema version {found}, newer than this tributary knows ({known})", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{}", too_old(path, *found, *known))]
    TooOld {
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
        let dir = folder_of(path);
        std::fs::create_dir_all(&dir).map_err(|error| StoreError::Folder {
            path: path.to_path_buf(),
            dir,
            error,
        })?;
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
        let mut store = Store {
            conn,
            fold: FoldPolicy::from(&crate::config::Dedup::default()),
            path: path.to_path_buf(),
            file_id: file_id(path),
        };
        migrations::run(&mut store.conn, path).map_err(|e| match e {
            StoreError::Sql(error) => open_failure(path, error, true),
            other => other,
        })?;
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
    pub fn open_reader(path: &Path) -> Result<Store, StoreError> {
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

/// Bytes of a write-ahead log's header: a log no longer than this holds no change.
const WAL_HEADER_BYTES: u64 = 32;

/// The folder a database file lives in.
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `path` with `suffix` added to its file name: SQLite's `-wal` and `-shm`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// An I/O error as the words a person searches for ("permission denied",
/// "disk full"), without Rust's "(os error 13)".
pub fn plain_words(error: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let words = match error.kind() {
        K::PermissionDenied => "permission denied",
        K::NotFound => "no such file or directory",
        K::StorageFull => "disk full",
        K::QuotaExceeded => "disk quota exceeded",
        K::ReadOnlyFilesystem => "read-only file system",
        K::NotADirectory => "not a directory",
        K::IsADirectory => "is a directory",
        _ => {
            let text = error.to_string();
            let text = match text.find(" (os error") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            return lowercase_first(&text);
        }
    };
    words.to_string()
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// SQLite's report of a failure, in plain words where its code says enough.
fn sqlite_words(error: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode as C;
    match error.sqlite_error_code() {
        Some(C::DiskFull) => "disk full".into(),
        Some(C::PermissionDenied) => "permission denied".into(),
        Some(C::ReadOnly) => "read-only: the file or its folder cannot be written".into(),
        Some(C::NotADatabase) => "not a database file (or a damaged one)".into(),
        Some(C::DatabaseBusy | C::DatabaseLocked) => {
            "locked: another process holds the database's write lock".into()
        }
        Some(C::CannotOpen) => "cannot open the file".into(),
        Some(C::DatabaseCorrupt) => "the database file is damaged".into(),
        _ => lowercase_first(&error.to_string()),
    }
}

/// A database file, or the folder it is made in, that cannot be written, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unwritable {
    /// the file or folder in the way
    pub path: PathBuf,
    pub is_folder: bool,
    /// plain words: "permission denied", "read-only file system", ...
    pub cause: String,
}

impl std::fmt::Display for Unwritable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.is_folder { "folder" } else { "file" };
        write!(
            f,
            "{}: the {what} {} cannot be written",
            self.cause,
            self.path.display()
        )
    }
}

/// Why the database at `path` could not be opened for writing or created, if
/// something is in the way: each file SQLite writes (the database, its `-wal`
/// and `-shm`) is opened for writing, changing nothing, and where one must be
/// made (or the folder itself), a file is made in its folder and removed.
/// Used where a database fails to open, and by `tributary check`, which must
/// tell before the service starts.
pub fn why_unwritable(path: &Path) -> Option<Unwritable> {
    // The nearest folder that exists: the others would be created in it.
    let mut folder = folder_of(path);
    loop {
        match std::fs::metadata(&folder) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Some(Unwritable {
                    path: folder,
                    is_folder: true,
                    cause: "not a directory".into(),
                });
            }
            // Missing, or under a file: the one to name is further up.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                match folder.parent() {
                    Some(up) if !up.as_os_str().is_empty() => folder = up.to_path_buf(),
                    _ => folder = PathBuf::from("."),
                }
            }
            Err(e) => {
                return Some(Unwritable {
                    path: folder,
                    is_folder: true,
                    cause: plain_words(&e),
                });
            }
        }
    }
    if let Some(file) = unwritable_file(path) {
        return Some(file);
    }
    let files = [
        path.to_path_buf(),
        beside(path, "-wal"),
        beside(path, "-shm"),
    ];
    if files.iter().all(|f| f.exists()) {
        return None;
    }
    let probe = folder.join(format!(".tributary-write-check-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) => Some(Unwritable {
            path: folder,
            is_folder: true,
            cause: plain_words(&e),
        }),
    }
}

/// The first of the database's files (itself, its `-wal` and `-shm`) that
/// exists and cannot be opened for writing, and why. Opening changes nothing.
fn unwritable_file(path: &Path) -> Option<Unwritable> {
    for file in [
        path.to_path_buf(),
        beside(path, "-wal"),
        beside(path, "-shm"),
    ] {
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&file)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Some(Unwritable {
                    path: file,
                    is_folder: false,
                    cause: plain_words(&e),
                });
            }
        }
    }
    None
}

/// The error for a database that failed to open: SQLite's codes rarely say
/// what is in the way ("unable to open database file"), so the files are
/// tried to find the cause in plain words.
fn open_failure(path: &Path, error: rusqlite::Error, writing: bool) -> StoreError {
    let found = if writing {
        why_unwritable(path).map(|u| u.to_string())
    } else {
        why_unreadable(path)
    };
    let cause = match found {
        // SQLite's word for a full disk is clearer than any file's state.
        Some(_) if error.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) => {
            sqlite_words(&error)
        }
        Some(found) => found,
        None => sqlite_words(&error),
    };
    StoreError::Open {
        path: path.to_path_buf(),
        cause,
        error,
    }
}

/// Why the database at `path`, or a `-wal`/`-shm` file beside it, cannot be
/// read, if one cannot.
fn why_unreadable(path: &Path) -> Option<String> {
    for file in [
        path.to_path_buf(),
        beside(path, "-wal"),
        beside(path, "-shm"),
    ] {
        match std::fs::File::open(&file) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && file != path => {}
            Err(e) => {
                return Some(format!(
                    "{}: the file {} cannot be read",
                    plain_words(&e),
                    file.display()
                ));
            }
        }
    }
    None
}

fn too_old(path: &Path, found: i64, known: i64) -> String {
    if found == 0 {
        return format!(
            "{} is not a tributary database (it holds no schema): nothing has been stored in it",
            path.display()
        );
    }
    format!(
        "database {} has schema version {found}, older than this tributary's ({known}): \
         `tributary poll` or the service brings it up to date",
        path.display()
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_error(code: std::ffi::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn file_errors_read_as_plain_words() {
        use std::io::{Error, ErrorKind};
        let cases = [
            (Error::from_raw_os_error(libc::EACCES), "permission denied"),
            (
                Error::from_raw_os_error(libc::ENOENT),
                "no such file or directory",
            ),
            (Error::from_raw_os_error(libc::ENOSPC), "disk full"),
            (
                Error::from_raw_os_error(libc::EDQUOT),
                "disk quota exceeded",
            ),
            (
                Error::from_raw_os_error(libc::EROFS),
                "read-only file system",
            ),
            (Error::from_raw_os_error(libc::ENOTDIR), "not a directory"),
            (Error::from(ErrorKind::StorageFull), "disk full"),
            (Error::from_raw_os_error(libc::EIO), "input/output error"),
        ];
        for (error, words) in cases {
            assert_eq!(plain_words(&error), words, "{error:?}");
        }
        assert_eq!(
            sqlite_words(&sqlite_error(rusqlite::ffi::SQLITE_FULL)),
            "disk full"
        );
        assert_eq!(
            sqlite_words(&sqlite_error(rusqlite::ffi::SQLITE_PERM)),
            "permission denied"
        );
    }

    #[test]
    fn a_full_disk_is_named_whatever_the_files_say() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let e = open_failure(&path, sqlite_error(rusqlite::ffi::SQLITE_FULL), true);
        assert_eq!(
            e.to_string(),
            format!("cannot open database {}: disk full", path.display())
        );
    }

    #[test]
    fn a_folder_that_is_a_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data"), "").unwrap();
        let found = why_unwritable(&dir.path().join("data/sub/t.db")).unwrap();
        assert_eq!(found.cause, "not a directory");
        assert_eq!(found.path, dir.path().join("data"));
        assert!(why_unwritable(&dir.path().join("new/sub/t.db")).is_none());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "the probe is removed"
        );
    }

    #[test]
    fn a_reader_of_a_missing_database_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        assert!(matches!(
            Store::open_reader(&path),
            Err(StoreError::Missing { .. })
        ));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
