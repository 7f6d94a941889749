//! Text constructs feed-rs rejects the whole document for: an Atom `title`,
//! `subtitle`, `summary`, `rights` or `content` whose `type` is not one of
//! `text`, `html` and `xhtml` (a MIME type, an empty one, `base64`), Atom 0.3's
//! `mode`, and a Media RSS `title` or `description` typed other than `plain` or
//! `html`, or empty. Each is brought to the form feed-rs reads.

use super::base64;
use super::pass::{Attr, Body, start_tag};

/// What a text construct's `type` (and Atom 0.3 `mode`) make of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// feed-rs reads it as it is.
    Keep,
    /// Written with this `type`: `text`, `html` or `xhtml`.
    Type(&'static str),
    /// Its content is base64: decoded, then written with this `type`.
    Base64(&'static str),
    /// Atom 0.3 `multipart/alternative` content: its parts are read instead.
    Unwrap,
}

/// The media type a construct's `type` names, lowercased, parameters dropped.
fn media_type(type_attr: &str) -> String {
    let mime = type_attr.split(';').next().unwrap_or_default();
    mime.trim().to_ascii_lowercase()
}

/// Whether a media type is one a text construct holds as markup.
fn is_xml(mime: &str) -> bool {
    mime.ends_with("/xml") || mime.ends_with("+xml")
}

/// The Atom `type` for content of media type `mime`: `escaped` when it is
/// carried as escaped text (Atom 0.3 `mode="escaped"`, or any Atom 1.0 `text/*`),
/// else inline markup (Atom 0.3 `mode="xml"`).
fn atom_type(mime: &str, escaped: bool) -> &'static str {
    match mime {
        "html" | "text/html" | "xhtml" | "application/xhtml+xml" if escaped => "html",
        "html" | "text/html" | "xhtml" | "application/xhtml+xml" => "xhtml",
        m if is_xml(m) && !escaped => "xhtml",
        _ => "text",
    }
}

/// The plan for an Atom text construct with these `type` and `mode` attributes;
/// `atom03` when the document is Atom 0.3, whose `type` is a MIME type and
/// whose content is inline markup unless its `mode` says otherwise.
pub fn plan(type_attr: Option<&str>, mode: Option<&str>, atom03: bool) -> Plan {
    let mode = mode.map(|m| m.trim().to_ascii_lowercase());
    let mime = type_attr.map(media_type).unwrap_or_default();
    match mode.as_deref() {
        // Atom 0.3 §3.1.2: "base64" content is decoded, "escaped" content is
        // the escaped form of its type.
        Some("base64") => return Plan::Base64(atom_type(&mime, true)),
        Some("escaped") => return Plan::Type(atom_type(&mime, true)),
        _ => {}
    }
    match type_attr {
        // Absent, or a value feed-rs reads: nothing to do, unless a mode was given.
        None | Some("text" | "html" | "xhtml") if mode.is_none() => Plan::Keep,
        None => Plan::Type("text"),
        Some("text") => Plan::Type("text"),
        Some("html") => Plan::Type("html"),
        Some("xhtml") => Plan::Type("xhtml"),
        // A type that says its content is base64 (`base64`, `text/html; base64`).
        Some(t) if t.to_ascii_lowercase().contains("base64") => {
            Plan::Base64(atom_type(&mime, true))
        }
        Some(_) if atom03 && mime == "multipart/alternative" => Plan::Unwrap,
        Some(_) if atom03 => Plan::Type(atom_type(&mime, false)),
        Some(_) => match mime.as_str() {
            "text" => Plan::Type("text"),
            "html" => Plan::Type("html"),
            "xhtml" => Plan::Type("xhtml"),
            "application/xhtml+xml" => Plan::Type("xhtml"),
            m if m.starts_with("text/") => Plan::Type(atom_type(m, true)),
            m if is_xml(m) => Plan::Type("xhtml"),
            // RFC 4287 §4.1.3.3: content of any other media type is base64;
            // an empty or made-up type is just text.
            m if looks_like_media_type(m) => Plan::Base64("text"),
            _ => Plan::Type("text"),
        },
    }
}

/// Whether `mime` has the shape `type/subtype`.
pub fn looks_like_media_type(mime: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    matches!(mime.split_once('/'), Some((t, s)) if token(t) && token(s))
}

/// `attrs` with `type` set to `kind` and `mode` left out.
pub fn retyped(attrs: &[Attr], kind: &str) -> Vec<Attr> {
    let mut attrs: Vec<Attr> = attrs
        .iter()
        .filter(|a| a.name != "type" && a.name != "mode")
        .cloned()
        .collect();
    attrs.push(Attr::new("type", kind));
    attrs
}

/// A construct whose content is base64, decoded and written with `type` `kind`
/// under `name`. Content that is not base64 is kept as text; content that does
/// not decode to text (an image, say) cannot be shown and is left out.
pub fn decoded(name: &str, attrs: &[Attr], kind: &str, body: &Body) -> String {
    let (kind, text) = match base64::decode(&body.text) {
        Some(bytes) => match String::from_utf8(bytes) {
            Ok(text) => (kind, text),
            Err(_) => return String::new(),
        },
        None => ("text", body.text.clone()),
    };
    let attrs = retyped(attrs, kind);
    let text = quick_xml::escape::escape(text.as_str());
    format!("{}{text}</{name}>", start_tag(name, &attrs, false))
}

/// The `type` a Media RSS `title` or `description` should have: `plain` or
/// `html`, the only two feed-rs reads; `None` when it already has one of them.
pub fn media_type_fix(type_attr: Option<&str>) -> Option<&'static str> {
    match type_attr {
        None | Some("plain" | "html") => None,
        Some(t) if media_type(t).contains("html") => Some("html"),
        Some(_) => Some("plain"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atom_1_types_become_text_html_or_xhtml() {
        for (ty, want) in [
            (None, Plan::Keep),
            (Some("text"), Plan::Keep),
            (Some("html"), Plan::Keep),
            (Some("xhtml"), Plan::Keep),
            (Some(""), Plan::Type("text")),
            (Some("TEXT"), Plan::Type("text")),
            (Some("HTML"), Plan::Type("html")),
            (Some("text/plain"), Plan::Type("text")),
            (Some("text/html; charset=utf-8"), Plan::Type("html")),
            (Some("text/markdown"), Plan::Type("text")),
            (Some("application/xhtml+xml"), Plan::Type("xhtml")),
            (Some("application/xml"), Plan::Type("xhtml")),
            (Some("plain"), Plan::Type("text")),
            (Some("base64"), Plan::Base64("text")),
            (Some("text/html;base64"), Plan::Base64("html")),
            (Some("application/octet-stream"), Plan::Base64("text")),
        ] {
            assert_eq!(plan(ty, None, false), want, "{ty:?}");
        }
    }

    #[test]
    fn atom_03_modes_say_how_the_content_is_carried() {
        for (ty, mode, want) in [
            (None, None, Plan::Keep),
            (Some("text/plain"), None, Plan::Type("text")),
            (Some("text/html"), Some("escaped"), Plan::Type("html")),
            (
                Some("application/xhtml+xml"),
                Some("escaped"),
                Plan::Type("html"),
            ),
            (Some("text/html"), Some("base64"), Plan::Base64("html")),
            (None, Some("base64"), Plan::Base64("text")),
            (
                Some("application/xhtml+xml"),
                Some("xml"),
                Plan::Type("xhtml"),
            ),
            (Some("application/xhtml+xml"), None, Plan::Type("xhtml")),
            (Some("text/html"), None, Plan::Type("xhtml")),
            (Some("multipart/alternative"), None, Plan::Unwrap),
            (None, Some("xml"), Plan::Type("text")),
        ] {
            assert_eq!(plan(ty, mode, true), want, "{ty:?} {mode:?}");
        }
    }

    #[test]
    fn base64_content_is_decoded_and_binary_content_left_out() {
        let attrs = [Attr::new("type", "text/html"), Attr::new("mode", "base64")];
        let body = |text: &str| Body {
            text: text.into(),
            ..Body::default()
        };
        assert_eq!(
            decoded("content", &attrs, "html", &body("PHA+SGk8L3A+")),
            "<content type=\"html\">&lt;p&gt;Hi&lt;/p&gt;</content>"
        );
        assert_eq!(decoded("content", &attrs, "html", &body("/w==")), "");
        assert_eq!(
            decoded("content", &attrs, "html", &body("not base64!")),
            "<content type=\"text\">not base64!</content>"
        );
    }

    #[test]
    fn media_text_types_become_plain_or_html() {
        assert_eq!(media_type_fix(None), None);
        assert_eq!(media_type_fix(Some("html")), None);
        assert_eq!(media_type_fix(Some("text/html")), Some("html"));
        assert_eq!(media_type_fix(Some("text")), Some("plain"));
        assert_eq!(media_type_fix(Some("")), Some("plain"));
    }
}
