//! RSS 1.0 (and 0.90) items: each names itself with `rdf:about` (RSS 1.0 §5.5),
//! which feed-rs does not read, and it drops the items that have no `<link>`.
//! The `rdf:about` becomes the item's id, and its link when it has none.

use quick_xml::escape::escape;

use super::pass::{Element, Ns};

/// The item being read.
#[derive(Debug)]
struct Item {
    about: Option<String>,
    /// It has a `<link>` with text, which is what feed-rs keeps an item for.
    link: bool,
}

/// The items of an RSS 1.0 document, read in order.
#[derive(Debug, Default)]
pub struct Items {
    current: Option<Item>,
    /// The `rdf:about` of each item feed-rs will read, in order.
    pub ids: Vec<Option<String>>,
    /// Links added to items that had none.
    pub added: usize,
}

/// Whether `element` is in RSS 1.0 (with the document's default namespace).
fn is_rss(element: &Element) -> bool {
    matches!(element.ns, Ns::Rss1 | Ns::None)
}

impl Items {
    /// An element starts; whether it is the `<link>` of the current item, whose
    /// text must be seen.
    pub fn start(&mut self, element: &Element) -> bool {
        // feed-rs reads the `<item>`s that are children of `<rdf:RDF>`.
        if element.depth == 2 && is_rss(element) && element.local() == "item" {
            let about = element
                .attrs
                .iter()
                .find(|a| a.local() == "about" && (a.ns == Ns::Rdf || a.name == "rdf:about"))
                .map(|a| a.value.trim().to_string())
                .filter(|a| !a.is_empty());
            self.current = Some(Item { about, link: false });
        }
        self.current.is_some() && element.depth == 3 && is_rss(element) && element.local() == "link"
    }

    /// The text of the current item's `<link>`.
    pub fn link(&mut self, text: &str) {
        if let Some(item) = self.current.as_mut() {
            item.link |= !text.is_empty();
        }
    }

    /// An element ends: at the end of an item without a link, the link to add.
    pub fn end(&mut self, element: &Element) -> Option<String> {
        if element.depth != 2 || !is_rss(element) || element.local() != "item" {
            return None;
        }
        let item = self.current.take()?;
        let added = match (&item.about, item.link) {
            (Some(about), false) => {
                self.added += 1;
                let name = element.sibling_name("link");
                Some(format!("<{name}>{}</{name}>", escape(about.as_str())))
            }
            _ => None,
        };
        // An item with neither is dropped by feed-rs: it has no id to give.
        if item.link || item.about.is_some() {
            self.ids.push(item.about);
        }
        added
    }
}
