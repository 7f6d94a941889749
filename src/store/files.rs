//! The database's files as the file system sees them: why one cannot be
//! opened or written, told in the words a person looks for ("permission
//! denied", "read-only file system", "disk full") rather than SQLite's
//! "unable to open database file".

use std::path::{Path, PathBuf};

use super::StoreError;

/// The folder a database file lives in.
pub(super) fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `path` with `suffix` added to its file name: SQLite's `-wal` and `-shm`.
pub(super) fn beside(path: &Path, suffix: &str) -> PathBuf {
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

pub(super) fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// SQLite's report of a failure, in plain words where its code says enough.
pub(super) fn sqlite_words(error: &rusqlite::Error) -> String {
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
/// exists and this process may not write, and why. Asked of the system
/// ([`access`]), never by opening the file: closing a descriptor of a file
/// drops every lock the process holds on it, those of its SQLite connections
/// too, and another process would then take the shared memory for its own
/// and clear it under them.
pub(super) fn unwritable_file(path: &Path) -> Option<Unwritable> {
    for file in [
        path.to_path_buf(),
        beside(path, "-wal"),
        beside(path, "-shm"),
    ] {
        match access(&file, libc::W_OK) {
            Ok(()) => {}
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

/// Whether this process may use `file` as `mode` says (`libc::R_OK`,
/// `libc::W_OK`), by its effective ids, without opening it.
fn access(file: &Path, mode: libc::c_int) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(file.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: a valid, NUL-terminated path; faccessat reads it and keeps nothing.
    let done = unsafe { libc::faccessat(libc::AT_FDCWD, c_path.as_ptr(), mode, libc::AT_EACCESS) };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The error for a database that failed to open: SQLite's codes rarely say
/// what is in the way ("unable to open database file"), so the files are
/// tried to find the cause in plain words.
pub(super) fn open_failure(path: &Path, error: rusqlite::Error, writing: bool) -> StoreError {
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
pub(super) fn why_unreadable(path: &Path) -> Option<String> {
    for file in [
        path.to_path_buf(),
        beside(path, "-wal"),
        beside(path, "-shm"),
    ] {
        match access(&file, libc::R_OK) {
            Ok(()) => {}
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

pub(super) fn too_old(path: &Path, found: i64, known: i64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

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
            SqliteStore::open_reader(&path),
            Err(StoreError::Missing { .. })
        ));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
