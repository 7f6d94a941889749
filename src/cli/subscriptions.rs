//! Adding sources to the config file: `tributary add` (a feed, or the feed a
//! site's page announces) and `tributary import-opml` (a reader's subscription
//! list), both written in place keeping the file's comments and layout.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use url::Url;

use super::{CliError, counted};
use crate::config::Config;
use crate::fetch::Fetcher;
use crate::opml::OpmlFeed;

pub(super) async fn add(
    path: &Path,
    url: &str,
    name: Option<String>,
    categories: &[String],
) -> Result<(), CliError> {
    let config = Config::load(path)?;
    let url = match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        // "example.org/blog" is what people paste.
        _ => Url::parse(&format!("https://{url}"))
            .with_context(|| format!("{url:?} is not an address"))?,
    };
    let fetcher = Fetcher::new(&config.poll.fetch_settings())?;
    let found = match crate::discover::find_feed(&fetcher, &url).await {
        Ok(f) => f,
        Err(e) => return Err(CliError::Failed(format!("error: no feed found: {e}"))),
    };
    let name = name
        .or(found.feed.title.clone())
        .or_else(|| found.url.host_str().map(str::to_string))
        .unwrap_or_else(|| found.url.to_string());
    let feed = OpmlFeed {
        name,
        url: found.url.to_string(),
        categories: {
            let mut labels = crate::model::Labels::default();
            for c in categories {
                labels.add(c);
            }
            labels.into_vec()
        },
    };
    let added = add_to_config(path, &[feed])?;
    let mut out = std::io::stdout().lock();
    match added.first() {
        Some(f) => writeln!(
            out,
            "added {:?} ({}, {} now) to {}; `systemctl reload tributary` or SIGHUP picks it up",
            f.name,
            f.url,
            counted(found.feed.items.len() as u64, "item", "items"),
            path.display()
        )?,
        None => writeln!(
            out,
            "{} is already a source in {}",
            found.url,
            path.display()
        )?,
    }
    Ok(())
}

pub(super) fn import_opml(path: &Path, file: &Path, write: bool) -> Result<(), CliError> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let feeds = match crate::opml::parse_opml(&bytes) {
        Ok(f) => f,
        Err(e) => return Err(CliError::Failed(format!("error: {}: {e}", file.display()))),
    };
    let mut out = std::io::stdout().lock();
    if !write {
        write!(out, "{}", crate::opml::sources_toml(&feeds))?;
        return Ok(());
    }
    let added = add_to_config(path, &feeds)?;
    writeln!(
        out,
        "added {} of {} to {} ({} already there)",
        added.len(),
        counted(feeds.len() as u64, "feed", "feeds"),
        path.display(),
        feeds.len() - added.len()
    )?;
    Ok(())
}

/// Appends sources to the config file, keeping its comments and layout, and only
/// if the result is still a valid config.
fn add_to_config(path: &Path, feeds: &[OpmlFeed]) -> anyhow::Result<Vec<OpmlFeed>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("cannot edit {}", path.display()))?;
    let added = crate::opml::append_sources(&mut doc, feeds);
    if added.is_empty() {
        return Ok(added);
    }
    let new_text = doc.to_string();
    Config::from_str(&new_text, path)
        .context("the config would not be valid with these sources")?;
    // Written beside and renamed over, so a crash never leaves half a config.
    let tmp = path.with_extension("toml.new");
    std::fs::write(&tmp, &new_text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(added)
}
