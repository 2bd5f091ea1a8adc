//! `blastradius schema`: the JSON Schemas of model and scenario files, to stdout or written as
//! `model.schema.json` / `scenario.schema.json` into a directory (`--out schema` regenerates
//! the committed ones). Without `--kind`, stdout gets one JSON document: a schema that bundles
//! both (each an embedded resource with its own `$id`, so its `#/$defs/...` references still
//! resolve) and applies the scenario schema to a file with a top-level `model` key, the model
//! schema otherwise — the rule `validate` uses to tell them apart.

use std::path::PathBuf;

use clap::ValueEnum;

use super::{Exit, write_stdout};
use crate::model::schema::{model_schema, scenario_schema};

#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    /// Which schema; both when omitted (on stdout, one schema that bundles both and picks
    /// the scenario schema for a file with a top-level `model` key).
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
        let text = match args.kind {
            Some(kind) => kind.schema(),
            None => bundled_schema(),
        };
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

/// One JSON Schema for either kind of file: both schemas embedded under `$defs` with `$id`s of
/// their own, chosen by the presence of a top-level `model` key. Pretty-printed, one newline.
pub fn bundled_schema() -> String {
    let embed = |kind: SchemaKind, id: &str| {
        let mut schema: serde_json::Value =
            serde_json::from_str(&kind.schema()).expect("the generated schema is JSON");
        let object = schema.as_object_mut().expect("a schema is an object");
        object.remove("$schema");
        object.insert("$id".to_string(), serde_json::Value::from(id));
        schema
    };
    let bundle = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "blastradius model or scenario",
        "description": "A scenario file has a top-level `model` key; any other file is a model.",
        "if": { "type": "object", "required": ["model"] },
        "then": { "$ref": "urn:blastradius:scenario" },
        "else": { "$ref": "urn:blastradius:model" },
        "$defs": {
            "model": embed(SchemaKind::Model, "urn:blastradius:model"),
            "scenario": embed(SchemaKind::Scenario, "urn:blastradius:scenario"),
        }
    });
    let mut text = serde_json::to_string_pretty(&bundle).expect("JSON serialises");
    text.push('\n');
    text
}
