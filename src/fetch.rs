//! Getting a feed's bytes: conditional GET over HTTP(S) with a size cap enforced
//! while reading, redirects followed by hand (so permanent ones can be
//! remembered) up to a limit, one timeout for the whole fetch, and the hints a
//! response gives about when to come back; and `file://` sources, read from disk
//! under the same cap and timeout. Only an address the operator wrote may be a
//! file: whatever a server or document names (redirects, feed links) must be
//! http(s).

use std::io::Read;
use std::time::{Duration, SystemTime};

use tokio::io::AsyncReadExt;

use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::model::Validators;

/// Redirects followed before a fetch gives up.
pub const MAX_REDIRECTS: usize = 5;

/// A response worth keeping: a body, or word that the stored copy is current.
#[derive(Debug)]
pub enum FetchOutcome {
    Fetched { body: Vec<u8>, meta: ResponseMeta },
    NotModified { meta: ResponseMeta },
}

impl FetchOutcome {
    pub fn meta(&self) -> &ResponseMeta {
        match self {
            FetchOutcome::Fetched { meta, .. } | FetchOutcome::NotModified { meta } => meta,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ResponseMeta {
    /// HTTP status; 200 for a file read, 304 for a file unchanged since last time
    pub status: u16,
    /// where the body came from, after redirects
    pub final_url: Url,
    /// where the feed now lives, when the redirects began with permanent ones
    /// (301, 308): the address to fetch from now on
    pub moved_to: Option<Url>,
    /// validators to send next time (the old ones when the response gave none)
    pub validators: Validators,
    /// how long the response may be reused (`Cache-Control: max-age`, `Expires`)
    pub fresh_for: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("HTTP {status}")]
    Status {
        status: u16,
        /// `Retry-After` on a 429 or 503
        retry_after: Option<Duration>,
    },
    #[error("body larger than the {limit}-byte limit (poll.max_body)")]
    TooLarge { limit: u64 },
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("cannot read {path}: {error}")]
    File { path: String, error: std::io::Error },
    /// an address a server or document named, with a scheme other than http(s);
    /// the message names only the scheme, and no file is ever looked at for it
    #[error("refused to follow a {scheme}: address (only http and https can be followed)")]
    Refused { scheme: String },
    #[error("request failed: {0}")]
    Other(String),
}

impl FetchError {
    /// The HTTP status to record on the source, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// One HTTP client shared by every fetch, holding the poll settings.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
    timeout: Duration,
}

const ACCEPT: &str = "application/atom+xml, application/rss+xml, application/feed+json, \
                      application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, \
                      application/json;q=0.8, */*;q=0.5";

/// What every request is made with (`[poll]`'s `user_agent`, `timeout` and
/// `max_body`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    pub user_agent: String,
    pub timeout: Duration,
    pub max_body: u64,
}

impl Fetcher {
    pub fn new(poll: &FetchSettings) -> Result<Fetcher, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
        let client = reqwest::Client::builder()
            .user_agent(&poll.user_agent)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(poll.timeout)
            .connect_timeout(poll.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| FetchError::Other(error_chain(&e)))?;
        Ok(Fetcher {
            client,
            max_body: poll.max_body,
            timeout: poll.timeout,
        })
    }

    /// Fetches `url`, an address a server or document named (a feed link on a
    /// page, a stored redirect): http(s) only. `validators` make an unchanged
    /// feed cost a 304.
    pub async fn fetch(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        refuse_unless_http(url)?;
        tokio::time::timeout(self.timeout, self.fetch_http(url, validators))
            .await
            .map_err(|_| FetchError::Timeout(self.timeout))?
    }

    /// Fetches `url` as the operator wrote it (config, command line): http(s),
    /// or a local file.
    pub async fn fetch_configured(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        if url.scheme() == "file" {
            return tokio::time::timeout(self.timeout, self.read_file(url, validators))
                .await
                .map_err(|_| FetchError::Timeout(self.timeout))?;
        }
        self.fetch(url, validators).await
    }

    /// Fetches a source from `stored`, where it was last found (`configured`,
    /// or where redirects and feed links led since). A stored address that is
    /// neither the configured one nor http(s) was put there by a server or page
    /// (older versions followed them to files): it is not read; the configured
    /// address is fetched instead, and reported as where the feed now lives so
    /// the stored one is replaced.
    pub async fn fetch_source(
        &self,
        configured: &Url,
        stored: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        if stored == configured {
            return self.fetch_configured(configured, validators).await;
        }
        if refuse_unless_http(stored).is_ok() {
            return self.fetch(stored, validators).await;
        }
        tracing::warn!(url = %crate::redact::shown_url(configured), "stored address is not http(s) and was not configured; fetching the configured address");
        let mut outcome = self
            .fetch_configured(configured, &Validators::default())
            .await?;
        match &mut outcome {
            FetchOutcome::Fetched { meta, .. } | FetchOutcome::NotModified { meta } => {
                meta.moved_to.get_or_insert_with(|| configured.clone());
            }
        }
        Ok(outcome)
    }

    async fn fetch_http(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let mut current = url.clone();
        let mut moved_to = None;
        let mut only_permanent_so_far = true;
        for hop in 0..=MAX_REDIRECTS {
            let mut request = self.client.get(current.clone());
            if let Some(etag) = &validators.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &validators.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, lm);
            }
            let response = request.send().await.map_err(|e| self.classify(e))?;
            let status = response.status().as_u16();
            if response.status().is_redirection() && status != 304 {
                let location = header_text(response.headers(), header::LOCATION).ok_or(
                    FetchError::Status {
                        status,
                        retry_after: None,
                    },
                )?;
                let next = current.join(&location).map_err(|e| {
                    FetchError::Other(format!("redirect to a bad address {location:?}: {e}"))
                })?;
                refuse_unless_http(&next)?;
                if hop == MAX_REDIRECTS {
                    return Err(FetchError::TooManyRedirects);
                }
                // RFC 9110 §15.4: only 301 and 308 say the feed moved for good.
                if matches!(status, 301 | 308) && only_permanent_so_far {
                    moved_to = Some(next.clone());
                } else {
                    only_permanent_so_far = false;
                }
                tracing::debug!(url = %crate::redact::shown_url(&current), status, to = %crate::redact::shown_url(&next), "redirected");
                current = next;
                continue;
            }
            let headers = response.headers();
            let meta = ResponseMeta {
                status,
                final_url: current.clone(),
                moved_to,
                validators: Validators {
                    etag: header_text(headers, header::ETAG).or_else(|| validators.etag.clone()),
                    last_modified: header_text(headers, header::LAST_MODIFIED)
                        .or_else(|| validators.last_modified.clone()),
                },
                fresh_for: fresh_for(headers),
            };
            if status == 304 {
                return Ok(FetchOutcome::NotModified { meta });
            }
            if !response.status().is_success() {
                let retry_after = matches!(status, 429 | 503)
                    .then(|| retry_after(headers))
                    .flatten();
                return Err(FetchError::Status {
                    status,
                    retry_after,
                });
            }
            let body = self.read_capped(response).await?;
            let body = inflate_if_gzipped(body, self.max_body)?;
            return Ok(FetchOutcome::Fetched { body, meta });
        }
        Err(FetchError::TooManyRedirects)
    }

    /// Reads the (decompressed) body, stopping as soon as it passes the cap.
    async fn read_capped(&self, mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let limit = self.max_body;
        // Content-Length is only known here when the body is not compressed.
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge { limit });
        }
        let mut body = Vec::with_capacity(response.content_length().unwrap_or(64 * 1024) as usize);
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Reads a regular file, under the size cap (the caller applies the
    /// timeout). A file's modification time and size stand in for HTTP
    /// validators, so an unchanged file is "not modified" like an unchanged feed.
    async fn read_file(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let path = url.to_file_path().map_err(|()| FetchError::File {
            path: url.to_string(),
            error: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a local path"),
        })?;
        let file_error = |error| FetchError::File {
            path: path.display().to_string(),
            error,
        };
        let mut options = tokio::fs::OpenOptions::new();
        options.read(true);
        // Opening a FIFO for reading waits for a writer; non-blocking, it opens at
        // once and is refused below. (Reads of regular files ignore the flag.)
        #[cfg(unix)]
        options.custom_flags(libc::O_NONBLOCK);
        let file = options.open(&path).await.map_err(file_error)?;
        // The type is taken from the open handle, so the path cannot be swapped
        // for a device or FIFO between the check and the read.
        let metadata = file.metadata().await.map_err(file_error)?;
        if !metadata.is_file() {
            return Err(file_error(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            )));
        }
        let stamp = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| {
                format!(
                    "\"file-{}-{}-{}\"",
                    d.as_secs(),
                    d.subsec_nanos(),
                    metadata.len()
                )
            });
        let meta = |status| ResponseMeta {
            status,
            final_url: url.clone(),
            moved_to: None,
            validators: Validators {
                etag: stamp.clone(),
                last_modified: None,
            },
            fresh_for: None,
        };
        if stamp.is_some() && stamp == validators.etag {
            return Ok(FetchOutcome::NotModified { meta: meta(304) });
        }
        if metadata.len() > self.max_body {
            return Err(FetchError::TooLarge {
                limit: self.max_body,
            });
        }
        let mut body = Vec::with_capacity(metadata.len() as usize);
        file.take(self.max_body + 1)
            .read_to_end(&mut body)
            .await
            .map_err(file_error)?;
        if body.len() as u64 > self.max_body {
            return Err(FetchError::TooLarge {
                limit: self.max_body,
            });
        }
        Ok(FetchOutcome::Fetched {
            body: inflate_if_gzipped(body, self.max_body)?,
            meta: meta(200),
        })
    }

    fn classify(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.timeout)
        } else if e.is_redirect() {
            FetchError::TooManyRedirects
        } else if e.is_connect() {
            FetchError::Connect(error_chain(&e))
        } else {
            FetchError::Other(error_chain(&e))
        }
    }
}

/// Refuses an address a server or document named unless it is http(s).
fn refuse_unless_http(url: &Url) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        scheme => Err(FetchError::Refused {
            scheme: scheme.to_string(),
        }),
    }
}

/// Some hosts gzip a feed twice, or serve a `.gz` file as XML: a body that is
/// still gzip after HTTP decoding is inflated here, under the same cap.
fn inflate_if_gzipped(body: Vec<u8>, limit: u64) -> Result<Vec<u8>, FetchError> {
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
fn fresh_for(headers: &HeaderMap) -> Option<Duration> {
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
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
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

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)?
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// An error with its causes, innermost last: reqwest's own message alone
/// ("error sending request") does not say what went wrong.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(data).unwrap();
        gz.finish().unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn freshness_from_cache_control_and_expires() {
        type Headers<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Headers, Option<u64>)] = &[
            (&[("cache-control", "public, max-age=600")], Some(600)),
            (&[("cache-control", "max-age=600, no-cache")], None),
            (&[("cache-control", "no-store")], None),
            (
                &[
                    ("date", "Tue, 24 Nov 2026 10:00:00 GMT"),
                    ("expires", "Tue, 24 Nov 2026 11:00:00 GMT"),
                ],
                Some(3600),
            ),
            // max-age wins over Expires (RFC 9111 §5.3)
            (
                &[
                    ("cache-control", "max-age=60"),
                    ("date", "Tue, 24 Nov 2026 10:00:00 GMT"),
                    ("expires", "Tue, 24 Nov 2026 11:00:00 GMT"),
                ],
                Some(60),
            ),
            (&[("expires", "0")], None),
            (&[], None),
        ];
        for (pairs, want) in cases {
            assert_eq!(
                fresh_for(&headers(pairs)),
                want.map(Duration::from_secs),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3600")])),
            Some(Duration::from_secs(3600))
        );
        let later = (chrono::Utc::now() + chrono::TimeDelta::hours(2)).to_rfc2822();
        let d = retry_after(&headers(&[("retry-after", &later)])).unwrap();
        assert!(
            d > Duration::from_secs(7100) && d <= Duration::from_secs(7200),
            "{d:?}"
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
    }

    #[test]
    fn retry_after_dates_in_every_http_form_counted_from_the_hosts_date() {
        type Headers<'a> = &'a [(&'a str, &'a str)];
        let date = ("date", "Tue, 24 Nov 2026 10:00:00 GMT");
        let cases: &[(Headers, Option<u64>)] = &[
            (
                &[date, ("retry-after", "Tue, 24 Nov 2026 10:02:00 GMT")],
                Some(120),
            ),
            // RFC 850 and asctime, which RFC 9110 §5.6.7 says to accept
            (
                &[date, ("retry-after", "Tuesday, 24-Nov-26 10:02:00 GMT")],
                Some(120),
            ),
            (
                &[date, ("retry-after", "Tue Nov 24 10:02:00 2026")],
                Some(120),
            ),
            // a date already past means now, not "nothing said"
            (
                &[date, ("retry-after", "Tue, 24 Nov 2026 09:00:00 GMT")],
                Some(0),
            ),
            (&[("retry-after", "Thu, 01 Jan 2015 00:00:00 GMT")], Some(0)),
            (&[("retry-after", "0")], Some(0)),
            (&[("retry-after", "-5")], None),
        ];
        for (pairs, want) in cases {
            assert_eq!(
                retry_after(&headers(pairs)),
                want.map(Duration::from_secs),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn only_http_addresses_may_be_followed() {
        for ok in ["http://e.com/feed", "https://e.com/feed"] {
            assert!(refuse_unless_http(&Url::parse(ok).unwrap()).is_ok(), "{ok}");
        }
        for refused in [
            "file:///etc/hostname",
            "file:///dev/zero",
            "ftp://e.com/feed",
            "data:text/xml,<rss/>",
            "javascript:alert(1)",
        ] {
            let e = refuse_unless_http(&Url::parse(refused).unwrap()).unwrap_err();
            // Only the scheme is named: the text is the same for any path.
            assert!(matches!(e, FetchError::Refused { .. }), "{refused}");
            assert!(!e.to_string().contains("//"), "{e}");
        }
    }

    #[test]
    fn a_gzipped_body_is_inflated_under_the_cap() {
        assert_eq!(inflate_if_gzipped(gzip(b"<rss/>"), 100).unwrap(), b"<rss/>");
        assert_eq!(
            inflate_if_gzipped(b"<rss/>".to_vec(), 100).unwrap(),
            b"<rss/>"
        );
        let bomb = gzip(&vec![b' '; 1_000_000]);
        assert!(matches!(
            inflate_if_gzipped(bomb, 1000),
            Err(FetchError::TooLarge { limit: 1000 })
        ));
    }
}
