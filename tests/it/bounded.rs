//! Bounded runs: a scenario built to explode — retries on every layer, no retry budget, a long
//! outage of the database answered by nobody, no queue bounds, a patient client — ends at
//! whichever bound it reaches first, with the bound, the time and the state reported, within
//! the bound, quickly. Each case sets one bound small so it takes about a second.

use std::path::{Path, PathBuf};
use std::process::Command;

use blastradius::analysis::study;
use blastradius::model::load_scenario;
use blastradius::sim::{Bound, BoundState, RunOutcome};

/// Three layers: the client waits 60 s, the edge retries 5 times with a 20 s timeout, the
/// orders service 5 times with a 1 s timeout; no queue bounds. From 2 s the database swallows
/// every call (a blackhole: callers wait out their timeouts) for 50 s, so each user request
/// becomes up to 6 x 6 = 36 attempts at the database and the work in flight grows without end.
const MODEL: &str = r#"
name = "retry storm"
zones = ["a", "b"]

[workload.users]
target = "edge"
rate = 2000
timeout = "60s"

[service.edge]
zones = ["a", "b"]
replicas = 2
workers = 64
service_time = { dist = "exponential", mean = "1ms" }
calls = [{ to = "orders", timeout = "20s", retries = 5, backoff = "10ms" }]

[service.orders]
zones = ["a", "b"]
replicas = 2
workers = 64
service_time = { dist = "exponential", mean = "1ms" }
calls = [{ to = "db", timeout = "1s", retries = 5, backoff = "10ms" }]

[database.db]
zones = ["a", "b"]
primary = "a"
workers = 64
service_time = { dist = "exponential", mean = "2ms" }
"#;

/// Writes the storm with `limits` (lines of the `[limits]` table) into `dir`.
fn storm_file(dir: &Path, limits: &str) -> PathBuf {
    std::fs::write(dir.join("storm.toml"), MODEL).expect("model");
    let path = dir.join("storm-scenario.toml");
    let text = format!(
        "name = \"retry storm\"\nmodel = \"storm.toml\"\nduration = \"1m\"\nseed = 5\n\
         [limits]\n{limits}\n\
         [[fault]]\nkind = \"blackhole\"\nnode = \"db\"\nstart = \"2s\"\nduration = \"50s\"\n"
    );
    std::fs::write(&path, text).expect("scenario");
    path
}

/// Studies the storm under `limits`: the control (no fault) completes; the experiment stops
/// at a bound, and its numbers end there.
fn storm(limits: &str) -> (Bound, u64, BoundState) {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = load_scenario(&storm_file(dir.path(), limits)).expect("loads");
    let study = study(&scenario);
    assert_eq!(study.control.outcome, RunOutcome::Completed);
    let RunOutcome::BoundReached {
        bound,
        at_ns,
        state,
    } = study.experiment.outcome
    else {
        panic!("the storm ran to the end: {:?}", study.experiment.outcome);
    };
    assert_eq!(study.experiment.end_ns, at_ns);
    assert!(study.analysis.stopped_early);
    assert!(study.experiment.events <= scenario.limits.max_events);
    // Every request is still accounted for: ended once, or in flight at the stop.
    let outcomes = &study.experiment.workloads[0].outcomes;
    assert_eq!(outcomes.ended() + outcomes.in_flight, outcomes.requests);
    (bound, at_ns, state)
}

#[test]
fn the_storm_stops_at_the_requests_in_flight_bound() {
    let (bound, at_ns, state) = storm("max_requests_in_flight = 3000");
    assert_eq!(bound, Bound::RequestsInFlight);
    // 2,000 requests/s pile up from 2 s on: the bound is reached a second or two later.
    assert!((2_000_000_000..6_000_000_000).contains(&at_ns), "{at_ns}");
    assert_eq!(state.requests_in_flight, 3000);
    assert!(state.calls_in_flight >= 3000, "{state:?}");
    assert!(
        state.pending_events > 0 && state.memory_bytes > 0,
        "{state:?}"
    );
}

#[test]
fn the_storm_stops_at_the_calls_in_flight_bound() {
    let (bound, _, state) = storm("max_calls_in_flight = 5000");
    assert_eq!(bound, Bound::CallsInFlight);
    assert_eq!(state.calls_in_flight, 5000, "{state:?}");
}

#[test]
fn the_storm_stops_at_the_memory_bound() {
    // Real bytes (the counting allocator): the control holds about 22 MiB at its peak (120,000
    // client timers pending, each lane's growth room), and the storm's frames and timers pass
    // 48 MiB within seconds. The experiment counts the whole study, so it stops; the control
    // runs to its end.
    let (bound, _, state) = storm("max_memory_mb = 48");
    assert_eq!(bound, Bound::Memory);
    let limit = 48 << 20;
    // Checked every 1,024 events: the count passes the limit by at most their growth.
    assert!(state.memory_bytes > limit, "{state:?}");
    assert!(state.memory_bytes < 2 * limit, "{state:?}");
}

#[test]
fn the_storm_stops_at_the_events_bound() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = storm_file(dir.path(), "max_events = 200_000");
    let scenario = load_scenario(&path).expect("loads");
    let study = study(&scenario);
    for run in [&study.control, &study.experiment] {
        assert!(matches!(
            run.outcome,
            RunOutcome::BoundReached {
                bound: Bound::Events,
                ..
            }
        ));
        assert_eq!(run.events, 200_000);
    }
}

/// The reports say which bound, when, and what the run held then.
#[test]
fn text_and_json_reports_show_the_bound_and_the_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = storm_file(dir.path(), "max_requests_in_flight = 3000");
    let run = |format: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_blastradius"))
            .args(["run", path.to_str().expect("utf-8"), "--format", format])
            .output()
            .expect("the binary runs");
        assert!(
            output.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    };
    let text = run("text");
    let stopped = text
        .lines()
        .position(|l| {
            l.starts_with("STOPPED EARLY: the experiment reached max_requests_in_flight at ")
        })
        .unwrap_or_else(|| panic!("{text}"));
    let state = text.lines().nth(stopped + 1).unwrap_or("");
    assert!(
        state.starts_with("  state then: 3000 requests and ") && state.contains(" events pending"),
        "{state}"
    );
    let json: serde_json::Value = serde_json::from_str(&run("json")).expect("json");
    let outcome = &json["outcome"];
    assert_eq!(outcome["status"], "bound_reached");
    assert_eq!(outcome["bound"], "requests_in_flight");
    assert!(outcome["at_ns"].as_u64().is_some_and(|t| t > 2_000_000_000));
    assert_eq!(outcome["state"]["requests_in_flight"], 3000);
    for key in [
        "calls_in_flight",
        "queued_calls",
        "longest_queue",
        "pending_events",
        "memory_bytes",
    ] {
        assert!(outcome["state"][key].is_u64(), "{key}: {outcome}");
    }
    assert_eq!(json["control_outcome"]["status"], "completed");
}

/// A fault schedule is bounded too: a chaos monkey crashing a replica every nanosecond for an
/// hour would be 3.6 trillion effects planned before the run starts. The loader refuses it,
/// at its `mean_interval`.
#[test]
fn a_chaos_monkey_too_fast_for_its_span_is_rejected() {
    let model = include_str!("../../models/shop.toml");
    let read = |_: &Path| Ok(model.to_string());
    let text = "name = \"monkey\"\nmodel = \"../models/shop.toml\"\nduration = \"1h\"\n\
                [[fault]]\nkind = \"chaos-monkey\"\nnode = \"api\"\nstart = \"1m\"\n\
                mean_interval = \"1ns\"\nrestart_after = \"10s\"\n";
    let file = Path::new("scenarios/monkey.toml");
    let error = blastradius::model::parse_scenario(file, text, read).expect_err("refused");
    let d = &error.items[0];
    assert_eq!((d.line, d.column), (8, 17), "{d:?}");
    assert!(
        d.message
            .contains("the chaos monkey would crash about 3540000000000 replicas"),
        "{}",
        d.message
    );
    // Every 100 ms over the same 59 minutes is 35,400 crashes: planned, and fine.
    let sane = text.replace("\"1ns\"", "\"100ms\"");
    assert!(blastradius::model::parse_scenario(file, &sane, read).is_ok());
}
