//! Distributions written as inline tables, read into `kernel::Dist`:
//! `{ dist = "constant", value = "500us" }`, `{ dist = "exponential", mean = "2ms" }`,
//! `{ dist = "uniform", min = .., max = .. }`, `{ dist = "lognormal", median = .., p99 = .. }`,
//! `{ dist = "percentiles", p50 = .., p99 = .., "p99.9" = .., min = .. }`.

use crate::kernel::Dist;

use super::codes::Code;
use super::reader::{Fields, Sink, Value};

#[derive(Clone, Copy)]
enum Kind {
    Constant,
    Exponential,
    Uniform,
    LogNormal,
    Percentiles,
}

const KINDS: [(&str, Kind); 5] = [
    ("constant", Kind::Constant),
    ("exponential", Kind::Exponential),
    ("uniform", Kind::Uniform),
    ("lognormal", Kind::LogNormal),
    ("percentiles", Kind::Percentiles),
];

/// Every key of every kind, for judging a table whose kind is missing.
const ANY_KEY: &[&str] = &[
    "dist", "value", "mean", "min", "max", "median", "p50", "p90", "p99",
];

const EXPECTED: &str = "a distribution like { dist = \"exponential\", mean = \"2ms\" }";

/// Reads the distribution at `value`, for the key `key`.
pub(crate) fn read_dist(sink: &mut Sink<'_>, key: &str, value: &Value<'_>) -> Option<Dist> {
    let what = format!("the distribution `{key}`");
    let mut fields = Fields::of(sink, value, what.clone(), EXPECTED, ANY_KEY)?
        .with_pattern(|key| quantile_of(key).is_some());
    let Some(kind_value) = fields.required("dist") else {
        fields.finish(sink);
        return None;
    };
    let Some(kind) = sink.choice("dist", kind_value, &KINDS) else {
        // Without a kind, the other keys cannot be judged.
        return None;
    };
    let mut fields = Fields::new(fields.table(), fields.span(), what, allowed_keys(kind));
    if matches!(kind, Kind::Percentiles) {
        fields = fields.with_pattern(|key| quantile_of(key).is_some());
    }
    let dist = match kind {
        Kind::Constant => constant(sink, &mut fields),
        Kind::Exponential => exponential(sink, &mut fields),
        Kind::Uniform => uniform(sink, &mut fields),
        Kind::LogNormal => lognormal(sink, &mut fields),
        Kind::Percentiles => percentiles(sink, &fields),
    };
    let clean = fields.finish(sink);
    dist.filter(|_| clean)
}

fn allowed_keys(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Constant => &["dist", "value"],
        Kind::Exponential => &["dist", "mean"],
        Kind::Uniform => &["dist", "min", "max"],
        Kind::LogNormal => &["dist", "median", "p99"],
        Kind::Percentiles => &["dist", "min", "p50", "p90", "p99", "p99.9"],
    }
}

fn constant(sink: &mut Sink<'_>, fields: &mut Fields<'_, '_>) -> Option<Dist> {
    let value_ns = sink.duration("value", fields.required("value")?)?;
    Some(Dist::Constant { value_ns })
}

fn exponential(sink: &mut Sink<'_>, fields: &mut Fields<'_, '_>) -> Option<Dist> {
    let mean_ns = sink.positive_duration("mean", fields.required("mean")?)?;
    Some(Dist::Exponential {
        mean_ns: mean_ns as f64,
    })
}

fn uniform(sink: &mut Sink<'_>, fields: &mut Fields<'_, '_>) -> Option<Dist> {
    let min = fields.required("min").and_then(|v| sink.duration("min", v));
    let max_value = fields.required("max")?;
    let max = sink.duration("max", max_value);
    let (min_ns, max_ns) = (min?, max?);
    if min_ns > max_ns {
        sink.error(
            Code::BadDistribution,
            max_value.span(),
            "a uniform distribution's `max` is below its `min`",
        )
        .label("expected at least `min`");
        return None;
    }
    Some(Dist::Uniform { min_ns, max_ns })
}

fn lognormal(sink: &mut Sink<'_>, fields: &mut Fields<'_, '_>) -> Option<Dist> {
    let median = fields
        .required("median")
        .and_then(|v| sink.positive_duration("median", v));
    let p99_value = fields.required("p99")?;
    let p99 = sink.duration("p99", p99_value);
    let (median_ns, p99_ns) = (median?, p99?);
    if p99_ns < median_ns {
        sink.error(
            Code::BadDistribution,
            p99_value.span(),
            "a lognormal distribution's `p99` is below its `median`",
        )
        .label("expected at least the median");
        return None;
    }
    Some(Dist::lognormal_from_median_p99(
        median_ns as f64,
        p99_ns as f64,
    ))
}

/// The quantile of a key `pNN` or `pNN.N..` as a fraction in (0, 1), or `None` if the key does
/// not have that form. The fraction is one correctly rounded division of two exact integers.
pub(crate) fn quantile_of(key: &str) -> Option<f64> {
    let number = key.strip_prefix('p')?;
    let (whole, decimals) = number.split_once('.').unwrap_or((number, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 2 || !digits_only(whole) || !digits_only(decimals) {
        return None;
    }
    if number.contains('.') && decimals.is_empty() || decimals.len() > 12 {
        return None;
    }
    let numerator: u64 = format!("{whole}{decimals}").parse().ok()?;
    let denominator = 100 * 10u64.pow(decimals.len() as u32);
    (numerator > 0).then(|| numerator as f64 / denominator as f64)
}

fn percentiles(sink: &mut Sink<'_>, fields: &Fields<'_, '_>) -> Option<Dist> {
    let mut points: Vec<(f64, u64, &Value<'_>, &str)> = Vec::new();
    let mut ok = true;
    for (key, value) in fields.table().iter() {
        let name: &str = key.get_ref().as_ref();
        let Some(q) = quantile_of(name) else { continue };
        match sink.duration(name, value) {
            Some(ns) => points.push((q, ns, value, name)),
            None => ok = false,
        }
    }
    let min = match fields.get("min") {
        Some(v) => sink.duration("min", v),
        None => Some(0),
    };
    if points.is_empty() && ok {
        sink.error(
            Code::BadDistribution,
            fields.span(),
            "a percentiles distribution needs at least one percentile",
        )
        .label("expected keys like p50 = \"10ms\", p99 = \"80ms\"");
        return None;
    }
    let min_ns = min?;
    if !ok {
        return None;
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    check_percentiles(sink, &points, min_ns, fields.get("min"))?;
    let mut out = vec![(0.0, min_ns as f64)];
    out.extend(points.iter().map(|&(q, ns, _, _)| (q, ns as f64)));
    Some(Dist::Percentiles { points: out })
}

/// Points sorted by quantile: no quantile twice, values non-decreasing, `min` below them all.
fn check_percentiles(
    sink: &mut Sink<'_>,
    points: &[(f64, u64, &Value<'_>, &str)],
    min_ns: u64,
    min_value: Option<&Value<'_>>,
) -> Option<()> {
    let mut ok = true;
    for pair in points.windows(2) {
        let [(q0, v0, _, k0), (q1, v1, value, k1)] = pair else {
            continue;
        };
        if q0 == q1 {
            sink.error(
                Code::BadDistribution,
                value.span(),
                format!("`{k1}` is the same percentile as `{k0}`"),
            )
            .label("duplicate percentile");
            ok = false;
        } else if v1 < v0 {
            sink.error(
                Code::BadDistribution,
                value.span(),
                format!("percentiles must not decrease: `{k1}` is below `{k0}`"),
            )
            .label(format!("expected at least the value of `{k0}`"));
            ok = false;
        }
    }
    if let (Some((_, first, _, key)), Some(value)) = (points.first(), min_value) {
        if min_ns > *first {
            sink.error(
                Code::BadDistribution,
                value.span(),
                format!("`min` is above `{key}`"),
            )
            .label(format!("expected at most the value of `{key}`"));
            ok = false;
        }
    }
    ok.then_some(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn read(text: &str) -> (Option<Dist>, Vec<String>) {
        let line = format!("k = {text}");
        let mut sink = Sink::new(Path::new("t.toml"), &line);
        let root = sink.parse();
        let value = root.get_ref().get("k").expect("k is defined");
        let dist = read_dist(&mut sink, "service_time", value);
        let messages = sink.finish().into_iter().map(|d| d.message).collect();
        (dist, messages)
    }

    #[test]
    fn every_kind_reads() {
        let (d, _) = read(r#"{ dist = "constant", value = "500us" }"#);
        assert_eq!(d, Some(Dist::Constant { value_ns: 500_000 }));
        let (d, _) = read(r#"{ dist = "exponential", mean = "2ms" }"#);
        assert_eq!(d, Some(Dist::Exponential { mean_ns: 2e6 }));
        let (d, _) = read(r#"{ dist = "uniform", min = "1ms", max = "3ms" }"#);
        assert_eq!(
            d,
            Some(Dist::Uniform {
                min_ns: 1_000_000,
                max_ns: 3_000_000
            })
        );
        let (d, _) = read(r#"{ dist = "lognormal", median = "5ms", p99 = "40ms" }"#);
        assert_eq!(d, Some(Dist::lognormal_from_median_p99(5e6, 40e6)));
    }

    #[test]
    fn percentiles_become_points_from_zero() {
        let (d, errors) = read(
            r#"{ dist = "percentiles", p99 = "100ms", p50 = "10ms", "p99.9" = "200ms", p90 = "30ms", min = "1ms" }"#,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Some(Dist::Percentiles { points }) = d else {
            panic!("{d:?}")
        };
        assert_eq!(
            points,
            [
                (0.0, 1e6),
                (0.5, 10e6),
                (0.9, 30e6),
                (0.99, 100e6),
                (0.999, 200e6)
            ]
        );
        let (d, _) = read(r#"{ dist = "percentiles", p75 = "3ms" }"#);
        assert_eq!(
            d,
            Some(Dist::Percentiles {
                points: vec![(0.0, 0.0), (0.75, 3e6)]
            })
        );
    }

    #[test]
    fn quantile_keys() {
        assert_eq!(quantile_of("p50"), Some(0.5));
        assert_eq!(quantile_of("p99.9"), Some(0.999));
        assert_eq!(quantile_of("p99.99"), Some(0.9999));
        assert_eq!(quantile_of("p5"), Some(0.05));
        for bad in [
            "p0", "p100", "p", "p.5", "p5.", "q50", "p-1", "p1e2", "p50.0.0",
        ] {
            assert_eq!(quantile_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn inconsistent_parameters_are_rejected() {
        let cases = [
            (
                r#"{ dist = "uniform", min = "3ms", max = "1ms" }"#,
                "below its `min`",
            ),
            (
                r#"{ dist = "lognormal", median = "5ms", p99 = "4ms" }"#,
                "below its `median`",
            ),
            (
                r#"{ dist = "lognormal", median = "0ms", p99 = "4ms" }"#,
                "positive",
            ),
            (r#"{ dist = "exponential", mean = "0s" }"#, "positive"),
            (
                r#"{ dist = "percentiles", p50 = "10ms", p90 = "5ms" }"#,
                "must not decrease",
            ),
            (
                r#"{ dist = "percentiles", p50 = "10ms", "p50.0" = "11ms" }"#,
                "same percentile",
            ),
            (
                r#"{ dist = "percentiles", p50 = "10ms", min = "20ms" }"#,
                "`min` is above `p50`",
            ),
            (
                r#"{ dist = "percentiles", min = "1ms" }"#,
                "at least one percentile",
            ),
            (
                r#"{ dist = "percentiles", p100 = "1ms", p50 = "1ms" }"#,
                "unknown key `p100`",
            ),
            (
                r#"{ dist = "normal", mean = "1ms" }"#,
                "unknown dist `normal`",
            ),
            (
                r#"{ dist = "exponential", mena = "1ms" }"#,
                "unknown key `mena`",
            ),
            (r#"{ dist = "exponential" }"#, "missing key `mean`"),
            (r#"{ mean = "1ms" }"#, "missing key `dist`"),
            (r#""2ms""#, "expected a distribution like"),
        ];
        for (text, expected) in cases {
            let (d, errors) = read(text);
            assert_eq!(d, None, "{text}");
            assert_eq!(errors.len(), 1, "{text}: {errors:?}");
            assert!(errors[0].contains(expected), "{text}: {errors:?}");
        }
    }
}
