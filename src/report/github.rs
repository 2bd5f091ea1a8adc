//! GitHub Actions: workflow-command annotations (`::error file=...,line=...::...`) that point
//! at the scenario file and the line of each failed hypothesis, and the Markdown step summary
//! with a Mermaid graph of each model coloured by the blast radius.
//!
//! Escaping follows the runner's rules (actions/toolkit `command.ts`): in the message, `%`, CR
//! and LF become `%25`, `%0D`, `%0A`; in a property, `:` and `,` become `%3A` and `%2C` as well.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::check::{
    BaselineStatus, CheckEntry, CheckReport, GateStatus, gate_mark, headline, hypothesis_failure,
    summary_markdown,
};
use super::markdown::{escape, percent, replay_command};
use crate::analysis::BlastRadius;
use crate::kernel::time::format_duration_ns;
use crate::model::{Diagnostics, EdgeKind, Severity, Topology};

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
        out.push_str(&mermaid(entry.topology, doc.blast_radius.as_ref()));
        out.push_str("```\n");
    }
    if report
        .entries
        .iter()
        .any(|e| e.document.blast_radius.is_some())
    {
        out.push_str(
            "\nRed: nodes whose errors rose under the faults; amber: nodes that only got \
             slower. Boxes group nodes by the zones they are placed in.\n",
        );
    }
    out
}

/// The model as a Mermaid `graph LR`: workloads enter at their targets; nodes are grouped in
/// subgraphs by the zones they are placed in (externals stand outside); optional calls and
/// cache misses are dotted. Nodes that deviated under the faults are red (errors rose) or amber
/// (only slower), with the change in their label.
pub fn mermaid(topology: &Topology, blast: Option<&BlastRadius>) -> String {
    let mut out = String::from("graph LR\n");
    let harm = |name: &str| blast.and_then(|b| b.nodes.iter().find(|n| n.node == name));
    // Group nodes by zone set, in order of first appearance; BTreeMap keys keep it stable.
    let mut groups: BTreeMap<Vec<u16>, Vec<usize>> = BTreeMap::new();
    let mut order: Vec<Vec<u16>> = Vec::new();
    for (n, node) in topology.nodes.iter().enumerate() {
        let zones: Vec<u16> = node.zones.iter().map(|z| z.0).collect();
        if !groups.contains_key(&zones) {
            order.push(zones.clone());
        }
        groups.entry(zones).or_default().push(n);
    }
    let node_line = |n: usize| {
        let node = &topology.nodes[n];
        let mut label = format!("{} ({})", label_text(&node.name), node.kind.as_str());
        if let Some(h) = harm(&node.name) {
            if h.experiment_error_rate > h.control_error_rate {
                let _ = write!(
                    label,
                    "<br/>errors {} → {}",
                    percent(h.control_error_rate),
                    percent(h.experiment_error_rate)
                );
            } else {
                let _ = write!(
                    label,
                    "<br/>p99 {} → {}",
                    format_duration_ns(h.control_p99_ns),
                    format_duration_ns(h.experiment_p99_ns)
                );
            }
        }
        format!("n{n}[\"{label}\"]")
    };
    for (g, zones) in order.iter().enumerate() {
        let members = &groups[zones];
        if zones.is_empty() {
            for &n in members {
                let _ = writeln!(out, "  {}", node_line(n));
            }
            continue;
        }
        let names: Vec<String> = zones
            .iter()
            .map(|&z| label_text(&topology.zones[z as usize]))
            .collect();
        let _ = writeln!(out, "  subgraph z{g}[\"{}\"]", names.join(" · "));
        for &n in members {
            let _ = writeln!(out, "    {}", node_line(n));
        }
        out.push_str("  end\n");
    }
    for (w, workload) in topology.workloads.iter().enumerate() {
        let _ = writeln!(
            out,
            "  w{w}([\"{}\"]) --> n{}",
            label_text(&workload.name),
            workload.target.index()
        );
    }
    write_edges(&mut out, topology);
    write_classes(&mut out, topology, blast);
    out
}

fn write_edges(out: &mut String, topology: &Topology) {
    let graph = &topology.graph;
    let mut edges: Vec<(usize, usize, String)> = graph
        .edge_indices()
        .map(|e| {
            let (a, b) = graph.edge_endpoints(e).expect("an edge has endpoints");
            let (from, to) = (graph[a].index(), graph[b].index());
            let arrow = match graph[e] {
                EdgeKind::Backing => "-. miss .->".to_string(),
                EdgeKind::Consume => "-. consume .->".to_string(),
                EdgeKind::Call(i) if topology.nodes[from].calls[i as usize].optional => {
                    "-. optional .->".to_string()
                }
                EdgeKind::Call(_) => "-->".to_string(),
            };
            (from, to, arrow)
        })
        .collect();
    edges.sort();
    edges.dedup();
    for (from, to, arrow) in edges {
        let _ = writeln!(out, "  n{from} {arrow} n{to}");
    }
}

fn write_classes(out: &mut String, topology: &Topology, blast: Option<&BlastRadius>) {
    out.push_str("  classDef workload fill:#e8eefc,stroke:#4a6fb5,color:#1b2a4a\n");
    out.push_str("  classDef errors fill:#f8d7da,stroke:#c62828,stroke-width:2px,color:#5c0b0b\n");
    out.push_str("  classDef slower fill:#fff1c2,stroke:#b7791f,stroke-width:2px,color:#4a3000\n");
    let workloads: Vec<String> = (0..topology.workloads.len())
        .map(|w| format!("w{w}"))
        .collect();
    if !workloads.is_empty() {
        let _ = writeln!(out, "  class {} workload", workloads.join(","));
    }
    let Some(blast) = blast else {
        return;
    };
    let (mut errors, mut slower) = (Vec::new(), Vec::new());
    for h in &blast.nodes {
        let Some(id) = topology.node_id(&h.node) else {
            continue;
        };
        if h.experiment_error_rate > h.control_error_rate {
            errors.push(format!("n{}", id.index()));
        } else {
            slower.push(format!("n{}", id.index()));
        }
    }
    for (class, ids) in [("errors", errors), ("slower", slower)] {
        if !ids.is_empty() {
            let _ = writeln!(out, "  class {} {class}", ids.join(","));
        }
    }
}

/// Text inside a quoted Mermaid label: the one Mermaid escape.
use super::escape::mermaid_label as label_text;

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

    #[test]
    fn labels_cannot_break_out_of_their_quotes() {
        assert_eq!(label_text("a\"b<c>"), "a#quot;b#lt;c#gt;");
    }
}
