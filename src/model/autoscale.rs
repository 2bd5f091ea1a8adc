//! A node's `autoscale` table: target-tracking autoscaling per zone, read into an `Autoscale`.
//!
//! Owns the key's vocabulary, defaults and range checks; the scaling itself is `sim::autoscale`.
//! Services and caches scale; a database does not (it fails over instead) and is told so.

use super::codes::Code;
use super::reader::{Fields, Sink, Value, or_default};
use super::topology::NodeKind;

/// Target tracking per zone, as AWS Auto Scaling does it. Invariant: `1 <= min <= max`,
/// `0 < target <= 1`, `period_ns > 0`; the node's `replicas_per_zone` is in `[min, max]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Autoscale {
    /// Fewest replicas per zone.
    pub min: u32,
    /// Most replicas per zone: the simulator keeps this many places per zone.
    pub max: u32,
    /// The utilisation (busy workers / workers of serving replicas) to track.
    pub target: f64,
    /// How often each zone is measured and resized.
    pub period_ns: u64,
    /// A new replica takes traffic this long after it is started.
    pub warmup_ns: u64,
}

const KEYS: &[&str] = &["min", "max", "target", "period", "warmup"];

/// Default evaluation period: one minute, CloudWatch's standard resolution.
pub const DEFAULT_PERIOD_NS: u64 = 60_000_000_000;
/// Default warm-up: two minutes.
pub const DEFAULT_WARMUP_NS: u64 = 120_000_000_000;
/// Default target utilisation.
pub const DEFAULT_TARGET: f64 = 0.6;

/// Reads `autoscale` of a node of `kind` whose starting count per zone is `replicas` (when it
/// read). A database's `autoscale` is rejected.
pub(crate) fn read_autoscale(
    sink: &mut Sink<'_>,
    kind: NodeKind,
    value: &Value<'_>,
    replicas: Option<u32>,
    replicas_value: Option<&Value<'_>>,
) -> Option<Autoscale> {
    if kind == NodeKind::Database {
        sink.error(
            Code::UnknownKey,
            value.span(),
            "a database does not autoscale",
        )
        .label("`autoscale` is for services and caches")
        .help("a database is served in its primary zone and fails over (`failover`); give it the replicas it needs");
        return None;
    }
    let expected = "a table like { min = 1, max = 10, target = 0.6 }";
    let mut fields = Fields::of(sink, value, "`autoscale`", expected, KEYS)?;
    let min = or_default(fields.get("min"), 1, |v| sink.count("min", v, 1));
    let max = fields.required("max").and_then(|v| sink.count("max", v, 1));
    let target = or_default(fields.get("target"), DEFAULT_TARGET, |v| {
        let x = sink.fraction("target", v)?;
        if x == 0.0 {
            sink.out_of_range("target", v, "0", "above 0 and at most 1");
            return None;
        }
        Some(x)
    });
    let period = or_default(fields.get("period"), DEFAULT_PERIOD_NS, |v| {
        sink.positive_duration("period", v)
    });
    let warmup = or_default(fields.get("warmup"), DEFAULT_WARMUP_NS, |v| {
        sink.duration("warmup", v)
    });
    let clean = fields.finish(sink);
    let (min, max) = (min?, max?);
    if max < min {
        let at = fields_value(value, "max");
        sink.out_of_range(
            "max",
            at,
            &max.to_string(),
            &format!("at least `min` ({min})"),
        );
        return None;
    }
    if let Some(replicas) = replicas
        && !(min..=max).contains(&replicas)
    {
        let at = replicas_value.unwrap_or(value);
        sink.out_of_range(
            "replicas",
            at,
            &replicas.to_string(),
            &format!("within the autoscaling range {min} to {max}"),
        );
        return None;
    }
    clean.then_some(())?;
    Some(Autoscale {
        min,
        max,
        target: target?,
        period_ns: period?,
        warmup_ns: warmup?,
    })
}

/// The value of `key` in the table `value` (which read as a table), else the table itself.
fn fields_value<'v, 'i>(value: &'v Value<'i>, key: &str) -> &'v Value<'i> {
    match value.get_ref() {
        toml::de::DeValue::Table(table) => table.get(key).unwrap_or(value),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::model::{Code, parse_model};

    fn model(autoscale: &str) -> String {
        format!(
            "name = \"m\"\nzones = [\"a\"]\n[workload.w]\ntarget = \"api\"\nrate = 1\n\
             [service.api]\nzones = [\"a\"]\nreplicas = 2\nautoscale = {autoscale}\n\
             service_time = {{ dist = \"constant\", value = \"1ms\" }}\n"
        )
    }

    #[test]
    fn defaults_fill_in_around_max() {
        let topology = parse_model(Path::new("m.toml"), &model("{ max = 4 }")).expect("loads");
        let policy = topology.nodes[0].autoscale.expect("autoscaled");
        assert_eq!((policy.min, policy.max, policy.target), (1, 4, 0.6));
        assert_eq!(
            (policy.period_ns, policy.warmup_ns),
            (60_000_000_000, 120_000_000_000)
        );
        assert_eq!(topology.nodes[0].slots_per_zone(), 4);
    }

    #[test]
    fn mistakes_are_located_with_existing_codes() {
        for (autoscale, code, message) in [
            (
                "{ min = 3, max = 2 }",
                Code::OutOfRange,
                "`max` must be at least `min` (3)",
            ),
            (
                "{ max = 4, target = 0 }",
                Code::OutOfRange,
                "`target` must be above 0",
            ),
            (
                "{ max = 4, period = \"0s\" }",
                Code::OutOfRange,
                "`period` must be",
            ),
            (
                "{ max = 1 }",
                Code::OutOfRange,
                "within the autoscaling range 1 to 1, found 2",
            ),
            ("{ min = 1 }", Code::MissingKey, "`max`"),
            (
                "{ max = 4, maxx = 5 }",
                Code::UnknownKey,
                "unknown key `maxx`",
            ),
            ("4", Code::WrongType, "expected a table like"),
        ] {
            let error = parse_model(Path::new("m.toml"), &model(autoscale)).expect_err(autoscale);
            let d = &error.items[0];
            assert_eq!(d.code, code, "{autoscale}: {d:?}");
            assert!(d.message.contains(message), "{autoscale}: {}", d.message);
            assert!(d.line > 0, "{autoscale}: located");
        }
    }
}
