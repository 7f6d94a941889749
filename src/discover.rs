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
pub struct Found {
    pub url: Url,
    pub feed: Feed,
}

/// Finds and reads the feed behind `url`. The error says what was tried.
pub async fn find_feed(fetcher: &Fetcher, url: &Url) -> Result<Found, String> {
    let (body, final_url) = get(fetcher, url)
        .await
        .map_err(|e| format!("{}: {e}", crate::redact::shown_url(url)))?;
    match parse_feed(&body, &final_url) {
        Ok(feed) => {
            return Ok(Found {
                url: url.clone(),
                feed,
            });
        }
        Err(ParseError::Html) => {}
        Err(e) => return Err(format!("{}: {e}", crate::redact::shown_url(url))),
    }
    let mut tried = Vec::new();
    let announced = discover_feeds(&body, &final_url);
    let guesses = COMMON_PATHS.iter().filter_map(|p| final_url.join(p).ok());
    for candidate in announced.into_iter().chain(guesses) {
        if tried.contains(&candidate) {
            continue;
        }
        tried.push(candidate.clone());
        if let Ok((body, at)) = get(fetcher, &candidate).await
            && let Ok(feed) = parse_feed(&body, &at)
        {
            return Ok(Found {
                url: candidate,
                feed,
            });
        }
    }
    Err(format!(
        "{url} is a web page that links no feed, and none was found at {}",
        tried.iter().map(Url::path).collect::<Vec<_>>().join(", ")
    ))
}

async fn get(fetcher: &Fetcher, url: &Url) -> Result<(Vec<u8>, Url), String> {
    match fetcher.fetch(url, &Validators::default()).await {
        Ok(FetchOutcome::Fetched { body, meta }) => Ok((body, meta.final_url)),
        Ok(FetchOutcome::NotModified { .. }) => Err("304 to a plain request".into()),
        Err(e) => Err(e.to_string()),
    }
}
