//! JSON documents feed-rs rejects on a detail, repaired into JSON Feeds it reads.

/// JSON Feeds seen in the wild that feed-rs rejects on a detail: no `version`, an
/// `http://` version URL, `tags` given as one string; and RSS 2.0 written as JSON
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
    for item in feed.get_mut("items")?.as_array_mut()? {
        if let Some(tags) = item.get_mut("tags")
            && let Some(text) = tags.as_str()
        {
            *tags = text
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| serde_json::Value::from(t.to_string()))
                .collect();
        }
    }
    serde_json::to_vec(&doc).ok()
}

fn rss_json_to_json_feed(channel: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
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
