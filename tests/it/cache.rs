//! Caches described by their content: the emergent LRU hit ratio against Che's closed form,
//! flushes and refills, TTL, single-flight, fills only on OK, and the cache-miss-storm pair.
//! Each assertion states its sample size and tolerance.

use std::path::{Path, PathBuf};

use blastradius::analysis::{Study, study};
use blastradius::model::{Scenario, che_hit_ratio, load_scenario, parse_scenario};
use blastradius::sim::CacheCounts;

/// A read path: workload `r` at `rate`/s -> `api` -> content cache `c` (extra keys in
/// `cache`) -> database `db` (fast and wide unless `db` overrides its keys). One zone, one
/// replica of everything unless `cache` says otherwise.
fn model(rate: u32, cache: &str, db: &str, call: &str) -> String {
    format!(
        r#"
name = "read-path"
zones = ["z1", "z2"]

[workload.r]
target = "api"
rate = {rate}
timeout = "5s"

[service.api]
zones = ["z1", "z2"]
workers = 100000
concurrency = "async"
service_time = {{ dist = "constant", value = "10us" }}
calls = [{{ to = "c", {call} }}]

[cache.c]
zones = ["z1", "z2"]
workers = 100000
service_time = {{ dist = "constant", value = "10us" }}
backing = "db"
{cache}

[database.db]
zones = ["z1"]
primary = "z1"
{db}
"#
    )
}

const FAST_DB: &str = "workers = 100000\nservice_time = { dist = \"constant\", value = \"1ms\" }";

/// A scenario over `model_text`, with the faults in `faults`, run as a study.
fn run(model_text: &str, seconds: u32, warmup: u32, faults: &str) -> Study {
    let scenario_text = format!(
        "name = \"t\"\nmodel = \"m.toml\"\nduration = \"{seconds}s\"\nwarmup = \"{warmup}s\"\n\
         seed = 7\n{faults}"
    );
    let model_text = model_text.to_string();
    let (scenario, _) = parse_scenario(Path::new("s.toml"), &scenario_text, move |_| {
        Ok(model_text.clone())
    })
    .unwrap_or_else(|e| panic!("test scenario is valid: {e:?}"));
    study(&scenario)
}

fn flush_at(seconds: u32) -> String {
    format!(
        "[[fault]]\nkind = \"cache-flush\"\nnode = \"c\"\nstart = \"{seconds}s\"\nrefill = \"1s\"\n"
    )
}

/// The experiment's counts summed over steps `from..to` (seconds, the step is 1 s).
fn steps(study: &Study, from: usize, to: usize) -> CacheCounts {
    let series = &study.experiment.caches[0].series;
    let mut sum = CacheCounts::default();
    for c in &series[from..to] {
        sum.hits += c.hits;
        sum.misses += c.misses;
        sum.fills += c.fills;
        sum.coalesced += c.coalesced;
    }
    sum
}

#[test]
fn lru_hit_ratio_matches_che() {
    // 2,000 lookups/s for 60 s after a 10 s warm-up: 120k lookups into one shared content; the
    // binomial standard error is below 0.15 points, but lookups are correlated through the
    // LRU state, so the tolerance is 1.5 percentage points (absolute).
    for (keys, zipf, capacity) in [
        (10_000, 0.8, 1_000),
        (20_000, 1.0, 500),
        (5_000, 0.0, 1_250),
    ] {
        let cache =
            format!("keys = {keys}\nzipf = {zipf}\ncapacity = {capacity}\ncontent = \"shared\"");
        let study = run(
            &model(2_000, &cache, FAST_DB, "timeout = \"1s\""),
            70,
            10,
            "",
        );
        let measured = study.control.caches[0].total.hit_ratio().expect("lookups");
        let expected = che_hit_ratio(keys, zipf, capacity);
        assert!(
            (measured - expected).abs() < 0.015,
            "keys {keys} zipf {zipf} capacity {capacity}: measured {measured:.4}, Che {expected:.4}"
        );
        if zipf == 0.0 {
            // Uniform popularity: capacity / keys exactly in the closed form.
            assert!((expected - 0.25).abs() < 1e-9);
        }
    }
}

#[test]
fn flush_empties_and_refills_faster_when_shared() {
    // 2,000 lookups/s, flush at 20 s. The first second after the flush (2,000 lookups, a
    // binomial standard error near 1 point) is at least 5 points below ~70% before; the shared content (one LRU fed by every lookup) refills faster
    // than the two private ones of `content = "replica"` (each fed by half): over the 3 s after
    // the flush its hit ratio is higher by at least 3 points (~6,000 lookups each).
    let base = "keys = 10000\nzipf = 1.0\ncapacity = 1000\nreplicas = 1";
    let mut ratios = Vec::new();
    for content in ["shared", "replica"] {
        let cache = format!("{base}\ncontent = \"{content}\"");
        let study = run(
            &model(2_000, &cache, FAST_DB, "timeout = \"1s\""),
            40,
            5,
            &flush_at(20),
        );
        let before = steps(&study, 10, 20).hit_ratio().expect("lookups");
        let first = steps(&study, 20, 21).hit_ratio().expect("lookups");
        let late = steps(&study, 35, 40).hit_ratio().expect("lookups");
        assert!(before > 0.6, "{content}: before {before}");
        assert!(
            first < before - 0.05,
            "{content}: first second {first} vs {before}"
        );
        assert!(
            (late - before).abs() < 0.03,
            "{content}: refilled {late} vs {before}"
        );
        ratios.push(steps(&study, 20, 23).hit_ratio().expect("lookups"));
    }
    assert!(
        ratios[0] > ratios[1] + 0.03,
        "shared {} vs replica {}",
        ratios[0],
        ratios[1]
    );
}

#[test]
fn ttl_lowers_the_hit_ratio() {
    // 1,000 lookups/s for 30 s (30k lookups): a 1 s TTL drops keys asked less than about once a
    // second, far below the LRU-only ratio (Che), by at least 10 points.
    let base = "keys = 10000\nzipf = 0.9\ncapacity = 2000\ncontent = \"shared\"";
    let without = run(&model(1_000, base, FAST_DB, "timeout = \"1s\""), 35, 5, "");
    let with = run(
        &model(
            1_000,
            &format!("{base}\nttl = \"1s\""),
            FAST_DB,
            "timeout = \"1s\"",
        ),
        35,
        5,
        "",
    );
    let a = without.control.caches[0]
        .total
        .hit_ratio()
        .expect("lookups");
    let b = with.control.caches[0].total.hit_ratio().expect("lookups");
    assert!(b < a - 0.10, "ttl {b} vs none {a}");
}

#[test]
fn single_flight_coalesces_misses_after_a_flush() {
    // 2,000 lookups/s, a database answering in 500 ms: after a flush, every hot key is missed
    // many times before its first fetch returns. Over the 2 s after the flush (4k lookups),
    // single-flight sends
    // at most 80% of the database calls the plain cache sends, and counts coalesced misses.
    let db = "workers = 100000\nservice_time = { dist = \"constant\", value = \"500ms\" }";
    let base = "keys = 10000\nzipf = 1.1\ncapacity = 1000\ncontent = \"shared\"";
    let calls = |single: bool| {
        let cache = format!("{base}\nsingle_flight = {single}");
        let study = run(
            &model(2_000, &cache, db, "timeout = \"1s\""),
            25,
            5,
            &flush_at(15),
        );
        let db_calls: u64 = study.experiment.nodes[2].series.buckets()[15..17]
            .iter()
            .map(|b| b.completed)
            .sum();
        (db_calls, steps(&study, 15, 17).coalesced)
    };
    let (plain, plain_coalesced) = calls(false);
    let (single, coalesced) = calls(true);
    assert_eq!(plain_coalesced, 0);
    assert!(coalesced > 0);
    assert!(
        (single as f64) < 0.8 * plain as f64,
        "single-flight {single} vs plain {plain}"
    );
}

#[test]
fn a_backing_timeout_fills_nothing() {
    // The database answers in 20 ms, the call times out at 5 ms: after a flush (at 5 s, 3,000
    // lookups in the 3 s after), nothing is filled and every lookup misses.
    let db = "workers = 100000\nservice_time = { dist = \"constant\", value = \"20ms\" }";
    let cache = "keys = 1000\nzipf = 1.0\ncapacity = 500\ncontent = \"shared\"";
    let study = run(
        &model(1_000, cache, db, "timeout = \"5ms\""),
        10,
        1,
        &flush_at(5),
    );
    let after = steps(&study, 6, 9);
    assert_eq!(after.fills, 0);
    assert_eq!(after.hits, 0);
    assert!(after.misses > 2_500, "{after:?}");
}

fn bundled(name: &str) -> Scenario {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    load_scenario(&path).unwrap_or_else(|e| panic!("bundled scenario loads:\n{e}"))
}

/// The `after` window's availability of the reads, control and experiment.
fn after_availability(study: &Study) -> (f64, f64) {
    let of = |r: &blastradius::sim::RunResult| r.workloads[0].windows[2].outcomes.availability();
    (of(&study.control), of(&study.experiment))
}

#[test]
fn cache_miss_storm_stays_down_without_the_remedy() {
    // 1,000 reads/s, 2m30s after the flush window (~150k reads per run): without the remedy
    // the experiment's availability after the flush stays at least 20 points below the
    // control's; with it, within 2 points.
    let storm = study(&bundled("cache-miss-storm.toml"));
    let (control, experiment) = after_availability(&storm);
    assert!(
        experiment < control - 0.20,
        "storm: {experiment} vs control {control}"
    );
    let cache = &storm.experiment.caches[0].windows[2];
    assert!(cache.hit_ratio().expect("lookups") < 0.7, "{cache:?}");

    let remedy = study(&bundled("cache-miss-storm-single-flight.toml"));
    let (control, experiment) = after_availability(&remedy);
    assert!(
        experiment > control - 0.02,
        "remedy: {experiment} vs control {control}"
    );
}
