//! `blastradius import fis TEMPLATE.json --model MODEL [-o SCENARIO.toml] [--strict]`: an AWS
//! FIS experiment template as a scenario on a model. Reads the files, hands the text to
//! `interop::fis::import`, checks that the scenario it gives loads, says what was not mapped
//! (by name) and how the COUNT / PERCENT selections are drawn, and writes the scenario.

use std::path::{Path, PathBuf};

use super::{Exit, write_stdout};
use crate::faults::{Action, plan};
use crate::interop::fis::{ImportError, ImportOptions, import};
use crate::model::{Scenario, Selection, load_model, parse_duration, parse_scenario};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The experiment template (JSON, as `aws fis create-experiment-template` takes it, or the
    /// output of `aws fis get-experiment-template`).
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,
    /// The model the template's targets are resolved on.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Write the scenario here (its `model` path is made relative to it); stdout otherwise.
    #[arg(short = 'o', long = "output", value_name = "SCENARIO")]
    pub output: Option<PathBuf>,
    /// Anything not mapped (an action, a target, a filter, a stop condition) is an error
    /// (exit 2) instead of a warning and a comment in the scenario.
    #[arg(long)]
    pub strict: bool,
    /// CloudWatch alarm definitions (`aws cloudwatch describe-alarms` JSON), to turn the
    /// template's stop conditions into hypotheses.
    #[arg(long, value_name = "ALARMS.json")]
    pub alarms: Option<PathBuf>,
    /// The scenario's seed (it draws COUNT / PERCENT selections).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The scenario's warm-up.
    #[arg(long, default_value = "2m", value_parser = duration)]
    pub warmup: u64,
    /// When the experiment starts in the run.
    #[arg(long, default_value = "5m", value_parser = duration)]
    pub start: u64,
    /// How long the run goes on after the experiment's last action ends.
    #[arg(long, default_value = "7m", value_parser = duration)]
    pub after: u64,
    /// The run's length (instead of start + the experiment + after).
    #[arg(long, value_parser = duration)]
    pub duration: Option<u64>,
    /// The scenario's name (default: the template's `Name` tag, else the file name).
    #[arg(long)]
    pub name: Option<String>,
}

fn duration(text: &str) -> Result<u64, String> {
    parse_duration(text)
}

pub fn run(args: &Args) -> Exit {
    match import_file(args) {
        Ok(exit) => exit,
        Err((exit, message)) => {
            eprintln!("{}", message.trim_end());
            exit
        }
    }
}

type Failure = (Exit, String);

fn read(path: &Path, what: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| {
        (
            Exit::Internal,
            format!("error: reading the {what} {}: {e}", path.display()),
        )
    })
}

fn import_file(args: &Args) -> Result<Exit, Failure> {
    let text = read(&args.template, "template")?;
    let topology = load_model(&args.model).map_err(|e| (Exit::of_load(&e), e.to_string()))?;
    let alarms = match &args.alarms {
        Some(path) => Some(serde_json::from_str(&read(path, "alarms")?).map_err(|e| {
            (
                Exit::Usage,
                format!("error: {}:{}:{}: {e}", path.display(), e.line(), e.column()),
            )
        })?),
        None => None,
    };
    let scenario_path = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("imported-fis.toml"));
    let options = ImportOptions {
        source: file_name(&args.template),
        model: model_reference(&args.model, args.output.as_deref()),
        name: args.name.clone(),
        seed: args.seed,
        warmup_ns: args.warmup,
        start_ns: args.start,
        after_ns: args.after,
        duration_ns: args.duration,
        alarms,
    };
    let imported = import(&text, &topology, &options)
        .map_err(|e| (Exit::Usage, render_error(&args.template, &e)))?;
    for unmapped in &imported.draft.unmapped {
        let level = if args.strict { "error" } else { "warning" };
        eprintln!("{level}: {unmapped}");
    }
    if args.strict && !imported.draft.unmapped.is_empty() {
        let n = imported.draft.unmapped.len();
        return Err((
            Exit::Usage,
            format!("error: --strict: {n} part(s) of the template not mapped; nothing written"),
        ));
    }
    for note in &imported.notes {
        eprintln!("note: {note}");
    }
    let scenario_text = imported.draft.to_toml();
    let scenario = check_loads(&scenario_path, &scenario_text)?;
    for line in selection_draws(&scenario) {
        eprintln!("note: {line}");
    }
    write(args.output.as_deref(), &scenario_text)?;
    Ok(Exit::Success)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The model's path as the scenario names it: relative to the scenario's folder, or as given
/// when the scenario goes to stdout (then relative to the current folder).
fn model_reference(model: &Path, output: Option<&Path>) -> String {
    let Some(output) = output else {
        return model.display().to_string();
    };
    let (Ok(model), Ok(output)) = (std::path::absolute(model), std::path::absolute(output)) else {
        return model.display().to_string();
    };
    let folder = output.parent().unwrap_or(Path::new("/"));
    let common = model
        .components()
        .zip(folder.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = folder.components().count() - common;
    let mut relative = PathBuf::new();
    for _ in 0..ups {
        relative.push("..");
    }
    relative.extend(model.components().skip(common));
    relative.to_string_lossy().replace('\\', "/")
}

fn render_error(template: &Path, error: &ImportError) -> String {
    let file = template.display();
    match error {
        ImportError::Syntax(e) => format!("error: {file}:{}:{}: {}", e.line, e.column, e.message),
        ImportError::Invalid {
            line,
            column,
            message,
            help,
        } => {
            let mut text = format!("error: {file}:{line}:{column}: {message}\n");
            for line in help {
                text.push_str(&format!("  = help: {line}\n"));
            }
            text
        }
    }
}

/// The scenario as the loader reads it, its model found from where the scenario will be.
fn check_loads(path: &Path, text: &str) -> Result<Scenario, Failure> {
    match parse_scenario(path, text, |model| std::fs::read_to_string(model)) {
        Ok((scenario, _)) => Ok(scenario),
        Err(diagnostics) => Err((
            Exit::InvalidInput,
            format!(
                "error: the imported scenario does not load on the model:\n{diagnostics}\n{text}"
            ),
        )),
    }
}

/// Which replicas each COUNT / PERCENT selection takes with the scenario's seed.
fn selection_draws(scenario: &Scenario) -> Vec<String> {
    let topology = &scenario.topology;
    let fault_plan = plan(
        topology,
        &scenario.faults,
        scenario.seed,
        scenario.duration_ns,
    );
    let mut lines = Vec::new();
    for (index, fault) in scenario.faults.iter().enumerate() {
        if fault.selection == Selection::All {
            continue;
        }
        let mut taken = Vec::new();
        for effect in fault_plan.effects.iter().filter(|e| e.fault == index) {
            if let Action::Down(replicas) | Action::Capacity { replicas, .. } = &effect.action {
                taken.extend(replicas.iter().map(|r| {
                    format!(
                        "{} {}#{}",
                        topology.node(r.node).name,
                        topology.zones[r.zone.index()],
                        r.ordinal
                    )
                }));
            }
        }
        lines.push(format!(
            "fault {} ({}): seed {} selects {}",
            index + 1,
            fault.kind.as_str(),
            scenario.seed,
            taken.join(", ")
        ));
    }
    lines
}

fn write(output: Option<&Path>, text: &str) -> Result<(), Failure> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            (
                Exit::Internal,
                format!("error: writing {}: {e}", path.display()),
            )
        }),
        None => write_stdout(text)
            .map_err(|e| (Exit::Internal, format!("error: writing to stdout: {e}"))),
    }
}
