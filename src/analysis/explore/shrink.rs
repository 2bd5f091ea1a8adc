//! Shrinking a failure to a minimal schedule, the way Hypothesis and QuickCheck shrink a
//! failing input: try smaller versions in a fixed order — drop a fault, move a start towards
//! the earliest one, shorten a duration, lower an intensity, move a fault into a zone another
//! already uses — and take the first that still fails on all K seeds (and stays interesting),
//! until none does. That end is the definition of minimal: no single step keeps it failing.
//!
//! Every step decreases one of (faults, total start offset, total duration, total intensity,
//! zones touched) and leaves the ones before it unchanged, each a whole number, so the loop
//! ends; it is also bounded by `max_shrink_studies`.

use rayon::prelude::*;

use super::faults::{S, in_zone, lowered, zone_of};
use super::{Class, Explorer, Outcome, Schedule, Trial, classify};
use crate::model::{FaultKind, FaultSpec, FaultTarget, Topology};

/// A finding after shrinking.
#[derive(Clone, Debug)]
pub struct Shrunk {
    pub found: Trial,
    /// The found schedule on the K seeds (only the first when it passed there).
    pub found_on_seeds: Vec<Outcome>,
    /// Failing on every one of the K seeds; otherwise nothing below was shrunk.
    pub reproducible: bool,
    pub minimal: Schedule,
    /// The minimal schedule on the K seeds, in seed order.
    pub outcomes: Vec<Outcome>,
    /// Each fault of the minimal schedule alone on the search seed.
    pub parts: Vec<Outcome>,
    pub class: Class,
    /// Shrinking steps taken.
    pub steps: u64,
    /// Studies spent shrinking.
    pub studies: u64,
    /// No single step keeps it failing (false when the study bound stopped the shrink).
    pub proven_minimal: bool,
}

/// Single-fault outcomes already studied on the search seed, reused across steps.
struct Parts<'e, 'a> {
    explorer: &'e Explorer<'a>,
    known: Vec<(FaultSpec, Outcome)>,
    studies: u64,
}

impl Parts<'_, '_> {
    fn of(&mut self, fault: &FaultSpec) -> Outcome {
        if let Some((_, o)) = self.known.iter().find(|(f, _)| f == fault) {
            return o.clone();
        }
        self.studies += 1;
        let o = self
            .explorer
            .outcome(vec![fault.clone()], self.explorer.options.seed);
        self.known.push((fault.clone(), o.clone()));
        o
    }
}

pub fn shrink(explorer: &Explorer<'_>, found: &Trial) -> Shrunk {
    let seeds = explorer.options.judging_seeds();
    let mut parts = Parts {
        explorer,
        known: found
            .schedule
            .faults
            .iter()
            .cloned()
            .zip(found.singles.iter().cloned())
            .collect(),
        studies: 0,
    };
    let class = found.class;
    let first = still_fails(
        &mut parts,
        &found.schedule,
        &seeds,
        class,
        Some(&found.outcome),
    );
    let Some((mut outcomes, mut minimal_parts)) = first else {
        return Shrunk {
            found: found.clone(),
            found_on_seeds: vec![found.outcome.clone()],
            reproducible: false,
            minimal: found.schedule.clone(),
            outcomes: Vec::new(),
            parts: found.singles.clone(),
            class,
            steps: 0,
            studies: parts.studies,
            proven_minimal: false,
        };
    };
    let found_on_seeds = outcomes.clone();
    let mut current = found.schedule.clone();
    let (mut steps, mut proven) = (0, false);
    'shrinking: loop {
        for next in candidates(explorer.topology, &current, explorer.options.min_fault_ns) {
            if parts.studies >= explorer.options.max_shrink_studies {
                break 'shrinking;
            }
            if !valid(&next, explorer.options.fma.warmup_ns) {
                continue;
            }
            if let Some((o, p)) = still_fails(&mut parts, &next, &seeds, class, None) {
                (current, outcomes, minimal_parts) = (next, o, p);
                steps += 1;
                continue 'shrinking;
            }
        }
        proven = true;
        break;
    }
    Shrunk {
        found: found.clone(),
        found_on_seeds,
        reproducible: true,
        minimal: current,
        outcomes,
        parts: minimal_parts,
        class,
        steps,
        studies: parts.studies,
        proven_minimal: proven,
    }
}

/// The schedule's outcomes on every seed and its parts' on the first, if it fails on all of
/// them and is still of `class`. The search seed is tried first: most steps fail there.
fn still_fails(
    parts: &mut Parts<'_, '_>,
    schedule: &Schedule,
    seeds: &[u64],
    class: Class,
    known: Option<&Outcome>,
) -> Option<(Vec<Outcome>, Vec<Outcome>)> {
    if schedule.faults.len() < 2 {
        return None;
    }
    let explorer = parts.explorer;
    let first = match known {
        Some(o) => o.clone(),
        None => {
            parts.studies += 1;
            explorer.outcome(schedule.faults.clone(), seeds[0])
        }
    };
    if first.pass {
        return None;
    }
    let singles: Vec<Outcome> = schedule.faults.iter().map(|f| parts.of(f)).collect();
    if classify(&first, &singles, explorer.options.amplification) != class {
        return None;
    }
    parts.studies += seeds.len() as u64 - 1;
    let rest: Vec<Outcome> = seeds[1..]
        .par_iter()
        .map(|&seed| explorer.outcome(schedule.faults.clone(), seed))
        .collect();
    if rest.iter().any(|o| o.pass) {
        return None;
    }
    Some((std::iter::once(first).chain(rest).collect(), singles))
}

/// The smaller schedules one step away, in the order they are tried. Durations shrink no
/// further than `min_fault_ns` (`--min-fault`): below a few seconds the "during" window is so
/// short that the calls a crash loses in flight alone move its availability.
fn candidates(topology: &Topology, schedule: &Schedule, min_fault_ns: u64) -> Vec<Schedule> {
    let pairs = schedule.pairs();
    let mut out = Vec::new();
    if pairs.len() > 2 {
        for i in 0..pairs.len() {
            let mut fewer = pairs.clone();
            fewer.remove(i);
            out.push(Schedule::new(fewer));
        }
    }
    let anchor = pairs.iter().map(|(_, f)| f.start_ns).min().unwrap_or(0);
    let replace = |i: usize, fault: FaultSpec| {
        let mut next = pairs.clone();
        next[i].1 = fault;
        Schedule::new(next)
    };
    for (i, (_, f)) in pairs.iter().enumerate() {
        for start in closer(f.start_ns, anchor) {
            out.push(replace(
                i,
                FaultSpec {
                    start_ns: start,
                    ..f.clone()
                },
            ));
        }
    }
    for (i, (_, f)) in pairs.iter().enumerate() {
        let Some(d) = f.duration_ns.filter(|&d| d > min_fault_ns) else {
            continue;
        };
        for shorter in closer(d, min_fault_ns.max(S)) {
            let fault = FaultSpec {
                duration_ns: Some(shorter),
                ..f.clone()
            };
            out.push(replace(i, fault));
        }
    }
    for (i, (_, f)) in pairs.iter().enumerate() {
        for lower in lowered(topology, f) {
            out.push(replace(i, lower));
        }
    }
    out.extend(merged_zones(&pairs));
    out
}

/// Values between `target` and `value` a step closer, largest step first: `target` itself,
/// halfway, a quarter of the way, one second less — in whole seconds.
fn closer(value: u64, target: u64) -> Vec<u64> {
    if value <= target {
        return Vec::new();
    }
    let gap = value - target;
    let mut out: Vec<u64> = [gap, gap / 2, gap / 4, S]
        .into_iter()
        .map(|step| (value - step.min(gap)) / S * S)
        .map(|v| v.max(target))
        .filter(|&v| v < value)
        .collect();
    out.dedup();
    out
}

/// Each zonal fault moved into another zone the schedule already uses, when that leaves one
/// zone fewer: one isolation boundary to reason about instead of two.
fn merged_zones(pairs: &[(usize, FaultSpec)]) -> Vec<Schedule> {
    let zones: Vec<_> = pairs.iter().filter_map(|(_, f)| zone_of(f)).collect();
    let mut out = Vec::new();
    for (i, (_, f)) in pairs.iter().enumerate() {
        let Some(zone) = zone_of(f) else { continue };
        if zones.iter().filter(|&&z| z == zone).count() > 1 {
            continue;
        }
        let mut others: Vec<_> = zones.iter().copied().filter(|&z| z != zone).collect();
        others.sort();
        others.dedup();
        for other in others {
            if let Some(moved) = in_zone(f, other) {
                let mut next = pairs.to_vec();
                next[i].1 = moved;
                out.push(Schedule::new(next));
            }
        }
    }
    out
}

/// What the scenario loader would accept: starts after the warm-up, and no two faults of one
/// kind on one target at the same time (two outages of one zone contradict each other).
pub(super) fn valid(schedule: &Schedule, warmup_ns: u64) -> bool {
    let faults = &schedule.faults;
    faults.iter().all(|f| f.start_ns >= warmup_ns)
        && (0..faults.len()).all(|j| {
            (0..j).all(|i| {
                let (a, b) = (&faults[i], &faults[j]);
                !(same_kind(&a.kind, &b.kind) && a.target == b.target && super::overlap(a, b))
                    && !outages_of_one_zone(a, b)
            })
        })
}

fn same_kind(a: &FaultKind, b: &FaultKind) -> bool {
    a.as_str() == b.as_str()
}

fn outages_of_one_zone(a: &FaultSpec, b: &FaultSpec) -> bool {
    matches!(
        (&a.kind, &a.target, &b.kind, &b.target),
        (FaultKind::ZoneOutage { .. }, FaultTarget::Zone(x), FaultKind::ZoneOutage { .. }, FaultTarget::Zone(y))
            if x == y && super::overlap(a, b)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_towards_a_target_are_whole_seconds_largest_first() {
        assert_eq!(
            closer(100 * S, 20 * S),
            vec![20 * S, 60 * S, 80 * S, 99 * S]
        );
        assert_eq!(closer(2 * S, S), vec![S]);
        assert!(closer(S, S).is_empty());
        assert!(closer(5 * S, 9 * S).is_empty());
    }
}
