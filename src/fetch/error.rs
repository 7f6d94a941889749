//! Why a fetch failed: each cause kept, each message the one recorded on the
//! source, and what the failure means for the next poll.

use std::time::Duration;

use super::MAX_REDIRECTS;

#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("cannot connect: {}", error_chain(.0))]
    Connect(#[source] reqwest::Error),
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
    /// a redirect whose `Location` is no address
    #[error("request failed: redirect to a bad address {location:?}: {source}")]
    BadRedirect {
        location: String,
        #[source]
        source: url::ParseError,
    },
    #[error("cannot read {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// an address a server or document named, with a scheme other than http(s);
    /// the message names only the scheme, and no file is ever looked at for it
    #[error("refused to follow a {scheme}: address (only http and https can be followed)")]
    Refused { scheme: String },
    /// any other failure of the HTTP client, building it included
    #[error("request failed: {}", error_chain(.0))]
    Request(#[source] reqwest::Error),
}

impl FetchError {
    /// What a failed request says, for a fetch given `timeout` in all.
    pub(crate) fn from_request(e: reqwest::Error, timeout: Duration) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(timeout)
        } else if e.is_redirect() {
            FetchError::TooManyRedirects
        } else if e.is_connect() {
            FetchError::Connect(e)
        } else {
            FetchError::Request(e)
        }
    }

    /// The HTTP status to record on the source, when there was one.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The feed is gone for good (410 Gone): its source is not polled again.
    pub(crate) fn is_permanent(&self) -> bool {
        matches!(self, FetchError::Status { status: 410, .. })
    }

    /// How long the host asked to be left alone (`Retry-After` on a 429 or 503).
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
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
