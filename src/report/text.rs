//! Text: the report a person reads in a terminal in ten seconds. Verdict first, then the
//! hypotheses, the blast radius and recovery, then the deviations, then the raw tables.

use std::fmt::Write;

use comfy_table::{CellAlignment, LineStyle, Table, TableStyle};

use super::outline::{self, Item, Section};
use crate::analysis::findings::{EndpointReport, Findings};
use crate::analysis::{
    Amplification, BlastRadius, Deviation, Recovery, RecoveryClass, RecoveryStatus, Verdict,
};
use crate::kernel::time::format_duration_ns;
use crate::sim::RunOutcome;

pub fn to_text(document: &Findings) -> String {
    let mut out = String::new();
    write_headline(&mut out, document);
    write_section(&mut out, outline::traffic(document));
    write_hypotheses(&mut out, document);
    if let Some(blast) = &document.blast_radius {
        write_blast_radius(&mut out, blast);
        write_recovery(&mut out, document);
        write_deviations(&mut out, document);
    }
    write_section(&mut out, outline::scaling(&document.autoscaling));
    write_section(&mut out, outline::resilience(&document.resilience));
    let with_faults = document.with_faults();
    write_section(&mut out, outline::cache(&document.caches, with_faults));
    write_tables(&mut out, document);
    write_section(&mut out, outline::queue(document));
    out
}

fn write_headline(out: &mut String, doc: &Findings) {
    let _ = writeln!(
        out,
        "{} — model {} ({}), seed {}",
        doc.scenario, doc.model, doc.model_file, doc.seed
    );
    let failed = doc.hypotheses.iter().filter(|h| !h.pass).count();
    let verdict = match doc.verdict {
        Verdict::Passed if doc.hypotheses.is_empty() => {
            "PASSED (no hypotheses to check)".to_string()
        }
        Verdict::Passed => format!("PASSED — all {} hypotheses hold", doc.hypotheses.len()),
        Verdict::Failed => format!(
            "FAILED — {failed} of {} hypotheses failed",
            doc.hypotheses.len()
        ),
    };
    let mut summary = vec![verdict];
    if let Some(blast) = &doc.blast_radius {
        summary.push(if blast.significant {
            format!(
                "{} of user requests hurt (net of chance)",
                percent(blast.net_share)
            )
        } else {
            "no user requests measurably hurt".to_string()
        });
        let leaks: Vec<String> = blast
            .containment
            .iter()
            .filter(|c| !c.contained)
            .map(|c| format!("harm leaked outside {}", c.boundary.join("+")))
            .collect();
        summary.extend(leaks);
    }
    let _ = writeln!(out, "VERDICT: {}", summary.join("; "));
    for (label, outcome) in [
        ("experiment", doc.outcome),
        ("control", doc.control_outcome),
    ] {
        if let RunOutcome::BoundReached {
            bound,
            at_ns,
            state,
        } = outcome
        {
            let _ = writeln!(
                out,
                "STOPPED EARLY: the {label} reached {} at {}; its numbers cover the run until then",
                bound.as_str(),
                format_duration_ns(at_ns)
            );
            let _ = writeln!(
                out,
                "  state then: {} requests and {} calls in flight, {} calls queued (longest queue {}), {} events pending, ~{} MiB held",
                state.requests_in_flight,
                state.calls_in_flight,
                state.queued_calls,
                state.longest_queue,
                state.pending_events,
                state.memory_bytes.div_ceil(1 << 20)
            );
        }
    }
    let _ = writeln!(
        out,
        "simulated {} (warm-up {} not counted), {} events",
        format_duration_ns(doc.duration_ns),
        format_duration_ns(doc.warmup_ns),
        doc.events
    );
    for fault in &doc.faults {
        let until = fault
            .end_ns
            .map_or("the end".to_string(), format_duration_ns);
        let mut line = format!(
            "fault: {} (line {}) from {} to {}",
            fault.kind,
            fault.line,
            format_duration_ns(fault.start_ns),
            until
        );
        if fault.effects != 1 || fault.active_from_ns != Some(fault.start_ns) {
            let _ = write!(line, ": {} effects", fault.effects);
            if let Some(from) = fault.active_from_ns {
                let until = fault
                    .active_until_ns
                    .map_or("the end".to_string(), format_duration_ns);
                let _ = write!(
                    line,
                    ", acting from {} to {until}",
                    format_duration_ns(from)
                );
            }
        }
        let _ = writeln!(out, "{line}");
    }
    if doc.windows.len() > 1 {
        let spans: Vec<String> = doc
            .windows
            .iter()
            .map(|(name, s)| {
                format!(
                    "{name} {}–{}",
                    format_duration_ns(s.start_ns),
                    format_duration_ns(s.end_ns)
                )
            })
            .collect();
        let _ = writeln!(out, "windows: {}", spans.join(" · "));
    }
    let _ = writeln!(out, "{}", doc.static_stability.summary());
}

fn write_hypotheses(out: &mut String, doc: &Findings) {
    if doc.hypotheses.is_empty() {
        return;
    }
    out.push_str("\nhypotheses\n");
    for h in &doc.hypotheses {
        let mark = if h.pass { "ok  " } else { "FAIL" };
        let _ = writeln!(
            out,
            "  {mark} {} {} {} (line {})",
            h.workload, h.metric, h.bounds, h.line
        );
        for check in &h.checks {
            let shown = |v: Option<f64>| v.map_or("-".to_string(), |v| show_metric(h.metric, v));
            let mut line = format!(
                "       {:<8} experiment {} (control {})",
                check.window,
                shown(check.experiment),
                shown(check.control)
            );
            if let Some(note) = &check.note {
                let _ = write!(line, " — {note}");
            }
            let _ = writeln!(out, "{line}");
        }
    }
}

fn write_blast_radius(out: &mut String, blast: &BlastRadius) {
    out.push_str("\nblast radius\n");
    let _ = writeln!(
        out,
        "  {} of paired user requests hurt by the faults ({} of {}); {} fared better by chance, \
         so the net harm is {}{}",
        percent(blast.share),
        blast.hurt,
        blast.paired,
        blast.helped,
        percent(blast.net_share),
        if blast.significant {
            ""
        } else {
            " — within chance"
        }
    );
    for (name, harm) in &blast.workloads {
        let _ = writeln!(
            out,
            "  {name}: {} hurt (slower than {} counts)",
            percent(harm.share),
            format_duration_ns(harm.slow_threshold_ns)
        );
        if !harm.why.is_empty() {
            let _ = writeln!(out, "    why: {}", list(&harm.why));
        }
        if !harm.zones.is_empty() {
            let _ = writeln!(out, "    entered in: {}", list(&harm.zones));
        }
        if !harm.origins.is_empty() {
            let _ = writeln!(out, "    failures started at: {}", list(&harm.origins));
        }
        if harm.extra_requests > 0 {
            let _ = writeln!(
                out,
                "    plus {} extra requests from the traffic spike",
                harm.extra_requests
            );
        }
        if let Some(not_sent) = harm.not_sent.filter(|&n| n > 0) {
            let _ = writeln!(
                out,
                "    not sent: {not_sent} requests the control's users sent and the experiment's never did (waiting on slower answers)"
            );
        }
    }
    for node in &blast.nodes {
        let _ = writeln!(
            out,
            "  node {}: errors {} -> {}, p99 {} -> {}",
            node.node,
            percent(node.control_error_rate),
            percent(node.experiment_error_rate),
            format_duration_ns(node.control_p99_ns),
            format_duration_ns(node.experiment_p99_ns)
        );
    }
    for c in &blast.containment {
        let verdict = if c.contained { "contained" } else { "LEAKED" };
        let _ = writeln!(
            out,
            "  containment of {} (line {}) in {}: {verdict} — {} hurt inside, {} outside ({} fared better outside)",
            c.kind,
            c.line,
            c.boundary.join(", "),
            c.hurt_inside,
            c.hurt_outside,
            c.helped_outside
        );
    }
}

fn write_recovery(out: &mut String, doc: &Findings) {
    out.push_str("\nrecovery\n");
    for r in &doc.recovery {
        let _ = writeln!(out, "  {}: {}", r.workload, recovery_sentence(r));
    }
    if let Some(line) = amplification_line(&doc.amplification) {
        let _ = writeln!(out, "  {line}");
    }
}

/// A workload's recovery in one sentence, its class first; shared by the text, Markdown and
/// HTML reports.
pub(crate) fn recovery_sentence(r: &Recovery) -> String {
    match (r.status, r.class) {
        (RecoveryStatus::Recovered { after_ns }, RecoveryClass::SlowToRecover) => format!(
            "slow to recover: back within the control's band only {} after the faults ended, \
             longer than they acted",
            format_duration_ns(after_ns)
        ),
        (RecoveryStatus::Recovered { after_ns }, _) => format!(
            "recovered: back within the control's band {} after the faults ended",
            format_duration_ns(after_ns)
        ),
        (RecoveryStatus::NotRecovered, _) if r.possibly_metastable => {
            "NOT RECOVERED by the end of the run: possible metastable failure".to_string()
        }
        (RecoveryStatus::NotRecovered, _) => "not recovered by the end of the run".to_string(),
        (RecoveryStatus::NotApplicable, _) => {
            "not applicable: the faults last until the end".to_string()
        }
    }
}

/// `attempts per user request (control -> experiment): before 3.30 -> 3.30, ...`; the ratio
/// is shown where the experiment differs from the control by more than 5%.
pub(crate) fn amplification_line(amplification: &[Amplification]) -> Option<String> {
    let number = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    let windows: Vec<String> = amplification
        .iter()
        .map(|a| {
            let ratio = match a.ratio {
                Some(r) if (r - 1.0).abs() > 0.05 => format!(" (x{r:.2})"),
                _ => String::new(),
            };
            format!(
                "{} {} -> {}{ratio}",
                a.window,
                number(a.control),
                number(a.experiment)
            )
        })
        .collect();
    (!windows.is_empty()).then(|| {
        format!(
            "attempts per user request (control -> experiment): {}",
            windows.join(", ")
        )
    })
}

/// Control -> experiment for the headline metrics, per endpoint and window.
fn write_deviations(out: &mut String, doc: &Findings) {
    out.push_str("\ndeviation (control -> experiment, by window)\n");
    let mut table = new_table(&[
        "",
        "window",
        "requests/s",
        "availability",
        "p50",
        "p99",
        "mean",
    ]);
    let rows = doc
        .workloads
        .iter()
        .map(|(n, w)| (format!("workload {n}"), &w.deviation))
        .chain(
            doc.nodes
                .iter()
                .map(|(n, node)| (format!("node {n}"), &node.deviation)),
        );
    for (label, by_window) in rows {
        for (window, deviations) in by_window {
            let cell = |metric: &str| {
                let d = deviations
                    .iter()
                    .find(|d| d.metric == metric)
                    .expect("every metric");
                show_change(d)
            };
            table.add_row(vec![
                label.clone(),
                window.to_string(),
                cell("throughput"),
                cell("availability"),
                cell("p50"),
                cell("p99"),
                cell("mean"),
            ]);
        }
    }
    push_table(out, table);
}

fn show_change(d: &Deviation) -> String {
    let show = |v: Option<f64>| v.map_or("-".to_string(), |v| show_metric(d.metric, v));
    if d.change == Some(0.0) || (d.control.is_none() && d.experiment.is_none()) {
        show(d.control)
    } else {
        format!("{} -> {}", show(d.control), show(d.experiment))
    }
}

fn write_tables(out: &mut String, doc: &Findings) {
    let with_faults = doc.with_faults();
    let runs: &[(&str, bool)] = if with_faults {
        &[
            ("control (no faults)", false),
            ("experiment (with faults)", true),
        ]
    } else {
        &[("", false)]
    };
    for &(title, experiment) in runs {
        let pick = |c: &'_ EndpointReport, e: &'_ EndpointReport| {
            if experiment { e.clone() } else { c.clone() }
        };
        if !title.is_empty() {
            let _ = writeln!(out, "\n== {title} ==");
        }
        out.push_str("\nworkloads\n");
        let rows: Vec<_> = doc
            .workloads
            .iter()
            .map(|(name, w)| {
                (
                    name.clone(),
                    w.target.clone(),
                    pick(&w.control, &w.experiment),
                )
            })
            .collect();
        out.push_str(&endpoint_table("workload", "target", &rows));
        out.push_str("\nnodes\n");
        let rows: Vec<_> = doc
            .nodes
            .iter()
            .map(|(name, n)| {
                (
                    name.clone(),
                    n.kind.to_string(),
                    pick(&n.control, &n.experiment),
                )
            })
            .collect();
        out.push_str(&endpoint_table("node", "kind", &rows));
        write_causes(out, &rows);
        if let Some(section) = outline::balancers(doc, experiment) {
            write_lines(out, &section);
        }
    }
}

/// A mechanism's section as the text report words it: a blank line, its title, then its
/// lines indented two spaces per depth and its tables; nothing for `None`.
fn write_section(out: &mut String, section: Option<Section>) {
    if let Some(section) = section {
        out.push('\n');
        write_lines(out, &section);
    }
}

/// A section's title and items, with no blank line before it.
fn write_lines(out: &mut String, section: &Section) {
    let _ = writeln!(out, "{}", section.title);
    for item in &section.items {
        match item {
            Item::Line { depth, text } => {
                let _ = writeln!(out, "{:indent$}{text}", "", indent = 2 * depth);
            }
            Item::Table(table) => {
                let mut shown = new_table(&table.header);
                for row in &table.rows {
                    shown.add_row(row.clone());
                }
                push_table(out, shown);
            }
        }
    }
}

pub(super) fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(TableStyle::new().header_separator(LineStyle::none().fill('-').junction(' ')));
    table.set_header(header.to_vec());
    table
}

pub(super) fn push_table(out: &mut String, table: Table) {
    out.push_str(&table.trim_fmt());
    out.push('\n');
}

fn endpoint_table(first: &str, second: &str, rows: &[(String, String, EndpointReport)]) -> String {
    let mut table = new_table(&[
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
            name.clone(),
            detail.clone(),
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

/// Failures by cause and requests in flight, only where there are any.
fn write_causes(out: &mut String, nodes: &[(String, String, EndpointReport)]) {
    let mut lines = Vec::new();
    for (name, _, report) in nodes {
        let causes: Vec<String> = report
            .failed_by_cause
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(cause, count)| format!("{cause} {count}"))
            .collect();
        if !causes.is_empty() {
            lines.push(format!("  {name}: {}", causes.join(", ")));
        }
    }
    if !lines.is_empty() {
        out.push_str("failures by cause at nodes\n");
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
}

fn list<K: std::fmt::Display>(map: &indexmap::IndexMap<K, u64>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn show_metric(metric: &str, value: f64) -> String {
    match metric {
        "availability" | "error_rate" | "degraded" => format_share(value),
        "throughput" => format!("{value:.1}"),
        "lag" | "dead_letters" => format!("{value:.0}"),
        _ => format_duration_ns(value.max(0.0).round() as u64),
    }
}

fn percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

/// Availability with enough nines to see the difference between 99.9% and 99.99%.
pub fn format_share(share: f64) -> String {
    if share >= 1.0 {
        "100%".to_string()
    } else {
        format!("{:.3}%", share * 100.0)
    }
}
