//! A `Calibration` as text (a table for a terminal), Markdown (for a pull request) or JSON.
//! Pure functions: the same calibration gives the same bytes.

use std::fmt::Write as _;

use super::calibrate::{Calibration, Interval, Row};

impl Calibration {
    pub fn to_text(&self) -> String {
        let mut out = self.headline();
        out.push('\n');
        let header = [
            "scope",
            "subject",
            "metric",
            "traces [95% CI]",
            "simulated [95% CI]",
            "deviation",
            "",
        ];
        let mut table: Vec<[String; 7]> = vec![header.map(String::from)];
        for r in &self.rows {
            table.push(cells(r));
        }
        let widths: Vec<usize> = (0..7)
            .map(|c| {
                table
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for line in &table {
            let padded: Vec<String> = line
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            let _ = writeln!(out, "{}", padded.join("  ").trim_end());
        }
        self.footer(&mut out);
        out
    }

    pub fn to_markdown(&self) -> String {
        let mut out = format!("**{}**\n\n", self.headline().trim_end());
        out.push_str(
            "| scope | subject | metric | traces [95% CI] | simulated [95% CI] | deviation | |\n",
        );
        out.push_str("|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let c = cells(r);
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} | {} | {} |",
                c[0], c[1], c[2], c[3], c[4], c[5], c[6]
            );
        }
        out.push('\n');
        self.footer(&mut out);
        out
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a calibration serialises");
        text.push('\n');
        text
    }

    fn headline(&self) -> String {
        let deviating: Vec<String> = self
            .deviating()
            .map(|r| format!("{} {}", r.subject, r.metric))
            .collect();
        let verdict = if deviating.is_empty() {
            format!(
                "calibrated: every one of {} comparisons within {:.0}%",
                self.rows.len(),
                self.tolerance * 100.0
            )
        } else {
            format!(
                "DEVIATES: {} of {} comparisons beyond {:.0}%: {}",
                deviating.len(),
                self.rows.len(),
                self.tolerance * 100.0,
                deviating.join(", ")
            )
        };
        format!(
            "calibrate {}: {verdict}\n({:.1} s of traces vs {:.0} s simulated at the traces' rates, seed {})\n",
            self.model, self.traces_s, self.simulated_s, self.seed
        )
    }

    fn footer(&self, out: &mut String) {
        if !self.unmatched.is_empty() {
            out.push_str("\nnot compared:\n");
            for u in &self.unmatched {
                let _ = writeln!(out, "- {u}");
            }
        }
    }
}

fn cells(r: &Row) -> [String; 7] {
    [
        r.scope.to_string(),
        r.subject.clone(),
        r.metric.to_string(),
        interval(&r.traces, r.metric),
        interval(&r.simulated, r.metric),
        if r.deviation.is_finite() {
            format!("{:+.1}%", r.deviation * 100.0)
        } else {
            "new".to_string()
        },
        if r.deviates {
            "DEVIATES".to_string()
        } else {
            "ok".to_string()
        },
    ]
}

fn interval(i: &Interval, metric: &str) -> String {
    let f = |x: f64| match metric {
        _ if x.is_infinite() => "inf".to_string(),
        "error_rate" => format!("{:.2}%", x * 100.0),
        "calls_per_s" => format!("{x:.2}"),
        _ => format!("{x:.2}"),
    };
    format!("{} [{}, {}]", f(i.value), f(i.low), f(i.high))
}
