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
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
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

/// The diagnostics of a model: the shop with `edit` applied.
fn shop_with(edit: impl Fn(String) -> String) -> blastradius::model::Validation {
    let shop = std::fs::read_to_string("models/shop.toml").expect("readable");
    let text = edit(shop);
    blastradius::model::validate_text(Path::new("models/t.toml"), &text, |p: &Path| {
        std::fs::read_to_string(p)
    })
}

#[test]
fn names_with_control_characters_are_rejected_with_the_character_located() {
    use blastradius::model::Code;
    let cases: [(&str, fn(String) -> String, &str); 4] = [
        (
            "zone",
            |s| {
                s.replacen(
                    r#"zones = ["az-a", "az-b", "az-c"]"#,
                    r#"zones = ["az-a", "az-b\n::error::x", "az-c"]"#,
                    1,
                )
            },
            "U+000A (line feed) at character 5",
        ),
        (
            "node",
            |s| {
                s.replace("[external.payments]", "[external.\"pay\\u202Ements\"]")
                    .replace("to = \"payments\"", "to = \"pay\\u202Ements\"")
            },
            "U+202E (bidirectional embedding or override) at character 4",
        ),
        (
            "workload",
            |s| s.replace("[workload.checkout]", "[workload.\"check\\tout\"]"),
            "U+0009 (tab) at character 6",
        ),
        (
            "model",
            |s| s.replacen("name = \"shop\"", "name = \"shop\\r\"", 1),
            "U+000D (carriage return) at character 5",
        ),
    ];
    for (what, edit, expected) in cases {
        let validation = shop_with(edit);
        let bad: Vec<_> = validation
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::BadName)
            .collect();
        assert_eq!(bad.len(), 1, "{what}: {:#?}", validation.diagnostics.items);
        assert!(
            bad[0].message.starts_with(&format!("the {what} name ")),
            "{}",
            bad[0].message
        );
        assert!(bad[0].message.contains(expected), "{}", bad[0].message);
        assert!(bad[0].line > 0 && bad[0].column > 0);
    }
}

#[test]
fn a_scenario_name_with_a_line_break_is_rejected_by_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shop = std::fs::canonicalize("models/shop.toml").expect("shop");
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        format!(
            "name = \"x\\n::error::pwned\"\nmodel = {:?}\nduration = \"1m\"\n",
            shop.display()
        ),
    )
    .expect("written");
    let output = blastradius(&[
        "check",
        "--format",
        "github",
        scenario.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(3));
    let out = stdout(&output);
    assert!(
        !out.lines().any(|l| l.trim_start().starts_with("::error::")),
        "{out}"
    );
    assert!(out.starts_with("::error file="), "{out}");
    assert!(out.contains("E0024"), "{out}");
}

/// A model and a scenario whose names hold everything printable that means something in one
/// of the output formats; the scenario's file name holds a line break and a command.
const HOSTILE_MODEL: &str = r#"
name = "m ::error::m ##[error]m"
zones = ["az-a ::set-output name=x::y", "az-b <img src=https://evil.example/z.png>"]

[workload."w `` ``` |x| *y* %0A::error::w"]
target = "api\" <script>"
rate = 200
timeout = "1s"

[service."api\" <script>"]
zones = ["az-a ::set-output name=x::y", "az-b <img src=https://evil.example/z.png>"]
workers = 8
service_time = { dist = "exponential", mean = "2ms" }
"#;

const HOSTILE_SCENARIO: &str = r#"
name = "s ``` مرحبا ::warning::s %25 & <b>"
model = "m.toml"
duration = "40s"
warmup = "5s"
seed = 3

[[fault]]
kind = "zone-outage"
zone = "az-a ::set-output name=x::y"
start = "15s"
duration = "10s"

[[hypothesis]]
workload = "w `` ``` |x| *y* %0A::error::w"
metric = "availability"
min = 0.999999
"#;

/// The lines the GitHub runner would run as workflow commands: outside a stop-commands fence,
/// starting with `::` after spaces, or holding a `##[` command anywhere.
fn commands_run(log: &str) -> Vec<String> {
    let mut run = Vec::new();
    let mut stopped: Option<String> = None;
    for line in log.lines() {
        if let Some(token) = &stopped {
            if line == format!("::{token}::") {
                stopped = None;
            }
            continue;
        }
        let trimmed = line.trim_start();
        if let Some(token) = trimmed.strip_prefix("::stop-commands::") {
            stopped = Some(token.to_string());
        } else if trimmed.starts_with("::") || line.contains("##[") {
            run.push(line.to_string());
        }
    }
    assert!(stopped.is_none(), "a fence left open:\n{log}");
    run
}

#[test]
fn check_on_github_runs_only_its_own_annotations_and_keeps_the_summary_fences() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("m.toml"), HOSTILE_MODEL).expect("written");
    let file = dir.path().join("s\n::error::pwned.toml");
    std::fs::write(&file, HOSTILE_SCENARIO).expect("written");
    let summary = dir.path().join("summary.md");
    let output = Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .args(["check", "--format", "github", file.to_str().expect("utf-8")])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("runs");
    let (out, err) = (
        stdout(&output),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert!(matches!(output.status.code(), Some(0 | 1)), "{out}\n{err}");
    assert!(out.starts_with("::stop-commands::blastradius-"), "{out}");
    for line in commands_run(&out) {
        assert!(
            line.starts_with("::error file=") || line.starts_with("::notice file="),
            "a command the user's strings made: {line}\n{out}"
        );
        // An annotation's file and title are one property each: no unescaped `::` or `,`.
        let properties = line.split("::").nth(1).expect("properties");
        assert!(!properties.contains("##["), "{line}");
    }
    assert!(commands_run(&err).is_empty(), "{err}");
    let summary = std::fs::read_to_string(&summary).expect("a step summary");
    let mut open = false;
    for line in summary.lines() {
        if line.starts_with("```") {
            assert!(
                open || line == "```mermaid",
                "a fence opened by user text: {line}"
            );
            open = !open && line == "```mermaid";
        } else if open {
            assert!(!line.contains('\u{202E}'), "{line}");
        }
    }
    assert!(!open, "{summary}");
    assert!(
        !summary.contains("<img"),
        "raw HTML in the summary:\n{summary}"
    );
    assert!(!summary.contains("<script"), "{summary}");
}
