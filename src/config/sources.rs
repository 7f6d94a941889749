//! The `[[source]]` tables: each feed's name, URL (with credentials from the
//! environment), categories, schedule and identity mode, built into
//! [`Source`]s.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::problems::Problems;
use super::values::cron;
use crate::model::{IdentityMode, Source};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SourceConfig {
    name: Spanned<String>,
    url: Spanned<String>,
    #[serde(default)]
    categories: Vec<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    #[serde(default)]
    identity: IdentityMode,
    /// whether items keep the categories their feed gives (default true)
    feed_categories: Option<bool>,
}

/// A category the config names, as its label, or a problem saying why it is none.
pub(super) fn category_label(c: &Spanned<String>, p: &mut Problems) -> Option<String> {
    use crate::model::{MAX_LABEL_CHARS, label};
    let label = label(c.get_ref());
    if label.is_none() {
        let why = if c.get_ref().trim().is_empty() {
            "a category must not be empty".to_string()
        } else if c.get_ref().chars().any(char::is_alphanumeric) {
            format!(
                "category {:?} is longer than {MAX_LABEL_CHARS} characters",
                c.get_ref()
            )
        } else {
            format!(
                "category {:?} has no letter or digit to name it by",
                c.get_ref()
            )
        };
        p.at(c.span(), why);
    }
    label
}

pub(super) fn build_sources(
    raw: Vec<(Range<usize>, SourceConfig)>,
    base_dir: &Path,
    p: &mut Problems,
) -> Vec<Source> {
    let mut names = HashSet::new();
    let mut sources = Vec::new();
    for (_, s) in raw {
        let name = s.name.get_ref().trim().to_string();
        if name.is_empty() {
            p.at(s.name.span(), "source `name` must not be empty");
        } else if !names.insert(name.clone()) {
            p.at(s.name.span(), format!("duplicate source name {name:?}"));
        }
        let url = match source_url_with_credentials(s.url.get_ref(), base_dir, |name| {
            std::env::var(name).ok()
        }) {
            Ok(url) => Some(url),
            Err(e) => {
                p.at(s.url.span(), format!("source {name:?}: {e}"));
                None
            }
        };
        let mut categories = crate::model::Labels::default();
        for c in &s.categories {
            match category_label(c, p) {
                Some(label) => categories.add(&label),
                None => continue,
            }
        }
        let schedule = s.schedule.as_ref().map(|v| cron(v, "schedule", p));
        if let Some(url) = url {
            sources.push(Source {
                name,
                url,
                categories: categories.into_vec(),
                schedule,
                identity: s.identity,
                feed_categories: s.feed_categories.unwrap_or(true),
            });
        }
    }
    sources
}

/// A source URL whose user-info part (`https://user:${TOKEN}@host/feed`) may name
/// environment variables, so that credentials stay out of the config file. They
/// are allowed there only: the user-info is never shown anywhere (see
/// [`crate::redact`]), while the rest of an address appears in outputs and logs.
pub(super) fn source_url_with_credentials(
    text: &str,
    base_dir: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Url, String> {
    if !text.contains("${") {
        return source_url(text, base_dir);
    }
    let only_there = || {
        format!(
            "{text:?}: an environment reference (${{NAME}}) may only stand in the \
             user-info part of an http(s) URL, as in https://user:${{TOKEN}}@host/feed"
        )
    };
    let (scheme, rest) = text.split_once("://").ok_or_else(only_there)?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (userinfo, host) = rest[..authority_end]
        .rsplit_once('@')
        .ok_or_else(only_there)?;
    let after = &rest[authority_end..];
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
        || host.contains("${")
        || after.contains("${")
    {
        return Err(only_there());
    }
    let mut expanded = String::new();
    let mut tail = userinfo;
    while let Some(start) = tail.find("${") {
        expanded.push_str(&tail[..start]);
        let end = tail[start..]
            .find('}')
            .ok_or_else(|| format!("{text:?}: `${{` without a closing `}}`"))?;
        let name = &tail[start + 2..start + end];
        let value = env(name).ok_or_else(|| format!("environment variable {name:?} is not set"))?;
        expanded.push_str(&value);
        tail = &tail[start + end + 1..];
    }
    expanded.push_str(tail);
    let mut url = source_url(&format!("{scheme}://{host}{after}"), base_dir)?;
    let (user, password) = match expanded.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (expanded.as_str(), None),
    };
    url.set_username(user)
        .and_then(|()| url.set_password(password))
        .map_err(|()| format!("{text:?}: this URL cannot carry a user name or password"))?;
    Ok(url)
}

/// A source URL: http(s) or file, or a bare path read relative to the config folder.
fn source_url(text: &str, base_dir: &Path) -> Result<Url, String> {
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https" | "file") => {
            if url.scheme() != "file" && url.host_str().is_none_or(str::is_empty) {
                return Err(format!("URL {text:?} has no host"));
            }
            Ok(url)
        }
        Ok(url) if url.scheme().len() > 1 => Err(format!(
            "unsupported URL scheme {:?} in {text:?} (use http, https or file)",
            url.scheme()
        )),
        // No scheme, or a one-letter one (a Windows drive): a local path.
        _ => {
            if text.trim().is_empty() {
                return Err("`url` must not be empty".to_string());
            }
            let path = base_dir.join(text);
            let path = std::path::absolute(&path).map_err(|e| format!("bad path {text:?}: {e}"))?;
            Url::from_file_path(&path).map_err(|()| format!("bad path {text:?}"))
        }
    }
}
