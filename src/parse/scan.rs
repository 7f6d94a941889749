//! Values feed-rs does not report, read straight from the document's bytes.

use std::sync::LazyLock;

use regex::Regex;

/// RSS `<skipHours>` and `<skipDays>`, which feed-rs does not read. They sit in
/// the channel, before the items.
pub fn skip_times(bytes: &[u8]) -> (Vec<u32>, Vec<chrono::Weekday>) {
    static BLOCK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?is)<skip(hours|days)>(.*?)</skip(?:hours|days)>").expect("valid regex")
    });
    static VALUE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?is)<(?:hour|day)>\s*([^<]*?)\s*</(?:hour|day)>").expect("valid regex")
    });
    let head = &bytes[..bytes.len().min(64 * 1024)];
    // Most feeds have neither; the regexes run only on those that may.
    if memchr::memmem::find(head, b"<skip").is_none() {
        return (Vec::new(), Vec::new());
    }
    let head = String::from_utf8_lossy(head);
    let head = head.split("<item").next().unwrap_or_default();
    let (mut hours, mut days) = (Vec::new(), Vec::new());
    for block in BLOCK.captures_iter(head) {
        for value in VALUE.captures_iter(&block[2]) {
            if block[1].eq_ignore_ascii_case("hours") {
                // RSS 2.0 counts 0-23; some feeds write 24 for midnight.
                if let Ok(h) = value[1].parse::<u32>() {
                    hours.push(h % 24);
                }
            } else if let Ok(d) = value[1].parse::<chrono::Weekday>() {
                days.push(d);
            }
        }
    }
    (hours, days)
}

/// The `xml:base` on the document's root element, which feed-rs applies to links but
/// does not report; relative URLs inside item HTML resolve against it too.
pub fn root_xml_base(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4096)];
    let mut rest = head;
    // Skip the prolog: <?xml ...?>, comments, doctype.
    let tag = loop {
        let start = rest.iter().position(|b| *b == b'<')?;
        rest = &rest[start..];
        if rest.starts_with(b"<?") || rest.starts_with(b"<!") {
            rest = &rest[1..];
            continue;
        }
        let end = rest.iter().position(|b| *b == b'>')?;
        break &rest[..end];
    };
    let tag = std::str::from_utf8(tag).ok()?;
    let at = tag.find("xml:base")?;
    let value = tag[at + "xml:base".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let value = &value[1..];
    Some(value[..value.find(quote)?].to_string())
}
