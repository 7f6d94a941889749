//! Configuration: TOML text -> raw serde structs (`*Config`) -> a validated [`Config`].
//! Every problem in a file is collected and reported at once, each with its
//! file:line:column, so a user fixes a config in one pass. Defaults live in the
//! `Default` impls below and nowhere else; `config/tributary.toml` documents them.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use url::Url;

pub use crate::categorize::{Rule, RuleAction};
use crate::fetch::FetchSettings;
use crate::model::{IdentityMode, Source};
use crate::store::FoldPolicy;

/// A configuration that passed validation.
#[derive(Debug, Clone)]
pub struct Config {
    /// the file it was read from
    pub path: PathBuf,
    pub storage: Storage,
    pub poll: Poll,
    pub server: Server,
    pub dedup: Dedup,
    pub sources: Vec<Source>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Storage {
    pub database: PathBuf,
    /// how `database` was chosen, for messages that must say where to look
    pub database_from: DatabaseFrom,
    pub retention: Duration,
    pub keep_per_source: u32,
}

/// Where the database path came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseFrom {
    /// `storage.database`, as written in the file (relative to its folder)
    Setting(String),
    /// not set, under systemd: `$STATE_DIRECTORY/tributary.db`
    StateDirectory,
    /// not set, and no `$STATE_DIRECTORY`: `tributary.db` beside the config
    BesideConfig,
}

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
    pub fn fetch_settings(&self) -> FetchSettings {
        FetchSettings {
            user_agent: self.user_agent.clone(),
            timeout: self.timeout,
            max_body: self.max_body,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub listen: SocketAddr,
    /// where self links start: `base_url` when set, else `http://{listen}/`
    pub base_url: Url,
    /// whether `base_url` was set; when not, it follows the address listened on
    pub base_url_explicit: bool,
    pub title: String,
    pub limit: u32,
    /// bytes of rendered pages kept for repeated requests
    pub cache_size: u64,
    /// client connections served at once; more wait to be accepted
    pub max_connections: usize,
    /// how long a request head may take to arrive, from its first byte
    pub header_timeout: Duration,
    /// how long a connection may move no bytes before it is closed
    pub idle_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dedup {
    pub across_feeds: bool,
    pub title_match: bool,
    /// fold the same title from two sources of one site, even without `title_match`
    pub same_site_titles: bool,
    pub title_window: Duration,
}

/// One thing wrong in a config file, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", ProblemList { path, problems })]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

struct ProblemList<'a> {
    path: &'a Path,
    problems: &'a [Problem],
}

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                p.line,
                p.column,
                p.message
            )?;
        }
        Ok(())
    }
}

// ---- raw structs, as the TOML file spells them ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub database: Option<Spanned<String>>,
    pub retention: Spanned<String>,
    pub keep_per_source: u32,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            database: None,
            retention: unspanned("90d"),
            keep_per_source: 200,
        }
    }
}

/// The database file name used when `storage.database` is not set.
pub const DEFAULT_DATABASE: &str = "tributary.db";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollConfig {
    pub schedule: Spanned<String>,
    pub concurrency: Spanned<u32>,
    pub per_host: Spanned<u32>,
    pub timeout: Spanned<String>,
    pub max_body: Spanned<String>,
    pub user_agent: Spanned<String>,
    pub max_errors_before_disable: u32,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: Spanned<String>,
    pub base_url: Option<Spanned<String>>,
    pub title: String,
    pub limit: Spanned<u32>,
    pub cache_size: Spanned<String>,
    pub max_connections: Spanned<u32>,
    pub header_timeout: Spanned<String>,
    pub idle_timeout: Spanned<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: unspanned("127.0.0.1:8080"),
            base_url: None,
            title: "Merged feed".to_string(),
            limit: Spanned::new(0..0, 100),
            cache_size: unspanned("64MiB"),
            max_connections: Spanned::new(0..0, 1024),
            header_timeout: unspanned("10s"),
            idle_timeout: unspanned("60s"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    pub across_feeds: bool,
    pub title_match: bool,
    pub same_site_titles: bool,
    pub title_window: Spanned<String>,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            across_feeds: true,
            title_match: false,
            same_site_titles: true,
            title_window: unspanned("48h"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    #[serde(default)]
    pub categories: Vec<Spanned<String>>,
    pub schedule: Option<Spanned<String>>,
    #[serde(default)]
    pub identity: IdentityMode,
    /// whether items keep the categories their feed gives (default true)
    pub feed_categories: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub category: Option<Spanned<String>>,
    pub drop: Option<Spanned<bool>>,
    pub title: Option<Spanned<String>>,
    pub content: Option<Spanned<String>>,
    pub link: Option<Spanned<String>>,
    pub author: Option<Spanned<String>>,
    pub source: Option<Spanned<String>>,
}

fn unspanned(s: &str) -> Spanned<String> {
    Spanned::new(0..0, s.to_string())
}

/// Top-level tables a config file may hold.
pub const SECTIONS: &[&str] = &["storage", "poll", "server", "dedup", "source", "rule"];

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_str(&text, path)
    }

    /// Validates `text` as if read from `path` (which only names it in errors and
    /// anchors relative paths).
    pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let state_dir = std::env::var_os("STATE_DIRECTORY")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from);
        Config::from_str_in(text, path, state_dir.as_deref())
    }

    /// Validates `text` as [`Config::from_str`] does, as if `$STATE_DIRECTORY`
    /// were `state_dir`: systemd sets it to the service's state folder, where
    /// the database goes when `storage.database` is not set.
    pub fn from_str_in(
        text: &str,
        path: &Path,
        state_dir: Option<&Path>,
    ) -> Result<Config, ConfigError> {
        let mut problems = Problems::new(text);
        let config = build(text, path, state_dir, &mut problems);
        problems.list.sort_by_key(|p| (p.line, p.column));
        match config {
            Some(config) if problems.list.is_empty() => Ok(config),
            _ => Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                problems: problems.list,
            }),
        }
    }

    /// The folder relative paths in the config are resolved against.
    pub fn base_dir(path: &Path) -> PathBuf {
        match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// Collects problems, turning byte spans into line and column.
struct Problems<'a> {
    text: &'a str,
    list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    fn new(text: &'a str) -> Self {
        Problems {
            text,
            list: Vec::new(),
        }
    }

    fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let offset = span.start.min(self.text.len());
        let before = &self.text[..floor_char_boundary(self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        self.list.push(Problem {
            line,
            column,
            message: message.into(),
        });
    }

    fn toml_error(&mut self, error: &toml::de::Error, fallback: Range<usize>) {
        let span = error.span().unwrap_or(fallback);
        let message = error.message().trim().replace('\n', " ");
        self.at(span, message);
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn build(text: &str, path: &Path, state_dir: Option<&Path>, p: &mut Problems) -> Option<Config> {
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

fn duration(value: &Spanned<String>, key: &str, p: &mut Problems) -> Duration {
    match humantime::parse_duration(value.get_ref()) {
        Ok(d) => d,
        Err(e) => {
            p.at(
                value.span(),
                format!(
                    "invalid duration {:?} for `{key}`: {e} (write e.g. \"30s\", \"15m\", \"2h\", \"90d\")",
                    value.get_ref()
                ),
            );
            Duration::ZERO
        }
    }
}

fn cron(value: &Spanned<String>, key: &str, p: &mut Problems) -> String {
    if let Err(e) = crate::clock::parse_cron(value.get_ref()) {
        p.at(
            value.span(),
            format!(
                "invalid cron schedule {:?} for `{key}`: {e} (six fields, with seconds: \"0 */15 * * * *\")",
                value.get_ref()
            ),
        );
    }
    value.get_ref().clone()
}

fn at_least_one(value: &Spanned<u32>, key: &str, p: &mut Problems) -> usize {
    if *value.get_ref() == 0 {
        p.at(value.span(), format!("`{key}` must be at least 1"));
    }
    *value.get_ref() as usize
}

impl StorageConfig {
    fn build(self, base_dir: &Path, state_dir: Option<&Path>, p: &mut Problems) -> Storage {
        let (database, database_from) = match &self.database {
            Some(db) if db.get_ref().trim().is_empty() => {
                p.at(db.span(), "`database` must not be empty");
                (PathBuf::new(), DatabaseFrom::Setting(String::new()))
            }
            Some(db) => (
                base_dir.join(db.get_ref()),
                DatabaseFrom::Setting(db.get_ref().clone()),
            ),
            // Under systemd the state folder is where a service keeps its data.
            None => match state_dir {
                Some(dir) => (dir.join(DEFAULT_DATABASE), DatabaseFrom::StateDirectory),
                None => (base_dir.join(DEFAULT_DATABASE), DatabaseFrom::BesideConfig),
            },
        };
        Storage {
            database,
            database_from,
            retention: duration(&self.retention, "retention", p),
            keep_per_source: self.keep_per_source,
        }
    }
}

impl PollConfig {
    fn build(self, p: &mut Problems) -> Poll {
        let max_body = match self.max_body.get_ref().parse::<bytesize::ByteSize>() {
            Ok(size) if size.as_u64() > 0 => size.as_u64(),
            Ok(_) => {
                p.at(self.max_body.span(), "`max_body` must be larger than 0");
                0
            }
            Err(e) => {
                p.at(
                    self.max_body.span(),
                    format!(
                        "invalid size {:?} for `max_body`: {e} (write e.g. \"10MiB\")",
                        self.max_body.get_ref()
                    ),
                );
                0
            }
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

impl ServerConfig {
    fn build(self, p: &mut Problems) -> Server {
        let (listen, derived) = match listen_address(self.listen.get_ref()) {
            Ok(found) => found,
            Err(e) => {
                p.at(
                    self.listen.span(),
                    format!(
                        "invalid `listen` address {:?}: {e} (write e.g. \"127.0.0.1:8080\" or \"localhost:8080\")",
                        self.listen.get_ref()
                    ),
                );
                let fallback = SocketAddr::from(([127, 0, 0, 1], 0));
                (fallback, base_url_of(&fallback.to_string()))
            }
        };
        let base_url = match &self.base_url {
            None => derived,
            Some(text) => match Url::parse(text.get_ref()) {
                Ok(mut url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                    // Self links are joined onto it, which drops a last segment without '/'.
                    if !url.path().ends_with('/') {
                        url.set_path(&format!("{}/", url.path()));
                    }
                    url
                }
                Ok(_) => {
                    p.at(text.span(), "`base_url` must be an http(s) URL");
                    derived
                }
                Err(e) => {
                    p.at(
                        text.span(),
                        format!("invalid `base_url` {:?}: {e}", text.get_ref()),
                    );
                    derived
                }
            },
        };
        let limit = *self.limit.get_ref();
        if !(1..=1000).contains(&limit) {
            p.at(self.limit.span(), "`limit` must be between 1 and 1000");
        }
        // 0 is allowed: nothing is cached, every request renders.
        let cache_size = match self.cache_size.get_ref().parse::<bytesize::ByteSize>() {
            Ok(size) => size.as_u64(),
            Err(e) => {
                p.at(
                    self.cache_size.span(),
                    format!(
                        "invalid size {:?} for `cache_size`: {e} (write e.g. \"64MiB\")",
                        self.cache_size.get_ref()
                    ),
                );
                0
            }
        };
        let max_connections = at_least_one(&self.max_connections, "max_connections", p);
        let header_timeout = duration(&self.header_timeout, "header_timeout", p);
        let idle_timeout = duration(&self.idle_timeout, "idle_timeout", p);
        for (value, key, d) in [
            (&self.header_timeout, "header_timeout", header_timeout),
            (&self.idle_timeout, "idle_timeout", idle_timeout),
        ] {
            if d.is_zero() && humantime::parse_duration(value.get_ref()).is_ok() {
                p.at(value.span(), format!("`{key}` must be longer than 0s"));
            }
        }
        Server {
            listen,
            base_url,
            base_url_explicit: self.base_url.is_some(),
            title: self.title,
            limit,
            cache_size,
            max_connections,
            header_timeout,
            idle_timeout,
        }
    }
}

impl Server {
    /// Where self links start while the server listens at `bound`, the address
    /// it actually bound: `base_url` when set; otherwise the one built from
    /// `listen`, with the port bound (which `listen` leaves to the system when
    /// it says port 0).
    pub fn base_url_for(&self, bound: SocketAddr) -> Url {
        let mut url = self.base_url.clone();
        if !self.base_url_explicit {
            // An http URL with a host always takes a port.
            let _ = url.set_port(Some(bound.port()));
        }
        url
    }

    /// Whether readers elsewhere could not follow links built from `listen`:
    /// it is an any-address (0.0.0.0, ::) and no `base_url` names the host.
    pub fn base_url_unreachable(&self) -> bool {
        !self.base_url_explicit && self.listen.ip().is_unspecified()
    }
}

/// The address to listen on, and the base URL built from it as written:
/// an IP address and port, or `localhost:PORT` (bound on 127.0.0.1, linked as
/// localhost). Other names are refused: what they resolve to may change.
fn listen_address(text: &str) -> Result<(SocketAddr, Url), String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok((addr, base_url_of(&addr.to_string())));
    }
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| "expected HOST:PORT".to_string())?;
    if !host.eq_ignore_ascii_case("localhost") {
        return Err("the host must be an IP address or localhost".into());
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{port:?} is not a port number"))?;
    Ok((
        SocketAddr::from(([127, 0, 0, 1], port)),
        base_url_of(&format!("localhost:{port}")),
    ))
}

/// `http://{authority}/`, for an authority made from a parsed address.
fn base_url_of(authority: &str) -> Url {
    Url::parse(&format!("http://{authority}/"))
        // An IP address and port, or localhost and a port, always make a valid URL.
        .unwrap_or_else(|_| Url::parse("http://127.0.0.1/").expect("literal URL"))
}

impl DedupConfig {
    fn build(self, p: &mut Problems) -> Dedup {
        Dedup {
            across_feeds: self.across_feeds,
            title_match: self.title_match,
            same_site_titles: self.same_site_titles,
            title_window: duration(&self.title_window, "title_window", p),
        }
    }
}

impl Default for Dedup {
    fn default() -> Self {
        DedupConfig::default().build(&mut Problems::new(""))
    }
}

impl From<&Dedup> for FoldPolicy {
    fn from(d: &Dedup) -> Self {
        FoldPolicy {
            across_feeds: d.across_feeds,
            title_match: d.title_match,
            same_site_titles: d.same_site_titles,
            title_window_ms: d.title_window.as_millis().min(i64::MAX as u128) as i64,
        }
    }
}

/// A category the config names, as its label, or a problem saying why it is none.
fn category_label(c: &Spanned<String>, p: &mut Problems) -> Option<String> {
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

fn build_sources(
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
pub fn source_url_with_credentials(
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
pub fn source_url(text: &str, base_dir: &Path) -> Result<Url, String> {
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

impl RuleConfig {
    fn build(self, span: Range<usize>, p: &mut Problems) -> Option<Rule> {
        let mut ok = true;
        let mut regex = |field: &Option<Spanned<String>>, key: &str| {
            let f = field.as_ref()?;
            match Regex::new(f.get_ref()) {
                Ok(r) => Some(r),
                Err(e) => {
                    let msg = e.to_string().replace('\n', " ");
                    p.at(f.span(), format!("invalid regex for `{key}`: {msg}"));
                    ok = false;
                    None
                }
            }
        };
        let rule = Rule {
            action: RuleAction::Drop,
            title: regex(&self.title, "title"),
            content: regex(&self.content, "content"),
            link: regex(&self.link, "link"),
            author: regex(&self.author, "author"),
            source: regex(&self.source, "source"),
        };
        let anchor = span;
        let drop = self.drop.as_ref().is_some_and(|d| *d.get_ref());
        let matchers = [
            &self.title,
            &self.content,
            &self.link,
            &self.author,
            &self.source,
        ];
        if matchers.iter().all(|m| m.is_none()) {
            p.at(
                anchor.clone(),
                "a rule needs at least one of title, content, link, author, source",
            );
            ok = false;
        }
        let action = match (&self.category, drop) {
            (Some(c), false) => match category_label(c, p) {
                Some(label) => RuleAction::AddCategory(label),
                None => {
                    ok = false;
                    RuleAction::Drop
                }
            },
            (None, true) => RuleAction::Drop,
            (Some(c), true) => {
                p.at(
                    c.span(),
                    "a rule either adds a `category` or sets `drop = true`, not both",
                );
                ok = false;
                RuleAction::Drop
            }
            (None, false) => {
                p.at(anchor, "a rule needs `category = \"...\"` or `drop = true`");
                ok = false;
                RuleAction::Drop
            }
        };
        ok.then_some(Rule { action, ..rule })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_dedup_section_is_the_stores_default_fold_policy() {
        assert_eq!(FoldPolicy::from(&Dedup::default()), FoldPolicy::default());
    }

    use super::*;

    fn load(text: &str) -> Result<Config, Vec<Problem>> {
        Config::from_str(text, Path::new("/etc/tributary/tributary.toml")).map_err(|e| match e {
            ConfigError::Invalid { problems, .. } => problems,
            other => panic!("unexpected {other}"),
        })
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = load("").unwrap();
        assert_eq!(c.poll.concurrency, 64);
        assert_eq!(c.poll.per_host, 2);
        assert_eq!(c.poll.timeout, Duration::from_secs(30));
        assert_eq!(c.poll.max_body, 10 * 1024 * 1024);
        assert!(c.poll.user_agent.starts_with("tributary/0."));
        assert_eq!(c.storage.retention, Duration::from_secs(90 * 86400));
        assert!(c.dedup.across_feeds);
        assert_eq!(c.server.limit, 100);
    }

    #[test]
    fn server_limits_have_defaults_and_are_checked() {
        let c = load("").unwrap();
        assert_eq!(c.server.cache_size, 64 * 1024 * 1024);
        assert_eq!(c.server.max_connections, 1024);
        assert_eq!(c.server.header_timeout, Duration::from_secs(10));
        assert_eq!(c.server.idle_timeout, Duration::from_secs(60));
        let c = load("[server]\ncache_size = \"0\"\nidle_timeout = \"5m\"\n").unwrap();
        assert_eq!(
            (c.server.cache_size, c.server.idle_timeout.as_secs()),
            (0, 300)
        );
        let text = "[server]\ncache_size = \"lots\"\nmax_connections = 0\nheader_timeout = \"0s\"\nidle_timeout = \"soon\"\n";
        let problems = load(text).unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3, 4, 5], "{problems:?}");
    }

    #[test]
    fn relative_database_resolves_against_config_folder() {
        let c = load("[storage]\ndatabase = \"data/feeds.db\"\n").unwrap();
        assert_eq!(
            c.storage.database,
            Path::new("/etc/tributary/data/feeds.db")
        );
        let c = load("[storage]\ndatabase = \"/var/lib/x.db\"\n").unwrap();
        assert_eq!(c.storage.database, Path::new("/var/lib/x.db"));
    }

    #[test]
    fn misspelt_key_is_reported_with_its_line_and_column() {
        let problems = load("[poll]\nconcurrency = 4\nper_hots = 2\n").unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!((problems[0].line, problems[0].column), (3, 1));
        assert!(
            problems[0].message.contains("per_hots"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
[poll]
timeout = "soon"
concurrency = 0
bogus = 1

[server]
limit = 5000

[[source]]
name = "a"
url = "gopher://x"
colour = "red"

[[source]]
name = "a"
url = "https://example.org/feed"
schedule = "every hour"

[[rule]]
title = "(unclosed"
category = "x"
"#;
        let problems = load(text).unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        // bogus, colour, timeout, concurrency, limit, gopher, duplicate name, schedule, regex
        for line in [3, 4, 5, 8, 12, 13, 16, 18, 21] {
            assert!(
                lines.contains(&line),
                "line {line} missing from {problems:#?}"
            );
        }
    }

    #[test]
    fn syntax_error_names_its_position() {
        let problems = load("[poll]\nconcurrency = = 3\n").unwrap_err();
        assert_eq!(problems[0].line, 2, "{problems:?}");
    }

    #[test]
    fn sources_resolve_paths_and_keep_category_labels() {
        let c = load(
            "[[source]]\nname = \"Local\"\nurl = \"feeds/a.xml\"\ncategories = [\" AI \", \"ai\", \"Rust\"]\nidentity = \"link\"\n",
        )
        .unwrap();
        let s = &c.sources[0];
        assert_eq!(s.url.as_str(), "file:///etc/tributary/feeds/a.xml");
        assert_eq!(s.categories, ["AI", "Rust"]);
        assert_eq!(s.identity, IdentityMode::Link);
        assert!(s.feed_categories, "feed categories are kept by default");
    }

    #[test]
    fn a_source_may_turn_its_feeds_categories_off_and_names_no_empty_category() {
        let c = load(
            "[[source]]\nname = \"x\"\nurl = \"https://a.example/\"\nfeed_categories = false\n",
        )
        .unwrap();
        assert!(!c.sources[0].feed_categories);
        let problems = load(
            "[[source]]\nname = \"x\"\nurl = \"https://a.example/\"\nfeed_categories = \"no\"\n\
             [[source]]\nname = \"y\"\nurl = \"https://b.example/\"\nfeed_category = true\n\
             [[source]]\nname = \"z\"\nurl = \"https://c.example/\"\ncategories = [\"ok\", \"!!\"]\n",
        )
        .unwrap_err();
        let at: Vec<(usize, usize)> = problems.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(at, [(4, 19), (8, 1), (12, 21)], "{problems:#?}");
        assert!(
            problems[1].message.contains("feed_category"),
            "{problems:?}"
        );
        assert!(
            problems[2].message.contains("no letter or digit"),
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_identity_mode_is_rejected() {
        let problems =
            load("[[source]]\nname = \"x\"\nurl = \"https://a.example/\"\nidentity = \"uuid\"\n")
                .unwrap_err();
        assert_eq!(problems[0].line, 4, "{problems:?}");
    }

    #[test]
    fn rule_needs_an_action_and_a_matcher() {
        assert!(load("[[rule]]\ntitle = \"x\"\n").is_err());
        assert!(load("[[rule]]\ncategory = \"x\"\n").is_err());
        assert!(load("[[rule]]\ncategory = \"x\"\ndrop = true\ntitle = \"y\"\n").is_err());
        let c = load("[[rule]]\ndrop = true\ntitle = \"(?i)sponsored\"\n").unwrap();
        assert_eq!(c.rules[0].action, RuleAction::Drop);
    }

    #[test]
    fn error_display_is_file_line_column() {
        let err = Config::from_str("[poll]\nbogus = 1\n", Path::new("t.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("t.toml:2:1: "), "{text}");
    }

    /// The names of a struct's fields, as serde sees them.
    fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
        struct Catch(Option<&'static [&'static str]>);
        #[derive(Debug)]
        struct Stop;
        impl std::fmt::Display for Stop {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("stop")
            }
        }
        impl std::error::Error for Stop {}
        impl serde::de::Error for Stop {
            fn custom<M: fmt::Display>(_: M) -> Self {
                Stop
            }
        }
        impl<'de> serde::Deserializer<'de> for &mut Catch {
            type Error = Stop;
            fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
                Err(Stop)
            }
            fn deserialize_struct<V: serde::de::Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Stop> {
                self.0 = Some(fields);
                Err(Stop)
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
                bytes byte_buf option unit unit_struct newtype_struct seq tuple
                tuple_struct map enum identifier ignored_any
            }
        }
        let mut catch = Catch(None);
        let _ = T::deserialize(&mut catch);
        catch.0.expect("a struct")
    }

    fn shipped_config() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/tributary.toml"
        ))
        .expect("config/tributary.toml is shipped")
    }

    /// The shipped file with its commented-out settings turned on.
    fn uncommented(text: &str) -> String {
        let setting = Regex::new(r"^# ?((\[\[?[a-z]+\]\]?)|([a-z_]+ = .*))$").unwrap();
        text.lines()
            .map(|line| match setting.captures(line) {
                Some(c) => c[1].to_string(),
                None => line.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn shipped_config_documents_every_key() {
        let text = uncommented(&shipped_config());
        let table: toml::Table = toml::from_str(&text).expect("uncommented config parses");
        let documented = |section: &str| -> HashSet<String> {
            match &table[section] {
                toml::Value::Table(t) => t.keys().cloned().collect(),
                toml::Value::Array(a) => a
                    .iter()
                    .flat_map(|t| t.as_table().unwrap().keys().cloned())
                    .collect(),
                other => panic!("{section} is {other:?}"),
            }
        };
        let expected = [
            ("storage", field_names::<StorageConfig>()),
            ("poll", field_names::<PollConfig>()),
            ("server", field_names::<ServerConfig>()),
            ("dedup", field_names::<DedupConfig>()),
            ("source", field_names::<SourceConfig>()),
            ("rule", field_names::<RuleConfig>()),
        ];
        assert_eq!(expected.len(), SECTIONS.len());
        for (section, fields) in expected {
            let have = documented(section);
            for field in fields {
                assert!(
                    have.contains(*field),
                    "config/tributary.toml lacks {section}.{field}"
                );
            }
        }
    }

    #[test]
    fn credentials_come_from_the_environment_and_only_into_the_user_info() {
        let env = |name: &str| match name {
            "FEED_TOKEN" => Some("t0k:en@/x".to_string()),
            "FEED_USER" => Some("reader".to_string()),
            _ => None,
        };
        let dir = Path::new("/etc/tributary");
        let url = source_url_with_credentials(
            "https://${FEED_USER}:${FEED_TOKEN}@feeds.example/private.xml",
            dir,
            env,
        )
        .unwrap();
        assert_eq!(url.username(), "reader");
        assert_eq!(url.password().map(percent_decode), Some("t0k:en@/x".into()));
        assert_eq!(url.host_str(), Some("feeds.example"));
        assert_eq!(url.path(), "/private.xml");
        for bad in [
            "https://feeds.example/private.xml?token=${FEED_TOKEN}",
            "https://${FEED_TOKEN}.feeds.example/",
            "https://feeds.example/${FEED_TOKEN}",
            "file:///${FEED_TOKEN}@/x",
        ] {
            let e = source_url_with_credentials(bad, dir, env).unwrap_err();
            assert!(e.contains("user-info"), "{bad}: {e}");
        }
        let e = source_url_with_credentials("https://u:${NOPE}@h.example/", dir, env).unwrap_err();
        assert!(e.contains("\"NOPE\" is not set"), "{e}");
    }

    fn percent_decode(s: &str) -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned()
    }

    #[test]
    fn a_user_agent_no_http_header_can_carry_is_refused() {
        let e = Config::from_str(
            "[poll]\nuser_agent = \"bot\\u0007/1\"\n",
            Path::new("t.toml"),
        )
        .unwrap_err();
        let ConfigError::Invalid { problems, .. } = e else {
            panic!("{e}")
        };
        assert_eq!((problems[0].line, problems[0].column), (2, 14));
        assert!(problems[0].message.contains("user_agent"), "{:?}", problems);
    }

    /// The folder systemd gives the shipped unit as `$STATE_DIRECTORY`.
    fn unit_state_dir() -> PathBuf {
        let unit = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/systemd/tributary.service"
        ))
        .expect("systemd/tributary.service is shipped");
        let name = unit
            .lines()
            .find_map(|l| l.strip_prefix("StateDirectory="))
            .expect("the unit has a state folder");
        Path::new("/var/lib").join(name.trim())
    }

    #[test]
    fn shipped_config_shows_the_real_defaults() {
        // The defaults as the service sees them: under systemd, with the
        // unit's state folder, and with the config where the unit reads it.
        let path = Path::new("/etc/tributary/tributary.toml");
        let state = unit_state_dir();
        let documented =
            Config::from_str_in(&uncommented(&shipped_config()), path, Some(&state)).unwrap();
        let defaults = Config::from_str_in("", path, Some(&state)).unwrap();
        assert_eq!(documented.storage.database, defaults.storage.database);
        assert_eq!(
            (
                documented.storage.retention,
                documented.storage.keep_per_source
            ),
            (defaults.storage.retention, defaults.storage.keep_per_source)
        );
        assert_eq!(documented.poll, defaults.poll);
        let (mut shown, mut server) = (documented.server.clone(), defaults.server.clone());
        // Set or built from `listen`, the default base_url is the same address.
        shown.base_url_explicit = false;
        server.base_url_explicit = false;
        assert_eq!(shown, server);
        assert_eq!(documented.dedup, defaults.dedup);
        assert!(!documented.sources.is_empty() && !documented.rules.is_empty());
    }

    #[test]
    fn the_database_path_says_how_it_was_chosen() {
        let path = Path::new("/etc/tributary/tributary.toml");
        let state = Path::new("/var/lib/tributary");
        let c = Config::from_str_in("", path, Some(state)).unwrap();
        assert_eq!(
            c.storage.database,
            Path::new("/var/lib/tributary/tributary.db")
        );
        assert_eq!(c.storage.database_from, DatabaseFrom::StateDirectory);
        let c = Config::from_str_in("", path, None).unwrap();
        assert_eq!(c.storage.database, Path::new("/etc/tributary/tributary.db"));
        assert_eq!(c.storage.database_from, DatabaseFrom::BesideConfig);
        // A setting wins over the state folder, relative to the config's folder.
        let c = Config::from_str_in("[storage]\ndatabase = \"t.db\"\n", path, Some(state)).unwrap();
        assert_eq!(c.storage.database, Path::new("/etc/tributary/t.db"));
        assert_eq!(
            c.storage.database_from,
            DatabaseFrom::Setting("t.db".into())
        );
    }

    #[test]
    fn without_base_url_links_follow_listen() {
        let cases = [
            ("127.0.0.1:8094", "127.0.0.1:8094", "http://127.0.0.1:8094/"),
            ("localhost:8095", "127.0.0.1:8095", "http://localhost:8095/"),
            ("LocalHost:80", "127.0.0.1:80", "http://localhost/"),
            ("[::1]:8096", "[::1]:8096", "http://[::1]:8096/"),
            ("0.0.0.0:8080", "0.0.0.0:8080", "http://0.0.0.0:8080/"),
        ];
        for (listen, addr, base) in cases {
            let c = load(&format!("[server]\nlisten = \"{listen}\"\n")).unwrap();
            assert_eq!(c.server.listen.to_string(), addr, "{listen}");
            assert_eq!(c.server.base_url.as_str(), base, "{listen}");
            assert!(!c.server.base_url_explicit);
        }
        let c = load("").unwrap();
        assert_eq!(c.server.base_url.as_str(), "http://127.0.0.1:8080/");
        assert!(
            load("[server]\nlisten = \"0.0.0.0:1\"\n")
                .unwrap()
                .server
                .base_url_unreachable()
        );
    }

    #[test]
    fn a_listen_address_that_is_no_address_is_refused() {
        for bad in ["example.org:80", "localhost", "localhost:http", "127.0.0.1"] {
            let problems = load(&format!("[server]\nlisten = \"{bad}\"\n")).unwrap_err();
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
            assert!(problems[0].message.contains("listen"), "{problems:?}");
        }
    }

    #[test]
    fn base_url_for_a_bound_port_keeps_an_explicit_base_url() {
        let bound: SocketAddr = "127.0.0.1:40123".parse().unwrap();
        let derived = load("[server]\nlisten = \"localhost:0\"\n").unwrap();
        assert_eq!(
            derived.server.base_url_for(bound).as_str(),
            "http://localhost:40123/"
        );
        let explicit =
            load("[server]\nlisten = \"127.0.0.1:0\"\nbase_url = \"https://feeds.example/x\"\n")
                .unwrap();
        assert!(explicit.server.base_url_explicit);
        assert_eq!(
            explicit.server.base_url_for(bound).as_str(),
            "https://feeds.example/x/"
        );
    }
}
