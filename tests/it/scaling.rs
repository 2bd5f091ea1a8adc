//! Autoscaling, static stability and zonal shift, each asserted against the control run or
//! against a hand computation.
//!
//! The autoscaling model: `api` in two zones, 2 replicas per zone of 4 workers, exponential
//! service time of mean 5 ms, so a replica serves 800 requests/s and the node 3,200/s. The
//! workload sends 2,000/s: utilisation 0.625 against a 0.7 target, so the autoscaler holds 2
//! per zone (ceil(2 × 0.625 / 0.7) = 2). A spike doubles the load to 4,000/s — more than the
//! node can serve — so the first period of the spike measures a utilisation near 1 and
//! scales each zone out; with 4 per zone the utilisation is 0.625 again.

use blastradius::analysis::Findings;
use blastradius::analysis::{Study, study_recorded};
use blastradius::metrics::{Bucket, Cause};
use blastradius::model::Scenario;
use blastradius::report::{to_json, to_text};
use blastradius::sim::{NodeScaling, RunOutcome};

use crate::support::load;

const SECOND: u64 = 1_000_000_000;

fn run(model: &str, duration: &str, faults: &str) -> (Scenario, Study) {
    let text = format!(
        "name = \"test\"\nmodel = \"model.toml\"\nduration = \"{duration}\"\nwarmup = \"10s\"\n\
         seed = 11\n\n{faults}\n"
    );
    let scenario = load(model, &text);
    let result = study_recorded(&scenario);
    assert_eq!(result.control.outcome, RunOutcome::Completed, "control");
    assert_eq!(
        result.experiment.outcome,
        RunOutcome::Completed,
        "experiment"
    );
    (scenario, result)
}

/// `api` autoscaled with `max` per zone (see the module's doc for the numbers).
fn scaled_model(max: u32) -> String {
    format!(
        r#"
name = "scaled"
zones = ["az-a", "az-b"]

[workload.users]
target = "api"
rate = 2000
timeout = "2s"

[service.api]
zones = ["az-a", "az-b"]
replicas = 2
workers = 4
queue = 20
concurrency = "async"
service_time = {{ dist = "exponential", mean = "5ms" }}
autoscale = {{ min = 2, max = {max}, target = 0.7, period = "10s", warmup = "20s" }}
"#
    )
}

/// The load doubles from 40 s to 140 s.
const SPIKE: &str = r#"
[[fault]]
kind = "traffic-spike"
workload = "users"
factor = 2
start = "40s"
duration = "100s"
"#;

fn scaling_of<'a>(scenario: &Scenario, runs: &'a [NodeScaling], name: &str) -> &'a NodeScaling {
    let id = scenario.topology.node_id(name).expect("node");
    runs.iter().find(|s| s.node == id).expect("autoscaled")
}

/// Sums of a node's per-second buckets over `[from, to)` seconds: completed, failed.
fn buckets_in(buckets: &[Bucket], step_ns: u64, from: u64, to: u64) -> (u64, u64, u64) {
    let range = (from * SECOND / step_ns) as usize..(to * SECOND / step_ns) as usize;
    let slice = &buckets[range];
    let p99 = slice.iter().map(|b| b.p99_ns).max().unwrap_or(0);
    (
        slice.iter().map(|b| b.completed).sum(),
        slice.iter().map(|b| b.errors).sum(),
        p99,
    )
}

#[test]
fn a_spike_scales_out_after_a_period_serves_after_the_warmup_and_scales_back_in() {
    let (scenario, result) = run(&scaled_model(6), "200s", SPIKE);
    let control = scaling_of(&scenario, &result.control.autoscaling, "api");
    let experiment = scaling_of(&scenario, &result.experiment.autoscaling, "api");
    // Without the spike the control holds 2 per zone all run long: 2 × 0.625 / 0.7 = 1.8
    // (the measured utilisation over 10 s × 8 workers × 2 replicas of Poisson load would have
    // to exceed 0.7, 12 % above its mean, to move it — over 10 standard deviations).
    assert!(control.events.is_empty(), "{:?}", control.events);
    // The first resize is the first evaluation after the spike starts (at 40 s, period 10 s):
    // at 50 s, each zone from 2 to 3 or more (utilisation near 1: ceil(2 × 1 / 0.7) = 3).
    let first = experiment.events.first().expect("a scale-out");
    assert_eq!(first.at_ns, 50 * SECOND);
    assert_eq!(first.from, 2);
    assert!(first.to >= 3 && first.utilisation > 0.9, "{first:?}");
    // The new replicas are started at once and serve only after the 20 s warm-up.
    let at = |t: u64| {
        let point = experiment.series.iter().take_while(|p| p.at_ns <= t).last();
        let point = point.expect("series starts at 0");
        (point.serving, point.started)
    };
    assert_eq!(at(49 * SECOND), (4, 4));
    let (serving, started) = at(50 * SECOND);
    assert_eq!(serving, 4, "still 4 serving during the warm-up");
    assert!(started >= 6, "started {started}");
    assert!(at(70 * SECOND).0 >= 6, "serving after the warm-up");
    // Never beyond max (6 per zone), and at the end of the spike back to the starting count.
    assert!(experiment.events.iter().all(|e| e.to <= 6 && e.to >= 2));
    assert!(experiment.series.iter().all(|p| p.started <= 12));
    let peak = experiment.series.iter().map(|p| p.started).max().unwrap();
    assert_eq!(
        peak, 8,
        "4 per zone: ceil(4 × 0.625 / 0.7) = 4 holds: {:?}",
        experiment.events
    );
    let scale_in = experiment
        .events
        .iter()
        .find(|e| e.to < e.from)
        .expect("scale-in");
    assert!(scale_in.at_ns > 140 * SECOND, "{scale_in:?}");
    assert_eq!(experiment.series.last().unwrap().started, 4);

    // Rejections and p99 at the node: in the spike's first 10 s (2 replicas per zone serving
    // 4,000/s on 3,200/s of capacity) many calls are rejected; in its last 30 s (110–140 s,
    // 4 per zone serving since 100 s) none are, and the p99 is within twice the control's
    // over the same seconds (both are a few service times; 30 s × 4,000 calls).
    let api = scenario.topology.node_id("api").unwrap().index();
    let (c, e) = (&result.control.nodes[api], &result.experiment.nodes[api]);
    let step = e.series.step_ns();
    let (_, early_errors, _) = buckets_in(e.series.buckets(), step, 40, 50);
    let (late_done, late_errors, late_p99) = buckets_in(e.series.buckets(), step, 110, 140);
    let (_, _, control_p99) = buckets_in(c.series.buckets(), step, 110, 140);
    assert!(early_errors > 1000, "early spike errors {early_errors}");
    assert!(late_done > 100_000, "late spike served {late_done}");
    assert_eq!(late_errors, 0);
    assert!(late_p99 <= 2 * control_p99, "{late_p99} vs {control_p99}");
    assert!(e.outcomes.failed_by_cause[Cause::Rejected as usize] > 0);
}

#[test]
fn scaling_stops_at_max() {
    // With max 3 per zone the spike's demand (4 per zone) is clamped: the node stays at 3.
    let (scenario, result) = run(&scaled_model(3), "120s", SPIKE);
    let experiment = scaling_of(&scenario, &result.experiment.autoscaling, "api");
    assert!(experiment.events.iter().all(|e| e.to <= 3));
    let peak = experiment.series.iter().map(|p| p.started).max().unwrap();
    assert_eq!(peak, 6);
    // At 3 per zone the measured utilisation (4,000/s on 4,800/s: 0.83) asks for
    // ceil(3 × 0.83 / 0.7) = 4: the clamp is what holds it.
    let at_three = experiment.series.iter().filter(|p| p.serving == 6).count();
    assert!(at_three > 0, "{:?}", experiment.series);
}

#[test]
fn a_zone_outage_stops_the_replicas_scaling_added_there() {
    let faults = format!(
        "{SPIKE}\n[[fault]]\nkind = \"zone-outage\"\nzone = \"az-a\"\nstart = \"110s\"\n\
         duration = \"20s\"\n"
    );
    let (scenario, result) = run(&scaled_model(6), "150s", &faults);
    let experiment = scaling_of(&scenario, &result.experiment.autoscaling, "api");
    let before = experiment
        .series
        .iter()
        .take_while(|p| p.at_ns < 110 * SECOND)
        .last();
    assert_eq!(before.unwrap().serving, 8, "4 per zone before the outage");
    // At the outage every replica of az-a stops, the two scaling added included: 4 serve.
    let during = experiment
        .series
        .iter()
        .find(|p| p.at_ns == 110 * SECOND)
        .unwrap();
    assert_eq!(during.serving, 4, "{:?}", experiment.series);
    // No resize of az-a while it is down (evaluations at 110 and 120 s find nothing serving).
    let az_a = scenario.topology.zone_id("az-a").unwrap();
    assert!(
        !experiment
            .events
            .iter()
            .any(|e| e.zone == az_a && (110 * SECOND..130 * SECOND).contains(&e.at_ns)),
        "{:?}",
        experiment.events
    );
    // They come back with their zone.
    let back = experiment
        .series
        .iter()
        .find(|p| p.at_ns == 130 * SECOND)
        .unwrap();
    assert_eq!(back.serving, 8);
}

#[test]
fn autoscaling_is_shown_in_the_json_and_text_reports() {
    let (scenario, result) = run(&scaled_model(6), "160s", SPIKE);
    let document = Findings::new(&scenario, &result);
    let json: serde_json::Value = serde_json::from_str(&to_json(&document)).expect("JSON");
    let api = &json["autoscaling"][0];
    assert_eq!(api["node"], "api");
    let events = api["experiment"]["events"].as_array().expect("events");
    let scaling = scaling_of(&scenario, &result.experiment.autoscaling, "api");
    assert_eq!(events.len(), scaling.events.len());
    assert_eq!(events[0]["zone"], "az-a");
    assert_eq!(events[0]["at_ns"], 50 * SECOND);
    assert_eq!(api["experiment"]["peak"], 8);
    let serving = api["experiment"]["series"]["serving"].as_array().unwrap();
    assert_eq!(serving.len(), scaling.series.len());
    let text = to_text(&document);
    assert!(
        text.contains("autoscaling (replicas started, all zones)"),
        "{text}"
    );
    assert!(text.contains("experiment: 4 at start, peak 8"), "{text}");
    assert!(text.contains("50s  az-a  2 -> "), "{text}");
}

// ---- static stability -------------------------------------------------------------------

/// `api` in two zones, `replicas` per zone of 10 workers, a constant 10 ms of async work:
/// 1,000 requests/s per replica. 1,200 requests/s on 2 replicas is 60% utilisation.
fn stability_model(replicas: u32) -> String {
    format!(
        r#"
name = "stability"
zones = ["az-a", "az-b"]

[workload.users]
target = "api"
rate = 1200

[service.api]
zones = ["az-a", "az-b"]
replicas = {replicas}
workers = 10
concurrency = "async"
service_time = {{ dist = "constant", value = "10ms" }}
calls = [{{ to = "payments" }}]

[external.payments]
latency = {{ dist = "constant", value = "1ms" }}
"#
    )
}

#[test]
fn static_stability_matches_the_hand_computation() {
    use blastradius::analysis::static_stability;
    use blastradius::model::parse_model;
    let parse = |text: &str| {
        parse_model(std::path::Path::new("m.toml"), text).unwrap_or_else(|d| panic!("{d}"))
    };
    // One replica per zone: 1,200/s on 2,000/s is 0.6; losing either zone leaves 1,200/s on
    // 1,000/s: 1.2, not statically stable (nor survivable).
    let one = static_stability(&parse(&stability_model(1)));
    assert!(!one.stable);
    assert_eq!(one.headroom, 0.8);
    for (loss, zone) in one.zones.iter().zip(["az-a", "az-b"]) {
        assert_eq!(loss.zone, zone);
        assert_eq!(loss.worst_node.as_deref(), Some("api"));
        assert!((loss.utilisation_before.unwrap() - 0.6).abs() < 1e-12);
        assert!((loss.utilisation_after.unwrap() - 1.2).abs() < 1e-12);
        assert!(!loss.stable && !loss.survives);
    }
    assert_eq!(
        one.summary(),
        "static stability: losing az-a leaves api at 120% utilisation (not statically stable)"
    );
    // Two per zone: 0.3 before, 0.6 after: statically stable (below the 0.8 headroom).
    let two = static_stability(&parse(&stability_model(2)));
    assert!(two.stable);
    for loss in &two.zones {
        assert!((loss.utilisation_before.unwrap() - 0.3).abs() < 1e-12);
        assert!((loss.utilisation_after.unwrap() - 0.6).abs() < 1e-12);
        assert!(loss.stable && loss.survives);
    }
    // The simulator agrees on the utilisation before the loss: 1,200/s × 10 ms on 20 workers
    // is 0.6 of them busy on average (60 s, 72,000 requests; constant service, Poisson
    // arrivals: the mean number busy is exact in expectation, its sampling error ~0.5%).
    let (scenario, result) = run(&stability_model(1), "60s", "");
    let api = scenario.topology.node_id("api").unwrap().index();
    let served = result.control.nodes[api].outcomes.ok as f64;
    let busy = served * 0.010 / 50.0 / 20.0;
    assert!((busy - 0.6).abs() < 0.02, "{busy}");
}

#[test]
fn static_stability_is_in_every_json_and_text_report() {
    let (scenario, result) = run(&stability_model(1), "20s", "");
    let document = Findings::new(&scenario, &result);
    let json: serde_json::Value = serde_json::from_str(&to_json(&document)).expect("JSON");
    let stability = &json["static_stability"];
    assert_eq!(stability["stable"], false);
    assert_eq!(stability["zones"][1]["zone"], "az-b");
    assert_eq!(stability["zones"][1]["worst_node"], "api");
    let text = to_text(&document);
    assert!(
        text.contains("static stability: losing az-a leaves api at 120% utilisation"),
        "{text}"
    );
    // No autoscaling section without autoscaling.
    assert!(json.get("autoscaling").is_none());
    assert!(!text.contains("autoscaling"));
}

// ---- zonal shift ------------------------------------------------------------------------

/// `api` in three zones with room to spare (a constant 1 ms, 8 workers per replica, 300
/// requests/s), so a request takes exactly 1 ms plus the external's 100 ms unless a fault
/// acts; about 10 requests are in flight at az-a's api replicas at any time.
const SHIFT_MODEL: &str = r#"
name = "shift"
zones = ["az-a", "az-b", "az-c"]

[workload.users]
target = "api"
rate = 300
timeout = "2s"

[service.api]
zones = ["az-a", "az-b", "az-c"]
replicas = 2
workers = 8
concurrency = "async"
service_time = { dist = "constant", value = "1ms" }
calls = [{ to = "payments", timeout = "1s" }]

[external.payments]
latency = { dist = "constant", value = "100ms" }
"#;

#[test]
fn during_a_zonal_shift_no_new_call_reaches_the_zone_and_requests_still_succeed() {
    // The shift moves az-a's traffic from 20 s to 40 s; from 21 s az-a's api replicas are
    // slowed 1,000 times (1 s per call). Any call reaching them would take over 1 s.
    let faults = r#"
[[fault]]
kind = "zonal-shift"
zone = "az-a"
start = "20s"
duration = "20s"

[[fault]]
kind = "slowdown"
node = "api"
zone = "az-a"
factor = 1000
start = "21s"
duration = "19s"
"#;
    let (_, result) = run(SHIFT_MODEL, "50s", faults);
    let records = &result.experiment.requests[0];
    let shifted: Vec<_> = records
        .iter()
        .filter(|r| (21 * SECOND..39 * SECOND).contains(&r.arrived_ns))
        .collect();
    // 18 s at 300/s: about 5,400 requests, a third of them would have entered az-a.
    assert!(shifted.len() > 5000, "{}", shifted.len());
    let ok = blastradius::sim::RecordStatus::Ended(blastradius::metrics::Outcome::Ok);
    assert!(shifted.iter().all(|r| r.status == ok));
    let slowest = shifted.iter().map(|r| r.latency_ns).max().unwrap();
    assert!(
        slowest < 500_000_000,
        "slowest {slowest} ns: a call reached az-a"
    );
    // None entered az-a: its traffic entered az-b and az-c in turn.
    let az_a = blastradius::model::ZoneId(0);
    assert!(shifted.iter().all(|r| r.zone != az_a));
    // Without the shift, the slowdown alone does slow the requests reaching az-a.
    let slow_only = &faults[faults.rfind("[[fault]]").unwrap()..];
    let (_, alone) = run(SHIFT_MODEL, "50s", slow_only);
    let slowed = alone.experiment.requests[0]
        .iter()
        .filter(|r| (21 * SECOND..39 * SECOND).contains(&r.arrived_ns))
        .filter(|r| r.latency_ns > SECOND)
        .count();
    assert!(slowed > 1000, "{slowed}");
}

#[test]
fn a_zonal_shift_before_a_zone_outage_shrinks_its_blast_radius() {
    let outage = r#"
[[fault]]
kind = "zone-outage"
zone = "az-a"
start = "30s"
duration = "10s"
"#;
    let shift = r#"
[[fault]]
kind = "zonal-shift"
zone = "az-a"
start = "25s"
duration = "20s"
"#;
    let (_, alone) = run(SHIFT_MODEL, "60s", outage);
    let (_, shifted) = run(SHIFT_MODEL, "60s", &format!("{shift}{outage}"));
    let hurt = |s: &Study| s.analysis.blast_radius.as_ref().expect("faults").hurt;
    // The outage alone loses the calls in flight at az-a's replicas at 30 s (about 10: 100/s
    // enter az-a and stay there for 101 ms), whose users time out after 2 s; then the
    // balancer routes around the zone. After the shift nothing is in flight there.
    assert!(hurt(&alone) >= 1, "outage alone hurt {}", hurt(&alone));
    assert_eq!(hurt(&shifted), 0);
    let api = 0;
    let lost = |s: &Study| s.experiment.nodes[api].outcomes.failed_by_cause[Cause::Lost as usize];
    assert!(lost(&alone) >= 1);
    assert_eq!(lost(&shifted), 0);
}
