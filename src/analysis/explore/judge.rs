//! Judging a schedule: the hypotheses it is held to (a scenario's, or the default budget of
//! availability and p99 bands around the control), the scenario that carries it, and what one
//! study of it says — through the study engine (`analysis::study`), like every other command.

use serde::Serialize;

use crate::analysis::{Study, study};
use crate::kernel::time::format_duration_ns;
use crate::model::{Change, Hypothesis, Limits, Metric, Scenario, Topology, Window};

/// What a schedule is held to, and the run settings it is judged under.
#[derive(Clone, Debug)]
pub struct Judge {
    pub hypotheses: Vec<Hypothesis>,
    pub limits: Limits,
    pub slow_threshold_ns: Option<u64>,
}

impl Judge {
    /// The default budget: per workload, availability at most `hurt` below the control's and
    /// p99 at most `p99_increase` (relative) above it, during and after the faults.
    pub fn budget(topology: &Topology, hurt: f64, p99_increase: f64) -> Judge {
        let windows = vec![Window::During, Window::After];
        let hypotheses = (0..topology.workloads.len())
            .flat_map(|w| {
                let base = Hypothesis {
                    workload: crate::model::WorkloadId(w as u32),
                    queue: None,
                    metric: Metric::Availability,
                    min: None,
                    max: None,
                    max_increase: None,
                    max_decrease: Some(Change::Absolute(hurt)),
                    windows: windows.clone(),
                    line: 0,
                };
                let p99 = Hypothesis {
                    metric: Metric::P99,
                    max_decrease: None,
                    max_increase: Some(Change::Relative(p99_increase)),
                    ..base.clone()
                };
                [base, p99]
            })
            .collect();
        Judge {
            hypotheses,
            limits: Limits::default(),
            slow_threshold_ns: None,
        }
    }
}

/// One study of a schedule on one seed, reduced to what the search needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    pub seed: u64,
    pub pass: bool,
    /// The blast radius: (hurt - helped) / paired over all workloads.
    pub net_share: f64,
    /// Each failed hypothesis in its first failing window, with the measured values:
    /// `checkout availability during: 0.8123 (control 0.9998)`.
    pub failed: Vec<String>,
}

/// The scenario of a fault schedule over the model's normal workload.
pub fn scenario_of(
    model_path: &std::path::Path,
    topology: &Topology,
    judge: &Judge,
    run: (u64, u64),
    faults: Vec<crate::model::FaultSpec>,
    seed: u64,
) -> Scenario {
    Scenario {
        name: "explore".to_string(),
        path: model_path.to_path_buf(),
        model_path: model_path.to_path_buf(),
        topology: topology.clone(),
        duration_ns: run.0,
        warmup_ns: run.1,
        seed,
        limits: judge.limits,
        hypotheses: judge.hypotheses.clone(),
        faults,
        slow_threshold_ns: judge.slow_threshold_ns,
    }
}

/// Studies the scenario and reduces the study to an `Outcome`.
pub fn judge(scenario: &Scenario) -> Outcome {
    outcome_of(scenario, &study(scenario))
}

pub fn outcome_of(scenario: &Scenario, study: &Study) -> Outcome {
    let analysis = &study.analysis;
    let failed = analysis
        .hypotheses
        .iter()
        .filter(|h| !h.pass)
        .filter_map(|h| {
            let check = h.checks.iter().find(|c| !c.pass)?;
            let metric = crate::model::Metric::ALL
                .into_iter()
                .chain(crate::model::Metric::QUEUE)
                .find(|m| m.as_str() == h.metric);
            let value = |v: Option<f64>| metric_value(metric, v);
            Some(format!(
                "{} {} {}: {} (control {})",
                h.workload,
                h.metric,
                check.window,
                value(check.experiment),
                value(check.control)
            ))
        })
        .collect();
    Outcome {
        seed: scenario.seed,
        pass: analysis.hypotheses.iter().all(|h| h.pass),
        net_share: analysis.blast_radius.as_ref().map_or(0.0, |b| b.net_share),
        failed,
    }
}

/// A measured value as the reports print it: latencies as durations, fractions as percents.
pub fn metric_value(metric: Option<Metric>, value: Option<f64>) -> String {
    let Some(v) = value else {
        return "n/a".to_string();
    };
    match metric {
        Some(m) if m.is_latency() => format_duration_ns(v.max(0.0).round() as u64),
        Some(m) if m.is_fraction() => format!("{:.2}%", v * 100.0),
        _ => format!("{v:.2}"),
    }
}
