//! The river page: stories newest first, grouped by day, with their sources and
//! categories, and links that filter by category. Server-rendered, no JavaScript.

use maud::{DOCTYPE, Markup, html};

use super::{entry_title, item_link, shorten};
use crate::categorize::slug;
use crate::inspect::rfc3339;
use crate::model::clamp_date;
use crate::sanitize::plain_text;
use crate::store::Story;

/// Longest summary shown under a title, in characters.
const SUMMARY_CHARS: usize = 280;

pub struct RiverPage<'a> {
    pub title: &'a str,
    pub stories: &'a [Story],
    /// (slug, stories) of every category, most used first
    pub categories: &'a [(String, u64)],
    pub active_category: Option<&'a str>,
    /// link to the next (older) page
    pub older: Option<String>,
}

const STYLE: &str = "
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:46rem;padding:0 1rem 3rem;color:#1b1b1b;background:#fdfdfc}
a{color:#0b57a4}header h1{margin:1.2rem 0 .3rem;font-size:1.6rem}header h1 a{color:inherit;text-decoration:none}
nav.categories a{display:inline-block;margin:.15rem .5rem .15rem 0;padding:0 .5rem;border:1px solid #c9d3de;border-radius:1rem;text-decoration:none;font-size:.9rem}
nav.categories a.active{background:#0b57a4;color:#fff;border-color:#0b57a4}
p.feeds{font-size:.9rem;color:#555}h2{font-size:1.05rem;margin:2rem 0 .5rem;padding-bottom:.2rem;border-bottom:2px solid #e4e7eb;color:#444}
article{margin:0 0 1.2rem}article h3{font-size:1.1rem;margin:0;line-height:1.35}
.meta{font-size:.85rem;color:#5d6670;margin:.15rem 0}.meta a{color:#5d6670}.summary{margin:.2rem 0;color:#2d2d2d}
nav.pages{margin:2rem 0;font-size:1.05rem}
@media (prefers-color-scheme:dark){body{background:#15171a;color:#e6e6e6}a{color:#7db4f0}.summary{color:#d0d0d0}.meta,.meta a,p.feeds,h2{color:#a0a8b0}h2{border-color:#2c3036}nav.categories a{border-color:#3a4452}}
";

pub fn render_html(page: &RiverPage) -> String {
    let feed_base = match page.active_category {
        Some(c) => format!("c/{c}"),
        None => "feed".to_string(),
    };
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) }
                link rel="alternate" type="application/atom+xml" title=(page.title) href=(format!("{feed_base}.atom"));
                link rel="alternate" type="application/rss+xml" title=(page.title) href=(format!("{feed_base}.rss"));
                link rel="alternate" type="application/feed+json" title=(page.title) href=(format!("{feed_base}.json"));
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { a href="./" { (page.title) } }
                    @if !page.categories.is_empty() {
                        nav.categories aria-label="Categories" {
                            a.active[page.active_category.is_none()] href="./" { "all" }
                            @for (category, count) in page.categories {
                                a.active[page.active_category == Some(category.as_str())]
                                    href=(format!("?category={category}")) { (category) " " small { (count) } }
                            }
                        }
                    }
                    p.feeds {
                        "Subscribe: "
                        a href=(format!("{feed_base}.atom")) { "Atom" } " · "
                        a href=(format!("{feed_base}.rss")) { "RSS" } " · "
                        a href=(format!("{feed_base}.json")) { "JSON Feed" }
                        " · times in UTC"
                    }
                }
                main {
                    @if page.stories.is_empty() {
                        p { "Nothing here yet." }
                    }
                    @for day in by_day(page.stories) {
                        section {
                            @let day_at = clamp_date(day[0].sort_at);
                            h2 { time datetime=(day_at.format("%Y-%m-%d")) { (day_at.format("%A, %-d %B %Y")) } }
                            @for story in day { (article(story)) }
                        }
                    }
                    @if let Some(older) = &page.older {
                        nav.pages { a href=(older) rel="next" { "Older stories →" } }
                    }
                }
            }
        }
    };
    markup.into_string()
}

fn article(story: &Story) -> Markup {
    let item = &story.item;
    let summary = item
        .summary
        .as_deref()
        .or(item.content.as_deref())
        .map(plain_text)
        .unwrap_or_default();
    let summary = shorten(summary, SUMMARY_CHARS, "…");
    let link = item_link(item);
    html! {
        article {
            h3 {
                @if let Some(link) = link { a href=(link) { (entry_title(item)) } }
                @else { (entry_title(item)) }
            }
            p.meta {
                time datetime=(rfc3339(story.sort_at)) { (clamp_date(story.sort_at).format("%H:%M")) }
                " · "
                @for (i, source) in story.sources.iter().enumerate() {
                    @if i > 0 { ", " }
                    (source.name)
                }
                @for category in &story.categories {
                    " · " a href=(format!("?category={}", slug(category))) { (category) }
                }
            }
            @if !summary.is_empty() { p.summary { (summary) } }
        }
    }
}

/// Consecutive stories of the same (UTC) day.
fn by_day(stories: &[Story]) -> Vec<&[Story]> {
    stories
        .chunk_by(|a, b| clamp_date(a.sort_at).date_naive() == clamp_date(b.sort_at).date_naive())
        .collect()
}
