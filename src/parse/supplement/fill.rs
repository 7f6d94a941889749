//! What the second pass found, put into the converted feed and its items: as
//! fallbacks where feed-rs gave nothing, and as corrections where it read a
//! construct wrong. A core element the feed has is never overridden.

use chrono::{DateTime, Utc};
use url::Url;

use super::date::parse_date;
use super::person::parse_contact;
use super::{Found, FoundPerson, Kind};
use crate::model::{Enclosure, Feed, Item, Person, writable_date};
use crate::parse::absolute;
use crate::sanitize::{plain_text, text_to_html};

/// The channel's `<dc:title>` where it has no `<title>`; its `<dc:date>` or
/// `<dcterms:modified>` where it has no update time.
pub fn channel(feed: &mut Feed, found: &Found) {
    if feed.title.is_none() {
        feed.title = found.dc_title.as_deref().and_then(title);
    }
    if feed.updated.is_none() {
        feed.updated = first_date([&found.dcterms_modified, &found.dc_date]);
    }
}

/// Fills `item` from the values found in its entry.
pub fn entry(item: &mut Item, found: &Found, base: &Url) {
    // `<dc:title>`, then `<media:title>`, in an item without `<title>`
    if item.title.is_none() {
        item.title = [&found.dc_title, &found.media_title]
            .into_iter()
            .find_map(|t| t.as_deref().and_then(title));
    }
    // The files first: a guid naming one of them is no page.
    enclosures(item, found, base);
    // A `<guid>` that is a permalink is the item's page (RSS 2.0): only an
    // absolute http(s) URL, since a relative guid names nothing, and not the
    // URL of the item's `<enclosure>`, which podcasts give as guid by default.
    if item.link.is_none() {
        item.link = found
            .permalink
            .as_deref()
            .filter(|g| Url::parse(g).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
            .and_then(|g| absolute(g, base))
            .filter(|g| !item.enclosures.iter().any(|e| e.url == *g));
    }
    dates(item, found);
    if item.authors.is_empty() {
        item.authors = authors(found, base);
    }
    // An RSS `<author>` that is only an email address, beside an
    // `<itunes:author>` naming the person: one author, named by iTunes.
    if let [only] = &mut item.authors[..]
        && only.name.is_none()
        && only.email.is_some()
    {
        only.name = found
            .itunes_author
            .as_deref()
            .and_then(|raw| parse_contact(raw).0);
    }
    categories(item, found);
    summary(item, found);
    // `<media:thumbnail url>`: the item's picture
    if item.image.is_none() {
        item.image = found
            .media_thumbnail
            .as_deref()
            .and_then(|u| absolute(u, base));
    }
}

/// What every item takes from the channel: its authors (`atom:author`,
/// `<dc:creator>`, `<itunes:author>`) for an item that names none, as RFC 4287
/// §4.2.1 has Atom entries inherit the feed's.
pub fn inherited(item: &mut Item, channel: &Found, base: &Url) {
    if item.authors.is_empty() {
        item.authors = authors(channel, base);
    }
}

/// Publication and update times.
fn dates(item: &mut Item, found: &Found) {
    // feed-rs takes whichever of `<pubDate>` and `<dc:date>` comes last;
    // `<pubDate>` is the core element and wins.
    if found.dc_date_after_pub_date
        && let Some(t) = found
            .pub_date
            .as_deref()
            .and_then(parse_date)
            .and_then(writable_date)
    {
        item.published = Some(t);
    }
    // `<pubDate>` in a form feed-rs does not read (`Tue 11 Jan 2011 01:30:00
    // GMT`, `2006-01-11 16:42:55 -0800`), then `<dc:date>`, `<dcterms:issued>`,
    // `<dcterms:created>`, `atom:published`
    if item.published.is_none() {
        item.published = first_date([
            &found.pub_date,
            &found.dc_date,
            &found.dcterms_issued,
            &found.dcterms_created,
            &found.atom_published,
        ]);
    }
    // In an RSS 2.0 item without `<updated>` or `atom:updated`, feed-rs gives the
    // publication time as the update time: `<dcterms:modified>` is the real one,
    // and without it the publication time stays (as corrected above).
    if found.kind == Kind::RssItem && !found.explicit_updated {
        item.updated = first_date([&found.dcterms_modified]).or(item.published);
    } else if item.updated.is_none() {
        item.updated = first_date([&found.dcterms_modified, &found.atom_updated]);
    }
}

/// `atom:author`, then `<dc:creator>`, then `<itunes:author>`.
fn authors(found: &Found, base: &Url) -> Vec<Person> {
    let atom: Vec<Person> = found
        .atom_authors
        .iter()
        .map(|p: &FoundPerson| Person {
            name: p.name.clone(),
            email: p.email.clone(),
            uri: p.uri.as_deref().and_then(|u| absolute(u, base)),
        })
        .collect();
    if !atom.is_empty() {
        return atom;
    }
    let texts = if found.dc_creators.is_empty() {
        found.itunes_author.as_slice()
    } else {
        found.dc_creators.as_slice()
    };
    texts
        .iter()
        .map(|raw| parse_contact(raw))
        .filter(|(name, email)| name.is_some() || email.is_some())
        .map(|(name, email)| Person {
            name,
            email,
            uri: None,
        })
        .collect()
}

/// The item's files: every RSS `<enclosure>` first, then every `media:content`
/// not already there, then what else feed-rs found (Atom `rel="enclosure"`
/// links). feed-rs drops an `<enclosure>` when the item has Media RSS content,
/// and gives a `<media:player url>` (a web page) as the content's URL: a player
/// is never a file, so none is kept.
fn enclosures(item: &mut Item, found: &Found, base: &Url) {
    if found.enclosures.is_empty()
        && found.media_contents.is_empty()
        && found.media_players.is_empty()
    {
        return;
    }
    let players: Vec<String> = found
        .media_players
        .iter()
        .filter_map(|u| absolute(u, base))
        .collect();
    let mut files: Vec<Enclosure> = Vec::new();
    let written = found.enclosures.iter().chain(&found.media_contents);
    let written = written.filter_map(|e| {
        Some(Enclosure {
            url: absolute(&e.url, base)?,
            media_type: e.media_type.clone(),
            length: e.length,
        })
    });
    let others = std::mem::take(&mut item.enclosures)
        .into_iter()
        .filter(|e| !players.contains(&e.url));
    for file in written.collect::<Vec<_>>().into_iter().chain(others) {
        if !files.iter().any(|f| f.url == file.url) {
            files.push(file);
        }
    }
    item.enclosures = files;
}

/// The text of an Atom `<category>` without `term`, `<dc:subject>`,
/// `<itunes:category>` and `<media:category>`, as written, after the item's own
/// categories and once each.
fn categories(item: &mut Item, found: &Found) {
    let mut labels = crate::model::Labels::default();
    let extra = found
        .atom_category_texts
        .iter()
        .chain(&found.dc_subjects)
        .chain(&found.itunes_categories)
        .chain(&found.media_categories);
    for category in item.categories.iter().chain(extra) {
        labels.add(category);
    }
    item.categories = labels.into_vec();
}

/// A `<description>` holding markup, read whole; else, where the item has no
/// summary, `<dc:description>`, `<itunes:summary>`, `<media:description>`.
fn summary(item: &mut Item, found: &Found) {
    if let Some(markup) = &found.mixed_description {
        item.summary = Some(markup.clone()).filter(|s| !s.trim().is_empty());
    }
    if item.summary.is_some() {
        return;
    }
    // `<dc:description>` stands in for `<description>`, which RSS reads as HTML.
    item.summary = found
        .dc_description
        .clone()
        .or_else(|| found.itunes_summary.as_deref().map(html_or_text))
        .or_else(|| {
            found.media_description.as_ref().map(|(text, html)| {
                if *html {
                    text.clone()
                } else {
                    text_to_html(text)
                }
            })
        });
}

/// `<itunes:summary>` is plain text by Apple's rules, yet publishers put HTML in
/// it: text that holds a tag is read as HTML.
fn html_or_text(text: &str) -> String {
    let has_tag = text.match_indices('<').any(|(at, _)| {
        let next = text[at + 1..].chars().next();
        next.is_some_and(|c| c.is_ascii_alphabetic() || c == '/') && text[at..].contains('>')
    });
    if has_tag {
        text.to_string()
    } else {
        text_to_html(text)
    }
}

fn title(raw: &str) -> Option<String> {
    Some(plain_text(raw)).filter(|t| !t.is_empty())
}

/// The first of `dates` that parses and that every output can write.
fn first_date<const N: usize>(dates: [&Option<String>; N]) -> Option<DateTime<Utc>> {
    dates
        .into_iter()
        .flatten()
        .find_map(|d| parse_date(d).and_then(writable_date))
}
