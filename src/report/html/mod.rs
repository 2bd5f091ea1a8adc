//! HTML: one self-contained page for a design review — verdict and hypotheses first, then per
//! workload a timeline and a latency distribution, the dependency graph by zone with the blast
//! radius on it, and the tables of deviations and failure causes.
//!
//! No JavaScript, no external fonts, styles or images, no URL at all: the charts are inline SVG
//! written here (`svg`), the styles a `<style>` element. Like every renderer it is a pure
//! function of its inputs: fixed-precision numbers and model order throughout, so the same
//! runs give the same bytes.

mod latency;
mod routing;
mod sections;
mod svg;
mod timeline;
mod topology;

use std::fmt::Write;

use crate::analysis::Verdict;
use crate::analysis::findings::FaultReport;
use crate::analysis::findings::Findings;
use crate::kernel::time::format_duration_ns;
use crate::model::Scenario;

const STYLE: &str = include_str!("style.css");

/// One page for the given runs, a section per scenario, in the order given.
pub fn to_html(runs: &[(&Scenario, &Findings)]) -> String {
    let title = match runs {
        [(_, doc)] => format!("{} — blastradius", doc.scenario),
        _ => format!("{} scenarios — blastradius", runs.len()),
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta name=\"generator\" content=\"blastradius {}\"/>\n<title>{}</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n",
        crate::VERSION,
        escape(&title)
    );
    if runs.len() > 1 {
        contents(&mut out, runs);
    }
    for (i, (scenario, doc)) in runs.iter().enumerate() {
        sections::scenario(&mut out, scenario, doc, &format!("s{}", i + 1));
    }
    let _ = write!(
        out,
        "<footer>Written by blastradius {} — a deterministic simulation: the same model, \
         scenario and seed give this page byte for byte.</footer>\n</main>\n</body>\n</html>\n",
        crate::VERSION
    );
    out
}

/// The list of scenarios with their verdicts, linking to their sections.
fn contents(out: &mut String, runs: &[(&Scenario, &Findings)]) {
    out.push_str("<nav class=\"contents\"><h1>Scenarios</h1><ol>\n");
    for (i, (_, doc)) in runs.iter().enumerate() {
        let (class, word) = verdict_word(doc.verdict);
        let _ = writeln!(
            out,
            "<li><a href=\"#s{}\">{}</a> <span class=\"badge {class}\">{word}</span></li>",
            i + 1,
            escape(&doc.scenario)
        );
    }
    out.push_str("</ol></nav>\n");
}

fn verdict_word(verdict: Verdict) -> (&'static str, &'static str) {
    match verdict {
        Verdict::Passed => ("pass", "PASSED"),
        Verdict::Failed => ("fail", "FAILED"),
    }
}

/// Text safe in HTML content and attribute values: the one HTML escape, `escape::html`.
pub(crate) use super::escape::html as escape;

/// A count with thin spaces between thousands: `780 333`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with two decimals.
fn percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

/// Availability with enough decimals to tell 99.9% from 99.99%.
fn availability(share: f64) -> String {
    if share >= 1.0 {
        "100%".to_string()
    } else {
        format!("{:.3}%", share * 100.0)
    }
}

/// A metric's value in its unit, as the hypotheses and deviations name it.
fn show_metric(metric: &str, value: f64) -> String {
    match metric {
        "availability" => availability(value),
        "error_rate" | "degraded" => percent(value),
        "throughput" => format!("{value:.1}/s"),
        "lag" | "dead_letters" => format!("{value:.0}"),
        _ if value < 0.0 => format!("-{}", format_duration_ns((-value).round() as u64)),
        _ => format_duration_ns(value.round() as u64),
    }
}

/// `zone-outage · az-a`: a fault's kind and what it targets.
fn fault_label(fault: &FaultReport) -> String {
    format!("{} · {}", fault.kind, fault.target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1\u{202f}000");
        assert_eq!(count(780_333), "780\u{202f}333");
        assert_eq!(count(1_234_567), "1\u{202f}234\u{202f}567");
    }

    #[test]
    fn escaping_covers_markup() {
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
