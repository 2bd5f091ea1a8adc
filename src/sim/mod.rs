//! The request flow over a topology: arrivals, routing to replicas, workers and queues, calls
//! with timeouts and retries, caches, databases and externals.
//!
//! Architecture invariant: `sim` reads a validated `Topology` and run parameters and returns
//! numbers; it does no IO, never iterates a hash map, and draws randomness only from
//! `kernel::Stream`s keyed by stable component ids, so a run is a pure function of its inputs.

mod arrivals;
mod autoscale;
mod bounds;
mod cache;
mod deadline;
mod effects;
mod engine;
mod flow;
mod frames;
mod health;
mod phases;
mod policy;
mod queue;
mod replicas;
mod resilience;
mod shedding;
pub mod trace;

use serde::Serialize;

use crate::faults::FaultPlan;
use crate::metrics::{EndpointMetrics, Outcome};
use crate::model::{Limits, NodeId, Scenario, Topology, ZoneId};

pub use autoscale::{NodeScaling, ReplicaCount, ScalingEvent};
pub use cache::{CacheCounts, CacheStats};
pub use engine::Simulation;
pub use health::EjectionStats;
pub use resilience::{EdgeCounts, EdgeResilience};

/// What a run needs besides the topology and the faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunConfig {
    pub seed: u64,
    pub duration_ns: u64,
    /// Requests that arrive before this are simulated but not counted.
    pub warmup_ns: u64,
    pub limits: Limits,
    /// Split the counted part of the run into before / during / after windows, by arrival.
    pub windows: Option<Windows>,
    /// Keep one `RequestRecord` per user request, for pairing control and experiment.
    pub record_requests: bool,
}

impl RunConfig {
    /// A run of `duration_ns` with the default limits, counting from `warmup_ns`: no windows,
    /// no per-request records (benches and tests of the simulator alone).
    pub fn plain(seed: u64, duration_ns: u64, warmup_ns: u64) -> RunConfig {
        RunConfig {
            seed,
            duration_ns,
            warmup_ns,
            limits: Limits::default(),
            windows: None,
            record_requests: false,
        }
    }

    /// A plain run of the scenario's system: no windows, no per-request records.
    pub fn of(scenario: &Scenario) -> RunConfig {
        RunConfig {
            seed: scenario.seed,
            duration_ns: scenario.duration_ns,
            warmup_ns: scenario.warmup_ns,
            limits: scenario.limits,
            windows: None,
            record_requests: false,
        }
    }
}

/// The boundaries of the windows. Invariant: `warmup <= during_start_ns <= after_start_ns`.
/// Before: [warm-up, during_start); during: [during_start, after_start); after: the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Windows {
    pub during_start_ns: u64,
    pub after_start_ns: u64,
}

/// How one user request ended, for pairing across runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordStatus {
    InFlight,
    /// Not sent: a traffic drop (`traffic-spike` with factor < 1) removed it.
    NotSent,
    Ended(Outcome),
}

/// One user request of a workload's base arrival process. Its index in
/// `RunResult::requests[workload]` is its identity: the control and the experiment see the same
/// base arrivals, so the same index is the same request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    pub arrived_ns: u64,
    pub latency_ns: u64,
    pub status: RecordStatus,
    /// The zone the request entered in.
    pub zone: ZoneId,
    /// For a failure, the node where it started (`None` for a client timeout with no
    /// failure below it, or when not failed).
    pub origin: Option<NodeId>,
    /// Arrived after the warm-up.
    pub counted: bool,
}

/// One user request's record, handed over as soon as it ended by a streaming run
/// (`Simulation::streaming`), with the key that pairs it across runs: its index among the
/// workload's base arrivals for an open loop, `(user << 32) | k` for a closed-loop user's k-th
/// request. Requests still in flight when the run ends are handed over then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndedRequest {
    pub workload: u32,
    pub key: u64,
    pub record: RequestRecord,
}

/// A bound of `Limits` that a run reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    Events,
    RequestsInFlight,
    CallsInFlight,
    Memory,
}

impl Bound {
    pub fn as_str(self) -> &'static str {
        match self {
            Bound::Events => "max_events",
            Bound::RequestsInFlight => "max_requests_in_flight",
            Bound::CallsInFlight => "max_calls_in_flight",
            Bound::Memory => "max_memory_mb",
        }
    }
}

/// What the simulation held when it stopped at a bound (see `bounds.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BoundState {
    /// User requests started and not yet ended.
    pub requests_in_flight: u64,
    /// Calls at nodes (queued, served or waiting on their own calls).
    pub calls_in_flight: u64,
    /// Of those, calls waiting in replicas' queues for a worker.
    pub queued_calls: u64,
    /// The longest queue of one replica.
    pub longest_queue: u64,
    /// Events scheduled and not yet processed (timers included).
    pub pending_events: u64,
    /// The estimate of the run's growing state that `max_memory_mb` bounds, in bytes.
    pub memory_bytes: u64,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunOutcome {
    /// Simulated the whole duration.
    Completed,
    /// Stopped early at `at_ns` because a bound was reached; the numbers cover the run so far.
    /// `state` is what the simulation held at that moment.
    BoundReached {
        bound: Bound,
        at_ns: u64,
        state: BoundState,
    },
}

/// Everything a run measured. Vectors are indexed by `WorkloadId` and `NodeId`.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub outcome: RunOutcome,
    /// Simulated time when the run stopped.
    pub end_ns: u64,
    pub events: u64,
    pub workloads: Vec<EndpointMetrics>,
    pub nodes: Vec<EndpointMetrics>,
    /// Per workload, one record per base arrival (empty unless `record_requests`).
    pub requests: Vec<Vec<RequestRecord>>,
    /// Per workload, for closed-loop users only (empty otherwise): the pairing key of each
    /// record of `requests`, (user, k) for user's k-th request, in the same order.
    pub request_keys: Vec<Vec<(u32, u32)>>,
    /// Requests added by traffic spikes, per workload (they have no pair in the control).
    pub extra_requests: Vec<u64>,
    /// Per autoscaled node, in model order, its resizes and replica counts (empty when no
    /// node autoscales).
    pub autoscaling: Vec<NodeScaling>,
    /// Per node, what its balancer's health checks and outlier detection did (all zero for
    /// nodes without `health_check` or `outlier`).
    pub ejections: Vec<EjectionStats>,
    /// Per call with a resilience mechanism, in node and call order: what it did.
    pub edges: Vec<EdgeResilience>,
    /// One per content cache, in node order (empty without them).
    pub caches: Vec<CacheStats>,
    /// One per queue node, in node order (empty for a model without queues).
    pub queues: Vec<QueueResult>,
    /// Per workload, what its closed-loop users did (`None` for an open loop).
    pub users: Vec<Option<UserStats>>,
}

/// What one queue (message broker) measured in a run.
#[derive(Clone, Debug)]
pub struct QueueResult {
    pub node: NodeId,
    pub metrics: crate::metrics::queue::QueueMetrics,
}

/// A closed-loop workload's users over a run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct UserStats {
    /// The model's users.
    pub users: u32,
    /// Users a traffic spike added for its duration.
    pub extra_users: u32,
    /// Time-average over the counted part of the run of the users waiting on an answer; the
    /// others are thinking.
    pub mean_waiting: f64,
    /// Requests the users sent (warm-up included).
    pub sent: u64,
}

/// Runs a topology without faults.
pub fn run(topology: &Topology, config: &RunConfig) -> RunResult {
    Simulation::new(topology, config, &FaultPlan::default()).run()
}

/// Runs a topology with a resolved fault plan.
pub fn run_with_faults(topology: &Topology, config: &RunConfig, plan: &FaultPlan) -> RunResult {
    Simulation::new(topology, config, plan).run()
}

/// Runs a topology with a fault plan, handing every event processed to `tracer`.
pub fn run_traced(
    topology: &Topology,
    config: &RunConfig,
    plan: &FaultPlan,
    tracer: &mut dyn trace::Tracer,
) -> RunResult {
    Simulation::new(topology, config, plan).run_traced(tracer)
}

#[cfg(test)]
mod tests;
