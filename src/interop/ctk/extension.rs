//! The `blastradius` entry of an experiment's `extensions`: what an exported experiment says
//! that Chaos Toolkit has no words for — the scenario's run settings, each fault's exact
//! duration (by activity name) and each hypothesis's exact bounds and windows (by probe name).
//! Chaos Toolkit keeps extensions as they are and ignores them; `import` reads them first.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::interop::draft::exact_duration;
use crate::model::parse_duration;

use super::CtkError;
use super::document;

/// The extension's name in `extensions`.
pub const NAME: &str = "blastradius";

/// What the extension says, read. Everything optional: an experiment written by hand has none.
#[derive(Clone, Debug, Default)]
pub struct Extension {
    pub name: Option<String>,
    pub duration_ns: Option<u64>,
    pub warmup_ns: Option<u64>,
    pub seed: Option<u64>,
    pub method_start_ns: Option<u64>,
    /// Activity name -> exact duration (`None`: until the end of the run).
    pub durations: BTreeMap<String, Option<u64>>,
    /// Probe name -> the hypothesis keys that replace the probe's bounds and windows.
    pub bounds: BTreeMap<String, toml::Table>,
}

/// Keys of a hypothesis that the extension states exactly.
pub const BOUND_KEYS: [&str; 5] = ["min", "max", "max_increase", "max_decrease", "window"];

impl Extension {
    pub fn read(experiment: &Value) -> Result<Extension, CtkError> {
        let entries = document::list(experiment, "extensions", "")?;
        let Some((index, entry)) = entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.get("name").and_then(Value::as_str) == Some(NAME))
        else {
            return Ok(Extension::default());
        };
        let path = format!("extensions[{index}]");
        let scenario = entry.get("scenario").unwrap_or(&Value::Null);
        let scenario_path = format!("{path}.scenario");
        let mut extension = Extension {
            name: document::string(scenario, "name", &scenario_path)?.map(str::to_string),
            duration_ns: duration(scenario, "duration", &scenario_path)?.flatten(),
            warmup_ns: duration(scenario, "warmup", &scenario_path)?.flatten(),
            method_start_ns: duration(scenario, "method_start", &scenario_path)?.flatten(),
            seed: scenario.get("seed").and_then(Value::as_u64),
            ..Extension::default()
        };
        if let Some(Value::Object(faults)) = entry.get("faults") {
            for (activity, fault) in faults {
                let fault_path = format!("{path}.faults.{activity}");
                if let Some(exact) = duration(fault, "duration", &fault_path)? {
                    extension.durations.insert(activity.clone(), exact);
                }
            }
        }
        if let Some(Value::Object(hypotheses)) = entry.get("hypotheses") {
            for (probe, bounds) in hypotheses {
                extension.bounds.insert(probe.clone(), bounds_table(bounds));
            }
        }
        Ok(extension)
    }
}

/// `Some(Some(ns))` for a duration, `Some(None)` for an explicit null (until the end), `None`
/// when absent.
fn duration(object: &Value, key: &str, path: &str) -> Result<Option<Option<u64>>, CtkError> {
    match object.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(text)) => {
            parse_duration(text)
                .map(|ns| Some(Some(ns)))
                .map_err(|error| CtkError::Shape {
                    at: document::join(path, key),
                    message: format!("not a duration: {error}"),
                })
        }
        Some(other) => Err(document::shape(
            &document::join(path, key),
            "a duration",
            other,
        )),
    }
}

fn bounds_table(bounds: &Value) -> toml::Table {
    let mut table = toml::Table::new();
    for key in BOUND_KEYS {
        if let Some(value) = bounds.get(key).and_then(to_toml) {
            table.insert(key.into(), value);
        }
    }
    table
}

fn to_toml(value: &Value) -> Option<toml::Value> {
    match value {
        Value::String(text) => Some(text.clone().into()),
        Value::Number(number) if number.is_i64() => number.as_i64().map(toml::Value::Integer),
        Value::Number(number) => number.as_f64().map(toml::Value::Float),
        Value::Array(items) => items
            .iter()
            .map(to_toml)
            .collect::<Option<Vec<_>>>()
            .map(toml::Value::Array),
        _ => None,
    }
}

/// Replaces the probe's bounds and windows by the extension's.
pub fn apply_bounds(keys: &mut toml::Table, bounds: &toml::Table) {
    for key in BOUND_KEYS {
        keys.remove(key);
    }
    for (key, value) in bounds {
        keys.insert(key.clone(), value.clone());
    }
}

/// The extension an export writes.
pub struct Written {
    pub scenario: Value,
    pub faults: serde_json::Map<String, Value>,
    pub hypotheses: serde_json::Map<String, Value>,
}

impl Written {
    pub fn to_json(self) -> Value {
        json!({
            "name": NAME,
            "scenario": self.scenario,
            "faults": self.faults,
            "hypotheses": self.hypotheses,
        })
    }
}

/// A duration as the extension writes it.
pub fn duration_json(ns: Option<u64>) -> Value {
    ns.map_or(Value::Null, |ns| Value::String(exact_duration(ns)))
}
