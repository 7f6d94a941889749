//! Bytes + the feed's URL -> a [`Feed`] of [`Item`]s. feed-rs is the parser;
//! around it, in this folder, tributary adds what it misses:
//!
//! 1. [`prepass`]: the bytes brought to an encoding the XML reader takes, and
//!    constructs it fails or panics on disarmed;
//! 2. [`dialects`]: older and variant dialects (Atom 0.3, RSS without a version,
//!    RSS 0.90, ...) rewritten into the ones feed-rs reads;
//! 3. feed-rs, then [`convert`]: its model into tributary's [`Item`]s, links absolute;
//! 4. [`supplement`]: a second pass over the document for what feed-rs does not
//!    report (Dublin Core, iTunes and Media RSS fallbacks, guid permalinks, ...);
//! 5. [`bound`]: each item's people and categories held to their caps.
//!
//! [`json`] repairs JSON documents feed-rs rejects on a detail; [`scan`] reads
//! channel values straight from the bytes; [`html`] tells a web page from a
//! feed; [`contain`] keeps a panic of feed-rs to the one document.
//!
//! [`Item`]: crate::model::Item

mod bound;
mod contain;
mod convert;
mod dialects;
mod html;
mod json;
mod prepass;
mod scan;
mod supplement;
#[cfg(test)]
mod tests;

use url::Url;

use crate::model::Feed;
use crate::sanitize::http_base;

pub use contain::{contained, panic_is_contained};
// The supplement resolves the links it finds as the conversion does.
use convert::absolute;
use html::looks_like_html;
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
            let mut feed = convert::convert(feed, url, &base);
            normalized.restore(&mut feed);
            supplement::apply(&mut feed, &supplement::read(bytes), &base);
            json::fill_dates(&mut feed, bytes);
            (feed.skip_hours, feed.skip_days) = skip_times(bytes);
            bound::bound_people_and_categories(&mut feed);
            Ok(feed)
        }
        Err(_) if looks_like_html(bytes) => Err(ParseError::Html),
        Err(e) => Err(ParseError::Invalid(e.to_string())),
    }
}
