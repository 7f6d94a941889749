//! Item identity: the key an item is stored under within its source, following
//! the ladder guid, canonical link, content hash. Pure functions only.

mod canonical;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use crate::model::{IdentifiedItem, IdentityMode, Item};

pub(crate) use canonical::{canonical_url, without_tracking};

/// Share of items with a missing or repeated value above which a document's value of
/// that kind is not trusted as identity.
const MAX_BAD_SHARE: f64 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Guid,
    Link,
    Content,
}

/// Gives every item of one document its key within the source, following the
/// identity ladder: guid, else canonical link, else a hash of title + published +
/// content. In `auto` mode a document whose guids (then links) are missing or repeat
/// in more than 5% of items starts lower on the ladder. An item without a usable
/// value at its level, or repeating an earlier item's, steps down alone. Items that
/// are the same at every level are one item: the first is kept.
pub fn identify(items: Vec<Item>, mode: IdentityMode) -> Vec<IdentifiedItem> {
    let canonical: Vec<Option<String>> = items
        .iter()
        .map(|i| i.link.as_deref().and_then(canonical_url))
        .collect();
    let start = match mode {
        IdentityMode::Guid => Level::Guid,
        IdentityMode::Link => Level::Link,
        IdentityMode::Content => Level::Content,
        IdentityMode::Auto => {
            if trustworthy(items.iter().map(|i| i.guid.as_deref())) {
                Level::Guid
            } else if trustworthy(canonical.iter().map(Option::as_deref)) {
                Level::Link
            } else {
                Level::Content
            }
        }
    };
    let mut link_counts: HashMap<&str, usize> = HashMap::new();
    for link in canonical.iter().flatten() {
        *link_counts.entry(link.as_str()).or_default() += 1;
    }
    let story_links: Vec<Option<String>> = canonical
        .iter()
        .map(|l| {
            l.as_ref()
                .filter(|l| link_counts[l.as_str()] == 1 && names_a_page(l))
                .cloned()
        })
        .collect();
    let mut seen = HashSet::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for ((item, canonical_link), story_link) in items.into_iter().zip(canonical).zip(story_links) {
        let guid = item.guid.as_deref().filter(|g| !g.trim().is_empty());
        // Each step is computed only when the ones above it gave no key; the
        // content hash reads the whole item.
        let key_at = |level: Level| match level {
            Level::Guid => guid.map(|g| format!("g:{}", g.trim())),
            Level::Link => canonical_link.as_ref().map(|l| format!("l:{l}")),
            Level::Content => Some(format!("h:{}", content_hash(&item))),
        };
        let key = [Level::Guid, Level::Link, Level::Content]
            .into_iter()
            .filter(|level| *level >= start)
            .filter_map(key_at)
            .find(|key| !seen.contains(key));
        let Some(key) = key else {
            continue; // the same item twice in one document
        };
        seen.insert(key.clone());
        out.push(IdentifiedItem {
            key,
            canonical_link,
            story_link,
            item,
        });
    }
    out
}

/// Whether a canonical link names one page rather than a whole site: feeds that
/// point every item at their home page must not fold unrelated stories together.
fn names_a_page(canonical: &str) -> bool {
    match canonical.strip_prefix("https://") {
        Some(rest) => rest.contains(['/', '?']),
        None => true,
    }
}

fn trustworthy<'a>(values: impl Iterator<Item = Option<&'a str>>) -> bool {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut total = 0usize;
    let mut missing = 0usize;
    for v in values {
        total += 1;
        match v.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => *counts.entry(v).or_default() += 1,
            None => missing += 1,
        }
    }
    let repeated: usize = counts.values().filter(|c| **c > 1).sum();
    total > 0 && ((missing + repeated) as f64) <= MAX_BAD_SHARE * total as f64
}

/// Hash of what makes an item itself when it has neither id nor link.
fn content_hash(item: &Item) -> String {
    let mut h = Sha256::new();
    h.update(item.title.as_deref().unwrap_or_default());
    h.update([0]);
    if let Some(p) = item.published.or(item.updated) {
        h.update(p.timestamp().to_le_bytes());
    }
    h.update([0]);
    h.update(
        item.content
            .as_deref()
            .or(item.summary.as_deref())
            .unwrap_or_default(),
    );
    hex::encode(&h.finalize()[..16])
}
