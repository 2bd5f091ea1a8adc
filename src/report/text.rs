//! Text: the report a person reads in a terminal. Verdict-first headline, then a table per
//! workload and per node.

use std::fmt::Write;

use comfy_table::{CellAlignment, LineStyle, Table, TableStyle};

use super::document::{EndpointReport, RunDocument};
use crate::kernel::time::format_duration_ns;
use crate::sim::RunOutcome;

pub fn to_text(document: &RunDocument) -> String {
    let mut out = String::new();
    write_headline(&mut out, document);
    out.push_str("\nworkloads\n");
    let rows = document
        .workloads
        .iter()
        .map(|(name, workload)| (name.as_str(), workload.target.as_str(), &workload.control));
    out.push_str(&endpoint_table("workload", "target", rows));
    out.push_str("\nnodes\n");
    let rows = document
        .nodes
        .iter()
        .map(|(name, node)| (name.as_str(), node.kind, &node.control));
    out.push_str(&endpoint_table("node", "kind", rows));
    write_causes(&mut out, document);
    out
}

fn write_headline(out: &mut String, document: &RunDocument) {
    let _ = writeln!(
        out,
        "{} — model {} ({}), seed {}",
        document.scenario, document.model, document.model_file, document.seed
    );
    let status = match document.outcome {
        RunOutcome::Completed => "completed".to_string(),
        RunOutcome::BoundReached { bound, at_ns } => format!(
            "STOPPED EARLY: reached {} at {} — numbers cover the run until then",
            bound.as_str(),
            format_duration_ns(at_ns)
        ),
    };
    let _ = writeln!(
        out,
        "simulated {} (warm-up {} not counted), {} events: {}",
        format_duration_ns(document.duration_ns),
        format_duration_ns(document.warmup_ns),
        document.events,
        status
    );
}

fn endpoint_table<'a>(
    first: &str,
    second: &str,
    rows: impl Iterator<Item = (&'a str, &'a str, &'a EndpointReport)>,
) -> String {
    let mut table = Table::new();
    table.load_style(TableStyle::new().header_separator(LineStyle::none().fill('-').junction(' ')));
    table.set_header(vec![
        first,
        second,
        "requests",
        "ok",
        "degraded",
        "failed",
        "availability",
        "req/s",
        "mean",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
    ]);
    for (name, detail, report) in rows {
        let latency = &report.latency_ns;
        table.add_row(vec![
            name.to_string(),
            detail.to_string(),
            report.requests.to_string(),
            report.ok.to_string(),
            report.degraded.to_string(),
            report.failed.to_string(),
            format_share(report.availability),
            format!("{:.1}", report.throughput_per_s),
            format_duration_ns(latency.mean.round() as u64),
            format_duration_ns(latency.p50),
            format_duration_ns(latency.p90),
            format_duration_ns(latency.p99),
            format_duration_ns(latency.p999),
            format_duration_ns(latency.max),
        ]);
    }
    for index in 2..14 {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut text = table.trim_fmt();
    text.push('\n');
    text
}

/// Failures by cause, only where there are any, so a healthy run prints nothing here.
fn write_causes(out: &mut String, document: &RunDocument) {
    let endpoints = document
        .workloads
        .iter()
        .map(|(name, w)| (format!("workload {name}"), &w.control))
        .chain(
            document
                .nodes
                .iter()
                .map(|(name, n)| (format!("node {name}"), &n.control)),
        );
    let mut lines = Vec::new();
    for (label, report) in endpoints {
        let causes: Vec<String> = report
            .failed_by_cause
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(cause, count)| format!("{cause} {count}"))
            .collect();
        if !causes.is_empty() {
            lines.push(format!("  {label}: {}", causes.join(", ")));
        }
    }
    if !lines.is_empty() {
        out.push_str("\nfailures by cause\n");
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
    let in_flight: Vec<String> = document
        .workloads
        .iter()
        .filter(|(_, w)| w.control.in_flight > 0)
        .map(|(name, w)| format!("{name} {}", w.control.in_flight))
        .collect();
    if !in_flight.is_empty() {
        let _ = writeln!(
            out,
            "\nstill in flight when the run stopped (neither ok nor failed): {}",
            in_flight.join(", ")
        );
    }
}

/// Availability with enough nines to see the difference between 99.9% and 99.99%.
pub fn format_share(share: f64) -> String {
    if share >= 1.0 {
        "100%".to_string()
    } else {
        format!("{:.3}%", share * 100.0)
    }
}
