//! The document's root element, found with a cheap look at its first bytes, and
//! the fixes that only touch its start tag: they are spliced in without reading
//! the rest of the document.

use quick_xml::escape::unescape;
use quick_xml::events::BytesStart;

use super::pass::{Attr, Ns};

/// The root element's start tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// Where its `<` is.
    pub start: usize,
    /// Just past its `>`.
    pub end: usize,
    /// Its name as written.
    pub name: String,
    /// Its attributes, values as written (escaped).
    pub attrs: Vec<Attr>,
}

impl Root {
    pub fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// The value of an attribute, unescaped.
    pub fn attr(&self, name: &str) -> Option<String> {
        let a = self.attrs.iter().find(|a| a.name == name)?;
        Some(unescape(&a.value).map_or_else(|_| a.value.clone(), |v| v.into_owned()))
    }

    /// The namespace URI the root element is in, as its own declarations say.
    pub fn namespace(&self) -> Option<String> {
        match self.name.rsplit_once(':') {
            Some((prefix, _)) => self.attr(&format!("xmlns:{prefix}")),
            None => self.attr("xmlns"),
        }
    }

    pub fn ns(&self) -> Ns {
        self.namespace().map_or(Ns::None, |uri| Ns::of(&uri))
    }

    /// `doc` with the root's start tag written from `attrs` instead.
    pub fn spliced(&self, doc: &[u8], attrs: &[Attr]) -> Vec<u8> {
        let mut tag = format!("<{}", self.name);
        for a in attrs {
            let quote = if a.value.contains('"') { '\'' } else { '"' };
            tag.push_str(&format!(" {}={quote}{}{quote}", a.name, a.value));
        }
        tag.push('>');
        let mut out = Vec::with_capacity(doc.len() + 32);
        out.extend_from_slice(&doc[..self.start]);
        out.extend_from_slice(tag.as_bytes());
        out.extend_from_slice(&doc[self.end..]);
        out
    }
}

/// Bytes looked at to find the root element; a prolog, comments and a doctype
/// rarely take more.
const HEAD: usize = 64 * 1024;

/// The root element's start tag: the first `<` that opens an element, past the
/// XML declaration, processing instructions, comments and a doctype.
pub fn find_root(doc: &[u8]) -> Option<Root> {
    let head = &doc[..doc.len().min(HEAD)];
    let mut at = 0;
    loop {
        at += memchr::memchr(b'<', &head[at..])?;
        let rest = &head[at..];
        let skip_to = |end: &[u8]| memchr::memmem::find(rest, end).map(|i| i + end.len());
        if rest.starts_with(b"<?") {
            at += skip_to(b"?>")?;
        } else if rest.starts_with(b"<!--") {
            at += skip_to(b"-->")?;
        } else if rest.starts_with(b"<!") {
            at += doctype_len(rest)?;
        } else {
            break;
        }
    }
    let len = tag_len(&head[at..])?;
    let inner = std::str::from_utf8(&head[at + 1..at + len - 1]).ok()?;
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    let name_len = inner
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(inner.len());
    let start = BytesStart::from_content(inner, name_len);
    let attrs = start
        .attributes()
        .filter_map(Result::ok)
        .map(|a| Attr::new(a.key.as_ref(), &a.value))
        .collect();
    Some(Root {
        start: at,
        end: at + len,
        name: inner[..name_len].to_string(),
        attrs,
    })
}

/// Length of a `<!DOCTYPE ...>` (with an internal subset in brackets) or other
/// `<!...>` declaration.
fn doctype_len(rest: &[u8]) -> Option<usize> {
    markup_len(rest, true)
}

/// Length of a start tag, up to the `>` that is not inside a quoted value.
fn tag_len(rest: &[u8]) -> Option<usize> {
    markup_len(rest, false)
}

/// Length up to the `>` that is inside no quoted value and, when `subset`,
/// inside no `[...]` (a doctype's internal subset).
fn markup_len(rest: &[u8], subset: bool) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    for (i, b) in rest.iter().enumerate() {
        match (quote, b) {
            (Some(q), _) if *b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(*b),
            (None, b'[') if subset => depth += 1,
            (None, b']') if subset => depth = depth.saturating_sub(1),
            (None, b'>') if depth == 0 => return Some(i + 1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_found_past_the_prolog() {
        let doc = b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<?xml-stylesheet href=\"s.xsl\"?>\
            <!-- <feed> --><!DOCTYPE rss [<!ENTITY a \"<b>\">]>\n\
            <rss version='0.93' xmlns=\"http://backend.userland.com/rss2\" a=\"x > y\"><channel/></rss>";
        let root = find_root(doc).unwrap();
        assert_eq!(root.name, "rss");
        assert_eq!(root.attr("version").as_deref(), Some("0.93"));
        assert_eq!(root.attr("a").as_deref(), Some("x > y"));
        assert_eq!(&doc[root.end..], b"<channel/></rss>");
        let spliced = root.spliced(doc, &[Attr::new("version", "2.0")]);
        assert!(spliced.ends_with(b"]>\n<rss version=\"2.0\"><channel/></rss>"));
    }

    #[test]
    fn the_root_namespace_follows_its_prefix() {
        let doc = b"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
            xmlns=\"http://purl.org/rss/1.0/\"/>";
        let root = find_root(doc).unwrap();
        assert_eq!((root.local(), root.ns()), ("RDF", Ns::Rdf));
        assert_eq!(
            find_root(b"<feed xmlns='http://purl.org/atom/ns#'>")
                .unwrap()
                .ns(),
            Ns::Atom03
        );
        assert_eq!(find_root(b"<rss>").unwrap().ns(), Ns::None);
    }

    #[test]
    fn documents_without_a_root_have_none() {
        for doc in [
            &b""[..],
            b"{\"a\": 1}",
            b"<?xml version=\"1.0\"",
            b"<!-- open",
            b"<rss a=\"1",
        ] {
            assert_eq!(find_root(doc), None);
        }
    }
}
