//! A Chaos Toolkit–style journal: the run's `status`, whether the steady state `deviated`, and
//! the steady-state hypothesis probed `before`, `during` and `after` the faults, so people who
//! know that tool find the shape they expect in the JSON.
//!
//! It restates the analysis and judges nothing: Chaos Toolkit checks every probe before the
//! method runs, so a hypothesis not asked for in the `before` window is probed there too —
//! with the analysis's check of that window (`HypothesisResult::unasked`).

use serde::Serialize;

use crate::analysis::{HypothesisResult, Study, WindowCheck, WindowSpan};
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
    let has_faults = study.with_faults();
    let state_of = |window: Window| {
        let span = study.analysis.windows.iter().find(|s| s.window == window)?;
        let probes: Vec<Probe> = scenario
            .hypotheses
            .iter()
            .zip(results)
            .filter_map(|(h, r)| probe(h, r, span, has_faults))
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

/// The probe of one hypothesis in one window: the analysis's check of a window it asked for,
/// or of one it did not (`HypothesisResult::unasked`, judged by the same bounds).
fn probe(
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
    let check = result.unasked.iter().find(|c| c.window == name)?;
    Some(unasked_probe(activity, check, &result.bounds))
}

/// A window the hypothesis did not ask for, as the analysis judged it, in the journal's words.
fn unasked_probe(activity: Activity, check: &WindowCheck, bounds: &str) -> Probe {
    match (check.control, check.experiment) {
        (Some(c), Some(e)) => Probe {
            activity,
            status: "succeeded",
            output: Some(e),
            control: Some(c),
            tolerance_met: check.pass,
            note: (!check.pass).then(|| format!("outside {bounds}")),
        },
        // An empty window, skipped.
        _ if check.pass => from_check(activity, check),
        (c, e) => Probe {
            activity,
            status: "failed",
            output: e,
            control: c,
            tolerance_met: false,
            note: Some("not measurable: no request ended or none was answered".to_string()),
        },
    }
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
