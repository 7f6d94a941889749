//! Markdown export (see README.md, Commands): one file per story, YAML front matter, then the
//! article converted from its sanitized HTML.

use chrono::SecondsFormat;

use super::{entry_title, item_html, item_link, shorten};
use crate::model::Story;
use crate::model::clamp_date;
use crate::model::slug;
use crate::sanitize::plain_text;

/// Longest summary written to the front matter, in characters.
const SUMMARY_CHARS: usize = 300;

/// Longest file name written, in bytes: file systems allow 255, and a suffix
/// that makes a name unique may still be added.
pub(crate) const MAX_FILE_NAME_BYTES: usize = 200;

/// A YAML double-quoted scalar that every YAML 1.1 and 1.2 loader reads back to
/// `s`: quotes, backslashes and every character outside YAML's printable set
/// (C0 and C1 controls, DEL, U+FFFE, U+FFFF, the byte order mark) are escaped, and
/// so are the characters YAML 1.1 reads as line breaks (NEL, U+2028, U+2029).
pub fn yaml_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fefe}' => out.push(c),
            '\u{ff00}'..='\u{fffd}' | '\u{10000}'.. => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn quoted(s: &str) -> String {
    yaml_quoted(s)
}

/// The file's text.
pub fn render_markdown(story: &Story) -> String {
    let item = &story.item;
    let html = item_html(item).unwrap_or_default();
    let summary_text = item
        .summary
        .as_deref()
        .map(plain_text)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| plain_text(&html));
    let summary = shorten(summary_text, SUMMARY_CHARS, " ...");
    let published = clamp_date(item.published.unwrap_or(story.sort_at))
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut out = String::from("---\n");
    out.push_str(&format!("title: {}\n", quoted(&entry_title(item))));
    let source = story
        .sources
        .first()
        .map_or(item.source.as_str(), |s| s.name.as_str());
    out.push_str(&format!("source: {}\n", quoted(source)));
    if let Some(link) = item_link(item) {
        out.push_str(&format!("url: {}\n", quoted(&link)));
    }
    out.push_str(&format!("published: {}\n", quoted(&published)));
    if let Some(first) = story.categories.first() {
        out.push_str(&format!("category: {}\n", quoted(first)));
    }
    if story.categories.len() > 1 {
        let all: Vec<String> = story.categories.iter().map(|c| quoted(c)).collect();
        out.push_str(&format!("categories: [{}]\n", all.join(", ")));
    }
    out.push_str(&format!("summary: {}\n", quoted(&summary)));
    out.push_str("---\n\n");
    let body = htmd::convert(&html).unwrap_or_else(|_| plain_text(&html));
    out.push_str(body.trim());
    out.push('\n');
    out
}

/// A file name for the story: its date and title, made safe for any file system.
/// It is at most [`MAX_FILE_NAME_BYTES`] long, cut on a character boundary, and
/// never starts with `-` (which commands would read as an option).
pub fn markdown_file_name(story: &Story) -> String {
    let date = clamp_date(story.item.published.unwrap_or(story.sort_at))
        .format("%Y-%m-%d")
        .to_string();
    let room = MAX_FILE_NAME_BYTES - date.len() - "-.md".len();
    let mut title = String::new();
    for c in slug(&entry_title(&story.item)).chars().take(80) {
        if title.len() + c.len_utf8() > room {
            break;
        }
        title.push(c);
    }
    let title = title.trim_matches('-');
    if title.is_empty() {
        format!("{date}-{}.md", story.id)
    } else {
        format!("{date}-{title}.md")
    }
}

/// The name under which `story` is written when `name` is already taken in this
/// export: the story's id, unique among stories, goes before the extension.
pub(crate) fn unique_file_name(name: &str, story: &Story) -> String {
    let stem = name.strip_suffix(".md").unwrap_or(name);
    format!("{stem}-{}.md", story.id)
}
