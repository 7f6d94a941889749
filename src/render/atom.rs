//! Atom 1.0 (RFC 4287). Each entry names its first source in `<source>` and all of
//! them in `<tributary:sources>`.

use std::collections::BTreeMap;

use atom_syndication as atom;
use chrono::{DateTime, FixedOffset, Utc};

use super::{
    FeedMeta, TRIBUTARY_NS, entry_id, entry_title, entry_updated, item_html, item_link,
    published_url, source_feed_url, xml_text,
};
use crate::model::Story;
use crate::model::clamp_date;
use crate::model::slug;
use crate::sanitize::plain_text;

/// An RFC 3339 date as Atom wants it: four-digit years only.
fn date(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    clamp_date(t).fixed_offset()
}

fn text(s: &str) -> atom::Text {
    atom::Text::plain(xml_text(s).into_owned())
}

fn link(href: &str, rel: &str, media_type: Option<&str>) -> atom::Link {
    atom::Link {
        href: href.to_string(),
        rel: rel.to_string(),
        mime_type: media_type.map(str::to_string),
        ..Default::default()
    }
}

pub fn render_atom(meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
    let updated = stories
        .iter()
        .map(entry_updated)
        .max()
        // A feed with no entries yet is as new as this answer.
        .unwrap_or_else(chrono::Utc::now);
    let mut links = vec![
        link(meta.self_url.as_str(), "self", Some("application/atom+xml")),
        link(meta.home_url.as_str(), "alternate", Some("text/html")),
    ];
    if let Some(next) = &meta.next_url {
        links.push(link(next.as_str(), "next", Some("application/atom+xml")));
    }
    let feed = atom::Feed {
        title: text(&meta.title),
        id: meta.self_url.to_string(),
        updated: date(updated),
        // RFC 4287 §4.1.1: a feed names an author unless every entry does.
        authors: vec![atom::Person {
            name: xml_text(&meta.title).into_owned(),
            ..Default::default()
        }],
        generator: Some(atom::Generator {
            value: "tributary".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
            uri: None,
        }),
        links,
        entries: stories.iter().map(|s| entry(meta, s)).collect(),
        namespaces: BTreeMap::from([("tributary".to_string(), TRIBUTARY_NS.to_string())]),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(4096 + stories.len() * 2048);
    feed.write_to(&mut out)
        .expect("writing to a Vec cannot fail, and every text went through xml_text");
    out
}

/// The entry's content: its HTML; or, for an entry with neither HTML nor a page
/// to link to, empty text, since RFC 4287 (4.1.1.1) wants an entry to have one
/// of the two.
fn entry_content(html: Option<String>, has_alternate: bool) -> Option<atom::Content> {
    match html {
        Some(h) => Some(atom::Content {
            value: Some(xml_text(&h).into_owned()),
            content_type: Some("html".to_string()),
            ..Default::default()
        }),
        None if !has_alternate => Some(atom::Content {
            value: Some(String::new()),
            content_type: Some("text".to_string()),
            ..Default::default()
        }),
        None => None,
    }
}

fn entry(meta: &FeedMeta, story: &Story) -> atom::Entry {
    let item = &story.item;
    let html = item_html(item);
    let summary = item
        .summary
        .as_deref()
        .map(plain_text)
        .filter(|s| !s.is_empty() && html.is_some());
    let mut links = Vec::new();
    if let Some(l) = item_link(item) {
        links.push(link(&l, "alternate", Some("text/html")));
    }
    let has_alternate = !links.is_empty();
    for e in &item.enclosures {
        let Some(url) = published_url(&e.url) else {
            continue;
        };
        let media_type = e.media_type.as_deref().map(xml_text);
        let mut enclosure = link(&url, "enclosure", media_type.as_deref());
        enclosure.length = e.length.map(|l| l.to_string());
        links.push(enclosure);
    }
    let source = story.sources.first().map(|s| {
        let feed_url = source_feed_url(&meta.home_url, s, "atom");
        atom::Source {
            title: text(s.title.as_deref().unwrap_or(&s.name)),
            id: feed_url.clone(),
            updated: date(story.sort_at),
            links: s
                .site_link
                .as_deref()
                .and_then(published_url)
                .map(|l| link(&l, "alternate", Some("text/html")))
                .into_iter()
                .chain(std::iter::once(link(&feed_url, "self", None)))
                .collect(),
            ..Default::default()
        }
    });
    let mut ext = atom::extension::Extension {
        name: "tributary:sources".to_string(),
        ..Default::default()
    };
    ext.children.insert(
        "tributary:source".to_string(),
        story
            .sources
            .iter()
            .map(|s| atom::extension::Extension {
                name: "tributary:source".to_string(),
                value: Some(xml_text(&s.name).into_owned()),
                ..Default::default()
            })
            .collect(),
    );
    let extensions = BTreeMap::from([(
        "tributary".to_string(),
        BTreeMap::from([("sources".to_string(), vec![ext])]),
    )]);
    atom::Entry {
        title: text(&entry_title(item)),
        id: entry_id(&meta.home_url, story),
        updated: date(entry_updated(story)),
        published: Some(date(item.published.unwrap_or(story.sort_at))),
        authors: item
            .authors
            .iter()
            .filter_map(|a| {
                Some(atom::Person {
                    name: xml_text(a.name.as_deref()?).into_owned(),
                    email: a.email.as_deref().map(|e| xml_text(e).into_owned()),
                    uri: a.uri.as_deref().and_then(published_url),
                    ..Default::default()
                })
            })
            .collect(),
        categories: story
            .categories
            .iter()
            .map(|c| atom::Category {
                term: slug(c),
                label: Some(xml_text(c).into_owned()),
                ..Default::default()
            })
            .collect(),
        links,
        summary: summary.as_deref().map(text),
        content: entry_content(html, has_alternate),
        source,
        extensions,
        ..Default::default()
    }
}
