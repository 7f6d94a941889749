//! Plain data shared by the pipeline stages: sources as configured, items as parsed,
//! and the identity each item is stored under. No I/O lives here.

mod entry_id;
mod labels;
mod site;
mod story;

pub(crate) use entry_id::publisher_entry_id;
#[cfg(test)]
pub(crate) use entry_id::usable_entry_id;
pub use labels::{Labels, MAX_LABEL_CHARS, MAX_SLUG_CHARS, label, slug};
pub(crate) use site::site_of;
pub use story::{CategoryCount, SourceRef, StoredItem, Story, StoryCursor};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use url::Url;

/// The earliest date tributary keeps or writes, 1900-01-01T00:00:00Z in Unix
/// milliseconds: RFC 2822 (RSS dates) allows no earlier year, and older dates in
/// feeds are placeholders (Go's zero time, year 1) rather than publication dates.
pub(crate) const EARLIEST_DATE_MILLIS: i64 = -2_208_988_800_000;
/// The latest date tributary keeps or writes, 9999-12-31T23:59:59.999Z: RFC 2822
/// and RFC 3339 (Atom, JSON Feed) both write years with exactly four digits.
pub(crate) const LATEST_DATE_MILLIS: i64 = 253_402_300_799_999;

/// `t` when every output can write it, `None` otherwise. Dates read from a feed
/// pass through here: one outside the range is treated as no date at all.
pub(crate) fn writable_date(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (EARLIEST_DATE_MILLIS..=LATEST_DATE_MILLIS)
        .contains(&t.timestamp_millis())
        .then_some(t)
}

/// A time in Unix milliseconds, brought into the range every output can write
/// (the nearest end of it when outside). For times that must exist, such as a
/// story's sort time, and for values stored before the range was enforced.
pub(crate) fn clamped_date(millis: i64) -> DateTime<Utc> {
    let millis = millis.clamp(EARLIEST_DATE_MILLIS, LATEST_DATE_MILLIS);
    // Both ends of the range are well inside chrono's (about ±262,000 years), so
    // this always succeeds; the epoch is only a formal fallback.
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

/// [`clamped_date`] for a time already held as a date.
pub(crate) fn clamp_date(t: DateTime<Utc>) -> DateTime<Utc> {
    clamped_date(t.timestamp_millis())
}

/// How a source's items are told apart from each other.
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
    /// whether items keep the categories their feed gives them
    pub feed_categories: bool,
}

/// The feed syntax a document was written in, as `inspect` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Atom,
    /// Atom 0.3, the draft before RFC 4287
    Atom03,
    Json,
    Rss0,
    Rss1,
    Rss2,
}

impl FeedFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Atom => "atom1.0",
            FeedFormat::Atom03 => "atom0.3",
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
#[derive(Debug, Clone, Default, PartialEq)]
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
    /// the item's picture (Media RSS `<media:thumbnail>`), absolute; not stored
    pub image: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn the_date_range_is_what_rfc_2822_and_rfc_3339_can_write() {
        let earliest = clamped_date(i64::MIN);
        let latest = clamped_date(i64::MAX);
        assert_eq!(earliest, at("1900-01-01T00:00:00Z"));
        assert_eq!(latest.to_rfc3339(), "9999-12-31T23:59:59.999+00:00");
        assert_eq!(earliest.to_rfc2822(), "Mon, 1 Jan 1900 00:00:00 +0000");
        assert_eq!(latest.to_rfc2822(), "Fri, 31 Dec 9999 23:59:59 +0000");
    }

    #[test]
    fn dates_outside_the_range_are_dropped_or_clamped() {
        let cases = [
            ("0001-01-01T00:00:00Z", None, "1900-01-01T00:00:00Z"),
            ("1899-12-31T23:59:59Z", None, "1900-01-01T00:00:00Z"),
            ("1900-01-01T00:00:00Z", Some(()), "1900-01-01T00:00:00Z"),
            ("2026-11-24T10:00:00Z", Some(()), "2026-11-24T10:00:00Z"),
            ("9999-12-31T23:59:59Z", Some(()), "9999-12-31T23:59:59Z"),
        ];
        for (date, kept, clamped) in cases {
            let t = at(date);
            assert_eq!(writable_date(t), kept.map(|()| t), "{date}");
            assert_eq!(clamp_date(t), at(clamped), "{date}");
        }
        let far = DateTime::from_timestamp(400_000_000_000, 0).unwrap(); // year 14645
        assert_eq!(writable_date(far), None);
        assert_eq!(clamp_date(far), clamped_date(LATEST_DATE_MILLIS));
        let negative = DateTime::from_timestamp(-100_000_000_000, 0).unwrap(); // year -1199
        assert_eq!(writable_date(negative), None);
    }
}

/// What a feed's host returned last time, sent back to ask "only if changed".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// RFC 3339 in UTC, to the second, with `Z`; a year RFC 3339 cannot write (not
/// four digits) is brought to the nearest one it can.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    clamp_date(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}
