//! Which sources to poll and how many at once: cron parsing, the overall and
//! per-host concurrency limits, and a poll round over many sources.

use croner::Cron;
use croner::parser::{CronParser, Seconds};

/// Parses a six-field cron expression (with seconds), as tokio-cron-scheduler does.
pub fn parse_cron(expr: &str) -> Result<Cron, croner::errors::CronError> {
    CronParser::builder()
        .seconds(Seconds::Required)
        .build()
        .parse(expr)
}
