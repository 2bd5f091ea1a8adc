//! Helpers shared by the integration tests.

use blastradius::model::{Scenario, load_scenario};

/// Loads a scenario from text whose `model` is `"model.toml"`, with `model` as that file, from a
/// temporary directory.
pub fn load(model: &str, scenario: &str) -> Scenario {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("model.toml"), model).expect("write model");
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, scenario).expect("write scenario");
    load_scenario(&path).unwrap_or_else(|e| panic!("test scenario does not load:\n{e}"))
}
