//! Plain data shared by the pipeline stages: sources as configured, items as parsed,
//! and the identity each item is stored under. No I/O lives here.

use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

/// How a source's items are told apart from each other (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityMode {
    /// guid, then canonical link, then content hash, stepping down when a document's
    /// ids are missing or repeat too often
    #[default]
    Auto,
    Guid,
    Link,
    Content,
}

impl IdentityMode {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityMode::Auto => "auto",
            IdentityMode::Guid => "guid",
            IdentityMode::Link => "link",
            IdentityMode::Content => "content",
        }
    }
}

/// A feed to poll, as the configuration names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: String,
    pub url: Url,
    pub categories: Vec<String>,
    pub schedule: Option<String>,
    pub identity: IdentityMode,
}

/// The feed syntax a document was written in, as `inspect` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Atom,
    Json,
    Rss0,
    Rss1,
    Rss2,
}

impl FeedFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Atom => "atom1.0",
            FeedFormat::Json => "jsonfeed",
            FeedFormat::Rss0 => "rss0.9x",
            FeedFormat::Rss1 => "rss1.0",
            FeedFormat::Rss2 => "rss2.0",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Person {
    pub name: Option<String>,
    pub email: Option<String>,
    pub uri: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Enclosure {
    pub url: String,
    #[serde(rename = "type")]
    pub media_type: Option<String>,
    pub length: Option<u64>,
}

/// One item of a parsed feed, before identity is assigned. HTML fields hold the
/// publisher's markup unchanged; it is sanitized on the way out.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// guid / id as the feed gives it, `None` when absent
    pub guid: Option<String>,
    /// the item's alternate link, absolute
    pub link: Option<String>,
    /// plain text
    pub title: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub authors: Vec<Person>,
    pub categories: Vec<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub enclosures: Vec<Enclosure>,
    /// the URL relative references in the item's HTML resolve against
    pub base: Option<String>,
}

/// A parsed feed document.
#[derive(Debug, Clone)]
pub struct Feed {
    pub format: FeedFormat,
    pub title: Option<String>,
    pub link: Option<String>,
    pub id: Option<String>,
    pub updated: Option<DateTime<Utc>>,
    /// RSS `<ttl>`, minutes
    pub ttl: Option<u32>,
    /// RSS `<skipHours>`: hours (0-23, GMT) in which the feed asks not to be read
    pub skip_hours: Vec<u32>,
    /// RSS `<skipDays>`
    pub skip_days: Vec<chrono::Weekday>,
    pub items: Vec<Item>,
}

/// An item together with the key that identifies it within its source.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentifiedItem {
    pub key: String,
    pub canonical_link: Option<String>,
    /// the canonical link when it can name a story across feeds: unique within its
    /// document and pointing below a site's root
    pub story_link: Option<String>,
    pub item: Item,
}
