//! The pass read against documents written for one construct each; the
//! fixtures under `tests/fixtures/reading/` show the same through `inspect`.

use super::*;
use crate::parse::parse_feed;

fn url() -> Url {
    Url::parse("https://example.org/feed").unwrap()
}
