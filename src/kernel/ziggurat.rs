//! Ziggurat samplers (Marsaglia & Tsang, 2000) for the standard exponential and the standard
//! normal: about 99% of draws cost one random word, a table lookup and a multiplication,
//! where inversion costs a logarithm (and Box–Muller a logarithm, a root and a cosine). Every
//! service time, network latency and Poisson gap is drawn here, so this is the hottest
//! arithmetic of a run.
//!
//! `rand_distr` has the same algorithm, but its slow paths call `exp`/`ln` through num-traits,
//! whose `std` feature (switched on by other crates in this build) routes them to the
//! platform's maths library. Draws must be bit-identical on every machine, so here the tables
//! are built and the slow paths computed with `libm`, and every other step is exact IEEE
//! arithmetic.

use std::sync::LazyLock;

use super::rng::Stream;

/// Layers of the ziggurat: the index is the low 8 bits of the random word.
const LAYERS: usize = 256;

/// Where the exponential's tail starts, and the area of each layer, for 256 layers.
const EXP_R: f64 = 7.697_117_470_131_05;
const EXP_V: f64 = 0.003_949_659_822_581_557;
/// The same for the normal (density `exp(-x²/2)`, unnormalised).
const NORMAL_R: f64 = 3.654_152_885_361_009;
const NORMAL_V: f64 = 0.004_928_673_233_99;

/// `x[i]` is the right edge of layer `i` (decreasing, `x[0]` the base layer's virtual
/// width, `x[1] = R`, `x[256] = 0`) and `f[i]` the density there.
struct Tables {
    x: [f64; LAYERS + 1],
    f: [f64; LAYERS + 1],
}

impl Tables {
    fn new(r: f64, v: f64, density: fn(f64) -> f64, inverse: fn(f64) -> f64) -> Tables {
        let mut x = [0.0; LAYERS + 1];
        x[0] = v / density(r);
        x[1] = r;
        for i in 2..LAYERS {
            x[i] = inverse(density(x[i - 1]) + v / x[i - 1]);
        }
        x[LAYERS] = 0.0;
        Tables {
            x,
            f: x.map(density),
        }
    }
}

static EXP: LazyLock<Tables> =
    LazyLock::new(|| Tables::new(EXP_R, EXP_V, exp_density, |y| -libm::log(y)));
static NORMAL: LazyLock<Tables> = LazyLock::new(|| {
    Tables::new(NORMAL_R, NORMAL_V, normal_density, |y| {
        libm::sqrt(-2.0 * libm::log(y))
    })
});

fn exp_density(x: f64) -> f64 {
    libm::exp(-x)
}

fn normal_density(x: f64) -> f64 {
    libm::exp(-0.5 * x * x)
}

/// A standard exponential draw (mean 1). The fast path is inlined into every sampler; the
/// rest (1% of draws) is not.
#[inline(always)]
pub fn exponential(stream: &mut Stream) -> f64 {
    let tables = &*EXP;
    let bits = stream.next_u64();
    let layer = (bits & 0xff) as usize;
    // The top 52 bits as a uniform in [0, 1): independent of the layer's bits.
    let u = f64::from_bits(0x3ff0_0000_0000_0000 | (bits >> 12)) - 1.0;
    let x = u * tables.x[layer];
    if x < tables.x[layer + 1] {
        return x;
    }
    exponential_rest(stream, layer, x)
}

/// The draws outside a layer's rectangle: the tail, a wedge, or a fresh try.
#[cold]
#[inline(never)]
fn exponential_rest(stream: &mut Stream, mut layer: usize, mut x: f64) -> f64 {
    let tables = &*EXP;
    loop {
        if layer == 0 {
            // The tail past R is R plus a fresh exponential (memorylessness).
            return EXP_R - libm::log(stream.unit_open0());
        }
        if in_wedge(tables, layer, stream, exp_density(x)) {
            return x;
        }
        let bits = stream.next_u64();
        layer = (bits & 0xff) as usize;
        let u = f64::from_bits(0x3ff0_0000_0000_0000 | (bits >> 12)) - 1.0;
        x = u * tables.x[layer];
        if x < tables.x[layer + 1] {
            return x;
        }
    }
}

/// A standard normal draw.
#[inline]
pub fn normal(stream: &mut Stream) -> f64 {
    let tables = &*NORMAL;
    loop {
        let bits = stream.next_u64();
        let layer = (bits & 0xff) as usize;
        // The top 52 bits as a uniform in [-1, 1): the sign picks the half.
        let u = f64::from_bits(0x4000_0000_0000_0000 | (bits >> 12)) - 3.0;
        let x = u * tables.x[layer];
        if x.abs() < tables.x[layer + 1] {
            return x;
        }
        if layer == 0 {
            return normal_tail(stream, u < 0.0);
        }
        if in_wedge(tables, layer, stream, normal_density(x)) {
            return x;
        }
    }
}

/// Whether a point drawn uniformly over layer `layer`'s height falls under the density.
fn in_wedge(tables: &Tables, layer: usize, stream: &mut Stream, density: f64) -> bool {
    let (low, high) = (tables.f[layer], tables.f[layer + 1]);
    high + (low - high) * stream.unit() < density
}

/// Marsaglia's tail method for |x| > R.
#[cold]
fn normal_tail(stream: &mut Stream, negative: bool) -> f64 {
    loop {
        let x = libm::log(stream.unit_open0()) / NORMAL_R;
        let y = libm::log(stream.unit_open0());
        if -2.0 * y >= x * x {
            return if negative { x - NORMAL_R } else { NORMAL_R - x };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Purpose;

    #[test]
    fn the_ladders_close_at_the_top() {
        // Each layer has area V: after the last computed edge the next layer must reach the
        // density's peak, 1. A wrong R or V leaves a gap or an overlap here.
        for (tables, v) in [(&*EXP, EXP_V), (&*NORMAL, NORMAL_V)] {
            let top = tables.f[LAYERS - 1] + v / tables.x[LAYERS - 1];
            assert!((top - 1.0).abs() < 1e-9, "{top}");
            assert!(tables.x.windows(2).all(|w| w[0] > w[1]));
        }
    }

    /// The largest distance between the empirical distribution of `n` draws and `cdf`.
    fn kolmogorov_distance(n: usize, draw: impl FnMut() -> f64, cdf: impl Fn(f64) -> f64) -> f64 {
        let mut xs: Vec<f64> = std::iter::repeat_with(draw).take(n).collect();
        xs.sort_by(f64::total_cmp);
        xs.iter()
            .enumerate()
            .map(|(i, &x)| {
                let c = cdf(x);
                (c - i as f64 / n as f64)
                    .abs()
                    .max((c - (i + 1) as f64 / n as f64).abs())
            })
            .fold(0.0, f64::max)
    }

    // n = 400k: the 99.9% critical value of the Kolmogorov–Smirnov statistic is
    // 1.95/sqrt(n) = 0.0031. Moments: standard errors stated beside each check.
    const N: usize = 400_000;
    const KS_999: f64 = 0.0031;

    #[test]
    fn exponential_draws_follow_the_exponential_law() {
        let mut stream = Stream::new(21, 4, Purpose::Service);
        let d = kolmogorov_distance(N, || exponential(&mut stream), |x| 1.0 - libm::exp(-x));
        assert!(d < KS_999, "KS distance {d}");
        // The tail (x > R, probability e^-R = 4.5e-4, 180 expected) must be reached: its
        // mean is R + 1. Standard error of the count ~13.
        let mut stream = Stream::new(22, 4, Purpose::Service);
        let tail: Vec<f64> = std::iter::repeat_with(|| exponential(&mut stream))
            .take(N)
            .filter(|&x| x > EXP_R)
            .collect();
        assert!(
            (120..=240).contains(&tail.len()),
            "{} tail draws",
            tail.len()
        );
        let mean = tail.iter().sum::<f64>() / tail.len() as f64;
        assert!((mean - (EXP_R + 1.0)).abs() < 0.3, "tail mean {mean}");
    }

    #[test]
    fn normal_draws_follow_the_normal_law() {
        let mut stream = Stream::new(23, 4, Purpose::Service);
        let cdf = |x: f64| 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
        let d = kolmogorov_distance(N, || normal(&mut stream), cdf);
        assert!(d < KS_999, "KS distance {d}");
        // Symmetric tails beyond R: probability 2.6e-4 in all, ~103 expected (se ~10).
        let mut stream = Stream::new(24, 4, Purpose::Service);
        let draws: Vec<f64> = std::iter::repeat_with(|| normal(&mut stream))
            .take(N)
            .collect();
        let above = draws.iter().filter(|&&x| x > NORMAL_R).count();
        let below = draws.iter().filter(|&&x| x < -NORMAL_R).count();
        assert!(
            (25..=90).contains(&above) && (25..=90).contains(&below),
            "{above} {below}"
        );
        let mean = draws.iter().sum::<f64>() / N as f64;
        assert!(mean.abs() < 0.0063, "mean {mean}"); // se 0.0016, 4 se
    }
}
