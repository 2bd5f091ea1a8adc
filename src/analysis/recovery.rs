//! Recovery: how long after the last fault stops acting the experiment is back within the
//! control's band, per workload (a cache flush stops acting at once; its refill is recovery). "Not recovered" at the end of the run flags a possible metastable
//! failure: the system stays degraded after its trigger is gone.
//!
//! The band comes from the control's own per-step time series over the measured run: per step,
//! the error rate must not exceed the control's 99th-percentile step by more than a margin, the
//! p99 latency must stay under 1.2 × the control's 99th-percentile step, and the completions
//! must stay above 0.8 × the control's 1st-percentile step. Recovery is the start of the first
//! step after which every step to the end of the run is in the band — ignoring *isolated*
//! steps out of it: a band at the control's 99th percentile, tested at hundreds of steps after
//! the faults, lets a few single steps out by chance (a run whose draws diverged from the
//! control's after the faults is as noisy as the control). A step out of the band counts when
//! a neighbouring step is out too, or when it is the first step after the faults (the tail of
//! the disturbance itself); two chance steps in a row have a probability of ~1e-4 per step.

use serde::Serialize;

use crate::metrics::Bucket;
use crate::model::Scenario;
use crate::sim::RunResult;

#[derive(Clone, Debug, Serialize)]
pub struct Recovery {
    pub workload: String,
    pub status: RecoveryStatus,
    pub class: RecoveryClass,
    /// Not recovered although the run went on for a while after the faults ended.
    pub possibly_metastable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RecoveryStatus {
    /// Back in the band this long after the last fault ended.
    Recovered { after_ns: u64 },
    /// Still out of the band at the end of the run.
    NotRecovered,
    /// No faults, or they last until the end of the run.
    NotApplicable,
}

/// How a workload came back, in the words of the metastability literature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryClass {
    Recovered,
    /// Recovered, but later than the disturbance lasted.
    SlowToRecover,
    NotRecovered,
    NotApplicable,
}

impl RecoveryClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RecoveryClass::Recovered => "recovered",
            RecoveryClass::SlowToRecover => "slow to recover",
            RecoveryClass::NotRecovered => "not recovered",
            RecoveryClass::NotApplicable => "not applicable",
        }
    }

    /// `disturbed_ns`: how long the faults acted; `step_ns`: the series' resolution.
    fn of(status: RecoveryStatus, disturbed_ns: u64, step_ns: u64) -> RecoveryClass {
        match status {
            RecoveryStatus::Recovered { after_ns } if after_ns > disturbed_ns.max(3 * step_ns) => {
                RecoveryClass::SlowToRecover
            }
            RecoveryStatus::Recovered { .. } => RecoveryClass::Recovered,
            RecoveryStatus::NotRecovered => RecoveryClass::NotRecovered,
            RecoveryStatus::NotApplicable => RecoveryClass::NotApplicable,
        }
    }
}

/// The control's band for one workload.
struct Band {
    max_error_rate: f64,
    max_p99_ns: f64,
    min_completed: f64,
}

/// Steps of the run long enough to judge: this many after the faults end, or "not recovered"
/// is not called a possible metastable failure.
const METASTABLE_MIN_STEPS: u64 = 10;

/// `faults_end_ns`: when the last fault stopped acting (`FaultPlan::faults_end`);
/// `disturbed_ns`: how long the faults acted (the length of `FaultPlan::active_span`).
pub fn assess(
    scenario: &Scenario,
    faults_end_ns: Option<u64>,
    disturbed_ns: u64,
    control: &RunResult,
    experiment: &RunResult,
) -> Vec<Recovery> {
    scenario
        .topology
        .workloads
        .iter()
        .enumerate()
        .map(|(w, workload)| {
            let status = match faults_end_ns {
                Some(faults_end) if faults_end.max(scenario.warmup_ns) < experiment.end_ns => {
                    status_of(
                        scenario,
                        faults_end.max(scenario.warmup_ns),
                        &control.workloads[w],
                        &experiment.workloads[w],
                        experiment.end_ns,
                    )
                }
                _ => RecoveryStatus::NotApplicable,
            };
            let step = control.workloads[w].series.step_ns();
            let after_steps =
                faults_end_ns.map_or(0, |w| experiment.end_ns.saturating_sub(w) / step);
            Recovery {
                workload: workload.name.clone(),
                status,
                class: RecoveryClass::of(status, disturbed_ns, step),
                possibly_metastable: status == RecoveryStatus::NotRecovered
                    && after_steps >= METASTABLE_MIN_STEPS,
            }
        })
        .collect()
}

fn status_of(
    scenario: &Scenario,
    faults_end_ns: u64,
    control: &crate::metrics::EndpointMetrics,
    experiment: &crate::metrics::EndpointMetrics,
    end_ns: u64,
) -> RecoveryStatus {
    let step = control.series.step_ns();
    let measured_from = scenario.warmup_ns.div_ceil(step) as usize;
    // A run stopped at a bound has fewer steps than the other; compare the steps both have.
    let full_steps = ((end_ns / step) as usize)
        .min(control.series.buckets().len())
        .min(experiment.series.buckets().len());
    let control_steps = &control.series.buckets()[measured_from.min(full_steps)..full_steps];
    let band = band_of(control_steps);
    let first = (faults_end_ns.div_ceil(step) as usize).min(full_steps);
    let steps = experiment.series.buckets();
    let out: Vec<bool> = (first..full_steps)
        .map(|i| !band.holds(&steps[i]))
        .collect();
    let last_out = last_sustained_out(&out).map(|i| first + i);
    match last_out {
        None => RecoveryStatus::Recovered {
            after_ns: (first as u64 * step).saturating_sub(faults_end_ns),
        },
        Some(i) if i + 1 == full_steps => RecoveryStatus::NotRecovered,
        Some(i) => RecoveryStatus::Recovered {
            after_ns: ((i as u64 + 1) * step).saturating_sub(faults_end_ns),
        },
    }
}

/// The last step out of the band that is not an isolated chance step: its neighbour is out
/// too, or it is the first step after the faults.
fn last_sustained_out(out: &[bool]) -> Option<usize> {
    let next_out = |i: usize| out.get(i + 1).copied().unwrap_or(false);
    (0..out.len())
        .rev()
        .find(|&i| out[i] && (i == 0 || out[i - 1] || next_out(i)))
}

fn band_of(steps: &[Bucket]) -> Band {
    let error_rates: Vec<f64> = steps.iter().map(error_rate).collect();
    let p99s: Vec<f64> = steps.iter().map(|b| b.p99_ns as f64).collect();
    let completed: Vec<f64> = steps.iter().map(|b| b.completed as f64).collect();
    Band {
        max_error_rate: quantile(&error_rates, 0.99) * 1.5 + 0.002,
        max_p99_ns: quantile(&p99s, 0.99) * 1.2,
        min_completed: quantile(&completed, 0.01) * 0.8,
    }
}

impl Band {
    fn holds(&self, step: &Bucket) -> bool {
        error_rate(step) <= self.max_error_rate
            && step.p99_ns as f64 <= self.max_p99_ns
            && step.completed as f64 >= self.min_completed
    }
}

fn error_rate(step: &Bucket) -> f64 {
    if step.completed == 0 {
        0.0
    } else {
        step.errors as f64 / step.completed as f64
    }
}

/// Nearest-rank quantile; 0 for an empty slice.
fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(completed: u64, errors: u64, p99_ns: u64) -> Bucket {
        Bucket {
            completed,
            errors,
            p99_ns,
        }
    }

    #[test]
    fn band_accepts_normal_steps_and_rejects_outliers() {
        let steps: Vec<Bucket> = (0..100)
            .map(|i| bucket(1000 + i % 7, i % 3, 10_000_000))
            .collect();
        let band = band_of(&steps);
        assert!(band.holds(&bucket(1000, 2, 10_000_000)));
        assert!(!band.holds(&bucket(1000, 100, 10_000_000)), "10% errors");
        assert!(!band.holds(&bucket(1000, 0, 50_000_000)), "p99 5x");
        assert!(
            !band.holds(&bucket(300, 0, 10_000_000)),
            "throughput collapsed"
        );
    }

    #[test]
    fn quantile_by_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.99), 99.0);
        assert_eq!(quantile(&values, 0.01), 1.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}

#[cfg(test)]
mod class_tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn slow_means_longer_than_the_disturbance_and_three_steps() {
        let recovered = |after_ns| RecoveryStatus::Recovered { after_ns };
        // A 30 s trigger, 1 s steps.
        assert_eq!(
            RecoveryClass::of(recovered(30 * S), 30 * S, S),
            RecoveryClass::Recovered
        );
        assert_eq!(
            RecoveryClass::of(recovered(31 * S), 30 * S, S),
            RecoveryClass::SlowToRecover
        );
        // An instantaneous trigger (a flush): slower than three steps is slow.
        assert_eq!(
            RecoveryClass::of(recovered(3 * S), 0, S),
            RecoveryClass::Recovered
        );
        assert_eq!(
            RecoveryClass::of(recovered(4 * S), 0, S),
            RecoveryClass::SlowToRecover
        );
        assert_eq!(
            RecoveryClass::of(RecoveryStatus::NotRecovered, 30 * S, S),
            RecoveryClass::NotRecovered
        );
    }

    #[test]
    fn isolated_steps_out_of_the_band_are_chance_not_a_late_recovery() {
        let steps = |pattern: &str| pattern.chars().map(|c| c == 'x').collect::<Vec<bool>>();
        // In the band from the start, one chance step late: recovered at once.
        assert_eq!(last_sustained_out(&steps("....x....")), None);
        // The disturbance's own tail right after the faults counts, even alone.
        assert_eq!(last_sustained_out(&steps("x.....x..")), Some(0));
        // Two steps in a row are not chance.
        assert_eq!(last_sustained_out(&steps("xx...xx.x.")), Some(6));
        // Still out at the end: the last step counts.
        assert_eq!(last_sustained_out(&steps("..x..xxxx")), Some(8));
        assert_eq!(last_sustained_out(&steps("")), None);
    }
}
