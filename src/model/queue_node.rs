//! `[queue.NAME]`, a message broker (Kafka / SQS-like), read into a `Node` with
//! `Role::Queue`, and the checks on its consumer that need the whole model: the consumer is a
//! service, and nothing else calls it (its only traffic is the queue's deliveries).
//!
//! Must not: know how messages flow (that is `sim::queue`). The queue has no `calls`: the
//! unknown-key check rejects them.

use crate::kernel::{Dist, stable_id};

use super::codes::Code;
use super::dist::read_dist;
use super::names::{Edge, Names, NodeEntry, read_node_zones, resolve_node};
use super::reader::{Fields, Sink, or_default};
use super::scenario::Metric;
use super::topology::{
    Concurrency, EdgeKind, Node, NodeId, NodeKind, QueueSpec, Role, Topology, Workload, WorkloadId,
};

pub(crate) const QUEUE_KEYS: [&str; 9] = [
    "labels",
    "aws",
    "zones",
    "replicas",
    "ack",
    "partitions",
    "consumer",
    "max_deliveries",
    "visibility_timeout",
];

/// The most partitions of one queue: the broker keeps state per partition.
const MAX_PARTITIONS: u64 = 100_000;
/// Delivery attempts are counted in 16 bits, like retries.
const MAX_DELIVERIES: u64 = u16::MAX as u64;
/// Defaults: SQS's visibility timeout and its usual redrive count; an in-zone ack.
const DEFAULT_VISIBILITY_NS: u64 = 30_000_000_000;
const DEFAULT_MAX_DELIVERIES: u32 = 5;
const DEFAULT_ACK_NS: u64 = 1_000_000;

/// Reads a queue's table (its keys are known to be among `QUEUE_KEYS`) and records the edge
/// queue -> consumer.
pub(crate) fn read_queue(
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
    let ack = or_default(
        fields.get("ack"),
        Dist::Constant {
            value_ns: DEFAULT_ACK_NS,
        },
        |v| read_dist(sink, "ack", v),
    );
    let partitions = or_default(fields.get("partitions"), 1, |v| {
        let n = sink.integer("partitions", v, 1, MAX_PARTITIONS)?;
        u32::try_from(n).ok()
    });
    let max_deliveries = or_default(fields.get("max_deliveries"), DEFAULT_MAX_DELIVERIES, |v| {
        let n = sink.integer("max_deliveries", v, 1, MAX_DELIVERIES)?;
        u32::try_from(n).ok()
    });
    let visibility = or_default(
        fields.get("visibility_timeout"),
        DEFAULT_VISIBILITY_NS,
        |v| sink.positive_duration("visibility_timeout", v),
    );
    let consumer = fields
        .required("consumer")
        .and_then(|v| read_consumer(sink, names, v, id, edges));
    Some(Node {
        name: entry.name.to_string(),
        kind: NodeKind::Queue,
        stable_id: stable_id("node", entry.name),
        zones: zones.flatten()?,
        replicas_per_zone: replicas?,
        // The broker's concurrency is not what a model of it is about: publishes never queue.
        workers: u32::MAX,
        queue: None,
        concurrency: Concurrency::Async,
        service_time: ack?,
        calls: Vec::new(),
        role: Role::Queue(QueueSpec {
            consumer: consumer?,
            partitions: partitions?,
            max_deliveries: max_deliveries?,
            visibility_timeout_ns: visibility?,
        }),
        autoscale: None,
        policy: super::node_policy::NodePolicy::default(),
        labels: super::labels::Labels::default(),
    })
}

/// The consumer: a node other than the queue, recorded as an edge queue -> consumer.
fn read_consumer(
    sink: &mut Sink<'_>,
    names: &Names<'_>,
    value: &super::reader::Value<'_>,
    queue: usize,
    edges: &mut Vec<Edge>,
) -> Option<NodeId> {
    let to = resolve_node(sink, names, "consumer", value)?;
    if to == queue {
        let name = names.nodes.get(queue).copied().unwrap_or("?");
        sink.error(
            Code::Cycle,
            value.span(),
            format!("dependency cycle: {name} -> {name}"),
        )
        .label("a queue cannot consume itself");
        return None;
    }
    edges.push(Edge {
        from: queue,
        to,
        kind: EdgeKind::Consume,
        span: value.span(),
    });
    Some(NodeId(u32::try_from(to).ok()?))
}

/// Every queue's consumer is a service that only its queues call: no other node's call, no
/// cache's backing and no workload reaches it, so its load is the queue's deliveries alone.
pub(crate) fn check_consumers(
    sink: &mut Sink<'_>,
    entries: &[NodeEntry<'_, '_>],
    edges: &[Edge],
    workloads: Option<&[Workload]>,
) {
    let name = |n: usize| entries.get(n).map_or("?", |e| e.name);
    for consume in edges.iter().filter(|e| e.kind == EdgeKind::Consume) {
        let Some(consumer) = entries.get(consume.to) else {
            continue;
        };
        if consumer.kind != NodeKind::Service {
            sink.error(
                Code::ConflictingKeys,
                consume.span.clone(),
                format!(
                    "the consumer `{}` is a {}, not a service",
                    consumer.name,
                    consumer.kind.as_str()
                ),
            )
            .label("expected a `[service.NAME]`")
            .help("a queue delivers its messages to a service that processes them");
            continue;
        }
        let targets = workloads.unwrap_or_default();
        if let Some(workload) = targets.iter().find(|w| w.target.index() == consume.to) {
            sink.error(
                Code::ConflictingKeys,
                consume.span.clone(),
                format!(
                    "the consumer `{}` is also the target of workload `{}`",
                    consumer.name, workload.name
                ),
            )
            .label("a consumer takes only its queue's deliveries")
            .help("point the workload at a producer that publishes to the queue");
        }
    }
    for call in edges.iter().filter(|e| e.kind != EdgeKind::Consume) {
        let consumed = edges
            .iter()
            .any(|c| c.kind == EdgeKind::Consume && c.to == call.to);
        if consumed {
            sink.error(
                Code::ConflictingKeys,
                call.span.clone(),
                format!(
                    "`{}` calls `{}`, which consumes a queue",
                    name(call.from),
                    name(call.to)
                ),
            )
            .label("a consumer takes only its queue's deliveries")
            .help("publish to the queue instead, or call another service");
        }
    }
}

/// What a hypothesis bounds: a workload (`workload = "..."`) or a queue (`queue = "..."`),
/// exactly one, with a metric that fits it. `None` after reporting a mistake.
pub(crate) fn hypothesis_subject(
    sink: &mut Sink<'_>,
    fields: &mut Fields<'_, '_>,
    metric: Option<Metric>,
    topology: Option<&Topology>,
) -> Option<(WorkloadId, Option<NodeId>)> {
    let metric_span = fields.get("metric").map(|v| v.span());
    let Some(queue) = fields.get("queue") else {
        let workload = fields
            .required("workload")
            .and_then(|v| super::resolve::workload(sink, "workload", v, topology));
        if let (Some(m), Some(span)) = (metric.filter(|m| m.is_queue()), metric_span) {
            sink.error(
                Code::BadHypothesis,
                span,
                format!("`{}` is a queue metric", m.as_str()),
            )
            .label("a workload has no such metric")
            .help("name the queue instead of the workload: `queue = \"NAME\"`");
            return None;
        }
        return workload.map(|w| (w, None));
    };
    if fields.get("workload").is_some() {
        sink.error(
            Code::ConflictingKeys,
            queue.span(),
            "a hypothesis names a `workload` or a `queue`, not both",
        )
        .label("remove this or `workload`");
        return None;
    }
    let id = resolve_queue(sink, queue, topology);
    if let (Some(m), Some(span)) = (metric.filter(|m| !m.is_queue()), metric_span) {
        let names: Vec<&str> = Metric::QUEUE.iter().map(|m| m.as_str()).collect();
        sink.error(
            Code::BadHypothesis,
            span,
            format!("`{}` is not a queue metric", m.as_str()),
        )
        .label("a queue hypothesis bounds a queue metric")
        .help(format!(
            "the queue metrics are {}",
            super::reader::quote_list(&names)
        ));
        return None;
    }
    id.map(|q| (WorkloadId(0), Some(q)))
}

/// A `queue` named by a hypothesis: a queue node of the model.
fn resolve_queue(
    sink: &mut Sink<'_>,
    value: &super::reader::Value<'_>,
    topology: Option<&Topology>,
) -> Option<NodeId> {
    let name = sink.string("queue", value)?;
    let topology = topology?;
    let queues: Vec<&str> = topology
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Queue)
        .map(|n| n.name.as_str())
        .collect();
    if let Some(id) = topology.node_id(name).filter(|_| queues.contains(&name)) {
        return Some(id);
    }
    let help = if queues.is_empty() {
        "the model has no `[queue.NAME]`".to_string()
    } else {
        super::reader::help_for_name(
            name,
            &queues,
            "the model's queues are",
            "the model has no queues",
        )
    };
    sink.error(
        Code::UnknownNode,
        value.span(),
        format!("unknown queue `{name}`"),
    )
    .label("not a queue of the model")
    .help(help);
    None
}
