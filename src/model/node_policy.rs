//! A node's load shedding and balancer keys — `queue_timeout`, `queue_policy`, `codel`,
//! `health_check`, `outlier` — read into a `NodePolicy`. Hooked from `nodes::read_internal`;
//! every key is optional and its absence keeps the behaviour the node had without it.
//!
//! This module only reads and checks the keys; what they do is the simulator's
//! (`sim/shedding.rs`, `sim/health.rs`).

use super::reader::{Fields, Sink, Value, conflict, or_default};

/// The keys this module reads, appended to every internal node's keys.
pub(crate) const POLICY_KEYS: [&str; 5] = [
    "queue_timeout",
    "queue_policy",
    "codel",
    "health_check",
    "outlier",
];

/// How a node sheds queued work and how its balancer watches its replicas. The default is
/// the behaviour without the keys: FIFO, nothing shed, the balancer knowing at once.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NodePolicy {
    /// Work that waited longer than this in a replica's queue is dropped unserved (`shed`)
    /// when a worker would start it.
    pub queue_timeout_ns: Option<u64>,
    pub queue_policy: QueuePolicy,
    /// The overload detector of `QueuePolicy::Adaptive` (defaults otherwise, unused).
    pub codel: Codel,
    /// `None`: the balancer knows at once when a replica stops or restarts.
    pub health_check: Option<HealthCheck>,
    pub outlier: Option<Outlier>,
}

impl NodePolicy {
    /// Whether the balancer of this node ejects replicas (so its report shows ejections).
    pub fn watches_replicas(&self) -> bool {
        self.health_check.is_some() || self.outlier.is_some()
    }
}

/// The order in which a replica's waiting frames get a worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueuePolicy {
    /// Oldest first.
    #[default]
    Fifo,
    /// Newest first.
    Lifo,
    /// Facebook's adaptive LIFO with CoDel: FIFO while the queue empties now and then; once it
    /// has not been empty for a whole `codel.interval`, newest first, and work that waited
    /// longer than `codel.target` is shed.
    Adaptive,
}

/// CoDel's two parameters (Nichols & Jacobson). Invariant: both above zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Codel {
    pub target_ns: u64,
    pub interval_ns: u64,
}

impl Default for Codel {
    fn default() -> Self {
        Codel {
            target_ns: 5_000_000,
            interval_ns: 100_000_000,
        }
    }
}

/// Active health checks by the balancer. Invariant: `interval_ns > 0`, thresholds >= 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    pub interval_ns: u64,
    /// Consecutive failed checks that take a replica out of the balancer.
    pub unhealthy: u32,
    /// Consecutive passed checks that put it back.
    pub healthy: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck {
            interval_ns: 5_000_000_000,
            unhealthy: 3,
            healthy: 2,
        }
    }
}

/// Envoy-style outlier detection on consecutive failures. Invariant: `consecutive_failures
/// >= 1`, `ejection_ns > 0`, `max_ejected` in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outlier {
    pub consecutive_failures: u32,
    /// Base ejection time, multiplied by the number of times the replica was ejected.
    pub ejection_ns: u64,
    /// Share of the node's replicas that may be ejected at once.
    pub max_ejected: f64,
}

impl Default for Outlier {
    fn default() -> Self {
        Outlier {
            consecutive_failures: 5,
            ejection_ns: 30_000_000_000,
            max_ejected: 0.5,
        }
    }
}

const QUEUE_POLICY: [(&str, QueuePolicy); 3] = [
    ("fifo", QueuePolicy::Fifo),
    ("lifo", QueuePolicy::Lifo),
    ("adaptive", QueuePolicy::Adaptive),
];

/// Reads the policy keys of an internal node; `None` when one of them is wrong (reported).
pub(crate) fn read_node_policy(sink: &mut Sink<'_>, fields: &Fields<'_, '_>) -> Option<NodePolicy> {
    let queue_timeout = or_default(fields.get("queue_timeout"), None, |v| {
        sink.positive_duration("queue_timeout", v).map(Some)
    });
    let queue_policy = or_default(fields.get("queue_policy"), QueuePolicy::Fifo, |v| {
        sink.choice("queue_policy", v, &QUEUE_POLICY)
    });
    let codel = or_default(fields.get("codel"), Codel::default(), |v| {
        read_codel(sink, v)
    });
    let health_check = or_default(fields.get("health_check"), None, |v| {
        read_health_check(sink, v).map(Some)
    });
    let outlier = or_default(fields.get("outlier"), None, |v| {
        read_outlier(sink, v).map(Some)
    });
    let queue_policy = queue_policy?;
    if let (Some(codel), Some(policy)) = (fields.get("codel"), fields.get("queue_policy"))
        && queue_policy != QueuePolicy::Adaptive
    {
        conflict(sink, ("queue_policy", policy), ("codel", codel))
            .help("`codel` sets the overload detector of `queue_policy = \"adaptive\"` only");
        return None;
    }
    if let (Some(codel), None) = (fields.get("codel"), fields.get("queue_policy")) {
        sink.error(
            super::codes::Code::MissingKey,
            codel.span(),
            "`codel` needs `queue_policy = \"adaptive\"`",
        )
        .label("used only by the adaptive queue policy")
        .help("add `queue_policy = \"adaptive\"` or remove `codel`");
        return None;
    }
    Some(NodePolicy {
        queue_timeout_ns: queue_timeout?,
        queue_policy,
        codel: codel?,
        health_check: health_check?,
        outlier: outlier?,
    })
}

fn read_codel(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<Codel> {
    let expected = "a table like { target = \"5ms\", interval = \"100ms\" }";
    let fields = Fields::of(sink, value, "`codel`", expected, &["target", "interval"])?;
    let default = Codel::default();
    let target = or_default(fields.get("target"), default.target_ns, |v| {
        sink.positive_duration("target", v)
    });
    let interval = or_default(fields.get("interval"), default.interval_ns, |v| {
        sink.positive_duration("interval", v)
    });
    let clean = fields.finish(sink);
    clean.then_some(())?;
    Some(Codel {
        target_ns: target?,
        interval_ns: interval?,
    })
}

fn read_health_check(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<HealthCheck> {
    let expected = "a table like { interval = \"5s\", unhealthy = 3, healthy = 2 }";
    let keys = &["interval", "unhealthy", "healthy"];
    let fields = Fields::of(sink, value, "`health_check`", expected, keys)?;
    let default = HealthCheck::default();
    let interval = or_default(fields.get("interval"), default.interval_ns, |v| {
        sink.positive_duration("interval", v)
    });
    let unhealthy = or_default(fields.get("unhealthy"), default.unhealthy, |v| {
        sink.count("unhealthy", v, 1)
    });
    let healthy = or_default(fields.get("healthy"), default.healthy, |v| {
        sink.count("healthy", v, 1)
    });
    let clean = fields.finish(sink);
    clean.then_some(())?;
    Some(HealthCheck {
        interval_ns: interval?,
        unhealthy: unhealthy?,
        healthy: healthy?,
    })
}

fn read_outlier(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<Outlier> {
    let expected = "a table like { consecutive_failures = 5, ejection = \"30s\" }";
    let keys = &["consecutive_failures", "ejection", "max_ejected"];
    let fields = Fields::of(sink, value, "`outlier`", expected, keys)?;
    let default = Outlier::default();
    let failures = or_default(
        fields.get("consecutive_failures"),
        default.consecutive_failures,
        |v| sink.count("consecutive_failures", v, 1),
    );
    let ejection = or_default(fields.get("ejection"), default.ejection_ns, |v| {
        sink.positive_duration("ejection", v)
    });
    let max_ejected = or_default(fields.get("max_ejected"), default.max_ejected, |v| {
        sink.fraction("max_ejected", v)
    });
    let clean = fields.finish(sink);
    clean.then_some(())?;
    Some(Outlier {
        consecutive_failures: failures?,
        ejection_ns: ejection?,
        max_ejected: max_ejected?,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::model::{Code, NodeKind, QueuePolicy, parse_model};

    fn model(keys: &str) -> String {
        format!(
            "name = \"m\"\nzones = [\"a\"]\n[workload.w]\ntarget = \"api\"\nrate = 10\n\
             [service.api]\nzones = [\"a\"]\nservice_time = {{ dist = \"constant\", value = \"1ms\" }}\n{keys}\n"
        )
    }

    fn codes(keys: &str) -> Vec<Code> {
        let error = parse_model(Path::new("m.toml"), &model(keys)).expect_err("invalid");
        error.items.iter().map(|d| d.code).collect()
    }

    #[test]
    fn absent_keys_keep_the_old_behaviour() {
        let topology = parse_model(Path::new("m.toml"), &model("")).expect("valid");
        assert_eq!(topology.nodes[0].policy, super::NodePolicy::default());
        assert_eq!(topology.nodes[0].kind, NodeKind::Service);
    }

    #[test]
    fn keys_are_read_with_their_defaults() {
        let keys = "queue_timeout = \"100ms\"\nqueue_policy = \"adaptive\"\ncodel = { target = \"10ms\" }\n\
                    health_check = { unhealthy = 2 }\noutlier = { ejection = \"10s\" }";
        let topology = parse_model(Path::new("m.toml"), &model(keys)).expect("valid");
        let policy = topology.nodes[0].policy;
        assert_eq!(policy.queue_timeout_ns, Some(100_000_000));
        assert_eq!(policy.queue_policy, QueuePolicy::Adaptive);
        assert_eq!(policy.codel.target_ns, 10_000_000);
        assert_eq!(policy.codel.interval_ns, 100_000_000);
        let check = policy.health_check.expect("given");
        assert_eq!(
            (check.interval_ns, check.unhealthy, check.healthy),
            (5_000_000_000, 2, 2)
        );
        let outlier = policy.outlier.expect("given");
        assert_eq!(outlier.consecutive_failures, 5);
        assert_eq!(outlier.ejection_ns, 10_000_000_000);
        assert_eq!(outlier.max_ejected, 0.5);
    }

    #[test]
    fn mistakes_are_diagnosed_with_existing_codes() {
        assert_eq!(codes("queue_policy = \"random\""), [Code::UnknownChoice]);
        assert_eq!(codes("queue_timeout = \"0ms\""), [Code::OutOfRange]);
        assert_eq!(codes("queue_timeout = 5"), [Code::WrongType]);
        assert_eq!(
            codes("health_check = { unhealthy = 0 }"),
            [Code::OutOfRange]
        );
        assert_eq!(
            codes("health_check = { intervall = \"1s\" }"),
            [Code::UnknownKey]
        );
        assert_eq!(codes("outlier = { max_ejected = 1.5 }"), [Code::OutOfRange]);
        assert_eq!(codes("outlier = 3"), [Code::WrongType]);
        let both = "queue_policy = \"lifo\"\ncodel = { target = \"5ms\" }";
        assert_eq!(codes(both), [Code::ConflictingKeys]);
        assert_eq!(codes("codel = { target = \"5ms\" }"), [Code::MissingKey]);
    }
}
