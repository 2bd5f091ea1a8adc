//! `blastradius fma MODEL`: failure-mode analysis without writing scenarios — every single
//! fault the model admits, studied against its normal workload, ranked by blast radius.

use std::path::PathBuf;

use clap::ValueEnum;

use super::units::{Shard, SummaryFormat, finish, run_unit_groups};
use super::{Exit, load_failed};
use crate::analysis::fma::{FmaOptions, candidates, scenario_for};
use crate::analysis::study_against;
use crate::analysis::sweep::{record, text_hash};
use crate::model::{load_model, parse_duration};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Family {
    Zone,
    Node,
    Edge,
    External,
    Cache,
    Load,
}

#[derive(clap::Args, Debug)]
pub struct FmaArgs {
    /// The model (TOML).
    pub model: PathBuf,
    /// Fault families to enumerate (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub families: Vec<Family>,
    /// Simulated length of each run.
    #[arg(long, default_value = "10m")]
    pub duration: String,
    #[arg(long, default_value = "1m")]
    pub warmup: String,
    /// When each fault starts.
    #[arg(long, default_value = "3m")]
    pub fault_start: String,
    /// How long each fault lasts.
    #[arg(long, default_value = "3m")]
    pub fault_duration: String,
    /// Latency added on each edge for the latency candidates.
    #[arg(long, default_value = "1s")]
    pub latency: String,
    /// Rate multiplier of the traffic-spike candidates.
    #[arg(long, default_value_t = 3.0)]
    pub spike: f64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seeds per fault (more give confidence intervals).
    #[arg(long, default_value_t = 1)]
    pub seeds: u64,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
    /// Run only shard K of N (1-based), or `auto`; writes JSONL unit records for `merge`.
    #[arg(long)]
    pub shard: Option<String>,
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn fma(args: &FmaArgs) -> Exit {
    let topology = match load_model(&args.model) {
        Ok(topology) => topology,
        Err(error) => return load_failed(&error),
    };
    let (options, shard) = match options(args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("error: {message}");
            return Exit::Usage;
        }
    };
    let model_text = std::fs::read_to_string(&args.model).unwrap_or_default();
    let hashes = (text_hash(&model_text), text_hash(&format!("{options:?}")));
    let faults = candidates(&topology, &options);
    let units: Vec<(usize, u64)> = (0..faults.len())
        .flat_map(|f| (0..args.seeds).map(move |s| (f, args.seed.wrapping_add(s))))
        .collect();
    let total = units.len() as u64;
    // A seed's candidates share one control (`analysis::study_against`).
    let lines = run_unit_groups(
        &units,
        shard,
        |&(_, seed)| seed,
        |members| {
            let scenarios: Vec<_> = members
                .iter()
                .map(|&(_, &(f, seed))| {
                    scenario_for(&args.model, &topology, &faults[f], &options, seed)
                })
                .collect();
            let studies = study_against(&scenarios);
            let hashes = (hashes.0.as_str(), hashes.1.as_str());
            Ok(members
                .iter()
                .zip(scenarios.iter().zip(&studies))
                .map(|(&(index, &(f, _)), (scenario, study))| {
                    let point = vec![("fault".to_string(), faults[f].label.clone())];
                    let mut unit = record("fma", scenario, study, hashes, index, total, point);
                    unit.scenario = topology.name.clone();
                    unit
                })
                .collect())
        },
    );
    finish(lines, shard, args.out.as_deref(), args.format)
}

/// `FmaOptions` with the family switches of `--families` (none given means all) and every
/// other field zero, for the caller to fill in with struct update syntax.
pub(super) fn with_families(chosen: &[Family]) -> FmaOptions {
    FmaOptions::with_families(|name| {
        chosen.is_empty() || chosen.iter().any(|family| family.name() == name)
    })
}

impl Family {
    /// Its `--families` word, which is the `fma_family` of its fault kinds.
    pub(super) fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

fn options(args: &FmaArgs) -> Result<(FmaOptions, Option<Shard>), String> {
    let duration = |flag: &str, text: &str| {
        parse_duration(text).map_err(|e| format!("--{flag} `{text}`: {e}"))
    };
    let options = FmaOptions {
        duration_ns: duration("duration", &args.duration)?,
        warmup_ns: duration("warmup", &args.warmup)?,
        fault_start_ns: duration("fault-start", &args.fault_start)?,
        fault_duration_ns: duration("fault-duration", &args.fault_duration)?,
        added_latency_ns: duration("latency", &args.latency)?,
        spike_factor: args.spike,
        ..with_families(&args.families)
    };
    if options.warmup_ns >= options.duration_ns || options.fault_start_ns >= options.duration_ns {
        return Err("the warm-up and the fault start must fall within --duration".into());
    }
    if !(args.spike.is_finite() && args.spike > 0.0) || args.seeds == 0 {
        return Err("--spike must be positive and --seeds at least 1".into());
    }
    let shard = args
        .shard
        .as_deref()
        .map(|spec| Shard::parse(spec, |name| std::env::var(name).ok()))
        .transpose()?;
    Ok((options, shard))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FAULT_KINDS;

    /// `--families` offers exactly the fma families the fault kinds declare.
    #[test]
    fn families_are_those_of_the_fault_kinds() {
        let mut offered: Vec<String> = Family::value_variants().iter().map(|f| f.name()).collect();
        let mut declared: Vec<String> = FAULT_KINDS
            .iter()
            .filter_map(|s| s.fma_family.map(str::to_string))
            .collect();
        offered.sort();
        declared.sort();
        declared.dedup();
        assert_eq!(offered, declared);
    }
}
