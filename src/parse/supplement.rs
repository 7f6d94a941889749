//! A second pass over the document for what feed-rs does not report, applied to
//! the items converted from its model.

use url::Url;

use crate::model::Feed;

/// What the second pass found: for the feed, and for each entry in document order.
#[derive(Debug, Default)]
pub struct Supplement {}

/// Reads the document (as given to feed-rs) for the values feed-rs misses.
pub fn read(_bytes: &[u8]) -> Supplement {
    Supplement::default()
}

/// Fills in `feed` from what the second pass found.
pub fn apply(_feed: &mut Feed, _found: &Supplement, _feed_url: &Url, _base: &Url) {}
