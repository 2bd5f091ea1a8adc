//! Distributions of durations, sampled in integer nanoseconds.
//!
//! Every transform uses `libm` (pure Rust), never the platform's `ln`/`exp`, so a seed gives
//! the same nanoseconds on every machine.

use super::rng::Stream;
use super::ziggurat;

/// The standard normal quantile at 0.99, used to fit a lognormal to a median and a p99.
pub const Z_99: f64 = 2.326_347_874_040_840_8;

/// A distribution of durations. Constructed only by the model loader, which checks the
/// parameters; the invariants below are what sampling relies on.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// Always the same value.
    Constant { value_ns: u64 },
    /// Exponential with the given mean. Invariant: `mean_ns > 0`.
    Exponential { mean_ns: f64 },
    /// Uniform in `[min_ns, max_ns]`. Invariant: `min_ns <= max_ns`.
    Uniform { min_ns: u64, max_ns: u64 },
    /// `exp(N(mu, sigma))` nanoseconds. Invariant: `sigma >= 0`.
    LogNormal { mu: f64, sigma: f64 },
    /// An empirical distribution through `(quantile, ns)` points, interpolated linearly in
    /// `-ln(1 - q)` so that the tail beyond the last point continues exponentially, which is
    /// how latency tails read off a dashboard usually behave.
    /// Invariant: at least one point; quantiles strictly increasing in (0, 1); values
    /// non-decreasing; the first point is `(0, min)`.
    Percentiles { points: Vec<(f64, f64)> },
}

impl Dist {
    /// A lognormal through a median and a p99 (p99 >= median > 0).
    pub fn lognormal_from_median_p99(median_ns: f64, p99_ns: f64) -> Dist {
        let mu = libm::log(median_ns);
        let sigma = (libm::log(p99_ns) - mu) / Z_99;
        Dist::LogNormal { mu, sigma }
    }

    /// Draws one duration.
    #[inline]
    pub fn sample(&self, stream: &mut Stream) -> u64 {
        match self {
            Dist::Constant { value_ns } => *value_ns,
            Dist::Exponential { mean_ns } => to_ns(mean_ns * ziggurat::exponential(stream)),
            Dist::Uniform { min_ns, max_ns } => min_ns + stream.below(max_ns - min_ns + 1),
            Dist::LogNormal { mu, sigma } => {
                to_ns(libm::exp(mu + sigma * ziggurat::normal(stream)))
            }
            Dist::Percentiles { points } => to_ns(percentile_quantile(points, stream.unit())),
        }
    }

    /// The mean, where it has a closed form (used by diagnostics and by tests).
    pub fn mean_ns(&self) -> f64 {
        match self {
            Dist::Constant { value_ns } => *value_ns as f64,
            Dist::Exponential { mean_ns } => *mean_ns,
            Dist::Uniform { min_ns, max_ns } => (*min_ns as f64 + *max_ns as f64) / 2.0,
            Dist::LogNormal { mu, sigma } => libm::exp(mu + sigma * sigma / 2.0),
            Dist::Percentiles { points } => percentile_mean(points),
        }
    }

    /// The smallest value the distribution can produce.
    pub fn min_ns(&self) -> u64 {
        match self {
            Dist::Constant { value_ns } => *value_ns,
            Dist::Uniform { min_ns, .. } => *min_ns,
            Dist::Percentiles { points } => to_ns(points[0].1),
            Dist::Exponential { .. } | Dist::LogNormal { .. } => 0,
        }
    }
}

fn to_ns(value: f64) -> u64 {
    round_ns(value)
}

/// `value` rounded to the nearest nanosecond, halves away from zero, negatives and NaN to 0,
/// saturating — exactly `libm::round(value.max(0.0)) as u64`, without its call on the path of
/// every sampled delay: below 2^52 the fractional part `value - trunc(value)` is exact.
pub fn round_ns(value: f64) -> u64 {
    const EXACT_BELOW: f64 = 4_503_599_627_370_496.0; // 2^52
    let value = value.max(0.0);
    if value >= EXACT_BELOW {
        return libm::round(value) as u64;
    }
    // Signed conversions are single instructions on x86-64; unsigned ones are not.
    let whole = value as i64;
    let up = value - whole as f64 >= 0.5;
    (whole + i64::from(up)) as u64
}

fn tail_coordinate(q: f64) -> f64 {
    -libm::log(1.0 - q)
}

fn percentile_quantile(points: &[(f64, f64)], q: f64) -> f64 {
    let position = points.partition_point(|&(pq, _)| pq <= q);
    let (lo, hi) = if position == 0 {
        return points[0].1;
    } else if position < points.len() {
        (points[position - 1], points[position])
    } else if points.len() >= 2 {
        // Beyond the last point: continue the last segment's slope in tail coordinates.
        (points[points.len() - 2], points[points.len() - 1])
    } else {
        return points[0].1;
    };
    let (x0, x1, x) = (
        tail_coordinate(lo.0),
        tail_coordinate(hi.0),
        tail_coordinate(q),
    );
    if x1 <= x0 {
        return hi.1;
    }
    lo.1 + (hi.1 - lo.1) * (x - x0) / (x1 - x0)
}

/// The mean by numerical integration of the quantile function (midpoint rule, fixed grid, so
/// the answer is deterministic).
fn percentile_mean(points: &[(f64, f64)]) -> f64 {
    const STEPS: usize = 100_000;
    let sum: f64 = (0..STEPS)
        .map(|i| percentile_quantile(points, (i as f64 + 0.5) / STEPS as f64))
        .sum();
    sum / STEPS as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::rng::Purpose;

    fn sample_mean(dist: &Dist, n: usize) -> f64 {
        let mut stream = Stream::new(11, 3, Purpose::Service);
        (0..n).map(|_| dist.sample(&mut stream) as f64).sum::<f64>() / n as f64
    }

    fn sample_quantile(dist: &Dist, n: usize, q: f64) -> f64 {
        let mut stream = Stream::new(12, 3, Purpose::Service);
        let mut xs: Vec<u64> = (0..n).map(|_| dist.sample(&mut stream)).collect();
        xs.sort_unstable();
        xs[(q * n as f64) as usize] as f64
    }

    #[test]
    fn exponential_mean() {
        // n = 200k: standard error of the mean is mean/sqrt(n) = 0.22%; allow 1%.
        let dist = Dist::Exponential { mean_ns: 1e6 };
        assert!((sample_mean(&dist, 200_000) / 1e6 - 1.0).abs() < 0.01);
    }

    #[test]
    fn uniform_bounds_and_mean() {
        let dist = Dist::Uniform {
            min_ns: 100,
            max_ns: 300,
        };
        let mut stream = Stream::new(1, 1, Purpose::Service);
        for _ in 0..10_000 {
            assert!((100..=300).contains(&dist.sample(&mut stream)));
        }
        assert!((sample_mean(&dist, 100_000) - 200.0).abs() < 1.0);
    }

    #[test]
    fn lognormal_hits_its_median_and_p99() {
        // n = 200k: the empirical p99 has about 1% relative error at this size; allow 3%.
        let dist = Dist::lognormal_from_median_p99(5e6, 40e6);
        let median = sample_quantile(&dist, 200_000, 0.5);
        let p99 = sample_quantile(&dist, 200_000, 0.99);
        assert!((median / 5e6 - 1.0).abs() < 0.02, "median {median}");
        assert!((p99 / 40e6 - 1.0).abs() < 0.03, "p99 {p99}");
    }

    #[test]
    fn percentiles_pass_through_their_points() {
        let dist = Dist::Percentiles {
            points: vec![(0.0, 1e6), (0.5, 10e6), (0.9, 30e6), (0.99, 100e6)],
        };
        let Dist::Percentiles { points } = &dist else {
            unreachable!()
        };
        assert_eq!(percentile_quantile(points, 0.5), 10e6);
        assert!((percentile_quantile(points, 0.9) - 30e6).abs() < 1.0);
        assert!((percentile_quantile(points, 0.99) - 100e6).abs() < 1.0);
        // Beyond p99 the tail continues: p99.9 lies beyond p99 by one more decade's slope.
        assert!((percentile_quantile(points, 0.999) - 170e6).abs() < 1e3);
        let p90 = sample_quantile(&dist, 200_000, 0.9);
        assert!((p90 / 30e6 - 1.0).abs() < 0.02, "p90 {p90}");
        let mean = dist.mean_ns();
        assert!((sample_mean(&dist, 200_000) / mean - 1.0).abs() < 0.02);
    }

    #[test]
    fn constant_draws_nothing() {
        let mut a = Stream::new(1, 1, Purpose::Service);
        let b = a.clone();
        assert_eq!(Dist::Constant { value_ns: 7 }.sample(&mut a), 7);
        assert_eq!(a.next_u64(), b.clone().next_u64());
    }

    proptest::proptest! {
        #[test]
        fn round_ns_is_libm_round(value in proptest::prop_oneof![
            -1e3f64..1e3, 0f64..1e12, 1e15f64..1e20, proptest::num::f64::ANY,
        ]) {
            let half = value.trunc() + 0.5;
            for v in [value, half, half.next_up(), half.next_down()] {
                proptest::prop_assert_eq!(round_ns(v), libm::round(v.max(0.0)) as u64, "{}", v);
            }
        }
    }
}
