//! A second pass over the document for what feed-rs does not report or reads
//! wrong: Dublin Core and DC Terms, Atom elements inside RSS items, iTunes and
//! Media RSS values, `<guid>` permalinks and descriptions holding raw markup.
//! [`read`] walks the XML once ([`walk`]); [`apply`] matches what it found to the
//! converted items and fills them in ([`fill`]) where feed-rs gave nothing.

mod date;
mod fill;
mod lenient;
mod markup;
pub mod person;
mod slots;
mod walk;

use std::collections::HashMap;

use url::Url;

use crate::model::{Feed, Item};

pub use date::parse_date;

/// What the second pass found: for the feed, and for each entry in document order.
#[derive(Debug, Default)]
pub struct Supplement {
    pub channel: Found,
    pub entries: Vec<Found>,
}

/// Where values were found; the kinds differ in which elements feed-rs reads.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// an `<item>` of RSS 0.91 to 2.0 (`<rss>`)
    #[default]
    RssItem,
    /// an `<item>` of RSS 1.0 or 0.90 (`<rdf:RDF>`)
    RdfItem,
    AtomEntry,
}

/// A person as an `atom:author` (or an RSS `<author>` holding its elements)
/// gives one, its parts as written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FoundPerson {
    pub name: Option<String>,
    pub email: Option<String>,
    pub uri: Option<String>,
}

/// A file an entry carries, as an RSS `<enclosure url type length>` or a
/// `<media:content url type fileSize>` gives it: the URL unresolved.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FoundEnclosure {
    pub url: String,
    pub media_type: Option<String>,
    pub length: Option<u64>,
}

/// The values of one entry (or of the channel), as written in the document:
/// text trimmed, dates unparsed, URLs unresolved.
#[derive(Debug, Default)]
pub struct Found {
    pub kind: Kind,
    /// RSS `<guid>` / Atom `<id>`, to match feed-rs's entry
    pub id: Option<String>,
    /// RSS `<link>` / Atom alternate `<link href>`, to match feed-rs's entry
    pub link: Option<String>,
    /// the `<guid>` text when `isPermaLink` is absent or `true`
    pub permalink: Option<String>,
    /// RSS `<pubDate>`
    pub pub_date: Option<String>,
    /// a `<dc:date>` came after `<pubDate>`, and feed-rs took it instead
    pub dc_date_after_pub_date: bool,
    /// RSS `<updated>` or `atom:updated`, which feed-rs reads as the update time;
    /// without one, feed-rs copies the publication time there
    pub explicit_updated: bool,
    /// `<description>` holding elements: its content serialized back to markup
    pub mixed_description: Option<String>,
    pub dc_title: Option<String>,
    pub dc_date: Option<String>,
    pub dc_description: Option<String>,
    pub dc_creators: Vec<String>,
    pub dc_subjects: Vec<String>,
    /// `atom:category` elements with text and no `term`
    pub atom_category_texts: Vec<String>,
    pub dcterms_issued: Option<String>,
    pub dcterms_created: Option<String>,
    pub dcterms_modified: Option<String>,
    /// `atom:author`s, and RSS `<author>`s holding `<name>`/`<email>` elements
    pub atom_authors: Vec<FoundPerson>,
    pub atom_published: Option<String>,
    pub atom_updated: Option<String>,
    pub itunes_author: Option<String>,
    pub itunes_summary: Option<String>,
    pub itunes_categories: Vec<String>,
    pub media_title: Option<String>,
    /// `media:description`, and whether its `type` says HTML
    pub media_description: Option<(String, bool)>,
    pub media_thumbnail: Option<String>,
    pub media_categories: Vec<String>,
    /// RSS `<enclosure>`s, in document order
    pub enclosures: Vec<FoundEnclosure>,
    /// `media:content`s with a URL, in document order
    pub media_contents: Vec<FoundEnclosure>,
    /// `<media:player url>`s: pages that play a file, never the file
    pub media_players: Vec<String>,
}

/// Reads the document (as given to feed-rs) for the values feed-rs misses.
/// A document that is not XML (JSON Feed) yields nothing.
pub fn read(bytes: &[u8]) -> Supplement {
    walk::walk(bytes)
}

/// Fills in `feed` from what the second pass found: the channel's values where
/// the feed has none, each entry's where its item has none.
pub fn apply(feed: &mut Feed, found: &Supplement, base: &Url) {
    fill::channel(feed, &found.channel);
    let matched = match_entries(&feed.items, &found.entries, base);
    for (item, at) in feed.items.iter_mut().zip(matched) {
        if let Some(at) = at {
            fill::entry(item, &found.entries[at], base);
        }
        fill::inherited(item, &found.channel, base);
    }
}

/// For each of feed-rs's items, the entry of the second pass it is: the one at
/// the same place when both passes saw the same entries, else the one with its
/// id (or, without ids, its link), else none. Values are never given to an item
/// on a guess.
fn match_entries(items: &[Item], found: &[Found], base: &Url) -> Vec<Option<usize>> {
    let link_of = |f: &Found| f.link.as_deref().and_then(|l| super::absolute(l, base));
    let same = |item: &Item, f: &Found| match (item.guid.as_deref().map(str::trim), &f.id) {
        (Some(a), Some(b)) => a == b,
        (None, None) => item.link == link_of(f),
        _ => false,
    };
    if items.len() == found.len() && items.iter().zip(found).all(|(i, f)| same(i, f)) {
        return (0..items.len()).map(Some).collect();
    }
    // Each key names the one entry that has it, or none when several do.
    fn index<K: Eq + std::hash::Hash>(
        keys: impl Iterator<Item = (K, usize)>,
    ) -> HashMap<K, Option<usize>> {
        let mut map = HashMap::new();
        for (key, at) in keys {
            map.entry(key)
                .and_modify(|only: &mut Option<usize>| *only = None)
                .or_insert(Some(at));
        }
        map
    }
    let by_id = index(
        found
            .iter()
            .enumerate()
            .filter_map(|(at, f)| Some((f.id.as_deref()?, at))),
    );
    let by_link = index(
        found
            .iter()
            .enumerate()
            .filter(|(_, f)| f.id.is_none())
            .filter_map(|(at, f)| Some((link_of(f)?, at))),
    );
    items
        .iter()
        .map(
            |item| match (item.guid.as_deref().map(str::trim), &item.link) {
                (Some(id), _) => by_id.get(id).copied().flatten(),
                (None, Some(link)) => by_link.get(link).copied().flatten(),
                (None, None) => None,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests;
