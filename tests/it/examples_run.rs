//! Every bundled scenario runs to completion and measures something.

use std::path::Path;

use blastradius::model::load_scenario;
use blastradius::sim::{self, RunConfig, RunOutcome};

#[test]
fn every_bundled_scenario_runs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut ran = 0;
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let scenario = load_scenario(path).unwrap_or_else(|e| panic!("{e}"));
        let result = sim::run(&scenario.topology, &RunConfig::of(&scenario));
        assert_eq!(result.outcome, RunOutcome::Completed, "{}", path.display());
        for (workload, metrics) in scenario.topology.workloads.iter().zip(&result.workloads) {
            let outcomes = &metrics.outcomes;
            assert!(
                outcomes.requests > 0,
                "{}: {} saw no requests",
                path.display(),
                workload.name
            );
            assert_eq!(outcomes.ended() + outcomes.in_flight, outcomes.requests);
        }
        ran += 1;
    }
    assert!(ran >= 2, "only {ran} scenarios");
}
