//! A small SVG writer: the few elements the charts need, styled by the page's CSS classes.
//!
//! Numbers are written with one decimal (trailing `.0` dropped, never `-0`), so the same chart
//! gives the same bytes on any machine. Text is escaped here; callers pass plain strings.

use std::fmt::Write;

use super::escape;

/// An SVG element being written, in user units (the `viewBox`); it scales to its container.
/// Inline in HTML, it needs no namespace declaration (and so names no URL).
pub struct Svg {
    out: String,
}

impl Svg {
    pub fn new(width: f64, height: f64, class: &str, label: &str) -> Svg {
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg class=\"{class}\" viewBox=\"0 0 {} {}\" \
             role=\"img\" aria-label=\"{}\">",
            num(width),
            num(height),
            escape(label)
        );
        Svg { out }
    }

    /// Raw markup (pattern definitions, markers).
    pub fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
    }

    pub fn rect(&mut self, x: f64, y: f64, width: f64, height: f64, class: &str) {
        let _ = write!(
            self.out,
            "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
            num(x),
            num(y),
            num(width.max(0.0)),
            num(height.max(0.0))
        );
    }

    pub fn rounded(&mut self, x: f64, y: f64, width: f64, height: f64, radius: f64, class: &str) {
        let _ = write!(
            self.out,
            "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\"/>",
            num(x),
            num(y),
            num(width.max(0.0)),
            num(height.max(0.0)),
            num(radius)
        );
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
        let _ = write!(
            self.out,
            "<line class=\"{class}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }

    /// A path from `d` (see `Path`); `extra` is appended to the element's attributes.
    pub fn path(&mut self, d: &str, class: &str, extra: &str) {
        if d.is_empty() {
            return;
        }
        let _ = write!(self.out, "<path class=\"{class}\" d=\"{d}\"{extra}/>");
    }

    /// Text at `(x, y)` (the baseline); `anchor` is `start`, `middle` or `end`.
    pub fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, text: &str) {
        let _ = write!(
            self.out,
            "<text class=\"{class}\" x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            num(x),
            num(y),
            escape(text)
        );
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// Path data built point by point; `None` breaks the line (a gap in the data).
#[derive(Default)]
pub struct Path {
    d: String,
    pen_down: bool,
}

impl Path {
    pub fn move_to(&mut self, x: f64, y: f64) {
        let _ = write!(self.d, "M{},{}", num(x), num(y));
        self.pen_down = true;
    }

    pub fn line_to(&mut self, x: f64, y: f64) {
        let _ = write!(self.d, "L{},{}", num(x), num(y));
    }

    /// The next point of a polyline: a move after a gap, a line otherwise.
    pub fn point(&mut self, point: Option<(f64, f64)>) {
        match point {
            Some((x, y)) if self.pen_down => self.line_to(x, y),
            Some((x, y)) => self.move_to(x, y),
            None => self.pen_down = false,
        }
    }

    pub fn close(&mut self) {
        self.d.push('Z');
    }

    pub fn finish(self) -> String {
        self.d
    }
}

/// A number with one decimal, `.0` dropped; never `-0`, never `NaN` (written as 0).
pub fn num(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let text = format!("{:.1}", value);
    let text = text.strip_suffix(".0").unwrap_or(&text);
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A linear map from data to user units.
#[derive(Clone, Copy)]
pub struct Linear {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Linear {
    pub fn map(&self, value: f64) -> f64 {
        if self.d1 == self.d0 {
            return self.r0;
        }
        self.r0 + (value - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}

/// A "nice" tick step (1, 2 or 5 × 10^k) that cuts `0..=max` into about `target` intervals,
/// and the axis top (the first multiple of the step at or above `max`).
pub fn nice_ticks(max: f64, target: usize) -> (f64, f64) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let rough = max / target.max(1) as f64;
    let magnitude = 10f64.powi(rough.log10().floor() as i32);
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= rough)
        .unwrap_or(10.0 * magnitude);
    let top = (max / step).ceil().max(1.0) * step;
    (step, top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_one_fixed_decimal() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.25), "1.2");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(1234.56), "1234.6");
    }

    #[test]
    fn nice_ticks_cover_the_maximum() {
        assert_eq!(nice_ticks(1000.0, 4), (250.0, 1000.0));
        assert_eq!(nice_ticks(1043.0, 4), (500.0, 1500.0));
        assert_eq!(nice_ticks(0.0, 4), (0.25, 1.0));
        assert_eq!(nice_ticks(17.0, 4), (5.0, 20.0));
    }

    #[test]
    fn a_gap_breaks_the_path() {
        let mut path = Path::default();
        for p in [Some((0.0, 1.0)), Some((1.0, 2.0)), None, Some((3.0, 4.0))] {
            path.point(p);
        }
        assert_eq!(path.finish(), "M0,1L1,2M3,4");
    }
}
