//! `blastradius import ctk EXPERIMENT --model MODEL [-o SCENARIO]`: a Chaos Toolkit
//! experiment (JSON or YAML) as a scenario on a model. Reads the files, hands the text to
//! `interop::ctk`, checks that the scenario it gives loads, and writes it; every activity that
//! could not be mapped is a warning on stderr (an error with `--strict`).

use std::path::{Component, Path, PathBuf};

use super::Exit;
use crate::interop::ctk::{self, CtkError, ImportOptions, Syntax};
use crate::model::{load_model, parse_scenario};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The experiment file (`.json`, or `.yaml`/`.yml`).
    #[arg(value_name = "EXPERIMENT")]
    pub experiment: PathBuf,
    /// The model the scenario runs on.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Write the scenario here (default: stdout). The scenario names the model relative to it.
    #[arg(short, long, value_name = "SCENARIO")]
    pub output: Option<PathBuf>,
    /// Fail (exit 2) when any activity or probe cannot be mapped, instead of warning.
    #[arg(long)]
    pub strict: bool,
    /// Which workload serves a probed URL: `URL-PREFIX=WORKLOAD` or `HOST=WORKLOAD`
    /// (repeat, or separate with commas).
    #[arg(long, value_name = "ROUTE", value_delimiter = ',')]
    pub routes: Vec<String>,
    /// The scenario's seed (default: the exported scenario's, else 0).
    #[arg(long)]
    pub seed: Option<u64>,
}

pub fn run(args: &Args) -> Exit {
    match import(args) {
        Ok(exit) => exit,
        Err(exit) => exit,
    }
}

fn import(args: &Args) -> Result<Exit, Exit> {
    let routes = parse_routes(&args.routes)?;
    let text = std::fs::read_to_string(&args.experiment).map_err(|error| {
        eprintln!("error: cannot read {}: {error}", args.experiment.display());
        Exit::Internal
    })?;
    let experiment = ctk::parse(&text, Syntax::of_path(&args.experiment.to_string_lossy()))
        .map_err(|error| report(&args.experiment, &text, &error))?;
    let topology = load_model(&args.model).map_err(|error| super::load_failed(&error))?;
    let model = model_reference(&args.model, args.output.as_deref());
    let options = ImportOptions {
        source: file_name(&args.experiment),
        model: model.clone(),
        routes,
        seed: args.seed,
    };
    let draft = ctk::import(&experiment, &topology, &options)
        .map_err(|error| report(&args.experiment, &text, &error))?;
    for unmapped in &draft.unmapped {
        let level = if args.strict { "error" } else { "warning" };
        eprintln!("{level}: {}: {unmapped}", args.experiment.display());
    }
    if args.strict && !draft.unmapped.is_empty() {
        eprintln!(
            "error: {} not mapped (--strict); no scenario written",
            plural(
                draft.unmapped.len(),
                "activity or probe",
                "activities or probes"
            )
        );
        return Err(Exit::Usage);
    }
    let scenario = draft.to_toml();
    check_loads(args, &scenario)?;
    write(args.output.as_deref(), &scenario)?;
    eprintln!(
        "imported {}: {}, {}, {} not mapped",
        args.experiment.display(),
        plural(draft.faults.len(), "fault", "faults"),
        plural(draft.hypotheses.len(), "hypothesis", "hypotheses"),
        draft.unmapped.len()
    );
    Ok(Exit::Success)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `PREFIX=WORKLOAD` pairs.
fn parse_routes(routes: &[String]) -> Result<Vec<(String, String)>, Exit> {
    routes
        .iter()
        .filter(|route| !route.is_empty())
        .map(|route| match route.rsplit_once('=') {
            Some((prefix, workload)) if !prefix.is_empty() && !workload.is_empty() => {
                Ok((prefix.to_string(), workload.to_string()))
            }
            _ => {
                eprintln!("error: --routes `{route}`: expected URL-PREFIX=WORKLOAD");
                Err(Exit::Usage)
            }
        })
        .collect()
}

/// Prints an import error, rustc-style with the line for a syntax error; exit 2.
fn report(path: &Path, text: &str, error: &CtkError) -> Exit {
    match error {
        CtkError::Syntax {
            line,
            column,
            message,
        } => {
            eprintln!("error: malformed experiment: {message}");
            eprintln!("  --> {}:{line}:{column}", path.display());
            if let Some(source) = text.lines().nth(line.saturating_sub(1)) {
                let gutter = line.to_string().len();
                eprintln!("{:gutter$} |", "");
                eprintln!("{line} | {source}");
                eprintln!("{:gutter$} | {:>width$}", "", "^", width = *column);
            }
        }
        other => eprintln!("error: {}: {other}", path.display()),
    }
    Exit::Usage
}

/// The imported scenario must load on its model: a fault the loader rejects (two that overlap
/// on one target, say) is reported with the loader's diagnostics.
fn check_loads(args: &Args, scenario: &str) -> Result<(), Exit> {
    let file = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("imported.toml"));
    let model = std::fs::canonicalize(&args.model).unwrap_or_else(|_| args.model.clone());
    match parse_scenario(&file, scenario, |_| std::fs::read_to_string(&model)) {
        Ok(_) => Ok(()),
        Err(diagnostics) => {
            eprintln!("{}", diagnostics.render(false).trim_end());
            eprintln!(
                "error: the scenario imported from {} does not load on {}",
                args.experiment.display(),
                args.model.display()
            );
            Err(Exit::InvalidInput)
        }
    }
}

fn write(output: Option<&Path>, text: &str) -> Result<(), Exit> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|error| {
            eprintln!("error: cannot write {}: {error}", path.display());
            Exit::Internal
        }),
        None => super::write_stdout(text).map_err(|error| {
            eprintln!("error: cannot write to stdout: {error}");
            Exit::Internal
        }),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// The model's path as the scenario file names it: relative to the scenario's folder (or,
/// written to stdout, to the current one).
fn model_reference(model: &Path, output: Option<&Path>) -> String {
    let folder = output
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (std::fs::canonicalize(model), std::fs::canonicalize(folder)) {
        (Ok(model), Ok(folder)) => relative(&model, &folder)
            .to_string_lossy()
            .replace('\\', "/"),
        _ => model.to_string_lossy().into_owned(),
    }
}

fn relative(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<Component> = path.components().collect();
    let base: Vec<Component> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for part in &path[common..] {
        out.push(part.as_os_str());
    }
    out
}
