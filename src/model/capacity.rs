//! Static estimates of load and capacity from a model alone, shared by the saturation lint
//! (W0007) and the static-stability analysis: arrival rates flow down the graph by call
//! probability and cache miss ratio (no retries, no failures), and a request holds a worker for
//! its node's own mean service time plus, on a blocking node, its calls' mean answers without
//! any queueing (each capped at the call's timeout). Both are lower bounds, so a node these
//! find saturated is saturated.
//!
//! Must not: simulate, or read files.

use super::topology::{Call, Concurrency, Node, NodeId, Role, Topology};

/// Whether the simulator makes a node's `calls`: a cache answers after its own work (its
/// caller goes to the backing store on a miss), an external has no calls.
pub(crate) fn makes_calls(role: &Role) -> bool {
    matches!(role, Role::Service | Role::Database { .. })
}

/// The nodes callers first (`None` if the graph has a cycle, which validation rejects).
pub fn call_order(topology: &Topology) -> Option<Vec<NodeId>> {
    let order = petgraph::algo::toposort(&topology.graph, None).ok()?;
    Some(order.into_iter().map(|i| topology.graph[i]).collect())
}

/// Per node, the mean requests per second the workloads offer it. `order` is `call_order`.
pub fn arrival_rates(topology: &Topology, order: &[NodeId]) -> Vec<f64> {
    let mut rates = vec![0.0; topology.nodes.len()];
    for workload in &topology.workloads {
        offer(topology, &mut rates, workload.target, workload.rate_per_s);
    }
    for &id in order {
        let node = topology.node(id);
        if !makes_calls(&node.role) {
            continue;
        }
        let rate = rates[id.index()];
        for call in &node.calls {
            offer(topology, &mut rates, call.to, rate * call.probability);
        }
    }
    rates
}

/// Adds calls at `rate` to `to`, and a cache's misses to its backing store.
fn offer(topology: &Topology, rates: &mut [f64], to: NodeId, rate: f64) {
    rates[to.index()] += rate;
    if let Role::Cache {
        hit_ratio, backing, ..
    } = topology.node(to).role
    {
        rates[backing.index()] += rate * (1.0 - hit_ratio);
    }
}

/// Per node, the mean time from a call's arrival at a free worker to its answer, without any
/// queueing: own work, then the calls by probability, each capped at its timeout.
pub fn mean_answers(topology: &Topology, order: &[NodeId]) -> Vec<f64> {
    let mut answer = vec![0.0; topology.nodes.len()];
    for &id in order.iter().rev() {
        let node = topology.node(id);
        let mut total = node.service_time.mean_ns();
        if makes_calls(&node.role) {
            for call in &node.calls {
                total += call.probability * mean_call(topology, &answer, call);
            }
        }
        answer[id.index()] = total;
    }
    answer
}

fn mean_call(topology: &Topology, answer: &[f64], call: &Call) -> f64 {
    let cap = call.timeout_ns.map_or(f64::INFINITY, |t| t as f64);
    let mut total = answer[call.to.index()].min(cap);
    if let Role::Cache {
        hit_ratio, backing, ..
    } = topology.node(call.to).role
    {
        total += (1.0 - hit_ratio) * answer[backing.index()].min(cap);
    }
    total
}

/// The mean time a request holds a worker of `node` whose mean answer is `answer_ns`.
pub fn held_ns(node: &Node, answer_ns: f64) -> f64 {
    match node.concurrency {
        Concurrency::Async => node.service_time.mean_ns(),
        Concurrency::Blocking => answer_ns,
    }
}

/// The replicas that serve a node with every zone up: a database's primary zone's, else all.
pub fn serving_replicas(node: &Node) -> u64 {
    let serving_zones = match node.role {
        Role::Database { .. } => 1,
        _ => node.zones.len() as u64,
    };
    serving_zones * u64::from(node.replicas_per_zone)
}

/// Offered load over capacity: `rate_per_s` on `replicas` of `node`, each request holding a
/// worker `held_ns`. Infinite without a replica (and load).
pub fn utilisation(node: &Node, rate_per_s: f64, held_ns: f64, replicas: u64) -> f64 {
    let servers = replicas as f64 * f64::from(node.workers);
    rate_per_s * held_ns / (servers * 1e9)
}
