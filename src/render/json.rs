//! JSON Feed 1.1 (https://jsonfeed.org/version/1.1), with the sources of each
//! story in a `_tributary` extension object.

use serde_json::{Value, json};

use super::{FeedMeta, entry_id, entry_title, item_html, item_link, published_url};
use crate::model::Story;
use crate::model::rfc3339;
use crate::sanitize::plain_text;

pub fn render_json(meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
    let items: Vec<Value> = stories.iter().map(|s| item(meta, s)).collect();
    let mut feed = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta.title,
        "home_page_url": meta.home_url.as_str(),
        "feed_url": meta.self_url.as_str(),
        "items": items,
    });
    if let Some(next) = &meta.next_url {
        feed["next_url"] = next.as_str().into();
    }
    serde_json::to_vec_pretty(&feed).expect("a JSON value always serializes")
}

fn item(meta: &FeedMeta, story: &Story) -> Value {
    let item = &story.item;
    let mut out = json!({
        "id": entry_id(&meta.home_url, story),
        "content_html": item_html(item).unwrap_or_default(),
        "tags": story.categories,
        "_tributary": {"sources": story.sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>()},
    });
    let fields = [
        ("url", item_link(item)),
        ("title", Some(entry_title(item))),
        (
            "summary",
            item.summary
                .as_deref()
                .map(plain_text)
                .filter(|s| !s.is_empty()),
        ),
        (
            "date_published",
            Some(rfc3339(item.published.unwrap_or(story.sort_at))),
        ),
        ("date_modified", item.updated.map(rfc3339)),
    ];
    for (key, value) in fields {
        if let Some(v) = value {
            out[key] = v.into();
        }
    }
    let authors: Vec<Value> = item
        .authors
        .iter()
        .filter_map(|a| {
            let mut author = json!({"name": a.name.as_deref()?});
            if let Some(uri) = a.uri.as_deref().and_then(published_url) {
                author["url"] = uri.into();
            }
            Some(author)
        })
        .collect();
    if !authors.is_empty() {
        out["authors"] = authors.into();
    }
    let attachments: Vec<Value> = item
        .enclosures
        .iter()
        .filter_map(|e| {
            let mut a = json!({
                "url": published_url(&e.url)?,
                "mime_type": e.media_type.as_deref().unwrap_or("application/octet-stream"),
            });
            if let Some(len) = e.length {
                a["size_in_bytes"] = len.into();
            }
            Some(a)
        })
        .collect();
    if !attachments.is_empty() {
        out["attachments"] = attachments.into();
    }
    out
}
