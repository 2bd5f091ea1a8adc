//! `blastradius calibrate MODEL TRACES...`: runs the model at the traces' rates and compares
//! latency, error rates and call rates with the traces (`interop::traces::calibrate`); exit 1
//! when any comparison deviates beyond `--tolerance`, so CI catches a model drifting from
//! production.

use std::path::PathBuf;

use clap::ValueEnum;

use super::import_traces::{FormatArg, ReadArgs, read_traces};
use super::{Exit, load_failed, write_stdout};
use crate::interop::traces::calibrate::calibrate;

#[derive(clap::Args, Debug)]
pub struct CalibrateArgs {
    /// The model (TOML).
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// Trace files (OTLP JSON, Jaeger or Zipkin v2 JSON), as for `import traces`.
    #[arg(required = true, value_name = "TRACES")]
    pub traces: Vec<PathBuf>,
    /// The trace files' format; default: told from each file's first bytes.
    #[arg(long, value_enum)]
    pub trace_format: Option<FormatArg>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// The largest deviation allowed beyond the confidence intervals, relative to the traces'
    /// value: `10%` or `0.1`.
    #[arg(long, default_value = "10%", value_parser = parse_tolerance)]
    pub tolerance: f64,
    /// The simulation's seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = CalibrateFormat::Text)]
    pub format: CalibrateFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CalibrateFormat {
    Text,
    Json,
    Markdown,
}

fn parse_tolerance(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(number) => (number, 0.01),
        None => (text, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value * scale),
        _ => Err(format!(
            "expected a tolerance like `10%` or `0.1`, found `{text}`"
        )),
    }
}

pub fn calibrate_command(args: &CalibrateArgs) -> Exit {
    let topology = match crate::model::load_model(&args.model) {
        Ok(topology) => topology,
        Err(error) => return load_failed(&error),
    };
    let options = args.read.options(topology.name.clone());
    let observed = match read_traces(&args.traces, args.trace_format, &options) {
        Ok(observed) => observed,
        Err((exit, message)) => {
            eprintln!("{message}");
            return exit;
        }
    };
    let calibration = calibrate(&topology, &observed, args.tolerance, args.seed);
    let text = match args.format {
        CalibrateFormat::Text => calibration.to_text(),
        CalibrateFormat::Json => calibration.to_json(),
        CalibrateFormat::Markdown => calibration.to_markdown(),
    };
    if let Err(error) = write_stdout(&text) {
        eprintln!("error: writing to stdout: {error}");
        return Exit::Internal;
    }
    if calibration.deviating().next().is_some() {
        Exit::HypothesisFailed
    } else {
        Exit::Success
    }
}
