//! One node table (`[service.NAME]`, `[cache.NAME]`, `[database.NAME]`, `[external.NAME]`;
//! `[queue.NAME]` is read by `queue_node`) and its calls, read into a `Node`. Name resolution uses the lists gathered by `load_model`;
//! every resolved call is recorded as an `Edge` for the graph checks, even when another key of
//! the node is wrong, so cycles are found alongside other mistakes.

use crate::kernel::stable_id;

use super::call_policy::{RESILIENCE_KEYS, read_call_resilience};
use super::codes::Code;
use super::dist::read_dist;
use super::labels::Labels;
use super::names::{Edge, Names, NodeEntry, read_node_zones, resolve_node, resolve_zone};
use super::reader::{Fields, Sink, Value, or_default};
use super::topology::{
    Call, Concurrency, Deadline, EdgeKind, Jitter, Node, NodeId, NodeKind, OnUnavailable, Role,
    ZoneId,
};

/// Reads the node with dense index `id`.
pub(crate) fn read_node(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    entry: &NodeEntry<'_, '_>,
    id: usize,
    edges: &mut Vec<Edge>,
) -> Option<Node> {
    let what = format!("`[{}.{}]`", entry.kind.as_str(), entry.name);
    let mut fields = Fields::of(
        sink,
        entry.value,
        what,
        "a table of node settings",
        entry.kind.keys(),
    )?;
    // `aws` is listed but read by `model::aws` (for the FIS import and export), not here.
    if entry.kind == NodeKind::Database {
        // Read only to say that a database does not scale (not a key it lists).
        fields = fields.with_pattern(|key| key == "autoscale");
    }
    let labels = or_default(fields.get("labels"), Labels::default(), |v| {
        super::labels::read_labels(sink, v)
    });
    let node = match entry.kind {
        NodeKind::External => read_external(sink, &mut fields, entry),
        NodeKind::Queue => {
            super::queue_node::read_queue(sink, names, &mut fields, entry, id, edges)
        }
        NodeKind::Service | NodeKind::Cache | NodeKind::Database => {
            read_internal(sink, names, &mut fields, entry, id, edges)
        }
    };
    fields.finish(sink);
    Some(Node {
        labels: labels?,
        ..node?
    })
}

fn read_external(
    sink: &mut Sink<'_>,
    fields: &mut Fields<'_, '_>,
    entry: &NodeEntry<'_, '_>,
) -> Option<Node> {
    let latency = fields
        .required("latency")
        .and_then(|v| read_dist(sink, "latency", v));
    let error_rate = or_default(fields.get("error_rate"), 0.0, |v| {
        sink.fraction("error_rate", v)
    });
    Some(Node {
        name: entry.name.to_string(),
        kind: NodeKind::External,
        stable_id: stable_id("node", entry.name),
        zones: Vec::new(),
        replicas_per_zone: 1,
        workers: u32::MAX,
        queue: None,
        concurrency: Concurrency::Async,
        service_time: latency?,
        calls: Vec::new(),
        role: Role::External {
            error_rate: error_rate?,
        },
        autoscale: None,
        policy: super::node_policy::NodePolicy::default(),
        labels: Labels::default(),
    })
}

const CONCURRENCY: [(&str, Concurrency); 2] = [
    ("blocking", Concurrency::Blocking),
    ("async", Concurrency::Async),
];

fn read_internal(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    fields: &mut Fields<'_, '_>,
    entry: &NodeEntry<'_, '_>,
    id: usize,
    edges: &mut Vec<Edge>,
) -> Option<Node> {
    let zones = fields
        .required("zones")
        .map(|v| read_node_zones(sink, names, v));
    let replicas = or_default(fields.get("replicas"), 1, |v| sink.count("replicas", v, 1));
    let workers = or_default(fields.get("workers"), 1, |v| sink.count("workers", v, 1));
    let queue = or_default(fields.get("queue"), None, |v| {
        sink.count("queue", v, 0).map(Some)
    });
    let concurrency = or_default(fields.get("concurrency"), Concurrency::Blocking, |v| {
        sink.choice("concurrency", v, &CONCURRENCY)
    });
    let service_time = fields
        .required("service_time")
        .and_then(|v| read_dist(sink, "service_time", v));
    let calls = or_default(fields.get("calls"), Vec::new(), |v| {
        read_calls(sink, names, v, id, edges)
    });
    let zones = zones.flatten();
    let role = read_role(sink, names, fields, entry, id, zones.as_deref(), edges);
    let autoscale = or_default(fields.get("autoscale"), None, |v| {
        let read = super::autoscale::read_autoscale;
        read(sink, entry.kind, v, replicas, fields.get("replicas")).map(Some)
    });
    let policy = super::node_policy::read_node_policy(sink, fields);
    Some(Node {
        name: entry.name.to_string(),
        kind: entry.kind,
        stable_id: stable_id("node", entry.name),
        zones: zones?,
        replicas_per_zone: replicas?,
        workers: workers?,
        queue: queue?,
        concurrency: concurrency?,
        service_time: service_time?,
        calls: calls?,
        role: role?,
        autoscale: autoscale?,
        policy: policy?,
        labels: Labels::default(),
    })
}

fn read_calls(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    value: &Value<'_>,
    caller: usize,
    edges: &mut Vec<Edge>,
) -> Option<Vec<Call>> {
    let items = sink.array("calls", value)?;
    let mut calls = Vec::new();
    let mut ok = true;
    for (index, item) in items.iter().enumerate() {
        match read_call(sink, names, item, caller, index, edges) {
            Some(call) => calls.push(call),
            None => ok = false,
        }
    }
    ok.then_some(calls)
}

const CALL_KEYS: &[&str] = &[
    "to",
    "timeout",
    "retries",
    "backoff",
    "max_backoff",
    "jitter",
    "probability",
    "optional",
    RESILIENCE_KEYS[0],
    RESILIENCE_KEYS[1],
    RESILIENCE_KEYS[2],
    RESILIENCE_KEYS[3],
    "deadline",
];

const JITTER: [(&str, Jitter); 3] = [
    ("none", Jitter::None),
    ("full", Jitter::Full),
    ("equal", Jitter::Equal),
];

fn read_call(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    value: &Value<'_>,
    caller: usize,
    index: usize,
    edges: &mut Vec<Edge>,
) -> Option<Call> {
    let expected = "a call like { to = \"db\", timeout = \"50ms\" }";
    let mut fields = Fields::of(sink, value, "this call", expected, CALL_KEYS)?;
    let to = fields
        .required("to")
        .and_then(|v| resolve_target(sink, names, v, caller, EdgeKind::Call(index as u32), edges));
    let timeout = or_default(fields.get("timeout"), None, |v| {
        sink.positive_duration("timeout", v).map(Some)
    });
    // At most u16::MAX: the simulator counts attempts in 16 bits.
    let retries = or_default(fields.get("retries"), 0, |v| {
        let max = u64::from(u16::MAX);
        sink.integer("retries", v, 0, max).map(|n| n as u32)
    });
    let backoff = or_default(fields.get("backoff"), 0, |v| sink.duration("backoff", v));
    let max_backoff = or_default(fields.get("max_backoff"), u64::MAX, |v| {
        sink.duration("max_backoff", v)
    });
    let jitter = or_default(fields.get("jitter"), Jitter::None, |v| {
        sink.choice("jitter", v, &JITTER)
    });
    let probability = or_default(fields.get("probability"), 1.0, |v| {
        sink.fraction("probability", v)
    });
    let optional = or_default(fields.get("optional"), false, |v| {
        sink.boolean("optional", v)
    });
    let resilience = read_call_resilience(sink, &fields, optional);
    let deadline = read_deadline(sink, &fields);
    fields.finish(sink);
    Some(Call {
        to: NodeId(u32::try_from(to?).ok()?),
        timeout_ns: timeout?,
        retries: retries?,
        backoff_ns: backoff?,
        max_backoff_ns: max_backoff?,
        jitter: jitter?,
        probability: probability?,
        optional: optional?,
        resilience: resilience?,
        deadline: deadline?,
    })
}

const DEADLINE: [(&str, Deadline); 2] = [
    ("ignore", Deadline::Ignore),
    ("propagate", Deadline::Propagate),
];

/// A call's or a workload's `deadline`: `ignore` (the default) or `propagate`.
pub(crate) fn read_deadline(sink: &mut Sink<'_>, fields: &Fields<'_, '_>) -> Option<Deadline> {
    or_default(fields.get("deadline"), Deadline::Ignore, |v| {
        sink.choice("deadline", v, &DEADLINE)
    })
}

/// Resolves the callee of a call or a backing, rejecting the caller itself, and records the
/// edge.
fn resolve_target(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    value: &Value<'_>,
    caller: usize,
    kind: EdgeKind,
    edges: &mut Vec<Edge>,
) -> Option<usize> {
    let key = if kind == EdgeKind::Backing {
        "backing"
    } else {
        "to"
    };
    let to = resolve_node(sink, names, key, value)?;
    if to == caller {
        let name = names.nodes.get(caller).copied().unwrap_or("?");
        sink.error(
            Code::Cycle,
            value.span(),
            format!("dependency cycle: {name} -> {name}"),
        )
        .label("a node cannot depend on itself");
        return None;
    }
    let span = value.span();
    edges.push(Edge {
        from: caller,
        to,
        kind,
        span,
    });
    Some(to)
}

const ON_UNAVAILABLE: [(&str, OnUnavailable); 2] = [
    ("fallthrough", OnUnavailable::Fallthrough),
    ("fail", OnUnavailable::Fail),
];

fn read_role(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    fields: &mut Fields<'_, '_>,
    entry: &NodeEntry<'_, '_>,
    id: usize,
    zones: Option<&[ZoneId]>,
    edges: &mut Vec<Edge>,
) -> Option<Role> {
    match entry.kind {
        NodeKind::Service | NodeKind::External | NodeKind::Queue => Some(Role::Service),
        NodeKind::Cache => {
            let ratio = super::cache_content::read_cache_ratio(sink, fields);
            let backing = fields
                .required("backing")
                .and_then(|v| resolve_target(sink, names, v, id, EdgeKind::Backing, edges));
            let on_unavailable = or_default(
                fields.get("on_unavailable"),
                OnUnavailable::Fallthrough,
                |v| sink.choice("on_unavailable", v, &ON_UNAVAILABLE),
            );
            let (hit_ratio, content) = ratio?;
            Some(Role::Cache {
                hit_ratio,
                backing: NodeId(u32::try_from(backing?).ok()?),
                on_unavailable: on_unavailable?,
                content,
            })
        }
        NodeKind::Database => {
            let primary = fields
                .required("primary")
                .and_then(|v| read_primary(sink, names, v, zones));
            let failover = or_default(fields.get("failover"), None, |v| {
                sink.duration("failover", v).map(Some)
            });
            Some(Role::Database {
                primary: primary?,
                failover_ns: failover?,
            })
        }
    }
}

/// A database's primary: a declared zone, and one the database is placed in.
fn read_primary(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    value: &Value<'_>,
    zones: Option<&[ZoneId]>,
) -> Option<ZoneId> {
    let primary = resolve_zone(sink, names, "primary", value)?;
    let placed = zones?;
    if placed.contains(&primary) {
        return Some(primary);
    }
    let zone_names = names.zones.as_deref().unwrap_or_default();
    let placed_names: Vec<&str> = placed
        .iter()
        .filter_map(|z| zone_names.get(z.index()).map(String::as_str))
        .collect();
    let name = zone_names.get(primary.index()).map_or("?", String::as_str);
    sink.error(
        Code::PrimaryNotPlaced,
        value.span(),
        format!("the primary zone `{name}` is not one of the database's zones"),
    )
    .label("not in this node's `zones`")
    .help(format!(
        "the database is placed in {}",
        super::reader::quote_list(&placed_names)
    ));
    None
}
