//! A scenario's faults and hypotheses as a Chaos Toolkit experiment, so what was rehearsed in
//! simulation can be run for real. Each fault is a `background` action started after a
//! `pauses.before` (its start relative to the first fault) and held for a `pauses.after` (its
//! duration); network faults and zone drains get the rollback that undoes them. Nodes are
//! selected by their labels (`app=api`), or by name where they have none. Hypotheses become
//! HTTP probes (availability) and Prometheus queries (latency quantiles, error ratio). What
//! Chaos Toolkit has no words for goes into the `blastradius` extension (see `extension.rs`);
//! what has no Chaos Toolkit counterpart at all is listed in `not_exported`, by name.

use serde_json::{Map, Value, json};

use crate::interop::draft::{Unmapped, exact_duration};
use crate::kernel::Dist;
use crate::model::{
    Change, FaultKind, FaultSpec, FaultTarget, Hypothesis, Metric, NodeId, NodeKind, Role,
    Scenario, Selection, Topology, Window,
};

use super::actions::ZONE_KEYS;
use super::extension::{self, Written};

/// An exported experiment and what could not be exported.
#[derive(Clone, Debug)]
pub struct Exported {
    /// The experiment, pretty-printed JSON with a final newline.
    pub json: String,
    /// Faults and hypotheses left out (or approximated), named `fault N (line L)` /
    /// `hypothesis N (line L)`.
    pub not_exported: Vec<Unmapped>,
}

/// One fault as an action: the activity and, when it has one, the rollback that undoes it.
struct FaultAction {
    provider: Value,
    rollback: Option<Value>,
    note: Option<String>,
}

/// The experiment for `scenario`.
pub fn export(scenario: &Scenario) -> Exported {
    let topology = &scenario.topology;
    let mut not_exported = Vec::new();
    let method_start = scenario
        .faults
        .iter()
        .map(|f| f.start_ns)
        .min()
        .unwrap_or(scenario.warmup_ns);
    let mut order: Vec<usize> = (0..scenario.faults.len()).collect();
    order.sort_by_key(|&i| scenario.faults[i].start_ns);
    let mut method = Vec::new();
    let mut rollbacks = Vec::new();
    let mut faults = Map::new();
    for index in order {
        let fault = &scenario.faults[index];
        let label = format!("fault {} (line {})", index + 1, fault.line);
        let Some(action) = fault_action(topology, fault) else {
            not_exported.push(Unmapped {
                name: label,
                reason: format!("`{}` has no Chaos Toolkit action", fault.kind.as_str()),
            });
            continue;
        };
        if let Some(note) = action.note {
            not_exported.push(Unmapped {
                name: label,
                reason: note,
            });
        }
        let name = format!("fault-{}-{}", index + 1, fault.kind.as_str());
        let duration = effective_duration(fault);
        let held = duration.unwrap_or(scenario.duration_ns.saturating_sub(fault.start_ns));
        method.push(json!({
            "type": "action",
            "name": name,
            "background": true,
            "provider": action.provider,
            "pauses": { "before": seconds(fault.start_ns - method_start), "after": seconds(held) },
        }));
        if let Some(provider) = action.rollback {
            rollbacks.push(
                json!({ "type": "action", "name": format!("undo-{name}"), "provider": provider }),
            );
        }
        faults.insert(
            name,
            json!({ "duration": extension::duration_json(duration) }),
        );
    }
    let (probes, bounds) = probes(scenario, &mut not_exported);
    let written = Written {
        scenario: json!({
            "name": scenario.name,
            "duration": exact_duration(scenario.duration_ns),
            "warmup": exact_duration(scenario.warmup_ns),
            "seed": scenario.seed,
            "method_start": exact_duration(method_start),
        }),
        faults,
        hypotheses: bounds,
    };
    let mut experiment = Map::new();
    experiment.insert("version".into(), "1.0.0".into());
    experiment.insert("title".into(), scenario.name.clone().into());
    experiment.insert(
        "description".into(),
        format!(
            "Exported by `blastradius export ctk` from {} (model {}).",
            scenario.path.display(),
            topology.name
        )
        .into(),
    );
    experiment.insert("tags".into(), json!(["blastradius"]));
    if !probes.is_empty() {
        experiment.insert(
            "steady-state-hypothesis".into(),
            json!({ "title": format!("{}: steady state", scenario.name), "probes": probes }),
        );
    }
    experiment.insert("method".into(), Value::Array(method));
    experiment.insert("rollbacks".into(), Value::Array(rollbacks));
    experiment.insert("extensions".into(), json!([written.to_json()]));
    let mut json = serde_json::to_string_pretty(&Value::Object(experiment)).expect("a JSON value");
    json.push('\n');
    Exported { json, not_exported }
}

/// How long the fault acts: its duration, or a crash's `restart_after`; `None` to the end.
pub(super) fn effective_duration(fault: &FaultSpec) -> Option<u64> {
    match fault.kind {
        FaultKind::Crash {
            restart_after_ns: Some(restart),
        } if fault.duration_ns.is_none() => Some(restart),
        _ => fault.duration_ns,
    }
}

/// Whole seconds as an integer, others as a float (Chaos Toolkit's pauses are seconds).
fn seconds(ns: u64) -> Value {
    if ns.is_multiple_of(1_000_000_000) {
        json!(ns / 1_000_000_000)
    } else {
        json!(ns as f64 / 1e9)
    }
}

fn python(module: &str, func: &str, arguments: Value) -> Value {
    json!({ "type": "python", "module": module, "func": func, "arguments": arguments })
}

/// The label selector that picks the node: its labels, or `app=NAME` without any (which the
/// importer resolves by name).
fn selector(topology: &Topology, id: NodeId) -> String {
    let node = topology.node(id);
    if node.labels.is_empty() {
        return format!("app={}", node.name);
    }
    node.labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// EC2 tag filters for the node's labels (or its name as the `app` tag).
fn tag_filters(topology: &Topology, id: NodeId) -> Value {
    let node = topology.node(id);
    let filters: Vec<Value> = if node.labels.is_empty() {
        vec![json!({ "Name": "tag:app", "Values": [node.name] })]
    } else {
        node.labels
            .iter()
            .map(|(k, v)| json!({ "Name": format!("tag:{k}"), "Values": [v] }))
            .collect()
    };
    Value::Array(filters)
}

/// The action for a fault, when Chaos Toolkit has one.
fn fault_action(topology: &Topology, fault: &FaultSpec) -> Option<FaultAction> {
    match (&fault.kind, &fault.target) {
        (FaultKind::ZoneOutage { recovery_ns }, FaultTarget::Zone(zone)) => {
            let selector = format!("{}={}", ZONE_KEYS[0], topology.zones[zone.0 as usize]);
            let args = json!({ "label_selector": selector });
            Some(FaultAction {
                provider: python("chaosk8s.node.actions", "drain_nodes", args.clone()),
                rollback: Some(python("chaosk8s.node.actions", "uncordon_node", args)),
                note: recovery_ns.map(|_| {
                    "approximated: its `recovery` phase has no Chaos Toolkit counterpart".into()
                }),
            })
        }
        (FaultKind::Crash { .. }, target) => crash(topology, target, fault.selection),
        (FaultKind::Latency { added, share }, target) => {
            network(topology, target, *share, Some(added))
        }
        (FaultKind::Blackhole { share }, target) => network(topology, target, *share, None),
        (FaultKind::Partition, target @ FaultTarget::Edge { .. }) => {
            network(topology, target, 1.0, None)
        }
        _ => None,
    }
}

/// A crash: a database's primary zone is a cluster failover, the whole database a reboot, a
/// cache a cluster reboot, a service's replicas terminated pods, a node in a zone its
/// instances stopped there.
fn crash(topology: &Topology, target: &FaultTarget, selection: Selection) -> Option<FaultAction> {
    let plain = |provider| {
        Some(FaultAction {
            provider,
            rollback: None,
            note: None,
        })
    };
    match *target {
        FaultTarget::Node(id) if topology.node(id).kind == NodeKind::Database => plain(python(
            "chaosaws.rds.actions",
            "reboot_db_instance",
            json!({ "db_instance_identifier": topology.node(id).name }),
        )),
        FaultTarget::NodeInZone(id, zone) if is_primary(topology, id, zone) => plain(python(
            "chaosaws.rds.actions",
            "failover_db_cluster",
            json!({ "db_cluster_identifier": topology.node(id).name }),
        )),
        FaultTarget::Node(id)
            if topology.node(id).kind == NodeKind::Cache && selection == Selection::All =>
        {
            plain(python(
                "chaosaws.elasticache.actions",
                "reboot_cache_clusters",
                json!({ "cluster_ids": [topology.node(id).name] }),
            ))
        }
        FaultTarget::Node(id) if topology.node(id).kind != NodeKind::External => {
            let mut args = json!({ "label_selector": selector(topology, id) });
            match selection {
                Selection::All => args["all"] = json!(true),
                Selection::Count(count) => args["qty"] = json!(count),
                Selection::Percent(percent) => {
                    args["mode"] = json!("percentage");
                    args["qty"] = json!(percent);
                }
            }
            args["rand"] = json!(true);
            plain(python("chaosk8s.pod.actions", "terminate_pods", args))
        }
        FaultTarget::NodeInZone(id, zone) => {
            let args = json!({ "az": topology.zones[zone.0 as usize], "filters": tag_filters(topology, id) });
            Some(FaultAction {
                provider: python("chaosaws.ec2.actions", "stop_instances", args.clone()),
                rollback: Some(python("chaosaws.ec2.actions", "start_instances", args)),
                note: (selection != Selection::All)
                    .then(|| "approximated: every instance of the node in the zone is stopped, not a count".into()),
            })
        }
        _ => None,
    }
}

fn is_primary(topology: &Topology, id: NodeId, zone: crate::model::ZoneId) -> bool {
    matches!(topology.node(id).role, Role::Database { primary, .. } if primary == zone)
}

/// Chaos Mesh latency (with `latency`) or loss (without) on a node's pods, or on an edge's
/// calls (`target_label_selectors`), undone by deleting the network chaos.
fn network(
    topology: &Topology,
    target: &FaultTarget,
    share: f64,
    latency: Option<&Dist>,
) -> Option<FaultAction> {
    let name =
        |kind: &str, node: NodeId| format!("blastradius-{kind}-{}", topology.node(node).name);
    let (mut args, chaos_name) = match *target {
        FaultTarget::Node(id) => (
            json!({ "label_selectors": selector(topology, id) }),
            name("node", id),
        ),
        FaultTarget::Edge { from, to } => (
            json!({ "label_selectors": selector(topology, from), "target_label_selectors": selector(topology, to),
                    "target_mode": "all" }),
            format!("{}-to-{}", name("edge", from), topology.node(to).name),
        ),
        _ => return None,
    };
    args["name"] = json!(chaos_name);
    if share >= 1.0 {
        args["mode"] = json!("all");
    } else {
        args["mode"] = json!("fixed-percent");
        args["mode_value"] = json!(percent_text(share));
    }
    let mut note = None;
    let func = match latency {
        Some(dist) => {
            let (value, jitter, exact) = latency_of(dist);
            args["latency"] = json!(exact_duration(value));
            if jitter > 0 {
                args["jitter"] = json!(exact_duration(jitter));
            }
            if !exact {
                note = Some(
                    "approximated: its latency distribution as Chaos Mesh's latency and jitter"
                        .into(),
                );
            }
            "add_latency"
        }
        None => {
            args["loss"] = json!(percent_text(share));
            args["mode"] = json!("all");
            args.as_object_mut().map(|a| a.remove("mode_value"));
            "set_loss"
        }
    };
    let module = "chaosk8s.chaosmesh.network.actions";
    Some(FaultAction {
        provider: python(module, func, args),
        rollback: Some(python(
            module,
            "delete_network_fault",
            json!({ "name": chaos_name }),
        )),
        note,
    })
}

/// A share as a percentage without float noise (0.3 is "30", not "30.000000000000004").
fn percent_text(share: f64) -> String {
    let text = format!("{:.9}", share * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Latency and jitter for a distribution: exact for a constant and a uniform spread, the mean
/// otherwise.
fn latency_of(dist: &Dist) -> (u64, u64, bool) {
    match *dist {
        Dist::Constant { value_ns } => (value_ns, 0, true),
        Dist::Uniform { min_ns, max_ns } if (min_ns + max_ns) % 2 == 0 => {
            ((min_ns + max_ns) / 2, (max_ns - min_ns) / 2, true)
        }
        _ => (dist.mean_ns().round() as u64, 0, false),
    }
}

// ---- hypotheses ----

/// The probes and their exact bounds for the extension.
fn probes(
    scenario: &Scenario,
    not_exported: &mut Vec<Unmapped>,
) -> (Vec<Value>, Map<String, Value>) {
    let topology = &scenario.topology;
    let mut probes = Vec::new();
    let mut bounds = Map::new();
    for (index, hypothesis) in scenario.hypotheses.iter().enumerate() {
        let label = format!("hypothesis {} (line {})", index + 1, hypothesis.line);
        let workload = &topology.workloads[hypothesis.workload.index()];
        let name = format!(
            "hypothesis-{}-{}-{}",
            index + 1,
            workload.name,
            hypothesis.metric.as_str()
        );
        match probe(topology, hypothesis) {
            Ok((provider, tolerance)) => {
                probes.push(json!({ "type": "probe", "name": name, "tolerance": tolerance, "provider": provider }));
                bounds.insert(name, bound_json(hypothesis));
            }
            Err(reason) => not_exported.push(Unmapped {
                name: label,
                reason,
            }),
        }
    }
    (probes, bounds)
}

/// A hypothesis's probe provider and tolerance, or why it has none.
fn probe(topology: &Topology, hypothesis: &Hypothesis) -> Result<(Value, Value), String> {
    if hypothesis.queue.is_some() {
        return Err("a queue metric has no Chaos Toolkit probe".into());
    }
    let workload = &topology.workloads[hypothesis.workload.index()];
    let matchers = node_matchers(topology, workload.target, &workload.name);
    let quantile = match hypothesis.metric {
        Metric::Availability => {
            let provider = json!({ "type": "http", "url": format!("http://{}/", workload.name), "timeout": 3 });
            return Ok((provider, json!(200)));
        }
        Metric::P50 => "0.5",
        Metric::P90 => "0.9",
        Metric::P99 => "0.99",
        Metric::P999 => "0.999",
        Metric::ErrorRate => {
            let max = hypothesis
                .max
                .ok_or("an error-rate hypothesis without `max`: a probe needs a range")?;
            let query = format!(
                "sum(rate(http_requests_total{{{matchers},code=~\"5..\"}}[1m])) / sum(rate(http_requests_total{{{matchers}}}[1m]))"
            );
            return Ok((
                prometheus(&query),
                json!({ "type": "range", "range": [0.0, max] }),
            ));
        }
        other => return Err(format!("`{}` has no Chaos Toolkit probe", other.as_str())),
    };
    let max = hypothesis.max.ok_or_else(|| {
        "bounded relative to the control only: a real experiment has no control run to compare with".to_string()
    })?;
    let query = format!(
        "histogram_quantile({quantile}, sum(rate(http_request_duration_seconds_bucket{{{matchers}}}[1m])) by (le))"
    );
    Ok((
        prometheus(&query),
        json!({ "type": "range", "range": [0.0, max / 1e9] }),
    ))
}

fn prometheus(query: &str) -> Value {
    python("chaosprometheus.probes", "query", json!({ "query": query }))
}

/// `workload="checkout",app="api",...`: the workload first (the importer's key), then the
/// target node's labels.
fn node_matchers(topology: &Topology, node: NodeId, workload: &str) -> String {
    let mut matchers = vec![format!("workload=\"{workload}\"")];
    let labels = &topology.node(node).labels;
    if labels.is_empty() {
        matchers.push(format!("service=\"{}\"", topology.node(node).name));
    }
    matchers.extend(
        labels
            .iter()
            .map(|(k, v)| format!("{}=\"{v}\"", k.replace(['.', '/', '-'], "_"))),
    );
    matchers.join(",")
}

/// The hypothesis's bounds and windows as the scenario file writes them.
fn bound_json(hypothesis: &Hypothesis) -> Value {
    let latency = hypothesis.metric.is_latency();
    let amount = |value: f64| {
        if latency {
            json!(exact_duration(value.round() as u64))
        } else {
            json!(value)
        }
    };
    let change = |change: &Change| match *change {
        Change::Relative(r) => json!(format!("+{}%", percent_text(r))),
        Change::Absolute(a) => amount(a),
    };
    let mut bounds = Map::new();
    if let Some(min) = hypothesis.min {
        bounds.insert("min".into(), amount(min));
    }
    if let Some(max) = hypothesis.max {
        bounds.insert("max".into(), amount(max));
    }
    if let Some(c) = &hypothesis.max_increase {
        bounds.insert("max_increase".into(), change(c));
    }
    if let Some(c) = &hypothesis.max_decrease {
        bounds.insert("max_decrease".into(), change(c));
    }
    let windows: Vec<&str> = hypothesis
        .windows
        .iter()
        .map(|w: &Window| w.as_str())
        .collect();
    bounds.insert("window".into(), json!(windows));
    Value::Object(bounds)
}
