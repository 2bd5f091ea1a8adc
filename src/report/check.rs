//! The results of `blastradius check`: each scenario's report with its baseline comparison,
//! whether it passes the gate, and the concise summaries (text for a terminal or a CI log,
//! Markdown for a pull-request comment). JUnit and GitHub renderers read the same `CheckReport`.

use std::fmt::Write;

use super::markdown::{blast_headline, code, escape, metric_value, replay_command, to_markdown};
use crate::analysis::findings::Findings;
use crate::analysis::{Comparison, HypothesisResult, RecoveryStatus, Verdict};
use crate::kernel::time::format_duration_ns;
use crate::model::Topology;

/// Every scenario checked, in the order they were found.
#[derive(Clone, Debug)]
pub struct CheckReport<'a> {
    pub entries: Vec<CheckEntry<'a>>,
    /// The baseline file as given on the command line, when one is used.
    pub baseline_file: Option<String>,
    /// `--strict`: a scenario missing from the baseline fails the gate.
    pub strict: bool,
}

/// One scenario's results.
#[derive(Clone, Debug)]
pub struct CheckEntry<'a> {
    pub document: Findings,
    pub topology: &'a Topology,
    pub baseline: BaselineStatus,
}

/// A scenario against the baseline.
#[derive(Clone, Debug)]
pub enum BaselineStatus {
    /// No `--baseline`.
    NotUsed,
    /// The baseline has no entry under this key.
    Missing { key: String },
    /// Compared with the entry under this key.
    Compared { key: String, comparison: Comparison },
}

/// Where a scenario stands at the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateStatus {
    /// Every hypothesis holds and nothing is worse than the baseline.
    Passed,
    /// Hypotheses failed, all of them already failing in the baseline; nothing worse.
    KnownFailures,
    /// Fails the gate: a hypothesis failed (a new one, with a baseline), a metric is worse than
    /// the baseline, or the scenario is missing from it under `--strict`.
    Failed,
}

impl CheckEntry<'_> {
    pub fn status(&self, strict: bool) -> GateStatus {
        let failed = self.document.verdict == Verdict::Failed;
        match &self.baseline {
            BaselineStatus::Compared { comparison, .. } if comparison.is_worse() => {
                GateStatus::Failed
            }
            BaselineStatus::Compared { .. } if failed => GateStatus::KnownFailures,
            BaselineStatus::Missing { .. } if strict => GateStatus::Failed,
            _ if failed => GateStatus::Failed,
            _ => GateStatus::Passed,
        }
    }

    /// Whether a failed hypothesis is a known failure of the baseline (`index` in file order).
    pub fn is_known_failure(&self, index: usize) -> bool {
        let BaselineStatus::Compared { comparison, .. } = &self.baseline else {
            return false;
        };
        let keys = crate::analysis::hypothesis_keys(
            self.document
                .hypotheses
                .iter()
                .map(|h| (h.workload.as_str(), h.metric)),
        );
        keys.get(index)
            .is_some_and(|key| comparison.known_failures.contains(key))
    }
}

impl CheckReport<'_> {
    /// Whether any scenario fails the gate.
    pub fn failed(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.status(self.strict) == GateStatus::Failed)
    }

    fn counts(&self) -> (usize, usize, usize) {
        let count = |s: GateStatus| {
            self.entries
                .iter()
                .filter(|e| e.status(self.strict) == s)
                .count()
        };
        (
            count(GateStatus::Passed),
            count(GateStatus::KnownFailures),
            count(GateStatus::Failed),
        )
    }

    /// One line: how many scenarios passed and failed.
    pub fn totals(&self) -> String {
        let (passed, known, failed) = self.counts();
        let mut text = format!(
            "{} scenario{}: {passed} passed",
            self.entries.len(),
            if self.entries.len() == 1 { "" } else { "s" }
        );
        if known > 0 {
            let _ = write!(text, ", {known} with known failures only");
        }
        let _ = write!(text, ", {failed} failed");
        let worse = self
            .entries
            .iter()
            .filter(|e| matches!(&e.baseline, BaselineStatus::Compared { comparison, .. } if comparison.is_worse()))
            .count();
        if let Some(file) = &self.baseline_file {
            let _ = write!(text, " ({worse} worse than the baseline {file})");
        }
        text
    }
}

/// ✅ passed, ⚠️ known failures only, ❌ failed.
pub(crate) fn gate_mark(status: GateStatus) -> &'static str {
    match status {
        GateStatus::Passed => "✅",
        GateStatus::KnownFailures => "⚠️",
        GateStatus::Failed => "❌",
    }
}

/// One failed hypothesis in a line: bounds, line, the windows that broke and by how much.
pub fn hypothesis_failure(h: &HypothesisResult) -> String {
    let windows: Vec<String> = h
        .checks
        .iter()
        .filter(|c| !c.pass)
        .map(|c| {
            let shown = |v: Option<f64>| v.map_or("-".to_string(), |v| metric_value(h.metric, v));
            let mut text = format!("{} {}", c.window, shown(c.experiment));
            if c.control.is_some() {
                let _ = write!(text, " (control {})", shown(c.control));
            }
            if let Some(note) = &c.note {
                let _ = write!(text, " — {note}");
            }
            text
        })
        .collect();
    format!(
        "{} {} {} (line {}): {}",
        h.workload,
        h.metric,
        h.bounds,
        h.line,
        windows.join("; ")
    )
}

/// The blast radius and recovery in one line, without Markdown.
pub fn headline(doc: &Findings) -> String {
    let mut parts = blast_headline(doc);
    if parts.is_empty() {
        parts.push("no faults".to_string());
    }
    for r in &doc.recovery {
        match r.status {
            RecoveryStatus::Recovered { after_ns } => parts.push(format!(
                "{} recovered {} after",
                r.workload,
                format_duration_ns(after_ns)
            )),
            RecoveryStatus::NotRecovered => {
                parts.push(format!("{} NOT RECOVERED", r.workload));
            }
            RecoveryStatus::NotApplicable => {}
        }
    }
    parts.join("; ")
}

/// The summary for a terminal or a CI log: a few lines per scenario, then the totals.
pub fn check_text(report: &CheckReport<'_>) -> String {
    let mut out = String::new();
    for entry in &report.entries {
        let doc = &entry.document;
        let mark = match entry.status(report.strict) {
            GateStatus::Passed => "ok   ",
            GateStatus::KnownFailures => "known",
            GateStatus::Failed => "FAIL ",
        };
        let _ = writeln!(
            out,
            "{mark} {} ({}, seed {})",
            doc.scenario, doc.scenario_file, doc.seed
        );
        let _ = writeln!(out, "      {}", headline(doc));
        for (i, h) in doc.hypotheses.iter().enumerate().filter(|(_, h)| !h.pass) {
            let known = if entry.is_known_failure(i) {
                "known failure: "
            } else {
                "failed: "
            };
            let _ = writeln!(out, "      {known}{}", hypothesis_failure(h));
        }
        for line in baseline_lines(entry, report) {
            let _ = writeln!(out, "      {line}");
        }
        if entry.status(report.strict) != GateStatus::Passed {
            let _ = writeln!(out, "      replay: {}", replay_command(doc));
        }
    }
    let _ = writeln!(out, "\n{}", report.totals());
    out
}

/// What the baseline says about a scenario, one finding per line.
pub fn baseline_lines(entry: &CheckEntry<'_>, report: &CheckReport<'_>) -> Vec<String> {
    let file = report.baseline_file.as_deref().unwrap_or("the baseline");
    match &entry.baseline {
        BaselineStatus::NotUsed => Vec::new(),
        BaselineStatus::Missing { key } => vec![format!(
            "not in the baseline: no entry {key} in {file}{} (run with --update-baseline to add it)",
            if report.strict { ", and --strict" } else { "" }
        )],
        BaselineStatus::Compared { comparison, .. } => {
            let mut lines = Vec::new();
            lines.extend(
                comparison
                    .worse
                    .iter()
                    .map(|c| format!("worse than baseline: {c}")),
            );
            lines.extend(comparison.new_failures.iter().map(|k| {
                format!("worse than baseline: hypothesis {k} failed, it held in the baseline")
            }));
            lines.extend(
                comparison
                    .better
                    .iter()
                    .map(|c| format!("better than baseline: {c}")),
            );
            lines.extend(comparison.fixed.iter().map(|k| {
                format!("better than baseline: hypothesis {k} holds, it failed in the baseline")
            }));
            lines.extend(comparison.notes.iter().map(|n| format!("note: {n}")));
            if comparison.is_better() && !comparison.is_worse() {
                lines.push("run with --update-baseline to record the improvement".to_string());
            }
            lines
        }
    }
}

/// The summary as Markdown: a table of scenarios and verdicts, the failed hypotheses with
/// the commands that replay them, and the baseline's findings.
pub fn summary_markdown(report: &CheckReport<'_>) -> String {
    let mut out = String::new();
    let verdict = if report.failed() { "❌" } else { "✅" };
    let _ = writeln!(out, "## {verdict} blastradius check\n");
    let _ = writeln!(out, "{}\n", escape(&report.totals()));
    out.push_str("| | scenario | verdict | hypotheses | blast radius and recovery |");
    let with_baseline = report.baseline_file.is_some();
    out.push_str(if with_baseline { " baseline |\n" } else { "\n" });
    out.push_str("|---|---|---|--:|---|");
    out.push_str(if with_baseline { "---|\n" } else { "\n" });
    for entry in &report.entries {
        let doc = &entry.document;
        let status = entry.status(report.strict);
        let mark = gate_mark(status);
        let verdict = match status {
            GateStatus::Passed => "passed",
            GateStatus::KnownFailures => "known failures",
            GateStatus::Failed => "**failed**",
        };
        let failed = doc.hypotheses.iter().filter(|h| !h.pass).count();
        let _ = write!(
            out,
            "| {mark} | {} (`{}`) | {verdict} | {} of {} failed | {} |",
            escape(&doc.scenario),
            code(&doc.scenario_file),
            failed,
            doc.hypotheses.len(),
            escape(&headline(doc))
        );
        if with_baseline {
            let cell = match &entry.baseline {
                BaselineStatus::NotUsed => "-".to_string(),
                BaselineStatus::Missing { .. } => "not in the baseline".to_string(),
                BaselineStatus::Compared { comparison: c, .. } if c.is_worse() => {
                    format!("**worse** ({})", c.worse.len() + c.new_failures.len())
                }
                BaselineStatus::Compared { comparison: c, .. } if c.is_better() => {
                    "better".to_string()
                }
                BaselineStatus::Compared { .. } => "as the baseline".to_string(),
            };
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
    write_failures_markdown(&mut out, report);
    write_baseline_markdown(&mut out, report);
    out
}

fn write_failures_markdown(out: &mut String, report: &CheckReport<'_>) {
    let failing: Vec<&CheckEntry<'_>> = report
        .entries
        .iter()
        .filter(|e| e.document.hypotheses.iter().any(|h| !h.pass))
        .collect();
    if failing.is_empty() {
        return;
    }
    out.push_str("\n### Failed hypotheses\n\n");
    for entry in failing {
        let doc = &entry.document;
        let _ = writeln!(
            out,
            "- **{}** — replay: `{}`",
            escape(&doc.scenario),
            code(&replay_command(doc))
        );
        for (i, h) in doc.hypotheses.iter().enumerate().filter(|(_, h)| !h.pass) {
            let known = if entry.is_known_failure(i) {
                " (known: in the baseline)"
            } else {
                ""
            };
            let _ = writeln!(out, "  - {}{known}", escape(&hypothesis_failure(h)));
        }
    }
}

fn write_baseline_markdown(out: &mut String, report: &CheckReport<'_>) {
    let mut lines = Vec::new();
    for entry in &report.entries {
        for line in baseline_lines(entry, report) {
            lines.push(format!(
                "- **{}**: {}",
                escape(&entry.document.scenario),
                escape(&line)
            ));
        }
    }
    if !lines.is_empty() {
        out.push_str("\n### Against the baseline\n\n");
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
}

/// `check --format markdown`: the summary, then each scenario's full report.
pub fn check_markdown(report: &CheckReport<'_>) -> String {
    let mut out = summary_markdown(report);
    for entry in &report.entries {
        out.push('\n');
        out.push_str(&to_markdown(&entry.document));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::WindowCheck;

    #[test]
    fn a_failure_names_its_windows_and_values() {
        let h = HypothesisResult {
            workload: "checkout".to_string(),
            metric: "availability",
            line: 13,
            bounds: "min 0.999".to_string(),
            checks: vec![
                WindowCheck {
                    window: "during",
                    control: Some(0.9997),
                    experiment: Some(0.8333),
                    pass: false,
                    note: Some("below min 0.999".to_string()),
                },
                WindowCheck {
                    window: "after",
                    control: Some(0.9997),
                    experiment: Some(0.9995),
                    pass: true,
                    note: None,
                },
            ],
            pass: false,
            unasked: Vec::new(),
        };
        assert_eq!(
            hypothesis_failure(&h),
            "checkout availability min 0.999 (line 13): during 83.330% (control 99.970%) — below min 0.999"
        );
    }
}
