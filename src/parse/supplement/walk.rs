//! The second pass itself: one walk over the document's XML events, noting for
//! the channel and for each entry the values [`Found`] holds. Vocabularies are
//! told apart by namespace URI, never by prefix.

use std::borrow::Cow;
use std::io::Read;

use quick_xml::encoding::DecodingReader;
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{NsReader, Reader};

use super::markup::{is_void, text_as_markup};
use super::slots::{
    Ns, Slot, attr, channel_slot, entry_slot, media_slot, store, store_person, vocabulary,
};
use super::{Found, FoundPerson, Kind, Supplement};

/// What an open element is to the pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// the document element: `<rss>`, `<rdf:RDF>` or `<feed>`
    Root(Root),
    /// RSS `<channel>`
    Channel,
    /// an RSS `<item>` or Atom `<entry>` feed-rs reads as an entry
    Entry,
    /// an `atom:author`
    Author,
    /// an `itunes:category`, which may hold subcategories
    ItunesCategory,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    Rss,
    Rdf,
    Atom,
    Other,
}

/// Text in the document, as the reader gives it.
enum Piece<'a> {
    Text(&'a str),
    CData(&'a str),
    /// the name in `&name;` or `&#...;`
    Ref(&'a str),
}

/// An element whose content is being collected.
struct Capture {
    slot: Slot,
    /// depth of the element captured
    depth: usize,
    /// where its content starts in the document
    content_start: usize,
    text: String,
    /// the content as markup, once a `<description>` turns out to hold elements
    markup: Option<String>,
}

#[derive(Default)]
struct Walk {
    found: Supplement,
    open: Vec<Place>,
    capture: Option<Capture>,
    entry: Option<Found>,
    author: Option<FoundPerson>,
}

/// Walks `bytes`; what the walk found up to a syntax error is kept.
pub fn walk(bytes: &[u8]) -> Supplement {
    // JSON Feed (or anything else that is not markup) has nothing for this pass.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return Supplement::default();
    }
    let Some(text) = as_utf8(bytes) else {
        return Supplement::default();
    };
    let mut reader = NsReader::from_str(&text);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    let mut walk = Walk::default();
    loop {
        let at = reader.buffer_position() as usize;
        let Ok((ns, event)) = reader.read_resolved_event() else {
            break;
        };
        let ns = vocabulary(&ns);
        let after = reader.buffer_position() as usize;
        match event {
            Event::Start(e) => walk.start(ns, &e, false, (&text, at, after)),
            Event::Empty(e) => {
                walk.start(ns, &e, true, (&text, at, after));
                walk.end();
            }
            Event::End(e) => {
                // The end of an element inside the one captured, not of that one.
                let depth = walk.open.len();
                if let Some(markup) = walk
                    .capture
                    .as_mut()
                    .filter(|c| depth > c.depth)
                    .and_then(|c| c.markup.as_mut())
                {
                    markup.push_str("</");
                    markup.push_str(e.name().0);
                    markup.push('>');
                }
                walk.end();
            }
            // Text only matters inside an element being captured.
            Event::Text(t) => walk.piece(Piece::Text(&t.xml10_content())),
            Event::CData(t) => walk.piece(Piece::CData(&t)),
            Event::GeneralRef(r) => walk.piece(Piece::Ref(&r)),
            Event::Eof => break,
            _ => {}
        }
    }
    walk.found
}

/// The document as UTF-8 text: as it is when it already is, else decoded from
/// the encoding its byte order mark or XML declaration names, as feed-rs reads it.
fn as_utf8(bytes: &[u8]) -> Option<Cow<'_, str>> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some(Cow::Borrowed(text));
    }
    let mut reader = Reader::from_reader(DecodingReader::new(bytes));
    let mut buf = Vec::new();
    if let Ok(Event::Decl(decl)) = reader.read_event_into(&mut buf)
        && let Some(encoding) = decl.encoder()
    {
        // Only the declaration has been read: the decoder may still switch.
        reader.get_mut().set_encoding(encoding);
    }
    let mut rest = String::new();
    reader.into_inner().read_to_string(&mut rest).ok()?;
    Some(Cow::Owned(rest))
}

impl Walk {
    /// An element starts; `source` is the document, with where the start tag
    /// begins and where it ends.
    fn start(&mut self, ns: Ns, e: &BytesStart, empty: bool, source: (&str, usize, usize)) {
        let (document, at, after) = source;
        let depth = self.open.len() + 1;
        if let Some(c) = &mut self.capture {
            // A `<description>` holding an element is read as markup from here on,
            // and what came before it (text only) taken from the document.
            if c.slot == Slot::Description {
                let markup = c.markup.get_or_insert_with(|| {
                    text_as_markup(document.get(c.content_start..at).unwrap_or_default())
                });
                markup.push('<');
                markup.push_str(e);
                markup.push('>');
                // `<b/>` would open an element in HTML that never ends.
                if empty && !is_void(e.local_name().as_ref()) {
                    markup.push_str("</");
                    markup.push_str(e.name().0);
                    markup.push('>');
                }
            }
            self.open.push(Place::Other);
            return;
        }
        let name = e.local_name();
        let name = name.as_ref();
        let parent = self.open.last().copied();
        let place = match (parent, ns, name) {
            (None, Ns::Rss, "rss") => Place::Root(Root::Rss),
            (None, _, "RDF") => Place::Root(Root::Rdf),
            (None, Ns::Atom, "feed") => Place::Root(Root::Atom),
            (None, _, _) => Place::Root(Root::Other),
            (Some(Place::Root(Root::Rss | Root::Rdf)), Ns::Rss, "channel") => Place::Channel,
            // feed-rs reads RSS 0.9x/2.0 items inside the channel, RSS 1.0 and
            // 0.90 items beside it, Atom entries in the feed.
            (Some(Place::Channel), Ns::Rss, "item")
                if self.open.first() == Some(&Place::Root(Root::Rss)) =>
            {
                self.begin_entry(Kind::RssItem)
            }
            (Some(Place::Root(Root::Rdf)), Ns::Rss, "item") => {
                let place = self.begin_entry(Kind::RdfItem);
                // An RSS 1.0 item is named by its `rdf:about`, the id feed-rs's
                // items carry after the dialect pass: matching goes by it.
                if let Some(entry) = self.entry.as_mut() {
                    entry.id = rdf_about(e);
                }
                place
            }
            (Some(Place::Root(Root::Atom)), Ns::Atom, "entry") => self.begin_entry(Kind::AtomEntry),
            (
                Some(
                    Place::Entry | Place::Channel | Place::Root(Root::Atom) | Place::ItunesCategory,
                ),
                Ns::Itunes,
                "category",
            ) => {
                let scope = self.entry.as_mut().unwrap_or(&mut self.found.channel);
                if let Some(text) = attr(e, "text").map(|t| t.trim().to_string())
                    && !text.is_empty()
                {
                    scope.itunes_categories.push(text);
                }
                Place::ItunesCategory
            }
            (Some(Place::Entry | Place::Channel | Place::Root(Root::Atom)), Ns::Atom, "author") => {
                self.author = Some(FoundPerson::default());
                Place::Author
            }
            // An RSS `<author>` holding `<name>`/`<email>` elements rather than
            // text is read as an `atom:author`; one holding text is feed-rs's.
            (Some(Place::Entry), Ns::Rss, "author")
                if self
                    .entry
                    .as_ref()
                    .is_some_and(|en| en.kind == Kind::RssItem) =>
            {
                self.author = Some(FoundPerson::default());
                Place::Author
            }
            _ => Place::Other,
        };
        self.open.push(place);
        if place != Place::Other {
            return;
        }
        let in_entry = self.entry.is_some();
        let slot = match (parent, ns, name) {
            // A person's parts, in the Atom namespace or (in an RSS `<author>`) none
            (Some(Place::Author), Ns::Atom | Ns::Rss, "name") => Some(Slot::PersonName),
            (Some(Place::Author), Ns::Atom | Ns::Rss, "email") => Some(Slot::PersonEmail),
            (Some(Place::Author), Ns::Atom | Ns::Rss, "uri") => Some(Slot::PersonUri),
            (Some(Place::Entry), ..) => self
                .entry
                .as_mut()
                .and_then(|en| entry_slot(en, ns, name, e)),
            (Some(Place::Channel | Place::Root(Root::Atom)), ..) => channel_slot(ns, name),
            // Media RSS values sit in the item, or in its `media:group` or `media:content`.
            (_, Ns::Media, _) if in_entry => media_slot(self.entry.as_mut(), name, e),
            _ => None,
        };
        if let Some(slot) = slot {
            self.capture = Some(Capture {
                slot,
                depth,
                content_start: after,
                text: String::new(),
                markup: None,
            });
        }
    }

    fn begin_entry(&mut self, kind: Kind) -> Place {
        self.entry = Some(Found {
            kind,
            ..Found::default()
        });
        Place::Entry
    }

    /// Text in an element being captured: as text, or as markup for a
    /// `<description>`, which may turn out to hold elements.
    fn piece(&mut self, piece: Piece) {
        let Some(c) = &mut self.capture else {
            return;
        };
        if c.slot == Slot::Description {
            // Until an element shows up, the document itself holds the text.
            let Some(markup) = &mut c.markup else {
                return;
            };
            match piece {
                Piece::Text(t) => markup.push_str(t),
                Piece::CData(t) => markup.push_str(&escape(t)),
                Piece::Ref(name) => {
                    markup.push('&');
                    markup.push_str(name);
                    markup.push(';');
                }
            }
            return;
        }
        match piece {
            Piece::Text(t) | Piece::CData(t) => c.text.push_str(t),
            // Character references and the five XML entities are resolved;
            // others (which need a DTD) are kept as written, as feed-rs does.
            Piece::Ref(name) if name.starts_with('#') => {
                c.text
                    .extend(BytesRef::new(name).resolve_char_ref().ok().flatten());
            }
            Piece::Ref(name) => match resolve_predefined_entity(name) {
                Some(s) => c.text.push_str(s),
                None => {
                    c.text.push('&');
                    c.text.push_str(name);
                    c.text.push(';');
                }
            },
        }
    }

    fn end(&mut self) {
        let depth = self.open.len();
        let Some(place) = self.open.pop() else {
            return;
        };
        if let Some(c) = self.capture.take_if(|c| c.depth == depth) {
            self.store(c);
        }
        match place {
            Place::Entry => {
                // Entries past the parser's cap are never items: not kept.
                if let Some(entry) = self.entry.take()
                    && self.found.entries.len() < crate::parse::MAX_ITEMS
                {
                    self.found.entries.push(entry);
                }
            }
            Place::Author => {
                let author = self.author.take().unwrap_or_default();
                let scope = self.entry.as_mut().unwrap_or(&mut self.found.channel);
                if author != FoundPerson::default() {
                    scope.atom_authors.push(author);
                }
            }
            _ => {}
        }
    }

    fn store(&mut self, c: Capture) {
        let text = c.text.trim();
        match (&mut self.author, c.slot) {
            (Some(person), Slot::PersonName | Slot::PersonEmail | Slot::PersonUri) => {
                store_person(person, c.slot, text);
            }
            _ => {
                let scope = self.entry.as_mut().unwrap_or(&mut self.found.channel);
                store(scope, c.slot, text, c.markup);
            }
        }
    }
}

/// The `rdf:about` of an RSS 1.0 item, whatever the prefix bound to RDF.
fn rdf_about(e: &BytesStart) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref() == "about")
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.trim().to_string())
        })
        .filter(|v| !v.is_empty())
}
