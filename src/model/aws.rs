//! What node labels cannot say about a model's AWS resources: the top-level `[aws]` table
//! (`region`, and `zones`, the AWS Availability Zone names or IDs each model zone stands for)
//! and a node's `aws = { type = "aws:ec2:instance", arns = [...], service = "dynamodb" }`.
//!
//! Read here into `AwsMapping`, which the FIS importer and exporter (`interop::fis`) use to
//! match templates' resource types, ARNs and AZ filters to nodes and zones. The simulator never
//! reads it. A model without these keys gets an empty mapping: zones answer to their own
//! names and nodes take the resource type of their kind.

use toml::de::DeValue;

use super::codes::Code;
use super::reader::{Fields, Sink, Value};
use super::topology::{NodeId, NodeKind, ZoneId};

/// The keys of a node's `aws` table.
pub(crate) const NODE_AWS_KEYS: &[&str] = &["type", "arns", "service"];
const TOP_AWS_KEYS: &[&str] = &["region", "zones"];

/// The model's AWS identities. Invariant: `zones` has one entry per model zone and `nodes` one
/// per node, both indexed by dense id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AwsMapping {
    /// `[aws] region`, used by `export fis` in the ARNs it writes.
    pub region: Option<String>,
    /// Per zone: the AWS names it answers to (AZ names like `us-east-1a`, AZ IDs like
    /// `use1-az1`) besides its own name. Invariant: no name is given to two zones.
    pub zones: Vec<Vec<String>>,
    /// Per node: its `aws` table, or the empty default.
    pub nodes: Vec<NodeAws>,
}

/// One node's `aws` table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeAws {
    /// A FIS resource type (`aws:ec2:instance`, `aws:rds:cluster`, ...); `None` takes the
    /// kind's default (`default_resource_type`).
    pub resource_type: Option<String>,
    /// ARNs of the node's resources (instances, the cluster, the IAM role its code runs as).
    pub arns: Vec<String>,
    /// For an external that is an AWS API: the API's namespace (`ec2`, `dynamodb`), the
    /// `service` parameter of FIS's `aws:fis:inject-api-*` actions.
    pub service: Option<String>,
}

impl AwsMapping {
    /// The zone an AWS AZ name or ID (or the model's own zone name) stands for.
    pub fn zone(&self, zones: &[String], name: &str) -> Option<ZoneId> {
        let own = zones.iter().position(|z| z == name);
        let alias = || {
            self.zones
                .iter()
                .position(|names| names.iter().any(|n| n == name))
        };
        own.or_else(alias).map(|i| ZoneId(i as u16))
    }

    /// The AWS name of a zone: its first mapped name, else the model's own.
    pub fn az_name<'a>(&'a self, zones: &'a [String], zone: ZoneId) -> &'a str {
        self.zones
            .get(zone.index())
            .and_then(|names| names.first())
            .map_or(zones[zone.index()].as_str(), String::as_str)
    }

    /// A node's table (the empty default for a node without one).
    pub fn node(&self, id: NodeId) -> &NodeAws {
        static EMPTY: NodeAws = NodeAws {
            resource_type: None,
            arns: Vec::new(),
            service: None,
        };
        self.nodes.get(id.index()).unwrap_or(&EMPTY)
    }

    /// The node's resource type: its own, or its kind's default.
    pub fn resource_type(&self, id: NodeId, kind: NodeKind) -> &str {
        self.node(id)
            .resource_type
            .as_deref()
            .unwrap_or_else(|| default_resource_type(kind))
    }
}

/// The FIS resource type a node of this kind is taken to be when its `aws` table does not
/// say: services run on EC2 instances, caches are ElastiCache replication groups, databases
/// Aurora/RDS clusters, queues SQS queues; externals are not AWS resources.
pub fn default_resource_type(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Service => "aws:ec2:instance",
        NodeKind::Cache => "aws:elasticache:replicationgroup",
        NodeKind::Database => "aws:rds:cluster",
        NodeKind::Queue => "aws:sqs:queue",
        NodeKind::External => "none",
    }
}

/// Reads a node's `aws` table.
pub(crate) fn read_node_aws(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<NodeAws> {
    let fields = Fields::of(
        sink,
        value,
        "`aws`",
        "a table `{ type = ..., arns = [...] }`",
        NODE_AWS_KEYS,
    )?;
    let mut ok = true;
    let resource_type = match fields.get("type") {
        Some(v) => read_resource_type(sink, v),
        None => Some(None),
    };
    let arns = match fields.get("arns") {
        Some(v) => read_arns(sink, v),
        None => Some(Vec::new()),
    };
    let service = match fields.get("service") {
        Some(v) => sink.string("service", v).map(|s| Some(s.to_string())),
        None => Some(None),
    };
    ok &= fields.finish(sink);
    let node = NodeAws {
        resource_type: resource_type?,
        arns: arns?,
        service: service?,
    };
    ok.then_some(node)
}

/// `aws:SERVICE:TYPE`, as FIS names resource types.
fn read_resource_type(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<Option<String>> {
    let text = sink.string("type", value)?;
    let parts: Vec<&str> = text.split(':').collect();
    let valid = parts.len() == 3 && parts[0] == "aws" && parts[1..].iter().all(|p| is_word(p));
    if !valid {
        sink.out_of_range(
            "type",
            value,
            &format!("\"{text}\""),
            "a FIS resource type like \"aws:ec2:instance\"",
        );
        return None;
    }
    Some(Some(text.to_string()))
}

fn is_word(part: &str) -> bool {
    !part.is_empty()
        && part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn read_arns(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<Vec<String>> {
    let items = sink.array("arns", value)?;
    let mut arns = Vec::new();
    let mut ok = true;
    for item in items {
        match sink.string("arns", item) {
            Some(arn) if arn.starts_with("arn:") && arn.split(':').count() >= 6 => {
                arns.push(arn.to_string())
            }
            Some(arn) => {
                sink.out_of_range(
                    "arns",
                    item,
                    &format!("\"{arn}\""),
                    "an ARN like \"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc\"",
                );
                ok = false;
            }
            None => ok = false,
        }
    }
    ok.then_some(arns)
}

/// Reads the top-level `[aws]` table against the model's zones (`None` when they are broken,
/// so zone names go unchecked). Returns the region and the names per zone.
pub(crate) fn read_model_aws(
    sink: &mut Sink<'_>,
    value: Option<&Value<'_>>,
    zones: Option<&[String]>,
) -> Option<(Option<String>, Vec<Vec<String>>)> {
    let empty = vec![Vec::new(); zones.map_or(0, <[String]>::len)];
    let Some(value) = value else {
        return Some((None, empty));
    };
    let fields = Fields::of(sink, value, "`[aws]`", "a table `[aws]`", TOP_AWS_KEYS)?;
    let region = match fields.get("region") {
        Some(v) => sink.string("region", v).map(|s| Some(s.to_string())),
        None => Some(None),
    };
    let names = match (fields.get("zones"), zones) {
        (Some(v), Some(zones)) => read_zone_names(sink, v, zones),
        _ => Some(empty),
    };
    let clean = fields.finish(sink);
    let result = (region?, names?);
    clean.then_some(result)
}

/// `zones = { az-a = "us-east-1a", az-b = ["us-east-1b", "use1-az2"] }`.
fn read_zone_names(
    sink: &mut Sink<'_>,
    value: &Value<'_>,
    zones: &[String],
) -> Option<Vec<Vec<String>>> {
    let DeValue::Table(table) = value.get_ref() else {
        sink.wrong_type("zones", value, "a table of zone = \"AZ name\"");
        return None;
    };
    let mut names = vec![Vec::new(); zones.len()];
    let mut seen: Vec<String> = zones.to_vec();
    let mut ok = true;
    for (key, item) in table.iter() {
        let zone = key.get_ref().as_ref();
        let Some(index) = zones.iter().position(|z| z == zone) else {
            let help = super::reader::help_for_name(
                zone,
                &zones.iter().map(String::as_str).collect::<Vec<_>>(),
                "the zones are",
                "",
            );
            sink.error(
                Code::UndeclaredZone,
                key.span(),
                format!("`[aws] zones` maps undeclared zone `{zone}`"),
            )
            .label("not in the model's `zones`")
            .help(help);
            ok = false;
            continue;
        };
        for (name, span) in zone_aliases(sink, item)? {
            if seen.contains(&name) {
                sink.error(
                    Code::DuplicateName,
                    span,
                    format!("AWS zone name `{name}` is given twice"),
                )
                .label("each AZ name or ID stands for one zone");
                ok = false;
            } else {
                seen.push(name.clone());
                names[index].push(name);
            }
        }
    }
    ok.then_some(names)
}

/// A string or an array of strings, each with its span.
fn zone_aliases(
    sink: &mut Sink<'_>,
    item: &Value<'_>,
) -> Option<Vec<(String, std::ops::Range<usize>)>> {
    match item.get_ref() {
        DeValue::String(s) => Some(vec![(s.to_string(), item.span())]),
        DeValue::Array(items) => items
            .iter()
            .map(|i| sink.string("zones", i).map(|s| (s.to_string(), i.span())))
            .collect(),
        _ => {
            sink.wrong_type("zones", item, "an AZ name or a list of AZ names and IDs");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::parse_model;

    const MODEL: &str = r#"
name = "m"
zones = ["az-a", "az-b"]
[aws]
region = "eu-west-1"
zones = { az-a = ["eu-west-1a", "euw1-az1"], az-b = "eu-west-1b" }
[workload.w]
target = "api"
rate = 10
[service.api]
zones = ["az-a", "az-b"]
aws = { type = "aws:eks:pod", arns = ["arn:aws:iam::111122223333:role/api"] }
service_time = { dist = "constant", value = "1ms" }
calls = [{ to = "ddb", timeout = "100ms" }]
[external.ddb]
aws = { service = "dynamodb" }
latency = { dist = "constant", value = "1ms" }
"#;

    #[test]
    fn zones_answer_to_their_aws_names_and_nodes_keep_their_tables() {
        let topology = parse_model(Path::new("m.toml"), MODEL).unwrap_or_else(|d| panic!("{d}"));
        let aws = &topology.aws;
        assert_eq!(aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(aws.zone(&topology.zones, "euw1-az1"), Some(ZoneId(0)));
        assert_eq!(aws.zone(&topology.zones, "az-b"), Some(ZoneId(1)));
        assert_eq!(aws.zone(&topology.zones, "eu-west-1c"), None);
        assert_eq!(aws.az_name(&topology.zones, ZoneId(1)), "eu-west-1b");
        assert_eq!(
            aws.resource_type(NodeId(0), NodeKind::Service),
            "aws:eks:pod"
        );
        assert_eq!(aws.node(NodeId(1)).service.as_deref(), Some("dynamodb"));
        let plain = parse_model(
            Path::new("m.toml"),
            &MODEL.replace("aws = { service = \"dynamodb\" }\n", ""),
        )
        .unwrap();
        assert_eq!(plain.aws.node(NodeId(1)), &NodeAws::default());
    }

    #[test]
    fn malformed_aws_tables_are_located_errors() {
        for (from, to, message) in [
            (
                "type = \"aws:eks:pod\"",
                "type = \"eks pod\"",
                "a FIS resource type",
            ),
            (
                "\"arn:aws:iam::111122223333:role/api\"",
                "\"role/api\"",
                "an ARN",
            ),
            (
                "az-b = \"eu-west-1b\"",
                "az-x = \"eu-west-1b\"",
                "undeclared zone `az-x`",
            ),
            (
                "az-b = \"eu-west-1b\"",
                "az-b = \"euw1-az1\"",
                "given twice",
            ),
            (
                "region = \"eu-west-1\"",
                "regoin = \"eu-west-1\"",
                "unknown key `regoin`",
            ),
            ("aws = { service", "aws = { servce", "unknown key `servce`"),
        ] {
            let text = MODEL.replace(from, to);
            let diagnostics = parse_model(Path::new("m.toml"), &text).expect_err(to);
            let rendered = diagnostics.render(false);
            assert!(
                rendered.contains(message) && rendered.contains("m.toml:"),
                "{to}: {rendered}"
            );
        }
    }
}
