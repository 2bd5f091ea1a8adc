//! Replicas and routing: which replica of a node takes a call.
//!
//! Balancing policy: round-robin among the healthy replicas in the caller's zone, then
//! round-robin among all healthy replicas when the zone has none. Round-robin is what most
//! load balancers do by default (Envoy, NGINX, ALB), draws no randomness (so it cannot shift
//! other streams between control and experiment), and spreads load evenly when replicas are
//! alike. A database is always served in its primary zone.

use std::collections::VecDeque;
use std::ops::Range;

use super::frames::FrameRef;
use crate::model::{NodeId, Role, Topology, ZoneId};

#[derive(Clone, Debug)]
pub struct Replica {
    pub zone: ZoneId,
    /// Workers busy. Invariant: `busy <= workers` of the node.
    pub busy: u32,
    /// Frames waiting for a worker, oldest first.
    pub waiting: VecDeque<FrameRef>,
    pub up: bool,
}

/// All replicas of all nodes, laid out node by node and, within a node, zone by zone in the
/// order of the node's `zones`, so the replicas of a node in a zone are one contiguous range.
pub struct Replicas {
    pub replicas: Vec<Replica>,
    /// Per node, its replicas' range.
    ranges: Vec<Range<u32>>,
    /// Per node and zone of the topology, the replicas there (empty if none).
    zone_ranges: Vec<Range<u32>>,
    /// Per node, the round-robin cursor over all its replicas.
    cursor_any: Vec<u32>,
    /// Per node and zone of the topology, the round-robin cursor within the zone.
    cursor_zone: Vec<u32>,
    zone_count: usize,
}

impl Replicas {
    pub fn new(topology: &Topology) -> Replicas {
        let zone_count = topology.zones.len();
        let mut replicas = Vec::new();
        let mut ranges = Vec::with_capacity(topology.nodes.len());
        let mut zone_ranges = vec![0..0; topology.nodes.len() * zone_count];
        for (n, node) in topology.nodes.iter().enumerate() {
            let start = replicas.len() as u32;
            for &zone in &node.zones {
                let zone_start = replicas.len() as u32;
                for _ in 0..node.replicas_per_zone {
                    replicas.push(Replica {
                        zone,
                        busy: 0,
                        waiting: VecDeque::new(),
                        up: true,
                    });
                }
                zone_ranges[n * zone_count + zone.index()] = zone_start..replicas.len() as u32;
            }
            ranges.push(start..replicas.len() as u32);
        }
        Replicas {
            replicas,
            cursor_any: vec![0; ranges.len()],
            cursor_zone: vec![0; ranges.len() * zone_count],
            ranges,
            zone_ranges,
            zone_count,
        }
    }

    pub fn get(&self, index: u32) -> &Replica {
        &self.replicas[index as usize]
    }

    pub fn get_mut(&mut self, index: u32) -> &mut Replica {
        &mut self.replicas[index as usize]
    }

    /// Picks a healthy replica of `node` for a caller in `from`; `None` when none is healthy.
    pub fn route(&mut self, topology: &Topology, node: NodeId, from: ZoneId) -> Option<u32> {
        let preferred = match topology.node(node).role {
            Role::Database { primary, .. } => return self.pick_in_zone(node, primary),
            _ => from,
        };
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

fn pick_round_robin(candidates: Range<u32>, cursor: &mut u32, replicas: &[Replica]) -> Option<u32> {
    let n = candidates.end - candidates.start;
    for step in 0..n {
        let position = (*cursor + step) % n;
        let replica = candidates.start + position;
        if replicas[replica as usize].up {
            *cursor = (position + 1) % n;
            return Some(replica);
        }
    }
    None
}
