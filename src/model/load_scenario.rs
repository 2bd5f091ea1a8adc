//! A scenario file, text to `Scenario`: run length, seed, limits, `[blast_radius]`, and the model
//! it names (read relative to the scenario's directory; its mistakes are reported against the
//! model file). Faults are read in `load_fault`, hypotheses in `load_hypothesis`.

use std::io;
use std::path::{Path, PathBuf};

use super::codes::Code;
use super::diagnostic::Diagnostics;
use super::error::{LoadError, read_text};
use super::load_fault::{Run, read_faults};
use super::load_hypothesis::read_hypotheses;
use super::load_model::read_model;
use super::reader::{Fields, Sink, Value, or_default};
use super::scenario::{Limits, Scenario};
use super::topology::Topology;

const SCENARIO_KEYS: &[&str] = &[
    "name",
    "model",
    "duration",
    "warmup",
    "seed",
    "limits",
    "hypothesis",
    "fault",
    "blast_radius",
];

/// Reads and validates the scenario at `path` and the model it names.
pub fn load_scenario(path: &Path) -> Result<Scenario, LoadError> {
    load_scenario_with_warnings(path).map(|(scenario, _)| scenario)
}

/// Like `load_scenario`, also handing back the warnings of a scenario that loads.
pub fn load_scenario_with_warnings(path: &Path) -> Result<(Scenario, Diagnostics), LoadError> {
    let text = read_text(path)?;
    parse_scenario(path, &text, |model| std::fs::read_to_string(model)).map_err(LoadError::Invalid)
}

/// The scenario in `text`, reading its model with `read_file` (given the model's path, resolved
/// relative to `file`'s directory). A pure entry point for tests and fuzzing: with a
/// `read_file` that does no IO, nothing here touches the file system.
pub fn parse_scenario(
    file: &Path,
    text: &str,
    read_file: impl Fn(&Path) -> io::Result<String>,
) -> Result<(Scenario, Diagnostics), Diagnostics> {
    let mut sink = Sink::new(file, text);
    let root = sink.parse();
    let mut fields = Fields::new(root.get_ref(), 0..0, "the scenario", SCENARIO_KEYS);
    let model = fields
        .required("model")
        .and_then(|v| read_model_file(&mut sink, v, &read_file));
    let (topology, model_diagnostics) = match &model {
        Some((path, model_text)) => parse_model_text(path, model_text),
        None => (None, Diagnostics::default()),
    };
    let scenario = read_scenario(&mut sink, &mut fields, topology);
    fields.finish(&mut sink);
    let failed = sink.has_errors() || model_diagnostics.has_errors();
    let mut diagnostics = Diagnostics::default();
    diagnostics.add_file(file, text, sink.finish());
    diagnostics.append(model_diagnostics);
    match (scenario, model) {
        (Some(mut scenario), Some((model_path, _))) if !failed => {
            scenario.path = file.to_path_buf();
            scenario.model_path = model_path;
            Ok((scenario, diagnostics))
        }
        _ => Err(diagnostics),
    }
}

/// Removes `.` and `dir/..` pairs without touching the file system, so messages and reports
/// name `models/shop.toml` rather than `scenarios/../models/shop.toml`. A `..` that climbs
/// past the start (or follows another `..`) is kept.
fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        PathBuf::from(".")
    } else {
        parts.iter().collect()
    }
}

/// Resolves the `model` path relative to the scenario's directory and reads it.
fn read_model_file(
    sink: &mut Sink<'_>,
    value: &Value<'_>,
    read_file: &impl Fn(&Path) -> io::Result<String>,
) -> Option<(PathBuf, String)> {
    let relative = sink.string("model", value)?;
    let directory = sink.file.parent().unwrap_or(Path::new(""));
    let path = lexically_normal(&directory.join(relative));
    match read_file(&path) {
        Ok(text) => Some((path, text)),
        Err(error) => {
            sink.error(
                Code::ModelUnreadable,
                value.span(),
                format!("cannot read the model file {}: {error}", path.display()),
            )
            .label("the path is relative to this scenario's directory");
            None
        }
    }
}

fn parse_model_text(path: &Path, text: &str) -> (Option<Topology>, Diagnostics) {
    let mut sink = Sink::new(path, text);
    let topology = read_model(&mut sink).filter(|_| !sink.has_errors());
    let mut diagnostics = Diagnostics::default();
    diagnostics.add_file(path, text, sink.finish());
    (topology, diagnostics)
}

/// Everything but the paths; `topology` is `None` when the model did not load, in which case
/// hypotheses are checked without resolving their workloads.
fn read_scenario(
    sink: &mut Sink<'_>,
    fields: &mut Fields<'_, '_>,
    topology: Option<Topology>,
) -> Option<Scenario> {
    let name = fields
        .required("name")
        .and_then(|v| {
            let name = sink.string("name", v)?;
            super::name_check::check_name(sink, "scenario", name, v.span());
            Some(name)
        })
        .map(str::to_string);
    let duration = fields
        .required("duration")
        .and_then(|v| sink.positive_duration("duration", v));
    let warmup = or_default(fields.get("warmup"), 0, |v| sink.duration("warmup", v));
    if let (Some(duration), Some(warmup), Some(value)) = (duration, warmup, fields.get("warmup")) {
        if warmup >= duration {
            sink.error(
                Code::OutOfRange,
                value.span(),
                "the warmup is not shorter than the duration",
            )
            .label("expected less than `duration`");
        }
    }
    let seed = or_default(fields.get("seed"), 0, |v| {
        sink.integer("seed", v, 0, u64::MAX)
    });
    let limits = or_default(fields.get("limits"), Limits::default(), |v| {
        read_limits(sink, v)
    });
    let hypotheses = or_default(fields.get("hypothesis"), Vec::new(), |v| {
        read_hypotheses(sink, v, topology.as_ref())
    });
    let run = Run {
        duration_ns: duration,
        warmup_ns: warmup,
    };
    let faults = or_default(fields.get("fault"), Vec::new(), |v| {
        read_faults(sink, v, topology.as_ref(), run)
    });
    let slow = or_default(fields.get("blast_radius"), None, |v| {
        read_blast_radius(sink, v)
    });
    Some(Scenario {
        name: name?,
        path: PathBuf::new(),
        model_path: PathBuf::new(),
        topology: topology?,
        duration_ns: duration?,
        warmup_ns: warmup?,
        seed: seed?,
        limits: limits?,
        hypotheses: hypotheses?,
        faults: faults?,
        slow_threshold_ns: slow?,
    })
}

const LIMIT_KEYS: &[&str] = &[
    "max_events",
    "max_requests_in_flight",
    "max_calls_in_flight",
    "max_memory_mb",
];

fn read_limits(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<Limits> {
    let fields = Fields::of(sink, value, "`[limits]`", "a table `[limits]`", LIMIT_KEYS)?;
    let defaults = Limits::default();
    let events = or_default(fields.get("max_events"), defaults.max_events, |v| {
        sink.integer("max_events", v, 1, u64::MAX)
    });
    let requests = or_default(
        fields.get("max_requests_in_flight"),
        defaults.max_requests_in_flight,
        |v| sink.count("max_requests_in_flight", v, 1),
    );
    let calls = or_default(
        fields.get("max_calls_in_flight"),
        defaults.max_calls_in_flight,
        |v| sink.count("max_calls_in_flight", v, 1),
    );
    let memory = or_default(fields.get("max_memory_mb"), defaults.max_memory_mb, |v| {
        sink.integer("max_memory_mb", v, 1, u64::MAX >> 20)
    });
    fields.finish(sink);
    Some(Limits {
        max_events: events?,
        max_requests_in_flight: requests?,
        max_calls_in_flight: calls?,
        max_memory_mb: memory?,
    })
}

const BLAST_RADIUS_KEYS: &[&str] = &["slow"];

/// `[blast_radius]`: `slow`, the latency above which a user request counts as hurt.
fn read_blast_radius(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<Option<u64>> {
    let fields = Fields::of(
        sink,
        value,
        "`[blast_radius]`",
        "a table `[blast_radius]`",
        BLAST_RADIUS_KEYS,
    )?;
    let slow = or_default(fields.get("slow"), None, |v| {
        sink.positive_duration("slow", v).map(Some)
    });
    fields.finish(sink);
    slow
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scenario::Metric;

    const MODEL: &str = r#"
name = "m"
zones = ["z"]
[workload.checkout]
target = "api"
rate = 10
[service.api]
zones = ["z"]
service_time = { dist = "constant", value = "1ms" }
"#;

    fn parse(text: &str) -> Result<Scenario, Vec<String>> {
        let file = Path::new("scenarios/s.toml");
        let read = |path: &Path| {
            if path == Path::new("models/m.toml") {
                Ok(MODEL.to_string())
            } else {
                Err(io::Error::new(io::ErrorKind::NotFound, "no such file"))
            }
        };
        parse_scenario(file, text, read)
            .map(|(scenario, _)| scenario)
            .map_err(|d| d.items.into_iter().map(|d| d.message).collect())
    }

    const HEAD: &str = "name = \"s\"\nmodel = \"../models/m.toml\"\nduration = \"1m\"\n";

    #[test]
    fn a_scenario_loads_with_defaults() {
        let scenario = parse(HEAD).unwrap();
        assert_eq!(scenario.duration_ns, 60_000_000_000);
        assert_eq!((scenario.warmup_ns, scenario.seed), (0, 0));
        assert_eq!(scenario.limits, Limits::default());
        assert_eq!(scenario.model_path, Path::new("models/m.toml"));
        assert_eq!(scenario.topology.nodes.len(), 1);
    }

    #[test]
    fn hypotheses_take_values_in_their_metrics_units() {
        let text = format!(
            "{HEAD}seed = 7\n[limits]\nmax_events = 1000\n\
             [[hypothesis]]\nworkload = \"checkout\"\nmetric = \"p99\"\nmax = \"300ms\"\n\
             [[hypothesis]]\nworkload = \"checkout\"\nmetric = \"availability\"\nmin = 0.999\n"
        );
        let scenario = parse(&text).unwrap();
        assert_eq!(scenario.seed, 7);
        assert_eq!(scenario.limits.max_events, 1000);
        let h = &scenario.hypotheses;
        assert_eq!(
            (h[0].metric, h[0].min, h[0].max, h[0].line),
            (Metric::P99, None, Some(3e8), 7)
        );
        assert_eq!(
            (h[1].metric, h[1].min, h[1].max),
            (Metric::Availability, Some(0.999), None)
        );
    }

    #[test]
    fn every_scenario_mistake_is_reported() {
        let text = "name = 5\nmodel = \"../models/m.toml\"\nduration = \"1m\"\nwarmup = \"2m\"\n\
             seed = -1\n[limits]\nmax_calls_in_flight = 0\n\
             [[hypothesis]]\nworkload = \"chekout\"\nmetric = \"p99\"\nmax = 0.3\n\
             [[hypothesis]]\nworkload = \"checkout\"\nmetric = \"latency\"\nmax = \"1s\"\n\
             [[hypothesis]]\nworkload = \"checkout\"\nmetric = \"mean\"\n\
             [[hypothesis]]\nworkload = \"checkout\"\nmetric = \"error_rate\"\nmin = 0.5\nmax = 0.1\n\
             [[fault]]\nkind = \"zone-outage\"\n";
        let errors = parse(text).unwrap_err();
        let expected = [
            "wrong type for `name`: expected a string",
            "warmup is not shorter",
            "`seed` must be",
            "`max_calls_in_flight` must be",
            "unknown workload `chekout`",
            "expected a duration string",
            "unknown metric `latency`",
            "needs a bound",
            "`max` is below its `min`",
            "missing target in this `zone-outage` fault",
            "missing key `start`",
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
        for (error, expected) in errors.iter().zip(expected) {
            assert!(error.contains(expected), "{error} / {expected}");
        }
    }

    #[test]
    fn a_missing_model_is_reported_at_the_model_key() {
        let errors = parse("name = \"s\"\nmodel = \"nope.toml\"\nduration = \"1m\"\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].contains("cannot read the model file scenarios/nope.toml"),
            "{errors:?}"
        );
    }
}
