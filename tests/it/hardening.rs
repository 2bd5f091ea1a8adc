//! Hardening from a hostile and a new user's reading (issue 22): the bundled schema on stdout,
//! names with control characters, user strings through every format (`escaping.rs` has the
//! property test), and the GitHub output's fence against workflow commands.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn blastradius(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn as_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("readable");
    let table: toml::Table = toml::from_str(&text).expect("TOML");
    serde_json::to_value(table).expect("TOML converts to JSON")
}

#[test]
fn schema_without_kind_is_one_document_that_validates_models_and_scenarios() {
    let output = blastradius(&["schema"]);
    assert_eq!(output.status.code(), Some(0));
    let schema: Value = serde_json::from_str(&stdout(&output)).expect("one JSON document");
    jsonschema::meta::validate(&schema).expect("a valid draft 2020-12 schema");
    let validator = jsonschema::options()
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .build(&schema)
        .expect("compiles");
    for path in ["models/shop.toml", "scenarios/az-a-power-interruption.toml"] {
        let json = as_json(Path::new(path));
        let errors: Vec<String> = validator.iter_errors(&json).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{path}: {errors:#?}");
    }
    // A scenario key in a model, a model key in a scenario: each judged by its own schema.
    let mut model = as_json(Path::new("models/shop.toml"));
    model["seed"] = Value::from(1);
    assert!(!validator.is_valid(&model));
    let mut scenario = as_json(Path::new("scenarios/az-a-power-interruption.toml"));
    scenario["zones"] = Value::from(vec!["az-a"]);
    assert!(!validator.is_valid(&scenario));
}
