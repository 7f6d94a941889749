//! The query string every feed and the river page take, read into normalized
//! parameters: two requests for the same page get equal `Params` whatever else
//! they carry, so the parameters can key the page cache. Anything wrong is a
//! `BadRequest` naming it in one line.

use url::form_urlencoded;

use super::ServerError;
use crate::model::StoryCursor;
use crate::model::slug;

/// Most stories one page may hold (`limit=`).
pub const MAX_LIMIT: u32 = 1000;
/// Longest accepted search text, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most distinct `category=` filters one request may combine.
pub const MAX_CATEGORIES: usize = 10;
/// Longest accepted category slug, in characters.
pub const MAX_CATEGORY_CHARS: usize = 200;

/// What a request asks of a page; unknown parameters are not kept.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub struct Params {
    pub limit: Option<u32>,
    pub before: Option<StoryCursor>,
    /// slugs, in the order first given, each once
    pub categories: Vec<String>,
    pub q: Option<String>,
}

/// Reads a request's query string; a bad value is a `BadRequest` naming it.
/// Whether a query string's percent escapes decode to UTF-8: a search for
/// bytes that are no text would otherwise run on replacement characters.
fn decodes_to_utf8(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                decoded.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded).is_ok()
}

pub fn parse_params(raw: Option<&str>) -> Result<Params, ServerError> {
    let bad = |reason: String| Err(ServerError::BadRequest(reason));
    let raw = raw.unwrap_or_default();
    if !decodes_to_utf8(raw) {
        return bad("the query string is not UTF-8 once decoded".into());
    }
    let mut p = Params::default();
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        match key.as_ref() {
            "limit" => match value.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => p.limit = Some(n),
                _ => {
                    return bad(format!(
                        "limit must be a whole number from 1 to {MAX_LIMIT}, not {}",
                        shown(&value)
                    ));
                }
            },
            "before" => match decode_cursor(&value) {
                Some(c) => p.before = Some(c),
                None => {
                    return bad(format!(
                        "before is not a cursor this server gave: {}",
                        shown(&value)
                    ));
                }
            },
            "category" => {
                let s = category_slug(&value)?;
                if !p.categories.contains(&s) {
                    if p.categories.len() == MAX_CATEGORIES {
                        return bad(format!(
                            "at most {MAX_CATEGORIES} different category filters are allowed"
                        ));
                    }
                    p.categories.push(s);
                }
            }
            "q" => {
                let q = value.trim();
                if q.is_empty() {
                    return bad("q must not be empty".into());
                }
                if q.chars().count() > MAX_QUERY_CHARS {
                    return bad(format!("q is longer than {MAX_QUERY_CHARS} characters"));
                }
                if q.chars().any(char::is_control) {
                    return bad("q must not contain control characters".into());
                }
                p.q = Some(q.to_string());
            }
            // Readers and proxies add their own parameters; they change nothing here.
            _ => {}
        }
    }
    Ok(p)
}

/// A category as the URL names it, or why it cannot be one.
fn category_slug(value: &str) -> Result<String, ServerError> {
    let s = slug(value);
    if s.is_empty() {
        return Err(ServerError::BadRequest(format!(
            "category {} is empty",
            shown(value)
        )));
    }
    if s.chars().count() > MAX_CATEGORY_CHARS {
        return Err(ServerError::BadRequest(format!(
            "category is longer than {MAX_CATEGORY_CHARS} characters"
        )));
    }
    Ok(s)
}

impl Params {
    /// The query string that asks for these parameters again, with `before`
    /// replaced: the next page's. Only parameters this server reads are kept.
    pub fn next_page(&self, before: StoryCursor) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        if let Some(limit) = self.limit {
            out.append_pair("limit", &limit.to_string());
        }
        for c in &self.categories {
            out.append_pair("category", c);
        }
        if let Some(q) = &self.q {
            out.append_pair("q", q);
        }
        out.append_pair("before", &encode_cursor(before));
        out.finish()
    }

    /// Bytes these parameters take in memory, roughly: what a cache entry
    /// keyed by them costs beyond its body.
    pub fn weight(&self) -> usize {
        std::mem::size_of::<Params>()
            + self.q.as_ref().map_or(0, String::len)
            + self.categories.iter().map(|c| c.len() + 24).sum::<usize>()
    }
}

/// A value as it may be quoted in a one-line reason: short and on one line.
fn shown(value: &str) -> String {
    const MAX: usize = 40;
    let mut s: String = value.chars().take(MAX).collect();
    if value.chars().nth(MAX).is_some() {
        s.push('…');
    }
    format!("{s:?}")
}

/// The cursor of the next page: opaque to clients, strictly checked here.
pub fn encode_cursor(c: StoryCursor) -> String {
    format!("{:x}-{:x}", c.sort_at, c.id)
}

fn decode_cursor(s: &str) -> Option<StoryCursor> {
    let (at, id) = s.split_once('-')?;
    let hex = |t: &str| {
        (!t.is_empty() && t.len() <= 16)
            .then(|| u64::from_str_radix(t, 16).ok())
            .flatten()
    };
    Some(StoryCursor {
        sort_at: hex(at)? as i64,
        id: hex(id)? as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(query: &str) -> String {
        match parse_params(Some(query)) {
            Err(ServerError::BadRequest(reason)) => reason,
            other => panic!("{query} should be refused, got {other:?}"),
        }
    }

    #[test]
    fn params_are_checked() {
        assert_eq!(parse_params(None).unwrap(), Params::default());
        let p = parse_params(Some(
            "limit=5&category=AI&category=rust&q=%20gpt%20&utm_source=x",
        ))
        .unwrap();
        assert_eq!(p.limit, Some(5));
        assert_eq!(p.categories, ["ai", "rust"]);
        assert_eq!(p.q.as_deref(), Some("gpt"));
        let p = parse_params(Some("q=caf%C3%A9+%E2%9C%93&x=100%")).unwrap();
        assert_eq!(p.q.as_deref(), Some("café ✓"));
        for bad in [
            "limit=0",
            "limit=1001",
            "limit=ten",
            "limit=-1",
            "before=zz",
            "before=1",
            "q=",
            "q=%00",
            "q=a%0Ab",
            "category=%20",
            "q=%ff%fe",
            "q=caf%E9",
            "x=%C3",
        ] {
            let reason = refused(bad);
            assert_eq!(reason.lines().count(), 1, "{bad}: {reason}");
        }
    }

    #[test]
    fn unknown_parameters_do_not_change_the_params() {
        let plain = parse_params(Some("limit=10&category=ai")).unwrap();
        for noisy in [
            "limit=10&category=ai&x=1",
            "utm_source=feedly&limit=10&category=AI&_=123",
            "category=ai&limit=10&category=ai",
        ] {
            assert_eq!(parse_params(Some(noisy)).unwrap(), plain, "{noisy}");
        }
    }

    #[test]
    fn repeated_and_oversized_filters_are_bounded() {
        let ten: Vec<String> = (0..10).map(|i| format!("category=c{i}")).collect();
        assert_eq!(
            parse_params(Some(&ten.join("&"))).unwrap().categories.len(),
            10
        );
        let thousand: Vec<String> = (0..1000).map(|i| format!("category=c{i}")).collect();
        assert!(refused(&thousand.join("&")).contains("at most 10"));
        // the same category given many times is one filter
        let same = vec!["category=ai"; 1000].join("&");
        assert_eq!(parse_params(Some(&same)).unwrap().categories, ["ai"]);
        let long = format!("category={}", "a".repeat(MAX_CATEGORY_CHARS + 1));
        assert!(refused(&long).contains("longer than"));
        let q = format!("q={}", "x".repeat(MAX_QUERY_CHARS + 1));
        assert!(refused(&q).contains("longer than"));
        // a reason never quotes a long value whole
        let limit = format!("limit={}", "9".repeat(10_000));
        assert!(refused(&limit).len() < 200);
    }

    #[test]
    fn the_next_page_keeps_only_what_the_server_reads() {
        let p = parse_params(Some("q=a%26b&x=1&category=AI&limit=5&before=1-2")).unwrap();
        let c = StoryCursor { sort_at: 16, id: 3 };
        let next = p.next_page(c);
        assert_eq!(next, "limit=5&category=ai&q=a%26b&before=10-3");
        let again = parse_params(Some(&next)).unwrap();
        assert_eq!(again.before, Some(c));
        assert_eq!(again.q.as_deref(), Some("a&b"));
    }

    #[test]
    fn cursors_round_trip() {
        let c = StoryCursor {
            sort_at: 1_764_000_000_000,
            id: 42,
        };
        assert_eq!(decode_cursor(&encode_cursor(c)), Some(c));
        assert_eq!(decode_cursor("ffffffffffffffffff-1"), None);
    }
}
