//! The trace and the determinism self-check: lines name what happened, two runs of the same
//! inputs hash alike, and two deliberately different traces are told apart at their first
//! differing event.

use std::path::Path;

use super::*;
use crate::model::parse_model;

const MODEL: &str = r#"
name = "t"
zones = ["a", "b"]
[workload.w]
target = "api"
rate = 200
timeout = "50ms"
[service.api]
zones = ["a", "b"]
workers = 4
service_time = { dist = "exponential", mean = "1ms" }
calls = [{ to = "db", timeout = "5ms", retries = 2, backoff = "1ms", jitter = "full" }]
[database.db]
zones = ["a", "b"]
primary = "a"
workers = 2
service_time = { dist = "exponential", mean = "3ms" }
"#;

fn setup() -> (Topology, RunConfig) {
    let topology = parse_model(Path::new("t.toml"), MODEL).expect("valid");
    let config = RunConfig::plain(3, 2_000_000_000, 0);
    (topology, config)
}

/// Every line of a run, for inspection.
#[derive(Default)]
struct Lines(Vec<String>);

impl Tracer for Lines {
    fn record(&mut self, record: &TraceRecord<'_>) {
        self.0.push(record.to_string());
    }
}

#[test]
fn the_trace_has_one_line_per_event_in_order() {
    let (topology, config) = setup();
    let mut lines = Lines::default();
    let result = crate::sim::run_traced(&topology, &config, &FaultPlan::default(), &mut lines);
    assert_eq!(lines.0.len() as u64, result.events);
    let first = &lines.0[0];
    assert!(
        first.starts_with("0 ") && first.contains(" arrival client:w"),
        "{first}"
    );
    let mut last_time = 0;
    for (i, line) in lines.0.iter().enumerate() {
        let mut fields = line.split(' ');
        assert_eq!(fields.next(), Some(i.to_string().as_str()), "{line}");
        let time: u64 = fields.next().and_then(|t| t.parse().ok()).expect("time");
        assert!(time >= last_time, "{line}");
        last_time = time;
    }
    let has = |needle: &str| lines.0.iter().any(|l| l.contains(needle));
    assert!(has(" service_done api frame="));
    assert!(
        has(" call_timeout api->db frame="),
        "db is slow enough to time out"
    );
    assert!(has(" stale"), "answered attempts leave stale timers");
    assert!(has(" retry_due api->db "));
}

#[test]
fn an_untraced_run_is_the_same_run() {
    let (topology, config) = setup();
    let plain = crate::sim::run(&topology, &config);
    let mut hash = TraceHash::default();
    let traced = crate::sim::run_traced(&topology, &config, &FaultPlan::default(), &mut hash);
    assert_eq!(plain.events, traced.events);
    assert_eq!(hash.events, traced.events);
    assert_eq!(
        plain.workloads[0].latency.summary(),
        traced.workloads[0].latency.summary()
    );
}

#[test]
fn the_same_run_twice_is_identical() {
    let (topology, config) = setup();
    let verdict = check_determinism(&topology, &config, &FaultPlan::default());
    let Determinism::Identical { events, .. } = verdict else {
        panic!("{verdict:?}");
    };
    assert!(events > 1_000, "{events}");
}

/// A stream of fake event hashes, equal to `base` except at the indices in `changed`.
fn fake(len: u64, changed: &[u64]) -> TraceHash {
    let mut hash = TraceHash::default();
    for i in 0..len {
        let word = if changed.contains(&i) { i ^ 0xdead } else { i };
        hash.push(hash.hash.rotate_left(7) ^ word.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
    hash
}

#[test]
fn checkpoints_locate_the_first_difference() {
    let a = fake(100_000, &[]);
    assert_eq!(a.divergence(&fake(100_000, &[])), None);
    assert!(a.checkpoints.len() < MAX_CHECKPOINTS);
    for changed in [0, 1, 4095, 4096, 77_777, 99_999] {
        let b = fake(100_000, &[changed, changed + 5]);
        let (from, to) = a.divergence(&b).expect("different");
        assert!(from <= changed && changed < to, "{changed}: [{from}, {to})");
        assert!(to - from <= 2 * a.every, "{changed}: [{from}, {to})");
    }
    // A run that stops early differs where it stops.
    let short = fake(60_000, &[]);
    let (from, to) = a.divergence(&short).expect("shorter");
    assert!(from <= 60_000 && 60_000 <= to, "[{from}, {to})");
}

fn event(time_ns: u64, line: &str) -> TracedEvent {
    TracedEvent {
        time_ns,
        line: line.to_string(),
    }
}

#[test]
fn the_first_differing_event_is_named_with_both_versions() {
    let a = [
        event(1, "10 1 arrival client:w"),
        event(2, "11 2 x"),
        event(3, "12 3 y"),
    ];
    let b = [event(1, "10 1 arrival client:w"), event(2, "11 2 z")];
    let d = first_difference(10, &a, &b).expect("differs");
    assert_eq!(d.index, 11);
    assert_eq!(d.first, Some(event(2, "11 2 x")));
    assert_eq!(d.second, Some(event(2, "11 2 z")));
    let d = first_difference(10, &a, &a[..2]).expect("shorter");
    assert_eq!((d.index, d.second), (12, None));
    assert_eq!(first_difference(0, &a, &a), None);
}

/// Two deliberately different runs (another seed for the second) go through the whole
/// comparison: hashes, window, rerun, and the first event that differs.
#[test]
fn different_runs_are_told_apart_at_their_first_differing_event() {
    let (topology, config) = setup();
    let other = RunConfig { seed: 4, ..config };
    let plan = FaultPlan::default();
    let first = |t: &mut dyn Tracer| {
        crate::sim::run_traced(&topology, &config, &plan, t);
    };
    let second = |t: &mut dyn Tracer| {
        crate::sim::run_traced(&topology, &other, &plan, t);
    };
    let Determinism::Differs { first: found, .. } = compare_runs(first, second) else {
        panic!("another seed gives another trace");
    };
    let found = found.expect("the difference reproduces");
    // The first arrival's time is drawn from the seed: the runs part at event 0.
    assert_eq!(found.index, 0);
    let (a, b) = (found.first.expect("a"), found.second.expect("b"));
    assert_ne!(a, b);
    assert!(
        a.line.starts_with("0 ") && a.line.contains("arrival"),
        "{a:?}"
    );
}
