//! Node mechanisms against the control or against exact expectations: queue timeouts,
//! LIFO and adaptive (CoDel) queue policies, health checks with their detection window, and
//! outlier ejection.
//!
//! Models use constant service times, so a request's latency is a known sum and routing can
//! be read off latencies; where a count is random its sample size and tolerance are stated.

use blastradius::analysis::Findings;
use blastradius::analysis::{Study, study_recorded};
use blastradius::metrics::{Cause, EndpointMetrics, Outcome};
use blastradius::model::{Scenario, load_scenario};
use blastradius::report::{to_json, to_text};
use blastradius::sim::{RecordStatus, RunOutcome};

const MS: u64 = 1_000_000;
const SECOND: u64 = 1_000_000_000;

fn run(model: &str, duration: &str, faults: &str) -> (Scenario, Study) {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("model.toml"), model).expect("write model");
    let path = dir.path().join("scenario.toml");
    let scenario = format!(
        "name = \"test\"\nmodel = \"model.toml\"\nduration = \"{duration}\"\nwarmup = \"2s\"\n\
         seed = 7\n\n{faults}\n"
    );
    std::fs::write(&path, scenario).expect("write scenario");
    let scenario = load_scenario(&path).unwrap_or_else(|e| panic!("does not load:\n{e}"));
    let result = study_recorded(&scenario);
    assert_eq!(result.control.outcome, RunOutcome::Completed);
    assert_eq!(result.experiment.outcome, RunOutcome::Completed);
    (scenario, result)
}

fn failed(metrics: &EndpointMetrics, cause: Cause) -> u64 {
    metrics.outcomes.failed_by_cause[cause as usize]
}

/// One service `s` with one replica of 4 workers, 10 ms of constant work, under `rate`/s, and
/// the extra keys; a capacity fault leaves it 1 worker (100/s) from 10 s to 20 s.
fn overloaded(rate: u32, keys: &str) -> (Scenario, Study) {
    let model = format!(
        r#"
name = "shed"
zones = ["az-a"]

[workload.w]
target = "s"
rate = {rate}
timeout = "200ms"

[service.s]
zones = ["az-a"]
workers = 4
service_time = {{ dist = "constant", value = "10ms" }}
{keys}
"#
    );
    let faults = r#"
[[fault]]
kind = "capacity"
node = "s"
workers = 1
start = "10s"
duration = "10s"
"#;
    run(&model, "30s", faults)
}

#[test]
fn queue_timeout_bounds_the_wait_of_answered_work_and_counts_the_shed() {
    let (_, with) = overloaded(300, "queue_timeout = \"50ms\"");
    let (_, without) = overloaded(300, "");
    let s = &with.experiment.nodes[0];
    // No frame starts after waiting more than 50 ms, and its work is 10 ms: every answered
    // latency is at most 60 ms (the histogram keeps two significant figures: +1%).
    assert!(
        s.latency.summary().max <= 60 * MS * 101 / 100,
        "{:?}",
        s.latency.summary()
    );
    // The bound is the mechanism's: without it the same overload queues for seconds.
    let unbounded = without.experiment.nodes[0].latency.summary().max;
    assert!(unbounded > SECOND, "{unbounded}");
    // 10 s at 300/s against 100/s of capacity: about 2,000 requests cannot be served; with the
    // timeout they are shed at the node (each shed frame answered at once, as `shed`), and
    // the cause reaches the users.
    let shed = failed(s, Cause::Shed);
    assert!((1_500..2_500).contains(&shed), "shed {shed}");
    assert_eq!(failed(&with.experiment.workloads[0], Cause::Shed), shed);
    // The control (75% load, 4 workers) never waits 50 ms: five services' worth.
    assert_eq!(failed(&with.control.nodes[0], Cause::Shed), 0);
}

/// Requests that arrived during the fault and were answered.
fn answered_during(study: &Study) -> u64 {
    let windows = study.windows.expect("faults give windows");
    study.experiment.requests[0]
        .iter()
        .filter(|r| (windows.during_start_ns..windows.after_start_ns).contains(&r.arrived_ns))
        .filter(|r| matches!(r.status, RecordStatus::Ended(Outcome::Ok)))
        .count() as u64
}

#[test]
fn lifo_answers_more_requests_within_the_client_timeout_than_fifo_under_overload() {
    let (_, fifo) = overloaded(300, "");
    let (_, lifo) = overloaded(300, "queue_policy = \"lifo\"");
    let (fifo_ok, lifo_ok) = (answered_during(&fifo), answered_during(&lifo));
    // One worker serves 100/s for 10 s: at most about 1,000 answers. FIFO serves the oldest,
    // whose client (200 ms timeout) has left once the queue is 20 deep, so almost none of its
    // work is answered in time; LIFO serves the newest, still-waiting request.
    assert!(lifo_ok >= 800, "lifo {lifo_ok}");
    assert!(fifo_ok * 4 < lifo_ok, "fifo {fifo_ok} lifo {lifo_ok}");
    // Same arrivals: the control runs agree whatever the policy when nothing queues long.
    assert_eq!(
        fifo.control.requests[0].len(),
        lifo.control.requests[0].len()
    );
}

#[test]
fn adaptive_policy_sheds_only_while_the_queue_stays_non_empty() {
    let keys = "queue_policy = \"adaptive\"\ncodel = { target = \"20ms\", interval = \"100ms\" }";
    let (_, adaptive) = overloaded(200, keys);
    let node = &adaptive.experiment.nodes[0];
    // Before the fault (50% load on 4 workers of 10 ms) the queue empties within 100 ms:
    // nothing shed, in the experiment's before window and in the whole control.
    assert_eq!(node.windows[0].outcomes.failed(), 0);
    assert_eq!(failed(&adaptive.control.nodes[0], Cause::Shed), 0);
    // During the overload (200/s on 100/s for 10 s) work is shed: about 1,000 requests
    // (Poisson sd ~45; at least half of them).
    let shed = node.windows[1].outcomes.failed_by_cause[Cause::Shed as usize];
    assert!(shed >= 500, "shed {shed}");
    // Served work waited at most `target` (20 ms) once overloaded, or the time to detect it
    // (100 ms) before: never beyond interval + target + the 10 ms of work.
    assert!(node.latency.summary().max <= 130 * MS * 101 / 100);
    // And the users are answered quickly: LIFO keeps serving the newest.
    let ok = answered_during(&adaptive);
    assert!(ok >= 800, "ok {ok}");
}

/// `api` in three zones, one replica each, health-checked every 2 s (3 failures out, 2 passes
/// in); az-b's replica is slowed twofold for the whole run, so whether a request was served
/// there shows in its latency (2 ms instead of 1 ms), and it crashes at 10 s for 20 s.
fn health_checked() -> (Scenario, Study) {
    let model = r#"
name = "checked"
zones = ["az-a", "az-b", "az-c"]

[workload.w]
target = "api"
rate = 300
timeout = "1s"

[service.api]
zones = ["az-a", "az-b", "az-c"]
workers = 256
service_time = { dist = "constant", value = "1ms" }
health_check = { interval = "2s", unhealthy = 3, healthy = 2 }
"#;
    let faults = r#"
[[fault]]
kind = "slowdown"
node = "api"
zone = "az-b"
factor = 2
start = "3s"
duration = "37s"

[[fault]]
kind = "crash"
node = "api"
zone = "az-b"
start = "10s"
restart_after = "20s"
"#;
    run(model, "40s", faults)
}

#[test]
fn health_checks_leave_a_detection_window_of_swallowed_calls_and_a_slow_return() {
    let (s, study) = health_checked();
    let az_b = s.topology.zone_id("az-b").expect("zone");
    // az-b's replica is the 2nd of 3: probed at 2/3 × 2 s, then every 2 s. The first probe
    // after the crash at 10 s fails at 10.67 s, the third takes it out at 14.67 s: the
    // detection delay is unhealthy × interval plus the probe phase, at most 3 × 2 s + 2 s.
    let phase = 2 * SECOND / 3;
    let out_at = phase + 5 * 2 * SECOND + 2 * 2 * SECOND;
    assert!(out_at - 10 * SECOND <= 4 * 2 * SECOND);
    // Restarted at 30 s, it passes at 30.67 s and 32.67 s: back after healthy × interval.
    let back_at = phase + 15 * 2 * SECOND + 2 * SECOND;
    let mut swallowed = 0;
    for (c, e) in study.control.requests[0]
        .iter()
        .zip(&study.experiment.requests[0])
    {
        assert_eq!(c.status, RecordStatus::Ended(Outcome::Ok));
        let in_b = e.zone == az_b;
        let at = e.arrived_ns;
        if in_b && (10 * SECOND - MS..out_at).contains(&at) {
            // Routed to the dead replica the balancer still lists: nobody answers.
            assert_eq!(
                e.status,
                RecordStatus::Ended(Outcome::Failed(Cause::ClientTimeout))
            );
            swallowed += 1;
            continue;
        }
        assert_eq!(e.status, RecordStatus::Ended(Outcome::Ok), "{e:?}");
        // Served by az-b's slowed replica (2 ms) only while the balancer lists it.
        let served_in_b = in_b && at >= 3 * SECOND && (at < 10 * SECOND || at >= back_at);
        let expected = if served_in_b { 2 * MS } else { MS };
        assert_eq!(e.latency_ns, expected, "{e:?}");
    }
    // A third of 300/s for 4.67 s: about 467 (Poisson sd ~22).
    assert!((380..560).contains(&swallowed), "{swallowed}");
    let stats = study.experiment.ejections[0];
    assert_eq!(stats.health_check_ejections, 1);
    assert_eq!(stats.health_check_returns, 1);
    assert_eq!(stats.out_of_balancer_ns, back_at - out_at);
    // Each swallowed call is one user's timeout and is counted at the node as lost (with the
    // one or two calls the replica held when it stopped).
    let calls_swallowed = stats.swallowed_calls;
    assert!(
        (swallowed - 2..=swallowed).contains(&calls_swallowed),
        "{calls_swallowed}"
    );
    let lost = failed(&study.experiment.nodes[0], Cause::Lost);
    assert!(lost >= calls_swallowed && lost <= swallowed + 2, "{lost}");
    assert_eq!(study.control.ejections[0], Default::default());
}

/// Without `health_check`, the balancer knows at once: no request is swallowed.
#[test]
fn without_health_checks_the_balancer_knows_at_once() {
    let model = r#"
name = "unchecked"
zones = ["az-a", "az-b", "az-c"]

[workload.w]
target = "api"
rate = 300
timeout = "1s"

[service.api]
zones = ["az-a", "az-b", "az-c"]
workers = 256
service_time = { dist = "constant", value = "1ms" }
"#;
    let faults = r#"
[[fault]]
kind = "crash"
node = "api"
zone = "az-b"
start = "10s"
restart_after = "20s"
"#;
    let (_, study) = run(model, "40s", faults);
    // Only the calls the replica held at the crash (300/s × 1 ms / 3 ≈ 0.1) can be lost.
    let timeouts = failed(&study.experiment.workloads[0], Cause::ClientTimeout);
    assert!(timeouts <= 2, "{timeouts}");
    // The balancer lists the replica exactly while it is up: out for the 20 s of the crash.
    let stats = study.experiment.ejections[0];
    assert_eq!(stats.out_of_balancer_ns, 20 * SECOND);
    assert_eq!(stats.swallowed_calls, 0);
    assert_eq!(stats.health_check_ejections + stats.outlier_ejections, 0);
}

/// `api` in three zones (8 workers, queue 8, 5 ms of work) under 600/s; az-b's replica is
/// slowed 20× from 10 s to 40 s, so it serves 80/s of its 200/s and rejects the rest.
fn outlier_run(keys: &str) -> (Scenario, Study) {
    let model = format!(
        r#"
name = "outliers"
zones = ["az-a", "az-b", "az-c"]

[workload.w]
target = "api"
rate = 600
timeout = "1s"

[service.api]
zones = ["az-a", "az-b", "az-c"]
workers = 8
queue = 8
service_time = {{ dist = "constant", value = "5ms" }}
{keys}
"#
    );
    let faults = r#"
[[fault]]
kind = "slowdown"
node = "api"
zone = "az-b"
factor = 20
start = "10s"
duration = "30s"
"#;
    run(&model, "40s", faults)
}

#[test]
fn outlier_ejection_takes_a_failing_replica_out_and_failures_drop() {
    let (_, plain) = outlier_run("");
    let keys = "outlier = { consecutive_failures = 5, ejection = \"10s\", max_ejected = 0.5 }";
    let (_, ejecting) = outlier_run(keys);
    let failures = |s: &Study| s.experiment.workloads[0].windows[1].outcomes.failed();
    let (before, after) = (failures(&plain), failures(&ejecting));
    // Without ejection about 120/s of az-b's 200/s are rejected for 30 s (~3,600).
    assert!(before > 2_500, "{before}");
    // With it the replica is out for 10 s, then 20 s (its 2nd ejection): only the handful of
    // failures that trigger each ejection remain, and rejections pile up nowhere else.
    assert!(after * 10 < before, "without {before}, with {after}");
    let stats = ejecting.experiment.ejections[0];
    assert!((1..=3).contains(&stats.outlier_ejections), "{stats:?}");
    // Ejected at least 10 + 20 s of the 30 s fault, never more than one replica at once.
    assert!(stats.out_of_balancer_ns >= 25 * SECOND, "{stats:?}");
    assert!(
        stats.out_of_balancer_ns <= 30 * SECOND + SECOND,
        "{stats:?}"
    );
    assert_eq!(ejecting.control.ejections[0], Default::default());
}

#[test]
fn reports_show_the_balancer_only_for_nodes_that_have_one() {
    let (s, study) = health_checked();
    let document = Findings::new(&s, &study);
    let json = to_json(&document);
    assert!(json.contains("\"balancer\""));
    assert!(json.contains("\"health_check_ejections\": 1"));
    let text = to_text(&document);
    assert!(text.contains("balancer (health checks, outlier ejection)"));
    assert!(text.contains("api: 1 taken out by health checks, 1 put back, 0 outlier ejections"));
    let (s, study) = overloaded(300, "queue_timeout = \"50ms\"");
    let document = Findings::new(&s, &study);
    assert!(!to_json(&document).contains("\"balancer\""));
    let text = to_text(&document);
    assert!(!text.contains("balancer"));
    // Shed work is a cause of its own in both reports.
    assert!(text.contains("shed "));
}
