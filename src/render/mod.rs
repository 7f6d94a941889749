//! Stored stories -> bytes, one module per output format. Every piece of feed
//! HTML passes through [`crate::sanitize`] on the way out.

pub mod json;

use url::Url;

use crate::sanitize::sanitize_html;
use crate::store::StoredItem;

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

/// A stable, unique id for a story within this tributary.
pub fn story_id(home: &Url, id: i64) -> String {
    format!("{home}stories/{id}")
}

/// The item's HTML body (content, else summary), sanitized, with relative URLs
/// resolved against its base.
pub fn item_html(item: &StoredItem) -> Option<String> {
    let html = item.content.as_deref().or(item.summary.as_deref())?;
    let base = item.base.as_deref().and_then(|b| Url::parse(b).ok());
    Some(sanitize_html(html, base.as_ref()))
}
