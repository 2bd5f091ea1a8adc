//! The fault schedule resolved against a topology: each `FaultSpec` becomes concrete effects on
//! named replicas, edges, zones and workloads, with every random choice (a `count`/`percent`
//! selection, a chaos monkey's crash times, a recovery's order) drawn once from the scenario's
//! seed.
//!
//! Architecture invariant: `faults` knows the model, not the simulator. It names replicas by
//! `(node, zone, ordinal)`, never by the simulator's storage, and does no IO.

use crate::kernel::{Dist, Purpose, Stream, stable_id};
use crate::model::{FaultKind, FaultSpec, FaultTarget, NodeId, Role, Selection, Topology};
use crate::model::{WorkloadId, ZoneId};

/// One replica, by model coordinates: the `ordinal`-th replica of `node` in `zone`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplicaRef {
    pub node: NodeId,
    pub zone: ZoneId,
    pub ordinal: u32,
}

/// Which calls an effect on calls applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every call to the node.
    Node(NodeId),
    /// Calls from one node to another (a cache's backing included).
    Edge { from: NodeId, to: NodeId },
}

impl Scope {
    /// Whether a call from `caller` (`None` for a user's client) to `callee` is in scope.
    pub fn covers(self, caller: Option<NodeId>, callee: NodeId) -> bool {
        match self {
            Scope::Node(node) => node == callee,
            Scope::Edge { from, to } => caller == Some(from) && to == callee,
        }
    }
}

/// What an effect does while it is active.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The replicas stop: queued and running work is lost, callers wait for their timeouts.
    /// When the effect ends they come back, caches cold.
    Down(Vec<ReplicaRef>),
    /// Own service time multiplied.
    Slowdown {
        replicas: Vec<ReplicaRef>,
        factor: f64,
    },
    /// Workers per replica set to this many.
    Capacity {
        replicas: Vec<ReplicaRef>,
        workers: u32,
    },
    /// Cache hit ratio forced.
    HitRatio {
        replicas: Vec<ReplicaRef>,
        value: f64,
    },
    /// Instantaneous at the start: caches lose their content and refill with this time constant.
    Flush {
        replicas: Vec<ReplicaRef>,
        refill_ns: u64,
    },
    /// Added delay on the answers of a share of calls.
    Latency {
        scope: Scope,
        added: Dist,
        share: f64,
    },
    /// A share of calls fail fast.
    Errors { scope: Scope, share: f64 },
    /// A share of calls are swallowed.
    Blackhole { scope: Scope, share: f64 },
    /// Calls between different zones of the set blackhole; a single zone is cut from all others.
    ZoneCut(Vec<ZoneId>),
    /// The workload's rate multiplied.
    Spike { workload: WorkloadId, factor: f64 },
    /// Zonal shift: the replicas of `nodes` in `zone` take no new calls, and user traffic
    /// entering `zone` at one of `nodes` enters the node's other zones.
    Shift { zone: ZoneId, nodes: Vec<NodeId> },
}

/// One timed effect. Invariant: `start_ns <= end_ns`; `end_ns == u64::MAX` when open-ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    /// Index of the `FaultSpec` this effect comes from.
    pub fault: usize,
    /// A stable id for the effect's own random stream.
    pub stream_id: u64,
    pub start_ns: u64,
    pub end_ns: u64,
    pub action: Action,
}

/// Every effect of a scenario's faults, in fault order then time order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultPlan {
    pub effects: Vec<Effect>,
}

impl FaultPlan {
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }
}

/// Cold caches come back with this refill time constant after a crash or an outage.
pub const RESTART_REFILL_NS: u64 = 60_000_000_000;

/// Resolves the faults of a scenario. `duration_ns` bounds open-ended processes (chaos monkey).
pub fn plan(topology: &Topology, faults: &[FaultSpec], seed: u64, duration_ns: u64) -> FaultPlan {
    let mut effects = Vec::new();
    for (index, fault) in faults.iter().enumerate() {
        let mut resolver = Resolver {
            topology,
            fault,
            index,
            stream: Stream::new(seed, fault_stream_id(index, fault, 0), Purpose::Fault),
            effects: &mut effects,
        };
        resolver.resolve(duration_ns);
    }
    FaultPlan { effects }
}

fn fault_stream_id(index: usize, fault: &FaultSpec, part: u64) -> u64 {
    stable_id("fault", &format!("{index}:{}:{part}", fault.kind.as_str()))
}

struct Resolver<'a> {
    topology: &'a Topology,
    fault: &'a FaultSpec,
    index: usize,
    /// The fault's own stream, for selections and schedules.
    stream: Stream,
    effects: &'a mut Vec<Effect>,
}

impl Resolver<'_> {
    fn push(&mut self, start_ns: u64, end_ns: u64, action: Action) {
        let part = self.effects.len() as u64;
        self.effects.push(Effect {
            fault: self.index,
            stream_id: fault_stream_id(self.index, self.fault, part + 1),
            start_ns,
            end_ns,
            action,
        });
    }

    fn resolve(&mut self, duration_ns: u64) {
        let (start, end) = (self.fault.start_ns, self.fault.end_ns());
        match &self.fault.kind {
            FaultKind::ZoneOutage { recovery_ns } => self.zone_outage(*recovery_ns),
            FaultKind::ZonePartition => {
                if let FaultTarget::ZoneCut(zones) = &self.fault.target {
                    self.push(start, end, Action::ZoneCut(zones.clone()));
                }
            }
            FaultKind::Partition => {
                let scope = self.scope();
                self.push(start, end, Action::Blackhole { scope, share: 1.0 });
            }
            FaultKind::Crash { restart_after_ns } => {
                let replicas = self.selected_replicas();
                let end = restart_after_ns.map_or(end, |r| start.saturating_add(r));
                self.push(start, end, Action::Down(replicas));
            }
            FaultKind::ChaosMonkey {
                mean_interval_ns,
                restart_after_ns,
            } => self.chaos_monkey(*mean_interval_ns, *restart_after_ns, end.min(duration_ns)),
            FaultKind::Latency { added, share } => {
                let (scope, added, share) = (self.scope(), added.clone(), *share);
                self.push(
                    start,
                    end,
                    Action::Latency {
                        scope,
                        added,
                        share,
                    },
                );
            }
            FaultKind::Errors { share } => {
                let (scope, share) = (self.scope(), *share);
                self.push(start, end, Action::Errors { scope, share });
            }
            FaultKind::Blackhole { share } => {
                let (scope, share) = (self.scope(), *share);
                self.push(start, end, Action::Blackhole { scope, share });
            }
            FaultKind::Slowdown { factor } => {
                let (replicas, factor) = (self.selected_replicas(), *factor);
                self.push(start, end, Action::Slowdown { replicas, factor });
            }
            FaultKind::Capacity { workers } => {
                let (replicas, workers) = (self.selected_replicas(), *workers);
                self.push(start, end, Action::Capacity { replicas, workers });
            }
            FaultKind::CacheFlush { refill_ns } => {
                let (replicas, refill_ns) = (self.selected_replicas(), *refill_ns);
                self.push(
                    start,
                    start,
                    Action::Flush {
                        replicas,
                        refill_ns,
                    },
                );
            }
            FaultKind::HitRatio { value } => {
                let (replicas, value) = (self.selected_replicas(), *value);
                self.push(start, end, Action::HitRatio { replicas, value });
            }
            FaultKind::ZonalShift { nodes } => {
                if let FaultTarget::Zone(zone) = self.fault.target {
                    let nodes = shifted_nodes(self.topology, zone, nodes);
                    self.push(start, end, Action::Shift { zone, nodes });
                }
            }
            FaultKind::TrafficSpike { factor } => {
                if let FaultTarget::Workload(workload) = self.fault.target {
                    let factor = *factor;
                    self.push(start, end, Action::Spike { workload, factor });
                }
            }
        }
    }

    /// Every replica in the zone stops. With a recovery period they return one at a time, in
    /// a seeded order, evenly spread over it; without, all at the end of the outage.
    fn zone_outage(&mut self, recovery_ns: Option<u64>) {
        let FaultTarget::Zone(zone) = self.fault.target else {
            return;
        };
        let (start, end) = (self.fault.start_ns, self.fault.end_ns());
        let mut replicas = self.replicas_of_zone(zone);
        match recovery_ns {
            Some(recovery) if !replicas.is_empty() && end != u64::MAX => {
                shuffle(&mut replicas, &mut self.stream);
                let count = replicas.len() as u64;
                for (i, replica) in replicas.into_iter().enumerate() {
                    let back = end.saturating_add(recovery * (i as u64 + 1) / count);
                    self.push(start, back, Action::Down(vec![replica]));
                }
            }
            _ => self.push(start, end, Action::Down(replicas)),
        }
    }

    /// A Poisson process of crashes over the target set, one uniformly chosen replica each.
    fn chaos_monkey(&mut self, mean_interval_ns: u64, restart_after_ns: u64, until_ns: u64) {
        let mut candidates = self.target_replicas();
        candidates.retain(|r| self.is_starting(*r));
        if candidates.is_empty() {
            return;
        }
        let mut time = self.fault.start_ns as f64;
        loop {
            time += -(mean_interval_ns as f64) * libm::log(self.stream.unit_open0());
            let crash_ns = libm::round(time) as u64;
            if crash_ns >= until_ns {
                break;
            }
            let victim = candidates[self.stream.below(candidates.len() as u64) as usize];
            let back = crash_ns.saturating_add(restart_after_ns);
            self.push(crash_ns, back, Action::Down(vec![victim]));
        }
    }

    /// Whether a replica is one the model starts with (not a place autoscaling may fill).
    fn is_starting(&self, replica: ReplicaRef) -> bool {
        replica.ordinal < self.topology.node(replica.node).replicas_per_zone
    }

    fn scope(&self) -> Scope {
        match self.fault.target {
            FaultTarget::Edge { from, to } => Scope::Edge { from, to },
            FaultTarget::Node(node) | FaultTarget::NodeInZone(node, _) => Scope::Node(node),
            ref other => unreachable!("the loader only allows nodes and edges here, not {other:?}"),
        }
    }

    /// The target's replicas, narrowed by the selection (per node for a zone target).
    fn selected_replicas(&mut self) -> Vec<ReplicaRef> {
        let groups = self.target_groups();
        let selection = self.fault.selection;
        let mut chosen = Vec::new();
        for mut group in groups {
            if selection != Selection::All {
                // A count or a share picks among the replicas the model starts with: places an
                // autoscaled node may fill later are not there to crash when the plan is drawn.
                group.retain(|r| self.is_starting(*r));
            }
            let keep = match selection {
                Selection::All => group.len(),
                Selection::Count(n) => (n as usize).min(group.len()),
                Selection::Percent(p) => {
                    (libm::ceil(p / 100.0 * group.len() as f64) as usize).min(group.len())
                }
            };
            if keep < group.len() {
                shuffle(&mut group, &mut self.stream);
                group.truncate(keep);
                group.sort();
            }
            chosen.extend(group);
        }
        chosen
    }

    fn target_replicas(&self) -> Vec<ReplicaRef> {
        self.target_groups().into_iter().flatten().collect()
    }

    /// The target's replicas, one group per node.
    fn target_groups(&self) -> Vec<Vec<ReplicaRef>> {
        let topology = self.topology;
        match &self.fault.target {
            FaultTarget::Node(node) => vec![replicas_of(topology, *node, None)],
            FaultTarget::NodeInZone(node, zone) => vec![replicas_of(topology, *node, Some(*zone))],
            FaultTarget::Nodes(nodes) => nodes
                .iter()
                .map(|&node| replicas_of(topology, node, None))
                .collect(),
            FaultTarget::Zone(zone) => (0..topology.nodes.len())
                .map(|n| replicas_of(topology, NodeId(n as u32), Some(*zone)))
                .filter(|group| !group.is_empty())
                .collect(),
            FaultTarget::Edge { .. } | FaultTarget::ZoneCut(_) | FaultTarget::Workload(_) => {
                Vec::new()
            }
        }
    }

    fn replicas_of_zone(&self, zone: ZoneId) -> Vec<ReplicaRef> {
        (0..self.topology.nodes.len())
            .flat_map(|n| replicas_of(self.topology, NodeId(n as u32), Some(zone)))
            .collect()
    }
}

/// The replicas of a node, optionally only those in one zone. Externals have none. An
/// autoscaled node has `max` per zone: those autoscaling starts later stop with their zone.
pub fn replicas_of(topology: &Topology, node: NodeId, zone: Option<ZoneId>) -> Vec<ReplicaRef> {
    let spec = topology.node(node);
    if matches!(spec.role, Role::External { .. }) {
        return Vec::new();
    }
    spec.zones
        .iter()
        .filter(|&&z| zone.is_none_or(|only| only == z))
        .flat_map(|&z| {
            (0..spec.slots_per_zone()).map(move |ordinal| ReplicaRef {
                node,
                zone: z,
                ordinal,
            })
        })
        .collect()
}

/// The nodes a zonal shift moves: those listed, or every service and cache placed in `zone`.
fn shifted_nodes(topology: &Topology, zone: ZoneId, listed: &[NodeId]) -> Vec<NodeId> {
    if !listed.is_empty() {
        return listed.to_vec();
    }
    (0..topology.nodes.len())
        .map(|n| NodeId(n as u32))
        .filter(|&id| {
            let node = topology.node(id);
            matches!(node.role, Role::Service | Role::Cache { .. }) && node.zones.contains(&zone)
        })
        .collect()
}

/// Fisher–Yates with the fault's stream.
fn shuffle<T>(items: &mut [T], stream: &mut Stream) {
    for i in (1..items.len()).rev() {
        let j = stream.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

impl Action {
    /// The replicas an action on replica state names (none for actions on calls, zones and
    /// traffic).
    pub fn replicas(&self) -> &[ReplicaRef] {
        match self {
            Action::Down(replicas)
            | Action::Slowdown { replicas, .. }
            | Action::Capacity { replicas, .. }
            | Action::HitRatio { replicas, .. }
            | Action::Flush { replicas, .. } => replicas,
            Action::Latency { .. }
            | Action::Errors { .. }
            | Action::Blackhole { .. }
            | Action::ZoneCut(_)
            | Action::Spike { .. }
            | Action::Shift { .. } => &[],
        }
    }
}

impl FaultPlan {
    /// The zones of the replicas one fault's effects act on, sorted, each once: where a
    /// `count`/`percent` selection or a chaos monkey struck, as the plan drew it.
    pub fn zones_struck(&self, fault: usize) -> Vec<ZoneId> {
        let mut zones: Vec<ZoneId> = self
            .effects
            .iter()
            .filter(|e| e.fault == fault)
            .flat_map(|e| e.action.replicas().iter().map(|r| r.zone))
            .collect();
        zones.sort();
        zones.dedup();
        zones
    }

    /// When the last fault stops acting: the latest effect end, a cache flush counting at its
    /// instant (its refill is the system recovering, which is what recovery measures).
    pub fn faults_end(&self) -> Option<u64> {
        self.effects
            .iter()
            .map(|e| match e.action {
                Action::Flush { .. } => e.start_ns,
                _ => e.end_ns,
            })
            .max()
    }

    /// The effects of one fault: how many, from when to when (`None` if it has none).
    pub fn span_of(&self, fault: usize) -> Option<(usize, u64, u64)> {
        let effects: Vec<&Effect> = self.effects.iter().filter(|e| e.fault == fault).collect();
        let start = effects.iter().map(|e| e.start_ns).min()?;
        let end = effects.iter().map(|e| e.end_ns).max()?;
        Some((effects.len(), start, end))
    }

    /// When the faults disturb the system: from the first effect's start to the last effect's
    /// end. A cache flush is instantaneous but disturbs until the cache has refilled to 95%
    /// (three time constants). `None` without effects.
    pub fn active_span(&self) -> Option<(u64, u64)> {
        let start = self.effects.iter().map(|e| e.start_ns).min()?;
        let end = self
            .effects
            .iter()
            .map(|e| match e.action {
                Action::Flush { refill_ns, .. } => {
                    e.start_ns.saturating_add(refill_ns.saturating_mul(3))
                }
                _ => e.end_ns,
            })
            .max()?;
        Some((start, end))
    }
}
