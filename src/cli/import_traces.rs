//! `blastradius import traces FILE...`: a model from OTLP JSON, Jaeger or Zipkin traces.
//! Opens each file and hands its buffered reader to `interop::traces::Importer`, which
//! streams it; writes the model (stdout or `-o`), checks that it loads, and prints on stderr
//! what was read, each fitted distribution with its fit error, and every guess.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::{Exit, write_stdout};
use crate::interop::traces::{self, Format, Importer, Observed, Options, TraceError};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Trace files: OTLP JSON (the Collector's file exporter, one request per line, or one
    /// document), Jaeger JSON (`{"data": [...]}`) or Zipkin v2 JSON (a list of spans).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The files' format; default: told from each file's first bytes.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Write the model here instead of stdout.
    #[arg(short, long, value_name = "MODEL.toml")]
    pub output: Option<PathBuf>,
    /// The model's `name`; default the first file's stem.
    #[arg(long)]
    pub name: Option<String>,
}

/// How trace files are read (shared with `calibrate`).
#[derive(clap::Args, Debug, Clone)]
pub struct ReadArgs {
    /// A `k8s.node.name` and its zone, for spans without `cloud.availability_zone`
    /// (repeatable: `--node-zone ip-10-0-1-7=eu-west-1a`).
    #[arg(long = "node-zone", value_name = "NODE=ZONE", value_parser = parse_node_zone)]
    pub node_zones: Vec<(String, String)>,
    /// A trace is complete once no span of it was seen for this long of trace time.
    #[arg(long, default_value = "30s", value_parser = parse_linger)]
    pub linger: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Otlp,
    Jaeger,
    Zipkin,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Format {
        match format {
            FormatArg::Otlp => Format::Otlp,
            FormatArg::Jaeger => Format::Jaeger,
            FormatArg::Zipkin => Format::Zipkin,
        }
    }
}

fn parse_node_zone(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((node, zone)) if !node.is_empty() && !zone.is_empty() => {
            Ok((node.to_string(), zone.to_string()))
        }
        _ => Err(format!("expected NODE=ZONE, found `{text}`")),
    }
}

fn parse_linger(text: &str) -> Result<u64, String> {
    crate::model::parse_duration(text)
}

impl ReadArgs {
    pub fn options(&self, name: String) -> Options {
        let node_zones: BTreeMap<String, String> = self.node_zones.iter().cloned().collect();
        Options {
            node_zones,
            linger_ns: self.linger,
            name,
        }
    }
}

/// Reads every file into one set of observations; a file that cannot be read, is of no known
/// format or holds no span is an error naming it.
pub(super) fn read_traces(
    files: &[PathBuf],
    format: Option<FormatArg>,
    options: &Options,
) -> Result<Observed, (Exit, String)> {
    let mut importer = Importer::new(options);
    for path in files {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| (Exit::Internal, format!("error: {name}: {e}")))?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let prefix = reader
            .fill_buf()
            .map_err(|e| (Exit::Internal, format!("error: {name}: {e}")))?;
        let format = match format {
            Some(format) => format.into(),
            None => traces::sniff(prefix).ok_or_else(|| {
                (Exit::InvalidInput, format!("error: {name}: not OTLP JSON, Jaeger JSON or Zipkin v2 JSON (give --format to say which)"))
            })?,
        };
        importer
            .read(format, reader, &name)
            .map_err(|e| invalid(&e))?;
        let read_now = importer.files.last().map_or(0, |f| f.2);
        if read_now == 0 {
            return Err(invalid(&TraceError::plain(
                &name,
                format!("no spans in this {} file", format.as_str()),
            )));
        }
        eprintln!("read {name}: {read_now} spans ({})", format.as_str());
    }
    Ok(importer.finish())
}

fn invalid(error: &TraceError) -> (Exit, String) {
    (Exit::InvalidInput, format!("error: {error}"))
}

pub fn run(args: &Args) -> Exit {
    let name = args.name.clone().unwrap_or_else(|| stem(&args.files[0]));
    let options = args.read.options(name);
    let observed = match read_traces(&args.files, args.format, &options) {
        Ok(observed) => observed,
        Err((exit, message)) => {
            eprintln!("{message}");
            return exit;
        }
    };
    let derived = traces::derive(&observed, &options);
    let text = derived.to_toml();
    let model_path = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("<stdout>"));
    // The output must load: a model that does not is a bug of the importer, not of the input.
    match crate::model::parse_model_with_warnings(&model_path, &text) {
        Ok((_, warnings)) => {
            let rendered = warnings.render_items(false);
            if !rendered.is_empty() {
                eprint!("{rendered}");
            }
        }
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render_items(false));
            eprintln!("error: the imported model does not load (a bug of `import traces`)");
            return Exit::Internal;
        }
    }
    eprint!("{}", summary(&observed, &derived));
    let written = match &args.output {
        Some(path) => std::fs::write(path, &text).map_err(|e| format!("{}: {e}", path.display())),
        None => write_stdout(&text).map_err(|e| format!("writing to stdout: {e}")),
    };
    match written {
        Ok(()) => Exit::Success,
        Err(error) => {
            eprintln!("error: {error}");
            Exit::Internal
        }
    }
}

/// What stderr says after an import: the counts, the fits, the guesses and the unmapped.
fn summary(observed: &Observed, derived: &traces::Derived) -> String {
    let mut out = format!(
        "derived {} nodes, {} workloads from {} spans in {} traces ({:.1} s of trace time)\n",
        derived.nodes.len(),
        derived.workloads.len(),
        observed.spans,
        observed.traces,
        observed.window_s()
    );
    out.push_str("fits:\n");
    for (node, what, fit) in derived.fits() {
        out.push_str(&format!(
            "  {node}.{what}: {} from {} samples, fit error {:.1}%\n",
            fit.shape.name(),
            fit.samples,
            fit.error * 100.0
        ));
    }
    out.push_str(&format!("guesses ({}):\n", derived.guesses.len()));
    for g in &derived.guesses {
        out.push_str(&format!(
            "  - {}\n      why: {}\n      override: {}\n",
            g.what, g.why, g.how
        ));
    }
    if !derived.unmapped.is_empty() {
        out.push_str("not mapped:\n");
        for u in &derived.unmapped {
            out.push_str(&format!("  - {u}\n"));
        }
    }
    out
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "traces".to_string(), |s| s.to_string_lossy().to_string())
}
