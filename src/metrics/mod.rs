//! Counters, latency histograms and per-interval time series for workloads and nodes.
//!
//! Architecture invariant: `metrics` knows nothing of the model or the simulator; it records
//! numbers it is handed. Memory is bounded: histograms have fixed bounds and the time series
//! has at most `MAX_POINTS` buckets whatever the simulated duration.

mod latency;
pub mod queue;
mod series;

pub use latency::{AboveCounts, Latency, LatencySummary};
pub use series::{Bucket, TimeSeries};

use serde::Serialize;

/// Why a request or a call failed. The names are part of the JSON interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The user's client gave up (the workload's `timeout`).
    ClientTimeout,
    /// A call's timeout expired before its answer.
    Timeout,
    /// A replica's queue was full.
    Rejected,
    /// The callee answered with an error.
    Error,
    /// No healthy replica could take the call.
    NoReplica,
    /// A fault injected an error (the `errors` fault kind).
    InjectedError,
    /// The replica serving the call stopped (crash or zone outage) while it held the call.
    Lost,
    /// The caller's circuit breaker for this dependency was open: the call was not sent.
    CircuitOpen,
    /// The caller's bulkhead for this dependency was full: the call was not sent.
    BulkheadFull,
    /// The callee dropped the work unserved: it waited in the queue past `queue_timeout`, or
    /// an adaptive queue policy shed it.
    Shed,
    /// The work's propagated deadline had passed when it would have started, or made its
    /// next call: abandoned (`deadline = "propagate"`).
    DeadlineExceeded,
}

impl Cause {
    pub const COUNT: usize = 11;
    pub const ALL: [Cause; Cause::COUNT] = [
        Cause::ClientTimeout,
        Cause::Timeout,
        Cause::Rejected,
        Cause::Error,
        Cause::NoReplica,
        Cause::InjectedError,
        Cause::Lost,
        Cause::CircuitOpen,
        Cause::BulkheadFull,
        Cause::Shed,
        Cause::DeadlineExceeded,
    ];

    /// The causes a report lists for a model: `deadline_exceeded` only when it propagates
    /// deadlines, so the reports of other models keep their shape.
    pub fn listed(deadlines: bool) -> &'static [Cause] {
        if deadlines {
            &Cause::ALL
        } else {
            &Cause::ALL[..Cause::COUNT - 1]
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::ClientTimeout => "client_timeout",
            Cause::Timeout => "timeout",
            Cause::Rejected => "rejected",
            Cause::Error => "error",
            Cause::NoReplica => "no_replica",
            Cause::InjectedError => "injected_error",
            Cause::Lost => "lost",
            Cause::CircuitOpen => "circuit_open",
            Cause::BulkheadFull => "bulkhead_full",
            Cause::Shed => "shed",
            Cause::DeadlineExceeded => "deadline_exceeded",
        }
    }
}

/// How a request (or a call at a node) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Answered, but an optional dependency failed on the way.
    Degraded,
    Failed(Cause),
}

/// Counts of requests by outcome. Invariant: `requests == ok + degraded + failed() + in_flight`
/// once a run has ended (in-flight requests are counted by the simulator at the end).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub requests: u64,
    pub ok: u64,
    pub degraded: u64,
    pub failed_by_cause: [u64; Cause::COUNT],
    /// Requests that had not ended when the run stopped.
    pub in_flight: u64,
}

impl Outcomes {
    pub fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Degraded => self.degraded += 1,
            Outcome::Failed(cause) => self.failed_by_cause[cause as usize] += 1,
        }
    }

    pub fn failed(&self) -> u64 {
        self.failed_by_cause.iter().sum()
    }

    pub fn ended(&self) -> u64 {
        self.ok + self.degraded + self.failed()
    }

    /// Share of ended requests that were answered (ok or degraded); 1 when nothing ended.
    pub fn availability(&self) -> f64 {
        let ended = self.ended();
        if ended == 0 {
            1.0
        } else {
            (self.ok + self.degraded) as f64 / ended as f64
        }
    }
}

/// Outcomes and latency of the requests that arrived in one window of a run.
#[derive(Clone, Debug, Default)]
pub struct WindowStats {
    pub outcomes: Outcomes,
    pub latency: Latency,
}

/// Where a request's arrival falls: in the warm-up (not counted) or in a window. Runs without
/// windows count everything after the warm-up in window 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    No,
    InWindow(u8),
}

/// Everything recorded for one workload or one node in one run.
#[derive(Clone, Debug)]
pub struct EndpointMetrics {
    /// Every request that arrived after the warm-up.
    pub outcomes: Outcomes,
    /// Latency of the answered (ok or degraded) requests that arrived after the warm-up.
    /// Failures are counted by cause, not here: a refusal in a microsecond is not a fast answer.
    pub latency: Latency,
    /// Per window of the run (before, during, after the faults), by arrival time; empty when
    /// the run has no windows.
    pub windows: Vec<WindowStats>,
    pub series: TimeSeries,
}

impl EndpointMetrics {
    pub fn new(step_ns: u64, windows: usize) -> EndpointMetrics {
        EndpointMetrics {
            outcomes: Outcomes::default(),
            latency: Latency::new(),
            windows: vec![WindowStats::default(); windows],
            series: TimeSeries::new(step_ns),
        }
    }

    /// Counts every pending latency into its histogram (`Latency::flush`): at the end of a
    /// run, so reports read the histograms directly.
    pub fn flush(&mut self) {
        self.latency.flush();
        for window in &mut self.windows {
            window.latency.flush();
        }
    }

    /// Counts a request's arrival.
    pub fn record_arrival(&mut self, counted: Counted) {
        if let Counted::InWindow(window) = counted {
            self.outcomes.requests += 1;
            if let Some(stats) = self.windows.get_mut(window as usize) {
                stats.outcomes.requests += 1;
            }
        }
    }

    /// Records one ended request. Requests that arrived during the warm-up still appear in the
    /// time series, which shows the whole run.
    #[inline]
    pub fn record_end(&mut self, now_ns: u64, latency_ns: u64, outcome: Outcome, counted: Counted) {
        self.series.record(now_ns, latency_ns, outcome);
        let answered = !matches!(outcome, Outcome::Failed(_));
        if let Counted::InWindow(window) = counted {
            self.outcomes.record(outcome);
            if answered {
                self.latency.record(latency_ns);
            }
            if let Some(stats) = self.windows.get_mut(window as usize) {
                stats.outcomes.record(outcome);
                if answered {
                    stats.latency.record(latency_ns);
                }
            }
        }
    }

    /// Records a request refused on arrival (queue full, no replica, injected error).
    pub fn record_refused(&mut self, now_ns: u64, cause: Cause, counted: Counted) {
        self.record_end(now_ns, 0, Outcome::Failed(cause), counted);
    }

    /// Counts a request still in flight when the run stopped.
    pub fn record_in_flight(&mut self, counted: Counted) {
        if let Counted::InWindow(window) = counted {
            self.outcomes.in_flight += 1;
            if let Some(stats) = self.windows.get_mut(window as usize) {
                stats.outcomes.in_flight += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_counts_degraded_as_answered() {
        let mut outcomes = Outcomes::default();
        outcomes.record(Outcome::Ok);
        outcomes.record(Outcome::Degraded);
        outcomes.record(Outcome::Failed(Cause::Timeout));
        outcomes.record(Outcome::Failed(Cause::Timeout));
        assert_eq!(outcomes.failed(), 2);
        assert_eq!(outcomes.failed_by_cause[Cause::Timeout as usize], 2);
        assert!((outcomes.availability() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn warmup_requests_show_in_series_only() {
        let mut metrics = EndpointMetrics::new(1_000_000_000, 0);
        metrics.record_end(10, 5, Outcome::Ok, Counted::No);
        metrics.record_end(20, 5, Outcome::Ok, Counted::InWindow(0));
        assert_eq!(metrics.outcomes.ok, 1);
        assert_eq!(metrics.latency.count(), 1);
        let completed: u64 = metrics.series.finish().iter().map(|b| b.completed).sum();
        assert_eq!(completed, 2);
    }

    #[test]
    fn windows_split_what_the_total_counts() {
        let mut metrics = EndpointMetrics::new(1_000_000_000, 3);
        let ends = [
            (0, Outcome::Ok),
            (1, Outcome::Failed(Cause::Lost)),
            (2, Outcome::Ok),
        ];
        for (window, outcome) in ends {
            metrics.record_arrival(Counted::InWindow(window));
            metrics.record_end(u64::from(window), 7, outcome, Counted::InWindow(window));
        }
        metrics.record_arrival(Counted::InWindow(2));
        metrics.record_in_flight(Counted::InWindow(2));
        assert_eq!(metrics.outcomes.requests, 4);
        assert_eq!(metrics.windows[1].outcomes.failed(), 1);
        assert_eq!(metrics.windows[2].outcomes.requests, 2);
        assert_eq!(metrics.windows[2].outcomes.in_flight, 1);
        let sum: u64 = metrics.windows.iter().map(|w| w.outcomes.requests).sum();
        assert_eq!(sum, metrics.outcomes.requests);
    }
}
