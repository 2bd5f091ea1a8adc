//! Golden reports and determinism of every bundled scenario.
//!
//! - `assert_golden` snapshots (insta, committed under `tests/it/snapshots/`) each bundled
//!   scenario's JSON report without its per-step `series` (which the text and the summary
//!   numbers already reflect, and which would make the snapshots thirty times longer) and its
//!   text report, so a change to any number shows up in review. `examples_run` calls it for
//!   each scenario it studies, so the snapshots cost no extra simulation. To accept a change:
//!   `INSTA_UPDATE=always cargo test --test it examples_run` (or `cargo insta review`).
//! - The binary gives byte-identical JSON for all of them with 1 thread and with 2, and
//!   `--check-determinism` finds the experiment's event trace identical across two runs.

use std::path::Path;
use std::process::{Command, Output};

use blastradius::analysis::Findings;
use blastradius::report::{to_json, to_text};

/// The root of the repository, as it appears in paths inside reports.
fn root() -> String {
    format!("{}/", env!("CARGO_MANIFEST_DIR"))
}

/// The JSON report without per-step series and without the tool's version (so that a
/// release does not rewrite every snapshot).
pub(crate) fn trimmed_json(json: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(json).expect("a JSON report");
    strip_series(&mut value);
    value["version"] = serde_json::Value::from("[version]");
    let text = serde_json::to_string_pretty(&value).expect("serialises");
    text.replace(&root(), "")
}

fn strip_series(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("series");
            map.values_mut().for_each(strip_series);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_series),
        _ => {}
    }
}

/// Compares a bundled scenario's reports with the committed snapshots.
pub(crate) fn assert_golden(path: &Path, document: &Findings) {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("a scenario file name");
    let json = trimmed_json(&to_json(document));
    let text = to_text(document).replace(&root(), "");
    insta::assert_snapshot!(format!("{stem}-json"), json);
    insta::assert_snapshot!(format!("{stem}-text"), text);
}

/// The bundled scenarios, as relative paths, in name order.
fn bundled() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("scenarios")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .filter(|name| name.ends_with(".toml"))
        .map(|name| format!("scenarios/{name}"))
        .collect();
    names.sort();
    names
}

fn run(threads: &str, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .arg("run")
        .args(args)
        .env("RAYON_NUM_THREADS", threads)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs")
}

fn finished(child: std::process::Child) -> Output {
    let output = child.wait_with_output().expect("the binary ends");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// All the bundled scenarios in one run each at 1 thread and at 2 (side by side): the same
/// bytes. Each has hypotheses, faults and a blast radius, so every part of the document is
/// covered.
#[test]
fn every_bundled_scenario_gives_the_same_json_at_one_and_two_threads() {
    let scenarios = bundled();
    assert!(scenarios.len() >= 10, "{scenarios:?}");
    let mut args: Vec<&str> = scenarios.iter().map(String::as_str).collect();
    args.extend(["--format", "json"]);
    let one = run("1", &args);
    let two = run("2", &args);
    let (one, two) = (finished(one), finished(two));
    assert!(one.stdout == two.stdout, "1 thread and 2 threads differ");
    let documents = serde_json::Deserializer::from_slice(&one.stdout)
        .into_iter::<serde_json::Value>()
        .count();
    assert_eq!(documents, scenarios.len());
}

/// `--check-determinism` on bundled scenarios (with faults and without) finds the two
/// experiment runs' traces identical, and says so on stderr; the report follows as usual.
#[test]
fn check_determinism_passes_on_bundled_scenarios() {
    let scenarios = [
        "scenarios/chaos-monkey-api.toml",
        "scenarios/shop-steady-state.toml",
        "scenarios/tier3-steady-state.toml",
    ];
    let mut args = scenarios.to_vec();
    args.extend(["--check-determinism", "--format", "json"]);
    let output = finished(run("2", &args));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for scenario in scenarios {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&format!("determinism: {scenario}: identical: 2 runs")))
            .unwrap_or_else(|| panic!("no verdict for {scenario}:\n{stderr}"));
        assert!(line.contains(" events each, trace hash "), "{line}");
    }
    let documents = serde_json::Deserializer::from_slice(&output.stdout)
        .into_iter::<serde_json::Value>()
        .count();
    assert_eq!(documents, scenarios.len());
}

/// `--trace FILE` writes one line per event of the experiment (as many as the report counts),
/// each starting with its index and simulated time, after a header that gives the format.
#[test]
fn trace_writes_one_line_per_event_to_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = dir.path().join("trace.txt");
    let scenario = "scenarios/tier3-steady-state.toml";
    let args = [
        scenario,
        "--format",
        "json",
        "--trace",
        trace.to_str().expect("utf-8"),
    ];
    let output = finished(run("1", &args));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let text = std::fs::read_to_string(&trace).expect("the trace");
    let (header, events): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with('#'));
    assert_eq!(header.len(), 2, "{header:?}");
    assert!(header[1].contains("INDEX TIME_NS KIND"), "{}", header[1]);
    assert_eq!(Some(events.len() as u64), report["events"].as_u64());
    let mut last = 0u64;
    for (i, line) in events.iter().enumerate() {
        let mut fields = line.split(' ');
        assert_eq!(fields.next(), Some(i.to_string().as_str()), "{line}");
        let time: u64 = fields.next().and_then(|t| t.parse().ok()).expect("a time");
        assert!(time >= last, "{line}");
        last = time;
    }
    // `--trace` takes one scenario.
    let two = finished_with_usage(run("1", &[scenario, scenario, "--trace", "x"]));
    assert!(
        two.contains("--trace writes the trace of one scenario"),
        "{two}"
    );
}

fn finished_with_usage(child: std::process::Child) -> String {
    let output = child.wait_with_output().expect("the binary ends");
    assert_eq!(output.status.code(), Some(2));
    String::from_utf8_lossy(&output.stderr).into_owned()
}
