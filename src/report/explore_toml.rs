//! A minimal schedule found by `explore`, written as a scenario file that `blastradius run`
//! replays (exit 1): comments saying what was found, the run, the faults and the hypotheses.
//!
//! Values are written exactly (durations in the largest unit that divides them), so the file
//! loads into the very faults that were simulated.

use std::fmt::Write;

use crate::kernel::Dist;
use crate::model::{Change, FaultKind, FaultSpec, FaultTarget, Hypothesis, Selection, Topology};

/// The run a scenario file states.
#[derive(Clone, Debug)]
pub struct ScenarioRun<'a> {
    pub name: &'a str,
    /// The model, relative to the folder the scenario is written to.
    pub model: &'a str,
    pub duration_ns: u64,
    pub warmup_ns: u64,
    pub seed: u64,
}

/// The scenario file: `comments` (each line prefixed with `# `), then the keys.
pub fn scenario_toml(
    topology: &Topology,
    run: &ScenarioRun<'_>,
    comments: &[String],
    faults: &[FaultSpec],
    hypotheses: &[Hypothesis],
) -> String {
    let mut out = String::new();
    for line in comments {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "name = {}", quoted(run.name));
    let _ = writeln!(out, "model = {}", quoted(run.model));
    let _ = writeln!(out, "duration = \"{}\"", exact(run.duration_ns));
    let _ = writeln!(out, "warmup = \"{}\"", exact(run.warmup_ns));
    let _ = writeln!(out, "seed = {}", run.seed);
    for fault in faults {
        out.push_str("\n[[fault]]\n");
        fault_keys(&mut out, topology, fault);
    }
    for hypothesis in hypotheses {
        out.push_str("\n[[hypothesis]]\n");
        hypothesis_keys(&mut out, topology, hypothesis);
    }
    out
}

/// A duration in the largest unit that divides it: `90s`, `2m`, `80ms`, `1500us`.
pub fn exact(ns: u64) -> String {
    const UNITS: [(u64, &str); 6] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0s".to_string();
    }
    let (scale, unit) = UNITS
        .into_iter()
        .find(|&(scale, _)| ns.is_multiple_of(scale))
        .expect("1 divides everything");
    format!("{}{unit}", ns / scale)
}

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn fault_keys(out: &mut String, topology: &Topology, fault: &FaultSpec) {
    let node = |id: crate::model::NodeId| quoted(&topology.node(id).name);
    let zone = |z: &crate::model::ZoneId| quoted(&topology.zones[z.index()]);
    let _ = writeln!(out, "kind = \"{}\"", fault.kind.as_str());
    match &fault.target {
        FaultTarget::Node(n) => {
            let _ = writeln!(out, "node = {}", node(*n));
        }
        FaultTarget::NodeInZone(n, z) => {
            let _ = writeln!(out, "node = {}\nzone = {}", node(*n), zone(z));
        }
        FaultTarget::Edge { from, to } => {
            let name = format!("{}->{}", topology.node(*from).name, topology.node(*to).name);
            let _ = writeln!(out, "edge = {}", quoted(&name));
        }
        FaultTarget::Zone(z) => {
            let _ = writeln!(out, "zone = {}", zone(z));
        }
        FaultTarget::ZoneCut(zones) => {
            let list: Vec<String> = zones.iter().map(zone).collect();
            let _ = writeln!(out, "zones = [{}]", list.join(", "));
        }
        FaultTarget::Nodes(nodes) => {
            let list: Vec<String> = nodes.iter().map(|n| node(*n)).collect();
            let _ = writeln!(out, "nodes = [{}]", list.join(", "));
        }
        FaultTarget::Workload(w) => {
            let _ = writeln!(
                out,
                "workload = {}",
                quoted(&topology.workloads[w.index()].name)
            );
        }
    }
    match fault.selection {
        Selection::All => {}
        Selection::Count(k) => {
            let _ = writeln!(out, "count = {k}");
        }
        Selection::Percent(p) => {
            let _ = writeln!(out, "percent = {p}");
        }
    }
    parameters(out, topology, &fault.kind);
    let _ = writeln!(out, "start = \"{}\"", exact(fault.start_ns));
    if let Some(d) = fault
        .duration_ns
        .filter(|_| !fault.kind.spec().is_instant())
    {
        let _ = writeln!(out, "duration = \"{}\"", exact(d));
    }
}

fn parameters(out: &mut String, topology: &Topology, kind: &FaultKind) {
    let line = |out: &mut String, key: &str, value: String| {
        let _ = writeln!(out, "{key} = {value}");
    };
    let time = |ns: u64| format!("\"{}\"", exact(ns));
    match kind {
        FaultKind::ZoneOutage { recovery_ns } => {
            if let Some(r) = recovery_ns {
                line(out, "recovery", time(*r));
            }
        }
        FaultKind::Crash { restart_after_ns } => {
            if let Some(r) = restart_after_ns {
                line(out, "restart_after", time(*r));
            }
        }
        // Their target is all they have.
        FaultKind::ZonePartition | FaultKind::Partition => {}
        FaultKind::ChaosMonkey {
            mean_interval_ns,
            restart_after_ns,
        } => {
            line(out, "mean_interval", time(*mean_interval_ns));
            line(out, "restart_after", time(*restart_after_ns));
        }
        FaultKind::Latency { added, share } => {
            let Dist::Constant { value_ns } = added else {
                panic!("explore writes constant latencies only, found {added:?}");
            };
            line(
                out,
                "latency",
                format!("{{ dist = \"constant\", value = {} }}", time(*value_ns)),
            );
            if *share < 1.0 {
                line(out, "share", share.to_string());
            }
        }
        FaultKind::Errors { share } | FaultKind::Blackhole { share } => {
            line(out, "share", share.to_string())
        }
        FaultKind::Slowdown { factor } | FaultKind::TrafficSpike { factor } => {
            line(out, "factor", factor.to_string())
        }
        FaultKind::Capacity { workers } => line(out, "workers", workers.to_string()),
        FaultKind::CacheFlush { refill_ns } => line(out, "refill", time(*refill_ns)),
        FaultKind::HitRatio { value } => line(out, "value", value.to_string()),
        // No `nodes`: every service and cache in the zone.
        FaultKind::ZonalShift { nodes } if nodes.is_empty() => {}
        FaultKind::ZonalShift { nodes } => {
            let list: Vec<String> = nodes
                .iter()
                .map(|n| quoted(&topology.node(*n).name))
                .collect();
            line(out, "nodes", format!("[{}]", list.join(", ")));
        }
    }
}

fn hypothesis_keys(out: &mut String, topology: &Topology, h: &Hypothesis) {
    match h.queue {
        Some(q) => {
            let _ = writeln!(out, "queue = {}", quoted(&topology.node(q).name));
        }
        None => {
            let name = &topology.workloads[h.workload.index()].name;
            let _ = writeln!(out, "workload = {}", quoted(name));
        }
    }
    let _ = writeln!(out, "metric = \"{}\"", h.metric.as_str());
    let bound = |v: f64| {
        if h.metric.is_latency() {
            format!("\"{}\"", exact(v.max(0.0).round() as u64))
        } else {
            v.to_string()
        }
    };
    let change = |c: Change| match c {
        Change::Relative(r) => format!("\"{}%\"", (r * 1e8).round() / 1e6),
        Change::Absolute(a) => bound(a),
    };
    let keys = [
        ("min", h.min.map(bound)),
        ("max", h.max.map(bound)),
        ("max_increase", h.max_increase.map(change)),
        ("max_decrease", h.max_decrease.map(change)),
    ];
    for (key, value) in keys {
        if let Some(value) = value {
            let _ = writeln!(out, "{key} = {value}");
        }
    }
    if h.metric != crate::model::Metric::RecoveryTime {
        let windows: Vec<String> = h
            .windows
            .iter()
            .map(|w| format!("\"{}\"", w.as_str()))
            .collect();
        let _ = writeln!(out, "window = [{}]", windows.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_exactly_in_the_largest_unit() {
        assert_eq!(exact(120_000_000_000), "2m");
        assert_eq!(exact(90_000_000_000), "90s");
        assert_eq!(exact(80_000_000), "80ms");
        assert_eq!(exact(1_500_000), "1500us");
        assert_eq!(exact(0), "0s");
    }
}

#[cfg(test)]
mod round_trip {
    use std::path::Path;

    use super::*;
    use crate::kernel::Dist;
    use crate::model::{FaultSpec, Window, parse_model, parse_scenario};

    const SHOP: &str = include_str!("../../models/shop.toml");
    const S: u64 = 1_000_000_000;

    fn fault(kind: FaultKind, target: FaultTarget, selection: Selection, start: u64) -> FaultSpec {
        let instant = matches!(kind, FaultKind::CacheFlush { .. });
        FaultSpec {
            kind,
            target,
            selection,
            start_ns: start * S,
            duration_ns: Some(if instant { 0 } else { 7 * S }),
            line: 0,
        }
    }

    /// Every kind explore draws, written and read back by the scenario loader, is the fault
    /// that was simulated: the written file replays the search's schedule exactly.
    #[test]
    fn every_drawn_kind_loads_back_as_written() {
        let topology = parse_model(Path::new("models/shop.toml"), SHOP).expect("shop loads");
        let id = |name: &str| topology.node_id(name).expect("a node of shop");
        let edge = FaultTarget::Edge {
            from: id("api"),
            to: id("sessions"),
        };
        let zone = FaultTarget::Zone(crate::model::ZoneId(1));
        let faults = vec![
            fault(
                FaultKind::ZoneOutage { recovery_ns: None },
                zone.clone(),
                Selection::All,
                70,
            ),
            fault(
                FaultKind::ZonalShift { nodes: vec![] },
                zone,
                Selection::All,
                71,
            ),
            fault(
                FaultKind::Crash {
                    restart_after_ns: None,
                },
                FaultTarget::Node(id("api")),
                Selection::Count(2),
                72,
            ),
            fault(
                FaultKind::Crash {
                    restart_after_ns: None,
                },
                FaultTarget::Node(id("sessions")),
                Selection::All,
                73,
            ),
            fault(
                FaultKind::Latency {
                    added: Dist::Constant {
                        value_ns: 81_000_000,
                    },
                    share: 1.0,
                },
                edge.clone(),
                Selection::All,
                74,
            ),
            fault(FaultKind::Partition, edge, Selection::All, 75),
            fault(
                FaultKind::Errors { share: 0.35 },
                FaultTarget::Node(id("payments")),
                Selection::All,
                76,
            ),
            fault(
                FaultKind::CacheFlush { refill_ns: 12 * S },
                FaultTarget::Node(id("sessions")),
                Selection::All,
                77,
            ),
            fault(
                FaultKind::TrafficSpike { factor: 1.7 },
                FaultTarget::Workload(crate::model::WorkloadId(0)),
                Selection::All,
                78,
            ),
        ];
        let hypotheses = crate::analysis::explore::Judge::budget(&topology, 0.01, 1.0).hypotheses;
        let run = ScenarioRun {
            name: "round \"trip\"",
            model: "../models/shop.toml",
            duration_ns: 300 * S,
            warmup_ns: 60 * S,
            seed: 9,
        };
        let comments = vec!["a comment".to_string()];
        let text = scenario_toml(&topology, &run, &comments, &faults, &hypotheses);
        let read = |_: &Path| Ok(SHOP.to_string());
        let (scenario, _) = parse_scenario(Path::new("found/x.toml"), &text, read)
            .unwrap_or_else(|d| panic!("{}\n{text}", d.render(false)));
        let unlined = |fs: &[FaultSpec]| -> Vec<FaultSpec> {
            fs.iter()
                .map(|f| FaultSpec {
                    line: 0,
                    ..f.clone()
                })
                .collect()
        };
        assert_eq!(unlined(&scenario.faults), faults, "{text}");
        let unlined: Vec<_> = scenario
            .hypotheses
            .iter()
            .map(|h| crate::model::Hypothesis {
                line: 0,
                ..h.clone()
            })
            .collect();
        assert_eq!(unlined, hypotheses);
        assert_eq!(
            scenario.hypotheses[0].windows,
            vec![Window::During, Window::After]
        );
        assert_eq!(
            (scenario.name.as_str(), scenario.seed),
            ("round \"trip\"", 9)
        );
        assert_eq!(
            (scenario.duration_ns, scenario.warmup_ns),
            (300 * S, 60 * S)
        );
    }
}
