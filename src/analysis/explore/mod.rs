//! `explore`: a seeded random search over multi-fault schedules drawn from fma's catalogue,
//! for the failures no single fault explains, each shrunk to a minimal reproducing schedule.
//!
//! The search draws schedule `i` from its own stream (`draw.rs`), studies it through the study
//! engine (`judge.rs`), and keeps a failure only when it is *interesting*: every fault of it
//! alone passes (an interaction), or it hurts clearly more than the sum of its parts (an
//! amplification). Each kept failure is shrunk (`shrink.rs`) while it still fails on every
//! one of K seeds. Nothing here does IO or reads a clock: the CLI decides how many schedules
//! to draw (`--runs`, or as many as `--time` allows) and renders and writes the results.

mod draw;
mod faults;
mod judge;
mod shrink;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::fma::FmaOptions;
use crate::model::{FaultKind, FaultSpec, Metric, Topology};

pub use draw::{Entry, catalogue};
pub use faults::{describe, describe_timed};
pub use judge::{Judge, Outcome, metric_value};
pub use shrink::Shrunk;

/// How the search draws and judges schedules.
#[derive(Clone, Debug)]
pub struct ExploreOptions {
    /// The catalogue's families and base sizes, and the run length and warm-up.
    pub fma: FmaOptions,
    pub min_faults: usize,
    pub max_faults: usize,
    /// The search's seed: it seeds the draws and is the first of the K judging seeds.
    pub seed: u64,
    /// K: a finding must fail on seeds `seed..seed + K` to be kept and while it is shrunk.
    pub seeds: u64,
    pub min_fault_ns: u64,
    pub max_fault_ns: u64,
    /// A failure whose parts also fail is kept when its net harm exceeds this many times the
    /// sum of theirs.
    pub amplification: f64,
    /// At most this many findings are shrunk (the most severe).
    pub max_findings: usize,
    /// Studies one shrink may spend; reaching it is reported (the schedule is then smaller
    /// but not shown minimal).
    pub max_shrink_studies: u64,
}

impl ExploreOptions {
    pub fn judging_seeds(&self) -> Vec<u64> {
        (0..self.seeds).map(|k| self.seed.wrapping_add(k)).collect()
    }
}

/// A fault schedule. Invariant: `faults` sorted by (start, catalogue entry), `entries[i]` the
/// catalogue entry `faults[i]` was drawn from.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub faults: Vec<FaultSpec>,
    pub entries: Vec<usize>,
}

impl Schedule {
    pub fn new(mut drawn: Vec<(usize, FaultSpec)>) -> Schedule {
        drawn.sort_by_key(|(entry, f)| (f.start_ns, *entry));
        let (entries, faults) = drawn.into_iter().unzip();
        Schedule { faults, entries }
    }

    pub fn pairs(&self) -> Vec<(usize, FaultSpec)> {
        self.entries
            .iter()
            .copied()
            .zip(self.faults.iter().cloned())
            .collect()
    }

    /// The faults without their timing, sorted: two findings with the same signature are the
    /// same interaction found at different times.
    pub fn signature(&self, topology: &Topology) -> Vec<String> {
        let mut out: Vec<String> = self.faults.iter().map(|f| describe(topology, f)).collect();
        out.sort();
        out
    }

    /// Total length of the faults' activity, for reports.
    pub fn total_ns(&self) -> u64 {
        self.faults.iter().filter_map(|f| f.duration_ns).sum()
    }
}

/// What a schedule's failure means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Passed,
    /// Fails while every fault of it alone passes.
    Interaction,
    /// Fails, some part fails alone too, but the whole hurts far more than the parts' sum.
    Amplification,
    /// A failure one of its faults explains alone (fma's territory).
    Explained,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Passed => "passed",
            Class::Interaction => "interaction",
            Class::Amplification => "amplification",
            Class::Explained => "explained by one fault",
        }
    }
}

/// One schedule of the search, studied on the search seed.
#[derive(Clone, Debug)]
pub struct Trial {
    pub index: u64,
    pub schedule: Schedule,
    pub outcome: Outcome,
    /// Each fault alone on the same seed, in schedule order (empty when the schedule passed).
    pub singles: Vec<Outcome>,
    pub class: Class,
}

/// How a failure relates to its parts.
pub fn classify(whole: &Outcome, parts: &[Outcome], amplification: f64) -> Class {
    if whole.pass {
        return Class::Passed;
    }
    if parts.iter().all(|p| p.pass) {
        return Class::Interaction;
    }
    let sum: f64 = parts.iter().map(|p| p.net_share.max(0.0)).sum();
    if whole.net_share > amplification * sum && whole.net_share - sum > 0.005 {
        Class::Amplification
    } else {
        Class::Explained
    }
}

/// The search's state: the model, the catalogue weighted by one control run, the judge.
pub struct Explorer<'a> {
    pub model_path: &'a Path,
    pub topology: &'a Topology,
    pub options: &'a ExploreOptions,
    pub judge: Judge,
    pub entries: Vec<Entry>,
    /// Per workload: the control's availability and p99 over the measured run.
    pub control: Vec<ControlBand>,
    studies: AtomicU64,
}

/// A workload's steady state in the control, which the default budget's bands are around.
#[derive(Clone, Debug, Serialize)]
pub struct ControlBand {
    pub workload: String,
    pub availability: Option<f64>,
    pub p99_ns: Option<f64>,
}

impl<'a> Explorer<'a> {
    /// Runs the control once (no faults, the search seed) to weight the catalogue by lineage.
    pub fn new(
        model_path: &'a Path,
        topology: &'a Topology,
        options: &'a ExploreOptions,
        judge: Judge,
    ) -> Explorer<'a> {
        let config = crate::sim::RunConfig {
            limits: judge.limits,
            ..crate::sim::RunConfig::plain(
                options.seed,
                options.fma.duration_ns,
                options.fma.warmup_ns,
            )
        };
        let control = crate::sim::run(topology, &config);
        let span = crate::analysis::WindowSpan {
            window: crate::model::Window::Before,
            start_ns: options.fma.warmup_ns.min(control.end_ns),
            end_ns: control.end_ns,
        };
        let bands = topology
            .workloads
            .iter()
            .zip(&control.workloads)
            .map(|(w, m)| {
                let values = crate::analysis::values::values_in(m, &span);
                ControlBand {
                    workload: w.name.clone(),
                    availability: values.get(Metric::Availability),
                    p99_ns: values.get(Metric::P99),
                }
            })
            .collect();
        Explorer {
            model_path,
            topology,
            options,
            judge,
            entries: catalogue(topology, &options.fma, &control),
            control: bands,
            studies: AtomicU64::new(1),
        }
    }

    /// Studies run so far, the control included.
    pub fn studies(&self) -> u64 {
        self.studies.load(Ordering::Relaxed)
    }

    /// Studies `faults` on `seed`.
    pub fn outcome(&self, faults: Vec<FaultSpec>, seed: u64) -> Outcome {
        let run = (self.options.fma.duration_ns, self.options.fma.warmup_ns);
        let scenario = judge::scenario_of(
            self.model_path,
            self.topology,
            &self.judge,
            run,
            faults,
            seed,
        );
        self.studies.fetch_add(1, Ordering::Relaxed);
        judge::judge(&scenario)
    }

    /// Draws and studies schedule `index`; a failure's faults are studied alone too.
    pub fn trial(&self, index: u64) -> Trial {
        let schedule = draw::draw(self.topology, &self.entries, self.options, index);
        let seed = self.options.seed;
        let outcome = self.outcome(schedule.faults.clone(), seed);
        let singles: Vec<Outcome> = if outcome.pass {
            Vec::new()
        } else {
            schedule
                .faults
                .iter()
                .map(|f| self.outcome(vec![f.clone()], seed))
                .collect()
        };
        let class = classify(&outcome, &singles, self.options.amplification);
        Trial {
            index,
            schedule,
            outcome,
            singles,
            class,
        }
    }

    /// Trials `range` in parallel, in index order whatever the thread count; `tick` is called
    /// after each (for a progress bar).
    pub fn search(
        &self,
        range: std::ops::Range<u64>,
        tick: &(dyn Fn(&Trial) + Sync),
    ) -> Vec<Trial> {
        range
            .into_par_iter()
            .map(|i| {
                let trial = self.trial(i);
                tick(&trial);
                trial
            })
            .collect()
    }

    /// The interesting failures, one per set of catalogue faults (the most severe), most
    /// severe first, at most `max_findings`.
    pub fn findings<'t>(&self, trials: &'t [Trial]) -> Vec<&'t Trial> {
        let mut kept: Vec<&Trial> = Vec::new();
        for trial in trials {
            if !matches!(trial.class, Class::Interaction | Class::Amplification) {
                continue;
            }
            let key = sorted(&trial.schedule.entries);
            match kept.iter().position(|k| sorted(&k.schedule.entries) == key) {
                Some(i) if kept[i].outcome.net_share >= trial.outcome.net_share => {}
                Some(i) => kept[i] = trial,
                None => kept.push(trial),
            }
        }
        kept.sort_by(|a, b| {
            b.outcome
                .net_share
                .total_cmp(&a.outcome.net_share)
                .then(a.index.cmp(&b.index))
        });
        kept
    }

    /// Shrinks every finding (in parallel, collected in order) to its minimal schedule.
    pub fn shrink_all(&self, findings: &[&Trial], tick: &(dyn Fn() + Sync)) -> Vec<Shrunk> {
        findings
            .par_iter()
            .map(|trial| {
                let shrunk = shrink::shrink(self, trial);
                tick();
                shrunk
            })
            .collect()
    }
}

fn sorted(entries: &[usize]) -> Vec<usize> {
    let mut out = entries.to_vec();
    out.sort_unstable();
    out
}

/// What the search covered, for the report (and for a clean bill of health to mean something).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Coverage {
    pub schedules: u64,
    /// Schedules by number of faults: `[(2, n), (3, m)]`.
    pub by_size: Vec<(usize, u64)>,
    pub catalogue: usize,
    /// Catalogue faults that appeared in at least one schedule.
    pub faults_tried: usize,
    /// Distinct pairs of catalogue faults that appeared together, of all possible pairs.
    pub pairs_tried: usize,
    pub pairs_possible: usize,
    /// Of those pairs, how many were active at the same time in some schedule.
    pub pairs_overlapping: usize,
    pub failed: u64,
    pub interactions: u64,
    pub amplifications: u64,
    /// Failures that one of their faults explains alone.
    pub explained: u64,
}

/// What `trials` covered of the catalogue.
pub fn coverage(entries: &[Entry], trials: &[Trial]) -> Coverage {
    let n = entries.len();
    let mut tried = vec![false; n];
    let mut pairs = vec![0u8; n * n];
    let mut by_size: std::collections::BTreeMap<usize, u64> = Default::default();
    let mut out = Coverage {
        schedules: trials.len() as u64,
        catalogue: n,
        pairs_possible: n * n.saturating_sub(1) / 2,
        ..Coverage::default()
    };
    for trial in trials {
        let s = &trial.schedule;
        *by_size.entry(s.faults.len()).or_default() += 1;
        for (i, &a) in s.entries.iter().enumerate() {
            tried[a] = true;
            for (j, &b) in s.entries.iter().enumerate().skip(i + 1) {
                let (lo, hi) = (a.min(b), a.max(b));
                let overlapping = overlap(&s.faults[i], &s.faults[j]);
                pairs[lo * n + hi] |= 1 | if overlapping { 2 } else { 0 };
            }
        }
        match trial.class {
            Class::Passed => {}
            Class::Interaction => out.interactions += 1,
            Class::Amplification => out.amplifications += 1,
            Class::Explained => out.explained += 1,
        }
        out.failed += u64::from(trial.class != Class::Passed);
    }
    out.by_size = by_size.into_iter().collect();
    out.faults_tried = tried.iter().filter(|&&t| t).count();
    out.pairs_tried = pairs.iter().filter(|&&p| p & 1 != 0).count();
    out.pairs_overlapping = pairs.iter().filter(|&&p| p & 2 != 0).count();
    out
}

/// Whether two faults act at the same time (an instantaneous flush counts over its refill).
pub(crate) fn overlap(a: &FaultSpec, b: &FaultSpec) -> bool {
    let end = |f: &FaultSpec| match (&f.kind, f.duration_ns) {
        (FaultKind::CacheFlush { refill_ns }, Some(0)) => f.start_ns + refill_ns,
        _ => f.end_ns(),
    };
    a.start_ns < end(b) && b.start_ns < end(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(pass: bool, net: f64) -> Outcome {
        Outcome {
            seed: 1,
            pass,
            net_share: net,
            failed: Vec::new(),
        }
    }

    #[test]
    fn a_failure_is_interesting_only_beyond_its_parts() {
        let parts_pass = [outcome(true, 0.01), outcome(true, 0.0)];
        assert_eq!(
            classify(&outcome(false, 0.02), &parts_pass, 1.5),
            Class::Interaction
        );
        let one_fails = [outcome(false, 0.02), outcome(true, 0.01)];
        assert_eq!(
            classify(&outcome(false, 0.10), &one_fails, 1.5),
            Class::Amplification
        );
        assert_eq!(
            classify(&outcome(false, 0.035), &one_fails, 1.5),
            Class::Explained,
            "0.035 is not 1.5 times the parts' 0.03"
        );
        assert_eq!(classify(&outcome(true, 0.5), &[], 1.5), Class::Passed);
    }
}
