//! A model's dependency graph as Graphviz DOT or Mermaid: pure functions of the `Topology`.
//!
//! Nodes are labelled with their kind and placement (replicas per zone × zones) and grouped by
//! where they run: one group per distinct set of zones ("zones az-a, az-b, az-c" holds every
//! node placed in all three), which keeps one box per node and one arrow per call however many
//! zones a node spans; externals and workloads stand outside the groups. Edges come from
//! `Topology::graph` in its order and carry the call's policy (timeout, retries, probability);
//! optional calls are dashed, a cache's backing is bold and labelled "on miss". Everything is
//! in model order, so the output is byte-identical for the same model.

use std::collections::BTreeMap;

use petgraph::visit::EdgeRef;

use crate::kernel::time::format_duration_ns;
use crate::model::{Call, EdgeKind, Node, NodeId, NodeKind, OnUnavailable, Role, Topology, ZoneId};

/// What a report marks on the graph, by node name.
pub type Highlights = BTreeMap<String, Highlight>;

/// A node's mark: its Mermaid class — `"errors"`, `"slower"`, `"degraded"`, `"fault"` and
/// `"ok"` have styles; other names are emitted as classes for a page's own CSS — and a line
/// added under its label (what changed, say).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Highlight {
    pub class: String,
    pub note: Option<String>,
}

impl Highlight {
    pub fn class(class: &str) -> Highlight {
        Highlight {
            class: class.to_string(),
            note: None,
        }
    }
}

/// The styles of the highlight classes that `to_mermaid` knows.
const HIGHLIGHT_STYLES: [(&str, &str); 5] = [
    (
        "errors",
        "fill:#fecaca,stroke:#b91c1c,stroke-width:2px,color:#7f1d1d",
    ),
    (
        "slower",
        "fill:#fed7aa,stroke:#c2410c,stroke-width:2px,color:#7c2d12",
    ),
    (
        "degraded",
        "fill:#fef08a,stroke:#a16207,stroke-width:2px,color:#713f12",
    ),
    (
        "fault",
        "fill:#e9d5ff,stroke:#7e22ce,stroke-width:3px,color:#3b0764",
    ),
    ("ok", "fill:#dcfce7,stroke:#15803d,color:#14532d"),
];

/// Fill colours by kind, shared by both formats.
fn fill(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Service => "#dbeafe",
        NodeKind::Cache => "#fef3c7",
        NodeKind::Database => "#dcfce7",
        NodeKind::External => "#f1f5f9",
        NodeKind::Queue => "#fce7f3",
    }
}

/// The model as a Graphviz digraph (`dot -Tsvg`).
pub fn to_dot(topology: &Topology) -> String {
    let mut out = String::new();
    out.push_str(&format!("digraph {} {{\n", dot_quote(&topology.name)));
    out.push_str(&format!(
        "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, label={}, labelloc=t, \
         nodesep=0.4, ranksep=0.8];\n",
        dot_quote(&topology.name)
    ));
    out.push_str(
        "  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\"];\n",
    );
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9, color=\"#475569\"];\n");
    for (index, workload) in topology.workloads.iter().enumerate() {
        let label = format!(
            "{}\n{} req/s, {}",
            workload.name,
            number(workload.rate_per_s),
            arrival(topology, index)
        );
        out.push_str(&format!(
            "  {} [label={}, shape=oval, fillcolor=\"#ffffff\"];\n",
            dot_quote(&workload_id(&workload.name)),
            dot_quote(&label)
        ));
    }
    for (index, group) in zone_groups(topology).iter().enumerate() {
        out.push_str(&format!(
            "  subgraph \"cluster_{index}\" {{\n    label={};\n    style=\"rounded,dashed\";\n    \
             color=\"#94a3b8\";\n    fontsize=11;\n",
            dot_quote(&group.label(topology))
        ));
        for &id in &group.nodes {
            out.push_str(&format!("    {}\n", dot_node(topology, id)));
        }
        out.push_str("  }\n");
    }
    for (index, node) in topology.nodes.iter().enumerate() {
        if node.zones.is_empty() {
            out.push_str(&format!("  {}\n", dot_node(topology, NodeId(index as u32))));
        }
    }
    for workload in &topology.workloads {
        let label = workload
            .timeout_ns
            .map(|t| format!("timeout {}", format_duration_ns(t)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {} -> {} [label={}];\n",
            dot_quote(&workload_id(&workload.name)),
            dot_quote(&topology.node(workload.target).name),
            dot_quote(&label)
        ));
    }
    for edge in edges(topology) {
        let style = match edge.style {
            EdgeStyle::Call => "",
            EdgeStyle::Optional => ", style=dashed",
            EdgeStyle::Backing => ", style=bold",
        };
        out.push_str(&format!(
            "  {} -> {} [label={}{style}];\n",
            dot_quote(&topology.node(edge.from).name),
            dot_quote(&topology.node(edge.to).name),
            dot_quote(&edge.label)
        ));
    }
    out.push_str("}\n");
    out
}

/// The model as a Mermaid flowchart; `highlights` gives nodes (by name) a class, such as the
/// nodes a fault hurt.
pub fn to_mermaid(topology: &Topology, highlights: Option<&Highlights>) -> String {
    let mut out = String::from("flowchart LR\n");
    for (index, workload) in topology.workloads.iter().enumerate() {
        let label = format!(
            "{}<br/>{} req/s, {}",
            mermaid_text(&workload.name),
            number(workload.rate_per_s),
            arrival(topology, index)
        );
        out.push_str(&format!("  w{index}([\"{label}\"])\n"));
    }
    for (index, group) in zone_groups(topology).iter().enumerate() {
        out.push_str(&format!(
            "  subgraph z{index}[\"{}\"]\n",
            mermaid_text(&group.label(topology))
        ));
        for &id in &group.nodes {
            out.push_str(&format!("    {}\n", mermaid_node(topology, id, highlights)));
        }
        out.push_str("  end\n");
    }
    for (index, node) in topology.nodes.iter().enumerate() {
        if node.zones.is_empty() {
            let id = NodeId(index as u32);
            out.push_str(&format!("  {}\n", mermaid_node(topology, id, highlights)));
        }
    }
    for (index, workload) in topology.workloads.iter().enumerate() {
        let target = workload.target.index();
        match workload.timeout_ns {
            Some(t) => out.push_str(&format!(
                "  w{index} -->|\"timeout {}\"| n{target}\n",
                format_duration_ns(t)
            )),
            None => out.push_str(&format!("  w{index} --> n{target}\n")),
        }
    }
    for edge in edges(topology) {
        let arrow = match edge.style {
            EdgeStyle::Call => "-->",
            EdgeStyle::Optional => "-.->",
            EdgeStyle::Backing => "==>",
        };
        let (from, to) = (edge.from.index(), edge.to.index());
        if edge.label.is_empty() {
            out.push_str(&format!("  n{from} {arrow} n{to}\n"));
        } else {
            let label = mermaid_text(&edge.label);
            out.push_str(&format!("  n{from} {arrow}|\"{label}\"| n{to}\n"));
        }
    }
    out.push_str(&mermaid_classes(topology, highlights));
    out
}

/// `classDef`s for the kinds and the highlights, then one `class` line per node.
fn mermaid_classes(topology: &Topology, highlights: Option<&Highlights>) -> String {
    let mut out = String::new();
    for kind in [
        NodeKind::Service,
        NodeKind::Cache,
        NodeKind::Database,
        NodeKind::External,
        NodeKind::Queue,
    ] {
        // Only models with queues get the queue class, so other graphs keep their bytes.
        if kind == NodeKind::Queue && !topology.nodes.iter().any(|n| n.kind == kind) {
            continue;
        }
        out.push_str(&format!(
            "  classDef {} fill:{},stroke:#334155,color:#0f172a\n",
            kind.as_str(),
            fill(kind)
        ));
    }
    out.push_str("  classDef workload fill:#ffffff,stroke:#334155,color:#0f172a\n");
    if let Some(highlights) = highlights {
        for (name, style) in HIGHLIGHT_STYLES {
            if highlights.values().any(|h| h.class == name) {
                out.push_str(&format!("  classDef {name} {style}\n"));
            }
        }
    }
    for (index, node) in topology.nodes.iter().enumerate() {
        let class = highlights
            .and_then(|h| h.get(&node.name))
            .map_or(node.kind.as_str(), |h| h.class.as_str());
        out.push_str(&format!("  class n{index} {}\n", mermaid_class(class)));
    }
    for index in 0..topology.workloads.len() {
        out.push_str(&format!("  class w{index} workload\n"));
    }
    out
}

/// Nodes placed in the same set of zones, in model order.
struct ZoneGroup {
    /// Sorted zone ids.
    zones: Vec<ZoneId>,
    nodes: Vec<NodeId>,
}

impl ZoneGroup {
    fn label(&self, topology: &Topology) -> String {
        let names: Vec<&str> = self
            .zones
            .iter()
            .map(|z| topology.zones[z.index()].as_str())
            .collect();
        let word = if names.len() == 1 { "zone" } else { "zones" };
        format!("{word} {}", names.join(", "))
    }
}

/// One group per distinct set of zones, ordered by the first node placed in it; externals
/// (no zones) are in none.
fn zone_groups(topology: &Topology) -> Vec<ZoneGroup> {
    let mut groups: Vec<ZoneGroup> = Vec::new();
    for (index, node) in topology.nodes.iter().enumerate() {
        if node.zones.is_empty() {
            continue;
        }
        let mut zones = node.zones.clone();
        zones.sort();
        let id = NodeId(index as u32);
        match groups.iter_mut().find(|g| g.zones == zones) {
            Some(group) => group.nodes.push(id),
            None => groups.push(ZoneGroup {
                zones,
                nodes: vec![id],
            }),
        }
    }
    groups
}

/// The second line of a node's label: kind, placement and what distinguishes its role.
fn placement(topology: &Topology, node: &Node) -> String {
    let kind = node.kind.as_str();
    if node.kind == NodeKind::External {
        return match node.role {
            Role::External { error_rate } if error_rate > 0.0 => {
                format!("{kind} · {}% errors", number(error_rate * 100.0))
            }
            _ => kind.to_string(),
        };
    }
    let zones = node.zones.len();
    let mut text = format!(
        "{kind} · {} × {zones} zone{}",
        node.replicas_per_zone,
        if zones == 1 { "" } else { "s" }
    );
    match node.role {
        Role::Cache { hit_ratio, .. } => {
            text.push_str(&format!(" · hit {}%", number(hit_ratio * 100.0)));
        }
        Role::Database { primary, .. } => {
            text.push_str(&format!(" · primary {}", topology.zones[primary.index()]));
        }
        Role::Queue(spec) => {
            text.push_str(&format!(" · {} partitions", spec.partitions));
        }
        Role::Service | Role::External { .. } => {}
    }
    text
}

fn dot_node(topology: &Topology, id: NodeId) -> String {
    let node = topology.node(id);
    let shape = match node.kind {
        NodeKind::Database => ", shape=cylinder, style=filled",
        NodeKind::External => ", style=\"rounded,filled,dashed\"",
        NodeKind::Queue => ", shape=box3d, style=filled",
        NodeKind::Service | NodeKind::Cache => "",
    };
    let mut label = format!("{}\n{}", node.name, placement(topology, node));
    if !node.labels.is_empty() {
        label.push('\n');
        label.push_str(&labels_line(node));
    }
    format!(
        "{} [label={}, fillcolor=\"{}\"{shape}];",
        dot_quote(&node.name),
        dot_quote(&label),
        fill(node.kind)
    )
}

fn mermaid_node(topology: &Topology, id: NodeId, highlights: Option<&Highlights>) -> String {
    let node = topology.node(id);
    let mut label = format!(
        "{}<br/>{}",
        mermaid_text(&node.name),
        mermaid_text(&placement(topology, node))
    );
    if !node.labels.is_empty() {
        label.push_str("<br/>");
        label.push_str(&mermaid_text(&labels_line(node)));
    }
    let note = highlights.and_then(|h| h.get(&node.name)?.note.as_deref());
    if let Some(note) = note {
        label.push_str("<br/>");
        label.push_str(&mermaid_text(note));
    }
    let index = id.index();
    match node.kind {
        NodeKind::Service => format!("n{index}[\"{label}\"]"),
        NodeKind::Cache => format!("n{index}[[\"{label}\"]]"),
        NodeKind::Database => format!("n{index}[(\"{label}\")]"),
        NodeKind::External => format!("n{index}{{{{\"{label}\"}}}}"),
        NodeKind::Queue => format!("n{index}[/\"{label}\"/]"),
    }
}

/// A node's labels on one line, as a selector would name them: `app=api tier=web`.
fn labels_line(node: &Node) -> String {
    let pairs: Vec<String> = node
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.join(" ")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EdgeStyle {
    Call,
    Optional,
    Backing,
}

struct DrawnEdge {
    from: NodeId,
    to: NodeId,
    label: String,
    style: EdgeStyle,
}

/// The graph's edges in its order, with their labels.
fn edges(topology: &Topology) -> Vec<DrawnEdge> {
    let graph = &topology.graph;
    graph
        .edge_references()
        .map(|edge| {
            let (from, to) = (graph[edge.source()], graph[edge.target()]);
            let node = topology.node(from);
            let (label, style) = match *edge.weight() {
                EdgeKind::Call(index) => match node.calls.get(index as usize) {
                    Some(call) if call.optional => (call_label(call), EdgeStyle::Optional),
                    Some(call) => (call_label(call), EdgeStyle::Call),
                    None => (String::new(), EdgeStyle::Call),
                },
                EdgeKind::Backing => (backing_label(&node.role), EdgeStyle::Backing),
                EdgeKind::Consume => (consume_label(&node.role), EdgeStyle::Backing),
            };
            DrawnEdge {
                from,
                to,
                label,
                style,
            }
        })
        .collect()
}

/// `consume, max 5 deliveries`: a queue's deliveries to its consumer.
fn consume_label(role: &Role) -> String {
    match role {
        Role::Queue(spec) => format!("consume, max {} deliveries", spec.max_deliveries),
        _ => "consume".to_string(),
    }
}

/// `timeout 300ms, 2 retries, 30%, optional` (and `deadline propagated` for a call that
/// hands its deadline on).
fn call_label(call: &Call) -> String {
    let mut parts = Vec::new();
    if let Some(timeout) = call.timeout_ns {
        parts.push(format!("timeout {}", format_duration_ns(timeout)));
    }
    match call.retries {
        0 => {}
        1 => parts.push("1 retry".to_string()),
        n => parts.push(format!("{n} retries")),
    }
    if call.probability < 1.0 {
        parts.push(format!("{}%", number(call.probability * 100.0)));
    }
    if call.optional {
        parts.push("optional".to_string());
    }
    if call.deadline == crate::model::Deadline::Propagate {
        parts.push("deadline propagated".to_string());
    }
    parts.join(", ")
}

fn backing_label(role: &Role) -> String {
    match role {
        Role::Cache {
            on_unavailable: OnUnavailable::Fallthrough,
            ..
        } => "on miss or unavailable".to_string(),
        _ => "on miss".to_string(),
    }
}

fn arrival(topology: &Topology, workload: usize) -> &'static str {
    match topology.workloads[workload].arrival {
        crate::model::Arrival::Poisson => "poisson",
        crate::model::Arrival::Constant => "constant",
    }
}

fn workload_id(name: &str) -> String {
    format!("workload:{name}")
}

/// A number with at most two decimals and no trailing zeros: `1000`, `12.5`, `0.1`.
fn number(x: f64) -> String {
    let text = format!("{x:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// DOT string literals and Mermaid label text: the one escape of each, in `escape`.
use super::escape::{dot_string as dot_quote, mermaid_label as mermaid_text};

/// A class name Mermaid accepts: letters, digits, `-` and `_`.
fn mermaid_class(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::parse_model;

    const MODEL: &str = r#"
name = "m \"q\""
zones = ["a", "b"]

[workload.web]
target = "front"
rate = 12.5
arrival = "constant"

[service.front]
zones = ["b", "a"]
service_time = { dist = "constant", value = "1ms" }
calls = [
  { to = "c", timeout = "5ms", retries = 1 },
  { to = "x", probability = 0.25, optional = true },
]

[cache.c]
zones = ["a"]
service_time = { dist = "constant", value = "1ms" }
hit_ratio = 0.5
backing = "db"
on_unavailable = "fail"

[database.db]
zones = ["a"]
primary = "a"
service_time = { dist = "constant", value = "1ms" }

[external."x#<y>"]
latency = { dist = "constant", value = "1ms" }
"#;

    fn model() -> Topology {
        let text = MODEL.replace("\"x\"", "\"x#<y>\"");
        parse_model(Path::new("m.toml"), &text).unwrap_or_else(|d| panic!("{d}"))
    }

    #[test]
    fn nodes_in_the_same_zones_share_a_group() {
        let topology = model();
        let groups = zone_groups(&topology);
        let labels: Vec<String> = groups.iter().map(|g| g.label(&topology)).collect();
        assert_eq!(labels, ["zones a, b", "zone a"]);
        assert_eq!(groups[1].nodes, [NodeId(1), NodeId(2)]);
    }

    #[test]
    fn dot_quotes_names_and_styles_edges() {
        let dot = to_dot(&model());
        assert!(dot.starts_with("digraph \"m \\\"q\\\"\" {\n"), "{dot}");
        assert!(
            dot.contains("\"front\" -> \"c\" [label=\"timeout 5ms, 1 retry\"];"),
            "{dot}"
        );
        assert!(
            dot.contains("\"front\" -> \"x#<y>\" [label=\"25%, optional\", style=dashed];"),
            "{dot}"
        );
        assert!(
            dot.contains("\"c\" -> \"db\" [label=\"on miss\", style=bold];"),
            "{dot}"
        );
        assert!(
            dot.contains("\"workload:web\" -> \"front\" [label=\"\"];"),
            "{dot}"
        );
    }

    #[test]
    fn mermaid_escapes_labels_and_applies_highlights() {
        let topology = model();
        let mut highlights = Highlights::new();
        highlights.insert(
            "db".to_string(),
            Highlight {
                class: "errors".to_string(),
                note: Some("errors 0% → 5%".to_string()),
            },
        );
        highlights.insert("c".to_string(), Highlight::class("my class"));
        let text = to_mermaid(&topology, Some(&highlights));
        assert!(
            text.contains("n3{{\"x#35;#lt;y#gt;<br/>external\"}}"),
            "{text}"
        );
        assert!(text.contains("  n1 ==>|\"on miss\"| n2\n"), "{text}");
        assert!(text.contains("  n0 -.->|\"25%, optional\"| n3\n"), "{text}");
        assert!(text.contains("  classDef errors fill:#fecaca"), "{text}");
        assert!(!text.contains("classDef slower"), "{text}");
        assert!(text.contains("  class n2 errors\n"), "{text}");
        assert!(text.contains("<br/>errors 0% → 5%\")]"), "{text}");
        assert!(text.contains("  class n1 my_class\n"), "{text}");
        assert!(text.contains("  class n0 service\n"), "{text}");
        assert_eq!(text, to_mermaid(&topology, Some(&highlights)));
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(1000.0), "1000");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(30.000000000000004), "30");
        assert_eq!(number(0.1), "0.1");
    }
}
