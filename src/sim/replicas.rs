//! Replicas and routing: which replica of a node takes a call.
//!
//! Balancing policy: round-robin among the healthy replicas in the caller's zone, then
//! round-robin among all healthy replicas when the zone has none. Round-robin is what most
//! load balancers do by default (Envoy, NGINX, ALB), draws no randomness (so it cannot shift
//! other streams between control and experiment), and spreads load evenly when replicas are
//! alike. A database is always served in its primary zone; after `failover` without a healthy
//! replica there, the primary moves to the next of its zones that has one.

use std::collections::VecDeque;
use std::ops::Range;

use super::frames::FrameRef;
use crate::faults::ReplicaRef;
use crate::model::{NodeId, Role, Topology, ZoneId};

#[derive(Clone, Debug)]
pub struct Replica {
    pub zone: ZoneId,
    /// Workers busy. May exceed `workers` for a while after a capacity fault lowers it: running
    /// work finishes, new work waits.
    pub busy: u32,
    /// Workers available now: the node's, or fewer under a capacity fault.
    pub workers: u32,
    /// Frames waiting for a worker, oldest first.
    pub waiting: VecDeque<FrameRef>,
    /// Healthy: no active fault has stopped it (`down == 0`).
    pub up: bool,
    /// Listed by the balancer: routing picks only these. Follows `up` at once unless the
    /// node has health checks or outlier detection (`health.rs`).
    pub in_balancer: bool,
    /// How many active faults hold it down.
    pub down: u16,
    /// Own service time multiplier (slowdown faults).
    pub slowdown: f64,
    /// A cache's forced hit ratio (hit-ratio faults).
    pub hit_override: Option<f64>,
    /// A cache that lost its content: since when, and its refill time constant.
    pub cold: Option<Cold>,
    /// In the balancer or not (autoscaling; always `Serving` for a node that does not scale).
    pub slot: Slot,
    /// Active zonal shifts covering the replica: while above zero it takes no new calls.
    pub shifted: u16,
    /// Integrals since `since_ns` was last reset by the autoscaler, while up and serving:
    /// busy workers × ns and workers × ns. Kept by `touch` before every change of state, and
    /// only for the replicas of an autoscaled node (`metered`): the autoscaler is their only
    /// reader, and two 128-bit products on every start and end of work are a cost.
    pub busy_worker_ns: u128,
    pub capacity_worker_ns: u128,
    pub since_ns: u64,
    /// Whether the node autoscales: only then does `touch` keep the integrals above.
    pub metered: bool,
}

/// A replica place's part in autoscaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// In the balancer.
    Serving,
    /// Started by a scale-out; serves after the warm-up (`epoch` tells its timer apart).
    Warming { epoch: u32 },
    /// Not in the balancer: never started, or scaled in (it finishes the work it holds).
    Idle,
}

impl Replica {
    /// Whether the balancer sends it new calls: listed by the balancer (which follows `up` at
    /// once without health checks, and lags it with them — `health.rs`), serving (not idle or
    /// warming — `autoscale.rs`), and not in a zone shifted away.
    pub fn takes_calls(&self) -> bool {
        self.in_balancer && self.slot == Slot::Serving && self.shifted == 0
    }

    /// Brings the utilisation integrals up to `now_ns`; call before changing `busy`, `up`,
    /// `workers` or `slot`. Nothing to do for a replica that is not `metered`.
    pub fn touch(&mut self, now_ns: u64) {
        if !self.metered {
            return;
        }
        let elapsed = u128::from(now_ns.saturating_sub(self.since_ns));
        if self.up && self.slot == Slot::Serving {
            self.busy_worker_ns += u128::from(self.busy) * elapsed;
            self.capacity_worker_ns += u128::from(self.workers) * elapsed;
        }
        self.since_ns = now_ns;
    }

    /// One more worker busy.
    #[inline]
    pub fn add_busy(&mut self, now_ns: u64) {
        self.touch(now_ns);
        self.busy += 1;
    }

    /// One worker fewer busy.
    #[inline]
    pub fn sub_busy(&mut self, now_ns: u64) {
        self.touch(now_ns);
        self.busy -= 1;
    }
}

/// A cache refilling after a flush or a restart: its hit ratio is the configured one times
/// `1 - exp(-(now - since) / refill)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cold {
    pub since_ns: u64,
    pub refill_ns: u64,
}

/// All replicas of all nodes, laid out node by node and, within a node, zone by zone in the
/// order of the node's `zones`, so the replicas of a node in a zone are one contiguous range.
#[derive(Clone)]
pub struct Replicas {
    pub replicas: Vec<Replica>,
    /// Per node, its replicas' range.
    ranges: Vec<Range<u32>>,
    /// Per replica, its node.
    nodes: Vec<NodeId>,
    /// Per node and zone of the topology, the replicas there (empty if none).
    zone_ranges: Vec<Range<u32>>,
    /// Per node, the round-robin cursor over all its replicas.
    cursor_any: Vec<u32>,
    /// Per node and zone of the topology, the round-robin cursor within the zone.
    cursor_zone: Vec<u32>,
    zone_count: usize,
    /// Per node, the zone serving it when it is a database (moves on failover).
    pub primary: Vec<Option<ZoneId>>,
}

impl Replicas {
    pub fn new(topology: &Topology) -> Replicas {
        let zone_count = topology.zones.len();
        let mut replicas = Vec::new();
        let mut ranges = Vec::with_capacity(topology.nodes.len());
        let mut zone_ranges = vec![0..0; topology.nodes.len() * zone_count];
        let mut nodes = Vec::new();
        for (n, node) in topology.nodes.iter().enumerate() {
            let start = replicas.len() as u32;
            for &zone in &node.zones {
                let zone_start = replicas.len() as u32;
                for ordinal in 0..node.slots_per_zone() {
                    let slot = if ordinal < node.replicas_per_zone {
                        Slot::Serving
                    } else {
                        Slot::Idle
                    };
                    replicas.push(Replica {
                        zone,
                        busy: 0,
                        workers: node.workers,
                        waiting: VecDeque::new(),
                        up: true,
                        in_balancer: true,
                        down: 0,
                        slowdown: 1.0,
                        hit_override: None,
                        cold: None,
                        slot,
                        shifted: 0,
                        busy_worker_ns: 0,
                        capacity_worker_ns: 0,
                        since_ns: 0,
                        metered: node.autoscale.is_some(),
                    });
                }
                zone_ranges[n * zone_count + zone.index()] = zone_start..replicas.len() as u32;
            }
            ranges.push(start..replicas.len() as u32);
            let count = node.zones.len() * node.slots_per_zone() as usize;
            nodes.extend(std::iter::repeat_n(NodeId(n as u32), count));
        }
        let primary = topology
            .nodes
            .iter()
            .map(|node| match node.role {
                Role::Database { primary, .. } => Some(primary),
                _ => None,
            })
            .collect();
        Replicas {
            replicas,
            primary,
            cursor_any: vec![0; ranges.len()],
            cursor_zone: vec![0; ranges.len() * zone_count],
            ranges,
            nodes,
            zone_ranges,
            zone_count,
        }
    }

    #[inline]
    pub fn get(&self, index: u32) -> &Replica {
        &self.replicas[index as usize]
    }

    #[inline]
    pub fn get_mut(&mut self, index: u32) -> &mut Replica {
        &mut self.replicas[index as usize]
    }

    /// The storage index of a replica named by model coordinates.
    pub fn index_of(&self, replica: ReplicaRef) -> u32 {
        let range =
            &self.zone_ranges[replica.node.index() * self.zone_count + replica.zone.index()];
        assert!(
            replica.ordinal < range.end - range.start,
            "replica {replica:?} exists"
        );
        range.start + replica.ordinal
    }

    /// Whether some replica of `node` in `zone` is up.
    pub fn healthy_in(&self, node: NodeId, zone: ZoneId) -> bool {
        let range = self.zone_ranges[node.index() * self.zone_count + zone.index()].clone();
        range.into_iter().any(|r| self.replicas[r as usize].up)
    }

    /// The storage indices of a node's replica places in a zone (empty if none).
    pub fn in_zone(&self, node: NodeId, zone: ZoneId) -> Range<u32> {
        self.zone_ranges[node.index() * self.zone_count + zone.index()].clone()
    }

    /// The node a replica belongs to.
    #[inline]
    pub fn node_of(&self, index: u32) -> NodeId {
        self.nodes[index as usize]
    }

    /// The storage indices of every replica of a node.
    pub fn of_node(&self, node: NodeId) -> Range<u32> {
        self.ranges[node.index()].clone()
    }

    /// Picks a replica of `node` in the balancer for a caller in `from`; `None` when none is healthy.
    #[inline]
    pub fn route(&mut self, node: NodeId, from: ZoneId) -> Option<u32> {
        if let Some(primary) = self.primary[node.index()] {
            return self.pick_in_zone(node, primary);
        }
        let preferred = from;
        if preferred.index() < self.zone_count
            && let Some(replica) = self.pick_in_zone(node, preferred)
        {
            return Some(replica);
        }
        self.pick_any(node)
    }

    fn pick_in_zone(&mut self, node: NodeId, zone: ZoneId) -> Option<u32> {
        let slot = node.index() * self.zone_count + zone.index();
        let range = self.zone_ranges[slot].clone();
        pick_round_robin(range, &mut self.cursor_zone[slot], &self.replicas)
    }

    fn pick_any(&mut self, node: NodeId) -> Option<u32> {
        let range = self.ranges[node.index()].clone();
        pick_round_robin(range, &mut self.cursor_any[node.index()], &self.replicas)
    }
}

/// Invariant: `*cursor < n` (or 0 when there are no candidates). Wraps by comparison, not
/// `%`: an integer division per call is a measurable share of a small model's run.
fn pick_round_robin(candidates: Range<u32>, cursor: &mut u32, replicas: &[Replica]) -> Option<u32> {
    let n = candidates.end - candidates.start;
    let mut position = *cursor;
    for _ in 0..n {
        if position >= n {
            position -= n;
        }
        let replica = candidates.start + position;
        position += 1;
        if replicas[replica as usize].takes_calls() {
            *cursor = if position == n { 0 } else { position };
            return Some(replica);
        }
    }
    None
}
