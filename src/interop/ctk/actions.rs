//! Method and rollback actions to faults: which Chaos Toolkit function does what to which
//! nodes of the model. Each mapped action gives fault tables without their times (the
//! timeline sets those), what undoes them, and notes on what was approximated; anything else
//! is `Unmapped` with the reason, by the activity's name.

use serde_json::Value;

use crate::kernel::{Purpose, Stream, stable_id};
use crate::model::{NodeId, NodeKind, Role, Topology, parse_duration};

use super::CtkError;
use super::document::{self, boolean, number, string};
use super::select;
use super::timeline::{Placed, sleep_of};

/// The zone label keys of Kubernetes nodes (current and deprecated).
pub const ZONE_KEYS: [&str; 2] = [
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
];

/// What an action is, for the simulator.
#[derive(Debug)]
pub enum Mapped {
    /// Fault tables (kind and target keys; no `start`/`duration`), the key of the activity that
    /// would undo them, and notes for their origin comment.
    Faults {
        tables: Vec<toml::Table>,
        undo: Option<String>,
        notes: Vec<String>,
    },
    /// Ends the open fault whose undo key this is.
    Undo(String),
    /// Waits: only its time matters, and the timeline has it.
    Sleep,
    /// No counterpart; the reason, as a sentence.
    Unmapped(String),
}

/// The importer's view of one action.
pub struct Action<'a> {
    pub topology: &'a Topology,
    pub seed: u64,
    pub placed: &'a Placed<'a>,
    /// `method[2].provider.arguments`, for messages.
    pub path: String,
    pub arguments: &'a Value,
}

impl Action<'_> {
    fn name(&self) -> &str {
        &self.placed.name
    }
    fn string(&self, key: &str) -> Result<Option<&str>, CtkError> {
        string(self.arguments, key, &self.path)
    }
    fn selector(&self, key: &str) -> Result<Option<Vec<NodeId>>, CtkError> {
        match self.arguments.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => {
                let text = select::chaos_mesh_text(value).ok_or_else(|| {
                    document::shape(&document::join(&self.path, key), "a selector", value)
                })?;
                select::nodes(self.topology, &text, self.name()).map(Some)
            }
        }
    }
}

/// Maps one placed activity of the method or the rollbacks.
pub fn map(topology: &Topology, seed: u64, placed: &Placed<'_>) -> Result<Mapped, CtkError> {
    if sleep_of(placed.activity, &placed.path)?.is_some() {
        return Ok(Mapped::Sleep);
    }
    let kind = document::string(placed.activity, "type", &placed.path)?.unwrap_or("action");
    if kind == "probe" {
        return Ok(Mapped::Unmapped(
            "a probe in the method only observes the system; the simulation's report measures it"
                .into(),
        ));
    }
    let Some(provider) = placed.activity.get("provider") else {
        return Ok(Mapped::Unmapped("an activity without a provider".into()));
    };
    let provider_path = format!("{}.provider", placed.path);
    match document::string(provider, "type", &provider_path)? {
        Some("python") => {}
        Some(other) => {
            return Ok(Mapped::Unmapped(format!(
                "a {other} provider has no counterpart in the simulator"
            )));
        }
        None => return Ok(Mapped::Unmapped("a provider without a type".into())),
    }
    let module = document::string(provider, "module", &provider_path)?.unwrap_or("");
    let func = document::string(provider, "func", &provider_path)?.unwrap_or("");
    let action = Action {
        topology,
        seed,
        placed,
        path: format!("{provider_path}.arguments"),
        arguments: provider.get("arguments").unwrap_or(&Value::Null),
    };
    map_function(&action, &format!("{module}.{func}"))
}

fn map_function(action: &Action<'_>, function: &str) -> Result<Mapped, CtkError> {
    match function {
        "chaosk8s.pod.actions.terminate_pods" | "chaosk8s.pod.actions.delete_pods" => pods(action),
        "chaosk8s.node.actions.drain_nodes"
        | "chaosk8s.node.actions.delete_nodes"
        | "chaosk8s.node.actions.cordon_node" => k8s_nodes(action, function),
        "chaosk8s.node.actions.uncordon_node" => Ok(k8s_zone(action)?
            .map_or_else(no_zone_label, |zone| Mapped::Undo(format!("zone:{zone}")))),
        "chaosk8s.chaosmesh.network.actions.add_latency" => network(action, Network::Latency),
        "chaosk8s.chaosmesh.network.actions.set_loss" => network(action, Network::Loss),
        "chaosk8s.chaosmesh.network.actions.delete_network_fault" => Ok(Mapped::Undo(format!(
            "network:{}",
            action.string("name")?.unwrap_or("")
        ))),
        "chaosaws.ec2.actions.stop_instances" | "chaosaws.ec2.actions.terminate_instances" => {
            ec2(action, function.ends_with("stop_instances"))
        }
        "chaosaws.ec2.actions.start_instances" => ec2_key(action).map(|key| match key {
            Ok((key, _, _)) => Mapped::Undo(key),
            Err(reason) => Mapped::Unmapped(reason),
        }),
        "chaosaws.rds.actions.failover_db_cluster" => {
            database(action, "db_cluster_identifier", true)
        }
        "chaosaws.rds.actions.reboot_db_instance" => {
            let failover =
                boolean(action.arguments, "force_failover", &action.path)?.unwrap_or(false);
            database(action, "db_instance_identifier", failover)
        }
        "chaosaws.elasticache.actions.reboot_cache_clusters" => caches(action),
        "chaosaws.fis.actions.start_experiment" => Ok(Mapped::Unmapped(
            "an AWS FIS experiment: its template is not part of the Chaos Toolkit experiment \
             (import the template with the FIS importer where this build has one)"
                .into(),
        )),
        other => Ok(Mapped::Unmapped(format!(
            "`{other}` has no counterpart in the simulator"
        ))),
    }
}

fn no_zone_label() -> Mapped {
    Mapped::Unmapped(format!(
        "its nodes are not selected by a zone label ({}); the model knows zones, not Kubernetes nodes",
        ZONE_KEYS[0]
    ))
}

/// A table with `kind` first, then the given keys.
fn table(kind: &str, keys: &[(&str, toml::Value)]) -> toml::Table {
    let mut table = toml::Table::new();
    table.insert("kind".into(), kind.into());
    for (key, value) in keys {
        table.insert((*key).into(), value.clone());
    }
    table
}

fn faults(tables: Vec<toml::Table>, undo: Option<String>, notes: Vec<String>) -> Mapped {
    Mapped::Faults {
        tables,
        undo,
        notes,
    }
}

// ---- pods ----

/// `terminate_pods` / `delete_pods`: the replicas of the selected nodes crash. `qty` (a count,
/// or a percentage with `mode = "percentage"`) is spread over the matching replicas — the
/// first ones, or seeded picks with `rand` — and each node gets its share as a `count`.
fn pods(action: &Action<'_>) -> Result<Mapped, CtkError> {
    let mut nodes = match action.selector("label_selector")? {
        Some(nodes) => nodes,
        None => action
            .topology
            .nodes
            .iter()
            .enumerate()
            .map(|(i, _)| NodeId(i as u32))
            .collect(),
    };
    if let Some(pattern) = action.string("name_pattern")?.or(action.string("name")?) {
        nodes = by_pod_name(action, &nodes, pattern)?;
    }
    let all = boolean(action.arguments, "all", &action.path)?.unwrap_or(false)
        || action.arguments.get("qty").is_none() && action.arguments.get("name").is_some();
    let replicas: Vec<(NodeId, u32)> = nodes
        .iter()
        .map(|&id| (id, replica_count(action.topology, id)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let total: u32 = replicas.iter().map(|(_, n)| n).sum();
    let qty = number(action.arguments, "qty", &action.path)?.unwrap_or(1.0);
    let wanted = if all {
        total
    } else if string(action.arguments, "mode", &action.path)? == Some("percentage") {
        ((qty / 100.0) * f64::from(total))
            .ceil()
            .min(f64::from(total)) as u32
    } else {
        (qty.round() as u32).min(total)
    };
    let rand = boolean(action.arguments, "rand", &action.path)?.unwrap_or(false);
    let counts = spread(action, &replicas, wanted, rand);
    let tables = counts
        .into_iter()
        .filter(|(_, count, _)| *count > 0)
        .map(|(id, count, of)| {
            let name = action.topology.node(id).name.clone();
            let mut keys = vec![("node", toml::Value::from(name))];
            if count < of {
                keys.push(("count", toml::Value::Integer(i64::from(count))));
            }
            table("crash", &keys)
        })
        .collect();
    let note = "a terminated pod stays down until the experiment's end (or `pauses.after` says how long \
                Kubernetes takes to replace it)";
    Ok(faults(tables, None, vec![note.into()]))
}

/// Nodes whose pods the regex (`name_pattern`, Python's `re.search`) or the pod `name` would
/// select: a pod is named after its node (`api-7d9f4-x2k`).
fn by_pod_name(
    action: &Action<'_>,
    nodes: &[NodeId],
    pattern: &str,
) -> Result<Vec<NodeId>, CtkError> {
    let regex = regex::Regex::new(pattern).map_err(|error| CtkError::Shape {
        at: format!("{}.name_pattern", action.path),
        message: format!("not a regular expression: {error}"),
    })?;
    let kept: Vec<NodeId> = nodes
        .iter()
        .copied()
        .filter(|&id| {
            let name = &action.topology.node(id).name;
            regex.is_match(name)
                || regex.is_match(&format!("{name}-0"))
                || pattern.starts_with(&format!("{name}-"))
        })
        .collect();
    if kept.is_empty() {
        return Err(CtkError::Selector {
            activity: action.name().to_string(),
            selector: pattern.to_string(),
            message: format!(
                "names no pod of the selected nodes ({})",
                nodes
                    .iter()
                    .map(|&id| action.topology.node(id).name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(kept)
}

/// Replicas a node has (its starting ones), 0 for an external, which has none to kill.
fn replica_count(topology: &Topology, id: NodeId) -> u32 {
    let node = topology.node(id);
    if matches!(node.role, Role::External { .. }) {
        0
    } else {
        node.replicas_per_zone * node.zones.len() as u32
    }
}

/// `wanted` replicas spread over the nodes: the first ones in node order, or with `rand` a
/// draw from the scenario's seed (a stream of the activity's own, so another activity's
/// draws do not move it). Returns (node, crashed, replicas).
fn spread(
    action: &Action<'_>,
    replicas: &[(NodeId, u32)],
    wanted: u32,
    rand: bool,
) -> Vec<(NodeId, u32, u32)> {
    let mut pods: Vec<usize> = replicas
        .iter()
        .enumerate()
        .flat_map(|(i, (_, n))| std::iter::repeat_n(i, *n as usize))
        .collect();
    if rand {
        let mut stream = Stream::new(
            action.seed,
            stable_id("ctk-activity", action.name()),
            Purpose::Fault,
        );
        for i in (1..pods.len()).rev() {
            let j = stream.below(i as u64 + 1) as usize;
            pods.swap(i, j);
        }
    }
    let mut counts: Vec<(NodeId, u32, u32)> = replicas.iter().map(|&(id, n)| (id, 0, n)).collect();
    for &pod in pods.iter().take(wanted as usize) {
        counts[pod].1 += 1;
    }
    counts
}

// ---- Kubernetes nodes ----

/// `drain_nodes` / `delete_nodes` / `cordon_node` of a zone's nodes: the zone's replicas lost.
fn k8s_nodes(action: &Action<'_>, function: &str) -> Result<Mapped, CtkError> {
    let Some(zone) = k8s_zone(action)? else {
        return Ok(no_zone_label());
    };
    let mut notes = Vec::new();
    if function.ends_with("cordon_node") {
        notes.push(
            "approximated: a cordon only stops new pods; taken as the zone's replicas lost".into(),
        );
    }
    if action.arguments.get("count").is_some_and(|v| !v.is_null()) {
        notes.push("approximated: `count` nodes of the zone taken as the whole zone".into());
    }
    let tables = vec![table("zone-outage", &[("zone", zone.clone().into())])];
    Ok(faults(tables, Some(format!("zone:{zone}")), notes))
}

/// The zone a node selector names by its zone label, checked against the model's zones.
fn k8s_zone(action: &Action<'_>) -> Result<Option<String>, CtkError> {
    let Some(text) = action.string("label_selector")? else {
        return Ok(None);
    };
    let zone = text.split(',').find_map(|requirement| {
        let (key, value) = requirement.split_once('=')?;
        let key = key.trim().trim_end_matches('!');
        ZONE_KEYS
            .contains(&key)
            .then(|| value.trim_start_matches('=').trim().to_string())
    });
    match zone {
        Some(zone) => known_zone(action, &zone, text).map(Some),
        None => Ok(None),
    }
}

fn known_zone(action: &Action<'_>, zone: &str, selector: &str) -> Result<String, CtkError> {
    if action.topology.zone_id(zone).is_some() {
        return Ok(zone.to_string());
    }
    let zones = &action.topology.zones;
    let closest = zones
        .iter()
        .min_by_key(|z| strsim::levenshtein(z, zone))
        .filter(|z| strsim::levenshtein(z, zone) <= 2);
    let mut message = format!(
        "zone `{zone}` is not a zone of the model ({})",
        zones.join(", ")
    );
    if let Some(closest) = closest {
        message.push_str(&format!("; did you mean `{closest}`?"));
    }
    Err(CtkError::Selector {
        activity: action.name().to_string(),
        selector: selector.to_string(),
        message,
    })
}

// ---- Chaos Mesh network faults ----

#[derive(Clone, Copy, PartialEq)]
enum Network {
    Latency,
    Loss,
}

/// `add_latency` / `set_loss` on the pods of `label_selectors`: on the calls to the targets of
/// `target_label_selectors` (edges), or without targets on everything the pods answer (nodes).
fn network(action: &Action<'_>, what: Network) -> Result<Mapped, CtkError> {
    let Some(sources) = action.selector("label_selectors")? else {
        return Ok(Mapped::Unmapped(
            "a network fault without `label_selectors`".into(),
        ));
    };
    let targets = action.selector("target_label_selectors")?;
    let mut notes = Vec::new();
    let parameters = match what {
        Network::Latency => latency_keys(action, &mut notes)?,
        Network::Loss => {
            let loss = number(action.arguments, "loss", &action.path)?
                .unwrap_or(100.0)
                .min(100.0);
            vec![("share", toml::Value::Float(loss / 100.0))]
        }
    };
    let tables = match &targets {
        Some(targets) => edge_tables(action, &sources, targets, what, &parameters)?,
        None => sources
            .iter()
            .map(|&id| {
                let mut keys = vec![(
                    "node",
                    toml::Value::from(action.topology.node(id).name.clone()),
                )];
                keys.extend(mode_share(action, id, &parameters, &mut notes)?);
                let kind = if what == Network::Latency {
                    "latency"
                } else {
                    "blackhole"
                };
                Ok(table(kind, &keys))
            })
            .collect::<Result<_, CtkError>>()?,
    };
    if what == Network::Loss {
        notes.push(
            "approximated: lost packets as calls without an answer (the caller's timeout decides)"
                .into(),
        );
    }
    notes.sort();
    notes.dedup();
    let undo = format!("network:{}", action.string("name")?.unwrap_or(""));
    Ok(faults(tables, Some(undo), notes))
}

/// The calls from a source to a target node, one fault each. 100% loss on an edge is a
/// `partition`.
fn edge_tables(
    action: &Action<'_>,
    sources: &[NodeId],
    targets: &[NodeId],
    what: Network,
    parameters: &[(&str, toml::Value)],
) -> Result<Vec<toml::Table>, CtkError> {
    let topology = action.topology;
    let mut tables = Vec::new();
    for &from in sources {
        for &to in targets {
            if !topology.nodes[from.index()]
                .calls
                .iter()
                .any(|call| call.to == to)
            {
                continue;
            }
            let edge = format!("{}->{}", topology.node(from).name, topology.node(to).name);
            let full_loss = parameters
                .iter()
                .any(|(k, v)| *k == "share" && v.as_float() == Some(1.0));
            let table = match what {
                Network::Loss if full_loss => table("partition", &[("edge", edge.into())]),
                Network::Loss => table(
                    "blackhole",
                    &[&[("edge", edge.into())][..], parameters].concat(),
                ),
                Network::Latency => table(
                    "latency",
                    &[&[("edge", edge.into())][..], parameters].concat(),
                ),
            };
            tables.push(table);
        }
    }
    if tables.is_empty() {
        let names = |ids: &[NodeId]| {
            ids.iter()
                .map(|&id| topology.node(id).name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(CtkError::Selector {
            activity: action.name().to_string(),
            selector: select::chaos_mesh_text(&action.arguments["target_label_selectors"])
                .unwrap_or_default(),
            message: format!(
                "no call goes from [{}] to [{}]",
                names(sources),
                names(targets)
            ),
        });
    }
    Ok(tables)
}

/// `latency` (and `jitter`: a uniform spread of that half-width) as the fault's distribution.
fn latency_keys(
    action: &Action<'_>,
    notes: &mut Vec<String>,
) -> Result<Vec<(&'static str, toml::Value)>, CtkError> {
    let read = |key: &str| -> Result<u64, CtkError> {
        match action.string(key)? {
            None => Ok(0),
            Some(text) => parse_duration(text).map_err(|error| CtkError::Shape {
                at: format!("{}.{key}", action.path),
                message: format!("not a duration: {error}"),
            }),
        }
    };
    let latency = read("latency")?;
    let jitter = read("jitter")?;
    let exact = crate::interop::draft::exact_duration;
    let mut dist = toml::Table::new();
    if jitter == 0 {
        dist.insert("dist".into(), "constant".into());
        dist.insert("value".into(), exact(latency).into());
    } else {
        notes.push("approximated: jitter as a uniform spread around the latency".into());
        dist.insert("dist".into(), "uniform".into());
        dist.insert("min".into(), exact(latency.saturating_sub(jitter)).into());
        dist.insert("max".into(), exact(latency + jitter).into());
    }
    Ok(vec![("latency", toml::Value::Table(dist))])
}

/// Chaos Mesh's `mode` picks pods; the simulator's `share` is of calls, so the share of the
/// node's replicas that the mode picks (spread evenly by round-robin).
fn mode_share(
    action: &Action<'_>,
    id: NodeId,
    parameters: &[(&'static str, toml::Value)],
    notes: &mut Vec<String>,
) -> Result<Vec<(&'static str, toml::Value)>, CtkError> {
    let mode = action.string("mode")?.unwrap_or("one");
    let replicas = f64::from(replica_count(action.topology, id).max(1));
    let value = number(action.arguments, "mode_value", &action.path)?;
    let picked = match mode {
        "all" => 1.0,
        "one" => 1.0 / replicas,
        "fixed" => (value.unwrap_or(1.0) / replicas).min(1.0),
        "fixed-percent" => (value.unwrap_or(100.0) / 100.0).min(1.0),
        _ => {
            notes.push(format!(
                "approximated: mode `{mode}` taken as half of its value"
            ));
            (value.unwrap_or(100.0) / 200.0).min(1.0)
        }
    };
    let mut keys: Vec<(&'static str, toml::Value)> = parameters
        .iter()
        .filter(|(k, _)| *k != "share")
        .cloned()
        .collect();
    let base = parameters
        .iter()
        .find(|(k, _)| *k == "share")
        .and_then(|(_, v)| v.as_float())
        .unwrap_or(1.0);
    let share = base * picked;
    if share < 1.0 {
        keys.push(("share", toml::Value::Float(share)));
    }
    Ok(keys)
}

// ---- AWS ----

/// `stop_instances` / `terminate_instances` by `az` and tag `filters`: the tagged nodes crash
/// (in the zone when one is given), or without tags the zone goes down.
fn ec2(action: &Action<'_>, stop: bool) -> Result<Mapped, CtkError> {
    let (key, zone, nodes) = match ec2_key(action)? {
        Ok(read) => read,
        Err(reason) => return Ok(Mapped::Unmapped(reason)),
    };
    let undo = stop.then_some(key);
    let Some(nodes) = nodes else {
        let zone = zone.expect("ec2_key gives a zone or nodes");
        return Ok(faults(
            vec![table("zone-outage", &[("zone", zone.into())])],
            undo,
            Vec::new(),
        ));
    };
    let tables = nodes
        .iter()
        .map(|&id| {
            let mut keys = vec![(
                "node",
                toml::Value::from(action.topology.node(id).name.clone()),
            )];
            if let Some(zone) = &zone {
                keys.push(("zone", zone.clone().into()));
            }
            table("crash", &keys)
        })
        .collect();
    Ok(faults(tables, undo, Vec::new()))
}

type Ec2Target = (String, Option<String>, Option<Vec<NodeId>>);

/// The undo key, zone and tagged nodes of an EC2 action; `Err(reason)` when it names
/// instances the model cannot know.
fn ec2_key(action: &Action<'_>) -> Result<Result<Ec2Target, String>, CtkError> {
    let filters = document::list(action.arguments, "filters", &action.path)?;
    let read = select::ec2_filters(filters);
    if !read.unknown.is_empty() {
        return Ok(Err(format!(
            "EC2 filters on {} cannot be matched against the model",
            read.unknown.join(", ")
        )));
    }
    let az = action.string("az")?.map(str::to_string).or(read.zone);
    let zone = match az {
        Some(az) => Some(known_zone(action, &az, &az)?),
        None => None,
    };
    let nodes = match &read.selector {
        Some(text) => Some(select::nodes(action.topology, text, action.name())?),
        None => None,
    };
    if zone.is_none() && nodes.is_none() {
        return Ok(Err(
            "instances by id only: the model has nodes, not instance ids".into(),
        ));
    }
    let key = format!(
        "ec2:{}|{}",
        zone.as_deref().unwrap_or(""),
        read.selector.as_deref().unwrap_or("")
    );
    Ok(Ok((key, zone, nodes)))
}

/// A node of one of `kinds` named `id` or carrying `id` as a label value (an AWS resource's
/// identifier as a tag).
fn resource(action: &Action<'_>, id: &str, kind: NodeKind) -> Result<NodeId, CtkError> {
    let topology = action.topology;
    let found = topology.nodes.iter().position(|node| {
        node.kind == kind && (node.name == id || node.labels.iter().any(|(_, value)| value == id))
    });
    if let Some(index) = found {
        return Ok(NodeId(index as u32));
    }
    let names: Vec<&str> = topology
        .nodes
        .iter()
        .filter(|n| n.kind == kind)
        .map(|n| n.name.as_str())
        .collect();
    let closest = names
        .iter()
        .min_by_key(|n| strsim::levenshtein(n, id))
        .filter(|n| strsim::levenshtein(n, id) <= 3);
    let mut message = format!(
        "names no {} of the model ({})",
        kind.as_str(),
        names.join(", ")
    );
    if let Some(closest) = closest {
        message.push_str(&format!("; did you mean `{closest}`?"));
    }
    Err(CtkError::Selector {
        activity: action.name().to_string(),
        selector: id.to_string(),
        message,
    })
}

/// `failover_db_cluster` / `reboot_db_instance`: the database's replicas in its primary zone
/// stop (a failover follows after the model's `failover`), or all of them for a plain reboot.
fn database(action: &Action<'_>, key: &str, failover: bool) -> Result<Mapped, CtkError> {
    let Some(id) = action.string(key)? else {
        return Ok(Mapped::Unmapped(format!("no `{key}`")));
    };
    let node = resource(action, id, NodeKind::Database)?;
    let db = action.topology.node(node);
    let mut keys = vec![("node", toml::Value::from(db.name.clone()))];
    if failover {
        let Role::Database { primary, .. } = db.role else {
            unreachable!("a database node has the database role")
        };
        keys.push((
            "zone",
            action.topology.zones[primary.0 as usize].clone().into(),
        ));
    }
    Ok(faults(vec![table("crash", &keys)], None, Vec::new()))
}

/// `reboot_cache_clusters`: each named cache's replicas stop and come back cold.
fn caches(action: &Action<'_>) -> Result<Mapped, CtkError> {
    let ids = document::list(action.arguments, "cluster_ids", &action.path)?;
    let mut tables = Vec::new();
    for id in ids {
        let Some(id) = id.as_str() else {
            return Err(document::shape(
                &format!("{}.cluster_ids", action.path),
                "a list of strings",
                id,
            ));
        };
        let node = resource(action, id, NodeKind::Cache)?;
        tables.push(table(
            "crash",
            &[("node", action.topology.node(node).name.clone().into())],
        ));
    }
    if tables.is_empty() {
        return Ok(Mapped::Unmapped("no `cluster_ids`".into()));
    }
    Ok(faults(
        tables,
        None,
        vec!["a rebooted cache comes back cold".into()],
    ))
}
