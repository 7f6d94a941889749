//! `tributary poll` end to end against a real HTTP server on 127.0.0.1.

mod common;

use common::{FeedHost, Setup, counts, rss};
use tributary::store::Store as _;

fn item(guid: &str, link: &str, title: &str) -> String {
    format!(
        "<guid>{guid}</guid><link>{link}</link><title>{title}</title><description>About {title}</description>"
    )
}

#[tokio::test]
async fn second_poll_is_conditional_and_stores_nothing_again() {
    let host = FeedHost::start().await;
    host.set_feed(
        "a",
        &rss(&[
            item("1", "https://s.example/1", "One"),
            item("2", "https://s.example/2", "Two"),
        ]),
    );
    let setup = Setup::new("", &[("A", host.url("/f/a"))]);

    let first = setup.poll(&[]).await;
    assert_eq!(counts(&first), (1, 0, 0, 2, 0), "{first}");
    let second = setup.poll(&[]).await;
    assert_eq!(counts(&second), (0, 1, 0, 0, 0), "{second}");

    let seen = host.requests_to("/f/a");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].if_none_match, None);
    assert!(
        seen[1].if_none_match.is_some(),
        "validators sent: {:?}",
        seen[1]
    );
    assert_eq!(
        seen[1].if_modified_since.as_deref(),
        Some("Tue, 24 Nov 2026 10:00:00 GMT")
    );
    assert!(
        seen[0]
            .user_agent
            .as_deref()
            .unwrap()
            .starts_with("tributary/")
    );
    assert_eq!(setup.store().items_of_source("A").unwrap().len(), 2);
}

#[tokio::test]
async fn gzip_bodies_are_decoded() {
    let host = FeedHost::start().await;
    host.set_feed("z", &rss(&[item("1", "https://s.example/1", "Zipped")]));
    let setup = Setup::new("", &[("Z", host.url("/gzip/z"))]);
    let summary = setup.poll(&[]).await;
    assert_eq!(counts(&summary), (1, 0, 0, 1, 0), "{summary}");
    let items = setup.store().items_of_source("Z").unwrap();
    assert_eq!(items[0].title.as_deref(), Some("Zipped"));
}

#[tokio::test]
async fn a_body_over_the_cap_is_cut_off_early() {
    let host = FeedHost::start().await;
    let setup = Setup::new("max_body = \"256KiB\"", &[("Big", host.url("/endless"))]);
    let summary = setup.poll(&[]).await;
    assert_eq!(counts(&summary).2, 1, "{summary}");
    let status = &setup.store().source_statuses(&["Big"]).unwrap()[0];
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap()
            .contains("larger than"),
        "{status:?}"
    );
    // The host had 1 GiB to give; tributary stopped after a few buffers past the cap.
    let sent = host
        .state
        .endless_sent
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        sent < 16 * 1024 * 1024,
        "read {sent} bytes of an endless body"
    );
}

#[tokio::test]
async fn redirect_loops_end_after_the_limit() {
    let host = FeedHost::start().await;
    let setup = Setup::new("", &[("Loop", host.url("/loop/0"))]);
    let summary = setup.poll(&[]).await;
    assert_eq!(counts(&summary).2, 1, "{summary}");
    let status = &setup.store().source_statuses(&["Loop"]).unwrap()[0];
    assert!(
        status.last_error.as_deref().unwrap().contains("redirects"),
        "{status:?}"
    );
    // the first request plus five redirects followed
    let hops = host
        .state
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path.starts_with("/loop/"))
        .count();
    assert_eq!(hops, 6);
}

#[tokio::test]
async fn a_slow_host_times_out_without_holding_up_the_others() {
    let host = FeedHost::start().await;
    host.set_feed("ok", &rss(&[item("1", "https://s.example/1", "Fine")]));
    let setup = Setup::new(
        "",
        &[("Slow", host.url("/slow")), ("Ok", host.url("/f/ok"))],
    );
    // the config's timeout is 3s; the slow route answers after 30s
    let started = std::time::Instant::now();
    let summary = setup.poll(&[]).await;
    assert!(
        started.elapsed().as_secs() < 15,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(counts(&summary), (1, 0, 1, 1, 0), "{summary}");
    let status = &setup.store().source_statuses(&["Slow"]).unwrap()[0];
    assert!(
        status.last_error.as_deref().unwrap().contains("timed out"),
        "{status:?}"
    );
}

#[tokio::test]
async fn items_without_id_or_link_keep_their_identity_across_polls() {
    let host = FeedHost::start().await;
    let body = rss(&[
        "<title>No id one</title><description>first</description>".to_string(),
        "<title>No id two</title><description>second</description>".to_string(),
    ]);
    host.set_feed("n", &body);
    let setup = Setup::new("", &[("N", host.url("/f/n"))]);
    assert_eq!(counts(&setup.poll(&[]).await).3, 2);
    let keys: Vec<String> = setup
        .store()
        .items_of_source("N")
        .unwrap()
        .into_iter()
        .map(|i| i.key)
        .collect();

    // The same document served again without validators: a full re-parse.
    host.set_feed("n", &format!("{body}\n"));
    let again = setup.poll(&[]).await;
    assert_eq!(counts(&again), (1, 0, 0, 0, 0), "{again}");
    let keys_again: Vec<String> = setup
        .store()
        .items_of_source("N")
        .unwrap()
        .into_iter()
        .map(|i| i.key)
        .collect();
    assert_eq!(keys, keys_again);
}

#[tokio::test]
async fn items_sharing_one_guid_are_not_collapsed() {
    let host = FeedHost::start().await;
    let items: Vec<String> = (0..8)
        .map(|i| {
            item(
                "same-guid",
                &format!("https://s.example/{i}"),
                &format!("Story {i}"),
            )
        })
        .collect();
    host.set_feed("g", &rss(&items));
    let setup = Setup::new("", &[("G", host.url("/f/g"))]);
    assert_eq!(counts(&setup.poll(&[]).await).3, 8);
    assert_eq!(setup.store().items_of_source("G").unwrap().len(), 8);
}

#[tokio::test]
async fn an_edited_title_updates_the_stored_item() {
    let host = FeedHost::start().await;
    host.set_feed("e", &rss(&[item("1", "https://s.example/1", "Teh title")]));
    let setup = Setup::new("", &[("E", host.url("/f/e"))]);
    setup.poll(&[]).await;
    host.set_feed("e", &rss(&[item("1", "https://s.example/1", "The title")]));
    let summary = setup.poll(&[]).await;
    assert_eq!(counts(&summary), (1, 0, 0, 0, 1), "{summary}");
    let items = setup.store().items_of_source("E").unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].title.as_deref(), Some("The title"));
}

#[tokio::test]
async fn failing_sources_are_recorded_and_the_others_go_on() {
    let host = FeedHost::start().await;
    host.set_feed("good", &rss(&[item("1", "https://s.example/1", "Good")]));
    host.set_feed("bad", "<rss version=\"2.0\"><channel><item><title>unclosed");
    let setup = Setup::new(
        "",
        &[
            ("Good", host.url("/f/good")),
            ("Malformed", host.url("/f/bad")),
            ("Missing", host.url("/status/404")),
            ("Broken", host.url("/status/500")),
            ("Refused", "http://127.0.0.1:9/feed".to_string()),
        ],
    );
    let summary = setup.poll(&[]).await;
    assert_eq!(counts(&summary), (1, 0, 4, 1, 0), "{summary}");
    let store = setup.store();
    let statuses = store
        .source_statuses(&["Good", "Malformed", "Missing", "Broken", "Refused"])
        .unwrap();
    assert_eq!(statuses[0].last_error, None);
    assert_eq!(statuses[0].items, 1);
    assert!(
        statuses[1]
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("not a feed"),
        "{:?}",
        statuses[1]
    );
    assert_eq!(statuses[2].last_status, Some(404));
    assert_eq!(statuses[2].last_error.as_deref(), Some("HTTP 404"));
    assert_eq!(statuses[3].last_status, Some(500));
    assert!(
        statuses[4]
            .last_error
            .as_deref()
            .unwrap()
            .contains("connect"),
        "{:?}",
        statuses[4]
    );
    assert!(statuses[1..].iter().all(|s| s.consecutive_errors == 1));
}

#[tokio::test]
async fn a_feed_failing_later_keeps_what_was_stored() {
    let host = FeedHost::start().await;
    host.set_feed("k", &rss(&[item("1", "https://s.example/1", "Kept")]));
    let setup = Setup::new("", &[("K", host.url("/f/k"))]);
    setup.poll(&[]).await;
    host.set_feed("k", "<html><body>502 Bad Gateway</body></html>");
    let summary = setup.poll(&[]).await;
    assert_eq!(counts(&summary).2, 1);
    assert_eq!(setup.store().items_of_source("K").unwrap().len(), 1);
}

#[tokio::test]
async fn poll_can_name_sources() {
    let host = FeedHost::start().await;
    host.set_feed("a", &rss(&[item("1", "https://s.example/1", "A")]));
    host.set_feed("b", &rss(&[item("1", "https://s.example/1", "B")]));
    let setup = Setup::new("", &[("A", host.url("/f/a")), ("B", host.url("/f/b"))]);
    let summary = setup.poll(&["--source", "B"]).await;
    assert_eq!(counts(&summary), (1, 0, 0, 1, 0));
    assert!(host.requests_to("/f/a").is_empty());
}

#[tokio::test]
async fn file_sources_are_read_and_unchanged_files_are_not_modified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.xml");
    std::fs::write(&path, rss(&[item("1", "https://s.example/1", "Local")])).unwrap();
    let setup = Setup::new("", &[("Local", format!("file://{}", path.display()))]);
    assert_eq!(counts(&setup.poll(&[]).await), (1, 0, 0, 1, 0));
    assert_eq!(counts(&setup.poll(&[]).await), (0, 1, 0, 0, 0));
}

#[tokio::test]
async fn at_most_per_host_requests_reach_one_host_at_once() {
    let host = FeedHost::start().await;
    let sources: Vec<(String, String)> = (0..8)
        .map(|i| (format!("S{i}"), host.url(&format!("/hold/{i}"))))
        .collect();
    let refs: Vec<(&str, String)> = sources
        .iter()
        .map(|(n, u)| (n.as_str(), u.clone()))
        .collect();
    let setup = Setup::new("per_host = 3", &refs);
    let summary = setup.poll(&[]).await;
    assert_eq!(counts(&summary), (8, 0, 0, 8, 0), "{summary}");
    let max = host
        .state
        .max_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(max, 3, "the host saw {max} requests at once");
}
