//! When each activity runs, as `chaos run` runs them: the method's activities one after the
//! other, each between its `pauses.before` and `pauses.after`; a `background: true` activity
//! in parallel with what follows (the method ends when the last one is done); then the
//! rollbacks, the same way. Activities take no time of their own except sleeps (a Python
//! `time.sleep` or a `sleep` process), which are how experiments wait besides pauses.
//! `{"ref": "name"}` entries are resolved to the activity of that name.

use serde_json::Value;

use super::CtkError;
use super::document::{self, seconds};

/// The two lists of activities that do things.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Method,
    Rollbacks,
}

impl Phase {
    pub fn key(self) -> &'static str {
        match self {
            Phase::Method => "method",
            Phase::Rollbacks => "rollbacks",
        }
    }
}

/// One activity placed in time, relative to the method's start.
#[derive(Clone, Debug)]
pub struct Placed<'a> {
    pub phase: Phase,
    /// `method[2]`, for messages.
    pub path: String,
    pub name: String,
    /// The activity itself (a `ref` resolved).
    pub activity: &'a Value,
    /// When it runs: after its `pauses.before`.
    pub begin_ns: u64,
}

/// Every activity of the method and rollbacks in run order, and when the last one ends.
/// Invariant: `placed` is in document order (method, then rollbacks).
#[derive(Clone, Debug)]
pub struct Timeline<'a> {
    pub placed: Vec<Placed<'a>>,
    pub end_ns: u64,
}

/// Places the experiment's activities.
pub fn place(experiment: &Value) -> Result<Timeline<'_>, CtkError> {
    let mut placed = Vec::new();
    let method_end_ns = place_phase(experiment, Phase::Method, 0, &mut placed)?;
    let end_ns = place_phase(experiment, Phase::Rollbacks, method_end_ns, &mut placed)?;
    Ok(Timeline { placed, end_ns })
}

/// Places one phase starting at `start_ns`; returns when it ends (its last foreground
/// activity, or a background one that ends later).
fn place_phase<'a>(
    experiment: &'a Value,
    phase: Phase,
    start_ns: u64,
    placed: &mut Vec<Placed<'a>>,
) -> Result<u64, CtkError> {
    let mut cursor = start_ns;
    let mut background_end = start_ns;
    for (index, entry) in document::list(experiment, phase.key(), "")?
        .iter()
        .enumerate()
    {
        let path = format!("{}[{index}]", phase.key());
        let activity = resolve(experiment, entry, &path)?;
        let pauses = activity.get("pauses").unwrap_or(&Value::Null);
        let before = seconds(pauses, "before", &format!("{path}.pauses"))?.unwrap_or(0);
        let after = seconds(pauses, "after", &format!("{path}.pauses"))?.unwrap_or(0);
        let begin_ns = cursor + before;
        let end = begin_ns + sleep_ns(activity, &path)? + after;
        let name = document::string(activity, "name", &path)?
            .unwrap_or("")
            .to_string();
        placed.push(Placed {
            phase,
            path: path.clone(),
            name,
            activity,
            begin_ns,
        });
        if document::boolean(activity, "background", &path)?.unwrap_or(false) {
            background_end = background_end.max(end);
        } else {
            cursor = end;
        }
    }
    Ok(cursor.max(background_end))
}

/// A `{"ref": "name"}` entry is the activity of that name elsewhere in the experiment (the
/// steady-state probes or an earlier method entry), as Chaos Toolkit resolves it.
fn resolve<'a>(experiment: &'a Value, entry: &'a Value, path: &str) -> Result<&'a Value, CtkError> {
    if !entry.is_object() {
        return Err(document::shape(path, "an activity (a mapping)", entry));
    }
    let Some(name) = document::string(entry, "ref", path)? else {
        return Ok(entry);
    };
    let hypothesis = experiment
        .get("steady-state-hypothesis")
        .unwrap_or(&Value::Null);
    let candidates = document::list(hypothesis, "probes", "steady-state-hypothesis")?
        .iter()
        .chain(document::list(experiment, "method", "")?);
    candidates
        .filter(|activity| activity.get("ref").is_none())
        .find(|activity| activity.get("name").and_then(Value::as_str) == Some(name))
        .ok_or_else(|| CtkError::Shape {
            at: format!("{path}.ref"),
            message: format!("no activity is named `{name}`"),
        })
}

/// How long the activity itself takes: the seconds of a sleep, 0 for anything else.
fn sleep_ns(activity: &Value, path: &str) -> Result<u64, CtkError> {
    Ok(sleep_of(activity, path)?.unwrap_or(0))
}

/// `Some(ns)` when the activity is a sleep: a Python provider `time.sleep(secs)` or a
/// process provider running `sleep N`.
pub fn sleep_of(activity: &Value, path: &str) -> Result<Option<u64>, CtkError> {
    let Some(provider) = activity.get("provider") else {
        return Ok(None);
    };
    let path = format!("{path}.provider");
    let kind = document::string(provider, "type", &path)?;
    match kind {
        Some("python") => {
            let module = document::string(provider, "module", &path)?;
            let func = document::string(provider, "func", &path)?;
            if (module, func) != (Some("time"), Some("sleep")) {
                return Ok(None);
            }
            let arguments = provider.get("arguments").unwrap_or(&Value::Null);
            Ok(Some(
                seconds(arguments, "secs", &format!("{path}.arguments"))?.unwrap_or(0),
            ))
        }
        Some("process") => {
            let program = document::string(provider, "path", &path)?.unwrap_or("");
            if program != "sleep" && !program.ends_with("/sleep") {
                return Ok(None);
            }
            let arguments = match provider.get("arguments") {
                Some(Value::Array(items)) => items.first().cloned().unwrap_or(Value::Null),
                Some(other) => other.clone(),
                None => Value::Null,
            };
            let wrapped = serde_json::json!({ "secs": arguments });
            Ok(Some(
                seconds(&wrapped, "secs", &format!("{path}.arguments"))?.unwrap_or(0),
            ))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const S: u64 = 1_000_000_000;

    #[test]
    fn pauses_sleeps_background_and_rollbacks_set_the_times() {
        let experiment = json!({
            "method": [
                {"name": "a", "type": "action", "pauses": {"before": 10, "after": 5}},
                {"name": "bg", "type": "action", "background": true, "pauses": {"after": 100}},
                {"name": "wait", "type": "action",
                 "provider": {"type": "python", "module": "time", "func": "sleep",
                              "arguments": {"secs": 20}}},
                {"name": "b", "type": "action"},
            ],
            "rollbacks": [
                {"name": "undo", "type": "action", "pauses": {"before": 3}},
                {"ref": "a"}
            ]
        });
        let timeline = place(&experiment).unwrap();
        let begins: Vec<(&str, u64)> = timeline
            .placed
            .iter()
            .map(|p| (p.name.as_str(), p.begin_ns / S))
            .collect();
        assert_eq!(
            begins,
            [
                ("a", 10),
                ("bg", 15),
                ("wait", 15),
                ("b", 35),
                ("undo", 118),
                ("a", 128)
            ]
        );
        // The background activity's pause outlasts the foreground ones: the method ends at
        // 115 s, and the rollbacks start then.
        assert_eq!(timeline.end_ns, 133 * S);
    }

    #[test]
    fn a_ref_to_nothing_names_the_ref() {
        let experiment = json!({"method": [{"ref": "nope"}]});
        match place(&experiment) {
            Err(CtkError::Shape { at, message }) => {
                assert_eq!(at, "method[0].ref");
                assert!(message.contains("`nope`"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_sleep_process_takes_its_seconds() {
        let activity =
            json!({"provider": {"type": "process", "path": "/bin/sleep", "arguments": "7"}});
        assert_eq!(sleep_of(&activity, "m").unwrap(), Some(7 * S));
    }
}
