//! `tributary check`: the config validated and shown as tributary resolves it
//! (database, links, schedule, sources, rules), and whether the service could
//! write its database.

use std::io::Write;
use std::path::Path;

use super::database::check_database;
use super::table::write_table;
use super::{CliError, counted};
use crate::config::{Config, DatabaseFrom};

pub(super) fn check(path: &Path) -> Result<(), CliError> {
    let config = Config::load(path)?;
    let mut out = std::io::stdout().lock();
    let storage = &config.storage;
    writeln!(out, "{}: ok", path.display())?;
    let chosen = match &storage.database_from {
        DatabaseFrom::Setting(text) => format!("storage.database = {text:?}"),
        DatabaseFrom::StateDirectory => {
            "storage.database unset: $STATE_DIRECTORY/tributary.db".to_string()
        }
        DatabaseFrom::BesideConfig => {
            "storage.database and $STATE_DIRECTORY unset: beside the config".to_string()
        }
    };
    writeln!(out, "database: {} ({chosen})", storage.database.display())?;
    let from = if config.server.base_url_explicit {
        "server.base_url"
    } else {
        "built from server.listen"
    };
    writeln!(out, "base_url: {} ({from})", config.server.base_url)?;
    writeln!(out, "schedule: {}", config.poll.schedule)?;
    writeln!(
        out,
        "{}:",
        counted(config.sources.len() as u64, "source", "sources")
    )?;
    let rows: Vec<Vec<String>> = config
        .sources
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                crate::redact::shown_url(&s.url),
                s.categories.join(","),
                s.schedule.clone().unwrap_or_else(|| "-".into()),
                s.identity.as_str().to_string(),
            ]
        })
        .collect();
    write_table(
        &mut out,
        &["name", "url", "categories", "schedule", "identity"],
        &rows,
        |_, line| line,
    )?;
    writeln!(
        out,
        "{}",
        counted(config.rules.len() as u64, "rule", "rules")
    )?;
    out.flush()?;
    if config.server.base_url_unreachable() {
        eprintln!(
            "warning: links in the served feeds start with {}, which readers elsewhere cannot \
             reach; set server.base_url to the address they use",
            config.server.base_url
        );
    }
    check_database(&config)
}
