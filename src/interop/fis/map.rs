//! One FIS action on its resolved target -> pieces (`map`), and a piece no zone outage took ->
//! a fault table (`standalone`). The approximations are the ones docs/fis.md's table states.

use crate::interop::draft::exact_duration;
use crate::model::{NodeId, NodeKind, Role, Selection, Topology};

use super::actions::KnownAction;
use super::import::{Piece, Timed, table, target_keys, timing};
use super::targets::{Hit, Resolved, primary, zone_named};

/// An ECS service scheduler replaces a stopped task in about a minute.
pub const ECS_REPLACEMENT_NS: u64 = 60_000_000_000;
/// A ReplicaSet replaces a deleted pod in seconds; 30 s covers scheduling and readiness.
pub const POD_REPLACEMENT_NS: u64 = 30_000_000_000;
/// A DB instance reboot without failover.
pub const REBOOT_NS: u64 = 60_000_000_000;

/// The pieces of `action` on `resolved`, or why it cannot be mapped.
pub(super) fn map(
    topology: &Topology,
    action: &Timed<'_>,
    known: &KnownAction,
    resolved: &Resolved,
    target: &str,
) -> Result<Vec<Piece>, String> {
    if !resolved.ignored.is_empty() {
        return Err(format!(
            "target `{target}` uses {} which the model cannot answer",
            resolved.ignored.join(", ")
        ));
    }
    let params = &action.action.parameters;
    let selection = resolved.selection;
    let hits = resolved.hits.iter().copied();
    let pieces = match known.id {
        "aws:ec2:stop-instances" => {
            let restart_ns = (action.duration_ns > 0).then_some(action.duration_ns);
            hits.map(|hit| Piece::Stop {
                hit,
                selection,
                restart_ns,
            })
            .collect()
        }
        "aws:ec2:terminate-instances" => hits
            .map(|hit| Piece::Stop {
                hit,
                selection,
                restart_ns: None,
            })
            .collect(),
        "aws:ec2:asg-insufficient-instance-capacity-error"
        | "aws:ec2:api-insufficient-instance-capacity-error" => {
            vec![Piece::Capacity {
                zones: action_zones(topology, params, resolved)?,
            }]
        }
        "aws:network:disrupt-connectivity" => {
            let scope = params.get("scope").map_or("all", String::as_str);
            if !matches!(scope, "all" | "availability-zone") {
                return Err(format!(
                    "scope `{scope}` cuts traffic to an AWS service or prefix list, which a model has no subnets for"
                ));
            }
            vec![Piece::Disrupt {
                zones: resolved.zones.clone(),
            }]
        }
        "aws:rds:failover-db-cluster" => databases(topology, resolved)?
            .into_iter()
            .map(|node| Piece::Failover { node })
            .collect(),
        "aws:rds:reboot-db-instances" => reboot(topology, action, resolved)?,
        "aws:elasticache:replicationgroup-interrupt-az-power"
        | "aws:elasticache:interrupt-cache-cluster-az-power" => {
            zoned(topology, resolved, known.id)?
                .into_iter()
                .map(|hit| Piece::CachePower { hit })
                .collect()
        }
        "aws:ebs:pause-volume-io" => hits.map(|hit| Piece::Volumes { hit, selection }).collect(),
        "aws:ecs:stop-task" => crashes(topology, resolved, ECS_REPLACEMENT_NS),
        "aws:eks:pod-delete" => crashes(topology, resolved, POD_REPLACEMENT_NS),
        "aws:ecs:task-network-latency" | "aws:eks:pod-network-latency" => {
            latency(topology, action, resolved)?
        }
        "aws:eks:pod-network-packet-loss" => packet_loss(topology, action, resolved)?,
        "aws:fis:inject-api-internal-error"
        | "aws:fis:inject-api-throttle-error"
        | "aws:fis:inject-api-unavailable-error" => api_errors(topology, action, resolved)?,
        "aws:arc:start-zonal-autoshift" => zonal_shift(topology, action, resolved)?,
        other => return Err(format!("action `{other}` is known but has no mapping")),
    };
    Ok(pieces)
}

/// The zones an action names in `availabilityZoneIdentifiers` (or `availabilityZoneIdentifier`),
/// else its target's.
fn action_zones(
    topology: &Topology,
    params: &indexmap::IndexMap<String, String>,
    resolved: &Resolved,
) -> Result<Vec<crate::model::ZoneId>, String> {
    let listed = params
        .get("availabilityZoneIdentifiers")
        .or_else(|| params.get("availabilityZoneIdentifier"));
    let Some(listed) = listed else {
        return Ok(resolved.zones.clone());
    };
    listed
        .split(',')
        .map(str::trim)
        .map(|az| {
            zone_named(topology, az)
                .ok_or_else(|| format!("Availability Zone `{az}` is no zone of the model"))
        })
        .collect()
}

fn databases(topology: &Topology, resolved: &Resolved) -> Result<Vec<NodeId>, String> {
    let mut nodes: Vec<NodeId> = Vec::new();
    for hit in &resolved.hits {
        if topology.node(hit.node).kind != NodeKind::Database {
            return Err(format!(
                "`{}` is not a database",
                topology.node(hit.node).name
            ));
        }
        if !nodes.contains(&hit.node) {
            nodes.push(hit.node);
        }
    }
    Ok(nodes)
}

/// With `forceFailover`, a failover; without, the instances are down for a reboot's minute.
fn reboot(
    topology: &Topology,
    action: &Timed<'_>,
    resolved: &Resolved,
) -> Result<Vec<Piece>, String> {
    let force = action
        .action
        .parameters
        .get("forceFailover")
        .is_some_and(|v| v == "true");
    if force {
        return Ok(databases(topology, resolved)?
            .into_iter()
            .map(|node| Piece::Failover { node })
            .collect());
    }
    Ok(crashes(topology, resolved, REBOOT_NS))
}

/// Hits that name one zone each (the AZ power actions act on one zone).
fn zoned(topology: &Topology, resolved: &Resolved, id: &str) -> Result<Vec<Hit>, String> {
    let mut out = Vec::new();
    for hit in &resolved.hits {
        match hit.zone {
            Some(_) => out.push(*hit),
            None => {
                let node = topology.node(hit.node);
                out.extend(node.zones.iter().map(|&zone| Hit {
                    node: hit.node,
                    zone: Some(zone),
                }));
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "`{id}` needs a target in an Availability Zone (`availabilityZoneIdentifier`)"
        ));
    }
    Ok(out)
}

fn crashes(topology: &Topology, resolved: &Resolved, restart_ns: u64) -> Vec<Piece> {
    resolved
        .hits
        .iter()
        .map(|&hit| {
            let mut keys = table("crash");
            target_keys(topology, &mut keys, hit, resolved.selection);
            keys.insert("restart_after".into(), exact_duration(restart_ns).into());
            Piece::Fault(keys)
        })
        .collect()
}

/// The share of a node's calls a selection of its replicas in some zones answers.
fn share(topology: &Topology, hit: Hit, selection: Selection) -> f64 {
    let node = topology.node(hit.node);
    let total = f64::from(node.replicas_per_zone) * node.zones.len().max(1) as f64;
    let in_hit = match hit.zone {
        Some(_) => f64::from(node.replicas_per_zone),
        None => total,
    };
    let taken = match selection {
        Selection::All => in_hit,
        Selection::Count(n) => f64::from(n).min(in_hit),
        Selection::Percent(p) => (in_hit * p / 100.0).ceil(),
    };
    round6(taken / total)
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Delay (and jitter) on every answer of the selected share of the node.
fn latency(
    topology: &Topology,
    action: &Timed<'_>,
    resolved: &Resolved,
) -> Result<Vec<Piece>, String> {
    let params = &action.action.parameters;
    let delay = milliseconds(params, "delayMilliseconds")?.unwrap_or(200);
    let jitter = milliseconds(params, "jitterMilliseconds")?.unwrap_or(0);
    let mut dist = toml::Table::new();
    if jitter == 0 {
        dist.insert("dist".into(), "constant".into());
        dist.insert("value".into(), format!("{delay}ms").into());
    } else {
        dist.insert("dist".into(), "uniform".into());
        dist.insert(
            "min".into(),
            format!("{}ms", delay.saturating_sub(jitter)).into(),
        );
        dist.insert("max".into(), format!("{}ms", delay + jitter).into());
    }
    Ok(per_node(topology, resolved, |share| {
        let mut keys = table("latency");
        keys.insert("latency".into(), toml::Value::Table(dist.clone()));
        keys.insert("share".into(), toml::Value::Float(share));
        keys
    }))
}

fn packet_loss(
    topology: &Topology,
    action: &Timed<'_>,
    resolved: &Resolved,
) -> Result<Vec<Piece>, String> {
    let loss = action
        .action
        .parameters
        .get("lossPercent")
        .map_or(Ok(7.0), |v| {
            v.parse::<f64>()
                .ok()
                .filter(|p| *p > 0.0 && *p <= 100.0)
                .ok_or_else(|| format!("lossPercent `{v}` is not a percentage"))
        })?;
    Ok(per_node(topology, resolved, |share| {
        let mut keys = table("blackhole");
        keys.insert(
            "share".into(),
            toml::Value::Float(round6(share * loss / 100.0)),
        );
        keys
    }))
}

/// One fault per node hit (latency and blackholes act on a node's answers, not per zone),
/// the share summed over the node's hits.
fn per_node(
    topology: &Topology,
    resolved: &Resolved,
    make: impl Fn(f64) -> toml::Table,
) -> Vec<Piece> {
    let mut nodes: Vec<(NodeId, f64)> = Vec::new();
    for &hit in &resolved.hits {
        let s = share(topology, hit, resolved.selection);
        match nodes.iter_mut().find(|(n, _)| *n == hit.node) {
            Some((_, total)) => *total = round6((*total + s).min(1.0)),
            None => nodes.push((hit.node, s)),
        }
    }
    nodes
        .into_iter()
        .map(|(node, s)| {
            let mut keys = make(s);
            let kind = keys.remove("kind").expect("made with a kind");
            let mut ordered = toml::Table::new();
            ordered.insert("kind".into(), kind);
            ordered.insert("node".into(), topology.node(node).name.clone().into());
            ordered.extend(keys);
            Piece::Fault(ordered)
        })
        .collect()
}

fn milliseconds(
    params: &indexmap::IndexMap<String, String>,
    key: &str,
) -> Result<Option<u64>, String> {
    params
        .get(key)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| format!("`{key}` must be whole milliseconds, found `{v}`"))
        })
        .transpose()
}

/// Errors on the calls the targeted roles' nodes make to the external whose `aws.service`
/// (or name) is the action's `service`.
fn api_errors(
    topology: &Topology,
    action: &Timed<'_>,
    resolved: &Resolved,
) -> Result<Vec<Piece>, String> {
    let params = &action.action.parameters;
    let service = params.get("service").ok_or("no `service` parameter")?;
    let percentage = params.get("percentage").map_or(Ok(100.0), |v| {
        v.parse::<f64>()
            .ok()
            .filter(|p| *p > 0.0 && *p <= 100.0)
            .ok_or_else(|| format!("percentage `{v}` is not a percentage"))
    })?;
    let is_api = |id: NodeId| {
        let node = topology.node(id);
        node.kind == NodeKind::External
            && (topology.aws.node(id).service.as_deref() == Some(service.as_str())
                || node.name == *service)
    };
    let mut pieces = Vec::new();
    for hit in &resolved.hits {
        for call in &topology.node(hit.node).calls {
            if is_api(call.to) {
                let mut keys = table("errors");
                let edge = format!(
                    "{}->{}",
                    topology.node(hit.node).name,
                    topology.node(call.to).name
                );
                keys.insert("edge".into(), edge.into());
                keys.insert(
                    "share".into(),
                    toml::Value::Float(round6(percentage / 100.0)),
                );
                pieces.push(Piece::Fault(keys));
            }
        }
    }
    if pieces.is_empty() {
        return Err(format!(
            "no call of the targeted nodes goes to an external with `aws = {{ service = \"{service}\" }}` (or named `{service}`)"
        ));
    }
    pieces.dedup();
    Ok(pieces)
}

fn zonal_shift(
    topology: &Topology,
    action: &Timed<'_>,
    resolved: &Resolved,
) -> Result<Vec<Piece>, String> {
    let zones = action_zones(topology, &action.action.parameters, resolved)?;
    let mut pieces = Vec::new();
    for zone in zones {
        let mut nodes: Vec<NodeId> = Vec::new();
        for hit in resolved
            .hits
            .iter()
            .filter(|h| topology.node(h.node).zones.contains(&zone))
        {
            if !nodes.contains(&hit.node) {
                nodes.push(hit.node);
            }
        }
        let every: Vec<NodeId> = (0..topology.nodes.len())
            .map(|i| NodeId(i as u32))
            .filter(|&id| {
                matches!(topology.node(id).kind, NodeKind::Service | NodeKind::Cache)
                    && topology.node(id).zones.contains(&zone)
            })
            .collect();
        let mut keys = table("zonal-shift");
        keys.insert("zone".into(), topology.zones[zone.index()].clone().into());
        if nodes != every {
            let names: Vec<toml::Value> = nodes
                .iter()
                .map(|&n| topology.node(n).name.clone().into())
                .collect();
            keys.insert("nodes".into(), toml::Value::Array(names));
        }
        pieces.push(Piece::Fault(keys));
    }
    Ok(pieces)
}

/// A piece no zone outage took, as a fault of its own.
pub(super) fn standalone(
    topology: &Topology,
    action: &Timed<'_>,
    piece: &Piece,
    start_ns: u64,
) -> Result<toml::Table, String> {
    let start = start_ns + action.start_ns;
    let duration = (action.duration_ns > 0).then_some(action.duration_ns);
    let mut keys = match piece {
        Piece::Fault(keys) => {
            let mut keys = keys.clone();
            let timed_by_restart = keys.contains_key("restart_after");
            timing(
                &mut keys,
                start,
                if timed_by_restart { None } else { duration },
            );
            return Ok(keys);
        }
        Piece::Stop {
            hit,
            selection,
            restart_ns,
        } => {
            let mut keys = table("crash");
            target_keys(topology, &mut keys, *hit, *selection);
            if let Some(restart) = restart_ns {
                keys.insert("restart_after".into(), exact_duration(*restart).into());
            }
            keys
        }
        Piece::CachePower { hit } => {
            let mut keys = table("crash");
            target_keys(topology, &mut keys, *hit, Selection::All);
            keys.insert(
                "restart_after".into(),
                exact_duration(action.duration_ns).into(),
            );
            keys
        }
        Piece::Failover { node } => failover(topology, *node),
        Piece::Capacity { .. } => {
            return Err("insufficient capacity has no counterpart on its own: the simulator launches no instances (it is a zone outage's recovery phase when the template stops the whole zone)".into());
        }
        Piece::Volumes { hit, selection } => {
            let mut keys = table("capacity");
            target_keys(topology, &mut keys, *hit, *selection);
            keys.insert("workers".into(), toml::Value::Integer(0));
            keys.insert("start".into(), exact_duration(start).into());
            keys.insert("duration".into(), exact_duration(action.duration_ns).into());
            return Ok(keys);
        }
        Piece::Disrupt { zones } => {
            let [zone] = zones.as_slice() else {
                return Err(
                    "subnets in several zones cut at once: write one action per zone".into(),
                );
            };
            let mut keys = table("zone-partition");
            keys.insert("zone".into(), topology.zones[zone.index()].clone().into());
            keys.insert("start".into(), exact_duration(start).into());
            keys.insert("duration".into(), exact_duration(action.duration_ns).into());
            return Ok(keys);
        }
    };
    keys.insert("start".into(), exact_duration(start).into());
    Ok(keys)
}

/// The primary zone's replicas down long enough for the database to fail over (twice its
/// `failover` time, at least a minute); they come back as the standby.
fn failover(topology: &Topology, node: NodeId) -> toml::Table {
    let mut keys = table("crash");
    keys.insert("node".into(), topology.node(node).name.clone().into());
    if let Some(zone) = primary(topology, node) {
        keys.insert("zone".into(), topology.zones[zone.index()].clone().into());
    }
    let failover_ns = match topology.node(node).role {
        Role::Database {
            failover_ns: Some(f),
            ..
        } => f,
        _ => 0,
    };
    let down = (2 * failover_ns).max(60_000_000_000);
    keys.insert("restart_after".into(), exact_duration(down).into());
    keys
}
