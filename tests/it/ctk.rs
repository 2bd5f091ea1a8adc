//! Chaos Toolkit interop through the binary and the real client: `import ctk` of the example
//! experiments and of broken ones, the round trip import(export(S)) over the bundled
//! scenarios, `chaos validate` of every exported experiment, and the pre-flight control under
//! `chaos run` (refusing an over-budget experiment, letting a within-budget one run).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use blastradius::interop::ctk::{self, ImportOptions, Syntax};
use blastradius::model::{FaultSpec, Scenario, load_model, load_scenario, parse_scenario};

use super::pyenv;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn blastradius(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run blastradius")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_example_experiments_import_into_scenarios_that_load() {
    let dir = tempfile::tempdir().unwrap();
    for example in [
        "examples/ctk/az-a-drain.json",
        "examples/ctk/api-pods-and-cache-latency.yaml",
    ] {
        let out = dir.path().join("scenario.toml");
        let output = blastradius(&[
            "import",
            "ctk",
            example,
            "--model",
            "models/shop.toml",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{example}: {}", stderr(&output));
        let scenario = load_scenario(&out).unwrap_or_else(|e| panic!("{example}: {e}"));
        assert!(
            !scenario.faults.is_empty() && !scenario.hypotheses.is_empty(),
            "{example}"
        );
    }
}

#[test]
fn broken_experiments_exit_2_naming_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\n  \"title\": \"x\",\n  \"method\": [\n    {\"name\": \"a\",}\n  ]\n}\n",
    )
    .unwrap();
    let output = blastradius(&[
        "import",
        "ctk",
        bad.to_str().unwrap(),
        "--model",
        "models/shop.toml",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("bad.json:4:18"),
        "{}",
        stderr(&output)
    );

    let typo = dir.path().join("typo.yaml");
    let text = std::fs::read_to_string(root().join("examples/ctk/api-pods-and-cache-latency.yaml"))
        .unwrap();
    std::fs::write(
        &typo,
        text.replace("label_selector: app=api", "label_selector: app=apj"),
    )
    .unwrap();
    let output = blastradius(&[
        "import",
        "ctk",
        typo.to_str().unwrap(),
        "--model",
        "models/shop.toml",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("selector `app=apj`: matches no node")
            && message.contains("did you mean `app=api`?"),
        "{message}"
    );

    let strict = blastradius(&[
        "import",
        "ctk",
        "examples/ctk/api-pods-and-cache-latency.yaml",
        "--model",
        "models/shop.toml",
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(2));
    assert!(
        stderr(&strict).contains("`notify-team` not mapped"),
        "{}",
        stderr(&strict)
    );
    assert!(
        strict.stdout.is_empty(),
        "no scenario written under --strict"
    );
}

fn bundled_scenarios() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
}

/// A fault as the round trip must give it back: kind, target, selection, start, and how long
/// it acts (a crash's `restart_after` and `duration` say the same).
fn fault_key(fault: &FaultSpec) -> String {
    let duration = match fault.kind {
        blastradius::model::FaultKind::Crash {
            restart_after_ns: Some(r),
        } if fault.duration_ns.is_none() => Some(r),
        _ => fault.duration_ns,
    };
    let kind = match &fault.kind {
        blastradius::model::FaultKind::Crash { .. } => "crash".to_string(),
        other => format!("{other:?}"),
    };
    format!(
        "{kind} {:?} {:?} {} {duration:?}",
        fault.target, fault.selection, fault.start_ns
    )
}

fn numbered(prefix: &str, index: usize, not_exported: &[String]) -> bool {
    !not_exported
        .iter()
        .any(|name| name.starts_with(&format!("{prefix} {} (", index + 1)))
}

#[test]
fn import_of_export_gives_every_bundled_scenario_its_mappable_faults_and_hypotheses_back() {
    let mut faults_checked = 0;
    for path in bundled_scenarios() {
        let scenario = load_scenario(&path).unwrap();
        let exported = ctk::export(&scenario);
        let skipped: Vec<String> = exported
            .not_exported
            .iter()
            .map(|u| u.name.clone())
            .collect();
        let experiment = ctk::parse(&exported.json, Syntax::Json).unwrap();
        let options = ImportOptions {
            source: "x.json".into(),
            model: "m.toml".into(),
            ..ImportOptions::default()
        };
        let draft = ctk::import(&experiment, &scenario.topology, &options).unwrap();
        let model_text = std::fs::read_to_string(&scenario.model_path).unwrap();
        let back: Scenario = parse_scenario(Path::new("s.toml"), &draft.to_toml(), |_| {
            Ok(model_text.clone())
        })
        .unwrap_or_else(|d| panic!("{}: {}", path.display(), d.render(false)))
        .0;
        let mut want: Vec<String> = scenario
            .faults
            .iter()
            .enumerate()
            .filter(|(i, _)| numbered("fault", *i, &skipped))
            .map(|(_, f)| fault_key(f))
            .collect();
        let mut got: Vec<String> = back.faults.iter().map(fault_key).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{}", path.display());
        faults_checked += want.len();
        let hypothesis = |h: &blastradius::model::Hypothesis| {
            format!(
                "{:?} {:?} {:?} {:?} {:?}",
                h.workload, h.metric, h.min, h.max, h.windows
            )
        };
        let want: Vec<String> = scenario
            .hypotheses
            .iter()
            .enumerate()
            .filter(|(i, _)| numbered("hypothesis", *i, &skipped))
            .map(|(_, h)| hypothesis(h))
            .collect();
        let got: Vec<String> = back.hypotheses.iter().map(hypothesis).collect();
        assert_eq!(got, want, "{}", path.display());
        assert_eq!(
            (back.duration_ns, back.warmup_ns, back.seed),
            (scenario.duration_ns, scenario.warmup_ns, scenario.seed)
        );
    }
    assert!(
        faults_checked >= 10,
        "only {faults_checked} faults made the round trip"
    );
}

#[test]
fn every_exported_experiment_passes_chaos_validate() {
    let Some(chaos) = pyenv::program("chaos", "every_exported_experiment_passes_chaos_validate")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for path in bundled_scenarios() {
        let out = dir.path().join("experiment.json");
        let output = blastradius(&[
            "export",
            "ctk",
            path.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(
            output.status.success(),
            "{}: {}",
            path.display(),
            stderr(&output)
        );
        let validated = Command::new(&chaos)
            .current_dir(dir.path())
            .args(["--no-version-check", "validate", "experiment.json"])
            .output()
            .unwrap();
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&validated.stdout),
            stderr(&validated)
        );
        assert!(
            validated.status.success() && log.contains("Experiment looks valid"),
            "{}: {log}",
            path.display()
        );
    }
}

/// `chaos run` of an experiment whose only action writes a file, with the pre-flight control
/// and this budget; returns the journal and whether the file was written.
fn chaos_run_with_budget(
    test: &str,
    budget: serde_json::Value,
) -> Option<(serde_json::Value, bool)> {
    let chaos = pyenv::program("chaos", test)?;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran.txt");
    let experiment = serde_json::json!({
        "version": "1.0.0",
        "title": "a harmless experiment",
        "description": "its only action writes a file",
        "controls": [{"name": "blastradius", "provider": {"type": "python", "module": "chaosblastradius.control",
            "arguments": {"model": root().join("models/shop.toml"), "budget": budget}}}],
        "method": [{"type": "action", "name": "write-a-file", "provider": {"type": "python", "module": "harmless",
            "func": "write_file", "arguments": {"path": marker}}}]
    });
    std::fs::write(dir.path().join("experiment.json"), experiment.to_string()).unwrap();
    let output = Command::new(chaos)
        .current_dir(dir.path())
        .env("BLASTRADIUS", env!("CARGO_BIN_EXE_blastradius"))
        .env("PYTHONPATH", root().join("tests/ctk"))
        .args([
            "--no-version-check",
            "run",
            "--journal-path",
            "journal.json",
            "experiment.json",
        ])
        .output()
        .unwrap();
    let journal = std::fs::read_to_string(dir.path().join("journal.json"))
        .unwrap_or_else(|e| panic!("no journal ({e}): {}", stderr(&output)));
    Some((serde_json::from_str(&journal).unwrap(), marker.exists()))
}

fn preflight(journal: &serde_json::Value) -> &serde_json::Value {
    journal["extensions"]
        .as_array()
        .and_then(|e| e.iter().find(|x| x["name"] == "blastradius"))
        .unwrap_or_else(|| panic!("no blastradius summary in the journal: {journal}"))
}

#[test]
fn the_control_refuses_an_experiment_over_budget_before_it_acts() {
    // The shop's simulated availability is about 99.98%: a floor of 99.999% is over budget.
    let test = "the_control_refuses_an_experiment_over_budget_before_it_acts";
    let Some((journal, ran)) =
        chaos_run_with_budget(test, serde_json::json!({"min_availability": 0.99999}))
    else {
        return;
    };
    assert_eq!(journal["status"], "interrupted");
    assert!(
        !ran,
        "the action ran although the pre-flight was over budget"
    );
    let summary = preflight(&journal);
    assert_eq!(summary["over_budget"], true);
    assert!(
        summary["reasons"][0]
            .as_str()
            .unwrap()
            .contains("checkout availability"),
        "{summary}"
    );
}

#[test]
fn the_control_lets_an_experiment_within_budget_run_and_journals_the_summary() {
    let test = "the_control_lets_an_experiment_within_budget_run_and_journals_the_summary";
    let budget = serde_json::json!({"min_availability": 0.99, "max_hurt_share": 0.01, "hypotheses_must_hold": true});
    let Some((journal, ran)) = chaos_run_with_budget(test, budget) else {
        return;
    };
    assert_eq!(journal["status"], "completed");
    assert!(ran, "the action did not run");
    let summary = preflight(&journal);
    assert_eq!(
        (&summary["over_budget"], &summary["verdict"]),
        (&serde_json::json!(false), &serde_json::json!("passed"))
    );
    assert!(
        summary["availability"]["checkout"].as_f64().unwrap() > 0.99,
        "{summary}"
    );
    assert!(
        summary["not_mapped"][0]
            .as_str()
            .unwrap()
            .contains("`write-a-file` not mapped"),
        "{summary}"
    );
}

#[test]
fn the_model_of_the_examples_has_the_labels_they_select() {
    // The examples select `app=api` and `app=sessions`: the shop model must keep those labels.
    let shop = load_model(&root().join("models/shop.toml")).unwrap();
    for name in ["api", "sessions"] {
        let id = shop.node_id(name).unwrap();
        assert_eq!(shop.node(id).labels.get("app"), Some(name));
    }
}

#[test]
fn the_worked_example_is_refused_before_any_node_is_drained() {
    let Some(chaos) = pyenv::program(
        "chaos",
        "the_worked_example_is_refused_before_any_node_is_drained",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(chaos)
        .current_dir(root())
        .env("BLASTRADIUS", env!("CARGO_BIN_EXE_blastradius"))
        .args([
            "--no-version-check",
            "--no-log-file",
            "run",
            "--journal-path",
        ])
        .arg(dir.path().join("journal.json"))
        .arg("examples/ctk/az-a-drain-preflight.json")
        .output()
        .unwrap();
    let journal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("journal.json")).unwrap())
            .unwrap();
    assert_eq!(journal["status"], "interrupted", "{}", stderr(&output));
    assert_eq!(
        (
            journal["run"].as_array().map(Vec::len),
            journal["rollbacks"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let summary = preflight(&journal);
    assert!(summary["hurt_share"].as_f64().unwrap() > 0.01, "{summary}");
    assert_eq!(summary["verdict"], "failed");
}
