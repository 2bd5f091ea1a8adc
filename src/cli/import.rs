//! `blastradius import SOURCE ...`: a scenario from another chaos tool's experiment, or a
//! model from traces. Each source has its own file; this one only dispatches.

use super::Exit;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

#[derive(clap::Subcommand, Debug)]
pub enum ImportSource {
    /// A Chaos Toolkit experiment (JSON or YAML) as a scenario on a model.
    Ctk(super::import_ctk::Args),
    /// An AWS FIS experiment template (JSON) as a scenario on a model.
    Fis(super::import_fis::Args),
    /// A model from OpenTelemetry (OTLP JSON), Jaeger or Zipkin traces.
    Traces(super::import_traces::Args),
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub target: ExportTarget,
}

#[derive(clap::Subcommand, Debug)]
pub enum ExportTarget {
    /// A scenario's faults and hypotheses as a Chaos Toolkit experiment (JSON).
    Ctk(super::export_ctk::Args),
    /// A scenario's faults as an AWS FIS experiment template (JSON).
    Fis(super::export_fis::Args),
}

pub fn import(args: &ImportArgs) -> Exit {
    match &args.source {
        ImportSource::Ctk(args) => super::import_ctk::run(args),
        ImportSource::Fis(args) => super::import_fis::run(args),
        ImportSource::Traces(args) => super::import_traces::run(args),
    }
}

pub fn export(args: &ExportArgs) -> Exit {
    match &args.target {
        ExportTarget::Ctk(args) => super::export_ctk::run(args),
        ExportTarget::Fis(args) => super::export_fis::run(args),
    }
}
