//! A scenario: a model, a run length, a seed, a fault schedule and steady-state hypotheses.

use std::path::PathBuf;

use super::fault::FaultSpec;
use super::topology::{NodeId, Topology, WorkloadId};

/// Bounds that end a run early with a reported outcome instead of a hang or an OOM kill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Events processed in one run.
    pub max_events: u64,
    /// User requests in flight at once.
    pub max_requests_in_flight: u32,
    /// Calls (work items at nodes) in flight at once, across the whole system.
    pub max_calls_in_flight: u32,
    /// Memory held by the run's growing state (frames, pending events, request records), in
    /// MiB, as estimated from their sizes; checked every 1,024 events.
    pub max_memory_mb: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 2_000_000_000,
            max_requests_in_flight: 1_000_000,
            max_calls_in_flight: 4_000_000,
            max_memory_mb: 4_096,
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
    /// The fault schedule, in file order (the experiment run applies it; the control does not).
    pub faults: Vec<FaultSpec>,
    /// `[blast_radius] slow = "..."`: a user request slower than this counts as hurt. `None`:
    /// per workload, the control's p99 over the measured run.
    pub slow_threshold_ns: Option<u64>,
}

/// A steady-state hypothesis: a workload's metric stays within bounds, absolute or relative to
/// the control. Invariant: at least one of `min`, `max`, `max_increase`, `max_decrease`;
/// `min <= max` when both are set; `windows` is non-empty, without repeats, in time order.
/// With `queue`, the metric is a queue metric (`Metric::is_queue`) and `workload` is unused.
#[derive(Clone, Debug, PartialEq)]
pub struct Hypothesis {
    pub workload: WorkloadId,
    /// `queue = "NAME"` instead of `workload`: a queue node whose metric is bounded.
    pub queue: Option<NodeId>,
    pub metric: Metric,
    /// Lower bound, in the metric's unit (see `Metric`).
    pub min: Option<f64>,
    /// Upper bound, in the metric's unit.
    pub max: Option<f64>,
    /// Largest allowed change of the experiment above the control (`max_increase`).
    pub max_increase: Option<Change>,
    /// Largest allowed change of the experiment below the control (`max_decrease`).
    pub max_decrease: Option<Change>,
    /// The windows the hypothesis is checked in (`window = "during"` or a list); default
    /// during and after. Ignored for `recovery_time`, which is one number per run.
    pub windows: Vec<Window>,
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
    /// Time from the end of the last fault until the experiment is back within the control's
    /// band (nanoseconds); "not recovered" fails any `max`.
    RecoveryTime,
    /// A queue's lag: the most messages stored and not yet acknowledged in the window.
    Lag,
    /// A queue's oldest unacknowledged message's greatest age in the window (nanoseconds).
    MessageAge,
    /// A queue's end-to-end delay, publish to acknowledgement, p99 (nanoseconds).
    DeliveryP99,
    /// A queue's dead-lettered messages (of those published in the window).
    DeadLetters,
}

/// A change relative to the control: `"+20%"` is `Relative(0.2)`, `"50ms"` or `0.01` is
/// `Absolute` in the metric's unit (nanoseconds for latencies).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    Relative(f64),
    Absolute(f64),
}

/// Windows of a run, split at the faults (warm-up excluded): before the first fault starts,
/// while any is active (from the first start to the last end), after the last ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    Before,
    During,
    After,
}

impl Window {
    pub const ALL: [Window; 3] = [Window::Before, Window::During, Window::After];

    pub fn as_str(self) -> &'static str {
        match self {
            Window::Before => "before",
            Window::During => "during",
            Window::After => "after",
        }
    }
}

impl Metric {
    pub const ALL: [Metric; 10] = [
        Metric::Availability,
        Metric::ErrorRate,
        Metric::P50,
        Metric::P90,
        Metric::P99,
        Metric::P999,
        Metric::Mean,
        Metric::Throughput,
        Metric::Degraded,
        Metric::RecoveryTime,
    ];

    /// The metrics of a `queue` hypothesis.
    pub const QUEUE: [Metric; 4] = [
        Metric::Lag,
        Metric::MessageAge,
        Metric::DeliveryP99,
        Metric::DeadLetters,
    ];

    /// Whether the metric belongs to a queue rather than a workload.
    pub fn is_queue(self) -> bool {
        Metric::QUEUE.contains(&self)
    }

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
            Metric::RecoveryTime => "recovery_time",
            Metric::Lag => "lag",
            Metric::MessageAge => "message_age",
            Metric::DeliveryP99 => "delivery_p99",
            Metric::DeadLetters => "dead_letters",
        }
    }

    /// Latency metrics: bounds are durations, stored in nanoseconds.
    pub fn is_latency(self) -> bool {
        matches!(
            self,
            Metric::P50
                | Metric::P90
                | Metric::P99
                | Metric::P999
                | Metric::Mean
                | Metric::RecoveryTime
                | Metric::MessageAge
                | Metric::DeliveryP99
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
