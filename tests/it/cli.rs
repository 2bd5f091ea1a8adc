//! The binary as a user runs it: exit codes, output formats, determinism.

use std::path::Path;
use std::process::{Command, Output};

fn blastradius(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

/// A short version of the shop steady state, to keep the suite fast.
fn short_shop(dir: &Path, seed: u64) -> std::path::PathBuf {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/shop.toml");
    let path = dir.join(format!("short-{seed}.toml"));
    let text = format!(
        "name = \"short shop\"\nmodel = {:?}\nduration = \"20s\"\nwarmup = \"2s\"\nseed = {seed}\n",
        model.display().to_string()
    );
    std::fs::write(&path, text).expect("temp file");
    path
}

#[test]
fn json_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = short_shop(dir.path(), 42);
    let output = blastradius(&["run", scenario.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc = json(&output);
    assert_eq!(doc["seed"], 42);
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    let control = &doc["workloads"]["checkout"]["control"];
    for field in [
        "requests",
        "ok",
        "degraded",
        "failed",
        "availability",
        "failed_by_cause",
    ] {
        assert!(!control[field].is_null(), "missing {field}");
    }
    for field in ["mean", "p50", "p90", "p99", "p999", "max"] {
        assert!(
            control["latency_ns"][field].is_number(),
            "missing latency {field}"
        );
    }
    // 18 s counted at 1,000/s: about 18,000 requests.
    let requests = control["requests"].as_u64().unwrap();
    assert!((17_000..19_000).contains(&requests), "{requests}");
    let ended = control["ok"].as_u64().unwrap()
        + control["degraded"].as_u64().unwrap()
        + control["failed"].as_u64().unwrap()
        + control["in_flight"].as_u64().unwrap();
    assert_eq!(
        ended, requests,
        "every request ends exactly once or is in flight"
    );
    for node in ["api", "sessions", "orders-db", "payments"] {
        assert!(
            doc["nodes"][node]["control"]["requests"].as_u64().unwrap() > 0,
            "{node}"
        );
    }
}

#[test]
fn same_seed_is_byte_identical_and_another_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = short_shop(dir.path(), 7);
    let path = scenario.to_str().unwrap();
    let first = blastradius(&["run", path, "--format", "json"]);
    let second = blastradius(&["run", path, "--format", "json"]);
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(first.stdout, second.stdout, "same seed, same bytes");
    let other = blastradius(&["run", path, "--format", "json", "--seed", "8"]);
    let (a, b) = (json(&first), json(&other));
    assert_eq!(b["seed"], 8);
    assert_ne!(
        a["workloads"]["checkout"]["control"]["latency_ns"],
        b["workloads"]["checkout"]["control"]["latency_ns"]
    );
}

#[test]
fn text_report_lists_workloads_and_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = short_shop(dir.path(), 1);
    let output = blastradius(&["run", scenario.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    for word in [
        "short shop",
        "checkout",
        "api",
        "sessions",
        "orders-db",
        "payments",
        "p99",
    ] {
        assert!(text.contains(word), "text report lacks {word}:\n{text}");
    }
}

#[test]
fn broken_models_exit_3_naming_file_line_and_column() {
    let broken = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let mut checked = 0;
    for entry in std::fs::read_dir(&broken).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !name.ends_with(".toml") || name.starts_with("scenario-") {
            continue;
        }
        // Wrap the broken model in a scenario so `run` reaches it.
        let dir = tempfile::tempdir().unwrap();
        let scenario = dir.path().join("s.toml");
        let text = format!(
            "name = \"s\"\nmodel = {:?}\nduration = \"1s\"\n",
            path.display().to_string()
        );
        std::fs::write(&scenario, text).unwrap();
        let output = blastradius(&["run", scenario.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{name}: {stderr}");
        let at = expected_location(&path);
        assert!(
            stderr.contains(&format!("{name}:{at}")),
            "{name}: expected :{at} in\n{stderr}"
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} broken models");
}

#[test]
fn broken_scenarios_exit_3() {
    let broken = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    for entry in std::fs::read_dir(&broken).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !name.starts_with("scenario-") {
            continue;
        }
        let output = blastradius(&["run", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{name}:{}", expected_location(&path))),
            "{stderr}"
        );
    }
}

#[test]
fn missing_file_is_an_io_error_and_bad_flags_are_usage() {
    let output = blastradius(&["run", "no/such/scenario.toml"]);
    assert_eq!(output.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no/such/scenario.toml"));
    let output = blastradius(&[
        "run",
        "scenarios/tier3-steady-state.toml",
        "--format",
        "yaml",
    ]);
    assert_eq!(output.status.code(), Some(2));
}

/// The `# at: LINE:COL` header of a broken file.
fn expected_location(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("# at: "))
        .unwrap_or_else(|| panic!("{} has no `# at:` line", path.display()))
        .trim()
        .to_string()
}

#[test]
fn one_thread_and_two_threads_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = short_shop(dir.path(), 3);
    let b = short_shop(dir.path(), 4);
    let run = |threads: &str| {
        Command::new(env!("CARGO_BIN_EXE_blastradius"))
            .args([
                "run",
                a.to_str().unwrap(),
                b.to_str().unwrap(),
                "--format",
                "json",
            ])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap()
    };
    let (one, two) = (run("1"), run("2"));
    assert_eq!(one.status.code(), Some(0));
    assert_eq!(one.stdout, two.stdout);
}

/// A short zone-outage scenario on the shop, with one hypothesis that must fail (availability
/// during an outage of the zone holding the database primary) and one that holds.
fn short_outage(dir: &Path) -> std::path::PathBuf {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/shop.toml");
    let path = dir.join("outage.toml");
    let text = format!(
        r#"name = "short outage"
model = {:?}
duration = "60s"
warmup = "5s"
seed = 9

[[fault]]
kind = "zone-outage"
zone = "az-a"
start = "20s"
duration = "20s"

[[hypothesis]]
workload = "checkout"
metric = "availability"
min = 0.999

[[hypothesis]]
workload = "checkout"
metric = "throughput"
max_decrease = "50%"
"#,
        model.display().to_string()
    );
    std::fs::write(&path, text).expect("temp file");
    path
}

#[test]
fn a_failed_hypothesis_exits_1_and_json_carries_the_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = short_outage(dir.path());
    let output = blastradius(&["run", scenario.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc = json(&output);
    assert_eq!(doc["verdict"], "failed");
    let checkout = &doc["workloads"]["checkout"];
    for run in ["control", "experiment"] {
        assert!(checkout[run]["requests"].as_u64().unwrap() > 0, "{run}");
        assert!(checkout[run]["latency_ns"]["p99"].is_number(), "{run}");
    }
    // The outage of az-a (database primary there, 30 s failover) costs availability during it.
    let control = checkout["control"]["availability"].as_f64().unwrap();
    let experiment = checkout["experiment"]["availability"].as_f64().unwrap();
    assert!(experiment < control, "{experiment} < {control}");
    for window in ["before", "during", "after"] {
        assert!(
            doc["windows"][window]["end_ns"].is_number(),
            "window {window}"
        );
    }
    assert_eq!(doc["windows"]["during"]["start_ns"], 20_000_000_000u64);
    let hypotheses = doc["hypotheses"].as_array().unwrap();
    assert_eq!(hypotheses.len(), 2);
    assert_eq!(
        hypotheses[0]["pass"], false,
        "availability 0.999 fails during the outage"
    );
    assert_eq!(hypotheses[1]["pass"], true, "throughput does not halve");
    let blast = &doc["blast_radius"];
    assert!(blast["hurt"].as_u64().unwrap() > 0);
    assert_eq!(
        blast["containment"][0]["contained"], false,
        "the pinned primary leaks"
    );
    assert!(doc["recovery"][0]["status"]["status"].is_string());
}

#[test]
fn text_report_opens_with_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = short_outage(dir.path());
    let output = blastradius(&["run", scenario.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    let second_line = text.lines().nth(1).unwrap();
    assert!(second_line.starts_with("VERDICT: FAILED"), "{second_line}");
    for part in [
        "hypotheses",
        "blast radius",
        "containment",
        "recovery",
        "deviation",
    ] {
        assert!(text.contains(part), "text report lacks {part}");
    }
}
