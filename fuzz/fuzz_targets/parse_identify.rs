//! Any bytes, read as a feed and identified: never a panic outside the parser's
//! contained region, and every kept item has a key no other item of the
//! document has.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary::identity::identify;
use tributary::model::IdentityMode;
use tributary::parse::parse_feed;

fuzz_target!(|data: &[u8]| {
    // libFuzzer's panic hook aborts on every panic, also on the parser's that
    // `parse_feed` contains and reports as an error; those are let through to be
    // caught, as the daemon's own hook does, and every other panic still aborts.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !tributary::parse::panic_is_contained() {
                abort(info);
            }
        }));
    });
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
