//! `tributary inspect`: one feed fetched or read (a web page followed to the
//! feed it announces) and printed, as JSON, as tributary sees it; nothing is
//! stored.

use std::io::Write;

use anyhow::{Context, anyhow};
use url::Url;

use super::CliError;
use crate::config::Config;
use crate::fetch::{FetchOutcome, Fetcher};
use crate::inspect::inspect_json;
use crate::model::Validators;
use crate::parse::{ParseError, discover_feeds, parse_feed};

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
        Ok(FetchOutcome::NotModified { .. }) => {
            return Err(anyhow!("unexpected 304 for an unconditional request").into());
        }
        Err(e) => {
            return Err(CliError::Failed(format!("cannot fetch {shown}: {e}")));
        }
    };
    let (feed, found_at) = match parse_feed(&body, &final_url) {
        Ok(feed) => (feed, None),
        // A web page is followed to the feed it announces, as `poll` and `add`
        // do; only to an http(s) one, never to a local file. A page read from a
        // file is not followed: inspecting a file never reaches the network.
        Err(ParseError::Html) if final_url.scheme() != "file" => {
            let Some(feed_url) = discover_feeds(&body, &final_url).into_iter().next() else {
                return Err(CliError::Failed(format!(
                    "cannot parse {shown}: {} and links no feed",
                    ParseError::Html
                )));
            };
            let shown_feed = crate::redact::shown_url(&feed_url);
            let (body, at) = match fetcher.fetch(&feed_url, &Validators::default()).await {
                Ok(FetchOutcome::Fetched { body, meta }) => (body, meta.final_url),
                Ok(FetchOutcome::NotModified { .. }) => {
                    return Err(anyhow!("unexpected 304 for an unconditional request").into());
                }
                Err(e) => {
                    return Err(CliError::Failed(format!(
                        "cannot fetch {shown_feed}, the feed {shown} links: {e}"
                    )));
                }
            };
            match parse_feed(&body, &at) {
                Ok(feed) => {
                    eprintln!("{shown} is a web page; its feed is {shown_feed}");
                    (feed, Some(feed_url))
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
