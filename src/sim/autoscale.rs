//! Autoscaling: target tracking per zone, as AWS Auto Scaling does it.
//!
//! Every `period` each zone of an autoscaled node is measured — the mean utilisation over the
//! period, busy-worker time over worker time of the replicas serving, both integrated exactly
//! in nanoseconds by `Replica::touch` — and resized to `ceil(serving × utilisation / target)`
//! clamped to `[min, max]`, where `serving × utilisation` is taken as the period's mean busy
//! workers over the workers of one replica (the same when the count held all period, and
//! right when a warmed-up replica joined at its start). A replica started by a scale-out takes calls after `warmup`; one
//! removed by a scale-in leaves the balancer at once and finishes the work it holds. The
//! replica places (`max` per zone) are allocated up front by `Replicas::new`; a place that is
//! down (its zone is out, or it crashed) is never started. Draws no randomness.
//!
//! Must not: touch nodes that do not autoscale, or schedule anything for them, so runs of
//! models without `autoscale` are unchanged.

use super::engine::{Event, Kernel};
use super::replicas::{Replicas, Slot};
use crate::kernel::SimTime;
use crate::model::{NodeId, Topology, ZoneId};

/// The autoscaler's events, behind the engine's one `Event::Scale` variant.
#[derive(Clone, Copy, Debug)]
pub(super) enum ScaleEvent {
    /// A node's evaluation period is over: measure and resize every zone.
    Evaluate { node: NodeId },
    /// A started replica's warm-up is over (stale if it was scaled in since: `epoch` differs).
    Warm { replica: u32, epoch: u32 },
}

/// One resize of one zone of a node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScalingEvent {
    pub at_ns: u64,
    pub zone: ZoneId,
    /// Replicas started (serving or warming up) before and after.
    pub from: u32,
    pub to: u32,
    /// The mean utilisation measured over the period that decided it.
    pub utilisation: f64,
}

/// A node's replica counts (all zones) after a change: a resize, a warm-up's end, a replica
/// stopping or coming back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaCount {
    pub at_ns: u64,
    /// In the balancer and up.
    pub serving: u32,
    /// Serving or warming up, up or down: the places autoscaling has in use.
    pub started: u32,
}

/// What autoscaling did to one node. Invariant: `series` is sorted by time and starts at 0.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeScaling {
    pub node: NodeId,
    pub events: Vec<ScalingEvent>,
    pub series: Vec<ReplicaCount>,
}

/// Autoscaling's state: what it did per autoscaled node, and the epoch of replica starts.
#[derive(Clone)]
pub(super) struct Autoscaling {
    /// Per autoscaled node, in model order, what autoscaling did (empty without autoscaling).
    scaling: Vec<NodeScaling>,
    /// Counts replica starts, so a warm-up timer of a replica scaled in since is stale.
    epoch: u32,
}

impl Autoscaling {
    /// One `NodeScaling` per autoscaled node, in model order.
    pub(super) fn new(topology: &Topology) -> Autoscaling {
        let scaling = topology
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, node)| node.autoscale.is_some())
            .map(|(n, node)| {
                let started = node.replicas_per_zone * node.zones.len() as u32;
                NodeScaling {
                    node: NodeId(n as u32),
                    events: Vec::new(),
                    series: vec![ReplicaCount {
                        at_ns: 0,
                        serving: started,
                        started,
                    }],
                }
            })
            .collect();
        Autoscaling { scaling, epoch: 0 }
    }

    /// What autoscaling did, per autoscaled node.
    pub(super) fn finish(self) -> Vec<NodeScaling> {
        self.scaling
    }

    /// Schedules the first evaluation of every autoscaled node.
    pub(super) fn schedule(&self, k: &mut Kernel, topology: &Topology) {
        for scaling in &self.scaling {
            schedule_evaluation(k, topology, scaling.node);
        }
    }

    pub(super) fn on_scale(
        &mut self,
        k: &mut Kernel,
        topology: &Topology,
        replicas: &mut Replicas,
        event: ScaleEvent,
    ) {
        match event {
            ScaleEvent::Evaluate { node } => {
                for &zone in &topology.node(node).zones {
                    self.evaluate_zone(k, topology, replicas, node, zone);
                }
                schedule_evaluation(k, topology, node);
            }
            ScaleEvent::Warm { replica, epoch } => {
                let now = k.now.ns();
                let state = replicas.get_mut(replica);
                if state.slot != (Slot::Warming { epoch }) {
                    return;
                }
                state.touch(now);
                state.slot = Slot::Serving;
                let node = replicas.node_of(replica);
                self.record_count(k, replicas, node);
            }
        }
    }

    /// Measures one zone over the period just ended and resizes it.
    fn evaluate_zone(
        &mut self,
        k: &mut Kernel,
        topology: &Topology,
        replicas: &mut Replicas,
        node: NodeId,
        zone: ZoneId,
    ) {
        let policy = autoscale_of(topology, node);
        let now = k.now.ns();
        let (mut busy, mut capacity, mut serving_up, mut started) = (0u128, 0u128, 0u32, 0u32);
        for index in replicas.in_zone(node, zone) {
            let state = replicas.get_mut(index);
            state.touch(now);
            busy += std::mem::take(&mut state.busy_worker_ns);
            capacity += std::mem::take(&mut state.capacity_worker_ns);
            serving_up += u32::from(state.up && state.slot == Slot::Serving);
            started += u32::from(state.slot != Slot::Idle);
        }
        // A zone with nothing serving (down, or all scaled in) has no utilisation to track.
        if capacity == 0 || serving_up == 0 {
            return;
        }
        let utilisation = busy as f64 / capacity as f64;
        // serving × utilisation is the mean busy workers over workers per replica; measured
        // that way it stays right when replicas joined the balancer during the period.
        let workers = f64::from(topology.node(node).workers);
        let busy_replicas = busy as f64 / (workers * policy.period_ns as f64);
        let desired = desired_replicas(busy_replicas, policy.target);
        let desired = desired.clamp(policy.min, policy.max);
        let to = match desired.cmp(&started) {
            std::cmp::Ordering::Greater => {
                let warmup_ns = policy.warmup_ns;
                started + self.scale_out(k, replicas, node, zone, desired - started, warmup_ns)
            }
            std::cmp::Ordering::Less => {
                started - scale_in(k, replicas, node, zone, started - desired)
            }
            std::cmp::Ordering::Equal => return,
        };
        if to == started {
            return;
        }
        let scaling = self.scaling_mut(node);
        scaling.events.push(ScalingEvent {
            at_ns: now,
            zone,
            from: started,
            to,
            utilisation,
        });
        self.record_count(k, replicas, node);
    }

    /// Starts up to `count` idle places that are up, lowest first; returns how many started.
    fn scale_out(
        &mut self,
        k: &mut Kernel,
        replicas: &mut Replicas,
        node: NodeId,
        zone: ZoneId,
        count: u32,
        warmup: u64,
    ) -> u32 {
        let now = k.now.ns();
        let mut started = 0;
        for index in replicas.in_zone(node, zone) {
            if started == count {
                break;
            }
            let state = replicas.get_mut(index);
            if state.slot != Slot::Idle || !state.up {
                continue;
            }
            state.touch(now);
            started += 1;
            if warmup == 0 {
                state.slot = Slot::Serving;
                continue;
            }
            self.epoch = self.epoch.wrapping_add(1);
            let epoch = self.epoch;
            state.slot = Slot::Warming { epoch };
            let event = Event::Scale(ScaleEvent::Warm {
                replica: index,
                epoch,
            });
            k.queue.schedule(SimTime(now).after(warmup), event);
        }
        started
    }

    /// A replica of `node` stopped or came back: an autoscaled node's series shows it.
    pub(super) fn note_replica_state(
        &mut self,
        k: &Kernel,
        topology: &Topology,
        replicas: &Replicas,
        node: NodeId,
    ) {
        if topology.node(node).autoscale.is_some() {
            self.record_count(k, replicas, node);
        }
    }

    fn scaling_mut(&mut self, node: NodeId) -> &mut NodeScaling {
        self.scaling
            .iter_mut()
            .find(|s| s.node == node)
            .expect("an autoscaled node has its record")
    }

    /// Appends the node's counts now to its series (replacing a point at the same instant).
    fn record_count(&mut self, k: &Kernel, replicas: &Replicas, node: NodeId) {
        let (mut serving, mut started) = (0, 0);
        for index in replicas.of_node(node) {
            let state = replicas.get(index);
            serving += u32::from(state.up && state.slot == Slot::Serving);
            started += u32::from(state.slot != Slot::Idle);
        }
        let at_ns = k.now.ns();
        let series = &mut self.scaling_mut(node).series;
        if series.last().is_some_and(|p| p.at_ns == at_ns) {
            series.pop();
        }
        series.push(ReplicaCount {
            at_ns,
            serving,
            started,
        });
    }
}

fn schedule_evaluation(k: &mut Kernel, topology: &Topology, node: NodeId) {
    let period = autoscale_of(topology, node).period_ns;
    let event = Event::Scale(ScaleEvent::Evaluate { node });
    k.schedule_within_run(k.now.after(period), event);
}

fn autoscale_of(topology: &Topology, node: NodeId) -> crate::model::autoscale::Autoscale {
    topology
        .node(node)
        .autoscale
        .expect("only autoscaled nodes are evaluated")
}

/// Takes `count` started places out of the balancer, the highest warming ones first, then
/// the highest serving ones; returns how many. They finish the work they hold.
fn scale_in(k: &Kernel, replicas: &mut Replicas, node: NodeId, zone: ZoneId, count: u32) -> u32 {
    let now = k.now.ns();
    let range = replicas.in_zone(node, zone);
    let mut removed = 0;
    for warming_first in [true, false] {
        for index in range.clone().rev() {
            if removed == count {
                return removed;
            }
            let state = replicas.get_mut(index);
            let eligible = match state.slot {
                Slot::Warming { .. } => warming_first,
                Slot::Serving => !warming_first,
                Slot::Idle => false,
            };
            if eligible {
                state.touch(now);
                state.slot = Slot::Idle;
                removed += 1;
            }
        }
    }
    removed
}

/// `ceil(serving × utilisation / target)`, with `serving × utilisation` given as the mean
/// busy workers over the period in replicas' worth, less a hair so that exactly on target
/// stays put.
fn desired_replicas(busy_replicas: f64, target: f64) -> u32 {
    let exact = busy_replicas / target;
    let desired = libm::ceil(exact - 1e-9).max(0.0);
    if desired >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        desired as u32
    }
}

#[cfg(test)]
mod tests {
    use super::desired_replicas;

    #[test]
    fn desired_follows_target_tracking() {
        // Two replicas at 90% against a 60% target need 3 (2 × 0.9 / 0.6 = 3).
        assert_eq!(desired_replicas(2.0 * 0.9, 0.6), 3);
        // Exactly on target stays put, though 2 × 0.6 / 0.6 is not exactly 2 in floats.
        assert_eq!(desired_replicas(2.0 * 0.6, 0.6), 2);
        // Just above needs one more; idle needs none (the caller clamps to `min`).
        assert_eq!(desired_replicas(2.0 * 0.61, 0.6), 3);
        assert_eq!(desired_replicas(0.0, 0.6), 0);
    }
}
