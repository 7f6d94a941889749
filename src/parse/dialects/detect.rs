//! A cheap look at a document's bytes for the constructs the repair pass fixes,
//! so that documents holding none of them (nearly all) are not read twice. It
//! may see one where there is none (the pass then changes nothing); it never
//! misses one.

use memchr::memmem;
use url::Url;

/// Atom text constructs (RFC 4287 §3.1, and Atom 0.3's `tagline`, `copyright`
/// and `info`), whose `type` feed-rs reads strictly.
const TEXT_CONSTRUCTS: &[&str] = &[
    "title",
    "subtitle",
    "summary",
    "rights",
    "content",
    "tagline",
    "copyright",
    "info",
];

/// Whether the document may hold a construct the repair pass fixes.
pub fn needs_repair(doc: &[u8]) -> bool {
    [&b"type="[..], b"mode=", b"src=", b"xml:base="]
        .iter()
        .any(|marker| {
            memmem::find_iter(doc, marker).any(|at| suspicious_attribute(doc, at, marker))
        })
        || [&b"<media:title"[..], b"<media:description"]
            .iter()
            .any(|marker| memmem::find_iter(doc, marker).any(|at| empty_element(doc, at)))
}

/// Whether the attribute `marker` found at `at` is one the pass fixes.
fn suspicious_attribute(doc: &[u8], at: usize, marker: &[u8]) -> bool {
    if at == 0 || !doc[at - 1].is_ascii_whitespace() {
        return false; // part of a longer name, such as `mediatype=`
    }
    let Some(open) = memchr::memrchr(b'<', &doc[..at]) else {
        return false;
    };
    if memchr::memchr(b'>', &doc[open..at]).is_some() {
        return false; // in text, not in a tag
    }
    let name = &doc[open + 1..at];
    let name = &name[..name
        .iter()
        .position(u8::is_ascii_whitespace)
        .unwrap_or(name.len())];
    let name = String::from_utf8_lossy(name);
    let (prefix, local) = name.rsplit_once(':').unwrap_or(("", &name));
    let value = attribute_value(&doc[at + marker.len()..]);
    match marker {
        b"type=" if prefix == "media" => {
            matches!(local, "title" | "description") && !matches!(value, "plain" | "html")
        }
        b"type=" => {
            TEXT_CONSTRUCTS.contains(&local)
                && !matches!(value, "text" | "html" | "xhtml" | "text/html")
        }
        b"mode=" => TEXT_CONSTRUCTS.contains(&local),
        b"src=" => local == "content" && prefix != "media",
        _ => !value.is_empty() && !base_is_usable(value),
    }
}

/// The quoted value that starts `rest`, or "" when there is none.
fn attribute_value(rest: &[u8]) -> &str {
    let Some(&quote) = rest.first().filter(|q| matches!(q, b'"' | b'\'')) else {
        return "";
    };
    let rest = &rest[1..];
    let end = memchr::memchr(quote, rest).unwrap_or(0);
    std::str::from_utf8(&rest[..end]).unwrap_or("")
}

/// Whether feed-rs takes an `xml:base` value: an absolute URL, or a relative
/// one. Anything else (`http://[x`, `https://`) makes it reject the document.
pub fn base_is_usable(base: &str) -> bool {
    matches!(
        Url::parse(base),
        Ok(_) | Err(url::ParseError::RelativeUrlWithoutBase)
    )
}

/// Whether the element whose start tag is at `at` is empty (`<x/>`, `<x></x>`).
fn empty_element(doc: &[u8], at: usize) -> bool {
    let Some(end) = memchr::memchr(b'>', &doc[at..]).map(|i| at + i) else {
        return false;
    };
    doc[end - 1] == b'/' || doc[end + 1..].starts_with(b"</")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_feeds_need_no_repair() {
        for doc in [
            &b"<feed><title type=\"html\">a</title><link type=\"text/html\" href=\"x\"/>\
               <content type=\"xhtml\"><div><img src=\"a.png\"/></div></content>\
               <summary type='text'>s</summary></feed>"[..],
            b"<rss><channel><item><description>&lt;img src=\"a\"&gt; type=\"x\"</description>\
              <enclosure mediatype=\"a\"/><media:title type=\"plain\">t</media:title></item></channel></rss>",
            b"<feed xml:base=\"https://example.org/\"><entry xml:base=\"/a/\"/></feed>",
            b"<rss><channel><item><media:description>d</media:description></item></channel></rss>",
        ] {
            assert!(!needs_repair(doc), "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn constructs_feed_rs_rejects_are_seen() {
        for doc in [
            &b"<feed><title type=\"text/plain\">a</title></feed>"[..],
            b"<feed><entry><content type=\"\">a</content></entry></feed>",
            b"<feed><entry><content\ntype='base64'>YQ==</content></entry></feed>",
            b"<feed><entry><summary mode=\"escaped\">a</summary></entry></feed>",
            b"<feed><entry><content src=\"a\">b</content></entry></feed>",
            b"<feed><entry xml:base=\"http://[oops\"/></feed>",
            b"<rss><item><media:title type=\"text\">t</media:title></item></rss>",
            b"<rss><item><media:title/></item></rss>",
            b"<rss><item><media:description type=\"plain\"></media:description></item></rss>",
        ] {
            assert!(needs_repair(doc), "{}", String::from_utf8_lossy(doc));
        }
    }
}
