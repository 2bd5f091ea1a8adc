//! Counters, latency histograms and per-interval time series for workloads and nodes.
//!
//! Architecture invariant: `metrics` knows nothing of the model or the simulator; it records
//! numbers it is handed. Memory is bounded: histograms have fixed bounds and the time series
//! has at most `MAX_POINTS` buckets whatever the simulated duration.

mod latency;
mod series;

pub use latency::{Latency, LatencySummary};
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
}

impl Cause {
    pub const COUNT: usize = 5;
    pub const ALL: [Cause; Cause::COUNT] = [
        Cause::ClientTimeout,
        Cause::Timeout,
        Cause::Rejected,
        Cause::Error,
        Cause::NoReplica,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::ClientTimeout => "client_timeout",
            Cause::Timeout => "timeout",
            Cause::Rejected => "rejected",
            Cause::Error => "error",
            Cause::NoReplica => "no_replica",
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

/// Everything recorded for one workload or one node in one run.
#[derive(Clone, Debug)]
pub struct EndpointMetrics {
    pub outcomes: Outcomes,
    /// Latency of every request that ended after the warm-up, whatever its outcome.
    pub latency: Latency,
    pub series: TimeSeries,
}

impl EndpointMetrics {
    pub fn new(step_ns: u64) -> EndpointMetrics {
        EndpointMetrics {
            outcomes: Outcomes::default(),
            latency: Latency::new(),
            series: TimeSeries::new(step_ns),
        }
    }

    /// Records one ended request. `counted` is false for requests that arrived during the
    /// warm-up: they still appear in the time series, which shows the whole run.
    pub fn record_end(&mut self, now_ns: u64, latency_ns: u64, outcome: Outcome, counted: bool) {
        self.series.record(now_ns, latency_ns, outcome);
        if counted {
            self.outcomes.record(outcome);
            self.latency.record(latency_ns);
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
        let mut metrics = EndpointMetrics::new(1_000_000_000);
        metrics.record_end(10, 5, Outcome::Ok, false);
        metrics.record_end(20, 5, Outcome::Ok, true);
        assert_eq!(metrics.outcomes.ok, 1);
        assert_eq!(metrics.latency.count(), 1);
        assert_eq!(
            metrics
                .series
                .finish()
                .iter()
                .map(|b| b.completed)
                .sum::<u64>(),
            2
        );
    }
}
