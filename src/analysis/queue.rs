//! Queues in the analysis: a queue's values in a window, and the queue hypotheses (`lag`,
//! `message_age`, `delivery_p99`, `dead_letters`) checked per window like the workloads'.
//!
//! Must not: recompute anything the simulator measured; it reads `RunResult::queues`.

use serde::Serialize;

use super::WindowSpan;
use crate::metrics::queue::{QueueCounts, QueueMetrics, QueueWindow};
use crate::model::{Hypothesis, Metric, NodeId, Window};
use crate::sim::RunResult;

/// A queue's numbers in one window of one run. Durations in nanoseconds; the delay quantiles
/// are `None` when no message was acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct QueueValues {
    #[serde(flatten)]
    pub counts: QueueCounts,
    pub max_lag: u64,
    pub max_age_ns: u64,
    pub delivery_mean_ns: Option<f64>,
    pub delivery_p50_ns: Option<u64>,
    pub delivery_p99_ns: Option<u64>,
}

impl QueueValues {
    pub fn of(window: &QueueWindow) -> QueueValues {
        let delay = &window.delay;
        let some = |v| (delay.count() > 0).then_some(v);
        QueueValues {
            counts: window.counts,
            max_lag: window.max_lag,
            max_age_ns: window.max_age_ns,
            delivery_mean_ns: (delay.count() > 0).then(|| delay.mean_ns()),
            delivery_p50_ns: some(delay.quantile_ns(0.5)),
            delivery_p99_ns: some(delay.quantile_ns(0.99)),
        }
    }

    /// A queue metric's value; `None` for `delivery_p99` when nothing was acknowledged and for
    /// the workload metrics.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Lag => Some(self.max_lag as f64),
            Metric::MessageAge => Some(self.max_age_ns as f64),
            Metric::DeliveryP99 => self.delivery_p99_ns.map(|ns| ns as f64),
            Metric::DeadLetters => Some(self.counts.dead_lettered as f64),
            _ => None,
        }
    }
}

/// The metrics of the queue `node` in a run.
pub fn queue_metrics(run: &RunResult, node: NodeId) -> Option<&QueueMetrics> {
    run.queues
        .iter()
        .find(|q| q.node == node)
        .map(|q| &q.metrics)
}

/// A queue's values in a window (the whole measured run for a run without windows).
pub fn queue_values_in(metrics: &QueueMetrics, span: &WindowSpan) -> QueueValues {
    let index = match span.window {
        Window::Before => 0,
        Window::During => 1,
        Window::After => 2,
    };
    QueueValues::of(metrics.windows.get(index).unwrap_or(&metrics.total))
}

/// The value a queue hypothesis bounds in one window of one run.
pub fn hypothesis_value(h: &Hypothesis, run: &RunResult, span: &WindowSpan) -> Option<f64> {
    let metrics = queue_metrics(run, h.queue?)?;
    queue_values_in(metrics, span).get(h.metric)
}
