//! The rules of the repair pass: every rewrite a document of one kind needs,
//! applied element by element as [`pass::rewrite`](super::pass::rewrite) reads it.

use super::atom03::{self, Rename};
use super::detect::base_is_usable;
use super::pass::{ATOM, Attr, Body, Element, Ns, Rules, Start, start_tag};
use super::rss1;
use super::text::{self, Plan};

/// What the root element says a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Atom 1.0
    Atom,
    /// Atom 0.3
    Atom03,
    /// RSS 0.9x or 2.0
    Rss,
    /// RSS 1.0 or 0.90
    Rdf,
}

/// An element whose content is being collected, and what it becomes.
#[derive(Debug)]
enum Capture {
    /// A text construct whose content is base64, decoded under `name` as `kind`.
    Base64 {
        name: String,
        attrs: Vec<Attr>,
        kind: &'static str,
    },
    /// A Media RSS `title` or `description`: left out when empty.
    MediaText { name: String, attrs: Vec<Attr> },
    /// An Atom `content` with a `src`: either empty, or its content is kept.
    ContentSrc { name: String, attrs: Vec<Attr> },
    /// An RSS 1.0 item's `link`, whose text tells whether the item has one.
    Link { name: String, attrs: Vec<Attr> },
}

pub struct Repair {
    kind: Kind,
    /// Local names of the elements open around the one being read.
    ancestors: Vec<String>,
    atom03: atom03::Scope,
    capture: Option<Capture>,
    pub items: rss1::Items,
    /// Whether anything was rewritten.
    pub changed: bool,
}

impl Repair {
    pub fn new(kind: Kind) -> Repair {
        Repair {
            kind,
            ancestors: Vec::new(),
            atom03: atom03::Scope::default(),
            capture: None,
            items: rss1::Items::default(),
            changed: false,
        }
    }

    /// Whether feed-rs reads `element` as an Atom element.
    fn is_atom(&self, element: &Element) -> bool {
        match self.kind {
            Kind::Atom | Kind::Atom03 => matches!(element.ns, Ns::Atom | Ns::Atom03 | Ns::None),
            Kind::Rss | Kind::Rdf => matches!(element.ns, Ns::Atom | Ns::Atom03),
        }
    }

    /// `element`'s attributes, with those feed-rs cannot take fixed; whether
    /// any was.
    fn attributes(&self, element: &Element) -> (Vec<Attr>, bool) {
        let mut attrs = element.attrs.clone();
        // An `xml:base` that is no URL (`http://[x`) makes feed-rs reject the
        // whole document: it costs only itself.
        attrs.retain(|a| a.name != "xml:base" || base_is_usable(&a.value));
        let mut fixed = attrs.len() != element.attrs.len();
        for a in &mut attrs {
            // The Atom 0.3 namespace, declared anywhere, becomes Atom 1.0's.
            let declaration = a.name == "xmlns" || a.name.starts_with("xmlns:");
            if self.kind == Kind::Atom03 && declaration && Ns::of(&a.value) == Ns::Atom03 {
                a.value = ATOM.to_string();
                fixed = true;
            }
            // `<generator url="...">` in Atom 0.3 is Atom 1.0's `uri`.
            if self.kind == Kind::Atom03 && element.local() == "generator" && a.name == "url" {
                a.name = "uri".to_string();
                fixed = true;
            }
        }
        (attrs, fixed)
    }

    /// What becomes of an Atom text construct `name`, given its attributes.
    /// `fixed`: whether the name or attributes were already changed.
    fn text_construct(
        &mut self,
        element: &Element,
        name: String,
        attrs: Vec<Attr>,
        fixed: bool,
    ) -> Start {
        let type_attr = element.attr("type");
        let mode = element.attr("mode");
        if element.local() == "content" && element.attr("src").is_some() {
            self.capture = Some(Capture::ContentSrc { name, attrs });
            return Start::Capture;
        }
        match text::plan(type_attr, mode, self.kind == Kind::Atom03) {
            Plan::Keep if fixed => Start::Rewrite { name, attrs },
            Plan::Keep => Start::Keep,
            Plan::Type(kind) => {
                self.changed = true;
                Start::Rewrite {
                    name,
                    attrs: text::retyped(&attrs, kind),
                }
            }
            Plan::Base64(kind) => {
                self.changed = true;
                self.capture = Some(Capture::Base64 { name, attrs, kind });
                Start::Capture
            }
            Plan::Unwrap => {
                self.changed = true;
                Start::Unwrap
            }
        }
    }
}

/// The whole element: start tag, content as written, end tag.
fn whole(name: &str, attrs: &[Attr], body: &Body) -> String {
    format!("{}{}</{name}>", start_tag(name, attrs, false), body.raw)
}

impl Rules for Repair {
    fn start(&mut self, element: &Element) -> Start {
        self.ancestors.truncate(element.depth.saturating_sub(1));
        let parent = self.ancestors.last().cloned();
        self.ancestors.push(element.local().to_string());
        let (attrs, mut fixed) = self.attributes(element);
        let mut name = element.name.clone();
        let atom = self.is_atom(element);
        if self.kind == Kind::Atom03 && atom {
            match self.atom03.rename(element.local(), parent.as_deref()) {
                Rename::Same => {}
                Rename::To(local) => {
                    name = element.sibling_name(local);
                    fixed = true;
                }
                Rename::Drop => {
                    self.changed = true;
                    return Start::Drop;
                }
            }
        }
        let local = name.rsplit(':').next().unwrap_or(&name);
        self.changed |= fixed;
        if atom && ["title", "subtitle", "summary", "rights", "content"].contains(&local) {
            return self.text_construct(element, name, attrs, fixed);
        }
        // `<media:title>` and `<media:description>`, in an item or a group.
        if element.ns == Ns::Media && matches!(local, "title" | "description") {
            let mut attrs = attrs;
            if let Some(kind) = text::media_type_fix(element.attr("type")) {
                attrs.retain(|a| a.name != "type");
                attrs.push(Attr::new("type", kind));
                self.changed = true;
            }
            self.capture = Some(Capture::MediaText { name, attrs });
            return Start::Capture;
        }
        if self.kind == Kind::Rdf && self.items.start(element) {
            self.capture = Some(Capture::Link { name, attrs });
            return Start::Capture;
        }
        if fixed {
            Start::Rewrite { name, attrs }
        } else {
            Start::Keep
        }
    }

    fn end(&mut self, element: &Element) -> Option<String> {
        if self.kind != Kind::Rdf {
            return None;
        }
        let added = self.items.end(element);
        self.changed |= added.is_some();
        added
    }

    fn finish(&mut self, element: &Element, body: Body) -> String {
        match self.capture.take() {
            Some(Capture::Base64 { name, attrs, kind }) => {
                text::decoded(&name, &attrs, kind, &body)
            }
            Some(Capture::MediaText { name, attrs }) => {
                if body.is_empty() {
                    // feed-rs rejects the document for an empty one.
                    self.changed = true;
                    String::new()
                } else {
                    whole(&name, &attrs, &body)
                }
            }
            Some(Capture::ContentSrc { name, mut attrs }) => {
                if !body.elements && body.text.trim().is_empty() {
                    // Out-of-line content (RFC 4287 §4.1.3.2); a `type` that is
                    // no media type makes feed-rs reject the document.
                    let valid = element
                        .attr("type")
                        .is_none_or(|t| text::looks_like_media_type(&t.to_ascii_lowercase()));
                    if !valid {
                        attrs.retain(|a| a.name != "type");
                        self.changed = true;
                    }
                    return start_tag(&name, &attrs, true);
                }
                // Content with a `src` must be empty, and feed-rs rejects the
                // document when it is not; what it holds is worth more to a
                // reader than a link, so the `src` goes.
                self.changed = true;
                attrs.retain(|a| a.name != "src");
                let type_attr = attrs
                    .iter()
                    .find(|a| a.name == "type")
                    .map(|a| a.value.clone());
                match text::plan(
                    type_attr.as_deref(),
                    element.attr("mode"),
                    self.kind == Kind::Atom03,
                ) {
                    Plan::Keep | Plan::Unwrap => whole(&name, &attrs, &body),
                    Plan::Type(kind) => whole(&name, &text::retyped(&attrs, kind), &body),
                    Plan::Base64(kind) => text::decoded(&name, &attrs, kind, &body),
                }
            }
            Some(Capture::Link { name, attrs }) => {
                self.items.link(&body.text);
                whole(&name, &attrs, &body)
            }
            None => body.raw,
        }
    }
}
