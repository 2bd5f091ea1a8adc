//! The timeline of one workload: answered requests per second, error rate and p99 per step,
//! control and experiment overlaid, the warm-up and the faults' active spans shaded, on one
//! time axis in minutes.

use super::svg::{Linear, Path, Svg, nice_ticks};
use crate::analysis::findings::SeriesReport;
use crate::kernel::time::{NS_PER_MS, NS_PER_S, format_duration_ns};

/// A shaded span of the time axis.
pub struct Band {
    pub start_ns: u64,
    pub end_ns: u64,
    pub label: String,
}

const WIDTH: f64 = 1100.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 58.0;
const PANEL: f64 = 112.0;
const GAP: f64 = 40.0;
/// At most this many points per line: about one per two user units.
const MAX_POINTS: usize = 520;

/// One of the three metrics, per step.
#[derive(Clone, Copy)]
enum Metric {
    Answered,
    ErrorRate,
    P99,
}

impl Metric {
    fn title(self) -> &'static str {
        match self {
            Metric::Answered => "Answered requests per second",
            Metric::ErrorRate => "Error rate (failed / ended)",
            Metric::P99 => "p99 latency of answered requests",
        }
    }

    /// The value of an aggregated step, `None` where it is undefined.
    fn value(self, step: &Step, step_s: f64) -> Option<f64> {
        match self {
            Metric::Answered => Some((step.completed - step.errors) as f64 / step_s),
            Metric::ErrorRate if step.completed == 0 => None,
            Metric::ErrorRate => Some(step.errors as f64 * 100.0 / step.completed as f64),
            Metric::P99 if step.p99_ns == 0 => None,
            Metric::P99 => Some(step.p99_ns as f64 / NS_PER_MS as f64),
        }
    }

    fn tick_label(self, value: f64, step: f64) -> String {
        match self {
            Metric::Answered => super::count(value.round() as u64),
            Metric::ErrorRate => format!("{}%", decimals(value, step)),
            Metric::P99 if value >= 1000.0 => {
                format!("{}s", decimals(value / 1000.0, step / 1000.0))
            }
            Metric::P99 => format!("{}ms", decimals(value, step)),
        }
    }
}

/// Steps merged so a line has at most `MAX_POINTS` points.
struct Step {
    start_ns: u64,
    end_ns: u64,
    completed: u64,
    errors: u64,
    /// The largest p99 of the merged steps: a spike is not averaged away.
    p99_ns: u64,
}

fn merge(series: &SeriesReport, end_ns: u64) -> Vec<Step> {
    let n = series.completed.len();
    let k = n.div_ceil(MAX_POINTS).max(1);
    (0..n)
        .step_by(k)
        .map(|first| {
            let last = (first + k).min(n);
            let start_ns = first as u64 * series.step_ns;
            Step {
                start_ns,
                end_ns: (last as u64 * series.step_ns).min(end_ns).max(start_ns + 1),
                completed: series.completed[first..last].iter().sum(),
                errors: series.errors[first..last].iter().sum(),
                p99_ns: series.p99_ns[first..last]
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(0),
            }
        })
        .filter(|s| s.start_ns < end_ns)
        .collect()
}

/// The chart. `experiment` is `None` for a run without faults (the two runs are one).
pub fn timeline(
    label: &str,
    control: &SeriesReport,
    experiment: Option<&SeriesReport>,
    end_ns: u64,
    warmup_ns: u64,
    bands: &[Band],
) -> String {
    let height = TOP + 3.0 * PANEL + 2.0 * GAP + 44.0;
    let mut svg = Svg::new(WIDTH, height, "chart timeline", label);
    let x = Linear {
        d0: 0.0,
        d1: end_ns.max(1) as f64,
        r0: LEFT,
        r1: WIDTH - RIGHT,
    };
    legend(&mut svg, experiment.is_some(), !bands.is_empty());
    let control = merge(control, end_ns);
    let experiment = experiment.map(|e| merge(e, end_ns));
    let merged_step_ns = control.first().map_or(NS_PER_S, |s| s.end_ns - s.start_ns);
    for (i, metric) in [Metric::Answered, Metric::ErrorRate, Metric::P99]
        .into_iter()
        .enumerate()
    {
        let top = TOP + i as f64 * (PANEL + GAP);
        let runs: Vec<&[Step]> = std::iter::once(control.as_slice())
            .chain(experiment.as_deref())
            .collect();
        panel(&mut svg, metric, top, &x, &runs, warmup_ns, bands);
    }
    let bottom = TOP + 3.0 * PANEL + 2.0 * GAP;
    time_axis(&mut svg, &x, end_ns, bottom);
    svg.text(
        WIDTH - RIGHT,
        bottom + 38.0,
        "end",
        "axis-note",
        &format!(
            "time since start · one point per {}",
            format_duration_ns(merged_step_ns)
        ),
    );
    for band in bands {
        let (x0, x1) = (x.map(band.start_ns as f64), x.map(band.end_ns as f64));
        svg.text(
            x0 + (x1 - x0).max(0.0) / 2.0,
            TOP - 8.0,
            "middle",
            "band-label",
            &band.label,
        );
    }
    svg.finish()
}

fn legend(svg: &mut Svg, two_runs: bool, faults: bool) {
    let mut x = LEFT;
    let y = 16.0;
    let mut item = |svg: &mut Svg, class: &str, text: &str, swatch: bool| {
        if swatch {
            svg.rect(x, y - 9.0, 18.0, 11.0, class);
        } else {
            svg.line(x, y - 4.0, x + 18.0, y - 4.0, class);
        }
        svg.text(x + 24.0, y, "start", "legend", text);
        x += 24.0 + 7.0 * text.chars().count() as f64 + 28.0;
    };
    if two_runs {
        item(svg, "line-control", "control (no faults)", false);
        item(svg, "line-experiment", "experiment (with faults)", false);
    } else {
        item(svg, "line-control", "run (no faults)", false);
    }
    if faults {
        item(svg, "band-fault", "faults acting", true);
    }
    item(svg, "band-warmup", "warm-up (not counted)", true);
}

fn panel(
    svg: &mut Svg,
    metric: Metric,
    top: f64,
    x: &Linear,
    runs: &[&[Step]],
    warmup_ns: u64,
    bands: &[Band],
) {
    let step_s = |s: &Step| (s.end_ns - s.start_ns) as f64 / NS_PER_S as f64;
    let max = runs
        .iter()
        .flat_map(|steps| steps.iter().filter_map(|s| metric.value(s, step_s(s))))
        .fold(0.0f64, f64::max);
    let max = match metric {
        Metric::ErrorRate => max.clamp(1.0, 100.0),
        _ => max,
    };
    let (tick, axis_top) = match metric {
        Metric::ErrorRate if max * 1.05 > 100.0 => (25.0, 100.0),
        _ => nice_ticks(max * 1.05, 5),
    };
    let y = Linear {
        d0: 0.0,
        d1: axis_top,
        r0: top + PANEL,
        r1: top,
    };
    svg.text(LEFT, top - 10.0, "start", "panel-title", metric.title());
    svg.rect(LEFT, top, x.r1 - LEFT, PANEL, "plot");
    let warm = x.map(warmup_ns as f64);
    svg.rect(LEFT, top, warm - LEFT, PANEL, "band-warmup");
    for band in bands {
        let (x0, x1) = (x.map(band.start_ns as f64), x.map(band.end_ns as f64));
        svg.rect(x0, top, (x1 - x0).max(1.5), PANEL, "band-fault");
    }
    let mut value = 0.0;
    while value <= axis_top + tick / 2.0 {
        let py = y.map(value);
        svg.line(
            LEFT,
            py,
            x.r1,
            py,
            if value == 0.0 { "axis" } else { "grid" },
        );
        svg.text(
            LEFT - 8.0,
            py + 4.0,
            "end",
            "tick",
            &metric.tick_label(value, tick),
        );
        value += tick;
    }
    let classes = if runs.len() == 2 {
        ["line-control", "line-experiment"]
    } else {
        ["line-control", "line-control"]
    };
    for (steps, class) in runs.iter().zip(classes) {
        let mut path = Path::default();
        for s in steps.iter() {
            let mid = (s.start_ns + s.end_ns) as f64 / 2.0;
            path.point(metric.value(s, step_s(s)).map(|v| (x.map(mid), y.map(v))));
        }
        svg.path(&path.finish(), class, "");
    }
}

/// Ticks at a round step (seconds for short runs, minutes otherwise), about 8 to 16 of them.
fn time_axis(svg: &mut Svg, x: &Linear, end_ns: u64, y: f64) {
    const STEPS_S: [u64; 16] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800,
    ];
    let end_s = end_ns.div_ceil(NS_PER_S);
    let step_s = STEPS_S
        .iter()
        .copied()
        .find(|s| end_s / s <= 16)
        .unwrap_or(86_400);
    svg.line(LEFT, y, x.r1, y, "axis");
    let mut t = 0;
    while t * NS_PER_S <= end_ns {
        let px = x.map((t * NS_PER_S) as f64);
        svg.line(px, y, px, y + 5.0, "axis");
        let label = if t == 0 {
            "0".to_string()
        } else {
            format_duration_ns(t * NS_PER_S)
        };
        svg.text(px, y + 19.0, "middle", "tick", &label);
        t += step_s;
    }
}

/// `value` with as many decimals as the tick step needs (0, 1 or 2).
fn decimals(value: f64, step: f64) -> String {
    let places = if step >= 1.0 {
        0
    } else if step >= 0.1 {
        1
    } else {
        2
    };
    let text = format!("{value:.places$}");
    if text.starts_with('-') && text.trim_start_matches(['-', '0', '.']).is_empty() {
        text[1..].to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_series_are_merged_without_losing_counts() {
        let series = SeriesReport {
            step_ns: NS_PER_S,
            completed: vec![10; 1200],
            errors: vec![1; 1200],
            p99_ns: (0..1200).collect(),
        };
        let steps = merge(&series, 1200 * NS_PER_S);
        assert!(steps.len() <= MAX_POINTS);
        assert_eq!(steps.iter().map(|s| s.completed).sum::<u64>(), 12_000);
        assert_eq!(steps.last().unwrap().p99_ns, 1199);
    }
}
