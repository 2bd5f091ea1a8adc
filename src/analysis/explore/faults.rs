//! One fault of an explored schedule: how it is described, how intense it is, and the smaller
//! versions of it that shrinking tries.
//!
//! Intensities are discrete (whole milliseconds of latency, shares in steps of 5%, spike
//! factors in tenths, refill times and replica counts in whole units), so every chain of
//! "lower" steps ends, and a written scenario states exactly the values that were simulated.

use crate::kernel::Dist;
use crate::kernel::time::format_duration_ns;
use crate::model::{FaultKind, FaultSpec, FaultTarget, Selection, Topology, ZoneId};

pub(super) const MS: u64 = 1_000_000;
pub(super) const S: u64 = 1_000_000_000;

/// How the reports name a fault, with its parameters: `latency api->sessions +80ms`.
pub fn describe(topology: &Topology, spec: &FaultSpec) -> String {
    let what = match &spec.kind {
        FaultKind::Latency { added, .. } => format!("+{}", dist_text(added)),
        FaultKind::Errors { share } | FaultKind::Blackhole { share } => percent(*share),
        FaultKind::Crash { .. } => replicas_text(topology, spec),
        FaultKind::CacheFlush { refill_ns } => {
            format!("(refill {})", format_duration_ns(*refill_ns))
        }
        FaultKind::TrafficSpike { factor } => format!("x{}", tenths(*factor)),
        FaultKind::Slowdown { factor } => format!("x{}", tenths(*factor)),
        FaultKind::HitRatio { value } => percent(*value),
        FaultKind::Capacity { workers } => format!("({workers} workers)"),
        _ => String::new(),
    };
    let kind = match &spec.kind {
        FaultKind::Partition => "blackhole",
        other => other.as_str(),
    };
    let target = target_text(topology, &spec.target);
    if what.is_empty() {
        format!("{kind} {target}")
    } else {
        format!("{kind} {target} {what}")
    }
}

/// `describe` with the fault's timing: `... at 2m10s for 40s`.
pub fn describe_timed(topology: &Topology, spec: &FaultSpec) -> String {
    let at = format_duration_ns(spec.start_ns);
    match spec.duration_ns {
        Some(0) | None => format!("{} at {at}", describe(topology, spec)),
        Some(d) => format!(
            "{} at {at} for {}",
            describe(topology, spec),
            format_duration_ns(d)
        ),
    }
}

pub fn target_text(topology: &Topology, target: &FaultTarget) -> String {
    let node = |id| topology.node(id).name.as_str();
    let zone = |z: &ZoneId| topology.zones[z.index()].as_str();
    match target {
        FaultTarget::Node(n) => node(*n).to_string(),
        FaultTarget::NodeInZone(n, z) => format!("{} in {}", node(*n), zone(z)),
        FaultTarget::Edge { from, to } => format!("{}->{}", node(*from), node(*to)),
        FaultTarget::Zone(z) => zone(z).to_string(),
        FaultTarget::ZoneCut(zones) => zones.iter().map(zone).collect::<Vec<_>>().join("|"),
        FaultTarget::Nodes(nodes) => nodes.iter().map(|n| node(*n)).collect::<Vec<_>>().join(","),
        FaultTarget::Workload(w) => topology.workloads[w.index()].name.clone(),
    }
}

fn replicas_text(topology: &Topology, spec: &FaultSpec) -> String {
    let total = replicas_in(topology, &spec.target);
    match spec.selection {
        Selection::Count(k) if k < total => format!("({k} of {total} replicas)"),
        _ => "(all replicas)".to_string(),
    }
}

fn dist_text(dist: &Dist) -> String {
    match dist {
        Dist::Constant { value_ns } => format_duration_ns(*value_ns),
        other => format!("{other:?}"),
    }
}

fn percent(share: f64) -> String {
    format!("{}%", (share * 100.0).round() as u64)
}

fn tenths(value: f64) -> String {
    let text = format!("{:.1}", value);
    text.strip_suffix(".0").map_or(text.clone(), str::to_string)
}

/// The replicas a target covers (for crash counts).
pub(super) fn replicas_in(topology: &Topology, target: &FaultTarget) -> u32 {
    match target {
        FaultTarget::Node(n) => {
            let node = topology.node(*n);
            node.zones.len() as u32 * node.slots_per_zone()
        }
        FaultTarget::NodeInZone(n, _) => topology.node(*n).slots_per_zone(),
        _ => 1,
    }
}

/// The fault's intensity as one number that every `lower` step decreases (0 for kinds without
/// one): the measure that makes shrinking end.
pub(super) fn intensity(topology: &Topology, spec: &FaultSpec) -> u64 {
    match &spec.kind {
        FaultKind::Latency {
            added: Dist::Constant { value_ns },
            ..
        } => value_ns / MS,
        FaultKind::Errors { share } | FaultKind::Blackhole { share } => {
            (share * 20.0).round() as u64
        }
        FaultKind::TrafficSpike { factor } => ((factor - 1.0) * 10.0).round() as u64,
        FaultKind::CacheFlush { refill_ns } => refill_ns / S,
        FaultKind::Crash { .. } => match spec.selection {
            Selection::Count(k) => u64::from(k),
            _ => u64::from(replicas_in(topology, &spec.target)),
        },
        _ => 0,
    }
}

/// Lower versions of the fault, largest step first: halfway down, then one unit down.
pub(super) fn lowered(topology: &Topology, spec: &FaultSpec) -> Vec<FaultSpec> {
    let level = intensity(topology, spec);
    let floor = match spec.kind {
        FaultKind::Crash { .. } | FaultKind::Errors { .. } | FaultKind::Blackhole { .. } => 1,
        FaultKind::Latency { .. }
        | FaultKind::TrafficSpike { .. }
        | FaultKind::CacheFlush { .. } => 1,
        _ => return Vec::new(),
    };
    let mut levels = vec![floor.max(level / 2), level.saturating_sub(1).max(floor)];
    levels.dedup();
    levels
        .into_iter()
        .filter(|&l| l < level)
        .map(|l| with_intensity(topology, spec, l))
        .collect()
}

/// The fault at intensity `level` (in `intensity`'s units).
pub(super) fn with_intensity(topology: &Topology, spec: &FaultSpec, level: u64) -> FaultSpec {
    let mut out = spec.clone();
    match &mut out.kind {
        FaultKind::Latency { added, .. } => {
            *added = Dist::Constant {
                value_ns: level * MS,
            }
        }
        FaultKind::Errors { share } | FaultKind::Blackhole { share } => {
            *share = level as f64 / 20.0
        }
        FaultKind::TrafficSpike { factor } => *factor = 1.0 + level as f64 / 10.0,
        FaultKind::CacheFlush { refill_ns } => *refill_ns = level * S,
        FaultKind::Crash { .. } => {
            let total = u64::from(replicas_in(topology, &spec.target));
            out.selection = if level >= total {
                Selection::All
            } else {
                Selection::Count(level as u32)
            };
        }
        _ => {}
    }
    out
}

/// The zone a fault is confined to, if any: the isolation boundary that "merge zones" moves.
pub(super) fn zone_of(spec: &FaultSpec) -> Option<ZoneId> {
    match spec.target {
        FaultTarget::Zone(z) | FaultTarget::NodeInZone(_, z) => Some(z),
        _ => None,
    }
}

/// The fault moved to another zone (only for targets confined to one).
pub(super) fn in_zone(spec: &FaultSpec, zone: ZoneId) -> Option<FaultSpec> {
    let target = match spec.target {
        FaultTarget::Zone(_) => FaultTarget::Zone(zone),
        FaultTarget::NodeInZone(n, _) => FaultTarget::NodeInZone(n, zone),
        _ => return None,
    };
    Some(FaultSpec {
        target,
        ..spec.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NodeId, parse_model};

    fn shop() -> Topology {
        let text = include_str!("../../../models/shop.toml");
        parse_model(std::path::Path::new("shop.toml"), text).expect("shop loads")
    }

    fn crash_all(topology: &Topology) -> FaultSpec {
        FaultSpec {
            kind: FaultKind::Crash {
                restart_after_ns: None,
            },
            target: FaultTarget::Node(topology.node_id("api").expect("api")),
            selection: Selection::All,
            start_ns: 60 * S,
            duration_ns: Some(30 * S),
            line: 0,
        }
    }

    #[test]
    fn lowering_a_crash_halves_then_steps_the_replicas() {
        let topology = shop();
        let spec = crash_all(&topology);
        assert_eq!(intensity(&topology, &spec), 6);
        let lower: Vec<u64> = lowered(&topology, &spec)
            .iter()
            .map(|s| intensity(&topology, s))
            .collect();
        assert_eq!(lower, vec![3, 5]);
        let one = with_intensity(&topology, &spec, 1);
        assert_eq!(one.selection, Selection::Count(1));
        assert!(
            lowered(&topology, &one).is_empty(),
            "one replica is the floor"
        );
        assert_eq!(describe(&topology, &one), "crash api (1 of 6 replicas)");
    }

    #[test]
    fn latency_is_described_and_lowered_in_milliseconds() {
        let topology = shop();
        let api = topology.node_id("api").expect("api");
        let sessions = topology.node_id("sessions").expect("sessions");
        let spec = FaultSpec {
            kind: FaultKind::Latency {
                added: Dist::Constant { value_ns: 81 * MS },
                share: 1.0,
            },
            target: FaultTarget::Edge {
                from: api,
                to: sessions,
            },
            ..crash_all(&topology)
        };
        assert_eq!(
            describe_timed(&topology, &spec),
            "latency api->sessions +81ms at 1m for 30s"
        );
        let lower: Vec<u64> = lowered(&topology, &spec)
            .iter()
            .map(|s| intensity(&topology, s))
            .collect();
        assert_eq!(lower, vec![40, 80]);
        assert_eq!(zone_of(&spec), None);
        let _ = NodeId(0);
    }
}
