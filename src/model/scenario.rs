//! A scenario: a model, a run length, a seed, steady-state hypotheses, and (later) faults.

use std::path::PathBuf;

use super::topology::{Topology, WorkloadId};

/// Bounds that end a run early with a reported outcome instead of a hang or an OOM kill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Events processed in one run.
    pub max_events: u64,
    /// User requests in flight at once.
    pub max_requests_in_flight: u32,
    /// Calls (work items at nodes) in flight at once, across the whole system.
    pub max_calls_in_flight: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 2_000_000_000,
            max_requests_in_flight: 1_000_000,
            max_calls_in_flight: 4_000_000,
        }
    }
}

/// A validated scenario with its model loaded.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    /// The scenario file, as given.
    pub path: PathBuf,
    /// The model file, resolved relative to the scenario.
    pub model_path: PathBuf,
    pub topology: Topology,
    pub duration_ns: u64,
    /// Metrics ignore requests that arrive before this. Invariant: `warmup_ns < duration_ns`.
    pub warmup_ns: u64,
    /// The master seed; 0 when the file does not set one.
    pub seed: u64,
    pub limits: Limits,
    /// Steady-state hypotheses, in file order.
    pub hypotheses: Vec<Hypothesis>,
}

/// A steady-state hypothesis: a workload's metric stays within bounds.
/// Invariant: at least one of `min` and `max`; `min <= max` when both are set.
#[derive(Clone, Debug, PartialEq)]
pub struct Hypothesis {
    pub workload: WorkloadId,
    pub metric: Metric,
    /// Lower bound, in the metric's unit (see `Metric`).
    pub min: Option<f64>,
    /// Upper bound, in the metric's unit.
    pub max: Option<f64>,
    /// The 1-based line of the `[[hypothesis]]` header, for reports and CI annotations.
    pub line: usize,
}

/// What a hypothesis measures. Latencies are in nanoseconds (written as durations in the
/// file), `availability`, `error_rate` and `degraded` are fractions in [0, 1], `throughput` is
/// completed requests per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Share of requests that succeed (degraded ones included).
    Availability,
    /// Share of requests that fail.
    ErrorRate,
    P50,
    P90,
    P99,
    P999,
    /// Mean latency.
    Mean,
    Throughput,
    /// Share of requests that succeed only because an optional call's failure was tolerated.
    Degraded,
}

impl Metric {
    pub const ALL: [Metric; 9] = [
        Metric::Availability,
        Metric::ErrorRate,
        Metric::P50,
        Metric::P90,
        Metric::P99,
        Metric::P999,
        Metric::Mean,
        Metric::Throughput,
        Metric::Degraded,
    ];

    /// The name used in scenario files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Availability => "availability",
            Metric::ErrorRate => "error_rate",
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P99 => "p99",
            Metric::P999 => "p999",
            Metric::Mean => "mean",
            Metric::Throughput => "throughput",
            Metric::Degraded => "degraded",
        }
    }

    /// Latency metrics: bounds are durations, stored in nanoseconds.
    pub fn is_latency(self) -> bool {
        matches!(
            self,
            Metric::P50 | Metric::P90 | Metric::P99 | Metric::P999 | Metric::Mean
        )
    }

    /// Fraction metrics: bounds are in [0, 1].
    pub fn is_fraction(self) -> bool {
        matches!(
            self,
            Metric::Availability | Metric::ErrorRate | Metric::Degraded
        )
    }
}
