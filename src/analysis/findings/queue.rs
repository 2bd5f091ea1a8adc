//! The queues of a run document: per queue, its counts, lag, message age and end-to-end
//! delay in control and experiment, per window and over the measured run, with the lag and
//! age series; and their text table. A model without queues has no `queues` section at all,
//! so its reports keep their bytes.

use indexmap::IndexMap;
use serde::Serialize;

use crate::analysis::queue::{QueueValues, queue_metrics, queue_values_in};
use crate::analysis::{Study, WindowSpan};
use crate::metrics::queue::QueueMetrics;
use crate::model::{NodeKind, Role, Scenario};

#[derive(Clone, Debug, Serialize)]
pub struct QueueReport {
    pub consumer: String,
    pub partitions: u32,
    pub max_deliveries: u32,
    pub control: QueueRunReport,
    pub experiment: QueueRunReport,
}

/// One queue in one run.
#[derive(Clone, Debug, Serialize)]
pub struct QueueRunReport {
    /// Over the measured run (after the warm-up).
    pub run: QueueValues,
    /// By window name, as the document's `windows`.
    pub windows: IndexMap<&'static str, QueueValues>,
    /// Messages still in the queue when the run ended.
    pub stored_at_end: u64,
    pub series: QueueSeries,
}

/// Per step from time zero (warm-up included): the maxima of lag and oldest message's age.
#[derive(Clone, Debug, Serialize)]
pub struct QueueSeries {
    pub step_ns: u64,
    pub lag: Vec<u64>,
    pub age_ns: Vec<u64>,
}

/// The queues of a scenario's study, in model order.
pub fn queue_reports(scenario: &Scenario, study: &Study) -> IndexMap<String, QueueReport> {
    let spans = &study.analysis.windows;
    let topology = &scenario.topology;
    topology
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, node)| node.kind == NodeKind::Queue)
        .filter_map(|(n, node)| {
            let Role::Queue(spec) = node.role else {
                return None;
            };
            let id = crate::model::NodeId(n as u32);
            let control = queue_metrics(&study.control, id)?;
            let experiment = queue_metrics(&study.experiment, id)?;
            let report = QueueReport {
                consumer: topology.node(spec.consumer).name.clone(),
                partitions: spec.partitions,
                max_deliveries: spec.max_deliveries,
                control: QueueRunReport::new(control, spans),
                experiment: QueueRunReport::new(experiment, spans),
            };
            Some((node.name.clone(), report))
        })
        .collect()
}

impl QueueRunReport {
    fn new(metrics: &QueueMetrics, spans: &[WindowSpan]) -> QueueRunReport {
        QueueRunReport {
            run: QueueValues::of(&metrics.total),
            windows: spans
                .iter()
                .map(|s| (s.window.as_str(), queue_values_in(metrics, s)))
                .collect(),
            stored_at_end: metrics.stored_at_end,
            series: QueueSeries {
                step_ns: metrics.step_ns(),
                lag: metrics.series.iter().map(|s| s.lag).collect(),
                age_ns: metrics.series.iter().map(|s| s.age_ns).collect(),
            },
        }
    }
}
