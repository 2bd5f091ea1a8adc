//! Sweep and fma reports: a table per workload of means with 95% confidence intervals, the
//! metastability boundary for a two-parameter grid, the fma ranking; JSON and CSV.

use std::fmt::Write;

use comfy_table::{CellAlignment, LineStyle, Table, TableStyle};

use crate::analysis::sweep::{Estimate, PointSummary, SweepSummary};
use crate::kernel::time::format_duration_ns;

pub fn sweep_to_json(summary: &SweepSummary) -> String {
    let mut text = serde_json::to_string_pretty(summary).expect("a summary always serialises");
    text.push('\n');
    text
}

/// One row per grid point and metric: the parameters, the metric, n, mean and the interval.
pub fn sweep_to_csv(summary: &SweepSummary) -> String {
    let mut out = String::new();
    let mut header: Vec<String> = summary.parameters.clone();
    header.extend(["workload", "metric", "n", "mean", "ci95_low", "ci95_high"].map(String::from));
    let _ = writeln!(
        out,
        "{}",
        header
            .iter()
            .map(|h| csv_field(h))
            .collect::<Vec<_>>()
            .join(",")
    );
    for point in &summary.points {
        let params: Vec<String> = point.point.iter().map(|(_, v)| csv_field(v)).collect();
        let mut row = |workload: &str, metric: &str, e: &Option<Estimate>| {
            if let Some(e) = e {
                let mut fields = params.clone();
                fields.extend([csv_field(workload), metric.to_string(), e.n.to_string()]);
                fields.extend([e.mean, e.ci95_low, e.ci95_high].map(|v| format!("{v}")));
                let _ = writeln!(out, "{}", fields.join(","));
            }
        };
        row("", "blast_net_share", &point.blast_net_share);
        row(
            "",
            "attempts_per_request_after",
            &point.attempts_per_request_after,
        );
        for (name, w) in &point.workloads {
            row(name, "availability", &w.availability);
            row(name, "availability_change", &w.availability_change);
            row(name, "p99_ns", &w.p99_ns);
            row(name, "p99_change_ns", &w.p99_change_ns);
            row(name, "hurt_net_share", &w.hurt_net_share);
            row(name, "recovery_ns", &w.recovery_ns);
        }
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

pub fn sweep_to_text(summary: &SweepSummary) -> String {
    let mut out = String::new();
    let runs: u64 = summary.points.iter().map(|p| p.runs).sum();
    let _ = writeln!(
        out,
        "sweep of {} — {} grid points, {} runs (95% confidence intervals over seeds)",
        summary.scenario,
        summary.points.len(),
        runs
    );
    let names: Vec<String> = summary
        .points
        .first()
        .map(|p| p.workloads.keys().cloned().collect())
        .unwrap_or_default();
    for name in &names {
        let _ = writeln!(out, "\nworkload {name} (during the faults)");
        let mut header: Vec<String> = summary.parameters.clone();
        header.extend(
            [
                "runs",
                "pass",
                "hurt (net)",
                "availability",
                "p99",
                "p99 change",
                "recovered",
                "slow",
                "recovery",
                "attempts/req after",
            ]
            .map(String::from),
        );
        let mut table = new_table(&header);
        for point in &summary.points {
            let w = &point.workloads[name];
            let mut row: Vec<String> = point.point.iter().map(|(_, v)| v.clone()).collect();
            row.extend([
                point.runs.to_string(),
                percent(point.pass_rate),
                estimate(&w.hurt_net_share, percent),
                estimate(&w.availability, percent),
                estimate(&w.p99_ns, duration),
                estimate(&w.p99_change_ns, signed_duration),
                w.recovered_rate.map_or("-".into(), percent),
                w.slow_rate.map_or("-".into(), percent),
                estimate(&w.recovery_ns, duration),
                estimate(&point.attempts_per_request_after, |v| format!("{v:.2}")),
            ]);
            table.add_row(row);
        }
        push(&mut out, table, summary.parameters.len());
    }
    if summary.parameters.len() == 2 {
        write_boundary(&mut out, summary, &names);
    }
    write_stopped(&mut out, &summary.points);
    out
}

/// For a two-parameter grid (say trigger size × duration): the share of runs that recovered,
/// rows by the first parameter, columns by the second — where it drops is the metastability
/// boundary.
fn write_boundary(out: &mut String, summary: &SweepSummary, names: &[String]) {
    let rows = distinct(summary, 0);
    let columns = distinct(summary, 1);
    for name in names {
        let _ = writeln!(
            out,
            "\nmetastability boundary for {name}: share of runs back in the control's band by the end \
             ({} down, {} across; * marks under 50%)",
            summary.parameters[0], summary.parameters[1]
        );
        let mut header = vec![String::new()];
        header.extend(columns.iter().cloned());
        let mut table = new_table(&header);
        for row in &rows {
            let mut cells = vec![row.clone()];
            for column in &columns {
                let point = summary
                    .points
                    .iter()
                    .find(|p| &p.point[0].1 == row && &p.point[1].1 == column);
                let rate = point.and_then(|p| p.workloads[name].recovered_rate);
                cells.push(rate.map_or("-".into(), |r| {
                    format!("{}{}", percent(r), if r < 0.5 { "*" } else { "" })
                }));
            }
            table.add_row(cells);
        }
        push(out, table, 1);
    }
}

fn distinct(summary: &SweepSummary, index: usize) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for point in &summary.points {
        let value = &point.point[index].1;
        if !values.contains(value) {
            values.push(value.clone());
        }
    }
    values
}

fn write_stopped(out: &mut String, points: &[PointSummary]) {
    let stopped: u64 = points.iter().map(|p| p.stopped_early).sum();
    if stopped > 0 {
        let _ = writeln!(
            out,
            "\n{stopped} runs stopped early at a bound: their numbers cover only part of the run"
        );
    }
}

/// The fma ranking: every single fault by the share of user requests it hurt.
pub fn fma_to_text(summary: &SweepSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "failure-mode analysis of {} — {} single faults, ranked by blast radius",
        summary.scenario,
        summary.points.len()
    );
    let mut ranked: Vec<&PointSummary> = summary.points.iter().collect();
    ranked.sort_by(|a, b| {
        let share = |p: &PointSummary| p.blast_net_share.map_or(0.0, |e| e.mean);
        share(b)
            .total_cmp(&share(a))
            .then_with(|| a.point.cmp(&b.point))
    });
    let mut table = new_table(
        &[
            "#",
            "fault",
            "requests hurt",
            "workloads hit",
            "worst metric",
            "containment",
            "recovery",
        ]
        .map(String::from),
    );
    for (rank, point) in ranked.iter().enumerate() {
        let label = point
            .point
            .first()
            .map_or(String::new(), |(_, v)| v.clone());
        table.add_row(vec![
            (rank + 1).to_string(),
            label,
            estimate(&point.blast_net_share, percent),
            workloads_hit(point),
            worst_metric(point),
            containment(point),
            recovery(point),
        ]);
    }
    push(&mut out, table, 2);
    write_stopped(&mut out, &summary.points);
    out
}

/// Whether the harm stayed inside the fault's isolation boundary, or why it has none.
fn containment(point: &PointSummary) -> String {
    match point.contained_rate {
        Some(r) if r >= 1.0 => "contained".into(),
        Some(r) if r <= 0.0 => "LEAKED".into(),
        Some(r) => format!("leaked in {}", percent(1.0 - r)),
        None => match point.no_boundary {
            Some(why) => format!("n/a: {}", why.describe()),
            None => "n/a".into(),
        },
    }
}

/// Workloads whose net share hurt is above 0.1%.
fn workloads_hit(point: &PointSummary) -> String {
    let hit: Vec<&str> = point
        .workloads
        .iter()
        .filter(|(_, w)| w.hurt_net_share.is_some_and(|e| e.mean > 0.001))
        .map(|(name, _)| name.as_str())
        .collect();
    if hit.is_empty() {
        "-".into()
    } else {
        hit.join(", ")
    }
}

/// The workload hurt most, by its availability drop and p99 change during the fault.
fn worst_metric(point: &PointSummary) -> String {
    let worst = point.workloads.iter().max_by(|a, b| {
        let share =
            |w: &crate::analysis::sweep::WorkloadSummary| w.hurt_net_share.map_or(0.0, |e| e.mean);
        share(a.1).total_cmp(&share(b.1)).then_with(|| b.0.cmp(a.0))
    });
    let Some((name, w)) = worst else {
        return "-".into();
    };
    let availability = w
        .availability_change
        .map(|c| format!("availability {:+.2} pts", c.mean * 100.0));
    let p99 = w
        .p99_change_ns
        .map(|c| format!("p99 {}", signed_duration(c.mean)));
    let parts: Vec<String> = [availability, p99].into_iter().flatten().collect();
    if parts.is_empty() {
        "-".into()
    } else {
        format!("{name}: {}", parts.join(", "))
    }
}

fn recovery(point: &PointSummary) -> String {
    let rates: Vec<f64> = point
        .workloads
        .values()
        .filter_map(|w| w.recovered_rate)
        .collect();
    if rates.is_empty() {
        return "n/a".into();
    }
    if rates.iter().all(|&r| r >= 1.0) {
        let slowest = point
            .workloads
            .values()
            .filter_map(|w| w.recovery_ns.map(|e| e.mean))
            .fold(0.0, f64::max);
        return format!("recovered in {}", duration(slowest));
    }
    "NOT RECOVERED (possible metastable failure)".into()
}

fn estimate(value: &Option<Estimate>, show: fn(f64) -> String) -> String {
    match value {
        None => "-".into(),
        Some(e) if e.n < 2 || e.ci95_low == e.ci95_high => show(e.mean),
        Some(e) => format!(
            "{} [{}, {}]",
            show(e.mean),
            show(e.ci95_low),
            show(e.ci95_high)
        ),
    }
}

fn percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

fn duration(ns: f64) -> String {
    format_duration_ns(ns.max(0.0).round() as u64)
}

fn signed_duration(ns: f64) -> String {
    let sign = if ns < 0.0 { "-" } else { "+" };
    format!("{sign}{}", format_duration_ns(ns.abs().round() as u64))
}

fn new_table(header: &[String]) -> Table {
    let mut table = Table::new();
    table.load_style(TableStyle::new().header_separator(LineStyle::none().fill('-').junction(' ')));
    table.set_header(header.to_vec());
    table
}

fn push(out: &mut String, mut table: Table, left_columns: usize) {
    let columns = table.column_count();
    for index in left_columns..columns {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    out.push_str(&table.trim_fmt());
    out.push('\n');
}
