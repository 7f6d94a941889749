//! Keeping credentials out of sight: the user-info part of a source address
//! (`https://user:token@host/feed`) is needed to fetch, but is never printed,
//! logged or served. Wherever an address is shown it reads `https://***@host/feed`.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use url::Url;

/// `url` as it may be shown: any user name or password replaced by `***`.
pub(crate) fn shown_url(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut shown = url.clone();
    // Setting credentials fails only for URLs that cannot have them (no host),
    // and those never held any.
    let _ = shown.set_password(None);
    let _ = shown.set_username("***");
    shown.to_string()
}

/// `url` with any user name and password removed.
pub(crate) fn without_credentials(url: &Url) -> Url {
    let mut bare = url.clone();
    // As above: only URLs without a host cannot lose credentials, and they have none.
    let _ = bare.set_password(None);
    let _ = bare.set_username("");
    bare
}

/// Free text (an address as stored, an error message naming one) with the
/// user-info of every URL in it replaced by `***`.
pub(crate) fn redact_text(text: &str) -> Cow<'_, str> {
    static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
        // A literal pattern: compiling it cannot fail.
        Regex::new(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#@\s]+@").expect("valid pattern")
    });
    USERINFO.replace_all(text, "${1}***@")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_never_shown() {
        let url = Url::parse("https://reader:s3cret@feeds.example/private.xml?x=1").unwrap();
        assert_eq!(shown_url(&url), "https://***@feeds.example/private.xml?x=1");
        let user_only = Url::parse("http://token@feeds.example/").unwrap();
        assert_eq!(shown_url(&user_only), "http://***@feeds.example/");
        let plain = Url::parse("https://feeds.example/a").unwrap();
        assert_eq!(shown_url(&plain), "https://feeds.example/a");
    }

    #[test]
    fn user_info_is_removed_from_free_text() {
        assert_eq!(
            redact_text(
                "error sending request for url (https://u:p%40ss@h.example/f): refused; \
                 then HTTP://x@y.example"
            ),
            "error sending request for url (https://***@h.example/f): refused; \
             then HTTP://***@y.example"
        );
        assert_eq!(
            redact_text("mail me at a@b.example, see https://h.example/a@b"),
            "mail me at a@b.example, see https://h.example/a@b"
        );
    }
}
