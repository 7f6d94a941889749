//! Any text as a link: canonicalizing never panics and is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary::identity::canonical_url;

fuzz_target!(|data: &str| {
    if let Some(once) = canonical_url(data) {
        assert_eq!(canonical_url(&once).as_deref(), Some(once.as_str()), "not idempotent for {data:?}");
    }
});
