//! A FIS experiment template as JSON, the input of `aws fis create-experiment-template`:
//! typed with serde (so a wrong type is reported with its line and column, as a syntax error
//! is), in source order (`IndexMap`), and written back by the exporter with the same types.
//! Keys this module does not model (`logConfiguration`, `experimentOptions`, ...) are kept in
//! `other` and named by the importer, never silently dropped.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub targets: IndexMap<String, Target>,
    pub actions: IndexMap<String, Action>,
    #[serde(default)]
    pub stop_conditions: Vec<StopCondition>,
    #[serde(default)]
    pub role_arn: String,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub tags: IndexMap<String, String>,
    /// Every other top-level key, as written.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub resource_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_arns: Vec<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub resource_tags: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    pub selection_mode: String,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub parameters: IndexMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Filter {
    pub path: String,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    pub action_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub parameters: IndexMap<String, String>,
    /// Target key (`Instances`, `Clusters`, ...) -> the name of a target of the template.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub targets: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub start_after: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct StopCondition {
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Why a template's text could not be read: the message and the 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct TemplateError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses a template. Malformed JSON and values of the wrong type are reported where they are.
/// The output of `aws fis get-experiment-template` (`{"experimentTemplate": {...}}`) is
/// accepted too.
pub fn parse_template(text: &str) -> Result<Template, TemplateError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Wrapped {
        experiment_template: Template,
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(located)?;
    if value.get("experimentTemplate").is_some() {
        return serde_json::from_str::<Wrapped>(text)
            .map(|w| w.experiment_template)
            .map_err(located);
    }
    serde_json::from_str(text).map_err(located)
}

fn located(error: serde_json::Error) -> TemplateError {
    let message = error.to_string();
    // serde_json appends " at line L column C"; the location is given separately.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m)
        .to_string();
    TemplateError {
        line: error.line(),
        column: error.column(),
        message,
    }
}

/// The 1-based line and column of the last of `anchors`, each searched in turn from where the
/// previous one was found: `["actions", "Stop", "Foo"]` finds `Foo` inside action `Stop`. Every
/// anchor but the last is a key (a string followed by `:`); the last is any string. A semantic
/// mistake is located this way, since JSON values carry no positions. A missing anchor leaves
/// the position at the previous one.
pub fn locate(text: &str, anchors: &[&str]) -> (usize, usize) {
    let mut at = 0;
    for (i, anchor) in anchors.iter().enumerate() {
        let quoted = serde_json::to_string(anchor).expect("a string serialises");
        let found = match i + 1 == anchors.len() {
            true => text[at..].find(&quoted),
            false => find_key(&text[at..], &quoted),
        };
        if let Some(found) = found {
            at += found;
        }
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(at, |nl| at - nl - 1) + 1;
    (line, column)
}

/// The offset of `quoted` used as an object key in `text`.
fn find_key(text: &str, quoted: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find(quoted) {
        let at = from + found;
        if text[at + quoted.len()..].trim_start().starts_with(':') {
            return Some(at);
        }
        from = at + quoted.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_json_is_located() {
        let error = parse_template("{\n  \"actions\": {\n    \"a\": { \"actionId\": 3 }\n  }\n}")
            .unwrap_err();
        assert_eq!((error.line, error.column), (3, 24), "{error}");
        assert!(error.message.contains("expected a string"), "{error}");
        let error = parse_template("{\n  \"actions\": {,\n}").unwrap_err();
        assert_eq!(error.line, 2, "{error}");
    }

    #[test]
    fn templates_keep_source_order_and_unmodelled_keys() {
        let text = r#"{"description": "d", "actions": {"z": {"actionId": "aws:fis:wait"},
            "a": {"actionId": "aws:fis:wait"}}, "logConfiguration": {"logSchemaVersion": 2}}"#;
        let template = parse_template(text).unwrap();
        assert_eq!(template.actions.keys().collect::<Vec<_>>(), ["z", "a"]);
        assert!(template.other.contains_key("logConfiguration"));
        let wrapped = format!("{{\"experimentTemplate\": {text}}}");
        assert_eq!(parse_template(&wrapped).unwrap(), template);
    }

    #[test]
    fn anchors_locate_a_name_inside_its_action() {
        let text = "{\n \"actions\": {\n  \"x\": {\"startAfter\": [\"y\"]},\n  \"y\": {}\n }\n}";
        assert_eq!(locate(text, &["actions", "x", "y"]), (3, 24));
    }
}
