//! The character encoding a document is really in, brought to one the XML reader
//! takes: UTF-16 and UTF-32 transcoded to UTF-8, prologs that lie overruled, and
//! bytes that are not the UTF-8 they are read as made valid.

use std::borrow::Cow;

use encoding_rs::{UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::{prolog, with_utf8_prolog};

/// The byte order of a UTF-16 or UTF-32 document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Big,
    Little,
}

/// An encoding in which ASCII characters are not single bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wide {
    Utf16(Order),
    Utf32(Order),
}

/// The wide encoding a document is in, and the length of its byte order mark:
/// by the mark when there is one, else by the pattern of zero bytes around its
/// first two characters, which are ASCII in any XML or JSON document (XML 1.0
/// Appendix F).
fn wide_encoding(bytes: &[u8]) -> Option<(Wide, usize)> {
    use Order::*;
    let ascii = |b: u8| b != 0 && b.is_ascii();
    Some(match *bytes {
        [0x00, 0x00, 0xFE, 0xFF, ..] => (Wide::Utf32(Big), 4),
        [0xFF, 0xFE, 0x00, 0x00, ..] => (Wide::Utf32(Little), 4),
        [0xFE, 0xFF, ..] => (Wide::Utf16(Big), 2),
        [0xFF, 0xFE, ..] => (Wide::Utf16(Little), 2),
        [0, 0, 0, a, ..] if ascii(a) => (Wide::Utf32(Big), 0),
        [a, 0, 0, 0, ..] if ascii(a) => (Wide::Utf32(Little), 0),
        [0, a, 0, b, ..] if ascii(a) && ascii(b) => (Wide::Utf16(Big), 0),
        [a, 0, b, 0, ..] if ascii(a) && ascii(b) => (Wide::Utf16(Little), 0),
        _ => return None,
    })
}

/// UTF-32 decoded by hand (encoding_rs has no UTF-32); a unit that is no
/// character, or a partial one at the end, becomes U+FFFD.
fn decode_utf32(bytes: &[u8], order: Order) -> String {
    let units = bytes.chunks_exact(4);
    let partial = !units.remainder().is_empty();
    let mut text: String = units
        .map(|unit| {
            let unit = [unit[0], unit[1], unit[2], unit[3]];
            let code = match order {
                Order::Big => u32::from_be_bytes(unit),
                Order::Little => u32::from_le_bytes(unit),
            };
            char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect();
    if partial {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    text
}

/// A UTF-16 or UTF-32 document (either byte order, with or without a byte order
/// mark) transcoded to UTF-8, its XML declaration rewritten to say so. The XML
/// reader panics on big-endian UTF-16 and cannot read UTF-32 at all.
pub fn utf8_from_wide(bytes: &[u8]) -> Cow<'_, [u8]> {
    let Some((wide, mark)) = wide_encoding(bytes) else {
        return Cow::Borrowed(bytes);
    };
    let body = &bytes[mark..];
    let text = match wide {
        Wide::Utf16(Order::Big) => UTF_16BE.decode_without_bom_handling(body).0,
        Wide::Utf16(Order::Little) => UTF_16LE.decode_without_bom_handling(body).0,
        Wide::Utf32(order) => Cow::Owned(decode_utf32(body, order)),
    };
    let text = text.as_bytes();
    Cow::Owned(match prolog(text) {
        Some(p) => with_utf8_prolog(&text[p.end..]),
        None => text.to_vec(),
    })
}

/// Whether an encoding label names UTF-16 or UTF-32, which a document whose
/// declaration could be read byte by byte cannot be in.
fn is_wide_label(label: &str) -> bool {
    [
        "utf-16",
        "utf16",
        "utf-32",
        "utf32",
        "ucs-2",
        "ucs-4",
        "iso-10646-ucs",
    ]
    .iter()
    .any(|wide| label.starts_with(wide))
}

/// A prolog that declares a single-byte encoding over bytes that are valid UTF-8
/// is wrong (such text is almost never valid UTF-8 by chance), so the document is
/// read as UTF-8, as browsers and Miniflux do. A prolog that declares UTF-16 or
/// UTF-32 over a document in single bytes (its declaration was read as ASCII) is
/// wrong too, and would make the XML reader panic.
pub fn utf8_despite_prolog(bytes: &[u8]) -> Cow<'_, [u8]> {
    let Some(p) = prolog(bytes) else {
        return Cow::Borrowed(bytes);
    };
    let Some(declared) = p.encoding.as_deref() else {
        return Cow::Borrowed(bytes);
    };
    if declared.is_empty() || declared == "utf-8" || declared == "utf8" {
        return Cow::Borrowed(bytes);
    }
    if !is_wide_label(declared) && std::str::from_utf8(bytes).is_err() {
        return Cow::Borrowed(bytes);
    }
    Cow::Owned(with_utf8_prolog(&bytes[p.end..]))
}

/// A document read as UTF-8 (it says so, says nothing, or names an encoding
/// nobody knows) whose bytes are not valid UTF-8, made valid before the XML
/// reader sees it: a reader that meets an invalid byte deep in a document stops
/// there and loses the feed.
///
/// A document that declares UTF-8 keeps its word: the invalid bytes become
/// U+FFFD, as in Miniflux and browsers. One that declares nothing is guessed at:
/// UTF-8 with stray bytes when it holds more valid multi-byte characters than
/// invalid bytes, else windows-1252 (the superset of ISO-8859-1 that browsers
/// read Latin-1 labels as).
pub fn valid_utf8(bytes: &[u8]) -> Cow<'_, [u8]> {
    let declared = prolog(bytes).and_then(|p| p.encoding);
    let declared_encoding = declared
        .as_deref()
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()));
    if declared_encoding.is_some_and(|e| e != UTF_8) || std::str::from_utf8(bytes).is_ok() {
        return Cow::Borrowed(bytes);
    }
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    let text = if declared_encoding == Some(UTF_8) || multibyte > invalid {
        String::from_utf8_lossy(bytes)
    } else {
        WINDOWS_1252.decode_without_bom_handling(bytes).0
    };
    let text = text.as_bytes();
    Cow::Owned(match prolog(text) {
        // A label nobody knows (or UTF-8 itself) is replaced by the truth.
        Some(p) if p.encoding.is_some() => with_utf8_prolog(&text[p.end..]),
        _ => text.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<rss><title>Café €</title></rss>";
    const UTF8_DOC: &str =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss><title>Café €</title></rss>";

    fn utf16(text: &str, order: Order, mark: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for unit in std::iter::once(0xFEFF)
            .filter(|_| mark)
            .chain(text.encode_utf16())
        {
            out.extend(match order {
                Order::Big => unit.to_be_bytes(),
                Order::Little => unit.to_le_bytes(),
            });
        }
        out
    }

    fn utf32(text: &str, order: Order, mark: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for c in std::iter::once('\u{feff}')
            .filter(|_| mark)
            .chain(text.chars())
        {
            out.extend(match order {
                Order::Big => (c as u32).to_be_bytes(),
                Order::Little => (c as u32).to_le_bytes(),
            });
        }
        out
    }

    #[test]
    fn wide_documents_become_utf8_with_a_prolog_that_says_so() {
        for order in [Order::Big, Order::Little] {
            for mark in [true, false] {
                for doc in [utf16(DOC, order, mark), utf32(DOC, order, mark)] {
                    let fixed = utf8_from_wide(&doc);
                    assert_eq!(
                        std::str::from_utf8(&fixed).unwrap(),
                        UTF8_DOC,
                        "{order:?} {mark}"
                    );
                }
            }
        }
        // Without a prolog, the text is transcoded as it is.
        let bare = utf16("<rss><title>é</title></rss>", Order::Big, false);
        assert_eq!(
            &utf8_from_wide(&bare)[..],
            "<rss><title>é</title></rss>".as_bytes()
        );
    }

    #[test]
    fn broken_wide_units_become_replacement_characters() {
        let mut doc = utf32("<a>x</a>", Order::Little, false);
        doc.extend_from_slice(&0x11_0000u32.to_le_bytes());
        doc.push(b'!');
        assert_eq!(
            &utf8_from_wide(&doc)[..],
            "<a>x</a>\u{fffd}\u{fffd}".as_bytes()
        );
        let mut doc = utf16("<a>x</a>", Order::Big, false);
        doc.push(0);
        assert_eq!(&utf8_from_wide(&doc)[..], "<a>x</a>\u{fffd}".as_bytes());
    }

    #[test]
    fn byte_documents_are_left_to_their_prolog() {
        for doc in [
            UTF8_DOC.as_bytes(),
            b"\xEF\xBB\xBF<rss/>",
            b"{\"items\":[]}",
            b"",
            b"<",
        ] {
            assert!(matches!(utf8_from_wide(doc), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn a_wide_label_on_a_byte_document_is_overruled() {
        let fixed =
            utf8_despite_prolog(b"<?xml version=\"1.0\" encoding=\"utf-16\"?><rss>\xE9</rss>");
        assert_eq!(
            &fixed[..],
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss>\xE9</rss>"
        );
    }

    #[test]
    fn undeclared_latin1_is_read_as_windows_1252() {
        let fixed = valid_utf8(b"<rss><title>Caf\xE9 \x80</title></rss>");
        assert_eq!(
            std::str::from_utf8(&fixed).unwrap(),
            "<rss><title>Café €</title></rss>"
        );
    }

    #[test]
    fn utf8_with_a_stray_byte_keeps_its_characters() {
        assert!(matches!(
            valid_utf8("<rss>Café</rss>".as_bytes()),
            Cow::Borrowed(_)
        ));
        let mut doc = "<rss><title>Café ½ ".as_bytes().to_vec();
        doc.extend_from_slice(b"\xFF</title></rss>");
        assert_eq!(
            std::str::from_utf8(&valid_utf8(&doc)).unwrap(),
            "<rss><title>Café ½ \u{fffd}</title></rss>"
        );
    }

    #[test]
    fn declared_utf8_keeps_its_word() {
        let fixed = valid_utf8(b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss>Caf\xE9</rss>");
        assert_eq!(
            std::str::from_utf8(&fixed).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss>Caf\u{fffd}</rss>"
        );
        // A single-byte encoding the reader knows is left to it.
        let latin = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss>Caf\xE9</rss>";
        assert!(matches!(valid_utf8(latin), Cow::Borrowed(_)));
    }
}
