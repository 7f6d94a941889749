//! Reading a response: its body under the size cap (and inflated when a host
//! gzipped it twice), and what its headers say about validators, freshness and
//! when to come back.

use std::io::Read;
use std::time::Duration;

use reqwest::header::{self, HeaderMap};
use url::Url;

use super::FetchError;
use crate::model::Validators;

#[derive(Debug, Clone)]
pub(crate) struct ResponseMeta {
    /// HTTP status; 200 for a file read, 304 for a file unchanged since last time
    pub(crate) status: u16,
    /// where the body came from, after redirects
    pub(crate) final_url: Url,
    /// where the feed now lives, when the redirects began with permanent ones
    /// (301, 308): the address to fetch from now on
    pub(crate) moved_to: Option<Url>,
    /// validators to send next time (the old ones when the response gave none)
    pub(crate) validators: Validators,
    /// how long the response may be reused (`Cache-Control: max-age`, `Expires`)
    pub(crate) fresh_for: Option<Duration>,
}

impl ResponseMeta {
    /// What a final (not redirecting) response from `final_url` says, the
    /// request having sent `sent`.
    pub(super) fn of_response(
        status: u16,
        final_url: Url,
        moved_to: Option<Url>,
        sent: &Validators,
        headers: &HeaderMap,
    ) -> ResponseMeta {
        ResponseMeta {
            status,
            final_url,
            moved_to,
            validators: Validators {
                etag: header_text(headers, header::ETAG).or_else(|| sent.etag.clone()),
                last_modified: header_text(headers, header::LAST_MODIFIED)
                    .or_else(|| sent.last_modified.clone()),
            },
            fresh_for: fresh_for(headers),
        }
    }
}

/// The error for a final response that is no success, with the wait a 429 or
/// 503 asks for.
pub(super) fn status_error(status: u16, headers: &HeaderMap) -> FetchError {
    let retry_after = matches!(status, 429 | 503)
        .then(|| retry_after(headers))
        .flatten();
    FetchError::Status {
        status,
        retry_after,
    }
}

/// Reads the (decompressed) body, stopping as soon as it passes `limit`.
pub(super) async fn read_capped(
    mut response: reqwest::Response,
    limit: u64,
    timeout: Duration,
) -> Result<Vec<u8>, FetchError> {
    // Content-Length is only known here when the body is not compressed.
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(FetchError::TooLarge { limit });
    }
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(64 * 1024) as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FetchError::from_request(e, timeout))?
    {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(FetchError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Some hosts gzip a feed twice, or serve a `.gz` file as XML: a body that is
/// still gzip after HTTP decoding is inflated here, under the same cap.
pub(super) fn inflate_if_gzipped(body: Vec<u8>, limit: u64) -> Result<Vec<u8>, FetchError> {
    if !body.starts_with(&[0x1f, 0x8b]) {
        return Ok(body);
    }
    let mut out = Vec::with_capacity(body.len() * 4);
    let mut reader = flate2::read::MultiGzDecoder::new(&body[..]).take(limit + 1);
    match reader.read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => Err(FetchError::TooLarge { limit }),
        Ok(_) => Ok(out),
        // Not gzip after all (the magic bytes by chance): leave it to the parser.
        Err(_) => Ok(body),
    }
}

/// How long a response stays fresh: `Cache-Control: max-age`, else `Expires`
/// against `Date` (RFC 9111 §4.2.1); `None` when it says nothing or forbids reuse.
pub(super) fn fresh_for(headers: &HeaderMap) -> Option<Duration> {
    if let Some(cc) = header_text(headers, header::CACHE_CONTROL) {
        let cc = cc.to_ascii_lowercase();
        if cc.contains("no-store") || cc.contains("no-cache") {
            return None;
        }
        if let Some(age) = cc
            .split(',')
            .find_map(|d| d.trim().strip_prefix("max-age="))
        {
            return age.trim_matches('"').parse().ok().map(Duration::from_secs);
        }
    }
    let expires = http_date(&header_text(headers, header::EXPIRES)?)?;
    let now = header_text(headers, header::DATE)
        .and_then(|d| http_date(&d))
        .unwrap_or_else(chrono::Utc::now);
    (expires - now).to_std().ok()
}

/// `Retry-After`: seconds, or an HTTP date (RFC 9110 §10.2.3), counted from
/// the response's `Date` so that a host whose clock is off still gets the wait
/// it meant. A date already past asks for no wait: it is not "nothing said".
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = header_text(headers, header::RETRY_AFTER)?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = http_date(&value)?;
    let now = header_text(headers, header::DATE)
        .and_then(|d| http_date(&d))
        .unwrap_or_else(chrono::Utc::now);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// An HTTP date in any form RFC 9110 §5.6.7 has recipients accept
/// (IMF-fixdate, RFC 850, asctime), or failing that any RFC 2822 date.
fn http_date(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = s.trim();
    if let Ok(t) = httpdate::parse_http_date(s) {
        return Some(t.into());
    }
    chrono::DateTime::parse_from_rfc2822(s)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc))
}

/// A header's value, trimmed; `None` when absent, empty or not text.
pub(super) fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)?
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}
