//! tributary polls RSS, Atom and JSON feeds, stores their items in SQLite with
//! duplicates folded, and serves one merged feed.
//!
//! The poll is a pipeline, one module per stage:
//! [`config`] -> [`fetch`] -> [`parse`] -> [`identity`] -> [`store`], driven by
//! [`pipeline::poll_source`] and, over many sources, by [`schedule`].
//! [`model`] holds the plain data passed between them.
//! [`daemon`] runs rounds of polls at the ticks [`clock`] derives from the
//! cron schedules.
//!
//! Log fields: `source`, `url`, `status`, `new_items`, `updated_items`, `folded`,
//! `elapsed_ms`, `next_fetch_s`, `error`; for a round, `tick` (the moment it
//! serves) and `due`.

pub mod categorize;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod discover;
pub mod fetch;
pub mod identity;
pub mod inspect;
pub mod metrics;
pub mod model;
pub mod opml;
pub mod parse;
pub mod pipeline;
pub mod politeness;
pub mod redact;
pub mod render;
pub mod sanitize;
pub mod schedule;
pub mod server;
pub mod store;
