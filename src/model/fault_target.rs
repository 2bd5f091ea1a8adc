//! A fault's target and selection: the keys `node`, `nodes`, `edge`, `zone`, `zones` and
//! `workload` read in the shapes each kind accepts, resolved against the model and checked
//! against what the kind can act on (an external has no replicas, cache faults need a cache, a
//! node restricted to a zone must be placed there); `count` / `percent`; and the warnings for a
//! fault that takes less than it says.

use super::codes::Code;
use super::fault::{FaultKind, FaultTarget, Selection};
use super::fault_kinds::{FaultKindTag as Kind, TargetKind};
use super::reader::{Fields, Sink, Value, conflict, quote_list};
use super::resolve::{self, caches_help};
use super::topology::{NodeId, NodeKind, Topology, ZoneId};

/// The target, or `None` after reporting why (or when the model did not load). Dispatched on
/// the kind's `TargetKind`, exhaustively.
pub(super) fn read_target(
    sink: &mut Sink<'_>,
    fields: &Fields<'_, '_>,
    kind: Kind,
    topology: Option<&Topology>,
) -> Option<FaultTarget> {
    let one = |key: &str| fields.get(key);
    match kind.spec().target {
        TargetKind::Zone | TargetKind::ShiftedZone => match one("zone") {
            Some(zone) => resolve::zone(sink, "zone", zone, topology).map(FaultTarget::Zone),
            None => missing_target(sink, fields, kind),
        },
        TargetKind::ZoneCut => zone_cut(sink, fields, kind, topology),
        TargetKind::Edge => match one("edge") {
            Some(edge) => edge_target(sink, edge, topology),
            None => missing_target(sink, fields, kind),
        },
        TargetKind::Workload => match one("workload") {
            Some(w) => resolve::workload(sink, "workload", w, topology).map(FaultTarget::Workload),
            None => missing_target(sink, fields, kind),
        },
        TargetKind::NodeOrEdge => node_or_edge(sink, fields, kind, topology),
        TargetKind::Replicas
        | TargetKind::CacheReplicas
        | TargetKind::ReplicasOrZone
        | TargetKind::ReplicasOrZoneOrSet => replicas(sink, fields, kind, topology),
    }
}

fn missing_target(sink: &mut Sink<'_>, fields: &Fields<'_, '_>, kind: Kind) -> Option<FaultTarget> {
    sink.error(
        Code::MissingKey,
        fields.span(),
        format!(
            "missing target in this `{}` fault: it needs {}",
            kind.name(),
            kind.spec().target.needs()
        ),
    )
    .label("this fault has no target");
    None
}

fn edge_target(
    sink: &mut Sink<'_>,
    value: &Value<'_>,
    topology: Option<&Topology>,
) -> Option<FaultTarget> {
    resolve::edge(sink, "edge", value, topology).map(|(from, to)| FaultTarget::Edge { from, to })
}

fn node_or_edge(
    sink: &mut Sink<'_>,
    fields: &Fields<'_, '_>,
    kind: Kind,
    topology: Option<&Topology>,
) -> Option<FaultTarget> {
    match (fields.get("node"), fields.get("edge")) {
        (Some(node), Some(edge)) => {
            conflict(sink, ("node", node), ("edge", edge))
                .help("a fault on a node acts on every call to it; on an edge, on one caller's");
            None
        }
        (Some(node), None) => resolve::node(sink, "node", node, topology).map(FaultTarget::Node),
        (None, Some(edge)) => edge_target(sink, edge, topology),
        (None, None) => missing_target(sink, fields, kind),
    }
}

/// `zones = [..]` or a single `zone`, cut from all the others.
fn zone_cut(
    sink: &mut Sink<'_>,
    fields: &Fields<'_, '_>,
    kind: Kind,
    topology: Option<&Topology>,
) -> Option<FaultTarget> {
    match (fields.get("zones"), fields.get("zone")) {
        (Some(zones), Some(zone)) => {
            conflict(sink, ("zones", zones), ("zone", zone));
            None
        }
        (Some(zones), None) => {
            let ids = name_list(sink, "zones", zones, |sink, item| {
                resolve::zone(sink, "zones", item, topology)
            })?;
            Some(FaultTarget::ZoneCut(ids))
        }
        (None, Some(zone)) => {
            resolve::zone(sink, "zone", zone, topology).map(|z| FaultTarget::ZoneCut(vec![z]))
        }
        (None, None) => missing_target(sink, fields, kind),
    }
}

/// A non-empty list of names, each once, resolved with `resolve`.
fn name_list<T: PartialEq>(
    sink: &mut Sink<'_>,
    key: &str,
    value: &Value<'_>,
    mut resolve: impl FnMut(&mut Sink<'_>, &Value<'_>) -> Option<T>,
) -> Option<Vec<T>> {
    let items = sink.array(key, value)?;
    if items.is_empty() {
        sink.out_of_range(key, value, "an empty list", "at least one name");
        return None;
    }
    let mut ids = Vec::new();
    let mut ok = true;
    for item in items {
        match resolve(sink, item) {
            Some(id) if ids.contains(&id) => {
                sink.error(
                    Code::DuplicateName,
                    item.span(),
                    format!("this name is listed twice in `{key}`"),
                )
                .label("already listed");
                ok = false;
            }
            Some(id) => ids.push(id),
            None => ok = false,
        }
    }
    ok.then_some(ids)
}

/// Targets with replicas: `node` (with an optional `zone`), a `zone` alone for crashes and
/// chaos monkeys, `nodes` for chaos monkeys.
fn replicas(
    sink: &mut Sink<'_>,
    fields: &Fields<'_, '_>,
    kind: Kind,
    topology: Option<&Topology>,
) -> Option<FaultTarget> {
    let (node, zone) = (fields.get("node"), fields.get("zone"));
    let target = kind.spec().target;
    let nodes = fields
        .get("nodes")
        .filter(|_| target == TargetKind::ReplicasOrZoneOrSet);
    if let Some(nodes) = nodes {
        return node_set(
            sink,
            kind,
            nodes,
            [("node", node), ("zone", zone)],
            topology,
        );
    }
    match (node, zone) {
        (Some(node), zone) => node_target(sink, kind, node, zone, topology),
        (None, Some(zone)) if target.takes_zone_alone() => {
            resolve::zone(sink, "zone", zone, topology).map(FaultTarget::Zone)
        }
        (None, _) => missing_target(sink, fields, kind),
    }
}

/// A zonal shift's `nodes`: services and caches placed in its `zone` (every one when absent:
/// an empty list). A database is served in its primary zone and an external has no zones, so
/// neither can be shifted.
pub(super) fn shift_nodes(
    sink: &mut Sink<'_>,
    fields: &Fields<'_, '_>,
    topology: Option<&Topology>,
) -> Option<Vec<NodeId>> {
    let Some(nodes) = fields.get("nodes") else {
        return Some(Vec::new());
    };
    let zone = fields
        .get("zone")
        .and_then(|z| sink.string("zone", z).map(str::to_string));
    name_list(sink, "nodes", nodes, |sink, item| {
        let id = resolve::node(sink, "nodes", item, topology)?;
        let topology = topology?;
        let node = topology.node(id);
        if matches!(node.kind, NodeKind::Database | NodeKind::External) {
            sink.error(
                Code::BadFaultTarget,
                item.span(),
                format!(
                    "a `zonal-shift` cannot move `{}`, {}",
                    node.name,
                    with_article(node.kind.as_str())
                ),
            )
            .label("only services and caches are shifted")
            .help("a database is served in its primary zone (it fails over instead); an external has no zones");
            return None;
        }
        let zone_id = zone.as_deref().and_then(|z| topology.zone_id(z))?;
        placed_in(sink, id, zone_id, item, topology).then_some(id)
    })
}

/// A chaos monkey's `nodes`, which excludes `node` and `zone` (`others`).
fn node_set(
    sink: &mut Sink<'_>,
    kind: Kind,
    nodes: &Value<'_>,
    others: [(&str, Option<&Value<'_>>); 2],
    topology: Option<&Topology>,
) -> Option<FaultTarget> {
    let mut clash = false;
    for (key, other) in others {
        if let Some(other) = other {
            conflict(sink, ("nodes", nodes), (key, other));
            clash = true;
        }
    }
    if clash {
        return None;
    }
    let ids = name_list(sink, "nodes", nodes, |sink, item| {
        let id = resolve::node(sink, "nodes", item, topology)?;
        acts_on(sink, kind, id, item, topology?).then_some(id)
    })?;
    Some(FaultTarget::Nodes(ids))
}

/// `node`, optionally restricted to the replicas in `zone`.
fn node_target(
    sink: &mut Sink<'_>,
    kind: Kind,
    node: &Value<'_>,
    zone: Option<&Value<'_>>,
    topology: Option<&Topology>,
) -> Option<FaultTarget> {
    let node_id = resolve::node(sink, "node", node, topology);
    let zone_id = zone.map(|z| resolve::zone(sink, "zone", z, topology));
    let (node_id, topology) = (node_id?, topology?);
    if !acts_on(sink, kind, node_id, node, topology) {
        return None;
    }
    let (Some(zone), Some(zone_id)) = (zone, zone_id) else {
        return Some(FaultTarget::Node(node_id));
    };
    let zone_id = zone_id?;
    placed_in(sink, node_id, zone_id, zone, topology).then_some(())?;
    Some(FaultTarget::NodeInZone(node_id, zone_id))
}

/// Whether a fault of `kind` can act on the node; reports it when not.
fn acts_on(
    sink: &mut Sink<'_>,
    kind: Kind,
    id: NodeId,
    value: &Value<'_>,
    topology: &Topology,
) -> bool {
    let node = topology.node(id);
    let target = kind.spec().target;
    if target.needs_replicas() && node.kind == NodeKind::External {
        sink.error(
            Code::BadFaultTarget,
            value.span(),
            format!(
                "a `{}` fault cannot act on `{}`, an external",
                kind.name(),
                node.name
            ),
        )
        .label("an external has no replicas")
        .help(format!(
            "for a third-party outage use `errors`, `blackhole` or `latency` on `{}`",
            node.name
        ));
        return false;
    }
    if target.needs_cache() && node.kind != NodeKind::Cache {
        sink.error(
            Code::BadFaultTarget,
            value.span(),
            format!(
                "a `{}` fault needs a cache, and `{}` is {}",
                kind.name(),
                node.name,
                with_article(node.kind.as_str())
            ),
        )
        .label("not a cache")
        .help(caches_help(topology));
        return false;
    }
    true
}

/// "a service", "an external".
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

/// Whether the node has replicas in the zone; reports it when not.
fn placed_in(
    sink: &mut Sink<'_>,
    id: NodeId,
    zone: ZoneId,
    value: &Value<'_>,
    topology: &Topology,
) -> bool {
    let node = topology.node(id);
    if node.zones.contains(&zone) {
        return true;
    }
    let zones: Vec<&str> = node
        .zones
        .iter()
        .map(|z| topology.zones[z.index()].as_str())
        .collect();
    let help = if zones.is_empty() {
        format!("`{}` is not placed in any zone", node.name)
    } else {
        format!("`{}` is placed in {}", node.name, quote_list(&zones))
    };
    sink.error(
        Code::BadFaultTarget,
        value.span(),
        format!(
            "`{}` is not placed in `{}`",
            node.name,
            topology.zones[zone.index()]
        ),
    )
    .label(format!("no replica of `{}` here", node.name))
    .help(help);
    false
}

/// `count` or `percent` for kinds that act on replicas; `All` for the others and by default.
pub(super) fn read_selection(
    sink: &mut Sink<'_>,
    fields: &Fields<'_, '_>,
    kind: Kind,
    target: Option<&FaultTarget>,
    topology: Option<&Topology>,
) -> Option<Selection> {
    if !kind.takes_selection() {
        return Some(Selection::All);
    }
    match (fields.get("count"), fields.get("percent")) {
        (Some(count), Some(percent)) => {
            conflict(sink, ("count", count), ("percent", percent));
            None
        }
        (Some(value), None) => {
            let count = sink.count("count", value, 1)?;
            if let (Some(target), Some(topology)) = (target, topology) {
                warn_count(sink, count, value, target, topology);
            }
            Some(Selection::Count(count))
        }
        (None, Some(value)) => sink.percent("percent", value).map(Selection::Percent),
        (None, None) => Some(Selection::All),
    }
}

/// A `count` above the target's replicas takes them all: a warning.
fn warn_count(
    sink: &mut Sink<'_>,
    count: u32,
    value: &Value<'_>,
    target: &FaultTarget,
    topology: &Topology,
) {
    let (replicas, of) = match *target {
        FaultTarget::Node(id) => {
            let node = topology.node(id);
            let replicas = node.replicas_per_zone * node.zones.len() as u32;
            (
                replicas,
                format!("the {replicas} replicas of `{}`", node.name),
            )
        }
        FaultTarget::NodeInZone(id, zone) => {
            let node = topology.node(id);
            let zone = &topology.zones[zone.index()];
            let replicas = node.replicas_per_zone;
            let of = format!("the {replicas} replicas of `{}` in `{zone}`", node.name);
            (replicas, of)
        }
        FaultTarget::Zone(zone) => {
            let replicas = topology
                .nodes
                .iter()
                .filter(|n| n.zones.contains(&zone))
                .map(|n| n.replicas_per_zone)
                .max()
                .unwrap_or(0);
            let zone = &topology.zones[zone.index()];
            let of = format!("any node's replicas in `{zone}` (at most {replicas})");
            (replicas, of)
        }
        _ => return,
    };
    if count > replicas {
        sink.error(
            Code::SelectionTooLarge,
            value.span(),
            format!("`count = {count}` is more than {of}"),
        )
        .label("all of them are taken")
        .help("lower `count`, or leave it out to take every replica");
    }
}

/// Warnings for parameters that change nothing: `capacity` with at least the node's workers.
pub(super) fn check_effect(
    sink: &mut Sink<'_>,
    fields: &Fields<'_, '_>,
    kind: &FaultKind,
    target: &FaultTarget,
    topology: &Topology,
) {
    let FaultKind::Capacity { workers } = *kind else {
        return;
    };
    let (FaultTarget::Node(id) | FaultTarget::NodeInZone(id, _)) = *target else {
        return;
    };
    let node = topology.node(id);
    let Some(value) = fields.get("workers") else {
        return;
    };
    if workers >= node.workers {
        sink.error(
            Code::FaultWithoutEffect,
            value.span(),
            format!(
                "`workers = {workers}` is not below the {} workers of each replica of `{}`",
                node.workers, node.name
            ),
        )
        .label("the fault has no effect")
        .help(format!(
            "`capacity` lowers the workers per replica; set fewer than {}",
            node.workers
        ));
    }
}
