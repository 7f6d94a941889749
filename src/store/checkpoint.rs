//! Checkpoints beside the writer. In WAL mode a commit only appends pages to
//! the log; a checkpoint copies them into the database file and syncs both,
//! and SQLite runs one inside the commit that fills the log past 1,000 pages,
//! so the writer waits for a sync of tens of megabytes several times in a poll.
//! Here a thread of its own, on a connection of its own, runs those
//! checkpoints while the writer goes on appending. Only a log the thread
//! cannot keep down is checkpointed by the writer itself.

use std::ffi::c_int;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use rusqlite::hooks::Wal;
use rusqlite::{Connection, OpenFlags};

/// Pages in the log at which a checkpoint starts: SQLite's own default.
const START_PAGES: c_int = 1000;
/// Pages in the log at which the writer checkpoints itself (64 MiB with
/// 16 KiB pages). The log starts over only when a write begins after every
/// page in it was copied, which the thread, copying while the writer goes on
/// appending, rarely sees: the writer's own checkpoint copies the little the
/// thread has not, and the next write starts the log over.
const WRITER_PAGES: c_int = 4 * START_PAGES;

/// The checkpoint thread of one writing connection; ends when dropped.
pub(super) struct Checkpointer {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Signal {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// a commit left the log long enough for a checkpoint
    wanted: bool,
    /// the writing connection is closing
    closing: bool,
}

impl Signal {
    fn set(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
        self.changed.notify_one();
    }
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` for `conn`, its writing
    /// connection: SQLite's own checkpoints in `conn`'s commits give way to
    /// the thread's. When the thread cannot start, `conn` keeps SQLite's.
    pub(super) fn start(conn: &mut Connection, path: &Path) -> Option<Checkpointer> {
        let other = match open_beside(path) {
            Ok(other) => other,
            Err(e) => {
                tracing::debug!(error = %e, "checkpoints stay in the writer's commits");
                return None;
            }
        };
        let signal = Arc::new(Signal::default());
        let thread = {
            let signal = signal.clone();
            std::thread::Builder::new()
                .name("tributary-checkpoint".into())
                .spawn(move || run(other, &signal))
                .ok()?
        };
        let hook_signal = signal.clone();
        // The hook runs after the commit: an error from it would report a
        // committed transaction as failed, so a checkpoint that cannot run now
        // (the thread is running one) is left to the next commit.
        let hook = move |wal: &mut Wal, pages: c_int| {
            if pages >= WRITER_PAGES {
                if let Err(e) = wal.checkpoint() {
                    tracing::debug!(error = %e, pages, "the writer's checkpoint did not run");
                }
            } else if pages >= START_PAGES {
                hook_signal.set(|s| s.wanted = true);
            }
            Ok(())
        };
        let mut started = Checkpointer {
            signal,
            thread: Some(thread),
        };
        if let Err(e) = conn.wal_hook(Some(hook)) {
            tracing::debug!(error = %e, "checkpoints stay in the writer's commits");
            started.stop();
            return None;
        }
        Some(started)
    }

    fn stop(&mut self) {
        self.signal.set(|s| s.closing = true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The checkpointing connection: writes no row, so it needs none of the
/// writer's set-up beyond waiting its turn and keeping the log's files.
fn open_beside(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    super::sqlite::configure_beside(&conn)?;
    Ok(conn)
}

/// Checkpoints whenever a commit asks, until the writer closes.
fn run(conn: Connection, signal: &Signal) {
    loop {
        {
            let mut state = signal.state.lock().unwrap_or_else(|p| p.into_inner());
            while !state.wanted && !state.closing {
                state = signal
                    .changed
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner());
            }
            if state.closing {
                return;
            }
            state.wanted = false;
        }
        // PASSIVE: copies what it can without waiting on the writer or on
        // readers; what is left goes in the next one.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpointing the database's log failed; retried after the next commit");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    #[test]
    fn the_log_is_copied_into_the_database_while_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = crate::store::SqliteStore::open(&path).unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        store
            .conn
            .execute_batch("CREATE TABLE bulk (b BLOB)")
            .unwrap();
        // 48 MiB in 48 commits: 3,072 pages, three times what starts a checkpoint.
        for _ in 0..48 {
            store
                .conn
                .execute("INSERT INTO bulk VALUES (randomblob(1048576))", [])
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while size() < before + 32 * 1024 * 1024 {
            assert!(
                Instant::now() < deadline,
                "the database file stayed at {} bytes: nothing checkpointed the log",
                size()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let threads: Vec<String> = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .collect();
        assert!(
            threads.iter().any(|name| name.trim() == "tributary-check"),
            "{threads:?}"
        );
        drop(store);
        let reopened = crate::store::SqliteStore::open(&path).unwrap();
        let rows: i64 = reopened
            .conn
            .query_row("SELECT count(*) FROM bulk", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 48);
    }

    #[test]
    fn a_commit_is_not_failed_by_a_checkpoint_that_cannot_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = crate::store::SqliteStore::open(&path).unwrap();
        store
            .conn
            .execute_batch("CREATE TABLE bulk (b BLOB)")
            .unwrap();
        // Another process checkpointing all the while: the writer's own
        // checkpoints often find one running, and cannot run.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let other = {
            let (stop, path) = (stop.clone(), path.clone());
            std::thread::spawn(move || {
                let conn = rusqlite::Connection::open(&path).unwrap();
                conn.busy_timeout(Duration::from_secs(5)).unwrap();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
        };
        // 160 MiB: 10,240 pages, past the writer's own checkpoint many times.
        let results: Vec<rusqlite::Result<usize>> = (0..160)
            .map(|_| {
                store
                    .conn
                    .execute("INSERT INTO bulk VALUES (randomblob(1048576))", [])
            })
            .collect();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        other.join().unwrap();
        let failed: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
            .collect();
        assert!(
            failed.is_empty(),
            "{} commits failed: {failed:?}",
            failed.len()
        );
        let rows: i64 = store
            .conn
            .query_row("SELECT count(*) FROM bulk", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 160);
    }
}
