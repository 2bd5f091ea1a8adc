//! `blastradius validate FILE...`: every diagnostic of every file at once, rustc-style on
//! stderr (coloured only on a terminal), then one status line per file on stdout.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::{Exit, write_stdout};
use crate::model::{Validation, validate_file};

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Model or scenario files (TOML); a file with a top-level `model` key is a scenario, and
    /// its model is checked too.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn validate(args: &ValidateArgs) -> Exit {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut status = String::new();
    let mut exit = Exit::Success;
    for path in &args.files {
        match validate_file(path) {
            Ok(validation) => {
                let rendered = validation.diagnostics.render_items(color);
                if !rendered.is_empty() {
                    eprint!("{rendered}");
                }
                status.push_str(&format!("{}: {}\n", path.display(), verdict(&validation)));
                if !validation.is_valid() && exit == Exit::Success {
                    exit = Exit::InvalidInput;
                }
            }
            Err(error) => {
                eprintln!("error: {error}");
                status.push_str(&format!("{}: unreadable\n", path.display()));
                exit = Exit::Internal;
            }
        }
    }
    if let Err(error) = write_stdout(&status) {
        eprintln!("error: writing to stdout: {error}");
        return Exit::Internal;
    }
    exit
}

/// `ok (model)`, `ok (scenario, 2 warnings)`, `invalid model (3 errors, 1 warning)`,
/// `not valid TOML (1 error)`.
fn verdict(validation: &Validation) -> String {
    let diagnostics = &validation.diagnostics;
    let (errors, warnings) = (diagnostics.error_count(), diagnostics.warning_count());
    let kind = validation.kind.as_str();
    if validation.is_valid() {
        return match warnings {
            0 => format!("ok ({kind})"),
            w => format!("ok ({kind}, {})", plural(w, "warning")),
        };
    }
    let counts = match warnings {
        0 => plural(errors, "error"),
        w => format!("{}, {}", plural(errors, "error"), plural(w, "warning")),
    };
    if validation.parses {
        format!("invalid {kind} ({counts})")
    } else {
        format!("not valid TOML ({counts})")
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}
