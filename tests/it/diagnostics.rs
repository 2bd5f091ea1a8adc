//! Diagnostics and the tools around the model files: `validate` (exit codes, every error at
//! once), `explain`, the JSON Schemas (fresh, and in agreement with the loader), `graph`,
//! shell completions and the man page.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use blastradius::model::schema::{model_schema, scenario_schema};
use blastradius::model::{
    Code, ExampleKind, FAULT_KINDS, FaultKindTag, FileKind, TargetKind, load_model, parse_scenario,
    validate_file, validate_text,
};
use blastradius::report::{Highlight, Highlights, to_dot, to_mermaid};
use serde_json::Value;

fn blastradius(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
}

// ---- validate ---------------------------------------------------------------------------

#[test]
fn validate_accepts_every_bundled_file() {
    let mut args = vec!["validate".to_string()];
    for dir in ["models", "scenarios"] {
        args.extend(toml_files(dir).iter().map(|p| p.display().to_string()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = blastradius(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("models/shop.toml: ok (model)\n"), "{out}");
    assert!(
        out.contains("scenarios/az-a-power-interruption.toml: ok (scenario)\n"),
        "{out}"
    );
    assert_eq!(out.lines().count(), args.len() - 1, "{out}");
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

#[test]
fn validate_reports_every_error_of_a_file_at_once() {
    let output = blastradius(&[
        "validate",
        "models/shop.toml",
        "tests/broken/several-errors.toml",
    ]);
    assert_eq!(output.status.code(), Some(3));
    let out = stdout(&output);
    assert_eq!(
        out,
        "models/shop.toml: ok (model)\ntests/broken/several-errors.toml: invalid model (6 errors)\n"
    );
    let err = stderr(&output);
    assert_eq!(err.matches("error[E").count(), 6, "{err}");
    for code in ["E0010", "E0008", "E0007", "E0005", "E0002", "E0006"] {
        assert!(err.contains(&format!("error[{code}]")), "{code}: {err}");
    }
    assert!(
        err.contains("--> tests/broken/several-errors.toml:10:26"),
        "{err}"
    );
    assert!(err.contains("= help: did you mean `api`?"), "{err}");
    assert!(
        !err.contains("\u{1b}["),
        "no colour when stderr is not a terminal"
    );
}

#[test]
fn validate_says_when_a_file_is_not_toml() {
    let output = blastradius(&["validate", "tests/broken/syntax-error.toml"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stdout(&output).starts_with("tests/broken/syntax-error.toml: not valid TOML (1 error"),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains("error[E0001]"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn validate_shows_warnings_and_passes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("warm.toml");
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/shop.toml");
    let text = format!(
        "name = \"early\"\nmodel = {:?}\nduration = \"10m\"\nwarmup = \"2m\"\n\n\
         [[fault]]\nkind = \"crash\"\nnode = \"api\"\nstart = \"1m\"\nduration = \"1m\"\n",
        model.display().to_string()
    );
    std::fs::write(&path, text).expect("write");
    let validation = validate_file(&path).expect("readable");
    assert_eq!(validation.kind, FileKind::Scenario);
    assert!(validation.is_valid());
    let output = blastradius(&["validate", path.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).ends_with(": ok (scenario, 1 warning)\n"),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains("warning[W0004]"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn validate_exits_4_when_a_file_cannot_be_read() {
    let output = blastradius(&[
        "validate",
        "tests/broken/several-errors.toml",
        "nowhere.toml",
    ]);
    assert_eq!(output.status.code(), Some(4));
    assert!(stdout(&output).contains("nowhere.toml: unreadable\n"));
    assert!(stderr(&output).contains("error: cannot read nowhere.toml"));
}

// ---- explain ----------------------------------------------------------------------------

#[test]
fn explain_shows_a_code_with_its_example_and_fix() {
    let output = blastradius(&["explain", "e0008"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.starts_with("E0008: a reference to a node that the model does not define\n\n"),
        "{out}"
    );
    assert!(
        out.contains("error[E0008]: unknown node `order-db`"),
        "{out}"
    );
    assert!(out.contains("= help: did you mean `orders-db`?"), "{out}");
    assert!(out.contains("The fix:"), "{out}");
    assert!(out.contains("12 + calls = [{ to = \"orders-db\""), "{out}");
}

#[test]
fn explain_an_unknown_code_lists_the_codes() {
    let output = blastradius(&["explain", "E9999"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("`E9999` is not a diagnostic code"), "{err}");
    for code in Code::ALL {
        assert!(err.contains(code.as_str()), "{code}: {err}");
    }
}

#[test]
fn every_code_is_explained() {
    for code in Code::ALL {
        let output = blastradius(&["explain", code.as_str()]);
        assert_eq!(output.status.code(), Some(0), "{code}");
        let out = stdout(&output);
        assert!(out.contains(&format!("[{code}]")), "{code}: {out}");
    }
}

// ---- schema -----------------------------------------------------------------------------

fn committed(name: &str) -> String {
    std::fs::read_to_string(Path::new("schema").join(name))
        .unwrap_or_else(|e| panic!("schema/{name}: {e}"))
}

#[test]
fn committed_schemas_are_fresh() {
    let hint = "run `cargo run -- schema --out schema` and commit the result";
    assert!(
        committed("model.schema.json") == model_schema(),
        "schema/model.schema.json is stale: {hint}"
    );
    assert!(
        committed("scenario.schema.json") == scenario_schema(),
        "schema/scenario.schema.json is stale: {hint}"
    );
    let output = blastradius(&["schema", "--kind", "scenario"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), scenario_schema());
}

#[test]
fn schema_out_writes_both_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("schemas");
    let output = blastradius(&["schema", "--out", out.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let read = |name: &str| std::fs::read_to_string(out.join(name)).expect("written");
    assert_eq!(read("model.schema.json"), model_schema());
    assert_eq!(read("scenario.schema.json"), scenario_schema());
}

/// A validator using the Rust `regex` engine, as Taplo does, so patterns that only a
/// backtracking engine accepts would fail here.
fn validator(text: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(text).expect("JSON");
    jsonschema::meta::validate(&schema).expect("a valid draft 2020-12 schema");
    jsonschema::options()
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .build(&schema)
        .expect("compiles")
}

/// The TOML text as JSON, or `None` when it is not valid TOML.
fn as_json(text: &str) -> Option<Value> {
    let table: toml::Table = toml::from_str(text).ok()?;
    Some(serde_json::to_value(table).expect("TOML converts to JSON"))
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn every_bundled_file_validates_against_the_schema() {
    let model = validator(&model_schema());
    let scenario = validator(&scenario_schema());
    for (dir, validator) in [("models", &model), ("scenarios", &scenario)] {
        for path in toml_files(dir) {
            let text = std::fs::read_to_string(&path).expect("readable");
            let json = as_json(&text).expect("bundled files are TOML");
            let errors = errors(validator, &json);
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        }
    }
}

/// A fault of every kind of `FAULT_KINDS` against shop, aimed at what its `TargetKind` reads and
/// with the parameters its kind requires (an exhaustive `match`: a new kind must say its own):
/// each loads as that kind, onto a target of a shape its spec accepts, and validates against
/// the schema.
#[test]
fn a_fault_of_every_kind_loads_and_validates() {
    let validator = validator(&scenario_schema());
    let shop = std::fs::read_to_string("models/shop.toml").expect("readable");
    for spec in FAULT_KINDS {
        let target = match spec.target {
            TargetKind::Zone | TargetKind::ShiftedZone | TargetKind::ZoneCut => "zone = \"az-a\"",
            TargetKind::Edge => "edge = \"api->sessions\"",
            TargetKind::Workload => "workload = \"checkout\"",
            TargetKind::NodeOrEdge => "node = \"payments\"",
            TargetKind::CacheReplicas => "node = \"sessions\"",
            TargetKind::Replicas | TargetKind::ReplicasOrZone | TargetKind::ReplicasOrZoneOrSet => {
                "node = \"api\""
            }
        };
        let parameters = match spec.tag {
            FaultKindTag::ChaosMonkey => "mean_interval = \"30s\"\nrestart_after = \"20s\"",
            FaultKindTag::Latency => "latency = { dist = \"constant\", value = \"100ms\" }",
            FaultKindTag::Slowdown | FaultKindTag::TrafficSpike => "factor = 2",
            FaultKindTag::Capacity => "workers = 1",
            FaultKindTag::HitRatio => "value = 0.5",
            FaultKindTag::ZoneOutage
            | FaultKindTag::ZonePartition
            | FaultKindTag::Partition
            | FaultKindTag::Crash
            | FaultKindTag::Errors
            | FaultKindTag::Blackhole
            | FaultKindTag::CacheFlush
            | FaultKindTag::ZonalShift => "",
        };
        let duration = if spec.is_instant() {
            ""
        } else {
            "duration = \"1m\""
        };
        let text = format!(
            "name = \"t\"\nmodel = \"../models/shop.toml\"\nduration = \"10m\"\nwarmup = \"1m\"\n\n\
             [[fault]]\nkind = \"{}\"\nstart = \"2m\"\n{duration}\n{target}\n{parameters}\n",
            spec.name
        );
        let (scenario, _) =
            parse_scenario(Path::new("scenarios/t.toml"), &text, |_| Ok(shop.clone()))
                .unwrap_or_else(|d| panic!("{}: {:#?}", spec.name, d.items));
        let fault = &scenario.faults[0];
        assert_eq!(fault.kind.tag(), spec.tag);
        assert!(spec.target.accepts(&fault.target), "{}", spec.name);
        let errors = errors(&validator, &as_json(&text).expect("TOML"));
        assert!(errors.is_empty(), "{}: {errors:#?}", spec.name);
    }
}

#[test]
fn the_schema_rejects_unknown_keys_and_words_the_loader_rejects() {
    let model = validator(&model_schema());
    let scenario = validator(&scenario_schema());
    let mut checked = 0;
    for path in toml_files("tests/broken") {
        let text = std::fs::read_to_string(&path).expect("readable");
        let Some(json) = as_json(&text) else {
            continue;
        };
        let validation = validate_file(&path).expect("readable");
        let in_this_file = |code: Code| {
            validation
                .diagnostics
                .iter()
                .any(|d| d.code == code && d.file == path)
        };
        if !in_this_file(Code::UnknownKey) && !in_this_file(Code::UnknownChoice) {
            continue;
        }
        let validator = match validation.kind {
            FileKind::Model => &model,
            FileKind::Scenario => &scenario,
        };
        assert!(
            !validator.is_valid(&json),
            "{}: the loader rejects it but the schema accepts it",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} broken files checked");
}

#[test]
fn the_schema_agrees_with_every_explained_example() {
    let model = validator(&model_schema());
    let scenario = validator(&scenario_schema());
    for code in Code::ALL {
        let doc = code.doc();
        let validator = match doc.kind {
            ExampleKind::Model => &model,
            ExampleKind::Scenario => &scenario,
        };
        let fixed = as_json(doc.fixed).expect("fixes are TOML");
        let problems = errors(validator, &fixed);
        assert!(problems.is_empty(), "{code}'s fix: {problems:#?}");
        if matches!(
            code,
            Code::UnknownKey | Code::UnknownChoice | Code::WrongType | Code::BadDuration
        ) {
            let wrong = as_json(doc.wrong).expect("TOML");
            assert!(!validator.is_valid(&wrong), "{code}'s example passes");
        }
    }
}

// ---- graph ------------------------------------------------------------------------------

fn shop() -> blastradius::model::Topology {
    load_model(Path::new("models/shop.toml")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn shop_graph_as_dot() {
    let output = blastradius(&["graph", "models/shop.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), to_dot(&shop()));
    insta::assert_snapshot!("shop_dot", to_dot(&shop()));
}

#[test]
fn shop_graph_as_mermaid() {
    let output = blastradius(&["graph", "models/shop.toml", "--format", "mermaid"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), to_mermaid(&shop(), None));
    insta::assert_snapshot!("shop_mermaid", to_mermaid(&shop(), None));
}

#[test]
fn mermaid_highlights_colour_nodes() {
    let mut highlights = Highlights::new();
    highlights.insert("orders-db".to_string(), Highlight::class("errors"));
    highlights.insert("api".to_string(), Highlight::class("slower"));
    let text = to_mermaid(&shop(), Some(&highlights));
    assert!(text.contains("  class n0 slower\n"), "{text}");
    assert!(text.contains("  class n2 errors\n"), "{text}");
    assert!(text.contains("  class n1 cache\n"), "{text}");
    assert!(text.contains("  classDef errors "), "{text}");
}

#[test]
fn graph_of_a_broken_model_exits_3() {
    let output = blastradius(&["graph", "tests/broken/cycle.toml"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("error[E0013]"),
        "{}",
        stderr(&output)
    );
}

// ---- completions and man page -------------------------------------------------------------

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = blastradius(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let out = stdout(&output);
        assert!(out.contains("blastradius"), "{shell}: {out}");
        assert!(out.contains("validate"), "{shell}: {out}");
    }
    assert_eq!(blastradius(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_page_lists_the_subcommands() {
    let output = blastradius(&["man"]);
    assert_eq!(output.status.code(), Some(0));
    let out = stdout(&output);
    assert!(
        out.starts_with(".ie"),
        "roff: {}",
        &out[..out.len().min(200)]
    );
    assert!(out.contains(".TH blastradius"), "{out}");
    for command in [
        "run",
        "check",
        "validate",
        "explain",
        "schema",
        "graph",
        "completions",
    ] {
        assert!(
            out.contains(&format!("blastradius\\-{command}")),
            "{command}: {out}"
        );
    }
}

// ---- schema vs loader, key for key --------------------------------------------------------

/// A model with every kind of table; `@NAME@` marks where a probe puts a key.
const PROBE_MODEL: &str = r#"name = "m"
zones = ["a"]
@top@
[workload.w]
target = "api"
rate = 1
arrival = @arrival@
@workload@
[service.api]
zones = ["a"]
concurrency = @concurrency@
service_time = { dist = @dist_kind@, value = "1ms" }
calls = [{ to = "c", jitter = @jitter@ @call@ }]
@service@
[cache.c]
zones = ["a"]
service_time = { dist = "constant", value = "1ms" }
hit_ratio = 0.5
backing = "db"
on_unavailable = @on_unavailable@
@cache@
[database.db]
zones = ["a"]
primary = "a"
service_time = @dist@
@database@
[external.x]
latency = { dist = "constant", value = "1ms" }
@external@
"#;

/// A scenario against the bundled shop; `@fault@` holds a whole `[[fault]]`.
const PROBE_SCENARIO: &str = r#"name = "s"
model = "../models/shop.toml"
duration = "10m"
@top@
[limits]
@limits@
[blast_radius]
@blast_radius@
[[hypothesis]]
workload = "checkout"
metric = @metric@
window = @window@
min = 0.9
@hypothesis@
@fault@
"#;

/// Defaults for the markers a probe does not set.
const DEFAULTS: [(&str, &str); 10] = [
    ("arrival", "\"poisson\""),
    ("concurrency", "\"async\""),
    ("dist_kind", "\"constant\""),
    ("jitter", "\"none\""),
    ("on_unavailable", "\"fail\""),
    ("dist", "{ dist = \"constant\", value = \"1ms\" }"),
    ("metric", "\"availability\""),
    ("window", "\"during\""),
    ("call", ""),
    ("fault", ""),
];

const UNKNOWN: &str = "zzzzzz";

/// The template with `marker` set to `value` and every other marker at its default.
fn probe(template: &str, marker: &str, value: &str) -> String {
    let mut text = template.replace(&format!("@{marker}@"), value);
    for (name, default) in DEFAULTS {
        text = text.replace(&format!("@{name}@"), default);
    }
    while let Some(start) = text.find('@') {
        let end = start + 1 + text[start + 1..].find('@').expect("closed marker");
        text.replace_range(start..=end, "");
    }
    text
}

/// The words the loader lists in its diagnostic about `zzzzzz` (label and help), sorted.
fn loader_words(kind: FileKind, text: &str) -> Vec<String> {
    let path = match kind {
        FileKind::Model => Path::new("models/probe.toml"),
        FileKind::Scenario => Path::new("scenarios/probe.toml"),
    };
    let shop = std::fs::read_to_string("models/shop.toml").expect("bundled model");
    let validation = validate_text(path, text, |_| Ok(shop.clone()));
    let diagnostic = validation
        .diagnostics
        .iter()
        .find(|d| d.message.contains(UNKNOWN))
        .unwrap_or_else(|| panic!("no diagnostic about {UNKNOWN} in\n{text}"));
    let listed = format!(
        "{} {}",
        diagnostic.label,
        diagnostic.help.as_deref().unwrap_or("")
    );
    let mut words: Vec<String> = listed
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    // A word can be in both the label and the help.
    words.sort();
    words.dedup();
    words
}

fn def<'a>(schema: &'a Value, name: &str) -> &'a Value {
    &schema["$defs"][name]
}

/// The keys of an object schema, sorted, without those matching its `patternProperties`.
fn schema_keys(object: &Value) -> Vec<String> {
    let mut keys: Vec<String> = object["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("an object schema: {object}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// The words of an enum schema (`oneOf` of consts, or `enum`), sorted.
fn schema_words(schema: &Value) -> Vec<String> {
    let mut words: Vec<String> = match schema["oneOf"].as_array() {
        Some(variants) => variants
            .iter()
            .map(|v| v["const"].as_str().expect("a const").to_string())
            .collect(),
        None => schema["enum"]
            .as_array()
            .expect("an enum")
            .iter()
            .map(|v| v.as_str().expect("a word").to_string())
            .collect(),
    };
    words.sort();
    words
}

/// The variant of a tagged union whose `tag` is `name`.
fn variant<'a>(union: &'a Value, tag: &str, name: &str) -> &'a Value {
    union["oneOf"]
        .as_array()
        .expect("a union")
        .iter()
        .find(|v| v["properties"][tag]["const"] == name)
        .unwrap_or_else(|| panic!("no `{name}` variant"))
}

fn variant_names(union: &Value, tag: &str) -> Vec<String> {
    let mut names: Vec<String> = union["oneOf"]
        .as_array()
        .expect("a union")
        .iter()
        .map(|v| {
            v["properties"][tag]["const"]
                .as_str()
                .expect("a tag")
                .to_string()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn the_schema_has_exactly_the_keys_the_loader_takes() {
    let model: Value = serde_json::from_str(&model_schema()).expect("JSON");
    let key = format!("{UNKNOWN} = 1\n");
    let inline = format!(", {UNKNOWN} = 1");
    let model_tables = [
        ("top", &model),
        ("workload", def(&model, "Workload")),
        ("service", def(&model, "Service")),
        ("cache", def(&model, "Cache")),
        ("database", def(&model, "Database")),
        ("external", def(&model, "External")),
    ];
    for (marker, object) in model_tables {
        let text = probe(PROBE_MODEL, marker, &key);
        assert_eq!(
            loader_words(FileKind::Model, &text),
            schema_keys(object),
            "{marker}"
        );
    }
    let text = probe(PROBE_MODEL, "call", &inline);
    assert_eq!(
        loader_words(FileKind::Model, &text),
        schema_keys(def(&model, "Call"))
    );
    let distributions = def(&model, "Distribution");
    for (kind, params) in [
        ("constant", "value = \"1ms\""),
        ("exponential", "mean = \"1ms\""),
        ("uniform", "min = \"1ms\", max = \"2ms\""),
        ("lognormal", "median = \"1ms\", p99 = \"2ms\""),
        ("percentiles", "p50 = \"1ms\""),
    ] {
        let dist = format!("{{ dist = \"{kind}\", {params}{inline} }}");
        let text = probe(PROBE_MODEL, "dist", &dist);
        let mut loader = loader_words(FileKind::Model, &text);
        // The percentiles the loader names are instances of the schema's key pattern.
        loader.retain(|k| !(kind == "percentiles" && k.starts_with('p') && k != "percentiles"));
        let schema = schema_keys(variant(distributions, "dist", kind));
        assert_eq!(loader, schema, "{kind}");
    }
    let words = [
        ("dist_kind", variant_names(distributions, "dist")),
        ("arrival", schema_words(def(&model, "Arrival"))),
        ("concurrency", schema_words(def(&model, "Concurrency"))),
        ("jitter", schema_words(def(&model, "Jitter"))),
        ("on_unavailable", schema_words(def(&model, "OnUnavailable"))),
    ];
    for (marker, schema) in words {
        let text = probe(PROBE_MODEL, marker, &format!("\"{UNKNOWN}\""));
        assert_eq!(loader_words(FileKind::Model, &text), schema, "{marker}");
    }
}

#[test]
fn the_scenario_schema_has_exactly_the_keys_the_loader_takes() {
    let scenario: Value = serde_json::from_str(&scenario_schema()).expect("JSON");
    let key = format!("{UNKNOWN} = 1\n");
    let tables = [
        ("top", &scenario),
        ("limits", def(&scenario, "Limits")),
        ("blast_radius", def(&scenario, "BlastRadius")),
        ("hypothesis", def(&scenario, "Hypothesis")),
    ];
    for (marker, object) in tables {
        let text = probe(PROBE_SCENARIO, marker, &key);
        assert_eq!(
            loader_words(FileKind::Scenario, &text),
            schema_keys(object),
            "{marker}"
        );
    }
    for (marker, schema) in [
        ("metric", schema_words(def(&scenario, "Metric"))),
        ("window", schema_words(def(&scenario, "Window"))),
    ] {
        let text = probe(PROBE_SCENARIO, marker, &format!("\"{UNKNOWN}\""));
        assert_eq!(loader_words(FileKind::Scenario, &text), schema, "{marker}");
    }
    let faults = def(&scenario, "Fault");
    let kinds = variant_names(faults, "kind");
    let unknown_kind = format!("[[fault]]\nkind = \"{UNKNOWN}\"\nstart = \"5m\"\n");
    let text = probe(PROBE_SCENARIO, "fault", &unknown_kind);
    assert_eq!(loader_words(FileKind::Scenario, &text), kinds);
    for kind in &kinds {
        let fault = format!("[[fault]]\nkind = \"{kind}\"\nstart = \"5m\"\n{key}");
        let text = probe(PROBE_SCENARIO, "fault", &fault);
        assert_eq!(
            loader_words(FileKind::Scenario, &text),
            schema_keys(variant(faults, "kind", kind)),
            "{kind}"
        );
    }
}

#[test]
fn man_out_writes_a_page_per_subcommand() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = blastradius(&["man", "--out", dir.path().to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for page in [
        "blastradius.1",
        "blastradius-validate.1",
        "blastradius-graph.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page)).expect(page);
        assert!(text.contains(".SH SYNOPSIS"), "{page}: {text}");
    }
}

#[test]
fn every_bundled_file_names_its_schema_for_editors() {
    for (dir, schema) in [("models", "model"), ("scenarios", "scenario")] {
        let line = format!("#:schema ../schema/{schema}.schema.json\n");
        for path in toml_files(dir) {
            let text = std::fs::read_to_string(&path).expect("readable");
            assert!(
                text.starts_with(&line),
                "{} should start with `{}`",
                path.display(),
                line.trim_end()
            );
        }
    }
}
