//! JUnit XML (quick-junit) for CI test reporters: one test suite per scenario, one test case
//! per hypothesis (plus one for the baseline when there is one). A failure's message carries
//! the measured values, the seed and the command that replays it.
//!
//! Without `JunitTiming` the file has no timestamps and no durations, so the same results
//! give the same bytes; wall-clock time enters only when the caller hands it in.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::check::{
    BaselineStatus, CheckEntry, CheckReport, baseline_lines, headline, hypothesis_failure,
};
use super::markdown::replay_command;

/// Wall-clock times, for `--junit-timestamps`.
#[derive(Clone, Debug)]
pub struct JunitTiming {
    pub started: DateTime<FixedOffset>,
    pub total: Duration,
    /// Per scenario, in the report's order.
    pub scenarios: Vec<Duration>,
}

/// The report as JUnit XML.
pub fn to_junit(report: &CheckReport<'_>, timing: Option<&JunitTiming>) -> String {
    let mut junit = Report::new("blastradius");
    if let Some(t) = timing {
        junit.set_timestamp(t.started);
        junit.set_time(t.total);
    }
    for (i, entry) in report.entries.iter().enumerate() {
        let mut suite = suite(entry, report);
        if let Some(t) = timing {
            suite.set_timestamp(t.started);
            if let Some(&time) = t.scenarios.get(i) {
                suite.set_time(time);
            }
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .expect("a JUnit report serialises to a string")
}

fn suite(entry: &CheckEntry<'_>, report: &CheckReport<'_>) -> TestSuite {
    let doc = &entry.document;
    let mut suite = TestSuite::new(xml(&doc.scenario));
    suite.add_properties([
        Property::new("file", xml(&doc.scenario_file)),
        Property::new("model", xml(&doc.model_file)),
        Property::new("seed", doc.seed.to_string()),
        Property::new("replay", replay_command(doc)),
        Property::new("headline", xml(&headline(doc))),
    ]);
    for (i, h) in doc.hypotheses.iter().enumerate() {
        let name = format!("{} {} {} (line {})", h.workload, h.metric, h.bounds, h.line);
        let status = if h.pass {
            TestCaseStatus::success()
        } else {
            let known = if entry.is_known_failure(i) {
                " (known failure: in the baseline)"
            } else {
                ""
            };
            let message = format!(
                "{}{known}; seed {}; replay: {}",
                hypothesis_failure(h),
                doc.seed,
                replay_command(doc)
            );
            failure("hypothesis", message)
        };
        let mut case = TestCase::new(xml(&name), status);
        case.set_classname(xml(&doc.scenario_file));
        case.extra
            .insert("file".into(), xml(&doc.scenario_file).into());
        case.extra.insert("line".into(), h.line.to_string().into());
        suite.add_test_case(case);
    }
    if !matches!(entry.baseline, BaselineStatus::NotUsed) {
        suite.add_test_case(baseline_case(entry, report));
    }
    suite
}

/// The baseline as one test case: failed when the scenario is worse than its baseline (or
/// missing from it under `--strict`).
fn baseline_case(entry: &CheckEntry<'_>, report: &CheckReport<'_>) -> TestCase {
    let doc = &entry.document;
    let worse = match &entry.baseline {
        BaselineStatus::Compared { comparison, .. } => comparison.is_worse(),
        BaselineStatus::Missing { .. } => report.strict,
        BaselineStatus::NotUsed => false,
    };
    let lines = baseline_lines(entry, report);
    let status = if worse {
        let findings: Vec<&String> = lines
            .iter()
            .filter(|l| l.starts_with("worse") || l.starts_with("not in"))
            .collect();
        let findings: Vec<&str> = findings.iter().map(|s| s.as_str()).collect();
        let message = format!(
            "{}; seed {}; replay: {}",
            findings.join("; "),
            doc.seed,
            replay_command(doc)
        );
        failure("baseline", message)
    } else {
        TestCaseStatus::success()
    };
    let mut case = TestCase::new("baseline", status);
    case.set_classname(xml(&doc.scenario_file));
    if !lines.is_empty() {
        case.set_system_out(lines.join("\n"));
    }
    case
}

/// A user string for the XML: quick-junit escapes the markup; control characters (which XML
/// cannot hold, and a line break an attribute would lose) are made visible by the one
/// plain-text escape.
fn xml(text: &str) -> String {
    super::escape::text(text).into_owned()
}

fn failure(kind: &str, message: String) -> TestCaseStatus {
    let message = xml(&message);
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_type(kind);
    status.set_description(message.replace("; ", "\n"));
    status.set_message(message);
    status
}
