//! RSS 2.0, with `<source>` naming an entry's first source, `<tributary:sources>`
//! all of them, and Atom links for self and the next page.

use std::collections::BTreeMap;

use rss::extension::Extension;
use rss::extension::atom::{AtomExtension, Link};

use chrono::{DateTime, Utc};

use super::{
    FeedMeta, TRIBUTARY_NS, entry_id, entry_title, entry_updated, item_html, item_link,
    published_url, source_feed_url, xml_text,
};
use crate::model::Story;
use crate::model::clamp_date;

/// An RFC 2822 date, which chrono refuses (by panicking) to write for a year
/// outside 0-9999: every date is brought into range first.
fn rfc2822(t: DateTime<Utc>) -> String {
    clamp_date(t).to_rfc2822()
}

fn atom_link(href: &str, rel: &str) -> Link {
    Link {
        href: href.to_string(),
        rel: rel.to_string(),
        mime_type: Some("application/rss+xml".to_string()),
        ..Default::default()
    }
}

pub fn render_rss(meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
    let mut links = vec![atom_link(meta.self_url.as_str(), "self")];
    if let Some(next) = &meta.next_url {
        links.push(atom_link(next.as_str(), "next"));
    }
    let newest = stories.iter().map(entry_updated).max();
    let channel = rss::Channel {
        title: xml_text(&meta.title).into_owned(),
        link: meta.home_url.to_string(),
        description: xml_text(&format!(
            "{}: stories from every source, newest first",
            meta.title
        ))
        .into_owned(),
        generator: Some(format!("tributary {}", env!("CARGO_PKG_VERSION"))),
        last_build_date: newest.map(rfc2822),
        items: stories.iter().map(|s| item(meta, s)).collect(),
        atom_ext: Some(AtomExtension { links }),
        namespaces: BTreeMap::from([
            ("tributary".to_string(), TRIBUTARY_NS.to_string()),
            (
                "atom".to_string(),
                "http://www.w3.org/2005/Atom".to_string(),
            ),
        ]),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(4096 + stories.len() * 2048);
    channel
        .write_to(&mut out)
        .expect("writing to a Vec cannot fail, and every text went through xml_text");
    out
}

fn item(meta: &FeedMeta, story: &Story) -> rss::Item {
    let item = &story.item;
    let link = item_link(item);
    let id = entry_id(&meta.home_url, story);
    let sources = Extension {
        name: "tributary:sources".to_string(),
        children: BTreeMap::from([(
            "tributary:source".to_string(),
            story
                .sources
                .iter()
                .map(|s| Extension {
                    name: "tributary:source".to_string(),
                    value: Some(xml_text(&s.name).into_owned()),
                    ..Default::default()
                })
                .collect(),
        )]),
        ..Default::default()
    };
    rss::Item {
        title: Some(xml_text(&entry_title(item)).into_owned()),
        // A guid that is the link says so: readers may then open it.
        guid: Some(rss::Guid {
            permalink: link.as_deref() == Some(id.as_str()),
            value: id,
        }),
        link,
        description: item_html(item).map(|h| xml_text(&h).into_owned()),
        // RSS's <author> wants an e-mail address; a name alone goes in dc:creator
        // by custom, which readers show as well.
        author: item
            .authors
            .iter()
            .find_map(|a| a.email.as_deref())
            .map(|e| xml_text(e).into_owned()),
        dublin_core_ext: {
            let names: Vec<String> = item
                .authors
                .iter()
                .filter_map(|a| a.name.as_deref())
                .map(|n| xml_text(n).into_owned())
                .collect();
            (!names.is_empty()).then(|| rss::extension::dublincore::DublinCoreExtension {
                creators: names,
                ..Default::default()
            })
        },
        categories: story
            .categories
            .iter()
            .map(|c| rss::Category {
                name: xml_text(c).into_owned(),
                domain: None,
            })
            .collect(),
        // RSS allows one enclosure: the first that may be published.
        enclosure: item.enclosures.iter().find_map(|e| {
            Some(rss::Enclosure {
                url: published_url(&e.url)?,
                length: e.length.unwrap_or(0).to_string(),
                mime_type: e.media_type.as_deref().map_or_else(
                    || "application/octet-stream".to_string(),
                    |t| xml_text(t).into_owned(),
                ),
            })
        }),
        pub_date: Some(rfc2822(item.published.unwrap_or(story.sort_at))),
        source: story.sources.first().map(|s| rss::Source {
            url: source_feed_url(&meta.home_url, s, "rss"),
            title: Some(xml_text(&s.name).into_owned()),
        }),
        extensions: BTreeMap::from([(
            "tributary".to_string(),
            BTreeMap::from([("sources".to_string(), vec![sources])]),
        )]),
        ..Default::default()
    }
}
