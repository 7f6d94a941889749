//! Configuration: TOML text -> raw serde structs (`*Config`) -> a validated [`Config`].
//! Every problem in a file is collected and reported at once, each with its
//! file:line:column, so a user fixes a config in one pass. Defaults live in the
//! `Default` impls of the raw structs, one file per section, and nowhere else;
//! `config/tributary.toml` documents them.

mod dedup;
mod document;
mod poll;
mod problems;
mod rules;
mod server;
mod sources;
mod storage;
mod values;

use std::path::{Path, PathBuf};

use crate::categorize::Rule;
use crate::model::Source;

pub use dedup::Dedup;
pub use poll::Poll;
pub use problems::{ConfigError, Problem};
pub use server::Server;
pub use storage::{DatabaseFrom, Storage};

use problems::Problems;

/// A configuration that passed validation.
#[derive(Debug, Clone)]
pub struct Config {
    /// the file it was read from
    pub path: PathBuf,
    pub storage: Storage,
    pub poll: Poll,
    pub server: Server,
    pub dedup: Dedup,
    pub sources: Vec<Source>,
    pub rules: Vec<Rule>,
}

/// Top-level tables a config file may hold.
pub(crate) const SECTIONS: &[&str] = &["storage", "poll", "server", "dedup", "source", "rule"];

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_str(&text, path)
    }

    /// Validates `text` as if read from `path` (which only names it in errors and
    /// anchors relative paths).
    pub(crate) fn from_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let state_dir = std::env::var_os("STATE_DIRECTORY")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from);
        Config::from_str_in(text, path, state_dir.as_deref())
    }

    /// Validates `text` as [`Config::from_str`] does, as if `$STATE_DIRECTORY`
    /// were `state_dir`: systemd sets it to the service's state folder, where
    /// the database goes when `storage.database` is not set.
    pub(crate) fn from_str_in(
        text: &str,
        path: &Path,
        state_dir: Option<&Path>,
    ) -> Result<Config, ConfigError> {
        let mut problems = Problems::new(text);
        let config = document::build(text, path, state_dir, &mut problems);
        problems.list.sort_by_key(|p| (p.line, p.column));
        match config {
            Some(config) if problems.list.is_empty() => Ok(config),
            _ => Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                problems: problems.list,
            }),
        }
    }

    /// The folder relative paths in the config are resolved against.
    pub(crate) fn base_dir(path: &Path) -> PathBuf {
        match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

#[cfg(test)]
mod tests;
