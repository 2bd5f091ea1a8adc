//! The parsing of every fault kind and of `[blast_radius]`, on scenarios over the bundled shop
//! model: zones az-a/b/c; `api` in 3 zones x 2 replicas with 16 workers; `sessions`, a cache,
//! 3 x 1; `orders-db` in az-a and az-b; `payments`, an external. The checks are tested in
//! `fault_check_tests`, with the helpers here.
//!
//! Faults are written as inline tables, `fault = [{ kind = "crash", ... }]`, which TOML reads
//! exactly as `[[fault]]` sections.

use std::io;
use std::path::Path;

use crate::kernel::Dist;

use super::codes::Code;
use super::diagnostic::Diagnostics;
use super::fault::{FaultKind, FaultSpec, FaultTarget, Selection};
use super::load_scenario::parse_scenario;
use super::scenario::Scenario;
use super::topology::{NodeId, WorkloadId, ZoneId};

const SHOP: &str = include_str!("../../models/shop.toml");

/// 15 minutes with a 2-minute warm-up, four lines.
const HEAD: &str = r#"name = "t"
model = "../models/shop.toml"
duration = "15m"
warmup = "2m"
"#;

pub(super) const S: u64 = 1_000_000_000;
pub(super) const MIN: u64 = 60 * S;

pub(super) type Found = Vec<(Code, String)>;

/// Loads `HEAD` + `body`: the scenario and its warnings, or every diagnostic.
pub(super) fn load(body: &str) -> Result<(Scenario, Found), Found> {
    let text = format!("{HEAD}{body}");
    let read = |path: &Path| {
        if path == Path::new("models/shop.toml") {
            Ok(SHOP.to_string())
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "no such file"))
        }
    };
    let pairs =
        |d: Diagnostics| -> Found { d.items.into_iter().map(|d| (d.code, d.message)).collect() };
    parse_scenario(Path::new("scenarios/t.toml"), &text, read)
        .map(|(scenario, warnings)| (scenario, pairs(warnings)))
        .map_err(pairs)
}

/// `fault = [{ a }, { b }, ...]`, one line.
pub(super) fn faults(tables: &[&str]) -> String {
    let tables: Vec<String> = tables.iter().map(|t| format!("{{ {t} }}")).collect();
    format!("fault = [{}]\n", tables.join(", "))
}

/// The one fault with the keys `table`, which must load without any diagnostic.
pub(super) fn fault(table: &str) -> FaultSpec {
    let (scenario, warnings) =
        load(&faults(&[table])).unwrap_or_else(|errors| panic!("{table}\n{errors:#?}"));
    assert!(warnings.is_empty(), "{table}\n{warnings:#?}");
    assert_eq!(scenario.faults.len(), 1);
    scenario.faults.into_iter().next().expect("one fault")
}

/// Every diagnostic (errors and warnings) of the one fault with the keys `table`.
pub(super) fn diagnostics(table: &str) -> Found {
    match load(&faults(&[table])) {
        Ok((_, warnings)) => warnings,
        Err(errors) => errors,
    }
}

/// Exactly one diagnostic, with this code and a message containing `fragment`.
pub(super) fn one(table: &str, code: Code, fragment: &str) {
    let found = diagnostics(table);
    assert_eq!(found.len(), 1, "{table}\n{found:#?}");
    assert_eq!(found[0].0, code, "{table}\n{found:#?}");
    assert!(found[0].1.contains(fragment), "{table}\n{found:#?}");
}

const API: NodeId = NodeId(0);
const SESSIONS: NodeId = NodeId(1);
const ORDERS: NodeId = NodeId(2);
const PAYMENTS: NodeId = NodeId(3);
const AZ_A: ZoneId = ZoneId(0);
const AZ_B: ZoneId = ZoneId(1);
const AZ_C: ZoneId = ZoneId(2);

/// (keys, kind, target, selection) for one kind of fault after another.
fn check_kinds(cases: &[(&str, FaultKind, FaultTarget, Selection)]) {
    for (table, kind, target, selection) in cases {
        let f = fault(table);
        assert_eq!(
            (&f.kind, &f.target, f.selection),
            (kind, target, *selection),
            "{table}"
        );
    }
}

#[test]
fn the_product_brief_scenario_loads_as_written() {
    let file = include_str!("../../scenarios/az-a-power-interruption.toml");
    // The brief's text: the bundled file adds only the editors' `#:schema` line on top.
    let text = file
        .strip_prefix("#:schema ../schema/scenario.schema.json\n")
        .unwrap_or(file);
    let read = |_: &Path| Ok(SHOP.to_string());
    let (scenario, warnings) = parse_scenario(Path::new("s.toml"), text, read).expect("loads");
    assert!(warnings.is_empty());
    let expected = FaultSpec {
        kind: FaultKind::ZoneOutage { recovery_ns: None },
        target: FaultTarget::Zone(AZ_A),
        selection: Selection::All,
        start_ns: 5 * MIN,
        duration_ns: Some(3 * MIN),
        line: 1 + text
            .lines()
            .position(|l| l == "[[fault]]")
            .expect("a fault"),
    };
    assert_eq!(scenario.faults, [expected]);
    assert_eq!(scenario.faults[0].end_ns(), 8 * MIN);
    assert_eq!(scenario.slow_threshold_ns, None);
}

#[test]
fn faults_keep_file_order_and_header_lines() {
    let text = "[[fault]]\nkind = \"errors\"\nnode = \"payments\"\nstart = \"9m\"\n\n\
                [[fault]]\nkind = \"crash\"\nnode = \"api\"\nstart = \"3m\"\n";
    let (scenario, _) = load(text).expect("loads");
    let lines: Vec<usize> = scenario.faults.iter().map(|f| f.line).collect();
    assert_eq!(lines, [5, 10]);
    assert_eq!(scenario.faults[1].start_ns, 3 * MIN);
}

#[test]
fn isolation_boundary_kinds() {
    use FaultKind::*;
    let all = Selection::All;
    check_kinds(&[
        (
            r#"kind = "zone-outage", zone = "az-b", start = "5m", duration = "3m", recovery = "2m""#,
            ZoneOutage {
                recovery_ns: Some(2 * MIN),
            },
            FaultTarget::Zone(AZ_B),
            all,
        ),
        (
            r#"kind = "zone-partition", zones = ["az-a", "az-b"], start = "5m""#,
            ZonePartition,
            FaultTarget::ZoneCut(vec![AZ_A, AZ_B]),
            all,
        ),
        (
            r#"kind = "zone-partition", zone = "az-c", start = "5m""#,
            ZonePartition,
            FaultTarget::ZoneCut(vec![AZ_C]),
            all,
        ),
        (
            r#"kind = "partition", edge = " api ->  sessions ", start = "5m""#,
            Partition,
            FaultTarget::Edge {
                from: API,
                to: SESSIONS,
            },
            all,
        ),
        (
            // A cache's backing is an edge too.
            r#"kind = "partition", edge = "sessions->orders-db", start = "5m""#,
            Partition,
            FaultTarget::Edge {
                from: SESSIONS,
                to: ORDERS,
            },
            all,
        ),
    ]);
    let f = fault(r#"kind = "zone-outage", zone = "az-b", start = "5m", duration = "3m""#);
    assert_eq!((f.start_ns, f.duration_ns), (5 * MIN, Some(3 * MIN)));
    let f = fault(r#"kind = "zone-partition", zone = "az-c", start = "5m""#);
    assert_eq!((f.duration_ns, f.end_ns()), (None, u64::MAX));
}

#[test]
fn crashes_and_chaos_monkeys() {
    use FaultKind::*;
    let monkey = ChaosMonkey {
        mean_interval_ns: 2 * MIN,
        restart_after_ns: 30 * S,
    };
    let m = r#"kind = "chaos-monkey", mean_interval = "2m", restart_after = "30s", start = "3m""#;
    check_kinds(&[
        (
            r#"kind = "crash", node = "api", zone = "az-a", count = 1, restart_after = "1m", start = "5m""#,
            Crash {
                restart_after_ns: Some(MIN),
            },
            FaultTarget::NodeInZone(API, AZ_A),
            Selection::Count(1),
        ),
        (
            r#"kind = "crash", zone = "az-a", percent = 50, start = "5m", duration = "1m""#,
            Crash {
                restart_after_ns: None,
            },
            FaultTarget::Zone(AZ_A),
            Selection::Percent(50.0),
        ),
        (
            r#"kind = "crash", node = "orders-db", start = "5m""#,
            Crash {
                restart_after_ns: None,
            },
            FaultTarget::Node(ORDERS),
            Selection::All,
        ),
        (
            &format!(r#"{m}, nodes = ["api", "sessions"]"#),
            monkey.clone(),
            FaultTarget::Nodes(vec![API, SESSIONS]),
            Selection::All,
        ),
        (
            &format!(r#"{m}, node = "api", zone = "az-b""#),
            monkey.clone(),
            FaultTarget::NodeInZone(API, AZ_B),
            Selection::All,
        ),
        (
            &format!(r#"{m}, zone = "az-c""#),
            monkey,
            FaultTarget::Zone(AZ_C),
            Selection::All,
        ),
    ]);
}

#[test]
fn dependency_kinds() {
    use FaultKind::*;
    let added = Dist::Constant { value_ns: 2 * S };
    let two_s = r#"latency = { dist = "constant", value = "2s" }"#;
    check_kinds(&[
        (
            &format!(r#"kind = "latency", node = "payments", {two_s}, share = 0.5, start = "5m""#),
            Latency {
                added: added.clone(),
                share: 0.5,
            },
            FaultTarget::Node(PAYMENTS),
            Selection::All,
        ),
        (
            &format!(r#"kind = "latency", edge = "api->payments", {two_s}, start = "5m""#),
            Latency { added, share: 1.0 },
            FaultTarget::Edge {
                from: API,
                to: PAYMENTS,
            },
            Selection::All,
        ),
        (
            r#"kind = "errors", edge = "api->payments", share = 0.25, start = "5m""#,
            Errors { share: 0.25 },
            FaultTarget::Edge {
                from: API,
                to: PAYMENTS,
            },
            Selection::All,
        ),
        (
            r#"kind = "blackhole", node = "payments", start = "5m""#,
            Blackhole { share: 1.0 },
            FaultTarget::Node(PAYMENTS),
            Selection::All,
        ),
        (
            r#"kind = "slowdown", node = "orders-db", zone = "az-a", factor = 3, percent = 100, start = "5m""#,
            Slowdown { factor: 3.0 },
            FaultTarget::NodeInZone(ORDERS, AZ_A),
            Selection::Percent(100.0),
        ),
        (
            r#"kind = "capacity", node = "api", workers = 0, count = 2, start = "5m""#,
            Capacity { workers: 0 },
            FaultTarget::Node(API),
            Selection::Count(2),
        ),
    ]);
}

#[test]
fn cache_and_load_kinds() {
    use FaultKind::*;
    check_kinds(&[
        (
            r#"kind = "cache-flush", node = "sessions", start = "5m""#,
            CacheFlush { refill_ns: MIN },
            FaultTarget::Node(SESSIONS),
            Selection::All,
        ),
        (
            r#"kind = "cache-flush", node = "sessions", zone = "az-b", refill = "30s", start = "5m""#,
            CacheFlush { refill_ns: 30 * S },
            FaultTarget::NodeInZone(SESSIONS, AZ_B),
            Selection::All,
        ),
        (
            r#"kind = "hit-ratio", node = "sessions", value = 0.5, count = 1, start = "5m""#,
            HitRatio { value: 0.5 },
            FaultTarget::Node(SESSIONS),
            Selection::Count(1),
        ),
        (
            r#"kind = "traffic-spike", workload = "checkout", factor = 3, start = "5m""#,
            TrafficSpike { factor: 3.0 },
            FaultTarget::Workload(WorkloadId(0)),
            Selection::All,
        ),
    ]);
    // A flush is instantaneous: it ends where it starts.
    let f = fault(r#"kind = "cache-flush", node = "sessions", start = "5m""#);
    assert_eq!((f.duration_ns, f.end_ns()), (Some(0), 5 * MIN));
}

#[test]
fn blast_radius_sets_the_slow_threshold() {
    let (scenario, _) = load("[blast_radius]\nslow = \"500ms\"\n").expect("loads");
    assert_eq!(scenario.slow_threshold_ns, Some(500_000_000));
    let cases = [
        ("[blast_radius]\nslo = \"500ms\"\n", Code::UnknownKey),
        ("[blast_radius]\nslow = 500\n", Code::WrongType),
        ("[blast_radius]\nslow = \"0ms\"\n", Code::OutOfRange),
        ("blast_radius = 5\n", Code::WrongType),
    ];
    for (text, code) in cases {
        let found = load(text).expect_err(text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].0, code, "{text}");
    }
}
