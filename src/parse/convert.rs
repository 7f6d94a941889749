//! feed-rs's model into tributary's: a [`Feed`] of [`Item`]s, titles as plain
//! text, links absolute and safe to publish.

use feed_rs::model::{self as fm, FeedType};
use url::Url;

use super::supplement;
use crate::model::{Enclosure, Feed, FeedFormat, Item, Person, writable_date};
use crate::sanitize::{TitleMarkup, http_base, resolve_url, text_to_html, title_text};

pub(super) fn convert(feed: fm::Feed, url: &Url, doc_base: &Url) -> Feed {
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

/// A feed's or entry's title as plain text. Atom says whether a
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
pub(super) fn absolute(href: &str, base: &Url) -> Option<String> {
    resolve_url(Some(base), href).map(String::from)
}
