//! Stored stories -> bytes, one module per output format. Every piece of feed
//! HTML passes through [`crate::sanitize`] on the way out.

pub mod atom;
pub mod html;
pub mod json;
pub mod markdown;
pub mod opml;
pub mod rss;
mod scope;
mod shorten;

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use url::Url;

use crate::identity::without_tracking;
use crate::model::slug;
use crate::model::{SourceRef, StoredItem, Story};
use crate::sanitize::{safe_url, sanitize_html};

pub(crate) use scope::{FeedFormat, FeedScope, render_scope};
pub(crate) use shorten::shorten;

/// What a rendered feed says about itself.
#[derive(Debug, Clone)]
pub struct FeedMeta {
    pub title: String,
    /// the river page
    pub home_url: Url,
    /// this feed's own address
    pub self_url: Url,
    /// the next page, when there is one
    pub next_url: Option<Url>,
}

/// The id an entry is published under (Atom `<id>`, RSS `<guid>`, JSON Feed
/// `id`): the one stored when its story was made, which no move of the service
/// changes. Stories made before ids were stored keep the id they were first
/// served under, `{base_url}stories/{id}`.
pub fn entry_id(home: &Url, story: &Story) -> String {
    match &story.entry_id {
        Some(id) => xml_text(id).into_owned(),
        None => format!("{home}stories/{}", story.id),
    }
}

/// The item's link as published: one an output may carry, without the
/// parameters that only track readers.
pub(crate) fn item_link(item: &StoredItem) -> Option<String> {
    let link = published_url(item.link.as_deref()?)?;
    Some(without_tracking(&link).into_owned())
}

/// A stored URL as an output may carry it: http, https or mailto, else `None`.
/// Checked on the way out as well as when parsed, since a database written by
/// an older version may hold anything a feed gave.
pub(crate) fn published_url(raw: &str) -> Option<String> {
    safe_url(raw).map(String::from)
}

/// Where a source's feed can be read: its own address when that may be
/// published, else (a local file, say) its per-source feed on this tributary,
/// `ext` being that feed's format.
pub(crate) fn source_feed_url(home: &Url, source: &SourceRef, ext: &str) -> String {
    published_url(&source.feed_url)
        .unwrap_or_else(|| format!("{home}s/{}.{ext}", slug(&source.name)))
}

/// The item's HTML body (content, else summary), sanitized, with relative URLs
/// resolved against its base.
pub(crate) fn item_html(item: &StoredItem) -> Option<String> {
    let html = item.content.as_deref().or(item.summary.as_deref())?;
    let base = item.base.as_deref().and_then(|b| Url::parse(b).ok());
    Some(sanitize_html(html, base.as_ref()))
}

/// The namespace of tributary's own elements in Atom and RSS output.
pub(crate) const TRIBUTARY_NS: &str = "urn:tributary:1.0";

/// Text as XML 1.0 accepts it: characters it forbids (most control characters,
/// U+FFFE, U+FFFF) are dropped rather than breaking the document.
pub(crate) fn xml_text(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|c| allowed(*c)).collect())
    }
}

/// When an entry last changed, for formats that need one date; always a date
/// every format can write.
pub(crate) fn entry_updated(story: &Story) -> DateTime<Utc> {
    crate::model::clamp_date(
        story
            .item
            .updated
            .or(story.item.published)
            .unwrap_or(story.sort_at),
    )
}

/// Longest title made from an untitled entry's text, in characters.
const TITLE_FROM_TEXT_CHARS: usize = 80;

/// The title an entry shows: its own, else a cut of its text, else its link
/// (when that may be published).
pub(crate) fn entry_title(item: &StoredItem) -> String {
    if let Some(t) = item.title.as_deref().filter(|t| !t.is_empty()) {
        return t.to_string();
    }
    let text = item
        .summary
        .as_deref()
        .or(item.content.as_deref())
        .map(crate::sanitize::plain_text)
        .unwrap_or_default();
    if !text.is_empty() {
        return shorten(text, TITLE_FROM_TEXT_CHARS, "…");
    }
    item_link(item).unwrap_or_else(|| "(untitled)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_drops_what_xml_forbids() {
        assert_eq!(xml_text("a\u{0}b\u{1b}c\td\u{FFFF}"), "abc\td");
        assert!(matches!(xml_text("plain é ✓"), Cow::Borrowed(_)));
    }
}
