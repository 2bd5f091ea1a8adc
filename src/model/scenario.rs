//! A scenario: a model, a run length, a seed, and (later) faults and hypotheses.

use std::path::PathBuf;

use super::topology::Topology;

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
    pub seed: u64,
    pub limits: Limits,
}
