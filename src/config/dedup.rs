//! The `[dedup]` section: when items of different sources fold into one
//! story, as the store's [`FoldPolicy`].

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::document::unspanned;
use super::problems::Problems;
use super::values::duration;
use crate::store::FoldPolicy;

#[derive(Debug, Clone, PartialEq)]
pub struct Dedup {
    pub across_feeds: bool,
    pub title_match: bool,
    /// fold the same title from two sources of one site, even without `title_match`
    pub same_site_titles: bool,
    pub title_window: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct DedupConfig {
    across_feeds: bool,
    title_match: bool,
    same_site_titles: bool,
    title_window: Spanned<String>,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            across_feeds: true,
            title_match: false,
            same_site_titles: true,
            title_window: unspanned("48h"),
        }
    }
}

impl DedupConfig {
    pub(super) fn build(self, p: &mut Problems) -> Dedup {
        Dedup {
            across_feeds: self.across_feeds,
            title_match: self.title_match,
            same_site_titles: self.same_site_titles,
            title_window: duration(&self.title_window, "title_window", p),
        }
    }
}

impl Default for Dedup {
    fn default() -> Self {
        DedupConfig::default().build(&mut Problems::new(""))
    }
}

impl From<&Dedup> for FoldPolicy {
    fn from(d: &Dedup) -> Self {
        FoldPolicy {
            across_feeds: d.across_feeds,
            title_match: d.title_match,
            same_site_titles: d.same_site_titles,
            title_window_ms: d.title_window.as_millis().min(i64::MAX as u128) as i64,
        }
    }
}
