//! The command line as clap reads it: the global options, each command and its
//! arguments, and the log filter a command starts with.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

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
