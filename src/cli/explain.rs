//! `blastradius explain CODE`: what a diagnostic code means, why, and an example of the
//! mistake (as the loader reports it) with its fix.

use std::io::IsTerminal;

use super::{Exit, write_stdout};
use crate::model::Code;

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// A diagnostic code, such as E0008 or W0001 (case does not matter).
    #[arg(value_name = "CODE")]
    pub code: String,
}

pub fn explain(args: &ExplainArgs) -> Exit {
    let Some(code) = Code::lookup(&args.code) else {
        eprintln!("error: `{}` is not a diagnostic code", args.code.trim());
        eprintln!("\nThe codes are:\n");
        for code in Code::ALL {
            eprintln!("  {code}  {}", code.explanation());
        }
        return Exit::Usage;
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut text = code.doc().render(color);
    text.push('\n');
    match write_stdout(&text) {
        Ok(()) => Exit::Success,
        Err(error) => {
            eprintln!("error: writing to stdout: {error}");
            Exit::Internal
        }
    }
}
