//! Markdown: the report of one scenario for a pull-request comment or a CI step summary —
//! verdict line, hypotheses, blast radius, recovery and deviations as GitHub-flavoured tables.
//! The small formatters here are shared by the other CI renderers (`check`, `github`, `junit`).

use std::fmt::Write;

use super::outline::{Item, Section, Table};
use crate::analysis::findings::Findings;
use crate::analysis::{BlastRadius, Deviation, HypothesisResult, Verdict};
use crate::kernel::time::format_duration_ns;
use crate::sim::RunOutcome;

/// The whole report of one scenario, starting with a level-2 heading.
pub fn to_markdown(doc: &Findings) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## {} {}\n",
        verdict_mark(doc.verdict),
        escape(&doc.scenario)
    );
    let _ = writeln!(out, "{}\n", verdict_line(doc));
    write_context(&mut out, doc);
    write_hypotheses(&mut out, doc);
    if let Some(blast) = &doc.blast_radius {
        write_blast_radius(&mut out, blast);
        write_recovery(&mut out, doc);
        write_deviations(&mut out, doc);
    }
    let mechanisms = super::outline::mechanisms(doc);
    if !mechanisms.is_empty() {
        out.push_str("### Mechanisms\n\n");
        for section in &mechanisms {
            write_section(&mut out, section);
        }
    }
    out
}

/// A mechanism's section: its title in bold, its lines as a nested list, its tables as
/// tables; a blank line after each block.
fn write_section(out: &mut String, section: &Section) {
    let _ = writeln!(out, "**{}**\n", escape(&section.title));
    let mut in_list = false;
    for item in &section.items {
        match item {
            Item::Line { depth, text } => {
                let indent = "  ".repeat(depth.saturating_sub(1));
                // The text report's alignment padding would start a code block here.
                let _ = writeln!(out, "{indent}- {}", escape(text.trim_start()));
                in_list = true;
            }
            Item::Table(table) => {
                if in_list {
                    out.push('\n');
                    in_list = false;
                }
                write_table(out, table);
                out.push('\n');
            }
        }
    }
    if in_list {
        out.push('\n');
    }
}

fn write_table(out: &mut String, table: &Table) {
    let header: Vec<String> = table.header.iter().map(|h| escape(h)).collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let rule: Vec<&str> = (table.numeric.iter())
        .map(|&numeric| if numeric { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|cell| escape(cell)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

/// ✅ or ❌.
pub(crate) fn verdict_mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "✅",
        Verdict::Failed => "❌",
    }
}

/// The verdict in one line: hypotheses, share hurt, leaks, an early stop.
pub(crate) fn verdict_line(doc: &Findings) -> String {
    let failed = doc.hypotheses.iter().filter(|h| !h.pass).count();
    let total = doc.hypotheses.len();
    let mut parts = vec![match doc.verdict {
        Verdict::Passed if total == 0 => "**PASSED** (no hypotheses to check)".to_string(),
        Verdict::Passed => format!("**PASSED** — all {total} hypotheses hold"),
        Verdict::Failed => format!("**FAILED** — {failed} of {total} hypotheses failed"),
    }];
    // The headline is plain text that names zones: escaped here, where it becomes Markdown.
    parts.extend(blast_headline(doc).iter().map(|part| escape(part)));
    if doc.outcome != RunOutcome::Completed || doc.control_outcome != RunOutcome::Completed {
        parts.push("**stopped early** at a bound".to_string());
    }
    parts.join(" · ")
}

/// The blast radius in a phrase or two (none without faults).
pub(crate) fn blast_headline(doc: &Findings) -> Vec<String> {
    let Some(blast) = &doc.blast_radius else {
        return Vec::new();
    };
    let mut parts = vec![if blast.significant {
        format!(
            "{} of user requests hurt (net of chance)",
            percent(blast.net_share)
        )
    } else {
        "no user requests measurably hurt".to_string()
    }];
    parts.extend(
        blast
            .containment
            .iter()
            .filter(|c| !c.contained)
            .map(|c| format!("harm leaked outside {}", c.boundary.join("+"))),
    );
    parts
}

/// The command that replays a scenario exactly: its file and its seed.
pub fn replay_command(doc: &Findings) -> String {
    format!(
        "blastradius run {} --seed {}",
        shell_quote(&super::escape::text(&doc.scenario_file)),
        doc.seed
    )
}

fn write_context(out: &mut String, doc: &Findings) {
    let _ = writeln!(
        out,
        "Model `{}` (`{}`), scenario `{}`, seed {}; simulated {} (warm-up {} not counted).",
        code(&doc.model),
        code(&doc.model_file),
        code(&doc.scenario_file),
        doc.seed,
        format_duration_ns(doc.duration_ns),
        format_duration_ns(doc.warmup_ns)
    );
    if !doc.faults.is_empty() {
        let faults: Vec<String> = doc
            .faults
            .iter()
            .map(|f| {
                let until = f.end_ns.map_or("the end".to_string(), format_duration_ns);
                format!(
                    "`{}` (line {}) {}–{until}",
                    f.kind,
                    f.line,
                    format_duration_ns(f.start_ns)
                )
            })
            .collect();
        let _ = writeln!(out, "Faults: {}.", faults.join(", "));
    }
    let _ = writeln!(out, "Replay: `{}`\n", code(&replay_command(doc)));
}

fn write_hypotheses(out: &mut String, doc: &Findings) {
    if doc.hypotheses.is_empty() {
        return;
    }
    out.push_str("### Hypotheses\n\n");
    out.push_str(&hypotheses_table(doc.hypotheses.iter()));
    out.push('\n');
}

/// A table of hypotheses, one row per window checked.
pub(crate) fn hypotheses_table<'a>(
    hypotheses: impl Iterator<Item = &'a HypothesisResult>,
) -> String {
    let mut out = String::new();
    out.push_str(
        "| | workload | metric | bounds | line | window | experiment | control | note |\n",
    );
    out.push_str("|---|---|---|---|--:|---|--:|--:|---|\n");
    for h in hypotheses {
        for (i, check) in h.checks.iter().enumerate() {
            let shown = |v: Option<f64>| v.map_or("-".to_string(), |v| metric_value(h.metric, v));
            let first = i == 0;
            let mark = match (first, check.pass) {
                (_, false) => "❌",
                (true, true) => "✅",
                (false, true) => "",
            };
            let _ = writeln!(
                out,
                "| {mark} | {} | {} | {} | {} | {} | {} | {} | {} |",
                if first {
                    escape(&h.workload)
                } else {
                    String::new()
                },
                if first { h.metric } else { "" },
                if first {
                    escape(&h.bounds)
                } else {
                    String::new()
                },
                if first {
                    h.line.to_string()
                } else {
                    String::new()
                },
                check.window,
                shown(check.experiment),
                shown(check.control),
                check.note.as_deref().map(escape).unwrap_or_default()
            );
        }
    }
    out
}

fn write_blast_radius(out: &mut String, blast: &BlastRadius) {
    out.push_str("### Blast radius\n\n");
    let _ = writeln!(
        out,
        "{} of paired user requests hurt by the faults ({} of {}); {} fared better by chance, \
         so the net harm is {}{}.\n",
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
    out.push_str("| workload | hurt | slower than | why | entered in | failures started at |\n");
    out.push_str("|---|--:|--:|---|---|---|\n");
    for (name, harm) in &blast.workloads {
        let mut why = list(&harm.why);
        if harm.extra_requests > 0 {
            why.push_str(&format!(
                " (plus {} extra spike requests)",
                harm.extra_requests
            ));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            escape(name),
            percent(harm.share),
            format_duration_ns(harm.slow_threshold_ns),
            or_dash(why),
            or_dash(list(&harm.zones)),
            or_dash(list(&harm.origins))
        );
    }
    if !blast.nodes.is_empty() {
        out.push_str("\n| node that deviated | errors | p99 |\n|---|--:|--:|\n");
        for node in &blast.nodes {
            let _ = writeln!(
                out,
                "| {} | {} → {} | {} → {} |",
                escape(&node.node),
                percent(node.control_error_rate),
                percent(node.experiment_error_rate),
                format_duration_ns(node.control_p99_ns),
                format_duration_ns(node.experiment_p99_ns)
            );
        }
    }
    if !blast.containment.is_empty() {
        out.push_str(
            "\n| fault | boundary | containment | hurt inside | hurt outside | better outside |\n\
             |---|---|---|--:|--:|--:|\n",
        );
        for c in &blast.containment {
            let verdict = if c.contained {
                "contained"
            } else {
                "**LEAKED**"
            };
            let _ = writeln!(
                out,
                "| `{}` (line {}) | {} | {verdict} | {} | {} | {} |",
                c.kind,
                c.line,
                escape(&c.boundary.join(", ")),
                c.hurt_inside,
                c.hurt_outside,
                c.helped_outside
            );
        }
    }
    out.push('\n');
}

fn write_recovery(out: &mut String, doc: &Findings) {
    out.push_str("### Recovery\n\n| workload | recovery |\n|---|---|\n");
    for r in &doc.recovery {
        let text = super::text::recovery_sentence(r);
        let _ = writeln!(out, "| {} | {} |", escape(&r.workload), escape(&text));
    }
    if let Some(line) = super::text::amplification_line(&doc.amplification) {
        let _ = writeln!(out, "\n{}", escape(&line));
    }
    out.push('\n');
}

/// Control → experiment of the headline metrics, per workload and node and window.
fn write_deviations(out: &mut String, doc: &Findings) {
    out.push_str("### Deviation (control → experiment)\n\n");
    out.push_str("| endpoint | window | requests/s | availability | p50 | p99 | mean |\n");
    out.push_str("|---|---|--:|--:|--:|--:|--:|\n");
    let rows = doc
        .workloads
        .iter()
        .map(|(n, w)| (format!("workload {}", escape(n)), &w.deviation))
        .chain(
            doc.nodes
                .iter()
                .map(|(n, node)| (format!("node {}", escape(n)), &node.deviation)),
        );
    for (label, by_window) in rows {
        for (window, deviations) in by_window {
            let cell = |metric: &str| {
                deviations
                    .iter()
                    .find(|d| d.metric == metric)
                    .map_or("-".to_string(), show_change)
            };
            let _ = writeln!(
                out,
                "| {label} | {window} | {} | {} | {} | {} | {} |",
                cell("throughput"),
                cell("availability"),
                cell("p50"),
                cell("p99"),
                cell("mean")
            );
        }
    }
    out.push('\n');
}

fn show_change(d: &Deviation) -> String {
    let show = |v: Option<f64>| v.map_or("-".to_string(), |v| metric_value(d.metric, v));
    let (control, experiment) = (show(d.control), show(d.experiment));
    // A change too small to show at this precision is shown as no change.
    if control == experiment {
        control
    } else {
        format!("{control} → {experiment}")
    }
}

/// A metric's value in its unit: shares as percentages, latencies as durations.
pub(crate) fn metric_value(metric: &str, value: f64) -> String {
    match metric {
        "availability" | "error_rate" | "degraded" => share(value),
        "throughput" => format!("{value:.1}"),
        "lag" | "dead_letters" => format!("{value:.0}"),
        _ => format_duration_ns(value.max(0.0).round() as u64),
    }
}

/// A share with two decimals: `4.58%`.
pub(crate) fn percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

/// Availability with enough decimals to tell 99.9% from 99.99%.
pub(crate) fn share(share: f64) -> String {
    if share >= 1.0 {
        "100%".to_string()
    } else {
        format!("{:.3}%", share * 100.0)
    }
}

fn list<K: std::fmt::Display>(map: &indexmap::IndexMap<K, u64>) -> String {
    map.iter()
        .map(|(k, v)| format!("{} {v}", escape(&k.to_string())))
        .collect::<Vec<_>>()
        .join(", ")
}

fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text
    }
}

/// Markdown prose and table cells, and code spans: the one escape of each, in `escape`.
pub(crate) use super::escape::{markdown as escape, markdown_code as code};

/// Quotes a word for a POSIX shell when it needs it.
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+@%,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_specials_are_escaped() {
        assert_eq!(escape("a|b *c* <d>"), r"a\|b \*c\* \<d\>");
        assert_eq!(escape("line\nbreak"), "line␊break");
        assert_eq!(code("a`b|c"), r"a'b\|c");
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("scenarios/a-b.toml"), "scenarios/a-b.toml");
        assert_eq!(shell_quote("my scenarios/x.toml"), "'my scenarios/x.toml'");
        assert_eq!(shell_quote("it's.toml"), r"'it'\''s.toml'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn values_are_shown_in_their_unit() {
        assert_eq!(metric_value("availability", 0.99972), "99.972%");
        assert_eq!(metric_value("availability", 1.0), "100%");
        assert_eq!(metric_value("p99", 296_000_000.0), "296ms");
        assert_eq!(metric_value("throughput", 1000.04), "1000.0");
    }
}
