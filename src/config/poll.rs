//! The `[poll]` section: when and how feeds are fetched, and the fetcher's
//! settings drawn from it.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::document::unspanned;
use super::problems::Problems;
use super::values::{at_least_one, cron, duration, size};
use crate::fetch::FetchSettings;

#[derive(Debug, Clone, PartialEq)]
pub struct Poll {
    pub schedule: String,
    pub concurrency: usize,
    pub per_host: usize,
    pub timeout: Duration,
    pub max_body: u64,
    pub user_agent: String,
    pub max_errors_before_disable: u32,
}

impl Poll {
    pub(crate) fn fetch_settings(&self) -> FetchSettings {
        FetchSettings {
            user_agent: self.user_agent.clone(),
            timeout: self.timeout,
            max_body: self.max_body,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct PollConfig {
    schedule: Spanned<String>,
    concurrency: Spanned<u32>,
    per_host: Spanned<u32>,
    timeout: Spanned<String>,
    max_body: Spanned<String>,
    user_agent: Spanned<String>,
    max_errors_before_disable: u32,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            schedule: unspanned("0 */15 * * * *"),
            concurrency: Spanned::new(0..0, 64),
            per_host: Spanned::new(0..0, 2),
            timeout: unspanned("30s"),
            max_body: unspanned("10MiB"),
            user_agent: unspanned("tributary/VERSION (+https://example.org/bot)"),
            max_errors_before_disable: 0,
        }
    }
}

impl PollConfig {
    pub(super) fn build(self, p: &mut Problems) -> Poll {
        let max_body = match size(&self.max_body, "max_body", "10MiB", p) {
            Some(0) => {
                p.at(self.max_body.span(), "`max_body` must be larger than 0");
                0
            }
            Some(bytes) => bytes,
            None => 0,
        };
        let timeout = duration(&self.timeout, "timeout", p);
        if timeout.is_zero() && p.list.is_empty() {
            p.at(self.timeout.span(), "`timeout` must be longer than 0s");
        }
        let user_agent = self
            .user_agent
            .get_ref()
            .replace("VERSION", env!("CARGO_PKG_VERSION"));
        if user_agent.trim().is_empty() {
            p.at(self.user_agent.span(), "`user_agent` must not be empty");
        } else if reqwest::header::HeaderValue::from_str(&user_agent).is_err() {
            p.at(
                self.user_agent.span(),
                "`user_agent` must be text an HTTP header can carry (no control characters)",
            );
        }
        Poll {
            schedule: cron(&self.schedule, "schedule", p),
            concurrency: at_least_one(&self.concurrency, "concurrency", p),
            per_host: at_least_one(&self.per_host, "per_host", p),
            timeout,
            max_body,
            user_agent,
            max_errors_before_disable: self.max_errors_before_disable,
        }
    }
}
