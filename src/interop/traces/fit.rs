//! Which of the model's distributions describes a histogram of durations: a constant (the
//! median), an exponential (by the mean) or a lognormal (by the median and the p99, the way
//! model files state it). Each candidate's *fit error* is the mean relative difference between
//! its quantiles and the histogram's at the 10th, 25th, 50th, 75th, 90th, 95th and 99th
//! percentiles; the smallest wins. The lognormal matches the median and p99 by construction,
//! so it is the default shape; the others win only where they describe the body better.

use hdrhistogram::Histogram;

/// The quantiles compared, with the standard normal's quantile at each (for the lognormal).
const QUANTILES: [(f64, f64); 7] = [
    (0.10, -1.281_551_565_5),
    (0.25, -0.674_489_750_2),
    (0.50, 0.0),
    (0.75, 0.674_489_750_2),
    (0.90, 1.281_551_565_5),
    (0.95, 1.644_853_627_0),
    (0.99, 2.326_347_874_0),
];

/// A fitted distribution, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Constant { value_ns: u64 },
    Exponential { mean_ns: u64 },
    Lognormal { median_ns: u64, p99_ns: u64 },
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Constant { .. } => "constant",
            Shape::Exponential { .. } => "exponential",
            Shape::Lognormal { .. } => "lognormal",
        }
    }

    /// The distribution's quantile `q` (its normal quantile `z` for the lognormal).
    fn quantile_ns(self, q: f64, z: f64) -> f64 {
        match self {
            Shape::Constant { value_ns } => value_ns as f64,
            Shape::Exponential { mean_ns } => -(mean_ns as f64) * libm::log(1.0 - q),
            Shape::Lognormal { median_ns, p99_ns } => {
                let sigma = libm::log(p99_ns as f64 / median_ns as f64) / QUANTILES[6].1;
                median_ns as f64 * libm::exp(sigma * z)
            }
        }
    }
}

/// The chosen shape, its error, and the other candidates' errors (for the written comment).
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub shape: Shape,
    /// Mean relative quantile difference, 0.05 = 5 %.
    pub error: f64,
    pub alternatives: Vec<(&'static str, f64)>,
    pub samples: u64,
    pub median_ns: u64,
    pub p99_ns: u64,
}

/// Fits a histogram of durations. `None` when it is empty.
pub fn fit(histogram: &Histogram<u64>) -> Option<Fit> {
    if histogram.is_empty() {
        return None;
    }
    let observed: Vec<f64> = QUANTILES
        .iter()
        .map(|(q, _)| histogram.value_at_quantile(*q) as f64)
        .collect();
    let median_ns = histogram.value_at_quantile(0.5);
    let p99_ns = histogram.value_at_quantile(0.99);
    let mut candidates = vec![Shape::Constant {
        value_ns: median_ns,
    }];
    let mean_ns = histogram.mean().round() as u64;
    if mean_ns > 0 {
        candidates.push(Shape::Exponential { mean_ns });
    }
    if median_ns > 0 && p99_ns > median_ns {
        candidates.push(Shape::Lognormal { median_ns, p99_ns });
    }
    let scored: Vec<(Shape, f64)> = candidates
        .into_iter()
        .map(|shape| (shape, error(shape, &observed)))
        .collect();
    // Ties (a constant histogram fits every shape) go to the simplest, the first.
    let best = scored
        .iter()
        .copied()
        .fold(scored[0], |best, c| if c.1 < best.1 { c } else { best });
    let alternatives = scored
        .iter()
        .filter(|c| c.0 != best.0)
        .map(|c| (c.0.name(), c.1))
        .collect();
    Some(Fit {
        shape: best.0,
        error: best.1,
        alternatives,
        samples: histogram.len(),
        median_ns,
        p99_ns,
    })
}

fn error(shape: Shape, observed: &[f64]) -> f64 {
    let total: f64 = QUANTILES
        .iter()
        .zip(observed)
        .map(|(&(q, z), &seen)| (shape.quantile_ns(q, z) - seen).abs() / seen.max(1.0))
        .sum();
    total / QUANTILES.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Dist, Purpose, Stream};

    fn histogram_of(dist: &Dist, n: usize) -> Histogram<u64> {
        let mut stream = Stream::new(7, 1, Purpose::Service);
        let mut h = crate::interop::traces::observed::histogram();
        for _ in 0..n {
            h.saturating_record(dist.sample(&mut stream));
        }
        h
    }

    // 20,000 draws: the sample median and p99 are within 2 % and 6 % of the truth (about
    // four standard errors), and each wrong shape's error is far above the right one's.
    #[test]
    fn each_shape_is_recognised_from_its_own_samples() {
        let lognormal = fit(&histogram_of(
            &Dist::lognormal_from_median_p99(4e6, 2e7),
            20_000,
        ))
        .unwrap();
        let Shape::Lognormal { median_ns, p99_ns } = lognormal.shape else {
            panic!("{lognormal:?}")
        };
        assert!((median_ns as f64 / 4e6 - 1.0).abs() < 0.02, "{median_ns}");
        assert!((p99_ns as f64 / 2e7 - 1.0).abs() < 0.06, "{p99_ns}");
        let exponential = fit(&histogram_of(&Dist::Exponential { mean_ns: 3e6 }, 20_000)).unwrap();
        let Shape::Exponential { mean_ns } = exponential.shape else {
            panic!("{exponential:?}")
        };
        assert!((mean_ns as f64 / 3e6 - 1.0).abs() < 0.03, "{mean_ns}");
        let constant = fit(&histogram_of(
            &Dist::Constant {
                value_ns: 1_500_000,
            },
            100,
        ))
        .unwrap();
        assert!(
            matches!(constant.shape, Shape::Constant { value_ns } if value_ns.abs_diff(1_500_000) < 1_000),
            "{constant:?}"
        );
        assert!(constant.error < 0.001);
    }

    #[test]
    fn an_empty_histogram_has_no_fit() {
        assert_eq!(fit(&crate::interop::traces::observed::histogram()), None);
    }
}
