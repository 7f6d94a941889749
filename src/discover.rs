//! Finding a site's feed from an address a person pastes: the address itself when
//! it is a feed, else the feed the page announces (`<link rel="alternate">`), else
//! the usual places (`/feed`, `/rss.xml`, ...).

use url::Url;

use crate::fetch::{FetchOutcome, Fetcher};
use crate::model::Feed;
use crate::model::Validators;
use crate::parse::{ParseError, discover_feeds, parse_feed};

/// Paths where sites commonly keep their feed, tried in this order.
const COMMON_PATHS: &[&str] = &[
    "/feed",
    "/rss.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.xml",
    "/rss",
    "/feed.json",
    "/index.rss",
    "/atom",
];

/// A feed found, with the address to subscribe to.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) url: Url,
    pub(crate) feed: Feed,
}

/// Why an address gave no feed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unfollowed {
    #[error(transparent)]
    Fetch(crate::fetch::FetchError),
    #[error("304 to a plain request")]
    NotModified,
    /// an HTML page, fetched from `at` (after redirects), with the feeds it
    /// announces (`<link rel="alternate">`)
    #[error("{}", ParseError::Html)]
    Page { at: Url, links: Vec<Url> },
    #[error(transparent)]
    Parse(ParseError),
}

/// Finds and reads the feed behind `url`. The error says what was tried.
pub(crate) async fn find_feed(fetcher: &Fetcher, url: &Url) -> Result<Found, String> {
    let (page, announced) = match follow(fetcher, url).await {
        Ok(found) => return Ok(found),
        Err(Unfollowed::Page { at, links }) => (at, links),
        Err(e) => return Err(format!("{}: {e}", crate::redact::shown_url(url))),
    };
    let mut tried = Vec::new();
    let guesses = COMMON_PATHS.iter().filter_map(|p| page.join(p).ok());
    for candidate in announced.into_iter().chain(guesses) {
        if tried.contains(&candidate) {
            continue;
        }
        tried.push(candidate.clone());
        if let Ok(found) = follow(fetcher, &candidate).await {
            return Ok(found);
        }
    }
    Err(format!(
        "{url} is a web page that links no feed, and none was found at {}",
        tried.iter().map(Url::path).collect::<Vec<_>>().join(", ")
    ))
}

/// Fetches `url` with a plain request (http(s) only: it is an address a page
/// or a person named, never a file) and reads it as a feed. Both `add` and a
/// poll that meets a web page follow its feed link through here.
pub(crate) async fn follow(fetcher: &Fetcher, url: &Url) -> Result<Found, Unfollowed> {
    let (body, at) = get(fetcher, url).await?;
    let feed = read(body, at).await?;
    Ok(Found {
        url: url.clone(),
        feed,
    })
}

/// Parses `body`, fetched from `at`, off the async threads (parsing is CPU
/// work, and other downloads go on meanwhile). An HTML page comes back with
/// the feeds it announces.
pub(crate) async fn read(body: Vec<u8>, at: Url) -> Result<Feed, Unfollowed> {
    tokio::task::spawn_blocking(move || match parse_feed(&body, &at) {
        Ok(feed) => Ok(feed),
        Err(ParseError::Html) => Err(Unfollowed::Page {
            links: discover_feeds(&body, &at),
            at,
        }),
        Err(e) => Err(Unfollowed::Parse(e)),
    })
    .await
    // parse_feed contains the parser's panics; a task lost all the same is
    // that failure.
    .unwrap_or(Err(Unfollowed::Parse(ParseError::Panicked)))
}

async fn get(fetcher: &Fetcher, url: &Url) -> Result<(Vec<u8>, Url), Unfollowed> {
    match fetcher.fetch(url, &Validators::default()).await {
        Ok(FetchOutcome::Fetched { body, meta }) => Ok((body, meta.final_url)),
        Ok(FetchOutcome::NotModified { .. }) => Err(Unfollowed::NotModified),
        Err(e) => Err(Unfollowed::Fetch(e)),
    }
}
