//! Markdown export (SPEC §5.4): one file per story, YAML front matter, then the
//! article converted from its sanitized HTML.

use chrono::SecondsFormat;

use super::{entry_title, item_html, shorten};
use crate::categorize::slug;
use crate::sanitize::plain_text;
use crate::store::Story;

/// Longest summary written to the front matter, in characters.
const SUMMARY_CHARS: usize = 300;

/// A YAML double-quoted scalar; JSON's string syntax is a subset of it.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
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
    let published = item
        .published
        .unwrap_or(story.sort_at)
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut out = String::from("---\n");
    out.push_str(&format!("title: {}\n", quoted(&entry_title(item))));
    let source = story
        .sources
        .first()
        .map_or(item.source.as_str(), |s| s.name.as_str());
    out.push_str(&format!("source: {}\n", quoted(source)));
    if let Some(link) = &item.link {
        out.push_str(&format!("url: {}\n", quoted(link)));
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
pub fn markdown_file_name(story: &Story) -> String {
    let date = story
        .item
        .published
        .unwrap_or(story.sort_at)
        .format("%Y-%m-%d");
    let title: String = slug(&entry_title(&story.item)).chars().take(80).collect();
    let title = title.trim_end_matches('-');
    if title.is_empty() {
        format!("{date}-{}.md", story.id)
    } else {
        format!("{date}-{title}.md")
    }
}
