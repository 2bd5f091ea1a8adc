//! Faults applied to the running system: effects start and end as events, and the request
//! flow asks here whether a call is failed, swallowed or delayed.
//!
//! Every share (which calls an effect hits) is drawn from the effect's own stream, so the
//! control — which has no effects — and the experiment see the same user requests.

use super::engine::{Event, Kernel, Simulation};
use super::frames::NO_SEQ;
use super::replicas::Cold;
use crate::faults::{Action, FaultPlan, RESTART_REFILL_NS};
use crate::kernel::{Purpose, Stream, round_ns};
use crate::metrics::{Cause, Outcome};
use crate::model::{NodeId, Role, Topology, ZoneId};

/// What the active effects do to a call about to be dispatched.
pub(super) enum AtDispatch {
    Pass,
    /// Never answered: the caller's timeout decides.
    Swallow,
    Fail(Cause),
}

/// The faults' state: the effects active now (each list in plan order), and one stream per
/// effect of the plan, for its shares and spikes. Starting and ending effects (the
/// `impl Simulation` below, which applies them to replicas) is the only writer of the lists.
#[derive(Clone)]
pub(super) struct ActiveFaults {
    /// One stream per effect of the plan.
    streams: Vec<Stream>,
    /// Active effects that act on calls (latency, errors, blackhole, zone cut).
    call_effects: Vec<u32>,
    /// Active effects that act on replica state (slowdown, capacity, hit ratio).
    replica_effects: Vec<u32>,
    /// Active traffic drops (spikes with factor < 1).
    drops: Vec<u32>,
    /// Active zonal shifts, and the turn of the zones taking shifted traffic.
    shifts: Vec<u32>,
    shift_turn: usize,
}

impl ActiveFaults {
    pub(super) fn new(seed: u64, plan: &FaultPlan) -> ActiveFaults {
        ActiveFaults {
            streams: effect_streams(seed, plan),
            call_effects: Vec::new(),
            replica_effects: Vec::new(),
            drops: Vec::new(),
            shifts: Vec::new(),
            shift_turn: 0,
        }
    }

    /// A fork's faults: `plan`'s streams, nothing active yet (a fork starts from a run
    /// without faults).
    pub(super) fn replan(&mut self, seed: u64, plan: &FaultPlan) {
        self.streams = effect_streams(seed, plan);
    }

    /// Some effect on calls is active: only then does the flow ask about calls.
    #[inline(always)]
    pub(super) fn on_calls(&self) -> bool {
        !self.call_effects.is_empty()
    }

    /// Errors and blackholes, checked before a call reaches the node.
    pub(super) fn at_dispatch(
        &mut self,
        plan: &FaultPlan,
        caller: Option<NodeId>,
        callee: NodeId,
    ) -> AtDispatch {
        for &effect in &self.call_effects {
            let effect = effect as usize;
            let (scope, share, verdict) = match &plan.effects[effect].action {
                Action::Errors { scope, share } => {
                    (*scope, *share, AtDispatch::Fail(Cause::InjectedError))
                }
                Action::Blackhole { scope, share } => (*scope, *share, AtDispatch::Swallow),
                _ => continue,
            };
            if scope.covers(caller, callee) && self.streams[effect].chance(share) {
                return verdict;
            }
        }
        AtDispatch::Pass
    }

    /// Whether a call from zone `from` to a replica in zone `to` crosses an active zone cut.
    pub(super) fn crosses_zone_cut(&self, plan: &FaultPlan, from: ZoneId, to: ZoneId) -> bool {
        self.call_effects.iter().any(|&effect| {
            let Action::ZoneCut(zones) = &plan.effects[effect as usize].action else {
                return false;
            };
            match zones.as_slice() {
                [single] => (from == *single) != (to == *single),
                many => from != to && many.contains(&from) && many.contains(&to),
            }
        })
    }

    /// The delay latency faults add to an answer from `callee` to `caller`: the part from
    /// faults on the node itself (which its own metrics show: it is the node that is slow, to
    /// every caller) and the total with the edge faults.
    pub(super) fn injected_latency(
        &mut self,
        plan: &FaultPlan,
        caller: Option<NodeId>,
        callee: NodeId,
    ) -> (u64, u64) {
        let (mut on_node, mut total) = (0u64, 0u64);
        for &effect in &self.call_effects {
            let effect = effect as usize;
            let Action::Latency {
                scope,
                added,
                share,
            } = &plan.effects[effect].action
            else {
                continue;
            };
            let stream = &mut self.streams[effect];
            if scope.covers(caller, callee) && stream.chance(*share) {
                let delay = added.sample(stream);
                total = total.saturating_add(delay);
                if matches!(scope, crate::faults::Scope::Node(_)) {
                    on_node = on_node.saturating_add(delay);
                }
            }
        }
        (on_node, total)
    }

    /// A traffic drop (spike factor < 1) removes a base arrival with probability 1 - factor.
    pub(super) fn dropped(&mut self, plan: &FaultPlan, workload: usize) -> bool {
        for &effect in &self.drops {
            let effect = effect as usize;
            let Action::Spike {
                workload: w,
                factor,
            } = plan.effects[effect].action
            else {
                continue;
            };
            if w.index() == workload && self.streams[effect].chance(1.0 - factor) {
                return true;
            }
        }
        false
    }

    /// Draws from `effect`'s stream: true with probability `p`.
    pub(super) fn chance(&mut self, effect: u32, p: f64) -> bool {
        self.streams[effect as usize].chance(p)
    }

    /// Extra requests of a spike: a Poisson stream at `(factor - 1) × rate`, superposed on the
    /// base arrivals so those stay identical to the control's.
    pub(super) fn schedule_spike_arrival(
        &mut self,
        k: &mut Kernel,
        plan: &FaultPlan,
        topology: &Topology,
        effect: u32,
    ) {
        let spec = &plan.effects[effect as usize];
        let Action::Spike { workload, factor } = spec.action else {
            return;
        };
        let rate = topology.workloads[workload.index()].rate_per_s * (factor - 1.0);
        let stream = &mut self.streams[effect as usize];
        let gap = 1e9 / rate * crate::kernel::ziggurat::exponential(stream);
        let time = k.now.after(round_ns(gap));
        if time.ns() < spec.end_ns && time.ns() <= k.config.duration_ns {
            k.queue.schedule(time, Event::SpikeArrival { effect });
        }
    }

    /// The zone a user request entering `zone` at `target` enters under the active zonal
    /// shifts: `zone` itself unless it is shifted away; else the target's zones that are not
    /// shifted take turns (no randomness), and if every zone is shifted, `zone`.
    #[inline(always)]
    pub(super) fn shifted_entry(
        &mut self,
        plan: &FaultPlan,
        topology: &Topology,
        target: NodeId,
        zone: ZoneId,
    ) -> ZoneId {
        if self.shifts.is_empty() {
            return zone;
        }
        self.shifted_entry_of(plan, topology, target, zone)
    }

    fn shifted_entry_of(
        &mut self,
        plan: &FaultPlan,
        topology: &Topology,
        target: NodeId,
        zone: ZoneId,
    ) -> ZoneId {
        if !self.is_shifted(plan, target, zone) {
            return zone;
        }
        let open: Vec<ZoneId> = (topology.node(target).zones.iter())
            .copied()
            .filter(|&z| !self.is_shifted(plan, target, z))
            .collect();
        if open.is_empty() {
            return zone;
        }
        self.shift_turn = self.shift_turn.wrapping_add(1);
        open[self.shift_turn % open.len()]
    }

    fn is_shifted(&self, plan: &FaultPlan, node: NodeId, zone: ZoneId) -> bool {
        self.shifts.iter().any(|&effect| {
            matches!(&plan.effects[effect as usize].action,
                Action::Shift { zone: z, nodes } if *z == zone && nodes.contains(&node))
        })
    }
}

/// One stream per effect of `plan`, for its shares and spikes.
fn effect_streams(seed: u64, plan: &FaultPlan) -> Vec<Stream> {
    plan.effects
        .iter()
        .map(|effect| Stream::new(seed, effect.stream_id, Purpose::Fault))
        .collect()
}

impl Simulation<'_> {
    pub(super) fn on_effect_start(&mut self, effect: u32) {
        let action = &self.plan.effects[effect as usize].action;
        match action {
            Action::Down(replicas) => {
                for &replica in replicas {
                    let index = self.replicas.index_of(replica);
                    self.stop_replica(index);
                    self.watch_primary(replica.node);
                    (self.autoscaling).note_replica_state(
                        &self.kernel,
                        self.topology,
                        &self.replicas,
                        replica.node,
                    );
                }
            }
            Action::Slowdown { replicas, .. }
            | Action::Capacity { replicas, .. }
            | Action::HitRatio { replicas, .. } => {
                insert_sorted(&mut self.faults.replica_effects, effect);
                let indices: Vec<u32> = replicas
                    .iter()
                    .map(|&r| self.replicas.index_of(r))
                    .collect();
                self.recompute_replicas(&indices);
            }
            Action::Flush {
                replicas,
                refill_ns,
            } => {
                let cold = Cold {
                    since_ns: self.kernel.now.ns(),
                    refill_ns: *refill_ns,
                };
                for &replica in replicas {
                    let index = self.replicas.index_of(replica);
                    if !(self.caches).empty_content(
                        self.topology,
                        &self.replicas,
                        replica.node,
                        index,
                    ) {
                        self.replicas.get_mut(index).cold = Some(cold);
                    }
                }
            }
            Action::Latency { .. }
            | Action::Errors { .. }
            | Action::Blackhole { .. }
            | Action::ZoneCut(_) => insert_sorted(&mut self.faults.call_effects, effect),
            Action::Spike { factor, .. } if *factor > 1.0 => self.start_spike(effect),
            Action::Spike { .. } => insert_sorted(&mut self.faults.drops, effect),
            Action::Shift { zone, nodes } => {
                insert_sorted(&mut self.faults.shifts, effect);
                self.shift_replicas(*zone, nodes, true);
            }
        }
    }

    pub(super) fn on_effect_end(&mut self, effect: u32) {
        let action = &self.plan.effects[effect as usize].action;
        match action {
            Action::Down(replicas) => {
                for &replica in replicas {
                    let index = self.replicas.index_of(replica);
                    self.restart_replica(index, replica.node);
                    self.watch_primary(replica.node);
                    (self.autoscaling).note_replica_state(
                        &self.kernel,
                        self.topology,
                        &self.replicas,
                        replica.node,
                    );
                }
            }
            Action::Slowdown { replicas, .. }
            | Action::Capacity { replicas, .. }
            | Action::HitRatio { replicas, .. } => {
                self.faults.replica_effects.retain(|&e| e != effect);
                let indices: Vec<u32> = replicas
                    .iter()
                    .map(|&r| self.replicas.index_of(r))
                    .collect();
                self.recompute_replicas(&indices);
            }
            Action::Flush { .. } => {}
            Action::Latency { .. }
            | Action::Errors { .. }
            | Action::Blackhole { .. }
            | Action::ZoneCut(_) => self.faults.call_effects.retain(|&e| e != effect),
            // Spike arrivals check the end themselves.
            Action::Spike { .. } => self.faults.drops.retain(|&e| e != effect),
            Action::Shift { zone, nodes } => {
                self.faults.shifts.retain(|&e| e != effect);
                self.shift_replicas(*zone, nodes, false);
            }
        }
    }

    /// Takes the replicas of `nodes` in `zone` out of the balancers (`on`) or puts them back.
    /// They stay up and finish what they hold.
    fn shift_replicas(&mut self, zone: ZoneId, nodes: &[NodeId], on: bool) {
        for &node in nodes {
            for index in self.replicas.in_zone(node, zone) {
                let state = self.replicas.get_mut(index);
                if on {
                    state.shifted += 1;
                } else {
                    state.shifted -= 1;
                }
            }
        }
    }

    /// A replica stops: everything it holds — queued, running, waiting on its own calls — is
    /// lost without an answer, so callers find out by their timeouts.
    fn stop_replica(&mut self, replica: u32) {
        let now = self.kernel.now.ns();
        let state = self.replicas.get_mut(replica);
        state.touch(now);
        state.down += 1;
        if state.down > 1 {
            return;
        }
        state.up = false;
        state.busy = 0;
        state.waiting.clear();
        (self.balancer).saw_up(&self.kernel, self.topology, &mut self.replicas, replica);
        self.resilience.replica_stopped(replica);
        let node_count = self.topology.nodes.len() as u32;
        let lost = self
            .frames
            .refs_where(|frame| frame.replica == replica && frame.caller < node_count);
        let now = self.kernel.now.ns();
        for at in lost {
            let frame = self.frames.remove(at);
            let latency = self.kernel.now.since(frame.arrived);
            let metrics = &mut self.node_metrics[frame.caller as usize];
            metrics.record_end(now, latency, Outcome::Failed(Cause::Lost), frame.counted);
        }
    }

    /// A replica comes back when no fault holds it down any more: empty, and a cache cold.
    fn restart_replica(&mut self, replica: u32, node: NodeId) {
        let is_cache = matches!(self.topology.node(node).role, Role::Cache { .. });
        let now = self.kernel.now.ns();
        let state = self.replicas.get_mut(replica);
        state.down -= 1;
        if state.down > 0 {
            return;
        }
        state.touch(now);
        state.up = true;
        if is_cache && !(self.caches).empty_content(self.topology, &self.replicas, node, replica) {
            self.replicas.get_mut(replica).cold = Some(Cold {
                since_ns: now,
                refill_ns: RESTART_REFILL_NS,
            });
        }
        (self.balancer).saw_up(&self.kernel, self.topology, &mut self.replicas, replica);
    }

    /// A database whose primary zone has no healthy replica fails over after its `failover`
    /// time (never, without one): the check is scheduled, and made again when it fires.
    fn watch_primary(&mut self, node: NodeId) {
        let Some(primary) = self.replicas.primary[node.index()] else {
            return;
        };
        let Role::Database {
            failover_ns: Some(failover_ns),
            ..
        } = self.topology.node(node).role
        else {
            return;
        };
        if !self.replicas.healthy_in(node, primary) {
            let due = self.kernel.now.after(failover_ns);
            self.kernel.queue.schedule(due, Event::Failover { node });
        }
    }

    /// Moves the primary to the next of the database's zones (in the order they are listed)
    /// that has a healthy replica, if the current one still has none.
    pub(super) fn on_failover(&mut self, node: NodeId) {
        let Some(primary) = self.replicas.primary[node.index()] else {
            return;
        };
        if self.replicas.healthy_in(node, primary) {
            return;
        }
        let zones = &self.topology.node(node).zones;
        let current = zones.iter().position(|&z| z == primary).unwrap_or(0);
        let next = (1..zones.len())
            .map(|step| zones[(current + step) % zones.len()])
            .find(|&zone| self.replicas.healthy_in(node, zone));
        if let Some(zone) = next {
            self.replicas.primary[node.index()] = Some(zone);
        }
    }

    /// Recomputes slowdown, workers and forced hit ratio of replicas from the active effects,
    /// so overlapping faults compose without drift: slowdowns multiply, the smallest capacity
    /// wins, the latest hit-ratio fault wins.
    fn recompute_replicas(&mut self, indices: &[u32]) {
        for &index in indices {
            let node = self.node_of_replica(index);
            let mut slowdown = 1.0;
            let mut workers = self.topology.node(node).workers;
            let mut hit_override = None;
            for &effect in &self.faults.replica_effects {
                match &self.plan.effects[effect as usize].action {
                    Action::Slowdown { replicas, factor } if self.covers(replicas, index) => {
                        slowdown *= factor;
                    }
                    Action::Capacity {
                        replicas,
                        workers: w,
                    } if self.covers(replicas, index) => {
                        workers = workers.min(*w);
                    }
                    Action::HitRatio { replicas, value } if self.covers(replicas, index) => {
                        hit_override = Some(*value);
                    }
                    _ => {}
                }
            }
            let now = self.kernel.now.ns();
            let state = self.replicas.get_mut(index);
            state.touch(now);
            state.slowdown = slowdown;
            state.workers = workers;
            state.hit_override = hit_override;
            if state.up {
                self.start_waiting(index);
            }
        }
    }

    fn covers(&self, replicas: &[crate::faults::ReplicaRef], index: u32) -> bool {
        replicas.iter().any(|&r| self.replicas.index_of(r) == index)
    }

    fn node_of_replica(&self, index: u32) -> NodeId {
        let position = (0..self.topology.nodes.len())
            .position(|n| self.replicas.of_node(NodeId(n as u32)).contains(&index))
            .expect("every replica belongs to a node");
        NodeId(position as u32)
    }

    /// The hit ratio a cache replica serves now: forced by a fault, or the configured one,
    /// scaled down while the replica refills after a flush or restart.
    pub(super) fn effective_hit_ratio(&self, replica: u32, configured: f64) -> f64 {
        let state = self.replicas.get(replica);
        let base = state.hit_override.unwrap_or(configured);
        match state.cold {
            None => base,
            Some(cold) => {
                let elapsed = self.kernel.now.ns().saturating_sub(cold.since_ns) as f64;
                base * (1.0 - libm::exp(-elapsed / cold.refill_ns.max(1) as f64))
            }
        }
    }

    pub(super) fn on_spike_arrival(&mut self, effect: u32) {
        let Action::Spike { workload, .. } = self.plan.effects[effect as usize].action else {
            return;
        };
        let (kernel, topology) = (&mut self.kernel, self.topology);
        (self.faults).schedule_spike_arrival(kernel, self.plan, topology, effect);
        if self.thinned_out(effect, workload.index()) {
            return;
        }
        self.workloads.extra_requests[workload.index()] += 1;
        let zone = self.arrival_zone(workload.index(), true);
        self.start_request(workload.index(), NO_SEQ, zone, super::arrivals::NO_USER);
    }
}

fn insert_sorted(active: &mut Vec<u32>, effect: u32) {
    let position = active.partition_point(|&e| e < effect);
    active.insert(position, effect);
}
