//! The content caches' part of a report: per cache node, hits, misses, fills and coalesced
//! misses, the hit ratio in the run, per window and per step, control beside experiment; and
//! its text rendering (a table, and a strip of the experiment's hit ratio per step, so the
//! drop and the refill are visible). Absent for models without content caches, so their
//! reports keep their bytes.

use indexmap::IndexMap;
use serde::Serialize;

use super::outline::Section;
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

/// The `caches` section; `None` without content caches.
pub fn section(caches: &IndexMap<String, CacheReport>, with_faults: bool) -> Option<Section> {
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
