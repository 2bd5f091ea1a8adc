//! The validated model: dense ids, resolved names, parameters in nanoseconds.
//!
//! Everything here has passed validation (see `load`): names resolve, numbers are in range,
//! the call graph is acyclic. The simulator relies on these invariants and does not re-check.

use petgraph::graph::DiGraph;

use crate::kernel::Dist;

/// Defined with its spec in `node_kinds`; a topology's nodes carry it.
pub use super::node_kinds::NodeKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ZoneId(pub u16);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
impl ZoneId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
impl WorkloadId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A whole system. Invariant: ids index the vectors; `graph` has one vertex per node, with the
/// vertex index equal to the `NodeId`, and one edge per call (cache backing included); it is
/// acyclic.
#[derive(Clone, Debug)]
pub struct Topology {
    pub name: String,
    /// Zone names; `ZoneId` indexes this.
    pub zones: Vec<String>,
    /// Nodes in file order; `NodeId` indexes this.
    pub nodes: Vec<Node>,
    pub workloads: Vec<Workload>,
    /// The dependency graph: an edge caller -> callee per call and per cache backing.
    pub graph: DiGraph<NodeId, EdgeKind>,
    /// AWS names of zones and nodes (`[aws]`, a node's `aws`), for the FIS import and export.
    pub aws: super::aws::AwsMapping,
}

impl Topology {
    /// Whether any workload or call propagates its deadline: the simulator keeps deadlines,
    /// and reports list `deadline_exceeded`, only then.
    pub fn propagates_deadlines(&self) -> bool {
        self.workloads
            .iter()
            .any(|w| w.deadline == Deadline::Propagate)
            || self
                .nodes
                .iter()
                .flat_map(|n| &n.calls)
                .any(|c| c.deadline == Deadline::Propagate)
    }

    /// The nodes whose labels the selector matches, in id order.
    pub fn nodes_matching(&self, selector: &super::labels::Selector) -> Vec<NodeId> {
        (0..self.nodes.len() as u32)
            .map(NodeId)
            .filter(|&id| selector.matches(&self.node(id).labels))
            .collect()
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|node| node.name == name)
            .map(|i| NodeId(i as u32))
    }

    pub fn zone_id(&self, name: &str) -> Option<ZoneId> {
        self.zones
            .iter()
            .position(|zone| zone == name)
            .map(|i| ZoneId(i as u16))
    }

    pub fn workload_id(&self, name: &str) -> Option<WorkloadId> {
        self.workloads
            .iter()
            .position(|w| w.name == name)
            .map(|i| WorkloadId(i as u32))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// An entry of the caller's `calls`, by index.
    Call(u32),
    /// A cache's `backing` store, called on a miss.
    Backing,
    /// A queue's `consumer`: the broker delivers each message to it.
    Consume,
}

/// User traffic entering the system at one node.
#[derive(Clone, Debug)]
pub struct Workload {
    pub name: String,
    /// From `stable_id("workload", name)`: seeds the workload's streams.
    pub stable_id: u64,
    pub target: NodeId,
    /// Mean requests per second; for a varying rate its peak, for closed-loop users the most
    /// they can offer (users / mean think time). Invariant: finite and > 0, equal to
    /// `traffic.peak_per_s()`.
    pub rate_per_s: f64,
    /// For an open loop; closed-loop users keep the default, `Poisson`, and ignore it.
    pub arrival: Arrival,
    /// The client gives up after this; `None` waits forever.
    pub timeout_ns: Option<u64>,
    /// Whether the client sends its timeout to the target as a deadline.
    pub deadline: Deadline,
    /// How the requests are generated: an open-loop rate (constant or varying) or users.
    pub traffic: super::rate::Traffic,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    Poisson,
    Constant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concurrency {
    /// A worker is held until the node's calls return (thread per request).
    Blocking,
    /// A worker is held only for the node's own service time.
    Async,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnUnavailable {
    /// Callers go to the backing store when the cache cannot answer.
    Fallthrough,
    /// Callers see the cache's failure.
    Fail,
}

/// What distinguishes one kind of node from another, beyond the shared serving parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    Service,
    /// Invariant: `0 <= hit_ratio <= 1`; `backing` is a node other than this one. With a
    /// `content`, the hit ratio emerges in the simulation and `hit_ratio` is its closed-form
    /// steady state (`cache_content::che_hit_ratio`), for the lint and the graph.
    Cache {
        hit_ratio: f64,
        backing: NodeId,
        on_unavailable: OnUnavailable,
        content: Option<super::cache_content::CacheContent>,
    },
    /// Requests are served by the replicas in the primary zone.
    Database {
        primary: ZoneId,
        /// Declared failover time; acted on by the resilience mechanisms.
        failover_ns: Option<u64>,
    },
    /// A third party: no zones, unlimited concurrency, latency from `service_time`.
    /// Invariant: `0 <= error_rate <= 1`.
    External {
        error_rate: f64,
    },
    /// A message broker (`[queue.NAME]`): a publish is answered after `service_time` (the ack
    /// latency) while a replica is up; stored messages are delivered to the consumer.
    Queue(QueueSpec),
}

/// A queue's consumption. Invariant: `consumer` is a service that nothing else calls and no
/// workload targets; `partitions >= 1`, `max_deliveries >= 1`, `visibility_timeout_ns > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueSpec {
    pub consumer: NodeId,
    /// Each partition is consumed in order, one message in flight at a time.
    pub partitions: u32,
    /// Failed deliveries after which a message is dead-lettered.
    pub max_deliveries: u32,
    /// A delivery not answered within this is retried; the consumer call's timeout.
    pub visibility_timeout_ns: u64,
}

/// A node of the system. Invariant for every role but `External`: `zones` is non-empty, each
/// zone at most once, `replicas_per_zone >= 1` and `workers >= 1`.
#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub kind: NodeKind,
    /// From `stable_id("node", name)`: seeds the node's streams.
    pub stable_id: u64,
    /// Zones the node is placed in; empty for externals.
    pub zones: Vec<ZoneId>,
    pub replicas_per_zone: u32,
    /// Requests served at once by one replica.
    pub workers: u32,
    /// Waiting room per replica; `None` is unbounded (still subject to the run's bounds).
    pub queue: Option<u32>,
    pub concurrency: Concurrency,
    /// Own work, spent before the calls; for an external, its whole latency.
    pub service_time: Dist,
    /// Calls made after the own work, in order.
    pub calls: Vec<Call>,
    pub role: Role,
    /// Target-tracking autoscaling per zone (services and caches only).
    pub autoscale: Option<super::autoscale::Autoscale>,
    /// Load shedding and the balancer's health checks and outlier ejection
    /// (`node_policy.rs`); the default for externals and for nodes without those keys.
    pub policy: super::node_policy::NodePolicy,
    /// Kubernetes-style labels (`labels.rs`), by which imported experiments select nodes.
    pub labels: super::labels::Labels,
}

impl Node {
    /// Replica places per zone: `max` when the node autoscales, else its replicas.
    pub fn slots_per_zone(&self) -> u32 {
        self.autoscale.map_or(self.replicas_per_zone, |a| a.max)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    None,
    /// Sleep a uniform amount in [0, backoff].
    Full,
    /// Sleep backoff/2 plus a uniform amount in [0, backoff/2].
    Equal,
}

/// Whether a caller hands its deadline to the callee (gRPC-style deadline propagation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Deadline {
    /// The callee never learns when its caller gives up, and finishes work nobody waits for
    /// any more (most HTTP servers).
    #[default]
    Ignore,
    /// The callee gets an absolute deadline — the earlier of the caller's own and now plus the
    /// call's timeout — and abandons the work once it has passed (gRPC); the caller stops
    /// waiting at that deadline too.
    Propagate,
}

/// An edge of the dependency graph with its policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Call {
    pub to: NodeId,
    /// Per attempt; `None` waits forever.
    pub timeout_ns: Option<u64>,
    /// Extra attempts after the first fails.
    pub retries: u32,
    /// Base backoff before retry `k` (1-based): `backoff_ns * 2^(k-1)`, capped at `max_backoff_ns`.
    pub backoff_ns: u64,
    pub max_backoff_ns: u64,
    pub jitter: Jitter,
    /// Share of requests that make this call. Invariant: in [0, 1].
    pub probability: f64,
    /// A failure of an optional call degrades the request instead of failing it.
    pub optional: bool,
    /// Circuit breaker, retry budget, bulkhead, fallback (see `call_policy.rs`).
    pub resilience: super::call_policy::CallResilience,
    /// Whether the callee learns this call's deadline.
    pub deadline: Deadline,
}
