//! One test per rule of `[[hypothesis]]`: absolute bounds, changes relative to the control,
//! windows, and `recovery_time`, on a one-node model.

use std::io;
use std::path::Path;

use super::codes::Code;
use super::load_scenario::parse_scenario;
use super::scenario::{Change, Hypothesis, Metric, Window};

const MODEL: &str = r#"
name = "m"
zones = ["z"]
[workload.checkout]
target = "api"
rate = 10
[service.api]
zones = ["z"]
service_time = { dist = "constant", value = "1ms" }
"#;

/// The hypothesis `body` (after its header), or every diagnostic as (code, message).
fn hypothesis(body: &str) -> Result<Hypothesis, Vec<(Code, String)>> {
    let text = format!(
        "name = \"s\"\nmodel = \"m.toml\"\nduration = \"1m\"\n\
             [[hypothesis]]\nworkload = \"checkout\"\n{body}\n"
    );
    let read = |_: &Path| -> io::Result<String> { Ok(MODEL.to_string()) };
    match parse_scenario(Path::new("s.toml"), &text, read) {
        Ok((mut scenario, _)) => Ok(scenario.hypotheses.remove(0)),
        Err(d) => Err(d.items.into_iter().map(|d| (d.code, d.message)).collect()),
    }
}

fn one_error(body: &str, code: Code, fragment: &str) {
    let errors = hypothesis(body).expect_err(body);
    assert_eq!(errors.len(), 1, "{body}: {errors:#?}");
    assert_eq!(errors[0].0, code, "{body}: {errors:#?}");
    assert!(errors[0].1.contains(fragment), "{body}: {errors:#?}");
}

const MS: f64 = 1e6;

#[test]
fn absolute_bounds_and_default_windows() {
    let h = hypothesis("metric = \"p99\"\nmax = \"300ms\"").unwrap();
    assert_eq!(
        (h.metric, h.min, h.max),
        (Metric::P99, None, Some(300.0 * MS))
    );
    assert_eq!((h.max_increase, h.max_decrease), (None, None));
    assert_eq!(h.windows, [Window::During, Window::After]);
    assert_eq!(h.line, 4);
    let h = hypothesis("metric = \"p99.9\"\nmin = \"1ms\"").unwrap();
    assert_eq!((h.metric, h.min), (Metric::P999, Some(MS)));
}

#[test]
fn changes_relative_to_the_control() {
    let cases: &[(&str, Option<Change>, Option<Change>)] = &[
        (
            "metric = \"p99\"\nmax_increase = \"+20%\"",
            Some(Change::Relative(0.2)),
            None,
        ),
        (
            "metric = \"p99\"\nmax_increase = \"20%\"",
            Some(Change::Relative(0.2)),
            None,
        ),
        (
            "metric = \"p99\"\nmax_increase = \"50ms\"",
            Some(Change::Absolute(50.0 * MS)),
            None,
        ),
        (
            "metric = \"p99\"\nmax_increase = \"+50ms\"",
            Some(Change::Absolute(50.0 * MS)),
            None,
        ),
        (
            "metric = \"throughput\"\nmax_decrease = \"-5%\"",
            None,
            Some(Change::Relative(0.05)),
        ),
        (
            "metric = \"throughput\"\nmax_decrease = \"5 %\"",
            None,
            Some(Change::Relative(0.05)),
        ),
        (
            "metric = \"throughput\"\nmax_decrease = 100",
            None,
            Some(Change::Absolute(100.0)),
        ),
        (
            "metric = \"error_rate\"\nmax_increase = 0.01",
            Some(Change::Absolute(0.01)),
            None,
        ),
        (
            "metric = \"availability\"\nmax_decrease = \"100%\"",
            None,
            Some(Change::Relative(1.0)),
        ),
        (
            "metric = \"mean\"\nmax_increase = \"150%\"\nmax_decrease = \"10%\"",
            Some(Change::Relative(1.5)),
            Some(Change::Relative(0.1)),
        ),
    ];
    for (body, up, down) in cases {
        let h = hypothesis(body).unwrap_or_else(|e| panic!("{body}: {e:#?}"));
        assert_eq!((h.max_increase, h.max_decrease), (*up, *down), "{body}");
        assert_eq!((h.min, h.max), (None, None), "{body}");
    }
}

#[test]
fn bad_changes() {
    let cases: &[(&str, Code, &str)] = &[
        (
            "metric = \"p99\"\nmax_increase = \"-5%\"",
            Code::BadHypothesis,
            "`max_increase` is given a decrease",
        ),
        (
            "metric = \"p99\"\nmax_decrease = \"+5%\"",
            Code::BadHypothesis,
            "`max_decrease` is given an increase",
        ),
        (
            "metric = \"throughput\"\nmax_decrease = \"150%\"",
            Code::OutOfRange,
            "a percentage from 0% to 100%",
        ),
        (
            "metric = \"p99\"\nmax_increase = \"abc%\"",
            Code::OutOfRange,
            "a percentage of at least 0%",
        ),
        (
            "metric = \"p99\"\nmax_increase = \"inf%\"",
            Code::OutOfRange,
            "a percentage",
        ),
        (
            "metric = \"p99\"\nmax_increase = 0.5",
            Code::WrongType,
            "a percentage like \"+20%\" or a duration",
        ),
        (
            "metric = \"p99\"\nmax_increase = \"5\"",
            Code::BadDuration,
            "invalid change for `max_increase`",
        ),
        (
            "metric = \"error_rate\"\nmax_increase = \"0.01\"",
            Code::WrongType,
            "a percentage like \"+20%\" or a number",
        ),
        (
            "metric = \"error_rate\"\nmax_increase = 2",
            Code::OutOfRange,
            "between 0 and 1",
        ),
        (
            "metric = \"throughput\"\nmax_decrease = -3",
            Code::OutOfRange,
            "at least 0",
        ),
    ];
    for (body, code, fragment) in cases {
        one_error(body, *code, fragment);
    }
}

#[test]
fn windows() {
    let h = hypothesis("metric = \"p99\"\nmax = \"1s\"\nwindow = \"during\"").unwrap();
    assert_eq!(h.windows, [Window::During]);
    let h = hypothesis("metric = \"p99\"\nmax = \"1s\"\nwindow = [\"after\", \"before\"]").unwrap();
    assert_eq!(h.windows, [Window::Before, Window::After]);
    let cases: &[(&str, Code, &str)] = &[
        (
            "window = \"durin\"",
            Code::UnknownChoice,
            "unknown window `durin`",
        ),
        (
            "window = [\"after\", \"after\"]",
            Code::DuplicateName,
            "the window `after` is listed twice",
        ),
        ("window = []", Code::OutOfRange, "at least one window"),
        (
            "window = 1",
            Code::WrongType,
            "a window or a list of windows",
        ),
    ];
    for (window, code, fragment) in cases {
        one_error(
            &format!("metric = \"p99\"\nmax = \"1s\"\n{window}"),
            *code,
            fragment,
        );
    }
}

#[test]
fn recovery_time_takes_only_max() {
    let h = hypothesis("metric = \"recovery_time\"\nmax = \"2m\"").unwrap();
    assert_eq!((h.metric, h.max), (Metric::RecoveryTime, Some(120e9)));
    for key in [
        "min = \"1s\"",
        "max_increase = \"10%\"",
        "max_decrease = \"10%\"",
        "window = \"after\"",
    ] {
        let body = format!("metric = \"recovery_time\"\nmax = \"2m\"\n{key}");
        one_error(
            &body,
            Code::BadHypothesis,
            "does not apply to `recovery_time`",
        );
    }
    one_error(
        "metric = \"recovery_time\"",
        Code::BadHypothesis,
        "needs `max`",
    );
    one_error(
        "metric = \"recovery_time\"\nmax = 5",
        Code::WrongType,
        "duration",
    );
}

#[test]
fn a_hypothesis_needs_a_bound() {
    one_error(
        "metric = \"p99\"",
        Code::BadHypothesis,
        "needs a bound: `min`, `max`, `max_increase` or `max_decrease`",
    );
    one_error(
        "metric = \"p99\"\nmax_increse = \"5%\"",
        Code::UnknownKey,
        "unknown key `max_increse`",
    );
    one_error(
        "metric = \"p99\"\nmin = \"2s\"\nmax = \"1s\"",
        Code::BadHypothesis,
        "below its `min`",
    );
}
