//! Any bytes, read as a feed and identified: never a panic, and every kept item
//! has a key no other item of the document has.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary::identity::identify;
use tributary::model::IdentityMode;
use tributary::parse::parse_feed;

fuzz_target!(|data: &[u8]| {
    let url = url::Url::parse("https://fuzz.example/feed.xml").unwrap();
    if let Ok(feed) = parse_feed(data, &url) {
        for mode in [IdentityMode::Auto, IdentityMode::Guid, IdentityMode::Link, IdentityMode::Content] {
            let items = identify(feed.items.clone(), mode);
            let mut keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
            keys.sort_unstable();
            let before = keys.len();
            keys.dedup();
            assert_eq!(before, keys.len(), "two items share a key");
        }
    }
});
