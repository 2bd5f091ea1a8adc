//! The steady-state hypothesis's probes to scenario hypotheses. An HTTP probe with a status
//! tolerance is the availability of the workload that serves its URL (by `--routes`, by the
//! host naming a workload, or by the host naming the workload's target node or its `app`
//! label); a Prometheus query for a latency quantile or an error ratio is that metric of the
//! workload whose target its label matchers select, bounded by the tolerance's range.
//! Chaos Toolkit checks the hypothesis before and after the method; the simulation judges it
//! in all three windows.

use serde_json::Value;

use crate::model::{Topology, WorkloadId};

use super::CtkError;
use super::document;
use super::select;

/// The floor given to an HTTP probe's availability: a probe is one request, so the share of
/// requests that must succeed is not in the experiment (the exported experiment carries it).
pub const DEFAULT_AVAILABILITY_FLOOR: f64 = 0.99;

/// One probe's hypothesis keys, or why it has none.
pub enum Probe {
    Hypothesis {
        keys: toml::Table,
        notes: Vec<String>,
    },
    Unmapped(String),
}

/// What the importer knows to find workloads by URL.
pub struct Routes<'a> {
    pub topology: &'a Topology,
    /// `(URL prefix or host, workload)`, as given with `--routes`.
    pub routes: &'a [(String, String)],
}

/// Maps one probe of the steady-state hypothesis.
pub fn map(routes: &Routes<'_>, probe: &Value, path: &str) -> Result<Probe, CtkError> {
    let provider = probe.get("provider").unwrap_or(&Value::Null);
    let provider_path = format!("{path}.provider");
    let tolerance = probe.get("tolerance").unwrap_or(&Value::Null);
    match document::string(provider, "type", &provider_path)? {
        Some("http") => {
            let url = match provider.get("url") {
                Some(Value::String(url)) => url.as_str(),
                _ => return Ok(Probe::Unmapped("an HTTP probe without a `url`".into())),
            };
            http(routes, url, tolerance)
        }
        Some("python") => {
            let module = document::string(provider, "module", &provider_path)?.unwrap_or("");
            let func = document::string(provider, "func", &provider_path)?.unwrap_or("");
            if module != "chaosprometheus.probes" || func != "query" {
                return Ok(Probe::Unmapped(format!(
                    "`{module}.{func}`: a probe of unknown meaning"
                )));
            }
            let arguments = provider.get("arguments").unwrap_or(&Value::Null);
            let query =
                document::string(arguments, "query", &format!("{provider_path}.arguments"))?;
            prometheus(routes, query.unwrap_or(""), tolerance, path)
        }
        _ => Ok(Probe::Unmapped("a probe of unknown meaning".into())),
    }
}

fn hypothesis(workload: &str, metric: &str, bound: (&str, toml::Value)) -> toml::Table {
    let mut keys = toml::Table::new();
    keys.insert("workload".into(), workload.into());
    keys.insert("metric".into(), metric.into());
    keys.insert(bound.0.into(), bound.1);
    let windows = ["before", "during", "after"].map(toml::Value::from);
    keys.insert("window".into(), toml::Value::Array(windows.to_vec()));
    keys
}

// ---- HTTP ----

fn http(routes: &Routes<'_>, url: &str, tolerance: &Value) -> Result<Probe, CtkError> {
    if !is_status_tolerance(tolerance) {
        return Ok(Probe::Unmapped(
            "an HTTP probe whose tolerance is not a status".into(),
        ));
    }
    let Some(workload) = workload_of_url(routes, url) else {
        let names: Vec<&str> = routes
            .topology
            .workloads
            .iter()
            .map(|w| w.name.as_str())
            .collect();
        return Ok(Probe::Unmapped(format!(
            "no workload serves `{url}` (workloads: {}; map it with --routes URL=WORKLOAD)",
            names.join(", ")
        )));
    };
    let name = &routes.topology.workloads[workload.index()].name;
    let keys = hypothesis(
        name,
        "availability",
        ("min", DEFAULT_AVAILABILITY_FLOOR.into()),
    );
    let note = format!(
        "availability floor {DEFAULT_AVAILABILITY_FLOOR}: the probe is one request, the floor is the share that must succeed"
    );
    Ok(Probe::Hypothesis {
        keys,
        notes: vec![note],
    })
}

/// A status (200), a list of statuses, or a range over the status.
fn is_status_tolerance(tolerance: &Value) -> bool {
    match tolerance {
        Value::Number(_) => true,
        Value::Array(items) => !items.is_empty() && items.iter().all(Value::is_number),
        Value::Object(map) => {
            map.get("type").and_then(Value::as_str) == Some("range")
                && map
                    .get("target")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t == "status")
        }
        _ => false,
    }
}

/// The workload behind a URL: the longest `--routes` prefix (or host) that matches, else
/// the host's first DNS label naming a workload, its target node, or the node's `app` label.
fn workload_of_url(routes: &Routes<'_>, url: &str) -> Option<WorkloadId> {
    let topology = routes.topology;
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host_port = rest.split('/').next().unwrap_or("");
    let host = host_port.split(':').next().unwrap_or("");
    let routed = routes
        .routes
        .iter()
        .filter(|(prefix, _)| {
            url.starts_with(prefix.as_str()) || rest.starts_with(prefix.as_str()) || host == prefix
        })
        .max_by_key(|(prefix, _)| prefix.len());
    if let Some((_, workload)) = routed {
        return topology.workload_id(workload);
    }
    let first = host.split('.').next().unwrap_or("");
    if let Some(id) = topology.workload_id(first) {
        return Some(id);
    }
    topology
        .workloads
        .iter()
        .position(|workload| {
            let node = topology.node(workload.target);
            node.name == first
                || ["app", "app.kubernetes.io/name"]
                    .iter()
                    .any(|key| node.labels.get(key) == Some(first))
        })
        .map(|index| WorkloadId(index as u32))
}

// ---- Prometheus ----

/// Label matchers of a query that say which requests, not which workload.
const REQUEST_LABELS: [&str; 9] = [
    "le",
    "code",
    "status",
    "status_code",
    "method",
    "handler",
    "route",
    "path",
    "quantile",
];

fn prometheus(
    routes: &Routes<'_>,
    query: &str,
    tolerance: &Value,
    path: &str,
) -> Result<Probe, CtkError> {
    let Some((low, high)) = range_of(tolerance) else {
        return Ok(Probe::Unmapped(
            "a Prometheus probe whose tolerance is not a range".into(),
        ));
    };
    let compact: String = query.chars().filter(|c| !c.is_whitespace()).collect();
    let metric = if let Some(quantile) = quantile_of(&compact) {
        match quantile_metric(quantile) {
            Some(metric) => metric,
            None => {
                return Ok(Probe::Unmapped(format!(
                    "quantile {quantile}: the simulator has p50, p90, p99, p99.9"
                )));
            }
        }
    } else if compact.contains('/') && (compact.contains("=~\"5") || compact.contains("=\"5")) {
        "error_rate"
    } else {
        return Ok(Probe::Unmapped(
            "a Prometheus query that is neither a latency quantile nor an error ratio".into(),
        ));
    };
    let Some(workload) = workload_of_query(routes, &compact, path)? else {
        return Ok(Probe::Unmapped(
            "its label matchers select no node that a workload enters at".into(),
        ));
    };
    let name = routes.topology.workloads[workload.index()].name.clone();
    let bound = if metric == "error_rate" {
        ("max", toml::Value::Float(high))
    } else {
        let ns = (high * 1e9).round() as u64;
        ("max", crate::interop::draft::exact_duration(ns).into())
    };
    let mut notes = Vec::new();
    if low > 0.0 {
        notes.push(format!(
            "the range's lower end {low} is not a bound of the simulation"
        ));
    }
    Ok(Probe::Hypothesis {
        keys: hypothesis(&name, metric, bound),
        notes,
    })
}

/// `{"type": "range", "range": [low, high]}`.
fn range_of(tolerance: &Value) -> Option<(f64, f64)> {
    if tolerance.get("type").and_then(Value::as_str) != Some("range") {
        return None;
    }
    let range = tolerance.get("range")?.as_array()?;
    let low = range.first()?.as_f64()?;
    let high = range.get(1)?.as_f64()?;
    (low <= high && low >= 0.0).then_some((low, high))
}

/// The quantile of `histogram_quantile(q, ...)`.
fn quantile_of(query: &str) -> Option<f64> {
    let rest = query.split_once("histogram_quantile(")?.1;
    rest.split(',').next()?.parse::<f64>().ok()
}

fn quantile_metric(quantile: f64) -> Option<&'static str> {
    [(0.5, "p50"), (0.9, "p90"), (0.99, "p99"), (0.999, "p99.9")]
        .into_iter()
        .find(|(q, _)| (q - quantile).abs() < 1e-9)
        .map(|(_, metric)| metric)
}

/// The workload a query is about: a `workload="NAME"` matcher, else the first workload whose
/// target the other label matchers select.
fn workload_of_query(
    routes: &Routes<'_>,
    query: &str,
    path: &str,
) -> Result<Option<WorkloadId>, CtkError> {
    let topology = routes.topology;
    let matchers = matchers_of(query);
    if let Some((_, name)) = matchers.iter().find(|(key, _)| key == "workload") {
        return Ok(topology.workload_id(name));
    }
    let selector: Vec<String> = matchers
        .iter()
        .filter(|(key, _)| !REQUEST_LABELS.contains(&key.as_str()))
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    if selector.is_empty() {
        return Ok(None);
    }
    let nodes = select::nodes(topology, &selector.join(","), path)?;
    Ok(topology
        .workloads
        .iter()
        .position(|workload| nodes.contains(&workload.target))
        .map(|index| WorkloadId(index as u32)))
}

/// The equality matchers `key="value"` of the query's first `{...}`.
fn matchers_of(query: &str) -> Vec<(String, String)> {
    let Some(inner) = query
        .split_once('{')
        .and_then(|(_, rest)| rest.split_once('}'))
        .map(|(inner, _)| inner)
    else {
        return Vec::new();
    };
    inner
        .split(',')
        .filter_map(|matcher| {
            let (key, value) = matcher.split_once('=')?;
            if value.starts_with('~') || key.ends_with('!') {
                return None;
            }
            Some((key.to_string(), value.trim_matches('"').to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_say_their_quantile_and_matchers() {
        let q = "histogram_quantile(0.99,sum(rate(http_request_duration_seconds_bucket{app=\"api\",code=~\"2..\"}[1m]))by(le))";
        assert_eq!(quantile_of(q), Some(0.99));
        assert_eq!(matchers_of(q), [("app".to_string(), "api".to_string())]);
        assert_eq!(quantile_metric(0.999), Some("p99.9"));
        assert_eq!(quantile_metric(0.95), None);
    }

    #[test]
    fn status_tolerances_and_ranges_are_recognised() {
        assert!(is_status_tolerance(&serde_json::json!(200)));
        assert!(is_status_tolerance(&serde_json::json!([200, 201])));
        assert!(!is_status_tolerance(&serde_json::json!(true)));
        assert_eq!(
            range_of(&serde_json::json!({"type": "range", "range": [0, 0.3]})),
            Some((0.0, 0.3))
        );
        assert_eq!(
            range_of(&serde_json::json!({"type": "range", "range": [1, 0]})),
            None
        );
    }
}
