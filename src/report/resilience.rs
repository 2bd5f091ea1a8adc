//! The resilience section of a report: per caller -> callee edge with a circuit breaker, a
//! retry budget, a bulkhead or a fallback, what each did in the control and the experiment.
//! A model without those keys has no section, so its reports are unchanged.

use serde::Serialize;

use super::outline::Section;
use crate::kernel::time::format_duration_ns;
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

/// One line per edge: the experiment's count with the control's in brackets; `None` without
/// edges.
pub(super) fn section(edges: &[EdgeReport]) -> Option<Section> {
    let mut section = Section::new("RESILIENCE per edge (experiment [control], after warm-up)");
    for edge in edges {
        section.line(
            1,
            format!(
                "{} -> {} ({}): {}",
                edge.caller,
                edge.callee,
                edge.mechanisms.join(", "),
                edge_counts(edge).join(", ")
            ),
        );
    }
    section.unless_empty()
}

fn edge_counts(edge: &EdgeReport) -> Vec<String> {
    let (e, c) = (&edge.experiment, &edge.control);
    let pair = |label: &str, f: fn(&EdgeCounts) -> u64| format!("{label} {} [{}]", f(e), f(c));
    let mut parts = vec![pair("calls", |x| x.calls), pair("retries", |x| x.retries)];
    let has = |name: &str| edge.mechanisms.contains(&name);
    if has("circuit_breaker") {
        parts.push(pair("breaker opened", |x| x.breaker_opens));
        parts.push(format!(
            "open {} [{}]",
            format_duration_ns(e.open_ns),
            format_duration_ns(c.open_ns)
        ));
        parts.push(pair("refused by the breaker", |x| x.circuit_open));
    }
    if has("retry_budget") {
        parts.push(pair("retries denied by the budget", |x| x.retries_denied));
    }
    if has("bulkhead") {
        parts.push(pair("refused by the bulkhead", |x| x.bulkhead_full));
    }
    if has("fallback") {
        parts.push(pair("fallbacks served", |x| x.fallbacks));
    }
    parts
}
