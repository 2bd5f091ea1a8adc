//! The resilience section of a report: per caller -> callee edge with a circuit breaker, a
//! retry budget, a bulkhead or a fallback, what each did in the control and the experiment.
//! A model without those keys has no section, so its reports are unchanged.

use serde::Serialize;

use crate::model::Topology;
use crate::sim::{EdgeCounts, EdgeResilience};

/// One edge with a mechanism, in node and call order.
#[derive(Clone, Debug, Serialize)]
pub struct EdgeReport {
    pub caller: String,
    pub callee: String,
    /// `circuit_breaker`, `retry_budget`, `bulkhead`, `fallback`: the ones the call uses.
    pub mechanisms: Vec<&'static str>,
    pub control: EdgeCounts,
    pub experiment: EdgeCounts,
}

/// Pairs the control's and the experiment's edges (the same topology gives the same list).
pub fn edge_reports(
    topology: &Topology,
    control: &[EdgeResilience],
    experiment: &[EdgeResilience],
) -> Vec<EdgeReport> {
    assert_eq!(
        control.len(),
        experiment.len(),
        "one topology, one edge list"
    );
    control
        .iter()
        .zip(experiment)
        .map(|(c, e)| {
            let call = &topology.node(e.caller).calls[e.call as usize];
            EdgeReport {
                caller: topology.node(e.caller).name.clone(),
                callee: topology.node(e.callee).name.clone(),
                mechanisms: call.resilience.names(),
                control: c.counts,
                experiment: e.counts,
            }
        })
        .collect()
}
