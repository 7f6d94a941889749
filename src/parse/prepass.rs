//! Fixes made to a document's bytes before feed-rs reads them: the encoding it is
//! really in, and constructs that make the XML reader fail or panic.

use std::borrow::Cow;

/// The document as UTF-8 (or as the single-byte encoding its prolog rightly
/// declares), with constructs the XML reader cannot take disarmed.
pub fn prepare(bytes: &[u8]) -> Cow<'_, [u8]> {
    match late_declarations_disarmed(bytes) {
        Cow::Borrowed(b) => utf8_despite_prolog(b),
        Cow::Owned(b) => Cow::Owned(utf8_despite_prolog(&b).into_owned()),
    }
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

/// A prolog that declares a single-byte encoding over bytes that are valid UTF-8
/// is wrong (such text is almost never valid UTF-8 by chance), so the document is
/// read as UTF-8, as browsers and Miniflux do.
pub fn utf8_despite_prolog(bytes: &[u8]) -> Cow<'_, [u8]> {
    let head = &bytes[..bytes.len().min(256)];
    let Some(prolog_end) = head.windows(2).position(|w| w == b"?>") else {
        return Cow::Borrowed(bytes);
    };
    let prolog = String::from_utf8_lossy(&head[..prolog_end]).to_ascii_lowercase();
    let Some(at) = prolog.find("encoding") else {
        return Cow::Borrowed(bytes);
    };
    let declared = prolog[at + "encoding".len()..]
        .trim_start_matches([' ', '=', '"', '\''])
        .split(['"', '\'', ' '])
        .next()
        .unwrap_or_default()
        .to_string();
    if declared.is_empty() || declared == "utf-8" || declared == "utf8" {
        return Cow::Borrowed(bytes);
    }
    if std::str::from_utf8(bytes).is_err() {
        return Cow::Borrowed(bytes);
    }
    let rest = &bytes[prolog_end..];
    let mut fixed = Vec::with_capacity(bytes.len());
    fixed.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"");
    fixed.extend_from_slice(rest);
    Cow::Owned(fixed)
}
