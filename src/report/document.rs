//! The run document: what a report says about one scenario run, in the shape of the JSON
//! interface. Text and other renderers format this same document.

use indexmap::IndexMap;
use serde::Serialize;

use crate::metrics::{Bucket, Cause, EndpointMetrics, LatencySummary};
use crate::model::Scenario;
use crate::sim::{RunOutcome, RunResult};

#[derive(Clone, Debug, Serialize)]
pub struct RunDocument {
    pub tool: &'static str,
    pub version: &'static str,
    pub scenario: String,
    pub scenario_file: String,
    pub model: String,
    pub model_file: String,
    pub seed: u64,
    pub duration_ns: u64,
    pub warmup_ns: u64,
    pub outcome: RunOutcome,
    /// Simulated time when the run stopped (the duration, unless a bound was reached).
    pub end_ns: u64,
    pub events: u64,
    /// In model order.
    pub workloads: IndexMap<String, WorkloadReport>,
    /// In model order.
    pub nodes: IndexMap<String, NodeReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkloadReport {
    pub target: String,
    pub control: EndpointReport,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeReport {
    pub kind: &'static str,
    pub zones: Vec<String>,
    pub control: EndpointReport,
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
    /// Every cause, zeros included, so the shape never changes.
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

impl RunDocument {
    pub fn new(scenario: &Scenario, result: &RunResult) -> RunDocument {
        let topology = &scenario.topology;
        let measured_ns = result.end_ns.saturating_sub(scenario.warmup_ns);
        let workloads = topology
            .workloads
            .iter()
            .zip(&result.workloads)
            .map(|(workload, metrics)| {
                let report = WorkloadReport {
                    target: topology.node(workload.target).name.clone(),
                    control: EndpointReport::new(metrics, measured_ns),
                };
                (workload.name.clone(), report)
            })
            .collect();
        let nodes = topology
            .nodes
            .iter()
            .zip(&result.nodes)
            .map(|(node, metrics)| {
                let report = NodeReport {
                    kind: node.kind.as_str(),
                    zones: node
                        .zones
                        .iter()
                        .map(|z| topology.zones[z.index()].clone())
                        .collect(),
                    control: EndpointReport::new(metrics, measured_ns),
                };
                (node.name.clone(), report)
            })
            .collect();
        RunDocument {
            tool: "blastradius",
            version: crate::VERSION,
            scenario: scenario.name.clone(),
            scenario_file: scenario.path.display().to_string(),
            model: topology.name.clone(),
            model_file: scenario.model_path.display().to_string(),
            seed: scenario.seed,
            duration_ns: scenario.duration_ns,
            warmup_ns: scenario.warmup_ns,
            outcome: result.outcome,
            end_ns: result.end_ns,
            events: result.events,
            workloads,
            nodes,
        }
    }
}

impl EndpointReport {
    pub fn new(metrics: &EndpointMetrics, measured_ns: u64) -> EndpointReport {
        let outcomes = &metrics.outcomes;
        let failed_by_cause = Cause::ALL
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
