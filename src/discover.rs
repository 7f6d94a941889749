//! Finding a site's feed from an address a person pastes: the address itself when
//! it is a feed, else the feed the page announces (`<link rel="alternate">`), else
//! the usual places (`/feed`, `/rss.xml`, ...).

use regex::Regex;
use url::Url;

use crate::fetch::{FetchOutcome, Fetcher};
use crate::model::Feed;
use crate::model::Validators;
use crate::parse::{ParseError, parse_feed};

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
        "{} is a web page that links no feed, and none was found at {}",
        crate::redact::shown_url(url),
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

/// Feeds an HTML page announces with `<link rel="alternate" type="...">`, in
/// page order, made absolute against `base`. Only http(s) addresses are
/// returned: a page must not lead tributary to a local file or another scheme.
pub(crate) fn discover_feeds(html: &[u8], base: &Url) -> Vec<Url> {
    static LINK: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"(?is)<link\b[^>]*>").expect("valid regex"));
    static ATTR: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r#"(?is)([a-z][a-z0-9:_-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"#)
            .expect("valid regex")
    });
    const FEED_TYPES: &[&str] = &[
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/rdf+xml",
        "application/json",
    ];
    let text = String::from_utf8_lossy(&html[..html.len().min(512 * 1024)]);
    let mut found = Vec::new();
    for tag in LINK.find_iter(&text) {
        let mut rel = String::new();
        let mut kind = String::new();
        let mut href = None;
        for a in ATTR.captures_iter(tag.as_str()) {
            let value = a
                .get(2)
                .or(a.get(3))
                .or(a.get(4))
                .map_or("", |m| m.as_str());
            match a[1].to_ascii_lowercase().as_str() {
                "rel" => rel = value.to_ascii_lowercase(),
                "type" => kind = value.trim().to_ascii_lowercase(),
                "href" => href = Some(value.replace("&amp;", "&")),
                _ => {}
            }
        }
        let is_feed = rel.split_whitespace().any(|r| r == "alternate")
            && FEED_TYPES.iter().any(|t| kind.starts_with(t));
        if let (true, Some(href)) = (is_feed, href)
            && let Ok(url) = base.join(href.trim())
            && matches!(url.scheme(), "http" | "https")
            && !found.contains(&url)
        {
            found.push(url);
        }
    }
    found
}

#[cfg(test)]
mod discover_feeds_tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://example.org/blog/feed.xml").unwrap()
    }

    #[test]
    fn feeds_are_discovered_in_html() {
        let html = br#"<html><head><link rel="stylesheet" href="/s.css">
            <link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml?a=1&amp;b=2">
            <LINK REL='alternate' TYPE='application/atom+xml' HREF='atom.xml'>
            <link rel="alternate" hreflang="fr" href="/fr/"></head></html>"#;
        let found = discover_feeds(html, &url());
        let found: Vec<&str> = found.iter().map(Url::as_str).collect();
        assert_eq!(
            found,
            [
                "https://example.org/feed.xml?a=1&b=2",
                "https://example.org/blog/atom.xml"
            ]
        );
    }

    #[test]
    fn discovery_follows_only_http_links() {
        let html = br#"<html><head>
            <link rel="alternate" type="application/rss+xml" href="file:///etc/hostname">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            <link rel="alternate" type="application/atom+xml" href="data:application/atom+xml,x">
            <link rel="alternate" type="application/rss+xml" href="/real.xml"></head></html>"#;
        let found = discover_feeds(html, &url());
        assert_eq!(found, [Url::parse("https://example.org/real.xml").unwrap()]);
        // Relative links on a local page would lead to local files: none are followed.
        let local = Url::parse("file:///srv/site/index.html").unwrap();
        assert!(discover_feeds(html, &local).is_empty());
    }
}
