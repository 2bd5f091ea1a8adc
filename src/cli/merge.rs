//! `blastradius merge FILES...`: combines shard outputs (JSONL unit records) exactly into the
//! report the unsharded sweep or fma would have printed — refusing mismatched tool versions,
//! models or scenarios, and naming missing or duplicate units.

use std::path::PathBuf;

use super::Exit;
use super::units::{SummaryFormat, parse_records, report};

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Shard outputs (JSONL), in any order.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
}

pub fn merge(args: &MergeArgs) -> Exit {
    let mut records = Vec::new();
    for path in &args.files {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("error: reading {}: {error}", path.display());
                return Exit::Internal;
            }
        };
        match parse_records(&path.display().to_string(), &text) {
            Ok(mut more) => records.append(&mut more),
            Err(error) => {
                eprintln!("error: {error}");
                return Exit::InvalidInput;
            }
        }
    }
    report(records, args.format)
}
