//! A time series of completions, errors and p99 per fixed interval, for timelines in reports.

use hdrhistogram::Histogram;
use serde::Serialize;

use super::Outcome;

/// Upper bound on the number of buckets: the step grows with the run so memory does not.
pub const MAX_POINTS: u64 = 3_600;

/// One interval of the series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// Requests that ended in the interval, whatever the outcome.
    pub completed: u64,
    /// Of those, the failed ones.
    pub errors: u64,
    /// The p99 latency of the answered requests that ended in the interval (0 when none did).
    pub p99_ns: u64,
}

/// Latencies of one step kept as plain values up to this many; past it the step spills into the
/// histogram. Bounds the memory of a step while most steps never touch the histogram.
const MAX_HELD: usize = 16_384;

#[derive(Clone, Debug)]
pub struct TimeSeries {
    step_ns: u64,
    buckets: Vec<Bucket>,
    /// The bucket being filled; its index is `buckets.len()`.
    current: Bucket,
    /// Where the current bucket's step ends: `(buckets.len() + 1) * step_ns`.
    current_end_ns: u64,
    /// The current step's answered latencies while there are at most `MAX_HELD` of them.
    held: Vec<u64>,
    /// The current step's latencies once `held` spilled (empty otherwise); also the ruler that
    /// turns a held value into the histogram's value, so both paths give the same p99.
    current_latency: Histogram<u64>,
    spilled: bool,
}

impl TimeSeries {
    /// The step for a run: one second, or coarser so a long run stays within `MAX_POINTS`.
    pub fn step_for(duration_ns: u64) -> u64 {
        const SECOND: u64 = 1_000_000_000;
        let seconds = duration_ns.div_ceil(SECOND).div_ceil(MAX_POINTS).max(1);
        seconds * SECOND
    }

    pub fn new(step_ns: u64) -> TimeSeries {
        assert!(step_ns > 0, "time series step must be positive");
        TimeSeries {
            step_ns,
            buckets: Vec::new(),
            current: Bucket::default(),
            current_end_ns: step_ns,
            held: Vec::new(),
            current_latency: Histogram::new_with_bounds(1, 3_600_000_000_000, 2)
                .expect("constant histogram bounds are valid"),
            spilled: false,
        }
    }

    pub fn step_ns(&self) -> u64 {
        self.step_ns
    }

    /// Records a request that ended at `now_ns`. Invariant: `now_ns` never decreases.
    #[inline]
    pub fn record(&mut self, now_ns: u64, latency_ns: u64, outcome: Outcome) {
        // Most records fall in the current step: one comparison, no division.
        if now_ns >= self.current_end_ns {
            self.advance_to(now_ns);
        }
        self.current.completed += 1;
        if matches!(outcome, Outcome::Failed(_)) {
            self.current.errors += 1;
        } else {
            self.record_latency(latency_ns.max(1));
        }
    }

    /// Recording a value in a histogram costs a bucket computation, and resetting one per step
    /// a clear of its whole counts array, on every request at every node: most steps hold few
    /// enough values to keep them as they are and select the p99 when the step closes.
    fn record_latency(&mut self, latency_ns: u64) {
        if self.spilled {
            self.current_latency.saturating_record(latency_ns);
        } else if self.held.len() < MAX_HELD && latency_ns <= self.current_latency.high() {
            self.held.push(latency_ns);
        } else {
            // Too many to hold, or a value the histogram clamps: from here on, the histogram.
            for &held in &self.held {
                self.current_latency.saturating_record(held);
            }
            self.held.clear();
            self.current_latency.saturating_record(latency_ns);
            self.spilled = true;
        }
    }

    /// The p99 of the current step's latencies, exactly as the histogram's
    /// `value_at_quantile(0.99)` gives it: the upper end of the bucket of the k-th smallest
    /// value, k = ceil(0.99 n).
    fn current_p99(&mut self) -> u64 {
        if self.spilled {
            return self.current_latency.value_at_quantile(0.99);
        }
        if self.held.is_empty() {
            return 0;
        }
        let rank = ((0.99 * self.held.len() as f64).ceil() as usize).max(1);
        let (_, kth, _) = self.held.select_nth_unstable(rank - 1);
        self.current_latency.highest_equivalent(*kth)
    }

    #[cold]
    fn advance_to(&mut self, now_ns: u64) {
        let index = (now_ns / self.step_ns) as usize;
        assert!(
            index >= self.buckets.len(),
            "time series recorded out of order"
        );
        while self.buckets.len() < index {
            self.close_current();
        }
    }

    fn close_current(&mut self) {
        self.current.p99_ns = self.current_p99();
        self.buckets.push(self.current);
        self.current_end_ns = (self.buckets.len() as u64 + 1).saturating_mul(self.step_ns);
        self.current = Bucket::default();
        self.held.clear();
        if self.spilled {
            self.current_latency.reset();
            self.spilled = false;
        }
    }

    /// Closes the series at the end of a run of `duration_ns` and returns every bucket, one per
    /// step from time zero, empty ones included.
    pub fn close(&mut self, duration_ns: u64) -> &[Bucket] {
        let total = duration_ns.div_ceil(self.step_ns) as usize;
        while self.buckets.len() < total {
            self.close_current();
        }
        &self.buckets
    }

    /// The buckets closed so far plus the one being filled.
    pub fn finish(&mut self) -> &[Bucket] {
        if self.current.completed > 0 {
            self.close_current();
        }
        &self.buckets
    }

    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Cause;

    #[test]
    fn buckets_by_step_with_gaps() {
        let mut series = TimeSeries::new(10);
        series.record(1, 4, Outcome::Ok);
        series.record(5, 6, Outcome::Failed(Cause::Error));
        series.record(35, 7, Outcome::Ok);
        let buckets = series.close(50).to_vec();
        assert_eq!(buckets.len(), 5);
        assert_eq!((buckets[0].completed, buckets[0].errors), (2, 1));
        assert_eq!(buckets[1], Bucket::default());
        assert_eq!(buckets[3].completed, 1);
        assert_eq!(buckets[3].p99_ns, 7);
    }

    #[test]
    fn step_grows_so_points_stay_bounded() {
        const HOUR: u64 = 3_600_000_000_000;
        assert_eq!(TimeSeries::step_for(15 * 60 * 1_000_000_000), 1_000_000_000);
        assert_eq!(TimeSeries::step_for(HOUR), 1_000_000_000);
        let day = 24 * HOUR;
        let step = TimeSeries::step_for(day);
        assert!(day / step <= MAX_POINTS, "{} points", day / step);
    }

    /// The p99 the histogram alone would give for each step's values.
    fn histogram_p99s(steps: &[Vec<u64>]) -> Vec<u64> {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 2).unwrap();
        steps
            .iter()
            .map(|values| {
                histogram.reset();
                for &v in values {
                    histogram.saturating_record(v.max(1));
                }
                if histogram.is_empty() {
                    0
                } else {
                    histogram.value_at_quantile(0.99)
                }
            })
            .collect()
    }

    fn series_p99s(steps: &[Vec<u64>]) -> Vec<u64> {
        let mut series = TimeSeries::new(10);
        for (step, values) in steps.iter().enumerate() {
            for &v in values {
                series.record(step as u64 * 10, v, Outcome::Ok);
            }
        }
        let buckets = series.close(steps.len() as u64 * 10);
        buckets.iter().map(|b| b.p99_ns).collect()
    }

    proptest::proptest! {
        #[test]
        fn held_values_give_the_histograms_p99(
            steps in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![0u64..2_000, 0u64..50_000_000, 3_000_000_000_000u64..4_000_000_000_000],
                    0..300,
                ),
                1..6,
            )
        ) {
            proptest::prop_assert_eq!(series_p99s(&steps), histogram_p99s(&steps));
        }
    }

    #[test]
    fn a_step_past_the_held_limit_spills_to_the_histogram() {
        let mut stream = crate::kernel::Stream::new(3, 1, crate::kernel::Purpose::Service);
        let steps: Vec<Vec<u64>> = [MAX_HELD + 500, 40, MAX_HELD]
            .iter()
            .map(|&n| (0..n).map(|_| stream.below(1_000_000_000)).collect())
            .collect();
        assert_eq!(series_p99s(&steps), histogram_p99s(&steps));
    }
}
