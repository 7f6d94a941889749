//! Redirects, followed by hand: only to http(s) addresses, at most
//! `MAX_REDIRECTS` of them, and a chain that begins with permanent ones (301,
//! 308) names where the feed now lives.

use reqwest::header::{self, HeaderMap};
use url::Url;

use super::response::header_text;
use super::{FetchError, MAX_REDIRECTS};

/// Where the redirects of one fetch have led so far.
pub(super) struct Redirects {
    followed: usize,
    moved_to: Option<Url>,
    only_permanent_so_far: bool,
}

impl Redirects {
    pub(super) fn new() -> Redirects {
        Redirects {
            followed: 0,
            moved_to: None,
            only_permanent_so_far: true,
        }
    }

    /// The address the redirect `status` answered for `current` sends the
    /// fetch to next.
    pub(super) fn follow(
        &mut self,
        current: &Url,
        status: u16,
        headers: &HeaderMap,
    ) -> Result<Url, FetchError> {
        let location = header_text(headers, header::LOCATION).ok_or(FetchError::Status {
            status,
            retry_after: None,
        })?;
        let next = current
            .join(&location)
            .map_err(|source| FetchError::BadRedirect { location, source })?;
        refuse_unless_http(&next)?;
        if self.followed == MAX_REDIRECTS {
            return Err(FetchError::TooManyRedirects);
        }
        self.followed += 1;
        // RFC 9110 §15.4: only 301 and 308 say the feed moved for good.
        if matches!(status, 301 | 308) && self.only_permanent_so_far {
            self.moved_to = Some(next.clone());
        } else {
            self.only_permanent_so_far = false;
        }
        tracing::debug!(url = %crate::redact::shown_url(current), status, to = %crate::redact::shown_url(&next), "redirected");
        Ok(next)
    }

    /// Where the feed now lives, when every redirect so far was permanent.
    pub(super) fn moved_to(self) -> Option<Url> {
        self.moved_to
    }
}

/// Refuses an address a server or document named unless it is http(s).
pub(super) fn refuse_unless_http(url: &Url) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        scheme => Err(FetchError::Refused {
            scheme: scheme.to_string(),
        }),
    }
}
