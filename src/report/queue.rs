//! The queues of a run document: per queue, its counts, lag, message age and end-to-end
//! delay in control and experiment, per window and over the measured run, with the lag and
//! age series; and their text table. A model without queues has no `queues` section at all,
//! so its reports keep their bytes.

use indexmap::IndexMap;
use serde::Serialize;

use crate::analysis::queue::{QueueValues, queue_metrics, queue_values_in};
use crate::analysis::{Study, WindowSpan};
use crate::kernel::time::format_duration_ns;
use crate::metrics::queue::QueueMetrics;
use crate::model::{NodeKind, Role, Scenario};

use super::document::RunDocument;
use super::outline::{Item, Section, Table};

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

/// The queues table, a row per queue, window and run, and a line per queue; `None` when the
/// model has no queue.
pub(super) fn section(doc: &RunDocument) -> Option<Section> {
    if doc.queues.is_empty() {
        return None;
    }
    let with_faults = doc.blast_radius.is_some();
    let mut table = Table {
        header: vec![
            "queue",
            "window",
            "run",
            "published",
            "delivered",
            "acked",
            "redelivered",
            "dead-lettered",
            "max lag",
            "max age",
            "delay p50",
            "delay p99",
        ],
        numeric: [vec![false; 3], vec![true; 9]].concat(),
        rows: Vec::new(),
    };
    for (name, queue) in &doc.queues {
        let runs: &[(&str, &QueueRunReport)] = if with_faults {
            &[
                ("control", &queue.control),
                ("experiment", &queue.experiment),
            ]
        } else {
            &[("", &queue.control)]
        };
        let windows: Vec<&str> = if with_faults {
            queue.control.windows.keys().copied().collect()
        } else {
            vec!["run"]
        };
        for window in windows {
            for &(run, report) in runs {
                let values = report.windows.get(window).unwrap_or(&report.run);
                table.rows.push(row(name, window, run, values));
            }
        }
    }
    let mut section = Section::new("queues");
    section.items.push(Item::Table(table));
    let of_the_experiment = if with_faults {
        " of the experiment"
    } else {
        ""
    };
    for (name, queue) in &doc.queues {
        section.line(
            1,
            format!(
                "{name}: consumed by {} ({} partitions, dead-lettered after {} failed \
                 deliveries); {} messages left in the queue at the end{of_the_experiment}",
                queue.consumer,
                queue.partitions,
                queue.max_deliveries,
                queue.experiment.stored_at_end,
            ),
        );
    }
    Some(section)
}

fn row(name: &str, window: &str, run: &str, v: &QueueValues) -> Vec<String> {
    let delay = |ns: Option<u64>| ns.map_or("-".to_string(), format_duration_ns);
    let c = &v.counts;
    vec![
        name.to_string(),
        window.to_string(),
        run.to_string(),
        c.published.to_string(),
        c.delivered.to_string(),
        c.acknowledged.to_string(),
        c.redelivered.to_string(),
        c.dead_lettered.to_string(),
        v.max_lag.to_string(),
        format_duration_ns(v.max_age_ns),
        delay(v.delivery_p50_ns),
        delay(v.delivery_p99_ns),
    ]
}
