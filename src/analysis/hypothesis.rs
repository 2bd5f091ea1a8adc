//! Steady-state hypotheses checked in their windows, with the measured values.

use serde::Serialize;

use super::WindowSpan;
use super::recovery::{Recovery, RecoveryStatus};
use super::values::WindowValues;
use crate::kernel::time::format_duration_ns;
use crate::model::{Change, Hypothesis, Metric, Scenario};
use crate::sim::RunResult;

/// A hypothesis and how it fared.
#[derive(Clone, Debug, Serialize)]
pub struct HypothesisResult {
    pub workload: String,
    pub metric: &'static str,
    /// The 1-based line of the hypothesis in the scenario file.
    pub line: usize,
    /// The bounds as written, e.g. `min 0.999, max_increase +20%`.
    pub bounds: String,
    pub checks: Vec<WindowCheck>,
    pub pass: bool,
    /// The windows the hypothesis did not ask for, judged by the same bounds (they do not
    /// count towards `pass`): the journal's steady states probe every window, as Chaos
    /// Toolkit does. Not in the JSON's `hypotheses`, which lists what was asked.
    #[serde(skip)]
    pub unasked: Vec<WindowCheck>,
}

/// The hypothesis in one window (or `run` without faults, `recovery` for recovery time).
#[derive(Clone, Debug, Serialize)]
pub struct WindowCheck {
    pub window: &'static str,
    pub control: Option<f64>,
    pub experiment: Option<f64>,
    pub pass: bool,
    /// Why it failed or was not checked.
    pub note: Option<String>,
}

pub fn evaluate(
    scenario: &Scenario,
    spans: &[WindowSpan],
    has_faults: bool,
    runs: (&RunResult, &RunResult),
    values: &WindowValues,
    recovery: &[Recovery],
) -> Vec<HypothesisResult> {
    scenario
        .hypotheses
        .iter()
        .map(|hypothesis| {
            let (asked, unasked): (Vec<&WindowSpan>, Vec<&WindowSpan>) = spans
                .iter()
                .partition(|s| !has_faults || hypothesis.windows.contains(&s.window));
            let measured = Measured {
                runs,
                values,
                recovery,
            };
            let checks = check_spans(hypothesis, &asked, has_faults, &measured);
            let unasked = match hypothesis.metric {
                // One number per run, measured after the faults: no other window has one.
                Metric::RecoveryTime => Vec::new(),
                _ => check_spans(hypothesis, &unasked, has_faults, &measured),
            };
            let subject = match hypothesis.queue {
                Some(queue) => &scenario.topology.node(queue).name,
                None => &scenario.topology.workloads[hypothesis.workload.index()].name,
            };
            HypothesisResult {
                workload: subject.clone(),
                metric: hypothesis.metric.as_str(),
                line: hypothesis.line,
                bounds: describe_bounds(hypothesis),
                pass: checks.iter().all(|c| c.pass),
                checks,
                unasked,
            }
        })
        .collect()
}

/// What a hypothesis is checked against: the two runs (for queue metrics), the endpoints'
/// values per window and the workloads' recovery.
struct Measured<'a> {
    runs: (&'a RunResult, &'a RunResult),
    values: &'a WindowValues,
    recovery: &'a [Recovery],
}

/// A hypothesis checked in `spans`, by its kind: a queue's metric, recovery time, or a
/// workload's metric.
fn check_spans(
    hypothesis: &Hypothesis,
    spans: &[&WindowSpan],
    has_faults: bool,
    measured: &Measured,
) -> Vec<WindowCheck> {
    if hypothesis.queue.is_none() && hypothesis.metric == Metric::RecoveryTime {
        let recovery = &measured.recovery[hypothesis.workload.index()];
        return vec![check_recovery(hypothesis, has_faults, recovery)];
    }
    let w = hypothesis.workload.index();
    let (control, experiment) = measured.runs;
    let values = |span: &WindowSpan| match hypothesis.queue {
        Some(_) => (
            super::queue::hypothesis_value(hypothesis, control, span),
            super::queue::hypothesis_value(hypothesis, experiment, span),
        ),
        None => {
            let paired = measured.values.workload(w, span.window);
            let metric = hypothesis.metric;
            (paired.control.get(metric), paired.experiment.get(metric))
        }
    };
    let note = match hypothesis.queue {
        Some(_) => "not measurable: no message was acknowledged",
        None => "not measurable: no request ended or none was answered",
    };
    check_windows(hypothesis, spans, has_faults, values, note)
}

/// A hypothesis checked in each of its windows, `values` giving its metric in the control
/// and the experiment in one window; `unmeasurable_note` says why when a run has no value there.
fn check_windows(
    h: &Hypothesis,
    spans: &[&WindowSpan],
    has_faults: bool,
    values: impl Fn(&WindowSpan) -> (Option<f64>, Option<f64>),
    unmeasurable_note: &str,
) -> Vec<WindowCheck> {
    spans
        .iter()
        .map(|span| {
            let name = if has_faults {
                span.window.as_str()
            } else {
                "run"
            };
            if span.length_ns() == 0 {
                return skipped(name, "the window is empty");
            }
            let (c, e) = values(span);
            match (c, e) {
                (Some(c), Some(e)) => check_value(h, name, c, e),
                _ => WindowCheck {
                    note: Some(unmeasurable_note.to_string()),
                    ..unmeasurable(name, c, e)
                },
            }
        })
        .collect()
}

/// A window where the metric is undefined (no request ended, or none was answered): the
/// hypothesis cannot be shown to hold, so it fails, saying why.
pub(super) fn unmeasurable(
    window: &'static str,
    control: Option<f64>,
    experiment: Option<f64>,
) -> WindowCheck {
    WindowCheck {
        window,
        control,
        experiment,
        pass: false,
        note: Some("not measurable: no request ended or none was answered".to_string()),
    }
}

pub(super) fn skipped(window: &'static str, note: &str) -> WindowCheck {
    WindowCheck {
        window,
        control: None,
        experiment: None,
        pass: true,
        note: Some(note.to_string()),
    }
}

/// Checks every bound of the hypothesis against one window's values.
pub(super) fn check_value(
    h: &Hypothesis,
    window: &'static str,
    control: f64,
    experiment: f64,
) -> WindowCheck {
    let mut broken = Vec::new();
    if let Some(min) = h.min.filter(|&min| experiment < min) {
        broken.push(format!("below min {}", show(h.metric, min)));
    }
    if let Some(max) = h.max.filter(|&max| experiment > max) {
        broken.push(format!("above max {}", show(h.metric, max)));
    }
    if let Some(change) = h.max_increase {
        let limit = match change {
            Change::Relative(r) => control * (1.0 + r),
            Change::Absolute(a) => control + a,
        };
        if experiment > limit {
            broken.push(format!(
                "rose above {} (control {} plus the allowed increase)",
                show(h.metric, limit),
                show(h.metric, control)
            ));
        }
    }
    if let Some(change) = h.max_decrease {
        let limit = match change {
            Change::Relative(r) => control * (1.0 - r),
            Change::Absolute(a) => control - a,
        };
        if experiment < limit {
            broken.push(format!(
                "fell below {} (control {} minus the allowed decrease)",
                show(h.metric, limit),
                show(h.metric, control)
            ));
        }
    }
    WindowCheck {
        window,
        control: Some(control),
        experiment: Some(experiment),
        pass: broken.is_empty(),
        note: (!broken.is_empty()).then(|| broken.join("; ")),
    }
}

fn check_recovery(h: &Hypothesis, has_faults: bool, recovery: &Recovery) -> WindowCheck {
    if !has_faults {
        return skipped("recovery", "no faults: nothing to recover from");
    }
    let max = h.max.unwrap_or(f64::INFINITY);
    let (experiment, pass, note) = match recovery.status {
        RecoveryStatus::Recovered { after_ns } => {
            let pass = after_ns as f64 <= max;
            let note = (!pass).then(|| format!("took longer than {}", show(h.metric, max)));
            (Some(after_ns as f64), pass, note)
        }
        RecoveryStatus::NotRecovered => (
            None,
            false,
            Some("not recovered by the end of the run".to_string()),
        ),
        RecoveryStatus::NotApplicable => (
            None,
            false,
            Some("the faults last until the end: no time to recover".to_string()),
        ),
    };
    WindowCheck {
        window: "recovery",
        control: None,
        experiment,
        pass,
        note,
    }
}

fn describe_bounds(h: &Hypothesis) -> String {
    let mut parts = Vec::new();
    if let Some(min) = h.min {
        parts.push(format!("min {}", show(h.metric, min)));
    }
    if let Some(max) = h.max {
        parts.push(format!("max {}", show(h.metric, max)));
    }
    for (name, change) in [
        ("max_increase", h.max_increase),
        ("max_decrease", h.max_decrease),
    ] {
        match change {
            Some(Change::Relative(r)) => parts.push(format!("{name} {}%", trim(r * 100.0))),
            Some(Change::Absolute(a)) => parts.push(format!("{name} {}", show(h.metric, a))),
            None => {}
        }
    }
    parts.join(", ")
}

/// A value in the metric's unit: durations for latencies, numbers otherwise.
pub fn show(metric: Metric, value: f64) -> String {
    if metric.is_latency() {
        if value < 0.0 {
            format!("-{}", format_duration_ns((-value).round() as u64))
        } else {
            format_duration_ns(value.round() as u64)
        }
    } else {
        trim(value)
    }
}

fn trim(value: f64) -> String {
    let text = format!("{value:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod bound_tests {
    use super::*;
    use crate::model::Window;

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

    fn within(h: &Hypothesis, control: f64, experiment: f64) -> bool {
        check_value(h, "during", control, experiment).pass
    }

    /// Every bound is inclusive; the journal's probes of unasked windows use these checks too.
    #[test]
    fn bounds_are_inclusive() {
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
