//! `blastradius merge FILES...`: combines shard outputs (JSONL unit records) exactly into the
//! report the unsharded sweep or fma would have printed — refusing mismatched tool versions,
//! models or scenarios, and naming missing or duplicate units. Shards are streamed, a line at
//! a time, into `analysis::sweep::Merger`: memory grows with the units' numbers, not the
//! files' size.

use std::io::BufReader;
use std::path::PathBuf;

use super::Exit;
use super::units::{ReadError, SummaryFormat, read_records, report};
use crate::analysis::sweep::Merger;

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Shard outputs (JSONL), in any order.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
}

pub fn merge(args: &MergeArgs) -> Exit {
    let mut merger = Merger::default();
    for path in &args.files {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(error) => {
                eprintln!("error: reading {}: {error}", path.display());
                return Exit::Internal;
            }
        };
        let source = path.display().to_string();
        match read_records(&source, BufReader::new(file), &mut merger) {
            Ok(()) => {}
            Err(ReadError::Invalid(message)) => {
                eprintln!("error: {message}");
                return Exit::InvalidInput;
            }
            Err(ReadError::Io(message)) => {
                eprintln!("error: {message}");
                return Exit::Internal;
            }
        }
    }
    report(merger.finish(), args.format)
}
