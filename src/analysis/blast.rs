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
use serde::Serialize;

use crate::faults::FaultPlan;
use crate::metrics::{Cause, Latency, Outcome, Outcomes};
use crate::model::{FaultKind, FaultTarget, Scenario, ZoneId};
use crate::sim::{RecordStatus, RequestRecord, RunResult};

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

/// Whether the harm stayed inside one fault's isolation boundary (zonal faults only).
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
) -> BlastRadius {
    let topology = &scenario.topology;
    let mut pairs = Vec::new();
    let mut workloads = IndexMap::new();
    for (w, workload) in topology.workloads.iter().enumerate() {
        let threshold = scenario
            .slow_threshold_ns
            .unwrap_or_else(|| control.workloads[w].latency.quantile_ns(0.99));
        // A closed loop pairs by (user, k), not by index (see `pairing`).
        let aligned = super::pairing::align(control, experiment, w);
        let paired = match &aligned {
            Some(a) => pair(&a.control, &a.experiment, threshold),
            None => pair(&control.requests[w], &experiment.requests[w], threshold),
        };
        let mut harm = workload_harm(scenario, &paired, threshold, experiment.extra_requests[w]);
        harm.not_sent = aligned.map(|a| a.not_sent);
        workloads.insert(workload.name.clone(), harm);
        pairs.extend(paired);
    }
    let (hurt, helped) = count(&pairs);
    let paired = pairs.len() as u64;
    BlastRadius {
        paired,
        hurt,
        helped,
        share: ratio(hurt, paired),
        net_share: (hurt as f64 - helped as f64) / paired.max(1) as f64,
        significant: beyond_chance(hurt, helped),
        workloads,
        nodes: node_harm(scenario, control, experiment),
        zones: by_zone(scenario, pairs.iter().filter(|p| p.hurt())),
        containment: containment(scenario, plan, &pairs),
    }
}

/// One request seen in both runs.
struct Pair {
    control_hurt: bool,
    experiment: RequestRecord,
    /// Why it was hurt in the experiment, if it was.
    why: Option<&'static str>,
}

impl Pair {
    fn hurt(&self) -> bool {
        self.why.is_some() && !self.control_hurt
    }
    fn helped(&self) -> bool {
        self.control_hurt && self.why.is_none()
    }
}

/// Both runs see the same base arrivals, so the records pair by index; a run stopped at a bound
/// has only those that arrived before it stopped, and only the requests both runs saw pair.
fn pair(control: &[RequestRecord], experiment: &[RequestRecord], threshold: u64) -> Vec<Pair> {
    control
        .iter()
        .zip(experiment)
        .filter(|(c, e)| {
            c.counted && c.status != RecordStatus::NotSent && e.status != RecordStatus::NotSent
        })
        .map(|(c, e)| Pair {
            control_hurt: harm(c, threshold).is_some(),
            experiment: *e,
            why: harm(e, threshold),
        })
        .collect()
}

/// Why a request counts as hurt in its run, or `None`.
fn harm(record: &RequestRecord, threshold: u64) -> Option<&'static str> {
    match record.status {
        RecordStatus::InFlight => Some("in_flight"),
        RecordStatus::NotSent => None,
        RecordStatus::Ended(Outcome::Failed(cause)) => Some(cause.as_str()),
        RecordStatus::Ended(Outcome::Degraded) => Some("degraded"),
        RecordStatus::Ended(Outcome::Ok) if record.latency_ns > threshold => Some("slow"),
        RecordStatus::Ended(Outcome::Ok) => None,
    }
}

fn count(pairs: &[Pair]) -> (u64, u64) {
    let hurt = pairs.iter().filter(|p| p.hurt()).count() as u64;
    let helped = pairs.iter().filter(|p| p.helped()).count() as u64;
    (hurt, helped)
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn workload_harm(scenario: &Scenario, pairs: &[Pair], threshold: u64, extra: u64) -> WorkloadHarm {
    let (hurt, helped) = count(pairs);
    let mut why: IndexMap<&'static str, u64> = IndexMap::new();
    let mut origins: IndexMap<String, u64> = IndexMap::new();
    for p in pairs.iter().filter(|p| p.hurt()) {
        *why.entry(p.why.expect("hurt has a reason")).or_default() += 1;
        if let Some(origin) = p.experiment.origin {
            *origins
                .entry(scenario.topology.node(origin).name.clone())
                .or_default() += 1;
        }
    }
    why.sort_by(|a, av, b, bv| bv.cmp(av).then(a.cmp(b)));
    origins.sort_by(|a, av, b, bv| bv.cmp(av).then(a.cmp(b)));
    WorkloadHarm {
        slow_threshold_ns: threshold,
        paired: pairs.len() as u64,
        hurt,
        helped,
        share: ratio(hurt, pairs.len() as u64),
        why,
        zones: by_zone(scenario, pairs.iter().filter(|p| p.hurt())),
        origins,
        extra_requests: extra,
        not_sent: None,
    }
}

fn by_zone<'a>(scenario: &Scenario, hurt: impl Iterator<Item = &'a Pair>) -> IndexMap<String, u64> {
    let zones = &scenario.topology.zones;
    let mut counts = vec![0u64; zones.len()];
    for p in hurt {
        if let Some(count) = counts.get_mut(p.experiment.zone.index()) {
            *count += 1;
        }
    }
    zones
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(zone, n)| (zone.clone(), n))
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

/// The zones inside a fault's isolation boundary; `None` for faults that are not zonal.
fn boundary(target: &FaultTarget, kind: &FaultKind) -> Option<Vec<ZoneId>> {
    match (kind, target) {
        // Moving traffic is not a failure boundary: the other zones are meant to take it.
        (FaultKind::TrafficSpike { .. } | FaultKind::ZonalShift { .. }, _) => None,
        (_, FaultTarget::Zone(zone)) | (_, FaultTarget::NodeInZone(_, zone)) => Some(vec![*zone]),
        (_, FaultTarget::ZoneCut(zones)) => Some(zones.clone()),
        _ => None,
    }
}

fn containment(scenario: &Scenario, plan: &FaultPlan, pairs: &[Pair]) -> Vec<Containment> {
    let _ = plan;
    scenario
        .faults
        .iter()
        .enumerate()
        .filter_map(|(index, fault)| {
            let inside = boundary(&fault.target, &fault.kind)?;
            let is_inside = |p: &Pair| inside.contains(&p.experiment.zone);
            let outside: Vec<&Pair> = pairs.iter().filter(|p| !is_inside(p)).collect();
            let hurt_outside = outside.iter().filter(|p| p.hurt()).count() as u64;
            let helped_outside = outside.iter().filter(|p| p.helped()).count() as u64;
            Some(Containment {
                fault: index,
                kind: fault.kind.as_str(),
                line: fault.line,
                boundary: inside
                    .iter()
                    .map(|z| scenario.topology.zones[z.index()].clone())
                    .collect(),
                hurt_inside: pairs.iter().filter(|p| is_inside(p) && p.hurt()).count() as u64,
                hurt_outside,
                helped_outside,
                paired_outside: outside.len() as u64,
                contained: !significant_leak(hurt_outside, helped_outside, outside.len() as u64),
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
