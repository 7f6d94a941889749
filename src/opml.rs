//! Reading OPML subscription lists as readers export them, leniently: no
//! `version`, nested folders, `xmlUrl` spelt in any case, the same feed twice.
//! Folders become categories. Also: writing sources into a config file as
//! `[[source]]` tables, keeping its comments and layout (toml_edit).

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use toml_edit::{Array, DocumentMut, Item, Table, value};

use crate::model::{Labels, label, slug};

/// A feed found in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpmlFeed {
    pub name: String,
    pub url: String,
    pub categories: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum OpmlError {
    #[error("not OPML: {0}")]
    Xml(String),
    #[error("no feeds in this OPML file (no outline has an xmlUrl)")]
    Empty,
}

/// The feeds of an OPML document, in document order, each once (by URL; a feed
/// listed in several folders gets every folder as a category). Names repeat only
/// once made unique with a number.
pub(crate) fn parse_opml(bytes: &[u8]) -> Result<Vec<OpmlFeed>, OpmlError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = false;
    let mut buf = Vec::new();
    // The folder outlines we are inside of; `None` for an outline that is a feed.
    let mut folders: Vec<Option<String>> = Vec::new();
    let mut feeds: Vec<OpmlFeed> = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| OpmlError::Xml(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(e) if is_outline(&e) => {
                let outline = Outline::read(&e);
                if let Some(feed) = outline.feed(&folders) {
                    add_feed(&mut feeds, feed);
                    folders.push(None);
                } else {
                    folders.push(Some(outline.title));
                }
            }
            Event::Empty(e) if is_outline(&e) => {
                if let Some(feed) = Outline::read(&e).feed(&folders) {
                    add_feed(&mut feeds, feed);
                }
            }
            Event::End(e) if e.local_name().as_ref().eq_ignore_ascii_case("outline") => {
                folders.pop();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if feeds.is_empty() {
        return Err(OpmlError::Empty);
    }
    Ok(feeds)
}

fn is_outline(e: &BytesStart) -> bool {
    e.local_name().as_ref().eq_ignore_ascii_case("outline")
}

struct Outline {
    title: String,
    url: Option<String>,
    categories: Vec<String>,
}

impl Outline {
    fn read(e: &BytesStart) -> Outline {
        let (mut text, mut title, mut url, mut category) = (None, None, None, None);
        for attr in e.attributes().with_checks(false).flatten() {
            let Ok(v) = attr.normalized_value(XmlVersion::Implicit1_0) else {
                continue;
            };
            let v = v.trim().to_string();
            match attr.key.local_name().as_ref().to_ascii_lowercase().as_str() {
                "text" => text = Some(v),
                "title" => title = Some(v),
                "xmlurl" => url = Some(v),
                "category" => category = Some(v),
                _ => {}
            }
        }
        // OPML 2.0 categories are comma-separated, each a slash path: "/Tech/Rust".
        let categories = category
            .iter()
            .flat_map(|c| c.split(','))
            .flat_map(|c| c.split('/'))
            .filter_map(label)
            .collect();
        Outline {
            title: title.or(text).unwrap_or_default(),
            url: url.filter(|u| !u.is_empty()),
            categories,
        }
    }

    fn feed(&self, folders: &[Option<String>]) -> Option<OpmlFeed> {
        let url = self.url.clone()?;
        let mut categories = Labels::default();
        for c in folders.iter().flatten().chain(&self.categories) {
            categories.add(c);
        }
        let categories = categories.into_vec();
        let name = if self.title.is_empty() {
            url::Url::parse(&url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| url.clone())
        } else {
            self.title.clone()
        };
        Some(OpmlFeed {
            name,
            url,
            categories,
        })
    }
}

fn add_feed(feeds: &mut Vec<OpmlFeed>, feed: OpmlFeed) {
    if let Some(known) = feeds.iter_mut().find(|f| f.url == feed.url) {
        for c in feed.categories {
            if !known.categories.iter().any(|k| slug(k) == slug(&c)) {
                known.categories.push(c);
            }
        }
        return;
    }
    let name = unique_name(&feed.name, |name| feeds.iter().any(|f| f.name == name));
    feeds.push(OpmlFeed { name, ..feed });
}

/// `name`, or when `taken` says it is used, the first of "name (2)",
/// "name (3)", ... that is not.
fn unique_name(name: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut unique = name.to_string();
    let mut n = 2;
    while taken(&unique) {
        unique = format!("{name} ({n})");
        n += 1;
    }
    unique
}

/// Appends `feeds` to a config document as `[[source]]` tables, leaving what is
/// there (comments included) as it was. Feeds whose URL the document already has
/// are skipped; names are made unique. Returns the feeds added.
pub(crate) fn append_sources(doc: &mut DocumentMut, feeds: &[OpmlFeed]) -> Vec<OpmlFeed> {
    let existing: Vec<(String, String)> = doc
        .get("source")
        .and_then(Item::as_array_of_tables)
        .map(|sources| {
            sources
                .iter()
                .map(|t| {
                    let get = |k: &str| {
                        t.get(k)
                            .and_then(Item::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    (get("name"), get("url"))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut names: Vec<String> = existing.iter().map(|(n, _)| n.clone()).collect();
    let mut added = Vec::new();
    for feed in feeds {
        if existing.iter().any(|(_, u)| u == &feed.url) {
            continue;
        }
        let name = unique_name(&feed.name, |name| names.iter().any(|n| n == name));
        names.push(name.clone());
        added.push(OpmlFeed {
            name,
            ..feed.clone()
        });
    }
    if added.is_empty() {
        return added;
    }
    if doc.get("source").is_none() {
        doc.insert("source", Item::ArrayOfTables(Default::default()));
    }
    let Some(sources) = doc.get_mut("source").and_then(Item::as_array_of_tables_mut) else {
        return Vec::new();
    };
    for feed in &added {
        let mut t = Table::new();
        t.insert("name", value(&feed.name));
        t.insert("url", value(&feed.url));
        if !feed.categories.is_empty() {
            t.insert(
                "categories",
                value(feed.categories.iter().collect::<Array>()),
            );
        }
        sources.push(t);
    }
    added
}

/// The feeds as `[[source]]` TOML, ready to paste into a config.
pub(crate) fn sources_toml(feeds: &[OpmlFeed]) -> String {
    let mut doc = DocumentMut::new();
    append_sources(&mut doc, feeds);
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_become_categories_and_duplicates_merge() {
        let opml = br#"<opml><body>
            <outline text="Tech"><outline text="Rust">
                <outline type="rss" text="Rust Notes" xmlurl="https://r.example/feed"/>
            </outline></outline>
            <outline title="News"><outline text="Rust Notes" xmlUrl="https://r.example/feed"/></outline>
            <outline text="Loose" XMLURL="https://l.example/rss" category="/AI/ML,Data"/>
            <outline text="Rust Notes" xmlUrl="https://other.example/feed"/>
        </body></opml>"#;
        let feeds = parse_opml(opml).unwrap();
        assert_eq!(feeds.len(), 3);
        assert_eq!(feeds[0].name, "Rust Notes");
        assert_eq!(feeds[0].categories, ["Tech", "Rust", "News"]);
        assert_eq!(feeds[1].categories, ["AI", "ML", "Data"]);
        assert_eq!(feeds[2].name, "Rust Notes (2)");
    }

    #[test]
    fn an_opml_file_without_feeds_is_refused() {
        assert!(matches!(
            parse_opml(b"<opml><body/></opml>"),
            Err(OpmlError::Empty)
        ));
        assert!(parse_opml(b"not xml <<<").is_err());
    }

    #[test]
    fn appending_keeps_comments_and_skips_known_urls() {
        let before = "# my feeds\n[poll]\nconcurrency = 8 # fewer\n\n[[source]]\nname = \"A\"\nurl = \"https://a.example/\"\n";
        let mut doc: DocumentMut = before.parse().unwrap();
        let feeds = [
            OpmlFeed {
                name: "A".into(),
                url: "https://a.example/".into(),
                categories: vec![],
            },
            OpmlFeed {
                name: "A".into(),
                url: "https://b.example/".into(),
                categories: vec!["x".into()],
            },
        ];
        let added = append_sources(&mut doc, &feeds);
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].name, "A (2)");
        let after = doc.to_string();
        assert!(after.starts_with(before), "{after}");
        assert!(
            after.contains("name = \"A (2)\"\nurl = \"https://b.example/\"\ncategories = [\"x\"]"),
            "{after}"
        );
    }
}
