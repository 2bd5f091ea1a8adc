//! Models from distributed traces (`blastradius import traces`) and the check that a model
//! still matches them (`blastradius calibrate`).
//!
//! The pipeline, one stage per module:
//! - `otlp`, `jaeger`, `zipkin` read one format each into the common `span::Span`;
//! - `assemble` groups spans into traces (a trace lingers until no span of it has been seen
//!   for `linger` of trace time, or its file says it is whole) and analyses each finished
//!   trace into `observed::Observed`: per node visits, self times and errors; per edge calls,
//!   retries and order; per workload roots; per instance the most concurrent spans;
//! - `fit` chooses a distribution for a histogram of self times;
//! - `derive` turns the observations into a model file with a comment on every derived value
//!   and a list of every guess;
//! - `calibrate` runs a model at the traces' rates and compares.
//!
//! No IO here: the CLI opens the files and hands each reader (`impl std::io::Read`) to
//! `Importer::read`, which streams it — memory is bounded by the distinct services, edges,
//! instances and operations and by the traces in progress, never by the file's size. Nothing
//! written out depends on hash-map order: maps that are iterated are `BTreeMap`s keyed by name.

mod analyze;
pub mod assemble;
pub mod calibrate;
mod calibrate_render;
pub mod derive;
pub mod fit;
pub mod jaeger;
pub mod observed;
pub mod otlp;
mod render;
pub mod span;
pub mod zipkin;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

pub use assemble::Assembler;
pub use derive::{Derived, Guess, derive};
pub use observed::Observed;

/// A trace file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Otlp,
    Jaeger,
    Zipkin,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Otlp => "otlp",
            Format::Jaeger => "jaeger",
            Format::Zipkin => "zipkin",
        }
    }
}

/// Tells the format from the first bytes of a file (the CLI peeks at its buffered reader):
/// OTLP has `resourceSpans`, Jaeger a `data` array of traces with `traceID` / `processes`,
/// Zipkin a top-level array of spans with `traceId`.
pub fn sniff(prefix: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(prefix);
    let first = text.trim_start().chars().next()?;
    if text.contains("\"resourceSpans\"") || text.contains("\"resource_spans\"") {
        Some(Format::Otlp)
    } else if text.contains("\"traceID\"") || text.contains("\"processes\"") {
        Some(Format::Jaeger)
    } else if first == '[' && text.contains("\"traceId\"") {
        Some(Format::Zipkin)
    } else {
        None
    }
}

/// A file that cannot be read as traces: where, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TraceError {
    pub file: String,
    /// 1-based; 0 when the problem has no position (an empty file).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl TraceError {
    pub fn json(file: &str, error: &serde_json::Error, expected: &str) -> TraceError {
        let what = match error.classify() {
            serde_json::error::Category::Io => "cannot read",
            serde_json::error::Category::Eof => "unexpected end of file",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "unexpected content",
        };
        // serde_json appends " at line L column C"; the position is ours to print.
        let detail = error.to_string();
        let detail = detail
            .split(" at line ")
            .next()
            .unwrap_or(&detail)
            .to_string();
        TraceError {
            file: file.to_string(),
            line: error.line(),
            column: error.column(),
            message: format!("{what}: {detail} (expected {expected})"),
        }
    }

    pub fn plain(file: &str, message: String) -> TraceError {
        TraceError {
            file: file.to_string(),
            line: 0,
            column: 0,
            message,
        }
    }
}

/// What the user can say about the traces that they do not say themselves.
#[derive(Clone, Debug)]
pub struct Options {
    /// `k8s.node.name` -> zone, for traces without `cloud.availability_zone`.
    pub node_zones: BTreeMap<String, String>,
    /// A trace is analysed once no span of it has been seen for this long of trace time.
    pub linger_ns: u64,
    /// The model's name.
    pub name: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            node_zones: BTreeMap::new(),
            linger_ns: 30_000_000_000,
            name: "traces".into(),
        }
    }
}

/// Streams trace files in and hands back the observations.
pub struct Importer {
    assembler: Assembler,
    /// Spans read per file, in the order the files were read.
    pub files: Vec<(String, Format, u64)>,
}

impl Importer {
    pub fn new(options: &Options) -> Importer {
        Importer {
            assembler: Assembler::new(options.linger_ns),
            files: Vec::new(),
        }
    }

    /// Reads one file. `file` names it in errors.
    pub fn read(
        &mut self,
        format: Format,
        reader: impl Read,
        file: &str,
    ) -> Result<(), TraceError> {
        let before = self.assembler.spans_read();
        match format {
            Format::Otlp => otlp::read(reader, file, &mut self.assembler)?,
            Format::Jaeger => jaeger::read(reader, file, &mut self.assembler)?,
            Format::Zipkin => zipkin::read(reader, file, &mut self.assembler)?,
        }
        let read = self.assembler.spans_read() - before;
        self.files.push((file.to_string(), format, read));
        Ok(())
    }

    /// Analyses the traces still in progress and returns everything observed.
    pub fn finish(self) -> Observed {
        self.assembler.finish()
    }
}

/// A sink that keeps every span, for the format modules' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::span::{Names, Span, SpanSink};

    #[derive(Default)]
    pub struct Spans {
        pub names: Names,
        pub spans: Vec<Span>,
        pub complete: Vec<u128>,
    }

    impl SpanSink for Spans {
        fn names(&mut self) -> &mut Names {
            &mut self.names
        }
        fn span(&mut self, span: Span) {
            self.spans.push(span);
        }
        fn trace_complete(&mut self, trace: u128) {
            self.complete.push(trace);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_format_from_its_first_bytes() {
        assert_eq!(
            sniff(br#"{"resourceSpans":[{"resource""#),
            Some(Format::Otlp)
        );
        assert_eq!(
            sniff(br#"{"data":[{"traceID":"ab","spans""#),
            Some(Format::Jaeger)
        );
        assert_eq!(sniff(b" [{\"traceId\":\"ab\",\"id\""), Some(Format::Zipkin));
        assert_eq!(sniff(b"name = \"shop\""), None);
        assert_eq!(sniff(b""), None);
    }
}
