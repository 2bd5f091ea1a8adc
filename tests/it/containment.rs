//! Containment: which faults have an isolation boundary — a zone, the zones a selection or a
//! chaos monkey struck, the zone a zonal shift empties — whether harm stayed inside it, and why
//! the others have none.

use blastradius::analysis::{Containment, NoBoundary, Study, boundary, study};
use blastradius::faults::Action;
use blastradius::model::Scenario;

use crate::support::load;

/// `api` with one replica per zone in three zones (`workers` each, 10 ms of own work), 900
/// requests/s entering the zones in turn: 300/s per replica. Slow means above 200 ms, so only
/// real overload (a queue that fills, timeouts) counts as harm, not a millisecond of queueing.
fn three_zone_api(workers: u32, db_zones: &str) -> String {
    format!(
        r#"
name = "three-zone api"
zones = ["az-a", "az-b", "az-c"]

[workload.w]
target = "api"
rate = 900
timeout = "1s"

[service.api]
zones = ["az-a", "az-b", "az-c"]
replicas = 1
workers = {workers}
queue = 50
service_time = {{ dist = "constant", value = "10ms" }}
calls = [{{ to = "db", timeout = "200ms" }}]

[database.db]
zones = {db_zones}
primary = "az-a"
workers = 256
service_time = {{ dist = "constant", value = "1ms" }}
"#
    )
}

fn scenario(faults: &str) -> String {
    format!(
        "name = \"containment\"\nmodel = \"model.toml\"\nduration = \"40s\"\nwarmup = \"5s\"\n\
         seed = 11\n\n[blast_radius]\nslow = \"200ms\"\n\n{faults}\n"
    )
}

fn studied(model: &str, faults: &str) -> (Scenario, Study) {
    let scenario = load(model, &scenario(faults));
    let result = study(&scenario);
    (scenario, result)
}

fn only_containment(study: &Study) -> &Containment {
    let blast = study.analysis.blast_radius.as_ref().expect("faults");
    assert_eq!(blast.containment.len(), 1, "{:?}", blast.containment);
    &blast.containment[0]
}

const SHIFT_A: &str = r#"
[[fault]]
kind = "zonal-shift"
zone = "az-a"
start = "15s"
duration = "10s"
"#;

#[test]
fn a_zonal_shift_is_contained_when_the_other_zones_can_take_its_traffic() {
    // 64 workers of 10 ms per replica: 450/s each after the shift is 4.5 busy workers.
    let (_, study) = studied(&three_zone_api(64, r#"["az-a", "az-b", "az-c"]"#), SHIFT_A);
    let shift = only_containment(&study);
    assert_eq!(shift.kind, "zonal-shift");
    assert_eq!(shift.boundary, ["az-a"]);
    assert!(shift.contained, "{shift:?}");
    assert_eq!(shift.hurt_outside, 0, "{shift:?}");
    // az-b and az-c over the 10 s: ~6,000 requests of the 40 s x 900/s outside the boundary.
    assert!(shift.paired_outside > 15_000, "{shift:?}");
}

#[test]
fn a_zonal_shift_leaks_when_the_zones_taking_its_traffic_are_overloaded() {
    // 4 workers of 10 ms: 400/s a replica, below the 450/s each takes after the shift, so
    // their queues fill and their own users' requests are rejected or time out.
    let (_, study) = studied(&three_zone_api(4, r#"["az-a", "az-b", "az-c"]"#), SHIFT_A);
    let shift = only_containment(&study);
    assert_eq!(shift.boundary, ["az-a"]);
    assert!(!shift.contained, "{shift:?}");
    assert!(shift.hurt_outside > 100, "{shift:?}");
}

#[test]
fn a_crash_of_one_replica_is_judged_in_the_zone_the_plan_chose() {
    let crash = r#"
[[fault]]
kind = "crash"
node = "api"
count = 1
start = "15s"
duration = "10s"
"#;
    let (scenario, study) = studied(&three_zone_api(64, r#"["az-a", "az-b", "az-c"]"#), crash);
    let struck: Vec<&str> = study
        .plan
        .effects
        .iter()
        .flat_map(|e| match &e.action {
            Action::Down(replicas) => replicas.clone(),
            other => panic!("a crash only stops replicas, not {other:?}"),
        })
        .map(|r| scenario.topology.zones[r.zone.index()].as_str())
        .collect();
    assert_eq!(struck.len(), 1);
    let contained = only_containment(&study);
    assert_eq!(contained.kind, "crash");
    assert_eq!(contained.boundary, struck);
    // The others route around the stopped replica: only its own in-flight work is lost.
    assert!(contained.contained, "{contained:?}");
    assert!(contained.hurt_inside > 0, "{contained:?}");
}

#[test]
fn a_crash_of_the_database_replica_in_one_zone_leaks_into_every_zone_that_needs_it() {
    // db has one replica in each of az-a and az-b, primary az-a, and no failover.
    let crash = r#"
[[fault]]
kind = "crash"
node = "db"
percent = 50
start = "15s"
duration = "10s"
"#;
    let (_, study) = studied(&three_zone_api(64, r#"["az-a", "az-b"]"#), crash);
    let leak = only_containment(&study);
    // Seed 11's pick is the primary's replica (the standby's would hurt nobody).
    assert_eq!(leak.boundary, ["az-a"], "{leak:?}");
    assert!(!leak.contained, "{leak:?}");
    // az-b and az-c's 600/s over 10 s fail with the database.
    assert!(leak.hurt_outside > 5_000, "{leak:?}");
}

#[test]
fn faults_without_a_boundary_say_why() {
    let model = format!(
        "{}\n[external.pay]\nlatency = {{ dist = \"constant\", value = \"5ms\" }}\n\n\
         [service.edge]\nzones = [\"az-a\", \"az-b\", \"az-c\"]\nworkers = 8\n\
         service_time = {{ dist = \"constant\", value = \"1ms\" }}\ncalls = [{{ to = \"pay\" }}]\n\n\
         [workload.pays]\ntarget = \"edge\"\nrate = 10\n",
        three_zone_api(64, r#"["az-a", "az-b", "az-c"]"#)
    );
    let faults = r#"
[[fault]]
kind = "traffic-spike"
workload = "w"
factor = 2
start = "10s"
duration = "2s"

[[fault]]
kind = "errors"
node = "pay"
share = 0.5
start = "12s"
duration = "2s"

[[fault]]
kind = "latency"
edge = "api->db"
latency = { dist = "constant", value = "1ms" }
start = "14s"
duration = "2s"

[[fault]]
kind = "crash"
node = "api"
start = "16s"
duration = "1s"

[[fault]]
kind = "crash"
node = "api"
count = 3
start = "17s"
duration = "1s"

[[fault]]
kind = "chaos-monkey"
node = "api"
mean_interval = "1h"
restart_after = "1s"
start = "18s"
duration = "1s"
"#;
    let (scenario, study) = studied(&model, faults);
    let why: Vec<Result<Vec<_>, NoBoundary>> = (0..scenario.faults.len())
        .map(|i| boundary(&scenario, &study.plan, i))
        .collect();
    assert_eq!(
        why,
        [
            Err(NoBoundary::Load),
            Err(NoBoundary::External),
            Err(NoBoundary::Calls),
            Err(NoBoundary::WholeNode),
            Err(NoBoundary::EveryZone),
            Err(NoBoundary::NoReplica),
        ]
    );
    let blast = study.analysis.blast_radius.as_ref().expect("faults");
    assert!(blast.containment.is_empty(), "{:?}", blast.containment);
    assert_eq!(
        NoBoundary::WholeNode.describe(),
        "it acts on every replica of the node"
    );
}
