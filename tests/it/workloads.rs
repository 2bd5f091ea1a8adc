//! Workloads: time-varying open-loop rates and closed-loop users.
//!
//! Arrival counts per interval are checked against the integral of the rate (Poisson: within
//! 4 standard deviations, sqrt of the expected count; constant: within one request), closed
//! loops against the interactive response-time law and the machine-repairman closed form, and
//! open against closed loop under the same capacity loss. Sample sizes and tolerances are
//! written beside each assertion.

use std::path::Path;

use blastradius::analysis::Findings;
use blastradius::analysis::study_recorded;
use blastradius::model::{Rate, Scenario, Topology, Traffic, load_scenario, parse_model};
use blastradius::report::{to_json, to_text};
use blastradius::sim::{self, RecordStatus, RequestRecord, RunConfig, RunOutcome, RunResult};

const SECOND: u64 = 1_000_000_000;

/// One workload `w` into a service `s` with plenty of workers and a 1 ms constant service time.
fn open_model(rate: &str, arrival: &str) -> Topology {
    let text = format!(
        r#"
name = "shaped"
zones = ["z"]

[workload.w]
target = "s"
rate = {rate}
arrival = "{arrival}"

[service.s]
zones = ["z"]
workers = 64
service_time = {{ dist = "constant", value = "1ms" }}
"#
    );
    parse_model(Path::new("shaped.toml"), &text).expect("test model is valid")
}

fn run_recorded(topology: &Topology, seconds: u64, warmup_s: u64, seed: u64) -> RunResult {
    let config = RunConfig {
        record_requests: true,
        ..RunConfig::plain(seed, seconds * SECOND, warmup_s * SECOND)
    };
    let result = sim::run(topology, &config);
    assert_eq!(result.outcome, RunOutcome::Completed);
    result
}

fn rate_of(topology: &Topology) -> Rate {
    match topology.workloads[0].traffic {
        Traffic::Open(rate) => rate,
        Traffic::Closed(_) => panic!("an open loop"),
    }
}

/// Arrivals per `interval_s` against Λ(b) - Λ(a); `slack(expected)` is the tolerance.
fn check_counts(
    what: &str,
    topology: &Topology,
    seconds: u64,
    interval_s: u64,
    slack: impl Fn(f64) -> f64,
) {
    let rate = rate_of(topology);
    let result = run_recorded(topology, seconds, 0, 11);
    let mut counts = vec![0u64; (seconds / interval_s) as usize];
    for record in &result.requests[0] {
        let slot = (record.arrived_ns / (interval_s * SECOND)) as usize;
        if let Some(count) = counts.get_mut(slot) {
            *count += 1;
        }
    }
    for (i, &n) in counts.iter().enumerate() {
        let (a, b) = (
            i as u64 * interval_s * SECOND,
            (i as u64 + 1) * interval_s * SECOND,
        );
        let expected = rate.expected(b) - rate.expected(a);
        let allowed = slack(expected);
        assert!(
            (n as f64 - expected).abs() <= allowed,
            "{what}: interval {i}: {n} arrivals, the rate's integral gives {expected:.1} (± {allowed:.1})"
        );
    }
}

/// Poisson: a count is Poisson(expected); 4 standard deviations, sqrt(expected).
fn four_sigma(expected: f64) -> f64 {
    4.0 * expected.sqrt()
}

/// Constant arrivals at Λ⁻¹(k): the count in an interval is within one of the integral.
fn one_request(_: f64) -> f64 {
    1.0 + 1e-9
}

const STEP: &str = r#"{ shape = "step", from = 500, to = 1500, at = "30s" }"#;
const RAMP: &str = r#"{ shape = "ramp", from = 200, to = 2000, start = "10s", end = "70s" }"#;
const SINE: &str =
    r#"{ shape = "sine", mean = 1000, amplitude = 400, period = "60s", phase = "5s" }"#;

#[test]
fn poisson_arrivals_of_a_varying_rate_follow_its_integral() {
    // 90 s in 5 s intervals, 1,000 to 10,000 expected arrivals each (100k per shape): each
    // count within 4 sigma of the rate's integral over the interval.
    for (what, rate) in [("step", STEP), ("ramp", RAMP), ("sine", SINE)] {
        check_counts(what, &open_model(rate, "poisson"), 90, 5, four_sigma);
    }
}

#[test]
fn constant_arrivals_of_a_varying_rate_match_its_integral_exactly() {
    // 90 s in 1 s intervals: each count within one request of the integral.
    for (what, rate) in [("step", STEP), ("ramp", RAMP), ("sine", SINE)] {
        check_counts(what, &open_model(rate, "constant"), 90, 1, one_request);
    }
}

#[test]
fn a_constant_rate_written_as_a_step_that_never_steps_gives_the_same_count() {
    // A step from 1000 to 1000 is the constant rate through the time-rescaled path: over 60 s
    // both give 60,000 ± 4 sigma (sqrt(60,000) = 245) arrivals.
    let plain = run_recorded(&open_model("1000", "poisson"), 60, 0, 3);
    let step = open_model(
        r#"{ shape = "step", from = 1000, to = 1000, at = "1s" }"#,
        "poisson",
    );
    let shaped = run_recorded(&step, 60, 0, 3);
    for result in [&plain, &shaped] {
        let n = result.requests[0].len() as f64;
        assert!(
            (n - 60_000.0).abs() < 4.0 * 60_000f64.sqrt(),
            "{n} arrivals"
        );
    }
}

// ---- closed loop ------------------------------------------------------------------------

/// `users` users thinking `think` (exponential mean) into one service with `workers` workers
/// and an exponential service time of mean `service`.
fn closed_model(users: u32, think: &str, workers: u32, service: &str, timeout: &str) -> String {
    format!(
        r#"
name = "closed"
zones = ["z"]

[workload.w]
target = "s"
users = {users}
think_time = {{ dist = "exponential", mean = "{think}" }}
{timeout}

[service.s]
zones = ["z"]
workers = {workers}
service_time = {{ dist = "exponential", mean = "{service}" }}
"#
    )
}

/// The machine-repairman model M/M/1//N: N users thinking at rate λ each, one server at rate
/// μ. p0 = 1 / Σ_{n=0..N} N!/(N-n)! (λ/μ)^n; throughput X = μ (1 - p0); R = N / X - Z.
fn repairman_throughput(users: u32, think_s: f64, service_s: f64) -> f64 {
    let rho = service_s / think_s;
    let (mut term, mut sum) = (1.0, 1.0);
    for n in 1..=users {
        term *= f64::from(users - n + 1) * rho;
        sum += term;
    }
    (1.0 - 1.0 / sum) / service_s
}

#[test]
fn closed_loop_obeys_the_interactive_response_time_law_and_the_repairman_closed_form() {
    // N = 10 users, think 20 ms, one server at 2 ms: offered N·S/Z = 1.0, a busy server.
    // 400 s measured at ~450 requests/s = ~180k requests; throughput's standard error is well
    // under 1%. Tolerances: 2% on X against M/M/1//N and against N / (R + Z), 3% on R.
    let topology = parse_model(
        Path::new("closed.toml"),
        &closed_model(10, "20ms", 1, "2ms", ""),
    )
    .expect("valid");
    let result = run_recorded(&topology, 420, 20, 5);
    let metrics = &result.workloads[0];
    let measured_s = 400.0;
    let x = metrics.outcomes.ok as f64 / measured_s;
    let r_s = metrics.latency.mean_ns() / 1e9;
    let expected_x = repairman_throughput(10, 0.020, 0.002);
    let expected_r = 10.0 / expected_x - 0.020;
    let error = |m: f64, e: f64| (m / e - 1.0).abs();
    assert!(
        error(x, expected_x) < 0.02,
        "X {x:.1}/s, M/M/1//N {expected_x:.1}/s"
    );
    assert!(
        error(r_s, expected_r) < 0.03,
        "R {:.3} ms, M/M/1//N {:.3} ms",
        r_s * 1e3,
        expected_r * 1e3
    );
    let law = 10.0 / (r_s + 0.020);
    assert!(error(x, law) < 0.02, "X {x:.1}/s, N/(R+Z) {law:.1}/s");
    // The users' time splits into waiting and thinking: mean waiting = X · R (Little), 2%.
    let users = result.users[0].expect("closed loop");
    assert!(
        error(users.mean_waiting, x * r_s) < 0.02,
        "mean waiting {:.3}, X·R {:.3}",
        users.mean_waiting,
        x * r_s
    );
}

/// Writes a model and a scenario with `faults` into a temporary directory and loads it.
fn load(model: &str, duration: &str, faults: &str) -> Scenario {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("model.toml"), model).expect("write model");
    let path = dir.path().join("scenario.toml");
    let scenario = format!(
        "name = \"test\"\nmodel = \"model.toml\"\nduration = \"{duration}\"\nwarmup = \"5s\"\n\
         seed = 9\n\n{faults}\n"
    );
    std::fs::write(&path, scenario).expect("write scenario");
    load_scenario(&path).unwrap_or_else(|e| panic!("test scenario does not load:\n{e}"))
}

/// The most requests in flight at once, from the records (an unended one until `end_ns`).
fn most_in_flight(records: &[RequestRecord], end_ns: u64) -> usize {
    let mut edges: Vec<(u64, i32)> = Vec::new();
    for r in records.iter().filter(|r| r.status != RecordStatus::NotSent) {
        let end = match r.status {
            RecordStatus::InFlight => end_ns,
            _ => r.arrived_ns + r.latency_ns,
        };
        edges.push((r.arrived_ns, 1));
        edges.push((end, -1));
    }
    edges.sort_by_key(|&(t, d)| (t, d));
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most as usize
}

const CAPACITY_FAULT: &str = r#"
[[fault]]
kind = "capacity"
node = "s"
workers = 2
start = "20s"
duration = "20s"
"#;

#[test]
fn overload_feeds_itself_in_an_open_loop_and_not_in_a_closed_one() {
    // One replica of 4 workers at 10 ms (400/s); the fault leaves 2 (200/s) for 20 s.
    // Open loop at 300/s: the queue grows by 100/s for 20 s (2,000 waiting, 10 s of work), the
    // 2 s client timeouts abandon requests whose work still runs, and the backlog outlives the
    // fault. Closed loop with 300 users thinking 1 s (~290/s): at most 300 requests can wait
    // (1.5 s at 200/s, within the timeout), so nothing fails and it recovers at once.
    let service = r#"
[service.s]
zones = ["z"]
workers = 4
service_time = { dist = "exponential", mean = "10ms" }
"#;
    let open = format!(
        "name = \"open\"\nzones = [\"z\"]\n\n[workload.w]\ntarget = \"s\"\nrate = 300\ntimeout = \"2s\"\n{service}"
    );
    let closed = closed_model(300, "1s", 4, "10ms", "timeout = \"2s\"");
    let (open, closed) = (
        load(&open, "90s", CAPACITY_FAULT),
        load(&closed, "90s", CAPACITY_FAULT),
    );
    let (open_study, closed_study) = (study_recorded(&open), study_recorded(&closed));
    let end = 90 * SECOND;
    // Open: requests keep arriving, so the requests in flight grow until the 2 s client
    // timeout caps them near 300/s × 2 s = 600 (the control: a handful) — well past the closed
    // loop's N = 300 — and the failures outlast the fault.
    let open_most = most_in_flight(&open_study.experiment.requests[0], end);
    let control_most = most_in_flight(&open_study.control.requests[0], end);
    assert!(
        open_most > 450 && control_most < 50,
        "open loop: at most {open_most} in flight (control {control_most})"
    );
    let after = |r: &RunResult| r.workloads[0].windows[2].outcomes.failed();
    assert!(
        after(&open_study.experiment) > 100 && after(&open_study.control) == 0,
        "open loop: {} failures after the fault ended (control {})",
        after(&open_study.experiment),
        after(&open_study.control)
    );
    // Closed: never more than N = 300 in flight, no failure, recovered within 2 s.
    let closed_most = most_in_flight(&closed_study.experiment.requests[0], end);
    assert!(closed_most <= 300, "closed loop: {closed_most} in flight");
    assert_eq!(closed_study.experiment.workloads[0].outcomes.failed(), 0);
    let recovered = |s: &blastradius::analysis::Study| match s.analysis.recovery[0].status {
        blastradius::analysis::RecoveryStatus::Recovered { after_ns } => Some(after_ns),
        _ => None,
    };
    assert!(
        recovered(&closed_study).is_some_and(|t| t <= 2 * SECOND),
        "closed loop recovery: {:?}",
        closed_study.analysis.recovery[0].status
    );
    assert!(
        recovered(&open_study).is_none_or(|t| t > 5 * SECOND),
        "open loop recovery: {:?}",
        open_study.analysis.recovery[0].status
    );
}

const NOTHING: &str = r#"
[[fault]]
kind = "latency"
edge = "idle->s"
latency = { dist = "constant", value = "1s" }
start = "10s"
duration = "10s"
"#;

fn closed_with_idle() -> String {
    closed_model(100, "200ms", 8, "5ms", "timeout = \"2s\"")
        + r#"
[service.idle]
zones = ["z"]
service_time = { dist = "constant", value = "1ms" }
calls = [{ to = "s" }]
"#
}

#[test]
fn closed_loop_pairs_by_user_and_request_and_counts_the_requests_never_sent() {
    // A fault on an edge no request takes: the same requests, the same records, none hurt.
    let scenario = load(&closed_with_idle(), "40s", NOTHING);
    let same = study_recorded(&scenario);
    assert_eq!(same.control.requests, same.experiment.requests);
    assert_eq!(same.control.request_keys, same.experiment.request_keys);
    let blast = same.analysis.blast_radius.as_ref().expect("faults");
    let harm = &blast.workloads["w"];
    assert_eq!((harm.hurt, harm.not_sent), (0, Some(0)));
    assert!(harm.paired > 10_000, "{} paired", harm.paired);

    // 8 workers at 5 ms slowed × 20 for 10 s (capacity 1,600/s -> 80/s; the users offer
    // ~490/s): users wait, so they send fewer requests, and every one the control sent and the
    // experiment did not is counted as not sent.
    let slow = r#"
[[fault]]
kind = "slowdown"
node = "s"
factor = 20
start = "10s"
duration = "10s"
"#;
    let scenario = load(&closed_with_idle(), "40s", slow);
    let result = study_recorded(&scenario);
    let (control, experiment) = (&result.control, &result.experiment);
    let sent = |r: &RunResult| r.users[0].expect("closed").sent;
    let missing = sent(control) - sent(experiment);
    // ~490/s offered against ~80/s for 10 s: thousands fewer.
    assert!(missing > 2_000, "the experiment sent {missing} fewer");
    // Independently: control keys (counted, sent) that the experiment has no record for.
    let keys: std::collections::BTreeSet<(u32, u32)> =
        experiment.request_keys[0].iter().copied().collect();
    let expected = control.request_keys[0]
        .iter()
        .zip(&control.requests[0])
        .filter(|(k, r)| r.counted && !keys.contains(k))
        .count() as u64;
    let harm = &result
        .analysis
        .blast_radius
        .as_ref()
        .expect("faults")
        .workloads["w"];
    assert_eq!(harm.not_sent, Some(expected));
    assert!(expected > 2_000 && harm.hurt > 0);
    // And the reports show it.
    let document = Findings::new(&scenario, &result);
    let text = to_text(&document);
    assert!(
        text.contains(&format!("not sent: {expected} requests")),
        "{text}"
    );
    assert!(text.contains("100 users, think time mean 200ms"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&to_json(&document)).expect("json");
    assert_eq!(json["blast_radius"]["workloads"]["w"]["not_sent"], expected);
    let users = &json["workloads"]["w"]["traffic"]["users"];
    assert_eq!(users["users"], 100);
    let waiting = |run: &str| users[run]["mean_waiting"].as_f64().expect("number");
    assert!(waiting("experiment") > 2.0 * waiting("control"), "{users}");
}

#[test]
fn a_traffic_spike_on_a_closed_loop_adds_users_for_its_duration() {
    // Factor 1.5 on 100 users: 50 extra users for 10 s, each sending ~5/s (think 200 ms):
    // ~2,500 extra requests (between 1,500 and 3,500), and the base users' pairs unaffected
    // except through load (8 workers at 5 ms carry ~735/s easily).
    let spike = r#"
[[fault]]
kind = "traffic-spike"
workload = "w"
factor = 1.5
start = "10s"
duration = "10s"
"#;
    let scenario = load(&closed_with_idle(), "40s", spike);
    let result = study_recorded(&scenario);
    let users = result.experiment.users[0].expect("closed");
    assert_eq!(users.extra_users, 50);
    let extra = result.experiment.extra_requests[0];
    assert!((1_500..3_500).contains(&extra), "{extra} extra requests");
    let text = to_text(&Findings::new(&scenario, &result));
    assert!(text.contains("plus 50 extra users"), "{text}");
}

#[test]
fn a_varying_rate_is_shown_with_its_offered_requests_per_step() {
    let model = r#"
name = "diurnal"
zones = ["z"]

[workload.w]
target = "s"
rate = { shape = "sine", mean = 200, amplitude = 100, period = "20s" }

[service.s]
zones = ["z"]
workers = 16
service_time = { dist = "constant", value = "1ms" }
"#;
    let scenario = load(model, "40s", "");
    let result = study_recorded(&scenario);
    let document = Findings::new(&scenario, &result);
    let text = to_text(&document);
    assert!(
        text.contains("w: sine 200/s ± 100/s, period 20s (peak 300/s)"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&to_json(&document)).expect("json");
    let traffic = &json["workloads"]["w"]["traffic"];
    assert_eq!(traffic["shape"], "sine");
    let offered: Vec<f64> = traffic["offered_per_step"]
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect();
    let completed = json["workloads"]["w"]["control"]["series"]["completed"]
        .as_array()
        .expect("array");
    assert_eq!(offered.len(), completed.len());
    // Steps of 1 s: 40 steps of 100 to 300 requests; the sum is the integral, 8,000 over two
    // periods, and the completed requests follow within 4 sigma per step (a 1 ms service time
    // ends a request within its step or the next, so compare sums over pairs of steps).
    assert!((offered.iter().sum::<f64>() - 8_000.0).abs() < 1e-6);
    for i in (0..40).step_by(2) {
        let e = offered[i] + offered[i + 1];
        let n = completed[i].as_u64().expect("count") + completed[i + 1].as_u64().expect("count");
        assert!(
            (n as f64 - e).abs() < 4.0 * e.sqrt() + 2.0,
            "steps {i}-{}: {n} completed, {e:.0} offered",
            i + 1
        );
    }
}
