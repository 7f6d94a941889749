//! The river page: stories newest first, grouped by day, with their sources and
//! categories, a search box, and links that filter by category; and the page
//! that lists every category. Server-rendered, no JavaScript.

use maud::{DOCTYPE, Markup, html};
use url::form_urlencoded;

use super::{entry_title, item_link, shorten};
use crate::model::clamp_date;
use crate::model::rfc3339;
use crate::model::slug;
use crate::model::{CategoryCount, Story};
use crate::sanitize::plain_text;

/// Longest summary shown under a title, in characters.
const SUMMARY_CHARS: usize = 280;

/// How many of the categories feeds give the navigation shows, the most used,
/// beside those the config names. Fifteen news feeds gave over 200, which put
/// the first story several screens down on a phone; the rest are on the page
/// of every category.
pub(crate) const FEED_CATEGORIES_SHOWN: usize = 5;

pub struct RiverPage<'a> {
    pub title: &'a str,
    pub stories: &'a [Story],
    pub navigation: &'a Navigation,
    /// the categories filtered on (slugs); the first is the page's own
    pub filters: &'a [String],
    /// the search asked for
    pub query: Option<&'a str>,
    /// link to the next (older) page
    pub older: Option<String>,
}

/// The categories the river's navigation shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Navigation {
    /// the configured categories in config order, then the most used others,
    /// then the one filtered on if it is neither
    pub shown: Vec<CategoryCount>,
    /// how many categories with stories or in the config are left out
    pub left_out: usize,
}

/// Chooses the navigation's categories from the `configured` labels and every
/// category's `counts` (most used first), keeping `active` (a slug) in view.
pub fn navigation(
    configured: &[String],
    counts: &[CategoryCount],
    active: Option<&str>,
) -> Navigation {
    let all = every_category(configured, counts);
    let count_of = |slug: &str| counts.iter().find(|c| c.slug == slug);
    let mut shown: Vec<CategoryCount> = configured
        .iter()
        .map(|label| {
            let slug = slug(label);
            let stories = count_of(&slug).map_or(0, |c| c.stories);
            CategoryCount {
                slug,
                label: label.clone(),
                stories,
            }
        })
        .collect();
    let others: Vec<&CategoryCount> = counts
        .iter()
        .filter(|c| !shown.iter().any(|s| s.slug == c.slug))
        .take(FEED_CATEGORIES_SHOWN)
        .collect();
    shown.extend(others.into_iter().cloned());
    if let Some(active) = active
        && !shown.iter().any(|s| s.slug == active)
        && let Some(c) = count_of(active)
    {
        shown.push(c.clone());
    }
    Navigation {
        left_out: all.len() - shown.len(),
        shown,
    }
}

/// Every category, configured or carried by a story, each once, under the
/// config's label when it names it.
fn every_category(configured: &[String], counts: &[CategoryCount]) -> Vec<CategoryCount> {
    let mut all: Vec<CategoryCount> = counts.to_vec();
    for label in configured {
        let slug = slug(label);
        match all.iter_mut().find(|c| c.slug == slug) {
            Some(c) => c.label = label.clone(),
            None => all.push(CategoryCount {
                slug,
                label: label.clone(),
                stories: 0,
            }),
        }
    }
    all
}

const STYLE: &str = "
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:46rem;padding:0 1rem 3rem;color:#1b1b1b;background:#fdfdfc}
a{color:#0b57a4}header h1{margin:1.2rem 0 .3rem;font-size:1.6rem}header h1 a{color:inherit;text-decoration:none}
nav.categories a{display:inline-block;margin:.15rem .5rem .15rem 0;padding:0 .5rem;border:1px solid #c9d3de;border-radius:1rem;text-decoration:none;font-size:.9rem}
nav.categories a.active{background:#0b57a4;color:#fff;border-color:#0b57a4}nav.categories a.more{border-style:dashed}
form.search{display:flex;gap:.4rem;margin:.5rem 0;max-width:28rem}form.search input{flex:1;min-width:0;font:inherit;padding:.2rem .5rem}form.search button{font:inherit;padding:.2rem .7rem}
p.searched{margin:.5rem 0 0;font-size:.95rem}ul.every{columns:15rem;padding:0;list-style:none}ul.every li{break-inside:avoid;margin:0 0 .3rem}ul.every small{color:#5d6670}
p.feeds{font-size:.9rem;color:#555}h2{font-size:1.05rem;margin:2rem 0 .5rem;padding-bottom:.2rem;border-bottom:2px solid #e4e7eb;color:#444}
article{margin:0 0 1.2rem}article h3{font-size:1.1rem;margin:0;line-height:1.35}
.meta{font-size:.85rem;color:#5d6670;margin:.15rem 0}.meta a{color:#5d6670}.summary{margin:.2rem 0;color:#2d2d2d}
nav.pages{margin:2rem 0;font-size:1.05rem}
@media (prefers-color-scheme:dark){body{background:#15171a;color:#e6e6e6}a{color:#7db4f0}.summary{color:#d0d0d0}.meta,.meta a,p.feeds,h2{color:#a0a8b0}h2{border-color:#2c3036}nav.categories a{border-color:#3a4452}}
";

pub fn render_html(page: &RiverPage) -> String {
    let active = page.filters.first().map(String::as_str);
    let active_label = active.map(|slug| {
        page.navigation
            .shown
            .iter()
            .find(|c| c.slug == slug)
            .map_or(slug, |c| c.label.as_str())
    });
    let feed_base = match active {
        Some(c) => format!("c/{c}"),
        None => "feed".to_string(),
    };
    let title = match active_label {
        Some(label) => format!("{} — {label}", page.title),
        None => page.title.to_string(),
    };
    let filtered = |extra: Option<(&str, &str)>| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for c in page.filters {
            query.append_pair("category", c);
        }
        if let Some((k, v)) = extra {
            query.append_pair(k, v);
        }
        match query.finish() {
            q if q.is_empty() => "./".to_string(),
            q => format!("./?{q}"),
        }
    };
    let nav = page.navigation;
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&title, &title, Some(feed_base.as_str())))
            body {
                header {
                    h1 { a href="./" { (page.title) } }
                    @if !nav.shown.is_empty() {
                        nav.categories aria-label="Categories" {
                            a.active[active.is_none()] href="./" { "all" }
                            @for c in &nav.shown {
                                a.active[active == Some(c.slug.as_str())]
                                    href=(format!("?category={}", c.slug)) { bdi { (c.label) } " " small { (c.stories) } }
                            }
                            @if nav.left_out > 0 {
                                a.more href="categories" { (nav.left_out) " more…" }
                            }
                        }
                    }
                    // A GET form: the page takes `q=` as every feed does.
                    form.search role="search" method="get" action="./" {
                        @for c in page.filters {
                            input type="hidden" name="category" value=(c);
                        }
                        input type="search" name="q" value=[page.query] aria-label="Search stories"
                            placeholder="Search stories" required pattern=r".*\S.*" maxlength="500";
                        button type="submit" { "Search" }
                    }
                    @if let Some(q) = page.query {
                        p.searched {
                            @if page.stories.is_empty() { "No story matches " } @else { "Stories matching " }
                            "“" bdi { (q) } "”"
                            @if let Some(label) = active_label { " in " bdi { (label) } }
                            " · " a href=(filtered(None)) { "clear the search" }
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
                    @if page.stories.is_empty() && page.query.is_none() {
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

/// A page's `<head>`: its title, the style, and when it has feeds
/// (`feed_base` + `.atom`, `.rss`, `.json`), links to them titled `feed_title`.
fn head(page_title: &str, feed_title: &str, feed_base: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (page_title) }
            @if let Some(base) = feed_base {
                link rel="alternate" type="application/atom+xml" title=(feed_title) href=(format!("{base}.atom"));
                link rel="alternate" type="application/rss+xml" title=(feed_title) href=(format!("{base}.rss"));
                link rel="alternate" type="application/feed+json" title=(feed_title) href=(format!("{base}.json"));
            }
            style { (maud::PreEscaped(STYLE)) }
        }
    }
}

/// The page of every category, configured or carried by a story, by label,
/// each with its story count and a link to its river and feed.
pub(crate) fn render_categories(
    title: &str,
    configured: &[String],
    counts: &[CategoryCount],
) -> String {
    let mut all = every_category(configured, counts);
    all.sort_by_cached_key(|c| (c.label.to_lowercase(), c.slug.clone()));
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("Categories — {title}"), title, None))
            body {
                header {
                    h1 { a href="./" { (title) } }
                    p.feeds {
                        (all.len()) @if all.len() == 1 { " category" } @else { " categories" }
                        ", by name · " a href="./" { "all stories" }
                    }
                }
                main {
                    ul.every {
                        @for c in &all {
                            li {
                                a href=(format!("./?category={}", c.slug)) { bdi { (c.label) } }
                                " " small { (c.stories) " · " a href=(format!("c/{}.atom", c.slug)) { "Atom" } }
                            }
                        }
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
            h3 dir="auto" {
                @if let Some(link) = link { a href=(link) { (entry_title(item)) } }
                @else { (entry_title(item)) }
            }
            p.meta {
                time datetime=(rfc3339(story.sort_at)) { (clamp_date(story.sort_at).format("%H:%M")) }
                " · "
                @for (i, source) in story.sources.iter().enumerate() {
                    @if i > 0 { ", " }
                    bdi { (source.name) }
                }
                @for category in &story.categories {
                    " · " a href=(format!("?category={}", slug(category))) { bdi { (category) } }
                }
            }
            @if !summary.is_empty() { p.summary dir="auto" { (summary) } }
        }
    }
}

/// Consecutive stories of the same (UTC) day.
fn by_day(stories: &[Story]) -> Vec<&[Story]> {
    stories
        .chunk_by(|a, b| clamp_date(a.sort_at).date_naive() == clamp_date(b.sort_at).date_naive())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(label: &str, stories: u64) -> CategoryCount {
        CategoryCount {
            slug: slug(label),
            label: label.to_string(),
            stories,
        }
    }

    fn labels(nav: &Navigation) -> Vec<&str> {
        nav.shown.iter().map(|c| c.label.as_str()).collect()
    }

    #[test]
    fn the_navigation_shows_configured_categories_then_the_most_used_few() {
        let counts: Vec<CategoryCount> = (0..30u64)
            .map(|n| count(&format!("Feed {n}"), 100 - n))
            .chain([count("ai", 3)])
            .collect();
        let configured = ["AI".to_string(), "Empty Yet".to_string()];
        let nav = navigation(&configured, &counts, None);
        assert_eq!(
            labels(&nav),
            [
                "AI",
                "Empty Yet",
                "Feed 0",
                "Feed 1",
                "Feed 2",
                "Feed 3",
                "Feed 4"
            ]
        );
        assert_eq!(nav.shown[0].stories, 3);
        assert_eq!(nav.shown[1].stories, 0);
        assert_eq!(nav.left_out, 25);
        // the category filtered on stays in view
        let nav = navigation(&configured, &counts, Some("feed-29"));
        assert_eq!(labels(&nav).last(), Some(&"Feed 29"));
        assert_eq!(nav.left_out, 24);
        // few categories: all shown, nothing left out
        let nav = navigation(&[], &counts[..3], None);
        assert_eq!((nav.shown.len(), nav.left_out), (3, 0));
    }
}
