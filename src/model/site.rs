//! The site a source belongs to: the host of its feed's home link, so that one
//! publisher's feeds in several formats (an Atom and a JSON Feed of one blog)
//! can be told to be the same publisher's.

use url::Url;

/// The site of a feed: the host of its home link (RSS `<channel><link>`, Atom
/// `<link rel="alternate">` of the feed, JSON Feed `home_page_url`), else of the
/// address it is fetched from, lowercased, without `www.` or a final dot, and
/// without the port. `None` when neither is an http(s) URL with a host (a local
/// file whose feed names no home page).
pub fn site_of(home_link: Option<&str>, feed_url: &str) -> Option<String> {
    home_link
        .and_then(http_host)
        .or_else(|| http_host(feed_url))
}

fn http_host(link: &str) -> Option<String> {
    let url = Url::parse(link.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.trim_end_matches('.').to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    (!host.is_empty()).then(|| host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_is_the_home_links_host_else_the_feeds() {
        let cases: &[(Option<&str>, &str, Option<&str>)] = &[
            // the home link wins over where the feed is served from
            (
                Some("https://www.Example.org/blog/"),
                "https://feeds.example.net/x",
                Some("example.org"),
            ),
            // `www.`, case, a final dot and the port make no other site
            (
                Some("http://EXAMPLE.org.:8080/"),
                "file:///f",
                Some("example.org"),
            ),
            // a subdomain is a site of its own
            (
                Some("https://blog.example.org/"),
                "file:///f",
                Some("blog.example.org"),
            ),
            // no home link, or none on the web: the feed's own host
            (
                None,
                "https://www.example.com/feed.json",
                Some("example.com"),
            ),
            (
                Some("mailto:a@example.org"),
                "https://example.com/f",
                Some("example.com"),
            ),
            (
                Some("not a link"),
                "http://127.0.0.1:9000/f",
                Some("127.0.0.1"),
            ),
            // a local file naming no home page belongs to no site
            (None, "file:///srv/feeds/a.xml", None),
            (Some(""), "file:///srv/feeds/a.xml", None),
        ];
        for (home, feed, want) in cases {
            assert_eq!(
                site_of(*home, feed).as_deref(),
                *want,
                "home {home:?}, feed {feed}"
            );
        }
    }
}
