//! `blastradius export ctk SCENARIO [-o EXPERIMENT.json]`: a scenario's faults and hypotheses
//! as a Chaos Toolkit experiment. What has no Chaos Toolkit counterpart is a warning, by name.

use std::path::PathBuf;

use super::Exit;
use crate::interop::ctk;
use crate::model::load_scenario;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The scenario file.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Write the experiment here (default: stdout).
    #[arg(short, long, value_name = "EXPERIMENT")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &Args) -> Exit {
    let scenario = match load_scenario(&args.scenario) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("{}", error.to_string().trim_end());
            return if error.is_invalid_input() {
                Exit::InvalidInput
            } else {
                Exit::Internal
            };
        }
    };
    let exported = ctk::export(&scenario);
    for item in &exported.not_exported {
        eprintln!(
            "warning: {}: `{}` not exported: {}",
            args.scenario.display(),
            item.name,
            item.reason
        );
    }
    let written = match &args.output {
        Some(path) => std::fs::write(path, &exported.json)
            .map_err(|error| format!("cannot write {}: {error}", path.display())),
        None => super::write_stdout(&exported.json)
            .map_err(|error| format!("cannot write to stdout: {error}")),
    };
    match written {
        Ok(()) => Exit::Success,
        Err(message) => {
            eprintln!("error: {message}");
            Exit::Internal
        }
    }
}
