//! The dependency graph: cycle detection (reported as a path at the call that closes the
//! cycle), nodes no workload can reach (a warning), and the petgraph `DiGraph` of a valid model.

use petgraph::graph::DiGraph;

use super::codes::Code;
use super::names::Edge;
use super::reader::Sink;
use super::topology::{EdgeKind, NodeId};

/// Adjacency lists in declaration order: for each node, the indices into `edges` leaving it.
fn adjacency(node_count: usize, edges: &[Edge]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); node_count];
    for (index, edge) in edges.iter().enumerate() {
        if let Some(list) = out.get_mut(edge.from) {
            list.push(index);
        }
    }
    out
}

/// Reports every edge that closes a cycle, found by a depth-first search from each node in
/// file order (iterative, so a long chain cannot overflow the stack).
pub(crate) fn check_cycles(sink: &mut Sink<'_>, names: &[&str], edges: &[Edge]) {
    let out = adjacency(names.len(), edges);
    let mut visited = vec![false; names.len()];
    let mut on_path = vec![false; names.len()];
    for root in 0..names.len() {
        if visited[root] {
            continue;
        }
        // The current path, each node with the position of its next edge to explore.
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        visited[root] = true;
        on_path[root] = true;
        while let Some(top) = path.last_mut() {
            let node = top.0;
            let Some(&edge_index) = out[node].get(top.1) else {
                on_path[node] = false;
                path.pop();
                continue;
            };
            top.1 += 1;
            let Some(edge) = edges.get(edge_index) else {
                continue;
            };
            let Some(&seen) = visited.get(edge.to) else {
                continue;
            };
            if on_path[edge.to] {
                report_cycle(sink, names, &path, edge);
            } else if !seen {
                visited[edge.to] = true;
                on_path[edge.to] = true;
                path.push((edge.to, 0));
            }
        }
    }
}

fn report_cycle(sink: &mut Sink<'_>, names: &[&str], path: &[(usize, usize)], closing: &Edge) {
    let start = path.iter().position(|&(n, _)| n == closing.to).unwrap_or(0);
    let name = |n: usize| names.get(n).copied().unwrap_or("?");
    let mut cycle: Vec<&str> = path.iter().skip(start).map(|&(n, _)| name(n)).collect();
    cycle.push(name(closing.to));
    let what = match closing.kind {
        EdgeKind::Call(_) => "this call closes the cycle",
        EdgeKind::Backing => "this backing store closes the cycle",
        EdgeKind::Consume => "this consumer closes the cycle",
    };
    sink.error(
        Code::Cycle,
        closing.span.clone(),
        format!("dependency cycle: {}", cycle.join(" -> ")),
    )
    .label(what)
    .help("the dependency graph must be acyclic: remove or redirect one of these calls");
}

/// Warns about nodes that no workload's target leads to.
pub(crate) fn check_reachable(
    sink: &mut Sink<'_>,
    node_spans: &[(&str, std::ops::Range<usize>)],
    edges: &[Edge],
    targets: &[usize],
) {
    let out = adjacency(node_spans.len(), edges);
    let mut reached = vec![false; node_spans.len()];
    let mut stack: Vec<usize> = targets.to_vec();
    while let Some(node) = stack.pop() {
        match reached.get_mut(node) {
            Some(r) if !*r => *r = true,
            _ => continue,
        }
        stack.extend(out[node].iter().filter_map(|&e| edges.get(e)).map(|e| e.to));
    }
    for ((name, span), reached) in node_spans.iter().zip(reached) {
        if !reached {
            sink.error(
                Code::Unreachable,
                span.clone(),
                format!("node `{name}` is not reachable from any workload"),
            )
            .label("never receives a request");
        }
    }
}

/// The graph of a valid model: vertex `i` is `NodeId(i)`, one edge per dependency.
pub(crate) fn build_graph(node_count: usize, edges: &[Edge]) -> DiGraph<NodeId, EdgeKind> {
    let mut graph = DiGraph::with_capacity(node_count, edges.len());
    let vertices: Vec<_> = (0..node_count)
        .map(|i| graph.add_node(NodeId(i as u32)))
        .collect();
    for edge in edges {
        graph.add_edge(vertices[edge.from], vertices[edge.to], edge.kind);
    }
    graph
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn edge(from: usize, to: usize, at: usize) -> Edge {
        Edge {
            from,
            to,
            kind: EdgeKind::Call(0),
            span: at..at + 1,
        }
    }

    fn cycles(names: &[&str], edges: &[Edge]) -> Vec<(String, usize)> {
        let text = "0123456789";
        let mut sink = Sink::new(Path::new("t.toml"), text);
        check_cycles(&mut sink, names, edges);
        sink.finish()
            .into_iter()
            .map(|d| (d.message, d.span.start))
            .collect()
    }

    #[test]
    fn cycles_are_reported_as_paths_at_the_closing_edge() {
        let names = ["a", "b", "c"];
        let found = cycles(&names, &[edge(0, 1, 1), edge(1, 2, 2), edge(2, 0, 3)]);
        assert_eq!(
            found,
            [("dependency cycle: a -> b -> c -> a".to_string(), 3)]
        );
        let found = cycles(&names, &[edge(0, 1, 1), edge(1, 2, 2), edge(2, 1, 4)]);
        assert_eq!(found, [("dependency cycle: b -> c -> b".to_string(), 4)]);
    }

    #[test]
    fn diamonds_are_not_cycles() {
        let names = ["a", "b", "c", "d"];
        let edges = [edge(0, 1, 1), edge(0, 2, 2), edge(1, 3, 3), edge(2, 3, 4)];
        assert!(cycles(&names, &edges).is_empty());
        let graph = build_graph(4, &edges);
        assert_eq!(graph.edge_count(), 4);
        assert!(!petgraph::algo::is_cyclic_directed(&graph));
    }

    #[test]
    fn unreachable_nodes_are_warnings() {
        let text = "0123456789";
        let mut sink = Sink::new(Path::new("t.toml"), text);
        let nodes = [("a", 0..1), ("b", 1..2), ("c", 2..3)];
        check_reachable(&mut sink, &nodes, &[edge(0, 1, 0)], &[0]);
        assert!(!sink.has_errors());
        let items = sink.finish();
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0].message,
            "node `c` is not reachable from any workload"
        );
    }
}
