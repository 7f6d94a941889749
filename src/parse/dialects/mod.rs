//! Dialects feed-rs does not read, or rejects a whole document over one
//! element of, rewritten into the ones it reads: Atom 0.3 into Atom 1.0; RSS
//! without a version, with an unknown one or in Userland's namespace into RSS
//! 2.0; RSS 0.90 into RSS 1.0; RSS 1.0 items given their `rdf:about`; Atom text
//! constructs and Media RSS text typed or filled in ways feed-rs refuses.
//!
//! A look at the root element and a scan for a few attribute names decide
//! whether a document needs more than its root's start tag changed; only then
//! is it read a second time, by [`pass`].

mod atom03;
mod base64;
mod detect;
mod element;
mod pass;
mod repair;
mod root;
mod rss1;
mod text;

use std::borrow::Cow;

use crate::model::{Feed, FeedFormat};
use pass::{Attr, Ns, RSS1};
use repair::{Kind, Repair};
use root::Root;

/// RSS 0.90, Netscape's RDF vocabulary.
const RSS090: &str = "http://my.netscape.com/rdf/simple/0.9/";

/// A document as feed-rs should read it, and what it will not tell from it.
#[derive(Debug)]
pub struct Normalized<'a> {
    pub bytes: Cow<'a, [u8]>,
    /// The dialect the document is really in, when feed-rs reads it as another.
    format: Option<FeedFormat>,
    /// The ids of the entries feed-rs will read, in order, when the document
    /// has them where feed-rs does not look (RSS 1.0's `rdf:about`).
    entry_ids: Option<Vec<Option<String>>>,
}

impl Normalized<'_> {
    /// Puts into `feed`, read from [`Self::bytes`], what feed-rs could not
    /// tell: the format the document was in, the ids of its entries.
    pub fn restore(&self, feed: &mut Feed) {
        if let Some(format) = self.format {
            feed.format = format;
        }
        let Some(ids) = &self.entry_ids else {
            return;
        };
        // Entries line up with the ids only when feed-rs read every item counted.
        if ids.len().min(crate::parse::MAX_ITEMS) != feed.items.len() {
            return;
        }
        for (item, id) in feed.items.iter_mut().zip(ids) {
            if item.guid.is_none() {
                item.guid.clone_from(id);
            }
        }
    }
}

/// The document in a dialect feed-rs reads fully; unchanged when it already is.
pub fn normalize(bytes: &[u8]) -> Normalized<'_> {
    let unchanged = |bytes| Normalized {
        bytes,
        format: None,
        entry_ids: None,
    };
    // JSON is repaired elsewhere.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return unchanged(Cow::Borrowed(bytes));
    }
    let Some(root) = root::find_root(bytes) else {
        return unchanged(Cow::Borrowed(bytes));
    };
    let (kind, format, root_attrs) = match root.local() {
        "feed" if is_atom03(&root) => (Kind::Atom03, Some(FeedFormat::Atom03), None),
        "feed" | "entry" => (Kind::Atom, None, None),
        "rss" => {
            let (format, attrs) = rss_root(&root);
            (Kind::Rss, format, attrs)
        }
        "RDF" => {
            let attrs = rss090_root(&root);
            let format = attrs.is_some().then_some(FeedFormat::Rss0);
            (Kind::Rdf, format, attrs)
        }
        _ => return unchanged(Cow::Borrowed(bytes)),
    };
    let mut bytes = match root_attrs {
        Some(attrs) => Cow::Owned(root.spliced(bytes, &attrs)),
        None => Cow::Borrowed(bytes),
    };
    let mut entry_ids = None;
    // Atom 0.3 is rewritten throughout; RSS 1.0 is read for its items' ids.
    if matches!(kind, Kind::Atom03 | Kind::Rdf) || detect::needs_repair(&bytes) {
        let mut repair = Repair::new(kind);
        if let Some(doc) = as_utf8(&bytes)
            && let Some(rewritten) = pass::rewrite(&doc, &mut repair)
        {
            if kind == Kind::Rdf {
                entry_ids = Some(std::mem::take(&mut repair.items.ids));
            }
            if repair.changed {
                bytes = Cow::Owned(rewritten.into_bytes());
            }
        }
    }
    Normalized {
        bytes,
        format,
        entry_ids,
    }
}

/// Whether a `<feed>` is Atom 0.3: in its namespace, or in none with
/// `version="0.3"`.
fn is_atom03(root: &Root) -> bool {
    match root.ns() {
        Ns::Atom03 => true,
        Ns::None => root.attr("version").is_some_and(|v| v.trim() == "0.3"),
        _ => false,
    }
}

/// For an `<rss>` root feed-rs would not read: the format it is in, and the
/// attributes that make feed-rs read it. feed-rs reads versions 2.0, 0.91 and
/// 0.92 (and an empty one); an `<rss>` without one, with another (0.93, 0.94,
/// 3.0, ...) is read as RSS 2.0, which every RSS 0.9x is a subset of. RSS 2.0 has
/// no namespace: a default one on the root (Userland's
/// `http://backend.userland.com/rss2`, say) hides every element from feed-rs.
fn rss_root(root: &Root) -> (Option<FeedFormat>, Option<Vec<Attr>>) {
    let mut attrs = root.attrs.clone();
    let mut format = None;
    let raw_version = attrs
        .iter()
        .find(|a| a.name == "version")
        .map(|a| a.value.as_str());
    if !matches!(raw_version, Some("2.0" | "0.91" | "0.92" | "")) {
        let version = raw_version.unwrap_or_default().trim();
        format = Some(if version.starts_with("0.9") {
            FeedFormat::Rss0
        } else {
            FeedFormat::Rss2
        });
        attrs.retain(|a| a.name != "version");
        attrs.push(Attr::new("version", "2.0"));
    }
    let before = attrs.len();
    attrs.retain(|a| a.name != "xmlns" || Ns::of(&a.value) == Ns::Rss1);
    let changed = format.is_some() || attrs.len() != before;
    (format, changed.then_some(attrs))
}

/// For an RSS 0.90 `<rdf:RDF>` (in Netscape's namespace): the attributes that
/// put its elements in RSS 1.0's, which kept RSS 0.90's names.
fn rss090_root(root: &Root) -> Option<Vec<Attr>> {
    let mut attrs = root.attrs.clone();
    let mut changed = false;
    for a in &mut attrs {
        if (a.name == "xmlns" || a.name.starts_with("xmlns:")) && a.value.trim() == RSS090 {
            a.value = RSS1.to_string();
            changed = true;
        }
    }
    changed.then_some(attrs)
}

/// The document as text for the repair pass: UTF-8 already (what the prepass
/// leaves, except under a single-byte encoding its prolog rightly declares),
/// else decoded from the declared encoding; the pass writes a UTF-8 prolog.
fn as_utf8(bytes: &[u8]) -> Option<Cow<'_, str>> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some(Cow::Borrowed(text));
    }
    let label = super::prepass::prolog(bytes)?.encoding?;
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes())?;
    Some(encoding.decode_without_bom_handling(bytes).0)
}

#[cfg(test)]
mod tests;
