//! `blastradius export fis SCENARIO [-o TEMPLATE.json] [--role-arn ARN]`: a scenario's faults
//! as an AWS FIS experiment template (`interop::fis::export`). Faults FIS has no action for
//! are named on stderr; the stop conditions are placeholders the user points at real alarms.

use std::path::PathBuf;

use super::{Exit, load_failed};
use crate::interop::fis::{export, to_json};
use crate::model::load_scenario;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The scenario file (TOML).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Write the template here; stdout otherwise.
    #[arg(short = 'o', long = "output", value_name = "TEMPLATE.json")]
    pub output: Option<PathBuf>,
    /// The IAM role FIS runs the experiment as (a REPLACE-ME placeholder without).
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
}

pub fn run(args: &Args) -> Exit {
    let scenario = match load_scenario(&args.scenario) {
        Ok(scenario) => scenario,
        Err(error) => return load_failed(&error),
    };
    let exported = export(&scenario, args.role_arn.as_deref());
    for warning in &exported.warnings {
        eprintln!("warning: {warning}");
    }
    if args.role_arn.is_none() {
        eprintln!(
            "note: roleArn and the stop conditions' alarm ARNs are REPLACE-ME placeholders: fill them in before `aws fis create-experiment-template`"
        );
    }
    let text = to_json(&exported.template);
    super::write_output(args.output.as_deref(), &text)
}
