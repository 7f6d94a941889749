//! How long to leave a source alone: its schedule, what the feed and its host
//! asked for (`Cache-Control`, `<ttl>`, `Retry-After`, `skipHours`/`skipDays`),
//! and the backoff after errors. Every next-fetch time is a tick of the source's
//! schedule, counted from the tick the poll served.

use std::time::Duration;

use chrono::{DateTime, Datelike, SubsecRound, TimeDelta, Timelike, Utc, Weekday};
use xxhash_rust::xxh3::xxh3_64;

use crate::clock::{parse_cron, tick_after, tick_at_or_after};

/// What a feed and its host said about when to come back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Politeness {
    /// `Cache-Control: max-age` or `Expires`
    pub fresh_for: Option<Duration>,
    /// RSS `<ttl>`, minutes
    pub ttl_minutes: Option<u32>,
    /// `Retry-After` on a 429 or 503
    pub retry_after: Option<Duration>,
    /// RSS `<skipHours>`, GMT
    pub skip_hours: Vec<u32>,
    /// RSS `<skipDays>`
    pub skip_days: Vec<Weekday>,
}

const BACKOFF_START: Duration = Duration::from_secs(15 * 60);
/// The longest any hint or backoff postpones a source: a feed is never left
/// unread for more than a day, whatever a host says.
const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// When a source polled for the tick `served` (or at `served`, outside the
/// schedule) should next be fetched: the first tick of its schedule after
/// `served` that also comes after the wait asked for, and outside
/// `skipHours`/`skipDays`.
pub(crate) fn next_fetch(
    schedule: &str,
    served: DateTime<Utc>,
    consecutive_errors: u32,
    source_name: &str,
    hints: &Politeness,
) -> DateTime<Utc> {
    let fallback = served + TimeDelta::minutes(15);
    let Ok(cron) = parse_cron(schedule) else {
        return fallback;
    };
    let Some(first) = tick_after(&cron, served) else {
        return fallback;
    };
    let wait = TimeDelta::from_std(wait_asked(consecutive_errors, source_name, hints))
        .unwrap_or(TimeDelta::days(1));
    let mut next = tick_at_or_after(&cron, served + wait).map_or(first, |t| t.max(first));
    let all_hours_skipped = (0..24).all(|h| hints.skip_hours.contains(&h));
    let all_days_skipped = hints.skip_days.len() >= 7;
    // A week of hours is enough to leave any skipped stretch.
    for _ in 0..(24 * 8) {
        let hour_skipped = !all_hours_skipped && hints.skip_hours.contains(&next.hour());
        let day_skipped = !all_days_skipped && hints.skip_days.contains(&next.weekday());
        if !hour_skipped && !day_skipped {
            break;
        }
        let next_hour = (next + TimeDelta::hours(1))
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .map(|t| t.trunc_subsecs(0))
            .unwrap_or(next + TimeDelta::hours(1));
        next = tick_at_or_after(&cron, next_hour).unwrap_or(next_hour);
    }
    next
}

/// How long to leave a source alone after a poll. A host that said when to
/// come back (`Retry-After`) is taken at its word, up to a day. Otherwise the
/// longest of the freshness and `<ttl>` asked for and, after errors, the
/// backoff: 15 minutes doubling up to a day, plus up to 10% of jitter fixed per
/// source and error count (repeatable, yet failing sources do not retry in
/// step).
fn wait_asked(consecutive_errors: u32, source_name: &str, hints: &Politeness) -> Duration {
    if let Some(asked) = hints.retry_after {
        return asked.min(MAX_WAIT);
    }
    let mut wait = [
        hints.fresh_for,
        hints
            .ttl_minutes
            .map(|m| Duration::from_secs(u64::from(m) * 60)),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or_default();
    if consecutive_errors > 0 {
        let base = BACKOFF_START
            .saturating_mul(1 << (consecutive_errors - 1).min(16))
            .min(MAX_WAIT);
        let jitter = xxh3_64(format!("{source_name}/{consecutive_errors}").as_bytes()) % 1000;
        wait = wait.max(base + base.mul_f64(jitter as f64 / 10_000.0));
    }
    wait.min(MAX_WAIT + MAX_WAIT / 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(schedule: &str, now: &str, errors: u32, hints: &Politeness) -> DateTime<Utc> {
        next_fetch(schedule, at(now), errors, "a", hints)
    }

    #[test]
    fn next_fetch_follows_the_schedule() {
        let none = Politeness::default();
        assert_eq!(
            next("0 */15 * * * *", "2026-11-24T10:07:30Z", 0, &none),
            at("2026-11-24T10:15:00Z")
        );
        assert_eq!(
            next("0 0 * * * *", "2026-11-24T10:07:30Z", 0, &none),
            at("2026-11-24T11:00:00Z")
        );
    }

    #[test]
    fn errors_back_off_exponentially_up_to_a_day() {
        let now = at("2026-11-24T10:00:00Z");
        let delay = |n| {
            (next_fetch("* * * * * *", now, n, "a", &Politeness::default()) - now).num_seconds()
        };
        assert!((900..=990).contains(&delay(1)), "{}", delay(1));
        assert!((1800..=1980).contains(&delay(2)), "{}", delay(2));
        assert!((3600..=3960).contains(&delay(3)), "{}", delay(3));
        assert!((86400..=95040).contains(&delay(30)), "{}", delay(30));
    }

    #[test]
    fn hints_postpone_to_the_first_tick_after_them() {
        let hints = |fresh: u64, ttl: u32, retry: u64| Politeness {
            fresh_for: (fresh > 0).then(|| Duration::from_secs(fresh)),
            ttl_minutes: (ttl > 0).then_some(ttl),
            retry_after: (retry > 0).then(|| Duration::from_secs(retry)),
            ..Politeness::default()
        };
        let s = "0 */15 * * * *";
        let now = "2026-11-24T10:00:00Z";
        // max-age shorter than the schedule changes nothing
        assert_eq!(
            next(s, now, 0, &hints(300, 0, 0)),
            at("2026-11-24T10:15:00Z")
        );
        // 20 minutes of freshness: the tick after it
        assert_eq!(
            next(s, now, 0, &hints(1200, 0, 0)),
            at("2026-11-24T10:30:00Z")
        );
        // <ttl>60</ttl>
        assert_eq!(
            next(s, now, 0, &hints(0, 60, 0)),
            at("2026-11-24T11:00:00Z")
        );
        // Retry-After: 3600 on a 429, with the error it counts as
        assert_eq!(
            next(s, now, 1, &hints(0, 0, 3600)),
            at("2026-11-24T11:00:00Z")
        );
        // a year of max-age is held to a day (and a bit of jitter room)
        let far = next(s, now, 0, &hints(365 * 86400, 0, 0));
        assert!(far <= at("2026-11-25T12:30:00Z"), "{far}");
    }

    #[test]
    fn skip_hours_and_days_are_respected() {
        let skip = Politeness {
            skip_hours: vec![22, 23, 0, 1, 2, 3, 4, 5],
            ..Politeness::default()
        };
        // 2026-11-24 is a Tuesday
        assert_eq!(
            next("0 */15 * * * *", "2026-11-24T21:50:00Z", 0, &skip),
            at("2026-11-25T06:00:00Z")
        );
        let weekend = Politeness {
            skip_days: vec![Weekday::Sat, Weekday::Sun],
            ..Politeness::default()
        };
        assert_eq!(
            next("0 0 * * * *", "2026-11-27T23:30:00Z", 0, &weekend),
            at("2026-11-30T00:00:00Z")
        );
        let every_hour = Politeness {
            skip_hours: (0..24).collect(),
            ..Politeness::default()
        };
        assert_eq!(
            next("0 0 * * * *", "2026-11-24T10:30:00Z", 0, &every_hour),
            at("2026-11-24T11:00:00Z")
        );
    }
}
