//! One finished trace, counted into `Observed`.
//!
//! A *visit* is a span where work enters a service: a root, a span whose parent is in another
//! service, or a SERVER / CONSUMER span under a CLIENT / PRODUCER one. A visit's *calls* are
//! found by walking its own service's spans below it (through INTERNAL spans): a CLIENT /
//! PRODUCER span is a call — to the service of the visit under it, or, without one, to the
//! callee its attributes name (`peer.service`, `server.address`, `db.system`,
//! `messaging.destination.name`) — and a visit of another service directly under it is a call
//! without a client span. Self time is the visit's duration minus the union of its calls'
//! intervals (clipped to the visit). Calls to the same callee in one visit are attempts: one
//! right after a failed one is a retry, one after a success a repeat.

use std::collections::HashMap;

use super::assemble::{Reorder, SlotOwner};
use super::observed::{Hint, Observed, WorkloadObs, histogram};
use super::span::{Name, Names, Span};

/// One call seen from a visit.
#[derive(Clone, Copy, Debug)]
struct Call {
    target: Name,
    start_ns: u64,
    end_ns: u64,
    error: bool,
}

/// The attempts of one visit to one callee.
#[derive(Clone, Copy, Debug)]
struct Group {
    target: Name,
    attempts: u64,
    retries: u32,
    repeats: u64,
    errors: u64,
    last_error: bool,
    last_end_ns: u64,
    first_start_ns: u64,
    first_end_ns: u64,
    backoff_ns: u128,
    backoffs: u64,
}

struct Tree {
    spans: Vec<Span>,
    keep: Vec<bool>,
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
}

impl Tree {
    fn new(mut spans: Vec<Span>, obs: &mut Observed) -> Tree {
        spans.sort_by_key(|s| (s.start_ns, s.id));
        let mut by_id = HashMap::with_capacity(spans.len());
        let mut keep = vec![true; spans.len()];
        for (i, span) in spans.iter().enumerate() {
            if by_id.insert(span.id, i).is_some() {
                // Keep the first span of an id; `insert` replaced it, so put it back.
                keep[i] = false;
                obs.problems.duplicates += 1;
            }
        }
        for (i, span) in spans.iter().enumerate() {
            if !keep[i] {
                continue;
            }
            by_id.insert(span.id, i);
        }
        let mut parent = vec![None; spans.len()];
        let mut children = vec![Vec::new(); spans.len()];
        for (i, span) in spans.iter().enumerate() {
            let Some(id) = span.parent else { continue };
            match by_id.get(&id) {
                Some(&p) if keep[i] && p != i => {
                    parent[i] = Some(p);
                    children[p].push(i);
                }
                Some(_) => {}
                None if keep[i] => obs.problems.orphans += 1,
                None => {}
            }
        }
        Tree {
            spans,
            keep,
            parent,
            children,
        }
    }

    fn is_visit(&self, i: usize) -> bool {
        let span = &self.spans[i];
        match self.parent[i] {
            None => true,
            Some(p) => {
                let parent = &self.spans[p];
                parent.service != span.service
                    || (span.kind.is_incoming() && parent.kind.is_outgoing())
            }
        }
    }

    fn is_root(&self, i: usize) -> bool {
        self.spans[i].parent.is_none()
    }
}

/// Counts one trace.
pub(super) fn analyze(spans: Vec<Span>, obs: &mut Observed, order: &mut Reorder) {
    let tree = Tree::new(spans, obs);
    obs.traces += 1;
    for (i, span) in tree.spans.iter().enumerate() {
        if !tree.keep[i] {
            continue;
        }
        obs.spans += 1;
        obs.first_ns = if obs.spans == 1 {
            span.start_ns
        } else {
            obs.first_ns.min(span.start_ns)
        };
        obs.last_ns = obs.last_ns.max(span.end_ns);
        obs.nodes.entry(span.service).or_default().spans += 1;
    }
    for i in 0..tree.spans.len() {
        if tree.keep[i] && tree.is_visit(i) {
            visit(&tree, i, obs, order);
        }
    }
}

fn visit(tree: &Tree, v: usize, obs: &mut Observed, order: &mut Reorder) {
    let span = &tree.spans[v];
    let mut calls = calls_of(tree, v, obs, order);
    calls.sort_by_key(|c| (c.start_ns, c.end_ns));
    let busy = union_ns(&calls, span.start_ns, span.end_ns);
    let duration = span.end_ns - span.start_ns;
    let node = obs.nodes.entry(span.service).or_default();
    node.own = true;
    node.visits += 1;
    node.errors += u64::from(span.error);
    node.latency.saturating_record(duration);
    node.self_time
        .saturating_record(duration - busy.min(duration));
    if overlapping(&calls) > 0 {
        node.parallel += 1;
    }
    let groups = group(&calls);
    if span.error && !groups.iter().any(|g| g.last_error) {
        node.own_errors += 1;
    }
    record_edges(span, &groups, overlapping(&calls), obs);
    record_instance(span, obs, order);
    if tree.is_root(v) {
        record_root(span, obs, order);
    }
}

/// The calls below visit `v`, recording the callees without spans of their own on the way.
fn calls_of(tree: &Tree, v: usize, obs: &mut Observed, order: &mut Reorder) -> Vec<Call> {
    let service = tree.spans[v].service;
    let mut calls = Vec::new();
    let mut stack: Vec<usize> = tree.children[v].clone();
    while let Some(c) = stack.pop() {
        let span = &tree.spans[c];
        if tree.is_visit(c) {
            if span.service != service {
                calls.push(Call {
                    target: span.service,
                    start_ns: span.start_ns,
                    end_ns: span.end_ns,
                    error: span.error,
                });
            }
            continue;
        }
        if !span.kind.is_outgoing() {
            stack.extend(&tree.children[c]);
            continue;
        }
        let callee = tree.children[c].iter().copied().find(|&g| tree.is_visit(g));
        let target = match callee {
            Some(g) if tree.spans[g].service == service => continue,
            Some(g) => match span.attrs.messaging_system {
                // A publish whose consumer's span hangs below it: the call goes to the queue.
                Some(_) => {
                    let queue = leaf(span, &mut obs.names).map(|(name, _)| name);
                    if let Some(queue) = queue {
                        let consumer = tree.spans[g].service;
                        *obs.nodes
                            .entry(queue)
                            .or_default()
                            .consumers
                            .entry(consumer)
                            .or_default() += 1;
                        record_leaf(
                            span,
                            queue,
                            Hint::Queue(span.attrs.messaging_system.unwrap_or(queue)),
                            obs,
                            order,
                        );
                    }
                    queue
                }
                None => Some(tree.spans[g].service),
            },
            None => match leaf(span, &mut obs.names) {
                Some((name, hint)) => {
                    record_leaf(span, name, hint, obs, order);
                    Some(name)
                }
                None => {
                    *obs.problems
                        .anonymous_calls
                        .entry((service, span.operation))
                        .or_default() += 1;
                    None
                }
            },
        };
        if let Some(target) = target {
            calls.push(Call {
                target,
                start_ns: span.start_ns,
                end_ns: span.end_ns,
                error: span.error,
            });
        }
    }
    calls
}

/// The callee a client span names, and what kind of thing it looks like.
fn leaf(span: &Span, names: &mut Names) -> Option<(Name, Hint)> {
    let a = &span.attrs;
    let hint = if let Some(system) = a.db_system {
        match names.get(system) {
            "redis" | "memcached" | "valkey" => Hint::Cache(system),
            _ => Hint::Database(system),
        }
    } else if let Some(system) = a.messaging_system {
        Hint::Queue(system)
    } else {
        Hint::External
    };
    let name = match hint {
        Hint::Queue(system) => a
            .peer_service
            .or(a.destination)
            .or(a.server_address)
            .or(Some(system)),
        Hint::Cache(system) | Hint::Database(system) => {
            a.peer_service.or(a.server_address).or(Some(system))
        }
        Hint::External => a.peer_service.or(a.server_address),
    }?;
    Some((name, hint))
}

fn record_leaf(span: &Span, name: Name, hint: Hint, obs: &mut Observed, order: &mut Reorder) {
    let duration = span.end_ns - span.start_ns;
    let node = obs.nodes.entry(name).or_default();
    node.visits += 1;
    node.errors += u64::from(span.error);
    node.latency.saturating_record(duration);
    node.self_time.saturating_record(duration);
    *node.hints.entry(hint).or_default() += 1;
    order.visit(SlotOwner::Leaf(name), span.start_ns, span.end_ns);
}

/// The time covered by the calls, clipped to [start, end]. `calls` is sorted by start.
fn union_ns(calls: &[Call], start_ns: u64, end_ns: u64) -> u64 {
    let mut total = 0;
    let mut open: Option<(u64, u64)> = None;
    for call in calls {
        let (s, e) = (
            call.start_ns.clamp(start_ns, end_ns),
            call.end_ns.clamp(start_ns, end_ns),
        );
        open = match open {
            Some((os, oe)) if s <= oe => Some((os, oe.max(e))),
            Some((os, oe)) => {
                total += oe - os;
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    total + open.map_or(0, |(s, e)| e - s)
}

/// Zipkin and Jaeger round every timestamp and duration to the microsecond, so a call made
/// right after another may seem to start up to a microsecond before it ended.
const SLACK_NS: u64 = 1_000;

/// Calls that started before an earlier call ended. `calls` is sorted by start.
fn overlapping(calls: &[Call]) -> u64 {
    let mut end = 0;
    let mut count = 0;
    for call in calls {
        if call.start_ns + SLACK_NS < end {
            count += 1;
        }
        end = end.max(call.end_ns);
    }
    count
}

/// The attempts per callee, in the order of each callee's first call.
fn group(calls: &[Call]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for call in calls {
        match groups.iter_mut().find(|g| g.target == call.target) {
            Some(g) => {
                g.attempts += 1;
                if g.last_error {
                    g.retries += 1;
                    g.backoff_ns += u128::from(call.start_ns.saturating_sub(g.last_end_ns));
                    g.backoffs += 1;
                } else {
                    g.repeats += 1;
                }
                g.errors += u64::from(call.error);
                g.last_error = call.error;
                g.last_end_ns = call.end_ns;
            }
            None => groups.push(Group {
                target: call.target,
                attempts: 1,
                retries: 0,
                repeats: 0,
                errors: u64::from(call.error),
                last_error: call.error,
                last_end_ns: call.end_ns,
                first_start_ns: call.start_ns,
                first_end_ns: call.end_ns,
                backoff_ns: 0,
                backoffs: 0,
            }),
        }
    }
    groups
}

fn record_edges(span: &Span, groups: &[Group], overlapping: u64, obs: &mut Observed) {
    for g in groups {
        let edge = obs.edges.entry((span.service, g.target)).or_default();
        edge.parents += 1;
        edge.attempts += g.attempts;
        edge.retries += u64::from(g.retries);
        edge.max_retries = edge.max_retries.max(g.retries);
        edge.backoff_ns += g.backoff_ns;
        edge.backoffs += g.backoffs;
        edge.attempt_errors += g.errors;
        edge.repeats += g.repeats;
        edge.offset_ns += u128::from(g.first_start_ns.saturating_sub(span.start_ns));
        if g.last_error {
            edge.call_errors += 1;
            edge.call_errors_caller_ok += u64::from(!span.error);
        }
        if overlapping > 0 {
            edge.overlapping += 1;
        }
    }
    for a in groups {
        for b in groups {
            if a.target != b.target && a.first_end_ns <= b.first_start_ns + SLACK_NS {
                *obs.after
                    .entry((span.service, a.target, b.target))
                    .or_default() += 1;
            }
        }
    }
}

fn record_instance(span: &Span, obs: &mut Observed, order: &mut Reorder) {
    let key = (span.service, span.attrs.instance);
    let instance = obs.instances.entry(key).or_default();
    instance.service = span.service;
    instance.instance = span.attrs.instance;
    instance.zone = instance.zone.or(span.attrs.zone);
    instance.k8s_node = instance.k8s_node.or(span.attrs.k8s_node);
    instance.visits += 1;
    order.visit(
        SlotOwner::Instance(key.0, key.1),
        span.start_ns,
        span.end_ns,
    );
}

fn record_root(span: &Span, obs: &mut Observed, order: &mut Reorder) {
    let workload = obs
        .workloads
        .entry((span.service, span.operation))
        .or_insert_with(|| WorkloadObs {
            service: span.service,
            operation: span.operation,
            roots: 0,
            errors: 0,
            latency: histogram(),
            gaps: 0,
            gap_sum_s: 0.0,
            gap_sum_sq_s: 0.0,
            first_start_ns: span.start_ns,
            last_start_ns: span.start_ns,
        });
    workload.roots += 1;
    workload.errors += u64::from(span.error);
    workload
        .latency
        .saturating_record(span.end_ns - span.start_ns);
    workload.first_start_ns = workload.first_start_ns.min(span.start_ns);
    workload.last_start_ns = workload.last_start_ns.max(span.start_ns);
    order.root(span.service, span.operation, span.start_ns);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(start_ns: u64, end_ns: u64, target: Name, error: bool) -> Call {
        Call {
            target,
            start_ns,
            end_ns,
            error,
        }
    }

    #[test]
    fn the_union_of_calls_counts_overlaps_once_and_clips_to_the_visit() {
        let us = 1_000;
        let calls = [
            call(0, 10 * us, 1, false),
            call(5 * us, 20 * us, 2, false),
            call(30 * us, 40 * us, 3, false),
            call(45 * us, 200 * us, 4, false),
        ];
        assert_eq!(union_ns(&calls, 0, 100 * us), (20 + 10 + 55) * us);
        assert_eq!(overlapping(&calls), 1);
        // Within a microsecond is rounding (Zipkin, Jaeger), not overlap.
        assert_eq!(
            overlapping(&[
                call(0, 10 * us, 1, false),
                call(10 * us - 500, 20 * us, 2, false)
            ]),
            0
        );
    }

    #[test]
    fn an_attempt_after_a_failure_is_a_retry_and_after_a_success_a_repeat() {
        let calls = [
            call(0, 1, 7, true),
            call(11, 12, 7, false),
            call(13, 14, 7, false),
            call(2, 3, 8, false),
        ];
        let groups = group(&calls);
        let g = groups.iter().find(|g| g.target == 7).unwrap();
        assert_eq!(
            (g.attempts, g.retries, g.repeats, g.backoff_ns, g.last_error),
            (3, 1, 1, 10, false)
        );
    }
}
