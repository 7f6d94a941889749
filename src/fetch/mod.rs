//! Getting a feed's bytes: conditional GET over HTTP(S) with a size cap enforced
//! while reading, redirects followed by hand (so permanent ones can be
//! remembered) up to a limit, one timeout for the whole fetch, and the hints a
//! response gives about when to come back; and `file://` sources, read from disk
//! under the same cap and timeout. Only an address the operator wrote may be a
//! file: whatever a server or document names (redirects, feed links) must be
//! http(s). This file holds the request flow; the parts live beside it.

mod error;
mod file;
mod redirect;
mod response;
#[cfg(test)]
mod tests;

use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::model::Validators;
pub(crate) use error::FetchError;
use redirect::{Redirects, refuse_unless_http};
pub(crate) use response::ResponseMeta;

/// Redirects followed before a fetch gives up.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// A response worth keeping: a body, or word that the stored copy is current.
#[derive(Debug)]
pub(crate) enum FetchOutcome {
    Fetched { body: Vec<u8>, meta: ResponseMeta },
    NotModified { meta: ResponseMeta },
}

/// One HTTP client shared by every fetch, holding the poll settings.
#[derive(Clone)]
pub(crate) struct Fetcher {
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
    pub(crate) fn new(poll: &FetchSettings) -> Result<Fetcher, FetchError> {
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
            .map_err(FetchError::Request)?;
        Ok(Fetcher {
            client,
            max_body: poll.max_body,
            timeout: poll.timeout,
        })
    }

    /// Fetches `url`, an address a server or document named (a feed link on a
    /// page, a stored redirect): http(s) only. `validators` make an unchanged
    /// feed cost a 304.
    pub(crate) async fn fetch(
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
    pub(crate) async fn fetch_configured(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        if url.scheme() == "file" {
            let read = file::read_file(url, validators, self.max_body);
            return tokio::time::timeout(self.timeout, read)
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
    pub(crate) async fn fetch_source(
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

    /// Requests `url`, following redirects, and reads what the last response
    /// says: a body under the cap, a 304, or a failure.
    async fn fetch_http(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let mut current = url.clone();
        let mut redirects = Redirects::new();
        loop {
            let response = self.get(&current, validators).await?;
            let status = response.status().as_u16();
            if response.status().is_redirection() && status != 304 {
                current = redirects.follow(&current, status, response.headers())?;
                continue;
            }
            if status != 304 && !response.status().is_success() {
                return Err(response::status_error(status, response.headers()));
            }
            let meta = ResponseMeta::of_response(
                status,
                current,
                redirects.moved_to(),
                validators,
                response.headers(),
            );
            if status == 304 {
                return Ok(FetchOutcome::NotModified { meta });
            }
            let body = response::read_capped(response, self.max_body, self.timeout).await?;
            let body = response::inflate_if_gzipped(body, self.max_body)?;
            return Ok(FetchOutcome::Fetched { body, meta });
        }
    }

    /// One conditional GET of `url`, no redirect followed.
    async fn get(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<reqwest::Response, FetchError> {
        let mut request = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, lm);
        }
        request
            .send()
            .await
            .map_err(|e| FetchError::from_request(e, self.timeout))
    }
}
