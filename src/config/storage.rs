//! The `[storage]` section: where the database is, and how long items are kept.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::document::unspanned;
use super::problems::Problems;
use super::values::duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Storage {
    pub database: PathBuf,
    /// how `database` was chosen, for messages that must say where to look
    pub database_from: DatabaseFrom,
    pub retention: Duration,
    pub keep_per_source: u32,
}

/// Where the database path came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseFrom {
    /// `storage.database`, as written in the file (relative to its folder)
    Setting(String),
    /// not set, under systemd: `$STATE_DIRECTORY/tributary.db`
    StateDirectory,
    /// not set, and no `$STATE_DIRECTORY`: `tributary.db` beside the config
    BesideConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct StorageConfig {
    database: Option<Spanned<String>>,
    retention: Spanned<String>,
    keep_per_source: u32,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            database: None,
            retention: unspanned("90d"),
            keep_per_source: 200,
        }
    }
}

/// The database file name used when `storage.database` is not set.
const DEFAULT_DATABASE: &str = "tributary.db";

impl StorageConfig {
    pub(super) fn build(
        self,
        base_dir: &Path,
        state_dir: Option<&Path>,
        p: &mut Problems,
    ) -> Storage {
        let (database, database_from) = match &self.database {
            Some(db) if db.get_ref().trim().is_empty() => {
                p.at(db.span(), "`database` must not be empty");
                (PathBuf::new(), DatabaseFrom::Setting(String::new()))
            }
            Some(db) => (
                base_dir.join(db.get_ref()),
                DatabaseFrom::Setting(db.get_ref().clone()),
            ),
            // Under systemd the state folder is where a service keeps its data.
            None => match state_dir {
                Some(dir) => (dir.join(DEFAULT_DATABASE), DatabaseFrom::StateDirectory),
                None => (base_dir.join(DEFAULT_DATABASE), DatabaseFrom::BesideConfig),
            },
        };
        Storage {
            database,
            database_from,
            retention: duration(&self.retention, "retention", p),
            keep_per_source: self.keep_per_source,
        }
    }
}
