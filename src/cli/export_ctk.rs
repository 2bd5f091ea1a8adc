//! `blastradius export ctk SCENARIO [-o EXPERIMENT.json]`: a scenario's faults and hypotheses
//! as a Chaos Toolkit experiment. What has no Chaos Toolkit counterpart is a warning, by name.

use std::path::PathBuf;

use super::{Exit, load_failed};
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
        Err(error) => return load_failed(&error),
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
    super::write_output(args.output.as_deref(), &exported.json)
}
