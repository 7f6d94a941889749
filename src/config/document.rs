//! Reading the TOML document into its sections, with spans: each section is
//! deserialized into its raw struct, every bad key reported, and the sections
//! built into a [`Config`].

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::dedup::DedupConfig;
use super::poll::PollConfig;
use super::problems::Problems;
use super::rules::RuleConfig;
use super::server::ServerConfig;
use super::sources::{SourceConfig, build_sources};
use super::storage::StorageConfig;
use super::{Config, SECTIONS};

pub(super) fn build(
    text: &str,
    path: &Path,
    state_dir: Option<&Path>,
    p: &mut Problems,
) -> Option<Config> {
    let (root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for e in &syntax {
            p.toml_error(e, 0..0);
        }
        return None;
    }
    let mut storage = StorageConfig::default();
    let mut poll = PollConfig::default();
    let mut server = ServerConfig::default();
    let mut dedup = DedupConfig::default();
    let mut sources = Vec::new();
    let mut rules = Vec::new();
    for (key, value) in root.into_inner() {
        match key.get_ref().as_ref() {
            "storage" => storage = section(value, p).unwrap_or_default(),
            "poll" => poll = section(value, p).unwrap_or_default(),
            "server" => server = section(value, p).unwrap_or_default(),
            "dedup" => dedup = section(value, p).unwrap_or_default(),
            "source" => sources = array_of_tables::<SourceConfig>(value, "source", p),
            "rule" => rules = array_of_tables::<RuleConfig>(value, "rule", p),
            other => p.at(
                key.span(),
                format!(
                    "unknown section `{other}`, expected one of {}",
                    SECTIONS.join(", ")
                ),
            ),
        }
    }
    let base_dir = Config::base_dir(path);
    Some(Config {
        path: path.to_path_buf(),
        storage: storage.build(&base_dir, state_dir, p),
        poll: poll.build(p),
        server: server.build(p),
        dedup: dedup.build(p),
        sources: build_sources(sources, &base_dir, p),
        rules: rules
            .into_iter()
            .filter_map(|(span, r)| r.build(span, p))
            .collect(),
    })
}

/// Deserializes one table. On failure every offending key is reported, not just
/// the first: each key is tried alone, and the table is read again without the bad
/// keys so that the rest of it is still validated.
fn section<T: DeserializeOwned>(value: Spanned<DeValue<'_>>, p: &mut Problems) -> Option<T> {
    let span = value.span();
    let error = match T::deserialize(ValueDeserializer::from(value.clone())) {
        Ok(t) => return Some(t),
        Err(e) => e,
    };
    let DeValue::Table(table) = value.get_ref() else {
        p.toml_error(&error, span);
        return None;
    };
    let mut good = DeTable::new();
    let mut bad = 0;
    for (k, v) in table.iter() {
        let mut alone = DeTable::new();
        alone.insert(k.clone(), v.clone());
        let alone = Spanned::new(span.clone(), DeValue::Table(alone));
        match T::deserialize(ValueDeserializer::from(alone)) {
            Err(e) if !e.message().starts_with("missing field") => {
                p.toml_error(&e, k.span());
                bad += 1;
            }
            _ => {
                good.insert(k.clone(), v.clone());
            }
        }
    }
    if bad == 0 {
        p.toml_error(&error, span);
        return None;
    }
    T::deserialize(ValueDeserializer::from(Spanned::new(
        span,
        DeValue::Table(good),
    )))
    .ok()
}

fn array_of_tables<T: DeserializeOwned>(
    value: Spanned<DeValue<'_>>,
    name: &str,
    p: &mut Problems,
) -> Vec<(Range<usize>, T)> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(items) => items
            .into_iter()
            .filter_map(|item| {
                let item_span = item.span();
                section(item, p).map(|t| (item_span, t))
            })
            .collect(),
        _ => {
            p.at(
                span,
                format!("`{name}` must be written as [[{name}]] tables"),
            );
            Vec::new()
        }
    }
}

/// A default value for a raw struct's field, at no place in the file.
pub(super) fn unspanned(s: &str) -> Spanned<String> {
    Spanned::new(0..0, s.to_string())
}
