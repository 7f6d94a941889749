//! Text out of publisher markup: summaries with their paragraphs and list items
//! kept apart, the rough text the search index holds, and plain text made HTML.

use std::collections::HashSet;
use std::sync::LazyLock;

use ammonia::Builder;

/// Elements that end a line of text where they open or close: paragraphs, list
/// items, line breaks, headings, table rows and cells, ... (the HTML standard's
/// block-level and line-breaking elements). Their boundaries become white space
/// in text, so `here.</p><p>The` never reads `here.The`.
const BREAKING: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "legend",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Keeps only the line-breaking elements, bare: no attributes, so every `<` in
/// what it writes opens one of them, and text is escaped as html5ever escapes it.
/// The content of `script` and `style` goes (ammonia's default).
static BREAKS_ONLY: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::empty();
    builder
        .tags(BREAKING.iter().copied().collect())
        .generic_attributes(HashSet::new())
        .tag_attributes(Default::default())
        .link_rel(None);
    builder
});

/// Plain text of an HTML fragment (a summary, a title that is markup): tags
/// stripped (with the content of script and style), entities decoded once, the
/// boundaries of paragraphs, list items, line breaks and other blocks read as
/// white space, and white space folded.
pub fn plain_text(html: &str) -> String {
    if !html.contains(['<', '&']) {
        return fold_white_space(html);
    }
    let serialized = BREAKS_ONLY.clean(html).to_string();
    let mut text = String::with_capacity(serialized.len());
    let mut rest = serialized.as_str();
    // Every `<` opens a kept element (text has its own escaped as `&lt;`).
    while let Some(open) = rest.find('<') {
        text.push_str(&unescape_serialized(&rest[..open]));
        text.push(' ');
        rest = rest[open..].split_once('>').map_or("", |(_, after)| after);
    }
    text.push_str(&unescape_serialized(rest));
    fold_white_space(&text)
}

/// Runs of white space as one space, none at either end.
pub(super) fn fold_white_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Undoes the escaping html5ever's serializer applies to text nodes (and only that),
/// so this is exact for text that went through a [`Builder`].
pub(super) fn unescape_serialized(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Rough text of an HTML fragment for the search index: tags removed, the common
/// entities decoded. Much cheaper than [`plain_text`], and exact enough for words:
/// block boundaries (and images) part words as in [`plain_text`], inline tags do
/// not split them (`<em>un</em>believable` is one word), and the content of
/// script and style is not text.
pub fn text_for_index(html: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(html.len().min(max_chars * 2));
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tag = &rest[open + 1..];
        // An unclosed `<` ends the text, as a browser reads it.
        let Some(close) = tag.find('>') else {
            rest = "";
            break;
        };
        let name = tag.strip_prefix('/').unwrap_or(tag);
        let name = &name[..name.bytes().take_while(u8::is_ascii_alphanumeric).count()];
        rest = &tag[close + 1..];
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if !tag.starts_with('/') && (is("script") || is("style")) {
            rest = after_end_tag(rest, name);
        } else if name.is_empty() || is("img") || BREAKING.iter().any(|b| is(b)) {
            out.push(' ');
        }
        if out.len() >= max_chars * 4 {
            rest = "";
            break;
        }
    }
    out.push_str(rest);
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

/// What follows the end tag of the raw-text element `name` (script, style) in
/// `html`, which starts inside it; nothing when the element is never closed.
fn after_end_tag<'a>(html: &'a str, name: &str) -> &'a str {
    let end = format!("</{}", name.to_ascii_lowercase());
    let lower = html.to_ascii_lowercase();
    match lower.find(&end) {
        Some(at) => html[at..].split_once('>').map_or("", |(_, after)| after),
        None => "",
    }
}

/// Escapes plain text for use as HTML. Paragraphs (parted by a blank line)
/// become `<p>` elements, so they stay apart wherever the HTML is shown; other
/// line breaks stay as they are (hard-wrapped text must not break at each line).
pub fn text_to_html(text: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines().chain([""]) {
        if line.trim().is_empty() {
            if !lines.is_empty() {
                paragraphs.push(lines.join("\n"));
                lines.clear();
            }
        } else {
            lines.push(line);
        }
    }
    if paragraphs.len() < 2 {
        return escape_html(text);
    }
    paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape_html(p)))
        .collect()
}

/// `text` with the characters HTML gives a meaning escaped.
fn escape_html(text: &str) -> String {
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
    fn block_boundaries_keep_words_apart() {
        let cases = [
            (
                "<p>…ends here.</p><p>The next…</p>",
                "…ends here. The next…",
            ),
            ("<ul><li>one</li><li>two</li></ul>after", "one two after"),
            ("line<br>break<br/>again", "line break again"),
            (
                "<h2>Head</h2>Body<blockquote>Quote</blockquote>",
                "Head Body Quote",
            ),
            ("<div>a</div><div>b</div><hr>c", "a b c"),
            (
                "<table><tr><td>cell</td><td>next</td></tr><tr><th>row</th></tr></table>",
                "cell next row",
            ),
            ("<pre>code</pre>text", "code text"),
            ("<dl><dt>term</dt><dd>meaning</dd></dl>", "term meaning"),
            // Entities decode once; attributes (even with `>` in them) go.
            ("<p>&amp;amp;</p><p>&lt;p&gt;</p>", "&amp; <p>"),
            ("<p title=\"a>b\" class=c>kept</p><p>next</p>", "kept next"),
            // Inline elements do not part words.
            (
                "<b>W</b>ord and <a href=\"x\">li</a>nk<span>s</span>",
                "Word and links",
            ),
        ];
        for (html, text) in cases {
            assert_eq!(plain_text(html), text, "{html}");
        }
    }

    #[test]
    fn titles_become_plain_text() {
        assert_eq!(plain_text("<b>Bold</b> &amp; <i>brave</i>"), "Bold & brave");
        assert_eq!(plain_text("a < b &lt;c&gt;"), "a < b <c>");
        assert_eq!(plain_text("  spread\n  out  "), "spread out");
        assert_eq!(plain_text("x<script>evil()</script>y"), "xy");
    }

    #[test]
    fn index_text_keeps_words_whole_and_apart() {
        let cases = [
            ("<p>ends here.</p><p>The next</p>", "ends here. The next"),
            (
                "<ul><li>one</li><li>two</li></ul>a<br>b<img src=x>c",
                "one two a b c",
            ),
            ("<em>un</em>believable <b>W</b>ord", "unbelievable Word"),
            (
                "x<script>var hidden = 1;</script>y <STYLE>p{}</STYLE>z",
                "xy z",
            ),
            (
                "Tom &amp; Jerry &lt;3 <!-- note --> end",
                "Tom & Jerry <3 end",
            ),
            ("unclosed <a href=", "unclosed"),
        ];
        for (html, text) in cases {
            assert_eq!(text_for_index(html, 100), text, "{html}");
        }
        assert_eq!(
            text_for_index("<p>wörd</p> ".repeat(50).as_str(), 7),
            "wörd wö"
        );
    }

    #[test]
    fn plain_text_paragraphs_stay_apart_as_html() {
        assert_eq!(
            text_to_html("First <one>.\n\nSecond & last,\nwrapped.\r\n \r\nThird"),
            "<p>First &lt;one&gt;.</p><p>Second &amp; last,\nwrapped.</p><p>Third</p>"
        );
        assert_eq!(
            text_to_html("one line\nand \"two\""),
            "one line\nand &quot;two&quot;"
        );
        assert_eq!(text_to_html("\n\nlone\n\n"), "\n\nlone\n\n");
    }
}
