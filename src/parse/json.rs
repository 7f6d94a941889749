//! JSON documents feed-rs rejects on a detail, repaired into JSON Feeds it reads.

use serde_json::{Map, Value};

use super::supplement::parse_date;
use crate::model::{Feed, FeedFormat, writable_date};

/// JSON Feeds seen in the wild that feed-rs rejects on a detail: no `version`, an
/// `http://` version URL, `tags` given as one string, a value of the wrong type
/// (a date given as a number); and RSS 2.0 written as JSON
/// (`{"rss": {"channel": ...}}`, as Scripting News serves). Returns the document as
/// a JSON Feed feed-rs reads, or `None` when it is neither.
pub fn repair_json_feed(bytes: &[u8]) -> Option<Vec<u8>> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    let mut doc: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if let Some(channel) = doc.pointer("/rss/channel") {
        doc = rss_json_to_json_feed(channel);
    }
    let feed = doc.as_object_mut()?;
    if !feed.contains_key("items") {
        return None;
    }
    let version = feed
        .get("version")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let version = if version.ends_with("/version/1") {
        "https://jsonfeed.org/version/1"
    } else {
        "https://jsonfeed.org/version/1.1"
    };
    feed.insert("version".into(), version.into());
    conform_feed(feed);
    serde_json::to_vec(&doc).ok()
}

/// A value of the wrong type costs only itself: feed-rs rejects the whole
/// document for one (a date given as a number, an author given as a string).
/// Numbers stand in for strings where they read the same (ids, titles, tags);
/// anything else of the wrong type is left out.
fn conform_feed(feed: &mut Map<String, Value>) {
    // `title` is the one string feed-rs requires.
    if !text_or_number(feed, "title") {
        feed.insert("title".into(), "".into());
    }
    for key in [
        "home_page_url",
        "feed_url",
        "language",
        "description",
        "icon",
        "favicon",
    ] {
        keep_if(feed, key, Value::is_string);
    }
    conform_authors(feed);
    if let Some(Value::Array(items)) = feed.get_mut("items") {
        items.retain(Value::is_object);
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            conform_item(item);
        }
    }
}

fn conform_item(item: &mut Map<String, Value>) {
    text_or_number(item, "id");
    text_or_number(item, "title");
    for key in [
        "url",
        "external_url",
        "content_html",
        "content_text",
        "summary",
        "date_published",
        "date_modified",
    ] {
        keep_if(item, key, Value::is_string);
    }
    conform_authors(item);
    match item.get_mut("tags") {
        // `tags` given as one string: a comma-separated list.
        Some(Value::String(text)) => {
            let tags = text
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| Value::from(t.to_string()))
                .collect();
            item.insert("tags".into(), Value::Array(tags));
        }
        Some(Value::Array(tags)) => {
            tags.retain(|t| t.is_string() || t.is_number());
            for tag in tags.iter_mut().filter(|t| t.is_number()) {
                *tag = tag.to_string().into();
            }
        }
        _ => keep_if(item, "tags", |_| false),
    }
    keep_if(item, "attachments", Value::is_array);
    if let Some(Value::Array(attachments)) = item.get_mut("attachments") {
        // An attachment needs a `url` and a `mime_type`.
        attachments.retain(|a| {
            a.get("url").is_some_and(Value::is_string)
                && a.get("mime_type").is_some_and(Value::is_string)
        });
        for a in attachments.iter_mut().filter_map(Value::as_object_mut) {
            keep_if(a, "title", Value::is_string);
            keep_if(a, "size_in_bytes", Value::is_u64);
        }
    }
}

/// `author` (JSON Feed 1.0) and `authors` (1.1): objects of strings.
fn conform_authors(object: &mut Map<String, Value>) {
    keep_if(object, "author", Value::is_object);
    keep_if(object, "authors", Value::is_array);
    if let Some(Value::Array(authors)) = object.get_mut("authors") {
        authors.retain(Value::is_object);
    }
    let single = object.get_mut("author").and_then(Value::as_object_mut);
    for author in single.into_iter() {
        keep_if(author, "name", Value::is_string);
        keep_if(author, "url", Value::is_string);
    }
    if let Some(Value::Array(authors)) = object.get_mut("authors") {
        for author in authors.iter_mut().filter_map(Value::as_object_mut) {
            keep_if(author, "name", Value::is_string);
            keep_if(author, "url", Value::is_string);
        }
    }
}

/// Removes `key` when its value fails `ok`.
fn keep_if(object: &mut Map<String, Value>, key: &str, ok: impl Fn(&Value) -> bool) {
    if object.get(key).is_some_and(|v| !ok(v)) {
        object.remove(key);
    }
}

/// Keeps `key` when it is a string, writes a number as one, removes anything
/// else; whether a string is left.
fn text_or_number(object: &mut Map<String, Value>, key: &str) -> bool {
    match object.get(key) {
        Some(Value::String(_)) => true,
        Some(Value::Number(n)) => {
            let text = n.to_string();
            object.insert(key.into(), text.into());
            true
        }
        Some(_) => {
            object.remove(key);
            false
        }
        None => false,
    }
}

/// JSON Feed dates feed-rs could not read, read again: RFC 3339 requires seconds
/// and an offset, and feeds leave them out (`2018-01-06T08:00`, read as UTC).
/// `date_published` and `date_modified` of each item that has no date where
/// feed-rs gave none; the document is read again only when some item lacks one
/// and the document names that date at all (most feeds give no `date_modified`).
pub fn fill_dates(feed: &mut Feed, bytes: &[u8]) {
    if feed.format != FeedFormat::Json {
        return;
    }
    let names = |key: &[u8]| memchr::memmem::find(bytes, key).is_some();
    let lacks_published = feed.items.iter().any(|i| i.published.is_none());
    let lacks_updated = feed.items.iter().any(|i| i.updated.is_none());
    if !(lacks_published && names(b"\"date_published\"")
        || lacks_updated && names(b"\"date_modified\""))
    {
        return;
    }
    let Ok(doc) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    let Some(Value::Array(items)) = doc.get("items") else {
        return;
    };
    // The items feed-rs read are the objects (see `conform_feed`), in order;
    // when the counts differ, which is which is not known and nothing is filled.
    let items: Vec<&Map<String, Value>> = items.iter().filter_map(Value::as_object).collect();
    if items.len() != feed.items.len() {
        return;
    }
    let date = |item: &Map<String, Value>, key: &str| {
        item.get(key)
            .and_then(Value::as_str)
            .and_then(parse_date)
            .and_then(writable_date)
    };
    for (item, found) in feed.items.iter_mut().zip(items) {
        if item.published.is_none() {
            item.published = date(found, "date_published");
        }
        if item.updated.is_none() {
            item.updated = date(found, "date_modified");
        }
    }
}

fn rss_json_to_json_feed(channel: &serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let items = match channel.get("item") {
        Some(Value::Array(items)) => items.clone(),
        Some(item @ Value::Object(_)) => vec![item.clone()],
        _ => Vec::new(),
    };
    let items: Vec<Value> = items
        .iter()
        .map(|i| {
            let date = text(i, "pubDate")
                .and_then(|d| chrono::DateTime::parse_from_rfc2822(&d).ok())
                .map(|d| d.to_rfc3339());
            let guid = match i.get("guid") {
                Some(Value::Object(g)) => g.get("#value").and_then(Value::as_str).map(str::to_string),
                Some(g) => g.as_str().map(str::to_string),
                None => None,
            };
            let attachments: Vec<Value> = i
                .get("enclosure")
                .and_then(|e| {
                    Some(json!({
                        "url": text(e, "url")?,
                        "mime_type": text(e, "type").unwrap_or_else(|| "application/octet-stream".into()),
                        "size_in_bytes": text(e, "length").and_then(|l| l.parse::<u64>().ok()),
                    }))
                })
                .into_iter()
                .collect();
            json!({
                "id": guid.or_else(|| text(i, "link")).unwrap_or_default(),
                "url": text(i, "link"),
                "title": text(i, "title"),
                "content_html": text(i, "description").unwrap_or_default(),
                "date_published": date,
                "attachments": attachments,
            })
        })
        .collect();
    json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": text(channel, "title").unwrap_or_default(),
        "home_page_url": text(channel, "link"),
        "description": text(channel, "description"),
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repaired(doc: Value) -> Value {
        serde_json::from_slice(&repair_json_feed(doc.to_string().as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn values_of_the_wrong_type_cost_only_themselves() {
        let doc = serde_json::json!({
            "version": "https://jsonfeed.org/version/1.1", "title": 7, "icon": [],
            "author": "Ann", "authors": [{"name": "Bob", "url": 1}, "Eve"],
            "items": [
                {"id": 12, "title": null, "date_published": 1764000000, "summary": "s",
                 "tags": ["a", 3, {"b": 1}], "author": {"name": ["x"]},
                 "attachments": [{"url": "https://example.org/a.mp3", "mime_type": "audio/mpeg",
                                  "size_in_bytes": -1, "title": 5},
                                 {"url": "https://example.org/b.mp3"}]},
                "not an item",
                {"id": "2", "tags": 5, "attachments": {}}
            ]
        });
        assert_eq!(
            repaired(doc),
            serde_json::json!({
                "version": "https://jsonfeed.org/version/1.1", "title": "7",
                "authors": [{"name": "Bob"}],
                "items": [
                    {"id": "12", "summary": "s", "tags": ["a", "3"], "author": {},
                     "attachments": [{"url": "https://example.org/a.mp3", "mime_type": "audio/mpeg"}]},
                    {"id": "2"}
                ]
            })
        );
    }
}
