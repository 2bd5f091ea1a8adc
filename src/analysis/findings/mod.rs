//! The findings of one scenario run: everything a report says, computed once, format-neutral
//! — the two runs' numbers per endpoint, the deviation per window, the hypotheses judged in
//! every window, the blast radius, recovery, amplification, static stability, and each
//! mechanism's findings (traffic, autoscaling, resilience per edge, caches, queues, the
//! journal). The JSON report is its serde (`FINDINGS_VERSION`); every other format renders it
//! through `report` without reaching back to the scenario's runs.
//!
//! Must not: format anything for a reader (that is `report`), or run a simulation.

mod cache;
mod journal;
mod queue;
mod resilience;
mod scaling;
mod traffic;

pub use cache::{CacheReport, CacheRunReport, CacheSeriesReport, CacheWindowReport};
pub use journal::Journal;
pub use queue::{QueueReport, QueueRunReport, QueueSeries};
pub use resilience::EdgeReport;
pub use scaling::{AutoscalingReport, ReplicaSeries, ScalingEventReport, ScalingRun};
pub use traffic::{TrafficReport, UsersReport};

/// The version of the JSON document's shape: raised when a field is removed, renamed or
/// changes meaning; adding a field keeps it (readers ignore fields they do not know).
pub const FINDINGS_VERSION: u32 = 1;

use indexmap::IndexMap;
use serde::Serialize;

use crate::analysis::{
    Amplification, BlastRadius, Deviation, HypothesisResult, PairedValues, Recovery, Study,
    Verdict, WindowSpan, deviations,
};
use crate::metrics::{Bucket, Cause, EndpointMetrics, LatencySummary};
use crate::model::{FaultTarget, NodeId, Scenario, Topology, ZoneId};
use crate::sim::{EjectionStats, RunOutcome};

/// What a report says about one scenario: its two runs (control without faults, experiment
/// with them), the deviation per window, the hypotheses, the blast radius and the recovery.
#[derive(Clone, Debug, Serialize)]
pub struct Findings {
    pub tool: &'static str,
    pub version: &'static str,
    /// The shape of this document (`FINDINGS_VERSION`).
    pub findings_version: u32,
    pub scenario: String,
    pub scenario_file: String,
    pub model: String,
    pub model_file: String,
    pub seed: u64,
    pub duration_ns: u64,
    pub warmup_ns: u64,
    pub verdict: Verdict,
    /// How the experiment run ended (a bound reached is shown here).
    pub outcome: RunOutcome,
    pub control_outcome: RunOutcome,
    /// Simulated time when the experiment stopped (the duration, unless a bound was reached).
    pub end_ns: u64,
    /// Events the experiment processed.
    pub events: u64,
    pub faults: Vec<FaultReport>,
    /// Windows by name: `before`, `during`, `after` (only `before` without faults).
    pub windows: IndexMap<&'static str, SpanReport>,
    /// In model order.
    pub workloads: IndexMap<String, WorkloadReport>,
    /// In model order.
    pub nodes: IndexMap<String, NodeReport>,
    /// Per call with a circuit breaker, retry budget, bulkhead or fallback: what it did in
    /// each run. Left out when the model has none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resilience: Vec<EdgeReport>,
    pub hypotheses: Vec<HypothesisResult>,
    /// `null` without faults.
    pub blast_radius: Option<BlastRadius>,
    pub recovery: Vec<Recovery>,
    /// Attempts that reached nodes per user request, per window, control and experiment.
    pub amplification: Vec<Amplification>,
    /// Can the surviving zones carry the load with the replicas they have, per zone lost?
    pub static_stability: crate::analysis::StaticStability,
    /// Per autoscaled node, its resizes and replica counts; absent when none autoscales.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub autoscaling: Vec<scaling::AutoscalingReport>,
    /// Content caches by node name, in model order; absent without them.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub caches: IndexMap<String, cache::CacheReport>,
    /// Queues in model order (absent from the JSON when the model has none).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub queues: IndexMap<String, queue::QueueReport>,
    /// The Chaos Toolkit–style journal: status, deviated, steady states before/during/after.
    pub journal: journal::Journal,
}

#[derive(Clone, Debug, Serialize)]
pub struct FaultReport {
    pub kind: &'static str,
    /// What it strikes, in words: `api in az-a`, `api → db`, `az-a × az-b`, a zone, a workload.
    pub target: String,
    pub line: usize,
    pub start_ns: u64,
    /// `null` when the fault lasts until the end of the run.
    pub end_ns: Option<u64>,
    /// Concrete effects it resolved to (a chaos monkey's crashes, a recovery's returns, ...).
    pub effects: usize,
    /// When its effects actually acted (`null` without effects; end `null` if open-ended).
    pub active_from_ns: Option<u64>,
    pub active_until_ns: Option<u64>,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct SpanReport {
    pub start_ns: u64,
    pub end_ns: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkloadReport {
    pub target: String,
    /// The rate it offers (its peak for a varying rate; users / mean think time for users).
    pub rate_per_s: f64,
    pub control: EndpointReport,
    pub experiment: EndpointReport,
    /// Per window, every metric in control and experiment with the change.
    pub deviation: IndexMap<&'static str, Vec<Deviation>>,
    /// A varying rate or closed-loop users (absent for a constant rate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<traffic::TrafficReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeReport {
    pub kind: &'static str,
    pub zones: Vec<String>,
    /// The node's labels, sorted by key; absent when it has none.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    pub control: EndpointReport,
    pub experiment: EndpointReport,
    pub deviation: IndexMap<&'static str, Vec<Deviation>>,
    /// Health checks and outlier ejection; only for nodes with `health_check` or `outlier`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balancer: Option<BalancerReport>,
}

/// What a node's balancer did in the control and in the experiment.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct BalancerReport {
    pub control: EjectionStats,
    pub experiment: EjectionStats,
}

/// The numbers of one workload or node in one run.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointReport {
    pub requests: u64,
    pub ok: u64,
    pub degraded: u64,
    pub failed: u64,
    /// Requests still in flight when the run stopped.
    pub in_flight: u64,
    /// (ok + degraded) / ended requests.
    pub availability: f64,
    /// Every cause the model can give, zeros included, so the shape never changes
    /// (`deadline_exceeded` only for a model that propagates deadlines).
    pub failed_by_cause: IndexMap<&'static str, u64>,
    /// Ended requests per second of measured time (after the warm-up).
    pub throughput_per_s: f64,
    pub latency_ns: LatencySummary,
    pub series: SeriesReport,
}

/// The time series, as parallel arrays from time zero (warm-up included).
#[derive(Clone, Debug, Serialize)]
pub struct SeriesReport {
    pub step_ns: u64,
    pub completed: Vec<u64>,
    pub errors: Vec<u64>,
    pub p99_ns: Vec<u64>,
}

impl Findings {
    /// Whether the experiment had faults that acted: then there are windows before, during and
    /// after them, a blast radius, and two runs to show; otherwise one run, the baseline.
    pub fn with_faults(&self) -> bool {
        self.blast_radius.is_some()
    }

    pub fn new(scenario: &Scenario, study: &Study) -> Findings {
        let topology = &scenario.topology;
        let (control, experiment) = (&study.control, &study.experiment);
        let measured_ns = experiment.end_ns.saturating_sub(scenario.warmup_ns);
        let spans = &study.analysis.windows;
        let causes = Cause::listed(topology.propagates_deadlines());
        let values = &study.analysis.values;
        let report = |c: &EndpointMetrics, e: &EndpointMetrics, by_window: &[PairedValues]| {
            (
                EndpointReport::new(c, measured_ns, causes),
                EndpointReport::new(e, measured_ns, causes),
                deviation_by_window(spans, by_window),
            )
        };
        let workloads = topology
            .workloads
            .iter()
            .enumerate()
            .map(|(w, workload)| {
                let (control, experiment, deviation) = report(
                    &control.workloads[w],
                    &experiment.workloads[w],
                    values.workload_by_window(w),
                );
                let target = topology.node(workload.target).name.clone();
                let report = WorkloadReport {
                    target,
                    rate_per_s: workload.rate_per_s,
                    control,
                    experiment,
                    deviation,
                    traffic: traffic::TrafficReport::new(
                        topology,
                        w,
                        &study.control,
                        &study.experiment,
                    ),
                };
                (workload.name.clone(), report)
            })
            .collect();
        let nodes = topology
            .nodes
            .iter()
            .enumerate()
            .map(|(n, node)| {
                let (control, experiment, deviation) = report(
                    &control.nodes[n],
                    &experiment.nodes[n],
                    values.node_by_window(n),
                );
                let zones = node
                    .zones
                    .iter()
                    .map(|z| topology.zones[z.index()].clone())
                    .collect();
                let kind = node.kind.as_str();
                let balancer = node.policy.watches_replicas().then(|| BalancerReport {
                    control: study.control.ejections[n],
                    experiment: study.experiment.ejections[n],
                });
                let labels = node
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                let report = NodeReport {
                    kind,
                    zones,
                    labels,
                    control,
                    experiment,
                    deviation,
                    balancer,
                };
                (node.name.clone(), report)
            })
            .collect();
        let analysis = &study.analysis;
        Findings {
            tool: "blastradius",
            version: crate::VERSION,
            findings_version: FINDINGS_VERSION,
            scenario: scenario.name.clone(),
            scenario_file: scenario.path.display().to_string(),
            model: topology.name.clone(),
            model_file: scenario.model_path.display().to_string(),
            seed: scenario.seed,
            duration_ns: scenario.duration_ns,
            warmup_ns: scenario.warmup_ns,
            verdict: analysis.verdict,
            outcome: experiment.outcome,
            control_outcome: control.outcome,
            end_ns: experiment.end_ns,
            events: experiment.events,
            faults: fault_reports(scenario, &study.plan),
            windows: spans
                .iter()
                .map(|s| {
                    (
                        s.window.as_str(),
                        SpanReport {
                            start_ns: s.start_ns,
                            end_ns: s.end_ns,
                        },
                    )
                })
                .collect(),
            workloads,
            nodes,
            resilience: resilience::edge_reports(topology, &control.edges, &experiment.edges),
            hypotheses: analysis.hypotheses.clone(),
            blast_radius: analysis.blast_radius.clone(),
            recovery: analysis.recovery.clone(),
            amplification: analysis.amplification.clone(),
            static_stability: crate::analysis::static_stability(topology),
            autoscaling: scaling::autoscaling_reports(topology, control, experiment),
            caches: cache::cache_reports(topology, spans, control, experiment),
            queues: queue::queue_reports(scenario, study),
            journal: journal::build(scenario, study),
        }
    }
}

fn fault_reports(scenario: &Scenario, plan: &crate::faults::FaultPlan) -> Vec<FaultReport> {
    scenario
        .faults
        .iter()
        .enumerate()
        .map(|(index, fault)| {
            let span = plan.span_of(index);
            FaultReport {
                kind: fault.kind.as_str(),
                target: target_in_words(&scenario.topology, &fault.target),
                line: fault.line,
                start_ns: fault.start_ns,
                end_ns: fault.duration_ns.map(|_| fault.end_ns()),
                effects: span.map_or(0, |(n, _, _)| n),
                active_from_ns: span.map(|(_, start, _)| start),
                active_until_ns: span.map(|(_, _, end)| end).filter(|&end| end != u64::MAX),
            }
        })
        .collect()
}

/// What a fault strikes, named as the model names it.
fn target_in_words(topology: &Topology, target: &FaultTarget) -> String {
    let node = |n: &NodeId| topology.node(*n).name.clone();
    let zone = |z: &ZoneId| topology.zones[z.index()].clone();
    match target {
        FaultTarget::Node(n) => node(n),
        FaultTarget::NodeInZone(n, z) => format!("{} in {}", node(n), zone(z)),
        FaultTarget::Edge { from, to } => format!("{} → {}", node(from), node(to)),
        FaultTarget::Zone(z) => zone(z),
        FaultTarget::ZoneCut(zones) => zones.iter().map(zone).collect::<Vec<_>>().join(" × "),
        FaultTarget::Nodes(nodes) => nodes.iter().map(node).collect::<Vec<_>>().join(", "),
        FaultTarget::Workload(w) => topology.workloads[w.index()].name.clone(),
    }
}

/// Every metric's change per window, from the analysis's values (in the windows' order).
fn deviation_by_window(
    spans: &[WindowSpan],
    by_window: &[PairedValues],
) -> IndexMap<&'static str, Vec<Deviation>> {
    spans
        .iter()
        .zip(by_window)
        .map(|(span, v)| (span.window.as_str(), deviations(&v.control, &v.experiment)))
        .collect()
}

impl EndpointReport {
    /// `causes`: the causes the model can give (`Cause::listed`), zeros included.
    pub fn new(metrics: &EndpointMetrics, measured_ns: u64, causes: &[Cause]) -> EndpointReport {
        let outcomes = &metrics.outcomes;
        let failed_by_cause = causes
            .iter()
            .map(|&cause| (cause.as_str(), outcomes.failed_by_cause[cause as usize]))
            .collect();
        let throughput_per_s = if measured_ns == 0 {
            0.0
        } else {
            outcomes.ended() as f64 * 1e9 / measured_ns as f64
        };
        EndpointReport {
            requests: outcomes.requests,
            ok: outcomes.ok,
            degraded: outcomes.degraded,
            failed: outcomes.failed(),
            in_flight: outcomes.in_flight,
            availability: outcomes.availability(),
            failed_by_cause,
            throughput_per_s,
            latency_ns: metrics.latency.summary(),
            series: SeriesReport::new(metrics.series.step_ns(), metrics.series.buckets()),
        }
    }
}

impl SeriesReport {
    fn new(step_ns: u64, buckets: &[Bucket]) -> SeriesReport {
        SeriesReport {
            step_ns,
            completed: buckets.iter().map(|b| b.completed).collect(),
            errors: buckets.iter().map(|b| b.errors).collect(),
            p99_ns: buckets.iter().map(|b| b.p99_ns).collect(),
        }
    }
}
