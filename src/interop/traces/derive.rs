//! Observations -> a model file. Every derived value is written with a comment saying what it
//! came from (how many spans, visits or calls); every value the traces cannot give is a
//! `Guess`, written as such and listed at the end with how to override it; whatever has no
//! counterpart in the model is named in `unmapped`. The text is rendered by `render.rs`.

use std::collections::{BTreeMap, BTreeSet};

use super::Options;
use super::fit::{Fit, fit};
use super::observed::{Hint, NodeObs, Observed};
use super::span::Name;

/// A value the traces could not give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guess {
    pub what: String,
    pub why: String,
    pub how: String,
}

/// The kind of model node, with the kind's own keys.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeDraft {
    Service(Placed),
    Cache {
        placed: Placed,
        hit_ratio: f64,
        backing: String,
        from: String,
    },
    Database {
        placed: Placed,
        primary: String,
    },
    Queue {
        zones: Vec<String>,
        consumer: String,
        ack: Option<Fit>,
    },
    External {
        latency: Option<Fit>,
        error_rate: f64,
    },
}

/// The keys of a node with replicas in zones.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    pub zones: Vec<String>,
    pub replicas: u32,
    pub workers: u32,
    pub service_time: Option<Fit>,
    pub calls: Vec<CallDraft>,
    /// Placed by guess (a callee without spans of its own), not from its instances.
    pub guessed: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CallDraft {
    pub to: String,
    pub probability: f64,
    pub timeout_ns: u64,
    pub retries: u32,
    pub backoff_ns: u64,
    pub optional: bool,
    /// The comment: from how many visits and attempts.
    pub origin: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadDraft {
    pub name: String,
    pub target: String,
    pub rate_per_s: f64,
    pub constant: bool,
    pub timeout_ns: u64,
    pub origin: String,
}

/// The model as derived, before rendering.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    pub name: String,
    pub header: Vec<String>,
    pub zones: Vec<String>,
    pub workloads: Vec<WorkloadDraft>,
    /// By name, with the comment lines written above each.
    pub nodes: BTreeMap<String, (NodeDraft, Vec<String>)>,
    pub guesses: Vec<Guess>,
    pub unmapped: Vec<String>,
}

impl Derived {
    /// Every fitted distribution, by node, for the CLI to print with its fit error.
    pub fn fits(&self) -> Vec<(String, &'static str, Fit)> {
        let mut fits = Vec::new();
        for (name, (node, _)) in &self.nodes {
            let (what, fit) = match node {
                NodeDraft::Service(p)
                | NodeDraft::Cache { placed: p, .. }
                | NodeDraft::Database { placed: p, .. } => {
                    ("service_time", p.service_time.as_ref())
                }
                NodeDraft::Queue { ack, .. } => ("ack", ack.as_ref()),
                NodeDraft::External { latency, .. } => ("latency", latency.as_ref()),
            };
            if let Some(fit) = fit {
                fits.push((name.clone(), what, fit.clone()));
            }
        }
        fits
    }
}

/// A workload's name from its entry operation: `GET /checkout` -> `get-checkout`.
pub fn workload_name(operation: &str) -> String {
    let mut name = String::new();
    for c in operation.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    name.trim_end_matches('-').to_string()
}

/// The default call timeout: the traces show how long calls took, never how long a caller
/// would have waited.
const CALL_TIMEOUT_NS: u64 = 1_000_000_000;
const CLIENT_TIMEOUT_NS: u64 = 10_000_000_000;

struct Ctx<'a> {
    obs: &'a Observed,
    options: &'a Options,
    guesses: Vec<Guess>,
    unmapped: Vec<String>,
    /// Zones of each service with spans of its own, and its instances per zone.
    placement: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
}

impl Ctx<'_> {
    fn guess(&mut self, what: String, why: &str, how: &str) {
        self.guesses.push(Guess {
            what,
            why: why.to_string(),
            how: how.to_string(),
        });
    }
    fn name(&self, name: Name) -> &str {
        self.obs.name(name)
    }
}

/// Derives a model from what the traces showed.
pub fn derive(obs: &Observed, options: &Options) -> Derived {
    let mut ctx = Ctx {
        obs,
        options,
        guesses: Vec::new(),
        unmapped: Vec::new(),
        placement: BTreeMap::new(),
    };
    place_instances(&mut ctx);
    let zones = model_zones(&mut ctx);
    let caches = find_backings(&ctx);
    let mut nodes = BTreeMap::new();
    for (name, id) in obs.node_names() {
        let node = &obs.nodes[&id];
        if let Some(draft) = node_draft(&mut ctx, &name, id, node, &zones, &caches) {
            nodes.insert(name, draft);
        }
    }
    let workloads = workloads(&mut ctx);
    problems(&mut ctx);
    global_guesses(&mut ctx);
    let header = vec![
        format!(
            "Imported by `blastradius import traces` from {} spans in {} traces, {:.1} s of trace time.",
            obs.spans,
            obs.traces,
            obs.window_s()
        ),
        "Each value says what it was derived from; every guess is listed at the end.".to_string(),
    ];
    Derived {
        name: options.name.clone(),
        header,
        zones,
        workloads,
        nodes,
        guesses: ctx.guesses,
        unmapped: ctx.unmapped,
    }
}

/// Each instance's zone: `cloud.availability_zone`, else its `k8s.node.name` mapped by the
/// options.
fn place_instances(ctx: &mut Ctx) {
    let mut instances: Vec<_> = ctx.obs.instances.values().collect();
    instances.sort_by_key(|i| {
        (
            ctx.name(i.service).to_string(),
            i.instance.map(|n| ctx.name(n).to_string()),
        )
    });
    let mut unplaced = BTreeSet::new();
    for instance in instances {
        let service = ctx.name(instance.service).to_string();
        let id = instance.instance.map_or_else(
            || format!("{service} (no service.instance.id)"),
            |n| ctx.name(n).to_string(),
        );
        let zone = instance.zone.map(|z| ctx.name(z).to_string()).or_else(|| {
            let node = ctx.name(instance.k8s_node?);
            ctx.options.node_zones.get(node).cloned()
        });
        match zone {
            Some(zone) => {
                ctx.placement
                    .entry(service)
                    .or_default()
                    .entry(zone)
                    .or_default()
                    .insert(id);
            }
            None => {
                unplaced.insert(service.clone());
                ctx.placement
                    .entry(service)
                    .or_default()
                    .entry(String::new())
                    .or_default()
                    .insert(id);
            }
        }
    }
    for service in unplaced {
        ctx.guess(
            format!("`{service}`: zones"),
            "some of its spans carry neither `cloud.availability_zone` nor a `k8s.node.name` that --node-zone maps",
            "set `cloud.availability_zone` on the resource, or pass --node-zone NODE=ZONE",
        );
    }
}

/// The model's zones: every zone a service was seen in, in name order; one zone when none is
/// known.
fn model_zones(ctx: &mut Ctx) -> Vec<String> {
    let zones: BTreeSet<String> = ctx
        .placement
        .values()
        .flat_map(|z| z.keys())
        .filter(|z| !z.is_empty())
        .cloned()
        .collect();
    if zones.is_empty() {
        ctx.guess(
            "the zones: one zone, `zone-1`".into(),
            "no span carries `cloud.availability_zone` (or a mapped `k8s.node.name`)",
            "edit `zones` and each node's `zones`, or pass --node-zone NODE=ZONE",
        );
        return vec!["zone-1".to_string()];
    }
    zones.into_iter().collect()
}

/// For each cache, its backing store and hit ratio: a callee that its callers call only after
/// the cache, in some of the visits that call the cache (a miss). Keyed by the cache's name:
/// (backing, hit ratio, the callers whose calls to the backing are the misses).
fn find_backings(ctx: &Ctx) -> BTreeMap<Name, (Name, f64, Vec<Name>, u64)> {
    let obs = ctx.obs;
    let mut found = BTreeMap::new();
    for (&cache, node) in &obs.nodes {
        if node.own || !matches!(node.hint(), Some(Hint::Cache(_))) {
            continue;
        }
        // A miss is a call made only after the cache, in some but not all of the visits that
        // looked it up; a store without spans of its own (a database) is preferred to a
        // service, then the one called most often.
        let mut best: Option<(bool, u64, &str, Name)> = None;
        for (&(caller, first, then), &count) in &obs.after {
            let (Some(edge), Some(lookups)) = (
                obs.edges.get(&(caller, then)),
                obs.edges.get(&(caller, cache)),
            ) else {
                continue;
            };
            if first != cache || count != edge.parents || edge.parents >= lookups.parents {
                continue;
            }
            let leaf = obs.nodes.get(&then).is_some_and(|n| !n.own);
            let candidate = (leaf, count, obs.name(then), then);
            if best.is_none_or(|b| {
                (candidate.0, candidate.1, std::cmp::Reverse(candidate.2))
                    > (b.0, b.1, std::cmp::Reverse(b.2))
            }) {
                best = Some(candidate);
            }
        }
        let best = best.map(|b| ((), b.3));
        let Some((_, backing)) = best else { continue };
        let mut callers: Vec<Name> = obs
            .edges
            .keys()
            .filter(|(caller, callee)| {
                *callee == backing
                    && obs.after.get(&(*caller, cache, backing))
                        == obs.edges.get(&(*caller, backing)).map(|e| &e.parents)
            })
            .map(|(caller, _)| *caller)
            .collect();
        callers.sort_by_key(|c| obs.name(*c).to_string());
        let misses: u64 = callers
            .iter()
            .map(|c| obs.edges[&(*c, backing)].parents)
            .sum();
        let lookups: u64 = callers
            .iter()
            .filter_map(|c| obs.edges.get(&(*c, cache)))
            .map(|e| e.parents)
            .sum();
        if lookups > 0 {
            found.insert(
                cache,
                (
                    backing,
                    1.0 - misses as f64 / lookups as f64,
                    callers,
                    lookups,
                ),
            );
        }
    }
    found
}

fn node_draft(
    ctx: &mut Ctx,
    name: &str,
    id: Name,
    node: &NodeObs,
    zones: &[String],
    caches: &BTreeMap<Name, (Name, f64, Vec<Name>, u64)>,
) -> Option<(NodeDraft, Vec<String>)> {
    if node.visits == 0 {
        return None;
    }
    let errors = percent(node.errors, node.visits);
    if node.own {
        let placed = placed_service(ctx, name, id, node, zones, caches);
        let origin = format!(
            "{name}: service, from {} spans ({} server or root spans; errors {errors} of them)",
            node.spans, node.visits
        );
        return Some((NodeDraft::Service(placed), vec![origin]));
    }
    let callers = callers_zones(ctx, id, zones);
    let origin = format!(
        "{name}: seen only from its callers' client spans, {} of them (errors {errors})",
        node.visits
    );
    match node.hint() {
        Some(Hint::Cache(system)) => match caches.get(&id) {
            Some((backing, hit_ratio, _, lookups)) => {
                let system = ctx.name(system).to_string();
                let placed = placed_leaf(ctx, name, node, callers);
                let from = format!(
                    "hit ratio from {lookups} visits that looked it up; a miss is a call to `{}` after it",
                    ctx.name(*backing)
                );
                let origin = format!("{origin}; db.system = {system} -> cache");
                Some((
                    NodeDraft::Cache {
                        placed,
                        hit_ratio: *hit_ratio,
                        backing: ctx.name(*backing).to_string(),
                        from,
                    },
                    vec![origin],
                ))
            }
            None => {
                ctx.guess(
                    format!("`{name}`: an external, not a cache"),
                    "its `db.system` says cache, but no callee is called only after it (no backing store to serve misses)",
                    "write it as `[cache.NAME]` with `hit_ratio` and `backing` by hand",
                );
                Some(external(node, origin))
            }
        },
        Some(Hint::Database(system)) => {
            let origin = format!("{origin}; db.system = {} -> database", ctx.name(system));
            let placed = placed_leaf(ctx, name, node, callers);
            let primary = placed.zones[0].clone();
            ctx.guess(
                format!("`{name}`: primary zone `{primary}`"),
                "a database's primary is not visible in client spans",
                "edit `primary` (and add `failover`)",
            );
            Some((NodeDraft::Database { placed, primary }, vec![origin]))
        }
        Some(Hint::Queue(_)) => queue(ctx, name, node, origin),
        Some(Hint::External) | None => Some(external(
            node,
            format!("{origin}; no spans of its own -> external"),
        )),
    }
}

fn external(node: &NodeObs, origin: String) -> (NodeDraft, Vec<String>) {
    let error_rate = node.errors as f64 / node.visits.max(1) as f64;
    (
        NodeDraft::External {
            latency: fit(&node.latency),
            error_rate,
        },
        vec![origin],
    )
}

fn queue(
    ctx: &mut Ctx,
    name: &str,
    node: &NodeObs,
    origin: String,
) -> Option<(NodeDraft, Vec<String>)> {
    let mut consumers: Vec<_> = node
        .consumers
        .iter()
        .map(|(c, n)| (*n, ctx.name(*c).to_string()))
        .collect();
    consumers.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let Some((_, consumer)) = consumers.first().cloned() else {
        ctx.guess(
            format!("`{name}`: an external, not a queue"),
            "its `messaging.system` says queue, but no consumer's span hangs below the publishes",
            "write it as `[queue.NAME]` with its `consumer` by hand",
        );
        return Some(external(node, origin));
    };
    let zones: Vec<String> = ctx
        .placement
        .get(&consumer)
        .map(|z| z.keys().filter(|z| !z.is_empty()).cloned().collect())
        .unwrap_or_default();
    let origin = format!("{origin}; messaging.system -> queue, consumed by `{consumer}`");
    Some((
        NodeDraft::Queue {
            zones,
            consumer,
            ack: fit(&node.latency),
        },
        vec![origin],
    ))
}

/// A service's placement, workers, service time and calls.
fn placed_service(
    ctx: &mut Ctx,
    name: &str,
    id: Name,
    node: &NodeObs,
    zones: &[String],
    caches: &BTreeMap<Name, (Name, f64, Vec<Name>, u64)>,
) -> Placed {
    let placement = ctx.placement.get(name).cloned().unwrap_or_default();
    let mut node_zones: Vec<String> = placement
        .keys()
        .filter(|z| !z.is_empty())
        .cloned()
        .collect();
    if node_zones.is_empty() {
        node_zones = zones.to_vec();
    }
    let counts: Vec<usize> = placement.values().map(BTreeSet::len).collect();
    let replicas = counts.iter().copied().max().unwrap_or(1).max(1) as u32;
    if counts.iter().any(|&c| c != replicas as usize) {
        let per_zone: Vec<String> = placement
            .iter()
            .map(|(z, i)| format!("{} {}", if z.is_empty() { "?" } else { z }, i.len()))
            .collect();
        ctx.guess(
            format!("`{name}`: {replicas} replicas per zone"),
            &format!(
                "its instances per zone differ ({}); a model has one count for every zone",
                per_zone.join(", ")
            ),
            "edit `replicas`, or split the service",
        );
    }
    let workers = ctx
        .obs
        .instances
        .values()
        .filter(|i| i.service == id)
        .map(|i| i.max_concurrency)
        .max()
        .unwrap_or(1)
        .max(1);
    if node.parallel > 0 {
        ctx.unmapped.push(format!(
            "`{name}`: calls overlapped in {} of {} visits (made in parallel); the model makes a node's calls one after another, so its latency will be their sum",
            node.parallel, node.visits
        ));
    }
    if node.own_errors > 0 {
        ctx.unmapped.push(format!(
            "`{name}`: {} of {} spans failed without a failed call; a service has no error rate of its own in the model (an `errors` fault on it reproduces them in a scenario)",
            node.own_errors, node.visits
        ));
    }
    let calls = calls_of(ctx, id, node, caches);
    Placed {
        zones: node_zones,
        replicas,
        workers,
        service_time: fit(&node.self_time),
        calls,
        guessed: false,
    }
}

/// A callee seen only from client spans: placed where its callers are, one replica per zone,
/// as many workers as client spans were seen open at once.
fn placed_leaf(ctx: &mut Ctx, name: &str, node: &NodeObs, zones: Vec<String>) -> Placed {
    ctx.guess(
        format!("`{name}`: zones {} with 1 replica each, {} workers", zones.join(", "), node.max_concurrency.max(1)),
        "it has no spans of its own, so its placement is unknown: placed with its callers; workers = the most client spans to it seen open at once",
        "edit `zones`, `replicas` and `workers`",
    );
    Placed {
        zones,
        replicas: 1,
        workers: node.max_concurrency.max(1),
        service_time: fit(&node.latency),
        calls: Vec::new(),
        guessed: true,
    }
}

/// The zones of the services calling `id` (every zone when none is known).
fn callers_zones(ctx: &Ctx, id: Name, zones: &[String]) -> Vec<String> {
    let mut set = BTreeSet::new();
    for (caller, callee) in ctx.obs.edges.keys() {
        if *callee == id
            && let Some(placement) = ctx.placement.get(ctx.name(*caller))
        {
            set.extend(placement.keys().filter(|z| !z.is_empty()).cloned());
        }
    }
    if set.is_empty() {
        zones.to_vec()
    } else {
        set.into_iter().collect()
    }
}

fn calls_of(
    ctx: &mut Ctx,
    id: Name,
    node: &NodeObs,
    caches: &BTreeMap<Name, (Name, f64, Vec<Name>, u64)>,
) -> Vec<CallDraft> {
    let obs = ctx.obs;
    let mut edges: Vec<_> = obs
        .edges
        .iter()
        .filter(|((caller, _), _)| *caller == id)
        .collect();
    edges.sort_by(|a, b| {
        let offset = |e: &super::observed::EdgeObs| e.offset_ns / u128::from(e.parents.max(1));
        offset(a.1)
            .cmp(&offset(b.1))
            .then_with(|| obs.name(a.0.1).cmp(obs.name(b.0.1)))
    });
    let mut calls = Vec::new();
    for (&(_, callee), edge) in edges {
        let callee_name = obs.name(callee).to_string();
        let miss_path = caches
            .values()
            .any(|(backing, _, callers, _)| *backing == callee && callers.contains(&id));
        if miss_path || obs.nodes.get(&callee).is_none_or(|n| n.visits == 0) {
            continue;
        }
        calls.push(call_draft(
            ctx,
            obs.name(id),
            &callee_name,
            edge,
            node.visits,
        ));
    }
    calls
}

fn call_draft(
    ctx: &mut Ctx,
    caller: &str,
    callee: &str,
    edge: &super::observed::EdgeObs,
    visits: u64,
) -> CallDraft {
    let probability = (edge.parents as f64 / visits.max(1) as f64).min(1.0);
    let backoff_ns = if edge.backoffs > 0 {
        (edge.backoff_ns / u128::from(edge.backoffs)) as u64
    } else {
        0
    };
    let optional = edge.call_errors > 0 && edge.call_errors_caller_ok * 2 > edge.call_errors;
    let mut origin = format!(
        "{callee}: called in {} of {visits} visits; {} attempts, {} retries after a failure, {} failed",
        edge.parents, edge.attempts, edge.retries, edge.attempt_errors
    );
    if optional {
        origin.push_str(&format!(
            "; {} of {} failed calls left the caller ok -> optional",
            edge.call_errors_caller_ok, edge.call_errors
        ));
    }
    if edge.repeats > 0 {
        ctx.unmapped.push(format!(
            "`{caller} -> {callee}`: {} calls repeated after a success in the same visit; the model calls once per request (the repeats are left out)",
            edge.repeats
        ));
    }
    let slowest = ctx
        .obs
        .nodes
        .get(&ctx.obs.names.lookup(callee).unwrap_or(u32::MAX))
        .map_or(0, |n| n.latency.max());
    let timeout_ns = nice_ceiling(CALL_TIMEOUT_NS.max(slowest.saturating_mul(2)));
    ctx.guess(
        format!("`{caller} -> {callee}`: timeout {}", super::super::draft::exact_duration(timeout_ns)),
        "timeouts are not visible in traces: 1s, or twice the slowest call seen when that is longer",
        "edit the call's `timeout`",
    );
    if edge.max_retries > 0 {
        ctx.guess(
            format!("`{caller} -> {callee}`: retries = {}, jitter none", edge.max_retries),
            "the most retries seen in one visit; the backoff is the mean gap before a retry, jitter is not visible",
            "edit `retries`, `backoff` and `jitter`",
        );
    }
    CallDraft {
        to: callee.to_string(),
        probability,
        timeout_ns,
        retries: edge.max_retries,
        backoff_ns,
        optional,
        origin,
    }
}

/// One workload per entry operation (root spans of a service and name).
fn workloads(ctx: &mut Ctx) -> Vec<WorkloadDraft> {
    let obs = ctx.obs;
    let mut roots: Vec<_> = obs.workloads.values().collect();
    roots.sort_by_key(|w| {
        (
            obs.name(w.service).to_string(),
            obs.name(w.operation).to_string(),
        )
    });
    let mut names = BTreeSet::new();
    let mut drafts = Vec::new();
    for w in roots {
        let service = obs.name(w.service).to_string();
        let operation = obs.name(w.operation);
        let mut name = workload_name(operation);
        if name.is_empty() || names.contains(&name) {
            name = format!("{service}-{name}")
                .trim_end_matches('-')
                .to_string();
        }
        names.insert(name.clone());
        let rate_per_s = w.roots as f64 / obs.window_s();
        let cv = gap_cv(w.gaps, w.gap_sum_s, w.gap_sum_sq_s);
        let constant = cv.is_some_and(|cv| cv < 0.2);
        let arrival = if constant { "constant" } else { "poisson" };
        let cv_text = cv.map_or("too few arrivals to tell".to_string(), |cv| {
            format!("inter-arrival CV {cv:.2}")
        });
        let origin = format!(
            "{name}: {} root spans `{operation}` of {service} over {:.1} s; {cv_text} -> {arrival}; errors {}",
            w.roots,
            obs.window_s(),
            percent(w.errors, w.roots)
        );
        let timeout_ns = nice_ceiling(CLIENT_TIMEOUT_NS.max(w.latency.max().saturating_mul(2)));
        ctx.guess(
            format!("workload `{name}`: client timeout {}", super::super::draft::exact_duration(timeout_ns)),
            "a client's timeout is not visible in traces: 10s, or twice the slowest request seen when that is longer",
            "edit the workload's `timeout`",
        );
        drafts.push(WorkloadDraft {
            name,
            target: service,
            rate_per_s,
            constant,
            timeout_ns,
            origin,
        });
    }
    drafts
}

/// The coefficient of variation of the gaps (1 for a Poisson process, 0 for a constant rate).
fn gap_cv(n: u64, sum: f64, sum_sq: f64) -> Option<f64> {
    if n < 10 {
        return None;
    }
    let mean = sum / n as f64;
    let variance = (sum_sq / n as f64 - mean * mean).max(0.0);
    (mean > 0.0).then(|| variance.sqrt() / mean)
}

fn problems(ctx: &mut Ctx) {
    let p = &ctx.obs.problems;
    if p.orphans > 0 {
        ctx.unmapped.push(format!(
            "{} spans whose parent is not in their trace (lost spans, or a trace cut between files): counted as visits, not as workload roots",
            p.orphans
        ));
    }
    if p.duplicates > 0 {
        ctx.unmapped.push(format!(
            "{} spans repeating the id of an earlier span of their trace: ignored",
            p.duplicates
        ));
    }
    let mut anonymous: Vec<_> = p
        .anonymous_calls
        .iter()
        .map(|((s, o), n)| (ctx.name(*s).to_string(), ctx.name(*o).to_string(), *n))
        .collect();
    anonymous.sort();
    for (service, operation, n) in anonymous {
        ctx.unmapped.push(format!(
            "`{service}`: {n} client spans `{operation}` name no callee (no server span below, no peer.service, server.address or db.system): their time counts as its own work"
        ));
    }
}

fn global_guesses(ctx: &mut Ctx) {
    ctx.guess(
        "every node: concurrency `blocking`, unbounded queues".into(),
        "traces do not tell a thread per request from an event loop, nor show queue limits",
        "set `concurrency = \"async\"` and `queue` where that is how the service works",
    );
    ctx.guess(
        "workers: the most spans seen open at once on one instance".into(),
        "traces show the concurrency reached, not the pool's size: a lower bound",
        "edit `workers` to the real pool size",
    );
}

fn percent(part: u64, whole: u64) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

/// The smallest 1, 2 or 5 times a power of ten milliseconds at or above `ns`.
fn nice_ceiling(ns: u64) -> u64 {
    let mut step = 1_000_000u64;
    loop {
        for m in [1, 2, 5] {
            if step.saturating_mul(m) >= ns {
                return step.saturating_mul(m);
            }
        }
        step = step.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_names_are_lowercase_words_joined_by_dashes() {
        assert_eq!(workload_name("GET /checkout"), "get-checkout");
        assert_eq!(workload_name("/api/v1/Orders/{id}"), "api-v1-orders-id");
        assert_eq!(workload_name("  "), "");
    }

    #[test]
    fn timeouts_round_up_to_one_two_five() {
        assert_eq!(nice_ceiling(1_000_000_000), 1_000_000_000);
        assert_eq!(nice_ceiling(1_000_000_001), 2_000_000_000);
        assert_eq!(nice_ceiling(2_300_000_000), 5_000_000_000);
        assert_eq!(nice_ceiling(1), 1_000_000);
    }

    #[test]
    fn a_poisson_stream_has_a_cv_near_one_and_a_constant_one_zero() {
        assert_eq!(gap_cv(5, 5.0, 5.0), None);
        let cv = gap_cv(100, 100.0, 100.0).unwrap();
        assert!(cv.abs() < 1e-9, "{cv}");
        let cv = gap_cv(100, 100.0, 200.0).unwrap();
        assert!((cv - 1.0).abs() < 1e-9, "{cv}");
    }
}
