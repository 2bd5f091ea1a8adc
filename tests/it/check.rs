//! `blastradius check`, the CI gate: exit codes, the summary, JUnit XML, GitHub annotations and
//! step summary, baselines, and the Markdown report. Scenarios here are tiny (a two-node model,
//! 200 requests per second, 20 simulated seconds) so every test runs in well under a second.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

const MODEL: &str = r#"name = "tiny"
zones = ["az-a", "az-b"]

[workload.web]
target = "front"
rate = 200
timeout = "1s"

[service.front]
zones = ["az-a", "az-b"]
replicas = 1
workers = 8
service_time = { dist = "exponential", mean = "1ms" }
calls = [{ to = "db", timeout = "100ms" }]

[database.db]
zones = ["az-a", "az-b"]
primary = "az-a"
workers = 8
service_time = { dist = "exponential", mean = "2ms" }
"#;

/// A scenario whose hypothesis holds: no faults.
const PASSING: &str = r#"name = "steady"
model = "tiny.toml"
duration = "20s"
warmup = "2s"
seed = 3

[[hypothesis]]
workload = "web"
metric = "availability"
min = 0.9
"#;

/// Half the database's calls fail for 4 s: availability drops well below 99.9%. The name has
/// the characters workflow commands must escape.
const FAILING: &str = r#"name = "db errors: 50%, half"
model = "tiny.toml"
duration = "20s"
warmup = "2s"
seed = 7

[[fault]]
kind = "errors"
node = "db"
share = 0.5
start = "8s"
duration = "4s"

[[hypothesis]]
workload = "web"
metric = "p99"
max = "1s"

[[hypothesis]]
workload = "web"
metric = "availability"
min = 0.999
"#;

/// The line of the failing `[[hypothesis]]` header in `FAILING`.
const FAILING_LINE: usize = 19;

fn blastradius(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_blastradius"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_STEP_SUMMARY");
    for (key, value) in envs {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A folder `scenarios/` with the model and the given scenarios.
fn fixture(scenarios: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("scenarios");
    std::fs::create_dir(&folder).expect("folder");
    std::fs::write(folder.join("tiny.toml"), MODEL).expect("model");
    for (name, text) in scenarios {
        std::fs::write(folder.join(name), text).expect("scenario");
    }
    (dir, folder)
}

#[test]
fn all_passing_exits_0_and_models_in_folders_are_skipped() {
    let (dir, _) = fixture(&[("steady.toml", PASSING)]);
    let output = blastradius(dir.path(), &["check", "scenarios"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("ok    steady (scenarios/steady.toml, seed 3)\n"),
        "{text}"
    );
    assert!(
        text.ends_with("\n1 scenario: 1 passed, 0 failed\n"),
        "{text}"
    );
    assert!(
        !text.contains("tiny"),
        "the model is not a scenario: {text}"
    );
}

#[test]
fn a_failed_hypothesis_exits_1_with_values_and_the_replay_command() {
    let (dir, _) = fixture(&[("steady.toml", PASSING), ("worse.toml", FAILING)]);
    let output = blastradius(dir.path(), &["check", "scenarios"], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    // Sorted: steady before worse.
    let steady = text.find("ok    steady").expect("steady listed");
    let worse = text
        .find("FAIL  db errors: 50%, half (scenarios/worse.toml, seed 7)")
        .expect("worse listed");
    assert!(steady < worse, "{text}");
    let failure = format!("failed: web availability min 0.999 (line {FAILING_LINE}): during ");
    assert!(text.contains(&failure), "{text}");
    assert!(text.contains("— below min 0.999"), "{text}");
    assert!(
        text.contains("replay: blastradius run scenarios/worse.toml --seed 7"),
        "{text}"
    );
    assert!(text.contains("2 scenarios: 1 passed, 1 failed"), "{text}");
}

#[test]
fn invalid_input_exits_3_with_every_diagnostic_on_stderr() {
    let broken = PASSING.replace("seed = 3", "seed = 3\ncolour = \"red\"");
    let also_broken = PASSING.replace("workload = \"web\"", "workload = \"wbe\"");
    let (dir, _) = fixture(&[("a.toml", &broken), ("b.toml", &also_broken)]);
    let output = blastradius(dir.path(), &["check", "scenarios"], &[]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "nothing is simulated");
    let errors = stderr(&output);
    assert!(errors.contains("scenarios/a.toml:6:1"), "{errors}");
    assert!(errors.contains("scenarios/b.toml:"), "{errors}");
    assert!(errors.contains("unknown workload `wbe`"), "{errors}");
    // In the github format the diagnostics are annotations too.
    let output = blastradius(
        dir.path(),
        &["check", "scenarios", "--format", "github"],
        &[],
    );
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stdout(&output).starts_with(
            "::error file=scenarios/a.toml,line=6,col=1,title=error[E0002]::unknown key `colour`"
        ),
        "{}",
        stdout(&output)
    );

    // A model named explicitly is not a scenario: an error, not skipped.
    let (dir, _) = fixture(&[]);
    let output = blastradius(dir.path(), &["check", "scenarios/tiny.toml"], &[]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("model"), "{}", stderr(&output));
}

#[test]
fn io_errors_exit_4_and_an_empty_folder_is_a_usage_error() {
    let (dir, _) = fixture(&[("steady.toml", PASSING)]);
    let output = blastradius(dir.path(), &["check", "scenarios", "missing.toml"], &[]);
    assert_eq!(output.status.code(), Some(4));
    assert!(
        stderr(&output).contains("cannot read missing.toml"),
        "{}",
        stderr(&output)
    );
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let output = blastradius(dir.path(), &["check", "empty"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no scenario files"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn junit_has_a_suite_per_scenario_a_case_per_hypothesis_and_stable_bytes() {
    let (dir, _) = fixture(&[("steady.toml", PASSING), ("worse.toml", FAILING)]);
    let run = |file: &str| {
        let output = blastradius(dir.path(), &["check", "scenarios", "--junit", file], &[]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        std::fs::read_to_string(dir.path().join(file)).expect("JUnit written")
    };
    let first = run("out/first.xml");
    assert_eq!(first, run("out/second.xml"), "byte-stable");
    assert!(
        !first.contains("timestamp") && !first.contains("time="),
        "{first}"
    );

    let report = Report::deserialize_from_str(&first).expect("valid JUnit");
    assert_eq!((report.tests, report.failures), (3, 1));
    let names: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["steady", "db errors: 50%, half"]);
    let worse = &report.test_suites[1];
    let cases: Vec<&str> = worse.test_cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        cases,
        [
            "web p99 max 1s (line 14)".to_string(),
            format!("web availability min 0.999 (line {FAILING_LINE})"),
        ]
    );
    assert!(matches!(
        worse.test_cases[0].status,
        TestCaseStatus::Success { .. }
    ));
    let TestCaseStatus::NonSuccess { kind, message, .. } = &worse.test_cases[1].status else {
        panic!("the availability hypothesis fails");
    };
    assert_eq!(*kind, NonSuccessKind::Failure);
    let message = message.as_ref().expect("a message").as_str();
    assert!(
        message.contains("during ") && message.contains("(control "),
        "{message}"
    );
    assert!(message.contains("seed 7"), "{message}");
    assert!(
        message.contains("replay: blastradius run scenarios/worse.toml --seed 7"),
        "{message}"
    );

    let output = blastradius(
        dir.path(),
        &[
            "check",
            "scenarios",
            "--junit",
            "timed.xml",
            "--junit-timestamps",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let timed = std::fs::read_to_string(dir.path().join("timed.xml")).unwrap();
    assert!(
        timed.contains("timestamp=") && timed.contains("time="),
        "{timed}"
    );
}

#[test]
fn github_annotations_point_at_the_hypothesis_line_and_escape_properties() {
    let (dir, _) = fixture(&[("steady.toml", PASSING), ("worse.toml", FAILING)]);
    let output = blastradius(
        dir.path(),
        &["check", "scenarios", "--format", "github"],
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 1, "{text}");
    // The name's `:`, `,` and `%` escaped in the title; `%` and the line break in the message.
    let prefix = format!(
        "::error file=scenarios/worse.toml,line={FAILING_LINE},\
         title=db errors%3A 50%25%2C half%3A web availability hypothesis failed::\
         web availability min 0.999 (line {FAILING_LINE}): during "
    );
    assert!(errors[0].starts_with(&prefix), "{}", errors[0]);
    assert!(
        errors[0].ends_with("%0Aseed 7; replay: blastradius run scenarios/worse.toml --seed 7"),
        "{}",
        errors[0]
    );
    let notices: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("::notice "))
        .collect();
    assert_eq!(notices.len(), 2, "a notice per scenario: {text}");
    // Failed scenarios first: GitHub shows only the first 10 notices of a step.
    assert!(
        notices[0].starts_with(
            "::notice file=scenarios/worse.toml,title=db errors%3A 50%25%2C half%3A FAILED::"
        ),
        "{}",
        notices[0]
    );
    assert!(
        notices[1].starts_with("::notice file=scenarios/steady.toml,title=steady%3A passed::"),
        "{}",
        notices[1]
    );
}

#[test]
fn the_step_summary_is_appended_with_a_coloured_mermaid_graph() {
    let (dir, _) = fixture(&[("steady.toml", PASSING), ("worse.toml", FAILING)]);
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let output = blastradius(
        dir.path(),
        &["check", "scenarios", "--format", "github"],
        &[("GITHUB_STEP_SUMMARY", &summary)],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n## ❌ blastradius check\n"),
        "{text}"
    );
    assert!(
        text.contains("| ✅ | steady (`scenarios/steady.toml`) | passed |"),
        "{text}"
    );
    assert!(
        text.contains("| ❌ | db errors: 50%, half (`scenarios/worse.toml`) | **failed** |"),
        "{text}"
    );
    assert!(text.contains("### Failed hypotheses"), "{text}");
    // The graph is `blastradius graph`'s (one Mermaid renderer), marked by the blast radius.
    assert!(text.contains("```mermaid\nflowchart LR\n"), "{text}");
    assert!(text.contains("subgraph z0[\"zones az-a, az-b\"]"), "{text}");
    assert!(
        text.contains("  w0 --> n0\n") || text.contains("  w0 -->|"),
        "{text}"
    );
    assert!(
        text.contains("  n0 --> n1\n") || text.contains("  n0 -->|"),
        "{text}"
    );
    // The database's errors rose: it is coloured red, the change under its name.
    assert!(text.contains("  class n1 errors\n"), "{text}");
    assert!(text.contains("<br/>errors "), "{text}");

    // Without the variable, nothing is written anywhere.
    let output = blastradius(
        dir.path(),
        &["check", "scenarios", "--format", "github"],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_baseline_passes_unchanged_fails_a_worsened_model_and_updates() {
    let (dir, folder) = fixture(&[("steady.toml", PASSING), ("worse.toml", FAILING)]);
    let baseline = folder.join("baseline.json");
    let update = [
        "check",
        "scenarios",
        "--baseline",
        "scenarios/baseline.json",
        "--update-baseline",
    ];
    let output = blastradius(dir.path(), &update, &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "update exits 0: {}",
        stderr(&output)
    );
    let written = std::fs::read_to_string(&baseline).expect("baseline written");
    assert!(
        written.contains("\"steady.toml\"") && written.contains("\"worse.toml\""),
        "{written}"
    );
    assert!(
        written.contains("\"failed_hypotheses\": [\n        \"web availability\"\n"),
        "{written}"
    );
    blastradius(dir.path(), &update, &[]);
    assert_eq!(
        std::fs::read_to_string(&baseline).unwrap(),
        written,
        "byte-stable"
    );

    // Unchanged: the availability failure is known, nothing is worse.
    let check = [
        "check",
        "scenarios",
        "--baseline",
        "scenarios/baseline.json",
    ];
    let output = blastradius(dir.path(), &check, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("known failure: web availability"),
        "{}",
        stdout(&output)
    );

    // A slower database: the p99 gets worse than the baseline beyond 10%.
    let slower = MODEL.replace(
        "workers = 8\nservice_time = { dist = \"exponential\", mean = \"2ms\" }",
        "workers = 1\nservice_time = { dist = \"exponential\", mean = \"3ms\" }",
    );
    assert_ne!(slower, MODEL);
    std::fs::write(folder.join("tiny.toml"), slower).unwrap();
    let output = blastradius(dir.path(), &check, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    let line = text
        .lines()
        .find(|l| l.contains("worse than baseline: web p99 (run)"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("baseline ") && line.contains(", now "),
        "{line}"
    );
    assert!(line.ends_with("(tolerance 10% relative)"), "{line}");

    // Updating records the new numbers: the check passes again.
    assert_eq!(blastradius(dir.path(), &update, &[]).status.code(), Some(0));
    assert_ne!(std::fs::read_to_string(&baseline).unwrap(), written);
    assert_eq!(blastradius(dir.path(), &check, &[]).status.code(), Some(0));
}

#[test]
fn a_scenario_missing_from_the_baseline_fails_only_when_strict() {
    let (dir, folder) = fixture(&[("steady.toml", PASSING)]);
    std::fs::write(
        folder.join("baseline.json"),
        "{\"format\": 1, \"scenarios\": {}}\n",
    )
    .unwrap();
    let check = [
        "check",
        "scenarios",
        "--baseline",
        "scenarios/baseline.json",
    ];
    let output = blastradius(dir.path(), &check, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output)
            .contains("not in the baseline: no entry steady.toml in scenarios/baseline.json"),
        "{}",
        stdout(&output)
    );
    let output = blastradius(dir.path(), &[&check[..], &["--strict"]].concat(), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));

    std::fs::write(folder.join("baseline.json"), "not json").unwrap();
    let output = blastradius(dir.path(), &check, &[]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("is not a blastradius baseline"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn markdown_reports_for_run_and_check() {
    let (dir, _) = fixture(&[("worse.toml", FAILING)]);
    let output = blastradius(
        dir.path(),
        &["run", "scenarios/worse.toml", "--format", "markdown"],
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("## ❌ db errors: 50%, half\n\n**FAILED** — 1 of 2 hypotheses failed"),
        "{text}"
    );
    for section in [
        "Replay: `blastradius run scenarios/worse.toml --seed 7`",
        "### Hypotheses\n\n| | workload | metric | bounds | line | window | experiment | control | note |",
        "| ❌ | web | availability | min 0.999 |",
        "### Blast radius",
        "| node that deviated | errors | p99 |",
        "### Recovery",
        "### Deviation (control → experiment)",
        "| workload web | during |",
    ] {
        assert!(text.contains(section), "missing {section:?} in\n{text}");
    }
    let output = blastradius(
        dir.path(),
        &["check", "scenarios", "--format", "markdown"],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.starts_with("## ❌ blastradius check\n"), "{text}");
    assert!(
        text.contains("\n## ❌ db errors: 50%, half\n"),
        "the full report follows: {text}"
    );
}
