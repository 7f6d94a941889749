//! The database as the one-shot commands meet it: whether the service could
//! write it (`check`), opening it to read (`sources`, `export`), where it was
//! looked for when it is missing, and retention after `poll`.

use chrono::Utc;

use super::CliError;
use crate::config::{Config, DatabaseFrom};
use crate::store::{Store, StoreError};

/// Whether the service could write its database: a folder or file it cannot
/// write is an error (exit 1), told before the service starts and fails. A
/// default path beside the config is only the by-hand path: the service, under
/// systemd, uses its state folder, so there it is a warning.
pub(super) fn check_database(config: &Config) -> Result<(), CliError> {
    let db = &config.storage.database;
    // One that exists must be one tributary can use; read, not changed.
    if db.exists() {
        match crate::store::open_reader(db) {
            Ok(_) | Err(StoreError::TooOld { .. }) => {}
            Err(e) => return Err(CliError::Failed(format!("error: {e}"))),
        }
    }
    let Some(problem) = crate::store::why_unwritable(db) else {
        return Ok(());
    };
    if config.storage.database_from == DatabaseFrom::BesideConfig {
        eprintln!(
            "warning: database {}: {problem}\n  \
             `tributary run` started by hand with this config could not store anything; \
             the service under systemd uses $STATE_DIRECTORY/tributary.db instead, \
             as storage.database is not set",
            db.display()
        );
        return Ok(());
    }
    Err(CliError::Failed(format!(
        "error: database {}: {problem}\n  the service could not store anything there; {}",
        db.display(),
        match &config.storage.database_from {
            DatabaseFrom::Setting(_) => {
                "make it writable, or point storage.database at a writable folder \
                 (under systemd, unset it to use $STATE_DIRECTORY/tributary.db)"
            }
            _ => "make the state folder writable by the service",
        }
    )))
}

/// Opens the database for the commands that only read it, or says why it
/// cannot be read and, when it is missing, where the commands looked and where
/// the service keeps it.
pub(super) fn open_database(config: &Config) -> Result<Box<dyn Store>, CliError> {
    let error = match crate::store::open_reader(&config.storage.database) {
        Ok(store) => return Ok(store),
        Err(e) => e,
    };
    let mut message = format!("error: {error}");
    if matches!(error, StoreError::Missing { .. }) {
        message = format!("{message}\n{}", where_the_database_is(config));
    }
    Err(CliError::Failed(message))
}

/// How the database path was chosen, and how the service chooses its own.
fn where_the_database_is(config: &Config) -> String {
    let file = config.path.display();
    let why = match &config.storage.database_from {
        DatabaseFrom::Setting(text) => {
            format!("storage.database = {text:?} in {file}, relative to that file's folder")
        }
        DatabaseFrom::StateDirectory => format!(
            "storage.database is not set in {file}, and $STATE_DIRECTORY is {}",
            config
                .storage
                .database
                .parent()
                .unwrap_or(std::path::Path::new("?"))
                .display()
        ),
        DatabaseFrom::BesideConfig => format!(
            "storage.database is not set in {file}, nor $STATE_DIRECTORY: beside the config"
        ),
    };
    format!(
        "  looked there: {why}\n  \
         the service's database is storage.database when set (relative to the config's folder),\n  \
         else $STATE_DIRECTORY/tributary.db (systemd sets it: /var/lib/tributary/tributary.db \
         with the shipped unit)\n  \
         to read that one by hand, set storage.database, or run with \
         STATE_DIRECTORY=/var/lib/tributary\n  \
         nothing was created; `tributary poll` or the service creates the database"
    )
}

/// Retention, after a poll round: old items beyond each source's newest few go.
pub(super) fn prune(store: &mut dyn Store, config: &Config) -> Result<(), CliError> {
    let pruned = store.prune_past_retention(
        config.storage.retention,
        config.storage.keep_per_source,
        Utc::now(),
    )?;
    if pruned > 0 {
        tracing::info!(pruned, "pruned items past retention");
    }
    Ok(())
}
