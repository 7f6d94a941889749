//! Reading rendered outputs back the way a feed reader or browser would, to list
//! every URL they publish: attributes of XML and HTML elements, URL-bearing XML
//! text, the HTML inside feed content, and JSON Feed's URL fields.
#![allow(dead_code)] // each test file uses its own part of this

use std::borrow::Cow;

/// The schemes an output may publish.
pub const ALLOWED: &[&str] = &["http", "https", "mailto"];

/// Why `url` may not be published, if it may not: it must be absolute, with
/// one of the allowed schemes.
pub fn unsafe_reason(url: &str) -> Option<String> {
    match url::Url::parse(url) {
        Ok(u) if ALLOWED.contains(&u.scheme()) => None,
        Ok(u) => Some(format!("scheme {:?} in {url:?}", u.scheme())),
        Err(e) => Some(format!("{e} in {url:?}")),
    }
}

/// HTML attributes that hold a URL (HTML's own list, plus SVG's xlink:href).
const HTML_URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "poster",
    "ping",
    "cite",
    "longdesc",
    "background",
    "codebase",
    "manifest",
    "icon",
    "usemap",
    "xlink:href",
    "srcset",
];

/// Decodes the character references an HTML serializer writes.
fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest[1..].find(';').map(|e| e + 1).filter(|e| *e < 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every URL attribute value in an HTML document or fragment, as a browser reads
/// it. A small tokenizer: tags open with `<` and a letter, attribute values may be
/// quoted (and then hold `>`), text never holds a raw `<` in serialized HTML.
pub fn html_urls(html: &str) -> Vec<(String, String)> {
    let bytes = html.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' || !bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        i += 1;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"/>".contains(&bytes[i]) {
            i += 1;
        }
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                i += 1;
                break;
            }
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"=>/".contains(&bytes[i])
            {
                i += 1;
            }
            let name = html[start..i].to_ascii_lowercase();
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = None;
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                    let quote = bytes[i];
                    let from = i + 1;
                    let to = html[from..]
                        .find(quote as char)
                        .map_or(bytes.len(), |e| from + e);
                    value = Some(&html[from..to]);
                    i = (to + 1).min(bytes.len());
                } else {
                    let from = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = Some(&html[from..i]);
                }
            }
            if let Some(value) = value
                && HTML_URL_ATTRIBUTES.contains(&name.as_str())
            {
                let value = html_unescape(value);
                if name == "srcset" {
                    for candidate in value.split(',') {
                        if let Some(url) = candidate.split_whitespace().next() {
                            found.push((name.clone(), url.to_string()));
                        }
                    }
                } else {
                    found.push((name, value));
                }
            }
        }
    }
    found
}

/// XML elements whose text is a URL, in Atom and RSS.
const XML_URL_TEXT: &[&str] = &["link", "uri", "url", "icon", "logo", "comments", "docs"];
/// XML elements whose text is HTML.
const XML_HTML_TEXT: &[&str] = &["content", "description", "summary", "encoded"];
/// XML attributes that hold a URL.
const XML_URL_ATTRIBUTES: &[&str] = &["href", "src", "url", "uri"];

/// Every URL an Atom or RSS document publishes, with where it was found; an
/// error when the document is not well-formed XML.
pub fn xml_urls(xml: &[u8]) -> Result<Vec<(String, String)>, String> {
    use quick_xml::events::Event;
    let text = std::str::from_utf8(xml).map_err(|e| e.to_string())?;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut found = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut raw_text = String::new();
    let local = |name: &str| name.rsplit(':').next().unwrap_or_default().to_string();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed at {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = local(e.name().as_ref());
                for attr in e.attributes() {
                    let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
                    let key = local(attr.key.as_ref());
                    if XML_URL_ATTRIBUTES.contains(&key.as_str()) {
                        let value = attr
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| e.to_string())?;
                        found.push((format!("<{name} {key}>"), value.into_owned()));
                    }
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(name);
                    raw_text.clear();
                }
            }
            Event::Text(e) => raw_text.push_str(&e),
            Event::GeneralRef(e) => {
                raw_text.push('&');
                raw_text.push_str(&e);
                raw_text.push(';');
            }
            // CDATA holds text as is: escaped so it unescapes back to itself.
            Event::CData(e) => raw_text.push_str(&quick_xml::escape::escape(&*e)),
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let value: Cow<str> =
                    quick_xml::escape::unescape(&raw_text).map_err(|e| e.to_string())?;
                if XML_URL_TEXT.contains(&name.as_str()) && !value.trim().is_empty() {
                    found.push((format!("<{name}>"), value.trim().to_string()));
                }
                if XML_HTML_TEXT.contains(&name.as_str()) {
                    for (attr, url) in html_urls(&value) {
                        found.push((format!("<{name}> html {attr}"), url));
                    }
                }
                raw_text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements: {stack:?}"));
    }
    Ok(found)
}

/// JSON Feed fields that hold a URL, at any depth.
const JSON_URL_FIELDS: &[&str] = &[
    "url",
    "external_url",
    "home_page_url",
    "feed_url",
    "next_url",
    "icon",
    "favicon",
    "image",
    "banner_image",
    "avatar",
];

/// Every URL a JSON Feed publishes: URL fields, and URL attributes in HTML.
pub fn json_urls(doc: &serde_json::Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    fn walk(v: &serde_json::Value, key: &str, found: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    walk(v, k, found);
                }
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    walk(v, key, found);
                }
            }
            serde_json::Value::String(s) if JSON_URL_FIELDS.contains(&key) => {
                found.push((key.to_string(), s.clone()));
            }
            serde_json::Value::String(s) if key == "content_html" => {
                for (attr, url) in html_urls(s) {
                    found.push((format!("content_html {attr}"), url));
                }
            }
            _ => {}
        }
    }
    walk(doc, "", &mut found);
    found
}

/// The URLs in `found` that may not be published, described.
pub fn unsafe_urls(found: &[(String, String)]) -> Vec<String> {
    found
        .iter()
        .filter_map(|(at, url)| unsafe_reason(url).map(|r| format!("{at}: {r}")))
        .collect()
}

#[test]
fn the_scanner_finds_what_a_browser_would_follow() {
    let html = r#"<p title="a > b">x href="javascript:no" <a href="java&#x73;cript:alert(1)">l</a><img src='data:x' alt=""><a HREF=https://ok.example/>ok</a></p>"#;
    let urls = html_urls(html);
    assert_eq!(
        urls,
        [
            ("href".to_string(), "javascript:alert(1)".to_string()),
            ("src".to_string(), "data:x".to_string()),
            ("href".to_string(), "https://ok.example/".to_string()),
        ]
    );
    assert_eq!(unsafe_urls(&urls).len(), 2);
    let xml = br#"<rss><channel><item><link>javascript:x</link><description><![CDATA[<a href="file:///etc">]]></description><enclosure url="data:y"/></item></channel></rss>"#;
    assert_eq!(unsafe_urls(&xml_urls(xml).unwrap()).len(), 3);
    assert!(xml_urls(b"<rss><channel></rss>").is_err());
}
