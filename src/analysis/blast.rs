//! The blast radius: which user requests the faults hurt — paired by identity across the
//! control and the experiment — which workloads, nodes and zones, why, and whether the harm
//! stayed inside the faults' isolation boundaries.
//!
//! A request is *hurt* in a run when it failed, was degraded, was still in flight at the end,
//! or took longer than the slow threshold. It is hurt *by the faults* when it is hurt in the
//! experiment but not in the control. Common random numbers make most pairs identical, but not
//! all (a shifted stream changes later service times both ways), so the report also counts the
//! pairs the faults *helped* and judges a leak by the net harm.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::pairing::{Pairing, Tally, WHYS, why_name};
use crate::faults::FaultPlan;
use crate::metrics::{Cause, Latency, Outcomes};
use crate::model::{FaultKind, FaultTarget, NodeId, Role, Scenario, Selection, ZoneId};
use crate::sim::RunResult;

#[derive(Clone, Debug, Serialize)]
pub struct BlastRadius {
    /// Counted requests sent in both runs.
    pub paired: u64,
    /// Hurt in the experiment, not in the control.
    pub hurt: u64,
    /// Hurt in the control, not in the experiment.
    pub helped: u64,
    /// hurt / paired.
    pub share: f64,
    /// (hurt - helped) / paired.
    pub net_share: f64,
    /// The net harm is more than chance: a sign test on the discordant pairs at 3 sigma.
    pub significant: bool,
    pub workloads: IndexMap<String, WorkloadHarm>,
    /// Nodes whose errors or p99 rose during and after the faults, in model order.
    pub nodes: Vec<NodeHarm>,
    /// Hurt requests by the zone they entered in, in model order (zones with none omitted).
    pub zones: IndexMap<String, u64>,
    pub containment: Vec<Containment>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkloadHarm {
    /// Slower than this counts as hurt: the scenario's `[blast_radius] slow`, or the control's p99.
    pub slow_threshold_ns: u64,
    pub paired: u64,
    pub hurt: u64,
    pub helped: u64,
    pub share: f64,
    /// Why the hurt requests were hurt in the experiment: a failure cause, `degraded`, `slow`
    /// or `in_flight`.
    pub why: IndexMap<&'static str, u64>,
    /// Hurt requests by the zone they entered in.
    pub zones: IndexMap<String, u64>,
    /// Failed hurt requests by the node where the failure started.
    pub origins: IndexMap<String, u64>,
    /// Requests added by a traffic spike: no pair in the control, so not in the counts above.
    pub extra_requests: u64,
    /// Closed-loop users only: counted requests the control's users sent and the experiment's
    /// never did (they were waiting on slower answers); not in the counts above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_sent: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeHarm {
    pub node: String,
    pub control_error_rate: f64,
    pub experiment_error_rate: f64,
    pub control_p99_ns: u64,
    pub experiment_p99_ns: u64,
    /// Failures by cause in the experiment during and after the faults.
    pub failed_by_cause: IndexMap<&'static str, u64>,
}

/// Whether the harm stayed inside one fault's isolation boundary (faults with one only: see
/// `boundary`).
#[derive(Clone, Debug, Serialize)]
pub struct Containment {
    /// Index of the fault in the scenario, and its kind and line.
    pub fault: usize,
    pub kind: &'static str,
    pub line: usize,
    /// The zones inside the boundary.
    pub boundary: Vec<String>,
    pub hurt_inside: u64,
    pub hurt_outside: u64,
    pub helped_outside: u64,
    /// Paired requests that entered outside the boundary.
    pub paired_outside: u64,
    /// No significant net harm outside the boundary.
    pub contained: bool,
}

pub fn measure(
    scenario: &Scenario,
    plan: &FaultPlan,
    control: &RunResult,
    experiment: &RunResult,
    pairing: &Pairing,
) -> BlastRadius {
    let topology = &scenario.topology;
    let zones = topology.zones.len();
    let mut workloads = IndexMap::new();
    // Per zone slot (the model's zones, then outside every zone), over all workloads.
    let mut totals = vec![ZoneTotals::default(); zones + 1];
    for (w, (workload, tally)) in topology.workloads.iter().zip(pairing.tallies()).enumerate() {
        let threshold = tally
            .threshold
            .unwrap_or_else(|| control.workloads[w].latency.quantile_bucket_ns(0.99));
        let by_zone: Vec<ZoneTotals> = (0..=zones)
            .map(|z| ZoneTotals {
                paired: tally.paired_by_zone[z],
                hurt: tally.hurt_by_zone[z].count(threshold),
                helped: tally.helped_by_zone[z].count(threshold),
            })
            .collect();
        for (total, zone) in totals.iter_mut().zip(&by_zone) {
            total.add(zone);
        }
        let mut harm = workload_harm(scenario, tally, &by_zone, threshold);
        harm.extra_requests = experiment.extra_requests[w];
        workloads.insert(workload.name.clone(), harm);
    }
    let all = totals.iter().fold(ZoneTotals::default(), |mut sum, z| {
        sum.add(z);
        sum
    });
    BlastRadius {
        paired: all.paired,
        hurt: all.hurt,
        helped: all.helped,
        share: ratio(all.hurt, all.paired),
        net_share: (all.hurt as f64 - all.helped as f64) / all.paired.max(1) as f64,
        significant: beyond_chance(all.hurt, all.helped),
        workloads,
        nodes: node_harm(scenario, control, experiment),
        zones: hurt_zones(scenario, &totals),
        containment: containment(scenario, plan, &totals),
    }
}

/// Pairs, and of them hurt and helped, in one zone slot.
#[derive(Clone, Copy, Debug, Default)]
struct ZoneTotals {
    paired: u64,
    hurt: u64,
    helped: u64,
}

impl ZoneTotals {
    fn add(&mut self, other: &ZoneTotals) {
        self.paired += other.paired;
        self.hurt += other.hurt;
        self.helped += other.helped;
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn workload_harm(
    scenario: &Scenario,
    tally: &Tally,
    by_zone: &[ZoneTotals],
    threshold: u64,
) -> WorkloadHarm {
    let (hurt, helped) = by_zone
        .iter()
        .fold((0, 0), |(h, g), z| (h + z.hurt, g + z.helped));
    let mut why: IndexMap<&'static str, u64> = (0..WHYS)
        .map(|reason| (why_name(reason), tally.hurt_by_why[reason].count(threshold)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let mut origins: IndexMap<String, u64> = scenario
        .topology
        .nodes
        .iter()
        .zip(&tally.hurt_by_origin)
        .map(|(node, interval)| (node.name.clone(), interval.count(threshold)))
        .filter(|(_, n)| *n > 0)
        .collect();
    why.sort_by(|a, av, b, bv| bv.cmp(av).then(a.cmp(b)));
    origins.sort_by(|a, av, b, bv| bv.cmp(av).then(a.cmp(b)));
    WorkloadHarm {
        slow_threshold_ns: threshold,
        paired: tally.paired,
        hurt,
        helped,
        share: ratio(hurt, tally.paired),
        why,
        zones: hurt_zones(scenario, by_zone),
        origins,
        extra_requests: 0,
        not_sent: tally.closed.then_some(tally.not_sent),
    }
}

/// Hurt requests by the zone they entered in, in model order, zones with none left out.
fn hurt_zones(scenario: &Scenario, by_zone: &[ZoneTotals]) -> IndexMap<String, u64> {
    scenario
        .topology
        .zones
        .iter()
        .zip(by_zone)
        .filter(|(_, z)| z.hurt > 0)
        .map(|(zone, z)| (zone.clone(), z.hurt))
        .collect()
}

/// Nodes whose failures rose by more than noise, or whose p99 rose by more than 20%, in the
/// during and after windows together.
fn node_harm(scenario: &Scenario, control: &RunResult, experiment: &RunResult) -> Vec<NodeHarm> {
    let mut harmed = Vec::new();
    for (n, node) in scenario.topology.nodes.iter().enumerate() {
        let (c_out, c_lat) = disturbed(&control.nodes[n]);
        let (e_out, e_lat) = disturbed(&experiment.nodes[n]);
        let (c_rate, e_rate) = (failure_rate(&c_out), failure_rate(&e_out));
        let (c_p99, e_p99) = (c_lat.quantile_ns(0.99), e_lat.quantile_ns(0.99));
        let more_failures = e_out.failed() > c_out.failed() + 10 && e_rate > c_rate * 1.5 + 0.001;
        let slower = e_lat.count() >= 100 && e_p99 as f64 > c_p99 as f64 * 1.2;
        if more_failures || slower {
            harmed.push(NodeHarm {
                node: node.name.clone(),
                control_error_rate: c_rate,
                experiment_error_rate: e_rate,
                control_p99_ns: c_p99,
                experiment_p99_ns: e_p99,
                failed_by_cause: Cause::ALL
                    .iter()
                    .map(|&c| (c.as_str(), e_out.failed_by_cause[c as usize]))
                    .filter(|(_, n)| *n > 0)
                    .collect(),
            });
        }
    }
    harmed
}

/// Outcomes and latency of the during and after windows together.
fn disturbed(metrics: &crate::metrics::EndpointMetrics) -> (Outcomes, Latency) {
    let mut outcomes = Outcomes::default();
    let mut latency = Latency::new();
    for stats in metrics.windows.iter().skip(1) {
        outcomes.requests += stats.outcomes.requests;
        outcomes.ok += stats.outcomes.ok;
        outcomes.degraded += stats.outcomes.degraded;
        for (total, n) in outcomes
            .failed_by_cause
            .iter_mut()
            .zip(stats.outcomes.failed_by_cause)
        {
            *total += n;
        }
        latency.merge(&stats.latency);
    }
    (outcomes, latency)
}

fn failure_rate(outcomes: &Outcomes) -> f64 {
    ratio(outcomes.failed(), outcomes.ended())
}

/// Why a fault has no isolation boundary to judge its containment against, in words a
/// reader of the report understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoBoundary {
    /// A traffic spike: the added requests enter every zone the workload enters.
    Load,
    /// A fault on an external dependency, which runs in no zone.
    External,
    /// A fault on calls (an edge, or every call to a node): it acts wherever they are made.
    Calls,
    /// A fault on every replica of a node: the node fails as a whole, wherever it is called
    /// from — a dependency's failure, not a zone's.
    WholeNode,
    /// The replicas the fault picked lie in every zone of the model: nothing is outside.
    EveryZone,
    /// The fault struck no replica (a chaos monkey whose first crash came after the end).
    NoReplica,
}

impl NoBoundary {
    /// Why containment does not apply, as the reports say it.
    pub fn describe(self) -> &'static str {
        match self {
            NoBoundary::Load => "a traffic spike loads every zone",
            NoBoundary::External => "an external dependency is in no zone",
            NoBoundary::Calls => "it acts on calls from every zone",
            NoBoundary::WholeNode => "it acts on every replica of the node",
            NoBoundary::EveryZone => "the replicas it struck span every zone",
            NoBoundary::NoReplica => "it struck no replica",
        }
    }
}

/// The zones inside a fault's isolation boundary, or why it has none. A fault on a zone has
/// that zone; a fault on some of a node's replicas has the zones of the replicas the plan
/// picked (a `count` or `percent` selection, a chaos monkey's victims): an instance fails in
/// its zone; a zonal shift has the zone it empties, so harm outside means the zones that took
/// its traffic were hurt.
pub fn boundary(
    scenario: &Scenario,
    plan: &FaultPlan,
    index: usize,
) -> Result<Vec<ZoneId>, NoBoundary> {
    let fault = &scenario.faults[index];
    match (&fault.kind, &fault.target) {
        (FaultKind::TrafficSpike { .. }, _) => Err(NoBoundary::Load),
        (_, FaultTarget::Zone(zone)) | (_, FaultTarget::NodeInZone(_, zone)) => Ok(vec![*zone]),
        (_, FaultTarget::ZoneCut(zones)) => Ok(zones.clone()),
        (_, FaultTarget::Node(node)) if is_external(scenario, *node) => Err(NoBoundary::External),
        (FaultKind::Latency { .. } | FaultKind::Errors { .. } | FaultKind::Blackhole { .. }, _)
        | (_, FaultTarget::Edge { .. }) => Err(NoBoundary::Calls),
        (FaultKind::ChaosMonkey { .. }, _) => replica_boundary(scenario, plan.zones_struck(index)),
        _ if fault.selection == Selection::All => Err(NoBoundary::WholeNode),
        _ => replica_boundary(scenario, plan.zones_struck(index)),
    }
}

fn is_external(scenario: &Scenario, node: NodeId) -> bool {
    matches!(scenario.topology.node(node).role, Role::External { .. })
}

/// The zones of the replicas a fault picked, unless they are none or every zone.
fn replica_boundary(scenario: &Scenario, zones: Vec<ZoneId>) -> Result<Vec<ZoneId>, NoBoundary> {
    if zones.is_empty() {
        Err(NoBoundary::NoReplica)
    } else if zones.len() >= scenario.topology.zones.len() {
        Err(NoBoundary::EveryZone)
    } else {
        Ok(zones)
    }
}

fn containment(scenario: &Scenario, plan: &FaultPlan, totals: &[ZoneTotals]) -> Vec<Containment> {
    scenario
        .faults
        .iter()
        .enumerate()
        .filter_map(|(index, fault)| {
            let inside = boundary(scenario, plan, index).ok()?;
            let (mut hurt_inside, mut outside) = (0, ZoneTotals::default());
            for (slot, zone) in totals.iter().enumerate() {
                if inside.iter().any(|z| z.index() == slot) {
                    hurt_inside += zone.hurt;
                } else {
                    outside.add(zone);
                }
            }
            Some(Containment {
                fault: index,
                kind: fault.kind.as_str(),
                line: fault.line,
                boundary: inside
                    .iter()
                    .map(|z| scenario.topology.zones[z.index()].clone())
                    .collect(),
                hurt_inside,
                hurt_outside: outside.hurt,
                helped_outside: outside.helped,
                paired_outside: outside.paired,
                contained: !significant_leak(outside.hurt, outside.helped, outside.paired),
            })
        })
        .collect()
}

/// A sign test on discordant pairs: under no effect, each is as likely hurt as helped, so the
/// net harm is noise within three standard deviations, `3 * sqrt(hurt + helped)`.
fn beyond_chance(hurt: u64, helped: u64) -> bool {
    hurt as f64 - helped as f64 > 3.0 * ((hurt + helped) as f64).sqrt()
}

/// A leak: net harm outside the boundary beyond chance and above 0.1% of the requests there.
fn significant_leak(hurt: u64, helped: u64, paired: u64) -> bool {
    beyond_chance(hurt, helped) && hurt as f64 - helped as f64 > 0.001 * paired as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leak_needs_significant_net_harm() {
        assert!(!significant_leak(10, 8, 100_000), "noise");
        assert!(!significant_leak(0, 0, 100_000));
        assert!(significant_leak(5_000, 100, 100_000));
        assert!(!significant_leak(40, 0, 1_000_000), "below 0.1%");
    }
}
