//! A FIS target resolved on a model: which nodes (and in which zones) its resource type,
//! tags (the nodes' labels), ARNs, filters and parameters select, and how many of their
//! replicas its `selectionMode` takes. A target that selects nothing is an error that names
//! what it asked for and what the model has, with a "did you mean".

use crate::model::{NodeId, NodeKind, Selection, Selector, Topology, ZoneId};

use super::template::Target;

/// Filter paths and target parameters that name Availability Zones.
const ZONE_FILTERS: &[&str] = &[
    "Placement.AvailabilityZone",
    "AvailabilityZone",
    "Placement.AvailabilityZoneId",
    "AvailabilityZoneId",
];
const ZONE_PARAMETERS: &[&str] = &["availabilityZoneIdentifier", "availabilityZoneIdentifiers"];
/// Target parameters that identify the resources by other means FIS resolves in the account
/// (an EKS cluster, a namespace): they narrow nothing in a model.
const CONTEXT_PARAMETERS: &[&str] = &[
    "clusterIdentifier",
    "namespace",
    "cluster",
    "targetContainerName",
];

/// A node the target selects, in one zone or all of its zones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub node: NodeId,
    pub zone: Option<ZoneId>,
}

/// A resolved target. Invariant: `hits` and `zones` are not both empty.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub hits: Vec<Hit>,
    /// The zones named by the target's AZ filters and parameters (all zones of the hits when
    /// it names none); for a subnet target, the zones whose subnets it selects.
    pub zones: Vec<ZoneId>,
    pub selection: Selection,
    /// Filters and parameters the model cannot answer, by name (`State.Name`-like filters
    /// that keep every running replica are answered; others are listed here).
    pub ignored: Vec<String>,
}

/// Why a target could not be resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetError {
    /// Something in the target is not valid FIS (a selection mode, an AZ): the message, and
    /// the JSON text to point at.
    Invalid { message: String, anchor: String },
    /// Nothing on the model matches: what was asked for and what the model has.
    Empty { message: String, help: Vec<String> },
}

/// Resolves `target` (named `name` in the template) on `topology`.
pub fn resolve(topology: &Topology, name: &str, target: &Target) -> Result<Resolved, TargetError> {
    let selection = selection_mode(&target.selection_mode)?;
    let zones = named_zones(topology, name, target)?;
    let mut ignored = Vec::new();
    let mut running = true;
    for filter in &target.filters {
        if ZONE_FILTERS.contains(&filter.path.as_str()) {
            continue;
        }
        if filter.path == "State.Name" {
            running = filter.values.iter().any(|v| v == "running");
            continue;
        }
        ignored.push(format!("filter `{}`", filter.path));
    }
    for key in target.parameters.keys() {
        let known = ZONE_PARAMETERS.contains(&key.as_str())
            || CONTEXT_PARAMETERS.contains(&key.as_str())
            || matches!(
                key.as_str(),
                "writerAvailabilityZoneIdentifiers" | "selectorType" | "selectorValue"
            );
        if !known {
            ignored.push(format!("parameter `{key}`"));
        }
    }
    if target.resource_type == "aws:ec2:subnet" {
        // A model has no subnets: a zone's subnets are the zone, whatever their tags.
        ignored.retain(|_| false);
        let zones = zones.unwrap_or_else(|| {
            (0..topology.zones.len())
                .map(|i| ZoneId(i as u16))
                .collect()
        });
        return Ok(Resolved {
            hits: Vec::new(),
            zones,
            selection,
            ignored,
        });
    }
    let nodes = matching_nodes(topology, target)?;
    let hits = place(topology, &nodes, target, zones.as_deref());
    if hits.is_empty() || !running {
        return Err(empty(topology, name, target, running));
    }
    let zones = zones.unwrap_or_else(|| zones_of(topology, &hits));
    Ok(Resolved {
        hits,
        zones,
        selection,
        ignored,
    })
}

/// `ALL`, `COUNT(n)`, `PERCENT(p)`.
fn selection_mode(mode: &str) -> Result<Selection, TargetError> {
    let invalid = |why: &str| TargetError::Invalid {
        message: format!("selectionMode `{mode}`: {why}; expected ALL, COUNT(n) or PERCENT(n)"),
        anchor: mode.to_string(),
    };
    if mode == "ALL" {
        return Ok(Selection::All);
    }
    let inner = |prefix: &str| mode.strip_prefix(prefix).and_then(|m| m.strip_suffix(')'));
    if let Some(n) = inner("COUNT(") {
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| invalid("not a whole number"))?;
        return if n == 0 {
            Err(invalid("a count selects at least one"))
        } else {
            Ok(Selection::Count(n))
        };
    }
    if let Some(p) = inner("PERCENT(") {
        let p: f64 = p.trim().parse().map_err(|_| invalid("not a number"))?;
        return if p > 0.0 && p <= 100.0 {
            Ok(Selection::Percent(p))
        } else {
            Err(invalid("out of (0, 100]"))
        };
    }
    Err(invalid("unknown mode"))
}

/// The zones the target's AZ filters and parameters name; `None` when it names none.
fn named_zones(
    topology: &Topology,
    name: &str,
    target: &Target,
) -> Result<Option<Vec<ZoneId>>, TargetError> {
    let mut names: Vec<&str> = Vec::new();
    for filter in target
        .filters
        .iter()
        .filter(|f| ZONE_FILTERS.contains(&f.path.as_str()))
    {
        names.extend(filter.values.iter().map(String::as_str));
    }
    for (key, value) in &target.parameters {
        if ZONE_PARAMETERS.contains(&key.as_str()) {
            names.extend(value.split(',').map(str::trim).filter(|v| !v.is_empty()));
        }
    }
    if names.is_empty() {
        return Ok(None);
    }
    let mut zones = Vec::new();
    for az in names {
        let zone = zone_named(topology, az).ok_or_else(|| unknown_zone(topology, name, az))?;
        if !zones.contains(&zone) {
            zones.push(zone);
        }
    }
    Ok(Some(zones))
}

/// The zone an AZ name, AZ ID or model zone name stands for.
pub fn zone_named(topology: &Topology, az: &str) -> Option<ZoneId> {
    topology.aws.zone(&topology.zones, az)
}

/// An AZ the model does not know, with the names it does.
pub fn unknown_zone(topology: &Topology, target: &str, az: &str) -> TargetError {
    let known = zone_names(topology);
    let mut help = vec![format!("the model's zones answer to {}", quoted(&known))];
    if let Some(close) = suggest(az, known.iter().map(String::as_str)) {
        help.insert(0, format!("did you mean `{close}`?"));
    }
    help.push(
        "map a zone to its AZ name in the model: `[aws] zones = { az-a = \"us-east-1a\" }`".into(),
    );
    TargetError::Empty {
        message: format!(
            "target `{target}` names Availability Zone `{az}`, which no zone of the model stands for"
        ),
        help,
    }
}

/// Every name the model's zones answer to: their own and their AWS names.
fn zone_names(topology: &Topology) -> Vec<String> {
    let mut names = topology.zones.clone();
    names.extend(topology.aws.zones.iter().flatten().cloned());
    names
}

/// Nodes of the target's resource type whose labels carry its tags, whose ARNs include its
/// ARNs, and (for EKS pods) that match its label selector or deployment name.
fn matching_nodes(topology: &Topology, target: &Target) -> Result<Vec<NodeId>, TargetError> {
    let selector = pod_selector(target)?;
    let nodes = (0..topology.nodes.len())
        .map(|i| NodeId(i as u32))
        .filter(|&id| of_type(topology, id, &target.resource_type))
        .filter(|&id| has_tags(topology, id, target))
        .filter(|&id| has_arns(topology, id, target))
        .filter(|&id| selector.as_ref().is_none_or(|s| s.matches(topology, id)))
        .collect();
    Ok(nodes)
}

/// Whether node `id` can be a resource of `resource_type`: its own (or its kind's default)
/// type, or a resource that comes with it — an EC2 instance's EBS volumes, its Auto Scaling
/// group and IAM role, the instances ECS tasks and EKS pods run on, an RDS cluster's DB
/// instances.
pub fn of_type(topology: &Topology, id: NodeId, resource_type: &str) -> bool {
    let node = topology.node(id);
    let own = topology.aws.resource_type(id, node.kind);
    if own == resource_type {
        return true;
    }
    let related: &[&str] = match own {
        "aws:ec2:instance" => &[
            "aws:ec2:ebs-volume",
            "aws:ec2:autoscaling-group",
            "aws:iam:role",
        ],
        // Tasks and pods on EC2 run on instances (container instances, worker nodes) that
        // carry the same tags, in Auto Scaling groups (node groups, capacity providers).
        "aws:ecs:task" | "aws:eks:pod" => &[
            "aws:iam:role",
            "aws:ec2:instance",
            "aws:ec2:autoscaling-group",
        ],
        "aws:rds:cluster" => &["aws:rds:db"],
        "aws:rds:db" => &["aws:rds:cluster"],
        "aws:elasticache:replicationgroup" => &[
            "aws:elasticache:redis-replicationgroup",
            "aws:elasticache:cluster",
        ],
        _ => &[],
    };
    let shifted = resource_type == "aws:arc:zonal-shift-managed-resource"
        && matches!(node.kind, NodeKind::Service | NodeKind::Cache);
    related.contains(&resource_type) || shifted
}

/// Every tag is one of the node's labels. A `Name` tag (EC2's display name) the node has no
/// label for matches the node's own name, which is how `export fis` names unlabelled nodes.
fn has_tags(topology: &Topology, id: NodeId, target: &Target) -> bool {
    let node = topology.node(id);
    target
        .resource_tags
        .iter()
        .all(|(k, v)| match node.labels.get(k) {
            Some(label) => label == v,
            None => k == "Name" && node.name == *v,
        })
}

/// An ARN matches a node when the node lists it, or when the ARN's resource name (after the
/// last `:` or `/`) is the node's name — a cluster's or a role's ARN names it that way.
fn has_arns(topology: &Topology, id: NodeId, target: &Target) -> bool {
    if target.resource_arns.is_empty() {
        return true;
    }
    let node = topology.node(id);
    let listed = &topology.aws.node(id).arns;
    target.resource_arns.iter().any(|arn| {
        listed.contains(arn) || arn.rsplit([':', '/']).next() == Some(node.name.as_str())
    })
}

/// An EKS pod target's Kubernetes selector: `labelSelector` (the nodes' labels), or
/// `deploymentName` / `podName` (the node's name, or its `app` label).
enum PodSelector {
    Labels(Selector),
    Name(String),
}

impl PodSelector {
    fn matches(&self, topology: &Topology, id: NodeId) -> bool {
        let node = topology.node(id);
        match self {
            PodSelector::Labels(selector) => selector.matches(&node.labels),
            PodSelector::Name(name) => {
                node.name == *name || node.labels.get("app") == Some(name.as_str())
            }
        }
    }
}

fn pod_selector(target: &Target) -> Result<Option<PodSelector>, TargetError> {
    let (Some(kind), Some(value)) = (
        target.parameters.get("selectorType"),
        target.parameters.get("selectorValue"),
    ) else {
        return Ok(None);
    };
    match kind.as_str() {
        "labelSelector" => Selector::parse(value)
            .map(|s| Some(PodSelector::Labels(s)))
            .map_err(|e| TargetError::Invalid {
                message: format!("selectorValue `{value}` is not a label selector: {e}"),
                anchor: value.clone(),
            }),
        "deploymentName" | "podName" | "daemonSetName" | "statefulSetName" => {
            Ok(Some(PodSelector::Name(value.clone())))
        }
        other => Err(TargetError::Invalid {
            message: format!("selectorType `{other}` is not one FIS knows"),
            anchor: other.to_string(),
        }),
    }
}

/// The hits of `nodes`: in each named zone they are placed in, or everywhere. A database
/// targeted by its writer's zone (`writerAvailabilityZoneIdentifiers`) is hit whole when its
/// primary is in one of those zones.
fn place(
    topology: &Topology,
    nodes: &[NodeId],
    target: &Target,
    zones: Option<&[ZoneId]>,
) -> Vec<Hit> {
    let writer: Option<Vec<ZoneId>> = target
        .parameters
        .get("writerAvailabilityZoneIdentifiers")
        .map(|v| {
            v.split(',')
                .filter_map(|az| zone_named(topology, az.trim()))
                .collect()
        });
    let mut hits = Vec::new();
    for &node in nodes {
        if let Some(writer) = &writer {
            if primary(topology, node).is_some_and(|p| writer.contains(&p)) {
                hits.push(Hit { node, zone: None });
            }
            continue;
        }
        match zones {
            None => hits.push(Hit { node, zone: None }),
            Some(zones) => hits.extend(
                zones
                    .iter()
                    .filter(|z| topology.node(node).zones.contains(z))
                    .map(|&zone| Hit {
                        node,
                        zone: Some(zone),
                    }),
            ),
        }
    }
    hits
}

/// A database's primary zone.
pub fn primary(topology: &Topology, node: NodeId) -> Option<ZoneId> {
    match topology.node(node).role {
        crate::model::Role::Database { primary, .. } => Some(primary),
        _ => None,
    }
}

fn zones_of(topology: &Topology, hits: &[Hit]) -> Vec<ZoneId> {
    let mut zones = Vec::new();
    for hit in hits {
        let of_hit = hit
            .zone
            .map_or_else(|| topology.node(hit.node).zones.clone(), |z| vec![z]);
        for zone in of_hit {
            if !zones.contains(&zone) {
                zones.push(zone);
            }
        }
    }
    zones.sort();
    zones
}

/// The error for a target that selects nothing: its type, tags, ARNs and filters, and the
/// model's labels and zones, with the closest label key or value to each tag.
fn empty(topology: &Topology, name: &str, target: &Target, running: bool) -> TargetError {
    let mut asked = vec![format!("resourceType `{}`", target.resource_type)];
    asked.extend(
        target
            .resource_tags
            .iter()
            .map(|(k, v)| format!("tag `{k}={v}`")),
    );
    asked.extend(target.resource_arns.iter().map(|a| format!("ARN `{a}`")));
    asked.extend(
        target
            .filters
            .iter()
            .map(|f| format!("filter `{}` in [{}]", f.path, f.values.join(", "))),
    );
    asked.extend(
        target
            .parameters
            .iter()
            .map(|(k, v)| format!("parameter `{k}={v}`")),
    );
    let mut help = Vec::new();
    if !running {
        help.push("the model's replicas are all `running` when a scenario starts".to_string());
    }
    help.extend(tag_suggestions(topology, target));
    let typed: Vec<&str> = (0..topology.nodes.len())
        .map(|i| NodeId(i as u32))
        .filter(|&id| of_type(topology, id, &target.resource_type))
        .map(|id| topology.node(id).name.as_str())
        .collect();
    help.push(match typed.is_empty() {
        true => format!(
            "no node is of type `{}` (set `aws = {{ type = \"{}\" }}` on the node)",
            target.resource_type, target.resource_type
        ),
        false => format!("nodes of that type: {}", quoted(&typed)),
    });
    help.push(format!("the model's labels: {}", label_list(topology)));
    help.push(format!(
        "the model's zones: {}",
        quoted(&zone_names(topology))
    ));
    TargetError::Empty {
        message: format!(
            "target `{name}` selects nothing on model `{}`: {}",
            topology.name,
            asked.join(", ")
        ),
        help,
    }
}

/// "did you mean" for each tag whose key or value the model's labels do not have.
fn tag_suggestions(topology: &Topology, target: &Target) -> Vec<String> {
    let mut keys: Vec<&str> = Vec::new();
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for node in &topology.nodes {
        for (k, v) in node.labels.iter() {
            if !keys.contains(&k) {
                keys.push(k);
            }
            pairs.push((k, v));
        }
    }
    let mut out = Vec::new();
    for (key, value) in &target.resource_tags {
        if !keys.contains(&key.as_str()) {
            if let Some(close) = suggest(key, keys.iter().copied()) {
                out.push(format!("tag key `{key}`: did you mean `{close}`?"));
            }
            continue;
        }
        let values: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .collect();
        if !values.contains(&value.as_str())
            && let Some(close) = suggest(value, values.iter().copied())
        {
            out.push(format!(
                "tag `{key}={value}`: did you mean `{key}={close}`?"
            ));
        }
    }
    out
}

/// Each node's labels, `node {k=v, ...}`, or "none".
fn label_list(topology: &Topology) -> String {
    let listed: Vec<String> = topology
        .nodes
        .iter()
        .filter(|n| !n.labels.is_empty())
        .map(|n| {
            let pairs: Vec<String> = n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{} {{{}}}", n.name, pairs.join(", "))
        })
        .collect();
    if listed.is_empty() {
        "none (add `labels = { app = \"...\" }` to nodes)".to_string()
    } else {
        listed.join("; ")
    }
}

/// The candidate closest to `name` by normalised Levenshtein similarity (at least 0.6,
/// case-insensitive; the first of equals), never `name` itself.
pub fn suggest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let score = strsim::normalized_levenshtein(&name.to_lowercase(), &candidate.to_lowercase());
        if score >= 0.6 && candidate != name && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

pub fn quoted<S: AsRef<str>>(names: &[S]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    names.join(", ")
}
