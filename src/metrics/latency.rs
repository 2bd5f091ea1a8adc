//! Latency distribution: an HDR histogram for quantiles plus an exact sum for the mean.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest latency the histogram resolves (one hour); larger values are clamped to it.
const HIGHEST_NS: u64 = 3_600_000_000_000;
/// Two significant figures: quantiles within 1%, at a few tens of kilobytes per histogram.
const SIGNIFICANT_FIGURES: u8 = 2;

#[derive(Clone, Debug)]
pub struct Latency {
    histogram: Histogram<u64>,
    /// Exact, so the mean carries no bucketing error.
    sum_ns: u128,
    max_ns: u64,
}

/// The numbers a report shows for a latency distribution, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    pub fn new() -> Latency {
        Latency {
            histogram: Histogram::new_with_bounds(1, HIGHEST_NS, SIGNIFICANT_FIGURES)
                .expect("constant histogram bounds are valid"),
            sum_ns: 0,
            max_ns: 0,
        }
    }

    pub fn record(&mut self, latency_ns: u64) {
        self.histogram.saturating_record(latency_ns.max(1));
        self.sum_ns += u128::from(latency_ns);
        self.max_ns = self.max_ns.max(latency_ns);
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    pub fn mean_ns(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum_ns as f64 / n as f64,
        }
    }

    /// The value at quantile `q` in [0, 1]; 0 when empty.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.count() == 0 {
            0
        } else {
            self.histogram.value_at_quantile(q).min(self.max_ns)
        }
    }

    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            mean: self.mean_ns(),
            p50: self.quantile_ns(0.5),
            p90: self.quantile_ns(0.9),
            p99: self.quantile_ns(0.99),
            p999: self.quantile_ns(0.999),
            max: self.max_ns,
        }
    }

    pub fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// Adds another distribution into this one (exact: counts add).
    pub fn merge(&mut self, other: &Latency) {
        self.histogram
            .add(&other.histogram)
            .expect("histograms with the same bounds always add");
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_a_known_set() {
        let mut latency = Latency::new();
        for ms in 1..=100u64 {
            latency.record(ms * 1_000_000);
        }
        let summary = latency.summary();
        assert!((summary.mean - 50.5e6).abs() < 1.0, "exact mean");
        // Two significant figures: quantiles within 1%.
        assert!(
            (summary.p50 as f64 / 50e6 - 1.0).abs() < 0.01,
            "{}",
            summary.p50
        );
        assert!(
            (summary.p99 as f64 / 99e6 - 1.0).abs() < 0.01,
            "{}",
            summary.p99
        );
        assert_eq!(summary.max, 100_000_000);
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(Latency::new().summary(), LatencySummary::default());
    }
}
