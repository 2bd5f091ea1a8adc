//! The resilience mechanisms of calls — circuit breaker, retry budget, bulkhead, fallback —
//! each against the control run or against its own bound, and the retry-storm scenarios:
//! metastable without a remedy, recovered with one.
//!
//! The models use constant arrivals and constant service times where they can, so counts are
//! exact and the tolerances below are only for the mechanisms' own bucketing.

use std::path::Path;

use blastradius::analysis::Findings;
use blastradius::analysis::{RecoveryStatus, Study, study};
use blastradius::metrics::Cause;
use blastradius::model::{Scenario, Topology, load_scenario, parse_model};
use blastradius::report::{to_json, to_text};
use blastradius::sim::trace::{EventKind, Subject, TraceRecord, Tracer};
use blastradius::sim::{EdgeCounts, RunConfig, RunOutcome, run_traced};

use crate::support::load;

const MS: u64 = 1_000_000;
const SECOND: u64 = 1_000_000_000;

/// Studies `model` for `duration` (2 s warm-up, seed 7) with `faults`; both runs complete.
fn run(model: &str, duration: &str, faults: &str) -> (Scenario, Study) {
    let text = format!(
        "name = \"test\"\nmodel = \"model.toml\"\nduration = \"{duration}\"\nwarmup = \"2s\"\n\
         seed = 7\n\n{faults}\n"
    );
    let scenario = load(model, &text);
    let result = study(&scenario);
    assert_eq!(result.control.outcome, RunOutcome::Completed, "control");
    assert_eq!(result.experiment.outcome, RunOutcome::Completed);
    (scenario, result)
}

fn node(scenario: &Scenario, name: &str) -> usize {
    scenario.topology.node_id(name).expect("node").index()
}

/// The one edge's counts in the experiment and the control.
fn edge(study: &Study) -> (EdgeCounts, EdgeCounts) {
    assert_eq!(study.experiment.edges.len(), 1);
    (
        study.experiment.edges[0].counts,
        study.control.edges[0].counts,
    )
}

/// api (async, plenty of workers) -> db, at `rate` constant arrivals per second.
fn api_db(rate: u32, call: &str, db_service: &str, db_workers: u32) -> String {
    format!(
        "name = \"m\"\nzones = [\"a\"]\n\n[workload.w]\ntarget = \"api\"\nrate = {rate}\n\
         arrival = \"constant\"\n\n[service.api]\nzones = [\"a\"]\nreplicas = 2\nworkers = 10000\n\
         concurrency = \"async\"\nservice_time = {{ dist = \"constant\", value = \"1ms\" }}\n\
         calls = [{call}]\n\n[service.db]\nzones = [\"a\"]\nworkers = {db_workers}\n\
         service_time = {{ dist = \"constant\", value = \"{db_service}\" }}\n"
    )
}

const ERRORS_10S_TO_15S: &str =
    "[[fault]]\nkind = \"errors\"\nnode = \"db\"\nstart = \"10s\"\nduration = \"5s\"\n";

const BREAKER_CALL: &str = "{ to = \"db\", timeout = \"100ms\", retries = 2, \
    circuit_breaker = { failure_rate = 0.5, window = \"1s\", min_calls = 20, open = \"1s\" } }";

#[test]
fn the_breaker_opens_during_errors_and_closes_after_them() {
    let model = api_db(200, BREAKER_CALL, "2ms", 100);
    let (scenario, full) = run(&model, "30s", ERRORS_10S_TO_15S);
    let api = node(&scenario, "api");
    let (exp, control) = edge(&full);
    // The control never fails, so its breaker never opens.
    assert_eq!((control.breaker_opens, control.circuit_open), (0, 0));
    // During 5 s of errors at 200 calls/s the breaker opens, and stays open but for the 1 s
    // open periods' probes: it opened at least once per 1 s open period and refused most of
    // the 1,000 calls of the fault (at least 60%: it needs half a 1 s window to trip).
    assert!(exp.breaker_opens >= 2, "{exp:?}");
    assert!(exp.circuit_open >= 600, "{exp:?}");
    assert!(
        exp.open_ns >= 3 * SECOND && exp.open_ns <= 6 * SECOND,
        "{exp:?}"
    );
    // No refusal before the fault: the before window of api has no circuit_open failures.
    let before = &full.experiment.nodes[api].windows[0].outcomes;
    assert_eq!(before.failed_by_cause[Cause::CircuitOpen as usize], 0);
    // Nothing before min_calls failures: a run cut 50 ms into the fault has seen 10 failed
    // calls (200/s, constant arrivals), fewer than min_calls = 20, and no refusal.
    let (_, cut) = run(&model, "10050ms", ERRORS_10S_TO_15S);
    let (early, _) = edge(&cut);
    assert_eq!(
        (early.breaker_opens, early.circuit_open),
        (0, 0),
        "{early:?}"
    );
    // Closed again after the fault: a run cut at the fault's end + open (1 s) + a probe's time
    // (a few ms; 500 ms allowed) has refused exactly as many calls as the whole run.
    let (_, cut) = run(&model, "16500ms", ERRORS_10S_TO_15S);
    let (until_closed, _) = edge(&cut);
    assert_eq!(until_closed.circuit_open, exp.circuit_open);
    assert_eq!(until_closed.breaker_opens, exp.breaker_opens);
    // And the failures after the fault are only refusals of the last open period (at most
    // 1 s of arrivals: 200); the control failed none.
    let after = &full.experiment.workloads[0].windows[2].outcomes;
    let control_after = &full.control.workloads[0].windows[2].outcomes;
    assert_eq!(control_after.failed(), 0);
    let refused = after.failed_by_cause[Cause::CircuitOpen as usize];
    assert!(after.failed() == refused && refused <= 200, "{after:?}");
    // Refused calls failed fast and were not retried: api saw circuit_open failures, and the
    // edge sent no more retries than 2 per call that reached db and failed.
    let during = &full.experiment.nodes[api].windows[1].outcomes;
    assert!(during.failed_by_cause[Cause::CircuitOpen as usize] > 0);
}

#[test]
fn a_retry_budget_caps_amplification() {
    // Errors on db for the whole measured run (18 s at 200 calls/s = 3,600 calls), 3 retries.
    let faults = "[[fault]]\nkind = \"errors\"\nnode = \"db\"\nstart = \"2s\"\n";
    let plain = "{ to = \"db\", timeout = \"100ms\", retries = 3 }";
    let budget = "{ to = \"db\", timeout = \"100ms\", retries = 3, \
        retry_budget = { ratio = 0.2, min_per_s = 10, window = \"2s\" } }";
    let (scenario, without) = run(&api_db(200, plain, "2ms", 100), "20s", faults);
    let db = node(&scenario, "db");
    let api = node(&scenario, "api");
    let calls = without.experiment.nodes[api].outcomes.requests as f64;
    let reached = without.experiment.nodes[db].outcomes.requests as f64;
    // Without a budget every failed call is tried 4 times: within 1% (the calls at the edges
    // of the measured time).
    assert!((reached / calls - 4.0).abs() < 0.04, "{reached} / {calls}");
    let (_, with) = run(&api_db(200, budget, "2ms", 100), "20s", faults);
    let (counts, _) = edge(&with);
    let reached = with.experiment.nodes[db].outcomes.requests as f64;
    // With it: at most (1 + ratio) x calls + min_per_s x 18 s = 4,500 attempts; 10% allowed
    // for the window's bucketing (the last window holds 90-100% of its span) and the 2 s of
    // first attempts already in the window when the errors begin.
    let bound = 1.2 * calls + 10.0 * 18.0;
    assert!(reached <= 1.1 * bound, "{reached} > {bound}");
    // The budget is spent, not starved: at least 80% of it.
    assert!(reached >= 0.8 * bound, "{reached} < {bound}");
    // Denied retries are counted: every call beyond the retries the budget allowed.
    assert!(
        counts.retries_denied as f64 >= calls - counts.retries as f64,
        "{counts:?}"
    );
    // The edge counts calls by attempt time, the node by arrival: the same but for one call
    // at the warm-up's edge.
    assert!(
        (counts.calls as f64 - calls).abs() <= 1.0,
        "{counts:?} vs {calls}"
    );
}

/// Collects the times of db's `ServiceDone` events.
struct DoneAt {
    db: u32,
    times: Vec<u64>,
}

impl Tracer for DoneAt {
    fn record(&mut self, record: &TraceRecord<'_>) {
        if record.kind == EventKind::ServiceDone
            && record.subject == Subject::Node(blastradius::model::NodeId(self.db))
            && !record.stale
        {
            self.times.push(record.time_ns);
        }
    }
}

#[test]
fn a_bulkhead_caps_concurrency_at_the_callee() {
    // 200 calls/s to a db that takes 100 ms with 100 workers: 20 would be in flight, but the
    // bulkhead allows 5 per api replica, 10 in all.
    let call = "{ to = \"db\", bulkhead = 5 }";
    let topology: Topology =
        parse_model(Path::new("m.toml"), &api_db(200, call, "100ms", 100)).expect("loads");
    let config = RunConfig::plain(7, 20 * SECOND, 2 * SECOND);
    let db = topology.node_id("db").expect("db");
    let mut tracer = DoneAt {
        db: db.0,
        times: Vec::new(),
    };
    let plan = Default::default();
    let result = run_traced(&topology, &config, &plan, &mut tracer);
    // With a constant 100 ms service and free workers, a call is in flight at db during the
    // 100 ms before its ServiceDone: the most ServiceDone events within any 100 ms is the
    // most calls db held at once, measured from the callee's side.
    let times = &tracer.times;
    let mut most = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= 100 * MS {
            start += 1;
        }
        most = most.max(end - start + 1);
    }
    assert!(most <= 10, "db held {most} of api's calls at once");
    assert!(most >= 9, "the bulkhead should be full at times: {most}");
    // The refused calls failed with bulkhead_full, as many as the edge counted: about half of
    // the 3,600 calls (10 of the 20 places wanted), within 10%.
    let counts = result.edges[0].counts;
    let api = &result.nodes[topology.node_id("api").expect("api").index()];
    assert_eq!(
        api.outcomes.failed_by_cause[Cause::BulkheadFull as usize],
        counts.bulkhead_full
    );
    let share = counts.bulkhead_full as f64 / counts.calls as f64;
    assert!((share - 0.5).abs() < 0.05, "{counts:?}");
    // And db never saw them: its arrivals are the calls minus the refusals, within the calls
    // in flight at the ends of the measured time (a handful).
    let db_calls = result.nodes[db.index()].outcomes.requests;
    assert!((db_calls as i64 - (counts.calls - counts.bulkhead_full) as i64).abs() <= 12);
}

#[test]
fn a_fallback_adds_its_latency_and_counts_degraded() {
    let model = |call: &str| {
        format!(
            "name = \"m\"\nzones = [\"a\"]\n[workload.w]\ntarget = \"api\"\nrate = 500\n\
             [service.api]\nzones = [\"a\"]\nworkers = 10000\nconcurrency = \"async\"\n\
             service_time = {{ dist = \"constant\", value = \"1ms\" }}\ncalls = [{call}]\n\
             [external.ext]\nlatency = {{ dist = \"constant\", value = \"10ms\" }}\n\
             error_rate = 0.3\n"
        )
    };
    let run = |call: &str| {
        let topology = parse_model(Path::new("m.toml"), &model(call)).expect("loads");
        let config = RunConfig::plain(7, 20 * SECOND, SECOND);
        blastradius::sim::run(&topology, &config)
    };
    let plain = run("{ to = \"ext\", optional = true }");
    let with = run("{ to = \"ext\", optional = true, fallback = \"5ms\" }");
    let (p, w) = (&plain.workloads[0], &with.workloads[0]);
    // The same requests fail at ext (its error stream is the same); each is degraded either
    // way: ~30% of ~9,500 requests. Except at the end of the run: a degraded request that
    // arrived in its last 16 ms is still in flight with the fallback's 5 ms but not without
    // it (0.75 such requests expected at 500/s; 4 or more has probability 0.7%).
    assert!(
        p.outcomes.degraded - w.outcomes.degraded <= 4,
        "{} vs {}",
        p.outcomes.degraded,
        w.outcomes.degraded
    );
    assert_eq!(
        p.outcomes.degraded + p.outcomes.in_flight,
        w.outcomes.degraded + w.outcomes.in_flight
    );
    assert!(w.outcomes.degraded > 2000, "{:?}", w.outcomes);
    assert_eq!(w.outcomes.failed(), 0);
    // Every degraded request was served a fallback, counted on the edge.
    // (Fallbacks are counted when served, requests when they arrive: a few at the warm-up's
    // edge — 11 ms of arrivals at 500/s — may differ.)
    let fallbacks = with.edges[0].counts.fallbacks;
    assert!(fallbacks.abs_diff(w.outcomes.degraded) <= 6, "{fallbacks}");
    // The mean latency grows by exactly 5 ms x the degraded share (sums are exact; 1 us
    // allowed for the division).
    let share = w.outcomes.degraded as f64 / w.latency.count() as f64;
    let grown = w.latency.mean_ns() - p.latency.mean_ns();
    assert!(
        (grown - 5e6 * share).abs() < 1e3,
        "{grown} vs {}",
        5e6 * share
    );
}

#[test]
fn reports_show_the_edges_only_when_the_model_has_mechanisms() {
    let (scenario, result) = run(
        &api_db(200, BREAKER_CALL, "2ms", 100),
        "20s",
        ERRORS_10S_TO_15S,
    );
    let document = Findings::new(&scenario, &result);
    let json: serde_json::Value = serde_json::from_str(&to_json(&document)).expect("json");
    let edge = &json["resilience"][0];
    assert_eq!(edge["caller"], "api");
    assert_eq!(edge["callee"], "db");
    assert_eq!(edge["mechanisms"][0], "circuit_breaker");
    let opens = result.experiment.edges[0].counts.breaker_opens;
    assert_eq!(edge["experiment"]["breaker_opens"], opens);
    assert_eq!(edge["control"]["breaker_opens"], 0);
    let text = to_text(&document);
    assert!(text.contains("RESILIENCE per edge"), "{text}");
    assert!(
        text.contains("api -> db (circuit_breaker): calls"),
        "{text}"
    );
    assert!(
        text.contains(&format!("breaker opened {opens} [0]")),
        "{text}"
    );
    // Without mechanisms: no section at all.
    let plain = "{ to = \"db\", timeout = \"100ms\" }";
    let (scenario, result) = run(&api_db(200, plain, "2ms", 100), "20s", ERRORS_10S_TO_15S);
    let document = Findings::new(&scenario, &result);
    let json: serde_json::Value = serde_json::from_str(&to_json(&document)).expect("json");
    assert!(json.get("resilience").is_none());
    assert!(!to_text(&document).contains("RESILIENCE"));
}

fn bundled(name: &str) -> (Scenario, Study) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let scenario = load_scenario(&path).unwrap_or_else(|e| panic!("{e}"));
    let result = study(&scenario);
    (scenario, result)
}

/// Availability of the users in the after window: (experiment, control).
fn after_availability(study: &Study) -> (f64, f64) {
    let e = study.experiment.workloads[0].windows[2]
        .outcomes
        .availability();
    let c = study.control.workloads[0].windows[2]
        .outcomes
        .availability();
    (e, c)
}

#[test]
fn the_retry_storm_outlives_its_trigger() {
    let (_, storm) = bundled("retry-storm.toml");
    let (e, c) = after_availability(&storm);
    // Over the 5.5 minutes after the 30 s trigger (~33,000 requests), the control is nearly
    // always available and the storm nearly never.
    assert!(c > 0.99, "control {c}");
    assert!(e < 0.5 * c, "after the trigger: {e} vs control {c}");
    assert!(
        storm
            .analysis
            .recovery
            .iter()
            .all(|r| r.status == RecoveryStatus::NotRecovered),
        "{:?}",
        storm.analysis.recovery
    );
}

#[test]
fn a_retry_budget_or_a_breaker_ends_the_storm() {
    for name in [
        "retry-storm-retry-budget.toml",
        "retry-storm-circuit-breaker.toml",
    ] {
        let (_, remedy) = bundled(name);
        let (e, c) = after_availability(&remedy);
        // The after window (5.5 min, ~33,000 requests) includes the seconds the backlog takes
        // to drain: within 3 points of the control (the storm: more than 50 points below).
        assert!(e > c - 0.03, "{name}: after the trigger {e} vs control {c}");
        assert!(
            remedy
                .analysis
                .recovery
                .iter()
                .all(|r| matches!(r.status, RecoveryStatus::Recovered { .. })),
            "{name}: {:?}",
            remedy.analysis.recovery
        );
    }
}

#[test]
fn the_markdown_report_shows_the_mechanisms_only_when_a_model_has_them() {
    use blastradius::report::to_markdown;
    let markdown = |file: &str| {
        let scenario = load_scenario(Path::new(file)).expect("bundled");
        to_markdown(&Findings::new(&scenario, &study(&scenario)))
    };
    let breaker = markdown("scenarios/retry-storm-circuit-breaker.toml");
    let section = breaker
        .split("### Mechanisms")
        .nth(1)
        .expect("a Mechanisms section");
    assert!(
        section.contains("- api -\\> backend (circuit\\_breaker)")
            && section.contains("breaker opened"),
        "{section}"
    );
    assert!(!markdown("scenarios/shop-steady-state.toml").contains("### Mechanisms"));
}
