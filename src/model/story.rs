//! Stories as read back from storage, the shape every output renders.

use chrono::{DateTime, Utc};

use super::{Enclosure, Person};

/// An item as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub id: i64,
    pub source: String,
    pub key: String,
    pub canonical_link: Option<String>,
    pub link: Option<String>,
    pub title: Option<String>,
    pub authors: Vec<Person>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    pub base: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
}

/// A source as an entry names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub name: String,
    /// the feed's address
    pub feed_url: String,
    /// the site the feed belongs to, when it says
    pub site_link: Option<String>,
    pub title: Option<String>,
}

/// One entry of the merged feed: the primary copy of a story, with every source
/// that carried it and the categories of all its copies.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    pub id: i64,
    /// the id the entry is published under, fixed when the story was made;
    /// `None` for stories made before ids were stored
    pub entry_id: Option<String>,
    pub sort_at: DateTime<Utc>,
    pub item: StoredItem,
    /// every source that carried the story, the primary copy's first
    pub sources: Vec<SourceRef>,
    pub categories: Vec<String>,
}

/// Where a page of stories starts: strictly after this one, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoryCursor {
    pub sort_at: i64,
    pub id: i64,
}

impl Story {
    pub fn cursor(&self) -> StoryCursor {
        StoryCursor {
            sort_at: self.sort_at.timestamp_millis(),
            id: self.id,
        }
    }
}

/// A category with how many stories carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryCount {
    pub slug: String,
    pub label: String,
    pub stories: u64,
}
