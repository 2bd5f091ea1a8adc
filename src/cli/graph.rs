//! `blastradius graph MODEL`: the model's dependency graph as DOT (`| dot -Tsvg`) or Mermaid.

use std::path::PathBuf;

use clap::ValueEnum;

use super::{Exit, load_failed, write_stdout};
use crate::model::load_model;
use crate::report::{to_dot, to_mermaid};

#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    /// A model file (TOML).
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

pub fn graph(args: &GraphArgs) -> Exit {
    let topology = match load_model(&args.model) {
        Ok(topology) => topology,
        Err(error) => return load_failed(&error),
    };
    let text = match args.format {
        GraphFormat::Dot => to_dot(&topology),
        GraphFormat::Mermaid => to_mermaid(&topology, None),
    };
    match write_stdout(&text) {
        Ok(()) => Exit::Success,
        Err(error) => {
            eprintln!("error: writing to stdout: {error}");
            Exit::Internal
        }
    }
}
