//! Counters of what the poller did, rendered as Prometheus text for `/metrics`.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use crate::store::{Health, StoreCounts};

/// Upper bounds of the fetch latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
const OUTCOMES: [&str; 3] = ["ok", "not_modified", "failed"];
const CLASSES: [&str; 6] = ["none", "1xx", "2xx", "3xx", "4xx", "5xx"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Fetched,
    NotModified,
    Failed,
}

/// How polling one source went.
#[derive(Debug, Clone)]
pub struct SourceReport {
    pub name: String,
    pub outcome: Outcome,
    pub status: Option<u16>,
    pub counts: StoreCounts,
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Default)]
pub struct Metrics {
    polls: AtomicU64,
    fetches: [[AtomicU64; CLASSES.len()]; OUTCOMES.len()],
    new: AtomicU64,
    updated: AtomicU64,
    folded: AtomicU64,
    latency: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ms: AtomicU64,
    round_failures: AtomicU64,
    ticks_skipped: AtomicU64,
    reload_failures: AtomicU64,
    /// whether the last reload was rejected (the previous config still runs)
    reload_rejected: AtomicBool,
    /// why the daemon is degraded (a failed round, a failed reload, a database
    /// that cannot be written); `None` while all is well
    problem: Mutex<Option<String>>,
}

impl Metrics {
    /// Marks the daemon degraded, saying why; `/healthz` shows it until cleared.
    pub fn set_problem(&self, problem: impl Into<String>) {
        let mut slot = self.problem.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(problem.into());
    }

    /// The daemon works again.
    pub fn clear_problem(&self) {
        let mut slot = self.problem.lock().unwrap_or_else(|p| p.into_inner());
        *slot = None;
    }

    /// Why the daemon is degraded, if it is.
    pub fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A poll round ended.
    pub fn round_done(&self) {
        self.polls.fetch_add(1, Relaxed);
    }

    /// A poll round failed (it could not start, store, or finish).
    pub fn round_failed(&self) {
        self.round_failures.fetch_add(1, Relaxed);
    }

    /// Ticks got no round of their own: the round before was still running,
    /// or the daemon could not run at the time.
    pub fn ticks_skipped(&self, ticks: u32) {
        self.ticks_skipped.fetch_add(u64::from(ticks), Relaxed);
    }

    /// A reload was rejected: the previous config goes on.
    pub fn reload_failed(&self) {
        self.reload_failures.fetch_add(1, Relaxed);
        self.reload_rejected.store(true, Relaxed);
    }

    /// A reload was taken.
    pub fn reload_succeeded(&self) {
        self.reload_rejected.store(false, Relaxed);
    }

    /// One source was polled.
    pub fn record(&self, report: &SourceReport) {
        let outcome = match report.outcome {
            Outcome::Fetched => 0,
            Outcome::NotModified => 1,
            Outcome::Failed => 2,
        };
        let class = report.status.map_or(0, |s| (s / 100).clamp(1, 5) as usize);
        self.fetches[outcome][class].fetch_add(1, Relaxed);
        self.new.fetch_add(report.counts.new, Relaxed);
        self.updated.fetch_add(report.counts.updated, Relaxed);
        self.folded.fetch_add(report.counts.folded, Relaxed);
        let seconds = report.elapsed_ms as f64 / 1000.0;
        for (bucket, bound) in self.latency.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_ms.fetch_add(report.elapsed_ms, Relaxed);
    }

    /// The Prometheus text exposition, with the store's current counts.
    pub fn render(&self, health: &Health) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, lines: Vec<(String, String)>| {
            let _ = writeln!(out, "# HELP tributary_{name} {help}");
            let _ = writeln!(out, "# TYPE tributary_{name} {kind}");
            for (labels, value) in lines {
                let _ = writeln!(out, "tributary_{name}{labels} {value}");
            }
        };
        let one = |v: u64| vec![(String::new(), v.to_string())];
        metric(
            "polls_total",
            "counter",
            "Poll rounds run.",
            one(self.polls.load(Relaxed)),
        );
        metric(
            "round_failures_total",
            "counter",
            "Poll rounds that failed (a database error, a panicked poll); retried on the next tick.",
            one(self.round_failures.load(Relaxed)),
        );
        metric(
            "ticks_skipped_total",
            "counter",
            "Schedule ticks that got no poll round of their own (a round still running, a suspended machine); the next round polled their sources.",
            one(self.ticks_skipped.load(Relaxed)),
        );
        metric(
            "reload_failures_total",
            "counter",
            "Reloads rejected; the previous config went on.",
            one(self.reload_failures.load(Relaxed)),
        );
        metric(
            "config_last_reload_successful",
            "gauge",
            "0 while the config file holds a rejected change, else 1.",
            one(u64::from(!self.reload_rejected.load(Relaxed))),
        );
        metric(
            "degraded",
            "gauge",
            "1 while the daemon is degraded (see /healthz for why), else 0.",
            one(u64::from(self.problem().is_some())),
        );
        let mut fetches = Vec::new();
        for (o, outcome) in OUTCOMES.iter().enumerate() {
            for (c, class) in CLASSES.iter().enumerate() {
                let v = self.fetches[o][c].load(Relaxed);
                if v > 0 {
                    fetches.push((
                        format!("{{outcome=\"{outcome}\",status=\"{class}\"}}"),
                        v.to_string(),
                    ));
                }
            }
        }
        metric(
            "fetches_total",
            "counter",
            "Feed fetches by outcome and HTTP status class.",
            fetches,
        );
        metric(
            "items_new_total",
            "counter",
            "Items stored for the first time.",
            one(self.new.load(Relaxed)),
        );
        metric(
            "items_updated_total",
            "counter",
            "Stored items whose fields changed.",
            one(self.updated.load(Relaxed)),
        );
        metric(
            "items_folded_total",
            "counter",
            "New items that joined a story known from another source.",
            one(self.folded.load(Relaxed)),
        );
        let mut histogram: Vec<(String, String)> = self
            .latency
            .iter()
            .zip(BUCKETS)
            .map(|(b, bound)| {
                (
                    format!("_bucket{{le=\"{bound}\"}}"),
                    b.load(Relaxed).to_string(),
                )
            })
            .collect();
        let count = self.latency_count.load(Relaxed);
        histogram.push(("_bucket{le=\"+Inf\"}".into(), count.to_string()));
        histogram.push((
            "_sum".into(),
            format!("{:.3}", self.latency_sum_ms.load(Relaxed) as f64 / 1000.0),
        ));
        histogram.push(("_count".into(), count.to_string()));
        metric(
            "fetch_duration_seconds",
            "histogram",
            "Time to fetch, parse and store one source.",
            histogram,
        );
        metric(
            "sources",
            "gauge",
            "Sources by state.",
            vec![
                ("{state=\"ok\"}".into(), health.ok.to_string()),
                ("{state=\"failing\"}".into(), health.failing.to_string()),
                ("{state=\"disabled\"}".into(), health.disabled.to_string()),
            ],
        );
        metric(
            "items_stored",
            "gauge",
            "Items in the database.",
            one(health.items),
        );
        metric(
            "stories_stored",
            "gauge",
            "Stories (items folded together) in the database.",
            one(health.stories),
        );
        out
    }
}
