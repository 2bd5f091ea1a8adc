//! `calibrate`: does a model still behave like the traces? Runs the model (a plain run, no
//! faults) with each workload at the rate the traces show, and compares, traces vs
//! simulation: per workload and per node the p50 and p99 latency and the error rate, per
//! service the p50 and p99 of its self time against its `service_time`, per edge the calls
//! per second. Every number has a 95 % confidence interval: a quantile's from the
//! binomial ranks around it, a proportion's by Wilson, a rate's from the Poisson count. A row
//! *deviates* when the gap between the two intervals is more than the tolerance times the
//! traces' value (for error rates, times at least 0.01, so 0.1 % vs 0.3 % errors is noise);
//! overlapping intervals never deviate.
//!
//! Not compared: a cache's latency (the simulator's includes the misses' backing calls, the
//! traces' client spans only the lookup — its hit ratio shows as the backing edge's rate);
//! the nodes and workloads of the model that the traces do not have, and the reverse (listed
//! in `unmatched`). Runs no IO: the CLI hands over the loaded model and the observations.

use hdrhistogram::Histogram;
use serde::Serialize;

use super::derive::workload_name;
use super::observed::Observed;
use crate::kernel::{Purpose, Stream};
use crate::model::{NodeId, Rate, Role, Topology, Traffic};
use crate::sim::{self, RunConfig, RunResult};

const Z95: f64 = 1.959_963_985;

/// A value and its 95 % interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// The samples behind it.
    pub n: u64,
}

/// One comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// `workload`, `node` or `edge`.
    pub scope: &'static str,
    pub subject: String,
    /// `p50_ms`, `p99_ms`, `self_p50_ms`, `self_p99_ms` (a service's own work against its
    /// `service_time`), `error_rate` or `calls_per_s`.
    pub metric: &'static str,
    pub traces: Interval,
    pub simulated: Interval,
    /// (simulated - traces) / traces; 0 when both are 0.
    pub deviation: f64,
    pub deviates: bool,
}

/// The whole comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calibration {
    pub model: String,
    pub tolerance: f64,
    pub seed: u64,
    pub simulated_s: f64,
    pub traces_s: f64,
    pub rows: Vec<Row>,
    /// Names on one side only.
    pub unmatched: Vec<String>,
}

impl Calibration {
    pub fn deviating(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.deviates)
    }
}

/// Runs `topology` at the traces' rates and compares.
pub fn calibrate(topology: &Topology, obs: &Observed, tolerance: f64, seed: u64) -> Calibration {
    let mut topology = topology.clone();
    let mut unmatched = Vec::new();
    let total_rate = set_rates(&mut topology, obs, &mut unmatched);
    count_every_edge(&mut topology);
    // Enough simulated requests that the simulation's intervals are narrower than the traces'.
    let duration_s = (200_000.0 / total_rate.max(1e-9)).clamp(obs.window_s().max(60.0), 3_600.0);
    let duration_ns = (duration_s * 1e9) as u64;
    let warmup_ns = duration_ns / 10;
    let result = sim::run(
        &topology,
        &RunConfig::plain(seed, duration_ns + warmup_ns, warmup_ns),
    );
    let counted_s = duration_ns as f64 / 1e9;
    let mut rows = Vec::new();
    workload_rows(
        &topology,
        obs,
        &result,
        tolerance,
        &mut rows,
        &mut unmatched,
    );
    node_rows(
        &topology,
        obs,
        &result,
        tolerance,
        &mut rows,
        &mut unmatched,
    );
    edge_rows(&topology, obs, &result, counted_s, tolerance, &mut rows);
    Calibration {
        model: topology.name.clone(),
        tolerance,
        seed,
        simulated_s: counted_s,
        traces_s: obs.window_s(),
        rows,
        unmatched,
    }
}

/// Sets each workload the traces have to their rate; returns the total.
fn set_rates(topology: &mut Topology, obs: &Observed, unmatched: &mut Vec<String>) -> f64 {
    let mut total = 0.0;
    let mut observed: Vec<_> = obs.workloads.values().collect();
    observed.sort_by_key(|w| {
        (
            obs.name(w.service).to_string(),
            obs.name(w.operation).to_string(),
        )
    });
    for w in observed {
        let name = workload_name(obs.name(w.operation));
        let service_name = format!("{}-{name}", obs.name(w.service));
        let found = topology
            .workloads
            .iter_mut()
            .find(|m| m.name == name || m.name == service_name);
        let rate = w.roots as f64 / obs.window_s();
        match found {
            Some(workload) => {
                workload.rate_per_s = rate;
                workload.traffic = Traffic::Open(Rate::Constant { per_s: rate });
                total += rate;
            }
            None => unmatched.push(format!(
                "workload `{name}`: in the traces, not in the model"
            )),
        }
    }
    total
}

/// A bulkhead no caller can fill makes the simulator count every call's attempts
/// (`RunResult::edges`) without changing what any call does.
fn count_every_edge(topology: &mut Topology) {
    for node in &mut topology.nodes {
        for call in &mut node.calls {
            call.resilience.bulkhead.get_or_insert(u32::MAX);
        }
    }
}

fn workload_rows(
    topology: &Topology,
    obs: &Observed,
    result: &RunResult,
    tol: f64,
    rows: &mut Vec<Row>,
    unmatched: &mut Vec<String>,
) {
    let mut observed: Vec<_> = obs.workloads.values().collect();
    observed.sort_by_key(|w| {
        (
            obs.name(w.service).to_string(),
            obs.name(w.operation).to_string(),
        )
    });
    for w in observed {
        let name = workload_name(obs.name(w.operation));
        let service_name = format!("{}-{name}", obs.name(w.service));
        let Some(index) = topology
            .workloads
            .iter()
            .position(|m| m.name == name || m.name == service_name)
        else {
            continue;
        };
        let sim = &result.workloads[index];
        let subject = topology.workloads[index].name.clone();
        latency_rows(
            "workload",
            &subject,
            &w.latency,
            &sim.latency.histogram(),
            tol,
            rows,
        );
        let sim_failed = sim.outcomes.failed();
        rows.push(row(
            "workload",
            subject,
            "error_rate",
            proportion(w.errors, w.roots),
            proportion(sim_failed, sim.outcomes.ended()),
            tol,
            0.01,
        ));
    }
    for (i, workload) in topology.workloads.iter().enumerate() {
        if !rows
            .iter()
            .any(|r| r.scope == "workload" && r.subject == workload.name)
            && result.workloads.get(i).is_some()
        {
            unmatched.push(format!(
                "workload `{}`: in the model, not in the traces",
                workload.name
            ));
        }
    }
}

fn node_rows(
    topology: &Topology,
    obs: &Observed,
    result: &RunResult,
    tol: f64,
    rows: &mut Vec<Row>,
    unmatched: &mut Vec<String>,
) {
    let mut nodes: Vec<(usize, &str)> = topology
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (i, n.name.as_str()))
        .collect();
    nodes.sort_by_key(|n| n.1);
    for (i, name) in nodes {
        let Some(seen) = obs
            .names
            .lookup(name)
            .and_then(|id| obs.nodes.get(&id))
            .filter(|n| n.visits > 0)
        else {
            unmatched.push(format!("node `{name}`: in the model, not in the traces"));
            continue;
        };
        let sim = &result.nodes[i];
        if !matches!(topology.nodes[i].role, Role::Cache { .. }) {
            latency_rows(
                "node",
                name,
                &seen.latency,
                &sim.latency.histogram(),
                tol,
                rows,
            );
        }
        if seen.own {
            self_time_rows(topology, i, seen, tol, rows);
        }
        let ended = sim.outcomes.ended();
        rows.push(row(
            "node",
            name.to_string(),
            "error_rate",
            proportion(seen.errors, seen.visits),
            proportion(sim.outcomes.failed(), ended),
            tol,
            0.01,
        ));
    }
}

/// Calls per second on every edge of the model: a call's attempts, and a cache's misses (the
/// backing store's requests that no call of the model sends).
fn edge_rows(
    topology: &Topology,
    obs: &Observed,
    result: &RunResult,
    counted_s: f64,
    tol: f64,
    rows: &mut Vec<Row>,
) {
    let window_s = obs.window_s();
    let lookup = |caller: &str, callee: &str| -> Option<u64> {
        let (a, b) = (obs.names.lookup(caller)?, obs.names.lookup(callee)?);
        obs.edges.get(&(a, b)).map(|e| e.attempts)
    };
    let mut edges: Vec<(String, u64, u64)> = Vec::new();
    for e in &result.edges {
        let (caller, callee) = (&topology.node(e.caller).name, &topology.node(e.callee).name);
        let traced = lookup(caller, callee).unwrap_or(0);
        edges.push((
            format!("{caller} -> {callee}"),
            traced,
            e.counts.calls + e.counts.retries,
        ));
    }
    for (i, node) in topology.nodes.iter().enumerate() {
        let Role::Cache { backing, .. } = node.role else {
            continue;
        };
        let backing_name = &topology.node(backing).name;
        // The traces' misses: calls to the backing store from the cache's callers.
        let callers = topology
            .nodes
            .iter()
            .filter(|n| n.calls.iter().any(|c| c.to == NodeId(i as u32)));
        let traced: u64 = callers
            .map(|n| lookup(&n.name, backing_name).unwrap_or(0))
            .sum();
        let by_calls: u64 = result
            .edges
            .iter()
            .filter(|e| e.callee == backing)
            .map(|e| e.counts.calls + e.counts.retries)
            .sum();
        let simulated = result.nodes[backing.index()]
            .outcomes
            .requests
            .saturating_sub(by_calls);
        edges.push((
            format!("{} -> {backing_name} (misses)", node.name),
            traced,
            simulated,
        ));
    }
    edges.sort();
    for (subject, traced, simulated) in edges {
        rows.push(row(
            "edge",
            subject,
            "calls_per_s",
            rate(traced, window_s),
            rate(simulated, counted_s),
            tol,
            0.0,
        ));
    }
}

/// A service's own work: the traces' self times against the model's `service_time`, drawn
/// 20,000 times from the node's own stream. This is the row that names the service that
/// changed, where latency rows also move for everything upstream of it.
fn self_time_rows(
    topology: &Topology,
    i: usize,
    seen: &super::observed::NodeObs,
    tol: f64,
    rows: &mut Vec<Row>,
) {
    let node = &topology.nodes[i];
    let mut stream = Stream::new(1, node.stable_id, Purpose::Service);
    let mut model = super::observed::histogram();
    for _ in 0..20_000 {
        model.saturating_record(node.service_time.sample(&mut stream));
    }
    for (metric, q) in [("self_p50_ms", 0.5), ("self_p99_ms", 0.99)] {
        if !seen.self_time.is_empty() {
            rows.push(row(
                "node",
                node.name.clone(),
                metric,
                quantile_ms(&seen.self_time, q),
                quantile_ms(&model, q),
                tol,
                0.0,
            ));
        }
    }
}

fn latency_rows(
    scope: &'static str,
    subject: &str,
    traced: &Histogram<u64>,
    simulated: &Histogram<u64>,
    tol: f64,
    rows: &mut Vec<Row>,
) {
    for (metric, q) in [("p50_ms", 0.5), ("p99_ms", 0.99)] {
        if traced.is_empty() || simulated.is_empty() {
            continue;
        }
        rows.push(row(
            scope,
            subject.to_string(),
            metric,
            quantile_ms(traced, q),
            quantile_ms(simulated, q),
            tol,
            0.0,
        ));
    }
}

fn row(
    scope: &'static str,
    subject: String,
    metric: &'static str,
    traces: Interval,
    simulated: Interval,
    tol: f64,
    floor: f64,
) -> Row {
    let deviation = if traces.value == 0.0 {
        if simulated.value == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        (simulated.value - traces.value) / traces.value
    };
    let gap = (traces.low.max(simulated.low) - traces.high.min(simulated.high)).max(0.0);
    let gap = if gap.is_nan() { 0.0 } else { gap };
    let deviates = gap > tol * traces.value.abs().max(floor);
    Row {
        scope,
        subject,
        metric,
        traces,
        simulated,
        deviation,
        deviates,
    }
}

/// The `q` quantile in milliseconds, with the values at the ranks `n q ± 1.96 sqrt(n q (1-q))`.
/// When the upper rank is past the largest sample (a p99 of 60 samples) the quantile could be
/// anything above it: the interval is open (infinite) on that side.
fn quantile_ms(histogram: &Histogram<u64>, q: f64) -> Interval {
    let n = histogram.len();
    let half = Z95 * (q * (1.0 - q) / n.max(1) as f64).sqrt();
    let at = |q: f64| histogram.value_at_quantile(q.clamp(0.0, 1.0)) as f64 / 1e6;
    let high = if (q + half) * n as f64 > n as f64 - 1.0 {
        f64::INFINITY
    } else {
        at(q + half)
    };
    Interval {
        value: at(q),
        low: at(q - half),
        high,
        n,
    }
}

/// Wilson's interval for `k` of `n`.
fn proportion(k: u64, n: u64) -> Interval {
    if n == 0 {
        return Interval {
            value: 0.0,
            low: 0.0,
            high: 1.0,
            n,
        };
    }
    let (nf, p) = (n as f64, k as f64 / n as f64);
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
    let half = Z95 * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / (1.0 + z2 / nf);
    Interval {
        value: p,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
        n,
    }
}

/// `count` events over `seconds`, with the Poisson count's interval.
fn rate(count: u64, seconds: f64) -> Interval {
    let c = count as f64;
    let half = Z95 * c.sqrt();
    Interval {
        value: c / seconds,
        low: (c - half).max(0.0) / seconds,
        high: (c + half.max(Z95)) / seconds,
        n: count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_intervals_never_deviate_and_disjoint_ones_beyond_the_tolerance_do() {
        let a = Interval {
            value: 10.0,
            low: 9.0,
            high: 11.0,
            n: 100,
        };
        let b = Interval {
            value: 12.0,
            low: 10.5,
            high: 13.5,
            n: 100,
        };
        assert!(!row("node", "x".into(), "p50_ms", a, b, 0.1, 0.0).deviates);
        let c = Interval {
            value: 20.0,
            low: 19.0,
            high: 21.0,
            n: 100,
        };
        let r = row("node", "x".into(), "p50_ms", a, c, 0.1, 0.0);
        assert!(r.deviates && (r.deviation - 1.0).abs() < 1e-12);
        // A gap of 0.5 against a value of 10 is within 10 %.
        let d = Interval {
            value: 12.0,
            low: 11.5,
            high: 12.5,
            n: 100,
        };
        assert!(!row("node", "x".into(), "p50_ms", a, d, 0.1, 0.0).deviates);
    }

    #[test]
    fn wilson_and_poisson_intervals_contain_their_value() {
        let p = proportion(5, 100);
        assert!(
            p.low < 0.05 && 0.05 < p.high && p.low > 0.01 && p.high < 0.12,
            "{p:?}"
        );
        let zero = proportion(0, 100);
        assert!(zero.low == 0.0 && zero.high > 0.02);
        let r = rate(400, 10.0);
        assert!((r.value - 40.0).abs() < 1e-12 && r.low < 40.0 && r.high > 40.0);
    }
}
