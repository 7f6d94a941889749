//! The pass read against documents written for one construct each; the
//! fixtures under `tests/fixtures/reading/` show the same through `inspect`.

use super::*;
use crate::parse::parse_feed;

fn url() -> Url {
    Url::parse("https://example.org/feed").unwrap()
}

fn item(guid: Option<&str>, link: Option<&str>) -> Item {
    Item {
        guid: guid.map(String::from),
        link: link.map(String::from),
        ..Item::default()
    }
}

fn found(id: Option<&str>, link: Option<&str>) -> Found {
    Found {
        id: id.map(String::from),
        link: link.map(String::from),
        ..Found::default()
    }
}

#[test]
fn entries_are_matched_by_place_only_when_both_passes_saw_the_same_ones() {
    let items = [item(Some("a"), None), item(Some("b"), None)];
    let same = [found(Some("a"), None), found(Some("b"), None)];
    assert_eq!(match_entries(&items, &same, &url()), [Some(0), Some(1)]);
    // feed-rs dropped the first entry: ids, not places, decide.
    let more = [
        found(Some("x"), None),
        found(Some("a"), None),
        found(Some("b"), None),
    ];
    assert_eq!(match_entries(&items, &more, &url()), [Some(1), Some(2)]);
    // Same count, other entries: each item takes only the one with its id.
    let other = [found(Some("b"), None), found(Some("c"), None)];
    assert_eq!(match_entries(&items, &other, &url()), [None, Some(0)]);
}

#[test]
fn entries_without_ids_are_matched_by_link_and_repeated_keys_match_nothing() {
    let items = [
        item(None, Some("https://example.org/2")),
        item(Some("dup"), None),
        item(None, None),
    ];
    let found_entries = [
        found(None, Some("/1")),
        found(None, Some("/2")),
        found(Some("dup"), None),
        found(Some("dup"), None),
    ];
    assert_eq!(
        match_entries(&items, &found_entries, &url()),
        [Some(1), None, None]
    );
}

/// RSS 1.0 items without `<link>` are dropped by feed-rs: the values of the
/// entries it kept still reach them, and no others do.
#[test]
fn values_reach_the_right_item_when_feed_rs_drops_an_entry() {
    let xml = br#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://example.org/"><title>T</title><link>https://example.org/</link>
    <description>d</description></channel>
  <item rdf:about="https://example.org/a"><title>A</title><dc:subject>About A</dc:subject></item>
  <item rdf:about="https://example.org/b"><title>B</title><link>https://example.org/b</link>
    <dc:subject>About B</dc:subject></item>
</rdf:RDF>"#;
    let feed = parse_feed(xml, &url()).unwrap();
    let b = feed
        .items
        .iter()
        .find(|i| i.link.as_deref() == Some("https://example.org/b"))
        .unwrap();
    assert_eq!(b.categories, ["About B"]);
    for other in feed.items.iter().filter(|i| i.link.is_none()) {
        assert!(other.categories.iter().all(|c| c == "About A"), "{other:?}");
    }
}

#[test]
fn a_document_in_a_single_byte_encoding_is_read_in_it() {
    let mut xml = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>\
        <rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel>\
        <link>https://example.org/</link><description>d</description>\
        <item><link>https://example.org/1</link><dc:title>Caf"
        .to_vec();
    xml.extend_from_slice(b"\xe9 \x80 5</dc:title></item></channel></rss>");
    let feed = parse_feed(&xml, &url()).unwrap();
    assert_eq!(feed.items[0].title.as_deref(), Some("Café € 5"));
}

#[test]
fn json_feeds_and_broken_markup_yield_nothing_and_do_not_fail() {
    assert!(
        read(br#"  {"version": "https://jsonfeed.org/version/1.1", "items": []}"#)
            .entries
            .is_empty()
    );
    let broken = read(
        b"<rss><channel><item><dc:title xmlns:dc=\"http://purl.org/dc/elements/1.1/\">x</item><<<",
    );
    assert!(broken.entries.len() <= 1);
}
