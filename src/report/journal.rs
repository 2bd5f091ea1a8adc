//! A Chaos Toolkit–style journal: the run's `status`, whether the steady state `deviated`, and
//! the steady-state hypothesis probed `before`, `during` and `after` the faults, so people who
//! know that tool find the shape they expect in the JSON.
//!
//! It restates the analysis and judges nothing new, with one exception: Chaos Toolkit checks
//! every probe before the method runs, so a hypothesis not asked for in the `before` window is
//! checked there too, against the same bounds.

use serde::Serialize;

use crate::analysis::{HypothesisResult, Study, WindowCheck, WindowSpan, values_in};
use crate::model::{Change, Hypothesis, Metric, Scenario, Window};
use crate::sim::RunOutcome;

#[derive(Clone, Debug, Serialize)]
pub struct Journal {
    /// `completed` when every steady state held and both runs reached their end; `failed`
    /// otherwise.
    pub status: &'static str,
    /// The steady state was not met during or after the faults.
    pub deviated: bool,
    pub steady_states: SteadyStates,
}

/// `null` for a window the run does not have (a run without faults has only `before`).
#[derive(Clone, Debug, Serialize)]
pub struct SteadyStates {
    pub before: Option<SteadyState>,
    pub during: Option<SteadyState>,
    pub after: Option<SteadyState>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SteadyState {
    /// Every probe within its tolerance.
    pub steady_state_met: bool,
    /// One per hypothesis, in file order (`recovery_time` only `after`).
    pub probes: Vec<Probe>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Probe {
    pub activity: Activity,
    /// `succeeded` when the value was measured, `failed` when it is undefined in the window,
    /// `skipped` when the window is empty.
    pub status: &'static str,
    /// The experiment's value, in the tolerance's unit.
    pub output: Option<f64>,
    /// The control's value in the same window.
    pub control: Option<f64>,
    pub tolerance_met: bool,
    /// Why the tolerance was not met, or why the probe was skipped.
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Activity {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `workload metric`, e.g. `checkout availability`.
    pub name: String,
    /// The 1-based line of the hypothesis in the scenario file.
    pub line: usize,
    pub tolerance: Tolerance,
}

/// The hypothesis's bounds. Values are in the metric's unit: nanoseconds for latencies,
/// fractions for availability, error rate and degraded, requests per second for throughput.
#[derive(Clone, Debug, Serialize)]
pub struct Tolerance {
    /// The bounds as written, e.g. `min 0.999`.
    pub bounds: String,
    pub unit: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_increase: Option<ToleranceChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_decrease: Option<ToleranceChange>,
}

/// A change allowed relative to the control: a fraction of it, or an amount in the unit.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToleranceChange {
    Relative(f64),
    Absolute(f64),
}

/// The journal of a studied scenario (the analysis keeps its hypotheses in file order).
pub fn build(scenario: &Scenario, study: &Study) -> Journal {
    let results = &study.analysis.hypotheses;
    let has_faults = study.windows.is_some();
    let state_of = |window: Window| {
        let span = study.analysis.windows.iter().find(|s| s.window == window)?;
        let probes: Vec<Probe> = scenario
            .hypotheses
            .iter()
            .zip(results)
            .filter_map(|(h, r)| probe(study, h, r, span, has_faults))
            .collect();
        Some(SteadyState {
            steady_state_met: probes.iter().all(|p| p.tolerance_met),
            probes,
        })
    };
    let steady_states = SteadyStates {
        before: state_of(Window::Before),
        during: state_of(Window::During),
        after: state_of(Window::After),
    };
    let met = |s: &Option<SteadyState>| s.as_ref().is_none_or(|s| s.steady_state_met);
    let deviated = !met(&steady_states.during) || !met(&steady_states.after);
    let completed = study.control.outcome == RunOutcome::Completed
        && study.experiment.outcome == RunOutcome::Completed;
    let status = if completed && !deviated && met(&steady_states.before) {
        "completed"
    } else {
        "failed"
    };
    Journal {
        status,
        deviated,
        steady_states,
    }
}

/// The probe of one hypothesis in one window: the analysis's check where it made one, else
/// (only `before`, or any window of a hypothesis restricted to others) the same bounds here.
fn probe(
    study: &Study,
    h: &Hypothesis,
    result: &HypothesisResult,
    span: &WindowSpan,
    has_faults: bool,
) -> Option<Probe> {
    let activity = Activity {
        kind: "probe",
        name: format!("{} {}", result.workload, result.metric),
        line: result.line,
        tolerance: tolerance(h, result),
    };
    if h.metric == Metric::RecoveryTime {
        // One number per run, measured after the faults.
        let check = result.checks.first()?;
        return (span.window == Window::After).then(|| from_check(activity, check));
    }
    let name = if has_faults {
        span.window.as_str()
    } else {
        "run"
    };
    if let Some(check) = result.checks.iter().find(|c| c.window == name) {
        return Some(from_check(activity, check));
    }
    if span.length_ns() == 0 {
        return Some(Probe {
            activity,
            status: "skipped",
            output: None,
            control: None,
            tolerance_met: true,
            note: Some("the window is empty".to_string()),
        });
    }
    let (c, e) = if h.queue.is_some() {
        let value = |run| crate::analysis::queue::hypothesis_value(h, run, span);
        (value(&study.control), value(&study.experiment))
    } else {
        let w = h.workload.index();
        let c = values_in(&study.control.workloads[w], span).get(h.metric);
        (
            c,
            values_in(&study.experiment.workloads[w], span).get(h.metric),
        )
    };
    Some(match (c, e) {
        (Some(c), Some(e)) => {
            let met = within(h, c, e);
            Probe {
                activity,
                status: "succeeded",
                output: Some(e),
                control: Some(c),
                tolerance_met: met,
                note: (!met).then(|| format!("outside {}", result.bounds)),
            }
        }
        _ => Probe {
            activity,
            status: "failed",
            output: e,
            control: c,
            tolerance_met: false,
            note: Some("not measurable: no request ended or none was answered".to_string()),
        },
    })
}

fn from_check(activity: Activity, check: &WindowCheck) -> Probe {
    let status = match (check.experiment, check.pass) {
        (Some(_), _) => "succeeded",
        (None, true) => "skipped",
        (None, false) => "failed",
    };
    Probe {
        activity,
        status,
        output: check.experiment,
        control: check.control,
        tolerance_met: check.pass,
        note: check.note.clone(),
    }
}

/// The hypothesis's bounds, as `analysis::hypothesis` applies them.
fn within(h: &Hypothesis, control: f64, experiment: f64) -> bool {
    let limit = |change: Change, sign: f64| match change {
        Change::Relative(r) => control * (1.0 + sign * r),
        Change::Absolute(a) => control + sign * a,
    };
    h.min.is_none_or(|min| experiment >= min)
        && h.max.is_none_or(|max| experiment <= max)
        && h.max_increase.is_none_or(|c| experiment <= limit(c, 1.0))
        && h.max_decrease.is_none_or(|c| experiment >= limit(c, -1.0))
}

fn tolerance(h: &Hypothesis, result: &HypothesisResult) -> Tolerance {
    let change = |c: Change| match c {
        Change::Relative(r) => ToleranceChange::Relative(r),
        Change::Absolute(a) => ToleranceChange::Absolute(a),
    };
    let unit = if h.metric.is_latency() {
        "ns"
    } else if h.metric.is_fraction() {
        "fraction"
    } else {
        "per_s"
    };
    Tolerance {
        bounds: result.bounds.clone(),
        unit,
        min: h.min,
        max: h.max,
        max_increase: h.max_increase.map(change),
        max_decrease: h.max_decrease.map(change),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hypothesis(min: Option<f64>, max: Option<f64>, inc: Option<Change>) -> Hypothesis {
        Hypothesis {
            queue: None,
            workload: crate::model::WorkloadId(0),
            metric: Metric::P99,
            min,
            max,
            max_increase: inc,
            max_decrease: None,
            windows: vec![Window::During],
            line: 1,
        }
    }

    #[test]
    fn bounds_are_inclusive_as_in_the_analysis() {
        assert!(within(&hypothesis(Some(1.0), None, None), 0.0, 1.0));
        assert!(!within(&hypothesis(Some(1.0), None, None), 0.0, 0.5));
        assert!(within(&hypothesis(None, Some(2.0), None), 0.0, 2.0));
        assert!(!within(&hypothesis(None, Some(2.0), None), 0.0, 2.5));
        let relative = hypothesis(None, None, Some(Change::Relative(0.2)));
        assert!(within(&relative, 10.0, 12.0));
        assert!(!within(&relative, 10.0, 12.5));
        let absolute = hypothesis(None, None, Some(Change::Absolute(5.0)));
        assert!(within(&absolute, 10.0, 15.0));
        assert!(!within(&absolute, 10.0, 15.5));
    }
}
