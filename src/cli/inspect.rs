//! `tributary inspect`: one feed fetched or read (a web page followed to the
//! feed it announces) and printed, as JSON, as tributary sees it; nothing is
//! stored.

use std::io::Write;

use anyhow::{Context, anyhow};
use url::Url;

use super::CliError;
use crate::config::Config;
use crate::discover::{Found, Unfollowed, follow, read};
use crate::fetch::{FetchOutcome, Fetcher};
use crate::inspect::inspect_json;
use crate::model::Validators;
use crate::parse::ParseError;

pub(super) async fn inspect(target: &str) -> Result<(), CliError> {
    let url = match Url::parse(target) {
        Ok(url) if matches!(url.scheme(), "http" | "https" | "file") => url,
        _ => {
            let path = std::path::absolute(target).with_context(|| format!("bad path {target}"))?;
            Url::from_file_path(&path).map_err(|()| anyhow!("bad path {target}"))?
        }
    };
    let shown = crate::redact::shown_url(&url);
    let defaults = Config::from_str("", std::path::Path::new("tributary.toml"))
        .expect("the defaults are valid");
    let fetcher = Fetcher::new(&defaults.poll.fetch_settings())?;
    let (body, final_url) = match fetcher.fetch_configured(&url, &Validators::default()).await {
        Ok(FetchOutcome::Fetched { body, meta }) => (body, meta.final_url),
        Ok(FetchOutcome::NotModified { .. }) => return Err(unexpected_304()),
        Err(e) => {
            return Err(CliError::Failed(format!("cannot fetch {shown}: {e}")));
        }
    };
    let (feed, found_at) = match read(body, final_url.clone()).await {
        Ok(feed) => (feed, None),
        // A web page is followed to the feed it announces, as `poll` and `add`
        // do; only to an http(s) one, never to a local file. A page read from a
        // file is not followed: inspecting a file never reaches the network.
        Err(Unfollowed::Page { links, .. }) if final_url.scheme() != "file" => {
            let Some(feed_url) = links.into_iter().next() else {
                return Err(CliError::Failed(format!(
                    "cannot parse {shown}: {} and links no feed",
                    ParseError::Html
                )));
            };
            let shown_feed = crate::redact::shown_url(&feed_url);
            match follow(&fetcher, &feed_url).await {
                Ok(Found { url, feed }) => {
                    eprintln!("{shown} is a web page; its feed is {shown_feed}");
                    (feed, Some(url))
                }
                Err(Unfollowed::NotModified) => return Err(unexpected_304()),
                Err(Unfollowed::Fetch(e)) => {
                    return Err(CliError::Failed(format!(
                        "cannot fetch {shown_feed}, the feed {shown} links: {e}"
                    )));
                }
                Err(e) => {
                    return Err(CliError::Failed(format!(
                        "cannot parse {shown_feed}, the feed {shown} links: {e}"
                    )));
                }
            }
        }
        Err(e) => {
            return Err(CliError::Failed(format!("cannot parse {shown}: {e}")));
        }
    };
    let text = serde_json::to_string_pretty(&inspect_json(feed, found_at.as_ref()))?;
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(())
}

fn unexpected_304() -> CliError {
    anyhow!("unexpected 304 for an unconditional request").into()
}
