//! Drawing schedules: the catalogue (fma's single-fault candidates, weighted by the control's
//! lineage) and the seeded draw of a schedule of 2..n of them with random overlapping starts,
//! durations and intensities.
//!
//! Schedule `i` is drawn from a stream of its own, keyed by the seed and `i`, so schedules can
//! be drawn and studied in any order, on any number of threads, and the search is the same.

use crate::analysis::fma::{Candidate, FmaOptions, candidates};
use crate::kernel::{Purpose, Stream, stable_id};
use crate::model::{FaultKind, FaultSpec, FaultTarget, Topology};
use crate::sim::RunResult;

use super::faults::{S, intensity, replicas_in, with_intensity};
use super::{ExploreOptions, Schedule};

/// One catalogue fault and how often the search picks it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub candidate: Candidate,
    /// The share of the control's answered calls that went through the fault's target (1 for
    /// the busiest node): the lineage bias, "fault the paths that served the most".
    pub lineage: f64,
    /// The isolation boundary the fault acts on (a zone, a node, a workload), by name: the
    /// search prefers schedules that cross boundaries.
    pub boundary: String,
}

/// The catalogue: every candidate of `fma` for the chosen families, weighted by the control.
pub fn catalogue(topology: &Topology, fma: &FmaOptions, control: &RunResult) -> Vec<Entry> {
    let served: Vec<f64> = control
        .nodes
        .iter()
        .map(|n| (n.outcomes.ok + n.outcomes.degraded) as f64)
        .collect();
    let busiest = served.iter().copied().fold(0.0, f64::max).max(1.0);
    let share = |n: usize| served[n] / busiest;
    candidates(topology, fma)
        .into_iter()
        .map(|candidate| {
            let (lineage, boundary) = lineage_of(topology, &candidate.fault.target, &share);
            Entry {
                candidate,
                lineage,
                boundary,
            }
        })
        .collect()
}

fn lineage_of(
    topology: &Topology,
    target: &FaultTarget,
    share: &dyn Fn(usize) -> f64,
) -> (f64, String) {
    match target {
        FaultTarget::Node(n) | FaultTarget::NodeInZone(n, _) => {
            (share(n.index()), topology.node(*n).name.clone())
        }
        FaultTarget::Edge { to, .. } => (share(to.index()), topology.node(*to).name.clone()),
        FaultTarget::Zone(z) => {
            let placed: Vec<f64> = (0..topology.nodes.len())
                .filter(|&n| topology.nodes[n].zones.contains(z))
                .map(|n| share(n) / topology.nodes[n].zones.len() as f64)
                .collect();
            let mean = placed.iter().sum::<f64>() / placed.len().max(1) as f64;
            (mean, topology.zones[z.index()].clone())
        }
        FaultTarget::Workload(w) => (1.0, topology.workloads[w.index()].name.clone()),
        FaultTarget::ZoneCut(_) | FaultTarget::Nodes(_) => (0.5, String::new()),
    }
}

/// The `index`-th schedule of the search.
pub fn draw(
    topology: &Topology,
    entries: &[Entry],
    options: &ExploreOptions,
    index: u64,
) -> Schedule {
    let id = stable_id("explore", &format!("schedule {index}"));
    let mut stream = Stream::new(options.seed, id, Purpose::Fault);
    let span = options.max_faults.saturating_sub(options.min_faults) as u64 + 1;
    let count = (options.min_faults + stream.below(span) as usize).min(entries.len());
    let mut chosen: Vec<usize> = Vec::new();
    let mut faults: Vec<(usize, FaultSpec)> = Vec::new();
    while chosen.len() < count {
        let entry = pick(entries, &chosen, &mut stream);
        let previous = faults.last().map(|(_, f)| f);
        let fault = timed(topology, &entries[entry], options, previous, &mut stream);
        chosen.push(entry);
        faults.push((entry, fault));
    }
    Schedule::new(faults)
}

/// A weighted pick without repeats: lineage plus a floor (so every fault can be drawn), times
/// three for a boundary no fault of the schedule acts on yet.
fn pick(entries: &[Entry], chosen: &[usize], stream: &mut Stream) -> usize {
    let weight = |i: usize| {
        if chosen.contains(&i) {
            return 0.0;
        }
        let boundary = &entries[i].boundary;
        let fresh = chosen.iter().all(|&c| &entries[c].boundary != boundary);
        (0.25 + entries[i].lineage) * if fresh { 3.0 } else { 1.0 }
    };
    let total: f64 = (0..entries.len()).map(weight).sum();
    let mut x = stream.unit() * total;
    for i in 0..entries.len() {
        let w = weight(i);
        if w > 0.0 && x < w {
            return i;
        }
        x -= w;
    }
    (0..entries.len())
        .rev()
        .find(|&i| weight(i) > 0.0)
        .expect("fewer faults are drawn than the catalogue has")
}

/// The entry's fault with a random duration, start and intensity. Three times in four a fault
/// after the first starts while the previous one is active, so most schedules overlap.
fn timed(
    topology: &Topology,
    entry: &Entry,
    options: &ExploreOptions,
    previous: Option<&FaultSpec>,
    stream: &mut Stream,
) -> FaultSpec {
    let mut fault = entry.candidate.fault.clone();
    // A cache flush is instantaneous: its length is its refill, an intensity.
    let instant = fault.kind.spec().is_instant();
    let length = if instant {
        0
    } else {
        whole_seconds(between(stream, options.min_fault_ns, options.max_fault_ns))
    };
    let first = options.fma.warmup_ns;
    let last = options
        .fma
        .duration_ns
        .saturating_sub(length.max(S))
        .max(first);
    let start = match previous {
        Some(p) if stream.chance(0.75) => {
            let from = p.start_ns.saturating_sub(length / 2).max(first);
            let to = p
                .end_ns()
                .min(options.fma.duration_ns)
                .saturating_sub(S)
                .max(from);
            between(stream, from, to.min(last).max(from))
        }
        _ => between(stream, first, last),
    };
    fault.start_ns = whole_seconds(start).clamp(first, last);
    fault.duration_ns = Some(if instant { 0 } else { length.max(S) });
    vary_intensity(topology, fault, stream)
}

/// Random intensity between a tenth of the catalogue's and all of it (latency, shares,
/// spikes, refills), or a random replica count for a crash.
fn vary_intensity(topology: &Topology, fault: FaultSpec, stream: &mut Stream) -> FaultSpec {
    let full = intensity(topology, &fault);
    match fault.kind {
        FaultKind::Crash { .. } => {
            let total = u64::from(replicas_in(topology, &fault.target));
            let level = if total > 1 && stream.chance(0.5) {
                1 + stream.below(total)
            } else {
                full
            };
            with_intensity(topology, &fault, level)
        }
        FaultKind::TrafficSpike { .. }
        | FaultKind::Latency { .. }
        | FaultKind::CacheFlush { .. }
        | FaultKind::Errors { .. } => {
            let low = (full / 10).max(1);
            let level = between(stream, low, full);
            with_intensity(topology, &fault, level)
        }
        _ => fault,
    }
}

/// Uniform in `[low, high]` (inclusive; `low` when the range is empty).
fn between(stream: &mut Stream, low: u64, high: u64) -> u64 {
    if high <= low {
        return low;
    }
    low + stream.below(high - low + 1)
}

fn whole_seconds(ns: u64) -> u64 {
    ns / S * S
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_model;

    fn options() -> ExploreOptions {
        ExploreOptions {
            fma: FmaOptions {
                duration_ns: 300 * S,
                warmup_ns: 60 * S,
                added_latency_ns: S,
                spike_factor: 3.0,
                ..FmaOptions::with_families(|_| true)
            },
            min_faults: 2,
            max_faults: 3,
            seed: 7,
            seeds: 1,
            min_fault_ns: 5 * S,
            max_fault_ns: 120 * S,
            amplification: 1.5,
            max_findings: 1,
            max_shrink_studies: 1,
        }
    }

    /// The shop's catalogue with a made-up lineage: the first half of the faults on busy
    /// paths (1), the rest on idle ones (0).
    fn shop_entries(options: &ExploreOptions) -> (Topology, Vec<Entry>) {
        let text = include_str!("../../../models/shop.toml");
        let topology = parse_model(std::path::Path::new("shop.toml"), text).expect("shop");
        let all = candidates(&topology, &options.fma);
        let half = all.len() / 2;
        let entries = all
            .into_iter()
            .enumerate()
            .map(|(i, candidate)| Entry {
                boundary: candidate.label.clone(),
                candidate,
                lineage: if i < half { 1.0 } else { 0.0 },
            })
            .collect();
        (topology, entries)
    }

    #[test]
    fn schedules_are_a_function_of_seed_and_index() {
        let options = options();
        let (topology, entries) = shop_entries(&options);
        let a = draw(&topology, &entries, &options, 5);
        assert_eq!(a, draw(&topology, &entries, &options, 5));
        assert_ne!(a, draw(&topology, &entries, &options, 6));
        let other_seed = ExploreOptions {
            seed: 8,
            ..options.clone()
        };
        assert_ne!(a, draw(&topology, &entries, &other_seed, 5));
    }

    /// 2,000 draws: every one inside the run, most overlapping, busy paths drawn more often.
    #[test]
    fn draws_overlap_and_favour_the_busiest_paths() {
        let options = options();
        let (topology, entries) = shop_entries(&options);
        let half = entries.len() / 2;
        let (mut overlapping, mut busy, mut idle) = (0, 0, 0);
        let n = 2_000;
        for i in 0..n {
            let s = draw(&topology, &entries, &options, i);
            assert!((2..=3).contains(&s.faults.len()));
            for f in &s.faults {
                assert!(f.start_ns >= 60 * S && f.end_ns() <= 300 * S, "{f:?}");
                assert_eq!(f.start_ns % S, 0, "whole seconds");
            }
            let mut sorted = s.entries.clone();
            sorted.dedup();
            assert_eq!(sorted.len(), s.entries.len(), "no fault twice");
            overlapping += usize::from(super::super::overlap(&s.faults[0], &s.faults[1]));
            busy += s.entries.iter().filter(|&&e| e < half).count();
            idle += s.entries.iter().filter(|&&e| e >= half).count();
        }
        // Three in four starts are drawn inside the previous fault: well over half overlap.
        assert!(overlapping * 10 > n as usize * 6, "{overlapping} of {n}");
        // Weight 1.25 against 0.25 per pick: busy faults several times as frequent.
        assert!(busy > 2 * idle, "busy {busy}, idle {idle}");
    }
}
