//! Storage: the [`Store`] seam every other module talks to (sources' fetch
//! state, poll results in, pages of stories out, upkeep), the types that cross
//! it, and its engine, SQLite ([`SqliteStore`]), the only code that speaks SQL.
//! A store is synchronous, one connection used from one thread at a time:
//! async code reaches the writing one through [`Writer`] and the reading ones
//! through the server's reader pool.

mod categories;
mod checkpoint;
#[cfg(debug_assertions)]
mod faults;
mod files;
mod items;
mod migrations;
mod query;
mod retention;
mod search;
mod sources;
mod sqlite;
mod stories;
mod title_fold;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{CategoryCount, Source, Story};
pub(crate) use files::why_unwritable;
use files::{plain_words, too_old};
pub use items::{PollRecord, PollResult, StoreCounts};
pub use query::{Health, StoryQuery};
pub(crate) use search::quoted_words;
pub use sources::{SourceState, SourceStatus};
pub use sqlite::SqliteStore;
pub(crate) use sqlite::{begin_write, from_millis, to_millis};
pub use stories::FoldPolicy;
pub(crate) use writer::WeakWriter;
pub use writer::{Handed, Writer};

/// What the program asks of its storage, each method named for what it means.
/// One value is one connection: the writer's, which takes every write, or a
/// reader's, which answers pages and health while the writer works.
pub trait Store: Send {
    // Sources and their fetch state.

    /// Brings the stored sources in step with the configured ones: new ones
    /// added, changed addresses taken up, the rest kept as they were. Returns
    /// every configured source's fetch state.
    fn sync_sources(&mut self, sources: &[Source]) -> Result<Vec<SourceState>, StoreError>;
    /// The fetch state of the source named `name`.
    fn source_state(&self, name: &str) -> Result<SourceState, StoreError>;
    /// How the named sources are doing, for `tributary sources`.
    fn source_statuses(&self, names: &[&str]) -> Result<Vec<SourceStatus>, StoreError>;
    /// Each source's home link as its feed last gave it.
    fn site_links(&self) -> Result<HashMap<String, String>, StoreError>;

    // Poll results in.

    /// How items of different sources are folded into one story from now on.
    fn set_fold_policy(&mut self, fold: FoldPolicy);
    /// Gives the config's spelling to the categories it names.
    fn name_categories(&mut self, labels: &[String]) -> Result<(), StoreError>;
    /// Stores several poll results in one commit, each all-or-nothing on its
    /// own; one result per record, in order.
    fn record_polls(&mut self, records: &[&PollRecord]) -> Vec<Result<StoreCounts, StoreError>>;
    /// Stores one poll result: either all of it is kept or none.
    fn record_poll(&mut self, record: &PollRecord) -> Result<StoreCounts, StoreError> {
        self.record_polls(&[record])
            .pop()
            .unwrap_or(Err(StoreError::WriterGone))
    }

    // Upkeep.

    /// Prunes items dated more than `retention` before `now`, beyond each
    /// source's newest `keep_per_source`; they never come back. Returns how many.
    fn prune_past_retention(
        &mut self,
        retention: Duration,
        keep_per_source: u32,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Adds a batch of items to the search index: how many, and whether more wait.
    fn index_batch(&mut self) -> Result<(u64, bool), StoreError>;
    /// Indexes every item waiting for the search index; returns how many.
    fn index_pending(&mut self) -> Result<u64, StoreError>;
    /// Whether items wait for the search index.
    fn index_is_stale(&self) -> Result<bool, StoreError>;
    /// Fails when what this store writes to would be lost (its file deleted or
    /// replaced while open).
    fn check_file(&self) -> Result<(), StoreError>;

    // Pages of stories out.

    /// A page of stories, newest first.
    fn stories(&self, query: &StoryQuery) -> Result<Vec<Story>, StoreError>;
    /// Every category with how many stories carry it.
    fn category_counts(&self) -> Result<Vec<CategoryCount>, StoreError>;
    /// The label shown for the category with this slug, if any item has it.
    fn category_label(&self, slug: &str) -> Result<Option<String>, StoreError>;
    /// Whether any stored item is in the category with this slug.
    fn has_category(&self, slug: &str) -> Result<bool, StoreError>;
    /// How the sources are doing, for `/healthz` and `/metrics`.
    fn health(&self) -> Result<Health, StoreError>;
    /// A number that changes whenever anything stored changes: output built at
    /// an older one is stale.
    fn data_version(&self) -> Result<i64, StoreError>;
    /// Whether the storage answers a trivial query.
    fn ping(&self) -> bool;

    /// Debug builds only: applies the faults tests ask for through the
    /// environment, before each piece of the writer's work.
    #[cfg(debug_assertions)]
    fn apply_test_faults(&mut self) {}
}

/// Opens (creating when missing) the storage at `path` for writing, its schema
/// brought up to date.
pub fn open(path: &Path) -> Result<Box<dyn Store>, StoreError> {
    Ok(Box::new(SqliteStore::open(path)?))
}

/// Opens existing storage at `path` for reading only; nothing is created or
/// changed.
pub(crate) fn open_reader(path: &Path) -> Result<Box<dyn Store>, StoreError> {
    Ok(Box::new(SqliteStore::open_reader(path)?))
}

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
