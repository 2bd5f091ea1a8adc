//! The content caches' part of a report: per cache node, hits, misses, fills and coalesced
//! misses, the hit ratio in the run, per window and per step, control beside experiment; and
//! its text rendering (a table, and a strip of the experiment's hit ratio per step, so the
//! drop and the refill are visible). Absent for models without content caches, so their
//! reports keep their bytes.

use indexmap::IndexMap;
use serde::Serialize;

use crate::analysis::WindowSpan;
use crate::model::{Role, Topology, Window};
use crate::sim::{CacheCounts, CacheStats, RunResult};

#[derive(Clone, Debug, Serialize)]
pub struct CacheReport {
    pub keys: u32,
    pub zipf: f64,
    pub capacity: u32,
    /// `null` without a TTL.
    pub ttl_ns: Option<u64>,
    /// Who shares one content: `replica`, `zone` or `shared`.
    pub content: &'static str,
    pub single_flight: bool,
    /// The steady-state hit ratio by Che's approximation for LRU (TTL not included).
    pub expected_hit_ratio: f64,
    pub control: CacheRunReport,
    pub experiment: CacheRunReport,
}

/// One run of a content cache. Counts are after the warm-up.
#[derive(Clone, Debug, Serialize)]
pub struct CacheRunReport {
    #[serde(flatten)]
    pub counts: CacheCounts,
    /// hits / lookups; `null` without lookups.
    pub hit_ratio: Option<f64>,
    /// Per window (`before`, `during`, `after`; only `before` without faults).
    pub windows: IndexMap<&'static str, CacheWindowReport>,
    pub series: CacheSeriesReport,
}

#[derive(Clone, Debug, Serialize)]
pub struct CacheWindowReport {
    #[serde(flatten)]
    pub counts: CacheCounts,
    pub hit_ratio: Option<f64>,
}

/// Per step from time zero (warm-up included), as parallel arrays.
#[derive(Clone, Debug, Serialize)]
pub struct CacheSeriesReport {
    pub step_ns: u64,
    pub hits: Vec<u64>,
    pub misses: Vec<u64>,
    pub fills: Vec<u64>,
    pub coalesced: Vec<u64>,
    /// `null` in a step without lookups.
    pub hit_ratio: Vec<Option<f64>>,
}

/// The content caches of a topology, in model order, keyed by node name.
pub fn cache_reports(
    topology: &Topology,
    spans: &[WindowSpan],
    control: &RunResult,
    experiment: &RunResult,
) -> IndexMap<String, CacheReport> {
    control
        .caches
        .iter()
        .zip(&experiment.caches)
        .filter_map(|(c, e)| {
            let node = topology.node(c.node);
            let Role::Cache {
                hit_ratio,
                content: Some(spec),
                ..
            } = node.role
            else {
                return None;
            };
            let report = CacheReport {
                keys: spec.keys,
                zipf: spec.zipf,
                capacity: spec.capacity,
                ttl_ns: spec.ttl_ns,
                content: spec.sharing.as_str(),
                single_flight: spec.single_flight,
                expected_hit_ratio: hit_ratio,
                control: CacheRunReport::new(c, spans),
                experiment: CacheRunReport::new(e, spans),
            };
            Some((node.name.clone(), report))
        })
        .collect()
}

impl CacheRunReport {
    fn new(stats: &CacheStats, spans: &[WindowSpan]) -> CacheRunReport {
        let windows = spans
            .iter()
            .map(|span| {
                let index = match span.window {
                    Window::Before => 0,
                    Window::During => 1,
                    Window::After => 2,
                };
                let counts = stats.windows.get(index).copied().unwrap_or(stats.total);
                let report = CacheWindowReport {
                    counts,
                    hit_ratio: counts.hit_ratio(),
                };
                (span.window.as_str(), report)
            })
            .collect();
        let column = |f: fn(&CacheCounts) -> u64| stats.series.iter().map(f).collect();
        CacheRunReport {
            counts: stats.total,
            hit_ratio: stats.total.hit_ratio(),
            windows,
            series: CacheSeriesReport {
                step_ns: stats.step_ns,
                hits: column(|c| c.hits),
                misses: column(|c| c.misses),
                fills: column(|c| c.fills),
                coalesced: column(|c| c.coalesced),
                hit_ratio: stats.series.iter().map(CacheCounts::hit_ratio).collect(),
            },
        }
    }
}
