//! FIS template -> scenario draft. Each action is timed (its duration, `startAfter` chains),
//! its targets resolved on the model, and mapped to *pieces*; `fuse` then recognises a zone's
//! power interruption among them (every service of the zone stopped, its caches' power cut,
//! the databases whose primary is there failed over) and makes it one `zone-outage`, with the
//! capacity errors and paused volumes after power returns as its recovery phase. What is left
//! becomes faults of its own; what has no counterpart is listed, by name, as unmapped.

use crate::interop::draft::{DraftEntry, ScenarioDraft, Unmapped, exact_duration};
use crate::model::{NodeId, NodeKind, Selection, Topology, ZoneId};

use super::actions;
use super::fuse::{Outage, fuse};
use super::iso8601::parse_iso8601;
use super::stop::stop_conditions;
use super::targets::{self, Hit, Resolved, TargetError};
use super::template::{Action, Template, TemplateError, locate, parse_template};

/// What `import fis` needs besides the template and the model.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The template's file name, for the header comment.
    pub source: String,
    /// The model's path as the scenario file will name it.
    pub model: String,
    pub name: Option<String>,
    pub seed: u64,
    pub warmup_ns: u64,
    /// When the experiment starts in the scenario (its actions' times count from here).
    pub start_ns: u64,
    /// How long the run goes on after the last action ends.
    pub after_ns: u64,
    /// The run's length, instead of start + experiment + after.
    pub duration_ns: Option<u64>,
    /// CloudWatch alarm definitions (`aws cloudwatch describe-alarms` output), for turning
    /// stop conditions into hypotheses.
    pub alarms: Option<serde_json::Value>,
}

/// The imported scenario and what the importer has to say about it.
#[derive(Clone, Debug)]
pub struct Imported {
    pub draft: ScenarioDraft,
    /// Lines for the user (how a selection mode is drawn, what was fused): stderr.
    pub notes: Vec<String>,
}

/// A template that cannot be imported.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Syntax(TemplateError),
    /// A mistake in the template or a target that selects nothing, located in the text.
    #[error("{line}:{column}: {message}")]
    Invalid {
        line: usize,
        column: usize,
        message: String,
        help: Vec<String>,
    },
}

/// An action, timed: offsets from the experiment's start.
#[derive(Clone, Debug)]
pub(super) struct Timed<'t> {
    pub name: &'t str,
    pub action: &'t Action,
    pub start_ns: u64,
    pub duration_ns: u64,
}

impl Timed<'_> {
    pub(super) fn end_ns(&self) -> u64 {
        self.start_ns + self.duration_ns
    }
}

/// What an action does to the model, before zone outages are recognised.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Piece {
    /// A fault table, final.
    Fault(toml::Table),
    /// EC2 instances stopped (restarting after `restart_ns`) or terminated (`None`).
    Stop {
        hit: Hit,
        selection: Selection,
        restart_ns: Option<u64>,
    },
    /// A cache's power in one zone cut for the action's duration.
    CachePower { hit: Hit },
    /// A database failed over away from its primary zone.
    Failover { node: NodeId },
    /// Instances cannot be launched in these zones for the action's duration.
    Capacity { zones: Vec<ZoneId> },
    /// EBS volumes' I/O paused for the action's duration.
    Volumes { hit: Hit, selection: Selection },
    /// A zone's subnets cut off for the action's duration.
    Disrupt { zones: Vec<ZoneId> },
}

/// A piece and the action it came from. Invariant: `action` indexes the timed actions.
#[derive(Clone, Debug)]
pub(super) struct Placed {
    pub action: usize,
    pub piece: Piece,
    /// Where it came from, for the origin comment.
    pub origin: String,
}

/// Imports `text` onto `topology`.
pub fn import(
    text: &str,
    topology: &Topology,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let template = parse_template(text).map_err(ImportError::Syntax)?;
    let timed = schedule(text, &template)?;
    let mut unmapped = Vec::new();
    let mut notes = Vec::new();
    let mut placed = Vec::new();
    let mut used_targets = Vec::new();
    for (index, action) in timed.iter().enumerate() {
        used_targets.extend(action.action.targets.values().map(String::as_str));
        let context = Context {
            text,
            template: &template,
            topology,
            action,
            index,
        };
        match context.pieces() {
            Ok(Mapping::Pieces(pieces)) => placed.extend(pieces),
            Ok(Mapping::Unmapped(reason)) => unmapped.push(Unmapped {
                name: action.name.to_string(),
                reason,
            }),
            Err(error) => return Err(error),
        }
    }
    for name in template
        .targets
        .keys()
        .filter(|n| !used_targets.contains(&n.as_str()))
    {
        unmapped.push(Unmapped {
            name: format!("target {name}"),
            reason: "no action uses it".into(),
        });
    }
    for key in template.other.keys() {
        unmapped.push(Unmapped {
            name: key.clone(),
            reason: "a template setting with no counterpart in a simulation".into(),
        });
    }
    let outages = fuse(topology, &timed, &mut placed, &mut notes);
    let faults = entries(
        topology,
        &timed,
        &placed,
        &outages,
        options.start_ns,
        &mut unmapped,
    );
    let (hypotheses, stop_unmapped) = stop_conditions(topology, &template, options.alarms.as_ref());
    unmapped.extend(stop_unmapped);
    let experiment_ns = timed.iter().map(Timed::end_ns).max().unwrap_or(0);
    let duration_ns = options
        .duration_ns
        .unwrap_or(options.start_ns + experiment_ns + options.after_ns);
    let draft = ScenarioDraft {
        header: header(&template, options, experiment_ns),
        name: options
            .name
            .clone()
            .unwrap_or_else(|| default_name(&template, options)),
        model: options.model.clone(),
        duration_ns,
        warmup_ns: options.warmup_ns,
        seed: options.seed,
        faults,
        hypotheses,
        unmapped,
    };
    Ok(Imported { draft, notes })
}

fn header(template: &Template, options: &ImportOptions, experiment_ns: u64) -> Vec<String> {
    let mut lines = vec![
        format!(
            "Imported from the AWS FIS experiment template {} by `blastradius import fis`.",
            options.source
        ),
        format!(
            "The experiment starts at {} of the run and its actions span {}; times below are the run's.",
            exact_duration(options.start_ns),
            exact_duration(experiment_ns)
        ),
    ];
    if !template.description.is_empty() {
        lines.push(format!("description: {}", template.description));
    }
    if !template.role_arn.is_empty() {
        lines.push(format!("roleArn: {}", template.role_arn));
    }
    lines
}

fn default_name(template: &Template, options: &ImportOptions) -> String {
    template
        .tags
        .get("Name")
        .cloned()
        .unwrap_or_else(|| options.source.trim_end_matches(".json").to_string())
}

/// Times every action: a duration from its parameters, a start when the actions it names in
/// `startAfter` have all ended (at the experiment's start without any).
fn schedule<'t>(text: &str, template: &'t Template) -> Result<Vec<Timed<'t>>, ImportError> {
    let mut durations = Vec::new();
    for (name, action) in &template.actions {
        durations.push(
            action_duration(action)
                .map_err(|message| invalid(text, &["actions", name, "actionId"], message))?,
        );
    }
    let mut starts: Vec<Option<u64>> = vec![None; template.actions.len()];
    for index in 0..template.actions.len() {
        start_of(
            text,
            template,
            &durations,
            &mut starts,
            index,
            &mut Vec::new(),
        )?;
    }
    Ok(template
        .actions
        .iter()
        .enumerate()
        .map(|(i, (name, action))| Timed {
            name,
            action,
            start_ns: starts[i].expect("every start is computed"),
            duration_ns: durations[i],
        })
        .collect())
}

/// The start of action `index`, from its `startAfter` (depth first; `path` holds the chain
/// being followed, so a cycle is named).
fn start_of(
    text: &str,
    template: &Template,
    durations: &[u64],
    starts: &mut Vec<Option<u64>>,
    index: usize,
    path: &mut Vec<usize>,
) -> Result<u64, ImportError> {
    if let Some(start) = starts[index] {
        return Ok(start);
    }
    let (name, action) = template.actions.get_index(index).expect("index in range");
    if path.contains(&index) {
        let chain: Vec<&str> = path
            .iter()
            .map(|&i| template.actions.get_index(i).unwrap().0.as_str())
            .collect();
        let message = format!(
            "`startAfter` goes round in a circle: {} -> {name}",
            chain.join(" -> ")
        );
        return Err(invalid(text, &["actions", name, "startAfter"], message));
    }
    path.push(index);
    let mut start = 0;
    for before in &action.start_after {
        let Some(before_index) = template.actions.get_index_of(before) else {
            let names: Vec<&str> = template.actions.keys().map(String::as_str).collect();
            let mut error = invalid(
                text,
                &["actions", name, "startAfter", before],
                format!(
                    "action `{name}` starts after `{before}`, which is not an action of the template"
                ),
            );
            if let ImportError::Invalid { help, .. } = &mut error {
                help.push(did_you_mean(before, &names, "the actions are"));
            }
            return Err(error);
        };
        let end = start_of(text, template, durations, starts, before_index, path)?
            + durations[before_index];
        start = start.max(end);
    }
    path.pop();
    starts[index] = Some(start);
    Ok(start)
}

/// How long an action acts: `startInstancesAfterDuration` for stop-instances (the instances
/// are back then), `duration` for the actions that take one (required for those FIS requires
/// it of), and an instant for one-shot actions (failover, terminate, stop-task).
fn action_duration(action: &Action) -> Result<u64, String> {
    const NEEDS_DURATION: &[&str] = &[
        "aws:ec2:asg-insufficient-instance-capacity-error",
        "aws:ec2:api-insufficient-instance-capacity-error",
        "aws:network:disrupt-connectivity",
        "aws:elasticache:replicationgroup-interrupt-az-power",
        "aws:elasticache:interrupt-cache-cluster-az-power",
        "aws:ebs:pause-volume-io",
        "aws:ecs:task-network-latency",
        "aws:eks:pod-network-latency",
        "aws:eks:pod-network-packet-loss",
        "aws:fis:inject-api-internal-error",
        "aws:fis:inject-api-throttle-error",
        "aws:fis:inject-api-unavailable-error",
        "aws:arc:start-zonal-autoshift",
        "aws:fis:wait",
    ];
    let id = action.action_id.as_str();
    let key = if id == "aws:ec2:stop-instances" {
        "startInstancesAfterDuration"
    } else {
        "duration"
    };
    match action.parameters.get(key) {
        Some(text) => parse_iso8601(text).map_err(|why| format!("parameter `{key}`: {why}")),
        None if NEEDS_DURATION.contains(&id) => Err(format!(
            "`{id}` needs a `duration` parameter (ISO 8601, e.g. \"PT10M\")"
        )),
        None => Ok(0),
    }
}

pub(super) fn invalid(text: &str, anchors: &[&str], message: String) -> ImportError {
    let (line, column) = locate(text, anchors);
    ImportError::Invalid {
        line,
        column,
        message,
        help: Vec::new(),
    }
}

fn did_you_mean(name: &str, candidates: &[&str], what: &str) -> String {
    match targets::suggest(name, candidates.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("{what} {}", targets::quoted(candidates)),
    }
}

/// One action's mapping.
enum Mapping {
    Pieces(Vec<Placed>),
    Unmapped(String),
}

struct Context<'a, 't> {
    text: &'a str,
    template: &'t Template,
    topology: &'a Topology,
    action: &'a Timed<'t>,
    index: usize,
}

impl Context<'_, '_> {
    /// The action's pieces, or why it has none.
    fn pieces(&self) -> Result<Mapping, ImportError> {
        let id = self.action.action.action_id.as_str();
        let Some(known) = actions::known(id) else {
            let hint =
                actions::closest(id).map_or(String::new(), |c| format!(" (did you mean `{c}`?)"));
            return Ok(Mapping::Unmapped(format!(
                "action `{id}` has no counterpart in the simulator{hint}"
            )));
        };
        if id == "aws:fis:wait" {
            return Ok(Mapping::Pieces(Vec::new()));
        }
        let Some((key, target)) = self.action.action.targets.iter().next() else {
            return Ok(Mapping::Unmapped(format!("`{id}` names no target")));
        };
        let resolved = self.resolve(key, target)?;
        let pieces = super::map::map(self.topology, self.action, known, &resolved, target);
        Ok(match pieces {
            Ok(pieces) => Mapping::Pieces(
                pieces
                    .into_iter()
                    .map(|piece| Placed {
                        action: self.index,
                        piece,
                        origin: self.origin(known.id, target, &resolved),
                    })
                    .collect(),
            ),
            Err(reason) => Mapping::Unmapped(reason),
        })
    }

    fn resolve(&self, key: &str, target_name: &str) -> Result<Resolved, ImportError> {
        let name = self.action.name;
        let Some(target) = self.template.targets.get(target_name) else {
            let names: Vec<&str> = self.template.targets.keys().map(String::as_str).collect();
            let mut error = invalid(
                self.text,
                &["actions", name, "targets", key, target_name],
                format!(
                    "action `{name}` targets `{target_name}`, which is not a target of the template"
                ),
            );
            if let ImportError::Invalid { help, .. } = &mut error {
                help.push(did_you_mean(target_name, &names, "the targets are"));
            }
            return Err(error);
        };
        targets::resolve(self.topology, target_name, target).map_err(|e| match e {
            TargetError::Invalid { message, anchor } => {
                invalid(self.text, &["targets", target_name, &anchor], message)
            }
            TargetError::Empty { message, help } => {
                let (line, column) = locate(self.text, &["targets", target_name, "resourceType"]);
                ImportError::Invalid {
                    line,
                    column,
                    message,
                    help,
                }
            }
        })
    }

    fn origin(&self, id: &str, target: &str, resolved: &Resolved) -> String {
        let hits: Vec<String> = resolved
            .hits
            .iter()
            .map(|h| hit_name(self.topology, *h))
            .collect();
        let zones: Vec<&str> = resolved
            .zones
            .iter()
            .map(|z| self.topology.zones[z.index()].as_str())
            .collect();
        let on = if hits.is_empty() {
            format!("zones {}", zones.join(", "))
        } else {
            hits.join(", ")
        };
        let mode = &self.template.targets[target].selection_mode;
        let mode = if mode == "ALL" {
            String::new()
        } else {
            format!(" ({mode})")
        };
        format!(
            "action `{}` ({id}) on target `{target}`{mode}: {on}",
            self.action.name
        )
    }
}

pub(super) fn hit_name(topology: &Topology, hit: Hit) -> String {
    let node = &topology.node(hit.node).name;
    match hit.zone {
        Some(zone) => format!("{node} in {}", topology.zones[zone.index()]),
        None => node.clone(),
    }
}

/// The fault tables in source order: each action's pieces that no outage took, and each
/// outage where its first action is.
fn entries(
    topology: &Topology,
    timed: &[Timed<'_>],
    placed: &[Placed],
    outages: &[Outage],
    start_ns: u64,
    unmapped: &mut Vec<Unmapped>,
) -> Vec<DraftEntry> {
    let mut out = Vec::new();
    let mut written = vec![false; outages.len()];
    for (index, item) in placed.iter().enumerate() {
        if let Some(k) = outages.iter().position(|o| o.pieces.contains(&index)) {
            if !written[k] {
                written[k] = true;
                out.push(outages[k].entry(topology, timed, placed, start_ns));
            }
            continue;
        }
        let action = &timed[item.action];
        match super::map::standalone(topology, action, &item.piece, start_ns) {
            Ok(keys) => out.push(DraftEntry {
                origin: vec![format!("from {}", item.origin)],
                keys,
            }),
            Err(reason) => unmapped.push(Unmapped {
                name: action.name.to_string(),
                reason,
            }),
        }
    }
    out
}

/// Timing keys of a fault: `start`, and `duration` when the action has one.
pub(super) fn timing(keys: &mut toml::Table, start_ns: u64, duration_ns: Option<u64>) {
    keys.insert("start".into(), exact_duration(start_ns).into());
    if let Some(duration) = duration_ns {
        keys.insert("duration".into(), exact_duration(duration).into());
    }
}

/// `node`, `zone` and `count` / `percent` of a hit and a selection.
pub(super) fn target_keys(
    topology: &Topology,
    keys: &mut toml::Table,
    hit: Hit,
    selection: Selection,
) {
    keys.insert("node".into(), topology.node(hit.node).name.clone().into());
    if let Some(zone) = hit.zone {
        keys.insert("zone".into(), topology.zones[zone.index()].clone().into());
    }
    match selection {
        Selection::All => {}
        Selection::Count(n) => {
            keys.insert("count".into(), toml::Value::Integer(i64::from(n)));
        }
        Selection::Percent(p) => {
            keys.insert("percent".into(), toml::Value::Float(p));
        }
    }
}

/// A new table with `kind` first.
pub(super) fn table(kind: &str) -> toml::Table {
    let mut keys = toml::Table::new();
    keys.insert("kind".into(), kind.into());
    keys
}

/// The services placed in a zone (the nodes a zone's EC2 instances are).
pub(super) fn placed_in(topology: &Topology, zone: ZoneId, kind: NodeKind) -> Vec<NodeId> {
    (0..topology.nodes.len())
        .map(|i| NodeId(i as u32))
        .filter(|&id| topology.node(id).kind == kind && topology.node(id).zones.contains(&zone))
        .collect()
}
