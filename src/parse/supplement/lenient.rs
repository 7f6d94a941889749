//! Dates close to RFC 822 that strict parsers refuse, read where their meaning
//! is not in doubt: the day name without its comma (`Tue 11 Jan 2011 01:30:00
//! GMT`), the month before the day (`Dec 16 2023`), a two-digit year (RFC 822's
//! own form), a 12-hour time (`8:56 am`), a time without seconds, a zone named by
//! its abbreviation (`PST`, `CEST`), and year-first numeric dates (`2020/1/10`).
//! A time without a zone is UTC. Anything else (an unknown zone name, a date with
//! the day and month both numbers and not year-first, words left over) gives none.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

/// The time `text` names, or none when any part of it is in doubt.
pub fn parse_lenient(text: &str) -> Option<DateTime<Utc>> {
    let mut parts = Parts::default();
    for token in text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
    {
        parts.take(token)?;
    }
    parts.finish()
}

#[derive(Default)]
struct Parts {
    weekday: bool,
    month: Option<u32>,
    /// numbers of one or two digits, and of four, in the order written
    numbers: Vec<(u32, usize)>,
    /// year, month, day of a `YYYY/M/D` or `YYYY-M-D` date
    numeric_date: Option<(i32, u32, u32)>,
    time: Option<(u32, u32, u32)>,
    /// `Some(true)` for PM
    pm: Option<bool>,
    /// offset east of UTC, seconds
    offset: Option<i32>,
}

impl Parts {
    fn take(&mut self, token: &str) -> Option<()> {
        let lower = token.trim_end_matches('.').to_ascii_lowercase();
        if let Some(month) = month(&lower)
            && self.month.is_none()
        {
            self.month = Some(month);
        } else if is_weekday(&lower) && !self.weekday {
            self.weekday = true;
        } else if token.bytes().all(|b| b.is_ascii_digit()) && matches!(token.len(), 1 | 2 | 4) {
            self.numbers.push((token.parse().ok()?, token.len()));
        } else if token.contains(':') && self.time.is_none() {
            // `8:56`, `01:30:00`, `8:56pm`
            let (clock, meridiem) = split_meridiem(&lower);
            self.time = Some(time(clock)?);
            if meridiem.is_some() {
                self.pm = meridiem;
            }
        } else if let Some(pm) = meridiem(&lower)
            && self.time.is_some()
            && self.pm.is_none()
        {
            self.pm = Some(pm);
        } else if let Some(date) = numeric_date(token)
            && self.numeric_date.is_none()
        {
            self.numeric_date = Some(date);
        } else if let Some(offset) = zone(token)
            && self.offset.is_none()
        {
            self.offset = Some(offset);
        } else {
            return None;
        }
        Some(())
    }

    fn finish(self) -> Option<DateTime<Utc>> {
        let (year, month, day) = match (self.numeric_date, self.month, &self.numbers[..]) {
            (Some(date), None, []) => date,
            // `11 Jan 2011`, `Jan 11 2011`: the four-digit number is the year.
            (None, Some(m), &[(d, 1 | 2), (y, 4)]) | (None, Some(m), &[(y, 4), (d, 1 | 2)]) => {
                (y as i32, m, d)
            }
            // `11 Jan 11`: RFC 822's two-digit year, which follows the day.
            (None, Some(m), &[(d, 1 | 2), (y, 2)]) => {
                let y = y as i32;
                (if y < 50 { 2000 + y } else { 1900 + y }, m, d)
            }
            _ => return None,
        };
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        let (mut hour, minute, second) = self.time.unwrap_or_default();
        match self.pm {
            Some(_) if !(1..=12).contains(&hour) => return None,
            Some(pm) => hour = hour % 12 + if pm { 12 } else { 0 },
            None => {}
        }
        let time = NaiveTime::from_hms_opt(hour, minute, second)?;
        let offset = FixedOffset::east_opt(self.offset.unwrap_or(0))?;
        let local = offset.from_local_datetime(&date.and_time(time)).single()?;
        Some(local.to_utc())
    }
}

/// `H:MM` or `H:MM:SS`.
fn time(clock: &str) -> Option<(u32, u32, u32)> {
    let mut fields = clock.split(':');
    let mut next = |required: bool| match fields.next() {
        Some(f) if (1..=2).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse().ok()
        }
        None if !required => Some(0),
        _ => None,
    };
    let (h, m, s) = (next(true)?, next(true)?, next(false)?);
    fields.next().is_none().then_some((h, m, s))
}

fn split_meridiem(token: &str) -> (&str, Option<bool>) {
    // The token's final `.` is gone: `8:56a.m.` is `8:56a.m` here.
    for (suffix, pm) in [("am", false), ("pm", true), ("a.m", false), ("p.m", true)] {
        if let Some(clock) = token.strip_suffix(suffix) {
            return (clock, Some(pm));
        }
    }
    (token, None)
}

fn meridiem(token: &str) -> Option<bool> {
    match token {
        "am" | "a.m" | "a.m." => Some(false),
        "pm" | "p.m" | "p.m." => Some(true),
        _ => None,
    }
}

/// `YYYY/M/D` or `YYYY-M-D`: with the year first, the month always comes next.
fn numeric_date(token: &str) -> Option<(i32, u32, u32)> {
    let separator = if token.contains('/') { '/' } else { '-' };
    let fields: Vec<&str> = token.split(separator).collect();
    let [y, m, d] = fields[..] else {
        return None;
    };
    fn number<T: std::str::FromStr>(f: &str, lengths: &[usize]) -> Option<T> {
        (lengths.contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()))
            .then(|| f.parse().ok())
            .flatten()
    }
    Some((number(y, &[4])?, number(m, &[1, 2])?, number(d, &[1, 2])?))
}

fn month(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    // `Jan`, `Sept`, `January`
    (word.len() >= 3)
        .then(|| MONTHS.iter().position(|m| m.starts_with(word)))
        .flatten()
        .map(|i| i as u32 + 1)
}

fn is_weekday(word: &str) -> bool {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    word.len() >= 3 && DAYS.iter().any(|d| d.starts_with(word))
}

/// A numeric offset (`+0100`, `-08:00`) or a zone abbreviation whose offset is
/// not in doubt: RFC 822's North American zones and the common European ones.
/// `IST`, `BST` and other names several zones share are not read.
fn zone(token: &str) -> Option<i32> {
    let hours = |h: i32| Some(h * 3600);
    match token.to_ascii_uppercase().as_str() {
        "GMT" | "UT" | "UTC" | "Z" | "WET" => hours(0),
        "WEST" | "CET" | "MET" => hours(1),
        "CEST" | "MEST" | "EET" => hours(2),
        "EEST" => hours(3),
        "EST" | "CDT" => hours(-5),
        "EDT" => hours(-4),
        "CST" | "MDT" => hours(-6),
        "MST" | "PDT" => hours(-7),
        "PST" => hours(-8),
        "AKST" => hours(-9),
        "AKDT" => hours(-8),
        "HST" => hours(-10),
        "JST" => hours(9),
        _ => numeric_zone(token),
    }
}

/// `+hhmm`, `-hhmm`, `+hh:mm`, `-hh:mm`.
fn numeric_zone(token: &str) -> Option<i32> {
    let sign = match token.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = token[1..].replacen(':', "", 1);
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i32, i32) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
    (h < 24 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_near_rfc_822_are_read_where_nothing_is_in_doubt() {
        let cases = [
            (
                "Tue 11 Jan 2011 01:30:00 GMT",
                Some("2011-01-11T01:30:00+00:00"),
            ),
            (
                "Tue, 11 Jan 11 01:30:00 GMT",
                Some("2011-01-11T01:30:00+00:00"),
            ),
            (
                "Mon, 21 Jan 2008 8:56 am PST",
                Some("2008-01-21T16:56:00+00:00"),
            ),
            (
                "Sun, 20 Apr 2014 8:19 pm CEST",
                Some("2014-04-20T18:19:00+00:00"),
            ),
            (
                "Sat, Dec 16 2023 02:02:33 PM",
                Some("2023-12-16T14:02:33+00:00"),
            ),
            (
                "Mon, 21 Jan 2008 12:05am EDT",
                Some("2008-01-21T04:05:00+00:00"),
            ),
            (
                "Mon, 21 Jan 2008 8:56p.m. PST",
                Some("2008-01-22T04:56:00+00:00"),
            ),
            (
                "Mon, 21 Jan 2008 12:30 p.m. GMT",
                Some("2008-01-21T12:30:00+00:00"),
            ),
            ("2020/1/10 14:33:00", Some("2020-01-10T14:33:00+00:00")),
            (
                "2006-01-11 16:42:55 -0800",
                Some("2006-01-12T00:42:55+00:00"),
            ),
            ("11 January 2011", Some("2011-01-11T00:00:00+00:00")),
            (
                "Wed, 9 Nov 2011 10:00:00  EST",
                Some("2011-11-09T15:00:00+00:00"),
            ),
            // the day and the month are both numbers: which is which is a guess
            ("10/1/2020 14:33:00", None),
            ("1/10/2020", None),
            // zones several places share, and words that are no part of a date
            ("Tue, 11 Jan 2011 01:30:00 IST", None),
            ("Tue, 11 Jan 2011 01:30:00 XYZ", None),
            ("sometime in Jan 2011", None),
            ("Jan 2011", None),
            ("Tue, 31 Feb 2011 01:30:00 GMT", None),
            ("Tue, 11 Jan 2011 13:30 pm GMT", None),
            ("Tue, 11 Jan 2011 25:30:00 GMT", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_lenient(text).map(|t| t.to_rfc3339()),
                want.map(String::from),
                "{text:?}"
            );
        }
    }
}
