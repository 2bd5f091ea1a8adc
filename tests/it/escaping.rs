//! The property test of issue 22: arbitrary strings — line breaks, backticks, `::`, `%`,
//! `<>&"'`, RTL marks, anything — as every name and file name of a studied scenario, through
//! every format. Escaping may change the characters but never the structure, so each output
//! is compared with the same rendering for a plain name: the same number of lines (no user
//! string can add a line, so none can add a workflow command or close a Markdown fence), the
//! same sequence of HTML tags (html5gum's WHATWG tokenizer), the same XML elements in JUnit
//! and in every SVG (quick-xml), and GitHub annotations that are still one command a line.

use std::path::Path;
use std::sync::OnceLock;

use blastradius::analysis::{Findings, study};
use blastradius::model::parse_scenario;
use blastradius::model::scenario::Scenario;
use blastradius::report::{
    BaselineStatus, CheckEntry, CheckReport, annotations, check_markdown, check_text, step_summary,
    to_dot, to_html, to_junit, to_markdown, to_mermaid, to_text,
};
use proptest::prelude::*;

const MODEL: &str = r#"
name = "m"
zones = ["za", "zb"]

[workload.w]
target = "api"
rate = 200
timeout = "1s"

[service.api]
zones = ["za", "zb"]
workers = 4
service_time = { dist = "exponential", mean = "2ms" }
calls = [{ to = "db", timeout = "100ms", retries = 1, backoff = "5ms" }]

[database.db]
zones = ["za", "zb"]
primary = "za"
workers = 8
service_time = { dist = "exponential", mean = "3ms" }
"#;

const SCENARIO: &str = r#"
name = "s"
model = "m.toml"
duration = "30s"
warmup = "5s"
seed = 5

[[fault]]
kind = "zone-outage"
zone = "za"
start = "10s"
duration = "10s"

[[hypothesis]]
workload = "w"
metric = "availability"
min = 0.99999
"#;

/// The scenario and its document, studied once.
fn studied() -> &'static (Scenario, Findings) {
    static STUDIED: OnceLock<(Scenario, Findings)> = OnceLock::new();
    STUDIED.get_or_init(|| {
        let read = |_: &Path| Ok(MODEL.to_string());
        let (scenario, _) =
            parse_scenario(Path::new("s.toml"), SCENARIO, read).expect("the scenario loads");
        let document = Findings::new(&scenario, &study(&scenario));
        (scenario, document)
    })
}

/// `name` + a suffix per thing, so names stay distinct.
fn renamed(name: &str) -> (Scenario, Findings) {
    let (scenario, doc) = studied();
    let (mut scenario, mut doc) = (scenario.clone(), doc.clone());
    let map = |old: &str| format!("{name}{old}");
    let topology = &mut scenario.topology;
    topology.name = map(&topology.name);
    for zone in &mut topology.zones {
        *zone = map(zone);
    }
    for node in &mut topology.nodes {
        node.name = map(&node.name);
    }
    for workload in &mut topology.workloads {
        workload.name = map(&workload.name);
    }
    doc.scenario = map(&doc.scenario);
    doc.scenario_file = map(&doc.scenario_file);
    doc.model = map(&doc.model);
    doc.model_file = map(&doc.model_file);
    doc.workloads = doc
        .workloads
        .into_iter()
        .map(|(k, v)| (map(&k), v))
        .collect();
    doc.nodes = doc.nodes.into_iter().map(|(k, v)| (map(&k), v)).collect();
    for h in &mut doc.hypotheses {
        h.workload = map(&h.workload);
    }
    if let Some(blast) = &mut doc.blast_radius {
        for node in &mut blast.nodes {
            node.node = map(&node.node);
        }
        for c in &mut blast.containment {
            c.boundary = c.boundary.iter().map(|z| map(z)).collect();
        }
    }
    (scenario, doc)
}

/// Every format of one scenario, by name.
fn render(name: &str) -> Vec<(&'static str, String)> {
    let (scenario, doc) = renamed(name);
    let report = CheckReport {
        entries: vec![CheckEntry {
            document: doc.clone(),
            topology: &scenario.topology,
            baseline: BaselineStatus::NotUsed,
        }],
        baseline_file: None,
        strict: false,
    };
    vec![
        ("text", to_text(&doc)),
        ("markdown", to_markdown(&doc)),
        ("html", to_html(&[(&scenario, &doc)])),
        ("junit", to_junit(&report, None)),
        ("check text", check_text(&report)),
        ("check markdown", check_markdown(&report)),
        ("annotations", annotations(&report)),
        ("step summary", step_summary(&report)),
        ("mermaid", to_mermaid(&scenario.topology, None)),
        ("dot", to_dot(&scenario.topology)),
    ]
}

/// The start and end tags of an HTML page, in order.
fn html_tags(html: &str) -> Vec<String> {
    let mut tags = Vec::new();
    for token in html5gum::Tokenizer::new(html).flatten() {
        match token {
            html5gum::Token::StartTag(tag) => {
                tags.push(format!("<{}", String::from_utf8_lossy(&tag.name)))
            }
            html5gum::Token::EndTag(tag) => {
                tags.push(format!("</{}", String::from_utf8_lossy(&tag.name)))
            }
            _ => {}
        }
    }
    tags
}

/// The elements of an XML document, in order; panics on malformed XML.
fn xml_elements(xml: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut elements = Vec::new();
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("malformed XML: {e}\n{xml}"))
        {
            Event::Start(e) => {
                elements.push(format!("<{}", String::from_utf8_lossy(e.name().as_ref())))
            }
            Event::Empty(e) => {
                elements.push(format!("<{}/", String::from_utf8_lossy(e.name().as_ref())))
            }
            Event::End(e) => {
                elements.push(format!("</{}", String::from_utf8_lossy(e.name().as_ref())))
            }
            Event::Eof => break,
            _ => {}
        }
    }
    elements
}

/// Each `<svg ...>...</svg>` of the page, as its XML elements.
fn svg_elements(html: &str) -> Vec<Vec<String>> {
    html.match_indices("<svg")
        .map(|(start, _)| {
            let end = html[start..].find("</svg>").expect("closed") + start + "</svg>".len();
            xml_elements(&html[start..end])
        })
        .collect()
}

fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec![
            '\n', '\r', '\t', '`', ':', '%', '<', '>', '&', '"', '\'', '|', '*', '_', '#', '[',
            ']', '!', '~', '$', '\\', ' ', '-', '=', '\u{202E}', '\u{200F}', '\u{2028}',
            '\u{85}', '\u{0}', 'a',
        ]),
        1 => any::<char>(),
    ]
}

fn hostile_name() -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_char(), 0..16).prop_map(|chars| chars.into_iter().collect())
}

#[test]
fn known_attacks_keep_every_format_whole() {
    for name in [
        "x\n::error::pwned\n",
        "```\n# h\n```",
        "<img src=x>&'\"",
        "%0A::set-output name=a::b",
    ] {
        check_structure(name);
    }
}

/// Whether the loader accepts `name` as a name (the characters of E0023 excluded).
fn loadable(name: &str) -> bool {
    !name.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200E}' | '\u{200F}'
                | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

fn check_structure(name: &str) {
    // A plain name as long as the hostile one, since the layout of the charts and the graph
    // depends on the length of their labels.
    let plain = render(&"a".repeat(name.chars().count()));
    let hostile = render(name);
    for ((format, expected), (_, got)) in plain.iter().zip(&hostile) {
        // The plain-text reports print names as they are: they rely on the loader, which
        // rejects names with control characters (E0023), and on the GitHub fence.
        if matches!(*format, "text" | "check text") && !loadable(name) {
            continue;
        }
        // HTML lines are not a structure; its tags are, below.
        if *format != "html" {
            assert_eq!(
                got.lines().count(),
                expected.lines().count(),
                "{format}: a user string changed the line count for {name:?}:\n{got}"
            );
        }
        match *format {
            "html" => {
                assert_eq!(html_tags(got), html_tags(expected), "{format} for {name:?}");
                assert_eq!(
                    svg_elements(got),
                    svg_elements(expected),
                    "SVG for {name:?}"
                );
            }
            "junit" => assert_eq!(xml_elements(got), xml_elements(expected), "{name:?}"),
            "annotations" => {
                for line in got.lines() {
                    assert!(
                        line.starts_with("::error file=")
                            || line.starts_with("::notice file=")
                            || line.starts_with("::warning file="),
                        "{line}"
                    );
                    // The properties end at the first `::` after the command: a user string
                    // in them cannot end them early or add one (`:` and `,` are escaped).
                    let properties = &line[2..line[2..].find("::").expect("data") + 2];
                    let expected_keys = properties.split(',').filter(|p| !p.contains('=')).count();
                    assert_eq!(expected_keys, 0, "{line}");
                }
            }
            "markdown" | "step summary" | "check markdown" => {
                let fences = |t: &str| {
                    t.lines()
                        .filter(|l| l.trim_start().starts_with("```"))
                        .count()
                };
                assert_eq!(
                    fences(got),
                    fences(expected),
                    "{format} fences for {name:?}"
                );
            }
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_names_keep_every_format_whole(name in hostile_name()) {
        check_structure(&name);
    }
}
