//! A model file, text to `Topology`: the top level (`name`, `zones`), the node tables in file
//! order, the workloads, then the graph checks. Every mistake is collected; the topology is
//! assembled only when there is none.

use std::ops::Range;
use std::path::Path;

use crate::kernel::stable_id;

use toml::de::DeValue;

use super::aws::{AwsMapping, NodeAws, read_model_aws, read_node_aws};
use super::codes::Code;
use super::diagnostic::Diagnostics;
use super::error::{LoadError, read_text};
use super::graph::{build_graph, check_cycles, check_reachable};
use super::names::{Edge, Names, NodeEntry, resolve_node};
use super::node_kinds::{self, NODE_KINDS, concat};
use super::nodes::read_node;
use super::reader::{Fields, Sink, Value, or_default};
use super::topology::{Arrival, Node, NodeId, Topology, Workload};

/// The top-level keys: a table of tables per node kind between the workloads and `aws`.
const TOP_KEYS: [&str; 4 + node_kinds::COUNT] = concat(
    concat::<3, { node_kinds::COUNT }, { 3 + node_kinds::COUNT }>(
        ["name", "zones", "workload"],
        node_kinds::NAMES,
    ),
    ["aws"],
);

/// Parses and validates a model; on failure, every diagnostic of the file (warnings included).
pub fn parse_model(file: &Path, text: &str) -> Result<Topology, Diagnostics> {
    parse_model_with_warnings(file, text).map(|(topology, _)| topology)
}

/// Like `parse_model`, also handing back the warnings of a model that loads.
pub fn parse_model_with_warnings(
    file: &Path,
    text: &str,
) -> Result<(Topology, Diagnostics), Diagnostics> {
    let mut sink = Sink::new(file, text);
    let topology = read_model(&mut sink);
    let failed = sink.has_errors();
    let mut diagnostics = Diagnostics::default();
    diagnostics.add_file(file, text, sink.finish());
    match topology {
        Some(topology) if !failed => Ok((topology, diagnostics)),
        _ => Err(diagnostics),
    }
}

/// Reads and validates the model file at `path`.
pub fn load_model(path: &Path) -> Result<Topology, LoadError> {
    let text = read_text(path)?;
    parse_model(path, &text).map_err(LoadError::Invalid)
}

/// Reads the whole model into `sink`; `Some` only if every part read (the caller still checks
/// `sink.has_errors()`, since graph checks do not affect the parts).
pub(crate) fn read_model(sink: &mut Sink<'_>) -> Option<Topology> {
    let root = sink.parse();
    let mut top = Fields::new(root.get_ref(), 0..0, "the model", &TOP_KEYS);
    let name = top.required("name").and_then(|v| {
        let name = sink.string("name", v)?;
        super::name_check::check_name(sink, "model", name, v.span());
        Some(name)
    });
    let name = name.map(str::to_string);
    let zones = top.required("zones").and_then(|v| read_zones(sink, v));
    let entries = node_entries(sink, &top);
    let entries = without_duplicates(sink, entries);
    let names = Names {
        zones,
        nodes: entries.iter().map(|e| e.name).collect(),
    };
    let mut edges = Vec::new();
    let nodes: Vec<Option<Node>> = entries
        .iter()
        .enumerate()
        .map(|(id, entry)| read_node(sink, &names, entry, id, &mut edges))
        .collect();
    let workloads = top
        .get("workload")
        .map_or(Some(Vec::new()), |v| read_workloads(sink, &names, v));
    let aws = read_aws(sink, &top, &entries, names.zones.as_deref());
    top.finish(sink);
    check_cycles(sink, &names.nodes, &edges);
    super::queue_node::check_consumers(sink, &entries, &edges, workloads.as_deref());
    let nodes: Option<Vec<Node>> = nodes.into_iter().collect();
    let (nodes, workloads) = (nodes?, workloads?);
    if sink.has_errors() {
        return None;
    }
    warn_unreachable(sink, &entries, &edges, &workloads);
    let topology = Topology {
        name: name?,
        zones: names.zones?,
        graph: build_graph(nodes.len(), &edges),
        nodes,
        workloads,
        aws: aws?,
    };
    // Semantic traps (warnings) and sizes the simulator cannot hold (errors).
    super::lint::check(sink, root.get_ref(), &topology);
    Some(topology)
}

/// The top-level `[aws]` table and each node's `aws` table (`model::aws`).
fn read_aws(
    sink: &mut Sink<'_>,
    top: &Fields<'_, '_>,
    entries: &[NodeEntry<'_, '_>],
    zones: Option<&[String]>,
) -> Option<AwsMapping> {
    let (region, zone_names) = read_model_aws(sink, top.get("aws"), zones)?;
    let mut nodes = Vec::new();
    let mut ok = true;
    for entry in entries {
        let DeValue::Table(table) = entry.value.get_ref() else {
            nodes.push(NodeAws::default());
            continue;
        };
        match table.get("aws").map(|v| read_node_aws(sink, v)) {
            Some(Some(aws)) => nodes.push(aws),
            Some(None) => ok = false,
            None => nodes.push(NodeAws::default()),
        }
    }
    ok.then_some(AwsMapping {
        region,
        zones: zone_names,
        nodes,
    })
}

/// The top-level `zones`: a non-empty list of distinct names. `None` if the list is unusable.
fn read_zones(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<Vec<String>> {
    let items = sink.array("zones", value)?;
    if items.is_empty() {
        sink.error(Code::OutOfRange, value.span(), "`zones` must not be empty")
            .label("expected at least one zone name");
        return None;
    }
    let mut zones: Vec<String> = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(zone) = sink.string("zones", item) else {
            ok = false;
            continue;
        };
        ok &= super::name_check::check_name(sink, "zone", zone, item.span());
        if zones.iter().any(|z| z == zone) {
            sink.error(
                Code::DuplicateName,
                item.span(),
                format!("zone `{zone}` is listed twice"),
            )
            .label("already listed");
        } else {
            zones.push(zone.to_string());
        }
    }
    if zones.len() > usize::from(u16::MAX) {
        sink.error(Code::OutOfRange, value.span(), "too many zones")
            .label(format!("expected at most {}", u16::MAX));
        ok = false;
    }
    ok.then_some(zones)
}

/// Every `[KIND.NAME]` table, in file order across kinds.
fn node_entries<'v, 'i>(sink: &mut Sink<'_>, top: &Fields<'v, 'i>) -> Vec<NodeEntry<'v, 'i>> {
    let mut entries = Vec::new();
    for kind in NODE_KINDS.iter().map(|spec| spec.kind) {
        let Some(value) = top.get(kind.as_str()) else {
            continue;
        };
        let expected = format!("tables like `[{}.NAME]`", kind.as_str());
        let Some(fields) = Fields::of(sink, value, "", &expected, &[]) else {
            continue;
        };
        for (key, value) in fields.table().iter() {
            super::name_check::check_name(sink, "node", key.get_ref(), key.span());
            entries.push(NodeEntry {
                kind,
                name: key.get_ref().as_ref(),
                name_span: key.span(),
                value,
            });
        }
    }
    // Sorting by position gives file order even when kinds are interleaved.
    entries.sort_by_key(|e| e.value.span().start.min(e.name_span.start));
    entries
}

/// Drops (and reports) entries whose name is already taken by an earlier node of any kind.
fn without_duplicates<'v, 'i>(
    sink: &mut Sink<'_>,
    entries: Vec<NodeEntry<'v, 'i>>,
) -> Vec<NodeEntry<'v, 'i>> {
    let mut kept: Vec<NodeEntry<'v, 'i>> = Vec::new();
    for entry in entries {
        if let Some(first) = kept.iter().find(|k| k.name == entry.name) {
            let (line, _) = super::diagnostic::line_column(sink.text, first.name_span.start);
            sink.error(
                Code::DuplicateName,
                entry.name_span.clone(),
                format!("the name `{}` is used by two nodes", entry.name),
            )
            .label(format!("already a {} on line {line}", first.kind.as_str()))
            .help("node names are unique across services, caches, databases and externals");
        } else {
            kept.push(entry);
        }
    }
    kept
}

const WORKLOAD_KEYS: &[&str] = &[
    "target",
    "rate",
    "arrival",
    "timeout",
    "users",
    "think_time",
    "deadline",
];

const ARRIVAL: [(&str, Arrival); 2] = [
    ("poisson", Arrival::Poisson),
    ("constant", Arrival::Constant),
];

fn read_workloads(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    value: &Value<'_>,
) -> Option<Vec<Workload>> {
    let fields = Fields::of(sink, value, "", "tables like `[workload.NAME]`", &[])?;
    let mut workloads = Vec::new();
    let mut ok = true;
    for (key, value) in fields.table().iter() {
        ok &= super::name_check::check_name(sink, "workload", key.get_ref(), key.span());
        match read_workload(sink, names, key.get_ref(), value) {
            Some(workload) => workloads.push(workload),
            None => ok = false,
        }
    }
    ok.then_some(workloads)
}

fn read_workload(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    name: &str,
    value: &Value<'_>,
) -> Option<Workload> {
    let what = format!("`[workload.{name}]`");
    let mut fields = Fields::of(
        sink,
        value,
        what.clone(),
        "a table of workload settings",
        WORKLOAD_KEYS,
    )?;
    let target = fields
        .required("target")
        .and_then(|v| resolve_node(sink, names, "target", v));
    let traffic = super::rate::read_traffic(sink, &mut fields, &what);
    let arrival = or_default(fields.get("arrival"), Arrival::Poisson, |v| {
        sink.choice("arrival", v, &ARRIVAL)
    });
    let timeout = or_default(fields.get("timeout"), None, |v| {
        sink.positive_duration("timeout", v).map(Some)
    });
    let deadline = super::nodes::read_deadline(sink, &fields);
    fields.finish(sink);
    Some(Workload {
        name: name.to_string(),
        stable_id: stable_id("workload", name),
        target: NodeId(u32::try_from(target?).ok()?),
        arrival: arrival?,
        timeout_ns: timeout?,
        deadline: deadline?,
        rate_per_s: traffic.as_ref()?.peak_per_s(),
        traffic: traffic?,
    })
}

fn warn_unreachable(
    sink: &mut Sink<'_>,
    entries: &[NodeEntry<'_, '_>],
    edges: &[Edge],
    workloads: &[Workload],
) {
    if workloads.is_empty() {
        return;
    }
    let spans: Vec<(&str, Range<usize>)> = entries
        .iter()
        .map(|e| (e.name, e.name_span.clone()))
        .collect();
    let targets: Vec<usize> = workloads.iter().map(|w| w.target.index()).collect();
    check_reachable(sink, &spans, edges, &targets);
}
