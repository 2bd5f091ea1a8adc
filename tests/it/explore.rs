//! `blastradius explore`: it finds a pair of faults that fails only together, shrinks it to
//! those two faults with about the shortest overlap that fails, writes a scenario that `run`
//! and `check` fail on; passes a model no pair breaks, saying what it covered; and gives the
//! same bytes for the same seed at any thread count.
//!
//! The models (`tests/fixtures/explore/`) are one api in three zones at 500 requests/s for a
//! minute, so a search of a dozen schedules and its shrinking take seconds.

use std::path::Path;
use std::process::{Command, Output};

const NEEDS_TWO: &str = "tests/fixtures/explore/two-zones-needed.toml";
const ONE_IS_ENOUGH: &str = "tests/fixtures/explore/one-zone-enough.toml";
const S: u64 = 1_000_000_000;

fn blastradius(args: &[&str], threads: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .expect("the binary runs")
}

/// A short search over zone faults: 60 s runs, faults of 5 s to 30 s.
fn search<'a>(model: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "explore",
        model,
        "--families",
        "zone",
        "--duration",
        "60s",
        "--warmup",
        "10s",
        "--max-fault",
        "30s",
    ];
    args.extend_from_slice(extra);
    args
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn finds_the_pair_that_fails_only_together_and_shrinks_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().to_str().expect("utf-8 path");
    let args = search(
        NEEDS_TWO,
        &[
            "--faults",
            "2",
            "--runs",
            "10",
            "--max-findings",
            "1",
            "--min-fault",
            "1s",
            "--format",
            "json",
            "-o",
            out,
        ],
    );
    let output = blastradius(&args, "2");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc = json(&output);
    assert!(
        doc["coverage"]["interactions"].as_u64().unwrap() >= 1,
        "{doc:#}"
    );
    let finding = &doc["findings"][0];
    assert_eq!(finding["class"], "interaction");
    // Exactly the two faults, each passing alone.
    let parts = finding["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 2, "{finding:#}");
    assert!(parts.iter().all(|p| p["pass"] == true), "{finding:#}");
    // The file replays it: `run` fails, and `check` over the folder fails the build.
    let file = finding["file"].as_str().expect("written");
    let run = blastradius(&["run", file, "--format", "json"], "1");
    assert_eq!(run.status.code(), Some(1), "{}", finding["scenario"]);
    let report = json(&run);
    let faults = report["faults"].as_array().expect("faults");
    assert_eq!(faults.len(), 2, "{report:#}");
    // Two zones lost together overload the third within a second; the shrinker got there:
    // both faults start together and last at most 2 s (from 1 s to 30 s as drawn).
    let text = std::fs::read_to_string(file).expect("the scenario");
    let starts: Vec<&str> = text.lines().filter(|l| l.starts_with("start = ")).collect();
    assert_eq!(starts.len(), 2, "{text}");
    assert_eq!(starts[0], starts[1], "aligned starts:\n{text}");
    for line in text
        .lines()
        .filter(|l| l.starts_with("duration = ") && !l.contains("1m"))
    {
        let value = line.trim_start_matches("duration = ").trim_matches('"');
        let ns = blastradius::model::parse_duration(value).expect("a duration");
        assert!(ns <= 2 * S, "near the minimum, found {value}:\n{text}");
    }
    let zones: Vec<&str> = text.lines().filter(|l| l.starts_with("zone = ")).collect();
    assert_eq!(zones.len(), 2);
    assert_ne!(zones[0], zones[1], "two different zones:\n{text}");
    let check = blastradius(&["check", out], "1");
    assert_eq!(
        check.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn a_model_no_pair_breaks_passes_and_says_what_it_covered() {
    let args = search(ONE_IS_ENOUGH, &["--faults", "2", "--runs", "40"]);
    let output = blastradius(&args, "2");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("PASSED"), "{text}");
    assert!(
        text.contains("covered: 40 schedules (40 of 2 faults), 6 of 6 catalogue faults"),
        "{text}"
    );
    let mut json_args = args.clone();
    json_args.extend(["--format", "json"]);
    let doc = json(&blastradius(&json_args, "2"));
    let coverage = &doc["coverage"];
    assert_eq!(coverage["failed"], 0, "{coverage:#}");
    assert_eq!(coverage["pairs_possible"], 15);
    assert!(
        coverage["pairs_overlapping"].as_u64().unwrap() >= 10,
        "{coverage:#}"
    );
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(doc["bound"]["reproducible"], true);
}

#[test]
fn same_seed_same_bytes_at_one_and_two_threads() {
    let run = |threads: &str, dir: &Path| {
        let out = dir.to_str().expect("utf-8 path");
        let args = search(
            NEEDS_TWO,
            &[
                "--runs",
                "6",
                "--max-findings",
                "1",
                "--format",
                "json",
                "-o",
                out,
            ],
        );
        let output = blastradius(&args, threads);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let files: Vec<String> = std::fs::read_dir(dir)
            .expect("the folder")
            .map(|e| std::fs::read_to_string(e.expect("an entry").path()).expect("a file"))
            .collect();
        let stdout = String::from_utf8(output.stdout).expect("utf-8");
        (stdout.replace(out, "DIR"), files)
    };
    let dirs: Vec<_> = (0..3)
        .map(|_| tempfile::tempdir().expect("temp dir"))
        .collect();
    let one = run("1", dirs[0].path());
    let two = run("2", dirs[1].path());
    let again = run("2", dirs[2].path());
    assert_eq!(one, two, "1 thread vs 2");
    assert_eq!(two, again, "the same seed twice");
}

#[test]
fn a_scenario_s_hypotheses_judge_and_bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join(NEEDS_TWO);
    let scenario = dir.path().join("slo.toml");
    let text = format!(
        "name = \"slo\"\nmodel = {:?}\nduration = \"60s\"\nwarmup = \"10s\"\n\n\
         [[hypothesis]]\nworkload = \"checkout\"\nmetric = \"availability\"\nmin = 0.98\n",
        model.display().to_string()
    );
    std::fs::write(&scenario, text).expect("temp file");
    let slo = scenario.to_str().expect("utf-8 path");
    let args = search(
        NEEDS_TWO,
        &[
            "--faults",
            "2",
            "--runs",
            "6",
            "--max-findings",
            "1",
            "--hypothesis",
            slo,
            "--format",
            "junit",
        ],
    );
    let output = blastradius(&args, "2");
    let xml = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{xml}");
    assert!(
        xml.contains("<failure") && xml.contains("checkout availability"),
        "{xml}"
    );
    assert!(xml.contains("type=\"interaction\""), "{xml}");
    let usage = |extra: &[&str], says: &str| {
        let output = blastradius(&search(NEEDS_TWO, extra), "1");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(says), "{extra:?}: {stderr}");
    };
    usage(&["--faults", "1"], "between 2 and 5 faults");
    usage(&["--faults", "two"], "expected N or N..M");
    usage(&["--min-fault", "40s"], "at most --max-fault");
    let other = search(ONE_IS_ENOUGH, &["--hypothesis", slo]);
    let output = blastradius(&other, "1");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("its model is"));
    let broken = blastradius(&["explore", "tests/broken/negative-rate.toml"], "1");
    assert_eq!(
        broken.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&broken.stderr)
    );
}

#[test]
fn a_time_bound_says_its_coverage_depends_on_the_machine() {
    let args = search(ONE_IS_ENOUGH, &["--faults", "2", "--time", "1s"]);
    let output = blastradius(&args, "2");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("depends on this machine's speed; use --runs"),
        "{text}"
    );
}
