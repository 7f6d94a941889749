//! HTML pages met where a feed was expected: the feeds they announce, and telling
//! them apart from feeds.

use std::sync::LazyLock;

use regex::Regex;
use url::Url;

/// Feeds an HTML page announces with `<link rel="alternate" type="...">`, in
/// page order, made absolute against `base`. Only http(s) addresses are
/// returned: a page must not lead tributary to a local file or another scheme.
pub fn discover_feeds(html: &[u8], base: &Url) -> Vec<Url> {
    static LINK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?is)<link\b[^>]*>").expect("valid regex"));
    static ATTR: LazyLock<Regex> = LazyLock::new(|| {
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

/// Whether a body that failed to parse as a feed is an HTML page (an error page,
/// or a site's home page given instead of its feed).
pub fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.contains("<!doctype html") || head.contains("<html")
}
