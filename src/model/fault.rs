//! Fault specifications as a scenario states them, names resolved to ids.
//!
//! These are validated but not yet *resolved*: a `count`/`percent` selection, a chaos monkey's
//! crash times and a recovery phase become concrete effects on replicas in `faults::plan`,
//! from the scenario's seed.

use crate::kernel::Dist;

use super::topology::{NodeId, WorkloadId, ZoneId};

/// One `[[fault]]` entry. Invariant: `target` is one the `kind` accepts
/// (`kind.spec().target.accepts(&target)`).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    pub kind: FaultKind,
    pub target: FaultTarget,
    /// Which of the target's replicas, for kinds that act on replicas (crash, slowdown,
    /// capacity, cache-flush, hit-ratio). `All` elsewhere, chaos-monkey included (it picks one
    /// random replica per crash).
    pub selection: Selection,
    pub start_ns: u64,
    /// `None`: until the end of the run. `Some(0)` for a cache flush, which is instantaneous.
    pub duration_ns: Option<u64>,
    /// The 1-based line of the `[[fault]]` header, for reports.
    pub line: usize,
}

impl FaultSpec {
    /// When the fault stops acting (`u64::MAX` when open-ended).
    pub fn end_ns(&self) -> u64 {
        self.duration_ns
            .map_or(u64::MAX, |d| self.start_ns.saturating_add(d))
    }
}

/// What a fault is aimed at.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultTarget {
    /// `node = "api"`: every replica of the node (or, for an external, the node).
    Node(NodeId),
    /// `node = "api"` with `zone = "az-a"`: the node's replicas in that zone.
    NodeInZone(NodeId, ZoneId),
    /// `edge = "api->sessions"`: calls from one node to another.
    Edge { from: NodeId, to: NodeId },
    /// `zone = "az-a"`: everything in the zone.
    Zone(ZoneId),
    /// `zones = ["az-a", "az-b"]` for a zone partition: each listed zone is cut from every
    /// other listed zone. With a single `zone`, that zone is cut from all the others.
    ZoneCut(Vec<ZoneId>),
    /// `nodes = ["api", "sessions"]`: a chaos monkey's target set.
    Nodes(Vec<NodeId>),
    /// `workload = "checkout"`.
    Workload(WorkloadId),
}

/// Which replicas of the target a fault takes, chosen once from the scenario's seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Selection {
    All,
    /// `count = N`: N replicas (all of them if there are fewer).
    Count(u32),
    /// `percent = P`: ceil(P% of the replicas), P in (0, 100].
    Percent(f64),
}

/// The kinds of fault, by family, with their parameters. Targets each accepts are listed; the
/// loader rejects others. Each has a spec in `fault_kinds` (`FaultKind::spec`).
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    // ---- isolation boundaries ----
    /// Power interruption: every replica in the zone stops (target `Zone`). With `recovery`,
    /// replicas come back one by one over that period, cold (caches empty).
    ZoneOutage { recovery_ns: Option<u64> },
    /// Calls crossing between cut zones blackhole (target `ZoneCut`).
    ZonePartition,
    /// Calls along one edge blackhole (target `Edge`).
    Partition,
    /// Replicas stop; with `restart_after`, each comes back (cold) after that long (the file
    /// may say `duration` instead, the same thing; not both).
    /// Targets `Node`, `NodeInZone`, `Zone`; selection applies.
    Crash { restart_after_ns: Option<u64> },
    /// Random crashes, a Poisson process with `mean_interval` between crashes, each of one
    /// random replica of the target set, restarting after `restart_after` (required).
    /// Targets `Node`, `NodeInZone`, `Nodes`, `Zone`.
    ChaosMonkey {
        mean_interval_ns: u64,
        restart_after_ns: u64,
    },
    // ---- dependencies ----
    /// An added delay on the answers of a share of calls. Targets `Node`, `Edge`.
    Latency { added: Dist, share: f64 },
    /// A share of calls fail fast with an injected error. Targets `Node`, `Edge`.
    Errors { share: f64 },
    /// A share of calls never get an answer: the caller's timeout decides. Targets `Node`, `Edge`.
    Blackhole { share: f64 },
    /// Own service time multiplied by `factor` (> 0). Targets `Node`, `NodeInZone`; selection.
    Slowdown { factor: f64 },
    /// Workers per replica reduced to `workers` (>= 0). Targets `Node`, `NodeInZone`; selection.
    Capacity { workers: u32 },
    // ---- bimodal behaviour ----
    /// The cache loses its content at `start`: its hit ratio falls to 0 and recovers with time
    /// constant `refill`. Target a cache `Node` or `NodeInZone`. Instantaneous: the file has no
    /// `duration`, and `duration_ns` is `Some(0)`.
    CacheFlush { refill_ns: u64 },
    /// The hit ratio is forced to `value` for the duration. Target a cache `Node`/`NodeInZone`.
    HitRatio { value: f64 },
    // ---- load ----
    /// The workload's rate is multiplied by `factor` (> 1 adds requests). Target `Workload`.
    TrafficSpike { factor: f64 },
    // ---- traffic management ----
    /// AWS ARC zonal shift: balancers stop sending new calls to the replicas of `nodes` (every
    /// service and cache placed there when empty) in the zone, which stay up and finish their
    /// work, and user traffic entering the zone enters the target's other zones. Target `Zone`.
    ZonalShift { nodes: Vec<NodeId> },
}
