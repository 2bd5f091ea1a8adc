//! `blastradius schema`: the JSON Schemas of model and scenario files, to stdout or written as
//! `model.schema.json` / `scenario.schema.json` into a directory (`--out schema` regenerates
//! the committed ones).

use std::path::PathBuf;

use clap::ValueEnum;

use super::{Exit, write_stdout};
use crate::model::schema::{model_schema, scenario_schema};

#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    /// Which schema; both when omitted (on stdout, one JSON document after the other).
    #[arg(long, value_enum)]
    pub kind: Option<SchemaKind>,
    /// Write `<kind>.schema.json` files into this directory instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    Model,
    Scenario,
}

impl SchemaKind {
    fn file_name(self) -> &'static str {
        match self {
            SchemaKind::Model => "model.schema.json",
            SchemaKind::Scenario => "scenario.schema.json",
        }
    }

    fn schema(self) -> String {
        match self {
            SchemaKind::Model => model_schema(),
            SchemaKind::Scenario => scenario_schema(),
        }
    }
}

pub fn schema(args: &SchemaArgs) -> Exit {
    let kinds = match args.kind {
        Some(kind) => vec![kind],
        None => vec![SchemaKind::Model, SchemaKind::Scenario],
    };
    let Some(dir) = &args.out else {
        let text: String = kinds.iter().map(|k| k.schema()).collect();
        return match write_stdout(&text) {
            Ok(()) => Exit::Success,
            Err(error) => {
                eprintln!("error: writing to stdout: {error}");
                Exit::Internal
            }
        };
    };
    if let Err(error) = std::fs::create_dir_all(dir) {
        eprintln!("error: cannot create {}: {error}", dir.display());
        return Exit::Internal;
    }
    for kind in kinds {
        let path = dir.join(kind.file_name());
        if let Err(error) = std::fs::write(&path, kind.schema()) {
            eprintln!("error: cannot write {}: {error}", path.display());
            return Exit::Internal;
        }
        eprintln!("wrote {}", path.display());
    }
    Exit::Success
}
