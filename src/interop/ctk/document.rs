//! The experiment as a document: JSON or YAML text parsed into a `serde_json::Value` (a syntax
//! error keeps its line and column), and typed reads of the parts the importer looks at, each
//! failure naming where in the experiment it is (`method[2].provider.arguments.qty`).

use serde_json::Value;

use super::CtkError;

/// How the experiment file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Yaml,
}

impl Syntax {
    /// By the file's extension, as `chaos run` decides: `.yaml`/`.yml` is YAML, anything else
    /// JSON.
    pub fn of_path(path: &str) -> Syntax {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Syntax::Yaml
        } else {
            Syntax::Json
        }
    }
}

/// Parses the experiment's text. A malformed document is `CtkError::Syntax` with the 1-based
/// line and column the parser stopped at; a document that is not a mapping is one too.
pub fn parse(text: &str, syntax: Syntax) -> Result<Value, CtkError> {
    let value = match syntax {
        Syntax::Json => serde_json::from_str::<Value>(text).map_err(|error| CtkError::Syntax {
            line: error.line(),
            column: error.column(),
            message: json_message(&error),
        })?,
        Syntax::Yaml => serde_yaml_ng::from_str::<Value>(text).map_err(|error| {
            let (line, column) = error
                .location()
                .map_or((1, 1), |at| (at.line(), at.column()));
            CtkError::Syntax {
                line,
                column,
                message: yaml_message(&error),
            }
        })?,
    };
    if !value.is_object() {
        return Err(CtkError::Syntax {
            line: 1,
            column: 1,
            message: format!("expected an experiment (a mapping), found {}", kind(&value)),
        });
    }
    Ok(value)
}

/// serde_json's message without its trailing "at line L column C", which the diagnostic
/// states itself.
fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn yaml_message(error: &serde_yaml_ng::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// What a JSON value is, in words, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A located view of one value of the experiment: the value and its path, for errors.
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub value: &'a Value,
    pub path: &'a str,
}

/// A shape error at `path`: expected this, found that.
pub fn shape(path: &str, expected: &str, found: &Value) -> CtkError {
    CtkError::Shape {
        at: path.to_string(),
        message: format!("expected {expected}, found {}", kind(found)),
    }
}

/// The list under `key` of an object (absent or null: empty).
pub fn list<'a>(object: &'a Value, key: &str, path: &str) -> Result<&'a [Value], CtkError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(shape(&join(path, key), "a list", other)),
    }
}

/// The string under `key` (absent: `None`).
pub fn string<'a>(object: &'a Value, key: &str, path: &str) -> Result<Option<&'a str>, CtkError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(shape(&join(path, key), "a string", other)),
    }
}

/// A number of seconds under `key` (a pause, `secs`): non-negative and finite, in whole
/// nanoseconds. Chaos Toolkit also accepts a numeric string.
pub fn seconds(object: &Value, key: &str, path: &str) -> Result<Option<u64>, CtkError> {
    let secs = match object.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
        Some(other) => return Err(shape(&join(path, key), "a number of seconds", other)),
    };
    match secs {
        Some(secs) if secs.is_finite() && (0.0..1e9).contains(&secs) => {
            Ok(Some((secs * 1e9).round() as u64))
        }
        _ => Err(CtkError::Shape {
            at: join(path, key),
            message: "expected a number of seconds, at least 0".into(),
        }),
    }
}

/// A boolean under `key`; Chaos Toolkit's own functions take `"true"` as well.
pub fn boolean(object: &Value, key: &str, path: &str) -> Result<Option<bool>, CtkError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(shape(&join(path, key), "true or false", other)),
    }
}

/// A non-negative number under `key` (`qty`, `count`, a loss percentage), from a number or a
/// numeric string as Chaos Mesh's arguments are written.
pub fn number(object: &Value, key: &str, path: &str) -> Result<Option<f64>, CtkError> {
    let parsed = match object.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.trim().trim_end_matches('%').parse::<f64>().ok(),
        Some(other) => return Err(shape(&join(path, key), "a number", other)),
    };
    match parsed {
        Some(value) if value.is_finite() && value >= 0.0 => Ok(Some(value)),
        _ => Err(CtkError::Shape {
            at: join(path, key),
            message: "expected a number, at least 0".into(),
        }),
    }
}

/// `path.key`, or `key` at the top.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_json_and_yaml_keep_their_line_and_column() {
        let json = "{\n  \"title\": \"t\",\n  \"method\": [,]\n}";
        match parse(json, Syntax::Json) {
            Err(CtkError::Syntax { line, column, .. }) => assert_eq!((line, column), (3, 14)),
            other => panic!("{other:?}"),
        }
        let yaml = "title: t\nmethod:\n  - name: x\n   type: action\n";
        match parse(yaml, Syntax::Yaml) {
            Err(CtkError::Syntax { line, .. }) => assert_eq!(line, 4),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_document_that_is_not_a_mapping_is_refused() {
        assert!(matches!(
            parse("[1, 2]", Syntax::Json),
            Err(CtkError::Syntax { .. })
        ));
        assert_eq!(parse("title: t", Syntax::Yaml).unwrap()["title"], "t");
    }

    #[test]
    fn seconds_and_numbers_accept_what_chaos_toolkit_accepts() {
        let v: Value = serde_json::json!({"a": 1.5, "b": "2", "c": -1, "d": "25%"});
        assert_eq!(seconds(&v, "a", "p").unwrap(), Some(1_500_000_000));
        assert_eq!(seconds(&v, "b", "p").unwrap(), Some(2_000_000_000));
        assert!(seconds(&v, "c", "p").is_err());
        assert_eq!(number(&v, "d", "p").unwrap(), Some(25.0));
        assert_eq!(seconds(&v, "missing", "p").unwrap(), None);
    }
}
