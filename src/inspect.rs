//! How tributary sees one feed, as the JSON that `tributary inspect` prints
//! (see README.md, Commands). Nothing here touches the database.

use serde_json::{Value, json};
use url::Url;

use crate::identity::identify;
use crate::model::{Feed, IdentityMode, rfc3339};
use crate::sanitize::sanitize_html;

/// The JSON for `feed`; `found_at` is the feed's address when the address
/// inspected was a page that links to it.
pub fn inspect_json(feed: Feed, found_at: Option<&Url>) -> Value {
    let Feed {
        format,
        title,
        link,
        id,
        updated,
        items,
        ..
    } = feed;
    let items: Vec<Value> = identify(items, IdentityMode::Auto)
        .into_iter()
        .map(|identified| {
            let item = identified.item;
            let base = item.base.as_deref().and_then(|b| Url::parse(b).ok());
            let html = |s: Option<String>| s.map(|s| sanitize_html(&s, base.as_ref()));
            json!({
                "id": item.guid,
                "key": identified.key,
                "title": item.title,
                "link": item.link,
                "published": item.published.map(rfc3339),
                "updated": item.updated.map(rfc3339),
                "authors": item.authors,
                "categories": item.categories,
                "summary": html(item.summary),
                "content": html(item.content),
                "enclosures": item.enclosures,
                "image": item.image,
            })
        })
        .collect();
    json!({
        "format": format.as_str(),
        "found_at": found_at.map(crate::redact::shown_url),
        "title": title,
        "link": link,
        "id": id,
        "updated": updated.map(rfc3339),
        "items": items,
    })
}
