//! The study engine at scale: one control shared by many experiments gives each experiment
//! the study it gets alone, byte for byte; an experiment forked from the control before its
//! first fault is the experiment run from the start; a study keeps no per-request records.

use std::path::Path;

use blastradius::analysis::Findings;
use blastradius::analysis::fma::{FmaOptions, candidates, scenario_for};
use blastradius::analysis::{study, study_against, study_recorded, windows_for};
use blastradius::faults::{FaultPlan, plan};
use blastradius::kernel::SimTime;
use blastradius::model::{Arrival, load_model, load_scenario};
use blastradius::report::to_json;
use blastradius::sim::trace::NoTrace;
use blastradius::sim::{RunConfig, Simulation, run_with_faults};

const SECOND: u64 = 1_000_000_000;

fn options() -> FmaOptions {
    // Short runs (20 s, faults from 8 s for 5 s) keep the test quick; every family is in.
    FmaOptions {
        zones: true,
        nodes: true,
        edges: false,
        externals: true,
        caches: true,
        load: true,
        duration_ns: 20 * SECOND,
        warmup_ns: 5 * SECOND,
        fault_start_ns: 8 * SECOND,
        fault_duration_ns: 5 * SECOND,
        added_latency_ns: SECOND,
        spike_factor: 2.0,
    }
}

#[test]
fn one_shared_control_gives_every_candidate_its_own_study() {
    let path = Path::new("models/shop.toml");
    let topology = load_model(path).expect("shop loads");
    let options = options();
    let scenarios: Vec<_> = candidates(&topology, &options)
        .iter()
        .map(|c| scenario_for(path, &topology, c, &options, 3))
        .collect();
    assert!(scenarios.len() >= 6, "{} candidates", scenarios.len());
    let shared = study_against(&scenarios);
    assert_eq!(shared.len(), scenarios.len());
    for (scenario, together) in scenarios.iter().zip(&shared) {
        let alone = study(scenario);
        assert_eq!(
            to_json(&Findings::new(scenario, together)),
            to_json(&Findings::new(scenario, &alone)),
            "{}",
            scenario.name
        );
        // Both of those fork their experiments from the control; this one runs both sides
        // whole, from the start, and pairs their kept records at the end.
        let whole = study_recorded(scenario);
        assert_eq!(
            to_json(&Findings::new(scenario, together)),
            to_json(&Findings::new(scenario, &whole)),
            "{}",
            scenario.name
        );
        assert!(together.experiment.requests.iter().all(Vec::is_empty));
        assert!(
            together.analysis.blast_radius.is_some(),
            "{}",
            scenario.name
        );
    }
}

/// A run forked from the faultless run at any moment before its first fault goes on as the
/// run with the faults from the start, record for record and event for event: forked before
/// anything happened, a nanosecond before the first fault (events of that instant tie with
/// the fault's own), and a quarter-second barrier before it. The scenarios cover a zone
/// outage with a recovery phase, a chaos monkey, a cache flush, a traffic spike, a zonal
/// shift before an outage, health checks, a queue's consumer and autoscaling.
#[test]
fn a_fork_before_the_first_fault_is_the_run_with_the_faults_from_the_start() {
    for (name, constant) in [
        // Evenly spaced requests, 1 ms apart: one arrives at the very instant each fault
        // starts and ends, so the order of events that tie is tested too.
        ("az-a-power-interruption", true),
        ("az-a-power-interruption", false),
        ("chaos-monkey-api", false),
        ("cache-flush-at-peak", false),
        ("traffic-spike", false),
        ("zonal-shift-before-outage", false),
        ("crash-with-health-checks", false),
        ("consumer-crash-queue-lag", false),
        ("spike-with-autoscaling", false),
    ] {
        let mut scenario = load_scenario(Path::new(&format!("scenarios/{name}.toml")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        if constant {
            for workload in &mut scenario.topology.workloads {
                workload.arrival = Arrival::Constant;
            }
        }
        let first = scenario
            .faults
            .iter()
            .map(|f| f.start_ns)
            .min()
            .expect("faults");
        // 20 s past the first fault is enough to see it act, and keeps the test quick.
        scenario.duration_ns = scenario.duration_ns.min(first + 20 * SECOND);
        let faults = plan(
            &scenario.topology,
            &scenario.faults,
            scenario.seed,
            scenario.duration_ns,
        );
        let first = faults
            .effects
            .iter()
            .map(|e| e.start_ns)
            .min()
            .expect("effects");
        let config = RunConfig {
            windows: windows_for(&scenario, &faults),
            record_requests: true,
            ..RunConfig::of(&scenario)
        };
        let whole = format!(
            "{:?}",
            run_with_faults(&scenario.topology, &config, &faults)
        );
        let barrier = (first - 1) / (SECOND / 4) * (SECOND / 4);
        for fork_at in [None, Some(first - 1), Some(barrier)] {
            let no_faults = FaultPlan::default();
            let mut control = Simulation::new(&scenario.topology, &config, &no_faults);
            if let Some(at) = fork_at {
                assert!(control.advance_to(SimTime(at), &mut NoTrace), "{name}");
            }
            let mut fork = control.fork(&faults);
            assert!(!fork.advance_to(SimTime(u64::MAX), &mut NoTrace));
            let forked = format!("{:?}", fork.into_result());
            assert!(forked == whole, "{name}: forked at {fork_at:?} differs");
        }
    }
}
