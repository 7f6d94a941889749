//! Making publisher content safe to pass on: sanitized HTML (ammonia) with relative
//! URLs made absolute, the one rule for which URLs may be published at all, and
//! plain text for summaries and the search index (`text`) and for titles (`title`).

use std::borrow::Cow;
use std::collections::HashSet;

use ammonia::{Builder, UrlRelative, UrlRelativeEvaluate};
use url::Url;

mod text;
mod title;

pub use text::{plain_text, text_for_index, text_to_html};
pub use title::{TitleMarkup, decode_references, holds_markup, title_text};

/// The schemes a published URL may have: pages and mail. Everything else a feed
/// may name (`javascript:`, `data:`, `vbscript:`, `file:`, ...) either runs code in
/// a reader or reaches into the reader's own machine.
pub(crate) const PUBLISHED_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// `raw` as an absolute URL that is safe to publish (link, enclosure, author URI,
/// `href`/`src` in content), or `None`. The URL comes back as the URL standard
/// serializes it, so white space or control characters hidden in a scheme
/// (`java\tscript:`) cannot slip past a reader that strips them.
pub(crate) fn safe_url(raw: &str) -> Option<Url> {
    publishable(Url::parse(raw.trim()).ok()?)
}

/// Published URLs never carry a user name or password: a link resolved against
/// a source's address would otherwise carry the source's credentials.
fn publishable(mut url: Url) -> Option<Url> {
    if !PUBLISHED_SCHEMES.contains(&url.scheme()) {
        return None;
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Only URLs without a host cannot lose these, and those never had them.
        let _ = url.set_password(None);
        let _ = url.set_username("");
    }
    Some(url)
}

/// `href` resolved against `base` (a feed's address or `xml:base`), when the
/// result is safe to publish. A base that is not http(s) resolves nothing: a
/// relative reference under `javascript:` or `file:` must not become one.
pub(crate) fn resolve_url(base: Option<&Url>, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    match Url::parse(href) {
        Ok(url) => publishable(url),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            publishable(http_base(base?)?.join(href).ok()?)
        }
        Err(_) => None,
    }
}

/// `base` when relative references may be resolved against it: http(s) only.
pub(crate) fn http_base(base: &Url) -> Option<&Url> {
    matches!(base.scheme(), "http" | "https").then_some(base)
}

/// Sanitizes an HTML fragment: no script, no event handlers, no iframes, and
/// every URL attribute `http`, `https` or `mailto`. Relative URLs are resolved
/// against `base` (the item's `xml:base` or link) when it is http(s); otherwise
/// they are removed, since they could not work elsewhere.
pub(crate) fn sanitize_html(html: &str, base: Option<&Url>) -> String {
    let mut builder = Builder::default();
    builder.link_rel(Some("noopener noreferrer"));
    builder.url_schemes(PUBLISHED_SCHEMES.iter().copied().collect::<HashSet<_>>());
    // ammonia lets `cite` (blockquote, q, del, ins) through without looking at
    // it as a URL; it gets the same rule as href and src here.
    let cite_base = base.and_then(http_base).cloned();
    builder.attribute_filter(move |_, attribute, value| match attribute {
        "cite" => resolve_url(cite_base.as_ref(), value).map(|u| Cow::Owned(String::from(u))),
        _ => Some(Cow::Borrowed(value)),
    });
    builder.url_relative(match base.and_then(http_base) {
        // ammonia checks the scheme of absolute URLs only; resolved ones are
        // checked here.
        Some(base) => UrlRelative::Custom(Box::new(ResolveAgainst(base.clone()))),
        None => UrlRelative::Deny,
    });
    builder.clean(html).to_string()
}

/// Resolves relative URLs in sanitized HTML, keeping only publishable results.
struct ResolveAgainst(Url);

impl<'a> UrlRelativeEvaluate<'a> for ResolveAgainst {
    fn evaluate<'url>(&self, href: &'url str) -> Option<Cow<'url, str>> {
        resolve_url(Some(&self.0), href).map(|u| Cow::Owned(String::from(u)))
    }
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
    fn only_http_https_and_mailto_urls_may_be_published() {
        let cases = [
            ("https://e.com/a b", Some("https://e.com/a%20b")),
            ("  http://E.com", Some("http://e.com/")),
            ("mailto:ann@e.com", Some("mailto:ann@e.com")),
            ("javascript:alert(1)", None),
            (" JaVaScRiPt:alert(1)", None),
            ("java\tscript:alert(1)", None),
            ("\u{1}javascript:alert(1)", None),
            ("vbscript:msgbox(1)", None),
            ("data:text/html,<script>x</script>", None),
            ("file:///etc/passwd", None),
            ("ftp://e.com/f", None),
            ("/relative", None),
            ("https://", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(safe_url(raw).as_ref().map(Url::as_str), want, "{raw:?}");
        }
    }

    #[test]
    fn relative_urls_resolve_only_against_an_http_base() {
        let https = Url::parse("https://e.com/blog/post").unwrap();
        let js = Url::parse("javascript:alert(1)//x/").unwrap();
        let file = Url::parse("file:///etc/").unwrap();
        let resolved = |base: Option<&Url>, href| resolve_url(base, href).map(String::from);
        assert_eq!(
            resolved(Some(&https), "a.png").as_deref(),
            Some("https://e.com/blog/a.png")
        );
        assert_eq!(
            resolved(Some(&https), "//cdn.e.com/x").as_deref(),
            Some("https://cdn.e.com/x")
        );
        assert_eq!(resolved(Some(&https), "javascript:alert(2)"), None);
        assert_eq!(resolved(Some(&js), "a.png"), None);
        assert_eq!(resolved(Some(&file), "passwd"), None);
        assert_eq!(resolved(None, "a.png"), None);
        assert_eq!(
            resolved(Some(&js), "https://e.com/").as_deref(),
            Some("https://e.com/")
        );
    }

    #[test]
    fn content_urls_never_take_another_scheme() {
        let html = r#"<a href="rel">r</a><img src="/i.png"><a href="ftp://e.com/f">f</a><a href="mailto:a@e.com">m</a><img src="data:image/png;base64,AA"><blockquote cite="javascript:alert(1)">q</blockquote><q cite="src.html">s</q>"#;
        for base in ["javascript:alert(1)//", "file:///etc/", "data:text/html,x"] {
            let clean = sanitize_html(html, Some(&Url::parse(base).unwrap()));
            for bad in [
                "javascript",
                "file:",
                "data:",
                "ftp:",
                "href=\"rel",
                "src=\"/i",
            ] {
                assert!(!clean.contains(bad), "{base}: {bad} survived in {clean}");
            }
            assert!(clean.contains("href=\"mailto:a@e.com\""), "{clean}");
        }
        let clean = sanitize_html(html, Some(&Url::parse("https://e.com/p/").unwrap()));
        assert!(clean.contains(r#"href="https://e.com/p/rel""#), "{clean}");
        assert!(clean.contains(r#"src="https://e.com/i.png""#), "{clean}");
        assert!(
            clean.contains(r#"cite="https://e.com/p/src.html""#),
            "{clean}"
        );
        assert!(
            !clean.contains("javascript") && !clean.contains("ftp:"),
            "{clean}"
        );
    }
}
