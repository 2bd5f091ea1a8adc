//! Kubernetes label selectors and AWS tag filters of an experiment, resolved against the
//! model's node labels (`model::Selector`). A selector that matches nothing is an error that
//! names it, lists the labels the model has and suggests the closest one, never an empty
//! fault.

use serde_json::Value;

use crate::model::{NodeId, Selector, Topology};

use super::CtkError;

/// The nodes `text` selects. When no node's labels match and the selector is one equality
/// whose value is a node's name (`app=api` on a model without labels), that node: Chaos
/// Toolkit users name workloads that way, and the message would only tell them to add the
/// obvious label.
pub fn nodes(topology: &Topology, text: &str, activity: &str) -> Result<Vec<NodeId>, CtkError> {
    let selector = Selector::parse(text).map_err(|error| CtkError::Selector {
        activity: activity.to_string(),
        selector: text.to_string(),
        message: format!("not a label selector: {error}"),
    })?;
    let matched = topology.nodes_matching(&selector);
    if !matched.is_empty() {
        return Ok(matched);
    }
    if let Some(id) = by_name(topology, text) {
        return Ok(vec![id]);
    }
    Err(CtkError::Selector {
        activity: activity.to_string(),
        selector: text.to_string(),
        message: nothing_matched(topology, text),
    })
}

/// `key=value` (or `key==value`) whose value names a node.
fn by_name(topology: &Topology, text: &str) -> Option<NodeId> {
    let (_, value) = text.split_once('=')?;
    let value = value.trim_start_matches('=').trim();
    if text.contains(',') || text.contains("!=") {
        return None;
    }
    topology.node_id(value)
}

/// The message for a selector that matched no node: the labels there are, and the closest.
fn nothing_matched(topology: &Topology, text: &str) -> String {
    let labels = model_labels(topology);
    if labels.is_empty() {
        return "matches no node: the model's nodes have no labels (add e.g. \
                `labels = { app = \"api\" }` to a node)"
            .to_string();
    }
    let mut message = format!("matches no node; the model's labels: {}", labels.join(", "));
    if let Some(closest) = closest(text, &labels) {
        message.push_str(&format!("; did you mean `{closest}`?"));
    }
    message
}

/// Every `key=value` on the model's nodes, sorted, each once.
pub fn model_labels(topology: &Topology) -> Vec<String> {
    let mut labels: Vec<String> = topology
        .nodes
        .iter()
        .flat_map(|node| node.labels.iter().map(|(k, v)| format!("{k}={v}")))
        .collect();
    labels.sort();
    labels.dedup();
    labels
}

/// The label closest to the selector's text, when it is close enough to be a typo.
fn closest<'a>(text: &str, labels: &'a [String]) -> Option<&'a str> {
    let text = text.replace("==", "=").replace(' ', "");
    labels
        .iter()
        .map(|label| (strsim::levenshtein(&text, label), label))
        .filter(|(distance, label)| *distance <= (label.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, label)| label.as_str())
}

/// Chaos Mesh takes `label_selectors` as `"k=v,k2=v2"` or as a mapping; both as selector text.
pub fn chaos_mesh_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Object(map) => Some(
            map.iter()
                .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

/// An EC2 `filters` list as selector text: `{"Name": "tag:app", "Values": ["api"]}` is
/// `app in (api)`; the zone filter `availability-zone` is returned apart. Filters on other
/// instance attributes cannot be matched against a model and are returned by name.
pub struct Ec2Filters {
    pub selector: Option<String>,
    pub zone: Option<String>,
    pub unknown: Vec<String>,
}

pub fn ec2_filters(filters: &[Value]) -> Ec2Filters {
    let mut requirements = Vec::new();
    let mut zone = None;
    let mut unknown = Vec::new();
    for filter in filters {
        let name = filter.get("Name").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = filter
            .get("Values")
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(key) = name.strip_prefix("tag:") {
            requirements.push(format!("{key} in ({})", values.join(",")));
        } else if name == "availability-zone" && values.len() == 1 {
            zone = Some(values[0].to_string());
        } else if name != "instance-state-name" {
            unknown.push(name.to_string());
        }
    }
    let selector = (!requirements.is_empty()).then(|| requirements.join(","));
    Ec2Filters {
        selector,
        zone,
        unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_label_is_suggested_for_a_typo_only() {
        let labels = vec![
            "app=api".to_string(),
            "app=sessions".to_string(),
            "tier=web".to_string(),
        ];
        assert_eq!(closest("app=apii", &labels), Some("app=api"));
        assert_eq!(closest("tier == web", &labels), Some("tier=web"));
        assert_eq!(closest("zone=far-away", &labels), None);
    }

    #[test]
    fn ec2_tag_filters_become_a_selector_and_the_zone_filter_a_zone() {
        let filters: Vec<Value> = serde_json::from_str(
            r#"[{"Name": "tag:app", "Values": ["api", "web"]},
                {"Name": "availability-zone", "Values": ["az-a"]},
                {"Name": "instance-type", "Values": ["m5.large"]}]"#,
        )
        .unwrap();
        let read = ec2_filters(&filters);
        assert_eq!(read.selector.as_deref(), Some("app in (api,web)"));
        assert_eq!(read.zone.as_deref(), Some("az-a"));
        assert_eq!(read.unknown, ["instance-type"]);
    }
}
