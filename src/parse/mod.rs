//! Bytes + the feed's URL -> a [`Feed`] of [`Item`]s. feed-rs is the parser;
//! around it, in this folder, tributary adds what it misses:
//!
//! 1. [`prepass`]: the bytes brought to an encoding the XML reader takes, and
//!    constructs it fails or panics on disarmed;
//! 2. [`dialects`]: older and variant dialects (Atom 0.3, RSS without a version,
//!    RSS 0.90, ...) rewritten into the ones feed-rs reads;
//! 3. feed-rs, then [`convert`]: its model into tributary's [`Item`]s, links absolute;
//! 4. [`supplement`]: a second pass over the document for what feed-rs does not
//!    report (Dublin Core, iTunes and Media RSS fallbacks, guid permalinks, ...).
//!
//! [`json`] repairs JSON documents feed-rs rejects on a detail; [`scan`] reads
//! channel values straight from the bytes; [`html`] handles web pages;
//! [`contain`] keeps a panic of feed-rs to the one document.

mod contain;
mod dialects;
mod html;
mod json;
mod prepass;
mod scan;
mod supplement;

use feed_rs::model::{self as fm, FeedType};
use url::Url;

use crate::model::{Enclosure, Feed, FeedFormat, Item, Person, writable_date};
use crate::sanitize::{TitleMarkup, http_base, resolve_url, text_to_html, title_text};

pub use contain::{contained, panic_is_contained};
pub use html::{discover_feeds, looks_like_html};
use json::repair_json_feed;
use scan::{root_xml_base, skip_times};

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
/// Categories kept per item, in the feed's order: a hostile item with tens of
/// thousands of subjects must not weigh down every page that shows it.
pub const MAX_ITEM_CATEGORIES: usize = 100;
/// Authors kept per item, and characters kept of each one's name and email.
pub const MAX_AUTHORS: usize = 20;
pub const MAX_PERSON_CHARS: usize = 200;

/// Parses one feed document fetched from `url`.
pub fn parse_feed(bytes: &[u8], url: &Url) -> Result<Feed, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    // Links are resolved against the feed's address: never against the
    // credentials in it, which would then be stored and published with them.
    let url = &crate::redact::without_credentials(url);
    // feed-rs is a dependency reading hostile input; a panic in it must cost one
    // source, not the process. Each attempt has a parser of its own: one left
    // mid-entry by a failed attempt trips an assertion in the next.
    let parse = |bytes: &[u8]| {
        let parser = feed_rs::parser::Builder::new()
            .base_uri(Some(url.as_str()))
            // Left empty, a missing id stays visible; identity decides what to use instead.
            .id_generator(|_, _, _| String::new())
            .build();
        contain::contained(|| parser.parse(bytes)).map_err(|_| ParseError::Panicked)
    };
    let bytes = &prepass::prepare(bytes);
    let normalized = dialects::normalize(bytes);
    let bytes = &normalized.bytes[..];
    let mut first = parse(bytes);
    // feed-rs panics on a contact whose address follows a multi-byte character
    // (`<author>€a@b.org</author>`): one more try with a space put there, rather
    // than lose the feed to one author.
    let spaced;
    let retry = matches!(first, Err(ParseError::Panicked))
        .then(|| prepass::contacts_spaced(bytes))
        .flatten();
    let bytes = match retry {
        Some(fixed) => {
            spaced = fixed;
            first = parse(&spaced);
            &spaced[..]
        }
        None => bytes,
    };
    let mut parsed = first?;
    if parsed.is_err()
        && let Some(repaired) = repair_json_feed(bytes)
    {
        parsed = parse(&repaired)?;
    }
    match parsed {
        Ok(mut feed) => {
            // Entries past the cap are dropped before anything is made of them: a
            // document of 200,000 items must not cost the memory of 200,000.
            let entries = feed.entries.len();
            if entries > MAX_ITEMS {
                tracing::warn!(url = %crate::redact::shown_url(url), items = entries, kept = MAX_ITEMS, "feed has too many items; the rest are ignored");
                feed.entries.truncate(MAX_ITEMS);
            }
            // A root xml:base that is not http(s) is ignored: nothing may resolve
            // against `javascript:` or `file:`.
            let base = root_xml_base(bytes)
                .and_then(|b| url.join(&b).ok())
                .filter(|b| http_base(b).is_some())
                .unwrap_or_else(|| url.clone());
            let mut feed = convert(feed, url, &base);
            normalized.restore(&mut feed);
            supplement::apply(&mut feed, &supplement::read(bytes), &base);
            json::fill_dates(&mut feed, bytes);
            (feed.skip_hours, feed.skip_days) = skip_times(bytes);
            bound_people_and_categories(&mut feed);
            Ok(feed)
        }
        Err(_) if looks_like_html(bytes) => Err(ParseError::Html),
        Err(e) => Err(ParseError::Invalid(e.to_string())),
    }
}

/// Holds each item to [`MAX_ITEM_CATEGORIES`], [`MAX_AUTHORS`] and
/// [`MAX_PERSON_CHARS`]: no real feed comes near them, and a megabyte-long
/// `<dc:creator>` would otherwise be published in every page of the river.
fn bound_people_and_categories(feed: &mut Feed) {
    let cut = |text: &mut Option<String>| {
        if let Some(t) = text
            && let Some((at, _)) = t.char_indices().nth(MAX_PERSON_CHARS)
        {
            t.truncate(at);
        }
    };
    for item in &mut feed.items {
        item.categories.truncate(MAX_ITEM_CATEGORIES);
        item.authors.truncate(MAX_AUTHORS);
        for person in &mut item.authors {
            cut(&mut person.name);
            cut(&mut person.email);
        }
    }
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
        .map(|e| convert_entry(e, format, url, doc_base))
        .collect();
    Feed {
        format,
        title: feed.title.and_then(|t| plain_title(&t, format)),
        link: alternate_link(&feed.links, url),
        id: Some(feed.id).filter(|id| !id.is_empty()),
        updated: feed.updated.and_then(writable_date),
        ttl: feed.ttl,
        skip_hours: Vec::new(),
        skip_days: Vec::new(),
        items,
    }
}

fn convert_entry(e: fm::Entry, format: FeedFormat, feed_url: &Url, doc_base: &Url) -> Item {
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
        title: e.title.and_then(|t| plain_title(&t, format)),
        published: e.published.and_then(writable_date),
        updated: e.updated.and_then(writable_date),
        // RSS `<author>` and `<dc:creator>` are one string feed-rs splits, not
        // always rightly: `email (Name)` gives the name `(Name)`.
        authors: e
            .authors
            .into_iter()
            .map(|p| (supplement::person::tidy_contact(p.name, p.email), p.uri))
            .filter(|((name, email), uri)| name.is_some() || email.is_some() || uri.is_some())
            .map(|((name, email), uri)| Person {
                name,
                email,
                uri: uri.and_then(|u| absolute(&u, base)),
            })
            .collect(),
        // `<category>` (RSS), `<category term>` (Atom), `tags` (JSON Feed) as the
        // publisher spelled them, one per slug. Atom's `label` is left aside:
        // feeds use it for the scheme's name ("Magnitude") as often as for the term's.
        categories: e
            .categories
            .iter()
            .fold(crate::model::Labels::default(), |mut labels, c| {
                labels.add(&c.term);
                labels
            })
            .into_vec(),
        summary: e
            .summary
            .map(|t| text_html(&t))
            .filter(|s| !s.trim().is_empty()),
        content: content.filter(|s| !s.trim().is_empty()),
        enclosures,
        base: html_base.map(String::from),
        link,
        image: None,
    }
}

/// A feed's or entry's title as plain text (SPEC §5.2). Atom says whether a
/// title is text (`type="text"`: every character kept) or markup (`"html"`,
/// `"xhtml"`: tags stripped, entities decoded once); RSS and JSON Feed do not, so
/// theirs are read as markup only when they hold real tags ([`holds_markup`]).
///
/// [`holds_markup`]: crate::sanitize::holds_markup
fn plain_title(t: &fm::Text, format: FeedFormat) -> Option<String> {
    let markup = match (format, t.content_type.subty().as_str()) {
        (_, "html" | "xhtml" | "xhtml+xml") => TitleMarkup::Html,
        (FeedFormat::Atom, _) => TitleMarkup::Text,
        _ => TitleMarkup::Unknown,
    };
    Some(title_text(&t.content, markup)).filter(|t| !t.is_empty())
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
        assert_eq!(one.categories, ["Rust"]);
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
    fn an_item_cannot_carry_endless_categories_or_author_names() {
        let subjects: String = (0..5000)
            .map(|n| format!("<category>c{n}</category>"))
            .collect();
        let name = "A".repeat(1_000_000);
        let xml = format!(
            "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>T</title>\
             <item><guid>1</guid><dc:creator>{name}</dc:creator>{subjects}</item></channel></rss>"
        );
        let feed = parse_feed(xml.as_bytes(), &url()).unwrap();
        let item = &feed.items[0];
        assert_eq!(item.categories.len(), MAX_ITEM_CATEGORIES);
        assert_eq!(item.categories[0], "c0");
        let author = item.authors[0].name.as_deref().unwrap();
        assert_eq!(author.chars().count(), MAX_PERSON_CHARS);
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
