//! Failure-mode analysis: every single fault a model admits, as scenarios ready to study.
//!
//! Families: each zone's outage; each node losing one replica and all of them; each call edge
//! slowed and blackholed; each external's outage; each cache's flush; a traffic spike per
//! workload. Every candidate is one fault over the model's normal workload, so ranking them by
//! blast radius answers "which single failure hurts most".

use crate::kernel::Dist;
use crate::model::fault_kinds::DEFAULT_REFILL_NS;
use crate::model::{
    EdgeKind, FaultKind, FaultSpec, FaultTarget, Limits, NodeId, Role, Scenario, Selection,
    Topology, WorkloadId, ZoneId,
};

/// Which families to enumerate and how big each fault is.
#[derive(Clone, Debug)]
pub struct FmaOptions {
    pub zones: bool,
    pub nodes: bool,
    pub edges: bool,
    pub externals: bool,
    pub caches: bool,
    pub load: bool,
    pub duration_ns: u64,
    pub warmup_ns: u64,
    pub fault_start_ns: u64,
    pub fault_duration_ns: u64,
    /// Added to every answer on an edge for the latency candidates.
    pub added_latency_ns: u64,
    pub spike_factor: f64,
}

impl FmaOptions {
    /// The families `has` names switched on — by the `fma_family` names of `FAULT_KINDS`:
    /// `zone`, `node`, `edge`, `external`, `cache`, `load` — and every other field zero, for
    /// the caller to fill in with struct update syntax.
    pub fn with_families(has: impl Fn(&str) -> bool) -> FmaOptions {
        FmaOptions {
            zones: has("zone"),
            nodes: has("node"),
            edges: has("edge"),
            externals: has("external"),
            caches: has("cache"),
            load: has("load"),
            duration_ns: 0,
            warmup_ns: 0,
            fault_start_ns: 0,
            fault_duration_ns: 0,
            added_latency_ns: 0,
            spike_factor: 0.0,
        }
    }
}

/// One single-fault candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// How the report names it, e.g. `zone-outage az-a`.
    pub label: String,
    /// The `fma_family` of the fault's kind (`FAULT_KINDS`).
    pub family: &'static str,
    pub fault: FaultSpec,
}

impl Candidate {
    /// A candidate in the family its fault's kind declares.
    fn new(label: String, fault: FaultSpec) -> Candidate {
        let spec = fault.kind.spec();
        let family = spec.fma_family.unwrap_or_else(|| {
            panic!(
                "fma proposes a `{}` fault, a kind without an fma family",
                spec.name
            )
        });
        Candidate {
            label,
            family,
            fault,
        }
    }
}

pub fn candidates(topology: &Topology, options: &FmaOptions) -> Vec<Candidate> {
    let mut out = Vec::new();
    let timed = |kind, target, selection| FaultSpec {
        kind,
        target,
        selection,
        start_ns: options.fault_start_ns,
        duration_ns: Some(options.fault_duration_ns),
        line: 0,
    };
    if options.zones {
        for (z, zone) in topology.zones.iter().enumerate() {
            let target = FaultTarget::Zone(ZoneId(z as u16));
            let fault = timed(
                FaultKind::ZoneOutage { recovery_ns: None },
                target,
                Selection::All,
            );
            out.push(Candidate::new(format!("zone-outage {zone}"), fault));
        }
        // Moving each zone's traffic away (AWS ARC zonal shift): can the others take it?
        for (z, zone) in topology.zones.iter().enumerate() {
            let target = FaultTarget::Zone(ZoneId(z as u16));
            let kind = FaultKind::ZonalShift { nodes: Vec::new() };
            out.push(Candidate::new(
                format!("zonal-shift {zone}"),
                timed(kind, target, Selection::All),
            ));
        }
    }
    for (n, node) in topology.nodes.iter().enumerate() {
        let id = NodeId(n as u32);
        let external = matches!(node.role, Role::External { .. });
        if options.nodes && !external {
            let replicas = node.zones.len() as u32 * node.replicas_per_zone;
            let crash = FaultKind::Crash {
                restart_after_ns: None,
            };
            if replicas > 1 {
                let fault = timed(crash.clone(), FaultTarget::Node(id), Selection::Count(1));
                let label = format!("crash {} (1 of {replicas} replicas)", node.name);
                out.push(Candidate::new(label, fault));
            }
            let fault = timed(crash, FaultTarget::Node(id), Selection::All);
            out.push(Candidate::new(
                format!("crash {} (all replicas)", node.name),
                fault,
            ));
        }
        if options.externals && external {
            let fault = timed(
                FaultKind::Errors { share: 1.0 },
                FaultTarget::Node(id),
                Selection::All,
            );
            out.push(Candidate::new(
                format!("outage {} (all calls fail)", node.name),
                fault,
            ));
        }
        if options.caches && matches!(node.role, Role::Cache { .. }) {
            let kind = FaultKind::CacheFlush {
                refill_ns: DEFAULT_REFILL_NS,
            };
            let fault = FaultSpec {
                duration_ns: Some(0),
                ..timed(kind, FaultTarget::Node(id), Selection::All)
            };
            out.push(Candidate::new(format!("cache-flush {}", node.name), fault));
        }
    }
    if options.edges {
        out.extend(edge_candidates(topology, options, &timed));
    }
    if options.load {
        for (w, workload) in topology.workloads.iter().enumerate() {
            let kind = FaultKind::TrafficSpike {
                factor: options.spike_factor,
            };
            let fault = timed(
                kind,
                FaultTarget::Workload(WorkloadId(w as u32)),
                Selection::All,
            );
            let label = format!("traffic-spike {} x{}", workload.name, options.spike_factor);
            out.push(Candidate::new(label, fault));
        }
    }
    out
}

fn edge_candidates(
    topology: &Topology,
    options: &FmaOptions,
    timed: &dyn Fn(FaultKind, FaultTarget, Selection) -> FaultSpec,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut edges: Vec<(NodeId, NodeId)> = topology
        .graph
        .edge_indices()
        .filter_map(|e| {
            let (a, b) = topology.graph.edge_endpoints(e)?;
            let kind = topology.graph[e];
            matches!(kind, EdgeKind::Call(_) | EdgeKind::Backing)
                .then(|| (topology.graph[a], topology.graph[b]))
        })
        .collect();
    edges.sort();
    edges.dedup();
    for (from, to) in edges {
        let name = format!("{}->{}", topology.node(from).name, topology.node(to).name);
        let target = FaultTarget::Edge { from, to };
        let added = Dist::Constant {
            value_ns: options.added_latency_ns,
        };
        let kind = FaultKind::Latency { added, share: 1.0 };
        let latency = crate::kernel::time::format_duration_ns(options.added_latency_ns);
        let fault = timed(kind, target.clone(), Selection::All);
        out.push(Candidate::new(format!("latency {name} +{latency}"), fault));
        let fault = timed(FaultKind::Partition, target, Selection::All);
        out.push(Candidate::new(format!("blackhole {name}"), fault));
    }
    out
}

/// A scenario of the model's normal workload with one candidate fault.
pub fn scenario_for(
    model_path: &std::path::Path,
    topology: &Topology,
    candidate: &Candidate,
    options: &FmaOptions,
    seed: u64,
) -> Scenario {
    Scenario {
        name: candidate.label.clone(),
        path: model_path.to_path_buf(),
        model_path: model_path.to_path_buf(),
        topology: topology.clone(),
        duration_ns: options.duration_ns,
        warmup_ns: options.warmup_ns,
        seed,
        limits: Limits::default(),
        hypotheses: Vec::new(),
        faults: vec![candidate.fault.clone()],
        slow_threshold_ns: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FAULT_KINDS, parse_model};

    use super::candidates as candidates_of;

    fn all_families() -> FmaOptions {
        FmaOptions {
            added_latency_ns: 1_000_000_000,
            spike_factor: 3.0,
            ..FmaOptions::with_families(|_| true)
        }
    }

    /// Every kind with an fma family is proposed by shop's analysis, in that family and with a
    /// target of a shape the loader would accept; no other kind is.
    #[test]
    fn candidates_use_the_kinds_of_the_spec_in_their_families() {
        let shop = include_str!("../../models/shop.toml");
        let topology = parse_model(std::path::Path::new("shop.toml"), shop).expect("loads");
        let candidates = candidates_of(&topology, &all_families());
        for c in &candidates {
            let spec = c.fault.kind.spec();
            assert_eq!(Some(c.family), spec.fma_family, "{}", c.label);
            assert!(spec.target.accepts(&c.fault.target), "{}", c.label);
        }
        for spec in FAULT_KINDS {
            let proposed = candidates.iter().any(|c| c.fault.kind.tag() == spec.tag);
            assert_eq!(proposed, spec.fma_family.is_some(), "{}", spec.name);
        }
        // Each switch turns on the candidates of the family of its name, and only those.
        for family in FAULT_KINDS.iter().filter_map(|s| s.fma_family) {
            let only = FmaOptions {
                added_latency_ns: 1_000_000_000,
                ..FmaOptions::with_families(|f| f == family)
            };
            let of_family = candidates_of(&topology, &only);
            assert!(!of_family.is_empty(), "{family}");
            assert!(of_family.iter().all(|c| c.family == family), "{family}");
        }
    }
}
