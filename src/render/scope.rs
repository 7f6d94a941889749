//! The feed of one scope (every story, a category's, a source's) in one of the
//! feed formats: its title, its own address, and the renderer the format picks.
//! The server's feeds and `tributary export` both write their feeds here.

use url::Url;

use super::FeedMeta;
use super::atom::render_atom;
use super::json::render_json;
use super::rss::render_rss;
use crate::model::{Story, slug};

/// A feed format: the extension its address ends with and its content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    /// Atom 1.0
    Atom,
    /// RSS 2.0
    Rss,
    /// JSON Feed 1.1
    Json,
}

/// Each format, in the enum's order, with its extension and content type.
const FORMATS: [(FeedFormat, &str, &str); 3] = [
    (
        FeedFormat::Atom,
        "atom",
        "application/atom+xml; charset=utf-8",
    ),
    (FeedFormat::Rss, "rss", "application/rss+xml; charset=utf-8"),
    (
        FeedFormat::Json,
        "json",
        "application/feed+json; charset=utf-8",
    ),
];

impl FeedFormat {
    fn entry(self) -> (FeedFormat, &'static str, &'static str) {
        FORMATS[self as usize]
    }

    /// The format an extension ("atom", "rss", "json") names.
    pub fn from_ext(ext: &str) -> Option<FeedFormat> {
        FORMATS
            .into_iter()
            .find(|(_, e, _)| *e == ext)
            .map(|(format, _, _)| format)
    }

    /// A feed's file name split into its name and format: "feed.atom" is
    /// ("feed", Atom); `None` when the extension names no format.
    pub fn from_file(file: &str) -> Option<(&str, FeedFormat)> {
        let (name, ext) = file.rsplit_once('.')?;
        Some((name, FeedFormat::from_ext(ext)?))
    }

    pub fn ext(self) -> &'static str {
        self.entry().1
    }

    pub fn content_type(self) -> &'static str {
        self.entry().2
    }

    /// The feed of `stories` in this format.
    pub fn render(self, meta: &FeedMeta, stories: &[Story]) -> Vec<u8> {
        match self {
            FeedFormat::Atom => render_atom(meta, stories),
            FeedFormat::Rss => render_rss(meta, stories),
            FeedFormat::Json => render_json(meta, stories),
        }
    }
}

/// Which stories a feed holds.
#[derive(Debug, Clone, Copy)]
pub enum FeedScope<'a> {
    /// every story: the merged feed
    All,
    /// a category's, by its slug, shown under its label
    Category { slug: &'a str, label: &'a str },
    /// a source's, by its name
    Source(&'a str),
}

impl FeedScope<'_> {
    /// The feed's title: the site's, with the category or source after it.
    pub fn title(&self, site_title: &str) -> String {
        match self {
            FeedScope::All => site_title.to_string(),
            FeedScope::Category { label, .. } => format!("{site_title} — {label}"),
            FeedScope::Source(name) => format!("{site_title} — {name}"),
        }
    }

    /// The feed's address below the base URL, without its extension.
    pub fn path(&self) -> String {
        match self {
            FeedScope::All => "feed".to_string(),
            FeedScope::Category { slug, .. } => format!("c/{slug}"),
            FeedScope::Source(name) => format!("s/{}", slug(name)),
        }
    }

    /// What the feed in `format` says about itself, served under `base_url`;
    /// no next page.
    pub fn meta(
        &self,
        site_title: &str,
        base_url: &Url,
        format: FeedFormat,
    ) -> Result<FeedMeta, url::ParseError> {
        Ok(FeedMeta {
            title: self.title(site_title),
            home_url: base_url.clone(),
            self_url: base_url.join(&format!("{}.{}", self.path(), format.ext()))?,
            next_url: None,
        })
    }
}

/// The feed of `scope` in `format`, holding `stories`, as served under
/// `base_url` by a site titled `site_title`; `next_url` gives the next page's
/// address from the feed's own.
pub fn render_scope(
    site_title: &str,
    base_url: &Url,
    scope: FeedScope<'_>,
    format: FeedFormat,
    stories: &[Story],
    next_url: impl FnOnce(&Url) -> Option<Url>,
) -> Result<Vec<u8>, url::ParseError> {
    let mut meta = scope.meta(site_title, base_url, format)?;
    meta.next_url = next_url(&meta.self_url);
    Ok(format.render(&meta, stories))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_name_formats_both_ways() {
        for (format, ext, _) in FORMATS {
            assert_eq!(format.entry().0, format);
            assert_eq!(FeedFormat::from_ext(ext), Some(format));
            assert_eq!(format.ext(), ext);
        }
        assert_eq!(
            FeedFormat::from_file("feed.rss"),
            Some(("feed", FeedFormat::Rss))
        );
        assert_eq!(FeedFormat::from_file("feed.xml"), None);
        assert_eq!(FeedFormat::from_file("feed"), None);
    }

    #[test]
    fn a_scope_names_its_feed_and_its_address() {
        let base = Url::parse("https://news.example/t/").unwrap();
        let category = FeedScope::Category {
            slug: "ai",
            label: "AI",
        };
        let meta = category.meta("News", &base, FeedFormat::Json).unwrap();
        assert_eq!(meta.title, "News — AI");
        assert_eq!(meta.self_url.as_str(), "https://news.example/t/c/ai.json");
        let source = FeedScope::Source("Rust Notes");
        assert_eq!(source.path(), "s/rust-notes");
        assert_eq!(FeedScope::All.title("News"), "News");
    }
}
