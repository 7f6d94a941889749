//! Canonical links: the form of a link that tells the same story apart across
//! sources, and a link as tributary publishes it, without tracking parameters.
//! Pure functions only.

use std::borrow::Cow;

use url::Url;

#[cfg(test)]
mod tests;

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

/// The canonical form of a link: http and https alike, host lowercased
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
