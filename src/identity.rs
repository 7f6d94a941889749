//! Item identity: the key an item is stored under within its source, and the
//! canonical form of a link that tells the same story apart across sources,
//! and the site a source belongs to. Pure functions only.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};
use url::Url;

use crate::model::{IdentifiedItem, IdentityMode, Item};

pub use crate::model::{publisher_entry_id, site_of};

/// Query parameters that only track where a reader came from; they never change
/// which page a link names.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "ref",
    "ref_src",
    "ref_url",
    "referrer",
    "_hsenc",
    "_hsmi",
    "__hssc",
    "__hstc",
    "__hsfp",
    "hsctatracking",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "vero_conv",
    "wt_mc",
    "wt.mc_id",
    "s_kwcid",
    "ncid",
    "cmpid",
    "_ga",
    "_gl",
];

fn is_tracking_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || name.starts_with("pk_") || TRACKING_PARAMS.contains(&name.as_str())
}

/// Whether one `name=value` piece of a query only tracks the reader. The name is
/// compared with its escapes of unreserved characters decoded, so `utm%5Fsource`
/// is `utm_source`. The canonical form and published links both ask this.
fn is_tracking_pair(pair: &str) -> bool {
    let name = pair.split('=').next().unwrap_or(pair);
    is_tracking_param(&normalize_percent(name))
}

/// A link as tributary publishes it: the publisher's own, without the query
/// parameters that only track readers (those [`canonical_url`] drops). Every
/// other parameter keeps its place and spelling, and so do the scheme, host,
/// path and fragment. A link with nothing to drop, or that is not http(s), comes
/// back unchanged.
pub fn without_tracking(link: &str) -> Cow<'_, str> {
    let is_http = |prefix: &str| {
        link.get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    if !is_http("http://") && !is_http("https://") {
        return Cow::Borrowed(link);
    }
    // The fragment starts at the first '#' (RFC 3986 §3.5); a '?' after it is
    // part of the fragment, not a query.
    let (head, fragment) = link.split_at(link.find('#').unwrap_or(link.len()));
    let Some((address, query)) = head.split_once('?') else {
        return Cow::Borrowed(link);
    };
    if !query.split('&').any(is_tracking_pair) {
        return Cow::Borrowed(link);
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !is_tracking_pair(p))
        .collect();
    let mut out = String::with_capacity(link.len());
    out.push_str(address);
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    out.push_str(fragment);
    Cow::Owned(out)
}

/// The canonical form of a link (SPEC §3): http and https alike, host lowercased
/// without `www.`, default port, fragment and trailing slash dropped, tracking
/// parameters removed, the rest sorted, percent-encoding normalized. Links that are
/// not http(s) URLs come back trimmed but otherwise as given; `None` for empty ones.
pub fn canonical_url(link: &str) -> Option<String> {
    // Canonical means stable: canonicalizing the result again changes nothing.
    // The rules reach a fixed point at once for real links; odd ones (numeric or
    // dotted hosts, found by fuzzing) may take another pass, and links that never
    // settle are kept as written.
    let mut current = canonical_once(link)?;
    for _ in 0..3 {
        let next = canonical_once(&current)?;
        if next == current {
            return Some(current);
        }
        current = next;
    }
    Some(link.trim().to_string())
}

fn canonical_once(link: &str) -> Option<String> {
    let link = link.trim();
    if link.is_empty() {
        return None;
    }
    // Other schemes (tag:, urn:, file:) are kept as written: the URL parser's
    // rewriting of them is not stable (found by fuzzing: a file URL with a
    // drive-like path changed again on a second pass).
    let Ok(url) = Url::parse(link) else {
        return Some(link.to_string());
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Some(link.to_string());
    }
    let host = url.host_str().unwrap_or_default().trim_end_matches('.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    if host.is_empty() {
        // No host left to name a page by (found by fuzzing: "http:%2E/...").
        return Some(link.to_string());
    }
    let mut out = String::with_capacity(link.len());
    out.push_str("https://");
    out.push_str(host);
    if let Some(port) = url.port().filter(|p| *p != 80 && *p != 443) {
        out.push(':');
        out.push_str(&port.to_string());
    }
    let path = normalize_percent(url.path());
    out.push_str(path.trim_end_matches('/'));
    if let Some(query) = url.query() {
        let mut pairs: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| !is_tracking_pair(p))
            .map(normalize_percent)
            .collect();
        pairs.sort();
        pairs.dedup();
        for (i, pair) in pairs.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(pair);
        }
    }
    Some(out)
}

/// Uppercases percent-escapes and decodes those of unreserved characters
/// (RFC 3986 §6.2.2.1-2), so `%7e`, `%7E` and `~` compare equal.
fn normalize_percent(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = &s[i + 1..i + 3];
            let value = u8::from_str_radix(hex, 16).expect("two hex digits");
            if value.is_ascii_alphanumeric() || b"-._~".contains(&value) {
                out.push(value as char);
            } else {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
            i += 3;
        } else if bytes[i] == b'%' {
            // A '%' that starts no escape is a literal one; written escaped, it
            // cannot join the characters after it into an escape on a second pass.
            out.push_str("%25");
            i += 1;
        } else {
            let ch = s[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Share of items with a missing or repeated value above which a document's value of
/// that kind is not trusted as identity (SPEC §3).
const MAX_BAD_SHARE: f64 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Guid,
    Link,
    Content,
}

/// Gives every item of one document its key within the source, following the
/// identity ladder: guid, else canonical link, else a hash of title + published +
/// content. In `auto` mode a document whose guids (then links) are missing or repeat
/// in more than 5% of items starts lower on the ladder. An item without a usable
/// value at its level, or repeating an earlier item's, steps down alone. Items that
/// are the same at every level are one item: the first is kept.
pub fn identify(items: Vec<Item>, mode: IdentityMode) -> Vec<IdentifiedItem> {
    let canonical: Vec<Option<String>> = items
        .iter()
        .map(|i| i.link.as_deref().and_then(canonical_url))
        .collect();
    let start = match mode {
        IdentityMode::Guid => Level::Guid,
        IdentityMode::Link => Level::Link,
        IdentityMode::Content => Level::Content,
        IdentityMode::Auto => {
            if trustworthy(items.iter().map(|i| i.guid.as_deref())) {
                Level::Guid
            } else if trustworthy(canonical.iter().map(Option::as_deref)) {
                Level::Link
            } else {
                Level::Content
            }
        }
    };
    let mut link_counts: HashMap<&str, usize> = HashMap::new();
    for link in canonical.iter().flatten() {
        *link_counts.entry(link.as_str()).or_default() += 1;
    }
    let story_links: Vec<Option<String>> = canonical
        .iter()
        .map(|l| {
            l.as_ref()
                .filter(|l| link_counts[l.as_str()] == 1 && names_a_page(l))
                .cloned()
        })
        .collect();
    let mut seen = HashSet::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for ((item, canonical_link), story_link) in items.into_iter().zip(canonical).zip(story_links) {
        let guid = item.guid.as_deref().filter(|g| !g.trim().is_empty());
        // Each step is computed only when the ones above it gave no key; the
        // content hash reads the whole item.
        let key_at = |level: Level| match level {
            Level::Guid => guid.map(|g| format!("g:{}", g.trim())),
            Level::Link => canonical_link.as_ref().map(|l| format!("l:{l}")),
            Level::Content => Some(format!("h:{}", content_hash(&item))),
        };
        let key = [Level::Guid, Level::Link, Level::Content]
            .into_iter()
            .filter(|level| *level >= start)
            .filter_map(key_at)
            .find(|key| !seen.contains(key));
        let Some(key) = key else {
            continue; // the same item twice in one document
        };
        seen.insert(key.clone());
        out.push(IdentifiedItem {
            key,
            canonical_link,
            story_link,
            item,
        });
    }
    out
}

/// Whether a canonical link names one page rather than a whole site: feeds that
/// point every item at their home page must not fold unrelated stories together.
fn names_a_page(canonical: &str) -> bool {
    match canonical.strip_prefix("https://") {
        Some(rest) => rest.contains(['/', '?']),
        None => true,
    }
}

fn trustworthy<'a>(values: impl Iterator<Item = Option<&'a str>>) -> bool {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut total = 0usize;
    let mut missing = 0usize;
    for v in values {
        total += 1;
        match v.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => *counts.entry(v).or_default() += 1,
            None => missing += 1,
        }
    }
    let repeated: usize = counts.values().filter(|c| **c > 1).sum();
    total > 0 && ((missing + repeated) as f64) <= MAX_BAD_SHARE * total as f64
}

/// Hash of what makes an item itself when it has neither id nor link.
fn content_hash(item: &Item) -> String {
    let mut h = Sha256::new();
    h.update(item.title.as_deref().unwrap_or_default());
    h.update([0]);
    if let Some(p) = item.published.or(item.updated) {
        h.update(p.timestamp().to_le_bytes());
    }
    h.update([0]);
    h.update(
        item.content
            .as_deref()
            .or(item.summary.as_deref())
            .unwrap_or_default(),
    );
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::usable_entry_id;

    #[test]
    fn canonical_url_rules() {
        let cases = [
            // scheme and host case, http == https
            ("HTTP://Example.COM/a", "https://example.com/a"),
            ("http://example.com/a", "https://example.com/a"),
            // www. ignored
            ("https://www.example.com/a", "https://example.com/a"),
            // default ports
            ("https://example.com:443/a", "https://example.com/a"),
            ("http://example.com:80/a", "https://example.com/a"),
            ("https://example.com:8443/a", "https://example.com:8443/a"),
            // fragment and trailing slash
            ("https://example.com/a/#comments", "https://example.com/a"),
            ("https://example.com/", "https://example.com"),
            // tracking parameters
            (
                "https://example.com/a?utm_source=rss&utm_medium=feed&id=3",
                "https://example.com/a?id=3",
            ),
            (
                "https://example.com/a?fbclid=x&gclid=y",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?mc_cid=1&mc_eid=2&ref=hn",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?UTM_Campaign=x",
                "https://example.com/a",
            ),
            // remaining parameters sorted
            (
                "https://example.com/a?b=2&a=1",
                "https://example.com/a?a=1&b=2",
            ),
            // percent-encoding case, unreserved characters decoded
            (
                "https://example.com/%7euser/%c3%a9",
                "https://example.com/~user/%C3%A9",
            ),
            ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),
            // a stray '%' is a literal one
            ("https://example.com/100%", "https://example.com/100%25"),
        ];
        for (input, want) in cases {
            assert_eq!(canonical_url(input).as_deref(), Some(want), "for {input}");
        }
    }

    #[test]
    fn canonical_url_leaves_other_schemes_alone() {
        assert_eq!(canonical_url("  "), None);
        assert_eq!(
            canonical_url("tag:example.com,2024:1").as_deref(),
            Some("tag:example.com,2024:1")
        );
        assert_eq!(canonical_url("not a url").as_deref(), Some("not a url"));
    }

    #[test]
    fn odd_hosts_still_canonicalize_stably() {
        for odd in ["Http:0X.%2E/:s:", "http://www.0x./a", "http://0x.www./"] {
            let once = canonical_url(odd).unwrap();
            assert_eq!(canonical_url(&once).unwrap(), once, "{odd}");
        }
    }

    #[test]
    fn a_link_without_a_usable_host_is_kept_as_written() {
        let odd = "Http:%2E/\naa:/~ar";
        let once = canonical_url(odd).unwrap();
        assert_eq!(canonical_url(&once).unwrap(), once);
    }

    #[test]
    fn other_schemes_are_stable() {
        let odd = "file://u/n:\n\n\n\n:#\n\n\u{1a}u";
        let once = canonical_url(odd).unwrap();
        assert_eq!(canonical_url(&once).unwrap(), once);
    }

    #[test]
    fn different_paths_stay_different() {
        assert_ne!(
            canonical_url("https://example.com/a"),
            canonical_url("https://example.com/b")
        );
        assert_ne!(
            canonical_url("https://example.com/a?page=1"),
            canonical_url("https://example.com/a?page=2")
        );
    }

    #[test]
    fn published_links_drop_only_tracking_parameters() {
        let cases = [
            // decorations go, in any case and any place
            (
                "https://news.example/a?utm_source=rss&id=3&fbclid=x",
                "https://news.example/a?id=3",
            ),
            (
                "https://news.example/a?UTM_Medium=feed&gclid=1&mc_cid=2&mc_eid=3&ref=hn",
                "https://news.example/a",
            ),
            (
                "https://news.example/a?utm%5Fsource=x",
                "https://news.example/a",
            ),
            // the rest keeps its order, spelling and escapes
            (
                "https://news.example/a?b=2&utm_campaign=c&a=%7e1&A=x",
                "https://news.example/a?b=2&a=%7e1&A=x",
            ),
            // scheme, www., port, path, trailing slash and fragment as published
            (
                "http://www.News.example:8080/Path/%7euser/?utm_source=x#Comments",
                "http://www.News.example:8080/Path/%7euser/#Comments",
            ),
            // a '?' in the fragment is not a query
            (
                "https://news.example/a#frag?utm_source=x",
                "https://news.example/a#frag?utm_source=x",
            ),
            // nothing to drop: unchanged, even odd queries
            ("https://news.example/a?", "https://news.example/a?"),
            (
                "https://news.example/a?&&b=1",
                "https://news.example/a?&&b=1",
            ),
            (
                "https://news.example/a?b=2&a=1",
                "https://news.example/a?b=2&a=1",
            ),
            // other schemes are not touched
            (
                "mailto:a@b.example?utm_source=x",
                "mailto:a@b.example?utm_source=x",
            ),
            ("", ""),
        ];
        for (link, want) in cases {
            assert_eq!(without_tracking(link), want, "for {link}");
        }
    }

    #[test]
    fn publisher_ids_usable_as_entry_ids() {
        let usable = [
            "https://site.example/?p=12",
            "http://scripting.com/2024/01/01.html#a1",
            "tag:blogger.com,1999:blog-1.post-2",
            "tag:github.com,2008:Repository/1/v1.0",
            "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
            "yt:video:lyHNREviqqM",
            "https://例え.example/記事",
        ];
        let not_usable = [
            "",
            "1234",
            "post-42",
            "/2024/01/a",
            "user/posts/a/index.md",
            "t3_abc:",
            "c:/path",
            "http:no-slashes",
            "https://",
            "https:///path",
            "https://site.example/a b",
            "tag:x,2024:a\tb",
            "urn:x<y>",
            "urn:x:\u{202E}evil",
            "https://site.example/a\u{200B}b",
            "tag:x,2024:\u{FFFF}",
            "tag:x,2024:a\u{85}",
            "javascript:alert(1)",
            "DATA:text/plain,x",
            "mailto:me@site.example",
            "file:///etc/passwd",
            "9p:x",
        ];
        for id in usable {
            assert!(usable_entry_id(id), "{id} should be usable");
        }
        for id in not_usable {
            assert!(!usable_entry_id(id), "{id:?} should not be usable");
        }
        assert!(!usable_entry_id(&format!(
            "tag:x,2024:{}",
            "a".repeat(1024)
        )));
    }

    #[test]
    fn only_an_item_known_by_its_guid_lends_it_as_entry_id() {
        let items = vec![
            item(Some("https://e.com/?p=1"), Some("https://e.com/1"), "A"),
            item(Some("42"), Some("https://e.com/2"), "B"),
        ];
        let by_guid = identify(items.clone(), IdentityMode::Auto);
        let ids: Vec<Option<&str>> = by_guid.iter().map(publisher_entry_id).collect();
        assert_eq!(ids, [Some("https://e.com/?p=1"), None]);
        // A source that says its guids are not to be trusted lends none.
        let by_link = identify(items, IdentityMode::Link);
        assert!(by_link.iter().all(|i| publisher_entry_id(i).is_none()));
        // Nor does a feed whose guids repeat.
        let repeated: Vec<Item> = (0..4)
            .map(|i| {
                item(
                    Some("https://e.com/same"),
                    Some(&format!("https://e.com/{i}")),
                    "t",
                )
            })
            .collect();
        let stepped = identify(repeated, IdentityMode::Auto);
        assert!(stepped.iter().all(|i| publisher_entry_id(i).is_none()));
    }

    fn item(guid: Option<&str>, link: Option<&str>, title: &str) -> Item {
        Item {
            guid: guid.map(str::to_string),
            link: link.map(str::to_string),
            title: Some(title.to_string()),
            authors: vec![],
            categories: vec![],
            content: Some(format!("<p>{title}</p>")),
            enclosures: vec![],
            ..Item::default()
        }
    }

    fn keys(items: Vec<Item>, mode: IdentityMode) -> Vec<String> {
        identify(items, mode).into_iter().map(|i| i.key).collect()
    }

    #[test]
    fn guids_are_used_when_unique() {
        let k = keys(
            vec![
                item(Some("1"), Some("https://e.com/a"), "A"),
                item(Some("2"), None, "B"),
            ],
            IdentityMode::Auto,
        );
        assert_eq!(k, ["g:1", "g:2"]);
    }

    #[test]
    fn a_shared_guid_steps_down_to_links() {
        let items: Vec<Item> = (0..10)
            .map(|i| item(Some("same"), Some(&format!("https://e.com/{i}")), "t"))
            .collect();
        let k = keys(items, IdentityMode::Auto);
        assert_eq!(k.len(), 10);
        assert!(k.iter().all(|k| k.starts_with("l:")), "{k:?}");
    }

    #[test]
    fn no_guid_no_link_uses_content_hash_stably() {
        let items = || vec![item(None, None, "A"), item(None, None, "B")];
        let first = keys(items(), IdentityMode::Auto);
        assert!(first.iter().all(|k| k.starts_with("h:")));
        assert_ne!(first[0], first[1]);
        assert_eq!(first, keys(items(), IdentityMode::Auto));
    }

    #[test]
    fn a_rare_repeat_keeps_guids_and_only_the_repeat_steps_down() {
        let mut items: Vec<Item> = (0..40)
            .map(|i| {
                item(
                    Some(&i.to_string()),
                    Some(&format!("https://e.com/{i}")),
                    "t",
                )
            })
            .collect();
        items.push(item(Some("0"), Some("https://e.com/other"), "t"));
        let k = keys(items, IdentityMode::Auto);
        assert_eq!(k.len(), 41);
        assert_eq!(k[40], "l:https://e.com/other");
        assert!(k[..40].iter().all(|k| k.starts_with("g:")));
    }

    #[test]
    fn only_links_unique_in_the_document_and_below_the_root_name_stories() {
        let items = vec![
            item(Some("1"), Some("https://e.com/"), "A"),
            item(Some("2"), Some("https://e.com/same"), "B"),
            item(Some("3"), Some("https://e.com/same?utm_source=x"), "C"),
            item(Some("4"), Some("https://e.com/own"), "D"),
        ];
        let story_links: Vec<Option<String>> = identify(items, IdentityMode::Auto)
            .into_iter()
            .map(|i| i.story_link)
            .collect();
        assert_eq!(
            story_links,
            [None, None, None, Some("https://e.com/own".to_string())]
        );
    }

    #[test]
    fn an_exact_duplicate_is_kept_once() {
        let k = keys(
            vec![item(None, None, "A"), item(None, None, "A")],
            IdentityMode::Auto,
        );
        assert_eq!(k.len(), 1);
    }

    #[test]
    fn override_modes_pick_their_level() {
        let items = || vec![item(Some("1"), Some("https://e.com/a?utm_source=x"), "A")];
        assert_eq!(keys(items(), IdentityMode::Guid), ["g:1"]);
        assert_eq!(keys(items(), IdentityMode::Link), ["l:https://e.com/a"]);
        assert!(keys(items(), IdentityMode::Content)[0].starts_with("h:"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn path() -> impl Strategy<Value = String> {
            proptest::collection::vec("[a-z0-9~%._-]{1,8}", 1..4).prop_map(|segs| segs.join("/"))
        }

        fn params() -> impl Strategy<Value = Vec<(String, String)>> {
            proptest::collection::vec(("[a-z]{1,6}", "[a-z0-9]{0,6}"), 0..4).prop_map(|ps| {
                ps.into_iter()
                    .filter(|(k, _)| !is_tracking_param(k))
                    .collect()
            })
        }

        fn url(host: &str, path: &str, params: &[(String, String)]) -> String {
            let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let mut u = format!("https://{host}/{path}");
            if !query.is_empty() {
                u.push('?');
                u.push_str(&query.join("&"));
            }
            u
        }

        proptest! {
            #[test]
            fn canonical_url_is_idempotent(host in "[a-z]{1,10}\\.(com|org)", p in path(), q in params()) {
                let once = canonical_url(&url(&host, &p, &q)).unwrap();
                prop_assert_eq!(canonical_url(&once).unwrap(), once.clone());
            }

            #[test]
            fn decorations_never_change_it(
                host in "[a-z]{1,10}\\.(com|org)",
                p in path(),
                q in params(),
                fragment in "[a-z]{0,6}",
                tracking in proptest::sample::subsequence(vec!["utm_source=rss", "utm_medium=feed", "fbclid=abc", "gclid=x", "mc_cid=1", "mc_eid=2", "ref=hn"], 0..4),
                http in any::<bool>(),
                www in any::<bool>(),
                port in any::<bool>(),
                slash in any::<bool>(),
            ) {
                let plain = canonical_url(&url(&host, &p, &q)).unwrap();
                let mut decorated_params = q.clone();
                for t in &tracking {
                    let (k, v) = t.split_once('=').unwrap();
                    decorated_params.insert(0, (k.to_string(), v.to_string()));
                }
                decorated_params.reverse();
                let host = if www { format!("www.{host}") } else { host.clone() };
                let host = if port { format!("{host}:{}", if http { 80 } else { 443 }) } else { host };
                let path = if slash { format!("{p}/") } else { p.clone() };
                let mut decorated = url(&host, &path, &decorated_params);
                if http {
                    decorated = decorated.replacen("https://", "http://", 1);
                }
                if !fragment.is_empty() {
                    decorated.push('#');
                    decorated.push_str(&fragment);
                }
                prop_assert_eq!(canonical_url(&decorated).unwrap(), plain);
            }

            #[test]
            fn published_links_name_the_same_story_and_keep_no_decoration(
                host in "[a-z]{1,10}\\.(com|org)",
                p in path(),
                q in params(),
                fragment in "[a-z]{0,6}",
                tracking in proptest::sample::subsequence(vec!["utm_source=rss", "UTM_MEDIUM=feed", "fbclid=abc", "gclid=x", "mc_cid=1", "ref=hn", "utm%5Fterm=y"], 0..4),
                at in 0usize..4,
            ) {
                let mut params: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let plain_query = params.join("&");
                for t in &tracking {
                    params.insert(at.min(params.len()), t.to_string());
                }
                let fragment = if fragment.is_empty() { String::new() } else { format!("#{fragment}") };
                let with_query = |query: &str| {
                    let query = if query.is_empty() { String::new() } else { format!("?{query}") };
                    format!("http://www.{host}/{p}{query}{fragment}")
                };
                let decorated = with_query(&params.join("&"));
                let published = without_tracking(&decorated);
                prop_assert_eq!(published.as_ref(), with_query(&plain_query));
                prop_assert_eq!(canonical_url(&published), canonical_url(&decorated));
            }

            #[test]
            fn different_paths_never_collide(host in "[a-z]{1,10}\\.com", a in path(), b in path()) {
                let ca = canonical_url(&url(&host, &a, &[])).unwrap();
                let cb = canonical_url(&url(&host, &b, &[])).unwrap();
                let norm = |p: &str| {
                    let url = Url::parse(&format!("https://x/{p}")).unwrap();
                    normalize_percent(url.path().trim_end_matches('/'))
                };
                prop_assume!(norm(&a) != norm(&b));
                prop_assert_ne!(ca, cb);
            }
        }
    }
}
