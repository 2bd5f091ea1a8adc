//! The names a node's table may refer to — the model's zones and nodes, gathered by
//! `load_model` before any node is read — their resolution with did-you-mean help, and the
//! `Edge`s the readers record for the graph checks. Shared by every node reader (`nodes`,
//! `queue_node`) and `load_model`, so no reader borrows them from another.

use std::ops::Range;

use super::codes::Code;
use super::reader::{Sink, Value, help_for_name};
use super::topology::{EdgeKind, NodeKind, ZoneId};

/// The names a node may refer to.
pub(crate) struct Names<'a> {
    /// The declared zones; `None` when the list itself is broken, so zone references go
    /// unchecked instead of each being reported as undeclared.
    pub(crate) zones: Option<Vec<String>>,
    /// Node names; the position is the `NodeId`.
    pub(crate) nodes: Vec<&'a str>,
}

/// A dependency: a call or a cache's backing, with the span that declares it.
pub(crate) struct Edge {
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) kind: EdgeKind,
    pub(crate) span: Range<usize>,
}

/// A node's table before it is read.
pub(crate) struct NodeEntry<'v, 'i> {
    pub(crate) kind: NodeKind,
    pub(crate) name: &'v str,
    pub(crate) name_span: Range<usize>,
    pub(crate) value: &'v Value<'i>,
}

/// Resolves a node name, reporting an unknown one with a did-you-mean.
pub(crate) fn resolve_node(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    key: &str,
    value: &Value<'_>,
) -> Option<usize> {
    let name = sink.string(key, value)?;
    if let Some(index) = names.nodes.iter().position(|n| *n == name) {
        return Some(index);
    }
    let help = help_for_name(
        name,
        &names.nodes,
        "the nodes are",
        "the model has no nodes yet",
    );
    sink.error(
        Code::UnknownNode,
        value.span(),
        format!("unknown node `{name}`"),
    )
    .label("not a node of this model")
    .help(help);
    None
}

/// A node's `zones`: a non-empty list of declared zones, each once.
pub(crate) fn read_node_zones(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    value: &Value<'_>,
) -> Option<Vec<ZoneId>> {
    let items = sink.array("zones", value)?;
    if items.is_empty() {
        sink.error(
            Code::OutOfRange,
            value.span(),
            "a node's `zones` must not be empty",
        )
        .label("expected at least one zone");
        return None;
    }
    let mut ids = Vec::new();
    let mut ok = true;
    for item in items {
        match resolve_zone(sink, names, "zones", item) {
            Some(id) if ids.contains(&id) => {
                sink.error(
                    Code::ZoneTwice,
                    item.span(),
                    "the node is placed in this zone twice",
                )
                .label("already listed")
                .help("list each zone once; `replicas` sets the instances per zone");
                ok = false;
            }
            Some(id) => ids.push(id),
            None => ok = false,
        }
    }
    (ok && names.zones.is_some()).then_some(ids)
}

/// Resolves a zone name against the declared zones (when they are known).
pub(crate) fn resolve_zone(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    key: &str,
    value: &Value<'_>,
) -> Option<ZoneId> {
    let name = sink.string(key, value)?;
    let zones = names.zones.as_ref()?;
    if let Some(index) = zones.iter().position(|z| z == name) {
        return u16::try_from(index).ok().map(ZoneId);
    }
    let declared: Vec<&str> = zones.iter().map(String::as_str).collect();
    let help = help_for_name(
        name,
        &declared,
        "the declared zones are",
        "the model declares no zones",
    );
    sink.error(
        Code::UndeclaredZone,
        value.span(),
        format!("zone `{name}` is not declared"),
    )
    .label("not in the model's top-level `zones`")
    .help(help);
    None
}
