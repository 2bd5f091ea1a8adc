//! The mechanism sections are one outline rendered by every format: each section of
//! `report::outline::mechanisms` shows in the text, the Markdown and the HTML report, with
//! every line and every table cell, natively (Markdown lists and tables, HTML lists and
//! tables — no quoted text report).

use std::path::Path;

use blastradius::analysis::Findings;
use blastradius::analysis::study;
use blastradius::model::load_scenario;
use blastradius::report::escape;
use blastradius::report::outline::{Item, mechanisms};
use blastradius::report::{to_html, to_markdown, to_text};

/// Bundled scenarios that use at least one mechanism, one per kind of section.
const WITH_MECHANISMS: [&str; 6] = [
    "scenarios/consumer-crash-queue-lag.toml",
    "scenarios/crash-with-health-checks.toml",
    "scenarios/spike-with-autoscaling.toml",
    "scenarios/cache-miss-storm.toml",
    "scenarios/closed-loop-database-slowdown.toml",
    "scenarios/retry-storm-circuit-breaker.toml",
];

#[test]
fn every_mechanism_section_shows_in_every_format() {
    let mut titles = Vec::new();
    for file in WITH_MECHANISMS {
        let scenario = load_scenario(Path::new(file)).expect("bundled");
        let doc = Findings::new(&scenario, &study(&scenario));
        let sections = mechanisms(&doc);
        assert!(!sections.is_empty(), "{file} uses a mechanism");
        let (text, markdown) = (to_text(&doc), to_markdown(&doc));
        let html = to_html(&[(&scenario, &doc)]);
        assert!(
            !markdown.contains("```text"),
            "{file}: Markdown quotes text"
        );
        assert!(!html.contains("<pre"), "{file}: HTML quotes text");
        for section in &sections {
            // The text report shows balancers per run under its tables, without the suffix.
            let title = section.title.split(" — ").next().unwrap();
            assert!(text.contains(&format!("{title}\n")), "{file}: {title}");
            let bold = format!("**{}**", escape::markdown(&section.title));
            assert!(markdown.contains(&bold), "{file}: {bold}");
            let heading = format!("<h3>{}</h3>", escape::html(&section.title));
            assert!(html.contains(&heading), "{file}: {heading}");
            for item in &section.items {
                match item {
                    Item::Line { depth, text: line } => {
                        let indented = format!("{:w$}{line}\n", "", w = 2 * depth);
                        assert!(text.contains(&indented), "{file}: {indented}");
                        let item = format!("- {}\n", escape::markdown(line.trim_start()));
                        assert!(markdown.contains(&item), "{file}: {item}");
                        let li = format!("<li>{}", escape::html(line.trim_start()));
                        assert!(html.contains(&li), "{file}: {li}");
                    }
                    Item::Table(table) => {
                        let header = format!("| {} |", table.header.join(" | "));
                        assert!(markdown.contains(&header), "{file}: {header}");
                        for row in &table.rows {
                            let cells: Vec<String> =
                                row.iter().map(|c| escape::markdown(c)).collect();
                            let row_md = format!("| {} |", cells.join(" | "));
                            assert!(markdown.contains(&row_md), "{file}: {row_md}");
                            let row_html = format!("<td>{}</td>", escape::html(&row[0]));
                            assert!(html.contains(&row_html), "{file}: {row_html}");
                        }
                    }
                }
            }
            titles.push(section.title.clone());
        }
    }
    for kind in [
        "traffic",
        "autoscaling",
        "RESILIENCE",
        "balancer",
        "caches",
        "queues",
    ] {
        assert!(
            titles.iter().any(|t| t.starts_with(kind)),
            "no bundled scenario shows {kind}: {titles:?}"
        );
    }
}

#[test]
fn a_model_without_mechanisms_has_no_section_in_any_format() {
    let scenario = load_scenario(Path::new("scenarios/shop-steady-state.toml")).expect("bundled");
    let doc = Findings::new(&scenario, &study(&scenario));
    assert!(mechanisms(&doc).is_empty());
    assert!(!to_markdown(&doc).contains("### Mechanisms"));
    assert!(!to_html(&[(&scenario, &doc)]).contains("<h2>Mechanisms</h2>"));
}
