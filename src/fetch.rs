//! Getting a feed's bytes: conditional GET over HTTP(S) with a size cap enforced
//! while reading, redirects limited, one timeout for the whole request; and
//! `file://` sources, read from disk under the same cap.

use std::io::Read;
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::config::Poll;

/// Redirects followed before a fetch gives up.
pub const MAX_REDIRECTS: usize = 5;

/// What a feed's host returned last time, sent back to ask "only if changed".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

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
    /// validators to send next time (the old ones when the response gave none)
    pub validators: Validators,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("HTTP {status}")]
    Status { status: u16 },
    #[error("body larger than the {limit}-byte limit (poll.max_body)")]
    TooLarge { limit: u64 },
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("cannot read {path}: {error}")]
    File { path: String, error: std::io::Error },
    #[error("request failed: {0}")]
    Other(String),
}

impl FetchError {
    /// The HTTP status to record on the source, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status } => Some(*status),
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

impl Fetcher {
    pub fn new(poll: &Poll) -> Result<Fetcher, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
        let client = reqwest::Client::builder()
            .user_agent(&poll.user_agent)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
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

    /// Fetches `url`, sending `validators` so an unchanged feed costs a 304.
    pub async fn fetch(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        if url.scheme() == "file" {
            return self.read_file(url, validators).await;
        }
        let mut request = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, lm);
        }
        let response = request.send().await.map_err(|e| self.classify(e))?;
        let status = response.status().as_u16();
        let meta = ResponseMeta {
            status,
            final_url: response.url().clone(),
            validators: Validators {
                etag: header_text(response.headers(), header::ETAG)
                    .or_else(|| validators.etag.clone()),
                last_modified: header_text(response.headers(), header::LAST_MODIFIED)
                    .or_else(|| validators.last_modified.clone()),
            },
        };
        if status == 304 {
            return Ok(FetchOutcome::NotModified { meta });
        }
        if !response.status().is_success() {
            return Err(FetchError::Status { status });
        }
        let body = self.read_capped(response).await?;
        let body = inflate_if_gzipped(body, self.max_body)?;
        Ok(FetchOutcome::Fetched { body, meta })
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

    /// A file's modification time and size stand in for HTTP validators, so an
    /// unchanged file is "not modified" like an unchanged feed.
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
        let metadata = tokio::fs::metadata(&path).await.map_err(file_error)?;
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
            validators: Validators {
                etag: stamp.clone(),
                last_modified: None,
            },
        };
        if stamp.is_some() && stamp == validators.etag {
            return Ok(FetchOutcome::NotModified { meta: meta(304) });
        }
        if metadata.len() > self.max_body {
            return Err(FetchError::TooLarge {
                limit: self.max_body,
            });
        }
        let body = tokio::fs::read(&path).await.map_err(file_error)?;
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
