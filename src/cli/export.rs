//! `tributary export` (the merged feed, or a category's, from the database)
//! and `tributary export-opml` (the configured sources as OPML).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::database::open_database;
use super::markdown::export_markdown;
use super::{CliError, ExportFormat};
use crate::config::Config;
use crate::model::slug;
use crate::render::opml::{is_remote, render_opml};
use crate::render::{FeedFormat, FeedScope, render_scope};
use crate::store::{StoreError, StoryQuery};

pub(super) fn export(
    path: &Path,
    format: ExportFormat,
    category: Option<String>,
    limit: Option<u32>,
    out_dir: Option<PathBuf>,
) -> Result<(), CliError> {
    let config = Config::load(path)?;
    let store = open_database(&config)?;
    let category = category.map(|c| slug(&c));
    let limit = match limit.unwrap_or(config.server.limit) {
        0 => None,
        n => Some(n),
    };
    let stories = store.stories(&StoryQuery {
        categories: category.iter().cloned().collect(),
        limit,
        ..StoryQuery::default()
    })?;
    let label;
    let scope = match &category {
        Some(c) => {
            // The config's spelling, else the one stored first, as the server shows it.
            let configured = crate::categorize::configured_labels(&config.sources, &config.rules);
            label = match configured.into_iter().find(|l| &slug(l) == c) {
                Some(label) => label,
                None => store.category_label(c)?.unwrap_or_else(|| c.clone()),
            };
            FeedScope::Category {
                slug: c,
                label: &label,
            }
        }
        None => FeedScope::All,
    };
    let format = match format {
        ExportFormat::Atom => FeedFormat::Atom,
        ExportFormat::Rss => FeedFormat::Rss,
        ExportFormat::Json => FeedFormat::Json,
        ExportFormat::Markdown => {
            let dir = out_dir.context("--out DIR is required with --format markdown")?;
            return export_markdown(&dir, &stories);
        }
    };
    let body = render_scope(
        &config.server.title,
        &config.server.base_url,
        scope,
        format,
        &stories,
        |_| None,
    )?;
    let mut out = std::io::stdout().lock();
    out.write_all(&body)?;
    writeln!(out)?;
    Ok(())
}

pub(super) fn export_opml(path: &Path) -> Result<(), CliError> {
    let config = Config::load(path)?;
    // Sites are known once feeds have been read; without a database
    // the list is still written, only without them.
    let site_links = match crate::store::open_reader(&config.storage.database) {
        Ok(store) => store.site_links()?,
        Err(StoreError::Missing { .. }) => Default::default(),
        Err(e) => {
            eprintln!("warning: sites left out: {e}");
            Default::default()
        }
    };
    std::io::stdout().write_all(&render_opml(
        &config.server.title,
        &config.sources,
        &site_links,
    ))?;
    match config.sources.iter().filter(|s| !is_remote(s)).count() {
        0 => {}
        1 => eprintln!("1 source read from a local file left out"),
        n => eprintln!("{n} sources read from local files left out"),
    }
    Ok(())
}
