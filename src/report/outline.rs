//! The outline of the mechanism sections of a run's report — traffic shapes, autoscaling,
//! resilience per edge, balancers, content caches, queues — as format-neutral blocks: a
//! `Section` is a title and a list of `Item`s (lines at a depth, tables). Each mechanism's file
//! builds its section once from the findings; text, Markdown and HTML each render the blocks
//! (`text::write_section`, `markdown::write_section`, `html::sections::section`), so a new
//! mechanism is one findings field and one section here, shown in every format at once.
//!
//! Must not: know any output format. A block holds plain text; the renderer escapes it for
//! the context it writes into.

use indexmap::IndexMap;

use crate::analysis::findings::{
    AutoscalingReport, CacheReport, CacheRunReport, EdgeReport, Findings, QueueRunReport,
    ScalingEventReport,
};
use crate::analysis::queue::QueueValues;
use crate::kernel::time::format_duration_ns;
use crate::sim::{EdgeCounts, UserStats};

/// One mechanism's part of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub title: String,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A line of prose; depth 1 is directly under the title, 2 under the line before, ...
    Line {
        depth: usize,
        text: String,
    },
    Table(Table),
}

/// Rows of cells under a header; `numeric` marks the columns a renderer may right-align.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub header: Vec<&'static str>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Section {
    pub fn new(title: impl Into<String>) -> Section {
        Section {
            title: title.into(),
            items: Vec::new(),
        }
    }

    pub fn line(&mut self, depth: usize, text: impl Into<String>) {
        self.items.push(Item::Line {
            depth,
            text: text.into(),
        });
    }

    /// `None` for a section with nothing under its title: a mechanism the model does not use.
    pub fn unless_empty(self) -> Option<Section> {
        (!self.items.is_empty()).then_some(self)
    }
}

/// The mechanism sections of a run, in the order the reports show them; empty for a model
/// that uses none. Balancers come once per run when there are faults (experiment first).
pub fn mechanisms(doc: &Findings) -> Vec<Section> {
    let with_faults = doc.with_faults();
    let balancers = |experiment: bool, run: &str| {
        let mut section = balancers(doc, experiment)?;
        if with_faults {
            section.title = format!("{} — {run}", section.title);
        }
        Some(section)
    };
    [
        traffic(doc),
        scaling(&doc.autoscaling),
        resilience(&doc.resilience),
        with_faults.then(|| balancers(true, "experiment")).flatten(),
        balancers(false, "control"),
        cache(&doc.caches, with_faults),
        queue(doc),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The `traffic` section: a line per workload with a varying rate or users; `None` when every
/// rate is constant.
pub(super) fn traffic(doc: &Findings) -> Option<Section> {
    let mut section = Section::new("traffic");
    for (name, w) in &doc.workloads {
        let Some(traffic) = &w.traffic else {
            continue;
        };
        let Some(users) = &traffic.users else {
            let peak = format!("(peak {:.0}/s)", traffic.peak_per_s);
            section.line(1, format!("{name}: {} {peak}", traffic.description));
            continue;
        };
        let peak = format!("(at most {:.0}/s)", traffic.peak_per_s);
        section.line(1, format!("{name}: {} {peak}", traffic.description));
        let waiting = |s: &UserStats| format!("{:.1}", s.mean_waiting);
        let with_faults = match doc.blast_radius {
            Some(_) => format!(" -> {} with faults", waiting(&users.experiment)),
            None => String::new(),
        };
        section.line(
            2,
            format!(
                "users waiting on an answer (mean, the rest thinking): {} of {}{with_faults}",
                waiting(&users.control),
                users.users,
            ),
        );
        if users.experiment.extra_users > 0 {
            let extra = users.experiment.extra_users;
            section.line(
                2,
                format!("plus {extra} extra users during the traffic spike"),
            );
        }
    }
    section.unless_empty()
}

/// Resizes listed per run before "... and N more".
const EVENTS_SHOWN: usize = 12;

/// Per node and run, the counts and the resizes; `None` when no node autoscales.
pub(super) fn scaling(reports: &[AutoscalingReport]) -> Option<Section> {
    let mut section = Section::new("autoscaling (replicas started, all zones)");
    for report in reports {
        section.line(
            1,
            format!(
                "{} (per zone {} to {}, target {:.0}% utilisation)",
                report.node,
                report.min,
                report.max,
                report.target * 100.0
            ),
        );
        for (name, run) in [
            ("control", &report.control),
            ("experiment", &report.experiment),
        ] {
            let (start, peak, end, resizes) = (run.start, run.peak, run.end, run.events.len());
            section.line(
                2,
                format!("{name}: {start} at start, peak {peak}, {end} at end; {resizes} resizes"),
            );
            for event in run.events.iter().take(EVENTS_SHOWN) {
                section.line(3, resize_line(event));
            }
            if run.events.len() > EVENTS_SHOWN {
                let more = run.events.len() - EVENTS_SHOWN;
                section.line(3, format!("... and {more} more"));
            }
        }
    }
    section.unless_empty()
}

fn resize_line(event: &ScalingEventReport) -> String {
    format!(
        "{:>8}  {}  {} -> {}  (utilisation {:.0}%)",
        format_duration_ns(event.at_ns),
        event.zone,
        event.from,
        event.to,
        event.utilisation * 100.0
    )
}

/// One line per edge: the experiment's count with the control's in brackets; `None` without
/// edges.
pub(super) fn resilience(edges: &[EdgeReport]) -> Option<Section> {
    let mut section = Section::new("RESILIENCE per edge (experiment [control], after warm-up)");
    for edge in edges {
        section.line(
            1,
            format!(
                "{} -> {} ({}): {}",
                edge.caller,
                edge.callee,
                edge.mechanisms.join(", "),
                edge_counts(edge).join(", ")
            ),
        );
    }
    section.unless_empty()
}

fn edge_counts(edge: &EdgeReport) -> Vec<String> {
    let (e, c) = (&edge.experiment, &edge.control);
    let pair = |label: &str, f: fn(&EdgeCounts) -> u64| format!("{label} {} [{}]", f(e), f(c));
    let mut parts = vec![pair("calls", |x| x.calls), pair("retries", |x| x.retries)];
    let has = |name: &str| edge.mechanisms.contains(&name);
    if has("circuit_breaker") {
        parts.push(pair("breaker opened", |x| x.breaker_opens));
        parts.push(format!(
            "open {} [{}]",
            format_duration_ns(e.open_ns),
            format_duration_ns(c.open_ns)
        ));
        parts.push(pair("refused by the breaker", |x| x.circuit_open));
    }
    if has("retry_budget") {
        parts.push(pair("retries denied by the budget", |x| x.retries_denied));
    }
    if has("bulkhead") {
        parts.push(pair("refused by the bulkhead", |x| x.bulkhead_full));
    }
    if has("fallback") {
        parts.push(pair("fallbacks served", |x| x.fallbacks));
    }
    parts
}

/// The `caches` section; `None` without content caches.
pub(super) fn cache(caches: &IndexMap<String, CacheReport>, with_faults: bool) -> Option<Section> {
    let mut section = Section::new("caches (content: LRU over Zipf keys)");
    for (name, cache) in caches {
        section.line(1, format!("{name}: {}", describe(cache)));
        let runs: &[(&str, &CacheRunReport)] = if with_faults {
            &[
                ("control", &cache.control),
                ("experiment", &cache.experiment),
            ]
        } else {
            &[("run", &cache.control)]
        };
        for (label, run) in runs {
            section.line(2, format!("{label:<10} {}", run_counts(run)));
        }
        let shown = if with_faults {
            &cache.experiment
        } else {
            &cache.control
        };
        section.line(
            2,
            format!(
                "hit ratio per step ({}s each, from 0): {}",
                shown.series.step_ns / 1_000_000_000,
                strip(&shown.series.hit_ratio)
            ),
        );
    }
    section.unless_empty()
}

/// The cache's configuration and its expected hit ratio.
fn describe(cache: &CacheReport) -> String {
    let ttl = cache.ttl_ns.map_or(String::new(), |t| {
        format!(", ttl {}", crate::kernel::time::format_duration_ns(t))
    });
    let single_flight = if cache.single_flight {
        ", single-flight"
    } else {
        ""
    };
    format!(
        "{} keys, zipf {}, capacity {}{ttl}, content per {}{single_flight}; expected hit ratio {}",
        cache.keys,
        cache.zipf,
        cache.capacity,
        cache.content,
        ratio(Some(cache.expected_hit_ratio)),
    )
}

/// A run's counts and hit ratio, overall and per window.
fn run_counts(run: &CacheRunReport) -> String {
    let c = run.counts;
    let windows: Vec<String> = run
        .windows
        .iter()
        .map(|(w, r)| format!("{w} {}", ratio(r.hit_ratio)))
        .collect();
    format!(
        "hits {} misses {} fills {} coalesced {} · hit ratio {} ({})",
        c.hits,
        c.misses,
        c.fills,
        c.coalesced,
        ratio(run.hit_ratio),
        windows.join(", "),
    )
}

fn ratio(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0))
}

/// The hit ratio per step in at most 60 characters, each the mean of its steps, as a block from
/// `▁` (0) to `█` (1); a space where no step had a lookup.
fn strip(series: &[Option<f64>]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let per_char = series.len().div_ceil(60).max(1);
    series
        .chunks(per_char)
        .map(|chunk| {
            let values: Vec<f64> = chunk.iter().flatten().copied().collect();
            if values.is_empty() {
                return ' ';
            }
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            BLOCKS[((mean * 7.0).round() as usize).min(7)]
        })
        .collect()
}

/// The queues table, a row per queue, window and run, and a line per queue; `None` when the
/// model has no queue.
/// Health checks and outlier ejection in one run, for the nodes that have them; `None` when
/// no node watches its replicas.
pub(super) fn balancers(doc: &Findings, experiment: bool) -> Option<Section> {
    let mut section = Section::new("balancer (health checks, outlier ejection)");
    for (name, node) in &doc.nodes {
        let Some(balancer) = &node.balancer else {
            continue;
        };
        let s = if experiment {
            &balancer.experiment
        } else {
            &balancer.control
        };
        section.line(
            1,
            format!(
                "{name}: {} taken out by health checks, {} put back, {} outlier ejections, {} out of the balancer, {} calls swallowed",
                s.health_check_ejections,
                s.health_check_returns,
                s.outlier_ejections,
                format_duration_ns(s.out_of_balancer_ns),
                s.swallowed_calls,
            ),
        );
    }
    section.unless_empty()
}

pub(super) fn queue(doc: &Findings) -> Option<Section> {
    if doc.queues.is_empty() {
        return None;
    }
    let with_faults = doc.with_faults();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_shows_a_drop_and_a_refill() {
        let mut series = vec![Some(0.95); 20];
        series.extend([Some(0.0), Some(0.1), None, Some(0.5), Some(0.9)]);
        let line = strip(&series);
        assert_eq!(line.chars().count(), 25);
        assert!(line.ends_with("▁▂ ▅▇"), "{line}");
        assert!(line.starts_with("███"), "{line}");
    }
}
