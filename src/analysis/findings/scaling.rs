//! The autoscaling part of a run's report: per autoscaled node, its resizes and replica count
//! over time in the control and the experiment, for the JSON document and the text report.
//! Absent (and nothing written) when no node autoscales, so other reports are unchanged.

use serde::Serialize;

use crate::model::Topology;
use crate::sim::{NodeScaling, RunResult};

/// One autoscaled node in both runs.
#[derive(Clone, Debug, Serialize)]
pub struct AutoscalingReport {
    pub node: String,
    pub min: u32,
    pub max: u32,
    pub target: f64,
    pub control: ScalingRun,
    pub experiment: ScalingRun,
}

/// What autoscaling did in one run.
#[derive(Clone, Debug, Serialize)]
pub struct ScalingRun {
    /// Replicas started (all zones) at the start, at most at once, and at the end.
    pub start: u32,
    pub peak: u32,
    pub end: u32,
    pub events: Vec<ScalingEventReport>,
    /// The replica count after every change, as parallel arrays from time zero.
    pub series: ReplicaSeries,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScalingEventReport {
    pub at_ns: u64,
    pub zone: String,
    pub from: u32,
    pub to: u32,
    pub utilisation: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReplicaSeries {
    pub at_ns: Vec<u64>,
    /// In the balancer and up.
    pub serving: Vec<u32>,
    /// Serving or warming up.
    pub started: Vec<u32>,
}

/// One report per autoscaled node, in model order; empty when none autoscales.
pub fn autoscaling_reports(
    topology: &Topology,
    control: &RunResult,
    experiment: &RunResult,
) -> Vec<AutoscalingReport> {
    control
        .autoscaling
        .iter()
        .zip(&experiment.autoscaling)
        .map(|(c, e)| {
            let node = topology.node(c.node);
            let policy = node.autoscale.expect("an autoscaled node");
            AutoscalingReport {
                node: node.name.clone(),
                min: policy.min,
                max: policy.max,
                target: policy.target,
                control: ScalingRun::new(topology, c),
                experiment: ScalingRun::new(topology, e),
            }
        })
        .collect()
}

impl ScalingRun {
    fn new(topology: &Topology, scaling: &NodeScaling) -> ScalingRun {
        let series = &scaling.series;
        let started = |p: &crate::sim::ReplicaCount| p.started;
        ScalingRun {
            start: series.first().map_or(0, started),
            peak: series.iter().map(started).max().unwrap_or(0),
            end: series.last().map_or(0, started),
            events: scaling
                .events
                .iter()
                .map(|e| ScalingEventReport {
                    at_ns: e.at_ns,
                    zone: topology.zones[e.zone.index()].clone(),
                    from: e.from,
                    to: e.to,
                    utilisation: e.utilisation,
                })
                .collect(),
            series: ReplicaSeries {
                at_ns: series.iter().map(|p| p.at_ns).collect(),
                serving: series.iter().map(|p| p.serving).collect(),
                started: series.iter().map(started).collect(),
            },
        }
    }
}
