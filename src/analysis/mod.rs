//! Control vs experiment: windows, deviations, hypotheses, blast radius, recovery, verdict.
//!
//! Architecture invariant: `analysis` reads a scenario and two finished runs and computes; it
//! does no IO and runs nothing. Floats are summed in a fixed order and maps are ordered, so the
//! same runs give the same analysis.

mod amplification;
mod baseline;
mod blast;
pub mod explore;
pub mod findings;
pub mod fma;
mod hypothesis;
mod lockstep;
mod merge;
mod pairing;
pub mod queue;
mod recovery;
mod stability;
pub mod sweep;
pub(crate) mod values;

use serde::Serialize;

use crate::faults::FaultPlan;
use crate::model::{Scenario, Window};
use crate::sim::{RunOutcome, RunResult, Windows};

pub use amplification::{Amplification, attempts_per_request};
pub use baseline::{
    BASELINE_FORMAT, Baseline, Comparison, Headline, MetricChange, Quantity, RecoveryHeadline,
    Tolerance, WorkloadHeadline, compare, hypothesis_keys,
};
pub use blast::{BlastRadius, Containment, NoBoundary, NodeHarm, WorkloadHarm, boundary};
pub use findings::Findings;
pub use hypothesis::{HypothesisResult, WindowCheck};
pub use pairing::Pairing;
pub use recovery::{Recovery, RecoveryClass, RecoveryStatus};
pub use stability::{HEADROOM, StaticStability, ZoneLoss, static_stability};
pub use values::{Deviation, MetricValues, PairedValues, WindowValues, deviations};

/// The windows of a scenario's runs, from its resolved faults; `None` without faults.
pub fn windows_for(scenario: &Scenario, plan: &FaultPlan) -> Option<Windows> {
    let (start, end) = plan.active_span()?;
    let clamp = |t: u64| t.clamp(scenario.warmup_ns, scenario.duration_ns);
    Some(Windows {
        during_start_ns: clamp(start),
        after_start_ns: clamp(end).max(clamp(start)),
    })
}

/// One window's place in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct WindowSpan {
    pub window: Window,
    pub start_ns: u64,
    pub end_ns: u64,
}

impl WindowSpan {
    pub fn length_ns(&self) -> u64 {
        self.end_ns - self.start_ns
    }
}

/// The three windows of a run with faults (some may be empty), or the whole measured run as
/// one `before` window without faults.
pub fn spans(scenario: &Scenario, windows: Option<Windows>, end_ns: u64) -> Vec<WindowSpan> {
    let warmup = scenario.warmup_ns.min(end_ns);
    let Some(w) = windows else {
        return vec![WindowSpan {
            window: Window::Before,
            start_ns: warmup,
            end_ns,
        }];
    };
    let during = w.during_start_ns.min(end_ns);
    let after = w.after_start_ns.min(end_ns);
    vec![
        WindowSpan {
            window: Window::Before,
            start_ns: warmup,
            end_ns: during,
        },
        WindowSpan {
            window: Window::During,
            start_ns: during,
            end_ns: after,
        },
        WindowSpan {
            window: Window::After,
            start_ns: after,
            end_ns,
        },
    ]
}

/// The verdict of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every hypothesis held.
    Passed,
    /// At least one hypothesis failed.
    Failed,
}

/// Everything the report says beyond the two runs' raw numbers.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub windows: Vec<WindowSpan>,
    /// Every endpoint's values per window in both runs.
    #[serde(skip)]
    pub values: WindowValues,
    pub hypotheses: Vec<HypothesisResult>,
    pub blast_radius: Option<BlastRadius>,
    pub recovery: Vec<Recovery>,
    /// Attempts sent to nodes per user request, per window, in both runs.
    pub amplification: Vec<Amplification>,
    pub verdict: Verdict,
    /// A run that stopped at a bound: the numbers cover only part of the scenario.
    pub stopped_early: bool,
}

/// Analyses a scenario's control and experiment (the same run twice without faults), their
/// requests paired by `pairing` (see `lockstep::run_paired`, or `Pairing::of_records`).
pub fn analyse(
    scenario: &Scenario,
    plan: &FaultPlan,
    control: &RunResult,
    experiment: &RunResult,
    pairing: &Pairing,
) -> Analysis {
    let windows = windows_for(scenario, plan);
    let spans = spans(scenario, windows, experiment.end_ns);
    let disturbed_ns = plan
        .active_span()
        .map_or(0, |(start, end)| end.saturating_sub(start));
    let recovery = recovery::assess(
        scenario,
        plan.faults_end(),
        disturbed_ns,
        control,
        experiment,
    );
    let amplification = amplification::measure(&spans, windows.is_some(), control, experiment);
    let values = WindowValues::measure(&spans, control, experiment);
    let hypotheses = hypothesis::evaluate(
        scenario,
        &spans,
        windows.is_some(),
        (control, experiment),
        &values,
        &recovery,
    );
    let blast_radius =
        windows.map(|_| blast::measure(scenario, plan, control, experiment, pairing));
    let verdict = if hypotheses.iter().all(|h| h.pass) {
        Verdict::Passed
    } else {
        Verdict::Failed
    };
    let stopped = |r: &RunResult| r.outcome != RunOutcome::Completed;
    Analysis {
        windows: spans,
        values,
        hypotheses,
        blast_radius,
        recovery,
        amplification,
        verdict,
        stopped_early: stopped(control) || stopped(experiment),
    }
}

/// A scenario's two runs and what they mean.
#[derive(Clone, Debug)]
pub struct Study {
    pub plan: FaultPlan,
    pub windows: Option<Windows>,
    pub control: RunResult,
    pub experiment: RunResult,
    pub analysis: Analysis,
}

impl Study {
    /// Whether faults acted in the experiment (there are windows around them); without, the
    /// two runs are one and the study is a baseline.
    pub fn with_faults(&self) -> bool {
        self.windows.is_some()
    }

    /// The study of two finished runs of `scenario`, their requests paired by `pairing`.
    fn of(
        scenario: &Scenario,
        plan: FaultPlan,
        windows: Option<Windows>,
        control: RunResult,
        experiment: RunResult,
        pairing: &Pairing,
    ) -> Study {
        let analysis = analyse(scenario, &plan, &control, &experiment, pairing);
        Study {
            plan,
            windows,
            control,
            experiment,
            analysis,
        }
    }
}

/// Runs a scenario's control and experiment — the same seed, without and with the faults —
/// side by side in lockstep, pairing their requests as they end (`lockstep.rs`), and analyses
/// them. Without faults the two runs would be identical, so the system is simulated once.
/// The runs keep no per-request records (`RunResult::requests` is empty).
pub fn study(scenario: &Scenario) -> Study {
    study_with(scenario, false)
}

/// `study`, keeping one `RequestRecord` per user request in both runs (memory grows with the
/// duration): for tests and tools that look at single requests. The analysis is the same.
pub fn study_recorded(scenario: &Scenario) -> Study {
    study_with(scenario, true)
}

/// A scenario's fault plan, windows and run configuration, as its study runs them: the one
/// place that sets up an experiment (`run --check-determinism` and `--trace` run it too).
pub fn prepare(scenario: &Scenario) -> (FaultPlan, Option<Windows>, crate::sim::RunConfig) {
    let plan = crate::faults::plan(
        &scenario.topology,
        &scenario.faults,
        scenario.seed,
        scenario.duration_ns,
    );
    let windows = windows_for(scenario, &plan);
    let config = crate::sim::RunConfig {
        windows,
        record_requests: windows.is_some(),
        ..crate::sim::RunConfig::of(scenario)
    };
    (plan, windows, config)
}

fn study_with(scenario: &Scenario, keep_records: bool) -> Study {
    let (plan, windows, config) = prepare(scenario);
    let topology = &scenario.topology;
    let (control, experiment, pairing) = if plan.is_empty() {
        let control = crate::sim::run(topology, &config);
        (control.clone(), control, Pairing::new(scenario))
    } else if keep_records {
        let (control, experiment) = rayon::join(
            || crate::sim::run(topology, &config),
            || crate::sim::run_with_faults(topology, &config, &plan),
        );
        let pairing = Pairing::of_records(scenario, &control, &experiment);
        (control, experiment, pairing)
    } else {
        lockstep::run_paired(scenario, &plan, &config)
    };
    Study::of(scenario, plan, windows, control, experiment, &pairing)
}

/// The studies of many scenarios, in input order, with one control per system: scenarios of
/// the same model, seed, duration, warm-up, limits and windows — differing in their faults
/// (and hypotheses) only, as fma's candidates do — are run as one control and every
/// experiment in lockstep against it (`lockstep::run_shared`). Each study is the one `study`
/// gives, but for where a memory bound trips (the shared control answers for itself and
/// the largest pairing).
pub fn study_against(scenarios: &[Scenario]) -> Vec<Study> {
    use rayon::prelude::*;
    let prepared: Vec<_> = scenarios.iter().map(prepare).collect();
    let systems: Vec<String> = scenarios
        .iter()
        .map(|s| format!("{:?}", s.topology))
        .collect();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in 0..scenarios.len() {
        let joins = |g: &Vec<usize>| {
            let j = g[0];
            !prepared[i].0.is_empty()
                && !prepared[j].0.is_empty()
                && prepared[i].2 == prepared[j].2
                && systems[i] == systems[j]
        };
        match groups.iter_mut().find(|g| joins(g)) {
            Some(group) => group.push(i),
            None => groups.push(vec![i]),
        }
    }
    let mut studies: Vec<(usize, Study)> = groups
        .par_iter()
        .flat_map_iter(|group| match group.as_slice() {
            [one] => vec![(*one, study(&scenarios[*one]))],
            _ => {
                let members: Vec<&Scenario> = group.iter().map(|&i| &scenarios[i]).collect();
                let plans: Vec<&FaultPlan> = group.iter().map(|&i| &prepared[i].0).collect();
                let config = prepared[group[0]].2;
                let runs = lockstep::run_shared(&members, &plans, &config);
                group
                    .iter()
                    .zip(runs)
                    .map(|(&i, (control, experiment, pairing))| {
                        let (plan, windows, _) = prepare(&scenarios[i]);
                        let scenario = &scenarios[i];
                        let study =
                            Study::of(scenario, plan, windows, control, experiment, &pairing);
                        (i, study)
                    })
                    .collect()
            }
        })
        .collect();
    studies.sort_by_key(|(i, _)| *i);
    studies.into_iter().map(|(_, s)| s).collect()
}
