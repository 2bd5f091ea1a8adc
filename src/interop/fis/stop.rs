//! Stop conditions -> hypotheses. A template names its CloudWatch alarms only by ARN; what
//! they watch comes from their definitions (`aws cloudwatch describe-alarms` output, handed
//! in with `--alarms`). An alarm on a latency statistic or an error / availability rate of a
//! workload becomes a hypothesis with the alarm's threshold; any other, and any alarm without
//! a definition, is listed as unmapped by name.

use serde_json::Value;

use crate::interop::draft::{DraftEntry, Unmapped, exact_duration};
use crate::model::Topology;

use super::template::Template;

/// The hypotheses the stop conditions give, and the ones that give none.
pub(super) fn stop_conditions(
    topology: &Topology,
    template: &Template,
    alarms: Option<&Value>,
) -> (Vec<DraftEntry>, Vec<Unmapped>) {
    let mut hypotheses = Vec::new();
    let mut unmapped = Vec::new();
    for condition in &template.stop_conditions {
        if condition.source == "none" {
            continue;
        }
        let name = condition
            .value
            .clone()
            .unwrap_or_else(|| condition.source.clone());
        if condition.source != "aws:cloudwatch:alarm" {
            unmapped.push(Unmapped {
                name,
                reason: format!(
                    "stop condition source `{}` is not a CloudWatch alarm",
                    condition.source
                ),
            });
            continue;
        }
        let Some(alarm) = alarms.and_then(|a| find_alarm(a, &name)) else {
            let reason = "its metric is not in the template; pass the alarm's definition with `--alarms` (`aws cloudwatch describe-alarms --alarm-names NAME`)";
            unmapped.push(Unmapped {
                name,
                reason: reason.into(),
            });
            continue;
        };
        match hypothesis(topology, alarm) {
            Ok(keys) => hypotheses.push(DraftEntry {
                origin: vec![format!("from stop condition: CloudWatch alarm {name}")],
                keys,
            }),
            Err(reason) => unmapped.push(Unmapped { name, reason }),
        }
    }
    (hypotheses, unmapped)
}

/// The alarm with this ARN (or with the name the ARN ends in).
fn find_alarm<'a>(alarms: &'a Value, arn: &str) -> Option<&'a Value> {
    let list = alarms.get("MetricAlarms").unwrap_or(alarms).as_array()?;
    let name = arn.rsplit(':').next().unwrap_or(arn);
    list.iter().find(|a| {
        a.get("AlarmArn").and_then(Value::as_str) == Some(arn)
            || a.get("AlarmName").and_then(Value::as_str) == Some(name)
    })
}

fn text<'a>(alarm: &'a Value, key: &str) -> &'a str {
    alarm.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The hypothesis an alarm stands for.
fn hypothesis(topology: &Topology, alarm: &Value) -> Result<toml::Table, String> {
    let metric_name = text(alarm, "MetricName");
    if metric_name.is_empty() {
        return Err("a metric-math alarm: its expression has no counterpart".into());
    }
    let threshold = alarm
        .get("Threshold")
        .and_then(Value::as_f64)
        .ok_or("the alarm has no `Threshold`")?;
    let workload = workload(topology, alarm)?;
    let above = text(alarm, "ComparisonOperator").starts_with("GreaterThan");
    let lower = metric_name.to_lowercase();
    let mut keys = toml::Table::new();
    keys.insert("workload".into(), workload.into());
    if ["latency", "responsetime", "duration"]
        .iter()
        .any(|w| lower.contains(w))
    {
        let metric = latency_statistic(alarm)?;
        let ns = (threshold * unit_seconds(alarm) * 1e9).round() as u64;
        keys.insert("metric".into(), metric.into());
        keys.insert(
            if above { "max" } else { "min" }.into(),
            exact_duration(ns).into(),
        );
        return Ok(keys);
    }
    let is_rate = text(alarm, "Unit") == "Percent" || lower.contains("rate");
    let fraction = if text(alarm, "Unit") == "Percent" || threshold > 1.0 {
        threshold / 100.0
    } else {
        threshold
    };
    if ["error", "5xx", "fault"].iter().any(|w| lower.contains(w)) && is_rate && above {
        keys.insert("metric".into(), "error_rate".into());
        keys.insert("max".into(), toml::Value::Float(fraction));
        return Ok(keys);
    }
    if ["availability", "success"]
        .iter()
        .any(|w| lower.contains(w))
        && is_rate
        && !above
    {
        keys.insert("metric".into(), "availability".into());
        keys.insert("min".into(), toml::Value::Float(fraction));
        return Ok(keys);
    }
    Err(format!(
        "metric `{metric_name}` is neither a latency nor an error or availability rate of a workload"
    ))
}

/// `p99` from `ExtendedStatistic`, `mean` from an `Average`.
fn latency_statistic(alarm: &Value) -> Result<&'static str, String> {
    let extended = text(alarm, "ExtendedStatistic");
    let metric = match (extended, text(alarm, "Statistic")) {
        ("p50", _) => "p50",
        ("p90", _) => "p90",
        ("p99", _) => "p99",
        ("p99.9", _) => "p999",
        ("", "Average") => "mean",
        (other, statistic) => {
            return Err(format!(
                "statistic `{}` has no hypothesis metric (p50, p90, p99, p99.9, Average)",
                if other.is_empty() { statistic } else { other }
            ));
        }
    };
    Ok(metric)
}

/// Seconds per unit of the alarm's latency threshold: its `Unit`, else seconds for a load
/// balancer's `TargetResponseTime`, milliseconds elsewhere (API Gateway, Lambda).
fn unit_seconds(alarm: &Value) -> f64 {
    match text(alarm, "Unit") {
        "Seconds" => 1.0,
        "Milliseconds" => 1e-3,
        "Microseconds" => 1e-6,
        _ if text(alarm, "Namespace").contains("ELB") => 1.0,
        _ => 1e-3,
    }
}

/// The workload named by a dimension's value or in the alarm's name; the model's only
/// workload otherwise.
fn workload(topology: &Topology, alarm: &Value) -> Result<String, String> {
    let dimensions: Vec<&str> = alarm
        .get("Dimensions")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|x| x.get("Value").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let name = text(alarm, "AlarmName");
    let named = topology
        .workloads
        .iter()
        .filter(|w| dimensions.contains(&w.name.as_str()) || name.contains(w.name.as_str()))
        .max_by_key(|w| w.name.len());
    match (named, topology.workloads.as_slice()) {
        (Some(w), _) => Ok(w.name.clone()),
        (None, [only]) => Ok(only.name.clone()),
        (None, _) => Err("no workload of the model is named in its dimensions or name".into()),
    }
}
