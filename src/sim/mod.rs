//! The request flow over a topology: arrivals, routing to replicas, workers and queues, calls
//! with timeouts and retries, caches, databases and externals.
//!
//! Architecture invariant: `sim` reads a validated `Topology` and run parameters and returns
//! numbers; it does no IO, never iterates a hash map, and draws randomness only from
//! `kernel::Stream`s keyed by stable component ids, so a run is a pure function of its inputs.

mod engine;
mod frames;
mod policy;
mod replicas;

use serde::Serialize;

use crate::metrics::EndpointMetrics;
use crate::model::{Limits, Scenario, Topology};

pub use engine::Simulation;

/// What a run needs besides the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunConfig {
    pub seed: u64,
    pub duration_ns: u64,
    /// Requests that arrive before this are simulated but not counted.
    pub warmup_ns: u64,
    pub limits: Limits,
}

impl RunConfig {
    pub fn of(scenario: &Scenario) -> RunConfig {
        RunConfig {
            seed: scenario.seed,
            duration_ns: scenario.duration_ns,
            warmup_ns: scenario.warmup_ns,
            limits: scenario.limits,
        }
    }
}

/// A bound of `Limits` that a run reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    Events,
    RequestsInFlight,
    CallsInFlight,
}

impl Bound {
    pub fn as_str(self) -> &'static str {
        match self {
            Bound::Events => "max_events",
            Bound::RequestsInFlight => "max_requests_in_flight",
            Bound::CallsInFlight => "max_calls_in_flight",
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunOutcome {
    /// Simulated the whole duration.
    Completed,
    /// Stopped early at `at_ns` because a bound was reached; the numbers cover the run so far.
    BoundReached { bound: Bound, at_ns: u64 },
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
}

/// Runs a topology without faults.
pub fn run(topology: &Topology, config: &RunConfig) -> RunResult {
    Simulation::new(topology, config).run()
}

#[cfg(test)]
mod tests;
