//! Baselines: a scenario's headline results, recorded in a committed file and compared with a
//! new run, so a model change that widens a blast radius or worsens a deviation fails CI.
//!
//! This module computes headlines and compares them; it does no IO (the `cli` reads and writes
//! the file). The file's shape is stable: scenarios sorted by key, workloads in model order,
//! windows in time order, numbers rounded to six decimals so a rerun writes the same bytes.
//!
//! What is compared, per scenario: the blast radius's net share of paired user requests hurt;
//! per workload, its net hurt share, the experiment's availability and p99 in the `during` and
//! `after` windows (the whole measured `run` without faults) and its recovery time. Shares are
//! compared with an absolute tolerance, durations with a relative one. The experiment's values
//! are compared, not their change from the control: a model that got worse in steady state got
//! worse under the fault too. The hypotheses that failed are recorded as well, so a failure
//! already in the baseline is *known* and only a new one fails the gate.

use std::collections::BTreeMap;
use std::fmt;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::{RecoveryStatus, Study};
use crate::kernel::time::format_duration_ns;
use crate::model::{Metric, Scenario, Window};

/// The version of the file format, written at the top of the file.
pub const BASELINE_FORMAT: u32 = 1;

/// A baseline file. Invariant: keys are `/`-separated paths of scenario files relative to the
/// baseline file's directory (a `BTreeMap`, so the file lists them sorted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub format: u32,
    pub scenarios: BTreeMap<String, Headline>,
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline {
            format: BASELINE_FORMAT,
            scenarios: BTreeMap::new(),
        }
    }
}

impl Baseline {
    /// Parses a baseline file's text.
    pub fn from_json(text: &str) -> Result<Baseline, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The file's text: pretty JSON with a final newline, the same bytes for the same results.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a baseline serialises");
        text.push('\n');
        text
    }
}

/// The headline results of one scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    pub name: String,
    pub seed: u64,
    /// (hurt - helped) / paired over all workloads; `null` without faults.
    #[serde(default)]
    pub blast_radius_net_share: Option<f64>,
    /// In model order.
    pub workloads: IndexMap<String, WorkloadHeadline>,
    /// Hypotheses that failed, named by `hypothesis_keys`, in file order.
    #[serde(default)]
    pub failed_hypotheses: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadHeadline {
    /// (hurt - helped) / paired for this workload; `null` without faults.
    #[serde(default)]
    pub net_hurt_share: Option<f64>,
    /// The experiment's availability per window; windows where it is undefined are omitted.
    #[serde(default)]
    pub availability: IndexMap<String, f64>,
    /// The experiment's p99 per window, in nanoseconds.
    #[serde(default)]
    pub p99_ns: IndexMap<String, u64>,
    pub recovery: RecoveryHeadline,
}

/// A workload's recovery, as the baseline records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RecoveryHeadline {
    Recovered { after_ns: u64 },
    NotRecovered,
    NotApplicable,
}

impl Headline {
    /// The headline of a studied scenario.
    pub fn of(scenario: &Scenario, study: &Study) -> Headline {
        let analysis = &study.analysis;
        let spans: Vec<_> = analysis
            .windows
            .iter()
            .filter(|s| !study.with_faults() || s.window != Window::Before)
            .collect();
        let workloads = scenario
            .topology
            .workloads
            .iter()
            .enumerate()
            .map(|(w, workload)| {
                let mut availability = IndexMap::new();
                let mut p99_ns = IndexMap::new();
                for span in &spans {
                    let name = if study.with_faults() {
                        span.window.as_str()
                    } else {
                        "run"
                    };
                    let values = study.analysis.values.workload(w, span.window).experiment;
                    if span.length_ns() == 0 {
                        continue;
                    }
                    if let Some(a) = values.get(Metric::Availability) {
                        availability.insert(name.to_string(), round(a));
                    }
                    if let Some(p99) = values.get(Metric::P99) {
                        p99_ns.insert(name.to_string(), p99.round() as u64);
                    }
                }
                let net_hurt_share = analysis.blast_radius.as_ref().and_then(|b| {
                    let harm = b.workloads.get(&workload.name)?;
                    let net = (harm.hurt as f64 - harm.helped as f64) / harm.paired.max(1) as f64;
                    Some(round(net))
                });
                let recovery = match analysis.recovery[w].status {
                    RecoveryStatus::Recovered { after_ns } => {
                        RecoveryHeadline::Recovered { after_ns }
                    }
                    RecoveryStatus::NotRecovered => RecoveryHeadline::NotRecovered,
                    RecoveryStatus::NotApplicable => RecoveryHeadline::NotApplicable,
                };
                let headline = WorkloadHeadline {
                    net_hurt_share,
                    availability,
                    p99_ns,
                    recovery,
                };
                (workload.name.clone(), headline)
            })
            .collect();
        let keys = hypothesis_keys(
            analysis
                .hypotheses
                .iter()
                .map(|h| (h.workload.as_str(), h.metric)),
        );
        Headline {
            name: scenario.name.clone(),
            seed: scenario.seed,
            blast_radius_net_share: analysis.blast_radius.as_ref().map(|b| round(b.net_share)),
            workloads,
            failed_hypotheses: keys
                .into_iter()
                .zip(&analysis.hypotheses)
                .filter(|(_, h)| !h.pass)
                .map(|(key, _)| key)
                .collect(),
        }
    }
}

/// Names for hypotheses that survive edits that move lines: `workload metric`, with `#2`, `#3`
/// for a second and third hypothesis on the same workload and metric.
pub fn hypothesis_keys<'a>(hypotheses: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    hypotheses
        .map(|(workload, metric)| {
            let key = format!("{workload} {metric}");
            let count = seen.entry(key.clone()).or_default();
            *count += 1;
            if *count == 1 {
                key
            } else {
                format!("{key} #{count}")
            }
        })
        .collect()
}

/// Six decimals: enough for a share of a million requests, few enough to keep diffs quiet.
fn round(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// How much worse than the baseline a result may be before the gate fails.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Absolute, on shares in [0, 1] (net hurt shares, availability): 0.01 is one point.
    pub share: f64,
    /// Relative, on durations (p99, recovery time): 0.1 is 10%.
    pub duration: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            share: 0.01,
            duration: 0.10,
        }
    }
}

/// A value on either side of a comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Quantity {
    Share(f64),
    Duration(u64),
    NotRecovered,
    NotApplicable,
    /// Not measured in this run (an empty window, no answered request, a missing workload).
    Undefined,
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Quantity::Share(share) => write!(f, "{:.3}%", share * 100.0),
            Quantity::Duration(ns) => f.write_str(&format_duration_ns(ns)),
            Quantity::NotRecovered => f.write_str("not recovered"),
            Quantity::NotApplicable => f.write_str("not applicable"),
            Quantity::Undefined => f.write_str("undefined"),
        }
    }
}

/// One metric that moved beyond the tolerance.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricChange {
    /// What moved, e.g. `checkout availability (during)`.
    pub metric: String,
    pub baseline: Quantity,
    pub new: Quantity,
    /// The tolerance that applied, e.g. `0.01 absolute`.
    pub tolerance: String,
}

impl fmt::Display for MetricChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: baseline {}, now {} (tolerance {})",
            self.metric, self.baseline, self.new, self.tolerance
        )
    }
}

/// A scenario's results against its baseline entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    /// Metrics worse than the baseline beyond the tolerance: the gate fails.
    pub worse: Vec<MetricChange>,
    /// Metrics better than the baseline beyond the tolerance: worth recording.
    pub better: Vec<MetricChange>,
    /// Failed now and in the baseline.
    pub known_failures: Vec<String>,
    /// Failed now, passed (or did not exist) in the baseline: the gate fails.
    pub new_failures: Vec<String>,
    /// Failed in the baseline, hold now.
    pub fixed: Vec<String>,
    /// Changes that are neither better nor worse (a new seed, a workload added or removed).
    pub notes: Vec<String>,
}

impl Comparison {
    /// Whether the scenario is worse than its baseline: a metric beyond the tolerance or a
    /// hypothesis that did not fail before.
    pub fn is_worse(&self) -> bool {
        !self.worse.is_empty() || !self.new_failures.is_empty()
    }

    /// Whether `--update-baseline` would record something better.
    pub fn is_better(&self) -> bool {
        !self.better.is_empty() || !self.fixed.is_empty()
    }
}

/// Compares a new headline with the baseline's.
pub fn compare(baseline: &Headline, new: &Headline, tolerance: Tolerance) -> Comparison {
    let mut out = Comparison::default();
    if baseline.seed != new.seed {
        out.notes.push(format!(
            "the seed changed from {} to {}: the runs differ by chance as well as by the model",
            baseline.seed, new.seed
        ));
    }
    let share = |v: Option<f64>| v.map_or(Quantity::Undefined, Quantity::Share);
    out.judge_share(
        "blast radius net share hurt".to_string(),
        share(baseline.blast_radius_net_share),
        share(new.blast_radius_net_share),
        Direction::HigherIsWorse,
        tolerance,
    );
    for (name, base) in &baseline.workloads {
        let Some(now) = new.workloads.get(name) else {
            out.notes.push(format!(
                "workload {name} is in the baseline but not in the model"
            ));
            continue;
        };
        out.compare_workload(name, base, now, tolerance);
    }
    for name in new.workloads.keys() {
        if !baseline.workloads.contains_key(name) {
            out.notes
                .push(format!("workload {name} is new: not in the baseline"));
        }
    }
    for key in &new.failed_hypotheses {
        if baseline.failed_hypotheses.contains(key) {
            out.known_failures.push(key.clone());
        } else {
            out.new_failures.push(key.clone());
        }
    }
    out.fixed = baseline
        .failed_hypotheses
        .iter()
        .filter(|key| !new.failed_hypotheses.contains(key))
        .cloned()
        .collect();
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    HigherIsWorse,
    LowerIsWorse,
}

impl Comparison {
    fn compare_workload(
        &mut self,
        name: &str,
        base: &WorkloadHeadline,
        now: &WorkloadHeadline,
        tolerance: Tolerance,
    ) {
        let share = |v: Option<f64>| v.map_or(Quantity::Undefined, Quantity::Share);
        self.judge_share(
            format!("{name} net share hurt"),
            share(base.net_hurt_share),
            share(now.net_hurt_share),
            Direction::HigherIsWorse,
            tolerance,
        );
        for window in union_keys(&base.availability, &now.availability) {
            self.judge_share(
                format!("{name} availability ({window})"),
                share(base.availability.get(window).copied()),
                share(now.availability.get(window).copied()),
                Direction::LowerIsWorse,
                tolerance,
            );
        }
        let duration =
            |v: Option<&u64>| v.map_or(Quantity::Undefined, |&ns| Quantity::Duration(ns));
        for window in union_keys(&base.p99_ns, &now.p99_ns) {
            self.judge_duration(
                format!("{name} p99 ({window})"),
                duration(base.p99_ns.get(window)),
                duration(now.p99_ns.get(window)),
                tolerance,
            );
        }
        let recovery = |r: RecoveryHeadline| match r {
            RecoveryHeadline::Recovered { after_ns } => Quantity::Duration(after_ns),
            RecoveryHeadline::NotRecovered => Quantity::NotRecovered,
            RecoveryHeadline::NotApplicable => Quantity::NotApplicable,
        };
        self.judge_duration(
            format!("{name} recovery time"),
            recovery(base.recovery),
            recovery(now.recovery),
            tolerance,
        );
    }

    fn judge_share(
        &mut self,
        metric: String,
        base: Quantity,
        now: Quantity,
        direction: Direction,
        tolerance: Tolerance,
    ) {
        let (Quantity::Share(b), Quantity::Share(n)) = (base, now) else {
            return self.judge_other(metric, base, now);
        };
        let rise = match direction {
            Direction::HigherIsWorse => n - b,
            Direction::LowerIsWorse => b - n,
        };
        // A hair of slack so that a value exactly at the tolerance, after rounding, passes.
        let limit = tolerance.share + 1e-9;
        let change = MetricChange {
            metric,
            baseline: base,
            new: now,
            tolerance: format!("{} absolute", trim(tolerance.share)),
        };
        if rise > limit {
            self.worse.push(change);
        } else if rise < -limit {
            self.better.push(change);
        }
    }

    /// Durations (p99, recovery time): relative tolerance; not recovered is worse than any time.
    fn judge_duration(
        &mut self,
        metric: String,
        base: Quantity,
        now: Quantity,
        tolerance: Tolerance,
    ) {
        let change = MetricChange {
            metric: metric.clone(),
            baseline: base,
            new: now,
            tolerance: format!("{}% relative", trim(tolerance.duration * 100.0)),
        };
        match (base, now) {
            (Quantity::Duration(b), Quantity::Duration(n)) => {
                let (b, n) = (b as f64, n as f64);
                if n > b * (1.0 + tolerance.duration) {
                    self.worse.push(change);
                } else if n < b * (1.0 - tolerance.duration) {
                    self.better.push(change);
                }
            }
            (Quantity::Duration(_), Quantity::NotRecovered) => self.worse.push(change),
            (Quantity::NotRecovered, Quantity::Duration(_)) => self.better.push(change),
            _ => self.judge_other(metric, base, now),
        }
    }

    /// A change of kind rather than of size (a window that appeared or emptied, a recovery
    /// that no longer applies): noted, not judged.
    fn judge_other(&mut self, metric: String, base: Quantity, now: Quantity) {
        if base != now {
            self.notes
                .push(format!("{metric}: baseline {base}, now {now}"));
        }
    }
}

/// The keys of two ordered maps: the first's in order, then the second's new ones.
fn union_keys<'a, V>(a: &'a IndexMap<String, V>, b: &'a IndexMap<String, V>) -> Vec<&'a str> {
    let mut keys: Vec<&str> = a.keys().map(String::as_str).collect();
    keys.extend(b.keys().map(String::as_str).filter(|k| !a.contains_key(*k)));
    keys
}

fn trim(value: f64) -> String {
    let text = format!("{value:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headline() -> Headline {
        let workload = WorkloadHeadline {
            net_hurt_share: Some(0.05),
            availability: [("during".to_string(), 0.90), ("after".to_string(), 0.999)]
                .into_iter()
                .collect(),
            p99_ns: [
                ("during".to_string(), 400_000_000),
                ("after".to_string(), 300_000_000),
            ]
            .into_iter()
            .collect(),
            recovery: RecoveryHeadline::Recovered {
                after_ns: 10_000_000_000,
            },
        };
        Headline {
            name: "s".to_string(),
            seed: 1,
            blast_radius_net_share: Some(0.05),
            workloads: [("checkout".to_string(), workload)].into_iter().collect(),
            failed_hypotheses: vec!["checkout availability".to_string()],
        }
    }

    #[test]
    fn the_same_results_compare_equal() {
        let h = headline();
        let c = compare(&h, &h, Tolerance::default());
        assert_eq!(c.worse, vec![]);
        assert_eq!(c.better, vec![]);
        assert_eq!(c.known_failures, vec!["checkout availability".to_string()]);
        assert!(!c.is_worse() && !c.is_better());
    }

    #[test]
    fn shares_use_an_absolute_tolerance() {
        let base = headline();
        let mut new = headline();
        // Within 0.01: not reported.
        new.blast_radius_net_share = Some(0.0599);
        new.workloads[0].availability["during"] = 0.8901;
        assert!(!compare(&base, &new, Tolerance::default()).is_worse());
        // Beyond: worse, naming both values and the tolerance.
        new.blast_radius_net_share = Some(0.07);
        new.workloads[0].availability["during"] = 0.85;
        let c = compare(&base, &new, Tolerance::default());
        let shown: Vec<String> = c.worse.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            shown,
            [
                "blast radius net share hurt: baseline 5.000%, now 7.000% (tolerance 0.01 absolute)",
                "checkout availability (during): baseline 90.000%, now 85.000% (tolerance 0.01 absolute)",
            ]
        );
        // Better beyond the tolerance is reported as better.
        new.blast_radius_net_share = Some(0.01);
        let c = compare(&base, &new, Tolerance::default());
        assert_eq!(c.better[0].metric, "blast radius net share hurt");
    }

    #[test]
    fn durations_use_a_relative_tolerance() {
        let base = headline();
        let mut new = headline();
        new.workloads[0].p99_ns["during"] = 440_000_000; // +10%: allowed
        assert!(!compare(&base, &new, Tolerance::default()).is_worse());
        new.workloads[0].p99_ns["during"] = 441_000_000;
        let c = compare(&base, &new, Tolerance::default());
        assert_eq!(
            c.worse[0].to_string(),
            "checkout p99 (during): baseline 400ms, now 441ms (tolerance 10% relative)"
        );
        new.workloads[0].p99_ns["during"] = 400_000_000;
        new.workloads[0].recovery = RecoveryHeadline::NotRecovered;
        let c = compare(&base, &new, Tolerance::default());
        assert_eq!(c.worse[0].metric, "checkout recovery time");
        assert_eq!(c.worse[0].new, Quantity::NotRecovered);
    }

    #[test]
    fn only_new_hypothesis_failures_fail_the_gate() {
        let base = headline();
        let mut new = headline();
        new.failed_hypotheses = vec!["checkout p99".to_string()];
        let c = compare(&base, &new, Tolerance::default());
        assert_eq!(c.new_failures, vec!["checkout p99".to_string()]);
        assert_eq!(c.fixed, vec!["checkout availability".to_string()]);
        assert!(c.is_worse() && c.is_better());
    }

    #[test]
    fn changes_of_kind_are_notes() {
        let base = headline();
        let mut new = headline();
        new.seed = 2;
        new.workloads[0].availability.shift_remove("after");
        let c = compare(&base, &new, Tolerance::default());
        assert!(!c.is_worse());
        assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
        assert!(c.notes[1].contains("availability (after): baseline 99.900%, now undefined"));
    }

    #[test]
    fn repeated_hypotheses_get_ordinals() {
        let keys = hypothesis_keys([("c", "p99"), ("c", "availability"), ("c", "p99")].into_iter());
        assert_eq!(keys, ["c p99", "c availability", "c p99 #2"]);
    }

    #[test]
    fn the_file_round_trips() {
        let mut baseline = Baseline::default();
        baseline.scenarios.insert("b.toml".to_string(), headline());
        baseline.scenarios.insert("a.toml".to_string(), headline());
        let text = baseline.to_json();
        assert!(text.find("a.toml") < text.find("b.toml"), "sorted keys");
        assert_eq!(Baseline::from_json(&text).unwrap(), baseline);
        assert_eq!(Baseline::from_json(&text).unwrap().to_json(), text);
    }
}
