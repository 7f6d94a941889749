//! People written as one string, as RSS `<author>` (an email address by RSS 2.0,
//! often `email (Name)`), `<dc:creator>` and `<itunes:author>` carry them:
//! `Name <email>`, `email (Name)`, `Name (email)`, a bare email or a name.

/// The name and email address in `raw`, each when present.
pub fn parse_contact(raw: &str) -> (Option<String>, Option<String>) {
    let raw = raw.trim();
    // `Name <email>`, `"Name" <email>`, `<email>`
    if let Some(inner) = raw.strip_suffix('>')
        && let Some(open) = inner.rfind('<')
        && let Some(email) = email(&inner[open + 1..])
    {
        return (name(&inner[..open]), Some(email));
    }
    // `email (Name)` and `Name (email)`
    if let Some(inner) = raw.strip_suffix(')')
        && let Some(open) = inner.find('(')
    {
        let (outside, inside) = (&inner[..open], &inner[open + 1..]);
        if let Some(address) = email(outside) {
            return (name(inside), Some(address));
        }
        if let Some(address) = email(inside) {
            return (name(outside), Some(address));
        }
    }
    match email(raw) {
        Some(address) => (None, Some(address)),
        None => (name(raw), None),
    }
}

/// feed-rs's reading of a text contact made right: it splits off the email
/// address but leaves the name in the parentheses or quotes around it
/// (`email (Name)` gives `(Name)`), and misses addresses it does not know as such.
pub fn tidy_contact(
    name: Option<String>,
    email: Option<String>,
) -> (Option<String>, Option<String>) {
    match email {
        None => name.map_or((None, None), |n| parse_contact(&n)),
        Some(address) => (
            name.as_deref().and_then(self::name),
            self::email(&address).or(Some(address)),
        ),
    }
}

/// `text` when it is one email address, without a `mailto:` before it.
fn email(text: &str) -> Option<String> {
    let text = text.trim();
    let text = text
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("mailto:"))
        .map_or(text, |_| &text[7..]);
    let (local, domain) = text.split_once('@')?;
    let well_formed = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !text.contains(|c: char| c.is_whitespace() || "<>()[]\",;".contains(c));
    well_formed.then(|| text.to_string())
}

/// A name without the brackets or quotes written around it; none when nothing
/// is left, or when all there is is an email address.
fn name(text: &str) -> Option<String> {
    const PAIRS: [(char, char); 5] = [('(', ')'), ('<', '>'), ('[', ']'), ('"', '"'), ('\'', '\'')];
    let mut text = text.trim();
    // Brackets around the whole name go, and so do strays left from a split;
    // brackets inside a name ("Ann (the editor)") stay.
    while let Some(stripped) = PAIRS.iter().find_map(|&(open, close)| {
        let inner = text.strip_prefix(open).and_then(|t| t.strip_suffix(close));
        let stray_open = text.strip_prefix(open).filter(|t| !t.contains(close));
        let stray_close = text.strip_suffix(close).filter(|t| !t.contains(open));
        inner.or(stray_open).or(stray_close)
    }) {
        text = stripped.trim();
    }
    (!text.is_empty() && email(text).is_none()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: Option<&str>, email: Option<&str>) -> (Option<String>, Option<String>) {
        (name.map(String::from), email.map(String::from))
    }

    #[test]
    fn every_way_of_writing_a_contact_gives_its_name_and_email() {
        let cases = [
            (
                "ann@example.org (Ann Example)",
                Some("Ann Example"),
                Some("ann@example.org"),
            ),
            ("ann@example.org(Ann)", Some("Ann"), Some("ann@example.org")),
            (
                "Ann Example <ann@example.org>",
                Some("Ann Example"),
                Some("ann@example.org"),
            ),
            (
                "\"Ann Example\" <ann@example.org>",
                Some("Ann Example"),
                Some("ann@example.org"),
            ),
            (
                "Ann Example (ann@example.org)",
                Some("Ann Example"),
                Some("ann@example.org"),
            ),
            ("<ann@example.org>", None, Some("ann@example.org")),
            ("ann@example.org", None, Some("ann@example.org")),
            ("mailto:ann@example.org", None, Some("ann@example.org")),
            ("Ann <ann@localhost>", Some("Ann"), Some("ann@localhost")),
            ("Ann Example", Some("Ann Example"), None),
            ("Ann (the editor)", Some("Ann (the editor)"), None),
            ("  ", None, None),
        ];
        for (raw, name, email) in cases {
            assert_eq!(parse_contact(raw), pair(name, email), "{raw:?}");
        }
    }

    #[test]
    fn what_feed_rs_splits_is_tidied() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            tidy_contact(s("(Ann Example)"), s("ann@example.org")),
            pair(Some("Ann Example"), Some("ann@example.org"))
        );
        assert_eq!(
            tidy_contact(s("Ann)"), s("ann@example.org")),
            pair(Some("Ann"), Some("ann@example.org"))
        );
        assert_eq!(
            tidy_contact(s("Ann <ann@localhost>"), None),
            pair(Some("Ann"), Some("ann@localhost"))
        );
        assert_eq!(tidy_contact(None, None), pair(None, None));
    }
}
