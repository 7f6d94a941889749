//! Unit tests of the parts of a fetch that need no server: headers, redirect
//! targets, gzip.

use std::io::Write;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use super::FetchError;
use super::redirect::refuse_unless_http;
use super::response::{fresh_for, inflate_if_gzipped, retry_after};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

#[test]
fn freshness_from_cache_control_and_expires() {
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Headers, Option<u64>)] = &[
        (&[("cache-control", "public, max-age=600")], Some(600)),
        (&[("cache-control", "max-age=600, no-cache")], None),
        (&[("cache-control", "no-store")], None),
        (
            &[
                ("date", "Tue, 24 Nov 2026 10:00:00 GMT"),
                ("expires", "Tue, 24 Nov 2026 11:00:00 GMT"),
            ],
            Some(3600),
        ),
        // max-age wins over Expires (RFC 9111 §5.3)
        (
            &[
                ("cache-control", "max-age=60"),
                ("date", "Tue, 24 Nov 2026 10:00:00 GMT"),
                ("expires", "Tue, 24 Nov 2026 11:00:00 GMT"),
            ],
            Some(60),
        ),
        (&[("expires", "0")], None),
        (&[], None),
    ];
    for (pairs, want) in cases {
        assert_eq!(
            fresh_for(&headers(pairs)),
            want.map(Duration::from_secs),
            "{pairs:?}"
        );
    }
}

#[test]
fn retry_after_in_seconds_or_as_a_date() {
    assert_eq!(
        retry_after(&headers(&[("retry-after", "3600")])),
        Some(Duration::from_secs(3600))
    );
    let later = (chrono::Utc::now() + chrono::TimeDelta::hours(2)).to_rfc2822();
    let d = retry_after(&headers(&[("retry-after", &later)])).unwrap();
    assert!(
        d > Duration::from_secs(7100) && d <= Duration::from_secs(7200),
        "{d:?}"
    );
    assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
}

#[test]
fn retry_after_dates_in_every_http_form_counted_from_the_hosts_date() {
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let date = ("date", "Tue, 24 Nov 2026 10:00:00 GMT");
    let cases: &[(Headers, Option<u64>)] = &[
        (
            &[date, ("retry-after", "Tue, 24 Nov 2026 10:02:00 GMT")],
            Some(120),
        ),
        // RFC 850 and asctime, which RFC 9110 §5.6.7 says to accept
        (
            &[date, ("retry-after", "Tuesday, 24-Nov-26 10:02:00 GMT")],
            Some(120),
        ),
        (
            &[date, ("retry-after", "Tue Nov 24 10:02:00 2026")],
            Some(120),
        ),
        // a date already past means now, not "nothing said"
        (
            &[date, ("retry-after", "Tue, 24 Nov 2026 09:00:00 GMT")],
            Some(0),
        ),
        (&[("retry-after", "Thu, 01 Jan 2015 00:00:00 GMT")], Some(0)),
        (&[("retry-after", "0")], Some(0)),
        (&[("retry-after", "-5")], None),
    ];
    for (pairs, want) in cases {
        assert_eq!(
            retry_after(&headers(pairs)),
            want.map(Duration::from_secs),
            "{pairs:?}"
        );
    }
}

#[test]
fn only_http_addresses_may_be_followed() {
    for ok in ["http://e.com/feed", "https://e.com/feed"] {
        assert!(refuse_unless_http(&Url::parse(ok).unwrap()).is_ok(), "{ok}");
    }
    for refused in [
        "file:///etc/hostname",
        "file:///dev/zero",
        "ftp://e.com/feed",
        "data:text/xml,<rss/>",
        "javascript:alert(1)",
    ] {
        let e = refuse_unless_http(&Url::parse(refused).unwrap()).unwrap_err();
        // Only the scheme is named: the text is the same for any path.
        assert!(matches!(e, FetchError::Refused { .. }), "{refused}");
        assert!(!e.to_string().contains("//"), "{e}");
    }
}

#[test]
fn a_gzipped_body_is_inflated_under_the_cap() {
    assert_eq!(inflate_if_gzipped(gzip(b"<rss/>"), 100).unwrap(), b"<rss/>");
    assert_eq!(
        inflate_if_gzipped(b"<rss/>".to_vec(), 100).unwrap(),
        b"<rss/>"
    );
    let bomb = gzip(&vec![b' '; 1_000_000]);
    assert!(matches!(
        inflate_if_gzipped(bomb, 1000),
        Err(FetchError::TooLarge { limit: 1000 })
    ));
}

#[test]
fn errors_say_what_the_source_records() {
    let gone = FetchError::Status {
        status: 410,
        retry_after: None,
    };
    assert_eq!(gone.to_string(), "HTTP 410");
    assert!(gone.is_permanent());
    assert_eq!(gone.status(), Some(410));
    let busy = FetchError::Status {
        status: 503,
        retry_after: Some(Duration::from_secs(60)),
    };
    assert!(!busy.is_permanent());
    assert_eq!(busy.retry_after(), Some(Duration::from_secs(60)));
    let slow = FetchError::Timeout(Duration::from_secs(30));
    assert_eq!(slow.to_string(), "timed out after 30s");
    assert_eq!((slow.status(), slow.retry_after()), (None, None));
    assert!(!slow.is_permanent());
    assert_eq!(
        FetchError::TooManyRedirects.to_string(),
        "more than 5 redirects"
    );
    let bad = FetchError::BadRedirect {
        location: "http://[::1".into(),
        source: Url::parse("http://[::1").unwrap_err(),
    };
    assert_eq!(
        bad.to_string(),
        "request failed: redirect to a bad address \"http://[::1\": invalid IPv6 address"
    );
    assert!(std::error::Error::source(&bad).is_some());
}
