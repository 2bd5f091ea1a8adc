//! Zipf-distributed ranks in O(1) time and memory per draw: Hörmann & Derflinger's
//! rejection-inversion ("Rejection-inversion to generate variates from monotone discrete
//! distributions", ACM TOMACS 1996), as in Apache Commons RNG's `RejectionInversionZipfSampler`.
//!
//! Written here rather than taken from `rand_distr` (whose versions target other `rand_core`s)
//! so every float function is `libm`'s and the bits do not depend on the platform.

use super::Stream;

/// Ranks `1..=n` with probability proportional to `rank^-s`, `s >= 0` (0 is uniform).
#[derive(Clone, Copy, Debug)]
pub struct Zipf {
    n: f64,
    s: f64,
    h_integral_x1: f64,
    h_integral_n: f64,
    threshold: f64,
}

impl Zipf {
    /// Invariant: `n >= 1`, `s >= 0` and finite.
    pub fn new(n: u32, s: f64) -> Zipf {
        assert!(n >= 1 && s >= 0.0 && s.is_finite(), "Zipf({n}, {s})");
        let mut zipf = Zipf {
            n: f64::from(n),
            s,
            h_integral_x1: 0.0,
            h_integral_n: 0.0,
            threshold: 0.0,
        };
        zipf.h_integral_x1 = zipf.h_integral(1.5) - 1.0;
        zipf.h_integral_n = zipf.h_integral(zipf.n + 0.5);
        zipf.threshold = 2.0 - zipf.h_integral_inverse(zipf.h_integral(2.5) - zipf.h(2.0));
        zipf
    }

    /// A rank from 1 to n. Expected draws per call are below 1.1 for every `s` (the rejection
    /// region is small), and bounded in probability, never in a scan over the ranks.
    pub fn sample(&self, stream: &mut Stream) -> u32 {
        loop {
            let u = self.h_integral_n + stream.unit() * (self.h_integral_x1 - self.h_integral_n);
            let x = self.h_integral_inverse(u);
            let k = libm::floor(x + 0.5).clamp(1.0, self.n);
            if k - x <= self.threshold || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u32;
            }
        }
    }

    fn h(&self, x: f64) -> f64 {
        libm::exp(-self.s * libm::log(x))
    }

    /// The integral of `h` from 1 to x, shifted: `(x^(1-s) - 1) / (1 - s)`, or `log x` at s = 1.
    fn h_integral(&self, x: f64) -> f64 {
        let log_x = libm::log(x);
        helper2((1.0 - self.s) * log_x) * log_x
    }

    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.s)).max(-1.0);
        libm::exp(helper1(t) * x)
    }
}

/// `log1p(x) / x`, continuous at 0.
fn helper1(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        libm::log1p(x) / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// `expm1(x) / x`, continuous at 0.
fn helper2(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        libm::expm1(x) / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Purpose;

    /// Frequencies of the first ranks against `r^-s / H`, 200,000 draws: each within 5
    /// standard errors (binomial), for s in {0, 0.5, 1, 1.5} over 1,000 ranks.
    #[test]
    fn frequencies_match_the_pmf() {
        const DRAWS: usize = 200_000;
        for s in [0.0, 0.5, 1.0, 1.5] {
            let n = 1_000u32;
            let zipf = Zipf::new(n, s);
            let mut stream = Stream::new(7, 1, Purpose::CacheKey);
            let mut counts = vec![0u32; n as usize + 1];
            for _ in 0..DRAWS {
                let k = zipf.sample(&mut stream);
                assert!((1..=n).contains(&k));
                counts[k as usize] += 1;
            }
            let norm: f64 = (1..=n).map(|r| libm::pow(f64::from(r), -s)).sum();
            for r in [1u32, 2, 3, 10, 100, 1_000] {
                let p = libm::pow(f64::from(r), -s) / norm;
                let expected = p * DRAWS as f64;
                let sd = (DRAWS as f64 * p * (1.0 - p)).sqrt();
                let got = f64::from(counts[r as usize]);
                assert!(
                    (got - expected).abs() <= 5.0 * sd,
                    "s={s} r={r}: {got} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn one_rank_is_always_drawn() {
        let zipf = Zipf::new(1, 0.9);
        let mut stream = Stream::new(1, 2, Purpose::CacheKey);
        assert!((0..100).all(|_| zipf.sample(&mut stream) == 1));
    }
}
