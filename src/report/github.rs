//! GitHub Actions: workflow-command annotations (`::error file=...,line=...::...`) that point
//! at the scenario file and the line of each failed hypothesis, and the Markdown step summary
//! with a Mermaid graph of each model coloured by the blast radius (drawn by `graph.rs`, the
//! one Mermaid renderer).
//!
//! Escaping follows the runner's rules (actions/toolkit `command.ts`): in the message, `%`, CR
//! and LF become `%25`, `%0D`, `%0A`; in a property, `:` and `,` become `%3A` and `%2C` as well.

use std::fmt::Write;

use super::check::{
    BaselineStatus, CheckEntry, CheckReport, GateStatus, gate_mark, headline, hypothesis_failure,
    summary_markdown,
};
use super::graph::{Highlight, Highlights, to_mermaid};
use super::markdown::{escape, percent, replay_command};
use crate::analysis::BlastRadius;
use crate::kernel::time::format_duration_ns;
use crate::model::{Diagnostics, Severity};

/// The message and property escapes of workflow commands, kept here under their old names.
pub use super::escape::{github_data as escape_data, github_property as escape_property};

/// One workflow command: `::level file=...,line=...,title=...::message`.
fn command(level: &str, file: &str, line: Option<usize>, title: &str, message: &str) -> String {
    let mut properties = vec![format!("file={}", escape_property(file))];
    if let Some(line) = line {
        properties.push(format!("line={line}"));
    }
    properties.push(format!("title={}", escape_property(title)));
    format!(
        "::{level} {}::{}\n",
        properties.join(","),
        escape_data(message)
    )
}

/// Every annotation of a check: an error per failed hypothesis (a warning when the baseline
/// already knows it), an error per metric worse than the baseline, and a notice per scenario.
///
/// GitHub shows only the first 10 annotations of each level per step, so the notices come
/// failed scenarios first, then those with known failures, then the ones that passed.
pub fn annotations(report: &CheckReport<'_>) -> String {
    let mut out = String::new();
    let mut notices = Vec::new();
    for entry in &report.entries {
        hypothesis_annotations(&mut out, entry);
        baseline_annotations(&mut out, entry, report);
        let doc = &entry.document;
        let status = entry.status(report.strict);
        let (rank, verdict) = match status {
            GateStatus::Failed => (0, "FAILED"),
            GateStatus::KnownFailures => (1, "known failures"),
            GateStatus::Passed => (2, "passed"),
        };
        let message = format!("{}. Replay: {}", headline(doc), replay_command(doc));
        let notice = command(
            "notice",
            &doc.scenario_file,
            None,
            &format!("{}: {verdict}", doc.scenario),
            &message,
        );
        notices.push((rank, notice));
    }
    // A stable sort: scenarios keep their order within a rank.
    notices.sort_by_key(|(rank, _)| *rank);
    for (_, notice) in notices {
        out.push_str(&notice);
    }
    out
}

fn hypothesis_annotations(out: &mut String, entry: &CheckEntry<'_>) {
    let doc = &entry.document;
    for (i, h) in doc.hypotheses.iter().enumerate().filter(|(_, h)| !h.pass) {
        let (level, what) = if entry.is_known_failure(i) {
            ("warning", "known failure (in the baseline)")
        } else {
            ("error", "hypothesis failed")
        };
        let title = format!("{}: {} {} {what}", doc.scenario, h.workload, h.metric);
        let message = format!(
            "{}\nseed {}; replay: {}",
            hypothesis_failure(h),
            doc.seed,
            replay_command(doc)
        );
        out.push_str(&command(
            level,
            &doc.scenario_file,
            Some(h.line),
            &title,
            &message,
        ));
    }
}

fn baseline_annotations(out: &mut String, entry: &CheckEntry<'_>, report: &CheckReport<'_>) {
    let doc = &entry.document;
    match &entry.baseline {
        BaselineStatus::NotUsed => {}
        BaselineStatus::Missing { key } => {
            let level = if report.strict { "error" } else { "warning" };
            let file = report.baseline_file.as_deref().unwrap_or("the baseline");
            out.push_str(&command(
                level,
                &doc.scenario_file,
                None,
                &format!("{}: not in the baseline", doc.scenario),
                &format!("no entry {key} in {file}; run check with --update-baseline to add it"),
            ));
        }
        BaselineStatus::Compared { comparison, .. } => {
            for change in &comparison.worse {
                out.push_str(&command(
                    "error",
                    &doc.scenario_file,
                    None,
                    &format!("{}: worse than baseline", doc.scenario),
                    &change.to_string(),
                ));
            }
        }
    }
}

/// Annotations for the diagnostics of files that did not load.
pub fn diagnostic_annotations(diagnostics: &Diagnostics) -> String {
    let mut out = String::new();
    for d in &diagnostics.items {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let file = escape_property(&d.file.display().to_string());
        let title = escape_property(&format!("{level}[{}]", d.code.as_str()));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        let _ = writeln!(
            out,
            "::{level} file={file},line={},col={},title={title}::{}",
            d.line,
            d.column,
            escape_data(&message)
        );
    }
    out
}

/// The step summary: the check's Markdown summary, then per scenario its headline and the
/// model as a Mermaid graph coloured by the blast radius.
pub fn step_summary(report: &CheckReport<'_>) -> String {
    let mut out = summary_markdown(report);
    for entry in &report.entries {
        let doc = &entry.document;
        let _ = writeln!(
            out,
            "\n### {} {}\n\n{}\n",
            gate_mark(entry.status(report.strict)),
            escape(&doc.scenario),
            escape(&headline(doc))
        );
        out.push_str("```mermaid\n");
        let highlights = blast_highlights(doc.blast_radius.as_ref());
        out.push_str(&to_mermaid(entry.topology, Some(&highlights)));
        out.push_str("```\n");
    }
    if report.entries.iter().any(|e| e.document.with_faults()) {
        out.push_str(
            "\nRed: nodes whose errors rose under the faults; amber: nodes that only got \
             slower. Boxes group nodes by the zones they are placed in.\n",
        );
    }
    out
}

/// What the step summary marks on the model's graph: nodes that deviated under the faults are
/// red (errors rose) or amber (only slower), with the change under their label.
pub fn blast_highlights(blast: Option<&BlastRadius>) -> Highlights {
    let Some(blast) = blast else {
        return Highlights::new();
    };
    blast
        .nodes
        .iter()
        .map(|h| {
            let (class, note) = if h.experiment_error_rate > h.control_error_rate {
                let (c, e) = (h.control_error_rate, h.experiment_error_rate);
                ("errors", format!("errors {} → {}", percent(c), percent(e)))
            } else {
                let (c, e) = (h.control_p99_ns, h.experiment_p99_ns);
                let (c, e) = (format_duration_ns(c), format_duration_ns(e));
                ("slower", format!("p99 {c} → {e}"))
            };
            let highlight = Highlight {
                class: class.to_string(),
                note: Some(note),
            };
            (h.node.clone(), highlight)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_has_its_properties_in_order() {
        assert_eq!(
            command("error", "s/a,b.toml", Some(13), "x: y", "m\nn"),
            "::error file=s/a%2Cb.toml,line=13,title=x%3A y::m%0An\n"
        );
    }
}
