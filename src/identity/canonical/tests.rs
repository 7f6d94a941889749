//! Canonical links and published links: fixed cases, then properties over
//! generated links.

use super::*;

#[test]
fn canonical_url_rules() {
    let cases = [
        // scheme and host case, http == https
        ("HTTP://Example.COM/a", "https://example.com/a"),
        ("http://example.com/a", "https://example.com/a"),
        // www. ignored
        ("https://www.example.com/a", "https://example.com/a"),
        // default ports
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        // fragment and trailing slash
        ("https://example.com/a/#comments", "https://example.com/a"),
        ("https://example.com/", "https://example.com"),
        // tracking parameters
        (
            "https://example.com/a?utm_source=rss&utm_medium=feed&id=3",
            "https://example.com/a?id=3",
        ),
        (
            "https://example.com/a?fbclid=x&gclid=y",
            "https://example.com/a",
        ),
        (
            "https://example.com/a?mc_cid=1&mc_eid=2&ref=hn",
            "https://example.com/a",
        ),
        (
            "https://example.com/a?UTM_Campaign=x",
            "https://example.com/a",
        ),
        // remaining parameters sorted
        (
            "https://example.com/a?b=2&a=1",
            "https://example.com/a?a=1&b=2",
        ),
        // percent-encoding case, unreserved characters decoded
        (
            "https://example.com/%7euser/%c3%a9",
            "https://example.com/~user/%C3%A9",
        ),
        ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),
        // a stray '%' is a literal one
        ("https://example.com/100%", "https://example.com/100%25"),
    ];
    for (input, want) in cases {
        assert_eq!(canonical_url(input).as_deref(), Some(want), "for {input}");
    }
}

#[test]
fn canonical_url_leaves_other_schemes_alone() {
    assert_eq!(canonical_url("  "), None);
    assert_eq!(
        canonical_url("tag:example.com,2024:1").as_deref(),
        Some("tag:example.com,2024:1")
    );
    assert_eq!(canonical_url("not a url").as_deref(), Some("not a url"));
}

#[test]
fn odd_hosts_still_canonicalize_stably() {
    for odd in ["Http:0X.%2E/:s:", "http://www.0x./a", "http://0x.www./"] {
        let once = canonical_url(odd).unwrap();
        assert_eq!(canonical_url(&once).unwrap(), once, "{odd}");
    }
}

#[test]
fn a_link_without_a_usable_host_is_kept_as_written() {
    let odd = "Http:%2E/\naa:/~ar";
    let once = canonical_url(odd).unwrap();
    assert_eq!(canonical_url(&once).unwrap(), once);
}

#[test]
fn other_schemes_are_stable() {
    let odd = "file://u/n:\n\n\n\n:#\n\n\u{1a}u";
    let once = canonical_url(odd).unwrap();
    assert_eq!(canonical_url(&once).unwrap(), once);
}

#[test]
fn different_paths_stay_different() {
    assert_ne!(
        canonical_url("https://example.com/a"),
        canonical_url("https://example.com/b")
    );
    assert_ne!(
        canonical_url("https://example.com/a?page=1"),
        canonical_url("https://example.com/a?page=2")
    );
}

#[test]
fn published_links_drop_only_tracking_parameters() {
    let cases = [
        // decorations go, in any case and any place
        (
            "https://news.example/a?utm_source=rss&id=3&fbclid=x",
            "https://news.example/a?id=3",
        ),
        (
            "https://news.example/a?UTM_Medium=feed&gclid=1&mc_cid=2&mc_eid=3&ref=hn",
            "https://news.example/a",
        ),
        (
            "https://news.example/a?utm%5Fsource=x",
            "https://news.example/a",
        ),
        // the rest keeps its order, spelling and escapes
        (
            "https://news.example/a?b=2&utm_campaign=c&a=%7e1&A=x",
            "https://news.example/a?b=2&a=%7e1&A=x",
        ),
        // scheme, www., port, path, trailing slash and fragment as published
        (
            "http://www.News.example:8080/Path/%7euser/?utm_source=x#Comments",
            "http://www.News.example:8080/Path/%7euser/#Comments",
        ),
        // a '?' in the fragment is not a query
        (
            "https://news.example/a#frag?utm_source=x",
            "https://news.example/a#frag?utm_source=x",
        ),
        // nothing to drop: unchanged, even odd queries
        ("https://news.example/a?", "https://news.example/a?"),
        (
            "https://news.example/a?&&b=1",
            "https://news.example/a?&&b=1",
        ),
        (
            "https://news.example/a?b=2&a=1",
            "https://news.example/a?b=2&a=1",
        ),
        // other schemes are not touched
        (
            "mailto:a@b.example?utm_source=x",
            "mailto:a@b.example?utm_source=x",
        ),
        ("", ""),
    ];
    for (link, want) in cases {
        assert_eq!(without_tracking(link), want, "for {link}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn path() -> impl Strategy<Value = String> {
        proptest::collection::vec("[a-z0-9~%._-]{1,8}", 1..4).prop_map(|segs| segs.join("/"))
    }

    fn params() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec(("[a-z]{1,6}", "[a-z0-9]{0,6}"), 0..4).prop_map(|ps| {
            ps.into_iter()
                .filter(|(k, _)| !is_tracking_param(k))
                .collect()
        })
    }

    fn url(host: &str, path: &str, params: &[(String, String)]) -> String {
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut u = format!("https://{host}/{path}");
        if !query.is_empty() {
            u.push('?');
            u.push_str(&query.join("&"));
        }
        u
    }

    proptest! {
        #[test]
        fn canonical_url_is_idempotent(host in "[a-z]{1,10}\\.(com|org)", p in path(), q in params()) {
            let once = canonical_url(&url(&host, &p, &q)).unwrap();
            prop_assert_eq!(canonical_url(&once).unwrap(), once.clone());
        }

        #[test]
        fn decorations_never_change_it(
            host in "[a-z]{1,10}\\.(com|org)",
            p in path(),
            q in params(),
            fragment in "[a-z]{0,6}",
            tracking in proptest::sample::subsequence(vec!["utm_source=rss", "utm_medium=feed", "fbclid=abc", "gclid=x", "mc_cid=1", "mc_eid=2", "ref=hn"], 0..4),
            http in any::<bool>(),
            www in any::<bool>(),
            port in any::<bool>(),
            slash in any::<bool>(),
        ) {
            let plain = canonical_url(&url(&host, &p, &q)).unwrap();
            let mut decorated_params = q.clone();
            for t in &tracking {
                let (k, v) = t.split_once('=').unwrap();
                decorated_params.insert(0, (k.to_string(), v.to_string()));
            }
            decorated_params.reverse();
            let host = if www { format!("www.{host}") } else { host.clone() };
            let host = if port { format!("{host}:{}", if http { 80 } else { 443 }) } else { host };
            let path = if slash { format!("{p}/") } else { p.clone() };
            let mut decorated = url(&host, &path, &decorated_params);
            if http {
                decorated = decorated.replacen("https://", "http://", 1);
            }
            if !fragment.is_empty() {
                decorated.push('#');
                decorated.push_str(&fragment);
            }
            prop_assert_eq!(canonical_url(&decorated).unwrap(), plain);
        }

        #[test]
        fn published_links_name_the_same_story_and_keep_no_decoration(
            host in "[a-z]{1,10}\\.(com|org)",
            p in path(),
            q in params(),
            fragment in "[a-z]{0,6}",
            tracking in proptest::sample::subsequence(vec!["utm_source=rss", "UTM_MEDIUM=feed", "fbclid=abc", "gclid=x", "mc_cid=1", "ref=hn", "utm%5Fterm=y"], 0..4),
            at in 0usize..4,
        ) {
            let mut params: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let plain_query = params.join("&");
            for t in &tracking {
                params.insert(at.min(params.len()), t.to_string());
            }
            let fragment = if fragment.is_empty() { String::new() } else { format!("#{fragment}") };
            let with_query = |query: &str| {
                let query = if query.is_empty() { String::new() } else { format!("?{query}") };
                format!("http://www.{host}/{p}{query}{fragment}")
            };
            let decorated = with_query(&params.join("&"));
            let published = without_tracking(&decorated);
            prop_assert_eq!(published.as_ref(), with_query(&plain_query));
            prop_assert_eq!(canonical_url(&published), canonical_url(&decorated));
        }

        #[test]
        fn different_paths_never_collide(host in "[a-z]{1,10}\\.com", a in path(), b in path()) {
            let ca = canonical_url(&url(&host, &a, &[])).unwrap();
            let cb = canonical_url(&url(&host, &b, &[])).unwrap();
            let norm = |p: &str| {
                let url = Url::parse(&format!("https://x/{p}")).unwrap();
                normalize_percent(url.path().trim_end_matches('/'))
            };
            prop_assume!(norm(&a) != norm(&b));
            prop_assert_ne!(ca, cb);
        }
    }
}
