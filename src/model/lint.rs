//! Semantic lints over a model that reads without errors: traps that are valid TOML with valid
//! values but are almost certainly not the system the architect meant, reported as warnings at
//! the key that causes them.
//!
//! - W0005: a call (or a client) whose timeout is shorter than the fastest answer its callee
//!   can give, so no attempt ever succeeds.
//! - W0006: retries whose worst case (attempts x timeout + backoffs) outlasts the client timeout
//!   of a workload that reaches the caller: the client gives up before the last retry.
//! - W0007: a node saturated by the normal workload alone (utilisation >= 1).
//!
//! It also rejects sizes the simulator cannot hold (E0005): more than `MAX_REPLICAS` replicas
//! in a model, or more than `u16::MAX` calls from one node.
//!
//! The estimates are simple and say so in their messages: arrival rates flow through the graph
//! by call probability and cache miss ratio (no retries, no failures), and the time a request
//! holds a worker is its own mean service time plus, for a blocking node, the mean answer time
//! of its calls without any queueing (each capped at the call's timeout). Both are lower
//! bounds, so a node this finds saturated is saturated.
//!
//! Must not: simulate or read files. Runs only on a model with no errors, so names resolve and
//! the graph is acyclic (checked again here without panicking: the loader must never panic).

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::capacity::{arrival_rates, held_ns, makes_calls, mean_answers, serving_replicas};
use super::codes::Code;
use super::reader::{Sink, Value};
use super::topology::{Call, NodeId, NodeKind, OnUnavailable, Role, Topology};
use crate::kernel::time::format_duration_ns;

/// The most replicas a model may have across all its nodes: the simulator keeps state for each.
pub(crate) const MAX_REPLICAS: u64 = 1_000_000;

/// Checks a topology read from `root`. Errors only for sizes; everything else warns.
pub(crate) fn check(sink: &mut Sink<'_>, root: &DeTable<'_>, topology: &Topology) {
    let at = Locator { root, topology };
    if !check_sizes(sink, &at) {
        return;
    }
    let Ok(order) = petgraph::algo::toposort(&topology.graph, None) else {
        return;
    };
    let order: Vec<NodeId> = order.into_iter().map(|i| topology.graph[i]).collect();
    let fastest = fastest_answers(topology, &order);
    warn_short_timeouts(sink, &at, &fastest);
    warn_long_retries(sink, &at);
    warn_saturated(sink, &at, &order);
}

// ---- where things are in the file -------------------------------------------------------

/// Finds the spans of a validated topology's parts in the TOML tree it was read from.
struct Locator<'a, 'i> {
    root: &'a DeTable<'i>,
    topology: &'a Topology,
}

fn lookup<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<(Range<usize>, &'a Value<'i>)> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(k, v)| (k.span(), v))
}

fn as_table<'a, 'i>(value: &'a Value<'i>) -> Option<&'a DeTable<'i>> {
    match value.get_ref() {
        DeValue::Table(table) => Some(table),
        _ => None,
    }
}

impl<'a, 'i> Locator<'a, 'i> {
    /// The span of a table's name under `[group.NAME]`, and the table.
    fn entry(&self, group: &str, name: &str) -> Option<(Range<usize>, &'a DeTable<'i>)> {
        let (_, tables) = lookup(self.root, group)?;
        let (span, value) = lookup(as_table(tables)?, name)?;
        Some((span, as_table(value)?))
    }

    fn node(&self, node: NodeId) -> Option<(Range<usize>, &'a DeTable<'i>)> {
        let node = self.topology.node(node);
        self.entry(node.kind.as_str(), &node.name)
    }

    fn node_name(&self, node: NodeId) -> Range<usize> {
        self.node(node).map_or(0..0, |(span, _)| span)
    }

    /// The value of `key` in the node's table, or the node's name when it has no such key.
    fn node_key(&self, node: NodeId, key: &str) -> Range<usize> {
        let Some((name, table)) = self.node(node) else {
            return 0..0;
        };
        lookup(table, key).map_or(name, |(_, value)| value.span())
    }

    /// The value of `key` in the node's `index`-th call, else the call, else the node's name.
    fn call_key(&self, node: NodeId, index: usize, key: &str) -> Range<usize> {
        let Some((name, table)) = self.node(node) else {
            return 0..0;
        };
        let call = lookup(table, "calls").and_then(|(_, calls)| match calls.get_ref() {
            DeValue::Array(items) => items.get(index),
            _ => None,
        });
        let Some(call) = call else {
            return name;
        };
        as_table(call)
            .and_then(|table| lookup(table, key))
            .map_or(call.span(), |(_, value)| value.span())
    }

    /// The value of `key` in a workload's table, else the workload's name.
    fn workload_key(&self, name: &str, key: &str) -> Range<usize> {
        let Some((span, table)) = self.entry("workload", name) else {
            return 0..0;
        };
        lookup(table, key).map_or(span, |(_, value)| value.span())
    }
}

// ---- sizes ------------------------------------------------------------------------------

/// Rejects models too large to simulate; `true` when the sizes are fine.
fn check_sizes(sink: &mut Sink<'_>, at: &Locator<'_, '_>) -> bool {
    let topology = at.topology;
    let mut ok = true;
    let mut total: u64 = 0;
    for (index, node) in topology.nodes.iter().enumerate() {
        let id = NodeId(index as u32);
        if node.calls.len() > usize::from(u16::MAX) {
            sink.error(
                Code::OutOfRange,
                at.node_key(id, "calls"),
                format!("node `{}` makes {} calls", node.name, node.calls.len()),
            )
            .label(format!("expected at most {} calls", u16::MAX));
            ok = false;
        }
        if node.kind == NodeKind::External {
            continue;
        }
        // An autoscaled node holds `max` replica places per zone from the start.
        let replicas = node.zones.len() as u64 * u64::from(node.slots_per_zone());
        total = total.saturating_add(replicas);
        if total > MAX_REPLICAS && ok {
            let key = if node.autoscale.is_some() {
                "autoscale"
            } else {
                "replicas"
            };
            sink.error(
                Code::OutOfRange,
                at.node_key(id, key),
                format!("the model has more than {MAX_REPLICAS} replicas"),
            )
            .label(format!("`{}` brings the total to {total}", node.name))
            .help("the simulator keeps state per replica; model fewer, larger replicas");
            ok = false;
        }
    }
    ok
}

// ---- W0005: timeouts shorter than the fastest answer -------------------------------------

/// Per node, the least time in which it can answer successfully: its own service time's
/// minimum plus, for services and databases, the fastest answers of the calls it always makes
/// and cannot do without (probability 1, not optional). Optional calls add nothing: a fast
/// failure only degrades the answer.
fn fastest_answers(topology: &Topology, order: &[NodeId]) -> Vec<u64> {
    let mut fastest = vec![0u64; topology.nodes.len()];
    for &id in order.iter().rev() {
        let node = topology.node(id);
        let mut total = node.service_time.min_ns();
        if makes_calls(&node.role) {
            for call in node
                .calls
                .iter()
                .filter(|c| c.probability >= 1.0 && !c.optional)
            {
                total = total.saturating_add(call_floor(topology, &fastest, call.to));
            }
        }
        fastest[id.index()] = total;
    }
    fastest
}

/// The least time a successful call to `to` takes, cache misses and fall-through included.
fn call_floor(topology: &Topology, fastest: &[u64], to: NodeId) -> u64 {
    let own = fastest[to.index()];
    let Role::Cache {
        hit_ratio,
        backing,
        on_unavailable,
        ..
    } = topology.node(to).role
    else {
        return own;
    };
    let backing = fastest[backing.index()];
    let through_cache = if hit_ratio > 0.0 {
        own
    } else {
        own.saturating_add(backing)
    };
    match on_unavailable {
        OnUnavailable::Fallthrough => through_cache.min(backing),
        OnUnavailable::Fail => through_cache,
    }
}

fn warn_short_timeouts(sink: &mut Sink<'_>, at: &Locator<'_, '_>, fastest: &[u64]) {
    let topology = at.topology;
    for workload in &topology.workloads {
        let Some(timeout) = workload.timeout_ns else {
            continue;
        };
        let floor = call_floor(topology, fastest, workload.target);
        if timeout < floor {
            let target = &topology.node(workload.target).name;
            sink.error(
                Code::TimeoutBelowLatency,
                at.workload_key(&workload.name, "timeout"),
                format!(
                    "every request of workload `{}` times out: its client timeout ({}) is shorter than the fastest answer of `{target}` ({})",
                    workload.name,
                    format_duration_ns(timeout),
                    format_duration_ns(floor)
                ),
            )
            .label("shorter than any answer")
            .help(fastest_help(topology, workload.target));
        }
    }
    for (index, node) in topology.nodes.iter().enumerate() {
        if !makes_calls(&node.role) {
            continue;
        }
        let id = NodeId(index as u32);
        for (call_index, call) in node.calls.iter().enumerate() {
            let Some(timeout) = call.timeout_ns else {
                continue;
            };
            let span = at.call_key(id, call_index, "timeout");
            check_call_timeout(sink, topology, fastest, call.to, timeout, span);
        }
    }
}

/// Warns when a call's timeout cuts off every answer of its callee, or of the backing store
/// that the same call policy reaches on a cache miss.
fn check_call_timeout(
    sink: &mut Sink<'_>,
    topology: &Topology,
    fastest: &[u64],
    to: NodeId,
    timeout: u64,
    span: Range<usize>,
) {
    let callee = topology.node(to);
    let floor = fastest[to.index()];
    if timeout < floor {
        sink.error(
            Code::TimeoutBelowLatency,
            span,
            format!(
                "this call always times out: its timeout ({}) is shorter than the fastest answer of `{}` ({})",
                format_duration_ns(timeout),
                callee.name,
                format_duration_ns(floor)
            ),
        )
        .label("shorter than any answer")
        .help(fastest_help(topology, to));
        return;
    }
    if let Role::Cache { backing, .. } = callee.role {
        let floor = fastest[backing.index()];
        if timeout < floor {
            let backing = &topology.node(backing).name;
            sink.error(
                Code::TimeoutBelowLatency,
                span,
                format!(
                    "every cache miss of this call times out: its timeout ({}) is shorter than the fastest answer of `{backing}` ({}), the backing store of `{}`",
                    format_duration_ns(timeout),
                    format_duration_ns(floor),
                    callee.name
                ),
            )
            .label("shorter than any answer of the backing store")
            .help("a miss is served by the backing store under the same call policy; raise the timeout above its fastest answer");
        }
    }
}

fn fastest_help(topology: &Topology, node: NodeId) -> String {
    let node = topology.node(node);
    let what = if node.kind == NodeKind::External {
        "the minimum of its latency"
    } else {
        "the minimum of its service time plus the calls it always makes"
    };
    format!(
        "`{}` cannot answer faster than {what}; raise the timeout above that",
        node.name
    )
}

// ---- W0006: retries that outlast the client -----------------------------------------------

/// The longest a call can take before its caller gives up on it: every attempt times out and
/// every backoff is at its largest (jitter only shortens it). `None` without a timeout.
pub(crate) fn worst_case_ns(call: &Call) -> Option<u64> {
    let timeout = call.timeout_ns?;
    let attempts = u64::from(call.retries) + 1;
    let mut total = timeout.saturating_mul(attempts);
    let mut base = call.backoff_ns;
    let mut retry: u64 = 1;
    while retry <= u64::from(call.retries) {
        let wait = base.min(call.max_backoff_ns);
        let next = base.saturating_mul(2);
        if next.min(call.max_backoff_ns) == wait {
            // Every later retry waits the same: add them all at once.
            let left = u64::from(call.retries) - retry + 1;
            return Some(total.saturating_add(wait.saturating_mul(left)));
        }
        total = total.saturating_add(wait);
        base = next;
        retry += 1;
    }
    Some(total)
}

/// The worst case in words: past about 584 years the sum saturates, and a number that large
/// only says that the backoff doubles without a bound.
fn worst_text(worst_ns: u64) -> String {
    if worst_ns == u64::MAX {
        "longer than 584 years".to_string()
    } else {
        format_duration_ns(worst_ns)
    }
}

/// The base backoffs of the retries, as the simulator waits them (jitter only shortens them):
/// all when there are at most four, else the first three and the last; `max_backoff` named
/// when it caps them, "unbounded" when the doubling runs past what a `u64` of nanoseconds holds.
pub(crate) fn backoff_schedule(call: &Call) -> String {
    let wait = |retry: u32| -> Option<u64> {
        let doubled = 1u64
            .checked_shl(retry - 1)
            .and_then(|f| call.backoff_ns.checked_mul(f));
        match doubled {
            Some(ns) => Some(ns.min(call.max_backoff_ns)),
            None if call.max_backoff_ns != u64::MAX => Some(call.max_backoff_ns),
            None => None,
        }
    };
    let show = |retry: u32| wait(retry).map_or("unbounded".to_string(), format_duration_ns);
    let retries = u32::from(call.retries);
    let mut parts: Vec<String> = if retries <= 4 {
        (1..=retries).map(show).collect()
    } else {
        let mut first: Vec<String> = (1..=3).map(show).collect();
        first.push("…".to_string());
        first.push(show(retries));
        first
    };
    if call.max_backoff_ns != u64::MAX
        && (1..=retries).any(|r| wait(r) == Some(call.max_backoff_ns))
    {
        parts.push(format!(
            "(capped by max_backoff {})",
            format_duration_ns(call.max_backoff_ns)
        ));
    }
    parts.join(", ").replace(", (", " (")
}

/// Without `max_backoff` the backoff doubles every retry, so the help suggests capping it.
fn retries_help(call: &Call) -> String {
    let base = "the client gives up before the last retries: they only add load; lower `retries` or `timeout`, or raise the client's";
    if call.max_backoff_ns == u64::MAX && call.backoff_ns > 0 {
        format!("{base}; the backoff doubles each retry without a bound: cap it with `max_backoff`")
    } else {
        base.to_string()
    }
}

fn warn_long_retries(sink: &mut Sink<'_>, at: &Locator<'_, '_>) {
    let topology = at.topology;
    // Per node, the workload with the shortest client timeout that reaches it.
    let mut strictest: Vec<Option<(u64, usize)>> = vec![None; topology.nodes.len()];
    for (w, workload) in topology.workloads.iter().enumerate() {
        let Some(timeout) = workload.timeout_ns else {
            continue;
        };
        for node in reached_from(topology, workload.target) {
            let slot = &mut strictest[node.index()];
            if slot.is_none_or(|(t, _)| timeout < t) {
                *slot = Some((timeout, w));
            }
        }
    }
    for (index, node) in topology.nodes.iter().enumerate() {
        let Some((client_ns, w)) = strictest[index] else {
            continue;
        };
        if !makes_calls(&node.role) {
            continue;
        }
        for (call_index, call) in node.calls.iter().enumerate() {
            let Some(worst) = worst_case_ns(call).filter(|_| call.retries > 0) else {
                continue;
            };
            if worst <= client_ns {
                continue;
            }
            let workload = &topology.workloads[w].name;
            let span = at.call_key(NodeId(index as u32), call_index, "retries");
            sink.error(
                Code::RetriesExceedClientTimeout,
                span,
                format!(
                    "the retries of `{}` -> `{}` can take {}, longer than the client timeout of workload `{workload}` ({})",
                    node.name,
                    topology.node(call.to).name,
                    worst_text(worst),
                    format_duration_ns(client_ns)
                ),
            )
            .label(format!(
                "{} attempts x {} timeout, plus backoffs {}",
                u64::from(call.retries) + 1,
                format_duration_ns(call.timeout_ns.unwrap_or(0)),
                backoff_schedule(call)
            ))
            .help(retries_help(call));
        }
    }
}

/// Every node a request entering at `target` can reach: through the calls of services and
/// databases and through caches' backing stores, as the simulator makes them.
fn reached_from(topology: &Topology, target: NodeId) -> Vec<NodeId> {
    let mut seen = vec![false; topology.nodes.len()];
    let mut stack = vec![target];
    let mut reached = Vec::new();
    while let Some(node) = stack.pop() {
        if std::mem::replace(&mut seen[node.index()], true) {
            continue;
        }
        reached.push(node);
        stack.extend(callees(topology, node));
    }
    reached
}

/// The nodes a node's callers reach through it: its calls, or a cache's backing store.
fn callees(topology: &Topology, node: NodeId) -> Vec<NodeId> {
    let node = topology.node(node);
    match node.role {
        Role::Cache { backing, .. } => vec![backing],
        ref role if makes_calls(role) => node.calls.iter().map(|c| c.to).collect(),
        _ => Vec::new(),
    }
}

// ---- W0007: saturated before any fault ----------------------------------------------------

/// Mean requests per second offered to each node by the workloads: each call passes on its
/// caller's rate times its probability, a cache's misses go to its backing store.
fn warn_saturated(sink: &mut Sink<'_>, at: &Locator<'_, '_>, order: &[NodeId]) {
    let topology = at.topology;
    let rates = arrival_rates(topology, order);
    let answers = mean_answers(topology, order);
    for (index, node) in topology.nodes.iter().enumerate() {
        if node.kind == NodeKind::External {
            continue;
        }
        let held_ns = held_ns(node, answers[index]);
        let replicas = serving_replicas(node);
        let servers = replicas as f64 * f64::from(node.workers);
        let capacity_per_s = servers * 1e9 / held_ns;
        let utilisation = rates[index] / capacity_per_s;
        if utilisation.is_nan() || utilisation < 1.0 {
            continue;
        }
        let id = NodeId(index as u32);
        let serving = if matches!(node.role, Role::Database { .. }) {
            "in its primary zone"
        } else {
            "in all its zones"
        };
        sink.error(
            Code::Saturated,
            at.node_name(id),
            format!(
                "node `{}` is saturated before any fault: utilisation {}",
                node.name,
                readable(utilisation)
            ),
        )
        .label(format!(
            "{:.0} requests/s offered{}, at most {:.0}/s served",
            rates[index],
            // A varying rate or closed-loop users offer their peak only at times.
            if topology.workloads.iter().all(|w| w.traffic.is_steady()) {
                ""
            } else {
                " at peak"
            },
            capacity_per_s
        ))
        .help(format!(
            "{replicas} replica(s) {serving} x {} workers, each request holding a worker {} on average (without queueing); add replicas or workers, or lower the load",
            node.workers,
            format_duration_ns(held_ns.round() as u64)
        ));
    }
}

/// Two decimals, or scientific notation for the absurdly large.
fn readable(x: f64) -> String {
    if x < 1e4 {
        format!("{x:.2}")
    } else {
        format!("{x:.1e}")
    }
}

#[cfg(test)]
#[path = "lint_tests.rs"]
mod tests;
