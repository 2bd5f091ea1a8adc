//! One test per fault kind, each asserting the fault's effect against the control run, plus the
//! zero-deviation, containment and determinism contracts.
//!
//! Models are small and mostly use constant service times with plenty of workers, so nothing
//! queues and a request's latency is a known sum: the control and the experiment then see the
//! same requests with the same latencies except where a fault acts, and effects can be checked
//! per request, exactly. Where a number is random (a share, a Poisson count) the sample size and
//! the tolerance (in standard deviations) are written beside the assertion.

use blastradius::analysis::Findings;
use blastradius::analysis::{Study, study_recorded};
use blastradius::faults::{self, Action, FaultPlan, ReplicaRef};
use blastradius::metrics::{Cause, EndpointMetrics, Outcome, Outcomes, WindowStats};
use blastradius::model::Scenario;
use blastradius::report::to_json;
use blastradius::sim::{RecordStatus, RequestRecord, RunOutcome, Windows};

use crate::support::load;

const MS: u64 = 1_000_000;
const SECOND: u64 = 1_000_000_000;

// ---- helpers --------------------------------------------------------------------------------

/// A scenario of `duration` over `model.toml`, 2 s warm-up, seed 7, with the given faults.
fn scenario_text(duration: &str, faults: &str) -> String {
    format!(
        "name = \"test\"\nmodel = \"model.toml\"\nduration = \"{duration}\"\nwarmup = \"2s\"\n\
         seed = 7\n\n{faults}\n"
    )
}

/// Loads and studies a scenario; both runs must complete.
fn run(model: &str, duration: &str, faults: &str) -> (Scenario, Study) {
    let scenario = load(model, &scenario_text(duration, faults));
    let result = study_recorded(&scenario);
    assert_eq!(result.control.outcome, RunOutcome::Completed, "control");
    assert_eq!(
        result.experiment.outcome,
        RunOutcome::Completed,
        "experiment"
    );
    (scenario, result)
}

fn node(scenario: &Scenario, name: &str) -> usize {
    scenario
        .topology
        .node_id(name)
        .expect("node exists")
        .index()
}

fn workload(scenario: &Scenario, name: &str) -> usize {
    scenario
        .topology
        .workload_id(name)
        .expect("workload exists")
        .index()
}

/// The `during` window's numbers (by arrival).
fn during(metrics: &EndpointMetrics) -> &WindowStats {
    &metrics.windows[1]
}

fn after(metrics: &EndpointMetrics) -> &WindowStats {
    &metrics.windows[2]
}

fn failed(outcomes: &Outcomes, cause: Cause) -> u64 {
    outcomes.failed_by_cause[cause as usize]
}

/// Control and experiment records of one workload, paired by identity.
fn pairs(study: &Study, w: usize) -> impl Iterator<Item = (&RequestRecord, &RequestRecord)> {
    let (c, e) = (&study.control.requests[w], &study.experiment.requests[w]);
    assert_eq!(c.len(), e.len(), "both runs see the same base arrivals");
    c.iter().zip(e)
}

fn arrived_in(record: &RequestRecord, from_ns: u64, to_ns: u64) -> bool {
    (from_ns..to_ns).contains(&record.arrived_ns)
}

fn ended(record: &RequestRecord) -> Option<Outcome> {
    match record.status {
        RecordStatus::Ended(outcome) => Some(outcome),
        _ => None,
    }
}

/// Two runs' records of one workload are the same, request by request (reports the first
/// difference rather than both vectors).
fn assert_same_records(what: &str, control: &[RequestRecord], experiment: &[RequestRecord]) {
    assert_eq!(control.len(), experiment.len(), "{what}: record count");
    let differ = control
        .iter()
        .zip(experiment)
        .filter(|(c, e)| c != e)
        .count();
    if let Some((c, e)) = control.iter().zip(experiment).find(|(c, e)| c != e) {
        panic!("{what}: {differ} records differ, the first:\ncontrol    {c:?}\nexperiment {e:?}");
    }
}

/// The record ended ok in the control (those still in flight at the end are skipped).
fn ok_unless_in_flight(record: &RequestRecord) {
    if record.status != RecordStatus::InFlight {
        assert_eq!(ended(record), Some(Outcome::Ok), "control {record:?}");
    }
}

/// `measured` successes out of `n` against a binomial share `p`, within `sds` standard
/// deviations.
fn assert_share(what: &str, measured: u64, n: u64, p: f64, sds: f64) {
    assert!(n > 0, "{what}: no samples");
    let share = measured as f64 / n as f64;
    let sd = (p * (1.0 - p) / n as f64).sqrt();
    assert!(
        (share - p).abs() <= sds * sd,
        "{what}: {measured}/{n} = {share:.4}, expected {p} ± {sds} sd ({:.4})",
        sds * sd
    );
}

/// The first effect of a plan, which must take replicas down.
fn down_replicas(plan: &FaultPlan) -> &[ReplicaRef] {
    match &plan.effects[0].action {
        Action::Down(replicas) => replicas,
        other => panic!("expected replicas down, found {other:?}"),
    }
}

/// Every number an endpoint recorded, bit for bit (histograms, exact sums, windows, series).
fn assert_same_metrics(what: &str, control: &EndpointMetrics, experiment: &EndpointMetrics) {
    assert_eq!(control.outcomes, experiment.outcomes, "{what}: outcomes");
    assert!(
        control.latency.histogram() == experiment.latency.histogram(),
        "{what}: latency histogram"
    );
    assert_eq!(
        control.latency.mean_ns().to_bits(),
        experiment.latency.mean_ns().to_bits(),
        "{what}: mean"
    );
    assert_eq!(
        control.latency.summary(),
        experiment.latency.summary(),
        "{what}: summary"
    );
    assert_eq!(control.windows.len(), experiment.windows.len());
    for (i, (c, e)) in control.windows.iter().zip(&experiment.windows).enumerate() {
        assert_eq!(c.outcomes, e.outcomes, "{what}: window {i} outcomes");
        assert!(
            c.latency.histogram() == e.latency.histogram(),
            "{what}: window {i} latency"
        );
        assert_eq!(c.latency.mean_ns().to_bits(), e.latency.mean_ns().to_bits());
    }
    assert_eq!(
        control.series.buckets(),
        experiment.series.buckets(),
        "{what}: series"
    );
}

/// A constant service time in inline TOML.
fn constant(value: &str) -> String {
    format!("{{ dist = \"constant\", value = \"{value}\" }}")
}

// ---- isolation boundaries -------------------------------------------------------------------

/// `api` in two zones calls `ledger`, which runs only in az-a.
fn zonal_ledger_model() -> String {
    let c1 = constant("1ms");
    format!(
        r#"
name = "zonal"
zones = ["az-a", "az-b"]

[workload.w]
target = "api"
rate = 500
timeout = "1s"

[service.api]
zones = ["az-a", "az-b"]
workers = 256
service_time = {c1}
calls = [{{ to = "ledger", timeout = "100ms" }}]

[service.ledger]
zones = ["az-a"]
workers = 256
service_time = {c1}
"#
    )
}

#[test]
fn zone_outage_stops_the_zone_and_callers_of_a_zonal_node_fail_with_no_replica() {
    let faults = r#"
[[fault]]
kind = "zone-outage"
zone = "az-a"
start = "10s"
duration = "5s"
"#;
    let (s, study) = run(&zonal_ledger_model(), "30s", faults);
    let (w, ledger) = (workload(&s, "w"), node(&s, "ledger"));

    // Every replica in az-a stops, in one effect: api's and ledger's (one each).
    let zone_a = s.topology.zone_id("az-a").unwrap();
    let down = down_replicas(&study.plan);
    assert_eq!(down.len(), 2, "{down:?}");
    assert!(down.iter().all(|r| r.zone == zone_a));
    assert_eq!(
        (study.plan.effects[0].start_ns, study.plan.effects[0].end_ns),
        (10 * SECOND, 15 * SECOND)
    );

    assert_eq!(study.control.workloads[w].outcomes.failed(), 0, "control");
    let mut checked = 0;
    for (c, e) in pairs(&study, w) {
        ok_unless_in_flight(c);
        // api takes 1 ms before it calls ledger: a request arriving at t calls it at t + 1 ms,
        // so every request arriving in [10 s, 15 s - 1 ms) finds no ledger replica at all
        // (az-a traffic is served by api in az-b, which has nowhere to send the call).
        if arrived_in(e, 10 * SECOND, 15 * SECOND - MS) {
            assert_eq!(ended(e), Some(Outcome::Failed(Cause::NoReplica)), "{e:?}");
            assert_eq!(e.origin, Some(s.topology.node_id("ledger").unwrap()));
            // It fails fast: the api's 1 ms, no timeout involved.
            assert_eq!(e.latency_ns, MS);
            checked += 1;
        }
        // After the outage ledger is back and everything succeeds as in the control.
        if e.arrived_ns >= 15 * SECOND {
            assert_eq!(e, c, "after the outage");
        }
    }
    // 5 s at 500/s: about 2,500 requests (Poisson, sd 50).
    assert!((2_200..2_800).contains(&checked), "{checked}");
    // Each of those calls was refused at ledger with no_replica, counted at the node.
    let ledger_during = &during(&study.experiment.nodes[ledger]).outcomes;
    assert!(failed(ledger_during, Cause::NoReplica) >= checked as u64);
    assert_eq!(
        failed(ledger_during, Cause::NoReplica),
        ledger_during.failed()
    );
}

#[test]
fn zone_outage_with_recovery_extends_the_window_and_caches_come_back_cold() {
    let c1 = constant("1ms");
    let model = format!(
        r#"
name = "cached"
zones = ["az-a", "az-b"]

[workload.w]
target = "api"
rate = 1000
timeout = "1s"

[service.api]
zones = ["az-a", "az-b"]
workers = 256
service_time = {c1}
calls = [{{ to = "sessions", timeout = "100ms" }}]

[cache.sessions]
zones = ["az-a", "az-b"]
workers = 256
service_time = {c1}
hit_ratio = 0.9
backing = "db"

[database.db]
zones = ["az-b"]
primary = "az-b"
workers = 256
service_time = {c1}
"#
    );
    let faults = r#"
[[fault]]
kind = "zone-outage"
zone = "az-a"
start = "10s"
duration = "5s"
recovery = "4s"
"#;
    let (s, study) = run(&model, "30s", faults);
    // Two replicas in az-a (api, sessions) come back one at a time, evenly over the 4 s
    // recovery: at 17 s and 19 s, in a seeded order.
    let mut backs: Vec<u64> = study.plan.effects.iter().map(|e| e.end_ns).collect();
    backs.sort();
    assert_eq!(backs, [17 * SECOND, 19 * SECOND]);
    // So the `during` window runs to the end of the recovery, not of the outage.
    assert_eq!(
        study.windows,
        Some(Windows {
            during_start_ns: 10 * SECOND,
            after_start_ns: 19 * SECOND,
        })
    );
    // The cache in az-a restarts empty (refill time constant 60 s): in the 11 s after the
    // recovery half the traffic meets a miss ratio of at least 1 - 0.9 (1 - e^(-13/60)) = 0.82
    // instead of 0.1, so db sees >= 0.5 × 0.82 + 0.5 × 0.1 = 0.46 of the calls instead of 0.1:
    // about 4.6× the control (each count ~1,100 to ~5,000, Poisson sd < 75). Require 3×.
    let db = node(&s, "db");
    let control_db = after(&study.control.nodes[db]).outcomes.requests;
    let experiment_db = after(&study.experiment.nodes[db]).outcomes.requests;
    assert!(
        (900..1_300).contains(&control_db),
        "control db {control_db}"
    );
    assert!(
        experiment_db > 3 * control_db,
        "db after recovery: experiment {experiment_db}, control {control_db}"
    );
}

#[test]
fn zone_partition_times_out_calls_across_the_cut_only() {
    let c1 = constant("1ms");
    let model = format!(
        r#"
name = "split"
zones = ["az-a", "az-b"]

[workload.w]
target = "api"
rate = 500
timeout = "1s"

[service.api]
zones = ["az-a", "az-b"]
workers = 256
service_time = {c1}
calls = [{{ to = "local", timeout = "100ms" }}, {{ to = "db", timeout = "100ms" }}]

[service.local]
zones = ["az-a", "az-b"]
workers = 256
service_time = {c1}

[database.db]
zones = ["az-a", "az-b"]
primary = "az-b"
workers = 256
service_time = {c1}
"#
    );
    let faults = r#"
[[fault]]
kind = "zone-partition"
zones = ["az-a", "az-b"]
start = "10s"
duration = "5s"
"#;
    let (s, study) = run(&model, "30s", faults);
    let w = workload(&s, "w");
    let (zone_a, zone_b) = (
        s.topology.zone_id("az-a").unwrap(),
        s.topology.zone_id("az-b").unwrap(),
    );
    let db = s.topology.node_id("db");
    let (mut cut, mut same_zone) = (0, 0);
    for (c, e) in pairs(&study, w) {
        // Control: api 1 ms + local 1 ms + db 1 ms, nothing fails.
        ok_unless_in_flight(c);
        // A request calls db 2 ms after it arrives: those arriving in [10 s - 2 ms, 15 s - 2 ms)
        // call across the cut, those arriving away from its edges by 2 ms are not touched.
        if !arrived_in(e, 10 * SECOND - 2 * MS, 15 * SECOND - 2 * MS) {
            if !arrived_in(e, 10 * SECOND - 4 * MS, 15 * SECOND) {
                assert_eq!(e, c, "outside the cut nothing changes");
            }
            continue;
        }
        if e.zone == zone_a {
            // az-a -> db's primary in az-b crosses the cut: swallowed, api's 100 ms timeout
            // decides, after the 2 ms of api and local (local is in az-a: not cut).
            assert_eq!(ended(e), Some(Outcome::Failed(Cause::Timeout)), "{e:?}");
            assert_eq!((e.origin, e.latency_ns), (db, 102 * MS));
            cut += 1;
        } else {
            // az-b -> az-b: untouched, the same request with the same latency.
            assert_eq!(e.zone, zone_b);
            assert_eq!(e, c);
            same_zone += 1;
        }
    }
    // Arrivals alternate between the two zones: about 1,250 each (Poisson sd 35).
    assert!((1_100..1_400).contains(&cut), "{cut}");
    assert!(
        (cut as i64 - same_zone as i64).abs() <= 1,
        "{cut} vs {same_zone}"
    );
}

/// Two entry points, `api` and `worker`, both calling `db`.
fn two_callers_model(worker_concurrency: &str, worker_timeout: &str) -> String {
    let c1 = constant("1ms");
    format!(
        r#"
name = "two-callers"
zones = ["az-a"]

[workload.w1]
target = "api"
rate = 500
timeout = "1s"

[workload.w2]
target = "worker"
rate = 500
timeout = "300ms"

[service.api]
zones = ["az-a"]
workers = 256
service_time = {c1}
calls = [{{ to = "db", timeout = "80ms" }}]

[service.worker]
zones = ["az-a"]
workers = 256
concurrency = "{worker_concurrency}"
service_time = {c1}
calls = [{{ to = "db"{worker_timeout} }}]

[database.db]
zones = ["az-a"]
primary = "az-a"
workers = 256
service_time = {c1}
"#
    )
}

#[test]
fn partition_of_an_edge_times_out_its_calls_and_spares_other_callers() {
    let faults = r#"
[[fault]]
kind = "partition"
edge = "api->db"
start = "10s"
duration = "5s"
"#;
    let model = two_callers_model("blocking", ", timeout = \"80ms\"");
    let (s, study) = run(&model, "30s", faults);
    let (w1, w2) = (workload(&s, "w1"), workload(&s, "w2"));
    let mut cut = 0;
    for (c, e) in pairs(&study, w1) {
        // api calls db 1 ms after the arrival.
        if arrived_in(e, 10 * SECOND, 15 * SECOND - MS) {
            // The call is swallowed; api's 80 ms timeout decides, after its own 1 ms.
            assert_eq!(ended(e), Some(Outcome::Failed(Cause::Timeout)), "{e:?}");
            assert_eq!(e.latency_ns, 81 * MS);
            assert_eq!(e.origin, s.topology.node_id("db"));
            cut += 1;
        } else if e.arrived_ns >= 15 * SECOND {
            assert_eq!(e, c);
        }
    }
    // 5 s at 500/s (Poisson sd 50).
    assert!((2_200..2_800).contains(&cut), "{cut}");
    // worker -> db is another edge into the same callee: every request identical.
    assert_same_records(
        "w2",
        &study.control.requests[w2],
        &study.experiment.requests[w2],
    );
    assert_same_metrics(
        "w2",
        &study.control.workloads[w2],
        &study.experiment.workloads[w2],
    );
}

/// `api` (six replicas over three zones, 200 ms of work each) for the crash tests.
fn six_replica_model() -> String {
    let c200 = constant("200ms");
    format!(
        r#"
name = "six"
zones = ["az-a", "az-b", "az-c"]

[workload.w]
target = "api"
rate = 300
timeout = "1s"

[service.api]
zones = ["az-a", "az-b", "az-c"]
replicas = 2
workers = 256
service_time = {c200}
"#
    )
}

#[test]
fn crash_takes_exactly_count_replicas_chosen_from_the_seed_and_loses_their_work() {
    let faults = r#"
[[fault]]
kind = "crash"
node = "api"
count = 2
start = "10s"
restart_after = "5s"
"#;
    let (s, study) = run(&six_replica_model(), "30s", faults);
    let (w, api) = (workload(&s, "w"), node(&s, "api"));

    // Exactly `count` distinct replicas of api, down from 10 s and back 5 s later.
    let down = down_replicas(&study.plan);
    assert_eq!(down.len(), 2);
    assert_ne!(down[0], down[1]);
    assert!(down.iter().all(|r| r.node.index() == api));
    let effect = &study.plan.effects[0];
    assert_eq!((effect.start_ns, effect.end_ns), (10 * SECOND, 15 * SECOND));

    // The selection is a function of the seed: the same seed resolves the same replicas...
    let plan_for = |seed| faults::plan(&s.topology, &s.faults, seed, s.duration_ns);
    assert_eq!(plan_for(s.seed), study.plan);
    assert_eq!(plan_for(s.seed), plan_for(s.seed));
    // ...and seeds choose among the 15 pairs: 40 seeds all picking the same pair would happen
    // with probability 15^-39 if the choice were uniform.
    let first = down_replicas(&plan_for(0)).to_vec();
    assert!((1..40).any(|seed| down_replicas(&plan_for(seed)) != first.as_slice()));

    // In flight on the two crashed replicas at 10 s: about 300/s × 0.2 s × 2/6 = 20 calls,
    // lost at api. Nothing else fails: later calls are routed to the four healthy replicas.
    let control = &study.control;
    let experiment = &study.experiment;
    assert_eq!(control.workloads[w].outcomes.failed(), 0);
    assert_eq!(control.nodes[api].outcomes.failed(), 0);
    let lost = failed(&experiment.nodes[api].outcomes, Cause::Lost);
    assert!((5..60).contains(&lost), "lost {lost}");
    assert_eq!(experiment.nodes[api].outcomes.failed(), lost);
    // Each lost call leaves its user waiting until the client's 1 s timeout, and only those.
    let outcomes = &experiment.workloads[w].outcomes;
    assert_eq!(failed(outcomes, Cause::ClientTimeout), lost);
    assert_eq!(outcomes.failed(), lost);
}

#[test]
fn crash_with_restart_after_refuses_calls_until_the_restart() {
    let c1 = constant("1ms");
    let model = format!(
        r#"
name = "restart"
zones = ["az-a"]

[workload.w]
target = "api"
rate = 500
timeout = "1s"

[service.api]
zones = ["az-a"]
workers = 256
service_time = {c1}
calls = [{{ to = "ledger", timeout = "50ms" }}]

[service.ledger]
zones = ["az-a"]
replicas = 2
workers = 256
service_time = {c1}
"#
    );
    let faults = r#"
[[fault]]
kind = "crash"
node = "ledger"
count = 5
start = "10s"
restart_after = "3s"
"#;
    let (s, study) = run(&model, "30s", faults);
    let (w, ledger) = (workload(&s, "w"), node(&s, "ledger"));
    // count = 5 of 2 replicas takes both.
    assert_eq!(down_replicas(&study.plan).len(), 2);
    assert_eq!(study.windows.unwrap().after_start_ns, 13 * SECOND);
    let (mut refused, mut timed_out) = (0, 0);
    for (c, e) in pairs(&study, w) {
        ok_unless_in_flight(c);
        // api calls ledger 1 ms after the arrival: calls made in [10 s, 13 s) find no replica.
        if arrived_in(e, 10 * SECOND, 13 * SECOND - MS) {
            assert_eq!(ended(e), Some(Outcome::Failed(Cause::NoReplica)), "{e:?}");
            refused += 1;
        } else if e.arrived_ns >= 13 * SECOND {
            // Back after restart_after: the same requests as the control's.
            assert_eq!(e, c, "after the restart");
        } else if ended(e) == Some(Outcome::Failed(Cause::Timeout)) {
            timed_out += 1;
        }
    }
    // 3 s at 500/s (Poisson sd 39).
    assert!((1_300..1_700).contains(&refused), "{refused}");
    // Calls held by ledger at 10 s are lost there and time out at api: one for one.
    let lost = failed(&study.experiment.nodes[ledger].outcomes, Cause::Lost);
    assert_eq!(timed_out, lost);
}

#[test]
fn chaos_monkey_crashes_at_the_mean_interval_and_restarts_each_replica() {
    // Resolution only (no simulation): a 3 h run gives a large sample for the Poisson process.
    let faults = r#"
[[fault]]
kind = "chaos-monkey"
node = "api"
start = "2s"
mean_interval = "1s"
restart_after = "2s"
"#;
    let s = load(&six_replica_model(), &scenario_text("3h", faults));
    let plan = faults::plan(&s.topology, &s.faults, s.seed, s.duration_ns);
    let span_s = (s.duration_ns - 2 * SECOND) as f64 / SECOND as f64;
    let n = plan.effects.len() as f64;
    // Poisson count with mean 10,798: sd 104; allow 4 sd.
    assert!(
        (n - span_s).abs() <= 4.0 * span_s.sqrt(),
        "{n} crashes in {span_s} s"
    );
    let mut per_replica = std::collections::BTreeMap::<ReplicaRef, u64>::new();
    let mut previous = 2 * SECOND;
    let mut long_gaps = 0u64;
    for effect in &plan.effects {
        // Each crash takes one replica and restarts it after exactly restart_after.
        let Action::Down(replicas) = &effect.action else {
            panic!("{effect:?}")
        };
        assert_eq!(replicas.len(), 1);
        assert_eq!(effect.end_ns - effect.start_ns, 2 * SECOND);
        assert!(effect.start_ns >= previous && effect.start_ns < s.duration_ns);
        if effect.start_ns - previous > SECOND {
            long_gaps += 1;
        }
        previous = effect.start_ns;
        *per_replica.entry(replicas[0]).or_default() += 1;
    }
    // Exponential gaps: P(gap > mean) = e^-1, binomial over ~10,800 gaps, 4 sd.
    assert_share(
        "gaps longer than the mean",
        long_gaps,
        plan.effects.len() as u64,
        (-1.0f64).exp(),
        4.0,
    );
    // Victims uniform over the six replicas: each 1/6 of the crashes, 4 sd.
    assert_eq!(per_replica.len(), 6);
    for (replica, count) in per_replica {
        assert_share(
            &format!("{replica:?}"),
            count,
            plan.effects.len() as u64,
            1.0 / 6.0,
            4.0,
        );
    }
    // The same seed, the same schedule.
    assert_eq!(
        plan,
        faults::plan(&s.topology, &s.faults, s.seed, s.duration_ns)
    );
}

#[test]
fn chaos_monkey_crashes_are_seen_by_requests_and_each_replica_comes_back() {
    let c1 = constant("1ms");
    let model = format!(
        r#"
name = "monkey"
zones = ["az-a"]

[workload.w]
target = "api"
rate = 500
timeout = "1s"

[service.api]
zones = ["az-a"]
workers = 256
service_time = {c1}
calls = [{{ to = "ledger", timeout = "50ms" }}]

[service.ledger]
zones = ["az-a"]
workers = 256
service_time = {c1}
"#
    );
    let faults = r#"
[[fault]]
kind = "chaos-monkey"
node = "ledger"
start = "5s"
duration = "60s"
mean_interval = "5s"
restart_after = "500ms"
"#;
    let (s, study) = run(&model, "70s", faults);
    let w = workload(&s, "w");
    let crashes: Vec<(u64, u64)> = study
        .plan
        .effects
        .iter()
        .map(|e| (e.start_ns, e.end_ns))
        .collect();
    // About 12 crashes in 60 s (Poisson sd 3.5): at least 4 is a 3.5 sd bound.
    assert!(crashes.len() >= 4, "{crashes:?}");
    let down_at = |t: u64| crashes.iter().any(|&(a, b)| (a..b).contains(&t));
    let near_edge = |t: u64| {
        crashes
            .iter()
            .any(|&(a, b)| a.abs_diff(t) < 2 * MS || b.abs_diff(t) < 2 * MS)
    };
    let mut refused = vec![0u64; crashes.len()];
    for (c, e) in pairs(&study, w) {
        // The one ledger replica is called 1 ms after the arrival: refused iff it is down
        // then (calls within 2 ms of a crash or a restart are left out: lost or in between;
        // so are the last arrivals, still in flight when the run ends at 70 s).
        let call = e.arrived_ns + MS;
        if near_edge(call) || call + 5 * MS > 70 * SECOND {
            continue;
        }
        if down_at(call) {
            assert_eq!(ended(e), Some(Outcome::Failed(Cause::NoReplica)), "{e:?}");
            for (i, &(a, b)) in crashes.iter().enumerate() {
                refused[i] += u64::from((a..b).contains(&call));
            }
        } else {
            assert_eq!(ended(e), Some(Outcome::Ok), "{e:?}");
            assert_eq!(e.latency_ns, c.latency_ns);
        }
    }
    // Every crash is felt: 500 ms at 500/s is 250 calls on average (Poisson, sd 16).
    assert!(refused.iter().all(|&n| n > 150), "{refused:?}");
}

// ---- dependencies ---------------------------------------------------------------------------

#[test]
fn latency_on_a_node_adds_share_times_the_delay_to_its_callers() {
    let faults = r#"
[[fault]]
kind = "latency"
node = "db"
latency = { dist = "constant", value = "100ms" }
share = 0.3
start = "10s"
duration = "20s"
"#;
    let model = two_callers_model("blocking", ", timeout = \"1s\"");
    let model = model.replace("timeout = \"80ms\"", "timeout = \"1s\"");
    let model = model.replace("timeout = \"300ms\"", "timeout = \"1s\"");
    let (s, study) = run(&model, "40s", faults);
    for name in ["w1", "w2"] {
        let w = workload(&s, name);
        let (mut delayed, mut n) = (0u64, 0u64);
        for (c, e) in pairs(&study, w) {
            // db answers 2 ms after the arrival; keep requests whose answer is in the window,
            // and those whose answer is 2 ms clear of it must be the control's.
            if !arrived_in(e, 10 * SECOND, 30 * SECOND - 2 * MS) {
                if !arrived_in(e, 10 * SECOND - 4 * MS, 30 * SECOND) {
                    assert_eq!(e, c, "{name}: outside the window");
                }
                continue;
            }
            // Each answer is held back by exactly 100 ms, or not at all.
            let added = e.latency_ns - c.latency_ns;
            assert!(added == 0 || added == 100 * MS, "{name}: {added}");
            assert_eq!(ended(e), Some(Outcome::Ok));
            delayed += u64::from(added > 0);
            n += 1;
        }
        // ~10,000 requests per workload; the share delayed is binomial(0.3), 4 sd = 0.018.
        assert_share(name, delayed, n, 0.3, 4.0);
        // So the mean in the window rises by share × 100 ms = 30 ms (± 4 sd = 1.8 ms).
        let rise = during(&study.experiment.workloads[w]).latency.mean_ns()
            - during(&study.control.workloads[w]).latency.mean_ns();
        assert!((rise - 30e6).abs() < 1.8e6, "{name}: mean rose {rise} ns");
    }
}

#[test]
fn latency_on_an_edge_delays_only_that_caller() {
    let faults = r#"
[[fault]]
kind = "latency"
edge = "api->db"
latency = { dist = "constant", value = "50ms" }
start = "10s"
duration = "20s"
"#;
    let model = two_callers_model("blocking", ", timeout = \"1s\"");
    let model = model.replace("timeout = \"80ms\"", "timeout = \"1s\"");
    let (s, study) = run(&model, "40s", faults);
    let (w1, w2) = (workload(&s, "w1"), workload(&s, "w2"));
    let mut delayed = 0;
    for (c, e) in pairs(&study, w1) {
        if arrived_in(e, 10 * SECOND, 30 * SECOND - 2 * MS) {
            // share defaults to 1: every answer from db to api comes 50 ms late.
            assert_eq!(ended(e), Some(Outcome::Ok));
            assert_eq!(e.latency_ns, c.latency_ns + 50 * MS);
            delayed += 1;
        } else if !arrived_in(e, 10 * SECOND - 4 * MS, 30 * SECOND) {
            assert_eq!(e, c);
        }
    }
    assert!((9_000..11_000).contains(&delayed), "{delayed}");
    // The mean rises by exactly 50 ms (every request in the window, constant delay) up to
    // the few requests at the window's edges.
    let rise = during(&study.experiment.workloads[w1]).latency.mean_ns()
        - during(&study.control.workloads[w1]).latency.mean_ns();
    assert!((rise - 50e6).abs() < 0.1e6, "mean rose {rise} ns");
    // worker -> db is not on the edge: its requests are the control's, bit for bit.
    assert_same_records(
        "w2",
        &study.control.requests[w2],
        &study.experiment.requests[w2],
    );
}

#[test]
fn errors_fail_a_share_of_calls_fast_and_an_optional_call_only_degrades() {
    let c1 = constant("1ms");
    let model = format!(
        r#"
name = "errors"
zones = ["az-a"]

[workload.w1]
target = "api"
rate = 500
timeout = "1s"

[workload.w2]
target = "shop"
rate = 500
timeout = "1s"

[service.api]
zones = ["az-a"]
workers = 256
service_time = {c1}
calls = [{{ to = "ledger", timeout = "100ms" }}]

[service.shop]
zones = ["az-a"]
workers = 256
service_time = {c1}
calls = [{{ to = "payments", timeout = "100ms", optional = true }}]

[service.ledger]
zones = ["az-a"]
workers = 256
service_time = {c1}

[external.payments]
latency = {c1}
"#
    );
    let faults = r#"
[[fault]]
kind = "errors"
node = "ledger"
share = 0.2
start = "10s"
duration = "20s"

[[fault]]
kind = "errors"
node = "payments"
share = 0.5
start = "10s"
duration = "20s"
"#;
    let (s, study) = run(&model, "40s", faults);
    let (w1, w2, ledger) = (workload(&s, "w1"), workload(&s, "w2"), node(&s, "ledger"));
    assert_eq!(study.control.workloads[w1].outcomes.failed(), 0);
    assert_eq!(study.control.workloads[w2].outcomes.degraded, 0);

    // At ledger: ~10,000 calls in the window, a binomial(0.2) share refused with
    // injected_error: 4 sd = 0.016.
    let at_ledger = &during(&study.experiment.nodes[ledger]).outcomes;
    let injected = failed(at_ledger, Cause::InjectedError);
    assert_share("ledger", injected, at_ledger.requests, 0.2, 4.0);
    assert_eq!(at_ledger.failed(), injected);
    // Each is a failed user request, failing fast: api's 1 ms, no timeout.
    let mut failed_requests = 0u64;
    for (c, e) in pairs(&study, w1) {
        if ended(e) == Some(Outcome::Failed(Cause::InjectedError)) {
            assert_eq!(e.latency_ns, MS);
            assert_eq!(e.origin, s.topology.node_id("ledger"));
            failed_requests += 1;
        } else {
            assert_eq!(e, c);
        }
    }
    // Errors are injected only while the fault is active, which is exactly ledger's window:
    // one failed request per injected error.
    assert_eq!(failed_requests, injected);

    // The optional third-party call: a binomial(0.5) share of ~10,000 requests degraded
    // (4 sd = 0.02), none failed.
    let shop = &during(&study.experiment.workloads[w2]).outcomes;
    assert_eq!(shop.failed(), 0);
    assert_share("degraded", shop.degraded, shop.ended(), 0.5, 4.0);
    assert!(pairs(&study, w2).all(|(c, e)| {
        ended(e) != Some(Outcome::Degraded) || (c.latency_ns == e.latency_ns + MS)
    }));
}

#[test]
fn blackhole_leaves_callers_to_their_own_timeouts() {
    let faults = r#"
[[fault]]
kind = "blackhole"
node = "db"
start = "10s"
duration = "5s"
"#;
    // api calls db with an 80 ms timeout; worker (async) calls it with none, so its client's
    // 300 ms timeout decides.
    let (s, study) = run(&two_callers_model("async", ""), "30s", faults);
    let (w1, w2, db) = (workload(&s, "w1"), workload(&s, "w2"), node(&s, "db"));
    let (mut api_timeouts, mut client_timeouts) = (0, 0);
    for (w, expected) in [
        (w1, (Cause::Timeout, 81 * MS)),
        (w2, (Cause::ClientTimeout, 300 * MS)),
    ] {
        for (c, e) in pairs(&study, w) {
            ok_unless_in_flight(c);
            if arrived_in(e, 10 * SECOND, 15 * SECOND - MS) {
                assert_eq!(ended(e), Some(Outcome::Failed(expected.0)), "{e:?}");
                assert_eq!(e.latency_ns, expected.1, "{e:?}");
                if w == w1 {
                    api_timeouts += 1;
                } else {
                    client_timeouts += 1;
                }
            } else if e.arrived_ns >= 15 * SECOND {
                assert_eq!(e, c);
            }
        }
    }
    // 5 s at 500/s each (Poisson sd 50).
    assert!((2_200..2_800).contains(&api_timeouts), "{api_timeouts}");
    assert!(
        (2_200..2_800).contains(&client_timeouts),
        "{client_timeouts}"
    );
    // No call reaches db in the window: nothing ever answers.
    assert_eq!(during(&study.experiment.nodes[db]).outcomes.requests, 0);
    assert!(during(&study.control.nodes[db]).outcomes.requests > 4_000);
}

/// One station `s` fed by `w`.
fn station_model(rate: u32, workers: u32, queue: &str, service_time: &str) -> String {
    format!(
        r#"
name = "station"
zones = ["az-a"]

[workload.w]
target = "s"
rate = {rate}

[service.s]
zones = ["az-a"]
workers = {workers}
{queue}
service_time = {service_time}
"#
    )
}

const EXP_1MS: &str = "{ dist = \"exponential\", mean = \"1ms\" }";

#[test]
fn slowdown_multiplies_service_time_and_an_mm1_queue_follows_theory() {
    let faults = r#"
[[fault]]
kind = "slowdown"
node = "s"
factor = 3
start = "10s"
duration = "300s"
"#;
    // Lightly loaded (256 workers, 200/s × 1 ms): a request's latency is its service time,
    // drawn from the same stream in the same order in both runs, so it is exactly ×3.
    let (s, study) = run(&station_model(200, 256, "", EXP_1MS), "320s", faults);
    let w = workload(&s, "w");
    let mut n = 0;
    for (c, e) in pairs(&study, w) {
        if arrived_in(e, 10 * SECOND, 310 * SECOND - 100 * MS) {
            assert_eq!(e.latency_ns, (c.latency_ns as f64 * 3.0).round() as u64);
            n += 1;
        }
    }
    assert!(n > 50_000, "{n}");

    // M/M/1 (one worker), lambda = 200/s, S = 1 ms: W = S / (1 - rho) = 1.25 ms in the control;
    // slowed to S = 3 ms, rho = 0.6, W = 3 / 0.4 = 7.5 ms. 300 s × 200/s = 60k requests,
    // relaxation time ~60 ms, so the standard error of the mean is ~2%; allow 8% (4 sd).
    let (s, study) = run(&station_model(200, 1, "", EXP_1MS), "320s", faults);
    let w = workload(&s, "w");
    let control = during(&study.control.workloads[w]).latency.mean_ns() / 1e6;
    let slowed = during(&study.experiment.workloads[w]).latency.mean_ns() / 1e6;
    assert!(
        (control / 1.25 - 1.0).abs() < 0.08,
        "control W = {control} ms"
    );
    assert!((slowed / 7.5 - 1.0).abs() < 0.08, "slowed W = {slowed} ms");
}

/// Erlang's loss formula: the share of arrivals refused by `m` servers without a waiting
/// room, at offered load `a` erlangs (insensitive to the service time distribution).
fn erlang_b(a: f64, m: u32) -> f64 {
    (1..=m).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

#[test]
fn capacity_lowers_workers_and_rejections_follow_erlang_b() {
    let faults = r#"
[[fault]]
kind = "capacity"
node = "s"
workers = 2
start = "10s"
duration = "20s"
"#;
    // 500/s × 10 ms = 5 erlangs on 10 workers and no queue; the fault leaves 2 workers.
    let c10 = constant("10ms");
    let (s, study) = run(&station_model(500, 10, "queue = 0", &c10), "40s", faults);
    let w = workload(&s, "w");
    let (expected_control, expected_fault) = (erlang_b(5.0, 10), erlang_b(5.0, 2));
    assert!((expected_control - 0.0184).abs() < 1e-4 && (expected_fault - 0.6757).abs() < 1e-4);
    // ~10,000 arrivals in the window; losses are correlated over a service time (10 ms, five
    // arrivals), so allow 0.03 around 0.676 (~6 binomial sd) and 0.01 around 0.018.
    let rejected = |m: &EndpointMetrics| {
        let o = &during(m).outcomes;
        assert_eq!(o.failed(), failed(o, Cause::Rejected));
        failed(o, Cause::Rejected) as f64 / o.ended() as f64
    };
    let control = rejected(&study.control.workloads[w]);
    let experiment = rejected(&study.experiment.workloads[w]);
    assert!(
        (control - expected_control).abs() < 0.01,
        "control {control}"
    );
    assert!(
        (experiment - expected_fault).abs() < 0.03,
        "experiment {experiment}"
    );
    // The rejections are counted at the node whose queue was full.
    let at_node = &during(&study.experiment.nodes[node(&s, "s")]).outcomes;
    assert!(failed(at_node, Cause::Rejected) > 6_000);
}

// ---- bimodal behaviour ----------------------------------------------------------------------

/// `api` reads through `sessions` (hit ratio 0.9) backed by `db`; constant arrivals, 1000/s.
fn cache_model(on_unavailable: &str) -> String {
    let (c1, c05) = (constant("1ms"), constant("500us"));
    format!(
        r#"
name = "cache"
zones = ["az-a"]

[workload.w]
target = "api"
rate = 1000
arrival = "constant"
timeout = "1s"

[service.api]
zones = ["az-a"]
workers = 256
service_time = {c1}
calls = [{{ to = "sessions", timeout = "20ms" }}]

[cache.sessions]
zones = ["az-a"]
workers = 256
service_time = {c05}
hit_ratio = 0.9
backing = "db"
on_unavailable = "{on_unavailable}"

[database.db]
zones = ["az-a"]
primary = "az-a"
workers = 256
service_time = {c1}
"#
    )
}

#[test]
fn cache_flush_sends_a_burst_to_the_backing_store_that_decays_with_the_refill_time() {
    let faults = r#"
[[fault]]
kind = "cache-flush"
node = "sessions"
start = "20s"
refill = "5s"
"#;
    let (s, study) = run(&cache_model("fallthrough"), "50s", faults);
    let db = node(&s, "db");
    let control = study.control.nodes[db].series.buckets();
    let experiment = study.experiment.nodes[db].series.buckets();
    assert_eq!(study.control.nodes[db].series.step_ns(), SECOND);
    // Before the flush the two runs are the same, second by second.
    assert_eq!(control[..20], experiment[..20]);
    // Extra db calls per second after the flush: the hit ratio is 0.9 (1 - e^(-t/5s)), so the
    // miss ratio exceeds the control's by 0.9 e^(-t/5s); over second k that is
    // 1000 × 0.9 × 5 × (e^(-k/5) - e^(-(k+1)/5)) = 816 e^(-k/5) calls.
    // The cache's hit draws are common to both runs, so the excess is a sum of Bernoullis:
    // its sd is below sqrt(n p (1-p)) = 13 in second 0.
    let excess: Vec<f64> = (20..50)
        .map(|k| experiment[k].completed as f64 - control[k].completed as f64)
        .collect();
    let expected =
        |k: usize| 4_500.0 * ((-(k as f64) / 5.0).exp() - (-(k as f64 + 1.0) / 5.0).exp());
    assert!((excess[0] - expected(0)).abs() < 60.0, "jump {}", excess[0]);
    // The burst decays with the refill time constant: the excess in [5 s, 10 s) over the
    // excess in [0, 5 s) is e^-1 = 0.368 (counts ~2,845 and ~1,046: sd of the ratio 0.013,
    // allow 4 sd).
    let first: f64 = excess[0..5].iter().sum();
    let second: f64 = excess[5..10].iter().sum();
    assert!(
        (second / first - (-1.0f64).exp()).abs() < 0.053,
        "{first} then {second}"
    );
    // All the excess together estimates the time constant: 900/s × tau × (1 - e^-6) = 4,489
    // calls (sd < 67, allow 4 sd = 6%).
    let total: f64 = excess.iter().sum();
    let tau = total / (900.0 * (1.0 - (-6.0f64).exp()));
    assert!(
        (tau / 5.0 - 1.0).abs() < 0.06,
        "refill time constant {tau} s"
    );
    // And the hit ratio is back: in the last 5 s the excess is 4,500 (e^-5 - e^-6) = 19.
    let tail: f64 = excess[25..].iter().sum();
    assert!(tail < 50.0, "{tail}");
}

#[test]
fn hit_ratio_forced_sends_its_complement_to_the_backing_store() {
    let faults = r#"
[[fault]]
kind = "hit-ratio"
node = "sessions"
value = 0.5
start = "10s"
duration = "20s"
"#;
    let (s, study) = run(&cache_model("fallthrough"), "40s", faults);
    let (cache, db) = (node(&s, "sessions"), node(&s, "db"));
    for (run, hit) in [(&study.control, 0.9), (&study.experiment, 0.5)] {
        // 20,000 cache calls in the window; db sees the binomial(1 - hit) share of them
        // (4 sd: 0.0085 at 0.1, 0.014 at 0.5).
        let cache_calls = during(&run.nodes[cache]).outcomes.requests;
        let db_calls = during(&run.nodes[db]).outcomes.requests;
        assert!((19_990..=20_010).contains(&cache_calls), "{cache_calls}");
        assert_share(
            "db calls per cache call",
            db_calls,
            cache_calls,
            1.0 - hit,
            4.0,
        );
    }
}

#[test]
fn cache_outage_falls_through_to_the_backing_store_or_fails_as_configured() {
    let faults = r#"
[[fault]]
kind = "crash"
node = "sessions"
start = "10s"
restart_after = "5s"
"#;
    // fallthrough: callers go to db; every request still succeeds, and db takes all of them.
    let (s, study) = run(&cache_model("fallthrough"), "30s", faults);
    let (w, db) = (workload(&s, "w"), node(&s, "db"));
    assert_eq!(study.experiment.workloads[w].outcomes.failed(), 0);
    let requests = during(&study.experiment.workloads[w]).outcomes.requests;
    assert_eq!(requests, 5_000, "5 s of constant arrivals at 1000/s");
    let db_control = during(&study.control.nodes[db]).outcomes.requests;
    let db_experiment = during(&study.experiment.nodes[db]).outcomes.requests;
    // Control: a binomial(0.1) share of 5,000 (4 sd = 85). Experiment: every request
    // (up to the couple whose db call falls just outside the window).
    assert!((415..=585).contains(&db_control), "{db_control}");
    assert!(db_experiment.abs_diff(requests) <= 3, "{db_experiment}");

    // fail: the same outage fails the callers with the cache's no_replica.
    let (s, study) = run(&cache_model("fail"), "30s", faults);
    let w = workload(&s, "w");
    let mut refused = 0;
    for (c, e) in pairs(&study, w) {
        ok_unless_in_flight(c);
        // api calls the cache 1 ms after the arrival.
        if arrived_in(e, 10 * SECOND, 15 * SECOND - MS) {
            assert_eq!(ended(e), Some(Outcome::Failed(Cause::NoReplica)));
            assert_eq!(e.origin, s.topology.node_id("sessions"));
            refused += 1;
        }
    }
    assert_eq!(refused, 4_999);
}

// ---- load -----------------------------------------------------------------------------------

/// `api` and `ledger` in three zones, lightly loaded, constant service times.
fn three_zone_model() -> String {
    let c1 = constant("1ms");
    format!(
        r#"
name = "spike"
zones = ["az-a", "az-b", "az-c"]

[workload.w]
target = "api"
rate = 500
timeout = "1s"

[service.api]
zones = ["az-a", "az-b", "az-c"]
workers = 256
service_time = {c1}
calls = [{{ to = "ledger", timeout = "100ms" }}]

[service.ledger]
zones = ["az-a", "az-b", "az-c"]
workers = 256
service_time = {c1}
"#
    )
}

#[test]
fn traffic_spike_adds_requests_and_leaves_the_base_requests_alone() {
    let faults = r#"
[[fault]]
kind = "traffic-spike"
workload = "w"
factor = 3
start = "10s"
duration = "10s"
"#;
    let (s, study) = run(&three_zone_model(), "30s", faults);
    let w = workload(&s, "w");
    // (3 - 1) × 500/s × 10 s = 10,000 extra requests (Poisson sd 100, allow 4 sd).
    let extra = study.experiment.extra_requests[w];
    assert!(extra.abs_diff(10_000) <= 400, "{extra}");
    assert_eq!(study.control.extra_requests[w], 0);
    // They all arrive in the window, on top of the control's requests: about 3× arrivals.
    let control = during(&study.control.workloads[w]).outcomes.requests;
    let experiment = during(&study.experiment.workloads[w]).outcomes.requests;
    assert_eq!(experiment, control + extra);
    let ratio = experiment as f64 / control as f64;
    assert!((ratio - 3.0).abs() < 0.2, "{ratio}");
    // Lightly loaded, constant service times: every base request is the control's request,
    // entering the same zone, with the same outcome and latency.
    assert_same_records(
        "w",
        &study.control.requests[w],
        &study.experiment.requests[w],
    );
    assert_eq!(study.experiment.workloads[w].outcomes.failed(), 0);
}

#[test]
fn traffic_drop_withholds_a_share_of_the_base_requests_and_leaves_the_rest_alone() {
    let faults = r#"
[[fault]]
kind = "traffic-spike"
workload = "w"
factor = 0.5
start = "10s"
duration = "10s"
"#;
    let (s, study) = run(&three_zone_model(), "30s", faults);
    let w = workload(&s, "w");
    assert_eq!(study.experiment.extra_requests[w], 0);
    let (mut withheld, mut n) = (0, 0);
    for (c, e) in pairs(&study, w) {
        if e.status == RecordStatus::NotSent {
            assert!(arrived_in(e, 10 * SECOND, 20 * SECOND), "{e:?}");
            withheld += 1;
        } else {
            // Every request that is sent is the control's, entering the same zone.
            assert_eq!(e, c);
        }
        n += u64::from(arrived_in(e, 10 * SECOND, 20 * SECOND));
    }
    // ~5,000 arrivals in the window, each withheld with probability 1 - 0.5 (4 sd = 0.028).
    assert_share("withheld", withheld, n, 0.5, 4.0);
}

// ---- contracts ------------------------------------------------------------------------------

#[test]
fn a_fault_on_nothing_the_requests_use_gives_exactly_zero_deviation() {
    let model = format!(
        r#"
name = "idle"
zones = ["az-a", "az-b"]

[workload.w]
target = "api"
rate = 800
timeout = "1s"

[service.api]
zones = ["az-a", "az-b"]
workers = 4
service_time = {EXP_1MS}
calls = [{{ to = "ledger", timeout = "50ms", retries = 2, backoff = "5ms", jitter = "full" }}]

[service.ledger]
zones = ["az-a", "az-b"]
workers = 2
service_time = {{ dist = "lognormal", median = "1ms", p99 = "10ms" }}

[service.idle]
zones = ["az-a", "az-b"]
replicas = 2
service_time = {EXP_1MS}
calls = [{{ to = "ledger" }}]
"#
    );
    // A crash of a node nobody calls, latency and errors on an edge no request takes.
    let faults = r#"
[[fault]]
kind = "crash"
node = "idle"
count = 1
start = "10s"
restart_after = "5s"

[[fault]]
kind = "latency"
edge = "idle->ledger"
latency = { dist = "exponential", mean = "1s" }
share = 0.5
start = "10s"
duration = "10s"

[[fault]]
kind = "errors"
edge = "idle->ledger"
share = 0.5
start = "12s"
duration = "10s"
"#;
    let (s, study) = run(&model, "30s", faults);
    assert_eq!(study.plan.effects.len(), 3);
    // The runs queue (4 and 2 workers, ~40% busy) and retry with jitter: plenty of randomness
    // that would show any perturbation. Yet everything is the same, bit for bit.
    let (c, e) = (&study.control, &study.experiment);
    assert!(c.workloads[0].outcomes.requests > 20_000);
    for (w, workload) in s.topology.workloads.iter().enumerate() {
        assert_same_records(&workload.name, &c.requests[w], &e.requests[w]);
    }
    assert_eq!(c.extra_requests, e.extra_requests);
    for (w, workload) in s.topology.workloads.iter().enumerate() {
        assert_same_metrics(&workload.name, &c.workloads[w], &e.workloads[w]);
    }
    for (n, node) in s.topology.nodes.iter().enumerate() {
        assert_same_metrics(&node.name, &c.nodes[n], &e.nodes[n]);
    }
    let blast = study.analysis.blast_radius.as_ref().expect("faults");
    assert_eq!((blast.hurt, blast.helped), (0, 0));
}

/// `api` in three zones calling `db`: pinned to az-a, or in every zone with a failover.
fn pinned_model(db_zones: &str, failover: &str) -> String {
    let (c1, c2) = (constant("1ms"), constant("2ms"));
    format!(
        r#"
name = "pinned"
zones = ["az-a", "az-b", "az-c"]

[workload.w]
target = "api"
rate = 600
timeout = "1s"

[service.api]
zones = ["az-a", "az-b", "az-c"]
workers = 256
service_time = {c1}
calls = [{{ to = "db", timeout = "100ms" }}]

[database.db]
zones = {db_zones}
primary = "az-a"
{failover}
workers = 256
service_time = {c2}
"#
    )
}

#[test]
fn containment_reports_the_leak_of_a_pinned_database_and_not_with_failover() {
    let faults = r#"
[[fault]]
kind = "zone-outage"
zone = "az-a"
start = "10s"
duration = "10s"
"#;
    // Pinned: every zone's requests need db in az-a, so the outage fails them all.
    let (_, study) = run(&pinned_model("[\"az-a\"]", ""), "30s", faults);
    let blast = study.analysis.blast_radius.as_ref().expect("faults");
    let leak = &blast.containment[0];
    assert_eq!(leak.boundary, ["az-a"]);
    assert!(!leak.contained, "{leak:?}");
    // az-b and az-c: 2/3 of 600/s over the 10 s outage, ~4,000 requests (Poisson sd 63).
    assert!(leak.hurt_outside > 3_500, "{leak:?}");

    // Zone-aware: db in every zone, failing over at once; only the few calls held by db in
    // az-a at the instant of the outage (~600/s × 2 ms) are lost.
    let model = pinned_model("[\"az-a\", \"az-b\", \"az-c\"]", "failover = \"0s\"");
    let (_, study) = run(&model, "30s", faults);
    let blast = study.analysis.blast_radius.as_ref().expect("faults");
    let contained = &blast.containment[0];
    assert!(contained.contained, "{contained:?}");
    assert!(contained.hurt_outside < 10, "{contained:?}");
    assert!(contained.paired_outside > 10_000);
}

#[test]
fn the_same_scenario_studied_twice_gives_byte_identical_reports() {
    let model = format!(
        r#"
name = "busy"
zones = ["az-a", "az-b"]

[workload.w]
target = "api"
rate = 800
timeout = "500ms"

[service.api]
zones = ["az-a", "az-b"]
replicas = 2
workers = 4
service_time = {EXP_1MS}
calls = [
  {{ to = "sessions", timeout = "20ms" }},
  {{ to = "pay", timeout = "200ms", probability = 0.3, optional = true }},
]

[cache.sessions]
zones = ["az-a", "az-b"]
workers = 8
service_time = {EXP_1MS}
hit_ratio = 0.8
backing = "db"

[database.db]
zones = ["az-a", "az-b"]
primary = "az-a"
failover = "2s"
workers = 8
service_time = {{ dist = "lognormal", median = "2ms", p99 = "20ms" }}

[external.pay]
latency = {{ dist = "lognormal", median = "50ms", p99 = "300ms" }}
error_rate = 0.01
"#
    );
    let faults = r#"
[[fault]]
kind = "chaos-monkey"
nodes = ["api", "sessions"]
start = "5s"
duration = "20s"
mean_interval = "2s"
restart_after = "1s"

[[fault]]
kind = "latency"
node = "pay"
latency = { dist = "exponential", mean = "100ms" }
share = 0.5
start = "8s"
duration = "10s"

[[fault]]
kind = "zone-outage"
zone = "az-a"
start = "12s"
duration = "4s"
recovery = "2s"

[[fault]]
kind = "traffic-spike"
workload = "w"
factor = 1.5
start = "6s"
duration = "5s"
"#;
    let scenario = load(&model, &scenario_text("30s", faults));
    let json = || to_json(&Findings::new(&scenario, &study_recorded(&scenario)));
    let first = json();
    assert_eq!(first, json());
    // Not vacuous: the report moves with the seed.
    let mut reseeded = scenario.clone();
    reseeded.seed += 1;
    assert_ne!(
        first,
        to_json(&Findings::new(&reseeded, &study_recorded(&reseeded)))
    );
}
