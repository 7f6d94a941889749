//! Fixes made to a document's bytes before feed-rs reads them: the encoding it is
//! really in, and constructs that make the XML reader fail or panic.

mod charset;

use std::borrow::Cow;
use std::sync::LazyLock;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub use charset::{utf8_despite_prolog, utf8_from_wide, valid_utf8};

/// The document as UTF-8 (or as the single-byte encoding its prolog rightly
/// declares), with constructs the XML reader cannot take disarmed.
pub fn prepare(bytes: &[u8]) -> Cow<'_, [u8]> {
    let bytes = then(Cow::Borrowed(bytes), utf8_from_wide);
    let bytes = then(bytes, space_before_prolog_dropped);
    let bytes = then(bytes, late_declarations_disarmed);
    let bytes = then(bytes, utf8_despite_prolog);
    then(bytes, valid_utf8)
}

/// `step` applied to `bytes`, copying only when the step changes them.
fn then<'a>(bytes: Cow<'a, [u8]>, step: fn(&[u8]) -> Cow<'_, [u8]>) -> Cow<'a, [u8]> {
    match bytes {
        Cow::Borrowed(b) => step(b),
        Cow::Owned(b) => match step(&b) {
            Cow::Borrowed(_) => Cow::Owned(b),
            Cow::Owned(fixed) => Cow::Owned(fixed),
        },
    }
}

/// White space before the XML declaration, which must come first (XML 1.0 §2.8):
/// a few bytes of it are read past, but past the XML reader's look-ahead the
/// declaration is no longer recognized and the document is lost.
pub fn space_before_prolog_dropped(bytes: &[u8]) -> Cow<'_, [u8]> {
    let mark = if bytes.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    let space = bytes[mark..]
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    if space == 0 || prolog(&bytes[mark + space..]).is_none() {
        return Cow::Borrowed(bytes);
    }
    let mut fixed = bytes[..mark].to_vec();
    fixed.extend_from_slice(&bytes[mark + space..]);
    Cow::Owned(fixed)
}

/// An XML declaration is only allowed at the very start; one further in (seen in
/// feeds pasted together) makes the XML reader try to switch encodings mid-stream
/// and panic. Such late declarations are turned into harmless processing
/// instructions (`<?xml` -> `<?_ml`) first.
pub fn late_declarations_disarmed(bytes: &[u8]) -> Cow<'_, [u8]> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF))
        .unwrap_or(0);
    let is_declaration = |at: usize| {
        bytes.len() > at + 5
            && bytes[at..at + 2] == *b"<?"
            && bytes[at + 2..at + 5].eq_ignore_ascii_case(b"xml")
            && (bytes[at + 5].is_ascii_whitespace() || bytes[at + 5] == b'?')
    };
    let late: Vec<usize> = memchr::memmem::find_iter(bytes, b"<?")
        .filter(|i| *i > start && is_declaration(*i))
        .collect();
    if late.is_empty() {
        return Cow::Borrowed(bytes);
    }
    let mut fixed = bytes.to_vec();
    for at in late {
        fixed[at + 2] = b'_';
    }
    Cow::Owned(fixed)
}

/// The XML declaration at the start of a document (after a UTF-8 byte order mark
/// and white space), as byte offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prolog {
    /// Where `<?xml` starts.
    pub start: usize,
    /// Just past the closing `?>`.
    pub end: usize,
    /// The value of its `encoding` pseudo-attribute, lowercased, when it has one.
    pub encoding: Option<String>,
}

/// The document's XML declaration, when it starts with one.
pub fn prolog(bytes: &[u8]) -> Option<Prolog> {
    let start = if bytes.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    let start = start
        + bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
    let head = &bytes[start..bytes.len().min(start + 512)];
    if head.len() < 6 || !head[..5].eq_ignore_ascii_case(b"<?xml") || !head[5].is_ascii_whitespace()
    {
        return None;
    }
    let close = memchr::memmem::find(head, b"?>")?;
    let text = String::from_utf8_lossy(&head[..close]).to_ascii_lowercase();
    let encoding = text.find("encoding").and_then(|at| {
        let value = text[at + "encoding".len()..]
            .trim_start()
            .strip_prefix('=')?
            .trim_start();
        let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        let value = &value[1..];
        Some(value[..value.find(quote)?].trim().to_string())
    });
    Some(Prolog {
        start,
        end: start + close + 2,
        encoding,
    })
}

/// `bytes` with its XML declaration (if any) replaced by one that says UTF-8;
/// `body` is the document from just past the old declaration on.
pub fn with_utf8_prolog(body: &[u8]) -> Vec<u8> {
    const DECLARATION: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    let mut fixed = Vec::with_capacity(DECLARATION.len() + body.len());
    fixed.extend_from_slice(DECLARATION);
    fixed.extend_from_slice(body);
    fixed
}

/// The document with a space between a multi-byte character and an email
/// address right after it in an RSS contact (`<author>`, `<managingEditor>`,
/// `<webMaster>`), where feed-rs's name-and-address split would cut the
/// character in two and panic; `None` when there is no such place.
pub fn contacts_spaced(bytes: &[u8]) -> Option<Vec<u8>> {
    static CONTACT: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(
            r"(?-u)(<(?i:author|managingEditor|webMaster)(?:\s[^>]*)?>[^<]*?[\x80-\xFF])([A-Za-z0-9._%+-]+@)",
        )
        .expect("valid regex")
    });
    let fixed = CONTACT.replace_all(bytes, &b"${1} ${2}"[..]);
    match fixed {
        Cow::Owned(fixed) => Some(fixed),
        Cow::Borrowed(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prolog_and_its_encoding_are_found() {
        let p =
            prolog(b"\xEF\xBB\xBF \n<?xml version='1.0' encoding = 'ISO-8859-1' ?><rss/>").unwrap();
        assert_eq!(p.start, 5);
        assert_eq!(p.encoding.as_deref(), Some("iso-8859-1"));
        assert_eq!(
            &b"\xEF\xBB\xBF \n<?xml version='1.0' encoding = 'ISO-8859-1' ?><rss/>"[p.end..],
            b"<rss/>"
        );
        assert_eq!(
            prolog(b"<?xml version=\"1.0\"?><rss/>").unwrap().encoding,
            None
        );
        assert_eq!(prolog(b"<?xml-stylesheet href=\"a\"?><rss/>"), None);
        assert_eq!(prolog(b"<rss/>"), None);
    }

    #[test]
    fn space_before_the_prolog_is_dropped() {
        let doc = format!("{}<?xml version=\"1.0\"?><rss/>", " \n".repeat(10_000));
        assert_eq!(
            &space_before_prolog_dropped(doc.as_bytes())[..],
            b"<?xml version=\"1.0\"?><rss/>"
        );
        assert!(matches!(
            space_before_prolog_dropped(b"  <rss/>"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn late_declarations_become_processing_instructions() {
        let doc = b"<?xml version=\"1.0\"?><rss><?xml version=\"1.0\"?></rss>";
        assert_eq!(
            &late_declarations_disarmed(doc)[..],
            b"<?xml version=\"1.0\"?><rss><?_ml version=\"1.0\"?></rss>"
        );
    }
}
