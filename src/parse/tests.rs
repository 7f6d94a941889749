//! Parsing whole documents: formats, links made safe, caps, encodings and
//! documents that are no feed.

use super::bound::{MAX_ITEM_CATEGORIES, MAX_PERSON_CHARS};
use super::*;
use crate::model::FeedFormat;

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
    let rss_json = br#"{"rss":{"version":"2.0","channel":{"title":"S","link":"http://s.example/",
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
