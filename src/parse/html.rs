//! HTML pages met where a feed was expected: telling them apart from feeds.

/// Whether a body that failed to parse as a feed is an HTML page (an error page,
/// or a site's home page given instead of its feed).
pub(super) fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.contains("<!doctype html") || head.contains("<html")
}
