//! Sweeps: many studies of one scenario over seeds and a parameter grid, each reduced to a
//! self-describing `UnitRecord`, and the exact aggregation of records into a `SweepSummary`.
//!
//! The unsharded path and `merge` of shard files go through the same code — records are
//! serialised, parsed back and aggregated in unit order — so their outputs are byte-identical
//! by construction. Histograms travel in HdrHistogram's portable V2 encoding and add exactly.

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

pub use super::merge::{MergeError, Merger, summarise};
use super::{NoBoundary, RecoveryStatus, Study};
use crate::metrics::Latency;
use crate::model::{Scenario, Window};

/// One unit of a sweep or an fma: one study (grid point or fault, seed), reduced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    pub tool: String,
    pub version: String,
    /// `sweep` or `fma`.
    pub study: String,
    /// Hashes of the inputs, so `merge` refuses records of different models or scenarios.
    pub model_hash: String,
    pub scenario_hash: String,
    pub scenario: String,
    pub units_total: u64,
    /// This unit's position in the enumeration (point-major, then seed).
    pub unit: u64,
    /// The grid point: `(parameter path, value)` in grid order; for fma, `[("fault", label)]`.
    pub point: Vec<(String, String)>,
    pub seed: u64,
    /// `null` when the run completed, else the bound it reached.
    pub stopped_at_bound: Option<String>,
    pub passed: bool,
    pub hypotheses: Vec<bool>,
    pub blast: Option<BlastSummary>,
    /// The experiment's attempts per user request after the faults (`null` without an
    /// `after` window): a retry storm keeps it high once the trigger is gone.
    pub attempts_per_request_after: Option<f64>,
    pub workloads: Vec<WorkloadUnit>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlastSummary {
    pub paired: u64,
    pub hurt: u64,
    pub helped: u64,
    pub net_share: f64,
    pub significant: bool,
    /// `null` when no fault has an isolation boundary; else whether every such fault's harm
    /// stayed inside it.
    pub contained: Option<bool>,
    /// When `contained` is `null`: why the first fault has no boundary (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_boundary: Option<NoBoundary>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadUnit {
    pub name: String,
    /// Experiment values in the during window (the whole run without faults); `null` if
    /// undefined there.
    pub availability: Option<f64>,
    pub p99_ns: Option<f64>,
    /// Control values in the same window, for deviations.
    pub control_availability: Option<f64>,
    pub control_p99_ns: Option<f64>,
    /// Share of paired requests hurt (net of chance); `null` without faults.
    pub hurt_net_share: Option<f64>,
    /// `null` when not applicable (no faults, or faults until the end).
    pub recovered: Option<bool>,
    /// Recovered, but later than the faults acted (`null` when not applicable).
    pub slow: Option<bool>,
    pub recovery_ns: Option<u64>,
    /// Latency of the experiment's answered requests during and after the faults, V2 deflate
    /// encoded in base64.
    pub latency: String,
}

/// Reduces a study to its record.
pub fn record(
    study_kind: &str,
    scenario: &Scenario,
    study: &Study,
    hashes: (&str, &str),
    unit: u64,
    units_total: u64,
    point: Vec<(String, String)>,
) -> UnitRecord {
    let analysis = &study.analysis;
    let span = analysis
        .windows
        .iter()
        .find(|s| s.window == Window::During && s.length_ns() > 0)
        .or(analysis.windows.first())
        .copied();
    let workloads = scenario
        .topology
        .workloads
        .iter()
        .enumerate()
        .map(|(w, workload)| {
            let paired = span
                .map(|s| *analysis.values.workload(w, s.window))
                .unwrap_or_default();
            let (c, e) = (paired.control, paired.experiment);
            let recovery = &analysis.recovery[w].status;
            WorkloadUnit {
                name: workload.name.clone(),
                availability: e.get(crate::model::Metric::Availability),
                p99_ns: e.get(crate::model::Metric::P99),
                control_availability: c.get(crate::model::Metric::Availability),
                control_p99_ns: c.get(crate::model::Metric::P99),
                hurt_net_share: analysis.blast_radius.as_ref().map(|b| {
                    let harm = &b.workloads[w];
                    (harm.hurt as f64 - harm.helped as f64) / harm.paired.max(1) as f64
                }),
                recovered: match recovery {
                    RecoveryStatus::Recovered { .. } => Some(true),
                    RecoveryStatus::NotRecovered => Some(false),
                    RecoveryStatus::NotApplicable => None,
                },
                slow: (*recovery != RecoveryStatus::NotApplicable)
                    .then(|| analysis.recovery[w].class == super::RecoveryClass::SlowToRecover),
                recovery_ns: match recovery {
                    RecoveryStatus::Recovered { after_ns } => Some(*after_ns),
                    _ => None,
                },
                latency: encode(&disturbed_latency(&study.experiment.workloads[w])),
            }
        })
        .collect();
    UnitRecord {
        tool: "blastradius".to_string(),
        version: crate::VERSION.to_string(),
        study: study_kind.to_string(),
        model_hash: hashes.0.to_string(),
        scenario_hash: hashes.1.to_string(),
        scenario: scenario.name.clone(),
        units_total,
        unit,
        point,
        seed: scenario.seed,
        stopped_at_bound: match study.experiment.outcome {
            crate::sim::RunOutcome::Completed => None,
            crate::sim::RunOutcome::BoundReached { bound, .. } => Some(bound.as_str().to_string()),
        },
        passed: analysis.verdict == super::Verdict::Passed,
        hypotheses: analysis.hypotheses.iter().map(|h| h.pass).collect(),
        blast: analysis.blast_radius.as_ref().map(|b| BlastSummary {
            paired: b.paired,
            hurt: b.hurt,
            helped: b.helped,
            net_share: b.net_share,
            significant: b.significant,
            contained: (!b.containment.is_empty())
                .then(|| b.containment.iter().all(|c| c.contained)),
            no_boundary: b
                .containment
                .is_empty()
                .then(|| super::boundary(scenario, &study.plan, 0).err())
                .flatten(),
        }),
        attempts_per_request_after: analysis
            .amplification
            .iter()
            .find(|a| a.window == Window::After.as_str())
            .and_then(|a| a.experiment),
        workloads,
    }
}

/// The latency of the windows that show the faults (during and after), or of the whole run.
fn disturbed_latency(metrics: &crate::metrics::EndpointMetrics) -> Latency {
    if metrics.windows.is_empty() {
        return metrics.latency.clone();
    }
    let mut latency = Latency::new();
    for stats in metrics.windows.iter().skip(1) {
        latency.merge(&stats.latency);
    }
    latency
}

pub(super) fn encode(latency: &Latency) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(&*latency.histogram(), &mut bytes)
        .expect("serialising a histogram into memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The deflated V2 bytes of a record's histogram, from its base64.
pub(super) fn unpack(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("latency histogram is not base64: {e}"))
}

/// A histogram from its deflated V2 bytes.
pub(super) fn decode_bytes(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("latency histogram does not decode: {e:?}"))
}

#[cfg(test)]
fn decode(text: &str) -> Result<Histogram<u64>, String> {
    decode_bytes(&unpack(text)?)
}

/// A mean with its 95% confidence interval (Student's t over the runs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub n: u64,
    pub mean: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
}

impl Estimate {
    /// `None` without values. Summed in the given order, so the result is deterministic.
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let half = if n < 2 {
            0.0
        } else {
            let variance =
                values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
            let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
                .expect("degrees of freedom are positive")
                .inverse_cdf(0.975);
            t * (variance / n as f64).sqrt()
        };
        Some(Estimate {
            n: n as u64,
            mean,
            ci95_low: mean - half,
            ci95_high: mean + half,
        })
    }
}

/// Everything a sweep or an fma reports.
#[derive(Clone, Debug, Serialize)]
pub struct SweepSummary {
    pub tool: &'static str,
    pub version: String,
    pub study: String,
    pub scenario: String,
    pub model_hash: String,
    pub scenario_hash: String,
    pub units: u64,
    /// Parameter paths of the grid, in order.
    pub parameters: Vec<String>,
    pub points: Vec<PointSummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PointSummary {
    pub point: Vec<(String, String)>,
    pub runs: u64,
    /// Runs stopped at a bound.
    pub stopped_early: u64,
    /// Share of runs where every hypothesis held.
    pub pass_rate: f64,
    /// Per hypothesis, in scenario order.
    pub hypothesis_pass_rates: Vec<f64>,
    /// Net share of paired user requests hurt; `null` without faults.
    pub blast_net_share: Option<Estimate>,
    /// The distribution of that share over the runs: min, median, p90, max.
    pub blast_distribution: Option<[f64; 4]>,
    /// Share of runs with every fault that has an isolation boundary contained (`null` if no
    /// run had one).
    pub contained_rate: Option<f64>,
    /// Without a `contained_rate`: why the first run's first fault has no boundary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_boundary: Option<NoBoundary>,
    /// The experiment's attempts per user request after the faults.
    pub attempts_per_request_after: Option<Estimate>,
    pub workloads: IndexMap<String, WorkloadSummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkloadSummary {
    pub availability: Option<Estimate>,
    pub availability_change: Option<Estimate>,
    pub p99_ns: Option<Estimate>,
    pub p99_change_ns: Option<Estimate>,
    pub hurt_net_share: Option<Estimate>,
    /// Share of runs back in the control's band by the end (`null` if not applicable).
    pub recovered_rate: Option<f64>,
    /// Share of runs that recovered, but later than the faults acted.
    pub slow_rate: Option<f64>,
    pub recovery_ns: Option<Estimate>,
    /// From the merged histograms of every run (exact: counts add).
    pub latency_p50_ns: u64,
    pub latency_p99_ns: u64,
}

/// FNV-1a over text, as 16 hex digits: an identity for inputs, not a security measure.
pub fn text_hash(text: &str) -> String {
    format!("{:016x}", crate::kernel::stable_id("text", text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_matches_a_hand_computation() {
        // Values 1..=5: mean 3, s = 1.5811, t(0.975, 4) = 2.7764, half-width = 1.9632.
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert!((e.mean - 3.0).abs() < 1e-12);
        assert!((e.ci95_high - 3.0 - 1.9632).abs() < 1e-3, "{e:?}");
        assert!(Estimate::of(&[]).is_none());
        assert_eq!(Estimate::of(&[2.0]).unwrap().ci95_low, 2.0);
    }

    #[test]
    fn histograms_round_trip_exactly() {
        let mut latency = Latency::new();
        for ns in [1_000u64, 5_000_000, 123_456_789] {
            latency.record(ns);
        }
        let back = decode(&encode(&latency)).unwrap();
        assert_eq!(&back, &*latency.histogram());
    }
}
