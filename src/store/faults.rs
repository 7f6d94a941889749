//! Faults tests ask for through the environment, in debug builds only.

use std::path::PathBuf;

use super::SqliteStore;

/// While the file named by `TRIBUTARY_TEST_DISK_FULL` exists, the database may
/// not grow, so writes that need a new page fail as on a full disk ("database
/// or disk is full").
#[derive(Default)]
pub(super) struct DiskFull {
    flag: Option<PathBuf>,
    /// the page limit before the disk was made full
    normal: Option<i64>,
}

impl DiskFull {
    pub(super) fn from_env() -> DiskFull {
        DiskFull {
            flag: std::env::var_os("TRIBUTARY_TEST_DISK_FULL").map(PathBuf::from),
            normal: None,
        }
    }

    pub(super) fn apply(&mut self, store: &SqliteStore) {
        let Some(flag) = &self.flag else {
            return;
        };
        let limit = |n: i64| {
            store
                .conn
                .query_row(&format!("PRAGMA max_page_count = {n}"), [], |r| {
                    r.get::<_, i64>(0)
                })
        };
        match (flag.exists(), self.normal) {
            (true, None) => {
                let normal = store
                    .conn
                    .query_row("PRAGMA max_page_count", [], |r| r.get::<_, i64>(0));
                if let Ok(normal) = normal {
                    // SQLite holds the limit at the current size.
                    let _ = limit(1);
                    self.normal = Some(normal);
                }
            }
            (false, Some(normal)) => {
                let _ = limit(normal);
                self.normal = None;
            }
            _ => {}
        }
    }
}
