//! `blastradius sweep SCENARIO`: seeds × a parameter grid, in parallel, summarised with
//! confidence intervals — or, with `--shard`, one shard's unit records as JSONL for `merge`.
//!
//! A parameter is any key of the scenario or its model, by path (`fault.0.duration`,
//! `workload.checkout.rate`, `service.api.calls.1.timeout`, `warmup`): the value is set in the
//! parsed TOML and the edited texts are loaded again, so every value is validated exactly like
//! a file.

use std::path::{Path, PathBuf};

use super::Exit;
use super::units::{Shard, SummaryFormat, finish, run_unit_groups};
use crate::analysis::study_against;
use crate::analysis::sweep::{record, text_hash};
use crate::model::{Scenario, load_scenario, parse_scenario};

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The scenario to sweep.
    pub scenario: PathBuf,
    /// Seeds: a count N (the scenario's seed and the N-1 after it) or a range A..B (inclusive).
    #[arg(long, default_value = "10")]
    pub seeds: String,
    /// A parameter and its values, `PATH=V1,V2,...`; repeat for a grid (their product).
    #[arg(long = "set", value_name = "PATH=VALUES")]
    pub set: Vec<String>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
    /// Run only shard K of N (1-based), or `auto` (Kubernetes Indexed Job or Slurm array);
    /// writes this shard's unit records as JSONL for `blastradius merge`.
    #[arg(long)]
    pub shard: Option<String>,
    /// Where a shard writes its records (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// One parameter of the grid.
#[derive(Clone, Debug, PartialEq)]
struct Parameter {
    path: String,
    values: Vec<String>,
}

/// The texts a sweep edits.
struct Inputs {
    scenario_path: PathBuf,
    scenario: toml::Table,
    model: toml::Table,
    hashes: (String, String),
    base_seed: u64,
}

pub fn sweep(args: &SweepArgs) -> Exit {
    match prepare(args) {
        Ok((inputs, units, shard)) => {
            let total = units.len() as u64;
            // A seed's grid points share a control where only their faults differ
            // (`analysis::study_against`).
            let lines = run_unit_groups(
                &units,
                shard,
                |(_, seed)| *seed,
                |members| {
                    let scenarios = members
                        .iter()
                        .map(|(_, (point, seed))| inputs.scenario_at(point, *seed))
                        .collect::<Result<Vec<Scenario>, String>>()?;
                    let studies = study_against(&scenarios);
                    let hashes = (inputs.hashes.0.as_str(), inputs.hashes.1.as_str());
                    Ok(members
                        .iter()
                        .zip(scenarios.iter().zip(&studies))
                        .map(|(&(index, (point, _)), (scenario, study))| {
                            record(
                                "sweep",
                                scenario,
                                study,
                                hashes,
                                index,
                                total,
                                point.clone(),
                            )
                        })
                        .collect())
                },
            );
            finish(lines, shard, args.out.as_deref(), args.format)
        }
        Err((exit, message)) => {
            eprintln!("{message}");
            exit
        }
    }
}

type Unit = (Vec<(String, String)>, u64);

/// A sweep ready to run, or why not (the exit code and the message).
type Prepared = Result<(Inputs, Vec<Unit>, Option<Shard>), (Exit, String)>;

fn prepare(args: &SweepArgs) -> Prepared {
    let usage = |message: String| (Exit::Usage, format!("error: {message}"));
    let base = load_scenario(&args.scenario).map_err(|error| {
        let message = error.to_string().trim_end().to_string();
        (Exit::of_load(&error), message)
    })?;
    let inputs =
        Inputs::read(&args.scenario, &base).map_err(|m| (Exit::Internal, format!("error: {m}")))?;
    let parameters: Vec<Parameter> = args
        .set
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<_, _>>()
        .map_err(usage)?;
    let seeds = parse_seeds(&args.seeds, inputs.base_seed).map_err(usage)?;
    let shard = args
        .shard
        .as_deref()
        .map(|spec| Shard::parse(spec, |name| std::env::var(name).ok()))
        .transpose()
        .map_err(usage)?;
    let units: Vec<Unit> = grid(&parameters)
        .into_iter()
        .flat_map(|point| seeds.iter().map(move |&seed| (point.clone(), seed)))
        .collect();
    // Validate every grid point once, up front, so a bad value fails before any run.
    for point in grid(&parameters) {
        inputs
            .scenario_at(&point, inputs.base_seed)
            .map_err(|m| (Exit::InvalidInput, m))?;
    }
    Ok((inputs, units, shard))
}

/// `PATH=V1,V2`.
fn parse_set(text: &str) -> Result<Parameter, String> {
    let (path, values) = text
        .split_once('=')
        .ok_or_else(|| format!("--set `{text}`: expected PATH=VALUE[,VALUE...]"))?;
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if path.trim().is_empty() || values.iter().any(String::is_empty) {
        return Err(format!("--set `{text}`: empty path or value"));
    }
    // A repeated value would run its grid points twice with the same seeds, and the summary
    // of a point is one row.
    let repeated = (1..values.len()).find(|&i| values[..i].contains(&values[i]));
    if let Some(i) = repeated {
        let value = &values[i];
        return Err(format!(
            "--set `{text}`: the value `{value}` is given twice"
        ));
    }
    Ok(Parameter {
        path: path.trim().to_string(),
        values,
    })
}

/// `N` or `A..B` (inclusive).
fn parse_seeds(text: &str, base: u64) -> Result<Vec<u64>, String> {
    let bad = || format!("--seeds `{text}`: expected a count (100) or an inclusive range (1..100)");
    if let Some((a, b)) = text.split_once("..") {
        let (a, b) = (
            a.trim().parse::<u64>().map_err(|_| bad())?,
            b.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if a > b {
            return Err(bad());
        }
        return Ok((a..=b).collect());
    }
    let count = text.trim().parse::<u64>().map_err(|_| bad())?;
    if count == 0 {
        return Err(bad());
    }
    Ok((0..count).map(|i| base.wrapping_add(i)).collect())
}

/// Every combination of the parameters' values, the first parameter varying slowest.
fn grid(parameters: &[Parameter]) -> Vec<Vec<(String, String)>> {
    let mut points = vec![Vec::new()];
    for parameter in parameters {
        points = points
            .into_iter()
            .flat_map(|point: Vec<(String, String)>| {
                parameter.values.iter().map(move |value| {
                    let mut point = point.clone();
                    point.push((parameter.path.clone(), value.clone()));
                    point
                })
            })
            .collect();
    }
    points
}

impl Inputs {
    fn read(path: &Path, base: &Scenario) -> Result<Inputs, String> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|e| format!("reading {}: {e}", p.display()))
        };
        let (scenario_text, model_text) = (read(path)?, read(&base.model_path)?);
        let table = |text: &str, p: &Path| {
            text.parse::<toml::Table>()
                .map_err(|e| format!("{}: {e}", p.display()))
        };
        Ok(Inputs {
            scenario_path: path.to_path_buf(),
            scenario: table(&scenario_text, path)?,
            model: table(&model_text, &base.model_path)?,
            hashes: (text_hash(&model_text), text_hash(&scenario_text)),
            base_seed: base.seed,
        })
    }

    /// The scenario with the point's values set and the given seed.
    fn scenario_at(&self, point: &[(String, String)], seed: u64) -> Result<Scenario, String> {
        let (mut scenario, mut model) = (self.scenario.clone(), self.model.clone());
        for (path, value) in point {
            let document = if is_scenario_key(path) {
                &mut scenario
            } else {
                &mut model
            };
            set_path(document, path, value)
                .map_err(|m| format!("error: --set {path}={value}: {m}"))?;
        }
        let scenario_text = toml::to_string(&scenario).map_err(|e| format!("error: {e}"))?;
        let model_text = toml::to_string(&model).map_err(|e| format!("error: {e}"))?;
        let (mut loaded, _) = parse_scenario(&self.scenario_path, &scenario_text, |_| {
            Ok(model_text.clone())
        })
        .map_err(|diagnostics| {
            let values: Vec<String> = point.iter().map(|(p, v)| format!("{p}={v}")).collect();
            format!(
                "with --set {}:\n{}",
                values.join(" "),
                diagnostics.render(false).trim_end()
            )
        })?;
        loaded.seed = seed;
        Ok(loaded)
    }
}

fn is_scenario_key(path: &str) -> bool {
    let first = path.split('.').next().unwrap_or("");
    matches!(
        first,
        "fault" | "hypothesis" | "limits" | "blast_radius" | "duration" | "warmup" | "seed"
    )
}

/// Sets `a.b.0.c = value` in a TOML document. Every step but the last must exist; the last
/// key may be new (an optional key the file left out).
fn set_path(document: &mut toml::Table, path: &str, value: &str) -> Result<(), String> {
    let steps: Vec<&str> = path.split('.').collect();
    set_in_table(document, &steps, value, "")
}

fn set_in_table(
    table: &mut toml::Table,
    steps: &[&str],
    value: &str,
    walked: &str,
) -> Result<(), String> {
    let (step, rest) = steps.split_first().ok_or("empty path")?;
    if rest.is_empty() {
        table.insert(step.to_string(), typed(value));
        return Ok(());
    }
    let here = if walked.is_empty() {
        step.to_string()
    } else {
        format!("{walked}.{step}")
    };
    let next = table.get_mut(*step).ok_or_else(|| missing(walked, step))?;
    set_in_value(next, rest, value, &here)
}

fn set_in_value(
    node: &mut toml::Value,
    steps: &[&str],
    value: &str,
    walked: &str,
) -> Result<(), String> {
    match node {
        toml::Value::Table(table) => set_in_table(table, steps, value, walked),
        toml::Value::Array(items) => {
            let (index, rest) = steps.split_first().ok_or("empty path")?;
            let i: usize = index
                .parse()
                .map_err(|_| format!("`{walked}` is a list: `{index}` is not an index"))?;
            let count = items.len();
            let item = items
                .get_mut(i)
                .ok_or_else(|| format!("`{walked}` has {count} entries, no index {i}"))?;
            if rest.is_empty() {
                *item = typed(value);
                return Ok(());
            }
            set_in_value(item, rest, value, &format!("{walked}.{i}"))
        }
        _ => Err(format!("`{walked}` is a value, not a table")),
    }
}

fn missing(walked: &str, step: &str) -> String {
    if walked.is_empty() {
        format!("no `{step}` in the file")
    } else {
        format!("no `{step}` under `{walked}`")
    }
}

/// A command-line value as TOML: integer, float, boolean, or else a string (durations).
fn typed(value: &str) -> toml::Value {
    if let Ok(integer) = value.parse::<i64>() {
        toml::Value::Integer(integer)
    } else if let Ok(float) = value.parse::<f64>() {
        toml::Value::Float(float)
    } else if let Ok(boolean) = value.parse::<bool>() {
        toml::Value::Boolean(boolean)
    } else {
        toml::Value::String(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_given_twice_is_refused() {
        assert!(parse_set("a=1,2").is_ok());
        let twice = parse_set("a=1,2,1").unwrap_err();
        assert_eq!(twice, "--set `a=1,2,1`: the value `1` is given twice");
    }

    #[test]
    fn grid_is_the_product_first_slowest() {
        let parameters = vec![
            Parameter {
                path: "a".into(),
                values: vec!["1".into(), "2".into()],
            },
            Parameter {
                path: "b".into(),
                values: vec!["x".into(), "y".into()],
            },
        ];
        let points: Vec<String> = grid(&parameters)
            .iter()
            .map(|p| {
                p.iter()
                    .map(|(_, v)| v.as_str())
                    .collect::<Vec<_>>()
                    .join("")
            })
            .collect();
        assert_eq!(points, vec!["1x", "1y", "2x", "2y"]);
        assert_eq!(grid(&[]), vec![Vec::<(String, String)>::new()]);
    }

    #[test]
    fn seeds_by_count_or_range() {
        assert_eq!(parse_seeds("3", 42).unwrap(), vec![42, 43, 44]);
        assert_eq!(parse_seeds("5..7", 42).unwrap(), vec![5, 6, 7]);
        assert!(parse_seeds("0", 1).is_err());
        assert!(parse_seeds("7..5", 1).is_err());
    }

    #[test]
    fn paths_reach_tables_and_array_entries() {
        let mut doc: toml::Table =
            "[[fault]]\nkind = \"x\"\nduration = \"1m\"\n[workload.w]\nrate = 5\n"
                .parse()
                .unwrap();
        set_path(&mut doc, "fault.0.duration", "30s").unwrap();
        set_path(&mut doc, "workload.w.rate", "500").unwrap();
        set_path(&mut doc, "fault.0.recovery", "1m").unwrap();
        let fault = &doc["fault"].as_array().unwrap()[0];
        assert_eq!(fault["duration"].as_str(), Some("30s"));
        assert_eq!(fault["recovery"].as_str(), Some("1m"));
        assert_eq!(doc["workload"]["w"]["rate"].as_integer(), Some(500));
        assert!(
            set_path(&mut doc, "fault.3.duration", "1s")
                .unwrap_err()
                .contains("no index 3")
        );
        assert!(
            set_path(&mut doc, "workload.nope.rate", "1")
                .unwrap_err()
                .contains("no `nope`")
        );
    }
}
