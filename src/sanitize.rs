//! Making publisher HTML safe to pass on: sanitized HTML (ammonia) with relative
//! URLs made absolute, and plain text for titles.

use ammonia::{Builder, UrlRelative};
use url::Url;

/// Sanitizes an HTML fragment: no script, no event handlers, no `javascript:` URLs,
/// no iframes. Relative URLs are resolved against `base` (the item's `xml:base` or
/// link); without a base they are removed, since they could not work elsewhere.
pub fn sanitize_html(html: &str, base: Option<&Url>) -> String {
    let mut builder = Builder::default();
    builder.link_rel(Some("noopener noreferrer"));
    builder.url_relative(match base {
        Some(base) => UrlRelative::RewriteWithBase(base.clone()),
        None => UrlRelative::Deny,
    });
    builder.clean(html).to_string()
}

/// Plain text from a title that may hold markup or entities: tags stripped
/// (with the content of script and style), entities decoded, white space folded.
pub fn plain_text(text: &str) -> String {
    let stripped;
    let text = if text.contains(['<', '&']) {
        stripped = unescape_serialized(&Builder::empty().clean(text).to_string());
        stripped.as_str()
    } else {
        text
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Undoes the escaping html5ever's serializer applies to text nodes (and only that),
/// so this is exact for text that went through `Builder::empty()`.
fn unescape_serialized(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Rough text of an HTML fragment for the search index: tags removed, the common
/// entities decoded. Much cheaper than [`plain_text`], and exact enough for words.
pub fn text_for_index(html: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(html.len().min(max_chars * 2));
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
        if out.len() >= max_chars * 4 {
            break;
        }
    }
    let out = out
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ");
    out.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max_chars)
        .collect()
}

/// Escapes plain text for use as HTML.
pub fn text_to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_javascript_and_iframes_are_removed() {
        let dirty = r#"<p onclick="x()">hi<script>alert(1)</script></p><a href="javascript:alert(2)">l</a><iframe src="https://e.com"></iframe><img src="a.png" onerror="y()">"#;
        let clean = sanitize_html(dirty, Some(&Url::parse("https://e.com/post/").unwrap()));
        for bad in [
            "script",
            "onclick",
            "javascript:",
            "iframe",
            "onerror",
            "alert",
        ] {
            assert!(!clean.contains(bad), "{bad} survived in {clean}");
        }
        assert!(
            clean.contains(r#"src="https://e.com/post/a.png""#),
            "{clean}"
        );
    }

    #[test]
    fn titles_become_plain_text() {
        assert_eq!(plain_text("<b>Bold</b> &amp; <i>brave</i>"), "Bold & brave");
        assert_eq!(plain_text("a < b &lt;c&gt;"), "a < b <c>");
        assert_eq!(plain_text("  spread\n  out  "), "spread out");
        assert_eq!(plain_text("x<script>evil()</script>y"), "xy");
    }
}
