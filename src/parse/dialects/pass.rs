//! One pass over a document's XML events that copies it, letting [`Rules`]
//! rewrite, drop, unwrap or replace elements on the way: the machinery every
//! dialect rewrite shares. What the rules leave alone is copied byte for byte.

use quick_xml::NsReader;
use quick_xml::escape::{escape, resolve_predefined_entity, unescape};
use quick_xml::events::{BytesStart, Event};

pub use super::element::{ATOM, Attr, Element, Ns, RSS1};
#[cfg(test)]
use super::element::{ATOM03, MEDIA, RDF};

/// What becomes of an element when its start tag is read.
#[derive(Debug)]
pub enum Start {
    /// Copied as it is.
    Keep,
    /// Written with this name and these attributes; its content is copied.
    Rewrite { name: String, attrs: Vec<Attr> },
    /// Left out with everything in it.
    Drop,
    /// Its tags are left out, its content kept.
    Unwrap,
    /// Its content is collected and handed to [`Rules::finish`], which says what
    /// to write for the whole element.
    Capture,
}

/// The content of a captured element.
#[derive(Debug, Default)]
pub struct Body {
    /// As written in the document.
    pub raw: String,
    /// Its character data, unescaped.
    pub text: String,
    /// Whether it holds elements.
    pub elements: bool,
}

impl Body {
    pub fn is_empty(&self) -> bool {
        !self.elements && self.text.is_empty()
    }
}

pub trait Rules {
    /// What becomes of `element`.
    fn start(&mut self, element: &Element) -> Start;
    /// Markup to add at the end of an element kept or rewritten, before its
    /// end tag.
    fn end(&mut self, _element: &Element) -> Option<String> {
        None
    }
    /// What to write for a captured element and its `body`.
    fn finish(&mut self, element: &Element, body: Body) -> String;
}

/// A start tag.
pub fn start_tag(name: &str, attrs: &[Attr], empty: bool) -> String {
    let mut tag = format!("<{name}");
    for a in attrs {
        tag.push_str(&format!(" {}=\"{}\"", a.name, escape(a.value.as_str())));
    }
    tag.push_str(if empty { "/>" } else { ">" });
    tag
}

/// How an open element is being written.
enum Open {
    /// Its end tag is copied as it is.
    Kept(Element),
    /// Its end tag takes this name.
    Renamed(Element, String),
    /// Its end tag is left out.
    Unwrapped,
}

/// An element being captured or dropped, with everything in it.
struct Held {
    element: Element,
    /// How deep inside it the reader is.
    inner: usize,
    body: Body,
    drop: bool,
}

/// `doc` rewritten by `rules`; `None` when it is not well-formed enough to
/// read through (the parser then gets it as it was).
pub fn rewrite(doc: &str, rules: &mut impl Rules) -> Option<String> {
    let mut reader = NsReader::from_str(doc);
    reader.config_mut().trim_text(false);
    let mut out = String::with_capacity(doc.len() + doc.len() / 8);
    let mut open: Vec<Open> = Vec::new();
    let mut held: Option<Held> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().ok()?;
        let ns = Ns::resolved(ns);
        if let Some(h) = held.as_mut() {
            let done = match &event {
                Event::Start(_) => {
                    h.inner += 1;
                    false
                }
                Event::End(_) if h.inner == 0 => true,
                Event::End(_) => {
                    h.inner -= 1;
                    false
                }
                Event::Eof => return None,
                _ => false,
            };
            if done {
                let h = held.take()?;
                if !h.drop {
                    out.push_str(&rules.finish(&h.element, h.body));
                }
            } else if !h.drop {
                collect(&mut h.body, &event);
            }
            continue;
        }
        match event {
            Event::Start(e) => {
                let element = element(&reader, ns, &e, open.len() + 1);
                match rules.start(&element) {
                    Start::Keep => {
                        out.push_str(&format!("<{}>", &*e));
                        open.push(Open::Kept(element));
                    }
                    Start::Rewrite { name, attrs } => {
                        out.push_str(&start_tag(&name, &attrs, false));
                        open.push(Open::Renamed(element, name));
                    }
                    Start::Unwrap => open.push(Open::Unwrapped),
                    how @ (Start::Drop | Start::Capture) => {
                        held = Some(Held {
                            element,
                            inner: 0,
                            body: Body::default(),
                            drop: matches!(how, Start::Drop),
                        });
                    }
                }
            }
            Event::Empty(e) => {
                let element = element(&reader, ns, &e, open.len() + 1);
                let (name, attrs) = match rules.start(&element) {
                    Start::Keep => (None, Vec::new()),
                    Start::Rewrite { name, attrs } => (Some(name), attrs),
                    Start::Drop | Start::Unwrap => continue,
                    Start::Capture => {
                        out.push_str(&rules.finish(&element, Body::default()));
                        continue;
                    }
                };
                let tag = |empty| match &name {
                    Some(name) => start_tag(name, &attrs, empty),
                    None if empty => format!("<{}/>", &*e),
                    None => format!("<{}>", &*e),
                };
                match rules.end(&element) {
                    None => out.push_str(&tag(true)),
                    Some(added) => {
                        out.push_str(&tag(false));
                        out.push_str(&added);
                        let name = name.as_deref().unwrap_or(&element.name);
                        out.push_str(&format!("</{name}>"));
                    }
                }
            }
            Event::End(e) => match open.pop()? {
                Open::Kept(element) => {
                    out.push_str(&rules.end(&element).unwrap_or_default());
                    out.push_str(&format!("</{}>", &*e));
                }
                Open::Renamed(element, name) => {
                    out.push_str(&rules.end(&element).unwrap_or_default());
                    out.push_str(&format!("</{name}>"));
                }
                Open::Unwrapped => {}
            },
            // The document is UTF-8 by now, whatever it said before.
            Event::Decl(_) => out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
            Event::Eof => break,
            other => out.push_str(&raw(&other)),
        }
    }
    open.is_empty().then_some(out)
}

/// An event other than a start or end tag, as written in the document.
fn raw(event: &Event<'_>) -> String {
    match event {
        Event::Text(t) => t.to_string(),
        Event::CData(t) => format!("<![CDATA[{}]]>", &**t),
        Event::GeneralRef(r) => format!("&{};", &**r),
        Event::Comment(t) => format!("<!--{}-->", &**t),
        Event::PI(t) => format!("<?{}?>", &**t),
        Event::DocType(t) => format!("<!DOCTYPE {}>", &**t),
        Event::Decl(t) => format!("<?{}?>", &**t),
        Event::Start(e) => format!("<{}>", &**e),
        Event::Empty(e) => format!("<{}/>", &**e),
        Event::End(e) => format!("</{}>", &**e),
        Event::Eof => String::new(),
    }
}

/// Adds an event inside a captured element to its body.
fn collect(body: &mut Body, event: &Event<'_>) {
    body.raw.push_str(&raw(event));
    match event {
        Event::Text(t) => body.text.push_str(t),
        Event::CData(t) => body.text.push_str(t),
        Event::GeneralRef(r) => match r.resolve_char_ref() {
            Ok(Some(c)) => body.text.push(c),
            _ => match resolve_predefined_entity(r) {
                Some(s) => body.text.push_str(s),
                None => body.text.push_str(&format!("&{};", &**r)),
            },
        },
        Event::Start(_) | Event::Empty(_) => body.elements = true,
        _ => {}
    }
}

/// The element a start tag opens, its attributes unescaped as feed-rs does
/// (left as written when they do not unescape; left out when unreadable).
fn element(reader: &NsReader<&[u8]>, ns: Ns, e: &BytesStart<'_>, depth: usize) -> Element {
    let attrs = e
        .attributes()
        .filter_map(Result::ok)
        .map(|a| {
            let name = a.key.as_ref().to_string();
            let ns = if name.contains(':') {
                Ns::resolved(reader.resolver().resolve_attribute(a.key).0)
            } else {
                Ns::None
            };
            let value = unescape(&a.value).map_or_else(|_| a.value.to_string(), |v| v.into_owned());
            Attr { name, value, ns }
        })
        .collect();
    Element {
        name: e.name().as_ref().to_string(),
        ns,
        attrs,
        depth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps everything: a copy.
    struct Copy;
    impl Rules for Copy {
        fn start(&mut self, _: &Element) -> Start {
            Start::Keep
        }
        fn finish(&mut self, _: &Element, _: Body) -> String {
            unreachable!("nothing is captured")
        }
    }

    #[test]
    fn what_the_rules_keep_is_copied_byte_for_byte() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE rss [<!ENTITY x \"y\">]>\
            <!-- c --><?pi x?><rss a='1' b=\"&amp;\"><t>&lt;p&gt; &#233; &nbsp; <![CDATA[<b>]]></t>\
            <e/><e x=\"1\" /></rss>";
        assert_eq!(rewrite(doc, &mut Copy).unwrap(), doc);
    }

    #[test]
    fn ill_formed_documents_are_not_rewritten() {
        for doc in [
            "<rss><a></rss>",
            "<rss><a>",
            "<rss></a>",
            "<rss a=\"1></rss>",
        ] {
            assert_eq!(rewrite(doc, &mut Copy), None, "{doc}");
        }
    }

    /// Renames `a` to `b`, drops `d`, unwraps `u`, captures `c` as its text,
    /// adds `<z/>` at the end of `r`.
    struct Edits;
    impl Rules for Edits {
        fn start(&mut self, e: &Element) -> Start {
            match e.local() {
                "a" => Start::Rewrite {
                    name: e.sibling_name("b"),
                    attrs: vec![Attr::new("k", "<\"v\">")],
                },
                "d" => Start::Drop,
                "u" => Start::Unwrap,
                "c" => Start::Capture,
                _ => Start::Keep,
            }
        }
        fn end(&mut self, e: &Element) -> Option<String> {
            (e.local() == "r").then(|| "<z/>".to_string())
        }
        fn finish(&mut self, e: &Element, body: Body) -> String {
            format!("[{} {} {} {}]", e.name, body.text, body.raw, body.elements)
        }
    }

    #[test]
    fn rules_rename_drop_unwrap_capture_and_add() {
        let doc = "<x:r xmlns:x=\"urn:x\"><x:a q=\"1\">t<a/></x:a><d><d/>gone</d><u><i/></u>\
            <c>1 &amp; <![CDATA[2]]><i>3</i></c><c/><r/></x:r>";
        assert_eq!(
            rewrite(doc, &mut Edits).unwrap(),
            "<x:r xmlns:x=\"urn:x\"><x:b k=\"&lt;&quot;v&quot;&gt;\">t<b k=\"&lt;&quot;v&quot;&gt;\"/></x:b>\
             <i/>[c 1 & 23 1 &amp; <![CDATA[2]]><i>3</i> true][c   false]<r><z/></r><z/></x:r>"
        );
    }

    #[test]
    fn namespaces_are_resolved_for_elements_and_attributes() {
        struct Seen(Vec<(String, Ns, Vec<Ns>)>);
        impl Rules for Seen {
            fn start(&mut self, e: &Element) -> Start {
                let attrs = e.attrs.iter().map(|a| a.ns).collect();
                self.0.push((e.local().to_string(), e.ns, attrs));
                Start::Keep
            }
            fn finish(&mut self, _: &Element, _: Body) -> String {
                String::new()
            }
        }
        let mut seen = Seen(Vec::new());
        let doc = format!(
            "<rdf:RDF xmlns:rdf=\"{RDF}\" xmlns=\"{RSS1}\"><item rdf:about=\"a\"/>\
             <f xmlns=\"{ATOM03}draft-ietf-atompub-format-05\"/><m:t xmlns:m=\"{MEDIA}\"/></rdf:RDF>"
        );
        rewrite(&doc, &mut seen).unwrap();
        let ns: Vec<(&str, Ns)> = seen.0.iter().map(|(n, ns, _)| (n.as_str(), *ns)).collect();
        assert_eq!(
            ns,
            [
                ("RDF", Ns::Rdf),
                ("item", Ns::Rss1),
                ("f", Ns::Atom03),
                ("t", Ns::Media)
            ]
        );
        assert_eq!(seen.0[1].2, [Ns::Rdf]);
    }
}
