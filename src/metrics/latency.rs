//! Latency distribution: an HDR histogram for quantiles plus an exact sum for the mean.

use std::borrow::Cow;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest latency the histogram resolves (one hour); larger values are clamped to it.
const HIGHEST_NS: u64 = 3_600_000_000_000;
/// Two significant figures: quantiles within 1%, at a few tens of kilobytes per histogram.
const SIGNIFICANT_FIGURES: u8 = 2;

/// Latencies held back before they are counted into the histogram. A record lands in a
/// bucket-dependent line of a ~36 KB counts array; with a model's worth of histograms that is
/// a cache miss per record, while a batch counted together touches each hot line once.
const BATCH: usize = 512;

#[derive(Clone, Debug)]
pub struct Latency {
    /// Every latency but those still `pending`.
    histogram: Histogram<u64>,
    /// Recorded latencies (clamped below at 1) not yet in `histogram`; fewer than `BATCH`.
    pending: Vec<u64>,
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
            pending: Vec::new(),
            sum_ns: 0,
            max_ns: 0,
        }
    }

    #[inline]
    pub fn record(&mut self, latency_ns: u64) {
        self.pending.push(latency_ns.max(1));
        if self.pending.len() == BATCH {
            self.flush();
        }
        self.sum_ns += u128::from(latency_ns);
        self.max_ns = self.max_ns.max(latency_ns);
    }

    /// Counts the pending latencies into the histogram. Reads are exact either way; a run
    /// flushes its metrics once at the end so reports read the histogram directly.
    pub fn flush(&mut self) {
        for latency_ns in self.pending.drain(..) {
            self.histogram.saturating_record(latency_ns);
        }
    }

    pub fn count(&self) -> u64 {
        self.histogram.len() + self.pending.len() as u64
    }

    pub fn mean_ns(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum_ns as f64 / n as f64,
        }
    }

    /// The value at quantile `q` in [0, 1]; 0 when empty.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        self.quantile_in(&self.histogram(), q)
    }

    fn quantile_in(&self, histogram: &Histogram<u64>, q: f64) -> u64 {
        if histogram.is_empty() {
            0
        } else {
            histogram.value_at_quantile(q).min(self.max_ns)
        }
    }

    pub fn summary(&self) -> LatencySummary {
        let histogram = self.histogram();
        LatencySummary {
            mean: self.mean_ns(),
            p50: self.quantile_in(&histogram, 0.5),
            p90: self.quantile_in(&histogram, 0.9),
            p99: self.quantile_in(&histogram, 0.99),
            p999: self.quantile_in(&histogram, 0.999),
            max: self.max_ns,
        }
    }

    /// Every recorded latency's count: the histogram itself once flushed, else a copy with
    /// the pending ones added.
    pub fn histogram(&self) -> Cow<'_, Histogram<u64>> {
        if self.pending.is_empty() {
            return Cow::Borrowed(&self.histogram);
        }
        let mut histogram = self.histogram.clone();
        for &latency_ns in &self.pending {
            histogram.saturating_record(latency_ns);
        }
        Cow::Owned(histogram)
    }

    /// The value at quantile `q` as the histogram resolves it: the top of the bucket it falls
    /// in (`quantile_ns` without the clamp to the maximum), 0 when empty. A latency is above it
    /// exactly when its bucket is, which lets `AboveCounts` answer for it later.
    pub fn quantile_bucket_ns(&self, q: f64) -> u64 {
        let histogram = self.histogram();
        if histogram.is_empty() {
            0
        } else {
            histogram.value_at_quantile(q)
        }
    }

    /// Adds another distribution into this one (exact: counts add).
    pub fn merge(&mut self, other: &Latency) {
        self.histogram
            .add(&*other.histogram())
            .expect("histograms with the same bounds always add");
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }
}

/// Latencies counted by histogram bucket, to tell later how many lie above a threshold that
/// is not known yet: exact for a threshold at a bucket's top (`Latency::quantile_bucket_ns`).
/// The histogram is allocated on the first latency.
#[derive(Clone, Debug, Default)]
pub struct AboveCounts {
    histogram: Option<Box<Histogram<u64>>>,
}

impl AboveCounts {
    pub fn record(&mut self, latency_ns: u64) {
        self.histogram
            .get_or_insert_with(|| Box::new(Latency::new().histogram))
            .saturating_record(latency_ns.max(1));
    }

    /// How many recorded latencies lie above `threshold_ns`, a bucket's top.
    pub fn above(&self, threshold_ns: u64) -> u64 {
        let Some(histogram) = &self.histogram else {
            return 0;
        };
        histogram
            .iter_recorded()
            .filter(|v| v.value_iterated_to() > threshold_ns)
            .map(|v| v.count_at_value())
            .sum()
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
    fn above_counts_agree_with_exact_counts_at_bucket_tops() {
        let mut latency = Latency::new();
        let mut above = AboveCounts::default();
        let mut stream = crate::kernel::Stream::new(3, 3, crate::kernel::Purpose::Service);
        let values: Vec<u64> = (0..5_000).map(|_| stream.below(2_000_000_000)).collect();
        for &v in &values {
            latency.record(v);
            above.record(v);
        }
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            let t = latency.quantile_bucket_ns(q);
            let exact = values.iter().filter(|&&v| v.max(1) > t).count() as u64;
            assert_eq!(above.above(t), exact, "q = {q}, threshold {t}");
        }
        assert_eq!(AboveCounts::default().above(0), 0);
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(Latency::new().summary(), LatencySummary::default());
    }

    #[test]
    fn pending_latencies_count_before_and_after_a_flush() {
        // 1,300 values: two full batches counted and 276 pending. Every read agrees with a
        // histogram that recorded each value at once, flushed or not.
        let mut direct =
            Histogram::<u64>::new_with_bounds(1, HIGHEST_NS, SIGNIFICANT_FIGURES).unwrap();
        let mut latency = Latency::new();
        let mut stream = crate::kernel::Stream::new(9, 9, crate::kernel::Purpose::Service);
        for _ in 0..1_300 {
            let v = stream.below(50_000_000);
            direct.saturating_record(v.max(1));
            latency.record(v);
        }
        assert_eq!(latency.pending.len(), 1_300 % BATCH);
        assert_eq!(latency.count(), 1_300);
        assert_eq!(*latency.histogram(), direct);
        let before = latency.summary();
        let mut other = Latency::new();
        other.merge(&latency);
        assert_eq!(*other.histogram(), direct);
        latency.flush();
        assert!(latency.pending.is_empty());
        assert_eq!(latency.summary(), before);
        assert_eq!(*latency.histogram(), direct);
    }
}
