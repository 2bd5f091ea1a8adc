//! Unit records folded into a `SweepSummary` one at a time, as `merge` reads a shard line by
//! line: of each record only what the summary needs is kept — its numbers, a hundred-odd bytes
//! a unit — and each point's latency histograms are added up as they come, held compressed
//! until a point has more of them than one decoded histogram weighs. The identity every record
//! repeats is checked against the first record's and dropped.
//!
//! Exact: a point's values are summed in unit order at the end, as they always were, and
//! histogram counts add the same in any order, so the summary is the one the records give
//! however they are split into shards and in whatever order the shards come. No IO.

use hdrhistogram::Histogram;
use indexmap::IndexMap;

use super::NoBoundary;
use super::sweep::{
    Estimate, PointSummary, SweepSummary, UnitRecord, WorkloadSummary, decode_bytes, unpack,
};
use crate::metrics::Latency;

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
pub fn summarise(records: Vec<UnitRecord>) -> Result<SweepSummary, MergeError> {
    let mut merger = Merger::default();
    for record in records {
        merger.add(record)?;
    }
    merger.finish()
}

/// Compressed histograms a point holds before they are decoded and added up: above the
/// ~37 KiB of one decoded histogram (4,608 counts at two significant figures up to an hour),
/// so a point with few runs keeps a few compressed ones and a point with many keeps one sum.
const FOLD_AT_BYTES: usize = 64 * 1024;

/// Records folded so far. `add` them in any order, then `finish`.
#[derive(Default)]
pub struct Merger {
    /// The first record's identity, which every other must share.
    header: Option<Header>,
    /// Points by value, in order of first appearance.
    points: IndexMap<Vec<(String, String)>, PointFold>,
    /// One per record added, in the order added.
    units: Vec<UnitDigest>,
}

/// What every record of one merge repeats.
struct Header {
    version: String,
    study: String,
    model_hash: String,
    scenario_hash: String,
    scenario: String,
    units_total: u64,
    /// The grid's parameter paths, from the first record's point.
    parameters: Vec<String>,
}

/// What the summary needs of one record beyond its histograms.
struct UnitDigest {
    unit: u64,
    /// Index into `Merger::points`.
    point: usize,
    stopped: bool,
    passed: bool,
    hypotheses: Box<[bool]>,
    blast: Option<BlastDigest>,
    attempts_per_request_after: Option<f64>,
    workloads: Box<[WorkloadDigest]>,
}

#[derive(Clone, Copy)]
struct BlastDigest {
    net_share: f64,
    contained: Option<bool>,
    no_boundary: Option<NoBoundary>,
}

/// A workload's numbers in one record (`WorkloadUnit` without its name and histogram).
struct WorkloadDigest {
    availability: Option<f64>,
    p99_ns: Option<f64>,
    control_availability: Option<f64>,
    control_p99_ns: Option<f64>,
    hurt_net_share: Option<f64>,
    recovered: Option<bool>,
    slow: Option<bool>,
    recovery_ns: Option<u64>,
}

/// One point's workload names and latency, folded.
struct PointFold {
    /// The lowest unit added: its record names the point's workloads, as a point's first run
    /// always did.
    first_unit: u64,
    workload_names: Vec<String>,
    /// Per workload index.
    latency: Vec<LatencyFold>,
}

/// One workload's latency over a point's runs: a sum of decoded histograms and the
/// compressed ones not added yet.
#[derive(Default)]
struct LatencyFold {
    merged: Option<Histogram<u64>>,
    /// `(unit, deflated V2 bytes)`.
    pending: Vec<(u64, Vec<u8>)>,
    pending_bytes: usize,
}

impl Merger {
    /// Checks a record against the first one and folds it in.
    pub fn add(&mut self, record: UnitRecord) -> Result<(), MergeError> {
        let header = self.header.get_or_insert_with(|| Header::of(&record));
        header.check(&record)?;
        let UnitRecord {
            unit,
            point,
            stopped_at_bound,
            passed,
            hypotheses,
            blast,
            attempts_per_request_after,
            workloads,
            ..
        } = record;
        let entry = self.points.entry(point);
        let index = entry.index();
        let fold = entry.or_insert_with(|| PointFold {
            first_unit: u64::MAX,
            workload_names: Vec::new(),
            latency: Vec::new(),
        });
        if unit < fold.first_unit {
            fold.first_unit = unit;
            fold.workload_names = workloads.iter().map(|w| w.name.clone()).collect();
        }
        if fold.latency.len() < workloads.len() {
            fold.latency
                .resize_with(workloads.len(), LatencyFold::default);
        }
        let mut digests = Vec::with_capacity(workloads.len());
        for (w, workload) in workloads.into_iter().enumerate() {
            let bytes = unpack(&workload.latency).map_err(|message| corrupt(unit, message))?;
            fold.latency[w].push(unit, bytes)?;
            digests.push(WorkloadDigest::of(&workload));
        }
        self.units.push(UnitDigest {
            unit,
            point: index,
            stopped: stopped_at_bound.is_some(),
            passed,
            hypotheses: hypotheses.into_boxed_slice(),
            blast: blast.map(|b| BlastDigest {
                net_share: b.net_share,
                contained: b.contained,
                no_boundary: b.no_boundary,
            }),
            attempts_per_request_after,
            workloads: digests.into_boxed_slice(),
        });
        Ok(())
    }

    /// The summary of every record added: each unit exactly once, none missing.
    pub fn finish(self) -> Result<SweepSummary, MergeError> {
        let header = self.header.ok_or(MergeError::Empty)?;
        let mut units = self.units;
        units.sort_by_key(|u| u.unit);
        if let Some(pair) = units.windows(2).find(|w| w[0].unit == w[1].unit) {
            return Err(MergeError::Duplicate(pair[0].unit));
        }
        check_complete(&units, header.units_total)?;
        let mut runs: Vec<Vec<&UnitDigest>> = (0..self.points.len()).map(|_| Vec::new()).collect();
        for digest in &units {
            runs[digest.point].push(digest);
        }
        // Points in the order of their first unit, as the enumeration made them.
        let mut points: Vec<_> = self.points.into_iter().zip(runs).collect();
        points.sort_by_key(|((_, fold), _)| fold.first_unit);
        let points = points
            .into_iter()
            .map(|((point, fold), runs)| summarise_point(point, &runs, fold))
            .collect::<Result<_, _>>()?;
        Ok(SweepSummary {
            tool: "blastradius",
            version: header.version,
            study: header.study,
            scenario: header.scenario,
            model_hash: header.model_hash,
            scenario_hash: header.scenario_hash,
            units: header.units_total,
            parameters: header.parameters,
            points,
        })
    }
}

impl Header {
    fn of(record: &UnitRecord) -> Header {
        Header {
            version: record.version.clone(),
            study: record.study.clone(),
            model_hash: record.model_hash.clone(),
            scenario_hash: record.scenario_hash.clone(),
            scenario: record.scenario.clone(),
            units_total: record.units_total,
            parameters: record.point.iter().map(|(k, _)| k.clone()).collect(),
        }
    }

    /// The record is of the same tool version, study, model and scenario, and its unit is one
    /// of theirs.
    fn check(&self, r: &UnitRecord) -> Result<(), MergeError> {
        let fields = [
            ("tool version", &self.version, &r.version),
            ("study", &self.study, &r.study),
            ("model hash", &self.model_hash, &r.model_hash),
            ("scenario hash", &self.scenario_hash, &r.scenario_hash),
        ];
        for (what, first, other) in fields {
            if first != other {
                return Err(MergeError::Mismatch {
                    what,
                    first: first.clone(),
                    other: other.clone(),
                    unit: r.unit,
                });
            }
        }
        if r.units_total != self.units_total {
            return Err(MergeError::Mismatch {
                what: "unit count",
                first: self.units_total.to_string(),
                other: r.units_total.to_string(),
                unit: r.unit,
            });
        }
        if r.unit >= self.units_total {
            let message = format!("unit index beyond the {} units", self.units_total);
            return Err(corrupt(r.unit, message));
        }
        Ok(())
    }
}

impl WorkloadDigest {
    fn of(w: &super::sweep::WorkloadUnit) -> WorkloadDigest {
        WorkloadDigest {
            availability: w.availability,
            p99_ns: w.p99_ns,
            control_availability: w.control_availability,
            control_p99_ns: w.control_p99_ns,
            hurt_net_share: w.hurt_net_share,
            recovered: w.recovered,
            slow: w.slow,
            recovery_ns: w.recovery_ns,
        }
    }
}

impl LatencyFold {
    fn push(&mut self, unit: u64, bytes: Vec<u8>) -> Result<(), MergeError> {
        self.pending_bytes += bytes.len();
        self.pending.push((unit, bytes));
        if self.pending_bytes > FOLD_AT_BYTES {
            self.fold()?;
        }
        Ok(())
    }

    /// Decodes the pending histograms into the sum.
    fn fold(&mut self) -> Result<(), MergeError> {
        let merged = self.merged.get_or_insert_with(empty_histogram);
        for (unit, bytes) in self.pending.drain(..) {
            let histogram = decode_bytes(&bytes).map_err(|message| corrupt(unit, message))?;
            merged
                .add(&histogram)
                .map_err(|e| corrupt(unit, format!("{e:?}")))?;
        }
        self.pending_bytes = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<Histogram<u64>, MergeError> {
        self.fold()?;
        Ok(self.merged.unwrap_or_else(empty_histogram))
    }
}

fn empty_histogram() -> Histogram<u64> {
    Latency::new().histogram().into_owned()
}

fn corrupt(unit: u64, message: String) -> MergeError {
    MergeError::Corrupt { unit, message }
}

/// Every unit below `total` is present. Invariant: `units` sorted, distinct, below `total`.
fn check_complete(units: &[UnitDigest], total: u64) -> Result<(), MergeError> {
    let present = units.len() as u64;
    if present == total {
        return Ok(());
    }
    // The gaps, from the units present: never a list as long as `total` itself.
    let mut gaps = Vec::new();
    let mut next = 0;
    for u in units {
        if u.unit > next {
            gaps.push((next, u.unit - 1));
        }
        next = u.unit + 1;
    }
    if next < total {
        gaps.push((next, total - 1));
    }
    Err(MergeError::Missing {
        count: total - present,
        total,
        list: ranges(&gaps),
    })
}

/// `[(1, 3), (7, 7)]` -> `"1-3, 7"`.
fn ranges(gaps: &[(u64, u64)]) -> String {
    let parts: Vec<String> = gaps
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    parts.join(", ")
}

/// One point's runs, in unit order.
fn summarise_point(
    point: Vec<(String, String)>,
    runs: &[&UnitDigest],
    fold: PointFold,
) -> Result<PointSummary, MergeError> {
    let n = runs.len() as f64;
    let rate = |count: usize| count as f64 / n;
    let hypothesis_count = runs.first().map_or(0, |r| r.hypotheses.len());
    let blasts: Vec<BlastDigest> = runs.iter().filter_map(|r| r.blast).collect();
    let net: Vec<f64> = blasts.iter().map(|b| b.net_share).collect();
    let contained: Vec<bool> = blasts.iter().filter_map(|b| b.contained).collect();
    let mut workloads = IndexMap::new();
    let mut latency = fold.latency.into_iter();
    for (w, name) in fold.workload_names.into_iter().enumerate() {
        let units: Vec<&WorkloadDigest> = runs.iter().filter_map(|r| r.workloads.get(w)).collect();
        let merged = latency.next().unwrap_or_default().finish()?;
        workloads.insert(name, summarise_workload(&units, &merged));
    }
    Ok(PointSummary {
        point,
        runs: runs.len() as u64,
        stopped_early: runs.iter().filter(|r| r.stopped).count() as u64,
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

fn summarise_workload(units: &[&WorkloadDigest], merged: &Histogram<u64>) -> WorkloadSummary {
    let collect = |f: &dyn Fn(&WorkloadDigest) -> Option<f64>| -> Vec<f64> {
        units.iter().filter_map(|u| f(u)).collect()
    };
    let change = |e: Option<f64>, c: Option<f64>| e.zip(c).map(|(e, c)| e - c);
    let recovered: Vec<bool> = units.iter().filter_map(|u| u.recovered).collect();
    let slow: Vec<bool> = units.iter().filter_map(|u| u.slow).collect();
    let quantile = |q| {
        if merged.is_empty() {
            0
        } else {
            merged.value_at_quantile(q)
        }
    };
    WorkloadSummary {
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
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::sweep::{BlastSummary, WorkloadUnit, encode};

    #[test]
    fn ranges_compress_gaps() {
        assert_eq!(ranges(&[(1, 3), (7, 7), (9, 10)]), "1-3, 7, 9-10");
    }

    /// Unit `unit` of `points` x `seeds`: its workload answered `1 ms * (unit % 97 + 1)` and
    /// a spread of others, so every unit's histogram differs.
    fn record(unit: u64, points: u64, seeds: u64) -> (UnitRecord, Vec<u64>) {
        let mut latency = Latency::new();
        let values: Vec<u64> = (0..200)
            .map(|i| 1_000_000 * (unit % 97 + 1) + i * 7_919 * (unit + 1))
            .collect();
        for &ns in &values {
            latency.record(ns);
        }
        let share = (unit % 13) as f64 / 100.0;
        let record = UnitRecord {
            tool: "blastradius".into(),
            version: "test".into(),
            study: "sweep".into(),
            model_hash: "m".into(),
            scenario_hash: "s".into(),
            scenario: "fold".into(),
            units_total: points * seeds,
            unit,
            point: vec![("x".into(), (unit / seeds).to_string())],
            seed: unit % seeds,
            stopped_at_bound: None,
            passed: unit % 3 != 0,
            hypotheses: vec![unit % 3 != 0],
            blast: Some(BlastSummary {
                paired: 100,
                hurt: 10,
                helped: 1,
                net_share: share,
                significant: true,
                contained: Some(unit % 5 != 0),
                no_boundary: None,
            }),
            attempts_per_request_after: Some(1.0 + share),
            workloads: vec![WorkloadUnit {
                name: "w".into(),
                availability: Some(1.0 - share),
                p99_ns: Some(values[198] as f64),
                control_availability: Some(1.0),
                control_p99_ns: Some(1e6),
                hurt_net_share: Some(share),
                recovered: Some(unit % 7 != 0),
                slow: Some(false),
                recovery_ns: Some(unit * 1_000),
                latency: encode(&latency),
            }],
        };
        (record, values)
    }

    #[test]
    fn folding_is_exact_whatever_the_order() {
        // 3 points x 400 seeds: each point's ~300 KiB of compressed histograms is folded
        // several times on the way (FOLD_AT_BYTES), in two different orders.
        let (points, seeds) = (3, 400);
        let made: Vec<(UnitRecord, Vec<u64>)> = (0..points * seeds)
            .map(|u| record(u, points, seeds))
            .collect();
        let in_order = summarise(made.iter().map(|(r, _)| r.clone()).collect()).unwrap();
        let mut shuffled: Vec<UnitRecord> = made.iter().map(|(r, _)| r.clone()).collect();
        // Interleaved as shards write them, the last shard first.
        shuffled.sort_by_key(|r| (std::cmp::Reverse(r.unit % 7), r.unit));
        let reordered = summarise(shuffled).unwrap();
        let json = |s: &SweepSummary| serde_json::to_string(s).unwrap();
        assert_eq!(json(&in_order), json(&reordered));
        for (p, point) in in_order.points.iter().enumerate() {
            let mut all = Latency::new();
            for (_, values) in &made[p * seeds as usize..(p + 1) * seeds as usize] {
                for &ns in values {
                    all.record(ns);
                }
            }
            let w = &point.workloads["w"];
            assert_eq!(point.runs, seeds);
            assert_eq!(w.latency_p50_ns, all.histogram().value_at_quantile(0.5));
            assert_eq!(w.latency_p99_ns, all.histogram().value_at_quantile(0.99));
        }
    }

    #[test]
    fn a_merge_names_what_is_missing_duplicated_or_foreign() {
        let (a, _) = record(0, 1, 3);
        let (b, _) = record(2, 1, 3);
        let missing = summarise(vec![a.clone(), b.clone()]).unwrap_err();
        assert_eq!(missing.to_string(), "1 of 3 units are missing: 1");
        let duplicate = summarise(vec![a.clone(), b.clone(), a.clone()]).unwrap_err();
        assert_eq!(duplicate, MergeError::Duplicate(0));
        let foreign = UnitRecord {
            model_hash: "other".into(),
            ..b.clone()
        };
        let mismatch = summarise(vec![a.clone(), foreign]).unwrap_err();
        assert!(
            mismatch.to_string().contains("disagree on model hash"),
            "{mismatch}"
        );
        let beyond = UnitRecord { unit: 3, ..b };
        let corrupt = summarise(vec![a, beyond]).unwrap_err();
        assert!(
            corrupt.to_string().contains("beyond the 3 units"),
            "{corrupt}"
        );
        assert_eq!(summarise(Vec::new()).unwrap_err(), MergeError::Empty);
    }
}
