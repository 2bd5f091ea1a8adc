//! What the traces showed, counted: per node, per edge (caller -> callee), per workload (root
//! operation) and per instance. Everything here is a sum, a maximum or a histogram, so memory
//! is bounded by the distinct names, not the spans; and every sum is of integers (or of floats
//! added in the assembler's fixed order), so the same input gives the same numbers whatever
//! order the traces finished in.

use std::collections::HashMap;

use hdrhistogram::Histogram;

use super::span::{Name, Names};

/// Histograms of nanoseconds up to a day at three significant figures (0.1 % resolution),
/// which is what a median within 5 % and a p99 within 10 % need, at tens of kilobytes per
/// node. Longer spans count as a day (`saturating_record`).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 86_400_000_000_000, 3).expect("valid histogram bounds")
}

/// What a callee without spans of its own looked like from its callers' client spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hint {
    /// `db.system` redis / memcached (the name of the system kept).
    Cache(Name),
    /// Another `db.system`.
    Database(Name),
    /// `messaging.system`.
    Queue(Name),
    /// Only a `peer.service` / `server.address`.
    External,
}

/// One node: a service with spans of its own (`own`), or a callee seen only from its callers.
#[derive(Clone, Debug)]
pub struct NodeObs {
    /// Server / root spans of the node (`own`), or client spans to it.
    pub visits: u64,
    /// Spans of every kind attributed to the node (its internal and client spans too).
    pub spans: u64,
    pub own: bool,
    pub errors: u64,
    /// Span duration minus the union of its calls' intervals.
    pub self_time: Histogram<u64>,
    /// Whole span durations (for `calibrate`).
    pub latency: Histogram<u64>,
    /// How its callers' client spans described it (the most common hint wins; ties by order).
    pub hints: HashMap<Hint, u64>,
    /// Visits whose calls overlapped in time.
    pub parallel: u64,
    /// Visits in error although none of their calls failed: errors of its own.
    pub own_errors: u64,
    /// The most concurrent client spans to it (for a callee without spans of its own).
    pub max_concurrency: u32,
    /// The service whose CONSUMER spans hang off producer spans to it (a queue's consumer).
    pub consumers: HashMap<Name, u64>,
}

impl NodeObs {
    pub fn new() -> NodeObs {
        NodeObs {
            visits: 0,
            spans: 0,
            own: false,
            errors: 0,
            self_time: histogram(),
            latency: histogram(),
            hints: HashMap::new(),
            parallel: 0,
            own_errors: 0,
            max_concurrency: 0,
            consumers: HashMap::new(),
        }
    }

    /// The hint most often seen; ties go to the smaller hint, so the answer is deterministic.
    pub fn hint(&self) -> Option<Hint> {
        let mut hints: Vec<_> = self.hints.iter().collect();
        hints.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        hints.first().map(|(hint, _)| **hint)
    }
}

impl Default for NodeObs {
    fn default() -> NodeObs {
        NodeObs::new()
    }
}

/// Calls from one node to another, counted per visit of the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EdgeObs {
    /// Visits of the caller that called the callee at least once.
    pub parents: u64,
    /// Every attempt (first calls, retries and repeats).
    pub attempts: u64,
    /// Attempts made right after a failed attempt to the same callee in the same visit.
    pub retries: u64,
    /// The most retries in one visit.
    pub max_retries: u32,
    /// Sum and count of the gaps between a failed attempt's end and its retry's start.
    pub backoff_ns: u128,
    pub backoffs: u64,
    /// Attempts that failed.
    pub attempt_errors: u64,
    /// Calls whose last attempt failed.
    pub call_errors: u64,
    /// Of those, calls whose caller's span still succeeded (an optional call).
    pub call_errors_caller_ok: u64,
    /// Attempts made again after a success: more than one call per visit.
    pub repeats: u64,
    /// Sum of the first call's start minus the caller's start: the calls' order.
    pub offset_ns: u128,
    /// Calls that overlapped another call of the same visit.
    pub overlapping: u64,
}

/// The traffic of one entry operation: root spans of a service and span name.
#[derive(Clone, Debug)]
pub struct WorkloadObs {
    pub service: Name,
    pub operation: Name,
    pub roots: u64,
    pub errors: u64,
    pub latency: Histogram<u64>,
    /// Inter-arrival gaps in seconds, summed in the assembler's start order.
    pub gaps: u64,
    pub gap_sum_s: f64,
    pub gap_sum_sq_s: f64,
    pub first_start_ns: u64,
    pub last_start_ns: u64,
}

/// One instance of a service (`service.instance.id`, or the service alone without it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceObs {
    pub service: Name,
    pub instance: Option<Name>,
    pub zone: Option<Name>,
    pub k8s_node: Option<Name>,
    pub visits: u64,
    /// The most server spans of this instance seen open at once.
    pub max_concurrency: u32,
}

/// Counts of what the analysis could not use, each named in the import's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problems {
    /// Spans whose parent id was not in their trace (a lost span, or a trace cut by the files).
    pub orphans: u64,
    /// Spans repeated with the id of an earlier span of their trace (the later ones are
    /// ignored).
    pub duplicates: u64,
    /// Client spans naming no callee (no server child, no `peer.service`, `server.address` or
    /// `db.system`), by caller and span name: their time counts as the caller's own work.
    pub anonymous_calls: HashMap<(Name, Name), u64>,
}

/// Everything counted over all the traces.
#[derive(Debug, Default)]
pub struct Observed {
    pub names: Names,
    pub spans: u64,
    pub traces: u64,
    /// The earliest start and the latest end of any span: the traces' time window.
    pub first_ns: u64,
    pub last_ns: u64,
    pub nodes: HashMap<Name, NodeObs>,
    pub edges: HashMap<(Name, Name), EdgeObs>,
    /// (caller, first callee, then callee): visits of the caller in which the first callee's
    /// first call ended before the second's began. Finds a cache's backing store: the callee
    /// called only after the cache.
    pub after: HashMap<(Name, Name, Name), u64>,
    /// Keyed by (service, operation).
    pub workloads: HashMap<(Name, Name), WorkloadObs>,
    pub instances: HashMap<(Name, Option<Name>), InstanceObs>,
    pub problems: Problems,
}

impl Observed {
    /// The traces' time window in seconds (at least a microsecond, so rates stay finite).
    pub fn window_s(&self) -> f64 {
        (self.last_ns.saturating_sub(self.first_ns)).max(1_000) as f64 / 1e9
    }

    pub fn name(&self, name: Name) -> &str {
        self.names.get(name)
    }

    /// Node names in name order.
    pub fn node_names(&self) -> Vec<(String, Name)> {
        let mut names: Vec<_> = self
            .nodes
            .keys()
            .map(|&n| (self.name(n).to_string(), n))
            .collect();
        names.sort();
        names
    }
}
