//! Titles as the plain text their publisher meant: markup only where the format
//! says so, or where an RSS or JSON Feed title holds real tags.

use std::sync::LazyLock;

use ammonia::Builder;

use super::text::{fold_white_space, plain_text, unescape_serialized};

/// How a title's text is to be read, as its format says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleMarkup {
    /// Plain text (Atom `type="text"`): every character is the publisher's.
    Text,
    /// Markup (Atom `type="html"` or `"xhtml"`): tags go, entities decode once.
    Html,
    /// A format that does not say (RSS, JSON Feed): read as markup only when it
    /// holds some, see [`holds_markup`].
    Unknown,
}

/// The plain text of a title, white space folded.
pub fn title_text(raw: &str, markup: TitleMarkup) -> String {
    match markup {
        TitleMarkup::Text => fold_white_space(raw),
        TitleMarkup::Html => plain_text(raw),
        TitleMarkup::Unknown if holds_markup(raw) => plain_text(raw),
        TitleMarkup::Unknown => fold_white_space(&decode_references(raw)),
    }
}

/// Elements whose closing tag, or whose opening tag with an attribute, shows a
/// title holds markup: the inline elements publishers put in titles, the blocks
/// some wrap them in, and script and style (whose content then goes too).
const TITLE_ELEMENTS: &[&str] = &[
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "del", "dfn", "div", "em",
    "font", "h1", "h2", "h3", "h4", "h5", "h6", "i", "ins", "kbd", "mark", "nobr", "p", "q", "s",
    "samp", "script", "small", "span", "strike", "strong", "style", "sub", "sup", "time", "tt",
    "u", "var",
];

/// Elements never closed, which alone show markup: a line break, a break
/// opportunity, an image (the emoji images of some blogs).
const TITLE_VOID_ELEMENTS: &[&str] = &["br", "wbr", "img"];

/// Whether a title from a format that does not say (RSS, JSON Feed) is markup:
/// it holds a closing tag of a [`TITLE_ELEMENTS`] element (`</b>`, `</a>`), an
/// opening one with an attribute (`<a href="…">`, `<span class=x>`), or a
/// [`TITLE_VOID_ELEMENTS`] one (`<br>`). Anything else is text: "a < b",
/// "Vec<u8>", "Option<String>", and also tags named alone, as in "The <code>
/// element", "Die Rückkehr von <i> und <b>" or "<script> explained", which titles
/// about HTML hold far more often than unclosed markup.
pub fn holds_markup(title: &str) -> bool {
    let bytes = title.as_bytes();
    let name_at = |from: usize| {
        let len = bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let name = title[from..from + len].to_ascii_lowercase();
        (name, from + len)
    };
    let space_at = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_whitespace);
    memchr::memchr_iter(b'<', bytes).any(|open| {
        if bytes.get(open + 1) == Some(&b'/') {
            let (name, end) = name_at(open + 2);
            let end = end
                + bytes[end..]
                    .iter()
                    .take_while(|b| b.is_ascii_whitespace())
                    .count();
            return bytes.get(end) == Some(&b'>') && TITLE_ELEMENTS.contains(&name.as_str());
        }
        let (name, end) = name_at(open + 1);
        if TITLE_VOID_ELEMENTS.contains(&name.as_str()) {
            return matches!(bytes.get(end), Some(b'>' | b'/')) || space_at(end);
        }
        TITLE_ELEMENTS.contains(&name.as_str()) && space_at(end) && has_attribute(&title[end..])
    })
}

/// Whether `rest` (what follows a tag's name) starts with an attribute: white
/// space, a name, `=`.
fn has_attribute(rest: &str) -> bool {
    let rest = rest.trim_start();
    let name_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':'))
        .count();
    name_len > 0 && rest[name_len..].trim_start().starts_with('=')
}

/// `text` with its HTML character references decoded, once: `&amp;`, `&#8217;`,
/// `&#x24;`, `&eacute;`. Only complete references count (name or number, then
/// `;`); a `&` or `<` that starts none stays as it is ("AT&T", "a < b").
pub fn decode_references(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match reference_len(rest) {
            Some(len) => {
                out.push_str(&decode_reference(&rest[..len]));
                rest = &rest[len..];
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

/// The length of the character reference `s` starts with (`&name;`, `&#123;`,
/// `&#x7B;`), if it starts with one.
fn reference_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix('&')?;
    let (digits, skip): (fn(&u8) -> bool, usize) = match body.as_bytes() {
        [b'#', b'x' | b'X', ..] => (u8::is_ascii_hexdigit, 2),
        [b'#', ..] => (u8::is_ascii_digit, 1),
        [first, ..] if first.is_ascii_alphabetic() => (u8::is_ascii_alphanumeric, 0),
        _ => return None,
    };
    // No reference is longer (the longest entity name has 31 characters).
    let len = body.as_bytes()[skip..]
        .iter()
        .take(40)
        .take_while(|b| digits(b))
        .count();
    (len > 0 && body.as_bytes().get(skip + len) == Some(&b';')).then_some(1 + skip + len + 1)
}

/// One complete reference decoded as HTML does (html5ever's table and rules);
/// an unknown name stays as written.
fn decode_reference(reference: &str) -> String {
    static TEXT_ONLY: LazyLock<Builder<'static>> = LazyLock::new(Builder::empty);
    let decoded = unescape_serialized(&TEXT_ONLY.clean(reference).to_string());
    // A name HTML does not know, but that begins with a legacy one (`&notit;`),
    // decodes only in part and keeps its `;`: it was not a reference.
    if decoded.ends_with(';') {
        reference.to_string()
    } else {
        decoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_titles_keep_every_character() {
        for title in [
            "Using Option<String> in Rust",
            "AT&amp;T is spelt AT&T",
            "<b>not bold</b> & <script>not run</script>",
        ] {
            assert_eq!(title_text(title, TitleMarkup::Text), title);
        }
        assert_eq!(
            title_text("  Folded\n\t white   space ", TitleMarkup::Text),
            "Folded white space"
        );
    }

    #[test]
    fn html_titles_lose_their_tags_and_decode_entities_once() {
        let cases = [
            (
                "Using <code>Option&lt;String&gt;</code> in Rust",
                "Using Option<String> in Rust",
            ),
            ("Tom &amp;amp; Jerry", "Tom &amp; Jerry"),
            ("It&#8217;s <em>here</em>", "It’s here"),
            ("<p>One</p><p>Two</p>", "One Two"),
        ];
        for (html, text) in cases {
            assert_eq!(title_text(html, TitleMarkup::Html), text, "{html}");
        }
    }

    #[test]
    fn titles_of_unsaid_markup_are_markup_only_when_they_hold_real_tags() {
        let cases = [
            // Text, every character kept.
            ("a < b", "a < b"),
            ("Vec<u8> and Option<String>", "Vec<u8> and Option<String>"),
            ("<script> explained", "<script> explained"),
            ("The <code> element", "The <code> element"),
            (
                "Die Rückkehr von <i> und <b>",
                "Die Rückkehr von <i> und <b>",
            ),
            ("x<y>z</y>", "x<y>z</y>"),
            ("AT&T, Q&A & R&D", "AT&T, Q&A & R&D"),
            // Text with references, decoded once.
            ("Left, Right &amp; Center", "Left, Right & Center"),
            ("Tom &amp;amp; Jerry", "Tom &amp; Jerry"),
            (
                "&#x0024;4300 &#8211; caf&eacute; &lt;br&gt;",
                "$4300 – café <br>",
            ),
            ("&unknown; &notit; &#; & ;", "&unknown; &notit; &#; & ;"),
            // Markup: tags go, entities decode once.
            ("<b>Bold</b> move", "Bold move"),
            ("1930ft<sup>2</sup> &#x0024;4300", "1930ft2 $4300"),
            ("raise <span class='rupee'>₹</span>4,000", "raise ₹4,000"),
            (
                "<a href=\"https://example.org/\">Link</a> post",
                "Link post",
            ),
            ("Line<br>break", "Line break"),
            ("emoji <img src=\"x.png\" alt=\"\"> day", "emoji day"),
            ("x<script>alert(1)</script>y", "xy"),
            ("<i>Vec&lt;u8&gt;</i> &amp;amp;", "Vec<u8> &amp;"),
        ];
        for (title, text) in cases {
            assert_eq!(title_text(title, TitleMarkup::Unknown), text, "{title}");
        }
    }
}
