//! The value of every metric for one endpoint in one window, and control-vs-experiment changes.

use serde::Serialize;

use super::WindowSpan;
use crate::metrics::{EndpointMetrics, Latency, Outcomes};
use crate::model::{Metric, Window};
use crate::sim::RunResult;

/// Every metric of one endpoint in one window of one run. Latencies in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct MetricValues {
    pub requests: u64,
    /// Requests that ended (the base of the fractions).
    pub ended: u64,
    /// Requests answered, ok or degraded (the base of the latencies).
    pub answered: u64,
    pub availability: f64,
    pub error_rate: f64,
    pub degraded: f64,
    pub throughput: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
}

impl MetricValues {
    fn of(outcomes: &Outcomes, latency: &Latency, length_ns: u64) -> MetricValues {
        let ended = outcomes.ended();
        let share = |n: u64| {
            if ended == 0 {
                0.0
            } else {
                n as f64 / ended as f64
            }
        };
        MetricValues {
            requests: outcomes.requests,
            ended,
            answered: outcomes.ok + outcomes.degraded,
            availability: outcomes.availability(),
            error_rate: share(outcomes.failed()),
            degraded: share(outcomes.degraded),
            throughput: if length_ns == 0 {
                0.0
            } else {
                ended as f64 * 1e9 / length_ns as f64
            },
            mean: latency.mean_ns(),
            p50: latency.quantile_ns(0.5) as f64,
            p90: latency.quantile_ns(0.9) as f64,
            p99: latency.quantile_ns(0.99) as f64,
            p999: latency.quantile_ns(0.999) as f64,
        }
    }

    /// The metric's value; `None` where it is undefined — fractions when nothing ended,
    /// latencies when nothing was answered — and for `recovery_time`, not a per-window value.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        if (metric.is_fraction() && self.ended == 0) || (metric.is_latency() && self.answered == 0)
        {
            return None;
        }
        Some(match metric {
            Metric::Availability => self.availability,
            Metric::ErrorRate => self.error_rate,
            Metric::Degraded => self.degraded,
            Metric::Throughput => self.throughput,
            Metric::Mean => self.mean,
            Metric::P50 => self.p50,
            Metric::P90 => self.p90,
            Metric::P99 => self.p99,
            Metric::P999 => self.p999,
            Metric::RecoveryTime
            | Metric::Lag
            | Metric::MessageAge
            | Metric::DeliveryP99
            | Metric::DeadLetters => return None,
        })
    }
}

/// One endpoint's values in one window, in both runs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PairedValues {
    pub control: MetricValues,
    pub experiment: MetricValues,
}

/// Every endpoint's values in every window of the analysis, control and experiment, computed
/// once by `analyse`; the hypotheses, the baseline headline, the sweep records and the findings'
/// deviations all read them here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowValues {
    /// The analysis's windows, in order; the inner vectors follow it.
    windows: Vec<Window>,
    workloads: Vec<Vec<PairedValues>>,
    nodes: Vec<Vec<PairedValues>>,
}

impl WindowValues {
    pub fn measure(spans: &[WindowSpan], control: &RunResult, experiment: &RunResult) -> Self {
        let per_window = |c: &EndpointMetrics, e: &EndpointMetrics| -> Vec<PairedValues> {
            (spans.iter())
                .map(|span| PairedValues {
                    control: values_in(c, span),
                    experiment: values_in(e, span),
                })
                .collect()
        };
        let pair = |c: &[EndpointMetrics], e: &[EndpointMetrics]| {
            c.iter().zip(e).map(|(c, e)| per_window(c, e)).collect()
        };
        WindowValues {
            windows: spans.iter().map(|s| s.window).collect(),
            workloads: pair(&control.workloads, &experiment.workloads),
            nodes: pair(&control.nodes, &experiment.nodes),
        }
    }

    /// Workload `w` in `window`, which must be one of the analysis's windows.
    pub fn workload(&self, w: usize, window: Window) -> &PairedValues {
        &self.workloads[w][self.position(window)]
    }

    /// Workload `w` in each of the analysis's windows, in their order.
    pub fn workload_by_window(&self, w: usize) -> &[PairedValues] {
        &self.workloads[w]
    }

    /// Node `n` in each of the analysis's windows, in their order.
    pub fn node_by_window(&self, n: usize) -> &[PairedValues] {
        &self.nodes[n]
    }

    fn position(&self, window: Window) -> usize {
        (self.windows.iter().position(|&w| w == window))
            .expect("a window of the analysis these values were measured for")
    }
}

/// The values of an endpoint in a window (the whole measured run for a run without windows).
/// A study reads them from `Analysis::values`; this is for a run alone (explore's control).
pub(crate) fn values_in(metrics: &EndpointMetrics, span: &WindowSpan) -> MetricValues {
    let index = match span.window {
        Window::Before => 0,
        Window::During => 1,
        Window::After => 2,
    };
    match metrics.windows.get(index) {
        Some(stats) => MetricValues::of(&stats.outcomes, &stats.latency, span.length_ns()),
        None => MetricValues::of(&metrics.outcomes, &metrics.latency, span.length_ns()),
    }
}

/// One metric, control vs experiment.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Deviation {
    pub metric: &'static str,
    /// `None` where the metric is undefined in that run (see `MetricValues::get`).
    pub control: Option<f64>,
    pub experiment: Option<f64>,
    /// experiment - control, when both are defined.
    pub change: Option<f64>,
    /// change / control; `None` when the control is 0 or either is undefined.
    pub relative: Option<f64>,
}

/// Every per-window metric, control vs experiment, in a fixed order.
pub fn deviations(control: &MetricValues, experiment: &MetricValues) -> Vec<Deviation> {
    const METRICS: [Metric; 9] = [
        Metric::Availability,
        Metric::ErrorRate,
        Metric::Degraded,
        Metric::Throughput,
        Metric::Mean,
        Metric::P50,
        Metric::P90,
        Metric::P99,
        Metric::P999,
    ];
    METRICS
        .iter()
        .map(|&metric| {
            let (c, e) = (control.get(metric), experiment.get(metric));
            let change = c.zip(e).map(|(c, e)| e - c);
            Deviation {
                metric: metric.as_str(),
                control: c,
                experiment: e,
                change,
                relative: c.zip(change).filter(|(c, _)| *c != 0.0).map(|(c, d)| d / c),
            }
        })
        .collect()
}
