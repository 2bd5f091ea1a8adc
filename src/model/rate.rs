//! How a workload's traffic is generated: an open-loop arrival rate, constant or varying in
//! time (`step`, `ramp`, `sine`), or closed-loop users with a think time. Owns the validated
//! types, the rate's arithmetic (the cumulative rate and its inverse, which the simulator's
//! arrivals use by time-rescaling) and the reading of the `rate`, `users` and `think_time`
//! keys.
//!
//! Must not: draw randomness or know the simulator. The inverse is deterministic (closed form
//! for step and ramp, a safeguarded Newton iteration with `libm` for the sine), so the same
//! count always maps to the same nanosecond.

use std::f64::consts::PI;

use crate::kernel::Dist;
use crate::kernel::time::format_duration_ns;

use super::codes::Code;
use super::dist::read_dist;
use super::reader::{Fields, Sink, Value, conflict, or_default};

/// A workload's traffic.
#[derive(Clone, Debug, PartialEq)]
pub enum Traffic {
    /// Requests arrive at `rate`, whatever the system does with them (`rate = ...`).
    Open(Rate),
    /// A fixed population of users, each sending its next request a think time after its last
    /// one ended (`users = N`, `think_time = {...}`).
    Closed(ClosedLoop),
}

/// Closed-loop clients. Invariant: `users >= 1`; `think_time` has a mean above zero.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosedLoop {
    pub users: u32,
    pub think_time: Dist,
}

/// Mean requests per second over time. Invariant: every rate is finite and >= 0, the peak is
/// > 0; a ramp's `end_ns > start_ns`; a sine's `amplitude <= mean` and `period_ns > 0`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    Constant {
        per_s: f64,
    },
    /// `from` before `at_ns`, `to` from then on.
    Step {
        from: f64,
        to: f64,
        at_ns: u64,
    },
    /// `from` before `start_ns`, linear to `to` at `end_ns`, `to` after.
    Ramp {
        from: f64,
        to: f64,
        start_ns: u64,
        end_ns: u64,
    },
    /// `mean + amplitude * sin(2π (t + phase) / period)`.
    Sine {
        mean: f64,
        amplitude: f64,
        period_ns: u64,
        phase_ns: u64,
    },
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

impl Rate {
    /// The rate at `t_ns`, per second.
    pub fn at(&self, t_ns: u64) -> f64 {
        let t = secs(t_ns);
        match *self {
            Rate::Constant { per_s } => per_s,
            Rate::Step { from, to, at_ns } => {
                if t_ns < at_ns {
                    from
                } else {
                    to
                }
            }
            Rate::Ramp {
                from,
                to,
                start_ns,
                end_ns,
            } => {
                let (s, e) = (secs(start_ns), secs(end_ns));
                let x = ((t - s) / (e - s)).clamp(0.0, 1.0);
                from + (to - from) * x
            }
            Rate::Sine {
                mean,
                amplitude,
                period_ns,
                phase_ns,
            } => {
                let omega = 2.0 * PI / secs(period_ns);
                mean + amplitude * libm::sin(omega * (t + secs(phase_ns)))
            }
        }
    }

    /// The highest rate, per second: what saturation checks and spikes are sized by.
    pub fn peak(&self) -> f64 {
        match *self {
            Rate::Constant { per_s } => per_s,
            Rate::Step { from, to, .. } | Rate::Ramp { from, to, .. } => from.max(to),
            Rate::Sine {
                mean, amplitude, ..
            } => mean + amplitude,
        }
    }

    /// Whether the rate never changes.
    pub fn is_constant(&self) -> bool {
        matches!(self, Rate::Constant { .. })
    }

    /// The expected number of arrivals in `[0, t_ns]`: the cumulative rate Λ(t).
    pub fn expected(&self, t_ns: u64) -> f64 {
        let t = secs(t_ns);
        match *self {
            Rate::Constant { per_s } => per_s * t,
            Rate::Step { from, to, at_ns } => piecewise(from, to, secs(at_ns), secs(at_ns), t),
            Rate::Ramp {
                from,
                to,
                start_ns,
                end_ns,
            } => piecewise(from, to, secs(start_ns), secs(end_ns), t),
            Rate::Sine {
                mean,
                amplitude,
                period_ns,
                phase_ns,
            } => sine_cumulative(mean, amplitude, secs(period_ns), secs(phase_ns), t),
        }
    }

    /// Λ⁻¹: the time (in nanoseconds, unrounded) at which `count` arrivals are expected, or
    /// `None` if the rate never gets there (it falls to zero first).
    pub fn time_of(&self, count: f64) -> Option<f64> {
        let seconds = match *self {
            Rate::Constant { per_s } => Some(count / per_s),
            Rate::Step { from, to, at_ns } => {
                piecewise_inverse(from, to, secs(at_ns), secs(at_ns), count)
            }
            Rate::Ramp {
                from,
                to,
                start_ns,
                end_ns,
            } => piecewise_inverse(from, to, secs(start_ns), secs(end_ns), count),
            Rate::Sine {
                mean,
                amplitude,
                period_ns,
                phase_ns,
            } => Some(sine_inverse(
                mean,
                amplitude,
                secs(period_ns),
                secs(phase_ns),
                count,
            )),
        };
        seconds.map(|s| s * 1e9)
    }

    /// For reports: `1000/s`, `step 500/s -> 1500/s at 5m`, ...
    pub fn describe(&self) -> String {
        let d = |ns: u64| format_duration_ns(ns);
        match *self {
            Rate::Constant { per_s } => format!("{per_s}/s"),
            Rate::Step { from, to, at_ns } => format!("step {from}/s -> {to}/s at {}", d(at_ns)),
            Rate::Ramp {
                from,
                to,
                start_ns,
                end_ns,
            } => format!(
                "ramp {from}/s -> {to}/s from {} to {}",
                d(start_ns),
                d(end_ns)
            ),
            Rate::Sine {
                mean,
                amplitude,
                period_ns,
                phase_ns,
            } => {
                let phase = if phase_ns > 0 {
                    format!(", phase {}", d(phase_ns))
                } else {
                    String::new()
                };
                format!(
                    "sine {mean}/s ± {amplitude}/s, period {}{phase}",
                    d(period_ns)
                )
            }
        }
    }

    /// A short name of the shape: `constant`, `step`, `ramp` or `sine`.
    pub fn shape(&self) -> &'static str {
        match self {
            Rate::Constant { .. } => "constant",
            Rate::Step { .. } => "step",
            Rate::Ramp { .. } => "ramp",
            Rate::Sine { .. } => "sine",
        }
    }
}

impl Traffic {
    /// The most requests per second the workload can offer: a rate's peak, or for closed-loop
    /// users, users / mean think time (every answer instant).
    pub fn peak_per_s(&self) -> f64 {
        match self {
            Traffic::Open(rate) => rate.peak(),
            Traffic::Closed(closed) => f64::from(closed.users) * 1e9 / closed.think_time.mean_ns(),
        }
    }

    /// Whether the offered rate is the same at every instant (an open loop at a constant rate).
    pub fn is_steady(&self) -> bool {
        matches!(self, Traffic::Open(rate) if rate.is_constant())
    }

    /// For reports: the rate's description, or `200 users, think time mean 1s`.
    pub fn describe(&self) -> String {
        match self {
            Traffic::Open(rate) => rate.describe(),
            Traffic::Closed(closed) => format!(
                "{} users, think time mean {}",
                closed.users,
                format_duration_ns(closed.think_time.mean_ns().round() as u64)
            ),
        }
    }
}

/// Λ(t) of a rate that is `from` until `s`, linear to `to` at `e`, `to` after (`s <= e`).
fn piecewise(from: f64, to: f64, s: f64, e: f64, t: f64) -> f64 {
    if t <= s {
        return from * t;
    }
    if t <= e {
        let x = t - s;
        return from * t + (to - from) * x * x / (2.0 * (e - s));
    }
    from * e + (to - from) * (e - s) / 2.0 + to * (t - e)
}

fn piecewise_inverse(from: f64, to: f64, s: f64, e: f64, count: f64) -> Option<f64> {
    if count <= from * s {
        return if count <= 0.0 {
            Some(0.0)
        } else {
            (from > 0.0).then(|| count / from)
        };
    }
    let at_end = piecewise(from, to, s, e, e);
    if count <= at_end && e > s {
        // a x² + b x = c over the ramp, in the form that is stable for a of either sign.
        let (a, b, c) = ((to - from) / (2.0 * (e - s)), from, count - from * s);
        let root = libm::sqrt((b * b + 4.0 * a * c).max(0.0));
        let x = if b + root > 0.0 {
            2.0 * c / (b + root)
        } else {
            0.0
        };
        return Some(s + x.clamp(0.0, e - s));
    }
    (to > 0.0).then(|| e + (count - at_end) / to)
}

fn sine_cumulative(mean: f64, amplitude: f64, period: f64, phase: f64, t: f64) -> f64 {
    let omega = 2.0 * PI / period;
    mean * t - amplitude / omega * (libm::cos(omega * (t + phase)) - libm::cos(omega * phase))
}

/// Λ⁻¹ of the sine: Newton's method from `count / mean`, kept inside a bracket that shrinks
/// with every step and bisected whenever Newton would leave it (the rate may touch zero).
fn sine_inverse(mean: f64, amplitude: f64, period: f64, phase: f64, count: f64) -> f64 {
    let omega = 2.0 * PI / period;
    let swing = 2.0 * amplitude / omega;
    let (mut lo, mut hi) = (((count - swing) / mean).max(0.0), (count + swing) / mean);
    let mut t = (count / mean).clamp(lo, hi);
    for _ in 0..200 {
        let excess = sine_cumulative(mean, amplitude, period, phase, t) - count;
        if excess > 0.0 {
            hi = t;
        } else {
            lo = t;
        }
        let rate = mean + amplitude * libm::sin(omega * (t + phase));
        let newton = t - excess / rate;
        let next = if rate > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            (lo + hi) / 2.0
        };
        if (next - t).abs() < 1e-11 || hi - lo < 1e-11 {
            return next;
        }
        t = next;
    }
    t
}

// ---- reading ------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Shape {
    Step,
    Ramp,
    Sine,
}

const SHAPES: [(&str, Shape); 3] = [
    ("step", Shape::Step),
    ("ramp", Shape::Ramp),
    ("sine", Shape::Sine),
];

const ANY_RATE_KEY: &[&str] = &[
    "shape",
    "from",
    "to",
    "at",
    "start",
    "end",
    "mean",
    "amplitude",
    "period",
    "phase",
];

const EXPECTED_RATE: &str = "a number of requests per second, or a table like { shape = \"step\", from = 500, to = 1500, at = \"5m\" }";

/// Reads a workload's traffic from its `rate`, `arrival`, `users` and `think_time` keys:
/// exactly one of `rate` and `users`; `arrival` only with `rate`, `think_time` only (and
/// always) with `users`. `what` names the workload's table for a missing key.
pub(crate) fn read_traffic(
    sink: &mut Sink<'_>,
    fields: &mut Fields<'_, '_>,
    what: &str,
) -> Option<Traffic> {
    let rate = fields.get("rate");
    let users = fields.get("users");
    let think = fields.get("think_time");
    match (rate, users) {
        (Some(rate), Some(users)) => {
            conflict(sink, ("rate", rate), ("users", users))
                .help("`rate` is an open loop, `users` a closed loop; keep one");
            None
        }
        (Some(rate), None) => {
            if let Some(think) = think {
                sink.error(
                    Code::ConflictingKeys,
                    think.span(),
                    "`think_time` belongs to closed-loop `users`, not to a `rate`",
                )
                .label("`rate` is already given")
                .help("drop `think_time`, or replace `rate` with `users`");
                return None;
            }
            read_rate(sink, rate).map(Traffic::Open)
        }
        (None, Some(users)) => read_closed(sink, fields, users, think, what),
        (None, None) => {
            // Reported by `Fields::finish`, which knows a misspelt `rat` is not also missing.
            let _ = fields.required("rate");
            None
        }
    }
}

fn read_closed(
    sink: &mut Sink<'_>,
    fields: &Fields<'_, '_>,
    users: &Value<'_>,
    think: Option<&Value<'_>>,
    what: &str,
) -> Option<Traffic> {
    if let Some(arrival) = fields.get("arrival") {
        conflict(sink, ("users", users), ("arrival", arrival))
            .help("closed-loop users send when their think time ends; `arrival` is for a `rate`");
        return None;
    }
    let count = sink.count("users", users, 1);
    let Some(think) = think else {
        sink.error(
            Code::MissingKey,
            users.span(),
            format!("missing key `think_time` in {what}"),
        )
        .label("closed-loop `users` need a `think_time`")
        .help("e.g. think_time = { dist = \"exponential\", mean = \"1s\" }");
        return None;
    };
    let think_time = read_dist(sink, "think_time", think)?;
    if think_time.mean_ns().is_nan() || think_time.mean_ns() <= 0.0 {
        sink.error(
            Code::OutOfRange,
            think.span(),
            "`think_time` must have a mean above zero",
        )
        .label("expected a positive mean think time");
        return None;
    }
    Some(Traffic::Closed(ClosedLoop {
        users: count?,
        think_time,
    }))
}

/// A `rate`: a positive number, or a table with a `shape`.
pub(crate) fn read_rate(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<Rate> {
    if !matches!(value.get_ref(), toml::de::DeValue::Table(_)) {
        if matches!(
            value.get_ref(),
            toml::de::DeValue::Integer(_) | toml::de::DeValue::Float(_)
        ) {
            return sink
                .positive("rate", value)
                .map(|per_s| Rate::Constant { per_s });
        }
        sink.wrong_type("rate", value, EXPECTED_RATE);
        return None;
    }
    let mut fields = Fields::of(sink, value, "the rate `rate`", EXPECTED_RATE, ANY_RATE_KEY)?;
    let Some(shape_value) = fields.required("shape") else {
        fields.finish(sink);
        return None;
    };
    let shape = sink.choice("shape", shape_value, &SHAPES)?;
    let allowed: &'static [&'static str] = match shape {
        Shape::Step => &["shape", "from", "to", "at"],
        Shape::Ramp => &["shape", "from", "to", "start", "end"],
        Shape::Sine => &["shape", "mean", "amplitude", "period", "phase"],
    };
    let mut fields = Fields::new(fields.table(), fields.span(), "the rate `rate`", allowed);
    let rate = match shape {
        Shape::Step => read_step(sink, &mut fields),
        Shape::Ramp => read_ramp(sink, &mut fields),
        Shape::Sine => read_sine(sink, &mut fields),
    };
    let clean = fields.finish(sink);
    let rate = rate.filter(|_| clean)?;
    if rate.peak().is_nan() || rate.peak() <= 0.0 {
        sink.error(
            Code::OutOfRange,
            value.span(),
            "the rate is zero throughout",
        )
        .label("expected a rate above zero at some time");
        return None;
    }
    Some(rate)
}

/// `from` and `to`: rates of at least zero.
fn read_ends(sink: &mut Sink<'_>, fields: &mut Fields<'_, '_>) -> Option<(f64, f64)> {
    let from = fields
        .required("from")
        .and_then(|v| sink.non_negative("from", v));
    let to = fields
        .required("to")
        .and_then(|v| sink.non_negative("to", v));
    Some((from?, to?))
}

fn read_step(sink: &mut Sink<'_>, fields: &mut Fields<'_, '_>) -> Option<Rate> {
    let ends = read_ends(sink, fields);
    let at = fields.required("at").and_then(|v| sink.duration("at", v));
    let (from, to) = ends?;
    Some(Rate::Step {
        from,
        to,
        at_ns: at?,
    })
}

fn read_ramp(sink: &mut Sink<'_>, fields: &mut Fields<'_, '_>) -> Option<Rate> {
    let ends = read_ends(sink, fields);
    let start = fields
        .required("start")
        .and_then(|v| sink.duration("start", v));
    let end_value = fields.required("end");
    let end = end_value.and_then(|v| sink.duration("end", v));
    let (start_ns, end_ns) = (start?, end?);
    if end_ns <= start_ns {
        let value = end_value.expect("read above");
        sink.out_of_range(
            "end",
            value,
            &format_duration_ns(end_ns),
            &format!("after `start` ({})", format_duration_ns(start_ns)),
        );
        return None;
    }
    let (from, to) = ends?;
    Some(Rate::Ramp {
        from,
        to,
        start_ns,
        end_ns,
    })
}

fn read_sine(sink: &mut Sink<'_>, fields: &mut Fields<'_, '_>) -> Option<Rate> {
    let mean = fields
        .required("mean")
        .and_then(|v| sink.positive("mean", v));
    let amplitude_value = fields.required("amplitude");
    let amplitude = amplitude_value.and_then(|v| sink.non_negative("amplitude", v));
    let period = fields
        .required("period")
        .and_then(|v| sink.positive_duration("period", v));
    let phase = or_default(fields.get("phase"), 0, |v| sink.duration("phase", v));
    let (mean, amplitude) = (mean?, amplitude?);
    if amplitude > mean {
        let value = amplitude_value.expect("read above");
        sink.out_of_range(
            "amplitude",
            value,
            &amplitude.to_string(),
            &format!("at most `mean` ({mean}), so the rate never goes below zero"),
        );
        return None;
    }
    Some(Rate::Sine {
        mean,
        amplitude,
        period_ns: period?,
        phase_ns: phase?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn roundtrip(rate: Rate) {
        for k in [0.0, 0.5, 1.0, 17.0, 999.0, 12_345.6, 250_000.0] {
            let t = rate.time_of(k).expect("reachable");
            let back = rate.expected(t.round() as u64);
            // One nanosecond of rounding at the peak rate is far below 1e-3 arrivals.
            assert!((back - k).abs() < 1e-3, "{rate:?}: Λ(Λ⁻¹({k})) = {back}");
        }
    }

    #[test]
    fn inverse_undoes_the_cumulative_rate() {
        roundtrip(Rate::Constant { per_s: 1000.0 });
        roundtrip(Rate::Step {
            from: 500.0,
            to: 1500.0,
            at_ns: 5 * S,
        });
        roundtrip(Rate::Ramp {
            from: 2000.0,
            to: 200.0,
            start_ns: 10 * S,
            end_ns: 70 * S,
        });
        roundtrip(Rate::Ramp {
            from: 0.0,
            to: 2000.0,
            start_ns: 0,
            end_ns: 60 * S,
        });
        roundtrip(Rate::Sine {
            mean: 1000.0,
            amplitude: 1000.0,
            period_ns: 60 * S,
            phase_ns: 7 * S,
        });
    }

    #[test]
    fn cumulative_rates_in_closed_form() {
        let step = Rate::Step {
            from: 500.0,
            to: 1500.0,
            at_ns: 10 * S,
        };
        assert_eq!(step.expected(20 * S), 5000.0 + 15_000.0);
        let ramp = Rate::Ramp {
            from: 100.0,
            to: 300.0,
            start_ns: 10 * S,
            end_ns: 20 * S,
        };
        // 1000 before, 2000 over the ramp (mean 200/s for 10 s), 3000 after.
        assert!((ramp.expected(30 * S) - 6000.0).abs() < 1e-9);
        assert_eq!(ramp.at(15 * S), 200.0);
        let sine = Rate::Sine {
            mean: 1000.0,
            amplitude: 400.0,
            period_ns: 600 * S,
            phase_ns: 0,
        };
        // A whole period holds mean × period; the first half more than that by 2A/ω.
        assert!((sine.expected(600 * S) - 600_000.0).abs() < 1e-6);
        let half = 300_000.0 + 2.0 * 400.0 * 600.0 / (2.0 * PI);
        assert!((sine.expected(300 * S) - half).abs() < 1e-6);
        assert_eq!(sine.peak(), 1400.0);
    }

    #[test]
    fn a_rate_that_falls_to_zero_stops() {
        let step = Rate::Step {
            from: 10.0,
            to: 0.0,
            at_ns: S,
        };
        assert_eq!(step.time_of(5.0), Some(0.5e9));
        assert_eq!(step.time_of(11.0), None);
    }
}
