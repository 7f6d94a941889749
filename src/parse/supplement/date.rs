//! Dates as extension elements write them: W3C-DTF (the profile of ISO 8601
//! Dublin Core recommends, from a bare year to fractions of a second), RFC 3339
//! and RFC 2822; then the forms near RFC 822 [`parse_lenient`] reads.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};

use super::lenient::parse_lenient;

/// The time `text` names; a date without a time is its midnight, a time without
/// a zone is UTC.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.to_utc());
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(text) {
        return Some(t.to_utc());
    }
    // RFC 2822 names no zone `UTC`, but feeds write it.
    if let Some(rest) = text.strip_suffix("UTC")
        && let Ok(t) = DateTime::parse_from_rfc2822(&format!("{rest}+0000"))
    {
        return Some(t.to_utc());
    }
    w3c_dtf(text).or_else(|| parse_lenient(text))
}

/// W3C-DTF and the ISO 8601 forms close to it: `T` or a space between date and
/// time, seconds and zone optional, `Z` or `+hh:mm` or `+hhmm`.
fn w3c_dtf(text: &str) -> Option<DateTime<Utc>> {
    let zoned = text.strip_suffix(['Z', 'z']).map(|t| format!("{t}+00:00"));
    let text = zoned.as_deref().unwrap_or(text);
    for format in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        for candidate in [text.to_string(), text.replacen(' ', "T", 1)] {
            if let Ok(t) = DateTime::<FixedOffset>::parse_from_str(&candidate, format) {
                return Some(t.to_utc());
            }
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    let date = match text.len() {
        4 => NaiveDate::parse_from_str(&format!("{text}-01-01"), "%Y-%m-%d"),
        7 => NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d"),
        _ => NaiveDate::parse_from_str(text, "%Y-%m-%d"),
    };
    Some(date.ok()?.and_hms_opt(0, 0, 0)?.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_every_form_feeds_write_them() {
        let cases = [
            ("2026-11-24T10:00:00Z", Some("2026-11-24T10:00:00+00:00")),
            (
                "2026-11-24T10:00:00.25+01:00",
                Some("2026-11-24T09:00:00.250+00:00"),
            ),
            (
                "2026-11-24T10:00:00+0100",
                Some("2026-11-24T09:00:00+00:00"),
            ),
            ("2026-11-24T10:00+01:00", Some("2026-11-24T09:00:00+00:00")),
            ("2026-11-24 10:00:00", Some("2026-11-24T10:00:00+00:00")),
            ("2026-11-24T10:00", Some("2026-11-24T10:00:00+00:00")),
            (" 2026-11-24 ", Some("2026-11-24T00:00:00+00:00")),
            ("2026-11", Some("2026-11-01T00:00:00+00:00")),
            ("2026", Some("2026-01-01T00:00:00+00:00")),
            (
                "Tue, 24 Nov 2026 10:00:00 GMT",
                Some("2026-11-24T10:00:00+00:00"),
            ),
            (
                "24 Nov 2026 10:00:00 +0200",
                Some("2026-11-24T08:00:00+00:00"),
            ),
            (
                "Tue, 24 Nov 2026 10:00:00 UTC",
                Some("2026-11-24T10:00:00+00:00"),
            ),
            ("yesterday", None),
            ("", None),
            ("2026-13-01", None),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_date(text).map(|t| t.to_rfc3339()),
                want.map(String::from),
                "{text:?}"
            );
        }
    }
}
