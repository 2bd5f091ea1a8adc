//! The `queue` node: conservation of messages, delivery delay against queueing theory, one
//! message at a time per partition, lag during a consumer crash, poison messages dead-lettered
//! after `max_deliveries`, broker zone outages, the queue hypotheses, and bad input.
//!
//! Where a number is random the sample size and the tolerance are written beside the assertion.

use std::path::Path;

use blastradius::analysis::Findings;
use blastradius::analysis::{Study, study};
use blastradius::metrics::Cause;
use blastradius::metrics::queue::QueueMetrics;
use blastradius::model::{Code, Scenario, Topology, load_scenario, parse_model};
use blastradius::report::{to_json, to_text};
use blastradius::sim::{self, RunConfig, RunOutcome, RunResult};

const MS: f64 = 1e6;
const SECOND: u64 = 1_000_000_000;

/// A producer `api` (in `api_zones`) publishing every request to `events` (in `broker_zones`),
/// consumed by `worker`, which calls `dep` (an external with `error_rate`).
struct Shape<'a> {
    rate: f64,
    api_zones: &'a str,
    broker_zones: &'a str,
    partitions: u32,
    max_deliveries: u32,
    worker_zones: &'a str,
    worker_replicas: u32,
    worker_time: &'a str,
    error_rate: f64,
}

impl Default for Shape<'_> {
    fn default() -> Self {
        Shape {
            rate: 50.0,
            api_zones: r#"["a", "b"]"#,
            broker_zones: r#"["a", "b"]"#,
            partitions: 4,
            max_deliveries: 3,
            worker_zones: r#"["a", "b"]"#,
            worker_replicas: 2,
            worker_time: r#"{ dist = "exponential", mean = "10ms" }"#,
            error_rate: 0.0,
        }
    }
}

impl Shape<'_> {
    fn model(&self) -> String {
        format!(
            r#"
name = "q"
zones = ["a", "b"]

[workload.w]
target = "api"
rate = {rate}
timeout = "2s"

[service.api]
zones = {api_zones}
workers = 64
concurrency = "async"
service_time = {{ dist = "constant", value = "1ms" }}
calls = [{{ to = "events", timeout = "100ms" }}]

[queue.events]
zones = {broker_zones}
ack = {{ dist = "constant", value = "2ms" }}
partitions = {partitions}
consumer = "worker"
max_deliveries = {max_deliveries}
visibility_timeout = "1s"

[service.worker]
zones = {worker_zones}
replicas = {worker_replicas}
workers = 16
concurrency = "async"
service_time = {worker_time}
calls = [{{ to = "dep" }}]

[external.dep]
latency = {{ dist = "constant", value = "0ms" }}
error_rate = {error_rate}
"#,
            rate = self.rate,
            api_zones = self.api_zones,
            broker_zones = self.broker_zones,
            partitions = self.partitions,
            max_deliveries = self.max_deliveries,
            worker_zones = self.worker_zones,
            worker_replicas = self.worker_replicas,
            worker_time = self.worker_time,
            error_rate = self.error_rate,
        )
    }

    fn topology(&self) -> Topology {
        parse_model(Path::new("q.toml"), &self.model())
            .unwrap_or_else(|e| panic!("test model is valid:\n{e}"))
    }
}

/// A plain run without warm-up, so every message is counted.
fn simulate(topology: &Topology, seconds: u64) -> RunResult {
    let config = RunConfig::plain(11, seconds * SECOND, 0);
    let result = sim::run(topology, &config);
    assert_eq!(result.outcome, RunOutcome::Completed);
    result
}

fn queue(result: &RunResult) -> &QueueMetrics {
    assert_eq!(result.queues.len(), 1, "one queue");
    &result.queues[0].metrics
}

/// Writes the model and a scenario into a temporary directory and studies it.
fn studied(model: &str, body: &str) -> (Scenario, Study) {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("model.toml"), model).expect("write model");
    let path = dir.path().join("scenario.toml");
    let text = format!(
        "name = \"q\"\nmodel = \"model.toml\"\nduration = \"150s\"\nwarmup = \"10s\"\n\
         seed = 3\n\n{body}\n"
    );
    std::fs::write(&path, text).expect("write scenario");
    let scenario = load_scenario(&path).unwrap_or_else(|e| panic!("scenario loads:\n{e}"));
    let study = study(&scenario);
    (scenario, study)
}

const CONSUMER_CRASH: &str = r#"
[[fault]]
kind = "crash"
node = "worker"
start = "60s"
duration = "30s"
"#;

#[test]
fn steady_state_conserves_messages_and_delay_is_the_consumer_time() {
    // 50/s over 4 partitions, 10 ms exponential service: each partition is a queue at
    // utilisation 0.125. Its arrivals are every 4th of a Poisson stream (Erlang-4 gaps), which
    // wait less than Poisson ones, so the mean publish-to-ack delay lies between the service
    // time (10 ms) and the M/M/1 sojourn 1/(100 - 12.5) s = 11.43 ms. 200 s = ~10,000
    // messages: the mean's standard error is ~1%, tolerance 3% beyond each end.
    let topology = Shape::default().topology();
    let result = simulate(&topology, 200);
    let q = queue(&result);
    let worker = &result.nodes[topology.node_id("worker").unwrap().index()].outcomes;
    let c = q.total.counts;
    assert!(c.published > 9_000, "published {}", c.published);
    assert_eq!(
        c.published,
        c.acknowledged + c.dead_lettered + q.stored_at_end,
        "every published message is acknowledged, dead-lettered or still stored"
    );
    assert_eq!(c.dead_lettered, 0);
    assert_eq!(c.redelivered, 0);
    // Deliveries not yet acknowledged are those the consumer still held at the end: at most
    // one per partition, and only of messages still stored.
    let held = worker.in_flight;
    assert_eq!(c.delivered, c.acknowledged + held);
    assert!(held <= q.stored_at_end.min(4), "{held} held");
    let mean = q.total.delay.mean_ns() / MS;
    assert!(
        (10.0 * 0.97..11.43 * 1.03).contains(&mean),
        "mean delay {mean:.3} ms"
    );
    // Lag: the chance of 20 messages waiting at this load is negligible (< 1e-9 per partition
    // per busy period at utilisation 0.125).
    assert!(q.total.max_lag < 20, "max lag {}", q.total.max_lag);
    // The publisher sees the 2 ms ack, not the consumer: its p99 is 1 ms own + 2 ms ack.
    let api = &result.workloads[0].latency;
    assert_eq!(api.quantile_ns(0.99) / 1_000_000, 3);
    // The consumer served exactly the deliveries.
    assert_eq!(worker.requests, c.delivered);
}

#[test]
fn one_partition_is_consumed_one_message_at_a_time() {
    // partitions = 1 with 32 consumer workers: if messages were processed concurrently the
    // delay would be the 10 ms service time. One at a time makes an M/D/1 queue: at 50/s,
    // rho = 0.5, W = S + rho S / (2 (1 - rho)) = 15 ms. 200 s = ~10,000 messages; M/D/1's
    // relaxation at rho 0.5 keeps the standard error of the mean under 2%; tolerance 5%.
    let shape = Shape {
        partitions: 1,
        worker_time: r#"{ dist = "constant", value = "10ms" }"#,
        ..Shape::default()
    };
    let result = simulate(&shape.topology(), 200);
    let q = queue(&result);
    let mean = q.total.delay.mean_ns() / MS;
    assert!((mean / 15.0 - 1.0).abs() < 0.05, "mean delay {mean:.3} ms");
    // Never faster than one service time: no message overtook another.
    // (The histogram keeps two significant digits: 1% below is the same bucket.)
    assert!(q.total.delay.quantile_ns(0.0) >= 9_900_000);
    // The same model with 8 partitions is ~concurrent: the delay falls towards 10 ms.
    let wide = Shape {
        partitions: 8,
        ..shape
    };
    let wide = simulate(&wide.topology(), 200);
    let wide_mean = queue(&wide).total.delay.mean_ns() / MS;
    assert!(
        wide_mean < 11.0,
        "8 partitions: mean delay {wide_mean:.3} ms"
    );
}

#[test]
fn a_consumer_crash_grows_lag_at_the_publish_rate_then_drains() {
    // 100/s, every worker replica down from 60 s to 90 s. The lag's maximum in the step that
    // ends at 90 s is the messages published in [60 s, 90 s): Poisson with mean 3,000
    // (sd 55), plus at most one in-flight message per partition (4) lost with the replicas.
    // Between the steps ending at 70 s and at 90 s it grows by 2,000 (sd 45). Tolerance 4 sd.
    let shape = Shape {
        rate: 100.0,
        ..Shape::default()
    };
    let (_, study) = studied(&shape.model(), CONSUMER_CRASH);
    let q = queue(&study.experiment);
    let lag_at = |s: usize| q.series[s - 1].lag as f64;
    let at_end = lag_at(90);
    assert!((at_end - 3_000.0).abs() < 4.0 * 55.0 + 4.0, "lag {at_end}");
    let growth = lag_at(90) - lag_at(70);
    assert!((growth - 2_000.0).abs() < 4.0 * 45.0, "growth {growth}");
    // The oldest message is as old as the crash (30 s, within one 1 s step).
    let age = q.series[89].age_ns as f64 / SECOND as f64;
    assert!((29.0..=31.0).contains(&age), "age {age}");
    // It drains: 4 partitions at 10 ms drain ~400/s against 100/s published, so 3,000
    // messages take ~10 s; by 120 s the lag is back to a handful.
    assert!(lag_at(120) < 20.0, "lag after draining {}", lag_at(120));
    assert_eq!(q.total.counts.dead_lettered, 0, "nothing dead-lettered");
    // The control never lags.
    assert!(queue(&study.control).total.max_lag < 30);
    // The workload is untouched: publishing does not depend on the consumer.
    let w = &study.experiment.workloads[0].outcomes;
    assert_eq!(w.failed(), 0);
}

#[test]
fn poison_messages_are_delivered_max_deliveries_times_then_dead_lettered() {
    // Every call of the consumer to its dependency fails: each message is delivered exactly
    // `max_deliveries` (3) times, then dead-lettered. No randomness in the count: exact.
    let shape = Shape {
        error_rate: 1.0,
        rate: 20.0,
        ..Shape::default()
    };
    let topology = shape.topology();
    let result = simulate(&topology, 60);
    let q = queue(&result);
    let c = q.total.counts;
    let worker = &result.nodes[topology.node_id("worker").unwrap().index()].outcomes;
    let dep = &result.nodes[topology.node_id("dep").unwrap().index()].outcomes;
    assert!(c.published > 1_000);
    assert_eq!(c.acknowledged, 0);
    assert_eq!(c.published, c.dead_lettered + q.stored_at_end);
    // Finished messages were delivered 3 times each; the ones still stored at most 3 times.
    assert!(c.delivered >= 3 * c.dead_lettered);
    assert!(c.delivered <= 3 * c.dead_lettered + 3 * q.stored_at_end);
    assert_eq!(
        c.redelivered,
        c.delivered - (c.dead_lettered + q.stored_at_end)
    );
    assert_eq!(worker.requests, c.delivered);
    // Every delivery failed at the consumer's dependency, but those the consumer still held
    // at the end (at most one per partition).
    let held = worker.in_flight;
    assert!(held <= q.stored_at_end.min(4), "{held} held");
    assert_eq!(
        dep.failed_by_cause[Cause::Error as usize],
        c.delivered - held
    );
}

#[test]
fn a_broker_survives_one_zone_down_and_fails_publishes_with_all_down() {
    // The producer and the consumer live in zone b only; the broker in a and b. An outage of
    // zone a leaves a broker replica up: no publish fails.
    let outage_a = r#"
[[fault]]
kind = "zone-outage"
zone = "a"
start = "60s"
duration = "30s"
"#;
    let shape = Shape {
        api_zones: r#"["b"]"#,
        worker_zones: r#"["b"]"#,
        ..Shape::default()
    };
    let (scenario, study) = studied(&shape.model(), outage_a);
    let events = scenario.topology.node_id("events").unwrap().index();
    let refused = |s: &Study| s.experiment.nodes[events].outcomes.failed();
    assert_eq!(refused(&study), 0, "one zone of two down: publishes go on");
    assert_eq!(study.experiment.workloads[0].outcomes.failed(), 0);
    // A broker only in zone a: the outage takes all its zones, every publish in those 30 s
    // fails with `no_replica` (50/s x 30 s = 1,500, sd 39; tolerance 4 sd).
    let only_a = Shape {
        broker_zones: r#"["a"]"#,
        ..shape
    };
    let (_, study) = studied(&only_a.model(), outage_a);
    let outcomes = &study.experiment.nodes[events].outcomes;
    let no_replica = outcomes.failed_by_cause[Cause::NoReplica as usize] as f64;
    assert!((no_replica - 1_500.0).abs() < 4.0 * 39.0, "{no_replica}");
    let w = &study.experiment.workloads[0].outcomes;
    assert_eq!(w.failed(), w.failed_by_cause[Cause::NoReplica as usize]);
    assert!(w.failed() > 0);
    // Stored messages survive: everything published was acknowledged or is still stored.
    let q = queue(&study.experiment);
    let c = q.total.counts;
    assert_eq!(c.published, c.acknowledged + q.stored_at_end);
}

#[test]
fn queue_hypotheses_pass_and_fail_as_they_should() {
    // During the 30 s consumer crash the oldest message ages to ~30 s: `message_age` max 5s
    // fails during and holds after (drained by ~100 s; the after window is 90-150 s, and its
    // maximum is reached at its start: ~30 s). So bound `after` loosely and `before` tightly.
    let shape = Shape {
        rate: 100.0,
        ..Shape::default()
    };
    let hypotheses = r#"
[[hypothesis]]
queue = "events"
metric = "message_age"
max = "5s"
window = "during"

[[hypothesis]]
queue = "events"
metric = "message_age"
max = "5s"
window = "before"

[[hypothesis]]
queue = "events"
metric = "lag"
max_increase = 100
window = "during"

[[hypothesis]]
queue = "events"
metric = "dead_letters"
max = 0

[[hypothesis]]
queue = "events"
metric = "delivery_p99"
max = "1s"
window = "before"
"#;
    let (scenario, study) = studied(&shape.model(), &format!("{CONSUMER_CRASH}{hypotheses}"));
    let results = &study.analysis.hypotheses;
    let pass: Vec<bool> = results.iter().map(|h| h.pass).collect();
    assert_eq!(pass, [false, true, false, true, true]);
    assert_eq!(results[0].workload, "events");
    let age = results[0].checks[0].experiment.unwrap() / SECOND as f64;
    assert!((29.0..=31.0).contains(&age), "age {age}");
    // Shown: the JSON has the queue section and the hypotheses, the text the queue table.
    let document = Findings::new(&scenario, &study);
    let json = to_json(&document);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let during = &value["queues"]["events"]["experiment"]["windows"]["during"];
    assert!(during["max_lag"].as_u64().unwrap() > 2_500);
    assert_eq!(value["hypotheses"][0]["metric"], "message_age");
    let text = to_text(&document);
    assert!(text.contains("\nqueues\n"), "{text}");
    assert!(text.contains("FAIL events message_age max 5s"), "{text}");
}

#[test]
fn reports_without_queues_have_no_queue_section() {
    let text = std::fs::read_to_string("scenarios/shop-steady-state.toml").unwrap();
    assert!(!text.contains("queue"));
    let scenario = load_scenario(Path::new("scenarios/shop-steady-state.toml")).unwrap();
    let study = study(&scenario);
    let document = Findings::new(&scenario, &study);
    assert!(!to_json(&document).contains("\"queues\""));
    assert!(!to_text(&document).contains("\nqueues\n"));
}

fn codes_of(model: &str) -> Vec<(Code, String)> {
    match parse_model(Path::new("bad.toml"), model) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics
            .items
            .iter()
            .map(|d| (d.code, d.message.clone()))
            .collect(),
    }
}

#[test]
fn bad_queue_input_gets_diagnostics() {
    let good = Shape::default().model();
    assert!(codes_of(&good).is_empty());
    // The consumer is also a workload's target.
    let targeted = good.replace("target = \"api\"", "target = \"worker\"");
    let found = codes_of(&targeted);
    assert!(
        found
            .iter()
            .any(|(c, m)| *c == Code::ConflictingKeys
                && m.contains("also the target of workload `w`")),
        "{found:?}"
    );
    // The consumer is called by another node.
    let called = good.replace("to = \"events\"", "to = \"worker\"");
    let found = codes_of(&called);
    assert!(
        found
            .iter()
            .any(|(c, m)| *c == Code::ConflictingKeys && m.contains("which consumes a queue")),
        "{found:?}"
    );
    // An unknown consumer, with a did-you-mean.
    let unknown = good.replace("consumer = \"worker\"", "consumer = \"wroker\"");
    let found = codes_of(&unknown);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Code::UnknownNode);
    // max_deliveries = 0 is out of range.
    let zero = good.replace("max_deliveries = 3", "max_deliveries = 0");
    let found = codes_of(&zero);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Code::OutOfRange);
    // A queue does not call anything.
    let calling = good.replace(
        "partitions = 4\n",
        "partitions = 4\ncalls = [{ to = \"dep\" }]\n",
    );
    assert_eq!(codes_of(&calling)[0].0, Code::UnknownKey);
}

#[test]
fn bad_queue_hypotheses_get_diagnostics() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("model.toml"), Shape::default().model()).unwrap();
    let check = |hypothesis: &str| -> Vec<(Code, String)> {
        let path = dir.path().join("s.toml");
        let text = format!(
            "name = \"q\"\nmodel = \"model.toml\"\nduration = \"60s\"\n\n[[hypothesis]]\n{hypothesis}\n"
        );
        std::fs::write(&path, text).unwrap();
        match load_scenario(&path) {
            Ok(_) => Vec::new(),
            Err(blastradius::model::LoadError::Invalid(d)) => d
                .items
                .iter()
                .map(|d| (d.code, d.message.clone()))
                .collect(),
            Err(e) => panic!("{e}"),
        }
    };
    assert!(check("queue = \"events\"\nmetric = \"lag\"\nmax = 10").is_empty());
    let found = check("queue = \"evnets\"\nmetric = \"lag\"\nmax = 10");
    assert_eq!(found[0].0, Code::UnknownNode, "{found:?}");
    let found = check("queue = \"api\"\nmetric = \"lag\"\nmax = 10");
    assert_eq!(
        found[0].0,
        Code::UnknownNode,
        "a service is not a queue: {found:?}"
    );
    let found = check("workload = \"w\"\nmetric = \"lag\"\nmax = 10");
    assert_eq!(found[0].0, Code::BadHypothesis, "{found:?}");
    let found = check("queue = \"events\"\nmetric = \"p99\"\nmax = \"1s\"");
    assert_eq!(found[0].0, Code::BadHypothesis, "{found:?}");
    let found = check("queue = \"events\"\nworkload = \"w\"\nmetric = \"lag\"\nmax = 1");
    assert_eq!(found[0].0, Code::ConflictingKeys, "{found:?}");
}
