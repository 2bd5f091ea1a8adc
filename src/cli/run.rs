//! `blastradius run`: load every scenario (reporting all invalid ones), simulate them in
//! parallel, print the reports in the order given.

use rayon::prelude::*;

use super::{Exit, Format, RunArgs, write_stdout};
use crate::analysis::Findings;
use crate::analysis::{Verdict, study};
use crate::model::{Scenario, load_scenario};
use crate::report::{to_json, to_text};

pub fn run(args: &RunArgs) -> Exit {
    let scenarios = match load_all(args) {
        Ok(scenarios) => scenarios,
        Err(exit) => return exit,
    };
    // `--check-determinism` and `--trace`, before the reports.
    if let Err(exit) = super::reliability::before_reports(args, &scenarios) {
        return exit;
    }
    // Collecting in input order keeps the output independent of the thread count.
    let documents: Vec<Findings> = scenarios
        .par_iter()
        .map(|scenario| Findings::new(scenario, &study(scenario)))
        .collect();
    let reports: Vec<String> = if args.format == Format::Html {
        // One page for all the scenarios; it draws each model's graph, so it needs the scenario.
        let runs: Vec<_> = scenarios.iter().zip(&documents).collect();
        vec![crate::report::to_html(&runs)]
    } else {
        documents.iter().map(|d| render(d, args.format)).collect()
    };
    let separator = if matches!(args.format, Format::Text | Format::Markdown) {
        "\n"
    } else {
        ""
    };
    if let Err(error) = write_stdout(&reports.join(separator)) {
        eprintln!("error: writing the report: {error}");
        return Exit::Internal;
    }
    if documents.iter().any(|d| d.verdict == Verdict::Failed) {
        Exit::HypothesisFailed
    } else {
        Exit::Success
    }
}

/// Loads every scenario, printing the diagnostics of all the invalid ones before giving up.
fn load_all(args: &RunArgs) -> Result<Vec<Scenario>, Exit> {
    let mut scenarios = Vec::new();
    let mut exit = None;
    for path in &args.scenarios {
        match load_scenario(path) {
            Ok(mut scenario) => {
                if let Some(seed) = args.seed {
                    scenario.seed = seed;
                }
                scenarios.push(scenario);
            }
            Err(error) => {
                exit = Some(Exit::with_load(exit, super::load_failed(&error)));
            }
        }
    }
    match exit {
        Some(exit) => Err(exit),
        None => Ok(scenarios),
    }
}

fn render(document: &Findings, format: Format) -> String {
    match format {
        Format::Text => to_text(document),
        Format::Json => to_json(document),
        Format::Markdown => crate::report::to_markdown(document),
        Format::Html => unreachable!("HTML is one page for all the scenarios, written by `run`"),
    }
}
