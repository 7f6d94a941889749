//! `tributary sources`: each configured source with its stored fetch state
//! (last fetch, status, next fetch, items, errors), as a table or JSON; the
//! database is only read.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::CliError;
use super::database::open_database;
use super::table::write_table;
use crate::config::Config;
use crate::store::SourceStatus;

pub(super) fn sources_table(path: &Path, json: bool) -> Result<(), CliError> {
    let config = Config::load(path)?;
    let store = open_database(&config)?;
    let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
    let stored = store.source_statuses(&names)?;
    // The configured sources, each with its stored state. One not fetched yet
    // has no row, and one whose address changed starts afresh at its next
    // poll: both are shown as the poll will see them, without writing that.
    let mut statuses: Vec<SourceStatus> = config
        .sources
        .iter()
        .map(|source| {
            let url = source.url.to_string();
            match stored.iter().find(|row| row.name == source.name) {
                Some(row) if row.url == url => row.clone(),
                row => SourceStatus {
                    name: source.name.clone(),
                    url: url.clone(),
                    fetch_url: url,
                    last_fetch_at: None,
                    last_status: None,
                    next_fetch_at: None,
                    items: row.map_or(0, |r| r.items),
                    consecutive_errors: 0,
                    last_error: None,
                    disabled: false,
                },
            }
        })
        .collect();
    for s in &mut statuses {
        s.url = crate::redact::redact_text(&s.url).into_owned();
        s.fetch_url = crate::redact::redact_text(&s.fetch_url).into_owned();
        s.last_error = s
            .last_error
            .as_deref()
            .map(|e| crate::redact::redact_text(e).into_owned());
    }
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&statuses)?)?;
        return Ok(());
    }
    let time = |t: Option<DateTime<Utc>>| {
        t.map_or_else(
            || "-".to_string(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
        )
    };
    let categories = |name: &str| {
        config
            .sources
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.categories.join(","))
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "-".into())
    };
    let rows: Vec<Vec<String>> = statuses
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.fetch_url.clone(),
                categories(&s.name),
                time(s.last_fetch_at),
                match (s.disabled, s.last_status) {
                    (true, _) => "disabled".to_string(),
                    (false, Some(st)) => st.to_string(),
                    (false, None) => "-".to_string(),
                },
                time(s.next_fetch_at),
                s.items.to_string(),
                s.consecutive_errors.to_string(),
                s.last_error.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    write_table(
        &mut out,
        &[
            "name",
            "url",
            "categories",
            "last fetch (UTC)",
            "status",
            "next fetch (UTC)",
            "items",
            "errors",
            "last error",
        ],
        &rows,
        // Colours only reach a terminal: console turns them off for pipes.
        |i, line| {
            let s = &statuses[i];
            if s.disabled {
                console::style(line).yellow().to_string()
            } else if s.consecutive_errors > 0 {
                console::style(line).red().to_string()
            } else {
                line
            }
        },
    )?;
    Ok(())
}
