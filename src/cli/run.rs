//! `blastradius run`: load every scenario (reporting all invalid ones), simulate them in
//! parallel, print the reports in the order given.

use rayon::prelude::*;

use super::{Exit, Format, RunArgs, write_stdout};
use crate::model::{Scenario, load_scenario};
use crate::report::{RunDocument, to_json, to_text};
use crate::sim::{self, RunConfig};

pub fn run(args: &RunArgs) -> Exit {
    let scenarios = match load_all(args) {
        Ok(scenarios) => scenarios,
        Err(exit) => return exit,
    };
    // Collecting in input order keeps the output independent of the thread count.
    let reports: Vec<String> = scenarios
        .par_iter()
        .map(|scenario| render(scenario, args.format))
        .collect();
    let separator = if args.format == Format::Text {
        "\n"
    } else {
        ""
    };
    if let Err(error) = write_stdout(&reports.join(separator)) {
        eprintln!("error: writing the report: {error}");
        return Exit::Internal;
    }
    Exit::Success
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
                eprint!("{error}");
                let this = if error.is_invalid_input() {
                    Exit::InvalidInput
                } else {
                    Exit::Internal
                };
                // An I/O error outranks invalid input: it is not the user's file that is wrong.
                exit = Some(match exit {
                    Some(Exit::Internal) => Exit::Internal,
                    _ => this,
                });
            }
        }
    }
    match exit {
        Some(exit) => Err(exit),
        None => Ok(scenarios),
    }
}

fn render(scenario: &Scenario, format: Format) -> String {
    let result = sim::run(&scenario.topology, &RunConfig::of(scenario));
    let document = RunDocument::new(scenario, &result);
    match format {
        Format::Text => to_text(&document),
        Format::Json => to_json(&document),
    }
}
