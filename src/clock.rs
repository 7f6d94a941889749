//! Time for the daemon: the clock it reads and waits on, and the ticker that
//! turns its cron schedules into ticks. Each tick is the exact moment of the
//! schedule it stands for, whenever the daemon gets to it, so a round knows
//! which tick it serves. Tests run the same loop on tokio's paused clock.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

/// The longest the daemon sleeps without looking at the wall clock again: a
/// suspended machine or a clock set forward is noticed within this.
const LONGEST_NAP: Duration = Duration::from_secs(10);

/// Where the daemon reads the time of day and waits for it.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system's wall clock.
    #[default]
    System,
    /// Tokio's clock, read as the time of day from `epoch` on: under a paused
    /// runtime a day of ticks passes in moments. A paused clock jumps to the
    /// next timer whenever no task can run, so what another thread does for
    /// the daemon (the database writer, the network) is waited for in a
    /// blocking task, which keeps it still meanwhile.
    Tokio {
        epoch: DateTime<Utc>,
        start: tokio::time::Instant,
    },
}

impl Clock {
    /// Tokio's clock, reading `epoch` now.
    pub fn tokio_from(epoch: DateTime<Utc>) -> Clock {
        Clock::Tokio {
            epoch,
            start: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Tokio { epoch, start } => {
                *epoch + chrono::TimeDelta::from_std(start.elapsed()).unwrap_or_default()
            }
        }
    }

    /// Returns once the clock reads `t` or later.
    pub async fn sleep_until(&self, t: DateTime<Utc>) {
        loop {
            let Ok(left) = (t - self.now()).to_std() else {
                return;
            };
            if left.is_zero() {
                return;
            }
            match self {
                Clock::System => tokio::time::sleep(left.min(LONGEST_NAP)).await,
                Clock::Tokio { .. } => tokio::time::sleep(left).await,
            }
        }
    }

    /// Awaits `work`, which waits on other threads (the database writer, a
    /// host); on a paused clock, without letting the clock jump meanwhile.
    pub async fn hold<F>(&self, work: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Clock::System => work.await,
            Clock::Tokio { .. } => {
                let runtime = tokio::runtime::Handle::current();
                match tokio::task::spawn_blocking(move || runtime.block_on(work)).await {
                    Ok(output) => output,
                    Err(e) => std::panic::resume_unwind(e.into_panic()),
                }
            }
        }
    }
}

/// One tick of the schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// the moment the schedule names
    pub at: DateTime<Utc>,
    /// the first of the ticks that passed unserved before `at` while the daemon
    /// could not run (a suspended machine, a clock set forward); `at` stands for
    /// them all
    pub missed_from: Option<DateTime<Utc>>,
    /// how many ticks passed unserved (counted up to [`MAX_COUNTED`])
    pub missed: u32,
}

/// Missed ticks are counted up to this many (a week asleep on a one-second
/// schedule is not worth counting one by one).
pub(crate) const MAX_COUNTED: u32 = 10_000;

/// The ticks of every schedule in use, in order, each once.
pub struct Ticker {
    schedules: Schedules,
    /// the last tick handed out (or where the ticker started)
    last: DateTime<Utc>,
}

impl Ticker {
    /// Ticks of `schedules` after `after`.
    pub fn new(schedules: Schedules, after: DateTime<Utc>) -> Ticker {
        Ticker {
            schedules,
            last: after,
        }
    }

    pub fn schedules(&self) -> &Schedules {
        &self.schedules
    }

    /// Goes on with other schedules (after a reload), from the last tick.
    pub fn set_schedules(&mut self, schedules: Schedules) {
        self.schedules = schedules;
    }

    /// Waits for the next tick. Cancel-safe: a wait given up is started again
    /// by the next call, and no tick is lost or handed out twice.
    pub async fn next(&mut self, clock: &Clock) -> Tick {
        let Some(at) = self.schedules.tick_after(self.last) else {
            // No schedule ever ticks again: only reloads and signals remain.
            return std::future::pending().await;
        };
        clock.sleep_until(at).await;
        let latest = self.schedules.latest_tick_at_or_before(clock.now());
        let tick = match latest {
            Some(latest) if latest > at => {
                let mut missed = 1;
                let mut t = at;
                while missed < MAX_COUNTED {
                    match self.schedules.tick_after(t) {
                        Some(next) if next < latest => {
                            missed += 1;
                            t = next;
                        }
                        _ => break,
                    }
                }
                Tick {
                    at: latest,
                    missed_from: Some(at),
                    missed,
                }
            }
            _ => Tick {
                at,
                missed_from: None,
                missed: 0,
            },
        };
        self.last = tick.at;
        tick
    }
}

/// Parses a six-field cron expression (with seconds). Every poll asks for its
/// source's schedule, and a config names only a few: each is parsed once (a
/// parse costs as much as reading a small feed's dates).
pub(crate) fn parse_cron(expr: &str) -> Result<Cron, croner::errors::CronError> {
    /// Schedules kept parsed; past this many, the oldest are parsed again.
    const KEPT: usize = 64;
    static PARSED: Mutex<Vec<(String, Cron)>> = Mutex::new(Vec::new());
    let mut parsed = PARSED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, cron)) = parsed.iter().find(|(e, _)| e == expr) {
        return Ok(cron.clone());
    }
    let cron = CronParser::builder()
        .seconds(Seconds::Required)
        .build()
        .parse(expr)?;
    if parsed.len() == KEPT {
        parsed.remove(0);
    }
    parsed.push((expr.to_string(), cron.clone()));
    Ok(cron)
}

/// The first tick of `cron` strictly after `t`. Ticks fall on whole seconds;
/// croner keeps the fraction of the moment it starts from in what it finds,
/// so the fraction is dropped first.
pub(crate) fn tick_after(cron: &Cron, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&t.trunc_subsecs(0), false).ok()
}

/// The first tick of `cron` at or after `t`.
pub(crate) fn tick_at_or_after(cron: &Cron, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let whole = t.trunc_subsecs(0);
    cron.find_next_occurrence(&whole, whole == t).ok()
}

/// Longest delay spreading a scheduled round's requests.
const MAX_SPREAD: Duration = Duration::from_secs(10);

/// Every schedule in use (the default one and the sources' own), ticking as one.
#[derive(Debug, Clone)]
pub struct Schedules {
    crons: Vec<Cron>,
}

impl Schedules {
    /// The schedules of `exprs`; duplicates count once. Fails on the first
    /// expression that is no valid schedule, naming it.
    pub fn new<'a>(
        exprs: impl IntoIterator<Item = &'a str>,
    ) -> Result<Schedules, (String, croner::errors::CronError)> {
        let mut seen: Vec<&str> = Vec::new();
        let mut crons = Vec::new();
        for expr in exprs {
            if seen.contains(&expr) {
                continue;
            }
            seen.push(expr);
            crons.push(parse_cron(expr).map_err(|e| (expr.to_string(), e))?);
        }
        Ok(Schedules { crons })
    }

    /// The first tick of any schedule strictly after `t`.
    pub(crate) fn tick_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.crons.iter().filter_map(|c| tick_after(c, t)).min()
    }

    /// The last tick of any schedule at or before `t`.
    pub fn latest_tick_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let whole = t.trunc_subsecs(0);
        self.crons
            .iter()
            .filter_map(|c| c.find_previous_occurrence(&whole, true).ok())
            .max()
    }

    /// How far the requests of the round for `tick` are spread: a quarter of
    /// the way to the next tick, at most ten seconds, so that a round's last
    /// request still comes well before the next round is due.
    pub fn spread_after(&self, tick: DateTime<Utc>) -> Duration {
        self.tick_after(tick)
            .and_then(|next| (next - tick).to_std().ok())
            .map_or(Duration::ZERO, |gap| (gap / 4).min(MAX_SPREAD))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn schedules(exprs: &[&str]) -> Schedules {
        Schedules::new(exprs.iter().copied()).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn the_ticker_hands_out_every_tick_of_every_schedule_once_in_order() {
        let clock = Clock::tokio_from(at("2026-11-24T10:00:00.300Z"));
        let mut ticker = Ticker::new(
            schedules(&["*/20 * * * * *", "15 * * * * *", "0 * * * * *"]),
            clock.now(),
        );
        let mut seen = Vec::new();
        for _ in 0..6 {
            let tick = ticker.next(&clock).await;
            assert_eq!((tick.missed_from, tick.missed), (None, 0));
            assert_eq!(clock.now(), tick.at, "the tick comes at its moment");
            seen.push(tick.at);
        }
        let want: Vec<DateTime<Utc>> = [
            "10:00:15", "10:00:20", "10:00:40", "10:01:00", "10:01:15", "10:01:20",
        ]
        .iter()
        .map(|t| at(&format!("2026-11-24T{t}Z")))
        .collect();
        assert_eq!(seen, want);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_given_up_loses_no_tick() {
        let clock = Clock::tokio_from(at("2026-11-24T10:00:00Z"));
        let mut ticker = Ticker::new(schedules(&["*/10 * * * * *"]), clock.now());
        for _ in 0..2 {
            let cut = tokio::time::timeout(Duration::from_secs(4), ticker.next(&clock)).await;
            assert!(cut.is_err());
        }
        assert_eq!(ticker.next(&clock).await.at, at("2026-11-24T10:00:10Z"));
        assert_eq!(clock.now(), at("2026-11-24T10:00:10Z"));
        assert_eq!(ticker.next(&clock).await.at, at("2026-11-24T10:00:20Z"));
    }

    #[tokio::test(start_paused = true)]
    async fn ticks_passed_while_the_daemon_could_not_run_are_served_by_the_latest() {
        let clock = Clock::tokio_from(at("2026-11-24T10:00:00Z"));
        let mut ticker = Ticker::new(schedules(&["0 * * * * *"]), clock.now());
        assert_eq!(ticker.next(&clock).await.at, at("2026-11-24T10:01:00Z"));
        // The machine sleeps (or the runtime is blocked) for five minutes.
        tokio::time::advance(Duration::from_secs(5 * 60 + 30)).await;
        let tick = ticker.next(&clock).await;
        assert_eq!(tick.at, at("2026-11-24T10:06:00Z"));
        assert_eq!(tick.missed_from, Some(at("2026-11-24T10:02:00Z")));
        assert_eq!(tick.missed, 4, "10:02 to 10:05");
        assert_eq!(ticker.next(&clock).await.at, at("2026-11-24T10:07:00Z"));
    }

    #[tokio::test]
    async fn the_system_clock_wakes_at_the_moment_asked() {
        let clock = Clock::System;
        let target = Utc::now() + chrono::TimeDelta::milliseconds(300);
        clock.sleep_until(target).await;
        let woke = Utc::now();
        assert!(woke >= target, "{woke} before {target}");
        assert!(
            woke - target < chrono::TimeDelta::milliseconds(500),
            "{woke}"
        );
    }
}
