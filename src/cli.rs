//! The command line: clap definitions and one function per command. Errors become
//! exit codes here: 2 for a bad config or usage, 1 when nothing could run.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use url::Url;

use crate::config::{Config, ConfigError, DatabaseFrom};
use crate::discover::discover_feeds;
use crate::fetch::{FetchOutcome, Fetcher};
use crate::inspect::inspect_json;
use crate::metrics::Outcome;
use crate::model::Story;
use crate::model::Validators;
use crate::model::slug;
use crate::parse::{ParseError, parse_feed};
use crate::pipeline::PollContext;
use crate::render::FeedMeta;
use crate::render::atom::render_atom;
use crate::render::json::render_json;
use crate::render::markdown::{markdown_file_name, render_markdown, unique_file_name};
use crate::render::opml::{is_remote, render_opml};
use crate::render::rss::render_rss;
use crate::schedule::poll_round;
use crate::store::{FoldPolicy, SourceStatus, Store, StoreError, StoryQuery, Writer};

/// Exit code for an invalid config or command line.
pub const EXIT_CONFIG: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "tributary",
    version,
    about = "A feed aggregator daemon: many feeds in, one merged feed out"
)]
pub struct Cli {
    /// Config file [default: $TRIBUTARY_CONFIG, else ./tributary.toml]
    #[arg(long, global = true, env = "TRIBUTARY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log line format on stderr (the filter comes from RUST_LOG)
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Atom 1.0
    Atom,
    /// RSS 2.0
    Rss,
    /// JSON Feed 1.1
    Json,
    /// one Markdown file per story, written into --out DIR
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch every source (or the named ones) once, store what is new, print a summary
    #[command(after_help = "Example:\n  tributary poll --config config/demo.toml --json")]
    Poll {
        /// Poll only this source (repeatable)
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// End with a one-line JSON summary on stdout
        #[arg(long)]
        json: bool,
    },
    /// Validate the config and print the resolved sources; exit 2 when invalid
    #[command(after_help = "Example:\n  tributary check --config /etc/tributary/tributary.toml")]
    Check,
    /// Fetch or read one feed and print, as JSON, how tributary sees it; stores nothing
    #[command(after_help = "Example:\n  tributary inspect https://example.org/feed.xml")]
    Inspect {
        /// An http(s) or file URL, or a path
        target: String,
    },
    /// Write the merged feed, from the database, to stdout
    #[command(
        after_help = "Example:\n  tributary export --format json --category ai --limit 0\n\nThe database is only read, never created or changed."
    )]
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Only stories in this category
        #[arg(long, value_name = "C")]
        category: Option<String>,
        /// At most N stories, newest first; 0 for every story [default: server.limit]
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
        /// The folder Markdown files are written into
        #[arg(long, value_name = "DIR", required_if_eq("format", "markdown"))]
        out: Option<PathBuf>,
    },
    /// Serve the merged feed over HTTP and keep the sources polled, until stopped
    #[command(after_help = "Example:\n  tributary run --config config/demo.toml")]
    Run,
    /// Add a feed to the config file, from its address or its site's
    #[command(
        after_help = "Example:\n  tributary add https://blog.example.org/ --category rust\n\nA site's page is searched for its feed (<link rel=\"alternate\">, then /feed, /rss.xml, ...).\nA running daemon picks the new source up on SIGHUP (systemctl reload tributary)."
    )]
    Add {
        /// A feed's address, or a site's page
        url: String,
        /// The source's name [default: the feed's title]
        #[arg(long)]
        name: Option<String>,
        /// A category for its items (repeatable)
        #[arg(long = "category", value_name = "C")]
        categories: Vec<String>,
    },
    /// Print the [[source]] tables for the feeds of an OPML file, or add them to the config
    #[command(
        name = "import-opml",
        after_help = "Example:\n  tributary import-opml subscriptions.opml --write\n\nFolders become categories."
    )]
    ImportOpml {
        file: PathBuf,
        /// Add them to the config file (keeping its comments) instead of printing them
        #[arg(long)]
        write: bool,
    },
    /// Print the configured sources as OPML 2.0
    #[command(
        name = "export-opml",
        after_help = "Example:\n  tributary export-opml > subscriptions.opml"
    )]
    ExportOpml,
    /// Print a shell completion script
    #[command(
        after_help = "Example:\n  tributary completions bash > /etc/bash_completion.d/tributary"
    )]
    Completions { shell: clap_complete::Shell },
    /// Show each source's fetch state: last fetch, status, next fetch, items, errors
    #[command(
        after_help = "Example:\n  tributary sources --config config/demo.toml\n\nThe database is only read, never created or changed."
    )]
    Sources {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

impl Cli {
    /// The default log filter when RUST_LOG is unset: the daemon says what each
    /// poll did; one-shot commands stay quiet but for warnings, so their output is
    /// the summary.
    pub fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Run => "info",
            _ => "warn",
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config_path = cli
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("tributary.toml"));
    match cli.command {
        Command::Poll { sources, json } => poll(&config_path, &sources, json).await,
        Command::Check => check(&config_path),
        Command::Inspect { target } => inspect(&target).await,
        Command::Sources { json } => sources_table(&config_path, json),
        Command::Export {
            format,
            category,
            limit,
            out,
        } => export(&config_path, format, category, limit, out),
        Command::Run => {
            let config = match load_config(&config_path) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            crate::daemon::run(&config_path, config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Add {
            url,
            name,
            categories,
        } => add(&config_path, &url, name, &categories).await,
        Command::ImportOpml { file, write } => import_opml(&config_path, &file, write),
        Command::ExportOpml => {
            let config = match load_config(&config_path) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            // Sites are known once feeds have been read; without a database
            // the list is still written, only without them.
            let site_links = match crate::store::open_reader(&config.storage.database) {
                Ok(store) => store.site_links()?,
                Err(StoreError::Missing { .. }) => Default::default(),
                Err(e) => {
                    eprintln!("warning: sites left out: {e}");
                    Default::default()
                }
            };
            std::io::stdout().write_all(&render_opml(
                &config.server.title,
                &config.sources,
                &site_links,
            ))?;
            match config.sources.iter().filter(|s| !is_remote(s)).count() {
                0 => {}
                1 => eprintln!("1 source read from a local file left out"),
                n => eprintln!("{n} sources read from local files left out"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            // Written whole, so a closed pipe is an error returned, not a panic.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "tributary", &mut script);
            std::io::stdout().write_all(&script)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Loads the config, or prints every problem and gives the exit code to end with.
pub(crate) fn load_config(path: &std::path::Path) -> Result<Config, ExitCode> {
    Config::load(path).map_err(|e| {
        match &e {
            ConfigError::Invalid { problems, .. } => {
                eprintln!("{e}");
                eprintln!(
                    "config has {}; nothing was changed",
                    counted(problems.len() as u64, "problem", "problems")
                );
            }
            ConfigError::Read { .. } => eprintln!("error: {e}"),
        }
        ExitCode::from(EXIT_CONFIG)
    })
}

fn check(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = match load_config(path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let mut out = std::io::stdout().lock();
    let storage = &config.storage;
    writeln!(out, "{}: ok", path.display())?;
    let chosen = match &storage.database_from {
        DatabaseFrom::Setting(text) => format!("storage.database = {text:?}"),
        DatabaseFrom::StateDirectory => {
            "storage.database unset: $STATE_DIRECTORY/tributary.db".to_string()
        }
        DatabaseFrom::BesideConfig => {
            "storage.database and $STATE_DIRECTORY unset: beside the config".to_string()
        }
    };
    writeln!(out, "database: {} ({chosen})", storage.database.display())?;
    let from = if config.server.base_url_explicit {
        "server.base_url"
    } else {
        "built from server.listen"
    };
    writeln!(out, "base_url: {} ({from})", config.server.base_url)?;
    writeln!(out, "schedule: {}", config.poll.schedule)?;
    writeln!(
        out,
        "{}:",
        counted(config.sources.len() as u64, "source", "sources")
    )?;
    let rows: Vec<Vec<String>> = config
        .sources
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                crate::redact::shown_url(&s.url),
                s.categories.join(","),
                s.schedule.clone().unwrap_or_else(|| "-".into()),
                s.identity.as_str().to_string(),
            ]
        })
        .collect();
    write_table(
        &mut out,
        &["name", "url", "categories", "schedule", "identity"],
        &rows,
        |_, line| line,
    )?;
    writeln!(
        out,
        "{}",
        counted(config.rules.len() as u64, "rule", "rules")
    )?;
    out.flush()?;
    if config.server.base_url_unreachable() {
        eprintln!(
            "warning: links in the served feeds start with {}, which readers elsewhere cannot \
             reach; set server.base_url to the address they use",
            config.server.base_url
        );
    }
    Ok(check_database(&config))
}

/// Whether the service could write its database: a folder or file it cannot
/// write is an error (exit 1), told before the service starts and fails. A
/// default path beside the config is only the by-hand path: the service, under
/// systemd, uses its state folder, so there it is a warning.
fn check_database(config: &Config) -> ExitCode {
    let db = &config.storage.database;
    // One that exists must be one tributary can use; read, not changed.
    if db.exists() {
        match crate::store::open_reader(db) {
            Ok(_) | Err(StoreError::TooOld { .. }) => {}
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let Some(problem) = crate::store::why_unwritable(db) else {
        return ExitCode::SUCCESS;
    };
    if config.storage.database_from == DatabaseFrom::BesideConfig {
        eprintln!(
            "warning: database {}: {problem}\n  \
             `tributary run` started by hand with this config could not store anything; \
             the service under systemd uses $STATE_DIRECTORY/tributary.db instead, \
             as storage.database is not set",
            db.display()
        );
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "error: database {}: {problem}\n  the service could not store anything there; {}",
        db.display(),
        match &config.storage.database_from {
            DatabaseFrom::Setting(_) => {
                "make it writable, or point storage.database at a writable folder \
                 (under systemd, unset it to use $STATE_DIRECTORY/tributary.db)"
            }
            _ => "make the state folder writable by the service",
        }
    );
    ExitCode::FAILURE
}

/// Opens the database for the commands that only read it, or says on stderr
/// why it cannot be read and, when it is missing, where the commands looked
/// and where the service keeps it.
fn open_database(config: &Config) -> Result<Box<dyn Store>, ExitCode> {
    let error = match crate::store::open_reader(&config.storage.database) {
        Ok(store) => return Ok(store),
        Err(e) => e,
    };
    eprintln!("error: {error}");
    if matches!(error, StoreError::Missing { .. }) {
        eprintln!("{}", where_the_database_is(config));
    }
    Err(ExitCode::FAILURE)
}

/// How the database path was chosen, and how the service chooses its own.
fn where_the_database_is(config: &Config) -> String {
    let file = config.path.display();
    let why = match &config.storage.database_from {
        DatabaseFrom::Setting(text) => {
            format!("storage.database = {text:?} in {file}, relative to that file's folder")
        }
        DatabaseFrom::StateDirectory => format!(
            "storage.database is not set in {file}, and $STATE_DIRECTORY is {}",
            config
                .storage
                .database
                .parent()
                .unwrap_or(std::path::Path::new("?"))
                .display()
        ),
        DatabaseFrom::BesideConfig => format!(
            "storage.database is not set in {file}, nor $STATE_DIRECTORY: beside the config"
        ),
    };
    format!(
        "  looked there: {why}\n  \
         the service's database is storage.database when set (relative to the config's folder),\n  \
         else $STATE_DIRECTORY/tributary.db (systemd sets it: /var/lib/tributary/tributary.db \
         with the shipped unit)\n  \
         to read that one by hand, set storage.database, or run with \
         STATE_DIRECTORY=/var/lib/tributary\n  \
         nothing was created; `tributary poll` or the service creates the database"
    )
}

/// "1 source", "2 sources".
fn counted(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

async fn poll(path: &std::path::Path, names: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let config = match load_config(path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    for name in names {
        if !config.sources.iter().any(|s| &s.name == name) {
            eprintln!("error: no source named {name:?} in {}", path.display());
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    }
    let mut store = crate::store::open(&config.storage.database)?;
    store.set_fold_policy(FoldPolicy::from(&config.dedup));
    store.name_categories(&crate::categorize::configured_labels(
        &config.sources,
        &config.rules,
    ))?;
    let states = store.sync_sources(&config.sources)?;
    let jobs: Vec<_> = config
        .sources
        .iter()
        .cloned()
        .zip(states)
        .filter(|(s, state)| {
            if names.is_empty() {
                // A disabled source is polled only when asked for by name.
                !state.disabled
            } else {
                names.contains(&s.name)
            }
        })
        .collect();
    let (writer, writer_thread) = Writer::spawn(store);
    let ctx = PollContext::new(&config, writer, None)?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(jobs.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .expect("static template is valid"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let summary = poll_round(
        ctx,
        jobs,
        config.poll.concurrency,
        config.poll.per_host,
        std::time::Duration::ZERO,
        |report| {
            bar.inc(1);
            bar.set_message(report.name.clone());
        },
    )
    .await?;
    bar.finish_and_clear();
    let mut store = writer_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the database writer failed"))?;
    prune(&mut *store, &config)?;

    let mut err = std::io::stderr().lock();
    for r in summary
        .reports
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
    {
        writeln!(
            err,
            "failed: {}: {}",
            r.name,
            r.error.as_deref().unwrap_or("?")
        )?;
    }
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", summary.to_json())?;
    } else {
        writeln!(
            out,
            "polled {}: {} ok, {} not modified, {} failed; {} new, {} updated, {} folded in {:.2} s",
            counted(
                summary.ok + summary.not_modified + summary.failed,
                "source",
                "sources"
            ),
            summary.ok,
            summary.not_modified,
            summary.failed,
            summary.counts.new,
            summary.counts.updated,
            summary.counts.folded,
            summary.elapsed_ms as f64 / 1000.0
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn add(
    path: &std::path::Path,
    url: &str,
    name: Option<String>,
    categories: &[String],
) -> anyhow::Result<ExitCode> {
    let config = match load_config(path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let url = match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        // "example.org/blog" is what people paste.
        _ => Url::parse(&format!("https://{url}"))
            .with_context(|| format!("{url:?} is not an address"))?,
    };
    let fetcher = Fetcher::new(&config.poll.fetch_settings())?;
    let found = match crate::discover::find_feed(&fetcher, &url).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: no feed found: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let name = name
        .or(found.feed.title.clone())
        .or_else(|| found.url.host_str().map(str::to_string))
        .unwrap_or_else(|| found.url.to_string());
    let feed = crate::opml::OpmlFeed {
        name,
        url: found.url.to_string(),
        categories: {
            let mut labels = crate::model::Labels::default();
            for c in categories {
                labels.add(c);
            }
            labels.into_vec()
        },
    };
    let added = add_to_config(path, &[feed])?;
    let mut out = std::io::stdout().lock();
    match added.first() {
        Some(f) => writeln!(
            out,
            "added {:?} ({}, {} now) to {}; `systemctl reload tributary` or SIGHUP picks it up",
            f.name,
            f.url,
            counted(found.feed.items.len() as u64, "item", "items"),
            path.display()
        )?,
        None => writeln!(
            out,
            "{} is already a source in {}",
            found.url,
            path.display()
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

fn import_opml(
    path: &std::path::Path,
    file: &std::path::Path,
    write: bool,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let feeds = match crate::opml::parse_opml(&bytes) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut out = std::io::stdout().lock();
    if !write {
        write!(out, "{}", crate::opml::sources_toml(&feeds))?;
        return Ok(ExitCode::SUCCESS);
    }
    let added = add_to_config(path, &feeds)?;
    writeln!(
        out,
        "added {} of {} to {} ({} already there)",
        added.len(),
        counted(feeds.len() as u64, "feed", "feeds"),
        path.display(),
        feeds.len() - added.len()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Appends sources to the config file, keeping its comments and layout, and only
/// if the result is still a valid config.
fn add_to_config(
    path: &std::path::Path,
    feeds: &[crate::opml::OpmlFeed],
) -> anyhow::Result<Vec<crate::opml::OpmlFeed>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("cannot edit {}", path.display()))?;
    let added = crate::opml::append_sources(&mut doc, feeds);
    if added.is_empty() {
        return Ok(added);
    }
    let new_text = doc.to_string();
    Config::from_str(&new_text, path)
        .context("the config would not be valid with these sources")?;
    // Written beside and renamed over, so a crash never leaves half a config.
    let tmp = path.with_extension("toml.new");
    std::fs::write(&tmp, &new_text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(added)
}

/// Retention, after a poll round: old items beyond each source's newest few go.
fn prune(store: &mut dyn Store, config: &Config) -> anyhow::Result<()> {
    let pruned = store.prune_past_retention(
        config.storage.retention,
        config.storage.keep_per_source,
        Utc::now(),
    )?;
    if pruned > 0 {
        tracing::info!(pruned, "pruned items past retention");
    }
    Ok(())
}

async fn inspect(target: &str) -> anyhow::Result<ExitCode> {
    let url = match Url::parse(target) {
        Ok(url) if matches!(url.scheme(), "http" | "https" | "file") => url,
        _ => {
            let path = std::path::absolute(target).with_context(|| format!("bad path {target}"))?;
            Url::from_file_path(&path).map_err(|()| anyhow::anyhow!("bad path {target}"))?
        }
    };
    let shown = crate::redact::shown_url(&url);
    let defaults = Config::from_str("", std::path::Path::new("tributary.toml"))
        .expect("the defaults are valid");
    let fetcher = Fetcher::new(&defaults.poll.fetch_settings())?;
    let (body, final_url) = match fetcher.fetch_configured(&url, &Validators::default()).await {
        Ok(FetchOutcome::Fetched { body, meta }) => (body, meta.final_url),
        Ok(FetchOutcome::NotModified { .. }) => {
            bail!("unexpected 304 for an unconditional request")
        }
        Err(e) => {
            eprintln!("cannot fetch {shown}: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let (feed, found_at) = match parse_feed(&body, &final_url) {
        Ok(feed) => (feed, None),
        // A web page is followed to the feed it announces, as `poll` and `add`
        // do; only to an http(s) one, never to a local file. A page read from a
        // file is not followed: inspecting a file never reaches the network.
        Err(ParseError::Html) if final_url.scheme() != "file" => {
            let Some(feed_url) = discover_feeds(&body, &final_url).into_iter().next() else {
                eprintln!(
                    "cannot parse {shown}: {} and links no feed",
                    ParseError::Html
                );
                return Ok(ExitCode::FAILURE);
            };
            let shown_feed = crate::redact::shown_url(&feed_url);
            let (body, at) = match fetcher.fetch(&feed_url, &Validators::default()).await {
                Ok(FetchOutcome::Fetched { body, meta }) => (body, meta.final_url),
                Ok(FetchOutcome::NotModified { .. }) => {
                    bail!("unexpected 304 for an unconditional request")
                }
                Err(e) => {
                    eprintln!("cannot fetch {shown_feed}, the feed {shown} links: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            match parse_feed(&body, &at) {
                Ok(feed) => {
                    eprintln!("{shown} is a web page; its feed is {shown_feed}");
                    (feed, Some(feed_url))
                }
                Err(e) => {
                    eprintln!("cannot parse {shown_feed}, the feed {shown} links: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Err(e) => {
            eprintln!("cannot parse {shown}: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let text = serde_json::to_string_pretty(&inspect_json(feed, found_at.as_ref()))?;
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(ExitCode::SUCCESS)
}

fn export(
    path: &std::path::Path,
    format: ExportFormat,
    category: Option<String>,
    limit: Option<u32>,
    out_dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let config = match load_config(path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let store = match open_database(&config) {
        Ok(store) => store,
        Err(code) => return Ok(code),
    };
    let category = category.map(|c| slug(&c));
    let limit = match limit.unwrap_or(config.server.limit) {
        0 => None,
        n => Some(n),
    };
    let stories = store.stories(&StoryQuery {
        categories: category.iter().cloned().collect(),
        limit,
        ..StoryQuery::default()
    })?;
    let base = &config.server.base_url;
    let (title, self_path) = match &category {
        Some(c) => {
            // The config's spelling, else the one stored first, as the server shows it.
            let configured = crate::categorize::configured_labels(&config.sources, &config.rules);
            let label = match configured.into_iter().find(|l| &slug(l) == c) {
                Some(label) => label,
                None => store.category_label(c)?.unwrap_or_else(|| c.clone()),
            };
            (
                format!("{} — {label}", config.server.title),
                format!("c/{c}"),
            )
        }
        None => (config.server.title.clone(), "feed".to_string()),
    };
    let ext = match format {
        ExportFormat::Atom => "atom",
        ExportFormat::Rss => "rss",
        ExportFormat::Json | ExportFormat::Markdown => "json",
    };
    let meta = FeedMeta {
        title,
        home_url: base.clone(),
        self_url: base.join(&format!("{self_path}.{ext}"))?,
        next_url: None,
    };
    let body = match format {
        ExportFormat::Atom => render_atom(&meta, &stories),
        ExportFormat::Rss => render_rss(&meta, &stories),
        ExportFormat::Json => render_json(&meta, &stories),
        ExportFormat::Markdown => {
            let dir = out_dir.context("--out DIR is required with --format markdown")?;
            let (written, failed) = write_markdown(&dir, &stories)?;
            let files = if written == 1 { "file" } else { "files" };
            if failed == 0 {
                eprintln!("wrote {written} {files} to {}", dir.display());
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!(
                "wrote {written} {files} to {}; {failed} could not be written",
                dir.display()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&body)?;
    writeln!(out)?;
    Ok(ExitCode::SUCCESS)
}

/// One file per story. A name already used in this export gets the story's id
/// appended, so no story overwrites another; a story that cannot be written is
/// reported and the others are still written. Returns how many were written and
/// how many failed.
fn write_markdown(dir: &std::path::Path, stories: &[Story]) -> anyhow::Result<(usize, usize)> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Compared without case: several file systems do not tell "A.md" from "a.md".
    let mut used = std::collections::HashSet::new();
    let (mut written, mut failed) = (0, 0);
    for story in stories {
        let mut name = markdown_file_name(story);
        if !used.insert(name.to_lowercase()) {
            name = unique_file_name(&name, story);
            used.insert(name.to_lowercase());
        }
        let path = dir.join(&name);
        let text = std::panic::catch_unwind(|| render_markdown(story));
        let result = match text {
            Ok(text) => write_replacing(&path, text.as_bytes()).map_err(|e| e.to_string()),
            Err(_) => Err("the story could not be converted to Markdown".to_string()),
        };
        match result {
            Ok(()) => written += 1,
            Err(e) => {
                failed += 1;
                eprintln!("cannot write {}: {e}", path.display());
            }
        }
    }
    Ok((written, failed))
}

/// Writes `bytes` to `path` through a temporary file renamed over it, so a file
/// of an earlier export is replaced whole and a link at `path` is not followed.
fn write_replacing(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn sources_table(path: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    let config = match load_config(path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let store = match open_database(&config) {
        Ok(store) => store,
        Err(code) => return Ok(code),
    };
    let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
    let stored = store.source_statuses(&names)?;
    // The configured sources, each with its stored state. One not fetched yet
    // has no row, and one whose address changed starts afresh at its next
    // poll: both are shown as the poll will see them, without writing that.
    let mut statuses: Vec<SourceStatus> = config
        .sources
        .iter()
        .map(|source| {
            let url = source.url.to_string();
            match stored.iter().find(|row| row.name == source.name) {
                Some(row) if row.url == url => row.clone(),
                row => SourceStatus {
                    name: source.name.clone(),
                    url: url.clone(),
                    fetch_url: url,
                    last_fetch_at: None,
                    last_status: None,
                    next_fetch_at: None,
                    items: row.map_or(0, |r| r.items),
                    consecutive_errors: 0,
                    last_error: None,
                    disabled: false,
                },
            }
        })
        .collect();
    for s in &mut statuses {
        s.url = crate::redact::redact_text(&s.url).into_owned();
        s.fetch_url = crate::redact::redact_text(&s.fetch_url).into_owned();
        s.last_error = s
            .last_error
            .as_deref()
            .map(|e| crate::redact::redact_text(e).into_owned());
    }
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&statuses)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let time = |t: Option<DateTime<Utc>>| {
        t.map_or_else(
            || "-".to_string(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
        )
    };
    let categories = |name: &str| {
        config
            .sources
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.categories.join(","))
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "-".into())
    };
    let rows: Vec<Vec<String>> = statuses
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.fetch_url.clone(),
                categories(&s.name),
                time(s.last_fetch_at),
                match (s.disabled, s.last_status) {
                    (true, _) => "disabled".to_string(),
                    (false, Some(st)) => st.to_string(),
                    (false, None) => "-".to_string(),
                },
                time(s.next_fetch_at),
                s.items.to_string(),
                s.consecutive_errors.to_string(),
                s.last_error.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    write_table(
        &mut out,
        &[
            "name",
            "url",
            "categories",
            "last fetch (UTC)",
            "status",
            "next fetch (UTC)",
            "items",
            "errors",
            "last error",
        ],
        &rows,
        // Colours only reach a terminal: console turns them off for pipes.
        |i, line| {
            let s = &statuses[i];
            if s.disabled {
                console::style(line).yellow().to_string()
            } else if s.consecutive_errors > 0 {
                console::style(line).red().to_string()
            } else {
                line
            }
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Left-aligned columns, two spaces apart, the last one unpadded; `paint` may
/// colour a row's finished line.
fn write_table(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<String>],
    paint: impl Fn(usize, String) -> String,
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for (i, row) in rows.iter().enumerate() {
        writeln!(
            out,
            "{}",
            paint(i, line(row.iter().map(String::as_str).collect()))
        )?;
    }
    Ok(())
}
