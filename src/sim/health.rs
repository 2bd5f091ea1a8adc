//! The balancer's view of a node's replicas: active health checks and outlier ejection.
//! Routing (`replicas.rs`) picks among the replicas `in_balancer`; this module decides that
//! flag, and dispatch (`flow.rs`) still checks `up`, so a call routed to a stopped replica
//! the balancer has not yet taken out is swallowed — the detection window's errors.
//!
//! - Without `health_check` the balancer knows at once: its view is the replica's `up`.
//! - With it, replica `k` of a node's `n` is probed at `k/n × interval`, then every interval
//!   (no randomness). A probe passes when the replica is up. After `unhealthy` failures in a
//!   row the replica is taken out; after `healthy` passes in a row it is put back.
//! - With `outlier`, a replica whose frames end failed `consecutive_failures` times in a row
//!   (any cause at the node — shed, rejected, its own calls failing, a call swallowed because
//!   it is stopped) is ejected for `ejection × k` (its `k`-th ejection; at most
//!   `max(ejection, 300s)`, Envoy's default `max_ejection_time`), unless that would eject more
//!   than `max_ejected` of the node's replicas (at least one may always be ejected, as in
//!   Envoy).
//!
//! `in_balancer = view && !ejected`. Database failover (`effects.rs`) keeps using `up`.
//! Counts (`EjectionStats`) cover the time after the warm-up.

use serde::Serialize;

use super::engine::{Event, Kernel};
use super::replicas::Replicas;
use crate::kernel::SimTime;
use crate::metrics::Counted;
use crate::model::{NodeId, Topology};

/// Envoy's default `max_ejection_time`: the cap on a multiplied ejection.
const MAX_EJECTION_NS: u64 = 300_000_000_000;

/// What a node's balancer did in one run, after the warm-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EjectionStats {
    /// Replicas taken out of the balancer by failed health checks.
    pub health_check_ejections: u64,
    /// Replicas put back by passed health checks.
    pub health_check_returns: u64,
    /// Replicas ejected by outlier detection.
    pub outlier_ejections: u64,
    /// Replica-time out of the balancer, summed over the node's replicas.
    pub out_of_balancer_ns: u64,
    /// Calls routed to a stopped replica still in the balancer: swallowed (`lost` at the
    /// node; the caller's timeout decides).
    pub swallowed_calls: u64,
}

/// One replica as its balancer sees it.
#[derive(Clone, Copy, Debug)]
struct Watch {
    /// The health checks' verdict (without health checks: the replica is up).
    view: bool,
    failed_checks: u32,
    passed_checks: u32,
    /// Frames ended failed in a row, for outlier detection.
    failures_in_row: u32,
    ejected: bool,
    times_ejected: u32,
    /// Out of the balancer since then.
    out_since_ns: Option<u64>,
}

/// The balancers of all nodes: a watch per replica (by storage index), stats per node.
#[derive(Clone)]
pub(super) struct Balancer {
    watches: Vec<Watch>,
    stats: Vec<EjectionStats>,
    /// Some node has outlier detection: without it, answers need no watching at all.
    any_outlier: bool,
}

impl Balancer {
    pub(super) fn new(topology: &Topology, replica_count: usize) -> Balancer {
        let watch = Watch {
            view: true,
            failed_checks: 0,
            passed_checks: 0,
            failures_in_row: 0,
            ejected: false,
            times_ejected: 0,
            out_since_ns: None,
        };
        Balancer {
            watches: vec![watch; replica_count],
            stats: vec![EjectionStats::default(); topology.nodes.len()],
            any_outlier: topology.nodes.iter().any(|n| n.policy.outlier.is_some()),
        }
    }
}

impl Balancer {
    /// Schedules every replica's first health check.
    pub(super) fn schedule_checks(&self, k: &mut Kernel, topology: &Topology, replicas: &Replicas) {
        for (n, node) in topology.nodes.iter().enumerate() {
            let Some(check) = node.policy.health_check else {
                continue;
            };
            let range = replicas.of_node(NodeId(n as u32));
            let count = u128::from(range.end - range.start);
            for (k_th, replica) in range.enumerate() {
                let offset = u128::from(check.interval_ns) * k_th as u128 / count;
                k.schedule_within_run(SimTime(offset as u64), Event::HealthCheck { replica });
            }
        }
    }

    /// One health check of a replica, and the next one scheduled.
    pub(super) fn on_health_check(
        &mut self,
        k: &mut Kernel,
        topology: &Topology,
        replicas: &mut Replicas,
        replica: u32,
    ) {
        let node = replicas.node_of(replica);
        let check = topology
            .node(node)
            .policy
            .health_check
            .expect("checked node");
        k.schedule_within_run(
            k.now.after(check.interval_ns),
            Event::HealthCheck { replica },
        );
        let counted = counts_now(k);
        let pass = replicas.get(replica).up;
        let watch = &mut self.watches[replica as usize];
        let stats = &mut self.stats[node.index()];
        if pass {
            watch.failed_checks = 0;
            watch.passed_checks = watch.passed_checks.saturating_add(1);
            if !watch.view && watch.passed_checks >= check.healthy {
                watch.view = true;
                stats.health_check_returns += u64::from(counted);
            }
        } else {
            watch.passed_checks = 0;
            watch.failed_checks = watch.failed_checks.saturating_add(1);
            if watch.view && watch.failed_checks >= check.unhealthy {
                watch.view = false;
                stats.health_check_ejections += u64::from(counted);
            }
        }
        self.update(k, replicas, replica);
    }

    /// A replica stopped or restarted: without health checks the balancer knows at once.
    pub(super) fn saw_up(
        &mut self,
        k: &Kernel,
        topology: &Topology,
        replicas: &mut Replicas,
        replica: u32,
    ) {
        let node = replicas.node_of(replica);
        if topology.node(node).policy.health_check.is_none() {
            self.watches[replica as usize].view = replicas.get(replica).up;
            self.update(k, replicas, replica);
        }
    }

    /// A call routed to a stopped replica that is still in the balancer was swallowed.
    pub(super) fn count_swallowed(&mut self, k: &Kernel, node: NodeId) {
        self.stats[node.index()].swallowed_calls += u64::from(counts_now(k));
    }

    /// A frame at `replica` ended (or a call to it was refused): outlier detection's input.
    #[inline(always)]
    pub(super) fn observe_outcome(
        &mut self,
        k: &mut Kernel,
        topology: &Topology,
        replicas: &mut Replicas,
        replica: u32,
        failed: bool,
    ) {
        if self.any_outlier {
            self.observe_for_outliers(k, topology, replicas, replica, failed);
        }
    }

    fn observe_for_outliers(
        &mut self,
        k: &mut Kernel,
        topology: &Topology,
        replicas: &mut Replicas,
        replica: u32,
        failed: bool,
    ) {
        let node = replicas.node_of(replica);
        let Some(outlier) = topology.node(node).policy.outlier else {
            return;
        };
        let watch = &mut self.watches[replica as usize];
        if !failed {
            watch.failures_in_row = 0;
            return;
        }
        watch.failures_in_row = watch.failures_in_row.saturating_add(1);
        if watch.ejected || watch.failures_in_row < outlier.consecutive_failures {
            return;
        }
        let range = replicas.of_node(node);
        let count = range.end - range.start;
        let allowed = ((outlier.max_ejected * f64::from(count)).floor() as u32).max(1);
        let ejected = range.filter(|&r| self.watches[r as usize].ejected).count() as u32;
        if outlier.max_ejected == 0.0 || ejected >= allowed {
            return;
        }
        let watch = &mut self.watches[replica as usize];
        watch.ejected = true;
        watch.failures_in_row = 0;
        watch.times_ejected = watch.times_ejected.saturating_add(1);
        let duration = outlier
            .ejection_ns
            .saturating_mul(u64::from(watch.times_ejected))
            .min(outlier.ejection_ns.max(MAX_EJECTION_NS));
        self.stats[node.index()].outlier_ejections += u64::from(counts_now(k));
        let due = k.now.after(duration);
        k.queue.schedule(due, Event::EjectionEnd { replica });
        self.update(k, replicas, replica);
    }

    pub(super) fn on_ejection_end(&mut self, k: &Kernel, replicas: &mut Replicas, replica: u32) {
        let watch = &mut self.watches[replica as usize];
        watch.ejected = false;
        watch.failures_in_row = 0;
        self.update(k, replicas, replica);
    }

    /// Sets `in_balancer` from the view and the ejection, timing the spells out.
    fn update(&mut self, k: &Kernel, replicas: &mut Replicas, replica: u32) {
        let watch = &mut self.watches[replica as usize];
        let listed = watch.view && !watch.ejected;
        let state = replicas.get_mut(replica);
        if state.in_balancer == listed {
            return;
        }
        state.in_balancer = listed;
        let now = k.now.ns();
        if !listed {
            watch.out_since_ns = Some(now);
            return;
        }
        if let Some(since) = watch.out_since_ns.take() {
            let node = replicas.node_of(replica);
            let from = since.max(k.config.warmup_ns);
            self.stats[node.index()].out_of_balancer_ns += now.saturating_sub(from);
        }
    }

    /// The run's balancer counts, closing the spells still open at `end_ns`.
    pub(super) fn finish(
        &mut self,
        end_ns: u64,
        warmup_ns: u64,
        replicas: &Replicas,
    ) -> Vec<EjectionStats> {
        let mut stats = std::mem::take(&mut self.stats);
        for (replica, watch) in self.watches.iter().enumerate() {
            if let Some(since) = watch.out_since_ns {
                let node = replicas.node_of(replica as u32);
                let from = since.max(warmup_ns);
                stats[node.index()].out_of_balancer_ns += end_ns.saturating_sub(from);
            }
        }
        stats
    }
}

fn counts_now(k: &Kernel) -> bool {
    k.counted() != Counted::No
}
