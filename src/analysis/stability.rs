//! Static stability (AWS's term): can the system lose a zone and carry its load on the
//! surviving zones with the replicas it has now, without scaling? Computed from the model
//! alone with the same offered-load estimate as the saturation lint (`model::capacity`).
//!
//! For each zone: every node placed there loses its replicas in that zone and the surviving
//! zones' replicas take all of its traffic (the arrival rates are the model's, unchanged). A
//! database is served by one zone: losing another zone changes nothing, losing its primary
//! moves it to another of its zones when it has one and a `failover` (same capacity), else it
//! has no replica left. Externals have no zones. A zone loss is **statically stable** when every
//! node stays below `HEADROOM` utilisation; below 1 it is survivable without headroom.
//!
//! Must not: simulate. It is a property of the model, the same for every run of it.

use serde::Serialize;

use crate::model::capacity::{
    arrival_rates, call_order, held_ns, mean_answers, serving_replicas, utilisation,
};
use crate::model::{Node, NodeKind, Role, Topology, ZoneId};

/// The utilisation below which a zone loss counts as statically stable: 80%, the headroom AWS
/// guidance and most capacity plans keep for bursts.
pub const HEADROOM: f64 = 0.8;

/// The static-stability verdict of a model, per zone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StaticStability {
    /// The threshold a surviving node's utilisation must stay below.
    pub headroom: f64,
    /// True when losing any one zone leaves every node below `headroom`.
    pub stable: bool,
    /// In the model's zone order.
    pub zones: Vec<ZoneLoss>,
}

/// What losing one zone leaves.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZoneLoss {
    pub zone: String,
    /// Every node below `headroom` after the loss.
    pub stable: bool,
    /// Every node below 1 after the loss (it survives, without headroom).
    pub survives: bool,
    /// The node with the highest utilisation after the loss (`null` with no internal node).
    pub worst_node: Option<String>,
    /// Its utilisation before and after the loss; `after` is `null` when it has no replica left.
    pub utilisation_before: Option<f64>,
    pub utilisation_after: Option<f64>,
}

/// The verdict for every zone of the topology.
pub fn static_stability(topology: &Topology) -> StaticStability {
    let order = call_order(topology).unwrap_or_default();
    let rates = arrival_rates(topology, &order);
    let answers = mean_answers(topology, &order);
    let zones: Vec<ZoneLoss> = (0..topology.zones.len())
        .map(|z| zone_loss(topology, ZoneId(z as u16), &rates, &answers))
        .collect();
    StaticStability {
        headroom: HEADROOM,
        stable: zones.iter().all(|z| z.stable),
        zones,
    }
}

fn zone_loss(topology: &Topology, lost: ZoneId, rates: &[f64], answers: &[f64]) -> ZoneLoss {
    // The worst node: no replica left beats any utilisation; ties keep model order.
    let mut worst: Option<(usize, f64, f64)> = None;
    for (index, node) in topology.nodes.iter().enumerate() {
        if node.kind == NodeKind::External {
            continue;
        }
        let held = held_ns(node, answers[index]);
        let before = utilisation(node, rates[index], held, serving_replicas(node));
        let after = match replicas_after(node, lost) {
            0 => f64::INFINITY,
            replicas => utilisation(node, rates[index], held, replicas),
        };
        if worst.is_none_or(|(_, _, w)| after > w) {
            worst = Some((index, before, after));
        }
    }
    let after = worst.map_or(0.0, |(_, _, after)| after);
    ZoneLoss {
        zone: topology.zones[lost.index()].clone(),
        stable: after < HEADROOM,
        survives: after < 1.0,
        worst_node: worst.map(|(index, _, _)| topology.nodes[index].name.clone()),
        utilisation_before: worst.map(|(_, before, _)| before),
        utilisation_after: worst.map(|(_, _, a)| a).filter(|a| a.is_finite()),
    }
}

/// The replicas serving `node` once `lost` is gone, without scaling.
fn replicas_after(node: &Node, lost: ZoneId) -> u64 {
    let survivors = node.zones.iter().filter(|&&z| z != lost).count() as u64;
    match node.role {
        Role::Database {
            primary,
            failover_ns,
        } => {
            let moves = survivors > 0 && failover_ns.is_some();
            if primary != lost || moves {
                u64::from(node.replicas_per_zone)
            } else {
                0
            }
        }
        _ => survivors * u64::from(node.replicas_per_zone),
    }
}

impl StaticStability {
    /// One line for a report: the worst zone loss, or that every loss is statically stable.
    pub fn summary(&self) -> String {
        let headroom = format!("{:.0}%", self.headroom * 100.0);
        let worst = self
            .zones
            .iter()
            .fold(None::<&ZoneLoss>, |worst, z| match worst {
                Some(w) if after(w) >= after(z) => Some(w),
                _ => Some(z),
            });
        let Some(worst) = worst.filter(|w| w.worst_node.is_some()) else {
            return "static stability: no zone to lose".to_string();
        };
        let node = worst.worst_node.as_deref().unwrap_or("?");
        let leaves = match worst.utilisation_after {
            Some(u) => format!("{node} at {:.0}% utilisation", u * 100.0),
            None => format!("{node} with no replica"),
        };
        let verdict = if self.stable {
            format!("statically stable: every zone loss stays below {headroom}")
        } else if worst.survives {
            format!("survives without scaling, but above the {headroom} headroom")
        } else {
            "not statically stable".to_string()
        };
        format!(
            "static stability: losing {} leaves {leaves} ({verdict})",
            worst.zone
        )
    }
}

fn after(zone: &ZoneLoss) -> f64 {
    match (&zone.worst_node, zone.utilisation_after) {
        (None, _) => f64::NEG_INFINITY,
        (Some(_), Some(u)) => u,
        (Some(_), None) => f64::INFINITY,
    }
}
