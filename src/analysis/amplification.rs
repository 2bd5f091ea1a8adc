//! Retry amplification: how many attempts the nodes received per user request, per window, in
//! the control and the experiment.
//!
//! The control's figure is the model's normal fan-out (calls per request, cache misses, the
//! odd retry); the experiment's, divided by it, is the amplification the faults caused. A
//! retry storm shows as attempts per request that stay high in the `after` window although the
//! trigger is gone — the sustaining effect of a metastable failure (Bronson et al., HotOS 2021).
//! An attempt counts where it reaches a node, served or refused there; one a caller's breaker
//! or bulkhead refused never left the caller and adds no load.

use serde::Serialize;

use super::WindowSpan;
use crate::metrics::EndpointMetrics;
use crate::model::Window;
use crate::sim::RunResult;

/// Attempts per user request in one window (`run` for a run without faults).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Amplification {
    pub window: &'static str,
    /// `null` when no user request arrived in the window.
    pub control: Option<f64>,
    pub experiment: Option<f64>,
    /// Experiment over control; `null` when either is undefined.
    pub ratio: Option<f64>,
}

/// Per window of `spans` (or the whole measured run without faults).
pub fn measure(
    spans: &[WindowSpan],
    has_windows: bool,
    control: &RunResult,
    experiment: &RunResult,
) -> Vec<Amplification> {
    if !has_windows {
        let control = attempts_per_request(control, None);
        let experiment = attempts_per_request(experiment, None);
        return vec![Amplification {
            window: "run",
            control,
            experiment,
            ratio: ratio(control, experiment),
        }];
    }
    spans
        .iter()
        .map(|span| {
            let index = Window::ALL
                .iter()
                .position(|w| *w == span.window)
                .expect("a window of the three");
            let control = attempts_per_request(control, Some(index));
            let experiment = attempts_per_request(experiment, Some(index));
            Amplification {
                window: span.window.as_str(),
                control,
                experiment,
                ratio: ratio(control, experiment),
            }
        })
        .collect()
}

/// Attempts that reached a node per user request that arrived, in window `window` (by index)
/// or over the whole measured run.
pub fn attempts_per_request(run: &RunResult, window: Option<usize>) -> Option<f64> {
    let requests = |metrics: &EndpointMetrics| match window {
        None => metrics.outcomes.requests,
        Some(w) => metrics
            .windows
            .get(w)
            .map_or(0, |stats| stats.outcomes.requests),
    };
    let users: u64 = run.workloads.iter().map(requests).sum();
    let attempts: u64 = run.nodes.iter().map(requests).sum();
    (users > 0).then(|| attempts as f64 / users as f64)
}

fn ratio(control: Option<f64>, experiment: Option<f64>) -> Option<f64> {
    match (control, experiment) {
        (Some(c), Some(e)) if c > 0.0 => Some(e / c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Counted;
    use crate::sim::RunOutcome;

    fn endpoint(arrivals: &[(u8, u64)]) -> EndpointMetrics {
        let mut metrics = EndpointMetrics::new(1_000_000_000, 3);
        for &(window, count) in arrivals {
            for _ in 0..count {
                metrics.record_arrival(Counted::InWindow(window));
            }
        }
        metrics
    }

    fn run(users: &[(u8, u64)], attempts: &[&[(u8, u64)]]) -> RunResult {
        RunResult {
            outcome: RunOutcome::Completed,
            end_ns: 0,
            events: 0,
            workloads: vec![endpoint(users)],
            nodes: attempts.iter().map(|a| endpoint(a)).collect(),
            requests: vec![Vec::new()],
            extra_requests: vec![0],
            autoscaling: Vec::new(),
            ejections: Vec::new(),
            edges: Vec::new(),
            caches: Vec::new(),
            queues: Vec::new(),
            users: vec![None],
            request_keys: vec![Vec::new()],
        }
    }

    #[test]
    fn counts_attempts_at_every_node_per_user_request_by_window() {
        let control = run(
            &[(0, 10), (1, 10), (2, 10)],
            &[&[(0, 10), (1, 10), (2, 10)], &[(0, 5), (1, 5), (2, 5)]],
        );
        // During the faults the second node gets three attempts per request.
        let experiment = run(
            &[(0, 10), (1, 10), (2, 10)],
            &[&[(0, 10), (1, 10), (2, 10)], &[(0, 5), (1, 30), (2, 5)]],
        );
        assert_eq!(attempts_per_request(&control, Some(1)), Some(1.5));
        assert_eq!(attempts_per_request(&experiment, Some(1)), Some(4.0));
        assert_eq!(attempts_per_request(&experiment, None), Some(70.0 / 30.0));
        let nothing = run(&[], &[&[(1, 3)]]);
        assert_eq!(attempts_per_request(&nothing, Some(1)), None);
        let spans: Vec<WindowSpan> = Window::ALL
            .iter()
            .map(|&window| WindowSpan {
                window,
                start_ns: 0,
                end_ns: 0,
            })
            .collect();
        let rows = measure(&spans, true, &control, &experiment);
        assert_eq!(rows[1].window, "during");
        let ratio = rows[1].ratio.expect("both defined");
        assert!((ratio - 4.0 / 1.5).abs() < 1e-12);
        assert_eq!(rows[0].ratio, Some(1.0));
    }
}
