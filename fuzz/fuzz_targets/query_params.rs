//! Any query string: parsed or refused as a bad request, never a panic; what is
//! accepted stays within the contract's bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary::server::{MAX_LIMIT, parse_params};

fuzz_target!(|data: &str| {
    if let Ok(p) = parse_params(Some(data)) {
        assert!(p.limit.is_none_or(|l| (1..=MAX_LIMIT).contains(&l)));
        assert!(p.q.as_deref().is_none_or(|q| !q.trim().is_empty()));
        assert!(p.categories.iter().all(|c| !c.is_empty()));
    }
});
