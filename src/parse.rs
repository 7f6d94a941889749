//! Bytes + the feed's URL -> a [`Feed`] of [`Item`]s, through feed-rs. The raw bytes
//! go in untouched (feed-rs detects the encoding); links come out absolute.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

use feed_rs::model::{self as fm, FeedType};
use regex::Regex;
use url::Url;

use crate::model::{Enclosure, Feed, FeedFormat, Item, Person, writable_date};
use crate::sanitize::{http_base, plain_text, resolve_url, text_to_html};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("empty document")]
    Empty,
    #[error("not a feed: the document is an HTML page")]
    Html,
    #[error("not a feed: {0}")]
    Invalid(String),
    #[error("the feed parser failed on this document")]
    Panicked,
}

/// Items read from one document at most; feeds list their newest first, and no
/// real feed comes near this.
pub const MAX_ITEMS: usize = 10_000;

/// Parses one feed document fetched from `url`.
pub fn parse_feed(bytes: &[u8], url: &Url) -> Result<Feed, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    // Links are resolved against the feed's address: never against the
    // credentials in it, which would then be stored and published with them.
    let url = &crate::redact::without_credentials(url);
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(url.as_str()))
        // Left empty, a missing id stays visible; identity decides what to use instead.
        .id_generator(|_, _, _| String::new())
        .build();
    // feed-rs is a dependency reading hostile input; a panic in it must cost one
    // source, not the process.
    let parse = |bytes: &[u8]| {
        catch_unwind(AssertUnwindSafe(|| parser.parse(bytes))).map_err(|_| ParseError::Panicked)
    };
    let bytes = &late_declarations_disarmed(bytes);
    let bytes = &utf8_despite_prolog(bytes);
    let mut parsed = parse(bytes)?;
    if parsed.is_err()
        && let Some(repaired) = repair_json_feed(bytes)
    {
        parsed = parse(&repaired)?;
    }
    // Invalid bytes in a document that says (or is assumed to be) UTF-8: read it
    // with them replaced, as Miniflux and browsers do, rather than lose the feed.
    let lossy;
    let bytes = match &parsed {
        Err(e) if e.to_string().contains("decode") && std::str::from_utf8(bytes).is_err() => {
            lossy = String::from_utf8_lossy(bytes).into_owned().into_bytes();
            parsed = parse(&lossy)?;
            &lossy[..]
        }
        _ => bytes,
    };
    match parsed {
        Ok(feed) => {
            // A root xml:base that is not http(s) is ignored: nothing may resolve
            // against `javascript:` or `file:`.
            let base = root_xml_base(bytes)
                .and_then(|b| url.join(&b).ok())
                .filter(|b| http_base(b).is_some())
                .unwrap_or_else(|| url.clone());
            let mut feed = convert(feed, url, &base);
            (feed.skip_hours, feed.skip_days) = skip_times(bytes);
            if feed.items.len() > MAX_ITEMS {
                tracing::warn!(url = %crate::redact::shown_url(url), items = feed.items.len(), kept = MAX_ITEMS, "feed has too many items; the rest are ignored");
                feed.items.truncate(MAX_ITEMS);
            }
            Ok(feed)
        }
        Err(_) if looks_like_html(bytes) => Err(ParseError::Html),
        Err(e) => Err(ParseError::Invalid(e.to_string())),
    }
}

/// An XML declaration is only allowed at the very start; one further in (seen in
/// feeds pasted together) makes the XML reader try to switch encodings mid-stream
/// and panic. Such late declarations are turned into harmless processing
/// instructions (`<?xml` -> `<?_ml`) first.
fn late_declarations_disarmed(bytes: &[u8]) -> Cow<'_, [u8]> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF))
        .unwrap_or(0);
    let is_declaration = |at: usize| {
        bytes.len() > at + 5
            && bytes[at..at + 2] == *b"<?"
            && bytes[at + 2..at + 5].eq_ignore_ascii_case(b"xml")
            && (bytes[at + 5].is_ascii_whitespace() || bytes[at + 5] == b'?')
    };
    let late: Vec<usize> = memchr::memmem::find_iter(bytes, b"<?")
        .filter(|i| *i > start && is_declaration(*i))
        .collect();
    if late.is_empty() {
        return Cow::Borrowed(bytes);
    }
    let mut fixed = bytes.to_vec();
    for at in late {
        fixed[at + 2] = b'_';
    }
    Cow::Owned(fixed)
}

/// A prolog that declares a single-byte encoding over bytes that are valid UTF-8
/// is wrong (such text is almost never valid UTF-8 by chance), so the document is
/// read as UTF-8, as browsers and Miniflux do.
fn utf8_despite_prolog(bytes: &[u8]) -> Cow<'_, [u8]> {
    let head = &bytes[..bytes.len().min(256)];
    let Some(prolog_end) = head.windows(2).position(|w| w == b"?>") else {
        return Cow::Borrowed(bytes);
    };
    let prolog = String::from_utf8_lossy(&head[..prolog_end]).to_ascii_lowercase();
    let Some(at) = prolog.find("encoding") else {
        return Cow::Borrowed(bytes);
    };
    let declared = prolog[at + "encoding".len()..]
        .trim_start_matches([' ', '=', '"', '\''])
        .split(['"', '\'', ' '])
        .next()
        .unwrap_or_default()
        .to_string();
    if declared.is_empty() || declared == "utf-8" || declared == "utf8" {
        return Cow::Borrowed(bytes);
    }
    if std::str::from_utf8(bytes).is_err() {
        return Cow::Borrowed(bytes);
    }
    let rest = &bytes[prolog_end..];
    let mut fixed = Vec::with_capacity(bytes.len());
    fixed.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"");
    fixed.extend_from_slice(rest);
    Cow::Owned(fixed)
}

/// JSON Feeds seen in the wild that feed-rs rejects on a detail: no `version`, an
/// `http://` version URL, `tags` given as one string; and RSS 2.0 written as JSON
/// (`{"rss": {"channel": ...}}`, as Scripting News serves). Returns the document as
/// a JSON Feed feed-rs reads, or `None` when it is neither.
fn repair_json_feed(bytes: &[u8]) -> Option<Vec<u8>> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    let mut doc: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if let Some(channel) = doc.pointer("/rss/channel") {
        doc = rss_json_to_json_feed(channel);
    }
    let feed = doc.as_object_mut()?;
    if !feed.contains_key("items") {
        return None;
    }
    let version = feed
        .get("version")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let version = if version.ends_with("/version/1") {
        "https://jsonfeed.org/version/1"
    } else {
        "https://jsonfeed.org/version/1.1"
    };
    feed.insert("version".into(), version.into());
    for item in feed.get_mut("items")?.as_array_mut()? {
        if let Some(tags) = item.get_mut("tags")
            && let Some(text) = tags.as_str()
        {
            *tags = text
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| serde_json::Value::from(t.to_string()))
                .collect();
        }
    }
    serde_json::to_vec(&doc).ok()
}

fn rss_json_to_json_feed(channel: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let items = match channel.get("item") {
        Some(Value::Array(items)) => items.clone(),
        Some(item @ Value::Object(_)) => vec![item.clone()],
        _ => Vec::new(),
    };
    let items: Vec<Value> = items
        .iter()
        .map(|i| {
            let date = text(i, "pubDate")
                .and_then(|d| chrono::DateTime::parse_from_rfc2822(&d).ok())
                .map(|d| d.to_rfc3339());
            let guid = match i.get("guid") {
                Some(Value::Object(g)) => g.get("#value").and_then(Value::as_str).map(str::to_string),
                Some(g) => g.as_str().map(str::to_string),
                None => None,
            };
            let attachments: Vec<Value> = i
                .get("enclosure")
                .and_then(|e| {
                    Some(json!({
                        "url": text(e, "url")?,
                        "mime_type": text(e, "type").unwrap_or_else(|| "application/octet-stream".into()),
                        "size_in_bytes": text(e, "length").and_then(|l| l.parse::<u64>().ok()),
                    }))
                })
                .into_iter()
                .collect();
            json!({
                "id": guid.or_else(|| text(i, "link")).unwrap_or_default(),
                "url": text(i, "link"),
                "title": text(i, "title"),
                "content_html": text(i, "description").unwrap_or_default(),
                "date_published": date,
                "attachments": attachments,
            })
        })
        .collect();
    json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": text(channel, "title").unwrap_or_default(),
        "home_page_url": text(channel, "link"),
        "description": text(channel, "description"),
        "items": items,
    })
}

/// RSS `<skipHours>` and `<skipDays>`, which feed-rs does not read. They sit in
/// the channel, before the items.
fn skip_times(bytes: &[u8]) -> (Vec<u32>, Vec<chrono::Weekday>) {
    static BLOCK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?is)<skip(hours|days)>(.*?)</skip(?:hours|days)>").expect("valid regex")
    });
    static VALUE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?is)<(?:hour|day)>\s*([^<]*?)\s*</(?:hour|day)>").expect("valid regex")
    });
    let head = &bytes[..bytes.len().min(64 * 1024)];
    // Most feeds have neither; the regexes run only on those that may.
    if memchr::memmem::find(head, b"<skip").is_none() {
        return (Vec::new(), Vec::new());
    }
    let head = String::from_utf8_lossy(head);
    let head = head.split("<item").next().unwrap_or_default();
    let (mut hours, mut days) = (Vec::new(), Vec::new());
    for block in BLOCK.captures_iter(head) {
        for value in VALUE.captures_iter(&block[2]) {
            if block[1].eq_ignore_ascii_case("hours") {
                // RSS 2.0 counts 0-23; some feeds write 24 for midnight.
                if let Ok(h) = value[1].parse::<u32>() {
                    hours.push(h % 24);
                }
            } else if let Ok(d) = value[1].parse::<chrono::Weekday>() {
                days.push(d);
            }
        }
    }
    (hours, days)
}

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

/// The `xml:base` on the document's root element, which feed-rs applies to links but
/// does not report; relative URLs inside item HTML resolve against it too.
fn root_xml_base(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4096)];
    let mut rest = head;
    // Skip the prolog: <?xml ...?>, comments, doctype.
    let tag = loop {
        let start = rest.iter().position(|b| *b == b'<')?;
        rest = &rest[start..];
        if rest.starts_with(b"<?") || rest.starts_with(b"<!") {
            rest = &rest[1..];
            continue;
        }
        let end = rest.iter().position(|b| *b == b'>')?;
        break &rest[..end];
    };
    let tag = std::str::from_utf8(tag).ok()?;
    let at = tag.find("xml:base")?;
    let value = tag[at + "xml:base".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let value = &value[1..];
    Some(value[..value.find(quote)?].to_string())
}

fn convert(feed: fm::Feed, url: &Url, doc_base: &Url) -> Feed {
    let format = match feed.feed_type {
        FeedType::Atom => FeedFormat::Atom,
        FeedType::JSON => FeedFormat::Json,
        FeedType::RSS0 => FeedFormat::Rss0,
        FeedType::RSS1 => FeedFormat::Rss1,
        FeedType::RSS2 => FeedFormat::Rss2,
    };
    let items = feed
        .entries
        .into_iter()
        .map(|e| convert_entry(e, url, doc_base))
        .collect();
    Feed {
        format,
        title: feed
            .title
            .map(|t| plain_text(&t.content))
            .filter(|t| !t.is_empty()),
        link: alternate_link(&feed.links, url),
        id: Some(feed.id).filter(|id| !id.is_empty()),
        updated: feed.updated.and_then(writable_date),
        ttl: feed.ttl,
        skip_hours: Vec::new(),
        skip_days: Vec::new(),
        items,
    }
}

fn convert_entry(e: fm::Entry, feed_url: &Url, doc_base: &Url) -> Item {
    let link = alternate_link(&e.links, doc_base);
    // Item HTML resolves against the xml:base in scope, else the item's own page,
    // else the feed: the first of them that is http(s).
    let http = |u: Url| http_base(&u).is_some().then_some(u);
    let html_base = e
        .base
        .as_deref()
        .and_then(|b| doc_base.join(b).ok())
        .and_then(http)
        .or_else(|| (doc_base != feed_url).then(|| doc_base.clone()))
        .or_else(|| {
            link.as_deref()
                .and_then(|l| Url::parse(l).ok())
                .and_then(http)
        })
        .or_else(|| http(feed_url.clone()));
    let base = doc_base;
    let mut enclosures: Vec<Enclosure> = Vec::new();
    let mut add_enclosure = |url: String, media_type: Option<String>, length: Option<u64>| {
        if !enclosures.iter().any(|x| x.url == url) {
            enclosures.push(Enclosure {
                url,
                media_type,
                length,
            });
        }
    };
    for media in &e.media {
        for c in &media.content {
            if let Some(u) = c.url.as_ref().and_then(|u| absolute(u.as_str(), base)) {
                add_enclosure(u, c.content_type.as_ref().map(|t| t.to_string()), c.size);
            }
        }
    }
    for l in e
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("enclosure"))
    {
        if let Some(u) = absolute(&l.href, base) {
            add_enclosure(u, l.media_type.clone(), l.length);
        }
    }
    let content = e.content.and_then(|c| {
        let body = c.body?;
        Some(if c.content_type.subty() == "plain" {
            text_to_html(&body)
        } else {
            body
        })
    });
    Item {
        guid: Some(e.id).filter(|id| !id.trim().is_empty()),
        title: e
            .title
            .map(|t| plain_text(&t.content))
            .filter(|t| !t.is_empty()),
        published: e.published.and_then(writable_date),
        updated: e.updated.and_then(writable_date),
        authors: e
            .authors
            .into_iter()
            .map(|p| Person {
                name: p.name.filter(|n| !n.trim().is_empty()),
                email: p.email,
                uri: p.uri.and_then(|u| absolute(&u, base)),
            })
            .collect(),
        categories: e
            .categories
            .iter()
            .map(|c| crate::config::normalize_category(&c.term))
            .filter(|c| !c.is_empty())
            .fold(Vec::new(), |mut v, c| {
                if !v.contains(&c) {
                    v.push(c);
                }
                v
            }),
        summary: e
            .summary
            .map(|t| text_html(&t))
            .filter(|s| !s.trim().is_empty()),
        content: content.filter(|s| !s.trim().is_empty()),
        enclosures,
        base: html_base.map(String::from),
        link,
    }
}

fn text_html(t: &fm::Text) -> String {
    if t.content_type.subty() == "plain" {
        text_to_html(&t.content)
    } else {
        t.content.clone()
    }
}

/// The link a reader follows: `rel="alternate"` or no rel, else the first one that
/// is not about the feed itself; links that are not safe to publish are passed over.
fn alternate_link(links: &[fm::Link], base: &Url) -> Option<String> {
    let safe = |l: &fm::Link| absolute(&l.href, base);
    links
        .iter()
        .filter(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        .find_map(safe)
        .or_else(|| {
            links
                .iter()
                .filter(|l| {
                    !matches!(
                        l.rel.as_deref(),
                        Some(
                            "self" | "enclosure" | "edit" | "hub" | "replies" | "next" | "previous"
                        )
                    )
                })
                .find_map(safe)
        })
}

/// `href` made absolute against `base`, when the result may be published
/// (http, https or mailto).
fn absolute(href: &str, base: &Url) -> Option<String> {
    resolve_url(Some(base), href).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://example.org/blog/feed.xml").unwrap()
    }

    #[test]
    fn rss_items_get_absolute_links_and_keep_missing_guids_missing() {
        let xml = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>T &amp; co</title>
            <link>https://example.org/</link><ttl>60</ttl>
            <item><title>One</title><link>/blog/one</link><guid>id-1</guid>
              <category> Rust </category><description>&lt;p&gt;Hi&lt;/p&gt;</description>
              <enclosure url="https://example.org/a.mp3" length="12345" type="audio/mpeg"/></item>
            <item><title>Two</title><description>no link</description></item>
            </channel></rss>"#;
        let feed = parse_feed(xml, &url()).unwrap();
        assert_eq!(feed.format, FeedFormat::Rss2);
        assert_eq!(feed.title.as_deref(), Some("T & co"));
        assert_eq!(feed.ttl, Some(60));
        let one = &feed.items[0];
        assert_eq!(one.guid.as_deref(), Some("id-1"));
        assert_eq!(one.link.as_deref(), Some("https://example.org/blog/one"));
        assert_eq!(one.categories, ["rust"]);
        assert_eq!(one.summary.as_deref(), Some("<p>Hi</p>"));
        assert_eq!(one.enclosures[0].length, Some(12345));
        assert_eq!(one.enclosures[0].media_type.as_deref(), Some("audio/mpeg"));
        let two = &feed.items[1];
        assert_eq!(two.guid, None);
        assert_eq!(two.link, None);
    }

    #[test]
    fn atom_and_json_parse() {
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">&lt;b&gt;A&lt;/b&gt;</title><id>urn:x</id>
            <updated>2026-11-24T10:00:00Z</updated>
            <entry><id>urn:1</id><title>E</title><link href="e1"/><updated>2026-11-24T10:00:00Z</updated>
            <author><name>Ann</name></author><content type="text">a &lt; b</content></entry></feed>"#;
        let feed = parse_feed(atom, &url()).unwrap();
        assert_eq!(feed.format, FeedFormat::Atom);
        assert_eq!(feed.title.as_deref(), Some("A"));
        assert_eq!(
            feed.items[0].link.as_deref(),
            Some("https://example.org/blog/e1")
        );
        assert_eq!(feed.items[0].content.as_deref(), Some("a &lt; b"));
        assert_eq!(feed.items[0].authors[0].name.as_deref(), Some("Ann"));

        let json = br#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","url":"https://example.org/j1","content_html":"<p>x</p>"}]}"#;
        let feed = parse_feed(json, &url()).unwrap();
        assert_eq!(feed.format, FeedFormat::Json);
        assert_eq!(feed.items[0].guid.as_deref(), Some("1"));
    }

    #[test]
    fn non_feeds_are_named() {
        assert_eq!(parse_feed(b"  \n", &url()).unwrap_err(), ParseError::Empty);
        assert_eq!(
            parse_feed(b"<!DOCTYPE html><html><body>502</body></html>", &url()).unwrap_err(),
            ParseError::Html
        );
        assert!(matches!(
            parse_feed(b"<rss version=\"2.0\"><channel><item>", &url()),
            Err(ParseError::Invalid(_))
        ));
        assert!(parse_feed(b"\x00\x01garbage", &url()).is_err());
        assert!(parse_feed(b"{\"title\": \"no items\"}", &url()).is_err());
    }

    #[test]
    fn a_prolog_that_lies_about_the_encoding_is_overruled_by_utf8_bytes() {
        let doc = "<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel><title>Euro €</title></channel></rss>";
        let feed = parse_feed(doc.as_bytes(), &url()).unwrap();
        assert_eq!(feed.title.as_deref(), Some("Euro €"));
        // real windows-1252 bytes still decode as declared
        let mut latin = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel><title>Euro ".to_vec();
        latin.extend_from_slice(b"\x80</title></channel></rss>");
        assert_eq!(
            parse_feed(&latin, &url()).unwrap().title.as_deref(),
            Some("Euro €")
        );
    }

    // Found by fuzzing (parse_identify): a second XML declaration inside an item
    // made quick-xml panic ("set_encoding() called after prefix buffer was drained").
    #[test]
    fn a_late_xml_declaration_is_read_past() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title><item><title>a</title>
<?xml version="1.0" encoding="ISO-8859-1"?><guid>1</guid></item></channel></rss>"#;
        let feed = parse_feed(xml, &url()).unwrap();
        assert_eq!(feed.items[0].guid.as_deref(), Some("1"));
    }

    #[test]
    fn invalid_utf8_is_read_with_replacement_characters() {
        let mut xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>ok</title><item><guid>1</guid><title>bad ".to_vec();
        xml.extend_from_slice(b"\xff\xfe bytes</title></item></channel></rss>");
        let feed = parse_feed(&xml, &url()).unwrap();
        assert_eq!(
            feed.items[0].title.as_deref(),
            Some("bad \u{fffd}\u{fffd} bytes")
        );
    }

    #[test]
    fn skip_hours_and_days_are_read() {
        let xml = br#"<rss version="2.0"><channel><title>T</title>
            <skipHours><hour>0</hour><hour> 1 </hour><hour>24</hour></skipHours>
            <skipDays><day>Saturday</day><day>Sunday</day></skipDays>
            <item><title>i</title><guid>1</guid></item></channel></rss>"#;
        let feed = parse_feed(xml, &url()).unwrap();
        assert_eq!(feed.skip_hours, [0, 1, 0]);
        assert_eq!(feed.skip_days, [chrono::Weekday::Sat, chrono::Weekday::Sun]);
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

    #[test]
    fn unsafe_urls_and_bases_in_a_feed_are_dropped() {
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="javascript:alert(1)//">
            <id>urn:x</id><title>T</title><updated>2026-11-24T10:00:00Z</updated>
            <link href="javascript:alert('site')"/>
            <entry><id>urn:1</id><title>E</title><updated>2026-11-24T10:00:00Z</updated>
              <link rel="alternate" href="javascript:alert(2)"/>
              <link rel="alternate" href="https://example.org/real"/>
              <link rel="enclosure" href="data:audio/mpeg;base64,AA" type="audio/mpeg"/>
              <link rel="enclosure" href="https://example.org/a.mp3" type="audio/mpeg"/>
              <author><name>A</name><uri>vbscript:msgbox(1)</uri></author>
              <content type="html">&lt;a href="rel"&gt;r&lt;/a&gt;</content></entry>
            <entry xml:base="file:///etc/"><id>urn:2</id><title>F</title>
              <updated>2026-11-24T10:00:00Z</updated><link href="passwd"/>
              <author><name>B</name><uri>/about</uri></author></entry></feed>"#;
        let feed = parse_feed(atom, &url()).unwrap();
        assert_eq!(feed.link, None);
        let one = &feed.items[0];
        assert_eq!(one.link.as_deref(), Some("https://example.org/real"));
        let enclosures: Vec<&str> = one.enclosures.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(enclosures, ["https://example.org/a.mp3"]);
        assert_eq!(one.authors[0].uri, None);
        assert_eq!(one.base.as_deref(), Some("https://example.org/real"));
        let two = &feed.items[1];
        assert_eq!(two.link, None);
        assert_eq!(
            two.base.as_deref(),
            Some("https://example.org/blog/feed.xml")
        );
        assert_eq!(
            two.authors[0].uri.as_deref(),
            Some("https://example.org/about")
        );
    }

    #[test]
    fn dates_no_output_can_write_are_dropped() {
        let dated = |date: &str| {
            let xml = format!(
                "<rss version=\"2.0\"><channel><title>T</title><item><guid>1</guid>\
                 <pubDate>{date}</pubDate></item></channel></rss>"
            );
            parse_feed(xml.as_bytes(), &url()).unwrap().items[0].published
        };
        for date in [
            "Sat, 01 Jan 10000 00:00:00 GMT",
            "0000-06-01T00:00:00Z",
            "Mon, 01 Jan 0001 00:00:00 +0000",
            "Mon, 01 Jan 1800 00:00:00 +0000",
        ] {
            assert_eq!(dated(date), None, "{date}");
        }
        assert_eq!(
            dated("Tue, 24 Nov 2026 10:00:00 GMT").map(|d| d.to_rfc3339()),
            Some("2026-11-24T10:00:00+00:00".to_string())
        );
    }

    #[test]
    fn json_feeds_with_common_slips_are_read() {
        let json = br#"{"version":"http://jsonfeed.org/version/1","title":"J","items":[
            {"id":"1","url":"https://example.org/1","content_text":"x","tags":"a, b"}]}"#;
        let feed = parse_feed(json, &url()).unwrap();
        assert_eq!(feed.items[0].categories, ["a", "b"]);
        let rss_json =
            br#"{"rss":{"version":"2.0","channel":{"title":"S","link":"http://s.example/",
            "item":[{"link":"http://s.example/1","guid":"http://s.example/1","description":"Hi",
            "pubDate":"Mon, 26 Jun 2017 12:20:05 GMT"}]}}}"#;
        let feed = parse_feed(rss_json, &url()).unwrap();
        assert_eq!(feed.title.as_deref(), Some("S"));
        assert_eq!(feed.items[0].link.as_deref(), Some("http://s.example/1"));
        assert_eq!(
            feed.items[0].published.unwrap().to_rfc3339(),
            "2017-06-26T12:20:05+00:00"
        );
        let no_version = br#"{"title":"J","items":[{"id":"1","content_text":"x"}]}"#;
        assert_eq!(parse_feed(no_version, &url()).unwrap().items.len(), 1);
    }
}
