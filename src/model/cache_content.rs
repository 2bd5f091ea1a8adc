//! A cache described by its content instead of a fixed hit ratio: a key space with Zipf
//! popularity, an LRU capacity, an optional TTL, who shares one content, and single-flight.
//! Reads the keys of `[cache.NAME]` that describe it (exactly one of `hit_ratio` and the
//! content keys), and gives the closed-form steady-state hit ratio the lint and the graph use.
//!
//! Must not: know the simulator. The content itself lives in `sim::cache`.

use super::codes::Code;
use super::reader::{Fields, Sink, Value, conflict, or_default};

/// The keys that describe a cache by its content.
pub(crate) const CONTENT_KEYS: [&str; 6] = [
    "keys",
    "zipf",
    "capacity",
    "ttl",
    "content",
    "single_flight",
];

/// The largest key space: keys are `u32` ranks in the simulator.
pub const MAX_KEYS: u32 = 1_000_000_000;
/// The largest capacity of one content, in entries, so a run's memory stays bounded.
pub const MAX_CAPACITY: u32 = 10_000_000;

/// Who shares one content (one LRU) among a cache's replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// Each replica has its own content.
    Replica,
    /// The replicas of one zone share a content.
    Zone,
    /// All replicas share one content.
    Shared,
}

impl Sharing {
    pub fn as_str(self) -> &'static str {
        match self {
            Sharing::Replica => "replica",
            Sharing::Zone => "zone",
            Sharing::Shared => "shared",
        }
    }
}

const SHARING: [(&str, Sharing); 3] = [
    ("replica", Sharing::Replica),
    ("zone", Sharing::Zone),
    ("shared", Sharing::Shared),
];

/// A cache's content. Invariant: `1 <= capacity <= keys <= MAX_KEYS`, `zipf >= 0` and finite,
/// `capacity <= MAX_CAPACITY`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CacheContent {
    /// The key space: keys are ranks `0..keys`, rank 0 the most popular.
    pub keys: u32,
    /// Popularity exponent s: rank r (from 1) is asked with probability proportional to r^-s.
    pub zipf: f64,
    /// Entries one content holds; the least recently used is evicted.
    pub capacity: u32,
    /// Entries expire this long after they were filled (checked on lookup).
    pub ttl_ns: Option<u64>,
    pub sharing: Sharing,
    /// Concurrent misses on one key of one content make one backing call and share its answer.
    pub single_flight: bool,
}

/// A cache's hit ratio: the configured one, or the closed form of its content; and the
/// content when the cache is described by one.
pub(crate) type CacheRatio = (f64, Option<CacheContent>);

/// Reads `hit_ratio` or the content keys (exactly one of the two). A cache with neither is
/// reported as missing `hit_ratio`.
pub(crate) fn read_cache_ratio(
    sink: &mut Sink<'_>,
    fields: &mut Fields<'_, '_>,
) -> Option<CacheRatio> {
    let content_key = CONTENT_KEYS
        .iter()
        .find_map(|&key| fields.get(key).map(|value| (key, value)));
    match (fields.get("hit_ratio"), content_key) {
        (Some(ratio), Some(other)) => {
            conflict(sink, ("hit_ratio", ratio), other).help(
                "give a fixed `hit_ratio`, or describe the content with `keys`, `zipf`, \
                 `capacity`, `ttl`, `content` and `single_flight`",
            );
            None
        }
        (_, None) => {
            let ratio = fields
                .required("hit_ratio")
                .and_then(|v| sink.fraction("hit_ratio", v))?;
            Some((ratio, None))
        }
        (None, Some(_)) => {
            let content = read_content(sink, fields)?;
            let ratio = che_hit_ratio(content.keys, content.zipf, content.capacity);
            Some((ratio, Some(content)))
        }
    }
}

fn read_content(sink: &mut Sink<'_>, fields: &Fields<'_, '_>) -> Option<CacheContent> {
    let keys = or_default(fields.get("keys"), 100_000, |v| {
        let n = sink.integer("keys", v, 1, u64::from(MAX_KEYS))?;
        u32::try_from(n).ok()
    });
    let zipf = or_default(fields.get("zipf"), 0.9, |v| sink.non_negative("zipf", v));
    let capacity = or_default(fields.get("capacity"), 10_000, |v| {
        let n = sink.integer("capacity", v, 1, u64::from(MAX_CAPACITY))?;
        u32::try_from(n).ok()
    });
    let ttl = or_default(fields.get("ttl"), None, |v| {
        sink.positive_duration("ttl", v).map(Some)
    });
    let sharing = or_default(fields.get("content"), Sharing::Zone, |v| {
        sink.choice("content", v, &SHARING)
    });
    let single_flight = or_default(fields.get("single_flight"), false, |v| {
        sink.boolean("single_flight", v)
    });
    let (keys, capacity) = (keys?, capacity?);
    if capacity > keys {
        let value = fields.get("capacity").or(fields.get("keys"));
        if let Some(value) = value {
            capacity_over_keys(sink, value, capacity, keys);
        }
        return None;
    }
    Some(CacheContent {
        keys,
        zipf: zipf?,
        capacity,
        ttl_ns: ttl?,
        sharing: sharing?,
        single_flight: single_flight?,
    })
}

fn capacity_over_keys(sink: &mut Sink<'_>, value: &Value<'_>, capacity: u32, keys: u32) {
    sink.error(
        Code::OutOfRange,
        value.span(),
        format!("the cache's `capacity` ({capacity}) is larger than its key space `keys` ({keys})"),
    )
    .label("capacity above the key space")
    .help("a cache holding every key never misses; give `capacity` at most `keys`");
}

/// Ranks are summed in runs: one rank each up to `EXACT_RANKS`, then runs of `rank / RUN_DIV`
/// ranks weighted at their middle rank (relative error of a run's weight below 1e-6).
const EXACT_RANKS: u64 = 4_096;
const RUN_DIV: u64 = 1_024;

/// Runs of ranks: (number of ranks, unnormalised weight of the middle one).
fn rank_runs(keys: u32, zipf: f64) -> Vec<(f64, f64)> {
    let n = u64::from(keys);
    let mut runs = Vec::new();
    let mut rank = 1u64;
    while rank <= n {
        let len = if rank < EXACT_RANKS {
            1
        } else {
            rank / RUN_DIV
        };
        let len = len.min(n - rank + 1);
        let middle = rank as f64 + (len - 1) as f64 / 2.0;
        runs.push((len as f64, libm::pow(middle, -zipf)));
        rank += len;
    }
    runs
}

/// Che's approximation of an LRU cache's steady-state hit ratio under the independent reference
/// model (Che, Tung & Wang 2002; Fricker, Robert & Roberts 2012): `h = sum_i p_i (1 - e^{-p_i T})`
/// where the characteristic time `T` solves `sum_i (1 - e^{-p_i T}) = C`, for Zipf popularity
/// `p_i ~ i^-s` over `keys` ranks and capacity `C`. Only the popularity matters, not the rate,
/// so the traffic share that reaches one content (per replica, zone or shared) does not enter.
/// TTL is ignored: it only lowers the ratio.
pub fn che_hit_ratio(keys: u32, zipf: f64, capacity: u32) -> f64 {
    if capacity >= keys {
        return 1.0;
    }
    let runs = rank_runs(keys, zipf);
    let norm: f64 = runs.iter().map(|(len, w)| len * w).sum();
    let runs: Vec<(f64, f64)> = runs.iter().map(|&(len, w)| (len, w / norm)).collect();
    let c = f64::from(capacity);
    // f(T) = sum (1 - e^{-pT}) - C is concave and increasing with f(C) <= 0, so Newton's method
    // from T = C climbs to the root from below without overshooting.
    let mut t = c;
    for _ in 0..200 {
        let (mut f, mut df) = (-c, 0.0);
        for &(len, p) in &runs {
            let e = libm::exp(-p * t);
            f += len * (1.0 - e);
            df += len * p * e;
        }
        if df <= 0.0 {
            break;
        }
        let step = -f / df;
        t += step;
        if step.abs() <= 1e-12 * t {
            break;
        }
    }
    runs.iter()
        .map(|&(len, p)| len * p * (1.0 - libm::exp(-p * t)))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_popularity_gives_capacity_over_keys() {
        let h = che_hit_ratio(10_000, 0.0, 2_500);
        assert!((h - 0.25).abs() < 1e-9, "{h}");
    }

    #[test]
    fn full_capacity_always_hits() {
        assert_eq!(che_hit_ratio(100, 0.9, 100), 1.0);
    }

    #[test]
    fn skew_and_capacity_raise_the_ratio() {
        let low = che_hit_ratio(100_000, 0.6, 1_000);
        let high = che_hit_ratio(100_000, 1.0, 1_000);
        let bigger = che_hit_ratio(100_000, 0.6, 10_000);
        assert!(low < high && low < bigger, "{low} {high} {bigger}");
        // LRU keeps less than the top C keys' share (the static optimum).
        let runs = rank_runs(100_000, 1.0);
        let norm: f64 = runs.iter().map(|(l, w)| l * w).sum();
        let top: f64 = (1..=1_000).map(|r| libm::pow(r as f64, -1.0)).sum::<f64>() / norm;
        assert!(high < top, "{high} {top}");
    }

    #[test]
    fn runs_cover_every_rank_once() {
        let runs = rank_runs(3_000_000, 0.9);
        let total: f64 = runs.iter().map(|(l, _)| l).sum();
        assert_eq!(total, 3_000_000.0);
        assert!(runs.len() < 20_000);
    }
}
