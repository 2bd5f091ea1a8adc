//! Names in a scenario resolved against its loaded model: workloads, nodes, zones and edges
//! `caller->callee`, each unknown name reported at its value with a did-you-mean.
//!
//! Every resolver checks the value's type first and returns `None` without a complaint when the
//! model did not load (`topology` is `None`): the model's own errors say why.

use petgraph::visit::EdgeRef;

use super::codes::Code;
use super::reader::{Sink, Value, help_for_name, quote_list};
use super::topology::{NodeId, Topology, WorkloadId, ZoneId};

pub(super) fn workload(
    sink: &mut Sink<'_>,
    key: &str,
    value: &Value<'_>,
    topology: Option<&Topology>,
) -> Option<WorkloadId> {
    let name = sink.string(key, value)?;
    let topology = topology?;
    if let Some(id) = topology.workload_id(name) {
        return Some(id);
    }
    let names: Vec<&str> = topology.workloads.iter().map(|w| w.name.as_str()).collect();
    let help = help_for_name(
        name,
        &names,
        "the model's workloads are",
        "the model has no workloads",
    );
    sink.error(
        Code::UnknownWorkload,
        value.span(),
        format!("unknown workload `{name}`"),
    )
    .label("not a workload of the model")
    .help(help);
    None
}

pub(super) fn node(
    sink: &mut Sink<'_>,
    key: &str,
    value: &Value<'_>,
    topology: Option<&Topology>,
) -> Option<NodeId> {
    let name = sink.string(key, value)?;
    let topology = topology?;
    if let Some(id) = topology.node_id(name) {
        return Some(id);
    }
    let names: Vec<&str> = topology.nodes.iter().map(|n| n.name.as_str()).collect();
    let help = help_for_name(
        name,
        &names,
        "the model's nodes are",
        "the model has no nodes",
    );
    sink.error(
        Code::UnknownNode,
        value.span(),
        format!("unknown node `{name}`"),
    )
    .label("not a node of the model")
    .help(help);
    None
}

pub(super) fn zone(
    sink: &mut Sink<'_>,
    key: &str,
    value: &Value<'_>,
    topology: Option<&Topology>,
) -> Option<ZoneId> {
    let name = sink.string(key, value)?;
    let topology = topology?;
    if let Some(id) = topology.zone_id(name) {
        return Some(id);
    }
    let names: Vec<&str> = topology.zones.iter().map(String::as_str).collect();
    let help = help_for_name(
        name,
        &names,
        "the model's zones are",
        "the model has no zones",
    );
    sink.error(
        Code::UndeclaredZone,
        value.span(),
        format!("zone `{name}` is not declared"),
    )
    .label("not in the model's `zones`")
    .help(help);
    None
}

/// `"api->sessions"` (spaces around `->` allowed): a call of the model or a cache's backing.
pub(super) fn edge(
    sink: &mut Sink<'_>,
    key: &str,
    value: &Value<'_>,
    topology: Option<&Topology>,
) -> Option<(NodeId, NodeId)> {
    let text = sink.string(key, value)?;
    let topology = topology?;
    let edges = edges(topology);
    let names: Vec<String> = edges.iter().map(|e| e.0.clone()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let Some((from, to)) = split_edge(text) else {
        let example = names.first().copied().unwrap_or("api->sessions");
        sink.error(
            Code::UnknownEdge,
            value.span(),
            format!("`{text}` is not an edge"),
        )
        .label(format!("expected `caller->callee`, like `{example}`"))
        .help(help_for_name(
            text,
            &names,
            "the model's calls are",
            "the model has no calls",
        ));
        return None;
    };
    let wanted = format!("{from}->{to}");
    if let Some((_, ids)) = edges.iter().find(|(name, _)| *name == wanted) {
        return Some(*ids);
    }
    let reverse = format!("{to}->{from}");
    let help = if names.contains(&reverse.as_str()) {
        format!("the call goes the other way: `{reverse}`")
    } else {
        help_for_name(
            &wanted,
            &names,
            "the model's calls are",
            "the model has no calls",
        )
    };
    sink.error(
        Code::UnknownEdge,
        value.span(),
        format!("`{wanted}` is not a call of the model"),
    )
    .label("no such call or cache backing")
    .help(help);
    None
}

/// `caller->callee`, both sides trimmed and non-empty.
fn split_edge(text: &str) -> Option<(&str, &str)> {
    let (from, to) = text.split_once("->")?;
    let (from, to) = (from.trim(), to.trim());
    (!from.is_empty() && !to.is_empty()).then_some((from, to))
}

/// Every edge of the graph as `caller->callee` with its ends, once each, in graph order.
fn edges(topology: &Topology) -> Vec<(String, (NodeId, NodeId))> {
    let mut out: Vec<(String, (NodeId, NodeId))> = Vec::new();
    for edge in topology.graph.edge_references() {
        let (from, to) = (topology.graph[edge.source()], topology.graph[edge.target()]);
        let name = format!("{}->{}", topology.node(from).name, topology.node(to).name);
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, (from, to)));
        }
    }
    out
}

/// `the model's caches are `sessions`` or `the model has no cache`, for help lines.
pub(super) fn caches_help(topology: &Topology) -> String {
    let caches: Vec<&str> = topology
        .nodes
        .iter()
        .filter(|n| n.kind == super::topology::NodeKind::Cache)
        .map(|n| n.name.as_str())
        .collect();
    if caches.is_empty() {
        "the model has no cache".to_string()
    } else {
        format!("the model's caches are {}", quote_list(&caches))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_split_at_the_arrow() {
        assert_eq!(split_edge("api->sessions"), Some(("api", "sessions")));
        assert_eq!(split_edge(" api  ->  sessions "), Some(("api", "sessions")));
        assert_eq!(split_edge("api-sessions"), None);
        assert_eq!(split_edge("->sessions"), None);
        assert_eq!(split_edge("api-> "), None);
    }
}
