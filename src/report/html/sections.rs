//! The sections of one scenario's part of the page, in reading order: the headline (verdict,
//! key figures, faults), the hypotheses, each workload's charts, the graph, the tables.

use std::fmt::Write;

use super::latency::{Row, distribution};
use super::timeline::{Band, timeline};
use super::{availability, count, escape, fault_label, percent, show_metric, verdict_word};
use crate::analysis::findings::{EndpointReport, Findings, WorkloadReport};
use crate::analysis::{
    Amplification, BlastRadius, Deviation, Recovery, RecoveryClass, RecoveryStatus,
};
use crate::kernel::time::format_duration_ns;
use crate::model::Scenario;
use crate::report::outline::{Item, Section, Table};
use crate::sim::RunOutcome;

pub fn scenario(out: &mut String, scenario: &Scenario, doc: &Findings, id: &str) {
    let _ = writeln!(out, "<section class=\"scenario\" id=\"{id}\">");
    header(out, doc);
    hypotheses(out, doc);
    let bands = fault_bands(doc);
    for (name, workload) in &doc.workloads {
        workload_section(out, doc, name, workload, &bands);
    }
    out.push_str("<section class=\"block\">\n<h2>Dependency graph and blast radius</h2>\n");
    out.push_str(
        "<p class=\"lede\">Each node has a box in every zone it runs in; arrows are the calls as \
         the simulator routes them (to the caller's zone, to a database's primary zone). \
         Coloured: the nodes whose errors or latency rose in the experiment.</p>\n",
    );
    let _ = writeln!(
        out,
        "<figure class=\"card\">{}</figure>",
        super::topology::graph(scenario, doc, id)
    );
    graph_legend(out);
    out.push_str("</section>\n");
    if doc.with_faults() {
        deviations(out, doc);
    }
    causes(out, doc);
    mechanisms(out, doc);
    out.push_str("</section>\n");
}

/// What the model's mechanisms did — traffic shapes, autoscaling, breakers and budgets per
/// edge, health checks and ejections, caches, queues — one card per section of the outline the
/// text and Markdown reports render too: nothing when the model has none of them.
fn mechanisms(out: &mut String, doc: &Findings) {
    let sections = crate::report::outline::mechanisms(doc);
    if sections.is_empty() {
        return;
    }
    out.push_str("<section class=\"block\">\n<h2>Mechanisms</h2>\n");
    out.push_str(
        "<p class=\"lede\">What the model's resilience, balancing, scaling, caching and \
         queueing mechanisms did in each run (experiment, then the control in brackets or \
         on its own line).</p>\n",
    );
    for section in &sections {
        mechanism(out, section);
    }
    out.push_str("</section>\n");
}

/// One section as a card: its title, its lines as nested lists, its tables.
fn mechanism(out: &mut String, section: &Section) {
    let _ = writeln!(
        out,
        "<div class=\"card mechanism\">\n<h3>{}</h3>",
        escape(&section.title)
    );
    let mut open = 0;
    for item in &section.items {
        match item {
            Item::Line { depth, text } => {
                // Open or close lists until this line's depth; a deeper line nests under the
                // item before it, which stays open.
                while open < *depth {
                    out.push_str("<ul>");
                    open += 1;
                }
                while open > *depth {
                    out.push_str("</li></ul>");
                    open -= 1;
                }
                let text = escape(text.trim_start());
                if out.ends_with("<ul>") {
                    let _ = write!(out, "<li>{text}");
                } else {
                    let _ = write!(out, "</li>\n<li>{text}");
                }
            }
            Item::Table(table) => {
                close_lists(out, &mut open);
                mechanism_table(out, table);
            }
        }
    }
    close_lists(out, &mut open);
    out.push_str("</div>\n");
}

fn close_lists(out: &mut String, open: &mut usize) {
    if *open == 0 {
        return;
    }
    for _ in 0..*open {
        out.push_str("</li></ul>");
    }
    out.push('\n');
    *open = 0;
}

fn mechanism_table(out: &mut String, table: &Table) {
    let class = |numeric: bool| if numeric { " class=\"num\"" } else { "" };
    out.push_str("<table class=\"data\">\n<thead><tr>");
    for (header, &numeric) in table.header.iter().zip(&table.numeric) {
        let _ = write!(out, "<th{}>{}</th>", class(numeric), escape(header));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (cell, &numeric) in row.iter().zip(&table.numeric) {
            let _ = write!(out, "<td{}>{}</td>", class(numeric), escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

fn header(out: &mut String, doc: &Findings) {
    let _ = writeln!(
        out,
        "<header class=\"head\">\n<p class=\"eyebrow\">blastradius report · model <b>{}</b> \
         <span class=\"path\">{}</span> · seed {} · {} simulated, warm-up {} · {} events</p>\n\
         <h1>{}</h1>",
        escape(&doc.model),
        escape(&doc.model_file),
        doc.seed,
        format_duration_ns(doc.duration_ns),
        format_duration_ns(doc.warmup_ns),
        count(doc.events),
        escape(&doc.scenario)
    );
    let (class, word) = verdict_word(doc.verdict);
    let _ = writeln!(
        out,
        "<div class=\"verdict {class}\"><span class=\"word\">{word}</span>\
         <span class=\"summary\">{}</span></div>",
        escape(&verdict_summary(doc))
    );
    for (label, outcome) in [
        ("experiment", doc.outcome),
        ("control", doc.control_outcome),
    ] {
        if let RunOutcome::BoundReached { bound, at_ns, .. } = outcome {
            let _ = writeln!(
                out,
                "<p class=\"warning\">Stopped early: the {label} reached {} at {}; its numbers \
                 cover the run until then.</p>",
                bound.as_str(),
                format_duration_ns(at_ns)
            );
        }
    }
    out.push_str("<div class=\"kpis\">\n");
    for (tone, label, value, note) in key_figures(doc) {
        let _ = writeln!(
            out,
            "<div class=\"kpi {tone}\"><div class=\"kpi-label\">{}</div>\
             <div class=\"kpi-value\">{}</div><div class=\"kpi-note\">{}</div></div>",
            escape(&label),
            escape(&value),
            escape(&note)
        );
    }
    out.push_str("</div>\n");
    faults(out, doc);
    out.push_str("</header>\n");
}

fn verdict_summary(doc: &Findings) -> String {
    let total = doc.hypotheses.len();
    let failed = doc.hypotheses.iter().filter(|h| !h.pass).count();
    let mut parts = vec![match (total, failed) {
        (0, _) => "no hypotheses to check".to_string(),
        (_, 0) => format!("all {total} hypotheses hold"),
        _ => format!("{failed} of {total} hypotheses failed"),
    }];
    if let Some(blast) = &doc.blast_radius {
        parts.push(if blast.significant {
            format!("{} of user requests hurt", percent(blast.net_share))
        } else {
            "no user requests measurably hurt".to_string()
        });
        for c in blast.containment.iter().filter(|c| !c.contained) {
            parts.push(format!("harm leaked outside {}", c.boundary.join(" + ")));
        }
    }
    parts.join(" · ")
}

/// (tone, label, value, note) for the cards under the verdict.
fn key_figures(doc: &Findings) -> Vec<(&'static str, String, String, String)> {
    let Some((name, first)) = doc.workloads.first() else {
        return Vec::new();
    };
    let Some(blast) = &doc.blast_radius else {
        let c = &first.control;
        return vec![
            (
                "",
                format!("{name} availability"),
                availability(c.availability),
                format!("{} of {} failed", count(c.failed), count(c.requests)),
            ),
            (
                "",
                format!("{name} p99"),
                format_duration_ns(c.latency_ns.p99),
                format!("p50 {}", format_duration_ns(c.latency_ns.p50)),
            ),
            (
                "",
                format!("{name} throughput"),
                format!("{:.1}/s", c.throughput_per_s),
                "ended requests per second".to_string(),
            ),
        ];
    };
    let mut cards = vec![hurt_card(blast), containment_card(blast)];
    if let Some(during) = first.deviation.get("during") {
        let value = |m: &str| {
            during
                .iter()
                .find(|d| d.metric == m)
                .and_then(|d| d.experiment)
        };
        let control = |m: &str| {
            during
                .iter()
                .find(|d| d.metric == m)
                .and_then(|d| d.control)
        };
        let (e, c) = (value("availability"), control("availability"));
        let tone = match (e, c) {
            (Some(e), Some(c)) if e < c - 0.001 => "bad",
            _ => "good",
        };
        cards.push((
            tone,
            format!("{name} availability while the faults act"),
            e.map_or("-".to_string(), availability),
            format!("control {}", c.map_or("-".to_string(), availability)),
        ));
    }
    if let Some(r) = doc.recovery.first() {
        cards.push(recovery_card(name, r, &doc.amplification));
    }
    cards
}

/// The recovery class as a key figure; the retry amplification after the faults beneath it.
fn recovery_card(
    name: &str,
    r: &Recovery,
    amplification: &[Amplification],
) -> (&'static str, String, String, String) {
    let after = amplification
        .iter()
        .find(|a| a.window == "after")
        .and_then(|a| a.experiment.zip(a.control));
    let attempts = after.map_or(String::new(), |(e, c)| {
        format!("; {e:.2} attempts per request after (control {c:.2})")
    });
    let title = format!("{name} recovery");
    match (r.status, r.class) {
        (RecoveryStatus::Recovered { after_ns }, RecoveryClass::SlowToRecover) => (
            "warn",
            title,
            format_duration_ns(after_ns),
            format!("slow to recover: longer than the faults acted{attempts}"),
        ),
        (RecoveryStatus::Recovered { after_ns }, _) => (
            "good",
            title,
            format_duration_ns(after_ns),
            format!("back in the control's band after the faults ended{attempts}"),
        ),
        (RecoveryStatus::NotRecovered, _) => (
            "bad",
            title,
            "not recovered".to_string(),
            if r.possibly_metastable {
                format!("by the end of the run: possibly metastable{attempts}")
            } else {
                format!("by the end of the run{attempts}")
            },
        ),
        (RecoveryStatus::NotApplicable, _) => (
            "",
            title,
            "-".to_string(),
            "the faults last until the end".to_string(),
        ),
    }
}

fn hurt_card(blast: &BlastRadius) -> (&'static str, String, String, String) {
    let note = format!(
        "{} hurt ({} of {} paired requests), {} fared better by chance",
        percent(blast.share),
        count(blast.hurt),
        count(blast.paired),
        count(blast.helped)
    );
    let tone = if blast.significant { "bad" } else { "good" };
    let value = if blast.significant {
        percent(blast.net_share)
    } else {
        "none".to_string()
    };
    (
        tone,
        "User requests hurt, net of chance".to_string(),
        value,
        note,
    )
}

fn containment_card(blast: &BlastRadius) -> (&'static str, String, String, String) {
    let label = "Containment in the fault's zones".to_string();
    if blast.containment.is_empty() {
        return (
            "",
            label,
            "n/a".to_string(),
            "no fault here has a zone boundary".to_string(),
        );
    }
    match blast.containment.iter().find(|c| !c.contained) {
        Some(c) => (
            "bad",
            label,
            "leaked".to_string(),
            format!(
                "{} requests hurt outside {}, {} inside",
                count(c.hurt_outside),
                c.boundary.join(" + "),
                count(c.hurt_inside)
            ),
        ),
        None => {
            let inside: u64 = blast.containment.iter().map(|c| c.hurt_inside).sum();
            let note = format!("{} requests hurt, all inside the boundary", count(inside));
            ("good", label, "contained".to_string(), note)
        }
    }
}

fn faults(out: &mut String, doc: &Findings) {
    if doc.faults.is_empty() {
        out.push_str("<p class=\"faults\">No faults: the control run alone, as a baseline.</p>\n");
        return;
    }
    out.push_str("<ul class=\"faults\">\n");
    for fault in &doc.faults {
        let until = fault
            .end_ns
            .map_or("the end".to_string(), format_duration_ns);
        let mut when = format!(
            "line {} · {} → {}",
            fault.line,
            format_duration_ns(fault.start_ns),
            until
        );
        if fault.effects != 1 {
            let _ = write!(when, " · {} effects", fault.effects);
        }
        let _ = writeln!(
            out,
            "<li><span class=\"tag\">fault</span> {} <span class=\"muted\">{}</span></li>",
            escape(&fault_label(fault)),
            escape(&when)
        );
    }
    out.push_str("</ul>\n");
}

fn hypotheses(out: &mut String, doc: &Findings) {
    out.push_str("<section class=\"block\">\n<h2>Steady-state hypotheses</h2>\n");
    if doc.hypotheses.is_empty() {
        out.push_str("<p class=\"lede\">The scenario states no hypotheses.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table class=\"hypotheses\">\n<thead><tr><th></th><th>hypothesis</th><th>window</th>\
         <th class=\"num\">experiment</th><th class=\"num\">control</th><th>finding</th></tr></thead>\n<tbody>\n",
    );
    for h in &doc.hypotheses {
        let (class, word) = if h.pass {
            ("pass", "PASS")
        } else {
            ("fail", "FAIL")
        };
        let span = h.checks.len().max(1);
        let _ = write!(
            out,
            "<tr class=\"first\"><td rowspan=\"{span}\"><span class=\"badge {class}\">{word}</span></td>\
             <td rowspan=\"{span}\"><div class=\"h-name\">{} {}</div>\
             <div class=\"h-bounds\">{} · line {}</div></td>",
            escape(&h.workload),
            escape(h.metric),
            escape(&h.bounds),
            h.line
        );
        if h.checks.is_empty() {
            out.push_str("<td></td><td></td><td></td><td></td></tr>\n");
        }
        for (i, check) in h.checks.iter().enumerate() {
            if i > 0 {
                out.push_str("<tr>");
            }
            let shown = |v: Option<f64>| v.map_or("-".to_string(), |v| show_metric(h.metric, v));
            let tone = if check.pass { "ok" } else { "bad" };
            let _ = writeln!(
                out,
                "<td>{}</td><td class=\"num value {tone}\">{}</td><td class=\"num muted\">{}</td>\
                 <td class=\"note\">{}</td></tr>",
                check.window,
                escape(&shown(check.experiment)),
                escape(&shown(check.control)),
                escape(
                    check
                        .note
                        .as_deref()
                        .unwrap_or(if check.pass { "holds" } else { "" })
                )
            );
        }
    }
    out.push_str("</tbody></table>\n</section>\n");
}

/// The faults' active spans, for the timelines.
fn fault_bands(doc: &Findings) -> Vec<Band> {
    doc.faults
        .iter()
        .filter_map(|f| {
            let start_ns = f.active_from_ns?;
            let end_ns = f.active_until_ns.unwrap_or(doc.end_ns).min(doc.end_ns);
            Some(Band {
                start_ns,
                end_ns,
                label: fault_label(f),
            })
        })
        .collect()
}

fn workload_section(
    out: &mut String,
    doc: &Findings,
    name: &str,
    workload: &WorkloadReport,
    bands: &[Band],
) {
    let rate = workload.rate_per_s;
    let _ = writeln!(
        out,
        "<section class=\"block\">\n<h2>Workload {} <span class=\"muted\">enters at {} · {} req/s</span></h2>",
        escape(name),
        escape(&workload.target),
        count(rate.round() as u64)
    );
    let faults = doc.with_faults();
    let chart = timeline(
        &format!("timeline of {name}"),
        &workload.control.series,
        faults.then_some(&workload.experiment.series),
        doc.end_ns,
        doc.warmup_ns,
        bands,
    );
    let _ = writeln!(out, "<figure class=\"card\">{chart}</figure>");
    out.push_str("<div class=\"grid2\">\n");
    let (caption, rows) = latency_rows(workload, faults);
    let chart = distribution(&format!("latency distribution of {name}"), &rows, faults);
    let _ = writeln!(
        out,
        "<figure class=\"card\"><figcaption>{}</figcaption>{chart}</figure>",
        escape(&caption)
    );
    match doc
        .blast_radius
        .as_ref()
        .and_then(|b| b.workloads.get(name))
    {
        Some(harm) => harm_card(out, harm),
        None => endpoint_card(out, &workload.control),
    }
    out.push_str("</div>\n</section>\n");
}

/// The percentiles while the faults act (the whole measured run without faults).
fn latency_rows(workload: &WorkloadReport, faults: bool) -> (String, Vec<Row>) {
    const ROWS: [(&str, &str); 4] = [
        ("p50", "p50"),
        ("p90", "p90"),
        ("p99", "p99"),
        ("p99.9", "p999"),
    ];
    if let (true, Some(during)) = (faults, workload.deviation.get("during")) {
        let rows = ROWS
            .iter()
            .map(|&(label, metric)| {
                let d = during.iter().find(|d| d.metric == metric);
                Row {
                    label,
                    control: d.and_then(|d| d.control),
                    experiment: d.and_then(|d| d.experiment),
                }
            })
            .collect();
        return (
            "Latency of answered requests while the faults act".to_string(),
            rows,
        );
    }
    let l = &workload.control.latency_ns;
    let rows = [l.p50, l.p90, l.p99, l.p999]
        .iter()
        .zip(ROWS)
        .map(|(&v, (label, _))| Row {
            label,
            control: Some(v as f64),
            experiment: Some(v as f64),
        })
        .collect();
    (
        "Latency of answered requests over the measured run".to_string(),
        rows,
    )
}

fn harm_card(out: &mut String, harm: &crate::analysis::WorkloadHarm) {
    let _ = writeln!(
        out,
        "<div class=\"card\"><h3>Who was hurt, and why</h3>\n<p class=\"small\">{} of {} paired \
         requests hurt ({}); slower than {} counts as hurt.{}</p>",
        count(harm.hurt),
        count(harm.paired),
        percent(harm.share),
        format_duration_ns(harm.slow_threshold_ns),
        if harm.extra_requests > 0 {
            format!(
                " Plus {} extra requests from the traffic spike.",
                count(harm.extra_requests)
            )
        } else {
            String::new()
        }
    );
    for (title, map) in [
        (
            "why",
            harm.why
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect::<Vec<_>>(),
        ),
        (
            "entered in",
            harm.zones.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        ),
        (
            "failures started at",
            harm.origins.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        ),
    ] {
        bars(out, title, &map, harm.hurt);
    }
    out.push_str("</div>\n");
}

/// A small table of counts with a bar each, as a share of `total`.
fn bars(out: &mut String, title: &str, rows: &[(String, u64)], total: u64) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<table class=\"bars\"><caption>{}</caption><tbody>",
        escape(title)
    );
    for (name, n) in rows {
        let share = *n as f64 / total.max(1) as f64;
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td class=\"num\">{}</td><td class=\"num muted\">{}</td>\
             <td class=\"bar-cell\"><span class=\"bar\" style=\"width:{:.1}%\"></span></td></tr>",
            escape(name),
            count(*n),
            percent(share),
            (share * 100.0).min(100.0)
        );
    }
    out.push_str("</tbody></table>\n");
}

fn endpoint_card(out: &mut String, report: &EndpointReport) {
    let l = &report.latency_ns;
    let _ = writeln!(
        out,
        "<div class=\"card\"><h3>Outcomes</h3>\n<table class=\"bars\"><tbody>\
         <tr><th>requests</th><td class=\"num\">{}</td></tr>\
         <tr><th>ok</th><td class=\"num\">{}</td></tr>\
         <tr><th>degraded</th><td class=\"num\">{}</td></tr>\
         <tr><th>failed</th><td class=\"num\">{}</td></tr>\
         <tr><th>availability</th><td class=\"num\">{}</td></tr>\
         <tr><th>mean latency</th><td class=\"num\">{}</td></tr>\
         <tr><th>max latency</th><td class=\"num\">{}</td></tr>\
         </tbody></table></div>",
        count(report.requests),
        count(report.ok),
        count(report.degraded),
        count(report.failed),
        availability(report.availability),
        format_duration_ns(l.mean.round() as u64),
        format_duration_ns(l.max)
    );
}

fn graph_legend(out: &mut String) {
    out.push_str(
        "<ul class=\"legend\">\
         <li><span class=\"sw sw-red\"></span>errors rose (by 1 point or more)</li>\
         <li><span class=\"sw sw-amber\"></span>deviated: slower, or a few more errors</li>\
         <li><span class=\"sw sw-hatch\"></span>zone taken down by a fault</li>\
         <li><span class=\"sw sw-hatch-light\"></span>zone cut off or targeted</li>\
         <li><span class=\"sw sw-target\"></span>node a fault acts on</li>\
         <li><span class=\"sw-line\"></span>call in the zone</li>\
         <li><span class=\"sw-line cross\"></span>call to another zone</li>\
         <li><span class=\"sw-line fault\"></span>call a fault acts on</li>\
         </ul>\n",
    );
}

/// Control → experiment per endpoint and window, the worse changes marked.
fn deviations(out: &mut String, doc: &Findings) {
    out.push_str(
        "<section class=\"block\">\n<h2>Deviation by window</h2>\n<p class=\"lede\">Control → \
         experiment, for the windows before, while and after the faults act (warm-up excluded). \
         Worse by more than the noise is marked.</p>\n<table class=\"data\">\n<thead><tr>\
         <th>endpoint</th><th>window</th><th class=\"num\">requests/s</th>\
         <th class=\"num\">availability</th><th class=\"num\">p50</th><th class=\"num\">p99</th>\
         <th class=\"num\">mean</th></tr></thead>\n",
    );
    let rows = doc
        .workloads
        .iter()
        .map(|(n, w)| (format!("workload {n}"), &w.deviation))
        .chain(
            doc.nodes
                .iter()
                .map(|(n, node)| (n.clone(), &node.deviation)),
        );
    for (label, by_window) in rows {
        out.push_str("<tbody>");
        for (i, (window, values)) in by_window.iter().enumerate() {
            let first = if i == 0 {
                format!(
                    "<th rowspan=\"{}\">{}</th>",
                    by_window.len(),
                    escape(&label)
                )
            } else {
                String::new()
            };
            let _ = write!(out, "<tr>{first}<td>{window}</td>");
            for metric in ["throughput", "availability", "p50", "p99", "mean"] {
                let d = values.iter().find(|d| d.metric == metric);
                let _ = write!(out, "{}", d.map_or("<td></td>".to_string(), change_cell));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n</section>\n");
}

fn change_cell(d: &Deviation) -> String {
    let show = |v: Option<f64>| v.map_or("-".to_string(), |v| show_metric(d.metric, v));
    // Equal as shown is equal: a change below the display's precision is not a change.
    if show(d.control) == show(d.experiment) {
        return format!("<td class=\"num muted\">{}</td>", escape(&show(d.control)));
    }
    let worse = match (d.metric, d.change, d.relative) {
        ("availability", Some(change), _) => change < -0.0005,
        ("throughput", _, Some(r)) => r < -0.05,
        (_, _, Some(r)) => r > 0.10,
        _ => d.experiment.is_none() != d.control.is_none(),
    };
    let class = if worse { "num worse" } else { "num" };
    format!(
        "<td class=\"{class}\"><span class=\"from\">{}</span> → {}</td>",
        escape(&show(d.control)),
        escape(&show(d.experiment))
    )
}

/// Failed requests by cause at every endpoint that had any, control → experiment.
fn causes(out: &mut String, doc: &Findings) {
    let endpoints: Vec<(String, &EndpointReport, &EndpointReport)> = doc
        .workloads
        .iter()
        .map(|(n, w)| (format!("workload {n}"), &w.control, &w.experiment))
        .chain(
            doc.nodes
                .iter()
                .map(|(n, node)| (n.clone(), &node.control, &node.experiment)),
        )
        .filter(|(_, c, e)| c.failed + e.failed > 0)
        .collect();
    out.push_str("<section class=\"block\">\n<h2>Failures by cause</h2>\n");
    if endpoints.is_empty() {
        out.push_str("<p class=\"lede\">No request failed anywhere.</p>\n</section>\n");
        return;
    }
    let two = doc.with_faults();
    let Some((_, first, _)) = endpoints.first() else {
        return;
    };
    let causes: Vec<&str> = first
        .failed_by_cause
        .keys()
        .copied()
        .filter(|cause| {
            endpoints
                .iter()
                .any(|(_, c, e)| c.failed_by_cause[cause] + e.failed_by_cause[cause] > 0)
        })
        .collect();
    let _ = write!(
        out,
        "<p class=\"lede\">{}</p>\n<table class=\"data\">\n<thead><tr><th>endpoint</th>",
        if two {
            "Failed calls at each node (and requests per workload), control → experiment."
        } else {
            "Failed calls at each node, and requests per workload."
        }
    );
    for cause in &causes {
        let _ = write!(out, "<th class=\"num\">{}</th>", cause.replace('_', " "));
    }
    out.push_str("<th class=\"num\">all</th></tr></thead>\n<tbody>\n");
    for (name, c, e) in &endpoints {
        let _ = write!(out, "<tr><th>{}</th>", escape(name));
        let cell = |a: u64, b: u64| match (two && a != b, b > a) {
            (false, _) => format!("<td class=\"num\">{}</td>", count(a)),
            (true, worse) => format!(
                "<td class=\"num{}\"><span class=\"from\">{}</span> → {}</td>",
                if worse { " worse" } else { "" },
                count(a),
                count(b)
            ),
        };
        for cause in &causes {
            out.push_str(&cell(c.failed_by_cause[cause], e.failed_by_cause[cause]));
        }
        out.push_str(&cell(c.failed, e.failed));
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n</section>\n");
}
