//! The `explore` report: what the search covered and the ranked minimal schedules it found,
//! as text, JSON, Markdown and JUnit. Pure functions of an `ExploreDocument`.

use std::fmt::Write;

use comfy_table::{LineStyle, Table, TableStyle};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use crate::analysis::explore::{ControlBand, Coverage, Explorer, Shrunk, describe_timed};
use crate::kernel::time::format_duration_ns;
use crate::model::{Change, Hypothesis, Topology};

/// How the search was bounded.
#[derive(Clone, Debug, Serialize)]
pub struct SearchBound {
    /// `runs` (a fixed number of schedules: reproducible) or `time` (as many as fit).
    pub mode: &'static str,
    /// `--runs N`, or the `--time` limit in nanoseconds.
    pub limit: u64,
    /// Whether the same command gives the same report: false under `--time`, whose coverage
    /// depends on the machine's speed.
    pub reproducible: bool,
}

/// Everything the report says.
#[derive(Clone, Debug, Serialize)]
pub struct ExploreDocument {
    pub model: String,
    /// The command that repeats this search.
    pub command: String,
    pub seed: u64,
    /// The K seeds every finding fails on.
    pub seeds: Vec<u64>,
    pub bound: SearchBound,
    /// The hypotheses every schedule is held to, described.
    pub hypotheses: Vec<String>,
    pub control: Vec<ControlBand>,
    /// The catalogue (fma's candidates) and how the search weighted each.
    pub catalogue: Vec<CatalogueEntry>,
    pub coverage: Coverage,
    /// Interesting failures that did not fail on every one of the K seeds.
    pub not_reproducible: u64,
    /// Interesting failures beyond `--max-findings`, not shrunk.
    pub not_shrunk: u64,
    /// Findings that shrank to the same minimal schedule as a higher-ranked one.
    pub duplicates: u64,
    /// Studies run (a control and an experiment each), the lineage control included.
    pub studies: u64,
    pub findings: Vec<FindingReport>,
}

/// One catalogue fault and its weights.
#[derive(Clone, Debug, Serialize)]
pub struct CatalogueEntry {
    pub fault: String,
    pub family: &'static str,
    /// Share of the control's answered calls through the fault's target (1 = the busiest).
    pub lineage: f64,
    /// The isolation boundary it acts on; schedules prefer boundaries not yet touched.
    pub boundary: String,
}

/// One ranked finding.
#[derive(Clone, Debug, Serialize)]
pub struct FindingReport {
    pub rank: usize,
    pub class: &'static str,
    /// The minimal schedule's faults, timed.
    pub faults: Vec<String>,
    /// Mean net share of requests hurt by the minimal schedule over the K seeds.
    pub net_share: f64,
    /// The minimal schedule's faults alone (search seed): passed, net share hurt.
    pub parts: Vec<PartReport>,
    /// What failed, on the search seed.
    pub failed: Vec<String>,
    /// The schedule the search found before shrinking, and its net share hurt (search seed).
    pub found: Vec<String>,
    pub found_net_share: f64,
    pub shrink_steps: u64,
    pub shrink_studies: u64,
    pub proven_minimal: bool,
    /// Where the scenario was written (`-o DIR`), if it was.
    pub file: Option<String>,
    /// The scenario file's text.
    pub scenario: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PartReport {
    pub fault: String,
    pub pass: bool,
    pub net_share: f64,
}

impl FindingReport {
    pub fn new(topology: &Topology, rank: usize, shrunk: &Shrunk) -> FindingReport {
        let timed = |s: &crate::analysis::explore::Schedule| {
            s.faults
                .iter()
                .map(|f| describe_timed(topology, f))
                .collect()
        };
        let faults: Vec<String> = timed(&shrunk.minimal);
        let seeds = shrunk.outcomes.len().max(1) as f64;
        FindingReport {
            rank,
            class: shrunk.class.as_str(),
            parts: faults
                .iter()
                .zip(&shrunk.parts)
                .map(|(fault, o)| PartReport {
                    fault: fault.clone(),
                    pass: o.pass,
                    net_share: o.net_share,
                })
                .collect(),
            faults,
            net_share: shrunk.outcomes.iter().map(|o| o.net_share).sum::<f64>() / seeds,
            failed: shrunk
                .outcomes
                .first()
                .map_or(Vec::new(), |o| o.failed.clone()),
            found: timed(&shrunk.found.schedule),
            found_net_share: shrunk.found.outcome.net_share,
            shrink_steps: shrunk.steps,
            shrink_studies: shrunk.studies,
            proven_minimal: shrunk.proven_minimal,
            file: None,
            scenario: String::new(),
        }
    }

    /// The comment lines at the top of the finding's scenario file.
    pub fn comments(&self, doc: &ExploreDocument) -> Vec<String> {
        let mut out = vec![
            format!("Found by `{}` (finding {}).", doc.command, self.rank),
            match self.class {
                "interaction" => {
                    "An interaction: each fault alone keeps every hypothesis; together they fail:"
                        .to_string()
                }
                _ => "An amplification: together the faults hurt far more than the sum of each alone:"
                    .to_string(),
            },
        ];
        out.extend(self.failed.iter().map(|f| format!("  {f}")));
        let seeds: Vec<String> = doc.seeds.iter().map(u64::to_string).collect();
        out.push(format!(
            "It fails on every seed of {} and hurts {} of requests (net, mean over those seeds).",
            seeds.join(", "),
            percent(self.net_share)
        ));
        for part in &self.parts {
            let verdict = if part.pass { "passes" } else { "fails" };
            out.push(format!(
                "Alone, {} {verdict} (hurts {}).",
                part.fault,
                percent(part.net_share)
            ));
        }
        out.push(format!(
            "Shrunk in {} steps from: {}.",
            self.shrink_steps,
            self.found.join("; ")
        ));
        if self.proven_minimal {
            out.push("Minimal: no single shrinking step keeps it failing.".to_string());
        } else {
            out.push("Shrinking hit its study bound: smaller, not shown minimal.".to_string());
        }
        out.push(
            "`blastradius run` on this file exits 1 while the failure remains; keep it under"
                .into(),
        );
        out.push("a folder that `blastradius check` runs in CI as a regression test.".into());
        out
    }
}

/// The hypotheses, described for the report: `checkout availability: max_decrease 0.01`.
pub fn describe_hypotheses(topology: &Topology, hypotheses: &[Hypothesis]) -> Vec<String> {
    hypotheses
        .iter()
        .map(|h| {
            let who = match h.queue {
                Some(q) => topology.node(q).name.clone(),
                None => topology.workloads[h.workload.index()].name.clone(),
            };
            let value = |v: f64| {
                if h.metric.is_latency() {
                    format_duration_ns(v.max(0.0).round() as u64)
                } else {
                    format!("{v}")
                }
            };
            let change = |c: Change| match c {
                Change::Relative(r) => format!("{}%", (r * 1e8).round() / 1e6),
                Change::Absolute(a) => value(a),
            };
            let bounds: Vec<String> = [
                h.min.map(|v| format!("min {}", value(v))),
                h.max.map(|v| format!("max {}", value(v))),
                h.max_increase
                    .map(|c| format!("max_increase {}", change(c))),
                h.max_decrease
                    .map(|c| format!("max_decrease {}", change(c))),
            ]
            .into_iter()
            .flatten()
            .collect();
            let windows: Vec<&str> = h.windows.iter().map(|w| w.as_str()).collect();
            format!(
                "{who} {}: {} ({})",
                h.metric.as_str(),
                bounds.join(", "),
                windows.join(", ")
            )
        })
        .collect()
}

impl ExploreDocument {
    /// The document's frame from a finished search; findings are added by the caller, who
    /// knows where their scenarios go.
    pub fn new(
        explorer: &Explorer<'_>,
        model: String,
        command: String,
        bound: SearchBound,
        coverage: Coverage,
    ) -> ExploreDocument {
        ExploreDocument {
            model,
            command,
            seed: explorer.options.seed,
            seeds: explorer.options.judging_seeds(),
            bound,
            hypotheses: describe_hypotheses(explorer.topology, &explorer.judge.hypotheses),
            control: explorer.control.clone(),
            catalogue: explorer
                .entries
                .iter()
                .map(|e| CatalogueEntry {
                    fault: e.candidate.label.clone(),
                    family: e.candidate.family,
                    lineage: (e.lineage * 1e6).round() / 1e6,
                    boundary: e.boundary.clone(),
                })
                .collect(),
            coverage,
            not_reproducible: 0,
            not_shrunk: 0,
            duplicates: 0,
            studies: 0,
            findings: Vec::new(),
        }
    }
}

fn percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

/// The catalogue's size and the targets the lineage bias favours most.
fn lineage_line(doc: &ExploreDocument) -> String {
    let mut targets: Vec<(&str, f64)> = Vec::new();
    for e in &doc.catalogue {
        if !targets.iter().any(|(b, _)| *b == e.boundary) {
            targets.push((&e.boundary, e.lineage));
        }
    }
    targets.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = targets
        .iter()
        .take(4)
        .map(|(b, l)| format!("{b} {}", percent(*l)))
        .collect();
    format!(
        "catalogue: {} faults (fma's); drawn more often on the busiest paths of the control: {}",
        doc.catalogue.len(),
        top.join(", ")
    )
}

/// The coverage in one paragraph.
fn coverage_lines(doc: &ExploreDocument) -> Vec<String> {
    let c = &doc.coverage;
    let sizes: Vec<String> = c
        .by_size
        .iter()
        .map(|(k, n)| format!("{n} of {k} faults"))
        .collect();
    let mut out = vec![
        format!(
            "covered: {} schedules ({}), {} of {} catalogue faults, {} of {} pairs ({} of them overlapping in time)",
            c.schedules,
            sizes.join(", "),
            c.faults_tried,
            c.catalogue,
            c.pairs_tried,
            c.pairs_possible,
            c.pairs_overlapping
        ),
        format!(
            "failures: {} ({} interactions, {} amplifications, {} explained by one fault alone — see `fma`); {} not failing on every seed, {} not shrunk (--max-findings), {} duplicates; {} studies",
            c.failed,
            c.interactions,
            c.amplifications,
            c.explained,
            doc.not_reproducible,
            doc.not_shrunk,
            doc.duplicates,
            doc.studies
        ),
    ];
    if !doc.bound.reproducible {
        out.push(format!(
            "note: bounded by --time {}: how much was covered depends on this machine's speed; use --runs {} to repeat exactly this search",
            format_duration_ns(doc.bound.limit),
            c.schedules
        ));
    }
    out
}

fn headline(doc: &ExploreDocument) -> String {
    match doc.findings.len() {
        0 => format!(
            "PASSED: no schedule of {} broke the hypotheses beyond what one fault alone does",
            doc.model
        ),
        n => format!(
            "FAILED: {n} minimal fault schedule{} of {} {} the hypotheses where no single fault does",
            if n == 1 { "" } else { "s" },
            doc.model,
            if n == 1 { "breaks" } else { "break" },
        ),
    }
}

pub fn explore_to_text(doc: &ExploreDocument) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "explore {}: {}", doc.model, headline(doc));
    let seeds: Vec<String> = doc.seeds.iter().map(u64::to_string).collect();
    let _ = writeln!(
        out,
        "seed {}; findings must fail on seeds {}",
        doc.seed,
        seeds.join(", ")
    );
    let _ = writeln!(out, "held to: {}", doc.hypotheses.join("; "));
    for band in &doc.control {
        let _ = writeln!(
            out,
            "control {}: availability {}, p99 {}",
            band.workload,
            band.availability.map_or("n/a".into(), percent),
            band.p99_ns
                .map_or("n/a".into(), |p| format_duration_ns(p.round() as u64))
        );
    }
    let _ = writeln!(out, "{}", lineage_line(doc));
    for line in coverage_lines(doc) {
        let _ = writeln!(out, "{line}");
    }
    if doc.findings.is_empty() {
        return out;
    }
    out.push('\n');
    let mut table = Table::new();
    table.load_style(TableStyle::new().header_separator(LineStyle::none().fill('-').junction(' ')));
    table.set_header([
        "#",
        "minimal schedule",
        "class",
        "hurt",
        "alone",
        "fails",
        "file",
    ]);
    for f in &doc.findings {
        let parts: Vec<String> = f.parts.iter().map(|p| percent(p.net_share)).collect();
        table.add_row([
            f.rank.to_string(),
            f.faults.join("\n"),
            f.class.to_string(),
            percent(f.net_share),
            parts.join(" + "),
            f.failed.join("\n"),
            f.file
                .clone()
                .unwrap_or_else(|| "(not written: -o DIR)".into()),
        ]);
    }
    let _ = writeln!(out, "{}", table.trim_fmt());
    for f in &doc.findings {
        let _ = writeln!(
            out,
            "{}. shrunk in {} steps ({} studies{}) from: {}",
            f.rank,
            f.shrink_steps,
            f.shrink_studies,
            if f.proven_minimal {
                ", minimal"
            } else {
                ", study bound reached"
            },
            f.found.join("; ")
        );
    }
    out
}

pub fn explore_to_json(doc: &ExploreDocument) -> String {
    let mut text = serde_json::to_string_pretty(doc).expect("the document serialises");
    text.push('\n');
    text
}

pub fn explore_to_markdown(doc: &ExploreDocument) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## explore `{}`\n\n**{}**\n", doc.model, headline(doc));
    for line in coverage_lines(doc) {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(out, "- held to: {}", doc.hypotheses.join("; "));
    if !doc.findings.is_empty() {
        out.push_str("\n| # | minimal schedule | class | hurt | alone | fails | file |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for f in &doc.findings {
            let parts: Vec<String> = f.parts.iter().map(|p| percent(p.net_share)).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                f.rank,
                f.faults.join("<br>"),
                f.class,
                percent(f.net_share),
                parts.join(" + "),
                f.failed.join("<br>"),
                f.file.as_deref().map_or("-".into(), |p| format!("`{p}`"))
            );
        }
    }
    let _ = writeln!(out, "\nReplay: `{}`", doc.command);
    out
}

/// One suite; a failing case per finding, or one passing case saying what was covered.
pub fn explore_to_junit(doc: &ExploreDocument) -> String {
    let mut junit = Report::new("blastradius");
    let mut suite = TestSuite::new(format!("explore {}", doc.model));
    suite.add_properties([
        Property::new("model", doc.model.as_str()),
        Property::new("seed", doc.seed.to_string()),
        Property::new("command", doc.command.as_str()),
    ]);
    for f in &doc.findings {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_type(f.class);
        let message = format!(
            "{}; hurt {}; replay: blastradius run {}",
            f.failed.join("; "),
            percent(f.net_share),
            f.file.as_deref().unwrap_or("(not written)")
        );
        status.set_description(message.replace("; ", "\n"));
        status.set_message(message);
        let mut case = TestCase::new(format!("{}. {}", f.rank, f.faults.join(" + ")), status);
        case.set_classname(doc.model.as_str());
        suite.add_test_case(case);
    }
    if doc.findings.is_empty() {
        let mut case = TestCase::new("no interaction found", TestCaseStatus::success());
        case.set_classname(doc.model.as_str());
        case.set_system_out(coverage_lines(doc).join("\n"));
        suite.add_test_case(case);
    }
    junit.add_test_suite(suite);
    junit.to_string().expect("a JUnit report serialises")
}
