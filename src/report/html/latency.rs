//! The latency distribution of one workload: p50, p90, p99 and p99.9 as bars on a logarithmic
//! axis, control against experiment.

use super::svg::{Linear, Svg};
use crate::kernel::time::format_duration_ns;

/// One percentile: its label and its values in nanoseconds (`None` where undefined).
pub struct Row {
    pub label: &'static str,
    pub control: Option<f64>,
    pub experiment: Option<f64>,
}

const WIDTH: f64 = 540.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 34.0;
const BAR: f64 = 13.0;
const ROW: f64 = 44.0;

/// The chart; `two_runs` is false for a run without faults (only the control is drawn).
pub fn distribution(label: &str, rows: &[Row], two_runs: bool) -> String {
    let height = TOP + rows.len() as f64 * ROW + 34.0;
    let mut svg = Svg::new(WIDTH, height, "chart latency", label);
    let values = rows
        .iter()
        .flat_map(|r| [r.control, r.experiment])
        .flatten()
        .filter(|v| *v > 0.0);
    let (lo, hi) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if hi <= 0.0 {
        svg.text(
            WIDTH / 2.0,
            height / 2.0,
            "middle",
            "axis-note",
            "no answered requests",
        );
        return svg.finish();
    }
    // Whole decades around the data, so the axis reads 1ms, 10ms, 100ms, 1s.
    let d0 = lo.log10().floor();
    let d1 = hi.log10().ceil().max(d0 + 1.0);
    let x = Linear {
        d0,
        d1,
        r0: LEFT,
        r1: WIDTH - RIGHT,
    };
    legend(&mut svg, two_runs);
    let bottom = TOP + rows.len() as f64 * ROW;
    decade_grid(&mut svg, &x, d0 as i32, d1 as i32, bottom);
    for (i, row) in rows.iter().enumerate() {
        let top = TOP + i as f64 * ROW + 6.0;
        svg.text(LEFT - 10.0, top + BAR + 5.0, "end", "row-label", row.label);
        let bars = if two_runs {
            vec![
                (row.control, "bar-control"),
                (row.experiment, "bar-experiment"),
            ]
        } else {
            vec![(row.control, "bar-control")]
        };
        for (j, (value, class)) in bars.into_iter().enumerate() {
            let y = top + j as f64 * (BAR + 2.0);
            let Some(value) = value.filter(|v| *v > 0.0) else {
                svg.text(LEFT + 4.0, y + BAR - 3.0, "start", "bar-value", "-");
                continue;
            };
            let end = x.map(value.log10()).max(LEFT + 1.0);
            svg.rect(LEFT, y, end - LEFT, BAR, class);
            let text = format_duration_ns(value.round() as u64);
            svg.text(end + 5.0, y + BAR - 3.0, "start", "bar-value", &text);
        }
    }
    svg.finish()
}

fn legend(svg: &mut Svg, two_runs: bool) {
    let y = 14.0;
    svg.rect(LEFT, y - 9.0, 14.0, 10.0, "bar-control");
    if two_runs {
        svg.text(LEFT + 20.0, y, "start", "legend", "control");
        svg.rect(LEFT + 96.0, y - 9.0, 14.0, 10.0, "bar-experiment");
        svg.text(LEFT + 116.0, y, "start", "legend", "experiment");
    } else {
        svg.text(LEFT + 20.0, y, "start", "legend", "run (no faults)");
    }
}

/// Lines at every decade (labelled) and at 2× and 5× (not labelled).
fn decade_grid(svg: &mut Svg, x: &Linear, from: i32, to: i32, bottom: f64) {
    for decade in from..=to {
        for (m, major) in [(1.0, true), (2.0, false), (5.0, false)] {
            let value = m * 10f64.powi(decade);
            let position = value.log10();
            if position > to as f64 {
                break;
            }
            let px = x.map(position);
            svg.line(
                px,
                TOP,
                px,
                bottom,
                if major { "grid-major" } else { "grid" },
            );
            if major {
                let label = format_duration_ns(value.round() as u64);
                svg.text(px, bottom + 18.0, "middle", "tick", &label);
            }
        }
    }
}
