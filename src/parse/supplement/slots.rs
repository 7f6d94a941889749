//! Which elements the second pass reads, by vocabulary and place, and which
//! field of [`Found`] each one's value goes to.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::events::BytesStart;
use quick_xml::name::ResolveResult;

use super::{Found, FoundEnclosure, FoundPerson, Kind};

/// The vocabularies the pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    /// no namespace (RSS 0.91 to 2.0), RSS 1.0 or RSS 0.90
    Rss,
    Atom,
    Dc,
    DcTerms,
    Itunes,
    Media,
    Other,
}

/// The vocabulary of an element, by the namespace URI its name resolves to.
pub fn vocabulary(ns: &ResolveResult) -> Ns {
    let uri = match ns {
        ResolveResult::Bound(ns) => ns.0,
        ResolveResult::Unbound => return Ns::Rss,
        ResolveResult::Unknown(_) => return Ns::Other,
    };
    match uri {
        "http://purl.org/rss/1.0/" | "http://my.netscape.com/rdf/simple/0.1/" => Ns::Rss,
        "http://www.w3.org/2005/Atom" | "http://purl.org/atom/ns#" => Ns::Atom,
        "http://purl.org/dc/elements/1.1/" => Ns::Dc,
        "http://purl.org/dc/terms/" => Ns::DcTerms,
        // Media RSS is declared with and without the trailing slash.
        "http://search.yahoo.com/mrss/" | "http://search.yahoo.com/mrss" => Ns::Media,
        // Publishers write Apple's namespace as `DTDs/Podcast-1.0.dtd` too.
        _ if uri.eq_ignore_ascii_case("http://www.itunes.com/dtds/podcast-1.0.dtd") => Ns::Itunes,
        _ => Ns::Other,
    }
}

/// Where a captured element's text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Guid { permalink: bool },
    AtomId,
    Link,
    PubDate,
    Description,
    DcTitle,
    DcDate,
    DcDescription,
    DcCreator,
    DcSubject,
    AtomCategoryText,
    Issued,
    Created,
    Modified,
    AtomPublished,
    AtomUpdated,
    ItunesAuthor,
    ItunesSummary,
    MediaTitle,
    MediaDescription { html: bool },
    MediaCategory,
    PersonName,
    PersonEmail,
    PersonUri,
}

/// The slot of an element that is a child of an entry; values carried in
/// attributes are taken here.
pub fn entry_slot(entry: &mut Found, ns: Ns, name: &str, e: &BytesStart) -> Option<Slot> {
    let atom_entry = entry.kind == Kind::AtomEntry;
    Some(match (ns, name) {
        (Ns::Rss, "guid") if !atom_entry => {
            let permalink =
                attr(e, "isPermaLink").is_none_or(|v| v.trim().eq_ignore_ascii_case("true"));
            Slot::Guid { permalink }
        }
        (Ns::Rss, "link") if !atom_entry => Slot::Link,
        (Ns::Rss, "pubDate") if !atom_entry => Slot::PubDate,
        (Ns::Rss, "description") if !atom_entry => Slot::Description,
        // `<enclosure url type length>` in an RSS item
        (Ns::Rss, "enclosure") if !atom_entry => {
            entry.enclosures.extend(enclosure(e, "length"));
            return None;
        }
        (Ns::Rss, "updated") if !atom_entry => {
            entry.explicit_updated = true;
            return None;
        }
        (Ns::Atom, "id") if atom_entry => Slot::AtomId,
        (Ns::Atom, "link") if atom_entry => {
            let rel = attr(e, "rel");
            if entry.link.is_none() && rel.as_deref().is_none_or(|r| r.trim() == "alternate") {
                entry.link = attr(e, "href").map(|h| h.trim().to_string());
            }
            return None;
        }
        // `<category>ebmpapst</category>` in an Atom entry: RFC 4287 §4.2.2 puts
        // the category in `term`, but without one the text is all there is.
        (Ns::Atom, "category") if attr(e, "term").is_none_or(|t| t.trim().is_empty()) => {
            Slot::AtomCategoryText
        }
        (Ns::Atom, "published") => Slot::AtomPublished,
        (Ns::Atom, "updated") => {
            entry.explicit_updated = true;
            Slot::AtomUpdated
        }
        (Ns::Dc, "title") => Slot::DcTitle,
        (Ns::Dc, "date") => {
            entry.dc_date_after_pub_date |= entry.pub_date.is_some();
            Slot::DcDate
        }
        (Ns::Dc, "description") => Slot::DcDescription,
        (Ns::Dc, "creator") => Slot::DcCreator,
        (Ns::Dc, "subject") => Slot::DcSubject,
        (Ns::DcTerms, "issued") => Slot::Issued,
        (Ns::DcTerms, "created") => Slot::Created,
        (Ns::DcTerms, "modified") => Slot::Modified,
        (Ns::Itunes, "author") => Slot::ItunesAuthor,
        (Ns::Itunes, "summary") => Slot::ItunesSummary,
        (Ns::Media, _) => return media_slot(Some(entry), name, e),
        _ => return None,
    })
}

/// The slot of an element that is a child of the channel (or Atom feed).
pub fn channel_slot(ns: Ns, name: &str) -> Option<Slot> {
    Some(match (ns, name) {
        (Ns::Dc, "title") => Slot::DcTitle,
        (Ns::Dc, "date") => Slot::DcDate,
        (Ns::Dc, "creator") => Slot::DcCreator,
        (Ns::DcTerms, "modified") => Slot::Modified,
        (Ns::Itunes, "author") => Slot::ItunesAuthor,
        _ => return None,
    })
}

/// `media:title`, `media:description`, `media:category`, and the URL of the
/// first `media:thumbnail`.
pub fn media_slot(entry: Option<&mut Found>, name: &str, e: &BytesStart) -> Option<Slot> {
    match name {
        "title" => Some(Slot::MediaTitle),
        "description" => Some(Slot::MediaDescription {
            html: attr(e, "type").is_some_and(|t| t.trim().eq_ignore_ascii_case("html")),
        }),
        "category" => Some(Slot::MediaCategory),
        // `<media:content url type fileSize>`, in the item or its `media:group`
        "content" => {
            entry?.media_contents.extend(enclosure(e, "fileSize"));
            None
        }
        // `<media:player url>`, alone or in a `media:content`
        "player" => {
            let url = attr(e, "url").map(|u| u.trim().to_string());
            entry?.media_players.extend(url.filter(|u| !u.is_empty()));
            None
        }
        "thumbnail" => {
            let entry = entry?;
            if entry.media_thumbnail.is_none() {
                entry.media_thumbnail = attr(e, "url").map(|u| u.trim().to_string());
            }
            None
        }
        _ => None,
    }
}

/// The file an element's `url`, `type` and `length_attr` attributes name.
fn enclosure(e: &BytesStart, length_attr: &str) -> Option<FoundEnclosure> {
    let url = attr(e, "url").map(|u| u.trim().to_string())?;
    let media_type = attr(e, "type")
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let length = attr(e, length_attr).and_then(|l| l.trim().parse().ok());
    (!url.is_empty()).then_some(FoundEnclosure {
        url,
        media_type,
        length,
    })
}

/// Puts the text of an element captured, or the markup of a `<description>`
/// that held elements, where its slot says.
pub fn store(scope: &mut Found, slot: Slot, text: &str, markup: Option<String>) {
    if text.is_empty() && markup.is_none() {
        return;
    }
    match slot {
        Slot::Guid { permalink } => {
            scope.id = Some(text.to_string());
            scope.permalink = permalink.then(|| text.to_string());
        }
        Slot::AtomId => scope.id = Some(text.to_string()),
        Slot::Link => set_first(&mut scope.link, text),
        Slot::PubDate => scope.pub_date = Some(text.to_string()),
        Slot::Description => {
            scope.mixed_description = markup.map(|m| m.trim().to_string());
        }
        Slot::DcTitle => set_first(&mut scope.dc_title, text),
        Slot::DcDate => set_first(&mut scope.dc_date, text),
        Slot::DcDescription => set_first(&mut scope.dc_description, text),
        Slot::DcCreator => scope.dc_creators.push(text.to_string()),
        Slot::DcSubject => scope.dc_subjects.push(text.to_string()),
        Slot::AtomCategoryText => scope.atom_category_texts.push(text.to_string()),
        Slot::Issued => set_first(&mut scope.dcterms_issued, text),
        Slot::Created => set_first(&mut scope.dcterms_created, text),
        Slot::Modified => set_first(&mut scope.dcterms_modified, text),
        Slot::AtomPublished => set_first(&mut scope.atom_published, text),
        Slot::AtomUpdated => set_first(&mut scope.atom_updated, text),
        Slot::ItunesAuthor => set_first(&mut scope.itunes_author, text),
        Slot::ItunesSummary => set_first(&mut scope.itunes_summary, text),
        Slot::MediaTitle => set_first(&mut scope.media_title, text),
        Slot::MediaDescription { html } => {
            if scope.media_description.is_none() {
                scope.media_description = Some((text.to_string(), html));
            }
        }
        Slot::MediaCategory => scope.media_categories.push(text.to_string()),
        Slot::PersonName | Slot::PersonEmail | Slot::PersonUri => {}
    }
}

/// Puts the text of an `atom:author`'s child into the person.
pub fn store_person(person: &mut FoundPerson, slot: Slot, text: &str) {
    if text.is_empty() {
        return;
    }
    match slot {
        Slot::PersonName => set_first(&mut person.name, text),
        Slot::PersonEmail => set_first(&mut person.email, text),
        Slot::PersonUri => set_first(&mut person.uri, text),
        _ => {}
    }
}

/// The first value of an element that may repeat is the one kept.
fn set_first(field: &mut Option<String>, text: &str) {
    if field.is_none() {
        *field = Some(text.to_string());
    }
}

/// The unescaped value of the unprefixed attribute `name`.
pub fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.0 == name)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(Cow::into_owned)
        })
}
