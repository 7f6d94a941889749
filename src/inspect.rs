//! How tributary sees one feed, as the JSON that `tributary inspect` prints
//! (SPEC §7). Nothing here touches the database.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use url::Url;

use crate::identity::identify;
use crate::model::{Feed, IdentityMode};
use crate::sanitize::sanitize_html;

/// RFC 3339 in UTC, to the second, with `Z`; a year RFC 3339 cannot write (not
/// four digits) is brought to the nearest one it can.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    crate::model::clamp_date(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}

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
