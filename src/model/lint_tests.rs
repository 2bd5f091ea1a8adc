//! The semantic lints: each trap gives its warning at the key that causes it, with the numbers
//! in the message; the bundled models give none.

use std::path::Path;

use super::*;
use crate::model::{Diagnostic, parse_model, parse_model_with_warnings};

const HEAD: &str = "name = \"m\"\nzones = [\"a\", \"b\"]\n";

fn warnings(text: &str) -> Vec<Diagnostic> {
    let (_, warnings) = parse_model_with_warnings(Path::new("m.toml"), text)
        .unwrap_or_else(|d| panic!("{}", d.render(false)));
    warnings.items
}

fn only(text: &str, code: Code) -> Diagnostic {
    let found = warnings(text);
    let matching: Vec<&Diagnostic> = found.iter().filter(|d| d.code == code).collect();
    assert_eq!(matching.len(), 1, "{found:#?}");
    matching[0].clone()
}

fn at(text: &str, d: &Diagnostic) -> String {
    text[d.span.clone()].to_string()
}

#[test]
fn a_timeout_below_the_callees_fastest_answer_warns_at_the_timeout() {
    let text = format!(
        "{HEAD}[workload.w]\ntarget = \"api\"\nrate = 10\n\
         [service.api]\nzones = [\"a\"]\nworkers = 8\n\
         service_time = {{ dist = \"constant\", value = \"1ms\" }}\n\
         calls = [{{ to = \"db\", timeout = \"3ms\" }}]\n\
         [database.db]\nzones = [\"a\"]\nprimary = \"a\"\nworkers = 8\n\
         service_time = {{ dist = \"uniform\", min = \"2ms\", max = \"4ms\" }}\n\
         calls = [{{ to = \"x\" }}]\n\
         [external.x]\nlatency = {{ dist = \"constant\", value = \"1500us\" }}\n"
    );
    let d = only(&text, Code::TimeoutBelowLatency);
    assert_eq!(at(&text, &d), "\"3ms\"");
    assert_eq!((d.line, d.column), (10, 33));
    assert!(
        d.message
            .contains("timeout (3ms) is shorter than the fastest answer of `db` (3.5ms)"),
        "{}",
        d.message
    );
    // An optional or probabilistic call below the database adds nothing to its floor.
    let relaxed = text.replace(
        "calls = [{ to = \"x\" }]",
        "calls = [{ to = \"x\", optional = true }]",
    );
    assert!(warnings(&relaxed).is_empty(), "{:#?}", warnings(&relaxed));
}

#[test]
fn a_client_timeout_and_cache_misses_are_checked_too() {
    let text = format!(
        "{HEAD}[workload.w]\ntarget = \"api\"\nrate = 10\ntimeout = \"1ms\"\n\
         [service.api]\nzones = [\"a\"]\nworkers = 8\n\
         service_time = {{ dist = \"constant\", value = \"2ms\" }}\n\
         calls = [{{ to = \"c\", timeout = \"5ms\" }}]\n\
         [cache.c]\nzones = [\"a\"]\nhit_ratio = 0.9\nbacking = \"db\"\nworkers = 8\n\
         service_time = {{ dist = \"constant\", value = \"1ms\" }}\n\
         [database.db]\nzones = [\"a\"]\nprimary = \"a\"\nworkers = 8\n\
         service_time = {{ dist = \"constant\", value = \"10ms\" }}\n"
    );
    let found = warnings(&text);
    let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(found.len(), 2, "{messages:#?}");
    assert!(messages[0].contains("every request of workload `w` times out"));
    assert!(messages[0].contains("(1ms) is shorter than the fastest answer of `api` (3ms)"));
    assert!(messages[1].contains("every cache miss of this call times out"));
    assert!(messages[1].contains("`db` (10ms), the backing store of `c`"));
    assert_eq!(at(&text, &found[0]), "\"1ms\"");
}

#[test]
fn worst_cases_add_attempts_and_capped_backoffs() {
    let call = |retries, backoff_ns, max_backoff_ns| Call {
        to: NodeId(0),
        timeout_ns: Some(100),
        retries,
        backoff_ns,
        max_backoff_ns,
        jitter: crate::model::Jitter::Full,
        probability: 1.0,
        optional: false,
        resilience: Default::default(),
        deadline: Default::default(),
    };
    assert_eq!(worst_case_ns(&call(0, 10, u64::MAX)), Some(100));
    // 3 attempts, backoffs 10 + 20.
    assert_eq!(worst_case_ns(&call(2, 10, u64::MAX)), Some(330));
    // 5 attempts, backoffs 10 + 20 + 25 + 25.
    assert_eq!(worst_case_ns(&call(4, 10, 25)), Some(580));
    assert_eq!(worst_case_ns(&call(3, 0, u64::MAX)), Some(400));
    let many = worst_case_ns(&call(u32::from(u16::MAX), u64::MAX / 4, u64::MAX));
    assert_eq!(many, Some(u64::MAX));
    let mut none = call(1, 1, 1);
    none.timeout_ns = None;
    assert_eq!(worst_case_ns(&none), None);
}

#[test]
fn retries_that_outlast_the_client_warn_at_the_retries() {
    let text = format!(
        "{HEAD}[workload.slow]\ntarget = \"api\"\nrate = 1\ntimeout = \"10s\"\n\
         [workload.fast]\ntarget = \"api\"\nrate = 1\ntimeout = \"1s\"\n\
         [service.api]\nzones = [\"a\"]\nworkers = 8\n\
         service_time = {{ dist = \"exponential\", mean = \"1ms\" }}\n\
         calls = [{{ to = \"db\", timeout = \"300ms\", retries = 3, backoff = \"50ms\" }}]\n\
         [database.db]\nzones = [\"a\"]\nprimary = \"a\"\nworkers = 8\n\
         service_time = {{ dist = \"exponential\", mean = \"1ms\" }}\n"
    );
    let d = only(&text, Code::RetriesExceedClientTimeout);
    assert_eq!(at(&text, &d), "3");
    // 4 x 300ms + 50 + 100 + 200 ms.
    assert!(
        d.message.contains(
            "the retries of `api` -> `db` can take 1.55s, longer than the client timeout of workload `fast` (1s)"
        ),
        "{}",
        d.message
    );
    assert_eq!(
        d.label,
        "4 attempts x 300ms timeout, plus backoffs 50ms, 100ms, 200ms"
    );
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .contains("cap it with `max_backoff`")
    );
    let fine = text.replace("timeout = \"1s\"", "timeout = \"2s\"");
    assert!(warnings(&fine).is_empty());
}

#[test]
fn fifty_retries_show_an_unbounded_schedule_or_the_cap() {
    let text = format!(
        "{HEAD}[workload.w]\ntarget = \"api\"\nrate = 1\ntimeout = \"1s\"\n\
         [service.api]\nzones = [\"a\"]\nworkers = 8\n\
         service_time = {{ dist = \"exponential\", mean = \"1ms\" }}\n\
         calls = [{{ to = \"db\", timeout = \"300ms\", retries = 50, backoff = \"1ms\" }}]\n\
         [database.db]\nzones = [\"a\"]\nprimary = \"a\"\nworkers = 8\n\
         service_time = {{ dist = \"exponential\", mean = \"1ms\" }}\n"
    );
    let d = only(&text, Code::RetriesExceedClientTimeout);
    assert!(
        d.message.contains("can take longer than 584 years"),
        "{}",
        d.message
    );
    assert!(!d.message.contains("5124095h"), "{}", d.message);
    assert_eq!(
        d.label,
        "51 attempts x 300ms timeout, plus backoffs 1ms, 2ms, 4ms, …, unbounded"
    );
    assert!(d.help.as_deref().unwrap_or("").contains("`max_backoff`"));
    let capped = text.replace(
        "backoff = \"1ms\"",
        "backoff = \"1ms\", max_backoff = \"1s\"",
    );
    let d = only(&capped, Code::RetriesExceedClientTimeout);
    assert_eq!(
        d.label,
        "51 attempts x 300ms timeout, plus backoffs 1ms, 2ms, 4ms, …, 1s (capped by max_backoff 1s)"
    );
    assert!(d.message.contains("can take"), "{}", d.message);
    assert!(!d.help.as_deref().unwrap_or("").contains("cap it"));
}

#[test]
fn saturation_follows_probabilities_and_cache_misses() {
    // 1,000/s at the api, 0.5 of them to the cache, 20% misses: 100/s at the database, which
    // serves 1 replica x 1 worker / 12.5 ms = 80/s: utilisation 1.25. The api holds a worker
    // for 1 + 0.5 x (1 + 0.2 x 12.5) = 2.75 ms: 2 zones x 2 workers serve 1,455/s (0.69).
    let text = format!(
        "{HEAD}[workload.w]\ntarget = \"api\"\nrate = 1000\n\
         [service.api]\nzones = [\"a\", \"b\"]\nworkers = 2\n\
         service_time = {{ dist = \"constant\", value = \"1ms\" }}\n\
         calls = [{{ to = \"c\", probability = 0.5 }}]\n\
         [cache.c]\nzones = [\"a\", \"b\"]\nhit_ratio = 0.8\nbacking = \"db\"\nworkers = 8\n\
         service_time = {{ dist = \"constant\", value = \"1ms\" }}\n\
         [database.db]\nzones = [\"a\", \"b\"]\nprimary = \"a\"\n\
         service_time = {{ dist = \"exponential\", mean = \"12.5ms\" }}\n"
    );
    let d = only(&text, Code::Saturated);
    assert_eq!(at(&text, &d), "db");
    assert_eq!(
        d.message,
        "node `db` is saturated before any fault: utilisation 1.25"
    );
    assert_eq!(d.label, "100 requests/s offered, at most 80/s served");
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .contains("1 replica(s) in its primary zone x 1 workers")
    );
    // Blocking: the api's worker waits for the cache; at 1 worker per zone it saturates too.
    let blocking = text.replace("workers = 2\n", "workers = 1\n");
    let found = warnings(&blocking);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0]
            .message
            .contains("`api` is saturated before any fault: utilisation 1.38")
    );
    // Async, the api holds a worker for its own 1 ms only: 2,000/s, utilisation 0.5.
    let asynchronous = blocking.replace("workers = 1\n", "workers = 1\nconcurrency = \"async\"\n");
    assert_eq!(warnings(&asynchronous).len(), 1);
}

#[test]
fn models_too_large_to_simulate_are_rejected() {
    let text = format!(
        "{HEAD}[workload.w]\ntarget = \"api\"\nrate = 1\n\
         [service.api]\nzones = [\"a\", \"b\"]\nreplicas = 600000\n\
         service_time = {{ dist = \"constant\", value = \"1ms\" }}\n"
    );
    let error = parse_model(Path::new("m.toml"), &text).expect_err("too large");
    let d = &error.items[0];
    assert_eq!(d.code, Code::OutOfRange);
    assert_eq!(at(&text, d), "600000");
    assert!(
        d.message.contains("more than 1000000 replicas"),
        "{}",
        d.message
    );
    let retries = format!(
        "{HEAD}[workload.w]\ntarget = \"api\"\nrate = 1\n\
         [service.api]\nzones = [\"a\"]\nservice_time = {{ dist = \"constant\", value = \"1ms\" }}\n\
         calls = [{{ to = \"db\", retries = 70000 }}]\n\
         [service.db]\nzones = [\"a\"]\nservice_time = {{ dist = \"constant\", value = \"1ms\" }}\n"
    );
    let error = parse_model(Path::new("m.toml"), &retries).expect_err("too many retries");
    assert!(
        error.items[0].label.contains("from 0 to 65535"),
        "{:?}",
        error.items[0]
    );
}

#[test]
fn autoscaling_counts_its_max_against_the_replica_limit() {
    // 2 replicas to start, but 600,000 places per zone in two zones: over the million.
    let text = format!(
        "{HEAD}[workload.w]\ntarget = \"api\"\nrate = 1\n\
         [service.api]\nzones = [\"a\", \"b\"]\nreplicas = 2\n\
         autoscale = {{ min = 1, max = 600000 }}\n\
         service_time = {{ dist = \"constant\", value = \"1ms\" }}\n"
    );
    let error = parse_model(Path::new("m.toml"), &text).expect_err("too large");
    let d = &error.items[0];
    assert_eq!(d.code, Code::OutOfRange);
    assert_eq!(at(&text, d), "{ min = 1, max = 600000 }");
    assert!(
        d.message.contains("more than 1000000 replicas"),
        "{}",
        d.message
    );
}

/// A callee placed in no zone cannot be reached from anywhere: the loader rejects a node with
/// an empty `zones` list (every zone reaches every other; partitions are faults, not model).
#[test]
fn a_callee_in_no_zone_is_an_error() {
    let text = format!(
        "{HEAD}[workload.w]\ntarget = \"api\"\nrate = 1\n\
         [service.api]\nzones = [\"a\"]\nservice_time = {{ dist = \"constant\", value = \"1ms\" }}\n\
         calls = [{{ to = \"db\" }}]\n\
         [service.db]\nzones = []\nservice_time = {{ dist = \"constant\", value = \"1ms\" }}\n"
    );
    let error = parse_model(Path::new("m.toml"), &text).expect_err("no zone");
    let d = &error.items[0];
    assert!(d.is_error());
    assert_eq!((d.line, d.column), (11, 9));
    assert!(
        d.message.contains("`zones` must not be empty"),
        "{}",
        d.message
    );
}

#[test]
fn the_bundled_models_give_no_lint() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for entry in std::fs::read_dir(dir).expect("models") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("model");
        let found = warnings(&text);
        let lints: Vec<&Diagnostic> = found
            .iter()
            .filter(|d| {
                matches!(
                    d.code,
                    Code::TimeoutBelowLatency | Code::RetriesExceedClientTimeout | Code::Saturated
                )
            })
            .collect();
        assert!(lints.is_empty(), "{}: {lints:#?}", path.display());
    }
}

/// Found by the property tests: a lognormal with an enormous p99 has a mean beyond any
/// duration, and the saturation warning must still print its numbers, not overflow.
#[test]
fn an_infinite_mean_service_time_still_warns_in_words() {
    let text = format!(
        "{HEAD}[workload.w]\ntarget = \"api\"\nrate = 1\n\
         [service.api]\nzones = [\"a\"]\n\
         service_time = {{ dist = \"lognormal\", median = \"1s\", p99 = \"5000000h\" }}\n"
    );
    let d = only(&text, Code::Saturated);
    assert!(d.message.ends_with("utilisation 2.4e22"), "{}", d.message);
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .contains("5124095h34m on average"),
        "{:?}",
        d.help
    );
}
