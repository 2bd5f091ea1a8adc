//! The file vocabulary as serde types, from which the JSON Schemas for model and scenario files
//! are generated (schemars). Editors read the schemas (Taplo / Even Better TOML, Tombi) to
//! complete and check files as they are typed.
//!
//! These types describe what the loader (`load_model`, `load_scenario` and their readers)
//! accepts, key for key: every table denies unknown keys, choices are enums, durations are
//! strings with a unit, distributions are a union tagged by `dist` and faults one tagged by
//! `kind`, each with exactly the keys its kind takes. They are a description, not the loader:
//! cross-references (a call's `to` naming a node, a zone being declared) and relations between
//! numbers (`min` below `max`) are the loader's to check. Tests keep the two in step: every
//! bundled file validates against the schema, and broken files with an unknown key or an
//! unknown word are rejected by it.

use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::Value;

/// A duration string: a non-negative decimal number and a unit, as `parse_duration` reads it.
/// One part or several (`1m20s`); the loader also checks that the units decrease.
pub const DURATION_PATTERN: &str = r"^\s*([0-9]+(\.[0-9]+)?\s*(ns|us|µs|μs|ms|s|m|h)\s*)+$";

/// A key of a `percentiles` distribution: `p` and a percentile above 0 and below 100, such as
/// `p50`, `p99` or `p99.9` (at most 12 decimals), as `dist::quantile_of` reads it.
pub const PERCENTILE_KEY_PATTERN: &str =
    r"^p(([1-9][0-9]?|0[1-9])(\.[0-9]{1,12})?|00?\.[0-9]{0,11}[1-9][0-9]{0,11})$";

/// The JSON Schema of model files, pretty-printed, ending with a newline.
pub fn model_schema() -> String {
    render::<Model>()
}

/// The JSON Schema of scenario files, pretty-printed, ending with a newline.
pub fn scenario_schema() -> String {
    render::<ScenarioFile>()
}

fn render<T: JsonSchema>() -> String {
    let generator = SchemaSettings::draft2020_12()
        .with_transform(RecursiveTransform(tidy))
        .into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}

/// TOML has no null, so the `null` that schemars allows for `Option` fields is removed; the
/// integer formats (`uint32`, ...) are dropped, as the ranges already say what they mean.
fn tidy(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if let [single] = types.as_slice() {
            let single = single.clone();
            object.insert("type".into(), single);
        }
    }
    if let Some(Value::Array(any_of)) = object.get_mut("anyOf") {
        any_of.retain(|s| s.get("type").is_none_or(|t| t != "null"));
        if let [single] = any_of.as_slice() {
            let single = single.clone();
            object.remove("anyOf");
            if let Value::Object(inner) = single {
                object.extend(inner);
            }
        }
    }
    let numeric_format = object
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| f.starts_with("int") || f.starts_with("uint") || f == "double");
    if numeric_format {
        object.remove("format");
    }
}

/// A duration string with a unit: `"500us"`, `"2ms"`, `"1.5s"`, `"10m"`, `"1h"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(transparent)]
pub struct Duration(pub String);

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: a number and a unit (ns, us, ms, s, m, h), like \"500us\", \"2ms\", \"1.5s\", \"10m\", \"1h\", or several from the largest unit to the smallest, like \"1m20s\".",
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["500us", "2ms", "1.5s", "10m", "1h", "1m20s"]
        })
    }
}

/// A node's labels: Kubernetes label syntax for keys and values, so Chaos Toolkit selectors and
/// AWS resource tags name the node the same way.
#[derive(Clone, Debug, Deserialize)]
#[serde(transparent)]
pub struct Labels(pub std::collections::BTreeMap<String, String>);

/// A label key: an optional DNS-subdomain prefix and `/`, then a name (Kubernetes syntax).
const LABEL_KEY_PATTERN: &str = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
/// A label value: empty, or a name.
const LABEL_VALUE_PATTERN: &str = "^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$";

impl JsonSchema for Labels {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Labels".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Labels, as Kubernetes writes them: `{ app = \"api\", tier = \"web\" }`. Imported Chaos Toolkit label selectors and AWS FIS resource tags select nodes by them.",
            "type": "object",
            "propertyNames": { "pattern": LABEL_KEY_PATTERN },
            "additionalProperties": { "type": "string", "pattern": LABEL_VALUE_PATTERN }
        })
    }
}

/// A model file: the system's zones, nodes and workloads.
///
/// Nodes are `[service.NAME]`, `[cache.NAME]`, `[database.NAME]`, `[external.NAME]` and
/// `[queue.NAME]` tables; node names are unique across the kinds.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "blastradius model")]
pub struct Model {
    /// The model's name, shown in reports.
    pub name: String,
    /// The availability zones, each named once.
    #[schemars(length(min = 1), extend("uniqueItems" = true))]
    pub zones: Vec<String>,
    /// User traffic, by workload name.
    pub workload: Option<BTreeMap<String, Workload>>,
    /// Services, by name.
    pub service: Option<BTreeMap<String, Service>>,
    /// Caches (cache-aside: a miss is served by `backing`), by name.
    pub cache: Option<BTreeMap<String, Cache>>,
    /// Databases (served in the `primary` zone), by name.
    pub database: Option<BTreeMap<String, Database>>,
    /// Third-party dependencies (no zones, unlimited concurrency), by name.
    pub external: Option<BTreeMap<String, External>>,
    /// Message brokers (Kafka / SQS-like) delivering to a consumer service, by name.
    pub queue: Option<BTreeMap<String, Queue>>,
    /// The AWS names of the zones (and the region), for `import fis` / `export fis`.
    pub aws: Option<ModelAws>,
}

/// `[aws]`: what the model's zones are called in AWS.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelAws {
    /// The region, used in the ARNs `export fis` writes (`us-east-1`).
    pub region: Option<String>,
    /// Per model zone, its Availability Zone name (`"us-east-1a"`) or a list of its names and
    /// IDs (`["us-east-1a", "use1-az1"]`).
    pub zones: Option<BTreeMap<String, AzNames>>,
}

/// One AZ name or ID, or several.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AzNames {
    One(String),
    Several(Vec<String>),
}

/// A node's `aws` table.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeAws {
    /// The FIS resource type (`aws:ec2:instance`, `aws:ecs:task`, `aws:eks:pod`,
    /// `aws:rds:cluster`, `aws:elasticache:replicationgroup`, ...). Default by kind: services
    /// `aws:ec2:instance`, caches `aws:elasticache:replicationgroup`, databases `aws:rds:cluster`.
    #[serde(rename = "type")]
    #[schemars(regex(pattern = r"^aws:[a-z0-9-]+:[a-z0-9-]+$"))]
    pub resource_type: Option<String>,
    /// ARNs of the node's resources (or the IAM role it runs as).
    pub arns: Option<Vec<String>>,
    /// For an external that is an AWS API, its namespace (`ec2`, `dynamodb`): the `service`
    /// of FIS's `aws:fis:inject-api-*` actions.
    pub service: Option<String>,
}

/// User traffic entering the system at one node: an open loop at `rate`, or closed-loop
/// `users` with a `think_time` (exactly one of `rate` and `users`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    { "required": ["rate"], "not": { "anyOf": [{ "required": ["users"] }, { "required": ["think_time"] }] } },
    { "required": ["users", "think_time"], "not": { "anyOf": [{ "required": ["rate"] }, { "required": ["arrival"] }] } }
]))]
pub struct Workload {
    /// The node that receives the traffic.
    pub target: String,
    /// Mean requests per second: a number, or a table with a `shape` (step, ramp, sine).
    pub rate: Option<Rate>,
    /// The arrival process of a `rate`; default `poisson`.
    pub arrival: Option<Arrival>,
    /// The client gives up after this; default: never.
    pub timeout: Option<Duration>,
    /// `propagate`: the client sends its `timeout` to the target as a deadline, which the
    /// target and the calls that propagate it honour; default `ignore`.
    pub deadline: Option<Deadline>,
    /// Closed loop: this many users, each sending its next request a `think_time` after its
    /// last one ended.
    #[schemars(range(min = 1))]
    pub users: Option<u32>,
    /// Closed loop: the users' think time between a request's end and the next; mean above 0.
    pub think_time: Option<Distribution>,
}

/// A workload's rate: requests per second, constant or varying in time.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Rate {
    /// Mean requests per second, above 0.
    PerSecond(#[schemars(extend("exclusiveMinimum" = 0))] f64),
    Shaped(RateShape),
}

/// A rate that varies in time, chosen by `shape`; rates are requests per second, at least 0.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "shape", rename_all = "lowercase", deny_unknown_fields)]
pub enum RateShape {
    /// `from` until `at`, then `to`.
    Step {
        #[schemars(range(min = 0))]
        from: f64,
        #[schemars(range(min = 0))]
        to: f64,
        /// When the rate changes, from time 0 of the run.
        at: Duration,
    },
    /// `from` until `start`, linear to `to` at `end`, `to` after.
    Ramp {
        #[schemars(range(min = 0))]
        from: f64,
        #[schemars(range(min = 0))]
        to: f64,
        /// When the ramp starts.
        start: Duration,
        /// When it ends: after `start`.
        end: Duration,
    },
    /// `mean + amplitude × sin(2π (t + phase) / period)`: the diurnal shape.
    Sine {
        /// The mean rate, above 0.
        #[schemars(extend("exclusiveMinimum" = 0))]
        mean: f64,
        /// At most `mean`.
        #[schemars(range(min = 0))]
        amplitude: f64,
        /// One cycle, above 0.
        period: Duration,
        /// Shifts the cycle; default 0 (the rate starts at its mean, rising).
        phase: Option<Duration>,
    },
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Arrival {
    /// Exponential gaps between requests.
    Poisson,
    /// Evenly spaced requests.
    Constant,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Concurrency {
    /// A worker is held until the node's calls return (thread per request).
    Blocking,
    /// A worker is held only for the node's own service time.
    Async,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    /// Sleep exactly the backoff.
    None,
    /// Sleep a uniform amount in [0, backoff].
    Full,
    /// Sleep backoff/2 plus a uniform amount in [0, backoff/2].
    Equal,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Deadline {
    /// The callee never learns when the caller gives up and finishes its work regardless.
    Ignore,
    /// The callee gets the earlier of the caller's deadline and now + `timeout`, and
    /// abandons work past it (gRPC deadline propagation).
    Propagate,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnUnavailable {
    /// Callers go to the backing store when the cache cannot answer.
    Fallthrough,
    /// Callers see the cache's failure.
    Fail,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QueuePolicy {
    /// Oldest waiting work first.
    Fifo,
    /// Newest waiting work first.
    Lifo,
    /// FIFO with `queue_timeout`; when the queue has not been empty for a whole
    /// `codel.interval`, newest first and work older than `codel.target` shed.
    Adaptive,
}

/// CoDel's parameters for the adaptive queue policy.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Codel {
    /// Under overload, work that waited longer than this is shed; default 5ms.
    pub target: Option<Duration>,
    /// Overloaded when the queue has not been empty for this long; default 100ms.
    pub interval: Option<Duration>,
}

/// The balancer's active health checks of each replica.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// Time between two checks of a replica; default 5s.
    pub interval: Option<Duration>,
    /// Failed checks in a row that take a replica out of the balancer; default 3.
    #[schemars(range(min = 1))]
    pub unhealthy: Option<u32>,
    /// Passed checks in a row that put it back; default 2.
    #[schemars(range(min = 1))]
    pub healthy: Option<u32>,
}

/// Outlier detection: ejection of a replica whose work fails repeatedly.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Outlier {
    /// Failures in a row that eject a replica; default 5.
    #[schemars(range(min = 1))]
    pub consecutive_failures: Option<u32>,
    /// Base ejection time, times the number of ejections of the replica; default 30s.
    pub ejection: Option<Duration>,
    /// Share of the node's replicas that may be ejected at once, in [0, 1]; default 0.5.
    #[schemars(range(min = 0, max = 1))]
    pub max_ejected: Option<f64>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CacheSharing {
    /// Each replica has its own content.
    Replica,
    /// The replicas of one zone share a content.
    Zone,
    /// All replicas share one content.
    Shared,
}

/// The keys every service, cache and database takes, then the kind's own.
macro_rules! internal_node {
    ($(#[$meta:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Kubernetes-style labels, by which imported experiments select the node.
            pub labels: Option<Labels>,
            /// The node's AWS resource type and ARNs, for `import fis` / `export fis`.
            pub aws: Option<NodeAws>,
            /// The zones the node is placed in, each once (declared in the top-level `zones`).
            #[schemars(length(min = 1), extend("uniqueItems" = true))]
            pub zones: Vec<String>,
            /// Instances per zone; default 1.
            #[schemars(range(min = 1))]
            pub replicas: Option<u32>,
            /// Requests served at once by one replica; default 1.
            #[schemars(range(min = 1))]
            pub workers: Option<u32>,
            /// Waiting room per replica; when full a request is rejected. Default: unbounded.
            pub queue: Option<u32>,
            /// How long a request holds a worker; default `blocking`.
            pub concurrency: Option<Concurrency>,
            /// The node's own work, spent before its calls.
            pub service_time: Distribution,
            /// Calls made after the own work, in order.
            pub calls: Option<Vec<Call>>,
            /// Work that waited longer than this in a replica's queue is dropped unserved
            /// (`shed`, a fast failure) when a worker would start it. Default: never.
            pub queue_timeout: Option<Duration>,
            /// The order waiting work gets a worker; default `fifo`.
            pub queue_policy: Option<QueuePolicy>,
            /// The overload detector of `queue_policy = "adaptive"`.
            pub codel: Option<Codel>,
            /// Active health checks by the balancer. Default: the balancer knows at once when
            /// a replica stops or restarts.
            pub health_check: Option<HealthCheck>,
            /// Outlier ejection on consecutive failures (Envoy style). Default: none.
            pub outlier: Option<Outlier>,
            $($extra)*
        }
    };
}

internal_node!(
    /// A service: replicas in zones, serving requests and calling other nodes.
    Service {
        /// Target-tracking autoscaling per zone; `replicas` is the starting count.
        pub autoscale: Option<Autoscale>,
    }
);

/// Target tracking per zone: every `period`, each zone is resized to
/// `ceil(replicas × utilisation / target)` within `[min, max]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscale {
    /// Fewest replicas per zone; default 1.
    #[schemars(range(min = 1))]
    pub min: Option<u32>,
    /// Most replicas per zone; at least `min`.
    #[schemars(range(min = 1))]
    pub max: u32,
    /// The utilisation to track, above 0 and at most 1; default 0.6.
    #[schemars(range(max = 1), extend("exclusiveMinimum" = 0))]
    pub target: Option<f64>,
    /// How often each zone is measured and resized; default 1m.
    pub period: Option<Duration>,
    /// A new replica takes traffic this long after it starts; default 2m.
    pub warmup: Option<Duration>,
}

internal_node!(
    /// A cache: a hit is answered by the cache, a miss by its `backing` store.
    Cache {
        /// Share of requests answered by the cache, in [0, 1]. Exactly one of `hit_ratio` and
        /// the content keys (`keys`, `zipf`, `capacity`, `ttl`, `content`, `single_flight`).
        #[schemars(range(min = 0, max = 1))]
        pub hit_ratio: Option<f64>,
        /// The key space of a cache described by its content; default 100000.
        #[schemars(range(min = 1, max = 1_000_000_000))]
        pub keys: Option<u32>,
        /// Zipf popularity exponent over the keys' ranks, >= 0 (0 is uniform); default 0.9.
        #[schemars(range(min = 0))]
        pub zipf: Option<f64>,
        /// Entries one content holds, at most `keys` (LRU eviction); default 10000.
        #[schemars(range(min = 1, max = 10_000_000))]
        pub capacity: Option<u32>,
        /// Entries expire this long after they were filled; default: never.
        pub ttl: Option<Duration>,
        /// Who shares one content; default `zone`.
        pub content: Option<CacheSharing>,
        /// Coalesce concurrent misses on one key into one backing call; default false.
        pub single_flight: Option<bool>,
        /// The node that serves a miss.
        pub backing: String,
        /// What callers do when the cache cannot answer; default `fallthrough`.
        pub on_unavailable: Option<OnUnavailable>,
        /// Target-tracking autoscaling per zone; `replicas` is the starting count.
        pub autoscale: Option<Autoscale>,
    }
);

internal_node!(
    /// A database: served by its replicas in the `primary` zone.
    Database {
        /// The zone that serves requests; one of the database's `zones`.
        pub primary: String,
        /// Time to move to the next zone after the primary's zone has no healthy replica;
        /// default: never.
        pub failover: Option<Duration>,
    }
);

/// A third party: no zones, unlimited concurrency.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct External {
    /// Kubernetes-style labels, by which imported experiments select the node.
    pub labels: Option<Labels>,
    /// The node's AWS resource type and ARNs, for `import fis` / `export fis`.
    pub aws: Option<NodeAws>,
    /// The dependency's whole latency.
    pub latency: Distribution,
    /// Share of calls that fail, in [0, 1]; default 0.
    #[schemars(range(min = 0, max = 1))]
    pub error_rate: Option<f64>,
}

/// A message broker: a publish (a call to it) is acknowledged after `ack`; stored messages
/// are delivered to the `consumer`, in order per partition.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// Kubernetes-style labels, by which imported experiments select the node.
    pub labels: Option<Labels>,
    /// The node's AWS resource type and ARNs, for `import fis` / `export fis`.
    pub aws: Option<NodeAws>,
    /// The broker's zones, each once; it stays available while one has a replica up.
    #[schemars(length(min = 1), extend("uniqueItems" = true))]
    pub zones: Vec<String>,
    /// Broker replicas per zone; default 1.
    #[schemars(range(min = 1))]
    pub replicas: Option<u32>,
    /// Publish acknowledgement latency; default a constant 1ms.
    pub ack: Option<Distribution>,
    /// Partitions, each consumed in order with one message in flight; default 1.
    #[schemars(range(min = 1, max = 100000))]
    pub partitions: Option<u32>,
    /// The service that processes each message (called by nothing else).
    pub consumer: String,
    /// Failed deliveries after which a message is dead-lettered; default 5.
    #[schemars(range(min = 1, max = 65535))]
    pub max_deliveries: Option<u32>,
    /// A delivery not answered within this is retried; the consumer call's timeout.
    /// Default 30s.
    pub visibility_timeout: Option<Duration>,
}

/// A call: an edge of the dependency graph with its policy.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// The node called.
    pub to: String,
    /// Per attempt; default: wait forever.
    pub timeout: Option<Duration>,
    /// Extra attempts after the first fails; default 0.
    #[schemars(range(max = 65535))]
    pub retries: Option<u32>,
    /// Base backoff before a retry, doubled each time; default 0.
    pub backoff: Option<Duration>,
    /// Cap on the backoff; default: none.
    pub max_backoff: Option<Duration>,
    /// Randomisation of the backoff; default `none`.
    pub jitter: Option<Jitter>,
    /// Share of requests that make this call, in [0, 1]; default 1.
    #[schemars(range(min = 0, max = 1))]
    pub probability: Option<f64>,
    /// A failure of an optional call degrades the request instead of failing it.
    pub optional: Option<bool>,
    /// A circuit breaker on this caller -> callee edge, shared by the caller's replicas.
    pub circuit_breaker: Option<CircuitBreaker>,
    /// A cap on this edge's retries: a share of its first attempts plus a floor per second.
    pub retry_budget: Option<RetryBudget>,
    /// At most this many outstanding attempts from one caller replica; at least 1.
    #[schemars(range(min = 1))]
    pub bulkhead: Option<u32>,
    /// Latency of the default answer served when an optional call has failed (needs
    /// `optional = true`); the request counts as degraded.
    pub fallback: Option<Duration>,
    /// `propagate`: the callee gets a deadline — the earlier of this node's own and now +
    /// `timeout` — and abandons the work once it has passed; default `ignore`.
    pub deadline: Option<Deadline>,
}

/// A circuit breaker: opens when the failed share of a rolling window's attempts reaches
/// `failure_rate` with at least `min_calls` attempts; after `open`, lets `probes` through.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Failed share that opens the breaker, in (0, 1]; default 0.5.
    #[schemars(range(min = 0, max = 1))]
    pub failure_rate: Option<f64>,
    /// The rolling window; default 10s.
    pub window: Option<Duration>,
    /// Attempts the window must hold before it is judged; default 20.
    #[schemars(range(min = 1))]
    pub min_calls: Option<u32>,
    /// How long it stays open; default 5s.
    pub open: Option<Duration>,
    /// Attempts let through half-open, all of which must succeed to close; default 1.
    #[schemars(range(min = 1))]
    pub probes: Option<u32>,
}

/// A retry budget: retries in the last `window` stay within `ratio` x the first attempts in
/// it plus `min_per_s` x the window's seconds.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryBudget {
    /// Retries allowed per first attempt; default 0.2.
    #[schemars(range(min = 0))]
    pub ratio: Option<f64>,
    /// Retries per second always allowed; default 10.
    #[schemars(range(min = 0))]
    pub min_per_s: Option<f64>,
    /// The rolling window; default 10s.
    pub window: Option<Duration>,
}

/// A distribution of durations, chosen by `dist`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum Distribution {
    /// Always `value`.
    Constant {
        /// The one value.
        value: Duration,
    },
    /// Exponential with mean `mean`.
    Exponential {
        /// The mean, above 0.
        mean: Duration,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// The smallest value.
        min: Duration,
        /// The largest value, at least `min`.
        max: Duration,
    },
    /// Log-normal given by its median and 99th percentile.
    Lognormal {
        /// The median, above 0.
        median: Duration,
        /// The 99th percentile, at least the median.
        p99: Duration,
    },
    /// An empirical distribution from percentiles read off a dashboard (`p50`, `p90`, `p99`,
    /// `"p99.9"`, ...) and an optional `min`; the tail beyond the last point continues
    /// exponentially.
    #[schemars(extend(
        "patternProperties" = { PERCENTILE_KEY_PATTERN: { "$ref": "#/$defs/Duration" } },
        "minProperties" = 2
    ))]
    Percentiles {
        /// The smallest value; default 0.
        min: Option<Duration>,
        #[serde(flatten)]
        #[schemars(skip)]
        points: BTreeMap<String, Duration>,
    },
}

/// A scenario file: a model, a run, a fault schedule and steady-state hypotheses.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "blastradius scenario")]
pub struct ScenarioFile {
    /// The scenario's name, shown in reports.
    pub name: String,
    /// The model file, relative to this scenario's directory.
    pub model: String,
    /// Simulated time of each run.
    pub duration: Duration,
    /// Time at the start that is simulated but not measured; shorter than `duration`.
    pub warmup: Option<Duration>,
    /// The seed of every random stream; default 0.
    pub seed: Option<u64>,
    /// Bounds on a run; reaching one stops it and the report says which and when.
    pub limits: Option<Limits>,
    /// How the blast radius is judged.
    pub blast_radius: Option<BlastRadius>,
    /// Steady-state hypotheses, checked per window.
    pub hypothesis: Option<Vec<Hypothesis>>,
    /// The fault schedule.
    pub fault: Option<Vec<Fault>>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Events processed.
    #[schemars(range(min = 1))]
    pub max_events: Option<u64>,
    /// User requests in flight at once.
    #[schemars(range(min = 1))]
    pub max_requests_in_flight: Option<u32>,
    /// Calls in flight at once.
    #[schemars(range(min = 1))]
    pub max_calls_in_flight: Option<u32>,
    /// Memory held by the run's growing state, in MiB (estimated).
    #[schemars(range(min = 1))]
    pub max_memory_mb: Option<u64>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlastRadius {
    /// A request slower than this counts as hurt; default: the control's p99.
    pub slow: Option<Duration>,
}

/// A steady-state hypothesis on one workload's metric, or on a queue's.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("allOf" = [
    {
        "description": "A hypothesis names a `workload` or a `queue`, not both.",
        "oneOf": [ { "required": ["workload"] }, { "required": ["queue"] } ]
    },
    {
        "description": "A hypothesis needs a bound.",
        "anyOf": [
            { "required": ["min"] },
            { "required": ["max"] },
            { "required": ["max_increase"] },
            { "required": ["max_decrease"] }
        ]
    },
    {
        "description": "Latency metrics take durations as bounds; the others numbers.",
        "if": {
            "properties": { "metric": { "enum": ["p50", "p90", "p99", "p999", "p99.9", "mean", "recovery_time", "message_age", "delivery_p99"] } },
            "required": ["metric"]
        },
        "then": {
            "properties": { "min": { "type": "string" }, "max": { "type": "string" }, "max_increase": { "type": "string" }, "max_decrease": { "type": "string" } }
        },
        "else": {
            "properties": { "min": { "type": "number" }, "max": { "type": "number" } }
        }
    },
    {
        "description": "`recovery_time` is one number per run and takes only `max`.",
        "if": { "properties": { "metric": { "const": "recovery_time" } }, "required": ["metric"] },
        "then": {
            "required": ["max"],
            "properties": { "min": false, "max_increase": false, "max_decrease": false, "window": false }
        }
    }
]))]
pub struct Hypothesis {
    /// The workload whose requests are measured.
    pub workload: Option<String>,
    /// The queue measured (instead of a workload), with `lag`, `message_age`, `delivery_p99`
    /// or `dead_letters`.
    pub queue: Option<String>,
    pub metric: Metric,
    /// Lower bound, in the metric's unit (a duration for latencies, a number otherwise).
    pub min: Option<Bound>,
    /// Upper bound, in the metric's unit (a duration for latencies, a number otherwise).
    pub max: Option<Bound>,
    /// Largest allowed increase over the control: `"+20%"`, or an amount in the metric's unit.
    pub max_increase: Option<Increase>,
    /// Largest allowed decrease from the control: `"-20%"`, or an amount in the metric's unit.
    pub max_decrease: Option<Decrease>,
    /// The windows checked; default during and after the faults.
    pub window: Option<Windows>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
pub enum Metric {
    /// Share of requests that succeeded (degraded ones included).
    #[serde(rename = "availability")]
    Availability,
    /// Share of requests that failed.
    #[serde(rename = "error_rate")]
    ErrorRate,
    /// Share of requests that succeeded degraded.
    #[serde(rename = "degraded")]
    Degraded,
    /// Completed requests per second.
    #[serde(rename = "throughput")]
    Throughput,
    /// Mean latency.
    #[serde(rename = "mean")]
    Mean,
    /// Median latency.
    #[serde(rename = "p50")]
    P50,
    /// 90th percentile latency.
    #[serde(rename = "p90")]
    P90,
    /// 99th percentile latency.
    #[serde(rename = "p99")]
    P99,
    /// 99.9th percentile latency.
    #[serde(rename = "p999")]
    P999,
    /// 99.9th percentile latency (same as `p999`).
    #[serde(rename = "p99.9")]
    P99Dot9,
    /// How long after the last fault ends the metrics are back in the control's band.
    #[serde(rename = "recovery_time")]
    RecoveryTime,
    /// A queue's most messages stored and not yet acknowledged.
    #[serde(rename = "lag")]
    Lag,
    /// A queue's oldest unacknowledged message's greatest age.
    #[serde(rename = "message_age")]
    MessageAge,
    /// A queue's 99th percentile of publish-to-acknowledgement delay.
    #[serde(rename = "delivery_p99")]
    DeliveryP99,
    /// A queue's dead-lettered messages.
    #[serde(rename = "dead_letters")]
    DeadLetters,
}

/// A bound: a duration for latency metrics, a number otherwise.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Bound {
    Number(f64),
    Duration(Duration),
}

/// `"+20%"` (the sign is optional), a duration like `"50ms"` for latency metrics, or a
/// non-negative number for the others.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Increase {
    Number(#[schemars(range(min = 0))] f64),
    Text(
        #[schemars(pattern(
        r"^\s*\+?(\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*%|(\s*[0-9]+(\.[0-9]+)?\s*(ns|us|µs|μs|ms|s|m|h))+)\s*$"
    ))]
        String,
    ),
}

/// `"-20%"` (the sign is optional, at most 100%), a duration like `"50ms"` for latency
/// metrics, or a non-negative number for the others.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Decrease {
    Number(#[schemars(range(min = 0))] f64),
    Text(
        #[schemars(pattern(
        r"^\s*-?(\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*%|(\s*[0-9]+(\.[0-9]+)?\s*(ns|us|µs|μs|ms|s|m|h))+)\s*$"
    ))]
        String,
    ),
}

/// One window, or a list of windows each named once.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Windows {
    One(Window),
    Many(#[schemars(length(min = 1), extend("uniqueItems" = true))] Vec<Window>),
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// After the warm-up, before the first fault.
    Before,
    /// While the faults act.
    During,
    /// After the last fault ends.
    After,
}

/// Exactly one of two keys.
macro_rules! one_of {
    ($a:literal, $b:literal) => {
        serde_json::json!([{ "required": [$a] }, { "required": [$b] }])
    };
}

/// A timed, targeted fault, chosen by `kind`. `start` counts from time 0 of the run; a fault
/// without `duration` lasts to the end.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Fault {
    /// Every replica in `zone` stops; with `recovery`, they return one by one, cold.
    #[schemars(extend("dependentRequired" = { "recovery": ["duration"] }))]
    ZoneOutage {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The zone acted on.
        zone: String,
        /// The replicas return one by one over this time after the outage ends.
        recovery: Option<Duration>,
    },
    /// `zones` are cut from each other, or `zone` from all the others.
    #[schemars(extend("oneOf" = one_of!("zone", "zones")))]
    ZonePartition {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The zone acted on, or to which the node's replicas are restricted.
        zone: Option<String>,
        /// Zones cut from each other.
        #[schemars(length(min = 1), extend("uniqueItems" = true))]
        zones: Option<Vec<String>>,
    },
    /// The calls of `edge` (`"caller->callee"`) are swallowed.
    Partition {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// A call of the model or a cache's backing, `"caller->callee"`.
        #[schemars(pattern(r"^.*\S.*->.*\S.*$"))]
        edge: String,
    },
    /// Replicas of `node` (optionally in `zone`), or every replica in `zone`, crash;
    /// `count` or `percent` of them, drawn from the seed.
    #[schemars(extend("anyOf" = one_of!("node", "zone"), "allOf" = [
        { "not": { "required": ["count", "percent"] } },
        { "not": { "required": ["duration", "restart_after"] } }
    ]))]
    Crash {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The node acted on.
        node: Option<String>,
        /// The zone acted on, or to which the node's replicas are restricted.
        zone: Option<String>,
        /// How many replicas, drawn from the seed; excludes `percent`.
        #[schemars(range(min = 1))]
        count: Option<u32>,
        /// Share of the replicas in percent, drawn from the seed; excludes `count`.
        #[schemars(range(max = 100), extend("exclusiveMinimum" = 0))]
        percent: Option<f64>,
        /// The crashed replicas come back after this (instead of `duration`).
        restart_after: Option<Duration>,
    },
    /// A random replica of the targets crashes at random times and comes back after
    /// `restart_after`.
    #[schemars(extend("oneOf" = [
        { "required": ["nodes"] },
        { "anyOf": one_of!("node", "zone"), "not": { "required": ["nodes"] } }
    ]))]
    ChaosMonkey {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The node acted on.
        node: Option<String>,
        /// The nodes whose replicas may be chosen.
        #[schemars(length(min = 1), extend("uniqueItems" = true))]
        nodes: Option<Vec<String>>,
        /// The zone acted on, or to which the node's replicas are restricted.
        zone: Option<String>,
        /// Mean time between crashes.
        mean_interval: Duration,
        /// A crashed replica comes back after this.
        restart_after: Duration,
    },
    /// Calls to `node` or along `edge` take longer by `latency`.
    #[schemars(extend("oneOf" = one_of!("node", "edge")))]
    Latency {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The node acted on.
        node: Option<String>,
        /// A call of the model or a cache's backing, `"caller->callee"`.
        #[schemars(pattern(r"^.*\S.*->.*\S.*$"))]
        edge: Option<String>,
        /// The added latency.
        latency: Distribution,
        /// Share of calls affected, in [0, 1]; default 1.
        #[schemars(range(min = 0, max = 1))]
        share: Option<f64>,
    },
    /// Calls to `node` or along `edge` fail fast.
    #[schemars(extend("oneOf" = one_of!("node", "edge")))]
    Errors {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The node acted on.
        node: Option<String>,
        /// A call of the model or a cache's backing, `"caller->callee"`.
        #[schemars(pattern(r"^.*\S.*->.*\S.*$"))]
        edge: Option<String>,
        /// Share of calls affected, in [0, 1]; default 1.
        #[schemars(range(min = 0, max = 1))]
        share: Option<f64>,
    },
    /// Calls to `node` or along `edge` get no answer; the caller's timeout decides.
    #[schemars(extend("oneOf" = one_of!("node", "edge")))]
    Blackhole {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The node acted on.
        node: Option<String>,
        /// A call of the model or a cache's backing, `"caller->callee"`.
        #[schemars(pattern(r"^.*\S.*->.*\S.*$"))]
        edge: Option<String>,
        /// Share of calls affected, in [0, 1]; default 1.
        #[schemars(range(min = 0, max = 1))]
        share: Option<f64>,
    },
    /// The service time of replicas of `node` is multiplied by `factor`.
    #[schemars(extend("not" = { "required": ["count", "percent"] }))]
    Slowdown {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The node acted on.
        node: String,
        /// The zone acted on, or to which the node's replicas are restricted.
        zone: Option<String>,
        /// How many replicas, drawn from the seed; excludes `percent`.
        #[schemars(range(min = 1))]
        count: Option<u32>,
        /// Share of the replicas in percent, drawn from the seed; excludes `count`.
        #[schemars(range(max = 100), extend("exclusiveMinimum" = 0))]
        percent: Option<f64>,
        /// The multiplier, above 0.
        #[schemars(extend("exclusiveMinimum" = 0))]
        factor: f64,
    },
    /// Replicas of `node` keep `workers` workers each.
    #[schemars(extend("not" = { "required": ["count", "percent"] }))]
    Capacity {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The node acted on.
        node: String,
        /// The zone acted on, or to which the node's replicas are restricted.
        zone: Option<String>,
        /// How many replicas, drawn from the seed; excludes `percent`.
        #[schemars(range(min = 1))]
        count: Option<u32>,
        /// Share of the replicas in percent, drawn from the seed; excludes `count`.
        #[schemars(range(max = 100), extend("exclusiveMinimum" = 0))]
        percent: Option<f64>,
        /// Workers left per replica.
        workers: u32,
    },
    /// The cache `node` is emptied at `start` and refills; instantaneous (no `duration`).
    #[schemars(extend("not" = { "required": ["count", "percent"] }))]
    CacheFlush {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// The node acted on.
        node: String,
        /// The zone acted on, or to which the node's replicas are restricted.
        zone: Option<String>,
        /// How many replicas, drawn from the seed; excludes `percent`.
        #[schemars(range(min = 1))]
        count: Option<u32>,
        /// Share of the replicas in percent, drawn from the seed; excludes `count`.
        #[schemars(range(max = 100), extend("exclusiveMinimum" = 0))]
        percent: Option<f64>,
        /// Time constant of the hit ratio's return; default 1m.
        refill: Option<Duration>,
    },
    /// The hit ratio of the cache `node` is forced to `value`.
    #[schemars(extend("not" = { "required": ["count", "percent"] }))]
    HitRatio {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The node acted on.
        node: String,
        /// The zone acted on, or to which the node's replicas are restricted.
        zone: Option<String>,
        /// How many replicas, drawn from the seed; excludes `percent`.
        #[schemars(range(min = 1))]
        count: Option<u32>,
        /// Share of the replicas in percent, drawn from the seed; excludes `count`.
        #[schemars(range(max = 100), extend("exclusiveMinimum" = 0))]
        percent: Option<f64>,
        /// The forced hit ratio, in [0, 1].
        #[schemars(range(min = 0, max = 1))]
        value: f64,
    },
    /// `workload`'s traffic is multiplied by `factor` (the extra requests are a superposed
    /// stream).
    TrafficSpike {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The workload whose traffic grows.
        workload: String,
        /// The multiplier, above 0.
        #[schemars(extend("exclusiveMinimum" = 0))]
        factor: f64,
    },
    /// Zonal shift (AWS ARC): balancers stop sending new calls to the replicas in `zone` (of
    /// `nodes`, or of every service and cache there), which stay up and finish their work;
    /// user traffic entering `zone` enters the other zones.
    ZonalShift {
        /// When the fault starts, from time 0 of the run (warm-up included).
        start: Duration,
        /// How long the fault lasts; default: to the end of the run.
        duration: Option<Duration>,
        /// The zone traffic is moved away from.
        zone: String,
        /// Only these services and caches (placed in `zone`); default: every one there.
        #[schemars(length(min = 1), extend("uniqueItems" = true))]
        nodes: Option<Vec<String>>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_draft_2020_12_and_closed() {
        for text in [model_schema(), scenario_schema()] {
            let schema: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(
                schema["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
            assert_eq!(schema["additionalProperties"], false);
            assert!(!text.contains("\"null\""), "TOML has no null");
        }
    }

    #[test]
    fn every_bundled_file_reads_into_the_vocabulary() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (dir, scenario) in [("models", false), ("scenarios", true)] {
            for entry in std::fs::read_dir(root.join(dir)).expect("directory") {
                let path = entry.expect("entry").path();
                if path.extension().is_none_or(|e| e != "toml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("readable");
                let read = if scenario {
                    toml::from_str::<ScenarioFile>(&text).map(|_| ())
                } else {
                    toml::from_str::<Model>(&text).map(|_| ())
                };
                read.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }

    /// The scenario schema's faults are the fault kinds of `FAULT_KINDS`, in its order, each
    /// with exactly the keys its spec lists.
    #[test]
    fn the_fault_union_is_the_table_of_fault_kinds() {
        let schema: Value = serde_json::from_str(&scenario_schema()).expect("JSON");
        let variants = schema["$defs"]["Fault"]["oneOf"]
            .as_array()
            .expect("faults are a union");
        let kinds = super::super::fault_kinds::FAULT_KINDS;
        assert_eq!(variants.len(), kinds.len());
        for (variant, spec) in variants.iter().zip(kinds) {
            let properties = variant["properties"].as_object().expect("properties");
            assert_eq!(properties["kind"]["const"], spec.name);
            let mut keys: Vec<&str> = properties.keys().map(String::as_str).collect();
            let mut expected = spec.keys.to_vec();
            keys.sort_unstable();
            expected.sort_unstable();
            assert_eq!(keys, expected, "{}", spec.name);
        }
    }

    /// The model schema has a table of tables per node kind of `NODE_KINDS`, each node taking
    /// exactly the keys its spec lists.
    #[test]
    fn the_node_tables_are_the_table_of_node_kinds() {
        let schema: Value = serde_json::from_str(&model_schema()).expect("JSON");
        for spec in super::super::node_kinds::NODE_KINDS {
            let (first, rest) = spec.name.split_at(1);
            let name = format!("{}{rest}", first.to_uppercase());
            let reference = &schema["properties"][spec.name]["additionalProperties"]["$ref"];
            assert_eq!(*reference, format!("#/$defs/{name}"));
            let properties = schema["$defs"][&name]["properties"]
                .as_object()
                .expect("properties");
            let mut keys: Vec<&str> = properties.keys().map(String::as_str).collect();
            let mut expected = spec.keys.to_vec();
            keys.sort_unstable();
            expected.sort_unstable();
            assert_eq!(keys, expected, "{}", spec.name);
        }
    }
}
