//! Chaos Toolkit experiments (JSON or YAML) to scenarios and back (issue 16).
//!
//! `import` reads an experiment already parsed by `document::parse` and builds a
//! `ScenarioDraft` on a model: `timeline` places the method's and rollbacks' activities in
//! time as `chaos run` runs them, `actions` maps each action to faults (selectors resolved by
//! `select` against the model's labels), `probes` maps the steady-state hypothesis. `export`
//! goes the other way. Everything that cannot be mapped is in the draft's `unmapped` list by
//! the activity's name. No IO here: the CLI reads and writes the files.
//!
//! Times: the method starts after a warm-up and a lead-in (the `before` window, where Chaos
//! Toolkit first checks the steady state). A fault acts from its activity until the activity
//! that undoes it (`delete_network_fault`, `uncordon_node`, `start_instances`), or else until
//! the experiment's end (method and rollbacks); the scenario runs on for a tail in which
//! recovery is judged. An experiment exported by `export` carries a `blastradius` extension
//! with what Chaos Toolkit cannot say (exact durations, the scenario's run settings, bounds),
//! which `import` honours, so that import(export(S)) gives S's faults and hypotheses back.

mod actions;
pub mod document;
mod export;
mod extension;
mod probes;
mod select;
mod timeline;

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::interop::draft::{DraftEntry, ScenarioDraft, Unmapped, exact_duration};
use crate::model::Topology;

pub use document::{Syntax, parse};
pub use export::{Exported, export};
pub use probes::DEFAULT_AVAILABILITY_FLOOR;

use actions::Mapped;
use extension::Extension;

/// Warm-up of an imported scenario.
pub const WARMUP_NS: u64 = 60_000_000_000;
/// The time between the warm-up and the method's start: the `before` window.
pub const LEAD_IN_NS: u64 = 60_000_000_000;
/// The time after the experiment's end, for the `after` window and recovery.
pub const TAIL_NS: u64 = 120_000_000_000;
/// A fault whose activity is followed by nothing that takes time lasts this long.
pub const MIN_FAULT_NS: u64 = 60_000_000_000;

/// Why an experiment could not be imported. Every variant names where.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CtkError {
    /// Malformed JSON or YAML.
    #[error("{line}:{column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// A well-formed document with a value of the wrong shape (`method[2].pauses.after`).
    #[error("at `{at}`: {message}")]
    Shape { at: String, message: String },
    /// A selector, tag filter, zone or identifier of an activity that names nothing in the model.
    #[error("activity `{activity}`, selector `{selector}`: {message}")]
    Selector {
        activity: String,
        selector: String,
        message: String,
    },
}

/// What `import` needs besides the experiment and the model.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The experiment's file name, for the header comment.
    pub source: String,
    /// The model's path as the scenario file names it.
    pub model: String,
    /// `--routes`: URL prefix or host -> workload, for HTTP probes.
    pub routes: Vec<(String, String)>,
    /// `--seed`; otherwise the exported scenario's, otherwise 0.
    pub seed: Option<u64>,
}

/// The scenario for an experiment on a model.
pub fn import(
    experiment: &Value,
    topology: &Topology,
    options: &ImportOptions,
) -> Result<ScenarioDraft, CtkError> {
    let extension = Extension::read(experiment)?;
    let seed = options.seed.or(extension.seed).unwrap_or(0);
    let timeline = timeline::place(experiment)?;
    let mut header = vec![format!(
        "Imported from the Chaos Toolkit experiment {} by `blastradius import ctk`.",
        options.source
    )];
    if let Some(description) = document::string(experiment, "description", "")? {
        header.push(description.to_string());
    }
    let mut draft = ScenarioDraft {
        header,
        name: extension.name.clone().unwrap_or_else(|| title(experiment)),
        model: options.model.clone(),
        seed,
        warmup_ns: extension.warmup_ns.unwrap_or(WARMUP_NS),
        ..ScenarioDraft::default()
    };
    let method_start = extension
        .method_start_ns
        .unwrap_or(draft.warmup_ns + LEAD_IN_NS);
    let mut builder = Faults::default();
    for placed in &timeline.placed {
        let at = method_start + placed.begin_ns;
        match actions::map(topology, seed, placed)? {
            Mapped::Faults {
                tables,
                undo,
                notes,
            } => builder.open(placed, at, tables, undo, notes),
            Mapped::Undo(key) => {
                if !builder.close(&key, at) {
                    draft.unmapped.push(unmapped(
                        placed,
                        "it undoes no fault started before it".into(),
                    ));
                }
            }
            Mapped::Sleep => {}
            Mapped::Unmapped(reason) => draft.unmapped.push(unmapped(placed, reason)),
        }
    }
    let end = method_start + timeline.end_ns;
    draft.faults = builder.finish(end, &extension);
    draft.hypotheses = hypotheses(
        experiment,
        topology,
        options,
        &extension,
        &mut draft.unmapped,
    )?;
    let last = draft
        .faults
        .iter()
        .map(|entry| fault_end(&entry.keys))
        .max()
        .unwrap_or(end)
        .max(end);
    draft.duration_ns = extension.duration_ns.unwrap_or(last + TAIL_NS);
    Ok(draft)
}

fn title(experiment: &Value) -> String {
    experiment
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("imported experiment")
        .to_string()
}

fn unmapped(placed: &timeline::Placed<'_>, reason: String) -> Unmapped {
    let name = if placed.name.is_empty() {
        placed.path.clone()
    } else {
        placed.name.clone()
    };
    Unmapped { name, reason }
}

/// The end of a written fault table (start + duration), for the scenario's length.
fn fault_end(keys: &toml::Table) -> u64 {
    let read = |key: &str| {
        keys.get(key)
            .and_then(toml::Value::as_str)
            .and_then(|t| crate::model::parse_duration(t).ok())
    };
    read("start").unwrap_or(0) + read("duration").unwrap_or(0)
}

/// Faults being assembled: each table with its start, the activity's undo key, and its end
/// once an undo activity closes it.
#[derive(Default)]
struct Faults {
    open: Vec<OpenFault>,
}

struct OpenFault {
    activity: String,
    origin: Vec<String>,
    keys: toml::Table,
    start_ns: u64,
    end_ns: Option<u64>,
    undo: Option<String>,
}

impl Faults {
    fn open(
        &mut self,
        placed: &timeline::Placed<'_>,
        at: u64,
        tables: Vec<toml::Table>,
        undo: Option<String>,
        notes: Vec<String>,
    ) {
        for keys in tables {
            let mut origin = vec![format!(
                "from {} `{}` ({})",
                placed.phase.key(),
                placed.name,
                placed.path
            )];
            origin.extend(notes.iter().cloned());
            self.open.push(OpenFault {
                activity: placed.name.clone(),
                origin,
                keys,
                start_ns: at,
                end_ns: None,
                undo: undo.clone(),
            });
        }
    }

    /// Ends every still-open fault of the latest activity with this undo key; false if none.
    fn close(&mut self, key: &str, at: u64) -> bool {
        let Some(last) = self
            .open
            .iter()
            .rposition(|f| f.end_ns.is_none() && f.undo.as_deref() == Some(key))
        else {
            return false;
        };
        let activity = self.open[last].activity.clone();
        for fault in self.open.iter_mut().filter(|f| {
            f.end_ns.is_none() && f.activity == activity && f.undo.as_deref() == Some(key)
        }) {
            fault.end_ns = Some(at);
        }
        true
    }

    /// The draft entries: `start` and `duration` set (the extension's exact duration first).
    fn finish(self, end_ns: u64, extension: &Extension) -> Vec<DraftEntry> {
        self.open
            .into_iter()
            .map(|mut fault| {
                let mut duration = Some(
                    fault
                        .end_ns
                        .unwrap_or(end_ns)
                        .saturating_sub(fault.start_ns),
                );
                if let Some(exact) = extension.durations.get(&fault.activity) {
                    duration = *exact;
                } else if duration == Some(0) {
                    fault.origin.push(format!(
                        "nothing after it takes time (no pauses): it lasts {}",
                        exact_duration(MIN_FAULT_NS)
                    ));
                    duration = Some(MIN_FAULT_NS);
                }
                fault
                    .keys
                    .insert("start".into(), exact_duration(fault.start_ns).into());
                if let Some(duration) = duration
                    && fault.keys.get("kind").and_then(toml::Value::as_str) != Some("cache-flush")
                {
                    fault
                        .keys
                        .insert("duration".into(), exact_duration(duration).into());
                }
                DraftEntry {
                    origin: fault.origin,
                    keys: fault.keys,
                }
            })
            .collect()
    }
}

/// The steady-state hypothesis's probes as hypotheses, with the extension's exact bounds.
fn hypotheses(
    experiment: &Value,
    topology: &Topology,
    options: &ImportOptions,
    extension: &Extension,
    unmapped: &mut Vec<Unmapped>,
) -> Result<Vec<DraftEntry>, CtkError> {
    let Some(hypothesis) = experiment
        .get("steady-state-hypothesis")
        .filter(|h| !h.is_null())
    else {
        return Ok(Vec::new());
    };
    let routes = probes::Routes {
        topology,
        routes: &options.routes,
    };
    let mut entries = Vec::new();
    for (index, probe) in document::list(hypothesis, "probes", "steady-state-hypothesis")?
        .iter()
        .enumerate()
    {
        let path = format!("steady-state-hypothesis.probes[{index}]");
        let name = document::string(probe, "name", &path)?
            .unwrap_or("")
            .to_string();
        let shown = if name.is_empty() {
            path.clone()
        } else {
            name.clone()
        };
        match probes::map(&routes, probe, &path)? {
            probes::Probe::Hypothesis {
                mut keys,
                mut notes,
            } => {
                if let Some(bounds) = extension.bounds.get(&name) {
                    extension::apply_bounds(&mut keys, bounds);
                    notes.clear();
                }
                let mut origin = vec![format!("from steady-state probe `{shown}` ({path})")];
                origin.extend(notes);
                entries.push(DraftEntry { origin, keys });
            }
            probes::Probe::Unmapped(reason) => unmapped.push(Unmapped {
                name: shown,
                reason,
            }),
        }
    }
    Ok(entries)
}
