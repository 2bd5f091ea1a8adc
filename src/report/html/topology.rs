//! The dependency graph laid out by zones, with the blast radius coloured on it.
//!
//! Zones are columns and third parties a column of their own, outside the zones; every node
//! has a row (rows in call order: a node sits below everything that calls it), and a box in
//! each zone it is placed in. Calls are drawn the way the simulator routes them: to the
//! callee's box in the caller's zone, to a database's primary zone, to the one box of an
//! external. Arrows are routed orthogonally through the channels between rows and the gutters
//! between boxes, so no arrow crosses a box. Workloads enter from the top.

use super::routing::{Anchor, Metrics, Routing, route};
use super::svg::{Path, Svg, num};
use crate::analysis::BlastRadius;
use crate::analysis::findings::Findings;
use crate::model::{FaultKind, FaultTarget, NodeKind, Role, Scenario, Topology};

const WIDTH: f64 = 1100.0;
/// The row labels' area, left of the columns.
const LABELS: f64 = 182.0;
const RIGHT: f64 = 6.0;
const BOX_W: f64 = 150.0;
const BOX_H: f64 = 46.0;
const PILL_H: f64 = 28.0;
/// The zone name's strip at the top of each column.
const HEADER: f64 = 30.0;
const LANE: f64 = 7.0;
const ARROW: f64 = 7.0;
/// A node whose error rate rose by this much (one percentage point) is red, not amber.
const ERRORS_ROSE: f64 = 0.01;

/// How the faults and the blast radius mark the picture.
struct Marks {
    /// Per zone: 2 = taken down (outage, crash), 1 = otherwise targeted (partition, monkey).
    zone: Vec<u8>,
    /// Per zone, what the faults do to it, for its header.
    zone_notes: Vec<&'static str>,
    /// Per node and zone (`None` for externals): the fault acts on this box.
    target: Vec<(usize, Option<usize>)>,
    /// Calls a fault acts on, as (caller, callee).
    edges: Vec<(usize, usize)>,
    /// Workloads a fault acts on.
    workloads: Vec<usize>,
    /// Per node: 2 = its errors rose, 1 = it deviated otherwise, 0 = untouched.
    harm: Vec<u8>,
}

impl Marks {
    /// Marks a zone, the strongest fault winning its header.
    fn mark_zone(&mut self, zone: usize, level: u8, note: &'static str) {
        if level > self.zone[zone] {
            self.zone[zone] = level;
            self.zone_notes[zone] = note;
        }
    }
}

/// Column and box widths.
#[derive(Clone, Copy)]
struct Geometry {
    column_w: f64,
    box_w: f64,
}

impl Geometry {
    fn column_left(&self, column: usize) -> f64 {
        LABELS + column as f64 * self.column_w
    }

    /// Boxes are centred in their column.
    fn box_x(&self, column: usize) -> f64 {
        self.column_left(column) + (self.column_w - self.box_w) / 2.0
    }
}

struct NodeBox {
    node: usize,
    zone: Option<usize>,
    row: usize,
    column: usize,
    /// Left edge; the top comes from the row.
    x: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Source {
    Box(usize),
    Pill(usize),
}

struct Edge {
    source: Source,
    target: usize,
    class: &'static str,
}

struct Pill {
    workload: usize,
    text: String,
    x: f64,
    width: f64,
}

/// The SVG; `id` makes the pattern ids unique on a page with several scenarios.
pub fn graph(scenario: &Scenario, doc: &Findings, id: &str) -> String {
    let topology = &scenario.topology;
    let marks = marks(scenario, doc.blast_radius.as_ref());
    let rows = row_order(topology);
    let externals = topology.nodes.iter().any(|n| n.zones.is_empty());
    let columns = topology.zones.len() + usize::from(externals);
    let column_w = (WIDTH - LABELS - RIGHT) / columns.max(1) as f64;
    let geometry = Geometry {
        column_w,
        box_w: BOX_W.min(column_w - 56.0),
    };
    let boxes = layout_boxes(topology, &rows, &geometry);
    let pills = layout_pills(topology, &boxes, &geometry);
    let edges = edges(topology, &boxes, &marks);
    let routing = route_edges(&boxes, &pills, &edges, rows.len(), &geometry);
    let height = routing.tops[rows.len()] + 6.0;
    let mut svg = Svg::new(WIDTH, height, "chart graph", "dependency graph by zone");
    svg.raw(&format!(
        "<defs><pattern id=\"{id}-hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect class=\"hatch-line\" width=\"2.5\" height=\"8\"/></pattern>\
         <pattern id=\"{id}-hatch-light\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect class=\"hatch-line-light\" width=\"2\" height=\"8\"/></pattern></defs>"
    ));
    let band_top = routing.tops.first().copied().unwrap_or(0.0) - HEADER - 4.0;
    let band_h = height - band_top - 2.0;
    for c in 0..columns {
        let zone = (c < topology.zones.len()).then_some(c);
        draw_column(
            &mut svg,
            topology,
            &marks,
            &geometry,
            c,
            zone,
            (band_top, band_h),
            id,
        );
    }
    for (r, &node) in rows.iter().enumerate() {
        row_label(&mut svg, topology, doc, node, routing.tops[r]);
    }
    draw_edges(&mut svg, &edges, &routing, &boxes, geometry.box_w);
    for b in &boxes {
        let top = routing.tops[b.row];
        draw_box(&mut svg, topology, &marks, b, top, geometry.box_w, id);
    }
    for pill in &pills {
        let class = if marks.workloads.contains(&pill.workload) {
            "pill pill-target"
        } else {
            "pill"
        };
        svg.rounded(pill.x, 2.0, pill.width, PILL_H, PILL_H / 2.0, class);
        svg.text(
            pill.x + pill.width / 2.0,
            20.5,
            "middle",
            "pill-text",
            &pill.text,
        );
    }
    svg.finish()
}

/// A zone's column (or the third parties'), hatched when a fault acts on the zone.
#[allow(clippy::too_many_arguments)]
fn draw_column(
    svg: &mut Svg,
    topology: &Topology,
    marks: &Marks,
    geometry: &Geometry,
    column: usize,
    zone: Option<usize>,
    (top, height): (f64, f64),
    id: &str,
) {
    let x = geometry.column_left(column) + 4.0;
    let w = geometry.column_w - 8.0;
    let class = if zone.is_some() {
        "zone"
    } else {
        "zone-external"
    };
    svg.rounded(x, top, w, height, 8.0, class);
    let level = zone.map_or(0, |z| marks.zone[z]);
    if level > 0 {
        let fill = if level == 2 { "hatch" } else { "hatch-light" };
        svg.raw(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"url(#{id}-{fill})\"/>",
            num(x),
            num(top),
            num(w),
            num(height)
        ));
        let note = zone.map_or("", |z| marks.zone_notes[z]);
        svg.text(x + w - 12.0, top + 20.0, "end", "zone-fault", note);
    }
    let name = zone.map_or("third parties", |z| &topology.zones[z]);
    svg.text(x + 12.0, top + 20.0, "start", "zone-name", name);
}

/// Boxes first, then pills, as the router's anchors; the edges as links between them.
fn route_edges(
    boxes: &[NodeBox],
    pills: &[Pill],
    edges: &[Edge],
    rows: usize,
    geometry: &Geometry,
) -> Routing {
    let anchors: Vec<Anchor> = boxes
        .iter()
        .map(|b| Anchor {
            row: Some(b.row),
            column: b.column,
            x: b.x,
            width: geometry.box_w,
        })
        .chain(pills.iter().map(|p| Anchor {
            row: None,
            column: usize::MAX,
            x: p.x,
            width: p.width,
        }))
        .collect();
    let links: Vec<(usize, usize)> = edges
        .iter()
        .map(|e| match e.source {
            Source::Box(s) => (s, e.target),
            Source::Pill(p) => (boxes.len() + p, e.target),
        })
        .collect();
    let metrics = Metrics {
        pill_h: PILL_H,
        box_h: BOX_H,
        header: HEADER,
        lane: LANE,
        arrow: ARROW,
    };
    route(
        &anchors,
        &links,
        rows,
        &|c| geometry.column_left(c),
        &metrics,
    )
}

fn marks(scenario: &Scenario, blast: Option<&BlastRadius>) -> Marks {
    let topology = &scenario.topology;
    let mut marks = Marks {
        zone: vec![0; topology.zones.len()],
        zone_notes: vec![""; topology.zones.len()],
        target: Vec::new(),
        edges: Vec::new(),
        workloads: Vec::new(),
        harm: vec![0; topology.nodes.len()],
    };
    for fault in &scenario.faults {
        let down = matches!(
            fault.kind,
            FaultKind::ZoneOutage { .. } | FaultKind::Crash { .. }
        );
        match &fault.target {
            FaultTarget::Zone(z) if down => marks.mark_zone(z.index(), 2, "fault: down"),
            FaultTarget::Zone(z) => marks.mark_zone(z.index(), 1, "fault"),
            FaultTarget::ZoneCut(zones) => {
                for z in zones {
                    marks.mark_zone(z.index(), 1, "fault: cut off");
                }
            }
            FaultTarget::Node(n) => {
                let node = topology.node(*n);
                if node.zones.is_empty() {
                    marks.target.push((n.index(), None));
                }
                for z in &node.zones {
                    marks.target.push((n.index(), Some(z.index())));
                }
            }
            FaultTarget::NodeInZone(n, z) => marks.target.push((n.index(), Some(z.index()))),
            FaultTarget::Nodes(nodes) => {
                for n in nodes {
                    for z in &topology.node(*n).zones {
                        marks.target.push((n.index(), Some(z.index())));
                    }
                }
            }
            FaultTarget::Edge { from, to } => marks.edges.push((from.index(), to.index())),
            FaultTarget::Workload(w) => marks.workloads.push(w.index()),
        }
    }
    for harm in blast.map_or(&[][..], |b| &b.nodes) {
        if let Some(n) = topology.node_id(&harm.node) {
            let errors_rose = harm.experiment_error_rate - harm.control_error_rate >= ERRORS_ROSE;
            marks.harm[n.index()] = if errors_rose { 2 } else { 1 };
        }
    }
    marks
}

/// Nodes top to bottom: by the longest call path from a node nobody calls, then model order.
fn row_order(topology: &Topology) -> Vec<usize> {
    let n = topology.nodes.len();
    let mut depth = vec![0usize; n];
    // The graph is acyclic, so n passes settle every longest path.
    for _ in 0..n {
        let mut changed = false;
        for edge in topology.graph.raw_edges() {
            let (from, to) = (edge.source().index(), edge.target().index());
            if depth[to] < depth[from] + 1 {
                depth[to] = depth[from] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut rows: Vec<usize> = (0..n).collect();
    rows.sort_by_key(|&i| (depth[i], i));
    rows
}

fn layout_boxes(topology: &Topology, rows: &[usize], geometry: &Geometry) -> Vec<NodeBox> {
    let external = topology.zones.len();
    let mut boxes = Vec::new();
    for (row, &node) in rows.iter().enumerate() {
        let zones = &topology.nodes[node].zones;
        let placed: Vec<(Option<usize>, usize)> = if zones.is_empty() {
            vec![(None, external)]
        } else {
            zones.iter().map(|z| (Some(z.index()), z.index())).collect()
        };
        for (zone, column) in placed {
            boxes.push(NodeBox {
                node,
                zone,
                row,
                column,
                x: geometry.box_x(column),
            });
        }
    }
    boxes
}

fn layout_pills(topology: &Topology, boxes: &[NodeBox], geometry: &Geometry) -> Vec<Pill> {
    let width = geometry.box_w;
    let mut pills: Vec<Pill> = topology
        .workloads
        .iter()
        .enumerate()
        .map(|(w, workload)| {
            let text = format!(
                "{} · {} req/s",
                workload.name,
                super::count(workload.rate_per_s.round() as u64)
            );
            let pill_w = 7.2 * text.chars().count() as f64 + 32.0;
            let centres: Vec<f64> = boxes
                .iter()
                .filter(|b| b.node == workload.target.index())
                .map(|b| b.x + width / 2.0)
                .collect();
            let centre = centres.iter().sum::<f64>() / centres.len().max(1) as f64;
            Pill {
                workload: w,
                text,
                x: centre - pill_w / 2.0,
                width: pill_w,
            }
        })
        .collect();
    // Side by side, in model order, never overlapping.
    let mut right = LABELS;
    for pill in &mut pills {
        pill.x = pill.x.max(right);
        right = pill.x + pill.width + 12.0;
    }
    pills
}

/// Every call as the simulator routes it, and each workload's entry into its target's boxes.
fn edges(topology: &Topology, boxes: &[NodeBox], marks: &Marks) -> Vec<Edge> {
    let mut edges = Vec::new();
    for (w, workload) in topology.workloads.iter().enumerate() {
        for (t, _) in boxes
            .iter()
            .enumerate()
            .filter(|(_, b)| b.node == workload.target.index())
        {
            edges.push(Edge {
                source: Source::Pill(w),
                target: t,
                class: "edge edge-entry",
            });
        }
    }
    let mut seen: Vec<(usize, usize)> = Vec::new();
    for e in topology.graph.raw_edges() {
        let (from, to) = (e.source().index(), e.target().index());
        if seen.contains(&(from, to)) {
            continue;
        }
        seen.push((from, to));
        let primary = match topology.nodes[to].role {
            Role::Database { primary, .. } => Some(primary.index()),
            _ => None,
        };
        for (s, source) in boxes.iter().enumerate().filter(|(_, b)| b.node == from) {
            let callee: Vec<usize> = boxes
                .iter()
                .enumerate()
                .filter(|(_, b)| b.node == to)
                .map(|(t, _)| t)
                .collect();
            let wanted = primary.or(source.zone);
            let chosen: Vec<usize> = match callee.iter().find(|&&t| boxes[t].zone == wanted) {
                Some(&t) => vec![t],
                // An external, or no replica in the caller's zone: any of them.
                None => callee,
            };
            for t in chosen {
                let cross = source.zone.is_some()
                    && boxes[t].zone.is_some()
                    && source.zone != boxes[t].zone;
                let class = if marks.edges.contains(&(from, to)) {
                    "edge edge-fault"
                } else if cross {
                    "edge edge-cross"
                } else {
                    "edge"
                };
                edges.push(Edge {
                    source: Source::Box(s),
                    target: t,
                    class,
                });
            }
        }
    }
    edges
}

/// The arrows, then one arrowhead per target box.
fn draw_edges(svg: &mut Svg, edges: &[Edge], routing: &Routing, boxes: &[NodeBox], width: f64) {
    let mut heads: Vec<usize> = Vec::new();
    for (edge, points) in edges.iter().zip(&routing.paths) {
        let mut path = Path::default();
        for &point in points {
            path.point(Some(point));
        }
        svg.path(&path.finish(), edge.class, "");
        push_once(&mut heads, edge.target);
    }
    for t in heads {
        let b = &boxes[t];
        let (x, y) = (b.x + width / 2.0, routing.tops[b.row]);
        let mut head = Path::default();
        head.move_to(x - 4.5, y - ARROW);
        head.line_to(x + 4.5, y - ARROW);
        head.line_to(x, y);
        head.close();
        svg.path(&head.finish(), "arrow", "");
    }
}

fn push_once(list: &mut Vec<usize>, item: usize) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn draw_box(
    svg: &mut Svg,
    topology: &Topology,
    marks: &Marks,
    b: &NodeBox,
    top: f64,
    width: f64,
    id: &str,
) {
    let class = match marks.harm[b.node] {
        2 => "node node-red",
        1 => "node node-amber",
        _ => "node",
    };
    svg.rounded(b.x, top, width, BOX_H, 6.0, class);
    if b.zone.is_some_and(|z| marks.zone[z] == 2) {
        svg.raw(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"url(#{id}-hatch)\"/>",
            num(b.x),
            num(top),
            num(width),
            num(BOX_H)
        ));
    }
    if marks.target.contains(&(b.node, b.zone)) {
        svg.rounded(
            b.x - 4.0,
            top - 4.0,
            width + 8.0,
            BOX_H + 8.0,
            9.0,
            "node-target",
        );
    }
    let node = &topology.nodes[b.node];
    let cx = b.x + width / 2.0;
    svg.text(cx, top + 19.0, "middle", "node-name", &node.name);
    svg.text(
        cx,
        top + 35.0,
        "middle",
        "node-detail",
        &detail(node, b.zone),
    );
}

/// The box's second line: kind, replicas, and the zone's role for a database.
fn detail(node: &crate::model::Node, zone: Option<usize>) -> String {
    let replicas = match node.replicas_per_zone {
        1 => "1 replica".to_string(),
        n => format!("{n} replicas"),
    };
    match (&node.role, zone) {
        (Role::Database { primary, .. }, Some(z)) if primary.index() == z => {
            format!("primary · {replicas}")
        }
        (Role::Database { .. }, _) => format!("standby · {replicas}"),
        (Role::Cache { hit_ratio, .. }, _) => {
            format!("cache · hit {}%", num(hit_ratio * 100.0))
        }
        (Role::External { .. }, _) => "external".to_string(),
        (Role::Queue(_), _) => format!("queue · {replicas}"),
        (Role::Service, _) => format!("{} · {replicas}", NodeKind::Service.as_str()),
    }
}

fn row_label(svg: &mut Svg, topology: &Topology, doc: &Findings, node: usize, top: f64) {
    let node = &topology.nodes[node];
    svg.text(0.0, top + 18.0, "start", "row-name", &node.name);
    let harm = doc
        .blast_radius
        .as_ref()
        .and_then(|b| b.nodes.iter().find(|h| h.node == node.name));
    let Some(harm) = harm else {
        svg.text(0.0, top + 34.0, "start", "row-detail", node.kind.as_str());
        return;
    };
    let mut lines = Vec::new();
    if harm.experiment_error_rate > harm.control_error_rate {
        lines.push(format!(
            "errors {} → {}",
            super::percent(harm.control_error_rate),
            super::percent(harm.experiment_error_rate)
        ));
    }
    if harm.experiment_p99_ns > harm.control_p99_ns {
        lines.push(format!(
            "p99 {} → {}",
            crate::kernel::time::format_duration_ns(harm.control_p99_ns),
            crate::kernel::time::format_duration_ns(harm.experiment_p99_ns)
        ));
    }
    let errors_rose = harm.experiment_error_rate - harm.control_error_rate >= ERRORS_ROSE;
    let class = if errors_rose {
        "row-harm"
    } else {
        "row-harm-amber"
    };
    for (i, line) in lines.iter().enumerate() {
        svg.text(0.0, top + 34.0 + 14.0 * i as f64, "start", class, line);
    }
}
