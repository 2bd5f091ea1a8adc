//! One test per fault check: keys, targets, what each kind can act on, ranges, the schedule
//! and the warnings, each as a table of (fault keys, code, message fragment). The helpers and
//! the shop model they load are in `fault_tests`.

use super::codes::Code;
use super::fault_tests::{diagnostics, fault, faults, load, one};

/// Each case gives exactly one diagnostic with its code and message fragment.
fn check(cases: &[(&str, Code, &str)]) {
    for (table, code, fragment) in cases {
        one(table, *code, fragment);
    }
}

#[test]
fn kinds_and_keys() {
    let one_second = r#"latency = { dist = "constant", value = "1s" }"#;
    let latency_count =
        format!(r#"kind = "latency", node = "api", {one_second}, count = 1, start = "5m""#);
    check(&[
        (
            r#"kind = "zone-outtage", zone = "az-a", start = "5m""#,
            Code::UnknownChoice,
            "unknown fault kind `zone-outtage`",
        ),
        (
            r#"kind = 3, start = "5m""#,
            Code::WrongType,
            "wrong type for `kind`",
        ),
        (
            r#"zone = "az-a", start = "5m""#,
            Code::MissingKey,
            "missing key `kind` in this fault",
        ),
        (
            r#"kind = "crash", node = "api", strat = "5m""#,
            Code::UnknownKey,
            "unknown key `strat` in this `crash` fault",
        ),
        (
            r#"kind = "crash", node = "api""#,
            Code::MissingKey,
            "missing key `start`",
        ),
        (
            &latency_count,
            Code::UnknownKey,
            "`count` is not used by `latency` faults",
        ),
        (
            r#"kind = "chaos-monkey", node = "api", mean_interval = "1m", restart_after = "1m", percent = 5, start = "5m""#,
            Code::UnknownKey,
            "`percent` is not used by `chaos-monkey` faults",
        ),
        (
            r#"kind = "cache-flush", node = "sessions", start = "5m", duration = "1m""#,
            Code::UnknownKey,
            "`duration` is not used by `cache-flush` faults",
        ),
        (
            r#"kind = "zone-outage", zone = "az-a", factor = 2, start = "5m""#,
            Code::UnknownKey,
            "`factor` is not used by `zone-outage` faults",
        ),
        (
            r#"kind = "chaos-monkey", node = "api", restart_after = "1m", start = "5m""#,
            Code::MissingKey,
            "missing key `mean_interval`",
        ),
        (
            r#"kind = "latency", node = "api", start = "5m""#,
            Code::MissingKey,
            "missing key `latency`",
        ),
        (
            r#"kind = "slowdown", node = "api", start = "5m""#,
            Code::MissingKey,
            "missing key `factor`",
        ),
        (
            r#"kind = "capacity", node = "api", start = "5m""#,
            Code::MissingKey,
            "missing key `workers`",
        ),
        (
            r#"kind = "hit-ratio", node = "sessions", start = "5m""#,
            Code::MissingKey,
            "missing key `value`",
        ),
    ]);
    let found = load("[fault]\nkind = \"crash\"\n").expect_err("a table, not an array");
    assert!(
        found[0]
            .1
            .contains("expected an array of tables `[[fault]]`"),
        "{found:?}"
    );
}

#[test]
fn targets_are_required_and_resolved() {
    let monkey =
        r#"kind = "chaos-monkey", mean_interval = "1m", restart_after = "1m", start = "5m""#;
    let empty = format!("{monkey}, nodes = []");
    let twice = format!(r#"{monkey}, nodes = ["api", "api"]"#);
    check(&[
        (
            r#"kind = "crash", start = "5m""#,
            Code::MissingKey,
            "missing target in this `crash` fault: it needs `node` (optionally with `zone`) or `zone`",
        ),
        (
            r#"kind = "slowdown", zone = "az-a", factor = 2, start = "5m""#,
            Code::MissingKey,
            "`slowdown` fault: it needs `node` (optionally with `zone`)",
        ),
        (
            r#"kind = "errors", start = "5m""#,
            Code::MissingKey,
            "missing target in this `errors` fault: it needs `node` or `edge`",
        ),
        (
            r#"kind = "zone-outage", start = "5m""#,
            Code::MissingKey,
            "it needs `zone`",
        ),
        (
            r#"kind = "zone-partition", start = "5m""#,
            Code::MissingKey,
            "it needs `zones` or `zone`",
        ),
        (
            r#"kind = "traffic-spike", factor = 2, start = "5m""#,
            Code::MissingKey,
            "it needs `workload`",
        ),
        (
            r#"kind = "crash", node = "api-gw", start = "5m""#,
            Code::UnknownNode,
            "unknown node `api-gw`",
        ),
        (
            r#"kind = "zone-outage", zone = "az-d", start = "5m""#,
            Code::UndeclaredZone,
            "zone `az-d` is not declared",
        ),
        (
            r#"kind = "traffic-spike", workload = "chekout", factor = 2, start = "5m""#,
            Code::UnknownWorkload,
            "unknown workload `chekout`",
        ),
        (
            r#"kind = "partition", edge = "api", start = "5m""#,
            Code::UnknownEdge,
            "`api` is not an edge",
        ),
        (
            r#"kind = "partition", edge = "api->sesions", start = "5m""#,
            Code::UnknownEdge,
            "`api->sesions` is not a call of the model",
        ),
        (
            r#"kind = "partition", edge = "orders-db->api", start = "5m""#,
            Code::UnknownEdge,
            "`orders-db->api` is not a call",
        ),
        (
            &empty,
            Code::OutOfRange,
            "`nodes` must be at least one name",
        ),
        (&twice, Code::DuplicateName, "listed twice in `nodes`"),
        (
            r#"kind = "zone-partition", zones = ["az-a", "az-a"], start = "5m""#,
            Code::DuplicateName,
            "listed twice in `zones`",
        ),
    ]);
}

#[test]
fn keys_that_exclude_each_other() {
    let monkey =
        r#"kind = "chaos-monkey", mean_interval = "1m", restart_after = "1m", start = "5m""#;
    let cases = [
        r#"kind = "errors", node = "api", edge = "api->sessions", start = "5m""#.to_string(),
        r#"kind = "crash", node = "api", count = 1, percent = 50, start = "5m""#.to_string(),
        r#"kind = "zone-partition", zones = ["az-a"], zone = "az-b", start = "5m""#.to_string(),
        format!(r#"{monkey}, nodes = ["api"], node = "api""#),
        format!(r#"{monkey}, nodes = ["api"], zone = "az-a""#),
        r#"kind = "crash", node = "api", duration = "1m", restart_after = "1m", start = "5m""#
            .to_string(),
    ];
    for table in &cases {
        one(table, Code::ConflictingKeys, "exclude each other");
    }
    assert_eq!(
        diagnostics(&cases[1])[0].1,
        "`count` and `percent` exclude each other"
    );
}

#[test]
fn kinds_act_only_on_what_they_can() {
    check(&[
        (
            r#"kind = "crash", node = "payments", start = "5m""#,
            Code::BadFaultTarget,
            "a `crash` fault cannot act on `payments`, an external",
        ),
        (
            r#"kind = "slowdown", node = "payments", factor = 2, start = "5m""#,
            Code::BadFaultTarget,
            "cannot act on `payments`",
        ),
        (
            r#"kind = "capacity", node = "payments", workers = 1, start = "5m""#,
            Code::BadFaultTarget,
            "cannot act on `payments`",
        ),
        (
            r#"kind = "chaos-monkey", nodes = ["api", "payments"], mean_interval = "1m", restart_after = "1m", start = "5m""#,
            Code::BadFaultTarget,
            "cannot act on `payments`",
        ),
        (
            r#"kind = "cache-flush", node = "api", start = "5m""#,
            Code::BadFaultTarget,
            "a `cache-flush` fault needs a cache, and `api` is a service",
        ),
        (
            r#"kind = "hit-ratio", node = "orders-db", value = 0.5, start = "5m""#,
            Code::BadFaultTarget,
            "needs a cache, and `orders-db` is a database",
        ),
        (
            r#"kind = "cache-flush", node = "payments", start = "5m""#,
            Code::BadFaultTarget,
            "`payments` is an external",
        ),
        (
            r#"kind = "crash", node = "orders-db", zone = "az-c", start = "5m""#,
            Code::BadFaultTarget,
            "`orders-db` is not placed in `az-c`",
        ),
        (
            r#"kind = "slowdown", node = "orders-db", zone = "az-c", factor = 2, start = "5m""#,
            Code::BadFaultTarget,
            "`orders-db` is not placed in `az-c`",
        ),
    ]);
    // A third-party outage uses the generic kinds.
    for kind in ["errors", "blackhole"] {
        fault(&format!(
            r#"kind = "{kind}", node = "payments", start = "5m""#
        ));
    }
}

#[test]
fn parameters_are_in_range() {
    check(&[
        (
            r#"kind = "errors", node = "api", share = 1.5, start = "5m""#,
            Code::OutOfRange,
            "`share` must be between 0 and 1",
        ),
        (
            r#"kind = "slowdown", node = "api", factor = 0, start = "5m""#,
            Code::OutOfRange,
            "`factor` must be positive",
        ),
        (
            r#"kind = "traffic-spike", workload = "checkout", factor = nan, start = "5m""#,
            Code::OutOfRange,
            "`factor` must be a finite number",
        ),
        (
            r#"kind = "capacity", node = "api", workers = -1, start = "5m""#,
            Code::OutOfRange,
            "`workers` must be an integer",
        ),
        (
            r#"kind = "crash", node = "api", percent = 0, start = "5m""#,
            Code::OutOfRange,
            "`percent` must be above 0 and at most 100",
        ),
        (
            r#"kind = "crash", node = "api", count = 0, start = "5m""#,
            Code::OutOfRange,
            "`count` must be an integer from 1",
        ),
        (
            r#"kind = "hit-ratio", node = "sessions", value = 2, start = "5m""#,
            Code::OutOfRange,
            "`value` must be between 0 and 1",
        ),
        (
            r#"kind = "crash", node = "api", start = "5m", duration = "0s""#,
            Code::OutOfRange,
            "`duration` must be a positive duration",
        ),
        (
            r#"kind = "crash", node = "api", start = 5"#,
            Code::WrongType,
            "wrong type for `start`",
        ),
        (
            r#"kind = "zone-outage", zone = "az-a", recovery = "1m", start = "5m""#,
            Code::MissingKey,
            "`recovery` needs a `duration`",
        ),
        (
            r#"kind = "latency", node = "api", latency = { dist = "constant" }, start = "5m""#,
            Code::MissingKey,
            "missing key `value` in the distribution `latency`",
        ),
    ]);
}

#[test]
fn faults_must_start_inside_the_run() {
    check(&[
        (
            r#"kind = "crash", node = "api", start = "16m""#,
            Code::FaultAfterEnd,
            "the fault starts after the run ends at 15m",
        ),
        (
            r#"kind = "crash", node = "api", start = "15m""#,
            Code::FaultAfterEnd,
            "the fault starts as the run ends at 15m",
        ),
        (
            r#"kind = "crash", node = "api", start = "1m""#,
            Code::FaultInWarmup,
            "the fault starts before the warm-up ends at 2m",
        ),
    ]);
    // Starting at the end of the warm-up and lasting past the end of the run is fine.
    fault(r#"kind = "crash", node = "api", start = "2m", duration = "20m""#);
}

#[test]
fn outages_of_one_zone_must_not_overlap() {
    let errors = |tables: &[&str]| load(&faults(tables)).err().unwrap_or_default();
    let a_5m_3m = r#"kind = "zone-outage", zone = "az-a", start = "5m", duration = "3m""#;
    let a_8m_1m = r#"kind = "zone-outage", zone = "az-a", start = "8m", duration = "1m""#;
    let a_6m_1m = r#"kind = "zone-outage", zone = "az-a", start = "6m", duration = "1m""#;
    let a_7m_1m = r#"kind = "zone-outage", zone = "az-a", start = "7m", duration = "1m""#;
    let b_6m_1m = r#"kind = "zone-outage", zone = "az-b", start = "6m", duration = "1m""#;
    let a_5m_open = r#"kind = "zone-outage", zone = "az-a", start = "5m""#;
    let crash_a_6m = r#"kind = "crash", zone = "az-a", start = "6m""#;
    // Back to back, in different zones, or another kind: fine.
    assert!(errors(&[a_5m_3m, a_8m_1m]).is_empty());
    assert!(errors(&[a_5m_3m, b_6m_1m]).is_empty());
    assert!(errors(&[a_5m_3m, crash_a_6m]).is_empty());
    // The later start is reported, whatever the file order.
    let found = errors(&[a_8m_1m, a_5m_open]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, Code::OverlappingFaults);
    let expected =
        "this outage of `az-a` overlaps the outage on line 5 (from 5m to the end of the run)";
    assert_eq!(found[0].1, expected);
    // Three at once: each later one once.
    let found = errors(&[a_5m_3m, a_6m_1m, a_7m_1m]);
    assert_eq!(found.len(), 2, "{found:#?}");
}

#[test]
fn warnings_for_faults_that_take_less_than_written() {
    let cases = [
        (
            r#"kind = "crash", node = "api", count = 7, start = "5m""#,
            Code::SelectionTooLarge,
            "`count = 7` is more than the 6 replicas of `api`",
        ),
        (
            r#"kind = "slowdown", node = "api", zone = "az-a", factor = 2, count = 3, start = "5m""#,
            Code::SelectionTooLarge,
            "the 2 replicas of `api` in `az-a`",
        ),
        (
            r#"kind = "crash", zone = "az-a", count = 3, start = "5m""#,
            Code::SelectionTooLarge,
            "any node's replicas in `az-a` (at most 2)",
        ),
        (
            r#"kind = "capacity", node = "api", workers = 16, start = "5m""#,
            Code::FaultWithoutEffect,
            "`workers = 16` is not below the 16 workers",
        ),
    ];
    for (table, code, fragment) in cases {
        one(table, code, fragment);
        // Warnings do not stop the scenario from loading.
        assert!(load(&faults(&[table])).is_ok(), "{table}");
    }
    assert!(diagnostics(r#"kind = "crash", node = "api", count = 6, start = "5m""#).is_empty());
    assert!(
        diagnostics(r#"kind = "capacity", node = "api", workers = 15, start = "5m""#).is_empty()
    );
}
