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
            let values = |metrics| {
                span.map(|s| super::values_in(metrics, &s))
                    .unwrap_or_default()
            };
            let (c, e) = (
                values(&study.control.workloads[w]),
                values(&study.experiment.workloads[w]),
            );
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

fn encode(latency: &Latency) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(&*latency.histogram(), &mut bytes)
        .expect("serialising a histogram into memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("latency histogram is not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("latency histogram does not decode: {e:?}"))
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

/// Why records cannot be merged.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("no records to merge")]
    Empty,
    #[error("records disagree on {what}: `{first}` and `{other}` (unit {unit})")]
    Mismatch {
        what: &'static str,
        first: String,
        other: String,
        unit: u64,
    },
    #[error("unit {0} appears more than once")]
    Duplicate(u64),
    #[error("{count} of {total} units are missing: {list}")]
    Missing {
        count: u64,
        total: u64,
        list: String,
    },
    #[error("unit {unit}: {message}")]
    Corrupt { unit: u64, message: String },
}

/// Merges records (any order, from any number of shards) into the summary.
pub fn summarise(mut records: Vec<UnitRecord>) -> Result<SweepSummary, MergeError> {
    let first = records.first().ok_or(MergeError::Empty)?.clone();
    for r in &records {
        let fields = [
            ("tool version", &first.version, &r.version),
            ("study", &first.study, &r.study),
            ("model hash", &first.model_hash, &r.model_hash),
            ("scenario hash", &first.scenario_hash, &r.scenario_hash),
        ];
        for (what, a, b) in fields {
            if a != b {
                return Err(MergeError::Mismatch {
                    what,
                    first: a.clone(),
                    other: b.clone(),
                    unit: r.unit,
                });
            }
        }
        if r.units_total != first.units_total {
            let (first, other) = (first.units_total.to_string(), r.units_total.to_string());
            return Err(MergeError::Mismatch {
                what: "unit count",
                first,
                other,
                unit: r.unit,
            });
        }
    }
    records.sort_by_key(|r| r.unit);
    if let Some(pair) = records.windows(2).find(|w| w[0].unit == w[1].unit) {
        return Err(MergeError::Duplicate(pair[0].unit));
    }
    check_complete(&records, first.units_total)?;
    let parameters = first.point.iter().map(|(k, _)| k.clone()).collect();
    let mut points: Vec<PointSummary> = Vec::new();
    let mut start = 0;
    while start < records.len() {
        let end = start
            + records[start..]
                .iter()
                .take_while(|r| r.point == records[start].point)
                .count();
        points.push(summarise_point(&records[start..end])?);
        start = end;
    }
    Ok(SweepSummary {
        tool: "blastradius",
        version: first.version,
        study: first.study,
        scenario: first.scenario,
        model_hash: first.model_hash,
        scenario_hash: first.scenario_hash,
        units: first.units_total,
        parameters,
        points,
    })
}

fn check_complete(records: &[UnitRecord], total: u64) -> Result<(), MergeError> {
    let mut present = vec![false; total as usize];
    for r in records {
        match present.get_mut(r.unit as usize) {
            Some(slot) => *slot = true,
            None => {
                let message = format!("unit index beyond the {total} units");
                return Err(MergeError::Corrupt {
                    unit: r.unit,
                    message,
                });
            }
        }
    }
    let missing: Vec<u64> = (0..total).filter(|&u| !present[u as usize]).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(MergeError::Missing {
        count: missing.len() as u64,
        total,
        list: ranges(&missing),
    })
}

/// `[1, 2, 3, 7]` -> `"1-3, 7"`.
fn ranges(units: &[u64]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < units.len() {
        let mut j = i;
        while j + 1 < units.len() && units[j + 1] == units[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            units[i].to_string()
        } else {
            format!("{}-{}", units[i], units[j])
        });
        i = j + 1;
    }
    parts.join(", ")
}

fn summarise_point(runs: &[UnitRecord]) -> Result<PointSummary, MergeError> {
    let n = runs.len() as f64;
    let rate = |count: usize| count as f64 / n;
    let hypothesis_count = runs[0].hypotheses.len();
    let blasts: Vec<&BlastSummary> = runs.iter().filter_map(|r| r.blast.as_ref()).collect();
    let net: Vec<f64> = blasts.iter().map(|b| b.net_share).collect();
    let contained: Vec<bool> = blasts.iter().filter_map(|b| b.contained).collect();
    let mut workloads = IndexMap::new();
    for (w, workload) in runs[0].workloads.iter().enumerate() {
        let units: Vec<&WorkloadUnit> = runs.iter().filter_map(|r| r.workloads.get(w)).collect();
        workloads.insert(workload.name.clone(), summarise_workload(runs, &units)?);
    }
    Ok(PointSummary {
        point: runs[0].point.clone(),
        runs: runs.len() as u64,
        stopped_early: runs.iter().filter(|r| r.stopped_at_bound.is_some()).count() as u64,
        pass_rate: rate(runs.iter().filter(|r| r.passed).count()),
        hypothesis_pass_rates: (0..hypothesis_count)
            .map(|h| {
                rate(
                    runs.iter()
                        .filter(|r| r.hypotheses.get(h) == Some(&true))
                        .count(),
                )
            })
            .collect(),
        blast_net_share: Estimate::of(&net),
        blast_distribution: distribution(&net),
        contained_rate: (!contained.is_empty())
            .then(|| contained.iter().filter(|&&c| c).count() as f64 / contained.len() as f64),
        no_boundary: contained
            .is_empty()
            .then(|| blasts.iter().find_map(|b| b.no_boundary))
            .flatten(),
        attempts_per_request_after: Estimate::of(
            &runs
                .iter()
                .filter_map(|r| r.attempts_per_request_after)
                .collect::<Vec<_>>(),
        ),
        workloads,
    })
}

fn summarise_workload(
    runs: &[UnitRecord],
    units: &[&WorkloadUnit],
) -> Result<WorkloadSummary, MergeError> {
    let collect = |f: &dyn Fn(&WorkloadUnit) -> Option<f64>| -> Vec<f64> {
        units.iter().filter_map(|u| f(u)).collect()
    };
    let change = |e: Option<f64>, c: Option<f64>| e.zip(c).map(|(e, c)| e - c);
    let mut merged = Latency::new().histogram().into_owned();
    for (unit, run) in units.iter().zip(runs) {
        let histogram = decode(&unit.latency).map_err(|message| MergeError::Corrupt {
            unit: run.unit,
            message,
        })?;
        merged.add(&histogram).map_err(|e| MergeError::Corrupt {
            unit: run.unit,
            message: format!("{e:?}"),
        })?;
    }
    let recovered: Vec<bool> = units.iter().filter_map(|u| u.recovered).collect();
    let slow: Vec<bool> = units.iter().filter_map(|u| u.slow).collect();
    let quantile = |q| {
        if merged.is_empty() {
            0
        } else {
            merged.value_at_quantile(q)
        }
    };
    Ok(WorkloadSummary {
        availability: Estimate::of(&collect(&|u| u.availability)),
        availability_change: Estimate::of(&collect(&|u| {
            change(u.availability, u.control_availability)
        })),
        p99_ns: Estimate::of(&collect(&|u| u.p99_ns)),
        p99_change_ns: Estimate::of(&collect(&|u| change(u.p99_ns, u.control_p99_ns))),
        hurt_net_share: Estimate::of(&collect(&|u| u.hurt_net_share)),
        recovered_rate: (!recovered.is_empty())
            .then(|| recovered.iter().filter(|&&r| r).count() as f64 / recovered.len() as f64),
        slow_rate: (!slow.is_empty())
            .then(|| slow.iter().filter(|&&s| s).count() as f64 / slow.len() as f64),
        recovery_ns: Estimate::of(&collect(&|u| u.recovery_ns.map(|ns| ns as f64))),
        latency_p50_ns: quantile(0.5),
        latency_p99_ns: quantile(0.99),
    })
}

/// Min, median, p90 and max by nearest rank; `None` without values.
fn distribution(values: &[f64]) -> Option<[f64; 4]> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at =
        |q: f64| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    Some([sorted[0], at(0.5), at(0.9), sorted[sorted.len() - 1]])
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
    fn ranges_compress_runs() {
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
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
