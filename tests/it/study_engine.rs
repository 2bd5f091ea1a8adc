//! The study engine at scale: one control shared by many experiments gives each experiment
//! the study it gets alone, byte for byte, and a study keeps no per-request records.

use std::path::Path;

use blastradius::analysis::fma::{FmaOptions, candidates, scenario_for};
use blastradius::analysis::{study, study_against};
use blastradius::model::load_model;
use blastradius::report::{RunDocument, to_json};

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
            to_json(&RunDocument::new(scenario, together)),
            to_json(&RunDocument::new(scenario, &alone)),
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
