//! `[[hypothesis]]` entries, text to `Hypothesis`: a workload's metric with absolute bounds
//! (`min`, `max`) in the metric's unit, changes relative to the control (`max_increase`,
//! `max_decrease`: `"+20%"` or an absolute amount) and the windows it is checked in.
//! `recovery_time` is one number per run and takes only `max`. A hypothesis names a `workload`
//! or, for the queue metrics (`lag`, `message_age`, `delivery_p99`, `dead_letters`), a
//! `queue`; `subject` checks that the metric fits what is named.

use toml::de::DeValue;

use super::codes::Code;
use super::diagnostic::line_column;
use super::duration::parse_duration;
use super::reader::{Fields, Sink, Value, found, or_default, suggest};
use super::scenario::{Change, Hypothesis, Metric, Window};
use super::topology::Topology;

pub(super) fn read_hypotheses(
    sink: &mut Sink<'_>,
    value: &Value<'_>,
    topology: Option<&Topology>,
) -> Option<Vec<Hypothesis>> {
    let DeValue::Array(items) = value.get_ref() else {
        let message = format!(
            "expected an array of tables `[[hypothesis]]`, found {}",
            found(value.get_ref())
        );
        sink.error(Code::WrongType, value.span(), message)
            .label("write each hypothesis as `[[hypothesis]]`");
        return None;
    };
    let mut hypotheses = Vec::new();
    let mut ok = true;
    for item in items.iter() {
        match read_hypothesis(sink, item, topology) {
            Some(h) => hypotheses.push(h),
            None => ok = false,
        }
    }
    ok.then_some(hypotheses)
}

const HYPOTHESIS_KEYS: &[&str] = &[
    "workload",
    "queue",
    "metric",
    "min",
    "max",
    "max_increase",
    "max_decrease",
    "window",
];

/// The four bounds; a hypothesis needs at least one.
const BOUND_KEYS: [&str; 4] = ["min", "max", "max_increase", "max_decrease"];

const DEFAULT_WINDOWS: [Window; 2] = [Window::During, Window::After];

fn metric_choices() -> Vec<(&'static str, Metric)> {
    let mut choices: Vec<_> = Metric::ALL.iter().map(|m| (m.as_str(), *m)).collect();
    choices.push(("p99.9", Metric::P999));
    choices.extend(Metric::QUEUE.iter().map(|m| (m.as_str(), *m)));
    choices
}

fn read_hypothesis(
    sink: &mut Sink<'_>,
    value: &Value<'_>,
    topology: Option<&Topology>,
) -> Option<Hypothesis> {
    let mut fields = Fields::of(
        sink,
        value,
        "this hypothesis",
        "a table `[[hypothesis]]`",
        HYPOTHESIS_KEYS,
    )?;
    let metric = fields
        .required("metric")
        .and_then(|v| sink.choice("metric", v, &metric_choices()));
    let subject = super::queue_node::hypothesis_subject(sink, &mut fields, metric, topology);
    let bounds = metric.and_then(|m| read_bounds(sink, &fields, m));
    fields.finish(sink);
    let (bounds, (workload, queue)) = (bounds?, subject?);
    Some(Hypothesis {
        workload,
        queue,
        metric: metric?,
        min: bounds.min,
        max: bounds.max,
        max_increase: bounds.max_increase,
        max_decrease: bounds.max_decrease,
        windows: bounds.windows,
        line: line_column(sink.text, value.span().start).0,
    })
}

struct Bounds {
    min: Option<f64>,
    max: Option<f64>,
    max_increase: Option<Change>,
    max_decrease: Option<Change>,
    windows: Vec<Window>,
}

/// Every bound and the windows: at least one bound, `min <= max`.
fn read_bounds(sink: &mut Sink<'_>, fields: &Fields<'_, '_>, metric: Metric) -> Option<Bounds> {
    if metric == Metric::RecoveryTime {
        return recovery_bounds(sink, fields);
    }
    if BOUND_KEYS.iter().all(|key| fields.get(key).is_none()) && !misspelt_bound(fields) {
        sink.error(
            Code::BadHypothesis,
            fields.span(),
            "a hypothesis needs a bound: `min`, `max`, `max_increase` or `max_decrease`",
        )
        .label("this hypothesis has no bound");
        return None;
    }
    let (min, max) = (fields.get("min"), fields.get("max"));
    let lo = or_default(min, None, |v| bound(sink, metric, "min", v).map(Some));
    let hi = or_default(max, None, |v| bound(sink, metric, "max", v).map(Some));
    let up = or_default(fields.get("max_increase"), None, |v| {
        change(sink, metric, Direction::Increase, v).map(Some)
    });
    let down = or_default(fields.get("max_decrease"), None, |v| {
        change(sink, metric, Direction::Decrease, v).map(Some)
    });
    let windows = or_default(fields.get("window"), DEFAULT_WINDOWS.to_vec(), |v| {
        read_windows(sink, v)
    });
    let (lo, hi) = (lo?, hi?);
    if let (Some(l), Some(h), Some(value)) = (lo, hi, max) {
        if l > h {
            sink.error(
                Code::BadHypothesis,
                value.span(),
                "the hypothesis's `max` is below its `min`",
            )
            .label("expected at least `min`");
            return None;
        }
    }
    Some(Bounds {
        min: lo,
        max: hi,
        max_increase: up?,
        max_decrease: down?,
        windows: windows?,
    })
}

/// Whether an unknown key looks like a misspelt bound (reported as such by `Fields::finish`).
fn misspelt_bound(fields: &Fields<'_, '_>) -> bool {
    fields.table().iter().any(|(key, _)| {
        let name = key.get_ref().as_ref();
        !HYPOTHESIS_KEYS.contains(&name) && suggest(name, BOUND_KEYS).is_some()
    })
}

/// `recovery_time` takes `max` only: it is one number per run, with no windows.
fn recovery_bounds(sink: &mut Sink<'_>, fields: &Fields<'_, '_>) -> Option<Bounds> {
    let mut ok = true;
    for key in ["min", "max_increase", "max_decrease", "window"] {
        if let Some(value) = fields.get(key) {
            sink.error(
                Code::BadHypothesis,
                value.span(),
                format!("`{key}` does not apply to `recovery_time`"),
            )
            .label("`recovery_time` takes only `max`")
            .help(
                "recovery time is one number per run: how long after the last fault ends the \
                 experiment is back within the control's band",
            );
            ok = false;
        }
    }
    let max = match fields.get("max") {
        Some(value) => sink.duration("max", value).map(|ns| ns as f64),
        None if ok => {
            sink.error(
                Code::BadHypothesis,
                fields.span(),
                "a `recovery_time` hypothesis needs `max`",
            )
            .label("this hypothesis has no bound");
            None
        }
        None => None,
    };
    let max = max.filter(|_| ok)?;
    Some(Bounds {
        min: None,
        max: Some(max),
        max_increase: None,
        max_decrease: None,
        windows: DEFAULT_WINDOWS.to_vec(),
    })
}

fn bound(sink: &mut Sink<'_>, metric: Metric, key: &str, value: &Value<'_>) -> Option<f64> {
    if metric.is_latency() {
        sink.duration(key, value).map(|ns| ns as f64)
    } else if metric.is_fraction() {
        sink.fraction(key, value)
    } else {
        sink.non_negative(key, value)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Increase,
    Decrease,
}

impl Direction {
    fn key(self) -> &'static str {
        match self {
            Direction::Increase => "max_increase",
            Direction::Decrease => "max_decrease",
        }
    }
}

/// A change relative to the control: a percentage string with an optional sign that agrees
/// with the key, or an absolute amount in the metric's unit (a duration string for latencies,
/// a non-negative number otherwise).
fn change(
    sink: &mut Sink<'_>,
    metric: Metric,
    direction: Direction,
    value: &Value<'_>,
) -> Option<Change> {
    let key = direction.key();
    match value.get_ref() {
        DeValue::String(text) => change_text(sink, metric, direction, value, text),
        DeValue::Integer(_) | DeValue::Float(_) if !metric.is_latency() => {
            let amount = if metric.is_fraction() {
                sink.fraction(key, value)
            } else {
                sink.non_negative(key, value)
            };
            amount.map(Change::Absolute)
        }
        _ => {
            let expected = if metric.is_latency() {
                "a percentage like \"+20%\" or a duration like \"50ms\""
            } else {
                "a percentage like \"+20%\" or a number"
            };
            sink.wrong_type(key, value, expected);
            None
        }
    }
}

fn change_text(
    sink: &mut Sink<'_>,
    metric: Metric,
    direction: Direction,
    value: &Value<'_>,
    text: &str,
) -> Option<Change> {
    let key = direction.key();
    let trimmed = text.trim();
    let (sign, rest) = match trimmed.chars().next() {
        Some(c @ ('+' | '-')) => (Some(c), &trimmed[1..]),
        _ => (None, trimmed),
    };
    let wrong = match (direction, sign) {
        (Direction::Increase, Some('-')) => Some(("a decrease", "max_decrease")),
        (Direction::Decrease, Some('+')) => Some(("an increase", "max_increase")),
        _ => None,
    };
    if let Some((what, other)) = wrong {
        sink.error(
            Code::BadHypothesis,
            value.span(),
            format!("`{key}` is given {what}: `{trimmed}`"),
        )
        .label("the sign contradicts the key")
        .help(format!(
            "write `{key} = \"{rest}\"` (the sign is optional), or use `{other}`"
        ));
        return None;
    }
    if let Some(number) = rest.strip_suffix('%') {
        return percentage(sink, direction, value, number.trim());
    }
    if !metric.is_latency() {
        sink.wrong_type(key, value, "a percentage like \"+20%\" or a number");
        return None;
    }
    match parse_duration(rest) {
        Ok(ns) => Some(Change::Absolute(ns as f64)),
        Err(why) => {
            sink.error(
                Code::BadDuration,
                value.span(),
                format!("invalid change for `{key}`: {why}"),
            )
            .label("expected a percentage like \"+20%\" or a duration like \"50ms\"");
            None
        }
    }
}

/// The number of a percentage: finite, at least 0, and for a decrease at most 100.
fn percentage(
    sink: &mut Sink<'_>,
    direction: Direction,
    value: &Value<'_>,
    number: &str,
) -> Option<Change> {
    let key = direction.key();
    let parsed = number.parse::<f64>().ok().filter(|x| x.is_finite());
    let limit = match direction {
        Direction::Increase => f64::INFINITY,
        Direction::Decrease => 100.0,
    };
    match parsed {
        Some(x) if (0.0..=limit).contains(&x) => Some(Change::Relative(x / 100.0)),
        _ => {
            let expected = match direction {
                Direction::Increase => "a percentage of at least 0%",
                Direction::Decrease => "a percentage from 0% to 100%",
            };
            sink.out_of_range(key, value, &format!("\"{number}%\""), expected);
            None
        }
    }
}

/// `window = "during"` or a list: each of before, during, after at most once, in time order.
fn read_windows(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<Vec<Window>> {
    let items: Vec<&Value<'_>> = match value.get_ref() {
        DeValue::String(_) => vec![value],
        DeValue::Array(items) => items.iter().collect(),
        _ => {
            sink.wrong_type("window", value, "a window or a list of windows");
            return None;
        }
    };
    if items.is_empty() {
        sink.out_of_range("window", value, "an empty list", "at least one window");
        return None;
    }
    let choices: Vec<(&str, Window)> = Window::ALL.iter().map(|w| (w.as_str(), *w)).collect();
    let mut windows = Vec::new();
    let mut ok = true;
    for item in items {
        match sink.choice("window", item, &choices) {
            Some(window) if windows.contains(&window) => {
                sink.error(
                    Code::DuplicateName,
                    item.span(),
                    format!("the window `{}` is listed twice", window.as_str()),
                )
                .label("already listed");
                ok = false;
            }
            Some(window) => windows.push(window),
            None => ok = false,
        }
    }
    windows.sort();
    ok.then_some(windows)
}
