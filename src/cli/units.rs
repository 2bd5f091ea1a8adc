//! Running units of a sweep or an fma: sharding (`--shard K/N` or `auto` from a cluster
//! scheduler's environment), parallel execution with a progress bar on a terminal, JSONL
//! records, and the rendering of a summary.

use std::io::{BufRead, IsTerminal, Read};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use super::{Exit, write_stdout};
use crate::analysis::sweep::{MergeError, Merger, SweepSummary, UnitRecord};
use crate::report::sweep::{fma_to_text, sweep_to_csv, sweep_to_json, sweep_to_text};

/// Which units this process runs. Invariant: `index < count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// `K/N` (1-based K), or `auto`: Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`, with the
    /// shard count in `BLASTRADIUS_SHARDS`) or Slurm arrays (`SLURM_ARRAY_TASK_ID`,
    /// `SLURM_ARRAY_TASK_COUNT`, `SLURM_ARRAY_TASK_MIN`).
    pub fn parse(spec: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        if spec == "auto" {
            return from_env(env);
        }
        let (k, n) = spec
            .split_once('/')
            .ok_or_else(|| format!("--shard `{spec}`: expected K/N (e.g. 2/8) or `auto`"))?;
        let number = |text: &str, what: &str| {
            text.trim()
                .parse::<u64>()
                .map_err(|_| format!("--shard `{spec}`: {what} `{text}` is not a whole number"))
        };
        let (k, n) = (number(k, "K")?, number(n, "N")?);
        if n == 0 || k == 0 || k > n {
            return Err(format!(
                "--shard `{spec}`: K must be between 1 and N, and N at least 1"
            ));
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    pub fn selects(self, unit: u64) -> bool {
        unit % self.count == self.index
    }
}

fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
    let number = |name: &str| -> Result<Option<u64>, String> {
        env(name)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("{name}=`{v}` is not a whole number"))
            })
            .transpose()
    };
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let count = number("BLASTRADIUS_SHARDS")?.ok_or(
            "--shard auto on Kubernetes: set BLASTRADIUS_SHARDS to the Job's `completions`"
                .to_string(),
        )?;
        return checked(index, count);
    }
    if let Some(task) = number("SLURM_ARRAY_TASK_ID")? {
        let count = number("SLURM_ARRAY_TASK_COUNT")?.ok_or("SLURM_ARRAY_TASK_COUNT is not set")?;
        let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        return checked(task.saturating_sub(min), count);
    }
    Err("--shard auto: neither JOB_COMPLETION_INDEX (Kubernetes) nor SLURM_ARRAY_TASK_ID (Slurm) is set".into())
}

fn checked(index: u64, count: u64) -> Result<Shard, String> {
    if count == 0 || index >= count {
        return Err(format!(
            "--shard auto: index {index} is not below the shard count {count}"
        ));
    }
    Ok(Shard { index, count })
}

/// Runs the units a shard selects (all without one), in parallel, in groups studied together: the selected units (shard applied) are split
/// into groups of equal `group_of` (in order of first appearance), each group handed to
/// `study` at once — fma studies a seed's candidates against one control — and the records
/// come back in unit order.
pub fn run_unit_groups<U: Sync, K: PartialEq + Sync>(
    units: &[U],
    shard: Option<Shard>,
    group_of: impl Fn(&U) -> K,
    study: impl Fn(&[(u64, &U)]) -> Result<Vec<UnitRecord>, String> + Sync,
) -> Result<Vec<String>, String> {
    let mut groups: Vec<(K, Vec<(u64, &U)>)> = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        if shard.is_some_and(|s| !s.selects(i as u64)) {
            continue;
        }
        let key = group_of(unit);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push((i as u64, unit)),
            None => groups.push((key, vec![(i as u64, unit)])),
        }
    }
    let total = groups.iter().map(|(_, m)| m.len() as u64).sum();
    let bar = progress(total);
    let studied: Result<Vec<Vec<(u64, String)>>, String> = groups
        .par_iter()
        .map(|(_, members)| {
            let records = study(members)?;
            bar.inc(members.len() as u64);
            let lines = records
                .into_iter()
                .map(|r| serde_json::to_string(&r).expect("a record always serialises"));
            Ok(members.iter().map(|(i, _)| *i).zip(lines).collect())
        })
        .collect();
    bar.finish_and_clear();
    let mut records: Vec<(u64, String)> = studied?.into_iter().flatten().collect();
    records.sort_by_key(|(i, _)| *i);
    Ok(records.into_iter().map(|(_, line)| line).collect())
}

/// A bar with ETA and runs/s on stderr, only when stderr is a terminal.
fn progress(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {per_sec}  eta {eta}")
        .expect("a constant template is valid");
    bar.set_style(style);
    bar
}

/// Output formats of sweeps, fma and merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    Text,
    Json,
    Csv,
}

/// A record is a few kilobytes; a longer line is not one, and is not read whole.
const MAX_RECORD_BYTES: u64 = 16 << 20;

/// Why reading records stopped: a line that is not a record or does not merge (invalid
/// input), or the reader failing (an I/O error).
#[derive(Debug)]
pub enum ReadError {
    Invalid(String),
    Io(String),
}

/// Reads JSONL unit records from `reader` into `merger`, line by line, keeping no text: a line
/// that is not a record is named `source:line:column`, a record that does not merge with the
/// others `source:line`. Blank lines are skipped.
pub fn read_records(
    source: &str,
    mut reader: impl BufRead,
    merger: &mut Merger,
) -> Result<(), ReadError> {
    let mut line = Vec::new();
    for number in 1u64.. {
        line.clear();
        let read = (&mut reader)
            .take(MAX_RECORD_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| ReadError::Io(format!("reading {source}: {e}")))?;
        if read == 0 {
            break;
        }
        if line.len() as u64 > MAX_RECORD_BYTES {
            let message = format!(
                "{source}:{number}: a line of more than {} MiB is not a blastradius unit record",
                MAX_RECORD_BYTES >> 20
            );
            return Err(ReadError::Invalid(message));
        }
        let text = line.trim_ascii_end();
        if text.trim_ascii_start().is_empty() {
            continue;
        }
        let record: UnitRecord = serde_json::from_slice(text)
            .map_err(|e| ReadError::Invalid(not_a_record(source, number, &e)))?;
        merger
            .add(record)
            .map_err(|e| ReadError::Invalid(format!("{source}:{number}: {e}")))?;
    }
    Ok(())
}

/// `source:line:column: not a blastradius unit record: <what serde_json found>`.
fn not_a_record(source: &str, number: u64, error: &serde_json::Error) -> String {
    let message = error.to_string();
    // serde_json ends its message with the position, given here in front instead.
    let position = format!(" at line {} column {}", error.line(), error.column());
    let message = message.strip_suffix(&position).unwrap_or(&message);
    format!(
        "{source}:{number}:{}: not a blastradius unit record: {message}",
        error.column()
    )
}

/// Prints the report of a merge's summary; the one path shared by unsharded runs and merge.
pub fn report(summary: Result<SweepSummary, MergeError>, format: SummaryFormat) -> Exit {
    let summary = match summary {
        Ok(summary) => summary,
        Err(error) => {
            eprintln!("error: {error}");
            return Exit::InvalidInput;
        }
    };
    let text = render(&summary, format);
    match write_stdout(&text) {
        Ok(()) => Exit::Success,
        Err(error) => {
            eprintln!("error: writing the report: {error}");
            Exit::Internal
        }
    }
}

fn render(summary: &SweepSummary, format: SummaryFormat) -> String {
    match (format, summary.study.as_str()) {
        (SummaryFormat::Text, "fma") => fma_to_text(summary),
        (SummaryFormat::Text, _) => sweep_to_text(summary),
        (SummaryFormat::Json, _) => sweep_to_json(summary),
        (SummaryFormat::Csv, _) => sweep_to_csv(summary),
    }
}

/// Writes a shard's records: JSONL to a file or stdout.
pub fn write_records(lines: &[String], out: Option<&Path>) -> Exit {
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    let written = match out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
        }
        None => write_stdout(&text).map_err(|e| format!("writing the records: {e}")),
    };
    match written {
        Ok(()) => Exit::Success,
        Err(error) => {
            eprintln!("error: {error}");
            Exit::Internal
        }
    }
}

/// Finishes a sweep or fma: a shard writes its records, a whole run reports.
pub fn finish(
    lines: Result<Vec<String>, String>,
    shard: Option<Shard>,
    out: Option<&Path>,
    format: SummaryFormat,
) -> Exit {
    let lines = match lines {
        Ok(lines) => lines,
        Err(error) => {
            eprintln!("error: {error}");
            return Exit::InvalidInput;
        }
    };
    if shard.is_some() {
        return write_records(&lines, out);
    }
    // Parsed back from the lines a shard would write, so merge gives the same bytes.
    let mut merger = Merger::default();
    for (i, line) in lines.iter().enumerate() {
        let record: UnitRecord = match serde_json::from_str(line) {
            Ok(record) => record,
            Err(error) => {
                eprintln!("error: {}", not_a_record("memory", i as u64 + 1, &error));
                return Exit::Internal;
            }
        };
        if let Err(error) = merger.add(record) {
            return report(Err(error), format);
        }
    }
    report(merger.finish(), format)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn explicit_shards_are_one_based() {
        assert_eq!(
            Shard::parse("2/8", env(&[])),
            Ok(Shard { index: 1, count: 8 })
        );
        assert!(Shard::parse("0/8", env(&[])).is_err());
        assert!(Shard::parse("9/8", env(&[])).is_err());
        assert!(Shard::parse("x/8", env(&[])).is_err());
        let shard = Shard { index: 1, count: 3 };
        let picked: Vec<u64> = (0..9).filter(|&u| shard.selects(u)).collect();
        assert_eq!(picked, vec![1, 4, 7]);
    }

    #[test]
    fn auto_reads_kubernetes_and_slurm() {
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3"), ("BLASTRADIUS_SHARDS", "4")]);
        assert_eq!(Shard::parse("auto", k8s), Ok(Shard { index: 3, count: 4 }));
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ]);
        assert_eq!(
            Shard::parse("auto", slurm),
            Ok(Shard { index: 4, count: 5 })
        );
        assert!(
            Shard::parse("auto", env(&[("JOB_COMPLETION_INDEX", "0")])).is_err(),
            "needs the count"
        );
        assert!(Shard::parse("auto", env(&[])).is_err());
    }
}
