//! The command line: argument parsing, file IO, output and exit codes.
//!
//! Architecture invariant: `cli` is the only room that touches files, the terminal and the
//! process's exit code; everything it computes it asks of the library.

mod calibrate;
mod check;
mod completions;
mod explain;
mod explore;
mod export_ctk;
mod export_fis;
mod fma;
mod graph;
mod import;
mod import_ctk;
mod import_fis;
mod import_traces;
mod merge;
mod reliability;
mod run;
mod schema;
mod sweep;
mod units;
mod validate;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit codes, as PRODUCT.md defines them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every hypothesis holds.
    Success = 0,
    /// A hypothesis failed.
    HypothesisFailed = 1,
    /// Bad command line (clap exits with 2 itself).
    Usage = 2,
    /// An invalid model or scenario.
    InvalidInput = 3,
    /// An internal or I/O error.
    Internal = 4,
}

impl Exit {
    /// The exit of a model or scenario that does not load: 3 for invalid input, 4 for a file
    /// that cannot be read.
    fn of_load(error: &crate::model::LoadError) -> Exit {
        if error.is_invalid_input() {
            Exit::InvalidInput
        } else {
            Exit::Internal
        }
    }

    /// The exit of several files that did not load, `so_far` and then `this`: an I/O error
    /// outranks invalid input (it is not the user's file that is wrong).
    fn with_load(so_far: Option<Exit>, this: Exit) -> Exit {
        match so_far {
            Some(Exit::Internal) => Exit::Internal,
            _ => this,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "blastradius",
    version,
    about = "Deterministic discrete-event simulation of fault scenarios against a model of a distributed system",
    long_about = None,
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Simulate scenarios and print a report for each.
    Run(RunArgs),
    /// Run every scenario under the paths as a CI gate: summary, JUnit, GitHub annotations,
    /// baselines.
    Check(check::CheckArgs),
    /// Seeds × a parameter grid in parallel, with confidence intervals; `--shard` for clusters.
    Sweep(sweep::SweepArgs),
    /// Failure-mode analysis: every single fault the model admits, ranked by blast radius.
    Fma(fma::FmaArgs),
    /// Seeded search for multi-fault schedules that break the hypotheses where no single
    /// fault does, each shrunk to a minimal scenario file.
    Explore(explore::ExploreArgs),
    /// Merge shard outputs of `sweep` or `fma` exactly into one report.
    Merge(merge::MergeArgs),
    /// Check model and scenario files: every diagnostic at once, rustc-style.
    Validate(validate::ValidateArgs),
    /// Explain a diagnostic code (E0008): what it means, an example and its fix.
    Explain(explain::ExplainArgs),
    /// Print or write the JSON Schemas of model and scenario files, for editors.
    Schema(schema::SchemaArgs),
    /// Draw a model's dependency graph as DOT or Mermaid.
    Graph(graph::GraphArgs),
    /// A scenario from a Chaos Toolkit experiment or an AWS FIS template; a model from traces.
    Import(import::ImportArgs),
    /// A scenario as a Chaos Toolkit experiment or an AWS FIS template, to run for real.
    Export(import::ExportArgs),
    /// Run a model at the rates of traces and compare latency, errors and call rates with them.
    Calibrate(calibrate::CalibrateArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), or write every page with `--out DIR`.
    Man(completions::ManArgs),
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Scenario files (TOML).
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Use this seed instead of the scenario's.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// First run each experiment twice comparing a hash of the event traces; if they differ,
    /// name the first event that does and exit 4.
    #[arg(long)]
    pub check_determinism: bool,
    /// Write the experiment's event trace to FILE, one line per event (one scenario only).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Html,
}

/// Parses the process's arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Check(args) => check::check(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Fma(args) => fma::fma(&args),
        Command::Explore(args) => explore::explore(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::Validate(args) => validate::validate(&args),
        Command::Explain(args) => explain::explain(&args),
        Command::Schema(args) => schema::schema(&args),
        Command::Graph(args) => graph::graph(&args),
        Command::Import(args) => import::import(&args),
        Command::Export(args) => import::export(&args),
        Command::Calibrate(args) => calibrate::calibrate_command(&args),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
    };
    exit.into()
}

/// Reports a model or scenario that does not load and gives the exit code it means: 3 for
/// invalid input, 4 for a file that cannot be read.
fn load_failed(error: &crate::model::LoadError) -> Exit {
    eprintln!("{}", error.to_string().trim_end());
    Exit::of_load(error)
}

/// Writes a command's output to `path`, or to stdout without one; a failure is reported on
/// stderr and is exit 4.
fn write_output(path: Option<&std::path::Path>, text: &str) -> Exit {
    let written = match path {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => write_stdout(text).map_err(|e| format!("cannot write to stdout: {e}")),
    };
    match written {
        Ok(()) => Exit::Success,
        Err(message) => {
            eprintln!("error: {message}");
            Exit::Internal
        }
    }
}

/// Writes data to stdout. A closed pipe (`blastradius run ... | head`) is not an error.
fn write_stdout(text: &str) -> Result<(), io::Error> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
