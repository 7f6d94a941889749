//! A `<description>` that turns out to hold elements is read back as markup:
//! the text before its first element, and the elements HTML never closes.

use quick_xml::escape::escape;

/// Text as it is written in the document, made markup: CDATA sections become
/// escaped text; comments and processing instructions go.
pub fn text_as_markup(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (body, close) = if let Some(body) = rest.strip_prefix("<![CDATA[") {
            (body, "]]>")
        } else if let Some(body) = rest.strip_prefix("<!--") {
            (body, "-->")
        } else if let Some(body) = rest.strip_prefix("<?") {
            (body, "?>")
        } else {
            // Nothing else starts with `<` in text.
            (&rest[1..], "")
        };
        let end = body.find(close).unwrap_or(body.len());
        if close == "]]>" {
            out.push_str(&escape(&body[..end]));
        }
        rest = body.get(end + close.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// HTML elements that have no end tag.
pub fn is_void(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
    )
}
