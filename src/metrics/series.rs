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

#[derive(Clone, Debug)]
pub struct TimeSeries {
    step_ns: u64,
    buckets: Vec<Bucket>,
    /// The bucket being filled; its index is `buckets.len()`.
    current: Bucket,
    current_latency: Histogram<u64>,
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
            current_latency: Histogram::new_with_bounds(1, 3_600_000_000_000, 2)
                .expect("constant histogram bounds are valid"),
        }
    }

    pub fn step_ns(&self) -> u64 {
        self.step_ns
    }

    /// Records a request that ended at `now_ns`. Invariant: `now_ns` never decreases.
    pub fn record(&mut self, now_ns: u64, latency_ns: u64, outcome: Outcome) {
        let index = (now_ns / self.step_ns) as usize;
        assert!(
            index >= self.buckets.len(),
            "time series recorded out of order"
        );
        while self.buckets.len() < index {
            self.close_current();
        }
        self.current.completed += 1;
        if matches!(outcome, Outcome::Failed(_)) {
            self.current.errors += 1;
        } else {
            self.current_latency.saturating_record(latency_ns.max(1));
        }
    }

    fn close_current(&mut self) {
        if !self.current_latency.is_empty() {
            self.current.p99_ns = self.current_latency.value_at_quantile(0.99);
        }
        self.buckets.push(self.current);
        self.current = Bucket::default();
        self.current_latency.reset();
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
}
