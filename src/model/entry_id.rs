//! Whether the id a publisher gave an item can be the id of the entry it makes.

use url::Url;

use super::IdentifiedItem;

/// Longest publisher id taken as an entry's id, in bytes.
const MAX_ENTRY_ID_BYTES: usize = 1024;

/// Schemes whose URIs name no lasting thing a publisher would give an entry.
const NOT_ENTRY_ID_SCHEMES: &[&str] = &[
    "about",
    "blob",
    "data",
    "file",
    "javascript",
    "mailto",
    "vbscript",
];

/// The publisher's id of an item when it is usable as the id of an entry that
/// the item makes, so readers that also follow the original feed see one entry
/// (as Planet does). Usable means all of:
/// - the item is known by it within its source: the identity ladder kept its
///   guid / Atom id (present, unique within the document, the feed's ids
///   trusted, and the source's `identity` setting allows them);
/// - it is an absolute URI: a scheme of two or more characters and something
///   after the colon (`https://site/?p=12`, `tag:blogger.com,1999:blog-1.post-2`,
///   `urn:uuid:…`, `yt:video:…`); http(s) ones name a host;
/// - at most 1024 bytes, without white space, control or invisible formatting
///   characters, noncharacters, or the characters URIs never hold
///   (`<>"{}|\^` and the backquote);
/// - not of a scheme that names no lasting thing (`javascript:`, `data:`,
///   `file:`, `mailto:`, …).
///
/// Bare numbers, slugs and relative paths (`1234`, `post-42`, `/2024/01/a`)
/// are unique only within their own feed: such items get an id of tributary's.
pub fn publisher_entry_id(identified: &IdentifiedItem) -> Option<&str> {
    let id = identified.key.strip_prefix("g:")?;
    usable_entry_id(id).then_some(id)
}

/// Whether `c` may stand in an entry id taken from a feed: not white space, a
/// control or invisible formatting character (which would make two ids look
/// alike), a noncharacter, nor one of the characters URIs never hold.
fn may_be_in_entry_id(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || "<>\"{}|\\^`".contains(c)
        // zero-width and bidirectional formatting (RFC 3987 §4.1), byte order mark
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
        || matches!(c, '\u{FDD0}'..='\u{FDEF}')
        || (c as u32) & 0xFFFE == 0xFFFE)
}

pub(crate) fn usable_entry_id(id: &str) -> bool {
    if id.is_empty() || id.len() > MAX_ENTRY_ID_BYTES || !id.chars().all(may_be_in_entry_id) {
        return false;
    }
    let Some((scheme, rest)) = id.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() {
        return false;
    }
    let scheme = scheme.to_ascii_lowercase();
    if NOT_ENTRY_ID_SCHEMES.contains(&scheme.as_str()) {
        return false;
    }
    if matches!(scheme.as_str(), "http" | "https") {
        // The URL parser forgives "https:///path" (reading "path" as the host);
        // a publisher's id must name its host itself.
        return rest.starts_with("//")
            && !rest[2..].starts_with(['/', '\\'])
            && Url::parse(id)
                .ok()
                .is_some_and(|u| u.host_str().is_some_and(|h| !h.is_empty()));
    }
    true
}
