//! Every bundled scenario runs — control and experiment — and renders a report.

use std::path::Path;

use blastradius::analysis::Findings;
use blastradius::analysis::{Verdict, study, study_recorded};
use blastradius::model::load_scenario;
use blastradius::report::{to_json, to_text};
use blastradius::sim::RunOutcome;

#[test]
fn every_bundled_scenario_runs_and_reports() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut ran = 0;
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let name = path.display();
        let scenario = load_scenario(path).unwrap_or_else(|e| panic!("{e}"));
        let study = study(&scenario);
        assert_eq!(
            study.control.outcome,
            RunOutcome::Completed,
            "{name}: control"
        );
        for (workload, metrics) in scenario
            .topology
            .workloads
            .iter()
            .zip(&study.experiment.workloads)
        {
            let outcomes = &metrics.outcomes;
            assert!(
                outcomes.requests > 0,
                "{name}: {} saw no requests",
                workload.name
            );
            assert_eq!(
                outcomes.ended() + outcomes.in_flight,
                outcomes.requests,
                "{name}"
            );
        }
        // The control and the experiment saw the same base arrivals, request for request
        // (closed-loop users send as answers allow, and pair by key instead); the study that
        // keeps every record pairs them into the same analysis as the streaming one.
        let recorded = study_recorded(&scenario);
        for ((c, e), keys) in recorded
            .control
            .requests
            .iter()
            .zip(&recorded.experiment.requests)
            .zip(&recorded.control.request_keys)
        {
            if keys.is_empty() && !scenario.faults.is_empty() {
                assert_eq!(c.len(), e.len(), "{name}: paired records");
                assert!(!c.is_empty(), "{name}: records kept");
            }
        }
        assert!(
            study.experiment.requests.iter().all(Vec::is_empty),
            "{name}: streaming keeps no records"
        );
        assert_eq!(
            serde_json::to_string(&recorded.analysis).unwrap(),
            serde_json::to_string(&study.analysis).unwrap(),
            "{name}: streaming and recorded pairing agree"
        );
        let failed = study.analysis.hypotheses.iter().any(|h| !h.pass);
        let expected = if failed {
            Verdict::Failed
        } else {
            Verdict::Passed
        };
        assert_eq!(study.analysis.verdict, expected, "{name}");
        assert_eq!(
            study.analysis.blast_radius.is_some(),
            !scenario.faults.is_empty(),
            "{name}"
        );
        let document = Findings::new(&scenario, &study);
        // The golden reports, compared while the study is at hand (see golden.rs).
        crate::golden::assert_golden(path, &document);
        assert!(to_text(&document).contains(&scenario.name), "{name}");
        let json: serde_json::Value = serde_json::from_str(&to_json(&document)).unwrap();
        assert_eq!(json["scenario"], scenario.name.as_str());
        ran += 1;
    }
    assert!(ran >= 3, "only {ran} scenarios");
}
